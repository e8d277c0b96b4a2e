"""Sampling backend (any CPython, the default before 3.12): no hooks in the traced threads.

The sampler thread looks at every thread's stack (`sys._current_frames()`) each tick; a thread
whose stack contains a worker's code object is inside that worker from that sample on. Entries
and exits are therefore known to one sampling interval, and CPU inside the worker comes from
/proc schedstat deltas between samples.
"""
from __future__ import annotations

from gil_advisor.runtime.ledger import ThreadSlot
from gil_advisor.runtime.targets import TargetIndex


def available() -> tuple[bool, str]:
    return True, "stack sampling works on every CPython"


class SamplingBackend:
    name = "sampler"
    exact = False
    thinned = None

    def __init__(self):
        self._slots: dict[int, ThreadSlot] = {}
        self._targets: TargetIndex | None = None
        self._last_t: dict[int, float] = {}

    def start(self, targets: TargetIndex) -> None:
        self._targets = targets

    def stop(self) -> None:
        pass

    def inside(self, tid, ident, stack, now, cpu_s):
        targets = self._targets
        found: list[int] = []
        if targets is not None and len(targets) and stack:
            cache = targets.code_cache
            match = targets.match
            for code, _line in stack:
                idx = cache.get(id(code))
                if idx is None:
                    idx = match(code)
                if idx >= 0 and idx not in found:
                    found.append(idx)
        slot = self._slots.get(tid)
        if slot is None and not found:
            self._last_t[tid] = now
            return ()
        if slot is None:
            slot = self._slots[tid] = ThreadSlot(ident, tid)
        # Transitions happened somewhere between the previous sample and this one: use the middle.
        prev = self._last_t.get(tid, now)
        mid = (prev + now) / 2
        cpu = cpu_s if cpu_s is not None else 0.0
        for idx in list(slot.active):
            if idx not in found:
                slot.exit(idx, mid, cpu)
        for idx in found:
            if idx not in slot.active:
                slot.enter(idx, mid, cpu)
        self._last_t[tid] = now
        return tuple(found)

    def finish(self, now: float, cpu_by_tid: dict) -> None:
        for tid, slot in self._slots.items():
            slot.close_all(now, cpu_by_tid.get(tid))

    def slots(self):
        return self._slots

    def after_fork_in_child(self) -> None:
        pass

    def stats(self) -> dict:
        return {"thinned": self.thinned}
