"""How the engine spends less: fewer garbage collections (the caller's thresholds given back),
and the worker processes reused for the files that use a Thread subclass."""
import gc

from gil_advisor.config import Options
from gil_advisor.static import engine


def test_check_raises_the_thresholds_while_it_runs_and_restores_them(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("import threading\nthreading.Thread(target=print).start()\n")
    seen = []
    real = engine.summarise_file

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "summarise_file", spy)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        engine.check([str(tmp_path)], Options(jobs=1))
        assert seen and all(t[0] >= engine.FEWER_COLLECTIONS[0] for t in seen)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_thresholds_already_higher_are_kept():
    before = gc.get_threshold()
    try:
        gc.set_threshold(10**6, 10, 10)
        with engine.fewer_collections():
            assert gc.get_threshold() == (10**6, 50, 100)
        assert gc.get_threshold() == (10**6, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_worker_batch_runs_with_fewer_collections(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(engine, "summarise_file", lambda *a, **k: seen.append(gc.get_threshold()))
    engine._summarise_batch(([str(tmp_path / "x.py")], 1000, None))
    assert seen[0][0] >= engine.FEWER_COLLECTIONS[0]


SUBCLASS = """import threading

class Cruncher(threading.Thread):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def run(self):
        total = 0
        for i in range(self.n):
            total += i * i
"""
USER = """from crunch import Cruncher

def go():
    workers = [Cruncher(10**6) for _ in range(4)]
    for w in workers:
        w.start()
"""


def test_the_subclass_users_are_summarised_by_the_pool_with_the_same_findings(tmp_path, monkeypatch):
    (tmp_path / "crunch.py").write_text(SUBCLASS)
    for name in ("use_a", "use_b", "use_c"):
        (tmp_path / f"{name}.py").write_text(USER)
    serial = engine.check([str(tmp_path)], Options(jobs=1))
    assert {f.location.path for f in serial.findings} == {str(tmp_path / f"use_{x}.py") for x in "abc"}
    mapped = []

    class Pool:
        def __init__(self, max_workers):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, items):
            items = list(items)
            mapped.append((fn, items))
            return map(fn, items)

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(engine, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(engine, "usable_cpus", lambda: 2)
    pooled = engine.check([str(tmp_path)], Options(jobs=2))
    assert pooled.findings == serial.findings and pooled.errors == serial.errors
    users = [items for fn, items in mapped if fn is engine._summarise_unhinted]
    assert [sorted(p for p, _, _ in items) for items in users] == [[str(tmp_path / f"use_{x}.py") for x in "abc"]]


def test_the_depth_guard_reads_the_positions_walk_and_names_the_first_level_over_the_limit():
    import pytest

    from gil_advisor.static.project import MAX_DEPTH, SourceError, parse_and_extract

    with pytest.raises(SourceError, match=f"nested {MAX_DEPTH + 1} levels deep"):
        parse_and_extract("deep.py", "y = " + "-" * (2 * MAX_DEPTH) + "1\n", "deep", False)
    assert parse_and_extract("ok.py", "y = " + "-" * (MAX_DEPTH - 10) + "1\n", "ok", False).module == "ok"
