"""The canonical examples whose generated source is pinned in this folder."""
import numpy as np


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
