"""Horner's rule: p(x) = c[0] x^(n-1) + c[1] x^(n-2) + ... + c[n-1], one loop.

    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]

`p` is overwritten on every iteration, and the adjoint of `p * x` needs the old
value of p, so this is the smallest loop that needs a tape: the forward sweep
keeps each old p, and the adjoint sweep runs the loop backwards,

    dx += dp * p_old
    dc[i] += dp
    dp = dp * x

The derivatives are known in closed form, which is what the gradient is checked
against: dp/dx = p'(x) = np.polyval(np.polyder(c), x), dp/dc[i] = x^(n-1-i).

    python examples/horner.py
    python -m s2sad grad examples/horner.py:horner --wrt x,c
"""
import numpy as np

import s2sad


def horner(x: float, c):
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def analytic_gradient(x, c):
    """(dp/dx, dp/dc) in closed form: the derivative polynomial, and the powers of x."""
    dx = float(np.polyval(np.polyder(c), x))
    dc = x ** np.arange(len(c) - 1, -1, -1, dtype=float)
    return dx, dc


dhorner = s2sad.grad(horner, wrt=(0, 1))

COEFFICIENTS = np.array([0.5, -1.5, 2.0, 0.25, -3.0, 1.0])
POINTS = (-1.3, 0.4, 0.9, 1.7)


def main(c=COEFFICIENTS, points=POINTS):
    print(dhorner.source)
    print(f"c = {c}")
    for x in points:
        (dx, dc), (hx, hc) = dhorner(x, c), analytic_gradient(x, c)
        rel_x = abs(dx - hx) / abs(hx)
        rel_c = float(np.max(np.abs(dc - hc)) / np.max(np.abs(hc)))
        print(f"x = {x:5.2f}   dp/dx s2sad: {dx:+.12f}   p'(x): {hx:+.12f}   "
              f"rel. diff: {rel_x:.1e}   dp/dc rel. diff: {rel_c:.1e}")
        np.testing.assert_allclose(dx, hx, rtol=1e-10)
        np.testing.assert_allclose(dc, hc, rtol=1e-10)


if __name__ == "__main__":
    main()
