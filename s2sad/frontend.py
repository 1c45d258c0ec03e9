"""Front end: source text -> checked gast FunctionDef with resolved names.

Input: a function object (or source text and a name). Output: `Parsed`, whose
postcondition is
  * node positions are the user's real file lines and columns;
  * every global name and attribute chain the body reads is annotated with the
    object it refers to (`resolved`), found through closure, globals, builtins;
  * the body uses only the supported subset; anything else was refused with an
    S2SADError pointing at the construct, before any transform ran.
"""
from __future__ import annotations

import ast
import builtins
import copy
import dis
import inspect
import linecache
import math
import re
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy

from .anno import PLAIN_VALUES, names_in, set_anno, walk
from . import distributions
from .errors import (Location, NameResolutionError, SourceUnavailableError,
                     UnsupportedSyntaxError)


@dataclass
class Parsed:
    """A parsed, resolved and checked user function."""

    func: gast.FunctionDef
    filename: str
    file_lines: Sequence[str]
    namespace: Dict[str, Any] = field(default_factory=dict)
    defaults: Dict[str, Any] = field(default_factory=dict)
    # where the names of `namespace` came from: module globals and closure variables
    # (`cells`) are read again at every call (a rebinding is seen); `env` entries are fixed
    live_globals: Optional[Dict[str, Any]] = None
    global_names: frozenset = frozenset()
    # the closure cells of the names read from the closure: the code reads them again
    # at each call, as it does module globals
    cells: Dict[str, Any] = field(default_factory=dict)
    # bound_names(func), found when the names are resolved (lowering needs them too)
    local_names: frozenset = frozenset()
    # the function object read (None for source text), and the code it had then
    function: Optional[Callable] = None
    code: Optional[types.CodeType] = None

    @property
    def name(self) -> str:
        return self.func.name

    def source_line(self, line: int) -> str:
        if 1 <= line <= len(self.file_lines):
            return self.file_lines[line - 1].rstrip("\n")
        return ""

    def locate(self, node: Any) -> Location:
        line = getattr(node, "lineno", None) or self.func.lineno
        col = getattr(node, "col_offset", None) or 0
        end_line = getattr(node, "end_lineno", None)
        end_col = getattr(node, "end_col_offset", None) if end_line == line else None
        return Location(self.filename, line, col, self.source_line(line), end_col)


# ---------------------------------------------------------------------------
# Reading source


def parse_function(fn: Callable, desugar: Optional[Callable[[Parsed], None]] = None,
                   check: bool = True) -> Parsed:
    """Parse a live function object, keeping its real file positions.

    A decorated function is read as the decorator made it (not unwrapped through
    `__wrapped__`, which would differentiate another function than the one called).
    `desugar(parsed)`, where given, rewrites the resolved function before the subset
    check (see desugar.py); with `check=False` the check is left to the caller."""
    if getattr(fn, "_s2sad_transform", False):
        raise UnsupportedSyntaxError(
            "a derivative s2sad made (s2sad.grad(...)) cannot be read as source here",
            _code_location(getattr(fn, "fn", None)),
            hint="differentiate it directly: s2sad.grad(s2sad.grad(f)), s2sad.hessian(f), "
                 "s2sad.hvp(f); a derivative called inside another function is not inlined")
    fn = _through_transparent_wrappers(fn)
    if not isinstance(fn, types.FunctionType):
        raise SourceUnavailableError(
            f"{fn!r} is not a Python function defined with `def`",
            hint="pass a function written in Python; for a library function register "
                 "a rule with @s2sad.adjoint")
    if fn.__name__ == "<lambda>":
        func, file_lines = read_lambda(fn)
        env, closure = _function_environment(fn)
        parsed = _parse_tree(func, fn.__code__.co_filename, file_lines, env, function=fn,
                             desugar=desugar, check=check)
        return _read_from(parsed, fn, closure)
    try:
        text = inspect.getsource(fn.__code__)  # its own code, never __wrapped__
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot find the source of function {fn.__name__!r} ({exc})",
            _code_location(fn),
            hint="functions typed at the REPL or made by exec have no source file; "
                 "write it in a .py file, or call s2sad.grad_source(text, name) "
                 "with the source text") from None
    filename = fn.__code__.co_filename
    file_lines = linecache.getlines(filename) or text.splitlines(True)
    first_line = fn.__code__.co_firstlineno
    if not linecache.getlines(filename):
        first_line = 1
    refuse_stale_source(fn, text)
    env, closure = _function_environment(fn)
    parsed = _parse(text, fn.__name__, filename, file_lines, first_line, env, function=fn,
                    desugar=desugar, check=check)
    return _read_from(parsed, fn, closure)


def _read_from(parsed: Parsed, fn: types.FunctionType, closure: set) -> Parsed:
    """The parse of `fn` with what the later stages need of the function itself."""
    parsed.defaults = _defaults_of(fn)
    parsed.function, parsed.code = fn, fn.__code__
    parsed.live_globals = fn.__globals__
    parsed.global_names = frozenset(n for n in parsed.namespace
                                    if n not in closure and n in fn.__globals__)
    parsed.cells = {n: cell for n, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ())
                    if n in closure and n in parsed.namespace}
    return parsed


def refuse_stale_source(fn: types.FunctionType, text: str) -> None:
    """Refuse source text that is not the source of the function that runs: a module
    file edited after import (inspect reads the file as it is now). The text is
    compiled in the function's own context (its closure, its class) and its code
    compared with fn.__code__, every nested code object included."""
    code = fn.__code__
    if any(name.startswith("@py_assert") for name in code.co_varnames):
        return  # rewritten by pytest's assert rewriting: not comparable (and refused)
    if not _compiles_to(code, text, fn.__qualname__):
        raise _stale_source(fn)


def _stale_source(fn: types.FunctionType) -> SourceUnavailableError:
    """The refusal of a function whose file was edited after it was imported."""
    module = getattr(fn, "__module__", None)
    hint = "run the script again (a running script cannot be reloaded)" \
        if module in (None, "__main__") else \
        f"reload the module (importlib.reload({module})) or restart Python, then " \
        "take the gradient of the reloaded function"
    return SourceUnavailableError(
        f"the source of {fn.__qualname__!r} in {fn.__code__.co_filename} is not the code "
        "that runs: the file was edited after it was imported", _code_location(fn),
        hint=hint)


def _compiles_to(code: types.CodeType, text: str, qualname: str) -> bool:
    """Whether `text` (a def, maybe indented, maybe decorated) compiles to `code`."""
    indented = text[:1] in (" ", "\t")
    try:
        module = ast.parse("if 1:\n" + text if indented else text)
    except SyntaxError:
        return False
    found = module.body[0].body[0] if indented else module.body[0] if module.body else None
    if not isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
            found.name != code.co_name:
        return False
    found.decorator_list = []  # (evaluated outside the function's code)
    return _node_compiles_to(code, found, qualname)


def _node_compiles_to(code: types.CodeType, found: ast.AST, qualname: str) -> bool:
    """Whether a def (without decorators) or a lambda compiles to `code`, compiled in
    the context `qualname` names (a class, a closure)."""
    body: list = [found if isinstance(found, ast.stmt) else ast.Expr(value=found)]
    owner = qualname.split(".")[-2] if "." in qualname else "<locals>"
    if not owner.startswith("<"):  # a method: its class mangles __names, gives __class__
        body = [ast.ClassDef(name=owner, bases=[], keywords=[], body=body,
                             decorator_list=[])]
    free = [name for name in code.co_freevars if name != "__class__"]
    if free:  # closure variables: bind them in an enclosing function
        assign = ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store()) for n in free],
                            value=ast.Constant(value=None))
        body = [ast.FunctionDef(name="enclosing", args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
            kwarg=None, defaults=[]), body=[assign] + body, decorator_list=[],
            returns=None)]
    tree = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    try:
        compiled = compile(tree, code.co_filename, "exec", flags=code.co_flags & _FUTURES,
                           dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return any(_same_code(candidate, code)
               for candidate in _code_objects(compiled, code.co_name))


_FUTURES = 0
for _feature in __import__("__future__").all_feature_names:
    _FUTURES |= getattr(__import__("__future__"), _feature).compiler_flag


def _code_objects(code: types.CodeType, name: str):
    """The code objects named `name` in `code`, not those nested in them (a lambda
    inside the lambda compiled is not the lambda compiled)."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name:
                yield const
            else:
                yield from _code_objects(const, name)


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    """The same instructions, names and constants (line numbers aside)."""
    if a.co_names != b.co_names or a.co_varnames != b.co_varnames or \
            a.co_freevars != b.co_freevars or a.co_cellvars != b.co_cellvars or \
            len(a.co_consts) != len(b.co_consts) or _instructions(a) != _instructions(b):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, types.CodeType) or isinstance(y, types.CodeType):
            if not (isinstance(x, types.CodeType) and isinstance(y, types.CodeType)
                    and _same_code(x, y)):
                return False
        elif type(x) is not type(y) or repr(x) != repr(y):  # (0.0 is not -0.0; nan is nan)
            return False
    return True


def _instructions(code: types.CodeType) -> list:
    """The instructions as (operation, argument), jumps to instruction numbers. A
    method call on a name the module imports compiles to LOAD_ATTR instead of
    LOAD_METHOD (CPython 3.11+ looks at the module's imports, which compiling the
    function alone does not see): the two count as one operation; so do a NULL pushed
    apart and one pushed by LOAD_GLOBAL."""
    number = {}  # offset -> instruction number (an EXTENDED_ARG prefix: its instruction's)
    instructions: list = []
    waiting = []
    for i in dis.get_instructions(code):
        waiting.append(i.offset)
        # (how many EXTENDED_ARGs there are depends on the offsets; a call whose result
        # is called, m.f(a)(b), pushes its NULL apart or in LOAD_GLOBAL by the same rule)
        if i.opname not in ("EXTENDED_ARG", "PUSH_NULL"):
            number.update((offset, len(instructions)) for offset in waiting)
            waiting = []
            instructions.append(i)
    result = []
    for i in instructions:
        operation = "LOAD_ATTR" if i.opname == "LOAD_METHOD" else i.opname
        if i.opcode in dis.hasjrel or i.opcode in dis.hasjabs:
            argument = number.get(i.argval, i.argval)
        elif i.opcode in dis.hasname:
            argument = i.argval
        else:  # (a constant's index: the constants are compared on their own)
            argument = i.arg
        result.append((operation, argument))
    return result


def _through_transparent_wrappers(fn: Callable) -> Callable:
    """The function a functools.wraps decorator wraps, if the wrapper only passes its
    arguments on and returns the result (logging aside); otherwise the wrapper itself,
    whose own code is then what gets differentiated (or refused)."""
    while isinstance(fn, types.FunctionType) and hasattr(fn, "__wrapped__"):
        try:
            tree = gast.parse(textwrap.dedent(inspect.getsource(fn.__code__)))
        except (OSError, TypeError, SyntaxError):
            return fn
        func = tree.body[0]
        if not isinstance(func, gast.FunctionDef) or not _passes_through(func, fn) or \
                not _compiles_to(fn.__code__, inspect.getsource(fn.__code__), fn.__qualname__):
            return fn  # (a wrapper whose file was edited since is then refused as stale)
        fn = fn.__wrapped__
    return fn


def _passes_through(func: gast.FunctionDef, fn: types.FunctionType) -> bool:
    body = [s for s in func.body if not isinstance(s, gast.Expr)]
    if len(body) != 1 or not isinstance(body[0], gast.Return):
        return False
    call = body[0].value
    args, kwargs = func.args.vararg, func.args.kwarg
    if not isinstance(call, gast.Call) or not isinstance(call.func, gast.Name) or \
            args is None or kwargs is None or func.args.args or func.args.kwonlyargs:
        return False
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    cell = cells.get(call.func.id)
    try:
        callee = cell.cell_contents if cell is not None else None
    except ValueError:
        return False
    return callee is fn.__wrapped__ and len(call.args) == 1 and \
        isinstance(call.args[0], gast.Starred) and \
        getattr(call.args[0].value, "id", None) == args.id and len(call.keywords) == 1 and \
        call.keywords[0].arg is None and getattr(call.keywords[0].value, "id", None) == kwargs.id


def read_lambda(fn: types.FunctionType) -> Tuple[gast.FunctionDef, Sequence[str]]:
    """A lambda as the function `def <name>(<its parameters>): return <its expression>`
    (named as the name it is assigned to, else `lambda_`), its nodes at the lambda's
    own lines and columns in its file; and the file's lines."""
    file_lines = linecache.getlines(fn.__code__.co_filename)
    found = _find_lambda(fn, file_lines)
    if found is None:
        if file_lines:
            raise _stale_source(fn)
        params = ", ".join(inspect.signature(fn).parameters)
        raise SourceUnavailableError(
            f"cannot find the source of the lambda ({params}): "
            f"{fn.__code__.co_filename} is not a file", _code_location(fn),
            hint="a lambda made by eval or exec, or typed at the interactive prompt, has "
                 "no source to read; write it in a .py file, or pass its text as a def: "
                 f"s2sad.grad_source('def f({params}):\\n    return <its expression>\\n', "
                 "'f')")
    node, name = found
    node = copy.deepcopy(node)
    result = ast.copy_location(ast.Return(value=node.body), node.body)
    func = ast.copy_location(ast.FunctionDef(
        name=name or "lambda_", args=node.args, body=[result], decorator_list=[],
        returns=None, type_comment=None), node)
    return _to_gast(func), file_lines


def _find_lambda(fn: types.FunctionType,
                 file_lines: Sequence[str]) -> Optional[Tuple[ast.Lambda, Optional[str]]]:
    """The lambda expression of `fn` in its file, and the name it is assigned to (if
    it is the value of `name = lambda ...`): among the lambdas that start on its first
    line, the one that compiles, in fn's context, to fn's code (a line may hold
    several; a call spanning lines may hold it). None where the file has none."""
    code = fn.__code__
    tree = _file_tree(code.co_filename, file_lines)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno and \
                _node_compiles_to(code, node, fn.__qualname__):
            names = [a.targets[0].id for a in ast.walk(tree) if isinstance(a, ast.Assign)
                     and a.value is node and isinstance(a.targets[0], ast.Name)]
            return node, (names[0] if names else None)
    return None


def _file_tree(filename: str, file_lines: Sequence[str]) -> Optional[ast.Module]:
    """The file parsed, once while linecache holds the same lines (None if it does
    not parse)."""
    cached = _FILE_TREES.get(filename)
    if cached is not None and cached[0] is file_lines:
        return cached[1]
    try:
        tree: Optional[ast.Module] = ast.parse("".join(file_lines)) if file_lines else None
    except (SyntaxError, ValueError):
        tree = None
    _FILE_TREES[filename] = (file_lines, tree)
    return tree


_FILE_TREES: Dict[str, Tuple[Sequence[str], Optional[ast.Module]]] = {}


def parse_source(text: str, name: str, filename: str = "<string>",
                 env: Optional[Dict[str, Any]] = None,
                 desugar: Optional[Callable[[Parsed], None]] = None) -> Parsed:
    """Parse function `name` from source text; names resolve through `env`
    (`desugar` as for parse_function)."""
    if env is None:
        env = {"np": numpy, "numpy": numpy, "math": math}
    text = textwrap.dedent(text)
    try:
        module = ast.parse(text)  # gast converts the function's tree below
    except SyntaxError as exc:
        raise UnsupportedSyntaxError(
            f"the source does not parse: {exc.msg}",
            Location(filename, exc.lineno or 1, (exc.offset or 1) - 1, exc.text or ""),
            hint="fix the syntax error") from None
    for stmt in module.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            lines = text.splitlines(True)
            # converted from the parse above (not parsed again): its lines are the text's
            hint = "add it to env={...} (names resolve through env, by default np, " \
                   "numpy and math)"
            if desugar is None:
                parsed = _checked(_to_gast(stmt), filename, lines, dict(env),
                                  unresolved_hint=hint)
            else:
                parsed = Parsed(_to_gast(stmt), filename, lines)
                _refuse_async(parsed)
                parsed.namespace = resolve_names(parsed, dict(env), hint)
                desugar(parsed)
                finish(parsed)
            parsed.defaults = {}
            return parsed
    raise SourceUnavailableError(f"no function named {name!r} in the given source",
                                 hint="check the function name")


def _to_gast(node: Any) -> Any:
    """gast.ast_to_gast, several times faster on what functions are made of: a node
    becomes the gast class of its name with the same fields and positions (a Name
    also gets gast's annotation and type_comment, a parameter becomes a Name in the
    Param context, a FunctionDef gets type_params). A class gast converts with a
    method of its own (ExceptHandler, ClassDef, ...) is left to gast."""
    kind = type(node)
    if kind is list:
        return [_to_gast(item) for item in node]
    form = _GAST_FORMS.get(kind)
    if form is None:
        form = _GAST_FORMS[kind] = _gast_form(kind)
    if form is _LEAF:
        return node
    if form is _BY_GAST:
        return gast.ast_to_gast(node)
    target, fields, attributes = form
    converted = target.__new__(target)
    state = converted.__dict__
    if kind is ast.Name:
        state.update(id=node.id, ctx=_to_gast(node.ctx), annotation=None, type_comment=None)
    elif kind is ast.arg:
        state.update(id=node.arg, ctx=gast.Param(), annotation=_to_gast(node.annotation),
                     type_comment=node.type_comment)
    else:
        for key in fields:
            value = getattr(node, key, _MISSING)
            if value is not _MISSING:
                state[key] = value if type(value) in PLAIN_VALUES else _to_gast(value)
        if kind is ast.FunctionDef and "type_params" not in state:
            state["type_params"] = []  # (Python < 3.12 has none)
    for attribute in attributes:
        value = getattr(node, attribute, _MISSING)
        if value is not _MISSING:
            state[attribute] = value
    return converted


def _gast_form(kind: type) -> Any:
    """(gast class, fields, position attributes) of an ast class; _LEAF for a value
    that is not a node, _BY_GAST for a class gast converts in a way of its own."""
    if not issubclass(kind, ast.AST):
        return _LEAF
    if kind not in (ast.Name, ast.arg, ast.FunctionDef, ast.Constant) and \
            hasattr(gast.ast3.Ast3ToGAst, "visit_" + kind.__name__):
        return _BY_GAST
    target = gast.Name if kind is ast.arg else getattr(gast, kind.__name__, None)
    if target is None:
        return _BY_GAST
    return target, tuple(kind._fields), tuple(kind._attributes)


_GAST_FORMS: Dict[type, Any] = {}
_LEAF, _BY_GAST, _MISSING = object(), object(), object()


def read_function(fn: Callable) -> Parsed:
    """A function's source parsed and its names resolved, not yet checked: for the
    desugar stage, which rewrites what the check would refuse, then calls `finish`."""
    return parse_function(fn, check=False)


def _parse(text: str, name: str, filename: str, file_lines: Sequence[str],
           first_line: int, env: Dict[str, Any], unresolved_hint: str = "",
           function: Optional[types.FunctionType] = None,
           desugar: Optional[Callable[[Parsed], None]] = None, check: bool = True) -> Parsed:
    # An indented definition (a method, a def inside a test) is parsed inside an
    # `if 1:` block, so columns stay the file's own and a docstring line at
    # column 0 is no obstacle (textwrap.dedent would stop at it).
    indented = text[:1] in (" ", "\t")
    module = _to_gast(ast.parse("if 1:\n" + text if indented else text))  # gast.parse
    func = module.body[0].body[0] if indented else module.body[0]
    _shift_lines(module, first_line - 1 - (1 if indented else 0))
    return _parse_tree(func, filename, file_lines, env, unresolved_hint, function, desugar,
                       check)


def _parse_tree(func: gast.FunctionDef, filename: str, file_lines: Sequence[str],
                env: Dict[str, Any], unresolved_hint: str = "",
                function: Optional[types.FunctionType] = None,
                desugar: Optional[Callable[[Parsed], None]] = None,
                check: bool = True) -> Parsed:
    """A function's tree, positioned as in its file: resolved, desugared, checked."""
    if function is not None:
        _defaults_as_values(func, function, env)
    if desugar is None and check:
        return _checked(func, filename, file_lines, env, unresolved_hint)
    parsed = Parsed(func, filename, file_lines)
    _refuse_async(parsed)
    parsed.namespace = resolve_names(parsed, env, unresolved_hint)
    if function is not None:  # (the desugar stage reads what the names are bound to)
        parsed.function = function
        parsed.live_globals = function.__globals__
        parsed.cells = dict(zip(function.__code__.co_freevars, function.__closure__ or ()))
    if desugar is not None:
        desugar(parsed)
    if check:
        finish(parsed)
    return parsed


def finish(parsed: Parsed) -> None:
    """The subset check of a desugared function, and its locals found again."""
    check_subset(parsed)
    local_names = _rename_reserved_locals(parsed, bound_names(parsed.func))
    parsed.local_names = frozenset(local_names)
    _refuse_reserved_names(parsed, local_names)


def _defaults_as_values(func: gast.FunctionDef, fn: types.FunctionType,
                        env: Dict[str, Any]) -> None:
    """Python evaluated the defaults once, where `def` ran (a loop variable, a closure
    of the enclosing function, a global since rebound): the generated signature takes
    those values, a number as itself, anything else by a name bound to it in `env`."""
    args = func.args
    taken = {n.id for n in walk(func) if isinstance(n, gast.Name)}
    positional = args.posonlyargs + args.args
    values = list(fn.__defaults__ or ())
    expressions = [func] * (len(values) - len(args.defaults)) + list(args.defaults)
    args.defaults = [_value_node(param.id, value, where, env, taken) for param, value, where
                     in zip(positional[len(positional) - len(values):], values,
                            expressions[len(expressions) - len(values):])]
    kwdefaults = fn.__kwdefaults__ or {}
    args.kw_defaults = [
        _value_node(param.id, kwdefaults[param.id], where or func, env, taken)
        if param.id in kwdefaults else None
        for param, where in zip(args.kwonlyargs, args.kw_defaults)]


def _value_node(param: str, value: Any, where: gast.AST, env: Dict[str, Any],
                taken: set) -> gast.AST:
    plain = type(value) in (int, bool, str, type(None)) or \
        type(value) is float and math.isfinite(value)
    if plain:
        node: gast.AST = gast.Constant(value=value, kind=None)
    else:
        name = f"{param}_default"
        while name in taken or name in env and env[name] is not value:
            name += "_"
        env[name] = value
        node = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
    return gast.copy_location(node, where)


def _checked(func: gast.AST, filename: str, file_lines: Sequence[str], env: Dict[str, Any],
             unresolved_hint: str) -> Parsed:
    """The parsed function (its lines numbered as in the file), checked and resolved."""
    parsed = Parsed(func, filename, file_lines)
    _refuse_async(parsed)
    check_subset(parsed)
    parsed.namespace = resolve_names(parsed, env, unresolved_hint)
    return parsed


def _refuse_async(parsed: Parsed) -> None:
    func = parsed.func
    if isinstance(func, gast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("async functions are not supported",
                                     parsed.locate(func),
                                     hint="differentiate a plain `def` function")
    assert isinstance(func, gast.FunctionDef), "getsource returned a non-function"
    func.decorator_list = []
    func.returns = None


def _shift_lines(tree: gast.AST, line_offset: int) -> None:
    for node in walk(tree):
        if getattr(node, "lineno", None) is not None:
            node.lineno += line_offset
            if getattr(node, "end_lineno", None) is not None:
                node.end_lineno += line_offset


def _code_location(fn: Callable, construct: str = "def") -> Optional[Location]:
    """Where a function's definition starts, the caret under `construct` (under
    `lambda` for a lambda, the one of several on its line that made it)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    line = code.co_firstlineno
    text = linecache.getline(code.co_filename, line)
    col = max(text.find(construct), 0)
    if code.co_name == "<lambda>" and isinstance(fn, types.FunctionType):
        construct = "lambda"
        found = _find_lambda(fn, linecache.getlines(code.co_filename))
        col = found[0].col_offset if found is not None else max(text.find(construct), 0)
    return Location(code.co_filename, line, col, text, col + len(construct))


def parameter_location(fn: Callable, parameter: str) -> Optional[Location]:
    """The `def` (or `lambda`) line of `fn`, the caret under `parameter` when it is on
    that line."""
    location = _code_location(fn)
    if location is None:
        return None
    text = location.source_line
    start = location.col + len("lambda") if fn.__code__.co_name == "<lambda>" else \
        text.find("(", location.col)
    col = text.find(parameter, start)
    if col < 0:
        return location
    return Location(location.filename, location.line, col, text, col + len(parameter))


def _function_environment(fn: types.FunctionType):
    """Closure cells over globals: the names the body can see, innermost first."""
    env: Dict[str, Any] = dict(fn.__globals__)
    closure = set()
    for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            env[var] = cell.cell_contents
            closure.add(var)
        except ValueError:  # an empty cell: the closure variable is not bound yet
            pass
    return env, closure


def _defaults_of(fn: types.FunctionType) -> Dict[str, Any]:
    sig = inspect.signature(fn)
    return {p.name: p.default for p in sig.parameters.values()
            if p.default is not inspect.Parameter.empty}


# ---------------------------------------------------------------------------
# Name resolution

_MISSING = object()


def resolve_names(parsed: Parsed, env: Dict[str, Any],
                  unresolved_hint: str = "") -> Dict[str, Any]:
    """Annotate global names and attribute chains; return the globals used.

    Annotations are not resolved: they may name types imported only for a
    type checker."""
    local_names = _rename_reserved_locals(parsed, bound_names(parsed.func))
    parsed.local_names = frozenset(local_names)
    _refuse_reserved_names(parsed, local_names)
    used: Dict[str, Any] = {}
    args = parsed.func.args
    roots = list(parsed.func.body) + list(args.defaults) + \
        [d for d in args.kw_defaults if d is not None]
    nodes = [node for root in roots for node in walk(root)]
    for node in nodes:
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                and node.id not in local_names:
            value = env.get(node.id, _MISSING)
            if value is _MISSING:
                value = getattr(builtins, node.id, _MISSING)
            else:
                used[node.id] = value
            if value is _MISSING:
                raise NameResolutionError(
                    f"name {node.id!r} is not defined",
                    parsed.locate(node),
                    hint=unresolved_hint or "define it at module level before calling "
                    "the gradient, or pass it as an argument")
            set_anno(node, "resolved", value)
    for node in nodes:
        if isinstance(node, gast.Attribute):
            _resolve_attribute(parsed, node)
    distributions.rewrite(parsed)
    return used


def _reserved_names() -> set:
    from . import runtime
    return {"np", "math", "tape", "len", "range", "reversed", "min"} | set(runtime.__all__)


def _rename_reserved_locals(parsed: Parsed, local_names: set) -> set:
    """A local variable named like a name the generated code calls (`sign, logdet =
    np.linalg.slogdet(K)`, where `sign` is a runtime helper): renamed `sign_1`
    throughout the function, its own scope (a parameter keeps its name, and is
    refused: callers may pass it by name)."""
    if is_generated(parsed):
        return local_names
    params = {a.id for a in walk(parsed.func.args) if isinstance(a, gast.Name)}
    clashes = (local_names & _reserved_names()) - params
    if not clashes:
        return local_names
    taken = set(local_names) | set(parsed.namespace) | _reserved_names() | \
        {n.id for n in walk(parsed.func) if isinstance(n, gast.Name)}
    renamed = {name: _fresh_name(name, taken) for name in sorted(clashes)}
    for node in walk(parsed.func):
        if isinstance(node, gast.Name) and node.id in renamed:
            node.id = renamed[node.id]
    return bound_names(parsed.func)


def _fresh_name(preferred: str, taken: set) -> str:
    counter = 1
    while f"{preferred}_{counter}" in taken:
        counter += 1
    taken.add(f"{preferred}_{counter}")
    return f"{preferred}_{counter}"


def _refuse_reserved_names(parsed: Parsed, local_names: set) -> None:
    """Generated code calls np, math and the runtime helpers by these names."""
    reserved = _reserved_names()
    if is_generated(parsed):
        reserved = {n for n in reserved if not is_tape_name(n)}
    clashes = sorted(local_names & reserved)
    if not clashes:
        return
    clash = clashes[0]
    node = next((n for n in walk(parsed.func) if isinstance(n, gast.Name)
                 and n.id == clash and not isinstance(n.ctx, gast.Load)), parsed.func)
    raise UnsupportedSyntaxError(
        f"the name {clash!r} is used by generated code and cannot name a local "
        "variable or parameter", parsed.locate(node), hint=f"rename {clash!r}")


def _resolve_attribute(parsed: Parsed, node: gast.Attribute) -> None:
    from .anno import get_anno
    base = node.value
    if isinstance(base, gast.Attribute):
        _resolve_attribute(parsed, base)
    owner = get_anno(base, "resolved", _MISSING)
    if owner is _MISSING or not isinstance(owner, types.ModuleType) and \
            not isinstance(owner, type) and not distributions.is_distribution(owner):
        return  # an attribute of a local value: x.T, x.shape, x.sum
    value = getattr(owner, node.attr, _MISSING)
    if value is _MISSING:
        raise NameResolutionError(
            f"{_dotted(node)!r} does not exist",
            parsed.locate(node),
            hint=f"check the spelling; {getattr(owner, '__name__', owner)!s} has no "
                 f"attribute {node.attr!r}")
    set_anno(node, "resolved", value)


def _dotted(node: gast.AST) -> str:
    if isinstance(node, gast.Attribute):
        return _dotted(node.value) + "." + node.attr
    if isinstance(node, gast.Name):
        return node.id
    return "<expr>"


def bound_names(func: gast.FunctionDef) -> set:
    """Parameters and every name the body assigns: the function's locals (with the
    names a nested def, class or lambda binds, so that reading them is never taken
    for a global: the check refuses or the desugar stage reads those constructs)."""
    names = {arg.id for arg in _all_params(func)}
    names.update(node.id for node in names_in(func.body)
                 if isinstance(node.ctx, (gast.Store, gast.Del, gast.Param)))
    names.update(node.name for stmt in func.body for node in walk(stmt)
                 if isinstance(node, (gast.FunctionDef, gast.ClassDef, gast.AsyncFunctionDef)))
    return names


def _all_params(func: gast.FunctionDef):
    args = func.args
    params = list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            params.append(extra)
    return params


# ---------------------------------------------------------------------------
# Subset check: refuse everything outside the supported language, with a hint.

_REFUSED_STATEMENTS = {
    gast.ClassDef: ("class definitions are not supported inside a differentiated "
                    "function", "define the class outside the function"),
    gast.FunctionDef: ("nested function definitions are not supported",
                       "define the helper at module level"),
    gast.AsyncFunctionDef: ("nested async functions are not supported",
                            "use plain functions"),
    gast.Try: ("try/except blocks are not supported",
               "remove the try; a differentiated function must not depend on exceptions"),
    gast.With: ("with blocks are not supported",
                "move the context manager outside the function"),
    gast.AsyncWith: ("async with blocks are not supported", "use plain code"),
    gast.AsyncFor: ("async for loops are not supported", "use plain code"),
    gast.Global: ("global statements are not supported",
                  "pass the value as an argument and return the new value instead"),
    gast.Nonlocal: ("nonlocal statements are not supported",
                    "pass the value as an argument"),
    gast.Delete: ("del statements are not supported",
                  "remove the del; names go out of scope by themselves"),
    gast.Import: ("imports inside the function are not supported",
                  "import at module level"),
    gast.ImportFrom: ("imports inside the function are not supported",
                      "import at module level"),
    gast.Raise: ("raise statements are not supported",
                 "check inputs before calling the gradient"),
    gast.Assert: ("assert statements are not supported",
                  "check inputs before calling the gradient"),
}

_REFUSED_EXPRESSIONS = {
    gast.Lambda: ("lambda expressions are not supported",
                  "define the function with `def` at module level"),
    gast.ListComp: ("list comprehensions are not supported",
                    "use vectorised NumPy operations"),
    gast.SetComp: ("set comprehensions are not supported",
                   "use vectorised NumPy operations"),
    gast.DictComp: ("dict comprehensions are not supported",
                    "use arrays instead of dicts"),
    gast.GeneratorExp: ("generator expressions are not supported",
                        "use vectorised NumPy operations, e.g. np.sum(x ** 2)"),
    gast.Yield: ("generators (yield) are not supported",
                 "return a value instead of yielding"),
    gast.YieldFrom: ("generators (yield from) are not supported",
                     "return a value instead of yielding"),
    gast.Await: ("await expressions are not supported", "use plain functions"),
    gast.Starred: ("starred expressions (*args) are not supported",
                   "pass the arguments one by one"),
    gast.Dict: ("dict literals are not supported", "use arrays or separate variables"),
    gast.Set: ("set literals are not supported", "use arrays or separate variables"),
    gast.JoinedStr: ("f-strings are not supported",
                     "remove string formatting from the function"),
    gast.NamedExpr: ("assignment expressions (:=) are not supported",
                     "assign on a separate line"),
    gast.BoolOp: ("`and`/`or` expressions are not supported",
                  "use np.logical_and / np.logical_or, or compute the values separately"),
}

_SUPPORTED_BINOPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.MatMult,
                     gast.Mod, gast.FloorDiv)


RUNTIME_CHECKS = ("require_scalar", "require_shapes", "require_unshared", "require_float",
                  "require_true", "raise_error", "print", "log_message")  # (a print: once a call)


def is_check_call(node: gast.AST) -> bool:
    """A call of one of s2sad.runtime's checks, which return nothing (lowering makes
    sure the name really is the runtime's)."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id in RUNTIME_CHECKS


def formatted_parts(node: gast.AST) -> List[gast.AST]:
    """The values an f-string formats (itself where it is not one): what a print or a
    log of one computes."""
    if not isinstance(node, gast.JoinedStr):
        return [node]
    return [v.value for v in node.values if isinstance(v, gast.FormattedValue)] + \
        [part for v in node.values if isinstance(v, gast.FormattedValue) and
         v.format_spec is not None for part in formatted_parts(v.format_spec)]


def is_generated(parsed: Parsed) -> bool:
    """Code s2sad generated (codegen registers it under "<s2sad ...>"), read back to be
    differentiated again: its tape of stored values is allowed."""
    return parsed.filename.startswith("<s2sad ")


def is_tape_name(identifier: str) -> bool:
    """tape, tape_1, ...; and dtape, d_tape, ddtape_1 (a tape's adjoint in code of a
    higher order, a stack just the same)."""
    identifier = re.sub(r"^(?:d_?)+(?=tape)", "", identifier)
    return identifier == "tape" or identifier.startswith("tape_") and \
        identifier[len("tape_"):].isdigit()


def is_push(node: gast.AST) -> bool:
    """tape.append(v) (a generated gradient storing a value)."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        node.func.attr == "append" and isinstance(node.func.value, gast.Name) and \
        is_tape_name(node.func.value.id) and len(node.args) == 1 and not node.keywords


def is_scatter_add(node: gast.AST) -> bool:
    """np.add.at(da, index, e) (a generated gradient accumulating at repeated indices)."""
    return isinstance(node, gast.Call) and _dotted(node.func) == "np.add.at" and \
        len(node.args) == 3 and isinstance(node.args[0], gast.Name) and not node.keywords


def is_pop(node: gast.AST) -> bool:
    """tape.pop() (a generated gradient restoring a value)."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        node.func.attr == "pop" and isinstance(node.func.value, gast.Name) and \
        is_tape_name(node.func.value.id) and not node.args and not node.keywords


def check_subset(parsed: Parsed) -> None:
    """Refuse, with a located diagnostic, anything outside the supported subset."""
    func = parsed.func
    args = func.args
    if args.vararg is not None or args.kwarg is not None:
        extra = args.vararg or args.kwarg
        raise UnsupportedSyntaxError(
            "*args and **kwargs parameters are not supported", parsed.locate(extra),
            hint="list the parameters by name")
    _check_body(parsed, func.body, top=True)


def _check_body(parsed: Parsed, body, top: bool = False, loops: int = 0) -> None:
    for index, stmt in enumerate(body):
        _check_statement(parsed, stmt, is_docstring=top and index == 0, loops=loops)
    if top and not _always_returns(body):
        last = body[-1] if body else parsed.func
        raise UnsupportedSyntaxError(
            "the function may end without a return statement",
            parsed.locate(last), hint="return the value to differentiate on every path")


def _always_returns(body) -> bool:
    """Every path through `body` ends in a return (an if needs both branches to)."""
    for stmt in body:
        if isinstance(stmt, gast.Return):
            return True
        if isinstance(stmt, gast.If) and _always_returns(stmt.body) and \
                _always_returns(stmt.orelse):
            return True
    return False


def _check_loop(parsed: Parsed, stmt, loops: int) -> None:
    if stmt.orelse:
        raise UnsupportedSyntaxError(
            f"an else block on a {'for' if isinstance(stmt, gast.For) else 'while'} "
            "loop is not supported", parsed.locate(stmt.orelse[0]),
            hint="set a flag before `break` and test it after the loop")
    if isinstance(stmt, gast.For):
        _check_target(parsed, stmt.target)
        _check_expression(parsed, stmt.iter)
    else:
        _check_expression(parsed, stmt.test)
    _check_body(parsed, stmt.body, loops=loops + 1)


def _check_statement(parsed: Parsed, stmt: gast.stmt, is_docstring: bool,
                     loops: int = 0) -> None:
    refused = _REFUSED_STATEMENTS.get(type(stmt))
    if refused is not None:
        message, hint = refused
        raise UnsupportedSyntaxError(message, parsed.locate(stmt), hint=hint)
    if isinstance(stmt, (gast.For, gast.While)):
        _check_loop(parsed, stmt, loops)
        return
    if isinstance(stmt, gast.If):
        _check_expression(parsed, stmt.test)
        _check_body(parsed, stmt.body, loops=loops)
        _check_body(parsed, stmt.orelse, loops=loops)
        return
    if isinstance(stmt, (gast.Break, gast.Continue)):
        return  # Python itself refuses them outside a loop
    if isinstance(stmt, gast.Expr):
        if is_docstring and isinstance(stmt.value, gast.Constant) \
                and isinstance(stmt.value.value, str):
            return
        if is_check_call(stmt.value):  # (print(f"loss {loss:.3f}"): its values checked)
            for arg in list(stmt.value.args) + [k.value for k in stmt.value.keywords]:
                for part in formatted_parts(arg):
                    _check_expression(parsed, part)
            return
        _check_expression(parsed, stmt.value)  # `yield x` is refused as a generator
        if is_check_call(stmt.value) or is_generated(parsed) and (
                is_push(stmt.value) or is_scatter_add(stmt.value)):
            return  # require_shapes(...), tape.append(v): generated code read back
        raise UnsupportedSyntaxError(
            "an expression statement (its value is discarded) is not supported",
            parsed.locate(stmt),
            hint="assign the value to a name, or remove the line (printing and other "
                 "side effects do not belong in a differentiated function)")
    if isinstance(stmt, gast.Assign):
        for target in stmt.targets:
            _check_target(parsed, target)
        if len(stmt.targets) > 1:
            raise UnsupportedSyntaxError(
                "chained assignment (a = b = ...) is not supported",
                parsed.locate(stmt), hint="assign on separate lines")
        _check_expression(parsed, stmt.value)
    elif isinstance(stmt, gast.AugAssign):
        _check_target(parsed, stmt.target, allow_tuple=False)
        _check_operator(parsed, stmt.op, stmt)
        _check_expression(parsed, stmt.value)
    elif isinstance(stmt, gast.AnnAssign):
        if stmt.value is None:
            raise UnsupportedSyntaxError(
                "a bare annotation without a value is not supported",
                parsed.locate(stmt), hint="give the variable a value")
        _check_target(parsed, stmt.target, allow_tuple=False)
        _check_expression(parsed, stmt.value)
    elif isinstance(stmt, gast.Return):
        if stmt.value is None:
            raise UnsupportedSyntaxError(
                "the function returns nothing", parsed.locate(stmt),
                hint="return the value to differentiate")
        _check_expression(parsed, stmt.value)
    elif isinstance(stmt, gast.Pass):
        return
    else:
        raise UnsupportedSyntaxError(
            f"{type(stmt).__name__} statements are not supported",
            parsed.locate(stmt), hint="rewrite with assignments and NumPy calls")


def _check_target(parsed: Parsed, target: gast.AST, allow_tuple: bool = True) -> None:
    if isinstance(target, gast.Name):
        return
    if allow_tuple and isinstance(target, (gast.Tuple, gast.List)):
        for elt in target.elts:
            _check_target(parsed, elt, allow_tuple=True)
        return
    if isinstance(target, gast.Starred):
        raise UnsupportedSyntaxError(
            "starred assignment targets are not supported", parsed.locate(target),
            hint="unpack into a fixed number of names, or index the array")
    if isinstance(target, gast.Subscript):
        if not isinstance(target.value, gast.Name):
            raise UnsupportedSyntaxError(
                "assignment into an element of an expression is not supported",
                parsed.locate(target), hint="index a named array: a[i, j] = ...")
        _check_expression(parsed, target.slice)
        return
    if isinstance(target, gast.Attribute):
        raise UnsupportedSyntaxError(
            "assignment to an attribute is not supported", parsed.locate(target),
            hint="assign to a local name instead")
    raise UnsupportedSyntaxError("this assignment target is not supported",
                                 parsed.locate(target), hint="assign to a plain name")


def _check_operator(parsed: Parsed, op: gast.AST, node: gast.AST) -> None:
    if not isinstance(op, _SUPPORTED_BINOPS):
        symbol = {gast.BitAnd: "&", gast.BitOr: "|", gast.BitXor: "^",
                  gast.LShift: "<<", gast.RShift: ">>"}.get(type(op), type(op).__name__)
        raise UnsupportedSyntaxError(
            f"the operator {symbol} is not supported", parsed.locate(node),
            hint="bitwise operators have no derivative; use np.logical_and etc. on "
                 "values that do not depend on the inputs")


def _check_expression(parsed: Parsed, expr: gast.AST) -> None:
    for node in walk(expr):
        refused = _REFUSED_EXPRESSIONS.get(type(node))
        if refused is not None:
            message, hint = refused
            raise UnsupportedSyntaxError(message, parsed.locate(node), hint=hint)
        if isinstance(node, gast.BinOp):
            _check_operator(parsed, node.op, node)
        elif isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Invert):
            raise UnsupportedSyntaxError(
                "the operator ~ is not supported", parsed.locate(node),
                hint="use np.logical_not on values that do not depend on the inputs")
        elif isinstance(node, gast.Call):
            for keyword in node.keywords:
                if keyword.arg is None:
                    raise UnsupportedSyntaxError(
                        "**kwargs in a call is not supported", parsed.locate(keyword),
                        hint="pass the keyword arguments by name")
        elif isinstance(node, gast.Constant) and isinstance(node.value, complex):
            raise UnsupportedSyntaxError(
                "complex numbers are not supported", parsed.locate(node),
                hint="differentiate the real and imaginary parts as separate real values")
