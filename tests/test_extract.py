"""The extractor: ast-derived positions agree with libcst's own, and mismatches fall back."""
import ast
import sys

import libcst as cst
import pytest

from conftest import FIXTURES
from gil_advisor.static import extract as ex
from gil_advisor.static.project import module_name_for


def both(path):
    text = path.read_text(encoding="utf-8")
    module, pkg = module_name_for(str(path))
    tree = cst.parse_module(text)
    fast = ex.Extractor(module, str(path), pkg, ex.AstPositions(ast.parse(text), text))
    tree.visit(fast)
    fast.positions.check_consumed()
    slow = ex.extract(tree, module, str(path), pkg, text, None)
    a, b = ex._finish(fast, text).to_json(), slow.to_json()
    for d in (a, b):  # ast starts a generator expression at the call's parenthesis
        for fn in d["functions"].values():
            for lp in fn["loops"]:
                if lp["kind"] == "comprehension":
                    lp["col"] = 0
    return a, b


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.py")), ids=lambda p: p.name)
def test_ast_positions_match_libcst_positions(path):
    a, b = both(path)
    assert a == b


def test_non_ascii_columns_are_code_points(tmp_path):
    p = tmp_path / "u.py"
    p.write_text("s = 'ééé'; t = f(1)\n", encoding="utf-8")
    a, b = both(p)
    assert a == b
    (call,) = a["functions"]["<module>"]["calls"]
    assert call[2] == 15  # (ref, line, col, ...)


def test_disagreement_falls_back_to_libcst_positions(tmp_path, monkeypatch):
    text = "import threading\nthreading.Thread(target=print).start()\n"

    def broken(self, node):
        raise ex.PositionMismatch("forced")

    monkeypatch.setattr(ex.AstPositions, "take", broken)
    summary = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
    spawn = summary.functions["<module>"].spawns[0]
    assert (spawn.line, spawn.col) == (2, 0)


def test_lambda_arguments_get_their_final_names():
    text = "from concurrent.futures import ThreadPoolExecutor as T\np = T(4)\nfor i in range(3):\n    p.submit(lambda: i)\n"
    s = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
    spawn = s.functions["<module>"].spawns[0]
    assert spawn.target == {"t": "name", "q": "m.<lambda@4:13>"}
    assert "<lambda@4:13>" in s.functions


TRICKY = '''\
import functools
from concurrent.futures import ThreadPoolExecutor as T

def deco(f):
    return f

@deco
# a comment between decorators
@functools.lru_cache(
    maxsize=None)
def decorated(n): return n

class C:
    square = lambda self, x: x * x
    @staticmethod
    def m(
        x,
    ):
        """doc"""
        return x

def outer(pool):
    def inner():
        return [lambda: i for i in range(3)]
    jobs = {i: lambda: i for i in range(3)}
    gen = (lambda: j for j in map(lambda k: k, range(3)))
    class Local:
        def run(self):
            return lambda: 1
    return pool.submit(lambda: (lambda: 2)())

async def coro():
    return [x async for x in agen()]
'''


def _code_objects(text):
    todo = [compile(text, "t.py", "exec")]
    while todo:
        co = todo.pop()
        yield co
        todo.extend(c for c in co.co_consts if isinstance(c, type(co)))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="co_qualname is new in 3.11")
@pytest.mark.parametrize("use_ast", [True, False], ids=["ast-positions", "libcst-positions"])
def test_every_function_maps_to_its_code_object(use_ast):
    """first_line, name and co_qualname of every function are those of its compiled code object."""
    from gil_advisor.static.resolve import FunctionHandle
    from gil_advisor.static.rules.base import worker_ref

    s = ex.extract(cst.parse_module(TRICKY), "t", "t.py", False, TRICKY, ast.parse(TRICKY) if use_ast else None)
    codes = {(co.co_firstlineno, co.co_name, co.co_qualname) for co in _code_objects(TRICKY)}
    wanted = set()
    for rec in s.functions.values():
        if rec.qualname == "<module>":
            continue
        ref = worker_ref(FunctionHandle(s, rec))
        wanted.add((ref.first_line, ref.co_name, ref.co_qualname))
    classes = {"C", "Local"}  # class bodies are code objects too, but never workers
    functions = {c for c in codes if (not c[1].startswith("<") or c[1] == "<lambda>") and c[1] not in classes}
    assert wanted == functions
    assert s.functions["decorated"].first_line == 7 and s.functions["decorated"].line == 11
    assert s.functions["decorated"].body_line == 11
    assert (s.functions["C.m"].first_line, s.functions["C.m"].body_line) == (15, 19)


def test_lambda_in_a_comprehension_names_the_comprehension():
    s = ex.extract(cst.parse_module(TRICKY), "t", "t.py", False, TRICKY, ast.parse(TRICKY))
    by_line = {(r.line, r.col): r.co_qualname for r in s.functions.values() if r.name == "<lambda>"}
    assert by_line[(24, 16)] == "outer.<locals>.inner.<locals>.<listcomp>.<lambda>"
    assert by_line[(25, 15)] == "outer.<locals>.<dictcomp>.<lambda>"
    assert by_line[(26, 11)] == "outer.<locals>.<genexpr>.<lambda>"
    assert by_line[(26, 34)] == "outer.<locals>.<lambda>"  # the first iterable runs outside the genexpr
    assert by_line[(14, 13)] == "C.<lambda>"


def test_inlined_comprehensions_leave_the_qualname_on_312():
    from gil_advisor.static.resolve import FunctionHandle
    from gil_advisor.static.rules.base import worker_ref

    s = ex.extract(cst.parse_module(TRICKY), "t", "t.py", False, TRICKY, ast.parse(TRICKY))
    rec = next(r for r in s.functions.values() if r.co_qualname.endswith("<listcomp>.<lambda>"))
    assert worker_ref(FunctionHandle(s, rec), (3, 11)).co_qualname == "outer.<locals>.inner.<locals>.<listcomp>.<lambda>"
    assert worker_ref(FunctionHandle(s, rec), (3, 12)).co_qualname == "outer.<locals>.inner.<locals>.<lambda>"
