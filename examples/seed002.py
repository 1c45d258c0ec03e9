"""Seed 002's blog example: f(x) = exp(exp(x) + exp(x)^2) + sin(exp(x) + exp(x)^2).

Lowered to intermediate variables a = exp(x), b = a^2, c = a + b, d = exp(c),
e = sin(c), f = d + e; the adjoints are the Lagrange multipliers of these
constraints, and `c`, read by both `d` and `e`, gets two contributions
(`dc = ...; dc += ...`). Run `python examples/seed002.py` to print the gradient
s2sad generates and compare it with the seed's closed form

    df/dx = exp(exp(x)+exp(x)^2)(exp(x)+2exp(x)^2) + cos(exp(x)+exp(x)^2)(exp(x)+2exp(x)^2)

or `python -m s2sad grad examples/seed002.py:f` to print the gradient alone.
"""
import numpy as np

import s2sad


def f(x):
    return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)


def symbolic_df(x):
    """The seed's closed-form derivative, written out by hand."""
    u = np.exp(x) + np.exp(x) ** 2
    du = np.exp(x) + 2 * np.exp(x) ** 2
    return np.exp(u) * du + np.cos(u) * du


df = s2sad.grad(f)


def main(points=(-1.0, 0.0, 0.5)):
    print(s2sad.source(f))
    for x in points:
        auto, hand = df(x), symbolic_df(x)
        print(f"x = {x:5.2f}   s2sad: {auto:.15g}   closed form: {hand:.15g}   "
              f"rel. diff: {abs(auto - hand) / abs(hand):.1e}")


if __name__ == "__main__":
    main()
