"""One libcst pass over a module that records what the linker needs: a ModuleSummary.

Names are resolved the way pyflakes does it, without a type system: imports and
module-level definitions are collected first, function bodies are then read in order,
and an assignment only tells us what a name holds when its value is something we track
(a thread pool, a partial, a lambda, a project function or class).
"""
from __future__ import annotations

import ast
import builtins
import re
from typing import Optional, Union

import libcst as cst
from libcst.metadata import PositionProvider

from gil_advisor.static.summary import (
    UNKNOWN,
    CallRec,
    ClassRec,
    FunctionRec,
    LoopRec,
    ModuleSummary,
    Ref,
    SpawnRec,
)

THREAD_POOLS = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.thread.ThreadPoolExecutor",
        "multiprocessing.pool.ThreadPool",
        "multiprocessing.dummy.Pool",
    }
)
# Pools that are not threads: tracked so that their methods are never mistaken for spawns.
OTHER_POOLS = frozenset(
    {
        "concurrent.futures.ProcessPoolExecutor",
        "concurrent.futures.process.ProcessPoolExecutor",
        "concurrent.futures.InterpreterPoolExecutor",
        "multiprocessing.Pool",
        "multiprocessing.pool.Pool",
    }
)
POOL_METHODS = frozenset(
    {"submit", "map", "imap", "imap_unordered", "starmap", "starmap_async", "map_async", "apply_async", "apply"}
)
THREAD_CLASSES = {"threading.Thread": "target", "threading.Timer": "function"}
START_NEW_THREAD = frozenset({"_thread.start_new_thread", "_thread.start_new"})
PARTIALS = frozenset({"functools.partial"})
GATHERS = frozenset({"asyncio.gather", "asyncio.wait"})
ENTRY_RUNNERS = frozenset({"asyncio.run"})
BUILTINS = frozenset(dir(builtins))
NOQA_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)

TRACKED = frozenset({"name", "pool", "partial", "inst", "self", "param"})

AnyFunction = Union[cst.FunctionDef, cst.Lambda]
_COMP_NAMES = {cst.ListComp: "<listcomp>", cst.SetComp: "<setcomp>", cst.DictComp: "<dictcomp>", cst.GeneratorExp: "<genexpr>"}


class _Scope:
    __slots__ = ("kind", "qualname", "co_qualname", "comps", "bindings", "func", "loops", "comp_depth", "cls", "calls")

    def __init__(self, kind: str, qualname: str, func: Optional[FunctionRec], cls: Optional[ClassRec] = None, co_qualname: str = ""):
        self.kind = kind
        self.qualname = qualname
        self.co_qualname = co_qualname  # as CPython 3.11 spells it, comprehension scopes included
        self.comps: list[str] = []  # co_qualnames of the comprehensions open in this scope
        self.bindings: dict[str, Ref] = {}
        self.func = func
        self.loops: list[int] = []
        self.comp_depth = 0
        self.cls = cls
        self.calls: list[Ref] = []  # callee refs of the enclosing calls (for gather)


def noqa_map(source: str) -> dict[str, list]:
    out: dict[str, list] = {}
    if "noqa" not in source:
        return out
    for lineno, line in enumerate(source.splitlines(), 1):
        m = NOQA_RE.search(line)
        if m:
            codes = m.group("codes")
            out[str(lineno)] = re.split(r"[,\s]+", codes.upper().strip()) if codes else []
    return out


class PositionMismatch(Exception):
    """The ast and libcst trees disagree: fall back to libcst's own positions."""


# libcst node types whose positions we record, and the ast types they match
_POSITIONED = {
    cst.Call: (ast.Call,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.Lambda: (ast.Lambda,),
    cst.ListComp: (ast.ListComp,),
    cst.SetComp: (ast.SetComp,),
    cst.DictComp: (ast.DictComp,),
    cst.GeneratorExp: (ast.GeneratorExp,),
}
_AST_KIND = {a: c for c, types in _POSITIONED.items() for a in types}


class AstPositions:
    """Positions taken from the ast tree that the pre-check parsed anyway.

    libcst's PositionProvider re-generates the whole module to learn positions, which
    costs more than parsing. The extractor visits nodes in source order, so the n-th
    Call it meets is the n-th Call of the ast sorted by position; calls are checked by
    name on the way, and any disagreement falls back to libcst's positions.
    """

    def __init__(self, tree: ast.AST, source: str):
        lines = source.splitlines()
        found: dict[type, list] = {c: [] for c in _POSITIONED}
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            kind = _AST_KIND.get(type(node))
            if kind is not None:
                line, col = node.lineno, node.col_offset
                if line <= len(lines) and not lines[line - 1].isascii():
                    col = len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))
                if kind is cst.Call:
                    extra = _ast_dotted(node.func)
                elif kind is cst.FunctionDef:
                    first = node.decorator_list[0].lineno if node.decorator_list else line
                    extra = (first, node.body[0].lineno)
                elif kind is cst.Lambda:
                    extra = (line, node.body.lineno)
                else:
                    extra = None
                found[kind].append((line, col, depth, extra))
            for child in ast.iter_child_nodes(node):
                stack.append((child, depth + 1))
        self.queues = {k: sorted(v, key=lambda e: e[:3]) for k, v in found.items()}
        self.taken = {k: 0 for k in found}
        self.function_lines: dict[int, tuple[int, int]] = {}  # id(node) -> (first line, body line)

    def take(self, node: cst.CSTNode) -> tuple[int, int]:
        kind = type(node)
        i = self.taken[kind]
        queue = self.queues[kind]
        if i >= len(queue):
            raise PositionMismatch(kind.__name__)
        line, col, _depth, extra = queue[i]
        self.taken[kind] = i + 1
        if kind is cst.Call:
            mine = Extractor.dotted(node.func)
            if mine is not None and extra is not None and mine != extra:
                raise PositionMismatch(f"{mine} != {extra} at line {line}")
        elif extra is not None:
            self.function_lines[id(node)] = extra
        return line, col

    def check_consumed(self) -> None:
        for kind, queue in self.queues.items():
            if self.taken[kind] != len(queue):
                raise PositionMismatch(kind.__name__)


def _ast_dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class Extractor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module_name: str, path: str, is_package: bool, positions: Optional[AstPositions] = None):
        super().__init__()
        self.positions = positions
        self._pos: dict[int, tuple[int, int]] = {}
        self._lambda_names: dict[int, str] = {}
        self._provisional: dict[str, str] = {}
        self.module_name = module_name
        self.summary = ModuleSummary(module=module_name, path=path)
        parts = module_name.split(".") if module_name else []
        self.package_parts = parts if is_package else parts[:-1]
        top = FunctionRec(qualname="<module>", name="<module>", line=1, col=0, params=[])
        self.summary.functions["<module>"] = top
        self.stack: list[_Scope] = [_Scope("module", "", top)]
        self.assign_targets: dict[int, str] = {}
        self._outer_fors: dict[int, Optional[str]] = {}  # id(outermost CompFor) -> its comprehension, while in its iterable

    # ----- helpers -------------------------------------------------------------------
    def full(self, qualname: str) -> str:
        return f"{self.module_name}.{qualname}" if self.module_name else qualname

    def pos(self, node: cst.CSTNode) -> tuple[int, int]:
        """Called once per node, in visit (source) order; later calls hit the memo."""
        found = self._pos.get(id(node))
        if found is None:
            if self.positions is not None:
                found = self.positions.take(node)
            else:
                p = self.get_metadata(PositionProvider, node).start
                found = (p.line, p.column)
            self._pos[id(node)] = found
        return found

    def function_lines(self, node: AnyFunction) -> tuple[int, int]:
        """(co_firstlineno, first body line) of a def or lambda whose position was taken."""
        if self.positions is not None:
            return self.positions.function_lines[id(node)]
        start = self.get_metadata(PositionProvider, node).start.line
        if isinstance(node, cst.Lambda):
            return start, self.get_metadata(PositionProvider, node.body).start.line
        first = self.get_metadata(PositionProvider, node.decorators[0].decorator).start.line if node.decorators else start
        return first, self.get_metadata(PositionProvider, node.body.body[0]).start.line

    @property
    def scope(self) -> _Scope:
        return self.stack[-1]

    def func_scope(self) -> _Scope:
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

    def bind(self, name: str, ref: Ref) -> None:
        self.scope.bindings[name] = ref
        if self.scope.kind == "module":
            self.summary.names[name] = ref
        elif self.scope.kind == "class" and self.scope.cls is not None and ref.get("t") in TRACKED:
            self.scope.cls.attrs[name] = ref

    def lookup(self, name: str) -> Ref:
        innermost = self.stack[-1]
        for s in reversed(self.stack):
            if s.kind == "class" and s is not innermost:
                continue  # class bodies are not enclosing scopes for functions
            if name in s.bindings:
                return s.bindings[name]
        if name in BUILTINS:
            return {"t": "name", "q": f"builtins.{name}"}
        return UNKNOWN

    def resolve_relative(self, level: int, module: Optional[str]) -> str:
        base = self.package_parts[: len(self.package_parts) - (level - 1)] if level > 1 else self.package_parts
        parts = list(base) + ([module] if module else [])
        return ".".join(p for p in parts if p)

    @staticmethod
    def dotted(node: cst.BaseExpression) -> Optional[str]:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            base = Extractor.dotted(node.value)
            return f"{base}.{node.attr.value}" if base else None
        return None

    def lambda_qualname(self, node: cst.Lambda) -> str:
        """A lambda is named by its position; one referred to before it is visited (an
        argument) gets a provisional name, replaced once the summary is complete."""
        name = self._lambda_names.get(id(node))
        if name is None:
            name = self.child_qualname(f"<lambda#{len(self._lambda_names)}>")
            self._lambda_names[id(node)] = name
        return name

    def ref_of(self, node: cst.BaseExpression) -> Ref:
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return {"t": "local"}
            return self.lookup(node.value)
        if isinstance(node, cst.Attribute):
            base = self.ref_of(node.value)
            attr = node.attr.value
            t = base.get("t")
            if t == "name":
                return {"t": "name", "q": f"{base['q']}.{attr}"}
            if t == "self":
                cls = self._class_rec(base["cls"])
                if cls is not None and attr in cls.attrs:
                    return cls.attrs[attr]
                return {"t": "method", "cls": base["cls"], "name": attr}
            if t == "inst":
                return {"t": "method", "cls": base["cls"], "name": attr}
            if t == "pool":
                return {"t": "poolmeth", "pool": base, "name": attr}
            if t in ("param", "unknown", "meth", "method"):
                # a parameter, an unresolvable global, or an attribute of one: made elsewhere
                return {"t": "meth", "name": attr, "recv": "outside"}
            return {"t": "meth", "name": attr}
        if isinstance(node, cst.Lambda):
            return {"t": "name", "q": self.full(self.lambda_qualname(node))}
        if isinstance(node, cst.Call):
            callee = self.ref_of(node.func)
            q = callee.get("q") if callee.get("t") == "name" else None
            if q in PARTIALS and node.args:
                return {"t": "partial", "inner": self.ref_of(node.args[0].value)}
            if q in THREAD_POOLS or q in OTHER_POOLS:
                return {"t": "pool", "cls": q, "size": self.pool_size(q, node)}
            if q is not None:
                # The result of calling a name: an instance of a class, or what a factory
                # returns. The linker decides which (project class, known module, unknown).
                return {"t": "inst", "cls": q}
            return UNKNOWN
        return UNKNOWN

    def _class_rec(self, full_cls: str) -> Optional[ClassRec]:
        prefix = f"{self.module_name}." if self.module_name else ""
        if full_cls.startswith(prefix):
            return self.summary.classes.get(full_cls[len(prefix):])
        return None

    @staticmethod
    def pool_size(cls_q: str, call: cst.Call) -> Optional[int]:
        kw = "max_workers" if "Executor" in cls_q else "processes"
        value = None
        for i, arg in enumerate(call.args):
            if arg.keyword is None and arg.star == "" and i == 0:
                value = arg.value
            elif arg.keyword is not None and arg.keyword.value == kw:
                value = arg.value
        if value is None or (isinstance(value, cst.Name) and value.value == "None"):
            return None
        if isinstance(value, cst.Integer):
            try:
                return int(value.value, 0)
            except ValueError:
                return -1
        return -1

    # ----- module-level pre-pass (names used before their definition) -------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._prepass(node.body)

    def _prepass(self, body) -> None:
        for stmt in body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                ref = {"t": "name", "q": self.full(stmt.name.value)}
                if isinstance(stmt, cst.ClassDef):
                    ref["kind"] = "class"
                self.bind(stmt.name.value, ref)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._bind_import(small)
            elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
                if isinstance(stmt, cst.If) and self._is_main_guard(stmt.test):
                    self.summary.main_guarded = True
                self._prepass(stmt.body.body)
                for extra in _branches(stmt):
                    self._prepass(extra)

    @staticmethod
    def _is_main_guard(test: cst.BaseExpression) -> bool:
        return (
            isinstance(test, cst.Comparison)
            and isinstance(test.left, cst.Name)
            and test.left.value == "__name__"
        )

    # ----- imports ---------------------------------------------------------------------
    def _bind_import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                name = self.dotted(alias.name)
                if not name:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.bind(alias.asname.name.value, {"t": "name", "q": name})
                else:
                    top = name.split(".")[0]
                    self.bind(top, {"t": "name", "q": top})
            return
        module = self.dotted(node.module) if node.module is not None else None
        level = len(node.relative)
        base = self.resolve_relative(level, module) if level else (module or "")
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else self.dotted(alias.name)
            if not name:
                continue
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self.bind(local, {"t": "name", "q": f"{base}.{name}" if base else name})

    def visit_Import(self, node: cst.Import) -> None:
        if self.scope.kind != "module":
            self._bind_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.scope.kind != "module":
            self._bind_import(node)

    # ----- definitions -----------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qual = self.child_qualname(node.name.value)
        line, col = self.pos(node)
        rec = ClassRec(qualname=qual, line=line, bases=[self.ref_of(b.value) for b in node.bases], methods={})
        self.summary.classes[qual] = rec
        if self.scope.kind != "module":
            self.bind(node.name.value, {"t": "name", "q": self.full(qual), "kind": "class"})
        self.stack.append(_Scope("class", qual, None, rec, self.child_co_qualname(node.name.value)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter_function(node, node.name.value, self.child_qualname(node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        provisional = self.lambda_qualname(node)
        line, col = self.pos(node)
        qual = self.child_qualname(f"<lambda@{line}:{col}>")
        self._provisional[self.full(provisional)] = self.full(qual)
        self._enter_function(node, "<lambda>", qual)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def _enter_function(self, node: AnyFunction, name: str, qual: str) -> None:
        line, col = self.pos(node)
        parent = self.scope
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        decorators: list[str] = []
        nogil = False
        if isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                expr = dec.decorator
                call = expr if isinstance(expr, cst.Call) else None
                ref = self.ref_of(call.func if call else expr)
                dq = ref.get("q") or ref.get("name") or ""
                decorators.append(dq)
                if call and dq.startswith("numba."):
                    nogil = nogil or any(
                        a.keyword is not None and a.keyword.value == "nogil"
                        and isinstance(a.value, cst.Name) and a.value.value == "True"
                        for a in call.args
                    )
        first_line, body_line = self.function_lines(node)
        co_qualname = self.child_co_qualname(name)
        rec = FunctionRec(
            qualname=qual,
            name=name,
            line=line,
            col=col,
            params=params,
            first_line=first_line,
            body_line=body_line,
            co_qualname=co_qualname,
            is_async=isinstance(node, cst.FunctionDef) and node.asynchronous is not None,
            cls=parent.qualname if parent.kind == "class" else None,
            decorators=decorators,
            nogil=nogil,
        )
        self.summary.functions[qual] = rec
        if isinstance(node, cst.FunctionDef):
            if parent.kind == "class" and parent.cls is not None:
                parent.cls.methods[name] = qual
            elif parent.kind != "module":
                self.bind(name, {"t": "name", "q": self.full(qual)})
        scope = _Scope("function", qual, rec, co_qualname=co_qualname)
        full = self.full(qual)
        for i, p in enumerate(params):
            scope.bindings[p] = {"t": "param", "func": full, "index": i, "name": p}
        if parent.kind == "class" and params and "builtins.staticmethod" not in decorators:
            cls_full = self.full(parent.qualname)
            if "builtins.classmethod" in decorators:
                scope.bindings[params[0]] = {"t": "name", "q": cls_full, "kind": "class"}
            else:
                scope.bindings[params[0]] = {"t": "self", "cls": cls_full}
        self.stack.append(scope)

    # ----- assignments -----------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            self.assign_targets[id(node.value)] = target.value

    def leave_Assign(self, original_node: cst.Assign) -> None:
        # Bind after the value was visited, so `x = f(x)` reads the old x.
        for t in original_node.targets:
            self._bind_target(t.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind_target(original_node.target, original_node.value)

    def _bind_target(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        if isinstance(target, cst.Name):
            ref = self.ref_of(value) if value is not None else UNKNOWN
            self.bind(target.value, ref if ref.get("t") in TRACKED else {"t": "local"})
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and value is not None:
            owner = self.lookup(target.value.value)
            if owner.get("t") == "self":
                ref = self.ref_of(value)
                cls = self._class_rec(owner["cls"])
                if cls is not None and ref.get("t") in TRACKED:
                    cls.attrs[target.attr.value] = ref
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind_target(el.value, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.assign_targets[id(node.item)] = node.asname.name.value

    def leave_WithItem(self, original_node: cst.WithItem) -> None:
        if original_node.asname is not None:
            self._bind_target(original_node.asname.name, original_node.item)

    # ----- loops -----------------------------------------------------------------------
    def _push_loop(self, node: cst.CSTNode, kind: str) -> None:
        s = self.func_scope()
        line, col = self.pos(node)
        rec = LoopRec(id=len(s.func.loops), line=line, col=col, kind=kind, parent=s.loops[-1] if s.loops else -1)
        s.func.loops.append(rec)
        s.loops.append(rec.id)

    def _pop_loop(self) -> None:
        self.func_scope().loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._push_loop(node, "for")

    def leave_For_body(self, node: cst.For) -> None:
        self._pop_loop()

    def visit_While(self, node: cst.While) -> None:
        self._push_loop(node, "while")
        if _is_spin_body(node.body):
            self.func_scope().func.spins.append(list(self.pos(node)))

    def leave_While(self, original_node: cst.While) -> None:
        self._pop_loop()

    def _visit_comp(self, node: cst.CSTNode) -> None:
        self._push_loop(node, "comprehension")
        self.func_scope().comp_depth += 1
        self.scope.comps.append(self.child_co_qualname(_COMP_NAMES[type(node)]))
        self._outer_fors[id(node.for_in)] = None

    def _leave_comp(self) -> None:
        self._pop_loop()
        self.func_scope().comp_depth -= 1
        self.scope.comps.pop()

    # The first iterable of a comprehension is evaluated in the enclosing scope.
    def visit_CompFor_iter(self, node: cst.CompFor) -> None:
        if id(node) in self._outer_fors:
            self._outer_fors[id(node)] = self.scope.comps.pop()

    def leave_CompFor_iter(self, node: cst.CompFor) -> None:
        comp = self._outer_fors.get(id(node))
        if comp is not None:
            self.scope.comps.append(comp)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._visit_comp(node)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self._leave_comp()

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._visit_comp(node)

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self._leave_comp()

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._visit_comp(node)

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self._leave_comp()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._visit_comp(node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self._leave_comp()

    def _compute(self) -> None:
        s = self.func_scope()
        if s.loops:
            s.func.loops[s.loops[-1]].compute += 1

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._compute()

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._compute()

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._compute()

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._compute()

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._compute()

    # ----- calls and spawns ------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        s = self.func_scope()
        callee = self.ref_of(node.func)
        line, col = self.pos(node)
        loop = s.loops[-1] if s.loops else -1
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        rec = CallRec(
            ref=callee,
            line=line,
            col=col,
            loop=loop,
            nargs=len(positional),
            keywords=sorted(keywords),
            args=[self._callable_ref(v) for v in positional],
            kwargs={k: r for k, r in ((k, self._callable_ref(v)) for k, v in keywords.items()) if r},
        )
        s.func.calls.append(rec)
        in_gather = any(c.get("q") in GATHERS for c in s.calls)
        s.calls.append(callee)
        self._maybe_spawn(s, node, callee, positional, keywords, line, col, loop, in_gather)
        t, q = callee.get("t"), callee.get("q")
        if t in ("meth", "method") and callee["name"] == "join" and not positional and isinstance(node.func, cst.Attribute):
            if isinstance(node.func.value, cst.Name):
                s.func.joins.append([node.func.value.value, loop])
        if (q in ENTRY_RUNNERS or (t == "meth" and callee["name"] == "run_until_complete")) and positional:
            inner = positional[0]
            if isinstance(inner, cst.Call):
                entry = self.ref_of(inner.func)
                if entry.get("t") == "name":
                    s.func.entry_calls.append(entry["q"])

    def leave_Call(self, original_node: cst.Call) -> None:
        self.func_scope().calls.pop()

    def _callable_ref(self, node: cst.BaseExpression) -> Optional[Ref]:
        if isinstance(node, (cst.Name, cst.Attribute, cst.Lambda, cst.Call)):
            ref = self.ref_of(node)
            return ref if ref.get("t") not in ("unknown", "local") else None
        return None

    def _maybe_spawn(self, s, node, callee, positional, keywords, line, col, loop, in_gather) -> None:
        t, q = callee.get("t"), callee.get("q")
        kind = None
        target: Optional[cst.BaseExpression] = None
        pool_size = None
        if t == "name" and q in THREAD_CLASSES:
            kw = THREAD_CLASSES[q]
            target = keywords.get(kw)
            if target is None and len(positional) >= 2:
                target = positional[1]
            kind = q
        elif t == "name" and q in START_NEW_THREAD and positional:
            kind, target = "_thread.start_new_thread", positional[0]
        elif t == "name" and q == "asyncio.to_thread" and positional:
            kind, target = "asyncio.to_thread", positional[0]
        elif t == "poolmeth" and callee["name"] in POOL_METHODS and callee["pool"]["cls"] in THREAD_POOLS:
            target = positional[0] if positional else keywords.get("fn") or keywords.get("func")
            pool = callee["pool"]
            kind = f"{pool['cls'].rsplit('.', 1)[-1]}.{callee['name']}"
            if pool["cls"] == "multiprocessing.dummy.Pool":
                kind = f"multiprocessing.dummy.Pool.{callee['name']}"
            pool_size = pool["size"]
        elif callee.get("name") == "run_in_executor" and t in ("meth", "method") and len(positional) >= 2:
            executor = positional[0]
            if isinstance(executor, cst.Name) and executor.value == "None":
                pool_size = None
            else:
                ref = self.ref_of(executor)
                if ref.get("t") != "pool" or ref["cls"] not in THREAD_POOLS:
                    return  # a process pool or an executor we cannot see: not ours to judge
                pool_size = ref["size"]
            kind, target = "loop.run_in_executor", positional[1]
        if kind is None:
            return
        if target is None:
            if kind == "threading.Thread":
                return  # Thread() with no target: a subclass or a no-op
            target_ref: Ref = UNKNOWN
        else:
            target_ref = self.ref_of(target)
        s.func.spawns.append(
            SpawnRec(
                kind=kind,
                target=target_ref,
                line=line,
                col=col,
                loop=loop,
                in_comprehension=s.comp_depth > 0,
                in_gather=in_gather,
                pool_size=pool_size,
                var=self.assign_targets.get(id(node)),
            )
        )


def _branches(stmt) -> list:
    out = []
    if isinstance(stmt, cst.If):
        orelse = stmt.orelse
        while orelse is not None:
            out.append(orelse.body.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    elif isinstance(stmt, cst.Try):
        out.extend(h.body.body for h in stmt.handlers)
        if stmt.orelse is not None:
            out.append(stmt.orelse.body.body)
        if stmt.finalbody is not None:
            out.append(stmt.finalbody.body.body)
    return out


def _is_spin_body(body: cst.BaseSuite) -> bool:
    """A loop body that never blocks: only `pass`, `continue` or `...`."""
    if isinstance(body, cst.SimpleStatementSuite):
        smalls = list(body.body)
    else:
        smalls = []
        for stmt in body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                return False
            smalls.extend(stmt.body)
    return bool(smalls) and all(
        isinstance(s, (cst.Pass, cst.Continue))
        or (isinstance(s, cst.Expr) and isinstance(s.value, (cst.Ellipsis, cst.SimpleString)))
        for s in smalls
    )


def _rename(obj, mapping: dict) -> None:
    """Replace provisional lambda names in every ref of the summary, in place."""
    if isinstance(obj, dict):
        q = obj.get("q")
        if isinstance(q, str) and q in mapping:
            obj["q"] = mapping[q]
        for v in obj.values():
            if isinstance(v, (dict, list)):
                _rename(v, mapping)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)):
                _rename(v, mapping)


def _finish(extractor: Extractor, source: str) -> ModuleSummary:
    summary = extractor.summary
    if extractor._provisional:
        mapping = extractor._provisional
        _rename(summary.names, mapping)
        for cls in summary.classes.values():
            _rename(cls.attrs, mapping)
            _rename(cls.bases, mapping)
        for fn in summary.functions.values():
            for call in fn.calls:
                _rename(call.ref, mapping)
                _rename(call.args, mapping)
                _rename(call.kwargs, mapping)
            for sp in fn.spawns:
                _rename(sp.target, mapping)
    summary.noqa = noqa_map(source)
    return summary


def extract(
    module: cst.Module, module_name: str, path: str, is_package: bool, source: str, tree: Optional[ast.AST] = None
) -> ModuleSummary:
    if tree is not None:
        try:
            extractor = Extractor(module_name, path, is_package, AstPositions(tree, source))
            module.visit(extractor)
            extractor.positions.check_consumed()
            return _finish(extractor, source)
        except PositionMismatch:
            pass
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    extractor = Extractor(module_name, path, is_package)
    wrapper.visit(extractor)
    return _finish(extractor, source)
