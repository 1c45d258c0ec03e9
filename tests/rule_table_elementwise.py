"""Rule table for the elementwise rules added after the first table in test_rules.py."""
import numpy as np

from rule_cases import ANY, POSITIVE, binary, unary

TABLE = [
    binary(np.logaddexp2, "np.logaddexp2(a, b)"),
    unary(np.sinc, "np.sinc(a)", (0.2, 1.8)),
    unary(np.sinc, "np.sinc(a)", (-1.8, -0.2)),
    unary(np.fabs, "np.fabs(a)", (-2.0, -0.3)),
    unary(np.fabs, "np.fabs(a)", POSITIVE),
    unary((np.conjugate,), "np.conjugate(a) * a"),
    unary((np.conjugate,), "np.conj(a) * a"),
    unary(np.real, "np.real(a) * a"),
    unary(np.real_if_close, "np.real_if_close(a) * a"),
    unary(np.nan_to_num, "np.nan_to_num(a) * a", ANY),
]
