"""Rules found wrong or crashing by an adversarial review, pinned: right, or refused."""
import numpy as np
import pytest

import s2sad
from rule_cases import unary

TABLE = [
    # negative axes: the inverse permutation of (-1, 0) is that of (1, 0)
    unary(np.transpose, "np.transpose(a, (-1, 0)) * np.array([[1.0, 2.0], [3.0, 4.0]])",
          shapes=[(2, 2)]),
    unary(np.transpose, "np.transpose(a, (1, -1, 0)) * np.arange(24.0).reshape(3, 4, 2)",
          shapes=[(2, 3, 4)]),
    # the sublist form of einsum was refused here; it is differentiated (issue 17)
    unary(np.einsum, "np.einsum(a, [0, 1], [1, 0]) * np.array([[1.0, 2.0], [3.0, 4.0]])",
          shapes=[(2, 2)]),
]

ENV = {"np": np}


def _grad(body, wrt=0, params="a"):
    return s2sad.grad_source(f"def f({params}):\n    return {body}\n", "f", wrt=wrt, env=ENV)


def test_clip_with_a_min_above_a_max_sends_the_gradient_to_a_max():
    """NumPy gives a_max there (minimum(maximum(a, a_min), a_max))."""
    df = _grad("np.sum(np.clip(a, lo, hi))", wrt=(1, 2), params="a, lo, hi")
    dlo, dhi = df(np.array([-0.5, 2.0]), np.array([1.0, 1.0]), np.array([0.0, 0.0]))
    np.testing.assert_array_equal(dlo, [0.0, 0.0])
    np.testing.assert_array_equal(dhi, [1.0, 1.0])


@pytest.mark.parametrize("body, value, what", [
    ("np.prod(a)", np.array([0.0, 2.0, 3.0]), "zero"),
    ("np.sum(np.cumprod(a))", np.array([2.0, 0.0, 3.0]), "zero"),
    ("np.sum(np.take(a, (0, 2), axis=0))", np.ones((3, 4)), "np.take"),
    ("np.std(a, ddof=1)", np.ones(1), "ddof"),
    ("np.var(a, axis=0, ddof=2)", np.ones((2, 3)), "ddof"),
    ("np.sum(np.linalg.solve(a + 3 * np.eye(3), np.ones(3)))", np.ones((2, 3, 3)),
     "solve"),
])
def test_cases_a_rule_does_not_cover_are_refused_when_the_gradient_runs(body, value, what):
    with pytest.raises(s2sad.NoDerivativeRuleError, match=what):
        _grad(body)(value)
