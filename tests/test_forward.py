"""Forward mode on both corpora: every function's JVP against reverse mode and against
central differences along the same direction.

For each function of corpus.py and corpus_loops.py, all its float parameters at
once, along a fixed random direction v:

* the value is the primal's;
* the tangent equals sum_k <grad_k f, v_k> from reverse mode (the two modes are
  independent code paths, so this is the dot-product test, rtol 1e-9);
* it equals the central difference (f(x + eps v) - f(x - eps v)) / 2 eps;
* the unoptimized JVP gives the same numbers, and the arguments are unchanged.
"""
import zlib

import numpy as np
import pytest

import corpus
import corpus_loops
import s2sad
from conftest import call_by_name, inputs_for
from test_loops import loop_inputs_for

CASES = [pytest.param(fn, inputs_for, id=fn.__name__) for fn in corpus.FUNCTIONS] + \
    [pytest.param(fn, loop_inputs_for, id=f"loops-{fn.__name__}")
     for fn in corpus_loops.FUNCTIONS]


def _direction(name, value):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if isinstance(value, np.ndarray):
        return rng.uniform(-1.0, 1.0, size=value.shape)
    return float(rng.uniform(-1.0, 1.0))


def _setup(fn, make_inputs):
    inputs = make_inputs(fn)
    params = inputs.float_params
    if not params:
        pytest.skip("no float parameter")
    wrt = tuple(inputs.wrt_spec(p) for p in params)
    directions = tuple(_direction(f"{fn.__name__}.{p}", inputs.values[p]) for p in params)
    return inputs, params, wrt, directions


def _along(fn, inputs, params, directions, step):
    values = {k: v.copy() if isinstance(v, np.ndarray) else v
              for k, v in inputs.values.items()}
    for p, d in zip(params, directions):
        values[p] = values[p] + step * d
    return float(call_by_name(fn, values))


@pytest.mark.parametrize("fn, make_inputs", CASES)
def test_forward_agrees_with_reverse_and_central_differences(fn, make_inputs):
    inputs, params, wrt, directions = _setup(fn, make_inputs)
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.values.items()}
    value, tangent = s2sad.jvp(fn, wrt=wrt)(*inputs.args, directions, **inputs.kwargs)
    for k, v in before.items():
        np.testing.assert_array_equal(inputs.values[k], v)
    np.testing.assert_allclose(value, _along(fn, inputs, params, directions, 0.0), rtol=1e-12)
    grads = s2sad.grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    expected = sum(float(np.sum(g * d)) for g, d in zip(grads, directions))
    np.testing.assert_allclose(tangent, expected, rtol=1e-9, atol=1e-12)
    eps = 1e-6
    central = (_along(fn, inputs, params, directions, eps)
               - _along(fn, inputs, params, directions, -eps)) / (2 * eps)
    np.testing.assert_allclose(tangent, central, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, make_inputs", CASES)
def test_unoptimized_forward_gives_the_same_numbers(fn, make_inputs):
    inputs, params, wrt, directions = _setup(fn, make_inputs)
    fast = s2sad.jvp(fn, wrt=wrt)(*inputs.args, directions, **inputs.kwargs)[1]
    plain = s2sad.jvp(fn, wrt=wrt, optimize=False)(*inputs.args, directions,
                                                   **inputs.kwargs)[1]
    np.testing.assert_allclose(plain, fast, rtol=1e-12, atol=1e-14)


# -- a tangent never shares an array with another that is written into (issue 15) ----------


def scaled_copy_written(a):
    c = a * 1.0
    c[0] = 2.0
    return np.sum(c * a)


def shifted_copy_then_source_written(a):
    b = np.sin(a)
    c = b + 0.0
    b[0] = 2.0
    return np.sum(c * b * a)


def copy_written_with_products(a):
    c = np.exp(a)
    d = c * 1.0
    d[1] = a[0] * a[2]
    return np.sum(c * d)


def copy_written_in_a_loop(a):
    c = np.tanh(a)
    for i in range(2):
        d = c + 0.0
        d[i] = c[i + 1] * a[i]
        c = d * a
    return np.sum(c)


def copy_written_through_its_view(a):
    """c = a * 1.0 is not written by name, but through its view d."""
    c = a * 1.0
    d = c[1:]
    d[0] = 2.0
    return np.sum(a[1:] * d) + np.sum(np.sin(a))


def copy_written_through_a_reversed_view(a):
    c = a + 0.0
    c = c[::-1]
    c[1] = a[0] * a[2]
    return np.sum(c * c) + np.sum(np.sin(a))


ALIASING = [scaled_copy_written, shifted_copy_then_source_written, copy_written_with_products,
            copy_written_in_a_loop, copy_written_through_its_view,
            copy_written_through_a_reversed_view]


def _central_gradient(fn, x, eps=1e-6):
    grad = np.zeros_like(x)
    for k in range(x.size):
        step = np.zeros_like(x)
        step[k] = eps
        grad[k] = (fn(x + step) - fn(x - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", ALIASING, ids=lambda fn: fn.__name__)
def test_a_tangent_written_into_is_its_own_array(fn, optimize):
    """c = a * 1.0 gave c_dot = a_dot, so c[0] = 2.0 zeroed a_dot[0] too (and the
    caller's tangent): each basis direction's JVP against differences and reverse mode."""
    x = np.array([0.3, 0.7, 1.1])
    central = _central_gradient(fn, x)
    reverse = s2sad.grad(fn, optimize=optimize)(x.copy())
    np.testing.assert_allclose(reverse, central, rtol=1e-6, atol=1e-8)
    jvp = s2sad.jvp(fn, optimize=optimize)
    for k in range(x.size):
        direction = np.eye(x.size)[k]
        seen = direction.copy()
        value, tangent = jvp(x.copy(), seen)
        np.testing.assert_array_equal(seen, direction)  # the caller's tangent is kept
        assert value == fn(x.copy())
        np.testing.assert_allclose(tangent, central[k], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", ALIASING, ids=lambda fn: fn.__name__)
def test_hessian_through_a_tangent_written_into_is_symmetric(fn):
    """Forward over reverse inherits the sharing (copy_written_with_products's Hessian
    had a zero column and a nonzero row)."""
    x = np.array([0.3, 0.7, 1.1])
    try:
        hessian = s2sad.hessian(fn)(x.copy())
    except s2sad.S2SADError:
        # the gradient restores d[0] through the view d of c, then reads c: refused
        # when read back (right or refused)
        assert fn in (copy_written_through_its_view, copy_written_through_a_reversed_view)
        return
    gradient = s2sad.grad(fn)
    central = np.stack([_central_gradient(lambda y, k=k: gradient(y)[k], x)
                        for k in range(x.size)])
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hessian, central, rtol=1e-5, atol=1e-6)


def test_a_tangent_written_into_is_copied_once_where_it_is_bound():
    """The copy is made where the shared tangent is bound, and only there."""
    text = s2sad.source(scaled_copy_written, mode="forward")
    assert "c_dot = np.copy(a_dot)" in text
    assert text.count("np.copy") == 1
    text = s2sad.source(shifted_copy_then_source_written, mode="forward")
    assert "c_dot = np.copy(b_dot)" in text
    text = s2sad.source(copy_written_then_viewed, mode="forward")
    assert text.count("np.copy") == 1  # a copy's tangent is a copy already; a view mirrors
    assert "= np.reshape(c_dot, (3, 1))" in text


def copy_written_then_viewed(a):
    c = np.array(a)
    c[0] = 2.0
    d = np.reshape(c, (3, 1))
    return np.sum(d * a)


def test_a_copy_written_then_viewed_is_right():
    x = np.array([0.3, 0.7, 1.1])
    central = _central_gradient(copy_written_then_viewed, x)
    for k in range(x.size):
        tangent = s2sad.jvp(copy_written_then_viewed)(x.copy(), np.eye(3)[k])[1]
        np.testing.assert_allclose(tangent, central[k], rtol=1e-6, atol=1e-8)


def concatenated_then_fancy_indexed(x, v):
    q = np.sum(v, axis=-1, keepdims=True)
    x = np.concatenate([v, q])
    t1 = x[np.array([2, 1])]
    return np.sum(t1 * t1)


@pytest.mark.parametrize("optimize", [True, False])
def test_hessian_through_pieces_of_a_written_adjoint(optimize):
    """The gradient's dx is written (np.add.at), and c = unconcatenate(dx, ...) is made
    of pieces: a copy of c_dot with np.copy crashed the Hessian ('setting an array
    element with a sequence'). Only a tangent written by name, or a name or element
    of a written one, is copied."""
    v = np.array([0.177441, 0.180178, -0.525506])
    hessian = s2sad.hessian(concatenated_then_fancy_indexed, wrt=1, optimize=optimize)(-0.3, v)
    gradient = s2sad.grad(concatenated_then_fancy_indexed, wrt=1)
    central = np.stack([_central_gradient(lambda w, k=k: gradient(-0.3, w)[k], v)
                        for k in range(v.size)])
    np.testing.assert_allclose(hessian, central, rtol=1e-6, atol=1e-8)


def overlapping_shift(x, v):
    c = v * 1.0
    c[1:] = c[:-1] * x
    return np.sum(np.tanh(c) * 0.5)


@pytest.mark.parametrize("optimize", [True, False])
def test_a_write_over_its_own_operand_takes_the_tangent_first(optimize):
    """c[1:] = c[:-1] * x reads c[:-1] through the view a = c[:-1]: the tangent
    a_dot * x + x_dot * a was computed after the write had changed a."""
    x, v = -1.245028, np.array([0.686353, -0.115028, -0.772168, 0.574315])
    t = np.array([0.3, -0.2, 0.5, 0.1])
    eps = 1e-6
    central = (overlapping_shift(x + 0.7 * eps, v + eps * t)
               - overlapping_shift(x - 0.7 * eps, v - eps * t)) / (2 * eps)
    value, tangent = s2sad.jvp(overlapping_shift, wrt=(0, 1), optimize=optimize)(
        x, v.copy(), (0.7, t.copy()))
    assert value == overlapping_shift(x, v)
    np.testing.assert_allclose(tangent, central, rtol=1e-6, atol=1e-8)
