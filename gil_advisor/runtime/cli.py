"""`gil-advisor trace` / `python -m gil_advisor.runtime`: run a program and check the static
findings against what its threads actually did."""
from __future__ import annotations

import _thread
import argparse
import atexit
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Optional

from gil_advisor.atomic import check_writable
from gil_advisor.config import ConfigError
from gil_advisor.finding import Finding
from gil_advisor.runtime.backends import BACKENDS, choose_backend
from gil_advisor.runtime.runner import Outcome, TargetError, TargetRunner, safe_data
from gil_advisor.runtime.session import TraceSession
from gil_advisor.runtime.targets import TargetIndex
from gil_advisor.runtime import report as _report  # noqa: F401  # before the program's sys.path: it imports libcst

# The sampler backend needs the resolution to see worker entries; with hooks the samples only
# split thread time by state, and fewer of them cost less (benchmarks/trace_overhead.py).
DEFAULT_INTERVAL = {"sampler": 0.005, "sysmon": 0.02, "profile": 0.02}
# ... and after the run's first second (sampler.SETTLE_S), unless --interval was given
LATER_INTERVAL = {"sampler": 0.02}


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:  # argparse would say "invalid _interval value"
        raise argparse.ArgumentTypeError(f"the interval must be a number of seconds, got {text!r}") from None
    if not 0.001 <= value <= 0.5:
        raise argparse.ArgumentTypeError("the interval must be between 0.001 and 0.5 seconds")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="how to see worker entries: sys.monitoring (3.12+), stack sampling, or an exact but slow "
        "profile hook (default: auto)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the full report as JSON to FILE")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with a thread timeline")
    parser.add_argument("--sarif", metavar="FILE", help="also write confirmed and runtime-only findings as SARIF 2.1.0")
    parser.add_argument(
        "--fail-on-findings", action="store_true",
        help="exit 1 if the run confirmed a finding or found a runtime-only one (a failing program's own code wins)",
    )
    parser.add_argument("--timeline", metavar="FILE", help="also write the thread timeline in Chrome trace-event format (opens in Perfetto)")
    parser.add_argument(
        "--findings",
        metavar="FILE",
        help="static findings JSON from `gil-advisor check --format json` (default: analyse the "
        "program and the project modules it imports)",
    )
    parser.add_argument("--no-static", action="store_true", help="skip static analysis; measure threads only")
    parser.add_argument("--config", help="read check's options from this pyproject.toml or setup.cfg")
    parser.add_argument(
        "--cache-dir", help="check's per-file cache, shared with check (default: .gil-advisor-cache)"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument(
        "--interval",
        type=_interval,
        metavar="SECONDS",
        help="sampling interval (default 0.005 for the sampler backend, 0.02 otherwise)",
    )
    parser.add_argument(
        "--report-on-sigterm",
        action="store_true",
        help="on SIGTERM, write the report before dying; the process then dies only when its main "
        "thread next runs Python code (default: die at once, no report)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    parser.add_argument(
        "-m", dest="as_module", action="store_true", help="run TARGET as a module, like python -m"
    )
    parser.add_argument("target", metavar="TARGET", help="script path (or module name with -m)")
    parser.add_argument(
        "target_args", nargs=argparse.REMAINDER, metavar="[ARGS...]", help="the program's own arguments"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gil-advisor trace",
        description="Run a Python program and report which threads were held back by the GIL.",
    )
    add_arguments(parser)
    return parser


def _err(stream, msg: str) -> None:
    try:
        stream.write(f"gil-advisor trace: {msg}\n")
        stream.flush()
    except Exception:
        pass


def load_static(args, runner: TargetRunner) -> tuple[list[Finding], dict, object]:
    """(the findings to check, the report's `static` section, check's cache or None); raises
    ValueError (bad --findings), OSError or ConfigError."""
    if args.no_static:
        return [], {"source": "none", "reason": "--no-static"}, None
    if args.findings:
        from gil_advisor.runtime.findings_file import load_findings

        return load_findings(args.findings), {"source": "file", "path": os.path.abspath(args.findings)}, None
    if not runner.path:
        return [], {"source": "none", "reason": f"{runner.name!r} has no Python source file to analyse"}, None
    from gil_advisor.runtime import static_pass

    options = static_pass.StaticOptions(args.config, args.cache_dir, args.no_cache)
    try:
        return static_pass.analyse(runner.path, runner.path0, options)
    except ConfigError:
        raise
    except Exception as e:  # a broken analysis must not stop the program from running
        return [], {"source": "none", "reason": f"static analysis failed: {type(e).__name__}: {e}"}, None


def import_tracer_modules(paths: "ReportPaths") -> None:
    """Import now whatever the tracer uses after the program has run, and the writers of the
    report files asked for (only those: the HTML and SARIF writers are a tenth of the start-up).

    The program's folder goes to sys.path[0] just before it starts; a lazy import after that
    would find the program's own json.py (or tempfile.py, libcst.py...) instead (issue 11.9).
    """
    import json  # noqa: F401
    import traceback  # noqa: F401

    from gil_advisor import atomic  # noqa: F401
    from gil_advisor.runtime import report, timeline, verdict  # noqa: F401

    if paths.html:
        from gil_advisor.runtime import html_report  # noqa: F401
    if paths.sarif:
        from gil_advisor.runtime import sarif_report  # noqa: F401


@dataclass(frozen=True)
class ReportPaths:
    """The report files asked for, made absolute against the directory trace started in."""

    json: Optional[str] = None
    html: Optional[str] = None
    timeline: Optional[str] = None
    sarif: Optional[str] = None

    def items(self) -> list[tuple[str, str]]:
        pairs = (("json", self.json), ("html", self.html), ("timeline", self.timeline), ("sarif", self.sarif))
        return [(k, v) for k, v in pairs if v]


def resolve_report_paths(args) -> ReportPaths:
    """Absolute, checked report paths; raises ValueError with the one line to print."""
    found = {}
    for option in ("json", "html", "timeline", "sarif"):
        given = getattr(args, option, None)
        if not given:
            continue
        why = check_writable(given)  # the same check as check's -o (gil_advisor/atomic.py)
        if why is not None:
            raise ValueError(f"--{option}: {why}")
        found[option] = os.path.abspath(given)
    return ReportPaths(**found)


_real_get_ident = _thread.get_ident  # taken before the program runs: eventlet and gevent patch it


def _wait_for_threads() -> bool:
    """Join non-daemon threads as the interpreter does at exit (threading._shutdown, which also
    runs the threading atexit calls, e.g. stopping executor workers); False on KeyboardInterrupt,
    which the interpreter reports as ignored, keeping the exit code."""
    shutdown = getattr(threading, "_shutdown", None)
    try:
        if shutdown is not None and threading.main_thread().ident == _real_get_ident():
            shutdown()
            return True
        main = threading.main_thread()
        me = threading.current_thread()
        while True:
            alive = [t for t in threading.enumerate()
                     if t is not main and t is not me and not t.daemon and t.is_alive()]
            if not alive:
                return True
            for t in alive:
                t.join(0.25)
    except KeyboardInterrupt as e:
        import traceback

        try:
            sys.stderr.write(f"Exception ignored in: {threading!r}\n")
            traceback.print_exception(type(e), e, e.__traceback__)
        except Exception:
            pass
        return False
    except RuntimeError:  # a patched threading (eventlet) refusing a join: the interpreter waits later
        return True


def run(args: argparse.Namespace) -> int:
    err = sys.stderr
    try:
        paths = resolve_report_paths(args)
    except ValueError as e:
        _err(err, str(e))
        return 2
    import_tracer_modules(paths)
    runner = TargetRunner("module" if args.as_module else "script", args.target, list(args.target_args or []))
    try:
        runner.locate()
    except TargetError as e:
        _err(err, str(e))
        return e.exit_code
    except SyntaxError as e:
        import traceback

        traceback.print_exception(type(e), e, None)
        return 1
    try:
        findings, static, cache = load_static(args, runner)
    except ConfigError as e:
        _err(err, str(e))
        return 2
    except (OSError, ValueError) as e:
        _err(err, f"cannot read findings {args.findings!r}: {e}")
        return 2
    targets = TargetIndex(findings)
    targets.pickling.probes.store = cache  # host start-up and pipe figures, kept a day
    try:
        backend, reason = choose_backend(args.backend)
    except RuntimeError as e:
        _err(err, str(e))
        return 2
    try:
        runner.install()
    except TargetError as e:
        _err(err, str(e))
        return e.exit_code
    interval = args.interval or DEFAULT_INTERVAL.get(backend.name, 0.01)
    later = None if args.interval else LATER_INTERVAL.get(backend.name)
    session = TraceSession(backend, reason, targets, interval, later)
    session.start()
    finish = _Finisher(session, runner, static, args, paths, err)
    restore = _install_exit_guards(session, finish, args.report_on_sigterm)
    try:
        outcome: Outcome = runner.run()
        if session.in_child:
            # A forked child (os.fork, multiprocessing 'fork') ended up here: no report from it.
            return outcome.exit_code
        complete = outcome.how != "keyboard-interrupt"
        if complete and not _wait_for_threads():
            complete = False
        finish(outcome, complete)
        if outcome.how == "keyboard-interrupt":
            die_by_signal_at_exit(signal.SIGINT)
        if args.fail_on_findings and outcome.exit_code == 0 and report_gates(finish.report):
            return 1
        return outcome.exit_code
    finally:
        restore()


_DIE_BY: list[int] = []


def _die_at_exit() -> None:
    if _DIE_BY:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        signal.signal(_DIE_BY[0], signal.SIG_DFL)
        os.kill(os.getpid(), _DIE_BY[0])


def die_by_signal_at_exit(signum: int) -> None:
    """End the process by `signum` once the interpreter has run its exit handlers, as CPython
    does after an uncaught KeyboardInterrupt (the parent sees -2, a shell 130)."""
    _DIE_BY[:] = [signum]


# Registered at import, before the program registers its own: atexit runs last-in first-out,
# so this runs after the program's handlers, as the interpreter's own SIGINT exit does.
atexit.register(_die_at_exit)


class _Finisher:
    """Stop the session and write the report, exactly once (normal end, os._exit or SIGTERM)."""

    def __init__(self, session, runner, static, args, paths: ReportPaths, err):
        self.session, self.runner, self.static, self.args, self.err = session, runner, static, args, err
        self.paths = paths
        self.done = False
        self.report = None

    def __call__(self, outcome: Outcome, complete: bool) -> None:
        if self.done or self.session.in_child:
            return
        self.done = True
        session, args, err = self.session, self.args, self.err
        session.stop()
        from gil_advisor.runtime import report as report_mod  # imported before the program ran

        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            rep = report_mod.build(session, self.runner, outcome, self.static, complete=complete)
            rep = safe_data(rep)  # thread and file names may hold lone surrogates
        except Exception as e:  # never lose the program's exit code to a reporting bug
            import traceback

            _err(err, f"internal error while building the report: {e!r}")
            try:
                traceback.print_exc(file=err)
            except Exception:
                pass
            return
        self.report = rep
        writers = {
            "json": report_mod.write_json,
            "html": report_mod.write_html,
            "timeline": report_mod.write_timeline,
            "sarif": report_mod.write_sarif,
        }
        for option, path in self.paths.items():
            try:
                writers[option](rep, path)
            except OSError as e:
                _err(err, f"cannot write {path!r}: {e}")
            except Exception as e:  # a writer's bug must not change the program's exit code
                _err(err, f"internal error while writing {path!r}: {e!r}")
        if not args.quiet:
            try:
                err.write("\n" + report_mod.render_text(rep))
                thinned = session.thinned
                if thinned is not None and thinned.any:
                    err.write(
                        "  long run: the timeline was thinned to bound memory (worker calls closer than "
                        f"{thinned.worker_intervals_gap_s * 1000:.1f} ms merged, "
                        f"1 in {thinned.gil_probe_stride} GIL probe samples kept)\n"
                    )
                err.flush()
            except Exception:
                pass


def report_gates(rep) -> bool:
    from gil_advisor.runtime.report import gates

    return gates(rep)


def _install_exit_guards(session, finish, report_on_sigterm: bool = False):
    """Write the report (marked incomplete) before os._exit(); say so before os.exec*().

    os._exit skips every exit handler, so it is wrapped for the traced process (a forked child
    calls the real one). os.execv and os.execve (which the other exec functions call) replace
    the process image: no report can follow, and the tracer says so first.

    SIGTERM keeps its default action, so the process dies at once, as it would untraced, and
    writes no report: a Python handler would only run when the main thread next runs
    bytecode, seconds late if it is inside a long C call (docs/trace.md, "Signals"). With
    --report-on-sigterm, a handler writes the report first, then restores SIG_DFL and raises
    SIGTERM again, so the process still dies by the signal (-15 from subprocess, 143 from a
    shell). A program that installs its own SIGTERM handler keeps its own behaviour.
    """
    real_exit = os._exit
    real_execv, real_execve = os.execv, os.execve

    def _exit(code):
        if not session.in_child:
            try:
                c = code if isinstance(code, int) else 1
                finish(Outcome(c & 0xFF, "os._exit"), complete=False)
            except BaseException:
                pass
        real_exit(code)

    def _say_no_report(func):
        def exec_wrapper(*a, **kw):
            if not session.in_child and not finish.done:
                _err(sys.stderr, f"the program called os.{func.__name__}(): its process is replaced, "
                     "no report will be written")
            return func(*a, **kw)

        exec_wrapper.__name__ = func.__name__
        exec_wrapper.__doc__ = func.__doc__
        return exec_wrapper

    os._exit = _exit
    os.execv, os.execve = _say_no_report(real_execv), _say_no_report(real_execve)
    wrapped = (os.execv, os.execve)
    handler = None

    def on_sigterm(signum, frame):
        try:
            if not session.in_child:
                finish(Outcome(128 + signum, "SIGTERM", "killed by SIGTERM"), complete=False)
        finally:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
            real_exit(128 + signum)  # not reached: the default action ends the process

    if report_on_sigterm and threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, on_sigterm)
                handler = on_sigterm
        except (ValueError, OSError, AttributeError):
            handler = None

    def after_fork_in_child():
        # A forked child must die of SIGTERM the ordinary way (multiprocessing terminates workers).
        try:
            if handler is not None and signal.getsignal(signal.SIGTERM) is handler:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except Exception:
            pass

    if handler is not None and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork_in_child)

    def restore():
        if os._exit is _exit:
            os._exit = real_exit
        if (os.execv, os.execve) == wrapped:
            os.execv, os.execve = real_execv, real_execve
        if handler is not None and not session.in_child:
            try:
                if signal.getsignal(signal.SIGTERM) is handler:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
            except Exception:
                pass

    return restore


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(args)
