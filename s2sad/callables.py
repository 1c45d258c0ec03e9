"""What a transform differentiates: any callable a user passes, as one Python function
whose source s2sad reads, plus the arguments the callable passes to it itself.

* a function, a lambda, a nested `def` or closure, a staticmethod (read through its
  class or an instance it is a plain function): itself;
* a bound method, a classmethod: its function, the instance (the class) passed first;
* an object with `__call__`: its class's `__call__`, the object passed first;
* `functools.partial`: what its function comes to, the partial's arguments passed after
  that function's own bound ones, its keywords as keywords (a call may override them);
* a NumPy, SciPy or `math` function, or a builtin with a derivative rule, which has no
  Python source: a two-line wrapper written as text (`def tanh(x): return np.tanh(x)`),
  registered in linecache under `<s2sad-wrapper of numpy.tanh>`;
* a derivative s2sad made (`grad(grad(f))`): itself, its own bound arguments first.

The transform's code takes the function's full parameter list; a call passes the bound
arguments, then the user's. So `wrt=0` is the first argument the user passes, as in JAX
for a bound method and for functools.partial.
"""
from __future__ import annotations

import functools
import inspect
import linecache
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .errors import SourceUnavailableError


@dataclass(frozen=True)
class Target:
    """A callable as s2sad differentiates it."""

    function: Callable  # a Python function (or a derivative s2sad made) to read
    bound: tuple = ()   # the leading arguments the callable passes itself
    keywords: Dict[str, Any] = field(default_factory=dict)  # a partial's keywords
    name: str = "f"     # for repr and messages: <lambda>, M.loss, numpy.tanh

    def arguments(self, args: tuple, kwargs: dict) -> Tuple[tuple, dict]:
        """A user's call as the function takes it: the bound arguments first; a
        partial's keywords, which the call's own override (as functools.partial's)."""
        if self.keywords:
            kwargs = {**self.keywords, **kwargs}
        return self.bound + args, kwargs

    def visible(self, signature: inspect.Signature) -> inspect.Signature:
        """The function's signature as the user calls the callable (what
        inspect.signature gives for a bound method or a partial): the bound leading
        parameters gone; a parameter a keyword binds, and every positional one after
        it, keyword-only with the bound value as default."""
        params = list(signature.parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
        gone = {p.name for p in positional[:len(self.bound)]}
        result, keyword_only = [], False
        for p in params:
            if p.name in gone:
                continue
            if p.name in self.keywords:
                keyword_only = keyword_only or p.kind is not p.KEYWORD_ONLY
                p = p.replace(default=self.keywords[p.name])
            if keyword_only and p.kind is p.POSITIONAL_OR_KEYWORD:
                p = p.replace(kind=p.KEYWORD_ONLY)
            result.append(p)
        keyword = [p for p in result if p.kind is p.KEYWORD_ONLY]
        return signature.replace(parameters=[p for p in result if p.kind is not
                                             p.KEYWORD_ONLY and p.kind is not p.VAR_KEYWORD]
                                 + keyword + [p for p in result if p.kind is p.VAR_KEYWORD])


def target(fn: Any) -> Target:
    """The function to differentiate for callable `fn`, and what it binds."""
    if getattr(fn, "_s2sad_transform", False):  # a derivative: read back as generated code
        inner = fn._target
        return Target(fn, inner.bound, inner.keywords, inner.name)
    if isinstance(fn, types.FunctionType):  # (M.loss, not test.<locals>.M.loss)
        from .lower import _is_user_function
        if fn.__name__ != "<lambda>" and not _is_user_function(fn):
            library = _library_function(fn)  # (scipy.special.logsumexp: a rule, or none)
            if library is not None:
                return library
        return Target(fn, name=fn.__qualname__.rpartition("<locals>.")[2])
    if isinstance(fn, staticmethod):  # (taken from a class's __dict__)
        return target(fn.__func__)
    if isinstance(fn, classmethod):
        raise SourceUnavailableError(
            f"{_short_repr(fn)} is a classmethod object, not bound to its class",
            hint=f"pass it as its class (or an instance) gives it: "
                 f"{fn.__func__.__qualname__.rpartition('<locals>.')[2]}")
    if isinstance(fn, types.MethodType):
        library = _library_function(fn) if _distribution_method(fn) else None
        if library is not None:  # (stats.norm.logpdf: its rule, not SciPy's Python code)
            return library
        inner = target(fn.__func__)
        return Target(inner.function, (fn.__self__,) + inner.bound, inner.keywords,
                      inner.name)
    if isinstance(fn, functools.partial):
        inner = target(fn.func)
        return Target(inner.function, inner.bound + fn.args,
                      {**inner.keywords, **fn.keywords}, f"partial({inner.name})")
    library = _library_function(fn) if callable(fn) else None
    if library is not None:
        return library
    call = getattr(type(fn), "__call__", None)
    module = (getattr(type(fn), "__module__", None) or "").split(".")[0]
    if module in ("numpy", "scipy") and callable(fn) and not isinstance(fn, type):
        from .errors import NoDerivativeRuleError
        raise NoDerivativeRuleError(
            f"no derivative rule for {module}.{type(fn).__name__} objects "
            f"({_short_repr(fn)})",
            hint="write the function it computes in Python with NumPy operations, or "
                 "register a rule with @s2sad.adjoint for a function that calls it")
    declared = inspect.getattr_static(type(fn), "__call__", None)
    if isinstance(declared, staticmethod) and not isinstance(fn, type):
        return target(declared.__func__)  # (called without the object)
    if isinstance(declared, classmethod) and not isinstance(fn, type):
        inner = target(declared.__func__)
        return Target(inner.function, (type(fn),) + inner.bound, inner.keywords, inner.name)
    if isinstance(call, types.FunctionType) and not isinstance(fn, type):
        inner = target(call)
        return Target(inner.function, (fn,) + inner.bound, inner.keywords, inner.name)
    raise SourceUnavailableError(
        f"{_short_repr(fn)} is not a Python function defined with `def`",
        hint="pass a function written in Python; for a library function register "
             "a rule with @s2sad.adjoint")


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- library functions ---------------------------------------------------------------

def _library_function(fn: Any) -> Optional[Target]:
    """A NumPy, SciPy or math function (or a builtin with a derivative rule) as a
    wrapper written in Python, or None for anything else."""
    from . import rules
    name = qualified_name(fn) or _distribution_method(fn)
    if name is None:
        return None
    differentiable = rules.lookup_tangent(fn) is not None or \
        rules.lookup(fn) is not None and rules.lookup(fn).kind != "nondiff"
    if not differentiable and name.split(".")[0] not in ("numpy", "scipy", "math"):
        return None  # sorted, print, ...: not a function of numbers
    if rules.lookup(fn) is None and rules.lookup_tangent(fn) is None:
        # no rule at all (scipy.integrate.odeint, stats.t.ppf): refused as it is, before
        # a wrapper written from a signature that may not say what a call passes
        raise rules.missing_rule_error(fn, None)
    if name.startswith("builtins."):
        name = name[len("builtins."):]
    wrapper = _WRAPPERS.get(name)
    if wrapper is None or wrapper.__globals__.get(_TARGET) is not fn:
        wrapper = _WRAPPERS[name] = _wrapper(fn, name)
    return Target(wrapper, name=name)


_WRAPPERS: Dict[str, types.FunctionType] = {}
_TARGET = "__s2sad_wraps__"


def differentiates_star_args(fn: Any, wrt: Any) -> bool:
    """A function of the user's taking *args, differentiated in one of them (wrt=2 of
    `def loss(w, *batch)`; a negative wrt counts from the call's last argument, as in
    Python and JAX): written per count of arguments (see ForEachArity)."""
    if not isinstance(fn, types.FunctionType) or isinstance(wrt, (str, bool)):
        return False
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    named = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    return any(isinstance(i, (int, np.integer)) and not isinstance(i, bool) and
               (i >= named or i < 0) for i in items)


def _calling_with(fn: Any, count: int, callee: str, namespace: Dict[str, Any],
                  name: str, label: str) -> types.FunctionType:
    """`def loss(w, batches_0, batches_1, **keywords): return callee(w, batches_0,
    batches_1, **keywords)` for `def loss(w, *batches, scale=1.0)` called with 3
    arguments: the function read for that count, *batches a tuple of named ones (a
    user's function as a helper; a library function by its rule)."""
    params = list(inspect.signature(fn).parameters.values())
    named = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next(p.name for p in params if p.kind is p.VAR_POSITIONAL)
    taken = {p.name for p in params} | {callee.split(".")[0], name}

    def fresh(preferred: str) -> str:
        while preferred in taken:
            preferred += "_"
        taken.add(preferred)
        return preferred

    written = named[:count] + [fresh(f"{varargs}_{k}") for k in range(count - len(named))]
    if any(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params):
        written.append("**" + fresh("keywords"))
    text = f"def {name}({', '.join(written)}):\n" \
           f"    return {callee}({', '.join(written)})\n"
    filename = f"<s2sad-wrapper of {label} with {count} arguments>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), namespace)
    wrapper = namespace.pop(name)
    wrapper.__qualname__ = label
    return wrapper


def _user_function_with(fn: types.FunctionType, count: int) -> types.FunctionType:
    """A user's function taking *args, as _calling_with writes it for `count` arguments."""
    name = fn.__name__ if fn.__name__.isidentifier() else "f"  # (a lambda)
    params = set(inspect.signature(fn).parameters)
    inner = f"{name}_called"
    while inner in params:
        inner += "_"
    namespace = {inner: fn, "__name__": getattr(fn, "__module__", None) or "__main__"}
    return _calling_with(fn, count, inner, namespace, name, fn.__qualname__)


def _library_function_with(fn: Any, count: int) -> types.FunctionType:
    """A NumPy or SciPy function taking *args (np.einsum, np.gradient), as _calling_with
    writes it for `count` arguments."""
    name = qualified_name(fn)
    module, _, short = name.rpartition(".")
    top = module.split(".")[0]
    callee = "np" + name[len("numpy"):] if top == "numpy" else name
    namespace = {"np": np, _TARGET: fn, "__name__": f"s2sad.wrappers.{top}",
                 top: sys.modules[top]}
    return _calling_with(fn, count, callee, namespace, short, name)


def _distribution_method(fn: Any) -> Optional[str]:
    """scipy.stats.norm.logpdf for the bound method stats.norm.logpdf, else None."""
    from . import rules
    owner = rules.distribution_label(getattr(fn, "__self__", None))
    return f"{owner}.{fn.__name__}" if owner is not None and "(" not in owner else None


def takes_operands(fn: Any) -> Optional[str]:
    """The name of the *args of a NumPy or SciPy function with a rule that takes
    arguments that way (np.einsum(*operands), np.atleast_2d(*arys), np.gradient(f,
    *varargs)), else None."""
    from . import rules
    if not callable(fn) or isinstance(fn, (types.FunctionType, type)) and \
            not (getattr(fn, "__module__", None) or "").startswith(("numpy", "scipy")):
        return None
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    varargs = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    if varargs is None or not (rules.has_rule(fn) or rules.lookup_tangent(fn)) or \
            (qualified_name(fn) or "").split(".")[0] not in ("numpy", "scipy"):
        return None
    return varargs


class ForEachArity:
    """A transform of a function taking its arguments as *args (`grad(np.einsum,
    wrt=1)`): for each number of arguments a call passes, the same transform of a
    wrapper taking that many, each by name, so `wrt=1` is the second argument."""

    def __init__(self, make: Callable[[Callable], Any], fn: Any, trailing: int = 0):
        self._make = make
        self._fn = fn
        self._wrap = _library_function_with if takes_operands(fn) else _user_function_with
        self._trailing = trailing  # arguments after the function's own (jvp's tangent)
        self._by_count: Dict[int, Any] = {}
        self._last: Any = None
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        count = max(len(args) - self._trailing, 0)
        transform = self._by_count.get(count)
        if transform is None:
            transform = self._by_count[count] = self._make(self._wrap(self._fn, count))
        self._last = transform
        return transform(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:  # .source, .compiled: the last call's
        if attribute.startswith("_") or self._last is None:
            raise AttributeError(
                f"{attribute}: {getattr(self._fn, '__name__', 'this function')} takes its "
                "arguments as *args, so its code is written for a call's count of "
                "them: call the transform first")
        return getattr(self._last, attribute)


def _wrapper(fn: Any, name: str) -> types.FunctionType:
    """`def tanh(x): return np.tanh(x)` for numpy.tanh, compiled from its text (which
    linecache holds, so the frontend reads it as any function)."""
    written, passed = _parameters(fn, name)
    module, _, short = name.rpartition(".")  # (no module: a builtin)
    top = module.split(".")[0]
    callee = "np" + name[len("numpy"):] if top == "numpy" else name
    if not module:  # (the generated code names the result after the function)
        short = f"builtin_{short}"
    text = f"def {short}({', '.join(written)}):\n    return {callee}({', '.join(passed)})\n"
    filename = f"<s2sad-wrapper of {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"np": np, _TARGET: fn, "__name__": f"s2sad.wrappers.{top or 'builtins'}"}
    if top:
        namespace[top] = sys.modules[top]
    exec(compile(text, filename, "exec"), namespace)
    wrapper = namespace.pop(short)
    wrapper.__qualname__ = name
    return wrapper


def _parameters(fn: Any, name: str) -> Tuple[List[str], List[str]]:
    """The wrapper's parameters and the arguments it passes on: a ufunc's inputs; else
    the required parameters, then the optional ones its derivative rule handles with a
    number, string or None as default (`partial(np.sum, axis=0)`, `ord=` of norm), by
    keyword; past *args or a parameter left out, keyword-only (np.gradient's axis=,
    np.std's ddof= and keepdims=, whose default is NumPy's no-value marker: False)."""
    from . import rules
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = None
    if isinstance(fn, np.ufunc):
        names = [p.name for p in params or ()][:fn.nin]
        if len(names) != fn.nin:
            names = ["x"] if fn.nin == 1 else [f"x{i + 1}" for i in range(fn.nin)]
        return names, names
    rule = rules.lookup(fn) or rules.lookup_tangent(fn)
    handled = rule.params if rule is not None and rule.template is not None else []
    if handled and params is not None and not rule.template.varargs and \
            any(p.kind is p.VAR_POSITIONAL for p in params):
        # (stats.norm.logpdf(x, *args, **kwds)): the parameters its rule names, the
        # optional ones by keyword with the rule's defaults (SciPy's)
        defaults = rule.template.defaults
        required = [p for p in rule.params if p not in defaults and p != "y"]
        optional = [p for p in rule.params if p in defaults]
        return required + [f"{p}={defaults[p]!r}" for p in optional], \
            required + [f"{p}={p}" for p in optional]
    if params is None:  # (math.log, math.hypot, max): the parameters its rule names
        if handled:
            names = [p for p in rule.params if p not in rule.template.defaults]
            if rule.template.varargs in names:
                # math.hypot(*coordinates), passed itself: its two-argument form, as before
                # its rule took any number
                names = ["x", "y"]
            return names, names
        raise SourceUnavailableError(
            f"{name} has no signature s2sad can read, so its arguments are unknown",
            hint=f"write a function of your own that calls {name} with the arguments "
                 "it needs (def f(x, y): return ...), and differentiate that")
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not any(p.default is p.empty and p.kind in positional for p in params):
        how = "as *args" if any(p.kind is p.VAR_POSITIONAL for p in params) else \
            "all with defaults"
        raise SourceUnavailableError(
            f"{name} takes its arguments {how}, so which to differentiate is unknown",
            hint=f"write a function of your own that calls {name} with the arguments "
                 "it needs (def f(x, y): return ...), and differentiate that")
    written, passed = [], []
    by_keyword = False  # (past *args or a parameter left out: the rest by keyword only)
    for p in params:
        default = False if p.name == "keepdims" and p.default is np._NoValue else p.default
        if p.kind is p.VAR_KEYWORD or default is p.empty and by_keyword:
            break
        if p.kind is p.VAR_POSITIONAL:
            by_keyword = True
        elif default is p.empty:
            written.append(p.name)
            passed.append(p.name)
        elif p.kind is p.POSITIONAL_ONLY or \
                type(default) not in (type(None), bool, int, float, str):
            by_keyword = True
        elif p.name in handled and p.name not in ("out", "dtype"):  # (no derivative)
            if by_keyword and "*" not in written:
                written.append("*")
            written.append(f"{p.name}={default!r}")
            passed.append(f"{p.name}={p.name}")
    return written, passed


def qualified_name(fn: Any) -> Optional[str]:
    """Where a user imports `fn` from, and its name: numpy.tanh, numpy.linalg.norm,
    scipy.special.expit, math.sin (None for a value no public module holds). A ufunc
    does not say its module (SciPy's say numpy or nothing): the module is then the
    shortest public one that holds it."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return None
    module = getattr(fn, "__module__", None)
    if isinstance(module, str) and _public(module) and \
            vars(sys.modules.get(module, types)).get(name) is fn:
        return f"{module}.{name}"
    found = _FOUND.get(id(fn))
    if found is not None and found[0] is fn:
        return found[1]
    holders = [m for m, value in list(sys.modules.items()) if
               isinstance(value, types.ModuleType) and vars(value).get(name) is fn]
    # a package with a private module holding it defines it (scipy.special._ufuncs):
    # its public modules come before a user's module that imported it (model.erfi)
    homes = {m.split(".")[0] for m in holders if not _public(m)}
    holders = [m for m in holders if _public(m)]
    holders = [m for m in holders if m.split(".")[0] in homes] or holders
    if not holders:
        return None
    qualified = min(holders, key=lambda m: (m.count("."), len(m), m)) + "." + name
    _FOUND[id(fn)] = (fn, qualified)  # (the search reads every module once)
    return qualified


_FOUND: Dict[int, Tuple[Any, str]] = {}


def _public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split("."))
