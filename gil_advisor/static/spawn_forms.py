"""Every way of handing work to threads that the analyzer knows: one row per spawn form.

A row says which callee it is, where its target (and its pool's size) is, which words a
file that uses it must contain (the pre-check that skips other files), when two or more
threads can run the worker at once (its policy), and how to say "use processes" for it.
The extractor, the concurrency decision, the pre-check, the remedies and docs/rules.md
read this table; a new form is a new row (docs/contributing.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Policy:
    """When a spawn lets two or more threads run its worker at once (the wording is the docs')."""

    name: str
    flagged: str
    not_flagged: str


THREADS = Policy(
    "threads",
    "started in a loop or comprehension; or two or more GIL-bound threads are started in the same function",
    "a single helper thread (one `Thread(...)` outside a loop, even beside CPU work in the main thread); "
    "a loop that calls `t.start(); t.join()` on each thread before the next",
)
SUBCLASS = Policy("thread subclass", "instantiated in a loop, or at several places", "instantiated once")
EVERY_POOL_THREAD = Policy(
    "every pool thread", "always (unless the pool has one worker)", "`max_workers=1` / `ThreadPool(1)`"
)
ONE_TASK_PER_CALL = Policy(
    "one task per call",
    "called in a loop or comprehension, or two or more such calls in the same function",
    "a single call outside a loop; a pool with one worker",
)
WAITS_FOR_TASK = Policy("waits for its task", "never: the call returns when its one task is done", "always")
OFFLOAD = Policy(
    "offload",
    "in a loop or comprehension; gathered (`asyncio.gather`/`asyncio.wait`); or in a coroutine that is "
    "not the program's entry point (a request handler can run many times at once)",
    "a single `await` in the coroutine passed to `asyncio.run` / `run_until_complete`",
)
POLICIES = (THREADS, SUBCLASS, EVERY_POOL_THREAD, ONE_TASK_PER_CALL, WAITS_FOR_TASK, OFFLOAD)


@dataclass(frozen=True)
class Hint:
    """A word any file using the form contains; `whole`: not followed by more of a name."""

    word: str
    whole: bool = False


@dataclass(frozen=True)
class Pool:
    cls: str  # qualified class name
    threads: bool  # False: processes or interpreters, tracked only so their methods are never spawns
    size_keyword: str  # the size is this keyword argument, or the first positional one
    label: str = ""  # how a spawn's kind names it ("ThreadPoolExecutor.map")
    hints: tuple[Hint, ...] = ()
    docs: str = ""  # how docs/rules.md names it; "" for a second path to the same class


POOLS = (
    Pool("concurrent.futures.ThreadPoolExecutor", True, "max_workers", "ThreadPoolExecutor",
         (Hint("ThreadPool"), Hint("futures")), "`ThreadPoolExecutor`"),
    Pool("concurrent.futures.thread.ThreadPoolExecutor", True, "max_workers", "ThreadPoolExecutor",
         (Hint("ThreadPool"),)),
    Pool("multiprocessing.pool.ThreadPool", True, "processes", "ThreadPool",
         (Hint("ThreadPool"),), "`multiprocessing.pool.ThreadPool`"),
    Pool("multiprocessing.dummy.Pool", True, "processes", "multiprocessing.dummy.Pool",
         (Hint("multiprocessing.dummy"),), "`multiprocessing.dummy.Pool`"),
    Pool("concurrent.futures.ProcessPoolExecutor", False, "max_workers"),
    Pool("concurrent.futures.process.ProcessPoolExecutor", False, "max_workers"),
    Pool("concurrent.futures.InterpreterPoolExecutor", False, "max_workers"),
    Pool("multiprocessing.Pool", False, "processes"),
    Pool("multiprocessing.pool.Pool", False, "processes"),
)
POOLS_BY_CLASS = {p.cls: p for p in POOLS}
THREAD_POOLS = frozenset(p.cls for p in POOLS if p.threads)

# How a form is recognised.
CALL = "call"  # a function or class called by its qualified name: threading.Thread(target=f)
POOL_METHOD = "pool method"  # a method of a thread pool made in the same scope: pool.map(f, xs)
EXECUTOR_METHOD = "executor method"  # loop.run_in_executor(executor, f): the executor is an argument
SUBCLASS_CALL = "subclass call"  # instantiating a Thread subclass with its own run()

_BY_PROCESS_SUBMIT = (
    "`ProcessPoolExecutor().submit(func, *args)` (or multiprocessing.Pool) runs each task in its own process "
    "with its own GIL"
)
_BY_PROCESS_MAP = (
    "`ProcessPoolExecutor().map(func, items, chunksize=N)`: a chunksize of a few hundred makes per-item "
    "overhead negligible"
)
_BY_PROCESS_OFFLOAD = (
    "create one `ProcessPoolExecutor()` at startup and `await loop.run_in_executor(pool, func, *args)`"
)


@dataclass(frozen=True)
class SpawnForm:
    name: str  # the row's key, kept in SpawnRec.form
    shape: str  # CALL | POOL_METHOD | EXECUTOR_METHOD | SUBCLASS_CALL
    callees: tuple[str, ...]  # qualified names (CALL) or method names (the method shapes)
    policy: Policy
    remedy: str  # how to do the same with processes: the first words of the "Use processes" remedy
    hints: tuple[Hint, ...] = ()
    kind: str = ""  # SpawnRec.kind; a pool method's is "<pool label>.<method>"
    target_keywords: tuple[str, ...] = ()  # keyword arguments that name the target
    target_index: Optional[int] = None  # else the target is this positional argument
    needs_target: bool = False  # without a target there is no spawn (Thread(): a subclass or a no-op)
    executor_index: Optional[int] = None  # EXECUTOR_METHOD: the executor's positional argument
    docs: str = ""  # how docs/rules.md names the form

    def kind_for(self, pool: Optional[Pool], method: str) -> str:
        return f"{pool.label}.{method}" if pool is not None else self.kind


SPAWN_FORMS = (
    SpawnForm(
        "thread", CALL, ("threading.Thread",), THREADS, _BY_PROCESS_SUBMIT, (Hint("Thread", whole=True),),
        kind="threading.Thread", target_keywords=("target",), target_index=1, needs_target=True,
        docs="`threading.Thread`",
    ),
    SpawnForm(
        "timer", CALL, ("threading.Timer",), THREADS, _BY_PROCESS_SUBMIT, (Hint("Timer", whole=True),),
        kind="threading.Timer", target_keywords=("function",), target_index=1,
        docs="`threading.Timer`",
    ),
    SpawnForm(
        "start_new_thread", CALL, ("_thread.start_new_thread", "_thread.start_new"), THREADS,
        _BY_PROCESS_SUBMIT, (Hint("start_new"),),
        kind="_thread.start_new_thread", target_index=0, needs_target=True,
        docs="`_thread.start_new_thread`",
    ),
    # Found by the linker, which knows every class's bases (resolve.THREAD_BASES): the target is `run`.
    SpawnForm(
        "thread subclass", SUBCLASS_CALL, ("threading.Thread",), SUBCLASS, _BY_PROCESS_SUBMIT,
        (Hint("Thread", whole=True),),
        kind="Thread subclass",
        docs="a `Thread` subclass with its own `run`",
    ),
    # A file that only uses a pool made elsewhere (`self.pool.submit(f)`) names no pool class: the
    # methods' own names, rare outside pools, are its hints (`.map(` is everywhere: not one).
    SpawnForm(
        "pool map", POOL_METHOD, ("map", "imap", "imap_unordered", "starmap", "map_async", "starmap_async"),
        EVERY_POOL_THREAD, _BY_PROCESS_MAP, (Hint("imap("), Hint("imap_unordered("), Hint("starmap("), Hint("map_async(")),
        target_keywords=("fn", "func"), target_index=0,
    ),
    SpawnForm(
        "pool submit", POOL_METHOD, ("submit", "apply_async"), ONE_TASK_PER_CALL, _BY_PROCESS_SUBMIT,
        (Hint("submit("), Hint("apply_async(")),
        target_keywords=("fn", "func"), target_index=0,
    ),
    SpawnForm(
        "pool apply", POOL_METHOD, ("apply",), WAITS_FOR_TASK, _BY_PROCESS_SUBMIT,
        target_keywords=("fn", "func"), target_index=0,
    ),
    SpawnForm(
        "to_thread", CALL, ("asyncio.to_thread",), OFFLOAD, _BY_PROCESS_OFFLOAD, (Hint("to_thread"),),
        kind="asyncio.to_thread", target_index=0, needs_target=True,
        docs="`asyncio.to_thread`",
    ),
    SpawnForm(
        "run_in_executor", EXECUTOR_METHOD, ("run_in_executor",), OFFLOAD, _BY_PROCESS_OFFLOAD,
        (Hint("run_in_executor"),),
        kind="loop.run_in_executor", target_index=1, needs_target=True, executor_index=0,
        docs="`loop.run_in_executor(None or a thread pool, ...)`",
    ),
)
FORMS_BY_NAME = {f.name: f for f in SPAWN_FORMS}
CALL_FORMS = {q: f for f in SPAWN_FORMS if f.shape == CALL for q in f.callees}
POOL_METHOD_FORMS = {m: f for f in SPAWN_FORMS if f.shape == POOL_METHOD for m in f.callees}
EXECUTOR_METHOD_FORMS = {m: f for f in SPAWN_FORMS if f.shape == EXECUTOR_METHOD for m in f.callees}
SUBCLASS_FORM = next(f for f in SPAWN_FORMS if f.shape == SUBCLASS_CALL)
THREAD_KINDS = frozenset(f.kind for f in SPAWN_FORMS if f.policy in (THREADS, SUBCLASS))


def docs_label(form: SpawnForm) -> str:
    if form.shape == POOL_METHOD:
        pools = ", ".join(p.docs for p in POOLS if p.threads and p.docs)
        return f"{pools}: " + ", ".join(f"`{m}`" for m in form.callees)
    return form.docs


# The pre-check: a file that contains none of these words cannot spawn a thread.
_HINTS = {h for f in SPAWN_FORMS for h in f.hints} | {h for p in POOLS for h in p.hints}
HINT_PATTERN = "|".join(sorted(re.escape(h.word) + (r"\b" if h.whole else "") for h in _HINTS))
# Substring tests run at memchr speed; a word that contains another adds nothing to them.
_WORDS = {h.word for h in _HINTS}
HINT_WORDS = tuple(sorted(w for w in _WORDS if not any(o != w and o in w for o in _WORDS)))
