"""Random programs in everyday Python (issue 17): lists grown by append, comprehensions,
generators under sum/max/min, `and`/`or`/`not`, chained comparisons, conditional
expressions, the walrus, lambdas and nested defs, unpacking, assert, print and del,
around NumPy elementwise functions and reductions.

    program = generate(family, seed, index)      # source text of f(x, y) and its arguments
    outcome = check(program, directory)          # "exact", "refused", "wrong", "crash", ...

Every program is `f(x, y)`: x a 1-D float array of length 3-6, y a float or a 2-D array
whose rows have x's length. The checker is independent of s2sad: central differences
(step 1e-6) of a twin of the program that records its decisions (every comparison,
`and`/`or`/`not` operand, `if` test, and the choice made by max, min, abs, sorted, round,
np.abs, np.max, np.min), so a point whose differences cross a kink is drawn again
instead of compared. On each program it checks grad and jvp (in a random direction;
with respect to x and y, x alone or y alone, by the program's index) for values, types
and shapes; that the caller's arguments are unchanged; that a print in f prints once
per call of the gradient, as it does once per call of f; and all of it again at a
second point with the same gradient functions. A refusal must be an S2SADError naming
a line. With --hessian, s2sad.hessian in x is compared with central differences of
the gradient.

    python tests/random_python.py 2000 [seed] [--out DIR] [--hessian]

prints the counts per family, the refusals by frequency, and writes each wrong or
crashing program (with its arguments and what went wrong) to DIR.
"""
from __future__ import annotations

import ast
import collections
import contextlib
import copy
import importlib.util
import io
import re
import signal
import sys
import tempfile
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

FAMILIES = ["lists", "comprehensions", "conditions", "closures", "statements", "mixed",
            "nested"]
STEP = 1e-6
HESSIAN_STEP = 1e-5   # (differences of an exact gradient)
RTOL, ATOL = 1e-5, 1e-6

# -- generation ---------------------------------------------------------------------

_SMOOTH = ["np.sin({})", "np.tanh({})", "np.exp(0.3 * {})", "({}) ** 2", "0.5 * {}",
           "np.cos({}) * {}", "({} + 2.0) ** 0.5", "{} * {}", "np.log(1.0 + ({}) ** 2)",
           "np.arctan({})", "1.0 / (1.0 + ({}) ** 2)"]


@dataclass
class Program:
    family: str
    seed: int
    index: int
    source: str
    name: str
    args: Tuple[Any, ...]

    @property
    def wrt(self) -> Any:
        """Which arguments are differentiated: both, x or y, by the index."""
        return [(0, 1), 0, (0, 1), 1][self.index % 4]


class _Writer:
    """The body of one program being written: lines, fresh names, and what is in scope."""

    def __init__(self, rng: np.random.Generator, n: int, y_matrix: bool, rows: int):
        self.rng = rng
        self.n = n
        self.y_matrix = y_matrix
        self.rows = rows
        self.lines: List[str] = []
        self.scalars: List[str] = []     # local names holding an active float
        self.terms: List[str] = []       # scalar expressions the result adds up
        self.used: Dict[str, int] = {}

    # randomness
    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def const(self, low: float = 0.2, high: float = 1.5) -> str:
        return f"{self.rng.uniform(low, high):.2f}"

    def fresh(self, stem: str) -> str:
        k = self.used.get(stem, 0)
        self.used[stem] = k + 1
        return stem if k == 0 else f"{stem}{k}"

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    # expressions
    def smooth(self, e: str) -> str:
        form = self.pick(_SMOOTH)
        return form.format(e, e) if form.count("{}") == 2 else form.format(e)

    def x_item(self) -> str:
        k = int(self.rng.integers(-self.n, self.n))
        return f"x[{k}]"

    def y_scalar(self) -> str:
        if not self.y_matrix:
            return "y"
        return self.pick([f"y[0, {int(self.rng.integers(self.n))}]", "np.sum(y)",
                          "np.mean(y)", f"y[-1, {int(self.rng.integers(self.n))}]",
                          "np.max(y)", "np.min(y[0])"])

    def scalar(self) -> str:
        """An active scalar: an item of x, something of y, or a local scalar."""
        choices = [self.x_item(), self.y_scalar()] + self.scalars[-3:]
        e = self.pick(choices)
        if self.chance(0.5):
            e = self.smooth(e)
        if self.chance(0.3):
            e = f"{e} * {self.pick([self.x_item(), self.y_scalar(), self.const()])}"
        return e

    def vector(self) -> str:
        """An active vector of length n."""
        options = ["x", "np.sin(x)", "x ** 2", "np.tanh(x) + 0.5", "x * " + self.y_scalar(),
                   "np.cumsum(x)", "x[::-1]", "np.abs(x)"]
        if self.y_matrix:
            options += ["y[0]", "np.mean(y, axis=0)", "y[-1] * x", "x @ y.T @ y"]
        else:
            options += ["y * x", "np.exp(0.3 * x) * y"]
        return self.pick(options)

    def reduce(self, v: str) -> str:
        return self.pick([f"np.sum({v})", f"np.mean({v})", f"np.dot({v}, x)",
                          f"np.sum({v} ** 2)", f"np.max({v})", f"np.sum(np.sin({v}))"])

    def item_of(self, v: str) -> str:
        """A scalar made from the loop variable v (and the scope)."""
        form = self.pick(["{v}", "np.sin({v})", "{v} ** 2", "{v} * {s}", "np.tanh({v}) + {s}",
                          "np.exp(0.3 * {v})", "{v} * {v} - {s}", "({v} + 2.0) ** 0.5"])
        return form.format(v=v, s=self.scalar() if "{s}" in form else "")

    def condition(self, v: Optional[str] = None) -> str:
        """A comparison on active values (a kink the checker watches), possibly combined."""
        a = v or self.scalar()

        def simple(e):
            op = self.pick(["<", ">", "<=", ">="])
            return f"{e} {op} {self.pick([self.const(-0.5, 0.5), self.scalar()])}"
        form = self.pick(["simple", "and", "or", "not", "chain", "chain", "mixed"])
        if form == "simple":
            return simple(a)
        if form == "and":
            return f"{simple(a)} and {simple(self.scalar())}"
        if form == "or":
            return f"{simple(a)} or {simple(self.scalar())}"
        if form == "not":
            return f"not {simple(a)}" if self.chance(0.5) else f"not ({simple(a)})"
        if form == "chain":
            lo, hi = sorted([self.rng.uniform(-1.5, 1.0), self.rng.uniform(-1.0, 1.5)])
            return f"{lo:.2f} < {a} < {hi + 0.3:.2f}"
        return f"({simple(a)} or {simple(self.scalar())}) and not {simple(self.scalar())}"

    # results
    def add(self, term: str) -> None:
        self.terms.append(term)

    def assign(self, stem: str, value: str) -> str:
        name = self.fresh(stem)
        self.emit(f"{name} = {value}")
        self.scalars.append(name)
        return name


# ---- lists

def _loop_header(w: _Writer, allow_rows: bool = True) -> Tuple[str, str, str]:
    """A `for` header over x in one of the spellings people use: (header, item, index)."""
    options = ["range_len", "range_shape", "enumerate", "zip", "plain"]
    if w.y_matrix and allow_rows:
        options.append("rows")
    kind = w.pick(options)
    if kind == "range_len":
        return "for i in range(len(x)):", "x[i]", "i"
    if kind == "range_shape":
        return "for i in range(x.shape[0]):", "x[i]", "i"
    if kind == "enumerate":
        return "for i, v in enumerate(x):", "v", "i"
    if kind == "zip":
        return f"for v, u in zip(x, {w.vector()}):", "v * u", ""
    if kind == "rows":
        return "for row in y:", "np.dot(row, x)", ""
    return "for v in x:", "v", ""


def _consume_list(w: _Writer, name: str, vectors: bool = False) -> str:
    """A scalar from a list of scalars (or of vectors)."""
    if vectors:
        return w.pick([f"np.sum(np.stack({name}) ** 2)", f"np.sum(np.concatenate({name}))",
                       f"np.sum(np.array({name}) * 0.5)", f"np.sum(np.stack({name}, axis=1)[0])",
                       f"np.sum({name}[0] * {name}[-1])", f"np.sum(sum({name}))"])
    return w.pick([f"sum({name})", f"np.sum(np.stack({name}))", f"np.sum(np.array({name}) ** 2)",
                   f"np.dot(np.array({name}), np.array({name}))", f"{name}[0] * {name}[-1]",
                   f"sum({name}, {w.const()})", f"max({name})", f"min({name}) * {w.scalar()}",
                   f"np.sum(np.concatenate([np.array({name}), x]))", f"len({name}) * {name}[1]",
                   f"np.mean(np.array({name}))"])


def _list_literal(w: _Writer) -> None:
    name = w.fresh("vals")
    items = [w.scalar() for _ in range(int(w.rng.integers(2, 5)))]
    if w.chance(0.3):
        items.append(w.const())
    w.emit(f"{name} = [{', '.join(items)}]")
    if w.chance(0.4):
        op = w.pick(["append", "extend", "insert", "concat", "pop", "index"])
        if op == "append":
            w.emit(f"{name}.append({w.scalar()})")
        elif op == "extend":
            w.emit(f"{name}.extend([{w.scalar()}, {w.scalar()}])")
        elif op == "insert":
            w.emit(f"{name}.insert(0, {w.scalar()})")
        elif op == "concat":
            w.emit(f"{name} = {name} + [{w.scalar()}]")
        elif op == "pop":
            last = w.fresh("last")
            w.emit(f"{last} = {name}.pop()", f"{name}.append({last} * 2.0)")
        else:
            w.emit(f"{name}[1] = {name}[0] * {w.scalar()}")
    w.add(_consume_list(w, name))


def _append_loop(w: _Writer) -> None:
    name = w.fresh("ys")
    header, item, index = _loop_header(w)
    w.emit(f"{name} = []", header)
    vectors = w.chance(0.25)
    value = f"{item} * x" if vectors else w.item_of(item)
    if index and w.chance(0.3):
        value = f"({value}) * ({index} + 1)"
    if not vectors and w.chance(0.3):
        w.emit(f"    if {w.condition(item)}:", f"        {name}.append({value})",
               "    else:", f"        {name}.append({w.item_of(item)})")
    else:
        w.emit(f"    {name}.append({value})")
    w.add(_consume_list(w, name, vectors))


def _list_of_vectors(w: _Writer) -> None:
    name = w.fresh("parts")
    w.emit(f"{name} = [{w.vector()}, {w.vector()}]")
    if w.chance(0.5):
        w.emit(f"{name}.append({w.smooth(w.vector())})")
    w.add(_consume_list(w, name, vectors=True))


def _zip_lists(w: _Writer) -> None:
    a, b = w.fresh("ws"), w.fresh("zs")
    w.emit(f"{a} = [{w.scalar()}, {w.scalar()}, {w.scalar()}]",
           f"{b} = []", f"for wk, xk in zip({a}, x):", f"    {b}.append(wk * xk)")
    w.add(_consume_list(w, b))


def _alias_or_copy(w: _Writer) -> None:
    # a second name for the same list sees its changes; a copy does not
    name, other = w.fresh("vals"), w.fresh("other")
    w.emit(f"{name} = [{w.scalar()}, {w.scalar()}]")
    w.emit(f"{other} = " + w.pick([name, f"list({name})", f"{name}[:]", f"{name}.copy()"]))
    w.emit(w.pick([f"{other}.append({w.scalar()})", f"{other}[0] = {w.scalar()}",
                   f"{other}.extend([{w.scalar()}])", f"{other} += [{w.scalar()}]"]))
    w.add(f"sum({name}) * 1.5 + sum({other})")


def _ranges(w: _Writer) -> None:
    # loops over computed ranges: neighbours, strides, reversed
    name = w.fresh("ys")
    header, body = w.pick([
        ("for i in range(len(x) - 1):", "x[i + 1] - x[i]"),
        ("for i in range(1, len(x)):", "x[i] * x[i - 1]"),
        ("for i in range(0, len(x), 2):", "x[i]"),
        ("for i in reversed(range(len(x))):", "x[i] * (i + 1)"),
        ("for i, v in enumerate(x, start=1):", "v / i"),
        ("for v, u in zip(x, x[1:]):", "v * u"),
        ("for v in reversed(x):", "v"),
    ])
    w.emit(f"{name} = []", header, f"    {name}.append({w.item_of(body)})")
    w.add(_consume_list(w, name))


def _iterate_list(w: _Writer) -> None:
    # a list read back: iteration, reversed, slices, enumerate, zip of two lists
    name, t = w.fresh("vals"), w.fresh("t")
    w.emit(f"{name} = [{w.scalar()}, {w.scalar()}, {w.scalar()}]", f"{t} = 0.0")
    header, item = w.pick([(f"for v in {name}:", "v"), (f"for v in reversed({name}):", "v"),
                           (f"for v in {name}[1:]:", "v"),
                           (f"for k, v in enumerate({name}):", "v * (k + 1)"),
                           (f"for v, u in zip({name}, {name}[::-1]):", "v * u"),
                           (f"for k in range(len({name})):", f"{name}[k] * x[k]")])
    w.emit(header, f"    {t} = {t} + {w.item_of(item)}")
    w.scalars.append(t)
    w.add(t)


def _conditional_append(w: _Writer) -> None:
    # the list's length depends on the values (a second call may have another one)
    name = w.fresh("ys")
    w.emit(f"{name} = [{w.scalar()}]", "for i in range(len(x)):",
           f"    if {w.condition('x[i]')}:", f"        {name}.append({w.item_of('x[i]')})")
    w.add(w.pick([f"sum({name})", f"np.sum(np.array({name}))", f"{name}[-1] * len({name})"]))


def _closure_append(w: _Writer) -> None:
    # a nested def changes the enclosing function's list
    name, add = w.fresh("ys"), w.fresh("add")
    w.emit(f"{name} = []", f"def {add}(v):", f"    {name}.append({w.smooth('v')})",
           "for i in range(len(x)):", f"    {add}(x[i])")
    w.add(_consume_list(w, name))


def _sum_of_vectors(w: _Writer) -> None:
    name = w.fresh("parts")
    w.emit(f"{name} = [{w.vector()}, {w.vector()}]")
    w.add(w.pick([f"np.sum(sum({name}, np.zeros_like(x)))", f"np.sum(sum({name}) ** 2)",
                  f"np.sum(np.vstack({name}))", f"np.sum(np.hstack({name}) * 0.5)"]))


def _recurrence(w: _Writer) -> None:
    # each new item reads the last one (an RNN's states, a running product)
    hs = w.fresh("hs")
    kind = w.pick(["scalar", "scalar_index", "vector", "rows"] if w.y_matrix else
                  ["scalar", "scalar_index", "vector"])
    if kind == "scalar":
        w.emit(f"{hs} = [{w.scalar()}]", "for i in range(1, len(x)):",
               f"    {hs}.append(np.tanh({hs}[-1] * {w.const(0.3, 0.9)} + x[i]))")
        w.add(_consume_list(w, hs))
    elif kind == "scalar_index":
        w.emit(f"{hs} = [x[0]]", "for i in range(1, x.shape[0]):",
               f"    {hs}.append({hs}[i - 1] * 0.5 + {w.item_of('x[i]')})")
        w.add(_consume_list(w, hs))
    elif kind == "vector":
        h = w.fresh("h")
        w.emit(f"{h} = np.zeros_like(x)", f"{hs} = []", "for i in range(len(x)):",
               f"    {h} = np.tanh({h} * {w.const(0.3, 0.9)} + x[i] * x)", f"    {hs}.append({h})")
        w.add(_consume_list(w, hs, vectors=True))
    else:
        h, rows, dim = w.fresh("h"), w.fresh("T"), w.fresh("dim")
        w.emit(f"{rows}, {dim} = y.shape", f"{h} = np.zeros({dim})", f"{hs} = []",
               f"for r in range({rows}):", f"    {h} = np.tanh(y[r] * x + {h} * 0.5)",
               f"    {hs}.append({h})")
        w.add(_consume_list(w, hs, vectors=True))


def _append_then_update(w: _Writer) -> None:
    # a list holds the array object: an in-place update after the append shows in it,
    # a rebinding does not
    h, hs = w.fresh("h"), w.fresh("hs")
    w.emit(f"{h} = x * {w.const()}", f"{hs} = [{h}]")
    w.emit(w.pick([f"{h} += {w.vector()}", f"{h} = {h} + {w.vector()}", f"{h}[0] = {w.scalar()}",
                   f"{h} *= {w.const()}"]))
    w.emit(f"{hs}.append({h})")
    w.add(f"np.sum(np.stack({hs}) ** 2) + np.sum({hs}[0] * x)")


def _filled_list(w: _Writer) -> None:
    # [0.0] * n, then item assignment; a dict filled in a loop
    name = w.fresh("vals")
    if w.chance(0.5):
        w.emit(f"{name} = [0.0] * len(x)", "for i in range(len(x)):",
               f"    {name}[i] = {w.item_of('x[i]')}")
        w.add(_consume_list(w, name))
    else:
        w.emit(f"{name} = {{}}", "for i in range(len(x)):", f"    {name}[i] = {w.item_of('x[i]')}")
        w.add(w.pick([f"sum({name}.values())", f"{name}[0] * {name}[len(x) - 1]",
                      f"sum(v * k for k, v in {name}.items())", f"{name}.get(1, 0.0) + {name}[2]"]))


def _numpy_on_lists(w: _Writer) -> None:
    # NumPy functions take a list where they take an array
    name = w.fresh("vals")
    w.emit(f"{name} = [{w.scalar()}, {w.scalar()}, {w.scalar()}]")
    w.add(w.pick([f"np.sum({name})", f"np.mean({name}) * {w.scalar()}",
                  f"np.dot({name}, x[:3])", f"np.sum(np.array([[{name}[0], {name}[1]], "
                  f"[{name}[2], {name}[0]]]) @ x[:2])", f"np.max({name})",
                  f"np.sum(np.concatenate([x[:2], {name}]) ** 2)",
                  f"np.sum(np.array({name})[[0, 2, 2]])",
                  "sum(np.array([x[i] * x[j] for j in range(len(x))]) "
                  "for i in range(len(x)))[1]",
                  "np.sum(np.array([[x[i] * x[j] for j in range(len(x))] "
                  "for i in range(len(x))]) @ x)"]))


LISTS = [_list_literal, _append_loop, _append_loop, _list_of_vectors, _zip_lists,
         _alias_or_copy, _ranges, _iterate_list, _conditional_append, _closure_append,
         _sum_of_vectors, _recurrence, _recurrence, _append_then_update, _filled_list,
         _numpy_on_lists]


# ---- comprehensions

def _source_of(w: _Writer) -> Tuple[str, str, str]:
    """`for` clauses of a comprehension over x: (clauses, item, index)."""
    kind = w.pick(["plain", "range_len", "range_shape", "enumerate", "zip", "nested",
                   "nested_range"] + (["rows"] if w.y_matrix else []))
    if kind == "plain":
        return "for v in x", "v", ""
    if kind == "range_len":
        return "for i in range(len(x))", "x[i]", "i"
    if kind == "range_shape":
        return "for i in range(x.shape[0])", "x[i]", "i"
    if kind == "enumerate":
        return "for i, v in enumerate(x)", "v", "i"
    if kind == "zip":
        return f"for v, u in zip(x, {w.vector()})", "v * u", ""
    if kind == "nested":
        return "for v in x for u in x[:2]", "v * u", ""
    if kind == "nested_range":
        return "for i in range(len(x)) for j in range(i)", "x[i] * x[j]", "i"
    return "for row in y for v in row", "v", ""


def _filter(w: _Writer, item: str, index: str) -> str:
    if not w.chance(0.45):
        return ""
    if index and w.chance(0.5):
        return f" if {index} % 2 == 0" if w.chance(0.5) else f" if {index} != 1"
    return f" if {w.condition(item)}"


def _comprehension(w: _Writer) -> None:
    clauses, item, index = _source_of(w)
    body = w.item_of(item)
    cond = _filter(w, item, index)
    kind = w.pick(["list", "sum", "sum_start", "sum_list_start", "max", "min", "array",
                   "stack", "dict"])
    generator = f"{body} {clauses}{cond}"
    if kind == "list":
        name = w.fresh("vs")
        w.emit(f"{name} = [{generator}]")
        w.add(f"sum({name})" if w.chance(0.5) else f"np.sum(np.array({name}) ** 2)")
    elif kind == "sum":
        w.add(f"sum({generator})")
    elif kind == "sum_start":
        w.add(f"sum(({generator}), {w.scalar()})")
    elif kind == "sum_list_start":
        w.add(f"sum([{generator}], {w.const()})")
    elif kind in ("max", "min"):
        # (a filter may leave nothing: max(..., default=...) is not every user's habit)
        w.add(f"{kind}({body} {clauses})")
    elif kind == "array":
        w.add(f"np.sum(np.array([{generator}]) * {w.scalar()})" if not cond else
              f"np.sum(np.array([{generator}] + [0.0]))")
    elif kind == "stack":
        w.add(f"np.sum(np.stack([{item} * x {clauses}]) ** 2)")
    else:
        name = w.fresh("d")
        if index and not cond and "for j" not in clauses and w.chance(0.5):
            w.emit(f"{name} = {{{index}: {body} {clauses}}}")
            w.add(f"{name}[0] + {name}[1]")
        else:
            w.emit(f"{name} = {{k: {w.smooth('v')} for k, v in "
                   f"zip(['a', 'b', 'c'], [{w.scalar()}, {w.scalar()}, {w.scalar()}])}}")
            w.add(w.pick([f"sum({name}.values())", f"{name}['a'] * {name}['c']",
                          f"sum(v * v for k, v in {name}.items() if k != 'b')"]))


def _max_min_values(w: _Writer) -> None:
    fn = w.pick(["max", "min"])
    values = [w.scalar() for _ in range(int(w.rng.integers(2, 4)))]
    if w.chance(0.3):
        values.append(w.const(-0.5, 0.5))
    w.add(f"{fn}({', '.join(values)})")


def _comprehension_scope(w: _Writer) -> None:
    # the comprehension's variable is its own; a walrus inside binds the enclosing name
    v = w.assign("v", w.scalar())
    kind = w.pick(["shadow", "walrus", "over_list", "items"])
    if kind == "shadow":
        w.add(f"sum({w.item_of('v')} for v in x) + {v}")
    elif kind == "walrus":
        m = w.fresh("last")
        w.emit(f"{m} = 0.0", f"total = sum(({m} := {w.item_of('v')}) for v in x)")
        w.add(f"total + {m} * {v}")
    elif kind == "over_list":
        lst = w.fresh("vals")
        w.emit(f"{lst} = [{w.scalar()}, {v}, {w.scalar()}]")
        w.add(f"sum([{w.item_of('u')} for u in {lst}])")
    else:
        d = w.fresh("d")
        w.emit(f"{d} = {{'p': {w.scalar()}, 'q': {v}}}")
        w.add(f"sum({w.item_of('val')} for key, val in {d}.items())")


def _builtins(w: _Writer) -> None:
    # item 3's builtins over sequences
    vals = [w.scalar() for _ in range(3)]
    lst = w.fresh("vals")
    w.emit(f"{lst} = [{', '.join(vals)}]")
    w.add(w.pick([f"sorted({lst})[0] + sorted({lst})[-1] * 0.5",
                  f"math.fsum({lst})", f"math.prod({lst})", f"abs({vals[0]})",
                  f"round({vals[0]}, 1) + {vals[1]}", f"sum(abs(v) for v in {lst})",
                  "sum(sorted(x)[:2])", "max(abs(v) for v in x)",
                  f"{vals[0]} if any(v > 0.5 for v in x) else {vals[1]}",
                  f"{vals[0]} if all(v > -1.2 for v in x) else {vals[1]}"]))


def _argmax_key(w: _Writer) -> None:
    # max/min over indices with a key, and comprehensions inside a nested def
    kind = w.pick(["key", "key_lambda", "def_comprehension", "pairs"])
    if kind == "key":
        best = w.fresh("best")
        w.emit(f"{best} = {w.pick(['max', 'min'])}(range(len(x)), key=lambda i: x[i])")
        w.add(f"x[{best}] * {w.scalar()}")
    elif kind == "key_lambda":
        w.add(f"{w.pick(['max', 'min'])}(x, key=lambda v: (v - {w.const(-0.5, 0.5)}) ** 2)")
    elif kind == "def_comprehension":
        h = w.fresh("h")
        w.emit(f"def {h}(u):", f"    return sum({w.item_of('v')} * u for v in x)")
        w.add(f"{h}({w.scalar()}) + {h}({w.scalar()})")
    else:
        pairs = w.fresh("pairs")
        w.emit(f"{pairs} = [({w.scalar()}, {w.scalar()}), ({w.scalar()}, {w.scalar()})]")
        w.add(f"sum(a * b for a, b in {pairs})")


COMPREHENSIONS = [_comprehension, _comprehension, _comprehension, _max_min_values,
                  _comprehension_scope, _builtins, _argmax_key]


# ---- conditions

def _if_bool(w: _Writer) -> None:
    t = w.fresh("t")
    w.emit(f"if {w.condition()}:", f"    {t} = {w.scalar()}", "else:", f"    {t} = {w.scalar()}")
    w.scalars.append(t)
    w.add(t)


def _if_no_else(w: _Writer) -> None:
    t = w.assign("t", w.scalar())
    w.emit(f"if {w.condition()}:", f"    {t} = {t} * {w.scalar()}")
    w.add(t)


def _conditional_expression(w: _Writer) -> None:
    e = f"{w.scalar()} if {w.condition()} else {w.scalar()}"
    if w.chance(0.3):
        e = f"{w.scalar()} if {w.condition()} else ({e})"
    w.add(w.assign("c", e))


def _walrus(w: _Writer) -> None:
    if w.chance(0.5):
        m = w.fresh("m")
        w.emit(f"if ({m} := {w.scalar()}) > {w.const(-0.5, 0.5)}:", f"    acc = acc + {m}",
               "else:", f"    acc = acc - {m} * {w.scalar()}")
    else:
        m = w.fresh("w")
        w.add(f"({m} := {w.scalar()}) * {m}")


def _value_or(w: _Writer) -> None:
    # `and`/`or` returning one of their operands (a float is true unless it is 0.0)
    t = w.fresh("s")
    w.emit(f"{t} = ({w.condition()} and {w.scalar()}) or {w.scalar()}")
    w.emit(f"{t} = {t} * 1.0")   # (False or ...: only a float reaches here)
    w.add(t)


def _is_none(w: _Writer) -> None:
    z = w.fresh("z")
    w.emit(f"{z} = None", f"if {w.condition()}:", f"    {z} = {w.scalar()}",
           f"if {z} is None:", f"    {z} = {w.scalar()}")
    w.add(z)


def _in_tuple(w: _Writer) -> None:
    t = w.assign("t", "0.0")
    w.emit("for k in range(len(x)):", "    if k in (0, 2):", f"        {t} = {t} + x[k] * "
           f"{w.scalar()}", "    elif not k in (1,):", f"        {t} = {t} - x[k]")
    w.add(t)


def _short_circuit(w: _Writer) -> None:
    # the right operand is not evaluated when the left decides: its walrus does not bind
    m = w.assign("m", w.scalar())
    op = w.pick(["or", "and"])
    w.emit(f"if {w.condition()} {op} ({m} := {w.scalar()}) > {w.const(-0.5, 0.5)}:",
           f"    acc = acc + {w.scalar()}")
    w.add(m)


def _while_and(w: _Writer) -> None:
    # a loop whose trip count depends on the values
    t = w.fresh("t")
    w.emit(f"{t} = 0.0", "k = 0", f"while k < len(x) and x[k] < {w.const(0.0, 1.0)}:",
           f"    {t} = {t} + {w.item_of('x[k]')}", "    k += 1")
    w.add(t)


def _break_continue(w: _Writer) -> None:
    t = w.fresh("t")
    w.emit(f"{t} = 0.0", "for i in range(len(x)):", f"    if {w.condition('x[i]')}:",
           f"        {w.pick(['break', 'continue'])}", f"    {t} = {t} + {w.item_of('x[i]')}")
    w.add(t)


def _isinstance(w: _Writer) -> None:
    # a decision on the type of y, fixed by the call (a float or an array)
    t = w.fresh("t")
    w.emit(f"if isinstance(y, float) and {w.condition()}:", f"    {t} = y * {w.scalar()}",
           "elif isinstance(y, np.ndarray):", f"    {t} = np.sum(y) * {w.scalar()}", "else:",
           f"    {t} = {w.scalar()}")
    w.add(t)


def _guarded(w: _Writer) -> None:
    # a branch or right operand that is not evaluated must not leak nan or inf into the
    # gradient (the np.where trap), nor fail (an index out of range, a list that is empty)
    a = w.assign("a", f"{w.scalar()} - {w.const(-0.5, 0.5)}")
    kind = w.pick(["sqrt", "log", "and_sqrt", "division", "empty", "index"])
    if kind == "sqrt":
        w.add(f"np.sqrt({a}) if {a} > 0 else {a} * 0.5")
    elif kind == "log":
        w.add(f"{a} if {a} <= 0 else np.log({a}) * {w.scalar()}")
    elif kind == "and_sqrt":
        t = w.fresh("t")
        w.emit(f"{t} = {a} > 0 and np.sqrt({a}) > {w.const(0.2, 0.8)}",
               f"acc = acc + ({w.scalar()} if {t} else {a})")
    elif kind == "division":
        den = w.fresh("den")
        w.emit(f"{den} = {a} if {a} > 0 else 0.0",
               f"if {den} != 0 and {w.scalar()} / {den} > 0.5:", f"    acc = acc + {den} * {a}")
    elif kind == "empty":
        ys = w.fresh("ys")
        w.emit(f"{ys} = [v for v in [{a}, {w.scalar()}] if v > 10.0]")
        w.add(f"({ys}[-1] if {ys} else {a}) + (len({ys}) > 0 and {ys}[0] > 0)")
    else:
        w.add(f"x[len(x) + 1] if len(x) > 7 else {a} * x[-1]")


CONDITIONS = [_if_bool, _if_bool, _if_no_else, _conditional_expression, _walrus, _value_or,
              _is_none, _in_tuple, _short_circuit, _while_and, _break_continue, _isinstance,
              _guarded, _guarded]


# ---- closures

def _lambda(w: _Writer) -> None:
    g = w.fresh("g")
    captured = w.pick(["y" if not w.y_matrix else "y[0, 0]", "x[0]"] + w.scalars[-2:])
    w.emit(f"{g} = lambda t: {w.smooth('t')} * {captured}")
    calls = [f"{g}({w.scalar()})" for _ in range(int(w.rng.integers(1, 4)))]
    if w.chance(0.3):
        calls.append(f"np.sum({g}(x))")
    w.add(" + ".join(calls))


def _nested_def(w: _Writer) -> None:
    h = w.fresh("h")
    local = w.assign("scale", w.scalar())
    kind = w.pick(["plain", "default", "tuple", "loop", "calls_lambda", "vector"])
    if kind == "plain":
        w.emit(f"def {h}(u):", f"    return {w.smooth('u')} + {local}")
    elif kind == "default":
        w.emit(f"def {h}(u, c={w.const()}):", f"    return {w.smooth('u')} * c + {local}")
    elif kind == "tuple":
        w.emit(f"def {h}(u):", f"    return u * {local}, {w.smooth('u')}")
        r = w.pick([f"{h}({w.scalar()})[0]", f"{h}({w.scalar()})[1] * 2.0"])
        p, q = w.fresh("p"), w.fresh("q")
        w.emit(f"{p}, {q} = {h}({w.scalar()})")
        w.add(f"{r} + {p} * {q}")
        return
    elif kind == "loop":
        w.emit(f"def {h}(u):", "    total = 0.0", "    for k in range(3):",
               f"        total = total + {w.smooth('u')} * (k + 1)", f"    return total * {local}")
    elif kind == "calls_lambda":
        sq = w.fresh("sq")
        w.emit(f"{sq} = lambda t: t * t", f"def {h}(u):", f"    return {sq}(u) + {local} * u")
    else:
        w.emit(f"def {h}(u):", f"    return np.sum({w.smooth('u')} * x) + {local}")
        w.add(f"{h}({w.vector()})")
        return
    how = w.pick(["once", "several", "comprehension", "loop"])
    if how == "once":
        w.add(f"{h}({w.scalar()})")
    elif how == "several":
        w.add(f"{h}({w.scalar()}) + {h}({w.scalar()}) * {h}({w.x_item()})")
    elif how == "comprehension":
        w.add(f"sum({h}(v) for v in x)")
    else:
        acc = w.assign("hs", "0.0")
        w.emit("for v in x:", f"    {acc} = {acc} + {h}(v)")
        w.add(acc)


def _function_argument(w: _Writer) -> None:
    apply = w.fresh("apply")
    w.emit(f"def {apply}(fn, v):", "    return fn(v) * 2.0")
    act = w.pick(["np.tanh", "np.sin", "lambda t: t * t"])
    if act.startswith("lambda") or w.chance(0.5):
        name = w.fresh("act")
        w.emit(f"{name} = {act}")
        act = name
    w.add(f"{apply}({act}, {w.scalar()}) + np.sum({apply}({act}, x))")


def _binding_time(w: _Writer) -> None:
    # a closure reads the variable when called; a default was evaluated at the def
    c, h = w.fresh("c"), w.fresh("h")
    w.emit(f"{c} = {w.scalar()}")
    if w.chance(0.5):
        w.emit(f"def {h}(u):", f"    return {w.smooth('u')} * {c}")
    else:
        w.emit(f"def {h}(u, k={c}):", f"    return {w.smooth('u')} * k + {c}")
    w.emit(f"{c} = {w.scalar()}")
    w.add(f"{h}({w.scalar()})")


def _factory(w: _Writer) -> None:
    # a helper that returns a function, and helpers calling each other
    make, inner = w.fresh("make"), w.fresh("inner")
    if w.chance(0.5):
        w.emit(f"def {make}(c):", f"    return lambda t: {w.smooth('t')} * c")
        w.add(f"{make}({w.scalar()})({w.scalar()})")
    else:
        w.emit(f"def {inner}(u):", f"    return {w.smooth('u')}",
               f"def {make}(u, v):", f"    return {inner}(u) * v + {inner}(v)")
        w.add(f"{make}({w.scalar()}, {w.scalar()})")


def _lambda_in_loop(w: _Writer) -> None:
    # a lambda bound to a name in a loop body, called at once
    t = w.fresh("t")
    w.emit(f"{t} = 0.0", "for i in range(len(x)):",
           f"    g = lambda u: {w.smooth('u')} * x[i]", f"    {t} = {t} + g({w.scalar()})")
    w.add(t)


def _signatures(w: _Writer) -> None:
    # *args, **kwargs and keyword-only parameters of a nested def
    h = w.fresh("h")
    kind = w.pick(["args", "kwargs", "kwonly"])
    if kind == "args":
        w.emit(f"def {h}(*vals):", f"    return sum({w.smooth('v')} for v in vals)")
        w.add(f"{h}({w.scalar()}, {w.scalar()}) + {h}({w.scalar()})")
    elif kind == "kwargs":
        w.emit(f"def {h}(u, **options):", f"    return {w.smooth('u')} * options['scale']")
        w.add(f"{h}({w.scalar()}, scale={w.scalar()})")
    else:
        w.emit(f"def {h}(u, *, c={w.const()}):", f"    return {w.smooth('u')} * c")
        w.add(f"{h}({w.scalar()}) + {h}({w.scalar()}, c={w.scalar()})")


CLOSURES = [_lambda, _nested_def, _nested_def, _function_argument, _binding_time, _factory,
            _lambda_in_loop, _signatures]


# ---- statements

def _unpacking(w: _Writer) -> None:
    kind = w.pick(["pair", "swap", "shape", "star", "len"])
    if kind == "pair":
        a, b = w.fresh("a"), w.fresh("b")
        w.emit(f"{a}, {b} = {w.scalar()}, {w.scalar()}")
        w.scalars += [a, b]
        w.add(f"{a} * {b}")
    elif kind == "swap":
        a = w.assign("a", w.scalar())
        b = w.assign("b", w.scalar())
        w.emit(f"{a}, {b} = {b}, {a} * 2.0")
        w.add(f"{a} - {b} * 0.5")
    elif kind == "shape":
        rows, dim, tot = w.fresh("T"), w.fresh("dim"), w.fresh("tot")
        if w.y_matrix:
            w.emit(f"{rows}, {dim} = y.shape", f"{tot} = 0.0", f"for r in range({rows}):",
                   f"    {tot} = {tot} + np.dot(y[r], x) / {dim}")
        else:
            w.emit(f"({dim},) = x.shape", f"{tot} = 0.0", f"for r in range({dim}):",
                   f"    {tot} = {tot} + x[r] * y / {dim}")
        w.scalars.append(tot)
        w.add(tot)
    elif kind == "star":
        first, rest = w.fresh("first"), w.fresh("rest")
        w.emit(f"{first}, *{rest} = [{w.scalar()}, {w.scalar()}, {w.scalar()}]")
        w.add(f"{first} * sum({rest})")
    else:
        n = w.fresh("n")
        w.emit(f"{n} = len(x)")
        w.add(f"{w.scalar()} / {n}")


def _assert(w: _Writer) -> None:
    w.emit(w.pick(["assert x.ndim == 1", "assert len(x) >= 3, 'x is too short'",
                   "assert np.all(np.isfinite(x))", "assert x.shape[0] == len(x)",
                   f"assert {w.const(2.0, 3.0)} > 0 and len(x) > 0"]))


def _print(w: _Writer) -> None:
    kind = w.pick(["line", "line", "loop", "branch", "helper"])
    line = w.pick(["print('f:', len(x))", f"print('value', {w.scalar()})",
                   "print(f'x has {len(x)} entries')", "print(x.shape)"])
    if kind == "line":
        w.emit(line)
    elif kind == "loop":   # once per trip, in the gradient too
        w.emit("for i in range(len(x)):", "    print('step', i)")
    elif kind == "branch":
        w.emit(f"if {w.condition()}:", "    print('taken')")
    else:
        show = w.fresh("show")
        w.emit(f"def {show}(v):", "    print('v is', v)", "    return v * 2.0")
        w.add(f"{show}({w.scalar()}) + {show}({w.scalar()})")


def _raise(w: _Writer) -> None:
    w.emit(*w.pick([["if len(x) < 2:", "    raise ValueError('x is too short')"],
                    [f"if not np.isfinite({w.scalar()}):", "    raise ValueError('not finite')"],
                    ["if x.ndim != 1:", "    raise TypeError(f'x has {x.ndim} dimensions')"]]))


def _del(w: _Writer) -> None:
    tmp = w.fresh("tmp")
    w.emit(f"{tmp} = {w.scalar()}", f"acc = acc + {tmp}", f"del {tmp}")


def _misc(w: _Writer) -> None:
    w.emit(*w.pick([["pass"], ["with np.errstate(divide='ignore'):", "    pass"]]))
    if w.chance(0.5):
        w.emit("with np.errstate(over='ignore'):", f"    acc = acc + {w.scalar()}")


def _more_unpacking(w: _Writer) -> None:
    kind = w.pick(["nested", "chain", "loop", "augmented", "arrays", "rebind"])
    if kind == "nested":
        a, b, c = w.fresh("a"), w.fresh("b"), w.fresh("c")
        w.emit(f"({a}, {b}), {c} = ({w.scalar()}, {w.scalar()}), {w.scalar()}")
        w.add(f"{a} * {b} + {c}")
    elif kind == "chain":
        a, b = w.fresh("a"), w.fresh("b")
        w.emit(f"{a} = {b} = {w.scalar()}", f"{b} = {b} * {w.scalar()}")
        w.add(f"{a} + {b}")
    elif kind == "loop":
        t = w.fresh("t")
        w.emit(f"{t} = 0.0", f"for p, q in [({w.scalar()}, {w.scalar()}), ({w.scalar()}, "
               f"{w.scalar()})]:", f"    {t} = {t} + p * q")
        w.add(t)
    elif kind == "augmented":
        t = w.assign("t", w.scalar())
        w.emit(f"{t} += {w.scalar()}", f"{t} *= {w.scalar()}", f"{t} -= {w.const()}")
        w.add(t)
    elif kind == "arrays":
        u, v = w.fresh("u"), w.fresh("v")
        w.emit(f"{u}, {v} = {w.vector()}, {w.vector()}", f"{u}, {v} = {v}, {u} * 2.0")
        w.add(f"np.sum({u} * {w.vector()}) + np.sum({v} ** 2)")
    else:
        t = w.fresh("tmp")
        w.emit(f"{t} = {w.scalar()}", f"acc = acc + {t}", f"del {t}", f"{t} = {w.scalar()}")
        w.add(t)


STATEMENTS = [_unpacking, _unpacking, _assert, _print, _print, _del, _misc, _more_unpacking,
              _more_unpacking, _raise]

# ---- constructs inside each other (drawn by the mixed family)

def _loop_of_comprehensions(w: _Writer) -> None:
    t = w.fresh("t")
    w.emit(f"{t} = 0.0", "for i in range(len(x)):", "    row = [x[i] * v for v in x]",
           f"    {t} = {t} + sum(row) * ({w.scalar()} if {w.condition('x[i]')} else 0.5)")
    w.add(t)


def _def_returning_list(w: _Writer) -> None:
    feats = w.fresh("feats")
    w.emit(f"def {feats}(u):", "    out = []", "    for k in range(3):",
           f"        out.append({w.smooth('u * (k + 1)')})", "    return out")
    w.add(f"np.sum(np.stack({feats}({w.scalar()}))) + sum({feats}({w.scalar()}))")


def _lambda_in_comprehension(w: _Writer) -> None:
    g = w.fresh("g")
    w.emit(f"{g} = lambda t: {w.smooth('t')}")
    w.add(f"sum(({g}(v) if v > {w.const(-0.5, 0.5)} else -{g}(v)) for v in x)")


def _builtin_conversions(w: _Writer) -> None:
    w.add(w.pick([f"sum(list(map(lambda v: v * {w.scalar()}, x)))",
                  f"sum(dict(zip(['a', 'b'], [{w.scalar()}, {w.scalar()}])).values())",
                  f"sum(1 for v in x if v > {w.const(-0.5, 0.5)}) * {w.scalar()}",
                  f"len([v for v in x if v > {w.const(-0.5, 0.5)}]) * {w.scalar()}",
                  "sum(x.tolist())", "sum(float(v) for v in x)", f"sum(list(x) + [{w.scalar()}])"]))


def _walrus_while(w: _Writer) -> None:
    t = w.fresh("t")
    w.emit(f"{t} = 0.0", "k = 0", "while (k := k + 1) < len(x):",
           f"    {t} = {t} + {w.item_of('x[k]')}")
    w.add(t)


def _stepper(w: _Writer) -> None:
    step, h, s = w.fresh("step"), w.fresh("h"), w.fresh("s")
    w.emit(f"def {step}(h, v):", f"    return np.tanh(h * {w.const(0.2, 0.9)} + v), h * v",
           f"{h}, {s} = 0.0, 0.0", w.pick(["for v in x:", "for v in x.tolist():",
                                           "for i, v in enumerate(x):"]),
           f"    {h}, inc = {step}({h}, v)", f"    {s} = {s} + inc")
    w.add(f"{h} + {s}")


def _pairs_comprehension(w: _Writer) -> None:
    pairs = w.fresh("pairs")
    w.emit(f"{pairs} = [(v, {w.item_of('v')}) for v in x]")
    w.add(w.pick([f"sum(a * b for a, b in {pairs})", f"{pairs}[0][1] * {pairs}[-1][0]",
                  f"np.sum(np.array({pairs}))"]))


def _def_in_loop(w: _Writer) -> None:
    # a def in a loop body reads the loop's variable; a def before a loop reads a name
    # the loop rebinds, at each call
    t, h = w.fresh("t"), w.fresh("h")
    if w.chance(0.5):
        w.emit(f"{t} = 0.0", "for i in range(len(x)):", f"    def {h}(u):",
               f"        return {w.smooth('u')} * x[i]", f"    {t} = {t} + {h}({w.scalar()})")
    else:
        c = w.fresh("c")
        w.emit(f"{c} = {w.scalar()}", f"def {h}(u):", f"    return {w.smooth('u')} * {c}",
               f"{t} = 0.0", "for i in range(len(x)):", f"    {c} = x[i]",
               f"    {t} = {t} + {h}({w.scalar()})")
    w.add(t)


def _generator_once(w: _Writer) -> None:
    # a generator is used up by the first consumer; iter/next walk it by hand
    g = w.fresh("gen")
    kind = w.pick(["twice", "next", "partial"])
    if kind == "twice":
        w.emit(f"{g} = ({w.item_of('v')} for v in x)")
        w.add(f"sum({g}) + sum({g})")
    elif kind == "next":
        w.emit(f"{g} = iter(x)", f"first = next({g})")
        w.add(f"first * {w.scalar()} + sum({g})")
    else:
        w.emit(f"{g} = ({w.item_of('v')} for v in x)", f"head = next({g})")
        w.add(f"head + sum({g}) * 0.5")


def _list_operations(w: _Writer) -> None:
    # repetition, slices with steps, reverse and del of an item
    name = w.fresh("vals")
    w.emit(f"{name} = [{w.scalar()}, {w.scalar()}] * 2" if w.chance(0.4) else
           f"{name} = [{w.scalar()}, {w.scalar()}, {w.scalar()}, {w.scalar()}]")
    w.emit(w.pick([f"{name}.reverse()", f"del {name}[0]", f"{name} = {name}[::-1]",
                   f"{name} = {name}[1::2]", f"{name}[-1] = {name}[0] * 2.0",
                   f"{name}.append({name}[0])"]))
    w.add(w.pick([f"sum({name})", f"{name}[0] * {name}[-1]", f"sum({name}[1:]) * {name}[0]"]))


def _nested_lists(w: _Writer) -> None:
    # lists of lists: a matrix by comprehension, indexed twice; rows updated in a loop
    m = w.fresh("m")
    w.emit(f"{m} = [[{w.item_of('x[i] * x[j]')} for j in range(len(x))] for i in range(len(x))]")
    kind = w.pick(["trace", "update", "zip", "stack"])
    if kind == "trace":
        w.add(f"sum({m}[i][i] for i in range(len(x))) + {m}[0][-1] * {w.scalar()}")
    elif kind == "update":
        w.emit("for i in range(len(x)):", f"    {m}[i][0] = {m}[i][0] * {w.scalar()}")
        w.add(f"sum(sum(row) for row in {m})")
    elif kind == "zip":
        w.add(f"sum(a * b for row in {m} for a, b in zip(row, x))")
    else:
        w.add(f"np.sum(np.array({m}) @ x) + np.sum(np.stack([np.array(r) for r in {m}]))")


def _accumulate_in_helper(w: _Writer) -> None:
    # a helper that loops, branches and returns early, called in a comprehension
    h = w.fresh("h")
    w.emit(f"def {h}(u, k):", "    if k == 0:", f"        return {w.smooth('u')}",
           "    total = 0.0", "    for j in range(k):", "        total = total + u * x[j]",
           f"        if total > {w.const(1.0, 3.0)}:", "            return total",
           "    return total")
    w.add(f"sum({h}(v, i) for i, v in enumerate(x))" if w.chance(0.5) else
          f"sum([{h}(x[i], i) for i in range(len(x))])")


NESTED = [_loop_of_comprehensions, _def_returning_list, _lambda_in_comprehension,
          _builtin_conversions, _walrus_while, _stepper, _pairs_comprehension, _def_in_loop,
          _generator_once, _list_operations, _nested_lists, _accumulate_in_helper]

_BY_FAMILY = {"lists": LISTS, "comprehensions": COMPREHENSIONS, "conditions": CONDITIONS,
              "closures": CLOSURES, "statements": STATEMENTS, "nested": NESTED}


def generate(family: str, seed: int, index: int) -> Program:
    """Program `index` of `family` under `seed` (the same three give the same program)."""
    rng = np.random.default_rng([seed, FAMILIES.index(family), index])
    n = int(rng.integers(3, 7))
    y_matrix = bool(rng.random() < 0.5)
    rows = int(rng.integers(2, 4))
    w = _Writer(rng, n, y_matrix, rows)
    if rng.random() < 0.3:
        w.emit('"""A random program."""')
    w.emit("acc = 0.0")
    if rng.random() < 0.4:   # a NumPy prelude other snippets read
        w.assign("base", w.reduce(w.smooth(w.vector())))
    count = int(rng.integers(1, 4)) if family != "mixed" else int(rng.integers(2, 6))
    for _ in range(count):
        pool = _BY_FAMILY[family] if family != "mixed" else w.pick(list(_BY_FAMILY.values()))
        w.pick(pool)(w)
    if family == "statements" and not w.terms:
        w.add(w.scalar())
    terms = w.terms or [w.scalar()]
    w.emit(f"acc = acc + {' + '.join(f'({t})' for t in terms)}")
    w.emit(w.pick(["return acc", "return acc * 1.0", f"return acc + {w.reduce('x')} * 0.1"]))
    name = f"f_{family}_{seed}_{index}"
    body = textwrap.indent("\n".join(w.lines), "    ")
    source = f"import math\n\nimport numpy as np\n\n\ndef {name}(x, y):\n{body}\n"
    x = np.round(rng.uniform(-1.5, 1.5, size=n), 3)
    y = np.round(rng.normal(0.0, 0.7, size=(rows, n)), 3) if y_matrix else \
        float(np.round(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.5), 3))
    return Program(family, seed, index, source, name, (x, y))


# -- the checker ------------------------------------------------------------------


class _Recorder(ast.NodeTransformer):
    """Wrap every decision in a call of `_D` (which records its outcome), and max, min
    and abs in their recording twins, so a probe of the function at x ± step can tell
    whether it took the same branches as at x."""

    def visit_Compare(self, node):
        self.generic_visit(node)
        return ast.Call(ast.Name("_D", ast.Load()), [node], [])

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        node.values = [ast.Call(ast.Name("_D", ast.Load()), [v], []) for v in node.values]
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = ast.Call(ast.Name("_D", ast.Load()), [node.operand], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("max", "min", "abs", "sorted",
                                                                  "round"):
            node.func = ast.Name("_" + node.func.id.upper(), ast.Load())
        return node


class _Decisions:
    def __init__(self):
        self.log: List[Any] = []

    def decision(self, value):
        if isinstance(value, np.ndarray):
            self.log.append(("a", tuple(np.asarray(value).ravel().tolist())))
        else:
            self.log.append(bool(value))
        return value

    def extreme(self, pick, args, kwargs):
        items = list(args[0]) if len(args) == 1 else list(args)
        key = kwargs.get("key") or (lambda v: v)
        chosen = pick(range(len(items)), key=lambda k: key(items[k]))
        self.log.append(("ext", chosen))
        return items[chosen]

    def sorted_(self, items):
        items = list(items)
        self.log.append(("sorted", tuple(np.argsort(items, kind="stable").tolist())))
        return sorted(items)

    def round_(self, v, *digits):
        value = round(v, *digits)
        self.log.append(("round", value))
        return value

    def abs_(self, v):
        self.log.append(("abs", tuple(np.sign(np.ravel(v)).tolist())))
        return abs(v)


class _NumPyRecorder:
    """np with its kinks recorded (np.abs, np.max, np.min, np.maximum, np.minimum)."""

    def __init__(self, decisions: _Decisions):
        self._d = decisions

    def __getattr__(self, name):
        return getattr(np, name)

    def abs(self, v):
        self._d.log.append(("abs", tuple(np.sign(np.ravel(v)).tolist())))
        return np.abs(v)

    def max(self, v, *args, **kwargs):
        self._d.log.append(("max", np.argmax(v)))
        return np.max(v, *args, **kwargs)

    def min(self, v, *args, **kwargs):
        self._d.log.append(("min", np.argmin(v)))
        return np.min(v, *args, **kwargs)


def _load(program: Program, directory: Path) -> Tuple[Callable, Callable, _Decisions]:
    """The program as a module (s2sad reads its source file) and its recording twin."""
    path = directory / f"{program.name}.py"
    path.write_text(program.source)
    spec = importlib.util.spec_from_file_location(program.name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    decisions = _Decisions()
    tree = ast.fix_missing_locations(_Recorder().visit(ast.parse(program.source)))
    scope = {"_D": decisions.decision, "_ABS": decisions.abs_,
             "_MAX": lambda *a, **k: decisions.extreme(max, a, k),
             "_MIN": lambda *a, **k: decisions.extreme(min, a, k),
             "_SORTED": decisions.sorted_, "_ROUND": decisions.round_}
    exec(compile(tree, f"<recording {program.name}>", "exec"), scope)
    scope["np"] = _NumPyRecorder(decisions)
    return getattr(module, program.name), scope[program.name], decisions


@dataclass
class Outcome:
    status: str                       # exact, refused, wrong, crash, skipped
    detail: str = ""
    refusals: List[str] = field(default_factory=list)


class _Skip(Exception):
    """No fair test: the program fails in Python, overflows, or every point sits near a kink."""


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def _fresh(args):
    return tuple(copy.deepcopy(a) for a in args)


def _quiet(fn, *args, strict: bool = False):
    """fn(*args) and what it printed; with `strict`, NumPy raises on inf and nan."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), np.errstate(all="raise" if strict else "warn"):
        result = fn(*args)
    return result, out.getvalue()


def _value(twin, decisions, args) -> Tuple[float, list]:
    decisions.log = []
    value, _ = _quiet(twin, *_fresh(args), strict=True)
    if np.iscomplexobj(value):   # (a Python float to a fractional power: f leaves the reals)
        raise _Skip("complex value")
    value = float(value)
    if not np.isfinite(value) or abs(value) > 1e4:   # (beyond, differences lose digits)
        raise _Skip("value out of bound")
    return value, decisions.log


def _differences(twin, decisions, args) -> Optional[List[np.ndarray]]:
    """Central differences in x and y, or None when a probe takes another branch."""
    _, base = _value(twin, decisions, args)
    result = []
    for k, a in enumerate(args):
        flat = np.atleast_1d(np.asarray(a, float)).ravel()
        column = np.zeros(flat.size)
        for i in range(flat.size):
            sides = []
            for s in (STEP, -STEP):
                probe = flat.copy()
                probe[i] += s
                moved = list(args)
                moved[k] = probe.reshape(np.shape(a)) if isinstance(a, np.ndarray) \
                    else float(probe[0])
                v, log = _value(twin, decisions, moved)
                if log != base:
                    return None
                sides.append(v)
            column[i] = (sides[0] - sides[1]) / (2 * STEP)
        result.append(column.reshape(np.shape(a)))
    return result


def _close(got, expected) -> bool:
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    return got.shape == expected.shape and bool(np.all(np.isfinite(got))) and \
        bool(np.all(np.abs(got - expected) <= ATOL + RTOL * np.abs(expected)))


def _type_ok(gradient, a) -> bool:
    if isinstance(a, np.ndarray):
        return type(gradient) is np.ndarray and gradient.shape == a.shape and \
            gradient.dtype == a.dtype
    return type(gradient) is type(a)


def _same(a, b) -> bool:
    return type(a) is type(b) and np.array_equal(a, b)


def refusal_line(exc: BaseException) -> str:
    """The first line of a refusal without its file and position."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = re.sub(r"^<s2sad [^>]*>", "", first)
    first = re.sub(r"'[A-Za-z_]\w*'", "'…'", first)   # (one line per message, not per name)
    first = re.sub(r"\bline \d+", "line N", first)
    return re.sub(r"^.*?:\d+:\d+: (error: )?", "", first)


def _has_line(exc: BaseException) -> bool:
    return re.search(r":\d+:\d+", str(exc)) is not None


def _in_generated_code(exc: BaseException) -> bool:
    """A refusal located in code s2sad generated (`<s2sad grad_f of ...>:66:4`), not in
    the user's file: a second-order refusal of the first-order code."""
    return re.match(r"<s2sad [^>]*>:\d+:\d+", str(exc).strip()) is not None


def _arguments(program: Program, attempt: int) -> Tuple[Any, ...]:
    """The program's arguments, or (on a kink) new ones drawn from the same law."""
    if attempt == 0:
        return program.args
    rng = np.random.default_rng([program.seed, program.index, attempt])
    x, y = program.args
    x = np.round(rng.uniform(-1.5, 1.5, size=x.shape), 3)
    y = np.round(rng.normal(0.0, 0.7, size=y.shape), 3) if isinstance(y, np.ndarray) else \
        float(np.round(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.5), 3))
    return x, y


def check(program: Program, directory: Path, timeout: int = 60, ad: Any = None,
          hessian: bool = False) -> Outcome:
    """Every check on one program (see the module docstring); `ad` stands for s2sad
    (a test passes a broken one to see the checker fail); `hessian` adds the Hessian."""
    import s2sad
    s2sad = ad or s2sad
    f, twin, decisions = _load(program, directory)
    try:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(timeout)
        return _check(s2sad, program, f, twin, decisions, hessian)
    except _Skip as exc:
        return Outcome("skipped", str(exc))
    except _Timeout:
        return Outcome("crash", f"timeout: more than {timeout} s")
    finally:
        signal.alarm(0)
        sys.modules.pop(program.name, None)


def _point(program, twin, decisions, first: int):
    """Arguments (from draw `first` on) whose differences cross no kink, and the differences."""
    for attempt in range(first, first + 4):
        args = _arguments(program, attempt)
        try:
            expected = _differences(twin, decisions, args)
        except _Skip:
            raise
        except Exception as exc:   # the program itself fails in Python at these arguments
            raise _Skip(f"f fails: {type(exc).__name__}: {exc}")
        if expected is not None:
            return args, expected
    raise _Skip("every point drawn sits near a kink")


def _check_hessian(s2sad, f, twin, decisions, args, dx, df, wrt, which, attempt,
                   wrong) -> None:
    """hessian wrt x against central differences (step 1e-5) of the gradient just checked,
    where no probe changes a decision."""
    _, base = _value(twin, decisions, args)
    columns = []
    for i in range(args[0].size):
        sides = []
        for s in (HESSIAN_STEP, -HESSIAN_STEP):
            probe = args[0].copy()
            probe[i] += s
            moved = (probe,) + tuple(args[1:])
            if _value(twin, decisions, moved)[1] != base:
                return   # (a kink within the step: no reference here)
            g, _ = _quiet(df, *_fresh(moved))
            sides.append(g[which.index(0)] if isinstance(wrt, tuple) else g)
        columns.append((sides[0] - sides[1]) / (2 * HESSIAN_STEP))
    expected = np.array(columns).T
    got = attempt("hessian", lambda *a: s2sad.hessian(f, wrt=0)(*a), prints=False)
    if got is None:
        return
    if type(got) is not np.ndarray or got.shape != expected.shape:
        wrong.append(f"hessian: {type(got).__name__} {getattr(got, 'shape', '')}, "
                     f"expected shape {expected.shape}")
    elif not (np.all(np.isfinite(got)) and
              np.all(np.abs(got - expected) <= 1e-5 + 1e-4 * np.abs(expected))):
        wrong.append(f"hessian: {got!r}, differences of the gradient give {expected!r}")


def _check(s2sad, program, f, twin, decisions, hessian: bool = False) -> Outcome:
    """grad and jvp at a first point, then the same gradient functions at a second point
    of the same shapes (a compiled gradient must not keep the first call's data); with
    `hessian`, the Hessian in x at the first point too."""
    refusals, wrong, crashes = [], [], []
    wrt = program.wrt
    which = wrt if isinstance(wrt, tuple) else (wrt,)
    df = s2sad.grad(f, wrt=wrt)
    jf = s2sad.jvp(f, wrt=wrt)
    for point, first in (("", 0), (" (second call)", 10)):
        args, expected = _point(program, twin, decisions, first)
        value, printed = _quiet(f, *_fresh(args))

        def attempt(what, run, prints=True):
            saved = _fresh(args)
            try:
                result, out = _quiet(run, *args)
            except s2sad.S2SADError as exc:
                refusals.append(("(in generated code) " if _in_generated_code(exc) else "")
                                + refusal_line(exc))
                if not _has_line(exc):
                    wrong.append(f"{what}: a refusal without a line: {str(exc)[:300]}")
                return None
            except _Timeout:
                raise
            except Exception as exc:
                crashes.append(f"{what}: {type(exc).__name__}: {str(exc).strip()[:300]}\n"
                               + "".join(traceback.format_exception(exc)[-4:]))
                return None
            if not all(_same(a, b) for a, b in zip(args, saved)):
                wrong.append(f"{what}: the caller's arguments changed")
            if prints and out != printed:
                wrong.append(f"{what}: printed {out!r}, f prints {printed!r}")
            return result

        gradients = attempt("grad" + point, df)
        if gradients is not None:
            gradients = gradients if isinstance(wrt, tuple) else (gradients,)
            for k, got in zip(which, gradients):
                name, exp, a = "xy"[k], expected[k], args[k]
                if not _type_ok(got, a):
                    wrong.append(f"grad{point}: d{name} is {type(got).__name__} "
                                 f"{getattr(got, 'shape', '')}, expected like {a!r}")
                elif not _close(got, exp):
                    wrong.append(f"grad{point}: d{name} = {got!r}, differences give {exp!r}")
        rng = np.random.default_rng([program.seed, program.index, 99 + first])
        direction = (rng.normal(size=args[0].shape),
                     rng.normal(size=args[1].shape) if isinstance(args[1], np.ndarray)
                     else float(rng.normal()))
        tangent_in = tuple(direction[k] for k in which) if isinstance(wrt, tuple) else \
            direction[wrt]
        result = attempt("jvp" + point, lambda *a: jf(*a, tangent_in))
        if result is not None:
            got_value, tangent = result
            exp_tangent = float(sum(np.sum(expected[k] * direction[k]) for k in which))
            if not _close(got_value, value):
                wrong.append(f"jvp{point}: value {got_value!r}, f gives {value!r}")
            if not _close(tangent, exp_tangent):
                wrong.append(f"jvp{point}: tangent {tangent!r}, differences give "
                             f"{exp_tangent!r}")
        if hessian and first == 0 and 0 in which and gradients is not None and not wrong:
            _check_hessian(s2sad, f, twin, decisions, args, gradients[which.index(0)]
                           if isinstance(wrt, tuple) else gradients, df, wrt, which,
                           attempt, wrong)
        if wrong or crashes or refusals:
            break
    where = f"\nat {_args_text(args)}"
    if wrong:
        return Outcome("wrong", "\n".join(wrong) + where, refusals)
    if crashes:
        return Outcome("crash", "\n".join(crashes) + where, refusals)
    if refusals:
        return Outcome("refused", "", refusals)
    return Outcome("exact")


def _args_text(args) -> str:
    with np.printoptions(precision=17, floatmode="unique"):
        return ", ".join(repr(a) for a in args)


def main(argv: List[str]) -> int:
    positional = [a for k, a in enumerate(argv)
                  if not a.startswith("--") and (k == 0 or argv[k - 1] != "--out")]
    count = int(positional[0]) if positional else 120
    seed = int(positional[1]) if len(positional) > 1 else 0
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else \
        Path(tempfile.gettempdir()) / "random_python_failures"
    out.mkdir(parents=True, exist_ok=True)
    counts = {family: collections.Counter() for family in FAMILIES}
    refusals: collections.Counter = collections.Counter()
    examples: Dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(count):
            family = FAMILIES[index % len(FAMILIES)]
            program = generate(family, seed, index // len(FAMILIES))
            outcome = check(program, Path(tmp), hessian="--hessian" in argv)
            counts[family][outcome.status] += 1
            refusals.update(set(outcome.refusals))
            for line in outcome.refusals:
                examples.setdefault(line, f"{family!r}, {seed}, {index // len(FAMILIES)}")
            if outcome.status in ("wrong", "crash"):
                path = out / f"{program.name}.py"
                path.write_text(program.source + f"\n# arguments: {_args_text(program.args)}\n"
                                + textwrap.indent(outcome.detail, "# ") + "\n")
                print(f"{outcome.status.upper()}: {path}: {outcome.detail.splitlines()[0]}",
                      flush=True)
    statuses = ["exact", "refused", "wrong", "crash", "skipped"]
    print(f"\n{'family':16}" + "".join(f"{s:>9}" for s in statuses))
    for family in FAMILIES:
        print(f"{family:16}" + "".join(f"{counts[family][s]:9d}" for s in statuses))
    total = sum(counts.values(), collections.Counter())
    print(f"{'total':16}" + "".join(f"{total[s]:9d}" for s in statuses))
    print("\nrefusals (programs refused in grad or jvp, by first line):")
    for line, k in refusals.most_common():
        print(f"{k:6d}  {line}  (e.g. generate({examples[line]}))")
    print(f"\nwrong or crashing programs: {out}")
    return 1 if total["wrong"] or total["crash"] else 0


if __name__ == "__main__":   # python tests/random_python.py 2000 [seed] [--out DIR] [--hessian]
    sys.exit(main(sys.argv[1:]))
