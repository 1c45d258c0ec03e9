"""The lecture's linear regression in matrix form (§3.4), fitted by gradient descent.

With a data matrix X (samples x features), targets Y (samples x outputs) and
the weights A a matrix (features x outputs), the loss is

    L(A) = sum((X A - Y)^2)

and the lecture derives its gradient by hand: with R = X A - Y, dR = 2 R, and
the adjoint of a matrix product C = X A is dA = X^T dC, so

    dA = 2 X^T (X A - Y).

s2sad writes that from the one-line loss. The generated code is compiled for the
ranks of the arguments of a call (here three matrices); knowing A and X are 2-d,
the adjoint of `X @ A` is emitted as the lecture writes it, `dA = X.T @ da`,
instead of a rank-generic helper. `dloss.source` shows the code the last call ran,
so this script prints it after the first call:

    python examples/linear_regression.py
    python -m s2sad grad examples/linear_regression.py:loss --wrt A
"""
import numpy as np

import s2sad

TRUE_A = np.array([[1.5, -2.0],
                   [0.5, 0.0],
                   [-1.0, 3.0]])   # 3 features, 2 outputs
SCALES = np.array([1.0, 0.5, 1.5])  # unequal spreads: descent takes a few dozen steps


def loss(A, X, Y):
    return np.sum((X @ A - Y) ** 2)


def closed_form_gradient(A, X, Y):
    """The lecture's hand-derived gradient, 2 X^T (X A - Y)."""
    return 2 * X.T @ (X @ A - Y)


dloss = s2sad.grad(loss, wrt=0)   # X and Y are data: only A is differentiated


def make_data(n=100, noise=0.05, seed=0):
    """Noisy samples of Y = X @ TRUE_A, the features normal with spreads SCALES."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, TRUE_A.shape[0])) * SCALES
    Y = X @ TRUE_A + noise * rng.normal(size=(n, TRUE_A.shape[1]))
    return X, Y


def fit(X, Y, steps=100, report_every=0):
    """Gradient descent from A = 0; returns (A, [(step, loss), ...]).

    The loss is a sum, not a mean, so its curvature grows with the number of
    samples: the step is 1 / (largest eigenvalue of 2 X^T X), the largest step
    that is stable.
    """
    lr = 1.0 / (2 * np.linalg.eigvalsh(X.T @ X)[-1])
    A = np.zeros((X.shape[1], Y.shape[1]))
    history = []
    for step in range(steps + 1):
        if step == steps or (report_every and step % report_every == 0):
            history.append((step, loss(A, X, Y)))
            if report_every:
                print(f"step {step:4d}   loss {history[-1][1]:.6f}")
        if step == steps:
            break
        A = A - lr * dloss(A, X, Y)
    return A, history


def main():
    X, Y = make_data()
    A0 = np.zeros_like(TRUE_A)
    dA = dloss(A0, X, Y)
    print(dloss.source)   # after a call: the version compiled for three matrices
    gap = np.max(np.abs(dA - closed_form_gradient(A0, X, Y)))
    print(f"max |s2sad - 2 X^T (X A - Y)| at A = 0: {gap:.2e}\n")
    A, _ = fit(X, Y, report_every=10)
    exact, *_ = np.linalg.lstsq(X, Y, rcond=None)
    with np.printoptions(precision=4, suppress=True):
        print(f"gradient descent: A =\n{A}")
        print(f"exact lstsq:      A =\n{exact}")
        print(f"true:             A =\n{TRUE_A}")


if __name__ == "__main__":
    main()
