"""The extractor: ast-derived positions agree with libcst's own, and mismatches fall back."""
import ast

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
