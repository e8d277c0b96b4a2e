"""trace's static findings for one import closure, kept in check's cache and reused while
nothing they were read from has changed.

check's per-file cache already spares the parse; this spares the rest of a warm start: the
linker, the classifier and the 30-odd classes they define, a third of trace's fixed cost.
An entry is keyed by the options, the interpreter, the tool's own files, the closure's files
(path, size, modification time) and the folders dependencies are followed into; it also lists
every other file the answer was read from (modules followed into installed packages) with its
signature, and each folder listed to find a module with the names looked up in it. A folder
that changed is listed again and only those names compared: a report or a log written next to
the script is no reason to analyse it again. Any other difference is a miss, and a miss runs
`api.check` as before. Entries are plain JSON, validated like every other entry of that cache:
a bad one is a miss.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Any, Iterable, Optional

import gil_advisor
from gil_advisor.finding import FileError, Finding
from gil_advisor.runtime.findings_file import FindingsFileError, validate
from gil_advisor.static.inputs import folder_names, signature

FIELD = "closure"
ENTRY_VERSION = 2
MAX_INPUTS = 20_000  # more than this is not worth validating at start-up: recompute instead




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
    closure's files, and which site-packages folders dependencies are followed into: what is
    looked up in them is validated by load)."""
    h = hashlib.sha256()
    parts = [
        f"v{ENTRY_VERSION}", salt, repr(options), sys.executable, os.environ.get("VIRTUAL_ENV", ""),
        *(f"{p}={signature(p)}" for p in _tool_files()),
        "--files",
        *(f"{p}={signature(p)}" for p in files),
        "--libraries",
        *libraries,
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
        folders = data["folders"]
        if not isinstance(folders, list) or len(inputs) + len(folders) > MAX_INPUTS:
            return None
        relisted = False
        for item in folders:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
                return None
            now = signature(item[0])  # before listing it again, as the analysis did
            if now != item[1]:
                if not _same_answers(item[0], item[2]):
                    return None
                item[1] = now
                relisted = True
        for i, f in enumerate(data["findings"]):
            validate(f, f"findings[{i}]")
        findings = [Finding.from_dict(f) for f in data["findings"]]
        errors = [FileError(str(e["path"]), str(e["message"])) for e in data["errors"]]
    except (FindingsFileError, KeyError, TypeError, ValueError, AttributeError):
        return None
    if relisted:  # the next start takes the quick path again
        cache.put_data(entry_key, FIELD, data)
    return findings, errors


def _same_answers(folder: str, answers) -> bool:
    """Would each name looked up in this folder get the same answer now? `answers`: [[name,
    was it there], ...], or None for a folder whose listing could not be read then."""
    if not isinstance(answers, list):
        return False
    now = folder_names(folder)
    if now is None:
        return False
    for entry in answers:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            return False
        if (entry[0] in now) != entry[1]:
            return False
    return True


def store(cache, entry_key: str, findings: list[Finding], errors: list[FileError], inputs, closure: Iterable[str] = ()) -> None:
    """Keep the answer with the signature of everything else it was read from (`inputs`, a
    static.inputs.ReadInputs; the closure's own files are in the key)."""
    files = inputs.files - set(closure)
    if len(files) + len(inputs.folders) > MAX_INPUTS:
        return
    folders = []
    for folder in sorted(inputs.folders):
        looked = inputs.folders[folder]
        answers = None if looked.answers is None else sorted([n, bool(v)] for n, v in looked.answers.items())
        folders.append([folder, looked.signature, answers])
    cache.put_data(entry_key, FIELD, {
        "version": ENTRY_VERSION,
        "inputs": [[p, signature(p)] for p in sorted(files)],
        "folders": folders,
        "findings": [f.to_dict() for f in findings],
        "errors": [e.to_dict() for e in errors],
    })
