"""trace's static findings for one import closure, kept in check's cache and reused while
nothing they were read from has changed.

check's per-file cache already spares the parse; this spares the rest of a warm start: the
linker, the classifier and the 30-odd classes they define, a third of trace's fixed cost.
An entry is keyed by the options, the interpreter, the tool's own files and the closure's
files (path, size, modification time); it also lists every other file and folder the answer
was read from (modules followed into installed packages, folders listed to find a module),
with their signatures. Any difference is a miss, and a miss runs `api.check` as before.
Entries are plain JSON, validated like every other entry of that cache: a bad one is a miss.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Any, Iterable, Optional

import gil_advisor
from gil_advisor.finding import FileError, Finding
from gil_advisor.runtime.findings_file import FindingsFileError, validate

FIELD = "closure"
ENTRY_VERSION = 1
MAX_INPUTS = 20_000  # more than this is not worth validating at start-up: recompute instead


def signature(path: str) -> Optional[list]:
    """What changes when a file is written or a folder gains or loses an entry."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _tool_files() -> list[str]:
    """The tool's own modules: a development checkout changes code without a new version."""
    root = os.path.dirname(os.path.abspath(gil_advisor.__file__))
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        out.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    return out


def key(files: Iterable[str], options: Any, salt: str, libraries: Iterable[str] = ()) -> str:
    """The entry's name: everything that decides the answer before any file is read (the
    closure's files, and the site-packages folders dependencies are followed into)."""
    h = hashlib.sha256()
    parts = [
        f"v{ENTRY_VERSION}", salt, repr(options), sys.executable, os.environ.get("VIRTUAL_ENV", ""),
        *(f"{p}={signature(p)}" for p in _tool_files()),
        "--files",
        *(f"{p}={signature(p)}" for p in files),
        "--libraries",
        *(f"{p}={signature(p)}" for p in libraries),
    ]
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def load(cache, entry_key: str) -> Optional[tuple[list[Finding], list[FileError]]]:
    """The stored answer if it is still true, else None."""
    data = cache.get_data(entry_key, FIELD)
    try:
        if not isinstance(data, dict) or data.get("version") != ENTRY_VERSION:
            return None
        inputs = data["inputs"]
        if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
            return None
        for item in inputs:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                return None
            if signature(item[0]) != item[1]:
                return None
        for i, f in enumerate(data["findings"]):
            validate(f, f"findings[{i}]")
        findings = [Finding.from_dict(f) for f in data["findings"]]
        errors = [FileError(str(e["path"]), str(e["message"])) for e in data["errors"]]
    except (FindingsFileError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return findings, errors


def store(cache, entry_key: str, findings: list[Finding], errors: list[FileError], inputs: set) -> None:
    """Keep the answer with the signature of everything else it was read from."""
    if len(inputs) > MAX_INPUTS:
        return
    cache.put_data(entry_key, FIELD, {
        "version": ENTRY_VERSION,
        "inputs": [[p, signature(p)] for p in sorted(inputs)],
        "findings": [f.to_dict() for f in findings],
        "errors": [e.to_dict() for e in errors],
    })
