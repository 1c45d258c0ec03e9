"""The only module generated code imports: a few shape helpers.

Each helper returns a fresh array (never a view of its input), so generated code
may accumulate into the result in place.

Every helper also takes the arrays of other libraries that run NumPy code (dask's,
CuPy's: see arrays.py) without reading their values: it builds on them with
functions that dispatch to their library (np.zeros_like(x) + dy, not np.empty and an
assignment; never np.asarray), so a gradient of dask arrays stays lazy and in the
data's chunks.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import string
from typing import Any, Optional, Tuple

import numpy as np


def is_foreign_array(value: Any) -> bool:
    """An array of another library that runs NumPy code (dask's, CuPy's): not an
    ndarray (nor one of its subclasses), with a shape, a dtype, and both of NumPy's
    dispatch protocols. (Here, not in arrays.py: an exported gradient carries this
    module's code and nothing else of s2sad.)"""
    kind = type(value)
    return not isinstance(value, np.ndarray) and \
        hasattr(kind, "__array_function__") and hasattr(kind, "__array_ufunc__") and \
        hasattr(value, "shape") and isinstance(getattr(value, "dtype", None), np.dtype)


_foreign = is_foreign_array


def zeros_like(x: Any) -> Any:
    """A zero adjoint for x: 0.0 for a Python number, a fresh float array otherwise.

    (None stands for a name a loop has not bound yet; nothing ever adds to it. A string,
    np.einsum's subscripts among its operands, has no derivative: it stays itself.)"""
    if x is None or isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)):
        return Pieces(zeros_like(e) for e in x)
    dtype = np.result_type(x, np.float32) if np.issubdtype(np.result_type(x), np.inexact) \
        else np.float64
    if _foreign(x):
        return np.zeros_like(x, dtype=dtype)  # (dask's: lazy, in x's chunks)
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return np.zeros((), dtype)[()]
    return np.zeros(np.shape(x), dtype)


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum `g` down to the shape of `x`: the adjoint of broadcasting `x` up."""
    if type(g) is np.ndarray and type(x) is np.ndarray:
        shape = x.shape  # (the common case, without np.shape's 0.2 us a call)
        if g.shape == shape:
            return g
    else:
        if _is_factor_pair(x):  # (its adjoint is stacked already: see _unindex_pieces)
            return g
        if isinstance(x, (list, tuple)):  # (eigh's pair's adjoint: by element)
            return Pieces(unbroadcast(g[k], e) for k, e in enumerate(x))
        shape = np.shape(x)
        if np.shape(g) == shape:
            return g
        if _foreign(x) or _foreign(g):
            return _unbroadcast_foreign(g, x, shape)
        g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(g, shape).copy()
    g_shape = g.shape
    axes = list(range(extra))
    for i, n in enumerate(shape):
        if n == 1 and g_shape[extra + i] != 1:
            axes.append(extra + i)
    if axes:
        g = summed_to(g, axes, shape)
    return g if shape else g[()]


def _unbroadcast_foreign(g: Any, x: Any, shape: tuple) -> Any:
    """unbroadcast where g or x is a dask or CuPy array: by their own sum and reshape
    (a NumPy g spread over a dask x by adding it to x's zeros: in x's chunks)."""
    extra = np.ndim(g) - len(shape)
    if extra < 0:
        return zeros_like(x) + g
    axes = list(range(extra)) + [extra + i for i, n in enumerate(shape)
                                 if n == 1 and np.shape(g)[extra + i] != 1]
    if axes:
        g = np.reshape(np.sum(g, axis=tuple(axes)), shape)
    return g


def summed_to(g: np.ndarray, axes: list, shape: tuple) -> np.ndarray:
    """g summed over some of its axes (in order), reshaped to `shape`.

    Where the summed axes all lead or all trail the others in a C-contiguous float
    array, the sum is a product with a vector of ones: one BLAS call, against
    np.sum's loop per row, which over a short axis costs 4x (256 x 10) to 20x
    (10000 x 3) as much. A sum over every axis stays np.sum's (pairwise, and as fast).
    """
    summed = 1
    first_kept = last_kept = -1
    for i, n in enumerate(g.shape):
        if i in axes:
            summed *= n
        elif n != 1:
            last_kept = i
            if first_kept < 0:
                first_kept = i
    if axes and first_kept >= 0 and summed and g.dtype in _BLAS_FLOATS and \
            g.flags.c_contiguous:
        if axes[-1] < first_kept:
            return _ones(summed, g.dtype).dot(g.reshape(summed, -1)).reshape(shape)
        if axes[0] > last_kept:
            return g.reshape(-1, summed).dot(_ones(summed, g.dtype)).reshape(shape)
    return g.sum(axis=tuple(axes)).reshape(shape)


_BLAS_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


@functools.lru_cache(maxsize=64)
def _ones(size: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(size, dtype)
    ones.flags.writeable = False
    return ones


def unsum(dy: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Spread `dy` back over the axes a sum reduced: the adjoint of np.sum."""
    if _foreign(x) or _foreign(dy):
        return _unsum_foreign(dy, x, axis, keepdims)
    shape = np.shape(x)
    dtype = np.float64 if type(x) is np.ndarray and x.dtype == np.float64 and (
        type(dy) is float or type(dy) is np.ndarray and dy.dtype == np.float64) \
        else _float_type(dy, x)  # (the common case, without result_type's 0.5 us)
    dy = np.asarray(dy, dtype=dtype)
    if axis is not None and not keepdims and shape:
        axes = (axis % len(shape),) if type(axis) is int else \
            tuple(a % len(shape) for a in ((axis,) if np.ndim(axis) == 0 else axis))
        if dy.ndim + len(axes) != len(shape):
            raise ValueError(f"cannot spread an adjoint of shape {dy.shape} over {shape} "
                             f"along axis {axis}")
        kept = iter(dy.shape)  # the reduced axes back, as size 1
        dy = dy.reshape(tuple(1 if k in axes else next(kept) for k in range(len(shape))))
    if dy.ndim > len(shape):  # (assigning would drop its leading axes of size 1)
        raise ValueError(f"cannot spread an adjoint of shape {dy.shape} over {shape}")
    if not shape:
        return dy[()]
    result = np.empty(shape, dtype)  # (np.broadcast_to(dy, shape).copy() is 3x slower)
    result[...] = dy
    return result


def _unsum_foreign(dy: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """unsum where dy or x is a dask or CuPy array: dy, its reduced axes put back,
    added to x's zeros (in x's chunks; nothing is assigned into)."""
    dy = spread(dy, x, axis, keepdims)
    dtype = _float_type(dy, x)
    if not np.shape(x):
        return dy.astype(dtype) if _foreign(dy) else dtype.type(dy)
    if _foreign(x):
        return np.zeros_like(x, dtype=dtype) + dy
    return np.broadcast_to(dy, np.shape(x)).astype(dtype)


def _float_type(dy: Any, x: Any) -> Any:
    """The dtype an adjoint of x is computed in: float32 stays float32, and a Python
    float is a float64 (NumPy would let float32 decide a dtype of weak numbers alone)."""
    if isinstance(x, (list, tuple)):
        return np.result_type(np.float64 if type(dy) is float else dy, np.float32)
    return np.result_type(dy, np.float64 if type(x) in (float, int) else x, np.float32)


def unindex(dy: Any, x: Any, index: Any) -> Any:
    """Scatter `dy` into zeros shaped like `x`, adding at repeated indices."""
    if isinstance(x, (list, tuple)):
        return _unindex_pieces(dy, x, index)
    if _foreign(x) or _foreign(dy):
        return _unindex_foreign(dy, x, index)
    result = np.zeros(np.shape(x), dtype=_float_type(dy, x))
    np.add.at(result, index, dy)
    return result


def _unindex_foreign(dy: Any, x: Any, index: Any) -> Any:
    """unindex into a dask or CuPy array: an assignment into its zeros where the index
    is basic (slices, integers: no position twice); they have no np.add.at."""
    parts = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis)))
               for p in parts):
        kind = x if _foreign(x) else dy
        raise UnsupportedShapes(
            f"the adjoint of indexing with an array of indices adds into positions that "
            f"may repeat (np.add.at), which a {type(kind).__module__.split('.')[0]} array "
            "does not have")
    result = zeros_like(x) if _foreign(x) else \
        np.zeros_like(dy, dtype=_float_type(dy, x), shape=np.shape(x))  # (in dy's type)
    if any(p is None for p in parts):  # (x[:, None]: assigned without its new axes)
        parts = tuple(p for p in parts if p is not None)
        dy = np.reshape(dy, result[parts].shape)
    parts, flipped = _forward_slices(parts, np.shape(x))
    if parts is None:
        return result  # (an empty slice: nothing was read)
    if flipped:
        dy = np.flip(dy, flipped)
    result[parts] = dy
    return result


def _forward_slices(parts: tuple, shape: tuple) -> tuple:
    """A basic index with its slices of negative step turned forward (dask's arrays take
    no assignment through them), and the axes of the part read to flip to match; None
    for an index that reads nothing."""
    if any(p is Ellipsis for p in parts):
        at = next(k for k, p in enumerate(parts) if p is Ellipsis)
        parts = parts[:at] + (slice(None),) * (len(shape) - len(parts) + 1) + parts[at + 1:]
    forward, flipped, axis = [], [], 0  # (axis: of the part read)
    for part, n in zip(parts, shape):
        if isinstance(part, slice):
            start, stop, step = part.indices(n)
            count = len(range(start, stop, step))
            if count == 0:
                return None, ()
            if step < 0:
                first = start + (count - 1) * step
                part = slice(first, start + 1, -step)
                flipped.append(axis)
            axis += 1
        forward.append(part)
    return tuple(forward), tuple(flipped)


class Pieces(tuple):
    """The adjoint of a list of arrays (np.split's result, eigh's pair): one adjoint per
    element, adding element by element (a tuple's + would concatenate)."""

    def __add__(self, other: Any) -> "Pieces":
        return Pieces(a + b for a, b in zip(self, other))

    __radd__ = __add__


def _is_factor_pair(x: Any) -> bool:
    """A factorisation's pair of a float array and its bool flag or int pivots
    (cho_factor's (c, lower), lu_factor's (lu, piv))."""
    return isinstance(x, tuple) and len(x) == 2 and \
        isinstance(x[0], np.ndarray) and x[0].dtype.kind == "f" and \
        np.asarray(x[1]).dtype.kind in "biu"


def _unindex_pieces(dy: Any, x: Any, index: Any) -> Any:
    if _is_factor_pair(x) and isinstance(index, int):
        # as the factorisation's rule gives it: np.stack((dc, zeros)), indexed as the pair
        first = dy if index in (0, -2) else np.zeros_like(x[0], dtype=_float_type(dy, x[0]))
        return np.stack((first, np.zeros_like(first)))
    pieces = [zeros_like(e) for e in x]
    if isinstance(index, slice):
        for k, position in enumerate(range(len(x))[index]):
            pieces[position] = pieces[position] + dy[k]
    else:
        pieces[index] = pieces[index] + dy
    return Pieces(pieces)


# -- joining and splitting: the adjoint of a join cuts dy back into pieces ------------

def unconcatenate(dy: Any, arrays: Any, axis: Any = 0, promote: Any = None) -> list:
    """The adjoint of np.concatenate(arrays, axis): dy cut at the arrays' boundaries, each
    piece shaped like its array. `promote` (np.atleast_2d for vstack, ...) is how the
    joining function raised each array's rank before concatenating."""
    raised = [promote(a) for a in arrays] if promote else \
        [a if _foreign(a) else np.asarray(a) for a in arrays]
    if axis is None:
        dy, axis = np.ravel(dy), 0
        sizes = [int(np.prod(np.shape(a))) for a in raised]
    else:
        sizes = [np.shape(a)[axis] for a in raised]
    # (slices of dy, as np.split cuts them; dask's arrays have no np.split)
    leading = (slice(None),) * (axis % np.ndim(dy))
    starts = np.cumsum([0] + sizes[:-1])
    return [_like_array(dy[leading + (slice(start, start + size),)], a)
            for start, size, a in zip(starts, sizes, arrays)]


def unstack(dy: Any, arrays: Any, axis: int = 0) -> list:
    """The adjoint of np.stack(arrays, axis): the slices of dy along the new axis."""
    return [_like_array(piece, a) for piece, a in zip(np.moveaxis(dy, axis, 0), arrays)]


def _like_array(piece: Any, a: Any) -> Any:
    """A fresh copy of `piece` in `a`'s shape (a number for a Python number)."""
    piece = np.reshape(piece, np.shape(a)).copy()
    return piece if np.ndim(a) or isinstance(a, np.ndarray) else piece[()]


def unhstack(dy: Any, tup: Any) -> list:
    """np.hstack joins 1-d arrays (and numbers) along axis 0, others along axis 1."""
    return unconcatenate(dy, tup, hstack_axis(tup), np.atleast_1d)


def hstack_axis(tup: Any) -> int:
    """The axis np.hstack joins along: 0 for 1-d arrays and numbers, else 1."""
    return 0 if all(np.ndim(a) <= 1 for a in tup) else 1


def unvstack(dy: Any, tup: Any) -> list:
    return unconcatenate(dy, tup, 0, np.atleast_2d)


def undstack(dy: Any, tup: Any) -> list:
    return unconcatenate(dy, tup, 2, np.atleast_3d)


def uncolumn_stack(dy: Any, tup: Any) -> list:
    """np.column_stack makes 1-d arrays columns, then joins along axis 1."""
    return unconcatenate(dy, tup, 1, as_column)


def as_column(a: Any) -> Any:
    """What np.column_stack makes of an array before joining: a column if 1-d."""
    return np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a




def matmul_adjoint_a(dy: Any, a: Any, b: Any) -> Any:
    """dA for y = a @ b, vectors, matrices and stacks of any rank that broadcast (a
    vector operand is a matrix of one row or column for the product, then not)."""
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return dy * b
        return np.multiply.outer(dy, b)
    if np.ndim(a) == 1:
        return unbroadcast(np.matmul(b, np.expand_dims(dy, -1))[..., 0], a)
    return unbroadcast(np.matmul(dy, np.swapaxes(b, -1, -2)), a)


def matmul_adjoint_b(dy: Any, a: Any, b: Any) -> Any:
    """dB for y = a @ b."""
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return dy * a
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(dy, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), dy[..., None])[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), dy), b)


class UnsupportedShapes(ValueError):
    """Raised by an adjoint helper for operand shapes it does not differentiate."""


def dot_adjoint_a(dy: Any, a: Any, b: Any) -> Any:
    """dA for y = np.dot(a, b): scalars, vectors and matrices as for @; beyond 2 axes,
    y[i.., j.., n] = sum_k a[i.., k] b[j.., k, n] (b's second-to-last axis, or its only
    one), so dA is dy contracted with b over j.. and n."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * b, a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_adjoint_a(dy, a, b)
    na, nb = np.ndim(a), np.ndim(b)
    if nb == 1:
        return np.multiply.outer(dy, b)
    others = list(range(na - 1, na + nb - 2))  # dy's axes j.. and n
    return np.tensordot(dy, b, axes=(others, list(range(nb - 2)) + [nb - 1]))


def dot_adjoint_b(dy: Any, a: Any, b: Any) -> Any:
    """dB for y = np.dot(a, b): dy contracted with a over i.., k put back in place."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_adjoint_b(dy, a, b)
    na, nb = np.ndim(a), np.ndim(b)
    leading = list(range(na - 1))
    contracted = np.tensordot(a, dy, axes=(leading, leading))  # (k, j.., n)
    return np.moveaxis(contracted, 0, max(nb - 2, 0))


__all__ = ["unbroadcast", "unsum", "unindex", "matmul_adjoint_a", "matmul_adjoint_b",
           "dot_adjoint_a", "dot_adjoint_b", "zeros_like", "shape_of"]


_SHAPE_VIEWS: dict = {}   # (shape, dtype) -> the read-only view shape_of gives for it


def shape_of(x: Any) -> Any:
    """What a loop stores of an array its adjoint reads only for its shape and dtype
    (`unbroadcast(dl, l)`, `zeros_like(l)`): a read-only view of one element with x's
    shape, dtype and ndim, in O(1) memory, not a copy of x's values (one per shape)."""
    if type(x) is not np.ndarray:
        return x
    key = (x.shape, x.dtype)
    view = _SHAPE_VIEWS.get(key)
    if view is None:
        if len(_SHAPE_VIEWS) > 4096:  # (an array growing in a loop: many shapes)
            _SHAPE_VIEWS.clear()
        one = np.zeros(1, x.dtype)
        view = np.ndarray(x.shape, x.dtype, one, 0, (0,) * x.ndim)
        view.flags.writeable = False
        _SHAPE_VIEWS[key] = view
    return view
# UnsupportedShapes is raised, not called: the API turns it into an S2SADError


class NonScalarOutput(ValueError):
    """Raised by generated gradients whose output turned out not to be a scalar."""

    def __init__(self, shape: tuple, what: str = ""):
        self.shape = shape
        self.what = what  # for a list or tuple: "a list of 2 arrays"
        super().__init__(f"the output has shape {shape}, not a scalar")


def described(group: Any) -> str:
    """'a list of 2 arrays': what a list or tuple output is, for refusals."""
    parts = "arrays" if all(isinstance(v, np.ndarray) for v in group) else "values"
    return f"a {type(group).__name__} of {len(group)} {parts}"


def require_scalar(y: Any) -> None:
    """grad is defined for scalar outputs only (as in JAX and autograd). A list or tuple
    is not one, whatever it holds (np.ndim of arrays of unequal shapes would raise)."""
    if type(y) is float:  # (first: np.ndim costs 0.2 us)
        return
    if isinstance(y, (list, tuple)):
        raise NonScalarOutput((len(y),), described(y))
    if np.ndim(y) != 0:
        raise NonScalarOutput(np.shape(y))


def sign(x: Any) -> Any:
    """np.sign of one Python number, in the code for Python numbers (floats.py): 0 for
    either zero, nan for nan."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else x


def require_true(condition: Any, message: str = "") -> None:
    """An `assert` of the differentiated function, checked where it stood (in the
    forward sweep of the generated code)."""
    if not condition:
        raise AssertionError(message) if message else AssertionError()


_LOGGING_SILENCED = [False]


@contextlib.contextmanager
def logging_silenced():
    """log_message does nothing inside (a sweep that runs the forward code again)."""
    saved, _LOGGING_SILENCED[0] = _LOGGING_SILENCED[0], True
    try:
        yield
    finally:
        _LOGGING_SILENCED[0] = saved


def log_message(logger: Optional[str], level: int, message: Any, *args: Any,
                **keywords: Any) -> None:
    """A logging call of the differentiated function (`log.info("loss %s", loss)`),
    made where it stood, in the forward sweep: by the logger's name (None: the
    logging module's own functions, which use the root logger)."""
    if _LOGGING_SILENCED[0]:
        return
    if logger is None:
        logging.log(level, message, *args, **keywords)
    else:
        logging.getLogger(logger).log(level, message, *args, **keywords)


def raise_error(kind: type, *args: Any) -> None:
    """A `raise` of the differentiated function, where it stood (a check in a branch:
    `if x.ndim != 2: raise ValueError(...)`)."""
    raise kind(*args)


__all__ += ["require_scalar", "require_true", "raise_error", "log_message", "sign"]


def add_where(total: np.ndarray, where: Any, term: Any) -> None:
    """total += term * where, in place, for a boolean `where` (the ties of a max): only
    the entries `where` holds are touched, with no product array. A term with an inf
    or nan goes the long way, since inf * False is nan and reaches every entry; so
    do a small array and a term that broadcasts (a max along an axis), where the
    product costs less than NumPy's masked add."""
    if total.size > _SMALL_ARRAY and np.ndim(term) == 0 and np.isfinite(term):
        np.add(total, term, out=total, where=where)
    else:
        total += term * where


_SMALL_ARRAY = 4096  # elements (measured: equal costs near 2,500)


__all__ += ["add_where"]


def add_at(a: np.ndarray, index: Any, values: Any) -> None:
    """np.add.at(a, index, values): `c[index] += e` adding at repeated indices, as the
    code given to Numba writes it (Numba has no ufunc.at; jit_runtime.py has this)."""
    np.add.at(a, index, values)


__all__ += ["add_at"]


class SharedUpdate(ValueError):
    """Raised where `v += e` would update, in place, an array another name still reads."""

    def __init__(self, line: int, col: int):
        self.line, self.col = line, col
        super().__init__(f"in-place update of a shared array at line {line}")


def fits(buffer: np.ndarray, operand: Any) -> Optional[np.ndarray]:
    """`buffer` where an elementwise result of it and `operand` has its shape and dtype,
    so the result can be written into it (out=fits(a, b)); None otherwise, which makes
    the ufunc allocate, as without out=."""
    kind = type(operand)
    if kind is np.ndarray and operand.dtype is buffer.dtype:
        shape, theirs = buffer.shape, operand.shape
        if theirs == shape or theirs == shape[len(shape) - len(theirs):]:
            return buffer  # the common cases, in 0.15 us
    elif kind is float or kind is int:
        return buffer  # a Python number takes the array's dtype
    if _foreign(operand) or _foreign(buffer):
        return None  # (dask's arrays are never written into; nor is NumPy's from one)
    operand = np.asarray(operand)
    shape, theirs = buffer.shape, operand.shape
    if operand.dtype is not buffer.dtype and \
            np.result_type(buffer.dtype, operand.dtype) != buffer.dtype or \
            len(theirs) > len(shape):
        return None
    if theirs != shape[len(shape) - len(theirs):] and any(
            n != 1 and n != m for n, m in zip(theirs[::-1], shape[::-1])):
        return None
    return buffer


__all__ += ["fits"]


def require_unshared(value: Any, other: Any, line: int, col: int) -> None:
    """`v += e` on a number rebinds v; on an array NumPy writes into it, and another name
    that shares the array would see the change, which s2sad does not follow."""
    if isinstance(value, np.ndarray) and isinstance(other, np.ndarray) and \
            np.may_share_memory(value, other):
        raise SharedUpdate(line, col)


__all__ += ["require_unshared"]


class IntegerArrayWrite(ValueError):
    """Raised where an array that gets values depending on the inputs holds integers."""

    def __init__(self, line: int, col: int):
        self.line, self.col = line, col
        super().__init__(f"an integer array is written with real values at line {line}")


def require_float(array: Any, line: int, col: int) -> None:
    """Writing x[0] * 10 into an integer array truncates it: no derivative survives."""
    if isinstance(array, np.ndarray) and not np.issubdtype(array.dtype, np.inexact):
        raise IntegerArrayWrite(line, col)


__all__ += ["require_float"]


def _norm_weights(y: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """d y / d x of y = np.linalg.norm(x, ord, axis), shaped like x (the derivative of
    each norm y along its axes): "fro" and 2 of vectors x / y, ord p >= 1 of vectors
    sign(x) |x|^(p-1) / y^(p-1), 0 where y is 0 (|x|-like there); +-inf of vectors and
    1, -1, inf, -inf of a matrix an equal share of the tied extremal entries (rows or
    columns), as np.max's rule; 2, -2 and "nuc" of a matrix through its SVD. Others are
    refused (p < 1 and 0 are not differentiable at a zero entry)."""
    vector = np.ndim(x) == 1 if axis is None else np.ndim(axis) == 0
    safe = spread(np.where(y == 0, np.inf, y), x, axis, keepdims)
    if ord == "fro" or vector and ord == 2:
        return x / safe
    if vector and ord in (np.inf, -np.inf):
        hit = np.abs(x) == spread(y, x, axis, keepdims)
        return np.sign(x) * hit / spread(tie_count(hit, x, axis, keepdims), x, axis, keepdims)
    if vector and isinstance(ord, (int, float)) and ord >= 1:
        return np.sign(x) * np.abs(x) ** (ord - 1) / safe ** (ord - 1)
    if np.ndim(x) == 2 and axis is None and ord in (1, -1, np.inf, -np.inf):
        across = 0 if ord in (1, -1) else 1  # column sums (1) or row sums (inf)
        sums = np.sum(np.abs(x), axis=across, keepdims=True)
        hit = sums == y
        share = np.sign(x) * hit
        return share / share.dtype.type(np.count_nonzero(hit))
    if np.ndim(x) == 2 and axis is None and ord in (2, -2, "nuc"):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        if ord == "nuc":
            return u @ vh
        k = 0 if ord == 2 else -1
        return np.outer(u[:, k], vh[k])
    raise UnsupportedShapes(f"np.linalg.norm with ord={ord!r} of an array of shape "
                            f"{np.shape(x)}")


def norm_adjoint_p(dy: Any, y: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """dx for y = np.linalg.norm(x, ord, axis) of an ord other than None."""
    return spread(dy, x, axis, keepdims) * _norm_weights(y, x, ord, axis, keepdims)


def no_derivative(what: str) -> Any:
    """The adjoint of a parameter a rule does not differentiate in (the template emits
    it only where the argument depends on the inputs): a refusal, not a zero."""
    raise UnsupportedShapes(what)


def degrees_of_freedom(n: Any, ddof: Any) -> Any:
    """n - ddof for var and std, refused where it is not positive (the primal is nan)."""
    if n - ddof <= 0:
        raise UnsupportedShapes("np.var or np.std with ddof at least the number of "
                                "entries it averages")
    return n - ddof


__all__ += ["norm_adjoint_p", "no_derivative", "degrees_of_freedom"]


def require_shapes(ok: Any, what: str) -> None:
    """A rule's precondition on its operands (a refusal when the gradient runs)."""
    if not ok:
        raise UnsupportedShapes(what)


__all__ += ["require_shapes"]

__all__ += ["Pieces", "unconcatenate", "unstack", "unhstack", "unvstack", "undstack",
            "uncolumn_stack"]


# -- helpers of the shape, linear-algebra and creation rules --------------------------

def undiagonal(dy: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The adjoint of np.diagonal(x, offset, axis1, axis2): dy on that diagonal of zeros."""
    if _foreign(dy) or _foreign(x):
        return _undiagonal_foreign(dy, x, offset, axis1, axis2)
    result = np.zeros(np.shape(x), dtype=_float_type(dy, x))
    moved = np.moveaxis(result, (axis1, axis2), (-2, -1))  # a view: writes reach result
    count = np.shape(dy)[-1] if np.ndim(dy) else 0
    rows = np.arange(count) + max(-offset, 0)
    cols = np.arange(count) + max(offset, 0)
    moved[..., rows, cols] = dy
    return result


def _undiagonal_foreign(dy: Any, x: Any, offset: int, axis1: int, axis2: int) -> Any:
    """undiagonal for dask's or CuPy's arrays, which cannot be written through a view:
    dy spread along the diagonal's rows (or columns) times the diagonal's 0/1 mask."""
    shape = np.shape(x)
    rows, cols = shape[axis1], shape[axis2]
    mask = np.eye(rows, cols, k=offset, dtype=_float_type(dy, x))
    count = np.shape(dy)[-1]
    if offset >= 0:  # entry k sits in row k: dy along the rows, padded to their count
        along = np.pad(dy, [(0, 0)] * (np.ndim(dy) - 1) + [(0, rows - count)])[..., :, None]
    else:  # entry k sits in column k
        along = np.pad(dy, [(0, 0)] * (np.ndim(dy) - 1) + [(0, cols - count)])[..., None, :]
    return np.moveaxis(along * mask, (-2, -1), (axis1, axis2))


def undiff(dy: Any, n: int = 1, axis: int = -1) -> Any:
    """The adjoint of np.diff(a, n, axis): y_i = a_(i+1) - a_i is applied n times, so its
    transpose is too: da_i = dy_(i-1) - dy_i (dy padded with a zero at each end)."""
    for _ in range(n):
        widths = [(0, 0)] * np.ndim(dy)
        widths[axis] = (1, 0)
        before = np.pad(dy, widths)
        widths[axis] = (0, 1)
        dy = before - np.pad(dy, widths)
    return dy


def unpad(dy: Any, array: Any, pad_width: Any) -> Any:
    """The adjoint of np.pad(array, pad_width) (constant mode): the middle of dy."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(array), 2))
    middle = tuple(slice(before, n - after) for (before, after), n in
                   zip(widths, np.shape(dy)))
    if _foreign(dy):
        return dy[middle].astype(_float_type(dy, array))
    return np.array(dy[middle], dtype=_float_type(dy, array))


def unkron(dy: Any, a: Any, b: Any) -> tuple:
    """(da, db) for y = np.kron(a, b): y[(i, k) interleaved] = a[i] * b[k]; dy is
    reshaped so that a's and b's axes separate, then contracted with the other."""
    rank = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (rank - np.ndim(a)) + np.shape(a)
    shape_b = (1,) * (rank - np.ndim(b)) + np.shape(b)
    pairs = np.reshape(dy, [n for pair in zip(shape_a, shape_b) for n in pair])
    split = np.transpose(pairs, list(range(0, 2 * rank, 2)) + list(range(1, 2 * rank, 2)))
    da = np.tensordot(split, np.reshape(b, shape_b), axes=rank)
    db = np.tensordot(np.reshape(a, shape_a), split, axes=(list(range(rank)),
                                                            list(range(rank))))
    return np.reshape(da, np.shape(a)), np.reshape(db, np.shape(b))


def tensordot_adjoint(dy: Any, a: Any, b: Any, axes: Any = 2) -> tuple:
    """(da, db) for y = np.tensordot(a, b, axes): the contracted axes are moved to the
    end of a and the front of b, where y = tensordot(a', b', n) and
    da' = tensordot(dy, b', b's free axes), db' = tensordot(a', dy, a's free axes)."""
    if np.ndim(axes) == 0:
        n = int(axes)
        axes_a, axes_b = list(range(np.ndim(a) - n, np.ndim(a))), list(range(n))
    else:
        axes_a, axes_b = [np.atleast_1d(x).tolist() for x in axes]
        n = len(axes_a)
    axes_a = [x % np.ndim(a) for x in axes_a]
    axes_b = [x % np.ndim(b) for x in axes_b]
    a_moved = np.moveaxis(a, axes_a, list(range(np.ndim(a) - n, np.ndim(a))))
    b_moved = np.moveaxis(b, axes_b, list(range(n)))
    free_a, free_b = np.ndim(a) - n, np.ndim(b) - n
    da = np.tensordot(dy, b_moved, axes=(list(range(free_a, free_a + free_b)),
                                         list(range(n, n + free_b))))
    db = np.tensordot(a_moved, dy, axes=(list(range(free_a)), list(range(free_a))))
    da = np.moveaxis(da, list(range(np.ndim(a) - n, np.ndim(a))), axes_a)
    db = np.moveaxis(db, list(range(n)), axes_b)
    return da, db


def unpermute(dy: Any, a: Any, y: Any, axis: Any = -1) -> Any:
    """The adjoint of a reordering along `axis` (np.partition) whose output y holds a's
    values (distinct) in another order: dy goes back to where each value came from."""
    if axis is None:
        a, dy, y, axis = np.ravel(a), np.ravel(dy), np.ravel(y), 0
    source = np.take_along_axis(np.argsort(a, axis), np.argsort(np.argsort(y, axis), axis),
                                axis)
    result = np.zeros(np.shape(a), dtype=_float_type(dy, a))
    np.put_along_axis(result, source, dy, axis)
    return result


def unastype(dy: Any, x: Any, dtype: Any) -> Any:
    """The adjoint of a cast: back in x's float type; none through a cast to integers."""
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        return zeros_like(x)
    source = np.result_type(x) if not isinstance(x, (list, tuple)) else np.float64
    if np.issubdtype(source, np.inexact) and isinstance(dy, np.ndarray):
        return dy.astype(source, copy=False)
    return dy


def ungradient(dy: Any, f: Any, spacing: tuple = (), axis: Any = None,
               edge_order: int = 1) -> Any:
    """The adjoint of np.gradient(f, *spacing, axis=axis, edge_order=edge_order): dy holds
    one array per axis differentiated along (a sequence, for several), each sent back
    through the transpose of NumPy's differences along its axis (see _ungradient_along)."""
    axes = list(range(np.ndim(f))) if axis is None else \
        [int(axis)] if np.ndim(axis) == 0 else [int(a) for a in axis]
    axes = [a % np.ndim(f) for a in axes]
    if len(spacing) not in (0, 1, len(axes)):
        raise UnsupportedShapes(f"np.gradient with {len(spacing)} spacings for "
                                f"{len(axes)} axes")
    steps = [spacing if len(spacing) <= 1 else (spacing[k],) for k in range(len(axes))]
    pieces = [dy] if len(axes) == 1 else list(dy)
    df = np.zeros(np.shape(f), dtype=_float_type(dy if len(axes) == 1 else pieces[0], f))
    for piece, along, step in zip(pieces, axes, steps):
        df += _ungradient_along(piece, np.shape(f)[along], step, along, edge_order)
    return df


def _ungradient_along(dy: Any, n: int, step: tuple, axis: int, edge_order: int) -> Any:
    """D^T dy along `axis`, for D the (n, n) matrix of np.gradient's differences there.
    Row i of D reads f[i-2 .. i+2] at most, so np.gradient of the comb [j % 5 == k] holds
    at row i the entry of D in the one column near i that is k mod 5: D's entries exactly
    as NumPy computes them, for any spacing and edge order, at O(n) cost."""
    columns = np.arange(n)
    combs = (columns % 5 == np.arange(5)[:, None]).astype(np.float64)
    entries = np.gradient(combs, *step, axis=1, edge_order=edge_order)
    moved = np.moveaxis(np.asarray(dy), axis, 0)
    df = np.zeros(moved.shape, dtype=np.result_type(moved, np.float32))
    for offset in range(-2, 3):  # row i = j + offset sends D[i, j] * dy[i] to column j
        j = columns[max(0, -offset):n - max(0, offset)]
        weights = entries[j % 5, j + offset].reshape((-1,) + (1,) * (moved.ndim - 1))
        df[j] += (weights * moved[j + offset]).astype(df.dtype, copy=False)
    return np.moveaxis(df, 0, axis)


def eigh_adjoint(dy: Any, w: Any, v: Any) -> Any:
    """dA for (w, v) = np.linalg.eigh(A), which reads A's lower triangle:
    G = V (diag(dw) + F * (V.T dV)) V.T with F_ij = 1 / (w_j - w_i) off the diagonal;
    A_ij below the diagonal stands for both A_ij and A_ji, so it gets G_ij + G_ji.
    Needs distinct eigenvalues where dV is used (F is infinite otherwise)."""
    dw, dv = dy
    n = np.shape(w)[-1]
    eye = np.eye(n, dtype=w.dtype)
    v_t = np.swapaxes(v, -1, -2)
    g = (v * np.expand_dims(dw, -2)) @ v_t
    if np.any(dv):
        gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye
        g = g + v @ ((1 - eye) / gaps * (v_t @ dv)) @ v_t
    return np.tril(g + np.swapaxes(g, -1, -2)) - g * eye


def svd_adjoint(dy: Any, a: Any, full_matrices: bool, compute_uv: bool) -> Any:
    """dA for np.linalg.svd(A) where only the singular values are differentiated:
    ds -> U diag(ds) Vh (the first k = min(m, n) singular vectors)."""
    if compute_uv:
        du, ds, dvh = dy
        if np.any(du) or np.any(dvh):
            raise UnsupportedShapes("np.linalg.svd with a gradient through U or Vh "
                                    "(only the singular values are differentiated)")
    else:
        ds = dy
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(ds, -2)) @ vh


__all__ += ["undiagonal", "undiff", "unpad", "unkron", "tensordot_adjoint", "unpermute",
            "unastype", "ungradient", "eigh_adjoint", "svd_adjoint"]


def rollaxis_destination(a: Any, axis: int, start: int) -> int:
    """Where np.rollaxis(a, axis, start) puts `axis`, as moveaxis counts."""
    n = np.ndim(a)
    axis, start = axis % n, start + n + 1 if start < 0 else start
    return start - 1 if axis < start else start


__all__ += ["rollaxis_destination"]


def broadcast_like(t: Any, y: Any) -> Any:
    """A tangent in the shape of the value it belongs to: `a + b` with only a (3,) active
    has y of shape (2, 3), and so must y_dot."""
    if np.shape(t) == np.shape(y):
        return t
    return np.broadcast_to(t, np.shape(y)).copy()


__all__ += ["broadcast_like"]


def item(a: Any, *args: Any) -> Any:
    """x.item(...) in user code: the Python number, of an array or a NumPy scalar
    (a method the lowered code calls as a function)."""
    return a.item(*args)


__all__ += ["item"]


def norm_tangent_p(y: Any, x: Any, x_dot: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """The tangent of np.linalg.norm(x, ord, axis) for the orders norm_adjoint_p takes."""
    weights = _norm_weights(y, x, ord, axis, keepdims)
    return np.sum(weights * x_dot, axis=axis, keepdims=keepdims)


__all__ += ["norm_tangent_p"]


def eigh_tangents(w: Any, v: Any, a_dot: Any) -> tuple:
    """(w_dot, V_dot) for (w, V) = eigh(A), which reads A's lower triangle: with
    S = the symmetric matrix that triangle stands for and P = V.T S_dot V,
    w_dot = diag(P) and V_dot = V (F * P), F_ij = 1 / (w_j - w_i) off the diagonal."""
    n = np.shape(w)[-1]
    lower = np.tril(a_dot)
    s_dot = lower + np.swapaxes(np.tril(a_dot, -1), -1, -2)
    p = np.swapaxes(v, -1, -2) @ s_dot @ v
    eye = np.eye(n, dtype=w.dtype)
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye
    return np.diagonal(p, 0, -2, -1).copy(), v @ ((1 - eye) / gaps * p)


def svd_tangents(a: Any, a_dot: Any, compute_uv: bool) -> Any:
    """The tangent of the singular values, s_dot = diag(U.T A_dot V); the tangents of U
    and Vh are refused (forward mode cannot tell whether they are used)."""
    if compute_uv:
        raise UnsupportedShapes("forward mode through np.linalg.svd with compute_uv=True "
                                "(write np.linalg.svd(A, compute_uv=False) for the "
                                "singular values)")
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ik,...ij,...kj->...k", u, a_dot, vh)


def permute_tangent(a_dot: Any, a: Any, y: Any, axis: Any = -1) -> Any:
    """The tangent of a reordering along `axis` whose output y holds a's (distinct)
    values: each output entry takes the tangent of the entry it came from."""
    if axis is None:
        a_dot, a, y, axis = np.ravel(a_dot), np.ravel(a), np.ravel(y), 0
    source = np.take_along_axis(np.argsort(a, axis), np.argsort(np.argsort(y, axis), axis),
                                axis)
    return np.take_along_axis(a_dot, source, axis)


def cast_tangent(t: Any, dtype: Any) -> Any:
    """The tangent through x.astype(dtype): zero for integer types."""
    if not np.issubdtype(np.dtype(dtype), np.inexact):
        return np.zeros(np.shape(t))
    return np.array(t, dtype)


__all__ += ["eigh_tangents", "svd_tangents", "permute_tangent", "cast_tangent"]


# -- einsum: every form NumPy accepts ---------------------------------------------------
# The arguments of a call are kept as NumPy takes them, `args`: ('ij,jk->ik', A, B) or the
# sublist form (A, [0, 1], B, [1, 2], [0, 2]); an operand is named by its position in args.

_SUBLIST_LABELS = string.ascii_uppercase + string.ascii_lowercase  # NumPy's: 0 is 'A'


def _sublist_term(sublist: Any) -> str:
    return "".join("..." if label is Ellipsis else _SUBLIST_LABELS[label]
                   for label in sublist)


def _einsum_key(args: tuple) -> tuple:
    """np.einsum's arguments as a hashable key (what its index bookkeeping depends
    on): each operand by its number of axes, the subscripts, sublists as tuples."""
    if isinstance(args[0], str):
        return (args[0],) + tuple(np.ndim(a) for a in args[1:])
    last = len(args) - 1 if len(args) % 2 else None  # the output sublist
    return tuple(np.ndim(a) if k % 2 == 0 and k != last else tuple(a)
                 for k, a in enumerate(args))


@functools.lru_cache(maxsize=256)
def _einsum_parts(key: tuple) -> Tuple[list, list, str]:
    """(the positions of the operands in args, their terms, the output term), with
    '...' spelled out as letters of their own (right-aligned, as NumPy broadcasts) and
    implicit mode's output made explicit: the ellipsis, then the labels used once, in
    NumPy's order (by character: 'B' before 'a'). `key` is _einsum_key(args)."""
    if isinstance(key[0], str):
        inputs, arrow, out = key[0].replace(" ", "").partition("->")
        positions = list(range(1, len(key)))
        terms = inputs.split(",")
        explicit = out if arrow else None
    else:  # operand, sublist, operand, sublist, ... [, output sublist]
        positions = list(range(0, len(key) - 1, 2))
        terms = [_sublist_term(key[p + 1]) for p in positions]
        explicit = _sublist_term(key[-1]) if len(key) % 2 else None
    if len(terms) != len(positions):
        raise UnsupportedShapes(f"np.einsum with {len(terms)} terms for "
                                f"{len(positions)} operands")
    used = "".join(terms) + (explicit or "")
    spare = [c for c in string.ascii_letters if c not in used]
    counts = [key[p] - len(t.replace("...", "")) for p, t in zip(positions, terms)]
    rank = max([n for t, n in zip(terms, counts) if "..." in t], default=0)
    ellipsis = "".join(spare[:rank])
    terms = [t.replace("...", ellipsis[rank - n:]) for t, n in zip(terms, counts)]
    if explicit is not None:
        return positions, terms, explicit.replace("...", ellipsis)
    labels = "".join(terms)
    once = sorted(c for c in set(labels) if labels.count(c) == 1 and c not in ellipsis)
    return positions, terms, ellipsis + "".join(once)


@functools.lru_cache(maxsize=256)
def _adjoint_plan(key: tuple, wrt: int) -> Tuple[str, list, str, str]:
    """How einsum_adjoint computes the adjoint of args[wrt]: (the einsum of dy and the
    other operands onto the labels this operand keeps, the positions of those others,
    the kept labels, this operand's term). A label it keeps is in the output or in
    another operand; the others are summed over in it alone."""
    positions, terms, out = _einsum_parts(key)
    own = terms[positions.index(wrt)]
    others = [(p, t) for p, t in zip(positions, terms) if p != wrt]
    labels = "".join(dict.fromkeys(own))  # each once, in order
    kept = "".join(c for c in labels if c in out or any(c in t for _, t in others))
    spec = ",".join([out] + [t for _, t in others]) + "->" + kept
    return spec, [p for p, _ in others], kept, own


def einsum_adjoint(dy: Any, args: tuple, wrt: Any = None, optimize: Any = False) -> Any:
    """The adjoint of operand args[wrt] of y = np.einsum(*args), given dy: dy contracted
    with the other operands onto this one's labels. A label only this operand carries
    (summed over in it alone) spreads dy along it; a label repeated in it (a diagonal,
    'ii->i') puts dy on the diagonal and zeros elsewhere; an axis of size 1 that einsum
    broadcast against a longer one sums back to size 1. (wrt=None: the adjoints of every
    argument, as Pieces, those of the subscripts zero: a template run as a function.)"""
    key = _einsum_key(args)
    if wrt is None:
        positions = _einsum_parts(key)[0]
        return Pieces(einsum_adjoint(dy, args, k, optimize) if k in positions else 0.0
                      for k in range(len(args)))
    spec, others, kept, own = _adjoint_plan(key, wrt)
    operand = args[wrt]
    if isinstance(operand, (list, tuple)):  # np.einsum('i,i', [a, b], x): an array
        operand = np.asarray(operand)
    shape = np.shape(operand)
    g = np.einsum(spec, dy, *[args[p] for p in others], optimize=optimize)
    g = g if _foreign(g) else np.asarray(g)
    size = {c: n for c, n in zip(own, shape)}
    broadcast = tuple(i for i, c in enumerate(kept) if size[c] == 1 and g.shape[i] != 1)
    if broadcast:
        g = np.sum(g, axis=broadcast, keepdims=True)
    fresh = bool(others)  # (einsum of dy alone may be a view of it)
    kept_shape = tuple(size[c] for c in kept)
    if g.shape != kept_shape:  # a label of size 1 elsewhere, longer here: spread along it
        g = np.broadcast_to(g, kept_shape)
        fresh = False
    dtype = np.result_type(g, operand) if np.issubdtype(np.result_type(operand), np.inexact) \
        else g.dtype
    if len(size) != len(own):
        g = _undiagonal_einsum(g, kept, own, shape, size)
        fresh = True
    elif kept != own:
        g = np.broadcast_to(np.expand_dims(g, tuple(i for i, c in enumerate(own)
                                                    if c not in kept)), shape)
        fresh = False  # (a broadcast array is read-only)
    g = g.astype(dtype, copy=False) if fresh or _foreign(g) else np.array(g, dtype=dtype)
    return g if shape else g[()]


def _undiagonal_einsum(g: np.ndarray, kept: str, own: str, shape: tuple,
                       size: dict) -> np.ndarray:
    """g over the labels `kept` put into an array of the term `own`, whose labels may
    repeat (on the diagonal, zeros elsewhere) or be missing from kept (spread)."""
    fresh = iter(c for c in string.ascii_letters if c not in own)
    target, terms, operands = "", [kept], [g]
    seen = set(kept)
    for axis, c in enumerate(own):
        if c not in seen:  # a label g lacks: spread along it
            seen.add(c)
            target += c
            terms.append(c)
            operands.append(np.ones(size[c], g.dtype))
        elif c in target:  # a repeat: on the diagonal of its first axis
            other = next(fresh)
            target += other
            terms.append(c + other)
            operands.append(np.eye(shape[axis], dtype=g.dtype))
        else:
            target += c
    return np.einsum(",".join(terms) + "->" + target, *operands)


def _einsum_args_with(args: tuple, wrt: int, value: Any) -> tuple:
    return tuple(value if k == wrt else a for k, a in enumerate(args))


def einsum_adjoint_adjoint(g: Any, dy: Any, args: tuple, wrt: int,
                           optimize: Any = False) -> "Pieces":
    """The adjoints of the arguments of einsum_adjoint(g, args, wrt), given dy: of each
    operand but args[wrt] (of which only the shape is read, a zero), the adjoint of that
    operand in np.einsum(*args) with dy in wrt's place, given g, since
    <dy, einsum_adjoint(g, args, wrt)> = <g, np.einsum(*args with dy at wrt)>."""
    positions = _einsum_parts(_einsum_key(args))[0]
    swapped = _einsum_args_with(args, wrt, dy)
    return Pieces(einsum_adjoint(g, swapped, k, optimize) if k in positions and k != wrt
                  else zeros_like(a) if k == wrt else 0.0 for k, a in enumerate(args))


def einsum_at(dy: Any, args: tuple, wrt: int, optimize: Any = False) -> Any:
    """np.einsum(*args) with dy in place of args[wrt]: the adjoint of einsum_adjoint's
    dy (it is linear in it). (Of dy alone, einsum may give a view of it: copied.)"""
    y = np.einsum(*_einsum_args_with(args, wrt, dy), optimize=optimize)
    return np.array(y) if len(_einsum_parts(_einsum_key(args))[0]) == 1 else y


def einsum_adjoint_tangent(g: Any, args: tuple, args_dot: tuple, wrt: int,
                           optimize: Any = False) -> Any:
    """The tangent of einsum_adjoint(g, args, wrt) along the operands' tangents (g held):
    the sum, over each operand but args[wrt], of the helper with that operand's tangent
    in its place (it is linear in each); a zero tangent adds nothing."""
    positions = _einsum_parts(_einsum_key(args))[0]
    total = zeros_like(args[wrt])
    for k in positions:
        if k != wrt and np.any(args_dot[k]):
            total = total + einsum_adjoint(g, _einsum_args_with(args, k, args_dot[k]), wrt,
                                           optimize)
    return total


__all__ += ["einsum_adjoint", "einsum_adjoint_adjoint", "einsum_at",
            "einsum_adjoint_tangent"]


def inner_adjoint_a(dy: Any, a: Any, b: Any) -> Any:
    """da of y = np.inner(a, b), y[i.., j..] = sum_k a[i.., k] b[j.., k]: dy contracted
    with b over b's leading axes j..; a number scaling b gets the sum."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * b, a)
    na, nb = np.ndim(a), np.ndim(b)
    return np.tensordot(dy, b, axes=(list(range(na - 1, na + nb - 2)), list(range(nb - 1))))


def inner_adjoint_b(dy: Any, a: Any, b: Any) -> Any:
    """db of y = np.inner(a, b): dy contracted with a over a's leading axes i..."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * a, b)
    na = np.ndim(a)
    return np.tensordot(dy, a, axes=(list(range(na - 1)), list(range(na - 1))))


__all__ += ["inner_adjoint_a", "inner_adjoint_b"]


def spread(dy: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """dy with the axes a reduction of x removed put back as size 1, so that it
    broadcasts against x: unsum without the copy, for reading (a == spread(y, a)).
    (A number has no axes to put back: SciPy's reductions take axis=0 of one.)"""
    if axis is None or keepdims or np.ndim(x) == 0:
        return dy
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return np.expand_dims(dy, tuple(a % np.ndim(x) for a in axes))


__all__ += ["spread"]


def tie_count(hit: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """np.count_nonzero(hit, axis, keepdims) in a's float type: how many entries of `a`
    tie at its extremum. Along an axis, a mask of up to 65,536 entries is counted as
    floats in one BLAS product (summed_to): 2.5x (256 x 10) to 8x (10,000 x 3) faster
    than np.count_nonzero's loop per row; a larger one would cost more as a float copy
    (2x at 10^6), and a count over every axis is fast either way."""
    if _foreign(a):  # (dask's, CuPy's: their own count)
        return np.sum(hit, axis=axis, keepdims=keepdims, dtype=_float_type(np.float32, a))
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    dtype = a.dtype if a.dtype in _BLAS_FLOATS else _float_type(np.float32, a)
    if axis is None or a.size > _SMALL_MASK or not a.ndim:
        return np.asarray(np.count_nonzero(hit, axis=axis, keepdims=keepdims), dtype=dtype)
    shape = a.shape
    if type(axis) is int:
        axes = [axis % len(shape)]
    else:
        axes = sorted({k % len(shape) for k in ((axis,) if np.ndim(axis) == 0 else axis)})
    if keepdims:
        counted = tuple([1 if i in axes else n for i, n in enumerate(shape)])
    else:
        counted = tuple([n for i, n in enumerate(shape) if i not in axes])
    return summed_to(hit.astype(dtype), axes, counted)


_SMALL_MASK = 1 << 16  # entries


__all__ += ["tie_count"]


def rejoin(pieces: Any, arrays: Any, axis: Any = 0, promote: Any = None) -> Any:
    """The adjoint of unconcatenate: the pieces joined back along the axis they were cut
    from (each first raised as `promote` raised its array). Generated code names
    `promote` ("atleast_2d"): a function passed as a value is not code s2sad reads."""
    promote = _PROMOTIONS.get(promote, promote) if isinstance(promote, str) else promote
    raised = [np.reshape(p, np.shape(promote(a) if promote else
                                     a if _foreign(a) else np.asarray(a)))
              for p, a in zip(pieces, arrays)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in raised])
    return np.concatenate(raised, axis)


_PROMOTIONS = {"atleast_1d": np.atleast_1d, "atleast_2d": np.atleast_2d,
               "atleast_3d": np.atleast_3d, "as_column": as_column}


def restack(pieces: Any, arrays: Any, axis: int = 0) -> Any:
    """The adjoint of unstack: the pieces, each in its array's shape, stacked back
    along the new axis."""
    return np.stack([np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)], axis)


def untake_along_axis(dy: Any, arr: Any, indices: Any, axis: Any) -> Any:
    """The adjoint of np.take_along_axis(arr, indices, axis): dy added back at the
    positions taken (np.add.at: a position taken twice gets both)."""
    if _foreign(arr) or _foreign(dy):
        raise UnsupportedShapes(
            "the adjoint of np.take_along_axis adds into positions that may repeat "
            f"(np.add.at), which a {type(arr if _foreign(arr) else dy).__module__.split('.')[0]}"
            " array does not have")
    shape = np.shape(arr)
    total = np.zeros(shape, dtype=np.result_type(dy, arr))
    if axis is None:
        flat = np.ravel(total)
        np.add.at(flat, indices, dy)
        return np.reshape(flat, shape)
    dy = np.asarray(dy)
    axis = axis % len(shape)
    grid = []
    for d, n in enumerate(dy.shape):
        if d == axis:
            grid.append(np.broadcast_to(indices, dy.shape))
            continue
        positions = np.arange(n) if shape[d] != 1 else np.zeros(n, dtype=np.intp)
        grid.append(np.reshape(positions, [-1 if k == d else 1 for k in range(dy.ndim)]))
    np.add.at(total, tuple(grid), dy)
    return total


__all__ += ["rejoin", "restack", "hstack_axis", "as_column", "untake_along_axis"]


# -- convolutions: their cotangents live in the full convolution's shape ----------------

def convolution_shape(in1: Any, in2: Any) -> tuple:
    """The shape of the full convolution of in1 and in2 (n + m - 1 along each axis)."""
    return tuple(n + m - 1 for n, m in zip(np.shape(in1), np.shape(in2)))


def centred_part(a: Any, shape: Any) -> Any:
    """The centred block of `shape` of a (a convolution's 'same' or 'valid' part of its
    full result, centred as NumPy and SciPy centre them)."""
    starts = [(n - k) // 2 for n, k in zip(np.shape(a), shape)]
    return a[tuple(slice(s, s + k) for s, k in zip(starts, shape))]


def centred_in(a: Any, shape: Any) -> Any:
    """a placed at the centre of zeros of `shape`: centred_part's adjoint."""
    out = np.zeros(tuple(shape), dtype=np.result_type(a, np.float32))
    starts = [(n - k) // 2 for n, k in zip(shape, np.shape(a))]
    out[tuple(slice(s, s + k) for s, k in zip(starts, np.shape(a)))] = a
    return out


__all__ += ["convolution_shape", "centred_part", "centred_in"]


# -- NumPy functions other array libraries lack, as their methods (see dispatch.py) --------

def array_size(x: Any) -> Any:
    """np.size(x): x.size where x has it (dask's arrays have no np.size); for a dask
    array of unknown length (rows picked by a mask: its size is nan), a lazy count."""
    if not is_foreign_array(x):
        return np.size(x)
    size = x.size
    return size if size == size else np.sum(np.ones_like(x, dtype=np.int64))


def array_copy(a: Any) -> Any:
    """np.copy(a): a.copy() where a is a dask or CuPy array (dask has no np.copy)."""
    return a.copy() if is_foreign_array(a) else np.copy(a)


def array_astype(x: Any, dtype: Any) -> Any:
    """np.array(x, dtype), what x.astype(dtype) lowers to: x.astype(dtype) for a dask or
    CuPy array (np.array of one would compute it, or copy it to the host)."""
    return x.astype(dtype) if is_foreign_array(x) else np.array(x, dtype)


def array_shape(shape: Any) -> tuple:
    """A shape as a tuple (dask's reshape takes no bare length): n is (n,)."""
    return (shape,) if np.ndim(shape) == 0 else tuple(shape)


__all__ += ["array_size", "array_copy", "array_astype", "array_shape"]
