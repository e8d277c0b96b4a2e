"""`--format github`: GitHub Actions workflow commands, which show as annotations on the diff."""
from __future__ import annotations

import os
from pathlib import Path

from gil_advisor.finding import Finding, Report
from gil_advisor.output.text import printable


def escape_data(text: str) -> str:
    """The message after `::`, escaped as the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A `key=value` property: also `:` and `,`, which would end the value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _path(path: str) -> str:
    """Relative to the current directory (the checkout in CI) with forward slashes."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    if rel == ".." or rel.startswith(".." + os.sep):
        return Path(os.path.abspath(path)).as_posix()
    return Path(rel).as_posix()


def _command(kind: str, properties: dict, message: str) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items())
    # newlines are %0A by now; other control characters and undecodable name bytes are escaped
    return printable(f"::{kind} {props}::{escape_data(message)}")


def _message(finding: Finding) -> str:
    lines = [finding.message]
    for e in finding.evidence:
        lines.append(f"  {_path(e.location.path)}:{e.location.line}: {e.kind}: {e.description}")
    lines.append(f"See `gil-advisor explain {finding.code}`.")
    return "\n".join(lines)


def render(report: Report, **_options) -> str:
    lines = []
    for f in sorted(report.findings, key=Finding.sort_key):
        props = {"file": _path(f.location.path), "line": f.location.line}
        if f.location.column > 0:
            props["col"] = f.location.column
        props["title"] = f.code
        lines.append(_command("warning", props, _message(f)))
    for e in sorted(report.errors, key=lambda e: (e.path, e.message)):
        props = {"file": _path(e.path), "title": "gil-advisor"}
        lines.append(_command("error", props, f"could not analyse: {e.message}"))
    return "\n".join(lines) + ("\n" if lines else "")
