"""Reading a file from the user's tree: regular files only, never more than the limit.

Every read of source or configuration goes through `read_limited`, so a FIFO never blocks
(it is opened with O_NONBLOCK and refused after fstat), a symlink to /dev/zero is never read,
and a file larger than the limit is refused before any byte is read.
"""
from __future__ import annotations

import os
import re
import stat

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class ReadError(Exception):
    """Why a file was not read; the message is the one diagnostic for it."""

    def __init__(self, message: str, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def size_message(size: int, limit: int) -> str:
    return (
        f"skipped: {size:,} bytes is over the max-file-size limit of {limit:,} bytes "
        f"(analysing takes 0.6 to 1 GB of memory per MB of source; raise max-file-size "
        f"in the configuration to analyse it anyway)"
    )


def read_limited(path: str, max_bytes: int, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, else ReadError."""
    try:
        # stat first: a device is refused without being opened at all
        st = os.stat(path, follow_symlinks=follow_symlinks)
        if stat.S_ISLNK(st.st_mode):
            raise ReadError("skipped: a symbolic link, not followed here")
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"skipped: {kind_of(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise ReadError(size_message(st.st_size, max_bytes), too_large=True)
        fd = os.open(path, _OPEN_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)))
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)  # the path may have been swapped since the stat
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"skipped: {kind_of(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise ReadError(size_message(st.st_size, max_bytes), too_large=True)
        chunks = []
        left = max_bytes + 1  # one byte more tells a file that grew past the limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise ReadError(size_message(len(data), max_bytes), too_large=True)
        return data
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def is_regular(path: str) -> bool:
    """True for a regular file (following symlinks); False for anything else or an error."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def display(path: str) -> str:
    """A path as printed for a person: control characters and undecodable bytes escaped."""
    if path.isprintable():
        return path
    out = []
    for ch in path:
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not valid UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


_LINE_END = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> list[str]:
    """The lines of source as Python numbers them: only \\n, \\r\\n and \\r end a line
    (str.splitlines also splits on form feed, \\x1c-\\x1e, \\x85, \\u2028 and \\u2029)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
