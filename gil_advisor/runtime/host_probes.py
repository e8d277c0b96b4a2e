"""What starting a worker process and piping data to it cost on this host, for the projection.

Each is measured by running this interpreter as a child process (`python -I -S -c pass`, and
8 MB echoed through a pipe). They depend on the host and the interpreter, not on the program,
so when trace has check's cache (its static pass opened one) they are kept there for a day
per interpreter, and a warm trace of a program with findings starts no child process. Entries
are plain JSON and validated; a bad or old one is measured again.
"""
from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import time
from typing import Optional

from gil_advisor.static.inputs import signature

FIELD = "host_probes"
MAX_AGE_S = 24 * 3600
PIPE_PROBE_BYTES = 8 * 1024 * 1024


def _key() -> str:
    exe = os.path.realpath(sys.executable)
    uname = os.uname() if hasattr(os, "uname") else ()
    parts = ("host-probes-1", exe, repr(signature(exe)), sys.version, repr(tuple(uname)), str(os.cpu_count()))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _figure(value) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value < 60:
        return float(value)
    return None


class HostProbes:
    """The two measurements, each made at most once per run (and, with a store, per day)."""

    def __init__(self, store=None):
        self.store = store  # a static.cache.Cache, or None: measure every run
        self._saved: Optional[dict] = None
        self.reused: list[str] = []  # which figures came from the store (for tests and the report)

    def _entry(self) -> dict:
        if self._saved is None:
            self._saved = {}
            data = self.store.get_data(_key(), FIELD) if self.store is not None else None
            if isinstance(data, dict):
                at = data.get("measured_at")
                if isinstance(at, (int, float)) and 0 <= time.time() - at < MAX_AGE_S:
                    figures = {k: _figure(data.get(k)) for k in ("startup_s", "pipe_s_per_byte")}
                    self._saved = {k: v for k, v in figures.items() if v is not None}
                    self._saved["measured_at"] = at
        return self._saved

    def _get(self, name: str, measure) -> float:
        entry = self._entry()
        if name in entry:
            if name not in self.reused:
                self.reused.append(name)
            return entry[name]
        value = measure()
        entry[name] = value
        if self.store is not None and value > 0:
            entry.setdefault("measured_at", time.time())
            try:
                self.store.put_data(_key(), FIELD, entry)
            except Exception:  # a cache that cannot be written costs a measurement next time
                pass
        return value

    def startup_s(self) -> float:
        """One interpreter start-up, in seconds (0.0 when it cannot be measured)."""
        return self._get("startup_s", _measure_startup)

    def pipe_s_per_byte(self) -> float:
        """Seconds per byte through a pipe to another process and back."""
        return self._get("pipe_s_per_byte", lambda: _measure_pipe(self.startup_s()))


def _measure_startup() -> float:
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], timeout=10, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0
    except Exception:
        return 0.0


def _measure_pipe(startup: float) -> float:
    echo = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-S", "-c", echo], input=b"x" * PIPE_PROBE_BYTES, timeout=30,
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return max(0.0, time.perf_counter() - t0 - startup) / (2 * PIPE_PROBE_BYTES)
    except Exception:
        return 0.0
