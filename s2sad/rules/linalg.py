"""Linear algebra: matrix products (the lecture's dA = dC @ B.T, dB = A.T @ dC), transpose,
inner/outer products, swapaxes, inv, solve, det, slogdet, cholesky and einsum.

inv, solve, det, slogdet and cholesky differentiate through np.linalg.inv / solve, so
they need A (or L) nonsingular at the point, as the primal does."""
import operator

import numpy as np

from . import adjoint, tangent
from .template import known_rank


@adjoint(operator.matmul, np.matmul, check=False, multilinear=("a", "b"))
def matmul_adjoint(dy, y, a, b):
    """The lecture's dA = dC @ B.T, dB = A.T @ dC for matrices; a vector operand by its
    rank; stacks of matrices, or ranks not known while compiling, by a runtime helper."""
    da = dy @ b.T if known_rank(a) == 2 and known_rank(b) == 2 else \
        np.outer(dy, b) if known_rank(a) == 2 and known_rank(b) == 1 else \
        b @ dy if known_rank(a) == 1 and known_rank(b) == 2 else \
        dy * b if known_rank(a) == 1 and known_rank(b) == 1 else \
        matmul_adjoint_a(dy, a, b)
    db = a.T @ dy if known_rank(a) == 2 and known_rank(b) == 2 else \
        a.T @ dy if known_rank(a) == 2 and known_rank(b) == 1 else \
        np.outer(a, dy) if known_rank(a) == 1 and known_rank(b) == 2 else \
        dy * a if known_rank(a) == 1 and known_rank(b) == 1 else \
        matmul_adjoint_b(dy, a, b)
    return da, db


@adjoint(np.dot, multilinear=("a", "b"))
def dot_adjoint(dy, y, a, b):
    """As for @ where a and b are vectors or matrices; a scalar operand scales."""
    da = dy @ b.T if known_rank(a) == 2 and known_rank(b) == 2 else \
        np.outer(dy, b) if known_rank(a) == 2 and known_rank(b) == 1 else \
        b @ dy if known_rank(a) == 1 and known_rank(b) == 2 else \
        dy * b if known_rank(a) == 1 and known_rank(b) == 1 else \
        dot_adjoint_a(dy, a, b)
    db = a.T @ dy if known_rank(a) == 2 and known_rank(b) == 2 else \
        a.T @ dy if known_rank(a) == 2 and known_rank(b) == 1 else \
        np.outer(a, dy) if known_rank(a) == 1 and known_rank(b) == 2 else \
        dy * a if known_rank(a) == 1 and known_rank(b) == 1 else \
        dot_adjoint_b(dy, a, b)
    return da, db


@adjoint(np.transpose, linear="a")
def transpose_adjoint(dy, y, a, axes=None):
    da = np.transpose(dy, np.argsort(np.mod(axes, np.ndim(dy)))) if axes is not None \
        else np.transpose(dy)
    return da


# -- products of vectors, axis swaps --------------------------------------------

@adjoint(np.inner, multilinear=("a", "b"))
def inner_adjoint(dy, y, a, b):
    """y = a . b for vectors: dy * b and dy * a; otherwise (the last axes contracted, or
    a number scaling the other operand, which gets a number) by runtime helpers."""
    da = dy * b if known_rank(a) == 1 and known_rank(b) == 1 else inner_adjoint_a(dy, a, b)
    db = dy * a if known_rank(a) == 1 and known_rank(b) == 1 else inner_adjoint_b(dy, a, b)
    return da, db


@adjoint(np.vdot, multilinear=("a", "b"))
def vdot_adjoint(dy, y, a, b):
    """y = sum of a * b over the flattened operands (real ones: no conjugate)."""
    da = np.reshape(dy * np.ravel(b), np.shape(a))
    db = np.reshape(dy * np.ravel(a), np.shape(b))
    return da, db


@adjoint(np.outer, multilinear=("a", "b"))
def outer_adjoint(dy, y, a, b):
    """y[i, j] = a[i] * b[j] (np.outer flattens its operands first)."""
    da = np.reshape(dy @ np.ravel(b), np.shape(a))
    db = np.reshape(np.ravel(a) @ dy, np.shape(b))
    return da, db


@adjoint(np.swapaxes, linear="a")
def swapaxes_adjoint(dy, y, a, axis1, axis2):
    da = np.swapaxes(dy, axis1, axis2)
    return da


# -- inverse, solve, determinants ----------------------------------------------------
# Y.T is written np.swapaxes(Y, -1, -2) so that stacks of matrices work too.

@adjoint(np.linalg.inv)
def inv_adjoint(dy, y, a):
    """Y = inv(A):  dA = -Y.T @ dY @ Y.T."""
    y_t = np.swapaxes(y, -1, -2)
    da = -y_t @ dy @ y_t
    return da


@adjoint(np.linalg.solve)
def solve_adjoint(dy, y, a, b):
    """x = solve(A, b):  db = solve(A.T, dx),  dA = -db @ x.T  (np.outer for a vector b)."""
    # (no `or`: a template's code must be code s2sad itself accepts)
    require_shapes(True if np.ndim(a) == 2 else np.shape(b)[:-1] == np.shape(a)[:-1],
                   "np.linalg.solve of a stack of matrices with b not stacked alike")
    g = np.linalg.solve(np.swapaxes(a, -1, -2), dy)
    db = g
    da = -np.outer(g, y) if np.ndim(b) == 1 else unbroadcast(-g @ np.swapaxes(y, -1, -2), a)
    return da, db


@adjoint(np.linalg.det)
def det_adjoint(dy, y, a):
    """y = det(A):  dA = dy * y * inv(A).T."""
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    da = np.expand_dims(dy * y, (-2, -1)) * inv_t
    return da


# check=False: `upper` exists only from NumPy 2.0 (the check would refuse it on 1.x)
@adjoint(np.linalg.cholesky, check=False)
def cholesky_adjoint(dy, y, a, upper=False):
    """L = cholesky(A), A = L @ L.T:  dA = sym(L^-T @ Phi(L.T @ dL) @ L^-1),
    Phi = the lower triangle with its diagonal halved, sym(S) = (S + S.T) / 2.
    (The gradient over symmetric A; with upper=True, U = L.T and dL = dU.T.)"""
    l = np.swapaxes(y, -1, -2) if upper else y
    dl = np.swapaxes(dy, -1, -2) if upper else dy
    l_inv = np.linalg.inv(l)
    l_inv_t = np.swapaxes(l_inv, -1, -2)
    phi = np.tril(np.swapaxes(l, -1, -2) @ dl) * (1 - 0.5 * np.eye(np.shape(l)[-1], dtype=np.result_type(l)))
    s = l_inv_t @ phi @ l_inv
    da = (s + np.swapaxes(s, -1, -2)) / 2
    return da


@adjoint(np.einsum, multilinear=("operands",))
def einsum_adjoint_rule(dy, y, *operands, optimize=None, position=None):
    """y = np.einsum(*operands), linear in each operand: the adjoint of the operand at
    `position` (s2sad writes doperands once for each operand that has a gradient) is dy
    contracted with the other operands onto its labels, by a runtime helper that reads
    every form NumPy accepts: the subscripts string, explicit or implicit ('ij,jk'), with
    '...' over operands of different ranks, or the sublist form (a, [0, 1], b, [1, 2]);
    any number of operands; indices repeated in an operand (its diagonal, 'ii->i') or
    summed over in it alone. optimize= does not change the value: passed on, as a path
    for the adjoint's own contraction."""
    doperands = einsum_adjoint(dy, operands, wrt=position) if optimize is None else \
        einsum_adjoint(dy, operands, wrt=position, optimize=optimize)
    return doperands


@adjoint(np.linalg.slogdet, shape="pieces")
def slogdet_adjoint(dy, y, a):
    """(sign, logdet) = slogdet(A):  dA = dlogdet * inv(A).T; the sign is piecewise constant.

    The result is a pair the user indexes (slogdet(A)[1]); its adjoint dy arrives as
    the Pieces (dsign, dlogdet)."""
    dlogdet = dy[1]
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    da = np.expand_dims(dlogdet, (-2, -1)) * inv_t
    return da


# -- more products ---------------------------------------------------------------------

@adjoint(np.tensordot, multilinear=("a", "b"))
def tensordot_adjoint_rule(dy, y, a, b, axes=2):
    pair = tensordot_adjoint(dy, a, b, axes)
    da = pair[0]
    db = pair[1]
    return da, db


@adjoint(np.kron, multilinear=("a", "b"))
def kron_adjoint(dy, y, a, b):
    pair = unkron(dy, a, b)
    da = pair[0]
    db = pair[1]
    return da, db


@adjoint(np.cross, multilinear=("a", "b"))
def cross_adjoint(dy, y, a, b):
    """y = a x b of 3-vectors (the last axis): <dy, a x b> = <a, b x dy> = <b, dy x a>.
    (axisa=, axisb=, axisc=, axis= do not bind: refused.)"""
    require_shapes(np.shape(a)[-1:] == (3,), "np.cross of vectors that are not 3-vectors")
    require_shapes(np.shape(b)[-1:] == (3,), "np.cross of vectors that are not 3-vectors")
    da = unbroadcast(np.cross(b, dy), a)
    db = unbroadcast(np.cross(dy, a), b)
    return da, db


# -- decompositions ------------------------------------------------------------------------

@adjoint(np.linalg.pinv)
def pinv_adjoint(dy, y, a):
    """X = pinv(A), of constant rank near A (Golub and Pereyra):
    dA = -X.T dX X.T + (I - A X) dX.T X X.T + X.T X dX.T (I - X A)."""
    require_shapes(np.ndim(a) == 2, "np.linalg.pinv of a stack of matrices")
    y_t = y.T
    left = np.eye(np.shape(a)[0], dtype=np.result_type(y)) - a @ y
    right = np.eye(np.shape(a)[1], dtype=np.result_type(y)) - y @ a
    da = -y_t @ dy @ y_t + left @ dy.T @ y @ y_t + y_t @ y @ dy.T @ right
    return da


@adjoint(np.linalg.eigh, shape="pieces")
def eigh_adjoint_rule(dy, y, a, UPLO="L"):
    """(w, V) = eigh(A) reads A's lower triangle (UPLO='L' only); distinct eigenvalues."""
    require_shapes(UPLO == "L", "np.linalg.eigh with UPLO='U'")
    da = eigh_adjoint(dy, y[0], y[1])
    return da


def _svd_result(call) -> str:
    """svd(A, compute_uv=False) returns the singular values; otherwise a triple."""
    flag = [k.value for k in call.keywords if k.arg == "compute_uv"] + call.args[2:3]
    return "other" if flag and getattr(flag[0], "value", True) is False else "pieces"


@adjoint(np.linalg.svd, shape=_svd_result)
def svd_adjoint_rule(dy, y, a, full_matrices=True, compute_uv=True):
    """Through the singular values only: ds -> U diag(ds) Vh (a gradient reaching U or
    Vh is refused when it runs)."""
    da = svd_adjoint(dy, a, full_matrices, compute_uv)
    return da


# -- tangents (forward mode) of the nonlinear functions ------------------------------------
# (@, dot, inner, outer, tensordot, kron, cross and einsum are multilinear, transpose and
# swapaxes linear: forward mode applies them to the tangents)

@tangent(np.linalg.inv)
def inv_tangent(y, a, a_dot):
    """Y = inv(A):  Y_dot = -Y @ A_dot @ Y."""
    y_dot = -y @ a_dot @ y
    return y_dot


@tangent(np.linalg.solve)
def solve_tangent(y, a, a_dot, b, b_dot):
    """x = solve(A, b):  x_dot = solve(A, b_dot - A_dot @ x)."""
    y_dot = np.linalg.solve(a, b_dot - (a_dot @ y))
    return y_dot


@tangent(np.linalg.det)
def det_tangent(y, a, a_dot):
    """y = det(A):  y_dot = y * trace(inv(A) @ A_dot)."""
    y_dot = y * np.einsum("...ij,...ji->...", np.linalg.inv(a), a_dot)
    return y_dot


@tangent(np.linalg.slogdet)
def slogdet_tangent(y, a, a_dot):
    """(sign, logdet):  the sign is constant, logdet_dot = trace(inv(A) @ A_dot)."""
    y_dot = (np.zeros_like(y[0], dtype=float),
             np.einsum("...ij,...ji->...", np.linalg.inv(a), a_dot))
    return y_dot


@tangent(np.linalg.cholesky, check=False)
def cholesky_tangent(y, a, a_dot, upper=False):
    """L = cholesky(A):  L_dot = L Phi(L^-1 S L^-T), S = (A_dot + A_dot.T) / 2 (the
    symmetric convention of the adjoint), Phi = lower triangle, diagonal halved."""
    l = np.swapaxes(y, -1, -2) if upper else y
    l_inv = np.linalg.inv(l)
    s = (a_dot + np.swapaxes(a_dot, -1, -2)) / 2
    inner = l_inv @ s @ np.swapaxes(l_inv, -1, -2)
    l_dot = l @ (np.tril(inner) * (1 - 0.5 * np.eye(np.shape(l)[-1], dtype=np.result_type(l))))
    y_dot = np.swapaxes(l_dot, -1, -2) if upper else l_dot
    return y_dot


@tangent(np.linalg.pinv)
def pinv_tangent(y, a, a_dot):
    """X = pinv(A):  X_dot = -X A_dot X + X X.T A_dot.T (I - A X) + (I - X A) A_dot.T X.T X."""
    require_shapes(np.ndim(a) == 2, "np.linalg.pinv of a stack of matrices")
    left = np.eye(np.shape(a)[0], dtype=np.result_type(y)) - a @ y
    right = np.eye(np.shape(a)[1], dtype=np.result_type(y)) - y @ a
    y_dot = -y @ a_dot @ y + y @ y.T @ a_dot.T @ left + right @ a_dot.T @ y.T @ y
    return y_dot


@tangent(np.linalg.eigh)
def eigh_tangent(y, a, a_dot, UPLO="L"):
    require_shapes(UPLO == "L", "np.linalg.eigh with UPLO='U'")
    y_dot = eigh_tangents(y[0], y[1], a_dot)
    return y_dot


@tangent(np.linalg.svd)
def svd_tangent(y, a, a_dot, full_matrices=True, compute_uv=True):
    y_dot = svd_tangents(a, a_dot, compute_uv)
    return y_dot
