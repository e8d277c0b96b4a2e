"""Per-file results on disk, keyed by the file's content, the tool version and the config.

Entries are plain JSON (never pickle) and untrusted: an entry that fails to load or to
validate, or whose key does not match, is ignored and recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import Optional, Union

from gil_advisor import __version__
from gil_advisor.finding import FileError
from gil_advisor.static.summary import ModuleSummary, validate_summary

FORMAT = 3  # bumped whenever the serialised ModuleSummary changes


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

    def get(self, key: str, path: str) -> Union[ModuleSummary, FileError, None, bool]:
        """The cached result, or False when there is none we can trust."""
        try:
            with open(self._file(key), encoding="utf-8") as fh:
                entry = json.load(fh)
            if not isinstance(entry, dict) or entry.get("key") != key:
                return False
            if "error" in entry:
                return FileError(path, str(entry["error"])) if isinstance(entry["error"], str) else False
            summary = ModuleSummary.from_json(entry["summary"])
            validate_summary(summary)
            if summary.path != path:
                summary.path = path
            return summary
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return False

    def put(self, key: str, result: Union[ModuleSummary, FileError]) -> None:
        entry: dict = {"key": key}
        if isinstance(result, FileError):
            entry["error"] = result.message
        else:
            entry["summary"] = result.to_json()
        target = self._file(key)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, separators=(",", ":"))
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only or full disk only costs speed


def ensure_tag(directory: str) -> None:
    """Mark the folder as a cache, so backup tools and `git status` leave it alone."""
    try:
        os.makedirs(directory, exist_ok=True)
        tag = os.path.join(directory, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            with open(tag, "w") as fh:
                fh.write("Signature: 8a477f597d28d172789f06886806bc55\n# gil-advisor cache\n")
            with open(os.path.join(directory, ".gitignore"), "w") as fh:
                fh.write("*\n")
    except OSError:
        pass


__all__ = ["Cache", "ensure_tag", "Optional"]
