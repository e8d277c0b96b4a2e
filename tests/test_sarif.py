"""`--format sarif`: the real analyzer's report, validated against the OASIS SARIF 2.1.0 schema."""
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, run_cli
from gil_advisor import __version__
from gil_advisor.api import check
from gil_advisor.codes import RULES
from gil_advisor.output import sarif

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
POS = FIXTURES / "pos_tpe_with_map.py"
SYNTAX_ERROR_WITH_SPAWN = (
    "import threading\n\n"
    "def work(:\n    pass\n\nthreading.Thread(target=work).start()\n"
)


def validate(log: dict) -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    validator = cls(SCHEMA, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def fixtures_report():
    return check([str(FIXTURES)])


@pytest.fixture
def fixtures_log(fixtures_report, monkeypatch):
    monkeypatch.chdir(ROOT)
    return json.loads(sarif.render(fixtures_report))


def _run(log):
    assert len(log["runs"]) == 1
    return log["runs"][0]


def _uri(result):
    return result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def _result_for(log, filename):
    return next(r for r in _run(log)["results"] if _uri(r).endswith(filename))


def test_fixtures_log_is_valid_sarif(fixtures_log):
    validate(fixtures_log)
    assert fixtures_log["version"] == "2.1.0"
    assert fixtures_log["$schema"].endswith("sarif-schema-2.1.0.json")


def test_driver_and_rules(fixtures_log):
    driver = _run(fixtures_log)["tool"]["driver"]
    assert driver["name"] == "gil-advisor"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    for rule in driver["rules"]:
        spec = RULES[rule["id"]]
        assert rule["name"] == spec.name
        assert rule["shortDescription"]["text"] == spec.summary
        assert rule["fullDescription"]["text"] == spec.why
        anchor = spec.code.lower()
        uri = "https://github.com/gil-advisor/gil-advisor/blob/main/docs/rules.md#" + anchor
        assert rule["helpUri"] == uri
        assert rule["defaultConfiguration"]["level"] == "warning"
        assert rule["properties"]["tags"]


def test_one_result_per_finding(fixtures_report, fixtures_log):
    run = _run(fixtures_log)
    results = run["results"]
    assert len(fixtures_report.findings) > 10
    assert len(results) == len(fixtures_report.findings)
    assert sorted(r["ruleId"] for r in results) == sorted(f.code for f in fixtures_report.findings)
    for r in results:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "warning"
        assert r["message"]["text"]
        assert r["properties"]["confidence"] in ("high", "medium", "low")
        assert r["properties"]["remedies"]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["invocations"][0]["toolExecutionNotifications"] == []


def test_locations_and_evidence_chain(fixtures_report, fixtures_log):
    r = _result_for(fixtures_log, "pos_tpe_with_map.py")
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "fixtures/pos_tpe_with_map.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 23, "startColumn": 21}
    assert r["ruleId"] == "GIL001"
    assert r["properties"]["worker"] == "pos_tpe_with_map.mandelbrot_row"
    assert r["properties"]["remedies"][0]["kind"] == "processes"

    finding = next(f for f in fixtures_report.findings if f.location.path.endswith("pos_tpe_with_map.py"))
    related = r["relatedLocations"]
    assert [x["id"] for x in related] == list(range(len(finding.evidence)))
    assert [x["message"]["text"] for x in related] == [f"{e.kind}: {e.description}" for e in finding.evidence]
    assert related[0]["message"]["text"].startswith("spawn: ThreadPoolExecutor.map")
    assert related[1]["physicalLocation"]["region"]["startLine"] == 7  # def mandelbrot_row
    assert all(x["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for x in related)


def test_cross_module_evidence_points_at_the_other_file(fixtures_log):
    r = _result_for(fixtures_log, "crossmod_abs/main.py")
    uris = {x["physicalLocation"]["artifactLocation"]["uri"] for x in r["relatedLocations"]}
    assert "fixtures/crossmod_abs/workers.py" in uris


def test_fingerprints_are_unique_and_ignore_the_line(tmp_path, monkeypatch):
    src = POS.read_text(encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "job.py").write_text(src, encoding="utf-8")
    (tmp_path / "b" / "job.py").write_text("# moved down\n" * 3 + src, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "a")
    before = _run(json.loads(sarif.render(check(["job.py"]))))["results"][0]
    monkeypatch.chdir(tmp_path / "b")
    after = _run(json.loads(sarif.render(check(["job.py"]))))["results"][0]

    def line(result):
        return result["locations"][0]["physicalLocation"]["region"]["startLine"]

    assert line(after) == line(before) + 3
    assert after["partialFingerprints"] == before["partialFingerprints"]


def test_fingerprints_unique_across_fixtures(fixtures_log):
    prints = [tuple(sorted(r["partialFingerprints"].items())) for r in _run(fixtures_log)["results"]]
    assert len(set(prints)) == len(prints)


def test_file_error_becomes_a_notification(tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text(SYNTAX_ERROR_WITH_SPAWN, encoding="utf-8")
    shutil.copy(POS, tmp_path / "job.py")
    monkeypatch.chdir(tmp_path)
    report = check(["broken.py", "job.py"])
    assert len(report.errors) == 1
    log = json.loads(sarif.render(report))
    validate(log)
    run = _run(log)
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "broken.py" in note["message"]["text"] and "syntax" in note["message"]["text"]
    art = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": "broken.py", "uriBaseId": "%SRCROOT%"}
    assert [_uri(r) for r in run["results"]] == ["job.py"]


def test_paths_outside_the_current_directory_become_file_uris(tmp_path, monkeypatch):
    shutil.copy(POS, tmp_path / "job.py")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    log = json.loads(sarif.render(check([str(tmp_path / "job.py")])))
    validate(log)
    art = _run(log)["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": (tmp_path / "job.py").as_uri()}


def test_uris_are_percent_encoded(tmp_path, monkeypatch):
    (tmp_path / "my dir").mkdir()
    shutil.copy(POS, tmp_path / "my dir" / "job #1.py")
    monkeypatch.chdir(tmp_path)
    log = json.loads(sarif.render(check(["my dir/job #1.py"])))
    validate(log)
    art = _run(log)["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art["uri"] == "my%20dir/job%20%231.py"


def test_empty_report_is_valid(tmp_path, monkeypatch):
    (tmp_path / "clean.py").write_text("print('hello')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    log = json.loads(sarif.render(check(["clean.py"])))
    validate(log)
    assert _run(log)["results"] == []


def test_cli_sarif_format():
    r = run_cli("check", "--format", "sarif", POS, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    log = json.loads(r.stdout)
    validate(log)
    (result,) = _run(log)["results"]
    assert _uri(result) == "fixtures/pos_tpe_with_map.py"
