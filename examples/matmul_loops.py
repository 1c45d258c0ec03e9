"""The lecture's matrix product (§3.2) written as three loops.

    C[i, j] += A[i, k] * B[k, j]          (C_ij = sum_k A_ik B_kj)

is the loop body of §3.1 with two indices per array, so its adjoint is the same
pair of accumulations,

    dA[i, k] += dC[i, j] * B[k, j]
    dB[k, j] += dC[i, j] * A[i, k]

which, summed over the loops, are the lecture's matrix rules dA = dC B^T and
dB = A^T dC. With the loss L = sum(C * G) for a fixed G, dC = G, so s2sad's
loop-by-loop gradient must equal (G @ B.T, A.T @ G).

    python examples/matmul_loops.py
    python -m s2sad grad examples/matmul_loops.py:matmul_loss --wrt A,B
"""
import numpy as np

import s2sad


def matmul_loss(A, B, G):
    n = A.shape[0]
    q = A.shape[1]
    p = B.shape[1]
    C = np.zeros((n, p))
    for i in range(n):
        for j in range(p):
            for k in range(q):
                C[i, j] += A[i, k] * B[k, j]
    return np.sum(C * G)


def lecture_gradient(A, B, G):
    """The lecture's rules with dC = G: (dA, dB) = (dC @ B.T, A.T @ dC)."""
    dC = G
    return dC @ B.T, A.T @ dC


dmatmul = s2sad.grad(matmul_loss, wrt=(0, 1))   # G is data: not differentiated

_rng = np.random.default_rng(32)
A = _rng.normal(size=(3, 4))
B = _rng.normal(size=(4, 2))
G = _rng.normal(size=(3, 2))


def relative_difference(got, expected):
    """max |got - expected| / max |expected|: 1e-16 is perfect agreement."""
    return float(np.max(np.abs(np.asarray(got) - expected)) / np.max(np.abs(expected)))


def main(A=A, B=B, G=G):
    print(dmatmul.source)
    dA, dB = dmatmul(A, B, G)
    hA, hB = lecture_gradient(A, B, G)
    print(f"dA (s2sad) =\n{np.array2string(dA, precision=8)}")
    print(f"dA = G @ B.T rel. diff: {relative_difference(dA, hA):.1e}")
    print(f"dB (s2sad) =\n{np.array2string(dB, precision=8)}")
    print(f"dB = A.T @ G rel. diff: {relative_difference(dB, hB):.1e}")
    np.testing.assert_allclose(dA, hA, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dB, hB, rtol=1e-10, atol=1e-12)


if __name__ == "__main__":
    main()
