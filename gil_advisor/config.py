"""Options, with defaults, from [tool.gil-advisor] in pyproject.toml or [gil-advisor] in setup.cfg or tox.ini."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Optional, Sequence

from gil_advisor.codes import RULES
from gil_advisor.sourcefile import ReadError, is_regular, read_limited

CONFIDENCES = ("low", "medium", "high")


class ConfigError(Exception):
    """A bad option value; the message says which option and what is allowed."""


MAX_FILE_SIZE_DEFAULT = 1_000_000  # bytes; libcst peaks near 1 GB per MB of source (docs/performance.md)
MAX_FILE_SIZE_CAP = 1 << 30
MAX_DEPTH_CAP = 50  # deeper than this and following calls costs more than it can tell
JOBS_CAP = 1 << 16  # and at run time: never more than the usable CPUs or the files
DEFAULT_CACHE_DIR = ".gil-advisor-cache"


@dataclass(frozen=True)
class Options:
    """Every option of one run, validated; `Options.resolve(paths, overrides)` builds it."""

    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_confidence: str = "medium"
    max_file_size: int = MAX_FILE_SIZE_DEFAULT
    max_depth: int = 8  # how deep to follow a worker's calls into helpers (wrappers nest: run -> invoke -> python -> execute -> subprocess)
    releases_gil: tuple[str, ...] = ()  # the user's own names that release the GIL
    blocking: tuple[str, ...] = ()  # ... that block (I/O, waiting)
    holds_gil: tuple[str, ...] = ()  # ... that hold it
    jobs: int = 0  # 0: every usable CPU
    cache_dir: str = ""  # "" (the library default): no cache; the CLI defaults to .gil-advisor-cache
    python: str = ""  # the target environment's interpreter or prefix, for dependencies
    follow_dependencies: bool = True  # parse pure-Python dependencies that workers call
    # (glob, codes) pairs in the order given; a glob with a "/" is relative to the config file's folder
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    force_exclude: bool = False  # apply `exclude` to files named on the command line too (pre-commit)
    source: Optional[str] = None  # where the config was read from

    @classmethod
    def resolve(cls, paths: Sequence[str], overrides: Optional["Overrides"] = None) -> "Options":
        """See `resolve` below: discovery, validation, overrides, defaults."""
        return resolve(paths, overrides or Overrides())

    def enabled(self, code: str) -> bool:
        if any(code.startswith(p) for p in self.ignore):
            return False
        return not self.select or any(code.startswith(p) for p in self.select)

    def confident_enough(self, confidence: str) -> bool:
        return CONFIDENCES.index(confidence) >= CONFIDENCES.index(self.min_confidence)

    def fingerprint(self) -> str:
        """What changes analysis results (for the cache key)."""
        return repr((self.max_file_size, self.max_depth, self.releases_gil, self.blocking, self.holds_gil))


LIST_OPTIONS = {"select", "ignore", "exclude", "releases_gil", "blocking", "holds_gil"}
# (least, most): the most keeps a cloned repository's configuration from hurting the machine
INT_OPTIONS = {"max_file_size": (1, MAX_FILE_SIZE_CAP), "max_depth": (0, MAX_DEPTH_CAP), "jobs": (0, JOBS_CAP)}
CONFIG_NAMES = ("pyproject.toml", "setup.cfg", "tox.ini")  # searched in this order in each folder
MAX_CONFIG_BYTES = 1_000_000


def _integer(key: str, value: Any, source: str, least: int, most: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source}: {key} must be an integer, got {value!r}")
    if not least <= value <= most:
        raise ConfigError(f"{source}: {key} must be an integer from {least} to {most:,}, got {value!r}")
    return value


def validate(raw: Any, source: str) -> dict[str, Any]:
    """Field values from one configuration section; ConfigError names the option and the rule."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the gil-advisor section must be a table of options")
    known = {f.name for f in fields(Options)} - {"source"}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in known:
            raise ConfigError(f"{source}: unknown option {key!r} (known: {', '.join(sorted(k.replace('_', '-') for k in known))})")
        if name in LIST_OPTIONS:
            if isinstance(value, str):
                value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {key} must be a list of strings, got {value!r}")
            if name in ("select", "ignore"):
                value = [v.strip().upper() for v in value]  # codes are case-insensitive, as on the CLI
                bad = [v for v in value if not any(code.startswith(v) for code in RULES)]
                if bad:
                    raise ConfigError(f"{source}: {key} names no known rule: {', '.join(bad)} (codes are {', '.join(RULES)})")
            out[name] = tuple(value)
        elif name in INT_OPTIONS:
            out[name] = _integer(key, value, source, *INT_OPTIONS[name])
        elif name == "cache_dir":
            if not isinstance(value, str):
                raise ConfigError(f"{source}: cache-dir must be a string path, got {value!r}")
            out[name] = value
        elif name == "python":
            if not isinstance(value, str):
                raise ConfigError(f"{source}: python must be a string path to an interpreter or environment")
            out[name] = value
        elif name == "follow_dependencies":
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
                value = value.strip().lower() in ("true", "1", "yes")
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: follow-dependencies must be true or false, got {value!r}")
            out[name] = value
        elif name == "min_confidence":
            if value not in CONFIDENCES:
                raise ConfigError(f"{source}: min-confidence must be one of {', '.join(CONFIDENCES)}, got {value!r}")
            out[name] = value
        elif name == "per_file_ignores":
            out[name] = _per_file_ignores(key, value, source)
        elif name == "force_exclude":
            if isinstance(value, str) and value.strip().lower() in _ini_booleans():
                value = _ini_booleans()[value.strip().lower()]
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: {key} must be true or false, got {value!r}")
            out[name] = value
    return out


def _read_text(path: Path) -> str:
    try:
        return read_limited(str(path), MAX_CONFIG_BYTES).decode("utf-8")
    except ReadError as exc:
        if exc.too_large:
            raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES:,} bytes, too large for a configuration file") from None
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
def _per_file_ignores(key: str, value: Any, source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A TOML table `{"tests/*" = ["GIL001"]}`, or entries `GLOBS: CODES` (a TOML list, or one per
    line in setup.cfg as flake8 writes them); globs and codes separated by commas or spaces."""
    if isinstance(value, dict):
        entries = list(value.items())
    elif isinstance(value, (str, list, tuple)):
        lines = value.splitlines() if isinstance(value, str) else value
        if not all(isinstance(line, str) for line in lines):
            raise ConfigError(f"{source}: {key} must be a table of glob = [codes], or a list of 'GLOBS: CODES' strings")
        entries = []
        for line in filter(None, (line.strip() for line in lines)):
            globs, colon, codes = line.rpartition(":")  # the last colon: a Windows drive has one too
            if not (colon and globs.strip() and codes.strip()):
                raise ConfigError(f"{source}: {key} entry {line!r} must be 'GLOBS: CODES', e.g. 'tests/*.py: GIL001,GIL002'")
            entries += [(g, codes) for g in globs.replace(",", " ").split()]
    else:
        raise ConfigError(f"{source}: {key} must be a table of glob = [codes], or a list of 'GLOBS: CODES' strings")
    out = []
    for glob, codes in entries:
        if isinstance(codes, str):
            codes = codes.replace(",", " ").split()
        if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes) or not str(glob).strip():
            raise ConfigError(f"{source}: {key}: {glob!r} must map to a list of codes")
        codes = tuple(c.strip().upper() for c in codes if c.strip())
        bad = [c for c in codes if not any(code.startswith(c) for code in RULES)]
        if bad or not codes:
            raise ConfigError(f"{source}: {key}: {glob!r} names no known rule: {', '.join(bad) or '(none)'} (codes are {', '.join(RULES)})")
        out.append((os.path.normpath(str(glob).strip()).replace(os.sep, "/"), codes))
    return tuple(out)


def _ini_booleans() -> dict:
    import configparser

    return configparser.ConfigParser.BOOLEAN_STATES


def read_section(path: Path) -> Optional[dict[str, Any]]:
    """Our section of one TOML file ([tool.gil-advisor]) or INI file ([gil-advisor]), or None."""
    text = _read_text(path)
    if path.suffix == ".toml":
        if sys.version_info >= (3, 11):  # here: a folder with no pyproject.toml never needs it
            import tomllib
        else:  # pragma: no cover - exercised on 3.9/3.10 only
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: `tool` must be a table, got {tool!r}")
        section = tool.get("gil-advisor")
        if section is not None and not isinstance(section, dict):
            raise ConfigError(f"{path}: [tool.gil-advisor] must be a table")
        return section
    import configparser  # here: most projects configure in pyproject.toml, and trace starts sooner

    # No interpolation: `exclude = 50%_done` is a pattern, not a reference to another option.
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
        return dict(parser.items("gil-advisor")) if parser.has_section("gil-advisor") else None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: cannot read: {' '.join(str(exc).split())}") from None


def find_config(start: Path) -> Optional[tuple[Path, dict[str, Any]]]:
    """The nearest file of CONFIG_NAMES with our section, from `start` up to the repository root."""
    start = Path(os.path.abspath(start))
    for d in [start, *start.parents]:
        for name in CONFIG_NAMES:
            candidate = d / name
            # a folder we may not list is passed over: discovery reports it
            if is_regular(str(candidate)):
                section = read_section(candidate)
                if section is not None:
                    return candidate, section
        if os.path.lexists(d / ".git"):
            break
    return None


def load(start: Optional[str] = None, explicit: Optional[str] = None) -> Options:
    """The options of one configuration file: `explicit`, or the nearest one above `start`."""
    if explicit:
        path = Path(explicit)
        if not os.path.lexists(path):
            raise ConfigError(f"{explicit}: no such file")
        section = read_section(path)
        if section is None:
            raise ConfigError(f"{explicit}: no [tool.gil-advisor] or [gil-advisor] section found")
        found = (path, section)
    else:
        found = find_config(Path(start or os.getcwd()))
    if found is None:
        return Options()
    path, raw = found
    return replace(Options(), source=str(path), **validate(raw, str(path)))


def with_overrides(config: Options, **overrides: Any) -> Options:
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **validate(given, "command line")) if given else config


def config_start(paths: Sequence[str]) -> str:
    """Where configuration discovery starts: the first path (its folder if a file), else the cwd."""
    if not paths:
        return os.getcwd()
    first = str(paths[0])
    return first if os.path.isdir(first) else os.path.dirname(os.path.abspath(first))


@dataclass(frozen=True)
class Overrides:
    """What a front door sets on top of the configuration file; None means "not given"."""

    config_file: Optional[str] = None
    select: Optional[Sequence[str]] = None
    ignore: Optional[Sequence[str]] = None
    exclude: Optional[Sequence[str]] = None
    min_confidence: Optional[str] = None
    jobs: Optional[int] = None
    cache_dir: Optional[str] = None
    no_cache: bool = False  # trace and the flake8 plugin never cache
    force_exclude: Optional[bool] = None
    python: Optional[str] = None


def resolve(paths: Sequence[str], overrides: Overrides = Overrides()) -> Options:
    """The options for a run over `paths`: configuration discovery, validation, overrides and
    defaults, the same for `check`, `trace` and the flake8 plugin. Raises ConfigError."""
    options = load(start=config_start(paths), explicit=overrides.config_file)
    options = with_overrides(
        options,
        select=overrides.select,
        ignore=overrides.ignore,
        exclude=overrides.exclude,
        min_confidence=overrides.min_confidence,
        jobs=overrides.jobs,
        cache_dir=overrides.cache_dir,
        force_exclude=overrides.force_exclude,
        python=overrides.python,
    )
    if overrides.no_cache:
        return replace(options, cache_dir="")
    if not options.cache_dir:
        return replace(options, cache_dir=DEFAULT_CACHE_DIR)
    return options


Config = Options  # the former name, kept for callers of gil_advisor.api
