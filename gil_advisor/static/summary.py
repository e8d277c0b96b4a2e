"""Plain-data summaries of one module: what the extractor records and the linker reads.

Everything here is made of dicts, lists, strings and numbers so that it can be cached as
JSON and shipped between processes. A callable is described by a *ref* dict:

    {"t": "name", "q": "pkg.mod.func"}          a dotted name (project or external)
    {"t": "method", "cls": "pkg.mod.C", "name": "m"}   self.m / obj.m / C.m
    {"t": "meth", "name": "m"}                  a method of a receiver of unknown type
    {"t": "partial", "inner": ref}              functools.partial(ref, ...)
    {"t": "param", "func": "pkg.mod.f", "index": 0, "name": "fn"}   a parameter of f
    {"t": "pool", "cls": "concurrent.futures.ThreadPoolExecutor", "size": 4}
    {"t": "inst", "cls": "pkg.mod.C"}           an instance of a class
    {"t": "unknown"}
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

Ref = dict

UNKNOWN: Ref = {"t": "unknown"}


@dataclass
class CallRec:
    ref: Ref
    line: int
    col: int
    loop: int  # innermost loop id inside the function, -1 outside any loop
    nargs: int
    keywords: list[str]
    args: list[Optional[Ref]] = field(default_factory=list)  # callable-looking positional args
    kwargs: dict[str, Ref] = field(default_factory=dict)


CALL_FIELDS = ("ref", "line", "col", "loop", "nargs", "keywords", "args", "kwargs")


@dataclass
class LoopRec:
    id: int
    line: int
    col: int
    kind: str  # "for" | "while" | "comprehension"
    parent: int  # enclosing loop id or -1
    compute: int = 0  # arithmetic, comparisons and subscripts inside


@dataclass
class SpawnRec:
    kind: str  # "threading.Thread", "ThreadPoolExecutor.map", "asyncio.to_thread", ...
    target: Ref
    line: int
    col: int
    loop: int
    in_comprehension: bool = False
    in_gather: bool = False
    pool_size: Optional[int] = None  # None: default size; -1: not a literal
    var: Optional[str] = None  # the name the Thread was assigned to


@dataclass
class FunctionRec:
    qualname: str  # module-relative: "C.m", "outer.<locals>.inner", "<module>"
    name: str
    line: int
    col: int
    params: list[str]
    is_async: bool = False
    cls: Optional[str] = None  # module-relative class qualname for methods
    decorators: list[str] = field(default_factory=list)
    nogil: bool = False  # numba jit(nogil=True)
    calls: list[CallRec] = field(default_factory=list)
    loops: list[LoopRec] = field(default_factory=list)
    spins: list[list[int]] = field(default_factory=list)  # [line, col] of busy-wait loops
    spawns: list[SpawnRec] = field(default_factory=list)
    joins: list[list] = field(default_factory=list)  # [var, loop] of `var.join()`
    entry_calls: list[str] = field(default_factory=list)  # names passed to asyncio.run(...)
    first_line: int = 0  # the code object's co_firstlineno: the first decorator's line if decorated
    body_line: int = 0  # the first line of the body
    co_qualname: str = ""  # CPython 3.11's spelling: "C.m", "f.<locals>.<listcomp>.<lambda>"


@dataclass
class ClassRec:
    qualname: str
    line: int
    bases: list[Ref]
    methods: dict[str, str]  # name -> function qualname
    attrs: dict[str, Ref] = field(default_factory=dict)


@dataclass
class ModuleSummary:
    module: str
    path: str
    functions: dict[str, FunctionRec] = field(default_factory=dict)
    classes: dict[str, ClassRec] = field(default_factory=dict)
    names: dict[str, Ref] = field(default_factory=dict)  # module-level bindings
    main_guarded: bool = False  # has `if __name__ == "__main__":`
    noqa: dict[str, list] = field(default_factory=dict)  # line -> codes ([] = bare noqa)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        # Calls are most of a summary: store them as rows, not as dicts with repeated keys.
        for f in d["functions"].values():
            f["calls"] = [[c[k] for k in CALL_FIELDS] for c in f["calls"]]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "ModuleSummary":
        functions = {}
        for q, f in d["functions"].items():
            f = dict(f)
            f["calls"] = [CallRec(*row) for row in f["calls"]]
            f["loops"] = [LoopRec(**lp) for lp in f["loops"]]
            f["spawns"] = [SpawnRec(**s) for s in f["spawns"]]
            functions[q] = FunctionRec(**f)
        return cls(
            module=d["module"],
            path=d["path"],
            functions=functions,
            classes={q: ClassRec(**c) for q, c in d["classes"].items()},
            names=d["names"],
            main_guarded=d["main_guarded"],
            noqa=d.get("noqa", {}),
        )


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise ValueError(f"invalid summary: {what}")


def validate_summary(s: ModuleSummary) -> None:
    """Type-check a summary read from an untrusted place (the cache)."""
    _check(isinstance(s.module, str) and isinstance(s.path, str), "module/path")
    _check(isinstance(s.names, dict) and all(isinstance(v, dict) for v in s.names.values()), "names")
    _check(isinstance(s.noqa, dict) and all(isinstance(v, list) for v in s.noqa.values()), "noqa")
    for c in s.classes.values():
        _check(isinstance(c.qualname, str) and isinstance(c.methods, dict) and isinstance(c.bases, list), "class")
        _check(all(isinstance(b, dict) for b in c.bases) and all(isinstance(v, str) for v in c.methods.values()), "class")
        _check(all(m in s.functions for m in c.methods.values()), "class methods")
    for f in s.functions.values():
        _check(isinstance(f.qualname, str) and isinstance(f.line, int) and isinstance(f.params, list), "function")
        for c in f.calls:
            _check(isinstance(c.ref, dict) and isinstance(c.line, int) and isinstance(c.loop, int), "call")
            _check(isinstance(c.args, list) and isinstance(c.kwargs, dict) and isinstance(c.nargs, int), "call")
            _check(-1 <= c.loop < len(f.loops), "call loop")
        for i, lp in enumerate(f.loops):
            _check(lp.id == i and isinstance(lp.compute, int) and -1 <= lp.parent < i, "loop")
        for sp in f.spawns:
            _check(isinstance(sp.kind, str) and isinstance(sp.target, dict) and isinstance(sp.line, int), "spawn")
            _check(-1 <= sp.loop < len(f.loops), "spawn loop")
        _check(all(isinstance(x, list) and len(x) == 2 for x in f.spins + f.joins), "spins/joins")
