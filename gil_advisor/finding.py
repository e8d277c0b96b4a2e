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
        )


@dataclass(frozen=True)
class FileError:
    """One diagnostic for a file that could not be analysed; the run goes on."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "findings": [f.to_dict() for f in sorted(self.findings, key=Finding.sort_key)],
            "errors": [e.to_dict() for e in sorted(self.errors, key=lambda e: e.path)],
        }
