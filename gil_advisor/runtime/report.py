"""The trace report: built once into a `TraceReport`, then written by the registered writers."""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from typing import Optional

# Every writer is imported here, with the report, before the traced program sets sys.path[0]:
# a json.py or hashlib.py beside the script must never be what the report imports.
from gil_advisor.atomic import write_text_atomic
from gil_advisor.output import render
from gil_advisor.output.helpers import display_path, figure, percentages, size
from gil_advisor.runtime import advice, procfs, verdict
from gil_advisor.runtime.model import (
    CheckedFinding,
    CodeSite,
    ProbeSummary,
    ProcessSummary,
    Shares,
    TargetInfo,
    ThreadSummary,
    ThreadWorker,
    TraceReport,
    Verdict,
)
from gil_advisor.runtime.projection import project
from gil_advisor.runtime.sampler import GIL_CONTENDED_S
from gil_advisor.runtime.timeline import chrome_trace

OTHER_CPUS_MAX_ERROR = 0.25  # CPUs: /proc/stat counts in ticks; a shorter run is too short to tell


def other_processes_cpus(busy_s: float, own_cpu_s: float, wall_s: float, host_cpus: int) -> Optional[float]:
    """CPUs other processes kept busy on average, or None when the run was too short to tell.

    Both counters move in clock ticks (10 ms), once per CPU, so the figure is off by up to
    2 x host CPUs ticks over the wall time; a figure that cannot be true is never printed."""
    if wall_s <= 0:
        return None
    error = 2 * host_cpus / procfs.CLOCK_TICKS / wall_s
    if error > OTHER_CPUS_MAX_ERROR:
        return None
    return min(float(host_cpus), max(0.0, busy_s - own_cpu_s) / wall_s)


def build(session, runner, outcome, static: dict, complete: bool = True) -> TraceReport:
    sampler = session.sampler
    backend = session.backend
    records = sampler.records
    slots = backend.slots()
    host = dict(session.host)
    cores = host.get("usable_cores") or 1
    wall = max(1e-9, session.t1 - session.t0)
    t0, t1 = session.times0, session.times1
    cpu = (t1.user + t1.system) - (t0.user + t0.system) if t0 and t1 else None
    other = None
    if session.jiffies0 and session.jiffies1 and cpu is not None:
        busy = (session.jiffies1[0] - session.jiffies0[0]) / procfs.CLOCK_TICKS
        other = other_processes_cpus(busy, cpu, wall, os.cpu_count() or cores)
    probe = [late for _, late in sampler.probe]
    threads = [_thread_summary(rec, slots, session) for rec in _shown_records(records)]
    load = (host.get("loadavg_at_start") or [None])[0]
    findings = _checked_findings(session, runner, slots, records, cores, wall, other, load)
    # A group whose entry is an instrumented worker is covered by that worker's static finding
    # (its threads' time outside the worker's measured calls, e.g. while pickling was sampled).
    runtime = [
        rf for rf in verdict.runtime_findings(records)
        if not session.targets.covers(rf.entry.path, rf.entry.line, rf.entry.function)
    ]
    for rf in runtime:
        m = rf.measured
        wanted = (m.cpu_s + m.shares.waiting_for_cpu * m.thread_s) / m.wall_s if m.wall_s else 1.0
        rf.remedies = advice.runtime_remedies(rf.entry)
        rf.projected_speedup = project(
            m.wall_s, m.thread_s, m.cpu_s, m.shares, m.max_concurrent, cores, wall,
            wanted=wanted, other=other, load=load,
        )
    proc = ProcessSummary(
        target=TargetInfo(runner.kind, runner.name, list(runner.args), runner.path),
        exit_code=outcome.exit_code,
        ended_by=outcome.how,
        exception=outcome.exception,
        wall_s=wall,
        cpu_s=cpu,
        tracer_cpu_s=sampler.own_cpu_s,
        parallelism=(cpu or 0) / wall,
        usable_cores=cores,
        other_processes_cpus=other,
        gil_probe=ProbeSummary(
            samples=len(probe),
            median_ms=verdict.median_ms(probe),
            p90_ms=verdict.percentile_ms(probe, 0.9),
            p99_ms=verdict.percentile_ms(probe, 0.99),
            contended_share=verdict.contended_share(probe),
            threshold_ms=GIL_CONTENDED_S * 1000,
        ),
        switch_interval_s_at_exit=sys.getswitchinterval(),
        threads_seen=len(threads),
        threads_alive_at_exit=session.alive_at_exit,
        sampler_ticks=sampler.ticks,
        sampler_error=sampler.error,
    )
    return TraceReport(
        host=host,
        backend={
            "name": backend.name,
            "reason": session.reason,
            "exact_worker_entries": backend.exact,
            "interval_s": session.interval,
            "interval_after_first_second_s": session.sampler.later_interval if session.sampler.slowed_at is not None else None,
            "instrumented_workers": len(session.targets),
            "error": session.backend_error,
            "pickling_sample_s": round(session.targets.pickling.overhead_s, 6),
            "host_probes_reused": list(session.targets.pickling.probes.reused),
            **backend.stats(),
        },
        static=static,
        process=proc,
        threads=threads,
        findings=findings,
        runtime_findings=runtime,
        complete=bool(complete and session.sampler_stopped and not sampler.error),
    )


def _shown_records(records):
    for rec in sorted(records.values(), key=lambda r: (not r.is_main, r.first_seen)):
        if rec.total.samples or rec.is_main:
            yield rec


def _thread_summary(rec, slots, session) -> ThreadSummary:
    hot: Counter = Counter()
    for b in list(rec.by_entry.values()) + list(rec.in_target.values()):
        hot.update(b.hot)
    slot = slots.get(rec.tid)
    workers = []
    if slot is not None:
        for idx, n in slot.calls.items():
            t = session.targets.targets[idx]
            workers.append(ThreadWorker(t.worker, n, slot.cpu.get(idx)))
    return ThreadSummary(
        tid=rec.tid,
        name=rec.name,
        python=rec.ident is not None or rec.name is not None,
        main=rec.is_main,
        daemon=rec.daemon,
        lifetime_s=rec.last_seen - rec.first_seen,
        cpu_s=(rec.cpu_last - rec.cpu_first) / 1e9,
        waiting_for_cpu_s=(rec.runq_last - rec.runq_first) / 1e9,
        shares=Shares.of(rec.total.shares()),
        samples=rec.total.samples,
        entry=_main_entry(rec),
        hot_location=_hot(hot),
        workers=workers,
        timeline=rec.timeline.export(),
        timeline_merged=rec.timeline.merged,
    )


def _checked_findings(session, runner, slots, records, cores, wall, other, load) -> list[CheckedFinding]:
    backend = session.backend
    out: list[CheckedFinding] = []
    main_path = os.path.realpath(runner.path or "")
    for target in session.targets.targets:
        m = verdict.worker_measurement(target.index, slots, records, session.sampler.probe, cores, backend.exact)
        pickling = session.targets.pickling.cost(target.index, m.calls, max(1, min(m.max_concurrent, cores)))
        m.projected_speedup = project(
            m.wall_s, m.thread_s, m.cpu_s, m.shares, m.max_concurrent, cores, wall, pickling,
            wanted=m.cpus_wanted, other=other, load=load,
        )
        loaded = target.path in session.loaded_files or target.path == main_path
        for f in target.findings:
            v, reason = verdict.decide(m, f.code)
            if v is Verdict.NOT_EXERCISED and not loaded:
                reason = "the program never imported the file that defines this worker"
            elif v is Verdict.NOT_EXERCISED and not backend.exact:
                v, reason = verdict.unseen(session.sampler.ticks, wall) or (v, reason)
            out.append(CheckedFinding(f, v, reason, m, loaded))
    for f in session.targets.unmapped:
        out.append(CheckedFinding(f, Verdict.NOT_EXERCISED, "the finding names no worker location"))
    out.sort(key=lambda c: c.finding.sort_key())
    return out


def _main_entry(rec) -> Optional[CodeSite]:
    if not rec.by_entry:
        return None
    key, _ = max(rec.by_entry.items(), key=lambda kv: kv[1].dt)
    if key[0] == "":
        return None
    return CodeSite(key[0], key[1], key[2])


def _hot(counter: Counter) -> Optional[CodeSite]:
    if not counter:
        return None
    (path, line, fn), n = counter.most_common(1)[0]
    return CodeSite(path, line, fn, n / sum(counter.values()))


# -- writers (registered in gil_advisor.output) ----------------------------------------------


def render_json(report: TraceReport, **_options) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def render_timeline(report: TraceReport, **_options) -> str:
    return json.dumps(chrome_trace(report)) + "\n"


def render_html(report: TraceReport, **_options) -> str:
    from gil_advisor.runtime import html_report  # imported before the run when --html is given

    return html_report.render_html(report)


def _write(fmt: str, report: TraceReport, path: str) -> None:
    """Render whole, then write atomically (a temporary file in the same directory, then rename)."""
    text = render(report, fmt)
    # A thread or script name that was not valid UTF-8 must not cost the whole file.
    write_text_atomic(path, text.encode("utf-8", "backslashreplace").decode("utf-8"))


def write_json(report: TraceReport, path: str) -> None:
    _write("json", report, path)


def write_html(report: TraceReport, path: str) -> None:
    _write("html", report, path)


def write_timeline(report: TraceReport, path: str) -> None:
    _write("timeline", report, path)


def write_sarif(report: TraceReport, path: str) -> None:
    _write("sarif", report, path)


def gates(report: Optional[TraceReport]) -> bool:
    """True when the run has something for CI to fail on (see `trace --fail-on-findings`)."""
    return report is not None and bool(advice.gating(report.findings, report.runtime_findings))


def _pct(x: Optional[float]) -> str:
    return "?" if x is None else f"{x:.0%}"


def _hot_line(hl: CodeSite) -> str:
    return f"      hottest line: {display_path(hl.path)}:{hl.line} in {hl.function} ({_pct(hl.share)})"


def share_words(shares: Shares) -> str:
    """"on a CPU 40%, waiting for the GIL 55%, ...": whole percentages that add to at most 100."""
    keys = ("on_cpu", "waiting_for_gil", "waiting_for_cpu", "io_or_sleep", "lock_wait")
    words = ("on CPU", "waiting for the GIL", "for a CPU", "I/O/sleep", "locks")
    pcts = percentages([getattr(shares, k) for k in keys])
    return ", ".join(f"{w} {p}%" for w, p in zip(words, pcts))


def render_text(report: TraceReport, show_unreached: bool = False, **_options) -> str:
    p = report.process
    b = report.backend
    h = report.host
    g = p.gil_probe
    lines = []
    tgt = p.target
    name = tgt.name if tgt.kind == "script" else f"-m {tgt.name}"
    lines.append(f"gil-advisor trace: {name} exited with {p.exit_code} ({p.ended_by})")
    lines.append(f"  backend: {b['name']} ({b['reason']})")
    gil = "GIL disabled" if h.get("gil_enabled") is False else "GIL enabled"
    if p.other_processes_cpus is not None:
        other = f", other processes used {p.other_processes_cpus:.2f} CPUs"
    else:
        other = ", other processes' CPU use: run too short to measure"
    lines.append(
        f"  Python {h['python']} ({gil}), switch interval {h['switch_interval_s'] * 1000:g} ms, "
        f"{h['usable_cores']} usable core(s){other}"
    )
    lines.append(
        f"  process: wall {p.wall_s:.2f} s, CPU {p.cpu_s or 0:.2f} s, parallelism {p.parallelism:.2f} "
        f"of {p.usable_cores}; {p.threads_seen} thread(s)"
    )
    if g.samples:
        state = "contended" if verdict.is_contended(g.contended_share) else "mostly free"
        lines.append(
            f"  GIL probe: median delay {g.median_ms:.2f} ms, p90 {g.p90_ms:.2f} ms over {g.samples} "
            f"samples; {_pct(g.contended_share)} of samples over {g.threshold_ms:g} ms -> GIL {state}"
        )
    if report.findings:
        lines.append("")
        lines.append("static findings checked at run time:")
        unreached = [c for c in report.findings if c.unreached]
        for c in sorted(report.findings, key=lambda c: c.rank):
            if c.unreached and not show_unreached:
                continue
            lines.extend(_checked_lines(c))
        if unreached and not show_unreached:
            files = sorted({display_path(c.finding.location.path) for c in unreached})
            lines.append(
                f"  {len(unreached)} finding(s) in {len(files)} file(s) this run never imported: "
                + ", ".join(files[:5]) + (" ..." if len(files) > 5 else "")
            )
    elif report.static.get("source") != "none":
        lines.append("  no static findings to check")
    if report.runtime_findings:
        lines.append("")
        lines.append("GIL-bound threads without a static finding:")
        for rf in report.runtime_findings:
            e = rf.entry
            lines.append(f"  {display_path(e.path)}:{e.line}: {rf.code} {rf.message}")
            for hl in rf.hot_locations[:1]:
                lines.append(_hot_line(hl))
            lines.extend(_projection_lines(rf.projected_speedup))
            if rf.remedies:
                titles = "; ".join(f"{i}. {r.title}" for i, r in enumerate(rf.remedies, 1))
                lines.append(f"      remedies: {titles} (details in --json/--html/--sarif)")
    if not report.complete:
        why = p.sampler_error or "the run was interrupted"
        lines.append(f"  (measurement incomplete: {why})")
    return "\n".join(lines) + "\n"


def _projection_lines(sp) -> list[str]:
    if sp is None:
        return []
    line = f"      estimate with {sp.processes} processes: worker ~{figure(sp.worker)}x"
    if sp.program:
        line += f", program ~{figure(sp.program)}x"
    pk = sp.pickling
    if pk is not None and pk.error is None:
        line += (
            f"; includes pickling, {figure(pk.total_s)} s over {pk.calls} call(s) "
            f"({size(pk.args_bytes + pk.result_bytes)} moved per call; {pk.sampled_calls} call(s) sampled)"
        )
    elif pk is not None:
        line += f"; cannot pickle: {pk.error}"
    else:
        line += "; pickling not measured"
    out = [line]
    if sp.dominated_by:
        out.append(f"      {sp.dominated_by}")
    return out


def _checked_lines(c: CheckedFinding) -> list[str]:
    f, m = c.finding, c.measured
    loc = f.location
    out = [
        f"  {display_path(loc.path)}:{loc.line}:{loc.column}: {f.code} worker {f.worker}: {c.verdict.shout}",
        f"      {c.reason}",
    ]
    if m is None or not m.calls:
        return out
    out.append(
        f"      {m.threads} thread(s) ({m.max_concurrent} at once), {m.calls} call(s); "
        f"inside: wall {m.wall_s:.2f} s, thread time {m.thread_s:.2f} s, CPU {m.cpu_s:.2f} s"
    )
    out.append(f"      thread time: {share_words(m.shares)}")
    out.append(f"      parallelism {m.parallelism:.2f} of {m.parallelism_possible:.2f} possible")
    if c.verdict is Verdict.CONFIRMED:
        out.extend(_projection_lines(m.projected_speedup))
        if m.hot_locations:
            out.append(_hot_line(m.hot_locations[0]))
    return out
