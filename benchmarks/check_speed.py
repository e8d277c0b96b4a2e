"""How fast is `gil-advisor check` on a real tree, against flake8 on the same tree, same run.

    python benchmarks/check_speed.py [TREE] [--skip-flake8]

TREE defaults to this interpreter's standard library. Prints one table: wall time, files/s,
MB/s, peak memory of each run, and the ratio to `flake8 -j1` (targets: cold <= 0.25x,
warm <= 0.05x, peak memory < 500 MB).

The `gil-advisor check` runs use the default configuration, with dependencies followed
(`follow_dependencies`); the header says where they were looked up. A configuration file
that turns following off makes the benchmark stop rather than measure something else.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time


# The reference is flake8's own checkers. gil-advisor's flake8 plugin is installed in the same
# environment and would run inside `flake8 -j1` (with dependencies followed it costs flake8 about
# as much again), which would make every ratio look better than it is: leave it out.
FLAKE8_WITHOUT_GIL_ADVISOR = [
    sys.executable, "-c",
    "import sys\n"
    "from flake8.plugins import finder\n"
    "found = finder.find_plugins\n"
    "finder.find_plugins = lambda cfg, opts: [p for p in found(cfg, opts) if p.package != 'gil-advisor']\n"
    "from flake8.main.cli import main\n"
    "sys.exit(main())\n",
]


def tree_size(tree: str) -> tuple[int, float]:
    from gil_advisor.static.project import discover

    files = discover([tree])
    return len(files), sum(os.path.getsize(f) for f in files) / 1e6


def dependency_setup(tree: str) -> str:
    """How the measured runs resolve imports, in words; raises SystemExit if they would not
    follow dependencies (the figures are only comparable for the default configuration)."""
    from gil_advisor.config import resolve
    from gil_advisor.static.environment import library_roots

    options = resolve([tree])
    if not options.follow_dependencies:
        raise SystemExit(f"check_speed: {options.source or 'the configuration'} turns follow-dependencies off; "
                         "the benchmark measures the default (dependencies followed)")
    roots, where = library_roots([tree], options.python)
    return f"dependencies followed: {len(roots)} site-packages folder(s) from {where}"


def timed(cmd: list[str], cwd: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB of the child, exit code."""
    t = time.perf_counter()
    # ru_maxrss of RUSAGE_CHILDREN is the max over all children waited for so far: wrap each
    # measurement in a fresh interpreter so that its own peak is what we read.
    proc = subprocess.run(
        [sys.executable, "-c", "import resource,subprocess,sys;r=subprocess.run(sys.argv[1:]).returncode;"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);sys.exit(r)", *cmd],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    wall = time.perf_counter() - t
    try:
        peak_kb = int(proc.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        peak_kb = 0
    return wall, peak_kb / 1024, proc.returncode


def plugin_cost(tree: str) -> tuple[int, float, int, float]:
    """The flake8 plugin's own time per file, split by files with and without threads."""
    from gil_advisor.flake8_plugin import GilAdvisorPlugin
    from gil_advisor.static.project import discover, has_spawn_hint

    plain = spawny = 0
    t_plain = t_spawny = 0.0
    for path in discover([tree]):
        with open(path, "rb") as fh:
            data = fh.read()
        lines = data.decode("utf-8", "replace").splitlines(True)
        t = time.perf_counter()
        list(GilAdvisorPlugin(None, path, lines).run())
        dt = time.perf_counter() - t
        if has_spawn_hint(data):
            spawny, t_spawny = spawny + 1, t_spawny + dt
        else:
            plain, t_plain = plain + 1, t_plain + dt
    return plain, t_plain, spawny, t_spawny


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--skip-flake8", action="store_true")
    args = ap.parse_args()
    tree = os.path.abspath(args.tree)
    n_files, mb = tree_size(tree)
    deps = dependency_setup(tree)
    load_before = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="gil-bench-")
    cache = os.path.join(work, "cache")
    exe = [sys.executable, "-m", "gil_advisor", "check", "-q", "--no-progress", tree]
    runs = [
        ("gil-advisor cold (cache empty, deps followed)", exe + ["--cache-dir", cache]),
        ("gil-advisor warm (cached, deps followed)", exe + ["--cache-dir", cache]),
        ("gil-advisor --jobs 1 --no-cache (deps followed)", exe + ["--jobs", "1", "--no-cache"]),
    ]
    if not args.skip_flake8:
        runs.append(("flake8 -j1 (pyflakes, pycodestyle, mccabe; not our plugin)",
                     [*FLAKE8_WITHOUT_GIL_ADVISOR, "-j1", "--exit-zero", "--extend-exclude", "site-packages", tree]))
    results = []
    for name, cmd in runs:
        wall, peak, rc = timed(cmd, work)
        results.append((name, wall, peak, rc))
        print(f"  ran {name}: {wall:.1f}s", file=sys.stderr)
    ref = next((w for n, w, _, _ in results if n.startswith("flake8")), None)
    load = f"{load_before:.2f} before, " + "/".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min) after"
    print(f"\ntree: {tree}  ({n_files} files, {mb:.1f} MB), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{deps}; load average {load}\n")
    print("| run | wall s | files/s | MB/s | peak MB | vs flake8 -j1 |")
    print("|---|---|---|---|---|---|")
    for name, wall, peak, rc in results:
        ratio = f"{wall / ref:.3f}x" if ref else "-"
        print(f"| {name} | {wall:.1f} | {n_files / wall:.0f} | {mb / wall:.2f} | {peak:.0f} | {ratio} |")
    shutil.rmtree(work, ignore_errors=True)
    plain, t_plain, spawny, t_spawny = plugin_cost(tree)
    print(f"\nflake8 plugin, in process: {plain} files without threads at {1e6 * t_plain / max(plain, 1):.0f} us/file; "
          f"{spawny} files with threads at {1e3 * t_spawny / max(spawny, 1):.0f} ms/file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
