"""GIL002: C calls that hold the GIL, run on several threads at once."""
from __future__ import annotations

import re

from gil_advisor.knowledge import HOLDS
from gil_advisor.static.rules.base import RuleCheck, Worker, build_finding


class GilHoldingCallsInThreads(RuleCheck):
    CODE = "GIL002"

    def check(self, worker: Worker, reachable):
        if worker.work.kind != HOLDS or not worker.spawn.concurrent or worker.spawn.is_async:
            return ()
        held = next((e.description for e in worker.work.evidence if e.kind == "holds-gil"), "")
        m = re.search(r"(?:calls|worker) ([\w.]+)", held)
        what = m.group(1) if m else "json, re, pickle..."
        return (
            build_finding(
                self.CODE,
                worker,
                self.rule.format_message(worker=worker.target.name, held=what, threads=worker.spawn.threads),
            ),
        )
