"""Arrays of other libraries: dask.array, CuPy, any float array speaking NumPy's protocols.

The generated code is NumPy code, and an array type that implements NumPy's dispatch
protocols (`__array_function__`, `__array_ufunc__`) runs it unchanged: `np.exp(X @ w)`
on a dask array builds a lazy graph, on a CuPy array runs on the GPU. This module is
what the call path needs to let such arrays in: which values they are, the part of the
compile key that tells their code apart (no writes into dead temporaries' arrays:
`out=` means nothing to an immutable dask array), the guard that refuses a compute
while the gradient of dask arrays is being built (a hidden `np.asarray` or `float()`
would gather the whole data into one process), and the gradient in its input's type
and chunks.
"""
from __future__ import annotations

import contextlib
import linecache
import threading
import types
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Tuple

import numpy as np

from .errors import Location, S2SADError
from .runtime import is_foreign_array


def type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def is_lazy(types_: Tuple[str, ...]) -> bool:
    """Arrays whose values exist only once computed (dask's)."""
    return any(t.startswith("dask.") for t in types_)


def is_lazy_array(value: Any) -> bool:
    """A dask array (or another lazy library's, by is_lazy's test of its type)."""
    return is_foreign_array(value) and is_lazy((type_name(value),))


def library(types_: Tuple[str, ...]) -> str:
    """The libraries of these array types, for the code's header (`dask`, `cupy`)."""
    return ", ".join(sorted({t.split(".")[0] for t in types_}))


# -- the guard: no compute while the gradient of dask arrays is built -----------------

class EagerCompute(RuntimeError):
    """Raised by the scheduler the guard installs: something asked for a dask value."""


# The guard installs one scheduler for the whole process (dask's configuration is
# global) while any thread builds a gradient; it refuses the computes of the threads
# building one and hands every other thread's to the scheduler configured before.
_lock = threading.Lock()
_building = threading.local()  # .depth: the guards this thread is inside
_guards = 0                    # the guards of every thread, open now
_before: Any = None            # the scheduler configured before the first of them


def _guarded_scheduler(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    if getattr(_building, "depth", 0):
        raise EagerCompute()
    from dask.base import get_scheduler
    from dask.threaded import get as threaded_get

    before = _before
    scheduler = get_scheduler(scheduler=before) \
        if before is not None and before is not _guarded_scheduler else threaded_get
    return scheduler(dsk, keys, **kwargs)


@contextlib.contextmanager
def computes_refused() -> Iterator[None]:
    """While the block runs, any dask compute this thread starts raises EagerCompute
    (before it starts); other threads' computes run as before. (Installed and removed
    by assignment, not as a context of dask.config.set: another thread's own set and
    its undo may interleave with ours; the scheduler hands on whatever is not ours.)"""
    import dask

    global _guards, _before
    with _lock:
        if _guards == 0:
            current = dask.config.get("scheduler", None)
            if current is not _guarded_scheduler:  # (left installed by an interleaving)
                _before = current
            dask.config.set(scheduler=_guarded_scheduler)
        _guards += 1
    _building.depth = getattr(_building, "depth", 0) + 1
    try:
        yield
    finally:
        _building.depth -= 1
        with _lock:
            _guards -= 1
            if _guards == 0 and dask.config.get("scheduler", None) is _guarded_scheduler:
                dask.config.set(scheduler=_before)
                _before = None


def eager_compute_error(exc: BaseException, code_file: str, name: str,
                        generated: bool = True) -> S2SADError:
    """The refusal for a compute the code in file `code_file` (generated, or the user's
    function `name`) asked for: the line of it that did, and what to write instead."""
    frames = [(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
              for tb in _tracebacks(exc.__traceback__)]
    line = next((n for f, n in reversed(frames) if f == code_file), None)
    text = linecache.getline(code_file, line).strip() if line is not None else ""
    where = f" at line {line} of its code: `{text}`" if text and generated else ""
    location = None
    if text and not generated:  # (the user's own line: shown as any refusal shows it)
        source = linecache.getline(code_file, line)
        location = Location(code_file, line, len(source) - len(source.lstrip()), source)
    what = f"the gradient of {name}" if generated else name
    return S2SADError(
        f"{what} on dask arrays would compute a dask value{where}; "
        "s2sad builds gradients of dask arrays lazily and computes nothing", location,
        hint="call only functions dask implements (np.asarray and most of SciPy convert "
             "their argument to NumPy, which computes it), decide no Python `if` on the "
             "data (np.where(c, a, b) instead); or pass NumPy arrays (X.compute())")


def _same_shape(a: tuple, b: tuple) -> bool:
    """Equal shapes, where a length dask does not know (nan) equals another unknown."""
    return len(a) == len(b) and all(m == n or m != m and n != n for m, n in zip(a, b))


def _tracebacks(tb: Optional[types.TracebackType]) -> Iterator[types.TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


# -- the gradient in its input's type -------------------------------------------------

def gradient_like(g: Any, x: Any) -> Any:
    """The gradient of a foreign array `x` in x's type, dtype and shape, and for a dask
    array in x's chunks (all lazily: rechunk and astype build graph, compute nothing);
    a foreign gradient of a NumPy `x` (computed from dask data) stays lazy, in x's dtype."""
    if is_foreign_array(x) and (not is_foreign_array(g) or type(g) is not type(x)):
        g = np.zeros_like(x) + g  # (a number, or a NumPy array: in x's type by dispatch)
    dtype = getattr(x, "dtype", np.dtype(float))  # (a Python float's: float64)
    if g.dtype != dtype:
        g = g.astype(dtype)
    if not _same_shape(tuple(g.shape), np.shape(x)):
        raise S2SADError(
            f"internal error: gradient of shape {tuple(g.shape)} for an input of shape "
            f"{np.shape(x)}", hint="please report this function to the s2sad developers")
    chunks = getattr(x, "chunks", None)
    if chunks is not None and getattr(g, "chunks", None) != chunks and hasattr(g, "rechunk") \
            and not np.isnan(x.shape).any():  # (unknown lengths: chunks not comparable)
        g = g.rechunk(chunks)
    return g


# -- the compile key --------------------------------------------------------------------

@dataclass(frozen=True)
class Foreign:
    """A compile key's entry for a foreign array argument: its rank (None for 0-d, as
    for NumPy's) and its type, so that its code is compiled apart from NumPy's."""

    rank: Optional[int]
    type: str


def key_entry(value: Any) -> Optional[Foreign]:
    """The key entry of a foreign array, or None for any other value."""
    if not is_foreign_array(value):
        return None
    return Foreign(len(value.shape) or None, type_name(value))


def ranks_and_types(key: tuple, names: list) -> Tuple[dict, dict]:
    """{parameter: rank} and {parameter: foreign type} of a compile key."""
    ranks, foreign = {}, {}
    for name, entry in zip(names, key):
        if isinstance(entry, Foreign):
            ranks[name], foreign[name] = entry.rank, entry.type
        else:
            ranks[name] = entry
    return ranks, foreign
