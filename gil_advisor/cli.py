"""`gil-advisor check | trace | explain`: the command-line front door."""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
import sys
from typing import Optional, Sequence

from gil_advisor import __version__
from gil_advisor.codes import RULES
from gil_advisor.config import CONFIDENCES, ConfigError, load, with_overrides
from gil_advisor.output import FORMATS, render
from gil_advisor.output.text import summary_line

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DEFAULT_CACHE_DIR = ".gil-advisor-cache"


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
    check.add_argument("paths", nargs="*", default=None, help="files or directories (default: the current directory)")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--select", type=_codes, help="only these codes or prefixes, comma-separated")
    check.add_argument("--ignore", type=_codes, help="skip these codes or prefixes, comma-separated")
    check.add_argument("--exclude", type=lambda v: [p.strip() for p in v.split(",") if p.strip()], help="glob patterns of paths to skip, comma-separated")
    check.add_argument("--min-confidence", choices=CONFIDENCES, help="hide findings below this confidence (default: medium)")
    check.add_argument("-j", "--jobs", type=int, help="worker processes (default: usable CPUs)")
    check.add_argument("--config", help="read options from this pyproject.toml or setup.cfg")
    check.add_argument("--cache-dir", help="where to keep per-file results (default: .gil-advisor-cache)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    check.add_argument("-q", "--quiet", action="store_true", help="text format: one line per finding, no summary")
    check.add_argument("--no-progress", action="store_true", help="never show a progress bar")

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
    from gil_advisor.static.engine import check

    paths = args.paths or ["."]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        print(f"gil-advisor: error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load(start=paths[0] if os.path.isdir(paths[0]) else os.path.dirname(os.path.abspath(paths[0])), explicit=args.config)
        config = with_overrides(
            config,
            select=args.select,
            ignore=args.ignore,
            exclude=args.exclude,
            min_confidence=args.min_confidence,
            jobs=args.jobs,
            cache_dir=args.cache_dir,
        )
        if args.no_cache:
            config = replace(config, cache_dir="")
        elif not config.cache_dir:
            config = replace(config, cache_dir=DEFAULT_CACHE_DIR)
    except ConfigError as exc:
        print(f"gil-advisor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = None if args.no_progress else _progress_bar()
    report = check(paths, config, progress=progress)
    if progress:
        progress.close()
    text = render(report, args.format, verbose=not args.quiet)
    if args.output:
        from gil_advisor.atomic import write_text_atomic

        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.format == "text":
        for err in report.errors:
            print(f"{err.path}: error: {err.message}", file=sys.stderr)
        if not args.quiet:
            print(summary_line(report), file=sys.stderr)
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


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
