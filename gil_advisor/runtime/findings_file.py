"""`trace --findings FILE`: read and validate check's JSON before anything runs.

The file is input from anywhere (a CI artefact, another machine). Each field is checked for
its type here, so a bad file is one error naming the field, never an exception raised later
inside the program's `exec` (a string line number reached sys.monitoring's matching on 3.12).
"""
from __future__ import annotations

import json
from typing import Any

from gil_advisor.codes import RULES
from gil_advisor.finding import Finding

_STR, _INT = "a string", "an integer"

# field -> (type name, required)
_FINDING = {
    "code": (_STR, True), "path": (_STR, True), "line": (_INT, True), "column": (_INT, True),
    "message": (_STR, True), "worker": (_STR, True), "confidence": (_STR, True),
    "spawn": (_STR, False), "threads": (_STR, False),
}
_LOCATION = {"path": (_STR, True), "line": (_INT, True), "column": (_INT, False)}
_EVIDENCE = {"kind": (_STR, True), "description": (_STR, True), "path": (_STR, True),
             "line": (_INT, True), "column": (_INT, True)}
_REMEDY = {"kind": (_STR, True), "title": (_STR, True), "detail": (_STR, True)}
_WORKER_REF = {"qualname": (_STR, True), "path": (_STR, True), "def_line": (_INT, True),
               "first_line": (_INT, True), "body_line": (_INT, True), "co_name": (_STR, True),
               "co_qualname": (_STR, True)}


class FindingsFileError(ValueError):
    """The one line to print for a findings file that cannot be used."""


def _is(kind: str, value: Any) -> bool:
    if kind == _INT:
        return type(value) is int  # not bool, not a numeric string
    return isinstance(value, str)


def _fields(obj: Any, spec: dict, where: str) -> None:
    if not isinstance(obj, dict):
        raise FindingsFileError(f"{where}: expected an object, got {type(obj).__name__}")
    for name, (kind, required) in spec.items():
        if name not in obj:
            if required:
                raise FindingsFileError(f"{where}.{name}: missing")
            continue
        if not _is(kind, obj[name]):
            raise FindingsFileError(f"{where}.{name}: expected {kind}, got {obj[name]!r:.60}")


def _list_of(obj: dict, name: str, spec: dict, where: str) -> None:
    items = obj.get(name, [])
    if not isinstance(items, list):
        raise FindingsFileError(f"{where}.{name}: expected a list, got {type(items).__name__}")
    for i, item in enumerate(items):
        _fields(item, spec, f"{where}.{name}[{i}]")


def validate(item: Any, where: str) -> None:
    """Raise FindingsFileError unless `item` is a finding as `check --format json` writes it."""
    _fields(item, _FINDING, where)
    if item["code"] not in RULES:
        raise FindingsFileError(f"{where}.code: unknown rule {item['code']!r:.40}")
    nested = (("worker_location", _LOCATION), ("worker_ref", _WORKER_REF), ("instrument", _WORKER_REF))
    for name, spec in nested:
        if item.get(name) is not None:
            _fields(item[name], spec, f"{where}.{name}")
            extra = set(item[name]) - set(spec)
            if extra:
                raise FindingsFileError(f"{where}.{name}: unknown field {sorted(extra)[0]!r:.40}")
    _list_of(item, "evidence", _EVIDENCE, where)
    _list_of(item, "remedies", _REMEDY, where)
    for i, remedy in enumerate(item.get("remedies", [])):
        extra = set(remedy) - set(_REMEDY)
        if extra:
            raise FindingsFileError(f"{where}.remedies[{i}]: unknown field {sorted(extra)[0]!r:.40}")


def load_findings(path: str) -> list[Finding]:
    """The findings in `path`; raises FindingsFileError (bad content) or OSError (unreadable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except UnicodeDecodeError as e:
        raise FindingsFileError(f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise FindingsFileError(f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    if isinstance(data, dict):
        if "findings" not in data:
            raise FindingsFileError('no "findings" list: expected `gil-advisor check --format json` output')
        data = data["findings"]
    if not isinstance(data, list):
        raise FindingsFileError(f"findings: expected a list, got {type(data).__name__}")
    out = []
    for i, item in enumerate(data):
        validate(item, f"findings[{i}]")
        out.append(Finding.from_dict(item))
    return out
