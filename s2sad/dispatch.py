"""A stage for code compiled for arrays of other libraries (dask's, CuPy's).

They run NumPy code through NumPy's dispatch protocols, as written, except for what
they lack; this stage rewrites those spellings in a generated function, after the
optimizer (the code for NumPy arrays keeps its own):

  accumulate_by_value   dv += e -> dv = dv + e: a dask array cannot be written into,
                        and a NumPy dv cannot take a dask e in place
  array_size            np.size(x), x.size -> array_size(x): x.size (dask has no
                        np.size), or a lazy count where dask's is unknown (nan)
  array_copy            np.copy(x) -> array_copy(x), x.copy() (nor np.copy)
  array_astype          np.array(x, t) and np.asarray(x, t), what x.astype(t) lowers to
                        -> array_astype(x, t) (np.array of a dask array computes it)
  reshape to a length   np.reshape(x, -1) -> np.reshape(x, (-1,)), np.reshape(x, n) ->
                        np.reshape(x, array_shape(n)) (dask wants a tuple)
  computed axes         np.transpose(x, axes) -> np.transpose(x, tuple(axes)) where axes
                        is computed (an ndarray, which dask's transpose cannot test)
"""
from __future__ import annotations

import gast

from .anno import copy_annos, dotted, walk
from .lower import call, name


def for_other_arrays(func: gast.FunctionDef) -> None:
    """Rewrite `func` in place for arrays of other libraries (see the module docstring)."""
    accumulate_by_value(func)
    for node in walk(func):
        if isinstance(node, gast.Call):
            _respell(node)
        for field_name, value in gast.iter_fields(node):
            if field_name == "func":
                continue  # (np.size(x, 0) itself: an attribute of the module)
            if _is_size_attribute(value):
                setattr(node, field_name, call("array_size", [value.value]))
            elif isinstance(value, list):
                value[:] = [call("array_size", [v.value]) if _is_size_attribute(v) else v
                            for v in value]


def _is_size_attribute(node: object) -> bool:
    """x.size of a local x (not np.size, the module's function)."""
    return isinstance(node, gast.Attribute) and node.attr == "size" and \
        isinstance(node.ctx, gast.Load) and isinstance(node.value, gast.Name) and \
        node.value.id not in ("np", "numpy")


def accumulate_by_value(func: gast.FunctionDef) -> None:
    """dv += e  ->  dv = dv + e everywhere (loops too): the same value, in a new array."""
    for node in walk(func):
        for field_name in ("body", "orelse"):
            block = getattr(node, field_name, None)
            if not isinstance(block, list):
                continue
            for index, stmt in enumerate(block):
                if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
                    block[index] = copy_annos(stmt, gast.Assign(
                        targets=[stmt.target], value=gast.BinOp(
                            left=name(stmt.target.id), op=stmt.op, right=stmt.value),
                        type_comment=None))


_HELPERS = {"np.size": "array_size", "np.copy": "array_copy"}


def _respell(node: gast.Call) -> None:
    function = dotted(node.func)
    positional = len(node.args)
    if function in _HELPERS and positional == 1 and not node.keywords:
        node.func = name(_HELPERS[function])
    elif function in ("np.array", "np.asarray") and positional + len(node.keywords) == 2 and \
            all(k.arg == "dtype" for k in node.keywords):
        node.func = name("array_astype")
        node.args += [k.value for k in node.keywords]
        node.keywords = []
    elif function == "np.reshape" and positional == 2 and _is_int(node.args[1]):
        node.args[1] = gast.Tuple(elts=[node.args[1]], ctx=gast.Load())
    elif function == "np.reshape" and positional == 2 and \
            isinstance(node.args[1], (gast.Name, gast.BinOp)):
        node.args[1] = call("array_shape", [node.args[1]])
    elif function == "np.transpose" and positional == 2 and \
            isinstance(node.args[1], (gast.Name, gast.Call)):
        node.args[1] = call("tuple", [node.args[1]])


def _is_int(node: gast.AST) -> bool:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) is int
