"""Calls that crashed at the API level (an exception that is not an S2SADError), issue 15:
each is now right (checked against differences) or refused with a located S2SADError."""
import math
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.errors import ArgumentError, NonScalarOutputError

from conftest import central_difference


# -- Python floats at a singular point: every transform gives NumPy's inf or nan --------

def sqrt_by_power(x):
    return x ** 0.5


def sqrt_by_math(x):
    return math.pow(x, 0.5)


def zero_base_half(a):
    return (a * 0.0) ** 0.5 + a * a


def zero_base_three_halves(a):
    return (a * 0.0) ** 1.5 + a * a


def scaled_root(x, scale):
    return x ** 0.5 * scale[0]


@pytest.fixture(autouse=False)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("f", [sqrt_by_power, sqrt_by_math])
def test_forward_mode_at_a_singular_point_gives_inf(f, quiet):
    assert s2sad.grad(f)(0.0) == math.inf
    value, tangent = s2sad.jvp(f)(0.0, 1.0)
    assert value == 0.0 and tangent == math.inf
    _, pullback = s2sad.vjp(f)(0.0)
    assert pullback(1.0) == math.inf
    assert s2sad.jacobian(f)(0.0) == math.inf
    assert s2sad.jacobian(f, mode="forward")(0.0) == math.inf


@pytest.mark.parametrize("f", [zero_base_half, zero_base_three_halves])
def test_second_order_through_a_zero_base_gives_nan_not_a_crash(f, quiet):
    # d/da of (0 a) ** p is p (0 a) ** (p - 1) * 0: NumPy (and JAX) give nan at the
    # second order, where the generated code raised ZeroDivisionError on Python floats
    assert math.isnan(s2sad.hessian(f)(1.0))
    assert math.isnan(s2sad.grad(s2sad.grad(f))(1.0))
    assert math.isnan(s2sad.hvp(f)(1.0, 1.0))


def test_singular_point_with_an_argument_that_has_no_math_code(quiet):
    # a list argument: the code for Python numbers does not apply, the NumPy code ran
    # on Python floats (and the fast entry of the second call did too)
    df = s2sad.grad(scaled_root)
    assert df(1.0, [2.0]) == pytest.approx(1.0)
    assert df(0.0, [2.0]) == math.inf
    assert df(0.0, [2.0]) == math.inf
    assert s2sad.jvp(scaled_root)(0.0, [2.0], 1.0)[1] == math.inf


def test_away_from_the_singular_point_forward_mode_is_right():
    for f in (sqrt_by_power, sqrt_by_math):
        expected = central_difference(f, {"x": 2.0}, "x")
        assert s2sad.jvp(f)(2.0, 1.0)[1] == pytest.approx(expected, rel=1e-6)
        assert type(s2sad.jvp(f)(2.0, 1.0)[1]) is float


# -- list and tuple outputs --------------------------------------------------------------

def unequal_parts(x):
    return [x * 2.0, np.sum(x)]


def constant_parts(x):
    return [np.ones(2), 1.0]


def array_and_number(x):
    return (x * 2.0, np.sum(x))


X = np.array([1.0, 2.0, 3.0])


# (refused until issue 18: a list or tuple output's jacobian is one block per array, and
# vjp's cotangent has the output's structure, as in JAX)
EXPECTED_JACOBIANS = {unequal_parts: [2.0 * np.eye(3), np.ones(3)],
                      constant_parts: [np.zeros((2, 3)), np.zeros(3)],
                      array_and_number: (2.0 * np.eye(3), np.ones(3))}


@pytest.mark.parametrize("f", [unequal_parts, constant_parts, array_and_number])
@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
def test_jacobian_of_a_list_output_has_the_output_structure(f, mode):
    jacobian = s2sad.jacobian(f, mode=mode)(X)
    expected = EXPECTED_JACOBIANS[f]
    assert type(jacobian) is type(expected) and len(jacobian) == len(expected)
    for got, want in zip(jacobian, expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("f", [unequal_parts, constant_parts, array_and_number])
def test_vjp_of_a_list_output_takes_a_cotangent_of_its_structure(f):
    value, pullback = s2sad.vjp(f)(X)
    cotangent = type(value)([np.full(np.shape(v), 0.5) for v in value])
    want = sum(np.tensordot(c, j, np.ndim(c)) for c, j in zip(cotangent, EXPECTED_JACOBIANS[f]))
    np.testing.assert_array_equal(pullback(cotangent), want)
    with pytest.raises(s2sad.ArgumentError, match="cotangent"):
        pullback(np.ones(3))


def test_jvp_of_a_constant_list_gives_a_list_of_tangents():
    value, tangent = s2sad.jvp(constant_parts)(X, np.ones(3))
    assert type(value) is list and type(tangent) is list
    np.testing.assert_array_equal(tangent[0], np.zeros(2))
    assert tangent[1] == 0.0 and type(tangent[1]) is float


def test_grad_of_a_list_says_it_is_a_list():
    with pytest.raises(NonScalarOutputError, match="returned a list of 2 values"):
        s2sad.grad(constant_parts)(X)


# -- parameter defaults are the function's values, not its default expressions ----------

SCALE = 3.0


def scaled_by_global(x, scale=2 * SCALE):
    return x * scale


def with_keyword_default(x, *, shift=SCALE + 1.0):
    return x * shift


def with_array_default(x, w=np.array([1.0, 2.0])):
    return np.sum(x * w)


def _closure_default():
    c = 5.0

    def times_c(x, k=c):
        return x * k
    return times_c


_LOOP = []
for _o in (1.0, 2.0):
    def _from_loop(x, o=_o):
        return x * x * o
    _LOOP.append(_from_loop)


@pytest.mark.parametrize("k, f", enumerate(_LOOP))
def test_a_default_bound_in_a_loop(k, f):
    o = k + 1.0
    assert s2sad.grad(f)(1.5) == pytest.approx(2 * 1.5 * o)
    assert s2sad.jvp(f)(1.5, 1.0) == pytest.approx((1.5 ** 2 * o, 2 * 1.5 * o))
    assert s2sad.hessian(f)(1.5) == pytest.approx(2 * o)
    assert s2sad.grad(s2sad.grad(f))(1.5) == pytest.approx(2 * o)
    assert s2sad.vjp(f)(1.5)[1](1.0) == pytest.approx(2 * 1.5 * o)


def test_a_default_from_the_enclosing_function():
    f = _closure_default()
    assert s2sad.grad(f)(2.0) == 5.0
    assert s2sad.jvp(f)(2.0, 1.0) == (10.0, 5.0)
    assert s2sad.hessian(f)(2.0) == 0.0


def test_a_default_expression_is_not_evaluated_again(monkeypatch):
    monkeypatch.setitem(globals(), "SCALE", 10.0)  # Python evaluated 2 * SCALE once: 6
    assert s2sad.grad(scaled_by_global)(1.0) == 6.0
    assert s2sad.jvp(scaled_by_global)(1.0, 1.0) == (6.0, 6.0)
    assert s2sad.grad(with_keyword_default)(1.0) == 4.0
    assert "scale=6.0" in s2sad.grad(scaled_by_global).source


def test_an_array_default_is_bound_by_name():
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(s2sad.grad(with_array_default)(x), [1.0, 2.0])
    np.testing.assert_allclose(s2sad.hessian(with_array_default)(x), np.zeros((2, 2)))
    assert "w=w_default" in s2sad.grad(with_array_default).source


# -- argument kinds ----------------------------------------------------------------------

def total_square(x):
    return np.sum(x * x)


def doubled(x):
    return x * 2.0


def product(x, y):
    return x * y


def test_float32_stays_float32_in_jacobian_hessian_and_jvp():
    x = np.array([1.0, 2.0], np.float32)
    assert s2sad.jacobian(doubled)(x).dtype == np.float32
    assert s2sad.jacobian(total_square)(x).dtype == np.float32
    assert s2sad.hessian(total_square)(x).dtype == np.float32
    np.testing.assert_allclose(s2sad.hessian(total_square)(x), 2 * np.eye(2))
    assert type(s2sad.jvp(total_square)(x, np.ones(2, np.float32))[1]) is np.float32
    s = np.float32(1.5)
    assert type(s2sad.jacobian(doubled)(s)) is np.float32
    assert type(s2sad.hessian(total_square)(s)) is np.float32


def test_a_zero_dimensional_array_gives_zero_dimensional_blocks():
    x = np.array(1.5)
    for result in (s2sad.jacobian(doubled)(x), s2sad.hessian(total_square)(x)):
        assert type(result) is np.ndarray and result.shape == ()
    assert float(s2sad.hessian(total_square)(x)) == 2.0


def test_jacobian_of_an_empty_input():
    result = s2sad.jacobian(doubled)(np.zeros(0))
    assert result.shape == (0, 0)


@pytest.mark.parametrize("tangent", [np.ones(2, complex), np.array([True, False]),
                                     np.complex128(1.0), None, [1.0, 1.0]])
def test_a_tangent_that_is_not_real_is_refused(tangent):
    x = np.array([1.0, 2.0]) if np.ndim(tangent) else 1.0
    with pytest.raises(ArgumentError, match="pass a float or a float array"):
        s2sad.jvp(doubled)(x, tangent)
    with pytest.raises(ArgumentError, match="the cotangent is"):
        s2sad.vjp(doubled)(x)[1](tangent)


def test_one_tangent_for_two_arguments_is_refused():
    with pytest.raises(ArgumentError, match="one tangent per argument"):
        s2sad.jvp(product, wrt=(0, 1))(2.0, 3.0, 1.0)


def sum_of_products(x, n):
    return np.sum(x * n)


def test_a_masked_array_is_refused():
    # its operations skip masked elements, the generated code reads the data beneath
    # (the gradient was silently [1.38, 1.0, -2.83]: 1.0 for the masked element)
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    for call in (lambda: s2sad.grad(total_square)(masked),
                 lambda: s2sad.jvp(total_square)(masked, np.ones(3)),
                 lambda: s2sad.hessian(total_square)(masked),
                 lambda: s2sad.grad(sum_of_products)(np.ones(3), masked)):
        with pytest.raises(ArgumentError, match="is a masked array") as info:
            call()
        assert "test_api_crashes.py:" in str(info.value)


def test_the_hessian_locates_an_integer_argument():
    with pytest.raises(ArgumentError, match="is an integer") as info:
        s2sad.hessian(total_square)(1)
    assert "test_api_crashes.py:" in str(info.value)


@pytest.mark.parametrize("transform", [s2sad.jvp, s2sad.vjp, s2sad.jacobian, s2sad.hessian,
                                       s2sad.hvp])
def test_none_as_the_function_is_refused(transform):
    with pytest.raises(ArgumentError, match="the function to differentiate is None"):
        transform(None)
