"""Small questions about libcst nodes, asked by the extractor and its helpers."""
from __future__ import annotations

from typing import Optional

import libcst as cst


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a Name or an Attribute chain of Names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def is_main_guard(test: cst.BaseExpression) -> bool:
    """`if __name__ == "__main__":` (any comparison of `__name__`)."""
    return isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == "__name__"


def branches(stmt: cst.CSTNode) -> list:
    """The bodies of an if's elif/else, a try's handlers, else and finally."""
    out = []
    if isinstance(stmt, cst.If):
        orelse = stmt.orelse
        while orelse is not None:
            out.append(orelse.body.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    elif isinstance(stmt, cst.Try):
        out.extend(h.body.body for h in stmt.handlers)
        if stmt.orelse is not None:
            out.append(stmt.orelse.body.body)
        if stmt.finalbody is not None:
            out.append(stmt.finalbody.body.body)
    return out


def is_spin_body(body: cst.BaseSuite) -> bool:
    """A loop body that never blocks: only `pass`, `continue` or `...`."""
    if isinstance(body, cst.SimpleStatementSuite):
        smalls = list(body.body)
    else:
        smalls = []
        for stmt in body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                return False
            smalls.extend(stmt.body)
    return bool(smalls) and all(
        isinstance(s, (cst.Pass, cst.Continue))
        or (isinstance(s, cst.Expr) and isinstance(s.value, (cst.Ellipsis, cst.SimpleString)))
        for s in smalls
    )


def literal_int(value: cst.BaseExpression) -> Optional[int]:
    """A pool size: the int a literal spells, None for `None` or no value, -1 for anything else."""
    if isinstance(value, cst.Name) and value.value == "None":
        return None
    if isinstance(value, cst.Integer):
        try:
            return int(value.value, 0)
        except ValueError:
            return -1
    return -1
