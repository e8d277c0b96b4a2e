"""The per-file cache: warm runs give identical results; bad entries are never trusted."""
import json
import os
from pathlib import Path

from conftest import FIXTURES, run_cli

from gil_advisor.api import check
from gil_advisor.config import Config
from gil_advisor.static.cache import open_cache
from gil_advisor.static.project import summarise_file

POS = (FIXTURES / "pos_tpe_with_map.py").read_text()


def entries(cache_dir):
    return sorted(p for p in Path(cache_dir).rglob("*.json"))


def test_warm_run_is_identical_and_reads_the_cache(tmp_path):
    cache_dir = tmp_path / "cache"
    cold = check([str(FIXTURES)], Config(cache_dir=str(cache_dir)))
    assert entries(cache_dir)
    warm = check([str(FIXTURES)], Config(cache_dir=str(cache_dir)))
    assert warm.to_dict() == cold.to_dict()
    assert (cache_dir / "CACHEDIR.TAG").exists()


def test_cache_hit_skips_parsing(tmp_path, monkeypatch):
    src = tmp_path / "w.py"
    src.write_text(POS)
    cache, why = open_cache(str(tmp_path / "c"), "x")
    assert why is None
    first = summarise_file(str(src), 10**7, True, cache)
    import gil_advisor.static.project as project

    def boom(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(project, "parse_and_extract", boom)
    again = summarise_file(str(src), 10**7, True, cache)
    assert again.to_json() == first.to_json()


def test_changed_file_and_changed_config_miss(tmp_path):
    src = tmp_path / "w.py"
    src.write_text(POS)
    cache_dir = str(tmp_path / "c")
    assert len(check([str(tmp_path)], Config(cache_dir=cache_dir)).findings) == 1
    src.write_text(POS.replace("max_workers=4", "max_workers=1").replace("ThreadPoolExecutor()", "ThreadPoolExecutor(max_workers=1)"))
    assert check([str(tmp_path)], Config(cache_dir=cache_dir)).findings == []
    n = len(entries(cache_dir))
    check([str(tmp_path)], Config(cache_dir=cache_dir, releases_gil=("x.*",)))
    assert len(entries(cache_dir)) == n + 1


def test_corrupt_and_foreign_entries_are_ignored(tmp_path):
    src = tmp_path / "w.py"
    src.write_text(POS)
    cache_dir = tmp_path / "c"
    want = check([str(tmp_path)], Config(cache_dir=str(cache_dir))).to_dict()
    (entry,) = entries(cache_dir)
    for poison in (
        "{not json",
        json.dumps({"key": "someone-else", "summary": {}}),
        json.dumps({"key": entry.parent.name + entry.stem, "summary": {"module": 1}}),
        json.dumps({"key": entry.parent.name + entry.stem, "summary": "x"}),
        json.dumps([1, 2, 3]),
    ):
        entry.write_text(poison)
        assert check([str(tmp_path)], Config(cache_dir=str(cache_dir))).to_dict() == want
    # a well-formed entry whose summary lies about its types is rejected too
    good = json.loads(json.dumps({"key": entry.parent.name + entry.stem}))
    data = summarise_file(str(src), 10**7, True).to_json()
    data["functions"]["<module>"]["calls"][0][3] = 99  # the call's loop id
    good["summary"] = data
    entry.write_text(json.dumps(good))
    assert check([str(tmp_path)], Config(cache_dir=str(cache_dir))).to_dict() == want


def test_cli_cache_flags(tmp_path):
    (tmp_path / "w.py").write_text(POS)
    r = run_cli("check", "--no-cache", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and not (tmp_path / ".gil-advisor-cache").exists()
    r = run_cli("check", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and (tmp_path / ".gil-advisor-cache").is_dir()
    r = run_cli("check", "--cache-dir", tmp_path / "elsewhere", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and entries(tmp_path / "elsewhere")
    assert not any(p.suffix == ".pickle" for p in Path(tmp_path).rglob("*"))
    assert os.listdir(tmp_path / ".gil-advisor-cache")


# -- the cache stays in its own folder (issue 11 item 4) ----------------------------------

def test_cache_dir_dot_never_touches_the_project(tmp_path):
    (tmp_path / "w.py").write_text(POS)
    (tmp_path / ".gitignore").write_text("build/\n")
    before = sorted(os.listdir(tmp_path))
    r = run_cli("check", "--cache-dir", ".", "--format", "json", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert (tmp_path / ".gitignore").read_text() == "build/\n"
    assert sorted(os.listdir(tmp_path)) == before  # no CACHEDIR.TAG, no entry folders
    errors = json.loads(r.stdout)["errors"]
    assert len(errors) == 1 and "cache not used" in errors[0]["message"] and "not made by gil-advisor" in errors[0]["message"]


def test_symlinked_cache_folder_is_not_written_through(tmp_path):
    (tmp_path / "w.py").write_text(POS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / ".gil-advisor-cache").symlink_to(elsewhere)
    r = run_cli("check", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert os.listdir(elsewhere) == []
    assert "symbolic link" in r.stderr
    # a link to a real cache of ours is refused too: the link is what a clone can commit
    real = tmp_path / "real"
    check([str(tmp_path / "w.py")], Config(cache_dir=str(real)))
    n = len(entries(real))
    (tmp_path / "link").symlink_to(real)
    report = check([str(tmp_path / "w.py")], Config(cache_dir=str(tmp_path / "link"), max_depth=3))
    assert len(report.findings) == 1 and len(entries(real)) == n


def test_a_new_cache_folder_is_tagged_and_reused(tmp_path):
    (tmp_path / "w.py").write_text(POS)
    cache_dir = tmp_path / "deep" / "cache"
    first = check([str(tmp_path / "w.py")], Config(cache_dir=str(cache_dir)))
    assert (cache_dir / ".gitignore").read_text() == "*\n" and (cache_dir / "CACHEDIR.TAG").is_file()
    again = check([str(tmp_path / "w.py")], Config(cache_dir=str(cache_dir)))
    assert again.to_dict() == first.to_dict() and again.errors == []


def test_symlinked_entry_subfolder_is_not_written_through(tmp_path):
    src = tmp_path / "w.py"
    src.write_text(POS)
    cache_dir = tmp_path / "c"
    check([str(src)], Config(cache_dir=str(cache_dir)))
    (entry,) = entries(cache_dir)
    sub = entry.parent
    outside = tmp_path / "outside"
    outside.mkdir()
    for p in sub.iterdir():
        p.unlink()
    sub.rmdir()
    sub.symlink_to(outside)
    assert len(check([str(src)], Config(cache_dir=str(cache_dir))).findings) == 1
    assert os.listdir(outside) == []


def _mutations(data):
    """Entries that pass the old shallow checks but lack what the linker reads."""
    import copy

    def edit(fn):
        d = copy.deepcopy(data)
        fn(d)
        return d

    fns = list(data["functions"])
    call_fn = next(q for q in fns if data["functions"][q]["calls"])
    spawn_fn = next(q for q in fns if data["functions"][q]["spawns"])
    yield edit(lambda d: d["functions"][call_fn]["calls"][0][0].pop("q", None) or d["functions"][call_fn]["calls"][0][0].update(t="name") or d["functions"][call_fn]["calls"][0][0].pop("q", None))
    yield edit(lambda d: d["functions"][call_fn]["calls"][0].__setitem__(0, {"t": "name"}))
    yield edit(lambda d: d["functions"][call_fn]["calls"][0].__setitem__(0, {"t": "param", "func": "x", "index": "0", "name": "f"}))
    yield edit(lambda d: d["functions"][call_fn]["calls"][0].__setitem__(0, {"t": "partial", "inner": {"t": "method", "cls": "C"}}))
    yield edit(lambda d: d["functions"][call_fn]["calls"][0].__setitem__(5, "abc"))
    yield edit(lambda d: d["functions"][spawn_fn]["spawns"][0].__setitem__("target", {"t": "name"}))
    yield edit(lambda d: d["functions"][spawn_fn]["spawns"][0].__setitem__("target", {"t": "what"}))
    yield edit(lambda d: d["names"].__setitem__("x", {"t": "inst"}))
    yield edit(lambda d: d["noqa"].__setitem__("3", "GIL001"))


def test_entries_missing_a_field_are_a_miss_not_a_traceback(tmp_path):
    src = tmp_path / "w.py"
    src.write_text(POS)
    cache_dir = tmp_path / "c"
    want = check([str(src)], Config(cache_dir=str(cache_dir))).to_dict()
    (entry,) = entries(cache_dir)
    good = json.loads(entry.read_text())
    n = 0
    for summary in _mutations(good["summary"]):
        assert summary != good["summary"]
        entry.write_text(json.dumps({"key": good["key"], "summary": summary}))
        assert check([str(src)], Config(cache_dir=str(cache_dir))).to_dict() == want
        n += 1
    assert n == 9


def test_every_real_summary_passes_validation():
    from gil_advisor.static.cache import validate_entry
    from gil_advisor.static.summary import ModuleSummary

    n = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        s = summarise_file(str(path), 10**7, False)
        if s is not None and hasattr(s, "functions"):
            validate_entry(ModuleSummary.from_json(json.loads(json.dumps(s.to_json()))))
            n += 1
    assert n > 50


_HELPER_CPU = "def crunch(n):\n    t = 0\n    for i in range(n):\n        for j in range(n):\n            t += i * j % 7\n    return t\n"
_USER = (
    "import threading\nfrom helper import crunch\n\n"
    "def main():\n    ts = [threading.Thread(target=crunch, args=(500,)) for _ in range(4)]\n"
    "    for t in ts:\n        t.start()\n"
)


def test_memory_cache_parses_an_imported_module_once_for_many_files(tmp_path, monkeypatch):
    """The flake8 plugin's case: one file per call, the same imported module every time."""
    from gil_advisor.static import project
    from gil_advisor.static.cache import MemoryCache
    from gil_advisor.static.engine import check_source

    (tmp_path / "helper.py").write_text(_HELPER_CPU)
    users = []
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(_USER)
        users.append(str(tmp_path / name))
    fresh = [check_source(u, _USER).findings for u in users]
    assert all(len(f) == 1 for f in fresh)
    parsed = []
    real = project.parse_and_extract
    monkeypatch.setattr(project, "parse_and_extract", lambda path, *a: parsed.append(path) or real(path, *a))
    cache = MemoryCache.for_config("x")
    assert [check_source(u, _USER, cache=cache).findings for u in users] == fresh
    assert parsed == [str(tmp_path / "helper.py")]
    # keyed by content: an edit to the helper is seen at once
    (tmp_path / "helper.py").write_text("def crunch(n):\n    return n\n")
    assert check_source(users[0], _USER, cache=cache).findings == []


def test_warm_run_reads_the_cache_here_and_starts_no_worker_processes(tmp_path, monkeypatch):
    """Only files that need parsing go to worker processes: a warm run (and trace's warm
    static pass) starts none, and parses nothing."""
    from dataclasses import replace

    from gil_advisor.static import engine, project

    src = tmp_path / "src"
    src.mkdir()
    (src / "helper.py").write_text(_HELPER_CPU)
    for i in range(engine.PARALLEL_THRESHOLD + 6):
        (src / f"user{i}.py").write_text(_USER if i % 3 == 0 else f"x = {i}\n")
    config = replace(Config(), cache_dir=str(tmp_path / "cache"), jobs=2)
    asked = []
    real_pool = engine.open_pool
    monkeypatch.setattr(engine, "open_pool", lambda cfg, n: asked.append(n) or real_pool(cfg, n))
    cold = check([str(src)], config)
    parsed = []
    real = project.parse_and_extract
    monkeypatch.setattr(project, "parse_and_extract", lambda path, *a: parsed.append(path) or real(path, *a))
    warm = check([str(src)], config)
    assert warm.findings == cold.findings and len(cold.findings) == 24
    assert asked[0] > 0 and asked[1] == 0 and parsed == []
