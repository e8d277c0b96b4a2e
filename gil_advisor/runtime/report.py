"""The trace report: one dict (the --json schema), a terminal summary, an atomic writer."""
from __future__ import annotations

import os
from collections import Counter
from typing import Optional

from gil_advisor.runtime import procfs, verdict
from gil_advisor.runtime.sampler import GIL_CONTENDED_S

SCHEMA_VERSION = 1


def _r(x, nd=3):
    return None if x is None else round(x, nd)


def build(session, runner, outcome, static: dict, complete: bool = True) -> dict:
    sampler = session.sampler
    backend = session.backend
    records = sampler.records
    slots = backend.slots()
    host = dict(session.host)
    cores = host.get("usable_cores") or 1
    wall = max(1e-9, session.t1 - session.t0)
    t0, t1 = session.times0, session.times1
    cpu = (t1.user + t1.system) - (t0.user + t0.system) if t0 and t1 else None
    tracer_cpu = sampler.own_cpu_s
    other = None
    if session.jiffies0 and session.jiffies1 and cpu is not None:
        busy = (session.jiffies1[0] - session.jiffies0[0]) / procfs.CLOCK_TICKS
        other = max(0.0, busy - cpu) / wall
    probe = [late for _, late in sampler.probe]
    threads = []
    for rec in sorted(records.values(), key=lambda r: (not r.is_main, r.first_seen)):
        if rec.total.samples == 0 and not rec.is_main:
            continue
        entry = _main_entry(rec)
        hot = Counter()
        for b in list(rec.by_entry.values()) + list(rec.in_target.values()):
            hot.update(b.hot)
        slot = slots.get(rec.tid)
        workers = []
        if slot is not None:
            for idx, n in slot.calls.items():
                t = session.targets.targets[idx]
                workers.append({"worker": t.worker, "calls": n, "cpu_s": _r(slot.cpu.get(idx))})
        threads.append(
            {
                "tid": rec.tid,
                "name": rec.name,
                "python": rec.ident is not None or rec.name is not None,
                "main": rec.is_main,
                "daemon": rec.daemon,
                "lifetime_s": _r(rec.last_seen - rec.first_seen),
                "cpu_s": _r((rec.cpu_last - rec.cpu_first) / 1e9),
                "waiting_for_cpu_s": _r((rec.runq_last - rec.runq_first) / 1e9),
                "shares": {k: _r(v) for k, v in rec.total.shares().items()},
                "samples": rec.total.samples,
                "entry": entry,
                "hot_location": _hot(hot),
                "workers": workers,
                "timeline": rec.timeline.export(),
                "timeline_merged": rec.timeline.merged,
            }
        )
    findings = []
    for target in session.targets.targets:
        m = verdict.worker_measurement(
            target.index, slots, records, sampler.probe, cores, backend.exact, wall
        )
        loaded = target.path in session.loaded_files or target.path == os.path.realpath(runner.path or "")
        m["file_loaded"] = loaded
        for f in target.findings:
            v, reason = verdict.decide(m, f.code)
            mf = dict(m, reason=reason)
            if v == "not-exercised" and not loaded:
                mf["reason"] = "the program never imported the file that defines this worker"
            findings.append({**f.to_dict(), "verdict": v, "measured": mf})
    for f in session.targets.unmapped:
        findings.append(
            {
                **f.to_dict(),
                "verdict": "not-exercised",
                "measured": {"reason": "the finding names no worker location"},
            }
        )
    findings.sort(key=lambda d: (d["path"], d["line"], d["column"], d["code"]))
    runtime = verdict.runtime_findings(records)
    proc = {
        "target": {"kind": runner.kind, "name": runner.name, "argv": list(runner.args), "path": runner.path},
        "exit_code": outcome.exit_code,
        "ended_by": outcome.how,
        "exception": outcome.exception,
        "wall_s": _r(wall),
        "cpu_s": _r(cpu),
        "tracer_cpu_s": _r(tracer_cpu),
        "parallelism": _r((cpu or 0) / wall, 2),
        "usable_cores": cores,
        "other_processes_cpus": _r(other, 2),
        "gil_probe": {
            "samples": len(probe),
            "median_ms": verdict.median_ms(probe),
            "p90_ms": verdict.percentile_ms(probe, 0.9),
            "p99_ms": verdict.percentile_ms(probe, 0.99),
            "contended_share": verdict.contended_share(probe),
            "threshold_ms": GIL_CONTENDED_S * 1000,
        },
        "switch_interval_s_at_exit": __import__("sys").getswitchinterval(),
        "threads_seen": len(threads),
        "threads_alive_at_exit": session.alive_at_exit,
        "sampler_ticks": sampler.ticks,
        "sampler_error": sampler.error,
    }
    return {
        "version": SCHEMA_VERSION,
        "host": host,
        "backend": {
            "name": backend.name,
            "reason": session.reason,
            "exact_worker_entries": backend.exact,
            "interval_s": session.interval,
            "instrumented_workers": len(session.targets),
            "error": session.backend_error,
            **backend.stats(),
        },
        "static": static,
        "process": proc,
        "threads": threads,
        "findings": findings,
        "runtime_findings": runtime,
        "complete": bool(complete and session.sampler_stopped and not sampler.error),
    }


def _main_entry(rec) -> Optional[dict]:
    if not rec.by_entry:
        return None
    key, _ = max(rec.by_entry.items(), key=lambda kv: kv[1].dt)
    if key[0] == "":
        return None
    return {"path": key[0], "line": key[1], "function": key[2]}


def _hot(counter: Counter) -> Optional[dict]:
    if not counter:
        return None
    (path, line, fn), n = counter.most_common(1)[0]
    return {"path": path, "line": line, "function": fn, "share": round(n / sum(counter.values()), 3)}


def write_json(report: dict, path: str) -> None:
    """Write atomically: a temporary file in the same directory, then os.replace."""
    import json

    from gil_advisor.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(report, indent=2) + "\n")


def write_html(report: dict, path: str) -> None:
    from gil_advisor.atomic import write_text_atomic
    from gil_advisor.runtime.html_report import render_html

    write_text_atomic(path, render_html(report))


def write_timeline(report: dict, path: str) -> None:
    import json

    from gil_advisor.atomic import write_text_atomic
    from gil_advisor.runtime.timeline import chrome_trace

    write_text_atomic(path, json.dumps(chrome_trace(report)) + "\n")


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


def _pct(x) -> str:
    return "?" if x is None else f"{x:.0%}"


def _hot_line(hl: dict) -> str:
    return f"      hottest line: {_rel(hl['path'])}:{hl['line']} in {hl['function']} ({_pct(hl['share'])})"


VERDICT_LABEL = {
    "confirmed": "CONFIRMED",
    "refuted": "refuted",
    "not-exercised": "not exercised",
    "not-concurrent": "not concurrent",
    "inconclusive": "inconclusive",
}


def render_text(report: dict) -> str:
    p = report["process"]
    b = report["backend"]
    h = report["host"]
    g = p["gil_probe"]
    lines = []
    tgt = p["target"]
    name = tgt["name"] if tgt["kind"] == "script" else f"-m {tgt['name']}"
    lines.append(f"gil-advisor trace: {name} exited with {p['exit_code']} ({p['ended_by']})")
    lines.append(f"  backend: {b['name']} ({b['reason']})")
    gil = "GIL disabled" if h.get("gil_enabled") is False else "GIL enabled"
    lines.append(
        f"  Python {h['python']} ({gil}), switch interval {h['switch_interval_s'] * 1000:g} ms, "
        f"{h['usable_cores']} usable core(s)"
        + (
            f", other processes used {p['other_processes_cpus']:.2f} CPUs"
            if p["other_processes_cpus"] is not None
            else ""
        )
    )
    lines.append(
        f"  process: wall {p['wall_s']:.2f} s, CPU {p['cpu_s'] or 0:.2f} s, "
        f"parallelism {p['parallelism']:.2f} "
        f"of {p['usable_cores']}; {p['threads_seen']} thread(s)"
    )
    if g["samples"]:
        state = "contended" if verdict.is_contended(g["contended_share"]) else "mostly free"
        lines.append(
            f"  GIL probe: median delay {g['median_ms']:.2f} ms, p90 {g['p90_ms']:.2f} ms "
            f"over {g['samples']} "
            f"samples; {_pct(g['contended_share'])} of samples over {g['threshold_ms']:g} ms -> GIL {state}"
        )
    if report["findings"]:
        lines.append("")
        lines.append("static findings checked at run time:")
        unloaded = [
            f
            for f in report["findings"]
            if f["verdict"] == "not-exercised" and not f["measured"].get("file_loaded", True)
        ]
        for f in report["findings"]:
            m = f["measured"]
            if f in unloaded:
                continue
            lines.append(
                f"  {_rel(f['path'])}:{f['line']}:{f['column']}: {f['code']} worker {f['worker']}: "
                f"{VERDICT_LABEL.get(f['verdict'], f['verdict'])}"
            )
            lines.append(f"      {m.get('reason', '')}")
            if m.get("calls"):
                sh = m["shares"]
                lines.append(
                    f"      {m['threads']} thread(s) ({m['max_concurrent']} at once), {m['calls']} call(s); "
                    f"inside: wall {m['wall_s']:.2f} s, thread time {m['thread_s']:.2f} s, "
                    f"CPU {m['cpu_s']:.2f} s"
                )
                lines.append(
                    f"      thread time: on CPU {_pct(sh['on_cpu'])}, "
                    f"waiting for the GIL {_pct(sh['waiting_for_gil'])}, "
                    f"for a CPU {_pct(sh['waiting_for_cpu'])}, I/O/sleep {_pct(sh['io_or_sleep'])}, "
                    f"locks {_pct(sh['lock_wait'])}"
                )
                sp = m.get("projected_speedup")
                line = f"      parallelism {m['parallelism']:.2f} of {m['parallelism_possible']:.2f} possible"
                if sp and f["verdict"] == "confirmed":
                    line += f"; with {sp['processes']} processes: worker ~{sp['worker']:.1f}x faster"
                    if sp["program"]:
                        line += f", program ~{sp['program']:.1f}x"
                lines.append(line)
                if m.get("hot_locations") and f["verdict"] == "confirmed":
                    hl = m["hot_locations"][0]
                    lines.append(_hot_line(hl))
        if unloaded:
            files = sorted({_rel(f["path"]) for f in unloaded})
            lines.append(
                f"  {len(unloaded)} finding(s) in {len(files)} file(s) this run never imported: "
                + ", ".join(files[:5]) + (" ..." if len(files) > 5 else "")
            )
    elif report["static"].get("source") != "none":
        lines.append("  no static findings to check")
    if report["runtime_findings"]:
        lines.append("")
        lines.append("GIL-bound threads without a static finding:")
        for rf in report["runtime_findings"]:
            e = rf["entry"]
            lines.append(f"  {_rel(e['path'])}:{e['line']}: {rf['message']}")
            for hl in rf["hot_locations"][:1]:
                lines.append(_hot_line(hl))
    if not report["complete"]:
        why = p.get("sampler_error") or "the run was interrupted"
        lines.append(f"  (measurement incomplete: {why})")
    return "\n".join(lines) + "\n"
