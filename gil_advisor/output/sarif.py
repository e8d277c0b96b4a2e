"""`--format sarif`: one SARIF 2.1.0 log, as GitHub code scanning and SARIF viewers read it."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from gil_advisor import __version__
from gil_advisor.codes import RULES
from gil_advisor.finding import Evidence, FileError, Finding, Location, Report

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/gil-advisor/gil-advisor"
RULES_DOC_URI = INFORMATION_URI + "/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "gilAdvisorFinding/v1"
RULE_TAGS = ["performance", "concurrency", "gil"]


def _artifact_location(path: str) -> dict[str, Any]:
    """A URI relative to the current directory (the repository root in CI), else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        rel = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        rel = None
    if rel is None or rel == ".." or rel.startswith(".." + os.sep):
        return {"uri": absolute.as_uri()}
    return {"uri": quote(Path(rel).as_posix(), safe="/", errors="surrogateescape"), "uriBaseId": SRCROOT}


def _physical_location(loc: Location) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(loc.line, 1)}
    if loc.column > 0:  # the model's columns are 1-based; 0 means unknown
        region["startColumn"] = loc.column
    return {"artifactLocation": _artifact_location(loc.path), "region": region}


def _rule(code: str) -> dict[str, Any]:
    rule = RULES.get(code)
    if rule is None:  # a code the rule table does not list (yet): the SARIF log stays valid
        return {"id": code, "name": code.lower(), "shortDescription": {"text": code},
                "helpUri": f"{RULES_DOC_URI}#{code.lower()}", "defaultConfiguration": {"level": "warning"}}
    remedies = "\n".join(f"{i}. {r}" for i, r in enumerate(rule.remedies, 1))
    more = f"Run `gil-advisor explain {rule.code}` for examples and remedies."
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "helpUri": f"{RULES_DOC_URI}#{rule.code.lower()}",
        "help": {
            "text": f"{rule.why}\n\n{more}",
            "markdown": f"{rule.what}\n\n{rule.why}\n\n**Remedies**\n\n{remedies}\n\n{more}",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": list(RULE_TAGS) + (["runtime"] if rule.runtime_only else [])},
    }


def _fingerprint(finding: Finding) -> str:
    """Stable across edits that move the finding: the code, the file and the worker, not the line."""
    path = _artifact_location(finding.location.path)["uri"]
    key = "\0".join((finding.code, path, finding.worker))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _related(index: int, evidence: Evidence) -> dict[str, Any]:
    return {
        "id": index,
        "physicalLocation": _physical_location(evidence.location),
        "message": {"text": f"{evidence.kind}: {evidence.description}"},
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": "warning",
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical_location(finding.location)}],
        "relatedLocations": [_related(i, e) for i, e in enumerate(finding.evidence)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {
            "confidence": finding.confidence,
            "worker": finding.worker,
            "spawn": finding.spawn_kind,
            "threads": finding.threads,
            "remedies": [{"kind": r.kind, "title": r.title, "detail": r.detail} for r in finding.remedies],
        },
    }


def _notification(error: FileError) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": f"{error.path}: {error.message}"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(error.path)}}],
    }


def to_sarif(report: Report, srcroot: Optional[str] = None) -> dict[str, Any]:
    """The SARIF log as a dict; `render` serialises it."""
    codes = list(RULES) + sorted({f.code for f in report.findings} - set(RULES))
    rule_index = {code: i for i, code in enumerate(codes)}
    results = []
    seen: dict[str, int] = {}
    for finding in sorted(report.findings, key=Finding.sort_key):
        # Two spawns of one worker in one file share code+path+worker: number them in line order.
        base = _fingerprint(finding)
        seen[base] = seen.get(base, 0) + 1
        results.append(_result(finding, rule_index[finding.code], f"{base}:{seen[base]}"))

    errors = sorted(set(report.errors), key=lambda e: (e.path, e.message))
    root = Path(os.path.abspath(srcroot or os.curdir)).as_uri().rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "gil-advisor",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(code) for code in codes],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(e) for e in errors],
            }
        ],
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, **_options) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
