"""The lecture's loop example (§3.1): a 1-D full convolution written as two loops.

    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]

is the lecture's `c[z] += a[x] * b[y]` with z = i + k, x = i, y = k. Its adjoint
copies the loops and splits the product into two accumulations:

    da[i] += dc[i + k] * b[k]
    db[k] += dc[i + k] * a[i]

The indices and the loop bounds do not depend on the values of a, b or c, which is
what makes this adjoint valid (the lecture's condition). Summed over the loops,
these two lines are correlations: da = correlate(dc, b, "valid") and
db = correlate(dc, a, "valid"), which is the gradient written by hand below.
The loss is the energy of the output, sum(c ** 2), so dc = 2 c.

    python examples/convolution_loops.py
    python -m s2sad grad examples/convolution_loops.py:conv_energy --wrt a,b
"""
import numpy as np

import s2sad


def conv_energy(a, b):
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def hand_gradient(a, b):
    """(dL/da, dL/db) by hand: the two accumulations above, summed with np.correlate."""
    c = np.convolve(a, b)               # the full convolution, as the loops compute it
    dc = 2.0 * c
    da = np.correlate(dc, b, mode="valid")   # da[i] = sum_k dc[i + k] * b[k]
    db = np.correlate(dc, a, mode="valid")   # db[k] = sum_i dc[i + k] * a[i]
    return da, db


dconv = s2sad.grad(conv_energy, wrt=(0, 1))

A = np.array([0.5, -1.2, 2.0, 0.3, -0.7])
B = np.array([1.5, -0.25, 0.8])


def relative_difference(got, expected):
    """max |got - expected| / max |expected|: 1e-16 is perfect agreement."""
    return float(np.max(np.abs(np.asarray(got) - expected)) / np.max(np.abs(expected)))


def main(a=A, b=B):
    print(dconv.source)
    da, db = dconv(a, b)
    ha, hb = hand_gradient(a, b)
    for name, got, hand in (("da", da, ha), ("db", db, hb)):
        print(f"{name} s2sad:   {np.array2string(got, precision=10)}")
        print(f"{name} by hand: {np.array2string(hand, precision=10)}")
        print(f"{name} rel. diff: {relative_difference(got, hand):.1e}")
    np.testing.assert_allclose(da, ha, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, hb, rtol=1e-10, atol=1e-12)


if __name__ == "__main__":
    main()
