"""scipy.stats distributions: logpdf, pdf, logcdf and cdf (logpmf and pmf for the discrete
ones) in x, loc, scale and the shape parameters whose derivative is elementary.

A rule is keyed by the distribution's bound method (stats.norm.logpdf): each attribute
access makes a new bound method, but bound methods of one object and one function are
equal and hash alike, so a dict finds the rule (the frontend resolves the attribute of
a distribution as it does a module's, see frontend._is_distribution). Templates name the
parameters as SciPy's signatures do (loc=, scale=, df=, a=, b=, mu=, n=, p=), so
keyword calls bind; the defaults are SciPy's.

With z = (x - loc) / scale and logpdf = g(z) - log(scale), the partials of logpdf are
g'(z) / scale in x, -g'(z) / scale in loc and -(g'(z) z + 1) / scale in scale; those of
pdf are the pdf times them; those of cdf the pdf, -pdf and -pdf z; those of logcdf the
same times exp(logpdf - logcdf). A cdf's shape parameter (t's df, gamma's a, beta's a
and b) is a parameter of an incomplete beta or gamma function, whose derivative NumPy
cannot write: refused where it depends on the inputs, as are the integer counts of the
discrete distributions (k, n, loc), never a silent zero. Loaded only where SciPy is.
"""
import math

import numpy as np
from scipy import special, stats

from . import adjoint, partials, tangent
from .template import known_rank

def _broadcast_shape(call):
    """Every operand broadcasts into the result: the analysis's unary and binary kinds
    for one and two operands; three or more it has no kind for."""
    count = len(call.args) + len(call.keywords)
    return "unary" if count == 1 else "binary" if count == 2 else "other"


def _rules(*functions):
    """Partials registered for elementwise distribution methods (broadcasting exact)."""
    return partials(*functions, shape=_broadcast_shape)


# -- normal ---------------------------------------------------------------------------

@_rules(stats.norm.logpdf)
def norm_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -z / scale, z / scale, (z * z - 1) / scale


@_rules(stats.norm.pdf)
def norm_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -y * z / scale, y * z / scale, y * (z * z - 1) / scale


@_rules(stats.norm.cdf)
def norm_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = np.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * scale)
    return p, -p, -p * z


@_rules(stats.norm.logcdf)
def norm_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-z * z / 2 - y) / (math.sqrt(2 * math.pi) * scale)  # (pdf over cdf)
    return r, -r, -r * z


# -- Student's t ----------------------------------------------------------------------

@_rules(stats.t.logpdf)
def t_logpdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    w = (df + 1) * z / (df + z * z)  # (-g'(z))
    ddf = 0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df -
                 np.log1p(z * z / df) + z * w / df)
    return -w / scale, ddf, w / scale, (w * z - 1) / scale


@_rules(stats.t.pdf)
def t_pdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    w = (df + 1) * z / (df + z * z)
    ddf = 0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df -
                 np.log1p(z * z / df) + z * w / df)
    return -y * w / scale, y * ddf, y * w / scale, y * (w * z - 1) / scale


@_rules(stats.t.cdf)
def t_cdf_partials(y, x, df, loc=0, scale=1):
    p = stats.t.pdf(x, df, loc, scale)
    return p, no_derivative("scipy.stats.t.cdf in df"), -p, -p * (x - loc) / scale


@_rules(stats.t.logcdf)
def t_logcdf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.t.logpdf(x, df, loc, scale) - y)
    return r, no_derivative("scipy.stats.t.logcdf in df"), -r, -r * (x - loc) / scale


# -- beta and gamma -------------------------------------------------------------------

@_rules(stats.beta.logpdf)
def beta_logpdf_partials(y, x, a, b, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - (b - 1) / (1 - z)
    both = special.digamma(a + b)
    return gz / scale, np.log(z) - special.digamma(a) + both, \
        np.log1p(-z) - special.digamma(b) + both, -gz / scale, -(gz * z + 1) / scale


@_rules(stats.beta.pdf)
def beta_pdf_partials(y, x, a, b, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - (b - 1) / (1 - z)
    both = special.digamma(a + b)
    return y * gz / scale, y * (np.log(z) - special.digamma(a) + both), \
        y * (np.log1p(-z) - special.digamma(b) + both), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@_rules(stats.beta.cdf)
def beta_cdf_partials(y, x, a, b, loc=0, scale=1):
    p = stats.beta.pdf(x, a, b, loc, scale)
    return p, no_derivative("scipy.stats.beta.cdf in a"), \
        no_derivative("scipy.stats.beta.cdf in b"), -p, -p * (x - loc) / scale


@_rules(stats.beta.logcdf)
def beta_logcdf_partials(y, x, a, b, loc=0, scale=1):
    r = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - y)
    return r, no_derivative("scipy.stats.beta.logcdf in a"), \
        no_derivative("scipy.stats.beta.logcdf in b"), -r, -r * (x - loc) / scale


@_rules(stats.gamma.logpdf)
def gamma_logpdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - 1
    return gz / scale, np.log(z) - special.digamma(a), -gz / scale, -(gz * z + 1) / scale


@_rules(stats.gamma.pdf)
def gamma_pdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (a - 1) / z - 1
    return y * gz / scale, y * (np.log(z) - special.digamma(a)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@_rules(stats.gamma.cdf)
def gamma_cdf_partials(y, x, a, loc=0, scale=1):
    p = stats.gamma.pdf(x, a, loc, scale)
    return p, no_derivative("scipy.stats.gamma.cdf in a"), -p, -p * (x - loc) / scale


@_rules(stats.gamma.logcdf)
def gamma_logcdf_partials(y, x, a, loc=0, scale=1):
    r = np.exp(stats.gamma.logpdf(x, a, loc, scale) - y)
    return r, no_derivative("scipy.stats.gamma.logcdf in a"), -r, -r * (x - loc) / scale


@_rules(stats.chi2.logpdf)
def chi2_logpdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (df / 2 - 1) / z - 0.5
    return gz / scale, 0.5 * (np.log(z / 2) - special.digamma(df / 2)), -gz / scale, \
        -(gz * z + 1) / scale


@_rules(stats.chi2.pdf)
def chi2_pdf_partials(y, x, df, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (df / 2 - 1) / z - 0.5
    return y * gz / scale, y * 0.5 * (np.log(z / 2) - special.digamma(df / 2)), \
        -y * gz / scale, -y * (gz * z + 1) / scale


@_rules(stats.chi2.cdf)
def chi2_cdf_partials(y, x, df, loc=0, scale=1):
    p = stats.chi2.pdf(x, df, loc, scale)
    return p, no_derivative("scipy.stats.chi2.cdf in df"), -p, -p * (x - loc) / scale


@_rules(stats.chi2.logcdf)
def chi2_logcdf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.chi2.logpdf(x, df, loc, scale) - y)
    return r, no_derivative("scipy.stats.chi2.logcdf in df"), -r, -r * (x - loc) / scale


# -- location-scale families without shape parameters ----------------------------------

@_rules(stats.expon.logpdf)
def expon_logpdf_partials(y, x, loc=0, scale=1):
    return -1 / scale, 1 / scale, ((x - loc) / scale - 1) / scale


@_rules(stats.expon.pdf)
def expon_pdf_partials(y, x, loc=0, scale=1):
    return -y / scale, y / scale, y * ((x - loc) / scale - 1) / scale


@_rules(stats.expon.cdf)
def expon_cdf_partials(y, x, loc=0, scale=1):
    p = stats.expon.pdf(x, loc, scale)
    return p, -p, -p * (x - loc) / scale


@_rules(stats.expon.logcdf)
def expon_logcdf_partials(y, x, loc=0, scale=1):
    r = (np.exp(-y) - 1) / scale  # (the pdf over the cdf: exp(-z) / (1 - exp(-z)))
    return r, -r, -r * (x - loc) / scale


@_rules(stats.laplace.logpdf)
def laplace_logpdf_partials(y, x, loc=0, scale=1):
    s = np.sign(x - loc)
    return -s / scale, s / scale, (s * (x - loc) / scale - 1) / scale


@_rules(stats.laplace.pdf)
def laplace_pdf_partials(y, x, loc=0, scale=1):
    s = np.sign(x - loc)
    return -y * s / scale, y * s / scale, y * (s * (x - loc) / scale - 1) / scale


@_rules(stats.laplace.cdf)
def laplace_cdf_partials(y, x, loc=0, scale=1):
    p = stats.laplace.pdf(x, loc, scale)
    return p, -p, -p * (x - loc) / scale


@_rules(stats.laplace.logcdf)
def laplace_logcdf_partials(y, x, loc=0, scale=1):
    r = np.exp(stats.laplace.logpdf(x, loc, scale) - y)
    return r, -r, -r * (x - loc) / scale


@_rules(stats.logistic.logpdf)
def logistic_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -np.tanh(z / 2)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@_rules(stats.logistic.pdf)
def logistic_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -np.tanh(z / 2)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@_rules(stats.logistic.cdf)
def logistic_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = y * (1 - y) / scale  # (the cdf is expit(z))
    return p, -p, -p * z


@_rules(stats.logistic.logcdf)
def logistic_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = special.expit(-z) / scale  # (the pdf over the cdf: 1 - expit(z))
    return r, -r, -r * z


@_rules(stats.cauchy.logpdf)
def cauchy_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@_rules(stats.cauchy.pdf)
def cauchy_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@_rules(stats.cauchy.cdf)
def cauchy_cdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = 1 / (math.pi * scale * (1 + z * z))
    return p, -p, -p * z


@_rules(stats.cauchy.logcdf)
def cauchy_logcdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-y) / (math.pi * scale * (1 + z * z))
    return r, -r, -r * z


# -- more families: lognormal and Weibull (shape differentiable in every method too),
# half-normal, half-Cauchy, inverse gamma, uniform ------------------------------------

@_rules(stats.lognorm.logpdf)
def lognorm_logpdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    gz = -(1 + u / s) / z
    return gz / scale, (u * u - 1) / s, -gz / scale, -(gz * z + 1) / scale


@_rules(stats.lognorm.pdf)
def lognorm_pdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    gz = -(1 + u / s) / z
    return y * gz / scale, y * (u * u - 1) / s, -y * gz / scale, -y * (gz * z + 1) / scale


@_rules(stats.lognorm.cdf)
def lognorm_cdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # (the cdf is ndtr(u))
    return q / (s * z * scale), -q * u / s, -q / (s * z * scale), -q / (s * scale)


@_rules(stats.lognorm.logcdf)
def lognorm_logcdf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2 - y) / math.sqrt(2 * math.pi)
    return q / (s * z * scale), -q * u / s, -q / (s * z * scale), -q / (s * scale)


@_rules(stats.lognorm.sf)
def lognorm_sf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2) / math.sqrt(2 * math.pi)
    return -q / (s * z * scale), q * u / s, q / (s * z * scale), q / (s * scale)


@_rules(stats.lognorm.logsf)
def lognorm_logsf_partials(y, x, s, loc=0, scale=1):
    z = (x - loc) / scale
    u = np.log(z) / s
    q = np.exp(-u * u / 2 - y) / math.sqrt(2 * math.pi)
    return -q / (s * z * scale), q * u / s, q / (s * z * scale), q / (s * scale)


@_rules(stats.weibull_min.logpdf)
def weibull_min_logpdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    gz = (c - 1 - c * zc) / z
    return gz / scale, 1 / c + (1 - zc) * np.log(z), -gz / scale, -(gz * z + 1) / scale


@_rules(stats.weibull_min.pdf)
def weibull_min_pdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    gz = (c - 1 - c * zc) / z
    return y * gz / scale, y * (1 / c + (1 - zc) * np.log(z)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@_rules(stats.weibull_min.cdf)
def weibull_min_cdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = (1 - y) * zc  # (the cdf is 1 - exp(-z^c): q is exp(-z^c) z^c)
    return q * c / (z * scale), q * np.log(z), -q * c / (z * scale), -q * c / scale


@_rules(stats.weibull_min.logcdf)
def weibull_min_logcdf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = zc / np.expm1(zc)  # (exp(-z^c) z^c over the cdf)
    return q * c / (z * scale), q * np.log(z), -q * c / (z * scale), -q * c / scale


@_rules(stats.weibull_min.sf)
def weibull_min_sf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c
    q = y * zc  # (the sf is exp(-z^c))
    return -q * c / (z * scale), -q * np.log(z), q * c / (z * scale), q * c / scale


@_rules(stats.weibull_min.logsf)
def weibull_min_logsf_partials(y, x, c, loc=0, scale=1):
    z = (x - loc) / scale
    zc = z ** c  # (the logsf is -z^c)
    return -zc * c / (z * scale), -zc * np.log(z), zc * c / (z * scale), zc * c / scale


@_rules(stats.halfnorm.logpdf)
def halfnorm_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -z / scale, z / scale, (z * z - 1) / scale


@_rules(stats.halfnorm.pdf)
def halfnorm_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    return -y * z / scale, y * z / scale, y * (z * z - 1) / scale


@_rules(stats.halfcauchy.logpdf)
def halfcauchy_logpdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return gz / scale, -gz / scale, -(gz * z + 1) / scale


@_rules(stats.halfcauchy.pdf)
def halfcauchy_pdf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -2 * z / (1 + z * z)
    return y * gz / scale, -y * gz / scale, -y * (gz * z + 1) / scale


@_rules(stats.invgamma.logpdf)
def invgamma_logpdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (1 / z - a - 1) / z
    return gz / scale, -np.log(z) - special.digamma(a), -gz / scale, -(gz * z + 1) / scale


@_rules(stats.invgamma.pdf)
def invgamma_pdf_partials(y, x, a, loc=0, scale=1):
    z = (x - loc) / scale
    gz = (1 / z - a - 1) / z
    return y * gz / scale, -y * (np.log(z) + special.digamma(a)), -y * gz / scale, \
        -y * (gz * z + 1) / scale


@_rules(stats.uniform.logpdf)
def uniform_logpdf_partials(y, x, loc=0, scale=1):
    # -log(scale) on the support: flat in x and loc (None: a zero, not a refusal)
    return None, None, -1 / scale


@_rules(stats.uniform.pdf)
def uniform_pdf_partials(y, x, loc=0, scale=1):
    return None, None, -y / scale


@_rules(stats.vonmises.logpdf)
def vonmises_logpdf_partials(y, x, kappa, loc=0, scale=1):
    # kappa cos(z) - log(2 pi I0(kappa)) - log(scale); I1 / I0 as i1e / i0e (no overflow)
    z = (x - loc) / scale
    gz = -kappa * np.sin(z)
    return gz / scale, np.cos(z) - special.i1e(kappa) / special.i0e(kappa), -gz / scale, \
        -(gz * z + 1) / scale


@_rules(stats.vonmises.pdf)
def vonmises_pdf_partials(y, x, kappa, loc=0, scale=1):
    z = (x - loc) / scale
    gz = -kappa * np.sin(z)
    return y * gz / scale, y * (np.cos(z) - special.i1e(kappa) / special.i0e(kappa)), \
        -y * gz / scale, -y * (gz * z + 1) / scale


# the entropy of a location-scale family without shape parameters: h0 + log(scale)
@_rules(stats.norm.entropy, stats.expon.entropy, stats.laplace.entropy,
        stats.logistic.entropy, stats.cauchy.entropy, stats.halfnorm.entropy,
        stats.halfcauchy.entropy, stats.uniform.entropy)
def location_scale_entropy_partials(y, loc=0, scale=1):
    return None, 1 / scale  # (flat in loc: None, a zero)


@_rules(stats.gamma.entropy)
def gamma_entropy_partials(y, a, loc=0, scale=1):
    # a + gammaln(a) + (1 - a) digamma(a) + log(scale)
    return 1 + (1 - a) * special.polygamma(1, a), None, 1 / scale


# -- survival functions: sf = 1 - cdf, the cdf's partials negated ----------------------

@_rules(stats.norm.sf)
def norm_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = np.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * scale)
    return -p, p, p * z


@_rules(stats.norm.logsf)
def norm_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-z * z / 2 - y) / (math.sqrt(2 * math.pi) * scale)  # (pdf over sf)
    return -r, r, r * z


@_rules(stats.t.sf)
def t_sf_partials(y, x, df, loc=0, scale=1):
    p = stats.t.pdf(x, df, loc, scale)
    return -p, no_derivative("scipy.stats.t.sf in df"), p, p * (x - loc) / scale


@_rules(stats.t.logsf)
def t_logsf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.t.logpdf(x, df, loc, scale) - y)
    return -r, no_derivative("scipy.stats.t.logsf in df"), r, r * (x - loc) / scale


@_rules(stats.beta.sf)
def beta_sf_partials(y, x, a, b, loc=0, scale=1):
    p = stats.beta.pdf(x, a, b, loc, scale)
    return -p, no_derivative("scipy.stats.beta.sf in a"), \
        no_derivative("scipy.stats.beta.sf in b"), p, p * (x - loc) / scale


@_rules(stats.beta.logsf)
def beta_logsf_partials(y, x, a, b, loc=0, scale=1):
    r = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - y)
    return -r, no_derivative("scipy.stats.beta.logsf in a"), \
        no_derivative("scipy.stats.beta.logsf in b"), r, r * (x - loc) / scale


@_rules(stats.gamma.sf)
def gamma_sf_partials(y, x, a, loc=0, scale=1):
    p = stats.gamma.pdf(x, a, loc, scale)
    return -p, no_derivative("scipy.stats.gamma.sf in a"), p, p * (x - loc) / scale


@_rules(stats.gamma.logsf)
def gamma_logsf_partials(y, x, a, loc=0, scale=1):
    r = np.exp(stats.gamma.logpdf(x, a, loc, scale) - y)
    return -r, no_derivative("scipy.stats.gamma.logsf in a"), r, r * (x - loc) / scale


@_rules(stats.chi2.sf)
def chi2_sf_partials(y, x, df, loc=0, scale=1):
    p = stats.chi2.pdf(x, df, loc, scale)
    return -p, no_derivative("scipy.stats.chi2.sf in df"), p, p * (x - loc) / scale


@_rules(stats.chi2.logsf)
def chi2_logsf_partials(y, x, df, loc=0, scale=1):
    r = np.exp(stats.chi2.logpdf(x, df, loc, scale) - y)
    return -r, no_derivative("scipy.stats.chi2.logsf in df"), r, r * (x - loc) / scale


@_rules(stats.expon.sf)
def expon_sf_partials(y, x, loc=0, scale=1):
    p = stats.expon.pdf(x, loc, scale)
    return -p, p, p * (x - loc) / scale


@_rules(stats.expon.logsf)
def expon_logsf_partials(y, x, loc=0, scale=1):
    return -1 / scale, 1 / scale, (x - loc) / (scale * scale)  # (logsf = -z)


@_rules(stats.laplace.sf)
def laplace_sf_partials(y, x, loc=0, scale=1):
    p = stats.laplace.pdf(x, loc, scale)
    return -p, p, p * (x - loc) / scale


@_rules(stats.laplace.logsf)
def laplace_logsf_partials(y, x, loc=0, scale=1):
    r = np.exp(stats.laplace.logpdf(x, loc, scale) - y)
    return -r, r, r * (x - loc) / scale


@_rules(stats.logistic.sf)
def logistic_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = y * (1 - y) / scale  # (the sf is expit(-z))
    return -p, p, p * z


@_rules(stats.logistic.logsf)
def logistic_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = special.expit(z) / scale  # (the pdf over the sf: 1 - expit(-z))
    return -r, r, r * z


@_rules(stats.cauchy.sf)
def cauchy_sf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    p = 1 / (math.pi * scale * (1 + z * z))
    return -p, p, p * z


@_rules(stats.cauchy.logsf)
def cauchy_logsf_partials(y, x, loc=0, scale=1):
    z = (x - loc) / scale
    r = np.exp(-y) / (math.pi * scale * (1 + z * z))
    return -r, r, r * z


# -- the normal's quantiles: ppf(q) = loc + scale ndtri(q), isf(q) = ppf(1 - q) ----------

@_rules(stats.norm.ppf)
def norm_ppf_partials(y, q, loc=0, scale=1):
    z = (y - loc) / scale
    return scale * math.sqrt(2 * math.pi) * np.exp(z * z / 2), 1.0, z


@_rules(stats.norm.isf)
def norm_isf_partials(y, q, loc=0, scale=1):
    z = (y - loc) / scale
    return -scale * math.sqrt(2 * math.pi) * np.exp(z * z / 2), 1.0, z


# -- discrete: differentiable in the rate or the probability, not in the counts --------

@_rules(stats.poisson.logpmf)
def poisson_logpmf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logpmf in k (a count)"), (k - loc) / mu - 1, \
        no_derivative("scipy.stats.poisson.logpmf in loc (a count)")


@_rules(stats.poisson.pmf)
def poisson_pmf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.pmf in k (a count)"), \
        y * ((k - loc) / mu - 1), no_derivative("scipy.stats.poisson.pmf in loc (a count)")


@_rules(stats.poisson.cdf)
def poisson_cdf_partials(y, k, mu, loc=0):
    # P(K <= k) = Q(floor(k - loc) + 1, mu): its derivative in mu is minus the pmf there
    return no_derivative("scipy.stats.poisson.cdf in k (a count)"), \
        -stats.poisson.pmf(np.floor(k), mu, loc), \
        no_derivative("scipy.stats.poisson.cdf in loc (a count)")


@_rules(stats.poisson.logcdf)
def poisson_logcdf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logcdf in k (a count)"), \
        -np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - y), \
        no_derivative("scipy.stats.poisson.logcdf in loc (a count)")


@_rules(stats.binom.logpmf)
def binom_logpmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logpmf in k (a count)"), \
        no_derivative("scipy.stats.binom.logpmf in n (a count)"), \
        (k - loc) / p - (n - k + loc) / (1 - p), \
        no_derivative("scipy.stats.binom.logpmf in loc (a count)")


@_rules(stats.binom.pmf)
def binom_pmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.pmf in k (a count)"), \
        no_derivative("scipy.stats.binom.pmf in n (a count)"), \
        y * ((k - loc) / p - (n - k + loc) / (1 - p)), \
        no_derivative("scipy.stats.binom.pmf in loc (a count)")


@_rules(stats.binom.cdf)
def binom_cdf_partials(y, k, n, p, loc=0):
    # d/dp P(K <= k; n, p) = -n P(K = floor(k - loc); n - 1, p)
    return no_derivative("scipy.stats.binom.cdf in k (a count)"), \
        no_derivative("scipy.stats.binom.cdf in n (a count)"), \
        -n * stats.binom.pmf(np.floor(k), n - 1, p, loc), \
        no_derivative("scipy.stats.binom.cdf in loc (a count)")


@_rules(stats.binom.logcdf)
def binom_logcdf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logcdf in k (a count)"), \
        no_derivative("scipy.stats.binom.logcdf in n (a count)"), \
        -n * np.exp(stats.binom.logpmf(np.floor(k), n - 1, p, loc) - y), \
        no_derivative("scipy.stats.binom.logcdf in loc (a count)")


@_rules(stats.poisson.sf)
def poisson_sf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.sf in k (a count)"), \
        stats.poisson.pmf(np.floor(k), mu, loc), \
        no_derivative("scipy.stats.poisson.sf in loc (a count)")


@_rules(stats.poisson.logsf)
def poisson_logsf_partials(y, k, mu, loc=0):
    return no_derivative("scipy.stats.poisson.logsf in k (a count)"), \
        np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - y), \
        no_derivative("scipy.stats.poisson.logsf in loc (a count)")


@_rules(stats.binom.sf)
def binom_sf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.sf in k (a count)"), \
        no_derivative("scipy.stats.binom.sf in n (a count)"), \
        n * stats.binom.pmf(np.floor(k), n - 1, p, loc), \
        no_derivative("scipy.stats.binom.sf in loc (a count)")


@_rules(stats.binom.logsf)
def binom_logsf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.binom.logsf in k (a count)"), \
        no_derivative("scipy.stats.binom.logsf in n (a count)"), \
        n * np.exp(stats.binom.logpmf(np.floor(k), n - 1, p, loc) - y), \
        no_derivative("scipy.stats.binom.logsf in loc (a count)")


@_rules(stats.bernoulli.logpmf)
def bernoulli_logpmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.bernoulli.logpmf in k (a count)"), \
        (k - loc) / p - (1 - k + loc) / (1 - p), \
        no_derivative("scipy.stats.bernoulli.logpmf in loc (a count)")


@_rules(stats.bernoulli.pmf)
def bernoulli_pmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.bernoulli.pmf in k (a count)"), \
        y * ((k - loc) / p - (1 - k + loc) / (1 - p)), \
        no_derivative("scipy.stats.bernoulli.pmf in loc (a count)")


@_rules(stats.geom.logpmf)
def geom_logpmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.geom.logpmf in k (a count)"), \
        1 / p - (k - loc - 1) / (1 - p), \
        no_derivative("scipy.stats.geom.logpmf in loc (a count)")


@_rules(stats.geom.pmf)
def geom_pmf_partials(y, k, p, loc=0):
    return no_derivative("scipy.stats.geom.pmf in k (a count)"), \
        y * (1 / p - (k - loc - 1) / (1 - p)), \
        no_derivative("scipy.stats.geom.pmf in loc (a count)")


@_rules(stats.betabinom.logpmf)
def betabinom_logpmf_partials(y, k, n, a, b, loc=0):
    # log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b), in a and b
    both = special.digamma(a + b) - special.digamma(n + a + b)
    return no_derivative("scipy.stats.betabinom.logpmf in k (a count)"), \
        no_derivative("scipy.stats.betabinom.logpmf in n (a count)"), \
        special.digamma(k - loc + a) - special.digamma(a) + both, \
        special.digamma(n - k + loc + b) - special.digamma(b) + both, \
        no_derivative("scipy.stats.betabinom.logpmf in loc (a count)")


@_rules(stats.betabinom.pmf)
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

@_rules(stats.nbinom.logpmf)
def nbinom_logpmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.nbinom.logpmf in k (a count)"), \
        special.digamma(k - loc + n) - special.digamma(n) + np.log(p), \
        n / p - (k - loc) / (1 - p), \
        no_derivative("scipy.stats.nbinom.logpmf in loc (a count)")


@_rules(stats.nbinom.pmf)
def nbinom_pmf_partials(y, k, n, p, loc=0):
    return no_derivative("scipy.stats.nbinom.pmf in k (a count)"), \
        y * (special.digamma(k - loc + n) - special.digamma(n) + np.log(p)), \
        y * (n / p - (k - loc) / (1 - p)), \
        no_derivative("scipy.stats.nbinom.pmf in loc (a count)")


@_rules(stats.nbinom.cdf)
def nbinom_cdf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.cdf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.cdf in n"), \
        np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1)), \
        no_derivative("scipy.stats.nbinom.cdf in loc (a count)")


@_rules(stats.nbinom.logcdf)
def nbinom_logcdf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.logcdf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.logcdf in n"), \
        np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1) - y), \
        no_derivative("scipy.stats.nbinom.logcdf in loc (a count)")


@_rules(stats.nbinom.sf)
def nbinom_sf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.sf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.sf in n"), \
        -np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1)), \
        no_derivative("scipy.stats.nbinom.sf in loc (a count)")


@_rules(stats.nbinom.logsf)
def nbinom_logsf_partials(y, k, n, p, loc=0):
    j = np.floor(k) - loc
    return no_derivative("scipy.stats.nbinom.logsf in k (a count)"), \
        no_derivative("scipy.stats.nbinom.logsf in n"), \
        -np.exp((n - 1) * np.log(p) + j * np.log1p(-p) - special.betaln(n, j + 1) - y), \
        no_derivative("scipy.stats.nbinom.logsf in loc (a count)")


# -- multivariate: the normal in its mean and covariance, the Dirichlet ----------------

@adjoint(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_adjoint(dy, y, x, mean=None, cov=1, allow_singular=False):
    """With r = x - mean and alpha = cov^-1 r for each point (the last axis of x):
    dx = -dy alpha, dmean = dy alpha, dcov = dy (alpha alpha^T - cov^-1) / 2, the
    symmetric gradient (cov is symmetric), summed over the points. SciPy reads a vector
    cov as a diagonal and a number as that times the identity: their gradients are the
    diagonal and the trace of the matrix's."""
    require_shapes(np.ndim(x) > np.ndim(dy), "scipy.stats.multivariate_normal.logpdf of "
                                             "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    size = np.shape(r)[-1]
    matrix = cov if known_rank(cov) == 2 else np.diag(cov) if known_rank(cov) == 1 else \
        cov * np.eye(size) if known_rank(cov) == 0 else cov if np.ndim(cov) == 2 else \
        np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(size)
    inverse = np.linalg.inv(matrix)
    alpha = r @ inverse
    g = np.expand_dims(dy, -1) * alpha
    dx = -unbroadcast(g, x)
    dmean = unbroadcast(g, mean)
    dmatrix = 0.5 * (np.reshape(g, (-1, size)).T @ np.reshape(alpha, (-1, size)) -
                     np.sum(dy) * inverse)
    dcov = dmatrix if known_rank(cov) == 2 else np.diag(dmatrix) if known_rank(cov) == 1 \
        else np.trace(dmatrix) if known_rank(cov) == 0 else dmatrix if np.ndim(cov) == 2 \
        else np.diag(dmatrix) if np.ndim(cov) == 1 else np.trace(dmatrix)
    return dx, dmean, dcov


@tangent(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_tangent(y, x, x_dot, mean=None, mean_dot=None, cov=1,
                                       cov_dot=None, allow_singular=False):
    require_shapes(np.ndim(x) > np.ndim(y), "scipy.stats.multivariate_normal.logpdf of "
                                            "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    r_dot = x_dot if mean is None else x_dot - mean_dot
    size = np.shape(r)[-1]
    matrix = cov if np.ndim(cov) == 2 else np.diag(cov) if np.ndim(cov) == 1 else \
        cov * np.eye(size)
    matrix_dot = cov_dot if np.ndim(cov) == 2 else np.diag(cov_dot) if np.ndim(cov) == 1 \
        else cov_dot * np.eye(size)
    inverse = np.linalg.inv(matrix)
    alpha = r @ inverse
    y_dot = 0.5 * (np.sum((alpha @ matrix_dot) * alpha, axis=-1) -
                   np.sum(inverse * matrix_dot)) - np.sum(alpha * r_dot, axis=-1)
    return y_dot


@adjoint(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_adjoint(dy, y, mean=None, cov=1):
    """(d log(2 pi e) + log det cov) / 2: dcov = dy cov^-1 / 2 (symmetric); for a vector
    cov (a diagonal) dy / (2 cov); for a number, d times that. Flat in the mean."""
    dmean = np.zeros_like(mean)
    dcov = 0.5 * dy * (np.linalg.inv(cov) if np.ndim(cov) == 2 else 1 / cov
                       if np.ndim(cov) == 1 else np.size(mean) / cov)
    return dmean, dcov


@tangent(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_tangent(y, mean=None, mean_dot=None, cov=1, cov_dot=None):
    # (flat in the mean: mean_dot is not read)
    y_dot = 0.5 * (np.sum(np.linalg.inv(cov) * cov_dot) if np.ndim(cov) == 2 else
                   np.sum(cov_dot / cov) if np.ndim(cov) == 1 else
                   np.size(mean) * cov_dot / cov)
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
    matrix = cov if known_rank(cov) == 2 else np.diag(cov) if known_rank(cov) == 1 else \
        cov * np.eye(size) if known_rank(cov) == 0 else cov if np.ndim(cov) == 2 else \
        np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(size)
    inverse = np.linalg.inv(matrix)
    alpha = r @ inverse
    w = dy * y
    g = np.expand_dims(w, -1) * alpha
    dx = -unbroadcast(g, x)
    dmean = unbroadcast(g, mean)
    dmatrix = 0.5 * (np.reshape(g, (-1, size)).T @ np.reshape(alpha, (-1, size)) -
                     np.sum(w) * inverse)
    dcov = dmatrix if known_rank(cov) == 2 else np.diag(dmatrix) if known_rank(cov) == 1 \
        else np.trace(dmatrix) if known_rank(cov) == 0 else dmatrix if np.ndim(cov) == 2 \
        else np.diag(dmatrix) if np.ndim(cov) == 1 else np.trace(dmatrix)
    return dx, dmean, dcov


@tangent(stats.multivariate_normal.pdf)
def multivariate_normal_pdf_tangent(y, x, x_dot, mean=None, mean_dot=None, cov=1,
                                       cov_dot=None, allow_singular=False):
    require_shapes(np.ndim(x) > np.ndim(y), "scipy.stats.multivariate_normal.pdf of "
                                            "1-d points given as a vector (write x[:, None])")
    r = x if mean is None else x - mean
    r_dot = x_dot if mean is None else x_dot - mean_dot
    size = np.shape(r)[-1]
    matrix = cov if np.ndim(cov) == 2 else np.diag(cov) if np.ndim(cov) == 1 else \
        cov * np.eye(size)
    matrix_dot = cov_dot if np.ndim(cov) == 2 else np.diag(cov_dot) if np.ndim(cov) == 1 \
        else cov_dot * np.eye(size)
    inverse = np.linalg.inv(matrix)
    alpha = r @ inverse
    y_dot = y * (0.5 * (np.sum((alpha @ matrix_dot) * alpha, axis=-1) -
                        np.sum(inverse * matrix_dot)) - np.sum(alpha * r_dot, axis=-1))
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
