"""Rule table for scipy.stats distributions (issue 18, second part); empty where SciPy is
not installed.

Each row differentiates two of a method's arguments (a and b), the others constants,
on domains inside the support: scale, rates and shapes positive, beta's z in (0, 1),
expon's and gamma's z positive, laplace away from its kink at x = loc. Shape parameters
of a cdf (t's df, gamma's a...) and the counts of discrete distributions have no rule
and are constants here (their refusals are tested in tests/test_scipy_stats.py). The
covariance of multivariate_normal is differentiated through a symmetric parametrisation
(b @ b.T + I): central differences in b see its symmetric gradient.
"""
from rule_cases import ANY, POSITIVE, binary, unary

try:
    from scipy import stats
except ImportError:
    stats = None

SCALE = (0.5, 2.0)
UNIT_OPEN = (0.1, 0.9)
DF = (1.5, 5.0)
POINTS = [((4, 3), (3,)), ((3,), (3,)), ((2, 4, 3), (3,))]
COVS = [((4, 3), (3, 3)), ((3,), (3, 3))]

TABLE = [] if stats is None else [
    # normal: x and loc; loc and scale; keywords; the defaults
    binary(stats.norm.logpdf, "stats.norm.logpdf(a, b, 1.5)"),
    binary(stats.norm.logpdf, "stats.norm.logpdf(0.3, a, b)", (ANY, SCALE)),
    binary(stats.norm.logpdf, "stats.norm.logpdf(a, loc=0.2, scale=b)", (ANY, SCALE)),
    unary(stats.norm.logpdf, "stats.norm.logpdf(a)"),
    binary(stats.norm.pdf, "stats.norm.pdf(a, b, 1.5)"),
    binary(stats.norm.pdf, "stats.norm.pdf(a, scale=b)", (ANY, SCALE)),
    binary(stats.norm.cdf, "stats.norm.cdf(0.3, a, b)", (ANY, SCALE)),
    binary(stats.norm.cdf, "stats.norm.cdf(a, b)"),
    binary(stats.norm.logcdf, "stats.norm.logcdf(a, 0.1, b)", (ANY, SCALE)),
    binary(stats.norm.logcdf, "stats.norm.logcdf(a, loc=b)"),
    # Student's t: df differentiable in logpdf and pdf (digamma), not in cdf
    binary(stats.t.logpdf, "stats.t.logpdf(a, 3.5, b, 1.2)"),
    binary(stats.t.logpdf, "stats.t.logpdf(0.4, a, 0.1, b)", (DF, SCALE)),
    binary(stats.t.logpdf, "stats.t.logpdf(a, df=b)", (ANY, DF)),
    binary(stats.t.pdf, "stats.t.pdf(a, b, scale=1.3)", (ANY, DF)),
    binary(stats.t.pdf, "stats.t.pdf(0.7, 4.0, a, b)", (ANY, SCALE)),
    binary(stats.t.cdf, "stats.t.cdf(a, 4.0, b)"),
    binary(stats.t.cdf, "stats.t.cdf(0.5, 2.5, a, b)", (ANY, SCALE)),
    binary(stats.t.logcdf, "stats.t.logcdf(a, 2.5, scale=b)", (ANY, SCALE)),
    # beta: x (z in (0, 1)), a and b by digamma; loc and scale
    binary(stats.beta.logpdf, "stats.beta.logpdf(a, b, 2.0)", (UNIT_OPEN, POSITIVE)),
    binary(stats.beta.logpdf, "stats.beta.logpdf(0.3, a, b)", (POSITIVE, POSITIVE)),
    binary(stats.beta.logpdf, "stats.beta.logpdf(a, 2.0, 3.0, b, 2.0)",
           ((1.0, 1.4), (-0.2, 0.5))),
    binary(stats.beta.pdf, "stats.beta.pdf(0.6, a, b)", (POSITIVE, POSITIVE)),
    binary(stats.beta.pdf, "stats.beta.pdf(a, 2.0, 3.0, scale=b)", ((0.1, 0.5), (1.0, 2.0))),
    binary(stats.beta.cdf, "stats.beta.cdf(a, 2.0, 3.0, scale=b)", ((0.1, 0.5), (1.0, 2.0))),
    binary(stats.beta.logcdf, "stats.beta.logcdf(a, 2.0, 3.0, b)", ((0.5, 0.8), (-0.15, 0.3))),
    # gamma: a by digamma, scale (a rate is its reciprocal)
    binary(stats.gamma.logpdf, "stats.gamma.logpdf(a, b)", (POSITIVE, POSITIVE)),
    binary(stats.gamma.logpdf, "stats.gamma.logpdf(1.5, a, scale=b)", (POSITIVE, SCALE)),
    binary(stats.gamma.logpdf, "stats.gamma.logpdf(a, 2.5, b, 0.7)", ((1.5, 3.0), (-1.0, 1.0))),
    binary(stats.gamma.pdf, "stats.gamma.pdf(a, b, scale=1.5)", (POSITIVE, POSITIVE)),
    binary(stats.gamma.cdf, "stats.gamma.cdf(a, 2.0, scale=b)", (POSITIVE, SCALE)),
    binary(stats.gamma.logcdf, "stats.gamma.logcdf(a, 3.0, 0.0, b)", (POSITIVE, SCALE)),
    # chi2: df by digamma
    binary(stats.chi2.logpdf, "stats.chi2.logpdf(a, b)", (POSITIVE, DF)),
    binary(stats.chi2.pdf, "stats.chi2.pdf(a, 3.0, scale=b)", (POSITIVE, SCALE)),
    binary(stats.chi2.pdf, "stats.chi2.pdf(1.3, a, b)", (DF, (-1.0, 0.5))),
    binary(stats.chi2.cdf, "stats.chi2.cdf(a, 2.5, b)", ((1.5, 3.0), (-1.0, 1.0))),
    binary(stats.chi2.logcdf, "stats.chi2.logcdf(a, 4.0, scale=b)", (POSITIVE, SCALE)),
    # expon, laplace, logistic, cauchy: loc and scale only
    binary(stats.expon.logpdf, "stats.expon.logpdf(a, b, 2.0)", ((1.0, 2.0), (-1.0, 0.9))),
    binary(stats.expon.logpdf, "stats.expon.logpdf(a, scale=b)", (POSITIVE, SCALE)),
    binary(stats.expon.pdf, "stats.expon.pdf(1.5, a, b)", ((-1.0, 1.0), SCALE)),
    binary(stats.expon.cdf, "stats.expon.cdf(a, 0.1, b)", (POSITIVE, SCALE)),
    binary(stats.expon.logcdf, "stats.expon.logcdf(a, scale=b)", (POSITIVE, SCALE)),
    binary(stats.laplace.logpdf, "stats.laplace.logpdf(a, b, 1.5)", ((0.2, 2.0), (-2.0, 0.0))),
    binary(stats.laplace.logpdf, "stats.laplace.logpdf(-0.5, a, b)", ((0.0, 2.0), SCALE)),
    binary(stats.laplace.pdf, "stats.laplace.pdf(a, 0.1, b)", ((-2.0, 0.0), SCALE)),
    binary(stats.laplace.cdf, "stats.laplace.cdf(a, b)", ((0.2, 2.0), (-2.0, 0.0))),
    binary(stats.laplace.cdf, "stats.laplace.cdf(a, 0.5, b)", ((-2.0, 0.3), SCALE)),
    binary(stats.laplace.logcdf, "stats.laplace.logcdf(a, scale=b)", ((0.2, 2.0), SCALE)),
    binary(stats.laplace.logcdf, "stats.laplace.logcdf(a, loc=b)", ((-2.0, -0.2), (0.0, 2.0))),
    binary(stats.logistic.logpdf, "stats.logistic.logpdf(a, b, 1.5)"),
    binary(stats.logistic.logpdf, "stats.logistic.logpdf(0.3, a, b)", (ANY, SCALE)),
    binary(stats.logistic.pdf, "stats.logistic.pdf(a, scale=b)", (ANY, SCALE)),
    binary(stats.logistic.cdf, "stats.logistic.cdf(a, b, 0.8)"),
    binary(stats.logistic.logcdf, "stats.logistic.logcdf(a, 0.2, b)", (ANY, SCALE)),
    binary(stats.cauchy.logpdf, "stats.cauchy.logpdf(a, b, 1.5)"),
    binary(stats.cauchy.logpdf, "stats.cauchy.logpdf(0.3, a, b)", (ANY, SCALE)),
    binary(stats.cauchy.pdf, "stats.cauchy.pdf(a, scale=b)", (ANY, SCALE)),
    binary(stats.cauchy.cdf, "stats.cauchy.cdf(a, b, 0.8)"),
    binary(stats.cauchy.logcdf, "stats.cauchy.logcdf(a, 0.2, b)", (ANY, SCALE)),
    # survival functions and the normal's quantiles
    binary(stats.norm.sf, "stats.norm.sf(a, b, 1.5)"),
    binary(stats.norm.logsf, "stats.norm.logsf(a, scale=b)", (ANY, SCALE)),
    binary(stats.t.sf, "stats.t.sf(a, 3.0, scale=b)", (ANY, SCALE)),
    binary(stats.t.logsf, "stats.t.logsf(a, 3.0, b)"),
    binary(stats.beta.sf, "stats.beta.sf(a, 2.0, 3.0, scale=b)", ((0.1, 0.5), (1.0, 2.0))),
    binary(stats.beta.logsf, "stats.beta.logsf(a, 2.0, 3.0, b)", ((0.5, 0.8), (-0.15, 0.3))),
    binary(stats.gamma.sf, "stats.gamma.sf(a, 2.0, scale=b)", (POSITIVE, SCALE)),
    binary(stats.gamma.logsf, "stats.gamma.logsf(a, 3.0, 0.0, b)", (POSITIVE, SCALE)),
    binary(stats.chi2.sf, "stats.chi2.sf(a, 2.5, b)", ((1.5, 3.0), (-1.0, 1.0))),
    binary(stats.chi2.logsf, "stats.chi2.logsf(a, 4.0, scale=b)", (POSITIVE, SCALE)),
    binary(stats.expon.sf, "stats.expon.sf(a, 0.1, b)", (POSITIVE, SCALE)),
    binary(stats.expon.logsf, "stats.expon.logsf(a, b, 1.5)", ((1.0, 2.0), (-1.0, 0.9))),
    binary(stats.expon.logsf, "stats.expon.logsf(a, scale=b)", (POSITIVE, SCALE)),
    binary(stats.laplace.sf, "stats.laplace.sf(a, b)", ((0.2, 2.0), (-2.0, 0.0))),
    binary(stats.laplace.logsf, "stats.laplace.logsf(a, 0.5, b)", ((-2.0, 0.3), SCALE)),
    binary(stats.logistic.sf, "stats.logistic.sf(a, b, 0.8)"),
    binary(stats.logistic.logsf, "stats.logistic.logsf(a, 0.2, b)", (ANY, SCALE)),
    binary(stats.cauchy.sf, "stats.cauchy.sf(a, b, 0.8)"),
    binary(stats.cauchy.logsf, "stats.cauchy.logsf(a, 0.2, b)", (ANY, SCALE)),
    binary(stats.norm.ppf, "stats.norm.ppf(a, b, 1.5)", ((0.05, 0.95), ANY)),
    binary(stats.norm.ppf, "stats.norm.ppf(0.975, a, b)", (ANY, SCALE)),
    binary(stats.norm.isf, "stats.norm.isf(a, scale=b)", ((0.05, 0.95), SCALE)),
    # discrete: the rate or the probability; the counts are constants
    unary(stats.poisson.logpmf, "stats.poisson.logpmf(3, a)", POSITIVE),
    unary(stats.poisson.logpmf, "stats.poisson.logpmf(np.arange(3.0), mu=a)", POSITIVE,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.poisson.logpmf, "stats.poisson.logpmf(0, a)", POSITIVE),
    unary(stats.poisson.pmf, "stats.poisson.pmf(2, a)", POSITIVE),
    unary(stats.poisson.cdf, "stats.poisson.cdf(2.5, a)", POSITIVE),
    unary(stats.poisson.logcdf, "stats.poisson.logcdf(np.arange(3.0), a)", POSITIVE,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.binom.logpmf, "stats.binom.logpmf(3, 7, a)", UNIT_OPEN),
    unary(stats.binom.logpmf, "stats.binom.logpmf(np.arange(3.0), 5, p=a)", UNIT_OPEN,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.binom.pmf, "stats.binom.pmf(2, 6, a)", UNIT_OPEN),
    unary(stats.binom.cdf, "stats.binom.cdf(2, 6, a)", UNIT_OPEN),
    unary(stats.binom.logcdf, "stats.binom.logcdf(np.arange(3.0), 4, a)", UNIT_OPEN,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.poisson.sf, "stats.poisson.sf(2.5, a)", POSITIVE),
    unary(stats.poisson.logsf, "stats.poisson.logsf(np.arange(3.0), a)", POSITIVE,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.binom.sf, "stats.binom.sf(2, 6, a)", UNIT_OPEN),
    unary(stats.binom.logsf, "stats.binom.logsf(np.arange(3.0), 4, a)", UNIT_OPEN,
          shapes=[(), (3,), (2, 3)]),
    # the negative binomial: n a real dispersion (not in its cdf), p
    binary(stats.nbinom.logpmf, "stats.nbinom.logpmf(3, a, b)", (POSITIVE, UNIT_OPEN)),
    binary(stats.nbinom.logpmf, "stats.nbinom.logpmf(np.arange(3.0), n=a, p=b)",
           (POSITIVE, UNIT_OPEN), shapes=[((), ()), ((3,), ()), ((2, 3), (3,)), ((3, 1), (3,))]),
    binary(stats.nbinom.pmf, "stats.nbinom.pmf(2, a, b)", (POSITIVE, UNIT_OPEN)),
    unary(stats.nbinom.cdf, "stats.nbinom.cdf(2, 3.5, a)", UNIT_OPEN),
    unary(stats.nbinom.logcdf, "stats.nbinom.logcdf(np.arange(3.0), 2.5, a)", UNIT_OPEN,
          shapes=[(), (3,), (2, 3)]),
    unary(stats.nbinom.sf, "stats.nbinom.sf(2.5, 1.5, a)", UNIT_OPEN),
    unary(stats.nbinom.logsf, "stats.nbinom.logsf(np.arange(3.0), 2.5, a)", UNIT_OPEN,
          shapes=[(), (3,), (2, 3)]),
    # multivariate normal: points (the last axis) and mean; cov a matrix, a vector (its
    # diagonal) or a number
    binary(stats.multivariate_normal.logpdf,
           "stats.multivariate_normal.logpdf(a, b, np.eye(3) * 2.0 + 0.5)", shapes=POINTS),
    binary(stats.multivariate_normal.logpdf,
           "stats.multivariate_normal.logpdf(a, np.ones(3), b @ b.T + np.eye(3))",
           shapes=COVS),
    binary(stats.multivariate_normal.logpdf,
           "stats.multivariate_normal.logpdf(a, cov=(b + b.T) / 4 + 2 * np.eye(3))",
           shapes=COVS),
    binary(stats.multivariate_normal.logpdf,
           "stats.multivariate_normal.logpdf(a, np.zeros(3), b)", (ANY, SCALE),
           shapes=[((4, 3), ()), ((3,), ())]),
    binary(stats.multivariate_normal.logpdf,
           "stats.multivariate_normal.logpdf(a, np.ones(3), cov=b)", (ANY, SCALE),
           shapes=[((4, 3), (3,)), ((3,), (3,))]),
    unary(stats.multivariate_normal.logpdf, "stats.multivariate_normal.logpdf(a, [0.5, 1.0])",
          shapes=[(2,), (5, 2)]),
    binary(stats.multivariate_normal.pdf,
           "stats.multivariate_normal.pdf(a, b, np.eye(3) * 2.0 + 0.5)", shapes=POINTS),
    binary(stats.multivariate_normal.pdf,
           "stats.multivariate_normal.pdf(a, mean=np.ones(3), cov=b @ b.T + np.eye(3))",
           shapes=COVS),
    binary(stats.multivariate_normal.pdf, "stats.multivariate_normal.pdf(a, np.ones(3), b)",
           (ANY, SCALE), shapes=[((4, 3), (3,)), ((3,), ()), ((2, 4, 3), (3,))]),
    # Dirichlet: points on the simplex through a softmax over the components (axis 0),
    # in float64 (SciPy checks the sum to 1e-9, which float32 inputs would not meet)
    binary(stats.dirichlet.logpdf,
           "stats.dirichlet.logpdf(np.exp(a.astype(float)) / "
           "np.sum(np.exp(a.astype(float)), axis=0), b)",
           (ANY, POSITIVE), shapes=[((3,), (3,)), ((3, 4), (3,))]),
    binary(stats.dirichlet.pdf,
           "stats.dirichlet.pdf(np.exp(a.astype(float)) / "
           "np.sum(np.exp(a.astype(float)), axis=0), b)",
           (ANY, POSITIVE), shapes=[((3,), (3,)), ((3, 4), (3,))]),
]
