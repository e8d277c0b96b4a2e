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
    outcome: Outcome = runner.run()
    if session.in_child:
        # A forked child (os.fork, multiprocessing 'fork') ended up here: no report from it.
        return outcome.exit_code
    complete = True
    if outcome.how != "keyboard-interrupt" and not _wait_for_threads():
        outcome = Outcome(130, "keyboard-interrupt", "KeyboardInterrupt while waiting for threads")
    if outcome.how == "keyboard-interrupt":
        complete = False
    session.stop()
    from gil_advisor.runtime import report as report_mod  # only needed once the program is done

    try:
        sys.stdout.flush()
    except Exception:
        pass
    try:
        rep = report_mod.build(session, runner, outcome, static, complete=complete)
    except Exception as e:  # never lose the program's exit code to a reporting bug
        import traceback

        _err(err, f"internal error while building the report: {e!r}")
        traceback.print_exc(file=err)
        return outcome.exit_code
    for path, write in ((args.json, report_mod.write_json), (args.html, report_mod.write_html), (args.timeline, report_mod.write_timeline)):
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
    return outcome.exit_code


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(args)
