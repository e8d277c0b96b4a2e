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

    def finding(worker, where):
        return Finding("GIL001", Location(str(path), 1), "m", worker, where, "high", "Thread", "2")

    f1 = finding("m.work", Location(str(path), 6, 1))
    f2 = finding("m.<lambda>", Location(str(path), 9, 7))
    f3 = finding("m.x", None)
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
        "cpus_wanted": 1.1, "gil_probe_median_ms": 12.0, "gil_probe_contended_share": 0.9, "samples": 100,
        "shares": {"on_cpu": 0.5, "waiting_for_cpu": 0.05, "waiting_for_gil": 0.4, "io_or_sleep": 0.0,
                   "lock_wait": 0.0, "other": 0.05},
    }
    base.update(kw)
    return base


def test_decide_rules():
    assert verdict.decide(_m())[0] == "confirmed"
    # Busy host: the threads wanted two CPUs (run queue) -> parallel, not the GIL
    assert verdict.decide(_m(cpus_wanted=1.9, gil_probe_median_ms=0.07, gil_probe_contended_share=0.0,
                             shares={**_m()["shares"], "waiting_for_gil": 0.0}))[0] == "refuted"
    io = {"on_cpu": 0.02, "waiting_for_cpu": 0.0, "waiting_for_gil": 0.03, "io_or_sleep": 0.95,
          "lock_wait": 0.0, "other": 0.0}
    assert verdict.decide(_m(shares=io, cpus_wanted=0.04, gil_probe_contended_share=0.0))[0] == "refuted"
    assert verdict.decide(_m(calls=0))[0] == "not-exercised"
    assert verdict.decide(_m(max_concurrent=1, concurrent_wall_s=0.0))[0] == "not-concurrent"
    assert verdict.decide(_m(samples=1))[0] == "inconclusive"
    # GIL wait with a free GIL (probe) is a lock wait in user code: never confirmed
    assert verdict.decide(_m(gil_probe_contended_share=0.05))[0] != "confirmed"
    # Busy host: GIL-bound threads queue for CPUs too, but they never run in parallel
    busy = {**_m()["shares"], "on_cpu": 0.3, "waiting_for_cpu": 0.5, "waiting_for_gil": 0.15}
    assert verdict.decide(_m(shares=busy, cpus_wanted=1.6, parallelism=0.6))[0] == "confirmed"
    # One spinning thread (GIL003) vs one blocked waiter
    single = dict(max_concurrent=1, threads=1, concurrent_wall_s=0.0, gil_probe_inside_contended_share=0.95,
                  shares={**_m()["shares"], "on_cpu": 0.97, "waiting_for_gil": 0.0})
    assert verdict.decide(_m(**single), "GIL003")[0] == "confirmed"
    assert verdict.decide(_m(**single), "GIL001")[0] == "not-concurrent"
    native = dict(single, gil_probe_inside_contended_share=0.0)
    assert verdict.decide(_m(**native), "GIL004")[0] == "refuted"


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


def test_target_index_matches_relative_paths_from_another_directory(tmp_path, monkeypatch):
    pkg = tmp_path / "proj" / "pkg"
    pkg.mkdir(parents=True)
    mod = pkg / "jobs.py"
    mod.write_text("def crunch():\n    return 1\n")
    ns: dict = {}
    exec(compile(mod.read_text(), str(mod), "exec"), ns)
    # `gil-advisor check` ran in proj/, the trace runs in proj/pkg/
    f = Finding("GIL001", Location("pkg/jobs.py", 1), "m", "pkg.jobs.crunch", Location("pkg/jobs.py", 1, 1),
                "high", "Thread", "2")
    monkeypatch.chdir(pkg)
    assert TargetIndex([f]).match(ns["crunch"].__code__) == 0


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
def test_sysmon_finds_workers_in_modules_loaded_before_start_and_in_exec(tmp_path):
    import importlib.util
    import threading

    from gil_advisor.runtime.backends.sysmon import SysMonitoringBackend

    src = "class Box:\n    @staticmethod\n    def job(n):\n        return sum(range(n))\n"
    path = tmp_path / "early_mod.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("early_mod", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["early_mod"] = mod
    spec.loader.exec_module(mod)  # imported before tracing starts
    late = tmp_path / "late.py"
    late.write_text("def late_job():\n    return 1\n")
    findings = [
        Finding("GIL001", Location(str(path), 3), "m", "early_mod.Box.job", Location(str(path), 3, 5),
                "high", "Thread", "2"),
        Finding("GIL001", Location(str(late), 1), "m", "late.late_job", Location(str(late), 1, 1),
                "high", "Thread", "2"),
    ]
    backend = SysMonitoringBackend()
    backend.start(TargetIndex(findings))
    try:
        ns: dict = {}
        exec(compile(late.read_text(), str(late), "exec"), ns)  # seen through the exec audit event
        threads = [threading.Thread(target=mod.Box.job, args=(1000,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ns["late_job"]()
    finally:
        backend.stop()
        sys.modules.pop("early_mod", None)
    calls = [sum(s.calls.get(i, 0) for s in backend.slots().values()) for i in (0, 1)]
    assert calls == [2, 1]
    assert backend.stats()["instrumented_code_objects"] == 2
