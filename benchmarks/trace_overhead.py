"""Overhead of `gil-advisor trace` against plain runs, cProfile and yappi (not a test).

    python benchmarks/trace_overhead.py [--repeat 5] [--scale 1.0]

Two CPU-bound threaded programs with a fixed amount of work:
  loops  two threads of nested arithmetic loops (anchors.md W1)
  calls  two threads making millions of tiny Python calls (W5: the worst case for tracing)
Each configuration runs as its own subprocess; configurations are interleaved round by round
and the table shows the median of traced wall / plain wall. The tracer is given a finding on
the thread's entry function (what the static side reports), so on 3.12+ that one code object
is instrumented.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent(
    """
    import sys, threading

    def leaf(x):
        return x + 1

    def loops(n):
        total = 0
        for i in range(n):
            for k in range(100):
                total += (i * k) % 7
        return total

    def calls(n):
        total = 0
        for i in range(n):
            total = leaf(total)
        return total

    def work(kind, n):
        (loops if kind == "loops" else calls)(n)

    if __name__ == "__main__":
        kind, n = sys.argv[1], int(sys.argv[2])
        if kind == "empty":
            sys.exit(0)
        threads = [threading.Thread(target=work, args=(kind, n)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    """
)

YAPPI_WRAPPER = textwrap.dedent(
    """
    import runpy, sys, yappi
    yappi.set_clock_type("wall")
    yappi.start(builtins=False, profile_threads=True)
    sys.argv = sys.argv[1:]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        yappi.stop()
    """
)

SIZES = {"loops": 250_000, "calls": 20_000_000, "empty": 0}


def have(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the work (plain runs take ~2 s)")
    ap.add_argument("--workloads", default="loops,calls,empty", help="'empty' measures fixed start-up cost")
    ap.add_argument("--quick", action="store_true", help="only plain and gil-advisor (auto)")
    opts = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gil-advisor-bench-"))
    prog = tmp / "workload.py"
    prog.write_text(PROGRAM)
    (tmp / "yappi_run.py").write_text(YAPPI_WRAPPER)
    line = next(i for i, text in enumerate(PROGRAM.splitlines(), 1) if text.startswith("def work("))
    finding = {
        "code": "GIL001", "path": str(prog), "line": line, "column": 1, "message": "bench",
        "worker": "workload.work", "worker_location": {"path": str(prog), "line": line, "column": 1},
        "confidence": "high", "spawn": "Thread", "threads": "2", "evidence": [], "remedies": [],
    }
    findings = tmp / "findings.json"
    findings.write_text(json.dumps({"version": 1, "findings": [finding], "errors": []}))

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    tracer = [sys.executable, "-m", "gil_advisor.runtime", "-q", "--findings", str(findings)]
    configs = {
        "plain": [sys.executable, str(prog)],
        "gil-advisor (auto)": tracer + [str(prog)],
    }
    if sys.version_info >= (3, 12):
        configs["gil-advisor --backend sampler"] = tracer + ["--backend", "sampler", str(prog)]
    configs["gil-advisor --backend profile"] = tracer + ["--backend", "profile", str(prog)]
    configs["cProfile"] = [sys.executable, "-m", "cProfile", "-o", os.devnull, str(prog)]
    if have("yappi"):
        configs["yappi (wall, all threads)"] = [sys.executable, str(tmp / "yappi_run.py"), str(prog)]

    # The tracer must really instrument the worker, or the figures mean nothing.
    check = tmp / "check.json"
    subprocess.run(tracer + ["--json", str(check), str(prog), "loops", "30000"], env=env, check=True)
    verdicts = [f["verdict"] for f in json.loads(check.read_text())["findings"]]
    if verdicts == ["not-exercised"]:
        sys.exit(f"the benchmark's finding did not match the worker (line {line}): {verdicts}")

    if opts.quick:
        configs = {k: v for k, v in configs.items() if k in ("plain", "gil-advisor (auto)")}
    workloads = opts.workloads.split(",")
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for r in range(opts.repeat):
        for wl in workloads:
            n = str(int(SIZES[wl] * opts.scale))
            for name, cmd in configs.items():
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(cmd + [wl, n], env=env, check=True, stdout=subprocess.DEVNULL, timeout=600)
                times.setdefault((name, wl), []).append(time.perf_counter() - t0)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.setdefault((name, wl), []).append(
                    (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
                )
        print(f"round {r + 1}/{opts.repeat} done", file=sys.stderr)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {opts.repeat} interleaved rounds, "
          f"load average {load:.2f} at the end")
    print("median traced / plain, wall clock and CPU time (user+sys); the plain row gives seconds")
    header = f"{'configuration':32s}" + "".join(f"{wl + ' wall':>13s}{wl + ' cpu':>12s}" for wl in workloads)
    print(header)
    print("-" * len(header))
    for name in configs:
        cells = []
        for wl in workloads:
            pw = statistics.median(times[("plain", wl)])
            pc = statistics.median(cpu[("plain", wl)])
            if name == "plain":
                cells.append(f"{pw:11.2f} s{pc:10.2f} s")
            elif wl == "empty":  # fixed start-up + shutdown cost, in milliseconds
                w = statistics.median(times[(name, wl)]) - pw
                c = statistics.median(cpu[(name, wl)]) - pc
                cells.append(f"{w * 1000:+10.0f} ms{c * 1000:+9.0f} ms")
            else:
                w = statistics.median(times[(name, wl)]) / pw
                c = statistics.median(cpu[(name, wl)]) / pc if pc else float("nan")
                cells.append(f"{w:12.2f}x{c:11.2f}x")
        print(f"{name:32s}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
