"""GIL004: GIL-bound work offloaded from asyncio to threads. Message fields: worker, spawn."""
from gil_advisor.rulebook.rule import Example, Rule

RULE = Rule(
    code="GIL004",
    name="cpu-bound-work-offloaded-from-event-loop",
    summary="CPU-bound work offloaded with asyncio.to_thread/run_in_executor to a thread still holds the GIL",
    message="`{worker}` is GIL-bound work offloaded with {spawn}: the threads take turns with each other "
    "and with the event loop; use `loop.run_in_executor(ProcessPoolExecutor(), ...)`",
    what="`asyncio.to_thread(func, ...)` or `loop.run_in_executor(None, func, ...)` / "
    "`loop.run_in_executor(<ThreadPoolExecutor>, func, ...)` where `func` is GIL-bound — pure Python CPU "
    "work (as in GIL001) or GIL-holding C calls (as in GIL002) — and several offloads can run at once.",
    why="asyncio.to_thread and loop.run_in_executor(None, ...) run the callable on the default executor, a "
    "thread pool of `min(32, CPUs + 4)` threads. For GIL-bound work those threads compete with each other "
    "and with the event loop for the GIL: concurrent requests get no faster, and the loop's latency grows by "
    "up to a switch interval each time it needs the GIL back. Offload such work to a process pool instead.",
    known_problems="Does not fire for a single `await asyncio.to_thread(...)` in the entry-point coroutine "
    "(the one given to `asyncio.run`), for `run_in_executor` with a process pool or an executor it cannot "
    "identify, or for offloaded work that blocks on I/O — which is what `to_thread` is for.",
    reported_at="the offload call",
    invalid=(
        Example(
            """
            import asyncio

            def render(rows):
                return "<br>".join("".join(f"<td>{cell:.3f}</td>" for cell in row) for row in rows)

            async def main(tables):
                await asyncio.gather(*(asyncio.to_thread(render, t) for t in tables))
            """
        ),
    ),
    valid=(
        Example(
            """
            import asyncio
            from concurrent.futures import ProcessPoolExecutor

            def render(n):
                return sum(i * i for i in range(n))

            async def main():
                loop = asyncio.get_running_loop()
                with ProcessPoolExecutor() as pool:
                    await asyncio.gather(*(loop.run_in_executor(pool, render, 10**6) for _ in range(8)))
            """
        ),
    ),
    remedies=(
        "Create one `ProcessPoolExecutor()` at startup and `await loop.run_in_executor(pool, func, *args)`.",
        "The native-code and interpreter remedies of GIL001 and GIL002.",
    ),
    confirm="the offloaded worker ran on several executor threads at once, and they and the event loop "
    "waited for the GIL",
)
