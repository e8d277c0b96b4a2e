"""`gil-advisor trace --sarif FILE`: what the run confirmed, as a SARIF 2.1.0 log.

Built by check's SARIF builder (`gil_advisor.output.sarif`) from the findings that gate CI:
static findings the run confirmed and runtime-only findings (GIL101). Each result carries the
run's figures in `properties.trace`; the invocation records the program's exit code.
"""
from __future__ import annotations

import json
from typing import Any

from gil_advisor.finding import Finding, Report
from gil_advisor.output import sarif
from gil_advisor.runtime import advice
from gil_advisor.runtime.model import TraceReport


def _trace_properties(report: TraceReport) -> dict[int, dict[str, Any]]:
    """id(finding) -> what the run measured, for the findings that become results."""
    out: dict[int, dict[str, Any]] = {}
    for c in report.findings:
        sp = c.measured.projected_speedup if c.measured else None
        out[id(c.finding)] = {
            "verdict": c.verdict.value,
            "reason": c.reason,
            "projectedSpeedup": sp.to_dict() if sp else None,
        }
    return out


def to_sarif(report: TraceReport) -> dict[str, Any]:
    gating = advice.gating(report.findings, report.runtime_findings)
    runtime_props = {
        id(f): {
            "verdict": "runtime-only",
            "reason": rf.message,
            "projectedSpeedup": rf.projected_speedup.to_dict() if rf.projected_speedup else None,
        }
        for f, rf in zip(gating[len(gating) - len(report.runtime_findings):], report.runtime_findings)
    }
    props = {**_trace_properties(report), **runtime_props}
    log = sarif.to_sarif(Report(findings=gating))
    run = log["runs"][0]
    # The builder orders results as Finding.sort_key orders findings.
    for result, finding in zip(run["results"], sorted(gating, key=Finding.sort_key)):
        result["properties"]["trace"] = props.get(id(finding), {})
    invocation = run["invocations"][0]
    invocation["exitCode"] = report.process.exit_code
    invocation["executionSuccessful"] = bool(report.complete)
    return log


def render(report: TraceReport, **_options) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
