"""Adversarial review of issue 17 (everyday Python inside the function): the smallest
reproducers of what tests/random_python.py's random programs found, and attacks on the
semantics Python gives the new constructs (parallel assignment, a walrus's binding,
closures' and defaults' binding time, aliases of a list, short circuits).

Each confirmed defect is a strict xfail whose reason starts with the first line of the
wrong output or of the crash (a fix shows as XPASS: then drop the marker); the plain
tests pin attacks that s2sad already meets. The oracle is central differences
(conftest.central_difference) and the function's own value.
"""
import numpy as np
import pytest

import s2sad
from conftest import central_difference

X = np.array([0.3, -0.7, 0.5])


def _assert_exact(fn, x=X):
    """value_and_grad and jvp of fn at x agree with fn and with central differences."""
    expected = central_difference(fn, {"x": x}, "x")
    value, gradient = s2sad.value_and_grad(fn)(x.copy())
    np.testing.assert_allclose(value, fn(x.copy()), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)
    direction = np.array([0.4, -1.1, 0.7])
    value, tangent = s2sad.jvp(fn)(x.copy(), direction)
    np.testing.assert_allclose(value, fn(x.copy()), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, expected @ direction, rtol=1e-5, atol=1e-6)


# -- 1. a parallel assignment is done one name at a time --------------------------------
# In a function the desugar stage rewrites (any assert, with, lambda, nested def, and/or,
# walrus, comprehension, list...), `a, b = b, a * 2.0` becomes `a = b; b = a * 2.0`:
# the right side is not evaluated before the names are bound. Value, gradient and jvp
# are all wrong; without such a construct the same lines are right (swap_plain below).

SWAP = ("a parallel assignment after a desugared construct is done one name at a time: "
        "value_and_grad(f)(X)[0] is -2.8, f(X) is -1.8")


def swap_plain(x):
    a = x[0]
    b = x[1]
    a, b = b, a
    return a * 3.0 + b


def swap_after_assert(x):
    assert x.ndim == 1
    a = x[0]
    b = x[1]
    a, b = b, a
    return a * 3.0 + b


def swap_after_errstate(x):
    with np.errstate(over="ignore"):
        pass
    a = x[0]
    b = x[1]
    a, b = b, a
    return a * 3.0 + b


def swap_before_and(x):
    a = x[0]
    b = x[1]
    a, b = b, a
    if x[0] > 0 and x[1] < 0:
        a = a * 1.0
    return a * 3.0 + b


def fibonacci_with_assert(x):
    assert x.ndim == 1
    a, b = x[0], x[1]
    for i in range(3):
        a, b = b, a + b
    return b


def rotation_under_and(x):
    c = np.cos(x[2])
    s = np.sin(x[2])
    u, v = x[0], x[1]
    if u > -10.0 and v > -10.0:
        u, v = c * u - s * v, s * u + c * v
    return u * 2.0 + v


def swap_arrays_with_lambda(x):
    g = lambda t: t * 2.0
    u, v = np.sin(x), x ** 2
    u, v = v, u * 2.0
    return np.sum(g(u) * x) + np.sum(v ** 2)


def test_swap_without_a_desugared_construct_is_right():
    _assert_exact(swap_plain)


@pytest.mark.xfail(strict=True, reason=SWAP)
def test_swap_after_assert():
    _assert_exact(swap_after_assert)


@pytest.mark.xfail(strict=True, reason=SWAP + " (with np.errstate before)")
def test_swap_after_errstate():
    _assert_exact(swap_after_errstate)


@pytest.mark.xfail(strict=True, reason=SWAP)
def test_swap_before_and():
    _assert_exact(swap_before_and)


@pytest.mark.xfail(strict=True, reason="value_and_grad(f)(X)[0] is -5.6, f(X) is -1.5 "
                                       "(a, b = b, a + b in a loop, with an assert)")
def test_fibonacci_with_assert():
    _assert_exact(fibonacci_with_assert)


@pytest.mark.xfail(strict=True, reason="value_and_grad(f)(X)[0] is 0.8706, f(X) is 0.7273 "
                                       "(u, v = c*u - s*v, s*u + c*v under an `and`)")
def test_rotation_under_and():
    _assert_exact(rotation_under_and)


@pytest.mark.xfail(strict=True, reason="value_and_grad(f)(X)[0] is 0.8608, f(X) is 2.5468 "
                                       "(arrays: u, v = v, u * 2.0 after a lambda)")
def test_swap_arrays_with_lambda():
    _assert_exact(swap_arrays_with_lambda)


# -- 2. a walrus inside an unrolled comprehension ---------------------------------------
# Each item of `[(m := u * 2.0) for u in x]` reads the name m, which holds the last
# item's value by the time the items are used: every item is the last one.

def walrus_in_list_comprehension(x):
    s = [(m := u * 2.0) for u in x]
    return s[0] + m


def walrus_in_sum_beside_a_list(x):
    total = sum((last := u * 2.0) for u in x)
    d = [x[i] for i in range(x.shape[0])]
    return total + d[0]


def walrus_in_summed_generator(x):
    total = sum((last := u * 2.0) for u in x)
    return total + last


def test_walrus_in_a_summed_generator_kept_as_a_loop_is_right():
    _assert_exact(walrus_in_summed_generator)


@pytest.mark.xfail(strict=True, reason="value_and_grad(f)(X)[0] is 2.0, f(X) is 1.6 "
                                       "(every item of the comprehension is the last one)")
def test_walrus_in_list_comprehension():
    _assert_exact(walrus_in_list_comprehension)


@pytest.mark.xfail(strict=True, reason="value_and_grad(f)(X)[0] is 3.3, f(X) is 0.5 (sum of "
                                       "a generator with a walrus, unrolled beside a list)")
def test_walrus_in_sum_beside_a_list():
    _assert_exact(walrus_in_sum_beside_a_list)


# -- 3. crashes ------------------------------------------------------------------------

def nested_generator_over_a_slice(x):
    return sum(v * u for v in x for u in x[:2])


def nested_def_calls_nested_def(x):
    def inner(u):
        return 0.5 * u

    def outer(u):
        return inner(u) * 2.0
    return outer(x[0])


@pytest.mark.xfail(strict=True, raises=AttributeError,
                   reason="AttributeError: 'Subscript' object has no attribute 'id' "
                          "(reverse.py indexed: a generator's second for over x[:2])")
def test_nested_generator_over_a_slice():
    _assert_exact(nested_generator_over_a_slice)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="AssertionError: LocalDef(node=<gast.gast.FunctionDef ...>) "
                          "(desugar materialize: a nested def read by another nested def)")
def test_nested_def_calls_nested_def():
    try:
        _assert_exact(nested_def_calls_nested_def)
    except AssertionError as exc:   # (a wrong value would be an AssertionError too)
        assert "LocalDef" in str(exc)
        raise


def dot_of_a_list(x):
    vals = [x[0] * 2.0, x[1], x[2]]
    return np.dot(vals, x)


def list_filled_by_index(x):
    vals = [0.0] * len(x)
    for i in range(len(x)):
        vals[i] = x[i] ** 2
    return vals[0] * vals[-1]


@pytest.mark.xfail(strict=True, raises=TypeError,
                   reason="TypeError: can't multiply sequence by non-int of type 'float' "
                          "(grad: the adjoint of np.dot(list, x) is dg * [vals_0, ...])")
def test_dot_of_a_list():
    _assert_exact(dot_of_a_list)


@pytest.mark.xfail(strict=True, raises=TypeError,
                   reason="TypeError: 'Pieces' object does not support item assignment "
                          "(jvp only: vals_dot[i] = ... into a list made by [0.0] * len(x))")
def test_list_filled_by_index():
    _assert_exact(list_filled_by_index)


# -- 4. the source before a call -------------------------------------------------------

@pytest.mark.xfail(strict=True, raises=s2sad.S2SADError,
                   reason="UnsupportedSyntaxError: ...: assert statements are not supported "
                          "(grad(f).source before a call, though grad(f)(x) accepts f)")
def test_source_before_a_call_reads_what_the_call_accepts():
    df = s2sad.grad(swap_plain_with_assert)
    assert "def grad_swap_plain_with_assert" in df.source


def swap_plain_with_assert(x):
    assert x.ndim == 1
    return x[0] * 3.0


# -- attacks s2sad meets (kept so they stay met) ---------------------------------------

def alias_of_a_list(x):
    vals = [x[0], x[1]]
    other = vals
    other.append(x[2] * 3.0)
    return sum(vals)


def copy_of_a_list(x):
    vals = [x[0], x[1]]
    other = list(vals)
    other.append(x[2] * 3.0)
    return sum(vals) * 1.5 + sum(other)


def closure_reads_at_call(x):
    scale = x[0]

    def h(u):
        return u * scale
    scale = x[1]
    return h(2.0)


def default_read_at_def(x):
    scale = x[0]

    def h(u, c=scale):
        return u * c
    scale = x[1]
    return h(2.0) + scale


def walrus_not_bound_when_short_circuited(x):
    w = 0.5
    if x[0] > 0 or (w := x[1] * 2.0) > 0:
        pass
    return w + x[2]


def walrus_bound_when_evaluated(x):
    w = 0.5
    if x[0] < 0 or (w := x[1] * 2.0) > 0:
        pass
    return w + x[2]


def comprehension_variable_is_its_own(x):
    v = x[0]
    s = sum(v * v for v in x)
    return s + v


@pytest.mark.parametrize("fn", [alias_of_a_list, copy_of_a_list, closure_reads_at_call,
                                default_read_at_def, walrus_not_bound_when_short_circuited,
                                walrus_bound_when_evaluated,
                                comprehension_variable_is_its_own],
                         ids=lambda fn: fn.__name__)
def test_python_semantics_kept(fn):
    _assert_exact(fn)
    _assert_exact(fn, -X[::-1].copy())   # (the other branch of each condition)
