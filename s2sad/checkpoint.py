"""`grad(f, checkpoint=k)`: binomial checkpointing of a counted loop.

The function's body is cut at its counted loop `for i in range(...)` into functions
of their own:

    before_loop(<f's parameters>)       the lines before the loop, and its range
    run_steps(part, <carried>, <inv.>)   the loop as written over a part of its range,
                                         returning the carried state (the names the
                                         body rebinds and later code reads)
    step(i, <carried>, <invariants>)     one iteration, read by the usual stages for
                                         its pullback vjp_step (one seed per carried
                                         value: reverse.py's seed_each)
    after_loop(<carried>, <others>)      the lines after it, ending in f's return

The generated gradient (a short driver, written out as Python for each set of
argument ranks) runs `before_loop`, lets `revolve.Revolve` run the steps keeping at
most k snapshots of the carried state, differentiates `after_loop`, has Revolve
reverse the steps (each `vjp_step` from the nearest snapshot, the steps in between
recomputed with `run_steps`), and ends with the pullback of `before_loop`. Memory is
k snapshots whatever the count; the recomputations are revolve's optimum.
"""
from __future__ import annotations

import builtins
import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import gast
import numpy as np

from . import codegen, frontend, pipeline, structured
from .anno import clone, names_in, walk
from .entry import REFUSALS, like
from .errors import ArgumentError, S2SADError, UnsupportedSyntaxError, entry_point
from .revolve import Revolve


def snapshots_of(checkpoint: Any, transform: str) -> Any:
    """The checked `checkpoint=` option: a count of snapshots, or {line: count} for
    one loop among several."""
    counts = checkpoint.values() if isinstance(checkpoint, dict) else [checkpoint]
    if isinstance(checkpoint, dict) and len(checkpoint) != 1 or \
            not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1
                    for k in counts):
        raise ArgumentError(
            f"checkpoint={checkpoint!r} is not a number of snapshots",
            hint=f"pass a positive int, e.g. s2sad.{transform}(f, checkpoint=20), or "
                 "{line: count} to choose one loop, e.g. checkpoint={12: 20}")
    return checkpoint


# -- cutting the function at its loop ----------------------------------------------

@dataclass
class Cut:
    """The function cut at its checkpointed loop, as three functions' trees."""

    parsed: frontend.Parsed
    loop: gast.For
    snapshots: int
    params: List[str]
    carried: List[str]       # what step takes and returns
    invariants: List[str]    # what step reads, bound before the loop
    made_before: List[str]   # what before_loop returns (bound by the lines before)
    after_inputs: List[str]  # what after_loop takes
    before: frontend.Parsed      # ... and the loop's range, for running it
    before_vjp: frontend.Parsed  # what before_loop returns, for its pullback
    step: frontend.Parsed       # one iteration, for its adjoint
    step_params: List[str]      # its parameters for carried + invariants
    run_steps: frontend.Parsed  # the loop over a part of its range
    after: frontend.Parsed

    @property
    def line(self) -> int:
        return self.loop.lineno


def cut(parsed: frontend.Parsed, checkpoint: Any) -> Cut:
    """Find the counted loop to checkpoint and the names crossing its boundaries;
    refuse what the cut cannot carry (located, with a hint)."""
    body = parsed.func.body
    counted = [k for k, s in enumerate(body)
               if isinstance(s, gast.For) and _is_range(s.iter, parsed)]
    if isinstance(checkpoint, dict):
        line, snapshots = next(iter(checkpoint.items()))
        chosen = [k for k in counted if body[k].lineno == line]
        if not chosen:
            raise UnsupportedSyntaxError(
                f"checkpoint={checkpoint!r} names line {line}, where {parsed.name} has no "
                "counted loop at the top of its body", parsed.locate(parsed.func),
                hint=_counted_lines(parsed, counted))
    else:
        snapshots, chosen = checkpoint, counted
    if not chosen:
        _refuse_without_loop(parsed)
    if len(chosen) > 1:
        loop = body[chosen[1]]
        raise UnsupportedSyntaxError(
            "checkpoint= needs to know which loop to checkpoint: "
            f"{parsed.name} has counted loops at lines "
            f"{', '.join(str(body[k].lineno) for k in chosen)}", parsed.locate(loop),
            hint=f"name one by its line, e.g. checkpoint={{{body[chosen[0]].lineno}: "
                 f"{snapshots}}}")
    at = chosen[0]
    loop = body[at]
    _refuse_unsteady(parsed, loop)
    pre = [s for s in body[:at] if not _is_docstring(s)]
    post = body[at + 1:]
    params = [a.id for a in frontend._all_params(parsed.func)]
    bound_before = set(params) | _stored(pre)
    in_body, read_in_body = _stored(loop.body), _read(loop.body)
    read_after = _read(post)
    index = loop.target.id
    if index in read_after:
        _refuse_name(parsed, post, index, "the loop's index is read after the loop",
                     f"compute it from the count after the loop (e.g. {index} = n - 1)")
    for v in sorted((in_body & read_after) - bound_before):
        _refuse_name(parsed, loop.body, v,
                     f"{v!r} is first bound inside the checkpointed loop and read after it",
                     f"bind {v} before the loop too (e.g. {v} = 0.0), so it is part of "
                     "the state the snapshots keep")
    assigned = set()
    for stmt in loop.body:  # a value read before the body binds it: last iteration's
        early = (_read([stmt]) & in_body) - _stored([stmt]) - assigned - bound_before
        for v in sorted(early):
            _refuse_name(parsed, [stmt], v,
                         f"{v!r} is read in the checkpointed loop before the body binds it: "
                         "it carries a value from one iteration to the next",
                         f"bind {v} before the loop too (e.g. {v} = 0.0), so it is part of "
                         "the state the snapshots keep")
        assigned |= _stored([stmt])
    order = _first_seen(parsed.func)
    carried = sorted((in_body & (read_in_body | read_after) & bound_before) - {index},
                     key=order)
    invariants = sorted((read_in_body - in_body - {index}) & bound_before, key=order)
    after_inputs = carried + sorted((read_after & bound_before) - set(carried), key=order)
    made_before = sorted((set(carried) | set(invariants) | set(after_inputs)) & _stored(pre),
                         key=order)
    before = _function(parsed, "before_loop", params, pre, made_before, parsed.func.lineno,
                       extra=[clone(loop.iter)])
    before_vjp = _function(parsed, "before_loop", params, pre, made_before,
                           parsed.func.lineno)
    # a step writing into an element of its state writes into a copy (a snapshot's
    # array, or the caller's, stays as it was)
    written = sorted(_stored_elements(loop.body) & set(carried), key=order)
    copies = [_copy(v, v, loop.lineno) for v in written]
    # (step takes such a value under a name of its own, c_in, and writes into
    # c = c_in.copy(): the front end takes c for a local then, in an inner loop too)
    taken = parsed.local_names | set(parsed.namespace)
    step_params = [_free(f"{v}_in", taken) if v in written else v
                   for v in carried] + invariants
    step = _function(parsed, "step", [index] + step_params,
                     [_copy(v, p, loop.lineno) for v, p in zip(carried, step_params)
                      if v in written] + loop.body, carried, loop.lineno)
    # the loop itself over a part of its range: the steps between two snapshots run
    # as fast as the primal's
    part = _free("part", taken)
    over_part = gast.For(target=clone(loop.target),
                         iter=gast.Name(id=part, ctx=gast.Load(), annotation=None,
                                        type_comment=None),
                         body=loop.body, orelse=[], type_comment=None)
    over_part.lineno, over_part.col_offset = loop.lineno, loop.col_offset
    run_steps = _function(parsed, "run_steps", [part] + carried + invariants,
                          copies + [over_part], carried, loop.lineno)
    after = _function(parsed, "after_loop", after_inputs, post, None, loop.lineno)
    return Cut(parsed, loop, snapshots, params, carried, invariants, made_before,
               after_inputs, before, before_vjp, step, step_params, run_steps, after)


def _is_range(node: gast.AST, parsed: frontend.Parsed) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == "range" and node.func.id not in parsed.local_names and \
        parsed.namespace.get("range", builtins.range) is builtins.range and \
        not node.keywords and 1 <= len(node.args) <= 3


def _counted_lines(parsed: frontend.Parsed, counted: List[int]) -> str:
    if not counted:
        return "write the loop as `for i in range(n):` at the top of the function body"
    lines = [str(parsed.func.body[k].lineno) for k in counted]
    return f"its counted loops are at line{'s' if len(lines) > 1 else ''} {', '.join(lines)}"


def _refuse_without_loop(parsed: frontend.Parsed) -> None:
    for stmt in parsed.func.body:
        for node in walk(stmt):
            if isinstance(node, gast.While):
                raise UnsupportedSyntaxError(
                    "checkpoint= needs a counted loop: a while loop's number of steps is "
                    "not known when it starts", parsed.locate(node),
                    hint="write it as `for i in range(n):` with the count n known on entry "
                         "(and an if inside for the steps to skip), or drop checkpoint=")
            if isinstance(node, gast.For):
                where = "at the top of the function body" if node in parsed.func.body \
                    else "at the top of the function body, not inside another statement"
                raise UnsupportedSyntaxError(
                    "checkpoint= needs a counted loop `for i in range(...)` " + where,
                    parsed.locate(node),
                    hint="iterate over range(n) at the top level of the function "
                         "(e.g. for i in range(len(xs)): x = xs[i]), or drop checkpoint=")
    raise UnsupportedSyntaxError(
        f"checkpoint= was given, but {parsed.name} has no loop to checkpoint",
        parsed.locate(parsed.func), hint="drop checkpoint=; it is for long counted loops")


def _refuse_unsteady(parsed: frontend.Parsed, loop: gast.For) -> None:
    """A step must be a function of the state: no early exit, no growing list."""
    what = f"the loop at line {loop.lineno}"
    if loop.orelse:
        raise UnsupportedSyntaxError(
            f"{what} has an else: clause, which checkpointing cannot split into steps",
            parsed.locate(loop.orelse[0]), hint="move the else: block after the loop")
    for node in _outside_inner_loops(loop.body):
        if isinstance(node, (gast.Break, gast.Continue)):
            kind = "break" if isinstance(node, gast.Break) else "continue"
            raise UnsupportedSyntaxError(
                f"{what} has a {kind}: checkpointing needs every iteration to be one "
                "whole step", parsed.locate(node),
                hint="guard the rest of the body with an if instead, or drop checkpoint=")
    for node in walk(loop):
        if isinstance(node, gast.Return):
            raise UnsupportedSyntaxError(
                f"{what} returns from inside: checkpointing needs every iteration to be one "
                "whole step", parsed.locate(node),
                hint="keep the result in a name and return after the loop")
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                node.func.attr in ("append", "extend", "insert", "pop") and \
                isinstance(node.func.value, gast.Name) and \
                node.func.value.id in parsed.local_names:
            raise UnsupportedSyntaxError(
                f"{what} grows a list ({node.func.value.id}.{node.func.attr}): its state "
                "is not a fixed set of values a snapshot can keep", parsed.locate(node),
                hint="write into a preallocated array instead (xs = np.zeros(n) before the "
                     "loop, xs[i] = ... in it), or drop checkpoint=")


def _outside_inner_loops(body: Sequence[gast.stmt]):
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While)):
            continue
        yield from walk(stmt)


def _refuse_name(parsed: frontend.Parsed, stmts, v: str, message: str, hint: str) -> None:
    node = next((n for n in names_in(stmts) if n.id == v), None)
    raise UnsupportedSyntaxError(message, parsed.locate(node), hint=hint)


def _is_docstring(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) and \
        isinstance(stmt.value.value, str)


def _stored(stmts: Sequence[gast.stmt]) -> set:
    """The locals the statements bind or write into (c[i] = ... changes c)."""
    names = {n.id for n in names_in(list(stmts)) if isinstance(n.ctx, gast.Store)}
    for node in (n for stmt in stmts for n in walk(stmt)):
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for target in (node.targets if isinstance(node, gast.Assign) else [node.target]):
                while isinstance(target, (gast.Subscript, gast.Attribute)):
                    target = target.value
                if isinstance(target, gast.Name):
                    names.add(target.id)
    return names


def _stored_elements(stmts: Sequence[gast.stmt]) -> set:
    """The names whose elements the statements write (c[i] = ..., c[i] += ...)."""
    names = set()
    for node in (n for stmt in stmts for n in walk(stmt)):
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for target in (node.targets if isinstance(node, gast.Assign) else [node.target]):
                if not isinstance(target, gast.Subscript):
                    continue
                while isinstance(target, gast.Subscript):
                    target = target.value
                if isinstance(target, gast.Name):
                    names.add(target.id)
    return names


def _free(base: str, taken: set) -> str:
    """base, or base_1, base_2, ...: a name none of f's names is."""
    return next(name for name in (base if k == 0 else f"{base}_{k}"
                                  for k in range(len(taken) + 1)) if name not in taken)


def _copy(v: str, source: str, lineno: int) -> gast.stmt:
    """v = source.copy(), at the loop's line."""
    stmt = gast.Assign(
        targets=[gast.Name(id=v, ctx=gast.Store(), annotation=None, type_comment=None)],
        value=gast.Call(func=gast.Attribute(
            value=gast.Name(id=source, ctx=gast.Load(), annotation=None, type_comment=None),
            attr="copy", ctx=gast.Load()), args=[], keywords=[]), type_comment=None)
    for node in walk(stmt):
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = \
            lineno, 0, None, None
    return stmt


def _read(stmts: Sequence[gast.stmt]) -> set:
    return {n.id for n in names_in(list(stmts)) if isinstance(n.ctx, gast.Load)}


def _first_seen(func: gast.FunctionDef) -> Callable[[str], tuple]:
    """Order names as the function first mentions them (parameters first)."""
    seen: Dict[str, tuple] = {}
    for k, arg in enumerate(frontend._all_params(func)):
        seen.setdefault(arg.id, (0, k))
    for node in names_in(func.body):
        seen.setdefault(node.id, (getattr(node, "lineno", None) or 0,
                                 getattr(node, "col_offset", None) or 0))
    return lambda v: (seen.get(v, (1 << 30, 0)), v)


def _function(parsed: frontend.Parsed, name: str, params: List[str], body, returns,
              lineno: int, extra: Sequence[gast.AST] = ()) -> frontend.Parsed:
    """A function of its own made of some of f's statements, at their own lines."""
    statements = clone(list(body))
    if returns is not None:
        values = [gast.Name(id=v, ctx=gast.Load(), annotation=None, type_comment=None)
                  for v in returns] + list(extra)
        statements.append(gast.Return(value=gast.Tuple(elts=values, ctx=gast.Load())))
        for node in walk(statements[-1]):  # (at the loop's line, as its state is)
            if getattr(node, "lineno", None) is None:
                node.lineno, node.col_offset = lineno, 0
                node.end_lineno = node.end_col_offset = None
    func = gast.FunctionDef(
        name=name, args=gast.arguments(
            args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
                  for p in params],
            posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]),
        body=statements or [gast.Pass()], decorator_list=[], returns=None,
        type_comment=None, type_params=[])
    func.lineno, func.col_offset = lineno, 0
    return dataclasses.replace(parsed, func=func, defaults={},
                               local_names=frozenset(frontend.bound_names(func)),
                               function=None, code=None)


# -- the checkpointed gradient --------------------------------------------------------

def _is_float(value: Any) -> bool:
    """A value the derivative follows: a float or complex number or array (not an int,
    a bool, a range)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc"
    return isinstance(value, (float, complex, np.inexact))


def _rank_of(value: Any) -> Optional[int]:
    return np.ndim(value) if isinstance(value, (numbers.Number, np.ndarray, np.generic)) \
        else None


@dataclass
class Driver:
    """The gradient for one set of argument ranks: the function that runs, the module
    text a user reads, and the pieces it calls."""

    function: Callable
    source: str
    seed: str
    probed: bool = True  # a step was run to see what the state becomes (not for n = 0)
    primals: tuple = ()   # the cut's functions as written, run as Python
    pieces: tuple = ()    # the derivatives s2sad generated

    def is_current(self) -> bool:
        """No helper redefined since, no distribution rebound (pipeline.Compiled's)."""
        return all(piece.is_current() for piece in self.pieces)

    def refresh_globals(self, parsed: frontend.Parsed) -> None:
        """Data globals and closure values read again, as every s2sad call does."""
        for piece in self.pieces:
            piece.refresh_globals()
        for name in parsed.namespace:
            if name in parsed.cells:
                try:
                    value = parsed.cells[name].cell_contents
                except ValueError:
                    continue
            elif parsed.live_globals is not None and name in parsed.live_globals:
                value = parsed.live_globals[name]
            else:
                continue
            if not callable(value) and not isinstance(value, type(np)):
                for function in self.primals:
                    function.__globals__[name] = value


class CheckpointedGradient:
    """Built by api.py's transforms given `checkpoint=` (see the module docstring);
    `transform` is the GradientFunction (or VJPFunction) it stands in for, which
    checks the calls and owns wrt, the signature and the refusals."""

    def __init__(self, transform: Any, checkpoint: Any):
        self.transform = transform
        self.checkpoint = checkpoint
        self._cut: Optional[Cut] = None
        self._code = None  # the function's code when it was cut
        self._drivers: Dict[tuple, Driver] = {}
        self._last: Optional[Driver] = None
        self.last_loop: Optional[Revolve] = None  # the last call's loop, with its counts

    @property
    def cut(self) -> Cut:
        if self._cut is None:
            fn = self.transform.fn
            if fn is None:
                raise UnsupportedSyntaxError(
                    "checkpoint= reads functions, not source text",
                    hint="define the function in a file and pass it to s2sad.grad")
            with pipeline.collector_paused():
                if structured.needs_desugar(fn):
                    raw = frontend.read_function(fn)  # (a loop growing a list: said where)
                    for stmt in raw.func.body:
                        if isinstance(stmt, gast.For) and _is_range(stmt.iter, raw):
                            _refuse_unsteady(raw, stmt)
                    # tuple assignments, comprehensions, lambdas: rewritten first
                    params = list(self.transform._signature.parameters)
                    parsed = structured.flatten_function(
                        fn, {p: None for p in params}, self.transform.wrt_names).parsed
                else:
                    parsed = frontend.parse_function(fn)
                self._cut = cut(parsed, self.checkpoint)
            self._code = getattr(fn, "__code__", None)
        return self._cut

    @property
    def source(self) -> str:
        """The code the last call ran (before any call: for float arguments of any
        rank)."""
        if self._last is None:
            self._last = self._driver({p: None for p in self.cut.params})
        return self._last.source

    def run(self, args: tuple, kwargs: dict, seed: Any = 1.0) -> Any:
        """(value, gradients as the generated code returns them) of one call."""
        bound = self.transform._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for p, v in bound.arguments.items():
            if not isinstance(v, (numbers.Number, np.ndarray, np.generic)):
                raise ArgumentError(
                    f"argument {p!r} is a {type(v).__name__}: checkpoint= differentiates "
                    "functions of numbers and arrays",
                    hint="pass the arrays themselves as arguments (not in a dict, list or "
                         "object), or drop checkpoint=")
        fn = self.transform.fn
        if self._cut is not None and getattr(fn, "__code__", None) is not self._code:
            self._cut, self._drivers = None, {}  # (the function was given new code)
        cut = self.cut
        # the lines before the loop run as written: on copies (x += 1 must not
        # change the caller's array)
        values = [np.copy(v) if isinstance(v, np.ndarray) else v
                  for v in (bound.arguments[p] for p in cut.params)]
        key = tuple((_rank_of(v), _is_float(v)) for v in values)
        driver = self._drivers.get(key)
        if driver is None or not driver.is_current():
            driver = self._driver(dict(zip(cut.params, values)))
            if driver.probed:
                self._drivers[key] = driver
        self._last = driver
        driver.refresh_globals(cut.parsed)
        try:
            result = driver.function(*values, **{driver.seed: seed})
        except REFUSALS as exc:
            raise self.transform._refusal(exc) from None
        return result if self.transform.with_value else (None, result)

    # -- making the driver -------------------------------------------------------

    def _driver(self, arguments: Dict[str, Any]) -> Driver:
        """Compile the pieces for these arguments (None: for floats of any rank) and
        write the function calling them."""
        cut, transform = self.cut, self.transform
        generic = all(v is None for v in arguments.values())
        before = _primal(cut.before)
        step = _primal(cut.run_steps)
        env = dict(arguments)
        # what the adjoints follow: the differentiated parameters, and the float values
        # made before the loop or carried by it
        floats = {v: v in transform.wrt_names and (generic or _is_float(x))
                  for v, x in arguments.items()}
        ranks = {v: _rank_of(x) for v, x in arguments.items()}
        probed = True
        if not generic:
            *made, steps = before(*arguments.values())
            env.update(zip(cut.made_before, made))
            for v in cut.made_before + cut.carried:
                floats[v], ranks[v] = _is_float(env[v]), _rank_of(env[v])
            probed = self._probe(step, steps, env, floats)
        else:
            for v in cut.made_before + cut.carried:
                floats[v], ranks[v] = True, ranks.get(v)
        step_inputs = cut.carried + cut.invariants
        mode = "pullback" if getattr(transform, "mode", "") == "pullback" else "reverse"
        pieces = {
            "step_adjoint": self._compiled(cut.step, [p for v, p in zip(
                step_inputs, cut.step_params) if floats[v]],
                                           [0] + [ranks[v] for v in step_inputs], "step"),
            "after": self._compiled(cut.after, [v for v in cut.after_inputs if floats[v]],
                                    [ranks[v] for v in cut.after_inputs], mode, True),
            "before_adjoint": self._compiled(cut.before_vjp, [
                p for p in transform.wrt_names if p in _read(cut.before_vjp.func.body)],
                                             [ranks[v] for v in cut.params], "step")
            if cut.made_before else None,
        }
        driver = _write_driver(cut, transform, floats, before, step, pieces, self._revolve)
        driver.probed = probed
        return driver

    def _revolve(self, *args: Any) -> Revolve:
        """Revolve(...), kept as the last call's loop (its counts, for tests)."""
        self.last_loop = Revolve(*args)
        return self.last_loop

    def _compiled(self, parsed: frontend.Parsed, wrt: Sequence[str], ranks: list,
                  mode: str, with_value: bool = False) -> Optional[pipeline.Compiled]:
        from .api import _compile
        if not wrt:
            return None
        generic = all(r is None for r in ranks[1:] or ranks)
        return _compile(None, parsed, tuple(wrt), with_value, self.transform.optimize,
                        ranks=None if generic else tuple(ranks), mode=mode)

    def _probe(self, step: Callable, steps: range, env: Dict[str, Any],
               floats: Dict[str, bool]) -> bool:
        """One step on copies: a carried value must keep its rank (the code is compiled
        for it), and one that becomes a float is followed from the start."""
        cut = self.cut
        if not cut.carried:
            return True
        if not len(steps):
            return False
        state = [np.copy(env[v]) if isinstance(env[v], np.ndarray) else env[v]
                 for v in cut.carried]
        after = step(steps[0:1], *state, *(env[v] for v in cut.invariants))
        for v, old, new in zip(cut.carried, state, after):
            if _rank_of(old) != _rank_of(new):
                _refuse_name(cut.parsed, cut.loop.body, v,
                             f"{v!r} changes its shape in the checkpointed loop (a "
                             f"{_rank_of(old)}-d value before it, {_rank_of(new)}-d after "
                             "one step)", f"start {v} with the shape the loop gives it "
                             f"(e.g. {v} = np.zeros_like(...))")
            floats[v] = floats.get(v) or _is_float(old) or _is_float(new)
        return True


def _primal(parsed: frontend.Parsed) -> Callable:
    """One of the cut's functions as written, run as Python."""
    source = codegen.function_source(parsed.func)
    namespace = {"__builtins__": builtins, **parsed.namespace}
    function = codegen.load(source, parsed.func.name, namespace,
                            f"{parsed.func.name} of {parsed.filename}")
    function.source = source
    return function


class _Names:
    """Fresh names for the driver's adjoints: dx, then dx_1, ... (clear of f's names)."""

    def __init__(self, taken: set):
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        candidate, k = base, 0
        while candidate in self.taken:
            k += 1
            candidate = f"{base}_{k}"
        self.taken.add(candidate)
        return candidate


def _tuple(items: Sequence[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _lines_text(statements: Sequence[gast.stmt]) -> str:
    """'lines 7-9': where some of f's statements are."""
    lines = sorted({n.lineno for s in statements for n in walk(s)
                    if getattr(n, "lineno", None)})
    if not lines:
        return ""
    return f"line {lines[0]}" if lines[0] == lines[-1] else f"lines {lines[0]}-{lines[-1]}"


def _write_driver(cut: Cut, transform: Any, floats: Dict[str, bool], before: Callable,
                  step: Callable, pieces: Dict[str, Optional[pipeline.Compiled]],
                  revolve: Callable) -> Driver:
    """The generated gradient: plain Python calling the pieces, as a user would write
    it by hand around a revolve library."""
    parsed = cut.parsed
    fname = parsed.name
    fresh = _Names(set(parsed.local_names) | set(parsed.namespace) |
                   {"Revolve", "np", "before_loop", "run_steps", "loop", "steps"})
    seed = fresh(f"d{fname}")
    value = fresh(f"{fname}_value") if fname in parsed.local_names else fresh(fname)
    contributions: Dict[str, List[str]] = {}

    def total(v: str) -> str:
        terms = contributions.pop(v, [])
        return " + ".join(terms) if terms else "0.0"

    def assign(names: List[str]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names)

    params = ", ".join(cut.params)
    carried = cut.carried
    # a parameter rebound before or in the loop is a name of its own here: the
    # pullback of before_loop takes the parameters as they were passed
    var = {v: fresh(v) if v in cut.params else v for v in cut.made_before + carried}
    state = _tuple([var[v] if v in cut.made_before else v for v in carried])
    kind = "vjp" if transform.mode == "pullback" else \
        "value_and_grad" if transform.with_value else "grad"
    lines = [f"def {kind}_{fname}"
             f"({params}, *, {seed}=1.0):"]
    made = [var[v] for v in cut.made_before] + ["steps"]
    before_lines = _lines_text(cut.before.func.body[:-1])
    lines.append(f"    # {before_lines} as written, and the loop's range" if before_lines
                 else "    # the loop's range")
    lines.append(f"    {', '.join(made)}{',' if len(made) == 1 else ''} = before_loop({params})")
    invariants = _tuple([var.get(v, v) for v in cut.invariants])
    differentiated = _tuple([str(floats[v]) for v in carried])
    step_adjoint = pieces["step_adjoint"]
    inv_float = [v for v in cut.invariants if floats[v]]
    lines.append(f"    # the loop at line {cut.line}: at most {cut.snapshots} snapshots of "
                 f"{', '.join(carried) or 'nothing'}")
    adjoint_name = step_adjoint.function_name if step_adjoint else "None"
    lines.append(f"    loop = Revolve(run_steps, {adjoint_name}"
                 f", steps, {cut.snapshots}, {invariants}, {differentiated}, "
                 f"{_tuple([str(floats[v]) for v in cut.invariants])})")
    if carried:
        lines.append(f"    {assign([var[v] for v in carried])}{',' if len(carried) == 1 else ''} = "
                     f"loop.forward({state})")
    after = pieces["after"]
    if after is not None:
        after_wrt = after.wrt
        grads = [fresh(f"d{v}") for v in after_wrt]
        for v, g in zip(after_wrt, grads):
            contributions.setdefault(v, []).append(g)
        lines.append(f"    # {_lines_text(cut.after.func.body)}: the value and its adjoint")
        lines.append(f"    {value}, {_tuple(grads) if len(grads) > 1 else grads[0]} = "
                     f"{after.function_name}"
                     f"({', '.join(var.get(v, v) for v in cut.after_inputs)}, "
                     f"{after.added_params[0]}={seed})")
    else:
        inputs = ", ".join(var.get(v, v) for v in cut.after_inputs)
        lines.append(f"    {value} = after_loop({inputs})")
    if step_adjoint is not None:
        lines.append(f"    # adjoint of the loop at line {cut.line}: each step again from the "
                     "nearest snapshot")
        seeds = [total(v) if floats[v] else "0.0" for v in carried]
        outs = [fresh(f"d{v}") if floats[v] else "_" for v in carried]
        inv_grads = [fresh(f"d{v}") for v in inv_float]
        for v, g in zip(carried + inv_float, outs + inv_grads):
            if g != "_":
                contributions.setdefault(v, []).append(g)
        lines.append(f"    {_tuple(outs)}, {_tuple(inv_grads)} = loop.adjoint({_tuple(seeds)})")
    before_adjoint = pieces["before_adjoint"]
    if before_adjoint is not None:
        seeds = [total(v) for v in cut.made_before]
        grads = [fresh(f"d{p}") for p in before_adjoint.wrt]
        lines.append(f"    # adjoint of {_lines_text(cut.before_vjp.func.body[:-1])}")
        lines.append(f"    {assign(grads)} = {before_adjoint.function_name}({params}, "
                     f"{', '.join(seeds)})")
        for p, g in zip(before_adjoint.wrt, grads):
            contributions.setdefault(p, []).append(g)
    results = [total(p) if p in contributions else f"np.zeros_like({p})"
               for p in transform.wrt_names]
    returned = results[0] if len(results) == 1 else "(" + ", ".join(results) + ")"
    lines.append(f"    return {value}, {returned}" if transform.with_value else
                 f"    return {returned}")
    text = "\n".join(lines) + "\n"
    after_primal = _primal(cut.after) if after is None else None
    namespace = {"__builtins__": builtins, "np": np, "Revolve": revolve,
                 "before_loop": before, "run_steps": step, "after_loop": after_primal}
    for piece in pieces.values():
        if piece is not None:
            namespace[piece.function_name] = piece.function
    function = codegen.load(text, lines[0][4:lines[0].index("(")], namespace,
                            f"checkpointed gradient of {parsed.filename}")
    return Driver(function, _module_text(cut, transform, seed, text, before, step, pieces),
                  seed, primals=tuple(f for f in (before, step, after_primal) if f),
                  pieces=tuple(p for p in pieces.values() if p is not None))


def _module_text(cut: Cut, transform: Any, seed: str, driver: str, before: Callable,
                 step: Callable,
                 pieces: Dict[str, Optional[pipeline.Compiled]]) -> str:
    parsed = cut.parsed
    header = [
        f"# Reverse-mode gradient of {parsed.name} ({parsed.filename}:{parsed.func.lineno}), "
        "generated by s2sad, with binomial checkpointing.",
        f"#   output:        {parsed.name} (seed {seed})",
        f"#   differentiate: {', '.join(transform.wrt_names)}",
        f"#   stored:        {', '.join(cut.carried) or 'nothing'}: at most {cut.snapshots} "
        f"snapshots (binomial checkpointing, loop at line {cut.line})",
        "#   recomputes:    the fewest steps k snapshots allow (Griewank & Walther's "
        "revolve, s2sad.revolve)",
        "import numpy as np",
        "from s2sad.revolve import Revolve",
    ]
    parts = ["\n".join(header) + "\n", driver,
             f"# the lines before the loop, as written\n{before.source}",
             f"# the loop at line {cut.line} as written, over a part of its range\n"
             f"{step.source}"]
    parts += [piece.source for piece in pieces.values() if piece is not None]
    return "\n\n".join(parts)


# -- the transforms api.py builds with checkpoint= -------------------------------------

from . import api  # noqa: E402  (api.py imports this module when checkpoint= is given)
from .errors import CallError, without_internal_frames  # noqa: E402


class CheckpointedGradientFunction(api.GradientFunction):
    """grad / value_and_grad with checkpoint=: calls run the checkpointed driver."""

    def __init__(self, fn: Callable, wrt: Any, checkpoint: Any, **options: Any):
        super().__init__(fn, wrt, **options)
        self.checkpointed = CheckpointedGradient(self, checkpoint)

    @property
    @entry_point
    def source(self) -> str:
        return self.checkpointed.source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._binds:
            args, kwargs = self._target.arguments(args, kwargs)
        try:
            self._check_call(args, kwargs)
            inputs = self._differentiated_inputs(args, kwargs)
            value, grads = self.checkpointed.run(args, kwargs)
        except (S2SADError, CallError) as exc:
            raise without_internal_frames(exc)
        grads = self._shaped(grads, inputs)
        return (value, grads) if self.with_value else grads

    def _shaped(self, grads: Any, inputs: list) -> Any:
        """In the inputs' types and shapes, a tuple where wrt was one."""
        grads = (grads,) if len(inputs) == 1 else grads
        grads = api._distinct(tuple(like(g, x) for g, x in zip(grads, inputs)), inputs)
        return grads[0] if self.single else grads


class CheckpointedVJPFunction(api.VJPFunction):
    """vjp with checkpoint=: the pullback runs the checkpointed driver (forward sweep
    and reversal) with the cotangent as its seed."""

    def __init__(self, fn: Callable, wrt: Any, checkpoint: Any, **options: Any):
        super().__init__(fn, wrt, **options)
        self.checkpointed = CheckpointedGradient(self, checkpoint)

    @property
    @entry_point
    def source(self) -> str:
        return self.checkpointed.source

    @entry_point
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = self._target.arguments(args, kwargs)
        self._check_call(args, kwargs)
        inputs = self._differentiated_inputs(args, kwargs)
        args = tuple(api._copied(a) for a in args)
        kwargs = {k: api._copied(v) for k, v in kwargs.items()}
        value = api._value_on_copies(self.fn, args, kwargs)

        @entry_point
        def pullback(cotangent: Any) -> Any:
            grads = self.checkpointed.run(args, kwargs,
                                          api._tangent_like(cotangent, value, "cotangent"))[1]
            return CheckpointedGradientFunction._shaped(self, grads, inputs)

        return value, pullback
