"""Rule table for scipy.special's elementwise functions (issue 18, first part); empty
where SciPy is not installed (its rules are not loaded then either).

Domains keep inside each function's domain and away from its edges (logit and ndtri on
(0.1, 0.9), erfinv on (-0.8, 0.8), erfcinv on (0.2, 1.8), entr and rel_entr positive).
"""
from rule_cases import ANY, POSITIVE, binary, unary

try:
    from scipy import special
except ImportError:
    special = None

OPEN_UNIT = (0.1, 0.9)

TABLE = [] if special is None else [
    unary(special.expit, "special.expit(a)"),
    unary(special.logit, "special.logit(a)", OPEN_UNIT),
    unary(special.log_expit, "special.log_expit(a)"),
    unary(special.erf, "special.erf(a)"),
    unary(special.erfc, "special.erfc(a)"),
    unary(special.erfcx, "special.erfcx(a)", (-1.0, 2.0)),
    unary(special.erfinv, "special.erfinv(a)", (-0.8, 0.8)),
    unary(special.erfcinv, "special.erfcinv(a)", (0.2, 1.8)),
    unary(special.ndtr, "special.ndtr(a)"),
    unary(special.log_ndtr, "special.log_ndtr(a)"),
    unary(special.ndtri, "special.ndtri(a)", OPEN_UNIT),
    unary(special.entr, "special.entr(a)", POSITIVE),
    binary(special.xlogy, "special.xlogy(a, b)", (ANY, POSITIVE)),
    binary(special.xlog1py, "special.xlog1py(a, b)", (ANY, (-0.5, 1.5))),
    binary(special.rel_entr, "special.rel_entr(a, b)", (POSITIVE, POSITIVE)),
    unary(special.logsumexp, "special.logsumexp(a)"),
    unary(special.logsumexp, "special.logsumexp(a, axis=0) * 2.0", shapes=[(3,), (2, 3)]),
    unary(special.logsumexp, "special.logsumexp(a, axis=-1, keepdims=True) * a",
          shapes=[(2, 3)]),
    # logsumexp with weights b (b broadcast against a: the axes count in the broadcast)
    binary(special.logsumexp, "special.logsumexp(a, b=b)", (ANY, POSITIVE)),
    binary(special.logsumexp, "special.logsumexp(a, axis=-1, b=b)", (ANY, POSITIVE),
           shapes=[((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((3, 1), (1, 4))]),
    binary(special.logsumexp, "special.logsumexp(a, (0, 1), b, True) * a", (ANY, POSITIVE),
           shapes=[((2, 3), (2, 3)), ((2, 3), ())]),
    unary(special.logsumexp, "special.logsumexp(a, axis=-1, b=np.arange(1.0, 4.0))",
          shapes=[(3,), (2, 3)]),
    # softmax and log_softmax over all axes (None), one axis, or several
    unary(special.softmax, "special.softmax(a) * np.cos(a)"),
    unary(special.softmax, "special.softmax(a, axis=-1) * np.cos(a)", shapes=[(3,), (2, 3)]),
    unary(special.softmax, "special.softmax(a, axis=(0, 2)) * np.cos(a)",
          shapes=[(2, 3, 2)]),
    unary(special.log_softmax, "special.log_softmax(a) * np.cos(a)"),
    unary(special.log_softmax, "special.log_softmax(a, 0) * np.cos(a)", shapes=[(3,), (2, 3)]),
    unary(special.log_softmax, "special.log_softmax(a, axis=(1, 2)) * np.cos(a)",
          shapes=[(2, 3, 2)]),
    # the gamma family: positive arguments, away from the poles at 0, -1, ...
    unary(special.gamma, "special.gamma(a)", (0.5, 3.0)),
    unary(special.gamma, "special.gamma(a)", (-0.9, -0.1)),
    unary(special.rgamma, "special.rgamma(a)", (0.5, 3.0)),
    unary(special.gammaln, "special.gammaln(a)", POSITIVE),
    unary(special.gammaln, "special.gammaln(a)", (-1.9, -1.1)),
    unary(special.loggamma, "special.loggamma(a)", (0.3, 4.0)),
    unary(special.digamma, "special.digamma(a)", (0.3, 4.0)),
    unary(special.psi, "special.psi(a)", (-0.9, -0.1)),
    unary(special.polygamma, "special.polygamma(1, a)", POSITIVE),
    unary(special.polygamma, "special.polygamma(0, a) + special.polygamma(3, a)", POSITIVE),
    unary(special.zeta, "special.zeta(2.0, a) + special.zeta(3.5, a)", (0.3, 4.0)),
    unary(special.multigammaln, "special.multigammaln(a, 3)", (1.5, 3.0)),
    unary(special.multigammaln, "special.multigammaln(a, 1)", POSITIVE, shapes=[(), (3,)]),
    binary(special.beta, "special.beta(a, b)", (POSITIVE, POSITIVE)),
    binary(special.betaln, "special.betaln(a, b)", (POSITIVE, (0.3, 4.0))),
    unary(special.gammainc, "special.gammainc(1.5, a) + special.gammainc(1.0, a)", POSITIVE),
    unary(special.gammaincc, "special.gammaincc(2.5, a)", POSITIVE),
    unary(special.betainc, "special.betainc(1.5, 2.0, a) + special.betainc(1.0, 0.5, a)",
          OPEN_UNIT),
    binary(special.kl_div, "special.kl_div(a, b)", (POSITIVE, POSITIVE)),
    # Bessel functions: the order a constant, J and Y on positive x (Y has a pole at 0)
    unary(special.i0, "special.i0(a)"),
    unary(special.i1, "special.i1(a)"),
    unary(special.i0e, "special.i0e(a)", POSITIVE),
    unary(special.i0e, "special.i0e(a)", (-2.0, -0.3)),
    unary(special.i1e, "special.i1e(a)", POSITIVE),
    unary(special.i1e, "special.i1e(a)", (-2.0, -0.3)),
    unary(special.iv, "special.iv(0, a) + special.iv(2.5, a)", POSITIVE),
    unary(special.iv, "special.iv(3, a)"),
    unary(special.ive, "special.ive(1, a) + special.ive(0.5, a)", POSITIVE),
    unary(special.ive, "special.ive(2, a)", (-2.0, -0.3)),
    unary(special.jv, "special.jv(0, a) + special.jv(1.5, a)", POSITIVE),
    unary(special.jv, "special.jn(2, a)"),
    unary(special.yv, "special.yv(0, a) + special.yv(1.5, a)", POSITIVE),
    unary(special.yn, "special.yn(0, a) + special.yn(2, a)", POSITIVE),
    unary(special.j0, "special.j0(a)"),
    unary(special.j1, "special.j1(a)"),
    unary(special.y0, "special.y0(a)", POSITIVE),
    unary(special.y1, "special.y1(a)", POSITIVE),
]
