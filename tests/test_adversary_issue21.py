"""Adversary tests for issue 21: implicit differentiation (s2sad.fixed_point, s2sad.root,
fixed_point_of / root_of), written as a user who has not read the implementation.

Oracles: central differences of the converged solution (forward solves at tol 1e-13 or
tighter), closed forms (linear fixed points, x = cos(t x), implied volatility's 1/vega,
the ridge optimum), and the unrolled/closed-form program differentiated by s2sad itself.
Each bug found is a strict xfail with a minimal reproduction; everything else pins
behaviour that works.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.optimize

import s2sad
from s2sad import fixed_point as imported_fixed_point
import s2sad as sad


# -- oracles -------------------------------------------------------------------------

H = 1e-6


def fd(f, t, h=H):
    """Central difference of f at a number t (f may return an array)."""
    return (np.asarray(f(t + h)) - np.asarray(f(t - h))) / (2 * h)


def fd_jac(f, x, h=H):
    """d f / d x by central differences: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out_shape = np.shape(f(x.copy()))
    J = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        J[(Ellipsis,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return J


def fd_grad(f, args, wrt=0, h=H):
    """Central differences of scalar f in argument `wrt` (a number or an array)."""
    def along(v):
        return f(*args[:wrt], v, *args[wrt + 1:])
    if isinstance(args[wrt], np.ndarray):
        return fd_jac(along, args[wrt], h)
    return float(fd(along, args[wrt], h))


def close(got, want, tol=1e-6):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = 1.0 + np.max(np.abs(want)) if want.size else 1.0
    assert np.max(np.abs(got - want), initial=0.0) <= tol * scale, (got, want)


def refused_or_right(thunk, want, *, mentions=()):
    """Either the gradient is right, or an S2SADError refuses with a location."""
    try:
        got = thunk()
    except s2sad.S2SADError as exc:
        text = str(exc)
        assert "test_adversary_issue21.py:" in text, text
        for word in mentions:
            assert word in text, text
        return None
    close(got, want)
    return got


# -- the functions solved (module level, as the README shows) -------------------------

RNG = np.random.default_rng(2121)
W3 = 0.25 * RNG.standard_normal((3, 3))
B3 = RNG.standard_normal(3)
A4 = 0.2 * RNG.standard_normal((4, 4))
C4 = RNG.standard_normal(4)


def g_cos(x, t):
    return np.cos(t * x)


def deq(z, W, b):
    return np.tanh(W @ z + b)


def linear(x, A, c):
    return A @ x + c


def deq_rows(Z, W, B):
    """A batch of equilibria, one per row: a 2-D solution."""
    return np.tanh(Z @ W + B)


def cubic(x, a):
    return x ** 3 + a * x - 1.0


def circle_line(x, p):
    return np.array([x[0] ** 2 + x[1] ** 2 - p[0], x[0] - p[1] * x[1]])


def matrix_square(X, A):
    return X @ X - A


def cos_fixed_point_slope(t, x):
    """d x*/d t for x* = cos(t x*): differentiate the equation by hand."""
    s = math.sin(t * x)
    return -s * x / (1.0 + t * s)


# -- 1. scalars: x0 as a float, an int, a 0-d array, a numpy float ------------------

def sol_cos(t):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)


def sol_cos_int_start(t):
    return s2sad.fixed_point(g_cos, 0, t, tol=1e-14)


def sol_cos_0d_start(t):
    x = s2sad.fixed_point(g_cos, np.array(0.5), t, tol=1e-14)
    return x * x


def sol_cos_numpy_float(t):
    return s2sad.fixed_point(g_cos, np.float64(0.5), t, tol=1e-14) ** 3


@pytest.mark.parametrize("f", [sol_cos, sol_cos_int_start, sol_cos_0d_start,
                               sol_cos_numpy_float])
def test_scalar_fixed_point_every_start_spelling(f):
    t = 0.7
    got = s2sad.grad(f)(t)
    assert isinstance(got, float)
    close(got, fd(f, t))


def test_scalar_fixed_point_closed_form():
    t = 0.7
    x = sol_cos(t)
    close(s2sad.grad(sol_cos)(t), cos_fixed_point_slope(t, x), 1e-10)
    value, slope = s2sad.jvp(sol_cos)(t, 1.0)
    close(value, x, 0)
    close(slope, cos_fixed_point_slope(t, x), 1e-10)


# -- 2. vectors and matrices -----------------------------------------------------------

def deq_loss(W, b):
    z = s2sad.fixed_point(deq, np.zeros(3), W, b, tol=1e-14)
    return np.sum(z ** 2) + z[0]


@pytest.mark.parametrize("wrt", [0, 1])
def test_vector_fixed_point_against_differences(wrt):
    got = s2sad.grad(deq_loss, wrt=wrt)(W3, B3)
    assert got.shape == (W3, B3)[wrt].shape and got.dtype == np.float64
    close(got, fd_grad(deq_loss, [W3, B3], wrt))


def linear_loss(A, c):
    x = s2sad.fixed_point(linear, np.zeros(4), A, c, tol=1e-15)
    return np.sum(x ** 2)


def linear_loss_closed(A, c):
    x = np.linalg.solve(np.eye(4) - A, c)
    return np.sum(x ** 2)


def test_linear_fixed_point_equals_the_linear_solve():
    got = s2sad.grad(linear_loss, wrt=(0, 1))(A4, C4)
    want = s2sad.grad(linear_loss_closed, wrt=(0, 1))(A4, C4)
    close(got[0], want[0], 1e-10)
    close(got[1], want[1], 1e-10)


def batch_loss(W, B):
    Z = s2sad.fixed_point(deq_rows, np.zeros((2, 3)), W, B, tol=1e-14)
    return np.sum(Z * np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("wrt", [0, 1])
def test_two_dimensional_solution(wrt):
    B = RNG.standard_normal((2, 3))
    got = s2sad.grad(batch_loss, wrt=wrt)(W3, B)
    close(got, fd_grad(batch_loss, [W3, B], wrt))


def test_two_dimensional_solution_forward_and_jacobian():
    B = np.linspace(-1, 1, 6).reshape(2, 3)
    tangent = np.ones((2, 3))
    _, slope = s2sad.jvp(batch_loss, wrt=1)(W3, B, tangent)
    close(slope, np.sum(fd_grad(batch_loss, [W3, B], 1) * tangent))

    def solution(B):
        return s2sad.fixed_point(deq_rows, np.zeros((2, 3)), W3, B, tol=1e-14)
    J = s2sad.jacobian(solution)(B)
    assert J.shape == (2, 3, 2, 3)
    close(J, fd_jac(solution, B))


# -- 3. dtypes -------------------------------------------------------------------------

def sol32(t):
    x = s2sad.fixed_point(g_cos, np.zeros(3, dtype=np.float32), t, tol=1e-6)
    return np.sum(x)


def test_float32_parameters_give_float32_gradients():
    t = np.array([0.5, 0.7, 0.9], dtype=np.float32)
    got = s2sad.grad(sol32)(t)
    assert got.dtype == np.float32 and got.shape == (3,)
    want = [cos_fixed_point_slope(float(v), sol_cos(float(v))) for v in t]
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_float32_scalar():
    got = s2sad.grad(sol_cos)(np.float32(0.7))
    assert isinstance(got, np.float32)
    np.testing.assert_allclose(got, cos_fixed_point_slope(0.7, sol_cos(0.7)), rtol=1e-5)


# -- 4. parameters: constants, ints, twice, unused, some differentiated -----------------

def g_mixed(x, a, n, c):
    return np.cos(a * x) / n + c


def mixed_constants(a):
    return s2sad.fixed_point(g_mixed, 0.0, a, 2, 0.1, tol=1e-14)


def test_int_and_float_constants_among_the_parameters():
    close(s2sad.grad(mixed_constants)(0.7), fd(mixed_constants, 0.7))


def g_two(x, a, c):
    return np.cos(a * x) * c


def same_parameter_twice(a):
    return s2sad.fixed_point(g_two, 0.5, a, a, tol=1e-14)


def test_a_parameter_passed_twice():
    close(s2sad.grad(same_parameter_twice)(0.7), fd(same_parameter_twice, 0.7))
    close(s2sad.jvp(same_parameter_twice)(0.7, 1.0)[1], fd(same_parameter_twice, 0.7))


def g_ignores(x, a, unused):
    return np.cos(a * x)


def ignored(a, u):
    return s2sad.fixed_point(g_ignores, 0.5, a, u, tol=1e-14)


def test_a_parameter_g_ignores_has_zero_gradient():
    assert s2sad.grad(ignored, wrt=1)(0.7, 0.3) == 0.0
    close(s2sad.grad(ignored, wrt=0)(0.7, 0.3), fd(lambda a: ignored(a, 0.3), 0.7))


def scaled(W, b, s):
    z = s2sad.fixed_point(deq, np.zeros(3), W * s, b, tol=1e-14)
    return np.sum(z ** 2)


def test_wrt_some_parameters_by_index_and_name():
    args = [W3, B3, 0.8]
    close(s2sad.grad(scaled, wrt=2)(*args), fd_grad(scaled, args, 2))
    close(s2sad.grad(scaled, wrt="b")(*args), fd_grad(scaled, args, 1))
    gW, gs = s2sad.grad(scaled, argnums=(0, 2))(*args)
    close(gW, fd_grad(scaled, args, 0))
    close(gs, fd_grad(scaled, args, 2))


def g_default(x, a, c=0.5):
    return np.cos(a * x) * c


def with_default(a):
    return s2sad.fixed_point(g_default, 0.5, a, tol=1e-14)


SCALE = 0.8


def g_global(x, a):
    return SCALE * np.cos(a * x)


def reads_global(a):
    return s2sad.fixed_point(g_global, 0.5, a, tol=1e-14)


@pytest.mark.parametrize("f", [with_default, reads_global])
def test_g_with_a_default_or_a_global(f):
    close(s2sad.grad(f)(0.7), fd(f, 0.7))
    close(s2sad.jvp(f)(0.7, 1.0)[1], fd(f, 0.7))


# -- 5. the start does not matter -------------------------------------------------------

def start_from_parameter(t, s):
    return s2sad.fixed_point(g_cos, 0.1 * s, t, tol=1e-14)


def start_is_the_parameter(t):
    return s2sad.fixed_point(g_cos, t, t, tol=1e-14)


def start_overwritten(t):
    x = t * 0.5
    x = s2sad.fixed_point(g_cos, x, t, tol=1e-14)
    return x * t


def test_gradient_through_the_start_is_zero():
    assert s2sad.grad(start_from_parameter, wrt=1)(0.7, 0.5) == 0.0
    assert s2sad.jvp(start_from_parameter, wrt=1)(0.7, 0.5, 1.0)[1] == 0.0
    close(s2sad.grad(start_is_the_parameter)(0.7), fd(start_is_the_parameter, 0.7))
    close(s2sad.grad(start_overwritten)(0.7), fd(start_overwritten, 0.7))


def start_array(W, b, x0):
    z = s2sad.fixed_point(deq, x0, W, b, tol=1e-14)
    return np.sum(z ** 2)


def test_array_start_gradient_is_zero_and_nothing_is_written():
    x0 = np.array([0.1, 0.2, 0.3])
    W, b = W3.copy(), B3.copy()
    gW, gb, gx0 = s2sad.grad(start_array, wrt=(0, 1, 2))(W, b, x0)
    np.testing.assert_array_equal(gx0, np.zeros(3))
    s2sad.jvp(start_array, wrt=1)(W, b, x0, np.ones(3))
    s2sad.vjp(start_array, wrt=(0, 1))(W, b, x0)[1](1.0)
    s2sad.jacobian(start_array, wrt=1)(W, b, x0)
    np.testing.assert_array_equal(x0, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(W, W3)
    np.testing.assert_array_equal(b, B3)


# -- 6. composition: twice, chained, helpers, loops, branches ---------------------------

def same_g_twice(t, s):
    x = s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)
    y = s2sad.fixed_point(g_cos, 0.5, s, tol=1e-14)
    return x * y + np.sin(x)


def chained(t):
    x = s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)
    y = s2sad.fixed_point(g_cos, 0.5, x + 0.3, tol=1e-14)
    return y * np.exp(x)


def solve_helper(t):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)


def through_helper(t):
    return solve_helper(t) ** 2 + solve_helper(0.5 * t)


def in_a_for_loop(t):
    x = 0.5
    for i in range(3):
        x = s2sad.fixed_point(g_cos, x, t * (0.5 + 0.1 * x), tol=1e-14)
    return x


def accumulated_in_loop(t, n):
    s = 0.0
    for i in range(n):
        x = s2sad.fixed_point(g_cos, 0.5, t + 0.1 * i, tol=1e-14)
        s = s + x * (i + 1)
    return s


def in_a_while_loop(t):
    x = 0.5
    k = 0
    while k < 2:
        x = s2sad.fixed_point(g_cos, x, t + 0.1 * x, tol=1e-14)
        k += 1
    return x


def in_a_branch(t):
    if t > 0.5:
        x = s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)
    else:
        x = t
    return x * t


def imported_name(t):
    return imported_fixed_point(g_cos, 0.5, t, tol=1e-14) ** 2


def module_alias(t):
    return sad.fixed_point(g_cos, 0.5, t, tol=1e-14) ** 2


def local_alias(t):
    fp = s2sad.fixed_point
    return fp(g_cos, 0.5, t, tol=1e-14) ** 2


COMPOSED = [same_g_twice, chained, through_helper, in_a_for_loop, in_a_while_loop,
            in_a_branch, imported_name, module_alias, local_alias]


@pytest.mark.parametrize("f", COMPOSED, ids=lambda f: f.__name__)
def test_composed_programs_reverse_and_forward(f):
    n = f.__code__.co_argcount
    args = [0.7, 0.9][:n]
    for k in range(n):
        want = fd_grad(f, args, k)
        close(s2sad.grad(f, wrt=k)(*args), want)
        tangent = [0.0] * n
        tangent[k] = 1.0
        close(s2sad.jvp(f, wrt=k)(*args, 1.0)[1], want)


def test_loop_with_a_run_time_count():
    close(s2sad.grad(accumulated_in_loop)(0.7, 3),
          fd(lambda t: accumulated_in_loop(t, 3), 0.7))


LOOP_TOTAL = TOTAL_RANGE = 4


def checkpointed(t):
    x = 0.3
    for i in range(LOOP_TOTAL):
        x = s2sad.fixed_point(g_cos, 0.5, t + 0.1 * x, tol=1e-14) + 0.01 * i
    return x


def test_solves_in_a_checkpointed_loop():
    close(s2sad.grad(checkpointed, checkpoint=2)(0.7), fd(checkpointed, 0.7))


# -- 7. nested implicit solves: g itself solves ------------------------------------------

def inner(y, x, t):
    return 0.5 * np.cos(y + x * t)


def outer(x, t):
    y = s2sad.fixed_point(inner, 0.0, x, t, tol=1e-15)
    return 0.5 * np.sin(x + y) + t


def nested_solves(t):
    return s2sad.fixed_point(outer, 0.0, t, tol=1e-14)


def test_a_fixed_point_whose_map_solves_a_fixed_point():
    close(s2sad.grad(nested_solves)(0.7), fd(nested_solves, 0.7))
    close(s2sad.jvp(nested_solves)(0.7, 1.0)[1], fd(nested_solves, 0.7))


# -- 8. lambdas and nested defs ---------------------------------------------------------

def lambda_closes_over_a_local(W, b):
    W2 = W * 0.5
    z = s2sad.fixed_point(lambda z: np.tanh(W2 @ z + b), np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def lambda_shadows_an_outer_name(W, b):
    z = b * 2
    z = s2sad.fixed_point(lambda z: np.tanh(W @ z + b), z, tol=1e-14)
    return np.sum(z ** 2)


def lambda_with_its_own_parameter(W, b):
    z = s2sad.fixed_point(lambda z, c: np.tanh(W @ z + c), np.zeros(3), b, tol=1e-14)
    return np.sum(z ** 2)


def lambda_bound_then_value_assigned(W, b):
    step = lambda z: np.tanh(W @ z + c)  # noqa: E731 (c is read when step runs)
    c = b * 3
    z = s2sad.fixed_point(step, np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def nested_def(W, b):
    def step(z):
        return np.tanh(W @ z + b)
    z = s2sad.fixed_point(step, np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def nested_def_with_locals(W, b):
    def step(z):
        u = W @ z
        v = u + b
        return np.tanh(v)
    z = s2sad.fixed_point(step, np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def lambda_in_a_loop(W, b):
    total = 0.0
    for k in range(2):
        s = 0.5 + 0.25 * k
        z = s2sad.fixed_point(lambda z: np.tanh(s * W @ z + b), np.zeros(3), tol=1e-14)
        total = total + np.sum(z ** 2)
    return total


def lambda_root(a):
    return s2sad.root(lambda x: x ** 3 + a * x - 1.0, 1.0, tol=1e-14) * a


LAMBDAS = [lambda_closes_over_a_local, lambda_shadows_an_outer_name,
           lambda_with_its_own_parameter, lambda_bound_then_value_assigned, nested_def,
           nested_def_with_locals, lambda_in_a_loop]


@pytest.mark.parametrize("f", LAMBDAS, ids=lambda f: f.__name__)
def test_lambdas_and_nested_defs(f):
    gW, gb = s2sad.grad(f, wrt=(0, 1))(W3, B3)
    close(gW, fd_grad(f, [W3, B3], 0))
    close(gb, fd_grad(f, [W3, B3], 1))
    v = np.array([1.0, -0.5, 0.25])
    close(s2sad.jvp(f, wrt=1)(W3, B3, v)[1], np.sum(fd_grad(f, [W3, B3], 1) * v))


def test_lambda_root():
    close(s2sad.grad(lambda_root)(2.0), fd(lambda_root, 2.0))


# -- 9. roots --------------------------------------------------------------------------

def root_scalar(a):
    return s2sad.root(cubic, 1.0, a, tol=1e-14)


def root_int_start(a):
    return s2sad.root(cubic, 1, a, tol=1e-14) * 2


def root_0d_start(a):
    return s2sad.root(cubic, np.array(1.0), a, tol=1e-14) * 2


@pytest.mark.parametrize("f", [root_scalar, root_int_start, root_0d_start])
def test_scalar_root(f):
    a = 2.0
    x = root_scalar(a)
    want = fd(f, a)
    close(want, (2 if f is not root_scalar else 1) * -x / (3 * x ** 2 + a), 1e-8)
    close(s2sad.grad(f)(a), want)
    close(s2sad.jvp(f)(a, 1.0)[1], want)


def root_system(p):
    x = s2sad.root(circle_line, np.array([1.0, 1.0]), p, tol=1e-14)
    return 2 * x[0] + x[1] ** 3


def test_two_by_two_newton_system():
    p = np.array([2.0, 0.5])
    close(s2sad.grad(root_system)(p), fd_grad(root_system, [p]))
    v = np.array([1.0, 0.3])
    close(s2sad.jvp(root_system)(p, v)[1], fd_grad(root_system, [p]) @ v)


def solution_of_system(p):
    return s2sad.root(circle_line, np.array([1.0, 1.0]), p, tol=1e-14)


def test_root_jacobian_is_the_implicit_function_theorem():
    p = np.array([2.0, 0.5])
    x = solution_of_system(p)
    Jx = np.array([[2 * x[0], 2 * x[1]], [1.0, -p[1]]])
    Jp = np.array([[-1.0, 0.0], [0.0, -x[1]]])
    want = -np.linalg.solve(Jx, Jp)
    for mode in ("forward", "reverse"):
        close(s2sad.jacobian(solution_of_system, mode=mode)(p), want, 1e-9)


def matrix_sqrt_loss(A):
    X = s2sad.root(matrix_square, 1.5 * np.eye(2), A, tol=1e-14)
    return np.sum(X * np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_two_dimensional_root():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    close(s2sad.grad(matrix_sqrt_loss)(A), fd_grad(matrix_sqrt_loss, [A]))
    close(s2sad.jvp(matrix_sqrt_loss)(A, np.ones((2, 2)))[1],
          np.sum(fd_grad(matrix_sqrt_loss, [A])))


def brent(F, x0, a):
    return scipy.optimize.brentq(lambda x: F(x, a), 0.0, 2.0, xtol=1e-15)


def fsolve(F, x0, p):
    return scipy.optimize.fsolve(lambda x: F(x, p), x0, xtol=1e-14)


def root_by_brent(a):
    return s2sad.root(cubic, 1.0, a, solver=brent) * a


def root_by_fsolve(p):
    x = s2sad.root(circle_line, np.array([1.0, 1.0]), p, solver=fsolve)
    return 2 * x[0] + x[1] ** 3


def test_root_with_scipy_solvers():
    close(s2sad.grad(root_by_brent)(2.0), fd(root_by_brent, 2.0))
    p = np.array([2.0, 0.5])
    close(s2sad.grad(root_by_fsolve)(p), fd_grad(root_by_fsolve, [p]))


def root_float32(a):
    return np.sum(s2sad.root(cubic, np.ones(2, dtype=np.float32), a))


def test_root_float32():
    a = np.array([2.0, 3.0], dtype=np.float32)
    got = s2sad.grad(root_float32)(a)
    assert got.dtype == np.float32
    x = np.array([root_scalar(2.0), root_scalar(3.0)])
    np.testing.assert_allclose(got, -x / (3 * x ** 2 + a.astype(float)), rtol=1e-4)


# implied volatility (Black-Scholes call, math.erf), its sensitivity is 1/vega

def normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def call_price(sigma, S, K, T, r):
    d1 = (math.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    return S * normal_cdf(d1) - K * math.exp(-r * T) * normal_cdf(d2)


def price_gap(sigma, price, S, K, T, r):
    return call_price(sigma, S, K, T, r) - price


def implied_vol(price, S):
    return s2sad.root(price_gap, 0.3, price, S, 100.0, 1.0, 0.01, tol=1e-14)


def test_implied_volatility_is_one_over_vega():
    price, S = 10.0, 100.0
    sigma = implied_vol(price, S)
    d1 = (math.log(S / 100.0) + (0.01 + 0.5 * sigma ** 2)) / sigma
    vega = S * math.exp(-d1 ** 2 / 2) / math.sqrt(2 * math.pi)
    close(s2sad.grad(implied_vol)(price, S), 1 / vega, 1e-9)
    close(s2sad.jvp(implied_vol)(price, S, 1.0)[1], 1 / vega, 1e-9)
    close(s2sad.grad(implied_vol, wrt=1)(price, S), fd_grad(implied_vol, [price, S], 1))


# ridge regression: w* = argmin |X w - y|^2 + lam |w|^2 as a root and as a fixed point

X_RIDGE = RNG.standard_normal((12, 4))
Y_RIDGE = RNG.standard_normal(12)


def ridge_gradient(w, lam, X, y):
    return X.T @ (X @ w - y) + lam * w


def ridge_step(w, lam, X, y):
    return w - 0.02 * (X.T @ (X @ w - y) + lam * w)


def ridge_root(lam):
    w = s2sad.root(ridge_gradient, np.zeros(4), lam, X_RIDGE, Y_RIDGE, tol=1e-14)
    return np.sum(w * np.arange(1.0, 5.0))


def ridge_fixed_point(lam):
    w = s2sad.fixed_point(ridge_step, np.zeros(4), lam, X_RIDGE, Y_RIDGE, tol=1e-15,
                          max_iter=100000)
    return np.sum(w * np.arange(1.0, 5.0))


def test_ridge_hypergradient_closed_form():
    lam = 0.7
    K = X_RIDGE.T @ X_RIDGE + lam * np.eye(4)
    w = np.linalg.solve(K, X_RIDGE.T @ Y_RIDGE)
    want = np.arange(1.0, 5.0) @ -np.linalg.solve(K, w)
    close(s2sad.grad(ridge_root)(lam), want, 1e-9)
    close(s2sad.grad(ridge_fixed_point)(lam), want, 1e-8)
    close(s2sad.jvp(ridge_root)(lam, 1.0)[1], want, 1e-9)
    lams = np.full(4, 0.7)  # one lam per feature: a vector hyper-parameter
    close(s2sad.grad(lambda l: ridge_root(l))(lams),
          fd_grad(ridge_root, [lams]))


# -- 10. marked hand-written solvers -----------------------------------------------------

@s2sad.fixed_point_of(g_cos)
def iterate_cos(x0, t):
    x = x0
    while True:
        x_new = np.cos(t * x)
        if abs(x_new - x) < 1e-15:
            return x_new
        x = x_new


@s2sad.fixed_point_of(g_cos)
def iterate_cos_loosely(x0, t):
    x = x0
    while True:
        x_new = np.cos(t * x)
        if abs(x_new - x) < 1e-2:
            return x_new
        x = x_new


@s2sad.root_of(cubic)
def bisect_cubic(x0, a):
    lo, hi = 0.0, 2.0
    while hi - lo > 1e-15:
        mid = 0.5 * (lo + hi)
        if cubic(mid, a) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@s2sad.fixed_point_of(deq)
def iterate_deq(z0, W, b):
    z = z0
    for _ in range(10000):
        z_new = np.tanh(W @ z + b)
        if np.max(np.abs(z_new - z)) < 1e-15:
            return z_new
        z = z_new
    return z


def marked_scalar(t):
    return iterate_cos(0.5, t) ** 2


def marked_root(a):
    return bisect_cubic(1.0, a) * a


def marked_vector(W, b):
    return np.sum(iterate_deq(np.zeros(3), W, b) ** 2)


def test_marked_solvers():
    close(s2sad.grad(marked_scalar)(0.7), fd(marked_scalar, 0.7))
    close(s2sad.jvp(marked_scalar)(0.7, 1.0)[1], fd(marked_scalar, 0.7))
    close(s2sad.grad(marked_root)(2.0), fd(marked_root, 2.0), 1e-6)
    close(s2sad.grad(marked_vector, wrt=1)(W3, B3), fd_grad(marked_vector, [W3, B3], 1))
    close(s2sad.grad(marked_vector, wrt=0)(W3, B3), fd_grad(marked_vector, [W3, B3], 0))


def marked_loose(t):
    return iterate_cos_loosely(0.5, t)


def test_marked_solver_stopping_early_raises_convergence_error():
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(marked_loose)(0.7)
    assert info.value.residual > 1e-5
    assert "iterate_cos_loosely" in str(info.value)
    with pytest.raises(s2sad.ConvergenceError):
        marked_loose(0.7)


def test_marked_solver_is_still_a_plain_function():
    assert iterate_cos(0.5, 0.7) == pytest.approx(sol_cos(0.7), abs=1e-12)
    assert "iterate_cos" in repr(iterate_cos)


# -- 11. convergence failures, singular equations ----------------------------------------

def g_expanding(x, a):
    return a * x + 1.0


def diverges(a):
    return s2sad.fixed_point(g_expanding, 0.0, a, max_iter=50)


def test_non_converging_map_raises_with_residual_and_iterations():
    for call in (lambda: diverges(1.5), lambda: s2sad.grad(diverges)(1.5),
                 lambda: s2sad.jvp(diverges)(1.5, 1.0)):
        with pytest.raises(s2sad.ConvergenceError) as info:
            call()
        assert info.value.iterations == 50
        assert info.value.residual > 1.0
        assert "did not converge" in str(info.value) and "max_iter" in str(info.value)
        assert isinstance(info.value, s2sad.S2SADError)


def g_unstable(x, a):
    return 2.0 * x - a + 0.1 * np.sin(x)


def newton_for_fixed_point(g, x0, a):
    return scipy.optimize.fsolve(lambda x: g(x, a) - x, x0, xtol=1e-14)


def unstable_dense(a):
    x = s2sad.fixed_point(g_unstable, np.zeros(3), a, solver=newton_for_fixed_point)
    return np.sum(x ** 2)


def unstable_iterate(a):
    x = s2sad.fixed_point(g_unstable, np.zeros(3), a, solver=newton_for_fixed_point,
                          solve="iterate")
    return np.sum(x ** 2)


def test_repelling_fixed_point_found_by_a_solver():
    """The dense multiplier solve does not need a contraction; iterating it does."""
    close(s2sad.grad(unstable_dense)(0.5), fd(unstable_dense, 0.5))
    close(s2sad.jvp(unstable_dense)(0.5, 1.0)[1], fd(unstable_dense, 0.5))
    with np.errstate(all="ignore"), pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(unstable_iterate)(0.5)
    assert "multiplier" in str(info.value)


def singular_system(x, a):
    return np.array([x[0] - a, x[0] - a])


def singular_root(a):
    return np.sum(s2sad.root(singular_system, np.zeros(2), a))


def test_singular_equation_is_refused_not_answered():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(singular_root)(1.0)
    assert "singular" in str(info.value)
    with pytest.raises(s2sad.S2SADError):
        s2sad.jvp(singular_root)(1.0, 1.0)


# -- 12. large solutions: iterated multipliers ------------------------------------------

N_BIG = 150
_Q, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((N_BIG, N_BIG)))
M_SLOW = _Q @ np.diag(np.linspace(0.0, 0.99, N_BIG)) @ _Q.T  # contraction rate 0.99
C_BIG = np.random.default_rng(8).standard_normal(N_BIG)


def big_auto(c):
    x = s2sad.fixed_point(linear, np.zeros(N_BIG), M_SLOW, c, tol=1e-13, max_iter=100000)
    return np.sum(x ** 2)


def big_iterate(c):
    x = s2sad.fixed_point(linear, np.zeros(N_BIG), M_SLOW, c, tol=1e-13, max_iter=100000,
                          solve="iterate")
    return np.sum(x ** 2)


def big_dense(c):
    x = s2sad.fixed_point(linear, np.zeros(N_BIG), M_SLOW, c, tol=1e-13, max_iter=100000,
                          solve="dense")
    return np.sum(x ** 2)


@pytest.mark.parametrize("f", [big_auto, big_iterate, big_dense])
def test_slowly_contracting_large_linear_fixed_point(f):
    inverse = np.linalg.inv(np.eye(N_BIG) - M_SLOW)
    want = 2 * inverse.T @ (inverse @ C_BIG)
    close(s2sad.grad(f)(C_BIG), want, 1e-7)
    v = np.linspace(-1, 1, N_BIG)
    close(s2sad.jvp(f)(C_BIG, v)[1], want @ v, 1e-7)


# -- 13. the API's other entry points ---------------------------------------------------

def deq_solution(W, b):
    return s2sad.fixed_point(deq, np.zeros(3), W, b, tol=1e-14)


def test_vjp_jacobian_value_and_grad_check_grad():
    value, pullback = s2sad.vjp(deq_solution, wrt=(0, 1))(W3, B3)
    close(value, deq_solution(W3, B3), 0)
    ct = np.array([1.0, -2.0, 0.5])
    gW, gb = pullback(ct)
    J = fd_jac(lambda b: deq_solution(W3, b), B3)
    close(gb, ct @ J)
    gW2, gb2 = pullback(ct)  # a pullback called twice gives the same
    np.testing.assert_array_equal(gb, gb2)
    for mode in ("forward", "reverse"):
        close(s2sad.jacobian(deq_solution, wrt=1, mode=mode)(W3, B3), J)
    value, grad = s2sad.value_and_grad(deq_loss, wrt=1)(W3, B3)
    close(value, deq_loss(W3, B3), 0)
    close(grad, fd_grad(deq_loss, [W3, B3], 1))
    assert s2sad.check_grad(deq_loss, W3, B3, wrt=(0, 1))


def with_aux(b):
    z = s2sad.fixed_point(deq, np.zeros(3), W3, b, tol=1e-14)
    return np.sum(z ** 2), z


def test_has_aux():
    (value, z), g = s2sad.value_and_grad(with_aux, has_aux=True)(B3)
    close(z, deq_solution(W3, B3), 0)
    close(g, fd_grad(lambda b: with_aux(b)[0], [B3]))


def elementwise_solution(t):
    return s2sad.fixed_point(g_cos, np.full(np.shape(t), 0.5), t, tol=1e-14)


def test_elementwise_grad_of_a_vector_of_scalar_equations():
    t = np.array([0.3, 0.7, 1.1])
    want = [cos_fixed_point_slope(v, sol_cos(v)) for v in t]
    close(s2sad.elementwise_grad(elementwise_solution)(t), want, 1e-9)


@s2sad.grad
def decorated(t):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14) ** 2


def test_decorator_form():
    close(decorated(0.7), fd(lambda t: sol_cos(t) ** 2, 0.7))


# -- 14. generated source ---------------------------------------------------------------

def squared_solution(t):
    x = s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)
    return x * x


def test_source_before_and_after_a_call():
    for f, wrt in ((squared_solution, 0), (deq_loss, (0, 1)), (nested_def, 0),
                   (ridge_root, 0)):
        gradient = s2sad.grad(f, wrt=wrt)
        before = gradient.source
        for text in (before,):
            assert "Seed 002" in text and "lam" in text
            assert "_multiplier(" in text and "implicit:" in text
        gradient(*{squared_solution: [0.7], deq_loss: [W3, B3], nested_def: [W3, B3],
                   ridge_root: [0.7]}[f])
        after = gradient.source
        assert "Seed 002" in after and "lam = " in after and "_multiplier(" in after
    forward = s2sad.source(squared_solution, wrt=0, mode="forward")
    assert "tangent" in forward and "Seed 002" in forward


def test_generated_source_runs_as_printed():
    """What .source prints is what runs: exec it and compare."""
    gradient = s2sad.grad(deq_loss, wrt=1)
    want = gradient(W3, B3)
    text = gradient.source
    namespace = {"deq": deq}
    exec(compile(text, "<printed>", "exec"), namespace)
    close(namespace["grad_deq_loss"](W3, B3), want, 1e-12)


# -- 15. refusals (either works or refuses with a location) ------------------------------

def dict_parameter(W, b):
    p = {"W": W, "b": b}
    z = s2sad.fixed_point(g_dict, np.zeros(3), p, tol=1e-14)
    return np.sum(z)


def g_dict(x, p):
    return np.tanh(p["W"] @ x + p["b"])


def tuple_parameter(b):
    z = s2sad.fixed_point(g_tuple, np.zeros(3), (W3, b), tol=1e-14)
    return np.sum(z)


def g_tuple(x, p):
    W, b = p
    return np.tanh(W @ x + b)


def test_structures_as_parameters_work_or_are_refused():
    refused_or_right(lambda: s2sad.grad(dict_parameter, wrt=1)(W3, B3),
                     fd_grad(dict_parameter, [W3, B3], 1))
    refused_or_right(lambda: s2sad.grad(tuple_parameter)(B3), fd_grad(tuple_parameter, [B3]))


g_partial = functools.partial(g_two, c=0.9)


def partial_map(a):
    return s2sad.fixed_point(g_partial, 0.5, a, tol=1e-14)


def g_star(x, *args):
    return np.cos(args[0] * x) * args[1]


def star_map(a):
    return s2sad.fixed_point(g_star, 0.5, a, 0.9, tol=1e-14)


def lambda_with_default(a):
    return s2sad.fixed_point(lambda x, c=0.9: np.cos(a * x) * c, 0.5, tol=1e-14)


def test_other_callables_work_or_are_refused():
    for f in (partial_map, star_map, lambda_with_default):
        refused_or_right(lambda: s2sad.grad(f)(0.7), fd(f, 0.7))


def tol_from_an_argument(t, tol=1e-14):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=tol)


TOL = 1e-14


def tol_from_a_global(t):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=TOL, max_iter=500, solve="dense")


def test_options_from_a_global_constant():
    close(s2sad.grad(tol_from_a_global)(0.7), fd(tol_from_a_global, 0.7))


def bad_max_iter(t):
    return s2sad.fixed_point(g_cos, 0.5, t, max_iter=100.0)


def bad_method(t):
    return s2sad.fixed_point(g_cos, 0.5, t, solve="newton")


def root_iterate(a):
    return s2sad.root(cubic, 1.0, a, solve="iterate")


def test_bad_options_are_refused_at_the_call():
    for f, word in ((bad_max_iter, "max_iter"), (bad_method, "'newton'"),
                    (root_iterate, "dense")):
        with pytest.raises(s2sad.S2SADError) as info:
            s2sad.grad(f)(0.7)
        assert word in str(info.value)
        if f is not root_iterate:
            assert "test_adversary_issue21.py:" in str(info.value)


def nested_def_calls_a_local_function(W, b):
    def act(u):
        return np.tanh(u)

    def step(z):
        return act(W @ z + b)
    z = s2sad.fixed_point(step, np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def test_nested_def_reading_a_local_function_is_refused_at_the_call():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(nested_def_calls_a_local_function)(W3, B3)
    text = str(info.value)
    assert "act" in text and "test_adversary_issue21.py:" in text


def g_shrinks(x, a):
    return np.sum(x) * a


def test_solvers_refuse_bad_arguments_when_called_plainly():
    with pytest.raises(s2sad.S2SADError):
        s2sad.fixed_point(3.0, 0.5, 0.7)
    with pytest.raises(s2sad.S2SADError):
        s2sad.fixed_point(g_cos, 0.5, 0.7, tol=-1.0)
    with pytest.raises(s2sad.S2SADError):
        s2sad.fixed_point(g_shrinks, np.zeros(2), 0.5)  # g's shape is not x's


# -- 16. the command line ------------------------------------------------------------------

CLI_PROGRAM = '''
import numpy as np
import s2sad


def step(z, W, b):
    return np.tanh(W @ z + b)


def loss(W, b):
    z = s2sad.fixed_point(step, np.zeros(3), W, b, tol=1e-13)
    return np.sum(z ** 2)


def loss_lambda(W, b):
    z = s2sad.fixed_point(lambda z: np.tanh(W @ z + b), np.zeros(3), tol=1e-13)
    return np.sum(z ** 2)


def loss_nested(W, b):
    def step_here(z):
        return np.tanh(W @ z + b)
    z = s2sad.fixed_point(step_here, np.zeros(3), tol=1e-13)
    return np.sum(z ** 2)
'''


def _cli(tmp_path, *args):
    path = tmp_path / "implicit_prog.py"
    path.write_text(CLI_PROGRAM)
    return subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{path}:{args[0]}",
                           *args[1:]], capture_output=True, text=True, timeout=120,
                          cwd=str(tmp_path))


def test_cli_prints_the_multiplier_solve(tmp_path):
    done = _cli(tmp_path, "loss", "--wrt", "b")
    assert done.returncode == 0, done.stderr
    assert "Seed 002" in done.stdout and "lam = step_multiplier(" in done.stdout
    done = _cli(tmp_path, "loss", "--wrt", "b", "--mode", "forward")
    assert done.returncode == 0, done.stderr
    assert "step_tangent" in done.stdout


def test_cli_output_file_runs(tmp_path):
    out = tmp_path / "grad_out.py"
    done = _cli(tmp_path, "loss", "--wrt", "b", "-o", str(out))
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import numpy as np, grad_out, implicit_prog, s2sad
            W = 0.2 * np.ones((3, 3)); b = np.array([0.1, -0.2, 0.3])
            got = grad_out.grad_loss(W, b)
            want = s2sad.grad(implicit_prog.loss, wrt=1)(W, b)
            assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (got, want)
            print("ok")
        """)], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert check.stdout.strip() == "ok", check.stderr


# -- 16b. more maps: helpers, branches, loops, shapes; structures read by lambdas ------------

def act(u):
    return 0.5 * np.tanh(u) + 0.1


def g_calls_a_helper(x, a):
    return act(a * x)


def g_where(x, a):
    return np.where(x > 0, 0.5 * np.cos(a * x), 0.3 * x + a)


def g_loop(x, a):
    y = x
    for i in range(3):
        y = 0.5 * np.sin(y + a)
    return y


def g_shape(x, a):
    n = x.shape[0]
    return np.cos(a * x) / n + np.sum(x) / (2 * n * n)


def g_scalar_of_vector(x, v):
    return 0.5 * np.cos(x * np.sum(v))


def map_calls_a_helper(a):
    return np.sum(s2sad.fixed_point(g_calls_a_helper, np.zeros(3), a, tol=1e-14))


def map_with_where(a):
    x = s2sad.fixed_point(g_where, np.zeros(3), a, tol=1e-14)
    return np.max(x) + np.sum(np.sort(x) * np.arange(3.0))


def map_with_a_loop(a):
    return np.sum(s2sad.fixed_point(g_loop, np.zeros(3), a, tol=1e-14) ** 2)


def map_reads_shape(a):
    return np.sum(s2sad.fixed_point(g_shape, np.zeros(3), a, tol=1e-14))


def scalar_solution_vector_parameter(v):
    x = s2sad.fixed_point(g_scalar_of_vector, 0.0, v, tol=1e-14)
    return np.sum(x * v)


def dict_read_in_lambda(params):
    z = s2sad.fixed_point(lambda z: np.tanh(params["W"] @ z + params["b"]), np.zeros(3),
                          tol=1e-14)
    return np.sum(z ** 2)


def dict_items_as_parameters(params):
    z = s2sad.fixed_point(deq, np.zeros(3), params["W"], params["b"], tol=1e-14)
    return np.sum(z ** 2)


@pytest.mark.parametrize("f", [map_calls_a_helper, map_with_where, map_with_a_loop,
                               map_reads_shape, scalar_solution_vector_parameter],
                         ids=lambda f: f.__name__)
def test_maps_of_every_shape(f):
    b = np.array([0.35, -0.45, 0.75])
    want = fd_grad(f, [b])
    close(s2sad.grad(f)(b), want)
    close(s2sad.jvp(f)(b, np.ones(3))[1], want @ np.ones(3))


@pytest.mark.parametrize("f", [dict_read_in_lambda, dict_items_as_parameters],
                         ids=lambda f: f.__name__)
def test_dict_of_parameters(f):
    params = {"W": W3, "b": B3}
    got = s2sad.grad(f)(params)
    assert isinstance(got, dict) and set(got) == {"W", "b"}
    for key in params:
        close(got[key], fd_jac(lambda v: f({**params, key: v}), params[key]))


class Equilibrium:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def loss_local_copy(self, x):
        W = self.W
        z = s2sad.fixed_point(lambda z: np.tanh(W @ z + x), np.zeros(3), tol=1e-14)
        return np.sum(z ** 2)

    def loss_attributes_as_parameters(self, x):
        z = s2sad.fixed_point(deq, np.zeros(3), self.W, x, tol=1e-14)
        return np.sum(z ** 2)

    def loss_lambda_reads_self(self, x):
        z = s2sad.fixed_point(lambda z: np.tanh(self.W @ z + self.b + x), np.zeros(3),
                              tol=1e-14)
        return np.sum(z ** 2)


MODEL = Equilibrium(W3, B3)


@pytest.mark.parametrize("name", ["loss_local_copy", "loss_attributes_as_parameters"])
def test_methods_of_a_model(name):
    f = getattr(MODEL, name)
    close(s2sad.grad(f)(B3), fd_jac(f, B3))


# -- 16c. second order ------------------------------------------------------------------

def hessian_scalar(t):
    return s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14) ** 2


def hessian_deq(b):
    z = s2sad.fixed_point(deq, np.zeros(3), W3, b, tol=1e-14)
    return np.sum(z ** 2)


def hessian_deq_W(W):
    z = s2sad.fixed_point(deq, np.zeros(3), W, B3, tol=1e-14)
    return np.sum(z ** 2)


def hessian_parameter_twice(a):
    return s2sad.fixed_point(g_two, 0.5, a, a, tol=1e-14) ** 2


def hessian_root(a):
    return s2sad.root(cubic, 1.0, a, tol=1e-14) ** 2


def hessian_root_system(p):
    x = s2sad.root(circle_line, np.array([1.0, 1.0]), p, tol=1e-14)
    return 2 * x[0] + x[1] ** 3


def hessian_lambda(b):
    z = s2sad.fixed_point(lambda z: np.tanh(W3 @ z + b), np.zeros(3), tol=1e-14)
    return np.sum(z ** 2)


def hessian_marked(t):
    return iterate_cos(0.5, t) ** 2


def hessian_chained(t):
    x = s2sad.fixed_point(g_cos, 0.5, t, tol=1e-14)
    y = s2sad.fixed_point(g_cos, 0.5, x + 0.3, tol=1e-14)
    return y * np.exp(x)


def hessian_in_loop(t):
    x = 0.5
    for i in range(3):
        x = s2sad.fixed_point(g_cos, x, t * (0.5 + 0.1 * x), tol=1e-14)
    return x


SECOND_ORDER = [(hessian_scalar, 0.7), (hessian_deq, B3), (hessian_deq_W, W3),
                (hessian_parameter_twice, 0.7), (hessian_root, 2.0),
                (hessian_root_system, np.array([2.0, 0.5])), (hessian_lambda, B3),
                (hessian_marked, 0.7), (hessian_chained, 0.7), (hessian_in_loop, 0.7)]


@pytest.mark.parametrize("f,x", SECOND_ORDER, ids=[f.__name__ for f, _ in SECOND_ORDER])
def test_hessian_against_differences_of_the_gradient(f, x):
    gradient = s2sad.grad(f)
    want = fd_jac(gradient, x) if isinstance(x, np.ndarray) else fd(gradient, x)
    close(s2sad.hessian(f)(x), want, 1e-6)


def ridge_validation(lam):
    w = s2sad.root(ridge_gradient, np.zeros(4), lam, X_RIDGE, Y_RIDGE, tol=1e-14)
    return np.sum((X_RIDGE @ w - Y_RIDGE) ** 2)


def ridge_validation_fixed_point(lam):
    w = s2sad.fixed_point(ridge_step, np.zeros(4), lam, X_RIDGE, Y_RIDGE, tol=1e-15,
                          max_iter=100000)
    return np.sum((X_RIDGE @ w - Y_RIDGE) ** 2)


def ridge_validation_closed(lam):
    w = np.linalg.solve(X_RIDGE.T @ X_RIDGE + np.diag(lam * np.ones(4)), X_RIDGE.T @ Y_RIDGE)
    return np.sum((X_RIDGE @ w - Y_RIDGE) ** 2)


def test_ridge_hessian_and_hvp_equal_the_closed_form():
    """g's parameter is named lam, as the multiplier is."""
    lams = np.array([0.5, 0.7, 0.9, 1.1])
    want = s2sad.hessian(ridge_validation_closed)(lams)
    got = s2sad.hessian(ridge_validation)(lams)
    close(got, want, 1e-9)
    np.testing.assert_allclose(got, got.T, atol=1e-14)
    close(s2sad.jvp(s2sad.grad(ridge_validation))(lams, np.ones(4))[1], want @ np.ones(4),
          1e-9)
    close(s2sad.hessian(ridge_validation_fixed_point)(0.7),
          s2sad.hessian(ridge_validation_closed)(0.7), 1e-8)
    close(s2sad.grad(s2sad.grad(ridge_validation))(0.7),
          s2sad.hessian(ridge_validation_closed)(0.7), 1e-9)


def test_hessian_float32():
    t = np.array([0.5, 0.7, 0.9], dtype=np.float32)

    def loss(c):
        return np.sum(s2sad.fixed_point(g_cos, np.zeros(3), c, tol=1e-14) ** 2)
    got = s2sad.hessian(sol32_squared)(t)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, s2sad.hessian(loss)(t.astype(np.float64)), rtol=1e-4,
                               atol=1e-6)


def sol32_squared(t):
    x = s2sad.fixed_point(g_cos, np.zeros(3, dtype=np.float32), t, tol=1e-6)
    return np.sum(x ** 2)


# -- 16d. several differentiated parameters, some constants between them ----------------

def g_gap(x, W, n, s, b):
    return np.tanh(s * (W @ x) / n + b)


def gapped(W, s, b):
    z = s2sad.fixed_point(g_gap, np.zeros(3), W, 2, s, b, tol=1e-14)
    return np.sum(z ** 2) + z[1]


def gapped_solution(W, b):
    return s2sad.fixed_point(g_gap, np.zeros(3), W, 2, 0.8, b, tol=1e-14)


def test_several_active_parameters_around_a_constant():
    args = [W3, 0.8, B3]
    want = [fd_grad(gapped, args, k) for k in range(3)]
    got = s2sad.grad(gapped, wrt=(0, 1, 2))(*args)
    for g, w in zip(got, want):
        close(g, w)
    got = s2sad.grad(gapped, wrt=(2, 0))(*args)
    close(got[0], want[2])
    close(got[1], want[0])
    tW, ts, tb = 0.3 * np.ones((3, 3)), 0.7, np.array([1.0, -1.0, 0.5])
    close(s2sad.jvp(gapped, wrt=(0, 1, 2))(*args, (tW, ts, tb))[1],
          np.sum(want[0] * tW) + want[1] * ts + want[2] @ tb)
    close(s2sad.jvp(gapped, wrt=(1, 2))(*args, (ts, tb))[1], want[1] * ts + want[2] @ tb)
    J = s2sad.jacobian(gapped_solution, wrt=(0, 1))(W3, B3)
    close(J[0], fd_jac(lambda W: gapped_solution(W, B3), W3))
    close(J[1], fd_jac(lambda b: gapped_solution(W3, b), B3))


def gapped_loss(W, s, b):
    z = s2sad.fixed_point(g_gap, np.zeros(3), W, 2, s, b, tol=1e-14)
    return np.sum(z ** 2)


def test_hessian_blocks_for_two_parameters():
    (Hss, Hsb), (Hbs, Hbb) = s2sad.hessian(gapped_loss, wrt=(1, 2))(W3, 0.8, B3)

    def gradient(s, b):
        return s2sad.grad(gapped_loss, wrt=(1, 2))(W3, s, b)
    close(Hss, fd(lambda s: gradient(s, B3)[0], 0.8))
    close(Hsb, fd_jac(lambda b: gradient(0.8, b)[0], B3))
    close(Hbs, fd(lambda s: gradient(s, B3)[1], 0.8))
    close(Hbb, fd_jac(lambda b: gradient(0.8, b)[1], B3))


# -- 16e. other entry points and parameter kinds -----------------------------------------

def test_grad_source_with_a_module_level_map():
    text = "def f(t):\n    x = fixed_point(g, 0.5, t, tol=1e-14)\n    return x * x\n"
    env = {"np": np, "fixed_point": s2sad.fixed_point, "g": g_cos}
    close(s2sad.grad_source(text, "f", env=env)(0.7), fd(lambda t: sol_cos(t) ** 2, 0.7))


def deq_loss_b_first(b, W):
    return deq_loss(W, b)


def test_hvp_hessp_and_scipy_trust_ncg():
    v = np.array([1.0, 0.5, -1.0])
    want = fd_jac(lambda b: s2sad.grad(deq_loss, wrt=1)(W3, b), B3) @ v
    close(s2sad.hvp(deq_loss, wrt=1)(W3, B3, v), want)
    close(s2sad.hessp(deq_loss_b_first)(B3, v, W3), want)
    result = scipy.optimize.minimize(deq_loss_b_first, B3, args=(W3,),
                                     jac=s2sad.grad(deq_loss_b_first),
                                     hessp=s2sad.hessp(deq_loss_b_first), method="trust-ncg")
    assert result.success


def test_jit_falls_back_with_the_same_gradient():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(s2sad.grad(deq_loss, wrt=1, jit=True)(W3, B3), fd_grad(deq_loss, [W3, B3], 1))


def g_kind(x, W, b, kind):
    if kind == "tanh":
        return np.tanh(W @ x + b)
    return np.sin(W @ x + b)


def g_index(x, v, idx):
    return 0.5 * np.cos(v[idx] * x)


def g_flag(x, a, flip):
    return -0.5 * np.cos(a * x) if flip else 0.5 * np.cos(a * x)


def string_parameter(b):
    return np.sum(s2sad.fixed_point(g_kind, np.zeros(3), W3, b, "tanh", tol=1e-14) ** 2)


def index_parameter(v):
    return np.sum(s2sad.fixed_point(g_index, np.zeros(3), v, np.array([2, 0, 1]), tol=1e-14))


def bool_parameter(v):
    return np.sum(s2sad.fixed_point(g_flag, np.zeros(3), v, True, tol=1e-14))


def g_state(s, a):
    u, v = s[:2], s[2:]
    return np.concatenate([0.5 * np.tanh(v + a), 0.5 * np.cos(u)])


def stacked_state(a):
    return np.sum(s2sad.fixed_point(g_state, np.zeros(4), a[:2], tol=1e-14) ** 2)


@pytest.mark.parametrize("f", [string_parameter, index_parameter, bool_parameter,
                               stacked_state], ids=lambda f: f.__name__)
def test_non_float_parameters_and_stacked_states(f):
    close(s2sad.grad(f)(B3), fd_grad(f, [B3]))


def unused_solution(a):
    x = s2sad.fixed_point(g_cos, 0.5, a, tol=1e-14)
    return a ** 2


def test_unused_solution():
    assert s2sad.grad(unused_solution)(0.7) == pytest.approx(1.4, abs=1e-15)


def parameters_by_keyword(W, b):
    return np.sum(s2sad.fixed_point(deq, np.zeros(3), W=W, b=b))


def test_parameters_by_keyword_are_refused_at_the_call():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(parameters_by_keyword)(W3, B3)
    assert "test_adversary_issue21.py:" in str(info.value)


def F_as_list(x, p):
    return [x[0] ** 2 + x[1] ** 2 - p[0], x[0] - p[1] * x[1]]


def root_of_list(p):
    x = s2sad.root(F_as_list, np.array([1.0, 1.0]), p, tol=1e-14)
    return 2 * x[0] + x[1] ** 3


def test_function_returning_a_list_works_or_is_refused_at_its_line():
    p = np.array([2.0, 0.5])
    close(root_of_list(p), root_system(p), 1e-12)  # (plainly, a list is fine)
    refused_or_right(lambda: s2sad.grad(root_of_list)(p), fd_grad(root_of_list, [p]))


def solution_written_in_place(b):
    z = s2sad.fixed_point(deq, np.zeros(3), W3, b, tol=1e-14)
    z[0] = 2.0
    return np.sum(z ** 2)


def solution_updated(b):
    z = s2sad.fixed_point(deq, np.zeros(3), W3, b, tol=1e-14)
    z += 1.0
    return np.sum(z ** 2)


def parameter_written_after(b):
    c = b * 1.0
    z = s2sad.fixed_point(deq, np.zeros(3), W3, c, tol=1e-14)
    c[0] = 5.0
    return np.sum(z ** 2) + np.sum(c)


def start_written_after(b):
    z0 = np.zeros(3)
    z = s2sad.fixed_point(deq, z0, W3, b, tol=1e-14)
    z0[0] = 1.0
    return np.sum(z ** 2) + np.sum(z0 * b)


@pytest.mark.parametrize("f", [solution_written_in_place, solution_updated,
                               parameter_written_after, start_written_after],
                         ids=lambda f: f.__name__)
def test_writes_after_the_solve_are_right_or_refused_with_a_copy_hint(f):
    refused_or_right(lambda: s2sad.grad(f)(B3), fd_grad(f, [B3]), mentions=("copy",))


def make_loss(W):
    def loss(b):
        z = s2sad.fixed_point(lambda z: np.tanh(W @ z + b), np.zeros(3), tol=1e-14)
        return np.sum(z ** 2)
    return loss


def make_solution(k):
    def g(x, a):
        return k * np.cos(a * x)

    def f(a):
        return s2sad.fixed_point(g, 0.5, a, tol=1e-14)
    return f


def test_closures_of_factories():
    loss = make_loss(W3)
    close(s2sad.grad(loss)(B3), fd_grad(loss, [B3]))
    for k in (0.8, 0.6):  # (two closures of one code: each its own k)
        f = make_solution(k)
        close(s2sad.grad(f)(0.7), fd(f, 0.7))
        close(s2sad.jvp(f)(0.7, 1.0)[1], fd(f, 0.7))


# -- 16f. nested defs used twice, roots of nested defs, root failures ---------------------

def nested_def_twice_and_called(W, b):
    def step(z):
        return np.tanh(W @ z + b)
    z1 = s2sad.fixed_point(step, np.zeros(3), tol=1e-14)
    r = step(z1) - z1
    z2 = s2sad.fixed_point(step, z1 * 0.5, tol=1e-14)
    return np.sum(z1 * z2) + np.sum(r)


def nested_def_with_a_default(W, b):
    def step(z, W=W):
        return np.tanh(W @ z + b)
    return np.sum(s2sad.fixed_point(step, np.zeros(3), tol=1e-14))


def nested_root(a, c):
    def F(x):
        return x ** 3 + a * x - c
    return s2sad.root(F, 1.0, tol=1e-14) ** 2


def test_nested_defs_twice_called_directly_and_as_roots():
    close(s2sad.grad(nested_def_twice_and_called)(W3, B3),
          fd_grad(nested_def_twice_and_called, [W3, B3], 0))
    args = [2.0, 1.0]
    ga, gc = s2sad.grad(nested_root, wrt=(0, 1))(*args)
    close(ga, fd_grad(nested_root, args, 0))
    close(gc, fd_grad(nested_root, args, 1))
    close(s2sad.jvp(nested_root, wrt=(0, 1))(*args, (1.0, 1.0))[1], ga + gc)
    close(s2sad.hessian(nested_root)(*args), fd(lambda a: s2sad.grad(nested_root)(a, 1.0), 2.0))


def test_nested_def_with_a_default_is_refused_at_the_call():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(nested_def_with_a_default)(W3, B3)
    assert "test_adversary_issue21.py:" in str(info.value) and "plain" in str(info.value)


def F_no_real_root(x, a):
    return x ** 2 + a


def no_root(a):
    return s2sad.root(F_no_real_root, 1.0, a)


def F_exp(x, a):
    return np.exp(x) - a


def too_few_newton_steps(a):
    return s2sad.root(F_exp, 10.0, a, max_iter=3)


def test_root_failures_raise_convergence_errors():
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(no_root)(1.0)
    assert info.value.residual == pytest.approx(1.0)
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(too_few_newton_steps)(1.0)
    assert info.value.iterations == 3 and info.value.residual > 1.0
    assert "max_iter" in str(info.value)


def g_doubling(x, a):
    return 2.0 * x - a


def tangent_by_iteration(a):
    return np.sum(s2sad.fixed_point(g_doubling, np.zeros(3), a, solver=newton_for_fixed_point,
                                    solve="iterate"))


def test_iterated_tangent_that_diverges_raises():
    with np.errstate(all="ignore"), pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.jvp(tangent_by_iteration)(0.5, 1.0)
    assert "tangent" in str(info.value) and info.value.iterations > 0


# -- 16g. shapes and names ------------------------------------------------------------------

def shape_one(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros(1), t, tol=1e-14) ** 2)


def int_array_start(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros(3, dtype=int), t, tol=1e-14) ** 2)


def column_solution(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros((3, 1)), t, tol=1e-14) ** 2)


def three_d_solution(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros((2, 2, 2)), t, tol=1e-14) ** 2)


def matrix_solution_vector_parameter(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros((2, 3)), t, tol=1e-14) * 2)


def root_shape_one(a):
    return np.sum(s2sad.root(cubic, np.ones(1), a, tol=1e-14) ** 2)


@pytest.mark.parametrize("f,x", [
    (shape_one, np.array([0.7])), (int_array_start, np.array([0.3, 0.7, 1.1])),
    (column_solution, np.array([[0.3], [0.7], [1.1]])),
    (three_d_solution, np.linspace(0.2, 1.2, 8).reshape(2, 2, 2)),
    (matrix_solution_vector_parameter, np.array([0.3, 0.7, 1.1])),
    (root_shape_one, np.array([2.0]))], ids=lambda v: getattr(v, "__name__", ""))
def test_solution_shapes(f, x):
    want = fd_grad(f, [x])
    got = s2sad.grad(f)(x)
    assert got.shape == x.shape
    close(got, want)
    close(s2sad.jvp(f)(x, np.ones_like(x))[1], np.sum(want))


def vector_solution_scalar_parameter(t):
    return np.sum(s2sad.fixed_point(g_cos, np.zeros(3), t, tol=1e-14) * np.arange(3.0))


def test_vector_solution_of_a_scalar_parameter():
    f = vector_solution_scalar_parameter
    close(s2sad.grad(f)(0.7), fd(f, 0.7))
    close(s2sad.jvp(f)(0.7, 1.0)[1], fd(f, 0.7))


def g_named_dg(x, dg):
    return np.cos(dg * x)


def g_generated_names(lam, unit, rhs):
    return np.cos(unit * lam) * rhs


def g_helper_names(x, converged, rows):
    return 0.5 * np.cos(converged * x) + rows


def parameter_named_dg(t):
    return s2sad.fixed_point(g_named_dg, np.zeros(2), t, tol=1e-14)[0] ** 2


def parameters_named_as_generated_code(t, r):
    return np.sum(s2sad.fixed_point(g_generated_names, np.zeros(2), t, r, tol=1e-14))


def parameters_named_as_helpers(a):
    return np.sum(s2sad.fixed_point(g_helper_names, np.zeros(2), a, 0.1, tol=1e-14))


def users_variables_named_lam_dx_dtheta(W, b):
    lam = 0.5
    dtheta = b * 2
    dx = W * lam
    z = s2sad.fixed_point(deq, np.zeros(3), dx, dtheta, tol=1e-14)
    return np.sum(z ** 2)


def test_names_that_meet_the_generated_ones():
    close(s2sad.grad(parameter_named_dg)(0.7), fd(parameter_named_dg, 0.7))
    close(s2sad.jvp(parameter_named_dg)(0.7, 1.0)[1], fd(parameter_named_dg, 0.7))
    close(s2sad.hessian(parameter_named_dg)(0.7), fd(s2sad.grad(parameter_named_dg), 0.7))
    f = parameters_named_as_generated_code
    for k in (0, 1):
        close(s2sad.grad(f, wrt=k)(0.7, 0.9), fd_grad(f, [0.7, 0.9], k))
    close(s2sad.jvp(f, wrt=(0, 1))(0.7, 0.9, (1.0, 1.0))[1],
          fd_grad(f, [0.7, 0.9], 0) + fd_grad(f, [0.7, 0.9], 1))
    close(s2sad.hessian(f)(0.7, 0.9), fd(lambda t: s2sad.grad(f)(t, 0.9), 0.7))
    close(s2sad.grad(parameters_named_as_helpers)(0.7), fd(parameters_named_as_helpers, 0.7))
    f = users_variables_named_lam_dx_dtheta
    gW, gb = s2sad.grad(f, wrt=(0, 1))(W3, B3)
    close(gW, fd_grad(f, [W3, B3], 0))
    close(gb, fd_grad(f, [W3, B3], 1))


# -- 16h. structures as parameters (the README: dicts, lists and tuples of arrays) -----------

def g_tuple_param(x, p):
    W, b = p
    return np.tanh(W @ x + b)


def g_list_param(x, p):
    return np.tanh(p[0] @ x + p[1])


def g_nested_param(x, p):
    return np.tanh(p["layer"]["W"] @ x + p["bias"][0]) / p["n"]


def tuple_built_inside(W, b):
    return np.sum(s2sad.fixed_point(g_tuple_param, np.zeros(3), (W, b), tol=1e-14) ** 2)


def list_built_inside(W, b):
    return np.sum(s2sad.fixed_point(g_list_param, np.zeros(3), [W, b], tol=1e-14) ** 2)


def nested_built_inside(W, b):
    p = {"layer": {"W": W}, "bias": [b], "n": 2}
    return np.sum(s2sad.fixed_point(g_nested_param, np.zeros(3), p, tol=1e-14) ** 2)


def lambda_taking_a_dict(W, b):
    p = {"W": W, "b": b}
    z = s2sad.fixed_point(lambda z, q: np.tanh(q["W"] @ z + q["b"]), np.zeros(3), p,
                          tol=1e-14)
    return np.sum(z ** 2)


def F_dict(x, p):
    return x ** 3 + p["a"] * x - p["c"]


def root_of_a_dict(a, c):
    return s2sad.root(F_dict, 1.0, {"a": a, "c": c}, tol=1e-14) ** 2


def dict_argument(p, x):
    return np.sum(s2sad.fixed_point(g_dict, np.zeros(3), p, tol=1e-14) * x)


@pytest.mark.parametrize("f", [dict_parameter, tuple_built_inside, list_built_inside,
                               nested_built_inside, lambda_taking_a_dict],
                         ids=lambda f: f.__name__)
def test_structured_parameters(f):
    gW, gb = s2sad.grad(f, wrt=(0, 1))(W3, B3)
    close(gW, fd_grad(f, [W3, B3], 0))
    close(gb, fd_grad(f, [W3, B3], 1))
    close(s2sad.jvp(f, wrt=1)(W3, B3, np.ones(3))[1], np.sum(fd_grad(f, [W3, B3], 1)))


def test_structured_parameters_second_order_roots_and_arguments():
    close(s2sad.hessian(dict_parameter, wrt=1)(W3, B3),
          fd_jac(lambda b: s2sad.grad(dict_parameter, wrt=1)(W3, b), B3))
    for k in (0, 1):
        close(s2sad.grad(root_of_a_dict, wrt=k)(2.0, 1.0), fd_grad(root_of_a_dict, [2.0, 1.0], k))
    p, x = {"W": W3, "b": B3}, np.array([1.0, -1.0, 2.0])
    got = s2sad.grad(dict_argument)(p, x)
    close(got["W"], fd_jac(lambda W: dict_argument({"W": W, "b": B3}, x), W3))
    close(got["b"], fd_jac(lambda b: dict_argument({"W": W3, "b": b}, x), B3))


def g_reads_activation(x, p):
    return p["act"](p["W"] @ x + p["b"])


def dict_holding_a_function(b):
    p = {"W": W3, "b": b, "act": np.tanh}
    return np.sum(s2sad.fixed_point(g_reads_activation, np.zeros(3), p, tol=1e-14) ** 2)


def g_mask(x, p):
    if p["mask"] is None:
        return np.tanh(p["W"] @ x + p["b"])
    return np.tanh(p["W"] @ x + p["b"]) * p["mask"]


def dict_holding_none(b):
    p = {"W": W3, "b": b, "mask": None}
    return np.sum(s2sad.fixed_point(g_mask, np.zeros(3), p, tol=1e-14) ** 2)


def g_odd_keys(x, p):
    return np.tanh(p["W-1"] @ x + p["W_1"] + p[1] + 0.1 * p["again"])


def dict_with_odd_keys_and_a_repeated_array(b):
    p = {"W-1": W3, "W_1": b, 1: 0.1 * b, "again": b}
    return np.sum(s2sad.fixed_point(g_odd_keys, np.zeros(3), p, tol=1e-14) ** 2)


def g_dict_and_leaf(x, p, c):
    return np.tanh(p["W"] @ x + p["b"] * c)


def dict_and_its_leaf(b):
    p = {"W": W3, "b": b}
    return np.sum(s2sad.fixed_point(g_dict_and_leaf, np.zeros(3), p, p["b"], tol=1e-14) ** 2)


def dict_updated_in_a_loop(b):
    p = {"W": W3, "b": b}
    s = 0.0
    for i in range(2):
        p["b"] = p["b"] * 0.5
        z = s2sad.fixed_point(g_dict, np.zeros(3), p, tol=1e-14)
        s = s + np.sum(z ** 2)
    return s


@pytest.mark.parametrize("f", [dict_holding_none, dict_with_odd_keys_and_a_repeated_array,
                               dict_and_its_leaf, dict_updated_in_a_loop],
                         ids=lambda f: f.__name__)
def test_dicts_of_every_kind(f):
    close(s2sad.grad(f)(B3), fd_grad(f, [B3]))


def test_dict_holding_a_function_works_or_is_refused():
    refused_or_right(lambda: s2sad.grad(dict_holding_a_function)(B3),
                     fd_grad(dict_holding_a_function, [B3]))


def brent_between(F, x0, a, lo=0.0, hi=2.0):
    return scipy.optimize.brentq(lambda x: F(x, a), lo, hi, xtol=1e-15)


BRENT_PARTIAL = functools.partial(brent_between, lo=0.1, hi=1.5)


def root_by_a_partial_solver(a):
    return s2sad.root(cubic, 1.0, a, solver=BRENT_PARTIAL)


def root_by_a_lambda_solver(a):
    return s2sad.root(cubic, 1.0, a,
                      solver=lambda F, x0, a: scipy.optimize.brentq(lambda x: F(x, a), 0, 2))


def test_solver_spellings():
    close(s2sad.grad(root_by_a_partial_solver)(2.0), fd(root_by_a_partial_solver, 2.0))
    refused_or_right(lambda: s2sad.grad(root_by_a_lambda_solver)(2.0),
                     fd(root_by_a_lambda_solver, 2.0))


def test_dask_parameters_are_refused():
    dask_array = pytest.importorskip("dask.array")
    with pytest.raises(s2sad.S2SADError):
        s2sad.grad(deq_loss, wrt=1)(W3, dask_array.from_array(B3, chunks=2))


# -- 17. bugs found (strict xfails: each a minimal reproduction) --------------------------

def g_named_dx(x, t, dx):
    """A map with a parameter named dx (a grid step): the multiplier's argument dx
    is the adjoint of x."""
    return np.cos(t * x) * dx


def parameter_named_dx(t, dx):
    return s2sad.fixed_point(g_named_dx, 0.5, t, dx, tol=1e-14)


def test_bug_parameter_named_dx():
    close(s2sad.grad(parameter_named_dx, wrt=1)(0.7, 0.9),
          fd_grad(parameter_named_dx, [0.7, 0.9], 1))


def g_named_x_dot(x, t, x_dot):
    return np.cos(t * x) * x_dot


def parameter_named_x_dot(t, v):
    return s2sad.fixed_point(g_named_x_dot, 0.5, t, v, tol=1e-14)


def test_parameter_named_x_dot_forward():
    close(s2sad.jvp(parameter_named_x_dot, wrt=1)(0.7, 0.9, 1.0)[1],
          fd_grad(parameter_named_x_dot, [0.7, 0.9], 1))


def test_convergence_error_points_at_the_call():
    """(Had no location in e79f04e; fixed in the working tree after it.)"""
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(diverges)(1.5)
    assert info.value.location is not None
    assert "test_adversary_issue21.py:" in str(info.value)


def test_local_function_hint_works_as_printed():
    """(Was `act_W = act[...]`, indexing a function, before 82cf651.)"""
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(nested_def_calls_a_local_function)(W3, B3)
    assert "act[" not in str(info.value)


def linear_hessian_loss(c):
    x = s2sad.fixed_point(linear, np.zeros(4), A4, c, tol=1e-15)
    return np.sum(x ** 2)


def test_hessian_through_a_linear_fixed_point():
    """Issue 21: second order through fixed_point where the solve is linear."""
    inverse = np.linalg.inv(np.eye(4) - A4)
    close(s2sad.hessian(linear_hessian_loss)(C4), 2 * inverse.T @ inverse, 1e-8)


@pytest.mark.xfail(strict=True, reason="the command line refuses a lambda given to "
                   "fixed_point ('lambda expressions are not supported') that s2sad.grad "
                   "accepts; the CLI (and grad_source) refuse every lambda and nested def, "
                   "the README's fixed_point(lambda z: ...) form included")
def test_bug_cli_lambda(tmp_path):
    done = _cli(tmp_path, "loss_lambda", "--wrt", "W,b")
    assert done.returncode == 0, done.stderr


def test_cli_nested_def(tmp_path):
    done = _cli(tmp_path, "loss_nested", "--wrt", "b")
    assert done.returncode in (0, 1), done.stderr
    if done.returncode == 1:
        assert "implicit_prog.py:" in done.stderr


def list_start(b):
    return np.sum(s2sad.fixed_point(deq, [0.0, 0.0, 0.0], W3, b, tol=1e-14))


def test_bug_list_start():
    refused_or_right(lambda: s2sad.grad(list_start)(B3), fd_grad(list_start, [B3]))


class Stepper:
    def __init__(self, k):
        self.k = k

    def step(self, x, a):
        return np.cos(a * x) * self.k


STEPPER = Stepper(0.9)


def method_map(a):
    return s2sad.fixed_point(STEPPER.step, 0.5, a, tol=1e-14)


def test_bug_bound_method_map():
    """(Refused in 6bdb28b with the hint 'call it here'.)"""
    close(s2sad.grad(method_map)(0.7), fd(method_map, 0.7))


def test_bug_tol_from_an_argument_message():
    try:
        got = s2sad.grad(tol_from_an_argument)(0.7)
    except s2sad.S2SADError as exc:
        assert "'tol' must be one of tol" not in str(exc), str(exc)
        return
    close(got, fd(tol_from_an_argument, 0.7))


def lambda_reads_self_test_target(x):
    return MODEL.loss_lambda_reads_self(x)


def test_bug_lambda_reads_self():
    close(s2sad.grad(MODEL.loss_lambda_reads_self)(B3),
          fd_jac(MODEL.loss_lambda_reads_self, B3))


def repelling_dense(a):
    x = s2sad.fixed_point(g_unstable, np.zeros(2), a, solver=newton_for_fixed_point,
                          solve="dense")
    return np.sum(x ** 3)


def test_bug_hessian_at_a_repelling_fixed_point_with_dense_solve():
    with np.errstate(all="ignore"):
        close(s2sad.hessian(repelling_dense)(0.5), fd(s2sad.grad(repelling_dense), 0.5))


def test_gradient_at_a_repelling_fixed_point_with_dense_solve():
    close(s2sad.grad(repelling_dense)(0.5), fd(repelling_dense, 0.5))


def hessian_nested_solves(t):
    return s2sad.fixed_point(outer, 0.0, t, tol=1e-14) ** 2


def test_bug_hessian_of_nested_solves():
    close(s2sad.hessian(hessian_nested_solves)(0.7),
          fd(s2sad.grad(hessian_nested_solves), 0.7))


@pytest.mark.xfail(strict=True, reason="grad_source refuses a lambda given to fixed_point "
                   "('lambda expressions are not supported') that s2sad.grad accepts (as the "
                   "CLI: the text path does not lift lambdas)")
def test_bug_grad_source_lambda():
    text = ("def f(W, b):\n    z = fixed_point(lambda z: np.tanh(W @ z + b), np.zeros(3), "
            "tol=1e-14)\n    return np.sum(z ** 2)\n")
    env = {"np": np, "fixed_point": s2sad.fixed_point}
    close(s2sad.grad_source(text, "f", wrt=1, env=env)(W3, B3),
          fd_grad(lambda_closes_over_a_local, [2 * W3, B3], 1))


def repelling_auto_40(a):
    x = s2sad.fixed_point(g_unstable, np.zeros(40), a, solver=newton_for_fixed_point)
    return np.sum(x ** 2)


def repelling_dense_40(a):
    x = s2sad.fixed_point(g_unstable, np.zeros(40), a, solver=newton_for_fixed_point,
                          solve="dense")
    return np.sum(x ** 2)


def test_repelling_fixed_point_of_40_entries_dense():
    close(s2sad.grad(repelling_dense_40)(0.5), fd(repelling_dense_40, 0.5))


def test_bug_auto_with_a_solver_at_a_repelling_fixed_point():
    with np.errstate(all="ignore"):
        try:
            got = s2sad.grad(repelling_auto_40)(0.5)
        except s2sad.ConvergenceError as exc:
            assert "dense" in str(exc), str(exc)
            return
    close(got, fd(repelling_auto_40, 0.5))


def g_half(x, a):
    return 0.5 * x + a


def log_of_small_solution(a):
    return np.log(s2sad.fixed_point(g_half, 0.0, a))


def test_bug_fixed_point_stopping_test_is_absolute_for_small_solutions():
    a = 1e-7
    close(s2sad.grad(log_of_small_solution)(a) * a, 1.0, 1e-6)


def cube_minus(x, a):
    return x ** 3 - a


def test_bug_root_from_a_start_with_zero_slope():
    try:
        got = s2sad.root(cube_minus, 0.0, 2.0)
    except s2sad.ConvergenceError as exc:
        assert "no zero" not in str(exc), str(exc)
        return
    close(got, 2.0 ** (1 / 3), 1e-9)


def g_affine(x, a):
    return a * x + 1.0


def two_sites_of_one_map(a, c):
    x = s2sad.fixed_point(g_affine, 0.0, a, max_iter=50)
    y = s2sad.fixed_point(g_affine, 0.0, c, max_iter=50)  # (c = 1.5 diverges here)
    return x + y


def one_site_of_the_same_map(c):
    return s2sad.fixed_point(g_affine, 0.0, c, max_iter=50)  # (diverges here)


def _line_of(function, marker):
    import inspect
    lines, first = inspect.getsourcelines(function)
    return first + next(k for k, line in enumerate(lines) if marker in line)


def test_bug_convergence_error_location_is_the_failing_call():
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(two_sites_of_one_map, wrt=(0, 1))(0.5, 1.5)
    assert f"test_adversary_issue21.py:{_line_of(two_sites_of_one_map, 'diverges')}:" in \
        str(info.value), str(info.value)
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.grad(one_site_of_the_same_map)(1.5)
    assert f"test_adversary_issue21.py:{_line_of(one_site_of_the_same_map, 'diverges')}:" \
        in str(info.value), str(info.value)


@pytest.mark.xfail(strict=True, reason="a solve that does not converge is dropped from the "
                   "gradient when the output's derivative does not need it: "
                   "grad(two_sites_of_one_map)(0.5, 1.5) returns 4.0 while the function "
                   "itself raises ConvergenceError at its second solve (f has no value there)")
def test_bug_gradient_of_a_function_whose_dead_solve_diverges():
    with pytest.raises(s2sad.ConvergenceError):
        two_sites_of_one_map(0.5, 1.5)
    with pytest.raises(s2sad.ConvergenceError):
        s2sad.grad(two_sites_of_one_map)(0.5, 1.5)


def inner_objective(w, lam):
    return np.sum((X_RIDGE @ w - Y_RIDGE) ** 2) + lam * np.sum(w ** 2)


INNER_GRADIENT = s2sad.grad(inner_objective)


def inner_optimum_by_root_of_its_gradient(lam):
    w = s2sad.root(INNER_GRADIENT, np.zeros(4), lam, tol=1e-14)
    return np.sum(w * np.arange(1.0, 5.0))


def inner_gradient_by_hand(w, lam):
    return INNER_GRADIENT(w, lam)


def inner_optimum_through_a_def(lam):
    w = s2sad.root(inner_gradient_by_hand, np.zeros(4), lam, tol=1e-14)
    return np.sum(w * np.arange(1.0, 5.0))


def test_root_of_s2sads_own_gradient():
    """(Refused in 6bdb28b: 'must be a def or a lambda'.)"""
    want = s2sad.grad(ridge_root)(0.7)  # (the same optimum: 2 X^T(Xw - y) + 2 lam w = 0)
    assert inner_optimum_by_root_of_its_gradient(0.7) == pytest.approx(ridge_root(0.7))
    close(s2sad.grad(inner_optimum_by_root_of_its_gradient)(0.7), want, 1e-8)


@pytest.mark.xfail(strict=True, reason="a module-level def calling s2sad's own gradient, given "
                   "to root, is refused ('a differentiated function cannot call' a derivative "
                   "s2sad made): pass the gradient itself, root(s2sad.grad(inner), ...)")
def test_bug_root_of_a_def_calling_s2sads_gradient():
    close(s2sad.grad(inner_optimum_through_a_def)(0.7), s2sad.grad(ridge_root)(0.7), 1e-8)


@s2sad.fixed_point_of(g_dict)
def iterate_dict(x0, p):
    x = x0
    for _ in range(500):
        x = np.tanh(p["W"] @ x + p["b"])
    return x


def marked_solver_with_a_dict(W, b):
    return np.sum(iterate_dict(np.zeros(3), {"W": W, "b": b}) ** 2)


def test_bug_marked_solver_with_a_dict():
    close(s2sad.grad(marked_solver_with_a_dict, wrt=1)(W3, B3),
          fd_grad(marked_solver_with_a_dict, [W3, B3], 1))


class BrentSolver:
    """A solver object (configured, compared by value: unhashable)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def __eq__(self, other):
        return isinstance(other, BrentSolver) and (self.lo, self.hi) == (other.lo, other.hi)

    def __call__(self, F, x0, a):
        return scipy.optimize.brentq(lambda x: F(x, a), self.lo, self.hi, xtol=1e-15)


BRENT_OBJECT = BrentSolver(0.0, 2.0)


def root_by_a_solver_object(a):
    return s2sad.root(cubic, 1.0, a, solver=BRENT_OBJECT)


def test_bug_unhashable_solver_object():
    assert root_by_a_solver_object(2.0) == pytest.approx(root_scalar(2.0), abs=1e-12)
    try:
        got = s2sad.grad(root_by_a_solver_object)(2.0)
    except s2sad.S2SADError:
        return
    close(got, fd(root_by_a_solver_object, 2.0))
