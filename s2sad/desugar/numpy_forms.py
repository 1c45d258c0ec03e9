"""NumPy forms the desugar stage rewrites to calls that have rules: the index tricks
np.r_[...] and np.c_[...] (objects whose [] joins its items: read as a constant, they
would hide that the result depends on the items) become np.concatenate of the items, and
np.select(condlist, choicelist, default) of lists known now becomes nested np.where;
np.split and its kin with a count or indices known now are lists of that many parts."""
from __future__ import annotations

from typing import Any, Dict, List

import gast
import numpy as np

from ..anno import get_anno
from .. import pytree
from .values import Const, Leaf, Static, Struct

INDEX_TRICKS = (np.r_, np.c_)
SPLITS = (np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit)
AT_LEAST = (np.atleast_1d, np.atleast_2d, np.atleast_3d)


def is_rewritten(node: gast.AST) -> bool:
    """A form this module rewrites (desugar.needed: the stage must read the function)."""
    if isinstance(node, gast.Subscript):
        return any(get_anno(node.value, "resolved") is t for t in INDEX_TRICKS)
    return isinstance(node, gast.Call) and get_anno(node.func, "resolved") is np.select


def index_trick(reader: Any, trick: Any, node: gast.Subscript) -> Static:
    """np.r_[a, b, 0:3] is np.concatenate([np.atleast_1d(a), np.atleast_1d(b),
    np.arange(0, 3)]); np.c_[a, b] joins along the last axis what NumPy makes of each item
    there, a 1-d array as a column: np.transpose(np.atleast_2d(np.transpose(a))) (a
    number a 1 x 1 array, arrays of 2 or more axes as they are). A first item '1' (a
    string of an int) joins r_'s items along that axis."""
    name = "np.r_" if trick is np.r_ else "np.c_"
    items = list(node.slice.elts) if isinstance(node.slice, gast.Tuple) else [node.slice]
    axis = 0 if trick is np.r_ else -1
    first = items[0] if items else None
    if isinstance(first, gast.Constant) and isinstance(first.value, str):
        if trick is not np.r_ or not _is_int_text(first.value):
            reader.refuse(f"{name}[{first.value!r}, ...]: a directive string other than "
                          "an axis of np.r_ is not read here", node,
                          hint="write np.concatenate, np.stack or np.expand_dims of the "
                               "arrays instead")
        axis, items = int(first.value), items[1:]
    if not items:
        reader.refuse(f"{name}[] with nothing to join", node, hint="join one array or more")
    joined = [_range(reader, name, item) if isinstance(item, gast.Slice) else
              _promoted(reader, trick, item) for item in items]
    call = gast.Call(func=reader.global_name(np.concatenate, node),
                     args=[gast.List(elts=joined, ctx=gast.Load())],
                     keywords=[gast.keyword(arg="axis", value=_constant(axis))])
    return Leaf(gast.copy_location(call, node))


def select(reader: Any, args: List[Static], keywords: Dict[str, Static],
           node: gast.Call) -> Static:
    """np.select(condlist, choicelist, default) of lists known now: where the first
    condition holds its choice, else where the second ... else default (np.where's rule
    sends each choice dy where it is chosen). Other forms are refused."""
    named = dict(zip(("condlist", "choicelist", "default"), args), **keywords)
    conditions, choices = named.get("condlist"), named.get("choicelist")
    if not isinstance(conditions, Struct) or not isinstance(choices, Struct) or \
            not conditions.items or len(conditions.items) != len(choices.items) or \
            len(args) > 3 or set(named) - {"condlist", "choicelist", "default"}:
        reader.refuse("np.select is read with lists of conditions and choices of one "
                      "length, known here", node,
                      hint="write np.select([c0, c1], [x0, x1], default), or nested "
                           "np.where(c0, x0, np.where(c1, x1, default))")
    chosen = reader.materialize(named.get("default", Const(0)), node)
    for condition, choice in reversed(list(zip(conditions.items, choices.items))):
        chosen = gast.Call(func=reader.global_name(np.where, node), args=[
            reader.materialize(condition, node), reader.materialize(choice, node), chosen],
            keywords=[])
    return Leaf(gast.copy_location(chosen, node))


def _promoted(reader: Any, trick: Any, item: gast.AST) -> gast.AST:
    """The item as np.r_ (at least 1-d) or np.c_ (at least 2-d, a 1-d array a column)
    joins it."""
    value = reader.evaluate(item)
    array = reader.as_array(value, reader.materialize(value, item))
    if trick is np.r_:
        return _call(reader, np.atleast_1d, array, item)
    flipped = _call(reader, np.transpose, array, item)
    return _call(reader, np.transpose, _call(reader, np.atleast_2d, flipped, item), item)


def _range(reader: Any, name: str, item: gast.Slice) -> gast.AST:
    """start:stop:step is np.arange(start, stop, step); with an imaginary step (0:1:5j),
    np.linspace(start, stop, 5). Constants: bounds known now only."""
    bounds = []
    for part in (item.lower, item.upper, item.step):
        value = None if part is None else reader.evaluate(part)
        if value is not None and not isinstance(value, Const):
            reader.refuse(f"a slice in {name}[...] whose bounds are computed at run time",
                          item, hint="use np.arange or np.linspace of numbers known here, or "
                                     "join the values with np.concatenate")
        bounds.append(None if value is None else value.value)
    start, stop, step = bounds
    start = 0 if start is None else start
    if isinstance(step, complex):
        arguments = [start, stop, int(abs(step))]
        function = np.linspace
    else:
        arguments = [start, stop, 1 if step is None else step]
        function = np.arange
    call = gast.Call(func=reader.global_name(function, item),
                     args=[_constant(a) for a in arguments], keywords=[])
    return gast.copy_location(call, item)


def _call(reader: Any, function: Any, argument: gast.AST, where: gast.AST) -> gast.AST:
    return gast.copy_location(gast.Call(func=reader.global_name(function, where),
                                        args=[argument], keywords=[]), where)


def _constant(value: Any) -> gast.AST:
    if isinstance(value, (int, float)) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


def _is_int_text(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def split(reader: Any, function: Any, args: List[Static], keywords: Dict[str, Static],
          node: gast.Call) -> Any:
    """np.split(x, 3) and its kin, with a count or a list of indices known now: the list
    of its parts (parts[0], parts[1], parts[2]), so that what returns or unpacks it
    knows its length (vjp's cotangent of a returned split is a list); None otherwise."""
    sections = args[1] if len(args) > 1 else keywords.get("indices_or_sections")
    count = _parts(sections)
    if count is None:
        return None
    call = gast.Call(func=reader.global_name(function, node),
                     args=[reader.materialize(a, node) for a in args],
                     keywords=[gast.keyword(arg=k, value=reader.materialize(v, node))
                               for k, v in keywords.items()])
    parts = reader.held(Leaf(gast.copy_location(call, node)), "parts", node)
    items: List[Static] = [Leaf(gast.Subscript(value=parts.node, slice=_constant(k),
                                               ctx=gast.Load())) for k in range(count)]
    return Struct(pytree.LIST, None, list(range(count)), items,
                  loop_depth=reader.loop_depth)


def _parts(sections: Any) -> Any:
    """How many parts a split makes: a count, or one more than the indices."""
    if isinstance(sections, Const) and type(sections.value) is int and sections.value > 0:
        return sections.value
    if isinstance(sections, Const) and isinstance(sections.value, (list, tuple)) and \
            all(type(i) is int for i in sections.value):
        return len(sections.value) + 1
    if isinstance(sections, Struct) and sections.kind in pytree.SEQUENCES and \
            all(isinstance(i, Const) and type(i.value) is int for i in sections.items):
        return len(sections.items) + 1
    return None


def at_least_each(reader: Any, function: Any, args: List[Static], node: gast.Call) -> Any:
    """np.atleast_2d(a, b) of several arrays: the sequence of each one's (a tuple in
    NumPy 2, a list before), so that what returns or unpacks it knows its length."""
    if len(args) < 2:
        return None
    items: List[Static] = [Leaf(gast.copy_location(gast.Call(
        func=reader.global_name(function, node), args=[reader.materialize(a, node)],
        keywords=[]), node)) for a in args]
    kind = pytree.TUPLE if isinstance(np.atleast_1d(0.0, 0.0), tuple) else pytree.LIST
    return Struct(kind, None, list(range(len(items))), items, loop_depth=reader.loop_depth)
