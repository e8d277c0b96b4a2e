"""Per-file results on disk, keyed by the file's content, the tool version and the config.

Entries are plain JSON (never pickle) and untrusted: an entry that fails to load or to
validate, or whose key does not match, is ignored and recomputed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from gil_advisor import __version__
from gil_advisor.finding import FileError
from gil_advisor.sourcefile import ReadError, read_limited

if TYPE_CHECKING:
    from gil_advisor.config import Options
    from gil_advisor.static.summary import ModuleSummary

# The summary and ref classes are imported where entries are read: trace's warm start reads
# only plain data from this cache (its closure's imports, its stored findings), and those 18
# dataclasses are a tenth of its start-up.

FORMAT = 11  # bumped whenever the serialised ModuleSummary changes


# What each kind of ref must hold (summary.py lists the kinds). A ref of a kind not listed
# here is a cache miss: add the kind when the extractor gains one.
REF_FIELDS: dict[str, dict[str, Any]] = {
    "name": {"q": str},
    "method": {"cls": str, "name": str},
    "meth": {"name": str},
    "partial": {"inner": "ref"},
    "param": {"func": str, "index": int, "name": str},
    "pool": {"cls": str},
    "poolmeth": {"pool": "ref", "name": str},
    "inst": {"cls": str},
    "result": {"of": "ref"},
    "self": {"cls": str},
    "either": {"of": list},
    "local": {},
    "unknown": {},
}
OPTIONAL_REF_FIELDS: dict[str, tuple] = {"kind": (str,), "recv": (str,), "size": (int, type(None))}
MAX_REF_NESTING = 32
MAX_ENTRY_BYTES = 256 << 20
TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"


class Invalid(ValueError):
    """A cache entry that does not hold what the analysis reads."""


def _require(cond: bool, what: str) -> None:
    if not cond:
        raise Invalid(f"invalid cache entry: {what}")


def _is(value: Any, types) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def validate_ref(ref: Any, depth: int = 0) -> None:
    if not isinstance(ref, dict):
        # built by refs.ref_from_json, which checks every field of its kind as it goes
        _require(isinstance(ref, _ref_base()), "ref")
        return
    _require(depth < MAX_REF_NESTING, "ref")
    spec = REF_FIELDS.get(ref.get("t"))
    _require(spec is not None, f"ref kind {ref.get('t')!r}")
    for key, kind in spec.items():
        _require(key in ref, f"ref {ref.get('t')} without {key!r}")
        if kind == "ref":
            validate_ref(ref[key], depth + 1)
        else:
            _require(_is(ref[key], kind), f"ref {ref.get('t')}.{key}")
    for key, kinds in OPTIONAL_REF_FIELDS.items():
        if key in ref:
            _require(_is(ref[key], kinds), f"ref {ref.get('t')}.{key}")


_REF_BASE: Optional[type] = None


def _ref_base() -> type:
    """refs._RefBase, imported on first use: trace's warm start reads no summary."""
    global _REF_BASE
    if _REF_BASE is None:
        from gil_advisor.static.refs import _RefBase

        _REF_BASE = _RefBase
    return _REF_BASE


def _strings(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def validate_entry(s: ModuleSummary) -> None:
    """Everything the linker and the rules read, beyond `validate_summary`: every ref has the
    fields of its kind, every scalar its type (a ref without "q" must miss, not raise later)."""
    from gil_advisor.static.summary import validate_summary

    validate_summary(s)
    _require(isinstance(s.main_guarded, bool), "main_guarded")
    for ref in s.names.values():
        validate_ref(ref)
    _require(all(_strings(v) for v in s.noqa.values()), "noqa")
    for c in s.classes.values():
        _require(_is(c.line, int) and isinstance(c.attrs, dict), "class")
        for ref in [*c.bases, *c.attrs.values()]:
            validate_ref(ref)
    for f in s.functions.values():
        _require(isinstance(f.name, str) and _is(f.col, int) and _strings(f.params), "function")
        _require(isinstance(f.is_async, bool) and isinstance(f.nogil, bool) and (f.cls is None or isinstance(f.cls, str)), "function")
        _require(_strings(f.decorators) and _strings(f.entry_calls) and isinstance(f.abstract, bool), "function")
        for call in f.calls:
            _require(_is(call.col, int) and _strings(call.keywords), "call")
            validate_ref(call.ref)
            for arg in call.args:
                if arg is not None:
                    validate_ref(arg)
            for key, arg in call.kwargs.items():
                _require(isinstance(key, str), "call keyword")
                validate_ref(arg)
        for ref in f.defaults.values():
            validate_ref(ref)
        for lp in f.loops:
            _require(_is(lp.line, int) and _is(lp.col, int) and isinstance(lp.kind, str), "loop")
        for sp in f.spawns:
            validate_ref(sp.target)
            _require(_is(sp.col, int) and isinstance(sp.in_comprehension, bool) and isinstance(sp.in_gather, bool), "spawn")
            _require(_is(sp.pool_size, (int, type(None))) and (sp.var is None or isinstance(sp.var, str)), "spawn")
        _require(all(_is(x, int) for pair in f.spins for x in pair), "spins")
        _require(all(isinstance(var, str) and _is(loop, int) for var, loop in f.joins), "joins")


def _is_dir_not_link(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


@dataclass(frozen=True)
class Cache:
    directory: str
    salt: str  # tool version + options that change results

    @classmethod
    def for_config(cls, directory: str, fingerprint: str) -> "Cache":
        return cls(os.path.abspath(directory), f"{FORMAT}|{__version__}|{fingerprint}")

    def key(self, data: bytes, module: str, path: str) -> str:
        h = hashlib.sha256(self.salt.encode())
        h.update(b"\0" + module.encode() + b"\0" + os.path.abspath(path).encode() + b"\0")
        h.update(data)
        return h.hexdigest()

    def _file(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key[2:] + ".json")

    def _entry(self, key: str) -> Optional[dict]:
        """The entry stored under `key`, if it is one (never through a symlink, never a FIFO:
        the folder may be a clone's committed one)."""
        try:
            entry = json.loads(read_limited(self._file(key), MAX_ENTRY_BYTES, follow_symlinks=False))
        except (ReadError, ValueError, RecursionError):
            return None
        return entry if isinstance(entry, dict) and entry.get("key") == key else None

    def get(self, key: str, path: str) -> Union[ModuleSummary, FileError, None, bool]:
        """The cached result, or False when there is none we can trust."""
        entry = self._entry(key)
        if entry is None:
            return False
        try:
            if "error" in entry:
                return FileError(path, str(entry["error"])) if isinstance(entry["error"], str) else False
            from gil_advisor.static.summary import ModuleSummary

            summary = ModuleSummary.from_json(entry["summary"])
            validate_entry(summary)
            if summary.path != path:
                summary.path = path
            return summary
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return False

    def get_data(self, key: str, field_name: str) -> Any:
        """Plain JSON stored by put_data under `key`, or None."""
        entry = self._entry(key)
        return None if entry is None else entry.get(field_name)

    def put_data(self, key: str, field_name: str, value: Any) -> None:
        self._write({"key": key, field_name: value}, key)

    def put(self, key: str, result: Union[ModuleSummary, FileError]) -> None:
        entry: dict = {"key": key}
        if isinstance(result, FileError):
            entry["error"] = result.message
        else:
            entry["summary"] = result.to_json()
        self._write(entry, key)

    def _write(self, entry: dict, key: str) -> None:
        target = self._file(key)
        try:
            if not _is_dir_not_link(self.directory):
                return  # replaced since the run began: write nothing through it
            with contextlib.suppress(FileExistsError):
                os.mkdir(os.path.dirname(target))
            if not _is_dir_not_link(os.path.dirname(target)):
                return
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, separators=(",", ":")))  # dumps uses the C encoder, dump does not
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only or full disk only costs speed


def open_cache(directory: str, fingerprint: str) -> tuple[Optional[Cache], Optional[str]]:
    """The cache in `directory`, or (None, why not). The folder is used only if gil-advisor
    made it: a new folder is created and tagged; an existing one must carry our CACHEDIR.TAG
    and must not be a symlink. Nothing is ever written into a folder we did not create."""
    path = os.path.abspath(directory)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return None, f"cache not used: cannot open {directory}: {exc.strerror or exc}"
    if st is None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path)
            _write_new(os.path.join(path, "CACHEDIR.TAG"), TAG_SIGNATURE + "\n# gil-advisor cache\n")
            _write_new(os.path.join(path, ".gitignore"), "*\n")
        except OSError as exc:
            return None, f"cache not used: cannot create {directory}: {exc.strerror or exc}"
    elif stat.S_ISLNK(st.st_mode):
        return None, f"cache not used: {directory} is a symbolic link, which is never followed; remove it or set another cache-dir"
    elif not stat.S_ISDIR(st.st_mode):
        return None, f"cache not used: {directory} exists and is not a folder"
    elif not _is_ours(path):
        return None, (
            f"cache not used: {directory} exists and was not made by gil-advisor (no CACHEDIR.TAG of ours); "
            f"set cache-dir to a new folder"
        )
    return Cache.for_config(path, fingerprint), None


def make_cache(config: "Options") -> tuple[Optional[Cache], Optional[FileError]]:
    """The run's cache, or why there is none (reported once, beside the file diagnostics)."""
    if not config.cache_dir:
        return None, None
    cache, why = open_cache(config.cache_dir, config.fingerprint())
    return cache, FileError(config.cache_dir, why) if why else None


def _write_new(path: str, text: str) -> None:
    with open(path, "x", encoding="ascii") as fh:  # "x": never over an existing file
        fh.write(text)


def _is_ours(directory: str) -> bool:
    try:
        tag = read_limited(os.path.join(directory, "CACHEDIR.TAG"), 4096, follow_symlinks=False)
    except ReadError:
        return False
    return tag.startswith(TAG_SIGNATURE.encode()) and b"gil-advisor" in tag


__all__ = ["Cache", "make_cache", "open_cache", "validate_entry"]


MAX_MEMORY_ENTRIES = 4096


@dataclass(frozen=True)
class MemoryCache:
    """Summaries kept in this process, under the same content keys as the disk cache.

    For the flake8 plugin: flake8 hands over one file at a time, and each file's imported
    modules are the same few, so without this every file re-parsed them. Summaries are not
    changed once extracted, so one object is shared by every project that uses it."""

    salt: str
    entries: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_config(cls, fingerprint: str) -> "MemoryCache":
        return cls(f"{FORMAT}|{__version__}|{fingerprint}")

    key = Cache.key

    def get(self, key: str, path: str) -> Union[ModuleSummary, FileError, None, bool]:
        hit = self.entries.get(key, False)
        if hit is not False and hit.path != path:
            return False  # the same file under another spelling of its path: parse it again
        return hit

    def put(self, key: str, result: Union[ModuleSummary, FileError]) -> None:
        if len(self.entries) >= MAX_MEMORY_ENTRIES:  # a long-lived process over a huge tree
            self.entries.clear()
        self.entries[key] = result
