"""GIL001: pure-Python CPU work on several threads at once."""
from __future__ import annotations

from gil_advisor.static.classify import CPU
from gil_advisor.static.rules.base import RuleCheck, Worker, build_finding


class CpuBoundPythonInThreads(RuleCheck):
    CODE = "GIL001"

    def check(self, worker: Worker, reachable):
        if worker.work.kind != CPU or not worker.spawn.concurrent or worker.spawn.is_async:
            return ()
        name = worker.target.name
        return (
            build_finding(
                self.CODE,
                worker,
                self.rule.format_message(worker=name, threads=worker.spawn.threads),
            ),
        )
