"""`gil-advisor check` as flake8 and ruff users expect it, through the real CLI (a subprocess)."""
import json
import os
import stat

from conftest import FIXTURES, run_cli

POS = FIXTURES / "pos_tpe_with_map.py"


# -- report files (-o) --------------------------------------------------------------------

def test_output_to_a_missing_directory_is_one_line_and_exit_2(tmp_path):
    target = tmp_path / "nonexistent" / "x.json"
    r = run_cli("check", "--format", "json", "-o", target, POS)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [f"gil-advisor: error: -o: cannot write {target}: no such directory {target.parent}"]
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not target.parent.exists()


def test_output_naming_a_directory_is_one_line_and_exit_2(tmp_path):
    r = run_cli("check", "-o", tmp_path, POS)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"gil-advisor: error: -o: cannot write {tmp_path}: it is a directory"]
    assert list(tmp_path.iterdir()) == []


def test_output_through_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(target.name)
    r = run_cli("check", "--format", "json", "-o", link, POS)
    assert r.returncode == 1, r.stderr
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert json.loads(target.read_text())["findings"][0]["code"] == "GIL001"


def test_output_to_a_new_file_keeps_exit_code_and_writes_report(tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("check", "--format", "json", "-o", out, POS)
    assert r.returncode == 1 and r.stdout == ""
    assert stat.S_ISREG(out.stat().st_mode) and json.loads(out.read_text())["version"] == 1
