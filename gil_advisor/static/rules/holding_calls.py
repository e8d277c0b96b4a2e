"""GIL002: C calls that hold the GIL, run on several threads at once."""
from __future__ import annotations

import re

from gil_advisor.knowledge import HOLDS
from gil_advisor.static.rules.base import Rule, Worker, build_finding


class GilHoldingCallsInThreads(Rule):
    CODE = "GIL002"
    INVALID = (
        """
import json
from concurrent.futures import ThreadPoolExecutor

def parse_all(lines):
    return [json.loads(line) for line in lines]

with ThreadPoolExecutor(max_workers=8) as pool:
    parsed = list(pool.map(parse_all, batches))
""",
    )
    VALID = (
        """
import zlib
from concurrent.futures import ThreadPoolExecutor

def pack(blob):
    return zlib.compress(blob, 9)

with ThreadPoolExecutor(max_workers=8) as pool:
    packed = list(pool.map(pack, blobs))
""",
    )

    def check(self, worker: Worker, reachable):
        if worker.work.kind != HOLDS or not worker.spawn.concurrent or worker.spawn.is_async:
            return ()
        held = next((e.description for e in worker.work.evidence if e.kind == "holds-gil"), "")
        m = re.search(r"(?:calls|worker) ([\w.]+)", held)
        what = m.group(1) if m else "json, re, pickle..."
        return (
            build_finding(
                self.CODE,
                worker,
                f"`{worker.target.name}` spends its time in C calls that hold the GIL ({what}) "
                f"on several threads ({worker.spawn.threads}): they run one after another; use processes instead",
            ),
        )
