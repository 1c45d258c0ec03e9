"""Forms written over several lines, differentiated as one (s2sad/patterns.py).

For each form, in the spellings people write it: the gradient against central
differences at several random points (exact shape and dtype) and against autograd;
the generated adjoint is the form's own (before/after: the same function compiled with
optimize=False keeps the chain's adjoints); second order (s2sad.hessian, and the
reverse-mode Jacobian of the gradient, which reads the generated code again) agrees
with differences of the gradient. Near misses (a shift along another axis, a product
that is not a Gram product) stay exact.
"""
import types

import numpy as np
import pytest

import s2sad
from conftest import central_difference
from s2sad import patterns

anp = pytest.importorskip("autograd.numpy")
autograd = pytest.importorskip("autograd")

try:
    import scipy.linalg as scipy_linalg
except ImportError:  # (the NumPy-only install: its forms are tested without SciPy's)
    scipy_linalg = None

RNG = np.random.default_rng(19)
W44 = RNG.normal(size=(4, 4))      # a non-symmetric weight: dG is not symmetric
W35 = RNG.normal(size=(3, 5))
Y35 = np.eye(5)[[0, 3, 1]]         # one-hot targets for a cross-entropy
A55 = RNG.normal(size=(5, 5))


# -- Gram and quadratic forms ---------------------------------------------------------------

def gram_t_matmul(R):
    G = R.T @ R
    return np.sum(G * W44)


def gram_np_dot(R):
    return np.sum(np.dot(R.T, R) * W44)


def gram_method_dot(R):
    return np.sum(R.T.dot(R) * W44)


def gram_np_transpose(R):
    return np.sum(np.sin(np.transpose(R) @ R) * W44)


def gram_named_transpose(R):
    Rt = R.T
    G = np.matmul(Rt, R)
    return np.sum(G[0] * G[:, 1]) + np.sum(Rt)


def gram_outer(R):
    return np.sum((R @ R.T) * W44[:3, :3])


def gram_one_column(w, X):
    R = X @ w - 1.0
    E = R.T @ R
    return E[0, 0]


def squares_vector_matmul(r):
    return r @ r + np.sin(r[0])


def squares_vector_dot(r):
    return np.cos(np.dot(r, r))


def squares_vector_t(r):
    return np.exp(0.1 * (r.T @ r))


def squares_inner(r):
    return np.inner(r, r) * 3.0


def squares_vdot(R):
    return np.vdot(R, R)


def squares_elementwise(R):
    return np.sum(R * R)


def squares_power(R):
    return np.sum(R ** 2)


def quadratic_form(x):
    return x @ A55 @ x


def quadratic_form_both(x, A):
    """Already one product per operand (dx = dy * (x @ A) + A @ (dy * x), dA an outer
    product): no form needed, checked here with the others."""
    return np.dot(x, np.dot(A, x))


# -- softmax, log-softmax, logsumexp --------------------------------------------------------

def softmax_rows(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * W35)


def softmax_methods(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return -np.sum(Y35 * np.log(p))


def softmax_amax_positional(x):
    shifted = x - np.amax(x, 1, keepdims=True)
    e = np.exp(shifted)
    p = np.divide(e, np.sum(e, 1, keepdims=True))
    return np.sum(np.sin(p))


def softmax_mean_shift(x):
    e = np.exp(x - np.mean(x, axis=1, keepdims=True))
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * W35)


def softmax_no_shift(x):
    e = np.exp(x)
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * W35)


def softmax_vector(v):
    m = np.max(v)
    e = np.exp(v - m)
    p = e / np.sum(e)
    return p @ np.arange(1.0, 6.0)


def softmax_scalar_shift_rows(x):
    e = np.exp(x - np.max(x))
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * W35)


def softmax_other_axis(x):
    """The shift is the max over columns, the sum over rows: it does not cancel."""
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * W35)


def softmax_shift_used_again(x):
    m = np.max(x, axis=1, keepdims=True)
    e = np.exp(x - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * W35) + np.sum(m ** 2)


def log_softmax_vector(v):
    m = np.max(v)
    return np.sum(np.arange(1.0, 6.0) * (v - m - np.log(np.sum(np.exp(v - m)))))


def log_softmax_rows(x):
    z = x - np.max(x, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y35 * logp)


def log_softmax_no_shift(x):
    logp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    return np.sum(logp * W35)


def logsumexp_vector(v):
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def logsumexp_reversed(v):
    m = v.max()
    return np.log(np.sum(np.exp(v - m))) + m


def logsumexp_rows(x):
    m = np.max(x, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return np.sum(lse * np.arange(1.0, 4.0)[:, None])


def logsumexp_no_shift(v):
    return np.log(np.sum(np.exp(v))) ** 2


# -- sigmoid ------------------------------------------------------------------------------

def sigmoid_reciprocal(z):
    s = 1 / (1 + np.exp(-z))
    return np.sum(s * s)


def sigmoid_floats(z):
    return np.sum(np.log(1.0 / (np.exp(-z) + 1.0)))


def sigmoid_ratio(z):
    return np.sum(np.exp(z) / (1 + np.exp(z)) * np.arange(1.0, 6.0))


def sigmoid_tanh(z):
    return np.sum(np.cos(0.5 * (np.tanh(z / 2) + 1)))


def sigmoid_tanh_other(z):
    return np.sum((np.tanh(0.5 * z) + 1) / 2 * np.arange(1.0, 6.0))


def sigmoid_number(z):
    return 1.0 / (1.0 + np.exp(-z)) * z


def sigmoid_np_reciprocal(z):
    return np.sum(np.reciprocal(1 + np.exp(-z)) * np.arange(5.0))


def sigmoid_power(z):
    return np.sum((1.0 + np.exp(-z)) ** -1 * np.arange(5.0))


def norm_squared(r):
    return np.linalg.norm(r) ** 2


def norm_squared_and_norm(R):
    return np.linalg.norm(R) ** 2 + np.sin(np.linalg.norm(R))


def log_sigmoid_spellings(z):
    s = np.exp(z) / (1 + np.exp(z))
    t = 0.5 * (np.tanh(z / 2) + 1)
    return np.sum(np.log(s) * np.arange(5.0)) + np.sum(np.log(1.0 - t)) + np.sum(s * t)


def logistic_regression(w, X):
    p = 1 / (1 + np.exp(-(X @ w)))
    y = np.array([1.0, 0.0, 1.0])
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))


def softmax_in_place(x):
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.sum(p * W35)


def sigmoid_in_place(z):
    s = np.exp(-z)
    s += 1
    s = 1 / s
    return np.sum(s * np.arange(5.0))


def sigmoid_in_loop(h):
    for t in range(3):
        h = 1 / (1 + np.exp(-(A55 @ h)))
    return np.sum(h * np.arange(1.0, 6.0))


def softmax_in_loop(x):
    total = 0.0
    for t in range(3):
        e = np.exp(x * (t + 1) - np.max(x * (t + 1), axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        total = total + np.sum(p * W35)
    return total


def softmax_then_reassigned(x):
    for t in range(2):
        e = np.exp(x - np.max(x, axis=1, keepdims=True))
        x = e / np.sum(e, axis=1, keepdims=True) * 2.0
    return np.sum(x * W35)


def both_softmax_and_log(x):
    m = np.max(x, axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    c = np.sum(e, axis=1, keepdims=True)
    p = e / c
    logp = z - np.log(c)
    return np.sum(p * W35) - np.sum(Y35 * logp)


def ones_like_weights(x):
    w = np.ones_like(x)
    return np.sum(np.sin(x) * w)


def ones_spread(x, y):
    return np.sum((np.ones((3, 4)) * x) * y)


def inverse_and_solve(K, y):
    Kinv = np.linalg.inv(K)
    alpha = np.linalg.solve(K, y)
    return 0.5 * y @ alpha + 0.01 * np.sum(Kinv * W44)


def inverse_and_logdet(K):
    K_inv = np.linalg.inv(K)
    sign, logdet = np.linalg.slogdet(K)
    return logdet + np.trace(K_inv @ W44)


def inverse_and_det(K, Y):
    P = np.linalg.inv(K)
    return np.linalg.det(K) * np.sum(np.linalg.solve(K, Y)) + np.sum(P)


def well_conditioned(n):
    return lambda: RNG.normal(size=(n, n)) + n * np.eye(n)


def matrix(shape):
    return lambda: RNG.normal(size=shape)


# (function, argument makers, a line the pattern's adjoint contains, one only the
# chain's adjoint contains (compiled with optimize=False))
CASES = [
    (gram_t_matmul, [matrix((6, 4))], "dR = R @ (dG + dG.T)", "np.transpose(d"),
    (gram_np_dot, [matrix((6, 4))], "R @ (d", "np.transpose(d"),
    (gram_method_dot, [matrix((6, 4))], "R @ (d", "np.transpose(d"),
    (gram_np_transpose, [matrix((6, 4))], "R @ (d", "np.transpose(d"),
    (gram_named_transpose, [matrix((6, 4))], "R @ (dG + dG.T)", "dG @ R.T"),
    (gram_outer, [matrix((3, 4))], "@ R", "np.transpose(d"),
    (gram_one_column, [matrix((4, 1)), matrix((7, 4))], "dR = R @ (dE + dE.T)",
     "np.transpose(d"),
    (squares_vector_matmul, [matrix((5,))], "2 * r", None),
    (squares_vector_dot, [matrix((5,))], "dr = da * 2 * r", "dr + da * r"),
    (squares_vector_t, [matrix((5,))], "2 * r", "np.transpose(d"),
    (squares_inner, [matrix((5,))], "2 * r", None),
    (squares_vdot, [matrix((3, 4))], "2 * R", "np.ravel"),
    (squares_elementwise, [matrix((3, 4))], "dR = dsquares_elementwise * 2 * R",
     "dR + dsquares_elementwise * R"),
    (squares_power, [matrix((3, 4))], "2 * R", None),
    (quadratic_form, [matrix((5,))], None, None),
    (quadratic_form_both, [matrix((5,)), matrix((5, 5))], None, None),
    (softmax_rows, [matrix((3, 5))], "dx = p * (dp - np.sum(dp * p, axis=1, keepdims=True))",
     "tie_count"),
    (softmax_methods, [matrix((3, 5))], "axis=-1, keepdims=True))", "tie_count"),
    (softmax_amax_positional, [matrix((3, 5))], "dx = p * (dp - np.sum(dp * p, axis=1, "
     "keepdims=True))", "tie_count"),
    (softmax_mean_shift, [matrix((3, 5))], "keepdims=True))", "dc = "),
    (softmax_no_shift, [matrix((3, 5))], "dx = p * (dp - ", "de = "),
    (softmax_vector, [matrix((5,))], "dv = p * (dp - np.sum(dp * p", "tie_count"),
    (softmax_scalar_shift_rows, [matrix((3, 5))], "keepdims=True))", "tie_count"),
    (softmax_other_axis, [matrix((3, 5))], "tie_count", None),
    (softmax_shift_used_again, [matrix((3, 5))], "dx = p * (dp - ", "de = "),
    (log_softmax_vector, [matrix((5,))], "np.sum(d", "tie_count"),
    (log_softmax_rows, [matrix((3, 5))], "np.sum(dlogp, axis=1, keepdims=True)", "tie_count"),
    (log_softmax_no_shift, [matrix((3, 5))], "np.sum(dlogp, axis=1, keepdims=True)", "dc = "),
    (logsumexp_vector, [matrix((5,))], "dv = ", "tie_count"),
    (logsumexp_reversed, [matrix((5,))], "dv = ", "tie_count"),
    (logsumexp_rows, [matrix((3, 5))], "dx = ", "tie_count"),
    (logsumexp_no_shift, [matrix((5,))], "dc / b", "da = unsum"),
    (sigmoid_reciprocal, [matrix((5,))], "dz = ds * s * (1 - s)", "db = dc"),
    (sigmoid_floats, [matrix((5,))], "* (1 - ", None),
    (sigmoid_ratio, [matrix((5,))], "dz = dc * c * (1 - c)", "da = da + db"),
    (sigmoid_tanh, [matrix((5,))], "dz = dd * d * (1 - d)", "(1 - b * b)"),
    (sigmoid_tanh_other, [matrix((5,))], "dd * d * (1 - d)", "(1 - b * b)"),
    (sigmoid_number, [lambda: float(RNG.normal())], "dd * d * (1 - d)", "db = dc"),
    (sigmoid_np_reciprocal, [matrix((5,))], "dz = dd * d * (1 - d)", "dc = "),
    (sigmoid_power, [matrix((5,))], "dz = dd * d * (1 - d)", "dc = "),
    (norm_squared, [matrix((5,))], "dr = dnorm_squared * 2 * r", "np.where("),
    (norm_squared_and_norm, [matrix((3, 4))], "2 * R", None),
    (logistic_regression, [matrix((4,)), matrix((3, 4))], "da = -di * p",
     "db = dc * c"),
    (log_sigmoid_spellings, [matrix((5,))], "(1 - s)", "/ s"),
    (softmax_in_place, [matrix((3, 5))], "dx = p * (dp - np.sum(dp * p, axis=1, "
     "keepdims=True))", "tie_count"),
    (sigmoid_in_place, [matrix((5,))], "dz = ds * s * (1 - s)", None),
    (sigmoid_in_loop, [matrix((5,))], "* (1 - h)", None),
    (softmax_in_loop, [matrix((3, 5))], "keepdims=True))", "tie_count"),
    (softmax_then_reassigned, [matrix((3, 5))], None, None),
    (both_softmax_and_log, [matrix((3, 5))], "keepdims=True))", "tie_count"),
    (inverse_and_solve, [well_conditioned(4), matrix((4,))], "Kinv.T @ dalpha",
     "np.linalg.solve(np.swapaxes(K"),
    (inverse_and_logdet, [well_conditioned(4)], "K_inv.T", "np.linalg.inv(K), -1, -2)"),
    (inverse_and_det, [well_conditioned(4), matrix((4, 3))], "P.T",
     "np.linalg.inv(K), -1, -2)"),
    (ones_like_weights, [matrix((4,))], None, None),
    (ones_spread, [matrix((4,)), matrix((3, 4))], "dx = unbroadcast(db, x)", "db * a"),
]


def _id(case):
    return case[0].__name__


def _arguments(case, seed):
    global RNG
    RNG = np.random.default_rng(seed)
    return [make() for make in case[1]]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradient_matches_central_differences_at_several_points(case):
    fn = case[0]
    grad = s2sad.grad(fn, wrt=tuple(range(len(case[1]))))
    for seed in range(3):
        args = _arguments(case, seed)
        before = [np.copy(a) for a in args]
        got = grad(*args)
        for a, b in zip(args, before):
            np.testing.assert_array_equal(a, b)  # the caller's arguments unchanged
        values = dict(zip(fn.__code__.co_varnames, args))
        for k, name in enumerate(fn.__code__.co_varnames[:len(args)]):
            expected = central_difference(fn, values, name)
            assert type(got[k]) is type(args[k])
            assert np.shape(got[k]) == np.shape(args[k])
            assert np.asarray(got[k]).dtype == np.asarray(args[k]).dtype
            np.testing.assert_allclose(got[k], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradient_matches_autograd(case):
    fn = case[0]
    if fn in (gram_method_dot, squares_vdot):
        pytest.skip("autograd has no ndarray.dot on its boxes and no VJP of np.vdot")
    rebound = types.FunctionType(fn.__code__, {**fn.__globals__, "np": anp}, fn.__name__)
    args = _arguments(case, 7)
    wrt = tuple(range(len(args)))
    got = s2sad.grad(fn, wrt=wrt)(*args)
    for k in wrt:
        expected = autograd.grad(rebound, k)(*args)
        np.testing.assert_allclose(got[k], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_form_is_differentiated_as_one(case):
    """After: the form's adjoint; before (optimize=False): the chain's own."""
    fn, makers, after, before = case
    args = _arguments(case, 3)
    wrt = tuple(range(len(args)))
    optimised = s2sad.grad(fn, wrt=wrt)
    plain = s2sad.grad(fn, wrt=wrt, optimize=False)
    optimised(*args)
    plain(*args)
    if after is not None:
        assert after in optimised.source, optimised.source
    if before is not None:
        assert before not in optimised.source, optimised.source
        assert before in plain.source, plain.source


def test_float32_stays_float32():
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    for fn in (softmax_no_shift, log_softmax_rows, sigmoid_reciprocal, gram_outer):
        arg = x if fn is not sigmoid_reciprocal else x[0]
        got = s2sad.grad(fn)(arg)
        assert got.dtype == np.float32 and got.shape == arg.shape


SECOND_ORDER = [gram_t_matmul, gram_outer, squares_vector_dot, softmax_rows, softmax_vector,
                log_softmax_rows, logsumexp_vector, sigmoid_reciprocal, sigmoid_tanh,
                sigmoid_ratio, both_softmax_and_log, inverse_and_logdet, log_sigmoid_spellings]


@pytest.mark.parametrize("fn", SECOND_ORDER, ids=lambda f: f.__name__)
def test_second_order(fn):
    """hessian (forward over the generated gradient), the reverse-mode Jacobian of the
    gradient (patterns read again in generated code), and differences of the gradient."""
    case = next(c for c in CASES if c[0] is fn)
    x = _arguments(case, 5)[0]
    grad = s2sad.grad(fn)
    hessian = s2sad.hessian(fn)(x)
    jacobian = s2sad.jacobian(grad, mode="reverse")(x)
    eps = 1e-5
    differences = np.zeros(x.shape + x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        differences[(Ellipsis,) + i] = (grad(up) - grad(down)) / (2 * eps)
    assert hessian.shape == x.shape + x.shape
    np.testing.assert_allclose(hessian, differences, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jacobian, hessian, rtol=1e-9, atol=1e-12)


def test_no_form_without_known_ranks():
    """The source shown before any call (ranks unknown): a Gram product keeps the
    general rule, whose adjoint is right for every rank; a call's code takes the form."""
    shown = s2sad.source(gram_t_matmul)
    assert "dG + dG.T" not in shown
    grad = s2sad.grad(gram_t_matmul)
    grad(np.ones((3, 4)))
    assert "dR = R @ (dG + dG.T)" in grad.source


def test_a_form_marked_for_one_rank_is_not_reused_for_another():
    """R.T @ R of a matrix (a Gram product) and of a vector (a sum of squares), from one
    function compiled twice."""
    def f(R):
        return np.sum(np.sin(R.T @ R))
    grad = s2sad.grad(f)
    matrix_, vector = np.arange(6.0).reshape(3, 2) / 7, np.arange(3.0) / 7
    for arg in (matrix_, vector, matrix_):
        values = {"R": arg}
        np.testing.assert_allclose(grad(arg), central_difference(f, values, "R"),
                                   rtol=1e-6, atol=1e-8)


# -- a Cholesky factor's uses: solves and the log-determinant from the forward's factor -------

X6 = np.linspace(-1.0, 1.0, 6)


def gp_from_hyperparameters(theta, y):
    K = np.exp(theta[0]) * np.exp(-0.5 * (X6[:, None] - X6[None, :]) ** 2 / np.exp(theta[1]))
    K = K + np.exp(theta[2]) * np.eye(6)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def gp_of_the_matrix(K, y):
    """K itself differentiated: cholesky reads its lower triangle (the gradient lands
    there, as central differences of the call see it)."""
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)
    alpha = np.linalg.solve(L.T, z)
    return np.sum(np.sin(alpha)) + 2 * np.log(np.diagonal(L)).sum()


def gp_matrix_targets(K, Y):
    L = np.linalg.cholesky(K)
    A = np.linalg.solve(np.transpose(L), np.linalg.solve(L, Y))
    return np.sum(A * Y)


def gp_scipy_cho_solve(K, y):
    L = scipy_linalg.cholesky(K, lower=True)
    alpha = scipy_linalg.cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def gp_scipy_triangular(K, y):
    L = np.linalg.cholesky(K)
    z = scipy_linalg.solve_triangular(L, y, lower=True)
    alpha = scipy_linalg.solve_triangular(L.T, z)
    beta = scipy_linalg.solve_triangular(L, z, trans="T", lower=True)
    return 0.5 * y @ alpha + np.log(np.diag(L)).sum() + np.sum(np.cos(beta))


def gp_wrong_triangle(K, y):
    """solve_triangular told the wrong triangle of L.T: not a solve with the factor (the
    general rules differentiate what it computes)."""
    L = np.linalg.cholesky(K)
    z = scipy_linalg.solve_triangular(L, y, lower=True)
    return np.sum(np.sin(scipy_linalg.solve_triangular(L.T, z, lower=True)))


def spd(n):
    def make():
        a = RNG.normal(size=(n, n))
        return a @ a.T + n * np.eye(n) + np.triu(RNG.normal(size=(n, n)), 1)  # (upper: unread)
    return make


CHOLESKY_CASES = [
    (gp_from_hyperparameters, [matrix((3,)), matrix((6,))]),
    (gp_of_the_matrix, [spd(5), matrix((5,))]),
    (gp_matrix_targets, [spd(4), matrix((4, 2))]),
]
if scipy_linalg is not None:
    CHOLESKY_CASES += [(gp_scipy_cho_solve, [spd(5), matrix((5,))]),
                       (gp_scipy_triangular, [spd(5), matrix((5,))])]


@pytest.fixture(params=["scipy", "numpy"])
def factor_rules(request):
    """The forms' rules with SciPy's triangular solves, and rules/linalg.py's NumPy-only
    ones (what an install without SciPy uses)."""
    from s2sad import patterns, rules
    from s2sad.rules import linalg as numpy_rules
    saved = {k: rules.REGISTRY[k] for k in (patterns.cholesky_solve, patterns.cholesky_logdet)}
    if request.param == "numpy":
        rules.adjoint(patterns.cholesky_solve)(numpy_rules.cholesky_solve_adjoint)
        rules.adjoint(patterns.cholesky_logdet)(numpy_rules.cholesky_logdet_adjoint)
    s2sad.api._CACHE.clear()
    yield request.param
    rules.REGISTRY.update(saved)
    s2sad.api._CACHE.clear()


@pytest.mark.parametrize("case", CHOLESKY_CASES, ids=_id)
def test_cholesky_forms_match_central_differences(case, factor_rules):
    fn = case[0]
    grad = s2sad.grad(fn, wrt=(0, 1))
    for seed in range(3):
        args = _arguments(case, seed)
        got = grad(*args)
        values = dict(zip(fn.__code__.co_varnames, args))
        for k, name in enumerate(fn.__code__.co_varnames[:2]):
            assert got[k].shape == args[k].shape and got[k].dtype == np.float64
            np.testing.assert_allclose(got[k], central_difference(fn, values, name),
                                       rtol=1e-5, atol=1e-7)
    source = grad.source
    assert "np.linalg.inv(" not in source.split("adjoint of line")[-1] or \
        factor_rules == "numpy"
    assert "np.tril(" in source  # (the forms' fold, not cholesky's adjoint:)
    assert "np.swapaxes(np.swapaxes(" not in source and "@ dL" not in source


def gp_wrong_order(K, y):
    """L^-1 L^-T y = (L.T L)^-1 y: not A^-1 y."""
    L = np.linalg.cholesky(K)
    return np.sum(np.sin(np.linalg.solve(L, np.linalg.solve(L.T, y))))


@pytest.mark.parametrize("fn", [gp_wrong_order] + ([gp_wrong_triangle] if scipy_linalg else []),
                         ids=lambda f: f.__name__)
def test_near_misses_of_a_solve_with_the_factor_are_not_forms(fn):
    args = _arguments((fn, [spd(5), matrix((5,))]), 4)
    grad = s2sad.grad(fn, wrt=(0, 1))
    got = grad(*args)
    values = dict(zip(("K", "y"), args))
    for k, name in enumerate(("K", "y")):
        np.testing.assert_allclose(got[k], central_difference(fn, values, name),
                                   rtol=1e-5, atol=1e-7)
    assert "dL" in grad.source  # (cholesky's own adjoint)


def test_cholesky_forms_against_autograd():
    case = CHOLESKY_CASES[0]
    fn = case[0]
    rebound = types.FunctionType(fn.__code__, {**fn.__globals__, "np": anp}, fn.__name__)
    args = _arguments(case, 11)
    np.testing.assert_allclose(s2sad.grad(fn)(*args), autograd.grad(rebound)(*args),
                               rtol=1e-9, atol=1e-12)


def test_cholesky_forms_skip_cholesky_adjoint():
    """Before: L's adjoint (np.linalg.inv(L), three products); after: none of it."""
    args = _arguments(CHOLESKY_CASES[0], 1)
    after = s2sad.grad(gp_from_hyperparameters)
    before = s2sad.grad(gp_from_hyperparameters, optimize=False)
    after(*args)
    before(*args)
    assert "dL" not in after.source and "dL" in before.source


def test_cholesky_forms_second_order():
    case = CHOLESKY_CASES[0]
    theta = _arguments(case, 2)[0]
    y = _arguments(case, 2)[1]
    grad = s2sad.grad(gp_from_hyperparameters)
    hessian = s2sad.hessian(gp_from_hyperparameters)(theta, y)
    eps = 1e-5
    differences = np.array([(grad(theta + eps * e, y) - grad(theta - eps * e, y)) / (2 * eps)
                            for e in np.eye(3)]).T
    np.testing.assert_allclose(hessian, differences, rtol=1e-5, atol=1e-7)
    jacobian = s2sad.jacobian(grad, mode="reverse")(theta, y)
    np.testing.assert_allclose(jacobian, hessian, rtol=1e-8, atol=1e-10)


# -- what is not a form: intermediates written into, ones that are not all ones, shifts
# that add axes (found by the issue 19 adversary; each would give a wrong gradient) ------

def softmax_entry_written(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    e[:, 0] = 0.25
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * W35)


def sigmoid_denominator_written(z):
    d = 1 + np.exp(-z)
    d[2] = 3.0
    return np.sum(np.arange(5.0) * (1 / d))


def log_softmax_input_written(x):
    z = x - np.max(x)
    e = np.exp(z)
    np.copyto(z, z * 2.0)
    return np.sum((z - np.log(np.sum(e))) * np.arange(5.0))


def gram_operand_written(R):
    R = R.copy()
    Rt = R.T
    R[0, 0] = 1.0
    return np.sum((Rt @ R) * W44)


def cholesky_factor_written(K, y):
    L = np.linalg.cholesky(K)
    L[1, 0] = 0.5
    return np.sum(np.linalg.solve(L.T, np.linalg.solve(L, y)))


def ones_masked(x):
    m = np.ones_like(x)
    m[0] = 0.0
    return np.sum(np.sin(x * m))


def ones_doubled_in_a_loop(x):
    w = np.ones(5)
    t = 0.0
    for i in range(3):
        t = t + np.sum(np.sin(w * x))
        w[...] = w * 2.0
    return t


def ones_aliased(x):
    w = np.ones(5)
    v = w[1:]
    v[0] = 4.0
    return np.sum(np.sin(x * w))


def softmax_shift_adds_axes(x, Y):
    m = np.max(Y, axis=1, keepdims=True)
    e = np.exp(x - m)
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * Y)


NOT_FORMS = [
    (softmax_entry_written, [matrix((3, 5))]),
    (sigmoid_denominator_written, [matrix((5,))]),
    (log_softmax_input_written, [matrix((5,))]),
    (cholesky_factor_written, [spd(4), matrix((4,))]),
    (ones_masked, [matrix((5,))]),
    (ones_doubled_in_a_loop, [matrix((5,))]),
    (softmax_shift_adds_axes, [matrix((5,)), matrix((3, 5))]),
]


@pytest.mark.parametrize("case", NOT_FORMS, ids=_id)
def test_what_is_not_a_form_keeps_the_chain(case):
    fn = case[0]
    args = _arguments(case, 6)
    wrt = tuple(range(len(args)))
    got = s2sad.grad(fn, wrt=wrt)(*args)
    values = dict(zip(fn.__code__.co_varnames, args))
    for k in wrt:
        name = fn.__code__.co_varnames[k]
        np.testing.assert_allclose(got[k], central_difference(fn, values, name),
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn", [gram_operand_written, ones_aliased], ids=lambda f: f.__name__)
def test_an_array_written_through_a_view_is_refused_or_exact(fn):
    """R written after R.T is taken (a view of it), ones written through a slice: the
    primal's own semantics, which s2sad differentiates exactly or refuses (the aliasing
    check); never a form's adjoint."""
    case = (fn, [matrix((6, 4))] if fn is gram_operand_written else [matrix((5,))])
    args = _arguments(case, 2)
    try:
        got = s2sad.grad(fn)(*args)
    except s2sad.S2SADError as error:
        assert "shares its array" in str(error)
        return
    name = fn.__code__.co_varnames[0]
    np.testing.assert_allclose(got, central_difference(fn, {name: args[0]}, name),
                               rtol=1e-5, atol=1e-7)


# -- the forms' functions called directly ----------------------------------------------------

def calls_the_self_contained_forms(x):
    return np.sum(patterns.softmax(x, axis=1) * W35) + np.sum(patterns.sigmoid(x) ** 3) + \
        np.sum(patterns.gram(x) * A55) + \
        np.sum(patterns.gram_outer(x) * W44[:3, :3]) + patterns.sum_of_squares(x)


def test_the_self_contained_forms_called_directly():
    """softmax, sigmoid, gram, gram_outer and sum_of_squares are what they say for any
    argument: a program may call them, and their rules differentiate the call."""
    x = _arguments((None, [matrix((3, 5))]), 8)[0]
    got = s2sad.grad(calls_the_self_contained_forms)(x)
    np.testing.assert_allclose(
        got, central_difference(calls_the_self_contained_forms, {"x": x}, "x"),
        rtol=1e-6, atol=1e-8)


def calls_a_marking_form(x, e, c):
    return np.sum(patterns.log_softmax(x, e, c, axis=1))


def test_a_form_whose_rule_rests_on_the_matched_lines_is_not_called():
    x = np.ones((2, 3))
    with pytest.raises(patterns.FormOnly, match="not called"):
        s2sad.grad(calls_a_marking_form)(x, x, x)
