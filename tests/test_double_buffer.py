"""The double buffer of stencil and time-stepping code (issue 17, item 8).

Two arrays take turns: the step writes the new state into one from the other, then
the names swap (`u, new = new, u`, or through a `tmp`), so no array is made per step.
The alias check once merged what each name may hold over the loop's trips, took u
and new for two names of one array, and refused every swap. It now keeps one
points-to map per way the program came (s2sad/aliasing.py), so the swap is accepted
and exact in reverse and forward mode and the Hessian. What stays refused: a write
into the caller's array (the swap with no copy made), a view taken before the swap
and read after a write into its array, two names of one array (`new = u`); each
refusal names both names and the line, and its hint, applied as printed, gives a
program that is accepted and right.
"""
import importlib.util
import inspect
import random
import re
import types

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from conftest import central_difference
from s2sad import aliasing
from test_aliasing import _line_of

K = 0.1
STEPS = 3
U1 = np.array([0.35, 0.8, 0.55, 1.1, 0.45, 0.7, 0.25])
U2 = np.array([[0.35, 0.8, 0.55, 1.1, 0.45],
               [0.7, 0.25, 0.95, 0.6, 0.15],
               [0.5, 1.05, 0.3, 0.85, 0.4],
               [0.65, 0.2, 0.75, 0.1, 0.9]])


# -- the oracles: the same steps written without writes, for autograd ---------------------

def heat_oracle(u0, steps=STEPS):
    u = u0
    for _ in range(steps):
        inner = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        u = anp.concatenate([u[:1], inner, anp.sin(u[-1:])])
    return anp.sum(u ** 2)


def heat_2d_oracle(u0):
    u = u0
    for _ in range(STEPS):
        inner = u[1:-1, 1:-1] + K * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] +
                                     u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) * u[1:-1, 1:-1]
        middle = anp.concatenate([u[1:-1, :1], inner, u[1:-1, -1:]], axis=1)
        u = anp.concatenate([u[:1], middle, u[-1:]], axis=0)
    return anp.sum(anp.tanh(u))


def wave_oracle(u0, damping=1.0):
    prev, cur = u0, u0
    for _ in range(4):
        inner = 2 * cur[1:-1] - prev[1:-1] + K * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) * cur[1:-1]
        prev, cur = cur, anp.concatenate([anp.zeros(1), inner, anp.zeros(1)]) * damping
    return anp.sum(cur ** 2)


# -- accepted: the swap in the spellings people write ---------------------------------------

def heat_tuple_swap(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def heat_tmp_swap(u0):
    u = np.array(u0)
    new = u.copy()
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        tmp = u
        u = new
        new = tmp
    return np.sum(u ** 2)


def heat_scaled_copy_empty(u0):
    u = u0 * 1.0
    new = np.empty_like(u)
    for _ in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        new, u = u, new
    return np.sum(u ** 2)


def heat_parameter_copied(u):
    u = u.copy()
    new = np.zeros(u.shape)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def heat_new_each_trip(u0):
    u = np.copy(u0)
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u = new
        new = np.zeros_like(u)
    return np.sum(u ** 2)


def heat_copy_into(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u[:] = new
    return np.sum(u ** 2)


def heat_while(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    t = 0
    while t < STEPS:
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
        t += 1
    return np.sum(u ** 2)


def heat_range_n(u0, n):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(n):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def heat_in_branches(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        if t % 2 == 0:
            u, new = new, u
        else:
            u[:] = new
    return np.sum(u ** 2)


def heat_reads_what_it_wrote(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = new[1] * u[0]
        new[-1] = new[-2] + u[-1]
        u, new = new, u
    return np.sum(u ** 2)


def heat_view_after_the_swap(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    total = 0.0
    for t in range(STEPS):
        new[1:-1] = u[1:-1] * np.exp(-u[2:])
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
        inner = u[1:-1]
        total = total + np.sum(inner ** 2)
    return total + np.sum(new)


def heat_view_before_the_swap_read_before_a_write(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    total = 0.0
    for t in range(STEPS):
        head = u[:3]
        new[1:-1] = u[1:-1] * np.exp(-u[2:])
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
        total = total + np.sum(head * u[:3])
    return total


def heat_scaled_in_place(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for _ in range(STEPS):
        new[:] = u
        new[1:-1] += K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new *= 0.9
        u, new = new, u
    return np.sum(u ** 2)


def heat_nested_loops(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for s in range(2):
        for t in range(2):
            new[1:-1] = u[1:-1] + K * u[2:] * u[:-2]
            new[0] = u[0]
            new[-1] = u[-1]
            u, new = new, u
        u = u * 0.9
    return np.sum(u ** 2)


def heat_2d(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1, 1:-1] = u[1:-1, 1:-1] + K * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] +
                                              u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) * u[1:-1, 1:-1]
        new[0, :] = u[0, :]
        new[-1, :] = u[-1, :]
        new[:, 0] = u[:, 0]
        new[:, -1] = u[:, -1]
        u, new = new, u
    return np.sum(np.tanh(u))


def heat_2d_rows_and_tmp(u0):
    u = np.array(u0)
    new = np.empty_like(u)
    t = 0
    while t < STEPS:
        new[1:-1, 1:-1] = u[1:-1, 1:-1] + K * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] +
                                              u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) * u[1:-1, 1:-1]
        new[0] = u[0]
        new[-1] = u[-1]
        new[1:-1, 0] = u[1:-1, 0]
        new[1:-1, -1] = u[1:-1, -1]
        tmp = new
        new = u
        u = tmp
        t = t + 1
    return np.sum(np.tanh(u))


def wave_three_buffers(u0):
    prev = u0.copy()
    cur = u0.copy()
    nxt = np.zeros_like(u0)
    for t in range(4):
        nxt[1:-1] = 2 * cur[1:-1] - prev[1:-1] + \
            K * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) * cur[1:-1]
        nxt[0] = 0.0
        nxt[-1] = 0.0
        prev, cur, nxt = cur, nxt, prev
    return np.sum(cur ** 2)


def wave_damped_in_place(u0):
    prev = u0.copy()
    cur = u0.copy()
    nxt = np.zeros_like(u0)
    for t in range(4):
        nxt[1:-1] = 2 * cur[1:-1] - prev[1:-1] + \
            K * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) * cur[1:-1]
        nxt[0] = 0.0
        nxt[-1] = 0.0
        nxt *= 0.9
        prev, cur, nxt = cur, nxt, prev
    return np.sum(cur ** 2)


# (function, arguments, autograd oracle of the same value or None)
ACCEPTED = [
    (heat_tuple_swap, (U1,), heat_oracle),
    (heat_tmp_swap, (U1,), heat_oracle),
    (heat_scaled_copy_empty, (U1,), heat_oracle),
    (heat_parameter_copied, (U1,), heat_oracle),
    (heat_new_each_trip, (U1,), heat_oracle),
    (heat_copy_into, (U1,), heat_oracle),
    (heat_while, (U1,), heat_oracle),
    (heat_range_n, (U1, 4), lambda u0, n: heat_oracle(u0, n)),
    (heat_range_n, (U1, 1), lambda u0, n: heat_oracle(u0, n)),
    (heat_range_n, (U1, 0), lambda u0, n: heat_oracle(u0, n)),
    (heat_in_branches, (U1,), heat_oracle),
    (heat_reads_what_it_wrote, (U1,), None),
    (heat_view_after_the_swap, (U1,), None),
    (heat_view_before_the_swap_read_before_a_write, (U1,), None),
    (heat_scaled_in_place, (U1,), None),
    (heat_nested_loops, (U1,), None),
    (heat_2d, (U2,), heat_2d_oracle),
    (heat_2d_rows_and_tmp, (U2,), heat_2d_oracle),
    (wave_three_buffers, (U1,), wave_oracle),
    (wave_damped_in_place, (U1,), lambda u0: wave_oracle(u0, 0.9)),
]
IDS = [fn.__name__ if len(args) == 1 else f"{fn.__name__}-n{args[1]}"
       for fn, args, _ in ACCEPTED]


def _values(fn, args):
    names = list(inspect.signature(fn).parameters)
    return {n: a.copy() if isinstance(a, np.ndarray) else a for n, a in zip(names, args)}


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn, args, oracle", ACCEPTED, ids=IDS)
def test_the_swap_is_accepted_and_its_gradient_exact(fn, args, oracle, optimize):
    """Refused before ('new' is updated in place while 'u' shares its array)."""
    given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    gradient = s2sad.grad(fn, optimize=optimize)(*given)
    expected = central_difference(fn, _values(fn, args), "u0" if "u0" in
                                  inspect.signature(fn).parameters else "u")
    assert isinstance(gradient, np.ndarray)
    assert gradient.shape == args[0].shape and gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    if oracle is not None:
        np.testing.assert_allclose(gradient, autograd.grad(oracle)(*args), rtol=1e-10,
                                   atol=1e-12)
        value, _ = s2sad.value_and_grad(fn)(*given)
        assert value == pytest.approx(oracle(*args), rel=1e-12)
    for before, after in zip(args, given):  # the caller's arrays untouched
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("fn, args, oracle", ACCEPTED, ids=IDS)
def test_the_swap_in_forward_mode(fn, args, oracle):
    direction = np.cos(np.arange(args[0].size)).reshape(args[0].shape)
    given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    value, tangent = s2sad.jvp(fn)(*given, direction)
    gradient = central_difference(fn, _values(fn, args), list(inspect.signature(fn).parameters)[0])
    assert value == pytest.approx(fn(*[a.copy() if isinstance(a, np.ndarray) else a
                                       for a in args]), rel=1e-12)
    assert tangent == pytest.approx(np.sum(gradient * direction), rel=1e-6, abs=1e-8)
    for before, after in zip(args, given):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("fn, args, oracle", ACCEPTED, ids=IDS)
def test_the_swap_in_the_hessian(fn, args, oracle):
    """Forward over reverse: the gradient's own code pushes the swapped names on its
    tape after writing into their arrays, which the check once refused."""
    x = args[0]
    hessian = s2sad.hessian(fn)(*args)
    assert hessian.shape == x.shape + x.shape
    if oracle is not None:
        expected = autograd.hessian(oracle)(*args)
    else:  # central differences of the gradient (itself checked above)
        gradient = s2sad.grad(fn)
        eps = 1e-6
        expected = np.zeros(x.shape + x.shape)
        for i in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[i] = eps
            expected[(Ellipsis,) + i] = (gradient(x + step, *args[1:]) -
                                         gradient(x - step, *args[1:])) / (2 * eps)
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-7)


def simulate(u0, kappa, steps):
    u = u0.copy()
    new = np.empty_like(u)
    for _ in range(steps):
        new[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
    return u


def fit_the_diffusion(u0, kappa, target):
    u = simulate(u0, kappa, 5)
    return np.mean((u - target) ** 2)


def test_the_swap_in_a_helper_differentiated_for_its_coefficient():
    """The buffers live in a helper; the coefficient is differentiated too (a float
    gradient for a float), in reverse, forward and second order."""
    values = {"u0": np.sin(np.linspace(0.0, 3.0, 9)), "kappa": 0.23,
              "target": np.cos(np.linspace(0.0, 3.0, 9))}
    args = tuple(values.values())
    du0, dkappa = s2sad.grad(fit_the_diffusion, wrt=(0, 1))(*args)
    np.testing.assert_allclose(du0, central_difference(fit_the_diffusion, values, "u0"),
                               rtol=1e-6, atol=1e-9)
    assert isinstance(dkappa, float)
    assert dkappa == pytest.approx(central_difference(fit_the_diffusion, values, "kappa"),
                                   rel=1e-7)
    _, tangent = s2sad.jvp(fit_the_diffusion, wrt=1)(*args, 1.0)
    assert tangent == pytest.approx(dkappa, rel=1e-12)
    second = s2sad.hessian(fit_the_diffusion, wrt=1)(*args)
    along = s2sad.grad(fit_the_diffusion, wrt=1)
    eps = 1e-6
    assert second == pytest.approx((along(args[0], 0.23 + eps, args[2]) -
                                    along(args[0], 0.23 - eps, args[2])) / (2 * eps), rel=1e-6)


def test_a_swap_in_many_branches_stays_quick_and_right():
    """2**8 ways through the body, two states of the buffers: the check's worlds keep
    only what live names hold (each swap's temporaries would multiply them)."""
    gradient = s2sad.grad(swap_in_many_branches)(U1.copy())
    expected = central_difference(swap_in_many_branches, {"u0": U1.copy()}, "u0")
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)


def six_buffer_pairs(x):
    a, b = x.copy(), np.zeros_like(x)
    c, d = x.copy(), np.zeros_like(x)
    e, f = x.copy(), np.zeros_like(x)
    g, h = x.copy(), np.zeros_like(x)
    i, j = x.copy(), np.zeros_like(x)
    k, m = x.copy(), np.zeros_like(x)
    for t in range(2):
        b[:] = a * a
        if x[0] > 0.1:
            a, b = b, a
        d[:] = c + a
        if x[1] > 0.1:
            c, d = d, c
        f[:] = e * c
        if x[2] > 0.1:
            e, f = f, e
        h[:] = np.sin(g) + e
        if x[3] > 0.1:
            g, h = h, g
        j[:] = i * g
        if x[4] > 0.1:
            i, j = j, i
        m[:] = k + i
        if x[5] > 0.1:
            k, m = m, k
    return np.sum(k * m) + np.sum(a)


def test_six_pairs_of_buffers_each_swapped_or_not():
    """2**6 states of six pairs of buffers: within the check's bound on worlds."""
    gradient = s2sad.grad(six_buffer_pairs)(U1.copy())
    expected = central_difference(six_buffer_pairs, {"x": U1.copy()}, "x")
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)


def test_past_the_bound_on_worlds_the_check_merges_them_and_stays_sound(monkeypatch):
    """Past the bound, the worlds are merged into one map, as the check did before:
    a refusal where the states are not told apart, never a wrong gradient."""
    monkeypatch.setattr(aliasing, "_MOST_WORLDS", 4)
    uncached = types.FunctionType(six_buffer_pairs.__code__, six_buffer_pairs.__globals__)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(uncached)(U1.copy())
    assert "shares its array" in info.value.message


def swap_in_many_branches(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(2):
        new[:] = u * u
        if u[0] > 0.1:
            u, new = new, u
        new[1:] = u[:-1] + 0.5
        if u[1] > 0.1:
            u, new = new, u
        new[:] = u + 0.25
        if u[2] > 0.1:
            u, new = new, u
        new[:-1] = np.sin(u[1:])
        if u[3] > 0.1:
            u, new = new, u
        new[:] = u * 0.5
        if u[4] > 0.1:
            u, new = new, u
        new[:] = np.cos(u)
        if u[5] > 0.1:
            u, new = new, u
        new[:] = u + 1.0
        if u[6] > 0.1:
            u, new = new, u
        new[:] = u * u
        if u[0] > 0.2:
            u, new = new, u
    return np.sum(u * u) + np.sum(new)


# -- refused: the caller's array, a stale view, one array under two names -------------------

def swap_without_a_copy(u0):
    u = u0
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def swap_without_a_copy_fixed(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def swap_on_the_parameter(u):
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def swap_on_the_parameter_fixed(u):
    u = u.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0]
        new[-1] = np.sin(u[-1])
        u, new = new, u
    return np.sum(u ** 2)


def view_read_after_its_array_is_written(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    s = 0.0
    for t in range(STEPS):
        v = u[1:]
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
        new[1] = 0.5
        s = s + np.sum(v * v)
    return np.sum(u ** 2) + s


def view_read_after_its_array_is_written_fixed(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    s = 0.0
    for t in range(STEPS):
        v = u[1:].copy()
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
        new[1] = 0.5
        s = s + np.sum(v * v)
    return np.sum(u ** 2) + s


def one_array_under_two_names(u0):
    u = u0.copy()
    new = u
    for t in range(STEPS):
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
    return np.sum(u ** 2)


def one_array_under_two_names_fixed(u0):
    u = u0.copy()
    new = u.copy()
    for t in range(STEPS):
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
    return np.sum(u ** 2)


def copied_into_while_a_view_is_read(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        tail = u[1:]
        new[1:-1] = np.sin(u[1:-1] + u[2:])
        new[0] = new[1] * 0.5
        new[-1] = u[-1]
        u[:] = new
        s = np.sum(tail * tail)
    return np.sum(u ** 2) + s


def copied_into_while_a_view_is_read_fixed(u0):
    u = u0.copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        tail = u[1:].copy()
        new[1:-1] = np.sin(u[1:-1] + u[2:])
        new[0] = new[1] * 0.5
        new[-1] = u[-1]
        u[:] = new
        s = np.sum(tail * tail)
    return np.sum(u ** 2) + s


# (function, the line written (caret under `caret`), message, the hint's line, the fix)
REFUSED = [
    (swap_without_a_copy, "new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]",
     "new[1:-1]", "writing into 'new' would change the argument 'u0', whose array it shares",
     "u = u0.copy()", swap_without_a_copy_fixed),
    (swap_on_the_parameter,
     "new[1:-1] = u[1:-1] + K * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]", "new[1:-1]",
     "writing into 'new' would change the argument 'u', whose array it shares",
     "u = u.copy()", swap_on_the_parameter_fixed),
    (view_read_after_its_array_is_written, "new[1] = 0.5", "new[1]",
     "'new' is updated in place while 'v' shares its array and is read on line {read}",
     "v = u[1:].copy()", view_read_after_its_array_is_written_fixed),
    (one_array_under_two_names, "new[1:-1] = u[1:-1] * u[2:] + u[:-2]", "new[1:-1]",
     "'new' is updated in place while 'u' shares its array and is read on line {read}",
     "new = u.copy()", one_array_under_two_names_fixed),
    (copied_into_while_a_view_is_read, "u[:] = new", "u[:]",
     "'u' is updated in place while 'tail' shares its array and is read on line {read}",
     "tail = u[1:].copy()", copied_into_while_a_view_is_read_fixed),
]
READS = {view_read_after_its_array_is_written: "s = s + np.sum(v * v)",
         one_array_under_two_names: "new[0] = u[0]",
         copied_into_while_a_view_is_read: "s = np.sum(tail * tail)"}
HINT_LINES = {swap_without_a_copy: "u = u0",
              view_read_after_its_array_is_written: "v = u[1:]",
              one_array_under_two_names: "new = u",
              copied_into_while_a_view_is_read: "tail = u[1:]"}


@pytest.mark.parametrize("transform", ["grad", "jvp", "hessian"])
@pytest.mark.parametrize("fn, written, caret, message, hint, fixed", REFUSED,
                         ids=[case[0].__name__ for case in REFUSED])
def test_what_stays_refused_names_both_and_the_line(fn, written, caret, message, hint, fixed,
                                                    transform):
    x = U1.copy()
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        if transform == "grad":
            s2sad.grad(fn)(x)
        elif transform == "jvp":
            s2sad.jvp(fn)(x, np.ones_like(x))
        else:
            s2sad.hessian(fn)(x)
    error = info.value
    read = READS.get(fn)
    if read is not None:
        message = message.format(read=_line_of(fn, read))
    assert error.message == message
    assert error.filename == __file__ and error.lineno == _line_of(fn, written)
    source_line, caret_line = str(error).splitlines()[1:3]
    start = caret_line.index("^")
    assert source_line[start:start + len(caret)] == caret
    assert caret_line.count("^") == len(caret)
    assert hint in error.hint
    if fn in HINT_LINES:
        assert f"(line {_line_of(fn, HINT_LINES[fn])})" in error.hint
    np.testing.assert_array_equal(x, U1)


@pytest.mark.parametrize("fn, written, caret, message, hint, fixed", REFUSED,
                         ids=[case[0].__name__ for case in REFUSED])
def test_the_hint_as_printed_gives_a_right_gradient(fn, written, caret, message, hint, fixed):
    """Each fixed function is the refused one with the hint's line put in."""
    refused = inspect.getsource(fn).splitlines()
    corrected = inspect.getsource(fixed).replace(fixed.__name__, fn.__name__).splitlines()
    changed = [line.strip() for line in corrected if line not in refused]
    assert changed == [hint]
    if fn in HINT_LINES:  # (the hint's line in place of the line it names)
        assert len(corrected) == len(refused)
    gradient = s2sad.grad(fixed)(U1.copy())
    name = list(inspect.signature(fixed).parameters)[0]
    np.testing.assert_allclose(gradient, central_difference(fixed, {name: U1.copy()}, name),
                               rtol=1e-6, atol=1e-8)


def swap_on_an_item_of_a_dict(p):
    u = p["u"]
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
    return np.sum(u ** 2) * p["k"]


def swap_on_an_item_of_a_dict_fixed(p):
    u = p["u"].copy()
    new = np.zeros_like(u)
    for t in range(STEPS):
        new[1:-1] = u[1:-1] * u[2:] + u[:-2]
        new[0] = u[0]
        new[-1] = u[-1]
        u, new = new, u
    return np.sum(u ** 2) * p["k"]


def test_a_structured_arguments_array_is_copied_where_it_is_read():
    """The hint names the user's line (a leaf of a dict has no parameter to copy)."""
    params = {"u": U1.copy(), "k": 2.0}
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(swap_on_an_item_of_a_dict)(params)
    assert info.value.lineno == _line_of(swap_on_an_item_of_a_dict,
                                         "new[1:-1] = u[1:-1] * u[2:] + u[:-2]")
    line = _line_of(swap_on_an_item_of_a_dict, 'u = p["u"]')
    assert info.value.hint == f'work on a copy: u = p["u"].copy() (line {line})'
    np.testing.assert_array_equal(params["u"], U1)
    gradient = s2sad.grad(swap_on_an_item_of_a_dict_fixed)(params)
    expected = central_difference(lambda u, k: swap_on_an_item_of_a_dict_fixed({"u": u, "k": k}),
                                  {"u": U1.copy(), "k": 2.0}, "u")
    np.testing.assert_allclose(gradient["u"], expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(params["u"], U1)


# -- random double buffers: right, or refused with a hint that leads to right ----------------

def _stencil(rng, terms, depth=2):
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(terms)
    kind = rng.choice(["+", "*", "-", "sin", "tanh", "square", "scale"])
    if kind in ("+", "*", "-"):
        return f"({_stencil(rng, terms, depth - 1)} {kind} {_stencil(rng, terms, depth - 1)})"
    if kind == "square":
        return f"{_stencil(rng, terms, depth - 1)} ** 2"
    if kind == "scale":
        return f"0.3 * {_stencil(rng, terms, depth - 1)}"
    return f"np.{kind}({_stencil(rng, terms, depth - 1)})"


def random_double_buffer(seed):
    """The source of a random time-stepping loop over two buffers, and its input."""
    rng = random.Random(seed)
    two_d = rng.random() < 0.3
    terms = ["u[1:-1, 1:-1]", "u[2:, 1:-1]", "u[:-2, 1:-1]", "u[1:-1, 2:]", "u[1:-1, :-2]"] \
        if two_d else ["u[1:-1]", "u[2:]", "u[:-2]"]
    body = "        "
    lines = ["def f(u0, n=3):",
             "    u = " + rng.choice(["u0.copy()", "np.array(u0)", "u0 * 1.0", "np.copy(u0)",
                                 "u0"]),
             f"    new = {rng.choice(['np.zeros_like(u)', 'np.zeros(u.shape)', 'u.copy()', 'u'])}"]
    loop = rng.choice(["for", "for n", "while"])
    if loop == "for":
        lines.append(f"    for t in range({rng.choice([1, 2, 3])}):")
    elif loop == "for n":
        lines.append("    for t in range(n):")
    else:
        lines += ["    t = 0", f"    while t < {rng.choice([2, 3])}:"]
    view = rng.random() < 0.25
    if view:
        lines.append(f"{body}v = u[1:]")
    lines.append(f"{body}{'new[1:-1, 1:-1]' if two_d else 'new[1:-1]'} = {_stencil(rng, terms)}")
    if two_d:
        lines += [f"{body}new[0] = u[0]", f"{body}new[-1] = u[-1] * 0.5",
                  f"{body}new[:, 0] = u[:, 0]", f"{body}new[:, -1] = u[:, -1]"]
    else:
        lines.append(f"{body}new[0] = {rng.choice(['u[0]', 'np.sin(u[1])', 'new[1] * 0.5'])}")
        lines.append(f"{body}new[-1] = {rng.choice(['u[-1]', 'u[-2] ** 2', 'new[-2]'])}")
    lines += {"tuple": [f"{body}u, new = new, u"],
              "tmp": [f"{body}tmp = u", f"{body}u = new", f"{body}new = tmp"],
              "fresh": [f"{body}u = new", f"{body}new = np.zeros_like(u)"],
              "into": [f"{body}u[:] = new"],
              "copy": [f"{body}u = new.copy()"]}[
        rng.choice(["tuple", "tmp", "fresh", "into", "copy", "tuple", "tmp"])]
    if rng.random() < 0.2:
        lines.append(f"{body}new[1] = 0.5")
    if view:
        lines.append(f"{body}s = np.sum(v * v)")
    if loop == "while":
        lines.append(f"{body}t = t + 1")
    result = rng.choice(["np.sum(u ** 2)", "np.sum(u * new)", "np.sum(np.tanh(u))"])
    lines.append(f"    return {result}{' + s' if view else ''}")
    x = (np.linspace(0.2, 0.9, 20).reshape(4, 5) if two_d else np.linspace(0.2, 0.9, 6)) ** 1.2
    return "import numpy as np\n\n\n" + "\n".join(lines) + "\n", x


def _applied(source, hint):
    """The source with the hint's line put in, as a user would read the hint."""
    lines = source.splitlines()
    if "begin the function with " in hint:
        first = next(k for k, line in enumerate(lines) if line.startswith("def "))
        lines.insert(first + 1, "    " + hint.split("begin the function with ")[1])
    else:
        text, line = re.match(r".*?: (.*) \(line (\d+)\)", hint).groups()
        old = lines[int(line) - 1]
        lines[int(line) - 1] = old[:len(old) - len(old.lstrip())] + text
    return "\n".join(lines) + "\n"


def _load(path, source):
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("seed", range(40))
def test_random_double_buffers_are_right_or_refused_with_a_working_hint(seed, tmp_path):
    source, x = random_double_buffer(seed)
    for attempt in range(4):
        f = _load(tmp_path / f"buffers_{seed}_{attempt}.py", source)
        try:
            gradient = s2sad.grad(f)(x.copy())
        except s2sad.UnsupportedSyntaxError as error:
            source = _applied(source, error.hint)
            continue
        np.testing.assert_allclose(gradient, central_difference(f, {"u0": x}, "u0"),
                                   rtol=1e-6, atol=1e-8)
        direction = np.cos(np.arange(x.size)).reshape(x.shape)
        _, tangent = s2sad.jvp(f)(x.copy(), direction)
        assert tangent == pytest.approx(np.sum(gradient * direction), rel=1e-9, abs=1e-12)
        return
    pytest.fail(f"still refused after its hints were applied:\n{source}")
