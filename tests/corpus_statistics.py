"""A held-out style corpus of statistical and scientific programs (issue 18).

Written as statisticians and scientists write them, without looking at s2sad's rules:
likelihoods in location and log-scale, GLMs, mixtures, Gaussian-process marginal
likelihoods, option prices and greeks, filters, survival and Markov-chain models, spelled
with every import habit (`from scipy import stats`, `import scipy.stats as st`,
`from scipy.stats import norm`, `scipy.special.gammaln`, `import scipy.linalg as sla`, ...),
loops over data, dict and list parameters, and helper functions.

`CASES` lists each program with its inputs, the arguments differentiated and whether its
Hessian is checked (small inputs only). tests/test_corpus_statistics.py judges them.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Tuple

import numpy as np
import scipy
import scipy.linalg
import scipy.linalg as sla
import scipy.special
import scipy.special as sp
import scipy.stats as st
from numpy.linalg import slogdet
from scipy import linalg, special, stats
from scipy.linalg import cho_factor, cho_solve, expm, solve_triangular, sqrtm
from scipy.special import (betaln, digamma, entr, erf, expit, gammaln, i0e, kl_div,
                           log_expit, log_ndtr, log_softmax, logsumexp, multigammaln,
                           ndtr, ndtri, rel_entr, softmax, xlog1py, xlogy)
from scipy.stats import multivariate_normal, norm

LOG_2PI = np.log(2 * np.pi)


@dataclass
class Case:
    fn: Callable
    args: Tuple[Any, ...]
    wrt: Tuple[int, ...]
    hessian: bool = False

    @property
    def name(self) -> str:
        fn = self.fn.func if isinstance(self.fn, functools.partial) else self.fn
        return fn.__qualname__.replace(".", "_")


CASES = []


def case(*args, wrt=(0,), hessian=False, **keywords):
    """Register the decorated program with its inputs (keywords are passed by name to a
    copy bound with functools.partial: the program is still the user's function)."""
    def register(fn):
        target = functools.partial(fn, **keywords) if keywords else fn
        CASES.append(Case(target, tuple(args), tuple(wrt), hessian))
        return fn
    return register


# -- data ----------------------------------------------------------------------------------

_rng = np.random.default_rng(18)
N_OBS = 8
X_DESIGN = np.column_stack([np.ones(N_OBS), _rng.normal(size=(N_OBS, 2))])   # (8, 3)
BETA0 = np.array([0.3, -0.4, 0.25])
Y_REAL = _rng.normal(0.5, 1.3, size=N_OBS)
Y_BINARY = (_rng.uniform(size=N_OBS) < expit(X_DESIGN @ BETA0)).astype(float)
COUNTS = _rng.poisson(np.exp(X_DESIGN @ BETA0)).astype(float)
Y_POSITIVE = _rng.gamma(2.0, 1.5, size=N_OBS)
Y_UNIT = _rng.beta(2.0, 3.0, size=N_OBS)
LABELS = np.array([0, 2, 1, 1, 0, 2, 2, 1])
ONE_HOT = np.eye(3)[LABELS]
X_GP = np.linspace(-1.0, 1.0, 6)[:, None] + 0.1 * _rng.normal(size=(6, 1))
X_GP2 = _rng.normal(size=(6, 2))
Y_GP = np.sin(3.0 * X_GP[:, 0]) + 0.1 * _rng.normal(size=6)
MIX_X = np.concatenate([_rng.normal(-1.0, 0.5, 5), _rng.normal(1.5, 0.7, 5)])
MIX_X2 = np.vstack([_rng.normal([-1.0, 0.0], 0.5, (4, 2)), _rng.normal([1.0, 1.0], 0.6, (4, 2))])
ANGLES = np.array([0.3, 0.6, -0.2, 0.9, 0.45, 0.1])
TIMES = np.array([0.8, 1.7, 0.4, 2.6, 1.1, 3.0, 0.9])
OBSERVED = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
SERIES = np.array([0.2, 0.5, 0.1, -0.3, -0.2, 0.4, 0.7, 0.3])
DM_COUNTS = np.array([[3.0, 1.0, 4.0], [2.0, 2.0, 1.0], [0.0, 5.0, 2.0]])
SIMPLEX_ROWS = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5]])
TRANSITION_COUNTS = np.array([[5.0, 2.0, 1.0], [1.0, 6.0, 2.0], [2.0, 1.0, 4.0]])
TRACK = np.array([[0.1], [0.9], [2.2], [2.8], [4.1]])
TRIALS = np.array([5.0, 8.0, 6.0, 7.0, 5.0, 9.0, 4.0, 6.0])
SUCCESSES = np.array([2.0, 5.0, 3.0, 4.0, 1.0, 6.0, 2.0, 3.0])
ORDINAL = np.array([0, 1, 2, 2, 1, 0, 1, 2])
TRUNC_LOW = 0.0


# -- Gaussian, Student-t, Laplace, Cauchy, logistic likelihoods --------------------------------

@case(0.4, -0.1, Y_REAL, wrt=(0, 1), hessian=True)
def gaussian_nll_stats(mu, log_sigma, y):
    return -np.sum(stats.norm.logpdf(y, mu, np.exp(log_sigma)))


@case(0.4, -0.1, Y_REAL, wrt=(0, 1), hessian=True)
def gaussian_nll_by_hand(mu, log_sigma, y):
    sigma = np.exp(log_sigma)
    n = len(y)
    return 0.5 * n * LOG_2PI + n * log_sigma + 0.5 * np.sum((y - mu) ** 2) / sigma ** 2


@case(0.4, -0.1, Y_REAL, wrt=(0, 1))
def gaussian_nll_norm_keywords(mu, log_sigma, y):
    return -norm.logpdf(y, loc=mu, scale=np.exp(log_sigma)).sum()


@case(0.4, -0.1, Y_REAL, wrt=(0, 1))
def gaussian_likelihood_pdf_loop(mu, log_sigma, y):
    total = 0.0
    for value in y:
        total -= np.log(norm.pdf(value, mu, np.exp(log_sigma)))
    return total


@case({"loc": 0.3, "log_scale": 0.1, "log_df": 1.2}, Y_REAL, hessian=False)
def student_t_nll(params, y):
    df = np.exp(params["log_df"])
    scale = np.exp(params["log_scale"])
    return -np.sum(st.t.logpdf(y, df, params["loc"], scale))


@case(0.2, 0.3, 1.5, Y_REAL, wrt=(0, 1, 2), hessian=True)
def student_t_nll_by_hand(loc, log_scale, log_nu, y):
    nu = np.exp(log_nu)
    s = np.exp(log_scale)
    z = (y - loc) / s
    ll = (gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - log_scale
          - (nu + 1) / 2 * np.log1p(z ** 2 / nu))
    return -ll.sum()


@case(0.35, 0.2, Y_REAL, wrt=(0, 1))
def laplace_nll(loc, log_b, y):
    from scipy.stats import laplace
    return -np.sum(laplace.logpdf(y, loc=loc, scale=np.exp(log_b)))


@case(0.35, 0.2, Y_REAL, wrt=(0, 1))
def laplace_nll_module_level(loc, log_b, y):
    return -np.sum(st.laplace.logpdf(y, loc, np.exp(log_b)))


@case(0.1, -0.2, Y_REAL, wrt=(0, 1), hessian=True)
def cauchy_nll(loc, log_gamma, y):
    return -stats.cauchy.logpdf(y, loc, np.exp(log_gamma)).sum()


@case(0.1, -0.2, Y_REAL, wrt=(0, 1))
def cauchy_nll_by_hand(loc, log_gamma, y):
    gamma = np.exp(log_gamma)
    return np.sum(np.log(np.pi * gamma) + np.log1p(((y - loc) / gamma) ** 2))


@case(np.array([0.3, -0.5]), Y_REAL)
def logistic_distribution_nll(theta, y):
    loc, log_s = theta
    return -np.sum(stats.logistic.logpdf(y, loc, np.exp(log_s)))


@case(0.05, Y_REAL, TRUNC_LOW, hessian=True)
def tobit_nll(mu, y, lower):
    """Left-censored at `lower`: the censored points contribute log Phi."""
    sigma = 1.2
    censored = y <= lower
    ll = np.sum(np.where(censored, norm.logcdf((lower - mu) / sigma),
                         norm.logpdf(y, mu, sigma)))
    return -ll


@case(0.05, 0.1, Y_REAL, wrt=(0, 1))
def right_censored_normal_logsf(mu, log_sigma, y):
    sigma = np.exp(log_sigma)
    cens = y > 1.0
    ll = np.sum(norm.logpdf(y[~cens], mu, sigma)) + np.sum(norm.logsf(1.0, mu, sigma) * cens)
    return -ll


@case(0.3, Y_REAL)
def truncated_normal_nll(mu, y):
    """A normal truncated below at -2: log_ndtr normalises."""
    z = (y - mu)
    return -np.sum(-0.5 * z ** 2 - 0.5 * LOG_2PI - log_ndtr(mu + 2.0))


# -- GLMs --------------------------------------------------------------------------------------

@case(BETA0 * 0.5, 0.1, X_DESIGN, Y_BINARY, wrt=(0, 1), hessian=True)
def logistic_regression_expit(w, b, X, y):
    p = expit(X @ w + b)
    return -np.sum(xlogy(y, p) + xlogy(1 - y, 1 - p))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY, hessian=True)
def logistic_regression_log_expit(w, X, y):
    z = X.dot(w)
    return -(y * log_expit(z) + (1.0 - y) * log_expit(-z)).mean()


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY, 0.1)
def logistic_regression_ridge_special(w, X, y, lam):
    eta = X @ w
    p = special.expit(eta)
    nll = -np.sum(y * np.log(p) + (1 - y) * special.xlog1py(1.0, -p))
    return nll + lam * np.dot(w, w)


@case({"w": BETA0[1:] * 0.5, "b": 0.2}, X_DESIGN[:, 1:], Y_BINARY)
def logistic_regression_dict_logaddexp(params, X, y):
    s = 2 * y - 1
    z = X @ params["w"] + params["b"]
    return np.sum(np.logaddexp(0.0, -s * z))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY, hessian=True)
def probit_ndtr(beta, X, y):
    Phi = ndtr(X @ beta)
    return -np.sum(y * np.log(Phi) + (1 - y) * np.log1p(-Phi))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY)
def probit_norm_cdf(beta, X, y):
    eta = X @ beta
    return -np.sum(y * stats.norm.logcdf(eta) + (1 - y) * stats.norm.logcdf(-eta))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY, hessian=True)
def probit_log_ndtr(beta, X, y):
    q = 2.0 * y - 1.0
    return -np.sum(sp.log_ndtr(q * (X @ beta)))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY)
def probit_erf(beta, X, y):
    p = 0.5 * (1.0 + erf(X @ beta / np.sqrt(2.0)))
    ll = 0.0
    for i in range(len(y)):
        if y[i] > 0.5:
            ll += np.log(p[i])
        else:
            ll += np.log(1.0 - p[i])
    return -ll


@case(BETA0, X_DESIGN, COUNTS, hessian=True)
def poisson_glm_gammaln(beta, X, counts):
    eta = X @ beta
    return -np.sum(counts * eta - np.exp(eta) - sp.gammaln(counts + 1))


@case(BETA0, X_DESIGN, COUNTS)
def poisson_glm_xlogy(beta, X, counts):
    mu = np.exp(X @ beta)
    return -(xlogy(counts, mu) - mu - gammaln(counts + 1.0)).sum()


@case(BETA0, X_DESIGN, COUNTS)
def poisson_glm_logpmf(beta, X, counts):
    rate = np.exp(X @ beta)
    return -np.sum(stats.poisson.logpmf(counts, rate))


@case(BETA0, X_DESIGN, COUNTS, 1.0)
def poisson_glm_offset_pmf_loop(beta, X, counts, exposure):
    ll = 0.0
    for i in range(X.shape[0]):
        mu_i = exposure * np.exp(np.dot(X[i], beta))
        ll += np.log(st.poisson.pmf(counts[i], mu_i))
    return -ll


@case(BETA0, 0.3, X_DESIGN, COUNTS, wrt=(0, 1), hessian=True)
def negative_binomial_nll(beta, log_r, X, counts):
    r = np.exp(log_r)
    mu = np.exp(X @ beta)
    ll = (scipy.special.gammaln(counts + r) - scipy.special.gammaln(r)
          - scipy.special.gammaln(counts + 1) + r * np.log(r / (r + mu))
          + counts * np.log(mu / (r + mu)))
    return -np.sum(ll)


@case(BETA0, 0.3, X_DESIGN, COUNTS, wrt=(0, 1))
def negative_binomial_nbinom(beta, log_r, X, counts):
    r = np.exp(log_r)
    mu = np.exp(X @ beta)
    return -np.sum(stats.nbinom.logpmf(counts, r, r / (r + mu)))


@case(BETA0 * 0.3, 0.4, X_DESIGN, Y_POSITIVE, wrt=(0, 1), hessian=True)
def gamma_regression_stats(beta, log_shape, X, y):
    shape = np.exp(log_shape)
    mu = np.exp(X @ beta)
    return -np.sum(stats.gamma.logpdf(y, shape, scale=mu / shape))


@case(BETA0 * 0.3, 0.4, X_DESIGN, Y_POSITIVE, wrt=(0, 1))
def gamma_regression_by_hand(beta, log_shape, X, y):
    k = np.exp(log_shape)
    mu = np.exp(X @ beta)
    rate = k / mu
    ll = k * np.log(rate) + xlogy(k - 1.0, y) - rate * y - gammaln(k)
    return -ll.sum()


@case(BETA0 * 0.5, 1.5, X_DESIGN, Y_UNIT, wrt=(0, 1))
def beta_regression_stats(beta, log_phi, X, y):
    mu = expit(X @ beta)
    phi = np.exp(log_phi)
    return -np.sum(stats.beta.logpdf(y, mu * phi, (1 - mu) * phi))


@case(BETA0 * 0.5, 1.5, X_DESIGN, Y_UNIT, wrt=(0, 1), hessian=True)
def beta_regression_betaln(beta, log_phi, X, y):
    mu = expit(X @ beta)
    phi = np.exp(log_phi)
    a = mu * phi
    b = (1.0 - mu) * phi
    ll = (a - 1) * np.log(y) + (b - 1) * np.log1p(-y) - betaln(a, b)
    return -np.sum(ll)


@case(BETA0 * 0.5, X_DESIGN, SUCCESSES, TRIALS)
def binomial_glm_logpmf(beta, X, k, n):
    p = expit(X @ beta)
    return -np.sum(stats.binom.logpmf(k, n, p))


@case(np.array([0.2, 0.5]), SUCCESSES, TRIALS, hessian=True)
def beta_binomial_nll(log_ab, k, n):
    a, b = np.exp(log_ab[0]), np.exp(log_ab[1])
    ll = (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
          + betaln(k + a, n - k + b) - betaln(a, b))
    return -np.sum(ll)


@case(np.array([0.4, 0.1, -0.2]), DM_COUNTS, hessian=True)
def dirichlet_multinomial_nll(log_alpha, counts):
    alpha = np.exp(log_alpha)
    A = np.sum(alpha)
    nll = 0.0
    for row in counts:
        n = row.sum()
        nll -= (gammaln(A) - gammaln(n + A) + np.sum(gammaln(row + alpha) - gammaln(alpha)))
    return nll


@case(np.array([0.4, 0.1, -0.2]), SIMPLEX_ROWS)
def dirichlet_logpdf_rows(log_alpha, rows):
    alpha = np.exp(log_alpha)
    return -sum(stats.dirichlet.logpdf(r, alpha) for r in rows)


@case(np.array([0.4, 0.1, -0.2]), SIMPLEX_ROWS, hessian=True)
def dirichlet_by_hand(log_alpha, rows):
    alpha = np.exp(log_alpha)
    log_norm = np.sum(gammaln(alpha)) - gammaln(np.sum(alpha))
    return -np.sum(np.log(rows) @ (alpha - 1.0) - log_norm)


@case(np.array([0.5, -0.3]), ORDINAL, X_DESIGN[:, 1], np.array([-0.5, 0.4]), wrt=(0, 3))
def ordinal_logit(w, y, x, raw_cuts):
    cuts = np.array([raw_cuts[0], raw_cuts[0] + np.exp(raw_cuts[1])])
    eta = w[0] * x + w[1] * x ** 2
    ll = 0.0
    for i in range(len(y)):
        upper = 1.0 if y[i] == 2 else expit(cuts[y[i]] - eta[i])
        lower = 0.0 if y[i] == 0 else expit(cuts[y[i] - 1] - eta[i])
        ll += np.log(upper - lower)
    return -ll


@case(np.array([0.2, -0.1]), 0.3, COUNTS, wrt=(0, 1))
def zero_inflated_poisson(log_rate_and_pad, logit_pi, counts):
    lam = np.exp(log_rate_and_pad[0])
    log_pi = log_expit(logit_pi)
    log_1m_pi = log_expit(-logit_pi)
    ll_zero = np.logaddexp(log_pi, log_1m_pi - lam)
    ll_pos = log_1m_pi + counts * np.log(lam) - lam - gammaln(counts + 1)
    return -np.sum(np.where(counts == 0, ll_zero, ll_pos)) + log_rate_and_pad[1] ** 2


# -- mixtures ------------------------------------------------------------------------------------

@case(np.array([-0.8, 1.2]), np.array([-0.5, -0.2]), np.array([0.1, -0.1]), MIX_X,
      wrt=(0, 1, 2))
def gmm_logsumexp_norm(means, log_sds, logits, x):
    log_w = log_softmax(logits)
    comp = norm.logpdf(x[:, None], means, np.exp(log_sds)) + log_w
    return -logsumexp(comp, axis=1).sum()


@case(np.array([-0.8, 1.2]), np.array([-0.5, -0.2]), np.array([0.1, -0.1]), MIX_X,
      wrt=(0, 1, 2))
def gmm_logsumexp_b_weights(means, log_sds, logits, x):
    w = softmax(logits)
    sds = np.exp(log_sds)
    comp = -0.5 * ((x[:, None] - means) / sds) ** 2 - np.log(sds) - 0.5 * LOG_2PI
    return -np.sum(logsumexp(comp, axis=1, b=w))


@case({"mu": [-0.8, 1.2], "log_sd": [-0.5, -0.2], "logit": [0.1, -0.1]}, MIX_X)
def gmm_list_params_loop(params, x):
    terms = []
    for k in range(2):
        terms.append(params["logit"][k] +
                     st.norm.logpdf(x, params["mu"][k], np.exp(params["log_sd"][k])))
    log_norm = logsumexp(np.array(params["logit"]))
    return -np.sum(sp.logsumexp(np.stack(terms), axis=0) - log_norm)


@case(np.array([[-1.0, 0.1], [0.9, 1.1]]), np.array([-0.4, -0.3]), MIX_X2, wrt=(0, 1))
def gmm_multivariate_normal(means, log_sds, X):
    logps = []
    for k in range(2):
        cov = np.exp(2 * log_sds[k]) * np.eye(2)
        logps.append(np.log(0.5) + multivariate_normal.logpdf(X, mean=means[k], cov=cov))
    return -np.sum(logsumexp(np.array(logps), axis=0))


@case(np.array([0.1, 0.2]), np.array([[1.0, 0.3], [0.0, 0.8]]), MIX_X2, wrt=(0, 1))
def mvn_full_cov_logpdf(mean, L_raw, X):
    L = np.tril(L_raw)
    cov = L @ L.T + 0.1 * np.eye(2)
    return -np.sum(stats.multivariate_normal.logpdf(X, mean, cov))


@case(np.array([0.1, 0.2]), np.array([[1.0, 0.3], [0.0, 0.8]]), MIX_X2, wrt=(0, 1),
      hessian=True)
def mvn_by_hand_cholesky(mean, L_raw, X):
    L = np.tril(L_raw)
    cov = L @ L.T + 0.1 * np.eye(2)
    C = np.linalg.cholesky(cov)
    diff = X - mean
    z = solve_triangular(C, diff.T, lower=True)
    n, d = X.shape
    return 0.5 * np.sum(z ** 2) + n * np.sum(np.log(np.diag(C))) + 0.5 * n * d * LOG_2PI


# -- Gaussian processes ------------------------------------------------------------------------

def rbf(X1, X2, lengthscale, variance):
    d2 = np.sum((X1[:, None, :] - X2[None, :, :]) ** 2, axis=-1)
    return variance * np.exp(-0.5 * d2 / lengthscale ** 2)


def matern32(X1, X2, lengthscale, variance):
    d2 = np.sum((X1[:, None, :] - X2[None, :, :]) ** 2, axis=-1)
    r = np.sqrt(d2)
    s = np.sqrt(3.0) * r / lengthscale
    return variance * (1.0 + s) * np.exp(-s)


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP, hessian=True)
def gp_nll_cho_factor(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    c, low = cho_factor(K)
    alpha = cho_solve((c, low), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(c))) + 0.5 * len(y) * LOG_2PI


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_nll_cho_factor_lower(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    factor = cho_factor(K, lower=True)
    alpha = cho_solve(factor, y)
    return 0.5 * np.dot(y, alpha) + np.log(np.diag(factor[0])).sum()


@case({"log_ell": -0.4, "log_sf": 0.05, "log_sn": -1.0}, X_GP2, Y_GP)
def gp_nll_cholesky_solve_triangular(hyp, X, y):
    ell = np.exp(hyp["log_ell"])
    K = rbf(X, X, ell, np.exp(2 * hyp["log_sf"])) + np.exp(2 * hyp["log_sn"]) * np.eye(X.shape[0])
    L = sla.cholesky(K, lower=True)
    a = sla.solve_triangular(L, y, lower=True)
    return 0.5 * a @ a + np.sum(np.log(np.diag(L))) + 0.5 * len(y) * LOG_2PI


@case(np.array([-0.4, 0.05, -1.0]), X_GP2, Y_GP)
def gp_nll_upper_cholesky(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    U = scipy.linalg.cholesky(K)             # upper: K = U.T @ U
    v = scipy.linalg.solve_triangular(U, y, trans="T")
    return 0.5 * v.dot(v) + np.log(U.diagonal()).sum()


@case(np.array([-0.3, 0.2, -1.5]), X_GP, Y_GP, hessian=True)
def gp_nll_matern_slogdet(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = matern32(X, X, ell, sf2) + sn2 * np.eye(len(y))
    sign, logdet = np.linalg.slogdet(K)
    alpha = np.linalg.solve(K, y)
    return 0.5 * (y @ alpha + logdet + len(y) * LOG_2PI)


@case(np.array([-0.3, 0.2, -1.5]), X_GP, Y_GP)
def gp_nll_matern_numpy_cholesky(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = matern32(X, X, ell, sf2) + sn2 * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


@case(np.array([-0.3, 0.2, -1.5]), X_GP, Y_GP)
def gp_nll_linalg_solve_assume_pos(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    alpha = linalg.solve(K, y, assume_a="pos")
    _, logdet = slogdet(K)
    return 0.5 * (y @ alpha + logdet)


@case(np.array([-0.3, 0.2, -1.5]), X_GP, Y_GP)
def gp_nll_lu_det(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    lu_piv = sla.lu_factor(K)
    alpha = sla.lu_solve(lu_piv, y)
    return 0.5 * (y @ alpha + np.log(sla.det(K)))


@case(np.array([-0.3, 0.2, -1.5]), X_GP, Y_GP)
def gp_predictive_mean_inv(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    Xs = np.array([[0.25], [-0.6]])
    Ks = rbf(Xs, X, ell, sf2)
    mean = Ks @ sla.inv(K) @ y
    return np.sum((mean - np.array([0.5, -0.4])) ** 2)


# -- option pricing ------------------------------------------------------------------------------

def black_scholes_call(S, K, T, r, sigma):
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    return S * ndtr(d1) - K * np.exp(-r * T) * ndtr(d2)


@case(100.0, 0.2, 0.03, wrt=(0, 1, 2), hessian=True)
def black_scholes_ndtr(S, sigma, r):
    return black_scholes_call(S, 105.0, 0.75, r, sigma)


@case(100.0, 0.2, 0.03, wrt=(0, 1, 2))
def black_scholes_erf(S, sigma, r):
    K, T = 95.0, 0.5
    sqrtT = math.sqrt(T)
    d1 = (np.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * sqrtT)
    d2 = d1 - sigma * sqrtT
    N = lambda d: 0.5 * (1.0 + erf(d / np.sqrt(2.0)))  # noqa: E731
    return S * N(d1) - K * np.exp(-r * T) * N(d2)


@case(np.array([90.0, 100.0, 110.0]), 0.25, wrt=(0, 1))
def black_scholes_put_norm_cdf_vector(S, sigma):
    K, T, r = 100.0, 1.0, 0.01
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    put = K * np.exp(-r * T) * norm.cdf(-d2) - S * norm.cdf(-d1)
    return np.sum(put)


@case(100.0, 0.2, wrt=(0, 1), hessian=True)
def black_scholes_delta_vega(S, sigma):
    """A greek as the output: the hedge's sensitivity."""
    K, T, r = 100.0, 0.5, 0.02
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    delta = stats.norm.cdf(d1)
    vega = S * stats.norm.pdf(d1) * np.sqrt(T)
    return delta + 0.01 * vega


@case(np.array([98.0, 100.0, 103.0]), 8.0, wrt=(0, 1), hessian=True)
def bachelier_call(F, sigma):
    K, T = 100.0, 0.5
    s = sigma * np.sqrt(T)
    d = (F - K) / s
    return np.sum((F - K) * norm.cdf(d) + s * norm.pdf(d))


@case(100.0, 0.2, -1.0, wrt=(0, 1, 2))
def merton_jump_diffusion(S, sigma, log_lam):
    K, T, r = 100.0, 0.5, 0.02
    lam = np.exp(log_lam)
    mu_j, delta_j = -0.1, 0.15
    kappa = np.exp(mu_j + 0.5 * delta_j ** 2) - 1.0
    lam_p = lam * (1.0 + kappa)
    price = 0.0
    for k in range(12):
        sigma_k = np.sqrt(sigma ** 2 + k * delta_j ** 2 / T)
        r_k = r - lam * kappa + k * np.log(1.0 + kappa) / T
        weight = np.exp(-lam_p * T + k * np.log(lam_p * T) - gammaln(k + 1.0))
        price = price + weight * black_scholes_call(S, K, T, r_k, sigma_k)
    return price


@case(np.array([0.18, 0.22, 0.27]), np.array([6.0, 3.5, 1.6]))
def implied_vol_fit_loss(vols, market):
    """Least squares between model prices at three strikes and quotes."""
    S, T, r = 100.0, 0.5, 0.01
    strikes = [95.0, 100.0, 105.0]
    loss = 0.0
    for j, K in enumerate(strikes):
        price = black_scholes_call(S, K, T, r, vols[j])
        loss += (price - market[j]) ** 2
    return loss


# -- classifiers, information ---------------------------------------------------------------------

@case(np.full((3, 3), 0.1) + 0.05 * np.arange(9.0).reshape(3, 3), X_DESIGN, LABELS, hessian=True)
def softmax_classifier_log_softmax(W, X, labels):
    logp = log_softmax(X @ W, axis=1)
    return -np.mean(logp[np.arange(len(labels)), labels])


@case(np.full((3, 3), 0.1) + 0.05 * np.arange(9.0).reshape(3, 3), X_DESIGN, ONE_HOT)
def softmax_classifier_xlogy(W, X, Y):
    P = special.softmax(X @ W, axis=1)
    return -np.sum(xlogy(Y, P))


@case(np.full((3, 3), 0.1) + 0.05 * np.arange(9.0).reshape(3, 3), X_DESIGN, ONE_HOT)
def multinomial_logit_logsumexp_keepdims(W, X, Y):
    Z = X @ W
    logp = Z - logsumexp(Z, axis=1, keepdims=True)
    return -(Y * logp).sum() + 0.01 * np.sum(W ** 2)


@case(np.array([0.3, -0.2, 0.5, 0.1]), hessian=True)
def entropy_entr(theta):
    p = softmax(theta)
    return np.sum(entr(p))


@case(np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3]), wrt=(0, 1), hessian=True)
def kl_rel_entr(a, b):
    p = softmax(a)
    q = softmax(b)
    return rel_entr(p, q).sum()


@case(np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3]), wrt=(0, 1))
def kl_div_unnormalised(a, b):
    return np.sum(kl_div(np.exp(a), np.exp(b)))


@case(np.array([0.3, -0.2, 0.5]), np.array([0.25, 0.45, 0.3]), wrt=(0,))
def cross_entropy_kl_by_hand(logits, target):
    p = softmax(logits)
    return np.sum(target * np.log(target / p))


# -- circular, survival, time series ----------------------------------------------------------

@case(0.3, 0.7, ANGLES, wrt=(0, 1), hessian=True)
def von_mises_i0e(mu, log_kappa, theta):
    kappa = np.exp(log_kappa)
    log_i0 = np.log(i0e(kappa)) + kappa
    return -np.sum(kappa * np.cos(theta - mu) - np.log(2 * np.pi) - log_i0)


@case(0.3, 0.7, ANGLES, wrt=(0, 1))
def von_mises_i0(mu, log_kappa, theta):
    kappa = np.exp(log_kappa)
    return -np.sum(kappa * np.cos(theta - mu)) + len(theta) * np.log(2 * np.pi * special.i0(kappa))


@case(0.2, 0.4, TIMES, OBSERVED, wrt=(0, 1), hessian=True)
def weibull_survival(log_k, log_lam, t, event):
    k = np.exp(log_k)
    lam = np.exp(log_lam)
    z = t / lam
    log_h = np.log(k) - np.log(lam) + (k - 1) * np.log(z)
    cum_h = z ** k
    return -np.sum(event * log_h - cum_h)


@case(np.array([0.2, -0.3]), TIMES, OBSERVED)
def exponential_survival_expon(log_scales, t, event):
    scale = np.exp(log_scales[0])
    ll = event * stats.expon.logpdf(t, scale=scale) + (1 - event) * np.log(
        1.0 - stats.expon.cdf(t, scale=scale))
    return -np.sum(ll) + log_scales[1] ** 2


@case(-1.0, -0.5, SERIES, wrt=(0, 1), hessian=True)
def local_level_kalman(log_q, log_r, y):
    q = np.exp(log_q)
    r = np.exp(log_r)
    m, P = 0.0, 10.0
    nll = 0.0
    for t in range(len(y)):
        P_pred = P + q
        S = P_pred + r
        v = y[t] - m
        nll = nll + 0.5 * (np.log(2 * np.pi * S) + v ** 2 / S)
        K = P_pred / S
        m = m + K * v
        P = (1 - K) * P_pred
    return nll


@case({"log_q": -1.0, "log_r": -0.7}, TRACK)
def tracking_kalman_matrices(params, ys):
    dt = 1.0
    F = np.array([[1.0, dt], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = np.exp(params["log_q"]) * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    R = np.exp(params["log_r"]) * np.eye(1)
    m = np.zeros(2)
    P = np.eye(2)
    ll = 0.0
    for y in ys:
        m = F @ m
        P = F @ P @ F.T + Q
        S = H @ P @ H.T + R
        v = y - H @ m
        K = P @ H.T @ np.linalg.inv(S)
        ll = ll + stats.norm.logpdf(v[0], 0.0, np.sqrt(S[0, 0]))
        m = m + K @ v
        P = P - K @ S @ K.T
    return -ll


@case(0.4, -0.3, SERIES, wrt=(0, 1), hessian=True)
def ar1_exact_likelihood(phi_raw, log_sigma, y):
    phi = np.tanh(phi_raw)
    sigma = np.exp(log_sigma)
    ll = stats.norm.logpdf(y[0], 0.0, sigma / np.sqrt(1 - phi ** 2))
    ll += np.sum(stats.norm.logpdf(y[1:], phi * y[:-1], sigma))
    return -ll


@case(0.4, -0.3, SERIES, wrt=(0, 1))
def ar1_conditional_loop(phi_raw, log_sigma, y):
    phi = np.tanh(phi_raw)
    var = np.exp(2 * log_sigma)
    nll = 0.0
    prev = y[0]
    for value in y[1:]:
        nll += 0.5 * (np.log(2 * np.pi * var) + (value - phi * prev) ** 2 / var)
        prev = value
    return nll


@case(np.array([-0.5, -1.0, -0.7, -1.2, -0.9, -0.4]), TRANSITION_COUNTS, 0.5)
def ctmc_expm_likelihood(log_rates, counts, dt):
    rates = np.exp(log_rates)
    Q = np.zeros((3, 3))
    k = 0
    for i in range(3):
        for j in range(3):
            if i != j:
                Q[i, j] = rates[k]
                k += 1
    Q = Q - np.diag(Q.sum(axis=1))
    P = expm(Q * dt)
    return -np.sum(counts * np.log(P))


@case(np.array([-0.5, -1.0, -0.7]), TRANSITION_COUNTS[:2, :2], 0.5)
def two_state_expm_scipy_linalg(log_rates, counts, dt):
    a, b = np.exp(log_rates[0]), np.exp(log_rates[1])
    Q = np.array([[-a, a], [b, -b]])
    P = scipy.linalg.expm(dt * Q)
    return -np.sum(counts * np.log(P)) + log_rates[2] ** 2


# -- Bayesian linear regression, spectra, matrices -------------------------------------------------

@case(0.1, 0.5, X_DESIGN, Y_REAL, wrt=(0, 1), hessian=True)
def bayesian_linear_regression_evidence(log_alpha, log_beta, X, t):
    alpha = np.exp(log_alpha)
    beta = np.exp(log_beta)
    N, M = X.shape
    A = alpha * np.eye(M) + beta * X.T @ X
    m = beta * np.linalg.solve(A, X.T @ t)
    E = beta / 2 * np.sum((t - X @ m) ** 2) + alpha / 2 * m @ m
    sign, logdet = np.linalg.slogdet(A)
    return -(M / 2 * np.log(alpha) + N / 2 * np.log(beta) - E - 0.5 * logdet
             - N / 2 * np.log(2 * np.pi))


@case(0.1, 0.5, X_DESIGN, Y_REAL, wrt=(0, 1))
def blr_evidence_marginal_mvn(log_alpha, log_beta, X, t):
    cov = np.exp(-log_alpha) * X @ X.T + np.exp(-log_beta) * np.eye(len(t))
    return -multivariate_normal.logpdf(t, np.zeros(len(t)), cov)


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]), hessian=True)
def eigh_log_eigenvalues(A_raw):
    S = A_raw @ A_raw.T + 0.5 * np.eye(3)
    w, V = np.linalg.eigh(S)
    return np.sum(np.log(w)) + 0.1 * w[-1]


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def scipy_eigh_top_eigenvector(A_raw):
    S = A_raw + A_raw.T + np.diag([0.0, 1.0, 3.0])
    w, V = sla.eigh(S)
    v = V[:, -1]
    target = np.array([0.2, 0.3, 0.9])
    return (v @ target) ** 2 + w[0]


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def scipy_eigvalsh_only(A_raw):
    S = A_raw + A_raw.T + np.diag([0.0, 1.0, 3.0])
    w = linalg.eigh(S, eigvals_only=True)
    return np.sum(w ** 2 * np.array([1.0, 0.5, 0.25]))


@case(np.array([[1.0, 0.2], [0.2, 0.7]]), np.array([[0.8, -0.1], [-0.1, 1.2]]), wrt=(0, 1))
def wasserstein_gaussians_sqrtm(S1_raw, S2_raw):
    S1 = S1_raw @ S1_raw.T + 0.2 * np.eye(2)
    S2 = S2_raw @ S2_raw.T + 0.2 * np.eye(2)
    root = sqrtm(S1)
    cross = sqrtm(root @ S2 @ root)
    return np.trace(S1 + S2 - 2.0 * cross)


@case(np.array([0.2, 0.5, -0.3, 0.1]), 2.0)
def wishart_log_normaliser(v, log_df):
    """multigammaln in a constant degree of freedom, of a scaled input."""
    p = 2
    df = np.exp(log_df)
    S = np.array([[1.0, 0.3], [0.3, 2.0]]) + np.outer(v[:2], v[:2])
    sign, logdet = np.linalg.slogdet(S)
    return 0.5 * df * logdet + multigammaln(0.5 * df + np.sum(v ** 2), p)


@case(np.array([0.8, 1.2, 2.0]), hessian=True)
def dirichlet_expected_log_digamma(alpha):
    """A variational ELBO term: E_q[log p] under q = Dirichlet(alpha)."""
    target = np.array([0.2, 0.3, 0.5])
    e_log_p = digamma(alpha) - digamma(np.sum(alpha))
    return -np.sum(target * e_log_p) + np.sum(gammaln(alpha)) - gammaln(alpha.sum())


@case(np.array([0.3, -0.4, 0.9]), np.array([0.2, 0.1, -0.3]), wrt=(0, 1))
def gaussian_copula_ndtri(theta, v):
    u = expit(theta)
    z = ndtri(u)
    cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])
    return -multivariate_normal.logpdf(z, mean=v, cov=cov) - np.sum(norm.logpdf(z))


@case(np.array([0.3, -0.4, 0.9]), hessian=True)
def logit_normal_nll(mu, y=np.array([0.3, 0.55, 0.8])):
    z = special.logit(y)
    return np.sum((z - mu) ** 2) / 2 + np.sum(np.log(y * (1 - y)))


@case({"mu": 0.5, "log_tau": 0.1, "eta": np.array([0.2, -0.3, 0.5, 0.1])},
      np.array([2.0, -1.0, 3.5, 0.4]), np.array([1.0, 1.5, 2.0, 1.2]))
def eight_schools_noncentred(params, y, sigma):
    tau = np.exp(params["log_tau"])
    theta = params["mu"] + tau * params["eta"]
    lp = np.sum(norm.logpdf(y, theta, sigma))
    lp += np.sum(norm.logpdf(params["eta"]))
    lp += norm.logpdf(params["mu"], 0.0, 5.0) + st.cauchy.logpdf(tau, 0.0, 5.0) + params["log_tau"]
    return -lp


@case(np.array([0.5, 0.1]), 1.4, wrt=(0, 1))
def chi2_variance_likelihood(sample, sigma2):
    """The sampling distribution of a variance: (n - 1) s^2 / sigma^2 ~ chi2(n - 1)."""
    n = 6
    s2 = np.sum(sample ** 2) + 0.3
    x = (n - 1) * s2 / sigma2
    return -(stats.chi2.logpdf(x, n - 1) + np.log((n - 1) / sigma2))


# -- more spellings: frozen distributions, keywords, lists, mixed libraries ------------------------

@case(0.4, -0.1, Y_REAL, wrt=(0, 1), hessian=True)
def gaussian_nll_frozen(mu, log_sigma, y):
    model = stats.norm(mu, np.exp(log_sigma))
    return -np.sum(model.logpdf(y))


@case(0.4, -0.1, Y_REAL, wrt=(0, 1))
def gaussian_nll_frozen_keywords(mu, log_sigma, y):
    return -scipy.stats.norm(loc=mu, scale=np.exp(log_sigma)).logpdf(y).sum()


@case(0.4, -0.1, Y_REAL, wrt=(0, 1), hessian=True)
def gaussian_nll_full_module_path(mu, log_sigma, y):
    return -np.sum(scipy.stats.norm.logpdf(y, loc=mu, scale=np.exp(log_sigma)))


@case(0.4, 0.8, Y_REAL, wrt=(0, 1), hessian=True)
def two_component_logsumexp_list(mu, log_sd, y):
    """A robust likelihood: 90% N(mu, sd), 10% N(mu, 10)."""
    sd = np.exp(log_sd)
    ll = 0.0
    for v in y:
        ll += logsumexp([np.log(0.9) + norm.logpdf(v, mu, sd),
                         np.log(0.1) + norm.logpdf(v, mu, 10.0)])
    return -ll


@case(0.4, 0.8, Y_REAL, wrt=(0, 1))
def two_component_logaddexp(mu, log_sd, y):
    sd = np.exp(log_sd)
    a = np.log(0.9) + norm.logpdf(y, mu, sd)
    b = np.log(0.1) + norm.logpdf(y, mu, 10.0)
    return -np.sum(np.logaddexp(a, b))


@case(np.array([[0.2, -0.1, 0.4], [0.3, 0.0, -0.2]]), hessian=True)
def logsumexp_axes_keepdims_b(A):
    w = np.array([[1.0, 2.0, 0.5], [0.3, 1.0, 1.0]])
    inner = logsumexp(A, axis=1, b=w, keepdims=True)
    total = logsumexp(A - inner, axis=(0, 1))
    return total + special.logsumexp(A, b=w)


@case(0.5, 2.0, Y_POSITIVE, wrt=(0, 1))
def gamma_scalar_keywords_loc(log_shape, scale, y):
    return -np.sum(stats.gamma.logpdf(y, a=np.exp(log_shape), loc=-0.2, scale=scale))


@case(0.2, 0.3, Y_UNIT, wrt=(0, 1))
def beta_logpdf_keywords(log_a, log_b, y):
    return -np.sum(st.beta.logpdf(y, a=np.exp(log_a), b=np.exp(log_b)))


@case(1.3, 0.1, Y_REAL, wrt=(0, 1))
def student_t_keyword_df(log_nu, loc, y):
    return -np.sum(stats.t.logpdf(y, df=np.exp(log_nu), loc=loc))


@case(np.array([0.1, 0.2]), 0.6, MIX_X2, wrt=(0, 1))
def mvn_scalar_covariance(mean, log_var, X):
    """SciPy reads a number as cov * identity."""
    return -np.sum(multivariate_normal.logpdf(X, mean, np.exp(log_var)))


@case(np.array([0.1, 0.2]), np.array([0.6, -0.2]), MIX_X2, wrt=(0, 1))
def mvn_diagonal_covariance_vector(mean, log_vars, X):
    """SciPy reads a vector as the diagonal of the covariance."""
    return -np.sum(multivariate_normal.logpdf(X, mean=mean, cov=np.exp(log_vars)))


@case(np.array([0.1, 0.2]), np.array([[1.0, 0.3], [0.0, 0.8]]), wrt=(0, 1))
def mvn_single_point_pdf(mean, L_raw):
    cov = L_raw @ L_raw.T + 0.1 * np.eye(2)
    return -np.log(multivariate_normal.pdf(np.array([0.3, -0.1]), mean, cov))


@case(np.array([0.1, 0.2]), np.array([[1.0, 0.3], [0.0, 0.8]]), MIX_X2, wrt=(0, 1))
def mvn_frozen(mean, L_raw, X):
    cov = L_raw @ L_raw.T + 0.1 * np.eye(2)
    dist = multivariate_normal(mean, cov)
    return -dist.logpdf(X).sum()


@case(np.array([0.3, 0.5, 0.2]), np.array([1.5, 2.0, 2.5]), wrt=(0, 1), hessian=True)
def dirichlet_logpdf_in_x_and_alpha(p_raw, alpha):
    p = p_raw / np.sum(p_raw)
    return stats.dirichlet.logpdf(p, alpha) + np.log(stats.dirichlet.pdf(p, alpha))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP, hessian=True)
def gp_numpy_cholesky_scipy_cho_solve(log_theta, X, y):
    """A NumPy factor passed to SciPy's solver (lower=True in the tuple)."""
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.log(np.diag(L)).sum()


@case(np.array([-0.5, 0.1, -2.0]), X_GP, np.column_stack([Y_GP, Y_GP ** 2]))
def gp_multi_output_cho_solve_matrix(log_theta, X, Y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(X.shape[0])
    c_and_lower = cho_factor(K, lower=True)
    A = cho_solve(c_and_lower, Y)
    return 0.5 * np.sum(Y * A) + Y.shape[1] * np.sum(np.log(np.diag(c_and_lower[0])))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_solve_triangular_trans_one(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    L = sla.cholesky(K, lower=True)
    v = sla.solve_triangular(L, y, lower=True)
    alpha = sla.solve_triangular(L, v, lower=True, trans=1)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_solve_assume_sym_and_inv_trace(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    alpha = sla.solve(K, y, assume_a="sym")
    return 0.5 * y @ alpha + 0.1 * np.trace(sla.inv(K))


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def numpy_eigh_of_nonsymmetric_reads_lower(A):
    """eigh reads the lower triangle only: the upper's gradient is zero."""
    w, V = np.linalg.eigh(A + 2.0 * np.eye(3))
    return np.sum(w ** 3) + np.abs(V[0, -1])


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def numpy_eigh_upper_of_nonsymmetric(A):
    w, V = np.linalg.eigh(A + 2.0 * np.eye(3), UPLO="U")
    return np.sum(w ** 3)


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def numpy_cholesky_of_nonsymmetric_reads_lower(A):
    L = np.linalg.cholesky(A @ A.T + np.triu(A, 1) + np.eye(3))
    return np.sum(L ** 2 * np.arange(1.0, 10.0).reshape(3, 3))


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def scipy_cholesky_upper_reads_upper(A):
    U = sla.cholesky(A @ A.T + np.tril(A, -1) + np.eye(3))
    return np.sum(U ** 2 * np.arange(1.0, 10.0).reshape(3, 3))


@case(np.array([[0.3, 0.1], [0.2, 0.4]]), hessian=True)
def logm_of_spd(A):
    S = A @ A.T + np.eye(2)
    return np.sum(sla.logm(S) * np.array([[1.0, 0.5], [0.5, 2.0]]))


@case(np.array([[0.3, 0.1], [0.2, 0.4]]))
def sqrtm_nonsymmetric(A):
    return np.sum(sqrtm(A + 2.0 * np.eye(2)) * np.array([[1.0, 0.5], [0.2, 2.0]]))


@case(np.array([[0.3, 0.1], [-0.2, 0.4]]), np.array([[1.0, 0.2], [0.1, 1.5]]), wrt=(0, 1))
def lyapunov_sylvester_cost(A_raw, Q):
    """The stationary covariance of dx = A x dt + dW: A S + S A^T = -Q."""
    A = A_raw - 1.5 * np.eye(2)
    S = sla.solve_sylvester(A, A.T, -Q)
    return np.trace(S) + np.sum(S ** 2)


@case(np.array([0.2, -0.1, 0.3]), hessian=True)
def scipy_special_log1p_expm1(theta):
    return np.sum(sp.log1p(np.exp(theta)) + special.expm1(0.5 * theta))


@case(np.array([1.2, 2.0, 0.7]), hessian=True)
def fisher_information_trigamma(alpha):
    """The Dirichlet's Fisher information log-determinant: polygamma(1, .)."""
    diag = special.polygamma(1, alpha)
    off = special.polygamma(1, np.sum(alpha))
    F = np.diag(diag) - off * np.ones((3, 3))
    return np.linalg.slogdet(F)[1] + np.sum(special.psi(alpha))


@case(np.array([1.2, 2.0, 0.7]), hessian=True)
def gamma_beta_functions(a):
    return np.sum(special.gamma(a) + special.rgamma(a + 1.0)) + special.beta(a[0], a[1]) \
        + special.loggamma(a[2])


@case(np.array([0.5, 1.5, 2.5]), hessian=True)
def bessel_orders_constant(kappa):
    return np.sum(special.iv(1, kappa) + special.ive(0.5, kappa) + special.jv(2, kappa)
                  + special.i1e(kappa) + special.j0(kappa) + special.y1(kappa + 1.0))


@case(np.array([0.2, 0.6, 0.35]), np.array([0.5, -0.3, 0.1]), wrt=(0, 1))
def quantile_functions(p_raw, z):
    p = special.expit(p_raw)
    return np.sum(ndtri(p) ** 2 + special.erfinv(0.5 * p) + special.erfcinv(p + 0.2)
                  + special.erfcx(z) + special.erfc(z))


@case(np.array([0.3, -0.2, 0.5]), np.float32(0.7), wrt=(0, 1))
def float32_scalar_gammaln(theta, s):
    return np.sum(gammaln(np.exp(theta) + s)) + expit(s)


@case(np.array([0.3, -0.2, 0.5], dtype=np.float32))
def float32_array_logistic(theta):
    return np.sum(log_expit(theta) + xlogy(theta ** 2, np.exp(theta)))


@case(np.array([0.3, -0.2, 0.5, 0.1]), np.array([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]]))
def softmax_axis_none_2d(theta, W):
    Z = np.outer(W[:, 0], theta[:2]) + theta[2:]
    return np.sum(softmax(Z) * np.arange(6.0).reshape(3, 2)) + np.sum(log_softmax(Z, axis=0))


@case(0.3, -0.4, wrt=(0, 1), hessian=True)
def scalar_special_functions(a, b):
    return float(expit(a) * ndtr(b) + gammaln(a + 2.0) + log_ndtr(a - b) + xlogy(a + 1.0, 2.0 + b))


@case(np.array([1.0, 2.0, 0.5]), np.array([0.4, 0.2, 0.4]), wrt=(0, 1))
def binomial_pmf_and_logpmf_p(log_n_pad, p_raw):
    p = softmax(p_raw)
    lp = st.binom.logpmf(np.array([2.0, 3.0, 1.0]), np.array([5, 6, 4]), p)
    return -np.sum(lp) - np.log(st.binom.pmf(1, 3, p[0])) + np.sum(log_n_pad ** 2)


@case(np.array([2.0, 1.0]), hessian=True)
def poisson_cdf_and_pmf(log_mu):
    mu = np.exp(log_mu)
    return -np.log(stats.poisson.cdf(3, mu[0])) - stats.poisson.logpmf(2, mu[1]) \
        - np.log(stats.poisson.pmf(0, mu).sum())


@case(np.array([0.5, 1.3, 2.2]), 0.4, wrt=(0, 1))
def chi2_and_expon_cdfs(x, log_scale):
    return np.sum(stats.chi2.cdf(x, 3) + stats.chi2.pdf(x, 4)) \
        + np.sum(stats.expon.logcdf(x, scale=np.exp(log_scale))) \
        + np.sum(st.expon.pdf(x, 0.1, np.exp(log_scale)))


@case(np.array([0.5, -1.3, 2.2]), 0.1, 0.4, wrt=(0, 1, 2), hessian=True)
def laplace_logistic_cauchy_cdfs(x, loc, log_scale):
    s = np.exp(log_scale)
    return np.sum(stats.laplace.logcdf(x, loc, s) + stats.logistic.cdf(x, loc, s)
                  + stats.cauchy.cdf(x, loc, s) + stats.logistic.logcdf(x, loc, s))


@case(np.array([0.5, -1.3, 2.2]), 0.1, 2.0, wrt=(0, 1), hessian=True)
def t_cdf_in_x_and_loc(x, loc, df):
    return np.sum(stats.t.cdf(x, df, loc) + stats.t.logcdf(x, df, loc=loc, scale=1.5))


@case(np.array([1.5, 2.5]), np.array([0.3, 0.6]), wrt=(0, 1))
def gamma_beta_cdf_in_x(x, u):
    return np.sum(stats.gamma.cdf(x, 2.0, scale=1.3) + stats.beta.cdf(u, 2.0, 3.0)
                  + stats.gamma.logcdf(x, 1.5) + stats.beta.pdf(u, 2.0, 2.5))


# -- kernels filled in one triangle, factorisations that read one triangle ------------------------

def lower_kernel(x, ell, sf2, sn2):
    """K filled below the diagonal only, as a loop over pairs writes it."""
    n = len(x)
    K = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            K[i, j] = sf2 * np.exp(-0.5 * (x[i] - x[j]) ** 2 / ell ** 2)
        K[i, i] += sn2
    return K


@case(np.array([-0.5, 0.1, -2.0]), X_GP[:, 0], Y_GP)
def gp_lower_filled_numpy_cholesky(log_theta, x, y):
    ell, sf2, sn2 = np.exp(log_theta)
    L = np.linalg.cholesky(lower_kernel(x, ell, sf2, sn2))
    a = solve_triangular(L, y, lower=True)
    return 0.5 * a @ a + np.sum(np.log(np.diag(L)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP[:, 0], Y_GP)
def gp_lower_filled_scipy_cholesky_lower(log_theta, x, y):
    ell, sf2, sn2 = np.exp(log_theta)
    L = sla.cholesky(lower_kernel(x, ell, sf2, sn2), lower=True)
    a = sla.solve_triangular(L, y, lower=True)
    return 0.5 * a @ a + np.sum(np.log(np.diag(L)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP[:, 0], Y_GP)
def gp_lower_filled_cho_factor_lower(log_theta, x, y):
    ell, sf2, sn2 = np.exp(log_theta)
    c, lower = cho_factor(lower_kernel(x, ell, sf2, sn2), lower=True)
    alpha = cho_solve((c, lower), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(c)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP[:, 0], Y_GP)
def gp_lower_filled_eigvalsh(log_theta, x, y):
    ell, sf2, sn2 = np.exp(log_theta)
    w = np.linalg.eigvalsh(lower_kernel(x, ell, sf2, sn2))
    return np.sum(np.log(w))


@case(np.array([[2.0, 0.3, 0.1], [0.9, 2.5, 0.2], [-0.4, 0.7, 3.0]]), np.array([0.5, -0.2, 0.8]),
      wrt=(0, 1))
def scipy_solve_pos_reads_upper(K, b):
    """assume_a='pos' factors the upper triangle: the lower one is not read."""
    return np.sum(sla.solve(K, b, assume_a="pos") * np.array([1.0, 2.0, 3.0]))


@case(np.array([[2.0, 0.3, 0.1], [0.9, 2.5, 0.2], [-0.4, 0.7, 3.0]]), np.array([0.5, -0.2, 0.8]),
      wrt=(0, 1))
def cho_factor_default_reads_upper(K, b):
    c, low = cho_factor(K)
    return np.sum(cho_solve((c, low), b) * np.array([1.0, 2.0, 3.0])) + np.sum(np.log(np.diag(c)))


@case(np.array([[2.0, 0.3, 0.1], [0.9, 2.5, 0.2], [-0.4, 0.7, 3.0]]))
def scipy_eigh_upper_reads_upper(A):
    w, V = sla.eigh(A, lower=False)
    return np.sum(w ** 2 * np.array([1.0, 2.0, 3.0]))


@case(np.array([[2.0, 0.3, 0.1], [0.9, 2.5, 0.2], [-0.4, 0.7, 3.0]]))
def numpy_slogdet_and_inv_of_nonsymmetric(A):
    sign, logdet = np.linalg.slogdet(A)
    return logdet + np.sum(np.linalg.inv(A) * np.array([1.0, 2.0, 3.0]))


# -- tails, large arguments: values a careless rule turns into 0/0 --------------------------------

@case(np.array([-40.0, -12.0, 3.0]), hessian=True)
def probit_far_tail_log_ndtr(z):
    return np.sum(log_ndtr(z))


@case(np.array([-40.0, -12.0, 3.0]), 0.5, wrt=(0, 1), hessian=True)
def norm_logcdf_logsf_tails(z, scale):
    return np.sum(norm.logcdf(z, 0.0, scale) + norm.logsf(-z, 0.0, scale))


@case(np.array([-800.0, -30.0, 700.0]), hessian=True)
def log_expit_and_logsumexp_huge(z):
    return np.sum(log_expit(z)) + logsumexp(z) + np.sum(log_expit(-z) * 0.1)


@case(np.log(np.array([800.0, 50.0])), 0.3, wrt=(0, 1))
def von_mises_concentrated_i0e(log_kappa, mu):
    kappa = np.exp(log_kappa)
    theta = np.array([0.31, 0.28])
    log_i0 = np.log(i0e(kappa)) + kappa
    mean_resultant = special.i1e(kappa) / i0e(kappa)
    return -np.sum(kappa * np.cos(theta - mu) - log_i0) + np.sum(mean_resultant)


@case(np.array([30.0, 5.0, -2.0]), hessian=True)
def erfcx_mills_ratio(x):
    return np.sum(np.log(special.erfcx(x)) + special.erfc(x / 10.0))


# -- in-place habits of performance code ---------------------------------------------------------

@case(-0.4, X_GP, wrt=(0,))
def kernel_exp_out_in_place(log_ell, X):
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = -0.5 * d2 / np.exp(2 * log_ell)
    np.exp(K, out=K)
    return np.sum(K * np.arange(36.0).reshape(6, 6))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_fill_diagonal(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2)
    np.fill_diagonal(K, K.diagonal() + sn2)
    L = np.linalg.cholesky(K)
    a = solve_triangular(L, y, lower=True)
    return 0.5 * a @ a + np.sum(np.log(np.diag(L)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_diag_indices_in_place(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2)
    K[np.diag_indices_from(K)] += sn2
    c, low = cho_factor(K, lower=True, check_finite=False)
    return 0.5 * y @ cho_solve((c, low), y, check_finite=False) + np.sum(np.log(np.diag(c)))


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_flat_diagonal_in_place(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2)
    n = len(y)
    K.flat[::n + 1] += sn2
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * (y @ np.linalg.solve(K, y) + logdet)


@case(np.array([0.1, -0.2, 0.3]), np.array([[1.2, 0.0, 0.0], [0.3, 0.9, 0.0], [-0.2, 0.1, 1.1]]),
      np.array([0.5, -0.3, 0.8]), wrt=(0, 1))
def solve_triangular_overwrite_b(m, L, y):
    """The residual is destroyed by the solve after its own use (the primal is right)."""
    r = y - m
    s = np.sum(r ** 3)
    a = solve_triangular(L, r, lower=True, overwrite_b=True)
    return s + a @ a


@case(np.array([0.1, -0.2, 0.3]), np.array([[1.2, 0.0, 0.0], [0.3, 0.9, 0.0], [-0.2, 0.1, 1.1]]),
      np.array([0.5, -0.3, 0.8]), wrt=(0, 1))
def cho_solve_overwrite_b(m, L, y):
    r = y - m
    s = np.sum(np.sin(r))
    a = cho_solve((L, True), r, overwrite_b=True)
    return s + r @ a


@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_cholesky_overwrite_fortran(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = np.asfortranarray(rbf(X, X, ell, sf2) + sn2 * np.eye(len(y)))
    trace_term = np.sum(K ** 2)
    c, low = cho_factor(K, overwrite_a=True)
    return 0.5 * y @ cho_solve((c, low), y) + np.sum(np.log(np.diag(c))) + 0.01 * trace_term


# -- distributions and helpers beyond the list: right or refused --------------------------

@case(0.3, -0.2, Y_POSITIVE, wrt=(0, 1))
def lognormal_nll_lognorm(mu, log_s, y):
    return -np.sum(stats.lognorm.logpdf(y, np.exp(log_s), scale=np.exp(mu)))


@case(0.3, 0.2, TIMES, wrt=(0, 1))
def weibull_min_logpdf(log_k, log_lam, t):
    return -np.sum(stats.weibull_min.logpdf(t, np.exp(log_k), scale=np.exp(log_lam)))


@case(0.2, Y_POSITIVE)
def halfnormal_nll(log_s, y):
    return -np.sum(stats.halfnorm.logpdf(y, scale=np.exp(log_s)))


@case(0.3, 0.7, ANGLES, wrt=(0, 1))
def von_mises_stats_vonmises(mu, log_kappa, theta):
    return -np.sum(stats.vonmises.logpdf(theta, np.exp(log_kappa), loc=mu))


@case(BETA0 * 0.5, X_DESIGN, Y_BINARY)
def bernoulli_logpmf(beta, X, y):
    return -np.sum(stats.bernoulli.logpmf(y, expit(X @ beta)))


@case(np.array([0.2, -0.1, 0.4]), DM_COUNTS)
def multinomial_logpmf(logits, counts):
    p = softmax(logits)
    return -sum(stats.multinomial.logpmf(row, row.sum(), p) for row in counts)


@case(0.5, 0.2, Y_POSITIVE, wrt=(0, 1))
def inverse_gamma_nll(log_a, log_b, y):
    return -np.sum(stats.invgamma.logpdf(y, np.exp(log_a), scale=np.exp(log_b)))


@case(np.array([0.3, -0.2, 0.5]), np.array([0.25, 0.45, 0.3]))
def scipy_stats_entropy_kl(logits, target):
    return stats.entropy(target, softmax(logits))


@case(np.array([0.1, 0.5, 0.9]), 0.2, -0.3, wrt=(1, 2))
def quantile_norm_ppf(p, loc, log_scale):
    return np.sum(stats.norm.ppf(p, loc, np.exp(log_scale)) ** 2)


@case(0.4, 0.2, wrt=(0, 1))
def norm_entropy_and_sf(loc, log_scale):
    return stats.norm.entropy(loc, np.exp(log_scale)) + stats.norm.sf(1.0, loc, np.exp(log_scale))


@case(np.array([-0.4, 0.2]), X_GP2, Y_GP)
def ard_kernel_cdist(log_ells, X, y):
    from_scipy = scipy.spatial.distance.cdist(X / np.exp(log_ells), X / np.exp(log_ells),
                                              "sqeuclidean")
    K = np.exp(-0.5 * from_scipy) + 0.1 * np.eye(len(y))
    return 0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1]


@case(0.3, np.linspace(0.0, 2.0, 9))
def density_normaliser_trapezoid(log_rate, grid):
    density = np.exp(-np.exp(log_rate) * grid)
    return np.log(scipy.integrate.trapezoid(density, grid)) + np.log(np.trapezoid(density, grid))


@case(np.array([0.2, 0.5, -0.1, 0.3, 0.7, 0.1]), np.array([0.25, 0.5, 0.25]))
def smoothing_fftconvolve(signal_values, kernel):
    import_free = scipy.signal.fftconvolve(signal_values, kernel, mode="same")
    return np.sum((import_free - 0.3) ** 2)


# -- models with loops over time and particles ----------------------------------------------------

@case(np.array([[0.5, -0.5], [-0.3, 0.8]]), np.array([-0.6, 0.9]), MIX_X[:6], wrt=(0, 1))
def hmm_forward_logsumexp(trans_logits, means, x):
    logA = log_softmax(trans_logits, axis=1)
    log_pi = np.log(np.array([0.5, 0.5]))
    log_b = norm.logpdf(x[:, None], means, 0.7)      # (T, 2)
    alpha = log_pi + log_b[0]
    for t in range(1, len(x)):
        alpha = logsumexp(alpha[:, None] + logA, axis=0) + log_b[t]
    return -logsumexp(alpha)


@case(np.array([0.2, -0.3]), np.array([-0.4, -0.6]), wrt=(0, 1))
def vi_elbo_reparameterised(mu, log_sd):
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((5, 2))
    z = mu + np.exp(log_sd) * eps
    log_lik = np.sum(norm.logpdf(MIX_X2[:, None, :], z[None, :, :], 1.0), axis=(0, 2))
    log_prior = np.sum(norm.logpdf(z, 0.0, 2.0), axis=1)
    log_q = np.sum(norm.logpdf(z, mu, np.exp(log_sd)), axis=1)
    return -np.mean(log_lik + log_prior - log_q)


@case(100.0, 0.2, 0.02, wrt=(0, 1, 2))
def monte_carlo_call_pathwise(S, sigma, r):
    T, K = 0.5, 105.0
    z = np.random.RandomState(3).randn(64)
    ST = S * np.exp((r - 0.5 * sigma ** 2) * T + sigma * np.sqrt(T) * z)
    return np.exp(-r * T) * np.mean(np.maximum(ST - K, 0.0))


@case(100.0, 0.25, wrt=(0, 1))
def binomial_tree_european(S, sigma):
    K, T, r, n = 100.0, 1.0, 0.03, 20
    dt = T / n
    u = np.exp(sigma * np.sqrt(dt))
    d = 1.0 / u
    p = (np.exp(r * dt) - d) / (u - d)
    j = np.arange(n + 1)
    V = np.maximum(S * u ** j * d ** (n - j) - K + 0.123, 0.0)
    for _ in range(n):
        V = np.exp(-r * dt) * (p * V[1:] + (1.0 - p) * V[:-1])
    return V[0]


@case(0.2, 0.25, wrt=(0, 1))
def implied_vol_newton(sigma0, target_scale):
    """A fixed number of Newton steps solving BS(sigma) = price: the derivative of the
    solution in the quoted price."""
    S, K, T, r = 100.0, 100.0, 1.0, 0.0
    price = 10.0 * target_scale + 7.0
    sigma = sigma0
    for _ in range(6):
        d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
        vega = S * norm.pdf(d1) * np.sqrt(T)
        sigma = sigma - (black_scholes_call(S, K, T, r, sigma) - price) / vega
    return sigma


@case(np.array([0.3, -0.5]), X_DESIGN[:, 1:], Y_BINARY)
def gp_classification_laplace_newton(log_theta, X, y):
    """GPML's Algorithm 3.1 for a few Newton steps, then the approximate evidence."""
    ell, sf2 = np.exp(log_theta)
    n = len(y)
    K = rbf(X, X, ell, sf2) + 1e-6 * np.eye(n)
    f = np.zeros(n)
    for _ in range(5):
        pi = expit(f)
        W = pi * (1.0 - pi)
        sW = np.sqrt(W)
        B = np.eye(n) + sW[:, None] * K * sW[None, :]
        L = np.linalg.cholesky(B)
        b = W * f + (y - pi)
        v = solve_triangular(L, sW * (K @ b), lower=True)
        a = b - sW * solve_triangular(L.T, v, lower=False)
        f = K @ a
    log_lik = np.sum(y * log_expit(f) + (1 - y) * log_expit(-f))
    return 0.5 * a @ f - log_lik + np.sum(np.log(np.diag(L)))


@case(np.array([[0.4, 0.1], [0.2, 0.5]]), MIX_X2)
def whitening_cov_loss(W, X):
    Z = X @ W
    C = np.cov(Z.T)
    return np.sum((C - np.eye(2)) ** 2) + np.sum(np.corrcoef(Z.T) ** 2)


@case(np.array([0.4, -0.2]), X_DESIGN[:, 1:], Y_REAL)
def median_abs_residual_quantile(w, X, y):
    r = y - X @ w
    return np.quantile(r ** 2, 0.5) + np.percentile(np.abs(r), 75.0)


@case(np.array([0.1, -0.2, 0.3]), X_DESIGN, Y_REAL,
      np.array([1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.7, 1.2]))
def weighted_least_squares_average(beta, X, y, weights):
    r = y - X @ beta
    return np.average(r ** 2, weights=weights) + 0.5 * stats.norm.logpdf(beta).sum()


@case(np.array([0.3, -0.4, 0.9]), X_DESIGN, COUNTS)
def poisson_softplus_link(beta, X, counts):
    mu = np.logaddexp(0.0, X @ beta)
    return -np.sum(special.xlogy(counts, mu) - mu - special.gammaln(counts + 1))


@case(np.array([0.4, 0.1, -0.2]), SIMPLEX_ROWS)
def dirichlet_logpdf_columns(log_alpha, rows):
    """SciPy reads a (K, N) x as N points, one per column."""
    return -np.sum(stats.dirichlet.logpdf(rows.T, np.exp(log_alpha)))


@case(np.array([0.1, 0.2]), MIX_X2)
def mvn_default_cov(mean, X):
    return -np.sum(multivariate_normal.logpdf(X, mean))


@case(np.array([[0.5, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, -0.2, 0.6]]))
def scipy_eigh_subset_by_index(A_raw):
    S = A_raw + A_raw.T + np.diag([0.0, 1.0, 3.0])
    top = sla.eigh(S, subset_by_index=[2, 2], eigvals_only=True)
    return top[0]


@case(np.array([[[0.1, 0.3], [-0.2, 0.1]], [[0.0, 0.5], [0.4, -0.1]]]))
def expm_of_a_stack(A):
    return np.sum(expm(A) * np.array([[1.0, 2.0], [0.5, 1.5]]))


@case(np.array([[0.5, 0.1, 0.0], [0.2, 0.9, 0.3], [0.1, -0.2, 0.7]]), np.array([0.3, -0.1, 0.2]),
      wrt=(0, 1))
def cho_factor_upper_then_solve_triangular(A, y):
    K = A @ A.T + np.eye(3)
    c, low = cho_factor(K)
    a = solve_triangular(c, y, lower=low, trans="T")
    return a @ a + np.sum(np.log(np.diag(c)))


@case(np.array([[0.5, 0.1, 0.0], [0.2, 0.9, 0.3], [0.1, -0.2, 0.7]]), np.array([0.3, -0.1, 0.2]),
      wrt=(0, 1))
def lu_solve_transposed(A, b):
    lu, piv = sla.lu_factor(A + 2.0 * np.eye(3))
    x = sla.lu_solve((lu, piv), b, trans=1)
    return np.sum(x * np.array([1.0, -2.0, 0.5]))


@case(np.array([[0.5, 0.1, 0.0], [0.2, 0.9, 0.3], [0.1, -0.2, 0.7]]), np.array([0.3, -0.1, 0.2]),
      wrt=(0, 1))
def solve_triangular_unit_diagonal(A, b):
    x = sla.solve_triangular(A, b, lower=True, unit_diagonal=True)
    y = sla.solve_triangular(A, b, trans=2)
    return np.sum(x ** 2) + np.sum(y * np.array([1.0, 0.5, 2.0]))


@case(np.array([0.2, 0.3, -0.1]), np.array([1.0, 2.0, 3.0]), wrt=(0,))
def star_args_to_distribution(theta, y):
    params = (theta[0], np.exp(theta[1]))
    return -np.sum(norm.logpdf(y, *params)) - np.sum(stats.t.logpdf(y, 3.0, *params)) \
        + theta[2] ** 2


@case(0.4, -0.1, Y_REAL, wrt=(0, 1))
def norm_logpdf_all_keywords_reordered(mu, log_sigma, y):
    return -np.sum(stats.norm.logpdf(scale=np.exp(log_sigma), x=y, loc=mu))


@case(0.4, 0.3, Y_POSITIVE, wrt=(0, 1))
def gamma_rate_positional_loc(log_a, log_rate, y):
    return -np.sum(st.gamma.logpdf(y, np.exp(log_a), 0.0, 1.0 / np.exp(log_rate)))


@case(np.array([0.3, -0.2, 0.5]), ONE_HOT[:3])
def kl_one_hot_rel_entr_kl_div(logits, T):
    P = softmax(logits[None, :] + np.zeros((3, 1)), axis=1)
    return np.sum(rel_entr(T, P)) + np.sum(kl_div(T, P)) + np.sum(xlog1py(1 - T, -P))


# -- zeros and underflow: where a rule's guard decides --------------------------------------------

@case(np.array([0.0, 0.3, 0.7]), np.array([0.6, 0.1, 0.3]))
def em_expected_log_likelihood_zero_responsibility(r, q):
    """sum_k r_k log q_k in the responsibilities r, one of them exactly zero (as EM's
    E-step gives for a component far away): its derivative is log q_k all the same."""
    return -np.sum(xlogy(r, q)) + np.sum(xlog1py(r, -q))


@case(np.array([[0.0, -800.0, 1.0], [0.5, -790.0, 0.2]]),
      np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
def kl_one_hot_underflowed_softmax(Z, T):
    """A class whose probability underflows to 0.0 where the target is 0 too."""
    P = softmax(Z, axis=1)
    return np.sum(rel_entr(T, P)) + np.sum(kl_div(T, P))


@case(np.array([[0.0, -800.0, 1.0], [0.5, -790.0, 0.2]]),
      np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
def cross_entropy_underflowed_softmax_xlogy(Z, T):
    return -np.sum(xlogy(T, softmax(Z, axis=1)))


@case(np.array([0.0, -800.0, 1.0]))
def entropy_bonus_underflowed_softmax(z):
    """entr'(0) is infinite and softmax's derivative there is 0: the product is 0."""
    return -np.sum(entr(softmax(z)))


@case(np.array([[0.1], [0.5], [0.9], [1.6]]), np.array([0.2, -0.1, 0.4, 0.3]))
def gp_matern_in_its_inputs(X, y):
    """Inputs optimised (inducing points, warping): r = sqrt(d2) is 0 on the diagonal,
    where the kernel is smooth."""
    K = matern32(X, X, 1.0, 1.0) + 0.1 * np.eye(len(y))
    return 0.5 * y @ np.linalg.solve(K, y)


# -- arrays filled in loops, acquisition functions, classes ---------------------------------------

@case(np.array([[0.5, -0.5], [-0.3, 0.8]]), np.array([-0.6, 0.9]), MIX_X[:6], wrt=(0, 1))
def hmm_forward_preallocated_rows(trans_logits, means, x):
    logA = trans_logits - logsumexp(trans_logits, axis=1, keepdims=True)
    T = len(x)
    log_alpha = np.zeros((T, 2))
    log_alpha[0] = np.log(0.5) + norm.logpdf(x[0], means, 0.7)
    for t in range(1, T):
        log_alpha[t] = logsumexp(log_alpha[t - 1][:, None] + logA, axis=0) \
            + norm.logpdf(x[t], means, 0.7)
    return -logsumexp(log_alpha[-1])


@case(0.3, -0.4, SERIES, wrt=(0, 1))
def loglik_array_filled_in_loop(phi_raw, log_sigma, y):
    phi = np.tanh(phi_raw)
    ll = np.zeros(len(y) - 1)
    for t in range(1, len(y)):
        ll[t - 1] = stats.norm.logpdf(y[t], phi * y[t - 1], np.exp(log_sigma))
    return -ll.sum()


@case(np.array([0.2, -0.4, 0.1]), np.array([0.6, -0.2, 0.3, 0.1]))
def particle_weights_normalised_in_place(theta, obs):
    """Sequential importance weights, normalised in log space after each observation."""
    particles = np.array([-1.0, 0.0, 1.0]) + theta
    log_w = np.zeros(3)
    for y in obs:
        log_w += norm.logpdf(y, particles, 0.8)
        log_w -= logsumexp(log_w)
    return -np.sum(np.exp(log_w) * particles)


@case(np.array([-0.52]), X_GP, Y_GP)
def expected_improvement_at_candidate(x_new, X, y):
    """Bayesian optimisation: EI at a candidate, differentiated in the candidate."""
    ell, sf2, sn2 = 0.5, 1.0, 0.01
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    L = np.linalg.cholesky(K)
    k_star = rbf(x_new[None, :], X, ell, sf2)[0]
    alpha = cho_solve((L, True), y)
    mu = k_star @ alpha
    v = solve_triangular(L, k_star, lower=True)
    sigma = np.sqrt(sf2 - v @ v)
    best = np.min(y)
    z = (best - mu) / sigma
    return (best - mu) * norm.cdf(z) + sigma * norm.pdf(z)


@case(np.array([-0.52]), X_GP, Y_GP)
def log_probability_of_improvement(x_new, X, y):
    K = rbf(X, X, 0.5, 1.0) + 0.01 * np.eye(len(y))
    c = cho_factor(K, lower=True)
    k_star = rbf(x_new[None, :], X, 0.5, 1.0)[0]
    mu = k_star @ cho_solve(c, y)
    var = 1.0 - k_star @ cho_solve(c, k_star)
    return log_ndtr((np.min(y) - 0.01 - mu) / np.sqrt(var))


@case(0.03, 0.4, 0.5, -0.3, wrt=(0, 1, 2, 3), hessian=True)
def sabr_hagan_implied_vol(F_shift, alpha, nu, rho_raw):
    F, K, T, beta = 0.03 + F_shift * 0.1, 0.035, 2.0, 0.5
    rho = np.tanh(rho_raw)
    FK = F * K
    logFK = np.log(F / K)
    z = nu / alpha * FK ** ((1 - beta) / 2) * logFK
    x = np.log((np.sqrt(1 - 2 * rho * z + z ** 2) + z - rho) / (1 - rho))
    A = alpha / (FK ** ((1 - beta) / 2) * (1 + (1 - beta) ** 2 / 24 * logFK ** 2))
    B = 1 + ((1 - beta) ** 2 / 24 * alpha ** 2 / FK ** (1 - beta)
             + rho * beta * nu * alpha / (4 * FK ** ((1 - beta) / 2))
             + (2 - 3 * rho ** 2) / 24 * nu ** 2) * T
    return A * z / x * B


@case(-0.5, 0.2, SERIES, wrt=(0, 1), hessian=True)
def ornstein_uhlenbeck_exact(log_theta, log_sigma, x):
    theta, sigma, dt, mu = np.exp(log_theta), np.exp(log_sigma), 0.5, 0.1
    decay = np.exp(-theta * dt)
    m = mu + (x[:-1] - mu) * decay
    v = sigma ** 2 / (2 * theta) * (1 - decay ** 2)
    return -np.sum(norm.logpdf(x[1:], m, np.sqrt(v)))


class GaussianModel:
    """A user's model class: the loss is a method reading attributes."""

    def __init__(self, y, prior_scale):
        self.y = y
        self.prior_scale = prior_scale

    def loss(self, theta):
        mu, log_sigma = theta[0], theta[1]
        lik = stats.norm.logpdf(self.y, mu, np.exp(log_sigma)).sum()
        prior = stats.norm.logpdf(mu, 0.0, self.prior_scale)
        return -(lik + prior)


MODEL = GaussianModel(Y_REAL, 3.0)


def _method_case():
    CASES.append(Case(MODEL.loss, (np.array([0.3, -0.2]),), (0,), True))


_method_case()


@case(0.4, Y_REAL, prior_scale=2.0)
def keyword_defaults_prior(mu, y, prior_scale=5.0, *, df=4.0):
    return -np.sum(stats.t.logpdf(y, df, mu)) - norm.logpdf(mu, 0.0, prior_scale)


@case(np.array([0.2, -0.1]), X_DESIGN[:, 1:], Y_BINARY, hessian=True)
def logistic_regression_lambda_and_map(w, X, y):
    link = lambda eta: expit(eta)  # noqa: E731
    p = link(X @ w)
    losses = [-(yi * np.log(pi) + (1 - yi) * np.log1p(-pi)) for yi, pi in zip(y, p)]
    return sum(losses)


# -- data as plain lists, as textbook code keeps it ---------------------------------------------------

HEIGHTS = [1.62, 1.75, 1.80, 1.68, 1.71]
GOALS = [1, 0, 3, 2, 1, 0]


@case(1.7, -2.5, wrt=(0, 1), hessian=True)
def gaussian_nll_list_data(mu, log_sigma):
    return -np.sum(stats.norm.logpdf(HEIGHTS, mu, np.exp(log_sigma)))


@case(0.2, GOALS)
def poisson_list_counts_argument(log_rate, goals):
    return -np.sum(stats.poisson.logpmf(goals, np.exp(log_rate)))


@case(np.array([0.2, -0.4, 0.1]))
def logsumexp_b_list(a):
    return logsumexp(a, b=[0.5, 0.3, 0.2])


# -- a flat parameter vector, as scipy.optimize.minimize passes it ------------------------------------

@case(np.array([0.3, -0.4, 0.25, -0.2, 0.1]), X_DESIGN, Y_REAL, hessian=True)
def flat_vector_split_for_minimize(theta, X, y):
    beta, rest = np.split(theta, [3])
    log_sigma, log_tau = rest
    resid = y - X @ beta
    return -np.sum(stats.norm.logpdf(resid, 0.0, np.exp(log_sigma))) \
        - np.sum(norm.logpdf(beta, 0.0, np.exp(log_tau)))


@case(np.concatenate([np.full(9, 0.1) + 0.05 * np.arange(9.0), [0.2, -0.1, 0.3]]), X_DESIGN,
      LABELS)
def flat_vector_reshaped_softmax_regression(theta, X, labels):
    W = theta[:9].reshape(3, 3)
    b = theta[9:]
    logp = log_softmax(X @ W + b, axis=1)
    return -logp[np.arange(len(labels)), labels].sum() + 0.5 * theta @ theta


@case(np.array([0.1, -0.2, 0.3, 0.4, 0.05, -0.1, 0.2, 0.3, -0.2, 0.1]), MIX_X2)
def gmm_cholesky_from_tril_indices(theta, X):
    """Two full-covariance components, each Cholesky factor filled from a flat vector."""
    rows, cols = np.tril_indices(2)
    logps = []
    for k in range(2):
        chunk = theta[5 * k:5 * k + 5]
        L = np.zeros((2, 2))
        L[rows, cols] = chunk[2:]
        L = L + 0.5 * np.eye(2)
        logps.append(multivariate_normal.logpdf(X, chunk[:2], L @ L.T))
    return -np.sum(logsumexp(np.array(logps) + np.log(0.5), axis=0))


@case(np.array([-0.5, 0.1, -2.0]), X_GP[:, 0], Y_GP)
def gp_mvn_logpdf_lower_filled_kernel(log_theta, x, y):
    """The marginal likelihood through multivariate_normal.logpdf of a kernel filled below
    the diagonal only (SciPy reads the lower triangle)."""
    ell, sf2, sn2 = np.exp(log_theta)
    K = lower_kernel(x, ell, sf2, sn2)
    return -multivariate_normal.logpdf(y, np.zeros(len(y)), K)


@case(-0.5, -2.0, X_GP, Y_GP, wrt=(0, 1), hessian=True)
def gp_nll_scalar_hyperparameters_cho(log_ell, log_noise, X, y):
    """Hyper-parameters as numbers, the factor kept as cho_factor's tuple."""
    K = rbf(X, X, np.exp(log_ell), 1.0) + np.exp(log_noise) * np.eye(len(y))
    factor = cho_factor(K)
    alpha = cho_solve(factor, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0])))


@case(-0.5, -2.0, X_GP, Y_GP, wrt=(0, 1), hessian=True)
def gp_nll_scalar_hyperparameters_lu(log_ell, log_noise, X, y):
    K = rbf(X, X, np.exp(log_ell), 1.0) + np.exp(log_noise) * np.eye(len(y))
    lu_piv = sla.lu_factor(K)
    alpha = sla.lu_solve(lu_piv, y)
    return 0.5 * y @ alpha + 0.5 * np.linalg.slogdet(K)[1]


@case(0.3, np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]]), hessian=True)
def shrinkage_covariance_eigh(rho, S):
    """Ledoit-Wolf style shrinkage in a number: eigen-decomposition of the shrunk matrix."""
    T = (1.0 - rho) * S + rho * np.trace(S) / 3.0 * np.eye(3)
    w, V = np.linalg.eigh(T)
    return np.sum(np.log(w)) + V[0, 2] ** 2


@case(0.3, np.array([[0.1, 0.5, -0.2], [0.4, 0.0, 0.3], [-0.1, 0.2, 0.6]]), hessian=True)
def procrustes_svd_in_a_number(s, B):
    M = np.eye(3) * 2.0 + s * B
    U, sv, Vt = np.linalg.svd(M)
    return np.sum(sv ** 2) + np.sum((U @ Vt) * B)


# -- every keyword spelled out at its default, as copied from SciPy's documentation -------------

@case(np.array([-0.5, 0.1, -2.0]), X_GP, Y_GP)
def gp_nll_keywords_at_their_defaults(log_theta, X, y):
    ell, sf2, sn2 = np.exp(log_theta)
    K = rbf(X, X, ell, sf2) + sn2 * np.eye(len(y))
    L = sla.cholesky(K, lower=True, overwrite_a=False, check_finite=True)
    a = sla.solve_triangular(L, y, trans=0, lower=True, unit_diagonal=False, overwrite_b=False,
                             check_finite=True)
    return 0.5 * a @ a + np.sum(np.log(np.diag(L)))


@case(np.array([0.1, 0.5, -0.3]))
def logsumexp_return_sign_false(a):
    return special.logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False)
