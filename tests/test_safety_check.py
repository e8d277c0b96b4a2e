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
