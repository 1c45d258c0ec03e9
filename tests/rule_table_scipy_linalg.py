"""Rule table for scipy.linalg (issue 18); empty where SciPy is not installed.

Each matrix is made well-posed inside the expression: triangular and general matrices
as a + 3 * np.eye(3), symmetric positive definite ones as a @ a.T + 3 * np.eye(3), those
with distinct eigenvalues as a + a.T + np.diag(np.arange(3.0)) * 4. Where the call reads
one triangle, rows on UNIT inputs (a + 3 * np.eye(3), diagonally dominant, not symmetric)
check that the gradient lands on that triangle, as central differences see it.
"""
from rule_cases import ANY, UNIT, Case, unary

try:
    import scipy.linalg as linalg
except ImportError:
    linalg = None

WELL = "(a + 3 * np.eye(3))"
SPD = "(a @ a.T + 3 * np.eye(3))"
SPD_STACK = "(a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3))"
SYMMETRIC = "(a + a.T + np.diag(np.arange(3.0)) * 4)"
MATRIX_VECTOR = [((3, 3), (3,)), ((3, 3), (3, 2))]


def pair(keys, expression, shapes=MATRIX_VECTOR, domains=(ANY, ANY)):
    return Case(keys if isinstance(keys, tuple) else (keys,), expression, list(domains),
                shapes)


TABLE = [] if linalg is None else [
    # triangular solves: lower/upper, trans 0/1/2/'N'/'T', unit_diagonal
    pair(linalg.solve_triangular, f"scipy.linalg.solve_triangular({WELL}, b, lower=True)"),
    pair(linalg.solve_triangular, f"scipy.linalg.solve_triangular({WELL}, b)"),
    pair(linalg.solve_triangular,
         f"scipy.linalg.solve_triangular({WELL}, b, trans=1, lower=True)"),
    pair(linalg.solve_triangular, f"scipy.linalg.solve_triangular({WELL}, b, trans='T')"),
    pair(linalg.solve_triangular, f"scipy.linalg.solve_triangular({WELL}, b, trans='N')"),
    pair(linalg.solve_triangular,
         f"scipy.linalg.solve_triangular({WELL}, b, trans=2, unit_diagonal=True)"),
    pair(linalg.solve_triangular,
         f"scipy.linalg.solve_triangular({WELL}, b, lower=True, unit_diagonal=True)"),
    # Cholesky: upper by default; the triangle read of a non-symmetric matrix
    unary(linalg.cholesky, f"scipy.linalg.cholesky({SPD})", shapes=[(3, 3), (3, 5)]),
    unary(linalg.cholesky, f"scipy.linalg.cholesky({SPD}, lower=True)", shapes=[(3, 3)]),
    unary(linalg.cholesky, f"scipy.linalg.cholesky({WELL})", UNIT, shapes=[(3, 3)]),
    unary(linalg.cholesky, f"scipy.linalg.cholesky({WELL}, lower=True)", UNIT,
          shapes=[(3, 3)]),
    # cho_factor's pair flows into cho_solve, whole or taken apart; c itself (both
    # triangles: the factor's, and a's entries LAPACK leaves in the other)
    pair((linalg.cho_factor, linalg.cho_solve),
         f"scipy.linalg.cho_solve(scipy.linalg.cho_factor({SPD}), b)"),
    pair((linalg.cho_factor, linalg.cho_solve),
         f"scipy.linalg.cho_solve(scipy.linalg.cho_factor({SPD}, lower=True), b)"),
    pair((linalg.cho_factor, linalg.cho_solve),
         f"scipy.linalg.cho_solve((scipy.linalg.cho_factor({WELL})[0], False), b)",
         domains=(UNIT, ANY)),
    unary(linalg.cho_factor, f"scipy.linalg.cho_factor({WELL})[0]", UNIT, shapes=[(3, 3)]),
    unary(linalg.cho_factor, f"scipy.linalg.cho_factor({WELL}, lower=True)[0]", UNIT,
          shapes=[(3, 3)]),
    # banded solves: ab holds the band, its diagonal (row u) made dominant
    Case((linalg.solve_banded,), "scipy.linalg.solve_banded((1, 1), a + [[0.0], [4.0], [0.0]], b)",
         [ANY, ANY], [((3, 5), (5,)), ((3, 5), (5, 2))]),
    Case((linalg.solve_banded,),
         "scipy.linalg.solve_banded((2, 1), a + [[0.0], [4.0], [0.0], [0.0]], b)", [ANY, ANY],
         [((4, 5), (5,))]),
    Case((linalg.solve_banded,), "scipy.linalg.solve_banded((0, 1), a + [[0.0], [4.0]], b)",
         [ANY, ANY], [((2, 4), (4, 2))]),
    # LU: the factorisation itself, and solves with it
    pair((linalg.lu_factor, linalg.lu_solve),
         f"scipy.linalg.lu_solve(scipy.linalg.lu_factor({WELL}), b)"),
    pair((linalg.lu_factor, linalg.lu_solve),
         f"scipy.linalg.lu_solve(scipy.linalg.lu_factor({WELL}), b, trans=1)"),
    pair((linalg.lu_factor, linalg.lu_solve),
         f"scipy.linalg.lu_solve(scipy.linalg.lu_factor({WELL}), b, trans=2)"),
    unary(linalg.lu_factor, "scipy.linalg.lu_factor(a)[0]", shapes=[(3, 3)]),
    unary(linalg.lu, f"scipy.linalg.lu({WELL})[1] + scipy.linalg.lu({WELL})[2]",
          shapes=[(3, 3)]),
    unary(linalg.lu, "scipy.linalg.lu(a, permute_l=True)[0] * np.arange(3.0)",
          shapes=[(3, 3)]),
    # stacks of matrices (SciPy's batched solves)
    pair((linalg.solve_triangular, linalg.solve),
         f"scipy.linalg.solve_triangular({WELL}, b, trans=1) + scipy.linalg.solve({WELL}, b)",
         shapes=[((2, 3, 3), (2, 3, 2))]),
    pair((linalg.cho_factor, linalg.cho_solve, linalg.lu_factor, linalg.lu_solve),
         f"scipy.linalg.cho_solve(scipy.linalg.cho_factor({SPD_STACK}), b)"
         f" + scipy.linalg.lu_solve(scipy.linalg.lu_factor({WELL}), b)",
         shapes=[((2, 3, 3), (2, 3, 1))]),
    # solve, inv, det
    pair(linalg.solve, f"scipy.linalg.solve({WELL}, b)"),
    pair(linalg.solve, f"scipy.linalg.solve({WELL}, b, assume_a='gen', transposed=True)"),
    pair(linalg.solve, f"scipy.linalg.solve({SPD}, b, assume_a='pos')"),
    pair(linalg.solve, f"scipy.linalg.solve({SPD}, b, assume_a='sym', lower=True)"),
    pair(linalg.solve, f"scipy.linalg.solve({WELL}, b, assume_a='pos')", domains=(UNIT, ANY)),
    pair(linalg.solve, f"scipy.linalg.solve({WELL}, b, assume_a='sym', lower=True)",
         domains=(UNIT, ANY)),
    unary(linalg.inv, f"scipy.linalg.inv({WELL})", shapes=[(3, 3)]),
    unary(linalg.det, f"scipy.linalg.det({WELL})", shapes=[(3, 3)]),
    unary(linalg.det, "scipy.linalg.det(a + 2 * np.eye(2)) * a", shapes=[(2, 2)]),
    # matrix functions
    unary(linalg.expm, "scipy.linalg.expm(a)", shapes=[(3, 3), (1, 1)]),
    unary(linalg.logm, f"scipy.linalg.logm({WELL})", UNIT, shapes=[(3, 3)]),
    unary(linalg.logm, f"scipy.linalg.logm({SPD})", shapes=[(3, 3)]),
    unary(linalg.sqrtm, f"scipy.linalg.sqrtm({WELL})", UNIT, shapes=[(3, 3)]),
    unary(linalg.sqrtm, f"scipy.linalg.sqrtm({SPD})", shapes=[(3, 3)]),
    Case((linalg.solve_sylvester,),
         f"scipy.linalg.solve_sylvester({WELL}, b + 3 * np.eye(3), a * b)", [UNIT, UNIT],
         [((3, 3), (3, 3))]),
    # eigh: values, vectors (distinct eigenvalues), either triangle
    unary(linalg.eigh, f"scipy.linalg.eigh({SYMMETRIC})[0]", shapes=[(3, 3)]),
    unary(linalg.eigh, f"scipy.linalg.eigh({SYMMETRIC})[1] ** 2 * np.arange(3.0)",
          shapes=[(3, 3)]),
    unary(linalg.eigh, f"scipy.linalg.eigh({SYMMETRIC}, lower=False)[1] ** 2 * np.arange(3.0)",
          shapes=[(3, 3)]),
    unary(linalg.eigh, f"scipy.linalg.eigh({SYMMETRIC}, eigvals_only=True)", shapes=[(3, 3)]),
    unary(linalg.eigh, "scipy.linalg.eigh(a + np.diag(np.arange(3.0)) * 4)[1] ** 2", UNIT,
          shapes=[(3, 3)]),
    unary(linalg.eigvalsh, f"scipy.linalg.eigvalsh({SYMMETRIC})", shapes=[(3, 3)]),
    unary(linalg.eigvalsh, "scipy.linalg.eigvalsh(a + np.diag(np.arange(3.0)) * 4, lower=False)",
          UNIT, shapes=[(3, 3)]),
    # svd, svdvals and pinv as NumPy's
    unary(linalg.svd, "scipy.linalg.svd(a, full_matrices=False)[2] ** 2 * np.arange(3.0)",
          shapes=[(2, 3)]),
    unary(linalg.svd, "scipy.linalg.svd(a, compute_uv=False)", shapes=[(3, 2)]),
    unary(linalg.svdvals, "scipy.linalg.svdvals(a)", shapes=[(3, 2), (2, 3)]),
    unary(linalg.pinv, "scipy.linalg.pinv(a) * np.arange(3.0)", shapes=[(3, 2)]),
    unary(linalg.norm, "scipy.linalg.norm(a)", shapes=[(3,), (2, 3)]),
    unary(linalg.norm, "scipy.linalg.norm(a, axis=-1) + scipy.linalg.norm(a, 1, axis=0)[0]",
          (0.3, 2.0), shapes=[(2, 3)]),
]
