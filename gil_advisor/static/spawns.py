"""Spawn sites with their workers resolved and their concurrency decided."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Optional

from gil_advisor.static.refs import EitherRef, InstanceRef, MethodRef, NameRef, ParamRef, PartialRef, PoolRef, Ref, ResultRef
from gil_advisor.static.resolve import FunctionHandle, Resolver, Target
from gil_advisor.static.spawn_forms import (
    EVERY_POOL_THREAD,
    EXECUTOR_METHOD,
    FORMS_BY_NAME,
    OFFLOAD,
    ONE_TASK_PER_CALL,
    SUBCLASS,
    POOLS_BY_CLASS,
    SUBCLASS_FORM,
    THREAD_KINDS,
    THREAD_POOLS,
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
    thread_classes = thread_subclass_names(resolver, summaries)
    for summary in summaries:
        for fn in summary.functions.values():
            spawns = list(fn.spawns) + list(_subclass_spawns(resolver, fn, thread_classes))
            for rec in spawns:
                if rec.receiver is not None:
                    rec = _with_pool(resolver, summary, rec)
                    if rec is None:
                        continue  # not a thread pool, or nothing we can see
                targets = resolver.target(rec.target)
                yield Spawn(summary, fn, rec, targets)


def thread_subclass_names(resolver: Resolver, summaries: list[ModuleSummary]) -> set[str]:
    """Short names of the Thread subclasses defined in these modules (subclasses of subclasses too)."""
    # Thread subclasses are defined in files that mention threads, so the loaded modules
    # hold them all; knowing their names first spares resolving every other call.
    thread_classes = {"Thread"}
    while True:  # to a fixpoint
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
    return thread_classes


MAX_POOL_HOPS = 6  # self.pool -> a factory's return -> a parameter -> its caller's pool ...
MAX_POOL_CALLERS = 20


def _with_pool(resolver: Resolver, summary: ModuleSummary, rec: SpawnRec) -> Optional[SpawnRec]:
    """A pool method on a receiver made elsewhere: the spawn, if a thread pool is behind it."""
    pool = find_pool(resolver, rec.receiver)
    if pool is None or pool.cls not in THREAD_POOLS:
        return None
    form = FORMS_BY_NAME[rec.form]
    method = rec.kind.rsplit(".", 1)[-1]
    kind = rec.kind if form.shape == EXECUTOR_METHOD else form.kind_for(POOLS_BY_CLASS[pool.cls], method)
    return replace(rec, kind=kind, pool_size=pool.size, receiver=None)


def _overrides(resolver: Resolver, method: FunctionHandle) -> list[FunctionHandle]:
    """The same method in the loaded subclasses of its class (an abstract factory's overrides)."""
    if method.rec.cls is None:
        return []
    base = resolver.full(method.summary, method.rec.cls)
    out = []
    for summary in resolver.project.loaded():
        for crec in summary.classes.values():
            full = resolver.full(summary, crec.qualname)
            if full == base or method.rec.name not in crec.methods:
                continue
            if any(resolver.full(s, c.qualname) == base for s, c in resolver.mro(full)):
                out.append(FunctionHandle(summary, summary.functions[crec.methods[method.rec.name]]))
    return out


def find_pool(resolver: Resolver, ref: Optional[Ref], depth: int = 0, called: bool = False) -> Optional[PoolRef]:
    """The pool a receiver holds: an attribute of its class, what a factory returns, what the
    callers pass for a parameter, a module-level pool. None when none is found. `called`: the
    pool that calling what `ref` holds makes (a pool class, a partial of one)."""
    if ref is None or depth > MAX_POOL_HOPS:
        return None
    if called:
        if isinstance(ref, NameRef) and ref.qualname in POOLS_BY_CLASS:
            return PoolRef(ref.qualname, None)
        if isinstance(ref, PartialRef) and isinstance(ref.inner, NameRef) and ref.inner.qualname in POOLS_BY_CLASS:
            return PoolRef(ref.inner.qualname, -1)  # `partial(mp.Pool, processes=n)`
        if isinstance(ref, (PoolRef, ResultRef)):
            return None  # calling a pool, or the result of a result: not a pool we can see
    elif isinstance(ref, PoolRef):
        return ref
    if isinstance(ref, ResultRef):  # `pool_cls(4)`, `make_pool_class()(4)`: what the callee holds, called
        return find_pool(resolver, ref.of, depth + 1, called=True)
    if isinstance(ref, EitherRef):  # a factory chosen by branch: any that gives a thread pool
        found = [find_pool(resolver, o, depth + 1, called) for o in ref.options]
        return next((p for p in found if p is not None and p.cls in THREAD_POOLS), None)
    if isinstance(ref, MethodRef):  # self.pool: an attribute set anywhere in the class or a base
        for _, crec in resolver.mro(ref.cls):
            if ref.name in crec.attrs:
                return find_pool(resolver, crec.attrs[ref.name], depth + 1, called)
        return None
    if isinstance(ref, InstanceRef):  # make_pool(), self._get_executor()
        if ref.cls in POOLS_BY_CLASS:
            return None if called else PoolRef(ref.cls, None)
        handle = resolver.function(ref.cls) or resolver.method_of_result(ref.cls)
        if handle is None:
            return None if called else _class_attribute_pool(resolver, ref.cls, depth)
        handles = [handle] + _overrides(resolver, handle)  # self._get_executor(): any subclass's
        found = [find_pool(resolver, r, depth + 1, called) for h in handles for r in h.rec.returns]
        return next((p for p in found if p is not None and p.cls in THREAD_POOLS), None)
    if isinstance(ref, ParamRef):  # a pool passed in: what do the callers pass?
        callers = resolver.callers(ref.func)[:MAX_POOL_CALLERS]
        for _, call in callers:
            arg = call.kwargs.get(ref.name)
            if arg is None:
                index = ref.index - resolver.implicit_args(ref.func, call.ref)
                arg = call.args[index] if 0 <= index < len(call.args) else None
            pool = find_pool(resolver, arg, depth + 1, called)
            if pool is not None and pool.cls in THREAD_POOLS:
                return pool
        handle = resolver.function(ref.func)
        default = handle.rec.defaults.get(ref.name) if handle is not None else None
        if default is not None:  # `def run(items, pool_cls=ThreadPool)`: when a caller leaves it out
            return find_pool(resolver, default, depth + 1, called)
        return None
    if isinstance(ref, NameRef):  # a module-level pool: `POOL = ThreadPoolExecutor(8)`
        split = resolver.project.split_module(ref.qualname)
        if split is None:
            return None
        module, rest = split
        summary = resolver.project.summary(module)
        bound = summary.names.get(rest) if summary is not None and rest and "." not in rest else None
        return find_pool(resolver, bound, depth + 1, called) if bound is not None and bound != ref else None
    return None


def _class_attribute_pool(resolver: Resolver, q: str, depth: int) -> Optional[PoolRef]:
    """`cls.POOL_TYPE(n)` (or `self.POOL_TYPE(n)`) where the pool class is a class attribute of
    the class, a base, or (for an attribute a base only declares) a loaded subclass."""
    if "." not in q:
        return None
    cls_q, attr = q.rsplit(".", 1)
    if resolver.cls(cls_q) is None:
        return None
    for _, crec in resolver.mro(cls_q):
        if attr in crec.attrs:
            return find_pool(resolver, crec.attrs[attr], depth + 1, called=True)
    for full in resolver._loaded_subclasses(cls_q):
        found = resolver.cls(full)
        if found is not None and attr in found[1].attrs:
            pool = find_pool(resolver, found[1].attrs[attr], depth + 1, called=True)
            if pool is not None and pool.cls in THREAD_POOLS:
                return pool
    return None


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
    if rec.free_threaded_only:
        spawn.why = "runs only when the GIL is disabled (a free-threaded build)"
        return
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
    elif policy is ONE_TASK_PER_CALL and (rec.waited or (in_loop and rec.var and [rec.var, rec.loop] in spawn.where.waits)):
        spawn.why = f"each task's result is waited for before the next `{method}`"
    elif policy is ONE_TASK_PER_CALL and in_loop:
        spawn.concurrent, spawn.threads, spawn.why = True, size, f"`{method}` is called in a loop"
    elif policy is ONE_TASK_PER_CALL and any(t.handle is not None and t.handle.rec is spawn.where for t in spawn.targets):
        spawn.concurrent, spawn.threads, spawn.why = True, size, f"the worker `{method}`s itself: a recursive fan-out"
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
