"""Golden source: the emitted code of the canonical examples, pinned byte for byte.

To accept a reviewed change: S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""
import os
import pathlib
import re

import numpy as np
import pytest

import s2sad

from golden import functions

GOLDEN = pathlib.Path(__file__).parent / "golden"
CASES = [
    ("seed002_grad_f.py", functions.f, 0),
    ("lecture_grad_F.py", functions.F, (0, 1)),
    ("regression_grad.py", functions.regression, 0),
    ("convolution_grad.py", functions.convolution, (0, 1)),
    ("lecture_convolution_grad.py", functions.lecture_convolution, (0, 1)),
    ("horner_grad.py", functions.horner, (0, 1)),
]
# Compiled for the ranks of a call: matrices, so `@` takes the lecture's form.
MATRICES = (np.ones((3, 2)), np.ones((2, 4)))
CALLED = [
    ("matrix_product_grad.py", functions.matrix_product, (0, 1), MATRICES),
    ("linear_regression_grad.py", functions.linear_regression, 0,
     (np.ones((2, 3)), np.ones((5, 2)), np.ones((5, 3)))),
    # everyday Python (issue 17): a list grown by append, a generator, a dict comprehension
    ("rnn_outputs_grad.py", functions.rnn_outputs, 0, (np.eye(2) * 0.5, np.ones((3, 2)))),
    ("weighted_squares_grad.py", functions.weighted_squares, (0, 1),
     (np.array([0.5, -1.0, 2.0]), 0.3)),
    ("layer_norms_grad.py", functions.layer_norms, 0,
     ({"W1": np.ones((2, 2)), "W2": np.ones(3)},)),
    # a cyclic constraint (issue 21): seed 002's multiplier solve, then the vjps of cell
    ("deq_grad.py", functions.deq, (0, 2),
     (0.1 * np.eye(3), np.ones((3, 2)), np.ones(3) * 0.5, np.ones(2))),
]


def _normalise(source: str) -> str:
    """The header names the file the function came from; keep only its base name."""
    return re.sub(r"\(([^()]*/)?functions\.py:", "(functions.py:", source)


@pytest.mark.parametrize("filename, function, wrt", CASES, ids=[c[0] for c in CASES])
def test_golden_source(filename, function, wrt):
    _compare(filename, s2sad.source(function, wrt=wrt))


# Forward mode: one tangent line after each primal line.
FORWARD = [
    ("seed002_jvp_f.py", functions.f, 0),
    ("horner_jvp.py", functions.horner, (0, 1)),
]


@pytest.mark.parametrize("filename, function, wrt", FORWARD, ids=[c[0] for c in FORWARD])
def test_golden_forward_source(filename, function, wrt):
    _compare(filename, s2sad.source(function, wrt=wrt, mode="forward"))


@pytest.mark.parametrize("filename, function, wrt, args", CALLED, ids=[c[0] for c in CALLED])
def test_golden_source_for_a_call(filename, function, wrt, args):
    gradient = s2sad.grad(function, wrt=wrt)
    gradient(*args)
    _compare(filename, gradient.source)


def _compare(filename: str, source: str) -> None:
    actual = _normalise(source)
    path = GOLDEN / filename
    if os.environ.get("S2SAD_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text()
