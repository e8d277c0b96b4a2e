"""The progress bar shows on a terminal, never when output is piped or in CI."""
import os
import pty
import subprocess
import sys

from conftest import FIXTURES


def run_on_pty(args, env):
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "gil_advisor", *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, out.decode(errors="replace")


def test_progress_on_a_terminal_only(tmp_path):
    for i in range(30):
        (tmp_path / f"m{i}.py").write_text((FIXTURES / "pos_tpe_with_map.py").read_text())
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    rc, out = run_on_pty(["check", "-q", "--no-cache", str(tmp_path)], env)
    assert rc == 1 and "files read" in out
    rc, out = run_on_pty(["check", "-q", "--no-cache", str(tmp_path)], {**env, "CI": "true"})
    assert rc == 1 and "files read" not in out
    piped = subprocess.run([sys.executable, "-m", "gil_advisor", "check", "--no-cache", str(tmp_path)], capture_output=True, text=True, env=env)
    assert "files read" not in piped.stderr
