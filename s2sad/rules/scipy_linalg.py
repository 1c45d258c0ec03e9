"""scipy.linalg: triangular, banded and Cholesky solves, LU (lu_factor/lu_solve, lu), solve,
inv, det, expm, logm, sqrtm, eigh and solve_sylvester, in both modes; every template calls
only functions that have rules themselves (scipy.linalg's and NumPy's), so a gradient can
be differentiated again. Stacks of matrices work where SciPy's own functions take them.

Loaded only where SciPy is installed (see rules/_load_builtin_rules). Conventions:

* A function that reads one triangle of its input (cholesky, cho_factor, eigh, solve and
  inv with assume_a='sym', 'her' or 'pos') is differentiated as the function of that
  triangle it is: the gradient lands on the triangle read (what central differences of
  the call see), and the tangent reads that triangle of the input's tangent. For a
  symmetric input built by the program (K = X @ X.T + s * I) this is the usual
  symmetric derivative. On the triangle, tril(G + G.T, -1) + triu(tril(G)) is the
  gradient G over the symmetric matrix folded: off-diagonal entries count twice.
* cho_factor's and lu_factor's pairs (c, lower), (lu, piv) are pieces of a tuple: each
  factorisation is differentiated itself (c's other triangle, which LAPACK leaves holding
  a's entries, by the identity), so `cho_solve(cho_factor(K), b)`, `c, low = cho_factor(K)`
  and `cf = cho_factor(K); cho_solve(cf, b)` all differentiate; the adjoint of such a
  pair is np.stack((d_first, zeros)), indexed as the pair is. The pivots are piecewise
  constant.
* trans= of solve_triangular and lu_solve: 0/'N' solves with A, 1/'T' and 2/'C' (the same
  for real matrices) with A.T.
* expm and logm by the block-triangular form of their Frechet derivative,
  f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]], whose adjoint is L_f(A.T, .);
  sqrtm by the Sylvester equation X X_dot + X_dot X = A_dot. logm and sqrtm need a
  real result (no eigenvalues on the closed negative real axis): refused otherwise.
* eigh: eigenvalues always, eigenvectors where the eigenvalues are distinct (the
  derivative of an eigenvector does not exist at a repeated eigenvalue: refused then);
  eig and eigvals (complex in general) are refused with eigh as the hint.
"""
import numpy as np
from scipy import linalg

from .. import patterns
from . import adjoint, tangent, without_rule
from .linalg import _svd_result, pinv_adjoint, pinv_tangent, svd_adjoint_rule, svd_tangent
from .reductions import _reduction_shape, norm_adjoint, norm_tangent
from .template import known_rank


# -- triangular and Cholesky solves --------------------------------------------------------
# (M.T is written np.swapaxes(M, -1, -2), and a vector b (one axis fewer than A) is a column
# for d op(A) = -db x.T, so that vectors, matrices and stacks alike share one formula)

@adjoint(linalg.solve_triangular)
def solve_triangular_adjoint(dy, y, a, b, trans=0, lower=False, unit_diagonal=False,
                             check_finite=True):
    """x = op(A)^-1 b, op(A) = A or A.T:  db = op(A)^-T dx;  d op(A) = -db x.T, on the
    triangle the call reads (its diagonal too unless unit_diagonal)."""
    g_b = linalg.solve_triangular(a, dy, trans=1 if trans == 0 else 1 if trans == "N" else 0,
                                  lower=lower, unit_diagonal=unit_diagonal)
    db = g_b
    vector = np.ndim(b) == np.ndim(a) - 1
    g = -np.outer(g_b, y) if known_rank(a) == 2 and known_rank(b) == 1 else \
        -g_b @ np.swapaxes(y, -1, -2) if known_rank(a) == 2 and known_rank(b) == 2 else \
        -(np.expand_dims(g_b, -1) if vector else g_b) @ \
        np.swapaxes(np.expand_dims(y, -1) if vector else y, -1, -2)
    g_a = g if trans == 0 else g if trans == "N" else np.swapaxes(g, -1, -2)
    da = np.tril(g_a, -1 if unit_diagonal else 0) if lower else \
        np.triu(g_a, 1 if unit_diagonal else 0)
    return da, db


@tangent(linalg.solve_triangular)
def solve_triangular_tangent(y, a, a_dot, b, b_dot, trans=0, lower=False,
                             unit_diagonal=False, check_finite=True):
    """x_dot = op(A)^-1 (b_dot - op(A_dot) x), A_dot read on the triangle A is."""
    read = np.tril(a_dot, -1 if unit_diagonal else 0) if lower else \
        np.triu(a_dot, 1 if unit_diagonal else 0)
    op_read = read if trans == 0 else read if trans == "N" else np.swapaxes(read, -1, -2)
    y_dot = linalg.solve_triangular(a, b_dot - op_read @ y, trans=trans, lower=lower,
                                    unit_diagonal=unit_diagonal)
    return y_dot


# -- a NumPy Cholesky factor's uses (patterns.py), by triangular solves ----------------------
# With SciPy installed these replace rules/linalg.py's templates for the same two forms,
# which can only solve with L by LU (O(n^3) per solve where a triangular solve is O(n^2)).

@adjoint(patterns.cholesky_solve)
def cholesky_solve_by_triangles_adjoint(dy, y, a, b, l):
    """x = A^-1 b, L = cholesky(A):  db = L^-T L^-1 dx,  dA = -db x.T folded on the lower
    triangle (as rules/linalg.py's cholesky_solve_adjoint)."""
    require_shapes(True if known_rank(l) == 2 else np.ndim(l) == 2,
                   "solving with a Cholesky factor L of a stack of matrices (L.T "
                   "transposes the whole stack)")
    g = linalg.solve_triangular(l, linalg.solve_triangular(l, dy, lower=True), trans=1,
                                lower=True)
    db = g
    s = -np.outer(g, y) if known_rank(b) == 1 else -(g @ y.T) if known_rank(b) == 2 else \
        -(np.reshape(g, (np.shape(g)[0], -1)) @ np.reshape(y, (np.shape(y)[0], -1)).T)
    da = np.tril(s + s.T) - np.diag(np.diagonal(s))
    return da, db


@adjoint(patterns.cholesky_logdet)
def cholesky_logdet_by_triangles_adjoint(dy, y, a, l):
    """y = log det(A) / 2:  dA = dy * A^-1 / 2 folded, A^-1 = L^-T L^-1 by two triangular
    solves (n^3 flops each)."""
    l_inv = linalg.solve_triangular(l, np.eye(np.shape(l)[-1]), lower=True)
    a_inv = linalg.solve_triangular(l, l_inv, trans=1, lower=True)
    da = dy * (np.tril(a_inv) - np.diag(np.diagonal(a_inv)) / 2)
    return da


@adjoint(linalg.cholesky)
def cholesky_adjoint(dy, y, a, lower=False, check_finite=True):
    """L = cholesky(A, lower=True), A = L L.T, read from A's lower triangle (U = L.T from
    the upper one by default): with G = L^-T Phi(L.T dL) L^-1, Phi the lower triangle
    with its diagonal halved, the symmetric gradient is (G + G.T) / 2; on the triangle
    read, its off-diagonal entries count twice."""
    l = y if lower else np.swapaxes(y, -1, -2)
    dl = dy if lower else np.swapaxes(dy, -1, -2)
    product = np.swapaxes(l, -1, -2) @ dl
    phi = np.tril(product, -1) + np.triu(np.tril(product)) / 2
    left = linalg.solve_triangular(l, phi, trans=1, lower=True)
    g = np.swapaxes(linalg.solve_triangular(l, np.swapaxes(left, -1, -2), trans=1,
                                            lower=True), -1, -2)
    folded = np.tril(g + np.swapaxes(g, -1, -2), -1) + np.triu(np.tril(g))
    da = folded if lower else np.swapaxes(folded, -1, -2)
    return da


@tangent(linalg.cholesky)
def cholesky_tangent(y, a, a_dot, lower=False, check_finite=True):
    """L_dot = L Phi(L^-1 S L^-T), S the symmetric matrix the triangle read of A_dot
    stands for."""
    l = y if lower else np.swapaxes(y, -1, -2)
    read = a_dot if lower else np.swapaxes(a_dot, -1, -2)
    s = np.tril(read) + np.swapaxes(np.tril(read, -1), -1, -2)
    left = linalg.solve_triangular(l, s, lower=True)
    inner = linalg.solve_triangular(l, np.swapaxes(left, -1, -2), lower=True)
    l_dot = l @ (np.tril(inner, -1) + np.triu(np.tril(inner)) / 2)
    y_dot = l_dot if lower else np.swapaxes(l_dot, -1, -2)
    return y_dot


@adjoint(linalg.cho_factor, shape="pieces")
def cho_factor_adjoint(dy, y, a, lower=False, check_finite=True):
    """(c, lower) = cho_factor(A): c's triangle is cholesky(A, lower)'s (the adjoint as
    there), its other triangle a's own entries (the identity)."""
    dc = dy[0]
    l = np.tril(y[0]) if lower else np.swapaxes(np.triu(y[0]), -1, -2)
    dl = np.tril(dc) if lower else np.swapaxes(np.triu(dc), -1, -2)
    product = np.swapaxes(l, -1, -2) @ dl
    phi = np.tril(product, -1) + np.triu(np.tril(product)) / 2
    left = linalg.solve_triangular(l, phi, trans=1, lower=True)
    g = np.swapaxes(linalg.solve_triangular(l, np.swapaxes(left, -1, -2), trans=1,
                                            lower=True), -1, -2)
    folded = np.tril(g + np.swapaxes(g, -1, -2), -1) + np.triu(np.tril(g))
    da = folded + np.triu(dc, 1) if lower else np.swapaxes(folded, -1, -2) + np.tril(dc, -1)
    return da


@tangent(linalg.cho_factor)
def cho_factor_tangent(y, a, a_dot, lower=False, check_finite=True):
    l = np.tril(y[0]) if lower else np.swapaxes(np.triu(y[0]), -1, -2)
    read = a_dot if lower else np.swapaxes(a_dot, -1, -2)
    s = np.tril(read) + np.swapaxes(np.tril(read, -1), -1, -2)
    left = linalg.solve_triangular(l, s, lower=True)
    inner = linalg.solve_triangular(l, np.swapaxes(left, -1, -2), lower=True)
    l_dot = l @ (np.tril(inner, -1) + np.triu(np.tril(inner)) / 2)
    c_dot = l_dot + np.triu(a_dot, 1) if lower else \
        np.swapaxes(l_dot, -1, -2) + np.tril(a_dot, -1)
    y_dot = (c_dot, 0.0)
    return y_dot


@adjoint(linalg.cho_solve)
def cho_solve_adjoint(dy, y, c_and_lower, b, check_finite=True):
    """x = A^-1 b, A = L L.T (or U.T U) from the factor's triangle:  db = A^-1 dx;
    with G = -db x.T, dL = (G + G.T) L (dU = U (G + G.T)) on the factor's triangle."""
    c = c_and_lower[0]
    lower = np.any(c_and_lower[1])  # (one flag per matrix of a stack)
    g_b = linalg.cho_solve(c_and_lower, dy)
    db = g_b
    vector = np.ndim(b) == np.ndim(c) - 1
    g = -np.outer(g_b, y) if known_rank(b) == 1 else \
        -(np.expand_dims(g_b, -1) if vector else g_b) @ \
        np.swapaxes(np.expand_dims(y, -1) if vector else y, -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    dc = np.tril(h @ np.tril(c)) if lower else np.triu(np.triu(c) @ h)
    dc_and_lower = np.stack((dc, np.zeros_like(dc)))  # (indexed as the pair is)
    return dc_and_lower, db


@tangent(linalg.cho_solve)
def cho_solve_tangent(y, c_and_lower, c_and_lower_dot, b, b_dot, check_finite=True):
    """x_dot = A^-1 (b_dot - A_dot x), A_dot = L_dot L.T + L L_dot.T."""
    c = c_and_lower[0]
    lower = np.any(c_and_lower[1])  # (one flag per matrix of a stack)
    c_dot = c_and_lower_dot[0]
    l = np.tril(c) if lower else np.swapaxes(np.triu(c), -1, -2)
    l_dot = np.tril(c_dot) if lower else np.swapaxes(np.triu(c_dot), -1, -2)
    a_dot = l_dot @ np.swapaxes(l, -1, -2) + l @ np.swapaxes(l_dot, -1, -2)
    y_dot = linalg.cho_solve(c_and_lower, b_dot - a_dot @ y)
    return y_dot


# -- banded solves -------------------------------------------------------------------------
# ab holds A's band: A[i, j] = ab[u + i - j, j]. For storage row r and column j, the entry
# is A[j + r - u, j]; entries whose row falls outside A are not read.

@adjoint(linalg.solve_banded)
def solve_banded_adjoint(dy, y, l_and_u, ab, b, check_finite=True):
    """x = A^-1 b:  db = A^-T dx, solved with A.T's band (u, l): row r of it holds
    ab[l + u - r] moved r - l columns; dA = -db x.T, read back onto the band."""
    lower = l_and_u[0]
    upper = l_and_u[1]
    r = np.expand_dims(np.arange(np.shape(ab)[0]), -1)
    n = np.shape(ab)[1]
    ab_t = ab[lower + upper - r, np.clip(np.arange(n) + r - lower, 0, n - 1)]
    g_b = linalg.solve_banded((upper, lower), ab_t, dy)
    db = g_b
    rows = np.arange(n) + r - upper
    products = np.reshape(g_b, (n, -1))[np.clip(rows, 0, n - 1)] * np.reshape(y, (n, -1))
    dab = np.where(np.logical_and(rows >= 0, rows < n), -np.sum(products, axis=-1), 0.0)
    return dab, db


@tangent(linalg.solve_banded)
def solve_banded_tangent(y, l_and_u, ab, ab_dot, b, b_dot, check_finite=True):
    """x_dot = A^-1 (b_dot - A_dot x), (A_dot x)_i = sum over r of ab_dot[r, j] x_j,
    j = i + u - r."""
    upper = l_and_u[1]
    r = np.expand_dims(np.arange(np.shape(ab)[0]), -1)
    n = np.shape(ab)[1]
    columns = np.arange(n) - r + upper
    at = np.clip(columns, 0, n - 1)
    terms = np.expand_dims(ab_dot[r, at], -1) * np.reshape(y, (n, -1))[at]
    a_dot_x = np.sum(np.where(np.expand_dims(np.logical_and(columns >= 0, columns < n), -1),
                              terms, 0.0), axis=0)
    y_dot = linalg.solve_banded(l_and_u, ab, b_dot - np.reshape(a_dot_x, np.shape(y)))
    return y_dot


# -- LU: the factorisation itself, and solves with it ---------------------------------------
# With A = P L U (P the pivots' permutation, L unit lower, U upper, lu = L - I + U):
# P.T M = L U A^-1 M, so P need not be built: lu_solve applies it.

@adjoint(linalg.lu_factor, shape="pieces")
def lu_factor_adjoint(dy, y, a, check_finite=True):
    """(lu, piv) = lu_factor(A), pivots fixed near A:  L^-1 P.T dA U^-1 = X, dL = L tril(X, -1),
    dU = triu(X) U, so with Xbar = tril(L.T dL, -1) + triu(dU U.T),
    dA = P L^-T Xbar U^-T = A^-T U.T Xbar U^-T (lu_solve with trans=1)."""
    dlu = dy[0]
    lu = y[0]
    n = np.shape(lu)[-1]
    l = np.tril(lu, -1) + np.eye(n, dtype=np.result_type(lu))
    u = np.triu(lu)
    xbar = np.tril(np.swapaxes(l, -1, -2) @ np.tril(dlu, -1), -1) + \
        np.triu(np.triu(dlu) @ np.swapaxes(u, -1, -2))
    right = np.swapaxes(linalg.solve_triangular(u, np.swapaxes(xbar, -1, -2)), -1, -2)
    da = linalg.lu_solve(y, np.swapaxes(u, -1, -2) @ right, trans=1)
    return da


@tangent(linalg.lu_factor)
def lu_factor_tangent(y, a, a_dot, check_finite=True):
    """X = L^-1 P.T A_dot U^-1 = U A^-1 A_dot U^-1:  lu_dot = L tril(X, -1) + triu(X) U."""
    lu = y[0]
    n = np.shape(lu)[-1]
    l = np.tril(lu, -1) + np.eye(n, dtype=np.result_type(lu))
    u = np.triu(lu)
    left = u @ linalg.lu_solve(y, a_dot)
    x = np.swapaxes(linalg.solve_triangular(u, np.swapaxes(left, -1, -2), trans=1), -1, -2)
    y_dot = (l @ np.tril(x, -1) + np.triu(x) @ u, 0.0)
    return y_dot


@adjoint(linalg.lu, shape="pieces")
def lu_adjoint(dy, y, a, permute_l=False, check_finite=True):
    """(P, L, U) = lu(A), A square (permute_l: (P L, U)), as lu_factor's:
    dA = P L^-T Xbar U^-T, Xbar = tril(L.T dL, -1) + triu(dU U.T)."""
    require_shapes(np.shape(a)[-1] == np.shape(a)[-2], "scipy.linalg.lu of a matrix that is "
                                                       "not square")
    factors = linalg.lu(a) if permute_l else y
    p = factors[0]
    l = factors[1]
    u = y[1] if permute_l else y[2]
    dl = np.swapaxes(p, -1, -2) @ dy[0] if permute_l else dy[1]
    du = dy[1] if permute_l else dy[2]
    xbar = np.tril(np.swapaxes(l, -1, -2) @ dl, -1) + np.triu(du @ np.swapaxes(u, -1, -2))
    left = linalg.solve_triangular(l, xbar, trans=1, lower=True, unit_diagonal=True)
    da = p @ np.swapaxes(linalg.solve_triangular(u, np.swapaxes(left, -1, -2)), -1, -2)
    return da


@tangent(linalg.lu)
def lu_tangent(y, a, a_dot, permute_l=False, check_finite=True):
    """X = L^-1 P.T A_dot U^-1:  L_dot = L tril(X, -1), U_dot = triu(X) U."""
    require_shapes(np.shape(a)[-1] == np.shape(a)[-2], "scipy.linalg.lu of a matrix that is "
                                                       "not square")
    factors = linalg.lu(a) if permute_l else y
    p = factors[0]
    l = factors[1]
    u = y[1] if permute_l else y[2]
    left = linalg.solve_triangular(l, np.swapaxes(p, -1, -2) @ a_dot, lower=True,
                                   unit_diagonal=True)
    x = np.swapaxes(linalg.solve_triangular(u, np.swapaxes(left, -1, -2), trans=1), -1, -2)
    l_dot = l @ np.tril(x, -1)
    u_dot = np.triu(x) @ u
    y_dot = (p @ l_dot, u_dot) if permute_l else (np.zeros_like(p), l_dot, u_dot)
    return y_dot


@adjoint(linalg.lu_solve)
def lu_solve_adjoint(dy, y, lu_and_piv, b, trans=0, check_finite=True):
    """x = op(A)^-1 b:  db = op(A)^-T dx, d op(A) = -db x.T; for A = P L U, with
    R = P.T dA, dL = tril(R U.T, -1) and dU = triu(L.T R) (lu holds both)."""
    flipped = 1 if trans == 0 else 0  # (trans= of the adjoint: 0, 1 or 2)
    g_b = linalg.lu_solve(lu_and_piv, dy, trans=flipped)
    db = g_b
    lu = lu_and_piv[0]
    vector = np.ndim(b) == np.ndim(lu) - 1
    g = -np.outer(g_b, y) if known_rank(b) == 1 else \
        -(np.expand_dims(g_b, -1) if vector else g_b) @ \
        np.swapaxes(np.expand_dims(y, -1) if vector else y, -1, -2)
    n = np.shape(lu)[-1]
    g_a = g if trans == 0 else np.swapaxes(g, -1, -2)
    l = np.tril(lu, -1) + np.eye(n, dtype=np.result_type(lu))
    u = np.triu(lu)
    r = l @ (u @ linalg.lu_solve(lu_and_piv, g_a))
    dlu = np.tril(r @ np.swapaxes(u, -1, -2), -1) + np.triu(np.swapaxes(l, -1, -2) @ r)
    dlu_and_piv = np.stack((dlu, np.zeros_like(dlu)))  # (indexed as the pair is)
    return dlu_and_piv, db


@tangent(linalg.lu_solve)
def lu_solve_tangent(y, lu_and_piv, lu_and_piv_dot, b, b_dot, trans=0, check_finite=True):
    """x_dot = op(A)^-1 (b_dot - op(A_dot) x), A_dot = P (L_dot U + L U_dot): for A x = b,
    A^-1 A_dot x = U^-1 L^-1 (L_dot U + L U_dot) x; for A.T x = b, A_dot.T x =
    (L_dot U + L U_dot).T w with w = P.T x = L^-T U^-T b."""
    lu = lu_and_piv[0]
    lu_dot = lu_and_piv_dot[0]
    n = np.shape(lu)[-1]
    l = np.tril(lu, -1) + np.eye(n, dtype=np.result_type(lu))
    u = np.triu(lu)
    m_dot = np.tril(lu_dot, -1) @ u + l @ np.triu(lu_dot)
    solved = linalg.lu_solve(lu_and_piv, b_dot, trans=trans)
    y_dot = solved - linalg.solve_triangular(
        lu, linalg.solve_triangular(lu, m_dot @ y, lower=True, unit_diagonal=True)) \
        if trans == 0 else solved - linalg.lu_solve(
            lu_and_piv, np.swapaxes(m_dot, -1, -2) @ linalg.solve_triangular(
                lu, linalg.solve_triangular(lu, b, trans=1), trans=1, lower=True,
                unit_diagonal=True), trans=1)
    return y_dot


# -- solve, inv, det --------------------------------------------------------------------------
# assume_a: None, 'gen' and 'general' read all of A; 'sym', 'her', 'pos' (and their long
# names) the triangle `lower` names, which stands for a symmetric matrix M; other kinds are
# refused. The gradient G over M lands on that triangle: tril(G + G.T) with the diagonal once.

@adjoint(linalg.solve)
def solve_adjoint(dy, y, a, b, lower=False, check_finite=True, assume_a=None,
                  transposed=False):
    """x = op(M)^-1 b:  db = op(M)^-T dx, d op(M) = -db x.T."""
    g_b = linalg.solve(a, dy, lower=lower, assume_a=assume_a,
                       transposed=False if transposed else True)
    db = g_b
    vector = np.ndim(b) == np.ndim(a) - 1
    g = -np.outer(g_b, y) if known_rank(a) == 2 and known_rank(b) == 1 else \
        -g_b @ np.swapaxes(y, -1, -2) if known_rank(a) == 2 and known_rank(b) == 2 else \
        -(np.expand_dims(g_b, -1) if vector else g_b) @ \
        np.swapaxes(np.expand_dims(y, -1) if vector else y, -1, -2)
    g_m = np.swapaxes(g, -1, -2) if transposed else g
    h = g_m + np.swapaxes(g_m, -1, -2)
    folded = np.tril(h, -1) + np.triu(np.tril(g_m)) if lower else \
        np.triu(h, 1) + np.triu(np.tril(g_m))
    da = g_m if assume_a is None else g_m if assume_a == "gen" else \
        g_m if assume_a == "general" else folded if assume_a == "sym" else \
        folded if assume_a == "pos" else folded if assume_a == "her" else \
        folded if assume_a == "symmetric" else folded if assume_a == "hermitian" else \
        folded if assume_a == "positive definite" else \
        no_derivative("scipy.linalg.solve with assume_a other than 'gen', 'sym', 'her' "
                      "or 'pos'")
    return da, db


@tangent(linalg.solve)
def solve_tangent(y, a, a_dot, b, b_dot, lower=False, check_finite=True, assume_a=None,
                  transposed=False):
    """x_dot = op(M)^-1 (b_dot - op(M_dot) x)."""
    read = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if lower else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    m_dot = a_dot if assume_a is None else a_dot if assume_a == "gen" else \
        a_dot if assume_a == "general" else read if assume_a == "sym" else \
        read if assume_a == "pos" else read if assume_a == "her" else \
        read if assume_a == "symmetric" else read if assume_a == "hermitian" else \
        read if assume_a == "positive definite" else \
        no_derivative("scipy.linalg.solve with assume_a other than 'gen', 'sym', 'her' "
                      "or 'pos'")
    op_m_dot = np.swapaxes(m_dot, -1, -2) if transposed else m_dot
    y_dot = linalg.solve(a, b_dot - op_m_dot @ y, lower=lower, assume_a=assume_a,
                         transposed=transposed)
    return y_dot


@adjoint(linalg.inv, check=False)  # (assume_a= and lower= from SciPy 1.15 on)
def inv_adjoint(dy, y, a, check_finite=True, assume_a=None, lower=False):
    """Y = M^-1:  dM = -Y.T dY Y.T (M read as solve reads it)."""
    y_t = np.swapaxes(y, -1, -2)
    g = -y_t @ dy @ y_t
    h = g + np.swapaxes(g, -1, -2)
    folded = np.tril(h, -1) + np.triu(np.tril(g)) if lower else \
        np.triu(h, 1) + np.triu(np.tril(g))
    da = g if assume_a is None else g if assume_a == "gen" else \
        g if assume_a == "general" else folded if assume_a == "sym" else \
        folded if assume_a == "pos" else folded if assume_a == "her" else \
        folded if assume_a == "symmetric" else folded if assume_a == "hermitian" else \
        folded if assume_a == "positive definite" else \
        no_derivative("scipy.linalg.inv with assume_a other than 'gen', 'sym', 'her' "
                      "or 'pos'")
    return da


@tangent(linalg.inv, check=False)
def inv_tangent(y, a, a_dot, check_finite=True, assume_a=None, lower=False):
    """Y_dot = -Y M_dot Y."""
    read = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if lower else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    m_dot = a_dot if assume_a is None else a_dot if assume_a == "gen" else \
        a_dot if assume_a == "general" else read if assume_a == "sym" else \
        read if assume_a == "pos" else read if assume_a == "her" else \
        read if assume_a == "symmetric" else read if assume_a == "hermitian" else \
        read if assume_a == "positive definite" else \
        no_derivative("scipy.linalg.inv with assume_a other than 'gen', 'sym', 'her' "
                      "or 'pos'")
    y_dot = -y @ m_dot @ y
    return y_dot


@adjoint(linalg.det)
def det_adjoint(dy, y, a, check_finite=True):
    """y = det(A):  dA = dy * y * inv(A).T."""
    da = np.expand_dims(dy * y, (-2, -1)) * np.swapaxes(linalg.inv(a), -1, -2)
    return da


@tangent(linalg.det)
def det_tangent(y, a, a_dot, check_finite=True):
    """y_dot = y * trace(inv(A) A_dot)."""
    y_dot = y * np.einsum("...ij,...ji->...", linalg.inv(a), a_dot)
    return y_dot


# -- matrix functions -----------------------------------------------------------------------

@adjoint(linalg.expm)
def expm_adjoint(dy, y, A):
    """dA = L_exp(A.T, dY), the upper right block of expm([[A.T, dY], [0, A.T]])."""
    n = np.shape(A)[-1]
    a_t = np.swapaxes(A, -1, -2)
    block = np.concatenate((np.concatenate((a_t, dy), axis=-1),
                            np.concatenate((np.zeros_like(dy), a_t), axis=-1)), axis=-2)
    dA = linalg.expm(block)[..., :n, n:]
    return dA


@tangent(linalg.expm)
def expm_tangent(y, A, A_dot):
    """Y_dot = L_exp(A, A_dot), the upper right block of expm([[A, A_dot], [0, A]])."""
    n = np.shape(A)[-1]
    block = np.concatenate((np.concatenate((A, A_dot), axis=-1),
                            np.concatenate((np.zeros_like(A_dot), A), axis=-1)), axis=-2)
    y_dot = linalg.expm(block)[..., :n, n:]
    return y_dot


@adjoint(linalg.logm, check=False)  # (disp= is deprecated: left out)
def logm_adjoint(dy, y, A):
    """dA = L_log(A.T, dY), as for expm; a complex logarithm is refused."""
    require_shapes(np.isrealobj(y), "scipy.linalg.logm of a matrix whose logarithm is "
                                    "complex (an eigenvalue on the negative real axis)")
    n = np.shape(A)[-1]
    a_t = np.swapaxes(A, -1, -2)
    block = np.concatenate((np.concatenate((a_t, dy), axis=-1),
                            np.concatenate((np.zeros_like(dy), a_t), axis=-1)), axis=-2)
    dA = linalg.logm(block)[..., :n, n:]
    return dA


@tangent(linalg.logm, check=False)
def logm_tangent(y, A, A_dot):
    require_shapes(np.isrealobj(y), "scipy.linalg.logm of a matrix whose logarithm is "
                                    "complex (an eigenvalue on the negative real axis)")
    n = np.shape(A)[-1]
    block = np.concatenate((np.concatenate((A, A_dot), axis=-1),
                            np.concatenate((np.zeros_like(A_dot), A), axis=-1)), axis=-2)
    y_dot = linalg.logm(block)[..., :n, n:]
    return y_dot


@adjoint(linalg.sqrtm, check=False)  # (disp= and blocksize= are deprecated: left out)
def sqrtm_adjoint(dy, y, A):
    """X X = A:  X X_dot + X_dot X = A_dot, so dA = solve_sylvester(X.T, X.T, dX)."""
    require_shapes(np.isrealobj(y), "scipy.linalg.sqrtm of a matrix whose square root is "
                                    "complex (an eigenvalue on the negative real axis)")
    x_t = np.swapaxes(y, -1, -2)
    dA = linalg.solve_sylvester(x_t, x_t, dy)
    return dA


@tangent(linalg.sqrtm, check=False)
def sqrtm_tangent(y, A, A_dot):
    require_shapes(np.isrealobj(y), "scipy.linalg.sqrtm of a matrix whose square root is "
                                    "complex (an eigenvalue on the negative real axis)")
    y_dot = linalg.solve_sylvester(y, y, A_dot)
    return y_dot


@adjoint(linalg.solve_sylvester)
def solve_sylvester_adjoint(dy, y, a, b, q):
    """A X + X B = Q:  dQ = solve_sylvester(A.T, B.T, dX), dA = -dQ X.T, dB = -X.T dQ."""
    g_q = linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), dy)
    dq = g_q
    da = -g_q @ np.swapaxes(y, -1, -2)
    db = -np.swapaxes(y, -1, -2) @ g_q
    return da, db, dq


@tangent(linalg.solve_sylvester)
def solve_sylvester_tangent(y, a, a_dot, b, b_dot, q, q_dot):
    y_dot = linalg.solve_sylvester(a, b, q_dot - a_dot @ y - y @ b_dot)
    return y_dot


# -- eigh ------------------------------------------------------------------------------------

def _eigh_result(call) -> str:
    """eigh(A, eigvals_only=True) returns the eigenvalues; otherwise a pair (w, V)."""
    flag = [k.value for k in call.keywords if k.arg == "eigvals_only"]
    return "other" if flag and getattr(flag[0], "value", False) is True else "pieces"


@adjoint(linalg.eigh, shape=_eigh_result)
def eigh_adjoint(dy, y, a, b=None, lower=True, eigvals_only=False, check_finite=True,
                 driver=None):
    """As np.linalg.eigh's (lower= names the triangle read): G = V (diag(dw) + F * (V.T dV))
    V.T, F_ij = 1 / (w_j - w_i) off the diagonal (0 where they coincide, and a gradient
    through such an eigenvector refused); eigvals_only computes V again. The generalized
    problem (b=) is refused."""
    w = y if eigvals_only else y[0]
    v = linalg.eigh(a, lower=lower)[1] if eigvals_only else y[1]
    dw = dy if eigvals_only else dy[0]
    dv = np.zeros_like(v) if eigvals_only else dy[1]
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    require_shapes(np.logical_or(np.count_nonzero(gaps == 0) == np.size(w),
                                 np.count_nonzero(dv) == 0),
                   "scipy.linalg.eigh with a gradient through an eigenvector of a repeated "
                   "eigenvalue")
    v_t = np.swapaxes(v, -1, -2)
    g = (v * np.expand_dims(dw, -2)) @ v_t if eigvals_only else \
        (v * np.expand_dims(dw, -2)) @ v_t + \
        v @ (1 / np.where(gaps == 0, np.inf, gaps) * (v_t @ dv)) @ v_t
    h = g + np.swapaxes(g, -1, -2)
    folded = np.tril(h, -1) + np.triu(np.tril(g)) if lower else \
        np.triu(h, 1) + np.triu(np.tril(g))
    da = folded if b is None else \
        no_derivative("scipy.linalg.eigh with b= (the generalized eigenproblem)")
    return da


@tangent(linalg.eigh)
def eigh_tangent(y, a, a_dot, b=None, lower=True, eigvals_only=False, check_finite=True,
                 driver=None):
    """P = V.T S_dot V:  w_dot = diag(P), V_dot = V (F * P) (infinite F at a repeated
    eigenvalue: forward mode cannot tell whether V is used)."""
    w = y if eigvals_only else y[0]
    v = linalg.eigh(a, lower=lower)[1] if eigvals_only else y[1]
    s_dot = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if lower else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    p = np.swapaxes(v, -1, -2) @ s_dot @ v
    eye = np.eye(np.shape(w)[-1], dtype=np.result_type(w))
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye
    w_dot = np.diagonal(p, 0, -2, -1)
    y_dot = w_dot if eigvals_only else (w_dot, v @ ((1 - eye) / gaps * p)) if b is None \
        else no_derivative("scipy.linalg.eigh with b= (the generalized eigenproblem)")
    return y_dot



@adjoint(linalg.eigvalsh)
def eigvalsh_adjoint(dy, y, a, b=None, lower=True, check_finite=True, driver=None):
    """w = eigvalsh(A):  G = V diag(dw) V.T on the triangle read (V computed again)."""
    v = linalg.eigh(a, lower=lower)[1]
    g = (v * np.expand_dims(dy, -2)) @ np.swapaxes(v, -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    folded = np.tril(h, -1) + np.triu(np.tril(g)) if lower else \
        np.triu(h, 1) + np.triu(np.tril(g))
    da = folded if b is None else \
        no_derivative("scipy.linalg.eigvalsh with b= (the generalized eigenproblem)")
    return da


@tangent(linalg.eigvalsh)
def eigvalsh_tangent(y, a, a_dot, b=None, lower=True, check_finite=True, driver=None):
    v = linalg.eigh(a, lower=lower)[1]
    s_dot = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2) if lower else \
        np.triu(a_dot) + np.swapaxes(np.triu(a_dot, 1), -1, -2)
    y_dot = np.einsum("...ij,...ik,...kj->...j", v, s_dot, v) if b is None else \
        no_derivative("scipy.linalg.eigvalsh with b= (the generalized eigenproblem)")
    return y_dot


@adjoint(linalg.svdvals)
def svdvals_adjoint(dy, y, a, check_finite=True):
    """s = svdvals(A):  dA = U diag(ds) Vh (the singular vectors computed again)."""
    usv = linalg.svd(a, full_matrices=False)
    da = (usv[0] * np.expand_dims(dy, -2)) @ usv[2]
    return da


@tangent(linalg.svdvals)
def svdvals_tangent(y, a, a_dot, check_finite=True):
    usv = linalg.svd(a, full_matrices=False)
    y_dot = np.einsum("...ik,...ij,...kj->...k", usv[0], a_dot, usv[2])
    return y_dot


# svd, pinv and norm as NumPy's (the same parameters where a call passes them: check=False)
adjoint(linalg.svd, shape=_svd_result, check=False)(svd_adjoint_rule)
tangent(linalg.svd, check=False)(svd_tangent)
adjoint(linalg.pinv, check=False)(pinv_adjoint)
tangent(linalg.pinv, check=False)(pinv_tangent)
adjoint(linalg.norm, shape=_reduction_shape, check=False)(norm_adjoint)
tangent(linalg.norm, check=False)(norm_tangent)


without_rule(linalg.eig, "the eigenvalues and eigenvectors of a general matrix are complex, "
             "and s2sad differentiates real values",
             "for a symmetric matrix write scipy.linalg.eigh(a) (eigvals_only=True for its "
             "eigenvalues)")
without_rule(linalg.eigvals, "the eigenvalues of a general matrix are complex, and s2sad "
             "differentiates real values",
             "for a symmetric matrix write scipy.linalg.eigh(a, eigvals_only=True)")
