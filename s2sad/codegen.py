"""Code generation: a generated function -> module source text -> a live function.

The module text is what users read (`df.source`, the CLI) and exactly what runs:
it is compiled with its text registered in `linecache`, so tracebacks show the
generated lines and `inspect.getsource` works on the result, which can therefore
be differentiated again.
"""
from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import linecache
import math
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

import astor
import gast
import numpy as np

from . import runtime
from .anno import PLAIN_VALUES, get_anno, names_in
from .errors import UnsupportedSyntaxError
from .reverse import Generated

_COMMENT_MARK = "__s2sad_comment__:"


def to_source(generated: Generated, user_module: str = "__main__",
              export: bool = False) -> str:
    """The full module text: header comment, imports, the function.

    Values the function reads that no import can name (closure cells, arrays in
    `env`) are bound when the module is loaded and listed in the header. With
    `export`, module-level data of the user's module is imported from it too, so
    the text works as a standalone file."""
    body = function_source(generated.func)
    imports, bound = _imports(generated, body, user_module, export)
    if export and bound:
        raise UnsupportedSyntaxError(
            f"the exported module would need values no import can name: "
            f"{', '.join(bound)} (closure values, or globals of an inlined helper)",
            hint="print the gradient instead of writing it with -o, or make those values "
                 "module-level names of the function's own module")
    header = list(generated.header)
    if bound:
        header.append(f"  bound names:   {', '.join(bound)} (values from "
                      f"{generated.source_name}'s globals and closure)")
    lines = ["# " + line if line else "#" for line in header]
    return "\n".join(lines + imports) + "\n\n\n" + body


def function_source(func: gast.FunctionDef) -> str:
    """Python text of one function, with annotated comments printed as comments."""
    comments: List[str] = []
    marked = _with_comment_markers(func, comments)
    tree = _to_ast(marked)
    text = astor.to_source(tree, pretty_source="".join)  # no wrapping: astor breaks lines
    # at odd places (inside np.result_type); a long line is easier to read whole
    if tree.args.posonlyargs and tree.args.defaults:
        text = _signature_fixed(text, tree)
    out = []
    for line in text.splitlines():
        marker = line.strip().strip("'\"")  # '__s2sad_comment__:k' (or triple-quoted)
        if marker.startswith(_COMMENT_MARK) and marker[len(_COMMENT_MARK):].isdigit():
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# {comments[int(marker[len(_COMMENT_MARK):])]}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


_AST_FORMS: Dict[type, Tuple[type, Tuple[str, ...]]] = {}  # gast class -> ast class, fields


def _to_ast(node: Any) -> Any:
    """gast -> ast for the nodes generated code has (gast.gast_to_ast, several times
    faster): the same classes by name, a parameter's Name becomes an ast.arg."""
    kind = type(node)
    if kind is list:
        return [_to_ast(item) for item in node]
    if kind is gast.Name:
        return ast.Name(id=node.id, ctx=_CONTEXTS[type(node.ctx)])
    if kind is gast.Constant:
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                (value < 0 or value == 0 and str(value).startswith("-")):
            # -1 as a unary minus, so astor writes (-1) ** k, not -1 ** k
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value))
        return ast.Constant(value=value)
    if kind is gast.BoolOp:
        return _to_ast(_conditional(node))
    if kind is gast.arguments:
        return ast.arguments(
            posonlyargs=[_arg(a) for a in node.posonlyargs], args=[_arg(a) for a in node.args],
            vararg=None, kwonlyargs=[_arg(a) for a in node.kwonlyargs],
            kw_defaults=[_to_ast(d) for d in node.kw_defaults], kwarg=None,
            defaults=[_to_ast(d) for d in node.defaults])
    form = _AST_FORMS.get(kind)
    if form is None:
        if not issubclass(kind, gast.AST):
            return node
        target = getattr(ast, kind.__name__)
        form = _AST_FORMS.setdefault(kind, (target, tuple(
            f for f in target._fields if f in kind._fields)))
    target, fields = form
    converted = target.__new__(target)  # what target(**fields) makes, without parsing
    state = converted.__dict__
    for field in fields:
        value = getattr(node, field)
        kind = type(value)
        if kind in PLAIN_VALUES:  # a str, number or None: kept (most fields; no call)
            state[field] = value
        elif kind in _TOKENS:  # Load, Add, ...: shared, as ast.parse shares them
            state[field] = _TOKENS[kind]
        else:
            state[field] = _to_ast(value)
    if target is ast.FunctionDef:
        converted.lineno = 1
    return converted


def _conditional(node: gast.BoolOp) -> gast.IfExp:
    """`a and b` -> `b if a else False`, `a or b` -> `True if a else b` (a comparison's
    value is a bool; any other `a` is written again in its place): a rule template may
    use `and`, which s2sad's own frontend refuses, and generated code is differentiated
    again. The values are plain checks and names, evaluated once more at most."""
    first = node.values[0]
    rest = node.values[1:]
    others = rest[0] if len(rest) == 1 else gast.BoolOp(op=node.op, values=rest)
    same = gast.Constant(value=isinstance(node.op, gast.Or), kind=None) \
        if isinstance(first, gast.Compare) else first
    if isinstance(node.op, gast.And):
        return gast.IfExp(test=first, body=others, orelse=same)
    return gast.IfExp(test=first, body=same, orelse=others)


_CONTEXTS = {gast.Load: ast.Load(), gast.Store: ast.Store(), gast.Del: ast.Del(),
             gast.Param: ast.Load()}
# gast's operator classes (gast.Add: a subclass of ast.operator, as ast.Add) -> one ast
# instance each; astor reads operators and never marks them
_TOKENS = {**_CONTEXTS, **{
    kind: getattr(ast, kind.__name__)()
    for base in (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    for kind in base.__subclasses__() if kind.__module__ == gast.Add.__module__}}


def _arg(name: gast.Name) -> ast.arg:
    return ast.arg(arg=name.id, annotation=None)


def _signature_fixed(text: str, tree: ast.FunctionDef) -> str:
    """astor misplaces the defaults of a signature with positional-only parameters
    (`def f(a, b=1.0, /, c, d)`): the signature is written by ast.unparse instead."""
    head = f"def {tree.name}("
    start = text.index(head) + len(head)
    end = text.index("):\n", start)
    return text[:start] + ast.unparse(tree.args) + text[end:]


def _with_comment_markers(func: gast.FunctionDef, comments: List[str]) -> gast.FunctionDef:
    """A copy of func with each comment as a marker statement '<mark>k' (k: its index
    in `comments`), which the printed text turns back into a comment line."""
    marked = copy.copy(func)
    marked.body = _mark_block(func.body, comments)
    return marked


def _mark_block(body: List[gast.stmt], comments: List[str]) -> List[gast.stmt]:
    out = []
    for stmt in body:
        comment = get_anno(stmt, "comment")
        if comment:
            out.append(gast.Expr(value=gast.Constant(value=f"{_COMMENT_MARK}{len(comments)}",
                                                     kind=None)))
            comments.append(comment)
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            stmt = copy.copy(stmt)
            stmt.body = _mark_block(stmt.body, comments)
            stmt.orelse = _mark_block(stmt.orelse, comments)
        elif get_anno(stmt, "scatter"):
            stmt = _scatter_call(stmt)
        out.append(stmt)
    return out


def _scatter_call(stmt: gast.AugAssign) -> gast.Expr:
    """c[index] += e that must add at repeated indices: np.add.at(c, index, e)."""
    target = stmt.target
    add_at = gast.Attribute(value=gast.Attribute(
        value=gast.Name(id="np", ctx=gast.Load(), annotation=None, type_comment=None),
        attr="add", ctx=gast.Load()), attr="at", ctx=gast.Load())
    array = copy.copy(target.value)
    array.ctx = gast.Load()
    return gast.Expr(value=gast.Call(func=add_at, args=[array, target.slice, stmt.value],
                                     keywords=[]))


# -- imports --------------------------------------------------------------------

def _used_names(func: gast.FunctionDef) -> set:
    return {n.id for n in names_in(func)}


def _imports(generated: Generated, body: str, user_module: str,
             export: bool) -> Tuple[List[str], List[str]]:
    """Import lines, and the names bound without one."""
    used = _used_names(generated.func)
    lines = ["import math"] if "math" in used else []
    if "np" in used and generated.namespace.get("np", np) is np:
        lines.append("import numpy as np")
    helpers = sorted(n for n in used if n in runtime.__all__)
    if helpers:
        lines.append(f"from s2sad.runtime import {', '.join(helpers)}")
    ours = {"np": np, "math": math}
    bound = []
    for name in sorted(used & set(generated.namespace)):
        if name in generated.companions:
            continue  # defined by the modules printed after this one (companions.py)
        value = generated.namespace[name]
        if ours.get(name, None) is value or name in helpers and \
                getattr(runtime, name, None) is value:
            continue  # imported above (generated code differentiated again reads them)
        line = _import_line(name, value)
        if line is None and export and name in generated.global_names:
            line = f"from {user_module} import {name}"
        if line is None:
            bound.append(name)
        else:
            lines.append(line)
    return lines, bound


def _import_line(alias: str, value: Any) -> Optional[str]:
    """An import that names `value` exactly: modules, functions, classes."""
    if isinstance(value, types.ModuleType):
        real = value.__name__
        return f"import {real}" if real == alias else f"import {real} as {alias}"
    module = getattr(value, "__module__", None)
    real = getattr(value, "__name__", None)
    if isinstance(module, str) and "._" in module:  # (scipy.special._logsumexp)
        from .callables import qualified_name
        public = qualified_name(value)
        module = public.rpartition(".")[0] if public else module
    if isinstance(module, str) and isinstance(real, str) and \
            getattr(sys.modules.get(module), real, None) is value and \
            not module.startswith("__main__"):
        suffix = "" if real == alias else f" as {alias}"
        return f"from {module} import {real}{suffix}"
    return None


# -- loading --------------------------------------------------------------------

def namespace_for(generated: Generated) -> Dict[str, Any]:
    """The globals the generated code runs in: ours first, then the user's names."""
    namespace: Dict[str, Any] = {"__builtins__": builtins, "np": np, "math": math}
    namespace.update({name: getattr(runtime, name) for name in runtime.__all__})
    for name, value in generated.namespace.items():
        if name in namespace and namespace[name] is not value:
            raise UnsupportedSyntaxError(
                f"the function uses a global named {name!r}, a name generated code "
                "reserves for its own use", hint=f"rename your {name!r}")
        namespace[name] = value
    return namespace


def load(source: str, function_name: str, namespace: Dict[str, Any],
         label: str) -> Callable:
    """Compile `source`, register it in linecache, return `function_name` from it."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:10]
    filename = f"<s2sad {label} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    module_globals = dict(namespace)
    module_globals["__name__"] = f"s2sad.generated.{function_name}"
    exec(code, module_globals)
    return module_globals[function_name]
