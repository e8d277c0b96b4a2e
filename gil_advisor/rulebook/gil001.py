"""GIL001: pure-Python CPU work on several threads. Message fields: worker, threads."""
from gil_advisor.rulebook.rule import Example, Rule

RULE = Rule(
    code="GIL001",
    name="cpu-bound-python-in-threads",
    summary="pure-Python CPU work runs on several threads; the GIL lets only one run at a time",
    message="`{worker}` does pure-Python CPU work on several threads at once ({threads}), but the GIL runs "
    "one thread at a time: expect no speedup; use processes (ProcessPoolExecutor) instead",
    what="A worker that does pure-Python CPU work — loops with arithmetic or comparisons, "
    "comprehensions, recursion, calls to helpers that do — run on several threads at once. The evidence "
    "chain follows the worker into helpers, across modules, up to "
    "[`max-depth`](configuration.md#max-depth) calls deep.",
    why="CPython's global interpreter lock lets one thread execute Python bytecode at a time. "
    "Loops, arithmetic and recursion in pure Python therefore take as long on N threads "
    "as on one, often longer because the threads hand the lock back and forth every 5 ms.",
    known_problems="Does not fire for a single helper thread, `max_workers=1`, threads started and joined "
    "one at a time, process or interpreter pools, or workers whose loops do blocking I/O, call "
    "GIL-releasing code (hashlib, zlib, NumPy...), call unknown third-party code, or do nothing "
    "that takes time. A function decorated with numba `@njit(nogil=True)` / `@jit(nogil=True)` "
    "counts as releasing the GIL. Work the analysis cannot see is left to `gil-advisor trace` (GIL101).",
    reported_at="the spawn",
    invalid=(
        Example(
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
            """
        ),
        Example(
            """
            import threading

            def relax(grid, steps):
                for _ in range(steps):
                    for i in range(1, len(grid) - 1):
                        for j in range(1, len(grid[i]) - 1):
                            grid[i][j] = (grid[i - 1][j] + grid[i + 1][j] + grid[i][j - 1] + grid[i][j + 1]) / 4
                return grid

            threads = [threading.Thread(target=relax, args=(g, 100)) for g in grids]
            """
        ),
    ),
    valid=(
        Example(
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
            "processes, each with its own GIL",
        ),
        Example(
            """
            import threading, urllib.request

            def fetch(url):
                for attempt in range(3):
                    return urllib.request.urlopen(url).read()

            threads = [threading.Thread(target=fetch, args=(u,)) for u in ("http://a", "http://b")]
            """,
            "a loop that does I/O is not CPU work: threads are the right tool",
        ),
    ),
    remedies=(
        "Use processes: `ProcessPoolExecutor().map(func, items, chunksize=N)` for `map`-style spawns, "
        "`submit` otherwise. The finding adds what stops this worker from being pickled (a lambda, a nested "
        "function or closure, a bound method that pickles its whole instance), and asks for "
        '`if __name__ == "__main__":` when the spawn is not under one.',
        "Move the hot loop to native code that releases the GIL: NumPy vectorisation, numba "
        "`@njit(nogil=True)`, Cython `with nogil:`.",
        "Free-threaded CPython (3.13t experimental, 3.14t supported) or, on 3.14, "
        "`concurrent.futures.InterpreterPoolExecutor`.",
    ),
    confirm="two or more threads ran the worker at the same time, and each spent most of its time holding "
    "or waiting for the GIL rather than running on a CPU without it",
)
