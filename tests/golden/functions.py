"""The canonical examples whose generated source is pinned in this folder."""
import numpy as np

import s2sad


def f(x):
    return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)


def F(x: float, y: float):
    return np.sin(x + y) / (x * y)


def regression(A, X, Y):
    D = X @ A - Y
    return D @ D


def matrix_product(A, B):
    """Lecture 3.2: C = A @ B, whose adjoints are dA = dC @ B.T and dB = A.T @ dC."""
    C = A @ B
    return np.sum(np.tanh(C))


def linear_regression(A, X, Y):
    """Lecture 3.4: L = ||XA - Y||^2 in matrix form; dA = 2 X.T (XA - Y)."""
    R = X @ A - Y
    return np.sum(R ** 2)


def convolution(a, b):
    """Lecture 3.1: the loop c[i + k] += a[i] * b[k]."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def horner(x: float, c):
    """One value stored per iteration: the p that p = p * x + c[i] overwrites."""
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def rnn_outputs(W, x):
    """A list grown by append in a loop over the rows, stacked after: unrolled for
    the shape of the call, each item named after the list (hs_0, hs_1, ...)."""
    h = np.zeros(W.shape[0])
    hs = []
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def weighted_squares(x, w):
    """A generator summed over a count known only at run time: the loop Python runs,
    with the comprehension's names."""
    return sum(w * x[i] ** 2 for i in range(len(x)) if x[i] > 0.0)


def layer_norms(params):
    """A dict comprehension over a dict of parameters: one item per key, known when
    the call is compiled."""
    squares = {name: np.sum(W ** 2) for name, W in params.items()}
    return squares["W1"] + 0.5 * squares["W2"]


def lecture_convolution(a, b):
    """Lecture 3.1 in its own spelling: sizes read from shapes, the index of c named z
    and the index of a computed, x = z + y. Nothing is stored: x is recomputed."""
    n = a.shape[0] - b.shape[0] + 1
    c = np.zeros(n)
    for z in range(n):
        for y in range(b.shape[0]):
            x = z + y
            c[z] += a[x] * b[y]
    return np.sum(c ** 2)


def cell(z, W, U, b, x):
    return np.tanh(W @ z + U @ x + b)


def deq(W, U, b, x):
    z = s2sad.fixed_point(cell, np.zeros(b.shape[0]), W, U, b, x)
    return np.sum(z ** 2)
