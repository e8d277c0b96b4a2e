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


# -- per-file-ignores and --force-exclude ---------------------------------------------------

def _project(tmp_path, config_name, config_text, files=("src/w.py", "tests/test_w.py", "bench/b.py")):
    for rel in files:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(POS.read_text(), encoding="utf-8")
    (tmp_path / ".git").mkdir()  # the config search stops here
    (tmp_path / config_name).write_text(config_text, encoding="utf-8")
    return tmp_path


def _reported(r):
    return sorted({line.split(":")[0] for line in r.stdout.splitlines() if ": GIL" in line})


def test_per_file_ignores_toml_table(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor.per-file-ignores]\n"tests/*" = ["GIL001"]\n"b.py" = "gil00"\n')
    r = run_cli("check", "-q", "--no-cache", ".", cwd=root)
    assert r.returncode == 1, r.stderr
    assert _reported(r) == ["src/w.py"]


def test_per_file_ignores_toml_list_only_the_codes_named(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor]\nper-file-ignores = ["tests/*.py bench/*: GIL002,GIL003"]\n')
    r = run_cli("check", "-q", "--no-cache", ".", cwd=root)
    assert _reported(r) == ["bench/b.py", "src/w.py", "tests/test_w.py"]  # GIL001 is not ignored


def test_per_file_ignores_setup_cfg_flake8_syntax_relative_to_the_config(tmp_path):
    root = _project(tmp_path, "setup.cfg", "[gil-advisor]\nper-file-ignores =\n    tests/*.py: GIL001,GIL002\n    bench/*: GIL\n")
    # run from a subfolder: the globs stay relative to setup.cfg's folder, not the cwd
    r = run_cli("check", "-q", "--no-cache", "..", cwd=root / "src")
    assert r.returncode == 1, r.stderr
    assert _reported(r) == ["w.py"]
    r = run_cli("check", "--format", "json", "--no-cache", root / "tests" / "test_w.py")
    assert json.loads(r.stdout)["findings"] == [] and r.returncode == 0


def test_per_file_ignores_through_the_api(tmp_path):
    from gil_advisor import api
    from gil_advisor.config import load

    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor.per-file-ignores]\n"tests/*" = ["GIL001"]\n')
    report = api.check([str(root)], load(start=str(root)))
    assert sorted(os.path.relpath(f.location.path, root) for f in report.findings) == ["bench/b.py", "src/w.py"]


def test_bad_per_file_ignores_is_one_clear_error(tmp_path):
    cases = [
        ('per-file-ignores = ["tests/*.py"]', "per-file-ignores entry 'tests/*.py' must be 'GLOBS: CODES'"),
        ('per-file-ignores = ["tests/*: GIL9"]', "per-file-ignores: 'tests/*' names no known rule: GIL9"),
        ("per-file-ignores = 5", "per-file-ignores must be a table of glob = [codes]"),
        ('per-file-ignores = {"tests/*" = 1}', "per-file-ignores: 'tests/*' must map to a list of codes"),
        ('force-exclude = "sometimes"', "force-exclude must be true or false, got 'sometimes'"),
    ]
    for line, message in cases:
        (tmp_path / "pyproject.toml").write_text(f"[tool.gil-advisor]\n{line}\n")
        r = run_cli("check", tmp_path)
        assert r.returncode == 2, (line, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr, (line, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1


def test_named_files_are_checked_unless_force_exclude(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor]\nexclude = ["tests", "bench/*.py"]\n')
    named = ["tests/test_w.py", "bench/b.py", "src/w.py"]
    r = run_cli("check", "-q", "--no-cache", *named, cwd=root)
    assert _reported(r) == sorted(named)  # named files are always read...
    r = run_cli("check", "-q", "--no-cache", "--force-exclude", *named, cwd=root)
    assert _reported(r) == ["src/w.py"]  # ...unless --force-exclude


def test_force_exclude_from_config_and_nothing_left_checks_nothing(tmp_path):
    root = _project(tmp_path, "setup.cfg", "[gil-advisor]\nexclude = tests\nforce-exclude = true\n")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "v.py").write_text(POS.read_text())
    r = run_cli("check", "--no-cache", "tests/test_w.py", ".venv/lib/v.py", cwd=root)
    assert r.returncode == 0, r.stdout
    assert r.stdout == "" and "0 findings in 0 files" in r.stderr  # not a fallback to checking "."


def test_force_exclude_ignores_folders_above_the_project(tmp_path):
    """`.venv*` is a built-in exclude; a project that lives under `.venv_projects/` is still checked."""
    root = _project(tmp_path / ".venv_projects" / "app", "pyproject.toml", "[tool.gil-advisor]\nforce-exclude = true\n")
    r = run_cli("check", "-q", "--no-cache", root / "src" / "w.py", cwd=root)
    assert r.returncode == 1 and _reported(r) == [os.path.join("src", "w.py")]



# -- stdin ----------------------------------------------------------------------------------

CROSS = FIXTURES / "crossmod_abs"


def _stdin_cli(text, *args, cwd=None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "gil_advisor", "check", *map(str, args)],
        input=text.encode("utf-8") if isinstance(text, str) else text,
        capture_output=True, cwd=cwd, timeout=120,
    )


def _copy_crossmod(tmp_path):
    pkg = tmp_path / "crossmod_abs"
    pkg.mkdir()
    for name in ("__init__.py", "workers.py"):
        (pkg / name).write_text((CROSS / name).read_text())
    (tmp_path / ".git").mkdir()
    return pkg


def test_stdin_is_checked_as_the_named_file_and_its_siblings_resolve(tmp_path):
    pkg = _copy_crossmod(tmp_path)
    # on disk the file is clean; the editor's buffer on stdin spawns the threads
    (pkg / "main.py").write_text("import threading\n")
    r = _stdin_cli((CROSS / "main.py").read_text(), "-q", "--no-cache", "-", "--stdin-filename", "crossmod_abs/main.py", cwd=tmp_path)
    out = r.stdout.decode()
    assert r.returncode == 1, r.stderr
    assert out.startswith("crossmod_abs/main.py:8:16: GIL001 `crossmod_abs.workers.crunch` ")  # resolved on disk
    assert "1 finding in 1 file" not in r.stderr.decode()  # -q: no summary
    r = _stdin_cli((CROSS / "main.py").read_text(), "--no-cache", "-", "--stdin-filename", pkg / "main.py")
    assert r.returncode == 1 and "1 finding in 1 file" in r.stderr.decode()


def test_stdin_without_a_filename_is_called_stdin():
    r = _stdin_cli(POS.read_text(), "-q", "--no-cache", "-")
    assert r.returncode == 1
    assert r.stdout.decode().startswith("stdin:23:21: GIL001 ")


def test_stdin_honours_the_config_noqa_and_per_file_ignores_of_its_path(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor.per-file-ignores]\n"tests/*" = ["GIL001"]\n', files=())
    (root / "tests").mkdir()
    assert _stdin_cli(POS.read_text(), "--no-cache", "-", "--stdin-filename", root / "tests" / "t.py").returncode == 0
    assert _stdin_cli(POS.read_text(), "--no-cache", "-", "--stdin-filename", root / "src" / "t.py").returncode == 1
    noqa = POS.read_text().replace("# expect: GIL001", "# noqa: GIL001")
    assert _stdin_cli(noqa, "--no-cache", "-", "--stdin-filename", root / "src" / "t.py").returncode == 0


def test_stdin_with_force_exclude_skips_an_excluded_path(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.gil-advisor]\nexclude = ["tests"]\n', files=())
    name = root / "tests" / "t.py"
    assert _stdin_cli(POS.read_text(), "--no-cache", "-", "--stdin-filename", name).returncode == 1
    r = _stdin_cli(POS.read_text(), "--no-cache", "--force-exclude", "-", "--stdin-filename", name)
    assert r.returncode == 0 and r.stdout == b""


def test_stdin_show_source_and_syntax_errors(tmp_path):
    r = _stdin_cli(POS.read_text(), "-q", "--no-cache", "--show-source", "-", "--stdin-filename", "w.py", cwd=tmp_path)
    lines = r.stdout.decode().splitlines()
    assert lines[1] == POS.read_text().split("\n")[22] and lines[2] == " " * 20 + "^"
    r = _stdin_cli("from threading import Thread\ndef f(:\n", "--no-cache", "-", "--stdin-filename", "bad.py", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stderr.decode().startswith("bad.py: error: syntax error")
    assert list(tmp_path.glob("*.py")) == []  # nothing written under the name


def test_stdin_usage_errors(tmp_path):
    r = _stdin_cli("", "-", POS)
    assert r.returncode == 2 and b"cannot be combined with other paths" in r.stderr
    r = _stdin_cli("", "--stdin-filename", "x.py", POS)
    assert r.returncode == 2 and b"give `-` as the path" in r.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.gil-advisor]\nmax-file-size = 100\n")
    r = _stdin_cli(POS.read_text(), "--no-cache", "-", "--stdin-filename", tmp_path / "big.py")
    assert r.returncode == 0
    assert r.stderr.decode().splitlines()[0] == f"{tmp_path / 'big.py'}: error: skipped: stdin is over the max-file-size limit of 100 bytes"


# -- small mends ----------------------------------------------------------------------------

def test_codes_in_config_are_case_insensitive(tmp_path):
    (tmp_path / "w.py").write_text(POS.read_text())
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nselect = ["gil002"]\n')
    assert run_cli("check", "--no-cache", tmp_path).returncode == 0  # GIL001 only: not selected
    (tmp_path / "pyproject.toml").write_text('[tool.gil-advisor]\nselect = ["gil001"]\nignore = ["gil003"]\n')
    r = run_cli("check", "-q", "--no-cache", tmp_path)
    assert r.returncode == 1 and ": GIL001 " in r.stdout
    (tmp_path / "setup.cfg").write_text("[gil-advisor]\nignore = gil00\n")
    (tmp_path / "pyproject.toml").unlink()
    assert run_cli("check", "--no-cache", tmp_path).returncode == 0


def test_trace_without_a_target_says_args_are_optional():
    r = run_cli("trace")
    assert r.returncode == 2
    assert r.stderr.strip().endswith("the following arguments are required: TARGET, [ARGS...]")


def test_trace_interval_not_a_number_is_named_in_words(tmp_path):
    r = run_cli("trace", "--interval", "abc", tmp_path / "x.py")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        "gil-advisor trace: error: argument --interval: the interval must be a number of seconds, got 'abc'"
    )


# -- names that are not text ----------------------------------------------------------------

def test_control_characters_and_undecodable_bytes_in_names_are_escaped(tmp_path):
    """A file name is shown, never obeyed: no raw ESC reaches the terminal, no UnicodeEncodeError."""
    raw = os.path.join(os.fsencode(tmp_path), b"w\x1b[31m\xff.py")
    with open(raw, "wb") as fh:
        fh.write(POS.read_bytes())
    shown = "w\\x1b[31m\\xff.py"
    r = run_cli("check", "-q", "--no-cache", "--show-source", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith(f"{shown}:23:21: GIL001 `w\\x1b[31m\\xff.mandelbrot_row` ")
    assert "\x1b" not in r.stdout and "Traceback" not in r.stderr
    r = run_cli("check", "--format", "github", "--no-cache", ".", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith(f"::warning file={shown},line=23,col=21,")
    assert "\x1b" not in r.stdout
    out = tmp_path / "r.txt"
    r = run_cli("check", "-q", "--no-cache", "-o", out, ".", cwd=tmp_path)
    assert r.returncode == 1 and out.read_text().startswith(f"{shown}:23:21: GIL001 ")


def test_printable_escapes_only_what_it_must():
    from gil_advisor.output.text import caret_line, printable

    assert printable("a\tb é ü 中") == "a\tb é ü 中"
    assert printable("a\x1b[2Jb\x07\x7f\x9b") == "a\\x1b[2Jb\\x07\\x7f\\x9b"
    assert printable("x\udcff\u2028") == "x\\xff\\u2028"
    assert printable("a\nb\r") == "a\\nb\\r"
    # the caret counts the escaped prefix, so it still sits under the character it points at
    line = "f(\x1b, g())"
    col = line.index("g") + 1
    assert caret_line(line, col) == " " * len(printable(line[: col - 1])) + "^"
    assert printable(line)[len(printable(line[: col - 1]))] == "g"
