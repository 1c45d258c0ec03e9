"""A check stage for code compiled for dask arrays: nothing in it may need their values.

A dask array is a recipe; its numbers exist only once computed, on a cluster. The
generated code builds the gradient's recipe beside the function's, which is all lazy
as long as the function is vectorised. A Python `if` (or `while`, `and`, `assert`)
on a value of the data, `float(...)`, `min(...)`, a `math` function or `np.asarray` of
one needs the numbers at once: dask would compute there, inside the gradient, gathering
the data into one process. This stage refuses such a construct before anything runs,
at the user's line; a loop over the data's rows or elements is lazy but builds a graph
task per row or element, so it gets a warning.

Which values are "of the data": the dask parameters and everything computed from
them, except their shapes (`X.shape[0]`, `len(X)`, `X.ndim`, `X.dtype`) and identity
(`w is None`, `isinstance(X, ...)`), which dask knows without computing.
"""
from __future__ import annotations

import warnings
from typing import AbstractSet, Dict, Optional, Set

import gast

from .anno import dotted, get_anno
from .errors import S2SADError

# reads of an array that need no compute: its shape, rank, size, dtype, type, identity
_SHAPE_ATTRIBUTES = {"shape", "ndim", "dtype", "size", "chunks"}
_SHAPE_FUNCTIONS = {"len", "np.shape", "np.ndim", "np.size", "np.result_type", "isinstance",
                    "type", "callable", "hasattr", "id"}
# calls that need the value of their argument at once (math's: of a number; np.array
# with a dtype is x.astype(t), which dispatch.py writes as such)
_VALUE_CALLS = {"float", "int", "bool", "complex", "min", "max", "sorted", "round",
                "np.asarray", "np.array", "np.asanyarray", "np.ascontiguousarray",
                "np.asfortranarray", "np.asfarray", "all", "any",
                "item", "require_true"}  # (x.item() and assert, lowered)
_VALUE_METHODS = {"item", "tolist", "compute", "persist", "__float__", "__bool__"}


class LazyArrayWarning(UserWarning):
    """A construct that stays lazy on dask arrays but builds a graph task per element."""


def check(func: gast.FunctionDef, lazy_params: AbstractSet[str],
          ranks: Dict[str, Optional[int]], locate,
          user_names: AbstractSet[str] = frozenset()) -> None:
    """Refuse a construct of `func`, the lowered function, that needs the value of a
    dask array, and warn once per loop over a dask array's rows or elements. (Lowered:
    the user's helpers are inlined, and a rebound name is a new version, so `A = 2.0`
    after a dask parameter A is not data.) `ranks` are the parameters'; `locate(node)`
    gives a node's place in the user's file; a lowered test is a name, placed where
    the user's expression it holds was (unless it is one of the `user_names`: then
    where the branch is)."""
    data = _values_of_data(func, lazy_params)
    _refuse_value_reads(func, data, locate, user_names)
    for node in gast.walk(func):
        if isinstance(node, gast.For):
            _warn_of_elements(node, data, ranks, locate)


def _refuse_value_reads(func: gast.FunctionDef, data: Set[str], locate,
                        user_names: AbstractSet[str]) -> None:
    definitions = {stmt.targets[0].id: stmt for stmt in gast.walk(func)
                   if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                   and get_anno(stmt, "origin") is not None and
                   stmt.targets[0].id not in user_names}
    for node in gast.walk(func):
        test = None
        if isinstance(node, (gast.If, gast.While, gast.IfExp, gast.Assert)):
            test = node.test
        elif isinstance(node, gast.BoolOp):
            test = node
        if test is not None and _data_reads(test) & data:
            kind = {gast.While: "a while loop's condition", gast.Assert: "an assert",
                    gast.BoolOp: "`and`/`or`"}.get(type(node), "a branch")
            where = definitions.get(test.id, node) if isinstance(test, gast.Name) else test
            raise S2SADError(
                f"{kind} on a value computed from a dask array needs its numbers: dask "
                "would compute it inside the gradient", locate(where),
                hint="choose elementwise with np.where(condition, a, b), or decide it "
                     "before the call (from NumPy data or a computed number)")
        if isinstance(node, gast.Call) and _data_reads(node) & data:
            function = dotted(node.func) or ""
            method = node.func.attr if isinstance(node.func, gast.Attribute) else None
            astype = function in ("np.array", "np.asarray") and \
                len(node.args) + len(node.keywords) == 2 and \
                all(k.arg == "dtype" for k in node.keywords) and \
                not isinstance(node.args[0], (gast.List, gast.Tuple))  # (x.astype(t))
            if (function in _VALUE_CALLS and not astype) or method in _VALUE_METHODS or \
                    function.startswith("math."):
                converts = function.startswith("np.a")
                raise S2SADError(
                    f"{function or method}(...) of a value computed from a dask array "
                    "needs its numbers: dask would compute it inside the gradient",
                    locate(node),
                    hint="drop it: the value is an array already (x.astype(t) for "
                         "another dtype)" if converts else
                    "use NumPy's function (np.exp, np.minimum: a 0-d dask array works "
                    "wherever a float does), or compute it before the call")


def _values_of_data(func: gast.FunctionDef, lazy_params: AbstractSet[str]) -> Set[str]:
    """The names holding values computed from the dask parameters (not their shapes),
    to a fixed point over the loops' statements."""
    data = set(lazy_params)
    changed = True
    while changed:
        changed = False
        for node in gast.walk(func):
            if isinstance(node, (gast.Assign, gast.AugAssign, gast.AnnAssign,
                                 gast.NamedExpr)):
                targets = node.targets if isinstance(node, gast.Assign) else [node.target]
                if node.value is not None and _data_reads(node.value) & data:
                    for name in (n for t in targets for n in _bound_names(t)):
                        if name not in data:
                            data.add(name)
                            changed = True
            elif isinstance(node, gast.For) and _data_reads(node.iter) & data:
                for name in _bound_names(node.target):
                    if name not in data:
                        data.add(name)
                        changed = True
    return data


def _bound_names(target: gast.AST) -> Set[str]:
    """The names an assignment to `target` binds or writes into: `a, b`'s a and b,
    `c[i]`'s c (not i, which it only reads)."""
    while isinstance(target, (gast.Subscript, gast.Attribute, gast.Starred)):
        target = target.value
    if isinstance(target, gast.Name):
        return {target.id}
    if isinstance(target, (gast.Tuple, gast.List)):
        return set().union(*(_bound_names(e) for e in target.elts)) if target.elts else set()
    return set()


def _data_reads(node: gast.AST) -> Set[str]:
    """The names `node` reads for their values (not only for their shapes)."""
    if isinstance(node, gast.Attribute) and node.attr in _SHAPE_ATTRIBUTES:
        return set()
    if isinstance(node, gast.Call) and dotted(node.func) in _SHAPE_FUNCTIONS:
        return set()
    if isinstance(node, gast.Compare) and all(isinstance(op, (gast.Is, gast.IsNot))
                                              for op in node.ops):
        return set()  # (x is None: the object, not its values)
    if isinstance(node, gast.Name):
        return {node.id} if isinstance(node.ctx, gast.Load) else set()
    reads: Set[str] = set()
    for child in gast.iter_child_nodes(node):
        reads |= _data_reads(child)
    return reads


def _warn_of_elements(loop: gast.For, data: Set[str], ranks: Dict[str, Optional[int]],
                      locate) -> None:
    """Warn once per loop over a dask array's rows (`for row in X`, or `X[i]` with the
    loop's counter), or down to its elements: lazy, but a graph task per row or element."""
    where = locate(loop)
    if _data_reads(loop.iter) & data:
        _warn(where, "runs over the rows of a dask array", "row")
        return
    counters = {n.id for n in gast.walk(loop.target) if isinstance(n, gast.Name)}
    for node in gast.walk(loop):
        if not (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)
                and node.value.id in data):
            continue
        index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        first = {n.id for n in gast.walk(index[0]) if isinstance(n, gast.Name)}
        if first & counters and not isinstance(index[0], gast.Slice):  # (X[:, j]: a
            # column, all rows at once)
            rank = ranks.get(node.value.id)
            elements = rank is not None and len(index) >= rank and \
                not any(isinstance(i, gast.Slice) for i in index)
            _warn(where, f"reads {node.value.id} of a dask array " +
                  ("element by element" if elements else "row by row"),
                  "element" if elements else "row")
            return


def _warn(where, what: str, unit: str) -> None:
    warnings.warn(LazyArrayWarning(
        f"{where.filename}:{where.line}: the loop {what}: lazy, but a graph task per "
        f"{unit} (vectorise the loop for speed)"), stacklevel=3)
