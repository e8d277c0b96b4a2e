"""The one small interface every tracing backend implements."""
from __future__ import annotations

import sys
from typing import Optional

from gil_advisor.runtime.ledger import ThreadSlot
from gil_advisor.runtime.targets import TargetIndex

if sys.version_info >= (3, 8):
    from typing import Protocol
else:  # pragma: no cover
    Protocol = object


class TracerBackend(Protocol):
    """Records which threads were inside which worker, when, and with how much CPU.

    `start`/`stop` install and remove hooks; `inside` is called by the sampler thread once per
    sample for each thread with its stack as [(code, line), ...]; `slots` gives the per-thread
    ledgers, keyed by native thread id.
    """

    name: str
    exact: bool  # entries and exits are exact (hooks), not inferred from samples
    thinned: Optional[dict]  # set when tracing stops: what was aggregated to bound memory

    def start(self, targets: TargetIndex) -> None: ...

    def stop(self) -> None: ...

    def inside(
        self, tid: int, ident: int, stack: Optional[list], now: float, cpu_s: Optional[float]
    ) -> tuple[int, ...]: ...

    def slots(self) -> dict[int, ThreadSlot]: ...

    def finish(self, now: float, cpu_by_tid: dict[int, float]) -> None: ...

    def after_fork_in_child(self) -> None: ...

    def stats(self) -> dict: ...


class HookBackendMixin:
    """Shared by backends whose hooks run on the traced threads (sys.monitoring, setprofile)."""

    thinned: Optional[dict] = None

    def _init_slots(self) -> None:
        self._slots: dict[int, ThreadSlot] = {}
        self._seen_calls: dict[tuple[int, int], int] = {}

    def inside(self, tid, ident, stack, now, cpu_s):
        slot = self._slots.get(tid)
        if slot is None:
            return ()
        found = list(slot.active)
        # A call that started and ended between two samples still counts for that window.
        for idx, n in list(slot.calls.items()):
            key = (tid, idx)
            if self._seen_calls.get(key) != n:
                self._seen_calls[key] = n
                if idx not in found:
                    found.append(idx)
        return tuple(found)

    def slots(self):
        return self._slots

    def finish(self, now, cpu_by_tid):
        for tid, slot in list(self._slots.items()):
            slot.close_all(now, cpu_by_tid.get(tid))
