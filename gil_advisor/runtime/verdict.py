"""Turn measurements into verdicts on static findings, and into runtime-only findings.

All thresholds live here. They are deliberately coarse: the measured workloads (anchors.md)
separate by an order of magnitude (probe delay ~15 ms vs ~0.07 ms; off-CPU share ~0.3-0.5 vs ~0),
and the verdicts must hold on a busy host, so run-queue wait (schedstat) counts as "wanted a CPU",
never as GIL wait.
"""
from __future__ import annotations

from typing import Optional

from gil_advisor.runtime.ledger import concurrency, overlap_predicate
from gil_advisor.runtime.sampler import GIL_CONTENDED_S, Bucket

MIN_CONCURRENT_WALL_S = 0.05  # less than this with >=2 threads inside: not concurrent
MIN_CONCURRENT_SHARE = 0.10  # ... or less than this share of the worker's wall time
MIN_SAMPLES = 5  # fewer sampled windows inside the worker: inconclusive
PROBE_CONTENDED_SHARE = 0.30  # share of probe samples over GIL_CONTENDED_S that means "contended"
GIL_SHARE_CONFIRM = 0.10  # share of thread time off CPU waiting for the GIL (W1 measures 0.2-0.5)
PARALLEL_FRACTION = 0.80  # used/wanted CPUs >= this x possible parallelism: it ran in parallel
IO_SHARE_REFUTE = 0.50  # share of thread time in I/O, sleeps or lock waits
RUNTIME_MIN_THREAD_S = 0.2
RUNTIME_GIL_SHARE = 0.10
RUNTIME_WANTS_PYTHON = 0.60  # (on CPU + waiting for a CPU or the GIL) share of a thread's time

SPEEDUP_MODEL = (
    "Amdahl with N = min(threads running the worker at once, usable cores) processes: the threads' "
    "time inside the worker minus their GIL wait, split evenly over N (speedup capped at N); the "
    "rest of the program unchanged; time queued for a CPU stays in (this host's load counts); "
    "ignores process start-up and pickling"
)


def contended_share(values: list[float]) -> Optional[float]:
    """Share of probe delays over GIL_CONTENDED_S: ~0.9 with two CPU-bound threads, ~0 when the
    GIL is free (anchors.md); a share is steadier than the median on short runs."""
    if not values:
        return None
    return round(sum(1 for v in values if v >= GIL_CONTENDED_S) / len(values), 3)


def is_contended(share: Optional[float]) -> bool:
    return share is not None and share >= PROBE_CONTENDED_SHARE


def median_ms(values: list[float]) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    mid = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return round(mid * 1000, 3)


def percentile_ms(values: list[float], q: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return round(s[i] * 1000, 3)


def _r(x: Optional[float], nd: int = 3) -> Optional[float]:
    return None if x is None else round(x, nd)


def worker_measurement(idx, slots, records, probe, cores, exact, process_wall) -> dict:
    """Figures for one worker (target index) from the ledgers, sampled buckets and probe."""
    ivs = [s.intervals[idx] for s in slots.values() if s.intervals.get(idx)]
    threads = sum(1 for s in slots.values() if s.calls.get(idx))
    calls = sum(s.calls.get(idx, 0) for s in slots.values())
    conc = concurrency(ivs)
    bucket = Bucket()
    for rec in records.values():
        b = rec.in_target.get(idx)
        if b is not None:
            bucket.merge(b)
    union = conc["union_wall"]
    thread_s = conc["thread_seconds"]
    if exact:
        cpu = sum(s.cpu.get(idx, 0.0) for s in slots.values())
    else:
        cpu = bucket.cpu
    shares = bucket.shares()
    if exact and thread_s > 0:
        shares["on_cpu"] = min(1.0, cpu / thread_s)
    count_at = overlap_predicate(ivs)
    probe_conc = [late for t, late in probe if count_at(t) >= 2]
    probe_inside = [late for t, late in probe if count_at(t) >= 1]
    mean_conc = thread_s / union if union > 0 else 0.0
    possible = min(mean_conc, cores) if union > 0 else 0.0
    parallelism = cpu / union if union > 0 else 0.0
    runq_s = shares["waiting_for_cpu"] * thread_s
    wanted = (cpu + runq_s) / union if union > 0 else 0.0
    total_hot = max(1, sum(bucket.hot.values()))
    hot = [
        {"path": k[0], "line": k[1], "function": k[2], "share": round(n / total_hot, 3)}
        for k, n in bucket.hot.most_common(3)
    ]
    n_proc = max(1, min(conc["peak"], cores))
    speedup = None
    if union > 0 and thread_s > 0:
        # With processes the GIL wait disappears; the rest of the threads' time is spread over N.
        gil_s = shares["waiting_for_gil"] * thread_s
        projected = max(thread_s - gil_s, cpu) / n_proc
        worker_speedup = min(float(n_proc), max(1.0, union / projected)) if projected > 0 else 1.0
        program = None
        if process_wall and process_wall > union:
            program = process_wall / (process_wall - union + union / worker_speedup)
        speedup = {
            "processes": n_proc,
            "worker": _r(worker_speedup, 2),
            "program": _r(program, 2),
            "model": SPEEDUP_MODEL,
        }
    return {
        "threads": threads,
        "max_concurrent": conc["peak"],
        "calls": calls,
        "wall_s": _r(union),
        "concurrent_wall_s": _r(conc["concurrent_wall"]),
        "thread_s": _r(thread_s),
        "cpu_s": _r(cpu),
        "shares": {k: _r(v) for k, v in shares.items()},
        "parallelism": _r(parallelism, 2),
        "parallelism_possible": _r(possible, 2),
        "cpus_wanted": _r(wanted, 2),
        "gil_probe_median_ms": median_ms(probe_conc),
        "gil_probe_samples": len(probe_conc),
        "gil_probe_contended_share": contended_share(probe_conc),
        "gil_probe_inside_median_ms": median_ms(probe_inside),
        "gil_probe_inside_contended_share": contended_share(probe_inside),
        "samples": bucket.samples,
        "hot_locations": hot,
        "projected_speedup": speedup,
    }


# Rules whose claim is about one thread hogging the GIL (a spinning thread; CPU work offloaded
# next to an event loop), not about several threads of the same worker serializing.
SINGLE_THREAD_CODES = {"GIL003", "GIL004"}


def decide(m: dict, code: Optional[str] = None) -> tuple[str, str]:
    """(verdict, reason) from one worker's measurement."""
    if not m["calls"]:
        return "not-exercised", "no thread ran this worker during the run"
    wall = m["wall_s"] or 0.0
    cw = m["concurrent_wall_s"] or 0.0
    concurrent = m["max_concurrent"] >= 2 and cw >= max(MIN_CONCURRENT_WALL_S, MIN_CONCURRENT_SHARE * wall)
    if not concurrent and code in SINGLE_THREAD_CODES:
        return _decide_single(m)
    if not concurrent:
        return (
            "not-concurrent",
            f"ran on {m['threads']} thread(s) but never on two at once for long "
            f"({cw:.3f} s of {wall:.3f} s); nothing for the GIL to serialize",
        )
    if m["samples"] < MIN_SAMPLES:
        return "inconclusive", f"only {m['samples']} samples inside the worker; run it longer"
    sh = m["shares"]
    possible = m["parallelism_possible"] or 0.0
    wanted = m["cpus_wanted"] or 0.0
    probe = m["gil_probe_median_ms"]
    gil = sh["waiting_for_gil"] or 0.0
    waits = (sh["io_or_sleep"] or 0.0) + (sh["lock_wait"] or 0.0)
    parallel = possible >= 1.5 and wanted >= PARALLEL_FRACTION * possible
    contended = is_contended(m.get("gil_probe_contended_share"))
    # GIL evidence first: on a busy host GIL-bound threads also queue for CPUs, which can look
    # like "wanted two CPUs"; what they never do is *run* in parallel.
    ran_parallel = (m["parallelism"] or 0.0) >= PARALLEL_FRACTION * possible
    if gil >= GIL_SHARE_CONFIRM and contended and waits < IO_SHARE_REFUTE and not ran_parallel:
        return (
            "confirmed",
            f"{m['max_concurrent']} threads ran it at once but spent {gil:.0%} of their time waiting for "
            f"the GIL (probe delay {probe:.1f} ms); they used {m['parallelism']:.2f} of {possible:.2f} "
            "possible CPUs",
        )
    if parallel:
        return (
            "refuted",
            f"it ran in parallel: {m['parallelism']:.2f} CPUs busy, {wanted:.2f} counting run-queue wait, of "
            f"{possible:.2f} possible, so the work releases the GIL (native code or I/O)",
        )
    if waits >= IO_SHARE_REFUTE:
        return (
            "refuted",
            f"its threads spent {waits:.0%} of their time blocked in I/O, sleeps or lock waits, "
            "with the GIL released",
        )
    if (sh["on_cpu"] or 0) + (sh["waiting_for_cpu"] or 0) >= 0.8 and gil < 0.1:
        return (
            "refuted",
            "its threads were on a CPU (or queued for one by the host) almost all the time: "
            "the GIL did not hold them back",
        )
    return (
        "inconclusive",
        f"GIL wait {gil:.0%}, probe delay {probe if probe is not None else float('nan'):.1f} ms, "
        f"{m['parallelism']:.2f} of {possible:.2f} CPUs: no clear signal",
    )


def _decide_single(m: dict) -> tuple[str, str]:
    """A worker on one thread: did it hold the GIL (CPU-bound Python) while other threads ran?

    On CPU most of the time + the probe waits ~a switch interval => it held the GIL; on CPU with
    a free GIL => native code that releases it; mostly blocked => it waits properly."""
    if m["samples"] < MIN_SAMPLES:
        return "inconclusive", f"only {m['samples']} samples inside the worker; run it longer"
    sh = m["shares"]
    # Run-queue time counts: a spinner starved by a busy host is still a spinner.
    busy = (sh["on_cpu"] or 0) + (sh["waiting_for_gil"] or 0) + (sh["waiting_for_cpu"] or 0)
    waits = (sh["io_or_sleep"] or 0) + (sh["lock_wait"] or 0)
    probe = m.get("gil_probe_inside_median_ms")
    share = m.get("gil_probe_inside_contended_share")
    contended = is_contended(share)
    if waits >= IO_SHARE_REFUTE:
        return "refuted", f"the thread spent {waits:.0%} of its time blocked with the GIL released"
    if busy >= RUNTIME_WANTS_PYTHON and contended:
        return (
            "confirmed",
            f"the thread ran (or wanted to run) {busy:.0%} of its time and the GIL probe waited over "
            f"{GIL_CONTENDED_S * 1000:g} ms in {share:.0%} of samples meanwhile: it held the GIL",
        )
    if busy >= RUNTIME_WANTS_PYTHON and share is not None:
        return "refuted", f"the thread was busy but the GIL stayed free (probe median {probe} ms): native"
    return "inconclusive", "no clear signal"


def runtime_findings(records) -> list[dict]:
    """Thread groups (by entry function) that were GIL-bound with no static finding covering them."""
    groups: dict[tuple, list] = {}
    for rec in records.values():
        for key, b in rec.by_entry.items():
            if key[0] == "":
                continue
            g = groups.setdefault(key, [Bucket(), set()])
            g[0].merge(b)
            if b.dt > 0.02:
                g[1].add(rec.tid)
    out = []
    for key, (b, tids) in groups.items():
        if b.dt < RUNTIME_MIN_THREAD_S:
            continue
        sh = b.shares()
        wants = sh["on_cpu"] + sh["waiting_for_gil"] + sh["waiting_for_cpu"]
        probe = median_ms(b.probe)
        if (
            sh["waiting_for_gil"] >= RUNTIME_GIL_SHARE
            and wants >= RUNTIME_WANTS_PYTHON
            and is_contended(contended_share(b.probe))
        ):
            total = max(1, sum(b.hot.values()))
            hot = [
                {"path": k[0], "line": k[1], "function": k[2], "share": round(n / total, 3)}
                for k, n in b.hot.most_common(3)
            ]
            out.append(
                {
                    "entry": {"path": key[0], "line": key[1], "function": key[2]},
                    "threads": len(tids),
                    "message": (
                        f"{key[2]} was GIL-bound on {len(tids)} thread(s): {sh['waiting_for_gil']:.0%} of "
                        f"its time waiting for the GIL (probe delay {probe:.1f} ms)"
                    ),
                    "hot_locations": hot,
                    "measured": {
                        "thread_s": _r(b.dt),
                        "cpu_s": _r(b.cpu),
                        "shares": {k: _r(v) for k, v in sh.items()},
                        "gil_probe_median_ms": probe,
                        "samples": b.samples,
                    },
                }
            )
    out.sort(key=lambda f: -f["measured"]["thread_s"])
    return out
