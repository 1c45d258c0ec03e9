"""Structured parameters: what a dict of layers costs over the same gradient written
with one argument per array, and the first call's compile time for deep lists.

    python3 benchmarks/structures.py            # a few seconds
    python3 benchmarks/structures.py --rounds 15

Rounds are interleaved (structured, flat, autograd, structured, ...) and each figure is
the best round's time per call, so a busy machine slows all three alike; the ratios
are printed from the same process.
"""
from __future__ import annotations

import argparse
import time
import timeit

import numpy as np

import s2sad


def mlp_dict(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def mlp_flat(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def deep(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 8)), "b1": np.zeros(8),
              "W2": rng.normal(size=(8, 1)), "b2": np.zeros(1)}
    X, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    structured = s2sad.grad(mlp_dict)
    flat = s2sad.grad(mlp_flat, wrt=(0, 1, 2, 3))
    candidates = {"s2sad, dict of arrays": lambda: structured(params, X, y),
                  "s2sad, one argument per array": lambda: flat(
                      params["W1"], params["b1"], params["W2"], params["b2"], X, y)}
    try:
        import autograd
        import autograd.numpy as anp

        def mlp_autograd(p, X, y):
            h = anp.tanh(anp.dot(X, p["W1"]) + p["b1"])
            return anp.mean((anp.dot(h, p["W2"]) + p["b2"] - y) ** 2)
        by_autograd = autograd.grad(mlp_autograd)
        candidates["autograd, dict of arrays"] = lambda: by_autograd(params, X, y)
    except ImportError:
        pass
    best = {name: float("inf") for name in candidates}
    for run in candidates.values():
        run()  # (compiled before timing)
    for _ in range(options.rounds):
        for name, run in candidates.items():
            best[name] = min(best[name], min(timeit.repeat(run, number=200, repeat=3)) / 200)
    base = best["s2sad, one argument per array"]
    print("| gradient of a 2-layer MLP (X 32 x 3) | per call | ratio to one argument per array |")
    print("|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e6:.1f} us | {seconds / base:.2f} |")
    print()
    print("| layers in a list, first call (unrolled) | compile + call |")
    print("|---|---|")
    for count in (10, 50, 200):
        layers = [(rng.normal(size=(4, 4)) * 0.3, np.zeros(4)) for _ in range(count)]
        start = time.perf_counter()
        s2sad.grad(deep)(layers, np.ones(4))
        print(f"| {count} | {time.perf_counter() - start:.2f} s |")


if __name__ == "__main__":
    main()
