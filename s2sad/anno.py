"""Typed annotations on gast nodes, from one declared key set; and the few tree
utilities every stage leans on (clone, names_in, fingerprint, FastTransformer),
written for speed since the passes call them on every statement.

Stages attach facts to nodes (what a name resolved to, which user line a lowered
statement came from) without subclassing gast. Keys outside `KEYS` are a bug.
"""
from __future__ import annotations

from typing import Any

import gast

_FIELD = "_s2sad"

KEYS = frozenset({
    "resolved",   # the Python object a global name / attribute chain refers to
    "origin",     # (line, source text) of the user statement a node came from
    "comment",    # a comment line codegen prints before the statement
    "location",   # errors.Location of the user construct, for late diagnostics
    "atom",       # a subscript read in place inside a loop or branch (a[i])
    "augmented",  # a statement lowered from `x op= e` (the user name x)
    "scatter",    # c[index] += e read back from np.add.at(c, index, e): indices repeat
})


class _Annotations(dict):
    """Copied shallowly by copy.deepcopy: annotations hold modules and functions."""

    def __deepcopy__(self, memo: dict) -> "_Annotations":
        return _Annotations(self)


def set_anno(node: Any, key: str, value: Any) -> None:
    assert key in KEYS, key
    store = getattr(node, _FIELD, None)
    if store is None:
        store = _Annotations()
        setattr(node, _FIELD, store)
    store[key] = value


def get_anno(node: Any, key: str, default: Any = None) -> Any:
    assert key in KEYS, key
    return getattr(node, _FIELD, {}).get(key, default)


def has_anno(node: Any, key: str) -> bool:
    assert key in KEYS, key
    return key in getattr(node, _FIELD, {})


def copy_annos(source: Any, target: Any) -> Any:
    store = getattr(source, _FIELD, None)
    if store:
        setattr(target, _FIELD, _Annotations(store))
    return target


def clone(tree: Any) -> Any:
    """A copy of a gast tree (a node, or a list of them), as copy.deepcopy makes it but
    several times faster: nodes and lists are copied, leaves (names, numbers) shared,
    annotations copied shallowly."""
    if isinstance(tree, list):
        return [clone(item) for item in tree]
    if not hasattr(tree, "_fields"):
        return tree
    copied = type(tree).__new__(type(tree))
    for field in tree._fields:
        setattr(copied, field, clone(getattr(tree, field, None)))
    for attribute in getattr(tree, "_attributes", ()):
        if hasattr(tree, attribute):
            setattr(copied, attribute, getattr(tree, attribute))
    store = getattr(tree, _FIELD, None)
    if store is not None:
        setattr(copied, _FIELD, _Annotations(store))
    return copied


def names_in(tree: Any) -> list:
    """Every gast.Name in a tree, in no particular order: ast.walk's job, several times
    faster (the passes ask it of every statement, many times)."""
    found = []
    stack = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        fields = getattr(node, "_fields", None)
        if fields is None:
            continue
        if fields is _NAME_FIELDS:
            found.append(node)
            continue
        for field in fields:
            value = getattr(node, field, None)
            if value is not None and not isinstance(value, (str, int, float)):
                push(value)
    return found


_NAME_FIELDS = gast.Name._fields
_CONSTANT_FIELDS = gast.Constant._fields


def fingerprint(tree: Any) -> Any:
    """A hashable key equal for structurally equal expressions (what gast.dump gives,
    much faster): value numbering compares operations by it. Contexts are ignored."""
    if isinstance(tree, list):
        return tuple(fingerprint(item) for item in tree)
    fields = getattr(tree, "_fields", None)
    if fields is None:
        return tree
    if fields is _NAME_FIELDS:
        return ("Name", tree.id)
    if fields is _CONSTANT_FIELDS:  # 1, 1.0 and True are equal keys but not equal code
        return ("Constant", type(tree.value).__name__, tree.value)
    return (type(tree).__name__,) + tuple(
        fingerprint(getattr(tree, field, None)) for field in fields
        if field not in ("ctx", "type_comment", "kind"))



_LEAVES = (gast.Name, gast.Constant, gast.expr_context, gast.operator, gast.unaryop,
           gast.cmpop, gast.boolop)


_UNSET = object()


class FastTransformer(gast.NodeTransformer):
    """gast.NodeTransformer, with leaves (names, constants, contexts, operators) not
    visited and the visit method of each class looked up once."""

    def visit(self, node):
        dispatch = type(self).__dict__.get("_dispatch")
        if dispatch is None:
            dispatch = {}
            type(self)._dispatch = dispatch  # per subclass: node type -> its method
        method = dispatch.get(type(node), _UNSET)
        if method is _UNSET:
            method = getattr(type(self), "visit_" + type(node).__name__, None)
            if method is None and not isinstance(node, _LEAVES):
                method = type(self).generic_visit
            dispatch[type(node)] = method
        return node if method is None else method(self, node)

    def generic_visit(self, node):
        for field in node._fields:
            old = getattr(node, field, None)
            if isinstance(old, list):
                new = []
                for item in old:
                    if isinstance(item, gast.AST):
                        item = self.visit(item)
                        if item is None:
                            continue
                        if not isinstance(item, gast.AST):
                            new.extend(item)
                            continue
                    new.append(item)
                old[:] = new
            elif isinstance(old, gast.AST):
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, field)
                else:
                    setattr(node, field, replaced)
        return node
