"""Annotations that only a type checker sees (PEP 563 postponed evaluation).

With `from __future__ import annotations` an annotation is never evaluated, so a
name imported only under TYPE_CHECKING is not defined at run time; the function
still runs, so differentiating it should not depend on resolving the annotation.
"""
from __future__ import annotations

import typing

import numpy as np

if typing.TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray as Tensor  # noqa: F401


def typed_energy(x: Tensor) -> Tensor:
    return np.sum(np.sin(x))


def scalar_annotated(x: float, scale: float = 2.0) -> float:
    return scale * x * x
