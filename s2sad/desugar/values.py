"""What the desugar stage knows of a value when a call is compiled.

A `Leaf` is computed at run time (by an expression), a `Const` is known now (a number,
a string, a function), a `Struct` is a dict, list, tuple, namedtuple, dataclass or
object known item by item, a `Method` a method read from one and not yet called. The
functions here build, copy, compare and fold them; desugar.py walks the code.
"""
from __future__ import annotations

import builtins
import types
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import gast

from .. import pytree
from ..pytree import Tree


class Static:
    """What an expression is known to be when the call is compiled."""


@dataclass(eq=False)
class Leaf(Static):
    """A value computed at run time, by this expression."""
    node: gast.AST


@dataclass(eq=False)
class Const(Static):
    """A value known now: a number, string, None, bool, or a function or class.
    `source` is the expression that names a function where the code did (np.tanh),
    so the code names it so again."""
    value: Any
    source: Optional[gast.AST] = None


@dataclass(eq=False)
class Struct(Static):
    """A dict, list, tuple, namedtuple, dataclass or object, item by item. Mutable, as
    Python's: names bound to one Struct see each other's stores. `whole` is an
    expression for the unchanged original (a non-differentiated argument passed as it
    is), for uses that need the object itself (indexing by a run-time value)."""
    kind: str
    type: Any
    keys: List[Any]
    items: List[Static]
    whole: Optional[gast.AST] = None
    loop_depth: int = 0  # the loop nesting it was made at (a deeper loop may not grow it)
    borrowed: bool = False  # a helper's view of its caller's structure: read only
    view_of: Optional[tuple] = None  # (dict, "items"): a view of a dict, not a copy
    origin: Optional["Struct"] = None  # the structure a branch's copy was made of
    # why a change to it would not reach what Python changes: one of two structures
    # chosen at run time, or one an object made here holds too (None: it would)
    apart: Optional[str] = None
    iterated: bool = False  # an iterator reads it item by item (see iterators.source)

    def item(self, key: Any) -> Optional[Static]:
        if self.kind in pytree.SEQUENCES and isinstance(key, int) and \
                not isinstance(key, bool):
            if -len(self.items) <= key < len(self.items):
                return self.items[key]
            return None
        if key in self.keys:
            return self.items[self.keys.index(key)]
        return None


@dataclass(eq=False)
class LocalLambda(Static):
    """A lambda bound in the function (`act = lambda t: np.maximum(t, 0.0)`): each call
    is its body with the parameters bound to the arguments, read where it is called,
    as Python reads a closure's variables when it is called. `defaults` were read
    where the lambda was made, as Python evaluates them."""
    node: gast.AST
    defaults: List[Static]
    reader: Any  # the reading of the function that made it
    closure: Optional[Dict[str, Static]] = None  # its free names, passed to a helper


@dataclass(eq=False)
class Iterator(Static):
    """A generator, iter(), or a zip / map / enumerate / reversed object: `items`
    computes each item when it is taken (see iterators.py); `depth` is the nesting of
    run-time branches and loops it was made at."""
    items: Any  # a Python iterator of Statics
    depth: int
    taken_in: Optional[int] = None  # the run-time branch that took from it first
    named: bool = False  # bound to a name: more than one consumer may take from it
    reads_iterator: bool = False  # takes from another iterator (which may be named)


@dataclass(eq=False)
class LocalDef(Static):
    """A function defined inside the function: each call reads it as a helper for
    its arguments. `stub` is a function object standing for it in the later stages
    (which track the helpers they inline by their function)."""
    node: gast.AST
    defaults: List[Static]
    reader: Any
    stub: Any
    closure: Optional[Dict[str, Static]] = None  # its free names, passed to a helper


@dataclass(eq=False)
class Super(Static):
    """`super()` in a method read for an object: attributes from after `owner` in
    the object's class order."""
    receiver: Static
    owner: type


@dataclass(eq=False)
class Method(Static):
    """A method read from a structure, not yet called: `params.items`, `self.forward`."""
    receiver: Static
    name: str
    function: Any = None  # a class's function (self.forward), called with the receiver


def static_of(tree: Tree, names, whole: Optional[gast.AST]) -> Static:
    """The Static of an argument of structure `tree`, its leaves named by `names`."""
    if tree.kind == pytree.LEAF:
        return Leaf(load_name(next(names)))
    if tree.kind == pytree.CONST:
        return Const(pytree.constant_value(tree))
    items = []
    for key, child in zip(tree.keys, tree.children):
        part = None
        if whole is not None:
            part = gast.Attribute(value=whole, attr=key, ctx=gast.Load()) \
                if tree.kind in (pytree.DATACLASS, pytree.OBJECT) else \
                gast.Subscript(value=whole, slice=gast.Constant(value=key, kind=None),
                               ctx=gast.Load())
        items.append(static_of(child, names, part))
    return Struct(tree.kind, tree.type, list(tree.keys), items, whole)


def load_name(identifier: str) -> gast.Name:
    return gast.Name(id=identifier, ctx=gast.Load(), annotation=None, type_comment=None)


def tree_of(static: Static) -> Tree:
    """The structure of a returned value (its leaves in `leaf_nodes`' order)."""
    if isinstance(static, Struct):
        return Tree(static.kind, static.type, tuple(static.keys),
                    tuple(tree_of(s) for s in static.items))
    if isinstance(static, Const) and not is_number(static.value):
        return Tree(pytree.CONST, pytree._Constant(static.value))
    return Tree(pytree.LEAF)


def is_number(value: Any) -> bool:
    return type(value) in (int, float)



_PURE_BUILTINS = frozenset({builtins.len, builtins.str, builtins.int, builtins.float,
                            builtins.bool, builtins.abs, builtins.min, builtins.max,
                            builtins.round, builtins.repr, builtins.sorted})
_PLAIN = (int, float, str, bool, type(None), tuple)


def folded(function: Any, args: List[Static], keywords: Dict[str, Static]) -> Optional[Static]:
    """A call known now: a pure builtin, or a method of a string, on constants
    (`name.startswith("W")` where name is a dict's key)."""
    values = [a.value for a in args if isinstance(a, Const)]
    kwvalues = {k: v.value for k, v in keywords.items() if isinstance(v, Const)}
    if len(values) != len(args) or len(kwvalues) != len(keywords) or \
            not all(isinstance(v, _PLAIN) for v in values + list(kwvalues.values())):
        return None
    owner = getattr(function, "__self__", None)
    pure = function in _PURE_BUILTINS or isinstance(function, types.BuiltinMethodType) and \
        type(owner) is str
    if not pure:
        return None
    try:
        return Const(function(*values, **kwvalues))
    except Exception:  # (Python's own error is raised by the code at run time)
        return None



def copied(env: Dict[str, Static]) -> Dict[str, Static]:
    """A copy of `env` whose structures are new objects (aliasing kept: two names of
    one dict stay one dict)."""
    copies: Dict[int, tuple] = {}

    def copy(value: Static) -> Static:
        if isinstance(value, Struct):
            if id(value) not in copies:
                new = Struct(value.kind, value.type, list(value.keys), [], value.whole,
                             value.loop_depth, value.borrowed, origin=value)
                copies[id(value)] = (value, new)
                new.items = [copy(item) for item in value.items]
            return copies[id(value)][1]
        if isinstance(value, Method):
            return Method(copy(value.receiver), value.name, value.function)
        return value

    return {name: copy(value) for name, value in env.items()}


def holds_borrowed(value: Static) -> bool:
    return isinstance(value, Struct) and (value.borrowed or any(
        holds_borrowed(item) for item in value.items))


def mark_borrowed(value: Static) -> None:
    if isinstance(value, Struct):
        value.borrowed = True
        for item in value.items:
            mark_borrowed(item)



def bind_pattern(target: gast.AST, value: Static, bound: Dict[str, Static]) -> bool:
    """Bind a comprehension's target to an element known now; False where it cannot."""
    if isinstance(target, gast.Name):
        bound[target.id] = value
        return True
    if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, Struct) and \
            value.kind in pytree.SEQUENCES and len(value.items) == len(target.elts):
        return all(bind_pattern(t, v, bound) for t, v in zip(target.elts, value.items))
    return False


def same_static(a: Static, b: Static) -> bool:
    if isinstance(a, Const) and isinstance(b, Const):
        return type(a.value) is type(b.value) and a.value == b.value \
            if type(a.value) in (int, float, str, bool) else a.value is b.value
    return a is b


def known_identity(left: Static, right: Static) -> Optional[bool]:
    """`x is None` where x is known now: a structure, a constant."""
    for a, b in ((left, right), (right, left)):
        if isinstance(b, Const) and b.value is None:
            if isinstance(a, Struct):
                return False
            if isinstance(a, Const):
                return a.value is None
    return None


BINARY = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b,
           gast.Mult: lambda a, b: a * b, gast.FloorDiv: lambda a, b: a // b,
           gast.Mod: lambda a, b: a % b}


def compared(op: gast.cmpop, a: Any, b: Any) -> bool:
    table = {gast.Eq: lambda: a == b, gast.NotEq: lambda: a != b, gast.Lt: lambda: a < b,
             gast.LtE: lambda: a <= b, gast.Gt: lambda: a > b, gast.GtE: lambda: a >= b,
             gast.Is: lambda: a is b, gast.IsNot: lambda: a is not b,
             gast.In: lambda: a in b, gast.NotIn: lambda: a not in b}
    return bool(table[type(op)]())
