"""The multivariate normal (its mean and covariance), the Dirichlet, the multinomial and
scipy.stats.entropy: full adjoint and tangent templates, their operands not elementwise."""
import numpy as np
from scipy import special, stats

from .. import adjoint, tangent
from ..template import known_rank


# -- multivariate: the normal in its mean and covariance, the Dirichlet ----------------

@adjoint(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_adjoint(dy, y, x, mean=None, cov=1, allow_singular=False):
    """With r = x - mean and alpha = S^-1 r for each point (the last axis of x), S the
    covariance SciPy reads: dx = -dy alpha, dmean = dy alpha, and the gradient over S,
    G = dy (alpha alpha^T - S^-1) / 2 summed over the points. SciPy reads a matrix's lower
    triangle (S = tril(cov) + tril(cov, -1).T): G lands on it, its off-diagonal entries
    counting twice (what central differences in cov see; in a symmetric parametrisation
    the same as the symmetric G). A vector cov is S's diagonal, a number S / I: their
    gradients are G's diagonal and trace."""
    require_shapes(np.ndim(x) > np.ndim(dy), "scipy.stats.multivariate_normal.logpdf of "
                                             "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    size = np.shape(r)[-1]
    matrix = np.tril(cov) + np.tril(cov, -1).T if known_rank(cov) == 2 else \
        np.diag(cov) if known_rank(cov) == 1 else cov * np.eye(size) \
        if known_rank(cov) == 0 else np.tril(cov) + np.tril(cov, -1).T \
        if np.ndim(cov) == 2 else np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(size)
    inverse = np.linalg.pinv(matrix) if allow_singular else np.linalg.inv(matrix)
    alpha = r @ inverse
    g = np.expand_dims(dy, -1) * alpha
    dx = -unbroadcast(g, x)
    dmean = unbroadcast(g, mean)
    dmatrix = 0.5 * (np.reshape(g, (-1, size)).T @ np.reshape(alpha, (-1, size)) -
                     np.sum(dy) * inverse)
    dcov = no_derivative("scipy.stats.multivariate_normal in cov with allow_singular=True") \
        if allow_singular else 2 * np.tril(dmatrix, -1) + np.triu(np.tril(dmatrix)) \
        if known_rank(cov) == 2 else np.diag(dmatrix) if known_rank(cov) == 1 else \
        np.trace(dmatrix) if known_rank(cov) == 0 else \
        2 * np.tril(dmatrix, -1) + np.triu(np.tril(dmatrix)) if np.ndim(cov) == 2 else \
        np.diag(dmatrix) if np.ndim(cov) == 1 else np.trace(dmatrix)
    return dx, dmean, dcov


@tangent(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_tangent(y, x, x_dot, mean=None, mean_dot=None, cov=1,
                                       cov_dot=None, allow_singular=False):
    require_shapes(np.ndim(x) > np.ndim(y), "scipy.stats.multivariate_normal.logpdf of "
                                            "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    r_dot = x_dot if mean is None else x_dot - mean_dot
    size = np.shape(r)[-1]
    matrix = np.tril(cov) + np.tril(cov, -1).T if np.ndim(cov) == 2 else np.diag(cov) \
        if np.ndim(cov) == 1 else cov * np.eye(size)
    matrix_dot = np.tril(cov_dot) + np.tril(cov_dot, -1).T if np.ndim(cov) == 2 else \
        np.diag(cov_dot) if np.ndim(cov) == 1 else cov_dot * np.eye(size)
    inverse = np.linalg.pinv(matrix) if allow_singular else np.linalg.inv(matrix)
    alpha = r @ inverse
    spread_dot = 0.5 * (np.sum((alpha @ matrix_dot) * alpha, axis=-1) -
                        np.sum(inverse * matrix_dot))
    y_dot = ((no_derivative("scipy.stats.multivariate_normal in cov with allow_singular=True")
              if np.any(matrix_dot != 0) else spread_dot) if allow_singular else spread_dot) - \
        np.sum(alpha * r_dot, axis=-1)
    return y_dot


@adjoint(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_adjoint(dy, y, mean=None, cov=1):
    """(d log(2 pi e) + log det S) / 2, S as logpdf reads it: G = dy S^-1 / 2 on the lower
    triangle of a matrix cov (off-diagonal entries twice); for a vector cov (a diagonal)
    dy / (2 cov); for a number, d times that. Flat in the mean."""
    dmean = np.zeros_like(mean)
    dmatrix = 0.5 * dy * np.linalg.inv(np.tril(cov) + np.tril(cov, -1).T) \
        if np.ndim(cov) == 2 else 0.0
    dcov = 2 * np.tril(dmatrix, -1) + np.triu(np.tril(dmatrix)) if np.ndim(cov) == 2 else \
        0.5 * dy / cov if np.ndim(cov) == 1 else 0.5 * dy * np.size(mean) / cov
    return dmean, dcov


@tangent(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_tangent(y, mean=None, mean_dot=None, cov=1, cov_dot=None):
    # (flat in the mean: mean_dot is not read)
    y_dot = 0.5 * np.sum(np.linalg.inv(np.tril(cov) + np.tril(cov, -1).T) *
                         (np.tril(cov_dot) + np.tril(cov_dot, -1).T)) \
        if np.ndim(cov) == 2 else 0.5 * np.sum(cov_dot / cov) if np.ndim(cov) == 1 else \
        0.5 * np.size(mean) * cov_dot / cov
    return y_dot


@adjoint(stats.multinomial.logpmf)
def multinomial_logpmf_adjoint(dy, y, x, n, p):
    """gammaln(n + 1) - sum gammaln(x + 1) + sum xlogy(x, p) over the categories (the
    last axis): dp = dy x / p (0 where x is 0, as xlogy is flat there). SciPy changes
    the last probability where p does not sum to 1: refused there."""
    require_shapes(np.all(np.abs(np.sum(p, axis=-1) - 1) < 1e-9),
                   "scipy.stats.multinomial.logpmf of p that does not sum to 1")
    dp = unbroadcast(np.expand_dims(dy, -1) * x / np.where(x == 0, 1.0, p), p)
    dx = no_derivative("scipy.stats.multinomial.logpmf in x (counts)")
    dn = no_derivative("scipy.stats.multinomial.logpmf in n (a count)")
    return dx, dn, dp


@tangent(stats.multinomial.logpmf)
def multinomial_logpmf_tangent(y, x, n, p, p_dot):
    require_shapes(np.all(np.abs(np.sum(p, axis=-1) - 1) < 1e-9),
                   "scipy.stats.multinomial.logpmf of p that does not sum to 1")
    y_dot = np.sum(x / np.where(x == 0, 1.0, p) * p_dot, axis=-1)
    return y_dot


@adjoint(stats.entropy)
def entropy_adjoint(dy, y, pk, qk=None, base=None, axis=0, nan_policy="propagate",
                    keepdims=False):
    """Of pk / sum(pk) (and qk / sum(qk)) along axis: the Shannon entropy S, whose
    derivative in pk is (-log p - S) / sum(pk); or the divergence D = sum p log(p / q),
    (log(p / q) - D) / sum(pk) in pk and (1 - p / q) / sum(qk) in qk; over log(base).
    (pk and qk broadcast together: each adjoint summed back to its operand's shape.)"""
    total = np.sum(pk, axis=axis, keepdims=True)
    p = pk / total
    unit = 1.0 if base is None else np.log(base)
    level = (y if keepdims else np.expand_dims(y, axis)) * unit
    seed = (dy if keepdims else np.expand_dims(dy, axis)) / unit
    dpk = seed * (-np.log(p) - level) / total if qk is None else unbroadcast(
        seed * (np.log(p * np.sum(qk, axis=axis, keepdims=True) / qk) - level) / total, pk)
    dqk = unbroadcast(seed * (1 - p * np.sum(qk, axis=axis, keepdims=True) / qk) /
                      np.sum(qk, axis=axis, keepdims=True), qk)
    return dpk, dqk


@tangent(stats.entropy)
def entropy_tangent(y, pk, pk_dot, qk=None, qk_dot=None, base=None, axis=0,
                    nan_policy="propagate", keepdims=False):
    total = np.sum(pk, axis=axis, keepdims=True)
    p = pk / total
    unit = 1.0 if base is None else np.log(base)
    level = (y if keepdims else np.expand_dims(y, axis)) * unit
    # (xlogy: a zero of pk that does not move adds nothing, not 0 * -inf)
    y_dot = np.sum((-special.xlogy(pk_dot, p) - level * pk_dot) / total, axis=axis,
                   keepdims=keepdims) / unit if qk is None else \
        np.sum((special.xlogy(pk_dot, p * np.sum(qk, axis=axis, keepdims=True) / qk) -
                level * pk_dot) / total + (1 - p * np.sum(qk, axis=axis, keepdims=True) / qk)
               / np.sum(qk, axis=axis, keepdims=True) * qk_dot, axis=axis,
               keepdims=keepdims) / unit
    return y_dot


@adjoint(stats.dirichlet.logpdf)
def dirichlet_logpdf_adjoint(dy, y, x, alpha):
    """logpdf = sum_i (alpha_i - 1) log x_i - sum_i gammaln(alpha_i) + gammaln(sum alpha)
    over the components, x's first axis (x is (K,) or (K, N), N points): dx is dy
    (alpha - 1) / x, the gradient a softmax or other parametrisation of the simplex
    projects. x given with K - 1 components (the last implied) is refused."""
    require_shapes(np.shape(x)[0] == np.shape(alpha)[0], "scipy.stats.dirichlet.logpdf "
                                                       "of x without its last component")
    dx = dy * np.transpose((alpha - 1) / np.transpose(x))
    dalpha = unbroadcast(np.transpose(dy * np.log(x)), alpha) + np.sum(dy) * (
        special.digamma(np.sum(alpha)) - special.digamma(alpha))
    return dx, dalpha


@tangent(stats.dirichlet.logpdf)
def dirichlet_logpdf_tangent(y, x, x_dot, alpha, alpha_dot):
    require_shapes(np.shape(x)[0] == np.shape(alpha)[0], "scipy.stats.dirichlet.logpdf "
                                                       "of x without its last component")
    y_dot = np.sum(np.transpose((alpha - 1) / np.transpose(x)) * x_dot, axis=0) + \
        alpha_dot @ np.log(x) + \
        np.sum((special.digamma(np.sum(alpha)) - special.digamma(alpha)) * alpha_dot)
    return y_dot


# -- their densities: pdf = exp(logpdf), so the adjoints above with the seed dy * y -------

@adjoint(stats.multivariate_normal.pdf)
def multivariate_normal_pdf_adjoint(dy, y, x, mean=None, cov=1, allow_singular=False):
    """As for logpdf, with the seed dy * y (pdf = exp(logpdf))."""
    require_shapes(np.ndim(x) > np.ndim(dy), "scipy.stats.multivariate_normal.pdf of "
                                             "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    size = np.shape(r)[-1]
    matrix = np.tril(cov) + np.tril(cov, -1).T if known_rank(cov) == 2 else \
        np.diag(cov) if known_rank(cov) == 1 else cov * np.eye(size) \
        if known_rank(cov) == 0 else np.tril(cov) + np.tril(cov, -1).T \
        if np.ndim(cov) == 2 else np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(size)
    inverse = np.linalg.pinv(matrix) if allow_singular else np.linalg.inv(matrix)
    alpha = r @ inverse
    w = dy * y
    g = np.expand_dims(w, -1) * alpha
    dx = -unbroadcast(g, x)
    dmean = unbroadcast(g, mean)
    dmatrix = 0.5 * (np.reshape(g, (-1, size)).T @ np.reshape(alpha, (-1, size)) -
                     np.sum(w) * inverse)
    dcov = no_derivative("scipy.stats.multivariate_normal in cov with allow_singular=True") \
        if allow_singular else 2 * np.tril(dmatrix, -1) + np.triu(np.tril(dmatrix)) \
        if known_rank(cov) == 2 else np.diag(dmatrix) if known_rank(cov) == 1 else \
        np.trace(dmatrix) if known_rank(cov) == 0 else \
        2 * np.tril(dmatrix, -1) + np.triu(np.tril(dmatrix)) if np.ndim(cov) == 2 else \
        np.diag(dmatrix) if np.ndim(cov) == 1 else np.trace(dmatrix)
    return dx, dmean, dcov


@tangent(stats.multivariate_normal.pdf)
def multivariate_normal_pdf_tangent(y, x, x_dot, mean=None, mean_dot=None, cov=1,
                                       cov_dot=None, allow_singular=False):
    require_shapes(np.ndim(x) > np.ndim(y), "scipy.stats.multivariate_normal.pdf of "
                                            "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    r_dot = x_dot if mean is None else x_dot - mean_dot
    size = np.shape(r)[-1]
    matrix = np.tril(cov) + np.tril(cov, -1).T if np.ndim(cov) == 2 else np.diag(cov) \
        if np.ndim(cov) == 1 else cov * np.eye(size)
    matrix_dot = np.tril(cov_dot) + np.tril(cov_dot, -1).T if np.ndim(cov) == 2 else \
        np.diag(cov_dot) if np.ndim(cov) == 1 else cov_dot * np.eye(size)
    inverse = np.linalg.pinv(matrix) if allow_singular else np.linalg.inv(matrix)
    alpha = r @ inverse
    spread_dot = 0.5 * (np.sum((alpha @ matrix_dot) * alpha, axis=-1) -
                        np.sum(inverse * matrix_dot))
    y_dot = y * (((no_derivative("scipy.stats.multivariate_normal in cov with "
                                 "allow_singular=True")
                   if np.any(matrix_dot != 0) else spread_dot) if allow_singular else
                  spread_dot) - np.sum(alpha * r_dot, axis=-1))
    return y_dot


@adjoint(stats.dirichlet.pdf)
def dirichlet_pdf_adjoint(dy, y, x, alpha):
    require_shapes(np.shape(x)[0] == np.shape(alpha)[0], "scipy.stats.dirichlet.pdf "
                                                       "of x without its last component")
    w = dy * y
    dx = w * np.transpose((alpha - 1) / np.transpose(x))
    dalpha = unbroadcast(np.transpose(w * np.log(x)), alpha) + np.sum(w) * (
        special.digamma(np.sum(alpha)) - special.digamma(alpha))
    return dx, dalpha


@tangent(stats.dirichlet.pdf)
def dirichlet_pdf_tangent(y, x, x_dot, alpha, alpha_dot):
    require_shapes(np.shape(x)[0] == np.shape(alpha)[0], "scipy.stats.dirichlet.pdf "
                                                       "of x without its last component")
    y_dot = y * (np.sum(np.transpose((alpha - 1) / np.transpose(x)) * x_dot, axis=0) +
                 alpha_dot @ np.log(x) +
                 np.sum((special.digamma(np.sum(alpha)) - special.digamma(alpha)) * alpha_dot))
    return y_dot
