"""Peak memory of analysing one generated module, per MB of source (sets max-file-size).

Each size runs in its own child process with an address-space limit and a timeout, so a
size that would exhaust the machine fails alone:

    python benchmarks/parse_memory.py [--sizes 0.25,0.5,1,2] [--limit-gb 4] [--timeout 300]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

# Two shapes: ordinary code (functions, loops, calls) and generated data (one big literal).
CODE_UNIT = '''
def handler_{i}(items, scale={i}):
    total = 0
    for item in items:
        if item.value > scale:
            total += compute(item.value * 2, key="k{i}")
        else:
            total -= len(str(item))
    return total

'''
DATA_UNIT = "    ({i}, 'name_{i}', {i}.5, [{i}, {i}, {i}]),\n"

CHILD = r'''
import resource, sys, time
from gil_advisor.static.project import decode, module_name_for, parse_and_extract, read_bytes
path = sys.argv[1]
t = time.perf_counter()
text = decode(read_bytes(path, 10**12))
module, is_package = module_name_for(path)
parse_and_extract(path, text, module, is_package)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
'''


def generate(shape: str, megabytes: float) -> str:
    target = int(megabytes * 1_000_000)
    parts = ["from threading import Thread\n\n", "DATA = [\n" if shape == "data" else ""]
    size, i = sum(map(len, parts)), 0
    unit = CODE_UNIT if shape == "code" else DATA_UNIT
    while size < target:
        chunk = unit.format(i=i)
        parts.append(chunk)
        size += len(chunk)
        i += 1
    if shape == "data":
        parts.append("]\n")
    return "".join(parts)


def measure(path: str, limit_bytes: int, timeout: float) -> dict:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    # A fresh interpreter per run; the child reports its own peak (ru_maxrss, KiB on Linux).
    before = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - before
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"failed: {last[:120]}", "wall_s": round(wall, 1)}
    seconds, peak_kb = proc.stdout.split()
    return {"status": "ok", "analyse_s": round(float(seconds), 2), "peak_rss_mb": round(int(peak_kb) / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0.25,0.5,1,2", help="MB of source, comma-separated, ascending")
    ap.add_argument("--shapes", default="code,data")
    ap.add_argument("--limit-gb", type=float, default=4.0, help="address-space limit per child")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per child")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            for mb in (float(x) for x in args.sizes.split(",")):
                path = os.path.join(tmp, f"gen_{shape}.py")
                with open(path, "w") as fh:
                    fh.write(generate(shape, mb))
                row = {"shape": shape, "mb": mb, **measure(path, int(args.limit_gb * 2**30), args.timeout)}
                if row.get("peak_rss_mb"):
                    row["rss_mb_per_source_mb"] = round(row["peak_rss_mb"] / mb)
                print(json.dumps(row), flush=True)
                if row["status"] != "ok":
                    break  # larger sizes of this shape would fail too


if __name__ == "__main__":
    main()
