"""The CLI through a real subprocess: formats, exit codes, selection, config, noqa."""
import json

from conftest import FIXTURES, run_cli

POS = FIXTURES / "pos_tpe_with_map.py"
NEG = FIXTURES / "neg_single_heartbeat.py"


def test_text_output_and_exit_code_with_findings():
    r = run_cli("check", POS)
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"{POS.relative_to(FIXTURES.parent)}:23:21: GIL001 ") or ":23:21: GIL001 " in first
    assert "evidence:" in r.stdout and "remedies:" in r.stdout
    assert "ProcessPoolExecutor" in r.stdout
    assert "1 finding in 1 file" in r.stderr


def test_clean_file_exits_zero():
    r = run_cli("check", NEG)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


def test_json_schema():
    r = run_cli("check", "--format", "json", FIXTURES)
    data = json.loads(r.stdout)
    assert data["version"] == 1 and data["errors"] == []
    f = next(f for f in data["findings"] if f["path"].endswith("pos_tpe_with_map.py"))
    assert {"code", "path", "line", "column", "message", "worker", "confidence", "evidence", "remedies"} <= set(f)
    assert (f["line"], f["column"], f["code"]) == (23, 21, "GIL001")
    assert f["worker"] == "pos_tpe_with_map.mandelbrot_row"
    assert [e["kind"] for e in f["evidence"]][:2] == ["spawn", "worker"]
    assert f["remedies"][0]["kind"] == "processes"


def test_select_and_ignore():
    only2 = json.loads(run_cli("check", "--format", "json", "--select", "GIL002", FIXTURES).stdout)
    assert only2["findings"] and {f["code"] for f in only2["findings"]} == {"GIL002"}
    no1 = json.loads(run_cli("check", "--format", "json", "--ignore", "GIL001,GIL003", FIXTURES).stdout)
    assert {f["code"] for f in no1["findings"]} == {"GIL002", "GIL004"}


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("check", tmp_path / "missing.py").returncode == 2
    assert run_cli("check", "--select", "XYZ9", POS).returncode == 2
    assert run_cli("check", "--format", "yaml", POS).returncode == 2
    assert run_cli("explain", "GIL999").returncode == 2
    assert run_cli().returncode == 2


def test_default_path_is_cwd(tmp_path):
    (tmp_path / "w.py").write_text(POS.read_text())
    r = run_cli("check", cwd=tmp_path)
    assert r.returncode == 1 and "w.py:23:21: GIL001" in r.stdout


def test_excludes_venv_and_option(tmp_path):
    for d in (".venv/lib", "build", "vendored"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "w.py").write_text(POS.read_text())
    r = run_cli("check", "--exclude", "vendored", tmp_path)
    assert r.returncode == 0, r.stdout


def test_config_from_pyproject(tmp_path):
    (tmp_path / "w.py").write_text(POS.read_text())
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nignore = ["GIL001"]\n')
    assert run_cli("check", tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nmin-confidence = "extreme"\n')
    r = run_cli("check", tmp_path)
    assert r.returncode == 2 and "min-confidence must be one of" in r.stderr


def test_config_from_setup_cfg(tmp_path):
    (tmp_path / "w.py").write_text(POS.read_text())
    (tmp_path / "setup.cfg").write_text("[gil-advisor]\nselect = GIL002\n")
    assert run_cli("check", tmp_path).returncode == 0


def test_user_knowledge_from_config(tmp_path):
    src = (
        "from concurrent.futures import ThreadPoolExecutor\nimport fastlib\n\n"
        "def work(xs):\n    t = 0\n    for x in xs:\n        t += fastlib.step(x)\n    return t\n\n"
        "with ThreadPoolExecutor(4) as p:\n    p.map(work, [[1]] * 8)\n"
    )
    (tmp_path / "w.py").write_text(src)
    assert run_cli("check", tmp_path).returncode == 0  # unknown third-party call: no evidence
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nholds-gil = ["fastlib.*"]\n')
    r = run_cli("check", tmp_path)
    assert r.returncode == 1 and "GIL002" in r.stdout
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nreleases-gil = ["fastlib.*"]\n')
    assert run_cli("check", tmp_path).returncode == 0


def test_noqa_is_honoured():
    for name in ("neg_noqa_bare.py", "neg_noqa_gil001.py"):
        r = run_cli("check", FIXTURES / name)
        assert r.returncode == 0, r.stdout


def test_explain():
    r = run_cli("explain", "gil001")
    assert r.returncode == 0
    assert "Bad:" in r.stdout and "Good:" in r.stdout and "ProcessPoolExecutor" in r.stdout


def test_output_file_written(tmp_path):
    out = tmp_path / "report.json"
    r = run_cli("check", "--format", "json", "-o", out, POS)
    assert r.returncode == 1 and r.stdout == ""
    assert json.loads(out.read_text())["findings"][0]["code"] == "GIL001"


def test_jobs_gives_identical_results(tmp_path):
    for i in range(70):  # over the parallel threshold
        (tmp_path / f"m{i}.py").write_text(POS.read_text() if i % 10 == 0 else "import threading\nx = 1\n")
    one = run_cli("check", "--format", "json", "-j", "1", tmp_path)
    two = run_cli("check", "--format", "json", "-j", "2", tmp_path)
    assert one.returncode == two.returncode == 1
    assert json.loads(one.stdout) == json.loads(two.stdout)
    assert len(json.loads(one.stdout)["findings"]) == 7
