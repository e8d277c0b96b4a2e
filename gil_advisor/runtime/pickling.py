"""What processes would pay to move a worker's data: pickling sampled on a few real calls.

The hook backends (sysmon, profile) call `enter(idx, frame)` before they start timing a worker
call and `exit(idx, value)` after they stop, but only while `wanted[idx]` is true: the first
`MAX_CALLS` calls of each worker, and only the first when it took more than `COSTLY_SAMPLE_S`
of CPU or moved more than `MAX_BYTES`.
Each sample times `pickle.dumps` and `pickle.loads` of the call's arguments and of its result,
the four steps a `ProcessPoolExecutor` adds to every call. The sampler backend sees no
arguments or results, so it samples nothing.

Process start-up is measured when the report is built: one `python -I -S -c pass`. When calls
move a megabyte or more, so is the pipe: 8 MB echoed through a child process (both kept a day
in check's cache when trace has one: runtime/host_probes.py). A pipe moves
64 kB at a time, each a switch between processes; on a loaded host every switch waits for a CPU,
and a 40 MB result then takes seconds, not milliseconds, to reach the parent.
"""
from __future__ import annotations

import itertools
import pickle
import threading
import time
from dataclasses import dataclass
from typing import Optional

from gil_advisor.runtime.host_probes import HostProbes
from gil_advisor.runtime.model import PicklingCost

MAX_CALLS = 3  # sampled calls per worker
COSTLY_SAMPLE_S = 0.02  # one sample that took longer (CPU) is enough: big data is the same each call
PIPE_MIN_BYTES = 1024 * 1024
MAX_BYTES = 256 * 1024 * 1024  # a bigger sample stops sampling that worker (memory and time)
_VARARGS, _VARKEYWORDS = 0x04, 0x08
SLICE_ITEMS = 20_000  # a big list, tuple or dict is timed on this many items and scaled up
SLICE_BYTES = 1 << 20  # ... a big str or bytes on its first megabyte
SMALL_TUPLE = 16  # a short tuple (the arguments, a pair of results) is timed item by item
PROTOCOL = pickle.DEFAULT_PROTOCOL  # what multiprocessing's ForkingPickler uses

MODEL = (
    "per call: pickle.dumps + pickle.loads of the arguments and of the result (big containers timed on "
    f"their first {SLICE_ITEMS} items and scaled), timed (thread CPU) on the first "
    f"{MAX_CALLS} calls; the parent's share (dumps of arguments, loads of results, and moving them "
    "through a pipe at the rate measured once on this host) is serial, the workers' share runs on "
    "N processes; start-up: N x one measured interpreter start"
)


@dataclass
class _Trip:
    dumps_s: float
    loads_s: float
    nbytes: int
    error: Optional[str] = None


@dataclass
class CallSample:
    args: _Trip
    result: _Trip


def _part(obj) -> tuple[object, float]:
    """(what to pickle, scale): a prefix of a big container stands for the whole, so that timing
    a 40 MB result costs about a millisecond of the traced thread's time, not half a second."""
    kind = type(obj)
    if kind in (list, tuple) and len(obj) > SLICE_ITEMS:
        return obj[:SLICE_ITEMS], len(obj) / SLICE_ITEMS
    if kind is dict and len(obj) > SLICE_ITEMS:
        return dict(itertools.islice(obj.items(), SLICE_ITEMS)), len(obj) / SLICE_ITEMS
    if kind in (str, bytes, bytearray) and len(obj) > SLICE_BYTES:
        return obj[:SLICE_BYTES], len(obj) / SLICE_BYTES
    return obj, 1.0


def _round_trip(obj) -> _Trip:
    if type(obj) is tuple and len(obj) <= SMALL_TUPLE:
        trips = [_round_trip(x) for x in obj]
        bad = next((t.error for t in trips if t.error), None)
        return _Trip(sum(t.dumps_s for t in trips), sum(t.loads_s for t in trips), sum(t.nbytes for t in trips), bad)
    part, scale = _part(obj)
    # Thread CPU time, not wall: pickle holds the GIL while it works, and wall time on a traced
    # thread would also count the other threads' turns with the GIL.
    clock = time.thread_time
    try:
        t0 = clock()
        data = pickle.dumps(part, PROTOCOL)
        t1 = clock()
        pickle.loads(data)
        t2 = clock()
    except Exception as e:  # unpicklable (locks, lambdas, sockets...): processes need a change
        return _Trip(0.0, 0.0, 0, f"{type(e).__name__}: {e}")
    return _Trip((t1 - t0) * scale, (t2 - t1) * scale, int(len(data) * scale))


def _arguments(frame) -> tuple:
    """The values of the call's parameters, as the frame holds them at its start."""
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & _VARARGS) + bool(code.co_flags & _VARKEYWORDS)
    f_locals = frame.f_locals
    return tuple(f_locals.get(name) for name in code.co_varnames[:n])


class PicklingSampler:
    """Per-worker samples of pickling cost, filled from the traced threads' own hooks."""

    def __init__(self, n_targets: int):
        self.wanted = [True] * n_targets  # read on every worker entry: keep it a plain list
        self.samples: list[list[CallSample]] = [[] for _ in range(n_targets)]
        self._taken = [itertools.count() for _ in range(n_targets)]
        self._pending: dict[tuple[int, int], _Trip] = {}
        self.probes = HostProbes()  # trace gives it check's cache when it has one
        self.overhead_s = 0.0  # time spent sampling, on the traced threads

    def enter(self, idx: int, frame) -> None:
        t0 = time.perf_counter()
        try:
            trip = _round_trip(_arguments(frame))
        except Exception as e:  # a frame without the expected locals: sample nothing
            trip = _Trip(0.0, 0.0, 0, repr(e))
        self._pending[(threading.get_ident(), idx)] = trip
        self.overhead_s += time.perf_counter() - t0

    def exit(self, idx: int, value) -> None:
        args = self._pending.pop((threading.get_ident(), idx), None)
        if args is None or not self.wanted[idx]:
            return
        if next(self._taken[idx]) >= MAX_CALLS:  # itertools.count: atomic, so never over the bound
            self.wanted[idx] = False
            return
        samples = self.samples[idx]
        t0 = time.perf_counter()
        result = _round_trip(value)
        sample = CallSample(args, result)
        samples.append(sample)
        costly = sample.args.dumps_s + sample.args.loads_s + sample.result.dumps_s + sample.result.loads_s
        if len(samples) >= MAX_CALLS or args.nbytes + result.nbytes > MAX_BYTES or costly > COSTLY_SAMPLE_S:
            # Sampling holds the GIL on a traced thread: what it costs is spent once, not per call.
            self.wanted[idx] = False
        self.overhead_s += time.perf_counter() - t0

    def startup_s(self) -> Optional[float]:
        """One interpreter start-up (runtime/host_probes.py: measured once, or reused)."""
        return self.probes.startup_s()

    def pipe_s_per_byte(self) -> float:
        """Seconds per byte through a pipe to another process and back (host_probes.py)."""
        return self.probes.pipe_s_per_byte()

    def cost(self, idx: int, calls: int, processes: int) -> Optional[PicklingCost]:
        samples = [s for s in self.samples[idx] if s.args.error is None and s.result.error is None] if idx < len(self.samples) else []
        failed = [s for s in self.samples[idx] if s.args.error or s.result.error] if idx < len(self.samples) else []
        if not samples and not failed:
            return None
        if not samples:
            bad = failed[0]
            return PicklingCost(
                sampled_calls=len(failed), args_bytes=0.0, result_bytes=0.0, seconds_per_call=0.0,
                parent_s_per_call=0.0, calls=calls, total_s=0.0, startup_s=0.0, model=MODEL,
                error=bad.args.error or bad.result.error,
            )
        n = len(samples)
        mean = lambda f: sum(f(s) for s in samples) / n  # noqa: E731
        moved = mean(lambda s: s.args.nbytes + s.result.nbytes)
        # The parent writes every call's arguments and reads every result: its pipe is serial.
        pipe = moved * self.pipe_s_per_byte() if moved >= PIPE_MIN_BYTES else 0.0
        parent = mean(lambda s: s.args.dumps_s + s.result.loads_s) + pipe
        child = mean(lambda s: s.args.loads_s + s.result.dumps_s)
        return PicklingCost(
            sampled_calls=n,
            args_bytes=mean(lambda s: s.args.nbytes),
            result_bytes=mean(lambda s: s.result.nbytes),
            seconds_per_call=parent + child,
            parent_s_per_call=parent,
            calls=calls,
            total_s=(parent + child) * calls,
            startup_s=processes * (self.startup_s() or 0.0),
            model=MODEL,
        )
