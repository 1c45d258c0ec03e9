"""Newton's method on the Rosenbrock function, with the exact Hessian from s2sad.

The lecture's §5 (second-order methods): where gradient descent steps along -g
with a step size chosen from outside, Newton's method solves H p = -g, using the
curvature to pick both the direction and the length. Near a minimum with a
positive definite Hessian that converges quadratically: the number of correct
digits doubles at every step. The Rosenbrock function

    f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2

is the textbook case: its minimum f(1, ..., 1) = 0 lies at the bottom of a long,
curved, narrow valley, so gradient descent zigzags across the valley for
thousands of steps, while Newton follows it.

`rosenbrock` is plain NumPy. `s2sad.grad(rosenbrock)` generates its gradient and
`s2sad.hessian(rosenbrock)` its exact Hessian, forward mode over the generated
reverse-mode gradient code (one JVP of the gradient per coordinate): no finite
differences and no Hessian written by hand. `hand_hessian` is written out here only
to be compared with it.

Far from the minimum the Newton step can point uphill (H is indefinite on part of
the valley) or overshoot, so this is *damped* Newton (Nocedal & Wright, Algorithms
3.1 and 3.3): if H is not positive definite, add tau I with tau doubled until a
Cholesky factorisation succeeds; then backtrack from the full step t = 1, halving t
until the Armijo condition f(x + t p) <= f(x) + 1e-4 t g.p holds. Once the iterates
are near the minimum the full step is always accepted (shown as step 1 and shift 0)
and the convergence is quadratic.

The gradient descent it is compared with (for n = 2, the classic case; for n = 4
it needs about as many steps) uses the same backtracking line search
along -g (starting each search from twice the last accepted step), which is the
fairest plain first-order method: a fixed step has to stay below 2/1002 (the largest
curvature at the minimum is 1002, the smallest 0.4) and then takes more steps still
(over 20000 with 0.0015).

The chained Rosenbrock function has more than one minimum: for 4 <= n <= 7 there is
a local minimum besides (1, ..., 1) (at about (-0.78, 0.61, 0.38, 0.15) for n = 4),
and which one a method finds depends on the start. From the standard start
(-1.2, 1, -1.2, 1, ...) used here both methods reach (1, ..., 1) for n = 2 and 4.

    python examples/newton_rosenbrock.py
    python -m s2sad grad examples/newton_rosenbrock.py:rosenbrock
"""
import time
from typing import NamedTuple, Optional

import numpy as np

import s2sad


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


gradient = s2sad.grad(rosenbrock)
value_and_gradient = s2sad.value_and_grad(rosenbrock)
hessian = s2sad.hessian(rosenbrock)


def hand_hessian(x):
    """The Hessian derived by hand, tridiagonal: for the term of pair (i, i+1),
    d2/dx_i^2 = 1200 x_i^2 - 400 x_{i+1} + 2, d2/dx_{i+1}^2 = 200,
    d2/dx_i dx_{i+1} = -400 x_i."""
    x = np.asarray(x, dtype=float)
    H = np.zeros((x.size, x.size))
    for i in range(x.size - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i + 1, i + 1] += 200.0
        H[i, i + 1] = H[i + 1, i] = -400.0 * x[i]
    return H


def standard_start(n):
    """(-1.2, 1, -1.2, 1, ...): the classic start (-1.2, 1) repeated."""
    return np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(n)])


def modified_cholesky_shift(H, beta=1e-3):
    """The smallest tau in {0, beta*max|H_ii|, doubling} with H + tau I positive
    definite (Nocedal & Wright, Algorithm 3.3)."""
    eye = np.eye(len(H))
    tau = 0.0
    while True:
        try:
            np.linalg.cholesky(H + tau * eye)
            return tau
        except np.linalg.LinAlgError:
            tau = max(2.0 * tau, beta * max(np.max(np.abs(np.diag(H))), 1.0))


def backtrack(f, x, fx, g, p, t=1.0, c=1e-4):
    """Halve t until f(x + t p) <= f(x) + c t g.p (Armijo); p must point downhill."""
    slope = float(g @ p)
    while f(x + t * p) > fx + c * t * slope:
        t *= 0.5
        if t < 1e-16:
            raise RuntimeError("line search failed: p is not a descent direction")
    return t


class Iterate(NamedTuple):
    """One Newton iterate x_k; step and shift are the t and tau used to leave it."""
    k: int
    x: np.ndarray
    f: float
    gnorm: float
    step: Optional[float] = None
    shift: Optional[float] = None


def newton(x0, tol=1e-10, max_iter=100):
    """Damped Newton from x0 until ||grad|| <= tol; returns (x, [Iterate, ...])."""
    x = np.array(x0, dtype=float)
    history = []
    for k in range(max_iter + 1):
        fx, g = value_and_gradient(x)
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol or k == max_iter:
            history.append(Iterate(k, x, float(fx), gnorm))
            break
        H = hessian(x)
        tau = modified_cholesky_shift(H)
        p = np.linalg.solve(H + tau * np.eye(x.size), -g)
        t = backtrack(rosenbrock, x, fx, g, p)
        history.append(Iterate(k, x, float(fx), gnorm, t, tau))
        x = x + t * p
    return x, history


def gradient_descent(x0, tol=1e-6, max_iter=50_000):
    """Steepest descent with backtracking from x0 until ||grad|| <= tol.

    Returns (x, iterations, ||grad||)."""
    x = np.array(x0, dtype=float)
    t = 1.0
    for k in range(max_iter + 1):
        fx, g = value_and_gradient(x)
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol or k == max_iter:
            return x, k, gnorm
        t = backtrack(rosenbrock, x, fx, g, -g, t=min(1.0, 2.0 * t))
        x = x - t * g


def iterations_to(history, tol):
    """The first iteration k of a Newton history with ||grad|| <= tol."""
    return next(it.k for it in history if it.gnorm <= tol)


def report(n, compare=True, compare_tol=1e-6):
    x0 = standard_start(n)
    print(f"Rosenbrock, n = {n}, from x0 = {x0}")
    error = np.max(np.abs(hessian(x0) - hand_hessian(x0)))
    print(f"  s2sad.hessian(x0) vs the hand-derived Hessian: max |diff| = {error:.1e}")
    start = time.perf_counter()
    x, history = newton(x0)
    newton_time = time.perf_counter() - start
    print("  iter          f(x)      ||grad f||     ||x - 1||     step    shift")
    for it in history:
        step = "" if it.step is None else f"{it.step:7.4f}  {it.shift:7.3g}"
        print(f"  {it.k:4d}  {it.f:13.6e}  {it.gnorm:13.6e}  "
              f"{np.linalg.norm(it.x - 1.0):12.6e}  {step}")
    print(f"Newton, n = {n}: {history[-1].k} iterations, x = {x}, "
          f"||x - 1|| = {np.linalg.norm(x - 1.0):.1e}, {newton_time:.3f} s")
    if not compare:
        print()
        return
    start = time.perf_counter()
    xg, gd_iters, gnorm = gradient_descent(x0, tol=compare_tol)
    gd_time = time.perf_counter() - start
    newton_iters = iterations_to(history, compare_tol)
    print(f"to ||grad|| <= {compare_tol:g}, n = {n}: Newton {newton_iters} iterations, "
          f"gradient descent {gd_iters} iterations ({gd_time:.2f} s, "
          f"||x - 1|| = {np.linalg.norm(xg - 1.0):.1e})")
    print()


def main(dims=(2, 4), compare_dims=(2,)):
    """Newton for each n in dims; gradient descent too for n in compare_dims (its
    thousands of steps take most of the script's time)."""
    print(s2sad.source(rosenbrock))
    for n in dims:
        report(n, compare=n in compare_dims)


if __name__ == "__main__":
    main()
