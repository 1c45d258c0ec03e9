"""Classical Runge-Kutta (RK4) for a scalar ODE, differentiated through the solver.

The ODE is a forced decay,

    dy/dt = -lam * y + sin(t),        y(0) = y0,

integrated over `steps` steps of size `dt`. The function returns the final state
y(steps * dt); its gradient with respect to the initial value y0 and the rate lam
is the sensitivity of the whole discrete solver (what "discretise, then
differentiate" means). Every step overwrites y, and the adjoint of each stage needs
that step's y, so the forward sweep records one value per step.

The gradient is checked against central differences of the solver itself, and
against `hand_gradient`, the adjoint sweep written out by hand: one reverse loop
over the steps, the four stages of each step in reverse order.

    python examples/rk4.py
    python -m s2sad grad examples/rk4.py:rk4 --wrt y0,lam
"""
import math

import numpy as np

import s2sad


def rk4(y0: float, lam: float, steps=100, dt=0.05):
    y = y0
    for i in range(steps):
        t = i * dt
        k1 = -lam * y + math.sin(t)
        k2 = -lam * (y + 0.5 * dt * k1) + math.sin(t + 0.5 * dt)
        k3 = -lam * (y + 0.5 * dt * k2) + math.sin(t + 0.5 * dt)
        k4 = -lam * (y + dt * k3) + math.sin(t + dt)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def hand_gradient(y0, lam, steps=100, dt=0.05):
    """(dy_final/dy0, dy_final/dlam): the forward sweep keeps y, the reverse loop the rest."""
    ys = [0.0] * steps
    y = y0
    for i in range(steps):
        ys[i] = y
        t = i * dt
        k1 = -lam * y + math.sin(t)
        k2 = -lam * (y + 0.5 * dt * k1) + math.sin(t + 0.5 * dt)
        k3 = -lam * (y + 0.5 * dt * k2) + math.sin(t + 0.5 * dt)
        k4 = -lam * (y + dt * k3) + math.sin(t + dt)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    dy = 1.0
    dlam = 0.0
    h2 = 0.5 * dt
    for i in range(steps - 1, -1, -1):
        # recompute the stage states of step i from its recorded y
        y = ys[i]
        t = i * dt
        k1 = -lam * y + math.sin(t)
        y2 = y + h2 * k1
        k2 = -lam * y2 + math.sin(t + h2)
        y3 = y + h2 * k2
        k3 = -lam * y3 + math.sin(t + h2)
        y4 = y + dt * k3
        # y_next = y + dt/6 (k1 + 2 k2 + 2 k3 + k4), then each stage backwards
        dk1 = dy * dt / 6.0
        dk2 = dy * dt / 3.0
        dk3 = dk2
        dk4 = dk1
        dlam -= dk4 * y4
        dy4 = -lam * dk4
        dk3 += dt * dy4
        dlam -= dk3 * y3
        dy3 = -lam * dk3
        dk2 += h2 * dy3
        dlam -= dk2 * y2
        dy2 = -lam * dk2
        dk1 += h2 * dy2
        dlam -= dk1 * y
        dy = dy + dy4 + dy3 + dy2 - lam * dk1
    return dy, dlam


def central_differences(f, args, index, eps=1e-6):
    """(f(.., x + eps, ..) - f(.., x - eps, ..)) / 2 eps in scalar argument `index`."""
    up, down = list(args), list(args)
    up[index] += eps
    down[index] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


drk4 = s2sad.grad(rk4, wrt=(0, 1))

POINTS = [(1.0, 0.5), (-0.4, 0.8), (2.0, 0.1)]


def main(points=POINTS):
    print(drk4.source)
    for y0, lam in points:
        got = drk4(y0, lam)
        hand = hand_gradient(y0, lam)
        numeric = (central_differences(rk4, (y0, lam), 0),
                   central_differences(rk4, (y0, lam), 1))
        print(f"(y0, lam) = ({y0:5.2f}, {lam:4.2f})   y(T) = {rk4(y0, lam):+.10f}")
        for name, g, h, c in zip(("dy0", "dlam"), got, hand, numeric):
            print(f"    {name:4s} s2sad: {g:+.12f}   by hand: {h:+.12f}   "
                  f"central diff.: {c:+.12f}   rel. diff (hand): {abs(g - h) / abs(h):.1e}")
        np.testing.assert_allclose(got, hand, rtol=1e-10)
        np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-9)


if __name__ == "__main__":
    main()
