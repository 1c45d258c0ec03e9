"""User transforms: grad, value_and_grad, jvp, vjp, jacobian, hessian, hvp, source,
grad_source.

`wrt` follows JAX's `argnums`: an int (or a parameter name) gives one gradient,
a tuple gives a tuple of gradients, even a tuple of one. Transforms compile
lazily, on first call or first `.source`, so a decorated function may use
module-level names defined after it; results are cached per function and options.
"""
from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import inspect
import io
import numbers
import types
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import gast
import numpy as np

from . import arrays, callables, codegen, entry, frontend, pipeline, pytree, runtime, structured
from .entry import REFUSALS, like as _like
from .floats import FLOAT_ERRORS, as_numpy
from .errors import (ArgumentError, NoDerivativeRuleError, NonScalarOutputError,
                     S2SADError, UnsupportedSyntaxError, CallError, entry_point,
                     without_internal_frames)
from .runtime import (IntegerArrayWrite, NonScalarOutput, SharedUpdate, UnsupportedShapes,
                      described)

Wrt = Union[int, str, Sequence[Union[int, str]]]

_CACHE: "weakref.WeakKeyDictionary[Callable, Dict[tuple, pipeline.Compiled]]" = \
    weakref.WeakKeyDictionary()


class GradientFunction:
    """The callable `grad` returns; `.source` is the generated module it runs."""

    _s2sad_transform = True  # the front end refuses to differentiate it (not yet)

    mode = "reverse"

    def __init__(self, fn: Callable, wrt: Wrt, *, with_value: bool = False,
                 optimize: bool = True, parsed: Optional[frontend.Parsed] = None,
                 jit: bool = False, has_aux: bool = False):
        if fn is None and parsed is None:  # (grad alone takes None: its decorator form)
            raise ArgumentError("the function to differentiate is None",
                                hint="pass the function itself, e.g. s2sad.jacobian(f)")
        # a method, a partial, an object with __call__, np.tanh: the function read, and
        # the arguments the callable passes first (see callables.py); self.fn is the
        # function, and its code takes those arguments before the user's
        self._target = callables.target(fn) if fn is not None else \
            callables.Target(None, name=parsed.name)
        self.fn = self._target.function
        # (a bound method's self, a partial's arguments: every call passes them first)
        self._binds = bool(self._target.bound or self._target.keywords)
        self._parsed = parsed
        self.jit = jit
        self.with_value = with_value
        self.has_aux = has_aux  # f returns (value, aux); aux comes back undifferentiated
        self.optimize = optimize
        self.wrt_names, self.single = _normalise_wrt(fn, parsed, wrt)
        self._signature = _full_signature(self.fn, parsed)
        positional = [p.name for p in self._signature.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        # where each differentiated argument sits in a positional call
        self._positions = [positional.index(n) if n in positional else None
                           for n in self.wrt_names]
        # all differentiated arguments passed by position iff the call has more than this
        self._last_position = max(p if p is not None else 1 << 30 for p in self._positions)
        self._param_names = list(self._signature.parameters)
        # a dask array as a default: the calls leaving it out compile for it too
        self._foreign_defaults = any(arrays.is_foreign_array(p.default)
                                     for p in self._signature.parameters.values())
        self._call_name, self._arity = _call_shape(self.fn, self._signature, parsed)
        self._compiled: Optional[pipeline.Compiled] = None
        self._specialised: Dict[tuple, pipeline.Compiled] = {}
        self._last: Optional[pipeline.Compiled] = None
        self._last_key: Optional[tuple] = None
        self._args_key: Optional[tuple] = None  # ranks of the last positional call
        self._entries: Dict[tuple, tuple] = {}  # argument types -> (compiled, entry)
        self._entry: Optional[Callable] = None
        self._entry_arity = -1  # the positional arguments self._entry takes
        self._ran_floats = False  # the last call ran the code for Python numbers
        # structured arguments: per structure, the function read for it and the same
        # transform of that flat function (see structured.py)
        self._flat: Dict[tuple, tuple] = {}
        self._last_inner: Optional["GradientFunction"] = None
        self._desugared: Optional[bool] = None  # plain calls too go through desugar
        self._int_constants = False  # int arguments select from structures: compile per int
        self._shape_constants = False  # lists grown in loops over shapes: compile per shape
        self._entries_shown: Dict[tuple, Optional[tuple]] = {}  # (source, function)
        self._last_shown: Optional[tuple] = None
        # vjp and jacobian of a function returning a tuple or list of arrays: read with
        # that output joined into one array (see _joined_twin)
        self.joins_output = False
        self._twin: Optional["GradientFunction"] = None
        if fn is not None:
            functools.update_wrapper(self, fn, updated=())
        self.__dict__.setdefault("__name__", self._target.name)  # (a partial has none)

    @property
    @entry_point
    def compiled(self) -> pipeline.Compiled:
        """The code the last call ran (compiled for its arguments' ranks, and with math
        functions for Python numbers), or before any call the code for any ranks."""
        if self._last_inner is not None:
            compiled = self._last_inner.compiled
            if self._last_shown is None:
                return compiled
            return dataclasses.replace(compiled, source=compiled.source + "\n\n" +
                                       self._last_shown[0])
        if self._last is None:
            return self.generic
        floats = self._last.floats
        return floats if self._ran_floats and floats is not None else self._last

    @property
    def generic(self) -> pipeline.Compiled:
        """The code for arguments of any rank (what `.source` shows before a call)."""
        if self._compiled is None or not self._compiled.is_current():
            self._compiled = self._desugared_generic() or _compile(
                self.fn, self._parsed, tuple(self.wrt_names), self.with_value, self.optimize,
                mode=self.mode, jit=self.jit, has_aux=self.has_aux)
        return self._compiled

    def _desugared_generic(self) -> Optional[pipeline.Compiled]:
        """Before any call, a function whose body needs the desugar stage (an assert,
        a comprehension, a lambda) is read by it for plain arguments, as a call with
        floats or arrays would read it."""
        if self.fn is None or isinstance(self.fn, GradientFunction) or self.has_aux or \
                not structured.needs_desugar(self.fn):
            return None
        trees = {p: None for p in self._param_names}
        call = structured.Call({p: None for p in self._param_names}, trees,
                               tuple(trees.values()))
        inner = self._flat_transform(call)[1]
        self._last_inner = self._last_shown = None  # (no call has run)
        return inner.generic if inner is not None else None

    @property
    @entry_point
    def source(self) -> str:
        """The generated module, exactly the code that runs: the version compiled for
        the ranks of the last call's arguments (before any call, for any ranks)."""
        return self.compiled.source

    def for_arguments(self, args: tuple, kwargs: dict) -> pipeline.Compiled:
        """The code compiled for these arguments' ranks (a float's gradient needs no
        broadcasting checks); the ranks of a call are its cache key."""
        # (for Numba and dask, the defaults a call leaves out are bound too: code for
        # any rank of them calls helpers that branch on types, which Numba cannot
        # compile, and np.size, which dask's arrays do not have)
        key = tuple(map(_rank, args))
        if kwargs or (self.jit or self._foreign_defaults or
                      any(type(k) is arrays.Foreign for k in key)) and \
                len(args) < len(self._param_names):
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = bound.arguments
            key = tuple(_rank(values.get(p)) for p in self._param_names)
        else:  # the common case: the ranks of the positional arguments, None after
            key += (None,) * (len(self._param_names) - len(args))
        if key != self._last_key or not self._last.is_current():
            self._last = self.for_ranks(key)
            self._last_key = key
        return self._last

    def for_ranks(self, key: tuple, read_back: bool = False) -> pipeline.Compiled:
        """The code for these ranks; with `read_back`, in the forms the frontend reads
        back to differentiate again (see pipeline.differentiate)."""
        special = self._specialised.get((key, read_back))
        if special is None or not special.is_current():  # a helper redefined since
            special = _compile(self.fn, self._parsed, tuple(self.wrt_names), self.with_value,
                               self.optimize, ranks=key, mode=self.mode, jit=self.jit,
                               read_back=read_back, has_aux=self.has_aux)
            self._specialised[(key, read_back)] = special
        return special

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._binds:
            args, kwargs = self._target.arguments(args, kwargs)
        try:  # (no cost until a refusal; entry_point's extra call would cost every call)
            if not kwargs and len(args) == self._entry_arity:
                return self._entry(*args)  # guarded by the types of the last call's arguments
            return self._call_checked(*args, **kwargs)
        except (S2SADError, CallError) as exc:
            raise without_internal_frames(exc)

    def _call_checked(self, *args: Any, **kwargs: Any) -> Any:
        """The general call: find the code for these ranks, check every argument, and
        write an entry that repeats this call cheaply for arguments of the same types."""
        self._check_call(args, kwargs)
        call = self._structured(args, kwargs)
        if call is not None:
            result = self._call_structured(call)
            self._enter_plain(call, args, kwargs)
            return result
        if kwargs:
            compiled = self.for_arguments(args, kwargs)
            self._args_key = None
        else:  # the common call: the same ranks as last time, found from args alone
            key = tuple(map(_rank, args))
            if key != self._args_key or not self._last.is_current():
                self.for_arguments(args, kwargs)
                self._args_key = key
            compiled = self._last
        compiled.refresh_globals()
        inputs = self._differentiated_inputs(args, kwargs)
        floats = compiled.floats if compiled.floats is not None and \
            _python_numbers(args, kwargs) else None
        self._ran_floats = floats is not None
        try:
            result = _run_numbers(compiled.runner, args, kwargs,
                                  first=floats.function if floats is not None else None)
        except REFUSALS as exc:
            raise self._refusal(exc) from None
        if not kwargs:
            self._enter_next(args, compiled)
        value, grads = result if self.with_value else (None, result)
        if len(inputs) == 1:
            grads = _like(grads, inputs[0])
            if grads is inputs[0]:
                grads = grads.copy()
            grads = grads if self.single else (grads,)
        else:
            grads = _distinct(tuple(_like(g, x) for g, x in zip(grads, inputs)), inputs)
            grads = grads[0] if self.single else grads
        return (value, grads) if self.with_value else grads

    # -- structured arguments (see structured.py) ------------------------------------

    def _structured(self, args: tuple, kwargs: dict) -> Optional[structured.Call]:
        """The call's structures where it passes any (a dict of parameters, a list of
        layers, an object), else None: the common path."""
        call = None
        # (the JVP of a gradient, for Hessians: the structures of the function's call)
        target = self.fn.fn if isinstance(self.fn, GradientFunction) else self.fn
        if target is None:
            target = getattr(self, "_source_text", None)  # (grad_source's)
        if target is not None and not isinstance(target, GradientFunction):
            if self._desugared is None:  # (read once: does its body need the stage?)
                self._desugared = structured.needs_desugar(target, self._parsed)
            call = structured.structured_call(self._signature, target, args, kwargs,
                                              self.wrt_names,
                                              always=self.has_aux or self._desugared or
                                              self.joins_output)
            if call is not None and self._int_constants:
                call = structured.with_int_constants(call)
            if call is not None and self._shape_constants:
                call = structured.with_shapes(call)
        self._last_inner = None
        return call

    def _flat_transform(self, call: structured.Call) -> tuple:
        """(the function read for this structure, this transform of it, the number of
        differentiated leaves of each argument in wrt), made once per structure."""
        key = (call.key, call.shapes, getattr(self.fn, "__code__", None))
        found = self._flat.get(key)
        if found is not None and not found[0].flat.is_current():
            found = None  # (an outside object's attribute read as a constant was rebound)
        if found is None and isinstance(self.fn, GradientFunction):
            # the gradient's own reading for this structure, and this transform of it
            flattened, gradient, counts = self.fn._flat_transform(call)
            positions = tuple(p for name in self.wrt_names
                              for p in flattened.positions(name))
            found = self._flat[key] = (flattened, self._flat_version(flattened, positions,
                                                                     gradient), counts)
        if found is None:
            try:
                with pipeline.collector_paused():
                    flattened = structured.flatten_function(
                        self.fn if self.fn is not None else self._source_text, call.trees,
                        self.wrt_names, dict(call.shapes or ()), self.joins_output)
            except UnsupportedSyntaxError as exc:
                # a structure indexed through an int argument (for i in range(n_layers):
                # layers[i]), a list grown in a loop over range(X.shape[0]): the code is
                # compiled for the ints and the shapes of each call (the loop unrolled for
                # them, as JAX traces it), as it is for a config's ints
                retry = getattr(exc, "run_time_index", False) or \
                    getattr(exc, "run_time_count", False)
                ints = not self._int_constants and structured.has_int_arguments(call)
                shapes = getattr(exc, "run_time_count", False) and \
                    not self._shape_constants and bool(structured.with_shapes(call).shapes)
                if not retry or not (ints or shapes):
                    raise
                self._int_constants |= ints
                self._shape_constants |= shapes
                if ints:
                    call = structured.with_int_constants(call)
                if shapes:
                    call = structured.with_shapes(call)
                return self._flat_transform(call)
            if self.joins_output and flattened.flat.output is not None and \
                    flattened.flat.output.kind == pytree.LEAF and \
                    not self._int_constants and structured.has_int_arguments(call):
                # a list output whose length an int argument decides (np.split(x, n)):
                # read for the ints, as a structure indexed through one is
                self._int_constants = True
                return self._flat_transform(structured.with_int_constants(call))
            if self.has_aux:
                self._require_pair(flattened)
            elif self.mode == "reverse" and not isinstance(self.fn, GradientFunction):
                self._refuse_pair(flattened)
            groups = [flattened.positions(p) for p in self.wrt_names]
            positions = tuple(p for group in groups for p in group)
            inner = self._flat_version(flattened, positions) if positions else None
            found = self._flat[key] = (flattened, inner, [len(g) for g in groups])
            self._entries_shown[key] = self._structured_entry(flattened, inner)
        self._last_inner = found[1]
        self._last_shown = self._entries_shown.get(key)
        return found

    def _enter_plain(self, call: structured.Call, args: tuple, kwargs: dict) -> None:
        """A function read by the desugar stage (an assert, a comprehension) called with
        plain floats and arrays: the next call of the same types runs its entry at once
        (no structure to describe), as a plain function's call does."""
        run = self._last_shown[1] if self._last_shown is not None else None
        if run is None or kwargs or type(self) is not GradientFunction or self.has_aux or \
                self._int_constants or self._shape_constants or \
                len(args) != len(self._param_names) or \
                any(t is not None for t in call.trees.values()) or \
                not all(type(a) in (float, np.ndarray) for a in args):
            return
        kinds = tuple((type(a), getattr(a, "ndim", None), getattr(a, "dtype", None))
                      for a in args)
        flat = self._flat[(call.key, call.shapes, getattr(self.fn, "__code__", None))][0].flat

        def entry(*given: Any) -> Any:
            if len(given) == len(kinds) and flat.is_current() and all(
                    type(a) is kind and getattr(a, "ndim", None) == ndim and
                    getattr(a, "dtype", None) == dtype
                    for a, (kind, ndim, dtype) in zip(given, kinds)):
                return run(*given)
            return self._call_checked(*given)
        self._entry, self._entry_arity = entry, len(args)

    def _structured_entry(self, flattened: structured.Flattened,
                          inner: Optional["GradientFunction"]) -> Optional[tuple]:
        """(its source, the function) of the entry a structured call of grad runs: the
        leaves taken out, the gradient rebuilt, written as code `.source` shows."""
        if type(self) is not GradientFunction or inner is None:
            return None
        name = ("value_and_grad_" if inner.with_value else "grad_") + flattened.parsed.name
        text, namespace = structured.entry_code(flattened, name, inner, self._param_names,
                                                self.wrt_names, self.single, self.with_value,
                                                self.has_aux)
        function = codegen.load(text, f"{name}_of_structures", namespace,
                                f"entry of {flattened.parsed.name}")
        return text, function

    def _flat_version(self, flattened: structured.Flattened, positions: tuple,
                      gradient: Optional["GradientFunction"] = None) -> "GradientFunction":
        if gradient is not None:  # (grad of grad: the gradient of the flat gradient)
            return GradientFunction(gradient, positions, with_value=self.with_value,
                                    optimize=self.optimize, jit=self.jit)
        return GradientFunction(None, positions, with_value=self.with_value or self.has_aux,
                                optimize=self.optimize, parsed=flattened.parsed, jit=self.jit,
                                has_aux=self.has_aux)

    def _refuse_pair(self, flattened: structured.Flattened) -> None:
        """A function returning (value, aux) without has_aux: JAX users' first slip."""
        tree = flattened.flat.output
        if tree is not None and tree.kind in ("tuple", "list") and len(tree.children) == 2 \
                and tree.children[0].kind == "leaf" and tree.children[1].kind != "leaf":
            returns = [n for n in gast.walk(flattened.parsed.func) if isinstance(n, gast.Return)]
            raise NonScalarOutputError(
                f"grad needs a scalar output, but {self.__name__} returns a pair (value, aux)",
                flattened.parsed.locate(returns[-1].value if returns else flattened.parsed.func),
                hint="pass has_aux=True to get (gradient, aux) back, as with jax.grad")

    def _require_pair(self, flattened: structured.Flattened) -> None:
        """has_aux: the function returns (value, aux), its value one number or array."""
        tree = flattened.flat.output
        if tree is not None and tree.kind in ("tuple", "list") and len(tree.children) == 2 \
                and tree.children[0].kind == "leaf":
            return
        returns = [n for n in gast.walk(flattened.parsed.func) if isinstance(n, gast.Return)]
        raise NonScalarOutputError(
            f"has_aux=True needs {self.__name__} to return a pair (value, aux)",
            flattened.parsed.locate(returns[-1].value if returns else flattened.parsed.func),
            hint="return value, aux (aux may be any structure of arrays), or drop has_aux")

    def _regroup(self, call: structured.Call, counts: List[int], flat: Sequence[Any]) -> Any:
        """The differentiated arguments' gradients (or tangents) in their structures,
        from the flat function's, one per differentiated leaf."""
        grouped, start = [], 0
        for param, count in zip(self.wrt_names, counts):
            grouped.append(structured.rebuild(call.trees[param], flat[start:start + count],
                                              call.values[param]))
            start += count
        return grouped[0] if self.single else tuple(grouped)

    def _call_structured(self, call: structured.Call) -> Any:
        flattened, inner, counts = self._flat_transform(call)
        wants_value = self.with_value or self.has_aux
        if inner is None:  # nothing differentiable in the structures: nothing to sweep
            value = _value_on_copies(self.fn, *call.as_call(self._signature)) \
                if wants_value else None
            grads = self._regroup(call, counts, [])
        elif self._last_shown is not None:  # the entry .source shows
            return self._last_shown[1](*[call.values[p] for p in self._param_names])
        else:
            result = inner(*flattened.arguments(call.values))
            value, grads = result if wants_value else (None, result)
            grads = self._regroup(call, counts, grads)
            if wants_value:
                value = structured.output_of(flattened, value)
        if self.has_aux and not self.with_value:
            return grads, value[1]  # (JAX's order: the gradient, then aux)
        return (value, grads) if self.with_value else grads

    def _check_call(self, args: tuple, kwargs: dict, note: str = "") -> None:
        """Raise the TypeError the user's function would raise for these arguments (an
        extra positional argument must not reach the generated code's parameters)."""
        low, high, _ = self._arity
        if not kwargs and low <= len(args) <= high:
            return  # the common case: the count fits and nothing is missing
        problem = _call_mismatch(self._signature, self._call_name, args, kwargs,
                                 self._arity[2])
        if problem is not None:
            raise CallError(problem + note)

    def _enter_next(self, args: tuple, compiled: pipeline.Compiled) -> None:
        """Make the entry for arguments of these types the next call's first try."""
        kinds = tuple((type(a), getattr(a, "ndim", None), getattr(a, "dtype", None))
                      for a in args)
        found = self._entries.get(kinds)
        if found is None or found[0] is not compiled:
            refresh = compiled.refresh_globals if compiled.live_globals is not None \
                and compiled.data_globals else None
            fast = None
            if self._last_position < len(args):
                floats = compiled.floats.function if compiled.floats is not None and \
                    _python_numbers(args, {}) else None
                fast = entry.make_entry(args, self._positions, self.single, self.with_value,
                                        compiled.runner, refresh, self._refusal,
                                        self._call_checked,
                                        compiled.is_current if compiled.inlined or
                                        compiled.cells or compiled.distribution_globals
                                        else None,
                                        floats, compiled.codes)
            found = self._entries[kinds] = (compiled, fast)
        self._entry = found[1]
        self._entry_arity = len(args) if found[1] is not None else -1

    def _differentiated(self) -> frontend.Parsed:
        """The function this transform differentiates, as parsed source (for a
        derivative of a derivative, the inner generated code)."""
        if self._parsed is not None:
            return self._parsed
        if isinstance(self.fn, GradientFunction):
            return frontend.parse_function(self.fn.compiled.function)
        return frontend.parse_function(self.fn)

    def _refusal(self, exc: Exception) -> S2SADError:
        """What a check in the generated code found, as a located S2SADError."""
        if isinstance(exc, NonScalarOutput) and isinstance(self.fn, GradientFunction):
            return self.fn._refusal(exc)  # (the Hessian of a vector: the gradient's refusal)
        parsed = self._differentiated()
        if isinstance(exc, UnsupportedShapes):
            return NoDerivativeRuleError(
                f"no derivative for {exc}", parsed.locate(parsed.func),
                hint="this case of the function has no rule yet; rewrite it with "
                     "operations that have one (see the README's table)")
        if isinstance(exc, IntegerArrayWrite):
            return UnsupportedSyntaxError(
                "this array holds integers (or booleans), and values that depend on the "
                "inputs are written into it: they would be truncated",
                parsed.locate(_At(exc.line, exc.col)),
                hint="make it a float array, e.g. np.zeros(n) or np.zeros_like(k, "
                     "dtype=float)")
        if isinstance(exc, SharedUpdate):
            return UnsupportedSyntaxError(
                "this `op=` updates an array in place that another name still reads "
                "afterwards", parsed.locate(_At(exc.line, exc.col)),
                hint="write a new value (v = v + ...) or take a copy first (v = w.copy())")
        what = exc.what or f"an array of shape {exc.shape}"
        return NonScalarOutputError(
            f"grad needs a scalar output, but {parsed.name} returned {what}",
            self._output_location(),
            hint="reduce it to a scalar (e.g. return np.sum(...) or .sum()), or use "
                 "s2sad.jacobian for the derivative of every element")

    def _output_location(self) -> Any:
        """Where the differentiated function returns (its last return's value)."""
        try:
            parsed = self._differentiated()
        except S2SADError:  # (a body only the desugar stage reads: a dict literal)
            parsed = frontend.read_function(self.fn)
        returns = [n for n in gast.walk(parsed.func) if isinstance(n, gast.Return)]
        return parsed.locate(returns[-1].value if returns and returns[-1].value is not None
                             else parsed.func)

    def _require_one_output(self, value: Any, transform: str) -> None:
        """Refuse a list or tuple output where one array is needed (NumPy would fail
        on parts of unequal shapes, or silently stack equal ones)."""
        if isinstance(value, (list, tuple)) or pytree.is_structured(value):
            raise NonScalarOutputError(
                f"{transform} needs one array output, but {self.__name__} returned "
                f"{described(value)}", self._output_location(),
                hint="return one array (np.concatenate or np.stack the parts), or take "
                     f"the {transform} of each part by its own function")

    def _joined_twin(self) -> "GradientFunction":
        """This transform of the function with its structured output (a tuple or list
        of arrays) returned as one array, its leaves raveled and joined: vjp's and
        jacobian's reading of such a function (its arguments as this one takes them)."""
        if self._twin is None:
            if self.fn is None:
                raise NonScalarOutputError(
                    f"{self.mode} of source text returning a structure is not supported",
                    self._output_location(), hint="return one array (np.concatenate the "
                                                  "parts), or pass the function itself")
            wrt = self.wrt_names[0] if self.single else tuple(self.wrt_names)
            self._twin = type(self)(self.fn, wrt, optimize=self.optimize)
            self._twin.joins_output = True
        return self._twin

    def _differentiated_inputs(self, args: tuple, kwargs: dict) -> list:
        _refuse_masked(args, kwargs, self._signature, self.fn)
        if not kwargs and self._last_position < len(args):
            inputs = [args[p] for p in self._positions]  # the common, fast case
            for param, value in zip(self.wrt_names, inputs):
                if type(value) is not float:
                    _check_differentiable(param, value, self.fn)
            return inputs
        self._check_call(args, kwargs)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        inputs = []
        for param in self.wrt_names:
            value = bound.arguments[param]
            _check_differentiable(param, value, self.fn)
            inputs.append(value)
        return inputs

    def __repr__(self) -> str:
        kind = "value_and_grad" if self.with_value else "grad"
        return f"<s2sad {kind} of {self._target.name} wrt " \
               f"{', '.join(self.wrt_names)}>"


# -- public transforms ----------------------------------------------------------

def keywords_checked(transform: Callable) -> Callable:
    """A public function whose unknown keyword is answered with the one meant
    (`argnum=` -> `argnums`), where Python would only say it is unexpected; the
    signature `inspect.signature` shows stays the function's own."""
    accepted = [p.name for p in inspect.signature(transform).parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    _KEYWORDS[transform.__name__] = accepted

    @functools.wraps(transform)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for key in kwargs:
            if key not in accepted:
                raise CallError(_unexpected_keyword(transform.__name__, key, accepted))
        if transform.__name__ in _JAX_FORMS and len(args) > 1 and (
                isinstance(args[1], np.ndarray) or isinstance(args[1], (tuple, list)) and
                any(isinstance(a, (np.ndarray, float)) for a in args[1])):
            # jax.jvp(f, primals, tangents), jax.vjp(f, x): the arguments where s2sad
            # takes the differentiated arguments' positions
            raise CallError(f"{transform.__name__}() takes the function (and wrt), then is "
                            f"called with the arguments: {_JAX_FORMS[transform.__name__]}")
        trailing = _TRAILING_ARGUMENTS.get(transform.__name__)
        if transform.__name__ in ("grad", "value_and_grad") and \
                (not args or args[0] is None) and "f" not in kwargs:
            # the decorator form (@grad(wrt=2)): its options checked at once (as the
            # transform's own form checks them), the function as it is given
            transform(*args, **kwargs)
            return entry_point(lambda fn: checked(fn, *args[1:], **kwargs))
        wrt = kwargs.get("wrt", kwargs.get("argnums", args[1] if len(args) > 1 else 0))
        if trailing is not None and args and (callables.takes_operands(args[0]) or
                                              callables.differentiates_star_args(args[0], wrt)):
            # np.einsum, np.atleast_2d, `def f(x, *rest)` in rest: compiled for each count
            # of arguments a call passes
            return callables.ForEachArity(
                lambda fn: transform(fn, *args[1:], **kwargs), args[0], trailing)
        return transform(*args, **kwargs)
    return checked


# the transforms whose result is called with the function's arguments, and how many
# arguments that call passes after them (jvp's tangent, hvp's vector)
_TRAILING_ARGUMENTS = {"grad": 0, "value_and_grad": 0, "vjp": 0, "jacobian": 0,
                       "hessian": 0, "elementwise_grad": 0, "jvp": 1, "hvp": 1}


# JAX's calling forms of a transform that takes arguments where s2sad takes wrt
_JAX_FORMS = {"jvp": "s2sad.jvp(f)(*primals, tangent) for jax.jvp(f, primals, tangents)",
              "vjp": "s2sad.vjp(f)(*primals) for jax.vjp(f, *primals)",
              "grad": "s2sad.grad(f)(*args): the function first, then its arguments"}


_KEYWORDS: Dict[str, List[str]] = {}  # each public transform's keywords, by its name


def _unexpected_keyword(name: str, key: str, accepted: List[str]) -> str:
    """Python's message for an unexpected keyword, with the parameter meant."""
    message = f"{name}() got an unexpected keyword argument {key!r}"
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    takers = [f"s2sad.{other}" for other, keys in _KEYWORDS.items() if key in keys[1:]]
    if takers:  # a keyword of another transform (grad(f, mode=...))
        return f"{message}; {key}= is taken by {', '.join(takers)} ({name}() takes " \
               f"{', '.join(accepted[1:])})"
    return f"{message}; its keywords are {', '.join(accepted[1:])}"  # (after the function)


def _wrt_or_argnums(wrt: Optional[Wrt], argnums: Optional[Wrt]) -> Wrt:
    """The differentiated arguments, from wrt or JAX's name for it (one of the two)."""
    if argnums is None:
        return 0 if wrt is None else wrt
    if wrt is not None:
        raise ArgumentError(f"both wrt={wrt!r} and argnums={argnums!r} are given; "
                            "argnums is another name for wrt",
                            hint=f"pass one of them, e.g. argnums={argnums!r}")
    return argnums


@entry_point
@keywords_checked
def grad(f: Optional[Callable] = None, wrt: Optional[Wrt] = None, *,
         argnums: Optional[Wrt] = None, has_aux: bool = False, optimize: bool = True,
         jit: bool = False, checkpoint: Optional[int] = None):
    """The gradient of scalar-valued `f` with respect to the argument(s) `wrt`
    (default: the first; `argnums` is JAX's name for the same option).

        >>> df = grad(lambda_free_function)          # doctest: +SKIP
        >>> dx = df(2.0)                              # a float for a float
        >>> g0, g2 = grad(f, wrt=(0, 2))(x, y, z)     # a tuple for a tuple

    Also a decorator: `@grad` or `@grad(wrt=(0, 1))`. With `jit=True` the generated
    code runs compiled by Numba (an optional dependency) where Numba accepts it, and
    as Python with a warning otherwise. With `has_aux=True`, f returns `(value, aux)`
    and the call returns `(gradient, aux)`, as jax.grad's. With `checkpoint=k`, the
    counted loop `for i in range(n)` keeps at most k snapshots of its state and
    recomputes the rest (binomial checkpointing, see checkpoint.py).
    """
    wrt = _wrt_or_argnums(wrt, argnums)
    make = _checkpointed(GradientFunction, checkpoint, "grad", jit, has_aux)
    if f is None:
        return entry_point(lambda fn: make(fn, wrt, optimize=optimize, jit=jit,
                                           has_aux=has_aux))
    return make(f, wrt, optimize=optimize, jit=jit, has_aux=has_aux)


@entry_point
@keywords_checked
def value_and_grad(f: Optional[Callable] = None, wrt: Optional[Wrt] = None, *,
                   argnums: Optional[Wrt] = None, has_aux: bool = False,
                   optimize: bool = True, jit: bool = False,
                   checkpoint: Optional[int] = None):
    """Like `grad`, but returns `(f(*args), gradients)` from one sweep; with
    `has_aux=True`, `((value, aux), gradients)`, as jax.value_and_grad."""
    wrt = _wrt_or_argnums(wrt, argnums)
    make = _checkpointed(GradientFunction, checkpoint, "value_and_grad", jit, has_aux)
    if f is None:
        return entry_point(lambda fn: make(fn, wrt, with_value=True, optimize=optimize,
                                           jit=jit, has_aux=has_aux))
    return make(f, wrt, with_value=True, optimize=optimize, jit=jit, has_aux=has_aux)


def _checkpointed(transform: type, checkpoint: Any, name: str, jit: bool = False,
                  has_aux: bool = False) -> Callable:
    """The transform's class, or with `checkpoint=` its checkpointed form (checkpoint.py)."""
    if checkpoint is None:
        return transform
    from . import checkpoint as checkpointing
    checkpointing.snapshots_of(checkpoint, name)
    if jit or has_aux:
        raise ArgumentError(f"checkpoint= does not combine with {'jit' if jit else 'has_aux'}"
                            f"=True yet", hint=f"drop one of them, e.g. s2sad.{name}(f, "
                            f"checkpoint={checkpoint!r})")
    made = checkpointing.CheckpointedVJPFunction if transform is VJPFunction else \
        checkpointing.CheckpointedGradientFunction
    return functools.partial(made, checkpoint=checkpoint)


@entry_point
@keywords_checked
def source(f: Callable, wrt: Optional[Wrt] = None, mode: str = "reverse",
           optimize: bool = True, *, argnums: Optional[Wrt] = None) -> str:
    """The generated derivative module of `f`, as text: the gradient (mode="reverse")
    or the JVP (mode="forward")."""
    wrt = _wrt_or_argnums(wrt, argnums)
    if mode == "reverse":
        return GradientFunction(f, wrt, optimize=optimize).source
    if mode == "forward":
        return JVPFunction(f, wrt, optimize=optimize).source
    raise ArgumentError(f"mode {mode!r} is not a mode", hint="use 'reverse' or 'forward'")


@entry_point
@keywords_checked
def grad_source(text: str, name: str, wrt: Wrt = 0, *, env: Optional[dict] = None,
                filename: str = "<string>", with_value: bool = False,
                optimize: bool = True) -> GradientFunction:
    """`grad` for a function given as source text (REPL sessions, exec'd code).

    Names resolve through `env` (by default `np`, `numpy` and `math`).
    """
    with pipeline.collector_paused():
        parsed = frontend.parse_source(text, name, filename, env)
    transform = GradientFunction(None, wrt, with_value=with_value, optimize=optimize,
                                 parsed=parsed)
    # (a call passing a dict or a list reads the text again for its structure)
    transform._source_text = structured.SourceText(text, name, filename, env)
    return transform


# -- helpers ----------------------------------------------------------------------

class _At:
    """A source position, for Parsed.locate."""

    def __init__(self, line: int, col: int):
        self.lineno, self.col_offset = line, col


def _rank(value: Any) -> Optional[int]:
    """ndim of an argument where it is a number or an array (None otherwise)."""
    kind = type(value)
    if kind is np.ndarray:
        return value.ndim or None  # (a 0-d array is mutable, unlike a number: no rank)
    if kind is float:
        return 0
    if isinstance(value, (float, int, np.generic)):
        return 0
    if isinstance(value, np.ndarray) and value.ndim and type(value) is np.ndarray:
        return value.ndim  # (a 0-d array is mutable, unlike a number: no rank)
    return arrays.key_entry(value)  # (dask's, CuPy's: compiled apart)


def _call_shape(fn: Optional[Callable], signature: inspect.Signature,
                parsed: Optional[frontend.Parsed]) -> Tuple[str, Tuple[int, float, int]]:
    """The name Python's own TypeError gives the function, and (the fewest positional
    arguments a call without keywords may pass, the most, the count of bound
    arguments Python's message adds: none, as a method's self or a partial's arguments
    are in the call's arguments by then, see callables.Target.arguments)."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or \
        (parsed.name if parsed is not None else "f")
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    most = float("inf") if any(p.kind is p.VAR_POSITIONAL for p in params) else len(positional)
    if any(p.kind is p.KEYWORD_ONLY and p.default is p.empty for p in params):
        most = -1  # a required keyword-only parameter: every call is checked in full
    return name, (len(required), most, 0)


def _call_mismatch(signature: inspect.Signature, name: str, args: tuple, kwargs: dict,
                   bound: int = 0) -> Optional[str]:
    """CPython's message for a call of a function of this signature that does not fit
    (in the order CPython checks), or None where the call fits."""
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in params}
    takes_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    takes_varkw = any(p.kind is p.VAR_KEYWORD for p in params)
    given = {p.name for p in positional[:len(args)]}
    only_positional = []
    for key in kwargs:
        param = by_name.get(key)
        if param is None or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or \
                param.kind is param.POSITIONAL_ONLY:
            if param is not None and param.kind is param.POSITIONAL_ONLY and not takes_varkw:
                only_positional.append(key)
                continue
            if not takes_varkw:
                return f"{name}() got an unexpected keyword argument {key!r}"
            continue
        if key in given:
            return f"{name}() got multiple values for argument {key!r}"
    if only_positional:
        return f"{name}() got some positional-only arguments passed as keyword " \
               f"arguments: {', '.join(repr(k) for k in only_positional)}"
    if len(args) > len(positional) and not takes_varargs:
        count = len(positional) + bound
        defaulted = sum(p.default is not p.empty for p in positional)
        takes = f"from {count - defaulted} to {count} positional arguments" if defaulted \
            else f"{count} positional argument{'s' if count != 1 else ''}"
        passed = len(args) + bound
        keyword_only = sum(1 for k in kwargs if k in by_name and
                           by_name[k].kind is by_name[k].KEYWORD_ONLY)
        if keyword_only:
            return f"{name}() takes {takes} but {passed} positional argument" \
                   f"{'s' if passed != 1 else ''} (and {keyword_only} keyword-only " \
                   f"argument{'s' if keyword_only != 1 else ''}) were given"
        return f"{name}() takes {takes} but {passed} {'was' if passed == 1 else 'were'} given"
    missing = [p.name for p in positional[len(args):]
               if p.default is p.empty and p.name not in kwargs]
    if missing:
        return f"{name}() missing {len(missing)} required positional argument" \
               f"{'s' if len(missing) != 1 else ''}: {_listed(missing)}"
    missing = [p.name for p in params if p.kind is p.KEYWORD_ONLY and
               p.default is p.empty and p.name not in kwargs]
    if missing:
        return f"{name}() missing {len(missing)} required keyword-only argument" \
               f"{'s' if len(missing) != 1 else ''}: {_listed(missing)}"
    return None


def _listed(names: List[str]) -> str:
    """'x', 'x' and 'y', 'x', 'y', and 'z': as CPython lists missing arguments."""
    quoted = [repr(n) for n in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _python_numbers(args: tuple, kwargs: dict) -> bool:
    """Every argument a Python float or int: the math code computes as NumPy's would."""
    return all(type(a) is float or type(a) is int for a in args) and \
        all(type(a) is float or type(a) is int for a in kwargs.values())


def _run_numbers(run: Callable, args: tuple, kwargs: dict,
                 first: Optional[Callable] = None) -> Any:
    """Run generated code (`first`, the math variant, where given, else `run`). Python
    floats raise where NumPy's return inf or nan (`0.0 ** -0.5`, `math.log(0.0)`): then
    run it again on NumPy floats, so every transform gives NumPy's answer, as JAX does."""
    try:
        return (first or run)(*args, **kwargs)
    except FLOAT_ERRORS:
        if not _holds_python_float(args) and not _holds_python_float(kwargs.values()):
            raise  # NumPy's own code raised: the rerun would too
    return run(*map(_numpy_floats, args),
               **{k: _numpy_floats(v) for k, v in kwargs.items()})


def _holds_python_float(values: Any) -> bool:
    return any(type(v) is float or type(v) in (list, tuple) and _holds_python_float(v)
               for v in values)


def _numpy_floats(value: Any) -> Any:
    """The value with its Python floats as NumPy's (in new lists and tuples)."""
    if type(value) in (list, tuple):
        return type(value)(map(_numpy_floats, value))
    return as_numpy(value)


def _compile(fn: Optional[Callable], parsed: Optional[frontend.Parsed], wrt: tuple,
             with_value: bool, optimize: bool, export: bool = False,
             ranks: Optional[tuple] = None, mode: str = "reverse",
             jit: bool = False, read_back: bool = False,
             has_aux: bool = False) -> pipeline.Compiled:
    # the code object too: a function whose __code__ was replaced is another function
    key = (wrt, with_value, optimize, export, ranks, mode, jit, read_back, has_aux,
           getattr(fn, "__code__", None), _Same(getattr(fn, "__defaults__", None)),
           _Same(getattr(fn, "__kwdefaults__", None)))
    if isinstance(fn, GradientFunction):
        return _compile_again(fn, wrt, with_value, optimize, ranks, mode)
    cacheable = isinstance(fn, types.FunctionType)
    if cacheable:
        cached = _CACHE.get(fn, {}).get(key)
        if cached is not None and cached.is_current():
            return cached
    with pipeline.collector_paused():
        if parsed is None:
            parsed = frontend.parse_function(fn)
        module = getattr(fn, "__module__", None) or "__main__"
        param_ranks, foreign = None, None
        if ranks is not None:
            names = [a.id for a in frontend._all_params(parsed.func)]
            param_ranks, foreign = arrays.ranks_and_types(ranks, names)
        compiled = pipeline.differentiate(parsed, wrt, with_value=with_value,
                                          optimize_code=optimize, user_module=module,
                                          export=export, param_ranks=param_ranks, mode=mode,
                                          jit_code=jit, read_back=read_back or export,
                                          has_aux=has_aux, foreign=foreign)
    if cacheable:
        _CACHE.setdefault(fn, {})[key] = compiled
    return compiled


class _Same:
    """A cache key part equal only to the same object (a defaults tuple may hold
    arrays, which do not hash); it keeps the object alive, so its id is not reused."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def _compile_again(inner: "GradientFunction", wrt: tuple, with_value: bool, optimize: bool,
                   ranks: Optional[tuple], mode: str) -> pipeline.Compiled:
    """A derivative of a derivative: the generated code (for these ranks) is read back
    like any function and differentiated (grad(grad(f)), the Hessian's JVP of grad f)."""
    compiled = inner.generic if ranks is None else inner.for_ranks(ranks, read_back=True)
    parsed = frontend.parse_function(compiled.function)
    param_ranks, foreign = None, None
    if ranks is not None:
        names = [a.id for a in frontend._all_params(parsed.func)]
        param_ranks, foreign = arrays.ranks_and_types(ranks, names)
        if inner.mode == "reverse":  # grad's seed df is a number
            param_ranks.update({seed: 0 for seed in compiled.added_params})
    module = getattr(inner.fn, "__module__", None) or "__main__"
    with pipeline.collector_paused():
        return pipeline.differentiate(parsed, wrt, with_value=with_value,
                                      optimize_code=optimize, user_module=module,
                                      param_ranks=param_ranks, mode=mode, foreign=foreign)


def _signature(fn: Optional[Callable], parsed: Optional[frontend.Parsed]) -> inspect.Signature:
    """The parameters as the user calls `fn`: a bound method's without self, a
    partial's without what it binds, numpy.tanh's as its wrapper's (x)."""
    if fn is None:
        return _full_signature(None, parsed)
    target = callables.target(fn)
    return target.visible(_full_signature(target.function, parsed))


def _full_signature(fn: Optional[Callable],
                    parsed: Optional[frontend.Parsed]) -> inspect.Signature:
    """The parameters of the function read (a method's self included): what the
    generated code takes."""
    if isinstance(fn, GradientFunction):
        return fn._signature
    if fn is not None:
        try:
            return inspect.signature(fn)
        except (TypeError, ValueError):
            frontend.parse_function(fn)  # raises the right refusal for non-functions
            raise
    args = parsed.func.args
    kind = inspect.Parameter
    params = [kind(a.id, kind.POSITIONAL_ONLY) for a in args.posonlyargs]
    params += [kind(a.id, kind.POSITIONAL_OR_KEYWORD) for a in args.args]
    defaults = [_literal(d) for d in args.defaults]
    if defaults:
        params[-len(defaults):] = [p.replace(default=d) for p, d in
                                   zip(params[-len(defaults):], defaults)]
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        default = kind.empty if d is None else _literal(d)
        params.append(kind(a.id, kind.KEYWORD_ONLY, default=default))
    return inspect.Signature(params)


def _literal(node: Any) -> Any:
    import ast

    import gast
    try:
        return ast.literal_eval(gast.gast_to_ast(node))
    except ValueError:
        return None


def _normalise_wrt(fn: Optional[Callable], parsed: Optional[frontend.Parsed],
                   wrt: Wrt) -> Tuple[list, bool]:
    """wrt -> (parameter names, whether a single gradient is returned)."""
    signature = _signature(fn, parsed)
    params = list(signature.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in params]
    where = frontend._code_location(callables.target(fn).function) if fn is not None \
        else None
    single = isinstance(wrt, (int, str, np.integer))
    if not single and not isinstance(wrt, (tuple, list)):
        raise ArgumentError(f"wrt={wrt!r} is neither an index, a name nor a tuple of them",
                            where, hint="e.g. wrt=0, wrt='x' or wrt=(0, 'y')")
    items = [wrt] if single else list(wrt)
    if not items:
        raise ArgumentError("wrt is empty", where,
                            hint="name at least one argument, e.g. wrt=0")
    resolved = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise ArgumentError(f"wrt={item!r} is a bool", where,
                                hint="use an index or a name")
        if isinstance(item, (int, np.integer)):
            index = int(item)
            if index >= len(positional):
                _refuse_starred(fn, params, item)
            if not -len(positional) <= index < len(positional):
                raise ArgumentError(
                    f"wrt={index} is out of range: the function has {len(positional)} "
                    f"positional parameter(s) {positional}", where,
                    hint="count from 0, or name the parameter, e.g. wrt='x'")
            resolved.append(positional[index])
        elif isinstance(item, str):
            _refuse_starred(fn, params, item)
            if item not in names:
                raise ArgumentError(f"wrt={item!r} is not a parameter; the parameters "
                                    f"are {names}", where, hint="use one of the names above")
            resolved.append(item)
        else:
            raise ArgumentError(f"wrt entries must be ints or names, not {item!r}",
                                where, hint="e.g. wrt=0, wrt='x' or wrt=(0, 'y')")
    if len(set(resolved)) != len(resolved):
        raise ArgumentError(f"wrt names a parameter twice: {resolved}", where,
                            hint="list each argument once")
    return resolved, single


def _refuse_starred(fn: Optional[Callable], params: list, item: Union[int, str]) -> None:
    """wrt naming `*args` or `**kwargs` (by name, or by an index past the named
    parameters): the generated code takes named parameters only."""
    for p in params:
        star = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        if star and (item == p.name or star == "*" and not isinstance(item, str)):
            where = frontend.parameter_location(fn, star + p.name) if fn is not None else None
            named = [q.name for q in params if q.kind in (q.POSITIONAL_ONLY,
                                                          q.POSITIONAL_OR_KEYWORD)]
            new = [n for n in ("a", "b", "u", "v", "p", "q") if n not in named][:2]
            raise ArgumentError(
                f"s2sad cannot differentiate with respect to {star}{p.name} (wrt={item!r}): "
                "only named parameters can be differentiated", where,
                hint=f"name the arguments in the def, e.g. def "
                     f"{getattr(fn, '__name__', 'f')}({', '.join(named + new)}) in place of "
                     f"{star}{p.name}, and pass wrt={new[0]!r}")


def _refuse_masked(args: tuple, kwargs: dict, signature: inspect.Signature,
                   fn: Optional[Callable]) -> None:
    """A masked array's arithmetic skips its masked elements, but the generated code
    reads the data underneath: its derivative would be wrong."""
    if not any(isinstance(a, np.ma.MaskedArray) for a in args) and \
            not any(isinstance(a, np.ma.MaskedArray) for a in kwargs.values()):
        return
    names = list(signature.parameters)
    for name, value in [*zip(names, args), *kwargs.items()]:
        if isinstance(value, np.ma.MaskedArray):
            raise ArgumentError(
                f"argument {name!r} is a masked array, whose operations skip the masked "
                "elements; s2sad differentiates plain arrays",
                _parameter_location(fn, name),
                hint=f"pass {name}.filled(0.0) (or the value masked elements should "
                     "have), and the mask as its own argument if the function needs it")


def _parameter_location(fn: Optional[Callable], param: str) -> Any:
    while isinstance(fn, GradientFunction):  # (a Hessian's: the user's function)
        fn = fn.fn
    return frontend.parameter_location(fn, param) if fn is not None else None


def _check_differentiable(param: str, value: Any, fn: Optional[Callable]) -> None:
    if type(value) is float or (type(value) is np.ndarray and value.dtype.kind == "f"):
        return  # the common case, checked first
    where = _parameter_location(fn, param)
    if isinstance(value, (bool, np.bool_)) or isinstance(value, numbers.Integral):
        raise ArgumentError(
            f"argument {param!r} is an integer ({value!r}); only floats and float "
            "arrays can be differentiated", where,
            hint=f"pass a float, e.g. {float(value)!r}, or leave {param!r} out of wrt")
    if isinstance(value, np.matrix):
        raise ArgumentError(
            f"argument {param!r} is an np.matrix, whose * is a matrix product", where,
            hint=f"pass np.asarray({param}) and write @ for matrix products")
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.floating):
            raise ArgumentError(
                f"argument {param!r} is an array of dtype {value.dtype}; only float "
                "arrays can be differentiated", where,
                hint=f"convert it, e.g. {param}.astype(float)")
        return
    if isinstance(value, numbers.Real):
        return
    if arrays.is_foreign_array(value):  # dask's, CuPy's: their float arrays
        if value.dtype.kind != "f":
            raise ArgumentError(
                f"argument {param!r} is a {arrays.type_name(value)} of dtype {value.dtype}; "
                "only float arrays can be differentiated", where,
                hint=f"convert it, e.g. {param}.astype(float)")
        return
    if isinstance(value, str):
        raise ArgumentError(
            f"argument {param!r} is a str ({value!r}), which has no derivative", where,
            hint=f"leave {param!r} out of wrt: pass wrt= the position or name of the "
                 "array argument(s), e.g. wrt=1")
    raise ArgumentError(
        f"argument {param!r} is a {type(value).__name__}; s2sad differentiates floats "
        "and float arrays (NumPy's, or another library's implementing NumPy's "
        "__array_function__ protocol: dask, CuPy)", where,
        hint="convert it with np.asarray(...)")


def _distinct(grads: tuple, inputs: list) -> tuple:
    """Gradients the caller may update in place: no two are one array, none is an input."""
    if not any(type(g) is np.ndarray for g in grads):
        return grads  # numbers: nothing to share
    seen = {id(x) for x in inputs}
    result = []
    for g in grads:
        if isinstance(g, np.ndarray) and id(g) in seen:
            g = g.copy()
        seen.add(id(g))
        result.append(g)
    return tuple(result)


# -- forward mode, pullbacks, Jacobians and Hessians ------------------------------------

class JVPFunction(GradientFunction):
    """The callable `jvp` returns: `(*args, tangent) -> (f(*args), the derivative of f
    along tangent)`; with several `wrt`, `tangent` is a tuple of one per argument."""

    mode = "forward"

    def __init__(self, fn: Callable, wrt: Wrt, *, optimize: bool = True,
                 parsed: Optional[frontend.Parsed] = None,
                 tangent_note: str = " (jvp takes the function's arguments, then the tangent)",
                 has_aux: bool = False):
        super().__init__(fn, wrt, optimize=optimize, parsed=parsed, has_aux=has_aux)
        self.tangent_note = tangent_note

    def _flat_version(self, flattened: structured.Flattened, positions: tuple,
                      gradient: Optional["GradientFunction"] = None) -> "GradientFunction":
        if gradient is not None:  # (a Hessian's: the JVP of the flat gradient)
            return JVPFunction(gradient, positions, optimize=self.optimize,
                               tangent_note=self.tangent_note)
        return JVPFunction(None, positions, optimize=self.optimize, parsed=flattened.parsed,
                           tangent_note=self.tangent_note)

    def _call_structured(self, call: structured.Call, tangents: tuple) -> Any:
        """The JVP along tangents of the arguments' structures (a dict's tangent is a
        dict with the same keys), the value and its tangent in the output's structure."""
        flattened, inner, _ = self._flat_transform(call)
        flat_tangents: List[Any] = []
        for param, tangent in zip(self.wrt_names, tangents):
            tree = call.trees[param]
            if tree is None:
                flat_tangents.append(tangent)
                continue
            if not pytree.is_structured(tangent) or \
                    pytree.describe(tangent, False, "tangent") != tree:
                raise ArgumentError(
                    f"the tangent for {param!r} is not of the argument's structure",
                    hint=f"pass a tangent shaped like {param}, e.g. the same dict of "
                         "arrays (None where the argument holds None)")
            leaves = pytree.leaves(tangent, tree)
            for (path, _), leaf, original in zip(tree.leaf_paths(), leaves,
                                                pytree.leaves(call.values[param], tree)):
                if np.shape(leaf) != np.shape(original):
                    where = pytree.path_text(_nested_path(param, path))
                    raise ArgumentError(
                        f"the tangent's {where} has shape {np.shape(leaf)}, the argument's "
                        f"{np.shape(original)}", hint=f"pass a tangent shaped like {param}")
            flat_tangents.extend(leaves)
        if inner is None:
            raise ArgumentError(f"the differentiated arguments {self.wrt_names} hold no "
                                "float or array", hint="differentiate another argument")
        value, derivative = inner(*flattened.arguments(call.values), tuple(flat_tangents))
        if isinstance(self.fn, GradientFunction):  # a gradient's: in the arguments' structures
            counts = [len(flattened.positions(p)) for p in self.wrt_names]
            flat_value = (value,) if len(inner.wrt_names) == 1 else value
            flat_derivative = (derivative,) if len(inner.wrt_names) == 1 else derivative
            return self._regroup(call, counts, flat_value), \
                self._regroup(call, counts, flat_derivative)
        value = structured.output_of(flattened, value)
        derivative = structured.output_of(flattened, derivative)
        if self.has_aux:
            return value[0], derivative[0], value[1]
        return value, derivative

    @entry_point
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self.__name__}: pass the arguments, then the tangent")
        *args, tangent = args
        args, kwargs = self._target.arguments(tuple(args), kwargs)
        self._check_call(args, kwargs, self.tangent_note)
        if not self.single and not isinstance(tangent, (tuple, list)):
            raise ArgumentError(f"the tangent is a {type(tangent).__name__}, but "
                                f"{len(self.wrt_names)} arguments {self.wrt_names} are "
                                "differentiated",
                                hint="pass a tuple with one tangent per argument in wrt")
        tangents = (tangent,) if self.single else tuple(tangent)
        call = self._structured(args, kwargs)
        if call is not None:
            if len(tangents) != len(self.wrt_names):
                raise ArgumentError(f"{len(tangents)} tangents for {len(self.wrt_names)} "
                                    f"differentiated arguments {self.wrt_names}",
                                    hint="pass a tuple with one tangent per argument in wrt")
            return self._call_structured(call, tangents)
        inputs = self._differentiated_inputs(args, kwargs)
        if len(tangents) != len(inputs):
            raise ArgumentError(f"{len(tangents)} tangents for {len(inputs)} differentiated "
                                f"arguments {self.wrt_names}",
                                hint="pass a tuple with one tangent per argument in wrt")
        tangents = tuple(_tangent_like(t, x, p) for t, x, p in
                         zip(tangents, inputs, self.wrt_names))
        compiled = self.for_arguments(args, kwargs)
        compiled.refresh_globals()
        try:
            value, derivative = _run_numbers(
                compiled.runner, args, {**kwargs, **dict(zip(compiled.added_params, tangents))})
        except REFUSALS as exc:
            raise self._refusal(exc) from None
        return value, _tangent_of_value(derivative, value)

    def __repr__(self) -> str:
        return f"<s2sad jvp of {self._target.name} wrt " \
               f"{', '.join(self.wrt_names)}>"


class VJPFunction(GradientFunction):
    """The callable `vjp` returns: `(*args) -> (f(*args), pullback)`, where
    `pullback(cotangent)` gives the cotangent's product with the Jacobian, shaped like
    the differentiated arguments (a tuple for several)."""

    mode = "pullback"
    structured_outputs = True  # a tuple, list or dict output: a cotangent of its structure

    def __init__(self, fn: Callable, wrt: Wrt, *, optimize: bool = True,
                 parsed: Optional[frontend.Parsed] = None, has_aux: bool = False):
        super().__init__(fn, wrt, optimize=optimize, parsed=parsed, has_aux=has_aux)

    def _flat_version(self, flattened: structured.Flattened, positions: tuple,
                      gradient: Optional["GradientFunction"] = None) -> "GradientFunction":
        if gradient is not None:
            return VJPFunction(gradient, positions, optimize=self.optimize)
        return VJPFunction(None, positions, optimize=self.optimize, parsed=flattened.parsed,
                           has_aux=self.has_aux)

    @entry_point
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = self._target.arguments(args, kwargs)
        self._check_call(args, kwargs)
        call = self._structured(args, kwargs)
        if _holds_lazy_arrays(args, kwargs) and call is None:
            try:  # (its checks refuse, at the user's line, what would need the data's
                # values, before the function runs)
                self.for_arguments(args, kwargs)
            except NonScalarOutputError:
                pass  # (a tuple or list output: its joined twin is compiled below)
        value = _lazy_value(self.fn, *call.as_call(self._signature)) \
            if call is not None else _lazy_value(self.fn, args, kwargs)
        aux = None
        if self.has_aux:
            if call is not None:
                self._flat_transform(call)  # (refuses a function not returning a pair)
            value, aux = value
        if not self.has_aux and self.structured_outputs and _is_structured_output(value):
            return value, self._structured_pullback(args, kwargs, value)
        self._require_one_output(value, "vjp")
        pullback = self.pullback_at(args, kwargs, value, call)
        return (value, pullback, aux) if self.has_aux else (value, pullback)

    def _structured_pullback(self, args: tuple, kwargs: dict, value: Any) -> Callable:
        """The pullback of a function returning a tuple or list of arrays: its cotangent
        has the output's structure (as JAX's); the joined reading's pullback of it."""
        twin = self._joined_twin()
        tree = _read_output_structure(
            twin._flat_transform(twin._structured(args, kwargs))[0].flat.output, value)
        call = twin._structured(args, kwargs)  # (its ints constants, where reading it
        # decided that: the output's length depends on one, np.split(x, n))
        joined = twin.pullback_at(args, kwargs, _joined(value, tree), call)

        @entry_point
        def pullback(cotangent: Any) -> Any:
            return joined(_joined(_like_output(cotangent, value, tree), tree))

        return pullback

    def pullback_at(self, args: tuple, kwargs: dict, value: Any,
                    call: Optional[structured.Call] = None) -> Callable:
        """The pullback at these arguments, where f's value is `value`; for a
        structured call, the flat function's, its result in the arguments' structures."""
        transform, flat = self, None
        if call is not None:
            flattened, transform, counts = self._flat_transform(call)
            if transform is None:
                raise ArgumentError(f"the differentiated arguments {self.wrt_names} hold "
                                    "no float or array", hint="differentiate another argument")
            args, kwargs, flat = tuple(flattened.arguments(call.values)), {}, (call, counts)
        inputs = transform._differentiated_inputs(args, kwargs)
        compiled = transform.for_arguments(args, kwargs)
        # the linearization at this point, as JAX's: the caller may change its arrays
        # (or a global) before calling the pullback
        args = tuple(_copied(a) for a in args)
        kwargs = {k: _copied(v) for k, v in kwargs.items()}
        compiled.refresh_globals()

        @entry_point
        def pullback(cotangent: Any) -> Any:
            seed = {compiled.added_params[0]: _tangent_like(cotangent, value, "cotangent")}
            try:
                grads = _run_numbers(compiled.runner, args, {**kwargs, **seed})
            except REFUSALS as exc:
                raise transform._refusal(exc) from None
            grads = (grads,) if len(transform.wrt_names) == 1 else grads
            grads = _distinct(tuple(_like(g, x) for g, x in zip(grads, inputs)), inputs)
            if flat is not None:  # a structure's leaves: its gradient in that structure
                return self._regroup(flat[0], flat[1], grads)
            return grads[0] if self.single else grads

        return pullback

    def __repr__(self) -> str:
        return f"<s2sad vjp of {self._target.name} wrt " \
               f"{', '.join(self.wrt_names)}>"


@entry_point
@keywords_checked
def jvp(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
        has_aux: bool = False, optimize: bool = True) -> JVPFunction:
    """Forward mode: `jvp(f, wrt)(*args, tangent)` returns `(f(*args), J @ tangent)`,
    from one pass that carries each value's tangent beside it (`print(.source)`); with
    `has_aux=True` (f returns `(value, aux)`), `(value, J @ tangent, aux)`."""
    return JVPFunction(f, _wrt_or_argnums(wrt, argnums), optimize=optimize, has_aux=has_aux)


@entry_point
@keywords_checked
def vjp(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
        has_aux: bool = False, optimize: bool = True,
        checkpoint: Optional[int] = None) -> VJPFunction:
    """Reverse mode for any output: `value, pullback = vjp(f, wrt)(*args)`, then
    `pullback(ct)` is `ct @ J` shaped like the arguments (one adjoint sweep per call);
    with `has_aux=True` (f returns `(value, aux)`), `value, pullback, aux`."""
    make = _checkpointed(VJPFunction, checkpoint, "vjp", has_aux=has_aux)
    return make(f, _wrt_or_argnums(wrt, argnums), optimize=optimize, has_aux=has_aux)


@entry_point
@keywords_checked
def jacobian(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
             mode: Optional[str] = None, optimize: bool = True) -> Callable:
    """`jacobian(f, wrt)(*args)`: d f / d x with shape f's shape + x's shape (as
    jax.jacobian), a tuple for several `wrt`. Forward mode takes one pass per input
    element, reverse one per output element; by default the one with fewer passes."""
    wrt = _wrt_or_argnums(wrt, argnums)
    if mode not in (None, "forward", "reverse"):
        raise ArgumentError(f"mode {mode!r} is not a mode", hint="use 'forward' or 'reverse'")
    forward_fn = JVPFunction(f, wrt, optimize=optimize)
    reverse_fn = VJPFunction(f, wrt, optimize=optimize)

    @entry_point
    def jacobian_of(*args: Any, **kwargs: Any) -> Any:
        called = forward_fn._target.arguments(args, kwargs)  # (a method's self first)
        forward_fn._check_call(*called)
        call = forward_fn._structured(*called)
        value = _value_on_copies(f, args, kwargs)
        if _is_structured_output(value):
            return _structured_jacobian(forward_fn._joined_twin(), reverse_fn._joined_twin(),
                                        called, value, mode)
        forward_fn._require_one_output(value, "jacobian")
        # (forward_fn's call passes a method's self itself; the pullback is given it)
        along, back, forward_args, reverse_args = forward_fn, reverse_fn, (args, kwargs), called
        if call is not None:  # one block per leaf, then in the arguments' structures
            flattened, along, counts = forward_fn._flat_transform(call)
            back = reverse_fn._flat_transform(call)[1]
            forward_args = reverse_args = (tuple(flattened.arguments(call.values)), {})
            inputs = along._differentiated_inputs(*forward_args)
        else:
            inputs = forward_fn._differentiated_inputs(*called)
        sizes = [_size(x) for x in inputs]
        chosen = mode or ("forward" if sum(sizes) < _size(value) else "reverse")
        with _quiet(True):  # (f ran once for its value: its prints and logs are done)
            if chosen == "forward":
                blocks = _jacobian_forward(along, *forward_args, inputs, value)
            else:
                blocks = _jacobian_reverse(back, *reverse_args, inputs, value)
        if call is not None:
            return forward_fn._regroup(call, counts, blocks)
        return blocks[0] if forward_fn.single else tuple(blocks)

    functools.update_wrapper(jacobian_of, f, updated=())
    return jacobian_of


def _structured_jacobian(along: "JVPFunction", back: "VJPFunction", called: tuple,
                         value: Any, mode: Optional[str]) -> Any:
    """The jacobian of a function returning a tuple or list of arrays, from its joined
    reading: in the output's structure, one block (or tuple of blocks, for several wrt)
    per output array, as jax.jacobian gives."""
    call = along._structured(*called)
    flattened, flat_along, counts = along._flat_transform(call)
    flat_back = back._flat_transform(call)[1]
    tree = _read_output_structure(flattened.flat.output, value)  # (numbers too, not str)
    flat_args = (tuple(flattened.arguments(call.values)), {})
    inputs = flat_along._differentiated_inputs(*flat_args)
    joined = _joined(value, tree)
    chosen = mode or ("forward" if sum(_size(x) for x in inputs) < _size(joined)
                      else "reverse")
    with _quiet(True):
        blocks = _jacobian_forward(flat_along, *flat_args, inputs, joined) \
            if chosen == "forward" else _jacobian_reverse(flat_back, *flat_args, inputs, joined)
    leaves = pytree.leaves(value, tree)
    ends = np.cumsum([_size(leaf) for leaf in leaves])
    starts = np.concatenate([[0], ends[:-1]])  # (slices, as np.split cuts: dask has none)
    per_leaf = [[rows[start:end] for start, end in zip(starts, ends)]
                for rows in (np.reshape(block, (-1,) + np.shape(x))
                             for block, x in zip(blocks, inputs))]
    parts = [along._regroup(call, counts, [_block([pieces[k]], 0, leaf, x)
                                           for pieces, x in zip(per_leaf, inputs)])
             for k, leaf in enumerate(leaves)]
    return pytree.rebuild(tree, parts, value)


def _read_output_structure(tree: Optional[pytree.Tree], value: Any) -> pytree.Tree:
    """The structure the joined reading found for a tuple or list output; refused where
    it read one value (a list whose length a run-time value decides: np.split(x, idx)
    of an index array)."""
    if tree is None or tree.kind == pytree.LEAF:
        raise UnsupportedSyntaxError(
            f"the function returns {described(value)}, whose length s2sad cannot tell "
            "from the code (it depends on a value known only at run time)",
            hint="pass counts and indices as Python ints or lists (np.split(x, [2, 5])), "
                 "or return the parts joined (np.concatenate)")
    return tree


def _is_structured_output(value: Any) -> bool:
    """A tuple, list or dict output (vjp and jacobian read it joined)."""
    return isinstance(value, (tuple, list, dict))


def _joined(value: Any, tree: pytree.Tree) -> np.ndarray:
    """A structured output's leaves raveled and joined, as its joined reading returns
    them (desugar.flatten_root; `tree` is the structure it read)."""
    return np.concatenate([np.ravel(leaf) for leaf in pytree.leaves(value, tree)])


def _like_output(cotangent: Any, value: Any, tree: pytree.Tree) -> Any:
    """A structured cotangent checked against the output: the same structure, each
    array of its array's shape."""
    if not _same_structure(cotangent, tree):
        raise ArgumentError(f"the cotangent is {described(cotangent)}, the output "
                            f"{described(value)}",
                            hint="pass a cotangent of the output's structure, e.g. "
                                 "[np.ones_like(v) for v in output]")
    for given, leaf in zip(pytree.leaves(cotangent, tree), pytree.leaves(value, tree)):
        _tangent_like(given, leaf, "cotangent")
    return cotangent


def _same_structure(value: Any, tree: pytree.Tree) -> bool:
    """The value's lists, tuples and dicts are those of `tree` (a list for a tuple too)."""
    if tree.kind in (pytree.LEAF, pytree.CONST):
        return not isinstance(value, (tuple, list, dict))
    if tree.kind == pytree.DICT:
        return isinstance(value, dict) and set(value) == set(tree.keys) and all(
            _same_structure(value[k], child) for k, child in zip(tree.keys, tree.children))
    return isinstance(value, (tuple, list)) and len(value) == len(tree.children) and all(
        _same_structure(v, child) for v, child in zip(value, tree.children))


def _nested_path(param: str, path: Sequence[tuple]) -> Any:
    """describe's form of a leaf's path (for pytree.path_text)."""
    nested: Any = param
    for kind, key in path:
        nested = (nested, key, "." if kind in ("namedtuple", "dataclass", "object") else "[")
    return nested


def _holds_lazy_arrays(args: tuple, kwargs: dict) -> bool:
    """A dask array among the arguments (in their structures too)."""
    return any(arrays.is_lazy_array(leaf)
               for value in (*args, *kwargs.values()) for leaf in _leaves_of(value))


def _leaves_of(value: Any) -> list:
    """The leaves of a structured value (dicts, lists, dataclasses), or [value]."""
    if pytree.is_structured(value) and not pytree.is_user_object(value):
        return pytree.leaves(value, pytree.describe(value, False, "argument"))
    return [value]


def _lazy_value(f: Callable, args: tuple, kwargs: dict) -> Any:
    """f's value on copies of the arguments; of dask arrays, a graph: a compute the
    function asks for (a branch on the data in a helper, SciPy converting it) is
    refused, with the line of the function that asked."""
    if not _holds_lazy_arrays(args, kwargs):
        return _value_on_copies(f, args, kwargs)
    try:
        with arrays.computes_refused():
            return _value_on_copies(f, args, kwargs)
    except arrays.EagerCompute as exc:
        code = getattr(f, "__code__", None)
        raise arrays.eager_compute_error(exc, code.co_filename if code else "",
                                         getattr(f, "__name__", "f"), generated=False) \
            from None


def _value_on_copies(f: Callable, args: tuple, kwargs: dict) -> Any:
    """f's value, from copies of the array arguments: a function that updates an
    argument in place (x *= 2) must leave the caller's array, and the point the
    derivative is taken at, as they were."""
    return f(*[_copied(a) for a in args], **{k: _copied(v) for k, v in kwargs.items()})


def _copied(value: Any) -> Any:
    """The value with its arrays copied, inside dicts, lists, tuples, namedtuples and
    dataclasses too (an object of another class is passed as it is)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if not pytree.is_structured(value) or pytree.is_user_object(value):
        return value
    tree = pytree.describe(value, False, "argument")
    return pytree.rebuild(tree, [_copied(leaf) for leaf in pytree.leaves(value, tree)],
                          value)


def _jacobian_forward(jvp_fn: JVPFunction, args, kwargs, inputs, value) -> list:
    """Column by column: the JVP along each unit vector of each input."""
    blocks = []
    for k, x in enumerate(inputs):
        columns = []
        for unit in _units(x):
            tangents = [unit if i == k else _zero_tangent(other)
                        for i, other in enumerate(inputs)]
            tangent = tangents[0] if jvp_fn.single else tuple(tangents)
            columns.append(_array(jvp_fn(*args, tangent, **kwargs)[1]))
        blocks.append(_block(columns, -1, value, x))
    return blocks


def _jacobian_reverse(vjp_fn: VJPFunction, args, kwargs, inputs, value) -> list:
    """Row by row: the pullback of each unit vector of the output."""
    pullback = vjp_fn.pullback_at(args, kwargs, value)
    rows: List[list] = [[] for _ in inputs]
    for seed in _units(value):
        grads = pullback(seed)
        grads = (grads,) if vjp_fn.single else grads
        for k, g in enumerate(grads):
            rows[k].append(_array(g))
    return [_block(r, 0, value, x) for r, x in zip(rows, inputs)]


def _size(value: Any) -> int:
    """np.size, from the shape alone (np.size of a dask array computes it)."""
    return int(np.prod(np.shape(value)))


def _array(value: Any) -> Any:
    """A part of a Jacobian as an array: a dask one stays lazy (np.asarray would compute)."""
    return value if arrays.is_foreign_array(value) else np.asarray(value)


def _block(parts: list, axis: int, value: Any, x: Any) -> Any:
    """The derivative of `value` by `x` (shaped value's shape + x's shape) from its
    columns (axis -1) or rows (axis 0); in the float type NumPy promotes theirs to (a
    float32 function's stays float32), an empty block where either is empty; a 0-d
    block is a number unless one of the two is an array."""
    floats = [d for d in (np.result_type(value), np.result_type(x)) if d.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(float)
    shape = np.shape(value) + np.shape(x)
    block = np.stack(parts, axis=axis).astype(dtype, copy=False).reshape(shape) if parts \
        else np.zeros(shape, dtype)
    if block.ndim or isinstance(value, np.ndarray) or isinstance(x, np.ndarray) or \
            arrays.is_foreign_array(block):
        return block
    return float(block) if dtype == np.float64 else dtype.type(block)


def _tangent_like(t: Any, x: Any, param: str) -> Any:
    """A tangent (or cotangent) shaped and typed like the value it goes with; a fresh
    array, so the caller's is never handed back or written."""
    what, of = ("the cotangent", "output") if param == "cotangent" else \
        (f"the tangent for {param!r}", "argument")
    if arrays.is_foreign_array(t) or arrays.is_foreign_array(x):
        return _foreign_tangent(t, x, what, of)
    if not isinstance(t, (numbers.Real, np.ndarray, np.generic)) or \
            isinstance(t, (bool, np.bool_)) or \
            isinstance(t, (np.ndarray, np.generic)) and t.dtype.kind not in "fiu":
        kind = f"an array of dtype {t.dtype}" if isinstance(t, np.ndarray) else \
            f"a {type(t).__name__}"
        raise ArgumentError(f"{what} is {kind}; pass a float or a float array shaped "
                            f"like the {of}", hint="e.g. np.ones_like(...) of it")
    if np.shape(t) != np.shape(x):
        raise ArgumentError(f"{what} has shape {np.shape(t)}, the {of} {np.shape(x)}",
                            hint=f"pass one of the {of}'s shape")
    if isinstance(x, np.ndarray):
        return np.array(t, dtype=np.result_type(x, np.float32)
                        if np.issubdtype(x.dtype, np.inexact) else float)
    return float(t)


def _foreign_tangent(t: Any, x: Any, what: str, of: str) -> Any:
    """A tangent where the value or the tangent is a dask or CuPy array: checked by
    shape and dtype only (its numbers are not read), in the float type of x's."""
    if tuple(np.shape(t)) != tuple(np.shape(x)):
        raise ArgumentError(f"{what} has shape {tuple(np.shape(t))}, the {of} "
                            f"{tuple(np.shape(x))}", hint=f"pass one of the {of}'s shape")
    dtype = np.result_type(t)
    if dtype.kind not in "fiu":
        raise ArgumentError(f"{what} is an array of dtype {dtype}; pass a float or a "
                            f"float array shaped like the {of}",
                            hint="e.g. np.ones_like(...) of it")
    floats = np.result_type(x, np.float32) if np.result_type(x).kind == "f" else \
        np.dtype(float)
    if isinstance(t, (numbers.Real, np.generic)):
        return floats.type(t)
    return t if t.dtype == floats else t.astype(floats)


def _tangent_of_value(derivative: Any, value: Any) -> Any:
    if isinstance(value, (tuple, list)):  # (a list's zero tangent is a Pieces tuple)
        return type(value)(_tangent_of_value(d, v) for d, v in zip(derivative, value))
    if arrays.is_foreign_array(value) or arrays.is_foreign_array(derivative):
        # (from dask data: lazy, in the float type NumPy would give; never computed)
        floats = np.result_type(value, np.float32) if np.result_type(value).kind == "f" \
            else np.dtype(float)
        if np.shape(derivative) != np.shape(value):
            derivative = np.reshape(derivative, np.shape(value))
        return derivative if derivative.dtype == floats else derivative.astype(floats)
    if isinstance(value, np.ndarray):
        return np.asarray(derivative, dtype=np.result_type(value, np.float32)
                          if np.issubdtype(value.dtype, np.inexact) else float) \
            .reshape(value.shape)
    if isinstance(value, np.floating) and type(value) is not np.float64:
        return np.result_type(value, np.float32).type(derivative)  # float32 stays
    return float(derivative)


@entry_point
@keywords_checked
def hessian(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
            optimize: bool = True) -> Callable:
    """`hessian(f, wrt)(*args)`: the matrix of second derivatives of scalar `f`, shaped
    x's shape + x's shape (a tuple of tuples of blocks for several `wrt`, as
    jax.hessian). Forward over reverse: JVPs of the generated gradient code, one per
    input element."""
    wrt = _wrt_or_argnums(wrt, argnums)
    gradient = GradientFunction(f, wrt, optimize=optimize)
    along = JVPFunction(gradient, wrt, optimize=optimize)

    @entry_point
    def hessian_of(*args: Any, **kwargs: Any) -> Any:
        called = along._target.arguments(args, kwargs)  # (a method's self first)
        along._check_call(*called)
        call = along._structured(*called)
        if call is None:
            inputs = along._differentiated_inputs(*called)
            result = _hessian_blocks(along, args, kwargs, inputs)
            return result[0][0] if along.single else result
        # structured arguments: the blocks of every pair of leaves, in the structures
        flattened, flat_along, counts = along._flat_transform(call)
        flat_args = tuple(flattened.arguments(call.values))
        blocks = _hessian_blocks(flat_along, flat_args, {},
                                 flat_along._differentiated_inputs(flat_args, {}))
        starts = [sum(counts[:k]) for k in range(len(counts))]
        trees = [call.trees[p] for p in along.wrt_names]
        values = [call.values[p] for p in along.wrt_names]
        result = tuple(tuple(
            structured.rebuild(trees[a], [
                structured.rebuild(trees[b], [blocks[i][j] for j in range(
                    starts[b], starts[b] + counts[b])], values[b])
                for i in range(starts[a], starts[a] + counts[a])], values[a])
            for b in range(len(counts))) for a in range(len(counts)))
        return result[0][0] if along.single else result

    functools.update_wrapper(hessian_of, f, updated=())
    return hessian_of


def _hessian_blocks(along: JVPFunction, args: tuple, kwargs: dict, inputs: list) -> tuple:
    """blocks[i][j] = d grad_i / d x_j, from one JVP of the gradient per element of x_j."""
    blocks: List[List[list]] = [[[] for _ in inputs] for _ in inputs]
    first = True
    for j, x in enumerate(inputs):
        for unit in _units(x):
            tangents = [unit if k == j else _zero_tangent(i) for k, i in enumerate(inputs)]
            with _quiet(not first):  # (the function's prints and logs: once a call)
                columns = along(*args, tangents[0] if along.single else tuple(tangents),
                                **kwargs)[1]
            first = False
            columns = (columns,) if len(inputs) == 1 else columns  # wrt=(0,) too
            for i, column in enumerate(columns):
                blocks[i][j].append(_array(column))
    return tuple(tuple(_block(blocks[i][j], -1, inputs[i], inputs[j])
                       for j in range(len(inputs))) for i in range(len(inputs)))


@contextlib.contextmanager
def _quiet(quiet: bool):
    """Silence what the function prints or logs in the sweeps after the first, which
    run the same forward code again (a Hessian's columns)."""
    if not quiet:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()), runtime.logging_silenced():
        yield


def _units(x: Any):
    """The unit vectors of x's space, shaped (and typed) like x."""
    for j in range(_size(x)):
        unit = np.zeros(_size(x))
        unit[j] = 1.0
        yield unit.reshape(np.shape(x)) if isinstance(x, np.ndarray) or \
            arrays.is_foreign_array(x) else 1.0


def _zero_tangent(x: Any) -> Any:
    return np.zeros(np.shape(x)) if isinstance(x, np.ndarray) or \
        arrays.is_foreign_array(x) else 0.0


@entry_point
@keywords_checked
def hvp(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
        optimize: bool = True) -> Callable:
    """`hvp(f, wrt)(*args, v)`: the Hessian of scalar `f` times v, from one JVP of the
    generated gradient code (the matrix is never formed); v shaped like the argument
    (a tuple for several `wrt`, and so is the result)."""
    wrt = _wrt_or_argnums(wrt, argnums)
    along = JVPFunction(GradientFunction(f, wrt, optimize=optimize), wrt, optimize=optimize,
                        tangent_note=" (hvp takes the function's arguments, then the vector)")

    @entry_point
    def hessian_vector_product(*args: Any, **kwargs: Any) -> Any:
        product = along(*args, **kwargs)[1]
        # the gradient code returns one array for one argument, even for wrt=(0,)
        product = (product,) if len(along.wrt_names) == 1 and not along.single else product
        if args and pytree.is_structured(args[-1]):
            return product  # (in the vector's structure already)
        # shaped and typed like the vector (a float for a float), as grad's result is
        return _tangent_of_value(product, args[-1]) if args else product

    functools.update_wrapper(hessian_vector_product, f, updated=())
    return hessian_vector_product


@entry_point
@keywords_checked
def hessp(f: Callable, wrt: Optional[Wrt] = None, *, argnums: Optional[Wrt] = None,
          optimize: bool = True) -> Callable:
    """SciPy's `hessp=` convention: `hessp(f)(x, p, *args)` is H(x) @ p for
    `f(x, *args)`, as `scipy.optimize.minimize(f, x0, args, jac=grad(f),
    hessp=hessp(f), method="trust-ncg")` calls it; `hvp` with the arguments in
    SciPy's order. With `wrt=k`, x is f's k-th argument and `args` fill the others."""
    wrt = _wrt_or_argnums(wrt, argnums)
    product = hvp(f, wrt, optimize=optimize)
    resolved = GradientFunction(f, wrt)  # (where x sits in f's positional arguments)
    position = resolved._positions[0]
    if position is not None:  # (counted among the arguments the caller passes: a bound
        position -= len(resolved._target.bound)  # method's self is passed by the method)
    if not resolved.single or position is None:
        raise ArgumentError(f"hessp takes one positional argument as x, not wrt={wrt!r}",
                            frontend._code_location(f),
                            hint="use s2sad.hvp(f, wrt)(*args, v) for several arguments "
                                 "or a keyword-only one")

    @entry_point
    def hessian_times(x: Any, p: Any, *args: Any) -> Any:
        return product(*args[:position], x, *args[position:], p)

    functools.update_wrapper(hessian_times, f, updated=())
    return hessian_times


class ElementwiseGradFunction(VJPFunction):
    """The callable `elementwise_grad` returns: the pullback of a cotangent of ones,
    which for an elementwise f is the derivative of each element (autograd's)."""

    structured_outputs = False  # (of one array: ones like it)

    @entry_point
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        value, pullback = super().__call__(*args, **kwargs)
        return pullback(np.ones_like(value) if isinstance(value, np.ndarray) or
                        arrays.is_foreign_array(value) and value.shape else 1.0)

    def __repr__(self) -> str:
        return f"<s2sad elementwise_grad of {self._target.name} wrt " \
               f"{', '.join(self.wrt_names)}>"


@entry_point
@keywords_checked
def elementwise_grad(f: Callable, wrt: Optional[Wrt] = None, *,
                     argnums: Optional[Wrt] = None,
                     optimize: bool = True) -> ElementwiseGradFunction:
    """autograd's `elementwise_grad`: the gradient of sum(f(x)), shaped like x (a float
    for a float), which for an elementwise f is f'(x) element by element; one pullback
    of a cotangent of ones (`.source` shows its code)."""
    return ElementwiseGradFunction(f, _wrt_or_argnums(wrt, argnums), optimize=optimize)
