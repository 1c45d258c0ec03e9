"""Rule table for s2sad/rules/linalg.py beyond matmul, dot and transpose.

Matrices that are inverted, solved with, or factorised are built well conditioned
inside the expression (a + 3 * np.eye(3); a @ a.T + 3 * np.eye(3) for Cholesky).
"""
import inspect
import operator

import numpy as np

from rule_cases import ANY, POSITIVE, UNIT, Case, binary, unary  # noqa: F401
from s2sad import runtime

WELL = "(a + 3 * np.eye(3))"
SPD = "(a @ a.T + 3 * np.eye(3))"

TABLE = [
    # vector products, axis swaps
    Case((np.inner,), "np.inner(a, b)", [ANY, ANY], [((3,), (3,)), ((5,), (5,))]),
    # a number's gradient is a number (issue 15: it was an array)
    Case((np.inner,), "np.inner(a, b)", [ANY, ANY], [((), (3,)), ((3,), ()), ((), ())]),
    # the last axes contracted (was refused)
    Case((np.inner,), "np.inner(a, b)", [ANY, ANY],
         [((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((3,), (2, 4, 3)), ((2, 3), ())]),
    Case((np.vdot,), "np.vdot(a, b)", [ANY, ANY], [((3,), (3,)), ((2, 3), (3, 2)), ((), ())]),
    Case((np.outer,), "np.outer(a, b)", [ANY, ANY], [((3,), (4,)), ((2,), (2,))]),
    Case((np.outer,), "np.outer(a, b) @ np.arange(4.0)", [ANY, ANY], [((2, 3), (2, 2))]),
    unary(np.swapaxes, "np.swapaxes(a, 0, 1) @ np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.swapaxes, "np.swapaxes(a, -1, 0) * np.arange(2.0)", shapes=[(2, 3, 4)]),
    # inverse, solve, determinants (stacks of matrices too)
    unary(np.linalg.inv, f"np.linalg.inv({WELL})", shapes=[(3, 3)]),
    unary(np.linalg.inv, f"np.linalg.inv({WELL}) * np.arange(3.0)", shapes=[(3, 3), (2, 3, 3)]),
    Case((np.linalg.solve,), f"np.linalg.solve({WELL}, b)", [ANY, ANY],
         [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2)), ((3, 3), (2, 3, 1))]),
    unary(np.linalg.det, f"np.linalg.det({WELL})", shapes=[(3, 3), (2, 3, 3)]),
    unary(np.linalg.det, "np.linalg.det(a + 2 * np.eye(2)) * a", shapes=[(2, 2)]),
    unary(np.linalg.slogdet, f"np.linalg.slogdet({WELL})[1]", shapes=[(3, 3), (2, 3, 3)]),
    # a negative determinant: sign -1, and the sign's (zero) adjoint flows back too
    unary(np.linalg.slogdet, "np.linalg.slogdet(-a - 3 * np.eye(3))[1]"
          " * np.linalg.slogdet(-a - 3 * np.eye(3))[0]", shapes=[(3, 3)]),
    # Cholesky of a well-conditioned SPD matrix (a square or wide a)
    unary(np.linalg.cholesky, f"np.linalg.cholesky({SPD})", shapes=[(3, 3), (3, 5)]),
    # einsum: the forms users write, then broadcasting and a one-operand sum
    Case((np.einsum,), "np.einsum('ij,jk->ik', a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
    Case((np.einsum,), "np.einsum('ij,ij->', a, b)", [ANY, ANY], [((2, 3), (2, 3))]),
    Case((np.einsum,), "np.einsum('i,i->', a, b)", [ANY, ANY], [((3,), (3,))]),
    Case((np.einsum,), "np.einsum('ij,j->i', a, b)", [ANY, ANY], [((2, 3), (3,))]),
    Case((np.einsum,), "np.einsum('bij,bjk->bik', a, b)", [ANY, ANY],
         [((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2))]),
    Case((np.einsum,), "np.einsum('...ij,...jk->...ik', a, b)", [ANY, ANY],
         [((2, 3), (4, 3, 2))]),
    Case((np.einsum,), "np.einsum('i,j->ij', a, b)", [ANY, ANY], [((3,), (4,))]),
    # '...' over operands of different ranks, where it is not leading (issue 15: a
    # reshape crash, or a sum over the wrong axis where the sizes happened to agree)
    Case((np.einsum,), "np.einsum('i...j,k...j->ik...', a, b)", [ANY, ANY],
         [((2, 4, 3), (4, 3)), ((2, 3), (5, 4, 3)), ((2, 1, 3), (4, 2, 3))]),
    Case((np.einsum,), "np.einsum('ij...,kj...->ik...', a, b)", [ANY, ANY],
         [((2, 3, 4), (2, 3))]),
    Case((np.einsum,), "np.einsum('i...,...->i...', a, b)", [ANY, ANY],
         [((2, 3), (3,)), ((2, 3), ())]),
    # implicit mode: the output is '...' then the labels used once, sorted
    Case((np.einsum,), "np.einsum('ij,jk', a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
    Case((np.einsum,), "np.einsum('ba,ac', a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
    Case((np.einsum,), "np.einsum('...,...', a, b)", [ANY, ANY], [((2, 3), (3,))]),
    # i is summed in a alone: its adjoint spreads over i
    Case((np.einsum,), "np.einsum('ij,jk->k', a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
    # a repeated index in the operand not differentiated (a trace against b) is fine
    Case((np.einsum,), "np.einsum('ii,i->', np.arange(9.0).reshape(3, 3), b) * np.sum(a)",
         [ANY, ANY], [((2,), (3,))]),
]

if "upper" in inspect.signature(np.linalg.cholesky).parameters:  # NumPy >= 2.0
    TABLE.append(unary(np.linalg.cholesky,
                       f"np.linalg.cholesky({SPD}, upper=True) * np.arange(3.0)",
                       shapes=[(3, 3)]))

# symmetric with well-spread eigenvalues, for eigh (whose input is read as symmetric)
SYMMETRIC = "(a + a.T + np.diag(np.arange(3.0)) * 4)"

TABLE += [
    Case((np.tensordot,), "np.tensordot(a, b)", [ANY, ANY], [((2, 3, 4), (3, 4, 2))]),
    Case((np.tensordot,), "np.tensordot(a, b, 1) * np.arange(2.0)", [ANY, ANY],
         [((2, 3), (3, 2)), ((3,), (3, 2))]),
    Case((np.tensordot,), "np.tensordot(a, b, axes=([0], [1])) * np.arange(2.0)", [ANY, ANY],
         [((3, 2), (2, 3))]),
    Case((np.tensordot,), "np.tensordot(a, b, axes=((0, 2), (1, 0)))", [ANY, ANY],
         [((2, 3, 4), (4, 2))]),
    Case((np.tensordot,), "np.tensordot(a, b, 0) * np.arange(2.0)", [ANY, ANY],
         [((3,), (2,))]),
    Case((np.kron,), "np.kron(a, b) * np.arange(3.0)", [ANY, ANY],
         [((2, 3), (3, 1)), ((3,), (1,)), ((1,), (2, 3))]),
    Case((np.kron,), "np.kron(a, b) * np.arange(6.0)", [ANY, ANY], [((2,), (3,))]),
    Case((np.cross,), "np.cross(a, b) * np.arange(3.0)", [ANY, ANY],
         [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (2, 3))]),
    unary(np.linalg.pinv, "np.linalg.pinv(a) * np.arange(3.0)", shapes=[(3, 2), (3, 3)]),
    unary(np.linalg.pinv, "np.linalg.pinv(a) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.linalg.eigh, f"np.linalg.eigh({SYMMETRIC})[0] * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.linalg.eigh, f"np.linalg.eigh({SYMMETRIC})[1] * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.linalg.eigh, f"np.linalg.eigh(a @ a.T + np.eye(3))[0] * np.arange(3.0)",
          shapes=[(3, 3), (3, 4)]),
    unary(np.linalg.svd, "np.linalg.svd(a, compute_uv=False) * np.arange(2.0)",
          shapes=[(3, 2), (2, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a)[1] * np.arange(3.0)", shapes=[(3, 3), (4, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a, full_matrices=False)[1] * np.arange(2.0)",
          shapes=[(2, 3)]),
]

# (issue 18) eigenvectors, eigvalsh and the triangle these read; the singular vectors;
# @ over broadcast stacks of any rank; tensordot's adjoint helper (its rules give the
# second order, tested in tests/test_scipy_linalg.py)
TABLE += [
    unary(np.linalg.eigh,
          "np.linalg.eigh(a + np.diag(np.arange(3.0)) * 4)[1] ** 2 * np.arange(3.0)", UNIT,
          shapes=[(3, 3)]),
    unary(np.linalg.eigh, "np.linalg.eigh(a + np.diag(np.arange(3.0)) * 4, 'U')[1] ** 2", UNIT,
          shapes=[(3, 3)]),
    unary(np.linalg.eigvalsh, f"np.linalg.eigvalsh({SYMMETRIC})", shapes=[(3, 3)]),
    unary(np.linalg.eigvalsh, "np.linalg.eigvalsh(a + np.diag(np.arange(3.0)) * 4, UPLO='U')",
          UNIT, shapes=[(3, 3)]),
    unary(np.linalg.cholesky, f"np.linalg.cholesky({WELL})", UNIT, shapes=[(3, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a, full_matrices=False)[0] ** 2 * np.arange(2.0)",
          shapes=[(3, 2), (2, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a, full_matrices=False)[2] ** 2 * np.arange(3.0)",
          shapes=[(2, 3), (3, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a)[0] ** 2 * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.linalg.svd, "np.linalg.svd(a)[2][:2] ** 2 * np.arange(3.0)", shapes=[(2, 3)]),
    Case((operator.matmul, np.matmul), "a @ b", [ANY, ANY],
         [((2, 1, 3, 4), (5, 4, 2)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)),
          ((4,), (2, 1, 4, 3)), ((1, 3, 4), (2, 4, 2))]),
    Case((np.matmul,), "np.matmul(a, b)", [ANY, ANY], [((2, 1, 2, 3), (3, 3, 2))]),
    Case((np.tensordot, runtime.tensordot_adjoint), "np.tensordot(a, b, axes=1)", [ANY, ANY],
         [((2, 3, 4), (4, 2)), ((4,), (4, 3))]),
]

# (issue 18) least squares, QR, matrix powers; NumPy 2's np.linalg spellings
TABLE += [
    Case((np.linalg.lstsq,), "np.linalg.lstsq(a, b, rcond=None)[0]", [ANY, ANY],
         [((5, 3), (5,)), ((5, 3), (5, 2)), ((2, 4), (2,))]),
    Case((np.linalg.lstsq,), "np.linalg.lstsq(a, b, rcond=None)[1] + "
         "np.linalg.lstsq(a, b, rcond=None)[3][0]", [ANY, ANY],
         [((5, 3), (5, 2)), ((5, 3), (5,))]),
    unary(np.linalg.qr, "np.linalg.qr(a)[0] ** 2 * np.arange(3.0) + np.linalg.qr(a)[1][0]",
          shapes=[(4, 3), (3, 3)]),
    unary(np.linalg.qr, "np.linalg.qr(a, mode='r')", shapes=[(4, 3)]),
    unary(np.linalg.qr, "np.linalg.qr(a, 'complete')[1]", shapes=[(4, 3)]),
    unary(np.linalg.matrix_power, "np.linalg.matrix_power(a, 3)", shapes=[(3, 3), (2, 2, 2)]),
    unary(np.linalg.matrix_power, f"np.linalg.matrix_power({WELL}, -2)", shapes=[(3, 3)]),
    unary(np.linalg.matrix_power, "np.linalg.matrix_power(a, 0) * a", shapes=[(2, 2)]),
    unary(np.linalg.pinv, "np.linalg.pinv(a)", shapes=[(2, 5, 3), (2, 3, 5)]),
    unary(np.linalg.pinv, "np.linalg.pinv(np.swapaxes(a, -1, -2) @ a, rcond=1e-5)",
          shapes=[(2, 2, 3)]),
]
if hasattr(np.linalg, "matrix_transpose"):  # NumPy >= 2.0
    TABLE += [
        Case((np.linalg.matmul,), "np.linalg.matmul(a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
        Case((np.linalg.outer,), "np.linalg.outer(a, b)", [ANY, ANY], [((3,), (4,))]),
        Case((np.linalg.tensordot,), "np.linalg.tensordot(a, b, axes=1)", [ANY, ANY],
             [((2, 3), (3, 2))]),
        unary(np.linalg.matrix_transpose, "np.linalg.matrix_transpose(a) * np.arange(2.0)",
              shapes=[(2, 3), (4, 2, 3)]),
        unary(np.linalg.diagonal, "np.linalg.diagonal(a, offset=1)", shapes=[(3, 4), (2, 3, 3)]),
        Case((np.linalg.vecdot,), "np.linalg.vecdot(a, b)", [ANY, ANY],
             [((2, 3), (3,)), ((3,), (3,))]),
        Case((np.linalg.vecdot,), "np.linalg.vecdot(a, b, axis=0)", [ANY, ANY],
             [((3, 2), (3, 1))]),
        unary(np.linalg.svdvals, "np.linalg.svdvals(a)", shapes=[(3, 2), (2, 2, 3)]),
    ]
