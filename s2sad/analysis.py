"""Analyses over the lowered body: activity and shape classes.

Input: `Lowered` plus the differentiated parameters. Output: `Analysed`, with
  * `active`: names that depend on a differentiated input (varied) AND that the
    output depends on (useful); only these get adjoints (Tapenade's activity);
  * `shape_class`: names known to share one shape get the same class, so the
    reverse pass emits `unbroadcast` only where broadcasting may really happen.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Set

import gast
import numpy as np

from .lower import Lowered, is_local, local_names_in, op_key, op_operands

SCALAR = "scalar"


@dataclass
class Analysed:
    lowered: Lowered
    wrt: List[str]
    varied: FrozenSet[str]
    useful: FrozenSet[str]
    shape_class: Dict[str, Any] = field(default_factory=dict)
    output_scalar: bool = False  # known before running: no require_scalar check needed

    @property
    def active(self) -> FrozenSet[str]:
        return self.varied & self.useful

    def is_active(self, node: gast.AST) -> bool:
        return is_local(node) and node.id in self.active

    def same_shape(self, a: gast.AST, b: gast.AST) -> bool:
        return self.class_of(a) == self.class_of(b) and self.class_of(a) is not None

    def class_of(self, node: gast.AST) -> Any:
        if isinstance(node, gast.Constant):
            return SCALAR
        if is_local(node):
            return self.shape_class.get(node.id)
        return None


def analyse(lowered: Lowered, wrt: Iterable[str],
            is_differentiable: Callable[[Any], bool],
            shape_rule: Callable[[Any], str]) -> Analysed:
    """`is_differentiable(key)` and `shape_rule(key)` come from the rule registry."""
    wrt = list(wrt)
    varied = _varied(lowered, set(wrt), is_differentiable)
    useful = _useful(lowered, is_differentiable)
    shapes = _shape_classes(lowered, shape_rule)
    output = lowered.output
    output_scalar = not isinstance(output, tuple) and \
        (isinstance(output, gast.Constant) or shapes.get(output.id) == SCALAR)
    _infer_scalars_backwards(lowered, shapes, shape_rule)
    return Analysed(lowered, wrt, frozenset(varied), frozenset(useful), shapes,
                    output_scalar)


def _assignments(lowered: Lowered):
    for stmt in lowered.body:
        if isinstance(stmt, gast.Assign):
            yield stmt.targets[0].id, stmt.value


def _output_names(lowered: Lowered) -> Set[str]:
    outputs = lowered.output if isinstance(lowered.output, tuple) else (lowered.output,)
    return {n for out in outputs for n in local_names_in(out)}


def _varied(lowered: Lowered, seeds: Set[str], is_differentiable) -> Set[str]:
    varied = set(seeds)
    for target, value in _assignments(lowered):
        key = op_key(value)
        if key is not None and not is_differentiable(key):
            continue
        if any(n in varied for n in local_names_in(value)):
            varied.add(target)
    return varied


def _useful(lowered: Lowered, is_differentiable) -> Set[str]:
    useful = _output_names(lowered)
    for target, value in reversed(list(_assignments(lowered))):
        if target not in useful:
            continue
        key = op_key(value)
        if key is not None and not is_differentiable(key):
            continue
        useful.update(local_names_in(value))
    return useful


def _infer_scalars_backwards(lowered: Lowered, classes: Dict[str, Any], shape_rule) -> None:
    """The adjoint runs only once the output is known to be a scalar, and an
    elementwise result with no dimensions has operands with no dimensions."""
    if isinstance(lowered.output, tuple) or not is_local(lowered.output):
        return
    scalars = {lowered.output.id}
    for target, value in reversed(list(_assignments(lowered))):
        if target not in scalars:
            continue
        key = op_key(value)
        kind = "copy" if key is None else shape_rule(key, value)
        if kind in ("copy", "unary", "binary"):
            scalars.update(n.id for n in op_operands(value) if is_local(n))
    for scalar in scalars:
        classes[scalar] = SCALAR


def _shape_classes(lowered: Lowered, shape_rule) -> Dict[str, Any]:
    """Equal classes mean equal shapes; None means unknown."""
    fresh = itertools.count()
    classes: Dict[str, Any] = {}
    for param in lowered.params:
        classes[param] = SCALAR if param in lowered.scalar_params else f"param {param}"

    def class_of(node):
        if isinstance(node, gast.Constant):
            return SCALAR if isinstance(node.value, (int, float)) else None
        if is_local(node):
            return classes.get(node.id)
        return None

    for target, value in _assignments(lowered):
        key = op_key(value)
        operands = op_operands(value)
        kind = "copy" if key is None else shape_rule(key, value)
        if kind == "copy" or kind == "unary" and len(operands) >= 1:
            result = class_of(operands[0])
        elif kind == "binary" and len(operands) == 2:
            left, right = (class_of(o) for o in operands)
            if left == right:
                result = left
            elif left == SCALAR:
                result = right
            elif right == SCALAR:
                result = left
            else:
                result = None
        elif kind == "scalar":
            result = SCALAR
        else:
            result = None
        classes[target] = result if result is not None else f"unknown {next(fresh)}"
    return classes
