"""Implicit against unrolled: the memory and time of a fixed point's gradient (issue 21).

    python3 benchmarks/implicit_memory.py                  # 10 .. 10^4 iterations, ~1 minute
    python3 benchmarks/implicit_memory.py --iterations 10 100 --rounds 3
    python3 benchmarks/implicit_memory.py --out DIR        # where implicit.md goes
                                                           # (default benchmarks/results)

A deep-equilibrium-style state z = tanh(W z + c) of n = 64 units, and the loss
0.5 |z* - target|^2 at its fixed point, differentiated with respect to W and c three ways:

- implicit, dense: `s2sad.fixed_point(cell, z0, W, c)` inside the loss (solve="auto",
  which is a dense solve for 64 entries): the derivative solves seed 002's multiplier
  equation (I - ∂cell/∂z)ᵀ lam = dz by one LU of an n x n matrix made from n vjps of cell;
- implicit, iterated: the same with solve="iterate": lam <- dz + (∂cell/∂z)ᵀ lam, one vjp
  of cell per step, until lam converges;
- unrolled: the same iteration written as a plain loop of N steps, which s2sad
  differentiates exactly, step by step: its forward sweep keeps every step's z.

The number of forward iterations N is forced through the contraction of the map: W =
rho Q (Q a random orthogonal matrix), with rho found by bisection so that the fixed-point
iteration from z = 0 meets its tolerance (1e-10, s2sad's `converged` rule) after N
steps, for N = 10, 100, 1000, 10000; the unrolled loop runs the same N steps, so both
start from the same iterate and differentiate the same problem. Each row checks that
`fixed_point(..., max_iter=N)` converges and `max_iter=N-1` does not.

Peak memory: tracemalloc's peak during one gradient call (benchmarks/run.py's
`peak_bytes`: NumPy's data included). Time: this process's CPU time per call, every column
timed once per round in a rotating order (run.py's `time_rounds`), the median over rounds.
The last column is the largest difference between the implicit (dense) and the unrolled
gradients relative to the largest entry: the unrolled derivative is that of N steps, and
agrees with the solution's derivative once the steps have converged.

A script, not a test: the numbers depend on the machine (the load average is in the header).
"""
import os

# one BLAS thread, as run.py (set before NumPy loads)
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's s2sad
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import s2sad  # noqa: E402
from s2sad.implicit import ConvergenceError, converged  # noqa: E402
from run import calls_per_block, fmt_bytes, fmt_time, peak_bytes, time_rounds  # noqa: E402

N_UNITS = 64
TOL = 1e-10
MAX_ITER = 10 ** 6


def cell(z, W, c):
    return np.tanh(W @ z + c)


def loss(W, c, target):
    z = s2sad.fixed_point(cell, np.zeros(c.shape[0]), W, c, tol=TOL, max_iter=MAX_ITER)
    return 0.5 * np.sum((z - target) ** 2)


def loss_dense(W, c, target):
    z = s2sad.fixed_point(cell, np.zeros(c.shape[0]), W, c, tol=TOL, max_iter=MAX_ITER,
                          solve="dense")
    return 0.5 * np.sum((z - target) ** 2)


def loss_iterated(W, c, target):
    z = s2sad.fixed_point(cell, np.zeros(c.shape[0]), W, c, tol=TOL, max_iter=MAX_ITER,
                          solve="iterate")
    return 0.5 * np.sum((z - target) ** 2)


def loss_unrolled(W, c, target, steps):
    z = np.zeros(c.shape[0])
    for _ in range(steps):
        z = np.tanh(W @ z + c)
    return 0.5 * np.sum((z - target) ** 2)


GRADIENTS = {"implicit, dense": s2sad.grad(loss_dense, wrt=(0, 1)),
             "implicit, iterated": s2sad.grad(loss_iterated, wrt=(0, 1)),
             "unrolled": s2sad.grad(loss_unrolled, wrt=(0, 1))}


def iterations(W, c, limit):
    """How many steps of z <- cell(z) from z = 0 fixed_point takes (None past limit)."""
    z, scale = np.zeros(c.shape[0]), None
    for k in range(1, limit + 1):
        z_next = cell(z, W, c)
        if scale is None:  # (fixed_point's scale: max |z0|, or the first step's size)
            scale = max(np.max(np.abs(z)), np.max(np.abs(z_next - z)))
        if converged(z_next, z, TOL, scale):
            return k
        z = z_next
    return None


def calibrated(Q, c, target_steps):
    """(rho, N): W = rho Q makes the iteration converge in N steps, N as near
    target_steps as bisection on rho gets (N is a step function of rho)."""
    low, high = 0.0, 1.0
    best = None
    for _ in range(60):
        rho = 0.5 * (low + high)
        steps = iterations(rho * Q, c, 2 * target_steps)
        if steps is None or steps > target_steps:
            high = rho
        else:
            low = rho
            if best is None or steps > best[1]:
                best = (rho, steps)
            if steps == target_steps:
                break
    return best


def check_count(W, c, steps):
    """fixed_point meets its tolerance in exactly `steps` steps."""
    s2sad.fixed_point(cell, np.zeros(c.shape[0]), W, c, tol=TOL, max_iter=steps)
    try:
        s2sad.fixed_point(cell, np.zeros(c.shape[0]), W, c, tol=TOL, max_iter=steps - 1)
    except ConvergenceError:
        return True
    return steps == 1


def relative_difference(a, b):
    scale = max(max(float(np.max(np.abs(y))) for y in b), 1e-300)
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b)) / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    options = parser.parse_args()
    started, load_before = time.perf_counter(), os.getloadavg()[0]

    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(N_UNITS, N_UNITS)))[0]
    c = 0.01 * rng.normal(size=N_UNITS) / np.sqrt(N_UNITS)  # small: tanh' ~ 1, the
    # map contracts by rho itself, and N reaches 10^4 as rho nears 1
    target = rng.normal(size=N_UNITS) * 0.1

    rows = []
    for wanted in options.iterations:
        rho, steps = calibrated(Q, c, wanted)
        W = rho * Q
        counted = check_count(W, c, steps)
        calls = {"primal": lambda: loss(W, c, target),
                 "implicit, dense": lambda: GRADIENTS["implicit, dense"](W, c, target),
                 "implicit, iterated": lambda: GRADIENTS["implicit, iterated"](W, c, target),
                 "unrolled": lambda: GRADIENTS["unrolled"](W, c, target, steps)}
        numbers = {key: calls_per_block(call, 0.02) for key, call in calls.items()}
        seconds = time_rounds(calls, numbers, options.rounds)
        times = {key: statistics.median(s) for key, s in seconds.items()}
        memory = {key: peak_bytes(call) for key, call in calls.items()}
        difference = relative_difference(calls["implicit, dense"](), calls["unrolled"]())
        iterated = relative_difference(calls["implicit, iterated"](),
                                       calls["implicit, dense"]())
        rows.append((steps, rho, counted, times, memory, difference, iterated))
        print(f"N = {steps:>6,} (rho {rho:.8f}, count checked: {counted}): "
              + ", ".join(f"{k} {fmt_time(times[k])} / {fmt_bytes(memory[k])}" for k in calls)
              + f"; implicit vs unrolled {difference:.1e}, iterated vs dense {iterated:.1e}",
              flush=True)

    header = (f"{datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} "
              f"CPUs; Python {platform.python_version()}; NumPy {np.__version__}; "
              f"OPENBLAS/OMP threads {os.environ['OPENBLAS_NUM_THREADS']}/"
              f"{os.environ['OMP_NUM_THREADS']}; 1-min load average {load_before:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after; {time.perf_counter() - started:.0f} s")
    command = "python3 benchmarks/implicit_memory.py" + "".join(
        f" {a}" for a in sys.argv[1:])
    lines = report(rows, header, command, options.rounds)
    os.makedirs(options.out, exist_ok=True)
    path = os.path.join(options.out, "implicit.md")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {path}")


def report(rows, header, command, rounds):
    lines = ["## Implicit against unrolled: a fixed point's gradient", "",
             f"Generated by `{command}` on {header}.", "",
             f"z = tanh(W z + c), n = {N_UNITS}, loss 0.5 |z* - target|^2, gradient with "
             "respect to W and c. N forward iterations (tolerance 1e-10, forced by the "
             "contraction rho of W = rho Q; *count* says `fixed_point(max_iter=N)` converges "
             "and `max_iter=N-1` does not); the unrolled loop runs the same N steps. Time: "
             f"CPU time per call, median of {rounds} rounds; memory: tracemalloc's peak "
             "during one call. *diff*: max |implicit - unrolled| / max |unrolled| (dense "
             "multipliers); *iter vs dense*: the same between the two implicit solves.", "",
             "| N | rho | count | primal | implicit, dense | implicit, iterated | unrolled | "
             "peak: primal | peak: implicit, dense | peak: implicit, iterated | "
             "peak: unrolled | unrolled / implicit memory | diff | iter vs dense |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for steps, rho, counted, times, memory, difference, iterated in rows:
        lines.append(
            f"| {steps:,} | {rho:.8f} | {'ok' if counted else 'NO'} | "
            + " | ".join(fmt_time(times[k]) for k in ("primal", "implicit, dense",
                                                      "implicit, iterated", "unrolled"))
            + " | " + " | ".join(fmt_bytes(memory[k]) for k in (
                "primal", "implicit, dense", "implicit, iterated", "unrolled"))
            + f" | {memory['unrolled'] / memory['implicit, dense']:.1f} | {difference:.1e} | "
              f"{iterated:.1e} |")
    dense = [r[4]["implicit, dense"] for r in rows]
    iterated = [r[4]["implicit, iterated"] for r in rows]
    lines += ["", f"The implicit gradients' peak memory over the rows: dense "
                  f"{fmt_bytes(min(dense))} .. {fmt_bytes(max(dense))}, iterated "
                  f"{fmt_bytes(min(iterated))} .. {fmt_bytes(max(iterated))}, whatever N: "
                  "nothing of the forward iterations is kept (the derivative reads z* "
                  "alone). The unrolled gradient keeps every step's z (and what its "
                  "adjoint reads), so its peak grows linearly with N. Time: the implicit "
                  "gradient costs the forward solve plus the multiplier solve; the dense "
                  f"multipliers cost n = {N_UNITS} vjps of cell and one LU whatever N, the "
                  "iterated ones about as many vjps as the forward took steps (the "
                  "multiplier iteration contracts as the forward one does).",
              "",
              "*diff* is the forward tolerance seen through the equation: both iterations "
              "stop where a step changes z by 1e-10, which leaves z off z* by up to "
              "1e-10 / (1 - rho); the unrolled gradient is the derivative of those N steps, "
              "the implicit one the derivative of the equation at the iterate reached, and "
              "the two differ by about as much (a tighter tol= brings them together)."]
    return lines


if __name__ == "__main__":
    main()
