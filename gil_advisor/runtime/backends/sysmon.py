"""sys.monitoring backend (CPython 3.12+): local events on the worker entry code objects only.

coverage.py's pattern is a global PY_START callback that returns DISABLE for every code object it
does not care about. Measured here on 3.12, any global PY_START slows even call-free loops by
5-10% (not on 3.13). So this backend finds the workers' code objects itself and never enables
PY_START globally. Code objects are found in two ways: every module, script or `exec` runs a code
object and raises the "exec" audit event, and the tracer walks that code's constants for nested
functions (only for files that hold a worker); modules imported before tracing started are
walked at start. Workers get local PY_START/PY_RETURN/PY_YIELD/PY_RESUME events. PY_UNWIND
cannot be local, so it is global, with a one-dict-lookup callback; it fires only when an
exception leaves a frame.
"""
from __future__ import annotations

import sys
import threading
import time
from types import CodeType, FunctionType

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
            version = sys.version.split()[0]
            return True, f"sys.monitoring is available (Python {version}); tool id {tid} is free"
    return False, "every sys.monitoring tool id is taken by other tools"


def _candidate_ids():
    mon = sys.monitoring
    first = [mon.PROFILER_ID]
    return first + [i for i in range(6) if i not in first]


# One audit hook per process (they cannot be removed); it serves the active backend, if any.
_AUDIT_STATE: dict = {"backend": None, "installed": False}


_REAL: dict = {}


def _install_use_tool_id_guard() -> None:
    """Wrap sys.monitoring.use_tool_id so a program (or cProfile, coverage...) asking for the id
    this tracer holds gets it: the tracer moves to another id instead of making the program fail."""
    mon = sys.monitoring
    if "use_tool_id" in _REAL:
        return
    real = _REAL["use_tool_id"] = mon.use_tool_id

    def use_tool_id(tool_id, name):
        backend = _AUDIT_STATE["backend"]
        if backend is not None and backend.tool_id == tool_id:
            try:
                backend.yield_tool_id(tool_id, name)
            except Exception as e:  # never fail the program's own call because of the tracer
                backend.notes.append(f"could not give up tool id {tool_id}: {e!r}")
        return real(tool_id, name)

    try:
        mon.use_tool_id = use_tool_id
    except (AttributeError, TypeError):
        _REAL.pop("use_tool_id", None)


def _audit(event, args):
    if event == "exec":
        backend = _AUDIT_STATE["backend"]
        if backend is not None and args and type(args[0]) is CodeType:
            backend.discover(args[0])
    elif event in ("_thread.start_new_thread", "_thread.start_joinable_thread"):  # 3.12, 3.13+
        # Threads that end between two samples are never seen by the sampler; count them here.
        backend = _AUDIT_STATE["backend"]
        if backend is not None:
            backend.threads_started += 1


class SysMonitoringBackend(HookBackendMixin):
    name = "sysmon"
    exact = True

    def __init__(self):
        self._init_slots()
        self.tool_id = None
        self.used_tool_id = None
        self._targets: TargetIndex | None = None
        self._instrumented: dict[int, CodeType] = {}
        self._walked: set[int] = set()
        self._walked_refs: list[CodeType] = []
        self._callbacks: dict = {}
        self._local_events = 0
        self.notes: list[str] = []
        self.threads_started = 0  # from the `_thread.start_new_thread` audit event (3.12+)

    # -- finding the workers' code objects ------------------------------------------------
    def discover(self, code: CodeType) -> None:
        """Instrument every worker code object in `code` and its nested code (same file only)."""
        targets = self._targets
        if self.tool_id is None or targets is None or not targets.candidates(code.co_filename):
            return
        stack = [code]
        while stack:
            c = stack.pop()
            if id(c) in self._walked:
                continue
            self._walked.add(id(c))
            self._walked_refs.append(c)  # keep ids unique
            if targets.match(c) >= 0 and id(c) not in self._instrumented:
                self._instrumented[id(c)] = c
                sys.monitoring.set_local_events(self.tool_id, c, self._local_events)
            for k in c.co_consts:
                if type(k) is CodeType:
                    stack.append(k)

    def _discover_loaded_modules(self) -> None:
        """Workers in modules imported before tracing started (e.g. the parent package of -m)."""
        targets = self._targets
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if not isinstance(f, str) or not targets.candidates(f):
                continue
            for obj in list(vars(mod).values()):
                for fn in _functions_in(obj):
                    self.discover(fn.__code__)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, targets: TargetIndex) -> None:
        self._targets = targets
        _AUDIT_STATE["backend"] = self
        if not _AUDIT_STATE["installed"]:
            sys.addaudithook(_audit)  # audit hooks cannot be removed: install one, point it at us
            _AUDIT_STATE["installed"] = True
        if not len(targets):
            return  # nothing to instrument: the sampler still measures the process
        mon = sys.monitoring
        ev = mon.events
        self._local_events = ev.PY_START | ev.PY_RETURN | ev.PY_YIELD | ev.PY_RESUME
        code_cache = targets.code_cache
        pickling, pickling_wanted = targets.pickling, targets.pickling.wanted
        slots = self._slots
        get_tid = threading.get_native_id
        perf = time.perf_counter
        tcpu = time.thread_time

        def slot_for(tid):
            s = slots.get(tid)
            if s is None:
                s = slots[tid] = ThreadSlot(threading.get_ident(), tid)
            return s

        def on_enter(code, offset):  # PY_START and PY_RESUME
            idx = code_cache.get(id(code), -1)
            if idx >= 0:
                if pickling_wanted[idx]:  # the first few calls: time pickling their arguments
                    pickling.enter(idx, sys._getframe(1))
                tid = get_tid()
                s = slots.get(tid) or slot_for(tid)
                s.enter(idx, perf(), tcpu())

        def on_exit(code, offset, value):  # PY_RETURN, PY_YIELD and PY_UNWIND
            idx = code_cache.get(id(code), -1)
            if idx >= 0:
                s = slots.get(get_tid())
                if s is not None:
                    s.exit(idx, perf(), tcpu())
                if pickling_wanted[idx]:
                    pickling.exit(idx, value)

        self._callbacks = {
            "PY_START": on_enter, "PY_RESUME": on_enter,
            "PY_RETURN": on_exit, "PY_YIELD": on_exit, "PY_UNWIND": on_exit,
        }
        if not self._claim():
            raise RuntimeError("no free sys.monitoring tool id")
        _install_use_tool_id_guard()
        self._discover_loaded_modules()

    def _claim(self, exclude=()) -> bool:
        """Take a free tool id and (re)install the callbacks and every local event on it."""
        mon = sys.monitoring
        for tid in _candidate_ids():
            if tid in exclude or mon.get_tool(tid) is not None:
                continue
            try:
                _REAL.get("use_tool_id", mon.use_tool_id)(tid, TOOL_NAME)
            except ValueError:
                continue
            self.tool_id = self.used_tool_id = tid
            break
        else:
            return False
        ev = mon.events
        for name, cb in self._callbacks.items():
            mon.register_callback(self.tool_id, getattr(ev, name), cb)
        mon.set_events(self.tool_id, ev.PY_UNWIND)
        for code in self._instrumented.values():
            mon.set_local_events(self.tool_id, code, self._local_events)
        return True

    def _release(self) -> None:
        mon = sys.monitoring
        tool, self.tool_id = self.tool_id, None
        try:
            mon.set_events(tool, 0)
            for code in self._instrumented.values():
                mon.set_local_events(tool, code, 0)
            for name in ("PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "PY_UNWIND"):
                mon.register_callback(tool, getattr(mon.events, name), None)
        finally:
            mon.free_tool_id(tool)

    def yield_tool_id(self, wanted: int, name) -> None:
        """The program asks for our tool id: give it up and move to another free one (or stop)."""
        old = self.tool_id
        if old is None or old != wanted:
            return
        self._release()
        if self._claim(exclude=(wanted,)):
            self.notes.append(
                f"the program claimed sys.monitoring tool id {wanted} ({name!r}); the tracer moved to "
                f"tool id {self.tool_id} (events during the switch may be missed)"
            )
        else:
            self.notes.append(
                f"the program claimed sys.monitoring tool id {wanted} ({name!r}) and no other id was free; "
                "worker entries stopped being recorded from then on"
            )

    def stop(self) -> None:
        if _AUDIT_STATE["backend"] is self:
            _AUDIT_STATE["backend"] = None
        if self.tool_id is None:
            return
        self._release()

    def after_fork_in_child(self) -> None:
        # The child keeps the parent's instrumentation; it must not pay for it or record anything.
        try:
            self.stop()
        except Exception:
            pass

    def stats(self) -> dict:
        return {
            "tool_id": self.used_tool_id,
            "instrumented_code_objects": len(self._instrumented),
            "discovery": "exec audit events + modules loaded before start",
            "notes": list(self.notes),
            "threads_started": self.threads_started,
            "thinned": self.thinned,
        }


def _functions_in(obj, depth: int = 0):
    """Plain functions reachable from a module attribute: functions, methods of classes."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, FunctionType):
        yield obj
    elif isinstance(obj, type) and depth < 3:
        for v in list(vars(obj).values()):
            yield from _functions_in(v, depth + 1)
