"""What the gradient of a loop costs: s2sad against hand-written adjoints, autograd and PyTorch.

    python benchmarks/loops.py            # about ten seconds without PyTorch
    python benchmarks/loops.py --quick    # smaller sizes and fewer repeats: a smoke run

Three loops from examples/, each timed as the primal alone and as its gradient:

* Horner's rule, `p = p * x + c[i]`, 1000 coefficients, gradient in x and c;
* the lecture's convolution, `c[i + k] += a[i] * b[k]`, n = 256 by k = 8, loss
  sum(c ** 2), gradient in a and b;
* RK4, 1000 steps of dy/dt = -lam y + sin(t), gradient of y(T) in y0 and lam.

The columns after the primal are gradient implementations, each with its time
divided by the primal's:

* s2sad: the `s2sad.grad` wrapper, as a user calls it (transform time excluded:
  the gradient is built once before timing);
* by hand: adjoints written the way a careful person would in plain Python and
  NumPy, in the same loop style as the primal: a forward loop that keeps what the
  backward loop needs, then one reverse loop (Horner, RK4); for the convolution the
  forward loop and the lecture's two accumulations `da[i] += dc[i + k] * b[k]`,
  `db[k] += dc[i + k] * a[i]` (a note below the table gives the vectorised
  np.convolve / np.correlate times too);
* autograd (if installed): `autograd.grad` on the very same function for Horner
  and RK4. autograd refuses the convolution's `c[i + k] += ...` into an array, so it
  gets the nearest program it accepts: the same loops accumulating into a Python list;
* PyTorch eager (if installed): the same loops on float64 tensors, then `.backward()`.

Every gradient is checked before anything is timed: the hand-written one against
central differences, and each other one against the hand-written one. A gradient
that fails its check, or a tool that refuses the function, is reported and left
out of the table; the rest of the script goes on. Times are the best of 7
repeats of `time.perf_counter`, each over enough calls to last 50 ms (a slower call
runs once per repeat), with the garbage collector off inside each timing, as in
`timeit`. A script, not a test: the numbers depend on the machine.

PyTorch is not a dependency of the project; its column appears only where
`import torch` works (S2SAD_BENCH_TRACEBACK=1 prints the traceback of any failure).
"""
import argparse
import gc
import math
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's s2sad, not an older install
import s2sad  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))

import convolution_loops  # noqa: E402
import horner  # noqa: E402
import rk4  # noqa: E402

try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # optional: python3 -m pip install ".[bench]"
    autograd = None
    anp = None

try:
    import torch
except ImportError:  # optional, and never installed by this project
    torch = None


# -- hand-written gradients ------------------------------------------------------------------

def horner_hand(x, c):
    """(dp/dx, dp/dc): keep each p the loop overwrites, then one reverse loop."""
    n = len(c)
    ps = np.empty(n)
    p = 0.0
    for i in range(n):
        ps[i] = p
        p = p * x + c[i]
    dx = 0.0
    dc = np.empty(n)
    dp = 1.0
    for i in range(n - 1, -1, -1):
        dc[i] = dp            # p_new = p_old * x + c[i]
        dx += dp * ps[i]
        dp *= x
    return dx, dc


def conv_hand(a, b):
    """(dL/da, dL/db) for L = sum(c ** 2): the forward loops, then the lecture's adjoint."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    dc = 2.0 * c
    da = np.zeros(n)
    db = np.zeros(m)
    for i in range(n):
        for k in range(m):
            da[i] += dc[i + k] * b[k]
            db[k] += dc[i + k] * a[i]
    return da, db


def conv_vectorised(a, b):
    """The convolution loss in one NumPy call, for the note below the table."""
    return np.sum(np.convolve(a, b) ** 2)


rk4_hand = rk4.hand_gradient   # its forward sweep keeps y, its reverse loop recomputes stages


# -- autograd and PyTorch versions -----------------------------------------------------------

def conv_energy_list(a, b):
    """The convolution loops accumulating into a Python list, which autograd can trace."""
    n = len(a)
    m = len(b)
    c = [0.0] * (n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] = c[i + k] + a[i] * b[k]
    return anp.sum(anp.array(c) ** 2)


def autograd_gradient(f):
    g = autograd.grad(f, argnum=(0, 1))
    return lambda *args: tuple(np.asarray(v) for v in g(*args))


def torch_horner(x, c):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    p = torch.zeros((), dtype=torch.float64)
    for i in range(len(c)):
        p = p * xt + ct[i]
    p.backward()
    return xt.grad.item(), ct.grad.numpy()


def torch_conv(a, b):
    at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    n = len(a)
    m = len(b)
    c = torch.zeros(n + m - 1, dtype=torch.float64)
    for i in range(n):
        for k in range(m):
            c[i + k] += at[i] * bt[k]
    torch.sum(c ** 2).backward()
    return at.grad.numpy(), bt.grad.numpy()


def torch_rk4(y0, lam, steps, dt):
    y0t = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    lamt = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    y = y0t
    for i in range(steps):
        t = i * dt
        k1 = -lamt * y + math.sin(t)
        k2 = -lamt * (y + 0.5 * dt * k1) + math.sin(t + 0.5 * dt)
        k3 = -lamt * (y + 0.5 * dt * k2) + math.sin(t + 0.5 * dt)
        k4 = -lamt * (y + dt * k3) + math.sin(t + dt)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    y.backward()
    return y0t.grad.item(), lamt.grad.item()


# -- cases -------------------------------------------------------------------------------------

@dataclass
class Case:
    label: str
    primal: Callable
    args: tuple
    hand: Callable
    autograd: Optional[Callable] = None        # the function autograd differentiates
    autograd_note: str = ""
    torch: Optional[Callable] = None


def make_cases(quick: bool = False):
    rng = np.random.default_rng(0)
    n_horner, (n_conv, k_conv), steps = (100, (32, 4), 100) if quick else (1000, (256, 8), 1000)
    coefficients = rng.normal(size=n_horner)
    a, b = rng.normal(size=n_conv), rng.normal(size=k_conv)
    dt = 10.0 / steps
    return [
        Case(f"Horner, n = {n_horner}", horner.horner, (0.98, coefficients), horner_hand,
             autograd=horner.horner, torch=torch_horner),
        Case(f"convolution loops, n = {n_conv}, k = {k_conv}", convolution_loops.conv_energy,
             (a, b), conv_hand, autograd=conv_energy_list,
             autograd_note="list version: autograd refuses c[i + k] += ... into an array",
             torch=torch_conv),
        Case(f"RK4, {steps} steps", rk4.rk4, (1.0, 0.5, steps, dt), rk4_hand,
             autograd=rk4.rk4, torch=torch_rk4),
    ]


# -- checking ----------------------------------------------------------------------------------

def central_differences(f, args, index, eps=1e-6):
    """Central differences of scalar f in (every entry of) positional argument `index`."""
    args = list(args)
    x = args[index]
    if np.ndim(x) == 0:
        return (f(*args[:index], x + eps, *args[index + 1:])
                - f(*args[:index], x - eps, *args[index + 1:])) / (2 * eps)
    result = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        probe = x.copy()
        probe[i] += eps
        up = f(*args[:index], probe, *args[index + 1:])
        probe[i] -= 2 * eps
        down = f(*args[:index], probe, *args[index + 1:])
        result[i] = (up - down) / (2 * eps)
    return result


def assert_same_gradient(got, expected, rtol, what):
    """Each gradient close to the reference, with atol scaled to the reference's size."""
    assert len(got) == len(expected), f"{what}: {len(got)} gradients, expected {len(expected)}"
    for index, (g, e) in enumerate(zip(got, expected)):
        assert np.shape(g) == np.shape(e), \
            f"{what}: gradient {index} has shape {np.shape(g)}, expected {np.shape(e)}"
        scale = float(np.max(np.abs(e))) or 1.0
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{what}: gradient {index}")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def checked(column: str, make: Callable[[], Callable], args: tuple,
            reference: Sequence[Any], rtol: float = 1e-8) -> Optional[Callable]:
    """The gradient callable if it runs and agrees with `reference`; else None, reported."""
    try:
        gradient = make()
        got = gradient(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
    except s2sad.S2SADError as exc:
        print(f"  {column}: refused the function; not timed.\n"
              + "\n".join("    " + line for line in str(exc).strip().splitlines()[:8]))
        return None
    except Exception as exc:  # noqa: BLE001 -- one tool failing must not stop the others
        print(f"  {column}: failed ({first_line(exc)}); not timed.")
        if os.environ.get("S2SAD_BENCH_TRACEBACK"):
            traceback.print_exc()
        return None
    try:
        assert_same_gradient(got, reference, rtol, f"{column} vs by hand")
    except AssertionError as exc:
        print(f"  {column}: gradient DISAGREES with the hand-written one; not timed.\n"
              + "\n".join("    " + line for line in str(exc).strip().splitlines()[:12]))
        return None
    print(f"  {column}: agrees with the hand-written gradient")
    return gradient


# -- timing -----------------------------------------------------------------------------------

def best_seconds(call: Callable[[], Any], repeat: int, budget: float) -> float:
    """The fastest of `repeat` timings of `call`, each over enough calls to last `budget` s.

    The garbage collector is off inside each timing (as in `timeit`), for every column alike.
    """
    call()  # warm up (caches, lazy imports)
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    number = max(1, int(budget / max(once, 1e-7)))
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # as timeit does: no collector pauses inside a timing
        try:
            start = time.perf_counter()
            for _ in range(number):
                call()
            best = min(best, (time.perf_counter() - start) / number)
        finally:
            gc.enable()
    return best


def fmt_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(seconds: Optional[float], primal: float) -> str:
    return "—" if seconds is None else f"{seconds / primal:.1f}"


# -- the run ----------------------------------------------------------------------------------

COLUMNS = ["s2sad", "by hand", "autograd", "PyTorch"]


def run_case(case: Case, repeat: int, budget: float) -> Tuple[float, Dict[str, Optional[float]]]:
    """Check every gradient of one case, then time the primal and those that passed."""
    print(f"\n{case.label}:")
    primal_value = case.primal(*case.args)
    wrt = (0, 1)

    # the reference: the hand-written gradient, against central differences of the primal
    hand = case.hand(*case.args)
    numeric = tuple(central_differences(case.primal, case.args, i) for i in wrt)
    try:
        assert_same_gradient(hand, numeric, 1e-5, "by hand vs central differences")
        print(f"  by hand: agrees with central differences "
              f"(value {float(primal_value):.6g})")
    except AssertionError as exc:
        print(f"  by hand: the HAND-WRITTEN gradient disagrees with central differences; "
              f"this case is not timed.\n    " + str(exc).strip().splitlines()[0])
        return math.nan, {}

    gradients: Dict[str, Optional[Callable]] = {}
    s2sad_grad = s2sad.grad(case.primal, wrt=wrt)
    gradients["s2sad"] = checked("s2sad", lambda: s2sad_grad, case.args, hand)
    gradients["by hand"] = case.hand
    if autograd is None:
        gradients["autograd"] = None
    elif case.autograd is not None:
        gradients["autograd"] = checked("autograd", lambda: autograd_gradient(case.autograd),
                                        case.args, hand)
    if torch is None or case.torch is None:
        gradients["PyTorch"] = None
    else:
        gradients["PyTorch"] = checked("PyTorch", lambda: case.torch, case.args, hand)

    args = case.args
    primal = case.primal
    t_primal = best_seconds(lambda: primal(*args), repeat, budget)
    times: Dict[str, Optional[float]] = {}
    for column in COLUMNS:
        gradient = gradients.get(column)
        times[column] = None if gradient is None else \
            best_seconds(lambda g=gradient: g(*args), repeat, budget)
    return t_primal, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and two short repeats: a smoke run, not a measurement")
    options = parser.parse_args(argv)
    repeat, budget = (2, 0.002) if options.quick else (7, 0.05)

    print(f"numpy {np.__version__}, s2sad from {os.path.dirname(s2sad.__file__)}; "
          f"autograd {'available' if autograd else 'not installed (column skipped)'}; "
          f"PyTorch {torch.__version__ if torch else 'not installed (column skipped)'}")
    print("Checking every gradient before timing:")
    cases = make_cases(options.quick)
    rows = []
    for case in cases:
        t_primal, times = run_case(case, repeat, budget)
        rows.append((case, t_primal, times))

    columns = ["s2sad", "by hand"] + (["autograd"] if autograd else []) + \
        (["PyTorch"] if torch else [])
    print(f"\n## Gradient cost of loops (best of {repeat}{', --quick' if options.quick else ''})\n")
    header = "| function | primal |" + "".join(f" {c} grad | {c} / primal |" for c in columns)
    print(header)
    print("|---|---:|" + "---:|---:|" * len(columns))
    for case, t_primal, times in rows:
        if not times:
            print(f"| {case.label} | (not timed: reference gradient wrong) |")
            continue
        cells = "".join(f" {fmt_time(times[c])} | {fmt_ratio(times[c], t_primal)} |"
                        for c in columns)
        print(f"| {case.label} | {fmt_time(t_primal)} |{cells}")
    print("\n— : the gradient was refused or disagreed with the hand-written one (see above).")
    conv = next(case for case in cases if case.primal is convolution_loops.conv_energy)
    if autograd is not None and conv.autograd_note:
        print(f"autograd, convolution: {conv.autograd_note}.")
    a, b = conv.args
    t_np = best_seconds(lambda: conv_vectorised(a, b), repeat, budget)
    t_np_grad = best_seconds(lambda: convolution_loops.hand_gradient(a, b), repeat, budget)
    print(f"For comparison, the convolution vectorised: np.convolve primal {fmt_time(t_np)}, "
          f"np.correlate gradient {fmt_time(t_np_grad)} (examples/convolution_loops.py).")


if __name__ == "__main__":
    main()
