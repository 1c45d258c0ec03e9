"""Lowering: one operation per assignment, as in seed 002 (a = exp(x); b = a ** 2; ...).

Input: `Parsed`. Output: `Lowered`, whose body satisfies

    stmt   := name = op
            | name[index] = op | name[index] += op | name[index] -= op
            | for name in range(atom, ...): stmt* | for name in reversed(range(...)): stmt*
            | while name: stmt*        (the test's statements end the body again)
            | if atom: stmt* else: stmt*
            | break                     (only as the last statement of a branch)
    op     := atom | atom BINOP atom | UNARYOP atom | atom CMPOP atom
            | callee(arg, ..., key=arg) | atom[index] | (atom, ...) | [atom, ...]
    arg    := atom | (atom, ...) | [atom, ...]
    index  := atom | slice(atom?, atom?, atom?) | (index, ...)
    atom   := local name | constant | resolved global (np.pi, a module-level array)
            | name[index]   (inside loops and branches: `a[i]`, `c[i + k]`, read in place)

Early `return`, `continue` and `break` are made structured first: the rest of a
block moves into the branch that does not leave it, a `return` inside a loop sets
a flag and breaks. Calls to the user's own functions are inlined, their names
renamed apart; a cycle of calls is refused.

Names: the user's names are kept; a name assigned again becomes x_1, x_2 (SSA),
except names assigned inside a loop or branch, which keep one name (the loop
carries it). Temporaries take free letters. Identical pure operations on the same
values are computed once (value numbering), which is what turns seed 002's
repeated `exp(x)` into the single `a` of the lecture. The returned operation is
assigned to the function's own name, so `def f(x): return ...` ends in `f = ...`
and the adjoint seed is `df`.
"""
from __future__ import annotations

import builtins
import copy
import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

import gast
import numpy as np

from . import frontend, implicit, runtime
from .anno import (clone, fingerprint, get_anno, has_anno, names_in, set_anno, subscripts_in,
                   walk)
from .errors import ArgumentError, NoDerivativeRuleError, UnsupportedSyntaxError
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
    gast.Is: operator.is_, gast.IsNot: operator.is_not,  # `axis is None`
}

# Array methods and attributes users write, lowered to the NumPy function of the
# same meaning so that one rule serves both spellings.
ARRAY_METHODS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "dot": np.dot, "transpose": np.transpose, "reshape": np.reshape, "ravel": np.ravel,
    "var": np.var, "std": np.std, "cumsum": np.cumsum, "squeeze": np.squeeze,
    "clip": np.clip, "copy": np.copy, "argmax": np.argmax, "argmin": np.argmin,
    "trace": np.trace, "round": np.round,
    "flatten": np.copy,  # of np.ravel(x): ravel may return a view, flatten always copies
    "astype": np.array,  # x.astype(t) copies, as np.array(x, t) does
    "cumprod": np.cumprod, "swapaxes": np.swapaxes, "repeat": np.repeat,
    "take": np.take, "diagonal": np.diagonal, "argsort": np.argsort,
    "item": runtime.item,  # (no NumPy function returns the Python number)
}
ARRAY_ATTRIBUTES = {"T": np.transpose, "shape": np.shape, "ndim": np.ndim,
                    "size": np.size, "real": np.real, "imag": np.imag}

# Operations whose result may share memory with an operand (a view or the object itself).
VIEW_FUNCTIONS = frozenset({
    operator.getitem, np.reshape, np.ravel, np.transpose, np.squeeze, np.expand_dims,
    np.asarray, np.swapaxes, np.moveaxis, np.broadcast_to, np.atleast_1d, np.atleast_2d,
    np.atleast_3d, np.diagonal, np.flip, np.fliplr, np.flipud, np.rot90, np.rollaxis,
    np.real, np.real_if_close, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit,
    np.diag,  # (of a matrix: its diagonal, a view)
    # (the array itself where it already fits)
    np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.asarray_chkfinite,
    np.require, np.trim_zeros,
})
# NumPy functions that write into an array they are given (and return None).
IN_PLACE_FUNCTIONS = frozenset(f for f in (
    getattr(np, n, None) for n in ("copyto", "fill_diagonal", "put", "putmask", "place",
                                   "put_along_axis")) if f is not None)
# Calls that make a new array: each call its own object, so never shared (CSE),
# since one of them may be written into.
FRESH_ARRAYS = frozenset({
    np.copy, np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like,
    np.empty_like, np.full_like, np.array, np.arange, np.linspace, np.eye, np.identity,
    implicit.fixed_point, implicit.root,  # (a solution shares no memory with what g reads)
})
# Names the generated module itself binds, to these modules.
_GENERATED_MODULES = {"np": np, "math": __import__("math")}
# Index arithmetic kept inline in a subscript (c[i + k]): recomputed, never stored.
_INDEX_OPS = (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)
# Library code is never inlined: a call into it needs a rule.
_LIBRARY_MODULES = ("numpy", "math", "builtins", "scipy", "s2sad", "autograd", "jax",
                    "torch")


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
    namespace: Dict[str, Any] = field(default_factory=dict)
    int_names: frozenset = frozenset()   # loop counters: Python ints for sure
    inlined: tuple = ()                  # the user's functions whose bodies were inlined
    # has_aux: the values returned beside the differentiated output, not differentiated
    aux: Tuple[gast.AST, ...] = ()
    int_tuple_names: frozenset = frozenset()  # shapes: tuples of Python ints for sure

    @property
    def body(self) -> List[gast.stmt]:
        return self.func.body

    @property
    def output_name(self) -> Optional[str]:
        return self.output.id if isinstance(self.output, gast.Name) else None


def lower(parsed: Parsed, is_pure: Callable[[Any], bool],
          param_ranks: Optional[Dict[str, Optional[int]]] = None) -> Lowered:
    """Lower `parsed`; `is_pure(callee)` says which calls may be shared (CSE);
    `param_ranks` (ndim per argument, None for a non-array) where a call gave them."""
    _ASSIGNED.clear()
    try:
        return _Lowerer(parsed, is_pure, param_ranks or {}).run()
    finally:
        _ASSIGNED.clear()


class TapeOperation:
    """tape.append / tape.pop in generated code read back: keys no rule has."""

    def __init__(self, method: str):
        self.method = method

    def __repr__(self) -> str:
        return f"tape.{self.method}"


TAPE_PUSH, TAPE_POP = TapeOperation("append"), TapeOperation("pop")


def tape_call(tape: gast.AST, operation: TapeOperation, args: List[gast.AST]) -> gast.Call:
    func = gast.Attribute(value=tape, attr=operation.method, ctx=gast.Load())
    set_anno(func, "resolved", operation)
    return gast.Call(func=func, args=args, keywords=[])


def is_push_statement(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Expr) and op_key(stmt.value) is TAPE_PUSH


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
    if isinstance(value, gast.Subscript) and not is_subscript_atom(value):
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
    if isinstance(value, gast.Subscript) and not is_subscript_atom(value):
        return [value.value, value.slice]
    if isinstance(value, (gast.Tuple, gast.List)):
        return list(value.elts)
    return [value]


def statement_reads(stmt: gast.stmt) -> List[str]:
    """The local names a lowered statement reads (a store's index too, not its array)."""
    if isinstance(stmt, (gast.For, gast.While, gast.If)):
        parts = [stmt.iter] if isinstance(stmt, gast.For) else [stmt.test]
    elif isinstance(stmt, gast.Assign):
        parts = [stmt.value] + ([stmt.targets[0].slice] if is_store(stmt) else [])
    elif isinstance(stmt, gast.AugAssign):
        parts = [stmt.value, stmt.target]
    elif isinstance(stmt, gast.Expr):
        parts = [stmt.value]
    else:
        return []
    return [n for part in parts for n in local_names_in(part)]


def is_local(node: gast.AST) -> bool:
    """A name bound in the lowered function (not a resolved global)."""
    return isinstance(node, gast.Name) and get_anno(node, "resolved", _NOT) is _NOT


def is_subscript_atom(node: gast.AST) -> bool:
    """`a[i]` read in place inside a loop or branch (lowering marks it)."""
    return isinstance(node, gast.Subscript) and get_anno(node, "atom", False)


def base_name(node: gast.AST) -> Optional[str]:
    """The local array a name or a subscript atom reads."""
    while isinstance(node, gast.Subscript):
        node = node.value
    return node.id if is_local(node) else None


_NOT = object()


def local_names_in(node: gast.AST) -> List[str]:
    return [n.id for n in names_in(node) if isinstance(n.ctx, gast.Load) and is_local(n)]


def name(id_: str, ctx: Optional[gast.expr_context] = None) -> gast.Name:
    """gast.Name(id=id_, ctx=ctx or Load(), annotation=None, type_comment=None), made
    without gast's Python-level constructor: every stage makes thousands of names.
    A read shares one Load, as clones share their source's (a context is never
    changed in place, only replaced): thousands of objects fewer to collect."""
    node = gast.Name.__new__(gast.Name)
    node.__dict__.update(id=id_, ctx=ctx or _LOAD, annotation=None, type_comment=None)
    return node


_LOAD = gast.Load()


def call(dotted: str, args: List[gast.AST],
         keywords: Optional[List[gast.keyword]] = None) -> gast.Call:
    """A call of `dotted` ("np.exp", "tape.append", "unsum")."""
    parts = dotted.split(".")
    func: gast.AST = name(parts[0])
    for part in parts[1:]:
        func = gast.Attribute(value=func, attr=part, ctx=gast.Load())
    return gast.Call(func=func, args=args, keywords=keywords or [])


def assign(target: str, value: gast.AST) -> gast.Assign:
    return gast.Assign(targets=[name(target, gast.Store())], value=value,
                       type_comment=None)


def constant(value: Any) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def builtin(function: Any) -> gast.Name:
    node = name(function.__name__)
    set_anno(node, "resolved", function)
    return node


# -- walking a lowered body ----------------------------------------------------------

def walk_statements(body: Sequence[gast.stmt]) -> List[gast.stmt]:
    """Every statement, compound ones before their bodies, in program order: a list
    (the stages ask for it a dozen times each; nested generators passed every
    statement up through each enclosing block's generator)."""
    found: List[gast.stmt] = []
    _collect_statements(body, found)
    return found


def _collect_statements(body: Sequence[gast.stmt], found: List[gast.stmt]) -> None:
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            _collect_statements(stmt.body, found)
            _collect_statements(stmt.orelse, found)


def stored_name(stmt: gast.stmt) -> Optional[str]:
    """The local a simple statement binds or writes into."""
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
    elif isinstance(stmt, gast.AugAssign):
        target = stmt.target
    elif isinstance(stmt, gast.For):
        target = stmt.target
    else:
        return None
    while isinstance(target, gast.Subscript):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


def is_store(stmt: gast.stmt) -> bool:
    """c[i] = e or c[i] += e: a write into an element of an array."""
    target = stmt.targets[0] if isinstance(stmt, gast.Assign) else \
        stmt.target if isinstance(stmt, gast.AugAssign) else None
    return isinstance(target, gast.Subscript)


def assigned_names(body: Sequence[gast.AST]) -> Set[str]:
    """Names bound anywhere in `body` (user AST or lowered)."""
    names = set()
    for stmt in body:
        cached = _ASSIGNED.get(id(stmt))
        if cached is not None and cached[0] is stmt:
            names |= cached[1]
            continue
        found = _assigned_in(stmt)
        _ASSIGNED[id(stmt)] = (stmt, found)  # asked again for each enclosing block
        names |= found
    return names


# statement id -> (the statement, the names it binds), for the lowering under way
_ASSIGNED: Dict[int, Tuple[gast.AST, Set[str]]] = {}


def _assigned_in(stmt: gast.AST) -> Set[str]:
    """A loop's or branch's names are its header's and its blocks' (asked of each
    statement once, through the cache), not a walk of everything again."""
    if not isinstance(stmt, (gast.For, gast.While, gast.If)):
        return _stored_in(stmt)
    names = set()
    for part in stmt._fields:
        value = getattr(stmt, part, None)
        if part in ("body", "orelse"):
            names |= assigned_names(value)
        elif isinstance(value, gast.AST):
            names |= _stored_in(value)
    return names


def _stored_in(tree: gast.AST) -> Set[str]:
    names = set()
    for node in walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            names.add(node.id)
        elif isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store):
            inner = node.value
            if isinstance(inner, gast.Name):
                names.add(inner.id)
    return names


def _carried_names(body: Sequence[gast.stmt]) -> Set[str]:
    """User names bound inside a loop or a branch: they keep one name (no versions)."""
    names: Set[str] = set()
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            names |= assigned_names([stmt])
    return names


def _updated_in_place(body: Sequence[gast.stmt]) -> Set[str]:
    """User names whose array a statement writes into (v += e, v[i] = e): value
    numbering must not hand such a name a value another name holds, or the write
    would reach that name too (b = x * 2; c = x * 2; c[0] = 5 must not change b)."""
    names: Set[str] = set()
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, gast.AugAssign):
                target = node.target
            elif isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store):
                target = node.value
            else:
                continue
            while isinstance(target, (gast.Subscript, gast.Attribute)):
                target = target.value
            if isinstance(target, gast.Name):
                names.add(target.id)
    return names


# -- structured exits -----------------------------------------------------------------

def _leaves(stmt: gast.stmt, loop_level: bool) -> bool:
    """Does `stmt` contain a return, or a break/continue of the enclosing loop?"""
    if isinstance(stmt, gast.Return):
        return True
    if isinstance(stmt, (gast.Break, gast.Continue)):
        return loop_level
    inner_loop = isinstance(stmt, (gast.For, gast.While))
    return any(_leaves(child, loop_level and not inner_loop)
               for field_name in ("body", "orelse") for child in getattr(stmt, field_name, []))


class _Exits:
    """Early return, break and continue rewritten as structured code.

    The statements after an `if` that may leave the block move into both of its
    branches (and vanish after the leaving statement), so nothing runs after a
    `break` in its block; a `return` inside a loop assigns the result, sets a flag
    and breaks, and the code after the loop runs only if the flag is unset.
    """

    def __init__(self, result: gast.AST, flag: str):
        self.result = result
        self.flag = flag
        self.flag_used = False

    def block(self, stmts: Sequence[gast.stmt], in_loop: bool) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for index, stmt in enumerate(stmts):
            rest = list(stmts[index + 1:])
            if isinstance(stmt, gast.Return):
                out.append(gast.copy_location(gast.Assign(
                    targets=[clone(self.result)], value=stmt.value,
                    type_comment=None), stmt))
                if in_loop:
                    self.flag_used = True
                    out.append(gast.copy_location(
                        assign(self.flag, constant(True)), stmt))
                    out.append(gast.copy_location(gast.Break(), stmt))
                return out
            if isinstance(stmt, gast.Break):
                out.append(stmt)
                return out
            if isinstance(stmt, gast.Continue):
                return out
            if isinstance(stmt, gast.If) and _leaves(stmt, True):
                branch = gast.If(test=stmt.test,
                                 body=self.block(stmt.body + clone(rest), in_loop),
                                 orelse=self.block(stmt.orelse + clone(rest),
                                                   in_loop))
                out.append(gast.copy_location(branch, stmt))
                return out
            if isinstance(stmt, gast.If):  # leaves nothing, but a loop inside may break
                stmt.body = self.block(stmt.body, in_loop)
                stmt.orelse = self.block(stmt.orelse, in_loop)
                out.append(stmt)
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                returns = bool(_returns_in([stmt]))
                stmt.body = self.block(stmt.body, True)
                out.append(stmt)
                if returns:
                    flag = name(self.flag)
                    if in_loop:
                        leave = gast.copy_location(gast.Break(), stmt)
                        guard = gast.If(test=flag, body=[leave],
                                        orelse=self.block(rest, in_loop))
                    else:
                        guard = gast.If(test=gast.UnaryOp(op=gast.Not(), operand=flag),
                                        body=self.block(rest, in_loop), orelse=[])
                    out.append(gast.copy_location(guard, stmt))
                    gast.copy_location(guard.test, stmt)
                    return out
                continue
            out.append(stmt)
        return out


def _size(body: Sequence[gast.stmt]) -> int:
    return sum(1 for _ in walk_statements(body))


def _returns_in(body: Sequence[gast.stmt]) -> List[gast.Return]:
    """The return statements of a checked body, found among its statements: the
    frontend admits no statement with a body but loops and branches, and no
    expression holds a statement, so no walk through every expression is needed."""
    return [s for s in walk_statements(body) if isinstance(s, gast.Return)]


def _single_final_return(body: Sequence[gast.stmt]) -> bool:
    returns = _returns_in(body)
    return len(returns) == 1 and bool(body) and body[-1] is returns[0]


def _returned_arity(body: Sequence[gast.stmt]) -> Optional[int]:
    """How many values each return gives (None for one value); all must agree."""
    arities = {len(n.value.elts) if isinstance(n.value, gast.Tuple) else None
               for n in _returns_in(body)}
    return arities.pop() if len(arities) == 1 else -1


def described_value(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _is_user_function(fn: Any) -> bool:
    """A plain Python function of the user's, to be inlined (library code needs a rule);
    or one s2sad generated for an implicit solve, read to differentiate it again."""
    if not isinstance(fn, types.FunctionType) or fn.__name__ == "<lambda>":
        return False
    if getattr(fn, "_s2sad_readable", False):
        return True
    module = getattr(fn, "__module__", None) or ""
    if module.split(".")[0] in _LIBRARY_MODULES:
        return False
    try:
        path = inspect.getsourcefile(fn) or ""
        inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return False  # no source to inline: it needs a rule like any library function
    return "site-packages" not in path and "dist-packages" not in path


@dataclass
class _Scope:
    """The names of one body being lowered: the function's own, or an inlined helper's."""

    parsed: Parsed
    env: Dict[str, str]                 # user name -> lowered name holding its value
    bases: Dict[str, str]               # user name -> its first lowered name
    carried: Set[str]                   # user names assigned in a loop or branch
    label: str = ""                     # the helper's name ("" for the function itself)
    aliases: Set[str] = field(default_factory=set)   # helper parameters seen by the caller
    updated_in_place: Set[str] = field(default_factory=set)  # v += e, v[i] = e
    renamed: Dict[str, str] = field(default_factory=dict)  # helper globals given new names


class _Lowerer:
    def __init__(self, parsed: Parsed, is_pure: Callable[[Any], bool],
                 param_ranks: Dict[str, Optional[int]]):
        self.is_pure = is_pure
        self.param_ranks = param_ranks
        self.root = parsed
        func = parsed.func
        self.params = [a.id for a in frontend._all_params(func)]
        taken = set(parsed.local_names) | set(parsed.namespace)  # (frontend.bound_names)
        self.namer = Namer(taken)
        self.versions: Dict[str, str] = {}
        self.blocks: List[List[gast.stmt]] = [[]]
        self.shared: Dict[str, Tuple[str, Set[str]]] = {}
        # names that may share an array (t = b, views): a write into one makes the
        # values computed from every one of them stale
        self.sharers: Dict[str, Set[str]] = {}
        self.private: Set[str] = set()  # names whose values are never shared (see emit)
        self.depth = 0
        self.int_names: Set[str] = set()
        self.inlining: List[types.FunctionType] = []
        self.inlined: List[types.FunctionType] = []
        self.namespace: Dict[str, Any] = dict(parsed.namespace)
        self.scope = _Scope(parsed, {p: p for p in self.params}, {p: p for p in self.params},
                            set())
        self.origin: Tuple[int, str] = (func.lineno, "")

    @property
    def parsed(self) -> Parsed:
        return self.scope.parsed

    def run(self) -> Lowered:
        func = self.root.func
        output = self.function_body(func.body, func.name, root=True)
        new_func = gast.FunctionDef(
            name=func.name, args=clone(func.args), body=self.blocks[0],
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        new_func.lineno = func.lineno
        scalars = frozenset(a.id for a in frontend._all_params(func)
                            if _is_scalar_annotation(a.annotation))
        for arg in frontend._all_params(new_func):
            arg.annotation = None
        return Lowered(self.root, new_func, self.params, output, self.namer,
                       self.versions, scalars, self.namespace, frozenset(self.int_names),
                       tuple(self.inlined))

    def function_body(self, body: Sequence[gast.stmt], label: str, root: bool):
        """Lower a body; return the atom (or tuple of atoms) it returns."""
        body = clone(list(body))  # restructuring exits rewrites blocks in place
        self.scope.updated_in_place = _updated_in_place(body)
        if _single_final_return(body):
            # no early return: only loops' break and continue need restructuring
            size = _size(body)
            structured = _Exits(name(label, gast.Store()), label).block(body[:-1], False)
            self._refuse_blow_up(size, structured)
            self.scope.carried = _carried_names(structured)
            for stmt in structured:
                self.statement(stmt)
            self.set_origin(body[-1])
            return self.return_(body[-1], root)
        arity = _returned_arity(body)
        if arity == -1:
            raise UnsupportedSyntaxError(
                "the return statements give different numbers of values",
                self.parsed.locate(body[-1]), hint="return the same kind of value everywhere")
        preferred = label if root else f"{label}_result"
        results = [self.namer.named(preferred if arity is None else f"{preferred}{k}")
                   for k in range(arity or 1)]
        target = name(results[0], gast.Store()) if arity is None else gast.Tuple(
            elts=[name(r, gast.Store()) for r in results], ctx=gast.Store())
        flag = self.namer.named("returned")
        exits = _Exits(target, flag)
        size = _size(body)
        structured = exits.block(list(body), in_loop=False)
        self._refuse_blow_up(size, structured)
        self.scope.carried = _carried_names(structured) | set(results) | {flag}
        for result in results + [flag]:
            self.scope.bases[result] = result
        if exits.flag_used:
            self.emit(assign(flag, constant(False)), body[0])
        for stmt in structured:
            self.statement(stmt)
        atoms = tuple(name(r) for r in results)
        return atoms[0] if arity is None else atoms

    def _refuse_blow_up(self, before: int, structured) -> None:
        """Each `if` that may leave its block copies the rest of the block into both of
        its branches; many in a row would multiply the code (2 ** k copies)."""
        after = _size(structured)
        if after > max(10 * before, 300):
            raise UnsupportedSyntaxError(
                f"the early exits (break, continue, return) of this function would be "
                f"expanded into {after} statements", self.parsed.locate(self.parsed.func),
                hint="set a flag where the loop should skip or stop, and test it once "
                     "(if not done: ...)")

    def set_origin(self, stmt: gast.stmt) -> None:
        line = stmt.lineno
        text = self.parsed.source_line(line).strip()
        if self.scope.label:
            text = f"{text}  (in {self.scope.label})"
        self.origin = (line, text)

    # -- statements ---------------------------------------------------------

    def statement(self, stmt: gast.stmt) -> None:
        self.set_origin(stmt)
        if isinstance(stmt, gast.Expr) and frontend.is_check_call(stmt.value):
            self.check(stmt.value)
            return
        if isinstance(stmt, gast.Expr) and frontend.is_push(stmt.value):
            self.push(stmt.value)
            return
        if isinstance(stmt, gast.Expr) and frontend.is_scatter_add(stmt.value) and \
                frontend.is_generated(self.parsed):
            self.scatter_add(stmt.value)
            return
        if isinstance(stmt, (gast.Pass, gast.Expr)):
            return  # docstrings and pass carry no computation
        if isinstance(stmt, gast.Assign):
            self.assign_to(stmt.targets[0], stmt.value)
        elif isinstance(stmt, gast.AnnAssign):
            self.assign_to(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign):
            self.augmented(stmt)
        elif isinstance(stmt, gast.If):
            self.if_(stmt)
        elif isinstance(stmt, gast.For):
            self.for_(stmt)
        elif isinstance(stmt, gast.While):
            self.while_(stmt)
        elif isinstance(stmt, gast.Break):
            self.blocks[-1].append(gast.copy_location(gast.Break(), stmt))
        else:  # a Return left by _Exits cannot happen: every return became an assignment
            raise AssertionError(f"unexpected {type(stmt).__name__}")

    def push(self, call: gast.Call) -> None:
        """tape.append(v) of generated code: v as an atom, the tape by its local name."""
        value = self.expr(call.args[0])
        if not (is_local(value) or isinstance(value, gast.Constant)):
            value = self.emit(value, None, call)
        self.emit(gast.Expr(value=tape_call(self.expr(call.func.value), TAPE_PUSH, [value])),
                  None, call)

    def scatter_add(self, call: gast.Call) -> None:
        """np.add.at(da, index, e) of generated code: da[index] += e, adding at repeated
        indices (its adjoint gathers: de += dda[index])."""
        array, index, value = call.args
        base = name(self.scope.env[array.id])
        target = gast.Subscript(value=base, slice=self.expr(index), ctx=gast.Store())
        stmt = gast.AugAssign(target=target, op=gast.Add(), value=self.expr(value))
        set_anno(stmt, "scatter", True)
        self.forget({base.id})
        self.emit(stmt, call)

    def check(self, call: gast.Call) -> None:
        """require_shapes(ok, what) in generated code, an assert's require_true, a
        print: kept where they stand (the forward sweep), their arguments as atoms."""
        from . import runtime
        resolved = get_anno(call.func, "resolved", _NOT)
        if resolved is not getattr(runtime, call.func.id, builtins.print):
            raise UnsupportedSyntaxError(
                "an expression statement (its value is discarded) is not supported",
                self.parsed.locate(call), hint="assign the value to a name")
        if any(isinstance(a, gast.Starred) for a in call.args) or \
                any(k.arg is None or k.arg == "file" for k in call.keywords):
            raise UnsupportedSyntaxError(
                "this print is not supported", self.parsed.locate(call),
                hint="print values by position (with sep= and end= if you like)")
        args = [self.printed(a) for a in call.args]
        keywords = [gast.keyword(arg=k.arg, value=self.printed(k.value))
                    for k in call.keywords]
        checked = gast.Call(func=self.global_ref(call.func), args=args, keywords=keywords)
        self.emit(gast.Expr(value=checked), None, call)

    def printed(self, node: gast.AST) -> gast.AST:
        """An argument of a print or a log: its value, or an f-string of the values it
        formats (each lowered to an atom)."""
        if not isinstance(node, gast.JoinedStr):
            return self.aggregate_element(node)
        parts = []
        for part in node.values:
            if isinstance(part, gast.FormattedValue):
                part = gast.FormattedValue(
                    value=self.aggregate_element(part.value), conversion=part.conversion,
                    format_spec=self.printed(part.format_spec)
                    if part.format_spec is not None else None)
            parts.append(part)
        return gast.JoinedStr(values=parts)

    def assign_to(self, target: gast.AST, value: gast.AST) -> None:
        if isinstance(target, gast.Name):
            self.bind(target.id, value)
            return
        if isinstance(target, gast.Subscript):
            self.store(target, value, None)
            return
        targets = target.elts
        if isinstance(value, gast.Call) and self.inlined_callee(value) is not None:
            atoms = self.inline(value, self.inlined_callee(value))
            if not isinstance(atoms, tuple) or len(atoms) != len(targets):
                raise UnsupportedSyntaxError(
                    f"cannot unpack the result of {frontend._dotted(value.func)}() into "
                    f"{len(targets)} names", self.parsed.locate(value),
                    hint="match the number of names to the values the helper returns")
            values: List[gast.AST] = [_Lowered(atom) for atom in atoms]
        elif isinstance(value, (gast.Tuple, gast.List)):
            values = list(value.elts)
            if len(values) != len(targets):
                raise UnsupportedSyntaxError(
                    f"cannot unpack {len(values)} values into {len(targets)} names",
                    self.parsed.locate(value), hint="match the number of names and values")
        elif isinstance(value, gast.Call):
            # p, q = np.split(x, 2): the list into a temporary, then p = t[0], q = t[1]
            held = self.expr(value)
            if not is_local(held):
                held = self.emit(held, None, value)
            values = [_Lowered(gast.Subscript(value=clone(held), slice=constant(k),
                                              ctx=gast.Load()))
                      for k in range(len(targets))]
        else:
            raise UnsupportedSyntaxError(
                "unpacking a value that is not a tuple literal or a call is not supported",
                self.parsed.locate(value),
                hint="assign the parts one by one, e.g. a = t[0]; b = t[1]")
        # All right-hand sides read the old bindings; bind the names afterwards.
        bound = []
        for sub_target, sub_value in zip(targets, values):
            if isinstance(sub_target, gast.Subscript):
                held = self.emit(self.expr(sub_value), None, sub_value)
                bound.append((sub_target, held, None))
                continue
            if not isinstance(sub_target, gast.Name):
                raise UnsupportedSyntaxError(
                    "nested tuple targets are not supported", self.parsed.locate(sub_target),
                    hint="unpack one level at a time")
            if sub_target.id in self.scope.carried and len(targets) > 1:
                # the name keeps one lowered name: compute into a temporary first
                held = self.expr(sub_value)
                dest = self.namer.temp()
                self.emit(assign(dest, held), sub_value)
                bound.append((sub_target.id, name(dest), sub_value))
                continue
            dest = self.fresh_version(sub_target.id)
            self.expr(sub_value, dest)
            bound.append((sub_target.id, dest, None))
        for user_name, dest, node in bound:
            if isinstance(user_name, gast.Subscript):
                self.store(user_name, _Lowered(dest), None)  # c[0], c[1] = c[1], c[0]
            elif node is None:
                self.scope.env[user_name] = dest
            else:
                self.bind_atom(user_name, dest, node)

    def bind(self, user_name: str, value: gast.AST) -> None:
        """user_name = value, as lowered statements ending in its new lowered name."""
        dest = self.fresh_version(user_name)
        carried = user_name in self.scope.carried and isinstance(
            value, (gast.BinOp, gast.UnaryOp, gast.Call, gast.Compare, gast.Subscript,
                    gast.Attribute)) and \
            not (isinstance(value, gast.Call) and self.inlined_callee(value) is not None)
        if not carried:
            self.expr(value, dest)
        else:
            atom = self.atom(value)
            op = atom if atom is not None else self.operation(value)
            # (p = p * x is computed apart by emit: a = p * x; p = a)
            self.emit(op, dest, value, shareable=atom is None and self._shareable(op))
        self.scope.env[user_name] = dest

    def bind_atom(self, user_name: str, atom: gast.AST, node: gast.AST) -> None:
        dest = self.fresh_version(user_name)
        self.emit(assign(dest, atom), node)
        self.scope.env[user_name] = dest

    def fresh_version(self, user_name: str) -> str:
        dest = self._next_version(user_name)
        if user_name in self.scope.updated_in_place:
            self.private.add(dest)  # its array is written into: it shares no value
        return dest

    def _next_version(self, user_name: str) -> str:
        scope = self.scope
        base = scope.bases.get(user_name)
        if base is None:
            base = self.namer.reserve(user_name) if not scope.label else \
                self.namer.named(user_name)
            scope.bases[user_name] = base
            self.invalidate(base)
            return base
        if user_name in scope.carried and user_name not in scope.aliases:
            if base in self.params and self.depth == 0:
                # u = u.copy() before a loop that writes into u: the loop's one name
                # for u is a name of its own, not the parameter's (the caller's array)
                base = scope.bases[user_name] = self.namer.version(base)
                self.versions[base] = user_name
            self.invalidate(base)
            return base
        dest = self.namer.version(base)
        self.versions[dest] = base
        return dest

    def augmented(self, stmt: gast.AugAssign) -> None:
        target = stmt.target
        if isinstance(target, gast.Subscript):
            self.store(target, stmt.value, stmt.op)
            return
        combined = gast.BinOp(left=name(target.id), op=stmt.op, right=stmt.value)
        gast.copy_location(combined, stmt)
        updated = self.scope.env.get(target.id)
        self.bind(target.id, combined)
        if updated is not None and self.blocks[-1]:
            set_anno(self.blocks[-1][-1], "augmented", updated)
            self.forget(self.sharing(updated))  # in place on an array: its views see it

    def return_(self, stmt: gast.Return, root: bool):
        value = stmt.value
        if isinstance(value, gast.Tuple):
            return tuple(self.expr(elt) for elt in value.elts)
        if not root:
            return self.expr(value)
        func_name = self.root.func.name
        if func_name in frontend._reserved_names():  # (a name the code calls: unsum)
            func_name += "_value"
        dest = func_name if self.namer.is_free(func_name) else None
        if isinstance(value, gast.Name) and value.id in self.scope.env \
                and self.scope.env[value.id] not in self.params:
            return name(self.scope.env[value.id])
        if dest is None:
            dest = self.namer.temp()
        else:
            self.namer.reserve(dest)
        return self.expr(value, dest)

    # -- compound statements --------------------------------------------------

    def block(self, stmts: Sequence[gast.stmt], prefix: Sequence[Tuple] = ()) -> List[gast.stmt]:
        """Lower a nested block; value numbering starts from what holds on entry."""
        self.blocks.append([])
        self.depth += 1
        entry = dict(self.shared)
        for user_target, value in prefix:
            self.bind(user_target, value)
        for stmt in stmts:
            self.statement(stmt)
        self.depth -= 1
        self.shared = entry
        return self.blocks.pop()

    def if_(self, stmt: gast.If) -> None:
        test = self.expr(stmt.test)
        if isinstance(test, gast.Constant):
            for inner in (stmt.body if test.value else stmt.orelse):
                self.statement(inner)
            return
        body = self.block(stmt.body)
        orelse = self.block(stmt.orelse)
        assigned = assigned_names(body + orelse)
        if any(n in assigned for n in local_names_in(test)):
            # `if c: c = ...`: the branch taken is the one c chose before it was rebound
            # (the adjoint replays the branches from the test's value): a name of its own
            self.set_origin(stmt)
            test = self.emit(test, None, stmt.test)
        self.forget(self.sharing_any(assigned))
        self.set_origin(stmt)
        self.emit(gast.If(test=test, body=body or [gast.Pass()], orelse=orelse), stmt)

    def for_(self, stmt: gast.For) -> None:
        self._refuse_rebinding(stmt)
        counter, iterate, elements = self.iteration(stmt.iter, stmt.target, stmt.body)
        self.forget(assigned_names(stmt.body) | {counter})
        self.forget_user(assigned_names(stmt.body))
        self.int_names.add(counter)
        body = self.block(stmt.body, prefix=elements)
        self.forget(self.sharing_any(assigned_names(body)))
        self.set_origin(stmt)
        loop = gast.For(target=name(counter, gast.Store()), iter=iterate, body=body,
                        orelse=[], type_comment=None)
        self.emit(loop, stmt)

    def _refuse_rebinding(self, loop: gast.For) -> None:
        """The adjoint loop recomputes the index: the body must not change it."""
        counters = {n.id for n in walk(loop.target) if isinstance(n, gast.Name)}
        for inner in loop.body:
            for node in walk(inner):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) \
                        and node.id in counters:
                    raise UnsupportedSyntaxError(
                        f"the loop variable {node.id!r} is assigned inside its loop",
                        self.parsed.locate(node),
                        hint=f"give the new value another name than {node.id!r}")

    def while_(self, stmt: gast.While) -> None:
        test = self.namer.temp()
        self.forget_user(assigned_names(stmt.body))
        self.expr(stmt.test, test)
        self.blocks.append([])
        self.depth += 1
        entry = dict(self.shared)
        for inner in stmt.body:
            self.statement(inner)
        self.set_origin(stmt)
        self.shared = {}
        self.expr(stmt.test, test)
        self.depth -= 1
        self.shared = entry
        body = self.blocks.pop()
        self.forget(self.sharing_any(assigned_names(body)))
        self.emit(gast.While(test=name(test), body=body, orelse=[]), stmt)

    def iteration(self, iterable: gast.AST, target: gast.AST, body: Sequence[gast.stmt]):
        """(counter name, range call, element bindings) of a for statement."""
        call = iterable if isinstance(iterable, gast.Call) else None
        callee = get_anno(call.func, "resolved", None) if call is not None else None
        if callee is builtins.reversed and len(call.args) == 1 and \
                isinstance(call.args[0], gast.Subscript) and \
                frontend.is_generated(self.parsed):
            return self.first_runs(call, target, body)
        if callee is builtins.range or callee is builtins.reversed and \
                len(call.args) == 1 and isinstance(call.args[0], gast.Call) and \
                get_anno(call.args[0].func, "resolved", None) is builtins.range:
            if not isinstance(target, gast.Name):
                raise UnsupportedSyntaxError(
                    "a range loop binds one name", self.parsed.locate(target),
                    hint="write for i in range(n):")
            inner = call if callee is builtins.range else call.args[0]
            if inner.keywords or not 1 <= len(inner.args) <= 3:
                raise UnsupportedSyntaxError("range takes one to three arguments",
                                             self.parsed.locate(inner), hint="range(n)")
            args = [self.loop_bound(a, body) for a in inner.args]
            iterate = gast.Call(func=builtin(builtins.range), args=args, keywords=[])
            if callee is builtins.reversed:
                iterate = gast.Call(func=builtin(builtins.reversed), args=[iterate],
                                    keywords=[])
            counter = self.fresh_version(target.id)
            self.scope.env[target.id] = counter
            return counter, iterate, []
        if callee is builtins.enumerate:
            if len(call.args) != 1 or call.keywords or not (
                    isinstance(target, gast.Tuple) and len(target.elts) == 2
                    and isinstance(target.elts[0], gast.Name)):
                raise UnsupportedSyntaxError(
                    "enumerate is supported as `for i, v in enumerate(x)`",
                    self.parsed.locate(iterable), hint="for i, v in enumerate(x):")
            counter = self.fresh_version(target.elts[0].id)
            self.scope.env[target.elts[0].id] = counter
            sequences = self.sequences(call.args[0], target.elts[1], body)
            length = self.length_of([s for _, s in sequences], body)
            return counter, self.range_of(length), self.elements(sequences, counter)
        counter = self.namer.named("k")
        sequences = self.sequences(iterable, target, body)
        length = self.length_of([s for _, s in sequences], body)
        return counter, self.range_of(length), self.elements(sequences, counter)

    def first_runs(self, call: gast.Call, target: gast.AST, body: Sequence[gast.stmt]):
        """reversed(range(n)[:runs]) of generated code: the iterations a loop left by
        `break` ran, backwards."""
        window = call.args[0]
        inner = window.value
        if not (isinstance(inner, gast.Call) and
                get_anno(inner.func, "resolved", None) is builtins.range and
                isinstance(window.slice, gast.Slice) and isinstance(target, gast.Name)):
            raise UnsupportedSyntaxError("this loop header is not supported",
                                         self.parsed.locate(call), hint="for i in range(n):")
        args = [self.loop_bound(a, body) for a in inner.args]
        limit = self.loop_bound(window.slice.upper, body)
        iterate = gast.Call(func=builtin(builtins.reversed), args=[gast.Subscript(
            value=gast.Call(func=builtin(builtins.range), args=args, keywords=[]),
            slice=gast.Slice(lower=None, upper=limit, step=None), ctx=gast.Load())],
            keywords=[])
        counter = self.fresh_version(target.id)
        self.scope.env[target.id] = counter
        return counter, iterate, []

    def sequences(self, iterable: gast.AST, target: gast.AST, body) -> List[Tuple[gast.AST, gast.AST]]:
        """(target, array atom) pairs walked in step: zip(a, b) gives two."""
        call = iterable if isinstance(iterable, gast.Call) else None
        callee = get_anno(call.func, "resolved", None) if call is not None else None
        if callee is builtins.zip:
            if call.keywords or not isinstance(target, gast.Tuple) or \
                    len(target.elts) != len(call.args):
                raise UnsupportedSyntaxError(
                    "zip is supported as `for a, b in zip(x, y)`",
                    self.parsed.locate(iterable), hint="unpack one name per sequence")
            return [pair for t, a in zip(target.elts, call.args)
                    for pair in self.sequences(a, t, body)]
        if isinstance(iterable, gast.Constant) or callee in (
                builtins.range, builtins.enumerate, builtins.reversed, builtins.iter,
                builtins.map, builtins.filter, builtins.sorted) or not isinstance(
                    target, gast.Name):
            raise UnsupportedSyntaxError(
                "this for loop is not supported: loop over range(...), an array, "
                "enumerate(x) or zip(x, y)", self.parsed.locate(iterable),
                hint="write for i in range(len(x)): and index x[i]")
        atom = self.expr(iterable)
        if isinstance(atom, gast.Name) and is_local(atom) and \
                atom.id in {self.scope.env.get(n) for n in assigned_names(body)}:
            held = self.namer.temp()
            self.emit(assign(held, atom), iterable)
            atom = name(held)
        return [(target, atom)]

    def length_of(self, arrays: List[gast.AST], body) -> gast.AST:
        lengths = []
        for array in arrays:
            dest = self.namer.temp()
            call = gast.Call(func=builtin(builtins.len), args=[clone(array)],
                             keywords=[])
            self.emit(assign(dest, call), array)
            self.int_names.add(dest)
            lengths.append(name(dest))
        if len(lengths) == 1:
            return lengths[0]
        dest = self.namer.temp()
        self.emit(assign(dest, gast.Call(func=builtin(builtins.min), args=lengths,
                                         keywords=[])), arrays[0])
        self.int_names.add(dest)
        return name(dest)

    @staticmethod
    def range_of(length: gast.AST) -> gast.Call:
        return gast.Call(func=builtin(builtins.range), args=[length], keywords=[])

    def elements(self, sequences, counter: str) -> List[Tuple[str, gast.AST]]:
        prefix = []
        for target, array in sequences:
            element = gast.Subscript(value=clone(array), slice=name(counter),
                                     ctx=gast.Load())
            prefix.append((target.id, _Lowered(element)))
        return prefix

    def loop_bound(self, node: gast.AST, body) -> gast.AST:
        """A range argument as an atom the loop body does not rebind."""
        atom = self.expr(node)
        if isinstance(atom, gast.Name) and is_local(atom) and \
                atom.id in {self.scope.env.get(n) for n in assigned_names(body)}:
            held = self.namer.temp()
            self.emit(assign(held, atom), node)
            return name(held)
        return atom

    # -- element writes ---------------------------------------------------------

    def store(self, target: gast.Subscript, value: gast.AST,
              op: Optional[gast.operator]) -> None:
        """c[i] = e, c[i] += e, c[i] -= e; other c[i] op= e become c[i] = c[i] op e."""
        base_user = target.value.id
        if base_user not in self.scope.env:
            raise UnsupportedSyntaxError(
                f"assignment into {base_user!r}, which is not a local array",
                self.parsed.locate(target),
                hint=f"make a local copy first: {base_user} = {base_user}.copy()")
        if base_user in self.scope.aliases or self.scope.env[base_user] in self.params:
            raise UnsupportedSyntaxError(
                f"assignment into an element of the argument {base_user!r} would change "
                "the caller's array", self.parsed.locate(target),
                hint=f"work on a copy: {base_user} = {base_user}.copy() (or np.copy)")
        base = name(self.scope.env[base_user])
        index = self.index(target.slice, inline=True)
        subscript = gast.Subscript(value=base, slice=index, ctx=gast.Store())

        def reads_written(op_: gast.AST) -> bool:
            """Does op read the array the write changes (c, or a = c[:-1])? The adjoint
            of c[1:] = a * x would read a after the write: a * x is computed apart."""
            return not self.sharing(base.id).isdisjoint(local_names_in(op_))

        if op is None or isinstance(op, (gast.Add, gast.Sub)):
            lowered = self.atom(value)
            if lowered is not None and reads_written(lowered) or \
                    isinstance(value, (gast.IfExp, _Lowered)) or \
                    isinstance(value, gast.Call) and self.inlined_callee(value) is not None:
                # c[i] = c[j]: the element read may be the one written (i == j)
                lowered = self.expr(value) if lowered is None else lowered
                if not isinstance(lowered, gast.Constant) and not (
                        isinstance(lowered, gast.Name) and not reads_written(lowered)):
                    lowered = self.emit(lowered, None, value, shareable=False)
            if lowered is None:
                lowered = self.operation(value)
                if op is not None and not _linear(lowered) or \
                        op is None and not isinstance(lowered, (gast.BinOp, gast.UnaryOp)) or \
                        reads_written(lowered):
                    # the adjoint of the write would need the element it replaces
                    lowered = self.emit(lowered, None, value, shareable=False)
            stmt = gast.Assign(targets=[subscript], value=lowered, type_comment=None) \
                if op is None else gast.AugAssign(target=subscript, op=copy.copy(op),
                                                  value=lowered)
        else:
            current = self.read_in_place(clone(base), clone(index))
            right = self.expr(value)
            combined = gast.BinOp(left=current, op=copy.copy(op), right=right)
            held = self.emit(combined, None, value, shareable=False)
            stmt = gast.Assign(targets=[subscript], value=held, type_comment=None)
        self.forget(self.sharing(base.id))  # (what was computed from a view of it too)
        self.emit(stmt, target)

    # -- expressions --------------------------------------------------------

    def expr(self, node: gast.AST, dest: Optional[str] = None) -> gast.AST:
        """Lower `node`; return the atom holding its value (`dest` if given)."""
        if isinstance(node, _Lowered):
            return self.emit(node.value, dest, node.value, shareable=False)
        if isinstance(node, gast.IfExp):
            return self.conditional(node, dest)
        if isinstance(node, gast.Call):
            callee = self.inlined_callee(node)
            if callee is not None:
                result = self.inline(node, callee)
                if isinstance(result, tuple):
                    raise UnsupportedSyntaxError(
                        f"{callee.__name__}() returns a tuple; unpack it first",
                        self.parsed.locate(node),
                        hint=f"a, b = {callee.__name__}(...)")
                return result if dest is None else self.emit(result, dest, node, False)
        atom = self.atom(node)
        if atom is not None:
            if dest is None:
                return atom
            return self.emit(atom, dest, node, shareable=False)
        value = self.operation(node)
        shareable = self._shareable(value)
        return self.emit(value, dest, node, shareable)

    def conditional(self, node: gast.IfExp, dest: Optional[str]) -> gast.AST:
        test = self.expr(node.test)
        if isinstance(test, gast.Constant):
            return self.expr(node.body if test.value else node.orelse, dest)
        final = dest
        if dest is None or dest in self._carried_bases():
            dest = self.namer.temp()  # s = s * x if c else s + x: the branches read s
        branches = []
        for branch in (node.body, node.orelse):
            self.blocks.append([])
            self.depth += 1
            entry = dict(self.shared)
            self.expr(branch, dest)
            self.depth -= 1
            self.shared = entry
            branches.append(self.blocks.pop())
        self.forget(self.sharing_any(assigned_names(branches[0] + branches[1])))
        self.emit(gast.If(test=test, body=branches[0], orelse=branches[1]), node)
        if final is not None and final != dest:
            return self.emit(name(dest), final, node)
        return name(dest)

    def _carried_bases(self) -> Set[str]:
        return {self.scope.bases[n] for n in self.scope.carried if n in self.scope.bases}

    def atom(self, node: gast.AST) -> Optional[gast.AST]:
        if isinstance(node, _Lowered):
            value = node.value
            return value if isinstance(value, (gast.Name, gast.Constant)) else None
        if isinstance(node, gast.Constant):
            return constant(node.value)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant) \
                and isinstance(node.operand.value, (int, float)) \
                and not isinstance(node.operand.value, bool):
            return constant(-node.operand.value)
        if isinstance(node, gast.Name):
            if node.id in self.scope.env:
                return name(self.scope.env[node.id])
            resolved = get_anno(node, "resolved", _NOT)
            if resolved is _NOT:
                raise UnsupportedSyntaxError(
                    f"{node.id!r} is used before it is assigned",
                    self.parsed.locate(node), hint="assign it first")
            self._check_global_value(node, resolved)
            return self.global_ref(node)
        if isinstance(node, gast.Attribute) and get_anno(node, "resolved", _NOT) is not _NOT:
            self._check_global_value(node, get_anno(node, "resolved"))
            return self.global_ref(node)
        if isinstance(node, gast.Subscript) and self.depth > 0:
            return self.subscript_atom(node)
        return None

    def subscript_atom(self, node: gast.Subscript) -> Optional[gast.AST]:
        """Inside a loop or branch, `a[i]` stays in place: recomputed, never stored."""
        base, index = node.value, node.slice
        if isinstance(base, gast.Subscript) and self._is_counter(base.slice) and \
                not isinstance(index, gast.Tuple) and self._is_array(base.value):
            index = gast.Tuple(elts=[base.slice, index], ctx=gast.Load())
            base = base.value
        array = self.atom(base) if isinstance(base, (gast.Name, gast.Attribute)) else None
        if array is None or isinstance(array, gast.Constant):
            return None
        return self.read_in_place(array, self.index(index, inline=True))

    def _is_array(self, node: gast.AST) -> bool:
        """An ndarray for sure (a list would not take x[i, j]): an argument the call
        passes as one, or a module-level array."""
        if isinstance(node, gast.Name) and node.id in self.scope.env:
            lowered = self.scope.env[node.id]
            return self.param_ranks.get(lowered, 2) is not None if lowered in self.params \
                else True
        return isinstance(get_anno(node, "resolved", None), np.ndarray)

    def _is_counter(self, index: gast.AST) -> bool:
        """An index that is a Python int for sure (x[i][j] is then x[i, j])."""
        if isinstance(index, gast.Constant):
            return type(index.value) is int
        return isinstance(index, gast.Name) and \
            self.scope.env.get(index.id) in self.int_names

    def global_ref(self, node: gast.AST) -> gast.AST:
        """A copy of a resolved global reference, under the name the module binds it to."""
        copied = _copy_global(node)
        if self.scope.renamed:
            for inner in walk(copied):
                if isinstance(inner, gast.Name) and inner.id in self.scope.renamed:
                    inner.id = self.scope.renamed[inner.id]
        return copied

    @staticmethod
    def read_in_place(array: gast.AST, index: gast.AST) -> gast.Subscript:
        atom = gast.Subscript(value=array, slice=index, ctx=gast.Load())
        set_anno(atom, "atom", True)
        return atom

    def _check_global_value(self, node: gast.AST, value: Any) -> None:
        """Functions are called, not passed; types (dtype=np.float32, int) are values.

        A global is a constant only when it is plain data: an object of another kind
        (np.r_, np.c_, np.mgrid, a user's object with __getitem__) computes something
        from what it is given, which a constant would hide (a zero gradient)."""
        if callable(value) and not isinstance(value, (np.ndarray, type)):
            raise UnsupportedSyntaxError(
                f"the function {frontend._dotted(node)!r} is used as a value",
                self.parsed.locate(node),
                hint="call it here; passing functions around is not supported")
        if runtime.is_foreign_array(value):  # (its code must be compiled for it: an argument)
            raise UnsupportedSyntaxError(
                f"{frontend._dotted(node)!r} is a {type(value).__module__.split('.')[0]} "
                "array read from outside the function: code for such arrays is compiled "
                "for the arguments that hold them", self.parsed.locate(node),
                hint=f"pass {frontend._dotted(node)} as an argument (wrt= keeps it "
                     "undifferentiated), or use a NumPy array here")
        if not _is_plain_data(value):
            dotted = frontend._dotted(node)
            raise UnsupportedSyntaxError(
                f"{dotted!r} is a {type(value).__name__} object, not a number, array "
                "or module: s2sad cannot tell what indexing it computes",
                self.parsed.locate(node), hint=_INDEX_OBJECT_HINTS.get(
                    id(value), "compute it outside the function and pass the result "
                    "as an argument, or write it with NumPy functions"))

    def operation(self, node: gast.AST) -> gast.AST:
        if isinstance(node, gast.BinOp):
            left = self.expr(node.left)
            right = self.expr(node.right)
            return gast.BinOp(left=left, op=copy.copy(node.op), right=right)
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.UAdd):  # +a of an array is a new array
                return gast.Call(func=_numpy_callee(np.positive),
                                 args=[self.expr(node.operand)], keywords=[])
            return gast.UnaryOp(op=copy.copy(node.op), operand=self.expr(node.operand))
        if isinstance(node, gast.Compare):
            if len(node.ops) != 1 or type(node.ops[0]) not in CMPOPS:
                raise UnsupportedSyntaxError(
                    "chained comparisons and `in` are not supported",
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
            if isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, str) \
                    and isinstance(node.value, gast.Name) and node.value.id in self.params:
                # (a call with a dict argument reads it key by key: see desugar.py)
                raise UnsupportedSyntaxError(
                    "a value indexed by a string key is read as a dict, whose keys are "
                    "known only when the function is called", self.parsed.locate(node),
                    hint="call the gradient with your arguments, then print its .source: "
                         "it is compiled for the structure of that call")
            base = self.expr(node.value)
            if is_subscript_atom(base):
                base = self.emit(base, None, node.value)  # a[i][1:]: index the row
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

    def inlined_callee(self, node: gast.Call) -> Optional[types.FunctionType]:
        resolved = get_anno(node.func, "resolved", _NOT)
        if has_anno(node, "specialised") and isinstance(resolved, types.FunctionType):
            return resolved  # (read for its call already: a nested def's too)
        if resolved is _NOT or self.is_pure(resolved) or not _is_user_function(resolved):
            return None
        return resolved

    def refuse_writes_into_arguments(self, node: gast.Call, resolved: Any) -> None:
        """np.add(a, b, out=c), np.copyto(c, v): the call writes into an array it is
        given, which the derivative would not see (the lowered code binds values)."""
        out = next((k for k in node.keywords if k.arg == "out" and not (
            isinstance(k.value, gast.Constant) and k.value.value is None)), None)
        if out is None and isinstance(resolved, np.ufunc) and len(node.args) > resolved.nin:
            out = node.args[resolved.nin]  # np.add(a, b, c): c is out
        if out is not None and not frontend.is_generated(self.parsed):
            # (generated code writes with out= only into an array no one reads again)
            raise UnsupportedSyntaxError(
                "a call that writes its result into an array (out=) is not supported",
                self.parsed.locate(out), hint="bind the result to a name instead: "
                                              "c = np.add(a, b)")
        if resolved in IN_PLACE_FUNCTIONS:
            raise UnsupportedSyntaxError(
                f"{getattr(resolved, '__name__', 'this function')}() changes an array it is "
                "given in place, which is not supported", self.parsed.locate(node),
                hint="build a new array instead (np.where(mask, values, c), or c.copy() "
                     "then element assignments)")

    def call(self, node: gast.Call) -> gast.Call:
        func = node.func
        if frontend.is_pop(node) and frontend.is_generated(self.parsed):
            return tape_call(self.expr(func.value), TAPE_POP, [])
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
                if func.attr == "flatten":  # x.flatten(order) is np.copy(np.ravel(x, order))
                    raveled = gast.Call(func=_numpy_callee(np.ravel), args=[receiver] + [
                        self.aggregate_element(a) for a in node.args], keywords=[
                        gast.keyword(arg=k.arg, value=self.aggregate_element(k.value))
                        for k in node.keywords])
                    set_anno(raveled, "location", self.parsed.locate(node))
                    receiver = self.emit(raveled, None, node, self._shareable(raveled))
                    node = gast.copy_location(gast.Call(func=func, args=[], keywords=[]), node)
                copy = next((k.value for k in node.keywords if k.arg == "copy"), None)
                if func.attr == "astype" and isinstance(copy, gast.Constant):
                    # x.astype(t, copy=False) is x itself where x has dtype t, as
                    # np.asarray(x, t) is (np.array's copy=False forbids a copy instead);
                    # copy=True is np.array's own default
                    method = np.array if copy.value else np.asarray
                    node = gast.copy_location(gast.Call(
                        func=func, args=node.args,
                        keywords=[k for k in node.keywords if k.arg != "copy"]), node)
                resolved = method
                func = _numpy_callee(method) if method is not runtime.item else \
                    _runtime_callee(method)
            else:
                raise UnsupportedSyntaxError(
                    "calling a local variable or the result of an expression is not "
                    "supported", self.parsed.locate(func),
                    hint="call a function defined at module level by its name")
        else:
            if not callable(resolved):  # (F = None at module level, then F(x))
                raise UnsupportedSyntaxError(
                    f"{frontend._dotted(func)!r} is {described_value(resolved)}, not a "
                    "function", self.parsed.locate(func),
                    hint="bind it to a function before taking the gradient")
            if resolved in implicit.SOLVERS or isinstance(resolved, implicit.MarkedSolver):
                return self.implicit_solve(node, resolved)
            if getattr(resolved, "_s2sad_companion", False):  # (a derivative read back)
                raise UnsupportedSyntaxError(
                    f"{resolved.__name__} is code s2sad generated for an implicit solve's "
                    "derivative, in a form that is run, not differentiated again",
                    self.parsed.locate(node),
                    hint="differentiate the function that calls fixed_point or root "
                         "itself again (s2sad.hessian(f), s2sad.grad(s2sad.grad(f)))")
            func = self.global_ref(func)
        if resolved is operator.getitem:  # (the stages take getitem for x[i])
            raise UnsupportedSyntaxError(
                "operator.getitem called as a function is not supported",
                self.parsed.locate(node), hint="index the array instead: x[i], x[1:]")
        self.refuse_writes_into_arguments(node, resolved)
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

    def implicit_solve(self, node: gast.Call, solver: Any) -> gast.Call:
        """fixed_point(g, x0, *params, tol=...) (or root), with g and the options fixed
        now: reverse and forward mode differentiate it by seed 002's multiplier
        equation (implicit.py) instead of through the iterations. A call of a solver
        marked with fixed_point_of(g) is written as the same call, solver=the mark."""
        where = self.parsed.locate(node)
        if isinstance(solver, implicit.MarkedSolver):
            if node.keywords or any(isinstance(a, gast.Starred) for a in node.args) or \
                    not node.args:
                raise UnsupportedSyntaxError(
                    f"a solver marked with {solver.kind}_of(...) is called with the "
                    "starting point and the parameters, each written out", where,
                    hint=f"{solver.__name__}(x0, W, b)")
            call = gast.Call(func=self.bound_name(implicit.SOLVERS_BY_KIND[solver.kind]),
                             args=[self.bound_name(solver.function)] +
                             [self.aggregate_element(a) for a in node.args],
                             keywords=[gast.keyword(arg="tol", value=constant(solver.tol)),
                                       gast.keyword(arg="solver",
                                                    value=self.global_ref(node.func))])
            set_anno(call, "location", where)
            return call
        kind = implicit.SOLVERS[solver]
        usage = f"{kind}(g, x0, W, b) with def g(x, W, b): ... at module level"
        if len(node.args) < 2 or any(isinstance(a, gast.Starred) for a in node.args):
            raise UnsupportedSyntaxError(
                f"{kind} takes the function, the starting point and the parameters, "
                "each written out", where, hint=usage)
        function = get_anno(node.args[0], "resolved", _NOT)
        if function is _NOT and isinstance(node.args[0], gast.Call):
            function = self.made_gradient(node.args[0])  # root(s2sad.grad(inner), ...)
        if not (isinstance(function, types.FunctionType) or
                getattr(function, "_s2sad_transform", False)) or \
                isinstance(node.args[0], gast.Name) and node.args[0].id in self.scope.env:
            raise UnsupportedSyntaxError(
                f"the function {kind} solves must be a def or a lambda s2sad can read",
                self.parsed.locate(node.args[0]),
                hint=f"define it at module level and pass the values it reads as "
                     f"parameters: {usage}")
        options: Dict[str, Any] = implicit.default_options(kind)
        for keyword in node.keywords:
            value = get_anno(keyword.value, "resolved", _NOT) if keyword.arg == "solver" \
                else _literal_number(keyword.value)
            if keyword.arg not in options:
                raise UnsupportedSyntaxError(
                    f"{kind} has no keyword {keyword.arg!r}: its keywords are "
                    f"{', '.join(options)}", self.parsed.locate(keyword.value),
                    hint=f"{kind}(g, x0, W, tol=1e-10)")
            if value is _NOT:
                raise UnsupportedSyntaxError(
                    f"{kind}'s {keyword.arg}= must be known when the code is compiled: a "
                    "number or string written in the call or a module-level constant"
                    + (" (solver=: a module-level function)" if keyword.arg == "solver"
                       else ""), self.parsed.locate(keyword.value),
                    hint=f"{kind}(g, x0, W, {keyword.arg}=" +
                         ("1e-10)" if keyword.arg == "tol" else "100)" if keyword.arg ==
                          "max_iter" else "'dense')" if keyword.arg == "solve" else
                          "my_solver)"))
            options[keyword.arg] = value
        try:
            implicit.solve_for(kind, function, options["tol"], options["max_iter"],
                               options["solve"], options["solver"], where)
        except ArgumentError as exc:
            raise UnsupportedSyntaxError(exc.message, where, hint=exc.hint) from None
        keywords = [gast.keyword(arg=k.arg, value=self.global_ref(k.value) if k.arg == "solver"
                                 else constant(options[k.arg])) for k in node.keywords]
        solved = self.global_ref(node.args[0]) if has_anno(node.args[0], "resolved") \
            else self.bound_name(function)
        call = gast.Call(func=self.global_ref(node.func), args=[solved] + [
            self.aggregate_element(a) for a in node.args[1:]], keywords=keywords)
        set_anno(call, "location", where)
        return call

    def made_gradient(self, node: gast.Call) -> Any:
        """s2sad.grad(inner) written in the call of a solve, its arguments known now
        (functions, constants): the gradient function it makes, made now."""
        from . import api
        if get_anno(node.func, "resolved", _NOT) is not api.grad:
            return _NOT
        args = [get_anno(a, "resolved", _NOT) if not isinstance(a, gast.Constant)
                else a.value for a in node.args]
        keywords = {k.arg: _literal_number(k.value) if not isinstance(k.value, gast.Tuple)
                    else tuple(_literal_number(e) for e in k.value.elts)
                    for k in node.keywords}
        if _NOT in args or _NOT in keywords.values() or any(
                _NOT in v for v in keywords.values() if isinstance(v, tuple)) or \
                None in keywords:
            return _NOT
        return api.grad(*args, **keywords)

    def bound_name(self, value: Any) -> gast.Name:
        """A read of `value` by a module-level name of the generated code: the name
        the user's module gives it, else its own (or a version of it)."""
        for key, existing in self.namespace.items():
            if existing is value:
                break
        else:
            key = implicit._name(value)
            while key in self.namespace or not self.namer.is_free(key):
                key += "_"
            self.namer.reserve(key)  # (no temporary may take it)
            self.namespace[key] = value
        read = gast.Name(id=key, ctx=gast.Load(), annotation=None, type_comment=None)
        set_anno(read, "resolved", value)
        return read

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

    def index(self, node: gast.AST, inline: bool = False) -> gast.AST:
        """An index as atoms; with `inline`, int arithmetic (i + k) stays in place."""
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.index_part(p, inline)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, inline) for e in node.elts],
                              ctx=gast.Load())
        return self.index_part(node, inline)

    def index_part(self, node: gast.AST, inline: bool) -> gast.AST:
        if inline and isinstance(node, gast.BinOp) and isinstance(node.op, _INDEX_OPS):
            return gast.BinOp(left=self.index_part(node.left, True), op=copy.copy(node.op),
                              right=self.index_part(node.right, True))
        if inline and isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and not isinstance(node.operand, gast.Constant):
            return gast.UnaryOp(op=gast.USub(), operand=self.index_part(node.operand, True))
        return self.aggregate_element(node)

    # -- helpers of the user's ----------------------------------------------------

    def inline(self, node: gast.Call, fn: types.FunctionType):
        """The helper's body in place, names renamed apart; returns its result atom(s).
        A helper given structures was read for them by the desugar stage (its
        leaves are its parameters): that reading is inlined."""
        helper = get_anno(node, "specialised") or frontend.parse_function(fn)
        if fn in self.inlining or (helper.filename, helper.func.lineno) == (
                self.root.filename, self.root.func.lineno):
            cycle = [f.__name__ for f in self.inlining] + [fn.__name__]
            raise UnsupportedSyntaxError(
                f"recursive call: {' -> '.join([self.root.name] + cycle)}",
                self.parsed.locate(node), hint="write the recursion as a loop")
        arguments = self.bind_arguments(node, fn) if not has_anno(node, "specialised") else \
            {a.id: self.aggregate_element(v)
             for a, v in zip(frontend._all_params(helper.func), node.args)}
        caller, line = self.scope, self.origin
        scope = _Scope(helper, {}, {}, set(), label=fn.__name__)
        for key, value in helper.namespace.items():
            if self.namespace.get(key, _NOT) is value or _GENERATED_MODULES.get(key) is value:
                self.namespace.setdefault(key, value)
                continue
            if key in self.namespace or not self.namer.is_free(key):
                # the helper's global would be shadowed by a name of the caller's
                alias = self.namer.named(key)
                while alias in self.namespace:
                    alias = self.namer.named(key)
                scope.renamed[key] = alias
                key = alias
            self.namer.reserve(key)
            self.namespace[key] = value
        rebound = _rebound_names(helper.func.body)
        for param, atom in arguments.items():
            if is_local(atom) and param not in rebound:
                scope.env[param] = scope.bases[param] = atom.id
                scope.aliases.add(param)
            else:
                dest = self.namer.named(param)
                self.emit(assign(dest, atom), node)
                scope.env[param] = scope.bases[param] = dest
        self.scope = scope
        self.inlining.append(fn)
        self.inlined.append(fn)
        try:
            result = self.function_body(helper.func.body, fn.__name__, root=False)
        finally:
            self.inlining.pop()
            self.scope, self.origin = caller, line
        return result

    def bind_arguments(self, node: gast.Call, fn: types.FunctionType) -> Dict[str, gast.AST]:
        signature = inspect.signature(fn)
        args = [self.aggregate_element(a) for a in node.args]
        kwargs = {k.arg: self.aggregate_element(k.value) for k in node.keywords}
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise UnsupportedSyntaxError(
                f"this call does not match {fn.__name__}{signature} ({exc})",
                self.parsed.locate(node), hint="pass the arguments the helper takes") from None
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise UnsupportedSyntaxError(
                    f"{fn.__name__} takes *args or **kwargs", self.parsed.locate(node),
                    hint="list the helper's parameters by name")
        bound.apply_defaults()
        arguments = {}
        for param, value in bound.arguments.items():
            if not isinstance(value, gast.AST):
                if isinstance(value, np.ndarray) and _is_plain_data(value):
                    value = self.default_array(fn, param, value)  # (w=WEIGHTS: constant data)
                elif value is not None and not isinstance(value, (bool, int, float, str)):
                    raise UnsupportedSyntaxError(
                        f"the default value of {fn.__name__}'s parameter {param!r} is "
                        "not a number or an array", self.parsed.locate(node),
                        hint=f"pass {param}=... explicitly")
                else:
                    value = constant(value)
            arguments[param] = value
        return arguments

    def default_array(self, fn: types.FunctionType, param: str, value: np.ndarray) -> gast.AST:
        """A helper's array default, read as the module-level array it is (a name the
        generated module binds to it, as a global array is read)."""
        for key, existing in self.namespace.items():
            if existing is value:
                name = key
                break
        else:
            name = f"{fn.__name__.lstrip('_')}_{param}_default"
            while name in self.namespace or not self.namer.is_free(name):
                name += "_"
            self.namespace[name] = value
        read = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
        set_anno(read, "resolved", value)
        return self.expr(read)

    # -- value numbering -----------------------------------------------------------

    def _shareable(self, value: gast.AST) -> bool:
        key = op_key(value)
        return key is not None and self.is_pure(key) and key not in FRESH_ARRAYS and \
            not any(is_subscript_atom(n) for n in subscripts_in(value))

    def forget(self, names: Set[str]) -> None:
        """Shared values that read or live in `names` are stale once those change."""
        if not names:
            return
        for held, reads in self.shared.values():  # (a loop: asked of every temporary)
            if held in names or not reads.isdisjoint(names):
                break
        else:
            return  # (the common case, a fresh temporary: nothing to drop, no copy)
        self.shared = {sig: (held, reads) for sig, (held, reads) in self.shared.items()
                       if held not in names and not reads & names}

    def forget_user(self, user_names: Set[str]) -> None:
        self.forget({self.scope.env[n] for n in user_names if n in self.scope.env} |
                    {self.scope.bases[n] for n in user_names if n in self.scope.bases})

    def invalidate(self, lowered_name: str) -> None:
        self.forget({lowered_name})

    def note_views(self, stmt: gast.stmt) -> None:
        """t = b, v = c[1:], ...: t (v) and b (c) may share an array from here on."""
        from .aliasing import view_sources  # (aliasing reads this module's tables)
        if not isinstance(stmt, gast.Assign) or not isinstance(stmt.targets[0], gast.Name):
            return
        sources = view_sources(stmt.value)
        if sources:
            target = stmt.targets[0].id
            group = set(self.sharers.get(target, {target}))
            for source in sources:
                group |= self.sharers.get(source, {source})
            for member in group:
                self.sharers[member] = group

    def sharing(self, lowered_name: str) -> Set[str]:
        return self.sharers.get(lowered_name, {lowered_name})

    def sharing_any(self, names: Set[str]) -> Set[str]:
        """`names` and every name that may share an array with one of them."""
        return names.union(*(self.sharers[n] for n in names if n in self.sharers))

    def emit(self, value: gast.AST, dest: Optional[str] = None, node: gast.AST = None,
             shareable: bool = False) -> gast.AST:
        """Append a statement (`value` a statement) or `dest = value`; return dest."""
        if isinstance(value, gast.stmt):
            set_anno(value, "origin", self.origin)
            set_anno(value, "location", self.parsed.locate(dest if node is None else node))
            self.blocks[-1].append(value)
            self.note_views(value)
            return value
        signature = fingerprint(value) if shareable and dest not in self.private else None
        if signature is not None and signature in self.shared:
            held = self.shared[signature][0]
            if dest is None:
                return name(held)
            value = name(held)
        if dest is not None and not is_local(value) and dest in local_names_in(value) and \
                not (_additive(value) and not _reads_part_of(value, dest)):
            # p = p * x, y = y[1:], y = y[::-1] + a (in a loop, or a helper's result):
            # the adjoint needs the old p, or the old y's adjoint is not the new one's,
            # so the value is computed apart (a = p * x; p = a) and p restored between
            value = self.emit(value, None, node)
            signature = None  # (recorded for the temporary; dest is only rebound from it)
        target = dest or self.namer.temp()
        self.invalidate(target)
        stmt = assign(target, value)
        set_anno(stmt, "origin", self.origin)
        set_anno(stmt, "location", self.parsed.locate(node))
        self.blocks[-1].append(stmt)
        self.note_views(stmt)
        if signature is not None and signature not in self.shared and \
                target not in local_names_in(value):
            # (x = x - b read the old x: the new x does not hold x - b)
            self.shared[signature] = (target, set(local_names_in(value)))
        return name(target)


class _Lowered:
    """An operation already in lowered form (a loop element x[k]), passed to expr."""

    def __init__(self, value: gast.AST):
        self.value = value


def _additive(op: gast.AST) -> bool:
    """An operation whose adjoint reads no operand value (only, maybe, a shape)."""
    if isinstance(op, gast.BinOp):
        return isinstance(op.op, (gast.Add, gast.Sub))
    return isinstance(op, gast.UnaryOp) and isinstance(op.op, gast.USub)


def _reads_part_of(op: gast.AST, name_: str) -> bool:
    """Does an operand of op read part of the array (y[::-1], y[1:]), not all of it?"""
    return any(isinstance(o, gast.Subscript) and is_local(o.value) and o.value.id == name_
               for o in op_operands(op))


def _linear(op: gast.AST) -> bool:
    """c[i] += op keeps op in place only if its adjoint never reads op's own value."""
    if isinstance(op, gast.BinOp):
        return isinstance(op.op, (gast.Add, gast.Sub, gast.Mult))
    return isinstance(op, gast.UnaryOp) and isinstance(op.op, gast.USub)


def _rebound_names(body: Sequence[gast.stmt]) -> Set[str]:
    """Names a body rebinds (element writes do not rebind)."""
    return {n.id for stmt in body for n in walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _copy_global(node: gast.AST) -> gast.AST:
    """A fresh copy of a resolved global reference, annotations included."""
    return clone(node)


def _numpy_callee(function: Any) -> gast.Attribute:
    np_name = gast.Name(id="np", ctx=gast.Load(), annotation=None, type_comment=None)
    set_anno(np_name, "resolved", np)
    attr = gast.Attribute(value=np_name, attr=function.__name__, ctx=gast.Load())
    set_anno(attr, "resolved", function)
    return attr


def _runtime_callee(function: Any) -> gast.Name:
    callee = gast.Name(id=function.__name__, ctx=gast.Load(), annotation=None,
                       type_comment=None)
    set_anno(callee, "resolved", function)
    return callee


def _literal_number(node: gast.AST) -> Any:
    """The value of a constant keyword (tol=1e-10, max_iter=50, solve="dense", -1e-3)."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and \
            isinstance(node.operand, gast.Constant) and \
            isinstance(node.operand.value, (int, float)):
        return -node.operand.value
    value = get_anno(node, "resolved", _NOT)
    return value if isinstance(value, (int, float, str)) else _NOT


def _is_scalar_annotation(annotation: Optional[gast.AST]) -> bool:
    return isinstance(annotation, gast.Name) and annotation.id in ("float", "int")


_PLAIN_SCALARS = (bool, int, float, complex, str, bytes, np.generic, np.ndarray, np.dtype,
                  type, types.ModuleType, slice)


def _is_plain_data(value: Any, depth: int = 0) -> bool:
    """Numbers, strings, arrays, dtypes, modules, None and Ellipsis, and tuples,
    lists and dicts of them: values that are what they are."""
    if value is None or value is Ellipsis or isinstance(value, _PLAIN_SCALARS):
        return True
    if depth > 3:
        return False
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_is_plain_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_plain_data(k, depth + 1) and _is_plain_data(v, depth + 1)
                   for k, v in value.items())
    return False


_INDEX_OBJECT_HINTS = {
    id(np.r_): "write np.concatenate([a, b, ...]) (np.atleast_1d around a number) "
               "instead of np.r_[a, b, ...]",
    id(np.c_): "write np.column_stack([a, b, ...]) (or np.concatenate(..., axis=-1)) "
               "instead of np.c_[a, b, ...]",
    id(np.mgrid): "compute the grid outside the function (it does not depend on the "
                  "inputs) and pass it as an argument",
    id(np.ogrid): "compute the grid outside the function (it does not depend on the "
                  "inputs) and pass it as an argument",
}
