"""`gil-advisor check | trace | explain`: the command-line front door."""
from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Optional, Sequence

from gil_advisor import __version__
from gil_advisor.atomic import check_writable, write_text_atomic
from gil_advisor.codes import RULES
from gil_advisor.config import CONFIDENCES, Config, ConfigError, Options, Overrides
from gil_advisor.finding import Report
from gil_advisor.output import COLOR_CHOICES, FORMATS, render

if TYPE_CHECKING:
    from gil_advisor.output.text import SourceLines

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STDIN_NAME = "stdin"  # findings' path for `check -` without --stdin-filename, as flake8 names it


def _codes(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gil-advisor",
        description="Find threads that cannot run in parallel because of the GIL, and say what to do instead.",
    )
    parser.add_argument("--version", action="version", version=f"gil-advisor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="analyse source files (never imports or runs them)")
    check.add_argument("paths", nargs="*", default=None, help="files or directories (default: the current directory); `-` reads stdin")
    check.add_argument("--stdin-filename", metavar="PATH", help="with `-`: check the text on stdin as this file (its config, siblings and per-file-ignores apply)")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--select", type=_codes, help="only these codes or prefixes, comma-separated")
    check.add_argument("--ignore", type=_codes, help="skip these codes or prefixes, comma-separated")
    check.add_argument("--exclude", type=lambda v: [p.strip() for p in v.split(",") if p.strip()], help="glob patterns of paths to skip, comma-separated")
    check.add_argument("--force-exclude", action="store_true", help="apply exclude to files named on the command line too (for pre-commit)")
    check.add_argument("--min-confidence", choices=CONFIDENCES, help="hide findings below this confidence (default: medium)")
    check.add_argument("-j", "--jobs", type=int, help="worker processes (default: usable CPUs)")
    check.add_argument("--config", help="read options from this pyproject.toml or setup.cfg")
    check.add_argument("--cache-dir", help="where to keep per-file results (default: .gil-advisor-cache)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout (a FIFO or device is written in place)")
    check.add_argument("-q", "--quiet", action="store_true", help="text format: one line per finding, no summary")
    check.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    check.add_argument("--show-spawns", action="store_true", help="list every spawn site with its worker, the concurrency decision, the work estimate and why it was or was not reported")
    check.add_argument("--python", metavar="PATH", help="the project's interpreter or environment, where imported dependencies are looked up (default: .venv, $VIRTUAL_ENV, then this interpreter)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings (2 still means a usage error)")
    check.add_argument("--statistics", action="store_true", help="after the report, count the findings per code")
    check.add_argument("--show-source", action="store_true", help="text format: show the spawn line with a caret under the column")
    check.add_argument(
        "--color", choices=COLOR_CHOICES, default="auto",
        help="colour the text format: auto (a terminal, unless NO_COLOR is set), always, never (default: auto)",
    )

    explain = sub.add_parser("explain", help="explain a rule: why, a bad and a good example, remedies")
    explain.add_argument("code", nargs="?", help="a rule code such as GIL001 (default: list every rule)")
    explain.add_argument("--all", action="store_true", help="explain every rule in full")

    trace = sub.add_parser("trace", help="run a program and measure what its threads really did")
    try:
        from gil_advisor.runtime.cli import add_arguments
    except ImportError:  # pragma: no cover - the runtime package is part of the distribution
        add_arguments = None
    if add_arguments is not None:
        add_arguments(trace)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return run_check(args)
    if args.command == "explain":
        return run_explain(args.code, args.all)
    if args.command == "trace":
        from gil_advisor.runtime.cli import run

        return run(args)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def run_check(args: argparse.Namespace) -> int:
    from gil_advisor.file_filters import apply_per_file_ignores  # imports the engine: not for --version
    from gil_advisor.output.text import Palette, SourceLines, printable, statistics, summary_line, use_colour

    use_stdin = "-" in (args.paths or [])
    if use_stdin and len(args.paths) > 1:
        return _usage_error("`-` (read stdin) cannot be combined with other paths")
    if args.stdin_filename is not None and not use_stdin:
        return _usage_error("--stdin-filename names the text read from stdin: give `-` as the path")
    stdin_name = args.stdin_filename or STDIN_NAME
    paths = [] if use_stdin else (args.paths or ["."])
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        return _usage_error(f"no such file or directory: {', '.join(missing)}")
    if args.output:
        # before the work, so a typo in -o does not cost the run (or end in a traceback after it)
        problem = check_writable(args.output)
        if problem:
            return _usage_error(f"-o: {problem}")
    first = stdin_name if use_stdin else paths[0]
    try:
        config = Options.resolve([first], Overrides(
            config_file=args.config,
            select=args.select,
            ignore=args.ignore,
            exclude=args.exclude,
            min_confidence=args.min_confidence,
            jobs=args.jobs,
            cache_dir=args.cache_dir,
            no_cache=args.no_cache,
            force_exclude=True if args.force_exclude else None,
            python=args.python,
        ))
    except ConfigError as exc:
        return _usage_error(str(exc))
    source = SourceLines() if args.show_source else None
    if use_stdin:
        report = _check_stdin(stdin_name, config, source)
    else:
        report = _check_paths(paths, config, progress=None if args.no_progress else _progress_bar(), show_spawns=args.show_spawns)
    report = apply_per_file_ignores(report, config)
    options = {}
    if args.format == "text":
        options = {
            "verbose": not args.quiet,
            "palette": Palette(use_colour(args.color, None if args.output else sys.stdout)),
            "source": source,
        }
    text = render(report, args.format, **options)
    if args.statistics and args.format == "text":
        text += statistics(report)  # after the findings, in the report, as flake8 does
    if args.output:
        try:
            write_text_atomic(args.output, text)
        except OSError as exc:  # it changed since the check above
            return _usage_error(f"-o: cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    if args.format == "text":
        for err in report.errors:
            print(printable(f"{err.path}: error: {err.message}"), file=sys.stderr)
        if not args.quiet:
            print(summary_line(report), file=sys.stderr)
    elif args.statistics:
        sys.stderr.write(statistics(report))  # stdout holds JSON/SARIF: keep it parseable
    return EXIT_FINDINGS if report.findings and not args.exit_zero else EXIT_CLEAN


def _check_paths(paths: list[str], config: Config, progress, show_spawns: bool = False) -> Report:
    from gil_advisor.file_filters import force_excluded
    from gil_advisor.static.engine import check

    if config.force_exclude:  # pre-commit names every staged file: honour `exclude` for them too
        paths = [p for p in paths if not force_excluded(p, config)]
        if not paths:
            return Report()
    report = check(paths, config, progress=progress, show_spawns=show_spawns)
    if progress:
        progress.close()
    return report


def _check_stdin(filename: str, config: Config, source: Optional[SourceLines]) -> Report:
    from gil_advisor.file_filters import force_excluded
    from gil_advisor.stdin_source import check_text, read_stdin, source_lines

    data = read_stdin(sys.stdin.buffer, config.max_file_size)
    if config.force_exclude and force_excluded(filename, config):
        return Report()
    if source is not None:
        source.given[filename] = source_lines(data)
    return check_text(data, filename, config)


def _usage_error(message: str) -> int:
    print(f"gil-advisor: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class _progress_bar:
    """A one-line bar on stderr, only for a person at a terminal (not when piped or in CI)."""

    def __new__(cls):
        if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
            return None
        return super().__new__(cls)

    WIDTH = 30

    def __init__(self):
        self.done = 0
        self.total = 0
        self.shown = False

    def start(self, total: int) -> None:
        self.total = total

    def step(self, n: int) -> None:
        self.done += n
        if self.total and (self.done % 25 < n or n > 1 or self.done == self.total):
            filled = self.WIDTH * self.done // self.total
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            sys.stderr.write(f"\rgil-advisor [{bar}] {self.done}/{self.total} files read")
            sys.stderr.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def run_explain(code: Optional[str], every: bool = False) -> int:
    from gil_advisor.explain import explain, explain_all, listing

    text = explain_all() if every else listing() if code is None else explain(code)
    if text is None:
        print(f"gil-advisor: error: unknown rule {code!r}; known: {', '.join(RULES)}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_CLEAN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
