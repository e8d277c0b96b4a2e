"""The flake8 plugin through a real flake8 run."""
import subprocess
import sys

from conftest import FIXTURES
from test_fixtures import expected_findings


def flake8(*args, cwd=FIXTURES):
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_flake8_reports_same_findings_as_check():
    r = flake8("--select", "GIL", "--gil-min-confidence", "low", "-j", "2", ".")
    got = set()
    for line in r.stdout.splitlines():
        path, lineno, col, rest = line.split(":", 3)
        got.add((path.lstrip("./"), int(lineno), int(col), rest.split()[0]))
    assert got == {(e.path, e.line, e.column, e.code) for e in expected_findings()}  # flake8 has no confidence
    assert r.returncode == 1


def test_flake8_noqa_and_disable_noqa():
    assert flake8("--select", "GIL", "neg_noqa_gil001.py").stdout == ""
    r = flake8("--select", "GIL", "--disable-noqa", "neg_noqa_gil001.py")
    assert "GIL001" in r.stdout


def test_flake8_min_confidence_option():
    r = flake8("--select", "GIL", "--gil-min-confidence", "high", "pos_consumer_loop_crunch.py")
    assert r.stdout == ""  # a medium-confidence finding
    r = flake8("--select", "GIL", "pos_consumer_loop_crunch.py")
    assert "GIL001" in r.stdout
    r = flake8("--select", "GIL", "pos_cpu_loop_with_bookkeeping.py")
    assert r.stdout == ""  # low confidence: hidden by default, as in check
    r = flake8("--select", "GIL", "--gil-min-confidence", "low", "pos_cpu_loop_with_bookkeeping.py")
    assert "GIL001" in r.stdout


def test_flake8_clean_and_broken_files(tmp_path):
    (tmp_path / "broken.py").write_text("import threading\ndef f(:\n")
    (tmp_path / "plain.py").write_text("x = 1\n")
    r = flake8("--select", "GIL,E999", str(tmp_path), cwd=tmp_path)
    assert "Traceback" not in r.stderr
    assert "E999" in r.stdout and "GIL" not in r.stdout


def test_check_source_is_the_public_door_the_plugin_uses():
    from gil_advisor.api import check, check_source
    from gil_advisor.config import Options

    path = str(FIXTURES / "neg_noqa_gil001.py")
    text = (FIXTURES / "neg_noqa_gil001.py").read_text()
    assert check_source(path, text).findings == check([path]).findings == []
    unfiltered = check_source(path, text, apply_noqa=False).findings
    assert [f.code for f in unfiltered] == ["GIL001"]
    small = check_source(path, text, Options(max_file_size=100))
    assert small.findings == [] and "max-file-size" in small.errors[0].message
    # text the plugin may hand over: a lone surrogate must not raise
    assert check_source("x.py", "import threading\nx = '\ud800'\n").findings == []
