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
import math

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from .. import pytree
from ..anno import get_anno, walk
from ..pytree import Tree
from . import numpy_forms
from .expressions import _FUNCTIONS, _MISSING, _all_identifiers, _param, _positional_params
from .statements import Desugar, _logging_function
from .values import Static, load_name, mark_borrowed, static_of

__all__ = ["Flat", "flatten_root", "needed"]


@dataclass
class Flat:
    """The flattened function: for each original parameter, the parameters that stand
    for it (its leaves in order, then its own name where the object itself is read),
    and the structure of what it returns."""
    layout: List[Tuple[str, List[str], bool]] = field(default_factory=list)
    output: Optional[Tree] = None
    constants: List[tuple] = field(default_factory=list)  # see Expressions.constants

    def is_current(self) -> bool:
        """No attribute read as a constant from an outside object, and no global or
        closure variable holding such an object, was rebound since."""
        return all((owner.get(name, _MISSING) if isinstance(owner, dict) else
                    getattr(owner, name, _MISSING)) is value
                   for owner, name, value in self.constants)


def flatten_root(parsed: Any, trees: Dict[str, Optional[Tree]], differentiated: Sequence[str],
                 read_helper: Callable, check_helper: Callable,
                 shapes: Optional[Dict[str, tuple]] = None, join_output: bool = False) -> Flat:
    """Rewrite `parsed.func` for arguments of structures `trees` (None for an argument
    that is a float, an array or another value passed whole); return its layout. A
    differentiated structure is only ever read leaf by leaf. With `join_output`, a
    structured output (a tuple or list of arrays, for vjp and jacobian) is returned as
    one array, its leaves raveled and joined (flat.output keeps its structure)."""
    taken = set(parsed.local_names) | set(parsed.namespace) | _all_identifiers(parsed.func)
    desugar = Desugar(parsed, taken, read_helper, check_helper)
    flat = Flat()
    env: Dict[str, Static] = {}
    spread = [a for a in (parsed.func.args.vararg, parsed.func.args.kwarg) if a is not None]
    originals = {arg.id: arg for arg in _positional_params(parsed.func) + spread}
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
    desugar.shapes = dict(shapes or {})
    parsed.func.body = desugar.function_body(parsed.func.body)
    flat.output = desugar.output
    if join_output and flat.output is not None and flat.output.kind != pytree.LEAF:
        _join_returns(parsed.func, desugar)
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


def _join_returns(func: gast.FunctionDef, desugar: Desugar) -> None:
    """`return a, b` (the leaves of a structured output) as `return
    np.concatenate([np.ravel(a), np.ravel(b)])`."""
    for node in walk(func):
        if not isinstance(node, gast.Return) or node.value is None:
            continue
        leaves = node.value.elts if isinstance(node.value, gast.Tuple) else [node.value]
        raveled = [gast.Call(func=desugar.global_name(np.ravel, leaf), args=[leaf],
                             keywords=[]) for leaf in leaves]
        node.value = gast.copy_location(gast.Call(
            func=desugar.global_name(np.concatenate, node.value),
            args=[gast.List(elts=raveled, ctx=gast.Load())], keywords=[]), node.value)


def needed(parsed: Any, read_helper: Optional[Callable] = None, depth: int = 3) -> bool:
    """Whether a function whose arguments are plain still needs this stage: it builds
    or reads structures of its own (a dict literal, a comprehension, a tuple bound to
    a name, `.items()`), or calls a method of an object it reads from outside; or a
    helper of the user's it calls does (read with `read_helper`, a few calls deep).
    (Code s2sad generated, read back, keeps its tape list as the later stages know it.)"""
    from ..frontend import is_generated
    from .calls import _is_helper, _is_lambda, _is_user_class
    if is_generated(parsed):
        return False
    if parsed.func.args.vararg is not None or parsed.func.args.kwarg is not None:
        return True  # (*args is a tuple, **kwargs a dict, of the call's values)
    called = {id(node.func) for node in walk(parsed.func) if isinstance(node, gast.Call)}
    for node in walk(parsed.func):
        if read_helper is not None and depth > 0 and isinstance(node, gast.Call):
            helper = get_anno(node.func, "resolved")
            if helper is not None and helper is not parsed.function and _is_helper(helper):
                try:
                    if needed(read_helper(helper), read_helper, depth - 1):
                        return True
                except Exception:  # (the usual path gives the diagnostic)
                    pass
        if isinstance(node, (gast.Dict, gast.DictComp, gast.ListComp, gast.GeneratorExp,
                             gast.Lambda, gast.BoolOp, gast.Assert, gast.NamedExpr,
                             gast.With, gast.Raise, gast.Delete)) or \
                isinstance(node, gast.FunctionDef) and node is not parsed.func:
            return True
        if isinstance(node, gast.Assign) and isinstance(node.value, (gast.Tuple, gast.List)) \
                and isinstance(node.targets[0], gast.Name):
            return True
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Tuple) and \
                isinstance(node.value, gast.Attribute) and node.value.attr == "shape":
            return True  # (T, d = X.shape)
        if isinstance(node, gast.Attribute) and \
                pytree.is_user_object(get_anno(node.value, "resolved")):
            return True
        if isinstance(node, gast.Call) and get_anno(node.func, "resolved") in _OVER_ITEMS \
                and not (len(node.args) == 2 and get_anno(node.func, "resolved") in (
                    builtins.max, builtins.min)) and not (
                    get_anno(node.func, "resolved") in _OVER_ARRAYS and
                    all(isinstance(a, (gast.Name, gast.Attribute, gast.Subscript))
                        for a in node.args)):
            return True  # (math.prod([a, b]), sorted([a, b]), zip(xs, [1.0, 2.0]), sum(x))
        if isinstance(node, (gast.For, gast.BinOp, gast.AugAssign)) and any(
                isinstance(part, (gast.List, gast.Tuple)) for part in (
                    getattr(node, "iter", None), getattr(node, "left", None),
                    getattr(node, "right", None), getattr(node, "value", None))):
            return True  # (for v in [a, b], a + [v], [x] * 3, items += [v])
        if isinstance(node, gast.For) and isinstance(node.target, gast.Name) and any(
                isinstance(t, gast.Name) and t.id == node.target.id for inner in node.body
                for a in walk(inner) if isinstance(a, gast.Assign) for t in a.targets):
            return True  # (for row in X: row = row * 2.0)
        if isinstance(node, gast.Assign) and (len(node.targets) > 1 or isinstance(
                node.targets[0], (gast.Tuple, gast.List)) and not isinstance(
                    node.value, gast.Call)):
            return True  # (a = b = v; a, b = x; (a, b), c = ...)
        if isinstance(node, gast.Compare) and (len(node.ops) > 1 or isinstance(
                node.ops[0], (gast.In, gast.NotIn))):
            return True  # (0 < x < 1, x in (1.0, 2.0))
        if isinstance(node, gast.Assign) and any(isinstance(n, gast.Starred)
                                                 for n in walk(node.targets[0])):
            return True  # (first, *rest = xs)
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Call) and \
                _is_helper(get_anno(node.value.func, "resolved")):
            return True  # (h(x)[0] of a helper returning a tuple)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                node.func.attr == "tolist":
            return True  # (vals = x.tolist())
        if numpy_forms.is_rewritten(node):
            return True  # (np.r_[a, b], np.c_[a, b], np.select([...], [...]))
        if isinstance(node, gast.Call) and _is_user_class(get_anno(node.func, "resolved")):
            return True  # (q = Quadratic(2.0, 3.0, x): an object made here)
        if isinstance(node, gast.Call) and _is_lambda(get_anno(node.func, "resolved")):
            return True  # (sigmoid = lambda z: ... at module level, called here)
        if isinstance(node, gast.Call) and _logging_function(node.func) is not None:
            return True  # (log.info("loss %s", loss))
        if isinstance(node, (gast.Name, gast.Attribute)) and id(node) not in called and \
                isinstance(node.ctx, gast.Load) and \
                isinstance(get_anno(node, "resolved"), _FUNCTIONS):
            return True  # (act = np.tanh; apply(np.tanh, x))
    return False


_OVER_ARRAYS = (builtins.zip, builtins.enumerate, builtins.reversed)  # (lower's loops)
_OVER_ITEMS = (math.prod, math.fsum, builtins.sorted, builtins.zip, builtins.enumerate,
               builtins.map, builtins.dict, builtins.reversed, builtins.list, builtins.tuple,
               builtins.sum, builtins.max, builtins.min, builtins.iter,
               builtins.next, np.copyto)  # builtins over a sequence; np.copyto


