"""The flake8 front door: `flake8 --select GIL` reports the same findings, one line each.

flake8 hands us one file at a time; the worker's other modules are found on disk beside
it (never imported), and their summaries are kept in memory for the next file (flake8 -jN
runs one plugin per process, each with its own). Files that do not mention threads cost a
few substring searches.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from gil_advisor import __version__
from gil_advisor.config import CONFIDENCES, ConfigError, Options, Overrides
from gil_advisor.static.cache import MemoryCache
from gil_advisor.static.engine import check_source


class GilAdvisorPlugin:
    name = "gil-advisor"
    version = __version__
    _options: Options = Options()
    _cache: MemoryCache = MemoryCache.for_config(Options().fingerprint())

    def __init__(self, tree, filename: str, lines: list):
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, option_manager) -> None:
        option_manager.add_option(
            "--gil-min-confidence",
            default="medium",
            choices=CONFIDENCES,
            parse_from_config=True,
            help="gil-advisor: hide findings below this confidence (default: %(default)s)",
        )

    @classmethod
    def parse_options(cls, options) -> None:
        try:
            # flake8 runs from the project root: the configuration is found from there
            base = Options.resolve([], Overrides(no_cache=True))
        except ConfigError:
            base = Options()  # flake8 is not the place to fail on our config; `gil-advisor check` reports it
        # flake8 does the selecting (--select/--ignore/noqa)
        cls._options = replace(base, min_confidence=options.gil_min_confidence, select=(), ignore=())
        cls._cache = MemoryCache.for_config(cls._options.fingerprint())

    def run(self) -> Iterator[tuple]:
        report = check_source(self.filename, "".join(self.lines), self._options, apply_noqa=False, cache=self._cache)
        for f in report.findings:
            yield f.location.line, max(f.location.column - 1, 0), f"{f.code} {f.message}", type(self)
