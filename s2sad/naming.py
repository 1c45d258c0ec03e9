"""Deterministic names for generated code (the notation is fixed in STYLE.md).

* temporaries take the next free single letter (a, b, c, ...), then t1, t2, ...;
* a second version of a user's name is x_1, then x_2;
* the adjoint of x is dx (d_x if the user already has dx, then dx2, ...);
* the tangent of x is x_dot.

Never random and never built from the expression, so output is byte-identical
from run to run.
"""
from __future__ import annotations

import itertools
import keyword
import string
from typing import Iterable, Set

# Names the generated module binds; never handed out as temporaries.
RESERVED = frozenset({"np", "math", "numpy", "tape"})


class Namer:
    """Hands out fresh names that clash with nothing already taken."""

    def __init__(self, taken: Iterable[str] = ()):
        self.taken: Set[str] = set(taken) | set(RESERVED)
        self._letters = iter(string.ascii_lowercase)
        self._counter = itertools.count(1)

    def reserve(self, name: str) -> str:
        self.taken.add(name)
        return name

    def is_free(self, name: str) -> bool:
        return name not in self.taken and not keyword.iskeyword(name)

    def temp(self) -> str:
        for letter in self._letters:
            if self.is_free(letter):
                return self.reserve(letter)
        while True:
            name = f"t{next(self._counter)}"
            if self.is_free(name):
                return self.reserve(name)

    def version(self, base: str) -> str:
        for k in itertools.count(1):
            name = f"{base}_{k}"
            if self.is_free(name):
                return self.reserve(name)
        raise AssertionError("unreachable")

    def named(self, preferred: str) -> str:
        """`preferred` if free, else a version of it."""
        if self.is_free(preferred):
            return self.reserve(preferred)
        return self.version(preferred)

    def adjoint(self, name: str) -> str:
        return self._derived("d" + name, "d_" + name)

    def tangent(self, name: str) -> str:
        return self._derived(name + "_dot", name + "_dot_")

    def _derived(self, first: str, second: str) -> str:
        if self.is_free(first):
            return self.reserve(first)
        if self.is_free(second):
            return self.reserve(second)
        for k in itertools.count(2):
            candidate = f"{first}{k}"
            if self.is_free(candidate):
                return self.reserve(candidate)
        raise AssertionError("unreachable")
