"""L-BFGS through SciPy, with the gradient s2sad generates as `jac=`.

The lecture's §5: quasi-Newton methods build up curvature information from
gradients alone. L-BFGS keeps the last few pairs (s_k = x_{k+1} - x_k,
y_k = g_{k+1} - g_k) and applies an approximate inverse Hessian made from them, so
it needs nothing but f and its gradient, and converges superlinearly where plain
gradient descent crawls. SciPy has a solid implementation,
`scipy.optimize.minimize(..., method="L-BFGS-B")`; all it asks for is the gradient,
and `s2sad.grad(f)` is a callable of exactly the signature it calls, `jac(x, *args)`,
returning an array of x's shape:

    minimize(loss, theta0, args=(X, y), jac=s2sad.grad(loss), method="L-BFGS-B")

`s2sad.value_and_grad(loss)` returns `(f, grad)` from one call, which is what
SciPy's `jac=True` expects, so the forward sweep is not repeated.

The problem is L2-regularised logistic regression on synthetic data (seeded):
labels drawn from a known logistic model, loss

    L(theta) = mean(log(1 + exp(z)) - y z) + lam/2 |w|^2,   z = X w + b,

with theta = (w, b) packed in one vector, the form SciPy's optimisers take. It is
written with np.logaddexp(0, z), which never overflows. The regulariser makes L
strictly convex, so the minimum is unique and its gradient, derived by hand,

    dL/dw = X^T (sigmoid(z) - y) / n + lam w,   dL/db = mean(sigmoid(z) - y),

vanishes there. `hand_gradient` is that formula, for checking. The script also
runs L-BFGS on the Rosenbrock function of newton_rosenbrock.py, for comparison
with Newton's iterations there, and checks the gradient at each optimum against
central differences.

SciPy is needed only here, not by s2sad itself:

    python3 -m pip install scipy     # or the "examples" extra
    python examples/lbfgs_scipy.py
    python -m s2sad grad examples/lbfgs_scipy.py:loss
"""
import os
import sys

import numpy as np

import s2sad

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # imported from elsewhere: find the sibling example
    sys.path.insert(0, HERE)
from newton_rosenbrock import rosenbrock, standard_start  # noqa: E402

SCIPY_MISSING = ("examples/lbfgs_scipy.py needs SciPy for scipy.optimize.minimize; "
                 "install it with `python3 -m pip install scipy` (or the "
                 "\"examples\" extra). s2sad itself does not need SciPy.")

TRUE_W = np.array([1.5, -2.0, 0.5, 0.0, 1.0])
TRUE_B = -0.5
LAM = 1e-3


def loss(theta, X, y, lam=LAM):
    w = theta[:-1]
    b = theta[-1]
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w ** 2)


dloss = s2sad.grad(loss)                        # jac=dloss
loss_and_grad = s2sad.value_and_grad(loss)      # jac=True: fun returns (f, grad)
drosenbrock = s2sad.grad(rosenbrock)


def hand_gradient(theta, X, y, lam=LAM):
    """The gradient derived by hand (see the docstring), for checking."""
    w, b = theta[:-1], theta[-1]
    s = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y
    return np.append(X.T @ s / len(y) + lam * w, np.mean(s))


def make_data(n=400, seed=0):
    """X standard normal (n x 5), y ~ Bernoulli(sigmoid(X TRUE_W + TRUE_B))."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, TRUE_W.size))
    p = 1.0 / (1.0 + np.exp(-(X @ TRUE_W + TRUE_B)))
    y = (rng.uniform(size=n) < p).astype(float)
    return X, y


def require_scipy():
    """scipy.optimize, or an ImportError that says what to install."""
    try:
        import scipy.optimize
    except ImportError as exc:
        raise ImportError(SCIPY_MISSING) from exc
    return scipy.optimize


def central_differences(f, x, *args, eps=1e-6):
    """(f(x + eps e_i) - f(x - eps e_i)) / 2 eps for each coordinate i."""
    g = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        g[i] = (f(x + step, *args) - f(x - step, *args)) / (2 * eps)
    return g


def fit(X, y, jac=dloss, value_and_grad=False, gtol=1e-10):
    """L-BFGS-B from theta = 0 with s2sad's gradient: as `jac=` (a separate gradient
    function) or, with value_and_grad=True, as `jac=True` with one function
    returning (f, grad). Returns SciPy's OptimizeResult."""
    optimize = require_scipy()
    theta0 = np.zeros(X.shape[1] + 1)
    options = {"gtol": gtol, "ftol": 1e-15, "maxiter": 500}
    if value_and_grad:
        return optimize.minimize(loss_and_grad, theta0, args=(X, y), jac=True,
                                 method="L-BFGS-B", options=options)
    return optimize.minimize(loss, theta0, args=(X, y), jac=jac, method="L-BFGS-B",
                             options=options)


def fit_rosenbrock(n=4, gtol=1e-10):
    optimize = require_scipy()
    return optimize.minimize(rosenbrock, standard_start(n), jac=drosenbrock,
                             method="L-BFGS-B",
                             options={"gtol": gtol, "ftol": 1e-20, "maxiter": 1000})


def describe(name, res):
    print(f"{name}: success={res.success} ({res.message})")
    print(f"  iterations {res.nit}, function evaluations {res.nfev}, "
          f"gradient evaluations {res.njev}, f = {res.fun:.12g}")


def check_at(name, f, df, x, *args):
    """The generated gradient vs central differences at x; returns max |diff|."""
    numeric = central_differences(f, x, *args)
    diff = float(np.max(np.abs(df(x, *args) - numeric)))
    print(f"  {name}: |grad| = {np.linalg.norm(df(x, *args)):.1e}, "
          f"max |s2sad - central differences| = {diff:.1e}")
    return diff


def main():
    try:
        require_scipy()
    except ImportError as exc:
        sys.exit(str(exc))
    X, y = make_data()
    print(dloss.source)

    res = fit(X, y)
    describe("logistic regression, jac=s2sad.grad(loss)", res)
    print(f"  theta = {np.round(res.x, 4)}")
    print(f"  true  = {np.append(TRUE_W, TRUE_B)}")
    check_at("at the optimum", loss, dloss, res.x, X, y)
    check_at("at theta = 1", loss, dloss, np.ones_like(res.x), X, y)

    both = fit(X, y, value_and_grad=True)
    describe("logistic regression, jac=True with s2sad.value_and_grad(loss)", both)
    print(f"  max |theta - theta(jac=dloss)| = {np.max(np.abs(both.x - res.x)):.1e}")

    fd = require_scipy().minimize(loss, np.zeros_like(res.x), args=(X, y),
                                  method="L-BFGS-B",
                                  options={"gtol": 1e-10, "ftol": 1e-15})
    print(f"without jac (SciPy's own finite differences): {fd.nfev} function "
          f"evaluations, max |theta - theta(jac=dloss)| = "
          f"{np.max(np.abs(fd.x - res.x)):.1e}")

    rose = fit_rosenbrock()
    describe("Rosenbrock n = 4, jac=s2sad.grad(rosenbrock)", rose)
    print(f"  x = {rose.x}, ||x - 1|| = {np.linalg.norm(rose.x - 1.0):.1e}")
    check_at("at the optimum", rosenbrock, drosenbrock, rose.x)


if __name__ == "__main__":
    main()
