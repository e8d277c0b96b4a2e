"""Map static findings' workers to the code objects the tracer watches."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import CodeType
from typing import Iterable, Optional

from gil_advisor.finding import Finding

# co_firstlineno is the line of the first decorator; the static side reports the `def` line.
_MAX_DECORATOR_LINES = 30
MAX_PINNED = 100_000  # code objects remembered; past it only the workers' are kept


@dataclass
class WorkerTarget:
    """One worker function to instrument; several findings may share it."""

    index: int
    worker: str
    path: str  # realpath of the file
    line: int  # line of the `def` (or the lambda)
    name: str  # the code object's expected co_name
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"worker": self.worker, "path": self.path, "line": self.line}


def _code_name(worker: str) -> str:
    last = worker.rsplit(".", 1)[-1]
    return last


class TargetIndex:
    """Answers "is this code object a worker entry point?" quickly, caching per file and code."""

    def __init__(self, findings: Iterable[Finding]):
        self.targets: list[WorkerTarget] = []
        self.unmapped: list[Finding] = []
        by_key: dict[tuple[str, int, str], WorkerTarget] = {}
        for f in findings:
            wl = f.worker_location
            if wl is None or not wl.path:
                self.unmapped.append(f)
                continue
            path = os.path.realpath(wl.path)
            key = (path, wl.line, _code_name(f.worker))
            t = by_key.get(key)
            if t is None:
                t = WorkerTarget(len(self.targets), f.worker, path, wl.line, key[2])
                by_key[key] = t
                self.targets.append(t)
            t.findings.append(f)
        self._by_file: dict[str, list[WorkerTarget]] = {}
        self._cwd = os.getcwd()
        for t in self.targets:
            self._by_file.setdefault(t.path, []).append(t)
            for f in t.findings:  # the path as given, too: looking it up needs no system call
                given = os.path.normpath(os.path.join(self._cwd, f.worker_location.path))
                lst = self._by_file.setdefault(given, [])
                if t not in lst:
                    lst.append(t)
        # Relative paths from a findings file written in another directory: match by suffix.
        self._suffixes: list[tuple[str, WorkerTarget]] = [
            (os.sep + os.path.normpath(f.worker_location.path).lstrip(os.sep + "."), t)
            for t in self.targets
            for f in t.findings
            if not os.path.isabs(f.worker_location.path)
        ]
        self._file_cache: dict[str, Optional[list[WorkerTarget]]] = {}
        # realpath makes system calls (and releases the GIL): only for files whose name matches.
        self._basenames = {os.path.basename(t.path) for t in self.targets} | {
            os.path.basename(f.worker_location.path) for t in self.targets for f in t.findings
        }
        # id(code) -> target index or -1; the code objects are kept alive so ids are not reused.
        self.code_cache: dict[int, int] = {}
        self._pinned: list[CodeType] = []
        self.pins_reset = 0

    def __len__(self) -> int:
        return len(self.targets)

    def candidates(self, filename: str) -> Optional[list[WorkerTarget]]:
        c = self._file_cache.get(filename, False)
        if c is False:
            if filename[:1] == "<" or os.path.basename(filename) not in self._basenames:
                c = None
            else:
                c = self._by_file.get(os.path.normpath(os.path.join(self._cwd, filename)))
                if c is None:  # maybe through a symlink: ask the file system, once per file
                    c = self._by_file.get(os.path.realpath(filename))
                if c is None:
                    full = os.path.normpath(os.path.join(self._cwd, filename))
                    c = [t for suffix, t in self._suffixes if full.endswith(suffix)] or None
            self._file_cache[filename] = c
        return c  # type: ignore[return-value]

    def match(self, code: CodeType) -> int:
        """Target index for this code object, or -1. Cached by identity."""
        key = id(code)
        idx = self.code_cache.get(key)
        if idx is not None:
            return idx
        idx = -1
        cands = self.candidates(code.co_filename)
        if cands:
            idx = self._match_in(cands, code)
        if len(self._pinned) >= MAX_PINNED:  # bound memory: forget the misses, keep the workers
            # in place: the backends' hooks hold these very objects
            self._pinned[:] = [c for c in self._pinned if self.code_cache.get(id(c), -1) >= 0]
            hits = {id(c): self.code_cache[id(c)] for c in self._pinned}
            self.code_cache.clear()
            self.code_cache.update(hits)
            self.pins_reset += 1
        self.code_cache[key] = idx
        self._pinned.append(code)
        return idx

    @staticmethod
    def _match_in(cands: list[WorkerTarget], code: CodeType) -> int:
        first = code.co_firstlineno
        best, best_gap = -1, None
        for t in cands:
            gap = t.line - first
            if t.name == code.co_name and 0 <= gap <= _MAX_DECORATOR_LINES:
                if best_gap is None or gap < best_gap:
                    best, best_gap = t.index, gap
        if best == -1:
            # The static side may name the worker differently (aliases, nested scopes): a code
            # object that starts on the reported line is the worker.
            for t in cands:
                if t.line == first and code.co_name != "<module>":
                    return t.index
        return best
