"""Command line: `s2sad grad FILE.py:FUNC` prints the generated gradient module
(`--mode forward`: the JVP, each primal line followed by its tangent line);
`-o OUT.py` writes it as a module that runs with NumPy alone, the s2sad.runtime
helpers it calls copied into it.

Exit status: 0 on success, 1 on a transform error (the diagnostic on stderr, no
Python traceback unless --traceback), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import inspect
import os
import sys
import textwrap
import traceback
from typing import Dict, List, Optional

from . import __version__, api, frontend, pipeline, runtime
from .errors import ArgumentError, S2SADError

USAGE_ERROR = 2
TRANSFORM_ERROR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep it explicit
        self.print_usage(sys.stderr)
        sys.stderr.write(f"s2sad: error: {message}\n")
        sys.exit(USAGE_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="s2sad", description="Source-to-source automatic "
                     "differentiation: print the derivative code of a Python function.")
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    grad = commands.add_parser("grad", help="print the generated gradient module")
    grad.add_argument("target", metavar="FILE.py:FUNC")
    grad.add_argument("--wrt", default=None,
                      help="comma-separated parameter names or indices (default: the "
                           "first parameter)")
    grad.add_argument("--mode", choices=["reverse", "forward"], default="reverse",
                      help="reverse: the gradient (default); forward: the JVP")
    grad.add_argument("--no-optimize", action="store_true",
                      help="show the code before optimisation")
    grad.add_argument("-o", "--output", metavar="OUT.py",
                      help="write a module that runs with NumPy alone (and the "
                           "function's own module, for the globals it reads) instead "
                           "of printing")
    grad.add_argument("--traceback", action="store_true",
                      help="show the Python traceback of a transform error")
    ssa = commands.add_parser("ssa", help="print the lowered form (one operation a line)")
    ssa.add_argument("target", metavar="FILE.py:FUNC")
    ssa.add_argument("--traceback", action="store_true")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    source = args.target.rpartition(":")[0] or args.target
    if getattr(args, "output", None) and os.path.exists(args.output) and \
            os.path.exists(source) and os.path.samefile(args.output, source):
        sys.stderr.write(f"s2sad: error: -o {args.output} is the file the function is read "
                         "from; it would be overwritten\n")
        return USAGE_ERROR
    try:
        fn = _load_target(args.target)
    except _UsageError as exc:
        sys.stderr.write(f"s2sad: error: {exc}\n")
        return USAGE_ERROR
    try:
        if args.command == "ssa":
            sys.stdout.write(pipeline.lowered_source(frontend.parse_function(fn)))
            return 0
        wrt = _parse_wrt(args.wrt)
        gradient = api.GradientFunction(fn, wrt, optimize=not args.no_optimize)
        text = api._compile(fn, None, tuple(gradient.wrt_names), False,
                            not args.no_optimize, export=bool(args.output),
                            mode=args.mode).source
        if args.output:
            text = with_runtime_copied(text)
    except (_UsageError, ArgumentError) as exc:
        sys.stderr.write(f"s2sad: error: {exc}\n")
        return USAGE_ERROR
    except S2SADError as exc:
        if args.traceback:
            traceback.print_exc()
        else:
            sys.stderr.write(str(exc) + "\n")
        return TRANSFORM_ERROR
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            sys.stderr.write(f"s2sad: error: cannot write {args.output}: {exc.strerror}\n")
            return USAGE_ERROR
    else:
        sys.stdout.write(text)
    return 0


class _UsageError(Exception):
    pass


def _parse_wrt(text: Optional[str]):
    if text is None:
        return 0
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise _UsageError("--wrt needs at least one parameter")
    parsed = tuple(int(i) if i.lstrip("-").isdigit() else i for i in items)
    return parsed[0] if len(parsed) == 1 else parsed


def _load_target(target: str):
    path, sep, func_name = target.rpartition(":")
    if not sep or not path or not func_name:
        raise _UsageError(f"expected FILE.py:FUNC, got {target!r}")
    if not os.path.isfile(path):
        raise _UsageError(f"no such file: {path}")
    module_name = os.path.splitext(os.path.basename(path))[0]
    directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, directory)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:  # (what the module prints is not generated code: stdout carries only that)
            with contextlib.redirect_stdout(sys.stderr):
                spec.loader.exec_module(module)
        except Exception as exc:  # the user's module failed to import
            raise _UsageError(f"importing {path} failed: {type(exc).__name__}: {exc}")
    finally:
        sys.path.remove(directory)
    fn = getattr(module, func_name, None)
    if fn is None:
        raise _UsageError(f"{path} has no function {func_name!r}")
    return getattr(fn, "fn", None) or fn  # a @grad-decorated function: its original


# -- -o OUT.py: the runtime helpers copied in ---------------------------------------------

_RUNTIME_IMPORT = "from s2sad.runtime import "


def with_runtime_copied(text: str) -> str:
    """The generated module with its `from s2sad.runtime import ...` replaced by the
    source of those helpers (and of what they use in turn), so the file runs where
    s2sad is not installed."""
    head, _, body = text.partition("\n\n\n")  # (comments and imports, then the code)
    lines = head.split("\n")
    found = [line for line in lines if line.startswith(_RUNTIME_IMPORT)]
    if not found:
        return text
    names = [n.strip() for n in found[0][len(_RUNTIME_IMPORT):].split(",")]
    imports, definitions = _runtime_sources(names)
    header = [line for line in lines if line.startswith("#")]
    header += textwrap.wrap(f"copied below from s2sad.runtime {__version__}: "
                            f"{', '.join(names)} and what they call; this file needs "
                            "NumPy, not s2sad", 88, initial_indent="#   runtime:       ",
                            subsequent_indent="#" + " " * 18, break_on_hyphens=False)
    kept = [line for line in lines if not line.startswith("#") and line not in found]
    kept += [line for line in imports if line not in kept]
    rule = "# " + "-" * 78
    return "\n".join(header + ["from __future__ import annotations"] + kept) + \
        "\n\n\n# -- copied from s2sad.runtime " + "-" * 51 + "\n\n" + \
        "\n\n\n".join(definitions) + "\n\n\n" + rule + "\n\n\n" + body


def _runtime_sources(names: List[str]):
    """The import lines and definitions (in runtime.py's order) that `names` need."""
    text = inspect.getsource(runtime)
    tree = ast.parse(text)
    lines = text.splitlines()
    defines: Dict[str, List[ast.stmt]] = {}
    imported: Dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for alias in node.names:
                imported[alias.asname or alias.name.split(".")[0]] = \
                    _import_text(node, alias)
            continue
        for name in _defined_names(node):
            defines.setdefault(name, []).append(node)
    wanted, needed_imports = set(), []
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in imported and imported[name] not in needed_imports:
            needed_imports.append(imported[name])
        for node in defines.get(name, []):
            if id(node) not in wanted:
                wanted.add(id(node))
                todo.extend(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    definitions = []
    for node in tree.body:
        if id(node) in wanted:
            first = min([node.lineno] + [d.lineno for d in
                                         getattr(node, "decorator_list", [])])
            definitions.append("\n".join(lines[first - 1:node.end_lineno]))
    return sorted(needed_imports, key=lambda line: (line.startswith("from"), line)), \
        definitions


def _defined_names(node: ast.stmt) -> List[str]:
    """The module-level names a statement binds (`__all__` is not one a helper reads)."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    return [t.id for t in targets if isinstance(t, ast.Name) and t.id != "__all__"]


def _import_text(node: ast.stmt, alias: ast.alias) -> str:
    name = alias.name + (f" as {alias.asname}" if alias.asname else "")
    if isinstance(node, ast.ImportFrom):
        return f"from {node.module} import {name}"
    return f"import {name}"
