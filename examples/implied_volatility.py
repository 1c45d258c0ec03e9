"""Black-Scholes implied volatility by Newton's method, and its sensitivities.

The implied volatility of a quoted option price is the sigma at which the Black-Scholes
price matches the quote,

    gap(sigma) = bs_call(sigma, S, K, T, r) - market = 0,

an equation with no closed-form solution. `s2sad.root` solves it by Newton's method
(with s2sad's own derivative of `gap`); inside a differentiated function the root is a
constraint of seed 002, and the generated derivative solves its multiplier equation
(∂gap/∂sigma) lam = -dsigma at the solution, then pushes lam through ∂gap/∂(S, market).
That is the implicit function theorem, and here it has a closed form to check against:

    d sigma / d market = 1 / vega,          d sigma / d S = -delta / vega,

with vega = S phi(d1) sqrt(T) and delta = N(d1). The script checks both, and central
differences of the converged implied volatility; then a whole smile (one volatility per
strike, a vector root whose Jacobian with respect to the quotes is diag(1 / vega)); and
the same derivative when the root is found by a solver of the user's (SciPy's brentq,
`solver=`): the derivative does not depend on how the root was found.

    python examples/implied_volatility.py
"""
import sys

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

import s2sad

TOL = 1e-14


def bs_call(sigma, S, K, T, r):
    """The Black-Scholes price of a European call."""
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    return S * ndtr(d1) - K * np.exp(-r * T) * ndtr(d2)


def gap(sigma, S, K, T, r, market):
    return bs_call(sigma, S, K, T, r) - market


def implied_vol(market, S, K, T, r):
    """sigma with bs_call(sigma, S, K, T, r) = market (a float, or one per strike)."""
    return s2sad.root(gap, 0.3 + 0.0 * K, S, K, T, r, market, tol=TOL)  # x0 shaped like K


def bracketed(F, x0, *params):
    """A scalar root by SciPy's brentq on a bracket of volatilities (x0 unused)."""
    return brentq(lambda sigma: F(sigma, *params), 1e-3, 5.0, xtol=1e-15, rtol=1e-15)


def implied_vol_brent(market, S, K, T, r):
    return s2sad.root(gap, 0.3, S, K, T, r, market, tol=TOL, solver=bracketed)


def vega_and_delta(sigma, S, K, T, r):
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    return S * np.exp(-0.5 * d1 ** 2) / np.sqrt(2 * np.pi) * np.sqrt(T), ndtr(d1)


def central_difference(f, args, index, eps):
    moved = [list(args), list(args)]
    moved[0][index] = args[index] + eps
    moved[1][index] = args[index] - eps
    return (f(*moved[0]) - f(*moved[1])) / (2 * eps)


def relative_error(got, expected):
    return float(np.max(np.abs(np.subtract(got, expected))) /
                 max(float(np.max(np.abs(expected))), 1e-300))


def main(strikes=9):
    S, K, T, r = 100.0, 110.0, 0.75, 0.02
    market = bs_call(0.27, S, K, T, r)
    args = (market, S, K, T, r)
    sigma = implied_vol(*args)
    print(f"call S={S}, K={K}, T={T}, r={r}, quoted at {market:.6f}: implied vol "
          f"{sigma:.12f} (priced at 0.27), repriced gap {gap(sigma, S, K, T, r, market):.1e}")

    d_market, d_spot = s2sad.grad(implied_vol, wrt=(0, 1))(*args)
    vega, delta = vega_and_delta(sigma, S, K, T, r)
    errors = {
        "d sigma/d market vs 1/vega": relative_error(d_market, 1.0 / vega),
        "d sigma/d S vs -delta/vega": relative_error(d_spot, -delta / vega),
        "d sigma/d market vs differences": relative_error(
            d_market, central_difference(implied_vol, args, 0, 1e-4)),
        "d sigma/d S vs differences": relative_error(
            d_spot, central_difference(implied_vol, args, 1, 1e-4)),
    }
    print(f"  d sigma / d market = {d_market:.12f}   1 / vega     = {1.0 / vega:.12f}")
    print(f"  d sigma / d S      = {d_spot:.12f}  -delta / vega = {-delta / vega:.12f}")
    _, tangent = s2sad.jvp(implied_vol, wrt=0)(*args, 1.0)
    errors["jvp d sigma/d market vs 1/vega"] = relative_error(tangent, 1.0 / vega)

    brent = s2sad.grad(implied_vol_brent, wrt=(0, 1))(*args)
    errors["with solver=brentq"] = relative_error(brent, (d_market, d_spot))
    print(f"  the root found by brentq instead: {brent[0]:.12f}, {brent[1]:.12f}")

    # a smile: one volatility per strike, one vector root
    Ks = np.linspace(70.0, 130.0, strikes)
    true_vols = 0.2 + 0.4 * np.log(Ks / S) ** 2
    quotes = bs_call(true_vols, S, Ks, T, r)
    smile = implied_vol(quotes, S, Ks, T, r)
    J = s2sad.jacobian(implied_vol, wrt=0)(quotes, S, Ks, T, r)
    vegas, _ = vega_and_delta(smile, S, Ks, T, r)
    errors["smile vs the vols priced"] = relative_error(smile, true_vols)
    errors["smile jacobian vs diag(1/vega)"] = relative_error(J, np.diag(1.0 / vegas))
    print(f"smile of {strikes} strikes {Ks[0]:g}..{Ks[-1]:g}: vols {np.round(smile, 4)}")
    print("  d vols / d quotes is diagonal, 1 / vega: "
          f"{np.round(np.diag(J), 4)}")
    print("relative errors: " + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()))
    print("\nThe generated gradient:\n")
    print(s2sad.grad(implied_vol, wrt=(0, 1)).source)
    return {"errors": errors}


if __name__ == "__main__":
    main(strikes=5) if "--quick" in sys.argv[1:] else main()
