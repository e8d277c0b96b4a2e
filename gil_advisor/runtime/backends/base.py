"""The one small interface every tracing backend implements."""
from __future__ import annotations

import sys
from types import FrameType
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
    sample for each thread; `slots` gives the per-thread ledgers when tracing has stopped.
    """

    name: str
    exact: bool  # entries and exits are exact (hooks), not inferred from samples

    def start(self, targets: TargetIndex) -> None: ...

    def stop(self) -> None: ...

    def inside(self, ident: int, frame: Optional[FrameType], now: float, cpu_s: Optional[float]) -> tuple[int, ...]: ...

    def slots(self) -> dict[int, ThreadSlot]: ...

    def native_ids(self) -> dict[int, int]: ...

    def after_fork_in_child(self) -> None: ...

    def stats(self) -> dict: ...


class HookBackendMixin:
    """Shared by backends whose hooks run on the traced threads (sys.monitoring, setprofile)."""

    def _init_slots(self) -> None:
        self._slots: dict[int, ThreadSlot] = {}
        self._seen_calls: dict[tuple[int, int], int] = {}

    def inside(self, ident, frame, now, cpu_s):
        slot = self._slots.get(ident)
        if slot is None:
            return ()
        found = list(slot.active)
        # A call that started and ended between two samples still counts for that window.
        for idx, n in list(slot.calls.items()):
            key = (ident, idx)
            if self._seen_calls.get(key) != n:
                self._seen_calls[key] = n
                if idx not in found:
                    found.append(idx)
        return tuple(found)

    def slots(self):
        return self._slots

    def native_ids(self):
        return {ident: s.native_id for ident, s in list(self._slots.items()) if s.native_id}
