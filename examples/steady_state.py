"""Sensitivities of the steady state of a metabolic pathway to its rate constants.

A linear pathway of n metabolites S_0 -> S_1 -> ... -> S_{n-1} -> (out), each step an
enzyme with Michaelis-Menten kinetics, and an inflow that the end product inhibits:

    v_in = v0 / (1 + (S_{n-1} / ki)^2),     v_i = vmax_i S_i / (km_i + S_i),
    dS_0/dt = v_in - v_0,                   dS_i/dt = v_{i-1} - v_i.

Its steady state S* solves rates(S, θ) = 0, a nonlinear system with no formula for its
solution. `s2sad.root` finds it by Newton's method (with s2sad's own Jacobian of
`rates`); differentiated, S* is a constraint of seed 002, and the generated derivative
solves the multiplier equation (∂rates/∂S)^T lam = -dS (reverse) or the tangent equation
∂rates/∂S S_dot = -∂rates/∂θ θ_dot (forward) at S* alone. The same steady state is
also the fixed point of an explicit Euler step S = S + h rates(S, θ) (time-stepping to
equilibrium, `steady_state_by_time_steps`), which gives the same derivatives.

Checks printed by the script:
- S* against a semi-analytic solution (at steady state every flux equals J, so
  S_i = km_i J / (vmax_i - J), and J solves one scalar equation, by brentq);
- the forward sensitivity dS*/dvmax along a direction (s2sad.jvp), the whole matrix
  dS*/dvmax (s2sad.jacobian, forward and reverse), and the gradients of the pathway's
  flux J and of the total pool sum(S*) with respect to every rate constant
  (s2sad.grad), against central differences of the converged steady state;
- metabolic control analysis' summation theorems, which hold exactly: scaling every
  enzyme (v0 and all vmax) by the same factor scales J by it and leaves S* unchanged,
  so the flux control coefficients (vmax_i / J) dJ/dvmax_i sum to 1 and the jvp of S*
  along the direction (v0, vmax) is zero.

    python examples/steady_state.py
    python examples/steady_state.py --quick
"""
import sys

import numpy as np
from scipy.optimize import brentq

import s2sad

TOL = 1e-13
STEP = 0.2  # Euler step of the time-stepping form (stable for these rate constants)


def rates(S, v0, ki, vmax, km):
    """dS/dt of the pathway."""
    v = vmax * S / (km + S)
    v_in = v0 / (1.0 + (S[-1] / ki) ** 2)
    inflow = np.concatenate((np.array([v_in]), v[:-1]))
    return inflow - v


def euler_step(S, v0, ki, vmax, km):
    return S + STEP * rates(S, v0, ki, vmax, km)


def steady_state(v0, ki, vmax, km):
    """S* with rates(S*) = 0, by Newton's method from S = 1."""
    return s2sad.root(rates, np.ones(vmax.shape[0]), v0, ki, vmax, km, tol=TOL)


def steady_state_by_time_steps(v0, ki, vmax, km):
    """The same S*, as the fixed point of an Euler step of the ODE."""
    return s2sad.fixed_point(euler_step, np.ones(vmax.shape[0]), v0, ki, vmax, km,
                             tol=TOL, max_iter=100000)


def flux(v0, ki, vmax, km):
    """The flux through the pathway at steady state (what leaves its last step)."""
    S = s2sad.root(rates, np.ones(vmax.shape[0]), v0, ki, vmax, km, tol=TOL)
    return vmax[-1] * S[-1] / (km[-1] + S[-1])


def total_pool(v0, ki, vmax, km):
    """The total amount of metabolites at steady state (every S*_i counts, not only the
    last one, as for the flux)."""
    S = s2sad.root(rates, np.ones(vmax.shape[0]), v0, ki, vmax, km, tol=TOL)
    return np.sum(S)


def semi_analytic(v0, ki, vmax, km):
    """S* from the scalar equation of the flux J (every step carries J at steady state)."""
    def excess(J):
        S_last = km[-1] * J / (vmax[-1] - J)
        return v0 / (1.0 + (S_last / ki) ** 2) - J
    J = brentq(excess, 0.0, min(v0, np.min(vmax)) * (1 - 1e-15), xtol=1e-15, rtol=1e-15)
    return km * J / (vmax - J)


def central_difference(f, args, index, direction, eps=1e-6):
    """The derivative of f along `direction` in argument `index`, by central differences."""
    def moved(sign):
        changed = list(args)
        changed[index] = args[index] + sign * eps * direction
        return f(*changed)
    return (np.asarray(moved(1.0)) - np.asarray(moved(-1.0))) / (2 * eps)


def relative_error(got, expected):
    return float(np.max(np.abs(np.subtract(got, expected))) /
                 max(float(np.max(np.abs(expected))), 1e-300))


def make_pathway(n):
    rng = np.random.default_rng(0)
    return 2.0, 1.5, rng.uniform(2.0, 5.0, n), rng.uniform(0.5, 2.0, n)


def main(n=6, check_time_steps=True):
    v0, ki, vmax, km = params = make_pathway(n)
    S = steady_state(*params)
    errors = {"S* vs semi-analytic": relative_error(S, semi_analytic(*params))}
    print(f"pathway of {n} steps: S* = {np.round(S, 6)}")
    print(f"  max |rates(S*)| = {np.max(np.abs(rates(S, *params))):.1e}")

    # forward mode: dS*/dvmax along a direction
    direction = np.linspace(1.0, -1.0, n)
    _, S_dot = s2sad.jvp(steady_state, wrt=2)(*params, direction)
    errors["jvp dS*/dvmax"] = relative_error(
        S_dot, central_difference(steady_state, params, 2, direction))
    print(f"  dS*/dvmax . t (jvp) = {np.round(S_dot, 6)}")

    # the whole sensitivity matrix dS*/dvmax, column by column (forward) and row by row
    # (reverse: one vjp per metabolite)
    numeric = np.array([central_difference(steady_state, params, 2, e) for e in np.eye(n)]).T
    for mode in ("forward", "reverse"):
        matrix = s2sad.jacobian(steady_state, wrt=2, mode=mode)(*params)
        errors[f"jacobian dS*/dvmax ({mode})"] = relative_error(matrix, numeric)

    # reverse mode: dJ/d(every rate constant)
    J, grads = s2sad.value_and_grad(flux, wrt=(0, 1, 2, 3))(*params)
    for name, index, g in zip(("v0", "ki", "vmax", "km"), range(4), grads):
        if np.ndim(g):
            numeric = np.array([central_difference(flux, params, index, e)
                                for e in np.eye(n)])
        else:
            numeric = central_difference(flux, params, index, 1.0)
        errors[f"grad dJ/d{name}"] = relative_error(g, numeric)
    pool_grads = s2sad.grad(total_pool, wrt=(2, 3))(*params)
    for name, index, g in zip(("vmax", "km"), (2, 3), pool_grads):
        numeric = np.array([central_difference(total_pool, params, index, e)
                            for e in np.eye(n)])
        errors[f"grad d sum(S*)/d{name}"] = relative_error(g, numeric)
    print(f"  flux J = {J:.6f}; dJ/dv0 = {grads[0]:.6f}, dJ/dki = {grads[1]:.6f}")
    print(f"  dJ/dvmax = {np.round(grads[2], 6)}  (irreversible steps: only the inhibited "
          "inflow and the last step set J)")
    print(f"  dJ/dkm   = {np.round(grads[3], 6)}")

    # metabolic control analysis: the summation theorems
    control = np.concatenate(([v0 * grads[0]], vmax * grads[2])) / J
    _, S_scaled = s2sad.jvp(steady_state, wrt=(0, 2))(*params, (v0, vmax))
    summation = {"sum of flux control coefficients - 1": abs(np.sum(control) - 1.0),
                 "max |dS* along (v0, vmax)| / max S*": float(np.max(np.abs(S_scaled)) /
                                                             np.max(S))}
    print(f"  flux control coefficients (inflow, steps): {np.round(control, 4)}, "
          f"sum {np.sum(control):.12f}")

    if check_time_steps:
        by_steps = steady_state_by_time_steps(*params)
        errors["S* by Euler steps vs Newton"] = relative_error(by_steps, S)
        _, dot_steps = s2sad.jvp(steady_state_by_time_steps, wrt=2)(*params, direction)
        errors["jvp through the Euler fixed point"] = relative_error(dot_steps, S_dot)
    print("relative errors: " + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()))
    print("summation theorems: " + ", ".join(f"{k} {e:.1e}" for k, e in summation.items()))
    print("\nThe generated gradient of the flux:\n")
    print(s2sad.grad(flux, wrt=(0, 1, 2, 3)).source)
    return {"errors": errors, "summation": summation}


if __name__ == "__main__":
    main(n=4, check_time_steps=False) if "--quick" in sys.argv[1:] else main()
