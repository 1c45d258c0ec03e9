"""The call path of `grad`: a small generated entry per set of argument types.

A scalar function's gradient runs in well under a microsecond, so the checks every
call needs (which compiled code fits these arguments, are they floats, is a gradient
one of the caller's arrays) must cost tens of nanoseconds, not microseconds. The entry
is written, like the derivative itself, as Python source for the argument types the
last call had: a guard of `type(x) is float` tests, the call, the conversions. Any
other call takes the general path, which checks everything and writes a new entry.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from .arrays import gradient_like, is_foreign_array
from .errors import S2SADError
from .floats import FLOAT_ERRORS
from .runtime import IntegerArrayWrite, NonScalarOutput, SharedUpdate, UnsupportedShapes

# what the generated code raises for a call it cannot differentiate
REFUSALS = (UnsupportedShapes, IntegerArrayWrite, SharedUpdate, NonScalarOutput)

# numbers whose type decides their rank (0) and whether they may be differentiated
_FLOAT_TYPES = (float, np.float64, np.float32, np.float16, np.longdouble)
_NUMBER_TYPES = _FLOAT_TYPES + (int, bool)


def make_entry(args: tuple, differentiated: Sequence[int],
               single: bool, with_value: bool, run: Callable, refresh: Optional[Callable],
               refusal: Callable[[Exception], Exception],
               general: Callable, current: Optional[Callable] = None,
               floats: Optional[Callable] = None,
               codes: Sequence[tuple] = ()) -> Optional[Callable]:
    """An entry taking `len(args)` positional arguments, fast for arguments of the same
    types (and array ranks and dtypes) as `args`, or None where no guard is cheap.

    `differentiated` holds the positions of the differentiated arguments; `run` is the
    compiled derivative; `general(*args)` is the checked call for every other case;
    `current()`, where given, tells that no helper inlined in the code was redefined;
    `floats`, where given, is the code for Python numbers that `run` backs up;
    `codes` holds (function, code) pairs: the functions read must still have that code
    (an in-place reload gives an edited function new code)."""
    names = [f"a{i}" for i in range(len(args))]  # called by position only
    env: dict = {"run": run, "refresh": refresh, "REFUSALS": REFUSALS, "refusal": refusal,
                 "general": general, "ndarray": np.ndarray, "like": like,
                 "floats": floats, "FLOAT_ERRORS": FLOAT_ERRORS, "float64": np.float64}
    guards = []
    for position, (name, value) in enumerate(zip(names, args)):
        guard = _guard(name, value, position in differentiated, env)
        if guard is None:
            return None
        guards.extend(guard)
    grads = [f"g{i}" for i in range(len(differentiated))]
    array_positions = [p for p in range(len(args)) if type(args[p]) is np.ndarray]
    arrays = [names[p] for p in array_positions]
    for index, (function, code) in enumerate(codes):
        env[f"source{index}"], env[f"code{index}"] = function, code
        guards.append(f"source{index}.__code__ is code{index}")
    if current is not None:
        env["current"] = current
        guards.append("current()")
    body = [f"def entry({', '.join(names)}):",
            f"    if {' and '.join(guards) or 'True'}:"]
    if refresh is not None:
        body.append("        refresh()")
    unpacked = ", ".join(grads)  # (the code returns one gradient bare)
    target = f"value, ({unpacked})" if with_value else unpacked
    call = ", ".join(names)
    numpy_call = ", ".join(f"float64({n})" if type(a) is float else n
                           for n, a in zip(names, args))
    if floats is None and numpy_call == call:
        body += ["        try:",
                 f"            {target} = run({call})"]
    elif floats is None:  # Python floats raise where NumPy's give inf or nan: rerun
        body += ["        try:",
                 "            try:",
                 f"                {target} = run({call})",
                 "            except FLOAT_ERRORS:",
                 f"                {target} = run({numpy_call})"]
    else:  # math's code, and where it raises NumPy's on NumPy floats, for inf or nan
        body += ["        try:",
                 "            try:",
                 f"                {target} = floats({call})",
                 "            except FLOAT_ERRORS:",
                 f"                {target} = run({numpy_call})"]
    body += ["        except REFUSALS as exc:",
             "            raise refusal(exc) from None"]
    for index, (grad, position) in enumerate(zip(grads, differentiated)):
        earlier = [g for g, p in zip(grads[:index], differentiated) if p in array_positions]
        body += _conversion(grad, names[position], args[position], arrays + earlier)
    result = grads[0] if single else f"({', '.join(grads)}{',' if len(grads) == 1 else ''})"
    body.append(f"        return value, {result}" if with_value else f"        return {result}")
    body.append(f"    return general({', '.join(names)})")
    namespace: dict = {}
    exec(compile("\n".join(body) + "\n", "<s2sad entry>", "exec"), env, namespace)
    return namespace["entry"]


def _guard(name: str, value: Any, differentiated: bool, env: dict) -> Optional[list]:
    """The tests that the argument `name` has value's type (and, for an array, its rank
    and dtype), or None where value's kind has no cheap test."""
    kind = type(value)
    if kind is np.ndarray:
        if differentiated and value.dtype.kind != "f":
            return None  # the general path raises the refusal
        env[f"{name}_dtype"] = value.dtype
        return [f"type({name}) is ndarray", f"{name}.ndim == {value.ndim}",
                f"{name}.dtype is {name}_dtype"]
    if kind in _NUMBER_TYPES:
        if differentiated and kind not in _FLOAT_TYPES:
            return None
        if kind is float:
            return [f"type({name}) is float"]
        env[f"{name}_type"] = kind
        return [f"type({name}) is {name}_type"]
    if differentiated:
        return None
    if kind in (list, tuple, dict, str, type(None)):  # no rank: the compiled code is generic
        env[f"{name}_type"] = kind
        return [f"type({name}) is {name}_type"]
    return None


def _conversion(grad: str, name: str, value: Any, arrays: list) -> list:
    """The lines that give the gradient its input's type (a float for a float) and make
    sure it is no array the caller holds (nor another gradient)."""
    kind = type(value)
    if kind is float:
        return [f"        {grad} = float({grad})"]
    if kind is not np.ndarray:
        return [f"        {grad} = {name}_type({grad})"]
    shared = " or ".join(f"{grad} is {other}" for other in arrays)  # (name among them)
    return [f"        if type({grad}) is not ndarray or {grad}.dtype is not {name}_dtype "
            f"or {grad}.shape != {name}.shape:",
            f"            {grad} = like({grad}, {name})",
            f"        if {shared}:",
            f"            {grad} = {grad}.copy()"]


def like(g: Any, x: Any) -> Any:
    """The gradient in the type and shape of its input (a float for a float; a lazy
    dask array, never computed here, where dask data made it one)."""
    if type(x) is float and type(g) is float:
        return g
    if type(g) is np.ndarray and type(x) is np.ndarray and g.dtype == x.dtype and \
            g.shape == x.shape:
        return g  # the common case, already right
    if is_foreign_array(g) or is_foreign_array(x):  # dask's, CuPy's: lazily
        return gradient_like(g, x)
    if type(x) is float:
        return float(g)
    if isinstance(x, np.ndarray):
        g = np.asarray(g, dtype=x.dtype)
        if g.shape != x.shape:
            raise S2SADError(
                f"internal error: gradient of shape {g.shape} for an input of shape "
                f"{x.shape}", hint="please report this function to the s2sad developers")
        return g
    if isinstance(x, np.floating):
        return type(x)(g)
    return float(g)
