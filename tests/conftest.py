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


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=25, help="hypothesmith examples for the analyzer fuzz test")
