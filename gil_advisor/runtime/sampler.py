"""The sampler thread: per-thread CPU, run-queue wait and blocking state from /proc, thread
stacks from `sys._current_frames()`, and a GIL contention probe, every few milliseconds.

The probe is the sampler itself: it sleeps one interval and measures how late it gets the GIL
back (its own run-queue wait, read from schedstat, is subtracted so a busy host does not look
like contention). anchors.md: ~15 ms median delay with two CPU-bound threads, ~0.07 ms when the
GIL is free.

Each window between two samples is split, per thread, into: on CPU, waiting for a CPU (run
queue: other processes or too few cores), and off CPU. Off-CPU time is classified from the
system call the thread is blocked in (/proc/self/task/<tid>/syscall) and its top Python frame:
futex + user code + GIL contended => waiting for the GIL; futex in threading/queue code =>
waiting on a lock; any other system call => I/O or sleep.

The sampler is started with `_thread` so that it does not appear in `threading.enumerate()`
(programs that wait for `active_count() == 1` must not hang because of it).
"""
from __future__ import annotations

import _thread
import os
import random
import signal
import sys
import sysconfig
import threading
import time
from collections import Counter
from typing import Optional

from gil_advisor.runtime.timeline import Segments

from gil_advisor.runtime import procfs
from gil_advisor.runtime.runner import safe_text

GIL_CONTENDED_S = 0.001  # probe delay above which the GIL counts as held by someone else
MAX_PROBE_SAMPLES = 200_000  # per list; past it every other sample is dropped (BoundedSamples)
MAX_CODE_INFO = 100_000  # code objects remembered by the sampler before the cache starts over
MAX_DEPTH = 256
# Each sleep is the interval times a factor drawn uniformly from this range. A fixed period
# phase-locks to the interpreter's own periodic switch timer (the 20 ms sys.monitoring interval
# is 4 switch intervals): the probe then wakes just as the GIL changes hands, reads ~0.3 ms with
# two CPU-bound threads, and every tick sees the threads in the same phase. Random sampling
# times see time averages instead.
JITTER = (0.5, 1.5)
# A run's first second is sampled at the asked interval, where a short program needs every
# sample to see its workers at all; after it, at `later_interval` if one is set. Each sample
# takes the GIL from the running thread: at 5 ms on 3.11 that cost four CPU-bound threads more
# than the sampler's own CPU (docs/trace.md, Overhead).
SETTLE_S = 1.0
OFF_CLASSES = ("gil", "io", "lock")
# Faults the sampler thread itself may raise: left unblocked, so they stay deliverable to it
# (faulthandler, core dumps) instead of killing the process silently.
_SYNCHRONOUS = {getattr(signal, n) for n in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS") if hasattr(signal, n)}

_SYNC_MODULES = {
    "threading.py",
    "queue.py",
    os.path.join("concurrent", "futures", "thread.py"),
    os.path.join("concurrent", "futures", "_base.py"),
    os.path.join("concurrent", "futures", "process.py"),
    os.path.join("multiprocessing", "pool.py"),
    os.path.join("multiprocessing", "queues.py"),
    os.path.join("multiprocessing", "synchronize.py"),
    os.path.join("multiprocessing", "connection.py"),
    os.path.join("asyncio", "locks.py"),
    os.path.join("asyncio", "queues.py"),
}


def _both(path: str) -> set[str]:
    return {os.path.normpath(path) + os.sep, os.path.realpath(path) + os.sep}


def _stdlib_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    paths = sysconfig.get_paths()
    std = set().union(*(_both(paths[k]) for k in ("stdlib", "platstdlib") if k in paths))
    site = set().union(*(_both(paths[k]) for k in ("purelib", "platlib") if k in paths))
    return tuple(std), tuple(site)


_STD, _SITE = _stdlib_dirs()
_OWN = tuple(_both(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_CWD = os.getcwd()


class BoundedSamples(list):
    """A list of samples that stays under `limit`: when full, every other sample is dropped and
    from then on only every `stride`-th new one is kept, so old and new keep the same density."""

    __slots__ = ("stride", "_n", "limit")

    def __init__(self, limit: int = MAX_PROBE_SAMPLES):
        super().__init__()
        self.stride = 1
        self._n = 0
        self.limit = limit

    def note(self, sample) -> None:
        n = self._n
        self._n = n + 1
        if n % self.stride:
            return
        self.append(sample)
        if len(self) >= self.limit:
            del self[1::2]
            self.stride *= 2


class Bucket:
    """Seconds of one thread's (or a group's) life, split by what the thread was doing."""

    __slots__ = ("dt", "cpu", "runq", "gil", "io", "lock", "other", "samples", "hot", "probe")

    def __init__(self):
        self.dt = self.cpu = self.runq = self.gil = self.io = self.lock = self.other = 0.0
        self.samples = 0
        self.hot: Counter = Counter()
        self.probe: BoundedSamples = BoundedSamples()

    def add(self, dt, cpu, runq, off, off_cls):
        self.dt += dt
        self.cpu += cpu
        self.runq += runq
        if type(off_cls) is tuple:  # split between the classes seen at the window's two ends
            half = off / 2
            for c in off_cls:
                self._add_off(half, c)
        else:
            self._add_off(off, off_cls)
        self.samples += 1

    def _add_off(self, off, off_cls):
        if off_cls == "gil":
            self.gil += off
        elif off_cls == "io":
            self.io += off
        elif off_cls == "lock":
            self.lock += off
        else:
            self.other += off

    def merge(self, other: "Bucket") -> None:
        for k in ("dt", "cpu", "runq", "gil", "io", "lock", "other", "samples"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.hot.update(other.hot)
        self.probe.extend(other.probe)

    def shares(self) -> dict:
        d = self.dt or 1.0
        return {
            "on_cpu": self.cpu / d,
            "waiting_for_cpu": self.runq / d,
            "waiting_for_gil": self.gil / d,
            "io_or_sleep": self.io / d,
            "lock_wait": self.lock / d,
            "other": self.other / d,
        }


class ThreadRecord:
    __slots__ = (
        "tid", "ident", "name", "daemon", "is_main", "first_seen", "last_seen", "cpu_first",
        "cpu_last", "runq_first", "runq_last", "born_after_start", "total", "in_target",
        "by_entry", "last_cls", "alive", "files", "states", "timeline", "raw_name",
    )

    def __init__(self, tid, ident, name, daemon, is_main, now, born_after_start):
        self.tid = tid
        self.ident = ident
        self.name = name  # safe to write anywhere (lone surrogates escaped)
        self.raw_name = name
        self.daemon = daemon
        self.is_main = is_main
        self.first_seen = self.last_seen = now
        self.cpu_first = self.cpu_last = 0
        self.runq_first = self.runq_last = 0
        self.born_after_start = born_after_start
        self.total = Bucket()
        self.in_target: dict[int, Bucket] = {}
        self.by_entry: dict[tuple, Bucket] = {}
        self.last_cls = "other"
        self.alive = True
        self.files = procfs.ThreadFiles(tid)
        self.states: Counter = Counter()
        self.timeline = Segments()  # [start, end, state] since the trace began, for --html/--timeline


class ProcessSampler:
    def __init__(self, backend, interval: float, later_interval: Optional[float] = None):
        self.backend = backend
        self.interval = interval
        self.later_interval = later_interval  # after the first SETTLE_S seconds (None: never)
        self.slowed_at: Optional[float] = None  # seconds into the run when it changed
        self.records: dict[int, ThreadRecord] = {}
        self.probe = BoundedSamples()  # (time, GIL delay seconds)
        self.ticks = 0
        self.error: Optional[str] = None
        self.ident: Optional[int] = None
        self.native_id: Optional[int] = None
        self.own_cpu_s = 0.0
        self._running = False
        self._done = _thread.allocate_lock()
        # The sampler sleeps by waiting on this lock, held until stop() releases it: stopping
        # then takes no sampling interval. A timed lock wait releases and retakes the GIL
        # exactly as time.sleep does, so the probe measures the same thing.
        self._wake = _thread.allocate_lock()
        self._code_info: dict[int, tuple[bool, bool]] = {}
        self._pinned: list = []  # keeps the code objects alive, so their ids stay unique
        self.code_info_resets = 0
        self._main_ident = threading.main_thread().ident
        self.t_start = 0.0
        self._started = False
        self._last_tick: Optional[float] = None
        self.use_frames = True
        self._thread_count = procfs.ThreadCount()
        self._last_count: Optional[int] = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self.t_start = time.perf_counter()
        self._running = True
        self._done.acquire()
        self._wake.acquire()
        # Baseline for threads alive now (the main thread): count only what happens from here.
        self._refresh_threads(self.t_start, baseline=True)
        _thread.start_new_thread(self._run, ())
        self._started = True

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop the sampler thread and take one last sample; False if it did not stop in time."""
        if not self._started:
            return True
        self._running = False
        try:
            self._wake.release()
        except RuntimeError:  # pragma: no cover - released already
            pass
        stopped = self._done.acquire(timeout=timeout + max(self.interval, self.later_interval or 0) * JITTER[1])
        if stopped:
            self._done.release()
            try:
                self._tick(time.perf_counter(), None)  # final window, from the main thread
            except Exception as e:  # pragma: no cover - defensive
                self.error = self.error or repr(e)
        for rec in self.records.values():
            rec.files.close()
        self._thread_count.close()
        return stopped

    def after_fork_in_child(self) -> None:
        self._running = False
        for rec in self.records.values():
            rec.files.close()

    def _block_signals(self) -> None:
        """Leave every process-directed signal to the program's threads.

        The kernel hands a process signal to whichever thread next returns to user space: when
        that is the sampler, CPython's handler only flags it, and a main thread asleep in
        `lock.acquire()` is never woken, so Ctrl-C on a deadlocked program hung (CI, 3.12)."""
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.valid_signals()) - _SYNCHRONOUS)

    def _run(self) -> None:
        try:
            self._block_signals()
        except (OSError, ValueError) as e:  # pragma: no cover - a platform without the mask
            self.error = repr(e)
        self.ident = _thread.get_ident()
        self.native_id = threading.get_native_id() if hasattr(threading, "get_native_id") else None
        own = procfs.ThreadFiles(self.native_id) if self.native_id else None
        prev_runq = None
        try:
            # A private generator: the program's own `random` state is never touched.
            draw = random.Random().uniform
            low, high = self.interval * JITTER[0], self.interval * JITTER[1]
            wait = self._wake.acquire
            perf = time.perf_counter
            later = self.later_interval
            settle_at = self.t_start + SETTLE_S if later and later > self.interval else None
            while self._running:
                interval = draw(low, high)
                before = perf()
                if settle_at is not None and before >= settle_at:
                    low, high = later * JITTER[0], later * JITTER[1]
                    self.slowed_at = before - self.t_start
                    settle_at = None
                if wait(True, interval):  # released by stop()
                    break
                now = perf()
                late = now - before - interval
                if own is not None:
                    ss = own.schedstat()
                    if ss is not None:
                        if prev_runq is not None:
                            late -= (ss[1] - prev_runq) / 1e9
                        prev_runq = ss[1]
                        self.own_cpu_s = ss[0] / 1e9
                late = max(0.0, late)
                if not self._running:
                    break
                self._tick(now, late)
        except BaseException as e:  # the sampler must never take the program down
            self.error = repr(e)
        finally:
            if own is not None:
                own.close()
            self._done.release()

    # -- one sample ----------------------------------------------------------------------
    def _refresh_threads(self, now: float, baseline: bool = False) -> dict[int, int]:
        """Map ident -> tid for the Python threads alive now; create records for new ones."""
        ident_to_tid: dict[int, int] = {}
        for th in threading.enumerate():
            tid = getattr(th, "native_id", None)
            if tid is None or th.ident is None:
                continue
            ident_to_tid[th.ident] = tid
            rec = self.records.get(tid)
            if rec is None or not rec.alive:
                is_main = th.ident == self._main_ident
                self._new_record(tid, th.ident, safe_text(th.name), th.daemon, is_main, now, baseline)
            else:
                rec.ident = th.ident
                if th.name is not rec.raw_name:  # renamed: escape lone surrogates once, not per tick
                    rec.raw_name = th.name
                    rec.name = safe_text(th.name)
        for tid, slot in list(self.backend.slots().items()) if self.backend.exact else ():
            if tid not in self.records and slot.ident is not None:
                ident_to_tid.setdefault(slot.ident, tid)
                self._new_record(tid, slot.ident, None, None, False, now, baseline)
        count = self._thread_count.read()
        alive = sum(1 for r in self.records.values() if r.alive) + 1  # + this sampler thread
        if count is None or (count != alive and count != self._last_count):
            # Threads /proc knows but `threading` does not (C extensions, _thread): rare, and
            # listing the directory releases the GIL, so only when the count says so.
            self._last_count = count
            known = {r.tid for r in self.records.values() if r.alive}
            for tid in procfs.list_tids():
                if tid not in known and tid != self.native_id:
                    self._new_record(tid, None, None, None, False, now, baseline)
        return ident_to_tid

    def _new_record(self, tid, ident, name, daemon, is_main, now, baseline):
        if tid == self.native_id:
            return
        rec = ThreadRecord(tid, ident, name, daemon, is_main, now, not baseline)
        ss = rec.files.schedstat()
        if ss is None:
            rec.files.close()
            rec.alive = False
            if not procfs.HAVE_PROC:
                self.records[tid] = rec
            return
        if baseline:
            rec.cpu_first, rec.runq_first = ss
        rec.cpu_last, rec.runq_last = ss
        if not baseline:
            # A thread born after tracing started: its schedstat counts from its birth, so the
            # first window runs from then (estimated) to now.
            prev = self._last_tick if self._last_tick is not None else self.t_start
            alive_for = max((ss[0] + ss[1]) / 1e9, (now - prev) / 2)
            rec.first_seen = rec.last_seen = max(prev, now - alive_for)
            rec.cpu_last = rec.runq_last = 0
        self.records[tid] = rec

    def _code(self, code) -> tuple[bool, bool]:
        """(is user code, is a synchronisation module) for a code object, cached."""
        info = self._code_info.get(id(code))
        if info is None:
            fn = code.co_filename
            if fn[:1] == "<":
                user, sync = False, False
            else:
                # String work only: realpath/abspath make system calls, which release the GIL.
                path = os.path.normpath(fn) if os.path.isabs(fn) else os.path.normpath(os.path.join(_CWD, fn))
                std = path.startswith(_STD) and not path.startswith(_SITE)
                user = not std and not path.startswith(_OWN)
                sync = std and any(path.endswith(os.sep + m) for m in _SYNC_MODULES)
            info = (user, sync)
            if len(self._pinned) >= MAX_CODE_INFO:  # a program that keeps making code (exec, eval)
                self._code_info.clear()
                self._pinned.clear()
                self.code_info_resets += 1
            self._code_info[id(code)] = info
            self._pinned.append(code)
        return info

    def _snapshot_stacks(self) -> dict[int, list]:
        """ident -> [(code, line), ...] from the top frame down, for every other thread.

        Frame objects of other threads are turned into plain data at once and dropped: holding
        them while their thread moves on made CPython 3.12.1 free objects twice at exit
        ("SystemError: deallocated BytesIO object has exported buffers", then SIGSEGV)."""
        out: dict[int, list] = {}
        if not self.use_frames:
            return out
        own = _thread.get_ident()
        frames = sys._current_frames()
        try:
            for ident, f in frames.items():
                if ident == own:
                    continue
                stack = []
                depth = 0
                while f is not None and depth < MAX_DEPTH:
                    stack.append((f.f_code, f.f_lineno))
                    f = f.f_back
                    depth += 1
                out[ident] = stack
        finally:
            f = None
            frames = None
        return out

    def _tick(self, now: float, late: Optional[float]) -> None:
        self.ticks += 1
        if late is not None:
            self.probe.note((now, late))
        # Read every thread's /proc state first, before any other Python work: a thread that wakes
        # while this tick holds the GIL would otherwise be seen "waiting for the GIL" because of us.
        readings = []
        for rec in list(self.records.values()):
            if rec.alive:
                readings.append((rec, rec.files.schedstat(), rec.files.syscall()))
        stacks = self._snapshot_stacks()
        ident_to_tid = self._refresh_threads(now)
        backend = self.backend
        futex = procfs.FUTEX_SYSCALL
        code_info = self._code
        for rec, ss, sc in readings:
            if ss is None:
                rec.alive = False
                rec.files.close()
                continue
            if rec.ident is not None and ident_to_tid.get(rec.ident) not in (None, rec.tid):
                rec.ident = None  # the ident now belongs to another thread
            stack = stacks.get(rec.ident) if rec.ident is not None else None
            dt = now - rec.last_seen
            dcpu = max(0, ss[0] - rec.cpu_last) / 1e9
            drunq = max(0, ss[1] - rec.runq_last) / 1e9
            rec.cpu_last, rec.runq_last, rec.last_seen = ss[0], ss[1], now
            if dt <= 0:
                continue
            off = max(0.0, dt - dcpu - drunq)
            # What is the thread doing right now?
            top_user = outer_user = None
            top_sync = False
            if stack:
                top_sync = code_info(stack[0][0])[1]
                for entry in stack:
                    if code_info(entry[0])[0]:
                        if top_user is None:
                            top_user = entry
                        outer_user = entry
            if sc is None:
                cls = "unknown"
            elif sc == -1:
                cls = "run"
            elif sc == futex:
                # Waiting for the GIL or for a lock taken in user code look the same here; the
                # verdict only believes "GIL" when the probe says the GIL was contended.
                cls = "lock" if (top_sync or rec.ident is None) else "gil"
            else:
                cls = "io"
            rec.states[cls] += 1
            rec.timeline.note(now - dt - self.t_start, now - self.t_start, cls)
            # The window's off-CPU time is attributed to what the thread was doing at its two ends.
            prev_cls = rec.last_cls
            rec.last_cls = cls
            end_off = cls if cls in OFF_CLASSES else None
            start_off = prev_cls if prev_cls in OFF_CLASSES else None
            if end_off and start_off and end_off != start_off:
                off_cls = (start_off, end_off)
            else:
                off_cls = end_off or start_off or "other"
            rec.total.add(dt, dcpu, drunq, off, off_cls)
            wants_python = cls == "run" or cls == "gil"
            hot = None
            if wants_python and top_user is not None:
                hot = (top_user[0].co_filename, top_user[1], top_user[0].co_name)
            inside = ()
            if rec.ident is not None:
                inside = backend.inside(rec.tid, rec.ident, stack, now, ss[0] / 1e9)
            if inside:
                for idx in inside:
                    b = rec.in_target.get(idx)
                    if b is None:
                        b = rec.in_target[idx] = Bucket()
                    b.add(dt, dcpu, drunq, off, off_cls)
                    if hot is not None:
                        b.hot[hot] += 1
            else:
                if outer_user is not None:
                    c = outer_user[0]
                    key = (c.co_filename, c.co_firstlineno, getattr(c, "co_qualname", c.co_name))
                else:
                    key = ("", 0, "<no Python frame>")
                b = rec.by_entry.get(key)
                if b is None:
                    b = rec.by_entry[key] = Bucket()
                b.add(dt, dcpu, drunq, off, off_cls)
                if hot is not None:
                    b.hot[hot] += 1
                if late is not None and cls == "gil":
                    b.probe.note(late)
        self._last_tick = now

    # -- results -------------------------------------------------------------------------
    def cpu_now(self) -> dict[int, float]:
        """tid -> CPU seconds (schedstat) at the last sample."""
        return {tid: r.cpu_last / 1e9 for tid, r in self.records.items()}
