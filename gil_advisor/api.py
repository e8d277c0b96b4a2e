"""The public entry points for other tools (the tracer, editors, scripts)."""
from __future__ import annotations

from typing import Optional

from gil_advisor.config import Config
from gil_advisor.finding import Report
from gil_advisor.static.engine import check as _check


def check(paths: list[str], config: Optional[Config] = None) -> Report:
    """Analyse the Python files under `paths` (never importing them) and return the report."""
    from gil_advisor.file_filters import apply_per_file_ignores

    config = config or Config()
    return apply_per_file_ignores(_check(list(paths), config), config)


__all__ = ["check", "Config", "Report"]
