"""The public entry points for other tools (the tracer, editors, scripts)."""
from __future__ import annotations

from typing import Optional

from gil_advisor.config import Config
from gil_advisor.finding import Report
from gil_advisor.static.engine import check as _check


def check(paths: list[str], config: Optional[Config] = None, closed: bool = False) -> Report:
    """Analyse the Python files under `paths` (never importing them) and return the report.
    `closed`: the files are the whole program; callers are looked for in them only."""
    return _check(list(paths), config, closed=closed)


__all__ = ["check", "Config", "Report"]
