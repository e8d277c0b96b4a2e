"""`gil-advisor check` as flake8 and ruff users expect it, through the real CLI (a subprocess)."""
import json
import os
import stat

from conftest import FIXTURES, run_cli

from gil_advisor.codes import RULES

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


# -- --exit-zero, --statistics, --show-source ---------------------------------------------

def test_exit_zero_prints_findings_and_exits_0():
    r = run_cli("check", "--exit-zero", POS)
    assert r.returncode == 0, r.stderr
    assert ":23:21: GIL001 " in r.stdout
    assert run_cli("check", "--exit-zero", "--select", "XYZ9", POS).returncode == 2  # usage errors stay 2


def _codes_counted_by_json():
    data = json.loads(run_cli("check", "--format", "json", FIXTURES).stdout)
    counts = {}
    for f in data["findings"]:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    return counts


def test_statistics_one_line_per_code_with_count_and_summary():
    expected = _codes_counted_by_json()
    assert len(expected) >= 2
    r = run_cli("check", "-q", "--statistics", FIXTURES)
    assert r.returncode == 1
    stats = r.stdout.splitlines()[-len(expected):]  # after the findings, as flake8 prints them
    assert [line.split()[1] for line in stats] == sorted(expected)
    for line in stats:
        count, code = line[:5].strip(), line[6:12]
        assert int(count) == expected[code]
        assert line == f"{count:<5} {code} {RULES[code].summary}"


def test_statistics_keep_json_parseable():
    r = run_cli("check", "--format", "json", "--statistics", POS)
    assert json.loads(r.stdout)["findings"]
    assert r.stderr.splitlines() == [f"1     GIL001 {RULES['GIL001'].summary}"]


def test_statistics_with_no_findings_print_nothing():
    r = run_cli("check", "--statistics", FIXTURES / "neg_single_heartbeat.py")
    assert r.returncode == 0 and r.stdout == ""


def test_show_source_prints_the_spawn_line_and_a_caret_under_the_column():
    r = run_cli("check", "-q", "--show-source", POS)
    first, source, caret = r.stdout.splitlines()[:3]
    line, col = 23, 21
    assert f":{line}:{col}: GIL001 " in first
    assert source == POS.read_text().split("\n")[line - 1]
    assert caret == " " * (col - 1) + "^"


def test_show_source_keeps_tabs_and_counts_lines_as_python_does(tmp_path):
    src = POS.read_text().split("\n")
    # a form feed and a U+2028 in a comment end no line for Python, only for str.splitlines
    src[0] = src[0] + "  # \f\u2028"
    tabbed = [line.replace("    ", "\t") for line in src]
    path = tmp_path / "w.py"
    path.write_text("\n".join(tabbed), encoding="utf-8")
    r = run_cli("check", "-q", "--show-source", "--format", "text", path)
    first, source, caret = r.stdout.splitlines()[:3]
    row, col = (int(x) for x in first.split(":")[1:3])
    assert source == tabbed[row - 1]
    assert caret.endswith("^") and len(caret) == col
    assert caret[:-1] == "".join("\t" if c == "\t" else " " for c in source[: col - 1])
    assert source[col - 1:].startswith("pool.map")


def test_show_source_is_text_only():
    r = run_cli("check", "--format", "github", "--show-source", POS)
    assert r.stdout.startswith("::warning ") and "^" not in r.stdout


# -- colour ---------------------------------------------------------------------------------

ESC = "\033["


def _run_on_a_pty(*args, env_extra=None, timeout=120):
    """Run the CLI with stdout on a pseudo-terminal; return (returncode, what it printed there)."""
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(env_extra or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gil_advisor", *map(str, args)],
        stdout=slave, stderr=subprocess.PIPE, env=env,
    )
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    return proc.returncode, out.decode("utf-8", "replace")


def test_colour_on_a_terminal_by_default():
    rc, out = _run_on_a_pty("check", "-q", "--no-progress", POS)
    assert rc == 1
    assert f"{ESC}1;31mGIL001{ESC}0m" in out


def test_no_color_turns_it_off_and_the_flag_wins_over_it():
    rc, out = _run_on_a_pty("check", "-q", POS, env_extra={"NO_COLOR": "1"})
    assert rc == 1 and "GIL001" in out and ESC not in out
    rc, out = _run_on_a_pty("check", "-q", "--color", "always", POS, env_extra={"NO_COLOR": "1"})
    assert f"{ESC}1;31mGIL001" in out


def test_color_never_on_a_terminal_and_none_in_an_output_file(tmp_path):
    rc, out = _run_on_a_pty("check", "-q", "--color", "never", POS)
    assert rc == 1 and "GIL001" in out and ESC not in out
    report = tmp_path / "r.txt"
    rc, out = _run_on_a_pty("check", "-q", "-o", report, POS)
    assert rc == 1 and "GIL001" in report.read_text() and ESC not in report.read_text()


def test_colour_only_when_asked_through_a_pipe():
    assert ESC not in run_cli("check", "-q", POS).stdout
    r = run_cli("check", "-q", "--show-source", "--color", "always", POS)
    first, _source, caret = r.stdout.splitlines()[:3]
    assert f"{ESC}1;31mGIL001{ESC}0m" in first and caret.endswith(f"{ESC}1;31m^{ESC}0m")
    assert ESC not in run_cli("check", "--format", "json", "--color", "always", POS).stdout
