"""Options: one resolver for every front door, and a configuration that cannot hurt (issue 11
item 3, issue 9 item 4)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, run_cli

from gil_advisor.config import ConfigError, Options, Overrides, load
from gil_advisor.static import engine

POS = (FIXTURES / "pos_tpe_with_map.py").read_text()


def flake8(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("pyproject.toml", "tool = 5\n", "`tool` must be a table"),
        ("pyproject.toml", "[tool.gil-advisor]\nmax-file-size = inf\n", "max-file-size must be an integer, got inf"),
        ("pyproject.toml", "[tool.gil-advisor]\nmax-file-size = 1.5\n", "max-file-size must be an integer, got 1.5"),
        ("pyproject.toml", "[tool.gil-advisor]\nmax-depth = 400\n", "max-depth must be an integer from 0 to 50, got 400"),
        ("pyproject.toml", "[tool.gil-advisor]\njobs = true\n", "jobs must be an integer, got True"),
        ("pyproject.toml", "[tool.gil-advisor]\ncache-dir = 3\n", "cache-dir must be a string path, got 3"),
        ("pyproject.toml", "[tool.gil-advisor]\nexclude = [1]\n", "exclude must be a list of strings"),
        ("setup.cfg", "[gil-advisor]\nmax-file-size = inf\n", "max-file-size must be an integer, got 'inf'"),
        ("tox.ini", "[gil-advisor]\nmax-depth = -1\n", "max-depth must be an integer from 0 to 50, got -1"),
    ],
)
def test_bad_values_are_one_line_naming_the_option(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    (tmp_path / "w.py").write_text(POS)
    r = run_cli("check", "--no-cache", "w.py", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("gil-advisor: error: ") and message in r.stderr, r.stderr


def test_percent_in_setup_cfg_is_a_pattern_and_never_breaks_flake8(tmp_path):
    (tmp_path / "setup.cfg").write_text("[gil-advisor]\nexclude = 50%_done\n")
    (tmp_path / "50%_done").mkdir()
    (tmp_path / "50%_done" / "w.py").write_text(POS)
    (tmp_path / "w.py").write_text(POS + "x=1\n")
    r = run_cli("check", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert [os.path.normpath(f["path"]) for f in json.loads(r.stdout)["findings"]] == ["w.py"]
    r = flake8("--select", "E", "w.py", cwd=tmp_path)
    assert "Traceback" not in r.stderr and "E225" in r.stdout, r.stderr


def test_broken_config_never_breaks_flake8(tmp_path):
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    (tmp_path / "w.py").write_text(POS)
    r = flake8("--select", "E,GIL", "w.py", cwd=tmp_path)
    assert "Traceback" not in r.stderr, r.stderr
    assert "GIL001" in r.stdout  # the defaults apply


def test_jobs_is_capped_at_usable_cpus_and_files(tmp_path, monkeypatch):
    for i in range(70):
        (tmp_path / f"m{i}.py").write_text(POS)
    started = []

    class Pool:
        def __init__(self, max_workers):
            started.append(max_workers)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, items):
            return map(fn, items)

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)  # the engine imports it when it needs it
    monkeypatch.setattr(engine, "usable_cpus", lambda: 3)
    report = engine.check([str(tmp_path)], Options(jobs=100_000))
    assert len(report.findings) == 70
    assert started == [3]
    assert engine.worker_count(100_000, 2) == 2 and engine.worker_count(0, 50) == 3


def test_recursion_error_while_linking_is_a_diagnostic(tmp_path, monkeypatch):
    (tmp_path / "w.py").write_text(POS)

    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(engine.WorkClassifier, "classify", too_deep)
    report = engine.check([str(tmp_path)], Options())
    assert report.findings == []
    assert [e.message for e in report.errors] == [engine.RECURSION_MESSAGE]


def test_deepest_allowed_max_depth_follows_a_long_chain(tmp_path):
    """max-depth at its cap on a chain of helpers longer than the cap: no RecursionError."""
    chain = "".join(f"def f{i}(n):\n    return f{i + 1}(n)\n\n" for i in range(120))
    chain += "def f120(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t\n"
    src = "from concurrent.futures import ThreadPoolExecutor\n" + chain
    src += "\nwith ThreadPoolExecutor(4) as pool:\n    list(pool.map(f0, [10**6] * 8))\n"
    (tmp_path / "w.py").write_text(src)
    (tmp_path / "pyproject.toml").write_text("[tool.gil-advisor]\nmax-depth = 50\n")
    r = run_cli("check", "--no-cache", "w.py", cwd=tmp_path)
    assert "Traceback" not in r.stderr and r.returncode in (0, 1), r.stderr
    assert "cannot parse" not in r.stderr


def test_resolve_reads_setup_cfg_and_tox_ini_with_overrides(tmp_path):
    (tmp_path / "tox.ini").write_text("[gil-advisor]\nignore = GIL003\nholds-gil = a.b\n")
    opts = Options.resolve([str(tmp_path)], Overrides(select=["GIL001"]))
    assert opts.source == str(tmp_path / "tox.ini")
    assert (opts.ignore, opts.holds_gil, opts.select) == (("GIL003",), ("a.b",), ("GIL001",))
    assert opts.cache_dir == ".gil-advisor-cache"
    assert Options.resolve([str(tmp_path)], Overrides(no_cache=True)).cache_dir == ""
    (tmp_path / "setup.cfg").write_text("[gil-advisor]\nignore = GIL004\n")
    assert Options.resolve([str(tmp_path)]).ignore == ("GIL004",)  # setup.cfg before tox.ini


def test_config_file_that_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "cfg.toml")
    with pytest.raises(ConfigError, match="FIFO"):
        load(explicit=str(tmp_path / "cfg.toml"))


APP = '''import threading
import zlib


def crunch(n):
    t = 0
    for i in range(n):
        t += i * i
    return t


def checksum(n):
    data = b"x" * 64
    for _ in range(n):
        zlib.crc32(data)


if __name__ == "__main__":
    threads = [threading.Thread(target=crunch, args=(2000,)) for _ in range(2)]
    threads += [threading.Thread(target=checksum, args=(2000,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
'''


@pytest.mark.parametrize(
    "config",
    [
        '[tool.gil-advisor]\nselect = ["GIL002"]\nholds-gil = ["zlib.crc32"]\n',
        '[tool.gil-advisor]\nignore = ["GIL001"]\nholds-gil = ["zlib.crc32"]\n',
    ],
)
def test_check_and_trace_apply_the_same_configuration(tmp_path, config):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "pyproject.toml").write_text(config)
    r = run_cli("check", "--no-cache", "--format", "json", "app.py", cwd=tmp_path)
    checked = sorted((f["code"], f["worker"]) for f in json.loads(r.stdout)["findings"])
    assert checked == [("GIL002", "app.checksum")]
    t = run_cli("trace", "-q", "--json", tmp_path / "trace.json", "app.py", cwd=tmp_path)
    assert t.returncode == 0, t.stderr
    report = json.loads((tmp_path / "trace.json").read_text())
    assert report["static"]["source"] == "api.check"
    assert sorted((f["code"], f["worker"]) for f in report["findings"]) == checked
    # trace shares check's per-file cache (issue 13): the same folder check would use, tagged as ours
    assert (tmp_path / ".gil-advisor-cache" / "CACHEDIR.TAG").is_file()


def test_oversized_config_file_is_refused_by_name(tmp_path):
    big = tmp_path / "pyproject.toml"
    big.write_text("[tool.gil-advisor]\nselect = ['GIL001']\n" + "# padding\n" * 120_000)
    with pytest.raises(ConfigError, match="too large for a configuration file"):
        load(start=str(tmp_path))
