"""The trace report as typed values: verdicts, measurements, checked and runtime-only findings.

The report builder fills these; the JSON, text, HTML, SARIF and timeline writers read their
attributes. `to_dict()` gives the `--json` schema (version 1).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Optional

from gil_advisor.finding import Finding, Remedy
from gil_advisor.output.helpers import rounded

SCHEMA_VERSION = 1
RUNTIME_CODE = "GIL101"  # a GIL-bound thread group that no static finding covers


class Verdict(str, Enum):
    """What the run says about one static finding."""

    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    TOO_SHORT = "too-short"
    NOT_CONCURRENT = "not-concurrent"
    NOT_EXERCISED = "not-exercised"

    @property
    def label(self) -> str:
        return _VERDICT_INFO[self][0]

    @property
    def shout(self) -> str:
        """The terminal's word: the one verdict that asks for action stands out."""
        return self.label.upper() if self is Verdict.CONFIRMED else self.label

    @property
    def colour(self) -> str:
        return _VERDICT_INFO[self][1]

    @property
    def rank(self) -> int:
        """Display order: what needs action first, what the run could not see last."""
        return _VERDICT_INFO[self][2]


_VERDICT_INFO = {
    Verdict.CONFIRMED: ("confirmed", "#c62828", 0),
    Verdict.INCONCLUSIVE: ("inconclusive", "#8d6e63", 2),
    Verdict.TOO_SHORT: ("too short to measure", "#8d6e63", 3),
    Verdict.NOT_CONCURRENT: ("not concurrent", "#616161", 4),
    Verdict.REFUTED: ("refuted", "#2e7d32", 5),
    Verdict.NOT_EXERCISED: ("not exercised", "#757575", 6),
}
RUNTIME_ONLY_RANK = 1  # a runtime-only finding is listed right after the confirmed ones

SHARE_KEYS = ("on_cpu", "waiting_for_cpu", "waiting_for_gil", "io_or_sleep", "lock_wait", "other")
SHARE_LABELS = {
    "on_cpu": "on a CPU",
    "waiting_for_cpu": "waiting for a CPU",
    "waiting_for_gil": "waiting for the GIL",
    "io_or_sleep": "in I/O or sleep",
    "lock_wait": "waiting on a lock",
    "other": "other",
}


@dataclass(frozen=True)
class Shares:
    """How a thread's (or a group's) time split; the parts never add past 1."""

    on_cpu: float = 0.0
    waiting_for_cpu: float = 0.0
    waiting_for_gil: float = 0.0
    io_or_sleep: float = 0.0
    lock_wait: float = 0.0
    other: float = 0.0

    @classmethod
    def of(cls, values: dict[str, float]) -> "Shares":
        """From a bucket's shares, scaled down if sampling noise made them add past 1."""
        parts = [max(0.0, float(values.get(k) or 0.0)) for k in SHARE_KEYS]
        total = sum(parts)
        if total > 1.0:
            parts = [p / total for p in parts]
        return cls(*parts)

    def with_exact_cpu(self, on_cpu: float) -> "Shares":
        """Replace the sampled on-CPU share by an exact one, fitting the rest into what is left."""
        on_cpu = min(1.0, max(0.0, on_cpu))
        rest = [getattr(self, k) for k in SHARE_KEYS[1:]]
        room = 1.0 - on_cpu
        total = sum(rest)
        if total > room:
            rest = [r * room / total for r in rest] if total > 0 else rest
        return Shares(on_cpu, *rest)

    def items(self) -> list[tuple[str, float]]:
        return [(k, getattr(self, k)) for k in SHARE_KEYS]

    def to_dict(self) -> dict[str, Optional[float]]:
        return {k: rounded(v) for k, v in self.items()}


@dataclass(frozen=True)
class CodeSite:
    """A line in a function: a hot line, or a thread group's entry function."""

    path: str
    line: int
    function: str
    share: Optional[float] = None  # of the samples, for hot lines

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "line": self.line, "function": self.function}
        if self.share is not None:
            d["share"] = round(self.share, 3)
        return d


@dataclass(frozen=True)
class PicklingCost:
    """What processes would pay per call to move a worker's arguments and result (sampled)."""

    sampled_calls: int
    args_bytes: float  # mean per call
    result_bytes: float
    seconds_per_call: float  # dumps + loads of args and result, mean
    parent_s_per_call: float  # the parent's serial share: dumps of the args, loads of the result
    calls: int  # calls in the run
    total_s: float  # seconds_per_call x calls
    startup_s: float  # starting the worker processes, measured once
    model: str
    error: Optional[str] = None  # the arguments or the result cannot be pickled at all

    def to_dict(self) -> dict[str, Any]:
        return {k: (rounded(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Projection:
    """Projected speedup with processes on this host: an estimate, with its model."""

    processes: int
    worker: float  # speedup of the time inside the worker
    program: Optional[float]  # speedup of the whole run
    model: str
    pickling: Optional[PicklingCost] = None
    dominated_by: Optional[str] = None  # why processes would not pay off, when they would not

    def to_dict(self) -> dict[str, Any]:
        return {
            "processes": self.processes,
            "worker": rounded(self.worker, 2),
            "program": rounded(self.program, 2),
            "estimate": True,
            "model": self.model,
            "pickling": self.pickling.to_dict() if self.pickling else None,
            "dominated_by": self.dominated_by,
        }


@dataclass
class WorkerMeasurement:
    """Figures for one worker (code object) over the run."""

    threads: int = 0
    max_concurrent: int = 0
    calls: int = 0
    wall_s: float = 0.0
    concurrent_wall_s: float = 0.0
    thread_s: float = 0.0
    cpu_s: float = 0.0
    shares: Shares = field(default_factory=Shares)
    parallelism: float = 0.0
    parallelism_possible: float = 0.0
    cpus_wanted: float = 0.0
    gil_probe_median_ms: Optional[float] = None
    gil_probe_samples: int = 0
    gil_probe_contended_share: Optional[float] = None
    gil_probe_inside_median_ms: Optional[float] = None
    gil_probe_inside_contended_share: Optional[float] = None
    samples: int = 0
    hot_locations: list[CodeSite] = field(default_factory=list)
    projected_speedup: Optional[Projection] = None
    threads_started: Optional[int] = None  # thread starts in the whole run (3.12+ audit events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "max_concurrent": self.max_concurrent,
            "calls": self.calls,
            "wall_s": rounded(self.wall_s),
            "concurrent_wall_s": rounded(self.concurrent_wall_s),
            "thread_s": rounded(self.thread_s),
            "cpu_s": rounded(self.cpu_s),
            "shares": self.shares.to_dict(),
            "parallelism": rounded(self.parallelism, 2),
            "parallelism_possible": rounded(self.parallelism_possible, 2),
            "cpus_wanted": rounded(self.cpus_wanted, 2),
            "gil_probe_median_ms": self.gil_probe_median_ms,
            "gil_probe_samples": self.gil_probe_samples,
            "gil_probe_contended_share": self.gil_probe_contended_share,
            "gil_probe_inside_median_ms": self.gil_probe_inside_median_ms,
            "gil_probe_inside_contended_share": self.gil_probe_inside_contended_share,
            "samples": self.samples,
            "hot_locations": [h.to_dict() for h in self.hot_locations],
            "projected_speedup": self.projected_speedup.to_dict() if self.projected_speedup else None,
        }


@dataclass
class CheckedFinding:
    """A static finding with what the run said about it."""

    finding: Finding
    verdict: Verdict
    reason: str
    measured: Optional[WorkerMeasurement] = None  # None: the finding named nothing to measure
    file_loaded: bool = True  # the program imported the file that defines the worker

    @property
    def unreached(self) -> bool:
        """Not exercised because the program never imported the worker's file."""
        return self.verdict is Verdict.NOT_EXERCISED and not self.file_loaded

    @property
    def rank(self) -> int:
        return self.verdict.rank

    def to_dict(self) -> dict[str, Any]:
        measured: dict[str, Any] = self.measured.to_dict() if self.measured else {}
        measured["reason"] = self.reason
        if self.measured is not None:
            measured["file_loaded"] = self.file_loaded
        return {**self.finding.to_dict(), "verdict": self.verdict.value, "measured": measured}


@dataclass
class RuntimeMeasurement:
    thread_s: float
    cpu_s: float
    shares: Shares
    gil_probe_median_ms: Optional[float]
    samples: int
    wall_s: float = 0.0  # union of the group's thread lifetimes
    max_concurrent: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_s": rounded(self.wall_s),
            "max_concurrent": self.max_concurrent,
            "thread_s": rounded(self.thread_s),
            "cpu_s": rounded(self.cpu_s),
            "shares": self.shares.to_dict(),
            "gil_probe_median_ms": self.gil_probe_median_ms,
            "samples": self.samples,
        }


@dataclass
class RuntimeFinding:
    """A GIL-bound thread group (by entry function) that no static finding covered."""

    entry: CodeSite
    threads: int
    message: str
    hot_locations: list[CodeSite]
    measured: RuntimeMeasurement
    remedies: list[Remedy] = field(default_factory=list)
    projected_speedup: Optional[Projection] = None
    code: str = RUNTIME_CODE

    rank = RUNTIME_ONLY_RANK

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "entry": self.entry.to_dict(),
            "threads": self.threads,
            "message": self.message,
            "hot_locations": [h.to_dict() for h in self.hot_locations],
            "measured": self.measured.to_dict(),
            "remedies": [asdict(r) for r in self.remedies],
            "projected_speedup": self.projected_speedup.to_dict() if self.projected_speedup else None,
        }


@dataclass
class ThreadWorker:
    worker: str
    calls: int
    cpu_s: Optional[float]

    def to_dict(self) -> dict[str, Any]:
        return {"worker": self.worker, "calls": self.calls, "cpu_s": rounded(self.cpu_s)}


@dataclass
class ThreadSummary:
    tid: int
    name: Optional[str]
    python: bool
    main: bool
    daemon: Optional[bool]
    lifetime_s: float
    cpu_s: float
    waiting_for_cpu_s: float
    shares: Shares
    samples: int
    entry: Optional[CodeSite]
    hot_location: Optional[CodeSite]
    workers: list[ThreadWorker] = field(default_factory=list)
    timeline: list[list] = field(default_factory=list)  # [start, end, state]
    timeline_merged: bool = False

    @property
    def label(self) -> str:
        return (self.name or f"thread {self.tid}") + (" (main)" if self.main else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "tid": self.tid,
            "name": self.name,
            "python": self.python,
            "main": self.main,
            "daemon": self.daemon,
            "lifetime_s": rounded(self.lifetime_s),
            "cpu_s": rounded(self.cpu_s),
            "waiting_for_cpu_s": rounded(self.waiting_for_cpu_s),
            "shares": self.shares.to_dict(),
            "samples": self.samples,
            "entry": self.entry.to_dict() if self.entry else None,
            "hot_location": self.hot_location.to_dict() if self.hot_location else None,
            "workers": [w.to_dict() for w in self.workers],
            "timeline": self.timeline,
            "timeline_merged": self.timeline_merged,
        }


@dataclass
class ProbeSummary:
    samples: int
    median_ms: Optional[float]
    p90_ms: Optional[float]
    p99_ms: Optional[float]
    contended_share: Optional[float]
    threshold_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TargetInfo:
    kind: str  # "script" | "module"
    name: str
    argv: list[str]
    path: Optional[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProcessSummary:
    target: TargetInfo
    exit_code: int
    ended_by: str
    exception: Optional[str]
    wall_s: float
    cpu_s: Optional[float]
    tracer_cpu_s: Optional[float]
    parallelism: float
    usable_cores: int
    other_processes_cpus: Optional[float]  # None: the run was too short to tell
    gil_probe: ProbeSummary
    switch_interval_s_at_exit: float
    threads_seen: int
    threads_alive_at_exit: list[dict]
    sampler_ticks: int
    sampler_error: Optional[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.to_dict(),
            "exit_code": self.exit_code,
            "ended_by": self.ended_by,
            "exception": self.exception,
            "wall_s": rounded(self.wall_s),
            "cpu_s": rounded(self.cpu_s),
            "tracer_cpu_s": rounded(self.tracer_cpu_s),
            "parallelism": rounded(self.parallelism, 2),
            "usable_cores": self.usable_cores,
            "other_processes_cpus": rounded(self.other_processes_cpus, 2),
            "gil_probe": self.gil_probe.to_dict(),
            "switch_interval_s_at_exit": self.switch_interval_s_at_exit,
            "threads_seen": self.threads_seen,
            "threads_alive_at_exit": self.threads_alive_at_exit,
            "sampler_ticks": self.sampler_ticks,
            "sampler_error": self.sampler_error,
        }


@dataclass
class TraceReport:
    host: dict[str, Any]  # procfs.host_facts(): free-form facts about the machine
    backend: dict[str, Any]  # name, reason, and the backend's own stats
    static: dict[str, Any]  # where the static findings came from
    process: ProcessSummary
    threads: list[ThreadSummary]
    findings: list[CheckedFinding]
    runtime_findings: list[RuntimeFinding]
    complete: bool
    version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "host": self.host,
            "backend": self.backend,
            "static": self.static,
            "process": self.process.to_dict(),
            "threads": [t.to_dict() for t in self.threads],
            "findings": [f.to_dict() for f in self.findings],
            "runtime_findings": [f.to_dict() for f in self.runtime_findings],
            "complete": self.complete,
        }

    def ranked(self) -> list:
        """Checked and runtime-only findings in display order: confirmed and runtime-only first."""
        items: list = list(self.findings) + list(self.runtime_findings)
        return sorted(items, key=lambda f: f.rank)  # stable: file order within a rank
