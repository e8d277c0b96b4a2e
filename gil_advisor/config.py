"""Options, with defaults, from [tool.gil-advisor] in pyproject.toml or [gil-advisor] in setup.cfg."""
from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

from gil_advisor.codes import RULES

CONFIDENCES = ("low", "medium", "high")


class ConfigError(Exception):
    """A bad option value; the message says which option and what is allowed."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_confidence: str = "medium"
    max_file_size: int = 10_000_000  # bytes
    max_depth: int = 4  # how deep to follow a worker's calls into helpers
    releases_gil: tuple[str, ...] = ()  # the user's own names that release the GIL
    blocking: tuple[str, ...] = ()  # ... that block (I/O, waiting)
    holds_gil: tuple[str, ...] = ()  # ... that hold it
    jobs: int = 0  # 0: every usable CPU
    cache_dir: str = ""  # "" (the library default): no cache; the CLI defaults to .gil-advisor-cache
    # (glob, codes) pairs in the order given; a glob with a "/" is relative to the config file's folder
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    force_exclude: bool = False  # apply `exclude` to files named on the command line too (pre-commit)
    source: Optional[str] = None  # where the config was read from

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
INT_OPTIONS = {"max_file_size": 1, "max_depth": 0, "jobs": 0}


def validate(raw: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(Config)} - {"source"}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{source}: unknown option {key!r} (known: {', '.join(sorted(k.replace('_', '-') for k in known))})")
        if name in LIST_OPTIONS:
            if isinstance(value, str):
                value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {key} must be a list of strings")
            if name in ("select", "ignore"):
                value = [v.strip().upper() for v in value]  # codes are case-insensitive, as on the CLI
                bad = [v for v in value if not any(code.startswith(v) for code in RULES)]
                if bad:
                    raise ConfigError(f"{source}: {key} names no known rule: {', '.join(bad)} (codes are {', '.join(RULES)})")
            out[name] = tuple(value)
        elif name in INT_OPTIONS:
            try:
                ivalue = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{source}: {key} must be an integer, got {value!r}") from None
            if isinstance(value, bool) or ivalue < INT_OPTIONS[name]:
                raise ConfigError(f"{source}: {key} must be an integer >= {INT_OPTIONS[name]}, got {value!r}")
            out[name] = ivalue
        elif name == "cache_dir":
            if not isinstance(value, str):
                raise ConfigError(f"{source}: cache-dir must be a string path")
            out[name] = value
        elif name == "min_confidence":
            if value not in CONFIDENCES:
                raise ConfigError(f"{source}: min-confidence must be one of {', '.join(CONFIDENCES)}, got {value!r}")
            out[name] = value
        elif name == "per_file_ignores":
            out[name] = _per_file_ignores(key, value, source)
        elif name == "force_exclude":
            if isinstance(value, str) and value.strip().lower() in configparser.ConfigParser.BOOLEAN_STATES:
                value = configparser.ConfigParser.BOOLEAN_STATES[value.strip().lower()]
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: {key} must be true or false, got {value!r}")
            out[name] = value
    return out


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


def read_section(path: Path) -> Optional[dict[str, Any]]:
    """Our section of one pyproject.toml (TOML) or setup.cfg-style (INI) file, or None."""
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        section = data.get("tool", {}).get("gil-advisor")
        if section is not None and not isinstance(section, dict):
            raise ConfigError(f"{path}: [tool.gil-advisor] must be a table")
        return section
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return dict(parser.items("gil-advisor")) if parser.has_section("gil-advisor") else None


def find_config(start: Path) -> Optional[tuple[Path, dict[str, Any]]]:
    """The nearest pyproject.toml with [tool.gil-advisor], or setup.cfg with [gil-advisor]."""
    start = start.resolve()
    for d in [start, *start.parents]:
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from None
            section = data.get("tool", {}).get("gil-advisor")
            if section is not None:
                if not isinstance(section, dict):
                    raise ConfigError(f"{pyproject}: [tool.gil-advisor] must be a table")
                return pyproject, section
        setup_cfg = d / "setup.cfg"
        if setup_cfg.is_file():
            parser = configparser.ConfigParser()
            try:
                parser.read(setup_cfg, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise ConfigError(f"{setup_cfg}: cannot read: {exc}") from None
            if parser.has_section("gil-advisor"):
                return setup_cfg, dict(parser.items("gil-advisor"))
        if (d / ".git").exists():
            break
    return None


def load(start: Optional[str] = None, explicit: Optional[str] = None) -> Config:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{explicit}: no such file")
        section = read_section(path)
        if section is None:
            raise ConfigError(f"{explicit}: no [tool.gil-advisor] or [gil-advisor] section found")
        found = (path, section)
    else:
        found = find_config(Path(start or os.getcwd()))
    if found is None:
        return Config()
    path, raw = found
    return replace(Config(), source=str(path), **validate(raw, str(path)))


def with_overrides(config: Config, **overrides: Any) -> Config:
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **validate({k: v for k, v in given.items()}, "command line")) if given else config
