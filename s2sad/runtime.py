"""The only module generated code imports: a few shape helpers.

Each helper returns a fresh array (never a view of its input), so generated code
may accumulate into the result in place.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def zeros_like(x: Any) -> Any:
    """A zero adjoint for x: 0.0 for a Python number, a fresh float array otherwise.

    (None stands for a name a loop has not bound yet; nothing ever adds to it.)"""
    if x is None or isinstance(x, (float, int)):
        return 0.0
    dtype = np.result_type(x, np.float32) if np.issubdtype(np.result_type(x), np.inexact) \
        else np.float64
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return np.zeros((), dtype)[()]
    return np.zeros(np.shape(x), dtype)


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum `g` down to the shape of `x`: the adjoint of broadcasting `x` up."""
    shape = np.shape(x)
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(g, shape).copy()
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g if np.ndim(x) else g[()]


def unsum(dy: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Spread `dy` back over the axes a sum reduced: the adjoint of np.sum."""
    shape = np.shape(x)
    dy = np.asarray(dy)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(a % len(shape) for a in axes)
        dy = np.expand_dims(dy, axes)
    result = np.broadcast_to(dy, shape).copy()
    return result if shape else result[()]


def unindex(dy: Any, x: Any, index: Any) -> Any:
    """Scatter `dy` into zeros shaped like `x`, adding at repeated indices."""
    result = np.zeros(np.shape(x), dtype=np.result_type(dy, float))
    np.add.at(result, index, dy)
    return result


def matmul_adjoint_a(dy: Any, a: Any, b: Any) -> Any:
    """dA for y = a @ b, for every combination of 1-D and 2-D (and stacked) operands."""
    if min(np.ndim(a), np.ndim(b)) == 1 and max(np.ndim(a), np.ndim(b)) > 2:
        _matrices_at_most(a, b, "@")
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return dy * b
        return np.multiply.outer(dy, b)
    if np.ndim(a) == 1:
        return np.matmul(b, dy)
    return np.matmul(dy, np.swapaxes(b, -1, -2)) if np.ndim(dy) == np.ndim(a) else \
        unbroadcast(np.matmul(dy, np.swapaxes(b, -1, -2)), a)


def matmul_adjoint_b(dy: Any, a: Any, b: Any) -> Any:
    """dB for y = a @ b."""
    if min(np.ndim(a), np.ndim(b)) == 1 and max(np.ndim(a), np.ndim(b)) > 2:
        _matrices_at_most(a, b, "@")
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return dy * a
        return np.multiply.outer(a, dy)
    if np.ndim(b) == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), dy[..., None])[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), dy), b)


class UnsupportedShapes(ValueError):
    """Raised by an adjoint helper for operand shapes it does not differentiate."""


def _matrices_at_most(a: Any, b: Any, what: str) -> None:
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise UnsupportedShapes(f"{what} of arrays with more than 2 axes "
                                f"(shapes {np.shape(a)} and {np.shape(b)})")


def dot_adjoint_a(dy: Any, a: Any, b: Any) -> Any:
    """dA for y = np.dot(a, b): scalars, vectors and matrices."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * b, a)
    _matrices_at_most(a, b, "np.dot")
    return matmul_adjoint_a(dy, a, b)


def dot_adjoint_b(dy: Any, a: Any, b: Any) -> Any:
    """dB for y = np.dot(a, b)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * a, b)
    _matrices_at_most(a, b, "np.dot")
    return matmul_adjoint_b(dy, a, b)


__all__ = ["unbroadcast", "unsum", "unindex", "matmul_adjoint_a", "matmul_adjoint_b",
           "dot_adjoint_a", "dot_adjoint_b", "zeros_like"]
# UnsupportedShapes is raised, not called: the API turns it into an S2SADError


class NonScalarOutput(ValueError):
    """Raised by generated gradients whose output turned out not to be a scalar."""

    def __init__(self, shape: tuple):
        self.shape = shape
        super().__init__(f"the output has shape {shape}, not a scalar")


def require_scalar(y: Any) -> None:
    """grad is defined for scalar outputs only (as in JAX and autograd)."""
    if np.ndim(y) != 0:
        raise NonScalarOutput(np.shape(y))


__all__ += ["require_scalar"]


class SharedUpdate(ValueError):
    """Raised where `v += e` would update, in place, an array another name still reads."""

    def __init__(self, line: int, col: int):
        self.line, self.col = line, col
        super().__init__(f"in-place update of a shared array at line {line}")


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


def norm_adjoint_p(dy: Any, y: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """dx for y = np.linalg.norm(x, ord, axis): "fro", and ord 1 or 2 of vectors
    (dx = dy * sign(x) * |x| ** (p - 1) / y ** (p - 1)); infinite at x = 0."""
    vector = np.ndim(x) == 1 if axis is None else np.ndim(axis) == 0
    if ord == "fro":
        return unsum(dy / y, x, axis, keepdims) * x
    if not vector or ord not in (1, 2):
        raise UnsupportedShapes(f"np.linalg.norm with ord={ord!r} of an array of shape "
                                f"{np.shape(x)}")
    return unsum(dy / y ** (ord - 1), x, axis, keepdims) * np.sign(x) * \
        np.abs(x) ** (ord - 1)


__all__ += ["norm_adjoint_p"]


def require_shapes(ok: Any, what: str) -> None:
    """A rule's precondition on its operands (a refusal when the gradient runs)."""
    if not ok:
        raise UnsupportedShapes(what)


__all__ += ["require_shapes"]
