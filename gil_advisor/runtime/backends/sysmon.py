"""sys.monitoring backend (CPython 3.12+): local events on the worker entry code objects only.

The pattern coverage.py uses: a global PY_START callback returns DISABLE for every code object
that is not a worker, so after its first call a function costs nothing; worker code objects get
local PY_RETURN/PY_YIELD/PY_RESUME events. PY_UNWIND cannot be local, so it is global with a
one-dict-lookup callback.
"""
from __future__ import annotations

import sys
import threading
import time

from gil_advisor.runtime.backends.base import HookBackendMixin
from gil_advisor.runtime.ledger import ThreadSlot
from gil_advisor.runtime.targets import TargetIndex

TOOL_NAME = "gil-advisor"


def available() -> tuple[bool, str]:
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        return False, f"sys.monitoring needs Python 3.12+, this is {sys.version.split()[0]}"
    for tid in _candidate_ids():
        if mon.get_tool(tid) is None:
            return True, f"sys.monitoring is available (Python {sys.version.split()[0]}); tool id {tid} is free"
    return False, "every sys.monitoring tool id is taken by other tools"


def _candidate_ids():
    mon = sys.monitoring
    first = [mon.PROFILER_ID]
    return first + [i for i in range(6) if i not in first]


class SysMonitoringBackend(HookBackendMixin):
    name = "sysmon"
    exact = True

    def __init__(self):
        self._init_slots()
        self.tool_id = None
        self.used_tool_id = None
        self._targets: TargetIndex | None = None
        self._installed: list = []

    def start(self, targets: TargetIndex) -> None:
        self._targets = targets
        if not len(targets):
            return  # nothing to instrument: the sampler still measures the process
        mon = sys.monitoring
        for tid in _candidate_ids():
            if mon.get_tool(tid) is None:
                try:
                    mon.use_tool_id(tid, TOOL_NAME)
                except ValueError:
                    continue
                self.tool_id = self.used_tool_id = tid
                break
        if self.tool_id is None:
            raise RuntimeError("no free sys.monitoring tool id")
        ev = mon.events
        self._local_events = ev.PY_RETURN | ev.PY_YIELD | ev.PY_RESUME
        code_cache = targets.code_cache
        match = targets.match
        slots = self._slots
        DISABLE = mon.DISABLE
        get_tid = threading.get_native_id
        perf = time.perf_counter
        tcpu = time.thread_time
        set_local = mon.set_local_events
        tool = self.tool_id
        local_events = self._local_events
        instrumented: set[int] = set()

        def slot_for(tid):
            s = slots.get(tid)
            if s is None:
                s = slots[tid] = ThreadSlot(threading.get_ident(), tid)
            return s

        def on_start(code, offset):
            idx = code_cache.get(id(code))
            if idx is None:
                idx = match(code)
            if idx < 0:
                return DISABLE
            if id(code) not in instrumented:
                instrumented.add(id(code))
                set_local(tool, code, local_events)
            tid = get_tid()
            s = slots.get(tid) or slot_for(tid)
            s.enter(idx, perf(), tcpu())

        def on_resume(code, offset):
            idx = code_cache.get(id(code), -1)
            if idx >= 0:
                tid = get_tid()
                s = slots.get(tid) or slot_for(tid)
                s.enter(idx, perf(), tcpu())

        def on_exit(code, offset, value):
            idx = code_cache.get(id(code), -1)
            if idx >= 0:
                s = slots.get(get_tid())
                if s is not None:
                    s.exit(idx, perf(), tcpu())

        def on_unwind(code, offset, exc):
            idx = code_cache.get(id(code), -1)
            if idx >= 0:
                s = slots.get(get_tid())
                if s is not None:
                    s.exit(idx, perf(), tcpu())

        mon.register_callback(tool, ev.PY_START, on_start)
        mon.register_callback(tool, ev.PY_RESUME, on_resume)
        mon.register_callback(tool, ev.PY_RETURN, on_exit)
        mon.register_callback(tool, ev.PY_YIELD, on_exit)
        mon.register_callback(tool, ev.PY_UNWIND, on_unwind)
        mon.set_events(tool, ev.PY_START | ev.PY_UNWIND)
        self._instrumented = instrumented

    def stop(self) -> None:
        if self.tool_id is None:
            return
        mon = sys.monitoring
        tool, self.tool_id = self.tool_id, None
        try:
            mon.set_events(tool, 0)
            for code in self._targets._pinned if self._targets else ():
                if id(code) in self._instrumented:
                    mon.set_local_events(tool, code, 0)
            for name in ("PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "PY_UNWIND"):
                mon.register_callback(tool, getattr(mon.events, name), None)
        finally:
            mon.free_tool_id(tool)

    def after_fork_in_child(self) -> None:
        # The child keeps the parent's instrumentation; it must not pay for it or record anything.
        try:
            self.stop()
        except Exception:
            pass

    def stats(self) -> dict:
        return {"tool_id": self.used_tool_id, "instrumented_code_objects": len(getattr(self, "_instrumented", ()))}
