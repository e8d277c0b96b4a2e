"""GIL001: pure-Python CPU work on several threads at once."""
from __future__ import annotations

from gil_advisor.static.classify import CPU
from gil_advisor.static.rules.base import Rule, Worker, build_finding


class CpuBoundPythonInThreads(Rule):
    CODE = "GIL001"
    INVALID = (
        """
from concurrent.futures import ThreadPoolExecutor

def count_primes(limit):
    found = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            found += 1
    return found

with ThreadPoolExecutor() as pool:
    totals = list(pool.map(count_primes, [50_000] * 8))
""",
        """
import threading

def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

threads = [threading.Thread(target=spin, args=(10**7,)) for _ in range(4)]
""",
    )
    VALID = (
        """
from concurrent.futures import ProcessPoolExecutor

def count_primes(limit):
    found = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            found += 1
    return found

if __name__ == "__main__":
    with ProcessPoolExecutor() as pool:
        totals = list(pool.map(count_primes, [50_000] * 8, chunksize=2))
""",
        """
import threading, urllib.request

def fetch(url):
    for attempt in range(3):
        return urllib.request.urlopen(url).read()

threads = [threading.Thread(target=fetch, args=(u,)) for u in ("http://a", "http://b")]
""",
    )

    def check(self, worker: Worker, reachable):
        if worker.work.kind != CPU or not worker.spawn.concurrent or worker.spawn.is_async:
            return ()
        name = worker.target.name
        return (
            build_finding(
                self.CODE,
                worker,
                f"`{name}` does pure-Python CPU work on several threads at once ({worker.spawn.threads}), but the GIL runs "
                f"one thread at a time: expect no speedup; use processes (ProcessPoolExecutor) instead",
            ),
        )
