"""The desugar stage's walk over statements: assignments bind names to structures,
stores change their items, loops over structures are unrolled, branches on run-time
data change copies that are joined after them, returns give the output's structure."""
from __future__ import annotations

import inspect
import logging
import types
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from .. import pytree
from ..anno import clone, get_anno, set_anno, walk
from ..errors import UnsupportedSyntaxError
from .values import (Const, Iterator, Leaf, LocalDef, LocalLambda, Method, Static, Struct,
                     copied,
                     holds_borrowed, is_number, load_name, same_static, tree_of)
from .calls import Calls
from .expressions import (_belongs_to, _describe_key, _path_name, _store_names,
                          _stored_names)

_MAX_UNROLLED = 10_000  # statements an unrolled loop may expand to


class Desugar(Calls):
    """One function, read statement by statement (see the package's docstring)."""

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

    def statement(self, stmt: gast.stmt) -> bool:
        self.current_statement = stmt
        if isinstance(stmt, (gast.Assign, gast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            if stmt.value is None:
                self.out.append(stmt)  # (refused by the subset check)
                return False
            value = self.evaluate(stmt.value)
            if len(targets) > 1:  # (a = b = v: v computed once, bound left to right)
                value = self.held(value, _path_name(targets[-1]), stmt)
            for target in targets:
                self.assign(target, value, stmt)
        elif isinstance(stmt, gast.AugAssign):
            self.augmented(stmt)
        elif isinstance(stmt, gast.Expr) and self.logged(stmt.value):
            pass
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and \
                get_anno(stmt.value.func, "resolved") is np.copyto and not _is_copyto(stmt.value):
            self.refuse("np.copyto with where=, casting= or more arguments is not supported",
                        stmt.value, hint="write the copy as an assignment: u = np.where(mask, "
                                         "new, u), or u[mask] = new[mask]")
        elif isinstance(stmt, gast.Expr) and _is_copyto(stmt.value):
            # np.copyto(u, new): u[...] = new, a write the later stages check and know
            target = gast.Subscript(value=stmt.value.args[0], slice=gast.Constant(
                value=Ellipsis, kind=None), ctx=gast.Store())
            return self.statement(gast.copy_location(gast.Assign(
                targets=[gast.copy_location(target, stmt.value)], value=stmt.value.args[1],
                type_comment=None), stmt))
        elif isinstance(stmt, gast.Expr):
            value = self.evaluate(stmt.value)
            if isinstance(value, Leaf) and isinstance(value.node, (gast.Name, gast.Constant)):
                pass  # (vals.pop(0) alone: the list changed now, the value unused)
            elif isinstance(value, Leaf):
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
        elif isinstance(stmt, gast.Assert):
            self.assert_(stmt)
        elif isinstance(stmt, gast.Raise) and self.raise_(stmt):
            return True  # (what follows in the block is not reached)
        elif isinstance(stmt, gast.Delete) and all(isinstance(t, gast.Name)
                                                   for t in stmt.targets):
            for target in stmt.targets:  # (del x: the name is not read again)
                self.env.pop(target.id, None)
        elif isinstance(stmt, gast.Delete) and all(self.deleted_item(t) for t in stmt.targets):
            pass  # (del vals[0], del d["k"]: done now, on the structure)
        elif isinstance(stmt, gast.FunctionDef) and not stmt.decorator_list:
            self.define(stmt)
        elif isinstance(stmt, gast.With) and all(_is_errstate(i) for i in stmt.items):
            # with np.errstate(...): which warnings NumPy gives, not what it computes
            return self.statements(stmt.body)
        else:
            self.out.append(stmt)  # pass, break, continue; the rest is refused later
        return False

    def deleted_item(self, target: gast.AST) -> bool:
        """`del vals[0]`, `del d["k"]` of a structure known now: the item removed;
        False for another target (refused later)."""
        if not isinstance(target, gast.Subscript):
            return False
        base = self.evaluate(target.value)
        if not isinstance(base, Struct) or base.kind not in (pytree.LIST, pytree.DICT):
            return False
        key = self.static_key(target.slice, base, target)
        if base.item(key) is None:
            self.refuse(f"{_describe_key(key)} is not in this {base.kind}", target,
                        hint="delete an item it holds")
        self.mutating(base, target)
        at = key if base.kind == pytree.LIST else base.keys.index(key)
        del base.items[at]
        if base.kind == pytree.LIST:
            base.keys = list(range(len(base.items)))
        else:
            del base.keys[at]
        return True

    def define(self, stmt: gast.FunctionDef) -> None:
        """A nested def: known by its name, read where it is called (see calls.py);
        its defaults are values where it is defined, as Python evaluates them."""
        args = stmt.args.args
        defaults = [self.held(self.evaluate(d), f"{a.id}_default", d)
                    for a, d in zip(args[len(args) - len(stmt.args.defaults):],
                                    stmt.args.defaults)]
        stub = types.FunctionType(compile("def _(): pass", "<s2sad nested def>", "exec")
                                  .co_consts[0], {}, stmt.name)
        self.env[stmt.name] = LocalDef(stmt, defaults, self, stub)

    def raise_(self, stmt: gast.Raise) -> bool:
        """`raise ValueError("...")` (in a branch that checks the inputs): raised where
        it stands (raise_error). False for a raise of another form (refused later)."""
        from .. import runtime
        error = stmt.exc
        if stmt.cause is not None or not isinstance(error, gast.Call) or error.keywords:
            return False
        kind = get_anno(error.func, "resolved")
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            return False
        call = gast.Name(id="raise_error", ctx=gast.Load(), annotation=None,
                         type_comment=None)
        set_anno(call, "resolved", runtime.raise_error)
        self.emit(gast.Expr(value=gast.Call(func=call, args=[
            error.func] + [self.expression(a) for a in error.args],
            keywords=[])), stmt)
        return True

    def logged(self, call: gast.AST) -> bool:
        """`logger.info("loss %s", loss)`, `logging.debug(...)`: logged where it
        stands, once a call, in the forward sweep (log_message, given the logger's name
        and the level, so that the generated code holds no logger object)."""
        from .. import runtime
        if not isinstance(call, gast.Call):
            return False
        function = _logging_function(call.func)
        owner = getattr(function, "__self__", None)
        name = getattr(function, "__name__", None)
        if isinstance(owner, logging.Logger) and type(owner) in (logging.Logger,
                                                                 logging.RootLogger):
            logger: Optional[str] = owner.name if not isinstance(owner, logging.RootLogger) \
                else None
        elif getattr(logging, str(name), None) is function and function is not None:
            logger = None  # (the module's own: the root logger's)
        else:
            return False
        levels = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
                  "warn": logging.WARNING, "error": logging.ERROR,
                  "critical": logging.CRITICAL, "fatal": logging.CRITICAL}
        args = list(call.args)
        if name == "log" and args:
            given = args.pop(0)
            level = given.value if isinstance(given, gast.Constant) else \
                get_anno(given, "resolved")  # (logging.WARNING)
            if type(level) is not int:
                return False
        elif name in levels:
            level = levels[name]
        else:
            return False
        log = gast.Name(id="log_message", ctx=gast.Load(), annotation=None, type_comment=None)
        set_anno(log, "resolved", runtime.log_message)
        self.emit(gast.Expr(value=gast.Call(func=log, args=[
            gast.Constant(value=logger, kind=None), gast.Constant(value=level, kind=None)] +
            [self.expression(a) for a in args],
            keywords=[gast.keyword(arg=k.arg, value=self.expression(k.value))
                      for k in call.keywords])), call)
        return True

    def assert_(self, stmt: gast.Assert) -> None:
        """`assert x.ndim == 2, "..."`: checked where it stands, in the forward sweep
        (require_true); one known to hold now is gone."""
        from .. import runtime
        test = self.evaluate(stmt.test)
        if isinstance(test, (Const, Struct)) and self.truth(test, stmt.test):
            return
        message = self.evaluate(stmt.msg) if stmt.msg is not None else Const("")
        if not (isinstance(message, Const) and isinstance(message.value, str)):
            message = Const(self.parsed.source_line(stmt.lineno).strip())
        check = gast.Name(id="require_true", ctx=gast.Load(), annotation=None,
                          type_comment=None)
        set_anno(check, "resolved", runtime.require_true)
        self.emit(gast.Expr(value=gast.Call(func=check, args=[
            self.materialize(test, stmt.test), self.materialize(message, stmt)],
            keywords=[])), stmt)

    def assign(self, target: gast.AST, value: Static, stmt: gast.stmt) -> None:
        if isinstance(target, gast.Name):
            literal = isinstance(stmt.value, gast.Constant) and is_number(value.value) \
                if isinstance(value, Const) else False
            if isinstance(value, Iterator):
                value.named = True
            if isinstance(value, (Struct, Method, LocalLambda, LocalDef, Iterator)) or \
                    isinstance(value, Const) and not literal and \
                    not self.assigned_in_loop(target.id):
                self.env[target.id] = self.held(value, target.id, stmt)
                return
            self.env.pop(target.id, None)
            self.emit(gast.Assign(type_comment=None, targets=[target], value=self.materialize(value, stmt)), stmt)
            return
        if isinstance(target, (gast.Tuple, gast.List)):
            starred = [k for k, e in enumerate(target.elts) if isinstance(e, gast.Starred)]
            if isinstance(value, Iterator):  # (a, b = zip(*pairs): its items, taken)
                items = self.taken_all(value, target)
                value = Struct(pytree.LIST, None, list(range(len(items))), items,
                               loop_depth=self.loop_depth)
            if isinstance(value, Leaf) and not _is_shape(value.node) and (
                    starred or not isinstance(value.node, gast.Call)):  # (a, b = x)
                value = self.rows(value, target.elts[starred[0]] if starred else target,
                                  "a starred unpacking" if starred else "unpacking an array")
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
                for part, item in zip(target.elts, self.evaluated_first(value.items,
                                                                        target.elts, stmt)):
                    self.assign(part, item, stmt)
                return
            if isinstance(value, Struct):
                self.refuse(f"unpacking a {value.kind} is not supported", target,
                            hint="read its items by key instead")
            if isinstance(value, Leaf) and _is_shape(value.node) and not starred:
                # T, d = X.shape: one index of the shape per name (Python raises where
                # the rank is not the count of names; so does the generated code)
                for k, part in enumerate(target.elts):
                    item = gast.Subscript(value=clone(value.node), slice=gast.Constant(
                        value=k, kind=None), ctx=gast.Load())
                    self.assign(part, Leaf(gast.copy_location(item, value.node)), stmt)
                return
            for name in _store_names(target):
                self.env.pop(name, None)
            self.emit(gast.Assign(type_comment=None, targets=[self.target(target)],
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
            if isinstance(base, Struct) and base.kind == pytree.OBJECT:
                # (self.w = w in __init__ of an object made in the function)
                kind = base.type
                if isinstance(kind, type) and (
                        inspect.getattr_static(kind, "__setattr__") is not
                        object.__setattr__ or hasattr(inspect.getattr_static(
                            kind, target.attr, None), "__set__")):
                    self.refuse(f"{kind.__name__} sets its attributes with code of its own "
                                "(__setattr__ or a property setter)", target,
                                hint="store plain fields in __init__")
                self.mutating(base, target)
                held = self.held(value, _path_name(target), stmt)
                if target.attr in base.keys:
                    base.items[base.keys.index(target.attr)] = held
                else:
                    base.keys.append(target.attr)
                    base.items.append(held)
                return
            if isinstance(base, Struct):
                self.refuse("assignment to an attribute of a structure is not supported",
                            target, hint="build a new value, e.g. "
                                         "dataclasses.replace(cfg, field=value)")
        self.emit(gast.Assign(type_comment=None, targets=[target], value=self.materialize(value, stmt)), stmt)

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

    def evaluated_first(self, items: List[Static], parts: List[gast.AST],
                        stmt: gast.stmt) -> List[Static]:
        """The items of `a, b = b, a + b`, each one that reads a name an earlier part
        rebinds held in a name of its own first: Python computes the whole right side
        before it binds any name."""
        result = []
        for k, (part, item) in enumerate(zip(parts, items)):
            earlier = {name for p in parts[:k] for name in _store_names(p)}
            result.append(self.held_apart(item, _path_name(part), stmt)
                          if _names_read(item) & earlier else item)
        return result

    def held_apart(self, value: Static, preferred: str, where: gast.AST) -> Static:
        """`value`'s run-time leaves in fresh names (even a name's: it is rebound)."""
        if isinstance(value, Leaf) and not isinstance(value.node, gast.Constant):
            name = pytree.fresh(preferred, self.taken)
            self.emit(gast.Assign(type_comment=None, targets=[gast.Name(
                id=name, ctx=gast.Store(), annotation=None, type_comment=None)],
                value=value.node), where)
            return Leaf(load_name(name))
        if isinstance(value, Struct) and value.whole is None:
            return Struct(value.kind, value.type, list(value.keys), [
                self.held_apart(i, f"{preferred}_{pytree._identifier_part(k)}", where)
                for k, i in zip(value.keys, value.items)], loop_depth=value.loop_depth)
        return value

    def rows(self, value: Leaf, where: gast.AST, what: str) -> Struct:
        """An array's rows as a list, for an unpacking that needs their count; the
        count is its shape's first (the call compiles again, for its arrays' shapes,
        where that is not known yet)."""
        if self.known_shape(value.node) == ():
            self.refuse("a number cannot be unpacked", value.node,
                        hint="unpack an array or a tuple (a, b = t[0], t[1])")
        rows = self.known_rows(value, where)
        if rows is None:
            try:
                self.refuse(f"{what} needs the count of its rows, known only at run time "
                            "here", where, hint="index the rows: first, rest = x[0], x[1:]")
            except UnsupportedSyntaxError as exc:
                exc.run_time_count = True
                raise
        return rows

    def assigned_in_loop(self, identifier: str) -> bool:
        """A name bound more than once or in a loop: a constant must stay a variable."""
        return self.assigned_in_function.get(identifier, 0) > 1 or self.loop_depth > 0

    def augmented(self, stmt: gast.AugAssign) -> None:
        target = stmt.target
        if isinstance(target, gast.Name) and target.id in self.env:
            current = self.env[target.id]
            if isinstance(current, Struct) and current.kind == pytree.LIST and \
                    isinstance(stmt.op, gast.Add):  # (items += [v]: extends the list)
                added = self.iterated(self.evaluate(stmt.value), stmt.value)
                if added is None:
                    self.refuse("a list is extended by values whose count is known only at "
                                "run time", stmt.value, hint="append them one by one")
                self.mutating(current, stmt)
                current.items.extend(self.held(a, f"{target.id}_{len(current.items) + k}",
                                               stmt) for k, a in enumerate(added))
                current.keys = list(range(len(current.items)))
                return
            if isinstance(current, Struct):
                new = self.evaluate(gast.copy_location(gast.BinOp(
                    left=load_name(target.id), op=stmt.op, right=stmt.value), stmt))
                if isinstance(new, Struct):  # (t += (v,), lst *= 2: a new structure)
                    self.assign(target, new, stmt)
                    return
                self.refuse("an augmented assignment to a structure is not supported",
                            stmt, hint="build the new structure explicitly")
            value = gast.BinOp(left=self.materialize(current, stmt), op=stmt.op,
                               right=self.expression(stmt.value))
            self.env.pop(target.id)
            self.emit(gast.Assign(type_comment=None, targets=[target], value=value), stmt)
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
        self.enter_block()  # (each arm a block of its own: see iterators.taken_from)
        try:
            self.env = copied(before)
            stmt.body, body_returns = self.block(stmt.body)
            body = (self.env, stmt.body, body_returns)
        finally:
            self.leave_block()
        self.enter_block()
        try:
            self.env = copied(before)
            stmt.orelse, else_returns = self.block(stmt.orelse)
            orelse = (self.env, stmt.orelse, else_returns)
        finally:
            self.leave_block()
        self.env = self.joined(before, body, orelse, stmt)
        if not stmt.body:
            stmt.body = [gast.copy_location(gast.Pass(), stmt)]
        self.out.append(stmt)
        return body_returns and else_returns

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
                origin = a.origin
                if origin is not None and origin is b.origin and origin.keys == joint.keys \
                        and all(j is o for j, o in zip(joint.items, origin.items)):
                    merged[id(a), id(b)] = origin  # (unchanged on both paths: the same one)
                    return origin
                if a.origin is not b.origin:
                    joint.apart = "it is one of two structures chosen at run time"
                    for chosen in (a.origin, b.origin):
                        if chosen is not None:  # (a change to it would miss the choice)
                            chosen.apart = chosen.apart or "it was chosen at run time " \
                                "into another name"
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
                if name in before:  # (a name bound in one branch only is that branch's)
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
                self.emit(gast.Assign(type_comment=None, targets=[gast.Name(id=name, ctx=gast.Store(),
                                                         annotation=None, type_comment=None)],
                                      value=gast.Constant(value=value.value, kind=None)),
                          where)

    def for_(self, stmt: gast.For) -> None:
        if stmt.orelse:
            self.out.append(stmt)  # (refused by the subset check)
            return
        # (a body that reads a structure, ys.append(v) in `for v in x`: an array's rows
        # one by one where the call is compiled for its shape, zip and enumerate too)
        rows = self.reads_structure(stmt.body)
        self.wants_rows += rows
        try:
            iterable = self.evaluate(stmt.iter)
        finally:
            self.wants_rows -= rows
        if rows and isinstance(iterable, Leaf) and self.known_rows(iterable, stmt.iter):
            iterable = self.known_rows(iterable, stmt.iter)
        if isinstance(iterable, Iterator):  # (each item computed when its trip starts)
            taken = self.taken_from(iterable, stmt.iter)
            self.unroll(stmt, [], lambda k: next(taken, None))
            return
        items = self.iterated(iterable, stmt.iter)
        if items is None and self.known_range(iterable) is not None and \
                self.reads_structure(stmt.body):
            items = [Const(k) for k in self.known_range(iterable)]
        if items is not None:
            self.unroll(stmt, items, self.live_items(iterable))
            return
        self.rebound_target_renamed(stmt)
        for name in _store_names(stmt.target):
            self.env.pop(name, None)
        self.dynamic_loop(stmt, lambda: setattr(stmt, "iter", self.materialize(iterable,
                                                                               stmt.iter)))

    def rebound_target_renamed(self, stmt: gast.For) -> None:
        """`for row in X: row = row * 2.0`: the loop's own variable renamed (row_1),
        `row = row_1` first in the body, as Python rebinds row each trip; the later
        stages recompute a loop's variable and keep it unchanged in its body."""
        if not isinstance(stmt.target, gast.Name):
            return
        name = stmt.target.id
        stores = [n for inner in stmt.body for n in walk(inner)
                  if isinstance(n, gast.Name) and n.id == name and
                  isinstance(n.ctx, gast.Store)]
        plain = [t for inner in stmt.body for a in walk(inner) if isinstance(a, gast.Assign)
                 for t in a.targets if isinstance(t, gast.Name) and t.id == name]
        if not stores or len(stores) != len(plain):
            return  # (none, or an augmented or unpacking store: the later stages decide)
        fresh = pytree.fresh(name, self.taken)
        self.assigned_in_function[fresh] = 2
        self.assigned_in_function[name] = 2
        stmt.target = gast.copy_location(gast.Name(id=fresh, ctx=gast.Store(),
                                                   annotation=None, type_comment=None),
                                         stmt.target)
        stmt.body = [gast.copy_location(gast.Assign(
            targets=[gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=load_name(fresh), type_comment=None), stmt)] + list(stmt.body)

    def reads_structure(self, body: Sequence[gast.stmt]) -> bool:
        return any(isinstance(n, gast.Name) and isinstance(self.env.get(n.id),
                                                           (Struct, Iterator))
                   for stmt in body for n in walk(stmt))

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
        if any(isinstance(n, (gast.BoolOp, gast.NamedExpr)) for n in walk(stmt.test)) and \
                not stmt.orelse:
            # while i < n and x[i] > 0: the short circuit is statements, computed again
            # before each trip: while True: if not (...): break
            guard = gast.copy_location(gast.If(
                test=gast.UnaryOp(op=gast.Not(), operand=stmt.test),
                body=[gast.copy_location(gast.Break(), stmt)], orelse=[]), stmt)
            stmt.test = gast.copy_location(gast.Constant(value=True, kind=None), stmt.test)
            stmt.body = [guard] + list(stmt.body)
        self.dynamic_loop(stmt, lambda: setattr(stmt, "test", self.expression(stmt.test)))

    def dynamic_loop(self, stmt: gast.AST, header: Callable[[], None]) -> None:
        """A loop whose count is known only at run time: its body once, as it is; a
        structure it changes or binds is refused (it could differ per iteration)."""
        self.keep_variables(stmt.body, stmt)
        header()
        before = dict(self.env)
        self.loop_depth += 1
        self.enter_block(loop=True)
        try:
            stmt.body, _ = self.block(stmt.body)
        finally:
            self.loop_depth -= 1
            self.leave_block()
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


def _is_errstate(item: gast.withitem) -> bool:
    call = item.context_expr
    return item.optional_vars is None and isinstance(call, gast.Call) and \
        get_anno(call.func, "resolved") is np.errstate


def _is_shape(node: gast.AST) -> bool:
    """x.shape or np.shape(x)."""
    if isinstance(node, gast.Attribute):
        return node.attr == "shape"
    return isinstance(node, gast.Call) and get_anno(node.func, "resolved") is np.shape and \
        len(node.args) == 1 and not node.keywords


def _before_jump(block: List[gast.stmt], stmt: gast.stmt) -> None:
    """Append to a branch, before a final break or continue."""
    if block and isinstance(block[-1], (gast.Break, gast.Continue)):
        block.insert(len(block) - 1, stmt)
    else:
        block.append(stmt)




def _logging_function(func: gast.AST) -> Any:
    """The logging function or Logger method a call's callee names (log.info of a
    global logger, logging.warning), or None."""
    function = get_anno(func, "resolved")
    if function is None and isinstance(func, gast.Attribute):
        owner = get_anno(func.value, "resolved")
        made = func.value
        if isinstance(made, gast.Call) and get_anno(made.func, "resolved") is \
                logging.getLogger and len(made.args) <= 1 and not made.keywords:
            names = [a.value if isinstance(a, gast.Constant) else get_anno(a, "resolved")
                     for a in made.args]  # (logging.getLogger(__name__).info(...))
            if all(isinstance(n, str) for n in names):
                owner = logging.getLogger(*names)
        if isinstance(owner, logging.Logger):
            function = getattr(owner, func.attr, None)
    if isinstance(getattr(function, "__self__", None), logging.Logger):
        return function
    name = getattr(function, "__name__", None)
    if function is not None and isinstance(name, str) and getattr(logging, name, None) is function:
        return function
    return None


def _names_read(value: Static) -> set:
    """The names a Static's run-time leaves read."""
    if isinstance(value, Leaf):
        return {n.id for n in walk(value.node) if isinstance(n, gast.Name)}
    if isinstance(value, Struct):
        return set().union(*(_names_read(i) for i in value.items)) | (
            _names_read(Leaf(value.whole)) if value.whole is not None else set())
    return set()


def _is_copyto(call: gast.AST) -> bool:
    return isinstance(call, gast.Call) and get_anno(call.func, "resolved") is np.copyto and \
        len(call.args) == 2 and not call.keywords and \
        not any(isinstance(a, gast.Starred) for a in call.args)
