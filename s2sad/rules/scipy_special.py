"""scipy.special's elementwise functions whose derivatives NumPy can write: the logistic
family, the error functions and the normal distribution's, xlogy and its kin.

Loaded only where SciPy is installed (see rules/_load_builtin_rules). Each template
reads the function's own value `y` where that is the cheap form (expit' = y (1 - y)),
so the generated code needs nothing from SciPy beyond the function the user called.
Constants are Python floats (math.sqrt(math.pi)): a float32 input keeps a float32
gradient.
"""
import math

import numpy as np
from scipy import special

from . import adjoint, partials, tangent
from .reductions import _reduction_shape


@partials(special.expit)
def expit_partials(y, x):
    return y * (1 - y)


@partials(special.logit)
def logit_partials(y, x):
    return 1 / (x * (1 - x))


@partials(special.log_expit)
def log_expit_partials(y, x):
    return 1 - np.exp(y)  # (1 - expit(x), with expit(x) = exp(log_expit(x)))


@partials(special.erf)
def erf_partials(y, x):
    return 2 / math.sqrt(math.pi) * np.exp(-x * x)


@partials(special.erfc)
def erfc_partials(y, x):
    return -2 / math.sqrt(math.pi) * np.exp(-x * x)


@partials(special.erfcx)
def erfcx_partials(y, x):
    return 2 * x * y - 2 / math.sqrt(math.pi)  # (erfcx = exp(x^2) erfc(x))


@partials(special.erfinv)
def erfinv_partials(y, x):
    return math.sqrt(math.pi) / 2 * np.exp(y * y)


@partials(special.erfcinv)
def erfcinv_partials(y, x):
    return -math.sqrt(math.pi) / 2 * np.exp(y * y)


@partials(special.ndtr)
def ndtr_partials(y, x):
    return np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


@partials(special.log_ndtr)
def log_ndtr_partials(y, x):
    return np.exp(-x * x / 2 - y) / math.sqrt(2 * math.pi)  # (the pdf over ndtr = exp(y))


@partials(special.ndtri)
def ndtri_partials(y, x):
    return math.sqrt(2 * math.pi) * np.exp(y * y / 2)


@partials(special.entr)
def entr_partials(y, x):
    return -np.log(x) - 1  # (-x log x; x > 0)


@partials(special.xlogy)
def xlogy_partials(y, a, b):
    # d/da: log(b) (0 where a == 0 and b == 0, as xlogy is there); d/db: a / b
    return np.where(a == 0, 0.0, np.log(np.where(a == 0, 1.0, b))), \
        a / np.where(a == 0, 1.0, b)


@partials(special.xlog1py)
def xlog1py_partials(y, a, b):
    return np.where(a == 0, 0.0, np.log1p(np.where(a == 0, 0.0, b))), \
        a / np.where(a == 0, 1.0, 1 + b)


@partials(special.rel_entr)
def rel_entr_partials(y, a, b):
    # a log(a / b) for a, b > 0: log(a / b) + 1 and -a / b
    return np.log(a / b) + 1, -a / b


@adjoint(special.logsumexp, shape=_reduction_shape)
def logsumexp_adjoint(dy, y, a, axis=None, b=None, keepdims=False):
    # d logsumexp / d a: the softmax of a along the axes, exp(a - y); b= (weights) and
    # return_sign= are refused (the call does not match without them)
    da = spread(dy, a, axis, keepdims) * np.exp(a - spread(y, a, axis, keepdims)) \
        if b is None else no_derivative("scipy.special.logsumexp with b=")
    return da


@tangent(special.logsumexp)
def logsumexp_tangent(y, a, a_dot, axis=None, b=None, keepdims=False):
    y_dot = np.sum(np.exp(a - spread(y, a, axis, keepdims)) * a_dot, axis=axis,
                   keepdims=keepdims) if b is None else \
        no_derivative("scipy.special.logsumexp with b=")
    return y_dot


@partials(special.gammaln)
def gammaln_partials(y, x):
    return special.digamma(x)


@partials(special.digamma)
def digamma_partials(y, x):
    return special.polygamma(1, x)
