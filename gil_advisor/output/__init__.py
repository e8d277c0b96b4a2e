"""Report writers, one registry for `check` and `trace`.

A writer turns a report into text: `check`'s `Report` or `trace`'s `TraceReport`. Each format
name maps, per subject, to "module:function"; modules are imported only when used. A new output
format is one `register(...)` line here and one function.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Callable

CHECK, TRACE = "check", "trace"
COLOR_CHOICES = ("auto", "always", "never")  # `check --color`; here so the parser need not load the text writer


@dataclass(frozen=True)
class Writer:
    format: str
    subject: str  # CHECK or TRACE
    target: str  # "module:function"

    def load(self) -> Callable[..., str]:
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)


WRITERS: dict[tuple[str, str], Writer] = {}


def register(fmt: str, subject: str, target: str) -> None:
    WRITERS[(fmt, subject)] = Writer(fmt, subject, target)


register("text", CHECK, "gil_advisor.output.text:render")
register("json", CHECK, "gil_advisor.output.json_format:render")
register("sarif", CHECK, "gil_advisor.output.sarif:render")
register("github", CHECK, "gil_advisor.output.github:render")
register("text", TRACE, "gil_advisor.runtime.report:render_text")
register("json", TRACE, "gil_advisor.runtime.report:render_json")
register("html", TRACE, "gil_advisor.runtime.report:render_html")
register("timeline", TRACE, "gil_advisor.runtime.report:render_timeline")
register("sarif", TRACE, "gil_advisor.runtime.sarif_report:render")


def formats(subject: str) -> tuple[str, ...]:
    return tuple(fmt for fmt, subj in WRITERS if subj == subject)


FORMATS = formats(CHECK)


def subject_of(report) -> str:
    from gil_advisor.runtime.model import TraceReport

    return TRACE if isinstance(report, TraceReport) else CHECK


def render(report, fmt: str, **options) -> str:
    writer = WRITERS.get((fmt, subject_of(report)))
    if writer is None:
        raise ValueError(f"unknown format {fmt!r}")
    return writer.load()(report, **options)
