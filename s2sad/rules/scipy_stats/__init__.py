"""scipy.stats distributions: logpdf, pdf, logcdf, cdf, logsf, sf (logpmf and pmf for the
discrete ones) in x, loc, scale and the shape parameters whose derivative is elementary;
the multivariate normal, the Dirichlet, the multinomial; entropies.

A rule is keyed by the distribution's method as the user reaches it (stats.norm.logpdf):
each attribute access makes a new bound method, and a frozen distribution holds a copy
of the distribution, so the registry keys a distribution's method by its class and
function (rules._key); the method of one frozen with numbers outside the function takes
its distribution's rule with those numbers as defaults (rules.lookup). The frontend
resolves the attribute of a distribution as it does a module's, and reads distributions
frozen inside the function as calls of these methods (s2sad/distributions.py).
Templates name the parameters as SciPy's signatures do (loc=, scale=, df=, a=, b=, mu=,
n=, p=), so keyword calls bind; the defaults are SciPy's.

With z = (x - loc) / scale and logpdf = g(z) - log(scale), the partials of logpdf are
g'(z) / scale in x, -g'(z) / scale in loc and -(g'(z) z + 1) / scale in scale; those of
pdf are the pdf times them; those of cdf the pdf, -pdf and -pdf z; those of logcdf the
same times exp(logpdf - logcdf); sf and logsf negate those of cdf and logcdf. A cdf's
shape parameter (t's df, gamma's a, beta's a and b) is a parameter of an incomplete beta
or gamma function, whose derivative NumPy cannot write: refused where it depends on the
inputs, as are the integer counts of the discrete distributions (k, n, loc), never a
silent zero. Loaded only where SciPy is installed.
"""
from .. import partials


def _broadcast_shape(call):
    """Every operand broadcasts into the result: the analysis's unary and binary kinds
    for one and two operands; three or more it has no kind for."""
    count = len(call.args) + len(call.keywords)
    return "unary" if count == 1 else "binary" if count == 2 else "other"


def elementwise(*functions):
    """Partials registered for elementwise distribution methods (broadcasting exact)."""
    return partials(*functions, shape=_broadcast_shape)


from . import continuous, discrete, multivariate  # noqa: E402,F401  (they register rules)
