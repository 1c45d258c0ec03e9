"""Gauss-Newton for nonlinear least squares, with the Jacobian from s2sad.

The lecture's §5: to minimise a sum of squares C(theta) = 1/2 |r(theta)|^2 of a
residual vector r, linearise r around the current theta, r(theta + p) ~ r + J p
with J = dr/dtheta, and minimise the linear least-squares model exactly:

    theta <- theta - solve(J^T J + lam I, J^T r)

J^T r is the gradient of C, and J^T J is its Hessian without the second-order term
sum_i r_i d2r_i/dtheta2, so near a fit with small residuals the step is almost
Newton's, yet it needs first derivatives only. lam I is Levenberg's damping: lam is
divided by 10 after every step that lowers C and multiplied by 10 (and the step
retried) when one would raise it, so far from the fit the step shortens towards
the gradient direction and near it the method is plain Gauss-Newton (lam -> 0).
The convergence is then fast but linear, its rate set by the size of the residuals
(which is why the gradient falls by a roughly constant factor per step below).

The model is y = a exp(b t) + c, fitted to noisy samples of known parameters
(seeded) from a poor first guess; `residuals(theta, t, y)` is plain NumPy and
`s2sad.jacobian(residuals)` returns the m x 3 matrix dr_i/dtheta_j, laid out as
jax.jacobian: output shape + input shape. Forward mode builds it a column at a time
(one JVP per parameter: 3 passes), reverse mode a row at a time (one pullback per
residual: m passes); the default picks the mode with fewer passes, forward here.
The script checks that both modes give the same matrix and times them, and the
fitted parameters are compared with the true ones in units of their standard
errors, sqrt(diag(sigma^2 (J^T J)^-1)) with sigma^2 estimated from the residuals.

A remark on natural gradients: if the data are modelled as y ~ N(f(theta, t),
sigma^2), the Fisher information of theta is J^T J / sigma^2, so the natural
gradient step on the negative log-likelihood |r|^2 / 2 sigma^2 is exactly the
Gauss-Newton step above, and lam I is the damping natural-gradient methods add in
practice. Gauss-Newton is natural gradient descent with step size 1.

    python examples/gauss_newton.py
"""
import time

import numpy as np

import s2sad

TRUE_THETA = np.array([2.0, -1.3, 0.5])     # a, b, c
START = np.array([1.0, -0.5, 0.0])          # a poor first guess
NOISE = 0.02


def residuals(theta, t, y):
    return theta[0] * np.exp(theta[1] * t) + theta[2] - y


def cost(theta, t, y):
    r = residuals(theta, t, y)
    return 0.5 * np.sum(r ** 2)


jacobian = s2sad.jacobian(residuals)                           # forward here: 3 < m
jacobian_forward = s2sad.jacobian(residuals, mode="forward")
jacobian_reverse = s2sad.jacobian(residuals, mode="reverse")
cost_hessian = s2sad.hessian(cost)                              # for comparison only


def hand_jacobian(theta, t):
    """dr/dtheta derived by hand: columns exp(b t), a t exp(b t), 1."""
    a, b, _ = theta
    e = np.exp(b * t)
    return np.column_stack([e, a * t * e, np.ones_like(t)])


def make_data(m=50, noise=NOISE, seed=1):
    """m samples of TRUE_THETA's curve at t evenly spaced in [0, 3], plus noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 3.0, m)
    y = residuals(TRUE_THETA, t, 0.0) + noise * rng.standard_normal(m)
    return t, y


def gauss_newton(t, y, theta0=START, lam=1e-2, tol=1e-9, xtol=1e-12, max_iter=50,
                 jac=jacobian):
    """Damped Gauss-Newton (Levenberg) from theta0 until |J^T r| <= tol, or until
    the last step was below xtol relative to theta (the cost no longer changes in
    floating point).

    Returns (theta, history), one row (k, cost, |J^T r|, lam used) per iterate."""
    theta = np.array(theta0, dtype=float)
    r = residuals(theta, t, y)
    c = 0.5 * float(r @ r)
    history = []
    eye = np.eye(theta.size)
    step = np.inf
    for k in range(max_iter + 1):
        J = jac(theta, t, y)
        g = J.T @ r
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol or step <= xtol * np.linalg.norm(theta) or k == max_iter:
            history.append((k, c, gnorm, None))
            break
        while True:
            proposal = theta - np.linalg.solve(J.T @ J + lam * eye, g)
            r_new = residuals(proposal, t, y)
            c_new = 0.5 * float(r_new @ r_new)
            if c_new <= c:
                break
            lam *= 10.0
            if lam > 1e12:
                raise RuntimeError("no step lowers the cost")
        history.append((k, c, gnorm, lam))
        step = float(np.linalg.norm(proposal - theta))
        theta, r, c = proposal, r_new, c_new
        lam = max(lam / 10.0, 1e-12)
    return theta, history


def standard_errors(theta, t, y):
    """sqrt(diag(sigma^2 (J^T J)^-1)), sigma^2 = |r|^2 / (m - 3)."""
    r = residuals(theta, t, y)
    J = jacobian(theta, t, y)
    sigma2 = float(r @ r) / (len(t) - theta.size)
    return np.sqrt(np.diag(sigma2 * np.linalg.inv(J.T @ J)))


def best_time(fn, *args, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    t, y = make_data()
    print(s2sad.source(residuals, mode="forward"))

    Jf = jacobian_forward(START, t, y)
    Jr = jacobian_reverse(START, t, y)
    print(f"Jacobian at the start: shape {Jf.shape}; "
          f"max |forward - reverse| = {np.max(np.abs(Jf - Jr)):.1e}, "
          f"max |forward - by hand| = {np.max(np.abs(Jf - hand_jacobian(START, t))):.1e}")
    forward_ms = 1e3 * best_time(jacobian_forward, START, t, y)
    reverse_ms = 1e3 * best_time(jacobian_reverse, START, t, y)
    print(f"  forward mode ({START.size} JVPs) {forward_ms:.2f} ms, "
          f"reverse mode ({len(t)} pullbacks) {reverse_ms:.2f} ms")

    theta, history = gauss_newton(t, y)
    print("  iter          cost       |J^T r|       lam")
    for k, c, gnorm, lam in history:
        print(f"  {k:4d}  {c:13.6e}  {gnorm:12.4e}  " + ("" if lam is None else f"{lam:8.1e}"))
    se = standard_errors(theta, t, y)
    print(f"Gauss-Newton: {history[-1][0]} iterations")
    print(f"  fitted (a, b, c) = {np.round(theta, 4)}")
    print(f"  true   (a, b, c) = {TRUE_THETA}")
    print(f"  standard errors  = {np.round(se, 4)}")
    print(f"  |fitted - true| / standard error = {np.round(np.abs(theta - TRUE_THETA) / se, 2)}")

    H = cost_hessian(theta, t, y)
    J = jacobian(theta, t, y)
    print(f"at the fit, |H - J^T J| / |H| = "
          f"{np.linalg.norm(H - J.T @ J) / np.linalg.norm(H):.1e} "
          f"(H: s2sad.hessian of the cost): Gauss-Newton is nearly Newton here")


if __name__ == "__main__":
    main()
