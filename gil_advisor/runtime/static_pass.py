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


def _imported_names(tree: ast.AST, package: str) -> list[str]:
    """Dotted module names an import in the file may load (the names after `from m import` too:
    each may be a submodule). `package` is the file's package, for relative imports."""
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts):
                    continue
                base = parts[: len(parts) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod:
                continue
            out.append(mod)
            out.extend(f"{mod}.{a.name}" for a in node.names if a.name != "*")
    return out


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
    entry: str, roots: list[str], max_bytes: int, max_files: int = MAX_CLOSURE_FILES
) -> Closure:
    """The entry file and every project module reachable from it by imports."""
    result = Closure(roots=list(roots))
    seen = {os.path.abspath(entry)}
    todo = [os.path.abspath(entry)]
    while todo:
        path = todo.pop(0)
        try:
            data = _read_source(path, max_bytes)
            tree = ast.parse(data, filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as e:
            # check reports the file itself; the closure only stops following it
            result.skipped.append((path, str(e) or type(e).__name__))
            result.files.append(path)
            continue
        result.files.append(path)
        for name in _imported_names(tree, _package_of(path, roots)):
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


def analyse(entry: str, path0: str, options: StaticOptions) -> tuple[list, dict]:
    """(findings, what the report says about the static pass) for the program's closure."""
    t0 = time.perf_counter()
    config = load_config(os.path.dirname(entry), options)
    closure = import_closure(entry, closure_roots(path0), config.max_file_size)
    from gil_advisor import api

    rep = api.check(closure.files, config, closed=True)
    return list(rep.findings), {
        "source": "api.check",
        "scope": "import closure",
        "paths": closure.files,
        "roots": closure.roots,
        "files_checked": len(closure.files),
        "closure_truncated": closure.truncated,
        "cache_dir": config.cache_dir or None,
        "parsed_with_libcst": "libcst" in sys.modules,
        "seconds": round(time.perf_counter() - t0, 4),
        "errors": [e.to_dict() for e in getattr(rep, "errors", [])],
    }
