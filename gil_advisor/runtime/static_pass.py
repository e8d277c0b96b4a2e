"""The static pass of `trace`: check's analysis on the program's import closure, not its folder.

The closure is the script (or `-m` module) and the project modules it imports, found with
`ast` on the files themselves (never importing them) and followed transitively, bounded by
`MAX_CLOSURE_FILES` and check's file-size limit. "Project" means a module whose file lies under
one of the roots: the folder that becomes sys.path[0] and the PYTHONPATH entries; the standard
library and installed packages are not read. The files then go through `gil_advisor.api.check`
with check's own configuration and per-file cache, so a warm cache parses nothing (and libcst is
not even imported: gil_advisor/static/project.py imports it on the first parse).
"""
from __future__ import annotations

import ast
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

MAX_CLOSURE_FILES = 2_000  # a bound, not a target: a program's own modules are far fewer


@dataclass
class Closure:
    """The files the static pass reads, in the order they were found (the entry first)."""

    files: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    truncated: bool = False  # MAX_CLOSURE_FILES was reached
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) for unreadable files


def closure_roots(path0: str) -> list[str]:
    """Where project modules live: sys.path[0] of the program, then PYTHONPATH."""
    roots = [os.path.abspath(path0)]
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry and os.path.isdir(entry):
            full = os.path.abspath(entry)
            if full not in roots:
                roots.append(full)
    return roots


def _read_source(path: str, max_bytes: int) -> bytes:
    """A regular file's bytes, the size limit checked first (a FIFO or /dev/zero is not read)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError("not a regular file")
    if st.st_size > max_bytes:
        raise OSError(f"{st.st_size:,} bytes is over the max-file-size limit of {max_bytes:,} bytes")
    with open(path, "rb") as fh:
        return fh.read(max_bytes + 1)


def import_statements(tree: ast.AST) -> list[list]:
    """Every import statement in the file, at any depth, as plain data: ["import", name] or
    ["from", level, module, [names]]. Only statement lists are walked: an import is always a
    statement, and expressions are most of a tree's nodes."""
    out: list[list] = []
    todo = [tree.body] if isinstance(tree, ast.Module) else []
    while todo:
        for node in todo.pop():
            if isinstance(node, ast.Import):
                out.extend(["import", a.name] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                out.append(["from", node.level or 0, node.module or "", [a.name for a in node.names]])
            else:
                for name in node._fields:  # body, orelse, finalbody, handlers, cases
                    value = getattr(node, name, None)
                    if type(value) is list and value and isinstance(value[0], _BLOCK_NODES):
                        todo.append(value)
    return out


# What a statement's lists of child statements hold (an except clause, a match case).
_BLOCK_NODES = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())


def _imported_names(statements: list[list], package: str) -> list[str]:
    """Dotted module names the imports may load (the names after `from m import` too: each may
    be a submodule). `package` is the file's package, for relative imports."""
    out: list[str] = []
    for st in statements:
        if st[0] == "import":
            out.append(st[1])
            continue
        _, level, module, names = st
        if level:
            parts = package.split(".") if package else []
            if level - 1 > len(parts):
                continue
            base = parts[: len(parts) - (level - 1)]
            mod = ".".join(base + ([module] if module else []))
        else:
            mod = module
        if not mod:
            continue
        out.append(mod)
        out.extend(f"{mod}.{a}" for a in names if a != "*")
    return out


def _valid_statements(value) -> bool:
    """A cached import list as import_statements makes them (cache entries are untrusted)."""
    if not isinstance(value, list):
        return False
    for st in value:
        if not isinstance(st, list) or not st:
            return False
        if st[0] == "import":
            if len(st) != 2 or not isinstance(st[1], str):
                return False
        elif st[0] == "from":
            if len(st) != 4 or type(st[1]) is not int or not isinstance(st[2], str):
                return False
            if not isinstance(st[3], list) or not all(isinstance(n, str) for n in st[3]):
                return False
        else:
            return False
    return True


def _statements_of(path: str, data: bytes, cache) -> list[list]:
    """The file's import statements, from the cache when its content was seen before."""
    key = cache.key(data, "\0imports", path) if cache is not None else None
    if key is not None:
        hit = cache.get_data(key, "imports")
        if _valid_statements(hit):
            return hit
    statements = import_statements(ast.parse(data, filename=path))
    if key is not None:
        cache.put_data(key, "imports", statements)
    return statements


def _module_files(name: str, roots: list[str]) -> list[str]:
    """The files importing `name` runs under the first root that has it: each package's
    __init__.py on the way, then the module itself."""
    parts = name.split(".")
    for root in roots:
        found = []
        directory = root
        for i, part in enumerate(parts):
            pkg = os.path.join(directory, part)
            init = os.path.join(pkg, "__init__.py")
            if os.path.isfile(init):
                found.append(init)
                directory = pkg
                continue
            if i == len(parts) - 1 and os.path.isfile(pkg + ".py"):
                found.append(pkg + ".py")
            elif os.path.isdir(pkg) and i < len(parts) - 1:
                directory = pkg  # a namespace package
                continue
            break
        if found:
            return found
    return []


def _package_of(path: str, roots: list[str]) -> str:
    """The package a file's relative imports start from, from its place under a root."""
    directory = os.path.dirname(path)
    for root in roots:
        rel = os.path.relpath(directory, root)
        if not rel.startswith(".."):
            return "" if rel == "." else rel.replace(os.sep, ".")
    return ""


def import_closure(
    entry: str, roots: list[str], max_bytes: int, max_files: int = MAX_CLOSURE_FILES, cache=None
) -> Closure:
    """The entry file and every project module reachable from it by imports; `cache` (check's)
    keeps each file's import statements by content, so a warm run parses nothing."""
    result = Closure(roots=list(roots))
    seen = {os.path.abspath(entry)}
    todo = [os.path.abspath(entry)]
    while todo:
        path = todo.pop(0)
        try:
            data = _read_source(path, max_bytes)
            statements = _statements_of(path, data, cache)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as e:
            # check reports the file itself; the closure only stops following it
            result.skipped.append((path, str(e) or type(e).__name__))
            result.files.append(path)
            continue
        result.files.append(path)
        for name in _imported_names(statements, _package_of(path, roots)):
            for found in _module_files(name, roots):
                if found not in seen:
                    if len(seen) >= max_files:
                        result.truncated = True
                        continue
                    seen.add(found)
                    todo.append(found)
    return result


@dataclass
class StaticOptions:
    """check's options as trace takes them."""

    config: Optional[str] = None
    cache_dir: Optional[str] = None
    no_cache: bool = False


def load_config(start: str, options: StaticOptions):
    """check's options for the program's folder (the same resolver as check); raises ConfigError."""
    from dataclasses import replace

    from gil_advisor.config import Options, Overrides

    config = Options.resolve([start], Overrides(config_file=options.config, cache_dir=options.cache_dir, no_cache=options.no_cache))
    if config.cache_dir:  # resolved now: the program may change directory later
        config = replace(config, cache_dir=os.path.abspath(config.cache_dir))
    return config


def analyse(entry: str, path0: str, options: StaticOptions) -> tuple[list, dict, object]:
    """(findings, what the report says about the static pass, check's cache or None) for the
    program's closure."""
    t0 = time.perf_counter()
    config = load_config(os.path.dirname(entry), options)
    from gil_advisor.static.cache import make_cache

    cache, _ = make_cache(config)  # a cache that cannot be used is reported by check below
    closure = import_closure(entry, closure_roots(path0), config.max_file_size, cache=cache)
    from gil_advisor.runtime import closure_cache

    entry_key = None
    if cache is not None:
        from gil_advisor.static.environment import library_roots

        # where dependencies are followed from is part of the question, not of the answer
        libraries = library_roots(closure.roots, config.python)[0] if config.follow_dependencies else []
        entry_key = closure_cache.key(closure.files, config, cache.salt, libraries)
    stored = closure_cache.load(cache, entry_key) if entry_key else None
    if stored is not None:
        findings, errors = stored
    else:
        from gil_advisor import api

        inputs = api.ReadInputs()
        rep = api.check(closure.files, config, closed=True, inputs=inputs)
        findings, errors = list(rep.findings), list(getattr(rep, "errors", []))
        if entry_key:
            closure_cache.store(cache, entry_key, findings, errors, inputs, closure.files)
    return findings, {
        "source": "api.check",
        "reused": stored is not None,
        "scope": "import closure",
        "paths": closure.files,
        "roots": closure.roots,
        "files_checked": len(closure.files),
        "closure_truncated": closure.truncated,
        "cache_dir": config.cache_dir or None,
        "parsed_with_libcst": "libcst" in sys.modules,
        "seconds": round(time.perf_counter() - t0, 4),
        "errors": [e.to_dict() for e in errors],
    }, cache
