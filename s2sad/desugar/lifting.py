"""Lambda lifting for implicit solves: `fixed_point(lambda z: np.tanh(W @ z + b), z0)`.

A fixed point's (a root's) function is differentiated apart from the function that
solves it (companions.py compiles its vjp), so it must be a function of its own. A
lambda or nested def given to `s2sad.fixed_point`/`s2sad.root` becomes one: its body as
a module-level function of the user's module whose parameters are its own, then the
enclosing function's variables it reads (Python's closure), which the call passes:

    fixed_point(lambda z: np.tanh(W @ z + b), z0)
        ->  fixed_point(g_lifted, z0, W, b)    with  def g(z, W, b): return np.tanh(W @ z + b)

so that W and b, differentiated, carry their adjoints through the multiplier equation.
"""
from __future__ import annotations

import ast
import hashlib
import linecache
import types
from typing import Any, Dict, List, Tuple

import gast

_LIFTED: Dict[tuple, types.FunctionType] = {}


def lifted(node: gast.AST, free: List[str], user_globals: Dict[str, Any],
           label: str) -> types.FunctionType:
    """A function of the user's module with `node`'s body (a gast Lambda or
    FunctionDef), its parameters followed by `free`; one per text and module."""
    name = node.name if isinstance(node, gast.FunctionDef) else "g"
    params = [a.id for a in node.args.args]
    while name in params or name in free:
        name += "_"
    body = node.body if isinstance(node, gast.FunctionDef) else \
        [gast.Return(value=node.body)]
    function = gast.FunctionDef(
        name=name, args=gast.arguments(
            args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
                  for p in params + free],
            posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]),
        body=body, decorator_list=[], returns=None, type_comment=None, type_params=[])
    tree = gast.gast_to_ast(gast.Module(body=[function], type_ignores=[]))
    text = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    key = (text, id(user_globals))
    made = _LIFTED.get(key)
    if made is None:
        made = _LIFTED[key] = _defined(text, name, label, user_globals)
    return made


def reads_fields_only(node: gast.AST, name: str) -> bool:
    """`name` appears in the lambda or def only as `name.field` read (self.W, self.b):
    an object's fields can then be passed one by one (see field_name)."""
    fields = {id(n.value) for n in gast.walk(node) if isinstance(n, gast.Attribute) and
              isinstance(n.value, gast.Name) and n.value.id == name and
              isinstance(n.ctx, gast.Load)}
    uses = [n for n in gast.walk(node) if isinstance(n, gast.Name) and n.id == name]
    return bool(uses) and all(id(n) in fields for n in uses)


def fields_read(node: gast.AST, name: str) -> List[str]:
    """The fields of `name` read, in order, and each read rewritten to the variable
    field_name(name, field) (node is the lifted copy, rewritten in place)."""
    found: List[str] = []
    for parent in gast.walk(node):
        for field, value in gast.iter_fields(parent):
            items = value if isinstance(value, list) else [value]
            for k, item in enumerate(items):
                if isinstance(item, gast.Attribute) and isinstance(item.value, gast.Name) \
                        and item.value.id == name:
                    read = gast.Name(id=field_name(name, item.attr), ctx=gast.Load(),
                                     annotation=None, type_comment=None)
                    if isinstance(value, list):
                        value[k] = read
                    else:
                        setattr(parent, field, read)
                    if item.attr not in found:
                        found.append(item.attr)
    return found


def field_name(name: str, field: str) -> str:
    return f"{name}_{field}"


def plain_signature(node: gast.AST) -> Tuple[bool, str]:
    """Whether the lambda or def takes positional parameters only (no defaults, *args,
    keywords): then its free names can follow them."""
    args = node.args
    plain = not (args.defaults or args.vararg or args.kwonlyargs or args.kwarg or
                 args.posonlyargs)
    return plain, "give it plain parameters (no defaults, *args or keywords)"


def of_leaves(function: Any, arguments: List[Tuple[str, str]], params: List[str],
              user_globals: Dict[str, Any], label: str,
              receiver: Any = None) -> types.FunctionType:
    """`function` called with its structured arguments rebuilt from their leaves:
    `def layer(z, p_W, p_b, x): p = {'W': p_W, 'b': p_b}; return layer(z, p,
    x)`, so that each array the solve depends on is a parameter of its own.
    `arguments` holds (name, text rebuilding it) for each argument; the function is
    read from the closure (`solved`)."""
    name = getattr(function, '__name__', 'g').replace("<lambda>", "g")
    bound, passed = [], []
    for stem, argument in arguments:
        if argument != stem:  # (a structure: bound to its name first, as users write it)
            bound.append(f"        {stem} = {argument}\n")
        passed.append(stem)
    # (a method of an object: called on it, as users write it, `receiver.step(x, a)`)
    called = f"receiver.{name}" if receiver is not None else "solved"
    text = (f"def made(solved, receiver):\n    def {name}({', '.join(params)}):\n" +
            "".join(bound) + f"        return {called}({', '.join(passed)})\n"
            f"    return {name}\n")
    key = (text, function, id(receiver), id(user_globals))
    found = _LIFTED.get(key)
    if found is None:
        found = _LIFTED[key] = _defined(text, name, label, user_globals)(function, receiver)
    return found


def _defined(text: str, name: str, label: str,
             user_globals: Dict[str, Any]) -> types.FunctionType:
    """The function `text` defines, its source in linecache (the frontend reads it as
    any function's) and the user's module globals its own (read live, as the code it
    was written in reads them)."""
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    filename = f"<s2sad-lifted {name} of {label} {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    code = compile(text, filename, "exec")
    inner = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(inner, user_globals, inner.co_name)
