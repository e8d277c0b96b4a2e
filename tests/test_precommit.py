"""The pre-commit hook for real: `pre-commit try-repo` builds the hook from this repository and runs it."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None, reason="pre-commit is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

# Failures to reach the package index while pip builds the hook's environment: not our bug.
NETWORK_ERRORS = (
    "Temporary failure in name resolution",
    "NewConnectionError",
    "Network is unreachable",
    "Max retries exceeded",
    "No matching distribution found for libcst",
)


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def git_init(path):
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", cwd=path)
    git("config", "user.email", "test@example.com", cwd=path)
    git("config", "user.name", "gil-advisor tests", cwd=path)
    git("config", "commit.gpgsign", "false", cwd=path)


def snapshot_of_this_repo(dest):
    """A committed copy of the working tree. try-repo only carries tracked changes, and new files
    (a new hook, a new module) would otherwise be missing until they are committed."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if listed.returncode != 0:
        pytest.skip("the source tree is not a git checkout")
    git_init(dest)
    for rel in filter(None, listed.stdout.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest


def try_repo(repo, target, *files, env):
    r = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "gil-advisor",
         "--verbose", "--files", *files],
        cwd=target, env=env, capture_output=True, text=True, timeout=900,
    )
    out = r.stdout + r.stderr
    if r.returncode != 0 and any(s in out for s in NETWORK_ERRORS):
        pytest.skip("no network to build the hook environment:\n" + out[-2000:])
    return r.returncode, out


def test_hook_fails_on_gil001_and_passes_on_clean_code(tmp_path):
    repo = snapshot_of_this_repo(tmp_path / "gil-advisor")
    target = tmp_path / "project"
    git_init(target)
    shutil.copy(FIXTURES / "pos_tpe_with_map.py", target / "render.py")
    (target / "clean.py").write_text(
        "import threading\n\n\ndef beat():\n    print('alive')\n\n\nthreading.Thread(target=beat).start()\n",
        encoding="utf-8",
    )
    git("add", "render.py", "clean.py", cwd=target)

    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)

    code, out = try_repo(repo, target, "clean.py", env=env)
    assert code == 0, out
    assert "gil-advisor" in out and "Passed" in out

    code, out = try_repo(repo, target, "render.py", "clean.py", env=env)
    assert code == 1, out
    assert "Failed" in out
    assert "render.py:23:21: GIL001" in out
    assert not any(line.startswith("clean.py:") for line in out.splitlines()), out


def test_hook_honours_exclude_for_the_files_it_is_given(tmp_path):
    """pre-commit names each staged file; `exclude` in pyproject.toml still applies (--force-exclude)."""
    repo = snapshot_of_this_repo(tmp_path / "gil-advisor")
    target = tmp_path / "project"
    git_init(target)
    (target / "tests").mkdir()
    shutil.copy(FIXTURES / "pos_tpe_with_map.py", target / "tests" / "test_render.py")
    shutil.copy(FIXTURES / "pos_tpe_with_map.py", target / "render.py")
    (target / "pyproject.toml").write_text('[tool.gil-advisor]\nexclude = ["tests"]\n', encoding="utf-8")
    git("add", "-A", cwd=target)

    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)

    code, out = try_repo(repo, target, "tests/test_render.py", env=env)
    assert code == 0, out
    assert "Passed" in out and "GIL001" not in out

    code, out = try_repo(repo, target, "tests/test_render.py", "render.py", env=env)
    assert code == 1, out
    assert "render.py:23:21: GIL001" in out
    assert "tests/test_render.py" not in out.replace("--files", ""), out
