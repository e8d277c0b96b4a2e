"""GIL002: C calls that hold the GIL, run on several threads at once."""
from __future__ import annotations

from gil_advisor.knowledge import HOLDS
from gil_advisor.static.remedies import held_call
from gil_advisor.static.rules.base import RuleCheck, Worker, build_finding


class GilHoldingCallsInThreads(RuleCheck):
    CODE = "GIL002"

    def check(self, worker: Worker, reachable):
        if worker.work.kind != HOLDS or not worker.spawn.concurrent or worker.spawn.is_async:
            return ()
        what = held_call(worker.work) or "json, re, pickle..."
        return (
            build_finding(
                self.CODE,
                worker,
                self.rule.format_message(worker=worker.target.name, held=what, threads=worker.spawn.threads),
            ),
        )
