"""Optimisation passes over a generated function; each returns whether it changed it.

  fold_constants     2 - 1 -> 1, a ** 1 -> a, dy * 1 -> dy, math.log(e) -> 1.0
  eliminate_dead     drop assignments nothing reads (the primal value f, unused setup)
  coalesce_versions  x_1 -> x when the two versions are never alive together
  spread_products    v = unsum(dy, x, 1); ... v * x -> v = spread(dy, x, 1): no copy
  reuse_buffers      t = np.exp(u) -> t = np.exp(u, out=u) when u's array is dead
  accumulate_inplace dv = dv + e -> dv += e when no other name can see dv's array
  accumulate_where   dv += s * hit -> add_where(dv, hit, s) for a comparison's hit
  read_shapes        d = np.shape(a); n = d[0] -> n = a.shape[0], as a user writes it

Code for arrays of other libraries (dask's, CuPy's) skips the passes that write into
arrays (`in_place=False`); dispatch.py rewrites what remains.

`optimize` runs them to a fixed point. The passes work on the function's top-level
statements; a loop or branch is one opaque statement to them, reading every name
it mentions and binding every name it assigns, and nothing inside it is removed
or renamed. A `tape.pop()` is never removed: the tape is a stack.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import AbstractSet, Any, Dict, FrozenSet, List, Optional, Set, Tuple

import gast
import numpy as np

from .analysis import SCALAR
from .anno import FastTransformer, clone, copy_annos, dotted, get_anno, names_in, walk
from .lower import call, name

_FOLDABLE = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow,
}
_PURE_CALLS = {"math.log": math.log, "math.sqrt": math.sqrt, "np.log": np.log,
               "np.sqrt": np.sqrt, "math.exp": math.exp, "np.exp": np.exp}
_HELPER_DEFAULTS = {"unsum": (None, False),  # trailing parameters after (dy, x)
                    "spread": (None, False)}
# keywords a rule template passes whose default values NumPy's reductions have anyway
# (np.sum(x_dot, axis=None, keepdims=False) is np.sum(x_dot))
_REDUCTIONS_DEFAULTS = {"axis": None, "keepdims": False}
_REDUCTIONS_WITH_DEFAULTS = {"np.sum", "np.mean", "np.max", "np.min", "np.prod"}


def optimize(func: gast.FunctionDef, versions: Dict[str, str],
             shapes: Optional[Dict[str, "Shape"]] = None,
             in_place: bool = True) -> gast.FunctionDef:
    """Run every pass until none changes anything; with the shapes of the function's
    names (code compiled for known ranks), reuse dead temporaries' arrays too; without
    `in_place` (arrays of other libraries), write into no array."""
    _compound_names.clear()
    try:
        folding = _Folding(func)
        eliminated = False  # dead code elimination ran last, and nothing changed since
        while True:
            folded = folding.run()
            if folded:
                _compound_names.clear()  # folding may have rewritten inside a loop
            elif eliminated:
                break  # a second elimination would find nothing (see eliminate_dead)
            eliminated = True
            if not eliminate_dead(func) and not folded:
                break
        if shapes:
            spread_products(func, shapes)
            reuse_buffers(func, shapes)  # (top-level statements only)
        renamed: Dict[str, str] = {}
        coalesce_versions(func, versions, renamed)  # drops what it renames from the cache
        if in_place:
            accumulate_inplace(func)
        if shapes:
            accumulate_where(func, _merged(shapes, renamed))
        read_shapes(func)
    finally:
        _compound_names.clear()
    return func


# -- shapes ----------------------------------------------------------------------

def read_shapes(func: gast.FunctionDef) -> bool:
    """`d = np.shape(a)` read only as `n = d[0]`, `m = d[-1]` (n, m = a.shape lowers so)
    becomes `n = a.shape[0]`: one line per size, in the spelling users write, and the
    same code whether they wrote len(a), a.shape[0] or np.shape(a)[0]. Only where a is
    bound once (or is a parameter never rebound), so its shape is the same at each read."""
    if not any(_shape_call_operand(stmt) is not None for stmt in func.body):
        return False
    bindings: Dict[str, int] = {}
    loads: Dict[str, int] = {}
    for node in walk(func):
        if isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Param):
            table = loads if isinstance(node.ctx, gast.Load) else bindings
            table[node.id] = table.get(node.id, 0) + 1
    params = {a.id for a in func.args.args + func.args.kwonlyargs}
    changed = False
    for stmt in list(func.body):
        shape_of = _shape_call_operand(stmt)
        if shape_of is None:
            continue
        tuple_name = stmt.targets[0].id
        readers = [s for s in func.body if isinstance(s, gast.Assign) and
                   isinstance(s.targets[0], gast.Name) and _constant_item(s.value, tuple_name)]
        if not readers or len(readers) != loads.get(tuple_name, 0) or \
                bindings.get(tuple_name) != 1 or \
                bindings.get(shape_of, 0) != (0 if shape_of in params else 1):
            continue
        for reader in readers:
            shape = gast.Attribute(value=name(shape_of), attr="shape", ctx=gast.Load())
            reader.value = gast.Subscript(value=shape, slice=reader.value.slice,
                                          ctx=gast.Load())
        _move_comment(stmt, readers[::-1])
        func.body.remove(stmt)
        changed = True
    return changed


def _shape_call_operand(stmt: gast.stmt) -> Optional[str]:
    """a, where stmt is `d = np.shape(a)`."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call) and \
            dotted(stmt.value.func) == "np.shape" and len(stmt.value.args) == 1 and \
            not stmt.value.keywords and isinstance(stmt.value.args[0], gast.Name):
        return stmt.value.args[0].id
    return None


def _constant_item(value: gast.AST, tuple_name: str) -> bool:
    """value is d[k], k a literal int (or -k)."""
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and
            value.value.id == tuple_name):
        return False
    index = value.slice
    if isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub):
        index = index.operand
    return isinstance(index, gast.Constant) and type(index.value) is int


# -- constant folding ------------------------------------------------------------

def fold_constants(func: gast.FunctionDef) -> bool:
    """One folding pass over the whole function: did it change anything?"""
    folder = _Folder()
    folder.visit(func)
    return folder.changed


class _Folding:
    """Folding passes run until one changes nothing, without revisiting what cannot
    change: a fold rewrites inside one statement, so a statement the last pass left
    alone the next leaves alone too, and a pass after the first visits only the
    simple statements the pass before it changed (and that dead-code elimination
    kept). The first pass goes statement by statement, in the order fold_constants
    visits them, and notes what each changed. This holds unless a node is in two
    statements (a change through one is seen in the other) or a pass changed a
    loop's or branch's header or the signature: then every pass visits everything."""

    def __init__(self, func: gast.FunctionDef):
        self.func = func
        self.changed: Optional[List[Tuple[gast.stmt, gast.stmt]]] = None  # (top, stmt)
        self.exact = True   # the changed statements are all a next pass has to visit

    def run(self) -> bool:
        if not self.exact:
            return fold_constants(self.func)
        folder = _Folder()
        if self.changed is None:
            self.changed = []
            folder.owners = {}
            self._fields(folder, self.func, self.func, None)
            self.exact = self.exact and not folder.shared
            return folder.changed
        kept = {id(stmt) for stmt in self.func.body}
        changed = []
        for top, stmt in self.changed:
            if id(top) in kept and self._statement(folder, stmt):
                changed.append((top, stmt))
        self.changed = changed
        return bool(changed)

    def _fields(self, folder: "_Folder", node: gast.AST, owner: gast.AST,
                top: Optional[gast.stmt]) -> None:
        """The function or a loop or branch: its fields in order, its blocks statement
        by statement."""
        for field in node._fields:
            if field in ("body", "orelse"):
                for stmt in getattr(node, field):
                    inner = top if top is not None else stmt
                    if isinstance(stmt, (gast.For, gast.While, gast.If)):
                        self._fields(folder, stmt, stmt, inner)
                    elif self._statement(folder, stmt):
                        self.changed.append((inner, stmt))
                continue
            before, folder.changed = folder.changed, False
            folder.statement = owner
            folder.generic_visit(node, (field,))
            if folder.changed:
                self.exact = False  # a header or the signature: not tracked
            folder.changed = folder.changed or before

    @staticmethod
    def _statement(folder: "_Folder", stmt: gast.stmt) -> bool:
        """Fold one simple statement: did it change?"""
        before, folder.changed = folder.changed, False
        folder.statement = stmt
        folder.visit(stmt)
        changed = folder.changed
        folder.changed = changed or before
        return changed


def _number(node: gast.AST) -> Optional[float]:
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


def _is(node: gast.AST, value: int) -> bool:
    """An int literal equal to `value` (1.0 is left alone: x * 1.0 turns ints to floats)."""
    return isinstance(node, gast.Constant) and type(node.value) is int and \
        node.value == value


class _Folder(FastTransformer):
    changed = False
    whole_value = None  # an assignment's whole value: y = x * 1 must not become y = x
    owners: Optional[Dict[int, gast.AST]] = None  # id(node) -> its statement (_Folding)
    statement: Optional[gast.AST] = None  # the statement being visited (_Folding)
    shared = False      # a node seen in two statements

    def visit(self, node):
        if self.owners is not None and \
                self.owners.setdefault(id(node), self.statement) is not self.statement:
            self.shared = True
        return FastTransformer.visit(self, node)

    def _done(self, node):
        self.changed = True
        return node

    def visit_Assign(self, node: gast.Assign) -> gast.AST:
        self.whole_value = node.value  # (the alias would see y's later writes)
        self.generic_visit(node)
        return node

    def visit_BinOp(self, node: gast.BinOp) -> gast.AST:
        self.generic_visit(node)
        left, right = _number(node.left), _number(node.right)
        if node is self.whole_value and (_is(node.right, 1) or _is(node.left, 1)):
            return node
        fold = _FOLDABLE.get(type(node.op))
        if fold and left is not None and right is not None:
            try:
                value = fold(left, right)
            except (ZeroDivisionError, OverflowError):
                return node
            return self._done(gast.Constant(value=value, kind=None))
        if isinstance(node.op, gast.Add) and isinstance(node.right, gast.UnaryOp) and \
                isinstance(node.right.op, gast.USub):
            return self._done(gast.BinOp(left=node.left, op=gast.Sub(),  # a + -b: a - b
                                         right=node.right.operand))
        if isinstance(node.op, gast.Pow) and _is(node.right, 1):
            return self._done(node.left)
        if isinstance(node.op, gast.Mult) and _is(node.right, 1):
            return self._done(node.left)
        if isinstance(node.op, gast.Mult) and _is(node.left, 1):
            return self._done(node.right)
        if isinstance(node.op, gast.Div) and _is(node.right, 1):
            return self._done(node.left)
        return node

    def visit_UnaryOp(self, node: gast.UnaryOp) -> gast.AST:
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            number = _number(node.operand)
            if number is not None and number >= 0 and not isinstance(node.operand, bool):
                return node  # -2 stays as written
            if isinstance(node.operand, gast.UnaryOp) and \
                    isinstance(node.operand.op, gast.USub) and not (
                        node is self.whole_value and isinstance(node.operand.operand,
                                                                gast.Name)):
                return self._done(node.operand.operand)
        return node

    def visit_Call(self, node: gast.Call) -> gast.AST:
        self.generic_visit(node)
        callee = dotted(node.func)
        function = _PURE_CALLS.get(callee)
        if function is not None and not node.keywords and \
                all(_number(a) is not None for a in node.args):
            try:
                return self._done(gast.Constant(
                    value=float(function(*[_number(a) for a in node.args])), kind=None))
            except (ValueError, OverflowError):
                return node
        if callee == "np.where" and len(node.args) == 3 and not node.keywords and \
                _number(node.args[0]) is not None:
            return self._done(node.args[1] if _number(node.args[0]) else node.args[2])
        if callee in _REDUCTIONS_WITH_DEFAULTS:
            kept = [k for k in node.keywords if not (
                k.arg in _REDUCTIONS_DEFAULTS and isinstance(k.value, gast.Constant) and
                k.value.value is _REDUCTIONS_DEFAULTS[k.arg])]
            if len(kept) != len(node.keywords):
                node.keywords = kept
                self.changed = True
        defaults = _HELPER_DEFAULTS.get(callee)
        if defaults is not None:
            extra = node.args[2:]
            while extra and isinstance(extra[-1], gast.Constant) and \
                    extra[-1].value == defaults[len(extra) - 1] and \
                    type(extra[-1].value) is type(defaults[len(extra) - 1]):
                extra.pop()
                node.args.pop()
                self.changed = True
            if callee == "spread" and len(node.args) == 2 and not node.keywords:
                return self._done(node.args[0])  # over every axis: the value itself
        return node


# -- liveness helpers --------------------------------------------------------------

def _reads(node: gast.AST) -> AbstractSet[str]:
    if _compound(node):
        return _names_of_compound(node)[0]
    return {n.id for n in names_in(node) if isinstance(n.ctx, gast.Load)}


def _names_of_compound(stmt: gast.stmt) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(the names a loop or branch reads, every name in it). Every pass asks for them
    and they are large, so they are found once and kept until the statement changes."""
    cached = _compound_names.get(id(stmt))
    if cached is not None and cached[0] is stmt:
        return cached[1], cached[2]
    found = names_in(stmt)
    reads = frozenset(n.id for n in found if isinstance(n.ctx, gast.Load))
    every = frozenset(n.id for n in found)
    _compound_names[id(stmt)] = (stmt, reads, every)
    return reads, every


# The passes never change a loop or a branch, but folding rewrites inside them and
# coalescing renames: id -> (the statement, its reads, all its names), emptied by
# `optimize` whenever folding changed anything, and by `_rename` for a renamed name.
_compound_names: Dict[int, tuple] = {}


def _stmt_reads(stmt: gast.stmt) -> Set[str]:
    if isinstance(stmt, gast.AugAssign):
        return _reads(stmt.value) | _reads(stmt.target) | {_base_name(stmt.target)}
    if isinstance(stmt, gast.Assign):
        reads = _reads(stmt.value)
        for target in stmt.targets:
            if not isinstance(target, gast.Name):
                reads |= _reads(target) | {_base_name(target)}
        return reads
    return _reads(stmt)


def _base_name(target: gast.AST) -> Optional[str]:
    while isinstance(target, (gast.Subscript, gast.Attribute)):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


def _defined_name(stmt: gast.stmt) -> Optional[str]:
    """The name a statement (re)binds or writes into."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
        return _base_name(stmt.targets[0])
    if isinstance(stmt, gast.AugAssign):
        return _base_name(stmt.target)
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and dotted(stmt.value.func) == "np.add.at" and stmt.value.args:
        return _base_name(stmt.value.args[0])
    return None


# -- dead code ------------------------------------------------------------------

def eliminate_dead(func: gast.FunctionDef) -> bool:
    """Drop top-level assignments to names nothing reads later. One backward pass
    finds them all: a dropped statement adds nothing to the live names, so running
    it again on its result sees the same live names and drops nothing."""
    live: Set[str] = set()
    kept: List[gast.stmt] = []
    changed = False
    for stmt in reversed(func.body):
        if isinstance(stmt, gast.Return):
            live |= _reads(stmt)
            kept.append(stmt)
            continue
        defined = _defined_name(stmt)
        if defined is not None and defined not in live and not _pops(stmt) or \
                _holds_already(stmt):
            changed = True
            _move_comment(stmt, kept)
            continue
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            live.discard(defined)
        live |= _stmt_reads(stmt)
        kept.append(stmt)
    func.body = list(reversed(kept))
    return changed


def _holds_already(stmt: gast.stmt) -> bool:
    """require_shapes(True, ...): a check a rule template left that the ranks decided."""
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and \
        dotted(stmt.value.func) in ("require_shapes", "require_true") and \
        bool(stmt.value.args) and isinstance(stmt.value.args[0], gast.Constant) and \
        stmt.value.args[0].value is True


def _pops(stmt: gast.stmt) -> bool:
    """v = tape.pop() (tape_1.pop() when the user has a global named tape; dtape.pop()
    in a gradient of a gradient, also inside an accumulation: di = di + dtape.pop()):
    a stack in step with its pushes, never skipped."""
    return isinstance(stmt, gast.Assign) and any(
        isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and
        node.func.attr == "pop" for node in walk(stmt.value))


def _compound(stmt: gast.stmt) -> bool:
    return isinstance(stmt, (gast.For, gast.While, gast.If))


def _names_in_compound(body: List[gast.stmt]) -> Set[str]:
    return {n for stmt in body if _compound(stmt) for n in _names_of_compound(stmt)[1]}


def _move_comment(removed: gast.stmt, kept_reversed: List[gast.stmt]) -> None:
    """A comment on a removed line moves to the next kept line of its block."""
    comment = get_anno(removed, "comment")
    if comment and kept_reversed and not get_anno(kept_reversed[-1], "comment") \
            and not isinstance(kept_reversed[-1], gast.Return):
        from .anno import set_anno
        set_anno(kept_reversed[-1], "comment", comment)


# -- version coalescing ------------------------------------------------------------

def coalesce_versions(func: gast.FunctionDef, versions: Dict[str, str],
                      renamed: Optional[Dict[str, str]] = None) -> bool:
    """Give a version (x_1, dx_1) its base name back where the two never live together.

    `versions` maps each version the compiler made to its base name, primal names
    first and then their adjoints; names the user wrote are never in it, so a user's
    own `x_1` is left alone. An adjoint keeps its version while its primal does, so
    dx_1 always reads as the adjoint of x_1.
    """
    params = {a.id for a in func.args.args + func.args.posonlyargs + func.args.kwonlyargs}
    changed = False
    kept = set()
    in_blocks = _names_in_compound(func.body)
    lifetimes = _Lifetimes(func.body, params)
    for version, base in versions.items():
        primal = version[1:] if version.startswith("d") and version[1:] in versions \
            else None
        if primal in kept or version in params or {version, base} & in_blocks or \
                not lifetimes.disjoint(version, base):
            kept.add(version)
            continue
        _rename(func, version, base)
        lifetimes.rename(version, base)
        if renamed is not None:
            renamed[version] = base
        changed = True
    func.body = [s for s in func.body if not _is_self_copy(s)]
    return changed


class _Lifetimes:
    """Where each name of a straight-line body is read and (re)defined, found once:
    asked for every version of a long unrolled body, a scan per question would cost
    the square of its length."""

    def __init__(self, body: List[gast.stmt], params: Set[str]):
        self.params = params
        self.length = len(body)
        self.reads: Dict[str, List[int]] = {}
        self.defined: Dict[str, List[int]] = {}
        for index, stmt in enumerate(body):
            for read in _stmt_reads(stmt):
                self.reads.setdefault(read, []).append(index)
            defined = _defined_name(stmt)
            if defined is not None:
                self.defined.setdefault(defined, []).append(index)

    def first_definition(self, identifier: str) -> int:
        if identifier in self.params:
            return -1
        found = self.defined.get(identifier)
        return found[0] if found else self.length

    def disjoint(self, a: str, b: str) -> bool:
        """After the later of a and b is first defined, the earlier one is never used."""
        first, second = sorted((a, b), key=self.first_definition)
        start = self.first_definition(second)
        if start >= self.length:
            return not self.reads.get(first) or not self.reads.get(second)
        if any(index < start for index in self.reads.get(second, ())):
            return False
        return not any(index > start for index in self.reads.get(first, []) +
                       self.defined.get(first, []))

    def rename(self, old: str, new: str) -> None:
        for table in (self.reads, self.defined):
            moved = table.pop(old, [])
            if moved:
                table[new] = sorted(set(table.get(new, [])) | set(moved))


def _is_self_copy(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) and \
        isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == stmt.value.id


def _rename(func: gast.FunctionDef, old: str, new: str) -> None:
    for node in walk(func):
        if isinstance(node, gast.Name) and node.id == old:
            node.id = new
    for key, (_, _, every) in list(_compound_names.items()):
        if old in every:  # (coalescing leaves names used in loops alone; the cache
            del _compound_names[key]  # must not rely on that)


# -- in-place accumulation ---------------------------------------------------------

def accumulate_inplace(func: gast.FunctionDef) -> bool:
    """dv = dv + e  ->  dv += e, when dv's array is fresh and nobody else holds it.

    Fresh: made by arithmetic (a new array, or an immutable scalar). Held by
    nobody else: every name that may share the object is dead from here on and
    is not a parameter (the caller's arrays are never written).
    """
    params = {a.id for a in func.args.args + func.args.posonlyargs + func.args.kwonlyargs}
    fresh: Dict[str, bool] = {}
    group: Dict[str, Set[str]] = {}
    changed = False
    body = func.body
    last_read: Dict[str, int] = {}  # the last statement that reads each name
    for index, stmt in enumerate(body):
        for name_ in _stmt_reads(stmt):
            last_read[name_] = index
    for index, stmt in enumerate(body):
        if isinstance(stmt, gast.Expr):
            # tape.append(v) keeps v's array: v must not be updated in place after it
            for name_ in _reads(stmt):
                fresh[name_] = False
            continue
        if _compound(stmt):
            # a loop or branch may alias anything it touches: one group, none fresh
            touched = set(_names_of_compound(stmt)[1])
            for name_ in list(touched):
                touched |= group.get(name_, set())
            for name_ in touched:
                group[name_] = touched
                fresh[name_] = False
            continue
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            continue
        target = stmt.targets[0].id
        value = stmt.value
        if _is_self_accumulation(target, value):
            sharers = group.get(target, {target}) - {target}
            if fresh.get(target) and target not in params and not (sharers & params) and \
                    all(last_read.get(s, -1) <= index for s in sharers):
                body[index] = copy_annos(stmt, gast.AugAssign(
                    target=stmt.targets[0], op=gast.Add(), value=value.right))
                changed = True
                continue
        if _written_into(value) is not None:  # t = np.exp(u, out=u): t is u's array
            value = _written_into(value)
        elif _dotted_call(value) == "unbroadcast" and value.args:
            value = value.args[0]  # unbroadcast(g, x) is g itself or a new array
        if isinstance(value, gast.Name) and value.id == target:
            continue  # dv = unbroadcast(dv, v) may keep dv's array, and whoever shares it
        _leave_group(group, target)
        if isinstance(value, gast.Name):
            shared = group.setdefault(value.id, {value.id})
            shared.add(target)
            group[target] = shared
            fresh[target] = fresh.get(value.id, False)
        else:
            fresh[target] = isinstance(value, (gast.BinOp, gast.UnaryOp))
            if not fresh[target] and not _makes_new(value):
                # e.g. np.asarray(g) may hand back g itself
                shared = {target} | (_reads(value) - _MODULES)
                for member in list(shared):
                    shared |= group.get(member, set())
                for member in shared:
                    group[member] = shared
    return changed


def _written_into(value: gast.AST) -> Optional[gast.Name]:
    """u in np.exp(u, out=u) (what reuse_buffers writes)."""
    if isinstance(value, gast.Call):
        for keyword in value.keywords:
            if keyword.arg == "out" and isinstance(keyword.value, gast.Name):
                return keyword.value
    return None


def _is_self_accumulation(target: str, value: gast.AST) -> bool:
    return isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add) and \
        isinstance(value.left, gast.Name) and value.left.id == target


def _leave_group(group: Dict[str, Set[str]], member: str) -> None:
    shared = group.pop(member, None)
    if shared is not None:
        shared.discard(member)


# -- spreads read by broadcasting ---------------------------------------------------

def spread_products(func: gast.FunctionDef, known: Dict[str, "Shape"]) -> bool:
    """v = unsum(dy, x, axis)  ->  v = spread(dy, x, axis), where v's one read is an
    operand of arithmetic whose other operand has x's shape: broadcasting spreads dy
    itself, so the copy of x's shape unsum makes (for in-place updates, which v never
    gets) is not needed, as long as nothing writes into dy's array before v is read.
    A sum over every axis, or one that kept its axes, spreads as dy itself (v = dy).
    v's entry leaves `known` (an adjoint's shape is its primal's only while it is
    unsummed): later passes read its shape from the new definition."""
    shapes = _generated_shapes(func.body, known)
    bound = dict.fromkeys((a.id for a in func.args.args + func.args.posonlyargs +
                           func.args.kwonlyargs), 1)  # bindings of each name
    reads: Dict[str, List[int]] = {}
    for index, stmt in enumerate(func.body):
        for node in names_in(stmt):
            if isinstance(node.ctx, gast.Store):
                bound[node.id] = bound.get(node.id, 0) + 1
            else:
                reads.setdefault(node.id, []).append(index)
    changed = False
    for index, stmt in enumerate(func.body):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and
                _dotted_call(stmt.value) == "unsum" and len(stmt.value.args) >= 2 and
                not stmt.value.keywords and isinstance(stmt.value.args[1], gast.Name)):
            continue
        target, args = stmt.targets[0].id, stmt.value.args
        where = reads.get(target, [])
        if bound.get(target) != 1 or len(where) != 1 or where[0] <= index or \
                _compound(func.body[where[0]]):
            continue
        like = _class_of(args[1], shapes)
        if like is None or like == SCALAR or bound.get(args[1].id, 0) > 1 or \
                not _broadcast_against(func.body[where[0]], target, args[1].id, like, shapes):
            continue
        viewed = _reads(args[0])  # the spread is a view of dy's array: nothing may change it
        if any(_writes_into(later, viewed) for later in func.body[index + 1:where[0] + 1]):
            continue
        spreads_as_itself = _over_every_axis(args[2:]) or len(args) == 4 and \
            isinstance(args[3], gast.Constant) and args[3].value is True
        stmt.value = args[0] if spreads_as_itself else call("spread", list(args))
        # v no longer has x's shape (a later pass writing into v's array must not think
        # so): its shape is now what its new definition gives, also to the checks of
        # the spreads after it (dA = spread(...); j = spread(...); dA + j is no sum)
        known.pop(target, None)
        shapes.pop(target, None)
        changed = True
    return changed


def _writes_into(stmt: gast.stmt, names: AbstractSet[str]) -> bool:
    """The statement may change the array of one of `names` in place: an update of it
    (v += e, v[i] = e, out=v), a call statement or a loop or branch that mentions it."""
    if _compound(stmt) or isinstance(stmt, gast.Expr):
        return not names.isdisjoint(n.id for n in names_in(stmt))
    if isinstance(stmt, gast.AugAssign):
        return _base_name(stmt.target) in names
    if isinstance(stmt, gast.Assign):
        written = _written_into(stmt.value)
        return written is not None and written.id in names or any(
            not isinstance(t, gast.Name) and _base_name(t) in names for t in stmt.targets)
    return False


def _over_every_axis(options: list) -> bool:
    """unsum's (axis, keepdims) are (None, False), written or left out."""
    return all(isinstance(option, gast.Constant) and option.value is default
               for option, default in zip(options, (None, False)))


def _broadcast_against(stmt: gast.stmt, read: str, like: str, klass: Any,
                       shapes: Dict[str, "Shape"]) -> bool:
    """`read` is an operand of arithmetic in `stmt` whose other operand is `like` or of
    its shape class."""
    for node in walk(stmt):
        if isinstance(node, gast.BinOp) and type(node.op) in _UFUNC_OF:
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, gast.Name) and mine.id == read and (
                        isinstance(other, gast.Name) and other.id == like or
                        _class_of(other, shapes) == klass):
                    return True
    return False


# -- buffer reuse -------------------------------------------------------------------

# elementwise operations that can write into an operand's array: BinOp -> ufunc name
_UFUNC_OF = {gast.Add: "add", gast.Sub: "subtract", gast.Mult: "multiply",
             gast.Div: "divide"}
_UNARY_UFUNCS = {"np.exp", "np.log", "np.sin", "np.cos", "np.tanh", "np.sqrt", "np.negative",
                 "np.log1p", "np.expm1", "np.square", "np.abs", "np.sinh", "np.cosh"}
_MODULES = {"np", "math"}  # names generated code reserves for modules: never an array
_REDUCTIONS = {"np.sum", "np.max", "np.min", "np.mean", "np.count_nonzero", "np.size"}
_FLOAT_UFUNCS = _UNARY_UFUNCS - {"np.negative", "np.square", "np.abs"}  # floats from ints


@dataclass
class Shape:
    """What the reuse pass knows of a name: its shape class (equal classes, equal
    shapes), its rank, and whether it holds floats."""

    klass: Any
    rank: Optional[int]
    floats: bool


def reuse_buffers(func: gast.FunctionDef, known: Dict[str, Shape]) -> bool:
    """t = u * v  ->  t = np.multiply(u, v, out=u), when u's array is a float array
    nobody else holds and nothing reads after (but for its shape), and t has u's shape
    (v is a scalar or of u's class). Where v's shape relative to u's is unknown (a
    bias added to a matrix), `out=fits(u, v)` decides at run time: u if the result
    fits in it, else None (a new array). A large temporary costs more to allocate
    (page faults, when the allocator hands freed memory back) than to compute; a
    careful hand writes `np.exp(e, out=e)`.

    `known` holds the analysis's shapes of the function's own names; the shapes of
    the adjoints and temporaries are read from the generated statements. Top-level
    statements only: a loop or branch reads and holds everything it mentions."""
    params = {a.id for a in func.args.args + func.args.posonlyargs + func.args.kwonlyargs}
    shapes = _generated_shapes(func.body, known)
    last_read: Dict[str, int] = {}  # the last statement that reads each name's values
    for index, stmt in enumerate(func.body):
        for read in _value_reads(stmt):
            last_read[read] = index
    owned: Set[str] = set()  # fresh arrays that no other name can see
    changed = False
    for index, stmt in enumerate(func.body):
        target = stmt.targets[0].id if isinstance(stmt, gast.Assign) and \
            isinstance(stmt.targets[0], gast.Name) else None
        if target is None:
            owned -= _stmt_reads(stmt) | {n.id for n in names_in(stmt)}
            continue
        value = stmt.value
        reuse = _reusable(value, target, shapes, owned, params, last_read, index)
        if reuse is not None:
            stmt.value = _into(value, *reuse)
            changed = True
        owned.discard(target)
        if not _makes_new(value):
            owned -= _reads(value)  # the result may be (a view of) what it reads
        if reuse is not None or isinstance(value, (gast.BinOp, gast.UnaryOp)) or \
                _dotted_call(value) in _UNARY_UFUNCS:
            owned.add(target)  # a new array (or the reused one, now the target's alone)
    return changed


# helpers that read only the shape (and dtype) of their argument at this position
_SHAPE_ARGUMENT = {"unbroadcast": 1, "unsum": 1, "spread": 1, "tie_count": 1,
                   "zeros_like": 0, "np.size": 0, "np.shape": 0, "np.ndim": 0}


def _value_reads(stmt: gast.stmt) -> Set[str]:
    """The names whose values a statement reads: `unbroadcast(g, x)` reads only x's
    shape, which writing into x's array (with out=, which keeps it) leaves alone."""
    reads = _stmt_reads(stmt)
    if _compound(stmt):
        return reads
    shape_only = set()
    for node in walk(stmt):
        position = _SHAPE_ARGUMENT.get(_dotted_call(node))
        if position is not None and len(node.args) > position and \
                isinstance(node.args[position], gast.Name):
            shape_only.add(id(node.args[position]))
    if not shape_only:
        return reads
    values = {n.id for n in names_in(stmt) if id(n) not in shape_only}
    return {r for r in reads if r in values}


def _reusable(value: gast.AST, target: str, shapes: Dict[str, Shape], owned: Set[str],
              params: Set[str], last_read: Dict[str, int],
              index: int) -> Optional[Tuple[str, list]]:
    """The operand of `value` whose array the result can be written into, and the
    operands whose shapes must be checked at run time for that (none where the
    shapes are known to fit), or None."""
    operands = _elementwise_operands(value)
    if operands is None:
        return None
    result = shapes.get(target)
    for operand in operands:
        if not isinstance(operand, gast.Name) or operand.id not in owned or \
                operand.id in params or last_read.get(operand.id, -1) > index:
            continue
        mine = shapes.get(operand.id)
        if mine is None or not mine.floats or not mine.rank or mine.klass is None:
            continue
        others = [o for o in operands if o is not operand]
        if result is not None and result.klass == mine.klass and \
                all(_class_of(o, shapes) in (mine.klass, SCALAR) for o in others):
            return operand.id, []
        if len(others) == 1 and _may_fit(others[0], mine, shapes):
            return operand.id, others
    return None


def _may_fit(operand: gast.AST, buffer: Shape, shapes: Dict[str, Shape]) -> bool:
    """An operand that may broadcast into the buffer's shape: a number, or an array of
    no higher rank (whether it does, `fits` checks at run time)."""
    shape = _shape_of(operand, shapes)
    return shape is not None and shape.rank is not None and shape.rank <= buffer.rank


def _makes_new(value: gast.AST) -> bool:
    """A result that never shares an array with what it reads: arithmetic, a
    comparison, a reduction (np.asarray, x.T, x[i] and most calls may)."""
    return isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)) or \
        _dotted_call(value) in _UNARY_UFUNCS | _REDUCTIONS


def _elementwise_operands(value: gast.AST) -> Optional[list]:
    if isinstance(value, gast.BinOp) and type(value.op) in _UFUNC_OF:
        return [value.left, value.right]
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return [value.operand]
    if _dotted_call(value) in _UNARY_UFUNCS and len(value.args) == 1 and not value.keywords:
        return [value.args[0]]
    return None


def _into(value: gast.AST, buffer: str, checked: list) -> gast.Call:
    """The same operation as a ufunc call writing into `buffer` (where the `checked`
    operands fit in it, at run time)."""
    if isinstance(value, gast.BinOp):
        function, args = f"np.{_UFUNC_OF[type(value.op)]}", [value.left, value.right]
    elif isinstance(value, gast.UnaryOp):
        function, args = "np.negative", [value.operand]
    else:
        function, args = dotted(value.func), list(value.args)
    out = call("fits", [name(buffer)] + [clone(o) for o in checked]) if checked else \
        name(buffer)
    return call(function, args, [gast.keyword(arg="out", value=out)])


def _dotted_call(value: gast.AST) -> str:
    return dotted(value.func) if isinstance(value, gast.Call) else ""


def _generated_shapes(body: List[gast.stmt], known: Dict[str, Shape]) -> Dict[str, Shape]:
    """Shapes of the names the top-level statements bind: the analysis's for the
    function's own names, and for the others (adjoints, a rule's temporaries) what
    their definitions give: arithmetic broadcasts, `unbroadcast(g, x)` and
    `unsum(dy, x, ...)` have x's shape. A name bound twice keeps a shape only if both
    agree; one bound inside a loop or branch has none."""
    shapes = dict(known)
    seen: Dict[str, Optional[Shape]] = {}
    for stmt in body:
        if _compound(stmt):
            for node in names_in(stmt):
                if isinstance(node.ctx, gast.Store) and node.id not in known:
                    seen[node.id] = None
                    shapes.pop(node.id, None)
            continue
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            target = stmt.target.id
            before = shapes.get(target)
            if before is not None and before.rank and before.floats:
                continue  # an update in place: a float array keeps its shape (or raises)
            value = gast.BinOp(left=stmt.target, op=stmt.op, right=stmt.value)
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            value, target = stmt.value, stmt.targets[0].id
        else:
            continue
        if target in known:
            continue
        shape = _shape_of(value, shapes)
        if target in seen and seen[target] != shape:
            shape = None
        seen[target] = shape
        if shape is None:
            shapes.pop(target, None)
        else:
            shapes[target] = shape
    return shapes


def _shape_of(value: gast.AST, shapes: Dict[str, Shape]) -> Optional[Shape]:
    if isinstance(value, gast.Constant) and type(value.value) in (int, float):
        return Shape(SCALAR, 0, isinstance(value.value, float))
    if isinstance(value, gast.Name):
        return shapes.get(value.id)
    if _written_into(value) is not None:  # np.exp(u, out=u): u's array
        return shapes.get(_written_into(value).id)
    operands = _elementwise_operands(value)
    if operands is not None:
        parts = [_shape_of(o, shapes) for o in operands]
        if any(p is None for p in parts):
            return None
        arrays = [p for p in parts if p.klass != SCALAR]
        if any(a.klass != arrays[0].klass for a in arrays):
            return None
        floats = any(p.floats for p in parts) or _dotted_call(value) in _FLOAT_UFUNCS or \
            isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div)
        shape = arrays[0] if arrays else parts[0]
        return Shape(shape.klass, shape.rank, floats)
    if isinstance(value, gast.Compare) and len(value.comparators) == 1:
        parts = [_shape_of(o, shapes) for o in (value.left, value.comparators[0])]
        if any(p is None for p in parts) or parts[0].klass != parts[1].klass and \
                SCALAR not in (parts[0].klass, parts[1].klass):
            return None
        shape = parts[0] if parts[0].klass != SCALAR else parts[1]
        return Shape(shape.klass, shape.rank, False)
    if _dotted_call(value) in ("unbroadcast", "unsum") and len(value.args) >= 2:
        first, like = (_shape_of(a, shapes) for a in value.args[:2])
        if first is None or like is None:
            return None
        return Shape(like.klass, like.rank, first.floats)
    return None


def _class_of(node: gast.AST, shapes: Dict[str, Shape]) -> Any:
    shape = _shape_of(node, shapes)
    return None if shape is None else shape.klass


def _merged(shapes: Dict[str, Shape], renamed: Dict[str, str]) -> Dict[str, Shape]:
    """The shapes after coalescing: a base name given a version's values keeps its
    shape only if the version had the same."""
    merged = dict(shapes)
    for version, base in renamed.items():
        if merged.get(version) != merged.get(base):
            merged.pop(base, None)
        merged.pop(version, None)
    return merged


def accumulate_where(func: gast.FunctionDef, known: Dict[str, Shape]) -> bool:
    """dv += s * hit  ->  add_where(dv, hit, s), where `hit` is a comparison of dv's
    shape (the ties of a max): the adjoint of a max touches the few tied entries
    instead of adding a product array of zeros everywhere. `dv += ...` was proved
    safe in place by accumulate_inplace; add_where keeps the product's inf and nan."""
    shapes = _generated_shapes(func.body, known)
    bound: Dict[str, int] = {}
    for stmt in func.body:
        for node in names_in(stmt):
            if isinstance(node.ctx, gast.Store):
                bound[node.id] = bound.get(node.id, 0) + (1 if not _compound(stmt) else 2)
    compares = {s.targets[0].id for s in func.body if isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Compare)
                and bound.get(s.targets[0].id) == 1}
    changed = False
    for index, stmt in enumerate(func.body):
        if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) and
                isinstance(stmt.target, gast.Name) and isinstance(stmt.value, gast.BinOp) and
                isinstance(stmt.value.op, gast.Mult)):
            continue
        total = shapes.get(stmt.target.id)
        if total is None or not total.rank or not total.floats:
            continue
        left, right = stmt.value.left, stmt.value.right
        hit, term = (right, left) if isinstance(right, gast.Name) and right.id in compares \
            else (left, right)
        if not (isinstance(hit, gast.Name) and hit.id in compares) or \
                _class_of(hit, shapes) != total.klass:
            continue
        added = call("add_where", [name(stmt.target.id), hit, term])
        func.body[index] = copy_annos(stmt, gast.Expr(value=added))
        changed = True
    return changed
