"""Analyses over the lowered body: activity, shape classes, aliasing.

Input: `Lowered` plus the differentiated parameters. Output: `Analysed`, with
  * `active`: names that depend on a differentiated input (varied) AND that the
    output depends on (useful); only these get adjoints (Tapenade's activity);
  * `shape_class`: names known to share one shape get the same class, so the
    reverse pass emits `unbroadcast` only where broadcasting may really happen;
  * `definitions`: how many times each name is bound (a loop body counts once).

Loops and branches are handled flow-insensitively: each analysis runs over every
statement of every block until nothing changes, which over-approximates (a name
active on one path is active everywhere) and so never drops a derivative.

In-place updates that another name would see are refused by `aliasing` (its own
module); `check_element_writes` refuses writes through index arrays.
"""
from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import gast
import numpy as np

from . import implicit, runtime
from .aliasing import (aliased, check_aliasing, literal_ranks,  # noqa: F401
                       may_share)  # (aliased: re-exported)
from .anno import get_anno, subscripts_in
from .errors import UnsupportedSyntaxError
from .lower import (TAPE_POP, Lowered, is_local, is_push_statement, is_store, statement_reads,
                    local_names_in, op_key,
                    op_operands, stored_name, walk_statements)

SCALAR = "scalar"


@dataclass
class Analysed:
    lowered: Lowered
    wrt: List[str]
    varied: FrozenSet[str]
    useful: FrozenSet[str]
    shape_class: Dict[str, Any] = field(default_factory=dict)
    output_scalar: bool = False  # known before running: no require_scalar check needed
    definitions: Dict[str, int] = field(default_factory=dict)
    ranks: Dict[str, Optional[int]] = field(default_factory=dict)  # ndim where known
    # `v += e` statements that are right only if v shares no array with another name
    # still read (checked at run time): id -> (v, the other name)
    guarded: Dict[int, Tuple[str, str]] = field(default_factory=dict)
    # arrays that get values depending on the inputs by element: they must hold floats
    float_arrays: FrozenSet[str] = frozenset()
    # names holding a list of arrays a rule returned (np.split's parts, slogdet's pair)
    sequences: FrozenSet[str] = frozenset()
    # names that may share an array with another name (views, `t = b`, chains of
    # them) -> every name of their group (s2sad.aliasing.may_share)
    sharing: Dict[str, FrozenSet[str]] = field(default_factory=dict)
    _active: Optional[FrozenSet[str]] = None
    lengths: Optional[Dict[str, Tuple[str, int]]] = None  # n = len(u): (u, 0)

    @property
    def active(self) -> FrozenSet[str]:
        if self._active is None:
            self._active = self.varied & self.useful
        return self._active

    def is_active(self, node: gast.AST) -> bool:
        while isinstance(node, gast.Subscript):
            node = node.value
        return is_local(node) and node.id in self.active

    def known_ranks(self, bound: Dict[str, gast.AST]) -> Dict[str, Optional[int]]:
        """ndim of each template argument the analysis knows (none unless compiled per
        rank), for a rule template's known_rank(...) and np.size(...)."""
        known = {}
        for param, atom in bound.items():
            rank = rank_of(atom, self.ranks, self.lowered.int_names)
            known[param] = rank if type(rank) is int else None
        return known

    def same_shape(self, a: gast.AST, b: gast.AST) -> bool:
        return self.class_of(a) == self.class_of(b) and self.class_of(a) is not None

    def class_of(self, node: gast.AST) -> Any:
        if isinstance(node, gast.Constant):
            return SCALAR
        if is_local(node):
            return self.shape_class.get(node.id)
        if isinstance(node, gast.Subscript) and \
                rank_of(node, self.ranks, self.lowered.int_names) == 0:
            return SCALAR
        if isinstance(node, gast.Subscript):
            return part_class(node, self.class_of(node.value), self.lowered.int_names,
                              self._axis_length)
        return None

    def _axis_length(self, n: str) -> Any:
        if self.lengths is None:
            self.lengths = axis_lengths(self.lowered)
        if n not in self.lengths:
            return None
        array, axis = self.lengths[n]
        return self.shape_class.get(array), axis


def analyse(lowered: Lowered, wrt: Iterable[str],
            is_differentiable: Callable[[Any], bool],
            shape_rule: Callable[[Any], str],
            param_ranks: Optional[Dict[str, Optional[int]]] = None,
            scalar_output: bool = True) -> Analysed:
    """`is_differentiable(key)` and `shape_rule(key)` come from the rule registry;
    `param_ranks` (ndim of each argument, from a call) specialises shapes;
    `scalar_output` (grad) lets shapes be inferred back from a scalar output."""
    wrt = list(wrt)
    lowered.int_names, lowered.int_tuple_names = _integers(lowered)
    lengths: Dict[str, Optional[int]] = {}
    ranks = _ranks(lowered, param_ranks or {}, shape_rule, lengths)

    def value_rank(value):
        return _rank_of_value(value, ranks, lowered.int_names, shape_rule, lengths)
    sharing = may_share(lowered, value_rank)
    # (a call's code is checked where the analysis cannot tell: forward mode has no
    # run-time check of `v += e`)
    guarded = check_aliasing(lowered, value_rank, sharing, checked_at_run_time=not param_ranks)
    edges = _dependences(lowered, is_differentiable)  # (both passes follow the same edges)
    varied = _varied(set(wrt), edges)
    useful = _useful(lowered, edges)
    check_element_writes(lowered, ranks, assumed=not param_ranks)
    scalars = frozenset(n for n, r in ranks.items() if r == 0)
    shapes = _shape_classes(lowered, shape_rule, scalars)
    output = lowered.output
    output_scalar = not isinstance(output, tuple) and \
        (isinstance(output, gast.Constant) or shapes.get(output.id) == SCALAR)
    if scalar_output:
        _infer_scalars_backwards(lowered, shapes, shape_rule)
    for stmt in list(guarded):
        if SCALAR in (shapes.get(guarded[stmt][0]), shapes.get(guarded[stmt][1])):
            del guarded[stmt]
    floats = {stored_name(s) for s in walk_statements(lowered.body)
              if is_store(s) and any(n in varied for n in local_names_in(s.value))}
    floats -= _known_float(lowered, varied, is_differentiable)
    sequences = {target for target, value in _assignments(lowered)
                 if op_key(value) is not None and shape_rule(op_key(value), value) == "pieces"}
    return Analysed(lowered, wrt, frozenset(varied), frozenset(useful), shapes,
                    output_scalar, definitions(lowered), ranks, guarded, frozenset(floats),
                    frozenset(sequences), sharing)


def _assignments(lowered: Lowered):
    """(name, value) for every binding and element write, in every block."""
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, (gast.Assign, gast.AugAssign)):
            yield stored_name(stmt), stmt.value
        elif is_push_statement(stmt):  # tape.append(v): the tape holds v
            yield stmt.value.func.value.id, stmt.value


def definitions(lowered: Lowered) -> Dict[str, int]:
    """How many statements bind each name (parameters count one)."""
    counts: Dict[str, int] = {p: 1 for p in lowered.params}
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, (gast.Assign, gast.For)) and not is_store(stmt):
            target = stored_name(stmt)
            counts[target] = counts.get(target, 0) + 1
    return counts


def _output_names(lowered: Lowered) -> Set[str]:
    outputs = lowered.output if isinstance(lowered.output, tuple) else (lowered.output,)
    return {n for out in outputs for n in local_names_in(out)}


def _dependences(lowered: Lowered, is_differentiable) -> List[Tuple[str, frozenset]]:
    """(target, the names its value reads) for each binding that carries derivatives."""
    edges = []
    for target, value in _assignments(lowered):
        key = op_key(value)
        if key is None or is_differentiable(key):
            edges.append((target, frozenset(local_names_in(value))))
    return edges


def _varied(seeds: Set[str], edges: List[Tuple[str, frozenset]]) -> Set[str]:
    varied = set(seeds)
    size = -1
    while size != len(varied):
        size = len(varied)
        for target, reads in edges:
            if target not in varied and not reads.isdisjoint(varied):
                varied.add(target)
    return varied


def _useful(lowered: Lowered, edges: List[Tuple[str, frozenset]]) -> Set[str]:
    useful = _output_names(lowered)
    edges = list(reversed(edges))
    size = -1
    while size != len(useful):
        size = len(useful)
        for target, reads in edges:
            if target in useful:
                useful |= reads
    return useful


def _infer_scalars_backwards(lowered: Lowered, classes: Dict[str, Any], shape_rule) -> None:
    """The adjoint runs only once the output is known to be a scalar, and an
    elementwise result with no dimensions has operands with no dimensions.

    A name is taken for a number when every value it holds is one:
      * a name bound once, when an elementwise binding of such a number reads it;
      * a name bound several times (p = p * x + c[i] in a loop), when every
        statement that reads it is such a binding: then each of its values
        reaches a number elementwise (`s = np.sum(y * y); y = s * 1.0` in a loop
        leaves the first y an array);
      * the output's last binding at the top level gives a number whatever else
        the output's name holds.
    A use inside a branch says nothing of a value bound outside it: `if a: dx =
    dx + u` makes u a number only when the branch runs."""
    if isinstance(lowered.output, tuple) or not is_local(lowered.output):
        return
    output = lowered.output.id
    counts = definitions(lowered)
    arms: Dict[int, FrozenSet] = {}
    _branch_arms(lowered.body, frozenset(), arms)
    statements = walk_statements(lowered.body)
    bindings = [s for s in statements if isinstance(s, gast.Assign) and not is_store(s)]
    where: Dict[str, List[FrozenSet]] = {p: [frozenset()] for p in lowered.params}
    for stmt in bindings:
        where.setdefault(stmt.targets[0].id, []).append(arms[id(stmt)])
    readers: Dict[str, List[gast.stmt]] = {}
    for stmt in statements:
        for read in set(statement_reads(stmt)):
            readers.setdefault(read, []).append(stmt)
    elementwise = {id(s) for s in bindings
                   if op_key(s.value) is None or
                   shape_rule(op_key(s.value), s.value) in ("unary", "binary")}
    last = [s for s in bindings if s.targets[0].id == output][-1:]
    final = id(last[0]) if last and any(last[0] is s for s in lowered.body) else None

    def always_with(operand: str, stmt: gast.stmt) -> bool:
        """Does the statement run whenever a binding of the operand has run?"""
        return all(arms[id(stmt)] <= bound for bound in where.get(operand, ()))

    def forcing(stmt: gast.stmt, scalars: Set[str]) -> bool:
        """Is every value this statement binds a number, and so its operands?"""
        return id(stmt) in elementwise and \
            (stmt.targets[0].id in scalars or id(stmt) == final)

    allowed = set(where)
    while True:  # reach back from the output; drop a name one of whose values escapes
        scalars: Set[str] = {output} & allowed
        size = -1
        while size != len(scalars):
            size = len(scalars)
            for stmt in reversed(bindings):
                if forcing(stmt, scalars):
                    scalars.update(n.id for n in op_operands(stmt.value) if is_local(n)
                                   and n.id in allowed and always_with(n.id, stmt))
        escaping = {n for n in scalars if counts.get(n, 1) > 1 and not all(
            isinstance(r, gast.Assign) and forcing(r, scalars) for r in readers.get(n, ()))}
        if not escaping:
            break
        allowed -= escaping
    for scalar in scalars:
        classes[scalar] = SCALAR


def _branch_arms(body, enclosing: FrozenSet, arms: Dict[int, FrozenSet]) -> None:
    """For each statement, the arms of the branches around it: (id of the if, 0 or 1)."""
    for stmt in body:
        arms[id(stmt)] = enclosing
        if isinstance(stmt, gast.If):
            _branch_arms(stmt.body, enclosing | {(id(stmt), 0)}, arms)
            _branch_arms(stmt.orelse, enclosing | {(id(stmt), 1)}, arms)
        elif isinstance(stmt, (gast.For, gast.While)):
            _branch_arms(stmt.body, enclosing, arms)
            _branch_arms(stmt.orelse, enclosing, arms)


def _shape_classes(lowered: Lowered, shape_rule, scalars=frozenset()) -> Dict[str, Any]:
    """Equal classes mean equal shapes; None means unknown.

    A name bound several times (in a loop, in branches) keeps a class only if
    every binding agrees; the bindings are visited until no class changes. Where
    they disagree, the name's class is its own: a value computed from it has the
    shape of one of its bindings, not of all (`a = np.tanh(a1)` where a1 is a
    number, then an array), so it gets a class of its own too."""
    fresh = itertools.count()
    classes: Dict[str, Any] = {}
    for param in lowered.params:
        classes[param] = SCALAR if param in lowered.scalar_params | scalars \
            else f"param {param}"

    def class_of(node):
        if isinstance(node, gast.Constant):
            return SCALAR if isinstance(node.value, (int, float)) else None
        if is_local(node) and node.id not in mixed:
            return classes.get(node.id)
        if isinstance(node, gast.Subscript):
            return part_class(node, class_of(node.value), lowered.int_names, axis_length)
        return None  # (what a name of mixed bindings holds here is no other name's shape)

    lengths = axis_lengths(lowered)

    def axis_length(n):
        if n not in lengths:
            return None
        array, axis = lengths[n]
        return class_of(gast.Name(id=array, ctx=gast.Load(), annotation=None,
                                  type_comment=None)), axis

    bindings = [s for s in walk_statements(lowered.body)
                if isinstance(s, gast.Assign) and not is_store(s)]
    unknown: Dict[Any, str] = {}
    mixed: Set[str] = set()  # names whose bindings may differ in shape
    once = {n for n, k in definitions(lowered).items() if k == 1} - set(lowered.params)
    for _ in range(len(bindings) + 2):
        before = dict(classes)
        proposals: Dict[str, set] = {p: {classes[p]} for p in lowered.params}
        for stmt in bindings:
            target = stmt.targets[0].id
            result = _result_class(stmt.value, shape_rule, class_of)
            if result is None:
                result = unknown.setdefault(id(stmt), f"unknown {next(fresh)}")
            proposals.setdefault(target, set()).add(result)
            if target in once:  # seen by the rest of this pass already
                classes[target] = SCALAR if target in scalars else result
        mixed = {t for t, options in proposals.items() if len(options) > 1}
        joined = {target: SCALAR if target in scalars else options.pop()
                  if len(options) == 1 else unknown.setdefault(target, f"unknown {next(fresh)}")
                  for target, options in proposals.items()}
        classes = joined
        if joined == before:
            break
    return classes


def part_class(part: gast.Subscript, whole: Any, int_names, axis_length=None) -> Any:
    """The shape class of x[index] given x's: equal for equal classes and indexes
    of equal shape, so u[1:-1], un[2:] and un[:-2] of equally shaped u and un share
    one (each has n - 2 elements: a slice [lo:-hi] of constants lo, hi >= 0 keeps
    max(0, n - lo - hi) of n, whatever n is), and x[i] and x[j] one for any ints.
    `axis_length(name)` gives (class, axis) for a name holding the length of an axis
    of arrays of that class (n = len(u)), so u[1:n - 1] is u[1:-1]."""
    if whole is None or whole == SCALAR:
        return None
    parts = part.slice.elts if isinstance(part.slice, gast.Tuple) else [part.slice]
    keys = []
    axis = 0
    for index in parts:
        if isinstance(index, gast.Slice):
            key = _slice_key(index, lambda n: axis_length is not None and
                             axis_length(n) == (whole, axis))
            axis += 1
        elif is_new_axis(index):
            key = "new axis"
        elif _is_int(index, {}, int_names):
            key = "one"
            axis += 1
        else:
            return None  # (an index array, a mask: shapes the values decide)
        if key is None:
            return None
        keys.append(key)
    while keys and keys[-1] == ("drop", 0):
        keys.pop()  # x[1:-1, :] is x[1:-1]
    return ("part", whole, tuple(keys)) if keys else whole


def _slice_key(index: gast.Slice, is_length) -> Any:
    """("drop", k) for [lo:-hi] with literal lo, hi >= 0 (k = lo + hi), the literal
    bounds otherwise, None if a bound or step is not a literal int (or n - k, n the
    axis's length: `is_length(n)`)."""
    lower, upper, step = (_bound_value(b, is_length) for b in
                          (index.lower, index.upper, index.step))
    if any(b is False for b in (lower, upper, step)) or step not in (None, 1):
        return None  # (`is False`: a bound 0 is a literal)
    lower = lower or 0
    if lower >= 0 and (upper is None or upper < 0):
        return ("drop", lower - (upper or 0))
    return ("bounds", lower, upper)


def _bound_value(node: Optional[gast.AST], is_length) -> Any:
    """A slice bound as a literal: n - k is -k (n - 0, n: None) where n is the axis's
    length; False where it is none of these. (Only k <= 2: where n < k, n - k counts
    from the end, 2n - k, which is -k's max(0, n - k) only while k <= 2.)"""
    if isinstance(node, gast.Name) and is_length(node.id):
        return None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Sub) and \
            isinstance(node.left, gast.Name) and is_length(node.left.id):
        k = _literal_int(node.right)
        return False if k is False or k is None or not 0 <= k <= 2 else -k if k else None
    return _literal_int(node)


def axis_lengths(lowered: Lowered) -> Dict[str, Tuple[str, int]]:
    """Names bound once to the length of an axis of a name bound at most once:
    n = len(u) -> (u, 0); n = d[1] with d = np.shape(u) -> (u, 1)."""
    counts = definitions(lowered)  # (parameters count one)
    fixed = {n for n in counts if counts[n] == 1}
    shapes, found = {}, {}
    for stmt in walk_statements(lowered.body):
        if not isinstance(stmt, gast.Assign) or is_store(stmt) or \
                stmt.targets[0].id not in fixed:
            continue
        target, value = stmt.targets[0].id, stmt.value
        if isinstance(value, gast.Call) and len(value.args) == 1 and \
                isinstance(value.args[0], gast.Name) and value.args[0].id in fixed:
            callee = get_anno(value.func, "resolved")
            if callee is np.shape:
                shapes[target] = value.args[0].id
            elif callee is len:
                found[target] = (value.args[0].id, 0)
        elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and \
                value.value.id in shapes:
            axis = _literal_int(value.slice)
            if axis is not False and axis is not None and axis >= 0:
                found[target] = (shapes[value.value.id], axis)
    return found


def _result_class(value: gast.AST, shape_rule, class_of) -> Any:
    key = op_key(value)
    operands = op_operands(value)
    if key is operator.getitem:  # v = x[1:-1]
        return class_of(gast.Subscript(value=value.value, slice=value.slice,
                                       ctx=gast.Load())) \
            if isinstance(value, gast.Subscript) else None
    if key in _LIKE and isinstance(value, gast.Call) and value.args and \
            all(k.arg in _SHAPE_KEEPING for k in value.keywords):
        return class_of(value.args[0])  # np.copy(x), np.zeros_like(x), x.astype(float)
    if key in _SHAPED_LIKE and isinstance(value, gast.Call) and \
            len(value.args) > _SHAPED_LIKE[key]:
        return class_of(value.args[_SHAPED_LIKE[key]])
    kind = "copy" if key is None else shape_rule(key, value)
    if kind == "copy" or kind == "unary" and len(operands) >= 1:
        return class_of(operands[0])
    if kind == "binary" and len(operands) == 2:
        left, right = (class_of(o) for o in operands)
        if left == right:
            return left
        if left == SCALAR:
            return right
        if right == SCALAR:
            return left
        return None
    if kind == "scalar":
        return SCALAR
    return None


def _int_names(lowered: Lowered) -> frozenset:
    """Names that hold Python ints on every binding: counters, len(x), n - 1,
    x.shape[0], n // 2, int(t), ...: every value whose integrality the primal fixes."""
    ints, _ = _integers(lowered)
    return ints


def _int_tuple_names(lowered: Lowered) -> frozenset:
    """Names that hold tuples of Python ints on every binding: np.shape(x) (x.shape),
    (n, m), s[1:], s + (k,)."""
    _, tuples = _integers(lowered)
    return tuples


def _integers(lowered: Lowered) -> Tuple[frozenset, frozenset]:
    """(int names, int-tuple names): one optimistic fixed point over both, since
    `n = s[0]` is an int because `s = np.shape(a)` is a tuple of ints and
    `s = (n, m)` is one because n and m are ints."""
    bindings = [s for s in walk_statements(lowered.body)
                if isinstance(s, gast.Assign) and not is_store(s)]
    assigned = {s.targets[0].id for s in bindings}
    ints = (set(lowered.int_names) | assigned) - set(lowered.params)
    tuples = assigned - set(lowered.params) - set(lowered.int_names)
    changed = True
    while changed:
        changed = False
        for stmt in bindings:
            target = stmt.targets[0].id
            if target in ints and not _int_valued(stmt.value, ints, tuples):
                ints.discard(target)
                changed = True
            if target in tuples and not _int_tuple_valued(stmt.value, ints, tuples):
                tuples.discard(target)
                changed = True
    return frozenset(ints), frozenset(tuples - ints)


# calls whose result is a Python int whatever their argument (round: of one number)
_INT_RESULTS = (len, int, np.size, np.ndim, math.floor, math.ceil, math.trunc,
                operator.index)  # (not round: round of a 0-d array is an array)


def _int_valued(value: gast.AST, ints, tuples=frozenset()) -> bool:
    if isinstance(value, gast.Constant):
        return type(value.value) is int
    if isinstance(value, gast.Name):
        return value.id in ints
    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub, gast.Mult,
                                                               gast.FloorDiv, gast.Mod)):
        return _int_valued(value.left, ints, tuples) and _int_valued(value.right, ints, tuples)
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
        return _int_valued(value.operand, ints, tuples)
    if isinstance(value, gast.Subscript):  # s[0] of a shape
        return isinstance(value.value, gast.Name) and value.value.id in tuples and \
            not isinstance(value.slice, gast.Slice) and _int_valued(value.slice, ints, tuples)
    if isinstance(value, gast.Call):
        callee = get_anno(value.func, "resolved")
        if callee in _INT_RESULTS:
            return True
        if callee is TAPE_POP:
            return True  # i = tape.pop() gives i back a value its other bindings gave
        if callee in (min, max, abs):
            return bool(value.args) and not value.keywords and \
                all(_int_valued(a, ints, tuples) for a in value.args)
        if callee is operator.getitem and len(value.args) == 2:
            return _int_valued(gast.Subscript(value=value.args[0], slice=value.args[1],
                                              ctx=gast.Load()), ints, tuples)
    return False


def _int_tuple_valued(value: gast.AST, ints, tuples) -> bool:
    if isinstance(value, gast.Name):
        return value.id in tuples
    if isinstance(value, gast.Tuple):
        return all(_int_valued(e, ints, tuples) for e in value.elts)
    if isinstance(value, gast.Subscript):  # s[1:]
        return isinstance(value.value, gast.Name) and value.value.id in tuples and \
            isinstance(value.slice, gast.Slice)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):  # s + (k,)
        return _int_tuple_valued(value.left, ints, tuples) and \
            _int_tuple_valued(value.right, ints, tuples)
    if isinstance(value, gast.Call):
        return get_anno(value.func, "resolved") is np.shape
    return False


# -- ranks -----------------------------------------------------------------------

_CREATORS = {np.zeros, np.ones, np.empty, np.full}
# generated code's helpers return an array shaped like one of their operands (the
# one at this position): read back for a second derivative, they keep shapes known
_SHAPED_LIKE = {runtime.unsum: 1, runtime.unbroadcast: 1, runtime.broadcast_like: 1,
                runtime.zeros_like: 0, runtime.unindex: 1, runtime.matmul_adjoint_a: 1,
                runtime.matmul_adjoint_b: 2, runtime.dot_adjoint_a: 1,
                runtime.dot_adjoint_b: 2,
                implicit.fixed_point: 1, implicit.root: 1}  # (the solution: x0's shape)
# reorderings: the result has the operand's number of axes (x.T, np.flip(x), ...)
_SAME_RANK = {np.transpose, np.swapaxes, np.moveaxis, np.rollaxis, np.flip, np.fliplr,
              np.flipud, np.rot90, np.roll, np.sort, np.cumsum, np.cumprod, np.tril,
              np.triu, np.fft.fftshift, np.fft.ifftshift, np.partition}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.copy, np.asarray,
         np.array}
_SHAPE_KEEPING = {"dtype", "order", "copy", "subok"}  # keywords of _LIKE that keep the shape
_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin, np.var, np.std}
_SQUARE_SAME_RANK = {np.linalg.cholesky, np.linalg.inv}
_SOLVES = {np.linalg.solve}
try:  # (SciPy is optional)
    import scipy.linalg as _scipy_linalg
    _SQUARE_SAME_RANK |= {_scipy_linalg.cholesky, _scipy_linalg.inv, _scipy_linalg.expm}
    _SOLVES |= {_scipy_linalg.solve, _scipy_linalg.solve_triangular, _scipy_linalg.cho_solve}
except ImportError:  # pragma: no cover
    pass


def _reduced_rank(call: gast.Call, rank: int) -> Optional[int]:
    """np.sum(x, axis=1, keepdims=True) keeps x's rank; axis=1 removes one axis, a
    tuple of k axes k, no axis all (only literal axes and keepdims are read)."""
    options = {k.arg: k.value for k in call.keywords}
    if len(call.args) > 1:
        options.setdefault("axis", call.args[1])
    keepdims = options.get("keepdims")
    if keepdims is not None:
        if not (isinstance(keepdims, gast.Constant) and isinstance(keepdims.value, bool)):
            return None
        if keepdims.value:
            return rank
    axis = options.get("axis")
    if axis is None or isinstance(axis, gast.Constant) and axis.value is None:
        return 0
    if isinstance(axis, gast.Tuple) and all(type(_literal_int(a)) is int
                                            for a in axis.elts):
        return rank - len(axis.elts) if len(axis.elts) <= rank else None
    # (type(...) is int: axis=0 is a literal too, though 0 == False)
    return rank - 1 if type(_literal_int(axis)) is int and rank >= 1 else None


def _ranks(lowered: Lowered, param_ranks: Dict[str, Optional[int]], shape_rule,
           lengths: Optional[Dict[str, Optional[int]]] = None) -> Dict[str, Optional[int]]:
    """ndim of each name where it follows from the arguments' (None: unknown).

    Only a call specialises (loops with scalar arithmetic then skip `unbroadcast`);
    without argument ranks only constants, loop counters and shapes are known.
    `lengths` is filled with the length of each tuple of ints (a shape) where known:
    np.zeros(a.shape) has a's rank."""
    lengths = {} if lengths is None else lengths
    ranks: Dict[str, Optional[int]] = {p: param_ranks.get(p) for p in lowered.params}
    ranks.update({p: 0 for p in lowered.scalar_params})
    params = dict(ranks)
    bindings = [s for s in walk_statements(lowered.body)
                if isinstance(s, (gast.Assign, gast.For)) and not is_store(s)]
    # optimistic: a name not yet seen has every rank (_ANY); each pass can only lose
    # precision, so the passes stop
    once = {n for n, k in definitions(lowered).items() if k == 1} - set(lowered.params)
    for _ in range(2 * len(bindings) + 2):
        before = dict(ranks), dict(lengths)
        proposals: Dict[str, set] = {p: {r} for p, r in params.items()}
        length_proposals: Dict[str, set] = {}
        for stmt in bindings:
            if isinstance(stmt, gast.For):
                proposals.setdefault(stmt.target.id, set()).add(0)
                continue
            target = stmt.targets[0].id
            placeholder = isinstance(stmt.value, gast.Constant) and stmt.value.value is None
            # (v = None before a loop that stores v: a placeholder, never an operand)
            rank = _ANY if placeholder else \
                _rank_of_value(stmt.value, ranks, lowered.int_names, shape_rule, lengths)
            proposals.setdefault(target, set()).add(rank)
            if target in once:
                ranks[target] = rank
            if target in lowered.int_tuple_names:
                length_proposals.setdefault(target, set()).add(
                    _tuple_length(stmt.value, ranks, lengths))
        ranks = _joined(proposals)
        lengths.clear()
        lengths.update(_joined(length_proposals))
        if (ranks, lengths) == before:
            break
    for name, length in list(lengths.items()):
        lengths[name] = None if length is _ANY else length
    ranks.update({name: 0 for name in lowered.int_names if name in ranks})
    return {n: (None if r is _ANY else r) for n, r in ranks.items()}


_ANY = "any"   # a rank not constrained yet (the optimistic start of _ranks)


def _joined(proposals: Dict[str, set]) -> Dict[str, Any]:
    """One value per name: the one proposed, _ANY if none yet, None if they differ."""
    joined = {}
    for target, options in proposals.items():
        options.discard(_ANY)
        joined[target] = options.pop() if len(options) == 1 else \
            _ANY if not options else None
    return joined


def _tuple_length(value: gast.AST, ranks, lengths) -> Any:
    """How many ints a shape tuple holds: np.shape(x) as many as x has axes."""
    if isinstance(value, gast.Name):
        return lengths.get(value.id, _ANY)
    if isinstance(value, gast.Tuple):
        return len(value.elts)
    if isinstance(value, gast.Call) and len(value.args) == 1 and \
            get_anno(value.func, "resolved") is np.shape:
        operand = value.args[0]
        return ranks.get(operand.id, _ANY) if is_local(operand) else None
    if isinstance(value, gast.BinOp):
        parts = [_tuple_length(v, ranks, lengths) for v in (value.left, value.right)]
        return _ANY if _ANY in parts else None if None in parts else sum(parts)
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
        whole = _tuple_length(value.value, ranks, lengths)
        if whole is _ANY or whole is None:
            return whole
        bounds = [_literal_int(b) for b in (value.slice.lower, value.slice.upper,
                                            value.slice.step)]
        if any(b is False for b in bounds):
            return None  # (`is False`: a bound 0 is a literal)
        return len(range(whole)[slice(*bounds)])
    return None


def _literal_int(node: Optional[gast.AST]) -> Any:
    """A slice bound's value: None if absent, False if not a literal int."""
    if node is None:
        return None
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _literal_int(node.operand)
        return False if inner is None or inner is False else -inner
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    return False


def assumed_ranks(lowered: Lowered) -> Dict[str, Optional[int]]:
    """Ranks for showing a loop function's gradient before any call: an argument read
    only as a[i] (or A[i, j]) with integer indices is taken to have that many axes."""
    arities: Dict[str, set] = {p: set() for p in lowered.params}
    ints = _int_names(lowered)
    for node in subscripts_in(lowered.body):  # each node once
        if is_local(node.value) and \
                node.value.id in arities:
            parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            whole = all(_is_int(p, {}, ints) for p in parts)
            arities[node.value.id].add(len(parts) if whole else None)
    return {p: found.pop() if len(found) == 1 else None for p, found in arities.items()}


def rank_of(node: gast.AST, ranks: Dict[str, Optional[int]], int_names) -> Optional[int]:
    """ndim of an atom (a name, a constant, an element a[i])."""
    if isinstance(node, gast.Constant):
        return 0 if isinstance(node.value, (int, float)) else None
    if isinstance(node, gast.Attribute) and \
            type(get_anno(node, "resolved")) in (int, float):
        return 0  # np.pi, math.e
    if is_local(node):
        return 0 if node.id in int_names else ranks.get(node.id, _ANY)
    if isinstance(node, gast.Subscript):
        base = rank_of(node.value, ranks, int_names)
        if base is None or base is _ANY:
            return base
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        consumed = added = 0
        lists = [p for p in parts if isinstance(p, gast.List)]
        for part in parts:
            if isinstance(part, gast.Slice):
                consumed, added = consumed + 1, added + 1
            elif len(lists) == 1 and part is lists[0] and part.elts and \
                    all(_is_int(e, ranks, int_names) for e in part.elts):
                consumed, added = consumed + 1, added + 1  # x[[0, 0, 2]]: one axis
            elif is_new_axis(part):
                added += 1
            elif _is_int(part, ranks, int_names):
                consumed += 1
            else:
                return None
        return base - consumed + added if consumed <= base else None
    if isinstance(node, (gast.List, gast.Tuple)) and node.elts:  # np.array([a, 2.0])
        inner = {rank_of(e, ranks, int_names) for e in node.elts}
        if _ANY in inner:
            return _ANY
        return inner.pop() + 1 if len(inner) == 1 and None not in inner else None
    return None


def is_new_axis(index: gast.AST) -> bool:
    """None or np.newaxis in an index."""
    if isinstance(index, gast.Attribute) and index.attr == "newaxis":
        return get_anno(index.value, "resolved") is np
    return isinstance(index, gast.Constant) and index.value is None


def _is_int(node: gast.AST, ranks, int_names) -> bool:
    if isinstance(node, gast.Constant):
        return type(node.value) is int
    if isinstance(node, gast.Name):
        return node.id in int_names
    if isinstance(node, gast.BinOp):
        return _is_int(node.left, ranks, int_names) and _is_int(node.right, ranks, int_names)
    if isinstance(node, gast.UnaryOp):
        return _is_int(node.operand, ranks, int_names)
    return False


def _rank_of_value(value: gast.AST, ranks, int_names, shape_rule,
                   lengths: Optional[Dict[str, Any]] = None) -> Optional[int]:
    key = op_key(value)
    if key is None:
        return rank_of(value, ranks, int_names)
    if key is operator.getitem:
        atom = gast.Subscript(value=value.value, slice=value.slice, ctx=gast.Load())
        return rank_of(atom, ranks, int_names)
    if key is TAPE_POP:
        return _ANY  # v = tape.pop() gives v back a value its other bindings gave
    if key is np.arange:
        return 1  # a vector, always
    if key is np.linspace and isinstance(value, gast.Call) and len(value.args) >= 2:
        ends = [rank_of(a, ranks, int_names) for a in value.args[:2]]
        return _ANY if _ANY in ends else 1 if ends == [0, 0] else None
    operands = [rank_of(o, ranks, int_names) for o in op_operands(value)]
    if _ANY in operands:
        return _ANY
    if key is operator.matmul or key is np.matmul or key is np.dot:
        if len(operands) >= 2 and None not in operands[:2]:
            a, b = operands[:2]
            return max(a + b - 2, 0) if a and b else a + b
        return None
    if key in _CREATORS:
        shape = value.args[0] if isinstance(value, gast.Call) and value.args else None
        if isinstance(shape, (gast.Tuple, gast.List)):
            return len(shape.elts)
        if isinstance(shape, gast.Name) and lengths and shape.id in lengths:
            return lengths[shape.id]  # np.zeros(a.shape)
        return 1 if shape is not None and rank_of(shape, ranks, int_names) == 0 else None
    if key in _LIKE and isinstance(value, gast.Call) and len(value.args) == 1 \
            and not value.keywords:
        return operands[0]
    if key in _SAME_RANK and operands:
        return operands[0]
    if key in _SHAPED_LIKE and isinstance(value, gast.Call) and \
            len(value.args) > _SHAPED_LIKE[key]:
        return operands[_SHAPED_LIKE[key]]
    if key in (np.eye, np.identity):
        return 2
    if key in _SQUARE_SAME_RANK and operands:
        return operands[0]  # cholesky(K), inv(K): K's rank
    if key in _SOLVES and len(operands) >= 2 and operands[0] == 2:
        return operands[1]  # solve(A, b) of one matrix A: b's shape
    if key is np.diag and operands and operands[0] in (1, 2):
        return 3 - operands[0]
    if key is np.diagonal and operands and isinstance(operands[0], int) and \
            operands[0] >= 2 and isinstance(value, gast.Call) and len(value.args) == 1 \
            and not value.keywords:
        return operands[0] - 1
    if key in _REDUCTIONS and isinstance(value, gast.Call) and operands and \
            isinstance(operands[0], int):
        return _reduced_rank(value, operands[0])
    if key is np.ravel:
        return 1
    if key is np.outer:
        return 2
    if key is np.reshape and isinstance(value, gast.Call) and len(value.args) > 1:
        shape = value.args[1]  # np.reshape(x, (2, 3)), np.reshape(x, -1)
        if isinstance(shape, gast.Tuple):
            return len(shape.elts)
        if isinstance(shape, gast.Name) and lengths and shape.id in lengths:
            return lengths[shape.id]  # np.reshape(x, a.shape)
        return 1 if rank_of(shape, ranks, int_names) == 0 else None
    if key in (len, int, float):
        return 0
    kind = shape_rule(key, value)
    if kind == "scalar":
        return 0
    if kind == "unary":
        return operands[0] if operands else None
    if kind == "binary" and len(operands) >= 2 and None not in operands[:2]:
        return max(operands[:2])
    if isinstance(value, (gast.Compare,)) and None not in operands:
        return max(operands)
    if key in (np.where, np.clip) and isinstance(value, gast.Call) and \
            len(value.args) == 3 and not value.keywords and None not in operands[:3]:
        return max(operands[:3])  # elementwise over its three operands, broadcast
    return None


# -- element writes --------------------------------------------------------------

# array makers whose dtype is float unless given: how many positional arguments
# come before the dtype (np.zeros(4, int) gives it by position)
_FLOAT_MAKERS = {np.zeros: 1, np.ones: 1, np.empty: 1, np.identity: 1, np.eye: 3,
                 np.linspace: 5}
# calls whose dtype is their first argument's unless given (x.astype(int) lowers to
# np.array(x, int)), and the positional arguments before the dtype
_DTYPE_OF_OPERAND = {np.array: 1, np.asarray: 1, np.copy: 1, np.zeros_like: 1,
                     np.ones_like: 1, np.empty_like: 1, np.full_like: 2}


def _known_float(lowered: Lowered, varied, is_differentiable) -> set:
    """Names every binding of which is surely a float array: np.zeros(n) and kin with
    no dtype given, or arithmetic on the differentiated inputs (floats). A dtype
    given (np.zeros_like(x, dtype=int), x.astype(int)) or a comparison is not."""
    verdicts: Dict[str, bool] = {}
    for stmt in walk_statements(lowered.body):
        if not isinstance(stmt, gast.Assign) or is_store(stmt):
            continue
        value = stmt.value
        target = stmt.targets[0].id
        verdicts[target] = verdicts.get(target, True) and _surely_float(
            value, varied, is_differentiable)
    return {n for n, sure in verdicts.items() if sure}


def _surely_float(value: gast.AST, varied, is_differentiable) -> bool:
    key = op_key(value)
    if isinstance(value, gast.Call):
        if any(k.arg == "dtype" for k in value.keywords):
            return False
        if key in _FLOAT_MAKERS:
            return len(value.args) <= _FLOAT_MAKERS[key]
        if key in _DTYPE_OF_OPERAND and len(value.args) > _DTYPE_OF_OPERAND[key]:
            return False
    if not any(n in varied for n in local_names_in(value)):
        return False
    if isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return not isinstance(value.op, (gast.BitAnd, gast.BitOr, gast.BitXor, gast.Invert,
                                         gast.Not))
    return key is None or key in _DTYPE_OF_OPERAND or \
        key is not operator.getitem and is_differentiable(key)


def check_element_writes(lowered: Lowered, ranks: Dict[str, Optional[int]],
                         assumed: bool) -> None:
    """c[i] = e needs an index that picks each element once: integers and slices.
    (An index array may repeat an element; NumPy keeps only the last write.)"""
    ranks = {**ranks, **{n: r for n, r in literal_ranks(lowered).items()
                         if ranks.get(n) is None}}  # (idx = np.array([0, 2, 2]))
    for stmt in walk_statements(lowered.body):
        if not is_store(stmt) or get_anno(stmt, "scatter"):
            continue  # (np.add.at read back from generated code adds at repeats)
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        parts = target.slice.elts if isinstance(target.slice, gast.Tuple) else [target.slice]
        numbers = lowered.int_names | {n for n, r in ranks.items() if r == 0}
        for part in parts:
            if isinstance(part, gast.Slice) or _is_int(part, ranks, numbers) or \
                    isinstance(part, gast.Constant) and part.value in (None, Ellipsis):
                continue
            if isinstance(part, gast.Name) and (ranks.get(part.id) == 0 or
                                                 assumed and ranks.get(part.id) is None):
                continue
            if isinstance(part, gast.Subscript) and rank_of(part, ranks, numbers) == 0:
                continue  # c[idx[i]] += a[i]: one element of an index array, one write
            raise UnsupportedSyntaxError(
                "writing through an index array or a mask is not supported: an index "
                "may repeat, and NumPy keeps only the last write", get_anno(stmt, "location"),
                hint="write one element at a time in a loop, or build the array with "
                     "np.where(mask, new, c)")
