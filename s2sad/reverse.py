"""Reverse mode: the forward sweep (the primal) followed by the adjoint sweep.

Input: `Analysed`. Output: `Generated`, a function

    def grad_f(<f's parameters>, df=1.0):
        <lowered primal statements>
        # adjoint of line N: <the user's line>
        <adjoint statements, last primal statement first>
        return dx            (a tuple for several differentiated inputs)

Every active name `v` gets one adjoint `dv`. A rule's contribution to `dv` is
assigned when it is the first and added otherwise (`dv = dv + e`; the optimizer
turns that into `dv += e` where no other name can see the array). Reading `a[i]`
contributes `da[i] += dy` into a zero array, or `np.add.at` when the index may
repeat. Straight-line code keeps every primal value in its own SSA name, so the
adjoint needs no tape.
"""
from __future__ import annotations

import copy
import inspect
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import gast

from . import rules
from .analysis import Analysed
from .anno import get_anno, set_anno
from .errors import NoDerivativeRuleError, NonScalarOutputError, UnsupportedSyntaxError
from .lower import assign, constant, is_local, name, op_key, op_operands
from .rules.template import instantiate


@dataclass
class Generated:
    """A generated derivative function and what its module must provide."""

    func: gast.FunctionDef
    header: List[str]
    source_name: str
    namespace: Dict[str, Any] = field(default_factory=dict)
    # x_1 -> x for primal versions, then dx_1 -> dx for their adjoints, in that order
    versions: Dict[str, str] = field(default_factory=dict)
    global_names: frozenset = frozenset()  # read again from the module at each call


def reverse(analysed: Analysed, with_value: bool = False) -> Generated:
    """The gradient function; `with_value` also returns the output (value_and_grad)."""
    return _Reverse(analysed, with_value).run()


def _output_location(analysed: Analysed):
    func = analysed.lowered.parsed.func
    return analysed.lowered.parsed.locate(func.body[-1].value)


class _Reverse:
    def __init__(self, analysed: Analysed, with_value: bool):
        self.analysed = analysed
        self.lowered = analysed.lowered
        self.namer = copy.deepcopy(self.lowered.namer)
        self.adjoints: Dict[str, str] = {}
        self.sweep: List[gast.stmt] = []
        self.pending_comment: Optional[str] = None
        self.comment_next: Optional[str] = None
        self.owned: set = set()  # adjoints holding an array no other name can see
        self.with_value = with_value
        prefix = "value_and_grad" if with_value else "grad"
        self.function_name = f"{prefix}_{self.lowered.func.name}"

    # -- driver -------------------------------------------------------------

    def run(self) -> Generated:
        output = self.lowered.output
        if isinstance(output, tuple):
            raise NonScalarOutputError(
                f"grad needs a scalar output, but {self.lowered.func.name} returns a "
                f"tuple of {len(output)} values", _output_location(self.analysed),
                hint="return one scalar (e.g. a sum of the parts), or use "
                     "s2sad.jacobian for several outputs")
        seed = self.namer.adjoint(output.id)
        self.adjoints[output.id] = seed
        primal = [copy.deepcopy(s) for s in self.lowered.body]
        for src, dst in zip(self.lowered.body, primal):
            for key in ("origin", "location"):
                set_anno(dst, key, get_anno(src, key))
        if not self.analysed.output_scalar:
            primal.append(gast.Expr(value=_call("require_scalar", [name(output.id)])))
        for stmt in reversed(self.lowered.body):
            self.statement(stmt)
        results = [self.gradient_of(p) for p in self.analysed.wrt]
        value = results[0] if len(results) == 1 else gast.Tuple(elts=results,
                                                                 ctx=gast.Load())
        if self.with_value:
            value = gast.Tuple(elts=[name(output.id), value], ctx=gast.Load())
        body = primal + self.sweep + [gast.Return(value=value)]
        func = gast.FunctionDef(
            name=self.function_name, args=self.signature(seed), body=body,
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        return Generated(func, self.header(seed), self.lowered.func.name,
                         dict(self.lowered.parsed.namespace), self.versions(),
                         self.lowered.parsed.global_names)

    def versions(self) -> Dict[str, str]:
        """x_1 -> x for every version, then dx_1 -> dx for their adjoints."""
        versions = dict(self.lowered.versions)
        for version, base in self.lowered.versions.items():
            if version not in self.adjoints:
                continue
            if base in self.adjoints:
                versions[self.adjoints[version]] = self.adjoints[base]
            elif self.namer.is_free(f"d{base}"):
                versions[self.adjoints[version]] = f"d{base}"
        return versions

    def signature(self, seed: str) -> gast.arguments:
        args = copy.deepcopy(self.lowered.func.args)
        seed_param = name(seed, gast.Param())
        if args.kwonlyargs:
            args.kwonlyargs.append(seed_param)
            args.kw_defaults.append(constant(1.0))
        else:
            args.args.append(seed_param)
            args.defaults.append(constant(1.0))
        return args

    def header(self, seed: str) -> List[str]:
        parsed = self.lowered.parsed
        output = self.lowered.output_name or self.lowered.func.name
        active = sorted(self.analysed.active, key=self._definition_order)
        return [
            f"Reverse-mode gradient of {parsed.name} ({parsed.filename}:"
            f"{parsed.func.lineno}), generated by s2sad.",
            f"  output:        {output} (seed {seed})",
            f"  differentiate: {', '.join(self.analysed.wrt)}",
            f"  active:        {', '.join(active) or '(none)'}",
            "  stored:        nothing (straight-line code keeps every value in a local)",
        ]

    def _definition_order(self, ssa_name: str) -> int:
        if ssa_name in self.lowered.params:
            return self.lowered.params.index(ssa_name) - len(self.lowered.params)
        for index, stmt in enumerate(self.lowered.body):
            if stmt.targets[0].id == ssa_name:
                return index
        return len(self.lowered.body)

    def gradient_of(self, param: str) -> gast.AST:
        if param in self.adjoints:
            return name(self.adjoints[param])
        zero_name = self.namer.adjoint(param)
        self.adjoints[param] = zero_name
        zeros = _call("np.zeros_like", [name(param)])
        self.sweep.append(assign(zero_name, zeros))
        return name(zero_name)

    # -- one primal statement ----------------------------------------------

    def statement(self, stmt: gast.Assign) -> None:
        target = stmt.targets[0].id
        if target not in self.analysed.active or target not in self.adjoints:
            return
        line, text = get_anno(stmt, "origin")
        comment = f"adjoint of line {line}: {_shorten(text)}"
        if comment != self.pending_comment:
            self.pending_comment = comment
            self.comment_next = comment
        else:
            self.comment_next = None
        value = stmt.value
        dy = name(self.adjoints[target])
        key = op_key(value)
        if key is None:
            self.accumulate(value, dy)
        elif key is operator.getitem:
            self.indexed(value, dy)
        elif key is tuple:
            raise UnsupportedSyntaxError(
                "a tuple or list of values that depend on the inputs is not supported "
                "here", get_anno(stmt, "location"),
                hint="build an array with np.array([...]) or np.stack")
        else:
            self.apply_rule(key, value, name(target), dy, stmt)

    def apply_rule(self, key: Any, value: gast.AST, y: gast.Name, dy: gast.Name,
                   stmt: gast.Assign) -> None:
        rule = rules.lookup(key)
        location = get_anno(value, "location") or get_anno(stmt, "location")
        if rule is None:
            raise rules.missing_rule_error(key, location)
        bound = self.bind(rule, value, location)
        active = {p: a for p, a in bound.items() if self.analysed.is_active(a)}
        if rule.kind == "partials":
            statements, returned = instantiate(rule.template, {"y": y, **bound},
                                               self._template_local)
            partials = returned.elts if isinstance(returned, gast.Tuple) else [returned]
            self.emit_all(statements)
            for param, partial in zip(rule.params, partials):
                if param not in active or _is_none(partial):
                    continue
                contribution = _times(dy, partial)
                if rule.elementwise and not self.analysed.same_shape(active[param], y):
                    contribution = _call("unbroadcast", [contribution,
                                                         copy.deepcopy(active[param])])
                self.accumulate(active[param], contribution)
        else:
            keep = tuple(f"d{p}" for p in rule.params)
            statements, _ = instantiate(rule.template, {"dy": dy, "y": y, **bound},
                                        self._template_local, keep=keep)
            for stmt_ in statements:
                target = stmt_.targets[0].id if isinstance(stmt_, gast.Assign) and \
                    isinstance(stmt_.targets[0], gast.Name) else None
                if target in keep:
                    param = rule.params[keep.index(target)]
                    if param in active:
                        self.accumulate(active[param], stmt_.value)
                else:
                    if isinstance(stmt_, gast.Assign):
                        self._share_names_in(stmt_.value)
                    self.emit(stmt_)

    def bind(self, rule: rules.Rule, value: gast.AST, location) -> Dict[str, gast.AST]:
        """Map the template's parameter names to the call's argument atoms."""
        template = rule.template
        params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    default=template.defaults.get(
                                        p, inspect.Parameter.empty))
                  for p in rule.params]
        signature = inspect.Signature(params)
        if isinstance(value, gast.Call):
            args = list(value.args)
            kwargs = {k.arg: k.value for k in value.keywords}
        else:
            args, kwargs = op_operands(value), {}
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise NoDerivativeRuleError(
                f"the derivative rule for {rule.label} does not accept this call ({exc})",
                location,
                hint=f"the rule handles {rule.label}({', '.join(rule.params)}); "
                     "pass only those arguments") from None
        bound.apply_defaults()
        return {p: (v if isinstance(v, gast.AST) else constant(v))
                for p, v in bound.arguments.items()}

    def indexed(self, value: gast.Subscript, dy: gast.Name) -> None:
        """y = a[index]  ->  da[index] += dy  (np.add.at where indices may repeat)."""
        base = value.value
        if not self.analysed.is_active(base):
            return
        adjoint_name = self.adjoint_target(base, zero_init=True)
        index = copy.deepcopy(value.slice)
        if _basic_index(index):
            target = gast.Subscript(value=name(adjoint_name), slice=index,
                                    ctx=gast.Store())
            self.emit(gast.AugAssign(target=target, op=gast.Add(), value=dy))
        else:
            call = _call("np.add.at", [name(adjoint_name), _index_expression(index), dy])
            self.emit(gast.Expr(value=call))

    # -- accumulation -------------------------------------------------------

    def adjoint_target(self, base: gast.Name, zero_init: bool) -> str:
        """The adjoint of `base` as an array only this name holds, to write into."""
        existing = self.adjoints.get(base.id)
        if existing is None:
            existing = self.namer.adjoint(base.id)
            self.adjoints[base.id] = existing
            self.emit(assign(existing, _call("np.zeros_like", [name(base.id)])))
        elif existing not in self.owned:
            self.emit(assign(existing, _call("np.copy", [name(existing)])))
        self.owned.add(existing)
        return existing

    def accumulate(self, arg: gast.AST, contribution: gast.AST) -> None:
        if not self.analysed.is_active(arg):
            return
        self._share_names_in(contribution)
        existing = self.adjoints.get(arg.id)
        if existing is None:
            existing = self.namer.adjoint(arg.id)
            self.adjoints[arg.id] = existing
            self.emit(assign(existing, contribution))
            self.owned.discard(existing)
        else:
            total = gast.BinOp(left=name(existing), op=gast.Add(), right=contribution)
            self.emit(assign(existing, total))
            self.owned.add(existing)  # arithmetic made a new array

    def _share_names_in(self, expression: gast.AST) -> None:
        """A value that is not computed by arithmetic may be the very array it reads."""
        if not isinstance(expression, (gast.BinOp, gast.UnaryOp)):
            for node in gast.walk(expression):
                if isinstance(node, gast.Name):
                    self.owned.discard(node.id)

    def emit(self, stmt: gast.stmt) -> None:
        if self.comment_next:
            set_anno(stmt, "comment", self.comment_next)
            self.comment_next = None
        self.sweep.append(stmt)

    def emit_all(self, statements: Sequence[gast.stmt]) -> None:
        for stmt in statements:
            self.emit(stmt)

    def _template_local(self, local: str) -> str:
        return self.namer.temp()


# -- small AST helpers ----------------------------------------------------------

def _call(dotted: str, args: List[gast.AST]) -> gast.Call:
    parts = dotted.split(".")
    func: gast.AST = name(parts[0])
    for part in parts[1:]:
        func = gast.Attribute(value=func, attr=part, ctx=gast.Load())
    return gast.Call(func=func, args=args, keywords=[])


def _is_none(node: gast.AST) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def _times(dy: gast.AST, partial: gast.AST) -> gast.AST:
    """dy * partial, written as a left-to-right chain: dy * 2 * a, -dy * y / b."""
    negative, factors = _factors(partial)
    result: gast.AST = copy.deepcopy(dy)
    if negative:
        result = gast.UnaryOp(op=gast.USub(), operand=result)
    for op, factor in factors:
        if isinstance(factor, gast.Constant) and factor.value == 1 \
                and not isinstance(factor.value, bool):
            continue
        result = gast.BinOp(left=result, op=op, right=factor)
    return result


def _factors(node: gast.AST) -> Tuple[bool, List[Tuple[gast.operator, gast.AST]]]:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        negative, factors = _factors(node.operand)
        return not negative, factors
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool) and node.value < 0:
        return True, [(gast.Mult(), constant(-node.value))]
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        neg_left, left = _factors(node.left)
        neg_right, right = _factors(node.right)
        return neg_left != neg_right, left + right
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
        negative, left = _factors(node.left)
        return negative, left + [(gast.Div(), node.right)]
    return False, [(gast.Mult(), node)]


def _basic_index(index: gast.AST) -> bool:
    """Constant ints, slices, None and Ellipsis never repeat an element."""
    if isinstance(index, gast.Tuple):
        return all(_basic_index(e) for e in index.elts)
    if isinstance(index, gast.Slice):
        return all(p is None or isinstance(p, gast.Constant)
                   for p in (index.lower, index.upper, index.step))
    return isinstance(index, gast.Constant) and (
        index.value is None or index.value is Ellipsis
        or isinstance(index.value, int) and not isinstance(index.value, bool))


def _index_expression(index: gast.AST) -> gast.AST:
    """An index written as a value (slices as slice(...)), to pass to np.add.at."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else constant(None)
                 for p in (index.lower, index.upper, index.step)]
        return _call("slice", parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_expression(e) for e in index.elts],
                          ctx=gast.Load())
    return index


def _shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
