"""Write report files whole or not at all, and never replace what is not a regular file.

A regular file (or a new one) is written to a temp file beside it, then renamed over it. A
symlink is followed: its final target is written the same way, so the link stays a link. A
FIFO or a device is opened and written in place: renaming over one would replace it with a
regular file (as root, `-o /dev/null` would break the machine for every other program).
"""
from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from typing import Optional

REGULAR, MISSING, STREAM, DIRECTORY, UNSUPPORTED = "regular", "missing", "stream", "directory", "unsupported"
# A non-UTF-8 file name reaches a report as lone surrogates: write its original bytes, as
# `ls > file` would, rather than lose the whole report to a UnicodeEncodeError.
ENCODING_ERRORS = "surrogateescape"


def _kind_of(mode: Optional[int]) -> str:
    """What a path's st_mode (None: nothing there) means for writing it."""
    if mode is None:
        return MISSING
    if stat.S_ISREG(mode):
        return REGULAR
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return STREAM  # written in place, never renamed over
    if stat.S_ISDIR(mode):
        return DIRECTORY
    return UNSUPPORTED  # a socket, or something stranger


@dataclass(frozen=True)
class WriteTarget:
    """Where the bytes for a report path really go, and how."""

    given: str
    path: str  # the path after following symlinks
    kind: str  # REGULAR | MISSING | STREAM | DIRECTORY | UNSUPPORTED
    mode: Optional[int]  # the existing file's st_mode


def resolve_target(path: str) -> WriteTarget:
    """Follow symlinks (a dangling one names the file to create) and look at what is there."""
    real = os.path.realpath(path)
    mode = _mode_of(real)
    return WriteTarget(path, real, _kind_of(mode), mode)


def _mode_of(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None


def check_writable(path: str) -> Optional[str]:
    """Why `path` cannot take a report (one line, naming the path), or None if it can.

    Called before the work starts, so a typo in `-o` or `--json` does not cost the run."""
    try:
        target = resolve_target(path)
    except OSError as exc:  # a symlink loop, a component that is not a directory...
        return f"cannot write {path}: {exc.strerror or exc}"
    where = f"cannot write {path}" + (f" (a link to {target.path})" if os.path.islink(path) else "")
    if target.kind == DIRECTORY:
        return f"{where}: it is a directory"
    if target.kind == UNSUPPORTED:
        return f"{where}: not a regular file, FIFO or device"
    if target.kind == STREAM:
        return None if os.access(target.path, os.W_OK) else f"{where}: permission denied"
    parent = os.path.dirname(target.path)
    if not os.path.isdir(parent):
        return f"{where}: no such directory {parent}"
    if not os.access(parent, os.W_OK | os.X_OK):
        # the temp file and the rename both need the directory, not just the file
        return f"{where}: cannot create files in {parent} (permission denied)"
    return None


def write_text_atomic(path: str, text: str) -> None:
    """Write `text` (UTF-8) to `path` as described in the module docstring; OSError if it cannot."""
    target = resolve_target(path)
    if target.kind == STREAM:
        _write_in_place(target.path, text)
    elif target.kind in (REGULAR, MISSING):
        _replace(target, text)
    elif target.kind == DIRECTORY:
        raise IsADirectoryError(21, "Is a directory", path)
    else:
        raise OSError(f"{path}: not a regular file, FIFO or device")


def _write_in_place(path: str, text: str) -> None:
    # No O_CREAT: if the FIFO or device went away, fail rather than leave a regular file there.
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "w", encoding="utf-8", errors=ENCODING_ERRORS) as fh:
        fh.write(text)


def _replace(target: WriteTarget, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".gil-advisor-", suffix=".tmp", dir=os.path.dirname(target.path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=ENCODING_ERRORS) as fh:
            fh.write(text)
        # mkstemp makes 0600; keep the mode of the file being replaced, else an ordinary file's
        os.chmod(tmp, stat.S_IMODE(target.mode) if target.mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target.path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
