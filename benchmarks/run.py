"""The benchmark suite of issues 6 and 19: s2sad's gradients against hand-written NumPy.

    python3 benchmarks/run.py                  # the full run, ~10 minutes
    python3 benchmarks/run.py --quick          # short rounds, RK4 checkpointing at 10^4
                                               # steps only: a smoke run (< 60 s)
    python3 benchmarks/run.py --repeat-check   # the whole timing twice in one process:
                                               # do the two medians agree within 10%?
    python3 benchmarks/run.py --out DIR        # where results.md and ratios.png go
                                               # (default benchmarks/results)
    python3 benchmarks/run.py --source         # also print each generated gradient
    python3 benchmarks/run.py --only LSTM      # only the rows whose label contains LSTM
    python3 benchmarks/run.py --clock wall     # wall-clock blocks (default: CPU time)

Issue 6's eight functions: seed 002's exp/sin chain and the lecture's sin(x + y)/(x y)
(scalars), Horner's rule (1000 steps), the lecture's convolution by nested loops (n = 256,
k = 8), RK4 (1000 scalar steps), a 2-layer tanh MLP with softmax cross-entropy, linear
regression in matrix form, logsumexp of 10^5 elements (examples/). Then issue 19's rows
from programs.py, written as a user would and each with a hand-written gradient: a heat
stencil, softmax cross-entropy over rows, attention, an LSTM, a Gaussian-process
likelihood (cholesky + solve, and solve + slogdet), logistic regression, n-body; and
Horner, the convolution, RK4, the heat stencil, the LSTM and n-body in other spellings of
their lengths (`a.shape[0]`, `np.shape(a)[0]`, `a.size`, `n, m = A.shape`), one row each,
so that a cost that depends on the spelling shows.

Columns: the primal; s2sad (the `s2sad.grad` wrapper as a user calls it, after a first,
compiling call; "generated" is the generated function alone); by hand (the reference:
checked against a central difference of the primal along a random direction, and every
other gradient is checked against it, rtol 1e-6, float64); autograd on the same source
with `np` bound to autograd.numpy (where installed and it accepts the program); PyTorch
eager and JAX (where installed); s2sad jit (the loops, where Numba is installed): its
first call (transform and Numba's compile, cold: S2SAD_CACHE_DIR defaults to a new
temporary directory) is reported apart; a fallback to Python is reported with its
reason, not timed.

Timing: every column of a benchmark is timed once per round, a block of calls lasting
~10 ms (~4 ms with --quick), in a rotating order (round r starts at column r mod ncols,
so none is always first; the cyclic order puts s2sad next to the hand-written gradient
and the primal next to both), 41 rounds (7 with --quick), the collector run before each
block, never inside one. Each ratio (s2sad/hand, gradient/primal,
autograd/hand, jit/primal, ...) is the MEDIAN OF THE PER-ROUND RATIOS: both calls ran
within milliseconds of each other, so the machine's drift cancels, and one slow round
does not move the median. A block's time is this process's CPU time (time.process_time):
on a shared machine another process that preempts a block does not count in it, as it
does in wall-clock time (--clock wall measures that instead); transform, compile and
checkpointing times are CPU time too. On one thread (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS default to 1; set them to measure otherwise).

Peak memory: tracemalloc's peak during one call of the primal and of each gradient
column (s2sad, by hand, autograd), against the hand-written gradient's.

Checkpointed RK4: examples/rk4.py's scalar RK4 at 10^4, 10^5 and 10^6 steps (10^4 with
--quick), `s2sad.grad(rk4, wrt=(0, 1), checkpoint=k)` for k = 10, 30, 100 against the
plain gradient: time, peak memory, and Griewank's bound on the forward steps for k
snapshots. Skipped with a note where `checkpoint=` is not accepted.

The targets (issue 19) are in the Markdown and each row is marked met / not met:
s2sad <= 1.25 x the hand-written gradient; the peak memory of a gradient call <= 1.25 x
the hand-written one's (not held below 4 KiB, a few floats); with jit=True, the loops'
gradients <= 0.1 x the Python primal, compiling in under 2 s; issue 6's gradient/primal
<= 3 (the convolution <= 6) on its eight. Also reported: s2sad's transform time per
benchmark, and the transform of transform_speed.py's ~200-line function with loops
(issue 6: < 0.2 s). A script, not a test: the numbers depend on the machine (and on
what else runs on it: the load average is in the header). S2SAD_BENCH_TRACEBACK=1
prints the traceback of any failure. The exit status is 1 if any gradient failed its
check or s2sad refused a benchmark, or if --quick took over 60 s.
"""
import atexit
import os
import shutil
import tempfile

# One thread for BLAS and PyTorch, unless the environment says otherwise (set before NumPy
# and PyTorch load). On a small machine PyTorch's spinning OpenMP workers and OpenBLAS's
# threads otherwise take the cores from each other and the timings swing by 10x.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
# jit=True's first call compiles cold, as a user's first: Numba's machine code is cached in
# a directory of this run's own (set S2SAD_CACHE_DIR to time a warm cache instead)
if "S2SAD_CACHE_DIR" not in os.environ:
    os.environ["S2SAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="s2sad-bench-")
    atexit.register(shutil.rmtree, os.environ["S2SAD_CACHE_DIR"], ignore_errors=True)
# XLA's CPU backend likewise runs on one thread, so JAX is timed on the same footing
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import argparse
import datetime
import gc
import math
import platform
import statistics
import sys
import time
import tracemalloc
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's s2sad, not an older install
import s2sad  # noqa: E402
from s2sad.jit import JitFallback  # noqa: E402

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))

import loops  # noqa: E402  (also puts examples/ on the path)
import programs  # noqa: E402
from transform_speed import (best_seconds, loops_source,  # noqa: E402
                             transform_times)

import convolution_loops  # noqa: E402
import lecture_sin_ratio  # noqa: E402
import linear_regression  # noqa: E402
import losses  # noqa: E402
import mlp  # noqa: E402
import seed002  # noqa: E402

autograd = loops.autograd      # None where not installed
anp = loops.anp
torch = loops.torch            # None where not installed
if torch is not None:
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

try:  # optional (the jit extra)
    import numba
except ImportError:
    numba = None

try:  # optional, never installed by this project
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except Exception:  # noqa: BLE001 -- ImportError, or a broken install
    jax = None
    jnp = None

RTOL = 1e-6              # float64 everywhere
RTOL_FLOAT32 = 1e-4      # for a library that could not be put in float64
HAND_TARGET = 1.25       # s2sad / hand-written
RATIO_TARGET = 3.0       # s2sad gradient / primal
CONV_RATIO_TARGET = 6.0
JIT_TARGET = 0.1         # s2sad jit=True gradient / Python primal, on the loops
JIT_COMPILE_TARGET = 2.0  # seconds
MEMORY_TARGET = 1.25    # peak memory of a gradient call / the hand-written one's
REPEAT_TOLERANCE = 0.10  # --repeat-check: two runs' medians agree within 10%
MEMORY_FLOOR = 4096      # bytes: below this the hand's peak is a few floats, no target
TRANSFORM_TARGET = 0.2   # seconds to transform the ~200-line function with loops
QUICK_BUDGET = 60.0      # seconds: --quick is a smoke run and must stay one


def rebind(f: Callable, **names: Any) -> Callable:
    """A new function object with f's code, its globals overridden by `names`.

    With no names it shares f's globals: a fresh copy that s2sad's per-function cache
    has never seen (to time a transform). With np=anp it is the same source running on
    autograd.numpy (or jax.numpy).
    """
    env = {**f.__globals__, **names} if names else f.__globals__
    g = types.FunctionType(f.__code__, env, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__qualname__ = f.__qualname__
    g.__module__ = f.__module__
    g.__annotations__ = dict(f.__annotations__)
    g.__doc__ = f.__doc__
    return g


# -- hand-written gradients (each returns a tuple, one entry per differentiated argument) --

def seed002_hand(x):
    """f = exp(u) + sin(u), u = e + e^2, e = exp(x): f' = (exp(u) + cos(u)) (e + 2 e^2)."""
    e = np.exp(x)
    u = e + e * e
    return ((np.exp(u) + np.cos(u)) * (e + 2.0 * e * e),)


def lecture_hand(x, y):
    """The lecture's reverse pass, S = x + y, M = x y: dF/dx = cos S / M - y sin S / M^2."""
    S = x + y
    M = x * y
    c = np.cos(S) / M
    q = np.sin(S) / (M * M)
    return (c - y * q, c - x * q)


def horner_hand(x, c):
    """(dp/dx, dp/dc) for Horner's p = p * x + c[i]: a list keeps each old p, then one
    reverse loop. (loops.horner_hand keeps them in a NumPy array, whose element reads
    and writes box every float: 20% slower, so it is not the careful reference.)"""
    n = len(c)
    ps = []
    p = 0.0
    for i in range(n):
        ps.append(p)
        p = p * x + c[i]
    dc = np.empty(n)
    dx = 0.0
    dp = 1.0
    for i in range(n - 1, -1, -1):
        dc[i] = dp
        dx += dp * ps[i]
        dp *= x
    return dx, dc


def rk4_hand(y0, lam, steps=100, dt=0.05):
    """(dy(T)/dy0, dy(T)/dlam): the forward sweep keeps each step's four stage states,
    the reverse loop runs the stages backwards. (rk4.hand_gradient keeps y alone and
    recomputes the stages in the reverse loop: 40% slower.)"""
    h2 = 0.5 * dt
    h6 = dt / 6.0
    tape = []
    y = y0
    for i in range(steps):
        t = i * dt
        s = math.sin(t + h2)
        k1 = -lam * y + math.sin(t)
        y2 = y + h2 * k1
        k2 = -lam * y2 + s
        y3 = y + h2 * k2
        k3 = -lam * y3 + s
        y4 = y + dt * k3
        k4 = -lam * y4 + math.sin(t + dt)
        tape.append((y, y2, y3, y4))
        y = y + h6 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    dy = 1.0
    dlam = 0.0
    for i in range(steps - 1, -1, -1):
        y, y2, y3, y4 = tape[i]
        # y_next = y + dt/6 (k1 + 2 k2 + 2 k3 + k4), k_j = -lam y_j + sin(...)
        dk1 = dy * h6
        dk4 = dk1
        dk2 = dk3 = 2.0 * dk1
        dlam -= dk4 * y4
        dy4 = -lam * dk4          # y4 = y + dt k3
        dk3 += dt * dy4
        dlam -= dk3 * y3
        dy3 = -lam * dk3          # y3 = y + dt/2 k2
        dk2 += h2 * dy3
        dlam -= dk2 * y2
        dy2 = -lam * dk2          # y2 = y + dt/2 k1
        dk1 += h2 * dy2
        dlam -= dk1 * y
        dy = dy + dy4 + dy3 + dy2 - lam * dk1
    return dy, dlam


def mlp_hand(W1, b1, W2, b2, X, Y):
    """Backpropagation through tanh(X W1 + b1) W2 + b2 and the mean softmax cross-entropy."""
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    # loss = -mean_r sum_j Y[r, j] (Z[r, j] - log sum_l exp Z[r, l]); labels need not be one-hot
    dZ = P * Y.sum(axis=1, keepdims=True)
    dZ -= Y
    dZ /= X.shape[0]
    dW2 = H.T @ dZ
    db2 = dZ.sum(axis=0)
    dA = dZ @ W2.T
    dA *= 1.0 - H * H
    dW1 = X.T @ dA
    db1 = dA.sum(axis=0)
    return dW1, db1, dW2, db2


def linreg_hand(A, X, Y):
    """The lecture's dA = 2 X^T (X A - Y)."""
    R = X @ A
    R -= Y
    return (2.0 * (X.T @ R),)


def logsumexp_hand(x):
    """softmax(x), stably: exp(x - max) normalised (the max's own term cancels)."""
    e = x - np.max(x)
    np.exp(e, out=e)
    e /= np.sum(e)
    return (e,)


# -- PyTorch versions (float64 tensors; each returns the gradients as NumPy) ----------------

def _leaves(*arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def torch_seed002(x):
    (xt,) = _leaves(x)
    (torch.exp(torch.exp(xt) + torch.exp(xt) ** 2)
     + torch.sin(torch.exp(xt) + torch.exp(xt) ** 2)).backward()
    return (xt.grad.item(),)


def torch_lecture(x, y):
    xt, yt = _leaves(x, y)
    (torch.sin(xt + yt) / (xt * yt)).backward()
    return xt.grad.item(), yt.grad.item()


def torch_mlp(W1, b1, W2, b2, X, Y):
    params = [torch.from_numpy(p).requires_grad_() for p in (W1, b1, W2, b2)]
    W1t, b1t, W2t, b2t = params
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    H = torch.tanh(Xt @ W1t + b1t)
    Z = H @ W2t + b2t
    Z = Z - torch.amax(Z, dim=1, keepdim=True)
    log_p = Z - torch.log(torch.sum(torch.exp(Z), dim=1, keepdim=True))
    (-torch.mean(torch.sum(Yt * log_p, dim=1))).backward()
    return tuple(p.grad.numpy() for p in params)


def torch_linreg(A, X, Y):
    At = torch.from_numpy(A).requires_grad_()
    torch.sum((torch.from_numpy(X) @ At - torch.from_numpy(Y)) ** 2).backward()
    return (At.grad.numpy(),)


def torch_logsumexp(x):
    xt = torch.from_numpy(x).requires_grad_()
    m = torch.max(xt)
    (m + torch.log(torch.sum(torch.exp(xt - m)))).backward()
    return (xt.grad.numpy(),)


# -- JAX version of the convolution (JAX arrays are immutable: .at[].add) ---------------------

def jax_conv_energy(a, b):
    n = len(a)
    m = len(b)
    c = jnp.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c = c.at[i + k].add(a[i] * b[k])
    return jnp.sum(c ** 2)


# -- the benchmarks ----------------------------------------------------------------------------

@dataclass
class Benchmark:
    key: str                                # short name, for the chart
    label: str
    primal: Callable
    args: tuple
    wrt: tuple
    hand: Callable
    autograd_fn: Optional[Callable] = None  # what autograd.grad differentiates
    torch_grad: Optional[Callable] = None   # returns the gradients
    jax_fn: Optional[Callable] = None       # what jax.grad differentiates
    jax_static: tuple = ()                  # static argnums for jax.jit
    ratio_target: Optional[float] = None    # issue 6's gradient/primal target, if any
    notes: List[str] = field(default_factory=list)
    jit: bool = False                       # also time s2sad.grad(..., jit=True)
    family: str = ""                        # rows that spell one program differently


def make_benchmarks() -> List[Benchmark]:
    """Issue 6's eight benchmarks, then programs.py's rows (issue 19)."""
    rng = np.random.default_rng(6)
    horner_case, conv_case, rk4_case = loops.make_cases(quick=False)

    n, features, hidden, classes = 256, 64, 128, 10
    X = rng.normal(size=(n, features))
    W1 = rng.normal(size=(features, hidden)) / math.sqrt(features)
    b1 = 0.1 * rng.normal(size=hidden)
    W2 = rng.normal(size=(hidden, classes)) / math.sqrt(hidden)
    b2 = 0.1 * rng.normal(size=classes)
    labels = np.eye(classes)[rng.integers(0, classes, size=n)]

    Xr = rng.normal(size=(1000, 20))
    A = rng.normal(size=(20, 1))
    Yr = Xr @ rng.normal(size=(20, 1)) + 0.1 * rng.normal(size=(1000, 1))

    big = 3.0 * rng.normal(size=100_000)

    def on(numpy_module, f, **extra):
        return None if numpy_module is None else rebind(f, np=numpy_module, **extra)

    def mlp_on(numpy_module):
        if numpy_module is None:
            return None
        return rebind(mlp.mlp_loss, np=numpy_module, cross_entropy_from_logits=rebind(
            losses.cross_entropy_from_logits, np=numpy_module))

    original = [
        Benchmark("seed 002", "seed 002 exp/sin, scalar", seed002.f, (0.5,), (0,),
                  seed002_hand, autograd_fn=on(anp, seed002.f), torch_grad=torch_seed002,
                  jax_fn=on(jnp, seed002.f)),
        Benchmark("sin ratio", "lecture sin(x+y)/(xy), scalars", lecture_sin_ratio.F,
                  (1.0, 2.0), (0, 1), lecture_hand, autograd_fn=on(anp, lecture_sin_ratio.F),
                  torch_grad=torch_lecture, jax_fn=on(jnp, lecture_sin_ratio.F)),
        Benchmark("Horner", "Horner, range(len(c)), 1000-step loop", horner_case.primal,
                  horner_case.args, (0, 1), horner_hand, autograd_fn=horner_case.autograd,
                  torch_grad=horner_case.torch, jax_fn=horner_case.primal, jit=True,
                  family="Horner"),
        Benchmark("convolution", "convolution loops, len(a), n=256, k=8", conv_case.primal,
                  conv_case.args, (0, 1), conv_case.hand, autograd_fn=conv_case.autograd,
                  torch_grad=conv_case.torch, jax_fn=jax_conv_energy if jax else None,
                  jit=True, family="convolution",
                  notes=[f"autograd, convolution: {conv_case.autograd_note}."]),
        Benchmark("RK4", "RK4, 1000 scalar steps (steps argument)", rk4_case.primal,
                  rk4_case.args, (0, 1), rk4_hand, autograd_fn=rk4_case.autograd,
                  torch_grad=rk4_case.torch, jax_fn=rk4_case.primal, jax_static=(2, 3),
                  jit=True, family="RK4"),
        Benchmark("MLP", "MLP 256x64, hidden 128, 10 classes", mlp.mlp_loss,
                  (W1, b1, W2, b2, X, labels), (0, 1, 2, 3), mlp_hand,
                  autograd_fn=mlp_on(anp), torch_grad=torch_mlp, jax_fn=mlp_on(jnp)),
        Benchmark("linear regression", "linear regression, X 1000x20, A 20x1",
                  linear_regression.loss, (A, Xr, Yr), (0,), linreg_hand,
                  autograd_fn=on(anp, linear_regression.loss), torch_grad=torch_linreg,
                  jax_fn=on(jnp, linear_regression.loss)),
        Benchmark("logsumexp", "logsumexp, 10^5 elements", losses.logsumexp, (big,), (0,),
                  logsumexp_hand, autograd_fn=on(anp, losses.logsumexp),
                  torch_grad=torch_logsumexp, jax_fn=on(jnp, losses.logsumexp)),
    ]
    for b in original:  # issue 6's targets: gradient/primal <= 3, the convolution <= 6
        b.ratio_target = CONV_RATIO_TARGET if b.key == "convolution" else RATIO_TARGET
    new = [Benchmark(p.key, p.label, p.primal, p.args, p.wrt, p.hand,
                     autograd_fn=programs.autograd_version(p, anp), jit=p.jit,
                     family=p.family)
           for p in programs.make_programs()]
    return original + new


# -- checking ----------------------------------------------------------------------------------

def as_numpy(grads) -> tuple:
    return tuple(np.asarray(g, dtype=float) if np.ndim(g) else float(g) for g in grads)


def directional_check(b: Benchmark, grads: tuple, eps: float = 1e-6) -> Tuple[float, float]:
    """(central difference of the primal along a random direction, <gradient, direction>)."""
    rng = np.random.default_rng(1)
    directions = [rng.normal(size=np.shape(b.args[i])) for i in b.wrt]
    directions = [float(v) if v.ndim == 0 else v for v in directions]

    def along(t):
        args = list(b.args)
        for i, v in zip(b.wrt, directions):
            args[i] = args[i] + t * v
        return float(b.primal(*args))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    exact = sum(float(np.sum(g * v)) for g, v in zip(grads, directions))
    return numeric, exact


def check_against(column: str, got, reference: tuple, rtol: float) -> Optional[str]:
    """None if `got` agrees with the reference, else the first lines of the report."""
    try:
        loops.assert_same_gradient(as_numpy(got), reference, rtol, f"{column} vs by hand")
    except AssertionError as exc:
        return "\n".join(str(exc).strip().splitlines()[:10])
    return None


def peak_bytes(call: Callable[[], Any]) -> int:
    """The peak of what tracemalloc sees allocated during one call (NumPy data included)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - base


# -- timing: rounds in a rotating order, medians of per-round ratios ------------------------

def calls_per_block(call: Callable[[], Any], budget: float) -> int:
    """How many calls make one timed block last about `budget` seconds (at least one)."""
    call()  # warm-up (caches, lazy imports)
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / 4 or number >= 1 << 20:
            return max(1, round(number * budget / max(elapsed, 1e-9)))
        number *= 4


# The clock of the timed blocks: the CPU time of this process (every thread of it) by
# default, which other processes on a shared machine do not inflate (a wall-clock block
# that is preempted counts the other process's time); --clock wall for elapsed time.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time   # main() sets it from --clock; every cost below reads it


def time_rounds(calls: Dict[str, Callable[[], Any]], numbers: Dict[str, int],
                rounds: int) -> Dict[str, List[float]]:
    """Seconds per call of each column in each round. Every round times every column
    once, one block of `numbers[column]` calls; round r starts at column r mod ncols, so
    no column is always first. The collector runs between blocks, never inside one (as
    in `timeit`)."""
    keys = list(calls)
    seconds: Dict[str, List[float]] = {key: [] for key in keys}
    for r in range(rounds):
        start = r % len(keys)
        gc.disable()
        try:
            for key in keys[start:] + keys[:start]:
                call, number = calls[key], numbers[key]
                gc.collect()  # untimed: no block inherits the cyclic garbage of the last
                # (autograd's graph of a 3000-step loop made the next block 25% slower)
                begin = clock()
                for _ in range(number):
                    call()
                seconds[key].append((clock() - begin) / number)
        finally:
            gc.enable()
    return seconds


def median_ratio(seconds: Dict[str, List[float]], top: str, bottom: str) -> Optional[float]:
    """The median over rounds of top's time / bottom's time in the same round."""
    if top not in seconds or bottom not in seconds:
        return None
    return statistics.median(t / b for t, b in zip(seconds[top], seconds[bottom]))


# the cyclic order in which a round times the columns (rotated each round): s2sad next
# to the hand-written gradient, the primal next to both and to the jit gradient
TIMING_ORDER = ["s2sad", "by hand", "primal", "s2sad jit", "autograd", "PyTorch",
                "generated"]

# the ratios reported, (numerator, denominator), each a median of per-round ratios
RATIOS = [("s2sad", "by hand"), ("s2sad", "primal"), ("by hand", "primal"),
          ("autograd", "by hand"), ("PyTorch", "by hand"), ("s2sad jit", "primal"),
          ("generated", "by hand")]


# -- one benchmark ---------------------------------------------------------------------------

@dataclass
class Result:
    bench: Benchmark
    calls: Dict[str, Callable[[], Any]] = field(default_factory=dict)  # what is timed
    numbers: Dict[str, int] = field(default_factory=dict)   # calls per timed block
    passes: List[Dict[str, List[float]]] = field(default_factory=list)  # per-round seconds
    times: Dict[str, Optional[float]] = field(default_factory=dict)  # JAX's, best of
    status: Dict[str, str] = field(default_factory=dict)   # column -> "ok" / FAIL / refused ...
    transform: Optional[float] = None        # s2sad's transform + compile time
    jit_compile: Optional[float] = None      # JAX jit's first call less a steady one
    s2sad_jit_compile: Optional[float] = None  # likewise for s2sad.grad(..., jit=True)
    jit_reason: str = ""                     # why jit=True fell back to Python
    memory: Dict[str, int] = field(default_factory=dict)
    reference_ok: bool = True

    def ratio(self, top: str, bottom: str, run: int = 0) -> Optional[float]:
        """The median of per-round ratios; for a column timed apart (JAX), the ratio of
        the times."""
        if run >= len(self.passes):
            return None
        rounds = median_ratio(self.passes[run], top, bottom)
        if rounds is None and run == 0 and top in self.times:
            t, b = self.seconds(top), self.seconds(bottom)
            return t / b if t is not None and b else None
        return rounds

    def seconds(self, column: str) -> Optional[float]:
        """The median time per call of a column over the first pass's rounds."""
        if self.passes and column in self.passes[0]:
            return statistics.median(self.passes[0][column])
        return self.times.get(column)


def fail(message: str) -> None:
    print(f"  FAIL {message}")


def try_call(column: str, result: Result, make: Callable[[], Callable], args: tuple,
             reference: tuple, rtol: float = RTOL) -> Optional[Callable]:
    """The gradient callable if it runs and agrees with the reference, else None (reported)."""
    try:
        gradient = make()
        got = gradient(*args)
    except s2sad.S2SADError as exc:
        result.status[column] = "refused"
        fail(f"{column}: refused the function:\n"
             + "\n".join("    " + line for line in str(exc).strip().splitlines()[:8]))
        return None
    except JitFallback as exc:
        result.status[column] = "fallback"
        result.jit_reason = " ".join(str(exc).split())
        print(f"  --   {column}: fell back to Python: {result.jit_reason[:300]}")
        return None
    except Exception as exc:  # noqa: BLE001 -- one tool failing must not stop the others
        result.status[column] = "error"
        fail(f"{column}: raised {loops.first_line(exc)}")
        if os.environ.get("S2SAD_BENCH_TRACEBACK"):
            traceback.print_exc()
        return None
    problem = check_against(column, got, reference, rtol)
    if problem:
        result.status[column] = "FAIL"
        fail(f"{column}: gradient disagrees with the hand-written one (rtol {rtol:g}):\n"
             + "\n".join("    " + line for line in problem.splitlines()))
        return None
    result.status[column] = "ok"
    print(f"  ok   {column}: agrees with the hand-written gradient (rtol {rtol:g})")
    return gradient


def transform_seconds(b: Benchmark, steady: float, runs: int) -> float:
    """Best over `runs` fresh copies of the primal: first s2sad.grad call minus a steady call."""
    best = math.inf
    for _ in range(runs):
        fresh = rebind(b.primal)
        gc.collect()
        start = clock()
        s2sad.grad(fresh, wrt=b.wrt)(*b.args)
        best = min(best, clock() - start)
    return max(best - steady, 0.0)


def first_s2sad_jit_call(b: Benchmark, result: Result) -> Callable:
    """s2sad.grad(..., jit=True) on a fresh copy, its first call (the transform and
    Numba's compile) timed into the result; a fallback to Python raises JitFallback."""
    import warnings
    gradient = s2sad.grad(rebind(b.primal), wrt=b.wrt, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        start = clock()
        gradient(*b.args)
        result.s2sad_jit_compile = clock() - start
    return gradient


def long_transform_lines(runs: int) -> List[str]:
    """The transform time of transform_speed.py's ~200-line function with loops
    (source text to gradient source, no cache), issue 6's transform-speed target."""
    text = loops_source()
    times = transform_times(text, "looped", runs=runs)
    best, median = min(times), sorted(times)[len(times) // 2]
    return ["", f"### Transform time: {len(text.splitlines())}-line function with loops", "",
            f"`s2sad.grad_source(text).source`, fresh each time (parse, lower, analyse, "
            f"reverse, optimise, codegen, compile); target < {TRANSFORM_TARGET * 1e3:.0f} ms.",
            "", "| runs | min | median | met (median) |", "|---:|---:|---:|---|",
            f"| {runs} | {best:.0f} ms | {median:.0f} ms | "
            f"{verdict(median / 1e3, TRANSFORM_TARGET)} |"]


def prepare_benchmark(b: Benchmark, budget: float, transform_runs: int, show_source: bool,
                      quick: bool) -> Result:
    """Check every gradient against the hand-written one, measure peak memory and the
    transform, and set up the timed calls (timed later, in time_rounds). A smoke run
    (quick) leaves out autograd on the loops (a call takes up to a second) and jit=True on
    issue 19's loops (Numba compiles an LSTM's gradient for tens of seconds)."""
    result = Result(b)
    print(f"\n{b.label}:")
    args = b.args
    started = time.perf_counter()

    reference = as_numpy(b.hand(*args))
    numeric, exact = directional_check(b, reference)
    scale = max(abs(exact), abs(numeric), 1e-12)
    if abs(numeric - exact) > 1e-5 * scale:
        result.reference_ok = False
        fail(f"by hand: disagrees with central differences of the primal along a random "
             f"direction ({exact:.10g} vs {numeric:.10g}); the others are still compared "
             f"with it")
    else:
        print(f"  ok   by hand: <grad, v> = {exact:.10g}, central difference {numeric:.10g}")

    gradients: Dict[str, Callable] = {"by hand": b.hand}
    s2sad_grad = s2sad.grad(b.primal, wrt=b.wrt)
    g = try_call("s2sad", result, lambda: s2sad_grad, args, reference)
    if g is not None:
        gradients["s2sad"] = g
    if quick and b.jit and b.autograd_fn is not None:
        result.status["autograd"] = "skipped"
    elif autograd is not None and b.autograd_fn is not None:
        g = try_call("autograd", result,
                     lambda: autograd.grad(b.autograd_fn, argnum=b.wrt), args, reference)
        if g is not None:
            gradients["autograd"] = g
    if torch is not None and b.torch_grad is not None:
        g = try_call("PyTorch", result, lambda: b.torch_grad, args, reference)
        if g is not None:
            gradients["PyTorch"] = g
    if quick and b.jit and b.ratio_target is None:
        result.status["s2sad jit"] = "skipped"
    elif numba is not None and b.jit:
        g = try_call("s2sad jit", result, lambda: first_s2sad_jit_call(b, result), args,
                     reference)
        if g is not None:
            gradients["s2sad jit"] = g
    if show_source and "s2sad" in gradients:
        print(s2sad_grad.source)

    primal = b.primal
    calls = {"primal": lambda: primal(*args)}
    for column, gradient in gradients.items():
        calls[column] = lambda g=gradient: g(*args)
    if "s2sad" in gradients:
        s2sad_grad(*args)
        generated = s2sad_grad.compiled.function  # what that call ran (floats.py's code
        # for Python numbers)
        calls["generated"] = lambda: generated(*args)
    # the cyclic order of the rounds: the calls a ratio compares next to each other
    result.calls = {column: calls[column] for column in TIMING_ORDER if column in calls}
    result.numbers = {column: calls_per_block(call, budget)
                      for column, call in result.calls.items()}
    if "s2sad" in gradients:
        steady = min(time_rounds({"s2sad": result.calls["s2sad"]}, {"s2sad": 1}, 3)["s2sad"])
        result.transform = transform_seconds(b, steady, transform_runs)

    result.memory["primal"] = peak_bytes(lambda: primal(*args))
    for column in ("s2sad", "by hand", "autograd"):
        if column in gradients:
            result.memory[column] = peak_bytes(lambda g=gradients[column]: g(*args))
    print(f"  ({time.perf_counter() - started:.1f} s)")
    gc.freeze()  # what this setup made lives to the end: no collection walks it again
    return result


def time_jax(b: Benchmark, result: Result, repeat: int, budget: float) -> None:
    """JAX's columns, timed after every other column of every benchmark: XLA's compiled
    code and runtime stay out of the NumPy timings. An eager call over a second (the
    loops, one dispatch per scalar operation) is timed once rather than `repeat` times."""
    args = b.args
    reference = as_numpy(b.hand(*args))
    rtol = RTOL if jnp.zeros(()).dtype == np.float64 else RTOL_FLOAT32
    eager = jax.grad(b.jax_fn, argnums=b.wrt)
    print(f"\n{b.label} (JAX):")
    g = try_call("JAX", result, lambda: lambda *a: jax.block_until_ready(eager(*a)),
                 args, reference, rtol)
    if g is not None:
        start = time.perf_counter()
        g(*args)
        once = time.perf_counter() - start
        result.times["JAX"] = once if once > 1.0 else \
            best_seconds(lambda: g(*args), budget=budget, repeat=repeat)
    jitted = jax.jit(jax.grad(b.jax_fn, argnums=b.wrt), static_argnums=b.jax_static)

    def first_jit_call():
        start = time.perf_counter()
        jax.block_until_ready(jitted(*args))
        result.jit_compile = time.perf_counter() - start
        return jitted
    g = try_call("JAX jit", result, first_jit_call, args, reference, rtol)
    if g is not None:
        steady = lambda: jax.block_until_ready(jitted(*args))  # noqa: E731
        steady()
        result.times["JAX jit"] = best_seconds(steady, budget=budget, repeat=repeat)
        # the jit's first call (trace + compile + one run) less a steady call
        result.jit_compile -= result.times["JAX jit"]
    else:
        result.jit_compile = None


# -- checkpointed RK4 (issue 19): s2sad.grad(f, checkpoint=k) at 10^4..10^6 steps -----------

def revolve_forward_steps(steps: int, snapshots: int) -> int:
    """Griewank's minimal number of forward steps to reverse `steps` steps with
    `snapshots` checkpoints: r n - C(k + r, r - 1), r the least with C(k + r, k) >= n."""
    r = 0
    while math.comb(snapshots + r, snapshots) < steps:
        r += 1
    return r * steps - math.comb(snapshots + r, r - 1) if r else 0


def median_seconds(call: Callable[[], Any], repeats: int) -> float:
    """The median time of `repeats` single calls (for calls of milliseconds to seconds)."""
    times = []
    for _ in range(repeats):
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times)


def checkpoint_lines(quick: bool) -> List[str]:
    """Time and peak memory of RK4's gradient with k snapshots against the plain gradient
    (which keeps every step); skipped with a note where checkpoint= is not accepted."""
    head = ["", "### Checkpointed RK4: `s2sad.grad(rk4, wrt=(0, 1), checkpoint=k)`", ""]
    import rk4 as rk4_example
    f = rk4_example.rk4
    try:
        gradient = s2sad.grad(f, wrt=(0, 1), checkpoint=10)
        gradient(1.0, 0.5, 100, 0.1)
    except (TypeError, s2sad.S2SADError) as exc:
        print(f"\ncheckpointed RK4: skipped ({loops.first_line(exc)})")
        return head + [f"Skipped: this checkout does not accept `checkpoint=` yet "
                       f"({loops.first_line(exc)})."]
    step_counts = (10_000,) if quick else (10_000, 100_000, 1_000_000)
    snapshot_counts = (10, 30, 100)
    lines = head + [
        "Scalar RK4 (examples/rk4.py) over t in [0, 10]. Time: the median of 5 calls at "
        "10^4 steps, of 3 at 10^5, the first call at 10^6 (its ~20 ms transform "
        "included); peak memory: tracemalloc over one (separate) call (at 10^6 steps only "
        "for the plain gradient and k = 10: traced, the others take minutes). `revolve steps / "
        "n`: the fewest forward steps any k-snapshot schedule needs (Griewank), over the "
        "step count. `bound`: the time that many "
        "forward steps cost at the primal's speed plus the plain gradient's own reverse "
        "part (plain − primal); `time / bound` near 1 is revolve's cost, above it the "
        "driver's overhead. Every gradient is checked against the hand-written one "
        "(rtol 1e-8).", "",
        "| steps | gradient | time | time / plain | bound | time / bound | peak memory | "
        "memory / plain | revolve steps / n | check |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for steps in step_counts:
        args = (1.0, 0.5, steps, 10.0 / steps)
        repeats = 5 if steps <= 10_000 else 3 if steps <= 100_000 else 1
        reference = as_numpy(rk4_hand(*args))
        primal = median_seconds(lambda: f(*args), repeats)
        variants = [("plain", None, s2sad.grad(f, wrt=(0, 1)))]
        variants += [(f"checkpoint={k}", k, s2sad.grad(f, wrt=(0, 1), checkpoint=k))
                     for k in snapshot_counts]
        plain_time = plain_memory = None
        print(f"\ncheckpointed RK4, {steps} steps (primal {fmt_time(primal)}):")
        for name, k, g in variants:
            try:
                start = clock()
                got = g(*args)
                seconds = clock() - start   # one call at 10^6: this one
                problem = check_against(name, got, reference, 1e-8)
                if repeats > 1:
                    seconds = median_seconds(lambda: g(*args), repeats)
                # tracemalloc slows revolve's ~10^7 steps of float boxes to minutes: at
                # 10^6 steps only the plain gradient and the fewest snapshots are traced
                traced = steps < 1_000_000 or k is None or k == snapshot_counts[0]
                memory = peak_bytes(lambda: g(*args)) if traced else None
            except Exception as exc:  # noqa: BLE001 -- report, go on with the other k
                print(f"  {name}: {loops.first_line(exc)}")
                lines.append(f"| {steps:,} | {name} | {type(exc).__name__} | — | — | — | "
                             f"— | — | — | {loops.first_line(exc)[:80]} |")
                continue
            if k is None:
                plain_time, plain_memory = seconds, memory
            revolve = revolve_forward_steps(steps, k) / steps if k else 1.0
            bound = revolve * primal + plain_time - primal if plain_time else None
            verdict_text = "ok" if problem is None else "**FAIL**"
            print(f"  {name}: {fmt_time(seconds)}, peak {fmt_bytes(memory)}, {verdict_text}")
            lines.append(
                f"| {steps:,} | {name} | {fmt_time(seconds)} | "
                f"{fmt_ratio(seconds / plain_time if plain_time else None)} | "
                f"{fmt_time(bound)} | {fmt_ratio(seconds / bound if bound else None)} | "
                f"{fmt_bytes(memory)} | "
                f"{fmt_ratio(memory / plain_memory if memory and plain_memory else None, 3)} | "
                f"{revolve:.2f} | {verdict_text} |")
    return lines


# -- reporting -------------------------------------------------------------------------------

COLUMNS = ["s2sad", "s2sad jit", "by hand", "autograd", "PyTorch", "JAX", "JAX jit"]


def fmt_time(seconds: Optional[float]) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs" if seconds < 1e-5 else f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_bytes(n: Optional[int]) -> str:
    if n is None:
        return "—"
    if n < 10 * 1024:
        return f"{n} B"
    if n < 10 * 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def fmt_ratio(value: Optional[float], digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def cell(result: Result, column: str) -> str:
    """A column's median time, or the reason there is none."""
    t = result.seconds(column)
    if t is not None:
        return fmt_time(t)
    return result.status.get(column, "—")


def verdict(value: Optional[float], target: float) -> str:
    if value is None or not math.isfinite(value):
        return "not measured"
    return "met" if value <= target else "**not met**"


def memory_ratio(result: Result, column: str) -> Optional[float]:
    m, h = result.memory.get(column), result.memory.get("by hand")
    return m / max(h, 1) if m is not None and h is not None else None


def memory_verdict(result: Result) -> str:
    """The memory target's verdict; not held where the hand-written gradient's peak is a
    few Python objects (a scalar function), where a float more or less decides the ratio."""
    hand = result.memory.get("by hand")
    if hand is not None and hand < MEMORY_FLOOR and "s2sad" in result.memory:
        return "(tiny)"
    return verdict(memory_ratio(result, "s2sad"), MEMORY_TARGET)


def time_table(results: List[Result], columns: List[str]) -> List[str]:
    others = [c for c in ("autograd", "PyTorch") if c in columns]
    lines = ["| benchmark | primal |" + "".join(f" {c} |" for c in columns)
             + " s2sad/hand | s2sad/primal | hand/primal |"
             + "".join(f" {c}/hand |" for c in others)
             + (" jit/primal |" if "s2sad jit" in columns else ""),
             "|---|---:|" + "---:|" * (len(columns) + 3 + len(others)
                                      + ("s2sad jit" in columns))]
    for r in results:
        cells = [cell(r, c) for c in columns]
        ratios = [r.ratio("s2sad", "by hand"), r.ratio("s2sad", "primal"),
                  r.ratio("by hand", "primal")] + [r.ratio(c, "by hand") for c in others]
        if "s2sad jit" in columns:
            ratios.append(r.ratio("s2sad jit", "primal"))
        lines.append(f"| {r.bench.label} | {fmt_time(r.seconds('primal'))} | "
                     + " | ".join(cells) + " | "
                     + " | ".join(fmt_ratio(x, 3 if x is not None and x < 0.1 else 2)
                                  for x in ratios) + " |")
    return lines


def target_table(results: List[Result]) -> List[str]:
    lines = ["| benchmark | s2sad/hand | ≤ 1.25 | peak memory s2sad/hand | ≤ 1.25 | "
             "jit/primal | ≤ 0.1 | jit first call | < 2 s | grad/primal (issue 6) |",
             "|---|---:|---|---:|---|---:|---|---:|---|---|"]
    for r in results:
        vs_hand = r.ratio("s2sad", "by hand")
        memory = memory_ratio(r, "s2sad")
        if r.bench.jit and numba is not None:
            jit = r.ratio("s2sad jit", "primal")
            first = r.s2sad_jit_compile
            jit_cells = [fmt_ratio(jit, 3), verdict(jit, JIT_TARGET)
                         if jit is not None else r.status.get("s2sad jit", "—"),
                         fmt_time(first), "—" if first is None
                         else verdict(first, JIT_COMPILE_TARGET)]
        else:
            jit_cells = ["—", "(not a loop)" if not r.bench.jit else "no Numba", "—", "—"]
        if r.bench.ratio_target is None:
            issue6 = "—"
        else:
            ratio = r.ratio("s2sad", "primal")
            issue6 = f"{fmt_ratio(ratio)} ≤ {r.bench.ratio_target:g}: " \
                     f"{verdict(ratio, r.bench.ratio_target)}"
        lines.append(f"| {r.bench.label} | {fmt_ratio(vs_hand)} | "
                     f"{verdict(vs_hand, HAND_TARGET)} | {fmt_ratio(memory)} | "
                     f"{memory_verdict(r)} | " + " | ".join(jit_cells)
                     + f" | {issue6} |")
    met = sum(verdict(r.ratio("s2sad", "by hand"), HAND_TARGET) == "met" for r in results)
    held = [r for r in results if memory_verdict(r) != "(tiny)"]
    met_memory = sum(memory_verdict(r) == "met" for r in held)
    loops_ = [r for r in results if r.ratio("s2sad jit", "primal") is not None]
    met_jit = sum(verdict(r.ratio("s2sad jit", "primal"), JIT_TARGET) == "met"
                  for r in loops_)
    lines += ["", f"Met: time {met} of {len(results)}, memory {met_memory} of {len(held)}, "
                  f"jit {met_jit} of the {len(loops_)} loop benchmarks jit=True compiled."]
    return lines


def memory_table(results: List[Result]) -> List[str]:
    lines = ["| benchmark | primal | s2sad | by hand | autograd | s2sad/hand | autograd/hand |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        m = r.memory
        lines.append(f"| {r.bench.label} | {fmt_bytes(m.get('primal'))} | "
                     f"{fmt_bytes(m.get('s2sad'))} | {fmt_bytes(m.get('by hand'))} | "
                     f"{fmt_bytes(m.get('autograd'))} | "
                     f"{fmt_ratio(memory_ratio(r, 's2sad'))} | "
                     f"{fmt_ratio(memory_ratio(r, 'autograd'))} |")
    return lines


def spelling_table(results: List[Result]) -> List[str]:
    """Per program written in several spellings of its lengths: how far apart they are."""
    families: Dict[str, List[Result]] = {}
    for r in results:
        if r.bench.family:
            families.setdefault(r.bench.family, []).append(r)
    lines = ["| program | spellings | s2sad/hand, each | max / min | peak memory s2sad/hand, "
             "each | jit, each |", "|---|---:|---|---:|---|---|"]
    for family, rows in families.items():
        ratios = [r.ratio("s2sad", "by hand") for r in rows]
        known = [x for x in ratios if x is not None]
        spread = fmt_ratio(max(known) / min(known)) if len(known) > 1 else "—"
        jit = [r.status.get("s2sad jit", "—") for r in rows]
        lines.append(f"| {family} | {len(rows)} | "
                     + ", ".join(fmt_ratio(x) for x in ratios) + f" | {spread} | "
                     + ", ".join(fmt_ratio(memory_ratio(r, "s2sad")) for r in rows) + " | "
                     + ", ".join(jit) + " |")
    return lines


def repeat_table(results: List[Result]) -> List[str]:
    lines = ["| benchmark | s2sad/hand, run 1 | run 2 | agree within 10% | "
             "s2sad/primal, run 1 | run 2 | agree within 10% |",
             "|---|---:|---:|---|---:|---:|---|"]
    agreed = 0
    for r in results:
        cells = []
        both = True
        for top, bottom in (("s2sad", "by hand"), ("s2sad", "primal")):
            first, second = r.ratio(top, bottom, 0), r.ratio(top, bottom, 1)
            if first is None or second is None:
                cells += [fmt_ratio(first), fmt_ratio(second), "—"]
                both = False
                continue
            same = max(first, second) / min(first, second) - 1.0 <= REPEAT_TOLERANCE
            both = both and same
            cells += [fmt_ratio(first), fmt_ratio(second), "yes" if same else "**no**"]
        agreed += both
        lines.append(f"| {r.bench.label} | " + " | ".join(cells) + " |")
    lines += ["", f"Both ratios agree within {REPEAT_TOLERANCE:.0%} on {agreed} of "
                  f"{len(results)} benchmarks."]
    return lines


def other_table(results: List[Result], jax_columns: bool) -> List[str]:
    lines = ["| benchmark | s2sad transform | generated fn | generated/hand | grad() wrapper "
             "overhead |" + (" JAX jit compile |" if jax_columns else ""),
             "|---|---:|---:|---:|---:|" + ("---:|" if jax_columns else "")]
    for r in results:
        s, generated = r.seconds("s2sad"), r.seconds("generated")
        if s is None or generated is None:
            overhead = "—"
        else:  # a difference of two timings: below their noise it can come out negative
            overhead = fmt_time(s - generated) if s > generated else "≈ 0 (noise)"
        lines.append(f"| {r.bench.label} | {fmt_time(r.transform)} | {fmt_time(generated)} | "
                     f"{fmt_ratio(r.ratio('generated', 'by hand'))} | {overhead} |"
                     + (f" {fmt_time(r.jit_compile)} |" if jax_columns else ""))
    return lines


def tables(results: List[Result], columns: List[str], repeat_check: bool,
           rounds: int) -> List[str]:
    lines = [f"Each cell: the median over {rounds} rounds; a ratio is the median of the "
             f"per-round ratios (both calls timed in the same round).", ""]
    lines += time_table(results, columns)
    lines += ["", "### Targets (issue 19)", "",
              f"s2sad ≤ {HAND_TARGET}× the hand-written gradient (median of per-round "
              f"ratios); peak memory of one gradient call ≤ {MEMORY_TARGET}× the "
              f"hand-written one's; with jit=True, the loops' gradients ≤ {JIT_TARGET:g}× "
              f"the Python primal, the first call (transform and Numba's compile) under "
              f"{JIT_COMPILE_TARGET:g} s.", ""]
    lines += target_table(results)
    if repeat_check:
        lines += ["", "### Repeat check: the whole timing run twice in this process", ""]
        lines += repeat_table(results)
    lines += ["", "### One program, several spellings of its lengths", ""]
    lines += spelling_table(results)
    lines += ["", "### Peak memory (tracemalloc, one call)", ""]
    lines += memory_table(results)
    lines += ["", "### s2sad transform time, generated code alone", ""]
    lines += other_table(results, any(r.jit_compile is not None for r in results))
    return lines


def jit_fallback_notes(results: List[Result]) -> List[str]:
    reasons = [f"{r.bench.label}: {r.jit_reason[:240]}" for r in results if r.jit_reason]
    return ["", "jit=True fell back to Python on: " + "; ".join(reasons)] if reasons else []


def chart(results: List[Result], columns: List[str], path: str) -> Optional[str]:
    """A grouped bar chart of gradient/primal ratios, log scale; a note if it cannot be drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart"
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(16, 5.5))
    x = np.arange(len(results))
    for j, column in enumerate(columns):
        ratios = [r.ratio(column, "primal") for r in results]
        ax.bar(x - 0.4 + width * (j + 0.5), [np.nan if v is None else v for v in ratios],
               width, label=column)
    for i, r in enumerate(results):
        if r.bench.ratio_target is not None:
            ax.hlines(r.bench.ratio_target, i - 0.45, i + 0.45, colors="black",
                      linestyles="dashed", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([r.bench.key for r in results], rotation=40, ha="right")
    ax.set_ylabel("gradient time / primal time (log scale)")
    ax.set_title("Gradient/primal runtime ratio (dashed: issue 6's target for s2sad)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(ncol=len(columns), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _version(distribution: str) -> str:
    try:
        from importlib.metadata import version
        return version(distribution)
    except Exception:  # noqa: BLE001 -- only a label
        return "installed"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="7 rounds of ~4 ms blocks instead of 41 of ~10 ms, checkpointed "
                             "RK4 at 10^4 steps only: a smoke run (< 60 s)")
    parser.add_argument("--repeat-check", action="store_true",
                        help="run the whole timing twice and report whether the two "
                             "medians agree within 10%%")
    parser.add_argument("--out", default=os.path.join(HERE, "results"),
                        help="directory for results.md and ratios.png "
                             "(default: benchmarks/results)")
    parser.add_argument("--source", action="store_true",
                        help="print the generated gradient of each benchmark")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="what a timed block measures: this process's CPU time "
                             "(default; robust on a shared machine) or wall-clock time")
    parser.add_argument("--only", default="",
                        help="only the benchmarks whose label contains this text (and "
                             "not the checkpointing and long-transform sections)")
    options = parser.parse_args(argv)
    global clock
    clock = CLOCKS[options.clock]
    rounds, budget, transform_runs = (7, 0.004, 1) if options.quick else (41, 0.01, 3)
    started = time.perf_counter()

    skipped = "not installed (column skipped)"
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}",
                f"autograd {_version('autograd') if autograd else skipped}",
                f"PyTorch {torch.__version__ if torch else skipped}",
                f"Numba {numba.__version__ if numba else skipped}",
                f"JAX {jax.__version__ if jax else 'not installed (columns skipped)'}"]
    print("; ".join(versions))
    versions.append(f"threads: OMP/OPENBLAS_NUM_THREADS={os.environ['OMP_NUM_THREADS']}/"
                    f"{os.environ['OPENBLAS_NUM_THREADS']}"
                    + (f", torch {torch.get_num_threads()}" if torch is not None else ""))

    load_before = os.getloadavg()[0]
    benchmarks = [b for b in make_benchmarks() if options.only in b.label]
    gc.freeze()  # the modules and data loaded so far: gc.collect() between rounds stays cheap
    results = [prepare_benchmark(b, budget, transform_runs, options.source, options.quick)
               for b in benchmarks]
    for run in range(2 if options.repeat_check else 1):
        print(f"\ntiming{f' (run {run + 1} of 2)' if options.repeat_check else ''}: "
              f"{rounds} rounds per benchmark", flush=True)
        for r in results:
            r.passes.append(time_rounds(r.calls, r.numbers, rounds))
    if options.only:  # a few rows: not the sections that time something else
        checkpoint, transform_lines = [], []
    else:
        checkpoint = checkpoint_lines(options.quick)
        transform_lines = long_transform_lines(5 if options.quick else 15)
    if jax is not None:
        for r in results:
            if r.bench.jax_fn is not None and not (options.quick and r.bench.jit):
                time_jax(r.bench, r, 3, budget)  # (a smoke run skips JAX's loops:
                # their eager calls take seconds and their jit compiles minutes)
    load_after = os.getloadavg()[0]   # this process itself adds about 1
    busy = load_after > 1.6   # another process took a core for most of the last minute
    versions.append(f"1-min load average {load_before:.2f} before, {load_after:.2f} after "
                    f"(this run adds ~1)")

    columns = [c for c in COLUMNS if any(c in r.calls or c in r.times or c in r.status
                                         for r in results)]
    failures = [(r.bench.label, c, s) for r in results for c, s in r.status.items()
                if s in ("FAIL", "error") or (c == "s2sad" and s != "ok")] + \
        [(r.bench.label, "by hand", "disagrees with central differences")
         for r in results if not r.reference_ok]
    title = (f"## s2sad benchmarks (median of {rounds} rounds × ~{budget * 1e3:g} ms blocks, "
             f"{'CPU' if options.clock == 'cpu' else 'wall-clock'} time"
             f"{', --quick: a smoke run, not a measurement' if options.quick else ''})")
    body = tables(results, columns, options.repeat_check, rounds) + checkpoint + \
        transform_lines
    notes = ["", "Times are per call. Every gradient was checked against the hand-written one "
             "(rtol 1e-6, float64) before timing, and the hand-written one against a central "
             "difference of the primal; a cell that reads FAIL, refused, error or fallback "
             "was not timed."]
    for r in results:
        notes += [f"{n}" for n in r.bench.notes if autograd is not None]
    notes += jit_fallback_notes(results)
    if jax is None:
        notes.append("JAX is not installed: its eager and jit columns are skipped.")
    if torch is None:
        notes.append("PyTorch is not installed: its column is skipped.")
    if options.quick:
        notes.append("--quick leaves out autograd on the loops and jit=True on issue 19's "
                     "loops (Numba's compile of an LSTM gradient takes tens of seconds).")
    notes.append(f"A peak memory under {fmt_bytes(MEMORY_FLOOR)} (scalar functions) is "
                 f"not held to the memory target: a few Python floats decide the ratio.")
    notes.append("s2sad transform: the first call of `s2sad.grad` on a fresh copy of the "
                 "function (parse, differentiate, compile for the argument ranks, one run) "
                 "minus a steady call. Peak memory: tracemalloc during one call (PyTorch's "
                 "own allocator is invisible to it, so it has no column).")
    conv = [r for r in results if r.bench.primal is convolution_loops.conv_energy]
    if conv:
        a, b_ = conv[0].bench.args
        t_np = best_seconds(lambda: convolution_loops.hand_gradient(a, b_), budget=budget,
                            repeat=3)
        notes.append(f"For comparison, the convolution's gradient vectorised by hand "
                     f"(np.convolve + np.correlate, examples/convolution_loops.py): "
                     f"{fmt_time(t_np)}; the table's `by hand` is the loop version, like the "
                     f"primal.")
    if busy:
        notes.append(f"The machine was busy (1-min load average {load_before:.1f} before, "
                     f"{load_after:.1f} after, with {os.cpu_count()} CPUs): other processes "
                     f"ran during the timings, so the numbers are noisier than on an idle "
                     f"machine.")
    if failures:
        notes.append("")
        notes.append("**FAIL**: " + "; ".join(f"{label}: {c} {s}" for label, c, s in failures))

    print("\n" + title + "\n")
    print("\n".join(body + notes))

    os.makedirs(options.out, exist_ok=True)
    png = os.path.join(options.out, "ratios.png")
    chart_note = chart(results, [c for c in columns if c != "by hand"] + ["by hand"], png)
    header = [title, "", "Generated by `python3 benchmarks/run.py"
              + (" --quick" if options.quick else "")
              + (" --repeat-check" if options.repeat_check else "") + f"` on "
              f"{datetime.date.today().isoformat()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs; " + "; ".join(versions) + ".", ""]
    chart_line = ["", chart_note] if chart_note else ["", "![gradient/primal ratios](ratios.png)"]
    with open(os.path.join(options.out, "results.md"), "w", encoding="utf-8") as out:
        out.write("\n".join(header + body + notes + chart_line) + "\n")
    print(f"\nwrote {os.path.join(options.out, 'results.md')}"
          + (f" ({chart_note})" if chart_note else f" and {png}")
          + f"; {time.perf_counter() - started:.0f} s in all")
    if failures:
        print("FAIL: " + "; ".join(f"{label}: {c} {s}" for label, c, s in failures))
    elapsed = time.perf_counter() - started
    too_slow = options.quick and elapsed > QUICK_BUDGET
    if too_slow:  # the smoke run's own sanity check
        print(f"FAIL: --quick took {elapsed:.0f} s, over its {QUICK_BUDGET:.0f} s budget")
    return 1 if failures or too_slow else 0


if __name__ == "__main__":
    sys.exit(main())
