"""Optimisation passes over a generated function; each returns whether it changed it.

  fold_constants     2 - 1 -> 1, a ** 1 -> a, dy * 1 -> dy, math.log(e) -> 1.0
  eliminate_dead     drop assignments nothing reads (the primal value f, unused setup)
  coalesce_versions  x_1 -> x when the two versions are never alive together
  accumulate_inplace dv = dv + e -> dv += e when no other name can see dv's array

`optimize` runs them to a fixed point. The passes work on the function's top-level
statements; a loop or branch is one opaque statement to them, reading every name
it mentions and binding every name it assigns, and nothing inside it is removed
or renamed. A `tape.pop()` is never removed: the tape is a stack.
"""
from __future__ import annotations

import math
import operator
from typing import AbstractSet, Callable, Dict, FrozenSet, List, Optional, Set, Tuple

import gast
import numpy as np

from .anno import FastTransformer, copy_annos, get_anno, names_in, walk

_FOLDABLE = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow,
}
_PURE_CALLS = {"math.log": math.log, "math.sqrt": math.sqrt, "np.log": np.log,
               "np.sqrt": np.sqrt, "math.exp": math.exp, "np.exp": np.exp}
_HELPER_DEFAULTS = {"unsum": (None, False),  # trailing parameters after (dy, x)
                    "spread": (None, False)}


def optimize(func: gast.FunctionDef, versions: Dict[str, str]) -> gast.FunctionDef:
    """Run every pass until none changes anything."""
    _compound_names.clear()
    try:
        changed = True
        while changed:
            folded = fold_constants(func)
            if folded:
                _compound_names.clear()  # folding may have rewritten inside a loop
            changed = eliminate_dead(func) or folded
        coalesce_versions(func, versions)  # drops what it renames from the cache
        accumulate_inplace(func)
    finally:
        _compound_names.clear()
    return func


# -- constant folding ------------------------------------------------------------

def fold_constants(func: gast.FunctionDef) -> bool:
    folder = _Folder()
    folder.visit(func)
    return folder.changed


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
        dotted = _dotted(node.func)
        function = _PURE_CALLS.get(dotted)
        if function is not None and not node.keywords and \
                all(_number(a) is not None for a in node.args):
            try:
                return self._done(gast.Constant(
                    value=float(function(*[_number(a) for a in node.args])), kind=None))
            except (ValueError, OverflowError):
                return node
        if dotted == "np.where" and len(node.args) == 3 and not node.keywords and \
                _number(node.args[0]) is not None:
            return self._done(node.args[1] if _number(node.args[0]) else node.args[2])
        defaults = _HELPER_DEFAULTS.get(dotted)
        if defaults is not None:
            extra = node.args[2:]
            while extra and isinstance(extra[-1], gast.Constant) and \
                    extra[-1].value == defaults[len(extra) - 1] and \
                    type(extra[-1].value) is type(defaults[len(extra) - 1]):
                extra.pop()
                node.args.pop()
                self.changed = True
            if dotted == "spread" and len(node.args) == 2 and not node.keywords:
                return self._done(node.args[0])  # over every axis: the value itself
        return node


def _dotted(node: gast.AST) -> str:
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


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
            and _dotted(stmt.value.func) == "np.add.at" and stmt.value.args:
        return _base_name(stmt.value.args[0])
    return None


# -- dead code ------------------------------------------------------------------

def eliminate_dead(func: gast.FunctionDef) -> bool:
    live: Set[str] = set()
    kept: List[gast.stmt] = []
    changed = False
    for stmt in reversed(func.body):
        if isinstance(stmt, gast.Return):
            live |= _reads(stmt)
            kept.append(stmt)
            continue
        defined = _defined_name(stmt)
        if defined is not None and defined not in live and not _pops(stmt):
            changed = True
            _move_comment(stmt, kept)
            continue
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            live.discard(defined)
        live |= _stmt_reads(stmt)
        kept.append(stmt)
    func.body = list(reversed(kept))
    return changed


def _pops(stmt: gast.stmt) -> bool:
    """v = tape.pop() (tape_1.pop() when the user has a global named tape; dtape.pop()
    in a gradient of a gradient): a stack in step with its pushes, never skipped."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Call) and \
        isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "pop"


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

def coalesce_versions(func: gast.FunctionDef, versions: Dict[str, str]) -> bool:
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
    for version, base in versions.items():
        primal = version[1:] if version.startswith("d") and version[1:] in versions \
            else None
        if primal in kept or version in params or {version, base} & in_blocks or \
                not _lifetimes_disjoint(func.body, version, base, params):
            kept.add(version)
            continue
        _rename(func, version, base)
        changed = True
    func.body = [s for s in func.body if not _is_self_copy(s)]
    return changed


def _first_definition(body: List[gast.stmt], identifier: str, params: Set[str]) -> int:
    if identifier in params:
        return -1
    for index, stmt in enumerate(body):
        if _defined_name(stmt) == identifier:
            return index
    return len(body)


def _lifetimes_disjoint(body: List[gast.stmt], a: str, b: str, params: Set[str]) -> bool:
    """After the later of a and b is first defined, the earlier one is never used."""
    first, second = sorted((a, b), key=lambda n: _first_definition(body, n, params))
    start = _first_definition(body, second, params)
    if start >= len(body):
        return all(first not in _stmt_reads(s) for s in body) or \
            all(second not in _stmt_reads(s) for s in body)
    if any(second in _stmt_reads(s) for s in body[:start]):
        return False
    return not any(first in _stmt_reads(s) or _defined_name(s) == first
                   for s in body[start + 1:])


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
        _leave_group(group, target)
        if isinstance(value, gast.Name):
            shared = group.setdefault(value.id, {value.id})
            shared.add(target)
            group[target] = shared
            fresh[target] = fresh.get(value.id, False)
        else:
            fresh[target] = isinstance(value, (gast.BinOp, gast.UnaryOp))
            if not fresh[target]:
                # e.g. unbroadcast(g, x) may hand back g itself
                shared = {target} | _reads(value)
                for member in list(shared):
                    shared |= group.get(member, set())
                for member in shared:
                    group[member] = shared
    return changed


def _is_self_accumulation(target: str, value: gast.AST) -> bool:
    return isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add) and \
        isinstance(value.left, gast.Name) and value.left.id == target


def _leave_group(group: Dict[str, Set[str]], member: str) -> None:
    shared = group.pop(member, None)
    if shared is not None:
        shared.discard(member)
