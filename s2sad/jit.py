"""The compiled path: generated code handed to Numba (an optional dependency).

`s2sad.grad(f, jit=True)` compiles the generated module as usual, with its loops
written in the forms Numba's nopython mode accepts (`range(n - 1, -1, -1)` for
`reversed(range(n))`), and hands that very function to `numba.njit`, with the few
runtime helpers it may call replaced by compiled ones. Numba types the function at
its first call; where the code is outside Numba's subset (or Numba is missing) the
call falls back to the Python function, once, with a `JitFallback` warning that
says why.
"""
from __future__ import annotations

import re
import types
import warnings
from typing import Any, Callable, Dict, Optional

import gast

from .lower import builtin, constant


class JitFallback(UserWarning):
    """The generated code runs as Python: Numba is missing or refused it."""


def numba_friendly(func: gast.FunctionDef) -> None:
    """Rewrite backward loops over `reversed(range(...))` as explicit ranges, in place."""
    for node in gast.walk(func):
        if isinstance(node, gast.For):
            explicit = _explicit_range(node.iter)
            if explicit is not None:
                node.iter = explicit


def _explicit_range(iterate: gast.AST) -> Optional[gast.AST]:
    """reversed(range(n)) -> range(n - 1, -1, -1); reversed(range(a, b)) ->
    range(b - 1, a - 1, -1); reversed(range(n)[:k]) -> range(k - 1, -1, -1). Steps
    other than 1 are left alone (Numba then refuses, and the call falls back)."""
    if not (_is_call_of(iterate, "reversed") and len(iterate.args) == 1):
        return None
    inner = iterate.args[0]
    limit = None
    if isinstance(inner, gast.Subscript) and isinstance(inner.slice, gast.Slice) and \
            inner.slice.lower is None and inner.slice.step is None and \
            inner.slice.upper is not None:
        limit, inner = inner.slice.upper, inner.value
    if not _is_call_of(inner, "range") or not 1 <= len(inner.args) <= 2:
        return None
    start = inner.args[0] if len(inner.args) == 2 else constant(0)
    stop = inner.args[-1] if limit is None else _plus(start, limit)
    last = _minus(stop, 1)
    before = _minus(start, 1)
    return gast.Call(func=builtin(range), args=[last, before, constant(-1)], keywords=[])


def _is_call_of(node: gast.AST, builtin_name: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == builtin_name


def _plus(a: gast.AST, b: gast.AST) -> gast.AST:
    if isinstance(a, gast.Constant) and a.value == 0:
        return b
    return gast.BinOp(left=a, op=gast.Add(), right=b)


def _minus(a: gast.AST, k: int) -> gast.AST:
    if isinstance(a, gast.Constant) and isinstance(a.value, int):
        return constant(a.value - k)
    return gast.BinOp(left=a, op=gast.Sub(), right=constant(k))


# -- compiling ----------------------------------------------------------------------

_HELPERS: Optional[Dict[str, Any]] = None


def _compiled_helpers(numba) -> Dict[str, Any]:
    """The runtime helpers generated loop code calls, compiled."""
    global _HELPERS
    if _HELPERS is None:
        import numpy as np

        @numba.njit(cache=False)
        def zeros_like(x):
            return np.zeros_like(x)

        @numba.njit(cache=False)
        def unsum(dy, x):  # the adjoint of np.sum(x) over all axes (other forms refused)
            return np.full(x.shape, dy)

        _HELPERS = {"zeros_like": zeros_like, "unsum": unsum}
    return _HELPERS


class JitFunction:
    """The generated function, run compiled where Numba accepts it."""

    def __init__(self, function: Callable):
        self.function = function
        self.compiled: Optional[Callable] = None
        self.failed: Optional[str] = None
        self.warned = False
        try:
            import numba
        except ImportError:
            self.failed = "Numba is not installed (pip install numba)"
            return
        namespace = dict(function.__globals__)
        namespace.update(_compiled_helpers(numba))
        rebound = types.FunctionType(function.__code__, namespace, function.__name__,
                                     function.__defaults__, function.__closure__)
        # (Numba's linear algebra needs SciPy, and says so with an ImportError when it
        # compiles a product: the code then runs as Python, as for what Numba refuses)
        self._errors = (numba.core.errors.NumbaError, ImportError)
        self.compiled = numba.njit(rebound)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None:
            if self.function.__kwdefaults__:  # Numba applies no keyword-only defaults
                kwargs = {**self.function.__kwdefaults__, **kwargs}  # (the seed df=1.0)
            defaults = self.function.__defaults__
            if defaults:  # nor positional ones, when keywords are passed (the seed)
                count = self.function.__code__.co_argcount
                missing = count - len(args)
                if 0 < missing <= len(defaults):
                    names = self.function.__code__.co_varnames[len(args):count]
                    filled = defaults[len(defaults) - missing:]
                    kwargs = {**dict(zip(names, filled)), **kwargs}
            try:
                return self.compiled(*args, **kwargs)
            except self._errors as exc:
                self.failed = f"Numba cannot compile {self.function.__name__}: " \
                    f"{_first_line(str(exc)) or type(exc).__name__}"
                self.compiled = None
        if self.failed is not None and not self.warned:
            warnings.warn(f"s2sad jit: running the generated code as Python: {self.failed}",
                          JitFallback, stacklevel=3)
            self.warned = True
        return self.function(*args, **kwargs)


def _first_line(message: str) -> str:
    """Numba's first meaningful line, without its terminal colour codes."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", message)
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith("Failed in")]
    return (meaningful or lines or [""])[0]
