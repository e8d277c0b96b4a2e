"""Memory stays bounded on long runs (issue 11.12): many synthetic events, counts asserted."""
from __future__ import annotations

import os
import statistics
from types import SimpleNamespace

from gil_advisor.finding import Finding, Location
from gil_advisor.runtime import ledger, sampler, session, targets
from gil_advisor.runtime.ledger import ThreadSlot, concurrency, thin_intervals
from gil_advisor.runtime.sampler import BoundedSamples, ProcessSampler
from gil_advisor.runtime.targets import TargetIndex


def test_worker_intervals_stay_under_the_bound():
    slot = ThreadSlot(1, 1)
    t = 0.0
    n = 200_000  # about 2 minutes at 1,800 calls a second
    for i in range(n):
        slot.enter(0, t, t / 2)
        t += 0.0002
        slot.exit(0, t, t / 2)
        t += 0.002 + (i % 7) * 0.001  # gaps of 2-8 ms: never merged by MERGE_GAP_S
    ivs = slot.intervals[0]
    assert len(ivs) <= ledger.MAX_INTERVALS
    assert slot.calls[0] == n  # counts are exact; only the timeline is aggregated
    assert abs(slot.cpu[0] - n * 0.0001) < 1e-6
    assert ivs[0][0] == 0.0 and abs(ivs[-1][1] - (t - 0.002 - ((n - 1) % 7) * 0.001)) < 1e-9
    assert all(a[1] <= b[0] for a, b in zip(ivs, ivs[1:]))  # still ordered and disjoint
    assert slot.thinned_gap_s > 0


def test_thinning_merges_the_closest_half():
    iv = [[0, 1], [1.1, 2], [5, 6], [6.05, 7], [20, 21]]
    widest = thin_intervals(iv)
    assert iv == [[0, 2], [5, 7], [20, 21]]
    assert abs(widest - 0.1) < 1e-9
    assert concurrency([iv])["union_wall"] == 5


def test_bounded_samples_keep_an_even_density():
    s = BoundedSamples(limit=1000)
    for i in range(100_000):
        s.note(i)
    assert len(s) < 1000 and s.stride == 128
    assert s == sorted(s)
    gaps = {b - a for a, b in zip(s, s[1:])}
    assert gaps == {128}  # old and new samples alike, one in `stride`
    assert abs(statistics.median(s) - 50_000) < 1000


def test_bucket_probe_lists_are_bounded():
    b = sampler.Bucket()
    for i in range(sampler.MAX_PROBE_SAMPLES * 3):
        b.probe.note(0.005)
    assert len(b.probe) < sampler.MAX_PROBE_SAMPLES


def _codes(n):
    return [compile(f"x{i} = {i}", f"gen{i}.py", "exec") for i in range(n)]


def test_sampler_code_cache_starts_over_past_the_bound(monkeypatch):
    monkeypatch.setattr(sampler, "MAX_CODE_INFO", 100)
    ps = ProcessSampler(SimpleNamespace(exact=False, slots=dict), 0.01)
    for code in _codes(1000):
        ps._code(code)
    assert len(ps._pinned) <= 100 and len(ps._code_info) <= 100
    assert ps.code_info_resets == 9


def test_target_index_forgets_misses_and_keeps_workers(monkeypatch, tmp_path):
    monkeypatch.setattr(targets, "MAX_PINNED", 50)
    src = tmp_path / "w.py"
    src.write_text("def worker():\n    pass\n")
    f = Finding("GIL001", Location(str(src), 1, 1), "m", "w.worker", Location(str(src), 1, 1), "high", "Thread", "2")
    index = TargetIndex([f])
    ns: dict = {}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    worker = ns["worker"].__code__
    cache = index.code_cache  # the backends' hooks hold this very dict
    assert index.match(worker) == 0
    for code in _codes(500):
        assert index.match(code) == -1
    assert len(index._pinned) <= 50 and index.pins_reset > 0
    assert index.code_cache is cache and cache[id(worker)] == 0


def test_the_report_says_the_timeline_was_thinned():
    slot = ThreadSlot(1, 1)
    slot.thinned_gap_s = 0.004
    fake = SimpleNamespace(
        backend=SimpleNamespace(slots=lambda: {1: slot}),
        sampler=SimpleNamespace(probe=SimpleNamespace(stride=4), code_info_resets=0),
        targets=SimpleNamespace(pins_reset=0),
    )
    th = session.TraceSession.thinning(fake)
    assert th.any and th.to_dict() == {
        "worker_intervals_gap_s": 0.004, "gil_probe_stride": 4, "code_caches_reset": 0, "timeline_thinned": True}
    fake.backend = SimpleNamespace(slots=lambda: {1: ThreadSlot(1, 1)})
    fake.sampler.probe.stride = 1
    assert not session.TraceSession.thinning(fake).any


class _RecordingLock:
    """The sampler's wake lock, recording each timed wait the sampler thread asks for."""

    def __init__(self):
        import _thread

        self._lock = _thread.allocate_lock()
        self.timeouts = []

    def acquire(self, blocking=True, timeout=-1):
        if timeout != -1:
            self.timeouts.append(timeout)
        return self._lock.acquire(blocking, timeout)

    def release(self):
        self._lock.release()


def test_sampler_sleeps_are_jittered_so_the_probe_cannot_phase_lock_to_the_switch_interval():
    ps = ProcessSampler(SimpleNamespace(exact=False, slots=dict, inside=lambda *a: ()), 0.005)
    ps._wake = _RecordingLock()
    ps.start()
    import time

    deadline = time.monotonic() + 5
    while len(ps._wake.timeouts) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ps.stop() and ps.error is None
    waits = ps._wake.timeouts
    assert len(waits) >= 40
    low, high = 0.005 * sampler.JITTER[0], 0.005 * sampler.JITTER[1]
    assert all(low <= w <= high for w in waits)
    assert len(set(waits)) > len(waits) // 2  # not one fixed period
    assert 0.004 < sum(waits) / len(waits) < 0.006  # the mean rate is the one asked for


def test_sampler_slows_to_its_later_interval_after_the_first_second(monkeypatch):
    import time

    monkeypatch.setattr(sampler, "SETTLE_S", 0.1)  # the first "second", shortened for the test
    ps = ProcessSampler(SimpleNamespace(exact=False, slots=dict, inside=lambda *a: ()), 0.005, 0.02)
    ps._wake = _RecordingLock()
    ps.start()
    deadline = time.monotonic() + 5
    while len(ps._wake.timeouts) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ps.stop() and ps.error is None
    waits = ps._wake.timeouts
    first, later = [w for w in waits if w <= 0.0075], [w for w in waits if w >= 0.01]
    assert first and later and len(first) + len(later) == len(waits)
    assert waits.index(later[0]) == len(first)  # asked interval first, then only the later one
    assert all(0.01 <= w <= 0.03 for w in later) and 0.1 <= ps.slowed_at < 0.5


def test_sampler_keeps_its_interval_without_a_later_one():
    import time

    ps = ProcessSampler(SimpleNamespace(exact=False, slots=dict, inside=lambda *a: ()), 0.005)
    ps._wake = _RecordingLock()
    ps.start()
    time.sleep(0.3)
    assert ps.stop() and ps.slowed_at is None
    assert all(w <= 0.0075 for w in ps._wake.timeouts)


def test_sampler_thread_leaves_process_signals_to_the_program():
    """A SIGINT the kernel hands to the sampler would never wake a main thread asleep on a lock."""
    import signal
    import time

    ps = ProcessSampler(SimpleNamespace(exact=False, slots=dict, inside=lambda *a: ()), 0.005)
    ps.start()
    try:
        deadline = time.monotonic() + 5
        while ps.native_id is None and time.monotonic() < deadline:
            time.sleep(0.01)
        status = open(f"/proc/self/task/{ps.native_id}/status").read()
        blocked = int(status.split("SigBlk:")[1].split()[0], 16)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM, signal.SIGCHLD):
            assert blocked & (1 << (sig - 1)), sig.name
        assert not blocked & (1 << (signal.SIGSEGV - 1))
        main = open(f"/proc/self/task/{os.getpid()}/status").read()
        assert not int(main.split("SigBlk:")[1].split()[0], 16) & (1 << (signal.SIGINT - 1))
    finally:
        assert ps.stop()
