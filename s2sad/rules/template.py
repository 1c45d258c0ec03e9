"""Rule templates: plain Python functions parsed once and inlined by name substitution.

A template is a runnable function (a test can call it). Inlining replaces each
parameter by the atom the call site passes, renames the template's own locals to
fresh names, and hands back its statements and returned expressions.

`known_rank(x)` in a template is the ndim of x decided while compiling: where the
call's ranks are known, `dy @ b.T if known_rank(a) == 2 and known_rank(b) == 2 else
...` keeps only the branch that applies; where they are not, every such test is
false, so the last branch (the one right for every rank) is emitted. Run as a plain
function, a template sees the real ranks.
"""
from __future__ import annotations

import inspect
import textwrap
import types
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import gast

from ..anno import FastTransformer, clone, clone_with, walk
import numpy as np


def known_rank(x: Any) -> int:
    """The ndim of x, as a template's compile-time test sees it (see the module doc)."""
    return np.ndim(x)


@dataclass
class Template:
    function: Callable
    node: gast.FunctionDef
    params: List[str]
    defaults: Dict[str, Any]
    varargs: Optional[str] = None  # a *args parameter: the extra positional arguments
    _uses_ranks: Optional[bool] = None
    _assigned: Optional[List[str]] = None
    _has_conditionals: Optional[bool] = None
    _modules: Optional[Dict[str, types.ModuleType]] = None

    @property
    def name(self) -> str:
        return self.function.__name__

    def locals_besides(self, keep: Tuple[str, ...]) -> List[str]:
        """The names the body assigns, in order, but those in `keep` (the d<param>)."""
        if self._assigned is None:
            self._assigned = []
            for node in walk(self.node):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and \
                        node.id not in self._assigned:
                    self._assigned.append(node.id)
        return [n for n in self._assigned if n not in keep]

    @property
    def has_conditionals(self) -> bool:
        """Its body has an `x if test else y`, which instantiating may decide."""
        if self._has_conditionals is None:
            self._has_conditionals = _has_conditional(self.node)
        return self._has_conditionals

    @property
    def modules(self) -> Dict[str, types.ModuleType]:
        """The modules besides np and math its body reads (scipy's `special`), by the
        name its own module gives them: generated code binds them (see bind_modules)."""
        if self._modules is None:
            scope = self.function.__globals__
            self._modules = {}
            for node in walk(self.node):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and \
                        node.id not in ("np", "math") and node.id not in self.params and \
                        isinstance(scope.get(node.id), types.ModuleType):
                    self._modules[node.id] = scope[node.id]
        return self._modules

    @property
    def uses_ranks(self) -> bool:
        """Its code depends on the operands' ranks: calls to it compile per rank."""
        if self._uses_ranks is None:
            self._uses_ranks = any(_is_known_rank(node) or _is_size_or_asarray(node)
                                   for node in walk(self.node))
        return self._uses_ranks


def parse_template(function: Callable) -> Template:
    source = textwrap.dedent(inspect.getsource(function))
    module = gast.parse(source)
    node = module.body[0]
    assert isinstance(node, gast.FunctionDef)
    node.decorator_list = []
    signature = inspect.signature(function)
    params = list(signature.parameters)
    defaults = {p.name: p.default for p in signature.parameters.values()
                if p.default is not inspect.Parameter.empty}
    varargs = next((p.name for p in signature.parameters.values()
                    if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    return Template(function, node, params, defaults, varargs)


def renamed(template: Template, names: Dict[str, str]) -> Template:
    """The template with parameters renamed (old -> new), in its signature and body:
    for a function whose parameter is called otherwise in another version of its
    library (np.reshape's `shape` was `newshape` before NumPy 2.1), since call
    arguments bind to a template's parameters by name."""
    node = clone(template.node)
    for item in walk(node):
        if isinstance(item, gast.Name) and item.id in names:
            item.id = names[item.id]
    return Template(template.function, node, [names.get(p, p) for p in template.params],
                    {names.get(p, p): v for p, v in template.defaults.items()},
                    names.get(template.varargs, template.varargs))


class _Substitute:
    """What a template node becomes in the copy (clone_with's `replace`): a parameter
    the argument's atom, a local its fresh name, known_rank(x) the rank; None for a
    node copied as it is."""

    def __init__(self, bindings: Dict[str, gast.AST], renames: Dict[str, str],
                 ranks: Dict[str, Optional[int]]):
        self.bindings = bindings
        self.renames = renames
        self.ranks = ranks

    def replace(self, node: gast.AST) -> Optional[gast.AST]:
        kind = type(node)
        if kind is gast.Name:
            if isinstance(node.ctx, gast.Load) and node.id in self.bindings:
                return clone(self.bindings[node.id])
            if node.id in self.renames:
                return gast.Name(id=self.renames[node.id], ctx=node.ctx, annotation=None,
                                 type_comment=None)
        elif kind is gast.Call and _is_known_rank(node):
            return gast.Constant(value=self.ranks.get(node.args[0].id), kind=None)
        elif kind is gast.Call and _is_of_known_rank(node, self.ranks, self.bindings):
            # np.size(a) of an array of known rank: a.size, which every array type has
            # (dask's has no np.size), of a number 1; np.asarray(a) of an array: a (a
            # dask array stays one, not computed)
            rank, operand = self.ranks[node.args[0].id], self.bindings[node.args[0].id]
            if node.func.attr == "asarray":
                return clone(operand) if rank >= 1 else None
            if rank == 0:
                return gast.Constant(value=1, kind=None)
            return gast.Attribute(value=clone(operand), attr="size", ctx=gast.Load())
        return None


class _Specialise(FastTransformer):
    """Decide a template's `x if arg is None else y` once the argument is known, `x if
    flag else y` once the flag is True or False, and its `known_rank(a) == 2 and ...`
    tests (an unknown rank, None, equals nothing)."""

    def visit_IfExp(self, node: gast.IfExp) -> gast.AST:
        self.generic_visit(node)
        test = node.test
        decided = _rank_test(test)
        if decided is not None:
            return node.body if decided else node.orelse
        if isinstance(test, gast.Constant) and type(test.value) is bool:
            return node.body if test.value else node.orelse  # (allow_singular=False)
        if isinstance(test, gast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (gast.Is, gast.IsNot)) and \
                isinstance(test.left, gast.Attribute) and _is_none(test.comparators[0]):
            # a module's attribute (dtype=np.float32) is not None
            return node.orelse if isinstance(test.ops[0], gast.Is) else node.body
        if isinstance(test, gast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (gast.Is, gast.IsNot)) and \
                _is_literal(test.left) and _is_literal(test.comparators[0]):
            same = _literal_value(test.left) is _literal_value(test.comparators[0]) \
                if _literal_value(test.comparators[0]) is None else None
            if same is not None:
                chosen = same if isinstance(test.ops[0], gast.Is) else not same
                return node.body if chosen else node.orelse
        # a flag or an option passed as a literal (lower=True, trans="T" == 0)
        if isinstance(test, gast.Constant) and type(test.value) in (bool, int, str):
            return node.body if test.value else node.orelse
        if isinstance(test, gast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (gast.Eq, gast.NotEq)) and \
                isinstance(test.left, gast.Constant) and \
                isinstance(test.comparators[0], gast.Constant):
            same = test.left.value == test.comparators[0].value
            chosen = same if isinstance(test.ops[0], gast.Eq) else not same
            return node.body if chosen else node.orelse
        return node

    def visit_Call(self, node: gast.Call) -> gast.AST:
        # f(dy, *spacing) once spacing is a tuple of atoms: f(dy, h, x), as written
        self.generic_visit(node)
        if any(isinstance(a, gast.Starred) for a in node.args):
            spliced = []
            for argument in node.args:
                if isinstance(argument, gast.Starred) and \
                        isinstance(argument.value, (gast.Tuple, gast.List)):
                    spliced.extend(argument.value.elts)
                elif isinstance(argument, gast.Starred) and \
                        isinstance(argument.value, gast.Constant) and \
                        isinstance(argument.value.value, tuple):
                    spliced.extend(gast.Constant(value=v, kind=None)
                                   for v in argument.value.value)
                else:
                    spliced.append(argument)
            node.args = spliced
        return node

    def visit_Subscript(self, node: gast.Subscript) -> gast.AST:
        # a *args parameter's element (coordinates[position]) once both are known: the
        # argument itself, not (a, b)[0], which generated code may not index again
        self.generic_visit(node)
        if isinstance(node.value, gast.Tuple) and isinstance(node.slice, gast.Constant) and \
                type(node.slice.value) is int and -len(node.value.elts) <= node.slice.value \
                < len(node.value.elts):
            return node.value.elts[node.slice.value]
        return node


_ATOMS = (gast.Name, gast.Constant)  # what most arguments are: no conditional inside


def _has_conditional(tree: gast.AST) -> bool:
    """Something instantiating may decide: an `x if test else y`, a `*spacing` spread."""
    return any(isinstance(node, (gast.IfExp, gast.Starred)) for node in walk(tree))


def _is_known_rank(node: gast.AST) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == "known_rank" and len(node.args) == 1 and \
        isinstance(node.args[0], gast.Name)


def _is_size_or_asarray(node: gast.AST) -> bool:
    """np.size(a) or np.asarray(a) of one of the template's names."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        node.func.attr in ("size", "asarray") and isinstance(node.func.value, gast.Name) \
        and node.func.value.id == "np" and len(node.args) == 1 and not node.keywords and \
        isinstance(node.args[0], gast.Name)


def _is_of_known_rank(node: gast.Call, ranks: Dict[str, Optional[int]],
                      bindings: Dict[str, gast.AST]) -> bool:
    """np.size(a) or np.asarray(a) of a parameter bound to a name of known rank."""
    return _is_size_or_asarray(node) and ranks.get(node.args[0].id) is not None and \
        isinstance(bindings.get(node.args[0].id), gast.Name)


def _rank_test(test: gast.AST) -> Optional[bool]:
    """`r == k` and `and` of them, once known_rank(...) became a constant r (or None)."""
    if isinstance(test, gast.BoolOp) and isinstance(test.op, gast.And):
        parts = [_rank_test(v) for v in test.values]
        if False in parts:  # (an unknown rank, or a test decided false: false)
            return False
        return None if None in parts else all(parts)
    if isinstance(test, gast.Compare) and len(test.ops) == 1 and \
            isinstance(test.ops[0], gast.Eq) and isinstance(test.left, gast.Constant) and \
            isinstance(test.comparators[0], gast.Constant) and \
            type(test.comparators[0].value) is int and \
            (test.left.value is None or type(test.left.value) is int):
        return test.left.value == test.comparators[0].value
    return None


def _is_none(node: gast.AST) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def _is_literal(node: gast.AST) -> bool:
    if isinstance(node, gast.Constant):
        return True
    return isinstance(node, (gast.Tuple, gast.List)) and all(map(_is_literal, node.elts))


def _literal_value(node: gast.AST):
    if isinstance(node, gast.Constant):
        return node.value
    return tuple(_literal_value(e) for e in node.elts)


def bind_modules(template: Template, namespace: Dict[str, Any],
                 bound: Dict[str, types.ModuleType], namer: Any) -> Dict[str, gast.AST]:
    """Bindings that make the template's modules names of the generated module: its own
    name (`special`), or the user's name for that module (`sp`) in `namespace`, or where
    neither, its own name if free, else a version of it; `bound` (alias -> module) collects what the generated module's
    globals must add."""
    bindings: Dict[str, gast.AST] = {}
    for name, module in template.modules.items():
        alias = name if namespace.get(name) is module else next(
            (a for a, m in [*namespace.items(), *bound.items()] if m is module), None)
        if alias is None:
            alias = namer.named(name)
            bound[alias] = module
        bindings[name] = gast.Name(id=alias, ctx=gast.Load(), annotation=None,
                                   type_comment=None)
    return bindings


def instantiate(template: Template, bindings: Dict[str, gast.AST],
                fresh_name: Callable[[str], str],
                keep: Tuple[str, ...] = (),
                ranks: Optional[Dict[str, Optional[int]]] = None) \
        -> Tuple[List[gast.stmt], Optional[gast.AST]]:
    """Statements of the body with names substituted, and the returned expression.

    `ranks` maps parameters to the ndim of their arguments where known.

    Names the body assigns are renamed with `fresh_name`, except those in `keep`
    (the d<param> outputs of an adjoint template, which the caller maps itself).
    """
    body = template.node.body
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        body = body[1:]  # docstring
    renames = {local: fresh_name(local) for local in template.locals_besides(keep)}
    substitute = _Substitute(bindings, renames, ranks or {})
    # most templates have no `x if ... else y`: nothing to decide, no second pass
    decide = template.has_conditionals or any(
        type(b) not in _ATOMS and _has_conditional(b) for b in bindings.values())
    returned = None
    statements = []
    for stmt in body:
        stmt = clone_with(stmt, substitute.replace)  # a copy, substituted
        if decide:
            stmt = _Specialise().visit(stmt)
        if isinstance(stmt, gast.Return):
            returned = stmt.value
        else:
            statements.append(stmt)
    return statements, returned
