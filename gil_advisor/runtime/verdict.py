"""Turn measurements into verdicts on static findings, and into runtime-only findings.

All thresholds live here. They are deliberately coarse: the measured workloads (anchors.md)
separate by an order of magnitude (probe delay ~15 ms vs ~0.07 ms; off-CPU share ~0.3-0.5 vs ~0),
and the verdicts must hold on a busy host, so run-queue wait (schedstat) counts as "wanted a CPU",
never as GIL wait.
"""
from __future__ import annotations

from typing import Optional

from gil_advisor.runtime.ledger import concurrency, overlap_predicate
from gil_advisor.runtime.model import (
    CodeSite,
    RuntimeFinding,
    RuntimeMeasurement,
    Shares,
    Verdict,
    WorkerMeasurement,
)
from gil_advisor.runtime.sampler import GIL_CONTENDED_S, Bucket

MIN_CONCURRENT_WALL_S = 0.05  # less than this with >=2 threads inside: not concurrent
MIN_CONCURRENT_SHARE = 0.10  # ... or less than this share of the worker's wall time
MIN_SAMPLES = 5  # fewer sampled windows inside the worker: too short to measure
MIN_WALL_S = 0.05  # less wall time inside the worker than this: too short to measure
MIN_RUN_SAMPLES = 20  # a sampled run with fewer samples cannot show that a worker never ran
PROBE_CONTENDED_SHARE = 0.30  # share of probe samples over GIL_CONTENDED_S that means "contended"
PROBE_FREE_SHARE = 0.10  # ... and below this the GIL was free (anchors.md: ~0 when it is)
GIL_SHARE_CONFIRM = 0.10  # share of thread time off CPU waiting for the GIL (W1 measures 0.2-0.5)
GIL_SHARE_FREE = 0.05  # below this (or an uncontended probe) the GIL did not hold the threads back
PARALLEL_FRACTION = 0.80  # used/wanted CPUs >= this x possible parallelism: it ran in parallel
IO_SHARE_REFUTE = 0.50  # share of thread time in I/O, sleeps or lock waits
BUSY_HOST_WAIT = 0.50  # GIL + run-queue share that, with a contended probe, is GIL wait on a busy host
RUNTIME_MIN_THREAD_S = 0.2
RUNTIME_GIL_SHARE = 0.10
# The threads' own GIL wait (asleep on the GIL's futex with Python on the stack) at this share
# confirms when the probe is in between, neither contended nor free. A probe on a fixed period
# read 11-20% there on an idle 3.12 host, phase-locked to the switch interval; its sleeps are
# jittered now (sampler.JITTER), and this stays as the second line of evidence.
STRONG_GIL_WAIT = 0.30


def gil_evidence(gil_wait: float, probe_share: Optional[float]) -> bool:
    """Is the GIL what held the threads back: a contended probe, or a large own GIL wait behind
    a probe that is not free (a free probe means the "GIL wait" was a lock in user code)?"""
    if is_contended(probe_share):
        return True
    return gil_wait >= STRONG_GIL_WAIT and probe_share is not None and probe_share >= PROBE_FREE_SHARE
RUNTIME_WANTS_PYTHON = 0.60  # (on CPU + waiting for a CPU or the GIL) share of a thread's time


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


def hot_sites(bucket: Bucket, n: int = 3) -> list[CodeSite]:
    total = max(1, sum(bucket.hot.values()))
    return [CodeSite(k[0], k[1], k[2], n_ / total) for k, n_ in bucket.hot.most_common(n)]


def worker_measurement(idx, slots, records, probe, cores, exact) -> WorkerMeasurement:
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
    shares = Shares.of(bucket.shares())
    if exact:
        cpu = sum(s.cpu.get(idx, 0.0) for s in slots.values())
        if thread_s > 0:
            # The hooks' CPU is exact; the sampled split of the rest must fit beside it.
            shares = shares.with_exact_cpu(cpu / thread_s)
    else:
        cpu = bucket.cpu
    count_at = overlap_predicate(ivs)
    probe_conc = [late for t, late in probe if count_at(t) >= 2]
    probe_inside = [late for t, late in probe if count_at(t) >= 1]
    mean_conc = thread_s / union if union > 0 else 0.0
    possible = min(mean_conc, cores) if union > 0 else 0.0
    parallelism = cpu / union if union > 0 else 0.0
    runq_s = shares.waiting_for_cpu * thread_s
    wanted = (cpu + runq_s) / union if union > 0 else 0.0
    return WorkerMeasurement(
        threads=threads,
        max_concurrent=conc["peak"],
        calls=calls,
        wall_s=union,
        concurrent_wall_s=conc["concurrent_wall"],
        thread_s=thread_s,
        cpu_s=cpu,
        shares=shares,
        parallelism=parallelism,
        parallelism_possible=possible,
        cpus_wanted=wanted,
        gil_probe_median_ms=median_ms(probe_conc),
        gil_probe_samples=len(probe_conc),
        gil_probe_contended_share=contended_share(probe_conc),
        gil_probe_inside_median_ms=median_ms(probe_inside),
        gil_probe_inside_contended_share=contended_share(probe_inside),
        samples=bucket.samples,
        hot_locations=hot_sites(bucket),
    )


# Rules whose claim is about one thread hogging the GIL (a spinning thread; CPU work offloaded
# next to an event loop), not about several threads of the same worker serializing.
SINGLE_THREAD_CODES = {"GIL003", "GIL004"}


def _too_short(m: WorkerMeasurement) -> Optional[str]:
    if m.samples < MIN_SAMPLES or m.wall_s < MIN_WALL_S:
        return (
            f"{m.threads} thread(s) ran it for {m.wall_s:.2f} s ({m.samples} sample(s) inside): too short to "
            "measure; run it longer"
        )
    return None


def unseen(run_samples: int, wall_s: float) -> Optional[tuple[Verdict, str]]:
    """The sampler backend saw no call: on a short run that proves nothing."""
    if run_samples >= MIN_RUN_SAMPLES:
        return None
    return (
        Verdict.TOO_SHORT,
        f"no sample caught a thread inside it, but the run took {run_samples} sample(s) in {wall_s:.2f} s: "
        "too short to measure; run it longer, or use --backend profile",
    )


def decide(m: WorkerMeasurement, code: Optional[str] = None) -> tuple[Verdict, str]:
    """(verdict, reason) from one worker's measurement."""
    if not m.calls:
        return Verdict.NOT_EXERCISED, "no thread ran this worker during the run"
    wall = m.wall_s
    cw = m.concurrent_wall_s
    short = _too_short(m)
    concurrent = m.max_concurrent >= 2 and cw >= max(MIN_CONCURRENT_WALL_S, MIN_CONCURRENT_SHARE * wall)
    if short and (concurrent or m.max_concurrent >= 2 or code in SINGLE_THREAD_CODES):
        return Verdict.TOO_SHORT, short
    if not concurrent and code in SINGLE_THREAD_CODES:
        return _decide_single(m)
    if not concurrent:
        return (
            Verdict.NOT_CONCURRENT,
            f"ran on {m.threads} thread(s) but never on two at once for long "
            f"({cw:.2f} s of {wall:.2f} s); nothing for the GIL to serialize",
        )
    if short:
        return Verdict.TOO_SHORT, short
    sh = m.shares
    possible = m.parallelism_possible
    wanted = m.cpus_wanted
    probe = m.gil_probe_median_ms
    gil = sh.waiting_for_gil
    waits = sh.io_or_sleep + sh.lock_wait
    contended = is_contended(m.gil_probe_contended_share)
    # GIL evidence first: on a busy host GIL-bound threads also queue for CPUs, which can look
    # like "wanted two CPUs"; what they never do is *run* in parallel.
    ran_parallel = m.parallelism >= PARALLEL_FRACTION * possible
    if gil >= GIL_SHARE_CONFIRM and gil_evidence(gil, m.gil_probe_contended_share) and waits < IO_SHARE_REFUTE and not ran_parallel:
        return (
            Verdict.CONFIRMED,
            f"{m.max_concurrent} threads ran it at once but spent {gil:.0%} of their time waiting for "
            f"the GIL (probe delay {probe or 0:.1f} ms); they used {m.parallelism:.2f} of {possible:.2f} "
            "possible CPUs",
        )
    # A saturated host: GIL waiters wake every switch interval and then queue for a CPU, so most
    # of their GIL wait shows as run-queue wait (3.12, 7 threads for 0.3 s, host 1.9 of 2 CPUs
    # busy: GIL 3%, run queue 67%, 0.13 CPUs used, probe contended in 80% of samples). The probe
    # subtracts its own run-queue wait, so a contended probe is still the GIL being held.
    if (
        contended and waits < IO_SHARE_REFUTE and not ran_parallel
        and m.parallelism < 0.5 * possible and gil + sh.waiting_for_cpu >= BUSY_HOST_WAIT
    ):
        return (
            Verdict.CONFIRMED,
            f"{m.max_concurrent} threads ran it at once while the GIL probe was contended "
            f"({m.gil_probe_contended_share:.0%} of delays over {GIL_CONTENDED_S * 1000:g} ms), and they used only "
            f"{m.parallelism:.2f} of {possible:.2f} possible CPUs; the host was busy, so much of their GIL "
            f"wait shows as waiting for a CPU ({sh.waiting_for_cpu:.0%})",
        )
    # Refuting needs the GIL to have been free. A probe between "free" (~0) and "contended", or
    # some GIL wait behind a contended probe, is what short runs of GIL-bound threads give
    # (few samples): weak evidence for the finding, never a sign of parallel work.
    share = m.gil_probe_contended_share
    gil_free = share is None or share < PROBE_FREE_SHARE or (gil < GIL_SHARE_FREE and not contended)
    parallel = possible >= 1.5 and wanted >= PARALLEL_FRACTION * possible
    if parallel and (gil_free or ran_parallel):
        return (
            Verdict.REFUTED,
            f"it ran in parallel: {m.parallelism:.2f} CPUs busy, {wanted:.2f} counting run-queue wait, of "
            f"{possible:.2f} possible, so the work releases the GIL (native code or I/O)",
        )
    if waits >= IO_SHARE_REFUTE:
        return (
            Verdict.REFUTED,
            f"its threads spent {waits:.0%} of their time blocked in I/O, sleeps or lock waits, "
            "with the GIL released",
        )
    busy = sh.on_cpu + sh.waiting_for_cpu
    probe_free = share is not None and share < PROBE_FREE_SHARE and gil < GIL_SHARE_FREE
    # With a free GIL by the probe, "mostly on a CPU or queued" is enough: on a loaded host part
    # of the threads' time is off CPU unclassified (hashlib on 2 threads, host 1.9 CPUs busy:
    # on CPU 16%, queued 58%, other 26%, GIL 0%, probe never over 1 ms).
    if (busy >= 0.8 and gil < 0.1 and gil_free) or (busy >= RUNTIME_WANTS_PYTHON and probe_free):
        return (
            Verdict.REFUTED,
            f"its threads were on a CPU (or queued for one by the host) {busy:.0%} of the time and the "
            "GIL stayed free: the GIL did not hold them back",
        )
    return (
        Verdict.INCONCLUSIVE,
        f"GIL wait {gil:.0%}, probe delay {probe if probe is not None else float('nan'):.1f} ms, "
        f"{m.parallelism:.2f} of {possible:.2f} CPUs: no clear signal",
    )


def _decide_single(m: WorkerMeasurement) -> tuple[Verdict, str]:
    """A worker on one thread: did it hold the GIL (CPU-bound Python) while other threads ran?

    On CPU most of the time + the probe waits ~a switch interval => it held the GIL; on CPU with
    a free GIL => native code that releases it; mostly blocked => it waits properly."""
    sh = m.shares
    # Run-queue time counts: a spinner starved by a busy host is still a spinner.
    busy = sh.on_cpu + sh.waiting_for_gil + sh.waiting_for_cpu
    waits = sh.io_or_sleep + sh.lock_wait
    probe = m.gil_probe_inside_median_ms
    share = m.gil_probe_inside_contended_share
    contended = is_contended(share)
    if waits >= IO_SHARE_REFUTE:
        return Verdict.REFUTED, f"the thread spent {waits:.0%} of its time blocked with the GIL released"
    if busy >= RUNTIME_WANTS_PYTHON and contended:
        return (
            Verdict.CONFIRMED,
            f"the thread ran (or wanted to run) {busy:.0%} of its time and the GIL probe waited over "
            f"{GIL_CONTENDED_S * 1000:g} ms in {share:.0%} of samples meanwhile: it held the GIL",
        )
    if busy >= RUNTIME_WANTS_PYTHON and share is not None:
        return Verdict.REFUTED, f"the thread was busy but the GIL stayed free (probe median {probe} ms): native"
    return Verdict.INCONCLUSIVE, "no clear signal"


def runtime_findings(records) -> list[RuntimeFinding]:
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
    lifetimes = {rec.tid: [[rec.first_seen, rec.last_seen]] for rec in records.values()}
    for key, (b, tids) in groups.items():
        if b.dt < RUNTIME_MIN_THREAD_S:
            continue
        sh = Shares.of(b.shares())
        wants = sh.on_cpu + sh.waiting_for_gil + sh.waiting_for_cpu
        probe = median_ms(b.probe)
        conc = concurrency([lifetimes[t] for t in tids if t in lifetimes])
        if (
            sh.waiting_for_gil >= RUNTIME_GIL_SHARE
            and wants >= RUNTIME_WANTS_PYTHON
            and gil_evidence(sh.waiting_for_gil, contended_share(b.probe))
        ):
            out.append(
                RuntimeFinding(
                    entry=CodeSite(key[0], key[1], key[2]),
                    threads=len(tids),
                    message=(
                        f"{key[2]} was GIL-bound on {len(tids)} thread(s): {sh.waiting_for_gil:.0%} of "
                        f"its time waiting for the GIL (probe delay {probe or 0:.1f} ms)"
                    ),
                    hot_locations=hot_sites(b),
                    measured=RuntimeMeasurement(
                        b.dt, b.cpu, sh, probe, b.samples, conc["union_wall"], conc["peak"]
                    ),
                )
            )
    out.sort(key=lambda f: -f.measured.thread_s)
    return out
