"""Random programs over structured arguments, each written in one of the spellings
people use (direct keys, `.items()` loops, index loops, unpacking, comprehensions,
helpers), with an autograd oracle: the same source run with autograd.numpy.

    program = generate(seed)   # (source text, function name, argument builder)

Used by tests/test_random_structures.py and benchmarks/random_programs.py
(`--family structures`) for longer runs.
"""
from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Tuple

import numpy as np

N = 3  # every array leaf is a vector of N or an N x N matrix

_FUNCTIONS = ["np.sin({})", "np.tanh({})", "np.exp(0.3 * {})", "{} ** 2", "{} * 0.5",
              "np.cos({}) * {}"]


@dataclass
class Program:
    source: str
    name: str
    make_args: Callable[[np.random.Generator], Tuple[Any, ...]]


def _expression(rng: random.Random, leaf: str, other: str) -> str:
    form = rng.choice(_FUNCTIONS)
    return form.format(leaf, other) if form.count("{}") == 2 else form.format(leaf)


def generate(seed: int) -> Program:
    """A random function of a structure `p` (and data `x`) returning a number."""
    rng = random.Random(seed)
    kind = rng.choice(["dict", "layers", "nested", "list"])
    name = f"random_structures_{seed}"
    lines: List[str] = []
    helper: List[str] = []
    if kind == "dict":
        keys = [f"w{k}" for k in range(rng.randint(1, 4))]

        def make(g):
            return ({k: g.normal(size=N) for k in keys}, g.normal(size=N))
        for _ in range(rng.randint(1, 4)):
            spelling = rng.choice(["key", "items", "values_sum", "keys_loop", "comprehension",
                                   "helper", "lambda"])
            k = rng.choice(keys)
            if spelling == "key":
                lines.append(f"acc = acc + np.sum({_expression(rng, f'p[{k!r}]', 'x')})")
            elif spelling == "items":
                lines += ["for name, v in p.items():",
                          f"    acc = acc + np.sum({_expression(rng, 'v', 'x')})"]
            elif spelling == "values_sum":
                lines.append(f"acc = acc + sum(np.sum({_expression(rng, 'v', 'x')}) "
                             "for v in p.values())")
            elif spelling == "keys_loop":
                lines += ["for key in p:", "    if key != " + repr(k) + ":",
                          f"        acc = acc + np.sum(p[key] * {_expression(rng, 'x', 'x')})"]
            elif spelling == "comprehension":
                lines += [f"q = {{k: {_expression(rng, 'v', 'x')} for k, v in p.items()}}",
                          f"acc = acc + np.sum(q[{k!r}] * p[{rng.choice(keys)!r}])"]
            elif spelling == "lambda":
                lines += [f"f = lambda v, w=x: {_expression(rng, 'v', 'w')}",
                          f"acc = acc + np.sum(f(p[{k!r}])) + np.sum(f(p[{k!r}] * 0.5, x))"]
            else:
                helper = [f"def {name}_helper(params, data):",
                          f"    return np.sum({_expression(rng, f'params[{k!r}]', 'data')})"]
                lines.append(f"acc = acc + {name}_helper(p, x)")
    elif kind in ("layers", "list"):
        depth = rng.randint(1, 3)

        def make(g):
            layers = [(g.normal(size=(N, N)) * 0.5, g.normal(size=N)) for _ in range(depth)]
            if kind == "list":
                layers = [list(layer) for layer in layers]
            return (layers, g.normal(size=N))
        spelling = rng.choice(["unpack_loop", "index_loop", "enumerate", "zip", "last"])
        lines.append("h = x")
        if spelling == "unpack_loop":
            lines += ["for W, b in p:", f"    h = {_expression(rng, 'h @ W + b', 'h')}"]
        elif spelling == "index_loop":
            lines += ["for i in range(len(p)):",
                      f"    h = {_expression(rng, 'h @ p[i][0] + p[i][1]', 'h')}"]
        elif spelling == "enumerate":
            lines += ["for i, layer in enumerate(p):", "    W, b = layer",
                      "    h = h @ W + b", "    if i < len(p) - 1:",
                      f"        h = {_expression(rng, 'h', 'h')}"]
        elif spelling == "zip":
            lines += ["for layer, scale in zip(p, [1.0, 0.5, 2.0]):",
                      f"    h = scale * {_expression(rng, 'h @ layer[0] + layer[1]', 'h')}"]
        else:
            lines += ["W, b = p[-1]", f"h = {_expression(rng, 'h @ W + b', 'h')}",
                      "h = h + p[0][1]"]
        lines.append("acc = acc + np.sum(h ** 2)")
    else:  # nested dicts of layers
        names = [f"layer{k}" for k in range(rng.randint(1, 3))]

        def make(g):
            return ({n: {"W": g.normal(size=(N, N)) * 0.5, "b": g.normal(size=N)}
                     for n in names}, g.normal(size=N))
        lines.append("h = x")
        if rng.random() < 0.5:
            step = _expression(rng, 'h @ p[name]["W"] + p[name]["b"]', 'h')
            lines += ["for name in p:", f"    h = {step}"]
        else:
            step = _expression(rng, 'h @ layer["W"] + layer["b"]', 'h')
            lines += ["for name, layer in p.items():", f"    h = {step}"]
        lines.append("acc = acc + np.sum(h * x)")
    body = ["    acc = 0.0"] + ["    " + line for line in lines] + ["    return acc"]
    source = "import numpy as np\n\n\n" + ("\n".join(helper) + "\n\n\n" if helper else "") + \
        f"def {name}(p, x):\n" + "\n".join(body) + "\n"
    return Program(source, name, make)


def load(program: Program, numpy_module: Any, directory: Path) -> Callable:
    """The program's function, from a file (s2sad reads source files), its `np` bound
    to `numpy_module` (NumPy, or autograd.numpy for the oracle)."""
    tag = "autograd" if numpy_module is not np else "numpy"
    path = directory / f"{program.name}_{tag}.py"
    path.write_text(program.source)
    spec = importlib.util.spec_from_file_location(f"{program.name}_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.np = numpy_module
    return getattr(module, program.name)


def check(seed: int, directory: Path) -> None:
    """Raise AssertionError where s2sad and autograd disagree on program `seed`."""
    import autograd
    import autograd.numpy as anp

    import s2sad
    program = generate(seed)
    f = load(program, np, directory)
    oracle = load(program, anp, directory)
    args = program.make_args(np.random.default_rng(seed))
    expected = autograd.grad(oracle)(*args)
    got = s2sad.grad(f)(*args)
    _compare(got, expected, program.source)


def _compare(got: Any, expected: Any, source: str) -> None:
    assert type(got) is type(expected), (type(got), type(expected), source)
    if isinstance(expected, dict):
        assert list(got) == list(expected), source
        for key in expected:
            _compare(got[key], expected[key], source)
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), source
        for a, b in zip(got, expected):
            _compare(a, b, source)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11, err_msg=source)


if __name__ == "__main__":  # python tests/random_structures.py 1000
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        failures = 0
        for seed in range(count):
            try:
                check(seed, Path(tmp))
            except Exception as exc:  # (report every kind of failure)
                failures += 1
                print(f"seed {seed}: {type(exc).__name__}: {str(exc)[:400]}")
        print(f"{count - failures}/{count} agree with autograd")
