"""The Python-float variant (floats.py): math functions for calls passing Python numbers.

It must give NumPy's code's answers: the same numbers where math computes them, and
NumPy's inf or nan (by running NumPy's code again) where math raises."""
import math
import warnings

import gast
import numpy as np
import pytest

import s2sad
from s2sad import floats
from s2sad.frontend import parse_function
from conftest import central_difference as by_name  # noqa: I100

W = np.array([1.0, 2.0])
SCALE = 2.0


def seed002(x):
    return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)


def lecture(x, y):
    return np.sin(x + y) / (x * y)


def powers(x, p):
    return (x ** p) ** 1.5 + np.sqrt(x) * np.log(x)


def with_int(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.tanh(x * i) / (i + 1)
    return s


def with_default(x, a=2.0, k=3):
    return np.arctan2(x, a) * k + np.abs(x) ** 2 + np.pi


def reads_global(x):
    return np.sum(W * x)


def reads_global_number(x):
    return SCALE * np.exp(x)


def sums_axis(x):
    return np.sum(np.exp(x), axis=None)


def uses_where(x):
    return np.where(x > 0, x, -x) * 2.0


def central_difference(fn, args, position):
    names = list(fn.__code__.co_varnames[:len(args)])
    return by_name(fn, dict(zip(names, args)), names[position])


def numpy_code(fn, wrt, args):
    """What NumPy's code for the same ranks returns: the call with np.float64 arguments."""
    return s2sad.grad(fn, wrt=wrt)(*[np.float64(a) if type(a) is float else a for a in args])


def assert_same(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-13, atol=0)


@pytest.mark.parametrize("fn, wrt, args", [
    (seed002, 0, (0.3,)),
    (lecture, (0, 1), (0.3, 0.7)),
    (powers, (0, 1), (1.7, 0.8)),
    (with_int, 0, (0.4, 5)),
    (with_default, 0, (0.6,)),
    (seed002, 0, (-1.2,)),
])
def test_math_code_gives_numpys_numbers_and_matches_differences(fn, wrt, args):
    df = s2sad.grad(fn, wrt=wrt)
    got = df(*args)
    assert "import numpy" not in df.source and "math." in df.source
    assert_same(got, numpy_code(fn, wrt, args))
    again = df(*args)  # through the generated entry
    assert_same(again, got)
    positions = (wrt,) if isinstance(wrt, int) else wrt
    for position, grad in zip(positions, got if isinstance(wrt, tuple) else (got,)):
        assert type(grad) is float
        assert grad == pytest.approx(central_difference(fn, args, position), rel=1e-6)


def test_source_pins_the_lectures_float_code():
    df = s2sad.grad(lecture, wrt=(0, 1))
    df(0.3, 0.7)
    body = df.source.split("\n\n\n", 1)[1]
    assert body.splitlines()[:5] == [
        "def grad_lecture(x, y, *, dlecture=1.0):",
        "    a = x + y",
        "    b = math.sin(a)",
        "    c = x * y",
        "    lecture = b / c",
    ]
    assert "math.cos(a)" in body
    assert "compiled for:  x, y: Python numbers" in df.source


@pytest.mark.parametrize("fn, args", [
    (seed002, (800.0,)),       # math.exp overflows; NumPy's gives inf, then nan
    (lecture, (0.0, 0.7)),     # division by zero
    (powers, (-1.5, 0.8)),     # a negative base to a fractional power: nan, not complex
    (powers, (0.0, 2.0)),      # log(0)
])
def test_where_math_raises_numpys_code_runs(fn, args):
    wrt = 0 if fn is seed002 else (0, 1)
    df = s2sad.grad(fn, wrt=wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = numpy_code(fn, wrt, args)
        for _ in range(2):  # the checked call, then the entry
            got = df(*args)
            np.testing.assert_array_equal(np.asarray(got, dtype=float),
                                          np.asarray(expected, dtype=float))
    assert not any(isinstance(g, complex) for g in np.atleast_1d(got))


def test_where_math_raises_numpys_warnings_are_seen():
    df = s2sad.grad(seed002)
    df(0.1)
    with pytest.warns(RuntimeWarning):
        assert math.isnan(df(800.0))


@pytest.mark.parametrize("fn", [reads_global, reads_global_number, sums_axis, uses_where])
def test_code_that_could_make_arrays_stays_numpys(fn):
    df = s2sad.grad(fn)
    got = df(0.5)
    assert "math." not in df.source.split("\n\n\n", 1)[1]
    assert got == pytest.approx(central_difference(fn, (0.5,), 0), rel=1e-6)


def test_numpy_scalars_run_numpys_code_and_keep_their_type():
    df = s2sad.grad(seed002)
    assert type(df(np.float32(0.3))) is np.float32
    assert "np.exp" in df.source
    df(0.3)
    assert "math.exp" in df.source  # the call with a Python float ran math's code
    assert type(df(np.float64(0.3))) is np.float64


def test_value_and_grad_runs_math_code():
    vg = s2sad.value_and_grad(lecture, wrt=(0, 1))
    value, (dx, dy) = vg(0.3, 0.7)
    assert value == pytest.approx(lecture(0.3, 0.7), rel=1e-15)
    assert "math.sin" in vg.source
    np.testing.assert_allclose([dx, dy], s2sad.grad(lecture, wrt=(0, 1))(0.3, 0.7),
                               rtol=1e-15)


def test_second_order_of_math_code():
    df = s2sad.grad(seed002)
    d2f = s2sad.grad(df)
    assert d2f(0.3) == pytest.approx(central_difference(lambda x: df(x), (0.3,), 0),
                                     rel=1e-6)
    df(0.3)
    again = s2sad.grad(df.compiled.function)  # the math code, read back as a function
    assert "math.exp" in df.source
    assert again(0.3) == pytest.approx(d2f(0.3), rel=1e-12)


def test_an_array_default_stays_numpys():
    def f(x, w=None):
        return np.exp(x) * 2.0

    df = s2sad.grad(f)
    df(0.5)
    assert "math." not in df.source.split("\n\n\n", 1)[1]


# -- the pass itself --------------------------------------------------------------

def generated(fn):
    """The rank-0 gradient's function definition, as gast."""
    df = s2sad.grad(fn)
    df(np.float64(0.5))
    return parse_function(df.compiled.function).func


def test_pass_rewrites_calls_constants_and_powers():
    def f(x):
        return np.exp(x) + np.abs(x) * np.pi + x ** 2.5 + x ** -2

    func = generated(f)
    rewritten = floats.python_floats(func, {"x", "df"})
    text = gast.dump(rewritten)
    assert "attr='exp'" in text and "id='np'" not in text
    calls = {n.func.attr for n in gast.walk(rewritten) if isinstance(n, gast.Call)
             and isinstance(n.func, gast.Attribute)}
    assert "pow" in calls  # x ** 2.5; x ** -2 stays a power
    assert any(isinstance(n, gast.BinOp) and isinstance(n.op, gast.Pow)
               for n in gast.walk(rewritten))
    assert "id='np'" in gast.dump(func)  # the input is left as it was


def test_pass_declines_a_parameter_without_rank_or_number_default():
    def f(x, w):
        return np.exp(x) * w

    df = s2sad.grad(f)
    df(np.float64(0.5), np.float64(2.0))
    func = parse_function(df.compiled.function).func
    assert floats.python_floats(func, {"x", "df"}) is None
    assert floats.python_floats(func, {"x", "w", "df"}) is not None


def test_pass_declines_subscripts_and_unknown_calls():
    def f(x):
        v = np.array([x, x])
        return np.sum(v)

    assert floats.python_floats(generated(f), {"x", "df"}) is None


def sum_of_a_float(x):
    return np.sum(x) * 1.0000001


def test_the_adjoint_of_a_sum_of_a_python_float_stays_float64():
    # np.result_type(1.0, 2.0, np.float32) is float32: the spread adjoint was float32
    df = s2sad.grad(sum_of_a_float)
    assert df(2.0) == pytest.approx(1.0000001, rel=1e-13)
    from s2sad.runtime import unsum
    assert unsum(1.0, 2.0).dtype == np.float64
    assert unsum(np.float32(1.0), np.ones(2, np.float32)).dtype == np.float32


def test_unsum_refuses_an_adjoint_with_more_axes_than_its_input():
    from s2sad.runtime import unsum
    with pytest.raises(ValueError, match=r"cannot spread an adjoint of shape \(1, 3\)"):
        unsum(np.ones((1, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"cannot spread an adjoint of shape \(2,\)"):
        unsum(np.ones(2), 1.0)
    np.testing.assert_array_equal(unsum(np.array([1.0, 2.0]), np.ones((2, 3)), 1),
                                  [[1.0] * 3, [2.0] * 3])
