"""The HTML report and the Perfetto timeline, from a real traced run, opened in a real browser."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

WORKLOAD = '''
import threading, time

def crunch(n):
    t = 0
    for i in range(n):
        t += i * i % 7
    return t

def poll():
    for _ in range(20):
        time.sleep(0.02)

if __name__ == "__main__":
    threads = [threading.Thread(target=crunch, args=(1_500_000,)) for _ in range(2)]
    threads.append(threading.Thread(target=poll))
    for t in threads: t.start()
    for t in threads: t.join()
'''

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    (d / "mixed.py").write_text(WORKLOAD)
    r = subprocess.run(
        [sys.executable, "-m", "gil_advisor", "trace", "-q", "--html", "report.html", "--timeline", "timeline.json",
         "--json", "report.json", "mixed.py"],
        cwd=d, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return d


def test_timeline_is_chrome_trace_format(traced):
    data = json.loads((traced / "timeline.json").read_text())
    report = json.loads((traced / "report.json").read_text())
    events = data["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"MainThread"} <= names and len(names) == len(report["threads"])
    spans = [e for e in events if e["ph"] == "X"]
    assert spans and all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    states = {e["name"] for e in spans}
    assert "running" in states and "blocked in I/O or sleep" in states


def test_html_is_self_contained(traced):
    page = (traced / "report.html").read_text()
    bare = page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace name, never fetched
    assert "http://" not in bare and "https://" not in bare
    assert "<script src" not in page and "<link" not in page
    assert "mixed.crunch" in page and any(v in page for v in ("confirmed", "refuted", "inconclusive", "not-exercised"))
    assert oct(os.stat(traced / "report.html").st_mode & 0o777) != "0o600"


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
def test_html_loads_in_a_browser_and_draws_every_thread(traced, tmp_path):
    report = json.loads((traced / "report.json").read_text())
    url = (traced / "report.html").as_uri()
    r = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert f'data-threads-drawn="{len(report["threads"])}"' in r.stdout  # the page's script ran
    assert r.stdout.count('class="thread"') == len(report["threads"])
    assert "Uncaught" not in r.stderr
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1280,900",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("GIL_ADVISOR_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "trace-report.png")
