"""Typed annotations on gast nodes, from one declared key set; and the few tree
utilities every stage leans on (clone, names_in, walk, fingerprint, FastTransformer),
written for speed since the passes call them on every statement.

Stages attach facts to nodes (what a name resolved to, which user line a lowered
statement came from) without subclassing gast. Keys outside `KEYS` are a bug.
"""
from __future__ import annotations

import ast
from collections import deque
from typing import Any, Iterator

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
    "loop",       # a gradient's forward loop and its adjoint loop: the source loop's id
    "specialised",  # a call of a helper given structures: its desugared reading
    "pattern",    # the one call a form over several lines computes (patterns.py)
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
    several times faster: nodes and lists are copied, leaves (strings, numbers) and
    tokens (Load, Add: never changed in place) shared, annotations copied shallowly.
    Every field is set on the copy (None if missing)."""
    kind = type(tree)
    if kind is list:
        return [clone(item) for item in tree]
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = _SHAPES[kind] = _shape(kind)
    if not shape:
        return tree  # a str, number, None: shared
    if shape is _TOKEN and not tree.__dict__:
        return tree  # a context or operator: no fields, nothing to change, shared
    fields, attributes = shape
    copied = kind.__new__(kind)
    state = copied.__dict__
    for field in fields:
        value = getattr(tree, field, None)
        state[field] = value if type(value) in PLAIN_VALUES else clone(value)
    _copy_positions_and_annotations(tree, state, attributes)
    return copied


def clone_with(tree: Any, replace: Any) -> Any:
    """clone(tree), except that a node for which replace(node) gives something other
    than None becomes that (taken as it is): one pass where cloning and then
    substituting into the copy (a rule template instantiated) would take two."""
    kind = type(tree)
    if kind is list:
        return [clone_with(item, replace) for item in tree]
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = _SHAPES[kind] = _shape(kind)
    if not shape:
        return tree
    if shape is _TOKEN and not tree.__dict__:
        return tree
    replaced = replace(tree)
    if replaced is not None:
        return replaced
    fields, attributes = shape
    copied = kind.__new__(kind)
    state = copied.__dict__
    for field in fields:
        value = getattr(tree, field, None)
        state[field] = value if type(value) in PLAIN_VALUES else clone_with(value, replace)
    _copy_positions_and_annotations(tree, state, attributes)
    return copied


def _copy_positions_and_annotations(tree: Any, state: dict, attributes: tuple) -> None:
    """The rest of a node's copy (clone, clone_with): positions, annotations."""
    for attribute in attributes:
        value = getattr(tree, attribute, _UNSET)
        if value is not _UNSET:
            state[attribute] = value
    store = getattr(tree, _FIELD, None)
    if store is not None:
        state[_FIELD] = _Annotations(store)


# class -> (its fields, its attributes) for nodes, () for leaves: looked up once
_SHAPES: dict = {}
# field values that are no nodes: a copy or conversion keeps them as they are
PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})
_TOKENS = (gast.expr_context, gast.operator, gast.unaryop, gast.cmpop, gast.boolop)
_TOKEN = ((), ())


def _shape(kind: type) -> tuple:
    if not hasattr(kind, "_fields"):
        return ()
    if issubclass(kind, _TOKENS):
        return _TOKEN
    return tuple(kind._fields), tuple(getattr(kind, "_attributes", ()))


def names_in(tree: Any) -> list:
    """Every gast.Name in a tree, in no particular order: ast.walk's job, several times
    faster (the passes ask it of every statement, many times)."""
    return _nodes_in(tree, gast.Name)


def subscripts_in(tree: Any) -> list:
    """Every gast.Subscript in a tree, in no particular order: what filtering walk()
    gives, without visiting contexts, operators, constants or inside names."""
    return _nodes_in(tree, gast.Subscript)


def _nodes_in(tree: Any, wanted: type) -> list:
    found = []
    stack = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        kind = type(node)
        if kind is list:
            stack.extend(node)
            continue
        if kind is wanted:
            found.append(node)
        fields = _SCANNED.get(kind)
        if fields is None:
            fields = _SCANNED[kind] = _scanned_fields(kind)
        if fields is _NAME:
            continue
        for field in fields:
            value = getattr(node, field, None)
            if value is not None:
                push(value)
    return found


# class -> the fields names_in looks into (never contexts, operators or strings)
_SCANNED: dict = {}
_NAME = ("<a Name>",)
_NO_NAMES_INSIDE = frozenset({"ctx", "op", "type_comment", "kind", "id", "attr"})


def _scanned_fields(kind: type) -> tuple:
    fields = getattr(kind, "_fields", None)
    if fields is None:
        return ()
    if fields is gast.Name._fields:
        return _NAME
    if issubclass(kind, gast.Constant):
        return ()
    return tuple(f for f in fields if f not in _NO_NAMES_INSIDE)


def walk(tree: Any) -> Iterator[Any]:
    """Every node of a tree, in ast.walk's order (breadth first) and as lazily (a
    node's children are queued when it is yielded): ast.walk without its two nested
    generators per node, several times faster."""
    todo = deque([tree])
    popleft, push = todo.popleft, todo.append
    while todo:
        node = popleft()
        for field in node._fields:  # ast.iter_child_nodes
            value = getattr(node, field, None)
            if isinstance(value, ast.AST):
                push(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        push(item)
        yield node


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

    _dispatch: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}  # per subclass: node type -> its method (None: a leaf)

    def _method(self, kind: type):
        method = getattr(type(self), "visit_" + kind.__name__, None)
        if method is None and not issubclass(kind, _LEAVES):
            method = type(self).generic_visit
        self._dispatch[kind] = method
        return method

    def visit(self, node):
        method = self._dispatch.get(type(node), _UNSET)
        if method is _UNSET:
            method = self._method(type(node))
        return node if method is None else method(self, node)

    def generic_visit(self, node, fields=None):
        """Visit the children (of `fields` only, if given: constant folding visits a
        loop's header fields on their own)."""
        dispatch = self._dispatch
        for field in node._fields if fields is None else fields:
            old = getattr(node, field, None)
            if isinstance(old, list):
                new = []
                for item in old:
                    if isinstance(item, gast.AST) and \
                            dispatch.get(type(item), _UNSET) is not None:  # not a leaf
                        item = self.visit(item)
                        if item is None:
                            continue
                        if not isinstance(item, gast.AST):
                            new.extend(item)
                            continue
                    new.append(item)
                old[:] = new
            elif isinstance(old, gast.AST) and dispatch.get(type(old), _UNSET) is not None:
                # (a leaf is left as it is, unvisited)
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, field)
                elif replaced is not old:
                    setattr(node, field, replaced)
        return node


def dotted(node: gast.AST) -> str:
    """`np.linalg.solve` for that attribute chain, `f` for a name, "" for anything else."""
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        inner = dotted(node.value)
        return inner and inner + "." + node.attr
    return ""
