"""Each rule's own examples (the docs' bad and good code) are tests; docs/rules.md is current."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gil_advisor.api import check
from gil_advisor.codes import RULES
from gil_advisor.explain import explain, listing, markdown
from gil_advisor.static.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
STATIC = [r for r in RULES.values() if not r.runtime_only]
CASES = [(r.code, "invalid", i, ex.code) for r in STATIC for i, ex in enumerate(r.invalid)] + [
    (r.code, "valid", i, ex.code) for r in STATIC for i, ex in enumerate(r.valid)
]
CODE = re.compile(r"\bGIL\d{3}\b")


@pytest.mark.parametrize("code,kind,index,source", CASES, ids=[f"{c}-{k}-{i}" for c, k, i, _ in CASES])
def test_rule_example(tmp_path, code, kind, index, source):
    path = tmp_path / "example.py"
    path.write_text(source, encoding="utf-8")
    codes = {f.code for f in check([str(path)]).findings}
    if kind == "invalid":
        assert code in codes
    else:
        assert code not in codes


def test_every_rule_is_complete():
    for rule in RULES.values():
        assert rule.invalid and rule.valid and rule.remedies, rule.code
        for text in (rule.summary, rule.message, rule.what, rule.why, rule.known_problems, rule.confirm):
            assert text.strip(), rule.code


def test_static_checks_and_rules_match():
    """Every static check has a rule; every rule has a check, or is reported at run time only."""
    checked = [c.CODE for c in ALL_RULES]
    assert len(checked) == len(set(checked))
    assert set(checked) == {r.code for r in STATIC}
    assert RULES["GIL101"].runtime_only


def test_docs_page_is_current():
    """docs/rules.md is generated: regenerate with `python -m gil_advisor.explain --markdown -o docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == markdown()


def test_every_code_used_is_documented_and_every_documented_code_exists():
    used = set()
    for path in [*(ROOT / "gil_advisor").rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md", *(ROOT / "fixtures").rglob("*.py")]:
        used |= set(CODE.findall(path.read_text(encoding="utf-8")))
    assert used - set(RULES) == set(), "codes used but not in the rulebook"
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    documented = set(re.findall(r'<a id="(gil\d{3})"></a>\s+## (GIL\d{3}):', page))
    assert {a for a, _ in documented} == {c.lower() for c in RULES}
    assert {c for _, c in documented} == set(RULES)


def test_explain_lists_every_rule_and_points_somewhere_installed():
    text = listing()
    for rule in RULES.values():
        assert f"{rule.code}  {rule.name}" in text and rule.summary in text
    tail = explain("GIL001").rstrip().splitlines()[-2:]
    assert "gil-advisor explain --all" in " ".join(tail)
    assert "docs/" not in " ".join(tail)  # not a path that exists only in the repository


def test_explain_cli_without_a_code_lists_rules_and_all_prints_them():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "gil_advisor", "explain", *args], capture_output=True, text=True, timeout=60)

    r = run()
    assert r.returncode == 0 and r.stdout == listing()
    r = run("--all")
    assert r.returncode == 0
    assert [line.split()[0] for line in r.stdout.splitlines() if re.match(r"GIL\d{3} \(", line)] == list(RULES)
    r = run("gil101")
    assert r.returncode == 0 and "gil-advisor trace" in r.stdout
