"""Spawn sites with their workers resolved and their concurrency decided."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from gil_advisor.static.refs import MethodRef, NameRef
from gil_advisor.static.resolve import Resolver, Target
from gil_advisor.static.spawn_forms import (
    EVERY_POOL_THREAD,
    FORMS_BY_NAME,
    OFFLOAD,
    ONE_TASK_PER_CALL,
    SUBCLASS,
    SUBCLASS_FORM,
    THREAD_KINDS,
    THREADS,
    SpawnForm,
)
from gil_advisor.static.summary import FunctionRec, ModuleSummary, SpawnRec

__all__ = ["Spawn", "collect", "decide_concurrency", "gil_bound_targets", "THREAD_KINDS"]


@dataclass
class Spawn:
    summary: ModuleSummary
    where: FunctionRec  # the function that contains the spawn ("<module>" at top level)
    rec: SpawnRec
    targets: list[Target]
    concurrent: bool = False
    threads: str = ""  # how many threads can run the worker at once, in words
    why: str = ""  # why we think so

    @property
    def form(self) -> SpawnForm:
        return FORMS_BY_NAME[self.rec.form]

    @property
    def is_async(self) -> bool:
        return self.form.policy is OFFLOAD

    @property
    def method(self) -> str:
        return self.rec.kind.rsplit(".", 1)[-1]


def collect(resolver: Resolver, summaries: list[ModuleSummary]) -> Iterator[Spawn]:
    """Every spawn in the given modules, with Thread-subclass instantiations added."""
    # Thread subclasses are defined in files that mention threads, so the loaded modules
    # hold them all; knowing their names first spares resolving every other call.
    thread_classes = {"Thread"}
    while True:  # names of Thread subclasses, to a fixpoint (subclasses of subclasses)
        found = {
            cls.qualname.rsplit(".", 1)[-1]
            for summary in summaries
            for cls in summary.classes.values()
            if any(isinstance(b, NameRef) and b.qualname.rsplit(".", 1)[-1] in thread_classes for b in cls.bases)
            and resolver.is_thread_class(resolver.full(summary, cls.qualname))
        } | {"Thread"}
        if found <= thread_classes:
            break
        thread_classes |= found
    thread_classes.discard("Thread")
    for summary in summaries:
        for fn in summary.functions.values():
            spawns = list(fn.spawns) + list(_subclass_spawns(resolver, fn, thread_classes))
            for rec in spawns:
                targets = resolver.target(rec.target)
                yield Spawn(summary, fn, rec, targets)


def _subclass_spawns(resolver: Resolver, fn: FunctionRec, thread_classes: set) -> Iterator[SpawnRec]:
    for call in fn.calls:
        if not isinstance(call.ref, NameRef):
            continue
        q = call.ref.qualname
        if q.rsplit(".", 1)[-1] not in thread_classes or resolver.cls(q) is None:
            continue
        if resolver.is_thread_class(q):
            run = resolver.method(q, "run")
            if run is None or run.summary.module == "threading":
                continue
            yield SpawnRec(
                kind=SUBCLASS_FORM.kind,
                target=MethodRef(q, "run"),
                form=SUBCLASS_FORM.name,
                line=call.line,
                col=call.col,
                loop=call.loop,
                in_comprehension=fn.loops[call.loop].kind == "comprehension" if call.loop >= 0 else False,
            )


def decide_concurrency(spawn: Spawn, siblings: list[Spawn], gil_bound_threads, entry_points: set[str], full_name: str) -> None:
    """Can two or more threads run this worker at the same time? Sets concurrent/threads/why."""
    rec = spawn.rec
    in_loop = rec.loop >= 0 or rec.in_comprehension
    policy = spawn.form.policy
    if policy is THREADS or policy is SUBCLASS:
        if in_loop:
            if rec.var and [rec.var, rec.loop] in spawn.where.joins:
                spawn.why = "each thread is joined before the next starts"
                return
            spawn.concurrent, spawn.threads, spawn.why = True, "one thread per loop iteration", "threads are started in a loop"
        elif policy is SUBCLASS and len(siblings) > 1:
            spawn.concurrent, spawn.threads, spawn.why = True, f"{len(siblings)} instances", "the Thread subclass is instantiated at several places"
        elif sum(1 for s in siblings if s.form.policy in (THREADS, SUBCLASS)) >= 2 and gil_bound_threads() >= 2:
            spawn.concurrent, spawn.threads, spawn.why = True, f"{gil_bound_threads()} threads", "several GIL-bound threads are started together"
        else:
            spawn.why = "a single thread"
        return
    if policy is OFFLOAD:
        size = _pool_words(rec, "asyncio")
        if in_loop:
            spawn.concurrent, spawn.threads, spawn.why = True, size, "offloaded once per loop iteration"
        elif rec.in_gather:
            spawn.concurrent, spawn.threads, spawn.why = True, size, "several offloads are gathered"
        elif spawn.where.is_async and full_name not in entry_points:
            spawn.concurrent, spawn.threads, spawn.why = True, size, "offloaded per call of a coroutine that can run concurrently (a request handler)"
        else:
            spawn.why = "offloaded once from the program's entry point"
        return
    # thread pools
    if rec.pool_size == 1:
        spawn.why = "the pool has a single worker thread"
        return
    size = _pool_words(rec, rec.kind)
    method = spawn.method
    if policy is EVERY_POOL_THREAD:
        spawn.concurrent, spawn.threads, spawn.why = True, size, f"`{method}` runs the worker on every pool thread"
    elif policy is ONE_TASK_PER_CALL and in_loop:
        spawn.concurrent, spawn.threads, spawn.why = True, size, f"`{method}` is called in a loop"
    elif policy is ONE_TASK_PER_CALL and sum(1 for s in siblings if s.form.policy is ONE_TASK_PER_CALL) >= 2:
        spawn.concurrent, spawn.threads, spawn.why = True, size, f"several `{method}` calls share the pool"
    else:
        spawn.why = "a single task"


def _pool_words(rec: SpawnRec, kind: str) -> str:
    if rec.pool_size is None:
        if kind.startswith("ThreadPoolExecutor") or kind == "asyncio":
            return "the default pool of min(32, CPUs + 4) threads"
        return "one thread per CPU (the default pool size)"
    if rec.pool_size == -1:
        return "a configurable number of threads"
    return f"{rec.pool_size} threads"


def gil_bound_targets(targets: list[Target], classify) -> list[tuple[Target, object]]:
    """The targets whose work holds the GIL, with their summaries."""
    out = []
    for tg in targets:
        if tg.handle is None:
            continue
        summary = classify(tg.handle)
        if summary.gil_bound:
            out.append((tg, summary))
    return out
