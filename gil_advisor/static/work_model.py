"""How long things take, roughly, and whether the GIL is held meanwhile: the work model.

Costs are in units of about 50 ns of interpreter time (one bytecode-level step). They are
orders of magnitude, not measurements: a subprocess ~50 ms, a network round trip ~5 ms,
a local file call ~5 us, a json.loads of a line ~10 us, a Python loop iteration ~50 ns. A loop of unknown
length counts as LOOP_TRIPS iterations; nesting multiplies. What decides a worker is the
balance of time with the GIL held against time with it released, not which effect exists.
"""
from __future__ import annotations

from dataclasses import dataclass

from gil_advisor.knowledge import PROCESS, BLOCKING, FILE, HOLDS, LIBRARY, MAYBE_IO, NEUTRAL, PYTHON, RELEASES, SYNC, WAIT

LOOP_TRIPS = 100  # iterations assumed for a loop whose length the analyzer cannot see
RECURSION_TRIPS = 10_000  # calls assumed for a recursion (a tree walk, a divide and conquer)
STEP = 1  # one arithmetic operation, comparison or subscript
ITERATION = 1  # the loop's own bookkeeping per iteration
CALL = 2  # calling a builtin or a Python function
UNKNOWN_CALL = 5  # weight of a call the analyzer cannot see, for the confidence only
# `.get(...)`/`.join(...)` are told apart by their shape (knowledge.ZERO_ARG_WAIT_METHODS), not by
# the project's own methods of that name
SHAPED_METHODS = frozenset({"get", "join"})


@dataclass(frozen=True)
class CallCost:
    held: float = 0.0  # GIL held
    io: float = 0.0  # GIL released, waiting on the outside world
    native: float = 0.0  # GIL released, native code computing
    unknown: float = 0.0  # uncertainty, for the confidence only
    paces: bool = False  # waits for another thread: the loop around it runs once per item


# What one call of a known kind costs. A releasing native call at the top of a worker runs
# on whole arrays or buffers; inside a Python loop it runs per element or per row, where the
# call's own overhead (GIL held) is most of its time.
KNOWN_COST = {
    HOLDS: CallCost(held=1_000),
    BLOCKING: CallCost(io=100_000),  # a network round trip or a sleep: ~5 ms
    PROCESS: CallCost(io=1_000_000),  # fork, exec and wait: ~50 ms, and the child's own work
    FILE: CallCost(io=100),
    # `.read()`/`.execute()`/`.select()` on an object of unknown type: often I/O, not always
    MAYBE_IO: CallCost(io=2_000, unknown=UNKNOWN_CALL),
    WAIT: CallCost(paces=True),
    SYNC: CallCost(held=CALL),
    PYTHON: CallCost(held=CALL),
    LIBRARY: CallCost(held=1_000),
    NEUTRAL: CallCost(held=CALL),
}
RELEASES_ALONE = CallCost(held=20, native=5_000)
# also a releasing call at the top of a helper that a caller's loop calls once per item
RELEASES_IN_LOOP = CallCost(held=20, native=5)
# Likewise a GIL-holding C call: on the task's whole input at the top, per item in a loop.
HOLDS_IN_LOOP = CallCost(held=100)
RECURSIVE_CALL = 10  # a recursive call: the frame and the call, held

# An estimate past this (0.5 s a call) is scaled down, keeping its balance: assumed loop
# lengths compound through helpers into figures no call reaches.
CAP = 10_000_000

# Thresholds of the decision. The confidence levels are calibrated on benchmarks/corpus (real
# packages, labelled by reading them): measured there, findings at `high` were all right and
# findings at `medium` or above 19 in 20 (docs/knowledge.md has the table). Below these
# bars a worker is still GIL-bound on the estimate, but real code of that shape was as often
# I/O behind calls the analyzer cannot see: `low`, hidden by default.
GIL_BOUND_SHARE = 0.5  # held share of the known time from which a worker counts as GIL-bound
RELEASED_SHARE = 0.25  # below this held share a worker is I/O or native, with high confidence
SUBSTANTIAL = 200  # held time below this is trivial (a few calls, a loop with no work in it)
HEAVY = 5_000  # medium: at least this much held time (a loop nest, recursion, heavy C calls) ...
MEDIUM_SHARE = 0.95  # ... and at least this share of the known time
STRONG = 50_000  # high: this much held time ...
HIGH_SHARE = 0.99  # ... this share ...
HIGH_UNSEEN = 0.5  # ... and calls it cannot see weighing at most this fraction of the held time


# Buffer-oriented native calls are fed chunks (h.update(chunk) over 1 MiB reads), so a loop
# around them does not make each call small the way a loop over numpy rows does.
BUFFER_CALLS = ("hashlib.", "_hashlib.", "zlib.", "bz2.", "lzma.", "gzip.", "bcrypt.", "argon2.", "nacl.", "cryptography.")
RELEASES_PER_CHUNK = CallCost(held=20, native=200)


# Reads and writes on an open file go through Python's buffer: most calls copy memory.
OPEN_FILE_METHODS = ("builtins.open.", "io.open.")
BUFFERED_FILE_CALL = CallCost(held=5, io=20)


def known_cost(effect: str, in_loop: bool, name: str = "") -> CallCost:
    if effect == FILE and name.startswith(OPEN_FILE_METHODS):
        return BUFFERED_FILE_CALL
    if effect == RELEASES:
        if not in_loop:
            return RELEASES_ALONE
        return RELEASES_PER_CHUNK if name.startswith(BUFFER_CALLS) else RELEASES_IN_LOOP
    if effect == HOLDS and in_loop:
        return HOLDS_IN_LOOP
    return KNOWN_COST.get(effect, CallCost())


# GIL002 rather than GIL001 when C calls that hold the GIL are nearly all of the held time:
# a worker with a Python loop of its own is told about the loop (GIL001).
HOLDS_KIND_SHARE = 0.9
