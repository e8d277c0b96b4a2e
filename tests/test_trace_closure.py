"""trace analyses the program's import closure, with check's cache (issue 13).

The closure is counted, never timed: a script in a folder of 10,000 unrelated files reads one file.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from gil_advisor.runtime.static_pass import closure_roots, import_closure

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

WORKERS = '''import threading


def crunch(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def run_all():
    threads = [threading.Thread(target=crunch, args=(100_000,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
'''

UNRELATED = '''import threading


def spin(n):
    while n:
        n -= 1


for _ in range(2):
    threading.Thread(target=spin, args=(10,)).start()
'''


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return env


def trace(tmp_path, *args, cwd=None):
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "gil_advisor", "trace", "-q", "--json", str(out), *args]
    p = subprocess.run(cmd, cwd=cwd or tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text())


def make_project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "pkg").mkdir(parents=True)
    (proj / "pkg" / "__init__.py").write_text("")
    (proj / "pkg" / "workers.py").write_text(WORKERS)
    (proj / "pkg" / "helpers.py").write_text("from . import workers\n")
    (proj / "unrelated.py").write_text(UNRELATED)
    (proj / "main.py").write_text("from pkg.helpers import workers\n\nworkers.run_all()\nprint('done')\n")
    return proj


def test_closure_follows_imports_and_nothing_else(tmp_path):
    proj = make_project(tmp_path)
    c = import_closure(str(proj / "main.py"), [str(proj)], 10_000_000)
    rel = [os.path.relpath(f, proj) for f in c.files]
    assert rel == ["main.py", "pkg/__init__.py", "pkg/helpers.py", "pkg/workers.py"]
    assert not c.truncated


def _names_by_full_walk(tree):
    """The reference: every Import/ImportFrom node anywhere in the tree (ast.walk)."""
    import ast

    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [("import", a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append(("from", node.level or 0, node.module or "", tuple(a.name for a in node.names)))
    return sorted(out)


NESTED_IMPORTS = """
import a
if x:
    import b
else:
    from . import c
try:
    import d
except ImportError:
    import e
else:
    from f import g, h
finally:
    import i
class K:
    import j
    def m(self):
        with ctx():
            from ..k import l
        for q in r:
            import n
        else:
            import o
        while 1:
            async def p():
                async with y:
                    import p1
                async for z in y:
                    import p2
match v:
    case 1:
        import s
    case _:
        from t import *
try:
    pass
except* ValueError:
    import u
"""


def test_import_statements_walk_statements_only_and_miss_nothing():
    import ast
    import sysconfig

    from gil_advisor.runtime.static_pass import import_statements

    def mine(tree):
        return sorted(tuple(st[:3]) + ((tuple(st[3]),) if st[0] == "from" else ()) for st in import_statements(tree))

    if sys.version_info < (3, 11):
        source = NESTED_IMPORTS.replace("except* ValueError", "except ValueError")
    else:
        source = NESTED_IMPORTS
    if sys.version_info < (3, 10):
        source = source.split("match v:")[0]
    tree = ast.parse(source)
    assert mine(tree) == _names_by_full_walk(tree) and len(mine(tree)) == 16
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    checked = 0
    for path in sorted(stdlib.glob("*.py"))[:150]:
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        assert mine(tree) == _names_by_full_walk(tree), path
        checked += 1
    assert checked > 100


def test_warm_closure_parses_nothing_and_distrusts_a_bad_entry(tmp_path, monkeypatch):
    import ast

    from gil_advisor.runtime import static_pass
    from gil_advisor.static.cache import open_cache

    proj = make_project(tmp_path)
    cache, why = open_cache(str(tmp_path / "cache"), "fp")
    assert why is None
    cold = import_closure(str(proj / "main.py"), [str(proj)], 10_000_000, cache=cache)
    parses = []
    real = ast.parse
    monkeypatch.setattr(static_pass.ast, "parse", lambda *a, **k: parses.append(a) or real(*a, **k))
    warm = import_closure(str(proj / "main.py"), [str(proj)], 10_000_000, cache=cache)
    assert warm.files == cold.files and parses == []
    for entry in (tmp_path / "cache").rglob("*.json"):  # tampered entries: parsed again, same result
        data = json.loads(entry.read_text())
        data["imports"] = [["from", "x", 1, []]]
        entry.write_text(json.dumps(data))
    again = import_closure(str(proj / "main.py"), [str(proj)], 10_000_000, cache=cache)
    assert again.files == cold.files and len(parses) == len(cold.files)


def test_closure_is_bounded(tmp_path):
    for i in range(30):
        (tmp_path / f"m{i}.py").write_text(f"import m{i + 1}\n")
    c = import_closure(str(tmp_path / "m0.py"), [str(tmp_path)], 10_000_000, max_files=10)
    assert len(c.files) == 10 and c.truncated


def test_closure_reads_only_regular_files_under_the_size_limit(tmp_path):
    (tmp_path / "main.py").write_text("import fifo\nimport big\n")
    os.mkfifo(tmp_path / "fifo.py")  # opening it would hang
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    c = import_closure(str(tmp_path / "main.py"), [str(tmp_path)], 1000)
    assert [os.path.basename(p) for p in c.files] == ["main.py", "big.py"]  # the FIFO is not opened
    assert c.skipped == [(str(tmp_path / "big.py"), "6,000 bytes is over the max-file-size limit of 1,000 bytes")]


def test_roots_are_the_program_folder_and_pythonpath(tmp_path, monkeypatch):
    other = tmp_path / "lib"
    other.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(other), str(tmp_path / "missing")]))
    assert closure_roots(str(tmp_path)) == [str(tmp_path), str(other)]


def test_trace_finds_the_worker_in_an_imported_module_and_skips_the_folder(tmp_path):
    proj = make_project(tmp_path)
    rep = trace(tmp_path, "--cache-dir", str(tmp_path / "cache"), str(proj / "main.py"))
    static = rep["static"]
    assert static["scope"] == "import closure"
    assert sorted(os.path.relpath(p, proj) for p in static["paths"]) == [
        "main.py", "pkg/__init__.py", "pkg/helpers.py", "pkg/workers.py"]
    workers = {f["worker"] for f in rep["findings"]}
    assert workers == {"pkg.workers.crunch"}, rep["findings"]  # unrelated.py was not read


def test_script_in_a_folder_of_10000_files_reads_only_the_script(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(10_000):
        (big / f"mod{i}.py").write_text(f"x = {i}\n")
    (big / "main.py").write_text("print('hello')\n")
    rep = trace(tmp_path, "--no-cache", str(big / "main.py"))
    assert rep["static"]["files_checked"] == 1
    assert rep["static"]["paths"] == [str(big / "main.py")]


def test_module_target_closure(tmp_path):
    proj = make_project(tmp_path)
    (proj / "pkg" / "__main__.py").write_text("from .workers import run_all\n\nrun_all()\n")
    rep = trace(tmp_path, "--no-cache", "-m", "pkg", cwd=proj)
    rel = sorted(os.path.relpath(p, proj) for p in rep["static"]["paths"])
    assert rel == ["pkg/__init__.py", "pkg/__main__.py", "pkg/workers.py"]
    assert {f["worker"] for f in rep["findings"]} == {"pkg.workers.crunch"}


def test_check_and_trace_share_the_cache_and_a_warm_run_needs_no_libcst(tmp_path):
    proj = make_project(tmp_path)
    cache = tmp_path / "cache"
    p = subprocess.run([sys.executable, "-m", "gil_advisor", "check", "--cache-dir", str(cache), str(proj)],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 1, p.stderr  # findings
    rep = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))
    assert rep["static"]["parsed_with_libcst"] is False
    assert {f["worker"] for f in rep["findings"]} == {"pkg.workers.crunch"}
    cold = trace(tmp_path, "--cache-dir", str(tmp_path / "fresh"), str(proj / "main.py"))
    assert cold["static"]["parsed_with_libcst"] is True


def test_callers_are_searched_in_the_closure_only(tmp_path):
    # The worker reaches the Thread through a parameter: finding it asks "who calls start()?".
    # Every other file in the folder stays unread: a FIFO there would hang a search of the folder.
    proj = tmp_path / "proj"
    proj.mkdir()
    os.mkfifo(proj / "fifo.py")
    (proj / "main.py").write_text(
        "import threading\n\n\ndef crunch(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n"
        "    return total\n\n\ndef start(fn):\n    ts = [threading.Thread(target=fn, args=(50_000,)) for _ in range(2)]\n"
        "    for t in ts:\n        t.start()\n    for t in ts:\n        t.join()\n\n\nstart(crunch)\n"
    )
    rep = trace(tmp_path, "--no-cache", str(proj / "main.py"))
    assert rep["static"]["paths"] == [str(proj / "main.py")]
    assert {f["worker"] for f in rep["findings"]} == {"main.crunch"}, rep["findings"]


# -- the closure's findings, stored whole (issue 13: nothing twice) ---------------------------

IN_PROCESS = r'''
import json, sys
import gil_advisor.cli
try:
    gil_advisor.cli.main(["trace", "-q", "--cache-dir", sys.argv[1], "--json", sys.argv[2], sys.argv[3]])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith(("gil_advisor.static.", "libcst")))
print(json.dumps(loaded))
'''


def trace_in_process(tmp_path, cache, script, cwd):
    """trace run by a fresh interpreter that then prints which static modules it loaded."""
    out = tmp_path / "inproc.json"
    p = subprocess.run([sys.executable, "-c", IN_PROCESS, str(cache), str(out), str(script)],
                       cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text()), json.loads(p.stdout.strip().splitlines()[-1])


def test_a_warm_trace_reuses_the_closures_findings_and_loads_no_analysis(tmp_path):
    proj = make_project(tmp_path)
    cache = tmp_path / "cache"
    first, loaded_cold = trace_in_process(tmp_path, cache, proj / "main.py", proj)
    assert first["static"]["reused"] is False and "gil_advisor.static.classify" in loaded_cold
    again, loaded = trace_in_process(tmp_path, cache, proj / "main.py", proj)
    assert again["static"]["reused"] is True
    assert [f["worker"] for f in again["findings"]] == [f["worker"] for f in first["findings"]] == ["pkg.workers.crunch"]
    def static_part(f):  # the run's own measurements differ from run to run
        return {k: v for k, v in f.items() if k not in ("verdict", "measured", "reason")}

    assert static_part(again["findings"][0]) == static_part(first["findings"][0])
    # the hook backend (3.12+) samples pickling, and the projection's start-up figure is the
    # first run's: no child process is started again
    if sys.version_info >= (3, 12):
        assert first["backend"]["host_probes_reused"] == [] and again["backend"]["host_probes_reused"] == ["startup_s"]
    # only the cache and where dependencies live: no linker, classifier, rules or parser
    assert loaded == ["gil_advisor.static.cache", "gil_advisor.static.environment", "gil_advisor.static.inputs"], loaded


def test_a_report_or_log_written_next_to_the_script_keeps_the_stored_answer(tmp_path):
    # `trace --json report.json app.py` writes into the program's folder on every run: that
    # folder's listing changed, but no name the analysis looked up in it did.
    proj = make_project(tmp_path)
    cache = tmp_path / "cache"
    assert trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"), cwd=proj)["static"]["reused"] is False
    (proj / "report.json").write_text("{}")
    (proj / "run.log").write_text("log\n")
    (proj / "pkg" / "notes.txt").write_text("x")
    (proj / "output").mkdir()
    again = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"), cwd=proj)
    assert again["static"]["reused"] is True
    assert [f["worker"] for f in again["findings"]] == ["pkg.workers.crunch"]


def test_a_module_installed_where_the_analysis_found_none_drops_the_stored_answer(tmp_path):
    # The worker's module is not installed at first: the analysis looked for it in the
    # project's .venv and found nothing. Installing it changes that answer.
    proj = tmp_path / "proj"
    site = proj / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "other.py").write_text("")
    (proj / "main.py").write_text(
        "import threading\n"
        "try:\n    import slowdep\nexcept ImportError:\n    pass\nelse:\n"
        "    ts = [threading.Thread(target=slowdep.crunch, args=(1000,)) for _ in range(2)]\n"
        "    for t in ts:\n        t.start()\n    for t in ts:\n        t.join()\n"
    )
    cache = tmp_path / "cache"
    assert trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))["findings"] == []
    (site / "unrelated_dist.py").write_text("")  # a name nobody asked for: still reused
    assert trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))["static"]["reused"] is True
    (site / "slowdep.py").write_text(WORKERS.split("def run_all")[0])
    rep = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))
    assert rep["static"]["reused"] is False
    assert [f["worker"] for f in rep["findings"]] == ["slowdep.crunch"], rep["static"]


def test_stored_findings_are_not_used_once_a_file_they_came_from_changes(tmp_path):
    proj = make_project(tmp_path)
    cache = tmp_path / "cache"
    assert trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))["static"]["reused"] is False
    workers = proj / "pkg" / "workers.py"
    workers.write_text(WORKERS.replace("total += i * i", "pass"))  # no loop work: no finding
    rep = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))
    assert rep["static"]["reused"] is False and rep["findings"] == []


def test_stored_findings_follow_a_dependency_outside_the_closure(tmp_path):
    # The worker lives in the project's .venv: not in the closure (project files only), but
    # check follows it there; editing it must drop the stored answer.
    proj = tmp_path / "proj"
    site = proj / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "slowdep.py").write_text(WORKERS.split("def run_all")[0])
    (proj / "main.py").write_text(
        "import os, sys, threading\n"
        "sys.path.insert(0, os.path.join(os.path.dirname(__file__), '.venv/lib/python3.11/site-packages'))\n"
        "import slowdep\n\n"
        "ts = [threading.Thread(target=slowdep.crunch, args=(1000,)) for _ in range(2)]\n"
        "for t in ts:\n    t.start()\nfor t in ts:\n    t.join()\n"
    )
    cache = tmp_path / "cache"
    cold = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))
    assert [f["worker"] for f in cold["findings"]] == ["slowdep.crunch"], cold["static"]
    assert trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))["static"]["reused"] is True
    (site / "slowdep.py").write_text("import time\n\n\ndef crunch(n):\n    time.sleep(0.001)\n")
    rep = trace(tmp_path, "--cache-dir", str(cache), str(proj / "main.py"))
    assert rep["static"]["reused"] is False and rep["findings"] == []


def test_a_damaged_stored_answer_is_a_miss(tmp_path):
    from gil_advisor.runtime import closure_cache
    from gil_advisor.static.cache import open_cache

    cache, why = open_cache(str(tmp_path / "c"), "fp")
    assert why is None
    v = closure_cache.ENTRY_VERSION
    gone = str(tmp_path / "gone")
    for bad in ([1, 2], {"version": v}, {"version": v, "inputs": [["x", None]], "folders": [], "findings": [{"code": 5}], "errors": []},
                {"version": v, "inputs": "nope", "folders": [], "findings": [], "errors": []},
                {"version": v - 1, "inputs": [], "findings": [], "errors": []},
                {"version": v, "inputs": [], "folders": [[gone, [1, 2, 3], "x"]], "findings": [], "errors": []},
                {"version": v, "inputs": [], "folders": [[gone, [1, 2, 3], [["a.py", True]]]], "findings": [], "errors": []},
                {"version": v, "inputs": [], "folders": [[gone, [1, 2, 3], None]], "findings": [], "errors": []},
                {"version": v, "inputs": [], "folders": [], "findings": [], "errors": [{"path": "p"}]}):
        cache.put_data("k" * 64, closure_cache.FIELD, bad)
        assert closure_cache.load(cache, "k" * 64) is None, bad
    # a folder that is gone now and had none of the names looked up: the same answers
    cache.put_data("k" * 64, closure_cache.FIELD, {"version": v, "inputs": [], "folders": [[gone, [1, 2, 3], [["a.py", False]]]], "findings": [], "errors": []})
    assert closure_cache.load(cache, "k" * 64) == ([], [])


def test_modules_deferred_until_after_the_run_import_nothing_new():
    # After the program has run, sys.path[0] is its folder: a module imported then must not
    # need anything (json, libcst, ...) that the tracer did not import before the program started.
    code = (
        "import sys, importlib\n"
        "import gil_advisor.cli, gil_advisor.runtime.cli as rc\n"
        "rc.import_tracer_modules(rc.ReportPaths())\n"
        "from gil_advisor.runtime import static_pass, closure_cache\n"
        "from gil_advisor.static import cache, environment\n"
        "before = set(sys.modules)\n"
        "from gil_advisor.runtime.advice import DEFERRED_STATIC_MODULES\n"
        "for m in DEFERRED_STATIC_MODULES: importlib.import_module(m)\n"
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('gil_advisor.')))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
