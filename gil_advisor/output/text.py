"""`--format text`: flake8-style lines, then the evidence and remedies indented."""
from __future__ import annotations

import os

from gil_advisor.finding import Report
from gil_advisor.sourcefile import display


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def render(report: Report, verbose: bool = True, **_options) -> str:
    lines = []
    for f in report.findings:
        loc = f.location
        lines.append(f"{_rel(loc.path)}:{loc.line}:{loc.column}: {f.code} {f.message}")
        if not verbose:
            continue
        lines.append(f"    worker: {f.worker} (confidence: {f.confidence})")
        if f.estimate:
            lines.append(f"    estimate: {f.estimate}")
        lines.append("    evidence:")
        for e in f.evidence:
            lines.append(f"      {_rel(e.location.path)}:{e.location.line}: {e.description}")
        lines.append("    remedies:")
        for i, r in enumerate(f.remedies, 1):
            lines.append(f"      {i}. {r.title}: {r.detail}")
    if report.spawns is not None:
        lines += _spawn_lines(report)
    return "".join(display(line) + "\n" for line in lines)  # names with control characters are escaped


def _spawn_lines(report: Report) -> list[str]:
    """--show-spawns: every spawn site, and why it was or was not reported."""
    out = [f"spawn sites: {len(report.spawns)}"]
    for s in sorted(report.spawns, key=lambda s: (s.location.path, s.location.line, s.location.column, s.worker)):
        loc = s.location
        out.append(f"{_rel(loc.path)}:{loc.line}:{loc.column}: {s.kind} -> {s.worker}")
        out.append(f"    concurrency: {'several threads' if s.concurrent else 'one at a time'}: {s.concurrency}")
        share = f" (held share {s.held_share:.0%})" if s.held_share is not None else ""
        out.append(f"    work: {s.work}, {s.confidence} confidence{share}" + (f": {s.estimate}" if s.estimate else ""))
        out.append(f"    {s.outcome}")
    return out


def summary_line(report: Report) -> str:
    n = len(report.findings)
    parts = [f"{n} finding{'s' if n != 1 else ''} in {report.files_checked} file{'s' if report.files_checked != 1 else ''}"]
    if report.errors:
        parts.append(f"{len(report.errors)} file{'s' if len(report.errors) != 1 else ''} could not be analysed")
    return "gil-advisor: " + ", ".join(parts)
