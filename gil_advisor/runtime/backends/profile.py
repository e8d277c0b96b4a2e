"""Exact but expensive backend: sys.setprofile/threading.setprofile filtered to worker code.

Every Python call in every thread enters the hook, so call-heavy programs slow down several
times (anchors.md: 1.9x on loops, 5.6x on calls with 3.11). Opt-in only: --backend profile.
"""
from __future__ import annotations

import sys
import threading
import time

from gil_advisor.runtime.backends.base import HookBackendMixin
from gil_advisor.runtime.ledger import ThreadSlot
from gil_advisor.runtime.targets import TargetIndex


def available() -> tuple[bool, str]:
    return True, "sys.setprofile works on every CPython (opt-in: it slows call-heavy code several times)"


class ProfileBackend(HookBackendMixin):
    name = "profile"
    exact = True

    def __init__(self):
        self._init_slots()
        self._hook = None
        self._old = (None, None)

    def start(self, targets: TargetIndex) -> None:
        if not len(targets):
            return
        code_cache = targets.code_cache
        pickling, pickling_wanted = targets.pickling, targets.pickling.wanted
        match = targets.match
        slots = self._slots
        get_tid = threading.get_native_id
        perf = time.perf_counter
        tcpu = time.thread_time

        def hook(frame, event, arg):
            if event == "call" or event == "return":
                code = frame.f_code
                idx = code_cache.get(id(code))
                if idx is None:
                    idx = match(code)
                if idx >= 0:
                    tid = get_tid()
                    s = slots.get(tid)
                    if s is None:
                        s = slots[tid] = ThreadSlot(threading.get_ident(), tid)
                    if event == "call":
                        if pickling_wanted[idx]:  # the first few calls: time pickling their data
                            pickling.enter(idx, frame)
                        s.enter(idx, perf(), tcpu())
                    else:
                        s.exit(idx, perf(), tcpu())
                        if pickling_wanted[idx]:
                            pickling.exit(idx, arg)

        self._hook = hook
        self._old = (sys.getprofile(), getattr(threading, "_profile_hook", None))
        threading.setprofile(hook)
        sys.setprofile(hook)

    def stop(self) -> None:
        if self._hook is None:
            return
        self._hook = None
        sys.setprofile(self._old[0])
        threading.setprofile(self._old[1])
        # Threads already running keep the hook; neutralise it for them where the API allows.
        if hasattr(threading, "setprofile_all_threads"):
            threading.setprofile_all_threads(self._old[0])

    def after_fork_in_child(self) -> None:
        self.stop()

    def stats(self) -> dict:
        return {"thinned": self.thinned}
