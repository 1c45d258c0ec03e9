"""scipy.linalg: triangular and Cholesky solves, LU, solve, inv, det, expm, logm, sqrtm,
eigh and solve_sylvester, in both modes; every template calls only functions that have
rules themselves (scipy.linalg's and NumPy's), so a gradient can be differentiated again.

Loaded only where SciPy is installed (see rules/_load_builtin_rules). Conventions:

* A function that reads one triangle of its input (cholesky, cho_factor, eigh, solve with
  assume_a='sym' or 'pos') is differentiated as the function of that triangle it is: the
  gradient lands on the triangle read (what central differences of the call see), and the
  tangent reads that triangle of the input's tangent. For a symmetric input built by the
  program (K = X @ X.T + s * I) this is the usual symmetric derivative.
* cho_factor's and lu_factor's pairs (c, lower), (lu, piv) are pieces of a tuple: each
  factorisation is differentiated itself (c's other triangle, which LAPACK leaves holding
  a's entries, by the identity), so `cho_solve(cho_factor(K), b)`, `c, low = cho_factor(K)`
  and `cf = cho_factor(K); cho_solve(cf, b)` all differentiate. The pivots are piecewise
  constant.
* trans= of solve_triangular and lu_solve: 0/'N' solves with A, 1/'T' and 2/'C' (the same
  for real matrices) with A.T.
* expm and logm by the block-triangular form of their Frechet derivative,
  f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]], whose adjoint is L_f(A.T, .);
  sqrtm by the Sylvester equation X X_dot + X_dot X = A_dot. logm and sqrtm need a
  real result (no eigenvalues on the closed negative real axis): refused otherwise.
* eigh: eigenvalues always, eigenvectors where the eigenvalues are distinct (the
  derivative of an eigenvector does not exist at a repeated eigenvalue: refused then).
"""
import numpy as np
from scipy import linalg

from . import adjoint, non_differentiable, tangent


# -- triangular and Cholesky solves --------------------------------------------------------
# (M.T is written np.swapaxes(M, -1, -2), b's columns np.reshape(b, (n, -1)), so that a
# vector b and a matrix b share one formula)

@adjoint(linalg.solve_triangular)
def solve_triangular_adjoint(dy, y, a, b, trans=0, lower=False, unit_diagonal=False,
                             check_finite=True):
    """x = op(A)^-1 b, op(A) = A or A.T:  db = op(A)^-T dx;  d op(A) = -db x.T, on the
    triangle the call reads (its diagonal too unless unit_diagonal)."""
    flipped = 1 if trans == 0 else 1 if trans == "N" else 0
    g_b = linalg.solve_triangular(a, dy, trans=flipped, lower=lower,
                                  unit_diagonal=unit_diagonal)
    db = g_b
    n = np.shape(a)[-1]
    g = -np.reshape(g_b, (n, -1)) @ np.swapaxes(np.reshape(y, (n, -1)), -1, -2)
    g_a = np.swapaxes(g, -1, -2) if flipped == 0 else g
    k = 1 if unit_diagonal else 0
    da = np.tril(g_a, -k) if lower else np.triu(g_a, k)
    return da, db


@tangent(linalg.solve_triangular)
def solve_triangular_tangent(y, a, a_dot, b, b_dot, trans=0, lower=False,
                             unit_diagonal=False, check_finite=True):
    """x_dot = op(A)^-1 (b_dot - op(A_dot) x), A_dot read on the triangle A is."""
    k = 1 if unit_diagonal else 0
    read = np.tril(a_dot, -k) if lower else np.triu(a_dot, k)
    op_read = read if trans == 0 else read if trans == "N" else np.swapaxes(read, -1, -2)
    y_dot = linalg.solve_triangular(a, b_dot - op_read @ y, trans=trans, lower=lower,
                                    unit_diagonal=unit_diagonal)
    return y_dot


@adjoint(linalg.cholesky)
def cholesky_adjoint(dy, y, a, lower=False, check_finite=True):
    """L = cholesky(A, lower=True), A = L L.T, read from A's lower triangle (U = L.T from
    the upper one by default): with G = L^-T Phi(L.T dL) L^-1, Phi the lower triangle
    with its diagonal halved, the symmetric gradient is (G + G.T) / 2; on the triangle
    read, its off-diagonal entries count twice."""
    l = y if lower else np.swapaxes(y, -1, -2)
    dl = dy if lower else np.swapaxes(dy, -1, -2)
    n = np.shape(l)[-1]
    eye = np.eye(n)
    phi = np.tril(np.swapaxes(l, -1, -2) @ dl) * (1 - eye / 2)
    left = linalg.solve_triangular(l, phi, trans=1, lower=True)
    g = np.swapaxes(linalg.solve_triangular(l, np.swapaxes(left, -1, -2), trans=1,
                                            lower=True), -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    folded = np.tril(h) - h * eye / 2
    da = folded if lower else np.swapaxes(folded, -1, -2)
    return da


@tangent(linalg.cholesky)
def cholesky_tangent(y, a, a_dot, lower=False, check_finite=True):
    """L_dot = L Phi(L^-1 S L^-T), S the symmetric matrix the triangle read of A_dot
    stands for."""
    l = y if lower else np.swapaxes(y, -1, -2)
    read = a_dot if lower else np.swapaxes(a_dot, -1, -2)
    n = np.shape(l)[-1]
    eye = np.eye(n)
    s = np.tril(read) + np.swapaxes(np.tril(read, -1), -1, -2)
    left = linalg.solve_triangular(l, s, lower=True)
    inner = linalg.solve_triangular(l, np.swapaxes(left, -1, -2), lower=True)
    l_dot = l @ (np.tril(inner) * (1 - eye / 2))
    y_dot = l_dot if lower else np.swapaxes(l_dot, -1, -2)
    return y_dot


@adjoint(linalg.cho_factor, shape="pieces")
def cho_factor_adjoint(dy, y, a, lower=False, check_finite=True):
    """(c, lower) = cho_factor(A): c's triangle is cholesky(A, lower)'s (the adjoint as
    there), its other triangle a's own entries (the identity)."""
    dc = dy[0]
    l = np.tril(y[0]) if lower else np.swapaxes(np.triu(y[0]), -1, -2)
    dl = np.tril(dc) if lower else np.swapaxes(np.triu(dc), -1, -2)
    n = np.shape(l)[-1]
    eye = np.eye(n)
    phi = np.tril(np.swapaxes(l, -1, -2) @ dl) * (1 - eye / 2)
    left = linalg.solve_triangular(l, phi, trans=1, lower=True)
    g = np.swapaxes(linalg.solve_triangular(l, np.swapaxes(left, -1, -2), trans=1,
                                            lower=True), -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    folded = np.tril(h) - h * eye / 2
    da = folded + np.triu(dc, 1) if lower else np.swapaxes(folded, -1, -2) + np.tril(dc, -1)
    return da


@tangent(linalg.cho_factor)
def cho_factor_tangent(y, a, a_dot, lower=False, check_finite=True):
    l = np.tril(y[0]) if lower else np.swapaxes(np.triu(y[0]), -1, -2)
    read = a_dot if lower else np.swapaxes(a_dot, -1, -2)
    n = np.shape(l)[-1]
    eye = np.eye(n)
    s = np.tril(read) + np.swapaxes(np.tril(read, -1), -1, -2)
    left = linalg.solve_triangular(l, s, lower=True)
    inner = linalg.solve_triangular(l, np.swapaxes(left, -1, -2), lower=True)
    l_dot = l @ (np.tril(inner) * (1 - eye / 2))
    c_dot = l_dot + np.triu(a_dot, 1) if lower else \
        np.swapaxes(l_dot, -1, -2) + np.tril(a_dot, -1)
    y_dot = (c_dot, 0.0)
    return y_dot


@adjoint(linalg.cho_solve)
def cho_solve_adjoint(dy, y, c_and_lower, b, check_finite=True):
    """x = A^-1 b, A = L L.T (or U.T U) from the factor's triangle:  db = A^-1 dx;
    with G = -db x.T, dL = (G + G.T) L (dU = U (G + G.T)) on the factor's triangle."""
    c = c_and_lower[0]
    lower = c_and_lower[1]
    g_b = linalg.cho_solve(c_and_lower, dy)
    db = g_b
    n = np.shape(c)[-1]
    g = -np.reshape(g_b, (n, -1)) @ np.swapaxes(np.reshape(y, (n, -1)), -1, -2)
    h = g + np.swapaxes(g, -1, -2)
    dc = np.tril(h @ np.tril(c)) if lower else np.triu(np.triu(c) @ h)
    dc_and_lower = np.stack((dc, np.zeros_like(dc)))  # (indexed as the pair is)
    return dc_and_lower, db


@tangent(linalg.cho_solve)
def cho_solve_tangent(y, c_and_lower, c_and_lower_dot, b, b_dot, check_finite=True):
    """x_dot = A^-1 (b_dot - A_dot x), A_dot = L_dot L.T + L L_dot.T."""
    c = c_and_lower[0]
    lower = c_and_lower[1]
    c_dot = c_and_lower_dot[0]
    l = np.tril(c) if lower else np.swapaxes(np.triu(c), -1, -2)
    l_dot = np.tril(c_dot) if lower else np.swapaxes(np.triu(c_dot), -1, -2)
    a_dot = l_dot @ np.swapaxes(l, -1, -2) + l @ np.swapaxes(l_dot, -1, -2)
    y_dot = linalg.cho_solve(c_and_lower, b_dot - a_dot @ y)
    return y_dot
