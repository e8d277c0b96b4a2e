"""The projected speedup with processes: an estimate, with its model spelt out in the report."""
from __future__ import annotations

from typing import Optional

from gil_advisor.runtime.model import PicklingCost, Projection, Shares

AMDAHL_MODEL = (
    "Amdahl with N = min(threads running the worker at once, usable cores) processes: the threads' "
    "time inside the worker minus their GIL wait, split evenly over N (speedup capped at N); the "
    "rest of the program unchanged; time queued for a CPU stays in (this host's load counts)"
)
PICKLING_MODEL = (
    "; plus, from sampled calls, pickling: the parent pickles each call's arguments and unpickles "
    "its result one call at a time (serial), the N workers unpickle arguments and pickle results "
    "in parallel, and the pool starts N processes once"
)
NO_PICKLING = "; pickling and process start-up not measured for this worker (no call was sampled)"
DOMINATES = 1.0  # pickling at least as long as the parallel compute: processes would not pay off


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def project(
    wall_s: float,
    thread_s: float,
    cpu_s: float,
    shares: Shares,
    peak: int,
    cores: int,
    process_wall: Optional[float],
    pickling: Optional[PicklingCost] = None,
) -> Optional[Projection]:
    """Speedup of the worker (and of the whole run) if its threads were N processes."""
    if wall_s <= 0 or thread_s <= 0:
        return None
    n = max(1, min(peak, cores))
    # With processes the GIL wait disappears; the rest of the threads' time is spread over N.
    compute = max(thread_s - shares.waiting_for_gil * thread_s, cpu_s)
    parallel = compute / n
    serial = 0.0
    dominated_by = None
    if pickling is not None and pickling.calls:
        per_call = pickling.seconds_per_call
        parent, child = per_call / 2, per_call / 2  # dumps+loads on each side, measured as one
        serial = parent * pickling.calls + pickling.startup_s
        parallel += child * pickling.calls / n
        moved = pickling.args_bytes + pickling.result_bytes
        if pickling.total_s >= DOMINATES * compute / n:
            dominated_by = (
                f"arguments and results are {_mb(moved)} per call: processes would spend longer "
                f"pickling ({pickling.total_s:.2f} s) than computing ({compute / n:.2f} s on {n} processes)"
            )
    projected = parallel + serial
    worker = wall_s / projected if projected > 0 else 1.0
    worker = min(float(n), worker)
    if pickling is None or not pickling.calls:
        worker = max(1.0, worker)  # without a cost model for moving data, never project a loss
    program = None
    if process_wall and process_wall > wall_s:
        program = process_wall / (process_wall - wall_s + wall_s / worker)
    model = AMDAHL_MODEL + (PICKLING_MODEL if pickling is not None and pickling.calls else NO_PICKLING)
    return Projection(n, worker, program, model, pickling, dominated_by)
