"""May-alias analysis: which names may share an array with which.

NumPy writes `c[i] = e` (and `v += e` on an array) into memory that views and other
names of the same array see. The lowered code, and so the adjoint and the tangent,
treat every binding as a value of its own: a name that shares the written array and
is read afterwards would see a change the derivative does not follow. s2sad refuses
such programs (or, for `v += e` where v may be a number, checks at run time), and
never writes into the caller's arrays.

Two layers:
  * `may_share`: flow-insensitive groups (union of every binding that may return its
    operand's memory: `t = b`, basic indexing, reshape, ravel, .T, expand_dims, ...,
    chains of any length; helpers are inlined into plain bindings). Any stage may ask
    whether two names may share an array.
  * `check_aliasing`: flow-sensitive over the names of groups with more than one
    member. Each array-making binding is an allocation site with a recency split (the
    site's three most recent arrays vs older ones), so a loop that makes a new array
    per trip and keeps the last trips' under other names is not taken as sharing. A
    write into an array makes every other name then pointing to it stale; reading a
    stale name (at any later point, across loop back-edges, or at the return) is
    refused. Rebinding a name clears it. The state at each point is a set of worlds,
    one points-to map per way the program came there, restricted to the names still
    used, so a double buffer's swap (`u, new = new, u`) keeps u and new apart.
"""
from __future__ import annotations

import ast
import operator
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

import gast
import numpy as np

from . import rules, runtime
from .anno import get_anno
from .errors import UnsupportedSyntaxError
from .lower import (FRESH_ARRAYS, TAPE_POP, VIEW_FUNCTIONS, Lowered, is_local, is_push_statement,
                    is_store, local_names_in,
                    statement_reads,
                    op_key, op_operands, stored_name, walk_statements)

# rank of a lowered value where known (None: unknown)
RankOf = Callable[[gast.AST], Optional[int]]

# calls whose result is a new array whatever the arguments, used as index arrays
_INDEX_MAKERS = frozenset({np.array, np.asarray, np.arange})


def may_share(lowered: Lowered, rank_of: Optional[RankOf] = None) -> Dict[str, FrozenSet[str]]:
    """Each name that may share an array with another -> every name of its group."""
    rank_of = rank_of or (lambda value: None)
    index_arrays = _index_arrays(lowered, rank_of)
    parent: Dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            parent[n] = parent.get(parent[n], parent[n])
            n = parent[n]
        return n

    for target, sources in _sharing_edges(lowered, rank_of, index_arrays):
        parent.setdefault(target, target)
        for source in sources:
            parent.setdefault(source, source)
            a, b = find(target), find(source)
            if a != b:
                parent[a] = b
    groups: Dict[str, Set[str]] = {}
    for n in list(parent):
        groups.setdefault(find(n), set()).add(n)
    return {n: frozenset(g) for g in groups.values() if len(g) > 1 for n in g}


def aliased(value: gast.AST, index_arrays: FrozenSet[str] = frozenset()) -> Optional[str]:
    """The local name whose array `value` may share (the first, for a tuple)."""
    sources = view_sources(value, index_arrays)
    return sources[0] if sources else None


def view_sources(value: gast.AST, index_arrays: FrozenSet[str] = frozenset(),
                 rank_of: Optional[RankOf] = None) -> List[str]:
    """The local names whose arrays the result of `value` may share ([]: a new array).

    `index_arrays`: names known to hold integer or boolean arrays, whose use as an
    index copies (as a list literal does); `rank_of`, where known, tells np.diag of a
    vector (a new matrix) from np.diag of a matrix (a view of its diagonal)."""
    if is_local(value):
        return [value.id]
    if isinstance(value, gast.Subscript):  # r = C[i] in a loop (an atom), or x[1:3]
        if _advanced(value.slice, index_arrays):
            return []   # x[[0, 0, 2]], x[mask], x[np.array(...)]: a copy
        base = value.value
        while isinstance(base, gast.Subscript):
            base = base.value
        return [base.id] if is_local(base) else []
    key = op_key(value)
    if key is tuple and isinstance(value, gast.Tuple):  # (a, b): holds the arrays
        return [e.id for e in value.elts if is_local(e)]
    if key is np.einsum:  # np.einsum("ii->i", C), of one operand: may be a view of it
        operands = [o for o in op_operands(value) if is_local(o)]
        return [operands[0].id] if len(operands) == 1 else []
    if key in VIEW_FUNCTIONS or _returns_its_operand(key, value):
        operands = op_operands(value)
        if not operands or not is_local(operands[0]):
            return []
        if key is np.diag and rank_of is not None and rank_of(operands[0]) == 1:
            return []
        return [operands[0].id]
    if getattr(key, "__name__", None) in _RUNTIME_VIEWS and \
            getattr(key, "__module__", None) == "s2sad.runtime":
        # generated code read back: unbroadcast(g, x) may hand back g itself,
        # spread(dy, x) a view of dy
        operands = op_operands(value)
        return [operands[0].id] if operands and is_local(operands[0]) else []
    if key is not None and key is not TAPE_POP and (
            _unknown_library(key) or not rules.has_rule(key) and key not in FRESH_ARRAYS):
        # a user's own rule (s2sad.adjoint(mylib.op)), or a call with no rule that the
        # derivative never meets (list(C), next(iter(C)), np.broadcast_arrays): its
        # result may be a view of anything it is given
        return [o.id for o in op_operands(value) if is_local(o)]
    return []


# s2sad.runtime's helpers that may return their first argument or a view of it
_RUNTIME_VIEWS = frozenset({"unbroadcast", "spread", "broadcast_like", "as_column",
                            "unastype", "cast_tangent"})
# modules whose functions' views are all known (VIEW_FUNCTIONS, _returns_its_operand)
_KNOWN_MODULES = ("numpy", "scipy", "math", "builtins", "_operator", "operator", "s2sad",
                  "cmath")


def _unknown_library(key) -> bool:
    if isinstance(key, np.ufunc) or not callable(key):
        return False
    module = getattr(key, "__module__", None) or type(key).__module__ or ""
    return not module.split(".")[0] in _KNOWN_MODULES


def viewed_global(value: gast.AST) -> Optional[str]:
    """The module-level array whose memory `value` may share (`W`, `W[1:]`, `W.T`,
    `np.reshape(W, ...)`), by its name in the user's code; None if there is none."""
    if isinstance(value, gast.Subscript):
        base = value.value
        while isinstance(base, gast.Subscript):
            base = base.value
        value = base
    elif op_key(value) in VIEW_FUNCTIONS:
        operands = op_operands(value)
        value = operands[0] if operands else None
    if isinstance(value, gast.Name) and not is_local(value) and \
            isinstance(get_anno(value, "resolved", None), np.ndarray):
        return value.id
    return None


def _returns_its_operand(key, value: gast.AST) -> bool:
    """Calls that hand back the array they were given: np.float64(a) of an array,
    np.diff(a, 0), np.nan_to_num(a, False), np.array(a, copy=False) and
    a.astype(t, copy=False)."""
    if key is np.float64:
        return True
    if key is np.array and isinstance(value, gast.Call):  # np.array(c, copy=False)
        copy = next((k.value for k in value.keywords if k.arg == "copy"), None)
        return copy is not None and not (isinstance(copy, gast.Constant) and copy.value is True)
    if key not in (np.diff, np.nan_to_num) or not isinstance(value, gast.Call):
        return False
    flag = "n" if key is np.diff else "copy"
    given = value.args[1] if len(value.args) > 1 else next(
        (k.value for k in value.keywords if k.arg == flag), None)
    if given is None:
        return False
    return not (isinstance(given, gast.Constant) and bool(given.value))  # 0 / False


def _advanced(index: gast.AST, index_arrays: FrozenSet[str]) -> bool:
    """An index with a list or an index array in it: NumPy's advanced indexing, which
    copies."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.List) or isinstance(p, gast.Name) and p.id in index_arrays
               for p in parts)


def _index_arrays(lowered: Lowered, rank_of: RankOf) -> FrozenSet[str]:
    """Names every binding of which is surely an array with axes (so an index made of
    them is advanced indexing, a copy): rank known >= 1, or np.array([...])."""
    verdicts: Dict[str, bool] = {p: _positive(rank_of(_load(p))) for p in lowered.params}
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, gast.For):
            for n in _target_names(stmt.target):
                verdicts[n] = False
            continue
        if not isinstance(stmt, gast.Assign) or is_store(stmt):
            continue
        value = stmt.value
        sure = _positive(rank_of(value)) or op_key(value) in _INDEX_MAKERS and \
            bool(value.args) and (isinstance(value.args[0], (gast.List, gast.Tuple)) or
                                  op_key(value) is np.arange)
        for n in _target_names(stmt.targets[0]):
            verdicts[n] = verdicts.get(n, True) and sure
    return frozenset(n for n, sure in verdicts.items() if sure)


def _load(name_: str) -> gast.Name:
    return gast.Name(id=name_, ctx=gast.Load(), annotation=None, type_comment=None)


def literal_ranks(lowered: Lowered) -> Dict[str, int]:
    """Names every binding of which is np.array([...]) of a literal (nested) list of
    numbers: their number of axes, the depth of the list (idx = np.array([0, 2, 2]))."""
    found: Dict[str, Optional[int]] = {}
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, gast.For):
            for n in _target_names(stmt.target):
                found[n] = None
        elif isinstance(stmt, gast.Assign) and not is_store(stmt):
            value = stmt.value
            depth = _list_depth(value.args[0]) if op_key(value) in (np.array, np.asarray) \
                and len(value.args) == 1 and not value.keywords else None
            for n in _target_names(stmt.targets[0]):
                found[n] = depth if found.get(n, depth) == depth else None
    return {n: depth for n, depth in found.items()
            if depth is not None and n not in lowered.params}


def _list_depth(node: gast.AST) -> Optional[int]:
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float, bool)):
        return 0
    if isinstance(node, (gast.List, gast.Tuple)) and node.elts:
        depths = {_list_depth(e) for e in node.elts}
        return None if len(depths) != 1 or None in depths else depths.pop() + 1
    return None


def _positive(rank) -> bool:
    return isinstance(rank, int) and rank >= 1


# calls that read only the shape (and dtype) of the argument at this position, which
# a write into its array leaves alone (s2sad.runtime's adjoint helpers, in generated
# code read back)
_SHAPE_ARGUMENT = {runtime.unbroadcast: 1, runtime.unsum: 1, runtime.spread: 1,
                   runtime.tie_count: 1, runtime.zeros_like: 0, np.zeros_like: 0,
                   np.ones_like: 0, np.empty_like: 0, np.shape: 0, np.size: 0, np.ndim: 0}


def _shape_only_read(stmt: gast.stmt) -> Optional[str]:
    """The name a statement reads only the shape of (`da = unbroadcast(g, a)`)."""
    if not isinstance(stmt, gast.Assign) or not isinstance(stmt.value, gast.Call):
        return None
    position = _SHAPE_ARGUMENT.get(op_key(stmt.value))
    args = stmt.value.args
    if position is None or len(args) <= position or not is_local(args[position]):
        return None
    read = args[position].id
    others = [a for i, a in enumerate(args) if i != position] + \
        [k.value for k in stmt.value.keywords]
    return None if any(read in local_names_in(o) for o in others) else read


def _pushed_reference(stmt: gast.stmt) -> Optional[str]:
    """The name whose array generated code keeps on its tape (`tape.append(f)`): only
    the reference is kept, for the adjoint sweep to bind back (`f = tape.pop()`) after
    it has undone the writes made since, so this reads no values (a double buffer's
    gradient, differentiated again, pushes a name whose array was just written)."""
    if not is_push_statement(stmt):
        return None
    pushed = stmt.value.args[0] if len(stmt.value.args) == 1 else None
    return pushed.id if pushed is not None and is_local(pushed) else None


def _is_number(value: gast.AST, rank_of: RankOf,
               arrays: FrozenSet[str] = frozenset()) -> bool:
    """A value of no axes is a number (immutable), except a 0-d array: what
    np.array(s) and kin make, a name `arrays` says may hold one (w = z), and c[...]
    of one (a view, which a write into c changes)."""
    if _makes_an_array(value) or is_local(value) and value.id in arrays:
        return False
    if isinstance(value, gast.Subscript):
        parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
        if any(isinstance(p, gast.Constant) and p.value is Ellipsis for p in parts):
            return False
    return rank_of(value) == 0


def _makes_an_array(value: gast.AST) -> bool:
    """np.array(s), np.zeros(()), np.asarray(s), np.reshape(s, ()): an ndarray even
    with no axes (x[i] of an array, and arithmetic on a 0-d array, give numbers)."""
    key = op_key(value)
    return key in FRESH_ARRAYS or key in VIEW_FUNCTIONS and key is not operator.getitem


def _zero_d_arrays(lowered: Lowered) -> FrozenSet[str]:
    """Names that may hold an array made in the function (np.array(s), np.zeros(())),
    also through plain copies of the reference (w = z) and views (c[...]): where such
    a name has no axes it is still an array, which `w *= s` writes into."""
    made: Set[str] = set()
    size = -1
    while size != len(made):
        size = len(made)
        for stmt in walk_statements(lowered.body):
            if not isinstance(stmt, gast.Assign) or is_store(stmt):
                continue
            value = stmt.value
            if _makes_an_array(value) or is_local(value) and value.id in made or \
                    isinstance(value, gast.Subscript) and is_local(value.value) and \
                    value.value.id in made and not _is_number(value, lambda v: 0):
                made.update(_target_names(stmt.targets[0]))
    return frozenset(made)


def _target_names(target: gast.AST) -> List[str]:
    if isinstance(target, gast.Name):
        return [target.id]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for e in target.elts for n in _target_names(e)]
    return []


def _sharing_edges(lowered: Lowered, rank_of: RankOf, index_arrays):
    """(name, the names whose arrays it may share) for every binding."""
    arrays = _zero_d_arrays(lowered)
    for stmt in walk_statements(lowered.body):
        if isinstance(stmt, gast.For):
            if is_local(stmt.iter):  # for row in C: each row a view
                yield from ((n, [stmt.iter.id]) for n in _target_names(stmt.target))
            continue
        if not isinstance(stmt, gast.Assign) or is_store(stmt):
            continue
        targets = _target_names(stmt.targets[0])
        if _is_number(stmt.value, rank_of, arrays) and \
                get_anno(stmt, "augmented") not in arrays:
            continue  # (a number copies)
        sources = view_sources(stmt.value, index_arrays, rank_of)
        updated = get_anno(stmt, "augmented")
        if updated is not None and updated not in sources:
            sources = sources + [updated]  # v += e: the same array, where v is one
        if len(targets) > 1:  # (a, b = ...): either may be anything the value reads
            sources = sources + local_names_in(stmt.value)
        for target in targets:
            yield target, sources


# -- the flow-sensitive check ------------------------------------------------------

_EXIT = None


def check_aliasing(lowered: Lowered, rank_of: Optional[RankOf] = None,
                   groups: Optional[Dict[str, FrozenSet[str]]] = None,
                   checked_at_run_time: bool = True) -> Dict[int, Tuple[str, str]]:
    """Refuse a write into an array that another name, read afterwards, still shares.

    Writes are `c[i] = e` (surely into an array) and `v += e` (into v's array only
    where v holds one). With `checked_at_run_time`, a `v += e` whose v may be a number
    is returned, id -> (v, the other name), for reverse mode's check at run time;
    without it (code for a call's ranks, where such a v is rare, and which forward
    mode does not check) it is refused like the rest. Writing into an array the
    caller passed is refused outright."""
    rank_of = rank_of or (lambda value: None)
    if groups is None:
        groups = may_share(lowered, rank_of)
    statements = walk_statements(lowered.body)
    module_views = {n for s in statements if isinstance(s, gast.Assign) and not is_store(s)
                    and viewed_global(s.value) for n in _target_names(s.targets[0])}
    tracked = set(groups) | module_views
    has_store = any(is_store(s) for s in statements)
    if not tracked or not (has_store or any(get_anno(s, "augmented") in tracked
                                            for s in statements)):
        return {}
    checker = _Checker(lowered, rank_of, groups, checked_at_run_time)
    checker.tracked |= module_views
    checker.run()
    return checker.guarded


_State = Tuple[Dict[str, FrozenSet], Dict[str, FrozenSet[int]]]  # points-to, stale
# One world: a _State frozen (its items), so that a set of worlds can hold it.
_World = Tuple[FrozenSet, FrozenSet]
# An allocation site's arrays told apart: its most recent ones (a loop keeping three
# buffers, each made anew, needs three), then all older ones as one.
_RECENT = 3
# The most worlds kept apart at one point of the program; beyond, they are merged into
# one (name by name), which is what a single points-to map would say.
_MOST_WORLDS = 64


class _Checker:
    """Points-to sets with recency per allocation site, and stale names, to a fixpoint
    over the statements' control flow (loops iterate).

    The state at a point is a set of worlds, each a points-to map with its stale
    names, one per way the program may have come there: branches and loop back-edges
    add worlds instead of merging maps, so a double buffer (`u, new = new, u`) holds
    u -> A, new -> B in one world and u -> B, new -> A in the other, and a write into
    new is never taken as a write into u's array."""

    def __init__(self, lowered: Lowered, rank_of: RankOf, groups, checked_at_run_time: bool,
                 copied: FrozenSet[int] = frozenset()):
        self.lowered = lowered
        self.checked_at_run_time = checked_at_run_time
        self.rank_of = rank_of
        self.groups = groups
        self.tracked = set(groups)
        # (a trial for a hint: these bindings taken as copies, refusals left bare)
        self.copied = copied
        self.arrays = _zero_d_arrays(lowered)
        self.index_arrays = _index_arrays(lowered, rank_of)
        self.guarded: Dict[int, Tuple[str, str]] = {}
        self.successors: Dict[int, List] = {}
        self.statements: Dict[int, gast.stmt] = {}
        self.order = {id(s): k for k, s in enumerate(walk_statements(lowered.body))}
        self.entry = self._block(lowered.body, _EXIT, None)
        output = lowered.output
        outputs = output if isinstance(output, tuple) else (output,)
        self.outputs = [n for o in outputs for n in local_names_in(o)]

    # -- control flow --------------------------------------------------------------

    def _block(self, body, after, loop):
        following = after
        for stmt in reversed(body):
            following = self._node(stmt, following, loop)
        return following

    def _node(self, stmt, after, loop):
        self.statements[id(stmt)] = stmt
        if isinstance(stmt, gast.If):
            self.successors[id(stmt)] = [self._block(stmt.body, after, loop),
                                         self._block(stmt.orelse, after, loop)]
        elif isinstance(stmt, (gast.For, gast.While)):
            self.successors[id(stmt)] = [self._block(stmt.body, stmt, (stmt, after)),
                                         self._block(stmt.orelse, after, loop)]
        elif isinstance(stmt, gast.Break):
            self.successors[id(stmt)] = [loop[1] if loop else after]
        elif isinstance(stmt, gast.Continue):
            self.successors[id(stmt)] = [loop[0] if loop else after]
        else:
            self.successors[id(stmt)] = [after]
        return stmt

    # -- the fixpoint --------------------------------------------------------------

    def run(self) -> None:
        start: _State = ({p: frozenset({("argument", p)}) for p in self.lowered.params
                          if p in self.tracked and p not in self.lowered.scalar_params
                          and self.rank_of(_load(p)) != 0}, {})
        live = self._live()
        work = [self.entry]
        entry_key = id(self.entry) if self.entry is not None else None
        incoming = {entry_key: frozenset({_frozen(_only(start, live[entry_key]))})}
        while work:
            node = work.pop()
            key = None if node is _EXIT else id(node)
            worlds = [_thawed(w) for w in incoming[key]]
            if node is _EXIT:
                for world in worlds:
                    for n in self.outputs:
                        self._read(n, world, None)
                continue
            out = frozenset(_frozen(self._transfer(node, world)) for world in worlds)
            for succ in self.successors[key]:
                succ_key = None if succ is _EXIT else id(succ)
                arriving = frozenset(_frozen(_only(_thawed(w), live[succ_key])) for w in out)
                known = incoming.get(succ_key)
                joined = arriving if known is None else _join(known, arriving)
                if known is None or joined != known:
                    incoming[succ_key] = joined
                    if succ not in work:
                        work.append(succ)

    def _live(self) -> Dict[Optional[int], FrozenSet[str]]:
        """The names each node or what follows may still use: read, write into, or
        update. Worlds keep only those, else they would differ in dead temporaries
        alone (each swap's) and multiply."""
        uses: Dict[int, Set[str]] = {}
        kills: Dict[int, Set[str]] = {}
        for key, stmt in self.statements.items():
            uses[key] = set(statement_reads(stmt))
            if is_store(stmt):
                uses[key].add(stored_name(stmt))
            if get_anno(stmt, "augmented") is not None:
                uses[key].add(get_anno(stmt, "augmented"))
            kills[key] = set(_target_names(stmt.target)) if isinstance(stmt, gast.For) else \
                set(_target_names(stmt.targets[0])) \
                if isinstance(stmt, gast.Assign) and not is_store(stmt) else set()
        live: Dict[Optional[int], FrozenSet[str]] = {None: frozenset(self.outputs)}
        changed = True
        while changed:
            changed = False
            for key in self.statements:
                after = set().union(*(live.get(None if s is _EXIT else id(s), frozenset())
                                      for s in self.successors[key]))
                now = frozenset(uses[key] | (after - kills[key]))
                if now != live.get(key):
                    live[key] = now
                    changed = True
        return live

    def _transfer(self, stmt: gast.stmt, state: _State) -> _State:
        pts, stale = dict(state[0]), dict(state[1])
        unread = _shape_only_read(stmt) or _pushed_reference(stmt)
        for n in statement_reads(stmt):
            if n != unread:
                self._read(n, (pts, stale), stmt)
        if isinstance(stmt, gast.For):
            sources = [stmt.iter.id] if is_local(stmt.iter) else []
            for n in _target_names(stmt.target):
                self._bind(n, sources, stmt, pts, stale, number=not sources)
        elif isinstance(stmt, (gast.Assign, gast.AugAssign)) and is_store(stmt):
            self._write(stored_name(stmt), stmt, pts, stale, surely_array=True)
        elif isinstance(stmt, gast.Assign):
            updated = get_anno(stmt, "augmented")
            number = _is_number(stmt.value, self.rank_of, self.arrays) and \
                updated not in self.arrays  # (w *= s on a 0-d array writes into it)
            sources = [] if number else view_sources(stmt.value, self.index_arrays,
                                                     self.rank_of)
            targets = _target_names(stmt.targets[0])
            if updated is not None and not number and updated in pts:
                self._write(updated, stmt, pts, stale, surely_array=self._array(updated),
                            exempt=set(targets))
                # (an array updated keeps its own; what may be a number may also take
                # the new value's: v = 0.0; v += a)
                sources = [updated] if self._array(updated) else sources + [updated]
            if len(targets) > 1:
                sources = sources + local_names_in(stmt.value)
            module_array = None if number else viewed_global(stmt.value)
            numbers_only = bool(sources) and all(  # np.asarray(s) of a number: new
                src in self.tracked and src not in pts for src in sources)
            fresh = op_key(stmt.value) is TAPE_POP or numbers_only or \
                not sources and module_array is None
            if id(stmt) in self.copied:
                sources, fresh = [], True
            for n in targets:
                self._bind(n, sources, stmt, pts, stale, number=number, fresh=fresh)
                if module_array is not None and n in pts:
                    pts[n] = pts[n] | {("global", module_array)}
        return pts, stale

    def _array(self, name_: str) -> bool:
        return name_ in self.arrays or _positive(self.rank_of(_load(name_)))

    def _bind(self, name_: str, sources, stmt, pts, stale, number=False, fresh=False) -> None:
        stale.pop(name_, None)
        if name_ not in self.tracked:
            return
        if number:
            pts.pop(name_, None)
            return
        held = frozenset().union(*(pts.get(s, frozenset()) for s in sources))
        if fresh:
            site = id(stmt)
            for other, objects in list(pts.items()):
                if any(o[0] == site for o in objects):  # the site makes another array
                    pts[other] = frozenset(_older(o, site) for o in objects)
            held = frozenset(_older(o, site) for o in held) | {(site, 0)}
        pts[name_] = held

    def _write(self, written: str, stmt, pts, stale, surely_array: bool, exempt=()) -> None:
        objects = pts.get(written, frozenset())
        if not objects:
            return
        module_arrays = sorted(o[1] for o in objects if o[0] == "global")
        if module_arrays:  # (a module's array changes for good: never written)
            raise UnsupportedSyntaxError(
                f"writing into {_user_name(self.lowered, written)} would change the "
                f"module's array {module_arrays[0]!r}, whose memory it shares",
                get_anno(stmt, "location"),
                hint=f"work on a copy: {_user_name(self.lowered, written, bare=True)} = "
                     f"{module_arrays[0]}.copy()")
        arguments = sorted(o[1] for o in objects if o[0] == "argument")
        if arguments and is_store(stmt):
            argument = _user_name(self.lowered, arguments[0], bare=True)
            message = f"writing into {_user_name(self.lowered, written)} would change " \
                f"the argument {argument!r}, whose array it shares"
            location = get_anno(stmt, "location")
            copied = None if self.copied else \
                self._copying_line(written, arguments[0], message, location)
            hint = f"work on a copy: {copied[1]} (line {copied[0]})" if copied else \
                f"work on a copy: begin the function with {argument} = {argument}.copy()" \
                if argument in _parameters(self.lowered) else \
                "work on a copy of the argument (... .copy() where the function reads it)"
            raise UnsupportedSyntaxError(message, location, hint=hint)
        for other, held in pts.items():
            if other != written and other not in exempt and held & objects:
                stale[other] = stale.get(other, frozenset()) | {id(stmt)}

    def _read(self, name_: str, state: _State, reader) -> None:
        writes = state[1].get(name_)
        if not writes:
            return
        for write_id in sorted(writes, key=lambda w: self.order.get(w, 0)):
            write = self.statements[write_id]
            updated = get_anno(write, "augmented") if not is_store(write) else None
            if updated is not None and self.checked_at_run_time and not self._array(updated):
                # v += e on what may be a number: checked at run time (against the first
                # name found; code for a call's ranks is checked here against all)
                self.guarded.setdefault(write_id, (updated, name_))
                continue
            written = updated or stored_name(write)
            self._refuse(written, name_, write, reader)

    def _refuse(self, written: str, other: str, write, reader) -> None:
        shown_written = _user_name(self.lowered, written)
        shown_other = _user_name(self.lowered, other)
        where = "at the return" if reader is None else \
            f"on line {get_anno(reader, 'location').line}" \
            if get_anno(reader, "location") is not None else "afterwards"
        bare = _user_name(self.lowered, written, bare=True)
        own = f"make {bare} its own array ({bare} = ... .copy() where it is made)" \
            if bare != "the array" else "write into a copy (... .copy())"
        message = f"{shown_written} is updated in place while {shown_other} shares its " \
            f"array and is read {where}"
        location = get_anno(write, "location")
        copied = None if self.copied else self._copying_line(written, other, message, location)
        if copied is not None:
            # (the line of s2sad's own gradient code, differentiated again, would mislead)
            where_made = "" if frontend_generated(self.lowered) else f" (line {copied[0]})"
            own = f"copy where the array is shared: {copied[1]}{where_made}"
        raise UnsupportedSyntaxError(message, location,
                                     hint=f"{own}, or write a new value instead")

    def _copying_line(self, written: str, other: str, message: str,
                      location) -> Optional[Tuple[int, str]]:
        """The user's line whose binding makes the two names share an array (`v = u[1:]`,
        `new = u`), as it reads with a copy (`v = u[1:].copy()`), with its line: the
        first of the group's plain one-name bindings that, taken as a copy, lifts this
        refusal (lines of the stale name first, then of the written one)."""
        group = self.groups.get(written, frozenset()) | {written, other}
        ranked = sorted(
            (stmt for stmt in walk_statements(self.lowered.body)
             if isinstance(stmt, gast.Assign) and not is_store(stmt)
             and len(_target_names(stmt.targets[0])) == 1
             and _target_names(stmt.targets[0])[0] in group
             and view_sources(stmt.value, self.index_arrays, self.rank_of)),
            key=lambda stmt: (_target_names(stmt.targets[0]) != [other],
                              _target_names(stmt.targets[0]) != [written],
                              self.order.get(id(stmt), 0)))
        for stmt in ranked:
            target = _target_names(stmt.targets[0])[0]
            line, text = get_anno(stmt, "origin", (None, ""))
            copied = _with_a_copy(text, self.lowered.versions.get(target, target))
            if copied is None:
                continue
            trial = _Checker(self.lowered, self.rank_of, self.groups, self.checked_at_run_time,
                             copied=frozenset({id(stmt)}))
            trial.tracked = self.tracked
            try:
                trial.run()
            except UnsupportedSyntaxError as error:
                if (error.message, error.location) == (message, location):
                    continue  # (the same refusal: this copy is not the one)
            return line, copied
        return None


def _with_a_copy(text: str, user: str) -> Optional[str]:
    """`v = u[1:]` -> `v = u[1:].copy()`, for a line binding exactly `user`."""
    try:
        parsed = ast.parse(text)
    except SyntaxError:
        return None
    if len(parsed.body) != 1 or not isinstance(parsed.body[0], ast.Assign):
        return None
    assigned = parsed.body[0]
    if len(assigned.targets) != 1 or not isinstance(assigned.targets[0], ast.Name) or \
            assigned.targets[0].id != user:
        return None
    value = ast.get_source_segment(text, assigned.value)
    if not isinstance(assigned.value, (ast.Name, ast.Subscript, ast.Attribute, ast.Call)):
        value = f"({value})"
    return f"{user} = {value}.copy()"


def _older(made, site: int):
    """An array of the allocation site, once the site has made another: (site, k) is
    its k-th most recent array, (site, "old") any older one."""
    if made[0] != site or made[1] == "old":
        return made
    return (site, made[1] + 1) if made[1] + 1 < _RECENT else (site, "old")


def _join(a: FrozenSet[_World], b: FrozenSet[_World]) -> FrozenSet[_World]:
    """The worlds of both, less those another world covers; merged into one world
    when there are too many."""
    states = [_thawed(w) for w in a | b]
    kept = [s for k, s in enumerate(states)
            if not any(_covers(other, s) and (not _covers(s, other) or j < k)
                       for j, other in enumerate(states) if j != k)]
    if len(kept) > _MOST_WORLDS:
        merged: _State = ({}, {})
        for s in kept:
            merged = _union(merged[0], s[0]), _union(merged[1], s[1])
        kept = [merged]
    return frozenset(_frozen(s) for s in kept)


def _covers(a: _State, b: _State) -> bool:
    """Does world a say all that world b says (every pointer and stale mark of b)?"""
    return all(k in a[0] and v <= a[0][k] for k, v in b[0].items()) and \
        all(k in a[1] and v <= a[1][k] for k, v in b[1].items())


def _only(state: _State, names: FrozenSet[str]) -> _State:
    return ({n: v for n, v in state[0].items() if n in names},
            {n: v for n, v in state[1].items() if n in names})


def _frozen(state: _State) -> _World:
    return frozenset(state[0].items()), frozenset(state[1].items())


def _thawed(world: _World) -> _State:
    return dict(world[0]), dict(world[1])


def _union(a: Dict[str, FrozenSet], b: Dict[str, FrozenSet]) -> Dict[str, FrozenSet]:
    if a == b:
        return a
    joined = dict(a)
    for k, v in b.items():
        joined[k] = joined[k] | v if k in joined else v
    return joined


def _user_name(lowered: Lowered, lowered_name: str, bare: bool = False) -> str:
    """How a message names a lowered name: the user's, or what the temporary is."""
    user = lowered.versions.get(lowered_name, lowered_name)
    if user in frontend_bound_names(lowered):
        return user if bare else repr(user)
    return "a temporary" if not bare else "the array"


def _parameters(lowered: Lowered) -> List[str]:
    """The parameters of the user's def (not the leaves a structured argument became)."""
    code = lowered.parsed.code
    if code is None:
        return list(lowered.params)
    count = code.co_argcount + code.co_kwonlyargcount
    return list(code.co_varnames[:count])


def frontend_generated(lowered: Lowered) -> bool:
    from .frontend import is_generated
    return is_generated(lowered.parsed)


def frontend_bound_names(lowered: Lowered) -> set:
    from .frontend import bound_names
    return bound_names(lowered.parsed.func)


__all__ = ["may_share", "check_aliasing", "aliased", "view_sources"]
