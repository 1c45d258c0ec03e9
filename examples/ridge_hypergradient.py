"""The hyper-gradient of ridge regression's validation loss through the inner optimum.

The inner problem fits the weights for a regularisation strength lam,

    w*(lam) = argmin_w  |X w - y|^2 + lam |w|^2,

and the outer one scores them on held-out data, val(lam) = mean((X_val w* - y_val)^2).
To tune lam by gradient descent one needs d val / d lam, that is d w* / d lam: w* is
defined by an equation (its gradient vanishes), not by a formula. Written with
`s2sad.root`, the optimality condition

    F(w, lam) = X^T (X w - y) + lam w = 0

is a constraint of seed 002, and the derivative s2sad generates solves its multiplier
equation (∂F/∂w)^T lam_F = -dw, here (X^T X + lam I) lam_F = -dw, then pushes lam_F
through ∂F/∂lam = w. Nothing of Newton's iterations is differentiated. The same optimum
written as the fixed point of a gradient step, w = w - step F(w, lam), gives the same
hyper-gradient (`val_fixed_point`), with many more forward iterations.

The script checks d val / d log(lam) against the closed form (np.linalg.solve with
d w*/d lam = -(X^T X + lam I)^-1 w*) and against central differences of the converged
validation loss, does the same for one lam per feature (a vector of 30 hyper-parameters,
one reverse sweep), and runs a few steps of hyper-gradient descent on log(lam).

    python examples/ridge_hypergradient.py
    python examples/ridge_hypergradient.py --quick
"""
import sys

import numpy as np

import s2sad

TOL = 1e-12


def normal_equations(w, lam, X, y):
    """The gradient of the inner objective, halved: zero at its minimum."""
    return X.T @ (X @ w - y) + lam * w


def gradient_step(w, lam, X, y, step):
    """One gradient-descent step on the inner objective (its fixed point is w*)."""
    return w - step * (X.T @ (X @ w - y) + lam * w)


def val(log_lam, X, y, X_val, y_val):
    """Validation error of ridge regression fitted with lam = exp(log_lam)."""
    lam = np.exp(log_lam)
    w = s2sad.root(normal_equations, np.zeros(X.shape[1]), lam, X, y, tol=TOL)
    return np.mean((X_val @ w - y_val) ** 2)


def val_fixed_point(log_lam, X, y, X_val, y_val, step):
    """The same, with w* as the fixed point of a gradient step."""
    lam = np.exp(log_lam)
    w = s2sad.fixed_point(gradient_step, np.zeros(X.shape[1]), lam, X, y, step,
                          tol=TOL, max_iter=100000)
    return np.mean((X_val @ w - y_val) ** 2)


hypergradient = s2sad.value_and_grad(val)
hypergradient_fixed_point = s2sad.grad(val_fixed_point)


def closed_form(log_lam, X, y, X_val, y_val):
    """d val / d log(lam) by hand: w* = A^-1 X^T y with A = X^T X + lam I, so
    d w* / d lam = -A^-1 w*, and the chain rule through lam = exp(log_lam)."""
    lam = np.exp(log_lam)
    A = X.T @ X + lam * np.eye(X.shape[1])
    w = np.linalg.solve(A, X.T @ y)
    dw = -np.linalg.solve(A, w)
    residual = X_val @ w - y_val
    return lam * 2.0 / len(y_val) * residual @ (X_val @ dw)


def closed_form_per_feature(log_lams, X, y, X_val, y_val):
    """The same with one lam per feature: d val / d log(lam_j) = lam_j w_j u_j, where
    u = -A^-1 (2/n X_val^T residual) and A = X^T X + diag(lam)."""
    lams = np.exp(log_lams)
    A = X.T @ X + np.diag(lams)
    w = np.linalg.solve(A, X.T @ y)
    u = -np.linalg.solve(A, 2.0 / len(y_val) * X_val.T @ (X_val @ w - y_val))
    return lams * w * u


def central_difference(f, x, *args, eps=1e-5):
    """Central differences of f in its first argument (a float or an array)."""
    if np.ndim(x) == 0:
        return (f(x + eps, *args) - f(x - eps, *args)) / (2 * eps)
    result = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        result[i] = (f(x + e, *args) - f(x - e, *args)) / (2 * eps)
    return result


def make_data(n_train=40, n_val=200, features=30, noise=1.0, seed=0):
    """A linear model with a few large and many small weights; fewer training rows than
    twice the features, so that lam matters."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=features) * (rng.random(features) < 0.3)
    X = rng.normal(size=(n_train + n_val, features))
    y = X @ w_true + noise * rng.normal(size=n_train + n_val)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def relative_error(got, expected):
    return float(np.max(np.abs(np.subtract(got, expected))) /
                 max(float(np.max(np.abs(expected))), 1e-300))


def main(steps=8, features=30, check_fixed_point=True):
    """Checks, then hyper-gradient descent on log(lam); returns the checks' errors and
    the descent's history for the tests."""
    X, y, X_val, y_val = make_data(features=features)
    data = (X, y, X_val, y_val)
    log_lam = 0.0
    value, g = hypergradient(log_lam, *data)
    exact = closed_form(log_lam, *data)
    numeric = central_difference(val, log_lam, *data)
    errors = {"closed form": relative_error(g, exact),
              "central differences": relative_error(g, numeric)}
    print(f"ridge, {X.shape[0]} training rows, {features} features; at lam = 1:")
    print(f"  val = {value:.6f}, d val / d log(lam): s2sad {g:.12f}, closed form "
          f"{exact:.12f}, central differences {numeric:.12f}")
    if check_fixed_point:
        step = 1.0 / (np.linalg.norm(X, 2) ** 2 + np.exp(log_lam))
        g_fixed = hypergradient_fixed_point(log_lam, *data, step)
        errors["fixed point form"] = relative_error(g_fixed, exact)
        print(f"  as a fixed point of a gradient step: {g_fixed:.12f}")

    log_lams = np.linspace(-1.0, 1.0, features)
    per_feature = s2sad.grad(val)(log_lams, *data)
    errors["per feature, closed form"] = relative_error(
        per_feature, closed_form_per_feature(log_lams, *data))
    errors["per feature, central differences"] = relative_error(
        per_feature, central_difference(val, log_lams, *data))
    print("  one lam per feature (30 hyper-parameters, one reverse sweep) agrees too")
    print("  relative errors: " + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()))

    print("\nhyper-gradient descent on log(lam), rate 1 / |first hyper-gradient|:")
    rate = 1.0 / abs(g)
    history = []
    for k in range(steps + 1):
        value, g = hypergradient(log_lam, *data)
        history.append((log_lam, float(value)))
        print(f"  step {k}: lam {np.exp(log_lam):9.4f}  val {value:.6f}  "
              f"d val / d log(lam) {g:+.3e}")
        log_lam = log_lam - rate * g
    grid = np.linspace(-4.0, 6.0, 201)
    best = grid[np.argmin([val(t, *data) for t in grid])]
    print(f"grid search over log(lam) in [-4, 6]: best lam {np.exp(best):.4f}")
    print("\nThe generated hyper-gradient:\n")
    print(hypergradient.source)
    return {"errors": errors, "history": history, "grid_best": float(best)}


if __name__ == "__main__":
    if "--quick" in sys.argv[1:]:
        main(steps=3, check_fixed_point=False)
    else:
        main()
