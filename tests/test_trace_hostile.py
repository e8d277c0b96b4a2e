"""The tracer against hostile programs: never crash, never hang, never change the program.

Every test runs the tracer in a subprocess with a timeout (tests/trace_workloads/hostile_prog.py
MODE). Run with each interpreter: 3.11 exercises the sampler, 3.12/3.13 sys.monitoring.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gil_advisor.finding import Finding, Location

ROOT = Path(__file__).resolve().parent.parent
WL = Path(__file__).resolve().parent / "trace_workloads"
PROG = WL / "hostile_prog.py"
TIMEOUT = 60
HAS_SYSMON = sys.version_info >= (3, 12)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tracer reads /proc")


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")


def crunch_findings(tmp_path) -> Path:
    """A static finding on hostile_prog.crunch, so hook backends instrument something."""
    f = Finding("GIL001", Location(str(PROG), 9, 1), "t", "hostile_prog.crunch", Location(str(PROG), 9, 1),
                "high", "Thread", "2")
    out = tmp_path / "findings.json"
    out.write_text(json.dumps({"version": 1, "findings": [f.to_dict()], "errors": []}))
    return out


def trace(tmp_path, mode, *extra, opts=("--no-static",), prefix=None):
    out = tmp_path / "report.json"
    cmd = prefix or [sys.executable, "-m", "gil_advisor"]
    cmd = [*cmd, "trace", *opts, "--json", str(out), str(PROG), mode, *extra]
    p = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    report = json.loads(out.read_text()) if out.exists() else None
    return p, report


def no_tracer_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr or "gil_advisor" not in stderr, stderr


# 1 -------------------------------------------------------------------------------------------
def test_os_exit_keeps_code_and_writes_incomplete_report(tmp_path):
    p, rep = trace(tmp_path, "osexit")
    assert p.returncode == 5, p.stderr
    assert "before _exit" in p.stdout
    # os._exit is wrapped in the traced process: the report is written first, marked incomplete
    assert rep is not None
    assert rep["process"]["ended_by"] == "os._exit" and rep["process"]["exit_code"] == 5
    assert rep["complete"] is False
    no_tracer_traceback(p.stderr)


# 2 -------------------------------------------------------------------------------------------
def test_self_sigterm_dies_by_signal_with_report(tmp_path):
    p, rep = trace(tmp_path, "sigterm", opts=("--no-static", "--report-on-sigterm"))
    # The process still dies *by* SIGTERM: -15 from subprocess (a shell would show 143).
    assert p.returncode == -signal.SIGTERM, p.stderr
    assert "not reached" not in p.stdout
    assert rep["complete"] is False and rep["process"]["ended_by"] == "SIGTERM"
    assert rep["process"]["exit_code"] == 143
    no_tracer_traceback(p.stderr)


def test_sigterm_from_outside(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.Popen(
        [sys.executable, "-m", "gil_advisor", "trace", "--no-static", "--report-on-sigterm", "--json", str(out), str(PROG),
         "sigterm_wait"],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert p.stdout.readline() == "ready\n"
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGTERM, err
    rep = json.loads(out.read_text())
    assert rep["complete"] is False and rep["process"]["ended_by"] == "SIGTERM"


def test_program_own_sigterm_handler_wins(tmp_path):
    p, rep = trace(tmp_path, "own_handler")
    assert p.returncode == 9 and "own handler" in p.stdout
    assert rep["process"]["ended_by"] == "sys.exit"


# 3 -------------------------------------------------------------------------------------------
def test_program_hooks_still_see_their_events(tmp_path):
    p, rep = trace(tmp_path, "hooks", opts=("--findings", str(crunch_findings(tmp_path))))
    assert p.returncode == 0, p.stderr
    counts = dict(kv.split("=") for kv in p.stdout.split("events ")[1].split())
    counts = {k: int(v) for k, v in counts.items()}
    assert counts["trace"] >= 1 and counts["profile"] > 0 and counts["thread_profile"] > 0
    assert counts["thread_trace"] == 2
    if HAS_SYSMON:
        # the program got the very tool id the tracer held; the tracer moved aside and says so
        assert counts["monitoring"] == 3  # crunch: two threads + the main thread
        notes = rep["backend"]["notes"]
        assert any("the program claimed sys.monitoring tool id" in n for n in notes), rep["backend"]
        assert rep["backend"]["tool_id"] != int(p.stdout.split("tool ")[1].split()[0])
    f = rep["findings"][0]
    assert f["verdict"] != "not-exercised", f["measured"]
    no_tracer_traceback(p.stderr)


# 4 -------------------------------------------------------------------------------------------
def test_threads_started_at_import_time(tmp_path):
    p, rep = trace(tmp_path, "import_threads")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["imported 2", "joined"]
    names = {t["name"] for t in rep["threads"]}
    assert {"import-0", "import-1"} <= names, names
    assert rep["complete"] is True


# 5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool(tmp_path, method):
    p, rep = trace(tmp_path, "mp_" + method)
    assert p.returncode == 0, p.stderr
    assert f"{method} 2470" in p.stdout
    assert p.stderr.count("gil-advisor trace:") == 1  # children write no report
    assert rep["complete"] is True and rep["process"]["exit_code"] == 0
    assert [x.name for x in tmp_path.iterdir() if x.suffix == ".json"] == ["report.json"]


# 6 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["close_stdout", "close_fd1"])
def test_closed_stdout(tmp_path, mode):
    p, rep = trace(tmp_path, mode)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "bye\n"
    assert "gil-advisor trace:" in p.stderr  # the summary still goes to stderr
    assert "Traceback" not in p.stderr and "gil_advisor" not in p.stderr, p.stderr
    assert rep["complete"] is True


# 7 -------------------------------------------------------------------------------------------
def test_under_coverage(tmp_path):
    pytest.importorskip("coverage")
    data = tmp_path / ".coverage"
    p, rep = trace(
        tmp_path, "hooks", opts=("--findings", str(crunch_findings(tmp_path))),
        prefix=[sys.executable, "-m", "coverage", "run", f"--data-file={data}", "--include", str(PROG),
                "-m", "gil_advisor"],
    )
    assert p.returncode == 0, p.stderr
    assert rep is not None and rep["findings"]
    assert data.exists()
    r = subprocess.run([sys.executable, "-m", "coverage", "report", f"--data-file={data}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert "hostile_prog.py" in r.stdout, r.stdout + r.stderr


# 8 -------------------------------------------------------------------------------------------
def test_500_short_lived_threads(tmp_path):
    p, rep = trace(tmp_path, "many_threads", "500")
    assert p.returncode == 0, p.stderr
    assert "threads 500" in p.stdout
    # Threads that live less than one sampling interval are not listed one by one.
    assert len(rep["threads"]) <= 501
    assert rep["process"]["wall_s"] < 30
    assert len(json.dumps(rep)) < 5_000_000
    assert rep["complete"] is True
    if rep["backend"]["name"] == "sysmon":  # 3.12+ counts every start through an audit event
        assert rep["backend"]["threads_started"] >= 500


# 9 -------------------------------------------------------------------------------------------
def test_daemon_threads_still_running_at_exit(tmp_path):
    t0 = time.monotonic()
    p, rep = trace(tmp_path, "daemon_running")
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 30
    alive = {t["name"] for t in rep["process"]["threads_alive_at_exit"] if t["daemon"]}
    assert {"spinner", "blocked"} <= alive
    assert rep["complete"] is True
