"""Per-thread state over time: recorded by the sampler, exported for Perfetto and the HTML report.

States, per sampler tick (see sampler._tick): "run" (on a CPU, running Python or C code),
"gil" (asleep on a futex while Python code is on its stack: waiting for the GIL), "lock"
(waiting on a lock taken in user code), "io" (in another system call: I/O or sleep),
"unknown" (no reading).
"""
from __future__ import annotations

from typing import Any

MAX_SEGMENTS = 20_000  # per thread: a long run merges its shortest neighbours, memory stays flat

LABELS = {
    "run": "running",
    "gil": "waiting for the GIL",
    "lock": "waiting on a lock",
    "io": "blocked in I/O or sleep",
    "unknown": "unknown",
}


class Segments:
    """Run-length encoded [start, end, state] spans, relative to the trace start."""

    __slots__ = ("spans", "merged")

    def __init__(self):
        self.spans: list[list] = []
        self.merged = False

    def note(self, start: float, end: float, state: str) -> None:
        spans = self.spans
        if spans and spans[-1][2] == state and start - spans[-1][1] <= 0.05:
            spans[-1][1] = end
            return
        spans.append([start, end, state])
        if len(spans) > MAX_SEGMENTS:
            self._halve()

    def _halve(self) -> None:
        """Keep memory bounded: join each pair of neighbours, the pair taking the longer state."""
        out = []
        for a, b in zip(self.spans[0::2], self.spans[1::2]):
            state = a[2] if a[1] - a[0] >= b[1] - b[0] else b[2]
            out.append([a[0], b[1], state])
        if len(self.spans) % 2:
            out.append(self.spans[-1])
        self.spans = out
        self.merged = True

    def export(self, ndigits: int = 6) -> list[list]:
        return [[round(s, ndigits), round(e, ndigits), st] for s, e, st in self.spans]


def chrome_trace(report) -> dict[str, Any]:
    """The Chrome trace-event format (JSON object form), which Perfetto and chrome://tracing open."""
    pid = 1
    name = report.process.target.name or "traced program"
    events: list[dict] = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": f"gil-advisor trace: {name}"}}]
    for t in report.threads:
        events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": t.tid, "args": {"name": t.name or f"thread {t.tid}"}})
        for start, end, state in t.timeline:
            events.append(
                {
                    "ph": "X",
                    "cat": "thread-state",
                    "name": LABELS.get(state, state),
                    "pid": pid,
                    "tid": t.tid,
                    "ts": round(start * 1e6, 1),
                    "dur": round(max(end - start, 0) * 1e6, 1),
                }
            )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "tool": "gil-advisor",
            "backend": report.backend.get("name"),
            "findings": [
                {"code": c.finding.code, "worker": c.finding.worker, "verdict": c.verdict.value}
                for c in report.findings
            ]
            + [{"code": r.code, "worker": r.entry.function, "verdict": None} for r in report.runtime_findings],
        },
    }
