"""Rule table for the reductions beyond sum and mean: prod, max/min, var/std,
cumsum/cumprod, norm and trace (checked by tests/test_rules.py).

Inputs avoid the kinks: prod and cumprod get POSITIVE inputs (their rules divide by
a), max/min get uniform samples (ties have probability zero), std and norm are
away from zero for the shapes used. The tie-splitting convention of max/min is
checked by hand below.
"""
import numpy as np
import pytest

import s2sad
from rule_cases import ANY, POSITIVE, unary

SHAPES = [(3,), (2, 3), (2, 3, 4)]
MATRIX = [(2, 3), (2, 3, 4)]

TABLE = [
    # prod (rule uses y / a: inputs without zeros)
    unary(np.prod, "np.prod(a)", POSITIVE, shapes=SHAPES),
    unary(np.prod, "np.prod(a, axis=0)", POSITIVE, shapes=SHAPES),
    unary(np.prod, "np.prod(a, axis=-1)", POSITIVE, shapes=MATRIX),
    unary(np.prod, "np.prod(a, axis=(0, 1))", POSITIVE, shapes=MATRIX),
    unary(np.prod, "np.prod(a, axis=1, keepdims=True)", POSITIVE, shapes=MATRIX),
    unary(np.prod, "np.prod(a, 0, keepdims=True)", (-2.0, -0.5), shapes=[(2, 3)]),
    unary(np.prod, "a.prod(axis=1)", POSITIVE, shapes=MATRIX),
    unary(np.prod, "a.prod()", POSITIVE, shapes=[(2, 3)]),
    # max / amax
    unary(np.max, "np.max(a)", ANY, shapes=SHAPES),
    unary(np.max, "np.max(a, axis=0)", ANY, shapes=SHAPES),
    unary(np.max, "np.max(a, axis=-1)", ANY, shapes=MATRIX),
    unary(np.max, "np.max(a, axis=(0, 1))", ANY, shapes=MATRIX),
    unary(np.max, "np.max(a, axis=(0, -1), keepdims=True)", ANY, shapes=[(2, 3, 4)]),
    unary(np.max, "np.max(a, 1, keepdims=True)", ANY, shapes=MATRIX),
    unary(np.max, "a.max(axis=0)", ANY, shapes=MATRIX),
    unary(np.max, "a.max()", ANY, shapes=[(2, 3)]),
    unary(np.amax, "np.amax(a)", ANY, shapes=SHAPES),
    unary(np.amax, "np.amax(a, axis=-1, keepdims=True)", ANY, shapes=MATRIX),
    # min / amin
    unary(np.min, "np.min(a)", ANY, shapes=SHAPES),
    unary(np.min, "np.min(a, axis=0)", ANY, shapes=SHAPES),
    unary(np.min, "np.min(a, axis=-1, keepdims=True)", ANY, shapes=MATRIX),
    unary(np.min, "np.min(a, axis=(0, 1))", ANY, shapes=MATRIX),
    unary(np.min, "a.min(axis=1)", ANY, shapes=MATRIX),
    unary(np.min, "a.min()", ANY, shapes=[(2, 3)]),
    unary(np.amin, "np.amin(a)", ANY, shapes=SHAPES),
    unary(np.amin, "np.amin(a, axis=0, keepdims=True)", ANY, shapes=MATRIX),
    # var
    unary(np.var, "np.var(a)", ANY, shapes=SHAPES),
    unary(np.var, "np.var(a, ddof=1)", ANY, shapes=SHAPES),
    unary(np.var, "np.var(a, axis=0)", ANY, shapes=MATRIX),
    unary(np.var, "np.var(a, axis=-1, ddof=1, keepdims=True)", ANY, shapes=MATRIX),
    unary(np.var, "np.var(a, axis=(0, 1))", ANY, shapes=MATRIX),
    unary(np.var, "a.var(axis=1)", ANY, shapes=MATRIX),
    unary(np.var, "a.var(ddof=1)", ANY, shapes=[(2, 3)]),
    # std
    unary(np.std, "np.std(a)", ANY, shapes=SHAPES),
    unary(np.std, "np.std(a, ddof=1)", ANY, shapes=SHAPES),
    unary(np.std, "np.std(a, axis=0)", ANY, shapes=MATRIX),
    unary(np.std, "np.std(a, axis=-1, ddof=1, keepdims=True)", ANY, shapes=MATRIX),
    unary(np.std, "np.std(a, axis=(0, 1))", ANY, shapes=MATRIX),
    unary(np.std, "a.std(axis=1)", ANY, shapes=MATRIX),
    unary(np.std, "a.std()", ANY, shapes=[(2, 3)]),
    # one entry along the axis (std is 0 there, and so is its derivative: issue 15's NaN)
    unary(np.std, "np.std(a, axis=1)", ANY, shapes=[(2, 1)]),
    unary(np.std, "np.std(a, axis=0, keepdims=True)", ANY, shapes=[(1, 3)]),
    unary(np.std, "np.std(a)", ANY, shapes=[(1,), ()]),
    unary(np.var, "np.var(a, axis=1)", ANY, shapes=[(2, 1)]),
    unary(np.var, "np.var(a)", ANY, shapes=[(1,)]),
    # cumsum (flattened with axis=None)
    unary(np.cumsum, "np.cumsum(a)", ANY, shapes=SHAPES),
    unary(np.cumsum, "np.cumsum(a, axis=0)", ANY, shapes=SHAPES),
    unary(np.cumsum, "np.cumsum(a, axis=-1)", ANY, shapes=MATRIX),
    unary(np.cumsum, "np.cumsum(a, 1)", ANY, shapes=MATRIX),
    unary(np.cumsum, "a.cumsum()", ANY, shapes=[(2, 3)]),
    unary(np.cumsum, "a.cumsum(axis=1)", ANY, shapes=MATRIX),
    # cumprod (rule divides by a: inputs without zeros)
    unary(np.cumprod, "np.cumprod(a)", (0.7, 1.4), shapes=SHAPES),  # no huge products
    unary(np.cumprod, "np.cumprod(a, axis=0)", (0.7, 1.4), shapes=SHAPES),
    unary(np.cumprod, "np.cumprod(a, axis=-1)", POSITIVE, shapes=MATRIX),
    unary(np.cumprod, "np.cumprod(a, 1)", (-2.0, -0.5), shapes=[(2, 3)]),
    # linalg.norm, ord=None
    unary(np.linalg.norm, "np.linalg.norm(a)", ANY, shapes=SHAPES),
    unary(np.linalg.norm, "np.linalg.norm(a, axis=0)", ANY, shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, axis=-1, keepdims=True)", ANY, shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, axis=(0, 1))", ANY, shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, axis=1)", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, 2)", ANY, shapes=[(3,)]),
    unary(np.linalg.norm, "np.linalg.norm(a, ord=\"fro\")", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, 1)", (0.5, 2.0), shapes=[(3,)]),
    unary(np.linalg.norm, "np.linalg.norm(a, ord=1, axis=-1)", (-2.0, -0.5), shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, 2, 0, True)", ANY, shapes=MATRIX),
    # other orders: p >= 1 and +-inf of vectors, the induced and nuclear norms of a matrix
    unary(np.linalg.norm, "np.linalg.norm(a, 3)", ANY, shapes=[(3,)]),
    unary(np.linalg.norm, "np.linalg.norm(a, 1.5, axis=1)", ANY, shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, np.inf)", ANY, shapes=[(3,)]),
    unary(np.linalg.norm, "np.linalg.norm(a, -np.inf, axis=-1, keepdims=True)", ANY,
          shapes=MATRIX),
    unary(np.linalg.norm, "np.linalg.norm(a, 1)", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, -1)", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, np.inf)", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, -np.inf)", ANY, shapes=[(2, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, 2)", ANY, shapes=[(2, 3), (3, 3)]),
    unary(np.linalg.norm, "np.linalg.norm(a, -2)", ANY, shapes=[(3, 2)]),
    unary(np.linalg.norm, "np.linalg.norm(a, 'nuc')", ANY, shapes=[(2, 3)]),
    # trace, 2-d
    unary(np.trace, "np.trace(a)", ANY, shapes=[(2, 3), (3, 3), (3, 2)]),
    unary(np.trace, "np.trace(a, offset=1)", ANY, shapes=[(2, 3), (3, 3)]),
    unary(np.trace, "np.trace(a, -1)", ANY, shapes=[(3, 2), (3, 3)]),
    unary(np.trace, "a.trace()", ANY, shapes=[(3, 3)]),
    unary(np.trace, "np.trace(a)", ANY, shapes=[(2, 3, 4), (3, 2, 2, 2)]),
    unary(np.trace, "np.trace(a, -1, 2, 1)", ANY, shapes=[(2, 3, 4)]),
    unary(np.trace, "np.trace(a, offset=1, axis1=1, axis2=0)", ANY, shapes=[(3, 4)]),
]


def _grad(expression):
    text = f"def f(a):\n    return {expression}\n"
    return s2sad.grad_source(text, "f", env={"np": np})


@pytest.mark.parametrize("optimize", [True, False])
def test_max_splits_the_gradient_among_ties(optimize):
    text = "def f(a):\n    return np.max(a)\n"
    gradient = s2sad.grad_source(text, "f", env={"np": np}, optimize=optimize)
    np.testing.assert_allclose(gradient(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])


def test_max_and_min_split_ties_along_an_axis():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    got = _grad("np.sum(np.max(a, axis=1) * np.array([1.0, 2.0]))")(x)
    np.testing.assert_allclose(got, [[0.0, 0.5, 0.5], [2 / 3, 2 / 3, 2 / 3]])
    got = _grad("np.sum(np.min(a, axis=-1, keepdims=True) * np.array([[1.0], [2.0]]))")(x)
    np.testing.assert_allclose(got, [[1.0, 0.0, 0.0], [2 / 3, 2 / 3, 2 / 3]])


@pytest.mark.parametrize("expression", ["np.linalg.norm(a[0], 0.5)", "np.linalg.norm(a[0], 0)",
                                        "np.linalg.norm(a, -1, axis=0)",
                                        "np.linalg.norm(a[None], 2, axis=(1, 2))"])
def test_norm_refuses_the_ords_it_has_no_rule_for(expression):
    """p < 1 of vectors is not differentiable at a zero entry; matrix norms of stacks
    have no rule."""
    with pytest.raises(s2sad.NoDerivativeRuleError, match="ord="):
        _grad(f"np.sum({expression})")(np.array([[1.0, 2.0], [3.0, -4.0]]))
