"""Decide what kind of work a function does, once per function (summaries are cached).

Kinds, from the GIL's point of view:
  cpu      pure-Python loops, recursion, arithmetic: holds the GIL, switches every 5 ms
  holds    C calls that keep the GIL for the whole call (json, re, pickle, sorted...)
  io       blocking I/O or waiting: the GIL is released while blocked
  releases native code that releases the GIL (hashlib, zlib, numpy...)
  unknown  calls into code the analyzer cannot see (third-party, dynamic)
  trivial  nothing that takes time
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gil_advisor.finding import Evidence, Location
from gil_advisor.knowledge import BLOCKING, HOLDS, NEUTRAL, PYTHON, RELEASES, Knowledge
from gil_advisor.static.resolve import FunctionHandle, Resolver
from gil_advisor.static.summary import CallRec, FunctionRec, LoopRec

CPU, IO, UNKNOWN, TRIVIAL = "cpu", "io", "unknown", "trivial"
GIL_BOUND = frozenset({CPU, HOLDS})
CONFIDENCE = ("low", "medium", "high")
LEVEL = {c: i for i, c in enumerate(CONFIDENCE)}

# How a callee's kind counts in its caller.
EFFECT_OF_KIND = {CPU: CPU, HOLDS: HOLDS, IO: BLOCKING, RELEASES: RELEASES, UNKNOWN: UNKNOWN, TRIVIAL: PYTHON}


@dataclass
class WorkSummary:
    kind: str
    confidence: str = "medium"
    evidence: list[Evidence] = field(default_factory=list)  # from this function down to the cause
    reason: str = ""

    @property
    def gil_bound(self) -> bool:
        return self.kind in GIL_BOUND


@dataclass
class _Effect:
    effect: str
    call: CallRec
    what: str
    sub: Optional[WorkSummary] = None  # the callee's own summary, for the evidence chain


class WorkClassifier:
    def __init__(self, resolver: Resolver, knowledge: Knowledge, max_depth: int = 4):
        self.resolver = resolver
        self.knowledge = knowledge
        self.max_depth = max_depth
        self._cache: dict[str, WorkSummary] = {}
        self._active: set[str] = set()
        self._truncated = False

    def classify(self, handle: FunctionHandle, depth: int = 0) -> WorkSummary:
        key = handle.full
        if key in self._cache:
            return self._cache[key]
        if key in self._active:
            return WorkSummary(CPU, "high", [self._ev(handle, "recursion", f"{key} calls itself (recursion in pure Python)", handle.rec.line, handle.rec.col)], "recursion")
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

    def classify_external(self, name: str, location: Evidence) -> Optional[WorkSummary]:
        """A worker that is itself a known C function (`pool.map(json.loads, docs)`)."""
        known = self.knowledge.lookup(name)
        if known is not None and known[0] == HOLDS:
            ev = Evidence("holds-gil", f"the worker {name} is a C function that holds the GIL ({known[1]})", location.location)
            return WorkSummary(HOLDS, "high", [ev], "holds")
        return None

    def blocks(self, handle: FunctionHandle, loop_line: int, loop_col: int) -> bool:
        """Does the loop at this position call anything that blocks (`while not ev.wait(1): pass`)?"""
        ids = {lp.id for lp in handle.rec.loops if (lp.line, lp.col) == (loop_line, loop_col)}
        return any(
            self._effect(handle, c, self.max_depth).effect == BLOCKING for c in handle.rec.calls if c.loop in ids
        )

    # ----- one function ----------------------------------------------------------------
    def _classify(self, handle: FunctionHandle, depth: int) -> WorkSummary:
        rec = handle.rec
        if rec.nogil:
            return WorkSummary(RELEASES, "high", [self._ev(handle, "releases", f"{handle.full} is compiled with numba nogil=True", rec.line, rec.col)], "numba nogil")
        effects = [self._effect(handle, c, depth) for c in rec.calls]
        by_loop: dict[int, list[_Effect]] = {}
        for e in effects:
            by_loop.setdefault(e.call.loop, []).append(e)
        children: dict[int, list[int]] = {}
        for lp in rec.loops:
            children.setdefault(lp.parent, []).append(lp.id)

        def subtree(loop_id: int) -> list[int]:
            out, todo = [], [loop_id]
            while todo:
                i = todo.pop()
                out.append(i)
                todo.extend(children.get(i, ()))
            return out

        io_ev: list[Evidence] = []
        # (level, chain): 2 = nested loops, while-loops, recursion; 1 = a loop with
        # arithmetic; 0 = a loop that only calls methods (may run once or twice)
        cpu_ev: list[tuple[int, list[Evidence]]] = []
        holds_ev: list[tuple[bool, list[Evidence]]] = []
        rel_ev: list[Evidence] = []
        unk = False

        spins = {(line, col) for line, col in rec.spins}
        for lp in rec.loops:
            if lp.parent != -1 or (lp.line, lp.col) in spins:
                continue  # busy-waits are GIL003's business, not CPU work
            ids = subtree(lp.id)
            inner = [e for i in ids for e in by_loop.get(i, ())]
            compute = sum(rec.loops[i].compute for i in ids)
            nested = len(ids) > 1
            kind = self._loop_kind(inner, compute)
            where = self._loop_words(lp, nested)
            if kind == IO:
                first = next(e for e in inner if e.effect == BLOCKING)
                io_ev.append(self._ev(handle, "io", f"{where} that waits on {first.what}", first.call.line, first.call.col))
            elif kind == RELEASES:
                first = next(e for e in inner if e.effect == RELEASES)
                rel_ev.append(self._ev(handle, "releases", f"{where} that calls {first.what}, which releases the GIL", first.call.line, first.call.col))
            elif kind == UNKNOWN:
                unk = True
            elif kind == CPU:
                sub = next((e for e in inner if e.effect == CPU and e.sub), None)
                chain = [self._ev(handle, "loop", f"{where} doing pure-Python work" + (f" (arithmetic/comparisons: {compute})" if compute else ""), lp.line, lp.col)]
                if sub is not None:
                    chain += [self._ev(handle, "call", f"calls {sub.what} in the loop", sub.call.line, sub.call.col)] + sub.sub.evidence
                if (nested or lp.kind == "while") and compute:
                    level = 2
                elif sub is not None:
                    level = LEVEL[sub.sub.confidence]
                else:
                    level = 1 if compute else 0
                cpu_ev.append((level, chain))
            elif kind == HOLDS:
                first = next(e for e in inner if e.effect == HOLDS)
                chain = [self._ev(handle, "holds-gil", f"{where} that calls {first.what}, which holds the GIL", first.call.line, first.call.col)]
                if first.sub is not None:
                    chain += first.sub.evidence
                holds_ev.append((True, chain))

        for e in by_loop.get(-1, ()):
            if e.effect == BLOCKING:
                io_ev.append(self._ev(handle, "io", f"waits on {e.what}", e.call.line, e.call.col))
            elif e.effect == RELEASES:
                rel_ev.append(self._ev(handle, "releases", f"calls {e.what}, which releases the GIL", e.call.line, e.call.col))
            elif e.effect == UNKNOWN:
                unk = True
            elif e.effect == CPU and e.sub is not None:
                chain = [self._ev(handle, "call", f"calls {e.what}", e.call.line, e.call.col)] + e.sub.evidence
                cpu_ev.append((LEVEL[e.sub.confidence], chain))
            elif e.effect == HOLDS:
                chain = [self._ev(handle, "holds-gil", f"calls {e.what}, which holds the GIL", e.call.line, e.call.col)]
                if e.sub is not None:
                    chain += e.sub.evidence
                holds_ev.append((bool(e.sub and e.sub.confidence == "high"), chain))

        if cpu_ev:
            level, chain = max(cpu_ev, key=lambda lc: lc[0])
            if unk:
                level = min(level, 0)  # unknown calls beside the loop may be what takes the time
            if not io_ev:
                return WorkSummary(CPU, CONFIDENCE[level], chain, "cpu")
            if level == 2:
                return WorkSummary(CPU, "low", chain, "cpu beside I/O")
        if io_ev:
            return WorkSummary(IO, "high", io_ev[:1], "io")
        if holds_ev and not rel_ev and not unk:
            strong = [c for s, c in holds_ev if s]
            return WorkSummary(HOLDS, "high" if strong else "medium", (strong or [holds_ev[0][1]])[0], "holds")
        if rel_ev:
            return WorkSummary(RELEASES, "high", rel_ev[:1], "releases")
        if unk or holds_ev:
            return WorkSummary(UNKNOWN, "low", [], "unknown calls")
        return WorkSummary(TRIVIAL, "high", [], "nothing that takes time")

    @staticmethod
    def _loop_kind(inner: list[_Effect], compute: int) -> str:
        effects = {e.effect for e in inner}
        if BLOCKING in effects:
            return IO
        if RELEASES in effects:
            return RELEASES
        if UNKNOWN in effects:
            return UNKNOWN
        if CPU in effects:
            return CPU
        if HOLDS in effects:
            return HOLDS
        if compute or PYTHON in effects:
            return CPU
        return TRIVIAL

    @staticmethod
    def _loop_words(lp: LoopRec, nested: bool) -> str:
        if lp.kind == "comprehension":
            return "a comprehension" + (" with nested loops" if nested else "")
        return "nested `for`/`while` loops" if nested else f"a `{lp.kind}` loop"

    # ----- one call ---------------------------------------------------------------------
    def _effect(self, handle: FunctionHandle, call: CallRec, depth: int) -> _Effect:
        ref = call.ref
        t = ref.get("t")
        if t in ("name", "method"):
            targets = self.resolver.target(ref)
            tg = targets[0]
            if tg.handle is not None:
                if tg.handle.full == handle.full or tg.handle.full in self._active:
                    rec_ev = self._ev(handle, "recursion", f"{tg.handle.full} recurses (pure-Python recursion)", call.line, call.col)
                    return _Effect(CPU, call, tg.handle.full, WorkSummary(CPU, "high", [rec_ev], "recursion"))
                if depth >= self.max_depth:
                    self._truncated = True
                    return _Effect(UNKNOWN, call, tg.handle.full)
                sub = self.classify(tg.handle, depth + 1)
                return _Effect(EFFECT_OF_KIND[sub.kind], call, tg.handle.full, sub)
            name = tg.external or ref.get("q") or ref.get("name", "?")
            known = self.knowledge.lookup(name)
            if known is None and t == "method":
                known = self.knowledge.lookup_method(ref["name"], call.nargs, frozenset(call.keywords))
            if known is None:
                return _Effect(UNKNOWN, call, name)
            return _Effect(known[0], call, name)
        if t == "meth":
            known = self.knowledge.lookup_method(ref["name"], call.nargs, frozenset(call.keywords))
            if known is not None:
                return _Effect(known[0], call, f".{ref['name']}()")
            # A value made in this function (a list, a str) runs interpreter work; an object
            # handed in from outside may be a client of anything: not evidence.
            return _Effect(UNKNOWN if ref.get("recv") == "outside" else PYTHON, call, f".{ref['name']}()")
        if t in ("poolmeth", "partial", "pool", "inst"):
            return _Effect(NEUTRAL, call, t)
        return _Effect(UNKNOWN, call, ref.get("name", "a dynamic call"))

    @staticmethod
    def _ev(handle: FunctionHandle, kind: str, text: str, line: int, col: int) -> Evidence:
        return Evidence(kind, text, Location(handle.summary.path, line, col + 1))
