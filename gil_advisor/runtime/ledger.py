"""Per-thread record of time spent inside worker functions.

Each thread writes only its own `ThreadSlot` (no locks on the hot path); the sampler thread only
reads. Back-to-back calls on one thread closer than `MERGE_GAP_S` are merged into one interval,
so a pool thread running a million tiny tasks costs one interval, not a million.
"""
from __future__ import annotations

MERGE_GAP_S = 0.001
# Per worker and thread. Past it the closest half of the neighbours are merged, so a long run's
# memory stays flat (1,800 calls a second for an hour is 6.5 million intervals otherwise).
MAX_INTERVALS = 10_000


class ThreadSlot:
    __slots__ = ("ident", "native_id", "name", "active", "intervals", "cpu", "calls", "thinned_gap_s")

    def __init__(self, ident: int, native_id: int | None, name: str | None = None):
        self.ident = ident
        self.native_id = native_id
        self.name = name
        self.active: dict[int, list] = {}  # target -> [depth, t_enter, cpu_enter]
        self.intervals: dict[int, list[list[float]]] = {}  # target -> [[t0, t1], ...]
        self.cpu: dict[int, float] = {}  # target -> CPU seconds inside, measured on the thread
        self.calls: dict[int, int] = {}  # target -> outermost entries
        self.thinned_gap_s = 0.0  # the widest gap merged away to bound memory (0: none)

    def enter(self, idx: int, now: float, cpu: float) -> None:
        a = self.active.get(idx)
        if a is not None:  # recursion or re-entry: only the outermost call counts
            a[0] += 1
            return
        self.active[idx] = [1, now, cpu]
        self.calls[idx] = self.calls.get(idx, 0) + 1

    def exit(self, idx: int, now: float, cpu: float) -> None:
        a = self.active.get(idx)
        if a is None:
            return
        a[0] -= 1
        if a[0] > 0:
            return
        del self.active[idx]
        self._close(idx, a[1], now, cpu - a[2])

    def _close(self, idx: int, t0: float, t1: float, cpu: float) -> None:
        self.cpu[idx] = self.cpu.get(idx, 0.0) + max(0.0, cpu)
        iv = self.intervals.get(idx)
        if iv is None:
            self.intervals[idx] = [[t0, t1]]
        elif t0 - iv[-1][1] <= MERGE_GAP_S:
            iv[-1][1] = max(iv[-1][1], t1)
        else:
            iv.append([t0, t1])
            if len(iv) > MAX_INTERVALS:
                self.thinned_gap_s = max(self.thinned_gap_s, thin_intervals(iv))

    def close_all(self, now: float, cpu_now: float | None) -> None:
        """Close calls still running when tracing stops (daemon threads, KeyboardInterrupt)."""
        for idx, a in list(self.active.items()):
            cpu = (cpu_now - a[2]) if cpu_now is not None else 0.0
            self._close(idx, a[1], now, cpu)
        self.active.clear()


def thin_intervals(iv: list[list[float]]) -> float:
    """Merge, in place, each interval with its successor across the smallest half of the gaps
    (the time in those gaps then counts as inside); the widest gap merged is returned."""
    gaps = sorted(range(len(iv) - 1), key=lambda i: iv[i + 1][0] - iv[i][1])[: len(iv) // 2]
    widest = max((iv[i + 1][0] - iv[i][1] for i in gaps), default=0.0)
    join = set(gaps)
    out = [iv[0]]
    for i in range(1, len(iv)):
        if i - 1 in join:
            out[-1][1] = max(out[-1][1], iv[i][1])
        else:
            out.append(iv[i])
    iv[:] = out
    return max(0.0, widest)


def concurrency(intervals_by_thread: list[list[list[float]]]) -> dict:
    """Sweep the threads' intervals: union wall, wall with >=2 threads inside, thread-seconds,
    the largest number of threads inside at once."""
    events: list[tuple[float, int]] = []
    for ivs in intervals_by_thread:
        for t0, t1 in ivs:
            if t1 > t0:
                events.append((t0, 1))
                events.append((t1, -1))
    events.sort()
    inside = 0
    peak = 0
    last = None
    union = multi = area = 0.0
    for t, d in events:
        if last is not None and inside > 0:
            span = t - last
            union += span
            area += span * inside
            if inside >= 2:
                multi += span
        inside += d
        peak = max(peak, inside)
        last = t
    return {"union_wall": union, "concurrent_wall": multi, "thread_seconds": area, "peak": peak}


def overlap_predicate(intervals_by_thread: list[list[list[float]]]):
    """A function t -> number of threads inside at time t (for attributing probe samples)."""
    import bisect

    events: list[tuple[float, int]] = []
    for ivs in intervals_by_thread:
        for t0, t1 in ivs:
            events.append((t0, 1))
            events.append((t1, -1))
    events.sort()
    times = [e[0] for e in events]
    counts = []
    c = 0
    for _, d in events:
        c += d
        counts.append(c)

    def count_at(t: float) -> int:
        i = bisect.bisect_right(times, t) - 1
        return counts[i] if i >= 0 else 0

    return count_at
