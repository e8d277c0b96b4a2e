"""Load: `check` over a generated tree of 5,000 files, and `trace` of a 64-thread program.

    python benchmarks/load.py [--files 5000] [--threads 64]

Prints wall time and peak memory of each run; both must complete with bounded memory.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

WORKER = textwrap.dedent(
    """
    from concurrent.futures import ThreadPoolExecutor
    from pkg{n}.helpers import crunch_{n}

    def run_{n}(items):
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(crunch_{n}, items))
    """
)
HELPER = "def crunch_{n}(x):\n    t = 0\n    for i in range(x):\n        t += i * i\n    return t\n"
PLAIN = "import os\n\ndef f_{n}(a, b):\n    return os.path.join(a, b) + str({n})\n\nclass C{n}:\n    def m(self):\n        return [i for i in range(3)]\n"

THREADS_PROGRAM = textwrap.dedent(
    """
    import threading, time
    def work(n):
        t = 0
        for i in range(n):
            t += i * i
        time.sleep(0.01)
    threads = [threading.Thread(target=work, args=(20_000,)) for _ in range({threads})]
    for t in threads: t.start()
    for t in threads: t.join()
    print("done")
    """
)


def measured(cmd, cwd):
    wrapper = (
        "import resource,subprocess,sys;"
        "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL).returncode;"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r, file=sys.stderr)"
    )
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", wrapper, *cmd], cwd=cwd, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    peak, rc = p.stderr.strip().splitlines()[-1].split()
    return wall, int(peak) / 1024, int(rc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=64)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gil-load-") as root:
        for n in range(args.files):
            if n % 10 == 0:
                pkg = os.path.join(root, f"pkg{n}")
                os.makedirs(pkg)
                open(os.path.join(pkg, "__init__.py"), "w").close()
                with open(os.path.join(pkg, "helpers.py"), "w") as fh:
                    fh.write(HELPER.format(n=n))
                with open(os.path.join(pkg, "main.py"), "w") as fh:
                    fh.write(WORKER.format(n=n))
            else:
                with open(os.path.join(root, f"plain_{n}.py"), "w") as fh:
                    fh.write(PLAIN.format(n=n))
        rows = []
        wall, peak, rc = measured([sys.executable, "-m", "gil_advisor", "check", "-q", "--no-cache", root], root)
        rows.append((f"check, {args.files} files (cold)", wall, peak, rc))
        wall, peak, rc = measured([sys.executable, "-m", "gil_advisor", "check", "-q", "--cache-dir", os.path.join(root, ".c"), root], root)
        wall, peak, rc = measured([sys.executable, "-m", "gil_advisor", "check", "-q", "--cache-dir", os.path.join(root, ".c"), root], root)
        rows.append((f"check, {args.files} files (warm)", wall, peak, rc))
        prog = os.path.join(root, "many_threads.py")
        with open(prog, "w") as fh:
            fh.write(THREADS_PROGRAM.format(threads=args.threads))
        wall, peak, rc = measured([sys.executable, prog], root)
        rows.append((f"plain run, {args.threads} threads", wall, peak, rc))
        wall, peak, rc = measured([sys.executable, "-m", "gil_advisor", "trace", "-q", "--json", os.path.join(root, "t.json"), prog], root)
        rows.append((f"trace, {args.threads} threads", wall, peak, rc))
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| run | wall s | peak MB | exit |")
    print("|---|---|---|---|")
    for name, wall, peak, rc in rows:
        print(f"| {name} | {wall:.1f} | {peak:.0f} | {rc} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
