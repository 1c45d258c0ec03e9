"""scipy.stats distributions frozen with their parameters, read as calls of the
distribution's own methods, which the derivative rules are keyed by:

    model = stats.norm(mu, sigma)     ->  model_loc = mu
                                          model_scale = sigma
    model.logpdf(y)                   ->  stats.norm.logpdf(y, model_loc, model_scale)
    stats.norm(mu, s).cdf(x)          ->  stats.norm.cdf(x, mu, s)

A frozen distribution's logpdf (pdf, cdf, sf, ppf, logpmf...) takes x alone and passes
the parameters it was frozen with after it: the distribution's method takes x, then the
shape parameters, loc and scale (mean and cov for multivariate_normal). The parameters
are bound to names where the distribution is made, so a variable assigned again later
does not change them. A frozen distribution used otherwise (passed on, returned, its
other methods) is refused where it is made, with the call to write instead. One frozen
outside the function with numbers (PRIOR = stats.norm(0.0, 2.0), or self.prior) needs no
rewriting: its method's rule is its distribution's, the numbers as the parameters'
defaults (frozen_parameters, read by rules.lookup).

A list a distribution's method is given (written in the call, a module's list of data, or
what a parameter passes as its data) is read as SciPy reads it, as an array:
np.asarray(HEIGHTS), so the derivative's arithmetic works on it.

Runs on the resolved tree (frontend.resolve_names), before the desugar stage.
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, List, Optional, Set, Tuple

import gast
import numpy as np

from .anno import clone, get_anno, set_anno, walk
from .errors import NoDerivativeRuleError

# the methods of a frozen distribution that take one argument (none: SUMMARIES) and pass
# the parameters on after it
METHODS = frozenset({"logpdf", "pdf", "logcdf", "cdf", "logsf", "sf", "ppf", "isf",
                     "logpmf", "pmf"})
SUMMARIES = frozenset({"entropy", "mean", "median", "var", "std"})


_BASES = frozenset({"rv_generic", "multi_rv_generic", "rv_frozen", "multi_rv_frozen"})


def is_distribution(value: Any) -> bool:
    """A scipy.stats distribution (stats.norm, frozen or not): its methods are library
    functions (stats.norm.logpdf), called like np.sin, with rules keyed by the method.
    (Read from its classes' names: nothing of SciPy is imported.)"""
    kind = type(value)
    return (getattr(kind, "__module__", None) or "").startswith("scipy.stats.") and \
        any(base.__name__ in _BASES for base in kind.__mro__)


def rewrite(parsed: Any) -> None:
    """Rewrite the frozen distributions of `parsed.func` (see the module doc), refusing a
    freezing call that is left; then give the distributions' methods arrays for lists."""
    func = parsed.func
    calls = _calls(func)
    if any(_freezing(call) is not None for call in calls):
        _unfreeze(parsed)
        calls = _calls(func)
    params = {a.id for a in func.args.args + func.args.posonlyargs + func.args.kwonlyargs}
    for call in calls:
        if is_distribution(getattr(get_anno(call.func, "resolved", None), "__self__", None)):
            _lists_as_arrays(call, params)


def _unfreeze(parsed: Any) -> None:
    func = parsed.func
    for call in _calls(func):  # stats.norm(mu, s).logpdf(y)
        if isinstance(call.func, gast.Attribute) and _passes_on(call, call.func.value):
            _call_method(call, call.func.value, call.func.value.args,
                         call.func.value.keywords)
    # (a name the function reads is taken; a global it does not read may be shadowed)
    taken = {n.id for n in walk(func) if isinstance(n, gast.Name)}
    calls = _calls(func)
    for name, made in _named(func, calls).items():
        _bind_parameters(func, name, made, calls, taken)
    for call in _calls(func):
        if _freezing(call) is not None:
            raise _refusal(parsed, call)


def _lists_as_arrays(call: gast.Call, params: Set[str]) -> None:
    """norm.logpdf([0.5, 1.0], mu), of HEIGHTS, a module's list of data, or of the data a
    parameter holds (a list, maybe): SciPy reads a list as an array, and so must the
    derivative's arithmetic (a list minus a number is an error): np.asarray(HEIGHTS)."""
    data = call.args[0] if call.args else None

    def as_array(node: gast.AST) -> gast.AST:
        if not isinstance(node, (gast.List, gast.Tuple)) and \
                not isinstance(get_anno(node, "resolved", None), (list, tuple)) and \
                not (node is data and isinstance(node, gast.Name) and node.id in params):
            return node
        np_name = gast.Name(id="np", ctx=gast.Load(), annotation=None, type_comment=None)
        set_anno(np_name, "resolved", np)
        callee = gast.Attribute(value=np_name, attr="asarray", ctx=gast.Load())
        set_anno(callee, "resolved", np.asarray)
        return gast.copy_location(gast.Call(func=gast.copy_location(callee, node),
                                            args=[node], keywords=[]), node)
    call.args = [as_array(a) for a in call.args]
    for keyword in call.keywords:
        keyword.value = as_array(keyword.value)


def _calls(func: gast.FunctionDef) -> List[gast.Call]:
    return [n for n in walk(func) if isinstance(n, gast.Call)]


def _freezing(node: gast.AST) -> Optional[Any]:
    """The distribution a call freezes (stats.norm(mu, s)), or None."""
    if not isinstance(node, gast.Call):
        return None
    dist = get_anno(node.func, "resolved", None)
    if not is_distribution(dist) or not callable(dist):  # (a frozen one is not callable)
        return None
    if any(isinstance(a, gast.Starred) for a in node.args) or \
            any(k.arg is None for k in node.keywords):
        return None
    return dist


def _passes_on(call: gast.Call, freeze: gast.AST) -> bool:
    """Is `call` <the distribution `freeze` makes>.<method>(x) (or .entropy()), whose
    unfrozen form takes x and then the freezing call's arguments (by their names)?"""
    dist = _freezing(freeze)
    if dist is None or not isinstance(call.func, gast.Attribute) or call.keywords or \
            not hasattr(dist, call.func.attr) or \
            any(isinstance(a, gast.Starred) for a in call.args) or not (
                call.func.attr in METHODS and len(call.args) == 1 or
                call.func.attr in SUMMARIES and not call.args):
        return False
    try:
        params = inspect.signature(getattr(dist, call.func.attr)).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return True  # (rv_continuous.logpdf(x, *args, **kwds))
    names = list(params)[len(call.args):]
    return len(freeze.args) <= len(names) and \
        all(k.arg in names[len(freeze.args):] for k in freeze.keywords)


def _call_method(call: gast.Call, freeze: gast.Call, args: List[gast.AST],
                 keywords: List[gast.keyword]) -> None:
    """call (frozen.method(x)) becomes dist.method(x, *args, **keywords)."""
    dist = get_anno(freeze.func, "resolved")
    method = gast.Attribute(value=clone(freeze.func), attr=call.func.attr, ctx=gast.Load())
    set_anno(method, "resolved", getattr(dist, call.func.attr))
    call.func = gast.copy_location(method, call.func)
    call.args = call.args + args
    call.keywords = keywords


def frozen_parameters(method: Any) -> Optional[Tuple[Any, Dict[str, float]]]:
    """For a method of a distribution frozen with numbers outside the function (a prior,
    PRIOR = stats.norm(0.0, 2.0), or one an object holds): the distribution's own method
    and {parameter: number}, which its rule takes as the parameters' defaults (see
    rules.lookup); None for anything else (arrays, a multivariate one)."""
    frozen = getattr(method, "__self__", None)
    dist = getattr(frozen, "dist", None)
    if not is_distribution(frozen) or not is_distribution(dist) or \
            getattr(method, "__name__", None) not in METHODS:
        return None
    args, kwds = getattr(frozen, "args", ()), getattr(frozen, "kwds", {})
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in list(args) + list(kwds.values())):
        return None
    names = _parameter_names(dist, len(args))
    return getattr(dist, method.__name__), {**{n: float(v) for n, v in zip(names, args)},
                                            **{k: float(v) for k, v in kwds.items()}}


def _named(func: gast.FunctionDef, calls: List[gast.Call]) -> Dict[str, List[gast.Assign]]:
    """name -> the statements `name = stats.norm(...)`, for the names bound only by
    such statements, of one distribution with the same arguments, and read only as
    name.<method>(x)."""
    made: Dict[str, List[gast.Assign]] = {}
    for node in walk(func):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], gast.Name) and _freezing(node.value) is not None:
            made.setdefault(node.targets[0].id, []).append(node)
    read_as_method = {id(c.func.value) for c in calls if isinstance(c.func, gast.Attribute)
                      and isinstance(c.func.value, gast.Name) and c.func.value.id in made
                      and _passes_on(c, made[c.func.value.id][0].value)}
    targets = {id(s.targets[0]) for statements in made.values() for s in statements}
    for node in walk(func):
        if isinstance(node, gast.Name) and node.id in made and \
                id(node) not in (targets if not isinstance(node.ctx, gast.Load)
                                 else read_as_method):
            del made[node.id]
    return {name: statements for name, statements in made.items()
            if len({_form(s.value) for s in statements}) == 1}


def _form(freeze: gast.Call) -> tuple:
    return (id(_freezing(freeze)), len(freeze.args), tuple(k.arg for k in freeze.keywords))


def _bind_parameters(func: gast.FunctionDef, name: str, made: List[gast.Assign],
                     calls: List[gast.Call], taken: Set[str]) -> None:
    """`name = stats.norm(mu, s)` becomes `name_loc = mu; name_scale = s`, and each
    name.logpdf(y) stats.norm.logpdf(y, name_loc, name_scale)."""
    first = made[0].value
    labels = _parameter_names(_freezing(first), len(first.args))
    fresh = [_free(f"{name}_{label}", taken) for label in labels] + \
        [_free(f"{name}_{k.arg}", taken) for k in first.keywords]
    replaced = {}
    for statement in made:
        values = statement.value.args + [k.value for k in statement.value.keywords]
        replaced[id(statement)] = [
            gast.copy_location(gast.Assign(targets=[gast.Name(
                id=target, ctx=gast.Store(), annotation=None, type_comment=None)],
                value=value, type_comment=None), statement)
            for target, value in zip(fresh, values)]
    _replace_statements(func, replaced)
    for call in calls:
        if isinstance(call.func, gast.Attribute) and isinstance(call.func.value, gast.Name) \
                and call.func.value.id == name:
            reads = [gast.copy_location(gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                                  type_comment=None), call) for n in fresh]
            positional = reads[:len(first.args)]
            keywords = [gast.keyword(arg=k.arg, value=r)
                        for k, r in zip(first.keywords, reads[len(first.args):])]
            _call_method(call, first, positional, keywords)


def _parameter_names(dist: Any, count: int) -> List[str]:
    """What the freezing call's positional arguments are: df, loc, scale (mean, cov)."""
    if hasattr(dist, "shapes") and hasattr(dist, "numargs"):  # (rv_continuous, rv_discrete)
        names = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
        names += ["loc", "scale"] if hasattr(dist, "pdf") else ["loc"]
    else:
        try:
            names = [p.name for p in inspect.signature(dist).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            names = []
    return [names[i] if i < len(names) else str(i) for i in range(count)]


def _free(preferred: str, taken: Set[str]) -> str:
    name, counter = preferred, 1
    while name in taken:
        counter += 1
        name = f"{preferred}_{counter}"
    taken.add(name)
    return name


def _replace_statements(tree: gast.AST, replaced: Dict[int, List[gast.stmt]]) -> None:
    for node in walk(tree):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and any(id(s) in replaced for s in statements):
                setattr(node, field, [new for s in statements
                                      for new in replaced.get(id(s), [s])])


def _refusal(parsed: Any, call: gast.Call) -> NoDerivativeRuleError:
    dist = _freezing(call)
    method = "logpdf" if hasattr(dist, "logpdf") else "logpmf"
    spelled = gast.unparse(call.func).strip()
    given = [gast.unparse(a).strip() for a in call.args] + \
        [f"{k.arg}={gast.unparse(k.value).strip()}" for k in call.keywords]
    return NoDerivativeRuleError(
        f"a distribution frozen with its parameters ({spelled}(...)) is supported only "
        "where its methods logpdf, pdf, cdf, sf, ppf (and their kin) are called on it",
        parsed.locate(call),
        hint=f"call the distribution's method with the parameters instead: "
             f"{spelled}.{method}({', '.join(['x'] + given)})")


def frozen_method_error(method: Any, label: str, location: Any) -> NoDerivativeRuleError:
    """No rule for a method of a distribution frozen outside the function: where it was
    frozen with numbers, its distribution's method has no rule; otherwise (arrays, a
    multivariate one) the call to write instead."""
    frozen = method.__self__
    dist = getattr(frozen, "dist", getattr(frozen, "_dist", None))
    base = label.replace("(...)", "")
    if frozen_parameters(method) is not None or method.__name__ not in METHODS:
        return NoDerivativeRuleError(
            f"no derivative rule for {label}: {base} has none", location,
            hint="where the result does not depend on the differentiated inputs, compute "
                 "it outside the function; the methods with rules are logpdf, pdf, cdf, "
                 "sf and their logarithms (logpmf, pmf for counts)")
    names = [n for n in _parameter_names(dist, 8) if not n.isdigit() and
             n not in ("allow_singular", "seed")]
    return NoDerivativeRuleError(
        f"no derivative rule for {label}: the method of a distribution frozen with "
        "parameters other than numbers", location,
        hint="call the distribution's own method with the parameters instead: "
             f"{base}({', '.join(['x'] + names)})")
