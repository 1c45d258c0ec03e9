"""May-alias analysis: which names may share an array with which.

Writing into an array (`c[i] = e`, or `v += e`, which NumPy does in place) while
another name still sees the same memory needs the adjoint to follow the shared
memory; s2sad refuses instead, and never writes into the caller's arrays.
"""
from __future__ import annotations

import operator
from typing import Dict, List, Tuple

import gast

from .anno import get_anno
from .errors import UnsupportedSyntaxError
from .lower import (VIEW_FUNCTIONS, Lowered, is_local, is_store, local_names_in, op_key,
                    op_operands, stored_name, walk_statements)


def check_aliasing(lowered: Lowered, is_number=None) -> Dict[int, Tuple[str, str]]:
    """Refuse an in-place update that another name holding the same array would see.

    An alias is `v = b` or a view of b (`b[1:3]`, `b.T`, ...). Writing into either
    (`b[i] = e`, or `v += e`, which NumPy does in place) and then reading the other
    needs the adjoint to follow the shared memory; s2sad refuses instead. `v += e`
    is only in place when v holds an array: those statements are returned (id ->
    the name updated) for a check at run time. The caller's arrays are never
    written: `x += e` on a parameter makes a new array.
    """
    guarded: Dict[int, Tuple[str, str]] = {}
    order = {}
    loops: List[Tuple[int, int]] = []
    _number(lowered.body, order, loops)
    aliases = []
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, gast.Assign) and not is_store(stmt):
            source = aliased(stmt.value)
            if source is not None and not (is_number and is_number(stmt.value)):
                aliases.append((stmt, stmt.targets[0].id, source))  # (a number copies)
    if not aliases:
        return guarded
    _refuse_writes_into_arguments(lowered, aliases)
    writes = [(s, get_anno(s, "augmented") or stored_name(s))
              for s in walk_statements(lowered.body) if is_store(s) or get_anno(s, "augmented")]
    reads = [(s, set(_reads(s))) for s in walk_statements(lowered.body)]
    for definition, alias, source in aliases:
        for write, written in writes:
            if written not in (alias, source) or write is definition:
                continue
            other = source if written == alias else alias
            for reader, names in reads:
                if other in names and reader is not write and \
                        _after(order, loops, definition, write, reader):
                    if get_anno(write, "augmented"):
                        guarded[id(write)] = (written, other)  # in place only on arrays
                        break
                    shown = [_user_name(lowered, n) for n in (written, other, alias, source)]
                    raise UnsupportedSyntaxError(
                        f"{shown[0]} is updated in place while {shown[1]} shares its "
                        "array", get_anno(write, "location"),
                        hint=f"make {shown[2]} its own array ({shown[2]} = "
                             f"{shown[3]}.copy()), or write a new value instead")
    return guarded


def _refuse_writes_into_arguments(lowered: Lowered, aliases) -> None:
    """c = x[1:]; c[0] = 5.0 would write into the caller's x."""
    sharing = {p: p for p in lowered.params}
    size = -1
    while size != len(sharing):
        size = len(sharing)
        for _, alias, source in aliases:
            if source in sharing and alias not in sharing:
                sharing[alias] = sharing[source]
    for stmt in walk_statements(lowered.body):
        if is_store(stmt) and stored_name(stmt) in sharing:
            written = stored_name(stmt)
            raise UnsupportedSyntaxError(
                f"writing into {_user_name(lowered, written)} would change the argument "
                f"{sharing[written]!r}, whose array it shares", get_anno(stmt, "location"),
                hint=f"work on a copy: {_user_name(lowered, written, bare=True)} = "
                     f"... .copy()")


def _user_name(lowered: Lowered, lowered_name: str, bare: bool = False) -> str:
    """How a message names a lowered name: the user's, or what the temporary is."""
    user = lowered.versions.get(lowered_name, lowered_name)
    if user in frontend_bound_names(lowered):
        return user if bare else repr(user)
    return "a temporary" if not bare else "the array"


def frontend_bound_names(lowered: Lowered) -> set:
    from .frontend import bound_names
    return bound_names(lowered.parsed.func)


def aliased(value: gast.AST):
    """The local name whose array `value` may share."""
    if is_local(value):
        return value.id
    if isinstance(value, gast.Subscript) and get_anno(value, "atom", False):
        return value.value.id if is_local(value.value) and not _advanced(value.slice) \
            else None  # r = C[i] in a loop: a row view
    key = op_key(value)
    if key is operator.getitem and _advanced(value.slice):
        return None  # x[[0, 0, 2]] copies
    if key in VIEW_FUNCTIONS:
        first = op_operands(value)[0]
        return first.id if is_local(first) else None
    return None


def _advanced(index: gast.AST) -> bool:
    """An index with a list in it: NumPy's advanced indexing, which copies."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.List) for p in parts)


def _reads(stmt: gast.stmt) -> List[str]:
    if isinstance(stmt, (gast.For, gast.While, gast.If)):
        parts = [stmt.iter] if isinstance(stmt, gast.For) else [stmt.test]
    elif isinstance(stmt, gast.Assign):
        parts = [stmt.value] + ([stmt.targets[0].slice] if is_store(stmt) else [])
    elif isinstance(stmt, gast.AugAssign):
        parts = [stmt.value, stmt.target]
    else:
        return []
    return [n for part in parts for n in local_names_in(part)]


def _number(body, order: Dict[int, int], loops: List[Tuple[int, int]]) -> None:
    for stmt in body:
        order[id(stmt)] = len(order)
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            start = len(order)
            _number(stmt.body, order, loops)
            _number(stmt.orelse, order, loops)
            if not isinstance(stmt, gast.If):
                loops.append((start, len(order)))


def _after(order, loops, definition, write, reader) -> bool:
    """Can `reader` run after `write`, with `definition` not run again in between?"""
    d, w, r = order[id(definition)], order[id(write)], order[id(reader)]
    if d < w < r:
        return True
    for start, end in loops:
        if start <= w < end and start <= r < end:
            if not start <= d < end or r < d:
                return True
    return False
