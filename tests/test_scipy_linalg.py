"""Linear algebra end to end (issue 18): Gaussian-process marginal likelihoods through
cho_factor/cho_solve, cholesky + solve_triangular and slogdet + solve; least squares
through lu_factor/lu_solve; a matrix-exponential propagator; losses reading eigenvectors
and singular vectors; @ over broadcast stacks, np.dot and np.tensordot above 2-d.

Each program: the gradient (reverse mode) against central differences, the directional
derivative (forward mode) against the gradient, the Hessian against differences of the
gradient, and autograd's gradient where autograd has every function the program calls.
SciPy is spelled as users import it: `import scipy.linalg as sla`, `from scipy import
linalg`, `from scipy.linalg import cho_factor, cho_solve`.
"""
import numpy as np
import pytest

pytest.importorskip("scipy.linalg")

import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import autograd.scipy.linalg as asla  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.linalg as sla  # noqa: E402
from scipy import linalg  # noqa: E402
from scipy.linalg import cho_factor, cho_solve, lu_factor, lu_solve  # noqa: E402

import s2sad  # noqa: E402
from s2sad.check import numeric_grad  # noqa: E402

RNG = np.random.default_rng(18)
X = RNG.uniform(-1.0, 1.0, size=(5, 2))
Y = np.sin(3 * X[:, 0]) + 0.1 * RNG.normal(size=5)
THETA = np.array([0.1, -0.2, -1.0])  # log lengthscale, log signal variance, log noise


def kernel(theta, X):
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return np.exp(theta[1]) * np.exp(-0.5 * sq / np.exp(2 * theta[0])) + \
        np.exp(theta[2]) * np.eye(X.shape[0])


# -- programs -----------------------------------------------------------------------------

def gp_nll_cho_pair(theta, X, y):
    K = kernel(theta, X)
    c, low = cho_factor(K)
    alpha = cho_solve((c, low), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(c)))


def gp_nll_cho_tuple_lower(theta, X, y):
    K = kernel(theta, X)
    cf = sla.cho_factor(K, lower=True)
    alpha = sla.cho_solve(cf, y)
    return 0.5 * np.dot(y, alpha) + np.sum(np.log(np.diag(cf[0])))


def gp_nll_cholesky_triangular(theta, X, y):
    K = kernel(theta, X)
    L = linalg.cholesky(K, lower=True)
    z = linalg.solve_triangular(L, y, lower=True)
    alpha = linalg.solve_triangular(L, z, lower=True, trans="T")
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def gp_nll_upper_cholesky(theta, X, y):
    U = sla.cholesky(kernel(theta, X))  # K = U.T @ U
    z = sla.solve_triangular(U, y, trans=1)
    return 0.5 * z @ z + np.sum(np.log(np.diag(U)))


def gp_nll_numpy_cholesky_cho_solve(theta, X, y):
    """A NumPy factor handed to SciPy's cho_solve as a literal pair, spelled in full."""
    L = np.linalg.cholesky(kernel(theta, X))
    alpha = scipy.linalg.cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diagonal(L)))


def gp_nll_slogdet_solve(theta, X, y):
    K = kernel(theta, X)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ np.linalg.solve(K, y) + 0.5 * logdet


def gp_nll_solve_pos(theta, X, y):
    K = kernel(theta, X)
    return 0.5 * y @ sla.solve(K, y, assume_a="pos") + 0.5 * np.log(sla.det(K))


A_LS = RNG.normal(size=(4, 4)) + 3 * np.eye(4)
B_LS = RNG.normal(size=(4, 2))


def lu_least_squares(A, B):
    """Normal equations solved through one LU factorisation, used twice."""
    factors = lu_factor(A.T @ A + 0.5 * np.eye(4))
    W = lu_solve(factors, A.T @ B)
    V = lu_solve(factors, B, trans=1)
    return np.sum((A @ W - B) ** 2) + 0.1 * np.sum(V ** 2)


GENERATOR = np.array([[-1.0, 0.6, 0.4], [0.3, -0.8, 0.5], [0.2, 0.2, -0.4]])


def propagator_loss(rates, x0):
    """x(t) = expm(t Q) x0 for a rate matrix Q; the squared distance to a target."""
    Q = GENERATOR * np.exp(rates)
    Q = Q - np.diag(np.sum(Q, axis=1))
    x1 = sla.expm(0.7 * Q) @ x0
    x2 = linalg.expm(1.3 * Q) @ x1
    return np.sum((x2 - np.array([0.2, 0.3, 0.5])) ** 2) + np.sum(x1 ** 2)


def eigh_loss(A):
    """Eigenvalues and eigenvectors (sign-invariant: squares of their entries)."""
    S = A + A.T + np.diag(np.arange(4.0)) * 3
    w, V = np.linalg.eigh(S)
    return np.sum(w ** 2) * 0.1 + np.sum(V[:, 0] ** 2 * np.arange(4.0)) + \
        np.sum((V[:, -1] * V[:, 1]) ** 2)


def scipy_eigh_loss(A):
    w, V = sla.eigh(A @ A.T + np.diag([1.0, 3.0, 6.0]), lower=False)
    top = V[:, -1]
    return np.sum(top ** 2 * np.array([1.0, 2.0, 3.0])) + np.log(w[0]) + \
        np.sum(sla.eigh(A + A.T, eigvals_only=True) ** 2)


def svd_loss(A):
    """U and Vh through sign-invariant products (columns of U times rows of Vh)."""
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    rank_one = np.outer(U[:, 0], Vh[0])
    return np.sum(rank_one * np.arange(12.0).reshape(4, 3)) * s[0] + \
        np.sum((U[:, 1] * np.arange(4.0)) ** 2) + np.sum(s ** 3)


def svd_full_square_loss(A):
    U, s, Vh = np.linalg.svd(A @ A.T + A)
    return np.sum((U[:, 0] * np.arange(3.0)) ** 2) + np.sum((Vh[1] * Vh[2]) ** 2)


def sqrtm_sylvester_loss(A, Q):
    R = sla.sqrtm(A @ A.T + 2 * np.eye(3))
    X = sla.solve_sylvester(A + 4 * np.eye(3), R, Q)
    return np.sum(X ** 2) + np.trace(R)


def banded_smoother(log_lam, y):
    """A penalised smoother: (I + lam D.T D) x = y, D the second difference (a band of 2)."""
    lam = np.exp(log_lam)
    n = y.shape[0]
    ab = np.zeros((5, n))
    ab[0, 2:] = lam
    ab[1, 1:] = -4 * lam
    ab[2] = 1 + 6 * lam
    ab[3, :-1] = -4 * lam
    ab[4, :-2] = lam
    x = sla.solve_banded((2, 2), ab, y)
    return np.sum((x - y) ** 2) + np.sum(np.diff(x, 2) ** 2)


def tridiagonal_band(ab, b):
    return np.sum(np.sin(linalg.solve_banded((1, 1), ab, b)))


def linear_regression_by_lstsq(X, y):
    """Least squares three ways: lstsq's solution and residuals, and the QR solve."""
    w, residuals, rank, sv = np.linalg.lstsq(X, y, rcond=None)
    Q, R = np.linalg.qr(X)
    w_qr = sla.solve_triangular(R, Q.T @ y)
    return np.sum(w ** 2) + residuals[0] + np.sum((w_qr - w) ** 2) * 1e3 + np.sum(sv)


def markov_chain_power(P_raw):
    """The distribution after five steps of a chain, from a row-softmax transition matrix."""
    P = np.exp(P_raw) / np.sum(np.exp(P_raw), axis=1, keepdims=True)
    p5 = np.array([1.0, 0.0, 0.0]) @ np.linalg.matrix_power(P, 5)
    return np.sum(p5 * np.array([0.0, 1.0, 2.0]))


def stacks_loss(a, b):
    """@ over broadcast stacks, np.dot and np.tensordot above 2-d."""
    c = a @ b                                  # (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2)
    d = np.dot(c, np.arange(2.0))              # (2, 5, 3)
    e = np.tensordot(c, b, axes=([1, 3], [0, 2]))  # (2, 3, 4)
    return np.sum(np.sin(d)) + np.sum(e ** 2) * 0.01 + np.sum(np.inner(2.0, d))


PROGRAMS = [
    (gp_nll_cho_pair, (THETA, X, Y)),
    (gp_nll_cho_tuple_lower, (THETA, X, Y)),
    (gp_nll_cholesky_triangular, (THETA, X, Y)),
    (gp_nll_upper_cholesky, (THETA, X, Y)),
    (gp_nll_numpy_cholesky_cho_solve, (THETA, X, Y)),
    (gp_nll_slogdet_solve, (THETA, X, Y)),
    (gp_nll_solve_pos, (THETA, X, Y)),
    (lu_least_squares, (A_LS, B_LS)),
    (propagator_loss, (np.array([[0.1, -0.3, 0.2], [0.0, 0.4, -0.1], [0.3, 0.1, 0.0]]),
                       np.array([0.5, 0.3, 0.2]))),
    (eigh_loss, (RNG.normal(size=(4, 4)),)),
    (scipy_eigh_loss, (RNG.normal(size=(3, 3)),)),
    (svd_loss, (RNG.normal(size=(4, 3)),)),
    (svd_full_square_loss, (RNG.normal(size=(3, 3)),)),
    (sqrtm_sylvester_loss, (RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3)))),
    (banded_smoother, (np.array(-0.5), np.sin(np.arange(6.0)))),
    (tridiagonal_band, (RNG.normal(size=(3, 5)) + [[0.0], [4.0], [0.0]], RNG.normal(size=5))),
    (linear_regression_by_lstsq, (RNG.normal(size=(6, 3)), RNG.normal(size=6))),
    (markov_chain_power, (RNG.normal(size=(3, 3)),)),
    (stacks_loss, (RNG.normal(size=(2, 1, 3, 4)), RNG.normal(size=(5, 4, 2)))),
]
IDS = [fn.__name__ for fn, _ in PROGRAMS]
ARGS = dict(zip(IDS, (args for _, args in PROGRAMS)))


def _hessian_by_differences(fn, args, eps=1e-5):
    x = np.asarray(args[0], dtype=float)
    gradient = s2sad.grad(fn)
    rows = []
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        rows.append((gradient(x + step, *args[1:]) - gradient(x - step, *args[1:])) / (2 * eps))
    return np.stack(rows).reshape(x.shape + x.shape)


@pytest.mark.parametrize("fn, args", PROGRAMS, ids=IDS)
def test_gradient_matches_central_differences(fn, args):
    g = s2sad.grad(fn)(*args)
    assert g.shape == np.shape(args[0]) and g.dtype == np.float64
    np.testing.assert_allclose(g, numeric_grad(fn, args, 0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn, args", PROGRAMS, ids=IDS)
def test_forward_mode_agrees_with_the_gradient(fn, args):
    v = np.random.default_rng(1).uniform(-1, 1, size=np.shape(args[0]))
    value, derivative = s2sad.jvp(fn)(*args, v)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12)
    np.testing.assert_allclose(derivative, np.sum(s2sad.grad(fn)(*args) * v),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fn, args", PROGRAMS, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(fn, args):
    H = s2sad.hessian(fn)(*args)
    assert H.shape == 2 * np.shape(args[0])
    np.testing.assert_allclose(H, _hessian_by_differences(fn, args), rtol=1e-5, atol=1e-6)


# one call of each rule, to second order (the programs above cover them in context)
WELL = np.eye(3) * 3
B3 = np.array([0.3, -0.5, 0.8])
SECOND_ORDER = [
    lambda a: np.sum(np.sin(sla.solve_triangular(a + WELL, B3, lower=True, trans=1))),
    lambda a: np.sum(np.sin(sla.solve_triangular(a + WELL, B3, unit_diagonal=True))),
    lambda a: np.sum(np.sin(sla.cholesky(a @ a.T + WELL))),
    lambda a: np.sum(np.sin(sla.cho_factor(a + WELL, lower=True)[0])),
    lambda a: np.sum(np.sin(cho_solve(cho_factor(a @ a.T + WELL), B3))),
    lambda a: np.sum(np.sin(lu_factor(a + WELL)[0])),
    lambda a: np.sum(np.sin(sla.lu(a + WELL)[2])) + np.sum(np.sin(sla.lu(a + WELL)[1])),
    lambda a: np.sum(np.sin(sla.lu(a + WELL, permute_l=True)[0])),
    lambda a: np.sum(np.sin(lu_solve(lu_factor(a + WELL), B3, trans=1))),
    lambda a: np.sum(np.sin(sla.solve(a + WELL, B3, assume_a="sym", lower=True))),
    lambda a: np.sum(np.sin(sla.solve(a + WELL, B3, transposed=True))),
    lambda a: np.sum(np.sin(sla.inv(a + WELL))),
    lambda a: np.sin(sla.det(a + WELL)),
    lambda a: np.sum(np.sin(sla.expm(a))),
    lambda a: np.sum(np.sin(sla.logm(a + WELL))),
    lambda a: np.sum(np.sin(sla.sqrtm(a + WELL))),
    lambda a: np.sum(np.sin(sla.solve_sylvester(a + WELL, a.T + WELL, a))),
    lambda a: np.sum(np.sin(sla.eigh(a + a.T + np.diag([0.0, 4.0, 8.0]))[1]) ** 2),
    lambda a: np.sum(np.sin(sla.eigh(a + np.diag([0.0, 4.0, 8.0]), eigvals_only=True))),
    lambda a: np.sum(np.sin(np.linalg.eigvalsh(a + np.diag([0.0, 4.0, 8.0]), "U"))),
    lambda a: np.sum(np.sin(np.linalg.eigh(a + np.diag([0.0, 4.0, 8.0]))[1] ** 2)),
    lambda a: np.sum(np.sin(np.linalg.cholesky(a + WELL, upper=True))),
    lambda a: np.sum(np.sin(np.linalg.svd(a, full_matrices=False)[0] ** 2)),
    lambda a: np.sum(np.sin(np.linalg.svd(a)[2] ** 2)),
    lambda a: np.sum(np.sin(np.linalg.svd(a, compute_uv=False))),
    lambda a: np.sum(np.sin(sla.solve_banded((1, 1), a + [[0.0], [4.0], [0.0]], B3))),
    lambda a: np.sum(np.sin(np.linalg.lstsq(a[:, :2], B3, rcond=None)[0])),
    lambda a: np.sum(np.linalg.qr(a)[0] ** 2 * np.arange(3.0)) + np.sum(np.linalg.qr(a)[1]),
    lambda a: np.sum(np.sin(np.linalg.matrix_power(a, 3))),
    lambda a: np.sum(np.sin(sla.eigvalsh(a + np.diag([0.0, 4.0, 8.0]), lower=False))),
    lambda a: np.sum(sla.svdvals(a) ** 3) + np.sum(sla.pinv(a) ** 2),
    lambda a: np.sum(np.sin(sla.svd(a)[0]) ** 2),
]


@pytest.mark.parametrize("fn", SECOND_ORDER, ids=[str(k) for k in range(len(SECOND_ORDER))])
def test_each_rule_to_second_order(fn):
    a = np.random.default_rng(3).uniform(-0.8, 0.8, size=(3, 3))
    np.testing.assert_allclose(s2sad.grad(fn)(a), numeric_grad(fn, (a,), 0), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(s2sad.hessian(fn)(a), _hessian_by_differences(fn, (a,)),
                               rtol=1e-5, atol=1e-6)


def test_every_input_of_a_two_argument_program():
    for index in (0, 1):
        g = s2sad.grad(lu_least_squares, wrt=index)(A_LS, B_LS)
        np.testing.assert_allclose(g, numeric_grad(lu_least_squares, (A_LS, B_LS), index),
                                   rtol=1e-6, atol=1e-8)
    args = (RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3)))
    gq = s2sad.grad(sqrtm_sylvester_loss, wrt=1)(*args)
    np.testing.assert_allclose(gq, numeric_grad(sqrtm_sylvester_loss, args, 1),
                               rtol=1e-6, atol=1e-8)
    stacks = ARGS["stacks_loss"]
    gb = s2sad.grad(stacks_loss, wrt=1)(*stacks)
    np.testing.assert_allclose(gb, numeric_grad(stacks_loss, stacks, 1), rtol=1e-6, atol=1e-8)


# -- autograd, where it has the functions ------------------------------------------------------

def _autograd_kernel(theta, X):
    sq = anp.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return anp.exp(theta[1]) * anp.exp(-0.5 * sq / anp.exp(2 * theta[0])) + \
        anp.exp(theta[2]) * anp.eye(X.shape[0])


def _autograd_gp_triangular(theta, X, y):
    L = anp.linalg.cholesky(_autograd_kernel(theta, X))
    z = asla.solve_triangular(L, y, lower=True)
    alpha = asla.solve_triangular(L, z, lower=True, trans="T")
    return 0.5 * anp.dot(y, alpha) + anp.sum(anp.log(anp.diag(L)))


def _autograd_gp_slogdet(theta, X, y):
    K = _autograd_kernel(theta, X)
    return 0.5 * anp.dot(y, anp.linalg.solve(K, y)) + 0.5 * anp.linalg.slogdet(K)[1]


def _autograd_eigh_loss(A):
    w, V = anp.linalg.eigh(A + A.T + anp.diag(anp.arange(4.0)) * 3)
    return anp.sum(w ** 2) * 0.1 + anp.sum(V[:, 0] ** 2 * anp.arange(4.0)) + \
        anp.sum((V[:, -1] * V[:, 1]) ** 2)


def _autograd_svd_loss(A):
    U, s, Vh = anp.linalg.svd(A, full_matrices=False)
    rank_one = anp.outer(U[:, 0], Vh[0])
    return anp.sum(rank_one * anp.arange(12.0).reshape(4, 3)) * s[0] + \
        anp.sum((U[:, 1] * anp.arange(4.0)) ** 2) + anp.sum(s ** 3)


def _autograd_tridiagonal_band(ab, b):
    return anp.sum(anp.sin(asla.solve_banded((1, 1), ab, b)))


def _autograd_sqrtm_sylvester(A, Q):
    R = asla.sqrtm(anp.dot(A, A.T) + 2 * anp.eye(3))
    X = asla.solve_sylvester(A + 4 * anp.eye(3), R, Q)
    return anp.sum(X ** 2) + anp.trace(R)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("ours, theirs, args", [
    (gp_nll_cholesky_triangular, _autograd_gp_triangular, (THETA, X, Y)),
    (gp_nll_cho_pair, _autograd_gp_triangular, (THETA, X, Y)),
    (gp_nll_slogdet_solve, _autograd_gp_slogdet, (THETA, X, Y)),
    (eigh_loss, _autograd_eigh_loss, ARGS["eigh_loss"]),
    (svd_loss, _autograd_svd_loss, ARGS["svd_loss"]),
    (sqrtm_sylvester_loss, _autograd_sqrtm_sylvester, ARGS["sqrtm_sylvester_loss"]),
    (tridiagonal_band, _autograd_tridiagonal_band, ARGS["tridiagonal_band"]),
], ids=["cholesky_triangular", "cho_factor_vs_cholesky", "slogdet_solve", "eigh", "svd",
        "sqrtm_sylvester", "solve_banded"])
def test_gradient_agrees_with_autograd(ours, theirs, args):
    np.testing.assert_allclose(ours(*args), theirs(*args), rtol=1e-10)
    np.testing.assert_allclose(s2sad.grad(ours)(*args), autograd.grad(theirs)(*args),
                               rtol=1e-7, atol=1e-9)


# -- the triangle a factorisation reads -------------------------------------------------------

def test_gradient_lands_on_the_triangle_read():
    """cholesky(K, lower=True) reads K's lower triangle: the upper one gets no gradient,
    and the lower one what central differences of the call see."""
    def f(K):
        return np.sum(np.sin(sla.cholesky(K, lower=True)))

    K = np.array([[2.0, 0.7, 0.1], [0.3, 1.5, 0.2], [0.4, -0.1, 1.8]])
    g = s2sad.grad(f)(K)
    assert np.all(np.triu(g, 1) == 0)
    np.testing.assert_allclose(g, numeric_grad(f, (K,), 0), rtol=1e-6, atol=1e-8)


def test_the_callers_matrices_are_not_modified():
    K = kernel(THETA, X)
    before = K.copy()

    def f(K, y):
        c, low = cho_factor(K)
        lu, piv = lu_factor(K)
        return np.sum(cho_solve((c, low), y)) + np.sum(lu_solve((lu, piv), y))

    s2sad.grad(f)(K, Y)
    s2sad.hessian(f)(K, Y)
    np.testing.assert_array_equal(K, before)


# -- refusals ----------------------------------------------------------------------------------

def _refusal(fn, *args):
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(fn)(*args)
    return str(info.value)


def test_generalized_eigh_is_refused():
    def f(A):
        return np.sum(sla.eigh(A, np.eye(3))[0])

    message = _refusal(f, np.diag([1.0, 2.0, 3.0]))
    assert "scipy.linalg.eigh with b= (the generalized eigenproblem)" in message
    assert "test_scipy_linalg.py" in message


def test_an_eigenvector_of_a_repeated_eigenvalue_is_refused_and_its_eigenvalues_are_not():
    def vectors(A):
        return np.sum(np.linalg.eigh(A * 0 + np.eye(3))[1][:, 0] ** 2 * np.arange(1.0, 4.0))

    def values(A):
        return np.sum(np.linalg.eigh(A @ A.T * 0 + np.eye(3) + A)[0] ** 2)

    message = _refusal(vectors, np.ones((3, 3)))
    assert "np.linalg.eigh with a gradient through an eigenvector of a repeated eigenvalue" \
        in message
    A = np.zeros((3, 3))
    np.testing.assert_allclose(s2sad.grad(values)(A), numeric_grad(values, (A,), 0),
                               atol=1e-8)


def test_singular_vectors_past_min_m_n_are_refused():
    def f(A):
        U, s, Vh = np.linalg.svd(A)
        return np.sum(U[:, 3] ** 2 * np.arange(4.0))

    message = _refusal(f, RNG.normal(size=(4, 3)))
    assert "past min(m, n) (write full_matrices=False)" in message


def test_a_complex_matrix_logarithm_is_refused():
    def f(A):
        return np.sum(np.real(sla.logm(A)))

    message = _refusal(f, np.diag([1.0, -2.0, 3.0]))
    assert "scipy.linalg.logm of a matrix whose logarithm is complex" in message


def test_solve_with_an_unsupported_structure_is_refused():
    def f(A, b):
        return np.sum(sla.solve(A, b, assume_a="diagonal"))

    message = _refusal(f, np.diag([1.0, 2.0, 3.0]), np.ones(3))
    assert "scipy.linalg.solve with assume_a other than 'gen', 'sym', 'her' or 'pos'" in message


def eig_program(A):
    w, V = np.linalg.eig(A)
    return np.sum(w)


def scipy_eigvals_program(A):
    return np.sum(linalg.eigvals(A))


@pytest.mark.parametrize("fn, spelled, line, alternative", [
    (eig_program, "np.linalg.eig", "    w, V = np.linalg.eig(A)", "np.linalg.eigh(a)"),
    (scipy_eigvals_program, "linalg.eigvals", "    return np.sum(linalg.eigvals(A))",
     "scipy.linalg.eigh(a, eigvals_only=True)"),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_eig_is_refused_at_its_call_as_complex_with_eigh_as_the_hint(fn, spelled, line,
                                                                     alternative, mode):
    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        if mode == "reverse":
            s2sad.grad(fn)(np.eye(3))
        else:
            s2sad.jvp(fn)(np.eye(3), np.eye(3))
    message = str(info.value)
    first = message.splitlines()[0]
    assert f"test_scipy_linalg.py:{fn.__code__.co_firstlineno + 1}:" in first
    assert f"no derivative rule for {spelled}: " in first and "complex" in first
    shown = message.splitlines()
    assert shown[1].strip() == line.strip()
    assert shown[2].strip().startswith("^") and shown[1][shown[2].index("^"):].startswith(spelled)
    assert f"hint: for a symmetric matrix write {alternative}" in message


def test_options_passed_as_literals_leave_no_conditionals_in_the_generated_code():
    """lower=True, trans='T', unit_diagonal: decided while instantiating the rule."""
    def f(a, b):
        x = sla.solve_triangular(a + WELL, b, lower=True, trans="T", unit_diagonal=True)
        return np.sum(sla.cholesky(a @ a.T + WELL, lower=True) * x[:, None])

    source = s2sad.grad(f).source
    for leftover in ("if True", "if False", "== 'N'", "'T' == 0", "unit_diagonal=False if"):
        assert leftover not in source, source
    assert "trans=0, lower=True, unit_diagonal=True" in source


def _gp_nll_by(factorisation):
    x = np.linspace(0.0, 1.0, 4)
    y = np.sin(np.arange(4.0))

    def nll(log_ell, log_noise):
        d = x[:, None] - x[None, :]
        K = np.exp(-0.5 * d ** 2 / np.exp(log_ell) ** 2) + np.exp(log_noise) * np.eye(4)
        if factorisation == "cho":
            factor = scipy.linalg.cho_factor(K)
            alpha = scipy.linalg.cho_solve(factor, y)
            return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0])))
        pair = scipy.linalg.lu_factor(K)
        alpha = scipy.linalg.lu_solve(pair, y)
        return 0.5 * y @ alpha + 0.5 * np.linalg.slogdet(K)[1]
    return nll


@pytest.mark.parametrize("factorisation", ["cho", "lu"])
def test_grad_of_grad_through_a_factorisations_pair(factorisation):
    """The pair's adjoint is np.stack((dc, zeros)) wherever it is made (the rule, a read
    of factor[0]): grad(grad(f)) adds them (it crashed mixing a stacked array with a
    tuple of pieces); hessian was right."""
    nll = _gp_nll_by(factorisation)
    gradient = s2sad.grad(nll)
    h = 1e-5
    want = (gradient(-0.5 + h, -2.0) - gradient(-0.5 - h, -2.0)) / (2 * h)
    assert s2sad.grad(gradient)(-0.5, -2.0) == pytest.approx(want, rel=1e-6)
    assert s2sad.hessian(nll)(-0.5, -2.0) == pytest.approx(want, rel=1e-6)
