"""Map static findings to the code objects the tracer watches.

A finding's `instrument` (a `WorkerRef`) names one code object exactly: its file, its
`co_firstlineno` (the first decorator's line when decorated), its `co_name`, and on 3.11+ its
`co_qualname`. Those four must all match; there is no line window and no "whatever starts on
that line" fallback.

Legacy: findings files written before `instrument` existed only carry `worker_location` (the
`def` line) and the worker's dotted name. For those, a code object matches when its `co_name`
is the name's last part and it starts at most `LEGACY_DECORATOR_LINES` above the `def` line,
or else when it starts on that line. That guess misses a GIL003 helper named differently from
the spawn's worker and can pick a neighbour on the same line; re-run `gil-advisor check`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import CodeType
from typing import Iterable, Optional

from gil_advisor.finding import Finding, WorkerRef
from gil_advisor.runtime.pickling import PicklingSampler

LEGACY_DECORATOR_LINES = 30
MAX_PINNED = 100_000  # code objects remembered; past it only the workers' are kept


@dataclass
class WorkerTarget:
    """One code object to instrument; several findings may share it."""

    index: int
    worker: str  # dotted name, for people
    path: str  # realpath of the file
    line: int  # co_firstlineno (exact) or the `def` line (legacy)
    name: str  # co_name (exact) or the worker name's last part (legacy)
    qualname: Optional[str] = None  # co_qualname; None for legacy targets
    given_paths: list[str] = field(default_factory=list)  # as the findings spelled them
    findings: list[Finding] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.qualname is not None

    def matches(self, code: CodeType) -> bool:
        if not self.exact:
            return False
        if code.co_firstlineno != self.line or code.co_name != self.name:
            return False
        co_qualname = getattr(code, "co_qualname", None)  # 3.11+
        return co_qualname is None or co_qualname == self.qualname

    def legacy_gap(self, code: CodeType) -> Optional[int]:
        """Lines between the code object's start and the `def` line, if it may be this worker."""
        gap = self.line - code.co_firstlineno
        if not self.exact and self.name == code.co_name and 0 <= gap <= LEGACY_DECORATOR_LINES:
            return gap
        return None

    def to_dict(self) -> dict:
        return {"worker": self.worker, "path": self.path, "line": self.line}


def _legacy_name(worker: str) -> str:
    return worker.rsplit(".", 1)[-1]


def _key(f: Finding) -> Optional[tuple]:
    ref: Optional[WorkerRef] = f.instrument
    if ref is not None and ref.path:
        return ("exact", os.path.realpath(ref.path), ref.first_line, ref.co_name, ref.co_qualname)
    wl = f.worker_location
    if wl is not None and wl.path:
        return ("legacy", os.path.realpath(wl.path), wl.line, _legacy_name(f.worker), None)
    return None


class TargetIndex:
    """Answers "is this code object a worker entry point?" quickly, caching per file and code."""

    def __init__(self, findings: Iterable[Finding]):
        self.targets: list[WorkerTarget] = []
        self.unmapped: list[Finding] = []
        by_key: dict[tuple, WorkerTarget] = {}
        for f in findings:
            key = _key(f)
            if key is None:
                self.unmapped.append(f)
                continue
            t = by_key.get(key)
            if t is None:
                kind, path, line, name, qualname = key
                worker = f.instrument.qualname if f.instrument is not None else f.worker
                t = WorkerTarget(len(self.targets), worker, path, line, name, qualname)
                by_key[key] = t
                self.targets.append(t)
            given = f.instrument.path if t.exact else f.worker_location.path
            if given not in t.given_paths:
                t.given_paths.append(given)
            t.findings.append(f)
        self._by_file: dict[str, list[WorkerTarget]] = {}
        self._cwd = os.getcwd()
        for t in self.targets:
            self._add(t.path, t)
            for given in t.given_paths:  # the path as given, too: looking it up needs no system call
                self._add(os.path.normpath(os.path.join(self._cwd, given)), t)
        # Relative paths from a findings file written in another directory: match by suffix.
        self._suffixes: list[tuple[str, WorkerTarget]] = [
            (os.sep + os.path.normpath(given).lstrip(os.sep + "."), t)
            for t in self.targets
            for given in t.given_paths
            if not os.path.isabs(given)
        ]
        self._file_cache: dict[str, Optional[list[WorkerTarget]]] = {}
        # realpath makes system calls (and releases the GIL): only for files whose name matches.
        self._basenames = {os.path.basename(t.path) for t in self.targets} | {
            os.path.basename(g) for t in self.targets for g in t.given_paths
        }
        # id(code) -> target index or -1; the code objects are kept alive so ids are not reused.
        self.code_cache: dict[int, int] = {}
        self._pinned: list[CodeType] = []
        self.pins_reset = 0
        # The hook backends sample a few calls' pickling cost per target (runtime/pickling.py).
        self.pickling = PicklingSampler(len(self.targets))

    def _add(self, path: str, t: WorkerTarget) -> None:
        lst = self._by_file.setdefault(path, [])
        if t not in lst:
            lst.append(t)

    def covers(self, path: str, first_line: int, qualname: str) -> bool:
        """Is this function (as the sampler names a thread group's entry) a target?"""
        name = qualname.rsplit(".", 1)[-1]
        for t in self.candidates(path) or ():
            if t.exact and t.line == first_line and t.name == name and qualname in (t.qualname, name):
                return True
            if not t.exact and t.name == name and 0 <= t.line - first_line <= LEGACY_DECORATOR_LINES:
                return True
        return False

    def __len__(self) -> int:
        return len(self.targets)

    def candidates(self, filename: str) -> Optional[list[WorkerTarget]]:
        c = self._file_cache.get(filename, False)
        if c is False:
            if filename[:1] == "<" or os.path.basename(filename) not in self._basenames:
                c = None
            else:
                full = os.path.normpath(os.path.join(self._cwd, filename))
                c = self._by_file.get(full)
                if c is None:  # maybe through a symlink: ask the file system, once per file
                    c = self._by_file.get(os.path.realpath(filename))
                if c is None:
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
        for t in cands:
            if t.matches(code):
                return t.index
        return _legacy_match(cands, code)


def _legacy_match(cands: list[WorkerTarget], code: CodeType) -> int:
    """Findings without `instrument`: the nearest same-named code object above the `def` line,
    else any code object starting on that line (see the module docstring)."""
    best, best_gap = -1, None
    for t in cands:
        gap = t.legacy_gap(code)
        if gap is not None and (best_gap is None or gap < best_gap):
            best, best_gap = t.index, gap
    if best == -1 and code.co_name != "<module>":
        for t in cands:
            if not t.exact and t.line == code.co_firstlineno:
                return t.index
    return best
