"""`--format text`: flake8-style lines, then the evidence and remedies indented."""
from __future__ import annotations

import os
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional, TextIO

from gil_advisor.finding import Finding, Report


def rule_summary(code: str) -> str:
    """The one-line summary of a rule (the only place this module reads the rule table)."""
    from gil_advisor.codes import RULES

    rule = RULES.get(code)
    return rule.summary if rule is not None else ""


@dataclass(frozen=True)
class Palette:
    """ANSI styles as flake8 uses them (bold path, cyan separators, bold red code); empty when off."""

    enabled: bool = False

    def _sgr(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def path(self, text: str) -> str:
        return self._sgr(text, "1")

    def sep(self, text: str) -> str:
        return self._sgr(text, "36")

    def code(self, text: str) -> str:
        return self._sgr(text, "1;31")

    def dim(self, text: str) -> str:
        return self._sgr(text, "2")




def use_colour(choice: str, stream: Optional[TextIO]) -> bool:
    """`always`/`never` as given; `auto`: a terminal, unless NO_COLOR is set or TERM is dumb.
    The flag wins over NO_COLOR, as https://no-color.org asks."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


@dataclass
class SourceLines:
    """The lines of the files findings point at, read once each; `given` holds text not on disk (stdin)."""

    given: dict[str, list[str]] = field(default_factory=dict)
    _read: dict[str, list[str]] = field(default_factory=dict)

    def line(self, path: str, number: int) -> Optional[str]:
        lines = self.given.get(path)
        if lines is None:
            lines = self._read.get(path)
            if lines is None:
                lines = self._read[path] = _read_lines(path)
        return lines[number - 1].rstrip("\r\n") if 0 < number <= len(lines) else None


def split_source_lines(text: str) -> list[str]:
    """Lines as Python numbers them: only \\n, \\r\\n and \\r end one (not str.splitlines's \\f or \\u2028)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _read_lines(path: str) -> list[str]:
    if not os.path.isfile(path):  # the findings' files were parsed, so regular; never open anything else
        return []
    try:
        with tokenize.open(path) as fh:  # honours the PEP 263 coding line, like the parser did
            return split_source_lines(fh.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []


def caret_line(source: str, column: int, palette: Palette = Palette()) -> str:
    """Spaces up to the 1-based column (tabs kept, so the caret lines up), then `^`."""
    prefix = printable(source[: max(column - 1, 0)])  # the line is shown escaped: count the same way
    return "".join(c if c == "\t" else " " for c in prefix) + palette.code("^")


# C0/C1 controls but tab, lone surrogates (a file name's undecodable bytes), line/paragraph separators
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def _escape(match: "re.Match[str]") -> str:
    c = match.group()
    if "\udc80" <= c <= "\udcff":  # surrogateescape: show the original byte
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape", "backslashreplace").decode("ascii")


def printable(text: str) -> str:
    """Escape what would move the cursor, recolour the terminal or fail to encode: a file name
    (or a source line) is shown, never obeyed. `\x1b` stays the four characters `\x1b`."""
    return _UNPRINTABLE.sub(_escape, text)


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return printable(path)
    return printable(path if rel.startswith("..") else rel)


def finding_line(f: Finding, palette: Palette = Palette()) -> str:
    loc = f.location
    c = palette.sep(":")
    return f"{palette.path(_rel(loc.path))}{c}{loc.line}{c}{loc.column}{c} {palette.code(f.code)} {printable(f.message)}"


def render(
    report: Report,
    verbose: bool = True,
    palette: Palette = Palette(),
    source: Optional[SourceLines] = None,
    **_options,
) -> str:
    """`source`: show each finding's spawn line with a caret under its column (--show-source)."""
    lines = []
    for f in report.findings:
        loc = f.location
        lines.append(finding_line(f, palette))
        if source is not None:
            text = source.line(loc.path, loc.line)
            if text is not None:
                lines.append(printable(text))
                if loc.column > 0:
                    lines.append(caret_line(text, loc.column, palette))
        if not verbose:
            continue
        lines.append(printable(f"    worker: {f.worker} (confidence: {f.confidence})"))
        if f.estimate:
            lines.append(printable(f"    estimate: {f.estimate}"))
        lines.append("    " + palette.dim("evidence:"))
        for e in f.evidence:
            lines.append(f"      {_rel(e.location.path)}:{e.location.line}: {printable(e.description)}")
        lines.append("    " + palette.dim("remedies:"))
        for i, r in enumerate(f.remedies, 1):
            lines.append(printable(f"      {i}. {r.title}: {r.detail}"))
    if report.spawns is not None:
        lines += [printable(line) for line in _spawn_lines(report)]
    return "\n".join(lines) + ("\n" if lines else "")


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


def statistics(report: Report) -> str:
    """`--statistics`: one line per code, `COUNT CODE SUMMARY`, as `flake8 --statistics` prints them."""
    counts = Counter(f.code for f in report.findings)
    return "".join(f"{n:<5} {code} {rule_summary(code)}\n" for code, n in sorted(counts.items()))


def summary_line(report: Report) -> str:
    n = len(report.findings)
    parts = [f"{n} finding{'s' if n != 1 else ''} in {report.files_checked} file{'s' if report.files_checked != 1 else ''}"]
    if report.errors:
        parts.append(f"{len(report.errors)} file{'s' if len(report.errors) != 1 else ''} could not be analysed")
    return "gil-advisor: " + ", ".join(parts)
