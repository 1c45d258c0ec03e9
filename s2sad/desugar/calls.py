"""The desugar stage's reading of calls: builtins over structures (len, zip, sum,
...), methods of structures (d.items(), lst.append), functions and methods of the
user's given structures, read for them (specialised) and called with their leaves."""
from __future__ import annotations

import builtins
import dataclasses
import inspect
import math
import types
from typing import Any, Dict, List, Optional, Tuple

import gast
import numpy as np

from .. import implicit, pytree
from ..anno import clone, get_anno, set_anno, walk
from ..errors import UnsupportedSyntaxError
from .values import (Const, Iterator, Leaf, LocalDef, LocalLambda, Method, Static, Struct,
                     Super, folded,
                     is_number, load_name, mark_borrowed, static_of)
from . import lifting, numpy_forms
from .iterators import Iterators
from .expressions import (_FUNCTIONS, _MISSING, _all_identifiers, _param,
                          _positional_params, _type_name)


class Calls(Iterators):
    """Calls, on top of the expressions they take."""

    def evaluate_Call(self, node: gast.Call) -> Static:
        if isinstance(node.func, gast.Attribute) and node.func.attr == "tolist" and \
                not node.args and not node.keywords:
            listed = self.as_list(self.evaluate(node.func.value), node)
            if listed is not None:
                return listed
        callee = self.evaluate(node.func)
        if isinstance(callee, Method):
            return self.method_call(callee, node)
        if isinstance(callee, LocalLambda):
            return self.lambda_call(callee, node)
        if isinstance(callee, LocalDef):
            return self.local_def_call(callee, node)
        if isinstance(callee, Struct) and callee.type is not None:  # model(x): __call__
            call = inspect.getattr_static(callee.type, "__call__", None)
            if isinstance(call, types.FunctionType):
                return self.method_call(Method(callee, "__call__", call), node)
        resolved = get_anno(node.func, "resolved", _MISSING) if isinstance(callee, Leaf) \
            else callee.value if isinstance(callee, Const) else _MISSING
        if resolved in (builtins.sum, math.fsum) and node.args and \
                isinstance(node.args[0], (gast.GeneratorExp, gast.ListComp)):
            self.accumulating = node.args[0]  # (over a run-time count: a loop)
        args, keywords, spread, wheres, keyword_wheres = self.call_arguments(node)
        structured = any(isinstance(a, (Struct, LocalLambda, LocalDef)) or
                         isinstance(a, Const) and isinstance(a.value, _FUNCTIONS)
                         for a in list(args) + list(keywords.values()))
        if isinstance(resolved, implicit.MarkedSolver) and len(args) > 1 and not spread \
                and not keywords and any(isinstance(a, Struct) for a in args[1:]):
            return self.marked_solve(resolved, args, node, wheres)
        if resolved in implicit.SOLVERS and len(args) > 1 and not spread and (
                isinstance(args[0], (LocalLambda, LocalDef, Method)) or
                any(isinstance(a, Struct) for a in args[1:])):
            return self.implicit_solve(args, keywords, node, wheres, keyword_wheres)
        if resolved is not _MISSING and not spread and _is_user_class(resolved):
            return self.constructed(resolved, args, keywords, node)
        if resolved is not _MISSING and not spread:
            known = self.builtin_call(resolved, args, keywords, node)
            if known is not None:
                return known
            constant = folded(resolved, args, keywords)
            if constant is not None:
                return constant
            if _is_helper(resolved) and (structured or _is_lambda(resolved) or
                                         self.helper_needs_reading(resolved)):
                return self.specialise(resolved, args, keywords, node, prefix=[])
        node.func = self.materialize(callee, node.func)
        if not spread:
            node.args = [self.materialize(a, where) for a, where in zip(args, wheres)]
            if _takes_arrays(resolved):  # (np.dot(vals, x) of a list: np.array(vals))
                node.args = [self.as_array(a, arg) for a, arg in zip(args, node.args)]
            node.keywords = [gast.keyword(arg=k, value=self.materialize(
                v, keyword_wheres.get(k, node))) for k, v in keywords.items()]
        return Leaf(node)

    def implicit_solve(self, args: List[Static], keywords: Dict[str, Static],
                       node: gast.Call, wheres: List[gast.AST], keyword_wheres) -> Static:
        """fixed_point(g, z0, ...) where g is a lambda or nested def, or where a
        parameter is a dict, list or tuple of arrays: the function solved is made a
        module-level one of arrays (lifting.py): a lambda's free variables passed after
        the call's arguments, a structure's leaves one by one."""
        where = wheres[0]
        solved, values = args[0], list(args[1:])
        wheres = list(wheres[1:])
        if isinstance(solved, (LocalLambda, LocalDef)):
            solved, free = self.lifted(solved, where)
            values += free
            wheres += [where] * len(free)
        elif isinstance(solved, Method) and isinstance(solved.receiver, Const):
            # (model.step of an object outside the function: its attributes constants,
            # as where the method is called)
            bound = getattr(solved.receiver.value, solved.name)
            names = _solved_names(bound, len(values))
            solved = lifting.of_leaves(getattr(bound, "__func__", bound),
                                       [(n, n) for n in names], names, self._user_globals(),
                                       self.parsed.name, receiver=solved.receiver.value)
        elif not (isinstance(solved, Const) and (
                isinstance(solved.value, types.FunctionType) or
                getattr(solved.value, "_s2sad_transform", False))):
            self.refuse("the function an implicit solve is given must be a def or a "
                        "lambda s2sad can read (a method of an argument is not one)", where,
                        hint="a function of the arrays it reads: fixed_point(g, x0, "
                             "self.W, self.b) with def g(x, W, b): ...")
        else:
            solved = solved.value
        values[0] = self.starting_point(values[0], wheres[0])
        passed: List[Tuple[str, gast.AST]] = []
        names = _solved_names(solved, len(values))
        texts = [self.rebuilt(v, n, passed, w) for v, n, w in zip(values, names, wheres)]
        if any(isinstance(v, Struct) for v in values):
            solved = lifting.of_leaves(solved, list(zip(names, texts)), [n for n, _ in passed],
                                       self._user_globals(), self.parsed.name)
        node.func = self.materialize(self.evaluate(node.func), node.func)
        node.args = [self.global_name(solved, where)] + [e for _, e in passed]
        node.keywords = [gast.keyword(arg=k, value=self.materialize(
            v, keyword_wheres.get(k, node))) for k, v in keywords.items()]
        return Leaf(node)

    def marked_solve(self, marked: Any, args: List[Static], node: gast.Call,
                     wheres: List[gast.AST]) -> Static:
        """solve(z0, params, x) of a solver marked with fixed_point_of(g), given a dict
        (list, tuple) of arrays: the same solve of functions of the leaves, both the
        map and the user's solver called with the structures rebuilt (lifting.py)."""
        args = [self.starting_point(args[0], wheres[0])] + list(args[1:])
        passed: List[Tuple[str, gast.AST]] = []
        names = _solved_names(marked.function, len(args))
        texts = [self.rebuilt(v, n, passed, w) for v, n, w in zip(args, names, wheres)]
        leaves = [n for n, _ in passed]
        shape = list(zip(names, texts))
        function = lifting.of_leaves(marked.function, shape, leaves, self._user_globals(),
                                     self.parsed.name)
        solver = lifting.of_leaves(marked.solver, shape, leaves, self._user_globals(),
                                   self.parsed.name)
        of_leaves = implicit.marked_of_leaves(marked, solver, function)
        node.func = self.global_name(implicit.SOLVERS_BY_KIND[marked.kind], node.func)
        node.args = [self.global_name(function, wheres[0])] + [e for _, e in passed]
        node.keywords = [gast.keyword(arg="tol", value=gast.Constant(value=marked.tol,
                                                                     kind=None)),
                         gast.keyword(arg="solver", value=self.global_name(of_leaves, node))]
        return Leaf(node)

    def starting_point(self, value: Static, where: gast.AST) -> Static:
        """x0 of a solve: an array; a list or tuple of numbers read as np.array reads it."""
        if not isinstance(value, Struct):
            return value
        if value.kind not in (pytree.LIST, pytree.TUPLE) or \
                any(isinstance(i, Struct) for i in value.items):
            self.refuse("the starting point of an implicit solve is a structure; the "
                        "solution must be one array", where,
                        hint="solve for one array: x0 = np.concatenate([np.ravel(a), "
                             "np.ravel(b)]), then split the solution")
        items = gast.List(elts=[self.materialize(i, where) for i in value.items],
                          ctx=gast.Load())
        return Leaf(gast.copy_location(gast.Call(
            func=self.global_name(np.array, where), args=[items],
            keywords=[gast.keyword(arg="dtype", value=self.global_name(float, where))]),
            where))

    def lifted(self, function: Static, where: gast.AST) -> Tuple[Any, List[Static]]:
        """A lambda's or nested def's body as a module-level function taking its free
        variables after its own parameters, and the values of those variables here."""
        plain, hint = lifting.plain_signature(function.node)
        if not plain:
            self.refuse("the function an implicit solve is given must take plain "
                        "parameters", where, hint=hint)
        node = clone(function.node)
        names = _free_names(node, function.reader, function.closure or {})
        free: List[str] = []  # (its parameters after its own, as values lists them)
        values: List[Static] = []
        for name in names:
            value = (function.closure or {}).get(name)
            if value is None:
                value = function.reader.evaluate(load_name(name))
            if isinstance(value, Struct) and value.kind in (pytree.DICT, pytree.LIST,
                                                           pytree.TUPLE):
                free.append(name)
                values.append(value)  # (its leaves passed one by one: see rebuilt)
                continue
            if isinstance(value, Struct) and lifting.reads_fields_only(node, name):
                # (self.W in a method's lambda: each field read is a variable of its own)
                for field in lifting.fields_read(node, name):
                    free.append(lifting.field_name(name, field))
                    values.append(function.reader.evaluate(gast.Attribute(
                        value=load_name(name), attr=field, ctx=gast.Load())))
                continue
            if not isinstance(value, (Leaf, Const)) or isinstance(value, Const) and \
                    isinstance(value.value, _FUNCTIONS):
                kind = _a(value.kind) if isinstance(value, Struct) else "a function"
                self.refuse(f"the function this solve is given reads {name!r}, {kind} of "
                            "the enclosing function", where,
                            hint=f"read the arrays it needs into names before the call "
                                 f"(W = {name}.W) and use those in the function")
            free.append(name)
            values.append(value)
        # (and the closure variables of the function it is in, read as the lambda reads
        # them: the lifted function has the module's globals only)
        cells = getattr(function.reader.parsed, "cells", None) or {}
        outer: Dict[str, gast.AST] = {}
        for read in walk(node):
            if isinstance(read, gast.Name) and isinstance(read.ctx, gast.Load) and \
                    read.id in cells and read.id not in free and \
                    read.id not in _own_names(node):
                outer.setdefault(read.id, read)
        made = lifting.lifted(node, free + sorted(outer), self._user_globals(),
                              self.parsed.name)
        return made, values + [Leaf(clone(outer[n])) for n in sorted(outer)]

    def rebuilt(self, value: Static, stem: str, passed: List[Tuple[str, gast.AST]],
                where: gast.AST) -> str:
        """The text rebuilding `value` from parameters named after `stem` (a dict's,
        list's or tuple's items one by one; a leaf is one parameter), each appended to
        `passed` with the run-time expression the call passes for it."""
        if isinstance(value, Struct):
            if value.kind not in (pytree.DICT, pytree.LIST, pytree.TUPLE) or \
                    value.kind == pytree.DICT and not all(isinstance(k, (str, int))
                                                          for k in value.keys):
                self.refuse(f"{_a(value.kind)} is passed to an implicit solve, which takes "
                            "arrays, numbers, and dicts, lists and tuples of them", where,
                            hint="pass its arrays (obj.W, obj.b) as parameters: "
                                 "fixed_point(g, z0, obj.W, obj.b) with def g(z, W, b)")
            keys = value.keys if value.kind == pytree.DICT else range(len(value.items))
            parts = [self.rebuilt(item, f"{stem}_{pytree._identifier_part(str(key))}",
                                  passed, where) for key, item in zip(keys, value.items)]
            if value.kind == pytree.DICT:
                return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
            if value.kind == pytree.LIST:
                return "[" + ", ".join(parts) + "]"
            return "(" + "".join(f"{p}, " for p in parts) + ")"
        name = stem
        while any(name == n for n, _ in passed):
            name += "_"
        passed.append((name, self.materialize(value, where)))
        return name

    def _user_globals(self) -> Dict[str, Any]:
        return getattr(self.parsed.function, "__globals__", None) or dict(self.parsed.namespace)

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
                    args[-1], (Struct, Method, LocalLambda, LocalDef, Iterator)) else arg)
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

    def lambda_call(self, function: LocalLambda, node: gast.Call) -> Static:
        """A call of a lambda bound in this function: its body, read here with its
        parameters bound to the arguments (each held in a name, so that an argument
        computed once is not computed again for each use)."""
        if function.reader is not self:
            self.refuse("a lambda made in another function is called here", node,
                        hint="define the function at module level and pass its name")
        args, keywords, spread, _, _ = self.call_arguments(node)
        params = [a.id for a in function.node.args.args]
        defaults = dict(zip(params[len(params) - len(function.defaults):], function.defaults))
        if spread or len(args) > len(params) or set(keywords) - set(params):
            self.refuse("this call does not match the lambda's parameters", node,
                        hint=f"pass {', '.join(params)}")
        bound: Dict[str, Static] = dict(zip(params, args))
        for name in params[len(args):]:
            if name in keywords:
                bound[name] = keywords[name]
            elif name in defaults:
                bound[name] = defaults[name]
            else:
                self.refuse(f"the lambda's parameter {name!r} is not given", node,
                            hint=f"pass {', '.join(params)}")
        bound = {name: self.held(value, name, node) for name, value in bound.items()}
        with self.scoped({**(function.closure or {}), **bound}):
            return self.evaluate(clone(function.node.body))

    def helper_needs_reading(self, function: Any) -> bool:
        """A helper given plain arguments that still builds or reads structures of its
        own (MODEL.W of a global object): it is read by this stage too."""
        from . import needed
        code = function.__code__
        if code not in _NEEDED:
            try:
                helper = self.read_helper(function)
                # (a helper returning a pair or a dict: the caller may unpack it, or
                # return it as (value, aux))
                _NEEDED[code] = needed(helper, self.read_helper) or any(
                    isinstance(n, gast.Return) and isinstance(n.value, (gast.Tuple, gast.Dict))
                    for n in walk(helper.func))
            except Exception:  # (the usual path gives the diagnostic)
                _NEEDED[code] = False
        return _NEEDED[code]

    def starred(self, node: gast.Starred) -> gast.AST:
        node.value = self.expression(node.value)
        return node

    def builtin_call(self, function: Any, args: List[Static], keywords: Dict[str, Static],
                     node: gast.Call) -> Optional[Static]:
        """len, list, tuple, zip, enumerate, isinstance, dataclasses.replace of
        structures: known now."""
        lazy = self.iterator_call(function, args, keywords, node)
        if lazy is not None:
            return lazy
        if function is np.select:
            return numpy_forms.select(self, args, keywords, node)
        if any(function is f for f in numpy_forms.SPLITS):
            return numpy_forms.split(self, function, args, keywords, node)
        if any(function is f for f in numpy_forms.AT_LEAST) and not keywords:
            return numpy_forms.at_least_each(self, function, args, node)
        if function in (builtins.enumerate, builtins.zip, builtins.reversed, builtins.list,
                        builtins.tuple, builtins.map):
            # (enumerate("abc"): of a string known now; zip(x, w) of arrays whose shapes
            # the call is compiled for: their rows)
            args = [self.known_sequence(a, node) for a in args]
            rows = [self.known_rows(a, node) or a for a in args]
            if self.wants_rows and function is not builtins.map and \
                    all(isinstance(a, Struct) for a in rows):
                args = rows  # (a comprehension: read item by item)
        first = args[0] if args else None
        if function in (builtins.sum, builtins.max, builtins.min) and len(args) == 1 and \
                isinstance(first, Leaf) and not isinstance(first.node, (
                    gast.GeneratorExp, gast.ListComp)) and not keywords:
            return self.over_rows(function, first, node)
        if function is builtins.len and len(args) == 1 and isinstance(first, Struct) and \
                first.kind in (pytree.OBJECT, pytree.DATACLASS):
            self.refuse(f"len() of a {_type_name(first)} (its own __len__ is code s2sad does "
                        "not read here)", node, hint="call the method that counts directly")
        if function in (builtins.len, np.shape, np.ndim) and len(args) == 1 and \
                isinstance(first, Leaf) and self.known_shape(first.node) is not None:
            shape = self.known_shape(first.node)
            return Const(shape[0] if function is builtins.len else
                         shape if function is np.shape else len(shape))
        if function is builtins.type and len(args) == 1 and isinstance(first, Struct) and \
                isinstance(first.type, type):
            return Const(first.type)  # (type(self).SCALE)
        if function is builtins.super and not args and not keywords:
            return self.zero_argument_super(node)
        if function is builtins.len and len(args) == 1 and isinstance(first, Struct):
            if first.view_of is not None and first.view_of[1] in ("items", "keys", "values"):
                return Const(len(first.view_of[0].keys))  # (a dict's view: as it is now)
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
                and first.kind in pytree.SEQUENCES + (pytree.DICT,):
            items = list(reversed(self.iterated(first, node)))  # (of a dict: its keys)
            return Struct(pytree.LIST, None, list(range(len(items))), items,
                          loop_depth=self.loop_depth)
        if function is builtins.dict and (not args or len(args) == 1 and isinstance(
                first, Struct) and first.kind == pytree.DICT):
            keys = (list(first.keys) if args else []) + list(keywords)
            items = (list(first.items) if args else []) + list(keywords.values())
            return Struct(pytree.DICT, None, keys, items, loop_depth=self.loop_depth)
        if function in (builtins.max, builtins.min, builtins.sorted) and "key" in keywords \
                and len(args) == 1 and isinstance(first, Struct) and \
                first.kind in pytree.SEQUENCES + (pytree.DICT,) and \
                not keywords.keys() - {"key", "reverse"}:
            return self.ordered_by_key(function, first, keywords, node)
        if function in (builtins.max, builtins.min) and not keywords and (
                len(args) == 1 and isinstance(first, Struct) and
                first.kind in pytree.SEQUENCES or len(args) > 2) and \
                not all(isinstance(a, Const) for a in args):
            # max(values), max(a, b, c): max(max(a, b), c), as Python compares them
            items = list(first.items) if len(args) == 1 else list(args)
            if not items:
                return None
            result = self.materialize(items[0], node)
            for item in items[1:]:
                pair = gast.Call(func=clone(node.func), args=[result, self.materialize(item, node)],
                                 keywords=[])
                result = gast.copy_location(pair, node)
            return Leaf(result)
        if function in (builtins.sum, math.fsum) and len(args) in (1, 2) and \
                isinstance(first, Struct) and not keywords.keys() - {"start"}:
            start = args[1] if len(args) == 2 else keywords.get("start")
            if function is math.fsum and (start is not None or len(args) == 2):
                return None
            total = self.summed(self.iterated(first, node), start, node)
            return total if function is builtins.sum else self.as_float(total, node)
        if function in (builtins.sum, math.fsum) and len(args) in (1, 2) and \
                isinstance(first, Leaf) and first.node is self.accumulating and not keywords:
            total = self.accumulated(first.node, args[1] if len(args) == 2 else None, node)
            return total if function is builtins.sum else self.as_float(total, node)
        if function is math.prod and len(args) == 1 and isinstance(first, Struct) and \
                not keywords.keys() - {"start"}:
            return self.multiplied(self.iterated(first, node), keywords.get("start"), node)
        if function is builtins.sorted and len(args) == 1 and isinstance(first, Struct) and \
                not keywords.keys() - {"reverse"} and isinstance(keywords.get(
                    "reverse", Const(False)), Const):
            return self.sorted_values(self.iterated(first, node),
                                      bool(keywords.get("reverse", Const(False)).value), node)
        if function is dataclasses.replace and len(args) == 1 and isinstance(first, Struct) \
                and first.kind == pytree.DATACLASS:
            return self.replaced(first, keywords, node)
        return None

    def as_array(self, value: Static, materialized: gast.AST) -> gast.AST:
        """A list of run-time values given to a NumPy function that reads it as an
        array: np.array of it, as NumPy converts it (each item's adjoint its piece)."""
        if not (isinstance(value, Struct) and value.kind == pytree.LIST and
                value.whole is None and any(isinstance(i, Leaf) for i in value.items)):
            return materialized
        call = gast.Call(func=self.global_name(np.array, materialized), args=[materialized],
                         keywords=[])
        return gast.copy_location(call, materialized)

    def ordered_by_key(self, function: Any, sequence: Struct, keywords: Dict[str, Static],
                       node: gast.Call) -> Optional[Static]:
        """max / min / sorted with key=: the keys known now order the items now, as
        Python does (the first of equals; sorted is stable); keys known only at run time
        choose with np.argmax / np.argmin / a stable np.argsort of them, the chosen
        items read by that index (each its share of the gradient)."""
        reverse = keywords.get("reverse", Const(False))
        if not isinstance(reverse, Const) or function is not builtins.sorted and \
                "reverse" in keywords:
            return None
        key_node = next(k.value for k in node.keywords if k.arg == "key")
        items = self.iterated(sequence, node)
        if not items:
            return None
        keys = [self.evaluate(gast.copy_location(gast.Call(func=clone(key_node), args=[
            self.materialize(self.held(item, "item", node), node)], keywords=[]), node))
            for item in items]
        if all(isinstance(k, Const) for k in keys):
            values = [k.value for k in keys]
            order = sorted(range(len(items)), key=lambda k: values[k],
                           reverse=bool(reverse.value))
            if function is builtins.sorted:
                return Struct(pytree.LIST, None, list(range(len(items))),
                              [items[k] for k in order], loop_depth=self.loop_depth)
            best = max(values) if function is builtins.max else min(values)
            return items[values.index(best)]
        listed = gast.List(elts=[self.materialize(k, node) for k in keys], ctx=gast.Load())
        key_array = gast.Call(func=self.global_name(np.array, node), args=[listed], keywords=[])
        if function is builtins.sorted:
            if reverse.value:
                key_array = gast.UnaryOp(op=gast.USub(), operand=key_array)
            chooser = gast.Call(func=self.global_name(np.argsort, node), args=[key_array],
                                keywords=[gast.keyword(arg="kind", value=gast.Constant(
                                    value="stable", kind=None))])
        else:
            chooser = gast.Call(func=self.global_name(
                np.argmax if function is builtins.max else np.argmin, node),
                args=[key_array], keywords=[])
        index = self.held(Leaf(gast.copy_location(chooser, node)), "chosen", node)
        if function is not builtins.sorted:
            return self.picked(items, index.node, node)
        return Struct(pytree.LIST, None, list(range(len(items))), [self.picked(
            items, gast.Subscript(value=clone(index.node), slice=gast.Constant(
                value=k, kind=None), ctx=gast.Load()), node) for k in range(len(items))],
            loop_depth=self.loop_depth)

    def picked(self, items: List[Static], index: gast.AST, node: gast.AST) -> Static:
        """The item at a run-time index of items alike: each leaf read from the stack
        of the items' leaves (np.stack([a, b, c])[i])."""
        first = items[0]
        if isinstance(first, Struct):
            if not all(isinstance(i, Struct) and i.keys == first.keys for i in items):
                self.refuse("the items chosen by key= differ in structure", node,
                            hint="choose among items of one structure")
            return Struct(first.kind, first.type, list(first.keys), [
                self.picked([i.items[k] for i in items], index, node)
                for k in range(len(first.keys))], loop_depth=self.loop_depth)
        if all(isinstance(i, Const) and i.value == first.value for i in items):
            return first
        stacked = gast.Call(func=self.global_name(np.stack, node), args=[gast.List(
            elts=[self.materialize(i, node) for i in items], ctx=gast.Load())], keywords=[])
        return Leaf(gast.copy_location(gast.Subscript(value=stacked, slice=clone(index),
                                                      ctx=gast.Load()), node))

    def as_list(self, array: Static, node: gast.Call) -> Optional[Static]:
        """x.tolist() of an array whose shape the call is compiled for: nested lists of
        its entries (x[0], x[1][2], ...); None for a value that is not an array."""
        if not isinstance(array, Leaf):
            return None
        shape = self.known_shape(array.node)
        if shape is None:
            try:
                self.refuse(".tolist() of an array whose shape is known only at run time",
                            node, hint="index the entries: x[0], x[1], ...")
            except UnsupportedSyntaxError as exc:
                exc.run_time_count = True  # (the call may compile again for its shapes)
                raise
        if not shape:
            return Leaf(gast.copy_location(gast.Call(func=gast.Name(
                id="float", ctx=gast.Load(), annotation=None, type_comment=None),
                args=[array.node], keywords=[]), node))
        held = self.held(array, "listed", node)
        rows = self.known_rows(held, node) if self.known_shape(held.node) else None
        if rows is None:  # (a computed array: its rows by index, the count from the shape)
            rows = Struct(pytree.LIST, None, list(range(shape[0])), [Leaf(gast.copy_location(
                gast.Subscript(value=clone(held.node), slice=gast.Constant(value=k, kind=None),
                               ctx=gast.Load()), node)) for k in range(shape[0])],
                loop_depth=self.loop_depth)
        if len(shape) > 1:
            rows.items = [self.as_nested(item, shape[1:], node) for item in rows.items]
        return rows

    def as_nested(self, row: Leaf, shape: tuple, node: gast.AST) -> Static:
        if not shape:
            return row
        return Struct(pytree.LIST, None, list(range(shape[0])), [self.as_nested(Leaf(
            gast.copy_location(gast.Subscript(value=clone(row.node), slice=gast.Constant(
                value=k, kind=None), ctx=gast.Load()), node)), shape[1:], node)
            for k in range(shape[0])], loop_depth=self.loop_depth)

    def over_rows(self, function: Any, array: Leaf, node: gast.Call) -> Static:
        """sum(x), max(x), min(x) of an array: Python's loop over its rows. sum is
        np.sum(x, axis=0) exactly; max and min compare numbers, so x must be 1-d (the
        call compiles again for its shape, where that is not known yet)."""
        if function is builtins.sum:
            call = gast.Call(func=self.global_name(np.sum, node), args=[array.node], keywords=[
                gast.keyword(arg="axis", value=gast.Constant(value=0, kind=None))])
            return Leaf(gast.copy_location(call, node))
        shape = self.known_shape(array.node)
        if shape is None or len(shape) != 1:
            try:
                self.refuse(f"{function.__name__}() of an array compares its rows; s2sad "
                            "needs it to be 1-d and its shape known", node,
                            hint=f"use np.{function.__name__}(x) (its ties share the "
                                 "gradient)")
            except UnsupportedSyntaxError as exc:
                exc.run_time_count = shape is None
                raise
        rows = self.known_rows(array, node)
        return self.builtin_call(function, [rows], {}, node)

    def known_sequence(self, value: Static, where: gast.AST) -> Static:
        """A string or tuple known now as a list of its items (each known now)."""
        if isinstance(value, Const):
            items = self.iterated(value, where)
            if items is not None:
                return Struct(pytree.LIST, None, list(range(len(items))), items,
                              loop_depth=self.loop_depth)
        return value

    def zero_argument_super(self, node: gast.AST) -> Optional[Static]:
        """super() in a method (its class from the method's __class__ cell, the object
        its first parameter's)."""
        function = getattr(self.parsed, "function", None)
        cells = dict(zip(getattr(getattr(function, "__code__", None), "co_freevars", ()),
                         getattr(function, "__closure__", None) or ()))
        owner = cells["__class__"].cell_contents if "__class__" in cells else None
        params = _positional_params(self.parsed.func)
        receiver = self.env.get(params[0].id) if params else None
        if not isinstance(owner, type) or receiver is None:
            return None
        return Super(receiver, owner)

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

    def as_float(self, total: Static, node: gast.AST) -> Static:
        """math.fsum's result: a Python float (its exact rounding aside, the sum)."""
        call = gast.Call(func=gast.Name(id="float", ctx=gast.Load(), annotation=None,
                                        type_comment=None),
                         args=[self.materialize(total, node)], keywords=[])
        set_anno(call.func, "resolved", builtins.float)
        return Leaf(gast.copy_location(call, node))

    def multiplied(self, items: List[Static], start: Optional[Static],
                   node: gast.AST) -> Static:
        """math.prod() of a structure's items: their products, in Python's order."""
        terms = ([start] if start is not None else []) + list(items)
        if not terms:
            return Const(1)
        product = self.materialize(terms[0], node)
        if start is None and len(terms) == 1:
            product = gast.BinOp(left=gast.Constant(value=1, kind=None), op=gast.Mult(),
                                 right=product)
        for term in terms[1:]:
            product = gast.BinOp(left=product, op=gast.Mult(),
                                 right=self.materialize(term, node))
        return Leaf(gast.copy_location(product, node))

    def sorted_values(self, items: List[Static], reverse: bool, node: gast.AST) -> Static:
        """sorted() of numbers: the same numbers, in order (np.sort of them, a
        permutation, differentiated as np.sort is); numbers known now sort now."""
        if all(isinstance(k, Const) for k in items):
            try:
                ordered = sorted(items, key=lambda k: k.value, reverse=reverse)
            except TypeError:
                return None
            return Struct(pytree.LIST, None, list(range(len(ordered))), ordered,
                          loop_depth=self.loop_depth)
        listed = gast.List(elts=[self.materialize(i, node) for i in items], ctx=gast.Load())
        order = gast.Call(func=self.global_name(np.sort, node), args=[
            gast.Call(func=self.global_name(np.array, node), args=[listed], keywords=[])],
            keywords=[])
        held = self.held(Leaf(gast.copy_location(order, node)), "in_order", node)
        count = len(items)
        return Struct(pytree.LIST, None, list(range(count)), [
            Leaf(gast.copy_location(gast.Subscript(
                value=clone(held.node), slice=gast.Constant(
                    value=count - 1 - k if reverse else k, kind=None), ctx=gast.Load()), node))
            for k in range(count)], loop_depth=self.loop_depth)

    def accumulated(self, comprehension: gast.AST, start: Optional[Static],
                    node: gast.AST) -> Static:
        """sum(x[i] ** 2 for i in range(n)) over a count known only at run time: the
        loop Python runs, written out (`total = 0`, then `total = total + ...` in a
        for loop over the same iterables, the same filters), and read like the user's
        own loops. A name the function also binds elsewhere is renamed in it (a
        comprehension's names are its own)."""
        comprehension = clone(comprehension)
        targets = {n.id for g in comprehension.generators for n in walk(g.target)
                   if isinstance(n, gast.Name)}
        renamed = {name: pytree.fresh(name, self.taken) for name in targets
                   if self.assigned_in_function.get(name, 0) > 1}
        for inner in walk(comprehension):
            if isinstance(inner, gast.Name) and inner.id in renamed:
                inner.id = renamed[inner.id]
        total = pytree.fresh("total", self.taken)
        self.assigned_in_function[total] = 2

        def target(identifier: str) -> gast.Name:
            return gast.Name(id=identifier, ctx=gast.Store(), annotation=None,
                             type_comment=None)

        initial = self.materialize(start, node) if start is not None else \
            gast.Constant(value=0, kind=None)
        self.emit(gast.Assign(type_comment=None, targets=[target(total)], value=initial), node)
        body: List[gast.stmt] = [gast.copy_location(gast.Assign(
            type_comment=None, targets=[target(total)],
            value=gast.BinOp(left=load_name(total), op=gast.Add(), right=comprehension.elt)),
            comprehension.elt)]
        for generator in reversed(comprehension.generators):
            for test in reversed(generator.ifs):
                body = [gast.copy_location(gast.If(test=test, body=body, orelse=[]), test)]
            iterable, held = generator.iter, []
            if not isinstance(iterable, gast.Name) and not (
                    isinstance(iterable, gast.Call) and get_anno(iterable.func, "resolved") in
                    (builtins.range, builtins.enumerate, builtins.zip, builtins.reversed)):
                # (for u in x[:2]: the loop runs over a name, computed where Python does)
                name = pytree.fresh("items", self.taken)
                self.assigned_in_function[name] = 2
                held = [gast.copy_location(gast.Assign(
                    type_comment=None, targets=[target(name)], value=iterable), iterable)]
                iterable = gast.copy_location(load_name(name), iterable)
            body = held + [gast.copy_location(gast.For(
                target=generator.target, iter=iterable, body=body, orelse=[],
                type_comment=None), generator.iter)]
        for stmt in body:
            for inner in walk(stmt):
                if isinstance(inner, gast.Name) and isinstance(inner.ctx, gast.Store):
                    self.assigned_in_function[inner.id] = 2
            self.statement(stmt)
        return Leaf(gast.copy_location(load_name(total), node))

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
        if method.function is not None and method.name == "__init__" and \
                isinstance(receiver, Struct) and receiver.kind == pytree.OBJECT:
            self.initialise(receiver, method.function, args, keywords, node)  # super().__init__
            return Const(None)
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
                owner = node.func.value if isinstance(node.func, gast.Attribute) else None
                preferred = f"{owner.id}_{len(receiver.items)}" \
                    if isinstance(owner, gast.Name) else "item"  # (ys.append(v): ys_0, ...)
                receiver.items.append(self.held(args[0], preferred, node))
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
            if name == "insert" and len(args) == 2 and isinstance(args[0], Const) and \
                    type(args[0].value) is int and not keywords:
                self.mutating(receiver, node)
                receiver.items.insert(args[0].value, self.held(args[1], "item", node))
                receiver.keys = list(range(len(receiver.items)))
                return Const(None)
            if name == "pop" and len(args) <= 1 and not keywords and all(
                    isinstance(a, Const) and type(a.value) is int for a in args):
                self.mutating(receiver, node)
                if not receiver.items:
                    self.refuse("pop from an empty list", node, hint="append to it first")
                at = args[0].value if args else -1
                if not -len(receiver.items) <= at < len(receiver.items):
                    self.refuse("pop index out of range", node,
                                hint=f"the list holds {len(receiver.items)} items")
                popped = receiver.items.pop(at)
                receiver.keys = list(range(len(receiver.items)))
                return popped
            if name in ("reverse", "clear") and not args and not keywords:
                self.mutating(receiver, node)
                receiver.items = list(reversed(receiver.items)) if name == "reverse" else []
                receiver.keys = list(range(len(receiver.items)))
                return Const(None)
            if name in ("index", "count") and len(args) == 1 and isinstance(args[0], Const) \
                    and all(isinstance(i, Const) for i in receiver.items):
                return Const(getattr([i.value for i in receiver.items], name)(args[0].value))
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

    # -- objects made in the function ------------------------------------------------

    def constructed(self, cls: type, args: List[Static], keywords: Dict[str, Static],
                    node: gast.Call) -> Static:
        """`q = Quadratic(2.0, 3.0, x)`: an object of the user's class made here, known
        field by field (its __init__ read for the arguments, as a helper whose result
        is the object); a namedtuple or a dataclass: its fields, from its signature."""
        try:
            bound = inspect.signature(cls).bind(*args, **keywords)
        except (TypeError, ValueError) as exc:
            self.refuse(f"this call does not make a {cls.__name__} ({exc})", node,
                        hint=f"pass the arguments {cls.__name__}{_signature_text(cls)} takes")
        if pytree.is_namedtuple_type(cls) or dataclasses.is_dataclass(cls):
            if dataclasses.is_dataclass(cls) and (hasattr(cls, "__post_init__") or any(
                    not f.init for f in dataclasses.fields(cls))):
                self.refuse(f"{cls.__name__} computes fields s2sad does not read "
                            "(__post_init__ or init=False)", node,
                            hint="pass every field to the constructor")
            bound.apply_defaults()
            items = [v if isinstance(v, Static) else Const(v) for v in bound.arguments.values()]
            kind = pytree.NAMEDTUPLE if pytree.is_namedtuple_type(cls) else pytree.DATACLASS
            return Struct(kind, cls, list(bound.arguments), [
                self.held(item, f"{_identifier(cls)}_{key}", node)
                for key, item in zip(bound.arguments, items)], loop_depth=self.loop_depth)
        made = Struct(pytree.OBJECT, cls, [], [], loop_depth=self.loop_depth)
        init = inspect.getattr_static(cls, "__init__", None)
        if isinstance(init, types.FunctionType):
            self.initialise(made, init, args, keywords, node)
        elif args or keywords:
            self.refuse(f"{cls.__name__} takes no arguments s2sad can read", node,
                        hint="define __init__ in Python")
        return made

    def initialise(self, receiver: Struct, init: Any, args: List[Static],
                   keywords: Dict[str, Static], node: gast.AST) -> None:
        """`receiver.__init__(...)`: read as a helper given the object so far and
        returning it (`return self` after its body); the fields it sets are the
        receiver's from then on."""
        self.mutating(receiver, node)
        helper = self.read_helper(init)
        params = _positional_params(helper.func)
        if not params:
            self.refuse(f"{init.__qualname__} takes no self", node, hint="take self first")
        own = params[0].id
        returned = gast.Return(value=load_name(own))
        for inner_node in walk(helper.func):
            if isinstance(inner_node, gast.Return) and inner_node.value is None:
                inner_node.value = load_name(own)
        helper.func.body = list(helper.func.body) + [gast.copy_location(returned,
                                                                        helper.func.body[-1])]
        try:
            bound = inspect.signature(init).bind(receiver, *args, **keywords)
        except TypeError as exc:
            self.refuse(f"this call does not match {init.__qualname__}"
                        f"{inspect.signature(init)} ({exc})", node,
                        hint="pass the arguments __init__ takes")
        bound.apply_defaults()
        made = self.read_for(helper, dict(bound.arguments), init, node, owned=own)
        if not isinstance(made, Struct) or made.kind != pytree.OBJECT:
            self.refuse(f"{init.__qualname__} rebinds self", node, hint="set fields of self")
        receiver.keys, receiver.items = list(made.keys), list(made.items)
        # (a list given to __init__ that it stores is one object in Python: a change to
        # it, or to the object's copy, would reach the other)
        shared = "an object made here holds it (or a copy of what it was given)"
        for value in list(args) + list(keywords.values()) + list(made.items):
            if isinstance(value, Struct) and value.kind in (pytree.LIST, pytree.DICT,
                                                            pytree.OBJECT):
                value.apart = value.apart or shared

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
        return self.read_for(helper, dict(bound.arguments), function, node)

    def read_for(self, helper: Any, arguments: Dict[str, Any], function: Any,
                 node: gast.AST, owned: Optional[str] = None) -> Static:
        """A helper (read, not yet checked) read for the Statics of its arguments: a
        helper of its own, called with their leaves, its result known as a
        structure."""
        if function in self.reading:
            cycle = [getattr(f, "__name__", "?") for f in self.reading[
                self.reading.index(function):]] + [function.__name__]
            self.refuse(f"recursive call: {' -> '.join(cycle)}", node,
                        hint="write the recursion as a loop")
        taken = set(helper.local_names) | set(helper.namespace) | \
            _all_identifiers(helper.func)
        inner = type(self)(helper, taken, self.read_helper, self.check_helper)
        inner.constants = self.constants  # (one list for the whole reading)
        inner.reading = self.reading + [function]
        params, call_args = [], []
        for arg in _positional_params(helper.func):
            value = arguments.get(arg.id, _MISSING)
            if value is _MISSING:
                continue
            if not isinstance(value, Static):
                value = Const(value)  # a default
            if isinstance(value, (Struct, Method, LocalLambda, LocalDef)) or \
                    isinstance(value, Const) and not is_number(value.value):
                inner.env[arg.id] = self.passed(value, arg.id, inner, params, call_args,
                                                node)
                if arg.id == owned:  # (__init__'s self: its fields are set there)
                    inner.env[arg.id].borrowed = False
            else:
                params.append(_param(arg.id, arg))
                call_args.append(self.materialize(value, node))
                shape = self.known_shape(value.node) if isinstance(value, Leaf) else None
                if shape is not None:  # (the helper loops over its rows too)
                    inner.shapes[arg.id] = shape
        spread = helper.func.args
        for packed, kind in ((spread.vararg, pytree.TUPLE), (spread.kwarg, pytree.DICT)):
            if packed is None:  # (def h(*vs): vs is a tuple of the call's extra values)
                continue
            given = arguments.get(packed.id, {} if kind == pytree.DICT else ())
            keys = list(given) if kind == pytree.DICT else list(range(len(given)))
            values = list(given.values()) if kind == pytree.DICT else list(given)
            inner.env[packed.id] = self.passed(Struct(
                kind, None, keys, [v if isinstance(v, Static) else Const(v) for v in values],
                loop_depth=self.loop_depth), packed.id, inner, params, call_args, node)
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
        self.emit(gast.Assign(type_comment=None, targets=[target], value=call), node)
        for n in names:
            self.assigned_in_function[n] = 0
        result = static_of(output, iter(names), None)
        if inner.returns_borrowed:  # (its caller's structure: a store into it is refused)
            mark_borrowed(result)
        return result

    def local_def_call(self, function: LocalDef, node: gast.Call) -> Static:
        """A call of a function defined inside this one: read as a helper for its
        arguments, the enclosing function's variables it reads passed to it as they
        are at the call (as Python's closures read them)."""
        if function.reader is not self:
            self.refuse("a function defined in another function is called here", node,
                        hint="define the function at module level")
        from ..frontend import Parsed, bound_names
        definition = clone(function.node)
        args = definition.args
        if args.vararg is not None or args.kwarg is not None or args.kwonlyargs or \
                args.posonlyargs or definition.decorator_list:
            self.refuse("this nested function's signature is not supported", function.node,
                        hint="take positional parameters only, or define it at module level")
        closure = function.closure or {}
        free = _free_names(definition, self, closure)
        params = [a.id for a in args.args]
        values, keywords, spread, _, _ = self.call_arguments(node)
        if spread or len(values) > len(params) or set(keywords) - set(params):
            self.refuse("this call does not match the nested function's parameters", node,
                        hint=f"pass {', '.join(params)}")
        arguments: Dict[str, Any] = dict(zip(params, values))
        defaults = dict(zip(params[len(params) - len(function.defaults):], function.defaults))
        for name in params[len(values):]:
            if name not in keywords and name not in defaults:
                self.refuse(f"the nested function's parameter {name!r} is not given", node,
                            hint=f"pass {', '.join(params)}")
            arguments[name] = keywords.get(name, defaults.get(name))
        made = self.made_function(definition, {name: arguments[name] for name in params},
                                  closure, node)
        if made is not None:
            return made
        for name in free:  # (the enclosing function's variables, as they are now)
            arguments[name] = closure[name] if name in closure else \
                self.evaluate(load_name(name))
            args.args.append(gast.Name(id=name, ctx=gast.Param(), annotation=None,
                                       type_comment=None))
        args.defaults = []
        helper = Parsed(definition, self.parsed.filename, self.parsed.file_lines,
                        dict(self.parsed.namespace))
        helper.local_names = frozenset(bound_names(definition))
        helper.live_globals, helper.cells = self.parsed.live_globals, self.parsed.cells
        return self.read_for(helper, arguments, function.stub, node)

    def made_function(self, definition: gast.FunctionDef, arguments: Dict[str, Static],
                      closure: Dict[str, Static], node: gast.AST) -> Optional[Static]:
        """A nested def that makes a function and returns it (`def make(k): return
        lambda t: t * k`, or a def inside it returned by name): the function made,
        its parameters' values (held now, as Python's closure cells hold them) read
        where it is called; the enclosing function's variables it reads, read then."""
        body = [s for s in definition.body if not (
            isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None:
            return None
        returned = body[-1].value
        inner_def = body[0] if len(body) == 2 and isinstance(body[0], gast.FunctionDef) \
            else None
        if len(body) == 1 and isinstance(returned, gast.Lambda) and \
                not returned.args.defaults:
            made: Static = LocalLambda(returned, [], self, {})
        elif inner_def is not None and isinstance(returned, gast.Name) and \
                returned.id == inner_def.name and not inner_def.args.defaults and \
                not inner_def.decorator_list:
            stub = types.FunctionType(compile("def _(): pass", "<s2sad nested def>", "exec")
                                      .co_consts[0], {}, inner_def.name)
            made = LocalDef(inner_def, [], self, stub, {})
        else:
            return None
        held = {name: self.held(value, name, node) for name, value in arguments.items()}
        made.closure = {**closure, **held}
        return made

    def passed(self, value: Static, param: str, inner: "Calls", params: list,
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
        if isinstance(value, (LocalLambda, LocalDef)):  # (its free names passed along)
            passing = inner.passing
            if id(value) in passing:  # (a nested def that calls itself)
                return passing[id(value)]
            copy = LocalDef(value.node, [], inner, value.stub, {}) \
                if isinstance(value, LocalDef) else LocalLambda(value.node, [], inner, {})
            passing[id(value)] = copy
            earlier = value.closure or {}
            copy.closure = {name: self.passed(
                earlier[name] if name in earlier else value.reader.evaluate(load_name(name)),
                f"{param}_{name}", inner, params, call_args, where)
                for name in _free_names(value.node, value.reader, earlier)}
            copy.defaults = [self.passed(d, f"{param}_default", inner, params, call_args,
                                         where) for d in value.defaults]
            return copy
        return value


_NEEDED: Dict[Any, bool] = {}  # helper code -> whether it needs reading here


def _a(kind: str) -> str:
    """A structure's kind with its article: a dict, a dataclass, an object."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _solved_names(function: Any, count: int) -> List[str]:
    """Names for the arguments of a solve's function: its own parameters' (x, W, b)."""
    return implicit.argument_names(function, [f"p{k}" for k in range(count)])


def _own_names(function: gast.AST) -> set:
    """The names a lambda or def binds itself (its parameters, its locals)."""
    from ..frontend import bound_names
    return bound_names(function) if isinstance(function, gast.FunctionDef) else \
        {a.id for a in function.args.args}


def _free_names(function: gast.AST, reader: "Calls", closure: Dict[str, Static]) -> List[str]:
    """The enclosing function's variables a lambda or nested def reads (Python's
    closure): names it loads and does not bind, bound where it was made."""
    from ..frontend import bound_names
    own = bound_names(function) if isinstance(function, gast.FunctionDef) else \
        {a.id for a in function.args.args}
    return sorted({n.id for n in walk(function) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Load) and n.id not in own
                   and (n.id in reader.env or n.id in reader.parsed.local_names or
                        n.id in closure)})


_SEQUENCES_OF_ARRAYS = {"array", "asarray", "asanyarray", "stack", "concatenate", "hstack",
                        "vstack", "dstack", "column_stack", "row_stack", "block", "einsum",
                        "zeros", "ones", "empty", "full", "reshape", "broadcast_to", "tile",
                        "transpose", "pad", "split", "array_split", "meshgrid", "ix_",
                        "select", "piecewise", "choose", "lexsort", "unravel_index",
                        "ravel_multi_index", "r_", "c_"}


def _takes_arrays(function: Any) -> bool:
    """A NumPy function that converts a list argument to an array (np.dot, np.max):
    not one that reads a list as a sequence of arrays or as a shape."""
    module = getattr(function, "__module__", None) or ""
    return callable(function) and not isinstance(function, type) and \
        (module.split(".")[0] == "numpy" or isinstance(function, np.ufunc)) and \
        getattr(function, "__name__", "") not in _SEQUENCES_OF_ARRAYS


def _is_user_class(value: Any) -> bool:
    """A class of the user's (not NumPy's, not an exception, not a builtin type) whose
    objects the function makes: read field by field."""
    if not isinstance(value, type) or issubclass(value, BaseException):
        return False
    if pytree.is_namedtuple_type(value) or dataclasses.is_dataclass(value):
        return True
    module = (getattr(value, "__module__", "") or "").split(".")[0]
    return module not in ("builtins", "numpy", "scipy", "s2sad", "collections", "typing",
                          "abc", "functools", "enum", "decimal", "fractions", "dataclasses") \
        and inspect.getattr_static(value, "__new__", object.__new__) is object.__new__


def _identifier(cls: type) -> str:
    return pytree._identifier_part(cls.__name__.lower())


def _signature_text(cls: type) -> str:
    try:
        return str(inspect.signature(cls))
    except (TypeError, ValueError):
        return "(...)"


def _is_helper(function: Any) -> bool:
    from ..lower import _is_user_function
    from ..rules import has_rule
    return (_is_user_function(function) or _is_lambda(function)) and not has_rule(function)


def _is_lambda(function: Any) -> bool:
    """A lambda of the user's (act_fn=lambda z: ... in a config): read for its call,
    as lower inlines no lambda itself."""
    return isinstance(function, types.FunctionType) and function.__name__ == "<lambda>" \
        and (getattr(function, "__module__", None) or "").split(".")[0] not in (
            "numpy", "scipy", "s2sad")


