"""Binomial checkpointing (Griewank & Walther's revolve): the schedule and its driver.

A counted loop of n steps, state_{j+1} = step(j, state_j), is reversed with at most
`snapshots` states held at once. Reversing l steps from a held state with c slots
(the held state's own included) costs T(l, c) forward steps:

    T(l, 1) = l (l - 1) / 2        (every adjoint step advances from the one state)
    T(l, c) = min over m of  m + T(l - m, c - 1) + T(m, c)

whose minimum is Griewank's binomial bound T(l, c) = r l - C(c + r, r - 1) for the
r with C(c + r - 1, r - 1) < l <= C(c + r, r). The driver runs one forward sweep of
all n steps (the loop's output needs the last state), placing the snapshots the
schedule asks for on the way, so a gradient evaluates `step` T(n, c) + 1 times and
`step_adjoint` n times.
"""
from __future__ import annotations

from math import comb
from typing import Any, Callable, Dict, List, Sequence

import numpy as np


def _repetitions(steps: int, slots: int) -> int:
    """The least r with C(slots + r, r) >= steps: how often a step is run at most."""
    r, binomial = 0, 1
    while binomial < steps:  # C(slots + r, r) from C(slots + r - 1, r - 1)
        r += 1
        binomial = binomial * (slots + r) // r
    return r


def _beta(slots: int, r: int) -> int:
    return comb(slots + r, slots) if r >= 0 else 0


def recomputations(steps: int, slots: int) -> int:
    """T(steps, slots): the forward steps the optimal reversal of `steps` steps takes
    from a held state with `slots` snapshots (the held one included)."""
    if steps <= 1:
        return 0
    slots = min(slots, steps)
    r = _repetitions(steps, slots)
    return r * steps - _beta(slots + 1, r - 1)


def forward_steps(steps: int, snapshots: int) -> int:
    """How often a checkpointed gradient evaluates the loop's `step`: the optimal
    reversal plus the last step, whose state the code after the loop reads."""
    return recomputations(steps, snapshots) + 1 if steps > 0 else 0


def split(steps: int, slots: int) -> int:
    """Where the next snapshot goes, `steps` ahead of a held state with `slots` slots
    (slots >= 2, steps >= 2): the largest m with m + T(steps - m, slots - 1) +
    T(m, slots) = T(steps, slots), that is min(C(slots + r - 1, r - 1),
    steps - C(slots + r - 2, r - 1)) for the r of `_repetitions` (the binomials
    found on the way, as the driver asks this at every snapshot)."""
    r, binomial, previous = 0, 1, 0  # C(slots + r, r) and C(slots + r - 1, r - 1)
    while binomial < steps:
        r += 1
        previous, binomial = binomial, binomial * (slots + r) // r
    fewer = previous * slots // (slots + r - 1) if r else 0  # C(slots + r - 2, r - 1)
    return max(1, min(previous, steps - fewer, steps - 1))


def _copied(state: tuple) -> tuple:
    """A snapshot's arrays are not the ones a step may write into (c[i] = ...)."""
    return tuple([np.copy(v) if type(v) is np.ndarray else v for v in state])


class Revolve:
    """The forward sweep and the reversal of one run of a counted loop.

    `run_steps(part, *state, *invariants)` runs the steps of `part` (a range) and
    returns the state after them (a tuple);
    `step_adjoint(i, *state, *invariants, *dstate)` returns the adjoints of the
    differentiated state values (those `differentiated` marks) followed by those of
    the differentiated invariants (those `invariants_differentiated` marks).
    `steps` and `adjoint_steps` count the calls."""

    def __init__(self, run_steps: Callable, step_adjoint: Callable, indices: Sequence[int],
                 snapshots: int, invariants: tuple, differentiated: Sequence[bool],
                 invariants_differentiated: Sequence[bool]):
        self.run_steps = run_steps
        self.step_adjoint = step_adjoint
        self.indices = indices
        self.snapshots = max(1, min(snapshots, len(indices)))
        self.invariants = invariants
        self.differentiated = list(differentiated)
        self._followed_state = sum(map(bool, self.differentiated))
        self.followed = [v for v, wanted in zip(invariants, invariants_differentiated)
                         if wanted]
        self.steps = 0
        self.adjoint_steps = 0
        self._known: Dict[int, tuple] = {}   # the first sweep's snapshots, by position
        self._sums: List[Any] = [None] * len(self.followed)

    def forward(self, state: tuple) -> tuple:
        """All n steps from `state`, keeping the snapshots of the schedule's first
        descent (and the state before the last step, which its adjoint starts from)."""
        n = len(self.indices)
        if n == 0:
            return state
        self._known = {0: state}
        state = _copied(state)  # (a step may update its state in place: y *= a)
        targets = set()
        low, slots = 0, self.snapshots
        while n - low > 1 and slots > 1:
            low += split(n - low, slots)
            slots -= 1
            targets.add(low)
        targets.add(n - 1)
        done = 0
        for target in sorted(targets - {0}):
            state = self._advance(state, done, target)
            self._known[target] = _copied(state)
            done = target
        return self._advance(state, done, n)

    def adjoint(self, dstate: tuple) -> tuple:
        """(the adjoints of the state before the loop, those of the invariants summed
        over the steps), from the adjoints of the state after it.

        The schedule's recursion (reverse the steps after a new snapshot with one slot
        fewer, then those before it) runs on an explicit stack of the held snapshots:
        with k >= n it would be n calls deep."""
        n = len(self.indices)
        known, indices = self._known, self.indices
        held = [(0, known.pop(0), self.snapshots)] if n else []
        high = n
        while held:
            low, state, slots = held[-1]
            if high - low == 1 or slots == 1:  # (the hot path: _state_at written out)
                j = high - 1
                at = known.pop(j, None)
                if at is None:
                    at = state if j == low else \
                        self.run_steps(indices[low:j], *_copied(state), *self.invariants)
                    self.steps += j - low
                dstate = self._adjoint_step(j, at, dstate)
                high = j
                if high == low:
                    held.pop()
                continue
            middle = low + split(high - low, slots)
            held.append((middle, self._state_at(middle, low, state), slots - 1))
        self._known.clear()
        sums = tuple(np.zeros_like(v) if s is None else s
                     for s, v in zip(self._sums, self.followed))  # (no step ran)
        return dstate, sums

    def _advance(self, state: tuple, low: int, high: int) -> tuple:
        """The state before step `high` from the one before step `low`."""
        if high == low:
            return state
        self.steps += high - low
        return self.run_steps(self.indices[low:high], *state, *self.invariants)

    def _state_at(self, target: int, low: int, state: tuple) -> tuple:
        """The state before step `target`: a first-sweep snapshot, or recomputed from
        the held state at `low`."""
        known = self._known.pop(target, None)
        if known is not None:
            return known
        if target == low:
            return state
        return self._advance(_copied(state), low, target)

    def _adjoint_step(self, j: int, state: tuple, dstate: tuple) -> tuple:
        self.adjoint_steps += 1
        grads = self.step_adjoint(self.indices[j], *state, *self.invariants, *dstate)
        if type(grads) is not tuple:
            grads = (grads,)
        taken = self._followed_state
        if taken == len(self.differentiated):  # (the common case: all of it followed)
            before = grads[:taken]
        else:  # a value not followed (an int): its adjoint is 0
            rest = iter(grads)
            before = tuple(next(rest) if wanted else 0.0 for wanted in self.differentiated)
        sums = self._sums
        for k in range(len(grads) - taken):
            g = grads[taken + k]
            sums[k] = g if sums[k] is None else sums[k] + g
        return before
