"""Forward mode on both corpora: every function's JVP against reverse mode and against
central differences along the same direction.

For each function of corpus.py and corpus_loops.py, all its float parameters at
once, along a fixed random direction v:

* the value is the primal's;
* the tangent equals sum_k <grad_k f, v_k> from reverse mode (the two modes are
  independent code paths, so this is the dot-product test, rtol 1e-9);
* it equals the central difference (f(x + eps v) - f(x - eps v)) / 2 eps;
* the unoptimized JVP gives the same numbers, and the arguments are unchanged.
"""
import zlib

import numpy as np
import pytest

import corpus
import corpus_loops
import s2sad
from conftest import call_by_name, inputs_for
from test_loops import loop_inputs_for

CASES = [pytest.param(fn, inputs_for, id=fn.__name__) for fn in corpus.FUNCTIONS] + \
    [pytest.param(fn, loop_inputs_for, id=f"loops-{fn.__name__}")
     for fn in corpus_loops.FUNCTIONS]


def _direction(name, value):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if isinstance(value, np.ndarray):
        return rng.uniform(-1.0, 1.0, size=value.shape)
    return float(rng.uniform(-1.0, 1.0))


def _setup(fn, make_inputs):
    inputs = make_inputs(fn)
    params = inputs.float_params
    if not params:
        pytest.skip("no float parameter")
    wrt = tuple(inputs.wrt_spec(p) for p in params)
    directions = tuple(_direction(f"{fn.__name__}.{p}", inputs.values[p]) for p in params)
    return inputs, params, wrt, directions


def _along(fn, inputs, params, directions, step):
    values = {k: v.copy() if isinstance(v, np.ndarray) else v
              for k, v in inputs.values.items()}
    for p, d in zip(params, directions):
        values[p] = values[p] + step * d
    return float(call_by_name(fn, values))


@pytest.mark.parametrize("fn, make_inputs", CASES)
def test_forward_agrees_with_reverse_and_central_differences(fn, make_inputs):
    inputs, params, wrt, directions = _setup(fn, make_inputs)
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.values.items()}
    value, tangent = s2sad.jvp(fn, wrt=wrt)(*inputs.args, directions, **inputs.kwargs)
    for k, v in before.items():
        np.testing.assert_array_equal(inputs.values[k], v)
    np.testing.assert_allclose(value, _along(fn, inputs, params, directions, 0.0), rtol=1e-12)
    grads = s2sad.grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    expected = sum(float(np.sum(g * d)) for g, d in zip(grads, directions))
    np.testing.assert_allclose(tangent, expected, rtol=1e-9, atol=1e-12)
    eps = 1e-6
    central = (_along(fn, inputs, params, directions, eps)
               - _along(fn, inputs, params, directions, -eps)) / (2 * eps)
    np.testing.assert_allclose(tangent, central, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, make_inputs", CASES)
def test_unoptimized_forward_gives_the_same_numbers(fn, make_inputs):
    inputs, params, wrt, directions = _setup(fn, make_inputs)
    fast = s2sad.jvp(fn, wrt=wrt)(*inputs.args, directions, **inputs.kwargs)[1]
    plain = s2sad.jvp(fn, wrt=wrt, optimize=False)(*inputs.args, directions,
                                                   **inputs.kwargs)[1]
    np.testing.assert_allclose(plain, fast, rtol=1e-12, atol=1e-14)
