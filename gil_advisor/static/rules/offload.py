"""GIL004: CPU-bound work offloaded from asyncio to threads."""
from __future__ import annotations

from gil_advisor.static.rules.base import Rule, Worker, build_finding


class CpuWorkOffloadedFromEventLoop(Rule):
    CODE = "GIL004"
    INVALID = (
        """
import asyncio

def render(n):
    return sum(i * i for i in range(n))

async def main():
    await asyncio.gather(*(asyncio.to_thread(render, 10**6) for _ in range(8)))
""",
    )
    VALID = (
        """
import asyncio
from concurrent.futures import ProcessPoolExecutor

def render(n):
    return sum(i * i for i in range(n))

async def main():
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor() as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, render, 10**6) for _ in range(8)))
""",
    )

    def check(self, worker: Worker, reachable):
        if not worker.spawn.is_async or not worker.spawn.concurrent or not worker.work.gil_bound:
            return ()
        return (
            build_finding(
                self.CODE,
                worker,
                f"`{worker.target.name}` is GIL-bound work offloaded with {worker.spawn.rec.kind}: the threads "
                f"take turns with each other and with the event loop; use `loop.run_in_executor(ProcessPoolExecutor(), ...)`",
            ),
        )
