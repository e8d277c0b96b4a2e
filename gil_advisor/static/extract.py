"""One libcst pass over a module that records what the linker needs: a ModuleSummary.

The visitor here walks the tree; what names hold is `bindings.Bindings`, where nodes
start is `positions`, and which calls hand work to threads is `spawn_forms`.
"""
from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from gil_advisor.sourcefile import source_lines
from gil_advisor.static.bindings import Bindings, Scope, catches_import_error, either, imported_names
from gil_advisor.static.positions import AnyFunction, AstPositions, CstPositions, PositionMismatch, Positions
from gil_advisor.static.refs import TRACKED, UNKNOWN, AttributeRef, InstanceRef, MethodRef, NameRef, ParamRef, PartialRef, PoolMethodRef, PoolRef, Ref, ResultRef, SelfRef
from gil_advisor.static.spawn_forms import (
    CALL_FORMS,
    EXECUTOR_METHOD_FORMS,
    POOL_METHOD_FORMS,
    POOLS_BY_CLASS,
    THREAD_POOLS,
    SpawnForm,
)
from gil_advisor.static.summary import CallRec, ClassRec, FunctionRec, LoopRec, ModuleSummary, SpawnRec
from gil_advisor.static.syntax import dotted, is_spin_body
from gil_advisor.static.walk import walk

GATHERS = frozenset({"asyncio.gather", "asyncio.wait"})
ENTRY_RUNNERS = frozenset({"asyncio.run"})
NOQA_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_COMP_NAMES = {cst.ListComp: "<listcomp>", cst.SetComp: "<setcomp>", cst.DictComp: "<dictcomp>", cst.GeneratorExp: "<genexpr>"}

__all__ = ["Extractor", "extract", "noqa_map", "AstPositions", "PositionMismatch"]


def noqa_map(source: str) -> dict[str, list]:
    out: dict[str, list] = {}
    if "noqa" not in source:
        return out
    for lineno, line in enumerate(source_lines(source), 1):
        m = NOQA_RE.search(line)
        if m:
            codes = m.group("codes")
            out[str(lineno)] = re.split(r"[,\s]+", codes.upper().strip()) if codes else []
    return out


class Extractor(cst.CSTVisitor):
    def __init__(self, module_name: str, path: str, is_package: bool, positions: Positions):
        super().__init__()
        self.positions = positions
        self._pos: dict[int, tuple[int, int]] = {}
        self.summary = ModuleSummary(module=module_name, path=path)
        self.names = Bindings(self.summary, is_package)
        self.assign_targets: dict[int, str] = {}
        self.waited_calls: set[int] = set()
        self._outer_loops: dict[int, int] = {}
        self._free_predicates: set[str] = set()  # full names of this module's `is_free_threaded()`s
        self._return_kinds: dict[str, set] = {}  # function qualname -> "free" | "false" | "other"
        self._after_gil_guard: set[str] = set()  # functions past an `if <GIL enabled>: return`
        self._body_stmts: list[set] = []  # ids of the statements of each enclosing function body
        self._arms: list = []  # per enclosing `if`: the bindings before it and after each arm
        self._narrowed: list = []  # per enclosing `if` body: (name, binding to restore) or None
        self._leaving: list[bool] = []  # per enclosing `if` body: it ends by leaving the loop
        self._gil_branch: list[bool] = []  # per enclosing `if` branch: runs only without the GIL  # calls whose result is waited for at once: `.submit(...).result()`
        # per enclosing `except ImportError` handler: the names its try body imported, whose
        # rebinding there (`x = None`, a stub) is the not-installed placeholder, not the value
        self._placeholders: list[set[str]] = []
        self._handler_imports: dict[int, set[str]] = {}
        self._outer_fors: dict[int, Optional[str]] = {}  # id(outermost CompFor) -> its comprehension, while in its iterable

    def pos(self, node: cst.CSTNode) -> tuple[int, int]:
        """Called once per node, in visit (source) order; later calls hit the memo."""
        found = self._pos.get(id(node))
        if found is None:
            found = self._pos[id(node)] = self.positions.take(node)
        return found

    # ----- module, imports, definitions ------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self.names.prepass(node.body)

    def visit_Import(self, node: cst.Import) -> None:
        if self.names.scope.kind != "module":
            self.names.bind_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.names.scope.kind != "module":
            self.names.bind_import(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        names = self.names
        qual = names.child_qualname(node.name.value)
        line, col = self.pos(node)
        rec = ClassRec(qualname=qual, line=line, bases=[names.ref_of(_generic_origin(b.value)) for b in node.bases], methods={})
        self.summary.classes[qual] = rec
        if names.scope.kind != "module":
            names.bind(node.name.value, NameRef(names.full(qual), is_class=True))
        names.stack.append(Scope("class", qual, None, rec, names.child_co_qualname(node.name.value)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.names.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter_function(node, node.name.value, self.names.child_qualname(node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        rec = self.names.func_scope().func
        kinds = self._return_kinds.get(rec.qualname, set())
        if "free" in kinds and kinds <= {"free", "false"}:
            self._free_predicates.add(self.names.full(rec.qualname))
        self._body_stmts.pop()
        self.names.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        names = self.names
        provisional = names.lambda_qualname(node)
        line, col = self.pos(node)
        qual = names.child_qualname(f"<lambda@{line}:{col}>")
        names.provisional[names.full(provisional)] = names.full(qual)
        self._enter_function(node, "<lambda>", qual)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._body_stmts.pop()
        self.names.stack.pop()

    def _enter_function(self, node: AnyFunction, name: str, qual: str) -> None:
        names = self.names
        line, col = self.pos(node)
        parent = names.scope
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        decorators: list[str] = []
        nogil = False
        if isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                expr = dec.decorator
                call = expr if isinstance(expr, cst.Call) else None
                ref = names.ref_of(call.func if call else expr)
                dq = ref.qualname if isinstance(ref, NameRef) else getattr(ref, "name", "")
                decorators.append(dq)
                if call and dq.startswith("numba."):
                    nogil = nogil or any(
                        a.keyword is not None and a.keyword.value == "nogil"
                        and isinstance(a.value, cst.Name) and a.value.value == "True"
                        for a in call.args
                    )
        first_line, body_line = self.positions.function_lines(node)
        co_qualname = names.child_co_qualname(name)
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
            abstract=isinstance(node, cst.FunctionDef) and _only_raises_not_implemented(node.body),
        )
        self.summary.functions[qual] = rec
        if isinstance(node, cst.FunctionDef):
            if parent.kind == "class" and parent.cls is not None:
                parent.cls.methods[name] = qual
            elif parent.kind != "module":
                names.bind(name, NameRef(names.full(qual)))
        scope = Scope("function", qual, rec, co_qualname=co_qualname)
        full = names.full(qual)
        if isinstance(node, cst.FunctionDef) and node.returns is not None:
            # `def pool(self) -> ThreadPoolExecutor:`: the annotation says what comes back
            annotated = names.annotation_ref(node.returns.annotation)
            if isinstance(annotated, NameRef):
                rec.returns.append(InstanceRef(annotated.qualname, declared=True))
        annotations = {p.name.value: p.annotation for p in (*node.params.posonly_params, *node.params.params)}
        for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            if p.default is not None:
                # `parser: Callable = pdfminer.parser`: what runs when a caller leaves it out
                default = names.callable_ref(p.default)
                if isinstance(default, (NameRef, MethodRef, PartialRef)):
                    rec.defaults[p.name.value] = default
        for i, p in enumerate(params):
            scope.bindings[p] = ParamRef(full, i, p)
            ann = annotations.get(p)
            if ann is not None:
                # `executor: ThreadPoolExecutor`: a pool whatever the callers pass
                annotated = names.annotation_ref(ann.annotation)
                if isinstance(annotated, NameRef) and annotated.qualname in POOLS_BY_CLASS:
                    scope.bindings[p] = PoolRef(annotated.qualname, -1)
                else:
                    cls = names.project_class_name(ann.annotation, anywhere=True)
                    if cls is not None:
                        names.param_types[full, p] = cls
        if parent.kind == "class" and params and "builtins.staticmethod" not in decorators:
            cls_full = names.full(parent.qualname)
            if "builtins.classmethod" in decorators:
                scope.bindings[params[0]] = NameRef(cls_full, is_class=True)
            else:
                scope.bindings[params[0]] = SelfRef(cls_full)
        names.stack.append(scope)
        body = node.body if isinstance(node, cst.FunctionDef) else None
        self._body_stmts.append({id(st) for st in body.body} if isinstance(body, cst.IndentedBlock) else set())

    # ----- assignments -----------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            self.assign_targets[id(node.value)] = target.value

    def visit_Try(self, node: cst.Try) -> None:
        imported = imported_names(node.body.body)
        for handler in node.handlers:
            self._handler_imports[id(handler)] = imported

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        imported = self._handler_imports.pop(id(node), set())
        self._placeholders.append(imported if catches_import_error(node) else set())

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._placeholders.pop()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        # Bind after the value was visited, so `x = f(x)` reads the old x.
        for t in original_node.targets:
            target = t.target
            if isinstance(target, cst.Name) and any(target.value in p for p in self._placeholders):
                # `try: import fast / except ImportError: fast = None`: code that runs uses
                # the module; the placeholder is what is there when it is missing
                continue
            self.names.bind_target(target, original_node.value)
        target = original_node.targets[0].target
        if len(original_node.targets) == 1 and isinstance(target, cst.Name) and self.names.scope.kind == "module":
            if self._gil_test(original_node.value) is False:  # `IS_FREE_THREADED = not sys._is_gil_enabled()`
                self._free_predicates.add(self.names.full(target.value))

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is None:
            return
        names = self.names
        names.bind_target(original_node.target, original_node.value)
        target = original_node.target
        if isinstance(target, cst.Name) and names.scope.kind == "function" and not isinstance(names.ref_of(original_node.value), TRACKED):
            # `ev: Evaluator = pop.evaluator`: what we cannot see has the project class it is annotated with
            cls = names.project_class_name(original_node.annotation.annotation)
            if cls is not None:
                names.bind(target.value, InstanceRef(cls, declared=True))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.assign_targets[id(node.item)] = node.asname.name.value

    def leave_WithItem(self, original_node: cst.WithItem) -> None:
        if original_node.asname is not None:
            self.names.bind_target(original_node.asname.name, original_node.item)

    # ----- loops and comprehensions ------------------------------------------------------
    def _push_loop(self, node: cst.CSTNode, kind: str) -> None:
        s = self.names.func_scope()
        line, col = self.pos(node)
        rec = LoopRec(id=len(s.func.loops), line=line, col=col, kind=kind, parent=s.loops[-1] if s.loops else -1)
        s.func.loops.append(rec)
        s.loops.append(rec.id)

    def _pop_loop(self) -> None:
        self.names.func_scope().loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._push_loop(node, "for")
        it = node.iter
        # `for chunk in iter(f, sentinel)`: f is called once per iteration (a read, usually)
        if isinstance(it, cst.Call) and len(it.args) == 2 and not any(a.keyword or a.star for a in it.args):
            names = self.names
            callee = names.ref_of(it.func)
            if isinstance(callee, NameRef) and callee.qualname == "builtins.iter":
                func = names.callable_ref(it.args[0].value)
                if func is not None:
                    s = names.func_scope()
                    line, col = self.pos(it)  # the iter() call's, taken when it was visited
                    s.func.calls.append(CallRec(ref=func, line=line, col=col, loop=s.loops[-1], nargs=0, keywords=[], args=[], kwargs={}))

    def leave_For_body(self, node: cst.For) -> None:
        self._pop_loop()

    def visit_While(self, node: cst.While) -> None:
        self._push_loop(node, "while")
        if is_spin_body(node.body):
            self.names.func_scope().func.spins.append(list(self.pos(node)))

    def leave_While(self, original_node: cst.While) -> None:
        self._pop_loop()

    def _visit_comp(self, node: cst.CSTNode) -> None:
        names = self.names
        self._push_loop(node, "comprehension")
        names.func_scope().comp_depth += 1
        names.scope.comps.append(names.child_co_qualname(_COMP_NAMES[type(node)]))
        self._outer_fors[id(node.for_in)] = None

    def _leave_comp(self) -> None:
        self._pop_loop()
        self.names.func_scope().comp_depth -= 1
        self.names.scope.comps.pop()

    # The first iterable of a comprehension is evaluated in the enclosing scope, once: what
    # it does (`[c for c in [ord(x) for x in s]]`) belongs to the enclosing loop, not this one.
    def visit_CompFor_iter(self, node: cst.CompFor) -> None:
        if id(node) in self._outer_fors:
            self._outer_fors[id(node)] = self.names.scope.comps.pop()
            s = self.names.func_scope()
            self._outer_loops[id(node)] = s.loops.pop()
            s.comp_depth -= 1

    def leave_CompFor_iter(self, node: cst.CompFor) -> None:
        comp = self._outer_fors.get(id(node))
        if comp is not None:
            self.names.scope.comps.append(comp)
        loop = self._outer_loops.pop(id(node), None)
        if loop is not None:
            s = self.names.func_scope()
            s.loops.append(loop)
            s.comp_depth += 1

    # ----- branches that run only on a free-threaded build ---------------------------------
    def _gil_test(self, test: cst.BaseExpression) -> Optional[bool]:
        return gil_test(test, self._calls_free_predicate)

    def _calls_free_predicate(self, call: cst.BaseExpression) -> bool:
        """`is_free_threaded()`: a function of this module, defined above, that returns true only
        when the GIL is disabled; or `IS_FREE_THREADED`, a module-level name bound above to a test
        that holds only then."""
        if isinstance(call, cst.Name):
            # a module-level constant is bound to a plain value: its name, unless rebound here
            local = any(call.value in sc.bindings for sc in self.names.stack[1:] if sc.kind == "function")
            return not local and self.names.full(call.value) in self._free_predicates
        ref = self.names.ref_of(call.func)
        return not call.args and isinstance(ref, NameRef) and ref.qualname in self._free_predicates

    def visit_If_body(self, node: cst.If) -> None:
        self._gil_branch.append(self._gil_test(node.test) is False)
        # A branch that ends by leaving the loop (`if match: ...; break`) runs at most once per
        # run of the loop, not once per iteration: what it does belongs to the loop around it.
        s = self.names.func_scope()
        leaves = bool(s.loops) and s.loops[-1] >= 0 and _ends_by_leaving(node.body)
        if leaves:
            s.loops.append(s.func.loops[s.loops[-1]].parent)
        self._leaving.append(leaves)
        scope = self.names.scope
        # the arms of an `if` in a function each start from the bindings before it; leave_If merges
        self._arms.append({"before": dict(scope.bindings), "arms": []} if scope.kind == "function" else None)
        self._narrowed.append(self._narrow(node.test))

    def leave_If_body(self, node: cst.If) -> None:
        self._gil_branch.pop()
        if self._leaving.pop():
            self.names.func_scope().loops.pop()
        restore = self._narrowed.pop()
        bindings = self.names.scope.bindings
        if restore is not None:
            name, old = restore
            if old is None:
                bindings.pop(name, None)
            else:
                bindings[name] = old
        frame = self._arms[-1]
        if frame is not None:
            if not _exits(node.body):
                frame["arms"].append(dict(bindings))
            bindings.clear()
            bindings.update(frame["before"])

    def _narrow(self, test: cst.BaseExpression):
        """`if isinstance(item, Article):` in a function: in the body, `item` is an Article (a
        class of this module's own package). Returns what to restore after the body."""
        if not (isinstance(test, cst.Call) and len(test.args) == 2 and self.names.scope.kind == "function"):
            return None
        if not (isinstance(test.func, cst.Name) and test.func.value == "isinstance"):
            return None
        subject, cls = test.args[0].value, test.args[1].value
        if not isinstance(subject, cst.Name) or self.names.lookup("isinstance") != NameRef("builtins.isinstance"):
            return None
        q = self.names.project_class_name(cls) if isinstance(cls, (cst.Name, cst.Attribute)) else None
        if q is None:
            return None
        bindings = self.names.scope.bindings
        old = bindings.get(subject.value)
        bindings[subject.value] = InstanceRef(q, declared=True)
        return subject.value, old

    def leave_If(self, original_node: cst.If) -> None:
        frame = self._arms.pop()
        if frame is not None:
            arms = frame["arms"]
            if original_node.orelse is None:
                arms.append(frame["before"])  # no else: the test may be false
            elif isinstance(original_node.orelse, cst.Else) and _exits(original_node.orelse.body):
                arms.pop()  # the else arm returns: only the other arms fall through
            self._merge_arms(arms)
        self._leave_if_guard(original_node)

    def _merge_arms(self, arms: list) -> None:
        """The bindings after an `if`: a name bound differently by the arms that fall through
        holds any of their values (`bindings.either`)."""
        if not arms:
            return  # every arm returns: what follows is unreachable from here
        bindings = self.names.scope.bindings
        merged = {}
        for name in {n for arm in arms for n in arm}:
            values = [arm[name] for arm in arms if name in arm]
            merged[name] = values[0] if all(v == values[0] for v in values) else either(values)
        bindings.clear()
        bindings.update(merged)

    def _leave_if_guard(self, original_node: cst.If) -> None:
        # `if small or not is_free_threaded(): return sequential(...)` at the top level of a
        # function: what follows runs only when the GIL is disabled
        node = original_node
        if node.orelse is None and self._body_stmts and id(node) in self._body_stmts[-1] and _exits(node.body):
            if self._gil_test(node.test) is True:
                self._after_gil_guard.add(self.names.func_scope().func.qualname)

    def visit_If_orelse(self, node: cst.If) -> None:
        self._gil_branch.append(self._gil_test(node.test) is True)

    def leave_If_orelse(self, node: cst.If) -> None:
        self._gil_branch.pop()
        frame = self._arms[-1]
        if frame is not None:
            frame["arms"].append(dict(self.names.scope.bindings))

    # ----- generators and what a function returns ----------------------------------------
    def visit_Yield(self, node: cst.Yield) -> None:
        self.names.func_scope().func.is_generator = True

    def visit_Return(self, node: cst.Return) -> None:
        rec = self.names.func_scope().func
        value = node.value
        if value is None or (isinstance(value, cst.Name) and value.value == "False"):
            kind = "false"
        else:
            kind = "free" if self._gil_test(value) is False else "other"
        self._return_kinds.setdefault(rec.qualname, set()).add(kind)
        if node.value is None:
            return
        if any(self._gil_branch) or rec.qualname in self._after_gil_guard:
            return  # what a factory returns only on a free-threaded build is not what runs here
        ref = self.names.ref_of(node.value)
        if isinstance(ref, TRACKED) and len(rec.returns) < MAX_RETURNS and ref not in rec.returns:
            rec.returns.append(ref)

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
        s = self.names.func_scope()
        if s.loops and s.loops[-1] >= 0:  # -1: a loop-leaving branch of an outermost loop
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
        names = self.names
        s = names.func_scope()
        callee = names.ref_of(node.func)
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
            # "*" and "**" mark unpacked arguments: which parameters they fill is unknown
            keywords=sorted(keywords) + sorted({a.star for a in node.args if a.star}),
            args=[names.callable_ref(v) for v in positional],
            kwargs={k: r for k, r in ((k, names.callable_ref(v)) for k, v in keywords.items()) if r},
        )
        s.func.calls.append(rec)
        in_gather = any(isinstance(c, NameRef) and c.qualname in GATHERS for c in s.calls)
        s.calls.append(callee)
        spawn = self._spawn(node, callee, positional, keywords)
        if spawn is not None:
            form, kind, target, pool_size, receiver = spawn
            s.func.spawns.append(
                SpawnRec(
                    kind=kind,
                    target=names.ref_of(target) if target is not None else UNKNOWN,
                    line=line,
                    col=col,
                    loop=loop,
                    in_comprehension=s.comp_depth > 0,
                    in_gather=in_gather,
                    pool_size=pool_size,
                    var=self.assign_targets.get(id(node)),
                    form=form.name,
                    receiver=receiver,
                    waited=id(node) in self.waited_calls,
                    free_threaded_only=any(self._gil_branch) or s.func.qualname in self._after_gil_guard,
                )
            )
        method = callee.name if isinstance(callee, (AttributeRef, MethodRef)) else None
        if method == "join" and not positional and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
            s.func.joins.append([node.func.value.value, loop])
        if method == "result" and isinstance(node.func, cst.Attribute):
            if isinstance(node.func.value, cst.Name):
                s.func.waits.append([node.func.value.value, loop])  # `fut.result()`
            elif isinstance(node.func.value, cst.Call):
                self.waited_calls.add(id(node.func.value))  # `pool.submit(...).result()`
        runs_entry = (isinstance(callee, NameRef) and callee.qualname in ENTRY_RUNNERS) or (
            isinstance(callee, AttributeRef) and callee.name == "run_until_complete"
        )
        if runs_entry and positional and isinstance(positional[0], cst.Call):
            entry = names.ref_of(positional[0].func)
            if isinstance(entry, NameRef):
                s.func.entry_calls.append(entry.qualname)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.names.func_scope().calls.pop()

    def _spawn(self, node: cst.Call, callee: Ref, positional: list, keywords: dict):
        """(form, kind, target node or None, pool size, receiver to resolve) when the call hands
        work to threads, or may: a pool method on a receiver made elsewhere is decided by the linker."""
        form: Optional[SpawnForm] = None
        pool_size: Optional[int] = None
        receiver: Optional[Ref] = None
        kind = ""
        if isinstance(callee, NameRef) and callee.qualname in CALL_FORMS:
            form = CALL_FORMS[callee.qualname]
            kind = form.kind
        elif isinstance(callee, PoolMethodRef) and callee.name in POOL_METHOD_FORMS and callee.pool.cls in THREAD_POOLS:
            form = POOL_METHOD_FORMS[callee.name]
            kind = form.kind_for(POOLS_BY_CLASS[callee.pool.cls], callee.name)
            pool_size = callee.pool.size
        elif (
            isinstance(callee, (AttributeRef, MethodRef))
            and callee.name in POOL_METHOD_FORMS
            and isinstance(node.func, cst.Attribute)
            and isinstance(self.names.ref_of(node.func.value), DEFERRED_RECEIVERS)
        ):
            # `self.pool.submit(f)`, `make_pool().map(f, xs)`, `pool.imap(f, xs)` for a pool
            # passed in: a spawn only if the linker finds a thread pool behind the receiver
            form = POOL_METHOD_FORMS[callee.name]
            receiver = self.names.ref_of(node.func.value)
            kind = f"pool.{callee.name}"
        elif isinstance(callee, (AttributeRef, MethodRef)) and callee.name in EXECUTOR_METHOD_FORMS:
            form = EXECUTOR_METHOD_FORMS[callee.name]
            kind = form.kind
            if len(positional) <= max(form.executor_index, form.target_index):
                return None
            executor = positional[form.executor_index]
            if not (isinstance(executor, cst.Name) and executor.value == "None"):
                ref = self.names.ref_of(executor)
                if isinstance(ref, DEFERRED_RECEIVERS):
                    receiver = ref  # `self._pool`, `self._get_executor()`, a parameter: for the linker
                elif not isinstance(ref, PoolRef) or ref.cls not in THREAD_POOLS:
                    return None  # a process pool or an executor we cannot see: not ours to judge
                else:
                    pool_size = ref.size
        if form is None:
            return None
        # Positional first: `pool.submit(fn, /, *args, **kwargs)` passes a keyword `fn=` on to the task.
        target = positional[form.target_index] if form.target_index is not None and len(positional) > form.target_index else None
        if target is None:
            target = next((keywords[k] for k in form.target_keywords if k in keywords), None)
        if target is None and (form.needs_target or receiver is not None):
            return None
        return form, kind, target, pool_size, receiver


def gil_test(test: cst.BaseExpression, free_predicate=None) -> Optional[bool]:
    """True for a test that holds when the GIL is enabled (`sys._is_gil_enabled()`), False for one
    that holds when it is disabled (`not sys._is_gil_enabled()`, `sysconfig.get_config_var(
    "Py_GIL_DISABLED")`, a call for which `free_predicate` says so), None for anything else."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = gil_test(test.expression, free_predicate)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        left, right = gil_test(test.left, free_predicate), gil_test(test.right, free_predicate)
        if isinstance(test.operator, cst.And):
            # `hasattr(sys, "_is_gil_enabled") and not sys._is_gil_enabled()`
            return left if right is None else right if left is None else (left and right)
        # `len(code) < n or sys._is_gil_enabled()` holds whenever the GIL is enabled
        return True if True in (left, right) else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        inner = gil_test(test.left, free_predicate)
        comp = test.comparisons[0]
        value = comp.comparator
        if inner is not None and isinstance(value, cst.Name) and value.value in ("True", "False"):
            same = isinstance(comp.operator, (cst.Is, cst.Equal))
            differ = isinstance(comp.operator, (cst.IsNot, cst.NotEqual))
            if same or differ:
                return inner == ((value.value == "True") == same)
        return None
    if isinstance(test, cst.Name) and free_predicate is not None and free_predicate(test):
        return False
    if isinstance(test, cst.Call):
        name = dotted(test.func) or ""
        if name.endswith("_is_gil_enabled"):
            return True
        if free_predicate is not None and free_predicate(test):
            return False
        if name.endswith("get_config_var") and test.args and isinstance(test.args[0].value, cst.SimpleString):
            if "Py_GIL_DISABLED" in test.args[0].value.value:
                return False
    return None


def _only_raises_not_implemented(block: cst.BaseSuite) -> bool:
    """Is the body a docstring at most and `raise NotImplementedError` (an interface method)?"""
    stmts = list(block.body) if isinstance(block, cst.IndentedBlock) else [block]
    if not all(isinstance(st, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) for st in stmts):
        return False
    smalls = [small for st in stmts for small in st.body]
    if smalls and isinstance(smalls[0], cst.Expr) and isinstance(smalls[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        smalls = smalls[1:]  # the docstring
    if len(smalls) != 1 or not isinstance(smalls[0], cst.Raise) or smalls[0].exc is None:
        return False
    exc = smalls[0].exc
    exc = exc.func if isinstance(exc, cst.Call) else exc
    return isinstance(exc, cst.Name) and exc.value == "NotImplementedError"


def _exits(block: cst.BaseSuite) -> bool:
    """Does the block end in `return` or `raise`?"""
    stmts = block.body if isinstance(block, cst.IndentedBlock) else [block]
    last = stmts[-1] if stmts else None
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) and last.body:
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    return False


MAX_RETURNS = 4  # return values kept per function: enough to see a pool factory

# Receivers whose pool, if any, is found by the linker: an attribute of self, what a factory
# returned, a parameter, a module-level name, what calling a pool class kept elsewhere made.
DEFERRED_RECEIVERS = (MethodRef, InstanceRef, ParamRef, NameRef, ResultRef)


def _finish(extractor: Extractor, source: str) -> ModuleSummary:
    summary = extractor.summary
    mapping = extractor.names.provisional
    if mapping:
        summary.names = {k: r.renamed(mapping) for k, r in summary.names.items()}
        for cls in summary.classes.values():
            cls.attrs = {k: r.renamed(mapping) for k, r in cls.attrs.items()}
            cls.bases = [b.renamed(mapping) for b in cls.bases]
        for fn in summary.functions.values():
            for call in fn.calls:
                call.ref = call.ref.renamed(mapping)
                call.args = [a.renamed(mapping) if a is not None else None for a in call.args]
                call.kwargs = {k: r.renamed(mapping) for k, r in call.kwargs.items()}
            for sp in fn.spawns:
                sp.target = sp.target.renamed(mapping)
    summary.noqa = noqa_map(source)
    return summary


def extract(
    module: cst.Module, module_name: str, path: str, is_package: bool, source: str, tree: Optional[ast.AST] = None,
    positions: Optional[AstPositions] = None,
) -> ModuleSummary:
    """`positions`: AstPositions(tree, source) if the caller made them already."""
    if tree is not None:
        try:
            extractor = Extractor(module_name, path, is_package, positions if positions is not None else AstPositions(tree, source))
            walk(module, extractor)
            extractor.positions.check_consumed()
            return _finish(extractor, source)
        except PositionMismatch:
            pass
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    extractor = Extractor(module_name, path, is_package, CstPositions(wrapper))
    walk(wrapper.module, extractor)
    return _finish(extractor, source)


def _ends_by_leaving(block: cst.BaseSuite) -> bool:
    """Does the block's last statement leave the loop (`break`, `return`, `raise`)?"""
    if isinstance(block, cst.SimpleStatementSuite):
        smalls = block.body
    elif isinstance(block, cst.IndentedBlock) and block.body and isinstance(block.body[-1], cst.SimpleStatementLine):
        smalls = block.body[-1].body
    else:
        return False
    return bool(smalls) and isinstance(smalls[-1], (cst.Break, cst.Return, cst.Raise))


def _generic_origin(node: cst.BaseExpression) -> cst.BaseExpression:
    """`VariableRenderer["Graph"]`, `Base[T]` as a base: the class is `VariableRenderer`."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node
