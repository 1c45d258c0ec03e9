"""The second-order examples (lecture §5): newton_rosenbrock.py, lbfgs_scipy.py,
gauss_newton.py.

Each derivative the examples use is checked against an independent oracle, never
against numbers copied from s2sad's output:

* s2sad.hessian of Rosenbrock against central differences of s2sad.grad (itself
  checked against central differences of f) and against the Hessian derived by hand;
* the logistic-regression gradient against the formula X^T (sigmoid(z) - y) / n + lam w
  and central differences; the L-BFGS optimum against SciPy's own finite-difference run;
* the Jacobian of the residuals in both modes against each other, the hand-derived
  columns (exp(bt), a t exp(bt), 1) and central differences; the Gauss-Newton fit
  against scipy.optimize.least_squares and, statistically, against the true
  parameters (a chi-square bound on the error in the fit's own covariance);
* s2sad.hessian of the least-squares cost against J^T J + sum_i r_i d2r_i, by hand.

The convergence claims are checked as properties of the iterates: Newton's error
satisfies e_{k+1} <= C e_k^2 at the end with full, unshifted steps; gradient
descent needs hundreds of times more iterations.
"""
import os
import re
import time

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

from conftest import EXAMPLES, run  # the `examples` fixture is conftest's too

ONES_TOL = 1e-8


def central_jacobian(f, x, eps=1e-6):
    """Columns (f(x + eps e_j) - f(x - eps e_j)) / 2 eps of a vector function f."""
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    return np.stack(columns, axis=-1)


# -- Newton on Rosenbrock ------------------------------------------------------------------

@pytest.fixture(scope="module")
def newton_runs(examples):
    nr = examples("newton_rosenbrock")
    return {n: nr.newton(nr.standard_start(n)) for n in (2, 4)}


@pytest.mark.parametrize("n", [2, 4])
def test_newton_converges_to_the_known_minimum(examples, newton_runs, n):
    nr = examples("newton_rosenbrock")
    x, history = newton_runs[n]
    np.testing.assert_allclose(x, np.ones(n), rtol=0, atol=ONES_TOL)
    assert history[-1].k < 30
    assert history[-1].gnorm <= 1e-10
    assert history[-1].f < 1e-16
    assert np.linalg.norm(nr.gradient(x)) <= 1e-10
    # every step lowered f (the line search's Armijo condition)
    fs = [it.f for it in history]
    assert all(later < earlier for earlier, later in zip(fs, fs[1:]) if earlier > 0)


@pytest.mark.parametrize("n", [2, 4])
def test_newton_converges_quadratically_with_full_steps(newton_runs, n):
    _, history = newton_runs[n]
    errors = [float(np.linalg.norm(it.x - 1.0)) for it in history]
    # near the end: the full Newton step, the Hessian unmodified
    for it in history[-4:-1]:
        assert it.step == 1.0 and it.shift == 0.0
    # e_{k+1} <= C e_k^2 once e_k < 1e-2 (linear convergence e_{k+1} ~ rho e_k fails this)
    pairs = [(e, e_next) for e, e_next in zip(errors, errors[1:]) if 0 < e < 1e-2]
    assert len(pairs) >= 2
    for e, e_next in pairs:
        assert e_next <= 100.0 * e ** 2, (e, e_next)


def test_newton_shifts_an_indefinite_hessian_and_still_converges(examples, newton_runs):
    """From (-1.2, 1, -1.2, 1) the iterates cross a region where H is indefinite: the
    shift tau > 0 is used there, and the step still goes downhill."""
    nr = examples("newton_rosenbrock")
    _, history = newton_runs[4]
    shifted = [it for it in history if it.shift]
    assert shifted
    for it in shifted:
        assert np.min(np.linalg.eigvalsh(nr.hessian(it.x))) < 0
        H = nr.hessian(it.x) + it.shift * np.eye(4)
        assert np.min(np.linalg.eigvalsh(H)) > 0
    H = np.diag([2.0, -1.0])
    tau = nr.modified_cholesky_shift(H)
    assert tau > 1.0 and np.min(np.linalg.eigvalsh(H + tau * np.eye(2))) > 0
    assert nr.modified_cholesky_shift(np.diag([2.0, 1.0])) == 0.0


HESSIAN_POINTS = [np.array([-1.2, 1.0]), np.array([0.3, -0.7]), np.array([1.0, 1.0, 1.0]),
                  np.array([-1.2, 1.0, -1.2, 1.0]), np.array([0.5, -0.25, 1.5, 2.0])]


@pytest.mark.parametrize("x", HESSIAN_POINTS, ids=lambda x: f"n{x.size}-{x[0]}")
def test_rosenbrock_hessian_matches_central_differences_of_the_gradient(examples, x):
    nr = examples("newton_rosenbrock")
    H = nr.hessian(x)
    assert H.shape == x.shape + x.shape
    # the gradient itself against central differences of f
    np.testing.assert_allclose(nr.gradient(x), numeric_grad(nr.rosenbrock, [x], 0),
                               rtol=1e-6, atol=1e-6)
    numeric = central_jacobian(nr.gradient, x, eps=1e-5)
    np.testing.assert_allclose(H, numeric, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(H, nr.hand_hessian(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(H, H.T)
    # and the Hessian-vector product agrees with the matrix
    v = np.linspace(-1.0, 1.0, x.size)
    np.testing.assert_allclose(s2sad.hvp(nr.rosenbrock)(x, v), H @ v, rtol=1e-12,
                               atol=1e-12)


def test_gradient_descent_needs_hundreds_of_times_more_iterations(examples, newton_runs):
    nr = examples("newton_rosenbrock")
    x, iterations, gnorm = nr.gradient_descent(nr.standard_start(2), tol=1e-6)
    newton_iterations = nr.iterations_to(newton_runs[2][1], 1e-6)
    assert gnorm <= 1e-6
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-4)
    assert newton_iterations < 30
    assert iterations > 100 * newton_iterations


# -- L-BFGS through SciPy -------------------------------------------------------------------

@pytest.fixture(scope="module")
def lbfgs(examples):
    pytest.importorskip("scipy")
    return examples("lbfgs_scipy")


def test_logistic_gradient_is_the_hand_derived_one(examples):
    lb = examples("lbfgs_scipy")        # the module imports without SciPy
    X, y = lb.make_data(n=60, seed=3)
    rng = np.random.default_rng(7)
    for _ in range(3):
        theta = rng.normal(size=X.shape[1] + 1)
        g = lb.dloss(theta, X, y)
        assert g.shape == theta.shape
        np.testing.assert_allclose(g, lb.hand_gradient(theta, X, y), rtol=1e-10,
                                   atol=1e-13)
        np.testing.assert_allclose(g, numeric_grad(lb.loss, [theta, X, y], 0), rtol=1e-6,
                                   atol=1e-9)
        value, g2 = lb.loss_and_grad(theta, X, y)
        np.testing.assert_allclose(value, lb.loss(theta, X, y), rtol=1e-14)
        np.testing.assert_allclose(g2, g, rtol=1e-14)


def test_lbfgs_converges_using_the_s2sad_gradient(lbfgs):
    X, y = lbfgs.make_data()
    calls = []

    def counted(theta, *args):
        calls.append(theta.copy())
        return lbfgs.dloss(theta, *args)

    res = lbfgs.fit(X, y, jac=counted)
    assert res.success, res.message
    assert res.nit < 50
    assert len(calls) == res.njev > 0         # SciPy called s2sad's gradient, every time
    # the optimum: the hand-derived gradient vanishes there
    assert np.linalg.norm(lbfgs.hand_gradient(res.x, X, y)) < 1e-7
    np.testing.assert_allclose(lbfgs.dloss(res.x, X, y),
                               lbfgs.central_differences(lbfgs.loss, res.x, X, y),
                               atol=1e-8)
    # and the same point with jac=True and value_and_grad
    both = lbfgs.fit(X, y, value_and_grad=True)
    assert both.success
    np.testing.assert_allclose(both.x, res.x, rtol=0, atol=1e-10)


def test_lbfgs_optimum_agrees_with_finite_differences_and_the_truth(lbfgs):
    from scipy.optimize import minimize
    X, y = lbfgs.make_data()
    res = lbfgs.fit(X, y)
    fd = minimize(lbfgs.loss, np.zeros_like(res.x), args=(X, y), method="L-BFGS-B",
                  options={"gtol": 1e-10, "ftol": 1e-15})
    np.testing.assert_allclose(res.x, fd.x, atol=1e-5)
    assert res.nfev < fd.nfev / 3         # s2sad's gradient costs one call, not n + 1
    # the MLE is within a few standard errors (inverse Fisher information / n) of the truth
    Xt = np.column_stack([X, np.ones(len(y))])
    p = 1.0 / (1.0 + np.exp(-Xt @ res.x))
    fisher = Xt.T @ (Xt * (p * (1 - p))[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(fisher)))
    z = (res.x - np.append(lbfgs.TRUE_W, lbfgs.TRUE_B)) / se
    assert np.max(np.abs(z)) < 4, z


def test_lbfgs_on_rosenbrock_reaches_the_minimum(lbfgs):
    res = lbfgs.fit_rosenbrock(n=4)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(4), atol=1e-6)


def test_lbfgs_without_scipy_says_what_to_install():
    code = ("import sys, runpy; sys.modules['scipy'] = None; "
            "sys.path.insert(0, 'examples'); import lbfgs_scipy; "   # importing works
            "runpy.run_path('examples/lbfgs_scipy.py', run_name='__main__')")
    result = run("-c", code)
    assert result.returncode == 1
    assert "needs SciPy" in result.stderr and "pip install scipy" in result.stderr
    assert "Traceback" not in result.stderr


# -- Gauss-Newton ---------------------------------------------------------------------------

GN_THETAS = [np.array([1.0, -0.5, 0.0]), np.array([2.0, -1.3, 0.5]),
             np.array([-0.7, 0.4, 3.0])]


@pytest.mark.parametrize("theta", GN_THETAS, ids=lambda th: f"a{th[0]}")
def test_residual_jacobian_both_modes_agree_and_match_central_differences(examples, theta):
    gn = examples("gauss_newton")
    t, y = gn.make_data(m=20)
    forward = gn.jacobian_forward(theta, t, y)
    reverse = gn.jacobian_reverse(theta, t, y)
    assert forward.shape == reverse.shape == (20, 3)      # out.shape + in.shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(gn.jacobian(theta, t, y), forward)   # default: forward
    np.testing.assert_allclose(forward, gn.hand_jacobian(theta, t), rtol=1e-13,
                               atol=1e-14)
    numeric = central_jacobian(lambda th: gn.residuals(th, t, y), theta)
    np.testing.assert_allclose(forward, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("seed", range(10))
def test_gauss_newton_recovers_the_true_parameters_within_noise(examples, seed):
    gn = examples("gauss_newton")
    t, y = gn.make_data(seed=seed)
    theta, history = gn.gauss_newton(t, y)
    k, cost, gnorm, _ = history[-1]
    assert k <= 10                                   # a handful of steps
    assert gnorm < 1e-8
    costs = [row[1] for row in history]
    assert all(later <= earlier for earlier, later in zip(costs, costs[1:]))
    assert costs[-1] < costs[0] / 100
    # the error in the fit's own covariance sigma^2 (J^T J)^-1 is chi-square with 3
    # degrees of freedom; 16.27 is its 99.9% quantile
    r = gn.residuals(theta, t, y)
    J = gn.jacobian(theta, t, y)
    sigma2 = float(r @ r) / (len(t) - 3)
    assert 0.5 * gn.NOISE ** 2 < sigma2 < 2 * gn.NOISE ** 2
    d = theta - gn.TRUE_THETA
    assert d @ (J.T @ J) @ d / sigma2 < 16.27
    assert np.all(np.abs(d) < 4 * gn.standard_errors(theta, t, y))


def test_gauss_newton_reverse_mode_jacobian_gives_the_same_fit(examples):
    gn = examples("gauss_newton")
    t, y = gn.make_data()
    theta_f, history_f = gn.gauss_newton(t, y)
    theta_r, history_r = gn.gauss_newton(t, y, jac=gn.jacobian_reverse)
    assert len(history_f) == len(history_r)
    np.testing.assert_allclose(theta_r, theta_f, rtol=1e-12)


def test_gauss_newton_agrees_with_scipy_least_squares(examples):
    optimize = pytest.importorskip("scipy.optimize")
    gn = examples("gauss_newton")
    t, y = gn.make_data()
    theta, _ = gn.gauss_newton(t, y)
    ref = optimize.least_squares(gn.residuals, gn.START, args=(t, y), xtol=1e-15,
                                 ftol=1e-15, gtol=1e-15)
    np.testing.assert_allclose(theta, ref.x, rtol=1e-7)


def test_cost_hessian_is_gauss_newton_plus_the_residual_curvature(examples):
    """H = J^T J + sum_i r_i d2r_i, with d2r_i/da db = t e^(bt), d2r_i/db2 = a t^2 e^(bt)."""
    gn = examples("gauss_newton")
    t, y = gn.make_data(m=15)
    for theta in GN_THETAS:
        a, b, _ = theta
        r = gn.residuals(theta, t, y)
        J = gn.hand_jacobian(theta, t)
        e = np.exp(b * t)
        curvature = np.zeros((3, 3))
        curvature[0, 1] = curvature[1, 0] = np.sum(r * t * e)
        curvature[1, 1] = np.sum(r * a * t ** 2 * e)
        np.testing.assert_allclose(gn.cost_hessian(theta, t, y), J.T @ J + curvature,
                                   rtol=1e-11, atol=1e-11)


# -- the scripts -----------------------------------------------------------------------------

def test_newton_script_prints_quadratic_convergence_and_the_comparison():
    start = time.perf_counter()
    result = run(os.path.join("examples", "newton_rosenbrock.py"))
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "def grad_rosenbrock(x, *, drosenbrock=1.0):" in out
    assert out.count("vs the hand-derived Hessian: max |diff| = 0.0e+00") == 2
    runs = re.findall(r"Newton, n = (\d): (\d+) iterations, .*\|\|x - 1\|\| = (\S+),", out)
    assert [n for n, _, _ in runs] == ["2", "4"]
    for _, iterations, error in runs:
        assert int(iterations) < 30 and float(error) < ONES_TOL
    compare = re.findall(r"Newton (\d+) iterations, gradient descent (\d+) iterations", out)
    assert len(compare) == 1                 # for n = 2
    for newton_iterations, gd_iterations in compare:
        assert int(gd_iterations) > 100 * int(newton_iterations)
    # the table's f column, for n = 4: the last three f values fall by squaring
    table = out.split("Rosenbrock, n = 4")[1]
    fs = [float(f) for f in re.findall(r"^\s+\d+\s+(\S+)\s+\S+\s+\S+", table, re.M)]
    assert fs[-1] < 1e-16 and 0 < fs[-2] < 1e-15 and fs[-3] > 1e-12
    assert elapsed < 10          # the script takes under 3 s here; a generous bound


def test_lbfgs_script_prints_results_and_gradient_checks():
    pytest.importorskip("scipy")
    result = run(os.path.join("examples", "lbfgs_scipy.py"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "def grad_loss(theta, X, y, lam=0.001, *, dloss=1.0):" in out  # the value of LAM
    assert out.count("success=True") == 3
    assert "jac=True with s2sad.value_and_grad(loss)" in out
    diffs = [float(d) for d in re.findall(r"max \|s2sad - central differences\| = (\S+)",
                                          out)]
    assert len(diffs) == 3 and max(diffs) < 1e-6
    iterations = [int(k) for k in re.findall(r"iterations (\d+), function", out)]
    assert len(iterations) == 3 and all(0 < k < 200 for k in iterations)
    error = float(re.search(r"Rosenbrock.*\n.*\n  x = .*\|\|x - 1\|\| = (\S+)", out).group(1))
    assert error < 1e-6


def test_gauss_newton_script_prints_the_fit():
    result = run("gauss_newton.py", cwd=EXAMPLES)     # from any directory
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "def jvp_residuals(theta, t, y, theta_dot):" in out
    diff = float(re.search(r"max \|forward - reverse\| = (\S+),", out).group(1))
    assert diff < 1e-12
    iterations = int(re.search(r"Gauss-Newton: (\d+) iterations", out).group(1))
    assert iterations <= 10
    fitted = re.search(r"fitted \(a, b, c\) = \[\s*(\S+)\s+(\S+)\s+(\S+)\]", out)
    np.testing.assert_allclose([float(v) for v in fitted.groups()], [2.0, -1.3, 0.5],
                               atol=0.05)
    z = re.search(r"standard error = \[\s*(\S+)\s+(\S+)\s+(\S+)\]", out)
    assert max(float(v) for v in z.groups()) < 4
    ratio = float(re.search(r"\|H - J\^T J\| / \|H\| = (\S+)", out).group(1))
    assert ratio < 1e-2
