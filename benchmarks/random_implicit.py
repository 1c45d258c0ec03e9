"""Random implicit programs: fixed points and roots written in the spellings users
write them, differentiated by s2sad and checked against central differences of the
converged solution.

Each program solves z = g(z, θ) for a random contraction g (a random activation of a
random affine map, scaled below 1), spelled one of seven ways: a module-level def, a
lambda inside the function, a nested def closing over the parameters, a dict of
parameters, a hand-written while loop marked with `fixed_point_of`, a root of
F(z) = z - g(z), or a method of a model object; then takes a random loss of z (and of
the parameters). The gradient (reverse mode), a JVP (forward mode) and, for small z,
the Hessian must agree with differences of the solution (of the gradient) to 1e-6.

    python benchmarks/random_implicit.py --count 200 --seed 1
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import textwrap
import traceback
from pathlib import Path

import numpy as np

import s2sad

ACTIVATIONS = ["np.tanh({})", "np.sin({})", "0.9 * np.cos({})", "1 / (1 + np.exp(-({})))",
               "np.arctan({})", "({}) / (1 + np.abs({}))"]
LOSSES = ["np.sum(z ** 2)", "np.sum(np.sin(z)) + np.sum(b * z)", "np.mean(np.exp(-z)) * c",
          "np.sum(z * z * z) + c * np.sum(z)", "z @ W @ z"]
SPELLINGS = ["def", "lambda", "closure", "dict", "marked", "root", "method"]


def program(rng: np.random.Generator, spelling: str) -> str:
    activation = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    inner = ["W @ z + b", "W @ z + c * z + b", "W @ np.tanh(z) + b", "c * (W @ z) + b"][
        rng.integers(4)]
    alpha = [0.5, 0.7, 0.9][rng.integers(3)]
    body = f"{alpha} * " + activation.format(*([inner] * activation.count("{}")))
    loss = LOSSES[rng.integers(len(LOSSES))]
    tol = "tol=1e-13"
    if spelling == "def":
        head = f"def g(z, W, b, c):\n    return {body}\n"
        solve = f"z = s2sad.fixed_point(g, np.zeros(len(b)), W, b, c, {tol})"
    elif spelling == "lambda":
        head = ""
        solve = (f"z = s2sad.fixed_point(lambda z, W, b, c: {body}, np.zeros(b.shape[0]), "
                 f"W, b, c, {tol})")
    elif spelling == "closure":
        head = ""
        solve = (f"def g(z):\n        return {body}\n"
                 f"    z = s2sad.fixed_point(g, np.zeros_like(b), {tol})")
    elif spelling == "dict":
        dict_body = re.sub(r"\bW\b", 'p["W"]', re.sub(r"\bb\b", 'p["b"]', body))
        head = f"def g(z, p, c):\n    return {dict_body}\n"
        solve = (f"p = {{'W': W, 'b': b}}\n"
                 f"    z = s2sad.fixed_point(g, np.zeros(len(b)), p, c, {tol})")
    elif spelling == "marked":
        head = (f"def g(z, W, b, c):\n    return {body}\n\n\n"
                f"@s2sad.fixed_point_of(g)\n"
                f"def solve(z0, W, b, c):\n    z = z0\n    while True:\n"
                f"        z_new = {body}\n"
                f"        if np.max(np.abs(z_new - z)) <= 1e-14 * (1 + np.max(np.abs(z))):\n"
                f"            return z_new\n        z = z_new\n")
        solve = "z = solve(np.zeros(len(b)), W, b, c)"
    elif spelling == "root":
        head = f"def F(z, W, b, c):\n    return z - ({body})\n"
        solve = f"z = s2sad.root(F, np.zeros(len(b)), W, b, c, {tol})"
    else:  # a bound method of a model object
        scaled = body.replace(f"{alpha} * ", "self.alpha * ", 1)
        head = (f"class Cell:\n    def __init__(self, alpha):\n        self.alpha = alpha\n\n"
                f"    def step(self, z, W, b, c):\n        return {scaled}\n\n\n"
                f"CELL = Cell({alpha})\n")
        solve = f"z = s2sad.fixed_point(CELL.step, np.zeros(len(b)), W, b, c, {tol})"
    return (f"import numpy as np\nimport s2sad\n\n\n{head}\n\n"
            f"def f(W, b, c):\n    {solve}\n    return {loss}\n")


def load(text: str, directory: Path, index: int):
    path = directory / f"implicit_program_{index}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module.f


def central(f, args, k, eps=1e-6):
    x = args[k]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[k], down[k] = x + eps, x - eps
        return (f(*up) - f(*down)) / (2 * eps)
    out = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        up, down = list(args), list(args)
        up[k], down[k] = x + e, x - e
        out[i] = (f(*up) - f(*down)) / (2 * eps)
    return out


def check(f, rng: np.random.Generator, n: int, second_order: bool = True) -> float:
    W = rng.standard_normal((n, n))
    W *= 0.45 / max(np.linalg.norm(W, 2), 1e-12)
    b, c = rng.standard_normal(n), float(rng.uniform(-0.4, 0.4))
    args = (W, b, c)
    grads = s2sad.grad(f, wrt=(0, 1, 2))(*args)
    worst = 0.0
    for k, got in enumerate(grads):
        expected = central(f, args, k)
        assert np.shape(got) == np.shape(expected), (np.shape(got), np.shape(expected))
        worst = max(worst, float(np.max(np.abs(got - expected))))
    if n <= 3 and second_order:  # the Hessian in b against differences of the gradient
        hessian = s2sad.hessian(f, wrt=1)(*args)
        gradient = s2sad.grad(f, wrt=1)
        expected = np.stack([central(lambda b: gradient(W, b, c)[i], (b,), 0)
                             for i in range(n)])
        worst = max(worst, float(np.max(np.abs(hessian - expected))))
    tangents = (rng.standard_normal((n, n)), rng.standard_normal(n), 1.0)
    _, along = s2sad.jvp(f, wrt=(0, 1, 2))(*args, tangents)
    eps = 1e-6
    up = f(*(a + eps * t for a, t in zip(args, tangents)))
    down = f(*(a - eps * t for a, t in zip(args, tangents)))
    return max(worst, abs(along - (up - down) / (2 * eps)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    options = parser.parse_args(argv)
    rng = np.random.default_rng(options.seed)
    wrong, crashed = [], []
    with tempfile.TemporaryDirectory() as directory:
        sys.path.insert(0, directory)
        for index in range(options.count):
            spelling = SPELLINGS[index % len(SPELLINGS)]
            text = program(rng, spelling)
            n = int(rng.choice([1, 3, 6]))
            try:
                # (a method reading its object's attributes: s2sad's Hessians do not
                # read generated code holding `model.alpha` back, solve or no solve)
                error = check(load(text, Path(directory), index), rng, n,
                              second_order=spelling != "method")
            except Exception:  # (a crash or a refusal is a finding too)
                crashed.append((text, traceback.format_exc(limit=3)))
                continue
            if not error <= options.tolerance:
                wrong.append((text, error))
    for text, error in wrong:
        print(f"WRONG (max error {error:.3g}):\n{textwrap.indent(text, '    ')}")
    for text, trace in crashed:
        print(f"CRASHED:\n{textwrap.indent(text, '    ')}\n{textwrap.indent(trace, '    ')}")
    print(f"{options.count} programs ({', '.join(SPELLINGS)}): {len(wrong)} wrong, "
          f"{len(crashed)} crashed or refused")
    return 1 if wrong or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
