"""Structured arguments (pytrees): what a call passes, described as a tree of leaves.

A JAX or autograd user keeps parameters in dicts, lists of layer tuples, namedtuples
and dataclasses. s2sad compiles per structure, as it compiles per rank: the structure
of a call's arguments is known when the call is compiled, so the desugar stage gives
every leaf a plain local of its own (`params["W1"]` becomes `params_W1`) and the later
stages see only floats and arrays. This module describes a value's structure (a
hashable `Tree`, part of the compile cache key), takes its leaves out in a fixed
order, and builds a value of the same structure from new leaves (the gradient).

Leaves are floats, ints and arrays (values the code computes with), and values of
other types the function may only pass along. Strings, None, booleans, functions,
modules and classes, and the integers inside a structure that is not differentiated
(a config's n_layers), are constants of the structure: two calls differing in them
are compiled apart, and the code reads them as literals (`if cfg.act == "tanh"` is
decided when the call is compiled).
"""
from __future__ import annotations

import builtins
import copy
import dataclasses
import functools
import keyword
import numbers
import re
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .arrays import is_foreign_array
from .distributions import is_distribution
from .errors import ArgumentError

LEAF = "leaf"          # a value the code computes with (float, int, array, other object)
CONST = "const"        # a constant of the structure (str, None, bool, function, ...)
LIST, TUPLE, DICT = "list", "tuple", "dict"
NAMEDTUPLE, DATACLASS, OBJECT = "namedtuple", "dataclass", "object"

CONTAINERS = (LIST, TUPLE, DICT, NAMEDTUPLE, DATACLASS, OBJECT)
SEQUENCES = (LIST, TUPLE, NAMEDTUPLE)   # indexable by position, unpackable
RECORDS = (NAMEDTUPLE, DATACLASS, OBJECT)  # fields read as attributes

_MAX_DEPTH = 32


@dataclass(frozen=True)
class Tree:
    """The structure of a value. `kind` is one of the constants above; `type` the class
    of a namedtuple, dataclass or object (or a leaf's rank, or a constant's value);
    `keys` the dict keys or field names; `children` the subtrees, in `keys`' order.
    A leaf's rank is not part of it: the flat function is compiled per rank anyway."""

    kind: str
    type: Any = None
    keys: Tuple[Any, ...] = ()
    children: Tuple["Tree", ...] = ()

    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINERS

    def leaf_count(self) -> int:
        if self.kind == LEAF:
            return 1
        return sum(child.leaf_count() for child in self.children)

    def leaf_paths(self, prefix: Tuple[Any, ...] = ()) -> Iterator[Tuple[Tuple[Any, ...], "Tree"]]:
        """(path, leaf tree) of every leaf, in flattening order."""
        if self.kind == LEAF:
            yield prefix, self
            return
        for key, child in zip(self.keys, self.children):
            yield from child.leaf_paths(prefix + ((self.kind, key),))


_LEAF = Tree(LEAF)


def is_structured(value: Any) -> bool:
    """Whether a call's argument is a structure to flatten (rather than a float, an
    array or another value passed along whole)."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return False
    if kind in (list, tuple, dict) or isinstance(value, dict):
        return True
    return _is_namedtuple(value) or _is_dataclass_instance(value) or is_user_object(value)


_PLAIN_LEAVES = frozenset({np.ndarray, float, int, str, bool, type(None), np.float64,
                           np.float32})


_FUNCTION_LIKE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                  types.ModuleType, type, np.ufunc, functools.partial)
_LIBRARY_MODULES = frozenset({"builtins", "numpy", "scipy", "math", "functools",
                              "collections", "numba", "dask", "jax", "autograd", "s2sad"})


def is_function_like(value: Any) -> bool:
    """A function, a NumPy ufunc, a builtin or a class: a constant a call may pass."""
    return isinstance(value, _FUNCTION_LIKE) and not isinstance(value, types.ModuleType)


def is_user_object(value: Any) -> bool:
    """An instance of a class of the user's (a model, a config): its attributes are
    read as a structure's fields."""
    if isinstance(value, _FUNCTION_LIKE) or isinstance(value, (np.ndarray, np.generic)):
        return False
    kind = type(value)
    module = (getattr(kind, "__module__", None) or "").split(".")[0]
    if module == "builtins" and getattr(builtins, kind.__name__, None) is not kind:
        module = ""  # (a class made by exec(source, {}) says it is the builtins')
    return module not in _LIBRARY_MODULES and (
        hasattr(value, "__dict__") or hasattr(kind, "__slots__"))


def describe(value: Any, differentiated: bool, path: Any,
             object_attributes: Callable[[Any], Optional[Sequence[str]]] = lambda v: None,
             depth: int = 0) -> Tree:
    """The tree of `value`. In a differentiated argument every leaf must be a float or
    a float array (None stays None); anything else is refused naming its path, as
    JAX does. `object_attributes(obj)` gives the attributes of an object of the user's
    (neither a namedtuple nor a dataclass) that the code may read. (`path` is the
    argument's name, or below it (parent path, key, "[" or "."), written out only for
    an error: a call describes its arguments every time.)"""
    if depth > _MAX_DEPTH:
        raise ArgumentError(f"{path_text(path)} nests structures more than {_MAX_DEPTH} "
                            "deep", hint="pass the arrays in a flatter structure")
    kind = type(value)
    if kind is np.ndarray or kind is float or isinstance(value, (np.ndarray, np.generic)) \
            and not isinstance(value, np.bool_):
        if differentiated and (kind is not float and value.dtype.kind != "f"):
            _require_float(value, path_text(path))
        return _LEAF
    if value is None or kind in (str, bool, np.bool_) or isinstance(value, _FUNCTION_LIKE) or \
            callable(value) and not is_structured(value) or is_distribution(value):
        if differentiated and value is not None:
            _require_float(value, path_text(path))
        return Tree(CONST, _Constant(value))
    if isinstance(value, numbers.Number):
        if differentiated:
            _require_float(value, path_text(path))
        if isinstance(value, numbers.Integral) and depth > 0:
            # a count in a config (n_layers, n_steps): known when the call is compiled,
            # so it may select from a structure or bound a loop over one
            return Tree(CONST, _Constant(int(value)))
        return _LEAF
    below = depth + 1
    if isinstance(value, dict):  # (an OrderedDict too: a PyTorch-style state_dict)
        if not all(type(k) in (str, int) for k in value):
            bad = next(k for k in value if type(k) not in (str, int))
            raise ArgumentError(f"{path_text(path)} has the key {bad!r}; s2sad reads dicts "
                                "with string or integer keys", hint="use string keys, e.g. 'W1'")
        keys = tuple(value)
        return Tree(DICT, None if kind is dict else kind, keys, tuple([
            describe(value[k], differentiated, (path, k, "["), object_attributes, below)
            for k in keys]))
    if kind in (list, tuple):
        return Tree(LIST if kind is list else TUPLE, None, tuple(range(len(value))), tuple([
            describe(v, differentiated, (path, i, "["), object_attributes, below)
            for i, v in enumerate(value)]))
    if _is_namedtuple(value):
        fields = tuple(value._fields)
        return Tree(NAMEDTUPLE, kind, fields, tuple([
            describe(v, differentiated, (path, f, "."), object_attributes, below)
            for f, v in zip(fields, value)]))
    if _is_dataclass_instance(value):
        fields = tuple(f.name for f in dataclasses.fields(value))
        return Tree(DATACLASS, kind, fields, tuple([
            describe(getattr(value, f), differentiated, (path, f, "."), object_attributes,
                     below) for f in fields]))
    attributes = None if differentiated or not is_user_object(value) else \
        object_attributes(value)
    if attributes is not None:
        present = tuple(a for a in attributes if _has_instance_attribute(value, a))
        return Tree(OBJECT, kind, present, tuple([
            describe(getattr(value, a), False, (path, a, "."), object_attributes, below)
            for a in present]))
    if differentiated:
        _require_float(value, path_text(path))
    return _LEAF  # passed along whole


def path_text(path: Any) -> str:
    """params['W1'][0].b, from describe's path."""
    if isinstance(path, str):
        return path
    parent, key, how = path
    return path_text(parent) + (f"[{key!r}]" if how == "[" else f".{key}")


def leaves(value: Any, tree: Tree) -> List[Any]:
    """The leaf values of `value` (of structure `tree`), in flattening order."""
    found: List[Any] = []
    _collect(value, tree, found)
    return found


def _collect(value: Any, tree: Tree, found: List[Any]) -> None:
    if tree.kind == LEAF:
        found.append(value)
    elif tree.kind == DICT:
        for key, child in zip(tree.keys, tree.children):
            _collect(value[key], child, found)
    elif tree.kind in (LIST, TUPLE, NAMEDTUPLE):
        for item, child in zip(value, tree.children):
            _collect(item, child, found)
    elif tree.kind in (DATACLASS, OBJECT):
        for key, child in zip(tree.keys, tree.children):
            _collect(getattr(value, key), child, found)


def rebuild(tree: Tree, new_leaves: Sequence[Any], like: Any) -> Any:
    """A value of structure `tree` with `new_leaves` for its leaves (constants as in
    `like`, None as None): the gradient of a structured argument has the argument's
    structure, a namedtuple or dataclass of the same type included."""
    position = [0]

    def build(tree: Tree, original: Any) -> Any:
        if tree.kind == LEAF:
            position[0] += 1
            return new_leaves[position[0] - 1]
        if tree.kind == CONST:
            return original
        if tree.kind == DICT:
            items = {k: build(c, original[k]) for k, c in zip(tree.keys, tree.children)}
            return items if tree.type is None else tree.type(items)
        if tree.kind in (LIST, TUPLE):
            items = [build(c, o) for c, o in zip(tree.children, original)]
            return items if tree.kind == LIST else tuple(items)
        if tree.kind == NAMEDTUPLE:
            return tree.type(*[build(c, o) for c, o in zip(tree.children, original)])
        if tree.kind == DATACLASS:
            return with_fields(original, **{k: build(c, getattr(original, k))
                                            for k, c in zip(tree.keys, tree.children)})
        raise AssertionError(f"no gradient of structure {tree.kind}")

    return build(tree, like)


def with_fields(original: Any, **values: Any) -> Any:
    """A copy of a dataclass with these fields, made without calling __init__: a
    gradient is not a model, so a __post_init__ that validates or normalises the
    fields must not run on it (a frozen dataclass's fields are set all the same)."""
    made = copy.copy(original)
    for key, value in values.items():
        object.__setattr__(made, key, value)
    return made


def made_with_fields(kind: type, **values: Any) -> Any:
    """An instance of a dataclass with these fields, without calling __init__ (a value
    the function returned: its __post_init__ ran when the function made it)."""
    made = kind.__new__(kind)
    for key, value in values.items():
        object.__setattr__(made, key, value)
    return made


def leaf_names(param: str, tree: Tree, taken: set) -> List[str]:
    """Readable local names for the leaves of argument `param`: `params_W1` for
    params["W1"], `layers_0_1` for layers[0][1], `cfg_lr` for cfg.lr; made distinct
    from `taken` (which they are added to)."""
    names = []
    for path, _ in tree.leaf_paths():
        parts = [param] + [_identifier_part(key) for _, key in path]
        names.append(fresh("_".join(parts), taken))
    return names


def fresh(preferred: str, taken: set) -> str:
    """`preferred`, or with a suffix where it is taken; reserved in `taken`."""
    candidate = preferred if not keyword.iskeyword(preferred) else preferred + "_"
    counter = 1
    while candidate in taken:
        candidate = f"{preferred}_{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def _identifier_part(key: Any) -> str:
    text = re.sub(r"\W", "_", str(key)).strip("_") or "key"
    return text


class _Constant:
    """A structure's constant, compared by value for strings, numbers and None, by
    identity for everything else (functions, classes, modules)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def _key(self) -> Any:
        if self.value is None or type(self.value) in (str, bool, np.bool_, int):
            return (type(self.value), self.value)
        return (type(self.value), id(self.value))

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Constant) and self._key() == other._key()

    def __repr__(self) -> str:
        return repr(self.value)


def constant_value(tree: Tree) -> Any:
    return tree.type.value


def _require_float(value: Any, path: str) -> None:
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{path} is a bool ({value!r}); only floats and float arrays "
                            "can be differentiated",
                            hint=f"pass {path} as a separate argument that is not "
                                 "differentiated")
    if isinstance(value, numbers.Integral):
        raise ArgumentError(f"{path} is an integer ({value!r}); only floats and float "
                            "arrays can be differentiated",
                            hint=f"pass a float there (e.g. {float(value)!r}), or move it "
                                 "out of the differentiated argument")
    if isinstance(value, (np.ndarray, np.generic)) or is_foreign_array(value):
        if value.dtype.kind != "f":
            raise ArgumentError(f"{path} is an array of dtype {value.dtype}; only float "
                                "arrays can be differentiated",
                                hint=f"convert it, e.g. {path}.astype(float)")
        return
    if isinstance(value, numbers.Real):
        return
    raise ArgumentError(f"{path} is a {type(value).__name__}; a differentiated argument "
                        "holds floats and float arrays (in dicts, lists, tuples, "
                        "namedtuples and dataclasses)",
                        hint=f"move {path} out of the differentiated argument")


def is_namedtuple_type(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _is_dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _has_instance_attribute(value: Any, attribute: str) -> bool:
    """An attribute the object holds (its __dict__ or slots), not a method or a
    class-level function, which the desugar stage resolves through the class."""
    if attribute in getattr(value, "__dict__", {}):
        return True  # (held by the object, a function put there too)
    try:
        found = getattr(value, attribute)
    except AttributeError:
        return False
    in_class = getattr(type(value), attribute, _NOT_FOUND)
    if in_class is not _NOT_FOUND and (isinstance(in_class, (types.FunctionType,
                                                             staticmethod, classmethod,
                                                             property))
                                       or callable(in_class) and found is not in_class):
        return False
    return not isinstance(found, types.MethodType)


_NOT_FOUND = object()
