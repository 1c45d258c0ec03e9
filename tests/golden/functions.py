"""The canonical examples whose generated source is pinned in this folder."""
import numpy as np


def f(x):
    return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)


def F(x: float, y: float):
    return np.sin(x + y) / (x * y)


def regression(A, X, Y):
    D = X @ A - Y
    return D @ D
