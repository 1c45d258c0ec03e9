"""A check stage for code compiled for dask arrays: nothing in it may need their values.

A dask array is a recipe; its numbers exist only once computed, on a cluster. The
generated code builds the gradient's recipe beside the function's, which is all lazy
as long as the function is vectorised. A Python `if` (or `while`, `and`, `assert`)
on a value of the data, `float(...)` of one, or a loop over an array's rows needs the
numbers at once: dask would compute there, inside the gradient, gathering the data
into one process. This stage refuses such a construct before anything runs, at the
user's line; a loop reading the data element by element is lazy but builds a graph
task per element, so it gets a warning.

Which values are "of the data": the dask parameters and everything computed from
them, except their shapes (`X.shape[0]`, `len(X)`, `X.ndim`, `X.dtype`), which dask
knows without computing.
"""
from __future__ import annotations

import warnings
from typing import AbstractSet, Dict, Optional, Set

import gast

from .anno import dotted
from .errors import S2SADError

# reads of an array that need no compute: its shape, rank, size and dtype
_SHAPE_ATTRIBUTES = {"shape", "ndim", "dtype", "size"}
_SHAPE_FUNCTIONS = {"len", "np.shape", "np.ndim", "np.size", "np.result_type"}
# calls that need the value of their argument at once
_VALUE_CALLS = {"float", "int", "bool", "complex", "math.isfinite", "math.isnan",
                "math.isinf"}
_VALUE_METHODS = {"item", "tolist", "compute", "persist", "__float__", "__bool__"}


class LazyArrayWarning(UserWarning):
    """A construct that stays lazy on dask arrays but builds a graph task per element."""


def check(func: gast.FunctionDef, lazy_params: AbstractSet[str],
          ranks: Dict[str, Optional[int]], locate) -> None:
    """Refuse a construct of `func` (as parsed, before lowering) that needs the value of
    a dask array, and warn of element loops over one; `ranks` are the parameters';
    `locate(node)` gives a node's place in the user's file."""
    data = _values_of_data(func, lazy_params)
    for node in gast.walk(func):
        test = None
        if isinstance(node, (gast.If, gast.While, gast.IfExp, gast.Assert)):
            test = node.test
        elif isinstance(node, gast.BoolOp):
            test = node
        if test is not None and _data_reads(test) & data:
            kind = {gast.While: "a while loop's condition", gast.Assert: "an assert",
                    gast.BoolOp: "`and`/`or`"}.get(type(node), "a branch")
            raise S2SADError(
                f"{kind} on a value computed from a dask array needs its numbers: dask "
                "would compute it inside the gradient", locate(test),
                hint="choose elementwise with np.where(condition, a, b), or decide it "
                     "before the call (from NumPy data or a computed number)")
        if isinstance(node, gast.Call) and _data_reads(node) & data:
            function = dotted(node.func) or ""
            method = node.func.attr if isinstance(node.func, gast.Attribute) else None
            if function in _VALUE_CALLS or method in _VALUE_METHODS:
                raise S2SADError(
                    f"{function or method}(...) of a value computed from a dask array "
                    "needs its numbers: dask would compute it inside the gradient",
                    locate(node),
                    hint="keep it an array (a 0-d dask array works wherever a float "
                         "does), or compute it before the call")
        if isinstance(node, gast.For):
            if _data_reads(node.iter) & data:
                raise S2SADError(
                    "a loop over the rows of a dask array: each row would be a task "
                    "of its own", locate(node.iter),
                    hint="write the loop's body on the whole array (vectorised), or "
                         "pass NumPy arrays")
            _warn_of_elements(node, data, ranks, locate)


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
                    for target in targets:
                        for name in gast.walk(target):
                            if isinstance(name, gast.Name) and name.id not in data:
                                data.add(name.id)
                                changed = True
            elif isinstance(node, gast.For) and _data_reads(node.iter) & data:
                for name in gast.walk(node.target):
                    if isinstance(name, gast.Name) and name.id not in data:
                        data.add(name.id)
                        changed = True
    return data


def _data_reads(node: gast.AST) -> Set[str]:
    """The names `node` reads for their values (not only for their shapes)."""
    if isinstance(node, gast.Attribute) and node.attr in _SHAPE_ATTRIBUTES:
        return set()
    if isinstance(node, gast.Call) and dotted(node.func) in _SHAPE_FUNCTIONS:
        return set()
    if isinstance(node, gast.Name):
        return {node.id} if isinstance(node.ctx, gast.Load) else set()
    reads: Set[str] = set()
    for child in gast.iter_child_nodes(node):
        reads |= _data_reads(child)
    return reads


def _warn_of_elements(loop: gast.For, data: Set[str], ranks: Dict[str, Optional[int]],
                      locate) -> None:
    """Warn once per loop that indexes a dask array down to its elements."""
    counters = {n.id for n in gast.walk(loop.target) if isinstance(n, gast.Name)}
    for node in gast.walk(loop):
        if not (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)
                and node.value.id in data):
            continue
        index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        rank = ranks.get(node.value.id)
        reads = set().union(*(_data_reads(i) for i in index)) | \
            {n.id for i in index for n in gast.walk(i) if isinstance(n, gast.Name)}
        if rank is not None and len(index) >= rank and reads & counters and \
                not any(isinstance(i, gast.Slice) for i in index):
            warnings.warn(LazyArrayWarning(
                f"{locate(node).filename}:{locate(node).line}: the loop reads "
                f"{node.value.id} of a dask array element by element: lazy, but a graph "
                "task per element (vectorise the loop for speed)"), stacklevel=2)
            return
