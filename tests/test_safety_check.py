"""`check` and the flake8 plugin on hostile or unlucky trees (issue 11, items 1-6).

Every run here is a real subprocess with a timeout and an address-space limit, so a
regression (a FIFO that blocks, a symlink to /dev/zero that is read) fails the test
instead of hanging or exhausting the machine.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

POS = (FIXTURES / "pos_tpe_with_map.py").read_text()
MEMORY_LIMIT = 2 * 2**30


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(args, cwd, timeout=60, user=None):
    cmd = [sys.executable, "-m", *map(str, args)]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory, env=env)


def check(*args, cwd, **kw):
    return run(["gil_advisor", "check", "--no-cache", "--no-progress", *args], cwd, **kw)


def flake8(*args, cwd, **kw):
    return run(["flake8", "--isolated", *args], cwd, **kw)


def project(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


# -- 1. only regular files are read ---------------------------------------------------------

def test_fifo_and_dev_zero_in_the_tree_are_reported_not_read(tmp_path):
    project(tmp_path, {"good.py": POS})
    os.mkfifo(tmp_path / "f.py")
    (tmp_path / "z.py").symlink_to("/dev/zero")  # only created; check must never read it
    r = check("--format", "json", ".", cwd=tmp_path)
    data = json.loads(r.stdout)
    errors = {os.path.normpath(e["path"]): e["message"] for e in data["errors"]}
    assert set(errors) == {"f.py", "z.py"}, errors
    assert "FIFO" in errors["f.py"] and "not a regular file" in errors["f.py"]
    assert "character device" in errors["z.py"]
    assert [os.path.normpath(f["path"]) for f in data["findings"]] == ["good.py"]


def test_fifo_given_explicitly_is_one_diagnostic(tmp_path):
    os.mkfifo(tmp_path / "f.py")
    r = check("f.py", cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "f.py: error: skipped: a FIFO" in r.stderr


VIAPARAM = {
    "pkg/__init__.py": "",
    "pkg/runner.py": (FIXTURES / "viaparam" / "runner.py").read_text(),
    "pkg/jobs.py": (FIXTURES / "viaparam" / "jobs.py").read_text().replace("viaparam", "pkg"),
}


def test_flake8_one_file_with_a_fifo_elsewhere_in_the_repository(tmp_path):
    """The caller search reads the other modules of the repository: through the same helper."""
    project(tmp_path, VIAPARAM)
    os.mkfifo(tmp_path / "pkg" / "pipe.py")
    (tmp_path / "pkg" / "zero.py").symlink_to("/dev/zero")
    r = flake8("--select", "GIL", "pkg/runner.py", cwd=tmp_path)
    assert "Traceback" not in r.stderr, r.stderr
    assert "pkg/runner.py:7:" in r.stdout and "GIL001" in r.stdout


def test_caller_search_honours_exclude(tmp_path):
    """A caller in an excluded folder does not count (before, the search read every file)."""
    files = dict(VIAPARAM)
    files["pkg/jobs.py"] = files["pkg/jobs.py"].replace("run_all(crunch, 4)", "len('x')")
    files["pkg/legacy/__init__.py"] = ""
    files["pkg/legacy/old.py"] = VIAPARAM["pkg/jobs.py"]
    project(tmp_path, files)
    assert "GIL001" in check("pkg/runner.py", cwd=tmp_path).stdout
    r = check("--exclude", "legacy", "pkg/runner.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout


# -- 5. same input, same answer -------------------------------------------------------------

def _two_trees(tmp_path):
    main = "from concurrent.futures import ThreadPoolExecutor\nfrom pkg.util import work\n\n\ndef main():\n    with ThreadPoolExecutor(4) as pool:\n        list(pool.map(work, range(8)))\n"
    cpu = "def work(n):\n    t = 0\n    for i in range(10**6):\n        t += i * i\n    return t\n"
    io = "import time\n\n\ndef work(n):\n    for i in range(10):\n        time.sleep(0.1)\n"
    return project(tmp_path, {
        "a/pkg/__init__.py": "", "a/pkg/main.py": main, "a/pkg/util.py": cpu,
        "b/pkg/__init__.py": "", "b/pkg/main.py": main, "b/pkg/util.py": io,
    })


@pytest.mark.parametrize("form", ["trees", "files"])
def test_two_trees_with_the_same_module_names(tmp_path, form):
    """`pkg.util` means the one in the caller's own tree, whatever the order of the paths."""
    _two_trees(tmp_path)
    a, b = ("a", "b") if form == "trees" else ("a/pkg/main.py", "b/pkg/main.py")
    ab = check("--format", "json", a, b, cwd=tmp_path)
    ba = check("--format", "json", b, a, cwd=tmp_path)
    assert json.loads(ab.stdout) == json.loads(ba.stdout)
    assert [f["path"] for f in json.loads(ab.stdout)["findings"]] == ["a/pkg/main.py"]


def test_the_same_file_three_ways_is_reported_once(tmp_path):
    project(tmp_path, {"pos.py": POS})
    r = check("--format", "json", "pos.py", "./pos.py", str(tmp_path / "pos.py"), cwd=tmp_path)
    assert len(json.loads(r.stdout)["findings"]) == 1
    r = check(".", "pos.py", cwd=tmp_path)
    assert "1 finding in 1 file" in r.stderr


def test_exclude_patterns_never_match_an_ancestor_of_the_root(tmp_path):
    root = project(tmp_path / ".venv_projects" / "proj", {"pos.py": POS, "sub/.venv_x/skip.py": POS})
    for args in (["--exclude", "*/.venv*", str(root)], [str(root)]):
        r = check("--format", "json", *args, cwd=tmp_path)
        assert [Path(f["path"]).name for f in json.loads(r.stdout)["findings"]] == ["pos.py"], args
    r = check("--format", "json", "--exclude", "*/.venv*", ".", cwd=root)
    assert [os.path.normpath(f["path"]) for f in json.loads(r.stdout)["findings"]] == ["pos.py"]


@pytest.mark.parametrize("odd", ["\f", "\x1c", "\u2028", "\x85", "\v"])
def test_noqa_lines_do_not_shift_after_odd_line_separators(tmp_path, odd):
    # the character sits in a comment (\f also as indentation) above the finding's line
    src = POS.replace('"""\nfrom', f'"""\n#{odd} an odd character\nfrom', 1)
    assert src != POS
    lines = src.split("\n")
    at = next(i for i, ln in enumerate(lines) if "rows = list(pool.map(" in ln)
    project(tmp_path, {"w.py": "\n".join(lines)})
    (finding,) = json.loads(check("--format", "json", "w.py", cwd=tmp_path).stdout)["findings"]
    assert finding["line"] == at + 1
    lines[at] += "  # noqa: GIL001"
    project(tmp_path, {"w.py": "\n".join(lines)})
    r = check("--format", "json", "w.py", cwd=tmp_path)
    assert json.loads(r.stdout)["findings"] == [], r.stdout


def test_odd_file_names_are_escaped_in_text_and_encoded_in_sarif(tmp_path):
    names = [b"w\xff.py", "c\x1b[31mred\x07.py".encode()]
    for name in names:
        with open(os.path.join(os.fsencode(tmp_path), name), "w") as fh:
            fh.write(POS)
    r = check("--format", "text", "-q", ".", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "c\\x1b[31mred\\x07.py:23:21: GIL001" in r.stdout and "w\\xff.py:23:21: GIL001" in r.stdout
    r = check("--format", "sarif", "-o", tmp_path / "out.sarif", ".", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    uris = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"]}
    assert uris == {"w%FF.py", "c%1B%5B31mred%07.py"}
    r = check("--format", "text", "-o", tmp_path / "out.txt", ".", cwd=tmp_path)
    assert r.returncode == 1 and "w\\xff.py" in (tmp_path / "out.txt").read_text()


# -- 6. unreadable is reported, not skipped -------------------------------------------------

@pytest.fixture
def locked_tree():
    """A tree with a chmod 000 folder, in a place an unprivileged user can reach (pytest's
    tmp_path is private to root). As root, the check runs as `nobody`: root reads anything."""
    import tempfile

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to drop root")
    root = Path(tempfile.mkdtemp(prefix="gil-advisor-locked-"))
    try:
        root.chmod(0o755)
        if as_user() is not None:
            probe = run(["site"], root, user=as_user())
            if probe.returncode != 0:  # e.g. libpython under /root, which nobody may not read
                pytest.skip(f"this interpreter does not run as an unprivileged user: {probe.stderr.strip()[:100]}")
        (root / "good.py").write_text(POS)
        (root / "locked").mkdir()
        (root / "locked" / "w.py").write_text(POS)
        (root / "locked").chmod(0)
        yield root
    finally:
        if (root / "locked").exists():
            (root / "locked").chmod(0o755)
        shutil.rmtree(root)


def as_user():
    return 65534 if os.geteuid() == 0 else None


def test_unreadable_folder_inside_the_tree_is_a_diagnostic(locked_tree):
    r = check("--format", "json", ".", cwd=locked_tree, user=as_user())
    assert "Traceback" not in r.stderr, r.stderr
    data = json.loads(r.stdout)
    assert [os.path.normpath(f["path"]) for f in data["findings"]] == ["good.py"]
    assert [(os.path.normpath(e["path"]), e["message"]) for e in data["errors"]] == [("locked", "cannot read directory: Permission denied")]


def test_unreadable_folder_as_the_first_path_is_a_diagnostic(locked_tree):
    r = check("locked", "good.py", cwd=locked_tree, user=as_user())
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1
    assert "locked: error: cannot read directory: Permission denied" in r.stderr
    assert "good.py:23:21: GIL001" in r.stdout


def test_unreadable_folder_in_process(tmp_path, monkeypatch):
    """The same without a second user: listing or stat-ing inside `locked` is refused."""
    from gil_advisor.api import check as api_check

    project(tmp_path, {"good.py": POS, "locked/w.py": POS})
    locked = str(tmp_path / "locked")
    real_scandir, real_stat = os.scandir, os.stat

    def refuse(path):
        if os.fspath(path).startswith(locked + os.sep):
            raise PermissionError(13, "Permission denied", os.fspath(path))

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def stat(path, *args, **kwargs):
        refuse(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)
    for paths in ([str(tmp_path)], [locked, str(tmp_path / "good.py")]):
        report = api_check(paths)
        assert [e.message for e in report.errors] == ["cannot read directory: Permission denied"], paths
        assert report.errors[0].path == locked
        assert len(report.findings) == 1


SHADOWS = ("argparse", "dataclasses", "json", "tomllib", "fnmatch", "tempfile", "pickle", "subprocess")


@pytest.mark.parametrize("command", ["check", "trace", "runtime"])
def test_python_m_never_imports_the_projects_own_modules(tmp_path, command):
    # `python -m gil_advisor` starts with the current folder on sys.path: a project's argparse.py
    # or json.py there was imported (run) by check itself before the fix.
    for name in SHADOWS:
        (tmp_path / f"{name}.py").write_text(f"open({str(tmp_path / 'ran')!r} + '-{name}', 'w').close()\n")
    (tmp_path / "prog.py").write_text("print('program ran')\n")
    args = {
        "check": ["gil_advisor", "check", "--no-cache", "--no-progress", "."],
        "trace": ["gil_advisor", "trace", "--no-cache", "-q", "prog.py"],
        "runtime": ["gil_advisor.runtime", "--no-cache", "-q", "prog.py"],
    }[command]
    p = run(args, tmp_path)
    assert p.returncode in (0, 1), p.stderr
    assert sorted(x.name for x in tmp_path.glob("ran-*")) == []
    if command != "check":
        assert p.stdout == "program ran\n"
