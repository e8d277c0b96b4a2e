"""The flake8 front door: `flake8 --select GIL` reports the same findings, one line each.

flake8 hands us one file at a time; the worker's other modules are found on disk beside
it (never imported). Files that do not mention threads cost a few substring searches.
"""
from __future__ import annotations

from typing import Iterator

from gil_advisor import __version__
from gil_advisor.config import CONFIDENCES, Config, ConfigError, load
from gil_advisor.static.engine import analyse_project
from gil_advisor.static.project import Project, has_spawn_hint, SourceError, module_name_for, parse_and_extract


class GilAdvisorPlugin:
    name = "gil-advisor"
    version = __version__
    min_confidence = "medium"
    _config: Config = Config()

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
            base = load()
        except ConfigError:
            base = Config()  # flake8 is not the place to fail on our config; `gil-advisor check` reports it
        cls._config = Config(**{**base.__dict__, "min_confidence": options.gil_min_confidence, "select": (), "ignore": ()})

    def run(self) -> Iterator[tuple]:
        source = "".join(self.lines)
        if not has_spawn_hint(source.encode("utf-8", "surrogateescape")):
            return
        project = Project([self.filename], self._config.max_file_size)
        module, is_package = module_name_for(self.filename)
        try:
            project.add(module, parse_and_extract(self.filename, source, module, is_package))
        except SourceError:
            return  # flake8 reports syntax errors itself (E999)
        except RecursionError:
            return
        report = analyse_project(project, self._config, apply_noqa=False)
        for f in report.findings:
            if f.location.path != self.filename:
                continue
            yield f.location.line, max(f.location.column - 1, 0), f"{f.code} {f.message}", type(self)
