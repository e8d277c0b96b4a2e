"""The analyzer never crashes: generated programs, and mutated fixtures."""
import codecs
import random
import tempfile
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import FIXTURES

from gil_advisor.api import check

THREADS = "from concurrent.futures import ThreadPoolExecutor\nimport threading\n"


def fuzz_settings(request):
    return settings(
        max_examples=request.config.getoption("--fuzz-examples"),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


def test_generated_modules_never_crash(request):
    @fuzz_settings(request)
    @given(source=hypothesmith.from_grammar())
    def run(source):
        with tempfile.TemporaryDirectory() as d:
            # the spawn hint makes every generated module go through the full pipeline
            Path(d, "gen.py").write_text(THREADS + source, encoding="utf-8", errors="surrogatepass")
            report = check([d])
            assert len(report.errors) <= 1
            for f in report.findings:
                assert f.code.startswith("GIL") and f.location.line >= 1

    run()


def test_generated_modules_with_thread_spawns(request):
    @fuzz_settings(request)
    @given(body=hypothesmith.from_node())
    def run(body):
        src = THREADS + body + "\nwith ThreadPoolExecutor(4) as p:\n    p.map(print, range(3))\n"
        with tempfile.TemporaryDirectory() as d:
            Path(d, "gen.py").write_text(src, encoding="utf-8", errors="surrogatepass")
            check([d])

    run()


def mutations(text: str, rng: random.Random):
    data = text.encode("utf-8")
    cut = rng.randrange(1, max(2, len(data)))
    yield "truncated", data[:cut]
    pos = rng.randrange(len(data))
    yield "random-bytes", data[:pos] + bytes(rng.randrange(256) for _ in range(8)) + data[pos:]
    yield "utf-16", codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    yield "nul", data[:pos] + b"\0" + data[pos:]
    yield "deeply-nested", data + b"\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n"
    yield "deep-blocks", data + b"\n" + b"".join(b" " * i + b"if x:\n" for i in range(120)) + b" " * 120 + b"pass\n"


@pytest.mark.parametrize("seed", range(3))
def test_mutated_fixtures_one_diagnostic_each_and_the_rest_intact(tmp_path, seed):
    rng = random.Random(seed)
    sources = sorted(FIXTURES.glob("pos_*.py"))[seed * 5:(seed + 1) * 5]
    for src in sources:
        (tmp_path / src.name).write_text(src.read_text())
    baseline = {(Path(f.location.path).name, f.line if hasattr(f, "line") else f.location.line, f.code) for f in check([str(tmp_path)]).findings}
    mutated = set()
    for src in sources:
        for kind, data in mutations(src.read_text(), rng):
            name = f"mut_{kind}_{src.name}"
            (tmp_path / name).write_bytes(data)
            mutated.add(name)
    report = check([str(tmp_path)])
    errors_by_file = {}
    for e in report.errors:
        errors_by_file.setdefault(Path(e.path).name, []).append(e.message)
    assert all(len(v) == 1 for v in errors_by_file.values())
    assert set(errors_by_file) <= mutated
    for kind in ("utf-16", "nul", "deeply-nested", "deep-blocks"):
        assert all(f"mut_{kind}_{s.name}" in errors_by_file for s in sources), kind
    intact = {(Path(f.location.path).name, f.location.line, f.code) for f in report.findings if not Path(f.location.path).name.startswith("mut_")}
    assert intact == baseline


def test_analysed_code_never_runs(tmp_path):
    marker = tmp_path / "ran"
    evil = (
        f"import os, threading\nopen({str(marker)!r}, 'w').write('x')\n"
        "os._exit(7)\n"
        "def work(n):\n    return sum(i * i for i in range(n))\n"
        "threads = [threading.Thread(target=work, args=(10,)) for _ in range(4)]\n"
    )
    (tmp_path / "evil.py").write_text(evil)
    (tmp_path / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w')\n")
    (tmp_path / "conftest.py").write_text(f"open({str(marker)!r}, 'w')\n")
    report = check([str(tmp_path)])
    assert [f.code for f in report.findings] == ["GIL001"]
    assert not marker.exists()
