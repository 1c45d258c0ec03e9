"""An array that holds integers or booleans truncates the values written into it.

`c[0] = x[0] * 2.5` into an integer array makes c[0] a step function of x, whose
derivative is 0, while the code differentiated as if c held floats. s2sad checks
at run time that an array written with values depending on the inputs holds floats,
in reverse and forward mode alike, unless every binding of it surely makes floats
(np.zeros(n) with no dtype, arithmetic on the inputs). A dtype given by keyword or
by position, a cast (x.astype(int)) or a comparison is not sure.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sad
from conftest import central_difference


def zeros_with_a_positional_dtype(x):
    c = np.zeros(4, int)
    c[0] = x[0] * 2.5
    return np.sum(c * x)


def zeros_with_a_dtype_string(x):
    c = np.zeros(4, "i8")
    c[1] = x[0] * 2.5
    return np.sum(c * x)


def zeros_like_with_a_dtype(x):
    c = np.zeros_like(x, dtype=int)
    c[1] = x[0] * 2.5
    return np.sum(c * x)


def full_like_with_a_dtype(x):
    c = np.full_like(x, 2, dtype=int)
    c[1] = x[0] * 2.5
    return np.sum(c * x)


def cast_to_integers(x):
    c = x.astype(int)
    c[1] = x[0] * 2.5
    return np.sum(c * x)


def comparison(x):
    c = x > 0
    c[1] = x[0] * 2.5
    return np.sum(c * x)


INTEGER_ARRAYS = [zeros_with_a_positional_dtype, zeros_with_a_dtype_string,
                  zeros_like_with_a_dtype, full_like_with_a_dtype, cast_to_integers,
                  comparison]
X = np.array([1.3, 0.2, -0.7, 0.9])


@pytest.mark.parametrize("fn", INTEGER_ARRAYS)
def test_writing_into_an_integer_array_is_refused_in_reverse_mode(fn):
    with pytest.raises(s2sad.S2SADError, match="holds integers"):
        s2sad.grad(fn)(X)


@pytest.mark.parametrize("fn", INTEGER_ARRAYS)
def test_writing_into_an_integer_array_is_refused_in_forward_mode(fn):
    with pytest.raises(s2sad.S2SADError, match="holds integers"):
        s2sad.jvp(fn)(X, np.ones(4))


def float_arrays(x):
    a = np.zeros(4)
    b = np.zeros_like(x)
    c = x * 1.0
    a[0] = x[1] * 2.0
    b[1] = x[0] * 3.0
    c[2] = x[3] * x[0]
    return np.sum(a * x) + np.sum(b * x) + np.sum(c * c)


def test_float_arrays_are_accepted_and_right_in_both_modes():
    expected = central_difference(float_arrays, {"x": X}, "x")
    np.testing.assert_allclose(s2sad.grad(float_arrays)(X), expected, rtol=1e-6)
    tangents = [s2sad.jvp(float_arrays)(X, e)[1] for e in np.eye(4)]
    np.testing.assert_allclose(tangents, expected, rtol=1e-6)
