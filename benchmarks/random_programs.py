"""Random Python + NumPy programs against s2sad, checked against central differences.

    python benchmarks/random_programs.py --count 300 --seed 1 --family all --jobs 1
    python benchmarks/random_programs.py --count 2000 --seed 7 --family views \\
        --findings /tmp/fuzz_findings.md --state /tmp/fuzz_state.json
    python benchmarks/random_programs.py --recheck --state /tmp/fuzz_state.json \\
        --findings /tmp/fuzz_findings.md      # each class's smallest program again

About 0.1-0.2 s a program on one core (run it under `nice`); `--state` accumulates
the counts and failure classes across runs, `--findings` is rendered from it.

A generator independent of tests/test_properties.py and tests/test_loop_properties.py
(plain `random.Random`, no hypothesis), for running 10^4 programs locally after a
change to the transform; tests/test_random_programs.py runs a fixed-seed sample in CI.
Program i of family F under seed S is always the same program (`generate(F, S, i)`).

Each program is the full source text of a module (`def f(...)` and its helpers),
compiled under a unique `<random-program ...>` file name registered in `linecache`,
so `inspect.getsource` reads exactly the text that was compiled. The families:

* `straight`: straight-line NumPy over scalars (float, np.float64), vectors and
  a 2x3 matrix (float64, sometimes float32): smooth elementwise functions, broadcasting (a matrix with a row,
  a column `v[:, None]`), reductions with and without axis/keepdims (std/var
  over an axis of length 1 too), `@`, dot, inner, outer, einsum (ellipsis and
  sublist forms), concatenate/stack/hstack/vstack/column_stack, `np.r_`/`np.c_`,
  cumsum/cumprod/diff/sort/flip/roll/tile/repeat/diag/tril/kron, max/min, where,
  clip, linalg solve/inv/det, the math module on numbers, reading indexes and
  slices, `+=`/`-=`/`*=` on fresh locals;
* `views`: one local copy `c = v.copy()` (or np.copy, np.array, `v * 1.0`) and
  names for it: plain `t = c`, chains of 1-3 view steps (`[1:]`, `[::-1]`, `[:]`,
  `.reshape`, `.T`, `[None]`, `[:, None]`, `np.expand_dims`, `np.asarray`,
  `.ravel()`, `np.squeeze`, rows and columns), helpers that return a view of their
  argument or write into it and return it, a different view in each branch, a
  name rebound to its own view (`c = c[::-1]`), a view rebound to a copy,
  element writes in loops, ufuncs writing through `out=`, a slice assigned from an
  overlapping slice, and copies (`.flatten()`, `[mask]`, `[np.array([...])]`,
  arithmetic, `.astype`); element writes and `=`, `+=`, `-=`,
  `*=` through any of them, reads through the others, read-only views
  (`broadcast_to`, `.diagonal()`) read;
* `ranks`: names rebound across ranks: a float then an array, an array in one
  branch and a number in the other, accumulators that become arrays in a loop,
  a float parameter rebound to an array, helpers with a `w=None` default that
  become arrays, 0-d arrays (`np.array(x)`, also passed as the argument) and
  np.float64 that meet arrays, one name bound to a helper's result for a number
  and then for an array;
* `helpers`: shape-polymorphic helpers called positionally, by keyword (in any
  order), with defaults omitted, returning tuples that are unpacked or indexed,
  called with a scalar and then an array, nested and calling each other;
* `recurrences`: element recurrences in loops: `c[i] = c[i - 1] * ... + v[i]`,
  `c[i + j] *= ...` in nested loops, `c[idx[i]] += a[i]`, backward loops, while
  loops over elements, 2-d recurrences, reductions in loops, slices `c[i:i + 2]`
  written and read in loops, writes through a view `d = c[1:]` in a loop;
* `scalar_loops`: scalar for/while loops and branches on values that do not carry
  the derivative (loop counters, integer flags, the input's sign away from 0),
  break/continue, iteration over an array, early returns, math.hypot (at 0 too);
* `vector_loops`: loops over whole vectors: rebinding `u = np.tanh(u) * x + v`,
  `u += ...`/`u *= ...` in a loop, `u[1:] += u[:-1] * ...` (overlapping views),
  `w[i]` with the loop variable, `for row in A`, branches on the counter, lists
  appended to and stacked, rows of a copied matrix written in a loop, shifts
  `u[1:] = u[:-1] * x` and `u = u[::-1] * x` in a loop.

For every program the primal runs first (under np.errstate(all="raise")); programs
that raise, or whose value leaves [-BOUND, BOUND], are rejected, and so are those
whose 4-point central differences at steps 1e-3 and 5e-4 disagree (a kink or a
badly conditioned point). The remaining ones are checked:

* `grad`: `s2sad.grad(f, wrt)` against the differences, with the argument's type,
  shape and dtype (a float for a float);
* `value_and_grad`: the value against `f`, the gradient as above;
* `jvp`: `s2sad.jvp` on random tangents, the value and the directional derivative;
* `hessian`: `s2sad.hessian` against differences of the (checked) reverse
  gradient, and its symmetry;
* `gradgrad`: `s2sad.grad(s2sad.grad(f, wrt=k), wrt=k)` for a scalar argument k,
  against the same Hessian entry;
* `reuse`: one gradient function called twice, the second time with every float an
  np.float64 and every np.float64 a float (values and types as the arguments');
* `mutation`: no call changes the caller's arguments.

A program is *refused* when `grad` raises an `s2sad.S2SADError`, *wrong* when any
check disagrees beyond tolerance, a *crash* when any check raises something that
is not an `S2SADError`, and *accepted* otherwise. Failing programs are shrunk (whole
statements, with their nested blocks, removed while the same checks fail the same
way) and grouped by mechanism: the family, the failing checks, the exception's
type and message, and the kinds of statement left in the shrunk program.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import linecache
import os
import random
import re
import signal
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

import s2sad

FAMILIES = ("straight", "views", "ranks", "helpers", "recurrences", "scalar_loops",
            "vector_loops")
BOUND = 1e3
Shape = Tuple[int, ...]


# -- programs ------------------------------------------------------------------------


@dataclass
class Program:
    """The module text (lines with the kind of statement each one is), the arguments
    of f, which of them are differentiated, and whether f's body only copies."""

    family: str
    seed: int
    index: int
    lines: List[Tuple[str, str]]        # (text, kind); kind "" for structure
    params: List[str]
    args: List[Any]
    wrt: Tuple[int, ...]
    optimize: bool = True
    copies_only: bool = False           # views family: no view or alias of the copy

    @property
    def source(self) -> str:
        return "\n".join(text for text, _ in self.lines) + "\n"

    @property
    def kinds(self) -> List[str]:
        return sorted({kind for _, kind in self.lines if kind})

    def with_lines(self, lines: List[Tuple[str, str]]) -> "Program":
        return dataclasses.replace(self, lines=lines)


def _float_scalar(rng: random.Random, margin: float = 0.2) -> Any:
    """A float or an np.float64 in [-1.5, 1.5], at least `margin` from 0."""
    value = rng.uniform(margin, 1.5) * rng.choice([-1.0, 1.0])
    return rng.choice([float, np.float64])(round(value, 6))


def _array(rng: random.Random, shape: Shape) -> np.ndarray:
    return np.round(np.array([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(shape)))])
                    .reshape(shape), 6)


def _value(rng: random.Random, shape: Shape) -> Any:
    return _float_scalar(rng) if shape == () else _array(rng, shape)


class Names:
    """Fresh local names, some of them colliding with the names s2sad generates."""

    POOL = ["a", "b", "u", "w2", "t1", "dx", "df", "x_1", "da", "tmp", "r", "q", "z1"]

    def __init__(self, rng: random.Random, taken: Sequence[str]):
        self.rng = rng
        self.taken = set(taken)
        self.counter = 0

    def fresh(self) -> str:
        for _ in range(5):
            name = self.rng.choice(self.POOL)
            if name not in self.taken:
                self.taken.add(name)
                return name
        self.counter += 1
        name = f"n{self.counter}"
        self.taken.add(name)
        return name


# -- expressions over shapes -----------------------------------------------------------

UNARY = [
    "np.sin({0})", "np.cos({0})", "np.tanh({0})", "np.arctan({0})", "np.exp(np.sin({0}))",
    "np.log(1.0 + {0} * {0})", "np.sqrt(1.0 + {0} * {0})", "np.square({0})", "{0} ** 2",
    "-{0}", "0.5 * {0}", "np.log1p({0} ** 2)", "np.arcsinh({0})", "np.expm1(np.cos({0}))",
    "1.0 / (2.0 + {0} * {0})", "np.sinh(0.5 * {0})", "{0} ** 3",
]
BINARY = [
    "{0} + {1}", "{0} - {1}", "{0} * {1}", "{0} / (2.0 + {1} * {1})",
    "np.hypot({0}, 1.0 + {1} ** 2)", "np.arctan2({0}, 2.0 + {1} * {1})",
    "np.multiply({0}, {1})", "np.add({0}, {1})", "(1.0 + {0} * {0}) ** np.sin({1})",
    "np.maximum({0}, {1} - 5.0)",
]


def broadcast(a: Shape, b: Shape) -> Optional[Shape]:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _reductions(shape: Shape) -> List[Tuple[str, Shape]]:
    out = [("np.sum({0})", ()), ("np.mean({0})", ()), ("{0}.sum()", ()),
           ("np.sum({0} * {0})", ()), ("np.prod(1.0 + 0.1 * {0})", ()),
           ("np.linalg.norm(1.0 + {0} * {0})", ()),
           ("np.log1p({0} ** 2).mean(keepdims=True).sum()", ()),
           ("np.sum({0}, keepdims=True)", (1,) * len(shape))]
    if len(shape) >= 1:
        out += [("np.sum({0}, axis=0)", shape[1:]), ("{0}.mean(axis=-1)", shape[:-1]),
                ("np.sum({0}, axis=-1, keepdims=True)", shape[:-1] + (1,))]
    if len(shape) >= 1 and shape[-1] > 1:
        out += [("np.std({0})", ()), ("np.var({0}, axis=-1)", shape[:-1])]
    return out


def _reads(shape: Shape) -> List[Tuple[str, Shape]]:
    """Indexing and reshaping that read an array (the result is not written)."""
    out: List[Tuple[str, Shape]] = []
    if len(shape) == 1:
        n = shape[0]
        out += [("{0}[0]", ()), ("{0}[-1]", ()), ("{0}[::-1]", shape),
                ("{0}[:, None]", (n, 1)), ("{0}[None, :]", (1, n)),
                ("{0}.reshape(1, -1)", (1, n))]
        if n >= 2:
            out += [("{0}[1:]", (n - 1,)), ("{0}[:-1]", (n - 1,))]
        if n >= 3:
            out += [("{0}[[0, 0, 2]]", (3,)), ("{0}[np.array([2, 1])]", (2,))]
    elif len(shape) == 2:
        r, c = shape
        out += [("{0}[0]", (c,)), ("{0}[:, -1]", (r,)), ("{0}.T", (c, r)),
                ("{0}[0, 1]" if c > 1 else "{0}[0, 0]", ()), ("{0}.reshape(-1)", (r * c,)),
                ("{0}.ravel()", (r * c,)), ("np.transpose({0})", (c, r))]
        if r == c:
            out += [("np.trace({0})", ()), ("{0}.diagonal()", (r,))]
    return out


def _contractions(env: Dict[str, Shape]) -> List[Tuple[str, Shape]]:
    out = []
    names = sorted(env)
    for a in names:
        for b in names:
            sa, sb = env[a], env[b]
            if len(sa) == 1 and sa == sb:
                out += [(f"{a} @ {b}", ()), (f"np.dot({a}, {b})", ()),
                        (f"np.inner({a}, {b})", ())]
            if len(sa) == 2 and len(sb) == 1 and sa[1] == sb[0]:
                out += [(f"{a} @ {b}", (sa[0],)), (f"np.einsum('ij,j->i', {a}, {b})", (sa[0],))]
            if len(sa) == 1 and len(sb) == 1:
                out += [(f"np.outer({a}, {b})", (sa[0], sb[0]))]
                out += [(f"np.concatenate([{a}, {b}])", (sa[0] + sb[0],))]
            if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[1]:
                out += [(f"{a} @ {b}.T", (sa[0], sb[0]))]
            if sa == sb and len(sa) >= 1:
                out += [(f"np.stack([{a}, {b}])", (2,) + sa)]
            if sa == () and len(sb) >= 1:
                out += [(f"np.inner({a}, {b})", sb)]
    return out


def _array_ops(shape: Shape) -> List[Tuple[str, Shape]]:
    """NumPy functions of one array beyond the elementwise ones, smooth where used."""
    out: List[Tuple[str, Shape]] = []
    if len(shape) == 1:
        n = shape[0]
        out += [("np.cumsum({0})", shape), ("np.cumprod(1.0 + 0.1 * {0})", shape),
                ("np.sort({0})", shape), ("np.flip({0})", shape), ("np.roll({0}, 1)", shape),
                ("np.tile({0}, 2)", (2 * n,)), ("np.repeat({0}, 2)", (2 * n,)),
                ("np.diag({0})", (n, n)), ("np.r_[{0}, {0}]", (2 * n,)),
                ("np.c_[{0}, {0}]", (n, 2)), ("np.clip({0}, -10.0, 10.0)", shape),
                ("np.where(np.arange({n}) % 2 == 0, {0}, 0.5 * {0})", shape),
                ("np.max({0})", ()), ("np.min({0})", ()), ("np.abs(1.0 + {0} * {0})", shape),
                ("np.einsum('i,i->', {0}, {0})", ()), ("np.einsum({0}, [0], {0}, [0], [])", ()),
                ("np.hstack([{0}, {0}])", (2 * n,)), ("np.atleast_2d({0})", (1, n)),
                ("np.expand_dims({0}, -1) * {0}", (n, n))]
        if n >= 2:
            out += [("np.diff({0})", (n - 1,))]
    elif len(shape) == 2:
        r, c = shape
        out += [("np.cumsum({0}, axis=0)", shape), ("np.vstack([{0}, {0}])", (2 * r, c)),
                ("np.hstack([{0}, {0}])", (r, 2 * c)), ("{0}.T @ {0}", (c, c)),
                ("{0} @ {0}.T", (r, r)), ("np.tril({0} @ {0}.T)", (r, r)),
                ("np.linalg.solve(np.eye({r}) * 3.0 + {0} @ {0}.T, {0})", shape),
                ("np.linalg.inv(np.eye({r}) * 3.0 + {0} @ {0}.T)", (r, r)),
                ("np.linalg.det(np.eye({r}) * 3.0 + {0} @ {0}.T)", ()),
                ("np.std({0}[:, :1], axis=1)", (r,)), ("np.var({0}, axis=0, keepdims=True)",
                                                        (1, c)),
                ("np.std({0}, axis=-1, keepdims=True)", (r, 1)),
                ("np.max({0}, axis=1)", (r,)), ("np.column_stack([{0}[0], {0}[-1]])", (c, 2)),
                ("np.einsum('ij->j', {0})", (c,)), ("np.einsum('...j->...', {0})", (r,)),
                ("np.kron({0}[0], {0}[-1])", (c * c,))]
    return out


MATH = ["math.sin({0})", "math.exp(math.sin({0}))", "math.hypot({0}, 1.0)",
        "math.atan2({0}, 2.0)", "math.log1p({0} * {0})", "math.sqrt(1.0 + {0} * {0})",
        "math.tanh({0})", "math.cos({0}) ** 2"]


def expression(rng: random.Random, env: Dict[str, Shape], depth: int = 2,
               want: Optional[Shape] = None, rich: bool = False) -> Tuple[str, Shape]:
    """(text, shape) of a smooth random expression over the names in env.

    With `want`, the result has that shape or broadcasts to it (a scalar always does).
    `rich` adds NumPy's non-elementwise functions (cumsum, sort, solve, einsum, np.r_,
    ...) and the math module's functions of numbers.
    """
    def fits(shape: Shape) -> bool:
        return want is None or broadcast(shape, want) == want

    names = [n for n in sorted(env) if fits(env[n])]
    for _ in range(20):
        choice = rng.choice((["name", "unary", "unary", "binary", "binary", "reduction",
                              "read", "contraction"] + ["array_op", "math"] * rich)
                            if depth > 0 else ["name", "name", "constant"])
        if choice == "constant":
            return repr(rng.choice([0.5, 2.0, -1.5, 0.25])), ()
        if choice == "name" and names:
            name = rng.choice(names)
            return name, env[name]
        if choice == "unary":
            text, shape = expression(rng, env, depth - 1, want, rich)
            if text[0].isdigit() or text[0] == "-":  # (-1.5) ** 2 and the like
                continue
            return rng.choice(UNARY).format(f"({text})" if not text.isidentifier()
                                            else text), shape
        if choice == "binary":
            left, ls = expression(rng, env, depth - 1, want, rich)
            right, rs = expression(rng, env, depth - 1, want, rich)
            shape = broadcast(ls, rs)
            if shape is None or not fits(shape):
                continue
            wrap = (lambda t: t if t.isidentifier() else f"({t})")
            return rng.choice(BINARY).format(wrap(left), wrap(right)), shape
        if choice == "math":
            text, shape = expression(rng, env, depth - 1, (), rich)
            if shape == () and not text[0].isdigit() and text[0] != "-":
                return rng.choice(MATH).format(text), ()
            continue
        arrays = [n for n in sorted(env) if env[n] != ()]
        if not arrays:
            continue
        if choice == "array_op":
            name = rng.choice(arrays)
            shape = env[name]
            options = [(t, sh) for t, sh in _array_ops(shape) if fits(sh)]
            if options:
                template, result = rng.choice(options)
                return template.format(name, n=shape[0], r=shape[0]), result
        if choice == "reduction":
            name = rng.choice(arrays)
            template, shape = rng.choice(_reductions(env[name]))
            if fits(shape):
                return template.format(name), shape
        if choice == "read":
            name = rng.choice(arrays)
            options = [(t, s) for t, s in _reads(env[name]) if fits(s)]
            if options:
                template, shape = rng.choice(options)
                return template.format(name), shape
        if choice == "contraction":
            options = [(t, s) for t, s in _contractions(env) if fits(s)]
            if options:
                return rng.choice(options)
    return rng.choice([repr(0.5), repr(1.5)]), ()


def scalar_result(rng: random.Random, env: Dict[str, Shape], names: Sequence[str]) -> str:
    """A scalar from the given names: a sum of smooth reductions."""
    terms = []
    for name in names:
        shape = env[name]
        form = rng.choice(["np.sum({0})", "np.sum(np.sin({0}))", "np.sum({0} * {0})",
                           "np.sum(np.tanh({0}) * 0.5)"])
        if shape == () and rng.random() < 0.5:
            form = rng.choice(["{0}", "np.sin({0})", "{0} * {0}"])
        terms.append(form.format(name))
    return " + ".join(terms)


# -- families ----------------------------------------------------------------------------


def _header(name: str, params: Sequence[str]) -> str:
    return f"def {name}({', '.join(params)}):"


def _straight(rng: random.Random) -> Tuple[List[Tuple[str, str]], Dict[str, Shape], Dict]:
    choices = {"x": (), "y": (), "v": (3,), "w": (3,), "A": (2, 3)}
    params = sorted(rng.sample(sorted(choices), rng.randint(1, 3)),
                    key=lambda n: "xyvwA".index(n))
    env = {p: choices[p] for p in params}
    names = Names(rng, params)
    fresh = set()
    body: List[Tuple[str, str]] = []
    for _ in range(rng.randint(1, 7)):
        form = rng.choice(["new", "new", "new", "augment", "rebind", "tuple"])
        if form == "augment" and fresh:
            target = rng.choice(sorted(fresh))
            text, shape = expression(rng, env, 2, want=env[target], rich=True)
            op = rng.choice(["+=", "-=", "*="])
            body.append((f"{target} {op} {text}", f"augment {op}"))
            continue
        if form == "tuple":
            first, second = names.fresh(), names.fresh()
            t1, s1 = expression(rng, env, rich=True)
            t2, s2 = expression(rng, env, rich=True)
            if t1 in env or t2 in env:
                continue
            body.append((f"{first}, {second} = {t1}, {t2}", "tuple assignment"))
            env[first], env[second] = s1, s2
            fresh.update({first, second})
            continue
        text, shape = expression(rng, env, rng.randint(1, 3), rich=True)
        target = rng.choice(params) if form == "rebind" else names.fresh()
        body.append((f"{target} = {text}", "rebind parameter" if form == "rebind" else "assign"))
        env[target] = shape
        if text not in env and not any(r in text for r in ("[", ".T", "reshape", "ravel",
                                                            "transpose", "diagonal", "flip",
                                                            "atleast_2d", "squeeze")):
            fresh.add(target)
        else:
            fresh.discard(target)
    used = rng.sample(sorted(env), min(len(env), rng.randint(1, 3)))
    last = body[-1][0].split(" ")[0].rstrip(",") if body else params[0]
    if last in env and last not in used:
        used.append(last)
    lines = [("import math", ""), ("import numpy as np", ""), (_header("f", params), "")]
    lines += [("    " + t, k) for t, k in body]
    lines.append(("    return " + scalar_result(rng, env, used), ""))
    return lines, {p: choices[p] for p in params}, {}


# views of one local copy


def _view_steps(shape: Shape) -> List[Tuple[str, Shape, str]]:
    """(template, shape, kind) of one step that returns a writable view."""
    out: List[Tuple[str, Shape, str]] = []
    if len(shape) == 1:
        n = shape[0]
        out += [("{0}[::-1]", shape, "[::-1]"), ("{0}[:]", shape, "[:]"),
                ("{0}.reshape(1, {n})", (1, n), "reshape"), ("{0}[None]", (1, n), "[None]"),
                ("{0}[:, None]", (n, 1), "[:, None]"),
                ("np.expand_dims({0}, 0)", (1, n), "expand_dims"),
                ("np.asarray({0})", shape, "asarray"), ("{0}.T", shape, ".T"),
                ("{0}.ravel()", shape, "ravel"), ("{0}.reshape(-1)", shape, "reshape")]
        if n >= 2:
            out += [("{0}[1:]", (n - 1,), "[1:]"), ("{0}[:-1]", (n - 1,), "[:-1]"),
                    ("{0}[::2]", ((n + 1) // 2,), "[::2]")]
        if n % 2 == 0 and n >= 4:
            out += [("{0}.reshape(2, {h})", (2, n // 2), "reshape")]
    elif len(shape) == 2:
        r, c = shape
        out += [("{0}[0]", (c,), "row"), ("{0}[:, 0]", (r,), "column"),
                ("{0}.T", (c, r), ".T"), ("np.transpose({0})", (c, r), "transpose"),
                ("{0}[:, ::-1]", shape, "[:, ::-1]"), ("{0}[None]", (1, r, c), "[None]"),
                ("{0}.reshape(-1)", (r * c,), "reshape"), ("{0}.ravel()", (r * c,), "ravel")]
        if r >= 2:
            out += [("{0}[1:]", (r - 1, c), "[1:]"), ("{0}[-1]", (c,), "row")]
        if 1 in shape:
            squeezed = tuple(d for d in shape if d != 1)
            out += [("np.squeeze({0})", squeezed, "squeeze")]
    elif len(shape) == 3:
        out += [("{0}[0]", shape[1:], "[0]")]
        if 1 in shape:
            out += [("np.squeeze({0})", tuple(d for d in shape if d != 1), "squeeze")]
    return out


def _copy_steps(shape: Shape, rng: random.Random) -> List[Tuple[str, Shape, str]]:
    size = int(np.prod(shape))
    out = [("{0}.copy()", shape, "copy()"), ("np.copy({0})", shape, "np.copy"),
           ("{0} * 1.0", shape, "* 1.0"), ("{0} + 0.0", shape, "+ 0.0"),
           ("{0}.flatten()", (size,), "flatten"), ("np.array({0})", shape, "np.array"),
           ("{0}.astype(np.float64)", shape, "astype")]
    if len(shape) >= 1 and shape[0] >= 2:
        mask = [rng.random() < 0.6 for _ in range(shape[0])]
        mask[0] = True
        out.append((f"{{0}}[np.array({mask})]", (sum(mask),) + shape[1:], "[mask]"))
        out.append((f"{{0}}[np.array([{shape[0] - 1}, 0])]", (2,) + shape[1:], "[index array]"))
        out.append(("{0}[[0, 1]]", (2,) + shape[1:], "[index list]"))
    return out


def _index(rng: random.Random, shape: Shape) -> str:
    parts = [str(rng.randrange(d)) if rng.random() < 0.8 else str(-1) for d in shape]
    if len(shape) >= 2 and rng.random() < 0.3:
        parts = parts[:1]          # a whole row, written with a scalar (broadcast)
    return ", ".join(parts)


def _element(rng: random.Random, arrays: Dict[str, Shape]) -> str:
    """A scalar read of one element of one of the arrays."""
    name = rng.choice(sorted(arrays))
    shape = arrays[name]
    return f"{name}[{', '.join(str(rng.randrange(d)) for d in shape)}]"


def _views(rng: random.Random):
    base_shape = rng.choice([(4,), (3,), (2, 3)])
    params = ["x", "v"]
    shapes = {"x": (), "v": base_shape}
    names = Names(rng, params + ["c"])
    copy = rng.choice(["v.copy()", "np.copy(v)", "np.array(v)", "v * 1.0", "v + 0.0"])
    body: List[Tuple[str, str]] = [(f"c = {copy}", "copy of the argument")]
    arrays: Dict[str, Shape] = {"c": base_shape}   # every local array name
    writable = {"c"}
    sharing = False
    reads: Dict[str, Shape] = {}
    # a quarter of the programs only copy: a refusal there is a false one
    forms = ["view", "view", "alias", "copy", "write", "write", "write", "whole", "read",
             "readonly", "helper", "loop_write", "branch_view", "rebind_copy", "self_view",
             "out_write", "slice_write"]
    helpers: List[str] = []
    if rng.random() < 0.25:
        forms = ["copy", "copy", "write", "write", "whole", "read", "readonly", "rebind_copy"]
    for _ in range(rng.randint(2, 6)):
        form = rng.choice(forms)
        source = rng.choice(sorted(arrays))
        if form == "view":
            text, shape, kinds = source, arrays[source], []
            for _ in range(rng.choice([1, 2, 2, 3])):
                steps = _view_steps(shape)
                if not steps:
                    break
                old = shape
                template, shape, kind = rng.choice(steps)
                text = template.format(text, n=old[0], h=old[0] // 2)
                kinds.append(kind)
            if not kinds:
                continue
            name = names.fresh()
            body.append((f"{name} = {text}", "view " + " > ".join(kinds)))
            arrays[name], sharing = shape, True
            writable.add(name)
        elif form == "helper":   # a helper hands back a view, or writes into its argument
            h = f"h{len(helpers)}"
            name = names.fresh()
            steps = _view_steps(arrays[source])
            if rng.random() < 0.5 and steps:
                template, shape, kind = rng.choice(steps)
                old = arrays[source]
                view = template.format("a", n=old[0], h=old[0] // 2)
                if rng.random() < 0.3:   # the view inside a tuple
                    helpers += [f"def {h}(a):", f"    return np.sum(a), {view}", ""]
                    body.append((f"_, {name} = {h}({source})",
                                 f"helper returns view {kind} in a tuple"))
                else:
                    helpers += [f"def {h}(a):", f"    return {view}", ""]
                    body.append((f"{name} = {h}({source})", f"helper returns view {kind}"))
            else:
                shape = arrays[source]
                op = rng.choice(["+=", "=", "*="])
                helpers += [f"def {h}(a, s):", f"    a[{_index(rng, shape)}] {op} s",
                            "    return a", ""]
                body.append((f"{name} = {h}({source}, {rng.choice(['np.sin(x)', 'x', '0.5 * x'])})",
                             f"helper writes argument {op}"))
            arrays[name], sharing = shape, True
            writable.add(name)
        elif form == "loop_write":   # element writes in a loop, reading another name
            vectors = sorted(n for n in arrays if len(arrays[n]) == 1)
            targets = [n for n in vectors if n in writable]
            if not targets:
                continue
            target, other = rng.choice(targets), rng.choice(vectors)
            m = min(arrays[target][0], arrays[other][0])
            stmt = rng.choice([f"{target}[i] += x * {other}[i]",
                               f"{target}[i] = np.sin({other}[i]) * x",
                               f"{target}[i] *= np.cos(x * {other}[i])"])
            body += [(f"for i in range({m}):", ""), (f"    {stmt}", "element write in a loop")]
        elif form == "branch_view":  # a different view in each branch
            vectors = sorted(n for n in arrays if len(arrays[n]) == 1 and arrays[n][0] >= 2)
            if not vectors:
                continue
            src = rng.choice(vectors)
            name = names.fresh()
            body += [("if x > 0:", ""), (f"    {name} = {src}[1:]", "view per branch"),
                     ("else:", ""), (f"    {name} = {src}[:-1]", "view per branch")]
            arrays[name], sharing = (arrays[src][0] - 1,), True
            writable.add(name)
        elif form == "rebind_copy":  # a view, then the name rebound to a new array
            steps = _view_steps(arrays[source])
            if not steps:
                continue
            template, shape, kind = rng.choice(steps)
            old = arrays[source]
            name = names.fresh()
            body += [(f"{name} = {template.format(source, n=old[0], h=old[0] // 2)}", ""),
                     (f"{name} = {name} * {rng.choice(['2.0', 'x'])}", "view rebound to a copy")]
            arrays[name] = shape
            writable.add(name)
        elif form == "self_view":    # the name of an array rebound to a view of it
            if len(arrays[source]) != 1:
                continue
            body.append((f"{source} = {source}[::-1]", "name rebound to its own view"))
            sharing = True
        elif form == "slice_write":  # a slice written from an overlapping slice
            targets = sorted(n for n in writable if len(arrays[n]) == 1 and arrays[n][0] >= 2)
            if not targets:
                continue
            t = rng.choice(targets)
            stmt = rng.choice([f"{t}[1:] = {t}[:-1] * x", f"{t}[:-1] += {t}[1:] * 0.5",
                               f"{t}[::-1] += {t} * x", f"{t}[1:] *= {t}[:-1]"])
            body.append((stmt, "overlapping slice write"))
        elif form == "out_write":    # ufuncs writing through out=
            target = rng.choice(sorted(writable))
            call = rng.choice([f"np.multiply({target}, np.cos(x), out={target})",
                               f"np.add({target}, x, out={target})",
                               f"np.sin({target}, out={target})"])
            body.append((f"{target} = {call}", "out="))
        elif form == "alias":
            name = names.fresh()
            body.append((f"{name} = {source}", "alias t = c"))
            arrays[name], sharing = arrays[source], True
            writable.add(name)
        elif form == "copy":
            template, shape, kind = rng.choice(_copy_steps(arrays[source], rng))
            name = names.fresh()
            body.append((f"{name} = {template.format(source)}", "copy " + kind))
            arrays[name] = shape
            writable.add(name)
        elif form in ("write", "whole"):
            target = rng.choice(sorted(writable))
            other = _element(rng, arrays)
            value = rng.choice(["np.sin(x)", f"x * {other}", f"{other} ** 2",
                                "np.tanh(x) * 0.5", f"np.cos(x) + {other}", "x",
                                f"{other}"])
            factor = rng.choice(["0.5 * np.tanh(x)", "np.cos(x)", "x", "0.5"])
            if form == "whole":
                op = rng.choice(["*=", "+=", "-="])
                body.append((f"{target} {op} {factor if op == '*=' else value}",
                             f"whole {op}"))
            else:
                op = rng.choice(["=", "=", "+=", "-=", "*="])
                body.append((f"{target}[{_index(rng, arrays[target])}] {op} "
                             f"{factor if op == '*=' else value}", f"element {op}"))
        elif form == "read":
            name = names.fresh()
            text, shape = expression(rng, {source: arrays[source], "x": ()}, 1)
            if shape == () or text == source:
                text, shape = f"np.sin({source}) * x", arrays[source]
            if text.startswith((source, "np.transpose(")):   # c[::-1], c.T: a view
                body.append((f"{name} = {text}", "view (read)"))
                arrays[name], sharing = shape, True
                writable.add(name)
            else:
                body.append((f"{name} = {text}", "read"))
                reads[name] = shape
        else:  # read-only views, only read
            shape = arrays[source]
            if len(shape) == 2 and shape[0] == shape[1] or len(shape) == 2 and \
                    rng.random() < 0.5:
                text = f"np.sum({source}.diagonal()) * x"
            else:
                text = f"np.sum(np.broadcast_to({source}, (2,) + {source}.shape)) * x"
            name = names.fresh()
            body.append((f"{name} = {text}", "read-only view"))
            reads[name] = ()
    env = dict(arrays, **reads)
    used = ["c"] + rng.sample(sorted(set(env) - {"c"}), min(len(env) - 1, rng.randint(0, 2)))
    if rng.random() < 0.3:     # the argument itself: its tangent must not have changed
        env["v"] = base_shape
        used.append("v")
    lines = [("import math", ""), ("import numpy as np", "")] + [(t, "") for t in helpers] + \
        [(_header("f", params), "")]
    lines += [("    " + t, k) for t, k in body]
    lines.append(("    return " + scalar_result(rng, env, used), ""))
    return lines, shapes, {"copies_only": not sharing}


# names rebound across ranks


def _ranks(rng: random.Random):
    params = ["x", "v", "k"]
    shapes = {"x": (), "v": (3,)}
    helpers: List[str] = []
    body: List[Tuple[str, str]] = []
    results: Dict[str, Shape] = {}
    blocks = rng.sample(["float_then_array", "branch_flag", "branch_value", "helper_none",
                         "helper_none_ones", "accumulator", "array_then_scalar",
                         "param_rebound", "loop_rank", "zero_d", "same_name_calls"],
                        rng.randint(1, 3))
    for i, block in enumerate(blocks):
        a = f"a{i}"
        if block == "float_then_array":
            first = rng.choice(["x", "x * 2.0", "np.sin(x)", "0.5"])
            second = rng.choice([f"{a} * v + x", f"{a} + v", f"v * {a}", f"np.sin({a} * v)"])
            body += [(f"    {a} = {first}", "float"), (f"    {a} = {second}", "float -> array")]
            results[a] = (3,)
        elif block == "branch_flag":
            then, other = rng.choice([("v * x", "x * 2.0"), ("np.sin(v) + x", "np.cos(x)"),
                                      ("x", "v * x")])
            cond = rng.choice(["k > 1", "k % 2 == 0", "k == 0"])
            body += [(f"    if {cond}:", ""), (f"        {a} = {then}", "branch array/number"),
                     ("    else:", ""), (f"        {a} = {other}", "branch array/number")]
            if rng.random() < 0.5:
                body.append((f"    {a} = {a} * x + 1.0", "after branch"))
            results[a] = (3,)
        elif block == "branch_value":
            body += [("    if x > 0:", ""), (f"        {a} = v * x", "value branch array/number"),
                     ("    else:", ""), (f"        {a} = x ** 2", "value branch array/number")]
            results[a] = (3,)
        elif block in ("helper_none", "helper_none_ones"):
            h = f"h{i}"
            if block == "helper_none":
                helpers += [f"def {h}(a, w=None):", "    if w is None:", "        w = a",
                            "    w = w * np.array([0.5, 1.0, 1.5])",
                            "    return np.sum(np.sin(w))", ""]
            else:
                helpers += [f"def {h}(a, w=None):", "    if w is None:",
                            "        w = np.ones(3)", "    return a * w", ""]
            call = rng.choice([f"{h}(x)", f"{h}(x, v)", f"{h}(v)", f"{h}(x, w=v)",
                               f"{h}(np.sin(x))", f"{h}(x * 1.5)"])
            body.append((f"    {a} = {call}", f"helper w=None {call.split('(', 1)[1][:-1]}"))
            results[a] = (3,)
        elif block == "accumulator":
            body += [(f"    {a} = 0.0", "accumulator"),
                     ("    for i in range(2):", ""),
                     (f"        {a} = {a} + v * x", "accumulator becomes array")]
            results[a] = (3,)
        elif block == "array_then_scalar":
            body += [(f"    {a} = v * x", "array"), (f"    {a} = np.sum({a})", "array -> scalar"),
                     (f"    {a} = {a} * 2.0", "scalar after")]
            results[a] = ()
        elif block == "param_rebound":
            body += [(f"    {a} = x", ""), ("    x = x * v", "float parameter -> array"),
                     (f"    {a} = {a} + np.sum(x)", "")]
            results[a] = ()
        elif block == "zero_d":
            first = rng.choice(["np.array(x) * 2.0", "np.asarray(x) + 1.0", "x * np.ones(())",
                                "np.sum(v * x, keepdims=False)", "np.float64(x) * 0.5"])
            body += [(f"    {a} = {first}", "0-d array or np.float64"),
                     (f"    {a} = {a} * v + {a}", "0-d -> array")]
            results[a] = (3,)
        elif block == "same_name_calls":
            h = f"h{i}"
            helpers += [f"def {h}(a):", "    return np.sin(a) * 2.0", ""]
            body += [(f"    {a} = {h}(x)", "same name, scalar then array call"),
                     (f"    {a} = {h}(v) * {a}", "same name, scalar then array call")]
            results[a] = (3,)
        else:
            body += [(f"    {a} = x", "loop rank"), ("    for i in range(2):", ""),
                     (f"        {a} = np.tanh({a}) * v", "loop rank change")]
            results[a] = (3,)
    # rank-changing names are read through np.sum, which takes both ranks
    used = list(results)
    ret = " + ".join(f"np.sum({n})" if rng.random() < 0.7 else f"np.sum(np.sin({n}))"
                     for n in used)
    lines = [("import math", ""), ("import numpy as np", "")] + [(t, "") for t in helpers]
    lines += [(_header("f", params), "")] + body + [(f"    return {ret}", "")]
    return lines, shapes, {}


# helpers with different argument kinds


def _poly(rng: random.Random, params: Sequence[str], depth: int = 2) -> str:
    """A smooth elementwise expression over params: any shapes that broadcast."""
    text, _ = expression(rng, {p: () for p in params}, depth)
    if not re.search(rf"\b{params[0]}\b", text):
        text = f"{params[0]} * ({text})"
    return text


def _helpers(rng: random.Random):
    params = ["x", "v"]
    shapes = {"x": (), "v": (3,)}
    defs = []
    # (name, params, defaults count, returns tuple)
    specs = []
    for i in range(rng.randint(1, 3)):
        name = f"g{i}"
        kind = rng.choice(["default", "tuple", "none", "two", "calls"])
        if kind == "calls" and not specs:
            kind = "default"
        if kind == "default":
            defs += [f"def {name}(a, b=1.5):", f"    return {_poly(rng, ['a', 'b'])}"]
            specs.append((name, ["a", "b"], 1, False))
        elif kind == "tuple":
            defs += [f"def {name}(a, b, c=0.5):", f"    t = {_poly(rng, ['a', 'b'])}",
                     "    return t, np.sum(t) * c"]
            specs.append((name, ["a", "b", "c"], 1, True))
        elif kind == "none":
            defs += [f"def {name}(a, w=None):", "    if w is None:", "        w = 2.0",
                     f"    return {_poly(rng, ['a', 'w'])}"]
            specs.append((name, ["a", "w"], 1, False))
        elif kind == "two":
            defs += [f"def {name}(a, b):", f"    return {_poly(rng, ['a', 'b'], 1)}, a * b"]
            specs.append((name, ["a", "b"], 0, True))
        else:
            callee, cparams, _, ctuple = rng.choice(specs)
            inner = f"{callee}({', '.join(['a'] + ['b'] * (len(cparams) >= 3))})"
            if ctuple:
                defs += [f"def {name}(a, b=0.5):", f"    s, _ = {inner}",
                         "    return s * b + a"]
            else:
                defs += [f"def {name}(a, b=0.5):", f"    return {inner} * b + a"]
            specs.append((name, ["a", "b"], 1, False))
        defs.append("")
    env: Dict[str, Shape] = dict(shapes)
    names = Names(rng, params)
    body: List[Tuple[str, str]] = []
    for _ in range(rng.randint(1, 5)):
        name, hparams, ndefaults, returns_tuple = rng.choice(specs)
        required = len(hparams) - ndefaults
        count = rng.randint(required, len(hparams))
        arg_names = hparams[:count]
        values = []
        for _ in arg_names:
            values.append(rng.choice(sorted(env) + ["2.0 * x", "np.sin(v)", "0.5"]))
        style = rng.choice(["positional", "positional", "keyword", "mixed", "reversed"])
        if style == "positional":
            args = values
        elif style == "keyword":
            args = [f"{p}={val}" for p, val in zip(arg_names, values)]
        elif style == "reversed":
            args = [f"{p}={val}" for p, val in reversed(list(zip(arg_names, values)))]
        else:
            args = values[:1] + [f"{p}={val}" for p, val in zip(arg_names[1:], values[1:])]
        kind = f"call {style}" + (" defaults omitted" if count < len(hparams) else "")
        shape: Optional[Shape] = ()
        for val in values:
            s = env.get(val, (3,) if "v" in val else ())
            shape = broadcast(shape, s) if shape is not None else None
        if shape is None:
            continue
        call = f"{name}({', '.join(args)})"
        if returns_tuple:
            if rng.random() < 0.9:   # g(...)[0] is refused today: rarely
                p, q = names.fresh(), names.fresh()
                body.append((f"    {p}, {q} = {call}", kind + " tuple unpacked"))
                env[p] = shape
                env[q] = () if "c" in hparams else shape
            else:
                p = names.fresh()
                body.append((f"    {p} = {call}[{rng.choice([0, 1])}]", kind + " tuple indexed"))
                env[p] = shape
        else:
            p = names.fresh()
            if rng.random() < 0.2 and shape == ():
                body.append((f"    {p} = {name}({name}(x), v)", "nested call"))
                env[p] = (3,)
            else:
                body.append((f"    {p} = {call}", kind))
                env[p] = shape
    if rng.random() < 0.5:  # the same helper with a scalar and then an array
        name, hparams, ndefaults, returns_tuple = rng.choice(specs)
        extra = ["0.5"] * (len(hparams) - ndefaults - 1)
        p, q = names.fresh(), names.fresh()
        left = (lambda t: f"{t}, _") if returns_tuple else (lambda t: t)
        body += [(f"    {left(p)} = {name}({', '.join(['x'] + extra)})", "scalar then array"),
                 (f"    {left(q)} = {name}({', '.join(['v'] + extra)})", "scalar then array")]
        env[p], env[q] = (), (3,)
    local = [n for n in env if n not in params]
    used = rng.sample(local, min(len(local), 3)) if local else ["x"]
    lines = [("import math", ""), ("import numpy as np", "")] + [(t, "") for t in defs]
    lines += [(_header("f", params), "")] + body
    lines.append(("    return " + scalar_result(rng, env, used), ""))
    return lines, shapes, {}


# element recurrences


def _recurrences(rng: random.Random):
    n = rng.choice([3, 4, 5])
    params = ["x", "v", "a"]
    shapes = {"x": (), "v": (n,), "a": (4,)}
    init = rng.choice(["np.zeros(n)", "v.copy()", "np.ones_like(v) * x", "np.zeros_like(v)",
                       "v * 1.0"])
    body: List[Tuple[str, str]] = [("    n = v.shape[0]" if rng.random() < 0.5 else
                                    "    n = len(v)", ""), (f"    c = {init}", "init")]
    if rng.random() < 0.7:
        body.append((f"    c[0] = {rng.choice(['x', 'np.sin(x)', 'x * v[0]', 'c[0] + x'])}",
                     "c[0] ="))
    extra = ""
    for block in rng.sample(["first", "nested", "idx", "reduce", "backward", "while",
                             "two_d", "first", "slices", "view_loop"], rng.randint(1, 3)):
        coef = rng.choice(["np.cos(x)", "0.5 * np.tanh(x)", "x", "0.7", "np.sin(x) * 0.5"])
        if block == "first":
            stmt = rng.choice([f"c[i] = c[i - 1] * {coef} + v[i]",
                               "c[i] = np.sin(c[i - 1]) + x * v[i]",
                               f"c[i] += {coef} * c[i - 1]",
                               "c[i] = c[i - 1] * c[i - 1] * 0.3 + x",
                               f"c[i] = c[i] * {coef} + c[i - 1] * v[i - 1]"])
            body += [("    for i in range(1, n):", ""), (f"        {stmt}", "recurrence c[i-1]")]
        elif block == "nested":
            op = rng.choice(["*=", "+="])
            rhs = f"0.5 * np.tanh(x) + 0.3" if op == "*=" else f"{coef} * v[j]"
            body += [("    for i in range(n - 1):", ""), ("        for j in range(2):", ""),
                     (f"            c[i + j] {op} {rhs}", f"nested c[i + j] {op}")]
        elif block == "idx":
            body += [("    idx = np.array([0, 2, 1, 2])", ""),
                     ("    for i in range(4):", ""),
                     (f"        c[idx[i]] += a[i] * {rng.choice(['x', '1.0', 'np.cos(x)'])}",
                      "c[idx[i]] += a[i]")]
        elif block == "slices":
            stmt = rng.choice(["c[i:i + 2] += 0.5 * x * v[i]",
                               "c[i + 1] = np.sum(c[i:i + 2]) * 0.5 + x",
                               "c[i:i + 2] = c[i:i + 2] * np.cos(x)",
                               "c[i + 1:] += c[i] * x"])
            body += [("    for i in range(n - 1):", ""), (f"        {stmt}", "slices in a loop")]
        elif block == "view_loop":
            body += [("    d = c[1:]", ""), ("    for i in range(n - 1):", ""),
                     (f"        d[i] = d[i] * {coef} + c[i]", "write through a view in a loop")]
        elif block == "reduce":
            body += [("    s = 0.0", ""), ("    for i in range(n):", ""),
                     ("        s = s + c[i] * v[i]", "reduce loop")]
            extra = " + s"
        elif block == "backward":
            body += [("    for i in range(n - 2, -1, -1):", ""),
                     (f"        c[i] = c[i] + {coef} * c[i + 1]", "backward c[i+1]")]
        elif block == "while":
            body += [("    i = 1", ""), ("    while i < n:", ""),
                     (f"        c[i] = c[i] * {coef} + c[i - 1]", "while c[i-1]"),
                     ("        i += 1", "")]
        else:
            body += [("    C = np.zeros((2, n))", ""), ("    for i in range(2):", ""),
                     ("        for j in range(n):", ""),
                     ("            C[i, j] = v[j] * x + (C[i - 1, j] * 0.5 if i > 0 else 0.0)",
                      "2-d C[i-1, j]"),
                     ("    c = c + C[1]", "")]
    lines = [("import math", ""), ("import numpy as np", ""), (_header("f", params), "")] + body
    lines.append((f"    return np.sum(c * c) + np.sum(np.sin(c)){extra}", ""))
    return lines, shapes, {}


# scalar loops and branches


def _scalar_loops(rng: random.Random):
    params = ["x", "y", "v", "k"]
    shapes = {"x": (), "y": (), "v": (3,)}
    body: List[Tuple[str, str]] = [("    s = " + rng.choice(["0.0", "x", "y * 0.5"]), "")]
    K = rng.randint(1, 4)
    for block in rng.sample(["for", "for_if", "while", "value_if", "iterate", "flag",
                             "break", "continue", "early", "math"], rng.randint(1, 3)):
        if block == "for":
            body += [(f"    for i in range({K}):", ""),
                     (f"        s = s * 0.5 + np.sin(x + 0.3 * i)", "for")]
        elif block == "for_if":
            body += [(f"    for i in range({K}):", ""), ("        if i % 2 == 0:", ""),
                     ("            s = s + x * y", "for if"), ("        else:", ""),
                     ("            s = s - 0.5 * np.cos(y)", "for if")]
        elif block == "while":
            body += [("    j = 0", ""), (f"    while j < {K}:", ""),
                     ("        y = 0.9 * y + 0.1 * np.cos(x)", "while"), ("        j += 1", "")]
        elif block == "value_if":
            body += [("    if x > 0:", ""), ("        s = s + x * y", "value if"),
                     ("    else:", ""), ("        s = s + np.sin(y) - x", "value if")]
        elif block == "iterate":
            body += [("    for t in v:", ""), ("        s = s + t * x", "for t in v")]
        elif block == "flag":
            body += [("    for i in range(k):", ""), ("        s = s + np.tanh(s) * y", "range(k)")]
        elif block == "break":
            body += [("    for i in range(5):", ""), (f"        if i == {K}:", ""),
                     ("            break", "break"), ("        s = s + x * i", "break")]
        elif block == "continue":
            body += [("    for i in range(4):", ""), ("        if i % 2 == 1:", ""),
                     ("            continue", "continue"), ("        s = s * y + x", "continue")]
        elif block == "math":
            body += [("    s = s + math.hypot(x, y) + math.exp(math.sin(y))", "math"),
                     ("    s = s + x * math.hypot(0.0 * k, 0.0)", "math.hypot at 0")]
        else:
            body += [("    if k > 2:", ""), ("        return s * x + y", "early return")]
    lines = [("import math", ""), ("import numpy as np", ""), (_header("f", params), "")] + body
    lines.append(("    return s + y * x", ""))
    return lines, shapes, {}


# loops over whole vectors


def _vector_loops(rng: random.Random):
    params = ["x", "v", "w", "A"]
    shapes = {"x": (), "v": (3,), "w": (3,), "A": (2, 3)}
    init = rng.choice(["v.copy()", "v * x", "np.zeros_like(v)", "np.array(v)", "v + w"])
    body: List[Tuple[str, str]] = [(f"    u = {init}", ""), ("    acc = 0.0", "")]
    K = rng.randint(1, 3)
    blocks = ["rebind", "augment", "index_var", "overlap", "dot", "while", "rows", "branch",
              "scale_row", "shift"] + (["append"] if rng.random() < 0.3 else [])
    for block in rng.sample(blocks, rng.randint(1, 3)):
        if block == "rebind":
            body += [(f"    for i in range({K}):", ""),
                     ("        u = np.tanh(u) * x + v", "vector rebind in loop")]
        elif block == "augment":
            op = rng.choice(["+=", "*=", "-="])
            rhs = "np.cos(w * x)" if op == "*=" else "np.sin(w) * x"
            body += [(f"    for i in range({K}):", ""),
                     (f"        u {op} {rhs}", f"u {op} in loop")]
        elif block == "index_var":
            body += [("    for i in range(3):", ""),
                     ("        u = u * 0.9 + w[i] * x", "w[i] in loop")]
        elif block == "overlap":
            body += [(f"    for i in range({K}):", ""),
                     ("        u[1:] += u[:-1] * 0.5 * x", "u[1:] += u[:-1] in loop")]
        elif block == "shift":
            stmt = rng.choice(["u[1:] = u[:-1] * x", "u = u[::-1] * x", "u[:-1] = u[1:] + v[0]"])
            body += [(f"    for i in range({K}):", ""), (f"        {stmt}", "shift in a loop")]
        elif block == "dot":
            body += [(f"    for i in range({K}):", ""),
                     ("        acc = acc + np.dot(u, w) * x", "dot accumulate"),
                     ("        u = u * 0.5", "")]
        elif block == "while":
            body += [("    j = 0", ""), (f"    while j < {K}:", ""),
                     ("        u = u - 0.1 * (u - v) * x", "vector while"), ("        j += 1", "")]
        elif block == "rows":
            body += [("    for row in A:", ""), ("        acc = acc + np.sum(row * u) * x",
                                                  "for row in A")]
        elif block == "branch":
            body += [(f"    for i in range({K + 1}):", ""), ("        if i % 2 == 0:", ""),
                     ("            u = u * x", "vector branch in loop"), ("        else:", ""),
                     ("            u = u + np.sin(v)", "vector branch in loop")]
        elif block == "append":
            body += [("    parts = []", ""), (f"    for i in range({K}):", ""),
                     ("        parts.append(u * (i + 1.0))", "list append"),
                     ("    u = np.sum(np.stack(parts), axis=0)", "stack of list")]
        else:
            body += [("    B = A.copy()", ""), ("    for i in range(2):", ""),
                     ("        B[i] = B[i] * x + u", "row write in loop"),
                     ("    acc = acc + np.sum(B * B)", "")]
    lines = [("import math", ""), ("import numpy as np", ""), (_header("f", params), "")] + body
    lines.append(("    return np.sum(u * u) + np.sum(np.sin(u)) + acc", ""))
    return lines, shapes, {}


GENERATORS = {"straight": _straight, "views": _views, "ranks": _ranks,
              "helpers": _helpers, "recurrences": _recurrences, "scalar_loops": _scalar_loops,
              "vector_loops": _vector_loops}


def generate(family: str, seed: int, index: int) -> Program:
    """Program `index` of `family` under `seed`: the same program every time."""
    rng = random.Random(f"{seed}:{family}:{index}")
    lines, shapes, extra = GENERATORS[family](rng)
    header = next(t for t, _ in lines if t.startswith("def f("))
    params = header[len("def f("):-2].split(", ")
    args = []
    for p in params:
        if p in shapes:
            args.append(_value(rng, shapes[p]))
        else:
            args.append(rng.randint(0, 3))        # an integer flag or count
    wrt = tuple(i for i, p in enumerate(params) if p in shapes)
    if len(wrt) > 1 and rng.random() < 0.3:
        wrt = (rng.choice(wrt),)
    optimize = rng.random() < 0.7
    if family == "straight" and rng.random() < 0.15:   # float32 arrays: float32 gradients
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args]
    if family == "ranks" and rng.random() < 0.2:       # 0-d arrays for the numbers
        args = [np.array(a) if isinstance(a, float) else a for a in args]
    return Program(family, seed, index, lines, params, args, wrt,
                   optimize=optimize, copies_only=extra.get("copies_only", False))


# -- compiling --------------------------------------------------------------------------

_COUNTER = [0]


def compile_program(program: Program) -> types.ModuleType:
    """The program as a module whose source inspect.getsource can read."""
    _COUNTER[0] += 1
    filename = f"<random-program {program.family} {program.seed} {program.index} " \
               f"#{_COUNTER[0]}>"
    text = program.source
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    module = types.ModuleType(f"random_program_{_COUNTER[0]}")
    module.__file__ = filename
    exec(compile(text, filename, "exec"), module.__dict__)
    return module


def forget(module: types.ModuleType) -> None:
    linecache.cache.pop(module.__file__, None)


# -- checking ---------------------------------------------------------------------------


class Rejected(Exception):
    """The program is not a fair test: it fails, leaves the bound, or sits on a kink."""


@dataclass
class Failure:
    check: str
    kind: str           # "wrong", "crash"
    detail: str
    key: str = ""       # the exception's type and normalized message, for crashes


@dataclass
class Outcome:
    status: str                     # accepted, refused, wrong, crash, rejected
    failures: List[Failure] = field(default_factory=list)
    refusals: Dict[str, str] = field(default_factory=dict)   # check -> message head

    @property
    def checks(self) -> Tuple[str, ...]:
        return tuple(sorted({f.check for f in self.failures}))


def _fresh(args: Sequence[Any]) -> List[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _call_value(f, args) -> float:
    with np.errstate(all="raise"):
        value = f(*_fresh(args))
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if not isinstance(value, (float, int, np.floating, np.integer)) or \
            isinstance(value, (bool, np.bool_)):
        raise Rejected(f"f returns {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or abs(value) > BOUND:
        raise Rejected("out of bound")
    return value


def _differences(fn, args, k, h) -> Any:
    """4-point central differences of fn (scalar, or a tuple of arrays) in argument k."""
    x = args[k]

    def at(value):
        probe = _fresh(args)
        probe[k] = value
        return fn(probe)

    def derivative(shift):
        p1, m1, p2, m2 = at(shift(h)), at(shift(-h)), at(shift(2 * h)), at(shift(-2 * h))
        return _combine(p1, m1, p2, m2, h)

    if not isinstance(x, np.ndarray):
        return derivative(lambda s: type(x)(x + s))
    columns = []
    for i in np.ndindex(x.shape):
        def shift(s, i=i):
            probe = x.copy()
            probe[i] += s
            return probe
        columns.append(derivative(shift))
    return columns


def _combine(p1, m1, p2, m2, h):
    if isinstance(p1, tuple):
        return tuple(_combine(a, b, c, d, h) for a, b, c, d in zip(p1, m1, p2, m2))
    return (8 * (np.asarray(p1, float) - np.asarray(m1, float))
            - (np.asarray(p2, float) - np.asarray(m2, float))) / (12 * h)


def _oracle_gradient(f, args, k) -> Tuple[Any, float]:
    """Central differences of f in argument k, shaped like it, and their error estimate."""
    def value(probe):
        with np.errstate(all="raise"):
            try:
                return _call_value(f, probe)
            except (FloatingPointError, ZeroDivisionError, OverflowError):
                raise Rejected("floating point error near the point")

    coarse = _differences(value, args, k, 1e-3)
    fine = _differences(value, args, k, 5e-4)
    shape = np.shape(args[k])
    coarse, fine = np.reshape(np.array(coarse, float), shape), \
        np.reshape(np.array(fine, float), shape)
    error = float(np.max(np.abs(coarse - fine))) if fine.size else 0.0
    if error > 1e-5 * (1 + float(np.max(np.abs(fine)))):
        raise Rejected("differences disagree (kink or conditioning)")
    return fine, error


def _close(got, expected, error, rtol=1e-5, atol=1e-6) -> bool:
    got = np.asarray(got, float)
    expected = np.asarray(expected, float)
    if got.shape != expected.shape:
        return False
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= atol + 10 * error + rtol * np.abs(expected)))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300]


def _normalized(exc: BaseException) -> str:
    """The exception's type and message with numbers, shapes and names blurred."""
    text = _short(exc)
    text = re.sub(r"<random-program[^>]*>", "<file>", text)
    text = re.sub(r"\(\d+(, ?\d*)*\)", "(shape)", text)
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    return text[:160]


def _where(exc: BaseException) -> str:
    """The innermost frame of the traceback inside s2sad, or the last one."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [fr for fr in frames if f"{os.sep}s2sad{os.sep}" in fr.filename]
    fr = (inside or frames or [None])[-1]
    return f"{os.path.basename(fr.filename)}:{fr.lineno} ({fr.name})" if fr else "?"


def _type_ok(gradient, x) -> bool:
    if isinstance(x, np.ndarray):
        return type(gradient) is np.ndarray and gradient.shape == x.shape and \
            gradient.dtype == x.dtype
    return type(gradient) is type(x)


def check_program(program: Program, timeout: Optional[int] = None) -> Outcome:
    """Run every check on one program (see the module docstring)."""
    try:
        module = compile_program(program)
    except SyntaxError:
        return Outcome("rejected")
    try:
        if timeout:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.alarm(timeout)
        return _check(program, module.f)
    except Rejected:
        return Outcome("rejected")
    except _Timeout:
        return Outcome("crash", [Failure("timeout", "crash", f"more than {timeout} s",
                                         "Timeout")])
    finally:
        if timeout:
            signal.alarm(0)
        forget(module)


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def _check(program: Program, f) -> Outcome:
    args = program.args
    try:
        value = _call_value(f, args)
    except Rejected:
        raise
    except Exception as exc:
        raise Rejected(_short(exc))
    wrt = program.wrt
    single = len(wrt) == 1 and program.index % 2 == 0    # wrt=k or wrt=(k,)
    wrt_arg = wrt[0] if single else wrt
    # float32 arrays: the differences are taken in float64, the tolerances are float32's
    low = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)
    exact = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]
    oracle = {k: _oracle_gradient(f, exact, k) for k in wrt}
    tol = {"rtol": 2e-3, "atol": 2e-3} if low else {}
    value_tol = {"rtol": 1e-5, "atol": 1e-5} if low else {"rtol": 1e-9, "atol": 1e-9}
    opt = program.optimize
    outcome = Outcome("accepted")

    def run(check: str, thunk):
        """thunk() -> None; failures recorded; True if it ran without an exception."""
        passed = _fresh(args)
        try:
            with np.errstate(all="ignore"):
                thunk(passed)
        except s2sad.S2SADError as exc:
            outcome.refusals[check] = _short(exc)
            return False
        except (Rejected, _Timeout):
            raise
        except Exception as exc:
            outcome.failures.append(Failure(check, "crash",
                                            f"{_short(exc)} at {_where(exc)}",
                                            _normalized(exc)))
            return False
        for p, before, after in zip(program.params, args, passed):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                outcome.failures.append(Failure("mutation", "wrong",
                                                f"{check} changed argument {p}"))
        return True

    def wrong(check: str, detail: str):
        outcome.failures.append(Failure(check, "wrong", detail))

    def compare_grads(check: str, grads, at: Sequence[Any] = args):
        grads = (grads,) if single else tuple(grads)
        if len(grads) != len(wrt):
            wrong(check, f"{len(grads)} gradients for {len(wrt)} arguments")
            return False
        ok = True
        for k, g in zip(wrt, grads):
            expected, error = oracle[k]
            if not _type_ok(g, at[k]):
                wrong(check + " type", f"d{program.params[k]}: {type(g).__name__} "
                      f"{np.shape(g)} {getattr(g, 'dtype', '')} for "
                      f"{type(at[k]).__name__} {np.shape(at[k])}")
                ok = False
            if np.shape(g) == np.shape(expected) and not _close(g, expected, error, **tol):
                wrong(check, f"d{program.params[k]} = {_fmt(g)}, differences {_fmt(expected)}")
                ok = False
        return ok

    grad_result: Dict[str, Any] = {}

    def do_grad(passed):
        grad_result["g"] = s2sad.grad(f, wrt=wrt_arg, optimize=opt)(*passed)
    grad_ran = run("grad", do_grad)
    grad_ok = grad_ran and compare_grads("grad", grad_result["g"])

    # one gradient function called again with every float an np.float64 and back: the
    # code compiled for the first call must not be reused wrongly for the second
    swapped = [np.float64(a) if type(a) is float else float(a) if isinstance(a, np.floating)
               else a for a in args]

    def do_reuse(passed):
        gradient = s2sad.grad(f, wrt=wrt_arg, optimize=opt)
        gradient(*passed)
        again = _fresh(swapped)
        compare_grads("reuse", gradient(*again), at=swapped)
        for p, before, after in zip(program.params, swapped, again):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                wrong("mutation", f"reuse changed argument {p}")
    if grad_ran:
        run("reuse", do_reuse)

    def do_value_and_grad(passed):
        v, g = s2sad.value_and_grad(f, wrt=wrt_arg, optimize=opt)(*passed)
        if not _close(v, value, 0.0, **value_tol):
            wrong("value_and_grad value", f"value {_fmt(v)}, f gives {_fmt(value)}")
        compare_grads("value_and_grad", g)
    run("value_and_grad", do_value_and_grad)

    rng = np.random.default_rng(program.index)
    tangents = [float(rng.normal()) if not isinstance(args[k], np.ndarray)
                else rng.normal(size=np.shape(args[k])) for k in wrt]

    def do_jvp(passed):
        v, t = s2sad.jvp(f, wrt=wrt_arg, optimize=opt)(
            *passed, tangents[0] if single else tuple(tangents))
        if not _close(v, value, 0.0, **value_tol):
            wrong("jvp value", f"value {_fmt(v)}, f gives {_fmt(value)}")
        expected = sum(float(np.sum(oracle[k][0] * tk)) for k, tk in zip(wrt, tangents))
        error = sum(oracle[k][1] * float(np.sum(np.abs(tk))) for k, tk in zip(wrt, tangents))
        scale = sum(float(np.sum(np.abs(oracle[k][0] * tk))) for k, tk in zip(wrt, tangents))
        if not _close(t, expected, error, rtol=tol.get("rtol", 1e-5),
                      atol=tol.get("atol", 1e-6) + 1e-5 * scale):
            wrong("jvp", f"tangent {_fmt(t)}, differences {_fmt(expected)}")
    run("jvp", do_jvp)

    # the Hessian, against differences of the reverse gradient (when that is right)
    reference = None
    if grad_ok and not low:
        gradient = s2sad.grad(f, wrt=wrt, optimize=opt)
        try:
            reference = _hessian_reference(gradient, args, wrt)
        except Rejected:
            reference = None
        except s2sad.S2SADError:
            reference = None
        except Exception:
            reference = None   # the gradient itself crashes away from the point
    hessian_result: Dict[str, Any] = {}

    def do_hessian(passed):
        hessian_result["h"] = s2sad.hessian(f, wrt=wrt_arg, optimize=opt)(*passed)
    if run("hessian", do_hessian):
        blocks = hessian_result["h"]
        if single:
            blocks = ((blocks,),)
        _compare_hessian(program, args, wrt, blocks, reference, wrong,
                         symmetry=1e-4 if low else 1e-7)

    scalars = [k for k in wrt if not isinstance(args[k], np.ndarray)]
    if scalars:
        k = scalars[0]
        gg: Dict[str, Any] = {}

        def do_gradgrad(passed):
            gg["v"] = s2sad.grad(s2sad.grad(f, wrt=k, optimize=opt), wrt=k,
                                 optimize=opt)(*passed)
        if run("gradgrad", do_gradgrad) and not _type_ok(gg["v"], args[k]):
            wrong("gradgrad type", f"d2/d{program.params[k]}2 is {type(gg['v']).__name__} "
                  f"{np.shape(gg['v'])} for {type(args[k]).__name__}")
        elif "v" in gg and reference is not None:
            i = wrt.index(k)
            expected, error = reference[i][i]
            if not _close(gg["v"], expected, error, rtol=1e-4, atol=1e-5):
                wrong("gradgrad", f"d2/d{program.params[k]}2 = {_fmt(gg['v'])}, "
                      f"differences of the gradient {_fmt(expected)}")

    if outcome.failures:
        outcome.status = "crash" if any(f.kind == "crash" for f in outcome.failures) \
            else "wrong"
    elif "grad" in outcome.refusals:
        outcome.status = "refused"
    return outcome


def _hessian_reference(gradient, args, wrt):
    """reference[i][j]: differences of gradient i in argument j, and their error."""
    def grads(probe):
        with np.errstate(all="raise"):
            try:
                out = gradient(*probe)
            except (FloatingPointError, ZeroDivisionError, OverflowError):
                raise Rejected("floating point error near the point")
        return tuple(np.asarray(g, float) for g in out)

    reference = [[None] * len(wrt) for _ in wrt]
    for j, k in enumerate(wrt):
        coarse = _differences(grads, args, k, 1e-3)
        fine = _differences(grads, args, k, 5e-4)
        if not isinstance(args[k], np.ndarray):
            coarse, fine = [coarse], [fine]
        for i, ki in enumerate(wrt):
            shape = np.shape(args[ki]) + np.shape(args[k])
            c = np.stack([col[i] for col in coarse], axis=-1).reshape(shape)
            fn = np.stack([col[i] for col in fine], axis=-1).reshape(shape)
            error = float(np.max(np.abs(c - fn))) if fn.size else 0.0
            if error > 1e-4 * (1 + float(np.max(np.abs(fn)))):
                raise Rejected("gradient differences disagree")
            reference[i][j] = (fn, error)
    return reference


def _compare_hessian(program, args, wrt, blocks, reference, wrong, symmetry=1e-7):
    sizes = [int(np.size(args[k])) for k in wrt]
    for i, ki in enumerate(wrt):
        for j, kj in enumerate(wrt):
            block = blocks[i][j]
            shape = np.shape(args[ki]) + np.shape(args[kj])
            if np.shape(block) != shape:
                wrong("hessian shape", f"block d{program.params[ki]} d{program.params[kj]} "
                      f"has shape {np.shape(block)}, expected {shape}")
                return
            mine = np.reshape(np.asarray(block, float), (sizes[i], sizes[j]))
            other = np.reshape(np.asarray(blocks[j][i], float), (sizes[j], sizes[i])).T
            if not np.allclose(mine, other, rtol=symmetry, atol=symmetry / 10):
                wrong("hessian symmetry", f"block d{program.params[ki]} d{program.params[kj]} "
                      f"{_fmt(mine)} vs transposed {_fmt(other)}")
                return
            if reference is not None:
                expected, error = reference[i][j]
                if not _close(block, expected, error, rtol=1e-4, atol=1e-5):
                    wrong("hessian", f"block d{program.params[ki]} d{program.params[kj]} = "
                          f"{_fmt(block)}, differences of the gradient {_fmt(expected)}")
                    return


def _fmt(value) -> str:
    text = np.array2string(np.asarray(value, float), precision=5, separator=", ",
                           suppress_small=True).replace("\n", "")
    return text[:200]


# -- shrinking and grouping ------------------------------------------------------------


def signature(outcome: Outcome) -> Tuple[str, ...]:
    """What a failure looks like: the failing checks, kinds and crash messages."""
    return tuple(sorted({f"{f.check}:{f.kind}:{f.key}" for f in outcome.failures}))


def _units(lines: List[Tuple[str, str]]) -> List[Tuple[int, int]]:
    """(start, end) of each removable statement with its nested block, and of each
    helper definition (every `def` but f's)."""
    def indent(text: str) -> int:
        return len(text) - len(text.lstrip())

    units = []
    for i, (text, _) in enumerate(lines):
        stripped = text.strip()
        if text.startswith("def ") and not text.startswith("def f("):
            end = i + 1
            while end < len(lines) and (lines[end][0].startswith(" ") or not lines[end][0]):
                end += 1
            units.append((i, end))
            continue
        if not text.startswith("    ") or stripped.startswith(("return", "else", "elif")):
            continue
        end = i + 1
        while end < len(lines) and (indent(lines[end][0]) > indent(text) or
                                    lines[end][0].strip().startswith(("else", "elif"))
                                    and indent(lines[end][0]) == indent(text)):
            end += 1
        units.append((i, end))
    return units


def _split_terms(text: str) -> List[str]:
    """The top-level ` + ` terms of an expression."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and text.startswith(" + ", i):
            terms.append(text[start:i])
            start = i + 3
    return terms + [text[start:]]


def _candidates(program: Program):
    """Smaller programs: one term fewer in f's return, or one statement fewer."""
    lines = program.lines
    for i, (text, kind) in enumerate(lines):
        if text.startswith("    return ") and i == len(lines) - 1:
            terms = _split_terms(text[len("    return "):])
            for t in range(len(terms)) if len(terms) > 1 else []:
                rest = terms[:t] + terms[t + 1:]
                yield program.with_lines(lines[:i] + [("    return " + " + ".join(rest), kind)]
                                         + lines[i + 1:])
    for start, end in reversed(_units(lines)):
        yield program.with_lines(lines[:start] + lines[end:])


def shrink(program: Program, outcome: Outcome, budget: int = 60) -> Tuple[Program, Outcome]:
    """Remove return terms and statements while the program fails the same way."""
    target = signature(outcome)
    changed = True
    while changed and budget > 0:
        changed = False
        for candidate in _candidates(program):
            if budget <= 0:
                break
            budget -= 1
            try:
                result = check_program(candidate, timeout=20)
            except Exception:
                continue
            if result.status in ("wrong", "crash") and signature(result) == target:
                program, outcome, changed = candidate, result, True
                break
    return program, outcome


MODES = {"grad": "reverse", "value_and_grad": "reverse", "value_and_grad value": "value",
         "jvp value": "value", "jvp": "forward", "hessian": "hessian",
         "hessian symmetry": "hessian symmetry", "hessian shape": "hessian shape",
         "gradgrad": "grad(grad)", "gradgrad type": "grad(grad) type", "mutation": "mutation",
         "grad type": "type",
         "value_and_grad type": "type", "timeout": "timeout", "reuse": "reuse",
         "reuse type": "reuse type"}
PLAIN_KINDS = {"copy of the argument", "assign", "read", "init", "float", "scalar after",
               "array", "after branch", ""}


def _coarse(kind: str) -> str:
    if kind.startswith(("element ", "whole ")):
        return "write through a name"
    if kind.startswith("view "):
        return "view chain" if " > " in kind else "view"
    if kind.startswith("copy "):
        return "copy"
    if kind.startswith(("call ", "nested call")):
        return "helper call" + (" tuple" if "tuple" in kind else "")
    if kind.startswith("helper w=None"):
        return "helper w=None"
    if kind.startswith("helper returns view"):
        return "helper returns a view"
    return kind


def mechanism(program: Program, outcome: Outcome) -> str:
    """The class a failure is counted in: family, the modes that fail (and crash
    messages), and the coarse kinds of statement the shrunk program still has."""
    fails = sorted({f"{MODES.get(f.check, f.check)} {f.kind}" + (f" [{f.key}]" if f.key else "")
                    for f in outcome.failures})
    kinds = sorted({_coarse(k) for k in program.kinds} - PLAIN_KINDS)
    return f"{program.family} | {'; '.join(fails)} | {', '.join(kinds) or '-'}"


# -- the command line ------------------------------------------------------------------


def _load_state(path: Optional[str]) -> dict:
    if path and os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return {"runs": [], "totals": {}, "classes": {}, "refusals": {}}


def _save_state(path: Optional[str], state: dict) -> None:
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(state, fh, indent=1)
        os.replace(tmp, path)


def record(state: dict, program: Program, outcome: Outcome, shrink_budget: int) -> None:
    totals = state["totals"].setdefault(program.family, {
        "programs": 0, "rejected": 0, "accepted": 0, "refused": 0, "wrong": 0, "crash": 0,
        "refused_copies_only": 0, "later_refusals": 0})
    totals["programs"] += 1
    totals[outcome.status] += 1
    if outcome.status == "refused":
        head = outcome.refusals["grad"].split(": error: ", 1)[-1][:140]
        head = re.sub(r"'[^']*'", "'…'", re.sub(r"\d+", "N", head))
        key = f"{program.family} | {head}"
        entry = state["refusals"].setdefault(key, {"count": 0, "copies_only": 0,
                                                   "example": program.source})
        entry["count"] += 1
        if program.copies_only:
            totals["refused_copies_only"] += 1
            entry["copies_only"] += 1
            if len(program.source) < len(entry.get("copies_example", "x" * 10 ** 6)):
                entry["copies_example"] = program.source
    elif outcome.refusals:
        totals["later_refusals"] += 1
        for check, message in outcome.refusals.items():
            head = message.split(": error: ", 1)[-1][:140]
            head = re.sub(r"'[^']*'", "'…'", re.sub(r"\d+", "N", head))
            entry = state.setdefault("later", {}).setdefault(
                f"{program.family} | {check} | {head}", {"count": 0})
            entry["count"] += 1
            if len(program.source) < len(entry.get("example", "x" * 10 ** 6)):
                entry["example"] = program.source
    if outcome.status not in ("wrong", "crash"):
        return
    key_before = mechanism(program, outcome)
    small, small_outcome = program, outcome
    known = any(c["raw"] == key_before for c in state["classes"].values())
    if shrink_budget and not known:
        small, small_outcome = shrink(program, outcome, shrink_budget)
    key = mechanism(small, small_outcome)
    entry = state["classes"].setdefault(key, {"count": 0, "raw": key_before,
                                              "family": program.family, "programs": []})
    entry["count"] += 1
    entry["last_seen"] = f"{time.strftime('%H:%M UTC', time.gmtime())}, s2sad {_COMMIT[0]}"
    entry.pop("now", None)
    if len(entry["programs"]) < 5:
        entry["programs"].append(f"{program.family}/{program.seed}/{program.index}")
    if "source" not in entry or len(small.source) < len(entry["source"]):
        entry.update(source=small.source, args=_args_text(small), wrt=list(small.wrt),
                     program=to_json(small),
                     optimize=small.optimize,
                     details=[f"{f.check} ({f.kind}): {f.detail}"
                              for f in small_outcome.failures][:6])
    # raw keys seen: later ones skip the shrink when one of the same kind was shrunk
    state["classes"][key]["raw"] = key_before


def to_json(program: Program) -> dict:
    """A program as JSON (the arguments with their exact types)."""
    args = []
    for a in program.args:
        if isinstance(a, np.ndarray):
            args.append({"array": a.tolist(), "dtype": str(a.dtype)})
        elif isinstance(a, np.floating):
            args.append({"float64": float(a)})
        else:
            args.append({type(a).__name__: a})
    return {"family": program.family, "seed": program.seed, "index": program.index,
            "lines": [list(line) for line in program.lines], "params": program.params,
            "args": args, "wrt": list(program.wrt), "optimize": program.optimize,
            "copies_only": program.copies_only}


def from_json(data: dict) -> Program:
    kinds = {"float64": np.float64, "float": float, "int": int}
    args = []
    for a in data["args"]:
        if "array" in a:
            args.append(np.array(a["array"], dtype=a.get("dtype", "float64")))
        else:
            (k, v), = a.items()
            args.append(kinds[k](v))
    return Program(data["family"], data["seed"], data["index"],
                   [tuple(line) for line in data["lines"]], data["params"], args,
                   tuple(data["wrt"]), data["optimize"], data["copies_only"])


def recheck(state: dict) -> None:
    """Run the smallest program of every class again on the current s2sad."""
    for key, entry in state["classes"].items():
        if "program" in entry:
            program = from_json(entry["program"])
        else:   # recorded before programs were kept: the first original one
            family, seed, index = entry["programs"][0].split("/")
            program = generate(family, int(seed), int(index))
        outcome = check_program(program, timeout=30)
        if outcome.status in ("wrong", "crash"):
            modes = " | ".join(mechanism(program, outcome).split(" | ")[:2])
            same = key.startswith(modes + " | ")
            now = "still fails" + ("" if same else f" differently: {mechanism(program, outcome)}")
        elif outcome.status == "refused":
            now = f"now refused ({outcome.refusals['grad'][:160]})"
        else:
            now = f"now {outcome.status}" + (f" (refused: {', '.join(sorted(outcome.refusals))})"
                                             if outcome.refusals else "")
        entry["now"] = f"{now} [rechecked {time.strftime('%H:%M UTC', time.gmtime())}, " \
                       f"s2sad {_commit()}]"


def _args_text(program: Program) -> str:
    parts = []
    for p, a in zip(program.params, program.args):
        if isinstance(a, np.ndarray):
            text = np.array2string(a, separator=", ").replace("\n", "")
            dtype = "" if a.dtype == np.float64 else f", dtype=np.{a.dtype}"
            parts.append(f"{p}=np.array({text}{dtype})")
        elif isinstance(a, np.floating):
            parts.append(f"{p}=np.float64({float(a)!r})")
        else:
            parts.append(f"{p}={a!r}")
    return ", ".join(parts)


def render(state: dict, notes: str = "") -> str:
    lines = ["# Random-program findings (benchmarks/random_programs.py)", "",
             "Living file: updated after each batch. Reproduce a program with",
             "`python -c \"import random_programs as r; p = r.generate(FAMILY, SEED, INDEX); "
             "print(p.source); print(r.check_program(p))\"` from benchmarks/.", ""]
    if notes:
        lines += [notes.rstrip(), ""]
    runs = state["runs"]
    lines.append(f"Batches so far: {len(runs)}; " + "; ".join(
        f"{r['family']} seed {r['seed']} x{r['count']} ({r['when']}, s2sad {r['commit']})"
        for r in runs[-8:]))
    lines += ["", "| family | programs | rejected | accepted | refused (copies only) | "
              "wrong | crash | later check refused |", "|---|---|---|---|---|---|---|---|"]
    total = {}
    for fam in FAMILIES:
        t = state["totals"].get(fam)
        if not t:
            continue
        for key, value in t.items():
            total[key] = total.get(key, 0) + value
        lines.append(f"| {fam} | {t['programs']} | {t['rejected']} | {t['accepted']} | "
                     f"{t['refused']} ({t['refused_copies_only']}) | {t['wrong']} | "
                     f"{t['crash']} | {t['later_refusals']} |")
    if total:
        lines.append(f"| **all** | {total['programs']} | {total['rejected']} | "
                     f"{total['accepted']} | {total['refused']} "
                     f"({total['refused_copies_only']}) | {total['wrong']} | "
                     f"{total['crash']} | {total['later_refusals']} |")
    lines += ["", "Counts are programs; a program with failing checks counts once as wrong "
              "(or crash). 'later check refused': grad accepted, another check refused.", "",
              "## Failure classes (by family, failing checks, crash message, and the kinds of "
              "statement left after shrinking)", ""]
    def fixed(entry: dict) -> bool:
        return entry.get("now", "").startswith("now ")

    classes = sorted(state["classes"].items(),
                     key=lambda kv: (fixed(kv[1]), -kv[1]["count"], kv[0]))
    groups: Dict[str, List[int]] = {}
    counts: Dict[str, int] = {}
    for n, (key, entry) in enumerate(classes, 1):
        head = ("[fixed since] " if fixed(entry) else "") + " | ".join(key.split(" | ")[:2])
        groups.setdefault(head, []).append(n)
        counts[head] = counts.get(head, 0) + entry["count"]
    lines += ["Summary: family | failing modes -> programs (class numbers below); "
              "[fixed since]: its smallest program passes or is refused on recheck", ""]
    for head in sorted(groups, key=lambda h: (h.startswith("[fixed"), -counts[h])):
        lines.append(f"- {head} -> {counts[head]} (classes {', '.join(map(str, groups[head]))})")
    lines.append("")
    for n, (key, entry) in enumerate(classes, 1):
        lines += [f"### {n}. {'[fixed since] ' if fixed(entry) else ''}{key}", "",
                  f"count: {entry['count']}; e.g. {', '.join(entry['programs'])}; "
                  f"optimize={entry.get('optimize')}, wrt={tuple(entry.get('wrt', ()))}; "
                  f"last seen {entry.get('last_seen', '?')}"
                  + (f"; **{entry['now']}**" if entry.get("now") else ""),
                  "", "```python", entry.get("source", "").rstrip(),
                  f"# arguments: {entry.get('args', '')}", "```", ""]
        lines += [f"- {d}" for d in entry.get("details", [])] + [""]
    lines += ["## Refusals by message (first message of grad)", ""]
    merged: Dict[str, dict] = {}
    for key, entry in state["refusals"].items():
        key = re.sub(r"'[^']*'", "'…'", key)
        into = merged.setdefault(key, {"count": 0, "copies_only": 0})
        into["count"] += entry["count"]
        into["copies_only"] += entry["copies_only"]
        if entry.get("copies_example") and len(entry["copies_example"]) < \
                len(into.get("copies_example", "x" * 10 ** 6)):
            into["copies_example"] = entry["copies_example"]
    refusals = sorted(merged.items(), key=lambda kv: -kv[1]["count"])
    for key, entry in refusals[:40]:
        lines.append(f"- {entry['count']} (copies only: {entry['copies_only']}): {key}")
    later = sorted(state.get("later", {}).items(), key=lambda kv: -kv[1]["count"])
    if later:
        lines += ["", "## Later checks refused where grad accepted (family | check | message)",
                  ""]
        for key, entry in later[:25]:
            lines.append(f"- {entry['count']}: {key}")
        lines += ["", "Smallest examples of the five most common:", ""]
        for key, entry in later[:5]:
            lines += [key, "", "```python", entry["example"].rstrip(), "```", ""]
    copies = [(k, e) for k, e in refusals if e.get("copies_example")]
    if copies:
        lines += ["", "### Refusals of programs that only copy (no view, no alias): "
                  "smallest examples", ""]
        for key, entry in copies[:10]:
            lines += [f"{key}", "", "```python", entry["copies_example"].rstrip(), "```", ""]
    return "\n".join(lines) + "\n"


_COMMIT = ["?"]


def _commit() -> str:
    try:
        import subprocess
        here = os.path.dirname(os.path.abspath(__file__))
        return subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except Exception:
        return "?"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="programs per family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", default="all",
                        help="all, or a comma-separated list of " + ", ".join(FAMILIES))
    parser.add_argument("--jobs", type=int, default=1, help="only 1 is supported")
    parser.add_argument("--start", type=int, default=0, help="first program index")
    parser.add_argument("--findings", default="random_program_findings.md")
    parser.add_argument("--state", default=None,
                        help="JSON file that accumulates results across runs")
    parser.add_argument("--notes", default=None,
                        help="a text file put at the top of the findings (triage notes)")
    parser.add_argument("--render", action="store_true",
                        help="only write the findings from --state, run nothing")
    parser.add_argument("--recheck", action="store_true",
                        help="run the smallest program of each class in --state again, "
                             "mark it fixed or still failing, write the findings")
    parser.add_argument("--shrink", type=int, default=60,
                        help="checks spent shrinking each new failure (0: none)")
    parser.add_argument("--timeout", type=int, default=30, help="seconds per program")
    opts = parser.parse_args(argv)
    if opts.jobs != 1:
        parser.error("--jobs: only 1 is supported (one process)")
    families = FAMILIES if opts.family == "all" else tuple(opts.family.split(","))
    for fam in families:
        if fam not in GENERATORS:
            parser.error(f"unknown family {fam!r}")
    state = _load_state(opts.state)
    _COMMIT[0] = _commit()
    if opts.render or opts.recheck:
        families = ()
    started = time.time()
    this_run: Dict[str, Dict[str, int]] = {}
    for fam in families:
        counts = this_run.setdefault(fam, {s: 0 for s in
                                           ("rejected", "accepted", "refused", "wrong", "crash")})
        for index in range(opts.start, opts.start + opts.count):
            program = generate(fam, opts.seed, index)
            outcome = check_program(program, timeout=opts.timeout)
            counts[outcome.status] += 1
            record(state, program, outcome, opts.shrink)
        state["runs"].append({"family": fam, "seed": opts.seed, "count": opts.count,
                              "start": opts.start, "commit": _COMMIT[0],
                              "when": time.strftime("%H:%M UTC", time.gmtime())})
        _save_state(opts.state, state)
        notes = ""
        if opts.notes and os.path.exists(opts.notes):
            with open(opts.notes) as fh:
                notes = fh.read()
        with open(opts.findings, "w") as fh:
            fh.write(render(state, notes))
    if opts.recheck:
        recheck(state)
        _save_state(opts.state, state)
    if opts.render or opts.recheck:
        notes = open(opts.notes).read() if opts.notes and os.path.exists(opts.notes) else ""
        with open(opts.findings, "w") as fh:
            fh.write(render(state, notes))
        return 0
    print(f"{'family':14} {'rejected':>8} {'accepted':>8} {'refused':>8} {'wrong':>6} "
          f"{'crashed':>7}")
    for fam, c in this_run.items():
        print(f"{fam:14} {c['rejected']:8} {c['accepted']:8} {c['refused']:8} {c['wrong']:6} "
              f"{c['crash']:7}")
    print(f"{time.time() - started:.0f} s; findings in {opts.findings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
