"""Fast checks of the tracer's pure parts: interval sweeps, code-object matching, verdict rules."""
from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from gil_advisor.finding import Finding, Location
from gil_advisor.runtime import procfs, report, verdict
from gil_advisor.runtime.backends import choose_backend
from gil_advisor.runtime.ledger import ThreadSlot, concurrency, overlap_predicate
from gil_advisor.runtime.targets import TargetIndex


def test_concurrency_sweep():
    c = concurrency([[[0.0, 2.0]], [[1.0, 3.0]], [[5.0, 6.0]]])
    assert c["union_wall"] == pytest.approx(4.0)
    assert c["concurrent_wall"] == pytest.approx(1.0)
    assert c["thread_seconds"] == pytest.approx(5.0)
    assert c["peak"] == 2
    count_at = overlap_predicate([[[0.0, 2.0]], [[1.0, 3.0]]])
    assert [count_at(t) for t in (0.5, 1.5, 2.5, 4.0)] == [1, 2, 1, 0]


def test_slot_merges_back_to_back_calls_and_counts_recursion_once():
    s = ThreadSlot(1, 1)
    s.enter(0, 0.0, 0.0)
    s.enter(0, 0.1, 0.1)  # recursion
    s.exit(0, 0.2, 0.2)
    s.exit(0, 0.3, 0.3)
    s.enter(0, 0.3001, 0.3)  # next tiny task on the same pool thread
    s.exit(0, 0.4, 0.4)
    assert s.calls[0] == 2
    assert s.intervals[0] == [[0.0, 0.4]]
    assert s.cpu[0] == pytest.approx(0.4)
    s.enter(0, 1.0, 1.0)
    s.close_all(1.5, 1.2)
    assert s.intervals[0][-1] == [1.0, 1.5] and not s.active


def test_target_index_matches_decorated_and_lambda(tmp_path):
    src = textwrap.dedent(
        """
        import functools

        @functools.lru_cache(None)
        @staticmethod
        def work(x):
            return x

        job = lambda: 1
        def other():
            pass
        """
    )
    path = tmp_path / "m.py"
    path.write_text(src)
    ns: dict = {}
    exec(compile(src, str(path), "exec"), ns)
    f1 = Finding("GIL001", Location(str(path), 1), "m", "m.work", Location(str(path), 6, 1), "high", "Thread", "2")
    f2 = Finding("GIL001", Location(str(path), 1), "m", "m.<lambda>", Location(str(path), 9, 7), "high", "Thread", "2")
    f3 = Finding("GIL001", Location(str(path), 1), "m", "m.x", None, "high", "Thread", "2")
    idx = TargetIndex([f1, f2, f3])
    assert len(idx) == 2 and idx.unmapped == [f3]
    work_code = ns["work"].__wrapped__.__func__.__code__ if hasattr(ns["work"], "__wrapped__") else None
    assert work_code is not None and idx.match(work_code) == 0
    assert idx.match(ns["job"].__code__) == 1
    assert idx.match(ns["other"].__code__) == -1
    assert idx.match(test_concurrency_sweep.__code__) == -1


def _m(**kw):
    base = {
        "threads": 2, "max_concurrent": 2, "calls": 2, "wall_s": 1.0, "concurrent_wall_s": 1.0,
        "thread_s": 2.0, "cpu_s": 1.0, "parallelism": 1.0, "parallelism_possible": 2.0,
        "cpus_wanted": 1.1, "gil_probe_median_ms": 12.0, "samples": 100,
        "shares": {"on_cpu": 0.5, "waiting_for_cpu": 0.05, "waiting_for_gil": 0.4, "io_or_sleep": 0.0,
                   "lock_wait": 0.0, "other": 0.05},
    }
    base.update(kw)
    return base


def test_decide_rules():
    assert verdict.decide(_m())[0] == "confirmed"
    # Busy host: the threads wanted two CPUs (run queue) -> parallel, not the GIL
    assert verdict.decide(_m(cpus_wanted=1.9, gil_probe_median_ms=0.07,
                             shares={**_m()["shares"], "waiting_for_gil": 0.0}))[0] == "refuted"
    io = {"on_cpu": 0.02, "waiting_for_cpu": 0.0, "waiting_for_gil": 0.03, "io_or_sleep": 0.95, "lock_wait": 0.0, "other": 0.0}
    assert verdict.decide(_m(shares=io, cpus_wanted=0.04, gil_probe_median_ms=0.08))[0] == "refuted"
    assert verdict.decide(_m(calls=0))[0] == "not-exercised"
    assert verdict.decide(_m(max_concurrent=1, concurrent_wall_s=0.0))[0] == "not-concurrent"
    assert verdict.decide(_m(samples=1))[0] == "inconclusive"
    # GIL wait with a free GIL (probe) is a lock wait in user code: never confirmed
    assert verdict.decide(_m(gil_probe_median_ms=0.1))[0] != "confirmed"


def test_write_json_atomic(tmp_path):
    out = tmp_path / "r.json"
    report.write_json({"version": 1, "complete": True}, str(out))
    assert json.loads(out.read_text()) == {"version": 1, "complete": True}
    with pytest.raises(TypeError):
        report.write_json({"bad": object()}, str(out))
    assert json.loads(out.read_text())["complete"] is True  # the old file survived
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_backend_choice_explains_itself():
    backend, reason = choose_backend("auto")
    assert backend.name == ("sysmon" if sys.version_info >= (3, 12) else "sampler")
    assert reason.startswith("auto:")
    assert choose_backend("profile")[0].name == "profile"


@pytest.mark.skipif(not procfs.HAVE_PROC, reason="needs /proc")
def test_procfs_reads_own_thread():
    import threading

    files = procfs.ThreadFiles(threading.get_native_id())
    try:
        cpu, runq = files.schedstat()
        assert cpu > 0 and runq >= 0
        assert isinstance(files.syscall(), int)  # our own pread, or "running"
    finally:
        files.close()
    cores, detail = procfs.usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert procfs.host_facts()["gil_enabled"] in (True, False)
