"""Python operators (keyed by the `operator` module), `math` and scalar builtins."""
import builtins
import math
import operator

import numpy as np

from . import adjoint, partials


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


@partials(math.hypot, shape="scalar")
def math_hypot_partials(y, a, b):
    # at (0, 0) hypot is |.|-like: 0, as central differences see it (and np.sign(0) for
    # abs), not a ZeroDivisionError
    return a / (y if y != 0 else 1.0), b / (y if y != 0 else 1.0)


@partials(math.erf, shape="scalar")
def math_erf_partials(y, x):
    return 2 / math.sqrt(math.pi) * math.exp(-x * x)
