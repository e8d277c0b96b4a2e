"""What an answer of the analyzer was read from, beyond the files it was asked about: for a
cache of the whole answer (trace's closure entries, runtime/closure_cache.py). Kept free of
imports: trace's warm start reads entries with `signature` before anything else is loaded."""
from __future__ import annotations

import os
from typing import Optional


def signature(path: str) -> Optional[list]:
    """What changes when a file is written or a folder gains or loses an entry."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def folder_names(folder: str) -> Optional[frozenset]:
    """A folder's names in lower case, as the resolver asks them; empty if it is not there,
    None if it cannot be read."""
    try:
        return frozenset(n.lower() for n in os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return frozenset()
    except (OSError, ValueError):
        return None


class FolderLookups:
    """The names looked up in one folder's listing and whether each was there, with the
    folder's signature taken before it was listed (a change after that is seen as a change)."""

    __slots__ = ("signature", "answers")

    def __init__(self, signature: Optional[list], answers: Optional[dict[str, bool]]):
        self.signature = signature
        self.answers = answers  # lower-case name -> present; None: the listing was unreadable


class ReadInputs:
    """`files`: files whose content the answer used (modules followed, files that failed).
    `folders`: folder -> FolderLookups. A file written into a folder under a name nobody looked
    up (a report, a log) changes no answer."""

    __slots__ = ("files", "folders")

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: dict[str, FolderLookups] = {}

    def add_folder(self, folder: str, lookups: FolderLookups) -> None:
        known = self.folders.get(folder)
        if known is None or lookups.answers is None:
            self.folders[folder] = lookups
        elif known.answers is not None:
            known.answers.update(lookups.answers)
