"""The compiled path: s2sad.grad(f, jit=True) runs the generated code through Numba.

The gradient is the same as the Python one; the source is the code Numba compiled
(backward loops as explicit ranges, a counted loop's float numbers stored in
arrays indexed by its counter); code outside Numba's subset runs as Python
with one JitFallback warning naming the reason; without Numba the same.
Speed is measured in benchmarks/, not here.
"""
import sys
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad
from s2sad.jit import JitFallback

numba = pytest.importorskip("numba")


def horner(x, c):
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def convolution(a, b):
    c = np.zeros(len(a) + len(b) - 1)
    for i in range(len(a)):
        for k in range(len(b)):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def first_crossing(x, c):
    s = 0.0
    for i in range(len(c)):
        s = s * x + c[i]
        if s > 4.0:
            break
    return s


C = np.array([0.5, 1.0, 1.5, 2.0, 2.5])


@pytest.mark.parametrize("fn, args, wrt", [
    (horner, (0.7, C), (0, 1)),
    (convolution, (C, C[:3]), (0, 1)),
    (first_crossing, (0.9, C), (0, 1)),
], ids=["horner", "convolution", "break"])
def test_jit_gradient_equals_the_python_gradient(fn, args, wrt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)  # Numba must take these
        compiled = s2sad.grad(fn, wrt=wrt, jit=True)
        got = compiled(*args)
    expected = s2sad.grad(fn, wrt=wrt)(*args)
    for g, e in zip(got, expected):
        assert type(g) is type(e) and np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-13)
    assert "compiled by:   Numba" in compiled.source
    assert "reversed(" not in compiled.source.split("\n\n\n")[1]


def test_backward_loops_are_written_as_explicit_ranges():
    compiled = s2sad.grad(horner, wrt=(0, 1), jit=True)
    compiled(0.7, C)
    assert "for i in range(a - 1, -1, -1):" in compiled.source
    broken = s2sad.grad(first_crossing, wrt=(0, 1), jit=True)
    broken(0.9, C)
    assert "range(runs - 1, -1, -1)" in broken.source


def rk4(y0, lam, steps, dt):
    y = y0
    for i in range(steps):
        t = i * dt
        k1 = -lam * y + np.sin(t)
        k2 = -lam * (y + 0.5 * dt * k1) + np.sin(t + 0.5 * dt)
        y = y + dt * k2
    return y


def stored_index(x, c):
    s = 0.0
    for i in range(8):
        j = (i * 3) % len(c)
        s = np.sin(s * c[j] + x)
    return s


def test_stored_float_numbers_go_in_float_arrays_for_numba():
    compiled = s2sad.grad(rk4, wrt=(0, 1), jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(1.0, 0.5, 50, 0.05)
    code = compiled.source.split("\n\n\n")[1]
    assert "y_stored = np.empty(steps)" in code and "y_stored[i] = y" in code
    assert "y = y_stored[i]" in code and "tape" not in code
    expected = [numeric_grad(rk4, [1.0, 0.5, 50, 0.05], k) for k in (0, 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    python = compiled.compiled.function(1.0, 0.5, 50, 0.05)  # the fallback, as Python
    np.testing.assert_allclose(python, got, rtol=1e-13)


def test_stored_integers_stay_on_the_stack_beside_float_arrays():
    compiled = s2sad.grad(stored_index, wrt=(0, 1), jit=True)
    c = np.array([0.5, 1.0, 1.5, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(0.3, c)
    code = compiled.source.split("\n\n\n")[1]
    assert "tape.append(j)" in code and "j = tape.pop()" in code
    assert "s_stored = np.empty(8)" in code and "s = s_stored[i]" in code
    for g, k in zip(got, (0, 1)):
        np.testing.assert_allclose(g, numeric_grad(stored_index, [0.3, c], k), rtol=1e-7)
    for g, e in zip(got, s2sad.grad(stored_index, wrt=(0, 1))(0.3, c)):
        np.testing.assert_allclose(g, e, rtol=1e-13)


def broadcasting(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(x * w))
    return s


def test_code_outside_numbas_subset_falls_back_with_one_warning():
    compiled = s2sad.grad(broadcasting, jit=True)
    x, w = np.array([0.1, 0.2]), np.array([[1.0], [2.0]])
    with pytest.warns(JitFallback, match="Numba cannot compile"):
        got = compiled(x, w)
    np.testing.assert_allclose(got, s2sad.grad(broadcasting)(x, w), rtol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)  # warned once only
        compiled(x, w)


def horner_again(x, c):
    """Horner once more: its compiled gradient is not cached yet."""
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def test_without_numba_the_python_code_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    compiled = s2sad.grad(horner_again, wrt=(0, 1), jit=True)
    with pytest.warns(JitFallback, match="not installed"):
        got = compiled(0.7, C)
    np.testing.assert_allclose(got[1], s2sad.grad(horner, wrt=1)(0.7, C))
