"""`gil-advisor check - --stdin-filename PATH`: the text on stdin, analysed as if it were PATH.

Editors and formatters pipe an unsaved buffer; its sibling modules are still found on disk
beside PATH (never imported), exactly as for a file named on the command line.
"""
from __future__ import annotations

from typing import BinaryIO, Union

from gil_advisor.config import Config
from gil_advisor.finding import FileError, Report
from gil_advisor.static.engine import analyse_project, make_cache, project_module
from gil_advisor.static.project import Project, SourceError, decode, has_spawn_hint, module_name_for, parse_and_extract
from gil_advisor.static.summary import ModuleSummary


def read_stdin(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most one byte past the limit: enough to know the text is too large, without holding it all."""
    return stream.read(max_bytes + 1)


def summarise_text(data: bytes, filename: str, config: Config) -> Union[ModuleSummary, FileError, None]:
    """What `summarise_file` gives for a file on disk, for bytes that are not on disk."""
    if len(data) > config.max_file_size:
        return FileError(filename, f"skipped: stdin is over the max-file-size limit of {config.max_file_size:,} bytes")
    if b"\0" in data:
        return FileError(filename, "syntax error: the text contains null bytes")
    if not has_spawn_hint(data):
        return None  # nothing here can start a thread
    module, is_package = module_name_for(filename)
    try:
        return parse_and_extract(filename, decode(data), module, is_package)
    except SourceError as exc:
        return FileError(filename, str(exc))


def check_text(data: bytes, filename: str, config: Config) -> Report:
    """Analyse `data` as the file `filename`; other modules of its project are read from disk."""
    project = Project([filename], config.max_file_size, make_cache(config))
    project.add(project_module(project, filename), summarise_text(data, filename, config))
    report = analyse_project(project, config)
    report.files_checked = 1
    return report


def source_lines(data: bytes) -> list[str]:
    """The stdin text's lines, for --show-source (empty if it cannot be decoded)."""
    from gil_advisor.output.text import split_source_lines

    try:
        return split_source_lines(decode(data))
    except SourceError:
        return []
