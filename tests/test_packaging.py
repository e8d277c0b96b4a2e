"""`python -m build` makes a clean wheel and sdist with the entry points and one version."""
import subprocess
import sys
import tarfile
import zipfile

import pytest

from conftest import ROOT

import gil_advisor

pytest.importorskip("build")
pytest.importorskip("setuptools")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out


def test_wheel_contents_and_entry_points(dist):
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"gil_advisor-{gil_advisor.__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        entry = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        meta = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "gil-advisor = gil_advisor.cli:main" in entry
    assert "GIL = gil_advisor.flake8_plugin:GilAdvisorPlugin" in entry
    assert any(n.startswith("gil_advisor/runtime/") for n in names)
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert all(r.split()[1].split(">")[0].split(";")[0] in ("libcst", "tomli") for r in core), core
    assert any("psutil" in r and 'extra == "trace"' in r for r in requires)


def test_sdist_has_changelog_and_license(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as t:
        names = t.getnames()
    assert any(n.endswith("CHANGELOG.md") for n in names)
    assert any(n.endswith("LICENSE") for n in names)
