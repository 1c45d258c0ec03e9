"""Reductions over all axes or some (`axis`, `keepdims`): sum, mean, prod, max/min, var/std,
linalg.norm; and cumsum, cumprod and trace."""
import numpy as np

from .template import known_rank
from . import adjoint, tangent


def _reduction_shape(call):
    """A reduction with no axis argument (and no keepdims) returns a scalar."""
    reduces_all = len(call.args) <= 1 and not any(
        k.arg in ("axis", "keepdims") for k in call.keywords)
    return "scalar" if reduces_all else "other"


# The templates list NumPy's parameters in NumPy's order up to keepdims, dtype and out
# too, so that a positional argument binds where NumPy binds it (np.mean(a, 1,
# np.float64) passes dtype, not keepdims). dtype= and out= are refused: a reduction in
# another dtype (an int one truncates) or into a given array is not differentiated.
# (`x if out is None else ...` is decided when the template is inlined: the default
# call's code has no trace of it.)

@adjoint(np.sum, shape=_reduction_shape)
def sum_adjoint(dy, y, a, axis=None, dtype=None, out=None, keepdims=False):
    da = (unsum(dy, a, axis, keepdims) if out is None else no_derivative("np.sum with out=")) \
        if dtype is None else no_derivative("np.sum with dtype=")
    return da


@adjoint(np.mean, shape=_reduction_shape)
def mean_adjoint(dy, y, a, axis=None, dtype=None, out=None, keepdims=False):
    n = np.size(a) if axis is None else np.size(a) / np.size(y)
    da = (unsum(dy / n, a, axis, keepdims) if out is None else
          no_derivative("np.mean with out=")) if dtype is None else \
        no_derivative("np.mean with dtype=")
    return da


# -- products ------------------------------------------------------------------------

@adjoint(np.prod, shape=_reduction_shape)
def prod_adjoint(dy, y, a, axis=None, dtype=None, out=None, keepdims=False):
    # d prod / d a_i = prod / a_i: valid for inputs without zeros (a zero entry
    # divides by zero; its true derivative is the product of the other entries).
    require_shapes(np.all(a != 0), "np.prod of an array with a zero entry")
    da = (spread(dy * y, a, axis, keepdims) / a if out is None else
          no_derivative("np.prod with out=")) if dtype is None else \
        no_derivative("np.prod with dtype=")
    return da


# -- max and min ---------------------------------------------------------------------

@adjoint(np.max, np.amax, np.min, np.amin, shape=_reduction_shape)
def extremum_adjoint(dy, y, a, axis=None, out=None, keepdims=False):
    # The gradient goes to the arg-max (arg-min). With ties, every entry equal to the
    # extremum gets an equal share: dy / (number of tied entries), so the shares add up
    # to dy (the convention of PyTorch's amax and TensorFlow's reduce_max; a subgradient).
    hit = a == spread(y, a, axis, keepdims)
    count = tie_count(hit, a, axis, keepdims)
    da = spread(dy / count, a, axis, keepdims) * hit if out is None else \
        no_derivative("np.max or np.min with out=")
    return da


# -- variance and standard deviation ------------------------------------------------

@adjoint(np.var, shape=_reduction_shape)
def var_adjoint(dy, y, a, axis=None, dtype=None, out=None, ddof=None, keepdims=False):
    # y = sum((a - mean)**2) / (n - ddof); the mean's own derivative sums to zero.
    n = np.size(a) if axis is None else np.size(a) / np.size(y)
    centred = a - np.mean(a, axis=axis, keepdims=True)
    # (ddof None: not given, NumPy's 0; n - ddof is checked where it is given)
    da = (spread(dy, a, axis, keepdims) *
          (2 / (n if ddof is None else degrees_of_freedom(n, ddof))) * centred
          if out is None else no_derivative("np.var with out=")) if dtype is None else \
        no_derivative("np.var with dtype=")
    # (emitted only where ddof depends on the inputs: a constant has no adjoint)
    dddof = np.sum(dy * y) / degrees_of_freedom(n, ddof)
    return da, dddof


@adjoint(np.std, shape=_reduction_shape)
def std_adjoint(dy, y, a, axis=None, dtype=None, out=None, ddof=None, keepdims=False):
    # y = sqrt(var): d y = d var / (2 y). Where y is 0 (one entry, or all equal) std
    # is |x|-like: the derivative 0, which central differences see (dy / inf = 0).
    n = np.size(a) if axis is None else np.size(a) / np.size(y)
    centred = a - np.mean(a, axis=axis, keepdims=True)
    da = (spread(dy / np.where(y == 0, np.inf, y), a, axis, keepdims) *
          (1 / (n if ddof is None else degrees_of_freedom(n, ddof))) * centred
          if out is None else no_derivative("np.std with out=")) if dtype is None else \
        no_derivative("np.std with dtype=")
    dddof = np.sum(dy * y) / (2 * degrees_of_freedom(n, ddof))
    return da, dddof


# -- cumulative sums and products --------------------------------------------------
# With axis=None NumPy works on the flattened array (y is 1-d), so the reversed
# cumulative sum runs over dy flattened and goes back to the shape of a; with an int
# axis it runs along that axis and the reshape changes nothing.

@adjoint(np.cumsum, linear="a")
def cumsum_adjoint(dy, y, a, axis=None):
    # da_k = sum over i >= k of dy_i: a cumulative sum from the end.
    da = np.reshape(np.flip(np.cumsum(np.flip(dy, axis), axis), axis), np.shape(a))
    return da


@adjoint(np.cumprod)
def cumprod_adjoint(dy, y, a, axis=None):
    # da_k = sum over i >= k of dy_i * y_i / a_k: valid for inputs without zeros.
    require_shapes(np.all(a != 0), "np.cumprod of an array with a zero entry")
    da = np.reshape(np.flip(np.cumsum(np.flip(dy * y, axis), axis), axis), np.shape(a)) / a
    return da


# -- norm and trace ------------------------------------------------------------------

@adjoint(np.linalg.norm, shape=_reduction_shape)
def norm_adjoint(dy, y, x, ord=None, axis=None, keepdims=False):
    # the 2-norm (of the flattened array, or along axis): dx = dy * x / y, 0 at x = 0
    # (|x|-like there, as central differences see it); other orders go to a runtime
    # helper, which refuses the ones it has no rule for. (x may be a list: the norm of
    # [a, b] is that of np.asarray([a, b]), whose rule sends dy[i] to each element)
    dx = spread(dy / np.where(y == 0, np.inf, y), x, axis, keepdims) * np.asarray(x) \
        if ord is None \
        else norm_adjoint_p(dy, y, x, ord, axis, keepdims)
    # (emitted only where ord depends on the inputs, which is refused)
    dord = no_derivative("np.linalg.norm with an ord that depends on the inputs")
    return dx, dord


@adjoint(np.trace, linear="a")
def trace_adjoint(dy, y, a, offset=0, axis1=0, axis2=1):
    # dy on the offset diagonal of the axes axis1 and axis2 (a matrix's: dy times an eye;
    # a stack's: each dy along its diagonal, np.diagonal's adjoint)
    # (a matrix's first axis first: axis2 is its other one)
    da = (dy * np.eye(np.shape(a)[0], np.shape(a)[1], offset, dtype=np.result_type(a, dy))
          if axis1 == 0 else
          undiagonal(np.broadcast_to(np.expand_dims(dy, -1), np.shape(
              np.diagonal(a, offset, axis1, axis2))), a, offset, axis1, axis2)) \
        if known_rank(a) == 2 else \
        undiagonal(np.broadcast_to(np.expand_dims(dy, -1), np.shape(
            np.diagonal(a, offset, axis1, axis2))), a, offset, axis1, axis2)
    return da


# -- tangents (forward mode) of the reductions -----------------------------------------
# (cumsum and trace are linear: their tangent is the function of a_dot; sum and mean
# are too, but their templates refuse dtype= and out=, as the adjoints do)

@tangent(np.sum)
def sum_tangent(y, a, a_dot, axis=None, dtype=None, out=None, keepdims=False):
    return (np.sum(a_dot, axis=axis, keepdims=keepdims) if out is None else
            no_derivative("np.sum with out=")) if dtype is None else \
        no_derivative("np.sum with dtype=")


@tangent(np.mean)
def mean_tangent(y, a, a_dot, axis=None, dtype=None, out=None, keepdims=False):
    return (np.mean(a_dot, axis=axis, keepdims=keepdims) if out is None else
            no_derivative("np.mean with out=")) if dtype is None else \
        no_derivative("np.mean with dtype=")


@tangent(np.prod)
def prod_tangent(y, a, a_dot, axis=None, dtype=None, out=None, keepdims=False):
    # sum of y / a_i * a_i_dot: inputs without zeros, as for the adjoint
    require_shapes(np.all(a != 0), "np.prod of an array with a zero entry")
    y_dot = (np.sum(spread(y, a, axis, keepdims) / a * a_dot, axis=axis, keepdims=keepdims)
             if out is None else no_derivative("np.prod with out=")) if dtype is None else \
        no_derivative("np.prod with dtype=")
    return y_dot


@tangent(np.max, np.amax, np.min, np.amin)
def extremum_tangent(y, a, a_dot, axis=None, out=None, keepdims=False):
    # the mean of a_dot over the entries equal to the extremum (the adjoint's tie rule)
    hit = a == spread(y, a, axis, keepdims)
    y_dot = np.sum(hit * a_dot, axis=axis, keepdims=keepdims) / \
        np.sum(hit, axis=axis, keepdims=keepdims, dtype=np.result_type(a_dot)) \
        if out is None else no_derivative("np.max or np.min with out=")
    return y_dot


@tangent(np.var)
def var_tangent(y, a, a_dot, axis=None, dtype=None, out=None, ddof=None, keepdims=False):
    n = np.size(a) if axis is None else np.size(a) / np.size(y)
    centred = a - np.mean(a, axis=axis, keepdims=True)
    y_dot = (np.sum(centred * a_dot, axis=axis, keepdims=keepdims) *
             (2 / (n if ddof is None else degrees_of_freedom(n, ddof)))
             if out is None else no_derivative("np.var with out=")) if dtype is None else \
        no_derivative("np.var with dtype=")
    return y_dot


@tangent(np.std)
def std_tangent(y, a, a_dot, axis=None, dtype=None, out=None, ddof=None, keepdims=False):
    # 0 where y is 0, as for the adjoint
    n = np.size(a) if axis is None else np.size(a) / np.size(y)
    centred = a - np.mean(a, axis=axis, keepdims=True)
    y_dot = (np.sum(centred * a_dot, axis=axis, keepdims=keepdims) /
             ((n if ddof is None else degrees_of_freedom(n, ddof)) *
              np.where(y == 0, np.inf, y))
             if out is None else
             no_derivative("np.std with out=")) if dtype is None else \
        no_derivative("np.std with dtype=")
    return y_dot


@tangent(np.cumprod)
def cumprod_tangent(y, a, a_dot, axis=None):
    # y_k = prod_(i <= k) a_i: y_k_dot = y_k * sum_(i <= k) a_i_dot / a_i (no zeros)
    require_shapes(np.all(a != 0), "np.cumprod of an array with a zero entry")
    y_dot = y * np.cumsum(a_dot / a, axis)
    return y_dot


@tangent(np.linalg.norm)
def norm_tangent(y, x, x_dot, ord=None, axis=None, keepdims=False):
    y_dot = np.sum(np.asarray(x) * np.asarray(x_dot), axis=axis, keepdims=keepdims) / \
        np.where(y == 0, np.inf, y) \
        if ord is None else norm_tangent_p(y, x, x_dot, ord, axis, keepdims)
    return y_dot
