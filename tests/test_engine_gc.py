"""The engine runs with fewer garbage collections, and gives the caller's thresholds back."""
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
