"""walk(): the same visitor calls, in the same order, as libcst's own node.visit."""
from pathlib import Path

import libcst as cst
import pytest

from conftest import FIXTURES, ROOT
from gil_advisor.static import walk as walk_mod
from gil_advisor.static.walk import walk

SNIPPETS = [
    "x = f'{a:{width}.{prec(1)}}' + f'{b!r:>10}' + f'{c}'\n",
    "@dec(1)\n@other.deco\nasync def f(a, /, b: int = g(), *c, d=lambda: h(), **e) -> Pool:\n    return [y async for y in z(w())]\n",
    "class C(B, metaclass=M):\n    x: List[int] = [i for i in range(3) if i]\n    def m(self):\n        yield from (k(j) for j in self.q())\n",
    "match p:\n    case {'a': [1, *rest]} if g(rest):\n        pass\n    case Point(x=0) | None:\n        pass\n",
    "from . import (a, b as c)\nfrom .m import *\nimport os.path as p, sys\n",
    "try:\n    pass\nexcept* (E, F) as e:\n    raise X() from e\nfinally:\n    del a[b:c, d]\n",
    "with a() as (b, c), d:\n    for i, j in k(): x += -i ** ~j\n    else:\n        while not y: y = z if w else v\n",
    "global g\nassert a, b\nprint(*a, **{k: v for k, v in d.items()})\n(yield)\nawait q\n",
]


def _files():
    texts = list(SNIPPETS)
    for p in sorted(FIXTURES.rglob("*.py")) + sorted((ROOT / "gil_advisor" / "static").glob("*.py")):
        texts.append(p.read_text(encoding="utf-8"))
    return texts


def _logging_visitor(type_names, log):
    """A plain CSTVisitor with visit/leave methods (and their per-field forms) for these types."""
    methods = {}

    def make(tag):
        return lambda self, node: log.append((tag, id(node)))

    for name in type_names:
        cls = getattr(cst, name)
        methods[f"visit_{name}"] = make(f"visit {name}")
        methods[f"leave_{name}"] = make(f"leave {name}")
        for f in getattr(cls, "__dataclass_fields__", {}):
            methods[f"visit_{name}_{f}"] = make(f"visit {name}.{f}")
            methods[f"leave_{name}_{f}"] = make(f"leave {name}.{f}")
    return type("Logging", (cst.CSTVisitor,), methods)()


ALL_TYPES = sorted(n for n in dir(cst) if isinstance(getattr(cst, n), type) and issubclass(getattr(cst, n), cst.CSTNode))
NON_TOKEN_TYPES = [n for n in ALL_TYPES if n not in walk_mod._TOKEN_NAMES]


@pytest.mark.parametrize("types", [ALL_TYPES, NON_TOKEN_TYPES], ids=["every type", "no whitespace types"])
def test_walk_makes_the_calls_of_node_visit(types):
    for text in _files():
        module = cst.parse_module(text)
        theirs, ours = [], []
        module.visit(_logging_visitor(types, theirs))
        walk(module, _logging_visitor(types, ours))
        assert ours == theirs


@pytest.mark.parametrize("text", ["a = f'{x}'\nb = f'{y:{z()}}'\n", "b = f'{y:{z()}}'\na = f'{x}'\n"])
def test_a_field_libcst_visits_only_when_set_is_walked_whichever_node_comes_first(text):
    # an f-string expression's format spec is visited only when it has one
    walk_mod._ORDER.pop(cst.FormattedStringExpression, None)
    module = cst.parse_module(text)
    seen = []

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node):
            seen.append(node)

    walk(module, Calls())
    assert len(seen) == 1


def test_a_visitor_with_its_own_dispatch_gets_libcst_visit():
    seen = []

    class Custom(cst.CSTVisitor):
        def on_visit(self, node):
            seen.append(type(node).__name__)
            return True

    module = cst.parse_module("f(x)\n")
    walk(module, Custom())
    expected = []

    class Same(cst.CSTVisitor):
        def on_visit(self, node):
            expected.append(type(node).__name__)
            return True

    module.visit(Same())
    assert seen == expected and "SimpleWhitespace" in seen


def test_visit_returning_false_skips_the_children_but_not_the_leave():
    log = []

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, node):
            log.append("visit def")
            return False

        def leave_FunctionDef(self, node):
            log.append("leave def")

        def visit_Call(self, node):
            log.append("call")

    walk(cst.parse_module("def f():\n    g()\nh()\n"), V())
    assert log == ["visit def", "leave def", "call"]
