"""Each rule's own VALID and INVALID examples (the docs' bad and good code) are tests."""
import textwrap

import pytest

from gil_advisor.api import check
from gil_advisor.static.rules import ALL_RULES

CASES = [(r.CODE, "invalid", i, src) for r in ALL_RULES for i, src in enumerate(r.INVALID)] + [
    (r.CODE, "valid", i, src) for r in ALL_RULES for i, src in enumerate(r.VALID)
]


@pytest.mark.parametrize("code,kind,index,source", CASES, ids=[f"{c}-{k}-{i}" for c, k, i, _ in CASES])
def test_rule_example(tmp_path, code, kind, index, source):
    path = tmp_path / "example.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    codes = {f.code for f in check([str(path)]).findings}
    if kind == "invalid":
        assert code in codes
    else:
        assert code not in codes
