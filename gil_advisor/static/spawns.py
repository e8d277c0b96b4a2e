"""Spawn sites with their workers resolved and their concurrency decided."""
from __future__ import annotations

import os
import re
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
    resolver: Optional[Resolver] = None  # to look for the spawning function's callers
    max_confidence: str = "high"  # the findings' confidence at most: "low" when concurrency is inferred from callers

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
                yield Spawn(summary, fn, rec, targets, resolver=resolver)


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
    for summary, crec in resolver.project.loaded_classes_with_attr(attr):
        full = resolver.full(summary, crec.qualname)
        if full != cls_q and any(resolver.full(s, c.qualname) == cls_q for s, c in resolver.mro(full)):
            pool = find_pool(resolver, crec.attrs[attr], depth + 1, called=True)
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
    _decide(spawn, siblings, gil_bound_threads, entry_points, full_name)
    if not spawn.concurrent and spawn.why in ("a single thread", "a single task"):
        found = repeated_spawner(spawn)
        if found is not None:
            spawn.concurrent = True
            spawn.threads, spawn.why, spawn.max_confidence = found


def _decide(spawn: Spawn, siblings: list[Spawn], gil_bound_threads, entry_points: set[str], full_name: str) -> None:
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
        if rec.pool_size == 1:
            spawn.why = "the executor has a single worker thread"
            return
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


WAIT_ALL = frozenset({"concurrent.futures.wait", "concurrent.futures.as_completed"})
MAX_SPAWNER_CALLERS = 20  # calls of a spawning function looked at, per level
SPAWNER_LEVELS = 2  # the spawning function's callers, and theirs


def repeated_spawner(spawn: Spawn) -> Optional[tuple[str, str, str]]:
    """(threads, why, the findings' confidence at most) when the function that starts one thread (or submits one task) per call runs
    again and again: it is called in a loop or comprehension (or its caller is), or the thread runs
    a method of its own instance and the class is instantiated in a loop. None otherwise, and when
    the function waits for its thread or task before returning."""
    resolver, rec, where = spawn.resolver, spawn.rec, spawn.where
    if resolver is None or where.qualname == "<module>":
        return None
    if where.joins or where.waits or any(isinstance(c.ref, NameRef) and c.ref.qualname in WAIT_ALL for c in where.calls):
        # `t.start(); t.join()`, `fut = pool.submit(...); return fut.result()`, the futures kept in
        # a list and waited for before returning: each call's thread or task ends before the next
        return None
    full = resolver.full(spawn.summary, where.qualname)
    policy = spawn.form.policy
    per = "thread" if policy is THREADS else "task"
    if policy is THREADS and where.cls is not None and isinstance(rec.target, MethodRef):
        cls_q = resolver.full(spawn.summary, where.cls)
        if rec.target.cls == cls_q:
            site = _instantiated_in_loop(resolver, cls_q, spawn)
            if site is not None:
                # a pool of worker objects, each running its own method on its own thread: made
                # in a loop, they run together (medium: the loop is in another function)
                return "one thread per instance", f"each `{where.cls}` starts its own thread, and instances are made in a loop at {site}", "medium"
    site = _called_in_loop(resolver, full)
    if site is not None:
        # Measured on benchmarks/corpus: the functions that start a thread or task per call
        # and are called in a loop elsewhere are mostly job dispatchers whose workers wait on
        # the network or a database in ways the work estimate does not see; say so.
        return f"one {per} per call", f"`{where.name}` starts a {per} per call and is called in a loop at {site}", "low"
    return None


def _site(summary: ModuleSummary, line: int) -> str:
    return f"{os.path.basename(summary.path)}:{line}"


def _called_in_loop(resolver: Resolver, func_q: str, level: int = 0) -> Optional[str]:
    """Where the function, or (SPAWNER_LEVELS up) a caller of it, is called in a loop or comprehension.
    A function a decorator returns in place of the ones it decorates is called where they are.
    Only the modules already parsed are searched (an index): a search that parsed every file naming
    `run` or `start` would cost more than the rest of the check."""
    callers = _callers(resolver, func_q)
    if level == 0:
        for decorated in _decorated_with_wrapper(resolver, func_q):
            callers += _callers(resolver, decorated)
    for summary, _, call in callers:
        if call.loop >= 0:
            return _site(summary, call.line)
    if level + 1 >= SPAWNER_LEVELS:
        return None
    for summary, caller, _ in callers:
        if caller.qualname == "<module>":
            continue
        caller_q = resolver.full(summary, caller.qualname)
        if caller_q != func_q:
            found = _called_in_loop(resolver, caller_q, level + 1)
            if found is not None:
                return found
    return None


def _callers(resolver: Resolver, func_q: str) -> list:
    """(summary, calling function, call) for the calls of a function in the parsed modules."""
    name = func_q.rsplit(".", 1)[-1]
    out = []
    for summary, fn, call in resolver.project.loaded_calls_named(name):
        if call is not None and resolver.call_resolves_to(call.ref, func_q, name):
            out.append((summary, fn, call))
            if len(out) >= MAX_SPAWNER_CALLERS:
                break
    return out


def _decorated_with_wrapper(resolver: Resolver, func_q: str) -> list[str]:
    """The functions that `func_q` replaces: it is a nested function its parent returns, and the
    parent (or the parent's parent, a decorator factory) decorates them."""
    handle = resolver.function(func_q)
    makers = []
    while handle is not None and "<locals>" in handle.rec.qualname and len(makers) < 2:
        parent_q = handle.rec.qualname.rsplit(".<locals>.", 1)[0]
        parent = handle.summary.functions.get(parent_q)
        if parent is None or not any(isinstance(r, NameRef) and r.qualname == handle.full for r in parent.returns):
            break
        handle = FunctionHandle(handle.summary, parent)
        makers.append(handle.full)
    out = []
    for maker in makers:
        for summary, fn, call in resolver.project.loaded_calls_named(maker.rsplit(".", 1)[-1]):
            if call is not None:
                continue
            for dq in fn.decorators:
                found = resolver.function(dq) if dq.rsplit(".", 1)[-1] == maker.rsplit(".", 1)[-1] else None
                if found is not None and found.full == maker:
                    out.append(resolver.full(summary, fn.qualname))
    return out[:MAX_SPAWNER_CALLERS]


def _instantiated_in_loop(resolver: Resolver, cls_q: str, spawn: Spawn) -> Optional[str]:
    """Where a class whose instances start the spawn's thread (the class, or a subclass that does not
    override the spawning method) is instantiated in a loop or comprehension."""
    names, todo = set(), [cls_q.rsplit(".", 1)[-1]]
    while todo and len(names) < MAX_SPAWNER_CALLERS:  # the class and its loaded subclasses, by name
        name = todo.pop()
        if name not in names:
            names.add(name)
            todo += [crec.qualname.rsplit(".", 1)[-1] for _, crec in resolver.project.loaded_classes_with_base(name)]
    for name in sorted(names):
        for summary, _, call in resolver.project.loaded_calls_named(name):
            if call is None or call.loop < 0:
                continue
            options = call.ref.options if isinstance(call.ref, EitherRef) else (call.ref,)
            for ref in options:
                if not (isinstance(ref, NameRef) and ref.qualname.rsplit(".", 1)[-1] == name):
                    continue
                if resolver.cls(ref.qualname) is None:
                    continue
                handle = resolver.method(ref.qualname, spawn.where.name)
                if handle is not None and handle.rec is spawn.where:
                    return _site(summary, call.line)
    return None


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
