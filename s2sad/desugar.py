"""Desugar: structured values rewritten to plain locals, for the structure of a call.

A model's parameters arrive as a dict of arrays, a list of layer tuples, a namedtuple,
a dataclass, an object (`self`). The later stages know floats and arrays; this stage
removes the structures before they run. It evaluates the function's structured values
when the call is compiled, as the code already knows ranks then:

    params["W1"]                  ->  params_W1            (a parameter of its own)
    W, b = layers[0]              ->  W = layers_0_0; b = layers_0_1
    for W, b in layers: body      ->  body once per layer, with that layer's leaves
    for i in range(len(layers))   ->  unrolled where i selects from a structure
    cfg.act == "tanh"             ->  True or False, decided now
    out = {"loss": l, "h": h}     ->  nothing: `out` is known as a structure of names
    return loss, out              ->  return loss, out_h  (the API rebuilds `out`)
    h = predict(params, x)        ->  predict specialised to the structure it is given

Each structured value is a `Static` while the function is read: a `Leaf` holds an
expression computed at run time, a `Const` a value known now, a `Struct` its items.
Everything else passes through unchanged, for the subset check and the later stages.
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import inspect
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from . import pytree
from .anno import clone, get_anno, set_anno, walk
from .errors import UnsupportedSyntaxError
from .pytree import Tree
from .statics import (BINARY, Const, Leaf, Method, Static, Struct, bind_pattern, compared,
                      copied, folded, holds_borrowed, is_number, known_identity, load_name,
                      mark_borrowed, same_static, static_of, tree_of)

_MAX_UNROLLED = 10_000  # statements an unrolled loop may expand to


@dataclass
class Flat:
    """The flattened function: for each original parameter, the parameters that stand
    for it (its leaves in order, then its own name where the object itself is read),
    and the structure of what it returns."""
    layout: List[Tuple[str, List[str], bool]] = field(default_factory=list)
    output: Optional[Tree] = None
    constants: List[tuple] = field(default_factory=list)  # see _Desugar.constants

    def is_current(self) -> bool:
        """No attribute read as a constant from an outside object was rebound since."""
        return all(getattr(owner, name, _MISSING) is value
                   for owner, name, value in self.constants)


def flatten_root(parsed: Any, trees: Dict[str, Optional[Tree]], differentiated: Sequence[str],
                 read_helper: Callable, check_helper: Callable) -> Flat:
    """Rewrite `parsed.func` for arguments of structures `trees` (None for an argument
    that is a float, an array or another value passed whole); return its layout. A
    differentiated structure is only ever read leaf by leaf."""
    taken = set(parsed.local_names) | set(parsed.namespace) | _all_identifiers(parsed.func)
    desugar = _Desugar(parsed, taken, read_helper, check_helper)
    flat = Flat()
    env: Dict[str, Static] = {}
    originals = {arg.id: arg for arg in _positional_params(parsed.func)}
    for arg in originals.values():
        tree = trees.get(arg.id)
        if tree is None:
            flat.layout.append((arg.id, [arg.id], False))
            continue
        names = pytree.leaf_names(arg.id, tree, taken)
        whole = None if arg.id in differentiated else load_name(arg.id)
        env[arg.id] = static_of(tree, iter(names), whole)
        if arg.id not in differentiated:  # (the caller's object: changes would be lost)
            mark_borrowed(env[arg.id])
        flat.layout.append((arg.id, names, False))
    desugar.env = env
    parsed.func.body = desugar.function_body(parsed.func.body)
    flat.output = desugar.output
    flat.constants = desugar.constants
    params: List[gast.AST] = []
    for index, (param, names, _) in enumerate(flat.layout):
        if trees.get(param) is None:
            params.append(originals[param])  # (with its annotation: x: float is a scalar)
            continue
        params.extend(_param(n, originals[param]) for n in names)
        if param in desugar.whole_used:
            flat.layout[index] = (param, names, True)  # (after its leaves, as the call)
            params.append(_param(param, originals[param]))
    args = parsed.func.args
    args.posonlyargs, args.args, args.kwonlyargs, args.kw_defaults = [], params, [], []
    args.defaults, args.vararg, args.kwarg = [], None, None
    parsed.namespace.update(desugar.added_globals)
    return flat


def needed(parsed: Any) -> bool:
    """Whether a function whose arguments are plain still needs this stage: it builds
    or reads structures of its own (a dict literal, a comprehension, a tuple bound to
    a name, `.items()`), or calls a method of an object it reads from outside. (Code
    s2sad generated, read back, keeps its tape list as the later stages know it.)"""
    from .frontend import is_generated
    if is_generated(parsed):
        return False
    for node in walk(parsed.func):
        if isinstance(node, (gast.Dict, gast.DictComp, gast.ListComp, gast.GeneratorExp)):
            return True
        if isinstance(node, gast.Assign) and isinstance(node.value, (gast.Tuple, gast.List)) \
                and isinstance(node.targets[0], gast.Name):
            return True
        if isinstance(node, gast.Attribute) and \
                pytree.is_user_object(get_anno(node.value, "resolved")):
            return True
    return False


def _positional_params(func: gast.FunctionDef) -> List[gast.AST]:
    args = func.args
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def _param(name: str, where: gast.AST) -> gast.Name:
    node = gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)
    return gast.copy_location(node, where)


def _all_identifiers(func: gast.AST) -> set:
    return {n.id for n in walk(func) if isinstance(n, gast.Name)}


class _Desugar:
    def __init__(self, parsed: Any, taken: set, read_helper: Callable,
                 check_helper: Callable):
        self.parsed = parsed
        self.taken = taken
        self.read_helper = read_helper      # fn -> Parsed (resolved, not checked)
        self.check_helper = check_helper    # Parsed -> None (the subset check)
        self.env: Dict[str, Static] = {}
        self.out: List[gast.stmt] = []
        self.output: Optional[Tree] = None
        self.whole_used: set = set()
        self.added_globals: Dict[str, Any] = {}
        self.loop_depth = 0
        self.assigned_in_function = _assignment_counts(parsed.func.body)
        for arg in _positional_params(parsed.func):  # (bound once by the call)
            self.assigned_in_function[arg.id] = self.assigned_in_function.get(arg.id, 0) + 1
        # (object, attribute, value) of each attribute of an outside object read as a
        # constant now: the code is compiled again when one of them is rebound
        self.constants: List[tuple] = []
        self.returns_borrowed = False  # a helper returning (part of) what it was given

    def refuse(self, message: str, node: gast.AST, hint: str) -> None:
        raise UnsupportedSyntaxError(message, self.parsed.locate(node), hint=hint)

    # -- statements -----------------------------------------------------------------

    def function_body(self, body: Sequence[gast.stmt]) -> List[gast.stmt]:
        self.out = []
        self.statements(body)
        return self.out

    def statements(self, body: Sequence[gast.stmt]) -> bool:
        """Emit `body`; True when it ended in a return (what follows is unreachable)."""
        for stmt in body:
            if self.statement(stmt):
                return True
        return False

    def block(self, body: Sequence[gast.stmt]) -> Tuple[List[gast.stmt], bool]:
        saved, self.out = self.out, []
        try:
            returned = self.statements(body)
            return self.out, returned
        finally:
            self.out = saved

    def emit(self, stmt: gast.stmt, where: gast.AST) -> None:
        self.out.append(gast.copy_location(stmt, where) if getattr(stmt, "lineno", None)
                        is None else stmt)

    def statement(self, stmt: gast.stmt) -> bool:
        if isinstance(stmt, (gast.Assign, gast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            if stmt.value is None or len(targets) != 1:
                self.out.append(stmt)  # (refused by the subset check)
                return False
            self.assign(targets[0], self.evaluate(stmt.value), stmt)
        elif isinstance(stmt, gast.AugAssign):
            self.augmented(stmt)
        elif isinstance(stmt, gast.Expr):
            value = self.evaluate(stmt.value)
            if isinstance(value, Leaf):
                stmt.value = value.node
                self.out.append(stmt)
            elif isinstance(value, Struct) or isinstance(value, Const) and \
                    not isinstance(stmt.value, gast.Constant):
                pass  # a method of a structure (ys.append(v)) done now, or a no-op
            else:
                self.out.append(stmt)  # a docstring
        elif isinstance(stmt, gast.Return):
            self.return_(stmt)
            return True
        elif isinstance(stmt, gast.If):
            return self.if_(stmt)
        elif isinstance(stmt, gast.For):
            self.for_(stmt)
        elif isinstance(stmt, gast.While):
            self.while_(stmt)
        else:
            self.out.append(stmt)  # pass, break, continue; the rest is refused later
        return False

    def assign(self, target: gast.AST, value: Static, stmt: gast.stmt) -> None:
        if isinstance(target, gast.Name):
            literal = isinstance(stmt.value, gast.Constant) and is_number(value.value) \
                if isinstance(value, Const) else False
            if isinstance(value, (Struct, Method)) or isinstance(value, Const) and \
                    not literal and not self.assigned_in_loop(target.id):
                self.env[target.id] = self.held(value, target.id, stmt)
                return
            self.env.pop(target.id, None)
            self.emit(gast.Assign(targets=[target], value=self.materialize(value, stmt)), stmt)
            return
        if isinstance(target, (gast.Tuple, gast.List)):
            starred = [k for k, e in enumerate(target.elts) if isinstance(e, gast.Starred)]
            if isinstance(value, Struct) and value.kind in pytree.SEQUENCES and \
                    len(starred) == 1 and len(value.items) >= len(target.elts) - 1:
                # *hidden, last = layers: the starred name gets a list of the rest
                k, after = starred[0], len(target.elts) - starred[0] - 1
                middle = value.items[k:len(value.items) - after]
                parts = value.items[:k] + [Struct(pytree.LIST, None, list(range(len(middle))),
                                                  list(middle), loop_depth=self.loop_depth)] + \
                    value.items[len(value.items) - after:]
                for part, item in zip(target.elts, parts):
                    self.assign(part.value if isinstance(part, gast.Starred) else part, item,
                                stmt)
                return
            if isinstance(value, Struct) and value.kind in pytree.SEQUENCES + (
                    pytree.LIST,) and not starred:
                if len(value.items) != len(target.elts):
                    self.refuse(f"unpacking {len(value.items)} values into "
                                f"{len(target.elts)} names", target,
                                hint="unpack as many names as the structure holds")
                for part, item in zip(target.elts, value.items):
                    self.assign(part, item, stmt)
                return
            if isinstance(value, Struct):
                self.refuse(f"unpacking a {value.kind} is not supported", target,
                            hint="read its items by key instead")
            for name in _store_names(target):
                self.env.pop(name, None)
            self.emit(gast.Assign(targets=[self.target(target)],
                                  value=self.materialize(value, stmt)), stmt)
            return
        if isinstance(target, gast.Subscript):
            base = self.evaluate(target.value)
            if isinstance(base, Struct):
                key = self.static_key(target.slice, base, target)
                self.store_item(base, key, value, target, stmt)
                return
            target.value = self.materialize(base, target)
            target.slice = self.expression(target.slice)
        elif isinstance(target, gast.Attribute):
            base = self.evaluate(target.value)
            if isinstance(base, Struct):
                self.refuse("assignment to an attribute of a structure is not supported",
                            target, hint="build a new value, e.g. "
                                         "dataclasses.replace(cfg, field=value)")
        self.emit(gast.Assign(targets=[target], value=self.materialize(value, stmt)), stmt)

    def bind_known(self, target: gast.AST, value: Static, stmt: gast.stmt) -> None:
        """An unrolled loop's target: a number known now (the index of a loop over a
        known range, enumerate's count) stays known in the body."""
        if isinstance(target, gast.Name) and isinstance(value, Const):
            self.env[target.id] = value
        elif isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, Struct) and \
                len(target.elts) == len(value.items):
            for part, item in zip(target.elts, value.items):
                self.bind_known(part, item, stmt)
        else:
            self.assign(target, value, stmt)

    def target(self, target: gast.AST) -> gast.AST:
        """An unpacking target of run-time values (its subscripts' parts rewritten)."""
        if isinstance(target, (gast.Tuple, gast.List)):
            target.elts = [self.target(e) for e in target.elts]
        elif isinstance(target, gast.Subscript):
            target.value = self.materialize(self.evaluate(target.value), target)
            target.slice = self.expression(target.slice)
        return target

    def assigned_in_loop(self, identifier: str) -> bool:
        """A name bound more than once or in a loop: a constant must stay a variable."""
        return self.assigned_in_function.get(identifier, 0) > 1 or self.loop_depth > 0

    def store_item(self, base: Struct, key: Any, value: Static, target: gast.AST,
                   stmt: gast.stmt) -> None:
        """d["k"] = v, lst[0] = v: the item of the structure is the new value."""
        self.mutating(base, target)
        held = self.held(value, _path_name(target), stmt)
        if base.kind in (pytree.LIST,) and isinstance(key, int):
            if not -len(base.items) <= key < len(base.items):
                self.refuse("list assignment index out of range", target,
                            hint="append to grow a list")
            base.items[key] = held
        elif base.kind == pytree.DICT and isinstance(key, (str, int)):
            if key in base.keys:
                base.items[base.keys.index(key)] = held
            else:
                base.keys.append(key)
                base.items.append(held)
        else:
            self.refuse(f"a {base.kind} cannot be changed item by item", target,
                        hint="build a new one instead")

    def mutating(self, base: Struct, where: gast.AST) -> None:
        if base.borrowed:
            self.refuse("this changes a structure its caller holds too (an argument that "
                        "is not differentiated, a helper's argument, or what a helper "
                        "returned of its arguments); the generated code never changes the "
                        "caller's objects", where,
                        hint="change a copy (new = dict(p); new['W'] = ...), and return what "
                             "the caller needs (has_aux=True returns (value, aux))")
        if base.loop_depth < self.loop_depth:
            self.refuse("a structure made before this loop is changed in it, and the "
                        "loop's count is known only at run time", where,
                        hint="loop over a structure or a range of known length, or keep "
                             "the values in an array (np.zeros(n), then x[i] = ...)")
        base.whole = None  # (no longer the caller's object)

    def augmented(self, stmt: gast.AugAssign) -> None:
        target = stmt.target
        if isinstance(target, gast.Name) and target.id in self.env:
            current = self.env[target.id]
            if isinstance(current, Struct):
                self.refuse("an augmented assignment to a structure is not supported",
                            stmt, hint="build the new structure explicitly")
            value = gast.BinOp(left=self.materialize(current, stmt), op=stmt.op,
                               right=self.expression(stmt.value))
            self.env.pop(target.id)
            self.emit(gast.Assign(targets=[target], value=value), stmt)
            return
        if isinstance(target, gast.Subscript):
            base = self.evaluate(target.value)
            if isinstance(base, Struct):
                key = self.static_key(target.slice, base, target)
                item = base.item(key)
                if item is None:
                    self.refuse(f"{_describe_key(key)} is not in this {base.kind}", target,
                                hint="assign it first")
                new = Leaf(gast.BinOp(left=self.materialize(item, stmt), op=stmt.op,
                                      right=self.expression(stmt.value)))
                self.store_item(base, key, new, target, stmt)
                return
            target.value = self.materialize(base, target)
            target.slice = self.expression(target.slice)
        stmt.value = self.expression(stmt.value)
        self.out.append(stmt)

    def return_(self, stmt: gast.Return) -> None:
        if stmt.value is None:
            self.out.append(stmt)
            return
        value = self.evaluate(stmt.value)
        self.returns_borrowed = self.returns_borrowed or holds_borrowed(value)
        tree = tree_of(value)
        if self.output is not None and self.output != tree:
            self.refuse("this return gives a value of another structure than an earlier "
                        "return", stmt.value,
                        hint="return values of the same structure on every path")
        self.output = tree
        nodes = self.leaf_nodes(value, stmt)
        if len(nodes) == 1:  # (one leaf returns bare, a structure of one too)
            stmt.value = nodes[0]
        else:
            stmt.value = gast.copy_location(gast.Tuple(elts=nodes, ctx=gast.Load()),
                                            stmt.value)
        self.out.append(stmt)

    def leaf_nodes(self, value: Static, where: gast.AST) -> List[gast.AST]:
        """The run-time leaves of a value, in flattening order (constants left out)."""
        if isinstance(value, Struct):
            return [n for item in value.items for n in self.leaf_nodes(item, where)]
        if isinstance(value, Const) and not is_number(value.value):
            return []
        return [self.materialize(value, where)]

    def if_(self, stmt: gast.If) -> bool:
        test = self.evaluate(stmt.test)
        if isinstance(test, Const) or isinstance(test, Struct):
            chosen = stmt.body if self.truth(test, stmt.test) else stmt.orelse
            return self.statements(chosen)
        self.keep_variables(stmt.body + stmt.orelse, stmt)
        stmt.test = self.materialize(test, stmt.test)
        before = self.env
        # each branch changes its own copy of the structures (d["k"] = v in one branch
        # only must not be seen on the other path); they are joined after the if
        self.env = copied(before)
        stmt.body, body_returns = self.block(stmt.body)
        body = (self.env, stmt.body, body_returns)
        self.env = copied(before)
        stmt.orelse, else_returns = self.block(stmt.orelse)
        orelse = (self.env, stmt.orelse, else_returns)
        self.env = self.joined(before, body, orelse, stmt)
        if not stmt.body:
            stmt.body = [gast.copy_location(gast.Pass(), stmt)]
        self.out.append(stmt)
        return body_returns and else_returns

    def truth(self, test: Static, where: gast.AST) -> bool:
        if isinstance(test, Struct):
            return bool(test.items)
        try:
            return bool(test.value)
        except Exception:  # (an object whose truth is an error, e.g. an array)
            self.refuse("this condition has no truth value", where,
                        hint="test a number or a boolean")
            raise

    def joined(self, before: Dict[str, Static], body: tuple, orelse: tuple,
               where: gast.If) -> Dict[str, Static]:
        """The names known after an if. A branch that returned does not reach it. Where
        the branches stored different values into an item of a structure, both bind
        one new name to theirs (a phi) and the item is that name; a structure of
        another shape on each path cannot be known now."""
        body_env, body_block, body_returns = body
        else_env, else_block, else_returns = orelse
        if body_returns:
            return else_env
        if else_returns:
            return body_env
        merged: Dict[tuple, Struct] = {}

        def refuse_shapes(name: str) -> None:
            self.refuse(f"{name!r} holds a different structure after each branch of this "
                        "if, decided at run time", where,
                        hint="bind the structure before the if and assign only its arrays "
                             "in the branches")

        def join(a: Static, b: Static, name: str) -> Static:
            if a is b or same_static(a, b):
                return a
            if isinstance(a, Struct) and isinstance(b, Struct):
                if (a.kind, a.type, a.keys) != (b.kind, b.type, b.keys):
                    refuse_shapes(name)
                if (id(a), id(b)) in merged:  # (names of one structure stay one)
                    return merged[id(a), id(b)]
                joint = Struct(a.kind, a.type, list(a.keys), [],
                               a.whole if a.whole is not None and b.whole is not None
                               else None, min(a.loop_depth, b.loop_depth),
                               a.borrowed or b.borrowed)
                merged[id(a), id(b)] = joint
                joint.items = [join(x, y, f"{name}_{pytree._identifier_part(k)}")
                               for k, x, y in zip(a.keys, a.items, b.items)]
                return joint
            if isinstance(a, (Leaf, Const)) and isinstance(b, (Leaf, Const)) and not (
                    isinstance(a, Const) and not is_number(a.value) or
                    isinstance(b, Const) and not is_number(b.value)):
                phi = pytree.fresh(name, self.taken)
                for block, value in ((body_block, a), (else_block, b)):
                    _before_jump(block, gast.copy_location(gast.Assign(
                        targets=[gast.Name(id=phi, ctx=gast.Store(), annotation=None,
                                           type_comment=None)],
                        value=self.materialize(value, where)), where))
                self.assigned_in_function[phi] = 2
                return Leaf(load_name(phi))
            refuse_shapes(name)
            raise AssertionError

        result: Dict[str, Static] = {}
        for name in sorted(set(body_env) | set(else_env)):
            a, b = body_env.get(name), else_env.get(name)
            if a is None or b is None:
                if name in before or isinstance(a, Struct) or isinstance(b, Struct):
                    refuse_shapes(name)
                continue
            result[name] = join(a, b, name)
        return result

    def keep_variables(self, body: Sequence[gast.stmt], where: gast.AST) -> None:
        """Names a loop or branch rebinds that hold known numbers now become run-time
        variables, bound before it (n = 3, then n += 1 in a loop)."""
        for name in sorted(_stored_names(body)):
            value = self.env.get(name)
            if isinstance(value, Const) and is_number(value.value):
                del self.env[name]
                self.emit(gast.Assign(targets=[gast.Name(id=name, ctx=gast.Store(),
                                                         annotation=None, type_comment=None)],
                                      value=gast.Constant(value=value.value, kind=None)),
                          where)

    def for_(self, stmt: gast.For) -> None:
        if stmt.orelse:
            self.out.append(stmt)  # (refused by the subset check)
            return
        iterable = self.evaluate(stmt.iter)
        items = self.iterated(iterable, stmt.iter)
        if items is None and self.known_range(iterable) is not None and \
                self.reads_structure(stmt.body):
            items = [Const(k) for k in self.known_range(iterable)]
        if items is not None:
            self.unroll(stmt, items, self.live_items(iterable))
            return
        for name in _store_names(stmt.target):
            self.env.pop(name, None)
        self.dynamic_loop(stmt, lambda: setattr(stmt, "iter", self.materialize(iterable,
                                                                               stmt.iter)))

    def reads_structure(self, body: Sequence[gast.stmt]) -> bool:
        return any(isinstance(n, gast.Name) and isinstance(self.env.get(n.id), Struct)
                   for stmt in body for n in walk(stmt))

    def known_range(self, iterable: Static) -> Optional[range]:
        """range(...) of known numbers (range(len(layers))), as a Python range."""
        if not isinstance(iterable, Leaf) or not isinstance(iterable.node, gast.Call):
            return None
        call = iterable.node
        if get_anno(call.func, "resolved") is not builtins.range or call.keywords:
            return None
        bounds = [a.value for a in call.args if isinstance(a, gast.Constant)]
        if len(bounds) != len(call.args) or not all(type(b) is int for b in bounds):
            return None
        return range(*bounds)

    def iterated(self, iterable: Static, where: gast.AST) -> Optional[List[Static]]:
        """The items a for loop over a structure takes, one per iteration."""
        if isinstance(iterable, Struct):
            if iterable.kind == pytree.DICT:
                return [Const(k) for k in iterable.keys]
            if iterable.kind in pytree.SEQUENCES:
                return list(iterable.items)
            self.refuse(f"a {iterable.kind} cannot be iterated", where,
                        hint="iterate over a list, a tuple or a dict")
        return None

    def live_items(self, iterable: Static) -> Optional[Callable[[int], Optional[Static]]]:
        """The k-th item of a loop over a list or a dict's view, read when iteration k
        starts, as Python reads it: the body may have changed the items after the
        first (`for v in lst: lst[1] = ...`, `for k, v in d.items(): d[k2] = ...`)."""
        if not isinstance(iterable, Struct):
            return None
        if iterable.view_of is not None and iterable.view_of[1] == "zip":
            live = [self.live_items(a) for a in iterable.view_of[0]]
            if any(f is None for f in live):
                return None

            def of_zip(k: int) -> Optional[Static]:
                row = [f(k) for f in live]
                if any(item is None for item in row):
                    return None
                return Struct(pytree.TUPLE, None, list(range(len(row))), row,
                              loop_depth=self.loop_depth)
            return of_zip
        if iterable.view_of is not None and iterable.view_of[1] == "enumerate":
            (inner, start), _ = iterable.view_of
            live = self.live_items(inner)
            if live is None:
                return None

            def of_enumerate(k: int) -> Optional[Static]:
                item = live(k)
                return None if item is None else Struct(
                    pytree.TUPLE, None, [0, 1], [Const(start + k), item],
                    loop_depth=self.loop_depth)
            return of_enumerate
        if iterable.view_of is not None:
            receiver, name = iterable.view_of
            keys = list(receiver.keys)

            def of_view(k: int) -> Optional[Static]:
                if k >= len(keys):
                    return None
                value = receiver.item(keys[k])
                return Struct(pytree.TUPLE, None, [0, 1], [Const(keys[k]), value],
                              loop_depth=self.loop_depth) if name == "items" else \
                    Const(keys[k]) if name == "keys" else value
            return of_view
        if iterable.kind == pytree.LIST:
            return lambda k: iterable.items[k] if k < len(iterable.items) else None
        if iterable.kind == pytree.DICT:  # (for k in d: its keys, as they were)
            keys = list(iterable.keys)
            return lambda k: Const(keys[k]) if k < len(keys) else None
        items = list(iterable.items)  # (a tuple cannot change)
        return lambda k: items[k] if k < len(items) else None

    def unroll(self, stmt: gast.For, items: List[Static],
               live: Optional[Callable[[int], Optional[Static]]] = None) -> None:
        for node in walk(stmt):
            if isinstance(node, gast.Return):
                self.refuse("a return inside a loop over a structure is not supported",
                            node, hint="keep the result in a name and return after the loop")
            if isinstance(node, (gast.Break, gast.Continue)) and \
                    _belongs_to(stmt, node):
                self.refuse("break and continue are not supported in a loop over a "
                            "structure (it is unrolled for the structure's items)", node,
                            hint="test a condition around the rest of the body instead")
        if len(items) * sum(1 for _ in walk(stmt)) > 50 * _MAX_UNROLLED:
            self.refuse(f"this loop over {len(items)} items would be unrolled into too "
                        "much code", stmt, hint="keep the values in an array and loop "
                                                "over it by index")
        count = 0
        while True:
            item = live(count) if live is not None else \
                items[count] if count < len(items) else None
            if item is None:
                break
            if count > _MAX_UNROLLED:
                self.refuse("this loop over a list grows the list as fast as it goes",
                            stmt, hint="loop over a copy: for v in list(lst):")
            body = clone(stmt.body)
            target = clone(stmt.target)
            self.bind_known(target, item, stmt)
            self.statements(body)
            count += 1

    def while_(self, stmt: gast.While) -> None:
        self.dynamic_loop(stmt, lambda: setattr(stmt, "test", self.expression(stmt.test)))

    def dynamic_loop(self, stmt: gast.AST, header: Callable[[], None]) -> None:
        """A loop whose count is known only at run time: its body once, as it is; a
        structure it changes or binds is refused (it could differ per iteration)."""
        self.keep_variables(stmt.body, stmt)
        header()
        before = dict(self.env)
        self.loop_depth += 1
        try:
            stmt.body, _ = self.block(stmt.body)
        finally:
            self.loop_depth -= 1
        for name, value in list(self.env.items()):
            if before.get(name) is not value:
                if name in before:
                    self.refuse(f"{name!r} is bound to another structure in a loop whose "
                                "count is known only at run time", stmt,
                                hint="loop over a structure or a range of known length")
                del self.env[name]  # (bound per iteration, not after the loop)
        if not stmt.body:
            stmt.body = [gast.copy_location(gast.Pass(), stmt)]
        self.out.append(stmt)

    # -- expressions ----------------------------------------------------------------

    def expression(self, node: Optional[gast.AST]) -> Optional[gast.AST]:
        """The node rewritten for run time (structures replaced by their leaves)."""
        if node is None:
            return None
        if isinstance(node, gast.Slice):
            node.lower, node.upper, node.step = (self.expression(node.lower),
                                                 self.expression(node.upper),
                                                 self.expression(node.step))
            return node
        return self.materialize(self.evaluate(node), node)

    def materialize(self, value: Static, where: gast.AST) -> gast.AST:
        """A run-time expression for `value`: a leaf's, a constant's literal, a list or
        tuple of leaves as a literal (np.stack([a, b])), a passed-along object whole."""
        if isinstance(value, Leaf):
            return value.node
        if isinstance(value, Const):
            constant = value.value
            if value.source is not None:
                return clone(value.source)
            if constant is None or type(constant) in (int, float, str, bool, complex) or \
                    constant is Ellipsis:
                return gast.copy_location(gast.Constant(value=constant, kind=None), where)
            return self.global_name(constant, where)
        if isinstance(value, Struct):
            if value.whole is not None:
                self.whole_used.add(_root_name(value.whole))
                return clone(value.whole)
            if value.kind in (pytree.LIST, pytree.TUPLE):
                kind = gast.List if value.kind == pytree.LIST else gast.Tuple
                return gast.copy_location(kind(elts=[self.materialize(i, where)
                                                     for i in value.items],
                                               ctx=gast.Load()), where)
            self.refuse(f"a {value.kind} is used here as a value; s2sad reads "
                        "structures item by item", where,
                        hint="pass its items (d['key'], obj.field) instead of the whole "
                             "structure")
        if isinstance(value, Method):
            self.refuse(f"the method .{value.name} is used as a value", where,
                        hint="call it here")
        raise AssertionError(value)

    def global_name(self, value: Any, where: gast.AST) -> gast.AST:
        """A name for a function, class or module known now (self.act = np.tanh): a
        NumPy function as np.<name>, as people write it."""
        name = getattr(value, "__name__", None)
        if isinstance(name, str) and getattr(np, name, None) is value:
            module = self.global_name(np, where)
            read = gast.copy_location(gast.Attribute(value=module, attr=name,
                                                     ctx=gast.Load()), where)
            set_anno(read, "resolved", value)
            return read
        for name, existing in list(self.parsed.namespace.items()) + \
                list(self.added_globals.items()):
            if existing is value:
                break
        else:
            preferred = getattr(value, "__name__", None) or type(value).__name__.lower()
            name = pytree.fresh(pytree._identifier_part(preferred), self.taken)
            self.added_globals[name] = value
        node = gast.copy_location(load_name(name), where)
        set_anno(node, "resolved", value)
        return node

    def held(self, value: Static, preferred: str, where: gast.AST) -> Static:
        """`value`, with its run-time leaves in names of their own, for a structure
        bound to a name: later reads see these values even if the expressions' names
        are rebound (t = (a, b); a = 2 * a; t[0] is the old a)."""
        if isinstance(value, Leaf):
            node = value.node
            if isinstance(node, gast.Constant) or isinstance(node, gast.Name) and \
                    self.is_stable(node.id):
                return value
            name = pytree.fresh(preferred, self.taken)
            self.emit(gast.Assign(targets=[gast.Name(id=name, ctx=gast.Store(),
                                                     annotation=None, type_comment=None)],
                                  value=node), where)
            return Leaf(load_name(name))
        if isinstance(value, Struct):
            if all(self.is_held(i) for i in value.items):
                return value
            items = [self.held(item, f"{preferred}_{pytree._identifier_part(key)}", where)
                     for key, item in zip(value.keys, value.items)]
            return Struct(value.kind, value.type, list(value.keys), items, value.whole,
                          value.loop_depth)
        return value

    def is_held(self, value: Static) -> bool:
        if isinstance(value, Leaf):
            return isinstance(value.node, gast.Constant) or \
                isinstance(value.node, gast.Name) and self.is_stable(value.node.id)
        if isinstance(value, Struct):
            return all(self.is_held(i) for i in value.items)
        return True

    def is_stable(self, identifier: str) -> bool:
        """A name bound at most once, never in a loop: it keeps its value (leaf names
        made by this stage, parameters the function does not rebind, a local bound
        once)."""
        return self.assigned_in_function.get(identifier, 0) <= 1 and \
            identifier not in self.parsed.namespace

    def static_key(self, node: gast.AST, base: Struct, where: gast.AST) -> Any:
        """The key or index selecting an item of `base`, known now, or a refusal."""
        if isinstance(node, gast.Slice):
            return node  # (handled by subscript)
        key = self.evaluate(node)
        if isinstance(key, Const):
            return key.value
        try:
            self.refuse(f"this {base.kind} is indexed by a value known only at run time",
                        where, hint="index it with a constant or loop over it "
                                    "(for item in ...: / for i in range(len(...)):)")
        except UnsupportedSyntaxError as exc:
            exc.run_time_index = True  # (the call may compile again with its ints known)
            raise

    def evaluate(self, node: gast.AST) -> Static:
        method = getattr(self, "evaluate_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        self.rewrite_children(node)
        return Leaf(node)

    def rewrite_children(self, node: gast.AST) -> None:
        for name, value in gast.iter_fields(node):
            if isinstance(value, list):
                setattr(node, name, [self.expression(v) if isinstance(v, gast.expr)
                                     else self.rewrite_part(v) for v in value])
            elif isinstance(value, gast.expr):
                setattr(node, name, self.expression(value))
            elif isinstance(value, gast.AST):
                self.rewrite_part(value)

    def rewrite_part(self, value: Any) -> Any:
        if isinstance(value, gast.keyword):
            value.value = self.expression(value.value)
        elif isinstance(value, gast.comprehension):
            self.rewrite_children(value)
        elif isinstance(value, gast.arguments):
            pass  # a lambda's (refused later)
        return value

    def evaluate_Name(self, node: gast.Name) -> Static:
        if isinstance(node.ctx, gast.Load) and node.id in self.env:
            return self.env[node.id]
        return _function_named(node) or Leaf(node)

    def evaluate_Constant(self, node: gast.Constant) -> Static:
        return Const(node.value)

    def evaluate_UnaryOp(self, node: gast.UnaryOp) -> Static:
        operand = self.evaluate(node.operand)
        if isinstance(operand, Const) and isinstance(node.op, (gast.USub, gast.UAdd, gast.Not)) \
                and type(operand.value) in (int, float, bool, type(None), str):
            value = operand.value
            return Const(-value if isinstance(node.op, gast.USub) else
                         +value if isinstance(node.op, gast.UAdd) else not value)
        node.operand = self.materialize(operand, node.operand)
        return Leaf(node)

    def evaluate_BinOp(self, node: gast.BinOp) -> Static:
        """Arithmetic on values known now folds (`len(params) // 2`, `"W" + str(l)`,
        `"W%d" % l`): keys and counts computed from the structure stay known."""
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if isinstance(left, Const) and isinstance(right, Const) and \
                type(left.value) in (int, str) and type(right.value) in (int, str, tuple):
            operator = BINARY.get(type(node.op))
            if operator is not None:
                try:
                    return Const(operator(left.value, right.value))
                except Exception:  # (Python's own error is raised at run time)
                    pass
        node.left, node.right = self.materialize(left, node.left), \
            self.materialize(right, node.right)
        return Leaf(node)

    def evaluate_JoinedStr(self, node: gast.JoinedStr) -> Static:
        """An f-string of values known now (f"W{l}") is a key known now."""
        parts = []
        for value in node.values:
            if isinstance(value, gast.Constant):
                parts.append(str(value.value))
                continue
            inner = self.evaluate(value.value) if isinstance(value, gast.FormattedValue) \
                else None
            spec = value.format_spec
            if not isinstance(inner, Const) or spec is not None and not (
                    isinstance(spec, gast.JoinedStr) and
                    all(isinstance(v, gast.Constant) for v in spec.values)):
                return Leaf(node)  # (refused by the subset check)
            text = {115: str, 114: repr, 97: ascii}.get(value.conversion, lambda v: v)(
                inner.value)
            parts.append(format(text, "".join(str(v.value) for v in spec.values)
                                if spec is not None else ""))
        return Const("".join(parts))

    def evaluate_Compare(self, node: gast.Compare) -> Static:
        operands = [self.evaluate(node.left)] + [self.evaluate(c) for c in node.comparators]
        if all(isinstance(o, Const) for o in operands):
            values = [o.value for o in operands]
            if all(type(v) in (int, float, str, bool, type(None)) for v in values):
                return Const(all(compared(op, a, b) for op, a, b in
                                 zip(node.ops, values, values[1:])))
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.In, gast.NotIn)) and \
                isinstance(operands[0], Const) and isinstance(operands[1], Struct):
            container = operands[1]
            members = [k for k in container.keys] if container.kind == pytree.DICT else \
                [i.value for i in container.items if isinstance(i, Const)]
            if container.kind == pytree.DICT or len(members) == len(container.items):
                found = operands[0].value in members
                return Const(found if isinstance(node.ops[0], gast.In) else not found)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.Is, gast.IsNot)):
            left, right = operands
            known = known_identity(left, right)
            if known is not None:
                return Const(known if isinstance(node.ops[0], gast.Is) else not known)
        node.left = self.materialize(operands[0], node.left)
        node.comparators = [self.materialize(o, c)
                            for o, c in zip(operands[1:], node.comparators)]
        return Leaf(node)

    def evaluate_BoolOp(self, node: gast.BoolOp) -> Static:
        """`and`/`or` whose deciding operands are known now, with Python's short
        circuit (`cfg["bias"] and params.get("b") is not None`). From the first operand
        known only at run time on, the expression stays (the subset check decides)."""
        last = len(node.values) - 1
        for k, operand in enumerate(node.values):
            value = self.evaluate(operand)
            if not isinstance(value, (Const, Struct)):
                if k == last:
                    return value
                node.values = [self.materialize(value, operand)] + \
                    [self.expression(rest) for rest in node.values[k + 1:]]
                return Leaf(node)
            if k == last or self.truth(value, operand) == isinstance(node.op, gast.Or):
                return value
        raise AssertionError("a BoolOp has operands")

    def evaluate_IfExp(self, node: gast.IfExp) -> Static:
        test = self.evaluate(node.test)
        if isinstance(test, (Const, Struct)):
            return self.evaluate(node.body if self.truth(test, node.test) else node.orelse)
        node.test = self.materialize(test, node.test)
        node.body, node.orelse = self.expression(node.body), self.expression(node.orelse)
        return Leaf(node)

    def evaluate_Tuple(self, node: gast.Tuple) -> Static:
        return self.sequence(node, pytree.TUPLE)

    def evaluate_List(self, node: gast.List) -> Static:
        return self.sequence(node, pytree.LIST)

    def sequence(self, node: gast.AST, kind: str) -> Static:
        if not isinstance(node.ctx, gast.Load):
            return Leaf(node)
        items: List[Static] = []
        for elt in node.elts:
            if isinstance(elt, gast.Starred):
                spread = self.evaluate(elt.value)
                if isinstance(spread, Struct) and spread.kind in pytree.SEQUENCES:
                    items.extend(spread.items)
                    continue
                self.rewrite_children(node)  # (refused by the subset check)
                return Leaf(node)
            items.append(self.evaluate(elt))
        return Struct(kind, None, list(range(len(items))), items,
                      loop_depth=self.loop_depth)

    def evaluate_Dict(self, node: gast.Dict) -> Static:
        keys, items = [], []
        for key_node, value_node in zip(node.keys, node.values):
            if key_node is None:  # {**other}
                other = self.evaluate(value_node)
                if not (isinstance(other, Struct) and other.kind == pytree.DICT):
                    self.refuse("** of a value that is not a dict known now", value_node,
                                hint="write the keys out")
                for k, v in zip(other.keys, other.items):
                    if k in keys:
                        items[keys.index(k)] = v
                    else:
                        keys.append(k)
                        items.append(v)
                continue
            key = self.evaluate(key_node)
            if not isinstance(key, Const) or type(key.value) not in (str, int):
                self.refuse("a dict key that is not a string or integer known now", key_node,
                            hint="use string keys, e.g. {'W1': ...}")
            value = self.evaluate(value_node)
            if key.value in keys:
                items[keys.index(key.value)] = value
            else:
                keys.append(key.value)
                items.append(value)
        return Struct(pytree.DICT, None, keys, items, loop_depth=self.loop_depth)

    def evaluate_ListComp(self, node: gast.ListComp) -> Static:
        return self.comprehension(node, pytree.LIST)

    def evaluate_GeneratorExp(self, node: gast.GeneratorExp) -> Static:
        return self.comprehension(node, pytree.LIST)

    def evaluate_DictComp(self, node: gast.DictComp) -> Static:
        return self.comprehension(node, pytree.DICT)

    def comprehension(self, node: gast.AST, kind: str) -> Static:
        """A comprehension over structures (`[W.T for W, b in layers]`, `{k: v * 2 for
        k, v in params.items()}`, `sum(np.sum(w ** 2) for w in params.values())`):
        one item per element, known now. Its names are its own, as in Python."""
        rows: List[Dict[str, Static]] = [{}]
        for generator in node.generators:
            if generator.is_async:
                return self.dynamic(node)
            expanded = []
            for row in rows:
                with self.scoped(row):
                    items = self.iterated(self.evaluate(clone(generator.iter)), generator.iter)
                if items is None:
                    return self.dynamic(node)
                for item in items:
                    bound = dict(row)
                    if not bind_pattern(generator.target, item, bound):
                        return self.dynamic(node)
                    with self.scoped(bound):
                        keep = all(self.truth(self.known_test(clone(test)), test)
                                   for test in generator.ifs)
                    if keep:
                        expanded.append(bound)
            rows = expanded
        keys, items = [], []
        for row in rows:
            with self.scoped(row):
                if kind == pytree.DICT:
                    key = self.evaluate(clone(node.key))
                    if not isinstance(key, Const) or type(key.value) not in (str, int):
                        self.refuse("a dict comprehension's key that is not a string or "
                                    "integer known now", node.key, hint="use the keys of "
                                    "the structure it loops over")
                    value = self.evaluate(clone(node.value))
                    if key.value in keys:
                        items[keys.index(key.value)] = value
                        continue
                    keys.append(key.value)
                    items.append(value)
                else:
                    items.append(self.evaluate(clone(node.elt)))
                    keys.append(len(keys))
        return Struct(kind, None, keys, items, loop_depth=self.loop_depth)

    def known_test(self, test: gast.AST) -> Static:
        value = self.evaluate(test)
        if not isinstance(value, (Const, Struct)):
            self.refuse("a comprehension over a structure filters on a value known only at "
                        "run time", test, hint="filter on the structure's keys, or use "
                                               "np.where on the values")
        return value

    def dynamic(self, node: gast.AST) -> Static:
        """A construct this stage leaves as it is (the subset check decides on it)."""
        return Leaf(node)

    @contextlib.contextmanager
    def scoped(self, bound: Dict[str, Static]):
        """Names bound for a comprehension's element, as they were outside after it."""
        saved = {name: self.env.get(name, _MISSING) for name in bound}
        self.env.update(bound)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is _MISSING:
                    self.env.pop(name, None)
                else:
                    self.env[name] = value

    def evaluate_Subscript(self, node: gast.Subscript) -> Static:
        base = self.evaluate(node.value)
        if isinstance(base, Struct):
            if isinstance(node.slice, gast.Slice) and base.kind in (pytree.LIST, pytree.TUPLE,
                                                                    pytree.NAMEDTUPLE):
                bounds = [None if p is None else self.evaluate(p)
                          for p in (node.slice.lower, node.slice.upper, node.slice.step)]
                if all(b is None or isinstance(b, Const) for b in bounds):
                    picked = range(len(base.items))[slice(*[
                        None if b is None else b.value for b in bounds])]
                    kind = pytree.LIST if base.kind == pytree.LIST else pytree.TUPLE
                    return Struct(kind, None, list(range(len(picked))),
                                  [base.items[k] for k in picked],
                                  loop_depth=self.loop_depth)
            try:
                key = self.static_key(node.slice, base, node)
            except UnsupportedSyntaxError:
                if base.whole is None:
                    raise
                node.value = self.materialize(base, node.value)
                node.slice = self.expression(node.slice)
                return Leaf(node)
            item = base.item(key)
            if item is None:
                self.refuse(f"{_describe_key(key)} is not in this {base.kind} "
                            f"(it has {_describe_keys(base)})", node,
                            hint="use one of the keys the structure has")
            return item
        if isinstance(base, Const) and base.value is not None and \
                type(base.value) in (str, tuple):
            key = self.evaluate(node.slice) if not isinstance(node.slice, gast.Slice) else None
            if isinstance(key, Const):
                return Const(base.value[key.value])
        table = get_anno(node.value, "resolved", None) if isinstance(base, Leaf) else None
        if type(table) in (dict, list, tuple) and not isinstance(node.slice, gast.Slice):
            key = self.evaluate(node.slice)  # ACTIVATIONS[cfg["act"]]: a function known now
            if isinstance(key, Const):
                try:
                    found = table[key.value]
                except (KeyError, IndexError, TypeError):
                    found = None
                if isinstance(found, _FUNCTIONS):
                    return Const(found)
            node.slice = self.materialize(key, node.slice)
            node.value = self.materialize(base, node.value)
            return Leaf(node)
        node.value = self.materialize(base, node.value)
        node.slice = self.expression(node.slice)
        return Leaf(node)

    def evaluate_Attribute(self, node: gast.Attribute) -> Static:
        base = self.evaluate(node.value)
        if isinstance(base, Struct):
            if base.kind in pytree.RECORDS and node.attr in base.keys:
                return base.items[base.keys.index(node.attr)]
            if base.kind in (pytree.DICT, pytree.LIST) or base.type is None:
                return Method(base, node.attr)
            if base.kind == pytree.NAMEDTUPLE and node.attr in ("_replace", "_asdict"):
                return Method(base, node.attr)
            in_class = inspect.getattr_static(base.type, node.attr, None)
            if isinstance(in_class, staticmethod):
                return Const(in_class.__func__)
            if isinstance(in_class, classmethod):
                return Method(Const(base.type), node.attr, in_class.__func__)
            if isinstance(in_class, types.FunctionType):
                return Method(base, node.attr, in_class)
            if isinstance(in_class, property) and isinstance(in_class.fget, types.FunctionType):
                return self.specialise(in_class.fget, [], {}, node, prefix=[base])
            self.refuse(f"{_type_name(base)} has no attribute {node.attr!r} that s2sad can "
                        "read" + (" (a property is computed by code s2sad does not read)"
                                  if isinstance(in_class, property) else ""), node,
                        hint="read a field the object holds, or pass the value as an "
                             "argument")
        if isinstance(base, Const) and pytree.is_user_object(base.value):
            return self.object_attribute(base.value, node)
        if isinstance(base, Leaf) and pytree.is_user_object(get_anno(node.value, "resolved")):
            return self.object_attribute(get_anno(node.value, "resolved"), node)
        if isinstance(base, Const) and not is_number(base.value) and base.value is not None:
            found = getattr(base.value, node.attr, _MISSING)
            if found is not _MISSING and isinstance(base.value, type):
                self.constants.append((base.value, node.attr, found))  # (cls.scale)
            if found is not _MISSING:
                if isinstance(base.value, type) and isinstance(
                        inspect.getattr_static(base.value, node.attr, None), classmethod):
                    return Method(base, node.attr, found.__func__)
                return Const(found)
        node.value = self.materialize(base, node.value)
        return _function_named(node) or Leaf(node)

    def object_attribute(self, owner: Any, node: gast.Attribute) -> Static:
        """An attribute of an object the function reads from a global or a closure
        (`model.forward`, `model.W`): a method is read for this object; data is read
        at run time from the object (a training loop may rebind model.W)."""
        in_class = inspect.getattr_static(type(owner), node.attr, None)
        if isinstance(in_class, types.FunctionType):
            return Method(Const(owner), node.attr, in_class)
        if isinstance(in_class, staticmethod):
            return Const(in_class.__func__)
        if isinstance(in_class, classmethod):
            return Method(Const(type(owner)), node.attr, in_class.__func__)
        value = getattr(owner, node.attr, _MISSING)
        if value is _MISSING:
            self.refuse(f"{type(owner).__name__} object has no attribute {node.attr!r}", node,
                        hint="check the attribute's name")
        if pytree.is_structured(value):
            self.refuse(f"{node.attr!r} of an object the function reads from outside holds a "
                        f"{type(value).__name__}, which is not read here", node,
                        hint="pass it to the function as an argument (or the object itself "
                             "as an argument)")
        if callable(value) or isinstance(value, str) or value is None or \
                isinstance(value, bool):
            self.constants.append((owner, node.attr, value))
            return Const(value)
        read = gast.copy_location(gast.Attribute(value=self.global_name(owner, node),
                                                 attr=node.attr, ctx=gast.Load()), node)
        set_anno(read, "resolved", value)
        return Leaf(read)

    def evaluate_Call(self, node: gast.Call) -> Static:
        callee = self.evaluate(node.func)
        if isinstance(callee, Method):
            return self.method_call(callee, node)
        if isinstance(callee, Struct) and callee.type is not None:  # model(x): __call__
            call = inspect.getattr_static(callee.type, "__call__", None)
            if isinstance(call, types.FunctionType):
                return self.method_call(Method(callee, "__call__", call), node)
        resolved = get_anno(node.func, "resolved", _MISSING) if isinstance(callee, Leaf) \
            else callee.value if isinstance(callee, Const) else _MISSING
        args, keywords, spread, wheres, keyword_wheres = self.call_arguments(node)
        structured = any(isinstance(a, Struct) for a in args) or \
            any(isinstance(v, Struct) for v in keywords.values())
        if resolved is not _MISSING and not spread:
            known = self.builtin_call(resolved, args, keywords, node)
            if known is not None:
                return known
            constant = folded(resolved, args, keywords)
            if constant is not None:
                return constant
            if structured and _is_helper(resolved):
                return self.specialise(resolved, args, keywords, node, prefix=[])
        node.func = self.materialize(callee, node.func)
        if not spread:
            node.args = [self.materialize(a, where) for a, where in zip(args, wheres)]
            node.keywords = [gast.keyword(arg=k, value=self.materialize(
                v, keyword_wheres.get(k, node))) for k, v in keywords.items()]
        return Leaf(node)

    def call_arguments(self, node: gast.Call) -> tuple:
        """(positional arguments, keyword arguments, whether some are spread at run
        time, where each positional and each keyword argument came from). `*batch` and
        `**batch` of a structure known now are its items: `loss(params, *batch)` with
        batch = (x, y) is loss(params, x, y)."""
        args: List[Static] = []
        keywords: Dict[str, Static] = {}
        spread = False
        rewritten = []  # (the arguments as run-time code, where some are spread then)
        wheres: List[gast.AST] = []
        for arg in node.args:
            wheres.append(arg)
            if not isinstance(arg, gast.Starred):
                args.append(self.evaluate(arg))
                rewritten.append(self.materialize(args[-1], arg) if not isinstance(
                    args[-1], (Struct, Method)) else arg)
                continue
            value = self.evaluate(arg.value)
            if isinstance(value, Struct) and value.kind in pytree.SEQUENCES + (pytree.DICT,):
                items = self.iterated(value, arg)
                args.extend(items)
                wheres[-1:] = [arg] * len(items)
            else:
                arg.value = self.materialize(value, arg.value)
                rewritten.append(arg)
                spread = True
        by_keyword = {}
        for keyword in node.keywords:
            value = self.evaluate(keyword.value)
            if keyword.arg is not None:
                keywords[keyword.arg] = value
                by_keyword[keyword.arg] = keyword.value
            elif isinstance(value, Struct) and value.kind == pytree.DICT and \
                    all(isinstance(k, str) for k in value.keys):
                keywords.update(zip(value.keys, value.items))
            else:
                keyword.value = self.materialize(value, keyword.value)
                spread = True
        if spread:  # (the call keeps its form; the subset check decides on it)
            node.args = rewritten
        return args, keywords, spread, wheres, by_keyword

    def starred(self, node: gast.Starred) -> gast.AST:
        node.value = self.expression(node.value)
        return node

    def builtin_call(self, function: Any, args: List[Static], keywords: Dict[str, Static],
                     node: gast.Call) -> Optional[Static]:
        """len, list, tuple, zip, enumerate, isinstance, dataclasses.replace of
        structures: known now."""
        first = args[0] if args else None
        if function is builtins.len and len(args) == 1 and isinstance(first, Struct):
            return Const(len(first.items))
        if function in (builtins.list, builtins.tuple) and len(args) == 1 and \
                isinstance(first, Struct):
            items = self.iterated(first, node)
            kind = pytree.LIST if function is builtins.list else pytree.TUPLE
            return Struct(kind, None, list(range(len(items))), list(items),
                          loop_depth=self.loop_depth)
        if function is builtins.zip and args and not keywords and \
                all(isinstance(a, Struct) for a in args):
            columns = [self.iterated(a, node) for a in args]
            rows = [Struct(pytree.TUPLE, None, list(range(len(args))), list(row),
                           loop_depth=self.loop_depth) for row in zip(*columns)]
            view = Struct(pytree.LIST, None, list(range(len(rows))), rows,
                          loop_depth=self.loop_depth)
            view.view_of = (args, "zip")
            return view
        if function is builtins.enumerate and isinstance(first, Struct) and len(args) <= 2:
            start = args[1] if len(args) == 2 else keywords.get("start", Const(0))
            if not isinstance(start, Const):
                return None
            rows = [Struct(pytree.TUPLE, None, [0, 1], [Const(start.value + k), item],
                           loop_depth=self.loop_depth)
                    for k, item in enumerate(self.iterated(first, node))]
            view = Struct(pytree.LIST, None, list(range(len(rows))), rows,
                          loop_depth=self.loop_depth)
            view.view_of = ((first, start.value), "enumerate")
            return view
        if function is builtins.isinstance and len(args) == 2 and isinstance(args[1], Const):
            if isinstance(first, Struct) and first.kind in pytree.CONTAINERS:
                example = {pytree.LIST: [], pytree.TUPLE: (), pytree.DICT: {}}.get(first.kind)
                kind = type(example) if example is not None else first.type
                try:
                    return Const(issubclass(kind, args[1].value))
                except TypeError:
                    return None
            if isinstance(first, Const):
                return Const(isinstance(first.value, args[1].value))
        if function is builtins.reversed and len(args) == 1 and isinstance(first, Struct) \
                and first.kind in pytree.SEQUENCES:
            items = list(reversed(first.items))
            return Struct(pytree.LIST, None, list(range(len(items))), items,
                          loop_depth=self.loop_depth)
        if function is builtins.sorted and len(args) == 1 and isinstance(first, Struct) and \
                not keywords:
            keys = self.iterated(first, node)
            if all(isinstance(k, Const) for k in keys):
                try:
                    ordered = sorted(keys, key=lambda k: k.value)
                except TypeError:
                    return None
                return Struct(pytree.LIST, None, list(range(len(ordered))), ordered,
                              loop_depth=self.loop_depth)
        if function is builtins.dict and (not args or len(args) == 1 and isinstance(
                first, Struct) and first.kind == pytree.DICT):
            keys = (list(first.keys) if args else []) + list(keywords)
            items = (list(first.items) if args else []) + list(keywords.values())
            return Struct(pytree.DICT, None, keys, items, loop_depth=self.loop_depth)
        if function is builtins.sum and len(args) in (1, 2) and isinstance(first, Struct) \
                and not keywords.keys() - {"start"}:
            start = args[1] if len(args) == 2 else keywords.get("start")
            return self.summed(self.iterated(first, node), start, node)
        if function is dataclasses.replace and len(args) == 1 and isinstance(first, Struct) \
                and first.kind == pytree.DATACLASS:
            return self.replaced(first, keywords, node)
        return None

    def summed(self, items: List[Static], start: Optional[Static], node: gast.AST) -> Static:
        """sum() of a structure's items: their additions, in Python's order (a start
        other than the default 0 comes first)."""
        terms = ([start] if start is not None else []) + list(items)
        if not terms:
            return Const(0)
        total = self.materialize(terms[0], node)
        if start is None and len(terms) == 1:
            total = gast.BinOp(left=gast.Constant(value=0, kind=None), op=gast.Add(),
                               right=total)
        for term in terms[1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=self.materialize(term, node))
        return Leaf(gast.copy_location(total, node))

    def replaced(self, base: Struct, changes: Dict[str, Static], node: gast.AST) -> Static:
        for key in changes:
            if key not in base.keys:
                self.refuse(f"{_type_name(base)} has no field {key!r}", node,
                            hint="replace one of its fields")
        items = [changes.get(k, item) for k, item in zip(base.keys, base.items)]
        return Struct(base.kind, base.type, list(base.keys), items,
                      loop_depth=self.loop_depth)

    def method_call(self, method: Method, node: gast.Call) -> Static:
        receiver = method.receiver
        args = [self.evaluate(a) for a in node.args]
        keywords = {k.arg: self.evaluate(k.value) for k in node.keywords}
        if method.function is not None:
            return self.specialise(method.function, args, keywords, node, prefix=[receiver])
        name = method.name
        if isinstance(receiver, Struct) and receiver.kind == pytree.DICT:
            if name in ("items", "keys", "values") and not args and not keywords:
                rows = [Struct(pytree.TUPLE, None, [0, 1], [Const(k), v],
                               loop_depth=self.loop_depth) if name == "items" else
                        Const(k) if name == "keys" else v
                        for k, v in zip(receiver.keys, receiver.items)]
                view = Struct(pytree.LIST, None, list(range(len(rows))), rows,
                              loop_depth=self.loop_depth)
                view.view_of = (receiver, name)  # (a loop over it reads it live)
                return view
            if name == "get" and args and isinstance(args[0], Const) and not keywords:
                found = receiver.item(args[0].value)
                return found if found is not None else \
                    (args[1] if len(args) > 1 else Const(None))
            if name == "copy" and not args and not keywords:
                return Struct(receiver.kind, None, list(receiver.keys), list(receiver.items),
                              loop_depth=self.loop_depth)
            if name == "update" and len(args) == 1 and isinstance(args[0], Struct) and \
                    args[0].kind == pytree.DICT:
                self.mutating(receiver, node)
                for k, v in zip(args[0].keys, args[0].items):
                    self.store_item(receiver, k, v, node, node)
                return Const(None)
        if isinstance(receiver, Struct) and receiver.kind == pytree.LIST:
            if name == "append" and len(args) == 1 and not keywords:
                self.mutating(receiver, node)
                receiver.items.append(self.held(args[0], "item", node))
                receiver.keys = list(range(len(receiver.items)))
                return Const(None)
            if name == "extend" and len(args) == 1 and isinstance(args[0], Struct):
                self.mutating(receiver, node)
                receiver.items.extend(self.iterated(args[0], node))
                receiver.keys = list(range(len(receiver.items)))
                return Const(None)
            if name == "copy" and not args and not keywords:
                return Struct(pytree.LIST, None, list(receiver.keys), list(receiver.items),
                              loop_depth=self.loop_depth)
        if isinstance(receiver, Struct) and receiver.kind == pytree.NAMEDTUPLE:
            if name == "_replace" and not args:
                return self.replaced(receiver, keywords, node)
            if name == "_asdict" and not args and not keywords:
                return Struct(pytree.DICT, None, list(receiver.keys), list(receiver.items),
                              loop_depth=self.loop_depth)
        self.refuse(f".{name}() of a {receiver.kind if isinstance(receiver, Struct) else 'value'}"
                    " is not supported here", node,
                    hint="read the items directly (d['k'], for k, v in d.items(), "
                         "lst.append(v))")
        raise AssertionError

    # -- helpers given structures ---------------------------------------------------

    def specialise(self, function: Any, args: List[Static], keywords: Dict[str, Static],
                   node: gast.Call, prefix: List[Static]) -> Static:
        """A call of the user's function with structured arguments: its body is read
        for these structures (a helper of its own, called with the leaves), its result
        bound to fresh names and known as a structure."""
        if not _is_helper(function):
            self.refuse(f"{getattr(function, '__qualname__', function)!r} is given a "
                        "structure, but it is not a Python function s2sad can read", node,
                        hint="pass the arrays it needs one by one")
        helper = self.read_helper(function)
        try:
            bound = inspect.signature(function).bind(*(prefix + args), **keywords)
        except TypeError as exc:
            self.refuse(f"this call does not match {function.__name__}"
                        f"{inspect.signature(function)} ({exc})", node,
                        hint="pass the arguments the helper takes")
        bound.apply_defaults()
        taken = set(helper.local_names) | set(helper.namespace) | \
            _all_identifiers(helper.func)
        inner = _Desugar(helper, taken, self.read_helper, self.check_helper)
        inner.constants = self.constants  # (one list for the whole reading)
        params, call_args = [], []
        for arg in _positional_params(helper.func):
            value = bound.arguments.get(arg.id, _MISSING)
            if value is _MISSING:
                continue
            if not isinstance(value, Static):
                value = Const(value)  # a default
            if isinstance(value, (Struct, Method)) or isinstance(value, Const) and \
                    not is_number(value.value):
                inner.env[arg.id] = self.passed(value, arg.id, inner, params, call_args,
                                                node)
            else:
                params.append(_param(arg.id, arg))
                call_args.append(self.materialize(value, node))
        helper.func.body = inner.function_body(helper.func.body)
        args_node = helper.func.args
        args_node.posonlyargs, args_node.args, args_node.kwonlyargs = [], params, []
        args_node.kw_defaults, args_node.defaults = [], []
        args_node.vararg = args_node.kwarg = None
        helper.namespace.update(inner.added_globals)
        self.check_helper(helper)
        callee = gast.copy_location(load_name(function.__name__),
                                    getattr(node, "func", node))  # (inlined)
        set_anno(callee, "resolved", function)
        call = gast.copy_location(gast.Call(func=callee, args=call_args, keywords=[]), node)
        set_anno(call, "specialised", helper)
        output = inner.output
        if output is None or output.kind == pytree.LEAF:
            return Leaf(call)
        names = [pytree.fresh(f"{function.__name__}_result", self.taken)
                 for _ in range(output.leaf_count())]
        target = gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Store(), annotation=None,
                                            type_comment=None) for n in names],
                            ctx=gast.Store())
        if len(names) == 1:
            target = target.elts[0]
        self.emit(gast.Assign(targets=[target], value=call), node)
        for n in names:
            self.assigned_in_function[n] = 0
        result = static_of(output, iter(names), None)
        if inner.returns_borrowed:  # (its caller's structure: a store into it is refused)
            mark_borrowed(result)
        return result

    def passed(self, value: Static, param: str, inner: "_Desugar", params: list,
               call_args: list, where: gast.AST) -> Static:
        """The Static a helper sees for a structured argument: each run-time leaf a
        parameter of its own (named after the helper's parameter), constants as they
        are."""
        if isinstance(value, Leaf):
            name = pytree.fresh(param, inner.taken)
            params.append(_param(name, where))
            call_args.append(self.materialize(value, where))
            return Leaf(load_name(name))
        if isinstance(value, Struct):
            items = [self.passed(item, f"{param}_{pytree._identifier_part(key)}", inner,
                                 params, call_args, where)
                     for key, item in zip(value.keys, value.items)]
            return Struct(value.kind, value.type, list(value.keys), items, borrowed=True)
        if isinstance(value, Method):
            return Method(self.passed(value.receiver, param, inner, params, call_args, where),
                          value.name, value.function)
        return value


_MISSING = object()


_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def _function_named(node: gast.AST) -> Optional[Const]:
    """A global name or attribute chain that names a function (np.tanh, relu): a
    value known now, so `act = np.tanh if ... else relu` then `act(z)` calls it."""
    resolved = get_anno(node, "resolved", None)
    if isinstance(resolved, _FUNCTIONS):
        return Const(resolved, source=node)
    return None


def _is_helper(function: Any) -> bool:
    from .lower import _is_user_function
    from .rules import has_rule
    return _is_user_function(function) and not has_rule(function)


def _before_jump(block: List[gast.stmt], stmt: gast.stmt) -> None:
    """Append to a branch, before a final break or continue."""
    if block and isinstance(block[-1], (gast.Break, gast.Continue)):
        block.insert(len(block) - 1, stmt)
    else:
        block.append(stmt)


def _assignment_counts(body: Sequence[gast.stmt]) -> Dict[str, int]:
    """How often each name is bound (a binding in a loop counts twice)."""
    counts: Dict[str, int] = {}

    def visit(stmts: Sequence[gast.stmt], weight: int) -> None:
        for stmt in stmts:
            if isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    for n in _store_names(stmt.target):
                        counts[n] = counts.get(n, 0) + 2
                visit(stmt.body, 2)
                visit(stmt.orelse, weight)
            elif isinstance(stmt, gast.If):
                visit(stmt.body, weight)
                visit(stmt.orelse, weight)
            else:
                for node in walk(stmt):
                    if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                        counts[node.id] = counts.get(node.id, 0) + weight
    visit(body, 1)
    return counts


def _stored_names(body: Sequence[gast.stmt]) -> set:
    return {n.id for stmt in body for n in walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _store_names(target: gast.AST) -> List[str]:
    return [n.id for n in walk(target) if isinstance(n, gast.Name)]


def _belongs_to(loop: gast.AST, jump: gast.AST) -> bool:
    """Whether break/continue `jump` leaves `loop` itself (not a loop nested in it)."""
    def search(stmts, inside_nested):
        for stmt in stmts:
            if stmt is jump:
                return not inside_nested
            if isinstance(stmt, (gast.For, gast.While)):
                if search(stmt.body, True):
                    return True
                continue
            for field_name in ("body", "orelse"):
                found = search(getattr(stmt, field_name, []) or [], inside_nested)
                if found:
                    return True
        return False
    return search(loop.body, False)


def _root_name(node: gast.AST) -> str:
    while not isinstance(node, gast.Name):
        node = node.value
    return node.id


def _path_name(target: gast.AST) -> str:
    """params_W1 for params["W1"] (a name for a stored item)."""
    if isinstance(target, gast.Name):
        return target.id
    if isinstance(target, gast.Subscript):
        key = target.slice.value if isinstance(target.slice, gast.Constant) else "item"
        return f"{_path_name(target.value)}_{pytree._identifier_part(key)}"
    if isinstance(target, gast.Attribute):
        return f"{_path_name(target.value)}_{target.attr}"
    return "item"


def _describe_key(key: Any) -> str:
    return f"the key {key!r}" if isinstance(key, str) else f"the index {key!r}"


def _describe_keys(base: Struct) -> str:
    if base.kind in pytree.SEQUENCES:
        return f"{len(base.items)} items"
    return "the keys " + ", ".join(repr(k) for k in base.keys) if base.keys else "no keys"


def _type_name(base: Struct) -> str:
    return getattr(base.type, "__name__", base.kind)
