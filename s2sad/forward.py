"""Forward mode: each primal statement followed by its tangent statement.

Input: `Analysed`. Output: `Generated`, a function

    def jvp_f(<f's parameters>, x_dot, ...):
        a = np.exp(x)
        a_dot = x_dot * a
        ...
        return f, f_dot

`v_dot` is the tangent of `v`: the derivative of v along the direction the caller
passes as x_dot. Loops, branches and element writes keep their shape, with the
tangent lines inside; nothing is stored, since a tangent is computed where its
value is. A rule's tangent comes, in this order, from its `@tangent` template,
from its partials (v_dot = sum of partial * x_dot), or from its linearity (the
function applied to the tangents: np.sum(x_dot), a_dot @ b + a @ b_dot).
"""
from __future__ import annotations

import copy
import operator
from typing import Any, Dict, FrozenSet, List, Optional, Sequence

import gast

from . import implicit, rules
from .aliasing import view_sources
from .analysis import Analysed
from .anno import clone, get_anno, set_anno, walk
from .errors import NoDerivativeRuleError, UnsupportedSyntaxError
from .lower import (TAPE_POP, assign, call, constant, is_local, is_push_statement, is_store, name,
                    op_key, stored_name, walk_statements)
from .reverse import Generated, _is_none, _is_sequence, _shorten, _text, _times, bind_call
from .rules.template import bind_modules, instantiate


def forward(analysed: Analysed) -> Generated:
    """The JVP function: the primal's outputs and their tangents."""
    return _Forward(analysed).run()


class _Forward:
    def __init__(self, analysed: Analysed):
        self.analysed = analysed
        self.lowered = analysed.lowered
        self.namer = clone(self.lowered.namer)
        self.rule_modules: Dict[str, Any] = {}  # modules rule templates read (bind_modules)
        self.companions: Dict[str, str] = {}  # implicit solves' companions (companions.py)
        self.implicit_solves: List[str] = []  # the header's lines for them
        self.tangents: Dict[str, str] = {}
        self.blocks: List[List[gast.stmt]] = [[]]
        self.function_name = f"jvp_{self.lowered.func.name}"
        self.last_comment: Optional[str] = None
        # names whose array is written into (c[i] = e), also through a view of it
        # (d = c[::-1]; d[0] = e): their tangents are too
        self.sharing = analysed.sharing  # (the alias analysis's groups)
        self.written = _written_arrays(self.lowered.body, self.sharing)

    # -- driver -------------------------------------------------------------

    def run(self) -> Generated:
        for param in self.analysed.wrt:
            self.tangent_name(param)
        for param in self.lowered.params:
            if param in self.analysed.active and param not in self.analysed.wrt:
                # a constant argument that a loop rebinds to active values (a seed dy)
                self.emit_tangent(param, None, None)
        self.block(self.lowered.body)
        outputs = self.lowered.output
        several = isinstance(outputs, tuple)
        outputs = list(outputs) if several else [outputs]
        values = [clone(o) for o in outputs]
        derivatives = [self.output_tangent(o) for o in outputs]
        pack = (lambda items: gast.Tuple(elts=items, ctx=gast.Load())) if several \
            else (lambda items: items[0])
        body = self.blocks[0] + [gast.Return(value=gast.Tuple(
            elts=[pack(values), pack(derivatives)], ctx=gast.Load()))]
        func = gast.FunctionDef(name=self.function_name, args=self.signature(), body=body,
                                decorator_list=[], returns=None, type_comment=None,
                                type_params=[])
        namespace = {**(self.lowered.namespace or self.lowered.parsed.namespace),
                     **self.rule_modules}
        return Generated(func, self.header(outputs), self.lowered.func.name, namespace,
                         self.versions(), self.lowered.parsed.global_names,
                         tuple(self.tangents[p] for p in self.analysed.wrt),
                         companions=self.companions)

    def output_tangent(self, output: gast.AST) -> gast.AST:
        tangent = self.tangent_of(output)
        if tangent is not None:
            return tangent
        return call("zeros_like", [clone(output)])

    def signature(self) -> gast.arguments:
        """The primal's parameters, then x_dot for each differentiated x (keyword-only
        when the primal has defaults or keyword-only parameters of its own)."""
        args = clone(self.lowered.func.args)
        tangents = [name(self.tangents[p], gast.Param()) for p in self.analysed.wrt]
        if args.defaults or args.kwonlyargs:
            args.kwonlyargs.extend(tangents)
            args.kw_defaults.extend([None] * len(tangents))
        else:
            args.args.extend(tangents)
        return args

    def header(self, outputs: Sequence[gast.AST]) -> List[str]:
        parsed = self.lowered.parsed
        shown = ", ".join(o.id if isinstance(o, gast.Name) else "(constant)" for o in outputs)
        carried = [f"{p} -> {self.tangents[p]}" for p in self.analysed.wrt]
        return [
            f"Forward-mode derivative (JVP) of {parsed.name} ({parsed.filename}:"
            f"{parsed.func.lineno}), generated by s2sad.",
            f"  output:        {shown} (returned with its tangent)",
            f"  differentiate: {', '.join(carried)}",
            f"  active:        {', '.join(self.active_in_order()) or '(none)'}",
        ] + [f"  implicit:      {line}" for line in self.implicit_solves]

    def active_in_order(self) -> List[str]:
        order = list(self.lowered.params) + [stored_name(s) for s in
                                             walk_statements(self.lowered.body)]
        seen: List[str] = []
        for n in order:
            if n and n in self.analysed.active and n not in seen:
                seen.append(n)
        return seen

    def versions(self) -> Dict[str, str]:
        """x_1 -> x for primal versions, then x_1_dot -> x_dot for their tangents."""
        versions = dict(self.lowered.versions)
        for version, base in self.lowered.versions.items():
            if version in self.tangents and base in self.tangents:
                versions[self.tangents[version]] = self.tangents[base]
        return versions

    # -- statements ------------------------------------------------------------

    def block(self, stmts: Sequence[gast.stmt]) -> None:
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                self.emit(gast.If(test=clone(stmt.test),
                                  body=self.nested(stmt.body), orelse=self.nested(stmt.orelse)))
            elif isinstance(stmt, gast.For):
                loop = gast.For(target=clone(stmt.target),
                                iter=clone(stmt.iter), body=[], orelse=[],
                                type_comment=None)
                self.emit(loop, stmt)  # commented before its body is
                loop.body = self.nested(stmt.body)
            elif isinstance(stmt, gast.While):
                loop = gast.While(test=clone(stmt.test), body=[], orelse=[])
                self.emit(loop, stmt)
                loop.body = self.nested(stmt.body)
            elif isinstance(stmt, (gast.Break, gast.Continue, gast.Pass)):
                self.emit(type(stmt)())
            elif is_push_statement(stmt):
                self.push(stmt)
            elif isinstance(stmt, gast.Expr):  # a check (require_shapes) of re-read code
                self.emit(clone(stmt), stmt)
            elif is_store(stmt):
                self.store(stmt)
            elif isinstance(stmt, gast.AugAssign):
                self.augmented(stmt)
            else:
                self.assign(stmt)

    def nested(self, stmts: Sequence[gast.stmt]) -> List[gast.stmt]:
        self.blocks.append([])
        self.block(stmts)
        body = self.blocks.pop()
        return body or [gast.Pass()]

    def emit(self, stmt: gast.stmt, origin: Optional[gast.stmt] = None) -> None:
        if origin is not None:
            self.comment(stmt, origin)
        self.blocks[-1].append(stmt)

    def comment(self, stmt: gast.stmt, origin: gast.stmt) -> None:
        found = get_anno(origin, "origin")
        if not found:
            return
        line, text = found
        comment = f"line {line}: {_shorten(text)}"
        if comment != self.last_comment:
            set_anno(stmt, "comment", comment)
            self.last_comment = comment

    def assign(self, stmt: gast.Assign) -> None:
        self.bind(stmt)
        target = stmt.targets[0].id
        if target in self.analysed.float_arrays and op_key(stmt.value) is not TAPE_POP:
            # its elements get values that depend on the inputs: an integer array
            # would truncate them (reverse mode checks the same)
            location = get_anno(stmt, "location")
            self.emit(gast.Expr(value=call("require_float", [
                name(target), constant(location.line), constant(location.col)])))

    def bind(self, stmt: gast.Assign) -> None:
        target = stmt.targets[0].id
        value = stmt.value
        if op_key(value) is TAPE_POP:
            self.pop(stmt)
            return
        if target not in self.analysed.active:
            self.emit(clone(stmt), stmt)
            return
        if isinstance(value, gast.List) and not value.elts:  # tape = []
            self.emit(clone(stmt), stmt)
            self.emit(assign(self.tangent_name(target), gast.List(elts=[], ctx=gast.Load())))
            return
        if target in set(n.id for n in walk(value) if isinstance(n, gast.Name)):
            # p = p * x + c[i] in a loop: the tangent reads the old p, so the new value
            # is computed aside first
            held = self.namer.temp()
            self.emit(assign(held, clone(value)), stmt)
            tangent = self.tangent_expression(value, name(held), stmt)
            self.emit_tangent(target, tangent, stmt)
            self.emit(assign(target, name(held)))
            return
        self.emit(clone(stmt), stmt)
        tangent = self.tangent_expression(value, name(target), stmt)
        self.emit_tangent(target, tangent, stmt)

    # -- the tape of generated code read back: tangents ride on a tape of their own ----

    def push(self, stmt: gast.Expr) -> None:
        """tape.append(v) -> also tape_dot.append(v_dot): the two stay in step."""
        self.emit(clone(stmt), stmt)
        tape = stmt.value.func.value.id
        if tape not in self.analysed.active:
            return
        value = stmt.value.args[0]
        tangent = self.tangent_of(value) or self.zero_like(value)
        self.emit(gast.Expr(value=call(f"{self.tangent_name(tape)}.append", [tangent])))

    def pop(self, stmt: gast.Assign) -> None:
        """v = tape.pop() -> v_dot = tape_dot.pop() (popped and dropped where v is constant)."""
        self.emit(clone(stmt), stmt)
        tape = stmt.value.func.value.id
        if tape not in self.analysed.active:
            return
        popped = call(f"{self.tangent_name(tape)}.pop", [])
        target = stmt.targets[0].id
        if target in self.analysed.active:
            self.emit(assign(self.tangent_name(target), popped))
        else:
            self.emit(gast.Expr(value=popped))

    def emit_tangent(self, target: str, tangent: Optional[gast.AST], stmt) -> None:
        dot = self.tangent_name(target)
        if tangent is None:  # an active name bound to a constant (c = np.zeros(n))
            # (a 0-d array written into, dz[()] += e, needs an array tangent too)
            scalar = self.analysed.class_of(name(target)) == "scalar" and \
                target not in self.written
            tangent = constant(0.0) if scalar else call("zeros_like", [name(target)])
        elif stmt is not None and self.shares_written(target, tangent, stmt.value):
            tangent = call("np.copy", [tangent])
        self.emit(assign(dot, tangent))

    def shares_written(self, target: str, tangent: gast.AST, value: gast.AST) -> bool:
        """A tangent never shares an array with another tangent that one of the two
        writes into: c = a * 1.0 gives c_dot = a_dot, and c[0] = 2.0 would then zero
        a_dot[0] as well (the primal's c is a new array). Arithmetic and copies make a
        new array; a name, an element, a view or a rule's call may hand back its
        operand. Where the primal value itself may share its operand's array (a view,
        the same object), the tangent mirrors it, and the primal's alias analysis has
        refused every write another name would see."""
        if isinstance(tangent, (gast.BinOp, gast.UnaryOp, gast.Constant)) or \
                _makes_new(tangent) or not isinstance(value, gast.Name) and \
                view_sources(value):
            return False
        if self.analysed.class_of(name(target)) == "scalar" or \
                target in self.analysed.sequences:
            return False  # a number is never written into, nor a list of pieces (np.copy
            # of unequal pieces fails; a piece taken out and written is copied there)
        if target in self.written:
            return True  # (then an array: np.copy keeps it one)
        while isinstance(tangent, gast.Call) and _is_call_to(tangent, "broadcast_like"):
            tangent = tangent.args[0]  # (may hand back its first argument)
        if not isinstance(tangent, (gast.Name, gast.Subscript)):
            return False  # arithmetic, or a rule's result (unconcatenate's pieces)
        bases = {primal for primal, dot in self.tangents.items()
                 if _mentions([tangent], dot)}
        return bool(bases & self.written)

    def augmented(self, stmt: gast.AugAssign) -> None:
        """v += e on a name: v_dot = v_dot + e_dot (never in place: v_dot may be the
        caller's tangent)."""
        target = stmt.target.id
        self.emit(clone(stmt), stmt)
        if target not in self.analysed.active:
            return
        increment = self.tangent_of(stmt.value)
        if increment is None:
            return
        dot = self.tangent_name(target)
        self.emit(assign(dot, gast.BinOp(left=name(dot), op=copy.copy(stmt.op),
                                         right=increment)))

    def store(self, stmt: gast.stmt) -> None:
        """c[i] = e -> c_dot[i] = e_dot (0.0 where e is constant); c[i] += e likewise.
        e may be an operation (c[i] = a[i] * b[i]); its tangent may need its value."""
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        base = target.value.id
        if base not in self.analysed.active:
            self.emit(clone(stmt), stmt)
            return
        value = stmt.value
        if op_key(value) is None:
            self.emit(clone(stmt), stmt)
            tangent = self.tangent_of(value)
        else:
            placeholder = name("__s2sad_value__")
            self.blocks.append([])
            tangent = self.tangent_expression(value, placeholder, stmt)
            setup = self.blocks.pop()
            reads_written = any(_mentions(setup + [tangent], n)
                                for n in self.sharing.get(base, {base}))
            if _mentions(setup + [tangent], placeholder.id):
                held = self.namer.temp()  # the tangent reads the value: compute it aside
                self.emit(assign(held, clone(value)), stmt)
                primal = clone(stmt)
                primal.value = name(held)
                _rename(setup + [tangent], placeholder.id, held)
            else:
                primal = clone(stmt)
            if reads_written:
                # c[1:] = a * x with a = c[:-1]: the tangent reads an operand the write
                # changes, so it is computed before the write
                for line in setup:
                    self.emit(line, stmt)
                setup = []
                if tangent is not None:
                    computed = self.namer.temp()
                    self.emit(assign(computed, tangent), stmt)
                    tangent = name(computed)
            self.emit(primal, stmt)
            for line in setup:
                self.emit(line)
        element = gast.Subscript(value=name(self.tangent_name(base)),
                                 slice=clone(target.slice), ctx=gast.Store())
        if isinstance(stmt, gast.Assign):
            self.emit(gast.Assign(targets=[element], value=tangent or constant(0.0),
                                  type_comment=None))
        elif tangent is not None:
            update = gast.AugAssign(target=element, op=copy.copy(stmt.op), value=tangent)
            if get_anno(stmt, "scatter"):
                set_anno(update, "scatter", True)  # np.add.at(c_dot, index, e_dot)
            self.emit(update)

    # -- tangents of values ---------------------------------------------------------

    def tangent_name(self, v: str) -> str:
        existing = self.tangents.get(v)
        if existing is None:
            existing = self.namer.tangent(v)
            self.tangents[v] = existing
        return existing

    def tangent_of(self, atom: gast.AST) -> Optional[gast.AST]:
        """x_dot for an active name, x_dot[i] for an element read in place; None for
        constants and inactive values (their tangent is zero)."""
        if isinstance(atom, gast.Subscript):
            base = self.tangent_of(atom.value)
            if base is None:
                return None
            return gast.Subscript(value=base, slice=clone(atom.slice), ctx=gast.Load())
        if is_local(atom) and atom.id in self.analysed.active:
            return name(self.tangent_name(atom.id))
        return None

    def tangent_expression(self, value: gast.AST, y: gast.AST, stmt) -> Optional[gast.AST]:
        key = op_key(value)
        if key is None:
            return self.tangent_of(value)
        if key is tuple:
            raise UnsupportedSyntaxError(
                "a tuple or list of values that depend on the inputs is not supported "
                "here", get_anno(stmt, "location"),
                hint="keep the values in separate names, or join them into one array "
                     "(np.array([...]), np.stack, np.concatenate)")
        if not rules.is_differentiable(key):
            return None
        if key is operator.getitem:
            base = self.tangent_of(value.value)
            if base is None:
                return None
            return gast.Subscript(value=base, slice=clone(value.slice),
                                  ctx=gast.Load())
        location = get_anno(value, "location") or get_anno(stmt, "location")
        if key in implicit.SOLVERS:
            return self.implicit_tangent(implicit.solve_of(value, location), value, y)
        custom = rules.lookup_tangent(key)
        if custom is not None:  # a tangent rule, with or without an adjoint beside it
            return self.from_tangent_template(custom, value, y, location)
        rule = rules.lookup(key)
        if rule is None:
            raise rules.missing_rule_error(
                key, location, self.lowered.namespace or self.lowered.parsed.namespace,
                arity=len(value.args) if isinstance(value, gast.Call) else None)
        bound = bind_call(rule.params, rule.template.defaults, value, rule.label, location,
                          rule.template.varargs)
        if rule.kind == "partials":
            return self.from_partials(rule, bound, y)
        if rule.linear or rule.multilinear:
            return self.from_linearity(rule, bound, value)
        raise NoDerivativeRuleError(
            f"no tangent (forward-mode) rule for {rule.label}", location,
            hint=f"register one:\n    @s2sad.tangent({rule.label})\n"
                 f"    def {getattr(key, '__name__', 'f')}_tangent(y, x, x_dot):\n"
                 "        return ...  # the output's tangent, given x's")

    def from_partials(self, rule: rules.Rule, bound: Dict[str, gast.AST],
                      y: gast.AST) -> Optional[gast.AST]:
        """y_dot = sum of partial_i * x_i_dot over the active operands."""
        self.refuse_sequences(rule, bound)
        active = {p: self.tangent_of(a) for p, a in bound.items()}
        if not any(t is not None for t in active.values()):
            return None
        ranks = self.analysed.known_ranks({"y": y, **bound}) \
            if rule.template.uses_ranks else None
        statements, returned = instantiate(rule.template, {"y": y, **bound,
                                           **self.template_modules(rule.template)},
                                           self.namer_temp, ranks=ranks)
        for statement in statements:
            self.emit(statement)
        partials = returned.elts if isinstance(returned, gast.Tuple) else [returned]
        total = None
        full = False
        for param, partial in zip(rule.params, partials):
            tangent = active.get(param)
            if tangent is None or _is_none(partial):
                continue
            term = _times(tangent, partial)
            full |= self.analysed.same_shape(bound[param], y)
            total = term if total is None else gast.BinOp(left=total, op=gast.Add(),
                                                          right=term)
        if total is not None and rule.elementwise and not full:
            total = call("broadcast_like", [total, clone(y)])
        return total

    def from_linearity(self, rule: rules.Rule, bound: Dict[str, gast.AST],
                       value: gast.AST) -> Optional[gast.AST]:
        """Linear in `rule.linear` jointly: f with those arguments replaced by their
        tangents (zeros where constant). Multilinear in `rule.multilinear`: the sum,
        over each active one, of f with that argument replaced by its tangent."""
        if rule.linear:
            tangents = {p: self.argument_tangent(bound[p]) for p in rule.linear
                        if p in bound}
            if all(t is None for t in tangents.values()):
                return None
            replaced = {p: t if t is not None else self.zero_like(bound[p])
                        for p, t in tangents.items()}
            return _replace_arguments(value, bound, replaced)
        total = None
        for param in rule.multilinear:
            # multilinear in a *args parameter (np.einsum's operands): in each element
            slots = bound[param].elts if param == rule.template.varargs and param in bound \
                else [bound.get(param)]
            for slot in slots:
                tangent = self.argument_tangent(slot)
                if tangent is None:
                    continue
                term = _replace_arguments(value, {param: slot}, {param: tangent})
                total = term if total is None else gast.BinOp(left=total, op=gast.Add(),
                                                              right=term)
        return total

    def argument_tangent(self, argument: Optional[gast.AST]) -> Optional[gast.AST]:
        """The tangent of an argument; a list's is the list of its elements' tangents."""
        if argument is None:
            return None
        if _is_sequence(argument):
            elements = [self.argument_tangent(e) for e in argument.elts]
            if all(e is None for e in elements):
                return None
            return type(argument)(elts=[t if t is not None else self.zero_like(e)
                                        for t, e in zip(elements, argument.elts)],
                                  ctx=gast.Load())
        return self.tangent_of(argument)

    def zero_like(self, argument: gast.AST) -> gast.AST:
        if isinstance(argument, gast.Constant):
            return constant(0.0)
        if self.analysed.class_of(argument) == "scalar":
            return constant(0.0)
        return call("zeros_like", [clone(argument)])

    def from_tangent_template(self, rule: rules.Rule, value: gast.AST, y: gast.AST,
                              location) -> Optional[gast.AST]:
        primal, dots = rules.tangent_split(rule.template)
        bound = bind_call(primal, rule.template.defaults, value, rule.label, location,
                          rule.template.varargs)
        carried = {p: self.argument_tangent(bound.get(p)) for p in primal}
        for param, argument in bound.items():
            if f"{param}_dot" not in dots and carried.get(param) is not None:
                raise NoDerivativeRuleError(
                    f"the tangent rule for {rule.label} treats {param!r} as a constant, "
                    f"but here it depends on the inputs", location,
                    hint=f"add a {param}_dot parameter to the tangent rule")
        if all(carried.get(d[:-len("_dot")]) is None for d in dots):
            return None
        bindings = {"y": y, **bound}
        for dot in dots:
            tangent = carried.get(dot[:-len("_dot")])
            bindings[dot] = tangent if tangent is not None else \
                self.zero_like(bound[dot[:-len("_dot")]])
        ranks = self.analysed.known_ranks(bindings) if rule.template.uses_ranks else None
        statements, returned = instantiate(rule.template, {
            **bindings, **self.template_modules(rule.template)}, self.namer_temp,
            ranks=ranks)
        for statement in statements:
            self.emit(statement)
        return returned

    def implicit_tangent(self, solve: "implicit.Solve", value: gast.Call,
                         y: gast.AST) -> Optional[gast.AST]:
        """x = fixed_point(g, x0, *θ) (or a root): x_dot from seed 002's tangent
        equation, (I - ∂g/∂x) x_dot = ∂g/∂θ θ_dot, solved by a companion; x0 has no
        tangent (the solution does not depend on where the iteration starts)."""
        x0, params = value.args[1], value.args[2:]
        dots = {k: self.tangent_of(p) for k, p in enumerate(params)}
        active = tuple(k for k, d in dots.items() if d is not None)
        if not active:
            return None
        ranks = self.analysed.known_ranks({"x0": x0, **{f"p{k}": p for k, p in
                                                        enumerate(params)}})
        ranks = (ranks.get("x0"), *(ranks.get(f"p{k}") for k in range(len(params))))
        companion = solve.companion("forward", active, None if all(r is None for r in ranks) else ranks,
                                    (_text(y), [_text(p) for p in params]))
        alias = next((a for a, f in self.rule_modules.items() if f is companion.function),
                     None)
        if alias is None:
            alias = self.namer.named(companion.name)
            self.rule_modules[alias] = companion.function
            self.companions[alias] = companion.source
            self.implicit_solves.append(
                f"{_text(y)} = {solve.kind}({implicit._name(solve.function)}, ...): "
                f"tangents by {alias} (below)")
        return gast.Call(func=name(alias), args=[clone(y)] + [clone(p) for p in params] +
                         [dots[k] for k in active], keywords=[])

    def refuse_sequences(self, rule: rules.Rule, bound: Dict[str, gast.AST]) -> None:
        for argument in bound.values():
            if _is_sequence(argument) and any(self.tangent_of(e) is not None
                                              for e in argument.elts):
                raise UnsupportedSyntaxError(
                    f"a tuple or list of values that depend on the inputs, passed to "
                    f"{rule.label}, is not supported", get_anno(argument, "location"),
                    hint="pass each array on its own, or stack them first (np.stack)")

    def namer_temp(self, local: str) -> str:
        return self.namer.temp()

    def template_modules(self, template) -> Dict[str, gast.AST]:
        return bind_modules(template, self.lowered.namespace or self.lowered.parsed.namespace,
                            self.rule_modules, self.namer)


def _written_arrays(body: Sequence[gast.stmt], sharing: Dict[str, FrozenSet[str]]) -> set:
    """The names whose arrays an element write may change: the array written, and
    every name that may share its array (a view of it, or one it is a view of, along
    chains of any length: v = c[:] sees c[0] = e)."""
    written = {stored_name(s) for s in walk_statements(body) if is_store(s)}
    return written.union(*(sharing.get(n, ()) for n in written))


def _is_call_to(node: gast.Call, function: str) -> bool:
    return isinstance(node.func, gast.Name) and node.func.id == function


def _makes_new(node: gast.AST) -> bool:
    """np.copy(t), np.array(t), t.copy(), zeros_like(y): an array of its own."""
    if not isinstance(node, gast.Call):
        return False
    func = node.func
    if isinstance(func, gast.Attribute) and func.attr == "copy" and not node.args:
        return True  # t.copy()
    dotted = func.id if isinstance(func, gast.Name) else \
        f"{func.value.id}.{func.attr}" if isinstance(func, gast.Attribute) and \
        isinstance(func.value, gast.Name) else ""
    return dotted in _NEW_ARRAYS


_NEW_ARRAYS = {"np.copy", "np.array", "np.zeros_like", "np.ones_like", "zeros_like",
               "np.zeros", "np.ones"}


def _mentions(nodes, identifier: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == identifier
               for node in nodes if node is not None for n in walk(node))


def _rename(nodes, old: str, new: str) -> None:
    for node in nodes:
        if node is None:
            continue
        for n in walk(node):
            if isinstance(n, gast.Name) and n.id == old:
                n.id = new


def _replace_arguments(value: gast.AST, bound: Dict[str, gast.AST],
                       replaced: Dict[str, gast.AST]) -> gast.AST:
    """The operation `value` with the arguments bound to some parameters replaced."""
    by_node = {id(bound[p]): t for p, t in replaced.items() if p in bound}
    swap = (lambda node: clone(by_node[id(node)]) if id(node) in by_node
            else clone(node))
    if isinstance(value, gast.Call):
        return gast.Call(func=clone(value.func), args=[swap(a) for a in value.args],
                         keywords=[gast.keyword(arg=k.arg, value=swap(k.value))
                                   for k in value.keywords])
    if isinstance(value, gast.BinOp):
        return gast.BinOp(left=swap(value.left), op=copy.copy(value.op),
                          right=swap(value.right))
    if isinstance(value, gast.UnaryOp):
        return gast.UnaryOp(op=copy.copy(value.op), operand=swap(value.operand))
    raise AssertionError(f"no linear form for {type(value).__name__}")
