"""The functions benchmarks/transform_speed.py generates, differentiated and checked.

The script times their transforms; here their gradients (compiled for a call, the
path with counter-indexed stores and buffer reuse) are checked against central
differences, so a wrong gradient cannot hide behind a timing run.
"""
import os
import sys

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import transform_speed  # noqa: E402


def _compiled(text, name):
    namespace = {"np": np}
    exec(compile(text, f"<{name}>", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("lines, seed", [(60, 1), (120, 2), (200, 0), (200, 3)])
def test_generated_loop_functions_have_the_right_gradient(lines, seed):
    text = transform_speed.loops_source(lines, seed)
    looped = _compiled(text, "looped")
    gradient = s2sad.grad_source(text, "looped", wrt=(0, 1, 2))
    rng = np.random.default_rng(seed)
    args = [0.3, rng.uniform(-1.0, 1.0, 6), rng.uniform(-1.0, 1.0, 6)]
    for index, got in enumerate(gradient(*args)):
        np.testing.assert_allclose(got, numeric_grad(looped, args, index), rtol=1e-5,
                                   atol=1e-8, err_msg=f"d/d{['x', 'a', 'b'][index]}")


@pytest.mark.parametrize("x", [0.3, np.linspace(-0.9, 0.9, 7)], ids=["scalar", "array"])
def test_the_generated_chain_has_the_right_gradient(x):
    text = transform_speed.chain_source()
    gradient = s2sad.grad_source(text, "chain")
    np.testing.assert_allclose(gradient(x), numeric_grad(_compiled(text, "chain"), [x], 0),
                               rtol=1e-6, atol=1e-9)


# -- issue 19's benchmark programs (benchmarks/programs.py), at small sizes -------------------

import programs  # noqa: E402  (benchmarks/ is on the path above)
import run as benchmark_run  # noqa: E402

PROGRAMS = programs.make_programs(small=True)


def _same_kind(got, expected, what):
    """The gradient has the argument's type and shape: a float for a float, else an array."""
    if np.ndim(expected) == 0:
        assert isinstance(got, float), f"{what}: {type(got).__name__}, expected float"
    else:
        assert isinstance(got, np.ndarray) and got.shape == np.shape(expected) \
            and got.dtype == np.float64, f"{what}: {type(got).__name__} {np.shape(got)}"


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.key for p in PROGRAMS])
def test_hand_gradient_agrees_with_central_differences(program):
    hand = program.hand(*program.args)
    assert len(hand) == len(program.wrt)
    for got, index in zip(hand, program.wrt):
        name = programs.wrt_args(program)[program.wrt.index(index)]
        _same_kind(got, program.args[index], f"hand d/d{name}")
        np.testing.assert_allclose(got, numeric_grad(program.primal, list(program.args), index),
                                   rtol=1e-5, atol=1e-8, err_msg=f"hand d/d{name}")


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.key for p in PROGRAMS])
def test_s2sad_gradient_agrees_with_the_hand_written_one(program):
    before = [np.copy(a) for a in program.args]
    got = s2sad.grad(program.primal, wrt=program.wrt)(*program.args)
    got = got if isinstance(got, tuple) else (got,)
    for g, h, index in zip(got, program.hand(*program.args), program.wrt):
        _same_kind(g, program.args[index], f"s2sad d/d argument {index}")
        np.testing.assert_allclose(g, h, rtol=1e-8, atol=1e-12)
    for a, b in zip(program.args, before):  # the caller's arguments untouched
        np.testing.assert_array_equal(a, b)


def test_the_spellings_of_one_program_compute_the_same_value():
    families = {}
    for p in PROGRAMS:
        if p.family:
            families.setdefault(p.family, []).append(p.primal(*p.args))
    assert len(families) == 7
    for family, values in families.items():
        assert len(values) >= 2, family
        np.testing.assert_allclose(values, values[0], rtol=1e-12, err_msg=family)


def test_rounds_rotate_the_order_of_the_columns():
    order = []
    calls = {key: (lambda key=key: order.append(key)) for key in "abc"}
    seconds = benchmark_run.time_rounds(calls, dict.fromkeys("abc", 1), rounds=4)
    assert order == list("abcbcacababc")
    assert all(len(v) == 4 for v in seconds.values())


def test_the_ratio_is_the_median_of_per_round_ratios():
    seconds = {"s2sad": [2.0, 10.0, 3.0], "by hand": [1.0, 1.0, 3.0]}
    # per round 2, 10, 1: median 2 (the ratio of the medians would be 3 / 1 = 3)
    assert benchmark_run.median_ratio(seconds, "s2sad", "by hand") == 2.0
    assert benchmark_run.median_ratio(seconds, "autograd", "by hand") is None


@pytest.mark.parametrize("steps, snapshots, forward", [
    (3, 1, 3), (10, 10, 9), (10, 2, 20), (50, 4, 144), (1_000_000, 10, 11_647_922)])
def test_revolve_forward_steps(steps, snapshots, forward):
    """Griewank's bound (also what a dynamic programme over the first split finds for the
    small cases): 1 snapshot, 3 steps: x0 -> x2 (2), x0 -> x1 (1); 10 snapshots keep
    every state of 10 steps; 10 steps, 2 snapshots: r = 3, 3 * 10 - C(5, 2)."""
    assert benchmark_run.revolve_forward_steps(steps, snapshots) == forward
