"""The one ordered list of stages. Every transform runs through `differentiate`.

    parse -> lower -> analyse -> reverse | forward -> optimize -> codegen -> load

(for dask arrays, a laziness check after lower; for dask's and CuPy's, dispatch
after optimize)
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

import gast

from . import (analysis, arrays, codegen, dispatch, floats, forward, implicit, jit, laziness,
               lower, optimize, patterns, reverse, rules)
from .anno import get_anno
from .distributions import is_distribution
from .frontend import Parsed

STAGES = (
    ("parse", "source text -> checked gast function with resolved names"),
    ("lower", "one operation per assignment, SSA versions, shared subexpressions"),
    ("laziness", "(dask) refuse what needs the data's values: if, float(), row loops"),
    ("analyse", "activity and shape classes"),
    ("reverse", "primal sweep + adjoint sweep from rule templates"),
    ("forward", "(or) each primal line followed by its tangent line"),
    ("optimize", "constant folding, dead code, version coalescing, in-place +="),
    ("dispatch", "(dask, CuPy) no writes into arrays, their spellings of what they lack"),
    ("codegen", "module text with header, comments and imports; compile"),
)


@dataclass
class Compiled:
    """A generated derivative: the module text users read and the function it defines."""

    source: str
    function: Callable
    function_name: str
    wrt: Sequence[str]
    live_globals: Optional[Dict[str, Any]] = None
    global_names: Sequence[str] = ()
    inlined: tuple = ()         # helpers whose bodies are in the code, as they were then
    # (function, the __code__ it had when read): the function and the helpers inlined;
    # IPython's autoreload (and jurigged) give an edited function a new __code__ in place
    codes: tuple = ()
    added_params: tuple = ()    # the seed (reverse) or the tangents (forward) it takes
    jit: bool = False           # run through Numba where it accepts the code
    # the same derivative with math functions, for calls passing Python numbers only
    floats: Optional["Compiled"] = None
    _data_globals: Optional[list] = None
    _distribution_globals: Optional[list] = None
    # (name, cell, value then) of the closure variables read: read again at each call
    # like globals (a closure variable rebound since is seen)
    cells: tuple = ()
    lazy: bool = False          # compiled for dask arrays: a compute inside is refused

    @property
    def runner(self) -> Callable:
        """What a call runs: the function, or (jit) the function compiled by Numba, or
        (dask arrays) the function under a guard refusing any compute."""
        if self.lazy:
            if getattr(self, "_guarded", None) is None:
                self._guarded = _computing_nothing(self.function)
            return self._guarded
        if not self.jit:
            return self.function
        if getattr(self, "_jitted", None) is None:
            self._jitted = jit.JitFunction(self.function)
        return self._jitted

    def is_current(self) -> bool:
        """No inlined helper has been redefined since (a notebook cell run again), and
        neither the function nor a helper was given new code in place; no global or
        closure variable holding a scipy.stats distribution (a prior, whose numbers the
        derivative holds) was rebound."""
        return all(fn.__globals__.get(fn.__name__, fn) is fn for fn in self.inlined) and \
            all(fn.__code__ is code for fn, code in self.codes) and \
            all(_cell_value(cell) is value for _, cell, value in self.cells
                if callable(value) or isinstance(value, type(gast)) or
                is_distribution(value)) and \
            all(self.live_globals.get(name) is self.function.__globals__.get(name)
                for name in self.distribution_globals)

    @property
    def distribution_globals(self) -> Sequence[str]:
        """The globals read that hold scipy.stats distributions (compiled in, not data),
        found once."""
        if self._distribution_globals is None:
            namespace = self.function.__globals__
            self._distribution_globals = [] if self.live_globals is None else \
                [n for n in self.global_names if is_distribution(namespace.get(n))]
        return self._distribution_globals

    def refresh_globals(self) -> None:
        """Read the user's module globals again: data rebound since is seen. Functions
        and modules stay as compiled: their derivative rules were chosen for them."""
        if self.live_globals is None or not self.data_globals:
            return
        namespace = self.function.__globals__
        cells = {name: cell for name, cell, _ in self.cells}
        for name in self.data_globals:
            value = _cell_value(cells[name]) if name in cells else \
                self.live_globals.get(name, namespace.get(name))
            if not callable(value) and not isinstance(value, type(gast)):
                namespace[name] = value

    @property
    def data_globals(self) -> Sequence[str]:
        """The globals read that are data (not functions or modules), found once."""
        if self._data_globals is None:
            namespace = self.function.__globals__
            self._data_globals = [n for n in self.global_names
                                  if not callable(namespace.get(n))
                                  and not isinstance(namespace.get(n), type(gast))
                                  and not is_distribution(namespace.get(n))]
        return self._data_globals


def _computing_nothing(function: Callable) -> Callable:
    """`function` run with dask's computes refused (see arrays.computes_refused)."""
    code_file = function.__code__.co_filename

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            with arrays.computes_refused():
                return function(*args, **kwargs)
        except arrays.EagerCompute as exc:
            raise arrays.eager_compute_error(exc, code_file, function.__name__) from None

    return run


def _cell_value(cell: Any) -> Any:
    """A closure variable's value now (NameError where it was deleted, as Python's)."""
    try:
        return cell.cell_contents
    except ValueError:
        raise NameError("a closure variable the differentiated function reads is no "
                        "longer bound") from None


def lower_function(parsed: Parsed, param_ranks=None, mode: str = "reverse") -> lower.Lowered:
    """Lowered code; a function with a rule for this mode is called, others inlined (a
    helper with only a tangent rule is inlined for reverse mode)."""
    has_rule = rules.has_forward_rule if mode == "forward" else rules.has_rule
    return lower.lower(parsed, is_pure=has_rule, param_ranks=param_ranks)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """A transform makes some 10^5 short-lived AST nodes, nearly none in cycles; the
    cyclic collector's passes over them, and over all of a big process's objects
    when one reaches the oldest generation, would cost up to as much as the transform
    itself. What garbage there is waits for the next collection after it.

    Counted under a lock: transforms running at once in several threads pause it once,
    and the last one to finish restores the state found by the first (each call saving
    and restoring gc.isenabled() for itself could leave it off)."""
    global _pauses, _enabled_before
    with _pause_lock:
        if _pauses == 0:
            _enabled_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _enabled_before:
                gc.enable()


_pause_lock = threading.Lock()
_pauses = 0              # transforms under way that paused the collector
_enabled_before = False  # whether it was enabled when the first of them began


def differentiate(parsed: Parsed, wrt: Sequence[str], *, with_value: bool = False,
                  optimize_code: bool = True, user_module: str = "__main__",
                  export: bool = False,
                  param_ranks: Optional[Dict[str, Optional[int]]] = None,
                  mode: str = "reverse", jit_code: bool = False,
                  read_back: bool = True, has_aux: bool = False,
                  foreign: Optional[Dict[str, str]] = None) -> Compiled:
    """Run every stage; raise an S2SADError before anything is generated, or succeed.

    `param_ranks` (the ndim of each argument of a call) lets the code know its
    scalars: loop bodies do scalar arithmetic with no broadcasting checks, a scalar
    output needs no check, and `@` takes the lecture's form. Without them (the source
    shown before any call), loops take the ranks their indexing implies.

    Code for a call's ranks that no one will read back to differentiate again
    (`read_back=False`) also writes results into dead temporaries' arrays
    (`np.exp(u, out=u)`) and keeps a counted loop's stored values in lists indexed
    by its counter (for Numba, only its float numbers, in arrays); the frontend accepts
    neither form.

    With `has_aux`, the function returns a tuple whose first value is differentiated;
    the others come back beside it (from reverse mode with `with_value`).

    `foreign` maps the parameters holding arrays of other libraries (dask.array's,
    CuPy's: see arrays.py) to their types: the same code, but no writes into dead
    temporaries' arrays, and for dask's none of a construct that needs its values."""
    foreign = foreign or {}
    lazy_params = {p for p, t in foreign.items() if arrays.is_lazy((t,))}
    lazy = bool(lazy_params)
    lowered = lower_function(parsed, param_ranks, mode)
    if lazy:  # (on the lowered code: its statements keep the user's locations)
        def locate(node: Any) -> Any:
            return get_anno(node, "location") or parsed.locate(node)
        laziness.check(lowered.func, lazy_params, param_ranks or {}, locate,
                       {n.id for n in gast.walk(parsed.func) if isinstance(n, gast.Name)})
    if has_aux and mode != "forward":
        lowered.output, lowered.aux = _split_aux(lowered)
    assumed = param_ranks is None and assumes_ranks(lowered)
    if assumed:
        param_ranks = analysis.assumed_ranks(lowered)
    for_call = not read_back and not assumed and param_ranks is not None
    reusing = for_call and not jit_code and not foreign  # (Numba: no out= forms)
    analysed = analysis.analyse(lowered, wrt, rules.is_differentiable, rules.shape_kind,
                                param_ranks, scalar_output=mode == "reverse")
    if optimize_code and mode != "forward":
        patterns.recognise(analysed)  # forms differentiated as one call (patterns.py)
    generated = forward.forward(analysed) if mode == "forward" else \
        reverse.reverse(analysed, with_value=with_value, pullback=mode in ("pullback", "step"),
                        indexed=for_call, numbers_only=jit_code,
                        seed_each=mode == "step",  # (checkpoint.py's step_adjoint)
                        element_writes=not foreign, read_back=read_back)
    if param_ranks and any(analysed.ranks.get(p) is not None for p in lowered.params):
        generated.header.append("  compiled for:  " + ", ".join(
            f"{p} {_rank_text(analysed.ranks.get(p))}" for p in lowered.params))
        if assumed:
            generated.header.append("                 (ranks read from how the body indexes "
                                    "them; a call compiles for its own arguments)")
    if foreign:
        libraries = arrays.library(tuple(foreign.values()))
        generated.header.append(f"  arrays:        {libraries}" + (
            " (lazy: the code builds a graph and computes nothing)" if lazy else ""))
    if jit_code:
        jit.numba_friendly(generated.func)
        generated.header.append("  compiled by:   Numba, where it accepts this code "
                                "(s2sad.grad(..., jit=True))")
    if optimize_code:
        shapes = _shapes(analysed, generated) if reusing else None
        optimize.optimize(generated.func, generated.versions, shapes, in_place=not foreign)
    if foreign:
        dispatch.for_other_arrays(generated.func)
    compiled = _load(generated, parsed, lowered, wrt, user_module, export, jit_code)
    compiled.lazy = lazy
    if param_ranks and mode == "reverse" and not jit_code and not export and not foreign:
        compiled.floats = _python_floats(generated, parsed, lowered, wrt, user_module,
                                         param_ranks)
    return compiled


def _split_aux(lowered: lower.Lowered) -> tuple:
    """(the differentiated output, the auxiliary values) of a function returning them
    as one tuple (the desugar stage flattens `return loss, aux` to leaves)."""
    output = lowered.output
    if not isinstance(output, tuple):
        return output, ()
    return output[0], tuple(output[1:])


def _shapes(analysed: analysis.Analysed, generated: reverse.Generated) -> Dict[str, Any]:
    """What the analysis knows of each name's shape, for reusing arrays: a class's rank
    is that of any member whose rank is known; active values, their adjoints (of
    their shapes) and the seed are floats."""
    rank_of_class: Dict[Any, int] = {}
    for name, klass in analysed.shape_class.items():
        if analysed.ranks.get(name) is not None:
            rank_of_class.setdefault(klass, analysed.ranks[name])
    floats = set(analysed.active) | set(analysed.wrt) | set(generated.added_params)
    shapes = {name: optimize.Shape(klass, rank_of_class.get(klass), name in floats)
              for name, klass in analysed.shape_class.items()}
    for primal, adjoint in generated.adjoints.items():
        if primal in analysed.active and primal in shapes:
            shapes[adjoint] = optimize.Shape(shapes[primal].klass, shapes[primal].rank, True)
    for seed in generated.added_params:
        shapes.setdefault(seed, optimize.Shape(analysis.SCALAR, 0, True))
    return shapes


def _load(generated: reverse.Generated, parsed: Parsed, lowered: lower.Lowered,
          wrt: Sequence[str], user_module: str, export: bool, jit_code: bool) -> Compiled:
    source = codegen.to_source(generated, user_module, export)
    function = codegen.load(source, generated.func.name, codegen.namespace_for(generated),
                            f"{generated.func.name} of {parsed.filename}")
    if generated.companions or "fixed_point" in source or "root" in source:
        implicit.note_call_sites(function, source, generated.func)  # (for its errors)
    # the implicit solves' companions (companions.py), each loaded from its own text
    source += "".join(f"\n\n{text}" for text in generated.companions.values() if text)
    used = set(function.__code__.co_names)
    codes = tuple((fn, fn.__code__) for fn in lowered.inlined)  # (read just now)
    if parsed.function is not None:
        codes = ((parsed.function, parsed.code),) + codes
    return Compiled(source, function, generated.func.name, list(wrt), parsed.live_globals,
                    sorted(n for n in {*parsed.global_names, *parsed.cells} if n in used),
                    lowered.inlined, codes, generated.added_params, jit_code,
                    cells=tuple((n, cell, parsed.namespace.get(n))
                                for n, cell in parsed.cells.items()))


def _python_floats(generated: reverse.Generated, parsed: Parsed, lowered: lower.Lowered,
                   wrt: Sequence[str], user_module: str,
                   param_ranks: Dict[str, Optional[int]]) -> Optional[Compiled]:
    """The variant for calls passing Python numbers only (see floats.py), or None."""
    scalars = {p for p in lowered.params if param_ranks.get(p) == 0}
    scalars.update(generated.added_params)  # the seed df: a number
    func = floats.python_floats(generated.func, scalars)
    if func is None:
        return None
    header = [line for line in generated.header if not line.startswith("  compiled for:")]
    header.append("  compiled for:  " + ", ".join(lowered.params) + ": Python numbers, so "
                  "math functions (where math raises,")
    header.append("                 on overflow, division by zero or log(0), the call runs "
                  "again with NumPy's code: inf or nan)")
    return _load(dataclasses.replace(generated, func=func, header=header), parsed, lowered,
                 wrt, user_module, False, False)


def assumes_ranks(lowered: lower.Lowered) -> bool:
    """Loops and element writes: before any call, their source takes the ranks the
    body's indexing implies (a[i] makes a a vector), so it shows scalar loop bodies."""
    return has_loops(lowered) or any(lower.is_store(s)
                                     for s in lower.walk_statements(lowered.body)
                                     if isinstance(s, (gast.Assign, gast.AugAssign)))


def has_loops(lowered: lower.Lowered) -> bool:
    return any(isinstance(s, (gast.For, gast.While)) for s in lower.walk_statements(lowered.body))


def lowered_source(parsed: Parsed) -> str:
    """The lowered (SSA) form as Python text, for `s2sad ssa`."""
    import copy

    import gast

    lowered = lower_function(parsed)
    func = copy.copy(lowered.func)
    output = lowered.output
    value = gast.Tuple(elts=list(output), ctx=gast.Load()) if isinstance(output, tuple) \
        else output
    func.body = list(lowered.body) + [gast.Return(value=value)]
    return codegen.function_source(func)


def _rank_text(rank: Optional[int]) -> str:
    return "(any)" if rank is None else "scalar" if rank == 0 else f"{rank}-d array"
