"""The desugar stage's reading of expressions: each evaluates to what is known of
its value when the call is compiled (see values.py), and is written back as run-time
code where it is not known (`materialize`). Calls are calls.py's, statements
statements.py's; those classes extend this one, whose methods they call."""
from __future__ import annotations

import builtins
import contextlib
import inspect
import types
from typing import Any, Callable, Dict, List, Optional, Sequence

import gast
import numpy as np

from .. import pytree
from ..anno import clone, get_anno, set_anno, walk
from ..errors import UnsupportedSyntaxError
from ..pytree import Tree
from . import numpy_forms
from .values import (BINARY, Const, Iterator, Leaf, LocalLambda, Method, Static, Struct, Super,
                     bind_pattern, compared, is_number, known_identity, load_name)


_MISSING = object()



class Expressions:
    """Expressions of one function read for the structures of a call."""

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
        self.shapes: Dict[str, tuple] = {}  # arguments' shapes, where compiled for them
        self.accumulating: Optional[gast.AST] = None  # sum(<this generator>): a loop
        self.unrolling = 0  # inside a comprehension read item by item
        self.wants_rows = 0  # reading a comprehension's iterable: arrays as their rows
        # the branches and loops decided only at run time being read: (id, is a loop)
        self.blocks: List[tuple] = []
        self.blocks_made = 0
        self.reading: List[Any] = [getattr(parsed, "function", None)]  # helpers being read
        self.passing: Dict[int, Static] = {}  # lambdas and defs passed to this reading

    @property
    def runtime_depth(self) -> int:
        return len(self.blocks)

    def enter_block(self, loop: bool = False) -> None:
        self.blocks_made += 1
        self.blocks.append((self.blocks_made, loop))

    def leave_block(self) -> None:
        self.blocks.pop()

    def refuse(self, message: str, node: gast.AST, hint: str) -> None:
        raise UnsupportedSyntaxError(message, self.parsed.locate(node), hint=hint)

    # -- statements -----------------------------------------------------------------

    def emit(self, stmt: gast.stmt, where: gast.AST) -> None:
        self.out.append(gast.copy_location(stmt, where) if getattr(stmt, "lineno", None)
                        is None else stmt)

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
        if isinstance(value, LocalLambda):
            self.refuse("a lambda is used here as a value; s2sad reads a lambda bound to a "
                        "name where it is called", where,
                        hint="call it here, or define the function at module level")
        if isinstance(value, Iterator):  # (np.stack(gen): its items, taken here)
            items = self.taken_all(value, where)
            return gast.copy_location(gast.List(elts=[self.materialize(i, where)
                                                      for i in items], ctx=gast.Load()), where)
        self.refuse("a nested function is used here as a value; s2sad reads a function "
                    "defined in the function where it is called", where,
                    hint="call it here, or define the function at module level")

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
        known = list(self.parsed.namespace.items()) + list(self.added_globals.items())
        if value is np:  # (np, as people write it, where the module is bound to it)
            known.sort(key=lambda pair: pair[0] != "np")
        for name, existing in known:
            if existing is value:
                break
        else:
            preferred = "np" if value is np else \
                getattr(value, "__name__", None) or type(value).__name__.lower()
            name = pytree.fresh(pytree._identifier_part(preferred), self.taken)
            self.added_globals[name] = value
        node = gast.copy_location(load_name(name), where)
        set_anno(node, "resolved", value)
        return node

    def held(self, value: Static, preferred: str, where: gast.AST,
             memo: Optional[Dict[int, Struct]] = None) -> Static:
        """`value`, with its run-time leaves in names of their own, for a structure
        bound to a name: later reads see these values even if the expressions' names
        are rebound (t = (a, b); a = 2 * a; t[0] is the old a)."""
        if isinstance(value, Leaf):
            node = value.node
            if isinstance(node, gast.Constant) or isinstance(node, gast.Name) and \
                    self.is_stable(node.id):
                return value
            name = pytree.fresh(preferred, self.taken)
            self.emit(gast.Assign(type_comment=None, targets=[gast.Name(id=name, ctx=gast.Store(),
                                                     annotation=None, type_comment=None)],
                                  value=node), where)
            return Leaf(load_name(name))
        if isinstance(value, Struct):
            if all(self.is_held(i) for i in value.items):
                return value
            memo = {} if memo is None else memo
            if id(value) in memo:  # ([[v]] * 2: one inner list, held once)
                return memo[id(value)]
            made = memo[id(value)] = Struct(value.kind, value.type, list(value.keys), [],
                                             value.whole, value.loop_depth, apart=value.apart)
            made.items = [self.held(item, f"{preferred}_{pytree._identifier_part(key)}",
                                    where, memo) for key, item in zip(value.keys, value.items)]
            return made
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
        joined = self.joined_sequences(node, left, right)
        if joined is not None:
            return joined
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

    def joined_sequences(self, node: gast.BinOp, left: Static, right: Static) -> Optional[Static]:
        """`a + [v]` of lists (or tuples): a new one of their items; `[x] * 3`: its
        items repeated, as Python builds them (the items themselves, not copies)."""
        def sequence(value: Static) -> Optional[List[Static]]:
            if isinstance(value, Struct) and value.kind in (pytree.LIST, pytree.TUPLE):
                return list(value.items)
            return None

        first, second = sequence(left), sequence(right)
        if isinstance(node.op, gast.Mult) and (first is not None) != (second is not None) \
                and isinstance(right if first is not None else left, Leaf):
            try:  # ([0.0] * len(x): the call may compile again, for its arrays' shapes)
                self.refuse("a list repeated a number of times known only at run time",
                            node, hint="make an array instead: np.zeros(len(x))")
            except UnsupportedSyntaxError as exc:
                exc.run_time_count = True
                raise
        if isinstance(node.op, gast.Add) and first is not None and second is not None and \
                left.kind == right.kind:
            items = first + second
        elif isinstance(node.op, gast.Mult) and (first is not None) != (second is not None):
            count = right if first is not None else left
            if not (isinstance(count, Const) and type(count.value) is int):
                return None
            items = (first if first is not None else second) * max(count.value, 0)
            left = left if first is not None else right
        else:
            return None
        return Struct(left.kind, None, list(range(len(items))), items,
                      loop_depth=self.loop_depth)

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
        if len(node.ops) > 1:
            return self.evaluate(self.chained(node))
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
        if isinstance(node.ops[0], (gast.In, gast.NotIn)) and isinstance(operands[0], Leaf):
            members = self.iterated(operands[1], node.comparators[0])
            if members is not None:
                return self.membership(node, operands[0], members)
        node.left = self.materialize(operands[0], node.left)
        node.comparators = [self.materialize(o, c)
                            for o, c in zip(operands[1:], node.comparators)]
        return Leaf(node)

    def chained(self, node: gast.Compare) -> gast.BoolOp:
        """`a < b < c` as Python computes it: `a < b and b < c`, b computed once (held
        in a name by a walrus), c only where a < b holds."""
        pairs = []
        left = node.left
        for k, (op, right) in enumerate(zip(node.ops, node.comparators)):
            if k < len(node.ops) - 1 and not isinstance(right, (gast.Constant, gast.Name)):
                name = pytree.fresh("compared", self.taken)
                self.assigned_in_function[name] = 1
                right = gast.copy_location(gast.NamedExpr(target=gast.Name(
                    id=name, ctx=gast.Store(), annotation=None, type_comment=None),
                    value=right), right)
                following = gast.copy_location(load_name(name), right)
            else:
                following = clone(right)
            pairs.append(gast.copy_location(gast.Compare(left=left, ops=[op],
                                                         comparators=[right]), node))
            left = following
        return gast.copy_location(gast.BoolOp(op=gast.And(), values=pairs), node)

    def membership(self, node: gast.Compare, value: Leaf, members: List[Static]) -> Static:
        """`x in (a, b)` of a run-time x: `x == a or x == b` (Python compares by
        equality; `not in`: `x != a and x != b`), x computed once."""
        inside = isinstance(node.ops[0], gast.In)
        if not members:
            return Const(not inside)
        held = self.held(value, "member", node)
        tests = [gast.copy_location(gast.Compare(
            left=clone(self.materialize(held, node)), ops=[gast.Eq() if inside else gast.NotEq()],
            comparators=[self.materialize(m, node)]), node) for m in members]
        if len(tests) == 1:
            return self.evaluate(tests[0])
        return self.evaluate(gast.copy_location(gast.BoolOp(
            op=gast.Or() if inside else gast.And(), values=tests), node))

    def evaluate_BoolOp(self, node: gast.BoolOp) -> Static:
        """`and`/`or` with Python's short circuit: operands known now decide now
        (`cfg["bias"] and params.get("b") is not None`); from the first operand known
        only at run time on, as statements (see short_circuit)."""
        last = len(node.values) - 1
        for k, operand in enumerate(node.values):
            value = self.evaluate(operand)
            if not isinstance(value, (Const, Struct)):
                if k == last:
                    return value
                return self.short_circuit(node, value, operand, node.values[k + 1:])
            if k == last or self.truth(value, operand) == isinstance(node.op, gast.Or):
                return value
        raise AssertionError("a BoolOp has operands")

    def short_circuit(self, node: gast.BoolOp, first: Static, where: gast.AST,
                      rest: List[gast.AST]) -> Static:
        """`p and q` of run-time values as Python computes it, in statements the later
        stages know: `condition = p`, then `if condition: condition = q` (for `or`,
        `if not condition:`), so q is computed only where p does not decide
        (`i < n and x[i] > 0` never reads x[n])."""
        flag = pytree.fresh("condition", self.taken)
        self.assigned_in_function[flag] = 2
        self.emit(_assign(flag, self.materialize(first, where)), where)
        for operand in rest:
            test: gast.AST = load_name(flag)
            if isinstance(node.op, gast.Or):
                test = gast.UnaryOp(op=gast.Not(), operand=test)
            saved, self.out = self.out, []
            self.enter_block()
            try:
                value = self.evaluate(operand)
                self.emit(_assign(flag, self.materialize(value, operand)), operand)
                body = self.out
            finally:
                self.out = saved
                self.leave_block()
            self.emit(gast.If(test=gast.copy_location(test, operand), body=body, orelse=[]),
                      operand)
        return Leaf(gast.copy_location(load_name(flag), node))

    def evaluate_NamedExpr(self, node: gast.NamedExpr) -> Static:
        """`(n := len(x))`: the assignment where it stands, then the name's value. In
        a comprehension read item by item, each item's value is held in a name of its
        own first (the walrus's name is the last item's after it, as in Python)."""
        statement = getattr(self, "current_statement", None)
        inside = {id(n) for n in walk(node)}
        lazy = statement is not None and id(node) not in {id(n) for n in walk(statement)}
        if statement is not None and any(  # (read before it; or, from a generator taken
                isinstance(n, gast.Name) and n.id == node.target.id and  # here, anywhere)
                isinstance(n.ctx, gast.Load) and id(n) not in inside and (
                    lazy or (n.lineno, n.col_offset) < (node.lineno, node.col_offset))
                for n in walk(statement) if hasattr(n, "lineno")):
            self.refuse(f"{node.target.id!r} is read before this walrus assigns it, in the "
                        "same statement", node,
                        hint=f"assign {node.target.id} on a line of its own first")
        value = self.evaluate(node.value)
        if self.unrolling and isinstance(value, Leaf):
            value = self.held(value, node.target.id, node)
            self.assign(node.target, value, node)
            return value
        self.assign(node.target, value, node)
        return self.evaluate(gast.copy_location(load_name(node.target.id), node))

    def evaluate_Lambda(self, node: gast.Lambda) -> Static:
        args = node.args
        if args.vararg is not None or args.kwarg is not None or args.kwonlyargs or \
                args.posonlyargs:
            return self.dynamic(node)  # (refused by the subset check)
        # (defaults are values where the lambda is made: held in names of their own)
        defaults = [self.held(self.evaluate(d), f"{a.id}_default", d)
                    for a, d in zip(args.args[len(args.args) - len(args.defaults):],
                                    args.defaults)]
        return LocalLambda(node, defaults, self)

    def evaluate_IfExp(self, node: gast.IfExp) -> Static:
        test = self.evaluate(node.test)
        if isinstance(test, (Const, Struct)):
            return self.evaluate(node.body if self.truth(test, node.test) else node.orelse)
        if any(isinstance(branch, gast.Lambda) or _function_named(branch) is not None
               for branch in (node.body, node.orelse)):
            try:
                self.refuse("a function chosen by a value known only at run time", node.test,
                            hint="pass the choice as a bool or int argument of the "
                                 "differentiated function (compiled for each value)")
            except UnsupportedSyntaxError as exc:
                exc.run_time_index = True  # (the call may compile again with its flags)
                raise
        chosen = self.chosen_structure(node, test)
        if chosen is not None:
            return chosen
        node.test = self.materialize(test, node.test)
        self.enter_block()
        try:
            node.body, node.orelse = self.expression(node.body), self.expression(node.orelse)
        finally:
            self.leave_block()
        return Leaf(node)

    def chosen_structure(self, node: gast.IfExp, test: Static) -> Optional[Static]:
        """`layers[0] if np.sum(x) > 0 else layers[1]` of structures alike: a structure
        whose items are chosen one by one (`layer_0 = layers_0_0 if c else layers_1_0`),
        the test computed once. Only where reading either side runs no code."""
        saved, self.out = self.out, []
        self.enter_block()
        try:
            body, orelse = self.evaluate(clone(node.body)), self.evaluate(clone(node.orelse))
            emitted = self.out
        finally:
            self.out = saved
            self.leave_block()
        if emitted or not isinstance(body, Struct) or not isinstance(orelse, Struct) or \
                pytree_layout(body) != pytree_layout(orelse):
            return None
        if body is orelse:
            return body
        for chosen in (body, orelse):  # (a change to one of them would miss the choice)
            chosen.apart = chosen.apart or "it was chosen at run time into another name"
        condition = self.held(test, "chosen", node)

        def choose(a: Static, b: Static) -> Static:
            if isinstance(a, Struct):
                made = Struct(a.kind, a.type, list(a.keys),
                              [choose(x, y) for x, y in zip(a.items, b.items)],
                              loop_depth=self.loop_depth)
                made.apart = "it is one of two structures chosen at run time"
                return made
            if isinstance(a, Const) and isinstance(b, Const) and a.value is b.value:
                return a
            return Leaf(gast.copy_location(gast.IfExp(
                test=clone(self.materialize(condition, node.test)),
                body=self.materialize(a, node.body), orelse=self.materialize(b, node.orelse)),
                node))
        return choose(body, orelse)

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
                    self.wants_rows += 1
                    try:
                        iterable = self.evaluate(clone(generator.iter))
                    finally:
                        self.wants_rows -= 1
                    items = self.iterated(iterable, generator.iter)
                    known = self.known_range(iterable) if items is None else None
                    if known is not None:  # ([f(layers[i]) for i in range(len(layers))])
                        items = [Const(k) for k in known]
                    shape = self.known_shape(generator.iter) if items is None else None
                    if shape:  # ([v * v for v in x], x's shape known: its rows)
                        items = [Leaf(gast.copy_location(gast.Subscript(
                            value=clone(generator.iter), slice=gast.Constant(value=k, kind=None),
                            ctx=gast.Load()), generator.iter)) for k in range(shape[0])]
                if items is None and node is not self.accumulating:
                    # (a list built over a count known at run time: the call may compile
                    # again for its arrays' shapes; a generator sum() reads as a loop)
                    try:
                        self.refuse("a comprehension over a count known only at run time is "
                                    "not supported", node,
                                    hint="loop and write into an array (np.zeros(n), then "
                                         "y[i] = ...)")
                    except UnsupportedSyntaxError as exc:
                        exc.run_time_count = True
                        raise
                if items is None:
                    return self.dynamic(node)
                for item in items:
                    bound = dict(row)
                    if not bind_pattern(generator.target, item, bound):
                        return self.dynamic(node)
                    with self.scoped(bound):
                        tests = [self.evaluate(clone(test)) if node is self.accumulating
                                 else self.known_test(clone(test)) for test in generator.ifs]
                    if not all(isinstance(t, (Const, Struct)) for t in tests):
                        return self.dynamic(node)  # (sum([... if x[i] > 0]): a loop)
                    keep = all(self.truth(t, test) for t, test in zip(tests, generator.ifs))
                    if keep:
                        expanded.append(bound)
            rows = expanded
        self.unrolling += 1
        try:
            return self.comprehension_items(node, kind, rows)
        finally:
            self.unrolling -= 1

    def comprehension_items(self, node: gast.AST, kind: str,
                            rows: List[Dict[str, Static]]) -> Static:
        keys: List[Any] = []
        items: List[Static] = []
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
        trick = get_anno(node.value, "resolved", None)
        if any(trick is t for t in numpy_forms.INDEX_TRICKS):  # (np.r_[a, b], np.c_[...])
            return numpy_forms.index_trick(self, trick, node)
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
                # a list of arrays passed along whole is indexed at run time; an item
                # that is itself a structure could not be read from what comes back
                if base.whole is None or any(isinstance(i, Struct) for i in base.items):
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

    def known_rows(self, value: Static, where: gast.AST) -> Optional[Struct]:
        """An array whose shape the call was compiled for, as the list of its rows
        (`x[0]`, `x[1]`, ...; a computed array held in a name first); None where its
        shape is not known."""
        if not isinstance(value, Leaf) or not self.known_shape(value.node):
            return None
        count = self.known_shape(value.node)[0]
        return Struct(pytree.LIST, None, list(range(count)), [
            Leaf(gast.copy_location(gast.Subscript(
                value=clone(value.node), slice=gast.Constant(value=k, kind=None),
                ctx=gast.Load()), where)) for k in range(count)], loop_depth=self.loop_depth)

    def known_shape(self, node: gast.AST) -> Optional[tuple]:
        """The shape of an argument the call is compiled for with its shapes known (a
        loop over range(X.shape[0]) that grows a list): None otherwise."""
        if isinstance(node, gast.Name) and node.id in self.shapes and \
                self.is_stable(node.id) and node.id not in self.env:
            return self.shapes[node.id]
        if isinstance(node, gast.Subscript):  # (x[:2], X[1:, 0] of such an argument)
            shape = self.known_shape(node.value)
            index = _constant_index(node.slice)
            if shape is not None and index is not None:
                try:
                    return np.broadcast_to(0.0, shape)[index].shape
                except (IndexError, TypeError, ValueError):
                    return None
        if isinstance(node, gast.Attribute) and node.attr == "T":
            shape = self.known_shape(node.value)
            return shape[::-1] if shape is not None else None
        return None

    def evaluate_Attribute(self, node: gast.Attribute) -> Static:
        shape = self.known_shape(node.value)
        if shape is not None and node.attr in ("shape", "ndim", "size"):
            return Const(shape if node.attr == "shape" else len(shape)
                         if node.attr == "ndim" else int(np.prod(shape)))
        base = self.evaluate(node.value)
        if isinstance(base, Super):  # super().forward: the next class's function
            kind = base.receiver.type if isinstance(base.receiver, Struct) else None
            order = kind.__mro__ if isinstance(kind, type) else ()
            after = order[order.index(base.owner) + 1:] if base.owner in order else ()
            for klass in after:
                found = klass.__dict__.get(node.attr)
                if isinstance(found, types.FunctionType):
                    return Method(base.receiver, node.attr, found)
            self.refuse(f"super() has no method {node.attr!r} that s2sad can read", node,
                        hint="call the method of the base class by its name")
        if isinstance(base, Struct):
            if base.kind in pytree.RECORDS and node.attr in base.keys:
                return base.items[base.keys.index(node.attr)]
            if node.attr == "__class__" and isinstance(base.type, type):
                return Const(base.type)
            mangled = _mangled(node.attr, base.type, base.keys)
            if base.kind in pytree.RECORDS and mangled is not None:  # self.__w
                return base.items[base.keys.index(mangled)]
            if base.kind in (pytree.DICT, pytree.LIST) or base.type is None:
                return Method(base, node.attr)
            if base.kind == pytree.NAMEDTUPLE and node.attr in ("_replace", "_asdict"):
                return Method(base, node.attr)
            in_class = inspect.getattr_static(base.type, node.attr, None)
            if in_class is None and node.attr.startswith("__") and isinstance(base.type, type):
                in_class = next((found for found in (
                    inspect.getattr_static(base.type, f"_{k.__name__.lstrip('_')}{node.attr}",
                                           None) for k in base.type.__mro__)
                    if found is not None), None)  # (self.__cube: _C__cube)
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
            owner = get_anno(node.value, "resolved")
            self.depends_on_binding(node.value, owner)
            return self.object_attribute(owner, node)
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

    def depends_on_binding(self, node: gast.AST, owner: Any) -> None:
        """The code is read for the object a global or closure variable holds now
        (MODEL.forward): it is compiled again when the variable is rebound."""
        if not isinstance(node, gast.Name):
            return
        cell = self.parsed.cells.get(node.id)
        if cell is not None:
            self.constants.append((cell, "cell_contents", owner))
        elif self.parsed.live_globals is not None and \
                self.parsed.live_globals.get(node.id) is owner:
            self.constants.append((self.parsed.live_globals, node.id, owner))

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

    def truth(self, test: Static, where: gast.AST) -> bool:
        if isinstance(test, Struct) and test.kind in (pytree.OBJECT, pytree.DATACLASS):
            if any(inspect.getattr_static(test.type, m, None) is not None
                   for m in ("__bool__", "__len__")):
                self.refuse(f"{_type_name(test)} decides its truth with code of its own "
                            "(__bool__ or __len__)", where,
                            hint="test a field of it instead")
            return True  # (an object is true)
        if isinstance(test, Struct):
            return bool(test.items)
        try:
            return bool(test.value)
        except Exception:  # (an object whose truth is an error, e.g. an array)
            self.refuse("this condition has no truth value", where,
                        hint="test a number or a boolean")
            raise

    def iterated(self, iterable: Static, where: gast.AST) -> Optional[List[Static]]:
        """The items a for loop over a structure takes, one per iteration (a string or
        a tuple known now: its items, known now; an iterator: its items, used up)."""
        if isinstance(iterable, Iterator):
            return self.taken_all(iterable, where)
        if isinstance(iterable, Const) and type(iterable.value) in (str, tuple, range) and \
                all(is_number(v) or type(v) is str for v in iterable.value):
            return [Const(v) for v in iterable.value]
        if isinstance(iterable, Struct) and iterable.view_of is not None and \
                iterable.view_of[1] in ("items", "keys", "values"):
            receiver, name = iterable.view_of  # (a dict's view: the dict as it is now)
            return [Struct(pytree.TUPLE, None, [0, 1], [Const(k), v],
                           loop_depth=self.loop_depth) if name == "items" else
                    Const(k) if name == "keys" else v
                    for k, v in zip(receiver.keys, receiver.items)]
        if isinstance(iterable, Struct):
            if iterable.kind == pytree.DICT:
                return [Const(k) for k in iterable.keys]
            if iterable.kind in pytree.SEQUENCES:
                return list(iterable.items)
            self.refuse(f"a {iterable.kind} cannot be iterated", where,
                        hint="iterate over a list, a tuple or a dict")
        return None

    def known_range(self, iterable: Static) -> Optional[range]:
        """range(...) of known numbers (range(len(layers))), or reversed(...) of one,
        as a Python range."""
        if not isinstance(iterable, Leaf) or not isinstance(iterable.node, gast.Call):
            return None
        call = iterable.node
        function = get_anno(call.func, "resolved")
        if function is builtins.reversed and len(call.args) == 1 and not call.keywords:
            inner = self.known_range(Leaf(call.args[0]))
            return inner[::-1] if inner is not None else None
        if function is not builtins.range or call.keywords:
            return None
        bounds = [a.value for a in call.args if isinstance(a, gast.Constant)]
        if len(bounds) != len(call.args) or not all(type(b) is int for b in bounds):
            return None
        return range(*bounds)

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
        if self.runtime_depth and (base.iterated or base.origin is not None and
                                   base.origin.iterated):
            self.refuse("this changes, in a branch decided at run time, a list an iterator "
                        "still reads", where,
                        hint="make a list of the iterator's items first: items = list(...)")
        if base.apart is not None:
            self.refuse(f"this changes a structure s2sad keeps apart from what Python would "
                        f"change too: {base.apart}", where,
                        hint="make the changes before choosing it or storing it, or build "
                             "a new one")
        if base.borrowed:
            self.refuse("this changes a structure its caller holds too (an argument that "
                        "is not differentiated, a helper's argument, or what a helper "
                        "returned of its arguments); the generated code never changes the "
                        "caller's objects", where,
                        hint="change a copy (new = dict(p); new['W'] = ...), and return what "
                             "the caller needs (has_aux=True returns (value, aux))")
        if base.loop_depth < self.loop_depth:
            try:
                self.refuse("a structure made before this loop is changed in it, and the "
                            "loop's count is known only at run time", where,
                            hint="loop over a structure or a range of known length, or "
                                 "keep the values in an array (np.zeros(n), then "
                                 "x[i] = ...)")
            except UnsupportedSyntaxError as exc:
                exc.run_time_count = True  # (the call may compile again with its shapes)
                raise
        base.whole = None  # (no longer the caller's object)


_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def _constant_index(node: gast.AST) -> Any:
    """An index written with constants only (2, -1, 1:3, ::-1, (0, 1:)), as Python
    would give it to __getitem__; None for anything else."""
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _constant_index(node.operand)
        return -inner if type(inner) is int else None
    if isinstance(node, gast.Slice):
        parts = [None if p is None else _constant_index(p)
                 for p in (node.lower, node.upper, node.step)]
        given = [p for p in (node.lower, node.upper, node.step) if p is not None]
        if any(type(_constant_index(p)) is not int for p in given):
            return None
        return slice(*parts)
    if isinstance(node, gast.Tuple):
        parts = [_constant_index(e) for e in node.elts]
        return tuple(parts) if all(p is not None for p in parts) else None
    return None


def pytree_layout(value: Static) -> Any:
    """The shape of a structure's nesting (kinds, types and keys), leaves alike."""
    if isinstance(value, Struct):
        return (value.kind, value.type, tuple(value.keys),
                tuple(pytree_layout(i) for i in value.items))
    if isinstance(value, Const):
        return ("const", type(value.value)) if is_number(value.value) or \
            isinstance(value.value, np.ndarray) else ("const", id(value.value))
    return "leaf"


def _assign(name: str, value: gast.AST) -> gast.Assign:
    return gast.Assign(type_comment=None, targets=[gast.Name(id=name, ctx=gast.Store(), annotation=None,
                                          type_comment=None)], value=value)


def _mangled(attribute: str, kind: Any, keys: List[Any]) -> Optional[str]:
    """self.__w in a method of class C is held as self._C__w: the key of one of the
    object's classes, if any."""
    if not attribute.startswith("__") or attribute.endswith("__") or \
            not isinstance(kind, type):
        return None
    names = [f"_{klass.__name__.lstrip('_')}{attribute}" for klass in kind.__mro__]
    return next((name for name in names if name in keys), None)


def _function_named(node: gast.AST) -> Optional[Const]:
    """A global name or attribute chain that names a function (np.tanh, relu): a
    value known now, so `act = np.tanh if ... else relu` then `act(z)` calls it."""
    resolved = get_anno(node, "resolved", None)
    if isinstance(resolved, _FUNCTIONS):
        return Const(resolved, source=node)
    return None


def _positional_params(func: gast.FunctionDef) -> List[gast.AST]:
    args = func.args
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def _param(name: str, where: gast.AST) -> gast.Name:
    node = gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)
    return gast.copy_location(node, where)


def _all_identifiers(func: gast.AST) -> set:
    return {n.id for n in walk(func) if isinstance(n, gast.Name)}


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
