"""`gil-advisor trace` / `python -m gil_advisor.runtime`: run a program and check the static
findings against what its threads actually did."""
from __future__ import annotations

import argparse
import sys
import threading
from typing import Optional

from gil_advisor.finding import Finding
from gil_advisor.runtime.backends import BACKENDS, choose_backend
from gil_advisor.runtime.runner import Outcome, TargetError, TargetRunner
from gil_advisor.runtime.session import TraceSession
from gil_advisor.runtime.targets import TargetIndex
from gil_advisor.runtime import report as _report  # noqa: F401  # before the program's sys.path: it imports libcst

# The sampler backend needs the resolution to see worker entries; with hooks the samples only
# split thread time by state, and fewer of them cost less (benchmarks/trace_overhead.py).
DEFAULT_INTERVAL = {"sampler": 0.005, "sysmon": 0.02, "profile": 0.02}


def _interval(text: str) -> float:
    value = float(text)
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
        "target's directory)",
    )
    parser.add_argument("--no-static", action="store_true", help="skip static analysis; measure threads only")
    parser.add_argument(
        "--interval",
        type=_interval,
        metavar="SECONDS",
        help="sampling interval (default 0.005 for the sampler backend, 0.02 otherwise)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    parser.add_argument(
        "-m", dest="as_module", action="store_true", help="run TARGET as a module, like python -m"
    )
    parser.add_argument("target", metavar="TARGET", help="script path (or module name with -m)")
    parser.add_argument(
        "target_args", nargs=argparse.REMAINDER, metavar="ARGS", help="the program's own arguments"
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


def load_static(args, runner: TargetRunner) -> tuple[list[Finding], dict]:
    if args.no_static:
        return [], {"source": "none", "reason": "--no-static"}
    if args.findings:
        import json

        with open(args.findings, encoding="utf-8") as f:
            data = json.load(f)
        items = data.get("findings", []) if isinstance(data, dict) else data
        return [Finding.from_dict(d) for d in items], {"source": "file", "path": args.findings}
    paths = runner.files_to_check()
    try:
        from gil_advisor import api  # written alongside; optional until it exists
    except ImportError as e:
        return [], {"source": "none", "reason": f"static analysis unavailable: {e}"}
    try:
        rep = api.check(paths)
    except Exception as e:  # a broken analysis must not stop the program from running
        return [], {"source": "none", "reason": f"static analysis failed: {type(e).__name__}: {e}"}
    return list(rep.findings), {
        "source": "api.check",
        "paths": paths,
        "files_checked": getattr(rep, "files_checked", None),
        "errors": [e.to_dict() for e in getattr(rep, "errors", [])],
    }


def _wait_for_threads() -> bool:
    """Join non-daemon threads like the interpreter does at exit; False on KeyboardInterrupt."""
    main = threading.main_thread()
    try:
        while True:
            alive = [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
            if not alive:
                return True
            for t in alive:
                t.join(0.25)
    except KeyboardInterrupt:
        return False


def run(args: argparse.Namespace) -> int:
    err = sys.stderr
    runner = TargetRunner("module" if args.as_module else "script", args.target, list(args.target_args or []))
    try:
        runner.prepare()
    except TargetError as e:
        _err(err, str(e))
        return e.exit_code
    except SyntaxError as e:
        import traceback

        traceback.print_exception(type(e), e, None)
        return 1
    try:
        findings, static = load_static(args, runner)
    except (OSError, ValueError, KeyError, TypeError) as e:
        _err(err, f"cannot read findings {args.findings!r}: {e}")
        return 2
    targets = TargetIndex(findings)
    try:
        backend, reason = choose_backend(args.backend)
    except RuntimeError as e:
        _err(err, str(e))
        return 2
    interval = args.interval or DEFAULT_INTERVAL.get(backend.name, 0.01)
    session = TraceSession(backend, reason, targets, interval)
    session.start()
    finish = _Finisher(session, runner, static, args, err)
    restore = _install_exit_guards(session, finish)
    try:
        outcome: Outcome = runner.run()
        if session.in_child:
            # A forked child (os.fork, multiprocessing 'fork') ended up here: no report from it.
            return outcome.exit_code
        complete = True
        if outcome.how != "keyboard-interrupt" and not _wait_for_threads():
            outcome = Outcome(130, "keyboard-interrupt", "KeyboardInterrupt while waiting for threads")
        if outcome.how == "keyboard-interrupt":
            complete = False
        finish(outcome, complete)
        if args.fail_on_findings and outcome.exit_code == 0 and report_gates(finish.report):
            return 1
        return outcome.exit_code
    finally:
        restore()


class _Finisher:
    """Stop the session and write the report, exactly once (normal end, os._exit or SIGTERM)."""

    def __init__(self, session, runner, static, args, err):
        self.session, self.runner, self.static, self.args, self.err = session, runner, static, args, err
        self.done = False
        self.report = None

    def __call__(self, outcome: Outcome, complete: bool) -> None:
        if self.done or self.session.in_child:
            return
        self.done = True
        session, args, err = self.session, self.args, self.err
        session.stop()
        from gil_advisor.runtime import report as report_mod  # only needed once the program is done

        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            rep = report_mod.build(session, self.runner, outcome, self.static, complete=complete)
        except Exception as e:  # never lose the program's exit code to a reporting bug
            import traceback

            _err(err, f"internal error while building the report: {e!r}")
            try:
                traceback.print_exc(file=err)
            except Exception:
                pass
            return
        self.report = rep
        for path, write in ((args.json, report_mod.write_json), (args.html, report_mod.write_html), (args.timeline, report_mod.write_timeline), (args.sarif, report_mod.write_sarif)):
            if path:
                try:
                    write(rep, path)
                except OSError as e:
                    _err(err, f"cannot write {path!r}: {e}")
        if not args.quiet:
            try:
                err.write("\n" + report_mod.render_text(rep))
                err.flush()
            except Exception:
                pass


def report_gates(rep) -> bool:
    from gil_advisor.runtime.report import gates

    return gates(rep)


def _install_exit_guards(session, finish):
    """Write the report (marked incomplete) before os._exit() and on a default-action SIGTERM.

    os._exit skips every exit handler, so it is wrapped for the traced process (a forked child
    calls the real one). SIGTERM is only handled while its disposition is the default: the
    handler writes the report, restores SIG_DFL and raises SIGTERM again, so the process still
    dies by the signal (a parent sees -15 from subprocess, 143 from a shell). A program that
    installs its own SIGTERM handler replaces this one and keeps its own behaviour.
    """
    import os
    import signal

    real_exit = os._exit

    def _exit(code):
        if not session.in_child:
            try:
                c = code if isinstance(code, int) else 1
                finish(Outcome(c & 0xFF, "os._exit"), complete=False)
            except BaseException:
                pass
        real_exit(code)

    os._exit = _exit
    handler = None

    def on_sigterm(signum, frame):
        try:
            if not session.in_child:
                finish(Outcome(128 + signum, "SIGTERM", "killed by SIGTERM"), complete=False)
        finally:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
            real_exit(128 + signum)  # not reached: the default action ends the process

    if threading.current_thread() is threading.main_thread():
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

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork_in_child)

    def restore():
        if os._exit is _exit:
            os._exit = real_exit
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
