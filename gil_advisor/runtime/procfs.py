"""Readers for what Linux's /proc says about this process's threads, and host facts.

Everything degrades to ``None`` off Linux or when a file is unreadable: the tracer then
reports fewer figures instead of failing.
"""
from __future__ import annotations

import math
import os
import sys
import sysconfig
from typing import Optional

# Number of the futex system call, per architecture: a thread blocked in futex() waits for the GIL
# or for a lock; any other blocking system call is I/O or a sleep.
_FUTEX_SYSCALL = {
    "x86_64": 202,
    "amd64": 202,
    "i386": 240,
    "i686": 240,
    "aarch64": 98,
    "arm64": 98,
    "riscv64": 98,
    "armv7l": 240,
    "ppc64le": 221,
    "ppc64": 221,
    "s390x": 238,
}
# platform.machine() without importing platform (start-up time counts against the budget)
MACHINE = os.uname().machine if hasattr(os, "uname") else ""
FUTEX_SYSCALL: Optional[int] = _FUTEX_SYSCALL.get(MACHINE.lower())

HAVE_PROC = os.path.isdir("/proc/self/task")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _make_libc():
    """pread/open/close that keep the GIL (paths are bytes).

    os.pread, os.open and os.close release it, and under contention each re-acquisition costs a
    switch interval (5 ms or more): one sample of three threads would take tens of milliseconds.
    /proc calls take microseconds, so holding the GIL through them is the cheaper choice. Falls
    back to the os functions without ctypes."""
    try:
        import ctypes

        libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: calls keep the GIL
        c_pread = libc.pread
        c_pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
        c_pread.restype = ctypes.c_ssize_t
        c_open = libc.open
        c_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
        c_open.restype = ctypes.c_int
        c_close = libc.close
        c_close.argtypes = [ctypes.c_int]
        c_close.restype = ctypes.c_int
        buf = ctypes.create_string_buffer(4096)

        def pread(fd: int, n: int) -> bytes:
            got = c_pread(fd, buf, min(n, 4096), 0)
            if got < 0:
                raise OSError(ctypes.get_errno(), "pread failed")
            return buf.raw[:got]

        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)

        def open_ro(path: bytes) -> int:
            fd = c_open(path, flags)
            if fd < 0:
                raise OSError(ctypes.get_errno(), f"cannot open {path}")
            return fd

        def close(fd: int) -> None:
            c_close(fd)

        return pread, open_ro, close, "ctypes"
    except Exception:  # pragma: no cover - no ctypes or no libc symbol

        def pread(fd: int, n: int) -> bytes:
            return os.pread(fd, n, 0)

        def open_ro(path: bytes) -> int:
            return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))

        return pread, open_ro, os.close, "os"


pread, open_ro, close_fd, LIBC_KIND = _make_libc()


def read_file(path: bytes, n: int = 128) -> Optional[bytes]:
    """The first `n` bytes of a /proc file: open, read, close, with the GIL held throughout.

    No descriptor outlives the call, so the tracer holds none per thread (a program near its
    descriptor limit keeps them all) and never closes a number the program may have reused after
    os.closerange(). None when the file cannot be read (the thread has gone).
    """
    try:
        fd = open_ro(path)
    except OSError:
        return None
    try:
        return pread(fd, n)
    except OSError:
        return None
    finally:
        close_fd(fd)


class ThreadFiles:
    """One thread's schedstat and syscall files, read whole at each sample."""

    __slots__ = ("tid", "_sched", "_sys")

    def __init__(self, tid: int):
        self.tid = tid
        base = f"/proc/self/task/{tid}/".encode()
        self._sched = base + b"schedstat"
        self._sys = base + b"syscall"

    def schedstat(self) -> Optional[tuple[int, int]]:
        """(ns on CPU, ns waiting on a run queue) since the thread started, or None if it has gone."""
        data = read_file(self._sched)
        if data is None:
            return None
        try:
            fields = data.split()
            return int(fields[0]), int(fields[1])
        except (ValueError, IndexError):
            return None

    def syscall(self) -> Optional[int]:
        """-1 when the thread is on a CPU or runnable, else the number of the system call it is
        blocked in; None when unknown."""
        data = read_file(self._sys)
        if data is None:
            return None
        if data.startswith(b"running"):
            return -1
        try:
            return int(data.split(None, 1)[0])
        except (ValueError, IndexError):
            return None

    def close(self) -> None:
        """Nothing is held open; kept so callers need not know."""


class ThreadCount:
    """The process's thread count from /proc/self/status, read without releasing the GIL; the
    sampler lists /proc/self/task (which does release it) only when the count changes."""

    def read(self) -> Optional[int]:
        data = read_file(b"/proc/self/status", 4096)
        if data is None:
            return None
        try:
            i = data.index(b"\nThreads:")
            end = data.index(b"\n", i + 1)
            return int(data[i + 9:end])
        except ValueError:
            return None

    def close(self) -> None:
        """Nothing is held open."""


def list_tids() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        return []


def thread_state(tid: int) -> Optional[str]:
    """The one-letter scheduler state from /proc/self/task/<tid>/stat (R, S, D...)."""
    try:
        with open(f"/proc/self/task/{tid}/stat", "rb") as f:
            data = f.read()
        i = data.rindex(b")") + 2  # the command name may contain spaces and parentheses
        return data[i:i + 1].decode()
    except (OSError, ValueError):
        return None


def host_busy_jiffies() -> Optional[tuple[int, int]]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    try:
        with open("/proc/stat", "rb") as f:
            first = f.readline().split()
        vals = [int(v) for v in first[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        total = sum(vals[:8])
        return total - idle, total
    except (OSError, ValueError, IndexError):
        return None


def affinity_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cgroup_cpu_quota() -> Optional[float]:
    """The CPU quota of this process's cgroup in CPUs (cgroup v2 cpu.max, else v1 cfs), or None."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    best: Optional[float] = None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            # cgroup v2: the limit may sit on any ancestor; the tightest one applies.
            p = path
            while True:
                q = _read_cpu_max(os.path.join("/sys/fs/cgroup", p.lstrip("/"), "cpu.max"))
                if q is not None:
                    best = q if best is None else min(best, q)
                if p in ("/", ""):
                    break
                p = os.path.dirname(p)
        elif "cpu" in controllers.split(","):
            for base in ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"):
                q = _read_cfs(os.path.join(base, path.lstrip("/"))) or _read_cfs(base)
                if q is not None:
                    best = q if best is None else min(best, q)
                    break
    return best


def _read_cpu_max(path: str) -> Optional[float]:
    try:
        with open(path) as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def _read_cfs(directory: str) -> Optional[float]:
    try:
        with open(os.path.join(directory, "cpu.cfs_quota_us")) as f:
            quota = int(f.read())
        with open(os.path.join(directory, "cpu.cfs_period_us")) as f:
            period = int(f.read())
    except (OSError, ValueError):
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def usable_cores() -> tuple[int, dict]:
    """How many CPUs this process can use at once: affinity mask, capped by a cgroup quota."""
    aff = affinity_cores()
    quota = cgroup_cpu_quota()
    cores = aff
    if quota is not None:
        cores = max(1, min(aff, math.ceil(quota)))
    return cores, {"cpu_count": os.cpu_count(), "affinity": aff, "cgroup_quota": quota}


def gil_enabled() -> Optional[bool]:
    fn = getattr(sys, "_is_gil_enabled", None)
    if fn is None:
        return True if sys.implementation.name == "cpython" else None
    try:
        return bool(fn())
    except Exception:  # pragma: no cover - defensive
        return None


def host_facts() -> dict:
    cores, detail = usable_cores()
    try:
        load = os.getloadavg()
    except (AttributeError, OSError):
        load = None
    return {
        "platform": sys.platform,
        "machine": MACHINE,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "switch_interval_s": sys.getswitchinterval(),
        "usable_cores": cores,
        **detail,
        "loadavg_at_start": list(load) if load else None,
        "proc_available": HAVE_PROC,
    }
