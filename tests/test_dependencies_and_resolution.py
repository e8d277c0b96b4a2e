"""Dependencies followed in the project's environment, --show-spawns, and the resolver's reach
(factory results, mixins, classmethod parameters, syntax newer than this interpreter)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from gil_advisor.api import check
from gil_advisor.config import Options

WORKER = """
from concurrent.futures import ThreadPoolExecutor
import {lib}

def work(item):
    return {lib}.{func}(item)

def run(items):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(work, items))
"""

CPU_SOURCE = """
def crunch(n):
    total = 0
    for i in range(n):
        for j in range(n):
            total += (i * j) % 7
    return total

def get(url):
    total = 0
    for i in range(len(url)):
        for j in range(len(url)):
            total += i ^ j
    return total
"""


def make_project(tmp_path: Path, lib: str, func: str) -> Path:
    """A project whose .venv holds `lib` as pure-Python source, never installed or imported."""
    proj = tmp_path / "proj"
    site = proj / ".venv" / "lib" / "python3.11" / "site-packages" / lib
    site.mkdir(parents=True)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "__init__.py").write_text(CPU_SOURCE)
    (proj / "app.py").write_text(WORKER.format(lib=lib, func=func))
    return proj


def codes(report):
    return sorted((f.code, Path(f.location.path).name, f.location.line) for f in report.findings)


def test_a_pure_python_dependency_in_the_project_venv_is_followed(tmp_path):
    proj = make_project(tmp_path, "slowlib", "crunch")
    report = check([str(proj / "app.py")], Options())
    assert codes(report) == [("GIL001", "app.py", 10)]
    chain = " ".join(e.description for e in report.findings[0].evidence)
    assert "slowlib.crunch" in chain and "nested" in chain
    # never imported: the module did not become importable by being read
    assert "slowlib" not in sys.modules


def test_following_dependencies_can_be_turned_off(tmp_path):
    proj = make_project(tmp_path, "slowlib", "crunch")
    assert check([str(proj / "app.py")], Options(follow_dependencies=False)).findings == []


def test_the_knowledge_table_wins_over_an_installed_source(tmp_path):
    # `requests.get` is network I/O whatever its (here: CPU-looking) source says
    proj = make_project(tmp_path, "requests", "get")
    assert check([str(proj / "app.py")], Options()).findings == []


def test_python_option_points_at_another_environment(tmp_path):
    proj = make_project(tmp_path, "slowlib", "crunch")
    env = tmp_path / "elsewhere"
    (proj / ".venv").rename(env)
    assert check([str(proj / "app.py")], Options()).findings == []
    found = check([str(proj / "app.py")], Options(python=str(env / "bin" / "python")))
    assert codes(found) == [("GIL001", "app.py", 10)]


def test_show_spawns_explains_every_site(tmp_path):
    src = tmp_path / "w.py"
    src.write_text(textwrap.dedent("""
        import threading, urllib.request
        from concurrent.futures import ThreadPoolExecutor

        def crunch(n):
            t = 0
            for i in range(n):
                for j in range(n):
                    t += i * j
            return t

        def fetch(url):
            return urllib.request.urlopen(url).read()

        def main(urls):
            threading.Thread(target=crunch, args=(10,)).start()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(crunch, range(100)))
                list(pool.map(fetch, urls))
    """))
    r = subprocess.run([sys.executable, "-m", "gil_advisor", "check", "--no-cache", "--show-spawns", "--format", "json", str(src)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    sites = {(s["line"], s["worker"]): s for s in json.loads(r.stdout)["spawns"]}
    assert sites[(16, "w.crunch")]["outcome"].startswith("not reported: one thread at a time")
    assert sites[(18, "w.crunch")]["outcome"] == "reported GIL001"
    assert sites[(18, "w.crunch")]["held_share"] == 1.0 and "holds the GIL" in sites[(18, "w.crunch")]["estimate"]
    assert sites[(19, "w.fetch")]["outcome"] == "not reported: the worker's work is io"
    text = subprocess.run([sys.executable, "-m", "gil_advisor", "check", "--no-cache", "--show-spawns", str(src)],
                          capture_output=True, text=True, timeout=120).stdout
    assert "spawn sites: 3" in text and "concurrency: one at a time: a single thread" in text


def test_factory_results_and_mixins_are_resolved(tmp_path):
    """`Info.from_config(c).update()` and a mixin's `self.run_tool()` reach the subprocess they wrap."""
    (tmp_path / "tool.py").write_text(textwrap.dedent("""
        import subprocess
        from concurrent.futures import ThreadPoolExecutor

        class Info:
            @classmethod
            def from_config(cls, config):
                return cls()

            def update(self):
                for attempt in range(3):
                    for line in subprocess.check_output(["git", "fetch"]).splitlines():
                        if line.startswith(b"x"):
                            return line

        class TuneMixin:
            def tune(self, task):
                out = self.run_tool(task)
                n = 0
                for line in out.splitlines():
                    for word in line.split():
                        n += len(word) % 3
                return n

        class ToolBase:
            def run_tool(self, task):
                return subprocess.run(["tool", task], capture_output=True).stdout

        class Tuner(TuneMixin, ToolBase):
            pass

        def update_one(config):
            return Info.from_config(config).update()

        def main(configs, tuner, tasks):
            with ThreadPoolExecutor(4) as ex:
                a = [ex.submit(update_one, c) for c in configs]
                b = [ex.submit(tuner.tune, t) for t in tasks]
            return a, b
    """))
    report = check([str(tmp_path / "tool.py")], Options(min_confidence="low"))
    assert report.findings == []  # both wait on subprocesses behind the calls


def test_classmethod_parameters_resolve_through_their_callers(tmp_path):
    (tmp_path / "aug.py").write_text(textwrap.dedent("""
        from multiprocessing.pool import ThreadPool

        class Augmenter:
            @classmethod
            def _parallel(cls, action, data, n):
                pool = ThreadPool(4)
                return pool.map(action, [data] * n)

            def substitute(self, text):
                out = []
                for word in text.split():
                    for ch in word:
                        out.append(ch.upper() if ord(ch) % 2 else ch)
                return "".join(out)

            def augment(self, text, n):
                return self._parallel(self.substitute, text, n)
    """))
    (f,) = check([str(tmp_path / "aug.py")]).findings
    assert (f.code, f.worker, f.location.line) == ("GIL001", "aug.Augmenter.substitute", 8)


def test_a_method_called_through_the_class_takes_self_explicitly(tmp_path):
    # `Runner.map_all(obj, fn, items)`: the first argument is `self`, `fn` is the second;
    # the bound call `runner.map_all(fn, items)` is fixtures/viainstance
    (tmp_path / "r.py").write_text(textwrap.dedent("""
        from concurrent.futures import ThreadPoolExecutor

        class Runner:
            def map_all(self, fn, items):
                with ThreadPoolExecutor(4) as pool:
                    return list(pool.map(fn, items))

        def crunch(n):
            acc = 0
            for i in range(n):
                acc ^= (i * 2654435761) & 0xFFFFFFFF
            return acc

        def main(obj):
            return Runner.map_all(obj, crunch, [10_000] * 8)
    """))
    (f,) = check([str(tmp_path / "r.py")], Options(min_confidence="low")).findings
    assert (f.code, f.worker, f.location.line) == ("GIL001", "r.crunch", 7)


def test_only_an_import_error_fallback_yields_to_the_try_body(tmp_path):
    # `except ImportError: import dummy_threading as threading` is a fallback
    # (fixtures/pos_thread_import_fallback.py); any other handler's import is read in order
    (tmp_path / "t.py").write_text(textwrap.dedent("""
        try:
            import threading
        except RuntimeError:
            import dummy_threading as threading

        def spin(out):
            acc = 0
            for i in range(100_000):
                acc = (acc * 31 + i) % 1_000_003
            out.append(acc)

        def main():
            out = []
            for _ in range(4):
                threading.Thread(target=spin, args=(out,)).start()
    """))
    assert check([str(tmp_path / "t.py")], Options(min_confidence="low")).findings == []


def test_object_methods_of_a_project_class_are_the_interpreters(tmp_path):
    # `self.__getattribute__(name)` in a class whose bases are all the project's comes from
    # `object`: interpreter work, not an unseen call; with a base from elsewhere it stays unknown
    src = textwrap.dedent("""
        import threading
        from collections import OrderedDict

        class Grid{base}:
            def cells(self, names):
                return [self.__getattribute__(n) for n in names]

        def walk(grid: Grid, names):
            return [len(c) for c in grid.cells(names)]

        def main(grid, names):
            for _ in range(4):
                threading.Thread(target=walk, args=(grid, names)).start()
    """)
    (tmp_path / "g.py").write_text(src.format(base=""))
    (f,) = check([str(tmp_path / "g.py")], Options(min_confidence="low")).findings
    assert (f.code, f.worker) == ("GIL001", "g.walk")
    (tmp_path / "g.py").write_text(src.format(base="(OrderedDict)"))
    assert check([str(tmp_path / "g.py")], Options(min_confidence="low")).findings == []


def test_a_local_bound_to_a_method_is_that_method(tmp_path):
    # `action = self.shuffle` then `pool.map(action, ...)`: the name holds the bound method
    (tmp_path / "aug.py").write_text(textwrap.dedent("""
        from multiprocessing.pool import ThreadPool

        class Augmenter:
            def shuffle(self, text):
                out = []
                for word in text.split():
                    for ch in word:
                        out.append(chr((ord(ch) * 7) % 128))
                return "".join(out)

            def augment(self, text, n):
                action = None
                if n > 1:
                    action = self.shuffle
                pool = ThreadPool(4)
                return pool.map(action, [text] * n)
    """))
    (f,) = check([str(tmp_path / "aug.py")], Options(min_confidence="low")).findings
    assert (f.code, f.worker) == ("GIL001", "aug.Augmenter.shuffle")


def test_syntax_newer_than_this_interpreter_is_read_by_libcst(tmp_path):
    (tmp_path / "new.py").write_text(textwrap.dedent("""
        from concurrent.futures import ThreadPoolExecutor

        def crunch[T](n: T) -> T:
            t = 0
            for i in range(n):
                for j in range(n):
                    t += i * j
            return t

        def run(sizes):
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(crunch, sizes))
    """))
    report = check([str(tmp_path / "new.py")])
    assert report.errors == []
    assert [(f.code, f.location.line) for f in report.findings] == [("GIL001", 13)]
