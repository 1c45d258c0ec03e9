"""Continuous distributions (see the package's docstring for the partials' pattern)."""
import math

import numpy as np
from scipy import special, stats

from . import elementwise


# -- normal ---------------------------------------------------------------------------

@elementwise(stats.norm.logpdf)
def norm_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -z / scale, z / scale, (z * z - 1) / scale


@elementwise(stats.norm.pdf)
def norm_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -y * z / scale, y * z / scale, y * (z * z - 1) / scale


@elementwise(stats.norm.cdf)
def norm_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = np.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * scale)
    return p, -p, -p * z


@elementwise(stats.norm.logcdf)
def norm_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-z * z / 2 - y) / (math.sqrt(2 * math.pi) * scale)  # (pdf over cdf)
    return r, -r, -r * z


# -- Student's t ----------------------------------------------------------------------

@elementwise(stats.t.logpdf)
def t_logpdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    w = (df + 1) * z / (df + z * z)  # (-g'(z))
    ddf = 0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df -
                 np.log1p(z * z / df) + z * w / df)
    return -w / scale, ddf, w / scale, (w * z - 1) / scale


@elementwise(stats.t.pdf)
def t_pdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    w = (df + 1) * z / (df + z * z)
    ddf = 0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df -
                 np.log1p(z * z / df) + z * w / df)
    return -y * w / scale, y * ddf, y * w / scale, y * (w * z - 1) / scale


@elementwise(stats.t.cdf)
def t_cdf_partials(y, x, df, loc=0, scale=1):
    p = stats.t.pdf(x, df, loc, scale)
    return p, no_derivative("scipy.stats.t.cdf in df"), -p, -p * (x - loc) / scale


@elementwise(stats.t.logcdf)
def t_logcdf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.t.logpdf(x, df, loc, scale) - y)
    return r, no_derivative("scipy.stats.t.logcdf in df"), -r, -r * (x - loc) / scale


# -- beta and gamma -------------------------------------------------------------------

@elementwise(stats.beta.logpdf)
def beta_logpdf_partials(y, x, a, b, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - (b - 1) / (1 - z)
    both = special.digamma(a + b)
    return gz / scale, np.log(z) - special.digamma(a) + both, \
        np.log1p(-z) - special.digamma(b) + both, -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.beta.pdf)
def beta_pdf_partials(y, x, a, b, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - (b - 1) / (1 - z)
    both = special.digamma(a + b)
    return y * gz / scale, y * (np.log(z) - special.digamma(a) + both), \
        y * (np.log1p(-z) - special.digamma(b) + both), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@elementwise(stats.beta.cdf)
def beta_cdf_partials(y, x, a, b, loc=0, scale=1):
    p = stats.beta.pdf(x, a, b, loc, scale)
    return p, no_derivative("scipy.stats.beta.cdf in a"), \
        no_derivative("scipy.stats.beta.cdf in b"), -p, -p * (x - loc) / scale


@elementwise(stats.beta.logcdf)
def beta_logcdf_partials(y, x, a, b, loc=0, scale=1):
    r = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - y)
    return r, no_derivative("scipy.stats.beta.logcdf in a"), \
        no_derivative("scipy.stats.beta.logcdf in b"), -r, -r * (x - loc) / scale


@elementwise(stats.gamma.logpdf)
def gamma_logpdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - 1
    return gz / scale, np.log(z) - special.digamma(a), -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.gamma.pdf)
def gamma_pdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - 1
    return y * gz / scale, y * (np.log(z) - special.digamma(a)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@elementwise(stats.gamma.cdf)
def gamma_cdf_partials(y, x, a, loc=0, scale=1):
    p = stats.gamma.pdf(x, a, loc, scale)
    return p, no_derivative("scipy.stats.gamma.cdf in a"), -p, -p * (x - loc) / scale


@elementwise(stats.gamma.logcdf)
def gamma_logcdf_partials(y, x, a, loc=0, scale=1):
    r = np.exp(stats.gamma.logpdf(x, a, loc, scale) - y)
    return r, no_derivative("scipy.stats.gamma.logcdf in a"), -r, -r * (x - loc) / scale


@elementwise(stats.chi2.logpdf)
def chi2_logpdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (df / 2 - 1) / z - 0.5
    return gz / scale, 0.5 * (np.log(z / 2) - special.digamma(df / 2)), -gz / scale, \
        -(gz * z + 1) / scale


@elementwise(stats.chi2.pdf)
def chi2_pdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (df / 2 - 1) / z - 0.5
    return y * gz / scale, y * 0.5 * (np.log(z / 2) - special.digamma(df / 2)), \
        -y * gz / scale, -y * (gz * z + 1) / scale


@elementwise(stats.chi2.cdf)
def chi2_cdf_partials(y, x, df, loc=0, scale=1):
    p = stats.chi2.pdf(x, df, loc, scale)
    return p, no_derivative("scipy.stats.chi2.cdf in df"), -p, -p * (x - loc) / scale


@elementwise(stats.chi2.logcdf)
def chi2_logcdf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.chi2.logpdf(x, df, loc, scale) - y)
    return r, no_derivative("scipy.stats.chi2.logcdf in df"), -r, -r * (x - loc) / scale


# -- location-scale families without shape parameters ----------------------------------

@elementwise(stats.expon.logpdf)
def expon_logpdf_partials(y, x, loc=0, scale=1):
    return -1 / scale, 1 / scale, ((x - loc) / scale - 1) / scale


@elementwise(stats.expon.pdf)
def expon_pdf_partials(y, x, loc=0, scale=1):
    return -y / scale, y / scale, y * ((x - loc) / scale - 1) / scale


@elementwise(stats.expon.cdf)
def expon_cdf_partials(y, x, loc=0, scale=1):
    p = stats.expon.pdf(x, loc, scale)
    return p, -p, -p * (x - loc) / scale


@elementwise(stats.expon.logcdf)
def expon_logcdf_partials(y, x, loc=0, scale=1):
    r = (np.exp(-y) - 1) / scale  # (the pdf over the cdf: exp(-z) / (1 - exp(-z)))
    return r, -r, -r * (x - loc) / scale


@elementwise(stats.laplace.logpdf)
def laplace_logpdf_partials(y, x, loc=0, scale=1):
    s = np.sign(x - loc)
    return -s / scale, s / scale, (s * (x - loc) / scale - 1) / scale


@elementwise(stats.laplace.pdf)
def laplace_pdf_partials(y, x, loc=0, scale=1):
    s = np.sign(x - loc)
    return -y * s / scale, y * s / scale, y * (s * (x - loc) / scale - 1) / scale


@elementwise(stats.laplace.cdf)
def laplace_cdf_partials(y, x, loc=0, scale=1):
    p = stats.laplace.pdf(x, loc, scale)
    return p, -p, -p * (x - loc) / scale


@elementwise(stats.laplace.logcdf)
def laplace_logcdf_partials(y, x, loc=0, scale=1):
    r = np.exp(stats.laplace.logpdf(x, loc, scale) - y)
    return r, -r, -r * (x - loc) / scale


@elementwise(stats.logistic.logpdf)
def logistic_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -np.tanh(z / 2)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.logistic.pdf)
def logistic_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -np.tanh(z / 2)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@elementwise(stats.logistic.cdf)
def logistic_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = y * (1 - y) / scale  # (the cdf is expit(z))
    return p, -p, -p * z


@elementwise(stats.logistic.logcdf)
def logistic_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = special.expit(-z) / scale  # (the pdf over the cdf: 1 - expit(z))
    return r, -r, -r * z


@elementwise(stats.cauchy.logpdf)
def cauchy_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.cauchy.pdf)
def cauchy_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@elementwise(stats.cauchy.cdf)
def cauchy_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = 1 / (math.pi * scale * (1 + z * z))
    return p, -p, -p * z


@elementwise(stats.cauchy.logcdf)
def cauchy_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-y) / (math.pi * scale * (1 + z * z))
    return r, -r, -r * z


# -- more families: lognormal and Weibull (shape differentiable in every method too),
# half-normal, half-Cauchy, inverse gamma, uniform ------------------------------------

@elementwise(stats.lognorm.logpdf)
def lognorm_logpdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    gz = -(1 + u / s) / z
    return gz / scale, (u * u - 1) / s, -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.lognorm.pdf)
def lognorm_pdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    gz = -(1 + u / s) / z
    return y * gz / scale, y * (u * u - 1) / s, -y * gz / scale, -y * (gz * z + 1) / scale


@elementwise(stats.lognorm.cdf)
def lognorm_cdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # (the cdf is ndtr(u))
    return q / (s * z * scale), -q * u / s, -q / (s * z * scale), -q / (s * scale)


@elementwise(stats.lognorm.logcdf)
def lognorm_logcdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2 - y) / math.sqrt(2 * math.pi)
    return q / (s * z * scale), -q * u / s, -q / (s * z * scale), -q / (s * scale)


@elementwise(stats.lognorm.sf)
def lognorm_sf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2) / math.sqrt(2 * math.pi)
    return -q / (s * z * scale), q * u / s, q / (s * z * scale), q / (s * scale)


@elementwise(stats.lognorm.logsf)
def lognorm_logsf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2 - y) / math.sqrt(2 * math.pi)
    return -q / (s * z * scale), q * u / s, q / (s * z * scale), q / (s * scale)


@elementwise(stats.weibull_min.logpdf)
def weibull_min_logpdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    gz = (c - 1 - c * zc) / z
    return gz / scale, 1 / c + (1 - zc) * np.log(z), -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.weibull_min.pdf)
def weibull_min_pdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    gz = (c - 1 - c * zc) / z
    return y * gz / scale, y * (1 / c + (1 - zc) * np.log(z)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@elementwise(stats.weibull_min.cdf)
def weibull_min_cdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = (1 - y) * zc  # (the cdf is 1 - exp(-z^c): q is exp(-z^c) z^c)
    return q * c / (z * scale), q * np.log(z), -q * c / (z * scale), -q * c / scale


@elementwise(stats.weibull_min.logcdf)
def weibull_min_logcdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = zc / np.expm1(zc)  # (exp(-z^c) z^c over the cdf)
    return q * c / (z * scale), q * np.log(z), -q * c / (z * scale), -q * c / scale


@elementwise(stats.weibull_min.sf)
def weibull_min_sf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = y * zc  # (the sf is exp(-z^c))
    return -q * c / (z * scale), -q * np.log(z), q * c / (z * scale), q * c / scale


@elementwise(stats.weibull_min.logsf)
def weibull_min_logsf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c  # (the logsf is -z^c)
    return -zc * c / (z * scale), -zc * np.log(z), zc * c / (z * scale), zc * c / scale


@elementwise(stats.halfnorm.logpdf)
def halfnorm_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -z / scale, z / scale, (z * z - 1) / scale


@elementwise(stats.halfnorm.pdf)
def halfnorm_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -y * z / scale, y * z / scale, y * (z * z - 1) / scale


@elementwise(stats.halfcauchy.logpdf)
def halfcauchy_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.halfcauchy.pdf)
def halfcauchy_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@elementwise(stats.invgamma.logpdf)
def invgamma_logpdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (1 / z - a - 1) / z
    return gz / scale, -np.log(z) - special.digamma(a), -gz / scale, -(gz * z + 1) / scale


@elementwise(stats.invgamma.pdf)
def invgamma_pdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (1 / z - a - 1) / z
    return y * gz / scale, -y * (np.log(z) + special.digamma(a)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@elementwise(stats.uniform.logpdf)
def uniform_logpdf_partials(y, x, loc=0, scale=1):
    # -log(scale) on the support: flat in x and loc (None: a zero, not a refusal)
    return None, None, -1 / scale


@elementwise(stats.uniform.pdf)
def uniform_pdf_partials(y, x, loc=0, scale=1):
    return None, None, -y / scale


@elementwise(stats.vonmises.logpdf)
def vonmises_logpdf_partials(y, x, kappa, loc=0, scale=1):
    # kappa cos(z) - log(2 pi I0(kappa)) - log(scale); I1 / I0 as i1e / i0e (no overflow)
    z = (x - loc) / scale
    gz = -kappa * np.sin(z)
    return gz / scale, np.cos(z) - special.i1e(kappa) / special.i0e(kappa), -gz / scale, \
        -(gz * z + 1) / scale


@elementwise(stats.vonmises.pdf)
def vonmises_pdf_partials(y, x, kappa, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -kappa * np.sin(z)
    return y * gz / scale, y * (np.cos(z) - special.i1e(kappa) / special.i0e(kappa)), \
        -y * gz / scale, -y * (gz * z + 1) / scale


# the entropy of a location-scale family without shape parameters: h0 + log(scale)
@elementwise(stats.norm.entropy, stats.expon.entropy, stats.laplace.entropy,
        stats.logistic.entropy, stats.cauchy.entropy, stats.halfnorm.entropy,
        stats.halfcauchy.entropy, stats.uniform.entropy)
def location_scale_entropy_partials(y, loc=0, scale=1):
    return None, 1 / scale  # (flat in loc: None, a zero)


@elementwise(stats.gamma.entropy)
def gamma_entropy_partials(y, a, loc=0, scale=1):
    # a + gammaln(a) + (1 - a) digamma(a) + log(scale)
    return 1 + (1 - a) * special.polygamma(1, a), None, 1 / scale


# -- survival functions: sf = 1 - cdf, the cdf's partials negated ----------------------

@elementwise(stats.norm.sf)
def norm_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = np.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * scale)
    return -p, p, p * z


@elementwise(stats.norm.logsf)
def norm_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-z * z / 2 - y) / (math.sqrt(2 * math.pi) * scale)  # (pdf over sf)
    return -r, r, r * z


@elementwise(stats.t.sf)
def t_sf_partials(y, x, df, loc=0, scale=1):
    p = stats.t.pdf(x, df, loc, scale)
    return -p, no_derivative("scipy.stats.t.sf in df"), p, p * (x - loc) / scale


@elementwise(stats.t.logsf)
def t_logsf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.t.logpdf(x, df, loc, scale) - y)
    return -r, no_derivative("scipy.stats.t.logsf in df"), r, r * (x - loc) / scale


@elementwise(stats.beta.sf)
def beta_sf_partials(y, x, a, b, loc=0, scale=1):
    p = stats.beta.pdf(x, a, b, loc, scale)
    return -p, no_derivative("scipy.stats.beta.sf in a"), \
        no_derivative("scipy.stats.beta.sf in b"), p, p * (x - loc) / scale


@elementwise(stats.beta.logsf)
def beta_logsf_partials(y, x, a, b, loc=0, scale=1):
    r = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - y)
    return -r, no_derivative("scipy.stats.beta.logsf in a"), \
        no_derivative("scipy.stats.beta.logsf in b"), r, r * (x - loc) / scale


@elementwise(stats.gamma.sf)
def gamma_sf_partials(y, x, a, loc=0, scale=1):
    p = stats.gamma.pdf(x, a, loc, scale)
    return -p, no_derivative("scipy.stats.gamma.sf in a"), p, p * (x - loc) / scale


@elementwise(stats.gamma.logsf)
def gamma_logsf_partials(y, x, a, loc=0, scale=1):
    r = np.exp(stats.gamma.logpdf(x, a, loc, scale) - y)
    return -r, no_derivative("scipy.stats.gamma.logsf in a"), r, r * (x - loc) / scale


@elementwise(stats.chi2.sf)
def chi2_sf_partials(y, x, df, loc=0, scale=1):
    p = stats.chi2.pdf(x, df, loc, scale)
    return -p, no_derivative("scipy.stats.chi2.sf in df"), p, p * (x - loc) / scale


@elementwise(stats.chi2.logsf)
def chi2_logsf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.chi2.logpdf(x, df, loc, scale) - y)
    return -r, no_derivative("scipy.stats.chi2.logsf in df"), r, r * (x - loc) / scale


@elementwise(stats.expon.sf)
def expon_sf_partials(y, x, loc=0, scale=1):
    p = stats.expon.pdf(x, loc, scale)
    return -p, p, p * (x - loc) / scale


@elementwise(stats.expon.logsf)
def expon_logsf_partials(y, x, loc=0, scale=1):
    return -1 / scale, 1 / scale, (x - loc) / (scale * scale)  # (logsf = -z)


@elementwise(stats.laplace.sf)
def laplace_sf_partials(y, x, loc=0, scale=1):
    p = stats.laplace.pdf(x, loc, scale)
    return -p, p, p * (x - loc) / scale


@elementwise(stats.laplace.logsf)
def laplace_logsf_partials(y, x, loc=0, scale=1):
    r = np.exp(stats.laplace.logpdf(x, loc, scale) - y)
    return -r, r, r * (x - loc) / scale


@elementwise(stats.logistic.sf)
def logistic_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = y * (1 - y) / scale  # (the sf is expit(-z))
    return -p, p, p * z


@elementwise(stats.logistic.logsf)
def logistic_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = special.expit(z) / scale  # (the pdf over the sf: 1 - expit(-z))
    return -r, r, r * z


@elementwise(stats.cauchy.sf)
def cauchy_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = 1 / (math.pi * scale * (1 + z * z))
    return -p, p, p * z


@elementwise(stats.cauchy.logsf)
def cauchy_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-y) / (math.pi * scale * (1 + z * z))
    return -r, r, r * z


# -- the normal's quantiles: ppf(q) = loc + scale ndtri(q), isf(q) = ppf(1 - q) ----------

@elementwise(stats.norm.ppf)
def norm_ppf_partials(y, q, loc=0, scale=1):
    z = (y - loc) / scale
    return scale * math.sqrt(2 * math.pi) * np.exp(z * z / 2), 1.0, z


@elementwise(stats.norm.isf)
def norm_isf_partials(y, q, loc=0, scale=1):
    z = (y - loc) / scale
    return -scale * math.sqrt(2 * math.pi) * np.exp(z * z / 2), 1.0, z
