"""One analysis run: summarise the files that can matter, link, run the rules, filter."""
from __future__ import annotations

import os
from typing import Iterator, Optional

from gil_advisor.config import Config
from gil_advisor.finding import Evidence, FileError, Finding, Location, Report
from gil_advisor.knowledge import Knowledge
from gil_advisor.static.cache import Cache, ensure_tag
from gil_advisor.static.classify import UNKNOWN, WorkClassifier, WorkSummary
from gil_advisor.static.project import Project, discover, summarise_file
from gil_advisor.static.resolve import FunctionHandle, Resolver
from gil_advisor.static.rules import ALL_RULES
from gil_advisor.static.rules.base import Worker
from gil_advisor.static.spawns import THREAD_KINDS, Spawn, collect, decide_concurrency

PARALLEL_THRESHOLD = 64  # below this many files, starting worker processes costs more than it saves


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _summarise_batch(args):
    paths, max_bytes, cache = args
    return [summarise_file(p, max_bytes, require_hint=True, cache=cache) for p in paths]


def make_cache(config: Config) -> Optional[Cache]:
    if not config.cache_dir:
        return None
    ensure_tag(config.cache_dir)
    return Cache.for_config(config.cache_dir, config.fingerprint())


def summarise_all(files: list[str], config: Config, progress=None, cache=None):
    """Results in file order, using processes when it pays (our own advice)."""
    jobs = config.jobs or usable_cpus()
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for f in files:
            yield summarise_file(f, config.max_file_size, require_hint=True, cache=cache)
            if progress:
                progress.step(1)
        return
    from concurrent.futures import ProcessPoolExecutor  # here: importing it costs ~25 ms (trace's start-up)

    size = max(1, min(32, len(files) // (jobs * 8)))
    batches = [(files[i:i + size], config.max_file_size, cache) for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch in pool.map(_summarise_batch, batches):
            yield from batch
            if progress:
                progress.step(len(batch))


def check(paths: list[str], config: Optional[Config] = None, progress=None, closed: bool = False) -> Report:
    """`closed`: the files are the whole program (trace's import closure), so the search for a
    function's callers reads only them, never every file under their folders."""
    config = config or Config()
    files = discover(paths, config.exclude)
    if progress:
        progress.start(len(files))
    cache = make_cache(config)
    project = Project(files, config.max_file_size, cache)
    project._roots_discovered = closed
    for path, result in zip(files, summarise_all(files, config, progress, cache)):
        project.add(project_module(project, path), result)
    report = analyse_project(project, config)
    report.files_checked = len(files)
    return report


def analyse_project(project: Project, config: Config, apply_noqa: bool = True) -> Report:
    """Link the summaries already in the project and run the rules."""
    knowledge = Knowledge.with_user_names(config.releases_gil, config.blocking, config.holds_gil)
    findings = link(project, knowledge, config)
    report = Report(files_checked=len(project.summaries))
    report.errors = sorted(project.errors.values(), key=lambda e: e.path)
    report.findings = sorted(_filter(findings, project, config, apply_noqa), key=Finding.sort_key)
    return report


def project_module(project: Project, path: str) -> str:
    return project.module_of_path.get(path, path)  # a duplicate module name: keep it apart


def link(project: Project, knowledge: Knowledge, config: Config) -> list[Finding]:
    resolver = Resolver(project)
    classifier = WorkClassifier(resolver, knowledge, config.max_depth)
    seeds = list(project.loaded())
    entry_points = {q for s in seeds for f in s.functions.values() for q in f.entry_calls}
    spawns = list(collect(resolver, seeds))

    by_site: dict[tuple, list[Spawn]] = {}
    for sp in spawns:
        key = _sibling_key(sp)
        by_site.setdefault(key, []).append(sp)

    findings: list[Finding] = []
    for sp in spawns:
        key = _sibling_key(sp)
        siblings = by_site[key]
        same_function = by_site.get((sp.summary.path, sp.where.qualname), ())

        def gil_bound_threads(same_function=same_function) -> int:
            return sum(
                1
                for s in same_function
                if s.rec.kind in THREAD_KINDS and any(t.handle and classifier.classify(t.handle).gil_bound for t in s.targets)
            )

        full = f"{sp.summary.module}.{sp.where.qualname}" if sp.summary.module else sp.where.qualname
        decide_concurrency(sp, siblings, gil_bound_threads, entry_points, full)
        for target in sp.targets:
            if not sp.concurrent:
                # Only GIL003 looks at single threads, and it needs no classification: don't
                # parse the worker's helpers for nothing.
                work = WorkSummary(UNKNOWN, "low", [], "a single thread: not classified")
            elif target.handle is not None:
                work = classifier.classify(target.handle)
            elif target.external:
                spawn_ev = Evidence("spawn", sp.rec.kind, Location(sp.summary.path, sp.rec.line, sp.rec.col + 1))
                work = classifier.classify_external(target.external, spawn_ev)
                if work is None:
                    continue
            else:
                continue
            worker = Worker(sp, target, work, classifier)
            reachable = _reachable_fn(resolver, project, config.max_depth)
            for rule in ALL_RULES:
                findings.extend(rule.check(worker, reachable))
    return findings


def _sibling_key(sp: Spawn) -> tuple:
    """Spawns that count together: those of one function, or every instantiation of one Thread subclass."""
    if sp.rec.kind == "Thread subclass":
        return ("subclass", sp.rec.target["cls"])
    return (sp.summary.path, sp.where.qualname)


def _reachable_fn(resolver: Resolver, project: Project, max_depth: int):
    """The worker and its helpers, for GIL003: a busy-wait sits in the thread's own code or
    a helper beside it, so modules not parsed yet are not parsed for this."""

    def reachable(start: FunctionHandle) -> list[tuple[FunctionHandle, list[Evidence]]]:
        with project.no_lazy_parsing():
            return list(_walk(start))

    def _walk(start: FunctionHandle) -> Iterator[tuple[FunctionHandle, list[Evidence]]]:
        seen = {start.full}
        todo = [(start, [], 0)]
        while todo:
            handle, chain, depth = todo.pop(0)
            yield handle, chain
            if depth >= max_depth:
                continue
            for call in handle.rec.calls:
                if call.ref.get("t") not in ("name", "method"):
                    continue
                for tg in resolver.target(call.ref):
                    if tg.handle is not None and tg.handle.full not in seen:
                        seen.add(tg.handle.full)
                        step = Evidence("call", f"{handle.full} calls {tg.handle.full}", Location(handle.summary.path, call.line, call.col + 1))
                        todo.append((tg.handle, chain + [step], depth + 1))

    return reachable


def _filter(findings: list[Finding], project: Project, config: Config, apply_noqa: bool) -> list[Finding]:
    noqa_by_path = {s.path: s.noqa for s in project.loaded()}
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.location, f.worker)
        if key in seen:
            continue
        seen.add(key)
        if not config.enabled(f.code) or not config.confident_enough(f.confidence):
            continue
        codes = noqa_by_path.get(f.location.path, {}).get(str(f.location.line)) if apply_noqa else None
        if codes is not None and (not codes or f.code in codes):
            continue
        out.append(f)
    return out


__all__ = ["check", "FileError"]
