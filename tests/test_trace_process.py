"""`gil-advisor trace` runs a program the way `python script.py` does (issue 11 items 8-11):
only what was asked is imported, the same `__builtins__`, the same deaths by signal, no file
descriptors taken from the program, report paths checked and fixed before the program runs.

Every test runs the real CLI in a subprocess (tests/trace_workloads/process_prog.py MODE).
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WL = Path(__file__).resolve().parent / "trace_workloads"
PROG = WL / "process_prog.py"
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tracer reads /proc")


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")


def trace_cmd(*args):
    return [sys.executable, "-m", "gil_advisor", "trace", *args]


def run(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT, **kw)


def popen(cmd, cwd):
    return subprocess.Popen(
        cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def signal_when_ready(cmd, cwd, signum, delay=0.0):
    p = popen(cmd, cwd)
    try:
        assert p.stdout.readline() == "ready\n"
        time.sleep(delay)
        p.send_signal(signum)
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    return p.returncode, out, err


# -- 11.9: only what the user asked -----------------------------------------------------------
SHADOWS = ("json", "tempfile", "hashlib", "libcst", "traceback", "html")


def _shadowed_program(tmp_path):
    prog = tmp_path / "prog"
    prog.mkdir()
    marks = tmp_path / "marks"
    marks.mkdir()
    for name in SHADOWS:  # each would leave a file behind if anything imported it
        (prog / f"{name}.py").write_text(f"open({str(marks / name)!r}, 'w').close()\n")
    (prog / "main.py").write_text(
        "import threading\n\n\ndef work(n):\n    return sum(i * i for i in range(n))\n\n\n"
        "threads = [threading.Thread(target=work, args=(50_000,)) for _ in range(2)]\n"
        "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\nprint('program ran')\n"
    )
    return prog, marks


@pytest.mark.parametrize("as_module", [False, pytest.param(True, marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="-P is 3.11+"))])
def test_modules_beside_the_program_are_not_imported_by_the_tracer(tmp_path, as_module):
    prog, marks = _shadowed_program(tmp_path)
    reports = ["--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
               "--timeline", str(tmp_path / "r.trace.json")]
    if as_module:
        # -P: `python -m gil_advisor` would itself put the current folder first on sys.path
        p = run([sys.executable, "-P", *trace_cmd("--no-cache", *reports, "-m", "main")[1:]], cwd=prog)
    else:
        p = run(trace_cmd("--no-cache", *reports, str(prog / "main.py")), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "program ran\n"
    assert sorted(os.listdir(marks)) == []
    assert json.loads((tmp_path / "r.json").read_text())["process"]["exit_code"] == 0
    assert (tmp_path / "r.html").stat().st_size > 0 and (tmp_path / "r.trace.json").stat().st_size > 0


# -- 11.10: same process semantics --------------------------------------------------------------
def test_builtins_is_the_module(tmp_path):
    plain = run([sys.executable, str(PROG), "builtins"], cwd=tmp_path)
    p = run(trace_cmd("-q", "--no-static", str(PROG), "builtins"), cwd=tmp_path)
    assert plain.stdout == "module 3\n"
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain.stdout


def test_uncaught_keyboard_interrupt_dies_by_sigint(tmp_path):
    out = tmp_path / "r.json"
    plain = run([sys.executable, str(PROG), "interrupt"], cwd=tmp_path)
    p = run(trace_cmd("--no-static", "--json", str(out), str(PROG), "interrupt"), cwd=tmp_path)
    assert plain.returncode == -signal.SIGINT
    assert p.returncode == -signal.SIGINT, p.stderr
    assert "KeyboardInterrupt" in p.stderr
    rep = json.loads(out.read_text())
    assert rep["process"]["ended_by"] == "keyboard-interrupt" and rep["complete"] is False


def test_sigint_on_a_deadlock_dies_by_sigint(tmp_path):
    out = tmp_path / "r.json"
    rc, _, err = signal_when_ready(trace_cmd("--no-static", "--json", str(out), str(PROG), "deadlock"), tmp_path, signal.SIGINT)
    assert rc == -signal.SIGINT, err
    assert "KeyboardInterrupt" in err
    assert json.loads(out.read_text())["process"]["ended_by"] == "keyboard-interrupt"


def test_sigint_while_waiting_for_threads_keeps_the_exit_code(tmp_path):
    # the delay lets the main thread finish and reach the wait for the sleeping thread
    plain_rc, _, plain_err = signal_when_ready([sys.executable, str(PROG), "shutdown_wait"], tmp_path, signal.SIGINT, 1.0)
    rc, _, err = signal_when_ready(trace_cmd("--no-static", str(PROG), "shutdown_wait"), tmp_path, signal.SIGINT, 1.0)
    assert plain_rc == 0 and "KeyboardInterrupt" in plain_err
    assert rc == plain_rc, err
    assert "KeyboardInterrupt" in err and "gil-advisor trace:" in err


def test_sigterm_in_a_long_c_call_kills_at_once(tmp_path):
    out = tmp_path / "r.json"
    # sum(range(10**12)) holds the GIL for many minutes: a Python handler would never run, and
    # the process would outlive the timeout below.
    rc, stdout, err = signal_when_ready(trace_cmd("--no-static", "--json", str(out), str(PROG), "long_c_call"), tmp_path, signal.SIGTERM)
    assert rc == -signal.SIGTERM, err
    assert "not reached" not in stdout
    assert not out.exists()  # the default: no report (docs/trace.md, Signals)


def test_execv_says_no_report(tmp_path):
    out = tmp_path / "r.json"
    p = run(trace_cmd("--no-static", "--json", str(out), str(PROG), "execv"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "before exec\nexec ok\n"
    assert "os.execv(): its process is replaced, no report will be written" in p.stderr
    assert not out.exists()


# -- 11.11: file descriptors --------------------------------------------------------------------
def _limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_150_threads_under_a_256_descriptor_limit(tmp_path):
    out = tmp_path / "r.json"
    cmd = trace_cmd("--no-static", "--json", str(out), str(PROG), "many_threads", "150")
    p = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit_fds)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "opened 40\n"
    rep = json.loads(out.read_text())
    assert rep["complete"] is True
    assert len(rep["threads"]) >= 150


def test_descriptors_reused_after_closerange_are_left_alone(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    p = run(trace_cmd("--no-static", str(PROG), "closerange", str(files)), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "wrote 20" in p.stdout
    assert "Bad file descriptor" not in p.stderr
    for i in range(20):
        assert (files / f"f{i}.txt").read_text() == f"file {i}\n"


# -- 11.8: report paths -------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--json", "--html", "--timeline"])
def test_unwritable_report_path_stops_before_the_program(tmp_path, option):
    for bad, why in ((str(tmp_path / "missing" / "r.out"), "no such directory"), (str(tmp_path), "is a directory")):
        p = run(trace_cmd("--no-static", option, bad, str(PROG), "builtins"), cwd=tmp_path)
        assert p.returncode == 2, p.stderr
        assert p.stdout == ""  # the program never ran
        assert p.stderr.count("\n") == 1 and why in p.stderr and option in p.stderr, p.stderr
        assert "Traceback" not in p.stderr


def test_report_paths_are_relative_to_where_trace_started(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = run(trace_cmd("--no-static", "--json", "r.json", "--html", "r.html", "--timeline", "t.json",
                      str(PROG), "chdir", str(elsewhere)), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "moved\n"
    assert sorted(os.listdir(elsewhere)) == []
    assert json.loads((tmp_path / "r.json").read_text())["process"]["exit_code"] == 0
    assert (tmp_path / "r.html").exists() and (tmp_path / "t.json").exists()


# -- 11.13: hostile input -----------------------------------------------------------------------
def _finding(**over):
    f = {"code": "GIL001", "path": str(PROG), "line": 8, "column": 1, "message": "m", "worker": "process_prog.crunch",
         "worker_location": {"path": str(PROG), "line": 8, "column": 1}, "confidence": "high",
         "spawn": "Thread", "threads": "2", "evidence": [], "remedies": []}
    f.update(over)
    return f


@pytest.mark.parametrize("bad, field", [
    ({"worker_location": {"path": str(PROG), "line": "8", "column": 1}}, "findings[0].worker_location.line"),
    ({"line": True}, "findings[0].line"),
    ({"worker": None}, "findings[0].worker"),
    ({"code": "GIL999"}, "findings[0].code"),
    ({"evidence": [{"kind": "spawn"}]}, "findings[0].evidence[0].description"),
    ({"remedies": [{"kind": "k", "title": "t", "detail": "d", "x": 1}]}, "findings[0].remedies[0]"),
])
def test_bad_findings_file_is_one_error_before_the_program(tmp_path, bad, field):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"version": 1, "findings": [_finding(**bad)], "errors": []}))
    p = run(trace_cmd("--findings", str(path), str(PROG), "builtins"), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""  # the program never started
    assert p.stderr.count("\n") == 1 and field in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_good_findings_file_still_loads(tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"version": 1, "findings": [_finding()], "errors": []}))
    p = run(trace_cmd("-q", "--json", str(tmp_path / "r.json"), "--findings", str(path), str(PROG), "builtins"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [f["worker"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]] == ["process_prog.crunch"]


def test_surrogates_in_thread_and_script_names_keep_every_report(tmp_path):
    d = os.fsencode(tmp_path)
    script = os.path.join(d, b"prog-\xff.py")  # not UTF-8: Python sees a lone surrogate
    with open(script, "wb") as f:
        f.write(b"import sys, threading, time\n"
                b"t = threading.Thread(target=time.sleep, args=(0.3,), name='w\\udcff')\n"
                b"t.start(); t.join()\nprint('ok')\nsys.exit(3)\n")
    outs = [tmp_path / "r.json", tmp_path / "r.html", tmp_path / "t.json"]
    cmd = [os.fsencode(a) for a in trace_cmd("--no-static", "--json", str(outs[0]), "--html", str(outs[1]),
                                              "--timeline", str(outs[2]))] + [script]
    p = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, timeout=TIMEOUT)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 3, err
    assert p.stdout == b"ok\n"
    assert "internal error" not in err and "Traceback" not in err, err
    rep = json.loads(outs[0].read_text())
    assert rep["process"]["exit_code"] == 3
    assert "w\\udcff" in {t["name"] for t in rep["threads"]}
    assert b"w\\udcff" in outs[1].read_bytes() and outs[2].stat().st_size > 0


def test_eventlet_monkey_patch(tmp_path):
    pytest.importorskip("eventlet")
    prog = tmp_path / "ev.py"
    prog.write_text("import eventlet\neventlet.monkey_patch()\nimport threading\n\n\n"
                    "def work(n):\n    return sum(i * i for i in range(n))\n\n\n"
                    "ts = [threading.Thread(target=work, args=(100_000,)) for _ in range(3)]\n"
                    "for t in ts:\n    t.start()\nfor t in ts:\n    t.join()\nprint('eventlet done')\n")
    out = tmp_path / "r.json"
    p = run([sys.executable, "-W", "ignore", *trace_cmd("--no-static", "--json", str(out), str(prog))[1:]], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "eventlet done\n"
    assert "cannot join current thread" not in p.stderr
    assert json.loads(out.read_text())["complete"] is True
