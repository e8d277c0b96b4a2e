"""Every fixture carries its expected findings inline, as bugbear's eval files do:
`# expect: GIL001:9 medium` (code, 1-based column, confidence; several joined by ", ").
Findings and expectations are compared exactly: path, line, column, code and confidence."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from gil_advisor.api import check
from gil_advisor.config import Options

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANNOTATION = re.compile(r"#\s*expect\b")
ITEM = r"GIL\d{3}:[1-9]\d* (?:high|medium|low)"
EXPECT = re.compile(rf"# expect: (?P<items>{ITEM}(?:, {ITEM})*)$")


class Expected(NamedTuple):
    path: str  # relative to fixtures/
    line: int
    column: int
    code: str
    confidence: str


def parse_expectations(path: Path, text: str) -> list[Expected]:
    """The annotations of one file; one that does not parse is an error, never skipped."""
    out = []
    rel = str(path.relative_to(FIXTURES))
    for lineno, line in enumerate(text.splitlines(), 1):
        found = ANNOTATION.search(line)
        if found is None:
            continue
        m = EXPECT.fullmatch(line, found.start())
        if m is None:
            raise ValueError(f"{rel}:{lineno}: bad annotation {line[found.start():]!r}; write `# expect: GIL001:9 medium`")
        for item in m.group("items").split(", "):
            code_col, confidence = item.split(" ")
            code, column = code_col.split(":")
            out.append(Expected(rel, lineno, int(column), code, confidence))
    return out


def expected_findings() -> set[Expected]:
    out: set[Expected] = set()
    for path in sorted(FIXTURES.rglob("*.py")):
        out.update(parse_expectations(path, path.read_text(encoding="utf-8")))
    return out


@pytest.fixture(scope="module")
def report():
    # every confidence is pinned, low included: the calibration (docs/knowledge.md) is under test too
    return check([str(FIXTURES)], Options(min_confidence="low"))


def test_fixture_set_is_substantial():
    files = list(FIXTURES.rglob("*.py"))
    positives = {e.path for e in expected_findings()}
    assert len(files) >= 40
    assert len(positives) >= 15 and len(files) - len(positives) >= 15


def test_fixtures_match_exactly(report):
    got = {
        Expected(str(Path(f.location.path).resolve().relative_to(FIXTURES)), f.location.line, f.location.column, f.code, f.confidence)
        for f in report.findings
    }
    want = expected_findings()
    assert sorted(got - want) == [], "unexpected findings"
    assert sorted(want - got) == [], "missing findings"


@pytest.mark.parametrize(
    "line",
    [
        "x = 1  # expect: GIL001",  # the old form: no column, no confidence
        "x = 1  # expect: GIL001:9",
        "x = 1  # expect: GIL001:0 high",
        "x = 1  # expect: GIL001:9 certain",
        "x = 1  # expect: GIL001:9 high,GIL002:3 low",
        "x = 1  # expect:GIL001:9 high",
    ],
)
def test_an_annotation_that_does_not_parse_fails_loudly(line):
    with pytest.raises(ValueError, match="bad annotation"):
        parse_expectations(FIXTURES / "x.py", line + "\n")


def test_annotations_parse_every_item():
    text = "a\nx = 1  # expect: GIL002:21 high, GIL001:56 medium\n"
    assert parse_expectations(FIXTURES / "x.py", text) == [
        Expected("x.py", 2, 21, "GIL002", "high"),
        Expected("x.py", 2, 56, "GIL001", "medium"),
    ]


def test_fixtures_parse_cleanly(report):
    assert report.errors == []


@pytest.mark.parametrize("path", sorted(p.name for p in FIXTURES.glob("neg_*.py")))
def test_negative_fixture_alone_is_clean(path):
    assert check([str(FIXTURES / path)], Options(min_confidence="low")).findings == []


def _code_objects(path: Path):
    """Every code object the file compiles to (compiled only, never run)."""
    todo = [compile(path.read_text(encoding="utf-8"), str(path), "exec")]
    while todo:
        co = todo.pop()
        yield co
        todo.extend(c for c in co.co_consts if isinstance(c, type(co)))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="co_qualname is new in 3.11")
def test_every_finding_names_a_real_code_object(report):
    """worker_ref and instrument match a compiled code object exactly: the tracer needs no fallback."""
    for f in report.findings:
        if f.worker_location is None:  # a C function passed as the worker: no code object to measure
            assert f.worker_ref is None and f.instrument is None, f
            continue
        for ref in (f.worker_ref, f.instrument):
            assert ref is not None, f"{f.code} at {f.location}: a project worker without a WorkerRef"
            codes = {(co.co_firstlineno, co.co_name, co.co_qualname) for co in _code_objects(Path(ref.path))}
            assert (ref.first_line, ref.co_name, ref.co_qualname) in codes, (f.code, f.location, ref)
    assert sum(1 for f in report.findings if f.instrument is not None) >= 40


def test_busy_wait_in_a_decorated_helper_instruments_the_helper(tmp_path):
    """GIL003 hands over both functions: the spawn's worker, and the spinning helper to measure."""
    src = tmp_path / "spin.py"
    src.write_text(
        "import functools, threading\n"
        "done = False\n"
        "@functools.lru_cache()\n"
        "def wait_for_done():\n"
        "    while not done:\n"
        "        pass\n"
        "def worker():\n"
        "    wait_for_done()\n"
        "threading.Thread(target=worker).start()\n",
        encoding="utf-8",
    )
    (f,) = check([str(src)]).findings
    assert f.code == "GIL003" and f.location.line == 5
    assert (f.worker_ref.co_qualname, f.worker_ref.first_line, f.worker_ref.def_line) == ("worker", 7, 7)
    assert (f.instrument.co_qualname, f.instrument.first_line, f.instrument.def_line, f.instrument.body_line) == (
        "wait_for_done", 3, 4, 5,
    )
