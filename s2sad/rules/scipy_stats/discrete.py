"""Discrete distributions: differentiable in a rate, a probability or a real dispersion;
the counts (k, n, loc) refused where they depend on the inputs."""
import numpy as np
from scipy import special, stats

from . import elementwise


# -- discrete: differentiable in the rate or the probability, not in the counts --------

@elementwise(stats.poisson.logpmf)
def poisson_logpmf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logpmf in k (a count)"), (k - loc) / mu - 1, \
        no_derivative("scipy.stats.poisson.logpmf in loc (a count)")


@elementwise(stats.poisson.pmf)
def poisson_pmf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.pmf in k (a count)"), \
        y * ((k - loc) / mu - 1), no_derivative("scipy.stats.poisson.pmf in loc (a count)")


@elementwise(stats.poisson.cdf)
def poisson_cdf_partials(y, k, mu, loc=0):
    # P(K <= k) = Q(floor(k - loc) + 1, mu): its derivative in mu is minus the pmf there
    return no_derivative("scipy.stats.poisson.cdf in k (a count)"), \
        -stats.poisson.pmf(np.floor(k), mu, loc), \
        no_derivative("scipy.stats.poisson.cdf in loc (a count)")


@elementwise(stats.poisson.logcdf)
def poisson_logcdf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logcdf in k (a count)"), \
        -np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - y), \
        no_derivative("scipy.stats.poisson.logcdf in loc (a count)")


@elementwise(stats.binom.logpmf)
def binom_logpmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logpmf in k (a count)"), \
        no_derivative("scipy.stats.binom.logpmf in n (a count)"), \
        (k - loc) / p - (n - k + loc) / (1 - p), \
        no_derivative("scipy.stats.binom.logpmf in loc (a count)")


@elementwise(stats.binom.pmf)
def binom_pmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.pmf in k (a count)"), \
        no_derivative("scipy.stats.binom.pmf in n (a count)"), \
        y * ((k - loc) / p - (n - k + loc) / (1 - p)), \
        no_derivative("scipy.stats.binom.pmf in loc (a count)")


@elementwise(stats.binom.cdf)
def binom_cdf_partials(y, k, n, p, loc=0):
    # d/dp P(K <= k; n, p) = -n P(K = floor(k - loc); n - 1, p)
    return no_derivative("scipy.stats.binom.cdf in k (a count)"), \
        no_derivative("scipy.stats.binom.cdf in n (a count)"), \
        -n * stats.binom.pmf(np.floor(k), n - 1, p, loc), \
        no_derivative("scipy.stats.binom.cdf in loc (a count)")


@elementwise(stats.binom.logcdf)
def binom_logcdf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logcdf in k (a count)"), \
        no_derivative("scipy.stats.binom.logcdf in n (a count)"), \
        -n * np.exp(stats.binom.logpmf(np.floor(k), n - 1, p, loc) - y), \
        no_derivative("scipy.stats.binom.logcdf in loc (a count)")


@elementwise(stats.poisson.sf)
def poisson_sf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.sf in k (a count)"), \
        stats.poisson.pmf(np.floor(k), mu, loc), \
        no_derivative("scipy.stats.poisson.sf in loc (a count)")


@elementwise(stats.poisson.logsf)
def poisson_logsf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logsf in k (a count)"), \
        np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - y), \
        no_derivative("scipy.stats.poisson.logsf in loc (a count)")


@elementwise(stats.binom.sf)
def binom_sf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.sf in k (a count)"), \
        no_derivative("scipy.stats.binom.sf in n (a count)"), \
        n * stats.binom.pmf(np.floor(k), n - 1, p, loc), \
        no_derivative("scipy.stats.binom.sf in loc (a count)")


@elementwise(stats.binom.logsf)
def binom_logsf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logsf in k (a count)"), \
        no_derivative("scipy.stats.binom.logsf in n (a count)"), \
        n * np.exp(stats.binom.logpmf(np.floor(k), n - 1, p, loc) - y), \
        no_derivative("scipy.stats.binom.logsf in loc (a count)")


@elementwise(stats.bernoulli.logpmf)
def bernoulli_logpmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.bernoulli.logpmf in k (a count)"), \
        (k - loc) / p - (1 - k + loc) / (1 - p), \
        no_derivative("scipy.stats.bernoulli.logpmf in loc (a count)")


@elementwise(stats.bernoulli.pmf)
def bernoulli_pmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.bernoulli.pmf in k (a count)"), \
        y * ((k - loc) / p - (1 - k + loc) / (1 - p)), \
        no_derivative("scipy.stats.bernoulli.pmf in loc (a count)")


@elementwise(stats.geom.logpmf)
def geom_logpmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.geom.logpmf in k (a count)"), \
        1 / p - (k - loc - 1) / (1 - p), \
        no_derivative("scipy.stats.geom.logpmf in loc (a count)")


@elementwise(stats.geom.pmf)
def geom_pmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.geom.pmf in k (a count)"), \
        y * (1 / p - (k - loc - 1) / (1 - p)), \
        no_derivative("scipy.stats.geom.pmf in loc (a count)")


@elementwise(stats.betabinom.logpmf)
def betabinom_logpmf_partials(y, k, n, a, b, loc=0):
    # log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b), in a and b
    both = special.digamma(a + b) - special.digamma(n + a + b)
    return no_derivative("scipy.stats.betabinom.logpmf in k (a count)"), \
        no_derivative("scipy.stats.betabinom.logpmf in n (a count)"), \
        special.digamma(k - loc + a) - special.digamma(a) + both, \
        special.digamma(n - k + loc + b) - special.digamma(b) + both, \
        no_derivative("scipy.stats.betabinom.logpmf in loc (a count)")


@elementwise(stats.betabinom.pmf)
def betabinom_pmf_partials(y, k, n, a, b, loc=0):
    both = special.digamma(a + b) - special.digamma(n + a + b)
    return no_derivative("scipy.stats.betabinom.pmf in k (a count)"), \
        no_derivative("scipy.stats.betabinom.pmf in n (a count)"), \
        y * (special.digamma(k - loc + a) - special.digamma(a) + both), \
        y * (special.digamma(n - k + loc + b) - special.digamma(b) + both), \
        no_derivative("scipy.stats.betabinom.pmf in loc (a count)")


# the negative binomial's n is a real dispersion (differentiable where the pmf's gammaln
# terms are); its cdf in p is the regularized incomplete beta function I_p(n, k + 1),
# whose derivative in p is p^(n-1) (1-p)^k / B(n, k + 1), and not elementary in n

@elementwise(stats.nbinom.logpmf)
def nbinom_logpmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.nbinom.logpmf in k (a count)"), \
        special.digamma(k - loc + n) - special.digamma(n) + np.log(p), \
        n / p - (k - loc) / (1 - p), \
        no_derivative("scipy.stats.nbinom.logpmf in loc (a count)")


@elementwise(stats.nbinom.pmf)
def nbinom_pmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.nbinom.pmf in k (a count)"), \
        y * (special.digamma(k - loc + n) - special.digamma(n) + np.log(p)), \
        y * (n / p - (k - loc) / (1 - p)), \
        no_derivative("scipy.stats.nbinom.pmf in loc (a count)")


@elementwise(stats.nbinom.cdf)
def nbinom_cdf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.cdf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.cdf in n"), \
        np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1)), \
        no_derivative("scipy.stats.nbinom.cdf in loc (a count)")


@elementwise(stats.nbinom.logcdf)
def nbinom_logcdf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.logcdf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.logcdf in n"), \
        np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1) - y), \
        no_derivative("scipy.stats.nbinom.logcdf in loc (a count)")


@elementwise(stats.nbinom.sf)
def nbinom_sf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.sf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.sf in n"), \
        -np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1)), \
        no_derivative("scipy.stats.nbinom.sf in loc (a count)")


@elementwise(stats.nbinom.logsf)
def nbinom_logsf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.logsf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.logsf in n"), \
        -np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1) - y), \
        no_derivative("scipy.stats.nbinom.logsf in loc (a count)")
