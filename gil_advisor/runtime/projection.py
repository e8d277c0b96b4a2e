"""The projected speedup with processes: an estimate, with its model spelt out in the report."""
from __future__ import annotations

from typing import Optional

from gil_advisor.output.helpers import size
from gil_advisor.runtime.model import PicklingCost, Projection, Shares

BASE_MODEL = (
    "N = min(threads running the worker at once, usable cores) processes. The worker's CPU work "
    "(its threads' CPU time inside it) runs on the CPU share N processes would get on this host: "
    "the scheduler shares the cores among runnable tasks, and the other processes' runnable tasks "
    "are counted from how long the worker's own threads queued for a CPU, at least the 1-minute "
    "load average at start (or, when they did not queue, from the CPUs other processes used); its time blocked in I/O, sleeps and locks overlaps "
    "as it did on threads (divided by N); its GIL wait disappears; the rest of the program is unchanged"
)
QUEUED = 0.9  # on-CPU share of runnable time below which the threads measurably queued
PICKLING_MODEL = (
    "; pickling, from sampled calls (thread CPU time of pickle.dumps and pickle.loads of the "
    "arguments and the result), adds to the CPU work, and the parent's share (pickling arguments, "
    "unpickling results) is serial; starting N processes is added once"
)
NO_PICKLING = "; pickling and process start-up are not measured for this worker (no call was sampled)"


def pool_cpus(
    n: int, cores: int, shares: Shares, wanted: float, other: Optional[float], load: Optional[float] = None
) -> float:
    """CPUs N runnable processes would get, sharing the cores fairly with the host's other tasks.

    The worker's threads were runnable (on a CPU or queued for one) `wanted` at a time on average
    and ran `f` of that time; with k other runnable tasks each task gets cores / (wanted + k), so
    k = cores / f - wanted. A run of a second sees the host's load only for that second, so when
    the threads did queue, the 1-minute load average at start is a floor for k. Threads that
    hardly queued only bound k: then the CPUs other processes used stand in."""
    runnable = shares.on_cpu + shares.waiting_for_cpu
    f = shares.on_cpu / runnable if runnable > 0 else 1.0
    if f < QUEUED:
        others = max(cores / f - max(wanted, 1.0), load or 0.0, 0.0)
    else:
        others = other or 0.0
    return n * min(1.0, cores / (n + others))


def project(
    wall_s: float,
    thread_s: float,
    cpu_s: float,
    shares: Shares,
    peak: int,
    cores: int,
    process_wall: Optional[float],
    pickling: Optional[PicklingCost] = None,
    wanted: float = 1.0,
    other: Optional[float] = None,
    load: Optional[float] = None,
) -> Optional[Projection]:
    """Speedup of the worker (and of the whole run) if its threads were N processes."""
    if wall_s <= 0 or thread_s <= 0:
        return None
    n = max(1, min(peak, cores))
    cpus = pool_cpus(n, cores, shares, wanted, other, load)
    waits = (shares.io_or_sleep + shares.lock_wait + shares.other) * thread_s
    work, serial, startup = cpu_s, 0.0, 0.0
    sampled = pickling is not None and pickling.calls > 0 and pickling.error is None
    dominated_by = None
    if sampled:
        parent = pickling.parent_s_per_call * pickling.calls
        work += pickling.total_s
        serial = parent / min(1.0, cpus)
        startup = pickling.startup_s
        if pickling.total_s >= cpu_s:
            what = "results" if pickling.result_bytes >= pickling.args_bytes else "arguments"
            dominated_by = (
                f"{what} are {size(max(pickling.result_bytes, pickling.args_bytes))} per call: processes would "
                f"spend longer pickling and moving data ({pickling.total_s:.2f} s) than computing ({cpu_s:.2f} s)"
            )
    projected = max(serial, work / cpus) + waits / n + startup
    worker = min(float(n), wall_s / projected) if projected > 0 else 1.0
    if pickling is not None and pickling.error:
        dominated_by = f"processes cannot run it as it is: {pickling.error}"
    program = None
    if process_wall and process_wall > wall_s:
        program = process_wall / (process_wall - wall_s + wall_s / worker)
    model = BASE_MODEL + (PICKLING_MODEL if sampled else NO_PICKLING)
    return Projection(n, worker, program, model, pickling, dominated_by)
