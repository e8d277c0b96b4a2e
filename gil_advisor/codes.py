"""The one table of rule codes. Codes are stable: never renumber, only add.

A rule is one `Rule` object, declared in its own module under `gil_advisor/rulebook/`;
`explain`, the SARIF rule list, docs/rules.md and the rule-example tests all read it.
"""
from __future__ import annotations

from gil_advisor.rulebook import gil001, gil002, gil003, gil004, gil101
from gil_advisor.rulebook.rule import Example, Rule

RULES: dict[str, Rule] = {r.code: r for r in (gil001.RULE, gil002.RULE, gil003.RULE, gil004.RULE, gil101.RULE)}

__all__ = ["RULES", "Rule", "Example"]
