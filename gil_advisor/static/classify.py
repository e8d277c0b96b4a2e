"""Decide what kind of work a function does, once per function (summaries are cached).

Each function gets an estimate of where its time goes (static/work_model.py): with the GIL
held (interpreter loops, arithmetic, recursion, C calls that keep the GIL) or released
(I/O, sleeps, native kernels). Loops multiply what is inside them; callees add their own
estimate; waiting for another thread counts as neither and makes the loop around it run
once per item. The kind comes from the balance:

  cpu      pure-Python work dominates: holds the GIL, switches every 5 ms
  holds    C calls that keep the GIL (json, re, pickle, sorted...) dominate
  io       blocking I/O or sleeping dominates: the GIL is released while blocked
  releases native code that releases the GIL (hashlib, zlib, numpy...) dominates
  unknown  mostly calls into code the analyzer cannot see (third-party, dynamic)
  trivial  nothing that takes time
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from gil_advisor.finding import Evidence, Location
from gil_advisor.knowledge import PROCESS, BLOCKING, FILE, HOLDS, LIBRARY, MAYBE_IO, NEUTRAL, PYTHON, RELEASES, SYNC, WAIT, Knowledge
from gil_advisor.static import work_model as wm
from gil_advisor.static.resolve import FunctionHandle, Resolver
from gil_advisor.static.refs import AttributeRef, EitherRef, InstanceRef, MethodRef, NameRef, ParamRef, PartialRef, PoolMethodRef, PoolRef
from gil_advisor.static.summary import CallRec, LoopRec

CPU, IO, UNKNOWN, TRIVIAL = "cpu", "io", "unknown", "trivial"
GIL_BOUND = frozenset({CPU, HOLDS})
CONFIDENCE = ("low", "medium", "high")
LEVEL = {c: i for i, c in enumerate(CONFIDENCE)}


@dataclass
class Estimate:
    """Where a function's time goes, in work-model units (see static/work_model.py)."""

    held: float = 0.0  # GIL held: interpreter work and GIL-holding C calls
    held_c: float = 0.0  # the part of `held` spent in GIL-holding C calls
    io: float = 0.0  # GIL released: I/O and sleeps
    native: float = 0.0  # GIL released: native kernels
    unknown: float = 0.0  # weight of calls the analyzer cannot see
    # The part of `native` from releasing calls outside any loop (here or in helpers called
    # outside loops), costed as whole-input calls, and what the same calls cost made per item:
    # a caller that calls this function in a loop hands it one item at a time.
    top_native: float = 0.0
    top_native_per_item: float = 0.0

    def add(self, other: "Estimate", times: float = 1.0) -> None:
        self.held += other.held * times
        self.held_c += other.held_c * times
        self.io += other.io * times
        self.native += other.native * times
        self.unknown += other.unknown * times
        self.top_native += other.top_native * times
        self.top_native_per_item += other.top_native_per_item * times

    def per_item(self) -> "Estimate":
        """This estimate for a call made once per item of a caller's loop."""
        out = self.scaled(1.0)
        out.native += out.top_native_per_item - out.top_native
        out.top_native = out.top_native_per_item = 0.0
        return out

    def scaled(self, times: float) -> "Estimate":
        out = Estimate()
        out.add(self, times)
        return out

    @property
    def known(self) -> float:
        return self.held + self.io + self.native

    @property
    def held_share(self) -> float:
        return self.held / self.known if self.known else 0.0


@dataclass
class WorkSummary:
    kind: str
    confidence: str = "medium"
    evidence: list[Evidence] = field(default_factory=list)  # from this function down to the cause
    reason: str = ""
    estimate: Estimate = field(default_factory=Estimate)
    held_call: Optional[str] = None  # the GIL-holding C call that dominates ("json.loads")
    releasing_call: Optional[str] = None  # the I/O or native call that dominates
    headline: str = ""  # the estimate and its cause in one line

    @property
    def gil_bound(self) -> bool:
        return self.kind in GIL_BOUND


@dataclass
class _Effect:
    """One call, costed: its effect (a knowledge effect or a kind), what it is, its cost."""

    effect: str
    call: CallRec
    what: str
    cost: Estimate
    sub: Optional[WorkSummary] = None  # the callee's own summary, for the evidence chain
    paces: bool = False
    recursive: bool = False


def _known_cost(effect: str, in_loop: bool, name: str) -> tuple[Estimate, bool]:
    c = wm.known_cost(effect, in_loop, name)
    est = Estimate(held=c.held, held_c=c.held if effect == HOLDS else 0.0, io=c.io, native=c.native, unknown=c.unknown)
    if effect == RELEASES and not in_loop:
        # per item of a caller's loop, even a buffer call gets one item, not a chunk of a stream
        est.top_native, est.top_native_per_item = c.native, wm.RELEASES_IN_LOOP.native
    return est, c.paces


class WorkClassifier:
    def __init__(self, resolver: Resolver, knowledge: Knowledge, max_depth: int = 8):
        self.resolver = resolver
        self.knowledge = knowledge
        self.max_depth = max_depth
        self._cache: dict[str, WorkSummary] = {}
        self._active: set[str] = set()
        self._truncated = False
        self._guessing = False  # inside a guess from a method's name: no guess within it

    def classify(self, handle: FunctionHandle, depth: int = 0) -> WorkSummary:
        key = handle.full
        if key in self._cache:
            return self._cache[key]
        if key in self._active:
            ev = self._ev(handle, "recursion", f"{key} calls itself (recursion in pure Python)", handle.rec.line, handle.rec.col)
            return WorkSummary(CPU, "high", [ev], "recursion", Estimate(held=wm.HEAVY))
        self._active.add(key)
        outer_truncated, self._truncated = self._truncated, False
        try:
            result = self._classify(handle, depth)
        finally:
            self._active.discard(key)
        # A summary cut short by the depth limit is only right at this depth: don't reuse it.
        if not self._truncated:
            self._cache[key] = result
        self._truncated = self._truncated or outer_truncated
        return result

    def classify_worker(self, handle: FunctionHandle) -> WorkSummary:
        """What a thread runs when it calls this function (a generator's body runs elsewhere)."""
        known = self._library_knowledge(handle)
        if known is not None:
            # `Thread(target=sem.release)` in a checked copy of the standard library: the table's word
            cost, _ = _known_cost(known, False, handle.full)
            kind = {HOLDS: HOLDS, RELEASES: RELEASES}.get(known, IO if known in (BLOCKING, PROCESS, FILE, MAYBE_IO) else TRIVIAL)
            return WorkSummary(kind, "high" if kind != HOLDS else "medium", [], f"known: {known}", cost,
                               headline=f"{handle.full} is listed in the knowledge table as {known}")
        if handle.rec.is_generator:
            # `pool.map(gen_func, xs)` only makes generators: their work runs where they are consumed
            return WorkSummary(TRIVIAL, "high", [], "a generator function", Estimate(),
                               headline="a generator function: calling it runs none of its body")
        return self.classify(handle)

    def classify_external(self, name: str, location: Evidence) -> Optional[WorkSummary]:
        """A worker that is itself a known C function (`pool.map(json.loads, docs)`)."""
        known = self.knowledge.lookup(name)
        if known is not None and known[0] == HOLDS:
            ev = Evidence("holds-gil", f"the worker {name} is a C function that holds the GIL ({known[1]})", location.location)
            est = Estimate(held=wm.KNOWN_COST[HOLDS].held, held_c=wm.KNOWN_COST[HOLDS].held)
            return WorkSummary(HOLDS, "high", [ev], "holds", est, held_call=name,
                               headline=f"all of the worker's time holds the GIL: {name} is a C function that keeps it")
        return None

    def blocks(self, handle: FunctionHandle, loop_line: int, loop_col: int) -> bool:
        """Does the loop at this position call anything that blocks (`while not ev.wait(1): pass`)?"""
        ids = {lp.id for lp in handle.rec.loops if (lp.line, lp.col) == (loop_line, loop_col)}
        return any(
            self._effect(handle, c, self.max_depth).effect in (BLOCKING, PROCESS, FILE, MAYBE_IO, WAIT, SYNC, IO)
            for c in handle.rec.calls
            if c.loop in ids
        )

    # ----- one function ----------------------------------------------------------------
    def _classify(self, handle: FunctionHandle, depth: int) -> WorkSummary:
        rec = handle.rec
        if rec.nogil:
            ev = self._ev(handle, "releases", f"{handle.full} is compiled with numba nogil=True", rec.line, rec.col)
            return WorkSummary(RELEASES, "high", [ev], "numba nogil", Estimate(native=wm.RELEASES_ALONE.native),
                               releasing_call=handle.full, headline="numba nogil=True: the compiled function runs without the GIL")
        effects = [self._effect(handle, c, depth) for c in rec.calls]
        loops = rec.loops
        spins = {(line, col) for line, col in rec.spins}
        skipped = self._spin_subtrees(loops, spins)
        paced = {e.call.loop for e in effects if e.paces and e.call.loop >= 0}
        # how many times one pass of the function runs each loop's body
        trips: dict[int, float] = {}
        for lp in loops:  # parents come before children
            own = 1.0 if lp.id in paced else float(wm.LOOP_TRIPS)
            trips[lp.id] = own * (trips[lp.parent] if lp.parent >= 0 else 1.0)

        def top_of(loop_id: int) -> int:
            while loop_id >= 0 and loops[loop_id].parent >= 0:
                loop_id = loops[loop_id].parent
            return loop_id

        total = Estimate()
        nests: dict[int, Estimate] = {}
        for lp in loops:
            if lp.id in skipped:
                continue
            own = Estimate(held=(lp.compute * wm.STEP + wm.ITERATION) * trips[lp.id])
            nests.setdefault(top_of(lp.id), Estimate()).add(own)
        contributions: list[tuple[Estimate, Optional[int], Optional[_Effect]]] = []
        recursive = None
        for e in effects:
            if e.call.loop in skipped:
                continue
            if e.recursive and recursive is None:
                recursive = e
            times = trips[e.call.loop] if e.call.loop >= 0 else 1.0
            cost = e.cost.scaled(times)
            if e.call.loop >= 0:
                nests.setdefault(top_of(e.call.loop), Estimate()).add(cost)
            else:
                contributions.append((cost, None, e))
        for top, est in nests.items():
            contributions.append((est, top, None))
        for est, _, _ in contributions:
            total.add(est)
        if recursive is not None:
            total = total.scaled(wm.RECURSION_TRIPS)
        biggest = max(total.held, total.io, total.native, total.unknown)
        if biggest > wm.CAP:
            total = total.scaled(wm.CAP / biggest)
        return self._decide(handle, total, contributions, effects, trips, recursive)

    @staticmethod
    def _spin_subtrees(loops: list[LoopRec], spins: set) -> set[int]:
        """Busy-wait loops and what they contain are GIL003's business, not CPU work."""
        out: set[int] = set()
        for lp in loops:
            if (lp.parent == -1 and (lp.line, lp.col) in spins) or lp.parent in out:
                out.add(lp.id)
        return out

    def _decide(self, handle, total: Estimate, contributions, effects, trips, recursive) -> WorkSummary:
        share = total.held_share
        released = total.io + total.native
        # Calls the analyzer cannot see outweigh a light loop around them: nothing to say.
        # Beside a heavy loop nest they only lower the confidence.
        unseen = total.unknown > total.held and total.held < wm.HEAVY
        if total.held >= wm.SUBSTANTIAL and share >= wm.GIL_BOUND_SHARE and not unseen:
            kind = HOLDS if total.held_c >= wm.HOLDS_KIND_SHARE * total.held else CPU
            if total.held >= wm.STRONG and share >= wm.HIGH_SHARE and total.unknown <= wm.HIGH_UNSEEN * total.held:
                level = 2
            elif total.held >= wm.HEAVY and share >= wm.MEDIUM_SHARE:
                level = 1
            elif total.unknown == 0 and released == 0:
                level = 1  # every call seen, none of them I/O or native: lighter work is still all GIL
            else:
                level = 0
            chain, held_call = self._held_chain(handle, contributions, effects, trips, recursive, kind)
            where = chain[0] if chain else None
            cause = f"{where.description} at {_short_path(where.location.path)}:{where.location.line}" if where else "pure-Python work"
            headline = f"about {_pct(share)} of the worker's time holds the GIL: {cause}"
            return WorkSummary(kind, CONFIDENCE[level], chain, kind, total, held_call=held_call, headline=headline)
        if released > 0 and released >= total.held and not unseen:
            kind = IO if total.io >= total.native else RELEASES
            chain, call = self._released_chain(handle, effects, trips, kind)
            conf = "high" if share <= wm.RELEASED_SHARE else "medium"
            what = "waits on I/O" if kind == IO else "runs native code that releases the GIL"
            headline = f"about {_pct(1 - share)} of the worker's time {what}" + (f": {call}" if call else "")
            return WorkSummary(kind, conf, chain, kind, total, releasing_call=call, headline=headline)
        if total.unknown > 0:
            return WorkSummary(UNKNOWN, "low", [], "unknown calls", total, headline="mostly calls the analyzer cannot see into")
        return WorkSummary(TRIVIAL, "high", [], "nothing that takes time", total, headline="nothing that takes time")

    def _held_chain(self, handle, contributions, effects, trips, recursive, kind):
        """The evidence chain of the biggest held contributor: a loop nest or a call."""
        if recursive is not None:
            e = recursive
            ev = self._ev(handle, "recursion", f"{e.what} recurses (pure-Python recursion)", e.call.line, e.call.col)
            return [ev], None
        best = max(contributions, key=lambda c: (c[0].held_c if kind == HOLDS else c[0].held), default=None)
        if best is None:
            return [], None
        est, top, eff = best
        if top is None:
            return self._call_chain(handle, eff, prefix=""), self._held_call_of(eff)
        lp = handle.rec.loops[top]
        ids = self._subtree(handle.rec.loops, top)
        nested = len(ids) > 1
        compute = sum(handle.rec.loops[i].compute for i in ids)
        where = self._loop_words(lp, nested)
        inner = [e for e in effects if e.call.loop in ids]
        heaviest = max(inner, key=lambda e: (e.cost.held_c if kind == HOLDS else e.cost.held) * trips[e.call.loop], default=None)
        if kind == HOLDS and heaviest is not None:
            chain = [self._ev(handle, "holds-gil", f"{where} that calls {heaviest.what}, which holds the GIL", heaviest.call.line, heaviest.call.col)]
            if heaviest.sub is not None:
                chain += heaviest.sub.evidence
            return chain, self._held_call_of(heaviest)
        chain = [self._ev(handle, "loop", f"{where} doing pure-Python work" + (f" (arithmetic/comparisons: {compute})" if compute else ""), lp.line, lp.col)]
        if heaviest is not None and heaviest.sub is not None and heaviest.cost.held * trips[heaviest.call.loop] >= 0.5 * est.held:
            chain += [self._ev(handle, "call", f"calls {heaviest.what} in the loop", heaviest.call.line, heaviest.call.col)] + heaviest.sub.evidence
        return chain, None

    def _call_chain(self, handle, e: _Effect, prefix: str) -> list[Evidence]:
        if e.effect == HOLDS:
            chain = [self._ev(handle, "holds-gil", f"calls {e.what}, which holds the GIL", e.call.line, e.call.col)]
            return chain + (e.sub.evidence if e.sub else [])
        if e.sub is not None:
            return [self._ev(handle, "call", f"calls {e.what}", e.call.line, e.call.col)] + e.sub.evidence
        return [self._ev(handle, "call", f"calls {e.what} (pure-Python work)", e.call.line, e.call.col)]

    @staticmethod
    def _held_call_of(e: Optional[_Effect]) -> Optional[str]:
        if e is None:
            return None
        if e.effect == HOLDS and e.sub is None:
            return e.what
        return e.sub.held_call if e.sub is not None else None

    def _released_chain(self, handle, effects, trips, kind):
        def weight(e: _Effect) -> float:
            t = trips[e.call.loop] if e.call.loop >= 0 else 1.0
            return (e.cost.io if kind == IO else e.cost.native) * t

        best = max(effects, key=weight, default=None)
        if best is None or weight(best) <= 0:
            return [], None
        word = "io" if kind == IO else "releases"
        text = f"waits on {best.what}" if kind == IO else f"calls {best.what}, which releases the GIL"
        if best.call.loop >= 0:
            text = f"{self._loop_words(handle.rec.loops[best.call.loop], False)} that {text}"
        chain = [self._ev(handle, word, text, best.call.line, best.call.col)]
        call = best.what
        if best.sub is not None:
            call = best.sub.releasing_call or best.what
        return chain, call

    @staticmethod
    def _subtree(loops: list[LoopRec], loop_id: int) -> list[int]:
        out, todo = [], [loop_id]
        while todo:
            i = todo.pop()
            out.append(i)
            todo.extend(lp.id for lp in loops if lp.parent == i)
        return out

    @staticmethod
    def _loop_words(lp: LoopRec, nested: bool) -> str:
        if lp.kind == "comprehension":
            return "a comprehension" + (" with nested loops" if nested else "")
        return "nested `for`/`while` loops" if nested else f"a `{lp.kind}` loop"

    # ----- one call ---------------------------------------------------------------------
    def _effect(self, handle: FunctionHandle, call: CallRec, depth: int) -> _Effect:
        ref = call.ref
        in_loop = call.loop >= 0
        if isinstance(ref, EitherRef):
            # `fx(data)` with fx chosen by branch: counted like the arms of an `if`, all of them;
            # the costliest names the effect
            parts = [self._effect(handle, replace(call, ref=o), depth) for o in ref.options]
            total = Estimate()
            for p in parts:
                total.add(p.cost)
            main = max(parts, key=lambda p: p.cost.known + p.cost.unknown)
            return _Effect(main.effect, call, main.what, total, main.sub, any(p.paces for p in parts), any(p.recursive for p in parts))
        if isinstance(ref, (NameRef, MethodRef)):
            targets = self.resolver.target(ref)
            own = [tg for tg in targets if tg.handle is not None]
            if len(own) > 1:
                # an abstract method's overrides, a dispatcher's registered implementations: any
                # of them may run here, each as likely: their average, the costliest naming it
                parts = [self._target_effect(handle, call, tg, depth) for tg in own]
                total = Estimate()
                for p in parts:
                    total.add(p.cost, 1.0 / len(parts))
                main = max(parts, key=lambda p: p.cost.known)
                return _Effect(main.effect, call, main.what, total, main.sub, main.paces, main.recursive)
            tg = targets[0]
            if tg.handle is not None:
                return self._target_effect(handle, call, tg, depth)
            name = tg.external or (ref.qualname if isinstance(ref, NameRef) else ref.name)
            known = self.knowledge.lookup(name)
            if known is None and isinstance(ref, MethodRef):
                known = self.knowledge.lookup_method(ref.name, call.nargs, frozenset(call.keywords))
            if known is None:
                return _Effect(UNKNOWN, call, name, Estimate(unknown=wm.UNKNOWN_CALL))
            return self._known(known[0], call, name, in_loop)
        if isinstance(ref, AttributeRef):
            known = self.knowledge.lookup_method(ref.name, call.nargs, frozenset(call.keywords))
            what = f".{ref.name}()"
            if known is not None and known[0] == MAYBE_IO and ref.name not in wm.SHAPED_METHODS:
                own = self._project_methods(handle, call, ref.name, depth)
                if own is not None:
                    return own
            if known is not None:
                return self._known(known[0], call, what, in_loop)
            # A value made in this function (a list, a str) runs interpreter work; an object
            # handed in from outside may be a client of anything: not evidence, unless the
            # project itself defines a method of that name that the call fits (`doc.load()`,
            # `run.process(until=stage)`), and only a few: then most likely one of those.
            if ref.outside:
                own = self._project_methods(handle, call, ref.name, depth, at_most=MAX_GUESSED)
                if own is not None:
                    return own
                return _Effect(UNKNOWN, call, what, Estimate(unknown=wm.UNKNOWN_CALL))
            return self._known(PYTHON, call, what, in_loop)
        if isinstance(ref, (PoolMethodRef, PartialRef, PoolRef, InstanceRef)):
            return self._known(NEUTRAL, call, ref.T, in_loop)
        return _Effect(UNKNOWN, call, "a dynamic call", Estimate(unknown=wm.UNKNOWN_CALL))

    def _target_effect(self, handle: FunctionHandle, call: CallRec, tg, depth: int) -> _Effect:
        """A call of one of the project's functions: its own estimate, per item in a loop."""
        in_loop = call.loop >= 0
        if tg.handle.full == handle.full or tg.handle.full in self._active:
            return _Effect(CPU, call, tg.handle.full, Estimate(held=wm.RECURSIVE_CALL), recursive=True)
        known = self._library_knowledge(tg.handle)
        if known is not None:
            return self._known(known, call, tg.handle.full, in_loop)
        if depth >= self.max_depth:
            self._truncated = True
            return _Effect(UNKNOWN, call, tg.handle.full, Estimate(unknown=wm.UNKNOWN_CALL))
        sub = self.classify(tg.handle, depth + 1)
        cost = Estimate(held=wm.CALL)
        # a helper called per item: its releasing calls run on that item, not a whole input
        cost.add(sub.estimate.per_item() if in_loop else sub.estimate)
        passed = self._passed_and_called(handle, call, tg.handle, depth)
        if passed is not None:
            replaced, e = passed
            cost.add(e.cost)
            # the helper's calls of its parameter are now seen: no longer unknown
            cost.unknown = max(0.0, cost.unknown - replaced * wm.UNKNOWN_CALL)
            if e.cost.known > sub.estimate.known:
                return _Effect(e.effect, call, e.what, cost, e.sub, e.paces)
        return _Effect(sub.kind, call, tg.handle.full, cost, sub)

    def _passed_and_called(self, handle: FunctionHandle, call: CallRec, callee: FunctionHandle, depth: int) -> Optional[tuple[int, _Effect]]:
        """`apply(format_file, path)`, `retry(fetch, url)`: a helper that calls a function it is
        given runs, at this call, the function passed here. The helper's own summary is shared by
        all its callers and sees only "a dynamic call"; this is the work of this call's argument
        (at most MAX_PASSED parameters). (calls of parameters now seen, the costliest of the
        passed functions), or None: nothing passed that can be seen."""
        if depth + 1 >= self.max_depth:
            return None
        found: list[_Effect] = []
        skip = None
        for inner in callee.rec.calls:
            p = inner.ref
            if not (isinstance(p, ParamRef) and p.func == callee.full) or len(found) >= MAX_PASSED:
                continue
            if skip is None:
                skip = self.resolver.implicit_args(callee.full, call.ref)
            arg = call.kwargs.get(p.name)
            if arg is None and 0 <= p.index - skip < len(call.args):
                arg = call.args[p.index - skip]
            if not isinstance(arg, (NameRef, MethodRef, PartialRef)):
                continue
            e = self._effect(handle, replace(call, ref=arg.inner if isinstance(arg, PartialRef) else arg), depth + 1)
            if e.effect != UNKNOWN:
                found.append(e)
        if not found:
            return None
        return len(found), max(found, key=lambda e: e.cost.known)

    def _project_methods(self, handle: FunctionHandle, call: CallRec, name: str, depth: int, at_most: int = 0) -> Optional[_Effect]:
        """`check.execute()` on a receiver of unknown type, where the project defines `execute`
        methods that such a call fits (its arguments fill their parameters): most likely one of
        them, not a DB cursor or a socket. Costed as their average, each being as likely, plus an
        unknown call's weight for the guess; the costliest names it. `at_most`: no guess when more
        of them fit. None: the table decides."""
        if depth >= self.max_depth:
            return None
        impls = [h for h in self.resolver.project_methods_named(name)
                 if h.full != handle.full and h.full not in self._active and _fits(h.rec, call)]
        if not impls or (at_most and len(impls) > at_most):
            return None
        if at_most and self._guessing:
            # guesses compound: what a guessed method calls on unknown receivers stays unknown
            # (and the summaries made meanwhile are not reused where a guess is allowed)
            self._truncated = True
            return None
        outer, self._guessing = self._guessing, self._guessing or bool(at_most)
        try:
            subs = [self.classify(h, depth + 1) for h in impls]
        finally:
            self._guessing = outer
        in_loop = call.loop >= 0
        cost = Estimate(held=wm.CALL, unknown=wm.UNKNOWN_CALL)
        for sub in subs:
            cost.add(sub.estimate.per_item() if in_loop else sub.estimate, 1.0 / len(subs))
        main = max(range(len(subs)), key=lambda i: subs[i].estimate.known)
        what = impls[main].full
        if at_most:
            # a guess from the name alone weighs, for the confidence, as much as what it brings
            cost.unknown += cost.held
            what = f"`.{name}()`, most likely {what}"
        return _Effect(subs[main].kind, call, what, cost, subs[main])

    def _known(self, effect: str, call: CallRec, what: str, in_loop: bool) -> _Effect:
        cost, paces = _known_cost(effect, in_loop, what)
        return _Effect(effect, call, what, cost, paces=paces)

    def _library_knowledge(self, callee: FunctionHandle) -> Optional[str]:
        """For a function whose name the knowledge table lists, the table comes first even when its
        source is at hand: requests.get in an installed dependency is I/O, threading.Event.set in
        a checked copy of the standard library is bookkeeping. Interpreter-work entries (builtin
        methods, pure-Python packages) are followed into the source instead."""
        known = self.knowledge.lookup(callee.full)
        if known is None or known[0] in (LIBRARY, PYTHON):
            return None
        return known[0]

    @staticmethod
    def _ev(handle: FunctionHandle, kind: str, text: str, line: int, col: int) -> Evidence:
        return Evidence(kind, text, Location(handle.summary.path, line, col + 1))


# `x.name()` on a receiver of unknown type, for a name the knowledge table does not know: taken
# for the project's own methods of that name only when there are this few (a name many classes
# define, `run`, `update`, says little about which one this is)
MAX_GUESSED = 2
MAX_PASSED = 3  # parameters of one helper followed to the functions a call passes for them


def _fits(rec, call: CallRec) -> bool:
    """Can `x.name(args)` call this method? Its positional arguments fit the parameters after
    `self` and its keywords name some of them (a method taking *args or keyword-only parameters
    is not matched: the summary records positional parameters only)."""
    if "*" in call.keywords or "**" in call.keywords:
        return False
    params = rec.params[1:]
    return call.nargs <= len(params) and all(k in params for k in call.keywords)


def _pct(share: float) -> str:
    return f"{max(1, min(100, round(share * 100)))}%"


def _short_path(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
