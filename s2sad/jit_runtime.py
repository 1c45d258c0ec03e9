"""Numba implementations of the runtime helpers generated loop code calls.

Numba cannot type the Python helpers of runtime.py (they branch on `type(x)` and
`np.ndim` at run time). Each is given here, with `numba.extending.overload`, an
implementation chosen by its operands' types when Numba compiles a gradient: the
ranks are known then, so each case is a specialisation (`unbroadcast` of two
arrays of one rank is a shape comparison and, in the common case, the identity).
The generated module keeps calling `s2sad.runtime`'s names; Numba finds these.

A case not given here has no implementation: Numba refuses the call, and the
gradient runs as Python with a JitFallback warning naming the helper (jit.py).
`register()` runs once, on the first `jit=True` gradient.
"""
from __future__ import annotations

import hashlib

import numpy as np

from . import runtime

_REGISTERED = False


def version() -> str:
    """A digest of this module's source and runtime.py's: machine code cached on disk
    (jit.py) that inlined these implementations is stale when either changes."""
    digest = hashlib.sha1()
    for path in (__file__, runtime.__file__):
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()[:16]


def register() -> None:
    """Give Numba the helpers (once; importing Numba costs a second, so not before)."""
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    _define()


def _define() -> None:
    import numba
    from numba import types
    from numba.extending import overload
    from numba.np.unsafe.ndarray import to_fixed_tuple

    def is_array(t) -> bool:
        return isinstance(t, types.Array)

    def is_number(t) -> bool:
        return isinstance(t, (types.Number, types.Boolean))

    def absent(t) -> bool:
        """An optional argument left out, or passed as None."""
        return t is None or isinstance(t, (types.Omitted, types.NoneType))

    def flag(t):
        """The value of a literal or left-out boolean argument; None if only its type
        is known (an array's rank would then depend on a run-time value)."""
        if absent(t):
            return False
        if isinstance(t, bool):  # (a left-out argument's default, as Numba passes it)
            return t
        if isinstance(t, types.BooleanLiteral):
            return t.literal_value
        if isinstance(t, types.Omitted):
            return bool(t.value)
        return None

    def axis_count(t):
        """How many axes an axis argument names: 1 for an int, n for a tuple of n."""
        if isinstance(t, types.Integer):
            return 1
        if isinstance(t, types.UniTuple) and isinstance(t.dtype, types.Integer):
            return t.count
        return None

    def float_dtype(t):
        """The float type an adjoint of an operand of type t is computed in."""
        dtype = t.dtype if is_array(t) else t
        return dtype if isinstance(dtype, (types.Float, types.Complex)) else types.float64

    @numba.njit(cache=False)
    def accumulate(g, out):
        """out += g summed to out's shape: over g's leading extra axes, and over each
        axis where out has size 1 (out is C-contiguous)."""
        extra = g.ndim - out.ndim
        trailing = out.size > 0 and g.flags.c_contiguous
        for d in range(out.ndim):
            trailing = trailing and g.shape[extra + d] == out.shape[d]
        if trailing:  # a sum over leading axes only (a bias's adjoint): row by row
            flat = out.reshape(out.size)
            rows = np.ascontiguousarray(g).reshape((g.size // out.size, out.size))
            for r in range(rows.shape[0]):
                flat += rows[r]
            return out
        strides = np.zeros(g.ndim, np.intp)
        step = 1
        for d in range(out.ndim - 1, -1, -1):
            if out.shape[d] != 1:
                strides[extra + d] = step
            step *= out.shape[d]
        flat = out.reshape(out.size)
        for index in np.ndindex(g.shape):
            k = 0
            for d in range(g.ndim):
                k += index[d] * strides[d]
            flat[k] += g[index]
        return out

    @numba.njit(cache=False)
    def reduced_mask(axis, n):
        """Which of n axes a reduction along `axis` (an int or a tuple) removes."""
        mask = np.zeros(n, np.bool_)
        for a in np.asarray(axis).reshape(-1):
            mask[a % n] = True
        return mask

    @numba.njit(cache=False)
    def kept_shape(shape, mask):
        """shape with the masked axes as size 1 (keepdims' shape)."""
        kept = np.empty(len(shape), np.intp)
        for d in range(len(shape)):
            kept[d] = 1 if mask[d] else shape[d]
        return kept

    @numba.njit(cache=False)
    def dropped_shape(shape, mask):
        """shape without the masked axes."""
        dropped = np.empty(len(shape) - np.count_nonzero(mask), np.intp)
        k = 0
        for d in range(len(shape)):
            if not mask[d]:
                dropped[k] = shape[d]
                k += 1
        return dropped

    # -- zeros_like, unbroadcast, unsum, spread, tie_count ---------------------------

    @overload(runtime.zeros_like)
    def zeros_like(x):
        if absent(x) or is_number(x):
            return lambda x: 0.0
        if is_array(x):
            dtype = float_dtype(x)
            return lambda x: np.zeros(x.shape, dtype)
        return None

    @overload(runtime.unbroadcast)
    def unbroadcast(g, x):
        if is_number(g) and is_number(x):
            return lambda g, x: g
        if is_array(g) and is_number(x):
            return lambda g, x: np.sum(g)
        if not is_array(x) or x.ndim == 0:
            return None
        dtype = float_dtype(g)
        if is_number(g) or g.ndim < x.ndim:  # broadcast up: a copy of x's shape
            def up(g, x):
                out = np.empty(x.shape, dtype)
                out[...] = g
                return out
            return up
        if g.ndim == x.ndim:
            def same_rank(g, x):
                if g.shape == x.shape:
                    return g
                return accumulate(g, np.zeros(x.shape, dtype))
            return same_rank
        return lambda g, x: accumulate(g, np.zeros(x.shape, dtype))

    @overload(runtime.unsum)
    def unsum(dy, x, axis=None, keepdims=False):
        if is_number(x) and is_number(dy):
            return lambda dy, x, axis=None, keepdims=False: dy + 0.0
        if not is_array(x):
            return None
        dtype = float_dtype(dy)
        n = x.ndim
        if absent(axis) or is_number(dy) or flag(keepdims):
            def fill(dy, x, axis=None, keepdims=False):
                out = np.empty(x.shape, dtype)
                out[...] = dy
                return out
            return fill
        if axis_count(axis) is None:
            return None

        def spread_out(dy, x, axis=None, keepdims=False):
            out = np.empty(x.shape, dtype)
            if keepdims:
                out[...] = dy
            else:  # the reduced axes back, as size 1
                shape = kept_shape(x.shape, reduced_mask(axis, n))
                out[...] = np.ascontiguousarray(dy).reshape(to_fixed_tuple(shape, n))
            return out
        return spread_out

    @overload(runtime.spread, prefer_literal=True)
    def spread(dy, x, axis=None, keepdims=False):
        if absent(axis) or flag(keepdims) or is_number(x) or (is_array(x) and x.ndim == 0):
            return lambda dy, x, axis=None, keepdims=False: dy
        if not is_array(x) or axis_count(axis) is None or flag(keepdims) is None:
            return None
        n = x.ndim

        if is_number(dy):
            def number(dy, x, axis=None, keepdims=False):
                shape = kept_shape(x.shape, reduced_mask(axis, n))
                return np.full(to_fixed_tuple(np.ones_like(shape), n), dy)
            return number

        def expanded(dy, x, axis=None, keepdims=False):
            shape = kept_shape(x.shape, reduced_mask(axis, n))
            return np.ascontiguousarray(dy).reshape(to_fixed_tuple(shape, n))
        return expanded

    @overload(runtime.tie_count, prefer_literal=True)
    def tie_count(hit, a, axis=None, keepdims=False):
        dtype = float_dtype(a)
        if absent(axis) or not is_array(a) or a.ndim == 0:
            if not is_array(hit):
                return lambda hit, a, axis=None, keepdims=False: dtype(1.0 if hit else 0.0)
            return lambda hit, a, axis=None, keepdims=False: dtype(np.count_nonzero(hit))
        count, keep = axis_count(axis), flag(keepdims)
        if count is None or keep is None or not is_array(hit):
            return None
        n, m = a.ndim, a.ndim - count
        if keep:
            def kept(hit, a, axis=None, keepdims=False):
                shape = kept_shape(a.shape, reduced_mask(axis, n))
                return accumulate(hit, np.zeros(to_fixed_tuple(shape, n), dtype))
            return kept

        def dropped(hit, a, axis=None, keepdims=False):
            mask = reduced_mask(axis, n)
            shape = kept_shape(a.shape, mask)
            summed = accumulate(hit, np.zeros(to_fixed_tuple(shape, n), dtype))
            return summed.reshape(to_fixed_tuple(dropped_shape(a.shape, mask), m))
        return dropped

    # -- indexing --------------------------------------------------------------------

    @overload(runtime.unindex)
    def unindex(dy, x, index):
        if not is_array(x):
            return None
        dtype = float_dtype(dy)
        if isinstance(index, types.Integer):
            def at(dy, x, index):
                out = np.zeros(x.shape, dtype)
                out[index] += dy
                return out
            return at
        if is_array(index) and index.ndim == 1 and isinstance(index.dtype, types.Integer):
            def gathered(dy, x, index):  # repeated indices add up (np.add.at)
                out = np.zeros(x.shape, dtype)
                for k in range(index.shape[0]):
                    out[index[k]] += dy[k]
                return out
            return gathered
        return None

    @overload(runtime.add_at)
    def add_at(a, index, values):
        if not is_array(a):
            return None
        if isinstance(index, types.Integer):
            def one(a, index, values):
                a[index] += values
            return one
        if not (is_array(index) and index.ndim == 1 and isinstance(index.dtype, types.Integer)):
            return None
        if is_number(values):
            def each_number(a, index, values):
                for k in range(index.shape[0]):
                    a[index[k]] += values
            return each_number
        if is_array(values) and values.ndim == a.ndim:  # one value (or row) per index
            def each(a, index, values):
                for k in range(index.shape[0]):
                    a[index[k]] += values[k]
            return each
        return None

    # -- products (vectors and matrices; stacks have no implementation) --------------

    def ranks(a, b):
        if is_array(a) and is_array(b) and 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2:
            return a.ndim, b.ndim
        return None

    @overload(runtime.matmul_adjoint_a)
    def matmul_adjoint_a(dy, a, b):
        return _product_adjoint_a(ranks(a, b))

    @overload(runtime.matmul_adjoint_b)
    def matmul_adjoint_b(dy, a, b):
        return _product_adjoint_b(ranks(a, b))

    @overload(runtime.dot_adjoint_a)
    def dot_adjoint_a(dy, a, b):
        if is_number(a) or is_number(b):
            return lambda dy, a, b: runtime.unbroadcast(dy * b, a)
        return _product_adjoint_a(ranks(a, b))

    @overload(runtime.dot_adjoint_b)
    def dot_adjoint_b(dy, a, b):
        if is_number(a) or is_number(b):
            return lambda dy, a, b: runtime.unbroadcast(dy * a, b)
        return _product_adjoint_b(ranks(a, b))

    def _product_adjoint_a(known):
        """dA for y = a @ b by the operands' ranks (seed 001, §3.2: dA = dY·Bᵀ)."""
        if known == (1, 1):
            return lambda dy, a, b: dy * b
        if known == (2, 1):
            return lambda dy, a, b: np.outer(dy, b)
        if known == (1, 2):
            return lambda dy, a, b: b @ dy
        if known == (2, 2):
            return lambda dy, a, b: dy @ b.T
        return None

    def _product_adjoint_b(known):
        """dB for y = a @ b (dB = Aᵀ·dY)."""
        if known == (1, 1):
            return lambda dy, a, b: dy * a
        if known == (1, 2):
            return lambda dy, a, b: np.outer(a, dy)
        if known in ((2, 1), (2, 2)):
            return lambda dy, a, b: a.T @ dy
        return None

    # -- checks and small helpers ----------------------------------------------------

    @overload(runtime.require_scalar)
    def require_scalar(y):
        if is_number(y) or (is_array(y) and y.ndim == 0):
            return lambda y: None
        return None  # (a non-scalar output: the Python code raises the refusal)

    plain_sign = numba.njit(runtime.sign)  # (plain Python that Numba compiles as it is)

    @overload(runtime.sign)
    def sign(x):
        if is_number(x):
            return lambda x: plain_sign(x)
        return None

    @overload(runtime.add_where)
    def add_where(total, where, term):
        if is_array(total):
            def add(total, where, term):
                total += term * where
            return add
        return None
