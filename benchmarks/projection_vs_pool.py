"""The tracer's projected speedup with processes against a real ProcessPoolExecutor (not a test).

    python benchmarks/projection_vs_pool.py [--repeat 3] [--kernels crunch,digest,talk,big_result]

For each kernel in benchmarks/projection_kernels.py (fixed-work versions of the
tests/trace_workloads kernels, plus a worker returning ~40 MB per task):
  1. trace the thread-pool version, with a finding on the kernel (its exact code object), and
     read the projected worker speedup (with the sampled pickling cost);
  2. time the thread-pool and the process-pool versions untraced (median of --repeat runs);
  3. print projected, measured (threads wall / processes wall) and their ratio.
Run it with Python 3.12+ (sys.monitoring): the sampler backend of 3.11 sees no arguments or
results, so it cannot sample pickling.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS_PY = ROOT / "benchmarks" / "projection_kernels.py"
sys.path.insert(0, str(ROOT))

from gil_advisor.finding import Finding, Location, WorkerRef  # noqa: E402

TASKS = {"crunch": 4, "digest": 4, "talk": 4, "big_result": 6}


def _finding(kernel: str) -> Finding:
    code = compile(KERNELS_PY.read_text(), str(KERNELS_PY), "exec")
    fn = next(c for c in code.co_consts if getattr(c, "co_name", None) == kernel)
    ref = WorkerRef(f"projection_kernels.{kernel}", str(KERNELS_PY), fn.co_firstlineno, fn.co_firstlineno,
                    fn.co_firstlineno + 1, fn.co_name, getattr(fn, "co_qualname", fn.co_name))
    where = Location(str(KERNELS_PY), fn.co_firstlineno, 1)
    return Finding("GIL001", where, "benchmark", ref.qualname, where, "high", "ThreadPoolExecutor.map", "2",
                   instrument=ref)


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")


def _run(kernel: str, mode: str) -> float:
    out = subprocess.run([sys.executable, str(KERNELS_PY), kernel, mode, str(TASKS[kernel]), "2"],
                         capture_output=True, text=True, env=_env(), timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["wall_s"]


def _projection(kernel: str, tmp: Path) -> dict:
    findings = tmp / f"{kernel}.findings.json"
    findings.write_text(json.dumps({"version": 1, "findings": [_finding(kernel).to_dict()], "errors": []}))
    report = tmp / f"{kernel}.report.json"
    subprocess.run(
        [sys.executable, "-m", "gil_advisor", "trace", "-q", "--findings", str(findings), "--json", str(report),
         str(KERNELS_PY), kernel, "threads", str(TASKS[kernel]), "2"],
        capture_output=True, text=True, env=_env(), timeout=600, check=True,
    )
    (f,) = json.loads(report.read_text())["findings"]
    return {"verdict": f["verdict"], **(f["measured"].get("projected_speedup") or {})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kernels", default=",".join(TASKS))
    args = ap.parse_args()
    rows = []
    debug: list = []
    with tempfile.TemporaryDirectory() as d:
        for kernel in args.kernels.split(","):
            projections, threads, procs = [], [], []
            for _ in range(args.repeat):  # interleaved: the host's load changes from minute to minute
                projections.append(_projection(kernel, Path(d)))
                threads.append(_run(kernel, "threads"))
                procs.append(_run(kernel, "processes"))
            debug.append(projections)
            measured = statistics.median(t / p for t, p in zip(threads, procs))
            projected = statistics.median(p["worker"] for p in projections)
            pickled = projections[-1].get("pickling") or {}
            rows.append((kernel, projections[-1]["verdict"], statistics.median(threads), statistics.median(procs),
                         measured, projected, projected / measured, pickled.get("result_bytes", 0) / 1e6,
                         projections[-1].get("dominated_by")))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.repeat}\n")
    print("| kernel | verdict | threads wall | processes wall | measured speedup | projected | projected / measured | result MB/call |")
    print("|---|---|---|---|---|---|---|---|")
    for k, v, t, p, m, pr, ratio, mb, _ in rows:
        print(f"| {k} | {v} | {t:.2f} s | {p:.2f} s | {m:.2f}x | {pr:.2f}x | {ratio:.2f} | {mb:.1f} |")
    for k, *_, dom in rows:
        if dom:
            print(f"\n{k}: {dom}")
    if os.environ.get("PROJECTION_DEBUG"):
        print(json.dumps(debug, indent=1))


if __name__ == "__main__":
    main()
