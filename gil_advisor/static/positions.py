"""Where nodes start: taken from the ast tree the pre-check parsed anyway, or from libcst.

libcst's PositionProvider re-generates the whole module to learn positions, which costs
more than parsing. The extractor visits nodes in source order, so the n-th Call it meets
is the n-th Call of the ast sorted by position; calls are checked by name on the way, and
any disagreement (PositionMismatch) makes the extractor start again with libcst's positions.
"""
from __future__ import annotations

import ast
from typing import Optional, Union

import libcst as cst
from libcst.metadata import PositionProvider

from gil_advisor.static.syntax import dotted
from gil_advisor.sourcefile import source_lines

AnyFunction = Union[cst.FunctionDef, cst.Lambda]


class PositionMismatch(Exception):
    """The ast and libcst trees disagree: fall back to libcst's own positions."""


# libcst node types whose positions we record, and the ast types they match
_POSITIONED = {
    cst.Call: (ast.Call,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.Lambda: (ast.Lambda,),
    cst.ListComp: (ast.ListComp,),
    cst.SetComp: (ast.SetComp,),
    cst.DictComp: (ast.DictComp,),
    cst.GeneratorExp: (ast.GeneratorExp,),
}
_AST_KIND = {a: c for c, types in _POSITIONED.items() for a in types}


class AstPositions:
    """(line, 0-based column in code points) of each node, in visit order, from the ast."""

    def __init__(self, tree: ast.AST, source: str):
        lines = source_lines(source)
        found: dict[type, list] = {c: [] for c in _POSITIONED}
        deepest = 0
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > deepest:
                deepest = depth
            kind = _AST_KIND.get(type(node))
            if kind is not None:
                line, col = node.lineno, node.col_offset
                if line <= len(lines) and not lines[line - 1].isascii():
                    col = len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))
                if kind is cst.Call:
                    extra = _ast_dotted(node.func)  # checked against the libcst call's name
                elif kind is cst.FunctionDef:
                    first = node.decorator_list[0].lineno if node.decorator_list else line
                    extra = (first, node.body[0].lineno)
                elif kind is cst.Lambda:
                    extra = (line, node.body.lineno)
                else:
                    extra = None
                found[kind].append((line, col, depth, extra))
            for child in ast.iter_child_nodes(node):
                stack.append((child, depth + 1))
        self.depth = deepest  # how deep the tree nests (the parse's guard reads it: one walk, not two)
        self.queues = {k: sorted(v, key=lambda e: e[:3]) for k, v in found.items()}
        self.taken = {k: 0 for k in found}
        self._function_lines: dict[int, tuple[int, int]] = {}  # id(node) -> (first line, body line)

    def take(self, node: cst.CSTNode) -> tuple[int, int]:
        kind = type(node)
        i = self.taken[kind]
        queue = self.queues[kind]
        if i >= len(queue):
            raise PositionMismatch(kind.__name__)
        line, col, _depth, extra = queue[i]
        self.taken[kind] = i + 1
        if kind is cst.Call:
            mine = dotted(node.func)
            if mine is not None and extra is not None and mine != extra:
                raise PositionMismatch(f"{mine} != {extra} at line {line}")
        elif extra is not None:
            self._function_lines[id(node)] = extra
        return line, col

    def function_lines(self, node: AnyFunction) -> tuple[int, int]:
        """(co_firstlineno, first body line) of a def or lambda already taken."""
        return self._function_lines[id(node)]

    def check_consumed(self) -> None:
        for kind, queue in self.queues.items():
            if self.taken[kind] != len(queue):
                raise PositionMismatch(kind.__name__)


class CstPositions:
    """The same answers from libcst's PositionProvider: slower, and never wrong about libcst's tree."""

    def __init__(self, wrapper: cst.MetadataWrapper):
        self._ranges = wrapper.resolve(PositionProvider)

    def _line(self, node: cst.CSTNode) -> int:
        return self._ranges[node].start.line

    def take(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self._ranges[node].start
        return start.line, start.column

    def function_lines(self, node: AnyFunction) -> tuple[int, int]:
        if isinstance(node, cst.Lambda):
            return self._line(node), self._line(node.body)
        first = self._line(node.decorators[0].decorator) if node.decorators else self._line(node)
        return first, self._line(node.body.body[0])

    def check_consumed(self) -> None:
        pass


Positions = Union[AstPositions, CstPositions]


def _ast_dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
