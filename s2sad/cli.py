"""Command line: `s2sad grad FILE.py:FUNC` prints the generated gradient module
(`--mode forward`: the JVP, each primal line followed by its tangent line).

Exit status: 0 on success, 1 on a transform error (the diagnostic on stderr, no
Python traceback unless --traceback), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback
from typing import List, Optional

from . import api, frontend, pipeline
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
                      help="write an importable module instead of printing")
    grad.add_argument("--traceback", action="store_true",
                      help="show the Python traceback of a transform error")
    ssa = commands.add_parser("ssa", help="print the lowered form (one operation a line)")
    ssa.add_argument("target", metavar="FILE.py:FUNC")
    ssa.add_argument("--traceback", action="store_true")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
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
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's module failed to import
            raise _UsageError(f"importing {path} failed: {type(exc).__name__}: {exc}")
    finally:
        sys.path.remove(directory)
    fn = getattr(module, func_name, None)
    if fn is None:
        raise _UsageError(f"{path} has no function {func_name!r}")
    return getattr(fn, "fn", None) or fn  # a @grad-decorated function: its original
