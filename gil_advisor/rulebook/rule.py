"""A rule as data: its code, its message, its documentation and its examples."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    source: str  # a whole program; dedented before use
    note: str = ""  # what it shows, one sentence (docs only)

    @property
    def code(self) -> str:
        return textwrap.dedent(self.source).strip() + "\n"


@dataclass(frozen=True)
class Rule:
    """Everything about one code. The examples are the documentation and the tests:
    each `invalid` program must produce the code, no `valid` one may."""

    code: str
    name: str
    summary: str  # one line: flake8-style listings, SARIF shortDescription
    message: str  # the finding's message, a str.format template (placeholders named in the rule module)
    what: str  # what it does (finds)
    why: str  # why it matters: `explain`, SARIF fullDescription
    known_problems: str  # where it does not fire, or fires wrongly
    reported_at: str  # where the finding points
    invalid: tuple[Example, ...]  # bad: must produce the code
    valid: tuple[Example, ...]  # good, what to use instead: must not
    remedies: tuple[str, ...]  # ranked; the finding carries the ones that fit its worker
    confirm: str  # what `gil-advisor trace` measures to confirm a finding
    runtime_only: bool = False  # reported by the tracer alone: examples are prose, not programs

    def format_message(self, **fields: str) -> str:
        return self.message.format(**fields)
