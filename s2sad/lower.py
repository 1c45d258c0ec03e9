"""Lowering: one operation per assignment, as in seed 002 (a = exp(x); b = a ** 2; ...).

Input: `Parsed`. Output: `Lowered`, whose body satisfies

    stmt   := name = op            (every statement, in order)
            | return atom | return (atom, ...)
    op     := atom | atom BINOP atom | UNARYOP atom | atom CMPOP atom
            | callee(arg, ..., key=arg) | atom[index] | (atom, ...) | [atom, ...]
    arg    := atom | (atom, ...) | [atom, ...]
    index  := atom | slice(atom?, atom?, atom?) | (index, ...)
    atom   := local name | constant | resolved global (np.pi, a module-level array)

Names: the user's names are kept; a name assigned again becomes x_1, x_2 (SSA);
temporaries take free letters. Identical pure operations on the same values are
computed once (value numbering), which is what turns seed 002's repeated
`exp(x)` into the single `a` of the lecture. The returned operation is assigned
to the function's own name, so `def f(x): return ...` ends in `f = ...` and the
adjoint seed is `df`.
"""
from __future__ import annotations

import copy
import operator
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import gast
import numpy as np

from . import frontend
from .anno import get_anno, set_anno
from .errors import NoDerivativeRuleError, UnsupportedSyntaxError
from .frontend import Parsed
from .naming import Namer

BINOPS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.Mod: operator.mod, gast.FloorDiv: operator.floordiv,
}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_}
CMPOPS = {
    gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt,
    gast.GtE: operator.ge, gast.Eq: operator.eq, gast.NotEq: operator.ne,
}

# Array methods and attributes users write, lowered to the NumPy function of the
# same meaning so that one rule serves both spellings.
ARRAY_METHODS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "dot": np.dot, "transpose": np.transpose, "reshape": np.reshape, "ravel": np.ravel,
    "var": np.var, "std": np.std, "cumsum": np.cumsum, "squeeze": np.squeeze,
    "clip": np.clip, "copy": np.copy, "argmax": np.argmax, "argmin": np.argmin,
    "trace": np.trace, "flatten": np.ravel, "round": np.round,
}
ARRAY_ATTRIBUTES = {"T": np.transpose, "shape": np.shape, "ndim": np.ndim,
                    "size": np.size}


@dataclass
class Lowered:
    """The lowered function plus what later stages need to know about its names."""

    parsed: Parsed
    func: gast.FunctionDef
    params: List[str]
    output: Union[gast.AST, Tuple[gast.AST, ...]]
    namer: Namer
    versions: Dict[str, str] = field(default_factory=dict)
    scalar_params: frozenset = frozenset()

    @property
    def body(self) -> List[gast.stmt]:
        return self.func.body

    @property
    def output_name(self) -> Optional[str]:
        return self.output.id if isinstance(self.output, gast.Name) else None


def lower(parsed: Parsed, is_pure: Callable[[Any], bool]) -> Lowered:
    """Lower `parsed`; `is_pure(callee)` says which calls may be shared (CSE)."""
    return _Lowerer(parsed, is_pure).run()


def op_key(value: gast.AST) -> Any:
    """The rule-registry key of a lowered operation (None for a plain copy)."""
    if isinstance(value, gast.BinOp):
        return BINOPS[type(value.op)]
    if isinstance(value, gast.UnaryOp):
        return UNARYOPS[type(value.op)]
    if isinstance(value, gast.Compare):
        return CMPOPS[type(value.ops[0])]
    if isinstance(value, gast.Call):
        return get_anno(value.func, "resolved")
    if isinstance(value, gast.Subscript):
        return operator.getitem
    if isinstance(value, (gast.Tuple, gast.List)):
        return tuple
    return None


def op_operands(value: gast.AST) -> List[gast.AST]:
    """The operand atoms of a lowered operation, in order (keywords last)."""
    if isinstance(value, gast.BinOp):
        return [value.left, value.right]
    if isinstance(value, gast.UnaryOp):
        return [value.operand]
    if isinstance(value, gast.Compare):
        return [value.left, value.comparators[0]]
    if isinstance(value, gast.Call):
        return list(value.args) + [k.value for k in value.keywords]
    if isinstance(value, gast.Subscript):
        return [value.value, value.slice]
    if isinstance(value, (gast.Tuple, gast.List)):
        return list(value.elts)
    return [value]


def is_local(node: gast.AST) -> bool:
    """A name bound in the lowered function (not a resolved global)."""
    return isinstance(node, gast.Name) and get_anno(node, "resolved", _NOT) is _NOT


_NOT = object()


def local_names_in(node: gast.AST) -> List[str]:
    return [n.id for n in gast.walk(node) if is_local(n) and isinstance(n.ctx, gast.Load)]


def name(id_: str, ctx: Optional[gast.expr_context] = None) -> gast.Name:
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def assign(target: str, value: gast.AST) -> gast.Assign:
    return gast.Assign(targets=[name(target, gast.Store())], value=value,
                       type_comment=None)


def constant(value: Any) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


class _Lowerer:
    def __init__(self, parsed: Parsed, is_pure: Callable[[Any], bool]):
        self.parsed = parsed
        self.is_pure = is_pure
        func = parsed.func
        self.params = [a.id for a in frontend._all_params(func)]
        taken = frontend.bound_names(func) | set(parsed.namespace)
        self.namer = Namer(taken)
        self.env: Dict[str, str] = {p: p for p in self.params}
        self.defined: set = set(self.params)
        self.versions: Dict[str, str] = {}
        self.body: List[gast.stmt] = []
        self.shared: Dict[str, str] = {}
        self.origin: Tuple[int, str] = (func.lineno, "")

    def run(self) -> Lowered:
        func = self.parsed.func
        output = None
        for stmt in func.body:
            line = stmt.lineno
            self.origin = (line, self.parsed.source_line(line).strip())
            output = self.statement(stmt)
        new_func = gast.FunctionDef(
            name=func.name, args=copy.deepcopy(func.args), body=self.body,
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        new_func.lineno = func.lineno
        scalars = frozenset(a.id for a in frontend._all_params(func)
                            if _is_scalar_annotation(a.annotation))
        for arg in frontend._all_params(new_func):
            arg.annotation = None
        return Lowered(self.parsed, new_func, self.params, output, self.namer,
                       self.versions, scalars)

    # -- statements ---------------------------------------------------------

    def statement(self, stmt: gast.stmt):
        if isinstance(stmt, (gast.Pass, gast.Expr)):
            return None  # docstrings and pass carry no computation
        if isinstance(stmt, gast.Assign):
            self.assign_to(stmt.targets[0], stmt.value)
        elif isinstance(stmt, gast.AnnAssign):
            self.assign_to(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign):
            combined = gast.BinOp(left=name(stmt.target.id), op=stmt.op, right=stmt.value)
            gast.copy_location(combined, stmt)
            self.assign_to(stmt.target, combined)
        elif isinstance(stmt, gast.Return):
            return self.return_(stmt)
        return None

    def assign_to(self, target: gast.AST, value: gast.AST) -> None:
        if isinstance(target, gast.Name):
            dest = self.fresh_version(target.id)
            self.expr(value, dest)
            self.env[target.id] = dest
            return
        targets = target.elts
        if not isinstance(value, (gast.Tuple, gast.List)):
            raise UnsupportedSyntaxError(
                "unpacking a value that is not a tuple literal is not supported yet",
                self.parsed.locate(value),
                hint="assign the parts one by one, e.g. a = t[0]; b = t[1]")
        if len(value.elts) != len(targets):
            raise UnsupportedSyntaxError(
                f"cannot unpack {len(value.elts)} values into {len(targets)} names",
                self.parsed.locate(value), hint="match the number of names and values")
        # All right-hand sides read the old bindings; bind the names afterwards.
        bound = []
        for sub_target, sub_value in zip(targets, value.elts):
            if not isinstance(sub_target, gast.Name):
                raise UnsupportedSyntaxError(
                    "nested tuple targets are not supported", self.parsed.locate(sub_target),
                    hint="unpack one level at a time")
            dest = self.fresh_version(sub_target.id)
            self.expr(sub_value, dest)
            bound.append((sub_target.id, dest))
        for user_name, dest in bound:
            self.env[user_name] = dest

    def fresh_version(self, user_name: str) -> str:
        if user_name not in self.defined:
            self.defined.add(user_name)
            return self.namer.reserve(user_name)
        dest = self.namer.version(user_name)
        self.versions[dest] = user_name
        return dest

    def return_(self, stmt: gast.Return):
        value = stmt.value
        if isinstance(value, gast.Tuple):
            return tuple(self.expr(elt) for elt in value.elts)
        func_name = self.parsed.func.name
        dest = func_name if self.namer.is_free(func_name) else None
        if isinstance(value, gast.Name) and value.id in self.env \
                and self.env[value.id] not in self.params:
            return name(self.env[value.id])
        if dest is None:
            dest = self.namer.temp()
        else:
            self.namer.reserve(dest)
        return self.expr(value, dest)

    # -- expressions --------------------------------------------------------

    def expr(self, node: gast.AST, dest: Optional[str] = None) -> gast.AST:
        """Lower `node`; return the atom holding its value (`dest` if given)."""
        atom = self.atom(node)
        if atom is not None:
            if dest is None:
                return atom
            return self.emit(atom, dest, node, shareable=False)
        value = self.operation(node)
        shareable = self._shareable(value)
        return self.emit(value, dest, node, shareable)

    def atom(self, node: gast.AST) -> Optional[gast.AST]:
        if isinstance(node, gast.Constant):
            return constant(node.value)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant) \
                and isinstance(node.operand.value, (int, float)) \
                and not isinstance(node.operand.value, bool):
            return constant(-node.operand.value)
        if isinstance(node, gast.Name):
            if node.id in self.env:
                return name(self.env[node.id])
            resolved = get_anno(node, "resolved", _NOT)
            if resolved is _NOT:
                raise UnsupportedSyntaxError(
                    f"{node.id!r} is used before it is assigned",
                    self.parsed.locate(node), hint="assign it first")
            self._check_global_value(node, resolved)
            return _copy_global(node)
        if isinstance(node, gast.Attribute) and get_anno(node, "resolved", _NOT) is not _NOT:
            self._check_global_value(node, get_anno(node, "resolved"))
            return _copy_global(node)
        return None

    def _check_global_value(self, node: gast.AST, value: Any) -> None:
        if callable(value) and not isinstance(value, np.ndarray):
            raise UnsupportedSyntaxError(
                f"the function {frontend._dotted(node)!r} is used as a value",
                self.parsed.locate(node),
                hint="call it here; passing functions around is not supported")

    def operation(self, node: gast.AST) -> gast.AST:
        if isinstance(node, gast.BinOp):
            left = self.expr(node.left)
            right = self.expr(node.right)
            return gast.BinOp(left=left, op=copy.copy(node.op), right=right)
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.UAdd):
                return self.expr(node.operand)
            return gast.UnaryOp(op=copy.copy(node.op), operand=self.expr(node.operand))
        if isinstance(node, gast.Compare):
            if len(node.ops) != 1 or type(node.ops[0]) not in CMPOPS:
                raise UnsupportedSyntaxError(
                    "chained comparisons and `in`/`is` are not supported",
                    self.parsed.locate(node),
                    hint="compare two values at a time, e.g. (a < b) & (b < c)")
            left = self.expr(node.left)
            right = self.expr(node.comparators[0])
            return gast.Compare(left=left, ops=[copy.copy(node.ops[0])],
                                comparators=[right])
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Attribute):
            return self.attribute(node)
        if isinstance(node, gast.Subscript):
            base = self.expr(node.value)
            index = self.index(node.slice)
            return gast.Subscript(value=base, slice=index, ctx=gast.Load())
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.aggregate_element(e) for e in node.elts]
            return type(node)(elts=elts, ctx=gast.Load())
        raise UnsupportedSyntaxError(
            f"{type(node).__name__} expressions are not supported",
            self.parsed.locate(node), hint="rewrite with arithmetic and NumPy calls")

    def aggregate_element(self, node: gast.AST) -> gast.AST:
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.aggregate_element(e) for e in node.elts],
                              ctx=gast.Load())
        return self.expr(node)

    def call(self, node: gast.Call) -> gast.Call:
        func = node.func
        resolved = get_anno(func, "resolved", _NOT)
        receiver = None
        if resolved is _NOT:
            if isinstance(func, gast.Attribute):
                method = ARRAY_METHODS.get(func.attr)
                if method is None:
                    raise NoDerivativeRuleError(
                        f"the method .{func.attr}() is not supported",
                        self.parsed.locate(func),
                        hint="use the NumPy function instead (np.<name>(x, ...)); "
                             f"supported methods: {', '.join(sorted(ARRAY_METHODS))}")
                receiver = self.expr(func.value)
                resolved = method
                func = _numpy_callee(method)
            else:
                raise UnsupportedSyntaxError(
                    "calling a local variable or the result of an expression is not "
                    "supported", self.parsed.locate(func),
                    hint="call a function defined at module level by its name")
        else:
            func = _copy_global(func)
        args = [self.aggregate_element(a) for a in node.args]
        if receiver is not None:
            args.insert(0, receiver)
            if resolved in (np.reshape, np.transpose) and len(args) > 2:
                # x.reshape(2, 3) and x.transpose(1, 0) take the shape unpacked
                args = [args[0], gast.Tuple(elts=args[1:], ctx=gast.Load())]
        keywords = [gast.keyword(arg=k.arg, value=self.aggregate_element(k.value))
                    for k in node.keywords]
        call = gast.Call(func=func, args=args, keywords=keywords)
        set_anno(call, "location", self.parsed.locate(node))
        return call

    def attribute(self, node: gast.Attribute) -> gast.AST:
        function = ARRAY_ATTRIBUTES.get(node.attr)
        if function is None:
            raise NoDerivativeRuleError(
                f"the attribute .{node.attr} is not supported",
                self.parsed.locate(node),
                hint=f"supported array attributes: {', '.join(sorted(ARRAY_ATTRIBUTES))}")
        call = gast.Call(func=_numpy_callee(function), args=[self.expr(node.value)],
                         keywords=[])
        set_anno(call, "location", self.parsed.locate(node))
        return call

    def index(self, node: gast.AST) -> gast.AST:
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.expr(p)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.aggregate_element(node)

    def _shareable(self, value: gast.AST) -> bool:
        key = op_key(value)
        return key is not None and self.is_pure(key)

    def emit(self, value: gast.AST, dest: Optional[str], node: gast.AST,
             shareable: bool) -> gast.Name:
        signature = gast.dump(value) if shareable else None
        if signature is not None and signature in self.shared:
            held = self.shared[signature]
            if dest is None:
                return name(held)
            value = name(held)
        target = dest or self.namer.temp()
        stmt = assign(target, value)
        set_anno(stmt, "origin", self.origin)
        set_anno(stmt, "location", self.parsed.locate(node))
        self.body.append(stmt)
        if signature is not None and signature not in self.shared:
            self.shared[signature] = target
        return name(target)


def _copy_global(node: gast.AST) -> gast.AST:
    """A fresh copy of a resolved global reference, annotations included."""
    return copy.deepcopy(node)


def _numpy_callee(function: Any) -> gast.Attribute:
    np_name = gast.Name(id="np", ctx=gast.Load(), annotation=None, type_comment=None)
    set_anno(np_name, "resolved", np)
    attr = gast.Attribute(value=np_name, attr=function.__name__, ctx=gast.Load())
    set_anno(attr, "resolved", function)
    return attr


def _is_scalar_annotation(annotation: Optional[gast.AST]) -> bool:
    return isinstance(annotation, gast.Name) and annotation.id in ("float", "int")
