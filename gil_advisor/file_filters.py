"""What the user turned off by path: `per-file-ignores` (codes per glob) and `force-exclude`
(`exclude` applied to files named on the command line, as pre-commit names them)."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import replace
from pathlib import PurePath
from typing import Optional

from gil_advisor.config import Config
from gil_advisor.finding import Report
from gil_advisor.static.project import DEFAULT_EXCLUDES, _excluded


def _base(config: Config) -> str:
    """Relative globs are relative to the folder of the config file they came from, else the cwd."""
    return os.path.dirname(os.path.abspath(config.source)) if config.source else os.getcwd()


def _relative_parts(path: str, base: str) -> tuple[str, ...]:
    """The path's components below `base`; for a path outside it, only its name. (Never the
    folders above the project: under `/x/.venv_projects/app/`, `.venv*` must not match.)"""
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # another drive on Windows
        rel = ".."
    if rel == ".." or rel.startswith(".." + os.sep):
        return (os.path.basename(os.path.abspath(path)),)
    return tuple(p for p in PurePath(rel).parts if p != ".")


def ignored_codes(path: str, config: Config) -> tuple[str, ...]:
    """The code prefixes `per-file-ignores` turns off for this file. A glob without a `/`
    matches the file name, one with a `/` the path below the config file's folder (flake8's rule)."""
    if not config.per_file_ignores:
        return ()
    rel = "/".join(_relative_parts(path, _base(config)))
    name = os.path.basename(path)
    absolute = os.path.abspath(path).replace(os.sep, "/")
    codes: list[str] = []
    for glob, glob_codes in config.per_file_ignores:
        if "/" in glob:
            hit = fnmatch.fnmatchcase(absolute if glob.startswith("/") else rel, glob)
        else:
            hit = fnmatch.fnmatchcase(name, glob)
        if hit:
            codes.extend(glob_codes)
    return tuple(codes)


def apply_per_file_ignores(report: Report, config: Config) -> Report:
    """The report without the findings whose file turns their code off."""
    if not config.per_file_ignores:
        return report
    cache: dict[str, tuple[str, ...]] = {}

    def kept(code: str, path: str) -> bool:
        off = cache.get(path)
        if off is None:
            off = cache[path] = ignored_codes(path, config)
        return not any(code.startswith(prefix) for prefix in off)

    return replace(report, findings=[f for f in report.findings if kept(f.code, f.location.path)])


def force_excluded(path: str, config: Config, base: Optional[str] = None) -> bool:
    """Would walking the project have skipped this path? Each folder on the way down and the
    file itself is matched as the walk matches them (built-in excludes included)."""
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(config.exclude)
    parts = _relative_parts(path, base or _base(config))
    return any(_excluded(parts[i], "/".join(parts[: i + 1]), patterns) for i in range(len(parts)))
