"""The forward-mode and Jacobian API: s2sad.jvp, s2sad.vjp, s2sad.jacobian, source(mode=...).

Semantics checked here (the numbers of every corpus function's JVP are checked by
test_forward.py):

* jvp(f, wrt)(*args, tangent) -> (f(*args), J . tangent): the value is the primal's,
  wrt may be an index or a name, a tuple wrt takes a tuple of tangents (a wrong
  count or a wrong shape is an ArgumentError), integer arguments are refused as by
  grad, nothing passed in is changed, a tuple-returning function gets a tuple of
  tangents, and the tangent is linear in the direction;
* vjp(f, wrt)(*args) -> (f(*args), pullback): pullback(ct) is ct . J from jacobian
  (either mode), shaped like the arguments (a tuple for a tuple wrt); a cotangent of
  the wrong shape is an ArgumentError;
* jacobian(f, wrt, mode): jax.jacobian's layout out.shape + in.shape, a float for
  scalar -> scalar, a tuple for a tuple wrt; both modes agree with each other and
  with central differences; the default picks forward mode when the inputs have
  fewer elements than the output, reverse otherwise; a tuple output is a
  NonScalarOutputError;
* source(f, mode="forward") of seed 002's f is the lecture's list of intermediate
  variables with each one's tangent on the line after it;
* forward mode through a loop with element writes c[i] = a[i] * b[i] (and
  convolution's c[i + k] += ...) matches central differences.

Known s2sad bugs are marked xfail(strict=True, raises=...) with the reason.
"""
import copy
import os
import sys
import zlib

import numpy as np
import pytest

import corpus
import corpus_loops
import s2sad
from test_loops import loop_inputs_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import seed002  # noqa: E402  (examples/seed002.py)

sys.path.remove(os.path.join(ROOT, "examples"))

EPS = 1e-6


# -- functions under test (module level: s2sad reads their source) -----------------------


def elementwise(x, y):
    """A vector output: sin(x) * y + x ** 2."""
    return np.sin(x) * y + x ** 2


def scalar_output(x, y):
    return np.sum(np.exp(x) * y)


def scalar_to_scalar(a):
    return a ** 3 + np.sin(a)


def scalar_to_vector(a):
    """One input, three outputs: forward mode needs one pass, reverse three."""
    return np.array([1.0, 2.0, 3.0]) * a ** 2 + np.cos(a)


def vector_to_matrix(x):
    """(3,) -> (3, 3): out.shape + in.shape is (3, 3, 3)."""
    return np.outer(np.sin(x), x)


def matrix_to_vector(A, x):
    """(3, 4), (4,) -> (3,)."""
    return np.tanh(A @ x)


def many_to_two(A):
    """Twelve inputs, two outputs: reverse mode needs two passes, forward twelve."""
    return np.array([1.0, -1.0]) * np.sum(A ** 2) + np.array([0.0, 1.0]) * np.sum(A)


def two_outputs(x):
    return np.sin(x), np.sum(x ** 2)


def with_integer(x, n):
    return np.sum(x ** n)


def keyword_only_scale(x, *, scale):
    return np.sin(x) * scale


def identity(x):
    return x


def product_loop(a, b):
    """c[i] = a[i] * b[i] into np.zeros: an element write in a loop, a vector output."""
    n = len(a)
    c = np.zeros(n)
    for i in range(n):
        c[i] = a[i] * b[i]
    return c


def convolution_loop(a, b):
    """The lecture's c[i + k] += a[i] * b[k], returning the whole vector c."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return c


def running_product(x):
    """c[i] = c[i - 1] * x[i]: each write reads the previous element."""
    c = np.ones(len(x))
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] * x[i]
    return c


X3 = np.array([0.5, 0.6, 0.7])
Y3 = np.array([1.1, -1.2, 1.3])
A34 = np.linspace(-0.9, 1.2, 12).reshape(3, 4)
X4 = np.array([0.3, -0.4, 0.8, 0.2])


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _like(value, name):
    """A random array (or float) shaped like value."""
    rng = _rng(name)
    if isinstance(value, np.ndarray):
        return rng.uniform(-1.0, 1.0, size=value.shape)
    return float(rng.uniform(-1.0, 1.0))


def _central_jacobian(f, args, index):
    """d f / d args[index] by central differences, shaped out.shape + in.shape."""
    x = args[index]
    value = np.asarray(f(*args))

    def at(probe):
        shifted = list(copy.deepcopy(args))
        shifted[index] = probe
        return np.asarray(f(*shifted), dtype=float)

    result = np.zeros(value.shape + np.shape(x))
    for i in np.ndindex(np.shape(x)):
        if isinstance(x, np.ndarray):
            plus, minus = x.copy(), x.copy()
            plus[i] += EPS
            minus[i] -= EPS
        else:
            plus, minus = x + EPS, x - EPS
        result[(Ellipsis,) + i] = (at(plus) - at(minus)) / (2 * EPS)
    return result


# -- jvp ------------------------------------------------------------------------------------


JVP_CASES = [(elementwise, (X3, Y3)), (scalar_output, (X3, Y3)), (scalar_to_scalar, (0.7,)),
             (scalar_to_vector, (0.7,)), (vector_to_matrix, (X3,)),
             (matrix_to_vector, (A34, X4)), (product_loop, (X3, Y3)),
             (convolution_loop, (X3, Y3[:2])), (running_product, (X4 + 1.0,))]
IDS = [f.__name__ for f, _ in JVP_CASES]


@pytest.mark.parametrize("f, args", JVP_CASES, ids=IDS)
def test_jvp_value_is_the_primal_and_the_tangent_is_the_directional_derivative(f, args):
    before = copy.deepcopy(args)
    tangent = _like(args[0], f.__name__)
    tangent_before = copy.deepcopy(tangent)
    value, derivative = s2sad.jvp(f, wrt=0)(*args, tangent)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
        assert type(a) is type(b)
    np.testing.assert_array_equal(tangent, tangent_before)
    expected = f(*copy.deepcopy(before))
    np.testing.assert_allclose(value, expected, rtol=1e-13, atol=0)
    assert np.shape(derivative) == np.shape(expected)
    if isinstance(expected, np.ndarray) and expected.ndim:
        assert type(derivative) is np.ndarray and derivative.dtype == np.float64
    shifted = lambda step: f(*((args[0] + step * tangent,) + tuple(args[1:])))  # noqa: E731
    central = (np.asarray(shifted(EPS)) - np.asarray(shifted(-EPS))) / (2 * EPS)
    np.testing.assert_allclose(derivative, central, rtol=1e-6, atol=1e-8)


def test_jvp_of_a_scalar_function_is_a_float():
    value, derivative = s2sad.jvp(scalar_to_scalar)(0.7, 2.0)
    assert type(derivative) is float
    assert value == pytest.approx(0.7 ** 3 + np.sin(0.7), rel=1e-15)
    assert derivative == pytest.approx(2.0 * (3 * 0.7 ** 2 + np.cos(0.7)), rel=1e-14)


def test_jvp_wrt_a_name_equals_wrt_an_index():
    t = _like(Y3, "name")
    by_index = s2sad.jvp(elementwise, wrt=1)(X3, Y3, t)
    by_name = s2sad.jvp(elementwise, wrt="y")(X3, Y3, t)
    np.testing.assert_array_equal(by_name[0], by_index[0])
    np.testing.assert_array_equal(by_name[1], by_index[1])
    np.testing.assert_allclose(by_name[1], np.sin(X3) * t, rtol=1e-15)
    mixed = s2sad.jvp(elementwise, wrt=("x", 1))(X3, Y3, (np.zeros(3), t))
    np.testing.assert_allclose(mixed[1], by_name[1], rtol=1e-15)


def test_jvp_of_a_keyword_only_parameter_by_name():
    value, derivative = s2sad.jvp(keyword_only_scale, wrt="scale")(X3, 1.5, scale=2.0)
    np.testing.assert_allclose(value, np.sin(X3) * 2.0, rtol=1e-15)
    np.testing.assert_allclose(derivative, np.sin(X3) * 1.5, rtol=1e-15)


def test_jvp_with_a_tuple_wrt_sums_the_directions():
    tx, ty = _like(X3, "tx"), _like(Y3, "ty")
    value, both = s2sad.jvp(elementwise, wrt=(0, 1))(X3, Y3, (tx, ty))
    _, only_x = s2sad.jvp(elementwise, wrt=0)(X3, Y3, tx)
    _, only_y = s2sad.jvp(elementwise, wrt=1)(X3, Y3, ty)
    np.testing.assert_allclose(value, elementwise(X3, Y3), rtol=1e-15)
    np.testing.assert_allclose(both, only_x + only_y, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(both, (np.cos(X3) * Y3 + 2 * X3) * tx + np.sin(X3) * ty,
                               rtol=1e-13)
    # a list of tangents is accepted as a tuple
    np.testing.assert_allclose(s2sad.jvp(elementwise, wrt=(0, 1))(X3, Y3, [tx, ty])[1], both,
                               rtol=1e-15)


def test_jvp_is_linear_in_the_tangent():
    t1, t2 = _like(A34, "t1"), _like(A34, "t2")
    jvp = s2sad.jvp(matrix_to_vector, wrt=0)
    combined = jvp(A34, X4, t1 - 3.0 * t2)[1]
    np.testing.assert_allclose(combined, jvp(A34, X4, t1)[1] - 3.0 * jvp(A34, X4, t2)[1],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(jvp(A34, X4, np.zeros_like(A34))[1], np.zeros(3))


@pytest.mark.parametrize("tangent", [(np.ones(3),), (np.ones(3), np.ones(3), np.ones(3)),
                                     np.ones(3), ()],
                         ids=["one-for-two", "three-for-two", "bare-array", "empty"])
def test_jvp_with_a_tuple_wrt_needs_one_tangent_per_argument(tangent):
    with pytest.raises(s2sad.ArgumentError):
        s2sad.jvp(elementwise, wrt=(0, 1))(X3, Y3, tangent)


@pytest.mark.parametrize("f, args, wrt, tangent", [
    (elementwise, (X3, Y3), 0, np.ones(4)),
    (elementwise, (X3, Y3), 0, np.ones((3, 1))),
    (elementwise, (X3, Y3), 0, 1.0),
    (elementwise, (X3, Y3), (0, 1), (np.ones(3), np.ones(2))),
    (matrix_to_vector, (A34, X4), 0, np.ones((4, 3))),
    (scalar_to_scalar, (0.7,), 0, np.ones(1)),
], ids=["length", "extra-axis", "scalar-for-vector", "second-of-tuple", "transposed",
        "vector-for-scalar"])
def test_jvp_refuses_a_tangent_of_the_wrong_shape(f, args, wrt, tangent):
    with pytest.raises(s2sad.ArgumentError, match="shape"):
        s2sad.jvp(f, wrt=wrt)(*args, tangent)


def test_jvp_without_arguments_is_a_type_error():
    with pytest.raises(TypeError):
        s2sad.jvp(scalar_to_scalar)()


@pytest.mark.parametrize("tangent", [None, "a"], ids=["None", "str"])
def test_jvp_refuses_a_tangent_that_is_not_a_number(tangent):
    with pytest.raises(s2sad.ArgumentError):
        s2sad.jvp(scalar_to_scalar)(0.7, tangent)


# -- integer arguments are refused, as by grad -------------------------------------------------


INTEGER_CALLS = {
    "jvp": lambda x: s2sad.jvp(scalar_output, wrt=0)(x, Y3, np.ones(np.shape(x))),
    "vjp": lambda x: s2sad.vjp(scalar_output, wrt=0)(x, Y3),
    "jacobian-forward": lambda x: s2sad.jacobian(scalar_output, mode="forward")(x, Y3),
    "jacobian-reverse": lambda x: s2sad.jacobian(scalar_output, mode="reverse")(x, Y3),
    "jacobian": lambda x: s2sad.jacobian(scalar_output)(x, Y3),
    "grad": lambda x: s2sad.grad(scalar_output)(x, Y3),
}


@pytest.mark.parametrize("transform", sorted(INTEGER_CALLS))
@pytest.mark.parametrize("value", [np.array([1, 2, 3]), np.array([True, False, True])],
                         ids=["int-array", "bool-array"])
def test_integer_arrays_are_refused(transform, value):
    with pytest.raises(s2sad.ArgumentError, match="only float"):
        INTEGER_CALLS[transform](value)


@pytest.mark.parametrize("transform", ["jvp", "vjp", "jacobian", "grad"])
@pytest.mark.parametrize("value", [2, True, np.int64(2)], ids=["int", "bool", "np.int64"])
def test_integer_scalars_are_refused(transform, value):
    calls = {
        "jvp": lambda: s2sad.jvp(scalar_to_scalar)(value, 1.0),
        "vjp": lambda: s2sad.vjp(scalar_to_scalar)(value),
        "jacobian": lambda: s2sad.jacobian(scalar_to_scalar)(value),
        "grad": lambda: s2sad.grad(scalar_to_scalar)(value),
    }
    with pytest.raises(s2sad.ArgumentError, match="integer"):
        calls[transform]()


def test_an_integer_argument_not_differentiated_is_fine():
    value, derivative = s2sad.jvp(with_integer, wrt=0)(X3, 3, np.ones(3))
    assert value == pytest.approx(np.sum(X3 ** 3), rel=1e-15)
    assert derivative == pytest.approx(np.sum(3 * X3 ** 2), rel=1e-14)
    J = s2sad.jacobian(with_integer, wrt="x")(X3, 3)
    np.testing.assert_allclose(J, 3 * X3 ** 2, rtol=1e-14)
    _, pullback = s2sad.vjp(with_integer)(X3, 3)
    np.testing.assert_allclose(pullback(2.0), 6 * X3 ** 2, rtol=1e-14)
    with pytest.raises(s2sad.ArgumentError):
        s2sad.jvp(with_integer, wrt=1)(X3, 3, 1.0)


# -- nothing passed in is changed, nothing returned aliases it ----------------------------------


@pytest.mark.parametrize("f, args", JVP_CASES, ids=IDS)
def test_arguments_tangents_and_cotangents_are_not_changed(f, args):
    wrt = tuple(range(len(args)))
    tangents = tuple(_like(a, f"{f.__name__}.{k}") for k, a in enumerate(args))
    saved = copy.deepcopy((args, tangents))
    s2sad.jvp(f, wrt=wrt)(*args, tangents)
    value, pullback = s2sad.vjp(f, wrt=wrt)(*args)
    cotangent = _like(np.asarray(value), f"{f.__name__}.ct")
    cotangent = cotangent if isinstance(value, np.ndarray) else float(cotangent)
    saved_ct = copy.deepcopy(cotangent)
    pullback(cotangent)
    s2sad.jacobian(f, wrt=wrt, mode="forward")(*args)
    s2sad.jacobian(f, wrt=wrt, mode="reverse")(*args)
    for now, before in zip(args + tangents, saved[0] + saved[1]):
        assert type(now) is type(before)
        np.testing.assert_array_equal(now, before)
    np.testing.assert_array_equal(cotangent, saved_ct)


def test_results_do_not_alias_the_tangent_or_the_cotangent():
    tangent, cotangent = np.ones(3), np.ones(3)
    _, derivative = s2sad.jvp(identity)(X3, tangent)
    _, pullback = s2sad.vjp(identity)(X3)
    adjoint = pullback(cotangent)
    assert not np.shares_memory(derivative, tangent)
    assert not np.shares_memory(adjoint, cotangent)


# -- vjp ------------------------------------------------------------------------------------


@pytest.mark.parametrize("f, args", JVP_CASES, ids=IDS)
def test_pullback_is_the_cotangent_times_the_jacobian(f, args):
    value, pullback = s2sad.vjp(f, wrt=0)(*args)
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-13, atol=0)
    J_forward = s2sad.jacobian(f, wrt=0, mode="forward")(*args)
    J_reverse = s2sad.jacobian(f, wrt=0, mode="reverse")(*args)
    np.testing.assert_allclose(J_forward, J_reverse, rtol=1e-12, atol=1e-14)
    for seed in ("a", "b"):
        ct = _like(np.asarray(value), f"{f.__name__}.{seed}")
        ct = ct if isinstance(value, np.ndarray) else float(ct)
        adjoint = pullback(ct)
        x = args[0]
        assert np.shape(adjoint) == np.shape(x)
        if isinstance(x, np.ndarray):
            assert type(adjoint) is np.ndarray and adjoint.dtype == x.dtype
        else:
            assert type(adjoint) is float
        expected = np.tensordot(ct, J_forward, axes=np.ndim(value))
        np.testing.assert_allclose(adjoint, expected, rtol=1e-12, atol=1e-13)


def test_pullback_with_a_tuple_wrt_is_a_tuple_shaped_like_the_arguments():
    value, pullback = s2sad.vjp(matrix_to_vector, wrt=(0, 1))(A34, X4)
    np.testing.assert_allclose(value, np.tanh(A34 @ X4), rtol=1e-15)
    ct = _like(value, "ct")
    dA, dx = pullback(ct)
    assert dA.shape == A34.shape and dx.shape == X4.shape
    s = ct * (1 - np.tanh(A34 @ X4) ** 2)
    np.testing.assert_allclose(dA, np.outer(s, X4), rtol=1e-13)
    np.testing.assert_allclose(dx, A34.T @ s, rtol=1e-13)
    JA, Jx = s2sad.jacobian(matrix_to_vector, wrt=(0, 1))(A34, X4)
    np.testing.assert_allclose(dA, np.tensordot(ct, JA, axes=1), rtol=1e-13)
    np.testing.assert_allclose(dx, ct @ Jx, rtol=1e-13)
    # a tuple of one is a tuple too
    (only,) = s2sad.vjp(matrix_to_vector, wrt=(1,))(A34, X4)[1](ct)
    np.testing.assert_allclose(only, dx, rtol=1e-15)


def test_pullback_of_a_scalar_output_is_the_gradient_scaled():
    value, pullback = s2sad.vjp(scalar_output, wrt=(0, 1))(X3, Y3)
    assert value == pytest.approx(np.sum(np.exp(X3) * Y3), rel=1e-15)
    gx, gy = s2sad.grad(scalar_output, wrt=(0, 1))(X3, Y3)
    px, py = pullback(2.5)
    np.testing.assert_allclose(px, 2.5 * gx, rtol=1e-14)
    np.testing.assert_allclose(py, 2.5 * gy, rtol=1e-14)


def test_pullback_can_be_called_again():
    _, pullback = s2sad.vjp(vector_to_matrix)(X3)
    ct = _like(np.zeros((3, 3)), "again")
    first = pullback(ct)
    pullback(np.ones((3, 3)))
    np.testing.assert_array_equal(pullback(ct), first)


@pytest.mark.parametrize("f, args, cotangent", [
    (elementwise, (X3, Y3), np.ones(4)),
    (elementwise, (X3, Y3), np.ones((3, 1))),
    (elementwise, (X3, Y3), 1.0),
    (vector_to_matrix, (X3,), np.ones(9)),
    (scalar_output, (X3, Y3), np.ones(1)),
    (scalar_output, (X3, Y3), np.ones(3)),
], ids=["length", "extra-axis", "scalar-for-vector", "flattened", "vector-for-scalar",
        "input-shaped"])
def test_pullback_refuses_a_cotangent_of_the_wrong_shape(f, args, cotangent):
    _, pullback = s2sad.vjp(f)(*args)
    with pytest.raises(s2sad.ArgumentError, match="shape"):
        pullback(cotangent)


def test_vjp_of_a_tuple_output_takes_a_tuple_cotangent():
    """(refused until issue 18) JAX's layout: the cotangent has the output's structure."""
    value, pullback = s2sad.vjp(two_outputs)(X3)
    assert type(value) is tuple
    np.testing.assert_allclose(pullback((np.ones(3), 0.5)), np.cos(X3) + X3, rtol=1e-14)


# -- jacobian ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
@pytest.mark.parametrize("f, args", JVP_CASES, ids=IDS)
def test_jacobian_matches_central_differences_with_jax_layout(f, args, mode):
    J = s2sad.jacobian(f, wrt=0, mode=mode)(*args)
    out_shape = np.shape(f(*copy.deepcopy(args)))
    in_shape = np.shape(args[0])
    assert np.shape(J) == out_shape + in_shape
    if out_shape + in_shape == ():
        assert type(J) is float
    else:
        assert type(J) is np.ndarray and J.dtype == np.float64
    np.testing.assert_allclose(J, _central_jacobian(f, args, 0), rtol=1e-6, atol=1e-8)


def test_jacobian_shapes():
    assert s2sad.jacobian(vector_to_matrix)(X3).shape == (3, 3, 3)
    assert s2sad.jacobian(matrix_to_vector)(A34, X4).shape == (3, 3, 4)
    assert s2sad.jacobian(matrix_to_vector, wrt=1)(A34, X4).shape == (3, 4)
    assert s2sad.jacobian(scalar_to_vector)(0.7).shape == (3,)
    assert s2sad.jacobian(scalar_output)(X3, Y3).shape == (3,)
    assert s2sad.jacobian(many_to_two)(A34).shape == (2, 3, 4)
    J = s2sad.jacobian(scalar_to_scalar)(0.7)
    assert type(J) is float and J == pytest.approx(3 * 0.7 ** 2 + np.cos(0.7), rel=1e-14)
    blocks = s2sad.jacobian(matrix_to_vector, wrt=(0, 1))(A34, X4)
    assert type(blocks) is tuple and [b.shape for b in blocks] == [(3, 3, 4), (3, 4)]
    (one,) = s2sad.jacobian(matrix_to_vector, wrt=(1,))(A34, X4)
    np.testing.assert_allclose(one, blocks[1], rtol=1e-15)


def test_jacobian_of_a_scalar_output_is_the_gradient():
    for mode in ("forward", "reverse"):
        J = s2sad.jacobian(scalar_output, wrt=(0, 1), mode=mode)(X3, Y3)
        for block, g in zip(J, s2sad.grad(scalar_output, wrt=(0, 1))(X3, Y3)):
            np.testing.assert_allclose(block, g, rtol=1e-14)


def test_jacobian_with_a_tuple_wrt_in_both_modes():
    args = (A34, X4)
    forward = s2sad.jacobian(matrix_to_vector, wrt=(0, 1), mode="forward")(*args)
    reverse = s2sad.jacobian(matrix_to_vector, wrt=(0, 1), mode="reverse")(*args)
    default = s2sad.jacobian(matrix_to_vector, wrt=(0, 1))(*args)
    for k in range(2):
        np.testing.assert_allclose(forward[k], reverse[k], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(default[k], reverse[k], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(forward[k], _central_jacobian(matrix_to_vector, args, k),
                                   rtol=1e-6, atol=1e-8)


class _Calls:
    """Counts the forward passes (JVPFunction calls) and reverse passes (the pullbacks
    VJPFunction makes)."""

    def __init__(self, monkeypatch):
        self.forward = self.reverse = 0
        jvp_call, vjp_call = s2sad.JVPFunction.__call__, s2sad.VJPFunction.pullback_at

        def counted_jvp(fn, *args, **kwargs):
            self.forward += 1
            return jvp_call(fn, *args, **kwargs)

        def counted_vjp(fn, *args, **kwargs):
            self.reverse += 1
            return vjp_call(fn, *args, **kwargs)
        monkeypatch.setattr(s2sad.JVPFunction, "__call__", counted_jvp)
        monkeypatch.setattr(s2sad.VJPFunction, "pullback_at", counted_vjp)


@pytest.mark.parametrize("f, args, n_in, n_out", [
    (scalar_to_vector, (0.7,), 1, 3),
    (vector_to_matrix, (X3,), 3, 9),
    (product_loop, (X3,) + (Y3,), 3, 3),    # wrt=0 only: 3 inputs, 3 outputs
    (many_to_two, (A34,), 12, 2),
    (scalar_output, (X3, Y3), 3, 1),
], ids=["1-to-3", "3-to-9", "3-to-3", "12-to-2", "3-to-1"])
def test_jacobian_default_mode_takes_the_fewer_passes(f, args, n_in, n_out, monkeypatch):
    forward = s2sad.jacobian(f, mode="forward")(*args)
    reverse = s2sad.jacobian(f, mode="reverse")(*args)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-14)
    assert np.size(args[0]) == n_in and np.size(f(*args)) == n_out
    calls = _Calls(monkeypatch)
    default = s2sad.jacobian(f)(*args)
    np.testing.assert_allclose(default, forward, rtol=1e-12, atol=1e-14)
    assert np.shape(default) == np.shape(f(*args)) + np.shape(args[0])
    if n_in < n_out:
        assert calls.forward > 0 and calls.reverse == 0, vars(calls)
    elif n_in > n_out:
        assert calls.reverse > 0 and calls.forward == 0, vars(calls)
    else:
        assert (calls.forward > 0) != (calls.reverse > 0), vars(calls)


def test_jacobian_modes_are_the_ones_asked_for(monkeypatch):
    calls = _Calls(monkeypatch)
    s2sad.jacobian(many_to_two, mode="forward")(A34)
    assert calls.forward > 0 and calls.reverse == 0
    calls.forward = 0
    s2sad.jacobian(scalar_to_vector, mode="reverse")(0.7)
    assert calls.reverse > 0 and calls.forward == 0


def test_jacobian_of_a_tuple_output_is_a_tuple_of_blocks():
    """(refused until issue 18) as jax.jacobian: one block per output."""
    for mode in (None, "forward", "reverse"):
        blocks = s2sad.jacobian(two_outputs, mode=mode)(X3)
        assert type(blocks) is tuple and len(blocks) == 2
        np.testing.assert_allclose(blocks[0], np.diag(np.cos(X3)), rtol=1e-14)
        np.testing.assert_allclose(blocks[1], 2 * X3, rtol=1e-14)


def test_jacobian_refuses_an_unknown_mode():
    with pytest.raises(s2sad.ArgumentError):
        s2sad.jacobian(elementwise, mode="sideways")
    with pytest.raises(s2sad.ArgumentError):
        s2sad.source(elementwise, mode="sideways")


# -- jvp of a function returning a tuple -------------------------------------------------------


def test_jvp_of_a_tuple_output_is_a_tuple_of_tangents():
    t = _like(X3, "tuple-out")
    value, tangents = s2sad.jvp(two_outputs)(X3, t)
    assert type(value) is tuple and type(tangents) is tuple and len(tangents) == 2
    np.testing.assert_allclose(value[0], np.sin(X3), rtol=1e-15)
    assert value[1] == pytest.approx(np.sum(X3 ** 2), rel=1e-15)
    assert np.shape(tangents[0]) == (3,) and np.shape(tangents[1]) == ()
    np.testing.assert_allclose(tangents[0], np.cos(X3) * t, rtol=1e-14)
    assert tangents[1] == pytest.approx(np.sum(2 * X3 * t), rel=1e-13)
    for k in range(2):
        central = (np.asarray(two_outputs(X3 + EPS * t)[k])
                   - np.asarray(two_outputs(X3 - EPS * t)[k])) / (2 * EPS)
        np.testing.assert_allclose(tangents[k], central, rtol=1e-6, atol=1e-8)


# -- the generated forward code ----------------------------------------------------------------


SEED002_JVP_BODY = """\
a = np.exp(x)
a_dot = x_dot * a
b = a ** 2
b_dot = a_dot * 2 * a
c = a + b
c_dot = a_dot + b_dot
d = np.exp(c)
d_dot = c_dot * d
e = np.sin(c)
e_dot = c_dot * np.cos(c)
f = d + e
f_dot = d_dot + e_dot
return f, f_dot"""


def _code_lines(source):
    return [line.strip() for line in source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_forward_source_of_seed002_is_the_lectures_list_with_tangents():
    source = s2sad.source(seed002.f, mode="forward")
    assert source == s2sad.source(seed002.f, wrt="x", mode="forward")
    assert source == s2sad.jvp(seed002.f).source
    lines = _code_lines(source)
    start = lines.index("def jvp_f(x, x_dot):")
    body = lines[start + 1:]
    assert "\n".join(body) == SEED002_JVP_BODY, "\n".join(body)
    # the structure, spelled out: each primal line is followed by its own tangent line
    for primal, tangent in zip(body[0:-1:2], body[1::2]):
        name = primal.split(" = ")[0]
        assert tangent.startswith(f"{name}_dot = "), (primal, tangent)
    # only NumPy is imported: no runtime helpers for scalar straight-line code
    imports = [line for line in lines[:start] if "import" in line]
    assert imports == ["import numpy as np"]


def test_forward_source_of_seed002_runs_and_is_the_closed_form():
    namespace = {}
    exec(compile(s2sad.source(seed002.f, mode="forward"), "<jvp_f>", "exec"), namespace)
    for x in (-1.0, 0.0, 0.5):
        value, tangent = namespace["jvp_f"](x, 1.0)
        assert value == pytest.approx(seed002.f(x), rel=1e-15)
        assert tangent == pytest.approx(seed002.symbolic_df(x), rel=1e-13)
        assert s2sad.jvp(seed002.f)(x, 1.0)[1] == pytest.approx(tangent, rel=1e-15)


def test_forward_source_of_an_element_write_loop():
    """c[i] = a[i] * b[i]: the tangent is written into c_dot[i] on the line after c[i]."""
    source = s2sad.source(product_loop, wrt=(0, 1), mode="forward")
    lines = _code_lines(source)
    assert "def jvp_product_loop(a, b, a_dot, b_dot):" in lines
    write = next(i for i, line in enumerate(lines) if line.startswith("c[i] = "))
    assert lines[write + 1].startswith("c_dot[i] = "), lines[write:write + 2]
    assert "a_dot[i]" in lines[write + 1] and "b_dot[i]" in lines[write + 1]
    assert "tape" not in source


# -- forward mode through loops with element writes --------------------------------------------


LOOPS = [(product_loop, (X3, Y3)), (convolution_loop, (X4, Y3)),
         (running_product, (X4 + 1.0,))]


@pytest.mark.parametrize("f, args", LOOPS, ids=[f.__name__ for f, _ in LOOPS])
def test_forward_mode_through_element_writes_matches_central_differences(f, args):
    wrt = tuple(range(len(args)))
    tangents = tuple(_like(a, f"{f.__name__}.{k}") for k, a in enumerate(args))
    value, derivative = s2sad.jvp(f, wrt=wrt)(*args, tangents)
    np.testing.assert_allclose(value, f(*args), rtol=1e-15)

    def along(step):
        return np.asarray(f(*(a + step * t for a, t in zip(args, tangents))))
    central = (along(EPS) - along(-EPS)) / (2 * EPS)
    np.testing.assert_allclose(derivative, central, rtol=1e-6, atol=1e-8)
    for k in range(len(args)):
        J = s2sad.jacobian(f, wrt=k, mode="forward")(*args)
        np.testing.assert_allclose(J, _central_jacobian(f, args, k), rtol=1e-6, atol=1e-8)


def test_forward_mode_of_the_element_product_has_the_closed_form():
    ta, tb = _like(X3, "ta"), _like(Y3, "tb")
    _, derivative = s2sad.jvp(product_loop, wrt=(0, 1))(X3, Y3, (ta, tb))
    np.testing.assert_allclose(derivative, ta * Y3 + X3 * tb, rtol=1e-14)
    Ja, Jb = s2sad.jacobian(product_loop, wrt=(0, 1), mode="forward")(X3, Y3)
    np.testing.assert_allclose(Ja, np.diag(Y3), rtol=1e-15)
    np.testing.assert_allclose(Jb, np.diag(X3), rtol=1e-15)


@pytest.mark.parametrize("fn", [corpus_loops.elementwise_product_loop,
                                corpus_loops.lecture_convolution,
                                corpus_loops.write_matrix_elements],
                         ids=lambda fn: fn.__name__)
def test_forward_mode_of_corpus_element_writes_matches_reverse(fn):
    inputs = loop_inputs_for(fn)
    params = inputs.float_params
    wrt = tuple(inputs.wrt_spec(p) for p in params)
    tangents = tuple(_like(inputs.values[p], f"{fn.__name__}.{p}") for p in params)
    value, derivative = s2sad.jvp(fn, wrt=wrt)(*inputs.args, tangents, **inputs.kwargs)
    assert value == pytest.approx(fn(*inputs.args, **inputs.kwargs), rel=1e-14)
    grads = s2sad.grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    assert derivative == pytest.approx(sum(float(np.sum(g * t))
                                           for g, t in zip(grads, tangents)), rel=1e-12)


def test_jacobian_of_a_corpus_loss_is_its_gradient():
    """A corpus function (scalar output): jacobian in either mode is its gradient."""
    fn = corpus.linear_regression
    w, X, Y = (corpus.WEIGHTS.copy(), np.linspace(-0.8, 0.8, 20).reshape(5, 4),
               np.linspace(0.5, 1.5, 5))
    g = s2sad.grad(fn)(w, X, Y)
    for mode in (None, "forward", "reverse"):
        np.testing.assert_allclose(s2sad.jacobian(fn, mode=mode)(w, X, Y), g, rtol=1e-13)
