"""Score `gil-advisor check` on real PyPI packages against sites labelled by reading the code.

    python benchmarks/corpus/score.py [--cache DIR] [--tool CMD] [--min-confidence LEVEL]

Each row of cases.tsv names a spawn site in a pinned release (see README.md here). The script
downloads each release once (the file pip would fetch with `pip download --no-deps`, taken from
PyPI's simple index so that no build step runs) into the cache, unpacks it, runs the
installed gil-advisor on it, and counts a site as flagged when a finding is in the same file
within 3 lines of the site's line, or, for a Thread subclass, inside the class or naming a
worker defined inside it. It prints misses and false alarms by spawn kind and ends with one line:

    corpus: precision P recall R (tp N fp N fn N tn N; K packages)
"""
from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor  # pip and gil-advisor run as subprocesses: I/O for us
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.tsv"
HEADER = ["id", "package", "version", "dist_kind", "path", "line", "spawn_kind", "worker", "label", "rationale"]
WINDOW = 3
INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class Case:
    id: str
    package: str
    version: str
    dist_kind: str
    path: str
    line: int
    spawn_kind: str
    worker: str
    label: str
    rationale: str

    @property
    def release(self) -> tuple[str, str, str]:
        return (self.package, self.version, self.dist_kind)


def read_cases(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or rows[0] != HEADER:
        raise SystemExit(f"{path}: the first row must be the header: {' '.join(HEADER)}")
    out = []
    for n, row in enumerate(rows[1:], 2):
        if not row or not any(row):
            continue
        if len(row) != len(HEADER):
            raise SystemExit(f"{path}:{n}: {len(row)} fields, expected {len(HEADER)}")
        d = dict(zip(HEADER, row))
        if d["label"] not in ("TP", "TN", "UNCLEAR") or d["dist_kind"] not in ("wheel", "sdist"):
            raise SystemExit(f"{path}:{n}: bad label or dist_kind")
        out.append(Case(**{**d, "line": int(d["line"])}))
    return out


def _safe_members_zip(zf: zipfile.ZipFile, dest: Path) -> None:
    for name in zf.namelist():
        target = (dest / name).resolve()
        if not str(target).startswith(str(dest.resolve()) + os.sep) and target != dest.resolve():
            raise RuntimeError(f"unsafe path in archive: {name}")
    zf.extractall(dest)


def _untar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tf:
        members = []
        for m in tf.getmembers():
            target = (dest / m.name).resolve()
            if not str(target).startswith(str(dest.resolve()) + os.sep) or m.issym() or m.islnk() or m.isdev():
                continue
            members.append(m)
        tf.extractall(dest, members=members)


def _pick_file(package: str, version: str, kind: str) -> tuple[str, str, str]:
    """(filename, url, sha256) of the release's pure-Python wheel or its sdist, from PyPI's
    simple index (PEP 691). `pip download` would build an sdist's metadata, running its
    setup code; downloading the file itself runs nothing."""
    req = urllib.request.Request(
        f"{INDEX}/{package.lower().replace('_', '-')}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        files = json.load(resp)["files"]
    norm = package.lower().replace("-", "_").replace(".", "_")
    for f in files:
        name = f["filename"]
        stem = name.lower().replace("-", "_")
        if kind == "wheel" and name.endswith(".whl") and stem.startswith(f"{norm}_{version}_") and "none_any" in stem:
            return name, f["url"], f["hashes"].get("sha256", "")
        if kind == "sdist" and name.endswith((".tar.gz", ".zip", ".tar.bz2")) and stem[: -len(".tar.gz")].startswith(f"{norm}_{version}"):
            rest = stem[len(f"{norm}_{version}"):]
            if rest.startswith("."):
                return name, f["url"], f["hashes"].get("sha256", "")
    raise RuntimeError(f"no pure-Python {kind} of {package}=={version} on PyPI")


def fetch(package: str, version: str, kind: str, cache: Path) -> Path:
    """The unpacked release (wheel root, or sdist without its top folder)."""
    root = cache / "src" / f"{package}-{version}-{kind}"
    if (root / ".complete").exists():
        return root
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    name, url, sha = _pick_file(package, version, kind)
    archive = dl / name
    if not archive.exists():
        with urllib.request.urlopen(url, timeout=300) as resp:
            data = resp.read()
        if sha and hashlib.sha256(data).hexdigest() != sha:
            raise RuntimeError(f"{name}: sha256 does not match the index")
        part = archive.with_name(archive.name + ".part")
        part.write_bytes(data)
        part.rename(archive)
    if root.exists():
        shutil.rmtree(root)
    tmp = root.with_name(root.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            _safe_members_zip(zf, tmp)
    else:
        _untar(archive, tmp)
    tops = list(tmp.iterdir())
    if kind == "sdist" and len(tops) == 1 and tops[0].is_dir():
        tops[0].rename(root)
        shutil.rmtree(tmp)
    else:
        tmp.rename(root)
    (root / ".complete").write_text("")
    return root


def run_tool(tool: list[str], root: Path, extra: list[str]) -> list[dict]:
    """Findings of one run, with paths relative to the package root."""
    cmd = tool + ["check", "--format", "json", "--no-cache", *extra, "."]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=1800)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} in {root} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout)
    out = []
    for f in data["findings"]:
        f = dict(f)
        f["path"] = os.path.normpath(f["path"])
        wl = f.get("worker_location") or {}
        if wl.get("path"):
            wl = dict(wl, path=os.path.normpath(wl["path"]))
        f["worker_location"] = wl
        out.append(f)
    return out


def class_span(root: Path, case: Case) -> Optional[tuple[int, int]]:
    """Lines of the Thread subclass whose `class` line the case gives."""
    try:
        tree = ast.parse((root / case.path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.lineno == case.line:
            return node.lineno, getattr(node, "end_lineno", node.lineno)
    return None


def flagged(case: Case, findings: list[dict], root: Path) -> bool:
    path = os.path.normpath(case.path)
    span = class_span(root, case) if case.spawn_kind == "Thread-subclass" else None
    for f in findings:
        if f["path"] == path and abs(f["line"] - case.line) <= WINDOW:
            return True
        if span and f["path"] == path and span[0] <= f["line"] <= span[1]:
            return True
        wl = f.get("worker_location") or {}
        if span and wl.get("path") == path and span[0] <= wl.get("line", 0) <= span[1]:
            return True
    return False


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=os.environ.get("GIL_ADVISOR_CORPUS_CACHE", str(Path.home() / ".cache" / "gil-advisor-corpus")))
    ap.add_argument("--cases", default=str(CASES))
    ap.add_argument("--tool", default="gil-advisor", help="command that runs gil-advisor (default: gil-advisor on PATH)")
    ap.add_argument("--min-confidence", choices=("low", "medium", "high"), help="passed to check (default: the tool's default)")
    ap.add_argument("--jobs", type=int, default=4, help="packages fetched and checked at once")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every site")
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    cases = read_cases(Path(args.cases))
    tool = shlex.split(args.tool)
    found = shutil.which(tool[0])
    # the tool runs in each package's folder: make its path absolute first
    tool = [os.path.abspath(found)] + tool[1:] if found else [sys.executable, "-m", "gil_advisor"]
    extra = ["--min-confidence", args.min_confidence] if args.min_confidence else []

    releases = sorted({c.release for c in cases})
    results: dict[tuple, tuple[Optional[Path], list[dict], str]] = {}

    def one(rel):
        try:
            root = fetch(*rel, cache)
            return rel, root, run_tool(tool, root, extra), ""
        except Exception as exc:  # one bad release must not stop the benchmark
            return rel, None, [], f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for rel, root, findings, err in pool.map(one, releases):
            results[rel] = (root, findings, err)

    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    misses, alarms, failed = [], [], []
    for c in cases:
        root, findings, err = results[c.release]
        if err:
            failed.append((c, err))
            continue
        if c.label == "UNCLEAR":
            continue
        hit = flagged(c, findings, root)
        key = {("TP", True): "tp", ("TP", False): "fn", ("TN", True): "fp", ("TN", False): "tn"}[(c.label, hit)]
        counts[key] += 1
        by_kind[c.spawn_kind][key] += 1
        if key == "fn":
            misses.append(c)
        elif key == "fp":
            alarms.append(c)
        if args.verbose:
            print(f"{key.upper():3} {c.id:8} {c.package}=={c.version} {c.path}:{c.line} {c.worker}")

    print(f"{'spawn kind':<22}{'tp':>5}{'fp':>5}{'fn':>5}{'tn':>5}  precision  recall")
    for kind in sorted(by_kind):
        k = by_kind[kind]
        p = k["tp"] / (k["tp"] + k["fp"]) if k["tp"] + k["fp"] else float("nan")
        r = k["tp"] / (k["tp"] + k["fn"]) if k["tp"] + k["fn"] else float("nan")
        print(f"{kind:<22}{k['tp']:>5}{k['fp']:>5}{k['fn']:>5}{k['tn']:>5}  {p:9.2f}  {r:6.2f}")
    for title, rows in (("misses (TP not flagged)", misses), ("false alarms (TN flagged)", alarms)):
        if rows:
            print(f"\n{title}:")
            for c in rows:
                print(f"  {c.id} {c.package}=={c.version} {c.path}:{c.line} [{c.spawn_kind}] {c.worker}: {c.rationale}")
    if failed:
        print("\nnot scored (fetch or check failed):")
        for c, err in failed:
            print(f"  {c.id} {c.package}=={c.version}: {err}")
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    packages = len({c.package for c in cases if results[c.release][2] == ""})
    print(f"\ncorpus: precision {precision:.2f} recall {recall:.2f} (tp {tp} fp {fp} fn {fn} tn {tn}; {packages} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
