"""Second derivatives: hessian, hvp and grad(grad(f)) against central differences of grad.

The oracle throughout is s2sad's own first-order gradient (checked against central
differences and autograd by test_loops.py / test_end_to_end.py), differenced once
more with the 4-point stencil

    (8 (g(x + e) - g(x - e)) - (g(x + 2e) - g(x - 2e))) / 12 e,   e = 1e-4,

whose truncation error O(e**4) and rounding error O(1e-16 / e) both sit far below
the tolerance rtol 1e-4, atol 1e-6.

* Every function of corpus.py and corpus_loops.py (inputs by parameter name, as
  test_forward.py builds them): `s2sad.hessian(fn, wrt=<first float parameter>)`
  with the exact shape x.shape + x.shape (a float for a Python float). Only the
  first float parameter is taken, to keep the file fast; no function is skipped
  for size, since no first float parameter has more than 20 elements (the (5, 4)
  design matrix X) and the whole sweep takes a few seconds.
* Every function with two or more float parameters: the tuple-wrt Hessian of all
  of them, block by block (H[i][j] = d grad_i / d x_j, shape x_i.shape + x_j.shape)
  against differences, and symmetric (H[i][j] is H[j][i] with its axes swapped).
* hvp equals hessian @ v (flattened) and the difference of grad along v, for a
  sample of the corpora, with one argument and with a tuple.
* grad(grad(f, wrt=p), wrt=p) for every function with a scalar float parameter p
  (both corpora, so also through loops, while loops and branches): a float for a
  float, equal to the differences and to hessian; cross derivatives
  grad(grad(f, wrt=0), wrt=1) of two-argument functions, equal both ways round.
* Rosenbrock's function in its two-variable and its n-dimensional form against the
  closed-form Hessian; while loops with a break.

Cases that fail because of an s2sad bug are marked xfail(strict=True) with the
reason: a fix shows up as XPASS.
"""
import copy
import math
import warnings
import zlib

import numpy as np
import pytest

import corpus
import corpus_loops
import s2sad
from conftest import call_by_name, inputs_for
from test_loops import loop_inputs_for

RTOL, ATOL = 1e-4, 1e-6
EPS = 1e-4

# -- known s2sad bugs --------------------------------------------------------------------


class Bug:
    """An s2sad bug: the xfail reason and the exception the test fails with."""

    def __init__(self, reason, raises):
        self.reason, self.raises = reason, raises

    def mark(self):
        return pytest.mark.xfail(strict=True, reason=self.reason, raises=self.raises)


POWER_NAN = Bug(
    "BUG: the Hessian of np.sum(np.maximum(w, 0.0) ** b) is NaN where w < 0 "
    "(0 * 0 ** (b - 2) = 0 * inf); the true value is 0, and the gradient itself treats "
    "0 ** b carefully", AssertionError)

HESSIAN_BUGS = {
    "relu_power_learned_exponent": POWER_NAN,
}

GRAD_GRAD_BUGS = {}

# -- the corpora ---------------------------------------------------------------------------

ALL = [(fn, inputs_for, fn.__name__) for fn in corpus.FUNCTIONS] + \
    [(fn, loop_inputs_for, f"loops-{fn.__name__}") for fn in corpus_loops.FUNCTIONS]


def _cases(select=lambda inputs: True, bugs=HESSIAN_BUGS):
    cases = []
    for fn, make, case_id in ALL:
        if not select(make(fn)):
            continue
        marks = [bugs[case_id].mark()] if case_id in bugs else []
        cases.append(pytest.param(fn, make, id=case_id, marks=marks))
    return cases


def _is_scalar(value):
    return not isinstance(value, np.ndarray)


def _scalar_params(inputs):
    return [p for p in inputs.float_params if _is_scalar(inputs.values[p])]


HESSIAN_CASES = _cases(lambda inputs: bool(inputs.float_params))
TUPLE_CASES = _cases(lambda inputs: len(inputs.float_params) >= 2)
SCALAR_CASES = _cases(lambda inputs: bool(_scalar_params(inputs)), bugs=GRAD_GRAD_BUGS)
# a sample for hvp: every fifth function of each corpus
HVP_CASES = HESSIAN_CASES[::5]


# -- differences of the gradient ------------------------------------------------------------


def _fresh(values):
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()}


def _stencil(at, shifted, eps=EPS):
    """The 4-point central difference of `at` (a list of arrays) along `shifted`."""
    plus, minus = at(shifted(eps)), at(shifted(-eps))
    plus2, minus2 = at(shifted(2 * eps)), at(shifted(-2 * eps))
    return [(8 * (p - m) - (p2 - m2)) / (12 * eps)
            for p, m, p2, m2 in zip(plus, minus, plus2, minus2)]


def _gradient_at(fn, inputs, params):
    """values -> [grad_k as a float array for k in params], gradient by s2sad.grad."""
    df = s2sad.grad(fn, wrt=tuple(inputs.wrt_spec(p) for p in params))

    def at(values):
        return [np.asarray(g, dtype=float) for g in call_by_name(df, values)]
    return at


def differences_of_grad(fn, inputs, params, along):
    """d grad_k / d along for each k in params, shaped x_k.shape + x_along.shape."""
    gradient = _gradient_at(fn, inputs, params)
    x = inputs.values[along]

    def at(value):
        values = _fresh(inputs.values)
        values[along] = value
        return gradient(values)

    blocks = [np.zeros(np.shape(inputs.values[p]) + np.shape(x)) for p in params]
    for index in np.ndindex(np.shape(x)):
        def shifted(step, index=index):
            if _is_scalar(x):
                return x + step
            probe = x.copy()
            probe[index] += step
            return probe
        for block, column in zip(blocks, _stencil(at, shifted)):
            block[(Ellipsis,) + index] = column
    return blocks


def differences_along(fn, inputs, params, directions):
    """(grad(x + e v) - grad(x - e v)) / 2e, 4-point: the Hessian-vector product."""
    gradient = _gradient_at(fn, inputs, params)

    def at(step):
        values = _fresh(inputs.values)
        for p, d in zip(params, directions):
            values[p] = values[p] + step * d
        return gradient(values)
    return _stencil(at, lambda step: step)


def _direction(name, value):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if isinstance(value, np.ndarray):
        return rng.uniform(-1.0, 1.0, size=value.shape)
    return float(rng.uniform(-1.0, 1.0))


def _assert_kind(result, value, what):
    """A float for a Python float, a float64 array of the right shape for an array."""
    shape = np.shape(value) + np.shape(value)
    assert np.shape(result) == shape, f"{what}: shape {np.shape(result)}, expected {shape}"
    if type(value) is float:
        assert type(result) is float, f"{what}: {type(result).__name__} for a float"
    elif np.ndim(value) > 0:
        assert type(result) is np.ndarray and result.dtype == np.float64, \
            f"{what}: {type(result).__name__} {getattr(result, 'dtype', '')}"


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# -- small functions of the tests below --------------------------------------------------------


def cube(x):
    return np.sum(x ** 3)


def quartic(a):
    return a ** 4 + np.sin(a)


def total(A, B):
    return np.sum(A @ B)


# -- the Hessian of every corpus function ---------------------------------------------------


def test_the_corpora_are_covered():
    assert len(HESSIAN_CASES) == len(corpus.FUNCTIONS) + len(corpus_loops.FUNCTIONS)
    assert len(TUPLE_CASES) >= 50 and len(SCALAR_CASES) >= 50 and len(HVP_CASES) >= 40
    known = {p.id for p in HESSIAN_CASES} | {p.id for p in SCALAR_CASES}
    assert set(HESSIAN_BUGS) | set(GRAD_GRAD_BUGS) <= known
    # the docstring's claim: no first float parameter is large, so none is skipped
    sizes = [np.size(make(fn).values[make(fn).float_params[0]]) for fn, make, _ in ALL]
    assert max(sizes) <= 20


@pytest.mark.parametrize("fn, make_inputs", HESSIAN_CASES)
def test_hessian_matches_differences_of_grad(fn, make_inputs):
    inputs = make_inputs(fn)
    name = inputs.float_params[0]
    before = copy.deepcopy(inputs.values)
    H = s2sad.hessian(fn, wrt=inputs.wrt_spec(name))(*inputs.args, **inputs.kwargs)
    for k, v in before.items():
        np.testing.assert_array_equal(inputs.values[k], v, err_msg=f"{k} was changed")
    _assert_kind(H, inputs.values[name], f"d2/d{name}2")
    assert np.all(np.isfinite(H)), H
    [expected] = differences_of_grad(fn, inputs, [name], name)
    np.testing.assert_allclose(H, expected, rtol=RTOL, atol=ATOL)
    # a Hessian is symmetric
    size = int(np.size(inputs.values[name]))
    square = np.reshape(H, (size, size))
    np.testing.assert_allclose(square, square.T, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fn, make_inputs", TUPLE_CASES)
def test_tuple_hessian_blocks_match_differences_and_are_symmetric(fn, make_inputs):
    inputs = make_inputs(fn)
    params = inputs.float_params
    wrt = tuple(inputs.wrt_spec(p) for p in params)
    H = s2sad.hessian(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    assert type(H) is tuple and len(H) == len(params)
    for row in H:
        assert type(row) is tuple and len(row) == len(params)
    shapes = {p: np.shape(inputs.values[p]) for p in params}
    for j, along in enumerate(params):
        expected = differences_of_grad(fn, inputs, params, along)
        for i, p in enumerate(params):
            block = H[i][j]
            assert np.shape(block) == shapes[p] + shapes[along], (p, along, np.shape(block))
            np.testing.assert_allclose(block, expected[i], rtol=RTOL, atol=ATOL,
                                       err_msg=f"d grad_{p} / d {along}")
    for i, p in enumerate(params):
        for j, q in enumerate(params):
            n_p, n_q = int(np.prod(shapes[p], dtype=int)), int(np.prod(shapes[q], dtype=int))
            np.testing.assert_allclose(np.reshape(H[i][j], (n_p, n_q)),
                                       np.reshape(H[j][i], (n_q, n_p)).T,
                                       rtol=1e-9, atol=1e-9, err_msg=f"H[{p}][{q}]")


def test_tuple_hessian_of_two_scalars_is_floats():
    """Lecture 2.10, sin(a + b) / (a b): a 2x2 tuple of floats, the closed form."""
    a, b = 0.7, 1.6
    H = s2sad.hessian(corpus.lecture_sin_ratio, wrt=(0, 1))(a, b)
    assert [[type(h) for h in row] for row in H] == [[float, float], [float, float]]
    s, c, p = math.sin(a + b), math.cos(a + b), a * b
    # f = s / p;  f_a = c / p - s b / p^2, and so on
    f_aa = -s / p - 2 * c * b / p ** 2 + 2 * s * b * b / p ** 3
    f_bb = -s / p - 2 * c * a / p ** 2 + 2 * s * a * a / p ** 3
    f_ab = -s / p - c * (a + b) / p ** 2 - s / p ** 2 + 2 * s * a * b / p ** 3
    np.testing.assert_allclose([[H[0][0], H[0][1]], [H[1][0], H[1][1]]],
                               [[f_aa, f_ab], [f_ab, f_bb]], rtol=1e-12)


def test_tuple_hessian_blocks_of_a_scalar_and_arrays():
    """linear_regression_bias(w, a, X, Y): blocks of shapes (4, 4), (4,), (4, 5, 4), (), ..."""
    fn = corpus.linear_regression_bias
    inputs = inputs_for(fn)
    w, a, X, Y = inputs.args
    H = s2sad.hessian(fn, wrt=(0, 1, 2))(*inputs.args)
    shapes = [[np.shape(block) for block in row] for row in H]
    assert shapes == [[(4, 4), (4,), (4, 5, 4)],
                      [(4,), (), (5, 4)],
                      [(5, 4, 4), (5, 4), (5, 4, 5, 4)]]
    assert type(H[1][1]) is float
    # mean((X w + a - Y)^2): d2/dw2 = 2 X^T X / m, d2/da2 = 2, d2/dw da = 2 X^T 1 / m
    m = len(Y)
    np.testing.assert_allclose(H[0][0], 2 * X.T @ X / m, rtol=1e-12)
    np.testing.assert_allclose(H[1][1], 2.0, rtol=1e-12)
    np.testing.assert_allclose(H[0][1], 2 * X.sum(axis=0) / m, rtol=1e-12)
    np.testing.assert_allclose(H[1][0], H[0][1], rtol=1e-12)
    np.testing.assert_allclose(H[0][2], np.moveaxis(H[2][0], -1, 0), rtol=1e-12)
    np.testing.assert_allclose(H[1][2], H[2][1], rtol=1e-12)


@pytest.mark.parametrize("x", [np.array([0.5, 0.6]), 0.5], ids=["array", "float"])
def test_hessian_with_a_tuple_of_one(x):
    H = s2sad.hessian(cube, wrt=(0,))(x)
    assert type(H) is tuple and len(H) == 1 and type(H[0]) is tuple and len(H[0]) == 1
    np.testing.assert_allclose(H[0][0], np.diag(6 * np.atleast_1d(x)).reshape(
        np.shape(x) + np.shape(x)), rtol=1e-12)


# -- Hessian-vector products -----------------------------------------------------------------


@pytest.mark.parametrize("fn, make_inputs", HVP_CASES)
def test_hvp_is_hessian_times_v(fn, make_inputs):
    inputs = make_inputs(fn)
    name = inputs.float_params[0]
    x = inputs.values[name]
    v = _direction(f"{fn.__name__}.{name}", x)
    wrt = inputs.wrt_spec(name)
    Hv = s2sad.hvp(fn, wrt=wrt)(*inputs.args, v, **inputs.kwargs)
    assert np.shape(Hv) == np.shape(x)
    if type(x) is float:
        assert type(Hv) is float
    H = s2sad.hessian(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    size = int(np.size(x))
    expected = np.reshape(H, (size, size)) @ np.reshape(v, size)
    np.testing.assert_allclose(np.reshape(Hv, size), expected, rtol=1e-9, atol=1e-12)
    [along] = differences_along(fn, inputs, [name], [v])
    np.testing.assert_allclose(Hv, along, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fn", [corpus.linear_regression_bias, corpus.lecture_sin_ratio,
                                corpus.scalar_arctan2_hypot, corpus_loops.horner],
                         ids=lambda fn: fn.__name__)
def test_hvp_with_a_tuple(fn):
    make = loop_inputs_for if fn in corpus_loops.FUNCTIONS else inputs_for
    inputs = make(fn)
    params = inputs.float_params
    wrt = tuple(inputs.wrt_spec(p) for p in params)
    vs = tuple(_direction(f"{fn.__name__}.{p}", inputs.values[p]) for p in params)
    Hv = s2sad.hvp(fn, wrt=wrt)(*inputs.args, vs, **inputs.kwargs)
    assert type(Hv) is tuple and len(Hv) == len(params)
    H = s2sad.hessian(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    along = differences_along(fn, inputs, params, vs)
    for i, p in enumerate(params):
        assert np.shape(Hv[i]) == np.shape(inputs.values[p])
        n_i = int(np.size(inputs.values[p]))
        expected = sum(np.reshape(H[i][j], (n_i, -1)) @ np.reshape(vs[j], -1)
                       for j in range(len(params)))
        np.testing.assert_allclose(np.reshape(Hv[i], n_i), expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(Hv[i], along[i], rtol=RTOL, atol=ATOL)


def test_hvp_rejects_a_wrong_direction():
    x = np.array([0.5, 0.6, 0.7])
    with pytest.raises(s2sad.ArgumentError):
        s2sad.hvp(corpus.seed002_vector, wrt=0)(x, np.ones(4))
    with pytest.raises(s2sad.ArgumentError):
        s2sad.hvp(corpus.lecture_sin_ratio, wrt=(0, 1))(0.7, 1.6, (1.0,))


def test_hvp_with_a_tuple_of_one_returns_a_tuple():
    x = np.array([0.5, 0.6])
    Hv = s2sad.hvp(cube, wrt=(0,))(x, (np.ones(2),))
    assert type(Hv) is tuple and len(Hv) == 1
    np.testing.assert_allclose(Hv[0], 6 * x, rtol=1e-12)


# -- grad(grad(f)) ------------------------------------------------------------------------


@pytest.mark.parametrize("fn, make_inputs", SCALAR_CASES)
def test_grad_of_grad_matches_differences_of_grad(fn, make_inputs):
    inputs = make_inputs(fn)
    name = _scalar_params(inputs)[0]
    wrt = inputs.wrt_spec(name)
    x = inputs.values[name]
    before = copy.deepcopy(inputs.values)
    second = s2sad.grad(s2sad.grad(fn, wrt=wrt), wrt=wrt)(*inputs.args, **inputs.kwargs)
    for k, v in before.items():
        np.testing.assert_array_equal(inputs.values[k], v, err_msg=f"{k} was changed")
    assert type(second) is type(x), f"{type(second).__name__} for a {type(x).__name__}"
    [expected] = differences_of_grad(fn, inputs, [name], name)
    np.testing.assert_allclose(second, expected, rtol=RTOL, atol=ATOL)
    # reverse over reverse agrees with forward over reverse to rounding
    H = s2sad.hessian(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    np.testing.assert_allclose(second, H, rtol=1e-9, atol=1e-12)


CROSS = [(corpus.lecture_sin_ratio, (0.7, 1.6)),
         (corpus.scalar_power_both_active, (0.7, 1.6)),
         (corpus.scalar_arithmetic, (0.7, 1.6)),
         (corpus_loops.if_elif_else_outside_loop, None)]


@pytest.mark.parametrize("fn, args", CROSS, ids=[fn.__name__ for fn, _ in CROSS])
def test_cross_derivatives_of_two_argument_functions(fn, args):
    if args is None:
        inputs = loop_inputs_for(fn)
        args = tuple(inputs.args)
    else:
        inputs = inputs_for(fn)
        assert tuple(inputs.args[:2]) == args
    assert all(type(a) is float for a in args[:2])
    ab = s2sad.grad(s2sad.grad(fn, wrt=0), wrt=1)(*args)
    ba = s2sad.grad(s2sad.grad(fn, wrt=1), wrt=0)(*args)
    by_name = s2sad.grad(s2sad.grad(fn, wrt=inputs.positional[0]),
                         wrt=inputs.positional[1])(*args)
    assert type(ab) is float and type(ba) is float
    a_name, b_name = inputs.positional[:2]
    [expected] = differences_of_grad(fn, inputs, [a_name], b_name)
    np.testing.assert_allclose(ab, expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ba, ab, rtol=1e-10, atol=1e-12)
    assert by_name == ab
    H = s2sad.hessian(fn, wrt=(0, 1))(*args)
    np.testing.assert_allclose(H[0][1], ab, rtol=1e-10, atol=1e-12)


def test_cross_derivative_has_the_closed_form():
    """d2/da db of a ** b is a ** (b - 1) (1 + b log a)."""
    a, b = 0.7, 1.6
    ab = s2sad.grad(s2sad.grad(corpus.scalar_power_both_active, wrt=0), wrt=1)(a, b)
    assert ab == pytest.approx(a ** (b - 1) * (1 + b * math.log(a)), rel=1e-12)


def test_grad_of_grad_of_grad_is_the_third_derivative():
    third = s2sad.grad(s2sad.grad(s2sad.grad(quartic)))(0.7)
    assert type(third) is float
    assert third == pytest.approx(24 * 0.7 - math.cos(0.7), rel=1e-12)


def test_grad_of_grad_of_seed002_has_the_closed_form():
    """f = exp(u) + sin(u), u = e^x + e^2x: f'' = (e^u - sin u) u'^2 + (e^u + cos u) u''."""
    x = 0.5
    u = math.exp(x) + math.exp(2 * x)
    du = math.exp(x) + 2 * math.exp(2 * x)
    ddu = math.exp(x) + 4 * math.exp(2 * x)
    expected = (math.exp(u) - math.sin(u)) * du ** 2 + (math.exp(u) + math.cos(u)) * ddu
    for fn in (corpus.seed002, corpus.seed002_lowered):
        assert s2sad.grad(s2sad.grad(fn))(x) == pytest.approx(expected, rel=1e-12)
        assert s2sad.hessian(fn)(x) == pytest.approx(expected, rel=1e-12)
        assert s2sad.hvp(fn)(x, 2.0) == pytest.approx(2 * expected, rel=1e-12)


def test_grad_of_grad_of_a_numpy_scalar_is_a_numpy_scalar():
    """numpy_scalar_input(r, a) = sin(r) a + r^2: d2/dr2 = 2 - sin(r) a, an np.float64."""
    r, a = np.float64(0.9), 0.7
    second = s2sad.grad(s2sad.grad(corpus.numpy_scalar_input))(r, a)
    assert type(second) is np.float64
    assert second == pytest.approx(2 - math.sin(0.9) * a, rel=1e-12)


def test_unoptimized_second_derivatives_agree():
    fn = corpus_loops.horner
    inputs = loop_inputs_for(fn)
    name = _scalar_params(inputs)[0]
    wrt = inputs.wrt_spec(name)
    fast = s2sad.grad(s2sad.grad(fn, wrt=wrt), wrt=wrt)(*inputs.args)
    plain = s2sad.grad(s2sad.grad(fn, wrt=wrt, optimize=False), wrt=wrt,
                       optimize=False)(*inputs.args)
    np.testing.assert_allclose(plain, fast, rtol=1e-12)
    H = s2sad.hessian(fn, wrt=0)(*inputs.args)
    H_plain = s2sad.hessian(fn, wrt=0, optimize=False)(*inputs.args)
    np.testing.assert_allclose(H_plain, H, rtol=1e-12, atol=1e-14)


def test_grad_of_an_array_gradient_is_refused_as_non_scalar():
    A = np.arange(1.0, 13.0).reshape(3, 4) / 10
    with pytest.raises(s2sad.NonScalarOutputError):
        s2sad.grad(s2sad.grad(total, wrt=0), wrt=1)(A, A.T.copy())


# -- Rosenbrock ----------------------------------------------------------------------------


def rosenbrock(x, y):
    """The two-variable banana: (1 - x)^2 + 100 (y - x^2)^2."""
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def rosenbrock_nd(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, with slices."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_loop(x):
    """The same sum in a for loop over the indices."""
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i + 1, i + 1] += 200.0
        H[i, i + 1] -= 400.0 * x[i]
        H[i + 1, i] -= 400.0 * x[i]
    return H


def test_rosenbrock_two_variables():
    x, y = -1.2, 1.0
    H = s2sad.hessian(rosenbrock, wrt=(0, 1))(x, y)
    expected = [[1200 * x ** 2 - 400 * y + 2, -400 * x], [-400 * x, 200.0]]
    assert [[type(h) for h in row] for row in H] == [[float, float], [float, float]]
    np.testing.assert_allclose(H, expected, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(rosenbrock, wrt=0)(x, y), expected[0][0],
                               rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(s2sad.grad(rosenbrock, wrt=0), wrt=0)(x, y),
                               expected[0][0], rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(s2sad.grad(rosenbrock, wrt=0), wrt=1)(x, y),
                               expected[0][1], rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(s2sad.grad(rosenbrock, wrt="y"), wrt="y")(x, y),
                               200.0, rtol=1e-12)
    hv = s2sad.hvp(rosenbrock, wrt=(0, 1))(x, y, (1.0, -2.0))
    np.testing.assert_allclose(hv, np.array(expected) @ [1.0, -2.0], rtol=1e-12)
    # at the minimum (1, 1) the Hessian is [[802, -400], [-400, 200]]: positive definite
    H_min = np.array(s2sad.hessian(rosenbrock, wrt=(0, 1))(1.0, 1.0))
    np.testing.assert_allclose(H_min, [[802.0, -400.0], [-400.0, 200.0]], rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(H_min) > 0)


@pytest.mark.parametrize("fn", [rosenbrock_nd, rosenbrock_loop], ids=["slices", "loop"])
def test_rosenbrock_n_dimensions(fn):
    x = np.array([-1.2, 1.0, 0.8, 1.3, 0.4])
    H = s2sad.hessian(fn)(x)
    assert type(H) is np.ndarray and H.shape == (5, 5)
    np.testing.assert_allclose(H, rosenbrock_hessian(x), rtol=1e-12, atol=1e-10)
    v = np.array([0.3, -0.1, 0.7, 0.2, -0.5])
    np.testing.assert_allclose(s2sad.hvp(fn)(x, v), rosenbrock_hessian(x) @ v,
                               rtol=1e-12, atol=1e-10)
    # Newton's method from near the minimum (1, ..., 1) converges quadratically
    x = np.ones(5) + 0.01 * v
    errors = []
    for _ in range(4):
        x = x - np.linalg.solve(s2sad.hessian(fn)(x), s2sad.grad(fn)(x))
        errors.append(np.linalg.norm(x - 1.0))
    assert errors[1] < 1e-4 and errors[2] < 1e-6 and errors[3] < 1e-12, errors


# -- while loops with a break ----------------------------------------------------------------


def while_break_scalar(a):
    """Multiply-and-add until the value exceeds 4: the trip count depends on a."""
    s = a
    k = 0
    while True:
        s = s * a + 0.5
        k = k + 1
        if s > 4.0:
            break
    return s * k


def _while_break_closed_form(a):
    """while_break_scalar(a) with the trip count found numerically, then differentiated."""
    s, k = a, 0
    while True:
        s, k = s * a + 0.5, k + 1
        if s > 4.0:
            break
    # s_k = a^(k+1) + 0.5 (a^(k-1) + ... + 1)
    coeffs = np.zeros(k + 2)
    coeffs[0] = 1.0            # a^(k+1), highest power first
    coeffs[2:] = 0.5
    return k * np.polyval(np.polyder(coeffs, 2), a)


@pytest.mark.parametrize("a", [1.3, 1.1, 2.5])
def test_while_with_break_on_a_scalar(a):
    expected = _while_break_closed_form(a)
    second = s2sad.grad(s2sad.grad(while_break_scalar))(a)
    assert type(second) is float
    assert second == pytest.approx(expected, rel=1e-12)
    assert s2sad.hessian(while_break_scalar)(a) == pytest.approx(expected, rel=1e-12)
    inputs = inputs_for(while_break_scalar)
    inputs.values["a"] = a
    [fd] = differences_of_grad(while_break_scalar, inputs, ["a"], "a")
    assert second == pytest.approx(float(fd), rel=RTOL)


def test_for_loop_with_break():
    fn = corpus_loops.for_break_on_value
    inputs = loop_inputs_for(fn)
    (x,) = inputs.args
    H = s2sad.hessian(fn)(x)
    # s = sum of v * v before the first v > 1.05: 2 on those diagonal entries
    stop = next(i for i, v in enumerate(x) if v > 1.05)
    expected = np.diag([2.0 if i < stop else 0.0 for i in range(len(x))])
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)


def test_while_true_with_break_over_a_vector():
    """corpus_loops.while_break: s += x[i] ** 2 until s > 1.5, return s * x[0]."""
    fn = corpus_loops.while_break
    (x,) = loop_inputs_for(fn).args
    H = s2sad.hessian(fn)(x)
    s, stop = 0.0, 0
    while True:
        s, stop = s + x[stop] ** 2, stop + 1
        if s > 1.5:
            break
    # f = s x0, s = sum_{i < stop} x_i^2
    expected = np.zeros((len(x), len(x)))
    for i in range(stop):
        expected[i, i] += 2 * x[0]
        expected[0, i] += 2 * x[i]
        expected[i, 0] += 2 * x[i]
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)


# -- reductions whose adjoint reads ties (max/min): their gradient code differentiates --

def _logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def _row_max_energy(X):
    return np.sum(np.max(X, axis=1) ** 2) + np.sum(np.min(X, axis=0) ** 3)


def test_hessian_of_logsumexp_is_softmax_curvature():
    """Its gradient code reads np.max's ties (np.count_nonzero, np.result_type, spread)."""
    x = np.array([0.3, 1.2, -0.4, 0.8])
    p = np.exp(x - _logsumexp(x))
    np.testing.assert_allclose(s2sad.hessian(_logsumexp)(x), np.diag(p) - np.outer(p, p),
                               atol=1e-12)


def test_hessian_through_max_and_min_along_axes():
    X = np.array([[0.3, 1.2, -0.4], [0.8, -1.1, 0.5]])
    H = s2sad.hessian(_row_max_energy)(X)
    gradient = s2sad.grad(_row_max_energy)
    eps = 1e-6
    expected = np.zeros(X.shape + X.shape)
    for index in np.ndindex(X.shape):
        step = np.zeros_like(X)
        step[index] = eps
        expected[(...,) + index] = (gradient(X + step) - gradient(X - step)) / (2 * eps)
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-8)


def _kron_energy(a, b):
    return np.sum(np.kron(a, b) ** 3)


def test_a_second_derivative_through_a_helper_without_a_rule_is_refused_clearly():
    """np.kron's adjoint helper (runtime.unkron) has no rule of its own yet."""
    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        s2sad.hessian(_kron_energy)(np.array([0.5, 1.0]), np.array([2.0, 0.5]))
    assert "differentiated again" in info.value.message
    assert "s2sad.adjoint" not in info.value.hint


def _shapes_moved(A, b):
    joined = np.concatenate([np.ravel(A), b])
    rows = np.stack([b, b ** 2])
    return np.sum(joined ** 3) + np.sum(np.sin(rows)) + np.sum(np.diagonal(A) ** 3) + \
        np.sum(np.diff(A, axis=0) ** 2) + np.sum(np.pad(A, 1) ** 3)


def test_hessian_through_joins_diagonals_differences_and_padding():
    """The adjoints of these rules are helpers of generated code with rules of their own."""
    A, b = np.array([[0.5, 1.0], [2.0, 0.3]]), np.array([0.7, -0.2])
    blocks = s2sad.hessian(_shapes_moved, wrt=(0, 1))(A, b)
    gradient = s2sad.grad(_shapes_moved, wrt=(0, 1))
    inputs = [A, b]
    eps = 1e-6
    for j, x in enumerate(inputs):
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = eps
            up = [v + step if k == j else v for k, v in enumerate(inputs)]
            down = [v - step if k == j else v for k, v in enumerate(inputs)]
            for i, (g_up, g_down) in enumerate(zip(gradient(*up), gradient(*down))):
                np.testing.assert_allclose(blocks[i][j][(...,) + index],
                                           (g_up - g_down) / (2 * eps), rtol=1e-6, atol=1e-7)


# -- generated code is valid input: a template's `and` (issue 15) ------------------------------

A_SOLVE = np.array([[2.0, 0.3, 0.1], [0.2, 3.0, 0.4], [0.1, 0.5, 4.0]])


def solved_norm(b):
    x = np.linalg.solve(A_SOLVE + np.diag(b), b)
    return np.sum(x * x)


def spaced_products(x):
    c = np.linspace(0.1, 1.0, 5)
    for j in range(3):
        c[j] *= np.tanh(x * c[j + 1])
    return np.sum(c)


def _code_lines(source):
    return [line for line in source.splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("optimize", [True, False])
def test_hessian_of_a_solve_is_accepted_and_right(optimize):
    """solve's adjoint checks its operands with `and`, which the frontend refuses: the
    generated code writes it as a conditional expression."""
    gradient = s2sad.grad(solved_norm, optimize=optimize)
    assert not any(" and " in line for line in _code_lines(gradient.source))
    b = np.array([0.3, 0.7, 1.1])
    hessian = s2sad.hessian(solved_norm, optimize=optimize)(b.copy())
    central = np.stack([_stencil(lambda v: [gradient(v)], lambda s, k=k: b + s * np.eye(3)[k])[0]
                        for k in range(3)], axis=-1)
    np.testing.assert_allclose(hessian, central, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("optimize", [True, False])
def test_grad_of_grad_through_linspace_is_accepted_and_right(optimize):
    gradient = s2sad.grad(spaced_products, optimize=optimize)
    assert not any(" and " in line for line in _code_lines(gradient.source))
    second = s2sad.grad(gradient, optimize=optimize)(0.7)
    central = _stencil(lambda v: [gradient(v)], lambda s: 0.7 + s)[0]
    np.testing.assert_allclose(second, central, rtol=1e-6, atol=1e-8)


# -- grad(grad(f)) through loops that write array elements (issue 15) -------------------------

def element_products_then_sum_loop(x, v):
    """The gradient's tape holds the loop counter (tape.append(i)); the second adjoint's
    `di = di + dtape.pop()` was dropped as dead code, so every later pop was off by one."""
    c = v.copy()
    for i in range(2):
        for j in range(2):
            c[i + j] *= np.tanh(x)
    s = 0.0
    for i in range(3):
        s = s + c[i] * v[i]
    return s


def recurrence_then_new_array(x, v):
    """dC = unbroadcast(dc, C) may be dc's array; dc = unbroadcast(dc, c) kept it, and
    dc += dtape.pop() then changed dC as well."""
    c = v * 1.0
    for i in range(1, 3):
        c[i] += np.cos(x) * c[i - 1]
    C = np.zeros(3)
    for j in range(3):
        C[j] = v[j] * x
    c = c + C
    return np.sum(np.sin(c))


def element_products_then_rebound(x, v):
    """c = tape.pop() in the gradient gave c no rank when read back, so dc's element
    dd = dc[i + j] was taken for a row sharing dc's array: the second derivative was
    refused ('dc' is updated in place while 'dd' shares its array)."""
    c = v * 1.0
    for i in range(2):
        for j in range(2):
            c[i + j] *= 0.5 * np.tanh(x)
    c = c * x
    s = 0.0
    for i in range(3):
        s = s + c[i] * v[i]
    return s


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [element_products_then_sum_loop, recurrence_then_new_array,
                                element_products_then_rebound],
                         ids=lambda fn: fn.__name__)
def test_grad_of_grad_through_element_writes_in_loops(fn, optimize):
    v = np.array([-0.009958, -1.16532, -0.846081])
    x = -1.232631
    gradient = s2sad.grad(fn, optimize=optimize)
    second = s2sad.grad(gradient, optimize=optimize)(x, v.copy())
    central = _stencil(lambda value: [gradient(value, v.copy())], lambda s: x + s)[0]
    assert type(second) is float
    np.testing.assert_allclose(second, central, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(second, s2sad.hessian(fn, optimize=optimize)(x, v.copy()),
                               rtol=1e-10)


def arange_recurrence(x):
    """np.arange's rank was unknown, so the gradient's d = c[i] was taken for a row of c
    that c[i + 1] += d writes into: the second derivative was refused."""
    c = np.arange(6.0) * x + 1.0
    for i in range(3):
        c[i + 1] += c[i]
    return np.sum(c * c)


def linspace_recurrence(x):
    """The same with np.linspace (a vector for numbers at its ends)."""
    c = np.linspace(0.1, 1.0, 6)
    for i in range(3):
        d = c[i]
        c[i + 1] += d * x
    return np.sum(c * c)


def linspace_of_vectors(x, v):
    """np.linspace to a vector's ends is a matrix: its rows are not numbers."""
    c = np.linspace(0.5 * v, v, 3) * x
    for i in range(2):
        c[i + 1] += np.sin(c[i])
    return np.sum(c * c)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [arange_recurrence, linspace_recurrence],
                         ids=lambda fn: fn.__name__)
def test_grad_of_grad_of_arange_and_linspace_arrays(fn, optimize):
    x = 0.7
    gradient = s2sad.grad(fn, optimize=optimize)
    np.testing.assert_allclose(gradient(x), _stencil(lambda value: [fn(value)],
                                                     lambda s: x + s)[0], rtol=1e-6)
    second = s2sad.grad(gradient, optimize=optimize)(x)
    np.testing.assert_allclose(second, _stencil(lambda value: [gradient(value)],
                                                lambda s: x + s)[0], rtol=1e-6, atol=1e-8)


def test_linspace_between_vectors_keeps_its_rows():
    v = np.array([0.3, -0.8])
    gradient = s2sad.grad(linspace_of_vectors)
    central = _stencil(lambda value: [linspace_of_vectors(value, v)], lambda s: 0.7 + s)[0]
    np.testing.assert_allclose(gradient(0.7, v), central, rtol=1e-6)
    np.testing.assert_allclose(s2sad.hessian(linspace_of_vectors)(0.7, v),
                               _stencil(lambda value: [gradient(value, v)],
                                        lambda s: 0.7 + s)[0], rtol=1e-6)
