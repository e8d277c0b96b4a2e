"""`gil-advisor explain GIL001`: the rule's text, why, a bad and a good example, remedies."""
from __future__ import annotations

import textwrap
from typing import Optional

from gil_advisor.codes import RULES
from gil_advisor.static.rules import ALL_RULES

REMEDIES = {
    "GIL001": "processes (ProcessPoolExecutor, multiprocessing), native code that releases the GIL (NumPy, numba nogil, Cython nogil), or free-threaded CPython / InterpreterPoolExecutor (3.14)",
    "GIL002": "processes, or a library that releases the GIL (regex instead of re; numpy.sort instead of sorted); json and pickle have no GIL-free variant",
    "GIL003": "threading.Event.wait(), Condition.wait() or queue.get(): they block with the GIL released",
    "GIL004": "loop.run_in_executor(ProcessPoolExecutor(), func, *args), with the pool created once at startup",
}


def explain(code: str) -> Optional[str]:
    rule = RULES.get(code)
    impl = next((r for r in ALL_RULES if r.CODE == code), None)
    if rule is None or impl is None:
        return None
    out = [f"{rule.code} ({rule.name}): {rule.summary}", "", textwrap.fill(rule.why, 88), ""]
    out.append("Bad:")
    out.append(textwrap.indent(textwrap.dedent(impl.INVALID[0]).strip(), "    "))
    out.append("")
    out.append("Good:")
    out.append(textwrap.indent(textwrap.dedent(impl.VALID[0]).strip(), "    "))
    out.append("")
    out.append(textwrap.fill("Remedies: " + REMEDIES[code], 88))
    out.append(f"\nDocs: docs/rules.md#{code.lower()}")
    return "\n".join(out) + "\n"
