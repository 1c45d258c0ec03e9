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
import types
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import desugar, frontend, pytree
from .anno import walk
from .desugar import numpy_forms
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
    # the shapes of the array arguments, where the code is compiled for them
    shapes: Optional[Tuple[Tuple[str, tuple], ...]] = None

    def as_call(self, signature: inspect.Signature) -> Tuple[tuple, dict]:
        """(args, kwargs) passing these values to a function of `signature`."""
        params = signature.parameters
        args: list = []
        kwargs: dict = {}
        for name, value in self.values.items():
            kind = params[name].kind
            if kind is params[name].VAR_POSITIONAL:  # (*args: the tuple bound to it)
                args.extend(value)
            elif kind is params[name].VAR_KEYWORD:  # (**kwargs: the dict)
                kwargs.update(value)
            elif kind is params[name].KEYWORD_ONLY:
                kwargs[name] = value
            else:
                args.append(value)
        return tuple(args), kwargs


def structured_call(signature: inspect.Signature, fn: Callable, args: tuple, kwargs: dict,
                    wrt: Sequence[str], always: bool = False) -> Optional[Call]:
    """The call's structures, or None where no argument is structured (the common
    path, unchanged) and not `always` (has_aux: the output's structure is needed).
    Differentiated structures must hold floats (refused naming the path otherwise)."""
    spread = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                 for p in signature.parameters.values())  # (*args: a tuple, **kw: a dict)
    if not always and not spread and not any(map(_compiled_apart, args)) and \
            not any(map(_compiled_apart, kwargs.values())):
        defaults = [p.default for p in signature.parameters.values()
                    if p.default is not p.empty]
        if not any(map(_compiled_apart, defaults)):
            return None
    names = list(signature.parameters)
    if not kwargs and len(args) == len(names) and not spread:  # (the common call)
        values = dict(zip(names, args))
    else:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
    attributes = _attribute_reader(fn) if not isinstance(fn, SourceText) else \
        (lambda value: None)
    trees: Dict[str, Optional[Tree]] = {}
    for param, value in values.items():
        if value is None or pytree.is_function_like(value):
            # a default filled in (`if cfg is None:` is decided now), a function passed
            # (act=np.tanh: called as itself), a class (a classmethod's cls)
            trees[param] = pytree.describe(value, False, param)
        elif pytree.is_structured(value):
            try:
                trees[param] = pytree.describe(value, param in wrt, param, attributes)
            except ArgumentError as exc:
                if exc.location is None:
                    exc.location = frontend.parameter_location(fn, param)
                raise
        else:
            trees[param] = None
    return Call(values, trees, tuple(trees.get(p) for p in names))


def with_shapes(call: Call) -> Call:
    """The call with the shapes of its array arguments known to the code (a list grown
    in a loop over range(X.shape[0]): the loop is unrolled for this shape)."""
    shapes = tuple((p, np.shape(v)) for p, v in call.values.items()
                   if call.trees.get(p) is None and isinstance(v, (np.ndarray, float,
                                                                   np.floating)))
    return Call(call.values, call.trees, call.key, shapes)


def has_int_arguments(call: Call) -> bool:
    return any(_is_int(v) for p, v in call.values.items() if call.trees.get(p) is None)


def with_int_constants(call: Call) -> Call:
    """The call with its int and bool arguments constants of the compiled code (a
    structure is indexed through them: `for i in range(n): layers[i]`; a flag chooses
    a function: `act = np.tanh if use_tanh else np.sin`)."""
    trees = {p: pytree.describe(v, False, p, depth=1) if t is None and _is_int(v) else t
             for (p, v), t in zip(call.values.items(), call.trees.values())}
    return Call(call.values, trees, tuple(trees.values()), call.shapes)


def _is_int(value: Any) -> bool:
    """An int or a bool argument (a flag choosing a branch or a function): made a
    constant of the code on a retry."""
    return isinstance(value, (int, np.integer, np.bool_))


def _compiled_apart(value: Any) -> bool:
    """An argument the code is compiled for, beyond its rank: a structure, a function
    or a class."""
    return pytree.is_structured(value) or pytree.is_function_like(value)


def needs_desugar(fn: Callable, parsed: Optional[frontend.Parsed] = None) -> bool:
    """A function called with plain arguments that still builds or reads structures
    of its own (see desugar.needed); False where its source cannot be read here (the
    usual path gives the diagnostic)."""
    if isinstance(fn, SourceText):  # (source text, read already as `parsed`: only the
        # NumPy forms the desugar stage lowers, np.r_[...] and np.select, send it there)
        return parsed is not None and any(numpy_forms.is_rewritten(node)
                                          for node in walk(parsed.func))
    try:
        return desugar.needed(frontend.read_function(fn), frontend.read_function)
    except Exception:  # (any refusal is raised again on the usual path, located)
        return False


def flatten_function(fn: Any, trees: Dict[str, Optional[Tree]],
                     differentiated: Sequence[str],
                     shapes: Optional[Dict[str, tuple]] = None,
                     join_output: bool = False) -> Flattened:
    """`fn` read with one parameter per leaf of its structured arguments; `fn` is a
    function, or the (text, name, filename, env) grad_source was given. With
    `join_output`, a structured output comes back as one array (desugar.flatten_root)."""
    found: List[desugar.Flat] = []

    def rewrite(parsed: frontend.Parsed) -> None:
        found.append(desugar.flatten_root(parsed, trees, differentiated, frontend.read_function,
                                          frontend.finish, shapes, join_output))

    if isinstance(fn, SourceText):
        parsed = frontend.parse_source(fn.text, fn.name, fn.filename, fn.env, desugar=rewrite)
    else:
        parsed = frontend.parse_function(fn, desugar=rewrite)
    return Flattened(parsed, found[0], trees)


@dataclass(frozen=True)
class SourceText:
    """A function given as source text (s2sad.grad_source), read again per structure."""

    text: str
    name: str
    filename: str
    env: Optional[dict]


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
        return (tree.type or dict)(zip(tree.keys, items))
    if tree.kind == pytree.LIST:
        return items
    if tree.kind == pytree.TUPLE:
        return tuple(items)
    if tree.kind == pytree.NAMEDTUPLE:
        return tree.type(*items)
    if tree.kind == pytree.DATACLASS:
        return pytree.made_with_fields(tree.type, **dict(zip(tree.keys, items)))
    raise AssertionError(tree.kind)


_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_]\w*)")


def _attribute_reader(fn: Callable) -> Callable[[Any], Optional[Sequence[str]]]:
    """For an object passed along (self, a model, a config): the attributes the code
    may read, the names after a dot in the function's and the class's source. Only
    they are part of the structure (a history list the object keeps growing is not).
    The sources are read once (when an object is first met)."""

    def attributes(value: Any) -> Optional[Sequence[str]]:
        names = _dotted_names(fn) | _helpers_dotted(fn)
        for klass in type(value).__mro__[:-1]:  # (its base classes' methods read it too)
            names = names | _dotted_names(klass)
        held = set(getattr(value, "__dict__", {})) | set(getattr(type(value), "__slots__", ()))
        names |= {f"_{k.__name__.lstrip('_')}{n}" for n in names if n.startswith("__")
                  for k in type(value).__mro__}  # (self.__w is held as _C__w)
        return sorted(n for n in names if n in held or hasattr(type(value), n) and not
                      callable(getattr(type(value), n, None)))

    return attributes


_DOTTED: Dict[Any, frozenset] = {}


def _helpers_dotted(fn: Any, depth: int = 3) -> frozenset:
    """The names after a dot in the user's functions `fn` calls (an object's attribute
    may be read only in a helper it is passed to), a few calls deep."""
    code = getattr(fn, "__code__", None)
    namespace = getattr(fn, "__globals__", {})
    if code is None or depth == 0:
        return frozenset()
    found: set = set()
    for name in code.co_names:
        helper = namespace.get(name)
        if isinstance(helper, types.FunctionType) and helper is not fn and \
                helper.__module__ == getattr(fn, "__module__", None):
            found |= _dotted_names(helper) | _helpers_dotted(helper, depth - 1)
    return frozenset(found)


def _dotted_names(source_of: Any) -> frozenset:
    """The names written after a dot in a function's or a class's source."""
    key = getattr(source_of, "__code__", source_of)
    found = _DOTTED.get(key)
    if found is None:
        try:
            found = frozenset(_ATTRIBUTE.findall(inspect.getsource(source_of)))
        except (OSError, TypeError):
            found = frozenset()
        _DOTTED[key] = found
    return found


# -- the entry shown in .source ------------------------------------------------------

def entry_code(flattened: Flattened, flat_name: str, flat_function: Any,
               params: Sequence[str], wrt: Sequence[str], single: bool, with_value: bool,
               has_aux: bool) -> Tuple[str, Dict[str, Any]]:
    """The source of the function a structured call of grad runs, and its globals:
    the arguments taken apart into the flat function's leaves, its gradients put back
    together in the arguments' structures, as a user would write it by hand. Every
    name it reads from outside is kept apart from the parameters' names."""
    taken = set(params)
    names = _Globals(taken)
    call_name = names.name(flat_name, flat_function)
    arguments: List[str] = []
    for param, leaf_names, whole in flattened.flat.layout:
        tree = flattened.trees.get(param)
        if tree is None:
            arguments.append(param)
            continue
        arguments.extend(_access(param, path) for path, _ in tree.leaf_paths())
        if whole:
            arguments.append(param)
    gradients: List[str] = []
    rebuilt: List[str] = []
    layout = {param: leaves for param, leaves, _ in flattened.flat.layout}
    for param in wrt:
        tree = flattened.trees.get(param)
        grads = [pytree.fresh(f"d{n}", taken) for n in layout[param]]
        gradients.extend(grads)
        rebuilt.append(grads[0] if tree is None else _rebuilt(tree, param, iter(grads), names))
    grads_target = ", ".join(gradients) + ("," if len(gradients) == 1 else "")
    result = rebuilt[0] if single else "(" + ", ".join(rebuilt) + ("," if len(rebuilt) == 1
                                                                    else "") + ")"
    call = f"{call_name}({', '.join(arguments)})"
    lines = [f"def {flat_name}_of_structures({', '.join(params)}):",
             '    """The call with structured arguments: their leaves in, the gradient '
             'rebuilt."""']
    if not (with_value or has_aux):
        lines += [f"    {grads_target} = {call}", f"    return {result}"]
    else:
        output = flattened.flat.output
        plain = output is None or output.kind == pytree.LEAF
        count = 1 if plain else output.leaf_count()
        paths = [path for path, _ in output.leaf_paths()] if not plain else [()]
        value_names = [pytree.fresh("value" if k == 0 else "_".join(
            ["aux"] + [pytree._identifier_part(key) for _, key in path[1:]]), taken)
            for k, path in enumerate(paths)]
        target = value_names[0] if count == 1 else "(" + ", ".join(value_names) + ")"
        lines.append(f"    {target}, ({grads_target}) = {call}")
        if has_aux:
            aux = _output_text(output.children[1], iter(value_names[1:]), names)
            lines.append(f"    return ({value_names[0]}, {aux}), {result}" if with_value
                         else f"    return {result}, {aux}")
        else:
            value_text = value_names[0] if plain else \
                _output_text(output, iter(value_names), names)
            lines.append(f"    return {value_text}, {result}")
    return "\n".join(lines) + "\n", names.namespace


class _Globals:
    """The names the entry reads from outside, none of them a parameter's."""

    def __init__(self, taken: set):
        self.taken = taken
        self.namespace: Dict[str, Any] = {}

    def name(self, preferred: str, value: Any) -> str:
        for name, held in self.namespace.items():
            if held is value:
                return name
        name = pytree.fresh(preferred, self.taken)
        self.namespace[name] = value
        return name


def _access(param: str, path: Sequence[Tuple[str, Any]]) -> str:
    text = param
    for kind, key in path:
        text += f".{key}" if kind in (pytree.DATACLASS, pytree.OBJECT, pytree.NAMEDTUPLE) \
            else f"[{key!r}]"
    return text


def _rebuilt(tree: Tree, original: str, names, globals_: _Globals) -> str:
    """An expression of the structure `tree` with the next names for its leaves."""
    if tree.kind == pytree.LEAF:
        return next(names)
    if tree.kind == pytree.CONST:
        return original  # (a None, a string: as the argument holds it)
    parts = []
    for key, child in zip(tree.keys, tree.children):
        parts.append((key, _rebuilt(child, _access(original, [(tree.kind, key)]), names,
                                    globals_)))
    if tree.kind == pytree.DICT:
        text = "{" + ", ".join(f"{k!r}: {p}" for k, p in parts) + "}"
        return text if tree.type is None else \
            f"{globals_.name(tree.type.__name__, tree.type)}({text})"
    if tree.kind == pytree.LIST:
        return "[" + ", ".join(p for _, p in parts) + "]"
    if tree.kind == pytree.TUPLE:
        return "(" + ", ".join(p for _, p in parts) + ("," if len(parts) == 1 else "") + ")"
    if tree.kind == pytree.NAMEDTUPLE:
        name = globals_.name(tree.type.__name__, tree.type)
        return f"{name}(" + ", ".join(f"{k}={p}" for k, p in parts) + ")"
    if tree.kind == pytree.DATACLASS:
        name = globals_.name("with_fields", pytree.with_fields)
        return f"{name}({original}, " + ", ".join(f"{k}={p}" for k, p in parts) + ")"
    raise AssertionError(f"no gradient of structure {tree.kind}")


def _output_text(tree: Tree, names, globals_: _Globals) -> str:
    """The function's value rebuilt in the structure its source returns (a dataclass
    built by its class: it is the function's own value)."""
    if tree.kind == pytree.CONST:
        constant = pytree.constant_value(tree)
        if constant is None or type(constant) in (str, int, float, bool):
            return repr(constant)
        return globals_.name("constant", constant)
    if tree.kind == pytree.LEAF:
        return next(names)
    parts = [(key, _output_text(child, names, globals_))
             for key, child in zip(tree.keys, tree.children)]
    if tree.kind == pytree.NAMEDTUPLE:
        name = globals_.name(tree.type.__name__, tree.type)
        return f"{name}(" + ", ".join(f"{k}={p}" for k, p in parts) + ")"
    if tree.kind == pytree.DATACLASS:
        kind = globals_.name(tree.type.__name__, tree.type)
        made = globals_.name("made_with_fields", pytree.made_with_fields)
        return f"{made}({kind}, " + ", ".join(f"{k}={p}" for k, p in parts) + ")"
    if tree.kind == pytree.DICT:
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in parts) + "}"
    if tree.kind == pytree.LIST:
        return "[" + ", ".join(p for _, p in parts) + "]"
    return "(" + ", ".join(p for _, p in parts) + ("," if len(parts) == 1 else "") + ")"
