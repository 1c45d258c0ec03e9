"""A name bound again with another rank or shape: each binding keeps its own.

A branch that binds a name afresh gives the name's earlier value a zero adjoint at
the branch's entry in the adjoint sweep. That zero must have the shape of the value
the branch overwrote, not of the value it wrote: `y = x` (a number) then
`if v > 0: y = np.ones(3) * x` made the gradient of a number an array of shape (3,).
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sad
from conftest import central_difference


def branch_makes_array(x, v):
    y = x
    if v > 0:
        y = np.ones(3) * x
    z = y * x
    z += y
    return np.sum(z) + np.sum(y)


def branch_makes_number(x, v):
    y = np.arange(3.0) * x
    w = np.sum(y * y)
    if v > 0:
        y = x * 2.0
    return w + np.sum(y * x)


def loop_makes_array(x, n):
    y = x
    for i in range(n):
        if i > 0:
            y = np.linspace(0.5, 1.5, 3) * x
        y = y * x
    return np.sum(y)


def helper(x, v=None):
    if v is None:
        v = x
        v = np.ones(3) * v
    return np.sum(v * x)


def through_helper(x):
    return helper(x) + helper(x, 2.0 * x)


CASES = [(branch_makes_array, 1.0), (branch_makes_array, -1.0),
         (branch_makes_number, 1.0), (branch_makes_number, -1.0),
         (loop_makes_array, 1), (loop_makes_array, 3)]


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("kind", [float, np.float64])
@pytest.mark.parametrize("fn, other", CASES)
def test_the_gradient_of_a_number_is_a_number(fn, other, kind, optimize):
    x = kind(0.7)
    got = s2sad.grad(fn, optimize=optimize)(x, other)
    expected = central_difference(fn, {"x": x, "v": other, "n": other}, "x")
    assert type(got) is kind
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("kind", [float, np.float64])
def test_a_helper_default_that_becomes_an_array(kind):
    x = kind(0.7)
    got = s2sad.grad(through_helper)(x)
    assert type(got) is kind
    assert got == pytest.approx(central_difference(through_helper, {"x": x}, "x"), rel=1e-6)


def test_the_overwritten_value_is_stored_only_when_its_shape_is_unknown():
    """Where the shape class is known, the zero takes an argument's shape and the
    branch stores nothing for it."""
    def same_shape(x, v):
        y = x * 2.0
        if v > 0:
            y = x * 3.0
        return np.sum(y * x)

    source = s2sad.grad(same_shape).for_arguments((np.ones(3), 1.0), {}).source
    assert "tape" not in source
    assert "dy = zeros_like(x)" in source
    x = np.linspace(0.2, 0.8, 3)
    for v in (1.0, -1.0):
        np.testing.assert_allclose(s2sad.grad(same_shape)(x, v),
                                   central_difference(same_shape, {"x": x, "v": v}, "x"),
                                   rtol=1e-6)


def loop_changes_rank(x, v):
    a1 = x
    for i in range(2):
        a1 = np.tanh(a1) * v
    return np.sum(a1)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("kind", [float, np.float64])
def test_a_value_read_from_a_name_of_mixed_shapes_has_a_shape_of_its_own(kind, optimize):
    """a = np.tanh(a1) holds a number on the first trip and an array on the second:
    its shape is not a1's, so a1 = a * v reduces a's adjoint to a's shape."""
    x, v = kind(0.217814), np.array([-0.829308, 1.387324, -1.360745])
    got = s2sad.grad(loop_changes_rank, optimize=optimize)(x, v)
    assert type(got) is kind
    assert got == pytest.approx(
        central_difference(loop_changes_rank, {"x": x, "v": v}, "x"), rel=1e-6)
    both = s2sad.grad(loop_changes_rank, wrt=(0, 1), optimize=optimize)(x, v)
    np.testing.assert_allclose(
        both[1], central_difference(loop_changes_rank, {"x": x, "v": v}, "v"), rtol=1e-6)


def number_or_array(x, v, k):
    if k == 0:
        a0 = x
    else:
        a0 = v * x
    a2 = np.sin(x)
    return np.sum(np.sin(a0)) + np.sum(a2)


@pytest.mark.parametrize("k", [0, 2])
def test_a_use_inside_a_branch_says_nothing_of_a_value_bound_outside_it(k):
    """In grad_f, `if a: dx = dx + da0` makes da0 a number only when the branch runs;
    grad(grad(f)) took it for a number on the other path too (TypeError)."""
    x, v = 0.293211, np.array([-0.97291, 0.694658, -0.970276])
    gradient = s2sad.grad(number_or_array)
    second = s2sad.grad(gradient)(x, v, k)
    assert type(second) is float
    expected = central_difference(gradient, {"x": x, "v": v, "k": k}, "x", eps=1e-5)
    assert second == pytest.approx(expected, rel=1e-6)
    assert second == pytest.approx(s2sad.hessian(number_or_array)(x, v, k), rel=1e-10)


def loop_sums_then_rebinds(x):
    y = x * 2.0
    for i in range(1):
        s = np.sum(y * y)
        y = s * 1.0
    return y


def test_a_name_that_ends_a_number_may_have_been_an_array():
    """The output y is a number, but the y the loop reads first is x's array: only a
    name every value of which reaches a number elementwise is taken for one."""
    x = np.array([1.0, 2.0, 3.0])
    got = s2sad.grad(loop_sums_then_rebinds)(x)
    np.testing.assert_allclose(got, 8 * x, rtol=1e-12)
    np.testing.assert_allclose(got, central_difference(loop_sums_then_rebinds, {"x": x}, "x"),
                               rtol=1e-6)


def test_second_derivative_through_a_loop_that_changes_rank():
    """grad_f's da1 is an array before its loop and a number after the last trip:
    grad(grad(f)) reduced its adjoint to a number on every trip (0.443, right: 0.703)."""
    def f(x, v, k):
        a1 = x
        for i in range(2):
            a1 = np.tanh(a1) * v
        return np.sum(np.sin(a1))

    x, v = np.float64(-1.106818), np.array([1.342358, 0.176239, -1.152455])
    gradient = s2sad.grad(f)
    second = s2sad.grad(gradient)(x, v, 1)
    assert second == pytest.approx(
        central_difference(gradient, {"x": x, "v": v, "k": 1}, "x", eps=1e-5), rel=1e-6)
    assert second == pytest.approx(s2sad.hessian(f)(x, v, 1), rel=1e-10)


def test_an_array_of_a_list_of_numbers_has_one_axis():
    """np.array([a, 2.0, 3.0]) has one axis, so c[0] is a number (a copy), not a view
    of c: the write into c[0] afterwards was refused."""
    def f(a):
        c = np.array([a, 2.0, 3.0])
        b = c[0]
        c[0] = b * a
        return np.sum(c) * b

    assert s2sad.grad(f)(0.7) == pytest.approx(central_difference(f, {"a": 0.7}, "a"),
                                               rel=1e-6)


def test_the_adjoint_of_a_list_is_indexed_not_unpacked():
    """`da, dc = dy` (the adjoint of np.array([a, c])) is not input s2sad accepts
    again; `da = dy[0]` is, so grad(grad(f)) works."""
    def f(a):
        if a > 0:
            y = np.array([a, a * a])
            return np.sum(y)
        return a

    source = s2sad.grad(f).for_arguments((0.7,), {}).source
    assert "da = dy[0]" in source and "dc = dy[1]" in source
    assert s2sad.grad(s2sad.grad(f))(0.7) == pytest.approx(2.0, rel=1e-12)
    assert s2sad.grad(s2sad.grad(f))(-0.7) == 0.0


def reversed_and_halved(x):
    y = x * 1.0
    for i in range(2):
        y = y[::-1] + y * 0.5
    return y[0]


def halves_added(x):
    y = x * 1.0
    for i in range(1):
        y = y[:2] + y[2:]
    return np.sum(y * y)


def pairs_added(x):
    y = x * 1.0
    for i in range(2):
        y = y[::2] + y[1::2]
    return y[0]


def first_added(x):
    y = x * 1.0
    i = 0
    while i < 2:
        y = y + y[0]
        i += 1
    return np.sum(y * y)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [reversed_and_halved, halves_added, pairs_added, first_added])
def test_a_loop_that_rebinds_a_name_from_part_of_itself(fn, optimize):
    """y = y[::-1] + a in a loop: the old y's adjoint is a scatter of the new one's,
    not the new one itself, so the sum is computed apart (b = y[::-1] + a; y = b).
    It added into the new adjoint and lost it (reversed_and_halved: [0.5, 0, 0, 0.5]
    for [1.25, 0, 0, 1]), or crashed in NumPy (halves_added)."""
    x = np.array([0.55, -0.8, 1.25, 0.35])
    np.testing.assert_allclose(s2sad.grad(fn, optimize=optimize)(x),
                               central_difference(fn, {"x": x}, "x"), rtol=1e-6, atol=1e-9)


def _tail(v):
    return v[1:]


def reversed_in_a_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[::-1]
        y = y * x
    return np.sum(y * y)


def shortened_while_long(x):
    y = x * 1.0
    while y.size > 2:
        y = y[1:]
    return np.sum(y * y)


def shortened_by_a_helper(x):
    y = x * 1.0
    for i in range(2):
        y = _tail(y)
    return np.sum(y * y)


def an_argument_shortened(x):
    for i in range(2):
        x = x[1:]
    return np.sum(x * x)


def transposed_in_a_loop(m):
    y = m * 1.0
    for i in range(1):
        y = y.T
        y = y[1]
    return np.sum(y * y)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [reversed_in_a_loop, shortened_while_long, shortened_by_a_helper,
                                an_argument_shortened])
def test_a_loop_that_rebinds_a_name_to_a_view_of_itself(fn, optimize):
    """y = y[1:] in a loop (or a helper returning v[1:]): the adjoint wrote the new y's
    adjoint into part of itself (dy[1:] += dy) and lost the old one's, or NumPy raised."""
    x = np.array([0.55, -0.8, 1.25, 0.35])
    np.testing.assert_allclose(s2sad.grad(fn, optimize=optimize)(x),
                               central_difference(fn, {"x": x}, "x"), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("optimize", [True, False])
def test_a_loop_that_transposes_a_name(optimize):
    m = np.arange(6.0).reshape(2, 3) / 5 + 0.1
    np.testing.assert_allclose(s2sad.grad(transposed_in_a_loop, optimize=optimize)(m),
                               central_difference(transposed_in_a_loop, {"m": m}, "m"),
                               rtol=1e-6, atol=1e-9)


def concatenated_with_itself(x, s):
    y = x * 1.0
    for i in range(1):
        y = np.concatenate([y, y[:1] * s])
    return np.sum(y * y)


def test_second_order_through_pieces_of_a_list_read_in_a_loop():
    """The gradient's pieces (c = unconcatenate(...); dy = c[0] in a loop): the Hessian
    copied the list of unequal pieces with np.copy, and grad(grad) took the adjoint of
    c[1] for an array's element (np.zeros_like of the list): both raised ValueError."""
    x = np.array([0.3, -0.5, 0.8, 0.2])
    hessian = s2sad.hessian(concatenated_with_itself)(x, 1.0)
    expected = 2 * np.eye(4)
    expected[0, 0] = 4.0
    np.testing.assert_allclose(hessian, expected, rtol=1e-9, atol=1e-12)
    second = s2sad.grad(s2sad.grad(concatenated_with_itself, 1), 1)(x, 0.7)
    assert second == pytest.approx(2 * x[0] ** 2, rel=1e-9)


def zero_d_element(s):
    z = np.array(s)
    q = z[()]
    return q * q


def test_second_order_through_an_element_of_a_0d_array():
    """dz = np.zeros_like(z) of a 0-d z is an array the gradient writes into
    (dz[()] += ...): its tangent was the number 0.0, and the Hessian raised TypeError."""
    assert s2sad.hessian(zero_d_element)(0.7) == pytest.approx(2.0, rel=1e-12)
    assert s2sad.hvp(zero_d_element)(0.7, 1.0) == pytest.approx(2.0, rel=1e-12)
