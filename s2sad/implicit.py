"""Implicit solves: fixed points and roots inside differentiated code (seed 002).

Seed 002 ends on cyclic constraints. Where a value is defined by an equation it stands
on both sides of, x = g(x, θ), the forward step is an iterative solve, and the
Lagrange multiplier of that constraint solves a linear equation instead of following a
recurrence:

    fixed point  x = g(x, θ):   (I - ∂g/∂x)ᵀ λ = x̄,    θ̄ += (∂g/∂θ)ᵀ λ
    root      F(x, θ) = 0:      (∂F/∂x)ᵀ λ = -x̄,      θ̄ += (∂F/∂θ)ᵀ λ

and forward mode solves the tangent equation (I - ∂g/∂x) ẋ = ∂g/∂θ θ̇ (for a root,
∂F/∂x ẋ = -∂F/∂θ θ̇). Only the solution x* enters them: nothing of the forward
iterations is stored, and the derivative is that of the solution, not of the steps
that happened to reach it.

`fixed_point` and `root` run as plain functions anywhere. Inside a function s2sad
differentiates, lower keeps each call as one call, g and the options checked and fixed
when the code is compiled (its `Solve`); reverse and forward then emit, for it, a call
of a *companion* (companions.py): a short generated module holding the multiplier (or
tangent) solve as readable code, which calls s2sad's generated vjp (jvp) of g. The
companions' text is printed with the derivative's (`.source`), and is exactly what
runs.
"""
from __future__ import annotations

import functools
import inspect
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import ArgumentError, Location, S2SADError

__all__ = ["fixed_point", "root", "fixed_point_of", "root_of", "ConvergenceError", "Solve",
           "SOLVERS"]

# Multipliers and tangents of a fixed point (roots' are always dense): a dense solve
# costs one vjp (jvp) per entry of x and an LU; the iteration one per step, as many as
# the forward iteration took (it contracts as fast).
#
# Where a solver of the user's found x (the map need not contract there, so iterating
# the multipliers may diverge): dense up to this many entries.
DENSE_SIZE_SOLVED = 400
# "auto" iterates the multipliers for at most as many steps as x has entries (what a
# dense solve costs in vjps), then solves densely, for x of at most this many entries
DENSE_LIMIT = 2000
_METHODS = ("auto", "iterate", "dense")


class ConvergenceError(S2SADError):
    """An implicit solve (its forward iteration, its multipliers or tangents) did not
    reach its tolerance; `residual` is how far it got, `iterations` how many it took."""

    def __init__(self, message: str, residual: float, iterations: int,
                 location: Optional[Location] = None, hint: Optional[str] = None):
        self.residual = residual
        self.iterations = iterations
        super().__init__(message, location, hint)


# -- the solvers, as users call them ----------------------------------------------------

def fixed_point(g: Callable, x0: Any, *params: Any, tol: float = 1e-10,
                max_iter: int = 1000, solve: str = "auto",
                solver: Optional[Callable] = None) -> Any:
    """x* with x* = g(x*, *params), by the iteration x <- g(x, *params) from x0.

    It stops when a step changes no entry by more than `tol` relative to the size of x
    (max |x_new - x| <= tol * max(max |x_new|, s), where s, the problem's scale, is the
    larger of max |x0| and the first step's size: a solution near zero is found as
    precisely as one far from it), and raises ConvergenceError after `max_iter` steps. Differentiated, its derivative is that of the solution (seed
    002's multiplier equation), whatever x0 is: `solve` picks how the multipliers are
    found ("dense": one linear solve, "iterate": lam <- dx + (∂g/∂x)ᵀ lam, "auto":
    the iteration for at most as many steps as x has entries, then a dense solve). `solver(g, x0, *params)`, where given,
    finds x* instead (a function marked with `fixed_point_of` runs its own loop); its
    answer must satisfy the equation to sqrt(tol), relative to x."""
    try:
        return _fixed_point(g, x0, params, tol, max_iter, solve, solver)
    except (ConvergenceError, ArgumentError) as exc:
        raise _located(exc, ("fixed_point", g, tol, max_iter, solve, solver)) from None


def _fixed_point(g: Callable, x0: Any, params: tuple, tol: float, max_iter: int,
                 solve: str, solver: Optional[Callable]) -> Any:
    _check_options("fixed_point", g, tol, max_iter, solve)
    x = _start(x0, "fixed_point")
    if solver is not None:
        x = _same_kind(_run_solver(solver, g, x, params), x, solver, "fixed_point")
        return _fresh(_checked_fixed_point(g, x, params, tol, _name(solver)), params)
    scale = None  # the problem's size: max |x0|, or the first step's (see converged)
    for _ in range(max_iter):
        x_next = _same_kind(g(x, *params), x, g, "fixed_point")
        if scale is None:
            scale = max(_max_abs(x), _max_abs(np.subtract(x_next, x)))
        if converged(x_next, x, tol, scale):
            return _fresh(x_next, params)
        x, previous = x_next, x
    raise not_converged(f"fixed_point({_name(g)}, ...)", x, previous, tol, max_iter)


def root(F: Callable, x0: Any, *params: Any, tol: float = 1e-10, max_iter: int = 100,
         solver: Optional[Callable] = None, solve: str = "dense") -> Any:
    """x* with F(x*, *params) = 0: Newton's method from x0 with s2sad's own Jacobian of
    F (halving a step that would increase |F|), or `solver(F, x0, *params)` where one is
    given. It stops when a Newton step is below `tol` relative to max |x|; a solution whose
    residual max |F(x*)| is not small (above sqrt(tol)) raises ConvergenceError, as
    does reaching `max_iter`. Its derivative is seed 002's (∂F/∂x)ᵀ λ = -x̄, solved
    densely."""
    try:
        return _root(F, x0, params, tol, max_iter, solver, solve)
    except (ConvergenceError, ArgumentError) as exc:
        raise _located(exc, ("root", F, tol, max_iter, solve, solver)) from None


def _root(F: Callable, x0: Any, params: tuple, tol: float, max_iter: int,
          solver: Optional[Callable], solve: str) -> Any:
    _check_options("root", F, tol, max_iter, solve)
    x = _start(x0, "root")
    if solver is not None:
        x = _same_kind(_run_solver(solver, F, x, params), x, solver, "root")
        return _fresh(_checked_root(F, x, params, tol, 0, _name(solver)), params)
    jacobian = _newton_jacobian(F)
    for k in range(max_iter):
        residual = _same_kind(F(x, *params), x, F, "root")
        step = _newton_step(jacobian(x, *params), residual, x)
        t, size = 1.0, _max_abs(residual)
        if _max_abs(step) == 0.0 and size > 0.0:
            raise ConvergenceError(
                f"root({_name(F)}, ...) cannot move from x = {_shown(x)}: ∂F/∂x is "
                f"singular there (a zero slope), and max |F(x)| is {size:.3g}",
                size, k, hint="start where F has a nonzero slope (x0), or pass solver= a "
                              "method that needs none, called as solver(F, x0, *params): "
                              "solver=lambda F, x0, *p: scipy.optimize.brentq(F, lo, hi, "
                              "args=p)")
        while t > 1e-4:  # halve a step that makes |F| grow (Newton far from the root)
            trial = x - t * step
            if _max_abs(F(trial, *params)) <= size or not np.isfinite(size):
                break
            t /= 2
        x_next = _like_start(x - t * step, x)
        if converged(x_next, x, tol, scale=0.0):  # (relative: Newton gets there fast)
            return _checked_root(F, x_next, params, tol, k + 1, f"root({_name(F)}, ...)")
        x = x_next
    raise ConvergenceError(
        f"root({_name(F)}, ...) did not converge: after {max_iter} Newton steps the "
        f"residual max |F(x)| is {_max_abs(F(x, *params)):.3g}",
        _max_abs(F(x, *params)), max_iter,
        hint="start nearer the root (x0), raise max_iter=, or pass solver= a method "
             "that suits F, called as solver(F, x0, *params): for a bracketed scalar "
             "root, solver=lambda F, x0, *p: scipy.optimize.brentq(F, lo, hi, args=p)")


SOLVERS = {fixed_point: "fixed_point", root: "root"}
SOLVERS_BY_KIND = {kind: solver for solver, kind in SOLVERS.items()}


class MarkedSolver:
    """A solver the user wrote (a while loop iterating x = g(x, θ), a bisection),
    marked with what it solves. Called, it runs the user's code, then checks the
    answer; differentiated, a call is an implicit solve whose forward step is that
    code: its derivative is seed 002's, and nothing of the loop is stored."""

    def __init__(self, solver: Callable, function: Callable, kind: str, tol: float):
        _check_options(kind, function, tol, 1, "dense" if kind == "root" else "auto")
        if not callable(solver):
            raise ArgumentError(f"{kind}_of(...) marks a function, not "
                                f"{type(solver).__name__}", hint=f"@s2sad.{kind}_of(g)")
        self.solver, self.function, self.kind, self.tol = solver, function, kind, tol
        functools.update_wrapper(self, solver)

    def __call__(self, x0: Any, *params: Any) -> Any:
        solve = fixed_point if self.kind == "fixed_point" else root
        return solve(self.function, x0, *params, tol=self.tol, solver=self)

    def __repr__(self) -> str:
        return f"<{self.solver.__name__}: solves {self.kind} of {_name(self.function)}>"


_OF_LEAVES: Dict[tuple, MarkedSolver] = {}


def marked_of_leaves(marked: MarkedSolver, solver: Callable, function: Callable) -> MarkedSolver:
    """The mark of `marked`'s solver and map taking a structure's leaves one by one (one
    object per pair, so that a solve's companions are compiled once)."""
    key = (marked, solver, function)
    if key not in _OF_LEAVES:
        _OF_LEAVES[key] = MarkedSolver(solver, function, marked.kind, marked.tol)
    return _OF_LEAVES[key]


def fixed_point_of(g: Callable, *, tol: float = 1e-10) -> Callable[[Callable], MarkedSolver]:
    """Mark a function `solve(x0, *params)` written by hand (a loop until a tolerance)
    as returning x* = g(x*, *params): differentiated, its calls are differentiated
    implicitly (as s2sad.fixed_point's) instead of through the loop. Its answers must
    satisfy the equation to sqrt(tol) relative to x, or ConvergenceError is raised."""
    return lambda solver: MarkedSolver(solver, g, "fixed_point", tol)


def root_of(F: Callable, *, tol: float = 1e-10) -> Callable[[Callable], MarkedSolver]:
    """Mark a function `solve(x0, *params)` written by hand as returning x* with
    F(x*, *params) = 0 (to sqrt(tol)): differentiated implicitly, as s2sad.root."""
    return lambda solver: MarkedSolver(solver, F, "root", tol)


def _run_solver(solver: Callable, g: Callable, x: Any, params: tuple) -> Any:
    if isinstance(solver, MarkedSolver):
        return solver.solver(x, *params)
    return solver(g, x, *params)


def _checked_fixed_point(g: Callable, x: Any, params: tuple, tol: float, what: str) -> Any:
    residual = _max_abs(np.subtract(g(x, *params), x))
    if not residual <= math.sqrt(tol) * (1.0 + _max_abs(x)):
        raise ConvergenceError(
            f"{what} returned a point that is not a fixed point of {_name(g)}: "
            f"max |g(x) - x| is {residual:.3g}", residual, 0,
            hint=f"iterate to a tighter tolerance (below {math.sqrt(tol):g} relative to "
                 "x), or pass a larger tol= where it is marked")
    return x


# -- runtime helpers of the generated companions --------------------------------------

def converged(new: Any, old: Any, tol: float, scale: Any = None) -> bool:
    """No entry changed by more than tol relative to the larger of the size of `new`
    and that of `scale` (for a linear equation's iteration, its right-hand side, so
    that multipliers and tangents scale with the seed), or without one, of 1 + the size
    of `new`; a NaN or an infinity never converges."""
    change, size = _max_abs(np.subtract(new, old)), _max_abs(new)
    if not (math.isfinite(change) and math.isfinite(size)):
        return False
    kind = np.result_type(new)
    if kind.kind == "f":  # (no tighter than the dtype resolves: float32 steps cycle
        tol = max(tol, 4 * float(np.finfo(kind).eps))  # an ulp apart below 1e-7)
    if scale is not None:
        return change <= tol * max(size, _max_abs(scale))
    return change <= tol * (1.0 + size)


def not_converged(what: str, new: Any, old: Any, tol: float, max_iter: int) -> ConvergenceError:
    change = _max_abs(np.subtract(new, old))
    return ConvergenceError(
        f"{what} did not converge: after {max_iter} iterations a step still changes x "
        f"by {change:.3g} (tol {tol:g} relative to max |x| = {_max_abs(new):.3g})",
        change, max_iter,
        hint="raise max_iter= or loosen tol=; the iteration converges only where the map "
             "is a contraction near the solution (every eigenvalue of its Jacobian "
             "below 1 in size): a damped map x + a * (g(x) - x) may be one; for the "
             "multipliers or tangents of a solution found by a solver of yours, pass "
             "solve='dense'")


def iterations(x: Any, max_iter: int) -> int:
    """How many steps "auto" iterates a linear equation on arrays shaped like x before
    it solves it densely (see DENSE_LIMIT)."""
    size = int(np.size(x))
    return min(size, max_iter) if size <= DENSE_LIMIT else max_iter


def affine_fixed_point(h: Callable, lam0: Any, *params: Any) -> Any:
    """A solver for fixed_point(h, lam0, *params, solver=affine_fixed_point) where h is
    affine in lam (seed 002's multiplier step, lam -> dx + Aᵀ lam): small, one dense
    solve of (I - A) lam = h(0); large, the iteration."""
    size = int(np.size(lam0))
    if size > DENSE_SIZE_SOLVED:
        return fixed_point(h, lam0, *params)
    zero = np.zeros_like(lam0) if np.ndim(lam0) else 0.0
    offset = h(zero, *params)
    linear = rows(lambda unit: np.subtract(h(unit, *params), offset), lam0).T
    return solve_linear(identity_minus(linear), offset)


def rows(linear_map: Callable[[Any], Any], x: Any) -> np.ndarray:
    """The matrix of a linear map on arrays shaped like x, one row per entry of x:
    row i is linear_map(e_i), flattened (a vjp gives the Jacobian's rows this way, a
    jvp its columns)."""
    size = int(np.size(x))
    matrix = np.empty((size, size), dtype=np.result_type(x, np.float64))
    for i in range(size):
        unit = np.zeros(size, dtype=matrix.dtype)
        unit[i] = 1.0
        seed = unit.reshape(np.shape(x)) if np.ndim(x) else unit[0]
        matrix[i] = np.ravel(linear_map(seed))
    return matrix


def identity_minus(A: np.ndarray) -> np.ndarray:
    """I - A."""
    return np.eye(A.shape[0], dtype=A.dtype) - A


def solve_linear(A: np.ndarray, b: Any) -> Any:
    """The solution of A u = b for u shaped like b (a number for a number)."""
    try:
        u = np.linalg.solve(A, np.ravel(b))
    except np.linalg.LinAlgError:
        raise _singular() from None
    return u.reshape(np.shape(b)) if np.ndim(b) else u[0]


def nonsingular(a: Any) -> Any:
    """a, a number the derivative divides by: zero means the solution does not move
    smoothly with the parameters, so there is no derivative to give."""
    if a == 0 or not math.isfinite(a):
        raise _singular()
    return a


def _singular() -> S2SADError:
    return S2SADError(
        "the implicit solve's equation is singular at the solution (I - ∂g/∂x, or "
        "∂F/∂x for a root, has no inverse): the solution does not move smoothly with "
        "the parameters, so it has no derivative there",
        hint="check that the solution is isolated (a fixed point where ∂g/∂x = 1, a "
             "double root, is not); a nearby parameter value may be regular")


# -- what lower makes of a call -----------------------------------------------------

@dataclass(eq=False)
class Solve:
    """A solver as a differentiated call uses it: `fixed_point` or `root`, its function
    g (F) and options, fixed when the code is compiled; reverse and forward mode read it
    for the companions that differentiate it (one Solve per function and options, so
    that they are compiled once)."""

    kind: str                       # "fixed_point" | "root"
    function: Callable
    tol: float
    max_iter: int
    method: str                     # "auto" | "iterate" | "dense"
    solver: Optional[Callable] = None
    _companions: Dict[tuple, "Companion"] = field(default_factory=dict)

    def companion(self, mode: str, active: Tuple[int, ...], ranks: Optional[tuple],
                  names: Tuple[str, Sequence[str]]) -> "Companion":
        """The generated code differentiating this solve for these differentiated
        parameters (positions among *params) and ranks (of x, then the parameters):
        compiled once per such key and names."""
        key = (mode, active, ranks, names[0], tuple(names[1]))
        made = self._companions.get(key)
        if made is None:
            from . import companions
            made = companions.make(self, mode, active, ranks, names[0], list(names[1]))
            self._companions[key] = made
        return made


@dataclass
class Companion:
    """A generated module beside the derivative: its text (printed after the
    derivative's), the function the derivative calls, and for reverse mode the
    pullback through ∂g/∂θ it calls after it."""

    name: str
    function: Callable
    source: str
    pullback_name: Optional[str] = None  # reverse mode: vjp of g wrt the parameters
    pullback: Optional[Callable] = None
    pullback_seed: str = ""


_SOLVES: Dict[tuple, Solve] = {}
# (solver, function, options) -> where a differentiated function calls it: a solve that
# fails inside generated code is reported at the user's line
_SITES: Dict[tuple, Location] = {}  # (the first such call, where no line is known)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:  # (a solver object defining __eq__ without __hash__)
        return False
    return True


# (generated code's file, line) -> the user's call of the solve that line makes
_CALL_SITES: Dict[Tuple[str, int], Location] = {}


def note_call_sites(function: Callable, source: str, func: Any) -> None:
    """Where the generated `function` (from `source`, made of the gast `func`) calls
    fixed_point or root, which call of the user's each line came from: both trees'
    solver calls, in the same (breadth-first) order."""
    import ast
    import gast
    from .anno import get_anno
    made = [get_anno(node, "location") for node in gast.walk(func)
            if isinstance(node, gast.Call) and get_anno(node.func, "resolved") in SOLVERS]
    if not any(made):
        return
    tree = next((n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and
                 n.name == func.name), None)
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and
             ast.unparse(node.func).rpartition(".")[2] in SOLVERS_BY_KIND] if tree else []
    if len(lines) == len(made):
        filename = function.__code__.co_filename
        for line, location in zip(lines, made):
            if location is not None:
                _CALL_SITES[(filename, line)] = location


def _options_key(kind: str, function: Callable, tol: float, max_iter: int, method: str,
                 solver: Optional[Callable]) -> tuple:
    """A solve's function and options as a dict key (an unhashable solver by identity)."""
    return (kind, function, tol, max_iter, method,
            solver if _hashable(solver) else ("id", id(solver)))


def _located(exc: S2SADError, key: tuple) -> S2SADError:
    """`exc` at the user's call of the solve, where generated code made the call."""
    frame = sys._getframe(2)
    caller = frame.f_code.co_filename
    location = (_CALL_SITES.get((caller, frame.f_lineno)) or _SITES.get(
        _options_key(*key))) if exc.location is None and caller.startswith("<s2sad ") \
        else None
    if location is None:
        return exc
    if isinstance(exc, ConvergenceError):
        return ConvergenceError(exc.message, exc.residual, exc.iterations, location, exc.hint)
    return type(exc)(exc.message, location, exc.hint)


def solve_for(kind: str, function: Callable, tol: float, max_iter: int, method: str,
              solver: Optional[Callable], location: Optional[Location]) -> Solve:
    """The Solve of a function and options (one object for each, so that its companions
    are compiled once), noting the call's location for the errors of a solve run where
    no generated line is known (see note_call_sites)."""
    _check_options(kind, function, tol, max_iter, method)
    key = _options_key(kind, function, tol, max_iter, method, solver)
    if location is not None:
        _SITES.setdefault(key, location)
    made = _SOLVES.get(key)
    if made is None:
        made = _SOLVES[key] = Solve(kind, function, tol, max_iter, method, solver)
    return made


def solve_of(call: Any, location: Optional[Location]) -> Solve:
    """The Solve of a lowered call `fixed_point(g, x0, *params, tol=...)` (lower has
    checked it: g a module-level function, the options constants)."""
    from .anno import get_anno
    kind = SOLVERS[get_anno(call.func, "resolved")]
    options = {k.arg: get_anno(k.value, "resolved") if k.arg == "solver" else k.value.value
               for k in call.keywords}
    options = {**default_options(kind), **options}
    return solve_for(kind, get_anno(call.args[0], "resolved"), options["tol"],
                     options["max_iter"], options["solve"], options["solver"], location)


def default_options(kind: str) -> Dict[str, Any]:
    """The keywords of fixed_point (root) and their defaults."""
    return {"tol": 1e-10, "max_iter": 1000 if kind == "fixed_point" else 100,
            "solve": "auto" if kind == "fixed_point" else "dense", "solver": None}


# -- details ------------------------------------------------------------------------

def _check_options(what: str, g: Any, tol: Any, max_iter: Any, solve: Any) -> None:
    if not callable(g):
        raise ArgumentError(f"{what}'s first argument must be a function, not "
                            f"{type(g).__name__}", hint=f"{what}(g, x0, *params)")
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol > 0:
        raise ArgumentError(f"{what}'s tol must be a positive number, not {tol!r}",
                            hint="tol=1e-10")
    if not isinstance(max_iter, (int, np.integer)) or isinstance(max_iter, bool) or \
            max_iter < 1:
        raise ArgumentError(f"{what}'s max_iter must be a positive int, not {max_iter!r}",
                            hint="max_iter=1000")
    if solve not in _METHODS:
        raise ArgumentError(f"{what}'s solve must be one of {', '.join(map(repr, _METHODS))}, "
                            f"not {solve!r}", hint="solve='auto'")
    if what == "root" and solve == "iterate":
        raise ArgumentError("root's multipliers are found by a dense solve only",
                            hint="leave solve= out (or pass solve='dense')")


def _start(x0: Any, what: str) -> Any:
    """x0 as the solver iterates it: a float, or a float array of its own (never the
    caller's, which no step writes into)."""
    if isinstance(x0, (list, tuple)) and all(
            isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
            for v in np.ravel(np.asarray(x0, dtype=object))):
        x0 = np.asarray(x0, dtype=np.float64)  # ([0.0, 0.0]: as np.array would read it)
    if isinstance(x0, (bool, np.bool_)) or not isinstance(x0, (int, float, np.number,
                                                             np.ndarray)):
        raise ArgumentError(f"{what}'s x0 must be a float or a float array, not "
                            f"{type(x0).__name__}", hint="x0=np.zeros(n) or x0=0.0")
    if isinstance(x0, np.ndarray):
        return np.array(x0, dtype=np.result_type(x0, np.float64) if x0.dtype.kind != "f"
                        else x0.dtype)
    if isinstance(x0, np.floating):
        return x0  # (np.float32(0.0): its precision kept)
    return float(x0)


def _same_kind(value: Any, x: Any, g: Callable, what: str) -> Any:
    """g's value where x was: the same shape (a float stays a float)."""
    if np.shape(value) != np.shape(x):
        raise ArgumentError(
            f"{what}: {_name(g)} returned shape {np.shape(value)} for x of shape "
            f"{np.shape(x)}", hint=f"{_name(g)}(x, *params) must return an array shaped "
                                   "like x (the solution has x0's shape)")
    return _like_start(value, x)


def _like_start(value: Any, x: Any) -> Any:
    if isinstance(x, np.generic):
        return np.asarray(value)[()]
    return float(value) if isinstance(x, float) else np.asarray(value)


def _shown(x: Any) -> str:
    return f"{x:.6g}" if np.ndim(x) == 0 else f"an array with max |x| = {_max_abs(x):.3g}"


def _fresh(x: Any, params: tuple) -> Any:
    """The solution as an array of its own: g may hand back one of its parameters (or a
    view), which the caller's code may then write into."""
    if isinstance(x, np.ndarray) and any(np.shares_memory(x, p) for p in params
                                         if isinstance(p, np.ndarray)):
        return x.copy()
    return x


def _max_abs(value: Any) -> float:
    return float(np.max(np.abs(value))) if np.size(value) else 0.0


def argument_names(function: Callable, fallback: List[str]) -> List[str]:
    """Names for the arguments a solve passes its function (x, then the parameters):
    the function's own positional parameters', then `fallback`'s (where it takes *args)."""
    try:
        own = [p.name for p in inspect.signature(function).parameters.values()
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        own = []
    return (own + fallback[len(own):])[:len(fallback)]


def _name(function: Any) -> str:
    """A function's name for generated code: a module-level lambda's is the name its
    module binds it to."""
    name = getattr(function, "__name__", None) or type(function).__name__
    if getattr(function, "_s2sad_transform", False):  # (root(s2sad.grad(f), ...))
        return f"{function.mode if function.mode != 'reverse' else 'grad'}_{name}"
    if name != "<lambda>":
        return name
    bound = (k for k, v in getattr(function, "__globals__", {}).items() if v is function)
    return next(bound, "g")


_JACOBIANS: Dict[Callable, Callable] = {}


def _newton_jacobian(F: Callable) -> Callable:
    """∂F/∂x by s2sad (forward mode: F is square), compiled once per F."""
    made = _JACOBIANS.get(F)
    if made is None:
        from .api import jacobian
        made = _JACOBIANS[F] = jacobian(F, wrt=0)
    return made


def _newton_step(J: Any, residual: Any, x: Any) -> Any:
    size = int(np.size(x))
    matrix = np.reshape(J, (size, size))
    try:
        step = np.linalg.solve(matrix, np.ravel(residual))
    except np.linalg.LinAlgError:
        step = np.linalg.lstsq(matrix, np.ravel(residual), rcond=None)[0]
    return step.reshape(np.shape(x)) if np.ndim(x) else step[0]


def _checked_root(F: Callable, x: Any, params: tuple, tol: float, steps: int,
                  what: str) -> Any:
    residual = _max_abs(F(x, *params))
    if not residual <= max(math.sqrt(tol), tol):
        raise ConvergenceError(
            f"{what} stopped at a point that is not a root: max |F(x)| is {residual:.3g}",
            residual, steps,
            hint="start nearer the root (x0): Newton's steps settled where F has a "
                 "minimum of |F| but no zero")
    return x
