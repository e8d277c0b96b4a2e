"""The extractor: ast-derived positions agree with libcst's own, and mismatches fall back."""
import ast
import sys

import libcst as cst
import pytest

from conftest import FIXTURES
from gil_advisor.static import extract as ex
from gil_advisor.static.project import module_name_for
from gil_advisor.static.refs import NameRef


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
    assert spawn.target == NameRef("m.<lambda@4:13>")
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


# One program per spawn form: a new row in spawn_forms.py needs one here.
FORM_EXAMPLES = {
    "thread": "import threading\nthreading.Thread(target=work)\n",
    "timer": "import threading\nthreading.Timer(1.0, work)\n",
    "start_new_thread": "import _thread\n_thread.start_new_thread(work, ())\n",
    "thread subclass": "import threading\nclass W(threading.Thread):\n    def run(self):\n        pass\nW()\n",
    "pool map": "from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor(4) as p:\n    p.map(work, xs)\n",
    "pool submit": "import multiprocessing.dummy\np = multiprocessing.dummy.Pool(2)\np.apply_async(work, ())\n",
    "pool apply": "from multiprocessing.pool import ThreadPool\nThreadPool(2).apply(work)\n",
    "to_thread": "import asyncio\nasync def main():\n    await asyncio.to_thread(work)\n",
    "run_in_executor": "import asyncio\nasync def main():\n    await asyncio.get_running_loop().run_in_executor(None, work)\n",
}


def test_every_spawn_form_has_an_example():
    from gil_advisor.static.spawn_forms import SPAWN_FORMS

    assert set(FORM_EXAMPLES) == {f.name for f in SPAWN_FORMS}


@pytest.mark.parametrize("form", sorted(FORM_EXAMPLES))
def test_each_spawn_form_is_found_and_passes_the_pre_check(form, tmp_path):
    from gil_advisor.static.project import has_spawn_hint
    from gil_advisor.static.spawn_forms import FORMS_BY_NAME, SUBCLASS_CALL

    text = "from jobs import work\n" + FORM_EXAMPLES[form]
    assert has_spawn_hint(text.encode())
    s = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
    spawns = [sp for fn in s.functions.values() for sp in fn.spawns]
    if FORMS_BY_NAME[form].shape == SUBCLASS_CALL:
        assert spawns == [] and "W" in s.classes  # subclass spawns are added by the linker
        return
    (spawn,) = spawns
    assert spawn.form == form
    assert spawn.target == NameRef("jobs.work")


def test_pool_kind_and_size_come_from_the_pool_row():
    text = "import multiprocessing.dummy as d\np = d.Pool(processes=3)\np.imap_unordered(work, xs)\n"
    (spawn,) = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text)).functions["<module>"].spawns
    assert (spawn.kind, spawn.pool_size, spawn.form) == ("multiprocessing.dummy.Pool.imap_unordered", 3, "pool map")


def test_a_keyword_fn_of_submit_is_the_tasks_not_the_target():
    text = "from concurrent.futures import ThreadPoolExecutor\nfrom jobs import work\np = ThreadPoolExecutor()\np.submit(work, fn=print)\n"
    (spawn,) = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text)).functions["<module>"].spawns
    assert spawn.target == NameRef("jobs.work")


def test_pre_check_words_are_the_spawn_forms_words():
    from gil_advisor.static.project import has_spawn_hint

    assert not has_spawn_hint(b"import os\nprint(os.getcwd())\n")
    assert not has_spawn_hint(b"Threads = 1\n")  # `Thread` must be a whole word
    assert has_spawn_hint(b"from concurrent import futures\n")


def test_summaries_round_trip_through_json():
    import json

    from gil_advisor.static.summary import ModuleSummary

    for text in [TRICKY, *FORM_EXAMPLES.values(), (FIXTURES / "pos_partial_nested.py").read_text(encoding="utf-8"),
                 (FIXTURES / "pos_branch_chosen_worker.py").read_text(encoding="utf-8")]:
        s = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
        again = ModuleSummary.from_json(json.loads(json.dumps(s.to_json())))
        assert again == s


def test_refs_are_read_by_attribute_only():
    """The linker reads refs as the dataclasses they are; the JSON form is for the cache alone."""
    from gil_advisor.static.refs import AttributeRef, NameRef as N, PartialRef

    ref = PartialRef(N("m.f", is_class=True))
    assert ref.inner.qualname == "m.f" and ref.to_json() == {"t": "partial", "inner": {"t": "name", "q": "m.f", "kind": "class"}}
    assert AttributeRef("get", outside=True).to_json()["recv"] == "outside"
    assert not hasattr(N("m.f"), "get")


def test_a_cached_summary_with_an_unknown_spawn_form_is_rejected():
    from gil_advisor.static.summary import ModuleSummary, validate_summary

    text = FORM_EXAMPLES["thread"]
    d = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text)).to_json()
    d["functions"]["<module>"]["spawns"][0]["form"] = ""  # written before spawns had forms
    with pytest.raises(ValueError, match="spawn form"):
        validate_summary(ModuleSummary.from_json(d))


def test_calling_a_factorys_result_is_a_result_ref_that_round_trips():
    """`pool_cm = create_pool(x); with pool_cm() as pool:` and `self._cls(n)` for a class kept in a
    parameter: what the call makes is a ResultRef (was: unknown), cached like any ref."""
    import json

    from gil_advisor.static.cache import validate_ref
    from gil_advisor.static.refs import InstanceRef, ParamRef, ResultRef, ref_from_json
    from gil_advisor.static.summary import ModuleSummary

    text = (FIXTURES / "pos_pool_chosen_by_setting.py").read_text(encoding="utf-8")
    s = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
    (spawn,) = s.functions["score_all"].spawns
    assert spawn.receiver == ParamRef("m.score_all", 1, "pool")
    (call,) = [c for c in s.functions["run"].calls if c.ref == NameRef("m.score_all")]
    assert call.args[1] == ResultRef(InstanceRef("m.create_pool"))
    assert ModuleSummary.from_json(json.loads(json.dumps(s.to_json()))) == s
    d = ResultRef(ParamRef("m.f", 0, "cls")).to_json()
    validate_ref(d)
    assert ref_from_json(d) == ResultRef(ParamRef("m.f", 0, "cls"))


def test_a_local_annotated_with_a_project_class_holds_an_instance_of_it():
    from gil_advisor.static.refs import MethodRef

    text = "from m.ev import Evaluator\ndef f(pop, pool):\n    ev: Evaluator = pop.evaluator\n    pool.submit(ev.evaluate, 1)\n    n: int = len(pop)\n"
    s = ex.extract(cst.parse_module(text), "m.run", "m/run.py", False, text, ast.parse(text))
    (spawn,) = s.functions["f"].spawns
    assert spawn.target == MethodRef("m.ev.Evaluator", "evaluate", declared=True)  # a subclass may run


def test_pool_method_names_pass_the_pre_check():
    """A file that only uses a pool made elsewhere names no pool class."""
    from gil_advisor.static.project import has_spawn_hint

    assert has_spawn_hint(b"def f(self, g):\n    return self.pool.submit(g)\n")
    assert has_spawn_hint(b"def f(pool, g, xs):\n    return pool.imap_unordered(g, xs)\n")
    assert not has_spawn_hint(b"def f(g, xs):\n    return list(map(g, xs))\n")


PLACEHOLDER = '''
import threading
try:
    import fastmod
except {caught}:
    fastmod = None


def start():
    threading.Thread(target=fastmod.work).start()
'''


@pytest.mark.parametrize("caught, bound", [
    ("ImportError", "fastmod"), ("ModuleNotFoundError", "fastmod"), ("Exception", "fastmod"),
    ("(ImportError, OSError)", "fastmod"), ("ValueError", None),
])
def test_the_placeholder_of_a_failed_import_is_not_the_value(caught, bound):
    # `except ImportError: x = None` is what runs when the module is missing; the code that
    # starts threads uses the module. Another handler's rebinding is a real value.
    text = PLACEHOLDER.replace("{caught}", caught)
    s = ex.extract(cst.parse_module(text), "m", "m.py", False, text, ast.parse(text))
    target = s.functions["start"].spawns[0].target
    if bound:
        assert target == NameRef("fastmod.work"), target
    else:
        assert target != NameRef("fastmod.work"), target
