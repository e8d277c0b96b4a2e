"""Every fixture carries its expected findings inline (`# expect: GIL001`); compare exactly."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gil_advisor.api import check

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GIL\d{3}(?:\s*,\s*GIL\d{3})*)")


def expected_findings() -> set[tuple[str, int, str]]:
    out = set()
    for path in sorted(FIXTURES.rglob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                for code in re.split(r"\s*,\s*", m.group("codes")):
                    out.add((str(path.relative_to(FIXTURES)), lineno, code))
    return out


@pytest.fixture(scope="module")
def report():
    return check([str(FIXTURES)])


def test_fixture_set_is_substantial():
    files = list(FIXTURES.rglob("*.py"))
    positives = {p for p, _, _ in expected_findings()}
    assert len(files) >= 40
    assert len(positives) >= 15 and len(files) - len(positives) >= 15


def test_fixtures_match_exactly(report):
    got = {
        (str(Path(f.location.path).resolve().relative_to(FIXTURES)), f.location.line, f.code)
        for f in report.findings
    }
    want = expected_findings()
    assert sorted(got - want) == [], "unexpected findings"
    assert sorted(want - got) == [], "missing findings"


def test_fixtures_parse_cleanly(report):
    assert report.errors == []


@pytest.mark.parametrize("path", sorted(p.name for p in FIXTURES.glob("neg_*.py")))
def test_negative_fixture_alone_is_clean(path):
    assert check([str(FIXTURES / path)]).findings == []
