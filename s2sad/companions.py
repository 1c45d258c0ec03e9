"""Companions: the generated modules that differentiate an implicit solve (seed 002).

For `x = fixed_point(g, x0, *θ)` reverse mode writes, in the derivative,

    lam = g_multiplier(dx, x, *θ)           # (I - ∂g/∂x)ᵀ lam = dx
    dθ = vjp_g_θ(x, *θ, dg=lam)              # θ̄ += (∂g/∂θ)ᵀ lam

and forward mode `x_dot = g_tangent(x, *θ, *θ_dot)`. This module makes those functions:
the multiplier (tangent) solve as a short text of its own, and s2sad's vjp (jvp) of g
with respect to x and to the differentiated parameters, compiled by the same pipeline
for the ranks the call site knows. Each is loaded from the text printed after the
derivative's, so what a user reads is what runs.
"""
from __future__ import annotations

import ast
import hashlib
import math
import types
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from . import codegen, implicit, structured
from .implicit import Companion, Solve

_HELPERS = ("converged", "not_converged", "rows", "identity_minus", "solve_linear",
            "nonsingular", "iterations")


def make(solve: Solve, mode: str, active: Tuple[int, ...], ranks: Optional[tuple],
         x_name: str, param_names: List[str]) -> Companion:
    """The companion of `solve` for one mode ("reverse" or "forward")."""
    g = solve.function
    gname = implicit._name(g)
    names = _parameter_names(g, x_name, param_names)
    x, params = names[0], names[1:]
    scalar = ranks is not None and ranks[0] == 0  # (∂g/∂x a number: divided by)
    if mode in ("reverse", "reverse read back"):
        read_back = mode == "reverse read back"
        wrt = tuple(1 + k for k in active)
        pull_name = f"vjp_{gname}_" + ("_".join(params[k] for k in active)
                                       if len(active) <= 3 else "params")
        pull = _derivative(g, wrt, ranks, "vjp", pull_name, read_back)
        if read_back:  # (to be differentiated again: the multiplier as a solve itself)
            along_x = _derivative(g, (0,), ranks, "vjp", f"vjp_{gname}_{x}", read_back)
            text, name = _multiplier_step_text(solve, gname, x, params, along_x)
            loaded = _load(text, name, {along_x[0]: along_x[1]}, readable=True)
            return Companion(name, loaded, "\n\n".join([text, along_x[3], pull[3]]),
                             pull_name, pull[1], pull[2])
        linear = _linear(g, ranks, "vjp", gname, x, params, f"vjp_{gname}_{x}")
        text, name = _multiplier_text(solve, gname, x, params, linear, scalar)
        loaded = _load(text, name, {linear.name: linear.function})
        return Companion(name, loaded, "\n\n".join([text, linear.source, pull[3]]),
                         pull_name, pull[1], pull[2])
    linear = _linear(g, ranks, "jvp", gname, x, params, f"jvp_{gname}_{x}")
    dots = _derivative(g, tuple(1 + k for k in active), ranks, "jvp", f"jvp_{gname}_params")
    text, name = _tangent_text(solve, gname, x, params, active, linear, dots, scalar)
    loaded = _load(text, name, {linear.name: linear.function, dots[0]: dots[1]})
    return Companion(name, loaded, "\n\n".join([text, linear.source, dots[3]]))


@dataclass
class _Linear:
    """How a companion applies ∂g/∂x (its transpose, for a vjp) to a vector: `setup`
    lines run once, then `apply(v)` is the product's expression."""
    name: str              # the function the companion's module binds
    function: Callable
    source: str            # its module text
    setup: List[str]
    apply: Callable[[str], str]


def _linear(g: Callable, ranks: Optional[tuple], kind: str, gname: str, x: str,
            params: List[str], name: str) -> _Linear:
    """∂g/∂x applied as a closure over g's primal computed once (`vjp = vjp_g_x_at(x,
    θ)`, then `vjp(lam)` in the loop), where s2sad's code for it is straight-line;
    else by calling the vjp (jvp) with the vector (which runs g's primal each time)."""
    args = ", ".join([x, *params])
    name_at = f"{name}_at"
    compiled = _derivative(g, (0,), ranks, kind, name, read_back=True)
    text = _hoisted(compiled[3], name, name_at, compiled[2].split(", "))
    if text is None:
        along_x = _derivative(g, (0,), ranks, kind, name)
        call = (lambda v: f"{name}({args}, {along_x[2]}={v})") if kind == "vjp" else \
            (lambda v: f"{name}({args}, {along_x[2]}={v})[1]")
        return _Linear(name, along_x[1], along_x[3], [], call)
    function = _load(text, name_at, dict(compiled[1].__globals__))
    product = "(∂{g}/∂{x})ᵀ" if kind == "vjp" else "∂{g}/∂{x}"
    setup = [f"{kind} = {name_at}({args})  # {product.format(g=gname, x=x)} at {x}: "
             f"{gname}'s primal once"]
    apply = (lambda v: f"vjp({v})") if kind == "vjp" else (lambda v: f"jvp({v})[1]")
    return _Linear(name_at, function, text, setup, apply)


def _hoisted(source: str, name: str, new_name: str, inputs: List[str]) -> Optional[str]:
    """The text of `name` (straight-line generated code) as `new_name`, a function of
    its other parameters that computes what does not depend on `inputs` once and
    returns a closure taking `inputs`: `def vjp_g_x_at(x, W): a = W @ x; ...; def
    vjp_g_x(dg): ...; return vjp_g_x`. None where that is not sure to be the same
    (loops, branches, a tape, a name assigned twice, a hoisted array written later)."""
    tree = ast.parse(source)
    func = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name),
                None)
    if func is None or not isinstance(func.body[-1], ast.Return) or \
            func.args.vararg is not None or func.args.kwarg is not None or \
            not all(isinstance(s, (ast.Assign, ast.AugAssign)) for s in func.body[:-1]):
        return None
    tainted, outer, inner, assigned = set(inputs), [], [], {}
    for stmt in func.body[:-1]:
        stores = [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and
                  isinstance(n.ctx, ast.Store)]
        for target in getattr(stmt, "targets", [getattr(stmt, "target", None)]):
            if not isinstance(target, ast.Name):  # (x[i] = e: a write into an array)
                stores += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        reads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and
                 isinstance(n.ctx, ast.Load)}
        for n in stores:
            assigned[n] = assigned.get(n, 0) + 1
        if reads & tainted or isinstance(stmt, ast.AugAssign) or "tape" in reads:
            inner.append(stmt)
            tainted.update(stores)
        else:
            outer.append(stmt)
    hoisted = {n.id for s in outer for n in ast.walk(s) if isinstance(n, ast.Name) and
               isinstance(n.ctx, ast.Store)}
    if not outer or not inner or any(assigned[n] > 1 or n in tainted for n in hoisted):
        return None
    lines = source.splitlines()
    chunks, start = [], func.body[0].lineno - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1  # (a statement's comment lines go with it)
    for stmt in func.body:
        chunks.append((stmt, lines[start:stmt.end_lineno]))
        start = stmt.end_lineno
    args = func.args
    given = [a for a in args.posonlyargs + args.args + args.kwonlyargs if a.arg in inputs]
    keywords = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)
                if a.arg not in inputs]
    kept = ast.arguments(
        posonlyargs=[], args=[a for a in args.posonlyargs + args.args if a.arg not in inputs],
        vararg=None, kwonlyargs=[a for a, _ in keywords], kw_defaults=[d for _, d in keywords],
        kwarg=None,
        defaults=[d for a, d in zip((args.posonlyargs + args.args)[-len(args.defaults):]
                                    if args.defaults else [], args.defaults)
                  if a.arg not in inputs])
    text = lines[:func.lineno - 1 - len(func.decorator_list)]
    text.append(f"def {new_name}({ast.unparse(kept)}):")
    text += [line for stmt, chunk in chunks if stmt in outer for line in chunk]
    text += ["", f"    def {name}({', '.join(a.arg for a in given)}):"]
    text += [("    " + line) if line.strip() else line
             for stmt, chunk in chunks if stmt not in outer for line in chunk]
    text.append(f"    return {name}")
    return "\n".join(text) + "\n"



def _parameter_names(g: Callable, x_name: str, param_names: List[str]) -> List[str]:
    """g's own names for x and the parameters (the call's where g takes *args)."""
    seen: List[str] = []
    for n in implicit.argument_names(g, [x_name, *param_names]):  # (distinct, and never a name the companions' code makes of them)
        made = {f"d{x}" for x in seen[:1]} | {f"{x}_dot" for x in seen[:1]} | \
            {f"{x}_dot_next" for x in seen[:1]} | {f"{p}_dot" for p in seen[1:]}
        while n in seen or n in made or n in _HELPERS or n.startswith("d") and "_d" in n \
                or n in ("np", "lam", "lam_next", "rhs", "unit", "solved", "vjp", "jvp"):
            n += "_"
        seen.append(n)
    return seen


def _derivative(g: Callable, wrt: Tuple[int, ...], ranks: Optional[tuple], kind: str,
                name: str, read_back: bool = False) -> Tuple[str, Callable, str, str]:
    """(name, function, seed or tangent names, module text) of s2sad's vjp or jvp of g
    with respect to the positions `wrt`, renamed `name`; with `read_back`, in the
    forms s2sad reads to differentiate it again."""
    from .api import JVPFunction, VJPFunction
    make_ = VJPFunction if kind == "vjp" else JVPFunction
    transform = make_(g, wrt[0] if len(wrt) == 1 else wrt)
    if structured.needs_desugar(g):  # (a dict or list built inside, a comprehension:
        # read by the desugar stage, for plain arguments, as a call would read it)
        trees = {p: None for p in transform._param_names}
        transform = transform._flat_transform(structured.Call(
            dict(trees), trees, tuple(trees.values())))[1]
    if ranks is None and not read_back:
        compiled = transform.generic
    else:
        compiled = transform.for_ranks(
            tuple(ranks or ()) + (None,) * (len(transform._param_names) - len(ranks or ())),
            read_back=read_back)
    source = compiled.source.replace(f"def {compiled.function_name}(", f"def {name}(", 1)
    function = _load(source, name, dict(compiled.function.__globals__), readable=read_back)
    added = compiled.added_params[0] if kind == "vjp" else ", ".join(compiled.added_params)
    return name, function, added, source


def _multiplier_text(solve: Solve, gname: str, x: str, params: List[str],
                     linear: _Linear, scalar: bool) -> Tuple[str, str]:
    name = f"{gname}_multiplier"
    jac = f"d{gname}_d{x}"  # ∂g/∂x
    vjp = linear.apply
    args = ", ".join([x, *params])
    dx = f"d{x}"
    call = f"{solve.kind}({gname}, {x}0, {', '.join(params)})".replace(", )", ")")
    if solve.kind == "fixed_point":
        doc = [f"Seed 002: {x} = {gname}({args}) is a cyclic constraint. Its Lagrange",
               f"multiplier lam solves (I - ∂{gname}/∂{x})ᵀ lam = {dx}: the adjoint {dx} "
               "carried",
               f"around the cycle, lam = {dx} + (∂{gname}/∂{x})ᵀ lam."]
        dense = [f"{jac} = rows({_unary(vjp)}, {x})  # ∂{gname}/∂{x}",
                 f"return solve_linear(identity_minus({jac}).T, {dx})"]
        iterate = [
            f"lam = {dx}",
            f"for _ in range({solve.max_iter}):",
            f"    lam_next = {dx} + {vjp('lam')}",
            f"    if converged(lam_next, lam, {solve.tol!r}, {dx}):",
            "        return lam_next",
            "    lam = lam_next",
            f"raise not_converged('the multiplier of {call}', "
            f"{dx} + {vjp('lam')}, lam, {solve.tol!r}, {solve.max_iter})"]
        body = _chosen(solve, x, dense, iterate)
        if scalar:
            body = [f"{jac} = {vjp('1.0')}  # ∂{gname}/∂{x}, a number",
                    f"return {dx} / nonsingular(1 - {jac})"]
    else:
        doc = [f"Seed 002: {gname}({args}) = 0 is a constraint on {x}. Its Lagrange",
               f"multiplier lam solves (∂{gname}/∂{x})ᵀ lam = -{dx}."]
        body = [f"{jac} = rows({_unary(vjp)}, {x})  # ∂{gname}/∂{x}",
                f"return solve_linear({jac}.T, -{dx})"] if not scalar else [
            f"{jac} = {vjp('1.0')}  # ∂{gname}/∂{x}, a number",
            f"return -{dx} / nonsingular({jac})"]
    body = linear.setup + body
    lines = [f"def {name}({dx}, {args}):", '    """' + doc[0],
             *["    " + d for d in doc[1:]], '    """', *["    " + b for b in body]]
    return _module(f"Multiplier of {x} = {call} (seed 002), generated by s2sad.",
                   lines), name


def _multiplier_step_text(solve: Solve, gname: str, x: str, params: List[str],
                          along_x: tuple) -> Tuple[str, str]:
    """For code differentiated again: one step of the multiplier iteration (a fixed
    point's), or the residual of its equation (a root's), which the derivative solves
    with fixed_point (root) in turn."""
    vjp_name, seed = along_x[0], along_x[2]
    args = ", ".join([x, *params])
    dx = f"d{x}"
    if solve.kind == "fixed_point":
        name = f"{gname}_multiplier_step"
        doc = (f"One step of seed 002's multiplier iteration for {x} = {gname}({args}): "
               f"its fixed point solves (I - ∂{gname}/∂{x})ᵀ lam = {dx}.")
        body = f"return {dx} + {vjp_name}({args}, {seed}=lam)"
    else:
        name = f"{gname}_multiplier_residual"
        doc = (f"The residual of seed 002's multiplier equation for {gname}({args}) = 0: "
               f"its root solves (∂{gname}/∂{x})ᵀ lam = -{dx}.")
        body = f"return {vjp_name}({args}, {seed}=lam) + {dx}"
    lines = [f"def {name}(lam, {dx}, {args}):", f'    """{doc}"""', f"    {body}"]
    return _module(f"Multiplier equation of {x} = {solve.kind}({gname}, ...) (seed 002), "
                   "generated by s2sad.", lines), name


def _tangent_text(solve: Solve, gname: str, x: str, params: List[str],
                  active: Tuple[int, ...], linear: _Linear, dots: tuple,
                  scalar: bool) -> Tuple[str, str]:
    name = f"{gname}_tangent"
    jac = f"d{gname}_d{x}"  # ∂g/∂x
    jvp = linear.apply
    args = ", ".join([x, *params])
    given = [f"{params[k]}_dot" for k in active]
    passed = ", ".join(f"{d}={p}" for d, p in zip(dots[2].split(", "), given))
    call = f"{solve.kind}({gname}, {x}0, {', '.join(params)})".replace(", )", ")")
    rhs = f"rhs = {dots[0]}({args}, {passed})[1]  # ∂{gname}/∂θ θ_dot"
    if solve.kind == "fixed_point":
        doc = [f"Seed 002's tangent equation for {x} = {gname}({args}):",
               f"(I - ∂{gname}/∂{x}) {x}_dot = ∂{gname}/∂θ θ_dot."]
        dense = [f"{jac} = rows({_unary(jvp)}, {x}).T  # ∂{gname}/∂{x}",
                 f"return solve_linear(identity_minus({jac}), rhs)"]
        iterate = [
            f"{x}_dot = rhs",
            f"for _ in range({solve.max_iter}):",
            f"    {x}_dot_next = rhs + {jvp(x + '_dot')}",
            f"    if converged({x}_dot_next, {x}_dot, {solve.tol!r}, rhs):",
            f"        return {x}_dot_next",
            f"    {x}_dot = {x}_dot_next",
            f"raise not_converged('the tangent of {call}', "
            f"rhs + {jvp(x + '_dot')}, {x}_dot, {solve.tol!r}, {solve.max_iter})"]
        body = [rhs, *linear.setup, *_chosen(solve, x, dense, iterate)]
        if scalar:
            body = [rhs, *linear.setup, f"{jac} = {jvp('1.0')}  # ∂{gname}/∂{x}",
                    f"return rhs / nonsingular(1 - {jac})"]
    else:
        doc = [f"Seed 002's tangent equation for {gname}({args}) = 0:",
               f"∂{gname}/∂{x} {x}_dot = -∂{gname}/∂θ θ_dot."]
        body = [rhs, *linear.setup, f"{jac} = rows({_unary(jvp)}, {x}).T  # ∂{gname}/∂{x}",
                f"return solve_linear({jac}, -rhs)"]
        if scalar:
            body = [rhs, *linear.setup, f"{jac} = {jvp('1.0')}  # ∂{gname}/∂{x}",
                    f"return -rhs / nonsingular({jac})"]
    lines = [f"def {name}({args}, {', '.join(given)}):", '    """' + doc[0],
             *["    " + d for d in doc[1:]], '    """', *["    " + b for b in body]]
    return _module(f"Tangent of {x} = {call} (seed 002), generated by s2sad.", lines), name


def _unary(apply: Callable[[str], str]) -> str:
    """A function of one vector for rows(...): `vjp` itself, or a lambda."""
    applied = apply("unit")
    return applied[:-len("(unit)")] if applied == "vjp(unit)" else f"lambda unit: {applied}"


def _chosen(solve: Solve, x: str, dense: List[str], iterate: List[str]) -> List[str]:
    """The solve's lines for its method: "auto" tries the iteration first, for as many
    steps as a dense solve would take vjps, then solves densely (where a solver of the
    user's found x, the map need not contract: small ones are solved densely at once)."""
    if solve.method == "dense":
        return dense
    if solve.method == "iterate":
        return iterate
    if solve.solver is not None:
        return [f"if np.size({x}) <= {implicit.DENSE_SIZE_SOLVED}:  # small: one dense solve",
                *["    " + d for d in dense], *iterate]
    loop = f"for _ in range({solve.max_iter}):"
    assert loop in iterate
    tried = [f"for _ in range(iterations({x}, {solve.max_iter})):  # (then a dense solve "
             "is cheaper)" if line == loop else line for line in iterate[:-1]]
    return [*tried, f"if np.size({x}) <= {implicit.DENSE_LIMIT}:  # slow to converge: "
            "one dense solve", *["    " + d for d in dense], iterate[-1]]


def _module(title: str, lines: List[str]) -> str:
    used = [h for h in _HELPERS if any(f"{h}(" in line for line in lines)]
    imports = ["import numpy as np"] if any("np." in line for line in lines) else []
    if used:
        imports.append(f"from s2sad.implicit import {', '.join(used)}")
    return "\n".join([f"# {title}", *imports, "", "", *lines]) + "\n"


def _load(source: str, name: str, namespace: dict, readable: bool = False) -> Callable:
    """The function `name` of `source`; `readable` ones are read and inlined where the
    code calling them is differentiated again, others refused there (a loop to a
    tolerance has no derivative s2sad should take step by step)."""
    scope = {"np": np, "math": math, **{h: getattr(implicit, h) for h in _HELPERS},
             **namespace}
    digest = hashlib.sha1(source.encode()).hexdigest()[:8]
    function = codegen.load(source, name, scope, f"{name} {digest}")
    filename = function.__code__.co_filename
    for defined in list(function.__globals__.values()):  # (and the companions of solves
        # inside g, whose text its module holds too)
        if isinstance(defined, types.FunctionType) and \
                defined.__code__.co_filename == filename:
            if readable:
                defined._s2sad_readable = True
            else:
                defined._s2sad_companion = True
    return function
