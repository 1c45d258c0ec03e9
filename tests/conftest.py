"""Shared test helpers: argument names choose inputs, central differences, corpus cases.

Test modules import the helpers by name (`from conftest import inputs_for`).

The naming scheme is documented in `corpus.py`'s docstring; `INPUTS` below is its
implementation. Array entries lie on a grid of step 0.1, shifted per name by
0.15, 0.45 or 0.75 of a step, so two inputs with different shifts differ by at
least 0.03 in every entry, and no entry is within 0.015 of a round constant such
as 0.0 or 1.0: `min`/`max`/`abs`/comparisons never sit on a kink, and a central
difference step of 1e-6 never crosses one.

`pytest_generate_tests` parametrizes two fixtures over the corpus:

* `corpus_function`: every function in `corpus.FUNCTIONS`;
* `gradient_case`: every (function, wrt) pair, one per float parameter and one
  tuple of all of them (`--short` keeps only the tuples).

A test module lists known s2sad bugs in `KNOWN_BUGS = {(test name, case id): reason}`;
those cases are marked `xfail(strict=True)`, so a fix shows up as XPASS.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import numbers
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import pytest
from hypothesis import Phase, settings

import corpus
import s2sad

# -- options ---------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption("--short", action="store_true", default=False,
                     help="fewer cases: only the all-parameters gradient of each corpus "
                          "function, and fewer hypothesis examples")


def pytest_configure(config):
    """Hypothesis: 80 examples per property (15 with --short, or S2SAD_PROPERTY_EXAMPLES)."""
    examples = int(os.environ.get("S2SAD_PROPERTY_EXAMPLES", 0)) or \
        (15 if config.getoption("--short") else 80)
    settings.register_profile("s2sad", max_examples=examples, deadline=None,
                              phases=[p for p in Phase if p is not Phase.explain])
    settings.load_profile("s2sad")


# -- inputs chosen by argument names ------------------------------------------------

GRID_STEP = 0.1


def _grid(name: str, shape: Tuple[int, ...], low: float, cells: int, shift: float,
          signed: bool) -> np.ndarray:
    """Entries low + step * (k + shift), k random in [0, cells); optionally signed."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    k = rng.integers(0, cells, size=shape)
    values = low + GRID_STEP * (k + shift)
    if signed:
        values = values * rng.choice([-1.0, 1.0], size=shape)
    return values.astype(np.float64)


def _positive(name, shape, shift):
    return lambda: _grid(name, shape, 0.5, 10, shift, signed=False)


def _signed(name, shape, shift):
    return lambda: _grid(name, shape, 0.2, 6, shift, signed=True)


INPUTS: Dict[str, Callable[[], Any]] = {
    "a": lambda: 0.7,
    "b": lambda: 1.6,
    "c": lambda: 1.3,
    "s": lambda: 0.35,
    "t": lambda: -0.6,
    "r": lambda: np.float64(0.9),
    "h": lambda: np.array(1.1),
    "n": lambda: 3,
    "k": lambda: 2,
    "x": _positive("x", (4,), 0.15),
    "y": _positive("y", (4,), 0.45),
    "z": _positive("z", (4,), 0.75),
    "v": _signed("v", (4,), 0.15),
    "w": _signed("w", (4,), 0.45),
    "u": _positive("u", (1,), 0.75),
    "A": _positive("A", (3, 4), 0.45),
    "B": _positive("B", (3, 4), 0.75),
    "C": _positive("C", (4, 3), 0.15),
    "P": _positive("P", (4, 4), 0.15),
    "R": _positive("R", (1, 4), 0.15),
    "K": _positive("K", (3, 1), 0.15),
    "X": _signed("X", (5, 4), 0.75),
    "Y": _positive("Y", (5,), 0.75),
}


def is_float_value(value: Any) -> bool:
    """What s2sad differentiates: floats and float arrays (not ints or bools)."""
    if isinstance(value, np.ndarray):
        return np.issubdtype(value.dtype, np.floating)
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


@dataclass
class Inputs:
    """The call of one function: what is passed, and every parameter's value."""

    args: List[Any]                   # positional arguments, in order
    kwargs: Dict[str, Any]            # keyword-only arguments without defaults
    values: Dict[str, Any]            # every parameter, defaults included
    positional: List[str]             # names of the positional arguments passed
    float_params: List[str] = field(default_factory=list)

    def call(self, fn: Callable) -> Any:
        return fn(*self.args, **self.kwargs)

    def wrt_spec(self, name: str) -> Union[int, str]:
        """An index for a passed positional parameter, the name otherwise."""
        return self.positional.index(name) if name in self.positional else name


def inputs_for(fn: Callable, table: Optional[Dict[str, Callable[[], Any]]] = None) -> Inputs:
    """Fresh inputs for `fn`, chosen by its parameter names (defaults are not passed);
    `table` adds or overrides samplers (the loop corpus has names of its own)."""
    table = INPUTS if table is None else {**INPUTS, **table}
    args, kwargs, values, positional = [], {}, {}, []
    for param in inspect.signature(fn).parameters.values():
        if param.default is not inspect.Parameter.empty:
            values[param.name] = param.default
            continue
        if param.name not in table:
            raise KeyError(f"{fn.__name__}: no input is defined for the argument name "
                           f"{param.name!r}; see the naming scheme in corpus.py")
        value = table[param.name]()
        values[param.name] = value
        if param.kind is param.KEYWORD_ONLY:
            kwargs[param.name] = value
        else:
            args.append(value)
            positional.append(param.name)
    float_params = [name for name, value in values.items() if is_float_value(value)]
    return Inputs(args, kwargs, values, positional, float_params)


# -- central differences -------------------------------------------------------------


def call_by_name(fn: Callable, values: Dict[str, Any]) -> Any:
    """fn called with `values`, positional parameters by position (positional-only too)."""
    args, kwargs = [], {}
    for param in inspect.signature(fn).parameters.values():
        if param.name not in values:
            continue
        if param.kind is param.KEYWORD_ONLY:
            kwargs[param.name] = values[param.name]
        else:
            args.append(values[param.name])
    return fn(*args, **kwargs)


def central_difference(f: Callable[..., Any], values: Dict[str, Any], name: str,
                       eps: float = 1e-6, points: int = 2) -> Any:
    """Central differences of scalar `f` in each entry of argument `name`.

    points=2: (f(v + eps) - f(v - eps)) / 2 eps, error O(eps**2);
    points=4: (8 (f(v + eps) - f(v - eps)) - (f(v + 2 eps) - f(v - 2 eps))) / 12 eps,
    error O(eps**4), for long random programs with larger third derivatives.
    `f` gets every value in `values` (see `call_by_name`), arrays copied afresh for
    each call, so a function that updates an argument in place cannot disturb the
    next evaluation. The result has the shape of the argument (a float for a scalar).
    """
    def at(value):
        fresh = {k: v.copy() if isinstance(v, np.ndarray) else v
                 for k, v in values.items()}
        fresh[name] = value
        return float(call_by_name(f, fresh))

    def derivative(shifted):
        if points == 2:
            return (at(shifted(eps)) - at(shifted(-eps))) / (2 * eps)
        return (8 * (at(shifted(eps)) - at(shifted(-eps)))
                - (at(shifted(2 * eps)) - at(shifted(-2 * eps)))) / (12 * eps)

    x = values[name]
    if not isinstance(x, np.ndarray):
        return derivative(lambda step: x + step)
    result = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        def shifted(step, i=i):
            probe = x.copy()
            probe[i] += step
            return probe
        result[i] = derivative(shifted)
    return result


# -- parametrization over the corpus ---------------------------------------------------


@dataclass
class GradientCase:
    fn: Callable
    params: Tuple[str, ...]      # the parameters differentiated
    single: bool                 # wrt is one entry (not a tuple)

    @property
    def id(self) -> str:
        return f"{self.fn.__name__}-{self.params[0] if self.single else 'all'}"

    def wrt(self, inputs: Inputs):
        if self.single:
            return inputs.wrt_spec(self.params[0])
        return tuple(inputs.wrt_spec(p) for p in self.params)


def gradient_cases(short: bool = False) -> List[GradientCase]:
    cases = []
    for fn in corpus.FUNCTIONS:
        params = inputs_for(fn).float_params
        if not short:
            cases += [GradientCase(fn, (p,), True) for p in params]
        cases.append(GradientCase(fn, tuple(params), False))
    return cases


def _marked(metafunc, value, case_id):
    reason = getattr(metafunc.module, "KNOWN_BUGS", {}).get(
        (metafunc.function.__name__, case_id))
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(value, id=case_id, marks=marks)


def pytest_generate_tests(metafunc):
    if "corpus_function" in metafunc.fixturenames:
        metafunc.parametrize("corpus_function", [
            _marked(metafunc, fn, fn.__name__) for fn in corpus.FUNCTIONS])
    if "gradient_case" in metafunc.fixturenames:
        short = metafunc.config.getoption("--short")
        metafunc.parametrize("gradient_case", [
            _marked(metafunc, case, case.id) for case in gradient_cases(short)])


# -- shared by the example tests ----------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(scope="module")
def examples():
    """Import an example module by name, with examples/ on sys.path."""
    sys.path.insert(0, EXAMPLES)
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(EXAMPLES)


def compute_counter():
    """A dask callback that counts the computes dask starts while it is active (`with
    compute_counter() as counter: ...`, then `counter.computes`): a gradient of dask
    arrays must start none."""
    from dask.callbacks import Callback

    class ComputeCounter(Callback):
        def __init__(self):
            super().__init__()
            self.computes = 0

        def _start(self, dsk):
            self.computes += 1

    return ComputeCounter()


def numpy_of(value):
    """The value with every dask array in it computed (in dicts, lists, tuples and
    dataclasses too): the NumPy oracle's input for a call on dask arrays."""
    if hasattr(value, "dask") and hasattr(value, "compute"):
        return value.compute()
    if isinstance(value, dict):
        return {k: numpy_of(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: numpy_of(getattr(value, f.name))
                                             for f in dataclasses.fields(value)})
    if isinstance(value, (list, tuple)):
        return type(value)(numpy_of(v) for v in value)
    return value


def leaves(value):
    """The leaves of a value in dicts (by sorted key), dataclasses, lists and tuples."""
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in leaves(value[k])]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [leaf for f in dataclasses.fields(value)
                for leaf in leaves(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def as_tuple(result, case):
    """A single gradient as a tuple of one, like a tuple of several."""
    return (result,) if case.single else result


def gradients_of(case, inputs, **options):
    df = s2sad.grad(case.fn, wrt=case.wrt(inputs), **options)
    return as_tuple(df(*inputs.args, **inputs.kwargs), case)
