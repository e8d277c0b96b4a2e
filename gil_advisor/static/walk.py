"""A read-only walk of a libcst tree that calls a CSTVisitor's methods as `node.visit` does.

libcst's `node.visit(visitor)` shares its traversal with transformers: it rebuilds and
re-validates every node it leaves, even for a visitor that changes nothing, and that cost
more than the parse itself. This walk visits the same nodes, calls the same
`visit_X` / `visit_X_attr` / `leave_X_attr` / `leave_X` methods in the same order, and
builds nothing. The order of each node type's fields is recorded from libcst itself
(its `_visit_and_replace_children` on the first node of that type), so it follows
libcst's version instead of a copy of it.
"""
from __future__ import annotations

import dis
from typing import Optional
import libcst as cst

__all__ = ["walk"]

# Nodes that hold only whitespace and punctuation: the walk calls a visitor's methods for
# them but does not go inside (their children are more whitespace). Visitors that define a
# method for one of the types inside get the full walk.
_TOKENS = (
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
    cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp,
    cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.ImportStar,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace,
)


def _token_types() -> frozenset:
    found = set()
    todo = list(_TOKENS) + [cst.SimpleWhitespace, cst.ParenthesizedWhitespace]
    while todo:
        t = todo.pop()
        if t not in found:
            found.add(t)
            todo.extend(t.__subclasses__())
    return frozenset(found)


_TOKEN_TYPES = _token_types()
_TOKEN_NAMES = frozenset(t.__name__ for t in _TOKEN_TYPES)


class _FieldRecorder(cst.CSTVisitor):
    """Notes which fields of one node libcst visits, in order, without going below them."""

    def __init__(self, node: cst.CSTNode):
        super().__init__()
        self.node = node
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.node:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _record(node: cst.CSTNode) -> tuple:
    recorder = _FieldRecorder(node)
    node._visit_and_replace_children(recorder)
    return tuple(recorder.fields)


# type -> its fields in visit order, or None when libcst decides per node (its
# `_visit_and_replace_children` branches: an f-string's format spec is visited only when set)
_ORDER: dict[type, Optional[tuple]] = {}


def _branches(t: type) -> bool:
    code = t._visit_and_replace_children
    return any("JUMP" in ins.opname or ins.opname == "FOR_ITER" for ins in dis.get_instructions(code))


def _fields(node: cst.CSTNode) -> tuple:
    t = type(node)
    try:
        order = _ORDER[t]
    except KeyError:
        order = _ORDER[t] = None if _branches(t) else _record(node)
    return order if order is not None else _record(node)


def _plain(visitor: cst.CSTVisitor) -> bool:
    """Does the visitor use CSTVisitor's own dispatch (the methods this walk calls)?"""
    base = cst.CSTVisitor
    t = type(visitor)
    return all(getattr(t, m) is getattr(base, m) for m in ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute"))


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`node.visit(visitor)` for a visitor that changes nothing, without rebuilding the tree."""
    if not _plain(visitor):
        node.visit(visitor)
        return
    # Whitespace and punctuation have no children worth a call: unless the visitor asks for
    # them, they are not entered at all (what libcst would do there calls none of its methods).
    asks_for_tokens = any(hasattr(visitor, f"{kind}_{name}") for name in _TOKEN_NAMES for kind in ("visit", "leave"))
    skipped = frozenset() if asks_for_tokens else _TOKEN_TYPES
    sentinel = cst.MaybeSentinel
    dispatch: dict[type, tuple] = {}
    attribute_methods: dict[tuple, tuple] = {}

    def plan(t: type, fields: tuple) -> tuple:
        """(field, visit_X_field, leave_X_field) for each field in order."""
        out = []
        for f in fields:
            pair = attribute_methods.get((t, f))
            if pair is None:
                pair = attribute_methods[t, f] = (
                    getattr(visitor, f"visit_{t.__name__}_{f}", None),
                    getattr(visitor, f"leave_{t.__name__}_{f}", None),
                )
            out.append((f, *pair))
        return tuple(out)

    def methods(n: cst.CSTNode) -> tuple:
        t = type(n)
        fields = _fields(n)
        entry = dispatch[t] = (
            getattr(visitor, f"visit_{t.__name__}", None),
            getattr(visitor, f"leave_{t.__name__}", None),
            plan(t, fields) if _ORDER[t] is not None else None,  # None: libcst decides per node
        )
        return entry

    def visit(n: cst.CSTNode) -> None:
        entry = dispatch.get(n.__class__) or methods(n)
        on_visit, on_leave, steps = entry
        if on_visit is None or on_visit(n) is not False:
            for field, visit_field, leave_field in steps if steps is not None else plan(n.__class__, _fields(n)):
                if visit_field is not None:
                    visit_field(n)
                child = getattr(n, field)
                kind = child.__class__
                if kind is tuple or kind is list:
                    for c in child:
                        if c.__class__ not in skipped:
                            visit(c)
                elif child is not None and kind is not sentinel and kind not in skipped:
                    visit(child)
                if leave_field is not None:
                    leave_field(n)
        if on_leave is not None:
            on_leave(n)

    if node.__class__ in skipped:  # a lone token: only its own methods, as libcst would call them
        return
    visit(node)
