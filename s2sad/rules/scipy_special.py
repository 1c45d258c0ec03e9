"""scipy.special's rules: the logistic family, the error functions and the normal
distribution's, xlogy and its kin, logsumexp (with weights b=), softmax and log_softmax,
the gamma and beta families, the incomplete gamma and beta functions in x, and the
Bessel functions.

Loaded only where SciPy is installed (see rules/_load_builtin_rules). A template reads
the function's own value `y` where that is the cheap form (expit' = y (1 - y)), and
calls other scipy.special functions (`special.digamma`) where the derivative is one:
each has a rule of its own, so the gradient can be differentiated again (hessian).
Orders and shape parameters (polygamma's n, iv's v, gammainc's a) are constants: a
call whose order depends on the inputs is refused when the gradient runs. Constants
are Python floats (math.sqrt(math.pi), / 2.0): a float32 input keeps a float32
gradient where SciPy keeps float32.
"""
import math

import numpy as np
from scipy import special

from . import adjoint, non_differentiable, partials, tangent
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
    # -x log x for x > 0; at 0 its slope is infinite (an underflowed probability times
    # that slope would be nan): refused there
    require_shapes(np.all(x != 0), "scipy.special.entr at 0, where its slope is infinite")
    return -np.log(x) - 1


@partials(special.xlogy)
def xlogy_partials(y, a, b):
    # a log(b): d/da log(b), at a == 0 too; d/db a / b (0 where a == 0, as xlogy is 0
    # there for every b)
    return np.log(b), a / np.where(a == 0, 1.0, b)


@partials(special.xlog1py)
def xlog1py_partials(y, a, b):
    return np.log1p(b), a / np.where(a == 0, 1.0, 1 + b)


@partials(special.rel_entr)
def rel_entr_partials(y, a, b):
    # a log(a / b) for a, b > 0 (0 where a == 0): log(a / b) + 1 and -a / b (0 where
    # a == 0, b == 0 too: an underflowed probability against a zero target)
    return np.log(a / b) + 1, -a / np.where(a == 0, 1.0, b)


# -- logsumexp, softmax and log_softmax ---------------------------------------------
# With b= (weights) logsumexp is log(sum(b exp(a))) over a and b broadcast together:
# exp(a - y) and the axes (a negative one counts in that shape) are those of `full`, a
# broadcast against b in the dtype logsumexp gives (b a list too). (Without b, `full` is
# a: the templates read a itself, so the generated code has no copy of it.) return_sign=
# is refused: the templates do not take it, so the call does not match.

@adjoint(special.logsumexp, shape=_reduction_shape)
def logsumexp_adjoint(dy, y, a, axis=None, b=None, keepdims=False):
    # d/da: the softmax of a along the axes, exp(a - y), times b; d/db: exp(a - y)
    full = None if b is None else a + 0.0 * b if np.ndim(b) == 0 else a + 0.0 * np.asarray(b)
    share = spread(dy, a, axis, keepdims) * np.exp(a - spread(y, a, axis, keepdims)) \
        if b is None else \
        spread(dy, full, axis, keepdims) * np.exp(full - spread(y, full, axis, keepdims))
    # (keepdims=True of a number: SciPy's result has shape (1,), its derivative ())
    da = (unbroadcast(share, a) if keepdims else share) if b is None else \
        unbroadcast(share * b, a)
    db = unbroadcast(share, b)
    return da, db


@tangent(special.logsumexp)
def logsumexp_tangent(y, a, a_dot, axis=None, b=None, b_dot=None, keepdims=False):
    full = None if b is None else a + 0.0 * b if np.ndim(b) == 0 else a + 0.0 * np.asarray(b)
    y_dot = np.sum(np.exp(a - spread(y, a, axis, keepdims)) * a_dot, axis=axis,
                   keepdims=keepdims) if b is None else \
        np.sum(np.exp(full - spread(y, full, axis, keepdims)) * (b * a_dot + b_dot),
               axis=axis, keepdims=keepdims)
    # (keepdims=True of a number: SciPy's result has shape (1,))
    return np.reshape(y_dot, np.shape(y)) if keepdims else y_dot


@adjoint(special.softmax, shape="unary")
def softmax_adjoint(dy, y, x, axis=None):
    # on each slice along the axes (all of them for None) the Jacobian is diag(y) - y y^T
    dx = y * (dy - np.sum(dy * y, axis=axis, keepdims=True))
    return dx


@tangent(special.softmax)
def softmax_tangent(y, x, x_dot, axis=None):
    return y * (x_dot - np.sum(x_dot * y, axis=axis, keepdims=True))


@adjoint(special.log_softmax, shape="unary")
def log_softmax_adjoint(dy, y, x, axis=None):
    # y = x - logsumexp(x): the Jacobian is I - softmax(x) 1^T, softmax(x) = exp(y)
    dx = dy - np.exp(y) * np.sum(dy, axis=axis, keepdims=True)
    return dx


@tangent(special.log_softmax)
def log_softmax_tangent(y, x, x_dot, axis=None):
    return x_dot - np.sum(np.exp(y) * x_dot, axis=axis, keepdims=True)


# -- the gamma family ------------------------------------------------------------------
# Orders and dimensions (polygamma's n, multigammaln's d) are constants: their partial is
# a refusal, emitted only where the argument depends on the inputs.

@partials(special.gamma)
def gamma_partials(y, x):
    return y * special.digamma(x)


@partials(special.rgamma)
def rgamma_partials(y, x):
    return -y * special.digamma(x)  # (1 / gamma)


@partials(special.gammaln, special.loggamma)
def gammaln_partials(y, x):
    return special.digamma(x)  # (log|gamma|; loggamma of a real x, where it is real)


@partials(special.digamma)
def digamma_partials(y, x):
    # trigamma, polygamma(1, x), as zeta(2, x), which keeps float32 (polygamma does not);
    # special.psi is special.digamma
    return special.zeta(2.0, x)


@partials(special.zeta)
def zeta_partials(y, x, q=None):
    # the Hurwitz zeta function, the sum over k of (k + q)^-x: d/dq = -x zeta(x + 1, q);
    # in x (and the Riemann zeta's, q None) there is no closed form
    return no_derivative("scipy.special.zeta with an x that depends on the inputs"), \
        -x * special.zeta(x + 1.0, q)


@partials(special.polygamma)
def polygamma_partials(y, n, x):
    return no_derivative("scipy.special.polygamma with an order n that depends on the inputs"), \
        special.polygamma(n + 1, x)


@partials(special.multigammaln)
def multigammaln_partials(y, a, d):
    # log Gamma_d(a) = const + sum over j < d of gammaln(a - j / 2)
    return np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1), \
        no_derivative(
            "scipy.special.multigammaln with a dimension d that depends on the inputs")


@partials(special.gammainc)
def gammainc_partials(y, a, x):
    # the regularized lower incomplete gamma function: d/dx = x^(a-1) exp(-x) / gamma(a);
    # its derivative in a has no closed form
    return no_derivative("scipy.special.gammainc with an a that depends on the inputs"), \
        np.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a))


@partials(special.gammaincc)
def gammaincc_partials(y, a, x):
    return no_derivative("scipy.special.gammaincc with an a that depends on the inputs"), \
        -np.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a))  # (1 - gammainc)


non_differentiable(special.gammasgn)  # (the sign of gamma: piecewise constant)


@partials(special.beta)
def beta_partials(y, a, b):
    both = special.digamma(a + b)
    return y * (special.digamma(a) - both), y * (special.digamma(b) - both)


@partials(special.betaln)
def betaln_partials(y, a, b):
    both = special.digamma(a + b)
    return special.digamma(a) - both, special.digamma(b) - both


@partials(special.betainc)
def betainc_partials(y, a, b, x):
    # the regularized incomplete beta function: d/dx = x^(a-1) (1-x)^(b-1) / beta(a, b)
    return no_derivative("scipy.special.betainc with an a that depends on the inputs"), \
        no_derivative("scipy.special.betainc with a b that depends on the inputs"), \
        x ** (a - 1.0) * (1.0 - x) ** (b - 1.0) / \
        special.beta(a, b).astype(np.result_type(y))  # (in betainc's dtype)


@partials(special.kl_div)
def kl_div_partials(y, a, b):
    # a log(a / b) - a + b for a, b > 0: log(a / b) and 1 - a / b (1 where a == 0)
    return np.log(a / b), 1 - a / np.where(a == 0, 1.0, b)


# -- Bessel functions ----------------------------------------------------------------
# Of the first kind (jv, iv) and second (yv), with the order v a constant: the
# recurrences J' = (J_(v-1) - J_(v+1)) / 2, I' = (I_(v-1) + I_(v+1)) / 2. The
# exponentially scaled ive = exp(-|x|) iv has the extra term -sign(x) ive.

@partials(special.i0)
def i0_partials(y, x):
    return special.i1(x)


@partials(special.i1)
def i1_partials(y, x):
    return (special.i0(x) + special.iv(2, x)) / 2.0


@partials(special.i0e)
def i0e_partials(y, x):
    return special.i1e(x) - np.sign(x) * y


@partials(special.i1e)
def i1e_partials(y, x):
    return (special.i0e(x) + special.ive(2, x)) / 2.0 - np.sign(x) * y


@partials(special.iv)
def iv_partials(y, v, x):
    return no_derivative("scipy.special.iv with an order v that depends on the inputs"), \
        (special.iv(v - 1, x) + special.iv(v + 1, x)) / 2.0


@partials(special.ive)
def ive_partials(y, v, x):
    return no_derivative("scipy.special.ive with an order v that depends on the inputs"), \
        (special.ive(v - 1, x) + special.ive(v + 1, x)) / 2.0 - np.sign(x) * y


@partials(special.jv)
def jv_partials(y, v, x):
    return no_derivative("scipy.special.jv with an order v that depends on the inputs"), \
        (special.jv(v - 1, x) - special.jv(v + 1, x)) / 2.0


@partials(special.yv)
def yv_partials(y, v, x):
    return no_derivative("scipy.special.yv with an order v that depends on the inputs"), \
        (special.yv(v - 1, x) - special.yv(v + 1, x)) / 2.0


@partials(special.yn)
def yn_partials(y, n, x):
    return no_derivative("scipy.special.yn with an order n that depends on the inputs"), \
        (special.yn(n - 1, x) - special.yn(n + 1, x)) / 2.0


@partials(special.j0)
def j0_partials(y, x):
    return -special.j1(x)


@partials(special.j1)
def j1_partials(y, x):
    return (special.j0(x) - special.jv(2, x)) / 2.0


@partials(special.y0)
def y0_partials(y, x):
    return -special.y1(x)


@partials(special.y1)
def y1_partials(y, x):
    return (special.y0(x) - special.yv(2, x)) / 2.0
