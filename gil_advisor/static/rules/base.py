"""What every rule shares: the context it is given and how a finding is put together."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from gil_advisor.codes import RULES, Rule
from gil_advisor.config import CONFIDENCES
from gil_advisor.finding import Evidence, Finding, Location, WorkerRef
from gil_advisor.static.classify import WorkSummary
from gil_advisor.static.remedies import remedies_for
from gil_advisor.static.resolve import FunctionHandle, Target
from gil_advisor.static.spawns import Spawn


@dataclass
class Worker:
    """One resolved worker of one spawn, with what it does."""

    spawn: Spawn
    target: Target
    work: WorkSummary
    classifier: object = None  # the WorkClassifier, for rules that look further


class RuleCheck:
    """The static check of one rule; the rule itself (message, docs, examples) is RULES[CODE]."""

    CODE: str = ""

    def check(self, worker: Worker, reachable: Callable) -> Iterable[Finding]:
        return ()

    @property
    def rule(self) -> Rule:
        return RULES[self.CODE]


# PEP 709 (3.12) inlines list, set and dict comprehensions: their scopes leave co_qualname.
_INLINED_COMPS = re.compile(r"(?:<(?:listcomp|setcomp|dictcomp)>\.)+")


def worker_ref(handle: Optional[FunctionHandle], version: tuple = sys.version_info[:2]) -> Optional[WorkerRef]:
    """The code object a function compiles to, as this interpreter names it."""
    if handle is None:
        return None
    rec = handle.rec
    co_qualname = rec.co_qualname
    if version >= (3, 12):
        co_qualname = _INLINED_COMPS.sub("", co_qualname)
    return WorkerRef(
        qualname=handle.full,
        path=handle.summary.path,
        def_line=rec.line,
        first_line=rec.first_line,
        body_line=rec.body_line,
        co_name=rec.name,
        co_qualname=co_qualname,
    )


def spawn_location(spawn: Spawn) -> Location:
    return Location(spawn.summary.path, spawn.rec.line, spawn.rec.col + 1)


def build_finding(code: str, worker: Worker, message: str) -> Finding:
    spawn, target, work = worker.spawn, worker.target, worker.work
    loc = spawn_location(spawn)
    handle = target.handle
    chain = [Evidence("spawn", f"{spawn.rec.kind} ({spawn.why}; {spawn.threads})", loc)]
    if handle is not None:
        via = f" via {', '.join(target.via)}" if target.via else ""
        chain.append(
            Evidence(
                "worker",
                f"runs {target.form} {handle.full}{via}",
                Location(handle.summary.path, handle.rec.line, handle.rec.col + 1),
            )
        )
    chain.extend(work.evidence)
    return Finding(
        code=code,
        location=loc,
        message=message,
        worker=target.name,
        worker_location=Location(handle.summary.path, handle.rec.line, handle.rec.col + 1) if handle else None,
        confidence=min(work.confidence, spawn.max_confidence, key=CONFIDENCES.index),
        spawn_kind=spawn.rec.kind,
        threads=spawn.threads,
        evidence=chain,
        remedies=remedies_for(target, work, spawn.form, spawn.summary.main_guarded),
        worker_ref=worker_ref(handle),
        instrument=worker_ref(handle),
        estimate=work.headline,
    )


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "<" not in name else name
