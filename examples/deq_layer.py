"""A deep-equilibrium layer trained by implicit differentiation (seed 002's cyclic constraint).

A deep-equilibrium (DEQ) layer has no fixed depth: its hidden state is the solution of

    Z = tanh(Z W + X U + b)          (one row of Z per example, h hidden units)

an infinitely deep weight-tied network, run "until it stops changing". `s2sad.fixed_point`
finds Z by iterating the map. Written inside the loss, its derivative is not the
derivative of the iterations (those are not stored at all) but seed 002's: Z = cell(Z, θ)
is a cyclic constraint, so its Lagrange multiplier solves the linear equation

    (I - ∂cell/∂Z)ᵀ lam = dZ,        then dθ = (∂cell/∂θ)ᵀ lam,

which the generated code solves by iterating lam = dZ + (∂cell/∂Z)ᵀ lam with s2sad's vjp
of `cell` (for a Z of over 100 entries; a dense solve below). The script prints that
generated code.

The map contracts when the spectral norm of W is below 1 (tanh' <= 1), so after every
gradient step W is rescaled to norm <= 0.9 (projected gradient descent): the forward
iteration, and the multiplier iteration, then converge.

The task is two interleaved half-moons in 2-D (seeded); the readout is logistic,
p = sigmoid(Z v + c). The script checks the gradient at the start against central
differences of the converged loss (every entry of W, U, b, v and c), trains by gradient
descent with momentum, and prints the loss every few epochs and the accuracy, on the
training points and on new ones.

    python examples/deq_layer.py            # ~5 s
    python examples/deq_layer.py --quick    # fewer points and epochs (the tests' run)
"""
import sys
import time

import numpy as np

import s2sad

TOL = 1e-12          # the forward solve's tolerance (tight: the checks difference it)
MAX_NORM = 0.9       # spectral norm bound on W: the map Z -> cell(Z, ...) contracts


def cell(Z, W, U, b, X):
    """One step of the equilibrium map: Z W + X U + b through tanh."""
    return np.tanh(Z @ W + X @ U + b)


def loss(W, U, b, v, c, X, y):
    """Mean logistic loss of the readout Z v + c of the equilibrium Z."""
    Z = s2sad.fixed_point(cell, np.zeros((X.shape[0], W.shape[0])), W, U, b, X, tol=TOL)
    logits = Z @ v + c
    return np.mean(np.logaddexp(0.0, logits) - y * logits)


value_and_gradient = s2sad.value_and_grad(loss, wrt=(0, 1, 2, 3, 4))
NAMES = ("W", "U", "b", "v", "c")


def make_moons(n, seed=0, noise=0.25):
    """Two interleaved half circles, standardised; labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, np.pi, n)
    upper = rng.random(n) < 0.5
    X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)],
                 np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = X + noise * rng.normal(size=X.shape)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, upper.astype(float)


def init_params(hidden, seed=1):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(hidden, hidden))
    W *= 0.5 / np.linalg.norm(W, 2)
    U = rng.normal(size=(2, hidden))
    b = 0.1 * rng.normal(size=hidden)
    v = rng.normal(size=hidden) / np.sqrt(hidden)
    return [W, U, b, v, 0.0]


def project(W):
    """W rescaled to spectral norm <= MAX_NORM (a copy; the map then contracts)."""
    norm = np.linalg.norm(W, 2)
    return W * (MAX_NORM / norm) if norm > MAX_NORM else W


def accuracy(params, X, y):
    W, U, b, v, c = params
    Z = s2sad.fixed_point(cell, np.zeros((X.shape[0], W.shape[0])), W, U, b, X, tol=TOL)
    return float(np.mean(((Z @ v + c) > 0) == (y > 0.5)))


def central_differences(params, X, y, eps=1e-5):
    """d loss / d params by central differences of the converged loss, entry by entry."""
    result = []
    for k, p in enumerate(params):
        p = np.asarray(p, dtype=float)
        grad = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            probe = []
            for sign in (1.0, -1.0):
                moved = p.copy()
                moved[i] += sign * eps
                args = list(params)
                args[k] = moved if moved.ndim else float(moved)
                probe.append(loss(*args, X, y))
            grad[i] = (probe[0] - probe[1]) / (2 * eps)
        result.append(grad if grad.ndim else float(grad))
    return result


def check_gradient(params, X, y):
    """The largest difference between s2sad's gradient and central differences, per
    parameter, relative to that parameter's largest gradient entry."""
    _, grads = value_and_gradient(*params, X, y)
    numeric = central_differences(params, X, y)
    errors = {}
    for name, got, expected in zip(NAMES, grads, numeric):
        assert np.shape(got) == np.shape(expected), (name, np.shape(got))
        scale = max(float(np.max(np.abs(expected))), 1e-12)
        errors[name] = float(np.max(np.abs(np.subtract(got, expected)))) / scale
    return errors


def train(params, X, y, epochs, lr=1.0, momentum=0.9, report_every=25):
    """Gradient descent with heavy-ball momentum, W projected after every step."""
    params = [np.array(p, dtype=float) if np.ndim(p) else float(p) for p in params]
    velocity = [np.zeros_like(p) if np.ndim(p) else 0.0 for p in params]
    history = []
    for epoch in range(epochs + 1):
        value, grads = value_and_gradient(*params, X, y)
        history.append(float(value))
        if epoch % report_every == 0 or epoch == epochs:
            print(f"  epoch {epoch:4d}  loss {value:.4f}  accuracy "
                  f"{accuracy(params, X, y):.3f}  |W|_2 {np.linalg.norm(params[0], 2):.3f}")
        if epoch == epochs:
            break
        velocity = [momentum * u - lr * g for u, g in zip(velocity, grads)]
        params = [p + u for p, u in zip(params, velocity)]
        params[0] = project(params[0])
    return params, history


def main(points=400, hidden=12, epochs=300):
    """Check the gradient at the start (every entry), train, report; returns the checks
    for the tests."""
    X, y = make_moons(points)
    X_test, y_test = make_moons(points, seed=4)
    params = init_params(hidden)
    errors = check_gradient(params, X, y)
    print("gradient at the start vs central differences of the converged loss, "
          "max |diff| / max |gradient| per parameter:")
    print("  " + "  ".join(f"{name} {e:.1e}" for name, e in errors.items()))

    print(f"\nDEQ layer, {hidden} hidden units, {points} points of two moons")
    start = time.perf_counter()
    params, history = train(params, X, y, epochs, report_every=max(epochs // 6, 1))
    seconds = time.perf_counter() - start
    final, held_out = accuracy(params, X, y), accuracy(params, X_test, y_test)
    print(f"trained in {seconds:.1f} s: loss {history[0]:.4f} -> {history[-1]:.4f}, "
          f"accuracy {final:.3f} (on {points} new points: {held_out:.3f})")

    print("\nThe generated gradient (the multiplier solve and the vjps of cell follow it):\n")
    print(value_and_gradient.source)
    return {"gradient_errors": errors, "losses": history, "accuracy": final,
            "test_accuracy": held_out}


if __name__ == "__main__":
    if "--quick" in sys.argv[1:]:
        main(points=120, hidden=8, epochs=60)
    else:
        main()
