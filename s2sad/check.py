"""Gradient checks against central differences, for `check_grad` and the tests."""
from __future__ import annotations

from typing import Any, Callable, List, Sequence

import numpy as np

from . import pytree
from .api import _leaves_of, keywords_checked
from .errors import S2SADError, entry_point
from .runtime import is_foreign_array


class GradientCheckError(S2SADError):
    """The generated gradient disagrees with central differences."""


def _call_on_copies(f: Callable, args: Sequence[Any]) -> float:
    """f may write into its arguments; give it copies so every probe starts clean."""
    from .api import _copied
    return float(f(*[_copied(a) for a in args]))


def _leaf_checks(f: Callable, args: Sequence[Any], index: int, got: Any):
    """(label, s2sad's gradient, a function of the leaf alone, the position of the
    leaf among its arguments) for each leaf of argument `index`: a dict of parameters
    is checked array by array."""
    x = args[index]
    if not pytree.is_structured(x):
        yield f"argument {index}", got, f, args
        return
    tree = pytree.describe(x, True, f"argument {index}")
    values = pytree.leaves(x, tree)
    computed = pytree.leaves(got, tree)
    for k, (path, _) in enumerate(tree.leaf_paths()):
        def of_leaf(*probe, k=k):
            leaves = list(values)
            leaves[k] = probe[index]
            whole = list(probe)
            whole[index] = pytree.rebuild(tree, leaves, x)
            return f(*whole)
        label = f"argument {index}" + "".join(
            f".{key}" if kind in (pytree.NAMEDTUPLE, pytree.DATACLASS) else f"[{key!r}]"
            for kind, key in path)
        yield label, computed[k], of_leaf, [*args[:index], values[k], *args[index + 1:]]


def numeric_grad(f: Callable, args: Sequence[Any], index: int, eps: float = 1e-6) -> Any:
    """Central differences of scalar f with respect to positional argument `index`."""
    args = list(args)
    x = args[index]
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        def at(value):
            args[index] = value
            return _call_on_copies(f, args)
        x = float(x)  # (an np.float32 would round x + eps back to x)
        return (at(x + eps) - at(x - eps)) / (2 * eps)
    x = np.array(x, dtype=float)
    result = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        shifted = []
        for sign in (1, -1):
            probe = x.copy()
            probe[i] += sign * eps
            args[index] = probe
            shifted.append(_call_on_copies(f, args))
        result[i] = (shifted[0] - shifted[1]) / (2 * eps)
    return result


@entry_point
@keywords_checked
def check_grad(f: Callable, *args: Any, wrt=None, argnums=None, rtol: float = 1e-5,
               atol: float = 1e-7, eps: float = 1e-6) -> bool:
    """Compare s2sad's gradient of `f` at `args` with central differences, then
    forward mode with reverse mode (the dot-product test); `wrt` (or `argnums`, its
    JAX name) as for grad, by default the first argument.

    Returns True, or raises GradientCheckError with a readable report naming which
    disagrees.
    """
    import inspect

    from .api import _wrt_or_argnums, grad
    wrt = _wrt_or_argnums(wrt, argnums)
    single = isinstance(wrt, (int, np.integer, str))
    items = [wrt] if single else list(wrt)
    positional = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for item in items:
        if isinstance(item, str) and item not in positional:
            from .errors import ArgumentError
            raise ArgumentError(
                f"check_grad probes positional parameters; {item!r} is not one",
                hint="check a keyword-only parameter with s2sad.grad and your own "
                     "differences, or make it positional")
    for item in items:
        if not isinstance(item, str) and not -len(positional) <= int(item) < len(positional):
            from .errors import ArgumentError
            raise ArgumentError(f"wrt={item} is out of range: the function has "
                                f"{len(positional)} positional parameter(s) {positional}",
                                hint="count from 0, or name the parameter")
    indices: List[int] = [positional.index(i) if isinstance(i, str) else int(i) % len(positional)
                          for i in items]
    from .api import _copied
    computed = grad(f, wrt=tuple(indices))(*[_copied(a) for a in args])
    # dask's or CuPy's arrays: their gradient, computed once, against differences of
    # the same numbers in NumPy (each probe would otherwise be a compute of its own)
    computed, args = _in_numpy(computed), tuple(_in_numpy(a) for a in args)
    problems = []
    checks = [(index, check) for index, whole in zip(indices, computed)
              for check in _leaf_checks(f, args, index, whole)]
    for index, (label, got, probed, probe_args) in checks:
        expected = numeric_grad(probed, probe_args, index, eps)
        if np.shape(got) != np.shape(expected):
            problems.append(f"{label}: gradient shape {np.shape(got)}, "
                            f"expected {np.shape(expected)}")
        elif not np.allclose(got, expected, rtol=rtol, atol=atol):
            error = np.max(np.abs(np.asarray(got) - expected))
            problems.append(f"{label}: max abs error {error:.3g}\n"
                            f"  s2sad:               {np.array2string(np.asarray(got))}\n"
                            f"  central differences: {np.array2string(np.asarray(expected))}")
    if not problems:
        problems = _modes_disagree(f, args, indices, computed, rtol)
    if problems:
        raise GradientCheckError(
            f"gradient of {getattr(f, '__name__', f)} disagrees with central differences:\n"
            + "\n".join(problems),
            hint="print s2sad.source(f) (and s2sad.source(f, mode='forward')) to read "
                 "the generated code")
    return True


def _in_numpy(value: Any) -> Any:
    """`value` with its dask and CuPy arrays as NumPy's (dask's computed)."""
    if not any(is_foreign_array(leaf) for leaf in _leaves_of(value)):
        return value
    if pytree.is_structured(value) and not pytree.is_user_object(value):
        tree = pytree.describe(value, False, "argument")
        return pytree.rebuild(tree, [_in_numpy(leaf) for leaf in pytree.leaves(value, tree)],
                              value)
    if hasattr(value, "compute"):  # dask's
        return np.asarray(value.compute())
    return np.asarray(value.get() if hasattr(value, "get") else value)  # CuPy's: .get()


def _direction(x: Any, rng: np.random.Generator) -> Any:
    """A random direction shaped like x (a structure of them for a structure)."""
    if pytree.is_structured(x):
        tree = pytree.describe(x, True, "argument")
        return pytree.rebuild(tree, [_direction(leaf, rng) for leaf in pytree.leaves(x, tree)],
                              x)
    return rng.uniform(-1.0, 1.0, np.shape(x)) if isinstance(x, np.ndarray) else \
        float(rng.uniform(-1.0, 1.0))


def _all_leaves(values: Sequence[Any], args: Sequence[Any], indices: List[int]) -> list:
    """The leaves of each differentiated argument's gradient (or direction), in order."""
    found = []
    for value, index in zip(values, indices):
        if pytree.is_structured(args[index]):
            found.extend(pytree.leaves(value, pytree.describe(args[index], True, "argument")))
        else:
            found.append(value)
    return found


def _modes_disagree(f: Callable, args: Sequence[Any], indices: List[int], gradients,
                    rtol: float) -> List[str]:
    """The dot-product test: <J x_dot, y_bar> = <x_dot, J^T y_bar> for a random
    direction x_dot and y_bar = 1, forward mode against reverse mode (skipped where a
    call has a reverse rule and no forward one, e.g. a user's @adjoint alone)."""
    from .api import _copied, jvp
    from .errors import NoDerivativeRuleError
    rng = np.random.default_rng(0)
    directions = [_direction(args[i], rng) for i in indices]
    try:
        _, forward = jvp(f, wrt=tuple(indices))(
            *[_copied(a) for a in args],
            tuple(directions))
    except NoDerivativeRuleError:
        return []
    reverse = sum(float(np.sum(np.asarray(g) * d)) for g, d in
                  zip(_all_leaves(gradients, args, indices), _all_leaves(directions, args, indices)))
    if np.isclose(float(forward), reverse, rtol=max(rtol, 1e-9), atol=1e-9):
        return []
    return [f"forward and reverse mode disagree (dot-product test along a random "
            f"direction): forward {float(forward):.12g}, reverse {reverse:.12g} "
            f"(reverse matches central differences, so forward mode is wrong)"]
