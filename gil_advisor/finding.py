"""The shared model of a finding: what the analyzer reports and the tracer marks."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from gil_advisor.codes import RULES


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    column: int = 0  # 1-based like flake8; 0 when unknown


@dataclass(frozen=True)
class Evidence:
    """One link of the chain: spawn -> worker -> helper -> the loop or call that holds the GIL."""

    kind: str  # "spawn" | "worker" | "call" | "loop" | "recursion" | "holds-gil" | "spin"
    description: str
    location: Location


@dataclass(frozen=True)
class WorkerRef:
    """A function the tracer can find exactly: the code object it compiles to, and where."""

    qualname: str  # dotted, project-wide: "pkg.mod.Class.run"
    path: str
    def_line: int  # the `def`/`lambda` line
    first_line: int  # the code object's co_firstlineno (the first decorator's line if decorated)
    body_line: int  # the first line of the body
    co_name: str  # "run", "<lambda>"
    co_qualname: str  # "Class.run", "outer.<locals>.<lambda>" (as CPython 3.11+ spells it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorkerRef":
        return cls(
            qualname=str(d["qualname"]), path=str(d["path"]), def_line=int(d["def_line"]),
            first_line=int(d["first_line"]), body_line=int(d["body_line"]),
            co_name=str(d["co_name"]), co_qualname=str(d["co_qualname"]),
        )


@dataclass(frozen=True)
class Remedy:
    kind: str  # "processes" | "native" | "interpreter" | "wait"
    title: str
    detail: str


@dataclass
class Finding:
    code: str
    location: Location
    message: str
    worker: str  # qualified name of the worker, e.g. "pkg.mod.Class.run"
    worker_location: Optional[Location]  # where the worker is defined (the tracer instruments it)
    confidence: str  # "high" | "medium" | "low"
    spawn_kind: str  # e.g. "ThreadPoolExecutor.map"
    threads: str  # how many threads can run it at once, in words
    evidence: list[Evidence] = field(default_factory=list)
    remedies: list[Remedy] = field(default_factory=list)
    worker_ref: Optional[WorkerRef] = None  # the spawn's worker, as a code object
    instrument: Optional[WorkerRef] = None  # what the tracer measures (GIL003: the spinning function)
    estimate: str = ""  # the work model's estimate and its cause, in one line

    @property
    def rule(self):
        return RULES[self.code]

    def sort_key(self):
        return (self.location.path, self.location.line, self.location.column, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "worker": self.worker,
            "worker_location": asdict(self.worker_location) if self.worker_location else None,
            "confidence": self.confidence,
            "spawn": self.spawn_kind,
            "threads": self.threads,
            "evidence": [
                {
                    "kind": e.kind,
                    "description": e.description,
                    "path": e.location.path,
                    "line": e.location.line,
                    "column": e.location.column,
                }
                for e in self.evidence
            ],
            "remedies": [asdict(r) for r in self.remedies],
            "worker_ref": self.worker_ref.to_dict() if self.worker_ref else None,
            "instrument": self.instrument.to_dict() if self.instrument else None,
            "estimate": self.estimate,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        wl = d.get("worker_location")
        return cls(
            code=d["code"],
            location=Location(d["path"], d["line"], d["column"]),
            message=d["message"],
            worker=d["worker"],
            worker_location=Location(**wl) if wl else None,
            confidence=d["confidence"],
            spawn_kind=d.get("spawn", ""),
            threads=d.get("threads", ""),
            evidence=[
                Evidence(e["kind"], e["description"], Location(e["path"], e["line"], e["column"]))
                for e in d.get("evidence", [])
            ],
            remedies=[Remedy(**r) for r in d.get("remedies", [])],
            worker_ref=WorkerRef.from_dict(d["worker_ref"]) if d.get("worker_ref") else None,
            instrument=WorkerRef.from_dict(d["instrument"]) if d.get("instrument") else None,
            estimate=str(d.get("estimate") or ""),
        )


@dataclass(frozen=True)
class FileError:
    """One diagnostic for a file that could not be analysed; the run goes on."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class SpawnSite:
    """One place that hands work to threads, and why it was or was not reported (--show-spawns)."""

    location: Location
    kind: str  # the spawn form, e.g. "ThreadPoolExecutor.map"
    worker: str
    concurrent: bool
    concurrency: str  # why several threads can (or cannot) run the worker at once
    work: str  # the worker's kind: cpu | holds | io | releases | unknown | trivial
    confidence: str
    estimate: str  # the work model's one line
    held_share: Optional[float]  # estimated share of the worker's time with the GIL held
    outcome: str  # "reported GIL001" or why not
    held: float = 0.0  # the work model's units (about 50 ns each): GIL held
    released: float = 0.0  # ... GIL released (I/O, sleeps, native kernels)
    unseen: float = 0.0  # weight of calls the analyzer cannot see into

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"], d["line"], d["column"] = self.location.path, self.location.line, self.location.column
        del d["location"]
        return d


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_checked: int = 0
    spawns: Optional[list[SpawnSite]] = None  # only when asked for (--show-spawns)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "version": 1,
            "findings": [f.to_dict() for f in sorted(self.findings, key=Finding.sort_key)],
            "errors": [e.to_dict() for e in sorted(self.errors, key=lambda e: e.path)],
        }
        if self.spawns is not None:
            d["spawns"] = [s.to_dict() for s in sorted(self.spawns, key=lambda s: (s.location.path, s.location.line, s.location.column, s.worker))]
        return d
