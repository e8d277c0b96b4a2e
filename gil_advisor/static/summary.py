"""Plain-data summaries of one module: what the extractor records and the linker reads.

Everything here is made of dataclasses, lists, strings and numbers, serialised as JSON
for the cache and for worker processes. What a callable denotes is a typed ref
(`gil_advisor.static.refs`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional

from gil_advisor.static.refs import REF_TYPES, UNKNOWN, Ref, ref_from_json
from gil_advisor.static.spawn_forms import FORMS_BY_NAME

__all__ = ["Ref", "UNKNOWN", "CallRec", "LoopRec", "SpawnRec", "FunctionRec", "ClassRec", "ModuleSummary", "validate_summary"]


@dataclass
class CallRec:
    ref: Ref
    line: int
    col: int
    loop: int  # innermost loop id inside the function, -1 outside any loop
    nargs: int
    keywords: list[str]  # names passed by keyword, and "*" / "**" for unpacked arguments
    args: list[Optional[Ref]] = field(default_factory=list)  # callable-looking positional args
    kwargs: dict[str, Ref] = field(default_factory=dict)


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
    form: str = ""  # its row in spawn_forms.SPAWN_FORMS
    receiver: Optional[Ref] = None  # a pool method on a receiver the linker must resolve (self.pool, a factory's result)
    waited: bool = False  # `pool.submit(...).result()`: the caller waits for the task at once
    free_threaded_only: bool = False  # under `if not sys._is_gil_enabled():` (or its else branch)


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
    is_generator: bool = False  # has `yield`: calling it only makes a generator
    returns: list[Ref] = field(default_factory=list)  # tracked refs of what it returns (pool factories)
    waits: list[list] = field(default_factory=list)  # [var, loop] of `var.result()`
    abstract: bool = False  # the body only raises NotImplementedError (after a docstring)
    defaults: dict[str, Ref] = field(default_factory=dict)  # parameter -> a callable default's ref


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
    names: dict[str, Ref] = field(default_factory=dict)  # module-level bindings; "*0", "*1"...: modules star-imported
    main_guarded: bool = False  # has `if __name__ == "__main__":`
    noqa: dict[str, list] = field(default_factory=dict)  # line -> codes ([] = bare noqa)

    def to_json(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "path": self.path,
            "functions": {q: _function_json(f) for q, f in self.functions.items()},
            "classes": {q: _class_json(c) for q, c in self.classes.items()},
            "names": {k: r.to_json() for k, r in self.names.items()},
            "main_guarded": self.main_guarded,
            "noqa": self.noqa,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "ModuleSummary":
        return cls(
            module=d["module"],
            path=d["path"],
            functions={q: _function_from_json(f) for q, f in d["functions"].items()},
            classes={q: _class_from_json(c) for q, c in d["classes"].items()},
            names={k: ref_from_json(r) for k, r in d["names"].items()},
            main_guarded=d["main_guarded"],
            noqa=d.get("noqa", {}),
        )


# Calls are most of a summary: stored as rows, not as dicts with repeated keys.
def _call_row(c: CallRec) -> list:
    return [c.ref.to_json(), c.line, c.col, c.loop, c.nargs, c.keywords,
            [a.to_json() if a is not None else None for a in c.args], {k: r.to_json() for k, r in c.kwargs.items()}]


def _call_from_row(row: list) -> CallRec:
    ref, line, col, loop, nargs, keywords, args, kwargs = row
    return CallRec(ref_from_json(ref), line, col, loop, nargs, keywords,
                   [ref_from_json(a) if a is not None else None for a in args], {k: ref_from_json(r) for k, r in kwargs.items()})


def _function_json(f: FunctionRec) -> dict[str, Any]:
    d = {fl.name: getattr(f, fl.name) for fl in fields(f)}
    d["calls"] = [_call_row(c) for c in f.calls]
    d["loops"] = [asdict(lp) for lp in f.loops]
    d["spawns"] = [
        {**{fl.name: getattr(sp, fl.name) for fl in fields(sp)}, "target": sp.target.to_json(),
         "receiver": sp.receiver.to_json() if sp.receiver is not None else None}
        for sp in f.spawns
    ]
    d["returns"] = [r.to_json() for r in f.returns]
    d["defaults"] = {k: r.to_json() for k, r in f.defaults.items()}
    return d


def _function_from_json(d: dict[str, Any]) -> FunctionRec:
    d = dict(d)
    d["calls"] = [_call_from_row(row) for row in d["calls"]]
    d["loops"] = [LoopRec(**lp) for lp in d["loops"]]
    d["spawns"] = [
        SpawnRec(**{**sp, "target": ref_from_json(sp["target"]),
                    "receiver": ref_from_json(sp["receiver"]) if sp.get("receiver") is not None else None})
        for sp in d["spawns"]
    ]
    d["returns"] = [ref_from_json(r) for r in d.get("returns", [])]
    d["defaults"] = {k: ref_from_json(r) for k, r in d.get("defaults", {}).items()}
    return FunctionRec(**d)


def _class_json(c: ClassRec) -> dict[str, Any]:
    return {"qualname": c.qualname, "line": c.line, "bases": [b.to_json() for b in c.bases], "methods": c.methods,
            "attrs": {k: r.to_json() for k, r in c.attrs.items()}}


def _class_from_json(d: dict[str, Any]) -> ClassRec:
    return ClassRec(d["qualname"], d["line"], [ref_from_json(b) for b in d["bases"]], d["methods"],
                    {k: ref_from_json(r) for k, r in d["attrs"].items()})


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise ValueError(f"invalid summary: {what}")


def validate_summary(s: ModuleSummary) -> None:
    """Type-check a summary read from an untrusted place (the cache)."""
    _check(isinstance(s.module, str) and isinstance(s.path, str), "module/path")
    _check(isinstance(s.names, dict) and all(isinstance(v, REF_TYPES) for v in s.names.values()), "names")
    _check(isinstance(s.noqa, dict) and all(isinstance(v, list) for v in s.noqa.values()), "noqa")
    for c in s.classes.values():
        _check(isinstance(c.qualname, str) and isinstance(c.methods, dict) and isinstance(c.bases, list), "class")
        _check(all(isinstance(b, REF_TYPES) for b in c.bases) and all(isinstance(v, str) for v in c.methods.values()), "class")
        _check(all(m in s.functions for m in c.methods.values()), "class methods")
    for f in s.functions.values():
        _check(isinstance(f.qualname, str) and isinstance(f.line, int) and isinstance(f.params, list), "function")
        _check(isinstance(f.first_line, int) and isinstance(f.body_line, int) and isinstance(f.co_qualname, str), "function lines")
        for c in f.calls:
            _check(isinstance(c.ref, REF_TYPES) and isinstance(c.line, int) and isinstance(c.loop, int), "call")
            _check(isinstance(c.args, list) and isinstance(c.kwargs, dict) and isinstance(c.nargs, int), "call")
            _check(-1 <= c.loop < len(f.loops), "call loop")
        for i, lp in enumerate(f.loops):
            _check(lp.id == i and isinstance(lp.compute, int) and -1 <= lp.parent < i, "loop")
        for sp in f.spawns:
            _check(isinstance(sp.kind, str) and isinstance(sp.target, REF_TYPES) and isinstance(sp.line, int), "spawn")
            _check(sp.form in FORMS_BY_NAME, "spawn form")
            _check(-1 <= sp.loop < len(f.loops), "spawn loop")
        _check(all(isinstance(x, list) and len(x) == 2 for x in f.spins + f.joins + f.waits), "spins/joins/waits")
        _check(isinstance(f.is_generator, bool) and all(isinstance(r, REF_TYPES) for r in f.returns), "generator/returns")
        _check(all(sp.receiver is None or isinstance(sp.receiver, REF_TYPES) for sp in f.spawns), "spawn receiver")
        _check(isinstance(f.defaults, dict) and all(isinstance(k, str) and isinstance(v, REF_TYPES) for k, v in f.defaults.items()), "defaults")
