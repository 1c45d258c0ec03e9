"""Python operators (keyed by the `operator` module), `math` and scalar builtins."""
import builtins
import math
import operator

import numpy as np

from . import adjoint, partials, tangent


@partials(operator.add)
def add_partials(y, a, b):
    return 1, 1


@partials(operator.sub)
def sub_partials(y, a, b):
    return 1, -1


@partials(operator.mul)
def mul_partials(y, a, b):
    return b, a


@partials(operator.truediv)
def truediv_partials(y, a, b):
    return 1 / b, -y / b


@partials(operator.pow, builtins.pow, np.power, math.pow)
def pow_partials(y, x, p):
    # at x == 0: d(x ** 0)/dx is 0 (not 0 * 0 ** -1) and d(0 ** p)/dp is 0
    return p * x ** np.where(p, p - 1, 1.0), y * np.log(np.where(x, x, 1.0))


@partials(operator.mod, np.mod, np.remainder)
def mod_partials(y, a, b):
    return 1, -np.floor_divide(a, b)


@partials(math.fmod, np.fmod)
def fmod_partials(y, a, b):
    # fmod rounds the quotient toward zero, % rounds it down
    return 1, -np.trunc(a / b)


@partials(operator.neg, np.negative)
def neg_partials(y, x):
    return -1


@partials(operator.pos, np.positive, builtins.float, np.float64)
def pos_partials(y, x):
    return 1


@partials(builtins.abs, np.abs, np.absolute, np.fabs, math.fabs)
def abs_partials(y, x):
    return np.sign(x)


@partials(builtins.max, np.maximum, np.fmax)
def max_partials(y, a, b):
    return a >= b, a < b


@partials(builtins.min, np.minimum, np.fmin)
def min_partials(y, a, b):
    return a <= b, a > b


# -- math: scalar in, scalar out -----------------------------------------------

@partials(math.sin, shape="scalar")
def math_sin_partials(y, x):
    return math.cos(x)


@partials(math.cos, shape="scalar")
def math_cos_partials(y, x):
    return -math.sin(x)


@partials(math.tan, shape="scalar")
def math_tan_partials(y, x):
    return 1 + y * y


@partials(math.exp, shape="scalar")
def math_exp_partials(y, x):
    return y


@partials(math.expm1, shape="scalar")
def math_expm1_partials(y, x):
    return y + 1


@partials(math.log, elementwise=False, shape="scalar")
def math_log_partials(y, x, base=None):
    return (1 / x if base is None else 1 / (x * math.log(base)),
            None if base is None else -y / (base * math.log(base)))


@partials(math.log2, shape="scalar")
def math_log2_partials(y, x):
    return 1 / (x * math.log(2))


@partials(math.log10, shape="scalar")
def math_log10_partials(y, x):
    return 1 / (x * math.log(10))


@partials(math.log1p, shape="scalar")
def math_log1p_partials(y, x):
    return 1 / (1 + x)


# Where math's derivative is infinite but the function is not (sqrt at 0, asin at 1),
# the partial is NumPy's inf (np.sqrt's rule gives it), not Python's ZeroDivisionError.

@partials(math.sqrt, shape="scalar")
def math_sqrt_partials(y, x):
    return 0.5 / y if y != 0 else math.inf


@partials(math.tanh, shape="scalar")
def math_tanh_partials(y, x):
    return 1 - y * y


@partials(math.sinh, shape="scalar")
def math_sinh_partials(y, x):
    return math.cosh(x)


@partials(math.cosh, shape="scalar")
def math_cosh_partials(y, x):
    return math.sinh(x)


@partials(math.asin, shape="scalar")
def math_asin_partials(y, x):
    return 1 / math.sqrt(1 - x * x) if x * x != 1 else math.inf


@partials(math.acos, shape="scalar")
def math_acos_partials(y, x):
    return -1 / math.sqrt(1 - x * x) if x * x != 1 else -math.inf


@partials(math.atan, shape="scalar")
def math_atan_partials(y, x):
    return 1 / (1 + x * x)


@partials(math.asinh, shape="scalar")
def math_asinh_partials(y, x):
    return 1 / math.sqrt(x * x + 1)


@partials(math.acosh, shape="scalar")
def math_acosh_partials(y, x):
    return 1 / math.sqrt(x * x - 1) if x * x != 1 else math.inf


@partials(math.atanh, shape="scalar")
def math_atanh_partials(y, x):
    return 1 / (1 - x * x)


@partials(math.atan2, shape="scalar")
def math_atan2_partials(y, a, b):
    # at (0, 0) atan2 jumps: NumPy's nan (np.arctan2's rule gives it), not an exception
    return (b / (a * a + b * b) if a * a + b * b != 0 else math.nan,
            -a / (a * a + b * b) if a * a + b * b != 0 else math.nan)


@adjoint(math.hypot, shape="scalar")
def math_hypot_adjoint(dy, y, *coordinates, position=None):
    """hypot(*coordinates) = sqrt(sum of squares): each coordinate's share is c / y. At
    the origin hypot is |.|-like: 0, as central differences see it (and np.sign(0) for
    abs), not a ZeroDivisionError."""
    dcoordinates = dy * coordinates[position] / (y if y != 0 else 1.0)
    return dcoordinates


@tangent(math.hypot)
def math_hypot_tangent(y, *coordinates, coordinates_dot=()):
    y_dot = float(np.dot(np.array(coordinates), np.array(coordinates_dot))) / \
        (y if y != 0 else 1.0)
    return y_dot


@adjoint(math.dist, shape="scalar")
def math_dist_adjoint(dy, y, p, q):
    """dist(p, q) = |p - q| over two sequences (or 1-d arrays) of one length: p gets
    dy * (p - q) / y, q its negative; element i of a list gets entry i. 0 where p == q."""
    share = dy * (np.array(p) - np.array(q)) / (y if y != 0 else 1.0)
    dp = share
    dq = -share
    return dp, dq


@tangent(math.dist)
def math_dist_tangent(y, p, q, p_dot, q_dot):
    y_dot = float(np.dot(np.array(p) - np.array(q), np.array(p_dot) - np.array(q_dot))) / \
        (y if y != 0 else 1.0)
    return y_dot


@partials(math.erf, shape="scalar")
def math_erf_partials(y, x):
    return 2 / math.sqrt(math.pi) * math.exp(-x * x)


@partials(math.erfc, shape="scalar")
def math_erfc_partials(y, x):
    return -2 / math.sqrt(math.pi) * math.exp(-x * x)


@partials(math.copysign, shape="scalar")
def math_copysign_partials(y, a, b):
    # |a| with b's sign: the slope is +-1 (away from a == 0), none in b
    return math.copysign(1.0, a) * math.copysign(1.0, b), None


@partials(math.remainder, shape="scalar")
def math_remainder_partials(y, a, b):
    # y = a - n * b, n = a / b rounded half to even (away from the jumps): n read back
    # from y exactly, as an integer
    return 1, -round((a - y) / b)


# (divmod's own parameter names are x and y, and y is the template's output: the
# templates name them a and b, which bind by position, as divmod takes them)
@adjoint(builtins.divmod, np.divmod, shape="pieces", check=False)
def divmod_adjoint(dy, y, a, b):
    """(q, r) = divmod(a, b), q = a // b piecewise constant, r = a - q * b: only r's
    adjoint dy[1] flows back (the user indexes or unpacks the pair)."""
    da = unbroadcast(dy[1], a)
    db = unbroadcast(-np.floor_divide(a, b) * dy[1], b)
    return da, db


@tangent(builtins.divmod, np.divmod, check=False)
def divmod_tangent(y, a, b, a_dot, b_dot):
    y_dot = (zeros_like(y[0]), broadcast_like(a_dot - np.floor_divide(a, b) * b_dot, y[1]))
    return y_dot


@partials(math.radians, shape="scalar")
def math_radians_partials(y, x):
    return math.pi / 180


@partials(math.degrees, shape="scalar")
def math_degrees_partials(y, x):
    return 180 / math.pi
