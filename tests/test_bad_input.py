"""Bad files get one clear diagnostic each; the run goes on and nothing else is lost."""
import json

from conftest import FIXTURES, run_cli

from gil_advisor.api import check
from gil_advisor.config import Config

GOOD = (FIXTURES / "pos_tpe_with_map.py").read_text()


def test_each_bad_file_one_diagnostic_and_the_rest_analysed(write):
    root = write(
        {
            "good.py": GOOD,
            "syntax.py": "from threading import Thread\ndef f(:\n    pass\n",
            "latin.py": "from threading import Thread\nname = '\xe9t\xe9'\n".encode("latin-1"),
            "nulls.py": b"from threading import Thread\x00\nx = 1\n",
            "deep.py": "from threading import Thread\nx = " + "[" * 10_000 + "]" * 10_000 + "\n",
            "deep_calls.py": "from threading import Thread\nx = " + "f(" * 3000 + ")" * 3000 + "\n",
            "bad_cookie.py": b"# -*- coding: nonsense -*-\nfrom threading import Thread\n",
        }
    )
    report = check([str(root)])
    by_file = {}
    for e in report.errors:
        by_file.setdefault(e.path.rsplit("/", 1)[-1], []).append(e.message)
    assert sorted(by_file) == ["bad_cookie.py", "deep.py", "deep_calls.py", "latin.py", "nulls.py", "syntax.py"]
    assert all(len(v) == 1 for v in by_file.values())
    assert "syntax error" in by_file["syntax.py"][0] and "line 2" in by_file["syntax.py"][0]
    assert "utf-8" in by_file["latin.py"][0]
    assert "null bytes" in by_file["nulls.py"][0]
    assert [f.location.path.rsplit("/", 1)[-1] for f in report.findings] == ["good.py"]


def test_huge_file_is_skipped_with_a_diagnostic(write):
    body = "from threading import Thread\n" + "x = 1\n" * 2_000_000
    root = write({"huge.py": body, "good.py": GOOD})
    report = check([str(root)], Config(max_file_size=5_000_000))
    assert len(report.errors) == 1 and "max-file-size" in report.errors[0].message
    assert len(report.findings) == 1


def test_generated_50mb_module_without_threads_costs_nothing(write):
    root = write({"gen.py": "DATA = [\n" + "    1234567890,\n" * 3_300_000 + "]\n", "good.py": GOOD})
    report = check([str(root)], Config(max_file_size=100_000_000))
    assert report.errors == [] and len(report.findings) == 1


def test_cli_keeps_exit_code_and_reports_errors_without_traceback(write):
    root = write({"syntax.py": "from threading import Thread\nclass (:\n"})
    r = run_cli("check", root)
    assert r.returncode == 0
    assert "syntax.py: error: syntax error" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("check", "--format", "json", root)
    data = json.loads(r.stdout)
    assert data["findings"] == [] and len(data["errors"]) == 1


def test_unreadable_directory_entries_are_reported(write):
    root = write({"good.py": GOOD})
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    report = check([str(root)])
    assert len(report.findings) == 1
    assert [e.message.split(":")[0] for e in report.errors] == ["cannot read"]


def test_default_size_limit_keeps_one_file_under_a_gigabyte_and_says_why(write):
    """libcst peaks at 0.6-1 GB per MB of source (benchmarks/parse_memory.py): a 1.5 MB module
    that mentions threads is skipped by default, with the size, the limit and the way out."""
    body = "from threading import Thread\n" + "x = [1, 2, 3]\n" * 110_000
    root = write({"big.py": body, "good.py": GOOD})
    report = check([str(root)])
    (err,) = report.errors
    assert err.path.endswith("big.py")
    assert f"{len(body):,} bytes" in err.message and "limit of 1,000,000 bytes" in err.message
    assert "raise max-file-size" in err.message and "memory" in err.message
    assert len(report.findings) == 1


def test_valid_files_beyond_the_parsers_limits_are_skipped_not_called_unparsable(write):
    """Valid Python that is too deep for ast's recursion limit or too long for libcst's parser
    is one "skipped" diagnostic; "cannot parse" or "syntax error" would blame a valid file."""
    root = write(
        {
            "adds.py": "from threading import Thread\nx = 1" + " + 1" * 20_000 + "\n",
            "elifs.py": "from threading import Thread\nif x:\n  pass\n" + "elif x:\n  pass\n" * 3000,
            "strs.py": "from threading import Thread\nx = " + " ".join(['"a"'] * 30_000) + "\n",
            "good.py": GOOD,
        }
    )
    report = check([str(root)])
    messages = {e.path.rsplit("/", 1)[-1]: e.message for e in report.errors}
    assert sorted(messages) == ["adds.py", "elifs.py", "strs.py"]
    for name, message in messages.items():
        assert message.startswith("skipped: "), (name, message)
        assert "cannot parse" not in message and "syntax error" not in message
    assert len(report.findings) == 1
