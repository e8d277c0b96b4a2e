"""What `gil-advisor trace` costs against a plain run, py-spy and gilknocker (not a test).

    python benchmarks/trace_overhead.py [--repeat 5] [--python PY ...] [--tools-venv DIR ...]

Workloads (fixed work, each about 2 s plain on the 2-core development VM):
  empty  an empty script: the fixed cost of starting, analysing and reporting
  cpu    a 4-thread ThreadPoolExecutor over pyperformance's fannkuch (5 calls of size 9)
  io     4 thread pairs sending 64 KiB messages over socket pairs (the GIL is released)

Configurations, per Python:
  plain                  python workload.py
  trace (warm cache)     gil-advisor trace, its static pass on a cache filled beforehand
  trace (cold cache)     gil-advisor trace with an empty cache folder on every run
  py-spy record --gil    py-spy sampling from outside the process (when it installs and runs)
  gilknocker             gilknocker's KnockKnock thread inside the process (idem)

Every run is its own subprocess; all (Python, workload, configuration) triples are interleaved
round by round, so a busy host slows them alike, and the table gives medians. py-spy and
gilknocker come from throwaway venvs (--tools-venv, one per Python, e.g. made with
`python -m venv /tmp/v && /tmp/v/bin/pip install py-spy gilknocker libcst`); the venv's own
python is then also the one used for plain and trace, so every row of a Python shares one
interpreter. Byte code is cached in a temporary PYTHONPYCACHEPREFIX, as an installed package has.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent(
    '''
    import socket
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor


    def fannkuch(n):
        """pyperformance's bm_fannkuch, with `perm1.insert`/`perm1.pop` called directly instead
        of through local aliases (which hide the work from the static side: no finding)."""
        count = list(range(1, n + 1))
        max_flips = 0
        m = n - 1
        r = n
        check = 0
        perm1 = list(range(n))
        perm = list(range(n))
        while 1:
            if check < 30:
                check += 1
            while r != 1:
                count[r - 1] = r
                r -= 1
            if perm1[0] != 0 and perm1[m] != m:
                perm = perm1[:]
                flips_count = 0
                k = perm[0]
                while k:
                    perm[:k + 1] = perm[k::-1]
                    flips_count += 1
                    k = perm[0]
                if flips_count > max_flips:
                    max_flips = flips_count
            while r != n:
                perm1.insert(r, perm1.pop(0))
                count[r] -= 1
                if count[r] > 0:
                    break
                r += 1
            else:
                return max_flips


    def ping_pong(rounds):
        a, b = socket.socketpair()
        msg = b"x" * 65536

        def echo():
            for _ in range(rounds):
                got = 0
                while got < len(msg):
                    got += len(b.recv(65536))
                b.sendall(msg)

        t = threading.Thread(target=echo)
        t.start()
        for _ in range(rounds):
            a.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(a.recv(65536))
        t.join()
        a.close()
        b.close()


    if __name__ == "__main__":
        kind, n = sys.argv[1], int(sys.argv[2])
        tasks = int(sys.argv[3]) if len(sys.argv) > 3 else 4
        if kind == "cpu":
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(fannkuch, [n] * tasks))
        elif kind == "io":
            threads = [threading.Thread(target=ping_pong, args=(n,)) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    '''
)

GILKNOCKER = textwrap.dedent(
    """
    import runpy, sys
    from gilknocker import KnockKnock
    knocker = KnockKnock(polling_interval_micros=1000, sampling_interval_micros=None, sleeping_interval_micros=100_000)
    knocker.start()
    sys.argv = sys.argv[1:]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        knocker.stop()
        print(f"gilknocker contention {knocker.contention_metric:.2f}", file=sys.stderr)
    """
)

SIZES = {"empty": 0, "cpu": 9, "io": 30000}


def _works(cmd: list[str], env: dict) -> bool:
    try:
        return subprocess.run(cmd, env=env, capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def interpreters(opts) -> list[tuple[str, str, Path | None]]:
    """(label, python, tools venv or None) for each Python to measure."""
    out = []
    for venv in opts.tools_venv:
        venv = os.path.abspath(venv)
        py = str(Path(venv) / "bin" / "python")
        out.append((_version(py), py, Path(venv)))
    for py in opts.python:
        if os.sep in py:  # every run has the temporary folder as its cwd
            py = os.path.abspath(py)
        out.append((_version(py), py, None))
    if not out:
        out.append((_version(sys.executable), sys.executable, None))
    return out


def _version(py: str) -> str:
    return subprocess.run([py, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--python", action="append", default=[], help="an interpreter to measure (repeatable)")
    ap.add_argument("--tools-venv", action="append", default=[], help="a venv with py-spy/gilknocker/libcst (repeatable)")
    ap.add_argument("--workloads", default="empty,cpu,io")
    ap.add_argument("--cpu-n", type=int, default=SIZES["cpu"], help="fannkuch size")
    ap.add_argument("--cpu-tasks", type=int, default=5, help="fannkuch calls over the 4 threads (5 of size 9: ~2 s here)")
    ap.add_argument("--io-n", type=int, default=SIZES["io"], help="round trips per thread pair")
    opts = ap.parse_args()
    sizes = {"empty": 0, "cpu": opts.cpu_n, "io": opts.io_n}

    tmp = Path(tempfile.mkdtemp(prefix="gil-advisor-bench-"))
    prog = tmp / "workload.py"
    prog.write_text(PROGRAM)
    empty = tmp / "empty.py"
    empty.write_text("")
    (tmp / "gilknocker_run.py").write_text(GILKNOCKER)
    nap = tmp / "nap.py"
    nap.write_text("import time\ntime.sleep(0.5)\n")  # py-spy cannot always attach to a program that exits at once
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(tmp / "pycache"))

    configs: dict[str, dict[str, list[str]]] = {}  # python label -> configuration -> command
    warm_dirs = {}
    for label, py, venv in interpreters(opts):
        warm = tmp / f"warm-{label}"
        warm_dirs[label] = warm
        trace = [py, "-m", "gil_advisor", "trace", "-q"]
        c = {
            "plain": [py],
            "trace (warm cache)": trace + ["--cache-dir", str(warm)],
            "trace (cold cache)": trace + ["--cache-dir", "{cold}"],
        }
        # fill the warm cache, and check the tracer really finds the worker
        report = tmp / f"check-{label}.json"
        subprocess.run(trace + ["--cache-dir", str(warm), "--json", str(report), str(prog), "cpu", "7"],
                       env=env, check=True, cwd=tmp)
        found = [f["worker"] for f in json.loads(report.read_text())["findings"]]
        if "workload.fannkuch" not in found:
            sys.exit(f"{label}: the static pass did not find the worker: {found}")
        pyspy = shutil.which("py-spy", path=str(venv / "bin")) if venv else None
        if pyspy and _works([pyspy, "record", "--gil", "-f", "raw", "-o", str(tmp / "probe.txt"), "--", py, str(nap)], env):
            c["py-spy record --gil"] = [pyspy, "record", "--gil", "-f", "raw", "-o", str(tmp / "pyspy.txt"), "--", py]
        elif venv:
            print(f"{label}: py-spy not usable here (not installed, or ptrace refused)", file=sys.stderr)
        if venv and _works([py, str(tmp / "gilknocker_run.py"), str(empty)], env):
            c["gilknocker"] = [py, str(tmp / "gilknocker_run.py")]
        elif venv:
            print(f"{label}: gilknocker not importable in {venv}", file=sys.stderr)
        configs[label] = c

    workloads = opts.workloads.split(",")
    times: dict[tuple[str, str, str], list[float]] = {}
    cpu: dict[tuple[str, str, str], list[float]] = {}  # user+sys of the run (py-spy's own included)
    n_cold = 0
    failed: dict[tuple[str, str, str], int] = {}
    for r in range(opts.repeat):
        for label, c in configs.items():
            for wl in workloads:
                args = [str(empty)] if wl == "empty" else [str(prog), wl, str(sizes[wl])]
                if wl == "cpu":
                    args.append(str(opts.cpu_tasks))
                for name, cmd in c.items():
                    if "{cold}" in cmd:
                        n_cold += 1
                        cmd = [str(tmp / f"cold-{n_cold}") if a == "{cold}" else a for a in cmd]
                    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    p = subprocess.run(cmd + args, env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, timeout=600)
                    took = time.perf_counter() - t0
                    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if p.returncode != 0:  # py-spy sometimes fails to attach to a short program
                        failed[(label, wl, name)] = failed.get((label, wl, name), 0) + 1
                        continue
                    times.setdefault((label, wl, name), []).append(took)
                    cpu.setdefault((label, wl, name), []).append(
                        (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime))
        print(f"round {r + 1}/{opts.repeat} done", file=sys.stderr)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, {opts.repeat} interleaved rounds, load average {load:.2f} at the end; "
          "medians, wall (CPU). empty: seconds over plain; cpu, io: traced / plain (plain rows: seconds)")
    print()
    print("| Python | configuration | " + " | ".join(workloads) + " |")
    print("|---|---|" + "---|" * len(workloads))
    for label, c in configs.items():
        for name in c:
            cells = []
            for wl in workloads:
                key = (label, wl, name)
                plain = statistics.median(times[(label, wl, "plain")])
                plain_cpu = statistics.median(cpu[(label, wl, "plain")])
                if key not in times:
                    cells.append(f"failed {failed.get(key, 0)}/{opts.repeat}")
                    continue
                mine, mine_cpu = statistics.median(times[key]), statistics.median(cpu[key])
                if name == "plain":
                    cells.append(f"{plain:.2f} s ({plain_cpu:.2f} s)")
                elif wl == "empty":
                    cells.append(f"{mine - plain:+.3f} s ({mine_cpu - plain_cpu:+.3f} s)")
                else:
                    cells.append(f"{mine / plain:.2f}× ({mine_cpu / plain_cpu:.2f}×)")
            print(f"| {label} | {name} | " + " | ".join(cells) + " |")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
