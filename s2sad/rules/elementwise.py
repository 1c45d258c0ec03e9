"""NumPy elementwise functions (ufuncs): partial derivatives, broadcast-exact."""
import numpy as np

from .. import patterns
from . import adjoint, partials


@partials(np.sin)
def sin_partials(y, x):
    return np.cos(x)


@partials(np.cos)
def cos_partials(y, x):
    return -np.sin(x)


@partials(np.tan)
def tan_partials(y, x):
    return 1 + y * y


@partials(np.exp)
def exp_partials(y, x):
    return y


@partials(np.exp2)
def exp2_partials(y, x):
    return y * np.log(2)


@partials(np.expm1)
def expm1_partials(y, x):
    return y + 1


@partials(np.log)
def log_partials(y, x):
    return 1 / x


@partials(np.log2)
def log2_partials(y, x):
    return 1 / (x * np.log(2))


@partials(np.log10)
def log10_partials(y, x):
    return 1 / (x * np.log(10))


@partials(np.log1p)
def log1p_partials(y, x):
    return 1 / (1 + x)


@partials(np.sqrt)
def sqrt_partials(y, x):
    return 0.5 / y


@partials(np.cbrt)
def cbrt_partials(y, x):
    return 1 / (3 * y * y)


@partials(np.square)
def square_partials(y, x):
    return 2 * x


@partials(np.reciprocal)
def reciprocal_partials(y, x):
    return -y * y


@partials(np.tanh)
def tanh_partials(y, x):
    return 1 - y * y


@partials(np.sinh)
def sinh_partials(y, x):
    return np.cosh(x)


@partials(np.cosh)
def cosh_partials(y, x):
    return np.sinh(x)


@partials(np.arcsin)
def arcsin_partials(y, x):
    return 1 / np.sqrt(1 - x * x)


@partials(np.arccos)
def arccos_partials(y, x):
    return -1 / np.sqrt(1 - x * x)


@partials(np.arctan)
def arctan_partials(y, x):
    return 1 / (1 + x * x)


@partials(np.arcsinh)
def arcsinh_partials(y, x):
    return 1 / np.sqrt(x * x + 1)


@partials(np.arccosh)
def arccosh_partials(y, x):
    return 1 / np.sqrt(x * x - 1)


@partials(np.arctanh)
def arctanh_partials(y, x):
    return 1 / (1 - x * x)


@partials(np.arctan2)
def arctan2_partials(y, a, b):
    return b / (a * a + b * b), -a / (a * a + b * b)


@partials(np.hypot)
def hypot_partials(y, a, b):
    # 0 at (0, 0), as for math.hypot (not nan)
    return a / np.where(y == 0, 1, y), b / np.where(y == 0, 1, y)


@partials(np.add)
def np_add_partials(y, a, b):
    return 1, 1


@partials(np.subtract)
def np_subtract_partials(y, a, b):
    return 1, -1


@partials(np.multiply)
def np_multiply_partials(y, a, b):
    return b, a


@partials(np.divide, np.true_divide)
def np_divide_partials(y, a, b):
    return 1 / b, -y / b


@partials(np.logaddexp)
def logaddexp_partials(y, a, b):
    return np.exp(a - y), np.exp(b - y)


@partials(np.deg2rad, np.radians)
def deg2rad_partials(y, x):
    return np.pi / 180


@partials(np.rad2deg, np.degrees)
def rad2deg_partials(y, x):
    return 180 / np.pi


@partials(np.logaddexp2)
def logaddexp2_partials(y, a, b):
    return np.exp2(a - y), np.exp2(b - y)


@partials(np.sinc)
def sinc_partials(y, x):
    # sinc(x) = sin(pi x) / (pi x): (cos(pi x) - sinc(x)) / x, and 0 at x = 0
    return np.where(x == 0, 0.0, (np.cos(np.pi * x) - y) / np.where(x == 0, 1.0, x))


# Real inputs: these return their argument (np.real_if_close, np.conj) or, where it is
# finite, leave it unchanged (np.nan_to_num). s2sad differentiates real arrays only.
@partials(np.conjugate, np.real, np.real_if_close)
def identity_partials(y, x):
    return 1


@partials(np.nan_to_num)
def nan_to_num_partials(y, x):
    return np.isfinite(x)


@partials(np.float_power)
def float_power_partials(y, x, p):
    # np.power's, computed in float64 as np.float_power is (0 ** 0 and 0 ** p as there)
    return p * np.float_power(x, np.where(p, p - 1, 1.0)), \
        y * np.log(np.where(x, x, 1.0))


@partials(np.heaviside)
def heaviside_partials(y, x1, x2):
    # a step in x1 (no slope away from 0); x2 is the value where x1 == 0
    return None, x1 == 0


@partials(np.copysign)
def copysign_partials(y, x1, x2):
    # |x1| with x2's sign: the slope is +-1 (away from x1 == 0), none in x2; a product's
    # sign is the product of the signs (signed zeros too), in the operands' own dtype
    return np.copysign(1.0, x1 * x2), None


# -- forms written over several lines (patterns.py recognises them in the primal) ----------

@partials(patterns.sigmoid)
def sigmoid_partials(y, z):
    """1 / (1 + exp(-z)) and its spellings: s * (1 - s), from the value already computed."""
    return y * (1 - y)


@partials(patterns.log_sigmoid)
def log_sigmoid_partials(y, z, s):
    """log(s), s = sigmoid(z): 1 - s (the chain's 1 / s * s * (1 - s), no division)."""
    return 1 - s, None


@partials(patterns.log_one_minus_sigmoid)
def log_one_minus_sigmoid_partials(y, z, s):
    """log(1 - s), s = sigmoid(z): -s."""
    return -s, None


@adjoint(patterns.softmax)
def softmax_adjoint(dy, y, x, axis=None):
    """p = exp(x - m) / sum(exp(x - m)): dx = p * (dp - sum(dp * p)) along the axis. The
    shift m (constant along it) cancels in p: its adjoint is exactly zero, not computed."""
    dx = y * (dy - np.sum(dy * y, axis=axis, keepdims=True))
    return dx


@adjoint(patterns.log_softmax)
def log_softmax_adjoint(dy, y, x, e, c, axis=None):
    """l = (x - m) - log(c), c = sum(e), e = exp(x - m): dx = dl - (e / c) * sum(dl),
    the softmax e / c from the primal's own e and c; the shift cancels."""
    dx = dy - e * (np.sum(dy, axis=axis, keepdims=True) / c)  # (one product of e's size)
    return dx


@adjoint(patterns.logsumexp)
def logsumexp_adjoint(dy, y, x, e, c, axis=None):
    """y = m + log(c), c = sum(e), e = exp(x - m): dx = dy * e / c (the softmax);
    the shift m cancels, so the max's adjoint is not run."""
    dx = e * (dy / c)
    return dx


@partials(patterns.ones_times)
def ones_times_partials(y, x, ones):
    """x * np.ones_like(...): dy itself for x (reduced to x's shape where the ones are
    bigger), not dy times an array of ones."""
    return 1, None
