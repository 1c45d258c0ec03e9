"""Reverse mode: the forward sweep (the primal) followed by the adjoint sweep.

Input: `Analysed`. Output: `Generated`, a function

    def grad_f(<f's parameters>, df=1.0):
        <lowered primal statements>
        # adjoint of line N: <the user's line>
        <adjoint statements, last primal statement first>
        return dx            (a tuple for several differentiated inputs)

Every active name `v` gets one adjoint `dv`. A rule's contribution to `dv` is
assigned when it is the first and added otherwise (`dv = dv + e`; the optimizer
turns that into `dv += e` where no other name can see the array). Reading `a[i]`
contributes `da[i] += dy` into a zero array, or `np.add.at` when the index may
repeat. Straight-line code keeps every primal value in its own SSA name, so the
adjoint needs no tape.
"""
from __future__ import annotations

import builtins
import inspect
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from . import implicit, rules
from .analysis import Analysed, aliased, axis_lengths, is_new_axis, rank_of
from .anno import clone, copy_annos, dotted, get_anno, names_in, set_anno, walk
from .errors import NoDerivativeRuleError, NonScalarOutputError, UnsupportedSyntaxError
from .lower import (FRESH_ARRAYS, TAPE_POP, assign, call, constant, is_local, is_push_statement,
                    is_store, local_names_in, name, op_key, op_operands, stored_name,
                    walk_statements)
from .rules.template import bind_modules, instantiate

# A read recorded at a branch with `inside=ENTRY`: code at the branch's entry in the
# adjoint sweep, which runs after every restore of the branch's body.
ENTRY = "entry"


@dataclass
class Generated:
    """A generated derivative function and what its module must provide."""

    func: gast.FunctionDef
    header: List[str]
    source_name: str
    namespace: Dict[str, Any] = field(default_factory=dict)
    # x_1 -> x for primal versions, then dx_1 -> dx for their adjoints, in that order
    versions: Dict[str, str] = field(default_factory=dict)
    global_names: frozenset = frozenset()  # read again from the module at each call
    # the parameters a derivative adds to f's: the seed df, or the tangents x_dot, ...
    added_params: tuple = ()
    # primal name -> its adjoint's name (an adjoint has its primal's shape)
    adjoints: Dict[str, str] = field(default_factory=dict)
    # implicit solves' companion modules (companions.py): names the code calls, and
    # their texts, printed after the function's
    companions: Dict[str, str] = field(default_factory=dict)


def reverse(analysed: Analysed, with_value: bool = False, pullback: bool = False,
            indexed: bool = False, numbers_only: bool = False,
            seed_each: bool = False, element_writes: bool = True,
            read_back: bool = False) -> Generated:
    """The gradient function; `with_value` also returns the output (value_and_grad).
    A `pullback` (vjp) takes a seed shaped like the output, which may be an array.
    With `indexed`, a loop's stored values go in lists indexed by its counter (see
    indexed_stores) rather than on the stack, which code read back expects; with
    `numbers_only` (code for Numba), only float numbers do, in float arrays.
    With `seed_each` (checkpoint.py's step_adjoint), a function returning a tuple
    takes one seed per returned value, as positional parameters after its own.
    Without `element_writes` (arrays of other libraries: dask's have no np.add.at and
    no writes through new axes), an element's adjoint is scattered by `unindex`."""
    reversing = _Reverse(analysed, with_value, pullback, indexed, numbers_only)
    reversing.seed_each = seed_each
    reversing.element_writes = element_writes
    reversing.read_back = read_back
    return reversing.run()


def _output_location(analysed: Analysed):
    func = analysed.lowered.parsed.func
    returns = [n for n in walk(func) if isinstance(n, gast.Return)]
    return analysed.lowered.parsed.locate(returns[-1].value if returns else func)


class _Slot:
    """A value a statement overwrites, stored first if the adjoint sweep reads it.

    The forward sweep holds the slot just before the statement; the adjoint sweep
    holds its restore just after the statement's adjoint, so when the adjoint of a
    statement runs, every value it reads is what it was when the statement ran.
    """

    def __init__(self, target: gast.AST, stmt: gast.stmt, in_loop: bool):
        self.target = target          # a name, or an element c[i]
        self.name = target.id if isinstance(target, gast.Name) else target.value.id
        self.stmt = stmt
        self.in_loop = in_loop
        self.stored = False
        # an index computed from loop counters and values the loop never changes
        # (x = z + y): the adjoint loop computes it again rather than storing it
        self.recomputable = False
        self.recomputed = False
        # the adjoint reads it only for its shape and dtype: shape_of(v) is stored
        self.shape_only = False

    def push(self, tape: str) -> gast.stmt:
        value = clone(self.target)
        if self.shape_only:
            value = call("shape_of", [value])
        elif isinstance(value, gast.Subscript):
            value.ctx = gast.Load()
            value = gast.Call(func=gast.Attribute(value=value, attr="copy", ctx=gast.Load()),
                              args=[], keywords=[])
        return gast.Expr(value=call(f"{tape}.append", [value]))

    def pop(self, tape: str) -> gast.stmt:
        target = clone(self.target)
        target.ctx = gast.Store()
        return gast.Assign(targets=[target], value=call(f"{tape}.pop", []), type_comment=None)


class _Restore:
    """Where the adjoint sweep gets a stored value back (resolved once slots are known)."""

    def __init__(self, slot: _Slot):
        self.slot = slot


class _Recompute:
    """Where a backward iteration computes a recomputable index again: at the top of
    its body, before any adjoint that reads it (resolved once slots are known)."""

    def __init__(self, slot: _Slot):
        self.slot = slot


class _Reverse:
    def __init__(self, analysed: Analysed, with_value: bool, pullback: bool = False,
                 index_stores: bool = False, index_numbers_only: bool = False):
        self.analysed = analysed
        self.pullback = pullback
        self.index_stores = index_stores
        self.index_numbers_only = index_numbers_only
        self.seed_each = False
        self.element_writes = True  # da[i] += e (not for dask's arrays: see reverse())
        self.read_back = False  # code to be differentiated again (implicit_adjoint)
        self.lowered = analysed.lowered
        self.namer = clone(self.lowered.namer)
        self.rule_modules: Dict[str, Any] = {}  # modules rule templates read (bind_modules)
        self.implicit_solves: List[str] = []  # the header's lines for fixed points and roots
        self.companions: Dict[str, str] = {}  # their companions: name -> module text
        self.adjoints: Dict[str, str] = {}
        self.live: set = set()      # names whose adjoint variable holds its value now
        self.owned: set = set()     # adjoints holding an array no other name can see
        self.blocks: List[List[Any]] = [[]]
        self.pending_comment: Optional[str] = None
        self.comment_next: Optional[str] = None
        self.slots: Dict[int, _Slot] = {}          # id(lowered statement) -> its slot
        self.counters: Dict[int, str] = {}         # id(loop) -> its trip counter
        self.preset: set = set()                   # names bound to None on entry
        self.reads: List[Tuple[Any, bool, set]] = []  # (statement, inside?, names read)
        self.with_value = with_value
        prefix = "vjp" if pullback else "value_and_grad" if with_value else "grad"
        self.function_name = f"{prefix}_{self.lowered.func.name}"
        self.primal_names = set(self.lowered.params) | {
            n for s in walk_statements(self.lowered.body) for n in [stored_name(s)] if n}
        statements = list(walk_statements(self.lowered.body))
        self.mentions = {id(s): _names(s) for s in statements}   # per statement
        self.position = {id(s): k for k, s in enumerate(statements)}
        self.loop_ids = {id(s) for s in statements if isinstance(s, (gast.For, gast.While))}
        self.first_binding: Dict[str, int] = {}
        for stmt in statements:
            if isinstance(stmt, (gast.Assign, gast.For)) and not is_store(stmt):
                self.first_binding.setdefault(stored_name(stmt), self.position[id(stmt)])
        self._counts: Dict[int, Any] = {}
        self._first_definitions: Optional[Dict[str, int]] = None
        self._top_bindings: Optional[Dict[str, int]] = None
        self.statement_of = {id(s): s for s in statements}
        self._invariant_in: Dict[int, set] = {}  # id(outermost loop) -> loop_invariants
        # tapes of generated code read back (grad of grad): their adjoints are stacks
        # too, popped where the tape was pushed and pushed where it was popped
        self.stacks = {stmt.value.func.value.id for stmt in statements
                       if is_push_statement(stmt)} & self.analysed.active
        self.first_element: Dict[str, str] = {}   # array -> the index of its first write
        self.loops: List[Any] = []                 # the loops around what is reversed now
        self._aranges: Optional[set] = None        # names bound once to np.arange(...)
        self.unsure: set = set()   # owned adjoints a loop's next iteration may not own
        self.spreads: Dict[str, gast.AST] = {}     # da -> ds where da = unsum(ds, a)
        self.written_by_element = {stored_name(s) for s in statements if is_store(s)}
        # names that may share an array (v = C[0:2]): restoring C's elements is for v too
        self.sharing: Dict[str, set] = {}
        for stmt in statements:
            if isinstance(stmt, gast.Assign) and not is_store(stmt):
                source = aliased(stmt.value)
                if source is not None:
                    group = self.sharing.get(source, {source}) | \
                        self.sharing.get(stmt.targets[0].id, {stmt.targets[0].id})
                    for member in group:
                        self.sharing[member] = group

    # -- driver -------------------------------------------------------------

    def run(self) -> Generated:
        output = self.lowered.output
        seeds = []  # (checkpoint.py) one seed per returned value
        if isinstance(output, tuple) and self.seed_each:
            seeded = [self._seed_output(o) for o in output]
            output, seeds = seeded[0][0], [seed for _, seed in seeded]
        if isinstance(output, tuple):
            raise NonScalarOutputError(
                f"grad needs a scalar output, but {self.lowered.func.name} returns a "
                f"tuple of {len(output)} values", _output_location(self.analysed),
                hint="return one scalar (e.g. a sum of the parts), or use "
                     "s2sad.jacobian for several outputs")
        if not isinstance(output, gast.Name) or not is_local(output):
            output = self._bind_output(output)
        seed = seeds[0] if seeds else self.namer.adjoint(output.id)
        self.adjoints[output.id] = seed
        self.live.add(output.id)
        primal = self.forward_block(self.lowered.body, in_loop=False)
        if not self.analysed.output_scalar and not self.pullback:
            primal.append(gast.Expr(value=call("require_scalar", [name(output.id)])))
        for stack in sorted(self.stacks):
            self.emit(assign(self.adjoint_name(stack), gast.List(elts=[], ctx=gast.Load())))
        self.reverse_block(self.lowered.body)
        results = [self.gradient_of(p) for p in self.analysed.wrt]
        sweep = self.blocks[0]
        stored = self.decide_stores()
        if self.index_stores and not self.index_numbers_only:
            self.keep_shapes_only(stored, sweep)
        value = results[0] if len(results) == 1 else gast.Tuple(elts=results,
                                                                 ctx=gast.Load())
        if self.with_value:
            held = [self.held_value(atom, stored, primal)
                    for atom in (output,) + tuple(self.lowered.aux)]
            returned = held[0] if len(held) == 1 else gast.Tuple(elts=held, ctx=gast.Load())
            value = gast.Tuple(elts=[returned, value], ctx=gast.Load())
        # a value a loop's first iteration stores before any is bound: a placeholder
        # (0.0 for a number, so the tape holds numbers only)
        entry = [assign(n, constant(self._placeholder(n))) for n in sorted(self.preset)]
        # the stack of stored values; a global of the user's called tape keeps its name
        taken = "tape" in self.lowered.namespace or "tape" in self.primal_names
        tape = self.namer.version("tape") if taken else "tape"
        if stored:
            entry.append(assign(tape, gast.List(elts=[], ctx=gast.Load())))
        body = entry + _resolved(primal, tape) + _resolved(sweep, tape) + \
            [gast.Return(value=value)]
        if self.index_stores and stored:
            body = indexed_stores(body, tape, self.namer,
                                  self.is_float_number if self.index_numbers_only else None)
        func = gast.FunctionDef(
            name=self.function_name, args=self.signature(seed, seeds), body=body,
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        namespace = {**(self.lowered.namespace or self.lowered.parsed.namespace),
                     **self.rule_modules}
        if seeds:
            seed, output = ", ".join(seeds), gast.Name(
                id=", ".join(o.id for o in self.lowered.output), ctx=gast.Load())
        return Generated(func, self.header(seed, output.id, stored), self.lowered.func.name,
                         namespace, self.versions(), self.lowered.parsed.global_names,
                         tuple(seeds) or (seed,), dict(self.adjoints), self.companions)

    def keep_shapes_only(self, stored: List[_Slot], sweep: List[Any]) -> None:
        """A stored array the adjoint sweep reads only for its shape and dtype (the
        `l` of `unbroadcast(dl, l)`, `zeros_like(l)`) is stored as shape_of(l): O(1)
        memory a step instead of a copy of the array (an LSTM step's temporaries).
        Reads before the backward loop that restores it see the last value, not a
        stored one: they may read values."""
        order, parents = {}, {}
        _layout(self.lowered.body, order, parents, ())
        reads_from: Dict[Optional[int], Dict[str, List[bool]]] = {}
        for slot in stored:
            v = slot.name
            chain = parents.get(id(slot.stmt), ())
            outermost = chain[0] if chain else None
            if outermost not in reads_from:
                start = next((k for k, item in enumerate(sweep) if outermost is not None and
                              isinstance(item, gast.For) and
                              get_anno(item, "loop") == outermost), 0)
                reads_from[outermost] = {}
                _shape_reads(sweep[start:], reads_from[outermost])
            reads = reads_from[outermost]
            if isinstance(slot.target, gast.Name) and v in reads and all(reads[v]) and \
                    self.sharing.get(v, {v}) == {v} and v not in self.written_by_element and \
                    self.analysed.class_of(name(v)) != "scalar":
                slot.shape_only = True

    def held_value(self, atom: gast.AST, stored: List[_Slot], primal: List[gast.stmt]) -> gast.AST:
        """A value returned beside the gradient (the output, has_aux's values), kept
        aside where the adjoint sweep restores an older value into its name."""
        if not isinstance(atom, gast.Name) or not is_local(atom):
            return atom
        if not any(s.name == atom.id or s.name in self.sharing.get(atom.id, ())
                   for s in stored):
            return name(atom.id)
        kept = self.namer.named(f"{atom.id}_value")
        snapshot = name(atom.id) if atom.id not in self.written_by_element else \
            call("np.copy", [name(atom.id)])
        primal.append(assign(kept, snapshot))
        return name(kept)

    def _placeholder(self, v: str) -> Any:
        """What a name holds before a loop first binds it (its first store keeps it):
        0 for an index, 0.0 for a number, so the tape holds numbers; None otherwise."""
        if v in self.lowered.int_names:
            return 0
        return 0.0 if self.analysed.class_of(name(v)) == "scalar" else None

    def is_float_number(self, v: str) -> bool:
        """A number that depends on the differentiated inputs (all floats): rank 0."""
        return v in self.analysed.varied and self.analysed.ranks.get(v) == 0 and \
            v not in self.lowered.int_names

    def _bind_output(self, output: gast.AST) -> gast.Name:
        """A constant or global output gets a name of its own, so it has a seed."""
        target = self.namer.named(self.lowered.func.name)
        self.lowered.body.append(assign(target, output))
        set_anno(self.lowered.body[-1], "origin", (self.lowered.func.lineno, ""))
        self.primal_names.add(target)
        return name(target)

    def versions(self) -> Dict[str, str]:
        """x_1 -> x for every version, then dx_1 -> dx for their adjoints."""
        versions = dict(self.lowered.versions)
        for version, base in self.lowered.versions.items():
            if version not in self.adjoints:
                continue
            if base in self.adjoints:
                versions[self.adjoints[version]] = self.adjoints[base]
            elif self.namer.is_free(f"d{base}"):
                versions[self.adjoints[version]] = f"d{base}"
        return versions

    def _seed_output(self, output: gast.AST) -> tuple:
        """(checkpoint.py) A returned value's name, bound afresh where it is not a local
        or is returned twice, and its seed."""
        if not isinstance(output, gast.Name) or not is_local(output) or \
                output.id in self.adjoints:
            output = self._bind_output(output)
        seed = self.namer.adjoint(output.id)
        self.adjoints[output.id] = seed
        self.live.add(output.id)
        return output, seed

    def signature(self, seed: str, seeds: Sequence[str] = ()) -> gast.arguments:
        args = clone(self.lowered.func.args)
        if seeds:  # (checkpoint.py) step_adjoint(i, y, t, dy, dt): positional seeds
            args.args.extend(name(s, gast.Param()) for s in seeds)
            return args
        # keyword-only: one positional argument too many must not become the seed
        args.kwonlyargs.append(name(seed, gast.Param()))
        args.kw_defaults.append(constant(1.0))
        return args

    def header(self, seed: str, output: str, stored: List[_Slot]) -> List[str]:
        parsed = self.lowered.parsed
        active = sorted(self.analysed.active, key=self._definition_order)
        if stored:
            listed = ", ".join(
                f"{'the shape of ' if s.shape_only else ''}{_text(s.target)} "
                f"(line {get_anno(s.stmt, 'origin')[0]}"
                f"{', each iteration' if s.in_loop else ''})" for s in stored)
            stores = f"  stored:        {listed}"
        elif any(isinstance(s, (gast.For, gast.While)) for s in self.lowered.body) or \
                any(isinstance(s, (gast.For, gast.While))
                    for s in walk_statements(self.lowered.body)):
            stores = "  stored:        nothing (loop indices are recomputed, no value is " \
                     "overwritten before the adjoint reads it)"
        else:
            stores = "  stored:        nothing (straight-line code keeps every value in a local)"
        return [
            f"Reverse-mode gradient of {parsed.name} ({parsed.filename}:"
            f"{parsed.func.lineno}), generated by s2sad.",
            f"  output:        {output} (seed {seed})",
            f"  differentiate: {', '.join(self.analysed.wrt)}",
            f"  active:        {', '.join(active) or '(none)'}",
            stores,
        ] + [f"  implicit:      {line}" for line in self.implicit_solves]

    def _definition_order(self, ssa_name: str) -> int:
        if ssa_name in self.lowered.params:
            return self.lowered.params.index(ssa_name) - len(self.lowered.params)
        if self._first_definitions is None:
            self._first_definitions = {}
            for index, stmt in enumerate(walk_statements(self.lowered.body)):
                self._first_definitions.setdefault(stored_name(stmt), index)
        return self._first_definitions.get(ssa_name, 1 << 30)

    def gradient_of(self, param: str) -> gast.AST:
        if param in self.live:
            return name(self.adjoints[param])
        zero_name = self.adjoint_name(param)
        zeros = call("np.zeros_like", [name(param)])
        self.blocks[-1].append(assign(zero_name, zeros))
        self.reads.append((None, False, {param}))
        return name(zero_name)

    # -- the forward sweep ------------------------------------------------------

    def forward_block(self, stmts: Sequence[gast.stmt], in_loop: bool) -> List[Any]:
        """The primal statements, each overwrite preceded by its slot.

        A simple statement is the lowered one itself, not a copy: no lowered node is
        in two statements, what the adjoint sweep takes from one it copies (atoms
        are cloned where they are placed), and nothing reads the lowered body after
        this stage, so the optimizer may rewrite these statements in place."""
        out: List[Any] = []
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                out.append(gast.If(test=clone(stmt.test),
                                   body=self.forward_block(stmt.body, in_loop),
                                   orelse=self.forward_block(stmt.orelse, in_loop)))
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                out.extend(self.forward_loop(stmt, in_loop))
                continue
            if isinstance(stmt, (gast.Break, gast.Pass)):
                out.append(type(stmt)())
                continue
            if isinstance(stmt, gast.Expr):  # a check (require_shapes) of re-read code
                out.append(stmt)
                continue
            if id(stmt) in self.analysed.guarded:
                location = get_anno(stmt, "location")
                updated, other = self.analysed.guarded[id(stmt)]
                if in_loop:  # the other name may be bound later in the body
                    self.preset |= {updated, other} - set(self.lowered.params)
                out.append(gast.Expr(value=call("require_unshared", [
                    name(updated), name(other), constant(location.line),
                    constant(location.col)])))
            target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
            slot = _Slot(_load(target), stmt, in_loop)
            self.slots[id(stmt)] = slot
            out.append(slot)
            out.append(stmt)
            if isinstance(target, gast.Name) and target.id in self.analysed.float_arrays:
                location = get_anno(stmt, "location")
                out.append(gast.Expr(value=call("require_float", [
                    name(target.id), constant(location.line), constant(location.col)])))
        return out

    def forward_loop(self, loop, in_loop: bool) -> List[Any]:
        out: List[Any] = []
        body = self.forward_block(loop.body, in_loop=True)
        counted = isinstance(loop, gast.While) or _breaks(loop.body)
        if counted:
            counter = self.namer.named("trips" if isinstance(loop, gast.While) else "runs")
            self.counters[id(loop)] = counter
            self.primal_names.add(counter)
            start = assign(counter, constant(0))
            slot = _Slot(name(counter), start, in_loop)
            set_anno(start, "origin", get_anno(loop, "origin"))
            self.slots[id(start)] = slot
            self.counters[("start", id(loop))] = start
            out += [slot, start]
            body.insert(0, assign(counter, gast.BinOp(left=name(counter), op=gast.Add(),
                                                     right=constant(1))))
        if isinstance(loop, gast.For):
            slot = _Slot(name(loop.target.id), loop, in_loop)
            self.slots[id(loop)] = slot
            out.append(slot)
            copied = gast.For(target=clone(loop.target), iter=clone(loop.iter), body=body,
                              orelse=[], type_comment=None)
            set_anno(copied, "loop", id(loop))  # (its adjoint loop has the same)
            out.append(copied)
        else:
            out.append(gast.While(test=clone(loop.test), body=body, orelse=[]))
        return out

    # -- the adjoint sweep --------------------------------------------------------

    def reverse_block(self, stmts: Sequence[gast.stmt]) -> None:
        for stmt in reversed(stmts):
            if isinstance(stmt, (gast.For, gast.While)):
                self.reverse_loop(stmt)
            elif isinstance(stmt, gast.If):
                self.reverse_if(stmt)
            elif is_push_statement(stmt):
                self.reverse_push(stmt)
            elif isinstance(stmt, (gast.Break, gast.Pass, gast.Expr)):
                continue
            else:
                start = len(self.blocks[-1])
                if is_store(stmt):
                    self.reverse_store(stmt)
                    self.restore(stmt)
                else:
                    self.reverse_assign(stmt)
                self.record(stmt, self.blocks[-1][start:])

    def record(self, stmt: gast.stmt, code: List[Any], inside: bool = False) -> None:
        """The primal names the adjoint code of `stmt` reads (`inside`: within its body)."""
        names = _loads(code) & self.primal_names
        if names:
            self.reads.append((stmt, inside, names))

    def restore(self, stmt: gast.stmt) -> None:
        slot = self.slots.get(id(stmt))
        if slot is not None:
            self.blocks[-1].append(_Restore(slot))

    def reverse_push(self, stmt: gast.Expr) -> None:
        """tape.append(v)  ->  dv += dtape.pop() (the adjoint pushed where v was popped)."""
        tape = stmt.value.func.value.id
        if tape not in self.stacks:
            return
        self.set_comment(stmt)
        popped = call(f"{self.adjoint_name(tape)}.pop", [])
        value = stmt.value.args[0]
        if self.analysed.is_active(value):
            self.accumulate(value, popped)
        else:
            self.emit(gast.Expr(value=popped))

    def reverse_pop(self, stmt: gast.Assign) -> None:
        """v = tape.pop()  ->  dtape.append(dv): v's adjoint goes back with the value."""
        target = stmt.targets[0].id
        tape = stmt.value.func.value.id
        if tape in self.stacks:
            self.set_comment(stmt)
            if target in self.live:
                pushed = name(self.adjoints[target])
                self.owned.discard(self.adjoints[target])
            elif self.analysed.class_of(name(target)) == "scalar" or \
                    target not in self.analysed.active:
                pushed = constant(0.0)
            else:
                pushed = call("zeros_like", [name(target)])
            self.emit(gast.Expr(value=call(f"{self.adjoint_name(tape)}.append", [pushed])))
        self.live.discard(target)
        self.restore(stmt)

    def reverse_assign(self, stmt: gast.Assign) -> None:
        target = stmt.targets[0].id
        if op_key(stmt.value) is TAPE_POP:
            self.reverse_pop(stmt)
            return
        deferred: List[Tuple[gast.AST, gast.AST]] = []
        if target in self.analysed.active and target in self.live:
            self.set_comment(stmt)
            # patterns.py: a form's last line differentiated as the one call it computes
            value = get_anno(stmt, "pattern") or stmt.value
            dy = name(self.adjoints[target])
            key = op_key(value)
            if key is None:
                self.accumulate(value, dy, deferred, target)
            elif key is operator.getitem:
                self.indexed(value, dy)
            elif key is tuple:
                raise UnsupportedSyntaxError(
                    "a tuple or list of values that depend on the inputs is not supported "
                    "here", get_anno(stmt, "location"),
                    hint="keep the values in separate names, or join them into one "
                         "array (np.array([...]), np.stack, np.concatenate)")
            elif rules.is_differentiable(key):
                self.apply_rule(key, value, name(target), dy, stmt, deferred, target)
        self.live.discard(target)   # what comes before sees the adjoint of the old value
        self.restore(stmt)
        for operand, contribution in deferred:
            if not self._keeps_shape(stmt.value, target):
                contribution = self.reduced(contribution, operand)
            self.accumulate(operand, contribution)

    def _keeps_shape(self, value: gast.AST, target: str) -> bool:
        """Does s = s + t give s its old shape back? (0.0 + vector does not.)"""
        if self.analysed.class_of(name(target)) == "scalar":
            return True
        own = self.analysed.class_of(name(target))
        return all(self.analysed.class_of(o) == "scalar" or
                   own is not None and self.analysed.class_of(o) == own
                   for o in op_operands(value) if not _is_name(o, target))

    def reverse_store(self, stmt: gast.stmt) -> None:
        """c[i] = e: de += dc[i], then dc[i] = 0;  c[i] += e: de += dc[i]."""
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        base = target.value.id
        if base not in self.analysed.active or base not in self.live:
            return
        self.set_comment(stmt)
        adjoint = self.adjoint_target(name(base))  # an array of our own (the seed is 1.0)
        dy: gast.AST = gast.Subscript(value=name(adjoint), slice=clone(target.slice),
                                      ctx=gast.Load())
        augmented = isinstance(stmt, gast.AugAssign)
        if augmented and isinstance(stmt.op, gast.Sub):
            dy = gast.UnaryOp(op=gast.USub(), operand=dy)
        value = stmt.value
        if op_key(value) is None:
            element = gast.Subscript(value=name(base), slice=clone(target.slice),
                                     ctx=gast.Load())
            if self.analysed.is_active(value) and \
                    not self.analysed.same_shape(value, element):
                dy = call("unbroadcast", [dy, clone(value)])  # C[i] = x[0]
            if self.analysed.is_active(value):
                if not augmented and isinstance(value, gast.Name) and \
                        value.id not in self.live and \
                        self.analysed.class_of(value) != "scalar":
                    dy = gast.Call(func=gast.Attribute(value=dy, attr="copy", ctx=gast.Load()),
                                   args=[], keywords=[])
                self.accumulate(value, dy)
        elif op_key(value) is operator.getitem:
            self.indexed(value, dy)
        else:
            y = gast.Subscript(value=name(base), slice=clone(target.slice),
                               ctx=gast.Load())
            self.apply_rule(op_key(value), value, y, dy, stmt)
        if not augmented:
            owner = self.adjoint_target(name(base))
            zero = gast.Subscript(value=name(owner), slice=clone(target.slice),
                                  ctx=gast.Store())
            self.emit(gast.Assign(targets=[zero], value=constant(0.0), type_comment=None))

    def reverse_loop(self, loop) -> None:
        touched = self.touched(loop.body)
        local = {v for v in touched if self.is_local_to(v, loop)}
        carried = sorted(touched - local, key=self._definition_order)
        indexed = self.indexed_names(loop.body)
        fresh = self.read_once_per_index(loop, carried)
        # arrays the loop only reads (a weight matrix): their adjoints, owned on entry,
        # take each iteration's contribution in place (dW += h.T @ dz, not a new dW)
        bound = {stored_name(s) for s in walk_statements(loop.body)}
        owning = indexed | {v for v in carried if v not in bound and
                            self.analysed.class_of(name(v)) not in (None, "scalar")}
        start = len(self.blocks[-1])
        for v in carried:
            self.materialize(v, v in owning)
        self.record(loop, self.blocks[-1][start:])
        entry_owned = {self.adjoints[v] for v in carried
                       if v in owning and self.adjoints[v] in self.owned}
        # (owned before the loop, but maybe not when another iteration ends: no +=)
        unsure, self.unsure = self.unsure, self.unsure | (
            {self.adjoints[v] for v in carried} - entry_owned)
        for v in local:
            self.live.discard(v)  # nothing outside the loop adds to it
        self.blocks.append([])
        self.pending_comment = None
        for binding in self.recomputable_indices(loop):
            slot = self.slots[id(binding)]
            slot.recomputable = True
            self.blocks[-1].append(_Recompute(slot))
        enclosing, self.first_element = self.first_element, {v: loop.target.id for v in fresh}
        self.loops.append(loop)
        self.reverse_block(loop.body)
        self.loops.pop()
        self.unsure = unsure
        self.first_element = enclosing
        start = len(self.blocks[-1])
        for v in carried:
            self.materialize(v, self.adjoints[v] in entry_owned)
        self.record(loop, self.blocks[-1][start:], inside=True)
        self.owned &= entry_owned | (self.owned - {self.adjoints[v] for v in carried})
        body = self.blocks.pop() or [gast.Pass()]
        self.pending_comment = None
        counter = self.counters.get(id(loop))
        if isinstance(loop, gast.While):
            index = self.namer.named("_")
            iterate = gast.Call(func=name("range"), args=[name(counter)], keywords=[])
        else:
            index = loop.target.id
            iterate = _backwards(loop.iter, counter)
        backwards = gast.For(target=name(index, gast.Store()), iter=iterate, body=body,
                             orelse=[], type_comment=None)
        set_anno(backwards, "comment", f"adjoint of the loop at line "
                                       f"{get_anno(loop, 'origin')[0]}, run backwards")
        set_anno(backwards, "loop", id(loop))
        self.blocks[-1].append(backwards)
        self.record(loop, [gast.Expr(value=iterate)])
        self.restore(loop)
        if counter is not None:
            self.restore(self.counters[("start", id(loop))])

    def reverse_if(self, branch: gast.If) -> None:
        live, owned = set(self.live), set(self.owned)
        outcomes = []
        for block in (branch.body, branch.orelse):
            self.live, self.owned = set(live), set(owned)
            self.blocks.append([])
            self.pending_comment = None
            self.reverse_block(block)
            outcomes.append((self.blocks.pop(), self.live, self.owned))
        merged = outcomes[0][1] | outcomes[1][1]
        finished = []
        for statements, branch_live, branch_owned in outcomes:
            self.blocks.append(statements)
            self.live, self.owned = branch_live, branch_owned
            start = len(statements)
            for v in sorted(merged - branch_live, key=self._definition_order):
                self.materialize(v, False)
            self.record(branch, statements[start:], inside=ENTRY)
            finished.append((self.blocks.pop(), self.owned))
        self.live = merged
        self.owned = finished[0][1] & finished[1][1]
        self.pending_comment = None
        self.record(branch, [gast.Expr(value=branch.test)])
        if finished[0][0] or finished[1][0]:
            self.blocks[-1].append(gast.If(test=clone(branch.test),
                                           body=finished[0][0] or [gast.Pass()],
                                           orelse=finished[1][0]))

    def recomputable_indices(self, loop) -> List[gast.stmt]:
        """Integer bindings at the top level of a counted loop's body, `x = z + y`,
        whose value each backward iteration can compute again: x is bound once, used
        only in this body and first bound there, and computed by integer arithmetic
        from the counters of the loops around it and names those loops never bind
        (or indices recomputed before it)."""
        if not isinstance(loop, gast.For) or id(loop) in self.counters or \
                not isinstance(loop.target, gast.Name):
            return []
        outermost = (self.loops or [loop])[0]
        bound_inside = {stored_name(s) for s in walk_statements([outermost])}
        counters = {l.target.id for l in self.loops + [loop]
                    if isinstance(l, gast.For) and isinstance(l.target, gast.Name)}
        if any(stored_name(s) in counters for s in walk_statements(outermost.body)
               if not isinstance(s, gast.For)):
            return []  # a counter changed inside the body: keep the plain tape
        known = set(counters)
        found = []
        for stmt in loop.body:
            if not isinstance(stmt, gast.Assign) or is_store(stmt) or \
                    not isinstance(stmt.targets[0], gast.Name):
                continue
            target = stmt.targets[0].id
            if target not in self.lowered.int_names or target in self.analysed.active or \
                    self.analysed.definitions.get(target, 0) != 1 or \
                    not _index_arithmetic(stmt.value):
                continue
            operands = set(local_names_in(stmt.value))
            if not all(o in known or o not in bound_inside for o in operands):
                continue
            mentions = self._count(loop.body, target)
            if mentions != self._count(self.lowered.body, target) or \
                    not self._bound_first(target, loop.body, mentions):
                continue
            known.add(target)
            found.append(stmt)
        return found

    # -- what a loop touches --------------------------------------------------------

    def touched(self, body: Sequence[gast.stmt]) -> set:
        """Active names whose adjoint the loop's adjoint may read or change."""
        names = set()
        for stmt in walk_statements(body):
            names.update(n.id for n in names_in(stmt))
        return (names & self.analysed.active) - self.stacks

    def is_local_to(self, v: str, loop) -> bool:
        """Used only inside the loop, and bound at the top of its body (or of a loop in
        it) before any use: its adjoint is zero whenever a backward iteration starts
        or ends, so it needs no zeros and its first contribution is assigned."""
        if v == self.lowered.output_name or v in self.lowered.params:
            return False
        inside = self._count(loop.body, v)
        if inside != self._count(self.lowered.body, v):
            return False
        return self._bound_first(v, loop.body, inside)

    def _count(self, block: Sequence[gast.stmt], v: str) -> int:
        """How many statements of `block` (at any depth) mention v."""
        key = id(block)
        counts = self._counts.get(key)
        if counts is None:
            counts = {}
            for stmt in walk_statements(block):
                for n in self.mentions[id(stmt)]:
                    counts[n] = counts.get(n, 0) + 1
            self._counts[key] = counts
        return counts.get(v, 0)

    def _bound_first(self, v: str, block: Sequence[gast.stmt], mentions: int) -> bool:
        """The first statement of `block` that mentions v binds it, once and for all
        (or a loop or one branch in the block holds every mention and binds it first)."""
        for stmt in block:
            inner = (v in self.mentions[id(stmt)]) + (
                self._count(stmt.body, v) + self._count(stmt.orelse, v)
                if isinstance(stmt, (gast.For, gast.While, gast.If)) else 0)
            if not inner:
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                return inner == mentions and v not in self.mentions[id(stmt)] and \
                    self._bound_first(v, stmt.body, mentions)
            if isinstance(stmt, gast.If):
                if v in self.mentions[id(stmt)]:
                    return False
                for branch in (stmt.body, stmt.orelse):
                    if self._count(branch, v) == mentions:
                        return self._bound_first(v, branch, mentions)
                return False
            return isinstance(stmt, gast.Assign) and not is_store(stmt) and \
                stmt.targets[0].id == v and v not in local_names_in(stmt.value) and \
                self.analysed.definitions.get(v, 0) == 1
        return False

    def read_once_per_index(self, loop, carried: Sequence[str]) -> set:
        """Arrays the loop reads only as v[i], i its own index, in plain statements of
        its body, and whose adjoint is zero on entry: each iteration's first
        contribution to dv[i] is the element's first, so it is assigned (dv[i] = e)."""
        if not isinstance(loop, gast.For) or id(loop) in self.counters or \
                get_anno(loop.iter.func, "resolved") is not builtins.range or \
                not _never_wraps(loop.iter):
            return set()
        index = loop.target.id
        found = set()
        for v in carried:
            if v in self.live:
                continue
            uses = [n for stmt in walk_statements(loop.body) for n in walk(stmt)
                    if isinstance(n, gast.Name) and n.id == v]
            subscripts = [n for stmt in loop.body if isinstance(stmt, gast.Assign)
                          and not is_store(stmt) for n in walk(stmt.value)
                          if isinstance(n, gast.Subscript) and _is_name(n.value, v)]
            if uses and len(uses) == len(subscripts) and \
                    all(_is_name(n.slice, index) for n in subscripts):
                found.add(v)
        return found

    def indexed_names(self, body: Sequence[gast.stmt]) -> set:
        """Names whose adjoint the loop writes element by element (it must own it):
        arrays read by element (da[i] += ...) and arrays overwritten by element
        (dc[i] = 0.0 after the adjoint of c[i] = e)."""
        names = set()
        for stmt in walk_statements(body):
            if isinstance(stmt, gast.Assign) and is_store(stmt):
                names.add(stored_name(stmt))
            parts = [stmt.value] if isinstance(stmt, (gast.Assign, gast.AugAssign)) else []
            for node in (n for part in parts for n in walk(part)):
                if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
                    names.add(node.value.id)
        return names

    def materialize(self, v: str, own: bool) -> None:
        """Give v's adjoint a real value here: zeros if it is known zero so far."""
        adjoint = self.adjoint_name(v)
        self.spreads.pop(adjoint, None)  # a loop is about to add to it
        if v not in self.live:
            scalar = self.analysed.class_of(name(v)) == "scalar" and not own
            zero = constant(0.0) if scalar else call("zeros_like", [name(self._same_shape(v))])
            self.blocks[-1].append(assign(adjoint, zero))
            self.live.add(v)
            self.owned.add(adjoint)
            if not scalar and v not in self.lowered.params and not self._bound_on_entry(v):
                self.preset.add(v)
        elif own and adjoint not in self.owned:
            self.blocks[-1].append(assign(adjoint, call("np.copy", [name(adjoint)])))
            self.owned.add(adjoint)

    def _same_shape(self, v: str) -> str:
        """A name that holds an array of v's shape wherever v's zero adjoint is made:
        a differentiated argument bound once (a float array, never overwritten, so
        nothing need be stored to read its shape), else v itself."""
        shape = self.analysed.class_of(name(v))
        if shape is not None:
            for p in self.analysed.wrt:
                if self.analysed.definitions.get(p) == 1 and p not in self.written_by_element \
                        and self.analysed.class_of(name(p)) == shape:
                    return p
        return v

    def _bound_on_entry(self, v: str) -> bool:
        return any(isinstance(s, gast.Assign) and not is_store(s) and s.targets[0].id == v
                   for s in self.lowered.body)

    # -- stores ----------------------------------------------------------------

    def decide_stores(self) -> List[_Slot]:
        """Store a value only if the adjoint sweep reads it after it is overwritten.

        A read comes after the overwrite's restore when it belongs to a statement
        earlier in the function (not enclosing it), or to any statement of a loop
        around both (a later backward iteration)."""
        order, parents = {}, {}
        _layout(self.lowered.body, order, parents, ())
        for key, start in self.counters.items():
            if isinstance(key, tuple):
                loop = self.statement_of[key[1]]
                order[id(start)], parents[id(start)] = order[id(loop)], parents[id(loop)]
        slots = [slot for slot in self.slots.values()
                 if self._overwrites(slot) and not self._same_every_time(slot, parents)]
        readers: Dict[str, List[Tuple[Any, bool]]] = {}   # name -> the reads of it
        for stmt, inside, names in self.reads:
            for read in names:
                readers.setdefault(read, []).append((stmt, inside))
        changed = True
        while changed:
            changed = False
            for slot in slots:
                if slot.stored:
                    continue
                sharing = self.sharing.get(slot.name, {slot.name})
                if any(self._read_after(slot, stmt, inside, order, parents)
                       for read in sharing for stmt, inside in readers.get(read, ())):
                    changed = True
                    if slot.recomputable:
                        slot.recomputed = True  # its operands are read where it was
                        for read in set(local_names_in(slot.stmt.value)):
                            readers.setdefault(read, []).append((slot.stmt, False))
                        slots.remove(slot)
                        break
                    slot.stored = True
                    index_names = set(local_names_in(slot.target)) - {slot.name}
                    for read in index_names:
                        readers.setdefault(read, []).append((slot.stmt, False))
        stored = [s for s in self.slots.values() if s.stored]
        for slot in stored:
            if isinstance(slot.target, gast.Name) and slot.name not in self.lowered.params \
                    and not self._bound_before(slot, order, parents):
                self.preset.add(slot.name)
        return sorted(stored, key=lambda s: order.get(id(s.stmt), 0))

    def _read_after(self, slot: _Slot, reader, inside: bool, order, parents) -> bool:
        if reader is None:
            return True  # the zero gradient of an argument, read at the very end
        own = id(slot.stmt)
        reader_chain = parents[id(reader)] + ((id(reader),) if inside else ())
        if own in reader_chain and isinstance(slot.stmt, gast.For):
            return False  # the backward loop binds its own index
        loops = {p for p in parents[own] if p in self.loop_ids}
        if loops & (set(reader_chain) | {id(reader)}):
            return True  # a later backward iteration reads it
        if reader is slot.stmt and not inside:
            return False  # the statement's own adjoint runs before the restore
        if id(reader) in parents[own]:
            # an enclosing header runs before the body's restores; the zeros a branch
            # gives a name at its entry (`dy = zeros_like(y)`) run after them
            return inside is ENTRY
        return order[id(reader)] < order[own]

    def _same_every_time(self, slot: _Slot, parents) -> bool:
        """`a = -lam` in a loop that never changes lam: what it overwrites is what it
        writes (after the first time, and the first value is never read back). So is
        `e = 1.0 - d` after `d = np.eye(n)`: d is bound afresh each time, to the same."""
        stmt = slot.stmt
        if not parents[id(stmt)]:
            return False
        outermost = parents[id(stmt)][0]
        invariant = self._invariant_in.get(outermost)
        if invariant is None:
            invariant = self._invariant_in[outermost] = \
                self.loop_invariants(self.statement_of[outermost])
        return slot.name in invariant

    def loop_invariants(self, loop) -> set:
        """Names the loop binds once, each time to the same value: pure operations on
        names it never changes or on such names, never written into."""
        statements = list(walk_statements([loop]))
        changing = {stored_name(s) for s in statements}
        candidates = {}
        for stmt in statements:
            if not isinstance(stmt, gast.Assign) or is_store(stmt) or \
                    not isinstance(stmt.targets[0], gast.Name):
                continue
            target = stmt.targets[0].id
            key = op_key(stmt.value)
            if self.analysed.definitions.get(target, 0) != 1 or \
                    key is not None and not isinstance(stmt.value, (gast.BinOp, gast.UnaryOp)) \
                    and not _library_function(key) and key not in FRESH_ARRAYS or \
                    self.sharing.get(target, {target}) & self.written_by_element:
                continue  # a new value (or a new array, written into) each time
            candidates[target] = set(local_names_in(stmt.value))
        invariant: set = set()
        changed = True
        while changed:
            changed = False
            for target, reads in candidates.items():
                if target not in invariant and target not in reads and \
                        all(r not in changing or r in invariant for r in reads):
                    invariant.add(target)
                    changed = True
        return invariant

    def _bound_before(self, slot: _Slot, order, parents) -> bool:
        """Is the name bound at the top level before the slot's statement can run?"""
        top = parents[id(slot.stmt)][0] if parents[id(slot.stmt)] else id(slot.stmt)
        if self._top_bindings is None:  # name -> where the top level first binds it
            self._top_bindings = {}
            for s in self.lowered.body:
                if isinstance(s, gast.Assign) and not is_store(s):
                    self._top_bindings.setdefault(stored_name(s), order[id(s)])
        return self._top_bindings.get(slot.name, 1 << 30) < order[top]

    def _overwrites(self, slot: _Slot) -> bool:
        """Can a value of the name (or element) be there already when the statement runs?"""
        if isinstance(slot.target, gast.Subscript) or slot.in_loop or \
                slot.name in self.lowered.params:
            return True
        here = self.position.get(id(slot.stmt),
                                 self.position.get(id(self._loop_of(slot.stmt)), 0))
        return self.first_binding.get(slot.name, here) < here

    def _loop_of(self, start: gast.stmt):
        """The loop a trip counter's `trips = 0` was made for."""
        for key, value in self.counters.items():
            if isinstance(key, tuple) and value is start:
                return next(s for s in walk_statements(self.lowered.body) if id(s) == key[1])
        return None

    # -- one operation ------------------------------------------------------------

    def set_comment(self, stmt: gast.stmt) -> None:
        line, text = get_anno(stmt, "origin")
        comment = f"adjoint of line {line}: {_shorten(text)}"
        if comment != self.pending_comment:
            self.pending_comment = comment
            self.comment_next = comment
        else:
            self.comment_next = None

    def apply_rule(self, key: Any, value: gast.AST, y: gast.AST, dy: gast.AST,
                   stmt: gast.stmt, deferred: Optional[list] = None,
                   target: Optional[str] = None) -> None:
        if key in implicit.SOLVERS:
            self.implicit_adjoint(implicit.solve_of(value, get_anno(value, "location")),
                                  value, y, dy)
            return
        rule = rules.lookup(key)
        location = get_anno(value, "location") or get_anno(stmt, "location")
        if rule is None:
            raise rules.missing_rule_error(
                key, location, self.lowered.namespace or self.lowered.parsed.namespace,
                arity=len(value.args) if isinstance(value, gast.Call) else None)
        bound = self.bind(rule, value, location)
        sequences = {p: a for p, a in bound.items() if _is_sequence(a) and any(
            self.analysed.is_active(e) for e in walk(a))}
        if sequences and rule.kind == "partials":
            raise UnsupportedSyntaxError(
                f"a tuple or list of values that depend on the inputs, passed to "
                f"{rule.label}, is not supported", location,
                hint="pass each array on its own, or stack them first (np.stack)")
        active = {p: a for p, a in bound.items()
                  if self.analysed.is_active(a) or p in sequences}
        ranks = self.analysed.known_ranks({"y": y, **bound}) if rule.template.uses_ranks else None
        if rule.kind == "partials":
            statements, returned = instantiate(rule.template, {"y": y, **bound,
                                               **self.template_modules(rule.template)},
                                               self._template_local, ranks=ranks)
            partials = returned.elts if isinstance(returned, gast.Tuple) else [returned]
            self.emit_all(statements)
            for param, partial in zip(rule.params, partials):
                if param not in active or _is_none(partial):
                    continue
                contribution = _times(self.spread_or(dy, partial, y), partial)
                operand = active[param]
                if deferred is not None and _is_name(operand, target):
                    deferred.append((operand, contribution))
                    continue
                if rule.elementwise and not self.analysed.same_shape(operand, y):
                    contribution = self.reduced(contribution, operand)
                self.accumulate(operand, contribution)
        else:
            # a template's *args (np.einsum's operands): d<args> is the adjoint of the one
            # at `position`, instantiated for each active element in turn
            varargs = rule.template.varargs
            each = [k for k, e in enumerate(bound[varargs].elts) if self.analysed.is_active(e)
                    or _is_sequence(e) and any(self.analysed.is_active(n) for n in walk(e))] \
                if varargs in sequences else []
            each = each or [None]  # (position None: the adjoints of all, indexable)
            for k in each:
                self.adjoint_from_template(rule, dy, y, bound if k is None else
                                           {**bound, "position": constant(k)},
                                           active, sequences, ranks, k, k == each[0])

    def adjoint_from_template(self, rule: rules.Rule, dy: gast.AST, y: gast.AST,
                              bound: Dict[str, gast.AST], active, sequences, ranks,
                              element: Optional[int], first_round: bool) -> None:
        """One instantiation of an adjoint template: d<param> accumulated into the
        argument (or into element `element` of the *args), the rest emitted."""
        keep = tuple(f"d{p}" for p in rule.params)
        statements, _ = instantiate(rule.template, {"dy": dy, "y": y, **bound,
                                    **self.template_modules(rule.template)},
                                    self._template_local, keep=keep, ranks=ranks)
        for stmt_ in statements:
            target_ = stmt_.targets[0].id if isinstance(stmt_, gast.Assign) and \
                isinstance(stmt_.targets[0], gast.Name) else None
            if target_ in keep:
                param = rule.params[keep.index(target_)]
                if element is not None and param == rule.template.varargs:
                    operand = bound[param].elts[element]
                elif not first_round:
                    continue  # (another parameter's adjoint: accumulated once)
                else:
                    operand = sequences.get(param, active.get(param))
                if _is_sequence(operand):
                    # a list: each element its piece (np.concatenate([a, b]), or an
                    # operand of np.einsum('i,i', [a, b], x))
                    self.accumulate_elements(operand, stmt_.value)
                elif operand is not None:
                    first = is_local(operand) and operand.id not in self.live
                    self.accumulate(operand, stmt_.value)
                    if first:
                        self.note_spread(operand, stmt_.value)
            else:
                if isinstance(stmt_, gast.Assign):
                    self._share_names_in(stmt_.value)
                self.emit(stmt_)

    def implicit_adjoint(self, solve: "implicit.Solve", value: gast.Call, y: gast.AST,
                         dy: gast.AST) -> None:
        """x = fixed_point(g, x0, *θ) (or a root): seed 002's multiplier of the cyclic
        constraint, lam = g_multiplier(dx, x, *θ), then θ̄ += (∂g/∂θ)ᵀ lam; x0 has none
        (the solution does not depend on where the iteration starts)."""
        x0, params = value.args[1], value.args[2:]
        active = tuple(k for k, p in enumerate(params) if self.analysed.is_active(p))
        if not active:
            return
        ranks = self.analysed.known_ranks({"y": y, "x0": x0, **{f"p{k}": p for k, p in
                                                                 enumerate(params)}})
        x_rank = ranks.get("y") if ranks.get("y") is not None else ranks.get("x0")
        ranks = (x_rank, *(ranks.get(f"p{k}") for k in range(len(params))))
        mode = "reverse read back" if self.read_back else "reverse"
        companion = solve.companion(mode, active, None if all(r is None for r in ranks)
                                    else ranks, (_text(y), [_text(p) for p in params]))
        multiplier = self.bound_companion(companion.name, companion.function)
        pullback = self.bound_companion(companion.pullback_name, companion.pullback)
        if multiplier not in self.companions:
            self.implicit_solves.append(
                f"{_text(y)} = {solve.kind}({implicit._name(solve.function)}, ...): "
                f"multipliers by {multiplier} (below)")
        self.companions[multiplier] = companion.source
        self.companions[pullback] = ""  # (its text is the multiplier's companion's)
        lam = self.namer.named("lam")
        arguments = [clone(dy), clone(y)] + [clone(p) for p in params]
        self.emit(assign(lam, self.multiplier_solve(solve, multiplier, arguments)
                         if self.read_back else call(multiplier, arguments)))
        pulled = gast.Call(func=name(pullback), args=[clone(y)] + [clone(p) for p in params],
                           keywords=[gast.keyword(arg=companion.pullback_seed, value=name(lam))])
        g, x = implicit._name(solve.function), _text(y)
        self.comment_next = (f"seed 002: {lam} solves (I - ∂{g}/∂{x})ᵀ {lam} = {_text(dy)}, "
                             f"then dθ = (∂{g}/∂θ)ᵀ {lam}" if solve.kind == "fixed_point"
                             else f"seed 002: {lam} solves (∂{g}/∂{x})ᵀ {lam} = "
                             f"-{_text(dy)}, then dθ = (∂{g}/∂θ)ᵀ {lam}")
        if len(active) == 1:
            self.accumulate(params[active[0]], pulled)
        else:
            self.accumulate_unpacked([params[k] for k in active], pulled)

    def multiplier_solve(self, solve: "implicit.Solve", step: str,
                         arguments: List[gast.AST]) -> gast.Call:
        """For code read back to be differentiated again: the multiplier as an implicit
        solve in turn, `fixed_point(g_multiplier_step, dx, dx, x, *θ)` (a root's
        residual for a root), which that code differentiates implicitly too."""
        options = [gast.keyword(arg="tol", value=constant(solve.tol)),
                   gast.keyword(arg="max_iter", value=constant(solve.max_iter))]
        if solve.kind == "fixed_point" and solve.method != "iterate":  # (the step is
            # affine: one dense solve, where the map need not contract)
            options.append(gast.keyword(arg="solver", value=name(self.bound_companion(
                "affine_fixed_point", implicit.affine_fixed_point))))
        solver = self.bound_companion(solve.kind, implicit.SOLVERS_BY_KIND[solve.kind])
        return gast.Call(func=name(solver), args=[name(step), clone(arguments[0])] +
                         arguments, keywords=options)

    def accumulate_unpacked(self, operands: List[gast.AST], value: gast.AST) -> None:
        """`value` a tuple of the operands' adjoint contributions, in order: `dW, db =
        value`, a first adjoint bound by the unpacking itself, others accumulated."""
        parts, direct = [], []
        for operand in operands:
            first = is_local(operand) and operand.id not in self.live and \
                operand.id not in direct
            parts.append(self.adjoint_name(operand.id) if first else self.namer.named(
                self.adjoint_name(operand.id) if is_local(operand) else "dtheta"))
            direct.append(operand.id if first else None)
        self.emit(gast.Assign(targets=[gast.Tuple(elts=[name(p, gast.Store()) for p in parts],
                                                  ctx=gast.Store())],
                              value=value, type_comment=None))
        for part, operand, bound in zip(parts, operands, direct):
            if bound is None:
                self.accumulate(operand, name(part))
                continue
            self.spreads.pop(part, None)
            self.live.add(bound)
            self.unsure.discard(part)
            self.owned.discard(part)

    def bound_companion(self, wanted: str, function: Any) -> str:
        """A name in the generated module for a companion function (implicit.py)."""
        for alias, bound in self.rule_modules.items():
            if bound is function:
                return alias
        alias = self.namer.named(wanted)
        self.rule_modules[alias] = function
        return alias

    def reduced(self, contribution: gast.AST, operand: gast.AST) -> gast.AST:
        """The contribution summed down to the operand's shape: np.sum for a number,
        unbroadcast otherwise; -np.sum(e) for -e, so the negation runs on the sum."""
        negated = isinstance(contribution, gast.UnaryOp) and \
            isinstance(contribution.op, gast.USub)
        summed = contribution.operand if negated else contribution
        if self.analysed.class_of(operand) == "scalar" and self.is_dot(summed):
            summed = call("np.vdot", [summed.left, summed.right])  # no product array
        elif self.analysed.class_of(operand) == "scalar":
            summed = call("np.sum", [summed])
        else:
            summed = call("unbroadcast", [summed, clone(operand)])
        return gast.UnaryOp(op=gast.USub(), operand=summed) if negated else summed

    def bind(self, rule: rules.Rule, value: gast.AST, location) -> Dict[str, gast.AST]:
        """Map the template's parameter names to the call's argument atoms."""
        return bind_call(rule.params, rule.template.defaults, value, rule.label, location,
                         rule.template.varargs)

    def indexed(self, value: gast.Subscript, dy: gast.AST) -> None:
        """y = a[index]  ->  da[index] += dy  (np.add.at where indices may repeat)."""
        if not self.analysed.is_active(value.value):
            return
        if value.value.id in self.analysed.sequences:  # parts[0]: Pieces of the list
            index = _index_expression(clone(value.slice))
            self.accumulate(value.value, call("unindex", [dy, clone(value.value),
                                                           index]))
            return
        atom = gast.Subscript(value=value.value, slice=value.slice, ctx=gast.Load())
        self.accumulate(atom, dy)

    # -- accumulation -------------------------------------------------------

    def adjoint_name(self, v: str) -> str:
        existing = self.adjoints.get(v)
        if existing is None:
            existing = self.namer.adjoint(v)
            self.adjoints[v] = existing
        return existing

    def adjoint_target(self, base: gast.Name) -> str:
        """The adjoint of `base` as an array only this name holds, to write into."""
        adjoint = self.adjoint_name(base.id)
        self.spreads.pop(adjoint, None)  # about to change element by element
        if base.id not in self.live:
            self.emit(assign(adjoint, call("np.zeros_like", [name(self._same_shape(base.id))])))
            self.live.add(base.id)
        elif adjoint not in self.owned:
            self.emit(assign(adjoint, call("np.copy", [name(adjoint)])))
        self.owned.add(adjoint)
        return adjoint

    def accumulate(self, arg: gast.AST, contribution: gast.AST,
                   deferred: Optional[list] = None, target: Optional[str] = None) -> None:
        if not self.analysed.is_active(arg):
            return
        if deferred is not None and _is_name(arg, target):
            deferred.append((arg, contribution))
            return
        if isinstance(arg, gast.Subscript):
            if is_local(arg.value) and arg.value.id in self.analysed.sequences:
                index = _index_expression(clone(arg.slice))  # parts[0] read in a loop
                self.accumulate(arg.value, call("unindex", [contribution, clone(arg.value),
                                                            index]))
                return
            self.accumulate_element(arg, contribution)
            return
        existing = self.adjoint_name(arg.id)
        if arg.id not in self.live:
            self.spreads.pop(existing, None)  # (a new adjoint: no longer the spread one)
            self.live.add(arg.id)
            if _is_name(contribution, existing):
                return  # s = s + t: the adjoint of the old s is that of the new one
            self._share_names_in(contribution)
            self.emit(assign(existing, contribution))
            self.unsure.discard(existing)
            if isinstance(contribution, (gast.BinOp, gast.UnaryOp)):
                self.owned.add(existing)
            else:
                self.owned.discard(existing)
        else:
            self.spreads.pop(existing, None)
            if existing in self.owned and existing not in self.unsure and \
                    len(self.blocks) > 1:
                # (in a loop or branch; the optimizer does this at the top level)
                self.emit(gast.AugAssign(target=name(existing, gast.Store()), op=gast.Add(),
                                         value=contribution))
                return
            total = gast.BinOp(left=name(existing), op=gast.Add(), right=contribution)
            self.emit(assign(existing, total))
            self.owned.add(existing)  # arithmetic made a new array
            self.unsure.discard(existing)

    # -- sums spread back: dy is one number until something needs the array ------------

    def note_spread(self, operand: gast.Name, contribution: gast.AST) -> None:
        """da = unsum(ds, a) for s = np.sum(a): da is ds everywhere. Kept aside, so that
        an elementwise rule whose partial has a's shape uses ds instead of da (exp's
        de * e, not a full array of ds times e)."""
        if len(self.blocks) != 1 or not (
                isinstance(contribution, gast.Call) and _is_name(contribution.func, "unsum")
                and len(contribution.args) >= 2 and _is_name(contribution.args[1], operand.id)
                and all(isinstance(a, gast.Constant) and a.value in (None, False)
                        for a in contribution.args[2:])):
            return
        spread = contribution.args[0]
        if isinstance(spread, (gast.Name, gast.Constant)) or \
                isinstance(spread, gast.BinOp) and all(
                    isinstance(o, (gast.Name, gast.Constant)) for o in (spread.left, spread.right)):
            self.spreads[self.adjoints[operand.id]] = spread

    def spread_or(self, dy: gast.AST, partial: gast.AST, y: gast.AST) -> gast.AST:
        """dy, or the number it spreads where `dy * partial` keeps y's shape anyway."""
        spread = self.spreads.get(dy.id) if isinstance(dy, gast.Name) else None
        if spread is None or self.analysed.class_of(y) in (None, "scalar"):
            return dy
        full = any(self.analysed.same_shape(n, y) for n in walk(partial)
                   if isinstance(n, gast.Name))
        return clone(spread) if full else dy

    def accumulate_elements(self, sequence: gast.AST, contribution: gast.AST) -> None:
        """np.concatenate([a, b]): the rule's adjoint for the list is indexable like it
        (pieces, or an array over np.asarray's first axis); element i gets its [i]
        (`da = dy[0]`, not `da, db = dy`: generated code is differentiated again, and
        the frontend unpacks only what it knows the length of)."""
        if not isinstance(contribution, gast.Name):
            pieces = self.namer.temp()
            self.emit(assign(pieces, contribution))
            contribution = name(pieces)
        self._accumulate_pieces(sequence, contribution)

    def _accumulate_pieces(self, sequence: gast.AST, pieces: gast.AST) -> None:
        for position, element in enumerate(sequence.elts):
            piece = gast.Subscript(value=clone(pieces), slice=constant(position),
                                   ctx=gast.Load())
            if _is_sequence(element):
                self._accumulate_pieces(element, piece)
            elif self.analysed.is_active(element):
                self.accumulate(element, piece)

    def accumulate_element(self, atom: gast.Subscript, contribution: gast.AST) -> None:
        """da[i] += e, or np.add.at(da, index, e) where the index may repeat (or, for
        arrays of other libraries, da = da + unindex(e, a, index))."""
        if not self.element_writes:
            self.accumulate(atom.value, call("unindex", [contribution, clone(atom.value),
                                                         _index_expression(clone(atom.slice))]))
            return
        adjoint = self.adjoint_target(atom.value)
        index = clone(atom.slice)
        if _is_name(index, self.first_element.get(atom.value.id)):
            del self.first_element[atom.value.id]
            target = gast.Subscript(value=name(adjoint), slice=index, ctx=gast.Store())
            self.emit(gast.Assign(targets=[target], value=contribution, type_comment=None))
        elif _basic_index(index, self.lowered.int_names) or self.unique_pairs(index):
            target = gast.Subscript(value=name(adjoint), slice=index, ctx=gast.Store())
            self.emit(gast.AugAssign(target=target, op=gast.Add(), value=contribution))
        else:
            scatter = call("np.add.at", [name(adjoint), _index_expression(index),
                                          contribution])
            self.emit(gast.Expr(value=scatter))

    def is_dot(self, product: gast.AST) -> bool:
        """x * y of two float arrays of one shape (a number's adjoint is its sum):
        np.vdot(x, y), one BLAS dot. In code compiled for a call, where the ranks
        are known (not for Numba, whose vdot takes vectors only)."""
        if not (isinstance(product, gast.BinOp) and isinstance(product.op, gast.Mult) and
                self.index_stores and not self.index_numbers_only):
            return False
        primals = {adjoint: primal for primal, adjoint in self.adjoints.items()}
        factors = [name(primals[f.id]) if isinstance(f, gast.Name) and f.id in primals
                   else f for f in (product.left, product.right)]  # dd: d's shape
        return all(isinstance(f, gast.Name) for f in factors) and \
            self.analysed.class_of(factors[0]) not in (None, "scalar") and \
            self.analysed.same_shape(*factors) and \
            all((self.analysed.ranks.get(f.id) or 0) >= 1 for f in factors)

    def unique_pairs(self, index: gast.AST) -> bool:
        """p[np.arange(n), labels]: index vectors, one of them an arange, pick each
        element at most once (the arange's entries differ), so the adjoint adds with +=
        rather than np.add.at. (In code compiled for a call only: the frontend, reading
        code back for a second derivative, refuses a write through index arrays.)"""
        if not isinstance(index, gast.Tuple) or not self.index_stores or \
                self.index_numbers_only:
            return False
        vectors = [e for e in index.elts if not _basic_index(e, self.lowered.int_names)]
        if not vectors or not all(is_local(e) and self.analysed.ranks.get(e.id) == 1
                                  for e in vectors):
            return False
        if self._aranges is None:  # name -> the array whose length the arange spans
            lengths = axis_lengths(self.lowered)
            self._aranges = {}
            for s in walk_statements(self.lowered.body):
                if isinstance(s, gast.Assign) and not is_store(s) and \
                        op_key(s.value) is np.arange and len(s.value.args) == 1 and \
                        not s.value.keywords and is_local(s.value.args[0]) and \
                        self.analysed.definitions.get(stored_name(s)) == 1:
                    spanned = lengths.get(s.value.args[0].id, (None, None))
                    self._aranges[stored_name(s)] = spanned[0] if spanned[1] == 0 else None
        names = {e.id for e in vectors}
        # (the arange as long as every other vector: np.arange(1) against two labels
        # would broadcast and pick one element twice)
        return any(e.id in self._aranges and (names == {e.id} or
                                              names - {e.id} == {self._aranges[e.id]})
                   for e in vectors)

    def _share_names_in(self, expression: gast.AST) -> None:
        """A value that is not computed by arithmetic may be the very array it reads."""
        if isinstance(expression, gast.Call) and isinstance(expression.func, gast.Attribute) \
                and expression.func.attr == "copy" or \
                isinstance(expression, gast.Subscript) and \
                self.analysed.class_of(_primal_of(expression, self.adjoints)) == "scalar":
            return  # dc[i].copy(), or one number out of dc
        if not isinstance(expression, (gast.BinOp, gast.UnaryOp)):
            for node in walk(expression):
                if isinstance(node, gast.Name):
                    self.owned.discard(node.id)

    def emit(self, stmt: gast.stmt) -> None:
        if self.comment_next:
            set_anno(stmt, "comment", self.comment_next)
            self.comment_next = None
        self.blocks[-1].append(stmt)

    def emit_all(self, statements: Sequence[gast.stmt]) -> None:
        for stmt in statements:
            self.emit(stmt)

    def _template_local(self, local: str) -> str:
        return self.namer.temp()

    def template_modules(self, template) -> Dict[str, gast.AST]:
        return bind_modules(template, self.lowered.namespace or self.lowered.parsed.namespace,
                            self.rule_modules, self.namer)


# -- sweeps as lists of statements and markers -------------------------------------

def _layout(body, order: Dict[int, int], parents: Dict[int, tuple], chain: tuple) -> None:
    """Pre-order position and enclosing compound statements of every statement."""
    for stmt in body:
        order[id(stmt)] = len(order)
        parents[id(stmt)] = chain
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            _layout(stmt.body, order, parents, chain + (id(stmt),))
            _layout(stmt.orelse, order, parents, chain + (id(stmt),))


def _resolved(body: List[Any], tape: str) -> List[gast.stmt]:
    """Slots become pushes, restores become pops (or vanish); empty blocks get `pass`."""
    out: List[gast.stmt] = []
    for item in body:
        if isinstance(item, _Slot):
            if item.stored:
                out.append(item.push(tape))
            continue
        if isinstance(item, _Restore):
            if item.slot.stored:
                out.append(item.slot.pop(tape))
            continue
        if isinstance(item, _Recompute):
            if item.slot.recomputed:
                again = clone(item.slot.stmt)
                set_anno(again, "comment", f"line {get_anno(item.slot.stmt, 'origin')[0]} "
                                           f"again: an index, recomputed rather than stored")
                out.append(again)
            continue
        if isinstance(item, (gast.For, gast.While, gast.If)):
            item.body = _resolved(item.body, tape) or [gast.Pass()]
            item.orelse = _resolved(item.orelse, tape)
            if isinstance(item, gast.If) and _is_pass(item.body) and not item.orelse:
                continue
        out.append(item)
    return out


def _library_function(key: Any) -> bool:
    """A NumPy, math or SciPy function with a rule: the same value for the same
    arguments. (A user's function with a rule may keep state: a sampler, a mask.)"""
    module = getattr(key, "__module__", None) or ""
    if isinstance(key, np.ufunc):
        module = "numpy"
    return rules.has_rule(key) and module.split(".")[0] in ("numpy", "math", "scipy",
                                                           "builtins", "_operator") and \
        not module.startswith("numpy.random")


# helpers of generated code that read an argument (at this position) only for its
# shape, dtype and number of axes
_SHAPE_READERS = {"unbroadcast": 1, "unsum": 1, "spread": 1, "zeros_like": 0,
                  "np.zeros_like": 0, "np.shape": 0, "np.ndim": 0}


def _shape_reads(body: List[Any], reads: Dict[str, List[bool]]) -> None:
    """For each name the code loads, one entry per load: is it a read of its shape?"""
    for item in body:
        if isinstance(item, (_Slot, _Restore, _Recompute)):
            continue
        shape_arguments = set()
        for node in walk(item):
            if isinstance(node, gast.Call) and not node.keywords:
                position = _SHAPE_READERS.get(dotted(node.func))
                argument = node.args[position] if position is not None and \
                    len(node.args) > position else None
                if isinstance(argument, gast.Subscript) and _basic_index(argument.slice):
                    argument = argument.value  # (x[np.newaxis, :]: x's shape decides)
                if isinstance(argument, gast.Name):
                    shape_arguments.add(id(argument))
        for node in walk(item):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                reads.setdefault(node.id, []).append(id(node) in shape_arguments)


def _index_arithmetic(value: gast.AST) -> bool:
    """Integer arithmetic on names and constants: nothing to store, cheap to redo."""
    if isinstance(value, (gast.Name, gast.Constant)):
        return True
    if isinstance(value, gast.BinOp):
        return _index_arithmetic(value.left) and _index_arithmetic(value.right)
    if isinstance(value, gast.UnaryOp):
        return _index_arithmetic(value.operand)
    return False


def _is_pass(body: List[gast.stmt]) -> bool:
    return all(isinstance(s, gast.Pass) for s in body)


def _loads(body: List[Any]) -> set:
    names = set()
    for item in body:
        if isinstance(item, (_Slot, _Restore)):
            continue
        if isinstance(item, (gast.For, gast.While, gast.If)):
            names |= _loads(item.body) | _loads(item.orelse)
            header = item.iter if isinstance(item, gast.For) else item.test
            names |= {n.id for n in names_in(header)}
            continue
        names |= {n.id for n in names_in(item) if isinstance(n.ctx, gast.Load)}
    return names


def _names(stmt: gast.stmt) -> set:
    """Names a simple statement (or a compound one's header) mentions."""
    if isinstance(stmt, gast.For):
        parts = [stmt.target, stmt.iter]
    elif isinstance(stmt, (gast.While, gast.If)):
        parts = [stmt.test]
    else:
        parts = [stmt]
    return {n.id for part in parts for n in names_in(part)}


def _primal_of(element: gast.Subscript, adjoints: Dict[str, str]) -> gast.AST:
    """dc[i] -> c[i]: the primal element an adjoint element stands for."""
    inverse = {v: k for k, v in adjoints.items()}
    base = element.value.id if isinstance(element.value, gast.Name) else None
    if base not in inverse:
        return element
    return gast.Subscript(value=name(inverse[base]), slice=element.slice, ctx=gast.Load())


def _never_wraps(iterate: gast.Call) -> bool:
    """range(n), range(a, n) with a >= 0, step > 0: no index repeats, none negative."""
    args = iterate.args
    if len(args) >= 2 and not (isinstance(args[0], gast.Constant) and
                               isinstance(args[0].value, int) and args[0].value >= 0):
        return False
    return len(args) < 3 or isinstance(args[2], gast.Constant) and \
        isinstance(args[2].value, int) and args[2].value > 0


def _breaks(body: Sequence[gast.stmt]) -> bool:
    """A break of this loop (not of a loop nested in it)."""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def _backwards(iterate: gast.Call, counter: Optional[str]) -> gast.AST:
    """The iterations of a for loop in reverse: the first `counter` only, after a break."""
    forwards = get_anno(iterate.func, "resolved") is not builtins.reversed
    sequence = clone(iterate if forwards else iterate.args[0])
    if not forwards:
        sequence = gast.Subscript(value=sequence, slice=gast.Slice(
            lower=None, upper=None, step=constant(-1)), ctx=gast.Load())
    if counter is not None:
        sequence = gast.Subscript(value=sequence, slice=gast.Slice(
            lower=None, upper=name(counter), step=None), ctx=gast.Load())
    elif not forwards:
        return clone(iterate.args[0])
    return gast.Call(func=name("reversed"), args=[sequence], keywords=[])


def _load(target: gast.AST) -> gast.AST:
    node = clone(target)
    node.ctx = gast.Load()
    return node


def _is_name(node: gast.AST, identifier: Optional[str]) -> bool:
    return identifier is not None and isinstance(node, gast.Name) and node.id == identifier


def _text(node: gast.AST) -> str:
    return gast.unparse(node).strip()


# -- small AST helpers ----------------------------------------------------------

def bind_call(params: List[str], defaults: Dict[str, Any], value: gast.AST, label: str,
              location, varargs: Optional[str] = None) -> Dict[str, gast.AST]:
    """The call's argument atoms by a template's parameter names (defaults filled); a
    *args parameter (`varargs`) gets the positional arguments past those before it, as
    a tuple of the call's own nodes."""
    if isinstance(value, gast.Call):
        args, kwargs = list(value.args), {k.arg: k.value for k in value.keywords}
    else:
        args, kwargs = op_operands(value), {}
    if varargs is not None and varargs not in kwargs:
        at = params.index(varargs)
        kwargs[varargs] = gast.Tuple(elts=args[at:], ctx=gast.Load())
        args = args[:at]
    bound = _bound(params, defaults, args, kwargs)
    if bound is None:  # (inspect binds it, or says why it does not fit)
        signature = inspect.Signature([
            inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=defaults.get(p, inspect.Parameter.empty))
            for p in params])
        try:
            arguments = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise NoDerivativeRuleError(
                f"the derivative rule for {label} does not accept this call ({exc})",
                location, hint=f"the rule handles {label}({_signature_text(params, varargs)}); "
                               "pass only those arguments") from None
        arguments.apply_defaults()
        bound = arguments.arguments
    return {p: (v if isinstance(v, gast.AST) else constant(v)) for p, v in bound.items()}


def _signature_text(params: List[str], varargs: Optional[str]) -> str:
    """A template's parameters as a user calls the function: *args starred, without
    the `position` through which the adjoint of one of them is asked for."""
    return ", ".join("*" + p if p == varargs else p for p in params
                     if varargs is None or p != "position")


def _bound(params: List[str], defaults: Dict[str, Any], args: List[gast.AST],
           kwargs: Dict[str, gast.AST]) -> Optional[Dict[str, Any]]:
    """What inspect.Signature(params).bind(*args, **kwargs) gives with its defaults
    applied (parameter order), for a call that fits; None for one that may not. Every
    operation binds its rule's parameters: inspect's binding cost more than the rest
    of a rule's use."""
    if len(args) > len(params):
        return None
    given = dict(zip(params, args))
    for key, arg in kwargs.items():
        if key in given or key not in params:
            return None
        given[key] = arg
    bound = {}
    for param in params:
        if param in given:
            bound[param] = given[param]
        elif param in defaults:
            bound[param] = defaults[param]
        else:
            return None
    return bound


def _is_sequence(node: gast.AST) -> bool:
    return isinstance(node, (gast.Tuple, gast.List))


def _is_none(node: gast.AST) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def _times(dy: gast.AST, partial: gast.AST) -> gast.AST:
    """dy * partial, written as a left-to-right chain: dy * 2 * a, -dy * y / b."""
    negative, factors = _factors(partial)
    result: gast.AST = clone(dy)
    if negative:
        result = gast.UnaryOp(op=gast.USub(), operand=result)
    for op, factor in factors:
        if isinstance(factor, gast.Constant) and factor.value == 1 \
                and not isinstance(factor.value, bool):
            continue
        result = gast.BinOp(left=result, op=op, right=factor)
    return result


def _factors(node: gast.AST) -> Tuple[bool, List[Tuple[gast.operator, gast.AST]]]:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        negative, factors = _factors(node.operand)
        return not negative, factors
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool) and node.value < 0:
        return True, [(gast.Mult(), constant(-node.value))]
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        neg_left, left = _factors(node.left)
        neg_right, right = _factors(node.right)
        return neg_left != neg_right, left + right
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
        negative, left = _factors(node.left)
        return negative, left + [(gast.Div(), node.right)]
    return False, [(gast.Mult(), node)]


def _basic_index(index: gast.AST, int_names=frozenset()) -> bool:
    """Ints, slices, None and Ellipsis never repeat an element (an index array may)."""
    if isinstance(index, gast.Tuple):
        return all(_basic_index(e, int_names) for e in index.elts)
    if isinstance(index, gast.Slice):
        return True
    if isinstance(index, gast.BinOp):
        return _basic_index(index.left, int_names) and _basic_index(index.right, int_names)
    if isinstance(index, gast.UnaryOp):
        return _basic_index(index.operand, int_names)
    if isinstance(index, gast.Name):
        return index.id in int_names
    if is_new_axis(index):
        return True
    return isinstance(index, gast.Constant) and (
        index.value is None or index.value is Ellipsis
        or isinstance(index.value, int) and not isinstance(index.value, bool))


def _index_expression(index: gast.AST) -> gast.AST:
    """An index written as a value (slices as slice(...)), to pass to np.add.at."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else constant(None)
                 for p in (index.lower, index.upper, index.step)]
        return call("slice", parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_expression(e) for e in index.elts],
                          ctx=gast.Load())
    return index


def _shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- stores indexed by the loop counter ---------------------------------------------

def indexed_stores(body: List[gast.stmt], tape: str, namer: Any,
                   numbers_only: Optional[Callable[[str], bool]] = None) -> List[gast.stmt]:
    """A loop over range(n) or range(a, b) that pushes the same values every trip,
    undone by a reverse loop over the same range that pops them all, keeps each value
    in its own list indexed by the loop variable instead: `y_stored = [None] * n`
    before the loop, `y_stored[i] = y` in it, `y = y_stored[i]` in the adjoint. A
    list item costs less than an append and a pop; the stack keeps the rest in order.

    With `numbers_only` (for Numba, which types a list of None poorly), only the
    names it accepts, float numbers, are kept so, in `y_stored = np.empty(n)`; the
    others stay on the stack (removing matched pairs keeps its order)."""
    loops = [s for s in body if isinstance(s, gast.For)]
    out = list(body)
    for forward in loops:
        start = _range_start(forward.iter)
        pushes = _direct(forward.body, tape, "append")
        if start is None or not pushes or _tape_calls_elsewhere(forward, tape, pushes) or \
                any(isinstance(n, (gast.Break, gast.Continue, gast.Return))
                    for n in walk(forward)):
            continue
        backward = next((s for s in loops if _undoes(s, forward)), None)
        if backward is None:
            continue
        pops = _direct(backward.body, tape, "pop")
        if len(pops) != len(pushes) or _tape_calls_elsewhere(backward, tape, pops):
            continue
        index = name(forward.target.id)
        if not (isinstance(start, gast.Constant) and start.value == 0):
            index = gast.BinOp(left=index, op=gast.Sub(), right=clone(start))
        lists = []
        for push, pop in zip(pushes, reversed(pops)):  # the last push is popped first
            pushed = push.value.args[0]
            if numbers_only is not None and not (isinstance(pushed, gast.Name) and
                                                 numbers_only(pushed.id)):
                continue
            stored = namer.named(f"{_pushed_name(push)}_stored")
            lists.append(assign(stored, _store_list(forward.iter, numbers_only is not None)))
            _replace(forward.body, push, copy_annos(push, gast.Assign(
                targets=[gast.Subscript(value=name(stored), slice=clone(index),
                                        ctx=gast.Store())],
                value=pushed, type_comment=None)))
            _replace(backward.body, pop, copy_annos(pop, gast.Assign(
                targets=pop.targets, value=gast.Subscript(
                    value=name(stored), slice=clone(index), ctx=gast.Load()),
                type_comment=None)))
        at = out.index(forward)
        out[at:at] = lists
    if not any(_is_call_on(n, tape) for s in out for n in walk(s)):
        out = [s for s in out if not (isinstance(s, gast.Assign) and
                                      _is_name(s.targets[0], tape))]
    return out


def _store_list(iterate: gast.Call, numbers: bool) -> gast.AST:
    """np.empty(trips) for float numbers, [None] * trips for anything."""
    if numbers:  # (range(3, 2) runs no trip: np.empty refuses its count, -1)
        trips = _trips(iterate)
        if isinstance(trips, gast.Constant):
            return call("np.empty", [constant(max(trips.value, 0))])
        return call("np.empty", [call("max", [trips, constant(0)])])
    return gast.BinOp(left=gast.List(elts=[constant(None)], ctx=gast.Load()), op=gast.Mult(),
                      right=_trips(iterate))


def _range_start(iterate: gast.AST) -> Optional[gast.AST]:
    """a in range(a, b), 0 in range(n); None for a step or anything else."""
    if not (isinstance(iterate, gast.Call) and _is_name(iterate.func, "range") and
            1 <= len(iterate.args) <= 2 and not iterate.keywords):
        return None
    return iterate.args[0] if len(iterate.args) == 2 else constant(0)


def _trips(iterate: gast.Call) -> gast.AST:
    if len(iterate.args) == 1:
        return clone(iterate.args[0])
    return gast.BinOp(left=clone(iterate.args[1]), op=gast.Sub(), right=clone(iterate.args[0]))


def _undoes(loop: gast.For, forward: gast.For) -> bool:
    """The adjoint loop made for the same source loop as forward (two loops over the
    same range look alike), for i in reversed(range(...)) over its range and variable."""
    iterate = loop.iter
    return get_anno(loop, "loop") is not None and \
        get_anno(loop, "loop") == get_anno(forward, "loop") and \
        isinstance(iterate, gast.Call) and _is_name(iterate.func, "reversed") and \
        len(iterate.args) == 1 and isinstance(loop.target, gast.Name) and \
        isinstance(forward.target, gast.Name) and loop.target.id == forward.target.id and \
        gast.dump(iterate.args[0]) == gast.dump(forward.iter)


def _direct(body: List[gast.stmt], tape: str, method: str) -> List[gast.stmt]:
    """The statements of `body` itself (not nested) that push to or pop from `tape`."""
    found = []
    for stmt in body:
        value = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                _is_name(value.func.value, tape) and value.func.attr == method and \
                (method == "pop" and isinstance(stmt, gast.Assign) and not value.args or
                 method == "append" and isinstance(stmt, gast.Expr) and len(value.args) == 1):
            found.append(stmt)
    return found


def _tape_calls_elsewhere(loop: gast.For, tape: str, direct: List[gast.stmt]) -> bool:
    """The loop pushes or pops somewhere other than its `direct` statements (in a
    nested block): its trips do not each store the same values."""
    calls = [n for n in walk(loop) if _is_call_on(n, tape)]
    return len(calls) != len(direct)


def _is_call_on(node: gast.AST, tape: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        _is_name(node.func.value, tape)


def _pushed_name(push: gast.Expr) -> str:
    value = push.value.args[0]
    if isinstance(value, gast.Call) and dotted(value.func) == "shape_of":
        value = value.args[0]
    while not isinstance(value, gast.Name):
        value = value.func.value if isinstance(value, gast.Call) else value.value
    return value.id


def _replace(body: List[gast.stmt], old: gast.stmt, new: gast.stmt) -> None:
    body[body.index(old)] = new
