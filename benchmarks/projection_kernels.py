"""Fixed-work versions of the tests/trace_workloads kernels, run on threads or on processes.

    python benchmarks/projection_kernels.py KERNEL threads|processes [TASKS] [WORKERS]

Prints one JSON line: {"kernel", "mode", "wall_s"} where wall_s is the pool section only.
Used by projection_vs_pool.py (not a test).
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import socket
import sys
import time
import zlib

BUF = bytes(range(256)) * (16 * 1024 * 1024 // 256)  # 16 MiB, as in hash_threads.py
ROWS = 1_800_000  # ~40 MB pickled per result
TEXT = ""  # the JSON document big_result parses, built before the pool starts


def crunch(i):
    """cpu_threads.py's loop, a fixed number of rounds."""
    total = 0
    for _ in range(2500):
        for k in range(2000):
            total += k * k % 7
    return total


def digest(i):
    """hash_threads.py's loop: hashlib and zlib release the GIL."""
    n = 0
    for _ in range(6):
        hashlib.sha256(BUF).hexdigest()
        zlib.crc32(BUF)
        n += 1
    return n


def talk(i):
    """io_threads.py's loop: sleeps and socket reads with the GIL released."""
    a, b = socket.socketpair()
    try:
        for _ in range(60):
            time.sleep(0.002)
            a.sendall(b"x" * 64)
            b.recv(64)
            b.settimeout(0.003)
            try:
                b.recv(64)
            except socket.timeout:
                pass
    finally:
        a.close()
        b.close()
    return 1


def big_result(i):
    """Parse a JSON document into ~40 MB of records (pickled): quick to compute, big to move."""
    return json.loads(TEXT)


KERNELS = {"crunch": crunch, "digest": digest, "talk": talk, "big_result": big_result}


def main() -> None:
    kernel, mode = sys.argv[1], sys.argv[2]
    tasks = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    fn = KERNELS[kernel]
    if kernel == "big_result":
        global TEXT
        TEXT = json.dumps([f"record {k:08d}: ok" for k in range(ROWS)])
    pool_cls = cf.ThreadPoolExecutor if mode == "threads" else cf.ProcessPoolExecutor
    t0 = time.perf_counter()
    with pool_cls(max_workers=workers) as pool:
        results = list(pool.map(fn, range(tasks)))
    wall = time.perf_counter() - t0
    assert len(results) == tasks
    print(json.dumps({"kernel": kernel, "mode": mode, "wall_s": wall}))


if __name__ == "__main__":
    main()
