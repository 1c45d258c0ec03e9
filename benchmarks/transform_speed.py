"""How long s2sad takes to transform a function, and what the generated gradient costs.

    python benchmarks/transform_speed.py

Prints two Markdown tables:

1. the time to transform a generated 50-line straight-line function (a chain of
   mixed elementwise operations, each line reusing earlier values) from source
   text to gradient source: `s2sad.grad_source(text, name).source`, every run a
   fresh transform (parse, lower, analyse, reverse, optimise, codegen; no cache);
2. the gradient/primal runtime ratio for that function, for seed 002's
   exp(exp(x) + exp(x)^2) + sin(exp(x) + exp(x)^2) and for the lecture's
   sin(x + y) / (x * y), on scalars and on 1000-element arrays. "generated" calls
   the generated function itself; "grad()" goes through the `s2sad.grad` wrapper,
   which also checks the arguments and converts the result's type.

A script, not a test: the numbers depend on the machine. It runs in a few seconds.
"""
import os
import random
import statistics
import sys
import time
import timeit

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's s2sad, not an older install
import s2sad  # noqa: E402
from s2sad.check import numeric_grad  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))

import lecture_sin_ratio  # noqa: E402
import seed002  # noqa: E402

CHAIN_LINES = 50
ARRAY_SIZE = 1000

# Each template keeps values bounded for inputs in [-1, 1], so the chain never overflows.
UNARY = ["np.sin({0})", "np.cos({0})", "np.tanh({0})", "np.exp(np.sin({0}))",
         "np.log1p({0} ** 2)", "np.sqrt(1.0 + {0} * {0})", "np.arctan({0})", "0.5 * {0} ** 2"]
BINARY = ["{0} * {1}", "{0} + {1}", "{0} - 0.5 * {1}", "np.sin({0} * {1})",
          "{0} / (1.0 + {1} ** 2)", "np.tanh({0} + {1})", "np.hypot({0}, {1})",
          "np.maximum({0}, {1})"]


def chain_source(lines=CHAIN_LINES, seed=0):
    """A straight-line function of `lines` assignments plus a return.

    Every line reads one or two earlier values, picked at random with a bias
    towards recent ones, so values are used many times and their adjoints
    accumulate (`dv = ...; dv += ...`).
    """
    rng = random.Random(seed)
    names = ["x"]
    body = []
    for k in range(1, lines + 1):
        recent = names[-6:]
        a = rng.choice(recent)
        b = rng.choice(names)
        if rng.random() < 0.45:
            expr = rng.choice(UNARY).format(a)
        else:
            expr = rng.choice(BINARY).format(a, b)
        if len(body) % 4 == 3:  # squash now and then so the chain stays in range
            expr = f"np.tanh({expr})"
        name = f"v{k}"
        body.append(f"    {name} = {expr}")
        names.append(name)
    used = names[-3:]
    return "def chain(x):\n" + "\n".join(body) + \
        f"\n    return np.sum({' + '.join(used)})\n"


LOOP_LINES = 200
LOOP_BODY = ["s = s * 0.5 + np.sin(a[i]) * x", "t = np.cos(s) + a[i] * b[i]",
             "c[i] = c[i] + t * 0.1", "s = s + np.tanh(t) * 0.25", "u = t * s + x",
             "c[i] += u * 0.01", "s = 0.5 * s + np.exp(-u * u)"]


def loops_source(lines=LOOP_LINES, seed=0):
    """A function of about `lines` lines mixing loops over arrays (element reads,
    element writes, carried scalars), branches and straight-line code between them,
    one or two operations a line: issue 6's "200-line function with loops"."""
    rng = random.Random(seed)
    body = ["    s = 0.0", "    t = 0.0", "    u = 0.0", "    c = np.zeros(len(a))"]
    while len(body) < lines - 1:
        body.append("    for i in range(len(a)):")
        for _ in range(rng.randint(4, 9)):
            body.append("        " + rng.choice(LOOP_BODY))
        body.append("    s = np.tanh(s + np.sum(c) * 0.01)")
        body.append("    if s > 0.5:")
        body.append("        s = s * 0.5")
        body.append("    x = x * 0.9 + s * 0.1")
    return "def looped(x, a, b):\n" + "\n".join(body) + "\n    return s + np.sum(c * c)\n"


def seed002_sum(x):
    return np.sum(np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2))


def lecture_sum(x, y):
    return np.sum(np.sin(x + y) / (x * y))


def best_seconds(call, budget=0.02, repeat=5):
    """The fastest of `repeat` timings of one call, each timing about `budget` seconds."""
    return best_of_each({"call": call}, budget, repeat)["call"]


def best_of_each(calls, budget=0.02, repeat=5):
    """The fastest of `repeat` timings of each call (a dict), each timing about `budget`
    seconds, taken in rounds that time every call once: a machine that slows down or
    speeds up during the measurement moves every call's time alike, not only the
    ratios of the calls timed at that moment."""
    timers = {}
    for key, call in calls.items():
        timer = timeit.Timer(call)
        number = 1
        while True:
            elapsed = timer.timeit(number)
            if elapsed >= budget / 4 or number >= 1 << 20:
                break
            number *= 4
        timers[key] = timer, max(1, int(number * budget / max(elapsed, 1e-9)))
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for key, (timer, number) in timers.items():
            best[key] = min(best[key], timer.timeit(number) / number)
    return best


def transform_times(text, name, runs=11):
    """CPU milliseconds for `runs` fresh transforms of `text` (parse through codegen).

    One transform runs first, untimed, so that one-time costs (lazy imports, the
    rule registry) are not counted; none of the timed runs reuses its result.
    """
    s2sad.grad_source(text, name).source
    times = []
    for _ in range(runs):  # CPU time: other processes on a shared machine do not count
        start = time.process_time()
        s2sad.grad_source(text, name).source
        times.append((time.process_time() - start) * 1e3)
    return times


def ratio_row(label, primal, gradient, args, wrt=0):
    """(label, primal µs, generated-gradient ratio, grad() ratio)."""
    gradient(*args)  # .compiled is then the code for these arguments' ranks
    generated = gradient.compiled.function
    t_primal = best_seconds(lambda: primal(*args))
    t_generated = best_seconds(lambda: generated(*args))
    t_wrapped = best_seconds(lambda: gradient(*args))
    return label, t_primal * 1e6, t_generated / t_primal, t_wrapped / t_primal


def main():
    text = chain_source()
    env = {"np": np}
    exec(compile(text, "<chain>", "exec"), env)
    chain = env["chain"]
    chain_grad = s2sad.grad_source(text, "chain")

    # the generated gradient must be right before its speed means anything
    rng = np.random.default_rng(0)
    x_arr = rng.uniform(-1.0, 1.0, ARRAY_SIZE)
    y_arr = rng.uniform(0.5, 1.5, ARRAY_SIZE)
    for x in (0.3, x_arr[:5].copy()):
        np.testing.assert_allclose(chain_grad(x), numeric_grad(chain, [x], 0), rtol=1e-6,
                                   atol=1e-9)

    times = transform_times(text, "chain")
    generated_lines = chain_grad.source.count("\n")
    print(f"## Transform time: {CHAIN_LINES}-line straight-line function "
          f"({len(text.splitlines())} source lines -> {generated_lines} generated lines)\n")
    print("| runs | min (ms) | median (ms) | max (ms) |")
    print("|---:|---:|---:|---:|")
    print(f"| {len(times)} | {min(times):.1f} | {statistics.median(times):.1f} | "
          f"{max(times):.1f} |")

    looped_text = loops_source()
    looped_env = {"np": np}
    exec(compile(looped_text, "<looped>", "exec"), looped_env)
    looped_grad = s2sad.grad_source(looped_text, "looped", wrt=(0, 1, 2))
    a, b = rng.uniform(-1.0, 1.0, 8), rng.uniform(-1.0, 1.0, 8)
    for got, index in zip(looped_grad(0.3, a, b), range(3)):
        np.testing.assert_allclose(got, numeric_grad(looped_env["looped"], [0.3, a, b], index),
                                   rtol=1e-5, atol=1e-8)
    loop_times = transform_times(looped_text, "looped")
    print(f"\n## Transform time: {len(looped_text.splitlines())}-line function with loops "
          f"({looped_grad.source.count(chr(10))} generated lines; issue 6 asks < 200 ms)\n")
    print("| runs | min (ms) | median (ms) | max (ms) |")
    print("|---:|---:|---:|---:|")
    print(f"| {len(loop_times)} | {min(loop_times):.1f} | {statistics.median(loop_times):.1f} "
          f"| {max(loop_times):.1f} |")

    rows = [
        ratio_row("chain, scalar", chain, chain_grad, (0.3,)),
        ratio_row(f"chain, {ARRAY_SIZE} elements", chain, chain_grad, (x_arr,)),
        ratio_row("seed 002, scalar", seed002.f, seed002.df, (0.5,)),
        ratio_row(f"seed 002, {ARRAY_SIZE} elements", seed002_sum, s2sad.grad(seed002_sum),
                  (x_arr * 0.5,)),
        ratio_row("lecture F(x, y), scalars", lecture_sin_ratio.F, lecture_sin_ratio.dF,
                  (1.0, 2.0)),
        ratio_row(f"lecture F(x, y), {ARRAY_SIZE} elements", lecture_sum,
                  s2sad.grad(lecture_sum, wrt=(0, 1)), (y_arr, y_arr[::-1].copy())),
    ]
    print("\n## Gradient / primal runtime\n")
    print("| function | primal (µs) | generated / primal | grad() / primal |")
    print("|---|---:|---:|---:|")
    for label, primal_us, generated, wrapped in rows:
        print(f"| {label} | {primal_us:.2f} | {generated:.2f} | {wrapped:.2f} |")


if __name__ == "__main__":
    main()
