import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def write(tmp_path):
    """Write a small project: write({"pkg/__init__.py": "", "pkg/a.py": src}) -> tmp_path."""

    def _write(files: dict) -> Path:
        for rel, text in files.items():
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                p.write_bytes(text)
            else:
                p.write_text(text, encoding="utf-8")
        return tmp_path

    return _write


def run_cli(*args, cwd=None, timeout=120):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "gil_advisor", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# End-to-end tests: they run the real CLI, flake8 or the tracer in a subprocess, drive a
# browser, or build wheels. `pytest -m "not e2e"` is the quick unit run (seconds).
E2E_MODULES = frozenset({
    "test_cli", "test_cli_ux", "test_flake8", "test_packaging", "test_precommit", "test_progress",
    "test_safety_check", "test_trace_closure", "test_trace_hostile", "test_trace_html",
    "test_trace_process", "test_trace_runtime",
})
# Single tests of otherwise quick modules, as "module::test".
E2E_TESTS = frozenset({
    "test_bad_input::test_cli_keeps_exit_code_and_reports_errors_without_traceback",
    "test_cache::test_cli_cache_flags",
    "test_github_format::test_cli_github_format",
    "test_sarif::test_cli_sarif_format",
    "test_rule_examples::test_explain_cli_without_a_code_lists_rules_and_all_prints_them",
    "test_dependencies_and_resolution::test_show_spawns_explains_every_site",
    "test_options::test_check_and_trace_apply_the_same_configuration",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module in E2E_MODULES or f"{module}::{item.originalname}" in E2E_TESTS:
            item.add_marker(pytest.mark.e2e)


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=25, help="hypothesmith examples for the analyzer fuzz test")
