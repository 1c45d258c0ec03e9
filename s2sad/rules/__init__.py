"""The one registry of derivative rules, keyed by the resolved Python callable.

Operators are keyed by the `operator` module (`a * b` and `operator.mul` share a
rule), so `np.sin`, `numpy.sin` and `from numpy import sin` all reach one entry.
Three kinds of entry:

* `@partials(fn)`: a template `(y, *params)` returning the partial derivative of
  the output with respect to each parameter (a tuple for several, None where
  there is none); the reverse pass writes `dx = dy * partial`. With
  `elementwise=True` the registry adds `unbroadcast` for broadcast operands, so
  no rule can forget it.
* `@adjoint(fn)`: a full template `(dy, y, *params)` whose body assigns
  `d<param>` for each parameter with a gradient. Users register their own rules
  with this decorator (`s2sad.adjoint`). A template may take `*args` (np.einsum's
  operands): they bind as a tuple, and `d<args>` is the adjoint of the one at the
  template's keyword `position`, instantiated once for each element with a gradient.
* `non_differentiable(fn, ...)`: outputs are constants (shape, argmax, floor).

Forward mode reads a second table, TANGENTS: `@tangent(fn)` templates
`(y, *params, *<param>_dot)` returning the output's tangent `y_dot`. Functions with
partials need none (y_dot = sum of partial * x_dot); `linear=` marks adjoint rules
whose tangent is the function itself applied to the tangents.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from ..errors import Location, NoDerivativeRuleError, RuleDefinitionError
from .template import Template, parse_template, renamed

ShapeKind = Union[str, Callable[[Any], str]]


@dataclass
class Rule:
    key: Any
    kind: str                      # "partials" | "adjoint" | "nondiff"
    template: Optional[Template]
    shape: ShapeKind = "other"     # "unary" | "binary" | "scalar" | "other"
    elementwise: bool = False
    linear: Tuple[str, ...] = ()       # linear in these jointly: y_dot = f(x_dot, ...)
    multilinear: Tuple[str, ...] = ()  # linear in each: y_dot = f(a_dot, b) + f(a, b_dot)

    @property
    def label(self) -> str:
        return callable_label(self.key)

    @property
    def params(self) -> List[str]:
        """The primal parameter names the template binds call arguments to."""
        lead = 1 if self.kind == "partials" else 2
        return self.template.params[lead:]


REGISTRY: Dict[Any, Rule] = {}
TANGENTS: Dict[Any, Rule] = {}


def _key(fn: Any) -> Any:
    # a scipy.stats distribution's method (stats.norm.logpdf), or that of the copy a
    # frozen one holds: one key for its class's function, whichever instance it is bound to
    owner = getattr(fn, "__self__", None)
    if owner is not None and \
            (getattr(type(owner), "__module__", None) or "").startswith("scipy.stats."):
        return type(owner), fn.__func__
    return fn


def register(rule: Rule) -> None:
    REGISTRY[_key(rule.key)] = rule


def lookup(fn: Any) -> Optional[Rule]:
    try:
        key = _key(fn)
        rule = REGISTRY.get(key)
    except TypeError:  # unhashable callables have no rule
        return None
    if rule is None and key is not fn:  # (a method of a frozen distribution)
        rule = _frozen_rule(fn)
    return rule


def _frozen_rule(fn: Any) -> Optional[Rule]:
    """PRIOR.logpdf, PRIOR = stats.norm(0.0, 2.0): stats.norm.logpdf's rule, with the
    numbers it was frozen with as the defaults of loc and scale (a call binds x alone)."""
    from ..distributions import frozen_parameters
    found = frozen_parameters(fn)
    base = REGISTRY.get(_key(found[0])) if found is not None else None
    if base is None or base.template is None:
        return None
    template = dataclasses.replace(base.template,
                                   defaults={**base.template.defaults, **found[1]})
    return dataclasses.replace(base, key=fn, template=template)


def has_rule(fn: Any) -> bool:
    return lookup(fn) is not None


def has_forward_rule(fn: Any) -> bool:
    """A rule forward mode can use: a tangent rule, or any rule (partials, linearity)."""
    return lookup_tangent(fn) is not None or lookup(fn) is not None


def is_differentiable(fn: Any) -> bool:
    rule = lookup(fn)
    return rule is None or rule.kind != "nondiff"


def shape_kind(fn: Any, value: Any = None) -> str:
    rule = lookup(fn)
    if rule is None:
        return "other"
    return rule.shape(value) if callable(rule.shape) else rule.shape


# -- decorators --------------------------------------------------------------

def partials(*functions: Any, elementwise: bool = True, shape: ShapeKind = None):
    """Register a template returning the partial derivatives of each function."""
    def decorate(template_fn: Callable) -> Callable:
        template = parse_template(template_fn)
        arity = len(template.params) - 1
        kind = shape or ("unary" if arity == 1 else "binary" if elementwise else "other")
        for fn in functions:
            register(Rule(fn, "partials", template, kind, elementwise and arity > 1))
        return template_fn
    return decorate


def adjoint(*functions: Any, shape: ShapeKind = "other", check: bool = True,
            linear: Union[str, Tuple[str, ...]] = (),
            multilinear: Tuple[str, ...] = (),
            also_named: Optional[Dict[str, str]] = None):
    """Register a full adjoint template `(dy, y, *params)` assigning d<param>.

    `linear` names the parameters the function is linear in jointly (np.reshape in a,
    np.where in x and other), `multilinear` those it is linear in one at a time (@ in
    a and b): forward mode then needs no tangent template. `also_named` maps a
    parameter to the name another version of the library gives it (np.reshape's
    `shape` is `newshape` before NumPy 2.1): the rule takes the installed name."""
    linear = (linear,) if isinstance(linear, str) else tuple(linear)

    def decorate(template_fn: Callable) -> Callable:
        template = parse_template(template_fn)
        for fn in functions:
            names = _installed_names(fn, template.params, also_named or {})
            fitted = renamed(template, names) if names else template
            if check:
                check_template(fn, fitted)
            register(Rule(fn, "adjoint", fitted, shape,
                          linear=tuple(names.get(p, p) for p in linear),
                          multilinear=tuple(names.get(p, p) for p in multilinear)))
        return template_fn
    return decorate


def _installed_names(fn: Any, params: List[str], also_named: Dict[str, str]) -> Dict[str, str]:
    """The renames (template name -> the function's) of parameters the installed
    function calls by their other name."""
    if not also_named:
        return {}
    try:
        known = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {p: other for p, other in also_named.items()
            if p in params and p not in known and other in known}


def non_differentiable(*functions: Any) -> None:
    """Mark functions whose outputs are constants for differentiation (zero derivative)."""
    for fn in functions:
        register(Rule(fn, "nondiff", None, "other"))


def tangent(*functions: Any, check: bool = True):
    """Register a forward-mode template `(y, *params, *<param>_dot)` returning y_dot.

    Only the parameters with a `_dot` partner carry tangents; the others are treated
    as constants (a call whose constant parameter depends on the inputs is refused)."""
    def decorate(template_fn: Callable) -> Callable:
        template = parse_template(template_fn)
        for fn in functions:
            if check:
                check_tangent_template(fn, template)
            TANGENTS[_key(fn)] = Rule(fn, "tangent", template, "other")
        return template_fn
    return decorate


def lookup_tangent(fn: Any) -> Optional[Rule]:
    try:
        return TANGENTS.get(_key(fn))
    except TypeError:
        return None


def tangent_split(template: Template):
    """(primal parameter names, their tangent parameter names) of a tangent template."""
    params = template.params[1:]
    primal = [p for p in params if not p.endswith("_dot")]
    tangents = [p for p in params if p.endswith("_dot")]
    return primal, tangents


def check_tangent_template(fn: Any, template: Template) -> None:
    """(y, the function's own parameters, <param>_dot for those with tangents)."""
    params = template.params
    if not params or params[0] != "y":
        raise RuleDefinitionError(
            f"tangent template {template.name} must start with the parameter y",
            hint="write def my_tangent(y, x, x_dot): return x_dot * ...")
    primal, tangents = tangent_split(template)
    orphans = [t for t in tangents if t[:-len("_dot")] not in primal]
    if not tangents or orphans:
        raise RuleDefinitionError(
            f"tangent template {template.name} needs a <param>_dot parameter for "
            f"parameters among {primal}" + (f", not {orphans}" if orphans else ""),
            hint="after y and the primal parameters, add x_dot for each x with a tangent")
    if not any(isinstance(stmt, _return_type()) for stmt in template.node.body):
        raise RuleDefinitionError(f"tangent template {template.name} returns nothing",
                                  hint="return the tangent of the output")
    _check_parameter_names(fn, template.name, primal)


def _return_type():
    import gast
    return gast.Return


def check_template(fn: Any, template: Template) -> None:
    """A template's placeholders must be (dy, y) and parameters `fn` really has."""
    params = template.params
    if len(params) < 2 or params[0] != "dy" or params[1] != "y":
        raise RuleDefinitionError(
            f"adjoint template {template.name} must start with the parameters (dy, y)",
            hint="write def my_adjoint(dy, y, x): dx = ...; return dx")
    assigned = {n.id for stmt in template.node.body for n in _walk_names(stmt)}
    if not any(f"d{p}" in assigned for p in params[2:]):
        raise RuleDefinitionError(
            f"adjoint template {template.name} assigns no d<param> for any of "
            f"{params[2:]}", hint="assign dx for each parameter x that has a gradient")
    _check_parameter_names(fn, template.name, params[2:])


def _check_parameter_names(fn: Any, template_name: str, names: List[str],
                           signature: Optional[inspect.Signature] = None) -> None:
    """A template binds call arguments by the function's own parameter names."""
    if signature is None:
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            return  # ufuncs and builtins: nothing to compare with
    known = list(signature.parameters)
    has_var = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                  for p in signature.parameters.values())
    unknown = [p for p in names if p not in known]
    if unknown and not has_var:
        raise RuleDefinitionError(
            f"template {template_name} names parameters {unknown} that "
            f"{callable_label(fn)}{signature} does not have",
            hint="use the function's own parameter names")


def _walk_names(stmt):
    import gast
    for node in gast.walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            yield node


# -- diagnostics --------------------------------------------------------------

def callable_label(fn: Any) -> str:
    owner = distribution_label(getattr(fn, "__self__", None))
    if owner is not None:  # (a bound method of a distribution: scipy.stats.norm.logpdf)
        return f"{owner}.{fn.__name__}"
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    if not module.startswith("numpy") and (type(fn).__name__ == "ufunc" or "._" in module):
        # SciPy's (scipy.special.expit; scipy.special.logsumexp, defined in a private
        # scipy.special._logsumexp), a user's
        from ..callables import qualified_name
        found = qualified_name(fn)
        if found is not None and not found.startswith("numpy."):
            return found
    if module.startswith("numpy") or type(fn).__name__ == "ufunc":
        prefix = "np.linalg." if "linalg" in module else "np."
        return prefix + getattr(fn, "__name__", name)
    if module in ("math", "builtins", "_operator", "operator"):
        return name if module == "builtins" else f"{module.lstrip('_')}.{name}"
    return f"{module}.{name}" if module else name


def distribution_label(value: Any) -> Optional[str]:
    """scipy.stats.norm for the distribution stats.norm, scipy.stats.norm(...) for one
    frozen with its parameters; None for anything but a scipy.stats distribution."""
    if not (getattr(type(value), "__module__", None) or "").startswith("scipy.stats."):
        return None
    frozen = getattr(value, "dist", getattr(value, "_dist", None))  # (a copy of it)
    kind = type(value if frozen is None else frozen)
    name = next((n for n, v in vars(sys.modules["scipy.stats"]).items()
                 if type(v) is kind), None)
    if name is None:
        return None
    return f"scipy.stats.{name}" + ("" if frozen is None else "(...)")


def spelled_name(fn: Any, location: Optional[Location], namespace: Dict[str, Any]) -> Optional[str]:
    """The dotted name the user's call spells `fn` with at `location` (`special.expit`,
    `sp.expit`, `expit`), where it names `fn` in the function's globals `namespace`."""
    if location is None or not location.source_line:
        return None
    found = re.match(r"[A-Za-z_][\w.]*", location.source_line[location.col:])
    if found is None:
        return None
    first, *rest = found.group(0).rstrip(".").split(".")
    value = namespace.get(first, _UNBOUND)
    for attribute in rest:
        value = getattr(value, attribute, _UNBOUND)
    # (a bound method, stats.norm.ppf, is a new object at each access: equal, not the same)
    same = value is fn or inspect.ismethod(fn) and value == fn
    return found.group(0).rstrip(".") if same else None


_UNBOUND = object()

# Functions left without a rule on purpose: (why, what to write instead), which the
# refusal gives in place of the registration example (np.linalg.eig is complex).
WITHOUT_RULE: Dict[Any, Tuple[str, str]] = {}


def without_rule(fn: Any, why: str, instead: str) -> None:
    """Refuse `fn` with its reason and the alternative, not a registration example."""
    WITHOUT_RULE[fn] = (why, instead)


def missing_rule_error(fn: Any, location: Optional[Location],
                       namespace: Optional[Dict[str, Any]] = None,
                       arity: Optional[int] = None) -> NoDerivativeRuleError:
    """No rule for `fn`: named as the call spells it where that names it in the user's
    module (so the registration example runs as printed), with the nearest rules of
    its own module."""
    label = callable_label(fn)
    if getattr(fn, "__module__", None) == "s2sad.runtime":
        return NoDerivativeRuleError(
            f"the generated code calls {label}, which has no derivative rule yet: this "
            "gradient cannot be differentiated again", location,
            hint="second derivatives through this rule are not supported yet; take "
                 "central differences of the gradient instead")
    if label.startswith("scipy.stats.") and "(...)." in label:
        from ..distributions import frozen_method_error
        return frozen_method_error(fn, label, location)
    short = getattr(fn, "__name__", "op")
    shown = spelled_name(fn, location, namespace or {}) or label
    if not short.isidentifier():  # (a lambda: named as the call spells it)
        short = shown.rpartition(".")[2] if shown.rpartition(".")[2].isidentifier() else "f"
    if getattr(fn, "_s2sad_transform", False):
        return NoDerivativeRuleError(
            f"{shown} is a derivative s2sad made (of {label}); a differentiated function "
            "cannot call one", location,
            hint="differentiate the derivative itself (s2sad.grad(s2sad.grad(f)), "
                 "s2sad.hessian(f)), or write the derivative out as NumPy code")
    why = WITHOUT_RULE.get(fn) if getattr(fn, "__hash__", None) else None
    if why is not None:
        return NoDerivativeRuleError(f"no derivative rule for {shown}: {why[0]}", location,
                                     hint=why[1])
    hint = _nearest_rules(label, shown, short)
    params = _parameter_names(fn, arity)
    lines = [f"        d{x} = dy * ...  # the derivative of the output with respect to {x}"
             for x in params]
    hint += ("if the call's result does not depend on the differentiated inputs, "
             "compute it outside the function; otherwise register a rule:\n"
             f"    @s2sad.adjoint({shown})\n"
             f"    def {short}_adjoint(dy, y, {', '.join(params)}):\n" + "\n".join(lines) +
             f"\n        return {', '.join('d' + x for x in params)}")
    return NoDerivativeRuleError(f"no derivative rule for {shown}", location, hint=hint)


def _parameter_names(fn: Any, arity: Optional[int]) -> List[str]:
    """The names of the parameters a call of `arity` positional arguments binds (its
    first one where the call is not known): a ufunc's x1, x2; past the named ones, or
    with no signature, x, x1, ..."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    count = arity or 1
    if isinstance(fn, np.ufunc):
        count = min(count, fn.nin)
        if len(params) < fn.nin:
            params = []
    names = [p.name for p in params[:count]]
    while len(names) < count:
        names.append("x" if count == 1 else f"x{len(names) + 1}")
    return names


def _nearest_rules(label: str, shown: str, short: str) -> str:
    """`nearest rules: ...; ` among the rules of label's module (scipy.special's for
    scipy.special.ellipe), written with the user's prefix for that module (`sp.`)."""
    known = sorted({rule.label for rule in REGISTRY.values() if rule.kind != "nondiff"})
    module = label[:-len(short)] if label.endswith("." + short) else ""
    if module:
        siblings = [k[len(module):] for k in known if k.startswith(module)
                    and "." not in k[len(module):]]
        near = difflib.get_close_matches(short, siblings, n=3, cutoff=0.6)
        prefix = shown[:-len(short)] if shown.endswith("." + short) else module
        near = [prefix + n for n in near]
    else:
        near = difflib.get_close_matches(label, known, n=3, cutoff=0.6)
    return f"nearest rules: {', '.join(near)}; " if near else ""


def all_rules() -> List[Rule]:
    return list(REGISTRY.values())


def _load_builtin_rules() -> None:
    from . import (elementwise, generated, indexing, linalg, nondiff,  # noqa: F401
                   reductions, scalar, shapes)
    try:  # (SciPy's rules where SciPy is installed; nothing of it imported otherwise)
        import scipy.special  # noqa: F401
    except ImportError:
        return
    from . import scipy_special  # noqa: F401
    for domain in ("scipy_stats", "scipy_linalg", "scipy_signal"):  # (modules of rules in progress)
        if importlib.util.find_spec(f"{__name__}.{domain}") is not None:
            importlib.import_module(f"{__name__}.{domain}")


_load_builtin_rules()
