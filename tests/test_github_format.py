"""`--format github`: workflow commands for GitHub Actions annotations, escaped as the runner reads them."""
import re
import shutil

import pytest

from conftest import FIXTURES, ROOT, run_cli
from gil_advisor.api import check
from gil_advisor.finding import Evidence, FileError, Finding, Location, Report
from gil_advisor.output import github

POS = FIXTURES / "pos_tpe_with_map.py"
COMMAND = re.compile(r"^::(?P<kind>warning|error) (?P<props>[^:]*)::(?P<data>.*)$")


def _unescape_data(s):
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s):
    return _unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def parse(line):
    """Read one workflow command back the way the Actions runner does."""
    m = COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m["props"].split(","))
    return m["kind"], {k: _unescape_property(v) for k, v in props.items()}, _unescape_data(m["data"])


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_one_warning_per_finding(in_root):
    report = check([str(FIXTURES)])
    lines = github.render(report).splitlines()
    assert len(lines) == len(report.findings)
    for line in lines:
        kind, props, data = parse(line)
        assert kind == "warning"
        assert re.fullmatch(r"GIL00\d", props["title"])
        assert not props["file"].startswith("/") and "\\" not in props["file"]
        assert int(props["line"]) >= 1


def test_finding_line_and_message(in_root):
    (line,) = github.render(check([str(POS)])).splitlines()
    assert line.startswith("::warning file=fixtures/pos_tpe_with_map.py,line=23,col=21,title=GIL001::")
    _, _, data = parse(line)
    first, *rest = data.split("\n")
    assert "pos_tpe_with_map.mandelbrot_row" in first and "ProcessPoolExecutor" in first
    assert rest[0] == "  fixtures/pos_tpe_with_map.py:23: spawn: " + next(
        f for f in check([str(POS)]).findings
    ).evidence[0].description
    assert rest[-1] == "See `gil-advisor explain GIL001`."


def test_escaping_of_message_and_properties():
    f = Finding(
        code="GIL002",
        location=Location("odd,dir:x/100%.py", 4, 2),
        message="100% of the time\r\non one thread: really",
        worker="m.w",
        worker_location=None,
        confidence="high",
        spawn_kind="threading.Thread",
        threads="2 threads",
        evidence=[Evidence("spawn", "50%,: done", Location("odd,dir:x/100%.py", 4, 2))],
    )
    (line,) = github.render(Report(findings=[f])).splitlines()
    assert line == (
        "::warning file=odd%2Cdir%3Ax/100%25.py,line=4,col=2,title=GIL002::"
        "100%25 of the time%0D%0Aon one thread: really"
        "%0A  odd,dir:x/100%25.py:4: spawn: 50%25,: done"
        "%0ASee `gil-advisor explain GIL002`."
    )
    kind, props, data = parse(line)
    assert props == {"file": "odd,dir:x/100%.py", "line": "4", "col": "2", "title": "GIL002"}
    assert data.startswith("100% of the time\r\non one thread: really\n")


def test_escape_helpers():
    assert github.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert github.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


def test_unknown_column_is_left_out():
    f = Finding("GIL003", Location("x.py", 9, 0), "spins", "x.f", None, "high", "Thread", "1 thread")
    assert github.render(Report(findings=[f])).startswith("::warning file=x.py,line=9,title=GIL003::spins")


def test_file_error_becomes_an_error_command(tmp_path, monkeypatch):
    broken = "import threading\ndef w(:\n    pass\nthreading.Thread(target=w).start()\n"
    (tmp_path / "broken.py").write_text(broken, encoding="utf-8")
    shutil.copy(POS, tmp_path / "job.py")
    monkeypatch.chdir(tmp_path)
    lines = github.render(check(["broken.py", "job.py"])).splitlines()
    assert [parse(line)[0] for line in lines] == ["warning", "error"]
    kind, props, data = parse(lines[1])
    assert props["file"] == "broken.py"
    assert "syntax error" in data


def test_error_message_is_escaped():
    out = github.render(Report(errors=[FileError("a.py", "bad\nthing 5%")]))
    assert out == "::error file=a.py,title=gil-advisor::could not analyse: bad%0Athing 5%25\n"


def test_clean_report_prints_nothing():
    assert github.render(Report()) == ""


def test_cli_github_format():
    r = run_cli("check", "--format", "github", POS, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("::warning file=fixtures/pos_tpe_with_map.py,line=23,col=21,title=GIL001::")
