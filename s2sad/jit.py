"""The compiled path: generated code handed to Numba (an optional dependency).

`s2sad.grad(f, jit=True)` compiles the generated module as usual, with its loops
and stores written in the forms Numba's nopython mode accepts, and hands that very
function to `numba.njit`; the runtime helpers it calls have Numba implementations
in jit_runtime.py. The forms (each a plain Python program too, which the fallback
runs):

- backward loops over `reversed(range(n))` as `range(n - 1, -1, -1)`;
- one stack per stored value (`a_tape`) instead of one `tape` of all of them, since
  a Numba list holds one type; an element stored as `np.copy(c[i])`, which Numba
  compiles for a number too (`c[i].copy()` it does not);
- a value a loop binds before storing it (`a = None` before the loop, `tape.append(a)`
  before `a = ...`) stored after it is bound instead, so its stack holds arrays and
  never None: `a = ...; a_tape.append(a)` in the loop, and in the adjoint
  `a_tape.pop()` then `a = a_tape[-1]` while the stack holds an older value;
- `c[index] += e` at indices that may repeat as `add_at(c, index, e)` (np.add.at's,
  which Numba lacks), not np.add.at.

Numba types the function at its first call; where the code is outside Numba's subset
(or Numba is missing) the call falls back to the Python function, once, with a
`JitFallback` warning that names what Numba refused and the generated line.
"""
from __future__ import annotations

import ast
import hashlib
import linecache
import os
import re
import sys
import types
import warnings
from typing import Any, Callable, Dict, List, Optional

import gast
import numpy as np

from .anno import clone, get_anno, names_in, walk
from .lower import builtin, call, constant, name


class JitFallback(UserWarning):
    """The generated code runs as Python: Numba is missing or refused it."""


def numba_friendly(func: gast.FunctionDef) -> None:
    """Rewrite the generated function, in place, into the forms Numba compiles."""
    for node in gast.walk(func):
        if isinstance(node, gast.For):
            explicit = _explicit_range(node.iter)
            if explicit is not None:
                node.iter = explicit
    for tape in _tapes(func):
        _split_tape(func, tape)
    for block in _blocks(func.body):
        for k, stmt in enumerate(block):
            if isinstance(stmt, gast.AugAssign) and get_anno(stmt, "scatter"):
                array = clone(stmt.target.value)
                array.ctx = gast.Load()
                block[k] = gast.Expr(value=call("add_at", [array, stmt.target.slice,
                                                           stmt.value]))
            elif isinstance(stmt, gast.Expr) and _is_add_at(stmt.value):
                stmt.value.func = name("add_at")


def _explicit_range(iterate: gast.AST) -> Optional[gast.AST]:
    """reversed(range(n)) -> range(n - 1, -1, -1); reversed(range(a, b)) ->
    range(b - 1, a - 1, -1); reversed(range(n)[:k]) -> range(k - 1, -1, -1); a
    constant step, see _stepped_backwards (a step held in a variable is left alone:
    Numba then refuses, and the call falls back)."""
    if not (_is_call_of(iterate, "reversed") and len(iterate.args) == 1):
        return None
    inner = iterate.args[0]
    limit = None
    if isinstance(inner, gast.Subscript) and isinstance(inner.slice, gast.Slice) and \
            inner.slice.lower is None and inner.slice.step is None and \
            inner.slice.upper is not None:
        limit, inner = inner.slice.upper, inner.value
    if _is_call_of(inner, "range") and len(inner.args) == 3 and limit is None:
        return _stepped_backwards(*inner.args)
    if not _is_call_of(inner, "range") or not 1 <= len(inner.args) <= 2:
        return None
    start = inner.args[0] if len(inner.args) == 2 else constant(0)
    stop = inner.args[-1] if limit is None else _plus(start, limit)
    last = _minus(stop, 1)
    before = _minus(start, 1)
    return gast.Call(func=builtin(range), args=[last, before, constant(-1)], keywords=[])


def _stepped_backwards(start: gast.AST, stop: gast.AST, step: gast.AST) -> Optional[gast.AST]:
    """reversed(range(a, b, s)) for a constant s: from the last value range(a, b, s)
    takes, a + (b - a - 1) // s * s (s > 0; b - a + 1 for s < 0), back past a by -s;
    an empty range gives an empty one."""
    s = step.value if isinstance(step, gast.Constant) else \
        -step.operand.value if isinstance(step, gast.UnaryOp) and \
        isinstance(step.op, gast.USub) and isinstance(step.operand, gast.Constant) else None
    if type(s) is not int or s == 0:
        return None
    span = _minus(gast.BinOp(left=stop, op=gast.Sub(), right=start)
                  if not (isinstance(start, gast.Constant) and start.value == 0) else stop,
                  1 if s > 0 else -1)
    trips = gast.BinOp(left=gast.BinOp(left=span, op=gast.FloorDiv(), right=constant(s)),
                       op=gast.Mult(), right=constant(s))
    return gast.Call(func=builtin(range), args=[_plus(start, trips), _minus(start, 1 if s > 0
                                                                             else -1),
                                                constant(-s)], keywords=[])


def _is_add_at(node: gast.AST) -> bool:
    """np.add.at(...)"""
    func = node.func if isinstance(node, gast.Call) else None
    return isinstance(func, gast.Attribute) and func.attr == "at" and \
        isinstance(func.value, gast.Attribute) and func.value.attr == "add" and \
        isinstance(func.value.value, gast.Name) and func.value.value.id == "np"


def _is_call_of(node: gast.AST, builtin_name: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == builtin_name


def _plus(a: gast.AST, b: gast.AST) -> gast.AST:
    if isinstance(a, gast.Constant) and a.value == 0:
        return b
    return gast.BinOp(left=a, op=gast.Add(), right=b)


def _minus(a: gast.AST, k: int) -> gast.AST:
    if isinstance(a, gast.Constant) and isinstance(a.value, int):
        return constant(a.value - k)
    if k < 0:
        return gast.BinOp(left=a, op=gast.Add(), right=constant(-k))
    return gast.BinOp(left=a, op=gast.Sub(), right=constant(k))


# -- stores: one stack per stored value ---------------------------------------------

def _tapes(func: gast.FunctionDef) -> List[str]:
    """The stacks of stored values: names the body binds to [] whose every use is a
    push statement (`tape.append(v)`) or a pop assignment (`v = tape.pop()`)."""
    found = []
    for stmt in func.body:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and \
                isinstance(stmt.value, gast.List) and not stmt.value.elts:
            tape = stmt.targets[0].id
            uses = sum(1 for n in names_in(func) if n.id == tape)
            pushes, pops = _calls_on(func, tape, "append"), _calls_on(func, tape, "pop")
            if uses == 1 + len(pushes) + len(pops):
                found.append(tape)
    return found


def _blocks(body: List[gast.stmt]):
    """Every statement list of a body, nested ones too."""
    yield body
    for stmt in body:
        for block in (getattr(stmt, "body", None), getattr(stmt, "orelse", None)):
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield from _blocks(block)


def _calls_on(func: gast.FunctionDef, tape: str, method: str) -> List[tuple]:
    """(block, statement) of each push (`tape.append(v)`) or pop (`v = tape.pop()`)."""
    found = []
    for block in _blocks(func.body):
        for stmt in block:
            value = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                    isinstance(value.func.value, gast.Name) and \
                    value.func.value.id == tape and value.func.attr == method and \
                    (isinstance(stmt, gast.Expr) and len(value.args) == 1 if method == "append"
                     else isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
                     not value.args):
                found.append((block, stmt))
    return found


def _stored(stmt: gast.stmt) -> gast.AST:
    """What a push stores (v of tape.append(v), c[i] of tape.append(c[i].copy())) or
    a pop restores."""
    if isinstance(stmt, gast.Assign):
        return stmt.targets[0]
    value = stmt.value.args[0]
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
            value.func.attr == "copy" and not value.args:
        return value.func.value
    return value


def _text(node: gast.AST) -> str:
    return ast.unparse(gast.gast_to_ast(node))


def _split_tape(func: gast.FunctionDef, tape: str) -> None:
    """One stack per stored value in place of `tape` (a Numba list holds one type):
    the stack is last in, first out and each pop restores what its own push stored,
    so the pushes and pops of one value keep their order on a stack of their own."""
    pushes, pops = _calls_on(func, tape, "append"), _calls_on(func, tape, "pop")
    keys: Dict[str, List[list]] = {}
    for block, stmt in pushes + pops:
        keys.setdefault(_text(_stored(stmt)), [[], []])[isinstance(stmt, gast.Assign)].append(
            (block, stmt))
    if any(len(found) != len(restored) for found, restored in keys.values()):
        return  # (a value pushed where it is not popped: left as it is)
    taken = {n.id for n in names_in(func)}
    entry = next(s for s in func.body if isinstance(s, gast.Assign) and
                 isinstance(s.targets[0], gast.Name) and s.targets[0].id == tape)
    stacks = []
    for found, restored in keys.values():
        stored = _stored(found[0][1])
        while not isinstance(stored, gast.Name):
            stored = stored.value
        stack = _fresh(f"{stored.id}_tape", taken)
        for _, stmt in found + restored:
            stmt.value.func.value = name(stack)
        for _, push in found:  # (c[i].copy() of a number: Numba has np.copy of one)
            if push.value.args[0] is not _stored(push):
                push.value.args[0] = call("np.copy", [_stored(push)])
        stacks.append(gast.Assign(targets=[name(stack, gast.Store())],
                                  value=gast.List(elts=[], ctx=gast.Load()),
                                  type_comment=None))
        if isinstance(_stored(found[0][1]), gast.Name):
            _store_after_binding(func, _stored(found[0][1]).id, stack, found, restored)
    at = func.body.index(entry)
    func.body[at:at + 1] = stacks


def _fresh(wanted: str, taken: set) -> str:
    candidate, k = wanted, 1
    while candidate in taken:
        candidate, k = f"{wanted}_{k}", k + 1
    taken.add(candidate)
    return candidate


def _store_after_binding(func: gast.FunctionDef, v: str, stack: str, pushes: List[tuple],
                         pops: List[tuple]) -> None:
    """A name bound to None before the loop that first binds it (the placeholder its
    first push stores) is pushed after each binding instead, and restored from the
    value below the top: a stack of arrays, never None. Only where every binding of
    the name is one that a push precedes, and the name is read only in the loops
    that bind it and their adjoint loops (which run only if those did)."""
    placeholder = next((s for s in func.body if isinstance(s, gast.Assign) and
                        isinstance(s.targets[0], gast.Name) and s.targets[0].id == v and
                        isinstance(s.value, gast.Constant) and s.value.value is None), None)
    if placeholder is None:
        return
    bindings = []
    for block, push in pushes:
        at = block.index(push)
        following = block[at + 1] if at + 1 < len(block) else None
        if not (isinstance(following, gast.Assign) and len(following.targets) == 1 and
                isinstance(following.targets[0], gast.Name) and following.targets[0].id == v):
            return
        bindings.append(following)
    stores = [n for n in names_in(func) if n.id == v and isinstance(n.ctx, gast.Store)]
    if len(stores) != 1 + len(pushes) + len(pops):
        return
    loops = {get_anno(s, "loop") for s in func.body if isinstance(s, gast.For) and
             any(b is binding for binding in bindings for b in walk(s))}
    if None in loops:
        return
    outside = [s for s in func.body if not (isinstance(s, gast.For) and
                                            get_anno(s, "loop") in loops)]
    if any(n.id == v and isinstance(n.ctx, gast.Load) for s in outside for n in names_in(s)):
        return
    func.body.remove(placeholder)
    for (block, push), binding in zip(pushes, bindings):
        block.remove(push)
        block.insert(block.index(binding) + 1, push)
    for block, pop in pops:
        at = block.index(pop)
        popped = gast.Expr(value=call(f"{stack}.pop", []))
        older = gast.If(test=name(stack), body=[gast.Assign(
            targets=[name(v, gast.Store())],
            value=gast.Subscript(value=name(stack), slice=constant(-1), ctx=gast.Load()),
            type_comment=None)], orelse=[])
        block[at:at + 1] = [popped, older]


# -- compiling ----------------------------------------------------------------------

class JitFunction:
    """The generated function, run compiled where Numba accepts it.

    Numba freezes the globals a function reads into its code. Generated code reads
    the user's data globals live (pipeline.Compiled.refresh_globals), so the values
    compiled in are kept, and a call that finds one rebound or changed in place
    compiles again. Code that reads no data is also cached on disk (see `_on_disk`),
    so a later process loads it instead of compiling it."""

    def __init__(self, function: Callable):
        self.function = function
        self.compiled: Optional[Callable] = None
        self.failed: Optional[str] = None
        self.warned = False
        try:
            import numba
        except ImportError:
            self.failed = "Numba is not installed (pip install numba)"
            return
        from . import jit_runtime
        jit_runtime.register()
        self._numba = numba
        # (Numba's linear algebra needs SciPy, and says so with an ImportError when it
        # compiles a product: the code then runs as Python, as for what Numba refuses)
        self._errors = (numba.core.errors.NumbaError, ImportError)
        namespace = function.__globals__
        self._data = [n for n in function.__code__.co_names if n in namespace and
                      not callable(namespace[n]) and
                      not isinstance(namespace[n], types.ModuleType)]
        self._compile()

    def _compile(self) -> None:
        """A Numba dispatcher of the function (Numba types it at the first call)."""
        namespace = self.function.__globals__
        self._frozen = [(n, namespace[n], np.array(namespace[n], copy=True)
                         if isinstance(namespace[n], np.ndarray) else None)
                        for n in self._data]
        function = None if self._data else _on_disk(self.function)
        # (NumPy's floats: 1.0 / 0.0 is inf, as in the generated code run as Python)
        self.compiled = self._numba.njit(function or self.function, error_model="numpy",
                                         cache=function is not None)

    def _stale(self) -> bool:
        """A data global rebound, or an array changed in place, since it was compiled in."""
        namespace = self.function.__globals__
        return any(namespace.get(n) is not value or
                   copy is not None and not np.array_equal(value, copy, equal_nan=True)
                   for n, value, copy in self._frozen)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None and self._frozen and self._stale():
            self._compile()
        if self.compiled is not None:
            if self.function.__kwdefaults__:  # Numba applies no keyword-only defaults
                kwargs = {**self.function.__kwdefaults__, **kwargs}  # (the seed df=1.0)
            defaults = self.function.__defaults__
            if defaults:  # nor positional ones, when keywords are passed (the seed)
                count = self.function.__code__.co_argcount
                missing = count - len(args)
                if 0 < missing <= len(defaults):
                    names = self.function.__code__.co_varnames[len(args):count]
                    filled = defaults[len(defaults) - missing:]
                    kwargs = {**dict(zip(names, filled)), **kwargs}
            compiled = len(self.compiled.overloads)
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:
                if len(self.compiled.overloads) > compiled and \
                        not isinstance(exc, self._errors):
                    raise  # (the compiled code ran, and raised)
                # Numba refused the code (or failed on it: some of its asserts are
                # bugs it has for constructs it does not take)
                self.failed = f"Numba cannot compile {self.function.__name__}: " \
                    f"{_reason(exc, self.function, self.compiled.py_func)}"
                self.compiled = None
        if self.failed is not None and not self.warned:
            warnings.warn(f"s2sad jit: running the generated code as Python: {self.failed}",
                          JitFallback, stacklevel=3)
            self.warned = True
        return self.function(*args, **kwargs)


def _on_disk(function: Callable) -> Optional[Callable]:
    """The function compiled again from a copy of its module written to s2sad's cache
    directory, so Numba can cache its machine code beside it (Numba caches only
    functions read from files) and a later process loads it. The file's name is a
    digest of the source and of the versions of Numba and of the helpers' Numba code,
    which the machine code depends on. None where the directory cannot be written
    (S2SAD_CACHE_DIR, else ~/.cache/s2sad; S2SAD_CACHE_DIR=off for none)."""
    directory = os.environ.get("S2SAD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "s2sad")
    lines = linecache.getlines(function.__code__.co_filename)
    if directory == "off" or not lines or function.__closure__:
        return None
    source = "".join(lines)
    from . import jit_runtime
    import numba
    digest = hashlib.sha1("\0".join([source, numba.__version__, jit_runtime.version()])
                          .encode()).hexdigest()[:16]
    path = os.path.join(directory, "numba", f"{function.__name__}_{digest}.py")
    try:
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            partial = f"{path}.{os.getpid()}"
            with open(partial, "w") as out:
                out.write(source)
            os.replace(partial, path)  # (whole, for another process reading it)
    except OSError:
        return None
    # a module Numba finds by name when it loads the cache (it rebuilds the code's
    # environment from the function's module)
    name = f"_s2sad_jit_{function.__name__}_{digest}"
    module = types.ModuleType(name)
    module.__dict__.update(function.__globals__)
    module.__name__, module.__file__, module.__spec__ = name, path, None
    sys.modules[name] = module
    exec(compile(source, path, "exec"), module.__dict__)
    return module.__dict__[function.__name__]


def _reason(exc: Exception, function: Callable, compiled: Callable) -> str:
    """What Numba refused, and where in the generated code: its first meaningful line
    (helpers named plainly, not as Function(<function unindex at 0x...>)) and the
    line of the generated function its message points at."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    plain = re.sub(r"Function\(<ufunc '(\w+)'>\)", r"np.\1", plain)
    plain = re.sub(r"Function\(<(?:built-in )?function ([\w.]+)(?: at 0x[0-9a-f]+)?>\)",
                   r"\1", plain)
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith("Failed in")]
    what = (meaningful or lines or [""])[0].rstrip(":") or type(exc).__name__
    # (Numba names the file it compiled, the cached copy's path relative to here
    # where there is one: its lines are the generated module's)
    names = {os.path.basename(f.__code__.co_filename) for f in (function, compiled)}
    files = "|".join(map(re.escape, names))
    where = re.findall(r'File "[^"]*?(' + files + r')", line (\d+)', plain) or \
        re.findall(r"defined at \S*?(" + files + r") \((\d+)\)", plain)
    if where:
        line = int(where[0][1])
        text = linecache.getline(function.__code__.co_filename, line).strip()
        what += f" (line {line} of the generated code: {text})"
    return what
