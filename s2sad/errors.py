"""The S2SADError tree: every refusal names the user's file, line and column.

A diagnostic reads like a compiler's:

    model.py:12:8: error: lambda expressions are not supported
        y = lambda t: t * 2
            ^^^^^^^^^^^^^^^
    hint: define the function with `def` at module level and call it by name
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


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
