"""`gil-advisor check - --stdin-filename PATH`: the text on stdin, analysed as if it were PATH.

Editors and formatters pipe an unsaved buffer; its sibling modules are still found on disk
beside PATH (never imported), exactly as for a file named on the command line.
"""
from __future__ import annotations

from typing import BinaryIO

from gil_advisor.config import Config
from gil_advisor.finding import FileError, Report
from gil_advisor.static.engine import check_source
from gil_advisor.static.project import SourceError, decode


def read_stdin(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most one byte past the limit: enough to know the text is too large, without holding it all."""
    return stream.read(max_bytes + 1)


def check_text(data: bytes, filename: str, config: Config) -> Report:
    """Analyse `data` as the file `filename`; other modules of its project are read from disk."""
    if len(data) > config.max_file_size:
        return Report(errors=[FileError(filename, f"skipped: stdin is over the max-file-size limit of {config.max_file_size:,} bytes")], files_checked=1)
    if b"\0" in data:
        return Report(errors=[FileError(filename, "syntax error: the text contains null bytes")], files_checked=1)
    try:
        text = decode(data)
    except SourceError as exc:
        return Report(errors=[FileError(filename, str(exc))], files_checked=1)
    return check_source(filename, text, config)


def source_lines(data: bytes) -> list[str]:
    """The stdin text's lines, for --show-source (empty if it cannot be decoded)."""
    from gil_advisor.output.text import split_source_lines

    try:
        return split_source_lines(decode(data))
    except SourceError:
        return []
