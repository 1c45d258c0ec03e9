"""Linear algebra: matrix products (the lecture's dA = dC @ B.T, dB = A.T @ dC; @ over
broadcast stacks of any rank), transpose, inner/outer/tensor products, swapaxes, inv, solve,
det, slogdet, cholesky, einsum, pinv, lstsq, qr, matrix_power, eigh/eigvalsh, svd and
NumPy 2's np.linalg spellings (np.cross is in shapes.py).

inv, solve, det, slogdet and cholesky differentiate through np.linalg.inv / solve, so
they need A (or L) nonsingular at the point, as the primal does. cholesky, eigh and
eigvalsh read one triangle of A: the gradient lands on that triangle (what central
differences of the call see; for a symmetric A built by the program it is the usual
symmetric derivative). Eigenvectors and singular vectors need distinct values (a gradient
through them at a repeated value is refused); eig (complex in general) has no rule."""
import operator

import numpy as np

from .. import patterns, runtime
from . import adjoint, partials, tangent, without_rule
from .template import known_rank

# NumPy 2's array-API spellings in np.linalg (positional-only parameters x1, x2: the
# templates bind them by position)
_ARRAY_API = hasattr(np.linalg, "matrix_transpose")
_ARRAY_API_MATMUL = (np.linalg.matmul,) if _ARRAY_API else ()


@adjoint(operator.matmul, np.matmul, *_ARRAY_API_MATMUL, check=False,
         multilinear=("a", "b"))
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
@adjoint(*((np.linalg.outer,) if _ARRAY_API else ()), check=False, multilinear=("a", "b"))
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
    """L = cholesky(A), A = L @ L.T, read from A's lower triangle (U = L.T from the upper
    one with upper=True): with S = L^-T @ Phi(L.T @ dL) @ L^-1, Phi the lower triangle
    with its diagonal halved, the symmetric gradient is (S + S.T) / 2; on the triangle
    read (what central differences of the call see), its off-diagonal entries count twice."""
    l = np.swapaxes(y, -1, -2) if upper else y
    dl = np.swapaxes(dy, -1, -2) if upper else dy
    l_inv = np.linalg.inv(l)
    l_inv_t = np.swapaxes(l_inv, -1, -2)
    product = np.swapaxes(l, -1, -2) @ dl
    phi = np.tril(product, -1) + np.triu(np.tril(product)) / 2
    s = l_inv_t @ phi @ l_inv
    folded = np.tril(s + np.swapaxes(s, -1, -2), -1) + np.triu(np.tril(s))
    da = np.swapaxes(folded, -1, -2) if upper else folded
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
@adjoint(*((np.linalg.tensordot,) if _ARRAY_API else ()), check=False, multilinear=("a", "b"))
def tensordot_adjoint_rule(dy, y, a, b, axes=2):
    pair = tensordot_adjoint(dy, a, b, axes)
    da = pair[0]
    db = pair[1]
    return da, db


# tensordot_adjoint(g, a, b, axes) = (f(g, b), h(a, g)), the gradients of <g, tensordot(a, b)>:
# f is bilinear in (g, b), h in (a, g), and <dda, f(g, b)> + <ddb, h(a, g)> =
# <tensordot(dda, b) + tensordot(a, ddb), g>, so it has its own rules (second order).

@adjoint(runtime.tensordot_adjoint, check=False, shape="pieces")
def tensordot_adjoint_adjoint(dy, y, g, a, b, axes=2):
    dg = np.tensordot(dy[0], b, axes) + np.tensordot(a, dy[1], axes)
    da = tensordot_adjoint(g, a, dy[1], axes)[0]
    db = tensordot_adjoint(g, dy[0], b, axes)[1]
    return dg, da, db


@tangent(runtime.tensordot_adjoint, check=False)
def tensordot_adjoint_tangent(y, g, g_dot, a, a_dot, b, b_dot, axes=2):
    moved = tensordot_adjoint(g_dot, a, b, axes)
    crossed = tensordot_adjoint(g, a_dot, b_dot, axes)
    y_dot = (moved[0] + crossed[0], moved[1] + crossed[1])
    return y_dot


@adjoint(np.kron, multilinear=("a", "b"))
def kron_adjoint(dy, y, a, b):
    pair = unkron(dy, a, b)
    da = pair[0]
    db = pair[1]
    return da, db


@adjoint(np.linalg.matrix_power)
def matrix_power_adjoint(dy, y, a, n):
    """Y = A^n (n a constant integer; negative through inv): dA = L(A.T, dY), the upper
    right block of [[A.T, dY], [0, A.T]]^n (the Frechet derivative's block form)."""
    k = np.shape(a)[-1]
    a_t = np.swapaxes(a, -1, -2)
    block = np.concatenate((np.concatenate((a_t, dy), axis=-1),
                            np.concatenate((np.zeros_like(dy), a_t), axis=-1)), axis=-2)
    da = np.linalg.matrix_power(block, n)[..., :k, k:]
    return da


@tangent(np.linalg.matrix_power)
def matrix_power_tangent(y, a, a_dot, n):
    k = np.shape(a)[-1]
    block = np.concatenate((np.concatenate((a, a_dot), axis=-1),
                            np.concatenate((np.zeros_like(a_dot), a), axis=-1)), axis=-2)
    y_dot = np.linalg.matrix_power(block, n)[..., :k, k:]
    return y_dot


if _ARRAY_API:
    @adjoint(np.linalg.matrix_transpose, check=False, linear="x")
    def matrix_transpose_adjoint(dy, y, x):
        dx = np.swapaxes(dy, -1, -2)
        return dx

    @adjoint(np.linalg.diagonal, check=False, linear="x")
    def linalg_diagonal_adjoint(dy, y, x, offset=0):
        """np.linalg.diagonal takes the diagonal of the last two axes."""
        dx = undiagonal(dy, x, offset, -2, -1)
        return dx

    @adjoint(np.linalg.vecdot, check=False, multilinear=("x1", "x2"))
    def vecdot_adjoint(dy, y, x1, x2, axis=-1):
        """y = sum(x1 * x2, axis) (real operands)."""
        dx1 = unbroadcast(np.expand_dims(dy, axis) * x2, x1)
        dx2 = unbroadcast(np.expand_dims(dy, axis) * x1, x2)
        return dx1, dx2

    @adjoint(np.linalg.svdvals, check=False)
    def svdvals_adjoint(dy, y, x):
        """s = svdvals(A):  dA = U diag(ds) Vh (the singular vectors computed again)."""
        usv = np.linalg.svd(x, full_matrices=False)
        dx = (usv[0] * np.expand_dims(dy, -2)) @ usv[2]
        return dx

    @tangent(np.linalg.svdvals, check=False)
    def svdvals_tangent(y, x, x_dot):
        usv = np.linalg.svd(x, full_matrices=False)
        y_dot = np.einsum("...ik,...ij,...kj->...k", usv[0], x_dot, usv[2])
        return y_dot


# -- decompositions ------------------------------------------------------------------------

@adjoint(np.linalg.pinv)
def pinv_adjoint(dy, y, a, rcond=None, hermitian=False):
    """X = pinv(A), of constant rank near A (Golub and Pereyra), stacks too:
    dA = -X.T dX X.T + (I - A X) dX.T X X.T + X.T X dX.T (I - X A)."""
    y_t = np.swapaxes(y, -1, -2)
    dy_t = np.swapaxes(dy, -1, -2)
    left = np.eye(np.shape(a)[-2], dtype=np.result_type(y)) - a @ y
    right = np.eye(np.shape(a)[-1], dtype=np.result_type(y)) - y @ a
    da = -y_t @ dy @ y_t + left @ dy_t @ y @ y_t + y_t @ y @ dy_t @ right
    return da


@adjoint(np.linalg.lstsq, shape="pieces")
def lstsq_adjoint(dy, y, a, b, rcond=None):
    """(x, residuals, rank, s) = lstsq(A, b), A of full rank (x = pinv(A) b, rank constant
    near A): dx through pinv's adjoint with dX = dx b.T, db = pinv(A).T dx; the residuals
    |A x - b|^2 per column (x minimises them, so only their explicit dependence counts):
    2 r dres x.T and -2 r dres, r = A x - b; the singular values: U diag(ds) Vh."""
    require_shapes(y[2] == min(np.shape(a)), "np.linalg.lstsq of a matrix of deficient rank")
    vector = np.ndim(b) == 1
    x = np.expand_dims(y[0], -1) if vector else y[0]
    b_m = np.expand_dims(b, -1) if vector else b
    dx = np.expand_dims(dy[0], -1) if vector else dy[0]
    p = np.linalg.pinv(a)
    g = dx @ b_m.T
    left = np.eye(np.shape(a)[0], dtype=np.result_type(p)) - a @ p
    right = np.eye(np.shape(a)[1], dtype=np.result_type(p)) - p @ a
    r = a @ x - b_m
    dres = np.zeros(np.shape(x)[-1:], dtype=np.result_type(p)) if np.size(y[1]) == 0 \
        else dy[1]
    usv = np.linalg.svd(a, full_matrices=False)
    da = -p.T @ g @ p.T + left @ g.T @ p @ p.T + p.T @ p @ g.T @ right + \
        2 * (r * dres) @ x.T + (usv[0] * dy[3]) @ usv[2]
    g_b = p.T @ dx - 2 * r * dres
    db = g_b[:, 0] if vector else g_b
    return da, db


def _qr_result(call) -> str:
    """qr(A, mode='r') returns R; the other modes a pair."""
    mode = [k.value for k in call.keywords if k.arg == "mode"] + call.args[1:2]
    return "other" if mode and getattr(mode[0], "value", None) == "r" else "pieces"


@adjoint(np.linalg.qr, shape=_qr_result)
def qr_adjoint(dy, y, a, mode="reduced"):
    """(Q, R) = qr(A), A (m, n) with m >= n and full rank:  with M = R dR.T - dQ.T Q,
    dA = (dQ + Q copyltu(M)) R^-T, copyltu(M) = tril(M) + tril(M, -1).T. mode='complete'
    (m > n): Q's columns past n are a basis LAPACK chooses, a gradient through them is
    refused; mode='r' computes Q again."""
    n = np.shape(a)[-1]
    require_shapes(np.shape(a)[-2] >= n, "np.linalg.qr of a wide matrix (m < n)")
    require_shapes(mode != "raw", "np.linalg.qr with mode='raw'")
    q = np.linalg.qr(a)[0] if mode == "r" else y[0][..., :n]
    r = y[..., :n, :] if mode == "r" else y[1][..., :n, :]
    dq = np.zeros_like(q) if mode == "r" else dy[0][..., :n]
    dr = dy[..., :n, :] if mode == "r" else dy[1][..., :n, :]
    require_shapes(True if mode == "r" else np.count_nonzero(dy[0][..., n:]) == 0,
                   "np.linalg.qr with a gradient through the columns of Q past n (write "
                   "mode='reduced')")
    m = r @ np.swapaxes(dr, -1, -2) - np.swapaxes(dq, -1, -2) @ q
    copied = np.tril(m) + np.swapaxes(np.tril(m, -1), -1, -2)
    da = np.swapaxes(np.linalg.solve(r, np.swapaxes(dq + q @ copied, -1, -2)), -1, -2)
    return da


# eigh and svd are written in NumPy (no runtime helper), so a gradient through them can be
# differentiated again. Off the diagonal, F_ij = 1 / (w_j - w_i) (eigh) or
# 1 / (s_j^2 - s_i^2) (svd); it is set to 0 where two values coincide, and a gradient that
# would need it there (through an eigenvector or a singular vector) is refused.

@adjoint(np.linalg.eigh, shape="pieces")
def eigh_adjoint_rule(dy, y, a, UPLO="L"):
    """(w, V) = eigh(A), A read from the triangle UPLO names:  with the symmetric matrix S
    that triangle stands for, G = V (diag(dw) + F * (V.T dV)) V.T is the gradient over S;
    on the triangle read, its off-diagonal entries count twice (G_ij + G_ji)."""
    w = y[0]
    v = y[1]
    dw = dy[0]
    dv = dy[1]
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    require_shapes(np.logical_or(np.count_nonzero(gaps == 0) == np.size(w),
                                 np.count_nonzero(dv) == 0),
                   "np.linalg.eigh with a gradient through an eigenvector of a repeated "
                   "eigenvalue")
    v_t = np.swapaxes(v, -1, -2)
    g = (v * np.expand_dims(dw, -2)) @ v_t + \
        v @ (1 / np.where(gaps == 0, np.inf, gaps) * (v_t @ dv)) @ v_t
    h = g + np.swapaxes(g, -1, -2)
    da = np.tril(h, -1) + np.triu(np.tril(g)) if UPLO == "L" else \
        np.triu(h, 1) + np.triu(np.tril(g))
    return da


@adjoint(np.linalg.eigvalsh)
def eigvalsh_adjoint(dy, y, a, UPLO="L"):
    """w = eigvalsh(A):  G = V diag(dw) V.T, on the triangle read (the eigenvectors are
    computed again)."""
    v = np.linalg.eigh(a, UPLO)[1]
    g = (v * np.expand_dims(dy, -2)) @ np.swapaxes(v, -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    da = np.tril(h, -1) + np.triu(np.tril(g)) if UPLO == "L" else \
        np.triu(h, 1) + np.triu(np.tril(g))
    return da


def _svd_result(call) -> str:
    """svd(A, compute_uv=False) returns the singular values; otherwise a triple."""
    flag = [k.value for k in call.keywords if k.arg == "compute_uv"] + call.args[2:3]
    return "other" if flag and getattr(flag[0], "value", True) is False else "pieces"


@adjoint(np.linalg.svd, shape=_svd_result)
def svd_adjoint_rule(dy, y, a, full_matrices=True, compute_uv=True, hermitian=False):
    """A = U S Vh (k = min(m, n) singular triples; V = Vh.T), distinct nonzero singular
    values where U or Vh is differentiated:
    dA = U [(F * (U.T dU - dU.T U)) S + diag(dS) + S (F * (V.T dV - dV.T V))] Vh
         + (I - U U.T) dU S^-1 Vh + U S^-1 dV.T (I - V V.T).
    With full_matrices=True, U's (or Vh's) columns past k are a basis the LAPACK routine
    chooses: a gradient through them is refused. compute_uv=False: dA = U diag(ds) Vh."""
    s = y[1] if compute_uv else y
    k = np.shape(s)[-1]
    u = (y[0][..., :k] if full_matrices else y[0]) if compute_uv else \
        np.linalg.svd(a, full_matrices=False)[0]
    vh = (y[2][..., :k, :] if full_matrices else y[2]) if compute_uv else \
        np.linalg.svd(a, full_matrices=False)[2]
    ds = dy[1] if compute_uv else dy
    du = (dy[0][..., :k] if full_matrices else dy[0]) if compute_uv else np.zeros_like(u)
    dvh = (dy[2][..., :k, :] if full_matrices else dy[2]) if compute_uv else np.zeros_like(vh)
    require_shapes((np.count_nonzero(dy[0][..., k:]) + np.count_nonzero(dy[2][..., k:, :]) == 0
                    if full_matrices else True) if compute_uv else True,
                   "np.linalg.svd with a gradient through the columns of U or rows of Vh "
                   "past min(m, n) (write full_matrices=False)")
    s2 = s * s
    gaps = np.expand_dims(s2, -2) - np.expand_dims(s2, -1)
    require_shapes(np.logical_or(np.count_nonzero(gaps == 0) + np.count_nonzero(s == 0) ==
                                 np.size(s), np.count_nonzero(du) + np.count_nonzero(dvh) == 0),
                   "np.linalg.svd with a gradient through U or Vh at a repeated or zero "
                   "singular value")
    f = 1 / np.where(gaps == 0, np.inf, gaps)
    u_t = np.swapaxes(u, -1, -2)
    dv_t = dvh
    v = np.swapaxes(vh, -1, -2)
    du_t = np.swapaxes(du, -1, -2)
    inner = f * (u_t @ du - du_t @ u) * np.expand_dims(s, -2) + \
        np.eye(k, dtype=np.result_type(s)) * np.expand_dims(ds, -2) + \
        np.expand_dims(s, -1) * (f * (vh @ np.swapaxes(dv_t, -1, -2) - dv_t @ v))
    s_safe = np.where(s == 0, np.inf, s)
    du_s = du / np.expand_dims(s_safe, -2)
    dv_s_t = dv_t / np.expand_dims(s_safe, -1)
    da = u @ inner @ vh + (du_s - u @ (u_t @ du_s)) @ vh + u @ (dv_s_t - (dv_s_t @ v) @ vh) \
        if compute_uv else (u * np.expand_dims(ds, -2)) @ vh
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
    """L = cholesky(A):  L_dot = L Phi(L^-1 S L^-T), S the symmetric matrix the triangle
    read of A_dot stands for, Phi = lower triangle, diagonal halved."""
    l = np.swapaxes(y, -1, -2) if upper else y
    read = np.swapaxes(a_dot, -1, -2) if upper else a_dot
    l_inv = np.linalg.inv(l)
    s = np.tril(read) + np.swapaxes(np.tril(read, -1), -1, -2)
    inner = l_inv @ s @ np.swapaxes(l_inv, -1, -2)
    l_dot = l @ (np.tril(inner, -1) + np.triu(np.tril(inner)) / 2)
    y_dot = np.swapaxes(l_dot, -1, -2) if upper else l_dot
    return y_dot


@tangent(np.linalg.pinv)
def pinv_tangent(y, a, a_dot, rcond=None, hermitian=False):
    """X = pinv(A):  X_dot = -X A_dot X + X X.T A_dot.T (I - A X) + (I - X A) A_dot.T X.T X."""
    y_t = np.swapaxes(y, -1, -2)
    a_dot_t = np.swapaxes(a_dot, -1, -2)
    left = np.eye(np.shape(a)[-2], dtype=np.result_type(y)) - a @ y
    right = np.eye(np.shape(a)[-1], dtype=np.result_type(y)) - y @ a
    y_dot = -y @ a_dot @ y + y @ y_t @ a_dot_t @ left + right @ a_dot_t @ y_t @ y
    return y_dot


@tangent(np.linalg.lstsq)
def lstsq_tangent(y, a, a_dot, b, b_dot, rcond=None):
    """x_dot = X_dot b + X b_dot (X = pinv(A) and pinv's tangent); residuals_dot =
    2 sum(r * (A_dot x - b_dot)) per column; s_dot = diag(U.T A_dot V); the rank: 0."""
    require_shapes(y[2] == min(np.shape(a)), "np.linalg.lstsq of a matrix of deficient rank")
    p = np.linalg.pinv(a)
    left = np.eye(np.shape(a)[0], dtype=np.result_type(p)) - a @ p
    right = np.eye(np.shape(a)[1], dtype=np.result_type(p)) - p @ a
    p_dot = -p @ a_dot @ p + p @ p.T @ a_dot.T @ left + right @ a_dot.T @ p.T @ p
    x_dot = p_dot @ b + p @ b_dot
    r = a @ y[0] - b
    residuals_dot = np.zeros(np.shape(y[1])) if np.size(y[1]) == 0 else \
        np.reshape(2 * np.sum(r * (a_dot @ y[0] - b_dot), axis=0), np.shape(y[1]))
    usv = np.linalg.svd(a, full_matrices=False)
    s_dot = np.einsum("ik,ij,kj->k", usv[0], a_dot, usv[2])
    y_dot = (x_dot, residuals_dot, 0.0, s_dot)
    return y_dot


@tangent(np.linalg.qr)
def qr_tangent(y, a, a_dot, mode="reduced"):
    """C = Q.T A_dot R^-1, Omega = tril(C, -1) - tril(C, -1).T:  R_dot = (C - Omega) R,
    Q_dot = A_dot R^-1 - Q (C - Omega) (mode='complete': Q's columns past n get nan)."""
    n = np.shape(a)[-1]
    require_shapes(np.shape(a)[-2] >= n, "np.linalg.qr of a wide matrix (m < n)")
    require_shapes(mode != "raw", "np.linalg.qr with mode='raw'")
    q = np.linalg.qr(a)[0] if mode == "r" else y[0][..., :n]
    r = y[..., :n, :] if mode == "r" else y[1][..., :n, :]
    a_dot_r = np.swapaxes(np.linalg.solve(np.swapaxes(r, -1, -2), np.swapaxes(a_dot, -1, -2)),
                          -1, -2)
    c = np.swapaxes(q, -1, -2) @ a_dot_r
    upper = np.triu(c) + np.swapaxes(np.tril(c, -1), -1, -2)
    r_dot = upper @ r
    q_dot = a_dot_r - q @ upper
    extra = np.shape(a)[-2] - n
    r_full = np.concatenate((r_dot, np.zeros(np.shape(r_dot)[:-2] + (extra, n))), -2) \
        if mode == "complete" else r_dot
    q_full = np.concatenate((q_dot, np.full(np.shape(q_dot)[:-1] + (extra,), np.nan)), -1) \
        if mode == "complete" else q_dot
    y_dot = r_full if mode == "r" else (q_full, r_full)
    return y_dot


@tangent(np.linalg.eigh)
def eigh_tangent(y, a, a_dot, UPLO="L"):
    """With S_dot the symmetric matrix the triangle read of A_dot stands for and
    P = V.T S_dot V:  w_dot = diag(P), V_dot = V (F * P) (F infinite at a repeated
    eigenvalue: forward mode cannot tell whether V is used)."""
    w = y[0]
    v = y[1]
    s_dot = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if UPLO == "L" else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    p = np.swapaxes(v, -1, -2) @ s_dot @ v
    eye = np.eye(np.shape(w)[-1], dtype=np.result_type(w))
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye
    y_dot = (np.diagonal(p, 0, -2, -1), v @ ((1 - eye) / gaps * p))
    return y_dot


@tangent(np.linalg.eigvalsh)
def eigvalsh_tangent(y, a, a_dot, UPLO="L"):
    v = np.linalg.eigh(a, UPLO)[1]
    s_dot = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if UPLO == "L" else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    y_dot = np.einsum("...ij,...ik,...kj->...j", v, s_dot, v)
    return y_dot


@tangent(np.linalg.svd)
def svd_tangent(y, a, a_dot, full_matrices=True, compute_uv=True, hermitian=False):
    """P = U.T A_dot V:  s_dot = diag(P); U_dot = U (F * (P S + S P.T)) + (I - U U.T) A_dot V
    S^-1, V_dot = V (F * (S P + P.T S)) + (I - V V.T) A_dot.T U S^-1, F infinite at a
    repeated singular value; with full_matrices=True, the tangents of U's (Vh's) columns
    (rows) past min(m, n) are nan (forward mode cannot tell whether they are used)."""
    s = y[1] if compute_uv else y
    k = np.shape(s)[-1]
    u = y[0][..., :k] if compute_uv else np.linalg.svd(a, full_matrices=False)[0]
    vh = y[2][..., :k, :] if compute_uv else np.linalg.svd(a, full_matrices=False)[2]
    v = np.swapaxes(vh, -1, -2)
    p = np.swapaxes(u, -1, -2) @ a_dot @ v
    s_dot = np.diagonal(p, 0, -2, -1)
    eye = np.eye(k, dtype=np.result_type(s))
    s2 = s * s
    f = (1 - eye) / (np.expand_dims(s2, -2) - np.expand_dims(s2, -1) + eye)
    p_t = np.swapaxes(p, -1, -2)
    s_row = np.expand_dims(s, -2)
    s_col = np.expand_dims(s, -1)
    u_dot = u @ (f * (p * s_row + s_col * p_t)) + \
        (a_dot @ v - u @ (np.swapaxes(u, -1, -2) @ a_dot @ v)) / s_row
    v_dot = v @ (f * (s_col * p + p_t * s_row)) + \
        (np.swapaxes(a_dot, -1, -2) @ u - v @ (vh @ np.swapaxes(a_dot, -1, -2) @ u)) / s_row
    m = np.shape(a)[-2]
    n = np.shape(a)[-1]
    u_full = np.concatenate((u_dot, np.full(np.shape(u_dot)[:-1] + (m - k,), np.nan)), -1) \
        if full_matrices else u_dot
    vh_full = np.concatenate((np.swapaxes(v_dot, -1, -2),
                              np.full(np.shape(v_dot)[:-2] + (n - k, n), np.nan)), -2) \
        if full_matrices else np.swapaxes(v_dot, -1, -2)
    y_dot = (u_full, s_dot, vh_full) if compute_uv else s_dot
    return y_dot


# -- products of a matrix with itself (patterns.py recognises them in the primal) ---------

@adjoint(patterns.gram)
def gram_adjoint(dy, y, a):
    """Y = A.T @ A:  dA = A @ (dY + dY.T), one product where the general rule makes two
    (dY is not assumed symmetric: a program may read one triangle of Y)."""
    da = a @ (dy + dy.T)
    return da


@adjoint(patterns.gram_outer)
def gram_outer_adjoint(dy, y, a):
    """Y = A @ A.T:  dA = (dY + dY.T) @ A."""
    da = (dy + dy.T) @ a
    return da


@partials(patterns.sum_of_squares, elementwise=False, shape="other")
def sum_of_squares_partials(y, a):
    """y = a @ a for a vector a: dy * 2 * a, one product (dy a number)."""
    return 2 * a


# -- a Cholesky factor's uses (patterns.py recognises them in the primal) -----------------
# Both read A through L = cholesky(A), so their gradient lands on the lower triangle
# cholesky reads, folded as cholesky's own adjoint folds it; L's adjoint (an inverse and
# three products) is not run for these uses.

@adjoint(patterns.cholesky_solve)
def cholesky_solve_adjoint(dy, y, a, b, l):
    """x = A^-1 b by the factor:  db = A^-1 dx (two solves with L),  dA = -db x.T."""
    require_shapes(True if known_rank(l) == 2 else np.ndim(l) == 2,
                   "solving with a Cholesky factor L of a stack of matrices (L.T "
                   "transposes the whole stack)")
    g = np.linalg.solve(l.T, np.linalg.solve(l, dy))
    db = g
    s = -np.outer(g, y) if known_rank(b) == 1 else -(g @ y.T) if known_rank(b) == 2 else \
        -(np.reshape(g, (np.shape(g)[0], -1)) @ np.reshape(y, (np.shape(y)[0], -1)).T)
    da = np.tril(s + s.T) - np.diag(np.diagonal(s))
    return da, db


@adjoint(patterns.cholesky_logdet)
def cholesky_logdet_adjoint(dy, y, a, l):
    """y = log det(A) / 2:  dA = dy * A^-1 / 2, A^-1 = L^-T L^-1 (symmetric: folded, the
    lower triangle counts twice and the diagonal once)."""
    l_inv = np.linalg.inv(l)
    a_inv = l_inv.T @ l_inv
    da = dy * (np.tril(a_inv) - np.diag(np.diagonal(a_inv)) / 2)
    return da


# -- solve, slogdet and det where the program has the inverse (patterns.py) ----------------

@adjoint(patterns.solve_by_inverse)
def solve_by_inverse_adjoint(dy, y, a, b, a_inv):
    """x = A^-1 b with A^-1 at hand:  db = A^-T dx,  dA = -db x.T."""
    g = a_inv.T @ dy
    db = g
    da = -np.outer(g, y) if known_rank(b) == 1 else -(g @ y.T) if known_rank(b) == 2 else \
        -np.outer(g, y) if np.ndim(b) == 1 else -(g @ np.swapaxes(y, -1, -2))
    return da, db


@adjoint(patterns.slogdet_by_inverse, shape="pieces")
def slogdet_by_inverse_adjoint(dy, y, a, a_inv):
    """(sign, logdet) = slogdet(A) with A^-1 at hand:  dA = dlogdet * A^-T."""
    da = dy[1] * a_inv.T
    return da


@adjoint(patterns.det_by_inverse)
def det_by_inverse_adjoint(dy, y, a, a_inv):
    """y = det(A) with A^-1 at hand:  dA = dy * y * A^-T."""
    da = dy * y * a_inv.T
    return da


# -- refused on purpose --------------------------------------------------------------------

without_rule(np.linalg.eig, "the eigenvalues and eigenvectors of a general matrix are "
             "complex, and s2sad differentiates real values",
             "for a symmetric matrix write np.linalg.eigh(a) (or scipy.linalg.eigh(a)); "
             "for its eigenvalues only, np.linalg.eigvalsh(a)")
without_rule(np.linalg.eigvals, "the eigenvalues of a general matrix are complex, and s2sad "
             "differentiates real values",
             "for a symmetric matrix write np.linalg.eigvalsh(a) (or "
             "scipy.linalg.eigh(a, eigvals_only=True))")
