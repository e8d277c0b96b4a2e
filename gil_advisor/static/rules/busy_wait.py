"""GIL003: a busy-wait loop in a function that runs on a thread."""
from __future__ import annotations

from gil_advisor.finding import Evidence, Finding, Location
from gil_advisor.static.remedies import spin_remedies
from gil_advisor.static.rules.base import RuleCheck, Worker, spawn_location, worker_ref


class BusyWaitInThread(RuleCheck):
    CODE = "GIL003"

    def check(self, worker: Worker, reachable):
        if worker.target.handle is None:
            return ()
        out = []
        for handle, chain in reachable(worker.target.handle):
            for line, col in handle.rec.spins:
                if worker.classifier is not None and worker.classifier.blocks(handle, line, col):
                    continue  # `while not ev.wait(0.1): pass` sleeps in its test
                loc = Location(handle.summary.path, line, col + 1)
                evidence = [Evidence("spawn", f"{worker.spawn.rec.kind} runs {worker.target.name}", spawn_location(worker.spawn))]
                evidence += chain
                evidence.append(Evidence("spin", "a loop with an empty body: it never blocks", loc))
                out.append(
                    Finding(
                        code=self.CODE,
                        location=loc,
                        message=self.rule.format_message(function=handle.full),
                        worker=worker.target.name,
                        worker_location=Location(handle.summary.path, handle.rec.line, handle.rec.col + 1),
                        confidence="high",
                        spawn_kind=worker.spawn.rec.kind,
                        threads=worker.spawn.threads or "one thread",
                        evidence=evidence,
                        remedies=spin_remedies(),
                        worker_ref=worker_ref(worker.target.handle),
                        instrument=worker_ref(handle),  # the tracer measures the spinning function
                    )
                )
        return out
