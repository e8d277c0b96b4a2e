"""Tracing backends and the choice between them (like coverage.py's core: capability checks,
a recorded reason, and a user override)."""
from __future__ import annotations

import sys

from gil_advisor.runtime.backends import profile, sampling, sysmon

BACKENDS = ("auto", "sysmon", "sampler", "profile")


def choose_backend(requested: str = "auto"):
    """Return (backend instance, reason)."""
    if requested == "sysmon":
        ok, why = sysmon.available()
        if not ok:
            raise RuntimeError(f"--backend sysmon: {why}")
        return sysmon.SysMonitoringBackend(), f"requested; {why}"
    if requested == "sampler":
        return sampling.SamplingBackend(), "requested; " + sampling.available()[1]
    if requested == "profile":
        return profile.ProfileBackend(), "requested; " + profile.available()[1]
    ok, why = sysmon.available()
    if ok:
        return sysmon.SysMonitoringBackend(), f"auto: {why}; worker entries are exact and cost ~nothing"
    return (
        sampling.SamplingBackend(),
        f"auto: {why}; stack sampling is used because a profile hook costs 2-6x on "
        f"Python {sys.version_info[0]}.{sys.version_info[1]}",
    )
