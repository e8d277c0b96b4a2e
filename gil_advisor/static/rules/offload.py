"""GIL004: CPU-bound work offloaded from asyncio to threads."""
from __future__ import annotations

from gil_advisor.static.rules.base import RuleCheck, Worker, build_finding


class CpuWorkOffloadedFromEventLoop(RuleCheck):
    CODE = "GIL004"

    def check(self, worker: Worker, reachable):
        if not worker.spawn.is_async or not worker.spawn.concurrent or not worker.work.gil_bound:
            return ()
        return (
            build_finding(
                self.CODE,
                worker,
                self.rule.format_message(worker=worker.target.name, spawn=worker.spawn.rec.kind),
            ),
        )
