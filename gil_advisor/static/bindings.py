"""What each name holds, scope by scope, and what an expression denotes (its ref).

Names are resolved the way pyflakes does it, without a type system: imports and
module-level definitions are collected first (`prepass`), function bodies are then read
in order, and an assignment only tells us what a name holds when its value is something
we track (a thread pool, a partial, a lambda, a project function or class).
"""
from __future__ import annotations

import builtins
from typing import Optional, Union

import libcst as cst

from gil_advisor.static.refs import (
    LOCAL,
    TRACKED,
    UNKNOWN,
    CALLABLE_OPTIONS,
    MAX_OPTIONS,
    AttributeRef,
    EitherRef,
    InstanceRef,
    LocalRef,
    MethodRef,
    NameRef,
    ParamRef,
    PartialRef,
    PoolMethodRef,
    PoolRef,
    Ref,
    ResultRef,
    SelfRef,
    UnknownRef,
)
from gil_advisor.static.spawn_forms import POOLS_BY_CLASS, THREAD_POOLS
from gil_advisor.static.summary import ClassRec, FunctionRec, ModuleSummary
from gil_advisor.static.syntax import branches, dotted, is_main_guard, literal_int

PARTIALS = frozenset({"functools.partial"})
# Annotations that name no concrete class: what a parameter so annotated holds is anyone's guess.
UNTYPED_ANNOTATIONS = ("typing.", "typing_extensions.", "collections.abc.", "abc.", "types.", "_typeshed.")
BUILTINS = frozenset(dir(builtins))


def _is_pool(ref: Ref) -> bool:
    return isinstance(ref, PoolRef) or (isinstance(ref, NameRef) and ref.qualname in POOLS_BY_CLASS)


def _may_be_thread_pool(ref: Ref) -> bool:
    if isinstance(ref, PoolRef):
        return ref.cls in THREAD_POOLS
    return isinstance(ref, NameRef) and ref.qualname in THREAD_POOLS


def either(refs: list) -> Ref:
    """What a name holds after branches that bound it to these refs (in source order). Callables
    make an EitherRef (any may run); a pool that may run threads wins, as in `bind`; anything
    else keeps the last binding, as before branches were followed."""
    options: list = []
    for r in refs:
        for o in (r.options if isinstance(r, EitherRef) else (r,)):
            if o not in options and not isinstance(o, LocalRef):  # `fn = None` first: not what runs
                options.append(o)
    if not options:
        return LOCAL
    if len(options) == 1:
        return options[0]
    pools = [o for o in options if _is_pool(o)]
    if pools:
        threaded = [o for o in pools if _may_be_thread_pool(o)]
        return threaded[0] if threaded else pools[-1]
    if len(options) <= MAX_OPTIONS and all(isinstance(o, CALLABLE_OPTIONS) for o in options):
        return EitherRef(tuple(options))
    return refs[-1]


_IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")


def catches_import_error(handler: cst.ExceptHandler) -> bool:
    """Would this handler catch a failed import (bare `except:` and `except Exception` too)?"""
    caught = handler.type
    if caught is None:
        return True
    kinds = [caught] if not isinstance(caught, cst.Tuple) else [el.value for el in caught.elements]
    return any(isinstance(k, cst.Name) and k.value in _IMPORT_ERRORS for k in kinds)


def imported_names(body) -> set[str]:
    """The names bound by the import statements directly in a block."""
    out: set[str] = set()
    for line in body:
        for small in line.body if isinstance(line, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    out.add(bound.value if isinstance(bound, cst.Name) else (dotted(bound) or "").split(".")[0])
    return out


def _import_fallback(stmt: cst.Try, name: str) -> bool:
    """Does an `except ImportError` (or ModuleNotFoundError) handler of this try rebind `name`
    by an import? Only then is the handler's binding a fallback for the try body's."""
    for handler in stmt.handlers:
        caught = handler.type
        kinds = [caught] if not isinstance(caught, cst.Tuple) else [el.value for el in caught.elements]
        if any(isinstance(k, cst.Name) and k.value in ("ImportError", "ModuleNotFoundError") for k in kinds):
            if name in imported_names(handler.body.body):
                return True
    return False


class Scope:
    __slots__ = ("kind", "qualname", "co_qualname", "comps", "bindings", "func", "loops", "comp_depth", "cls", "calls")

    def __init__(self, kind: str, qualname: str, func: Optional[FunctionRec], cls: Optional[ClassRec] = None, co_qualname: str = ""):
        self.kind = kind  # "module" | "class" | "function"
        self.qualname = qualname
        self.co_qualname = co_qualname  # as CPython 3.11 spells it, comprehension scopes included
        self.comps: list[str] = []  # co_qualnames of the comprehensions open in this scope
        self.bindings: dict[str, Ref] = {}
        self.func = func
        self.loops: list[int] = []
        self.comp_depth = 0
        self.cls = cls
        self.calls: list[Ref] = []  # callee refs of the enclosing calls (for gather)


class Bindings:
    """The scope stack of one module being read, and the refs its expressions denote."""

    def __init__(self, summary: ModuleSummary, is_package: bool):
        self.summary = summary
        self.module_name = summary.module
        parts = summary.module.split(".") if summary.module else []
        self.package_parts = parts if is_package else parts[:-1]
        top = FunctionRec(qualname="<module>", name="<module>", line=1, col=0, params=[])
        summary.functions["<module>"] = top
        self.stack: list[Scope] = [Scope("module", "", top)]
        self.lambda_names: dict[int, str] = {}
        # (function, parameter) -> the project class its annotation names: `graph: Graph`
        self.param_types: dict[tuple[str, str], str] = {}
        self.provisional: dict[str, str] = {}  # provisional lambda name -> final name
        self.attr_setters: dict[tuple[str, str], str] = {}  # (class, attribute) -> the function that set it last

    # ----- scopes and names ------------------------------------------------------------
    def full(self, qualname: str) -> str:
        return f"{self.module_name}.{qualname}" if self.module_name else qualname

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def func_scope(self) -> Scope:
        for s in reversed(self.stack):
            if s.func is not None:
                return s
        return self.stack[0]

    def child_qualname(self, name: str) -> str:
        s = self.scope
        if s.kind == "module":
            return name
        if s.kind == "class":
            return f"{s.qualname}.{name}"
        return f"{s.qualname}.<locals>.{name}"

    def child_co_qualname(self, name: str) -> str:
        """The co_qualname CPython 3.11 gives a code object defined here: comprehensions are
        scopes of their own, and add no `<locals>`."""
        s = self.scope
        if s.comps:
            return f"{s.comps[-1]}.{name}"
        if s.kind == "module":
            return name
        if s.kind == "class":
            return f"{s.co_qualname}.{name}"
        return f"{s.co_qualname}.<locals>.{name}"

    def lambda_qualname(self, node: cst.Lambda) -> str:
        """A lambda is named by its position; one referred to before it is visited (an
        argument) gets a provisional name, replaced once the summary is complete."""
        name = self.lambda_names.get(id(node))
        if name is None:
            name = self.child_qualname(f"<lambda#{len(self.lambda_names)}>")
            self.lambda_names[id(node)] = name
        return name

    def bind(self, name: str, ref: Ref) -> None:
        old = self.scope.bindings.get(name)
        if isinstance(old, NameRef) and _may_be_thread_pool(old) and isinstance(ref, NameRef) and _is_pool(ref) and not _may_be_thread_pool(ref):
            # `Pool = multiprocessing.dummy.Pool` in one branch, `multiprocessing.Pool` in the
            # other: without following branches, keep the pool class that may run threads
            return
        self.scope.bindings[name] = ref
        if self.scope.kind == "module":
            self.summary.names[name] = ref
        elif self.scope.kind == "class" and self.scope.cls is not None and isinstance(ref, TRACKED):
            self.scope.cls.attrs[name] = ref

    def lookup(self, name: str) -> Ref:
        innermost = self.stack[-1]
        for s in reversed(self.stack):
            if s.kind == "class" and s is not innermost:
                continue  # class bodies are not enclosing scopes for functions
            if name in s.bindings:
                return s.bindings[name]
        if name in BUILTINS:
            return NameRef(f"builtins.{name}")
        return UNKNOWN

    def class_rec(self, full_cls: str) -> Optional[ClassRec]:
        prefix = f"{self.module_name}." if self.module_name else ""
        if full_cls.startswith(prefix):
            return self.summary.classes.get(full_cls[len(prefix):])
        return None

    # ----- what an expression denotes ----------------------------------------------------
    def ref_of(self, node: cst.BaseExpression) -> Ref:
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return LOCAL
            return self.lookup(node.value)
        if isinstance(node, cst.Attribute):
            return self._attribute(self.ref_of(node.value), node.attr.value)
        if isinstance(node, cst.Lambda):
            return NameRef(self.full(self.lambda_qualname(node)))
        if isinstance(node, cst.IfExp):
            # `ThreadPoolExecutor if threads else ProcessPoolExecutor`: what may run threads wins
            options = [self.ref_of(node.body), self.ref_of(node.orelse)]
            pools = [r for r in options if _may_be_thread_pool(r)]
            if pools:
                return pools[0]
            if options[0] == options[1]:
                return options[0]
            merged = either(options)
            return merged if isinstance(merged, EitherRef) else UNKNOWN
        if isinstance(node, cst.Call):
            callee = self.ref_of(node.func)
            if isinstance(callee, PartialRef) and isinstance(callee.inner, NameRef) and callee.inner.qualname in POOLS_BY_CLASS:
                return PoolRef(callee.inner.qualname, -1)  # partial(ThreadPoolExecutor, max_workers=n)()
            if isinstance(callee, MethodRef):
                # what a method returns: the linker reads the method's `return` (a pool factory)
                return InstanceRef(f"{callee.cls}.{callee.name}")
            if isinstance(callee, (InstanceRef, ParamRef)):
                # `make_pool_class()(4)`, `pool_cls(4)` for a parameter: the linker follows the
                # factory's returns or the callers' arguments (a pool class, a partial of one)
                return ResultRef(callee)
            q = callee.qualname if isinstance(callee, NameRef) else None
            if q in PARTIALS and node.args:
                return PartialRef(self.ref_of(node.args[0].value))
            if q in POOLS_BY_CLASS:
                return PoolRef(q, self.pool_size(q, node))
            if q is not None:
                # The result of calling a name: an instance of a class, or what a factory
                # returns. The linker decides which (project class, known module, unknown).
                return InstanceRef(q)
            return UNKNOWN
        return UNKNOWN

    def annotation_ref(self, node: cst.BaseExpression) -> Ref:
        """What a type annotation names; a string annotation (`"Config"`) is read as the name in it."""
        if isinstance(node, cst.SimpleString):
            text = node.evaluated_value if isinstance(node.evaluated_value, str) else ""
            parts = text.strip().split(".")
            if not parts or not all(p.isidentifier() for p in parts):
                return UNKNOWN
            ref = self.lookup(parts[0])
            for part in parts[1:]:
                ref = self._attribute(ref, part)
            return ref
        return self.ref_of(node)

    def _attribute(self, base: Ref, attr: str) -> Ref:
        if isinstance(base, NameRef):
            return NameRef(f"{base.qualname}.{attr}")
        if isinstance(base, SelfRef):
            cls = self.class_rec(base.cls)
            if cls is not None and attr in cls.attrs:
                return cls.attrs[attr]
            return MethodRef(base.cls, attr)
        if isinstance(base, InstanceRef):
            return MethodRef(base.cls, attr, base.declared)
        if isinstance(base, PoolRef):
            return PoolMethodRef(base, attr)
        if isinstance(base, EitherRef):
            # `(json if fast else simplejson).loads`: the attribute of each option, if all are names
            parts = [self._attribute(o, attr) for o in base.options]
            if all(isinstance(p, (NameRef, MethodRef)) for p in parts):
                return either(parts)
            return AttributeRef(attr, outside=True)
        if isinstance(base, ParamRef) and (base.func, base.name) in self.param_types:
            # an annotated parameter: the linker finds the method in the class (or a subclass)
            return MethodRef(self.param_types[base.func, base.name], attr, declared=True)
        if isinstance(base, (ParamRef, UnknownRef, AttributeRef, MethodRef, ResultRef)):
            # a parameter, an unresolvable global, or an attribute of one: made elsewhere
            return AttributeRef(attr, outside=True)
        return AttributeRef(attr)

    def project_class_name(self, node: cst.BaseExpression, anywhere: bool = False) -> Optional[str]:
        """The qualified name an annotation (`Graph`, `Optional[Graph]`, `Graph | None`, `"Graph"`)
        gives, when it is a name in this module's own top-level package (a project class, most
        likely, checked by the linker) or, with `anywhere`, any class but typing's (`str`,
        `bs4.BeautifulSoup`; not `Any`, `Callable`, a Protocol of collections.abc)."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            sides = [node.left, node.right]
            rest = [x for x in sides if not (isinstance(x, cst.Name) and x.value == "None")]
            return self.project_class_name(rest[0], anywhere) if len(rest) == 1 else None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            outer = self.ref_of(node.value)
            if isinstance(outer, NameRef) and outer.qualname in ("typing.Optional", "typing_extensions.Optional"):
                return self.project_class_name(node.slice[0].slice.value, anywhere)
            return None
        if not isinstance(node, (cst.Name, cst.Attribute, cst.SimpleString)):
            return None
        ref = self.annotation_ref(node)
        top = self.module_name.split(".")[0]
        if not top or not isinstance(ref, NameRef) or ref.qualname in POOLS_BY_CLASS:
            return None
        if ref.qualname.startswith(top + "."):
            return ref.qualname
        if anywhere and "." in ref.qualname and not ref.qualname.startswith(UNTYPED_ANNOTATIONS) and ref.qualname != "builtins.object":
            return ref.qualname
        return None

    def callable_ref(self, node: cst.BaseExpression) -> Optional[Ref]:
        """The ref of an argument that may be a callable, or None."""
        if isinstance(node, (cst.Name, cst.Attribute, cst.Lambda, cst.Call)):
            ref = self.ref_of(node)
            return None if isinstance(ref, (UnknownRef, LocalRef)) else ref
        return None

    @staticmethod
    def pool_size(cls_q: str, call: cst.Call) -> Optional[int]:
        keyword = POOLS_BY_CLASS[cls_q].size_keyword
        value = None
        for i, arg in enumerate(call.args):
            if arg.keyword is None and arg.star == "" and i == 0:
                value = arg.value
            elif arg.keyword is not None and arg.keyword.value == keyword:
                value = arg.value
        return None if value is None else literal_int(value)

    # ----- bindings ------------------------------------------------------------------------
    def prepass(self, body) -> None:
        """Module-level names, bound before any body is read (names used before their definition)."""
        for stmt in body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.bind(stmt.name.value, NameRef(self.full(stmt.name.value), isinstance(stmt, cst.ClassDef)))
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self.bind_import(small)
            elif isinstance(stmt, cst.Try):
                before = dict(self.scope.bindings)
                self.prepass(stmt.body.body)
                # `try: import threading / except ImportError: import dummy_threading as threading`:
                # the handler is a fallback for old or stripped interpreters, so a name the try
                # body bound keeps the try body's meaning
                primary = {k: v for k, v in self.scope.bindings.items() if before.get(k) != v}
                for extra in branches(stmt):
                    self.prepass(extra)
                for name, ref in primary.items():
                    if self.scope.bindings.get(name) != ref and _import_fallback(stmt, name):
                        self.bind(name, ref)
            elif isinstance(stmt, (cst.If, cst.With)):
                if isinstance(stmt, cst.If) and is_main_guard(stmt.test):
                    self.summary.main_guarded = True
                self.prepass(stmt.body.body)
                for extra in branches(stmt):
                    self.prepass(extra)

    def resolve_relative(self, level: int, module: Optional[str]) -> str:
        base = self.package_parts[: len(self.package_parts) - (level - 1)] if level > 1 else self.package_parts
        parts = list(base) + ([module] if module else [])
        return ".".join(p for p in parts if p)

    def bind_import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                name = dotted(alias.name)
                if not name:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.bind(alias.asname.name.value, NameRef(name))
                else:
                    top = name.split(".")[0]
                    self.bind(top, NameRef(top))
            return
        module = dotted(node.module) if node.module is not None else None
        level = len(node.relative)
        base = self.resolve_relative(level, module) if level else (module or "")
        if isinstance(node.names, cst.ImportStar):
            if self.scope.kind == "module" and base:
                # `from .core import *` in a package's __init__: the linker looks names up there
                # too. Kept among the names under a key no identifier can be ("*0", "*1", ...).
                key = f"*{sum(1 for k in self.summary.names if k.startswith('*'))}"
                if NameRef(base) not in self.summary.names.values():
                    self.summary.names[key] = NameRef(base)
            return
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else dotted(alias.name)
            if not name:
                continue
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self.bind(local, NameRef(f"{base}.{name}" if base else name))

    def bind_target(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        """An assignment: `x = v`, `self.x = v`, `a, b = ...`."""
        if isinstance(target, cst.Name):
            ref = self.ref_of(value) if value is not None else UNKNOWN
            self.bind(target.value, ref if isinstance(ref, TRACKED) else LOCAL)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and value is not None:
            owner = self.lookup(target.value.value)
            if isinstance(owner, SelfRef):
                ref = self.ref_of(value)
                cls = self.class_rec(owner.cls)
                if cls is None:
                    return
                old = cls.attrs.get(target.attr.value)
                key = (owner.cls, target.attr.value)
                setter, self.attr_setters[key] = self.attr_setters.get(key), self.func_scope().func.qualname
                if isinstance(ref, TRACKED):
                    # `self.executor = ThreadPoolExecutor(n)` in one arm, a process pool in another
                    # (or in another method): as for names, the pool that may run threads wins
                    pools = old is not None and _is_pool(old) and _is_pool(ref)
                    # `self._worker_type = WorkerThread` in one method, `= WorkerProcess` in
                    # another: which method ran last is unknown, so the attribute holds either
                    elsewhere = setter is not None and setter != self.func_scope().func.qualname and isinstance(old, CALLABLE_OPTIONS + (EitherRef,)) and isinstance(ref, CALLABLE_OPTIONS)
                    cls.attrs[target.attr.value] = either([old, ref]) if pools or elsewhere else ref
                elif isinstance(ref, UnknownRef) and isinstance(old, CALLABLE_OPTIONS + (EitherRef,)):
                    # `self._dispatch = self._base; self._dispatch = middleware(self._dispatch)`:
                    # rebound to something we cannot see, the attribute is no longer that method
                    cls.attrs[target.attr.value] = UNKNOWN
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.bind_target(el.value, None)
