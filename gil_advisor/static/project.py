"""The files of one run: discovery, module names, and reading each file at most once.

A file is read and parsed only when it can matter: files that mention threads are
summarised up front, every other module only when a worker's resolution leads into it.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import fnmatch
import io
import os
import re
import stat
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

from gil_advisor.static.inputs import FolderLookups, folder_names, signature
from gil_advisor.finding import FileError
from gil_advisor.sourcefile import ReadError, read_limited
from gil_advisor.static.spawn_forms import HINT_PATTERN, HINT_WORDS
from gil_advisor.static.summary import ClassRec, ModuleSummary
from gil_advisor.static.refs import EitherRef, NameRef

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv*", "venv", "env", ".env", "__pycache__",
    "build", "dist", "node_modules", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache",
    "site-packages", ".gil-advisor-cache",
)

# A cheap look for anything that can hand work to a thread: the words of spawn_forms.
SPAWN_HINT = re.compile(HINT_PATTERN.encode())
# Substring tests run at memchr speed; the regex then confirms the few files that pass.
_HINT_WORDS = tuple(w.encode() for w in HINT_WORDS)


def has_spawn_hint(data: bytes) -> bool:
    return any(w in data for w in _HINT_WORDS) and SPAWN_HINT.search(data) is not None

MAX_DEPTH = 200  # deeper ASTs make libcst's visitors recurse past the interpreter's limit


@dataclass(frozen=True)
class SourceFile:
    path: str  # as given or found, for display
    module: str
    is_package: bool


@dataclass
class Discovery:
    """The files to check, and the paths that could not be listed (one diagnostic each)."""

    files: list[str]
    errors: list[FileError]


def find_files(paths: Iterable[str], exclude: Iterable[str] = ()) -> Discovery:
    """Python files under the given paths, each once, in an order that does not depend on
    the order of `paths`. Explicit files are kept; exclude patterns match below each root."""
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(exclude)
    found: dict[str, str] = {}  # absolute, normalised path -> the path as given or found
    errors: list[FileError] = []

    def unreadable(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else str(exc.filename)
        errors.append(FileError(where, f"cannot read directory: {exc.strerror or exc}"))

    for given in map(os.fspath, paths):
        try:
            is_dir = stat.S_ISDIR(os.stat(given).st_mode)
        except (OSError, ValueError) as exc:
            errors.append(FileError(given, f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
            continue
        if not is_dir:
            found.setdefault(_key(given), given)  # not a regular file? the read says so
            continue
        for root, dirs, files in os.walk(given, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not _excluded(d, _relative(os.path.join(root, d), given), patterns))
            for f in sorted(files):
                if not f.endswith(".py"):
                    continue
                full = os.path.join(root, f)
                if not _excluded(f, _relative(full, given), patterns):
                    found.setdefault(_key(full), full)
    files = [found[k] for k in sorted(found)]
    return Discovery(files, sorted(errors, key=lambda e: e.path))


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """The files of `find_files`, without its diagnostics."""
    return find_files(paths, exclude).files


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _relative(full: str, root: str) -> str:
    """The path below the walked root (os.walk joins onto it), so patterns never match the
    root's own ancestors."""
    return full[len(root):].lstrip(os.sep)


def _excluded(name: str, rel: str, patterns: tuple) -> bool:
    norm = rel.replace(os.sep, "/")
    rx = _exclude_regex(patterns)
    return bool(rx.match(name) or rx.match(norm))


@functools.lru_cache(maxsize=64)
def _exclude_regex(patterns: tuple) -> "re.Pattern[str]":
    """One regex for all patterns: a name, a path, or a path suffix after a slash."""
    alternatives = []
    for pat in patterns:
        alternatives += [fnmatch.translate(pat), fnmatch.translate(f"*/{pat}")]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@dataclass(frozen=True)
class Tree:
    """Files analysed as one project: `seeds` are summarised up front, `extra` only on need."""

    seeds: list[str]
    extra: list[str]


def split_trees(files: list[str]) -> list[Tree]:
    """One project, unless two roots hold the same module name (two checkouts that both have
    `pkg/util.py`): then each such root is its own project, so `pkg.util` always means the
    one beside the caller and the answer does not depend on the order of the paths."""
    by_root: dict[str, list[str]] = {}
    roots_of_module: dict[str, set[str]] = {}
    for f in files:
        module, _ = module_name_for(f)
        root = _root_of(f, module)
        by_root.setdefault(root, []).append(f)
        roots_of_module.setdefault(module, set()).add(root)
    clashing = sorted({r for roots in roots_of_module.values() if len(roots) > 1 for r in roots})
    if not clashing:
        return [Tree(list(files), [])]
    shared = [f for root, fs in by_root.items() if root not in clashing for f in fs]
    trees = [Tree(shared, [])] if shared else []
    return trees + [Tree(by_root[root], shared) for root in clashing]


def _root_of(path: str, module: str) -> str:
    p = Path(os.path.abspath(path)).parent
    depth = module.count(".") + (1 if Path(path).name == "__init__.py" else 0)
    for _ in range(depth):
        p = p.parent
    return str(p)


def module_name_for(path: str) -> tuple[str, bool]:
    """Dotted module name from the path: climb while the folder is a package."""
    p = os.path.abspath(path)
    directory, name = os.path.split(p)
    is_package = name == "__init__.py"
    parts = _package_parts(directory)
    if not is_package:
        parts = parts + (name[:-3] if name.endswith(".py") else name,)
    return ".".join(parts), is_package


@functools.lru_cache(maxsize=4096)
def _package_parts(directory: str) -> tuple:
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    parent, name = os.path.split(directory)
    if parent == directory:
        return ()
    return _package_parts(parent) + (name,)


class SourceError(Exception):
    """A file that cannot be analysed; the message is the one diagnostic for it."""


def read_bytes(path: str, max_bytes: int) -> bytes:
    try:
        return read_limited(path, max_bytes)
    except ReadError as exc:
        raise SourceError(str(exc)) from None


def decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        raise SourceError(f"cannot decode: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid {exc.encoding} at byte {exc.start}: declare the encoding (PEP 263) or fix the file") from None
    return text


def parse_and_extract(path: str, text: str, module: str, is_package: bool) -> ModuleSummary:
    """Parse with libcst and summarise. ast goes first: it is ten times faster at
    rejecting bad input, and measures nesting before libcst's recursive visitors meet it."""
    if "\0" in text:
        raise SourceError("syntax error: the file contains null bytes")
    try:
        tree: Optional[ast.AST] = ast.parse(text, filename=path)
    except SyntaxError as exc:
        # Syntax newer than this interpreter (`def f[T]()` read by 3.11) may still be valid
        # for the project's Python: libcst's grammar is the judge, positions come from it.
        tree = None
        syntax_error = f"syntax error: {exc.msg} (line {exc.lineno})"
    except RecursionError:
        raise SourceError("skipped: too deeply nested for the analyzer (RecursionError)") from None
    except MemoryError:
        raise SourceError("skipped: too large to parse in the memory available (MemoryError)") from None
    except ValueError as exc:
        raise SourceError(f"syntax error: {exc}") from None
    import libcst as cst  # here, not at the top: a run whose files are all cached never needs it

    from gil_advisor.static.extract import AstPositions, extract

    positions = AstPositions(tree, text) if tree is not None else None
    # named as the first level over the limit, as it always was (not how deep the tree goes)
    depth = min(positions.depth, MAX_DEPTH + 1) if positions is not None else 0
    if depth > MAX_DEPTH:
        raise SourceError(f"skipped: nested {depth} levels deep, over the analyzer's limit of {MAX_DEPTH}")
    if tree is None and not _shallow(text):
        raise SourceError(syntax_error)  # libcst's native parser must not meet deep nesting unchecked
    try:
        module_node = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if tree is None:
            raise SourceError(syntax_error) from None
        # ast accepted it, so the file is valid Python: this is a limit of the analyzer's parser
        raise SourceError(f"skipped: valid Python that libcst, the analyzer's parser, cannot read: {str(exc).splitlines()[0]} (line {exc.raw_line})") from None
    except RecursionError:
        raise SourceError("skipped: too deeply nested for the analyzer (RecursionError)") from None
    except MemoryError:
        raise SourceError("skipped: too large to parse in the memory available (MemoryError)") from None
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 10_000))
        return extract(module_node, module, path, is_package, text, tree, positions)
    except RecursionError:
        raise SourceError("skipped: too deeply nested for the analyzer") from None
    finally:
        sys.setrecursionlimit(limit)


def _shallow(text: str, limit: int = MAX_DEPTH // 4) -> bool:
    """Brackets and blocks nest less than `limit` deep, by the tokenizer (for text ast rejected)."""
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.INDENT:
                depth += 1
            elif tok.type == tokenize.DEDENT:
                depth -= 1
            if depth > limit:
                return False
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError):
        return False
    return True


NOT_CACHED = object()  # summarise_file(parse=False) on a cache miss


def summarise_file(path: str, max_bytes: int, require_hint: bool, cache=None, parse: bool = True):
    """The unit of work that runs in a worker process and is cached: plain data out
    (a ModuleSummary, a FileError or None). `parse=False` answers from the cache only and
    gives NOT_CACHED where the file would have to be parsed."""
    module, is_package = module_name_for(path)
    try:
        data = read_bytes(path, max_bytes)
    except SourceError as exc:
        return FileError(path, str(exc))
    if b"\0" in data:
        # Not Python source (UTF-16/32 or binary): say so even if no spawn is visible,
        # since the pre-check cannot see through that encoding.
        hint = " (UTF-16 or UTF-32 encoded? Python source must be UTF-8 or an ASCII-compatible encoding)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return FileError(path, "syntax error: the file contains null bytes" + hint)
    if require_hint and not has_spawn_hint(data):
        return None
    key = cache.key(data, module, path) if cache is not None else None
    if key is not None:
        hit = cache.get(key, path)
        if hit is not False:
            return hit
    if not parse:
        return NOT_CACHED
    try:
        result: Union[ModuleSummary, FileError] = parse_and_extract(path, decode(data), module, is_package)
    except SourceError as exc:
        result = FileError(path, str(exc))
    if key is not None:
        cache.put(key, result)
    return result


MAX_KEPT_SOURCE_BYTES = 64 << 20
_SOURCE_BYTES: dict[tuple, bytes] = {}
_SOURCE_BYTES_SIZE = 0


class Project:
    """All files of the run by module name; summaries are made once, on first need."""

    def __init__(self, files: list[str], max_bytes: int, cache=None, exclude: Iterable[str] = ()):
        self.max_bytes = max_bytes
        self.cache = cache
        self.exclude = tuple(exclude)
        self.files: dict[str, SourceFile] = {}
        self.module_of_path: dict[str, str] = {}
        self._split: dict[str, Optional[tuple[str, str]]] = {}
        for f in files:
            module, is_package = module_name_for(f)
            # the first file for a module name wins (two roots can both hold `main.py`)
            if self.files.setdefault(module, SourceFile(f, module, is_package)).path == f:
                self.module_of_path[f] = module
        self.summaries: dict[str, Optional[ModuleSummary]] = {}
        # loaded_classes_with_attr, loaded_classes_with_base, loaded_calls_named
        self._index: dict[str, dict[str, list]] = {"attr": {}, "base": {}, "call": {}}
        self._indexed: set[str] = set()
        self._indexed_count = -1
        self.errors: dict[str, FileError] = {}
        # Where to look for modules that were not passed in (pre-commit and flake8 give us
        # single files): the folders above each file's top-level package.
        self._absent: set[str] = set()
        self._listings: dict[str, Optional[frozenset]] = {}  # folder -> its names, lower case (_may_be_file)
        self.lookups: dict[str, FolderLookups] = {}  # what was asked of each listing (trace's cache)
        self._roots_discovered = False
        self._lazy = True
        self.roots = sorted({_root_of(src.path, module) for module, src in self.files.items()})
        # Installed dependencies (static/environment.py): searched after the project's roots
        self.library_roots: list[str] = []
        self.closed = False  # True: the files given are the whole program
        self._library: set[str] = set()

    def add(self, module: str, result: Union[ModuleSummary, FileError, None]) -> None:
        if isinstance(result, FileError):
            self.errors[result.path] = result
            self.summaries[module] = None
        elif result is not None:
            self.summaries[module] = result

    @contextlib.contextmanager
    def no_lazy_parsing(self):
        """Within this block, modules not parsed yet stay unparsed (and unresolved)."""
        self._lazy, old = False, self._lazy
        try:
            yield
        finally:
            self._lazy = old

    def summary(self, module: str) -> Optional[ModuleSummary]:
        """The module's summary, parsing it now if no one needed it before."""
        if module not in self.summaries:
            if not self._lazy:
                return None
            src = self.files.get(module)
            if src is None:
                return None
            self.add(module, summarise_file(src.path, self.max_bytes, require_hint=False, cache=self.cache))
        return self.summaries.get(module)

    def split_module(self, qualified: str) -> Optional[tuple[str, str]]:
        """("pkg.mod", "Class.method") for a dotted name inside a project module."""
        if qualified in self._split:
            return self._split[qualified]
        found = None
        parts = qualified.split(".")
        for i in range(len(parts), 0, -1):
            mod = ".".join(parts[:i])
            if mod in self.files or self._find_on_disk(mod):
                found = (mod, ".".join(parts[i:]))
                break
        self._split[qualified] = found
        return found

    def _find_on_disk(self, module: str) -> bool:
        """Register a module of the same project that was not among the given files."""
        if module in self._absent:
            return False
        rel = module.replace(".", os.sep)
        parts = module.split(".")
        as_file, as_package = parts[:-1] + [parts[-1] + ".py"], parts + ["__init__.py"]
        for root in self.roots:
            for candidate, names in ((os.path.join(root, rel + ".py"), as_file), (os.path.join(root, rel, "__init__.py"), as_package)):
                if self._may_be_file(root, names) and os.path.isfile(candidate):
                    self.files[module] = SourceFile(candidate, module, candidate.endswith("__init__.py"))
                    return True
        for root in self.library_roots:
            for candidate, names in ((os.path.join(root, rel + ".py"), as_file), (os.path.join(root, rel, "__init__.py"), as_package)):
                if self._may_be_file(root, names) and os.path.isfile(candidate):
                    self.files[module] = SourceFile(candidate, module, candidate.endswith("__init__.py"))
                    self._library.add(module)
                    return True
        self._absent.add(module)
        return False

    def _may_be_file(self, root: str, names: list[str]) -> bool:
        """False only when a folder's listing on the way down from `root` lacks the next name in
        any letter case, so `isfile` would say False on any file system; True: ask `isfile`.
        Most dotted names looked up are not modules, and listings of the few folders that exist
        answer them all (only folders that exist are listed and kept)."""
        directory = root
        for name in names:
            if not name.isascii() or name in ("", ".", "..") or os.sep in name or (os.altsep and os.altsep in name):
                return True  # a name a file system may normalise (macOS), or not a plain name
            listing = self._listings.get(directory, False)
            if listing is False:
                before = signature(directory)  # before listing: a change after it is seen
                listing = folder_names(directory)  # None: unreadable, each file is asked about
                self._listings[directory] = listing
                self.lookups[directory] = FolderLookups(before, None if listing is None else {})
            if listing is None:
                return True
            self.lookups[directory].answers[name.lower()] = name.lower() in listing
            if name.lower() not in listing:
                return False
            directory = os.path.join(directory, name)
        return True

    def is_library(self, module: str) -> bool:
        """Was the module found among the installed dependencies, not the project?"""
        return module in self._library

    def discover_roots(self) -> None:
        """Register every module under the roots (not parsed): for the rare question
        "who calls this function?" when only some files were given."""
        if self._roots_discovered or self.closed:
            return  # a closed project (trace's import closure) is only its own files
        self._roots_discovered = True
        for path in discover(self.roots, self.exclude):
            module, is_package = module_name_for(path)
            self.files.setdefault(module, SourceFile(path, module, is_package))

    def read_source(self, path: str) -> Optional[bytes]:
        """A file's bytes for a quick text search, or None if it is not one we may read. Kept for
        the process (bounded): the flake8 plugin makes a project per file and searches the same tree."""
        try:
            st = os.stat(path)
            key = (path, st.st_mtime_ns, st.st_size, self.max_bytes)
        except OSError:
            return None
        hit = _SOURCE_BYTES.get(key)
        if hit is not None:
            return hit
        try:
            data = read_limited(path, self.max_bytes)
        except ReadError:
            return None
        global _SOURCE_BYTES_SIZE
        if _SOURCE_BYTES_SIZE + len(data) > MAX_KEPT_SOURCE_BYTES:
            _SOURCE_BYTES.clear()
            _SOURCE_BYTES_SIZE = 0
        _SOURCE_BYTES[key] = data
        _SOURCE_BYTES_SIZE += len(data)
        return data

    def _indexes(self) -> dict:
        """Indexes of the loaded modules, brought up to date with the modules parsed since."""
        if self._indexed_count != len(self.summaries):
            idx = self._index
            for module, s in list(self.summaries.items()):
                if s is None or module in self._indexed:
                    continue
                self._indexed.add(module)
                for crec in s.classes.values():
                    for name in crec.attrs:
                        idx["attr"].setdefault(name, []).append((s, crec))
                    for base in crec.bases:
                        if isinstance(base, NameRef):
                            idx["base"].setdefault(base.qualname.rsplit(".", 1)[-1], []).append((s, crec))
                for fn in s.functions.values():
                    for call in fn.calls:
                        ref = call.ref
                        for r in (ref.options if isinstance(ref, EitherRef) else (ref,)):
                            last = r.qualname.rsplit(".", 1)[-1] if isinstance(r, NameRef) else getattr(r, "name", None)
                            if isinstance(last, str):
                                idx["call"].setdefault(last, []).append((s, fn, call))
                    for dq in fn.decorators:
                        idx["call"].setdefault(dq.rsplit(".", 1)[-1], []).append((s, fn, None))
            self._indexed_count = len(self.summaries)
        return self._index

    def loaded_classes_with_attr(self, attr: str) -> list[tuple[ModuleSummary, ClassRec]]:
        """The loaded classes whose body or methods set this attribute."""
        return self._indexes()["attr"].get(attr, [])

    def loaded_classes_with_base(self, short: str) -> list[tuple[ModuleSummary, ClassRec]]:
        """The loaded classes with a base whose last name is `short`."""
        return self._indexes()["base"].get(short, [])

    def loaded_calls_named(self, name: str) -> list:
        """(summary, function, call) for the calls in the loaded modules whose callee's last name is
        `name` (`f(...)`, `self.f(...)`, `mod.f(...)`, a branch-chosen `either(...)`), and
        (summary, function, None) for the functions decorated with a name ending in it."""
        return self._indexes()["call"].get(name, [])

    def loaded(self) -> Iterator[ModuleSummary]:
        for s in list(self.summaries.values()):
            if s is not None:
                yield s
