"""Path and rounding helpers shared by every writer (check's and trace's)."""
from __future__ import annotations

import os
from typing import Optional, Sequence


def display_path(path: str) -> str:
    """Relative to the current directory when the file is under it, else the path as given."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


def rounded(x: Optional[float], ndigits: int = 3) -> Optional[float]:
    return None if x is None else round(x, ndigits)


def percentages(shares: Sequence[float]) -> list[int]:
    """Whole percentages that add up to the rounded total, never past 100 (largest remainder)."""
    clipped = [min(1.0, max(0.0, s)) for s in shares]
    if sum(clipped) > 1.0:
        clipped = [s / sum(clipped) for s in clipped]
    total = min(100, round(sum(clipped) * 100))
    raw = [s * 100 for s in clipped]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: max(0, total - sum(out))]:
        out[i] += 1
    return out


def figure(x: Optional[float], unit: str = "", digits: int = 2) -> str:
    """A measured figure for people: `digits` significant digits at most, no float noise."""
    if x is None:
        return "–"
    if isinstance(x, bool) or isinstance(x, int):
        return f"{x}{unit}"
    ax = abs(x)
    if ax >= 10 ** digits:
        text = f"{x:.0f}"
    elif ax == 0:
        text = "0"
    elif ax < 0.001:
        text = "<0.001"  # three decimals at most: nothing here is measured finer than a millisecond
    else:
        text = f"{float(f'{x:.{digits}g}'):.3f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def size(nbytes: float) -> str:
    """"16 B", "12 kB", "40 MB": decimal units, as people read a pickled size."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{figure(nbytes / scale)} {unit}"
    return f"{nbytes:.0f} B"
