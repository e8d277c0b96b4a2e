"""The public entry points for other tools (the tracer, editors, the flake8 plugin, scripts)."""
from __future__ import annotations

from typing import Optional, Sequence

from gil_advisor.config import Config, ConfigError, Options, Overrides
from gil_advisor.finding import Report
from gil_advisor.static.inputs import ReadInputs
from gil_advisor.static.engine import check as _check
from gil_advisor.static.engine import check_source as _check_source


def check(paths: Sequence[str], options: Optional[Options] = None, closed: bool = False, inputs: Optional[ReadInputs] = None) -> Report:
    """Analyse the Python files under `paths` (never importing them) and return the report.
    Without `options`, the defaults (no configuration file is read, no cache). `closed`: the
    files are the whole program; callers are looked for in them only. `inputs`, if given,
    receives the other files, and the names looked up in folders, that the answer depends on."""
    from gil_advisor.file_filters import apply_per_file_ignores

    options = options or Options()
    return apply_per_file_ignores(_check(list(paths), options, closed=closed, inputs=inputs), options)


def check_source(filename: str, text: str, options: Optional[Options] = None, apply_noqa: bool = True) -> Report:
    """The findings located in one file, given its text; `apply_noqa=False` leaves `# noqa`
    to the caller (flake8 does its own)."""
    return _check_source(filename, text, options, apply_noqa)


def resolve_options(paths: Sequence[str], overrides: Optional[Overrides] = None) -> Options:
    """The options `gil-advisor check paths` would use (configuration file, then overrides)."""
    return Options.resolve(paths, overrides)


__all__ = ["check", "check_source", "resolve_options", "Config", "ConfigError", "Options", "Overrides", "ReadInputs", "Report"]
