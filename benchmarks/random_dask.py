"""Random programs on dask arrays: each of random_programs.py's programs, with its array
arguments chunked, against the same program on NumPy arrays.

    python benchmarks/random_dask.py --count 300 --seed 1 --family straight

For each program whose own primal runs lazily on dask arrays (dask implements what it
calls), the gradient on dask must (a) start no compute while it is built (counted with a
dask callback), (b) equal the NumPy gradient after one `dask.compute`, in shape and
dtype, or (c) be refused with an S2SADError. A wrong value, a silent compute or any
other exception is a finding. Programs whose primal dask cannot run lazily are skipped.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import traceback
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import random_programs as rp  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from dask.callbacks import Callback  # noqa: E402

import s2sad  # noqa: E402
from s2sad.arrays import EagerCompute, computes_refused  # noqa: E402


class Computes(Callback):
    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def chunked(value, rng):
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.dtype.kind == "f":
        chunks = tuple(max(1, n // rng.choice([1, 2, 3])) for n in value.shape)
        return da.from_array(value, chunks=chunks)
    return value


def run(program, rng) -> str:
    module = rp.compile_program(program)
    try:
        f = module.f
        lazy = [chunked(a, rng) for a in program.args]
        if not any(isinstance(a, da.Array) for a in lazy):
            return "no arrays"
        try:  # the primal itself, lazily (dask implements what it calls?)
            with warnings.catch_warnings(), computes_refused():
                warnings.simplefilter("error")
                f(*lazy)
        except Exception:
            return "primal not lazy"
        try:
            expected = s2sad.grad(f, wrt=program.wrt, optimize=program.optimize)(
                *program.args)
        except Exception:
            return "numpy refused"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", s2sad.laziness.LazyArrayWarning)
                warnings.simplefilter("error", FutureWarning)
                with Computes() as computes:
                    got = s2sad.grad(f, wrt=program.wrt, optimize=program.optimize)(*lazy)
        except s2sad.S2SADError as exc:
            return "refused: " + str(exc).splitlines()[0].split("error: ")[-1][:70]
        except Exception as exc:
            return f"CRASH {type(exc).__name__}: {str(exc)[:80]}"
        if computes.count:
            return "SILENT COMPUTE"
        got, = dask.compute(got)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for g, e in zip(got, expected):
            if np.shape(g) != np.shape(e):
                return f"WRONG SHAPE {np.shape(g)} {np.shape(e)}"
            tol = 1e-4 if np.result_type(e) == np.float32 else 1e-9
            if not np.allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float),
                               rtol=tol, atol=tol, equal_nan=True):
                return "WRONG VALUE"
        return "ok"
    finally:
        rp.forget(module)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--family", default="straight")
    parser.add_argument("--show", type=int, default=3, help="programs shown per finding")
    options = parser.parse_args()
    families = rp.FAMILIES if options.family == "all" else options.family.split(",")
    import random
    rng = random.Random(options.seed)
    outcomes = collections.Counter()
    examples = collections.defaultdict(list)
    for family in families:
        for index in range(options.count):
            program = rp.generate(family, options.seed, index)
            try:
                outcome = run(program, rng)
            except Exception:
                outcome = "HARNESS " + traceback.format_exc().splitlines()[-1][:80]
            outcomes[outcome] += 1
            if len(examples[outcome]) < options.show:
                examples[outcome].append((family, index))
    for outcome, count in outcomes.most_common():
        print(f"{count:5d}  {outcome}  e.g. {examples[outcome]}")
    bad = sum(c for o, c in outcomes.items() if o.split()[0].isupper())
    print(f"findings (WRONG, SILENT COMPUTE, CRASH): {bad}")


if __name__ == "__main__":
    main()
