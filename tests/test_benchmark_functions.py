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
