"""The S2SADError tree: every refusal names the user's file, line and column.

A diagnostic reads like a compiler's:

    model.py:12:8: error: lambda expressions are not supported
        y = lambda t: t * 2
            ^^^^^^^^^^^^^^^
    hint: define the function with `def` at module level and call it by name
"""
from __future__ import annotations

import functools
import os
import types
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar


@dataclass(frozen=True)
class Location:
    """Where a construct sits in the user's file (1-based line, 0-based column)."""

    filename: str
    line: int
    col: int
    source_line: str = ""
    end_col: Optional[int] = None

    def caret(self) -> str:
        width = 1
        if self.end_col is not None and self.end_col > self.col:
            width = self.end_col - self.col
        text = self.source_line.rstrip("\n")
        width = max(1, min(width, len(text) - self.col)) if text else width
        prefix = "".join(ch if ch == "\t" else " " for ch in text[: self.col])
        return prefix + "^" * width


class S2SADError(Exception):
    """Base of every error s2sad raises on purpose: a refusal, never a crash."""

    def __init__(self, message: str, location: Optional[Location] = None,
                 hint: Optional[str] = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    @property
    def filename(self) -> Optional[str]:
        return self.location.filename if self.location else None

    @property
    def lineno(self) -> Optional[int]:
        return self.location.line if self.location else None

    @property
    def col(self) -> Optional[int]:
        return self.location.col if self.location else None

    def render(self) -> str:
        loc = self.location
        lines = []
        if loc is not None:
            lines.append(f"{loc.filename}:{loc.line}:{loc.col}: error: {self.message}")
            if loc.source_line:
                lines.append("    " + loc.source_line.rstrip("\n"))
                lines.append("    " + loc.caret())
        else:
            lines.append(f"error: {self.message}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class UnsupportedSyntaxError(S2SADError):
    """The function uses Python that s2sad does not differentiate."""


class NoDerivativeRuleError(S2SADError):
    """A call to a function that has no registered derivative rule."""


class NameResolutionError(S2SADError):
    """A name in the function refers to nothing s2sad can find."""


class SourceUnavailableError(S2SADError):
    """The function's source text cannot be found (REPL, exec, builtins)."""


class NonScalarOutputError(S2SADError):
    """`grad` was asked for the derivative of a non-scalar output."""


class ArgumentError(S2SADError):
    """A bad `wrt`, or an argument that cannot be differentiated (an int, a list)."""


class RuleDefinitionError(S2SADError):
    """A user-registered derivative rule does not fit the function it is for."""


class CallError(TypeError):
    """A call of a derivative whose arguments do not fit the function's signature,
    worded as Python words it for the function itself (not a refusal: a bad call)."""


# -- tracebacks that show the user's code, not s2sad's ------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NOTE = "(s2sad hid its own frames from this traceback; set S2SAD_TRACEBACK=1 to show them)"
F = TypeVar("F", bound=Callable[..., Any])


def show_internal_frames() -> bool:
    """Whether a refusal keeps s2sad's frames in its traceback (S2SAD_TRACEBACK=1), for
    debugging s2sad itself; read at each refusal, so it can be set at run time."""
    return os.environ.get("S2SAD_TRACEBACK", "").strip().lower() not in ("", "0", "false",
                                                                       "no", "off")


def _internal(filename: str) -> bool:
    """A frame of the s2sad package, or of code it generated (entries, derivatives)."""
    return filename.startswith(_PACKAGE) or filename.startswith("<s2sad")


def without_internal_frames(exc: Exception) -> Exception:
    """The refusal with s2sad's own frames taken out of its traceback (as JAX filters
    its internals): what is left is the user's code, and the diagnostic says where in
    it. Raised again from a public entry point, it gains that one frame."""
    if show_internal_frames():
        return exc
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not _internal(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    filtered = None
    for tb in reversed(kept):
        filtered = types.TracebackType(filtered, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    if isinstance(exc, S2SADError) and hasattr(exc, "add_note") and \
            _NOTE not in getattr(exc, "__notes__", ()):
        exc.add_note(_NOTE)
    return exc.with_traceback(filtered)


def entry_point(fn: F) -> F:
    """A public function: an S2SADError (or CallError) raised under it leaves with
    s2sad's frames hidden (see without_internal_frames)."""
    @functools.wraps(fn)
    def public(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (S2SADError, CallError) as exc:
            raise without_internal_frames(exc)
    return public  # type: ignore[return-value]
