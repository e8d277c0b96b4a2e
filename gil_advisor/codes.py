"""The one table of rule codes. Codes are stable: never renumber, only add."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str  # one line, used in flake8 output and SARIF shortDescription
    why: str  # the teaching paragraph, used by `explain` and SARIF fullDescription


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "GIL001",
            "cpu-bound-python-in-threads",
            "pure-Python CPU work runs on several threads; the GIL lets only one run at a time",
            "CPython's global interpreter lock lets one thread execute Python bytecode at a time. "
            "Loops, arithmetic and recursion in pure Python therefore take as long on N threads "
            "as on one, often longer because the threads hand the lock back and forth every 5 ms.",
        ),
        Rule(
            "GIL002",
            "gil-holding-c-calls-in-threads",
            "C calls that hold the GIL (json, re, pickle, sorted...) run on several threads and cannot overlap",
            "Many C-implemented functions (json, re, pickle, struct, sorted, str methods, "
            "deepcopy...) never release the GIL while they work. Threads calling them in a loop "
            "run one after another, and a long call also stalls every other thread, I/O threads "
            "included.",
        ),
        Rule(
            "GIL003",
            "busy-wait-in-thread",
            "a thread spins in a busy-wait loop, burning the GIL other threads need",
            "A loop such as `while not done: pass` never blocks, so the spinning thread asks for "
            "the GIL every switch interval and slows every other thread down. Wait on a "
            "threading.Event, Condition or queue instead: they block with the GIL released.",
        ),
        Rule(
            "GIL004",
            "cpu-bound-work-offloaded-from-event-loop",
            "CPU-bound work offloaded with asyncio.to_thread/run_in_executor to a thread still holds the GIL",
            "asyncio.to_thread and loop.run_in_executor(None, ...) run the callable on a thread "
            "pool. For CPU-bound pure-Python work those threads compete with each other and with "
            "the event loop for the GIL, so concurrent requests get no faster and the loop's "
            "latency grows. Offload such work to a process pool instead.",
        ),
    )
}
