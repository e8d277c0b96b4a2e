"""The per-file cache: warm runs give identical results; bad entries are never trusted."""
import json
import os
from pathlib import Path

from conftest import FIXTURES, run_cli

from gil_advisor.api import check
from gil_advisor.config import Config
from gil_advisor.static.cache import Cache
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
    cache = Cache.for_config(str(tmp_path / "c"), "x")
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
