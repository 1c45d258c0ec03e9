"""The lecture's worked example (§2.10, slide 17): F = sin(x + y) / (x * y).

The lecture draws it as a graph, S = x + y, M = x * y, G = sin(S), H = 1/M,
F = G * H, and runs the reverse pass by hand from dF = 1:

    dx = dS * 1 + dM * y = cos(S)/M - y sin(S)/M^2
    dy = dS * 1 + dM * x = cos(S)/M - x sin(S)/M^2

`x: float, y: float` tell s2sad both inputs are scalars, so the generated code
needs no broadcasting reductions. Run it to print the generated gradient and
compare it with the hand-derived one at a few points:

    python examples/lecture_sin_ratio.py
    python -m s2sad grad examples/lecture_sin_ratio.py:F --wrt x,y
"""
import numpy as np

import s2sad


def F(x: float, y: float):
    return np.sin(x + y) / (x * y)


def hand_gradient(x, y):
    """The lecture's reverse pass, written out by hand: (dF/dx, dF/dy)."""
    S = x + y
    M = x * y
    dx = np.cos(S) / M - y * np.sin(S) / M ** 2
    dy = np.cos(S) / M - x * np.sin(S) / M ** 2
    return dx, dy


dF = s2sad.grad(F, wrt=(0, 1))

POINTS = [(1.0, 2.0), (0.5, -1.5), (-2.0, 3.0), (3.0, 0.25)]


def main(points=POINTS):
    print(s2sad.source(F, wrt=(0, 1)))
    for x, y in points:
        (ax, ay), (hx, hy) = dF(x, y), hand_gradient(x, y)
        print(f"(x, y) = ({x:5.2f}, {y:5.2f})   s2sad: ({ax:+.12f}, {ay:+.12f})   "
              f"by hand: ({hx:+.12f}, {hy:+.12f})")


if __name__ == "__main__":
    main()
