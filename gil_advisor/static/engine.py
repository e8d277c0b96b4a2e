"""One analysis run: summarise the files that can matter, link, run the rules, filter."""
from __future__ import annotations

import contextlib
import gc
import os
import re
from typing import Iterator, Optional

from gil_advisor.config import Options
from gil_advisor.finding import Evidence, FileError, Finding, Location, Report, SpawnSite
from gil_advisor.knowledge import Knowledge
from gil_advisor.sourcefile import ReadError, read_limited, size_message
from gil_advisor.static.cache import Cache, make_cache, open_cache  # noqa: F401  # make_cache: used by callers of the engine
from gil_advisor.static.classify import UNKNOWN, WorkClassifier, WorkSummary
from gil_advisor.static.environment import library_roots
from gil_advisor.static.inputs import ReadInputs
from gil_advisor.static.project import NOT_CACHED, Project, SourceError, find_files, split_trees, has_spawn_hint, module_name_for, parse_and_extract, summarise_file
from gil_advisor.static.refs import MethodRef, NameRef
from gil_advisor.static.resolve import FunctionHandle, Resolver
from gil_advisor.static.rules import ALL_RULES
from gil_advisor.static.rules.base import Worker
from gil_advisor.static.spawns import thread_subclass_names
from gil_advisor.static.spawns import THREAD_KINDS, Spawn, collect, decide_concurrency

RECURSION_MESSAGE = (
    "skipped: the calls below this file's workers nest too deeply to follow "
    "(lower max-depth, or report the case)"
)
PARALLEL_THRESHOLD = 64  # below this many files, starting worker processes costs more than it saves


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_count(requested: int, n_files: int) -> int:
    """Processes to start: never more than the usable CPUs or the files to read (a cloned
    repository's `jobs = 100000` must not fork the machine to death)."""
    cpus = usable_cpus()
    return max(1, min(requested or cpus, cpus, n_files))


# libcst makes millions of small objects per large file, none of them in cycles; at the
# interpreter's default thresholds (700, 10, 10) the collector kept walking every live tree and
# summary and took a third of a cold run. Collections still happen, just less often.
FEWER_COLLECTIONS = (100_000, 50, 100)


@contextlib.contextmanager
def fewer_collections():
    """Raise the garbage collector's thresholds for the block (never lower them), then restore."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(o, n) for o, n in zip(old, FEWER_COLLECTIONS)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _summarise_batch(args):
    paths, max_bytes, cache = args
    with fewer_collections():  # a worker process may not have inherited the parent's (spawn, forkserver)
        return [summarise_file(p, max_bytes, require_hint=True, cache=cache) for p in paths]


def open_pool(config: Options, n_files: int):
    """The run's worker processes, or None when one process is faster (our own advice)."""
    jobs = worker_count(config.jobs, n_files)
    if jobs <= 1 or n_files < PARALLEL_THRESHOLD:
        return None
    from concurrent.futures import ProcessPoolExecutor  # here: importing it costs ~25 ms (trace's start-up)

    return ProcessPoolExecutor(max_workers=jobs)


def cached_results(files: list[str], config: Options, cache) -> dict:
    """path -> result for the files the cache (or the pre-check) answers without parsing."""
    out = {}
    if cache is None:
        return out
    for f in files:
        result = summarise_file(f, config.max_file_size, require_hint=True, cache=cache, parse=False)
        if result is not NOT_CACHED:
            out[f] = result
    return out


def summarise_all(files: list[str], config: Options, progress=None, cache=None, pool=None, known=None):
    """Results in file order, in the worker processes of `pool` if there is one; `known`
    (from cached_results) answers files without sending them anywhere."""
    if known:
        rest = [f for f in files if f not in known]
        fresh = iter(summarise_all(rest, config, None, cache, pool))
        for f in files:
            yield known[f] if f in known else next(fresh)
            if progress:
                progress.step(1)
        return
    if pool is None:
        for f in files:
            yield summarise_file(f, config.max_file_size, require_hint=True, cache=cache)
            if progress:
                progress.step(1)
        return
    jobs = worker_count(config.jobs, len(files))
    size = max(1, min(32, len(files) // (jobs * 8)))
    batches = [(files[i:i + size], config.max_file_size, cache) for i in range(0, len(files), size)]
    for batch in pool.map(_summarise_batch, batches):
        yield from batch
        if progress:
            progress.step(len(batch))


def check(
    paths: list[str], config: Optional[Options] = None, progress=None, show_spawns: bool = False,
    closed: bool = False, inputs: Optional[ReadInputs] = None,
) -> Report:
    """`closed`: the files are the whole program (trace's import closure), so the search for a
    function's callers reads only them, never every file under their folders. `inputs`, if
    given, receives every file beyond `paths` the answer was read from (the modules followed)
    and the names looked up in each folder listed to find them, for a cache of the whole answer."""
    with fewer_collections():
        return _check(paths, config or Options(), progress, show_spawns, closed, inputs)


def _check(paths: list[str], config: Options, progress, show_spawns: bool, closed: bool, inputs: Optional[ReadInputs] = None) -> Report:
    found = find_files(paths, config.exclude)
    files = found.files
    if progress:
        progress.start(len(files))
    cache, cache_problem = make_cache(config)
    trees = split_trees(files)
    seeds = [f for tree in trees for f in tree.seeds]
    # The cache is read here first: worker processes only pay for files that need parsing
    # (a warm run, or trace's warm static pass, starts none).
    known = cached_results(seeds, config, cache)
    # One pool for the run: it summarises the seeds, then the subclass users of each tree.
    with open_pool(config, len(seeds) - len(known)) or contextlib.nullcontext() as pool:
        report = _check_trees(trees, seeds, config, progress, cache, pool, show_spawns, closed, known, inputs)
    errors = {e.path: e for e in found.errors + ([cache_problem] if cache_problem else [])}
    for err in report.errors:
        errors.setdefault(err.path, err)
    report.errors = sorted(errors.values(), key=lambda e: e.path)
    report.findings.sort(key=Finding.sort_key)
    report.files_checked = len(files)
    return report


def _check_trees(trees, seeds: list[str], config: Options, progress, cache, pool, show_spawns: bool, closed: bool, known=None, inputs=None) -> Report:
    results = iter(summarise_all(seeds, config, progress, cache, pool, known))
    report = Report(spawns=[] if show_spawns else None)
    for tree in trees:
        project = Project(tree.seeds + tree.extra, config.max_file_size, cache, config.exclude)
        project.closed = closed
        if config.follow_dependencies:
            project.library_roots, _ = library_roots(project.roots, config.python)
        quiet = []  # files the pre-check skipped: no spawn form named in them
        for path in tree.seeds:
            result = next(results)
            project.add(project_module(project, path), result)
            if result is None:
                quiet.append(path)
        _add_subclass_users(project, quiet, config, cache, pool)
        part = analyse_project(project, config, show_spawns=show_spawns)
        if inputs is not None:
            consulted(project, inputs)
        report.findings += part.findings
        report.errors += part.errors
        if part.spawns is not None:
            report.spawns += part.spawns
    return report


def consulted(project: Project, into: ReadInputs) -> None:
    """The files whose summaries the analysis read, and the names it looked up in each folder
    it listed to find a module (the roots and library folders are only ever read that way)."""
    into.files.update(project.files[m].path for m in project.summaries if m in project.files)
    into.files.update(project.errors)
    for folder, lookups in project.lookups.items():
        into.add_folder(folder, lookups)


def _summarise_unhinted(args):
    path, max_bytes, cache = args
    with fewer_collections():
        return summarise_file(path, max_bytes, require_hint=False, cache=cache)


def _add_subclass_users(project: Project, quiet: list[str], config: Options, cache, pool=None) -> None:
    """Summarise the skipped files that name a Thread subclass of the project: they start
    threads without spelling "Thread" (`Cruncher(n).start()`). In the worker processes if
    there are some: they idle while this process links."""
    if not quiet:
        return
    names = thread_subclass_names(Resolver(project), list(project.loaded()))
    if not names:
        return
    words = [n.encode() for n in sorted(names)]
    pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(w) for w in words) + rb")\b")
    users = []
    for path in quiet:
        try:
            data = read_limited(path, config.max_file_size)
        except ReadError:
            continue  # it was read a moment ago; a file that changed since is not worth a diagnostic
        # substring tests run at memchr speed; the regex then confirms the few files that pass
        if any(w in data for w in words) and pattern.search(data):
            users.append(path)
    if pool is not None and len(users) > 1:
        results = pool.map(_summarise_unhinted, [(path, config.max_file_size, cache) for path in users])
    else:
        results = (summarise_file(path, config.max_file_size, require_hint=False, cache=cache) for path in users)
    for path, result in zip(users, results):
        project.add(project_module(project, path), result)


_FROM_IMPORT = re.compile(rb"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+)", re.M)


def _imports_thread_subclass(project: Project, module: str, is_package: bool, data: bytes) -> bool:
    """Does this file (which names no spawn form) import a Thread subclass from a project module?
    Only modules that themselves name a spawn form are read, so most files cost one regex."""
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    for m in _FROM_IMPORT.finditer(data):
        dots, name, imported = len(m.group(1)), m.group(2).decode(), m.group(3).decode()
        base = ".".join(package[: len(package) - dots + 1]) if dots else ""
        source = ".".join(p for p in (base, name) if p)
        split = project.split_module(source) if source else None
        if split is None or split[1]:
            continue
        src = project.files.get(split[0])
        data = project.read_source(src.path) if src is not None else None  # kept per process
        if data is None or not has_spawn_hint(data):
            continue
        resolver = Resolver(project)
        for cls in (n.strip() for n in imported.split(",")):
            if cls and resolver.cls(f"{source}.{cls}") is not None and resolver.is_thread_class(f"{source}.{cls}"):
                return True
    return False


def check_source(
    filename: str, text: str, options: Optional[Options] = None, apply_noqa: bool = True, cache=None
) -> Report:
    """One file's findings from text already in memory (an editor buffer, flake8's lines);
    the modules it uses are read from disk beside it, never imported. `cache` (a Cache or a
    MemoryCache) keeps their summaries between calls."""
    options = options or Options()
    report = Report(files_checked=1)
    data = text.encode("utf-8", "surrogatepass")  # only measured and searched, never decoded
    if len(data) > options.max_file_size:
        report.errors = [FileError(filename, size_message(len(data), options.max_file_size))]
        return report
    if not has_spawn_hint(data) and not _FROM_IMPORT.search(data):
        return report  # nothing here can start a thread: the common case, one regex (flake8 runs it per file)
    project = Project([filename], options.max_file_size, cache=cache, exclude=options.exclude)
    module, is_package = module_name_for(filename)
    if not has_spawn_hint(data) and not _imports_thread_subclass(project, module, is_package, data):
        return report
    if options.follow_dependencies:
        project.library_roots, _ = library_roots(project.roots, options.python)
    try:
        project.add(module, parse_and_extract(filename, text, module, is_package))
    except SourceError as exc:
        report.errors = [FileError(filename, str(exc))]
        return report
    except RecursionError:
        report.errors = [FileError(filename, "skipped: too deeply nested for the analyzer")]
        return report
    report = analyse_project(project, options, apply_noqa=apply_noqa)
    report.findings = [f for f in report.findings if f.location.path == filename]
    report.files_checked = 1
    return report


def analyse_project(project: Project, config: Options, apply_noqa: bool = True, show_spawns: bool = False) -> Report:
    """Link the summaries already in the project and run the rules."""
    knowledge = Knowledge.with_user_names(config.releases_gil, config.blocking, config.holds_gil)
    sites: Optional[list] = [] if show_spawns else None
    try:
        findings = link(project, knowledge, config, sites)
    except RecursionError:
        # A chain of helpers deeper than the interpreter's stack: one diagnostic, no traceback.
        findings = []
        for s in project.loaded():
            if any(f.spawns for f in s.functions.values()):
                project.errors.setdefault(s.path, FileError(s.path, RECURSION_MESSAGE))
    report = Report(files_checked=len(project.summaries))
    report.errors = sorted(project.errors.values(), key=lambda e: e.path)
    report.findings = sorted(_filter(findings, project, config, apply_noqa), key=Finding.sort_key)
    if sites is not None:
        report.spawns = [_site(entry, report.findings, findings, config) for entry in sites]
    return report


def _site(entry, reported: list[Finding], raised: list[Finding], config: Options) -> SpawnSite:
    """One spawn site for --show-spawns: what was decided, and why it was or was not reported."""
    sp, target, work = entry
    loc = Location(sp.summary.path, sp.rec.line, sp.rec.col + 1)
    mine = [f for f in reported if f.location == loc and f.worker == target.name]
    if mine:
        outcome = "reported " + ", ".join(sorted({f.code for f in mine}))
    else:
        hidden = [f for f in raised if f.location == loc and f.worker == target.name]
        if hidden:
            f = hidden[0]
            if not config.enabled(f.code):
                outcome = f"not reported: {f.code} is not selected"
            elif not config.confident_enough(f.confidence):
                outcome = f"not reported: {f.code} at {f.confidence} confidence, below --min-confidence {config.min_confidence}"
            else:
                outcome = f"not reported: {f.code} silenced by # noqa"
        elif not sp.concurrent:
            outcome = f"not reported: one thread at a time ({sp.why})"
        elif work is None and target.external:
            outcome = f"not reported: the worker is outside code ({target.external}) not known to hold the GIL"
        elif work is None:
            outcome = "not reported: the worker could not be resolved"
        elif not work.gil_bound:
            outcome = f"not reported: the worker's work is {work.kind}"
        else:
            outcome = "not reported"
    return SpawnSite(
        location=loc,
        kind=sp.rec.kind,
        worker=target.name,
        concurrent=sp.concurrent,
        concurrency=sp.why + (f" ({sp.threads})" if sp.threads else ""),
        work=work.kind if work else "unresolved",
        confidence=work.confidence if work else "low",
        estimate=work.headline if work else "",
        held_share=round(work.estimate.held_share, 3) if work and work.estimate.known else None,
        outcome=outcome,
        held=round(work.estimate.held, 1) if work else 0.0,
        released=round(work.estimate.io + work.estimate.native, 1) if work else 0.0,
        unseen=round(work.estimate.unknown, 1) if work else 0.0,
    )


def project_module(project: Project, path: str) -> str:
    return project.module_of_path.get(path, path)  # a duplicate module name: keep it apart


def link(project: Project, knowledge: Knowledge, config: Options, sites: Optional[list] = None) -> list[Finding]:
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
                if s.rec.kind in THREAD_KINDS and any(t.handle and classifier.classify_worker(t.handle).gil_bound for t in s.targets)
            )

        full = f"{sp.summary.module}.{sp.where.qualname}" if sp.summary.module else sp.where.qualname
        decide_concurrency(sp, siblings, gil_bound_threads, entry_points, full)
        for target in sp.targets:
            work = _work_of(sp, target, classifier)
            if sites is not None:  # asked for: say what every worker does, single threads too
                shown = classifier.classify_worker(target.handle) if target.handle is not None else (work if sp.concurrent else None)
                sites.append((sp, target, shown))
            if work is None:
                continue
            worker = Worker(sp, target, work, classifier)
            reachable = _reachable_fn(resolver, project, config.max_depth)
            for rule in ALL_RULES:
                findings.extend(rule.check(worker, reachable))
    return findings


NOT_CLASSIFIED = "a single thread: not classified"


def _work_of(sp: Spawn, target, classifier: WorkClassifier) -> Optional[WorkSummary]:
    """What the target does, or None when there is nothing to judge (unresolved, unknown C code)."""
    if not sp.concurrent:
        # Only GIL003 looks at single threads, and it needs no classification: don't
        # parse the worker's helpers for nothing.
        return WorkSummary(UNKNOWN, "low", [], NOT_CLASSIFIED) if target.handle is not None or target.external else None
    if target.handle is not None:
        return classifier.classify_worker(target.handle)
    if target.external:
        spawn_ev = Evidence("spawn", sp.rec.kind, Location(sp.summary.path, sp.rec.line, sp.rec.col + 1))
        return classifier.classify_external(target.external, spawn_ev)
    return None


def _sibling_key(sp: Spawn) -> tuple:
    """Spawns that count together: those of one function, or every instantiation of one Thread subclass."""
    if sp.rec.kind == "Thread subclass":
        return ("subclass", sp.rec.target.cls)
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
                if not isinstance(call.ref, (NameRef, MethodRef)):
                    continue
                for tg in resolver.target(call.ref):
                    if tg.handle is not None and tg.handle.full not in seen:
                        seen.add(tg.handle.full)
                        step = Evidence("call", f"{handle.full} calls {tg.handle.full}", Location(handle.summary.path, call.line, call.col + 1))
                        todo.append((tg.handle, chain + [step], depth + 1))

    return reachable


def _filter(findings: list[Finding], project: Project, config: Options, apply_noqa: bool) -> list[Finding]:
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


__all__ = ["check", "check_source", "FileError"]
