"""Fast checks of the tracer's pure parts: interval sweeps, code-object matching, verdict rules."""
from __future__ import annotations

import json
import os
import sys
import textwrap
import time

import pytest
import trace_factory

from gil_advisor.finding import Finding, Location
from gil_advisor.runtime import procfs, report, verdict
from gil_advisor.runtime.backends import choose_backend
from gil_advisor.runtime.ledger import ThreadSlot, concurrency, overlap_predicate
from gil_advisor.runtime.model import Shares, Verdict, WorkerMeasurement
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
    shares = kw.pop("shares", None) or {"on_cpu": 0.5, "waiting_for_cpu": 0.05, "waiting_for_gil": 0.4,
                                         "io_or_sleep": 0.0, "lock_wait": 0.0, "other": 0.05}
    base = dict(
        threads=2, max_concurrent=2, calls=2, wall_s=1.0, concurrent_wall_s=1.0, thread_s=2.0, cpu_s=1.0,
        parallelism=1.0, parallelism_possible=2.0, cpus_wanted=1.1, gil_probe_median_ms=12.0,
        gil_probe_contended_share=0.9, samples=100, shares=Shares.of(shares),
    )
    base.update(kw)
    return WorkerMeasurement(**base)


SHARES = {"on_cpu": 0.5, "waiting_for_cpu": 0.05, "waiting_for_gil": 0.4, "io_or_sleep": 0.0,
          "lock_wait": 0.0, "other": 0.05}


def test_decide_rules():
    assert verdict.decide(_m())[0] == "confirmed"
    # Busy host: the threads wanted two CPUs (run queue) -> parallel, not the GIL
    assert verdict.decide(_m(cpus_wanted=1.9, gil_probe_median_ms=0.07, gil_probe_contended_share=0.0,
                             shares={**SHARES, "waiting_for_gil": 0.0}))[0] == "refuted"
    io = {"on_cpu": 0.02, "waiting_for_cpu": 0.0, "waiting_for_gil": 0.03, "io_or_sleep": 0.95,
          "lock_wait": 0.0, "other": 0.0}
    assert verdict.decide(_m(shares=io, cpus_wanted=0.04, gil_probe_contended_share=0.0))[0] == "refuted"
    assert verdict.decide(_m(calls=0))[0] == "not-exercised"
    assert verdict.decide(_m(max_concurrent=1, concurrent_wall_s=0.0))[0] == "not-concurrent"
    assert verdict.decide(_m(samples=1))[0] == "too-short"  # was "inconclusive": it ran, too briefly
    # GIL wait with a free GIL (probe) is a lock wait in user code: never confirmed
    assert verdict.decide(_m(gil_probe_contended_share=0.05))[0] != "confirmed"
    # Busy host: GIL-bound threads queue for CPUs too, but they never run in parallel
    busy = {**SHARES, "on_cpu": 0.3, "waiting_for_cpu": 0.5, "waiting_for_gil": 0.15}
    assert verdict.decide(_m(shares=busy, cpus_wanted=1.6, parallelism=0.6))[0] == "confirmed"
    # One spinning thread (GIL003) vs one blocked waiter
    single = dict(max_concurrent=1, threads=1, concurrent_wall_s=0.0, gil_probe_inside_contended_share=0.95,
                  shares={**SHARES, "on_cpu": 0.97, "waiting_for_gil": 0.0})
    assert verdict.decide(_m(**single), "GIL003")[0] == "confirmed"
    assert verdict.decide(_m(**single), "GIL001")[0] == "not-concurrent"
    native = dict(single, gil_probe_inside_contended_share=0.0)
    assert verdict.decide(_m(**native), "GIL004")[0] == "refuted"


def test_write_json_atomic(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    rep = trace_factory.report()
    report.write_json(rep, str(out))
    assert json.loads(out.read_text())["findings"][0]["verdict"] == "confirmed"
    rep.host["bad"] = object()  # cannot be serialised: the render fails before anything is written
    with pytest.raises(TypeError):
        report.write_json(rep, str(out))
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


# -- exact code-object matching (issue 9 item 3) -------------------------------------------

EXACT_SRC = """\
import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*a):
        return fn(*a)
    return wrapper


@logged
@functools.lru_cache(None)
def spin_helper():
    return 1


def worker():
    return spin_helper()


jobs = [lambda: 1 for _ in range(2)]
other = lambda: 2; third = lambda: 3


class Box:
    def run(self):
        return 1
"""


def _codes(code):
    """Every code object in a compiled module, by (co_qualname or co_name, co_firstlineno)."""
    out, stack = {}, [code]
    while stack:
        c = stack.pop()
        out[(getattr(c, "co_qualname", c.co_name), c.co_firstlineno)] = c
        stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))
    return out


def _code(codes, name, line=None):
    return next(c for (q, first), c in codes.items() if q.rsplit(".", 1)[-1] == name and line in (None, first))


def _ref(code, qualname, path):
    from gil_advisor.finding import WorkerRef

    return WorkerRef(qualname, str(path), code.co_firstlineno, code.co_firstlineno, code.co_firstlineno + 1,
                     code.co_name, getattr(code, "co_qualname", code.co_name))


def _exact_finding(code_str, worker, where, ref):
    return Finding(code_str, Location(ref.path, 1), "m", worker, where, "high", "Thread", "2", instrument=ref)


@pytest.fixture
def exact_module(tmp_path):
    path = tmp_path / "exact_mod.py"
    path.write_text(EXACT_SRC)
    code = compile(EXACT_SRC, str(path), "exec")
    ns: dict = {}
    exec(code, ns)
    return path, _codes(code), ns


def test_target_index_matches_instrument_exactly(exact_module):
    path, codes, ns = exact_module
    helper = _code(codes, "spin_helper")
    lam = _code(codes, "<lambda>", 21)
    # GIL003: the spawn's worker is `worker`, the function to measure is the decorated helper,
    # whose code object starts on the first decorator's line (11), not the `def` line (13).
    f_spin = _exact_finding("GIL003", "exact_mod.worker", Location(str(path), 13, 1),
                            _ref(helper, "exact_mod.spin_helper", path))
    f_lam = _exact_finding("GIL001", "exact_mod.<lambda@21:9>", Location(str(path), 21, 9),
                           _ref(lam, "exact_mod.<lambda>", path))
    idx = TargetIndex([f_spin, f_lam])
    assert helper.co_firstlineno == 11
    inner = ns["spin_helper"].__wrapped__.__wrapped__.__code__
    assert inner is helper and idx.match(inner) == 0
    assert idx.match(ns["jobs"][0].__code__) == 1
    assert idx.targets[0].worker == "exact_mod.spin_helper" and idx.targets[0].exact
    # The wrapper, the spawn's worker and the comprehension around the lambda are other code objects.
    assert idx.match(ns["logged"](lambda: 0).__code__) == -1
    assert idx.match(ns["worker"].__code__) == -1
    assert idx.match(ns["Box"].run.__code__) == -1


def test_target_index_has_no_window_and_no_same_line_fallback(exact_module):
    path, codes, ns = exact_module
    helper, other = _code(codes, "spin_helper"), ns["other"].__code__
    # A ref one line off (the old window accepted up to 30) and a ref on `other`'s line with
    # another name (the old fallback took any code object starting there): neither matches.
    off = _ref(helper, "exact_mod.spin_helper", path)
    off = type(off)(**{**off.to_dict(), "first_line": helper.co_firstlineno + 1})
    wrong_name = type(off)(**{**_ref(other, "exact_mod.<lambda>", path).to_dict(), "co_name": "elsewhere",
                              "co_qualname": "elsewhere"})
    idx = TargetIndex([
        _exact_finding("GIL003", "exact_mod.worker", None, off),
        _exact_finding("GIL001", "exact_mod.x", None, wrong_name),
    ])
    assert len(idx) == 2 and not idx.unmapped
    assert idx.match(helper) == -1
    assert idx.match(other) == -1 and idx.match(ns["third"].__code__) == -1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="co_qualname is 3.11+")
def test_target_index_tells_same_named_code_apart_by_qualname(tmp_path):
    src = "class A:\n    def run(self): return 1\n"  # A.run on line 2
    path = tmp_path / "q.py"
    path.write_text(src)
    code = compile(src, str(path), "exec")
    run = _codes(code)[("A.run", 2)]
    twin = compile("class B:\n    def run(self): return 1\n", str(path), "exec")
    twin_run = _codes(twin)[("B.run", 2)]
    assert (twin_run.co_firstlineno, twin_run.co_name) == (run.co_firstlineno, run.co_name)
    idx = TargetIndex([_exact_finding("GIL001", "q.A.run", None, _ref(run, "q.A.run", path))])
    assert idx.match(run) == 0 and idx.match(twin_run) == -1


def test_legacy_findings_without_instrument_still_match(tmp_path):
    path = tmp_path / "old.py"
    path.write_text("import functools\n\n@functools.lru_cache(None)\ndef crunch():\n    return 1\n")
    ns: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    f = Finding("GIL001", Location(str(path), 1), "m", "old.crunch", Location(str(path), 4, 1), "high",
                "Thread", "2")
    idx = TargetIndex([f])
    assert not idx.targets[0].exact
    assert idx.match(ns["crunch"].__wrapped__.__code__) == 0


# -- numbers that cannot be true (issue 11 item 14) -----------------------------------------


def test_exact_cpu_share_never_pushes_the_total_past_one():
    # 3.12 (exact CPU from the hooks) with a sampled split that already filled the thread time:
    # the old code replaced on_cpu alone and the shares added up to 135%.
    sampled = Shares.of({"on_cpu": 0.3, "waiting_for_cpu": 0.2, "waiting_for_gil": 0.5})
    exact = sampled.with_exact_cpu(0.65)
    total = sum(v for _, v in exact.items())
    assert exact.on_cpu == pytest.approx(0.65) and total == pytest.approx(1.0)
    assert exact.waiting_for_gil == pytest.approx(0.35 * 0.5 / 0.7)
    assert sum(v for _, v in Shares.of({"on_cpu": 0.9, "waiting_for_gil": 0.45}).items()) <= 1.0 + 1e-9
    from gil_advisor.output.helpers import percentages

    assert percentages([0.335, 0.335, 0.33]) == [34, 33, 33]
    assert sum(percentages([0.166, 0.166, 0.166, 0.166, 0.166, 0.17])) == 100
    assert sum(percentages([0.6, 0.6])) == 100


def test_other_processes_cpus_is_clamped_and_short_runs_are_not_measured():
    # The reported case: a 2-core host, a 0.03 s run, 1.9 s of busy ticks -> "63.48 CPUs".
    assert report.other_processes_cpus(1.9, 0.0, 0.03, 2) is None
    assert report.other_processes_cpus(30.0, 1.0, 2.0, 2) == 2.0
    assert report.other_processes_cpus(1.5, 1.0, 1.0, 2) == pytest.approx(0.5)
    assert report.other_processes_cpus(0.5, 1.0, 1.0, 2) == 0.0


def test_short_concurrent_run_is_too_short_not_unexercised():
    # 8 threads that ran 0.03 s: a few samples at most, 30 ms inside.
    m = _m(threads=8, max_concurrent=8, calls=8, wall_s=0.03, concurrent_wall_s=0.03, thread_s=0.2, samples=2)
    v, reason = verdict.decide(m)
    assert v is Verdict.TOO_SHORT and "too short to measure" in reason
    assert Verdict.TOO_SHORT.label == "too short to measure"


SEVEN_THREADS_0_3_S = [
    # Measured: `cpu_threads.py 0.3 7` traced 50 times on each of 3.11 and 3.12 on this 2-core host
    # while other processes kept 1.6-1.9 CPUs busy. The first two are the two 3.12 runs the old
    # rules refuted ("it ran in parallel: 0.13 CPUs busy, 1.73 counting run-queue wait"); the
    # next two the confirmed runs with the least GIL wait; the last the one that wanted most CPUs.
    dict(samples=11, parallelism=0.13, parallelism_possible=2.0, cpus_wanted=1.73, gil_probe_contended_share=0.8,
         shares={"on_cpu": 0.054, "waiting_for_cpu": 0.666, "waiting_for_gil": 0.026, "other": 0.294}),
    dict(samples=16, parallelism=0.09, parallelism_possible=1.88, cpus_wanted=1.63, gil_probe_contended_share=1.0,
         shares={"on_cpu": 0.048, "waiting_for_cpu": 0.82, "waiting_for_gil": 0.086, "other": 0.106}),
    dict(samples=10, parallelism=0.05, parallelism_possible=2.0, cpus_wanted=1.75, gil_probe_contended_share=1.0,
         shares={"on_cpu": 0.025, "waiting_for_cpu": 0.823, "waiting_for_gil": 0.123, "other": 0.058}),
    dict(samples=28, parallelism=0.14, parallelism_possible=2.0, cpus_wanted=1.98, gil_probe_contended_share=0.833,
         shares={"on_cpu": 0.056, "waiting_for_cpu": 0.761, "waiting_for_gil": 0.145, "lock_wait": 0.008,
                 "other": 0.043}),
    dict(samples=53, parallelism=0.33, parallelism_possible=2.0, cpus_wanted=3.66, gil_probe_contended_share=0.833,
         shares={"on_cpu": 0.101, "waiting_for_cpu": 0.636, "waiting_for_gil": 0.227, "lock_wait": 0.002,
                 "other": 0.034}),
]


@pytest.mark.parametrize("figures", SEVEN_THREADS_0_3_S)
def test_seven_python_threads_for_a_third_of_a_second_are_confirmed(figures):
    """Why the verdict is stable. GIL-bound threads cannot *run* on more than one CPU, so they use
    far less than the 2 possible (0.05-0.33 here). On a saturated host their GIL wait shows as
    run-queue wait (waiters wake every switch interval and queue for a CPU), which made "CPUs
    wanted" reach 1.6 of 2 and the old rules call it parallel. The probe subtracts its own
    run-queue wait and stayed contended (80-100%), so: confirmed, never refuted."""
    m = _m(threads=7, max_concurrent=7, calls=7, wall_s=0.3, concurrent_wall_s=0.3, thread_s=2.1,
           cpu_s=0.3 * figures["parallelism"], gil_probe_median_ms=4.0, **figures)
    assert verdict.decide(m)[0] is Verdict.CONFIRMED, verdict.decide(m)
    # ... while a GIL-releasing worker on the same busy host is still refuted: free probe.
    native = dict(figures, gil_probe_contended_share=0.0, shares={**figures["shares"], "waiting_for_gil": 0.0})
    m = _m(threads=7, max_concurrent=7, calls=7, wall_s=0.3, concurrent_wall_s=0.3, thread_s=2.1,
           cpu_s=0.3 * figures["parallelism"], gil_probe_median_ms=0.1, **native)
    assert verdict.decide(m)[0] is Verdict.REFUTED


def test_runtime_only_remedies_follow_the_form_of_the_entry_function():
    from gil_advisor.runtime import advice
    from gil_advisor.runtime.model import CodeSite

    assert advice.target_form("main.<locals>.<lambda>") == "lambda"
    assert advice.target_form("outer.<locals>.inner") == "nested"
    assert advice.target_form("Box.run") == "method"
    assert advice.target_form("crunch") == "function"
    lam = advice.runtime_remedies(CodeSite("/p/a.py", 3, "main.<locals>.<lambda>"))
    assert [r.kind for r in lam] == ["processes", "native", "interpreter"]
    assert "a lambda cannot be pickled" in lam[0].detail
    plain = advice.runtime_remedies(CodeSite("/p/a.py", 3, "crunch"))
    assert "cannot be pickled" not in plain[0].detail


# -- pickling sampled into the projection (issue 12 item 7) ---------------------------------


def _sampled_call(sampler, idx, args, result):
    def worker(a, *rest, key=None):
        sampler.enter(idx, sys._getframe())
        return result

    value = worker(*args)
    sampler.exit(idx, value)


def test_pickling_sampler_times_a_few_calls_and_stops():
    from gil_advisor.runtime import pickling

    s = pickling.PicklingSampler(2)
    big = [f"row {k}" for k in range(5_000)]
    for _ in range(pickling.MAX_CALLS + 2):
        if s.wanted[0]:
            _sampled_call(s, 0, (b"a" * 1000, 2), big)
    assert len(s.samples[0]) == pickling.MAX_CALLS and not s.wanted[0]
    assert s.samples[1] == [] and s.wanted[1]
    s.probes._saved = {"startup_s": 0.02}  # measured once per report; not part of this test
    cost = s.cost(0, calls=10, processes=2)
    assert cost.sampled_calls == pickling.MAX_CALLS and cost.calls == 10
    assert cost.result_bytes > 40_000 and 1000 < cost.args_bytes < 1200
    assert 0 < cost.parent_s_per_call < cost.seconds_per_call
    assert cost.total_s == pytest.approx(cost.seconds_per_call * 10)
    assert cost.startup_s == pytest.approx(0.04)
    assert s.cost(1, calls=0, processes=2) is None


def test_pickling_a_big_result_is_timed_on_a_slice_and_sampled_once():
    import pickle
    import time

    from gil_advisor.runtime import pickling

    big = [f"record {k:08d}: ok" for k in range(400_000)]
    s = pickling.PicklingSampler(1)
    t0 = time.thread_time()
    _sampled_call(s, 0, (1,), big)
    spent = time.thread_time() - t0
    real = len(pickle.dumps(big, pickling.PROTOCOL))
    (sample,) = s.samples[0]
    assert abs(sample.result.nbytes - real) < 0.1 * real  # the slice's size, scaled
    t0 = time.thread_time()
    pickle.loads(pickle.dumps(big, pickling.PROTOCOL))
    full = time.thread_time() - t0
    assert spent < full / 5  # a slice costs the traced thread a small part of the real round trip
    assert not s.wanted[0]  # costly data: one sample is enough


def test_pickling_sampler_stops_after_a_huge_sample(monkeypatch):
    from gil_advisor.runtime import pickling

    monkeypatch.setattr(pickling, "MAX_BYTES", 10_000)
    s = pickling.PicklingSampler(1)
    _sampled_call(s, 0, (1,), b"z" * 20_000)
    assert len(s.samples[0]) == 1 and not s.wanted[0]


def test_unpicklable_result_says_processes_cannot_run_it():
    import threading

    from gil_advisor.runtime import pickling
    from gil_advisor.runtime.projection import project

    s = pickling.PicklingSampler(1)
    _sampled_call(s, 0, (1,), threading.Lock())
    cost = s.cost(0, calls=4, processes=2)
    assert "lock" in cost.error
    p = project(1.0, 2.0, 1.0, Shares(on_cpu=0.5, waiting_for_gil=0.5), 2, 2, 2.0, cost)
    assert p.dominated_by.startswith("processes cannot run it as it is")


def _cost(total_per_call, parent_per_call, calls, result_mb, startup=0.0):
    from gil_advisor.runtime.model import PicklingCost

    return PicklingCost(3, 16.0, result_mb * 1e6, total_per_call, parent_per_call, calls,
                        total_per_call * calls, startup, "model")


def test_projection_includes_pickling_and_says_when_it_dominates():
    from gil_advisor.runtime.projection import project

    gil_bound = Shares(on_cpu=0.5, waiting_for_gil=0.5)
    # Two threads, 1 s inside, GIL-bound: 2x with free pickling, as before.
    plain = project(1.0, 2.0, 1.0, gil_bound, 2, 2, 2.0)
    assert plain.worker == pytest.approx(2.0) and plain.pickling is None and "not measured" in plain.model
    small = project(1.0, 2.0, 1.0, gil_bound, 2, 2, 2.0, _cost(0.001, 0.0005, 10, 0.01))
    assert 1.9 < small.worker <= 2.0 and small.dominated_by is None and "pickling" in small.model
    # 40 MB results: 0.25 s per call to move, 8 calls -> 2 s of pickling against 1 s of compute.
    big = project(1.0, 2.0, 1.0, gil_bound, 2, 2, 2.0, _cost(0.25, 0.1, 8, 40, startup=0.04))
    assert big.worker < 1.0  # a loss, said as one
    assert big.dominated_by.startswith("results are 40 MB per call: processes would spend longer pickling and moving data")
    assert big.to_dict()["estimate"] is True
    # compute 1 s; parent 8 x 0.1 s serial; workers 8 x 0.15 s; on 2 cores all of it takes
    # (1 + 1.2 + 0.8) / 2 = 1.5 s, the longest of the three bounds; + 0.04 s start-up.
    assert big.worker == pytest.approx(1.0 / 1.54)
    # A busy host: the threads ran half the time they were runnable, so with one runnable
    # thread of ours there were 2 / 0.5 - 1 = 3 other runnable tasks; two processes would get
    # 2 x 2 / (2 + 3) = 0.8 CPUs, not two.
    queued = Shares(on_cpu=0.25, waiting_for_cpu=0.25, waiting_for_gil=0.5)
    busy = project(1.0, 2.0, 1.0, queued, 2, 2, 2.0, _cost(0.25, 0.1, 8, 40, startup=0.04), wanted=1.0)
    assert busy.worker == pytest.approx(1.0 / ((1.0 + 2.0) / 0.8 + 0.04))
    assert project(1.0, 2.0, 1.0, queued, 2, 2, 2.0, wanted=1.0).worker == pytest.approx(0.8)
    # I/O-bound threads overlap their waits already: processes change nothing.
    io = project(1.0, 2.0, 0.2, Shares(on_cpu=0.1, io_or_sleep=0.9), 2, 2, 2.0)
    assert io.worker == pytest.approx(1.0)


def test_pool_cpus_share_the_host_with_its_other_tasks():
    from gil_advisor.runtime.projection import pool_cpus

    idle = Shares(on_cpu=0.6, waiting_for_gil=0.4)
    assert pool_cpus(2, 2, idle, 1.0, 0.0) == 2.0
    assert pool_cpus(2, 2, idle, 1.0, 1.0) == pytest.approx(2 * 2 / 3)  # one CPU's worth of others
    # Measured on this host (3.12, crunch on 2 threads, load average 5): on CPU 24%, queued 53%.
    busy = Shares(on_cpu=0.24, waiting_for_cpu=0.53, waiting_for_gil=0.2)
    others = 2 / (0.24 / 0.77) - 1.0
    assert pool_cpus(2, 2, busy, 1.0, 1.5) == pytest.approx(2 * 2 / (2 + others))


def test_every_verdict_has_a_label_a_colour_and_a_place():
    # The HTML colour table used to miss two of the verdict strings.
    ranks = {v.rank for v in Verdict}
    assert len(ranks) == len(Verdict) and all(v.label and v.colour.startswith("#") for v in Verdict)
    assert Verdict.CONFIRMED.shout == "CONFIRMED" and Verdict.NOT_EXERCISED.shout == "not exercised"
    assert json.dumps({"v": Verdict.TOO_SHORT}) == '{"v": "too-short"}'


def test_gil_releasing_threads_on_a_loaded_host_are_refuted():
    # Measured: hash_threads.py on 3.11 while other processes kept 1.9 of 2 CPUs busy; the old
    # rules said "inconclusive" (CPUs wanted 1.56 < 1.6, on CPU + queued 74% < 80%).
    m = _m(parallelism=0.43, parallelism_possible=1.96, cpus_wanted=1.56, gil_probe_contended_share=0.0,
           gil_probe_median_ms=0.09, shares={"on_cpu": 0.157, "waiting_for_cpu": 0.582, "other": 0.26})
    assert verdict.decide(m)[0] is Verdict.REFUTED


def test_pool_cpus_take_the_load_average_as_a_floor_only_when_the_threads_queued():
    from gil_advisor.runtime.projection import pool_cpus

    queued = Shares(on_cpu=0.5, waiting_for_cpu=0.5)  # k = 2 / 0.5 - 1 = 3 from this run
    assert pool_cpus(2, 2, queued, 1.0, None, load=1.0) == pytest.approx(2 * 2 / 5)
    assert pool_cpus(2, 2, queued, 1.0, None, load=6.0) == pytest.approx(2 * 2 / 8)
    idle = Shares(on_cpu=1.0)
    assert pool_cpus(2, 2, idle, 1.0, 0.0, load=6.0) == 2.0  # no queueing seen: the run is the evidence


class _Store:
    """A stand-in for check's cache: get_data/put_data over a dict."""

    def __init__(self):
        self.data = {}

    def get_data(self, key, field):
        entry = self.data.get(key)
        return None if entry is None else entry.get(field)

    def put_data(self, key, field, value):
        self.data[key] = {field: value}


def test_host_probes_are_measured_once_then_reused_from_the_store(monkeypatch):
    from gil_advisor.runtime import host_probes

    runs = []
    monkeypatch.setattr(host_probes, "_measure_startup", lambda: runs.append("start") or 0.012)
    monkeypatch.setattr(host_probes, "_measure_pipe", lambda startup: runs.append("pipe") or 1e-9)
    store = _Store()
    first = host_probes.HostProbes(store)
    assert first.startup_s() == 0.012 and first.startup_s() == 0.012 and runs == ["start"]
    assert first.pipe_s_per_byte() == 1e-9 and runs == ["start", "pipe"]
    second = host_probes.HostProbes(store)  # the next trace of any program on this interpreter
    assert second.startup_s() == 0.012 and second.pipe_s_per_byte() == 1e-9 and runs == ["start", "pipe"]
    assert second.reused == ["startup_s", "pipe_s_per_byte"]
    # a day old, or damaged: measured again
    (entry,) = store.data.values()
    entry[host_probes.FIELD]["measured_at"] -= host_probes.MAX_AGE_S + 1
    assert host_probes.HostProbes(store).startup_s() == 0.012 and runs.count("start") == 2
    for bad in ("x", {"measured_at": "now", "startup_s": 1.0}, {"measured_at": time.time(), "startup_s": float("nan")}):
        (key,) = store.data
        store.data[key] = {host_probes.FIELD: bad}
        assert host_probes.HostProbes(store).startup_s() == 0.012
    assert runs.count("start") == 5
    # without a store (trace --no-static, --findings): measured every run
    assert host_probes.HostProbes().startup_s() == 0.012 and runs.count("start") == 6


def test_loaded_files_compare_real_paths_through_symlinks(tmp_path):
    from gil_advisor.runtime.session import LoadedFiles

    real = tmp_path / "real"
    real.mkdir()
    (real / "work.py").write_text("")
    (real / "other.py").write_text("")
    (tmp_path / "linked").symlink_to(real)  # a symlinked folder: same file name
    (tmp_path / "alias.py").symlink_to(real / "other.py")  # a symlinked file: another name
    loaded = LoadedFiles([str(tmp_path / "linked" / "work.py"), str(tmp_path / "alias.py")])
    assert str(real / "work.py") in loaded
    assert str(real / "other.py") in loaded
    assert str(real / "never.py") not in loaded and str(tmp_path / "work.py") not in loaded
