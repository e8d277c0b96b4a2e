"""Resolve refs to the project's functions and classes, across modules and through
aliases, partials, parameters and Thread subclasses."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from gil_advisor.static.project import Project
from gil_advisor.static.refs import EitherRef, InstanceRef, MethodRef, NameRef, ParamRef, PartialRef
from gil_advisor.static.summary import CallRec, ClassRec, FunctionRec, ModuleSummary, Ref

THREAD_BASES = frozenset({"threading.Thread"})
PROTOCOL_BASES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
OBJECT_METHODS = frozenset(name for name in dir(object) if callable(getattr(object, name)))
MAX_ALIAS_HOPS = 8
MAX_PARAM_CALLERS = 20
MAX_OVERRIDES = 8  # implementations of an abstract method taken as what it runs
MAX_SUBCLASS_LEVELS = 3  # generations of subclasses read to find them
MAX_MRO_DEPTH = 10  # bases followed up (and generations of subclasses down) from a class
# Two indexes, each built in one pass over the project's files (read_source keeps the bytes):
# every `def name(`, and every word in a class statement's bases.
DEF_NAME = re.compile(rb"\bdef\s+(\w+)\s*\(")
CLASS_BASES = re.compile(rb"class\s+\w+\s*\(([^)]*)")
WORD = re.compile(rb"\w+")
# A function these make dispatches on its arguments' types to the implementations registered
# with `@f.register`: those are what run.
DISPATCH_DECORATORS = frozenset({"functools.singledispatch", "multimethod.multimethod", "multimethod.multidispatch"})


@dataclass(frozen=True)
class FunctionHandle:
    summary: ModuleSummary
    rec: FunctionRec

    @property
    def full(self) -> str:
        return f"{self.summary.module}.{self.rec.qualname}" if self.summary.module else self.rec.qualname


@dataclass
class Target:
    """What a spawn (or a call) runs: a project function, an external name, or unknown."""

    handle: Optional[FunctionHandle] = None
    external: Optional[str] = None
    via: list[str] = field(default_factory=list)  # "functools.partial", "lambda", "parameter fn of f"
    form: str = "function"  # function | nested | lambda | method | partial | external | unknown
    bound_to: Optional[str] = None  # class of a bound method

    @property
    def name(self) -> str:
        if self.handle is not None:
            return self.handle.full
        return self.external or "<unknown>"


class Resolver:
    def __init__(self, project: Project):
        self.project = project
        self._callers: dict[str, list] = {}
        self._subclass_methods: dict[tuple[str, str], Optional[FunctionHandle]] = {}
        self._mentioned: set[str] = set()
        self._concrete: dict[tuple[str, str], list[FunctionHandle]] = {}  # also ("register", f)
        self._canonical: dict[str, tuple[Optional[ModuleSummary], str]] = {}
        self._named: dict[str, list[FunctionHandle]] = {}
        self._defines: Optional[dict[str, list[str]]] = None  # method name -> modules defining it
        self._base_words_index: dict[str, list[str]] = {}  # a word in a class's bases -> modules
        self._base_words_seen: set[str] = set()
        self._base_words_files = -1

    # ----- names ---------------------------------------------------------------------
    def canonical(self, qualified: str) -> tuple[Optional[ModuleSummary], str]:
        """Follow re-exports (`from .workers import crunch` in __init__) to the definition."""
        hit = self._canonical.get(qualified)
        if hit is not None:
            return hit
        found = self._follow(qualified)
        # A summary found stays found. Not finding one is final only when modules could be
        # parsed on the way: inside no_lazy_parsing, a module not parsed yet may be later.
        if found[0] is not None or self.project._lazy:
            self._canonical[qualified] = found
        return found

    def _follow(self, qualified: str) -> tuple[Optional[ModuleSummary], str]:
        for _ in range(MAX_ALIAS_HOPS):
            split = self.project.split_module(qualified)
            if split is None:
                return None, qualified
            mod, rest = split
            summary = self.project.summary(mod)
            if summary is None or not rest:
                return summary, qualified
            head = rest.split(".")[0]
            ref = summary.names.get(head)
            if ref is None and rest not in summary.functions and head not in summary.classes:
                ref = self._star_imported(summary, head)
            if rest in summary.functions or rest.split(".")[0] in summary.classes or ref is None:
                return summary, qualified
            if not isinstance(ref, NameRef) or ref.qualname == qualified:
                return summary, qualified
            tail = rest[len(head):]
            nxt = ref.qualname + tail
            if nxt == qualified:
                return summary, qualified
            qualified = nxt
        return None, qualified

    def _star_imported(self, summary: ModuleSummary, name: str) -> Optional[NameRef]:
        """`name` as a module's `from pkg.core import *` brings it in: the name in pkg.core."""
        for key, source in summary.names.items():
            if not key.startswith("*") or not isinstance(source, NameRef):
                continue
            other = self.project.summary(source.qualname)
            if other is not None and other is not summary and (
                name in other.functions or name in other.classes or name in other.names
            ):
                return NameRef(f"{source.qualname}.{name}")
        return None

    def function(self, qualified: str) -> Optional[FunctionHandle]:
        summary, q = self.canonical(qualified)
        if summary is None:
            return None
        rest = q[len(summary.module) + 1:] if summary.module else q
        rec = summary.functions.get(rest)
        if rec is not None:
            return FunctionHandle(summary, rec)
        # Class.method written as a dotted name
        if "." in rest:
            cls_name, meth = rest.rsplit(".", 1)
            if cls_name in summary.classes:
                return self.method(f"{self.full(summary, cls_name)}", meth)
            # `config.get` for a module-level `config = Config()`, imported from elsewhere
            bound = summary.names.get(cls_name)
            if isinstance(bound, InstanceRef) and bound.cls != q:
                cls = self.class_of(bound.cls)
                return self.method(cls, meth) if cls is not None else None
        return None

    def class_of(self, q: str, depth: int = 0) -> Optional[str]:
        """The class of what calling `q` gives: `q` itself if it is a class, else what the function
        is annotated or seen to return (`RevInfo.from_config(...)` returns `cls(...)`)."""
        if depth > MAX_ALIAS_HOPS:
            return None
        if self.cls(q) is not None:
            return q
        handle = self.function(q) or self.method_of_result(q, depth + 1)
        if handle is None:
            return None
        for r in handle.rec.returns:
            if isinstance(r, InstanceRef) and r.cls != q:
                found = self.class_of(r.cls, depth + 1)
                if found is not None:
                    return found
        return None

    def method_of_result(self, q: str, depth: int = 0) -> Optional[FunctionHandle]:
        """`make_config().get_executor`: the method of the class a call returns."""
        if "." not in q or depth > MAX_ALIAS_HOPS:
            return None
        head, meth = q.rsplit(".", 1)
        cls = self.class_of(head, depth + 1)
        return self.method(cls, meth) if cls is not None else None

    def cls(self, qualified: str) -> Optional[tuple[ModuleSummary, ClassRec]]:
        summary, q = self.canonical(qualified)
        if summary is None:
            return None
        rest = q[len(summary.module) + 1:] if summary.module else q
        rec = summary.classes.get(rest)
        return (summary, rec) if rec is not None else None

    @staticmethod
    def full(summary: ModuleSummary, qualname: str) -> str:
        return f"{summary.module}.{qualname}" if summary.module else qualname

    def mro(self, qualified: str, depth: int = 0) -> Iterator[tuple[ModuleSummary, ClassRec]]:
        found = self.cls(qualified)
        if found is None or depth > MAX_MRO_DEPTH:
            return
        yield found
        for base in found[1].bases:
            if isinstance(base, NameRef):
                yield from self.mro(base.qualname, depth + 1)

    def method(self, cls_q: str, name: str) -> Optional[FunctionHandle]:
        for summary, rec in self.mro(cls_q):
            if name in rec.methods:
                return FunctionHandle(summary, summary.functions[rec.methods[name]])
        return None

    def _loaded_subclasses(self, cls_q: str) -> Iterator[str]:
        """Full names of the loaded classes that have `cls_q` in their MRO (not itself), in the
        order their modules were loaded. Candidates come, generation by generation, from the
        index of loaded classes by their bases' last names; each one's MRO confirms it."""
        found: dict[str, tuple[ModuleSummary, ClassRec]] = {}
        shorts, asked = [cls_q.rsplit(".", 1)[-1]], set()
        for _ in range(MAX_MRO_DEPTH):
            below = []
            for short in shorts:
                if short in asked:
                    continue
                asked.add(short)
                for summary, crec in self.project.loaded_classes_with_base(short):
                    full = self.full(summary, crec.qualname)
                    if full == cls_q or full in found:
                        continue
                    if any(self.full(s, c.qualname) == cls_q for s, c in self.mro(full)):
                        found[full] = (summary, crec)
                        below.append(crec.qualname.rsplit(".", 1)[-1])
            if not below:
                break
            shorts = below
        if len(found) > 1:
            position = {module: i for i, module in enumerate(self.project.summaries)}
            order = {full: (position.get(sm.module, -1), list(sm.classes).index(c.qualname)) for full, (sm, c) in found.items()}
            yield from sorted(found, key=order.__getitem__)
        else:
            yield from found

    def method_in_subclasses(self, cls_q: str, name: str) -> Optional[FunctionHandle]:
        """`self.invoke()` in a mixin: the method as a loaded subclass of `cls_q` has it."""
        key = (cls_q, name)
        if key in self._subclass_methods:
            return self._subclass_methods[key]
        found = None
        self._load_subclass_modules(cls_q.rsplit(".", 1)[-1])
        for full in self._loaded_subclasses(cls_q):
            found = self.method(full, name)
            if found is not None:
                break
        self._subclass_methods[key] = found
        return found

    def _bases_all_known(self, cls_q: str) -> bool:
        """Is every base of the class, all the way up, a project class (or `object`)?"""
        for _, rec in self.mro(cls_q):
            for base in rec.bases:
                if not isinstance(base, NameRef):
                    return False
                if self.cls(base.qualname) is None and self._external_name(base.qualname) != "builtins.object":
                    return False
        return True

    def is_abstract(self, handle: FunctionHandle) -> bool:
        """A method that only declares an interface: `@abstractmethod`, a body that only raises
        NotImplementedError (after its docstring), or any method of a typing.Protocol. Its
        subclasses do the work."""
        rec = handle.rec
        if rec.cls is None:
            return False
        if any(d in ("abc.abstractmethod", "abc.abstractproperty") for d in rec.decorators):
            return True
        if rec.abstract:
            return True
        crec = handle.summary.classes.get(rec.cls)
        return crec is not None and any(
            isinstance(b, NameRef) and self._external_name(b.qualname) in PROTOCOL_BASES for b in crec.bases
        )

    def concrete_methods(self, cls_q: str, name: str) -> list[FunctionHandle]:
        """`graph.neighbors()` on a `Graph` whose `neighbors` is abstract: the implementations in
        its subclasses, grandchildren included (modules naming them among their bases are
        read), at most MAX_OVERRIDES; empty when no subclass implements it."""
        key = (cls_q, name)
        if key in self._concrete:
            return self._concrete[key]
        short = {cls_q.rsplit(".", 1)[-1]}
        for _ in range(MAX_SUBCLASS_LEVELS):  # read the modules of each generation of subclasses
            for base in short:
                self._load_subclass_modules(base)
            below = {crec.qualname.rsplit(".", 1)[-1] for base in short for _, crec in self.project.loaded_classes_with_base(base)}
            if below <= short:
                break
            short |= below
        found: list[FunctionHandle] = []
        for full in self._loaded_subclasses(cls_q):
            handle = self.method(full, name)
            if handle is not None and not self.is_abstract(handle) and handle not in found:
                found.append(handle)
        self._concrete[key] = found[:MAX_OVERRIDES]
        return self._concrete[key]

    def is_thread_class(self, cls_q: str) -> bool:
        for _, rec in self.mro(cls_q):
            for base in rec.bases:
                if isinstance(base, NameRef) and self._external_name(base.qualname) in THREAD_BASES:
                    return True
        return False

    def _external_name(self, q: str) -> str:
        summary, canon = self.canonical(q)
        return canon

    # ----- targets -------------------------------------------------------------------
    def target(self, ref: Ref, depth: int = 0) -> list[Target]:
        """Every callable the ref can denote (a parameter can have several)."""
        if depth > 6:
            return [Target(form="unknown")]
        if isinstance(ref, NameRef):
            handle = self.function(ref.qualname)
            if handle is not None and handle.rec.abstract and DISPATCH_DECORATORS & set(handle.rec.decorators):
                # `@singledispatch def describe(x): raise NotImplementedError`: the registered ones run
                impls = self.registered_implementations(handle)
                if impls:
                    return [Target(handle=h, form=_form(h), via=[f"registered for {handle.full}"]) for h in impls]
            if handle is not None:
                return [Target(handle=handle, form=_form(handle))]
            if self.cls(ref.qualname) is not None:
                init = self.method(ref.qualname, "__init__") or self.method(ref.qualname, "__post_init__")
                if init is not None:
                    return [Target(handle=init, form="method")]
                if self._bases_all_known(ref.qualname):
                    # no `__init__` anywhere in a class of the project's own: `object.__init__`,
                    # or the field assignments a @dataclass generates (its __post_init__ is above)
                    return [Target(external="builtins.object", form="external")]
                return [Target(form="unknown")]
            return [Target(external=self._external_name(ref.qualname), form="external")]
        if isinstance(ref, MethodRef):
            handle = self.method(ref.cls, ref.name)
            if handle is None and self.cls(ref.cls) is None:
                # a method of what a factory returned: `RevInfo.from_config(repo).update()`
                handle = self.method_of_result(f"{ref.cls}.{ref.name}")
            elif handle is None and ref.name in OBJECT_METHODS and self._bases_all_known(ref.cls):
                # `self.__getattribute__(name)` in a class whose bases are all the project's:
                # only `object` can supply it
                return [Target(external=f"builtins.object.{ref.name}", form="external")]
            elif handle is None:
                # a mixin calling a method its concrete subclasses get from another base
                handle = self.method_in_subclasses(ref.cls, ref.name)
            if handle is not None and self.is_abstract(handle):
                # an interface method does nothing itself: what runs is a subclass's override
                owner = ref.cls if self.cls(ref.cls) is not None else self.full(handle.summary, handle.rec.cls)
                overrides = self.concrete_methods(owner, ref.name)
                if not overrides:
                    return [Target(form="unknown")]
                return [Target(handle=h, form="method", bound_to=ref.cls, via=[f"an override of {handle.full}"]) for h in overrides]
            if handle is not None and ref.declared and self.cls(ref.cls) is not None:
                # `ev: Evaluator` or `isinstance(ev, Evaluator)`: an instance of a subclass is as
                # likely, and one that overrides the method runs its own
                impls = [handle] + [h for h in self.concrete_methods(ref.cls, ref.name) if h != handle]
                if len(impls) > 1:
                    return [Target(handle=h, form="method", bound_to=ref.cls, via=[] if h == handle else [f"an override of {handle.full}"])
                            for h in impls[:MAX_OVERRIDES]]
            if handle is not None:
                return [Target(handle=handle, form="method", bound_to=ref.cls)]
            return [Target(external=f"{self._external_name(ref.cls)}.{ref.name}", form="external")]
        if isinstance(ref, PartialRef):
            out = self.target(ref.inner, depth + 1)
            for tg in out:
                tg.via.insert(0, "functools.partial")
                tg.form = "partial" if tg.form in ("function", "partial") else tg.form
            return out
        if isinstance(ref, ParamRef):
            return self.param_targets(ref, depth)
        if isinstance(ref, EitherRef):
            # `func = find_feeds if feed else crawl_sitemap`: either may run
            out: list[Target] = []
            for option in ref.options:
                out += [tg for tg in self.target(option, depth + 1) if all(tg.name != o.name for o in out)]
            seen = [tg for tg in out if tg.handle is not None or tg.external is not None]
            return seen or [Target(form="unknown")]  # an option we cannot see adds nothing to those we can
        if isinstance(ref, InstanceRef):
            # `Thread(target=self._get_task())`: the function a factory returns
            maker = self.function(ref.cls) or self.method_of_result(ref.cls)
            if maker is not None:
                out = []
                for r in maker.rec.returns:
                    if isinstance(r, (NameRef, MethodRef)):
                        for tg in self.target(r, depth + 1):
                            if tg.handle is not None:
                                tg.via.insert(0, f"returned by {maker.full}")
                                out.append(tg)
                if out:
                    return out
        return [Target(form="unknown")]

    def implicit_args(self, func_q: str, call_ref: Ref) -> int:
        """How many of a function's parameters a call fills without passing them: `self` for a
        method called on an instance, `cls` for a classmethod however it is called."""
        handle = self.function(func_q)
        if handle is None or handle.rec.cls is None or "builtins.staticmethod" in handle.rec.decorators:
            return 0
        if "builtins.classmethod" in handle.rec.decorators:
            return 1
        if isinstance(call_ref, NameRef) and "." in call_ref.qualname:
            # `runner.map_all(fn)` on a module-level `runner = Runner()` is bound; only
            # `Runner.map_all(obj, fn)`, through the class, passes `self` explicitly
            return 0 if self.cls(call_ref.qualname.rsplit(".", 1)[0]) is not None else 1
        return 1 if isinstance(call_ref, MethodRef) else 0

    def param_targets(self, ref: ParamRef, depth: int) -> list[Target]:
        """A worker passed in through a parameter: look at the project's calls of that function."""
        out: list[Target] = []
        callers = self.callers(ref.func)[:MAX_PARAM_CALLERS]
        omitted = not callers  # no caller in the project: the default is what we know runs
        for caller, call in callers:
            arg = None
            index = ref.index - self.implicit_args(ref.func, call.ref)
            if ref.name in call.kwargs:
                arg = call.kwargs[ref.name]
            elif 0 <= index < len(call.args):
                arg = call.args[index]
            elif index >= call.nargs and not {ref.name, "*", "**"} & set(call.keywords):
                omitted = True  # this call leaves the parameter to its default
            if arg is None:
                continue
            for tg in self.target(arg, depth + 1):
                tg.via.insert(0, f"parameter `{ref.name}` of {ref.func} (called at {os.path.basename(caller.path)}:{call.line})")
                out.append(tg)
        handle = self.function(ref.func)
        default = handle.rec.defaults.get(ref.name) if handle is not None else None
        if omitted and default is not None:
            for tg in self.target(default, depth + 1):
                tg.via.insert(0, f"the default of parameter `{ref.name}` of {ref.func}")
                out.append(tg)
        return out or [Target(form="unknown")]

    def _load_subclass_modules(self, base: str) -> None:
        """Parse the project's modules that define a class naming `base` among its bases (once)."""
        if base in self._mentioned:
            return
        self._mentioned.add(base)
        for module in self._base_words().get(base, ()):
            if module not in self.project.summaries:
                self.project.summary(module)

    def _base_words(self) -> dict[str, list[str]]:
        """For each word in the base list of a `class` statement, the project's modules (not
        libraries) that have one: each file is read once, for every base asked about."""
        self.project.discover_roots()
        if len(self.project.files) != self._base_words_files:
            for module, src in list(self.project.files.items()):
                if module in self._base_words_seen or self.project.is_library(module):
                    continue
                self._base_words_seen.add(module)
                data = self.project.read_source(src.path)
                if data is None:
                    continue
                words = {w for m in CLASS_BASES.finditer(data) for w in WORD.findall(m.group(1))}
                for w in words:
                    self._base_words_index.setdefault(w.decode(), []).append(module)
            self._base_words_files = len(self.project.files)
        return self._base_words_index

    def registered_implementations(self, handle: FunctionHandle) -> list[FunctionHandle]:
        """The functions of the project decorated `@<handle>.register`, at most MAX_OVERRIDES."""
        key = ("register", handle.full)
        if key in self._concrete:
            return self._concrete[key]
        name = handle.rec.name
        pattern = re.compile(rb"@\s*[\w.]*\b" + re.escape(name.encode()) + rb"\s*\.\s*register\b")
        self.project.discover_roots()
        found: list[FunctionHandle] = []
        for module, src in list(self.project.files.items()):
            if len(found) >= MAX_OVERRIDES:
                break
            if module not in self.project.summaries:
                data = self.project.read_source(src.path)
                if data is None or name.encode() not in data or not pattern.search(data):
                    continue
            summary = self.project.summary(module)
            if summary is None:
                continue
            for rec in summary.functions.values():
                for d in rec.decorators:
                    if d.endswith(".register") and d.rsplit(".", 2)[-2] == name:
                        base = self.function(d[: -len(".register")])
                        if base is not None and base.full == handle.full and rec is not handle.rec:
                            found.append(FunctionHandle(summary, rec))
                            break
        self._concrete[key] = found[:MAX_OVERRIDES]
        return self._concrete[key]

    def project_methods_named(self, name: str) -> list[FunctionHandle]:
        """The project's own instance methods called `name` (not an installed library's; not
        static or class methods, which are called through the class), abstract ones left out,
        at most MAX_OVERRIDES: what `x.execute()` on a receiver of unknown type may run."""
        if name in self._named:
            return self._named[name]
        if self._defines is None:
            self._defines = self._modules_defining()
        found: list[FunctionHandle] = []
        for module in self._defines.get(name, ()):
            summary = self.project.summary(module)
            if summary is None:
                continue
            for rec in summary.functions.values():
                if rec.name != name or rec.cls is None or "<locals>" in rec.qualname or not rec.params:
                    continue
                if {"builtins.staticmethod", "builtins.classmethod"} & set(rec.decorators):
                    continue
                handle = FunctionHandle(summary, rec)
                if not self.is_abstract(handle):
                    found.append(handle)
            if len(found) >= MAX_OVERRIDES:
                break
        self._named[name] = found[:MAX_OVERRIDES]
        return self._named[name]

    def _modules_defining(self) -> dict[str, list[str]]:
        """For each name a method or function is defined with, the project's modules (not
        libraries) with a `def name(` in them: one read of the files answers every name."""
        self.project.discover_roots()
        out: dict[str, list[str]] = {}
        for module, src in list(self.project.files.items()):
            if self.project.is_library(module):
                continue
            data = self.project.read_source(src.path)
            if data is None:
                continue
            for hit in set(DEF_NAME.findall(data)):
                out.setdefault(hit.decode(), []).append(module)
        return out

    def callers(self, func_q: str) -> list[tuple[ModuleSummary, CallRec]]:
        if func_q in self._callers:
            return self._callers[func_q]
        name = func_q.rsplit(".", 1)[-1]
        pattern = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
        out = []
        self.project.discover_roots()
        for module, src in list(self.project.files.items()):
            if module not in self.project.summaries:
                data = self.project.read_source(src.path)  # regular files within the size limit only
                if data is None or name.encode() not in data or not pattern.search(data):
                    continue
            summary = self.project.summary(module)
            if summary is None:
                continue
            for fn in summary.functions.values():
                for call in fn.calls:
                    if self.call_resolves_to(call.ref, func_q, name):
                        out.append((summary, call))
        self._callers[func_q] = out
        return out

    def call_resolves_to(self, ref: Ref, func_q: str, name: str) -> bool:
        if isinstance(ref, NameRef) and ref.qualname.rsplit(".", 1)[-1] == name:
            handle = self.function(ref.qualname)
            return handle is not None and handle.full == func_q
        if isinstance(ref, MethodRef) and ref.name == name:
            handle = self.method(ref.cls, name)
            return handle is not None and handle.full == func_q
        return False


def _form(handle: FunctionHandle) -> str:
    if handle.rec.name == "<lambda>":
        return "lambda"
    if "<locals>" in handle.rec.qualname:
        return "nested"
    if handle.rec.cls is not None:
        return "method"
    return "function"
