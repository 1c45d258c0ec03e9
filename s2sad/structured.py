"""The call path of structured arguments: flatten, run the flat transform, rebuild.

A call passing a dict of parameters, a list of layers or an object is compiled for the
structure of its arguments: the desugar stage reads the function with one parameter
per leaf (`params_W1`, `layers_0_1`), and the transform the caller asked for (grad,
jvp, vjp, ...) is made for that flat function like for any other, with its own cache
per rank and its fast entry. Here the call's arguments are taken apart into those
leaves, and the results put back together in the arguments' structures.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import desugar, frontend, pytree
from .errors import ArgumentError
from .pytree import Tree


@dataclass
class Flattened:
    """A function read for one structure of its arguments."""

    parsed: frontend.Parsed
    flat: desugar.Flat
    trees: Dict[str, Optional[Tree]]

    def arguments(self, values: Dict[str, Any]) -> List[Any]:
        """The flat function's arguments for a call's bound arguments."""
        flat_args: List[Any] = []
        for param, _, whole in self.flat.layout:
            tree = self.trees.get(param)
            if tree is None:
                flat_args.append(values[param])
                continue
            flat_args.extend(pytree.leaves(values[param], tree))
            if whole:
                flat_args.append(values[param])
        return flat_args

    def positions(self, param: str) -> List[int]:
        """Where the leaves of `param` sit among the flat arguments."""
        start = 0
        for name, names, whole in self.flat.layout:
            if name == param:
                return list(range(start, start + len(names)))
            start += len(names) + (1 if whole else 0)
        raise KeyError(param)


@dataclass
class Call:
    """A structured call: its bound arguments and the structure of each."""

    values: Dict[str, Any]
    trees: Dict[str, Optional[Tree]]
    key: Tuple[Optional[Tree], ...]


def structured_call(signature: inspect.Signature, fn: Callable, args: tuple, kwargs: dict,
                    wrt: Sequence[str], always: bool = False) -> Optional[Call]:
    """The call's structures, or None where no argument is structured (the common
    path, unchanged) and not `always` (has_aux: the output's structure is needed).
    Differentiated structures must hold floats (refused naming the path otherwise)."""
    if not always and not any(pytree.is_structured(a) for a in args) and \
            not any(pytree.is_structured(v) for v in kwargs.values()):
        defaults = [p.default for p in signature.parameters.values()
                    if p.default is not p.empty]
        if not any(pytree.is_structured(d) for d in defaults):
            return None
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    attributes = _attribute_reader(fn)
    trees: Dict[str, Optional[Tree]] = {}
    for param, value in values.items():
        if pytree.is_structured(value):
            try:
                trees[param] = pytree.describe(value, param in wrt, param, attributes)
            except ArgumentError as exc:
                if exc.location is None:
                    exc.location = frontend.parameter_location(fn, param)
                raise
        else:
            trees[param] = None
    return Call(values, trees, tuple(trees.get(p) for p in signature.parameters))


def needs_desugar(fn: Callable) -> bool:
    """A function called with plain arguments that still builds or reads structures
    of its own (see desugar.needed); False where its source cannot be read here (the
    usual path gives the diagnostic)."""
    try:
        return desugar.needed(frontend.read_function(fn))
    except Exception:  # (any refusal is raised again on the usual path, located)
        return False


def flatten_function(fn: Callable, trees: Dict[str, Optional[Tree]],
                     differentiated: Sequence[str]) -> Flattened:
    """`fn` read with one parameter per leaf of its structured arguments."""
    found: List[desugar.Flat] = []

    def rewrite(parsed: frontend.Parsed) -> None:
        found.append(desugar.flatten_root(parsed, trees, differentiated, frontend.read_function,
                                          frontend.finish))

    parsed = frontend.parse_function(fn, desugar=rewrite)
    return Flattened(parsed, found[0], trees)


def rebuild(tree: Optional[Tree], values: Sequence[Any], like: Any) -> Any:
    """One argument's gradient (or tangent) from its leaves' values."""
    if tree is None:
        return values[0]
    return pytree.rebuild(tree, list(values), like)


def output_of(flattened: Flattened, value: Any) -> Any:
    """The function's value in the structure its source returns (a dict, a tuple)."""
    tree = flattened.flat.output
    if tree is None or tree.kind == pytree.LEAF:
        return value
    leaves = list(value) if isinstance(value, (tuple, list)) else [value]
    return _build_output(tree, iter(leaves))


def _build_output(tree: Tree, leaves) -> Any:
    if tree.kind == pytree.LEAF:
        return next(leaves)
    if tree.kind == pytree.CONST:
        return pytree.constant_value(tree)
    items = [_build_output(child, leaves) for child in tree.children]
    if tree.kind == pytree.DICT:
        return dict(zip(tree.keys, items))
    if tree.kind == pytree.LIST:
        return items
    if tree.kind == pytree.TUPLE:
        return tuple(items)
    if tree.kind == pytree.NAMEDTUPLE:
        return tree.type(*items)
    if tree.kind == pytree.DATACLASS:
        init = {f.name for f in __import__("dataclasses").fields(tree.type) if f.init}
        made = tree.type(**{k: v for k, v in zip(tree.keys, items) if k in init})
        for k, v in zip(tree.keys, items):
            if k not in init:
                object.__setattr__(made, k, v)
        return made
    raise AssertionError(tree.kind)


_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_]\w*)")


def _attribute_reader(fn: Callable) -> Callable[[Any], Optional[Sequence[str]]]:
    """For an object passed along (self, a model, a config): the attributes the code
    may read, the names after a dot in the function's and the class's source. Only
    they are part of the structure (a history list the object keeps growing is not)."""
    try:
        own = set(_ATTRIBUTE.findall(inspect.getsource(fn)))
    except (OSError, TypeError):
        own = set()

    def attributes(value: Any) -> Optional[Sequence[str]]:
        names = set(own)
        try:
            names |= set(_ATTRIBUTE.findall(inspect.getsource(type(value))))
        except (OSError, TypeError):
            pass
        held = set(getattr(value, "__dict__", {})) | set(getattr(type(value), "__slots__", ()))
        return sorted(n for n in names if n in held or hasattr(type(value), n) and not
                      callable(getattr(type(value), n, None)))

    return attributes
