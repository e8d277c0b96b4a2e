"""Runtime-only findings (GIL101) get what a static finding of the same worker would get: the
ranked remedies of `static/remedies.py`, the hottest lines as evidence, and a `Finding` for SARIF.

Imported with the report module, before the traced program changes `sys.path`. The static
modules behind the remedies are imported only when a runtime-only finding needs them, after
the run: a warm trace reuses its stored findings and never loads them otherwise. They are
this package's own (found through its `__path__`, never the program's folder) and import
nothing the tracer has not imported before the program started (DEFERRED_STATIC_MODULES;
tests/test_trace_closure.py checks both).
"""
from __future__ import annotations

from gil_advisor.finding import Evidence, Finding, Location, Remedy
from gil_advisor.runtime.model import CheckedFinding, CodeSite, RuntimeFinding, Verdict

DEFERRED_STATIC_MODULES = ("gil_advisor.static.classify", "gil_advisor.static.remedies", "gil_advisor.static.resolve", "gil_advisor.static.spawn_forms")

GATING = (Verdict.CONFIRMED,)  # static findings the run confirmed; runtime-only ones always gate


def target_form(qualname: str) -> str:
    """The spawn-target form (as the static resolver names it) of a function seen at run time."""
    last = qualname.rsplit(".", 1)[-1]
    if last == "<lambda>":
        return "lambda"
    if "<locals>" in qualname:
        return "nested"
    if "." in qualname:
        return "method"
    return "function"


def runtime_remedies(entry: CodeSite) -> list[Remedy]:
    """Remedies for a GIL-bound thread group: its threads ran Python on a CPU or waited for the
    GIL, which is what the classifier calls CPU work; how it was spawned is not known."""
    from gil_advisor.static.classify import CPU, WorkSummary
    from gil_advisor.static.remedies import remedies_for
    from gil_advisor.static.resolve import Target
    from gil_advisor.static.spawn_forms import FORMS_BY_NAME

    target = Target(form=target_form(entry.function))
    work = WorkSummary(kind=CPU, confidence="high", reason="GIL-bound at run time")
    return remedies_for(target, work, FORMS_BY_NAME["thread"], True)


def runtime_as_finding(rf: RuntimeFinding) -> Finding:
    where = Location(rf.entry.path, rf.entry.line, 0)
    evidence = [Evidence("worker", f"threads entered {rf.entry.function} here", where)]
    evidence += [
        Evidence("hot-line", f"{h.share or 0:.0%} of samples while the threads wanted to run Python", Location(h.path, h.line, 0))
        for h in rf.hot_locations
    ]
    return Finding(
        code=rf.code,
        location=where,
        message=rf.message,
        worker=rf.entry.function,
        worker_location=where,
        confidence="high",
        spawn_kind="",
        threads=str(rf.threads),
        evidence=evidence,
        remedies=list(rf.remedies),
    )


def gating(findings: list[CheckedFinding], runtime: list[RuntimeFinding]) -> list[Finding]:
    """What `trace` reports to CI: confirmed static findings and every runtime-only finding."""
    out = [c.finding for c in findings if c.verdict in GATING]
    out += [runtime_as_finding(r) for r in runtime]
    return out
