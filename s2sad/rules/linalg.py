"""Linear algebra: matrix products (the lecture's dA = dC @ B.T, dB = A.T @ dC) and transpose."""
import operator

import numpy as np

from . import adjoint


@adjoint(operator.matmul, np.matmul, check=False)
def matmul_adjoint(dy, y, a, b):
    da = matmul_adjoint_a(dy, a, b)
    db = matmul_adjoint_b(dy, a, b)
    return da, db


@adjoint(np.dot)
def dot_adjoint(dy, y, a, b):
    da = dot_adjoint_a(dy, a, b)
    db = dot_adjoint_b(dy, a, b)
    return da, db


@adjoint(np.transpose)
def transpose_adjoint(dy, y, a, axes=None):
    da = np.transpose(dy, np.argsort(axes)) if axes is not None else np.transpose(dy)
    return da
