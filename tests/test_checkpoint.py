"""grad(f, checkpoint=k): binomial checkpointing of a counted loop (issue 19, item 4).

The gradient must equal the un-checkpointed one (to rounding) and central differences;
the forward steps must be revolve's optimal count; memory must not grow with the
count; what cannot be cut into steps is refused at the loop."""
from __future__ import annotations

import functools
import tracemalloc
import weakref

import numpy as np
import pytest

import checkpoint_programs as P
import s2sad
from conftest import central_difference
from s2sad import revolve

RNG = np.random.default_rng(19)

# (function, arguments, wrt): array and scalar state, several carried values, the index
# reading data, range(a, b, c), an inner loop, element writes into the state
PROGRAMS = {
    "rk4": (P.rk4, (RNG.normal(size=3), 0.7, 13), (0, 1)),
    "scalar_map": (P.scalar_map, (0.3, 0.9, 11), (0, 1)),
    "with_index": (P.with_index, (0.4, RNG.normal(size=9)), (0, 1)),
    "strided": (P.strided, (0.3, 20), 0),
    "nested": (P.nested, (RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=3), 7), (0, 1)),
    "element_writes": (P.element_writes, (np.array([0.3, 0.5]), 0.2, 9), (0, 1)),
    "euler": (P.euler, (0.5, 0.8, 10), (0, 1)),
    "rnn": (P.rnn, (RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(8, 3)),
                    RNG.normal(size=3)), (0, 2)),
    "branchy": (P.branchy, (np.array([0.3, 0.8]), 0.9, 7), (0, 1)),
    "counted_from_before": (P.counted_from_before, (0.4, RNG.normal(size=9)), (0, 1)),
    "with_default": (P.with_default, (0.3,), 0),
    "leapfrog": (P.leapfrog, (RNG.normal(size=3), RNG.normal(size=3), 1.3, 40), (0, 1, 2)),
    "swapping": (P.swapping, (0.3, 0.7, 9), (0, 1)),
    "power_iteration": (P.power_iteration, (RNG.normal(size=(3, 3)), RNG.normal(size=3), 6),
                        (0, 1)),
}


def _pairs(a, b):
    return zip(a, b) if isinstance(a, tuple) else [(a, b)]


def _same_structure(g, ref):
    assert type(g) is type(ref)
    for x, y in _pairs(g, ref):
        assert type(x) is type(y)
        assert np.shape(x) == np.shape(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype


@pytest.mark.parametrize("k", [1, 2, 3, 5, 100])
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_gradient_is_the_uncheckpointed_one(program, k):
    f, args, wrt = PROGRAMS[program]
    ref = s2sad.grad(f, wrt=wrt)(*args)
    g = s2sad.grad(f, wrt=wrt, checkpoint=k)(*args)
    _same_structure(g, ref)
    for x, y in _pairs(g, ref):
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_gradient_matches_central_differences(program):
    f, args, wrt = PROGRAMS[program]
    names = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    values = dict(zip(names, args))
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    g = s2sad.grad(f, wrt=wrt, checkpoint=2)(*args)
    for position, dx in zip(wrt, g):
        expected = central_difference(f, values, names[position])
        np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
@pytest.mark.parametrize("k", [1, 2, 4, 10])
def test_short_loops_and_counts_below_k(n, k):
    y0 = np.array([0.2, -0.4])
    ref = s2sad.grad(P.rk4, wrt=(0, 1))(y0, 0.7, n)
    g = s2sad.grad(P.rk4, wrt=(0, 1), checkpoint=k)(y0, 0.7, n)
    for x, y in _pairs(g, ref):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_spellings_of_the_call():
    """The decorator form, wrt by name, argnums, value_and_grad, vjp, keywords."""
    y0, theta, n = np.array([0.1, 0.5]), 0.3, 9
    ref_value = P.rk4(y0, theta, n)
    ref = s2sad.grad(P.rk4, wrt=(0, 1))(y0, theta, n)

    decorated = s2sad.grad(wrt=("y0", "theta"), checkpoint=3)(P.rk4)
    for x, y in _pairs(decorated(y0, theta, n), ref):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    by_keyword = s2sad.grad(P.rk4, argnums=1, checkpoint=3)(y0, theta=theta, n=n)
    assert type(by_keyword) is float
    assert by_keyword == pytest.approx(ref[1], rel=1e-12)

    value, (dy0, dtheta) = s2sad.value_and_grad(P.rk4, wrt=(0, 1), checkpoint=2)(
        y0, theta, n)
    assert value == pytest.approx(ref_value, rel=1e-14)
    np.testing.assert_allclose(dy0, ref[0], rtol=1e-12)

    value, pullback = s2sad.vjp(P.rk4, wrt=1, checkpoint=2)(y0, theta, n)
    assert value == pytest.approx(ref_value, rel=1e-14)
    assert pullback(2.0) == pytest.approx(2 * ref[1], rel=1e-12)

    @s2sad.grad(checkpoint=4)
    def decorated_def(x, a, n):
        for _ in range(n):
            x = a * np.sin(x) + 0.1 * x
        return x * x

    assert decorated_def(0.3, 0.9, 11) == pytest.approx(
        s2sad.grad(P.scalar_map)(0.3, 0.9, 11), rel=1e-12)


def test_the_arguments_are_not_changed():
    y = np.array([0.3, 0.8])
    for k in (1, 2, 50):  # y *= a in the body: in place, as Python runs it
        s2sad.grad(P.branchy, wrt=(0, 1), checkpoint=k)(y, 0.9, 7)
        np.testing.assert_array_equal(y, [0.3, 0.8])
    c = np.array([0.3, 0.5])
    kept = c.copy()
    s2sad.grad(P.element_writes, wrt=(0, 1), checkpoint=2)(c, 0.2, 9)
    np.testing.assert_array_equal(c, kept)
    y0 = np.array([0.1, 0.2])
    s2sad.grad(P.rk4, checkpoint=1)(y0, 0.5, 5)
    np.testing.assert_array_equal(y0, [0.1, 0.2])


def test_a_gradient_can_be_updated_in_place_without_touching_the_input():
    """The carried x is the parameter itself; with no step, dx is the seed's."""
    def f(x, w, n):
        for _ in range(n):
            x = np.sin(x)
        return np.sum(x * w)

    x, w = np.array([0.3, 0.4]), np.array([1.0, 2.0])
    for n in (0, 3):
        dx, dw = s2sad.grad(f, wrt=(0, 1), checkpoint=2)(x, w, n)
        assert dx is not x and dw is not w
        dx += 1.0
        dw += 1.0
        np.testing.assert_array_equal(x, [0.3, 0.4])
        np.testing.assert_array_equal(w, [1.0, 2.0])


# -- the recomputation count is revolve's optimum ---------------------------------------

@functools.lru_cache(maxsize=None)
def _fewest(steps: int, slots: int) -> int:
    """Forward steps of the best reversal of `steps` steps from a held state with
    `slots` snapshots (the held one included), by exhaustive search."""
    if steps <= 1:
        return 0
    if slots == 1:
        return steps * (steps - 1) // 2
    return min(m + _fewest(steps - m, slots - 1) + _fewest(m, slots)
               for m in range(1, steps))


def test_the_closed_form_is_the_exhaustive_optimum():
    for slots in range(1, 8):
        for steps in range(0, 120):
            assert revolve.recomputations(steps, slots) == \
                _fewest(steps, min(slots, max(steps, 1))), (steps, slots)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_forward_steps_are_the_optimal_count(k):
    gradient = s2sad.grad(P.euler, wrt=(0, 1), checkpoint=k)
    for n in [0, 1, 2, 5, 13, 40]:
        gradient(0.5, 0.8, n)
        loop = gradient.checkpointed.last_loop
        # the optimum, plus the one step whose state the code after the loop reads
        assert loop.steps == (_fewest(n, min(k, n)) + 1 if n else 0), (n, k)
        assert loop.steps == revolve.forward_steps(n, k)
        assert loop.adjoint_steps == n


def test_each_snapshot_goes_where_an_optimal_schedule_puts_it():
    for slots in range(2, 8):
        for steps in range(2, 150):
            m = revolve.split(steps, slots)
            assert m + _fewest(steps - m, slots - 1) + _fewest(m, slots) == \
                _fewest(steps, slots), (steps, slots, m)


def test_counting_a_known_schedule():
    """By hand: 10 steps, 3 snapshots: r = 2 (C(4, 2) < 10 <= C(5, 2)), so
    2 * 10 - C(5, 1) = 15; RK4's 10^6 steps with 20: r = 8 (C(27, 7) < 10^6 <=
    C(28, 8)), 8 * 10^6 - C(28, 7) = 6 815 960: each step run under 7 times."""
    assert revolve.recomputations(10, 3) == 15
    assert revolve.recomputations(10, 1) == 45
    assert revolve.recomputations(10, 10) == 9
    assert revolve.recomputations(10**6, 20) == 6815960


def test_the_driver_keeps_at_most_k_snapshots():
    """States are objects here: the ones alive when a step runs are counted."""
    alive = weakref.WeakSet()
    most = [0]

    class State:
        def __init__(self, value):
            self.value = value
            alive.add(self)

    def run_steps(part, x):
        for i in part:
            most[0] = max(most[0], len(alive))
            x = State(x.value + 1)
        return (x,)

    def step_adjoint(i, x, dx):
        most[0] = max(most[0], len(alive))
        return (dx + 1,)

    for n, k in [(200, 1), (200, 2), (200, 3), (200, 7), (30, 100), (5000, 2000)]:
        most[0] = 0
        loop = revolve.Revolve(run_steps, step_adjoint, range(n), k, (), [True], ())
        assert loop.forward((State(0),))[0].value == n
        assert loop.adjoint((0,)) == ((n,), ())
        assert loop.steps == revolve.forward_steps(n, k)
        # k snapshots, the state being advanced and the one before the last step
        assert most[0] <= min(k, n) + 2, (n, k, most[0])


# -- memory ---------------------------------------------------------------------------

def _peak(gradient, n):
    tracemalloc.start()
    try:
        gradient(0.3, 0.5, n)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_step_count():
    """RK4 at 10^4 and 10^5 steps: the same peak (a few snapshots); the
    un-checkpointed gradient's tape at 10^4 steps is many times that. (About 2 s of CPU on a
    quiet machine: tracemalloc slows Python's float arithmetic some 15 times.)"""
    checkpointed = s2sad.grad(P.rk4_linear, wrt=(0, 1), checkpoint=50)
    checkpointed(0.3, 0.5, 10)  # (compiled outside the measurement)
    small, large = _peak(checkpointed, 10**4), _peak(checkpointed, 10**5)
    assert large < 1.2 * small + 4096, (small, large)
    plain = s2sad.grad(P.rk4_linear, wrt=(0, 1))
    plain(0.3, 0.5, 10)
    assert _peak(plain, 10**4) > 50 * large  # (a tape of 10^4 steps: some 150x)


# -- what it shows ----------------------------------------------------------------------

def test_the_header_says_what_is_stored():
    gradient = s2sad.grad(P.rk4, wrt=(0, 1), checkpoint=20)
    gradient(np.ones(2), 0.5, 30)
    source = gradient.source
    assert "#   stored:        y, t: at most 20 snapshots (binomial checkpointing, " \
        "loop at line 14)" in source
    assert "loop = Revolve(run_steps, vjp_step, steps, 20, (theta, h), (True, True), " \
        "(True, True))" in source
    assert "def vjp_step(i, y, t, theta, h, dy_1, dt_1):" in source
    assert "def run_steps(part, y, t, theta, h):\n    for i in part:" in source
    assert "# adjoint of line 19: y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)" in source


def test_the_source_before_any_call():
    source = s2sad.grad(P.rk4, wrt=(0, 1), checkpoint=5).source
    assert "at most 5 snapshots" in source and "def vjp_step(" in source


def test_without_checkpoint_nothing_changes():
    source = s2sad.grad(P.rk4, wrt=(0, 1)).source
    assert "snapshots" not in source and "Revolve" not in source


# -- refusals ---------------------------------------------------------------------------

REFUSED = {
    # function: (arguments, line, source fragment under the caret, message part, hint part)
    "with_while": ((0.5, 3), 81, "while i < n:", "a while loop's number of steps",
                   "for i in range(n)"),
    "with_break": ((0.5, 3), 91, "break", "has a break", "guard the rest"),
    "with_append": ((0.5, 3), 98, "xs.append(np.sin(xs[-1]))", "grows a list",
                    "preallocated array"),
    "two_loops": ((0.5, 3), 105, "for j in range(n):", "which loop to checkpoint",
                  "checkpoint={103: 2}"),
    "no_loop": ((0.5,), 110, "def no_loop(x):", "no loop to checkpoint", "drop checkpoint="),
    "bound_in_loop": ((0.5, 3), 117, "last", "first bound inside the checkpointed loop",
                      "bind last before the loop"),
    "grows": ((np.ones(2), 3), 124, "y", "changes its shape", "np.zeros_like"),
    "carried_unbound": ((0.5, 4), 248, "previous", "before the body binds it",
                        "bind previous before the loop"),
}


@pytest.mark.parametrize("program", sorted(REFUSED))
def test_refusals_point_at_the_loop(program):
    args, line, fragment, message, hint = REFUSED[program]
    with pytest.raises(s2sad.S2SADError) as caught:
        s2sad.grad(getattr(P, program), checkpoint=2)(*args)
    error = caught.value
    assert error.lineno == line
    assert message in error.message and hint in error.hint
    text = str(error).splitlines()
    assert text[0].startswith(f"{P.__file__}:{line}:")
    code, caret = text[1], text[2]
    start = caret.index("^")
    assert code[start:].startswith(fragment), (code, caret)


def test_choosing_one_loop_by_its_line():
    g = s2sad.grad(P.two_loops, checkpoint={105: 2})(0.5, 6)
    assert g == pytest.approx(s2sad.grad(P.two_loops)(0.5, 6), rel=1e-12)
    with pytest.raises(s2sad.S2SADError, match="names line 104") as caught:
        s2sad.grad(P.two_loops, checkpoint={104: 2})(0.5, 6)
    assert "lines 103, 105" in caught.value.hint


def test_structured_arguments_are_refused():
    with pytest.raises(s2sad.S2SADError, match="argument 'self' is a Model") as caught:
        s2sad.grad(P.Model(0.1).loss, checkpoint=2)(0.5, 9)
    assert "drop checkpoint=" in caught.value.hint
    assert s2sad.grad(P.Model(0.1).loss)(0.5, 9) == pytest.approx(
        s2sad.grad(lambda x, n: P.Model(0.1).loss(x, n))(0.5, 9))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "20", {1: 2, 3: 4}, {5: 0}])
def test_a_bad_count_is_refused(bad):
    with pytest.raises(s2sad.S2SADError, match="is not a number of snapshots"):
        s2sad.grad(P.euler, checkpoint=bad)


@pytest.mark.parametrize("transform", ["hessian", "jvp", "jacobian", "hvp"])
def test_transforms_without_a_reverse_sweep_refuse_the_keyword(transform):
    with pytest.raises(TypeError, match="checkpoint= is taken by s2sad.grad"):
        getattr(s2sad, transform)(P.euler, checkpoint=3)


@pytest.mark.parametrize("option", [{"jit": True}, {"has_aux": True}])
def test_options_it_does_not_combine_with(option):
    with pytest.raises(s2sad.S2SADError, match="does not combine with"):
        s2sad.grad(P.euler, checkpoint=3, **option)


def test_a_count_of_zero_first_then_steps():
    """The first call runs no step (so cannot see t = 0 become a float): the next
    call, with steps, must still follow t and a carried parameter."""
    def f(x, a, n):
        t = 0
        for i in range(n):
            t = t + a * x
            x = x * a
        return t + x

    g = s2sad.grad(f, wrt=1, checkpoint=2)
    assert g(0.5, 0.9, 0) == 0.0
    assert g(0.5, 0.9, 4) == pytest.approx(s2sad.grad(f, wrt=1)(0.5, 0.9, 4), rel=1e-12)


def test_parameters_not_differentiated_are_not_followed():
    """examples/rk4.py's dt: an invariant of the loop, not in wrt."""
    import sys
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent.parent / "examples"))
    import rk4
    g = s2sad.grad(rk4.rk4, wrt=(0, 1), checkpoint=10)
    args = (1.0, 0.5, 200, 0.05)
    assert g(*args) == pytest.approx(rk4.hand_gradient(*args), rel=1e-10)
    assert "def vjp_step(i, y, lam, dt, dy_1):" in g.source
    assert "return dy, dlam" in g.source


def test_golden_source_of_a_checkpointed_loop():
    """The module a user reads for RK4 with 20 snapshots, pinned byte for byte
    (S2SAD_UPDATE_GOLDEN=1 to accept a reviewed change)."""
    import os
    import pathlib
    import re
    gradient = s2sad.grad(P.rk4, wrt=(0, 1), checkpoint=20)
    gradient(np.ones(3), 0.5, 100)
    actual = re.sub(r"\(([^()]*/)?checkpoint_programs\.py:", "(checkpoint_programs.py:",
                    gradient.source)
    path = pathlib.Path(__file__).parent / "golden" / "rk4_checkpoint_grad.py"
    if os.environ.get("S2SAD_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text()


def test_autograd_agrees():
    """A second oracle: autograd on the same RK4 written with autograd.numpy."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def rhs(y, theta):
        return -theta * y + anp.sin(y)

    def rk4(y0, theta, n):
        h = 0.01
        y = y0
        t = 0.0
        for i in range(n):
            k1 = rhs(y, theta)
            k2 = rhs(y + 0.5 * h * k1, theta)
            k3 = rhs(y + 0.5 * h * k2, theta)
            k4 = rhs(y + h * k3, theta)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t = t + h
        return anp.sum(y ** 2) + t * theta

    y0, theta, n = np.array([0.4, -1.2, 2.0]), 0.7, 25
    expected = autograd.grad(rk4, (0, 1))(y0, theta, n)
    for k in (1, 3, 8):
        got = s2sad.grad(P.rk4, wrt=(0, 1), checkpoint=k)(y0, theta, n)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
        assert got[1] == pytest.approx(expected[1], rel=1e-12)


SCALE = 2.0


def scaled_loop(x, n):
    for i in range(n):
        x = np.sin(x) * SCALE
    return x * SCALE


def test_a_rebound_global_is_read_again():
    global SCALE
    g = s2sad.grad(scaled_loop, checkpoint=2)
    plain = s2sad.grad(scaled_loop)
    first = g(0.3, 4)
    assert first == pytest.approx(plain(0.3, 4), rel=1e-12)
    try:
        SCALE = 0.5
        assert g(0.3, 4) == pytest.approx(plain(0.3, 4), rel=1e-12)
        assert g(0.3, 4) != pytest.approx(first)
    finally:
        SCALE = 2.0


def test_a_loop_the_output_does_not_depend_on_through_floats():
    """Only ints are carried: nothing to reverse (no vjp_step), the rest still right."""
    def f(x, n):
        k = 0
        for i in range(n):
            k = k + i
        return x * k

    g = s2sad.grad(f, checkpoint=2)
    assert g(1.5, 5) == pytest.approx(10.0)
    assert "Revolve(run_steps, None" in g.source


def test_vjp_of_an_array_output():
    y0, ct = np.array([0.3, -0.5, 1.0]), np.array([1.0, 2.0, -1.0])
    value, pullback = s2sad.vjp(P.trajectory_end, wrt=(0, 1), checkpoint=2)(y0, 0.7, 6)
    ref_value, ref_pullback = s2sad.vjp(P.trajectory_end, wrt=(0, 1))(y0, 0.7, 6)
    np.testing.assert_allclose(value, ref_value, rtol=1e-14)
    for _ in range(2):  # (a pullback may be called again)
        for x, y in zip(pullback(ct), ref_pullback(ct)):
            np.testing.assert_allclose(x, y, rtol=1e-12)
    with pytest.raises(s2sad.S2SADError, match="grad needs a scalar output"):
        s2sad.grad(P.trajectory_end, checkpoint=2)(y0, 0.7, 6)


def test_a_keyword_only_count():
    g = s2sad.grad(P.keyword_only, checkpoint=2)
    assert g(0.4, n=7) == pytest.approx(s2sad.grad(P.keyword_only)(0.4, n=7), rel=1e-12)
    assert g(0.4) == pytest.approx(s2sad.grad(P.keyword_only)(0.4), rel=1e-12)
