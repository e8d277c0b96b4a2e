"""What a name or an expression denotes, as far as the extractor can tell: a *ref*.

Refs are frozen dataclasses, one per kind, serialised as small tagged dicts
(`{"t": "name", "q": "pkg.mod.f"}`) so that summaries stay JSON-cacheable.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Optional, Union


class _RefBase:
    T: ClassVar[str]  # the tag in the serialised form

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.T}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.to_json() if isinstance(value, _RefBase) else value
        return out

    def renamed(self, mapping: dict[str, str]) -> "Ref":
        """The same ref with provisional lambda names replaced (see extract.lambda_qualname)."""
        return self  # type: ignore[return-value]


@dataclass(frozen=True)
class NameRef(_RefBase):
    """A dotted name, in the project or outside it: `pkg.mod.func`, `json.loads`."""

    T: ClassVar[str] = "name"
    qualname: str
    is_class: bool = False  # defined by a `class` statement here

    def to_json(self) -> dict[str, Any]:
        return {"t": "name", "q": self.qualname, "kind": "class"} if self.is_class else {"t": "name", "q": self.qualname}

    def renamed(self, mapping: dict[str, str]) -> "Ref":
        return replace(self, qualname=mapping[self.qualname]) if self.qualname in mapping else self



@dataclass(frozen=True)
class MethodRef(_RefBase):
    """A method of a known class: `self.m`, `obj.m` for `obj = C()`, `C.m`."""

    T: ClassVar[str] = "method"
    cls: str
    name: str
    # the class is the receiver's declared type (an annotation, an isinstance test), not the one
    # it was made with: a subclass's override may be what runs
    declared: bool = False


@dataclass(frozen=True)
class AttributeRef(_RefBase):
    """A method of a receiver of unknown type: `x.append`, `client.get`."""

    T: ClassVar[str] = "meth"
    name: str
    outside: bool = False  # the receiver was made elsewhere (a parameter, a global)

    def to_json(self) -> dict[str, Any]:
        return {"t": "meth", "name": self.name, "recv": "outside"} if self.outside else {"t": "meth", "name": self.name}



@dataclass(frozen=True)
class PartialRef(_RefBase):
    """`functools.partial(inner, ...)`."""

    T: ClassVar[str] = "partial"
    inner: "Ref"

    def renamed(self, mapping: dict[str, str]) -> "Ref":
        return replace(self, inner=self.inner.renamed(mapping))


@dataclass(frozen=True)
class ParamRef(_RefBase):
    """A parameter of a function: what it holds depends on the callers."""

    T: ClassVar[str] = "param"
    func: str  # the function's full qualname
    index: int
    name: str


@dataclass(frozen=True)
class PoolRef(_RefBase):
    """A pool or executor made here: `ThreadPoolExecutor(4)`."""

    T: ClassVar[str] = "pool"
    cls: str
    size: Optional[int]  # None: the default size; -1: not a literal


@dataclass(frozen=True)
class PoolMethodRef(_RefBase):
    """A method of a pool made here: `pool.map`."""

    T: ClassVar[str] = "poolmeth"
    pool: PoolRef
    name: str


@dataclass(frozen=True)
class InstanceRef(_RefBase):
    """What calling a name returns: an instance of a class, or a factory's result."""

    T: ClassVar[str] = "inst"
    cls: str
    declared: bool = False  # as MethodRef.declared


@dataclass(frozen=True)
class ResultRef(_RefBase):
    """What calling a value we track gives, when that value is not a name: `make_pool()()`
    (a factory that returns a pool class), `self.pool_cls(4)` for a class kept elsewhere."""

    T: ClassVar[str] = "result"
    of: "Ref"

    def renamed(self, mapping: dict[str, str]) -> "Ref":
        return replace(self, of=self.of.renamed(mapping))


@dataclass(frozen=True)
class SelfRef(_RefBase):
    """The first parameter of a method."""

    T: ClassVar[str] = "self"
    cls: str


@dataclass(frozen=True)
class EitherRef(_RefBase):
    """One of several callables, by the branch taken: `f = a if c else b`, or `f` assigned
    in the arms of an `if`/`elif`/`else`."""

    T: ClassVar[str] = "either"
    options: tuple  # of Refs, none of them an EitherRef

    def to_json(self) -> dict[str, Any]:
        return {"t": "either", "of": [o.to_json() for o in self.options]}

    def renamed(self, mapping: dict[str, str]) -> "Ref":
        return replace(self, options=tuple(o.renamed(mapping) for o in self.options))


@dataclass(frozen=True)
class LocalRef(_RefBase):
    """A value made here that is not worth tracking (a number, a list, None)."""

    T: ClassVar[str] = "local"


@dataclass(frozen=True)
class UnknownRef(_RefBase):
    T: ClassVar[str] = "unknown"


Ref = Union[NameRef, MethodRef, AttributeRef, PartialRef, ParamRef, PoolRef, PoolMethodRef, InstanceRef, ResultRef, SelfRef, EitherRef, LocalRef, UnknownRef]
REF_TYPES = (NameRef, MethodRef, AttributeRef, PartialRef, ParamRef, PoolRef, PoolMethodRef, InstanceRef, ResultRef, SelfRef, EitherRef, LocalRef, UnknownRef)
UNKNOWN = UnknownRef()
LOCAL = LocalRef()
# What an assignment records: a name bound to anything else is just a local value.
TRACKED = (NameRef, MethodRef, PoolRef, PartialRef, InstanceRef, ResultRef, SelfRef, ParamRef, EitherRef)
MAX_OPTIONS = 8  # callables an EitherRef keeps: more branches than this are a dispatch table
# What an EitherRef may hold: things that can be called to run a worker.
CALLABLE_OPTIONS = (NameRef, MethodRef, PartialRef, ParamRef)


def ref_from_json(d: dict[str, Any]) -> Ref:
    """The inverse of `to_json`; raises KeyError, TypeError or ValueError on anything else."""
    t = d["t"]
    if t == "name":
        return NameRef(_str(d["q"]), d.get("kind") == "class")
    if t == "method":
        return MethodRef(_str(d["cls"]), _str(d["name"]), d.get("declared") is True)
    if t == "meth":
        return AttributeRef(_str(d["name"]), d.get("recv") == "outside")
    if t == "partial":
        return PartialRef(ref_from_json(d["inner"]))
    if t == "param":
        return ParamRef(_str(d["func"]), _int(d["index"]), _str(d["name"]))
    if t == "pool":
        size = d["size"]
        return PoolRef(_str(d["cls"]), None if size is None else _int(size))
    if t == "poolmeth":
        pool = ref_from_json(d["pool"])
        if not isinstance(pool, PoolRef):
            raise ValueError("poolmeth of a non-pool")
        return PoolMethodRef(pool, _str(d["name"]))
    if t == "inst":
        return InstanceRef(_str(d["cls"]), d.get("declared") is True)
    if t == "result":
        return ResultRef(ref_from_json(d["of"]))
    if t == "self":
        return SelfRef(_str(d["cls"]))
    if t == "either":
        of = d["of"]
        if not isinstance(of, list) or not 2 <= len(of) <= MAX_OPTIONS:
            raise ValueError("either: 2 to MAX_OPTIONS options")
        options = tuple(ref_from_json(o) for o in of)
        if not all(isinstance(o, CALLABLE_OPTIONS) for o in options):
            raise ValueError("either: an option that is not a callable ref")
        return EitherRef(options)
    if t == "local":
        return LOCAL
    if t == "unknown":
        return UNKNOWN
    raise ValueError(f"unknown ref kind {t!r}")


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("expected a string")
    return v


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("expected an int")
    return v
