"""The Python-float variant of scalar code: `math` functions instead of NumPy's.

A gradient of a function of a few floats does a dozen scalar operations, and each
NumPy call on a Python float costs ~0.5 us of dispatch where `math.exp` costs 50 ns.
Where every value the generated code can make is a Python number (its inputs are
floats or ints, it reads no global data, indexes only its own lists, calls only functions
with an exact `math` twin), this stage rewrites `np.exp` as `math.exp` and so on.

The two differ only where math raises and NumPy returns inf or nan with a warning
(overflow, division by zero, a domain error such as log(0)): a call that raises
one of `FLOAT_ERRORS` is run again with the NumPy code on NumPy floats, so its
result is NumPy's (Python floats would raise in NumPy's code too, at `1.0 / 0.0`).
A non-integer power goes through `math.pow`, which raises where `**` on a negative
float would return a complex number.
"""
from __future__ import annotations

import copy
from typing import Any, Optional, Set

import gast
import numpy as np

from .lower import call, name

# what the float code raises where NumPy's returns inf or nan: rerun it with NumPy
FLOAT_ERRORS = (ArithmeticError, ValueError)


def as_numpy(value: Any) -> Any:
    """A Python float as a NumPy one, for the rerun (ints stay: their arithmetic is
    exact in both codes)."""
    return np.float64(value) if type(value) is float else value


# np.<name> -> math.<name> (or a builtin): the same function on one float
_MATH_TWINS = {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2",
    "log10": "log10", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "hypot": "hypot", "power": "pow",
}
_BUILTIN_TWINS = {"abs": "abs", "absolute": "abs"}
_CONSTANTS = {"pi": "pi", "e": "e", "inf": "inf", "nan": "nan"}
_REWRITTEN = {"where": 3, "sign": 1}  # np.where(c, a, b) -> a if c else b; np.sign -> sign

# callables generated scalar code may use that act on Python numbers as on NumPy's
_SAFE_BUILTINS = {"range", "reversed", "len", "abs", "min", "max", "float", "int", "bool"}
_SAFE_HELPERS = {"require_scalar", "sign"}
_LIST_METHODS = {"append", "pop"}  # a tape of floats

_STATEMENTS = (gast.Assign, gast.AugAssign, gast.Return, gast.For, gast.While, gast.If,
               gast.Expr, gast.Pass, gast.Break, gast.Continue)
_EXPRESSIONS = (gast.BinOp, gast.UnaryOp, gast.BoolOp, gast.Compare, gast.IfExp,
                gast.Call, gast.Name, gast.Constant, gast.Tuple, gast.List, gast.Attribute,
                gast.Subscript)
_CONTEXTS = (gast.Load, gast.Store, gast.operator, gast.unaryop, gast.boolop, gast.cmpop,
             gast.arguments, gast.keyword)


def python_floats(func: gast.FunctionDef, scalars: Set[str]) -> Optional[gast.FunctionDef]:
    """A copy of `func` computing with `math` on Python floats, or None where some
    value could be an array or some call has no exact twin.

    `scalars` are the parameters the code was compiled for as numbers; every other
    one must default to a number constant, so that a call passing Python numbers
    only runs on Python numbers."""
    if not _parameters_are_numbers(func.args, scalars):
        return None
    local = {n.id for n in gast.walk(func) if isinstance(n, gast.Name)
             and isinstance(n.ctx, (gast.Store, gast.Param))}
    if local & (_SAFE_BUILTINS | _SAFE_HELPERS | {"np", "math"}):
        return None  # a parameter or local named like a function the code calls
    stores = {s.targets[0].id for s in func.body if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.BinOp)
              and isinstance(s.value.left, gast.List)}  # y_stored = [None] * n
    for stmt in func.body:
        if not _is_scalar_code(stmt, local, stores):
            return None
    return _ToMath().visit(copy.deepcopy(func))


def _parameters_are_numbers(args: gast.arguments, scalars: Set[str]) -> bool:
    if args.vararg is not None or args.kwarg is not None:
        return False
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    return all(a.id in scalars or _is_number(d, (int, float)) for a, d in pairs)


def _is_number(node: Optional[gast.AST], kinds: tuple) -> bool:
    """A literal number of one of `kinds`, or its negation (-2)."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) in kinds


def _is_scalar_code(tree: gast.AST, local: Set[str], stores: Set[str]) -> bool:
    """Only statements and expressions that keep Python numbers Python numbers (and
    lists of them: a tape, or a loop's stored values)."""
    for node in gast.walk(tree):
        if isinstance(node, gast.Subscript):
            if not (isinstance(node.value, gast.Name) and node.value.id in stores):
                return False
            continue
        if isinstance(node, gast.Call):
            if not _is_safe_call(node, local):
                return False
        elif isinstance(node, gast.Attribute):
            if not _is_module_attribute(node) and not _is_list_method(node, local):
                return False
        elif isinstance(node, gast.Name):
            if isinstance(node.ctx, gast.Load) and node.id not in local and \
                    node.id not in ("np", "math") and node.id not in _SAFE_BUILTINS and \
                    node.id not in _SAFE_HELPERS:
                return False  # global data could be an array
        elif isinstance(node, gast.AugAssign):
            if isinstance(node.op, gast.Pow) and not _is_number(node.value, (int,)):
                return False  # (never generated; math.pow would need an Assign)
        elif isinstance(node, gast.Constant):
            if not isinstance(node.value, (int, float, bool, str, type(None))):
                return False
        elif not isinstance(node, _STATEMENTS + _EXPRESSIONS + _CONTEXTS):
            return False  # comprehensions, lambdas, ...
    return True


def _is_module_attribute(node: gast.Attribute) -> bool:
    """np.exp, np.pi (ours, or a constant with a twin), math.sin."""
    if not isinstance(node.value, gast.Name):
        return False
    if node.value.id == "math":
        return True
    return node.value.id == "np" and (node.attr in _MATH_TWINS or node.attr in _BUILTIN_TWINS
                                      or node.attr in _CONSTANTS or node.attr in _REWRITTEN)


def _is_list_method(node: gast.Attribute, local: Set[str]) -> bool:
    """tape.append, tape.pop (a local can hold no array: see _is_scalar_code)."""
    return isinstance(node.value, gast.Name) and node.value.id in local and \
        node.attr in _LIST_METHODS


def _is_safe_call(node: gast.Call, local: Set[str]) -> bool:
    callee = node.func
    if any(isinstance(a, gast.Starred) for a in node.args) or node.keywords:
        return False  # np.sum(x, axis=0) and the like never have a twin
    if isinstance(callee, gast.Name):
        return callee.id in _SAFE_BUILTINS or callee.id in _SAFE_HELPERS
    if isinstance(callee, gast.Attribute) and isinstance(callee.value, gast.Name):
        owner = callee.value.id
        if owner == "math":
            return True
        if owner == "np":
            return callee.attr in _MATH_TWINS or callee.attr in _BUILTIN_TWINS or \
                callee.attr in _REWRITTEN and len(node.args) == _REWRITTEN[callee.attr]
        return _is_list_method(callee, local)
    return False


class _ToMath(gast.NodeTransformer):
    """np.f -> math.f (or abs), np.pi -> math.pi, x ** y -> math.pow(x, y) unless y is
    an integer literal (children first, so nested powers nest)."""

    def visit_Attribute(self, node: gast.Attribute) -> gast.AST:
        if isinstance(node.value, gast.Name) and node.value.id == "np":
            if node.attr in _MATH_TWINS:
                return _math(_MATH_TWINS[node.attr])
            if node.attr in _CONSTANTS:
                return _math(_CONSTANTS[node.attr])
            if node.attr in _BUILTIN_TWINS:
                return name(_BUILTIN_TWINS[node.attr])
            if node.attr == "sign":
                return name("sign")
        return node

    def visit_Call(self, node: gast.Call) -> gast.AST:
        self.generic_visit(node)
        if isinstance(node.func, gast.Attribute) and node.func.attr == "where" and \
                isinstance(node.func.value, gast.Name) and node.func.value.id == "np":
            condition, chosen, otherwise = node.args  # (np.where evaluates both; no
            return gast.IfExp(test=condition, body=chosen, orelse=otherwise)  # effects)
        return node

    def visit_BinOp(self, node: gast.BinOp) -> gast.AST:
        self.generic_visit(node)
        if isinstance(node.op, gast.Pow) and not _is_number(node.right, (int,)):
            return call("math.pow", [node.left, node.right])
        return node


def _math(attr: str) -> gast.Attribute:
    return gast.Attribute(value=name("math"), attr=attr, ctx=gast.Load())
