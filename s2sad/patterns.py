"""Rules at the level users think: forms written over several lines, differentiated as one.

A stage between analyse and reverse (reverse mode only). People write a Gram product
as `R.T @ R`, a softmax as `e = np.exp(x - np.max(x, axis=1, keepdims=True)); p = e /
np.sum(e, axis=1, keepdims=True)`, a sigmoid as `1 / (1 + np.exp(-z))`. Lowered, each
is a chain of lines, and the chain's adjoints are correct but pay for the spelling: the
two products of a general `@` where one suffices, the quotient rule and the max's
tie-aware adjoint although the shift cancels, four lines for `s * (1 - s)`.

This stage reads the lowered primal, where such a form is still visible, and marks the
line that completes it with the one call the form computes (`softmax(x, axis=1)`, one
of the functions below). The reverse stage takes that line's adjoint from the call's
rule (rules/linalg.py, rules/elementwise.py), straight to the form's input. The primal
is untouched: the user's lines compute the value, as written and as printed. The
intermediate lines' adjoints then get nothing from this use and are not emitted; an
intermediate that is used elsewhere too gets that use's contribution and passes it
on as before, so the gradient is exact either way (the chain rule is a sum over
paths, and the marked call's adjoint is the sum over the paths inside the form).

The forms: Gram products (R.T @ R, R @ R.T in their np.dot/matmul/transpose spellings)
and sums of squares (a @ a of a vector, np.vdot(R, R), R * R, np.linalg.norm(R) ** 2);
softmax, log-softmax and logsumexp after any shift constant along the summed axes (the
shift's adjoint is exactly zero: a max's tie-aware adjoint is not run); sigmoid in
five spellings, and the log of a sigmoid and of one minus it (a cross-entropy's terms); x * np.ones_like(...); a NumPy Cholesky factor's solves and
log-determinant (rules/scipy_linalg.py solves with the triangle where SciPy is
installed); solve, slogdet and det of a matrix whose inverse the program computes.

Why the primal and not the generated adjoint (the optimiser): matching the primal is
what makes this robust. The adjoint of a form is a dozen lines whose shape depends on
every rule involved and on what the optimiser did to them; the primal's form is three
or four lines of one operation each, and the reverse stage then emits the form's
adjoint directly, with no dead chain left to remove.

A form is taken only where the reading is certain: every intermediate is bound by one
statement, in the same block as the marked line and before it, and the form's input
is not rebound in between (so it is the value the chain read); where a rule needs a
rank, the analysis knows it (or the rule checks it as the gradient runs).
`optimize=False` (`--no-optimize`) leaves the chain's own adjoints.
"""
from __future__ import annotations

import operator
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from .anno import clone, get_anno, set_anno
from .lower import call, constant, is_local, is_store, name, op_key, stored_name

# -- the forms, as functions -----------------------------------------------------------------
# The first five are what they say for any arguments: calling one directly is
# differentiated by its rule like any NumPy function. The others' rules rest on what the
# matched lines guarantee (e = exp(x - m) and c = np.sum(e); L = cholesky(a); ones that
# are ones; a_inv = inv(a)), which a direct call cannot: they only mark forms, and
# refuse to be called (a program calling one gets that error, never a wrong gradient).


def gram(a: Any) -> Any:
    """a.T @ a of a matrix."""
    return a.T @ a


def gram_outer(a: Any) -> Any:
    """a @ a.T of a matrix."""
    return a @ a.T


def sum_of_squares(a: Any) -> Any:
    """a @ a, a.T @ a, np.dot(a, a) of a vector; np.vdot(a, a), np.linalg.norm(a) ** 2."""
    return np.sum(a * a)


def softmax(x: Any, axis: Any = None) -> Any:
    """exp(x - m) / sum(exp(x - m), axis, keepdims) for any m constant along axis."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def sigmoid(z: Any) -> Any:
    """1 / (1 + exp(-z)), exp(z) / (1 + exp(z)), 0.5 * (tanh(z / 2) + 1)."""
    return 1 / (1 + np.exp(-z))


class FormOnly(TypeError):
    """A function of this module that only marks a form was called."""

    def __init__(self, form: str) -> None:
        super().__init__(f"s2sad.patterns.{form} marks a form the reverse stage recognised; "
                         f"its rule holds only for the lines matched, so it is not called")


def log_softmax(x: Any, e: Any, c: Any, axis: Any = None) -> Any:
    """(x - m) - log(c) with e = exp(x - m), c = sum(e, axis, keepdims=True): the
    adjoint reads the softmax e / c from the primal's own e and c."""
    raise FormOnly("log_softmax")


def logsumexp(x: Any, e: Any, c: Any, axis: Any = None) -> Any:
    """m + log(c) with e = exp(x - m), c = sum(e, axis[, keepdims=True]) (or log(c) with
    e = exp(x)): log(sum(exp(x))); the adjoint reads e / c."""
    raise FormOnly("logsumexp")


def log_sigmoid(z: Any, s: Any) -> Any:
    """np.log(s) with s = sigmoid(z) (in any of its spellings): its slope 1 - s, with no
    division by s."""
    raise FormOnly("log_sigmoid")


def log_one_minus_sigmoid(z: Any, s: Any) -> Any:
    """np.log(1 - s) with s = sigmoid(z): its slope -s, with no division by 1 - s."""
    raise FormOnly("log_one_minus_sigmoid")


def ones_times(x: Any, ones: Any) -> Any:
    """x * np.ones_like(...) or x * np.ones(...): x spread over the ones' shape, whose
    adjoint is dy itself (summed to x's shape), not dy * ones (a number made an array)."""
    raise FormOnly("ones_times")


def cholesky_solve(a: Any, b: Any, l: Any) -> Any:
    """np.linalg.solve(L.T, np.linalg.solve(L, b)) with L = np.linalg.cholesky(a): a^-1 b
    (a read by its lower triangle, as cholesky reads it)."""
    raise FormOnly("cholesky_solve")


def cholesky_logdet(a: Any, l: Any) -> Any:
    """np.sum(np.log(np.diag(L))) with L = np.linalg.cholesky(a): log det(a) / 2."""
    raise FormOnly("cholesky_logdet")


def solve_by_inverse(a: Any, b: Any, a_inv: Any) -> Any:
    """np.linalg.solve(A, b) where the program has also computed A_inv = np.linalg.inv(A)."""
    raise FormOnly("solve_by_inverse")


def slogdet_by_inverse(a: Any, a_inv: Any) -> Any:
    """np.linalg.slogdet(A) where the program has also computed A_inv = np.linalg.inv(A)."""
    raise FormOnly("slogdet_by_inverse")


def det_by_inverse(a: Any, a_inv: Any) -> Any:
    """np.linalg.det(A) where the program has also computed A_inv = np.linalg.inv(A)."""
    raise FormOnly("det_by_inverse")


FORMS = {f.__name__: f for f in (
    gram, gram_outer, sum_of_squares, softmax, sigmoid, log_softmax, logsumexp, log_sigmoid,
    log_one_minus_sigmoid, ones_times, cholesky_solve, cholesky_logdet, solve_by_inverse,
    slogdet_by_inverse, det_by_inverse)}

# reductions whose keepdims result is constant along the reduced axes (a valid shift)
_REDUCTIONS = (np.max, np.amax, np.min, np.amin, np.mean, np.sum, np.median)
_PRODUCTS = (operator.matmul, np.matmul, np.dot)


def recognise(analysed: Any) -> int:
    """Mark every recognised form's last line with its call (anno "pattern"); return
    how many were marked. Marks from an earlier reading of the same tree are cleared:
    a form depends on the ranks this reading knows."""
    reading = _Reading(analysed)
    marked = 0
    for block in reading.blocks:
        for index, stmt in enumerate(block):
            if not isinstance(stmt, gast.Assign):
                continue
            set_anno(stmt, "pattern", None)
            if is_store(stmt) or not isinstance(stmt.targets[0], gast.Name):
                continue
            for match in (_gram, _square, _softmax, _log_softmax, _logsumexp, _sigmoid,
                          _log_of_sigmoid, _ones_times, _cholesky_solve, _cholesky_logdet,
                          _by_inverse):
                found = match(reading, stmt.value)
                if found is not None and reading.certain(stmt, block, index, *found[1:]):
                    form = found[0]
                    set_anno(form, "location", get_anno(stmt.value, "location"))
                    set_anno(stmt, "pattern", form)
                    marked += 1
                    break
    return marked


class _Reading:
    """What the analysis knows, indexed for matching: each name bound once, by which
    statement, in which block at which position."""

    def __init__(self, analysed: Any) -> None:
        self.analysed = analysed
        self.blocks: List[List[gast.stmt]] = []
        self.bound: Dict[str, Tuple[gast.Assign, List[gast.stmt], int]] = {}
        self._collect(analysed.lowered.body)
        # A -> A_inv for A_inv = np.linalg.inv(A) (the first such name)
        self.inverses: Dict[str, str] = {}
        for target, (stmt, _, _) in self.bound.items():
            value = stmt.value
            if op_key(value) is np.linalg.inv and len(value.args) == 1 and \
                    not value.keywords and is_local(value.args[0]):
                self.inverses.setdefault(value.args[0].id, target)

    def _collect(self, block: List[gast.stmt]) -> None:
        self.blocks.append(block)
        for index, stmt in enumerate(block):
            if isinstance(stmt, gast.Assign) and not is_store(stmt) and \
                    isinstance(stmt.targets[0], gast.Name) and \
                    self.analysed.definitions.get(stmt.targets[0].id) == 1:
                self.bound[stmt.targets[0].id] = (stmt, block, index)
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    self._collect(inner)

    def value_of(self, node: gast.AST) -> Optional[gast.AST]:
        """The operation that bound a local name once, or None."""
        if not is_local(node) or node.id not in self.bound:
            return None
        return self.bound[node.id][0].value

    def rank(self, node: gast.AST) -> Optional[int]:
        rank = self.analysed.ranks.get(node.id) if is_local(node) else None
        return rank if type(rank) is int else None

    def certain(self, stmt: gast.Assign, block: List[gast.stmt], index: int,
                chain: Sequence[str], inputs: Sequence[gast.AST]) -> bool:
        """The chain's lines bound once, before `stmt` in its block; from the chain's
        first line on, nothing but those lines binds or writes into (c[i] = v, a call
        statement, out=) a name of the chain or an input, or a name that may share its
        array; the target none of them."""
        target = stmt.targets[0].id
        positions, own = [], set()
        for link in chain:
            if link not in self.bound or link == target:
                return False
            binding, where, at = self.bound[link]
            if where is not block or at >= index:
                return False
            positions.append(at)
            own.add(id(binding))
        names = {i.id for i in inputs}
        if target in names:
            return False
        protected = set(chain) | names
        shared = set(protected)
        for n in protected:
            shared |= self.analysed.sharing.get(n, frozenset())
        first = min(positions, default=index)
        for between in block[first:index]:
            for inner in _statements([between]):
                if id(inner) not in own and (_binds(inner) & protected or
                                             _writes_into(inner) & shared):
                    return False
        return True

    def only_read_by_arithmetic(self, v: str) -> bool:
        """Every use of v, anywhere in the function, is as an operand of an arithmetic
        operation (so its array is never written into, passed on or aliased)."""
        if self.analysed.sharing.get(v, frozenset()) - {v}:
            return False
        binding = self.bound[v][0]
        for stmt in _statements(self.analysed.lowered.body):
            if stmt is binding or v not in _mentions(stmt):
                continue
            value = stmt.value if isinstance(stmt, gast.Assign) else None
            if not (isinstance(value, gast.BinOp) and not is_store(stmt) and
                    stmt.targets[0].id != v and
                    v not in _names(*(o for o in (value.left, value.right)
                                      if not isinstance(o, gast.Name)))):
                return False
        return True


def _own_parts(stmt: gast.stmt) -> List[gast.AST]:
    """A statement's own expressions (a compound statement's header, not its body)."""
    if isinstance(stmt, gast.For):
        return [stmt.target, stmt.iter]
    if isinstance(stmt, (gast.If, gast.While)):
        return [stmt.test]
    if isinstance(stmt, gast.Assign):
        return list(stmt.targets) + [stmt.value]
    if isinstance(stmt, gast.AugAssign):
        return [stmt.target, stmt.value]
    return [getattr(stmt, "value", None)]


def _mentions(stmt: gast.stmt) -> set:
    """The local names in a statement's own parts, read or bound."""
    return _names(*_own_parts(stmt))


def _names(*nodes: Any) -> set:
    return {inner.id for node in nodes if node is not None for inner in gast.walk(node)
            if isinstance(inner, gast.Name) and is_local(inner)}


def _binds(stmt: gast.stmt) -> set:
    """The name a statement binds (a new value, not into an array)."""
    if isinstance(stmt, (gast.Assign, gast.For)) and not (
            isinstance(stmt, gast.Assign) and is_store(stmt)):
        return {stored_name(stmt)} - {None}
    return set()


def _writes_into(stmt: gast.stmt) -> set:
    """The names whose array a statement may write into: c of c[i] = v and c += v, every
    name a call statement passes (np.copyto(w, ...)), out= arrays."""
    written = set()
    if isinstance(stmt, gast.AugAssign) or isinstance(stmt, gast.Assign) and is_store(stmt):
        written.add(stored_name(stmt))
    if isinstance(stmt, gast.Expr):
        written |= _mentions(stmt)
    for part in _own_parts(stmt):
        for node in gast.walk(part) if part is not None else ():
            if isinstance(node, gast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "out":
                        written |= _names(keyword.value)
    return written


def _statements(block: Sequence[gast.stmt]) -> List[gast.stmt]:
    found = []
    for stmt in block:
        found.append(stmt)
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                found.extend(_statements(inner))
    return found


# -- matchers: each returns (the form's call, the chain's names, the inputs) or None ----

Match = Optional[Tuple[gast.Call, List[str], List[gast.AST]]]


def _gram(reading: _Reading, value: gast.AST) -> Match:
    """R.T @ R, np.dot(R.T, R), R.T.dot(R), np.transpose(R) @ R, R @ R.T; for a vector
    R also R @ R, np.dot(R, R), np.inner(R, R), np.vdot(R, R)."""
    key = op_key(value)
    if key not in _PRODUCTS and key not in (np.inner, np.vdot) or \
            len(_operands(value)) != 2 or getattr(value, "keywords", None):
        return None  # (np.dot(a, b, out=c) is not a product's value)
    left, right = _operands(value)
    if not (is_local(left) and is_local(right)):
        return None
    if left.id == right.id:
        if reading.rank(left) == 1 or key is np.vdot and reading.rank(left) is not None:
            return _form("sum_of_squares", [left]), [], [left]
        return None
    if key not in _PRODUCTS:
        return None
    for transposed, plain, form in ((left, right, "gram"), (right, left, "gram_outer")):
        source = reading.value_of(transposed)
        if op_key(source) is np.transpose and len(source.args) == 1 and \
                not source.keywords and _is_name(source.args[0], plain.id):
            rank = reading.rank(plain)
            if rank == 2:
                return _form(form, [plain]), [transposed.id], [plain]
            if rank == 1:
                return _form("sum_of_squares", [plain]), [transposed.id], [plain]
    return None


def _square(reading: _Reading, value: gast.AST) -> Match:
    """R * R: np.square(R), whose adjoint 2 * dy * R is one product where dy is a
    number spread by a sum (np.sum(R * R)); np.linalg.norm(R) ** 2 (the 2-norm of a
    vector, Frobenius of a matrix): sum_of_squares(R), not through the norm's division."""
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult) and \
            is_local(value.left) and _is_name(value.right, value.left.id):
        node = call("np.square", [value.left])
        set_anno(node.func, "resolved", np.square)
        return node, [], [value.left]
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Pow) and \
            _is_number(value.right, 2) and is_local(value.left):
        norm = reading.value_of(value.left)
        if op_key(norm) is np.linalg.norm and len(norm.args) == 1 and not norm.keywords \
                and is_local(norm.args[0]) and reading.rank(norm.args[0]) in (1, 2):
            r = norm.args[0]
            return _form("sum_of_squares", [r]), [value.left.id], [r]
    return None


def _softmax(reading: _Reading, value: gast.AST) -> Match:
    """p = e / c, c = np.sum(e, axis, keepdims=True), e = np.exp(x - m) (or np.exp(x)),
    m constant along axis: softmax(x, axis)."""
    if not _is_op(value, gast.Div, np.divide):
        return None
    e, c = _operands(value)
    found = _sum_of_exp(reading, e, c)
    if found is None:
        return None
    x, axis, chain = found
    return _form("softmax", [x], axis=axis), chain, [x]


def _log_softmax(reading: _Reading, value: gast.AST) -> Match:
    """l = b - d, d = np.log(c), c = np.sum(e, axis, keepdims=True), e = np.exp(b),
    b = x - m (m constant along axis) or b itself: log_softmax(x, e, c, axis)."""
    if not _is_op(value, gast.Sub, np.subtract):
        return None
    b, d = _operands(value)
    log = reading.value_of(d)
    if op_key(log) is not np.log or len(log.args) != 1 or log.keywords:
        return None
    c = log.args[0]
    e = _exp_summed(reading, c)
    found = _sum_of_exp(reading, e, c) if e is not None else None
    if found is None or not _is_name(reading.value_of(e).args[0], b.id):
        return None
    x, axis, chain = found
    return _form("log_softmax", [x, e, c], axis=axis), chain + [d.id], [x, e, c]


def _logsumexp(reading: _Reading, value: gast.AST) -> Match:
    """y = m + d (or d + m), d = np.log(c), c = np.sum(e), e = np.exp(x - m):
    logsumexp(x, e, c), whatever m is (constant along the sum's axes); and d = np.log(c)
    itself, c = np.sum(np.exp(b)): logsumexp(b, e, c)."""
    if op_key(value) is np.log and len(value.args) == 1 and not value.keywords:
        c = value.args[0]
        e = _exp_summed(reading, c)
        if e is None or _sum_of_exp(reading, e, c) is None:
            return None
        b = reading.value_of(e).args[0]
        axis = _axis_node(reading.value_of(c))
        return _form("logsumexp", [b, e, c], axis=axis), [e.id, c.id], [b, e, c]
    if not _is_op(value, gast.Add, np.add):
        return None
    for m, d in (_operands(value), _operands(value)[::-1]):
        log = reading.value_of(d)
        if op_key(log) is not np.log or len(log.args) != 1 or log.keywords:
            continue
        c = log.args[0]
        e = _exp_summed(reading, c)
        found = _sum_of_exp(reading, e, c) if e is not None else None
        if found is None or not is_local(m):
            continue
        x, axis, chain = found
        shift = reading.value_of(reading.value_of(e).args[0])
        if x is reading.value_of(e).args[0] or not _is_name(_operands(shift)[1], m.id):
            continue  # (no shift: y = m + log(sum(exp(x))) is not a logsumexp of x)
        return _form("logsumexp", [x, e, c], axis=axis), chain + [d.id], [x, e, c]
    return None


def _sigmoid(reading: _Reading, value: gast.AST) -> Match:
    """1 / (1 + np.exp(-z)) (np.reciprocal(...), (...) ** -1), np.exp(z) / (1 + np.exp(z))
    (either order of the sum), 0.5 * (np.tanh(z / 2) + 1) (or 0.5 * z, z * 0.5 inside,
    (...) / 2 outside)."""
    fraction = _fraction(value)
    if fraction is not None:
        top, bottom = fraction
        exp = _one_plus(reading, bottom, np.exp)
        if exp is not None and _is_number(top, 1):  # 1 / (1 + exp(-z))
            negated = reading.value_of(exp.args[0])
            if isinstance(negated, gast.UnaryOp) and isinstance(negated.op, gast.USub) or \
                    op_key(negated) is np.negative and len(negated.args) == 1:
                z = _operands(negated)[0]
                if is_local(z):
                    chain = [bottom.id, _one_plus_term(reading, bottom).id, exp.args[0].id]
                    return _form("sigmoid", [z]), chain, [z]
        if exp is not None and _is_name(top, _one_plus_term(reading, bottom).id) and \
                is_local(exp.args[0]):  # exp(z) / (1 + exp(z))
            z = exp.args[0]
            return _form("sigmoid", [z]), [bottom.id, top.id], [z]
    # 0.5 * (np.tanh(z / 2) + 1), (np.tanh(0.5 * z) + 1) / 2
    half = _halved(value)
    tanh = _one_plus(reading, half, np.tanh) if half is not None else None
    if tanh is None:
        return None
    inner = reading.value_of(tanh.args[0])
    z = _halved(inner) if inner is not None else None
    if z is None:
        return None
    return _form("sigmoid", [z]), [half.id, _one_plus_term(reading, half).id,
                                   tanh.args[0].id], [z]


def _log_of_sigmoid(reading: _Reading, value: gast.AST) -> Match:
    """np.log(s) and np.log(1 - s) of a sigmoid s = 1 / (1 + np.exp(-z)) (any spelling
    _sigmoid takes): log_sigmoid(z, s), log_one_minus_sigmoid(z, s) (a cross-entropy's
    terms: dz = dy * (1 - s) and -dy * s, where the chain divides by s and by 1 - s)."""
    if op_key(value) is not np.log or len(value.args) != 1 or value.keywords or \
            not is_local(value.args[0]):
        return None
    s, form, chain = value.args[0], "log_sigmoid", []
    made = reading.value_of(s)
    if isinstance(made, gast.BinOp) and isinstance(made.op, gast.Sub) and \
            _is_number(made.left, 1) and is_local(made.right):
        s, form, chain = made.right, "log_one_minus_sigmoid", [s.id]
    sigmoid = _sigmoid(reading, reading.value_of(s)) if s.id in reading.bound else None
    if sigmoid is None:
        return None
    _, inner, (z,) = sigmoid
    return _form(form, [z, s]), chain + [s.id] + inner, [z, s]


def _fraction(value: gast.AST) -> Optional[Tuple[gast.AST, gast.AST]]:
    """(top, bottom) of top / bottom, np.divide(top, bottom), np.reciprocal(bottom) and
    bottom ** -1 (top the constant 1), bottom a name."""
    if _is_op(value, gast.Div, np.divide):
        top, bottom = _operands(value)
    elif op_key(value) is np.reciprocal and len(value.args) == 1 and not value.keywords:
        top, bottom = constant(1), value.args[0]
    elif isinstance(value, gast.BinOp) and isinstance(value.op, gast.Pow) and \
            _is_number(_literal_node(value.right), -1):
        top, bottom = constant(1), value.left
    else:
        return None
    return (top, bottom) if is_local(bottom) else None


def _literal_node(node: gast.AST) -> gast.AST:
    """-1 written as a unary minus of 1 (as parsed), as one constant."""
    value = _literal(node)
    return constant(value) if type(value) in (int, float) else node


def _one_plus_term(reading: _Reading, total: gast.AST) -> Optional[gast.AST]:
    """The name t of total = 1 + t or t + 1."""
    value = reading.value_of(total)
    if not _is_op(value, gast.Add, np.add):
        return None
    one = [o for o in _operands(value) if _is_number(o, 1)]
    rest = [o for o in _operands(value) if not _is_number(o, 1)]
    return rest[0] if len(one) == 1 and len(rest) == 1 and is_local(rest[0]) else None


def _one_plus(reading: _Reading, total: gast.AST, function: Any) -> Optional[gast.Call]:
    """The call function(a) of total = 1 + t (or t + 1), t = function(a), a a name."""
    term = _one_plus_term(reading, total)
    called = reading.value_of(term) if term is not None else None
    if op_key(called) is not function or len(called.args) != 1 or called.keywords or \
            not is_local(called.args[0]):
        return None
    return called


def _ones_times(reading: _Reading, value: gast.AST) -> Match:
    """x * w (or w * x), w = np.ones_like(...) or np.ones(...) (no dtype: a float's
    ones, or an integer's, which x's type decides over): ones_times(x, w)."""
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult)):
        return None
    for x, w in ((value.left, value.right), (value.right, value.left)):
        made = reading.value_of(w)
        if is_local(x) and op_key(made) in (np.ones_like, np.ones) and \
                len(made.args) == 1 and not made.keywords and \
                reading.only_read_by_arithmetic(w.id):  # (still all ones here)
            return _form("ones_times", [x, w]), [], [x, w]
    return None


def _cholesky_solve(reading: _Reading, value: gast.AST) -> Match:
    """x = A^-1 b by a lower Cholesky factor L of A (np.linalg.cholesky(A),
    scipy.linalg.cholesky(A, lower=True)): np.linalg.solve(L.T, np.linalg.solve(L, b)),
    solve_triangular(L.T, solve_triangular(L, b, lower=True)) (or the outer one as
    solve_triangular(L, ., trans='T' or 1, lower=True)), cho_solve((L, True), b):
    cholesky_solve(A, b, L), whose adjoint solves with the factor the forward sweep made
    and does not run cholesky's adjoint (which inverts L) for this use of L."""
    key = op_key(value)
    if key is _scipy_linalg("cho_solve") and key is not None:
        bound = _bind(value, ("c_and_lower", "b", "overwrite_b", "check_finite"))
        pair = bound.get("c_and_lower") if bound is not None else None
        if not isinstance(pair, gast.Tuple) or len(pair.elts) != 2 or \
                _literal(pair.elts[1]) is not True or not is_local(pair.elts[0]) or \
                set(bound) - {"c_and_lower", "b", "check_finite"}:
            return None
        factor, b, chain = pair.elts[0], bound["b"], []
    else:
        inner = _solve_with(reading, value, transposed=True)
        first = reading.value_of(inner[1]) if inner is not None else None
        factor = inner[0] if inner is not None else None
        again = _solve_with(reading, first, transposed=False) if first is not None else None
        if again is None or not _is_name(again[0], factor.id):
            return None
        b, chain = again[1], [inner[1].id] + inner[2]
    a = _cholesky_of(reading, factor)
    if a is None or not is_local(b) or reading.rank(b) not in (1, 2, None):
        return None
    return _form("cholesky_solve", [a, b, factor]), [factor.id] + chain, [a, b, factor]


def _solve_with(reading: _Reading, value: gast.AST, transposed: bool):
    """(L, b, chain) where `value` solves with L (transposed: with L.T) for b by
    np.linalg.solve or scipy.linalg.solve_triangular (the triangle given right), L a
    name; None otherwise."""
    key = op_key(value)
    if key is np.linalg.solve:
        if len(value.args) != 2 or value.keywords:
            return None
        matrix, b = value.args
        trans = False
    elif key is _scipy_linalg("solve_triangular") and key is not None:
        bound = _bind(value, ("a", "b", "trans", "lower"))
        if bound is None or set(bound) - {"a", "b", "trans", "lower", "check_finite"}:
            return None
        matrix, b = bound["a"], bound["b"]
        trans = _literal(bound.get("trans", constant(0))) in (1, "T")
        lower = _literal(bound.get("lower", constant(False))) is True
        if _literal(bound.get("trans", constant(0))) not in (0, "N", 1, "T"):
            return None
        made = reading.value_of(matrix)
        flipped = op_key(made) is np.transpose and len(made.args) == 1
        if lower == flipped:  # (L is lower: L itself with lower=True, L.T with False)
            return None
    else:
        return None
    if not (is_local(matrix) and is_local(b)):
        return None
    made = reading.value_of(matrix)
    if op_key(made) is np.transpose and len(made.args) == 1 and not made.keywords and \
            is_local(made.args[0]):
        factor, chain, trans = made.args[0], [matrix.id], not trans
    else:
        factor, chain = matrix, []
    return (factor, b, chain) if trans == transposed else None


def _scipy_linalg(attribute: str) -> Any:
    """scipy.linalg's function, where the program's process has SciPy loaded."""
    module = sys.modules.get("scipy.linalg")
    return getattr(module, attribute, None) if module is not None else None


def _cholesky_logdet(reading: _Reading, value: gast.AST) -> Match:
    """np.sum(np.log(np.diag(L))) (np.diagonal, .sum()), L = np.linalg.cholesky(A):
    cholesky_logdet(A, L) = log det(A) / 2, whose adjoint is A^-1 / 2 from the factor."""
    if op_key(value) is not np.sum or len(value.args) != 1 or value.keywords:
        return None
    logs = reading.value_of(value.args[0])
    if op_key(logs) is not np.log or len(logs.args) != 1 or logs.keywords:
        return None
    diagonal = reading.value_of(logs.args[0])
    if op_key(diagonal) not in (np.diag, np.diagonal) or len(diagonal.args) != 1 or \
            diagonal.keywords or not is_local(diagonal.args[0]):
        return None
    factor = diagonal.args[0]
    a = _cholesky_of(reading, factor)
    if a is None:
        return None
    return _form("cholesky_logdet", [a, factor]), \
        [factor.id, logs.args[0].id, value.args[0].id], [a, factor]


_BY_INVERSE = {np.linalg.solve: "solve_by_inverse", np.linalg.slogdet: "slogdet_by_inverse",
               np.linalg.det: "det_by_inverse"}


def _by_inverse(reading: _Reading, value: gast.AST) -> Match:
    """np.linalg.solve(A, b), slogdet(A), det(A) where A_inv = np.linalg.inv(A) is
    computed before in the same block: their adjoints read A_inv (the forward's inverse)
    instead of solving with A again or inverting it (O(n^2) where it was O(n^3))."""
    form = _BY_INVERSE.get(op_key(value))
    if form is None or value.keywords or \
            len(value.args) != (2 if form == "solve_by_inverse" else 1) or \
            not is_local(value.args[0]) or reading.rank(value.args[0]) != 2:
        return None
    a = value.args[0]
    inverse = reading.inverses.get(a.id)
    if inverse is None or not all(is_local(arg) for arg in value.args):
        return None
    args = list(value.args) + [name(inverse)]
    return _form(form, args), [inverse], [a]


def _cholesky_of(reading: _Reading, factor: gast.AST) -> Optional[gast.AST]:
    """A of L = np.linalg.cholesky(A) or scipy.linalg.cholesky(A, lower=True) (the
    lower factor), A a matrix; else None."""
    made = reading.value_of(factor)
    key = op_key(made)
    if key is np.linalg.cholesky and len(made.args) == 1 and not made.keywords:
        a = made.args[0]
    elif key is _scipy_linalg("cholesky") and key is not None:
        bound = _bind(made, ("a", "lower"))
        if bound is None or _literal(bound.get("lower", constant(False))) is not True or \
                set(bound) - {"a", "lower", "check_finite"}:
            return None
        a = bound["a"]
    else:
        return None
    if not is_local(a) or reading.rank(a) not in (2, None):
        return None  # (a rank not known: the user's L.T or np.diag(L) says 2, checked)
    return a


# -- pieces of the matchers ------------------------------------------------------------

def _sum_of_exp(reading: _Reading, e: gast.AST, c: gast.AST):
    """(x, axis, chain) where c = np.sum(e, axis[, keepdims=True]) and e = np.exp(b)
    with b = x - m, m constant along axis and adding no axes to x (then x is the form's
    input: the shift cancels), or else x = b; None otherwise. With an axis the sum keeps its dims, so
    that e / c is the softmax along it."""
    if not (is_local(e) and is_local(c)):
        return None
    summed = reading.value_of(c)
    exp = reading.value_of(e)
    if op_key(summed) is not np.sum or not _is_name(summed.args[0], e.id) or \
            op_key(exp) is not np.exp or len(exp.args) != 1 or exp.keywords:
        return None
    axis, keepdims = _summed_axis(reading, c)
    if axis is _UNKNOWN or axis is not None and keepdims is not True:
        return None
    b = exp.args[0]
    if not is_local(b) or reading.rank(b) == 0:
        return None
    chain = [e.id, c.id]
    shift = reading.value_of(b)
    if _is_op(shift, gast.Sub, np.subtract):
        x, m = _operands(shift)
        if is_local(x) and _constant_along(reading, m, axis, x):
            return x, _axis_node(summed), chain + [b.id]
    return b, _axis_node(summed), chain


_UNKNOWN = object()


def _summed_axis(reading: _Reading, c: gast.AST):
    """(axis, keepdims) of c = np.sum(e, ...): constants, or _UNKNOWN."""
    summed = reading.value_of(c)
    bound = _bind(summed, ("a", "axis", "dtype", "out", "keepdims"))
    if bound is None or set(bound) - {"a", "axis", "keepdims"}:
        return _UNKNOWN, None
    axis = _literal(bound.get("axis", constant(None)))
    keepdims = _literal(bound.get("keepdims", constant(False)))
    return axis, keepdims


def _axis_node(summed: gast.Call) -> gast.AST:
    bound = _bind(summed, ("a", "axis", "dtype", "out", "keepdims"))
    return bound.get("axis", constant(None))


def _constant_along(reading: _Reading, m: gast.AST, axis: Any, x: gast.Name) -> bool:
    """m has one value along `axis` (all axes for None) and adds no axes to x, so that
    x - m has x's shape: a number, or a reduction along the same axes, keeping its dims,
    of x or of an array of x's shape."""
    if isinstance(m, gast.Constant) and type(m.value) in (int, float) or \
            reading.rank(m) == 0:
        return True
    reduced = reading.value_of(m)
    if op_key(reduced) not in _REDUCTIONS:
        return False
    bound = _bind(reduced, ("a", "axis"))
    if bound is None or not is_local(bound["a"]) or not (
            bound["a"].id == x.id or reading.analysed.same_shape(bound["a"], x)):
        return False
    own = _literal(bound.get("axis", constant(None)))
    if axis is None:
        return own is None
    keeps = _literal(bound.get("keepdims", constant(False))) is True
    return keeps and _same_axes(own, axis, reading.rank(x))


def _same_axes(one: Any, other: Any, rank: Optional[int]) -> bool:
    def normal(axis):
        axes = axis if isinstance(axis, tuple) else (axis,)
        if any(type(a) is not int for a in axes):
            return None
        if rank is None:
            return axes if all(a >= 0 for a in axes) or all(a < 0 for a in axes) else None
        return tuple(sorted(a % rank for a in axes))
    return one is not None and other is not None and normal(one) is not None and \
        normal(one) == normal(other) and (rank is not None or one == other)


def _exp_summed(reading: _Reading, c: gast.AST) -> Optional[gast.AST]:
    summed = reading.value_of(c)
    if op_key(summed) is not np.sum or not summed.args or not is_local(summed.args[0]):
        return None
    exp = reading.value_of(summed.args[0])
    if op_key(exp) is not np.exp or len(exp.args) != 1:
        return None
    return summed.args[0]


def _halved(value: Optional[gast.AST]) -> Optional[gast.AST]:
    """The name v of 0.5 * v, v * 0.5 or v / 2."""
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):
        for half, v in ((value.left, value.right), (value.right, value.left)):
            if _is_number(half, 0.5) and is_local(v):
                return v
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div) and \
            _is_number(value.right, 2) and is_local(value.left):
        return value.left
    return None


def _bind(value: gast.Call, params: Sequence[str]) -> Optional[Dict[str, gast.AST]]:
    """A call's arguments by parameter name (positional ones in `params` order)."""
    if len(value.args) > len(params):
        return None
    bound = dict(zip(params, value.args))
    for keyword in value.keywords:
        if keyword.arg is None or keyword.arg in bound:
            return None
        bound[keyword.arg] = keyword.value
    return bound


def _literal(node: gast.AST) -> Any:
    """The value of a constant axis (an int, None, a tuple of ints, -1), else _UNKNOWN."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and \
            isinstance(node.operand, gast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, gast.Tuple):
        parts = tuple(_literal(e) for e in node.elts)
        return parts if all(type(p) is int for p in parts) else _UNKNOWN
    return _UNKNOWN


def _is_op(value: Optional[gast.AST], op: type, function: Any) -> bool:
    if isinstance(value, gast.BinOp):
        return isinstance(value.op, op)
    return op_key(value) is function and isinstance(value, gast.Call) and \
        len(value.args) == 2 and not value.keywords


def _operands(value: gast.AST) -> List[gast.AST]:
    if isinstance(value, gast.BinOp):
        return [value.left, value.right]
    if isinstance(value, gast.UnaryOp):
        return [value.operand]
    return list(value.args)


def _is_number(node: gast.AST, number: float) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and \
        node.value == number


def _is_name(node: Optional[gast.AST], identifier: str) -> bool:
    return isinstance(node, gast.Name) and node.id == identifier


def _form(form: str, args: List[gast.AST], axis: Optional[gast.AST] = None) -> gast.Call:
    """The call `form(*args[, axis=...])`, resolved to the function above."""
    keywords = [gast.keyword(arg="axis", value=clone(axis))] if axis is not None else []
    node = call(form, [name(a.id) for a in args], keywords)  # (fresh nodes: reverse
    # instantiates a template from them)
    set_anno(node.func, "resolved", FORMS[form])
    return node
