"""RK4 differentiated through 10^4 .. 10^6 steps with `s2sad.grad(f, checkpoint=k)`.

    python benchmarks/checkpoint.py                     # 10^4, 10^5, 10^6 steps; k = 10, 30, 100
    python benchmarks/checkpoint.py --steps 10000 --snapshots 5 20
    python benchmarks/checkpoint.py --no-memory         # times only (tracemalloc slows
                                                        # Python ~15x: 10^6 traced takes minutes)

For each step count and k: the gradient's time, its time over the primal's, the peak
memory tracemalloc sees over one (separate) call, how many times `step` ran against
Griewank & Walther's optimum (`s2sad.revolve.forward_steps`), and the gradient checked
against the plain gradient (at 10^4 steps, where the plain one's tape still fits) or
against central differences. The plain gradient, which keeps every step, is measured
up to 10^5 steps for comparison.

The ODE is examples/rk4.py's forced decay dy/dt = -lam y + sin(t), y a float (what is
measured is the driver and the step code, not NumPy).
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))

import rk4 as example  # noqa: E402

import s2sad  # noqa: E402
from s2sad import revolve  # noqa: E402


def peak_bytes(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def seconds(call, repeats: int = 1) -> float:
    """The best of `repeats` calls (the machine is shared: the least disturbed one)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--snapshots", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc runs")
    options = parser.parse_args()

    f = example.rk4
    y0 = 1.0
    print("| steps | gradient | time | time / primal | peak memory | step runs | "
          "optimum | check |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for steps in options.steps:
        args = (y0, 0.5, steps, 10.0 / steps)
        repeats = 5 if steps <= 10**4 else 3 if steps <= 10**5 else 1
        primal = seconds(lambda: f(*args), repeats)
        reference = None
        if steps <= 10**5:
            plain = s2sad.grad(f, wrt=(0, 1))
            plain(*args)
            reference = plain(*args)
            t = seconds(lambda: plain(*args), repeats)
            memory = fmt_bytes(peak_bytes(lambda: plain(*args))) \
                if not options.no_memory else "—"
            print(f"| {steps:,} | plain | {t:.3f} s | {t / primal:.1f} | {memory} | {steps:,} "
                  f"| — | — |")
        for k in options.snapshots:
            gradient = s2sad.grad(f, wrt=(0, 1), checkpoint=k)
            gradient(y0, 0.5, 10, 1.0)  # (compiled for these ranks before timing)
            result = []
            t = seconds(lambda: result.append(gradient(*args)), repeats)
            loop = gradient.checkpointed.last_loop
            optimum = revolve.forward_steps(steps, k)
            if reference is not None:
                good = all(np.allclose(a, b, rtol=1e-10, atol=0)
                           for a, b in zip(result[0], reference))
            else:  # the derivative in lam against central differences (one number)
                eps = 1e-5
                slope = (f(y0, 0.5 + eps, steps, 10.0 / steps) -
                         f(y0, 0.5 - eps, steps, 10.0 / steps)) / (2 * eps)
                good = np.isclose(result[0][1], slope, rtol=1e-6)
            memory = fmt_bytes(peak_bytes(lambda: gradient(*args))) \
                if not options.no_memory else "—"
            print(f"| {steps:,} | checkpoint={k} | {t:.3f} s | {t / primal:.1f} | {memory} | "
                  f"{loop.steps:,} | {optimum:,} | {'ok' if good else 'FAIL'} |", flush=True)


if __name__ == "__main__":
    main()
