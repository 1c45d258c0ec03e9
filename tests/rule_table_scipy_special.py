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
]
