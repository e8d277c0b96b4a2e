"""Small, real `TraceReport` values for tests of the writers (no traced run needed)."""
from __future__ import annotations

from gil_advisor.finding import Evidence, Finding, Location, Remedy
from gil_advisor.runtime.model import (
    CheckedFinding,
    CodeSite,
    ProbeSummary,
    ProcessSummary,
    Projection,
    RuntimeFinding,
    RuntimeMeasurement,
    Shares,
    TargetInfo,
    ThreadSummary,
    TraceReport,
    Verdict,
    WorkerMeasurement,
)

SHARES = Shares(on_cpu=0.45, waiting_for_cpu=0.1, waiting_for_gil=0.4, other=0.05)


def finding(path="/p/app.py", worker="app.crunch", message="crunch runs on 2 threads", line=10, evidence=""):
    return Finding(
        "GIL001", Location(path, line, 5), message, worker, Location(path, 3, 1), "high",
        "threading.Thread", "2", [Evidence("loop", evidence or "for loop", Location(path, 4, 5))],
        [Remedy("processes", "Use processes", "ProcessPoolExecutor")],
    )


def measurement(**kw) -> WorkerMeasurement:
    base = dict(
        threads=2, max_concurrent=2, calls=2, wall_s=1.0, concurrent_wall_s=1.0, thread_s=2.0, cpu_s=1.0,
        shares=SHARES, parallelism=1.0, parallelism_possible=2.0, cpus_wanted=1.2, gil_probe_median_ms=9.0,
        gil_probe_samples=50, gil_probe_contended_share=0.9, samples=80,
        hot_locations=[CodeSite("/p/app.py", 5, "crunch", 0.9)],
        projected_speedup=Projection(2, 1.8, 1.7, "Amdahl"),
    )
    base.update(kw)
    return WorkerMeasurement(**base)


def thread(tid=101, name="Thread-1", main=False, timeline=None) -> ThreadSummary:
    return ThreadSummary(
        tid=tid, name=name, python=True, main=main, daemon=False, lifetime_s=1.0, cpu_s=0.5,
        waiting_for_cpu_s=0.1, shares=SHARES, samples=50, entry=None, hot_location=None,
        timeline=timeline if timeline is not None else [[0.0, 0.5, "run"], [0.5, 1.0, "gil"]],
    )


def report(findings=None, runtime=None, threads=None, target="app.py", wall=1.0) -> TraceReport:
    proc = ProcessSummary(
        target=TargetInfo("script", target, [], "/p/" + target), exit_code=0, ended_by="returned",
        exception=None, wall_s=wall, cpu_s=1.0, tracer_cpu_s=0.01, parallelism=1.0, usable_cores=2,
        other_processes_cpus=0.1, gil_probe=ProbeSummary(100, 5.0, 9.0, 12.0, 0.8, 1.0),
        switch_interval_s_at_exit=0.005, threads_seen=2, threads_alive_at_exit=[], sampler_ticks=100,
        sampler_error=None,
    )
    if findings is None:
        findings = [CheckedFinding(finding(), Verdict.CONFIRMED, "GIL-bound", measurement())]
    if runtime is None:
        runtime = []
    return TraceReport(
        host={"python": "3.11.7", "usable_cores": 2, "switch_interval_s": 0.005, "gil_enabled": True},
        backend={"name": "sampler", "reason": "test"},
        static={"source": "file"},
        process=proc,
        threads=threads if threads is not None else [thread(100, "MainThread", True), thread()],
        findings=findings,
        runtime_findings=runtime,
        complete=True,
    )


def runtime_finding(function="loop", path="/p/app.py") -> RuntimeFinding:
    return RuntimeFinding(
        entry=CodeSite(path, 20, function), threads=3, message=f"{function} was GIL-bound on 3 thread(s)",
        hot_locations=[CodeSite(path, 22, function, 0.8)],
        measured=RuntimeMeasurement(1.5, 0.6, SHARES, 8.0, 40),
    )
