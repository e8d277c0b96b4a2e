"""A tracing session: backend hooks + the sampler thread + whole-process counters, with
fork safety (a forked child stops tracing and never writes a report)."""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Optional

from gil_advisor.runtime import procfs
from gil_advisor.runtime.sampler import ProcessSampler
from gil_advisor.runtime.targets import TargetIndex


@dataclass(frozen=True)
class Thinning:
    """What was aggregated to keep memory bounded on a long run (the report's `thinned`)."""

    worker_intervals_gap_s: float  # widest gap between worker calls merged away (0: none)
    gil_probe_stride: int  # 1: every probe sample kept; n: one in n
    code_caches_reset: int  # times a code-object cache was emptied (programs that make code)

    @property
    def any(self) -> bool:
        return bool(self.worker_intervals_gap_s or self.gil_probe_stride > 1 or self.code_caches_reset)

    def to_dict(self) -> dict:
        return {**asdict(self), "timeline_thinned": self.any}


class TraceSession:
    def __init__(self, backend, reason: str, targets: TargetIndex, interval: float, later_interval: Optional[float] = None):
        self.backend = backend
        self.reason = reason
        self.targets = targets
        self.interval = interval
        self.sampler = ProcessSampler(backend, interval, later_interval)
        self.pid = os.getpid()
        self.active = False
        self.host: dict = {}
        self.t0 = self.t1 = 0.0
        self.times0 = self.times1 = None
        self.jiffies0 = self.jiffies1 = None
        self.sampler_stopped = True
        self.alive_at_exit: list[dict] = []
        self.backend_error: Optional[str] = None
        self.loaded_files = LoadedFiles()
        self.thinned: Optional[Thinning] = None

    def start(self) -> None:
        self.host = procfs.host_facts()
        self.pid = os.getpid()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)
        self.jiffies0 = procfs.host_busy_jiffies()
        self.times0 = os.times()
        self.t0 = time.perf_counter()
        self.backend.start(self.targets)
        self.sampler.start()
        self.active = True

    def _after_fork_in_child(self) -> None:
        if not self.active:
            return
        self.active = False
        try:
            self.backend.after_fork_in_child()
            self.sampler.after_fork_in_child()
        except Exception:
            pass

    @property
    def in_child(self) -> bool:
        return os.getpid() != self.pid

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        self.t1 = time.perf_counter()
        self.times1 = os.times()
        self.jiffies1 = procfs.host_busy_jiffies()
        self.alive_at_exit = [
            {"name": t.name, "daemon": t.daemon, "tid": getattr(t, "native_id", None)}
            for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive()
        ]
        self.loaded_files = _loaded_files()
        self.sampler_stopped = self.sampler.stop()
        try:
            self.backend.stop()
        except Exception as e:  # the report matters more than a clean unhook
            self.backend_error = repr(e)
        self.backend.finish(self.t1, self.sampler.cpu_now())
        self.thinned = self.thinning()
        self.backend.thinned = self.thinned.to_dict()  # reported with the backend's stats

    def thinning(self) -> Thinning:
        slots = self.backend.slots().values()
        return Thinning(
            worker_intervals_gap_s=round(max((s.thinned_gap_s for s in slots), default=0.0), 6),
            gil_probe_stride=self.sampler.probe.stride,
            code_caches_reset=self.sampler.code_info_resets + getattr(self.targets, "pins_reset", 0),
        )


class LoadedFiles:
    """The module files this run imported (findings elsewhere could not run), taken as given at
    the end of the run; `path in loaded` compares real paths, resolving only the files with the
    same name (realpath of every module was 200-odd modules x a stat per path component)."""

    def __init__(self, files=()):
        self._by_name: dict[str, list[str]] = {}
        for f in files:
            self._by_name.setdefault(os.path.basename(f), []).append(f)
        self._links: Optional[set[str]] = None

    def __contains__(self, path: str) -> bool:
        same_name = self._by_name.get(os.path.basename(path), ())
        if any(f == path or os.path.realpath(f) == path for f in same_name):
            return True
        if self._links is None:  # module files that are symlinks to a file of another name
            every = [f for names in self._by_name.values() for f in names]
            self._links = {os.path.realpath(f) for f in every if os.path.islink(f)}
        return path in self._links


def _loaded_files() -> LoadedFiles:
    files = (getattr(m, "__file__", None) for m in list(sys.modules.values()))
    return LoadedFiles(f for f in files if isinstance(f, str))
