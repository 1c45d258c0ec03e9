"""The runtime helpers generated code calls, against what NumPy gives directly."""
import numpy as np
import pytest

from s2sad.runtime import unsum


@pytest.mark.parametrize("axis", [0, 1, 2, -1, (0, 2), (1,), None])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unsum_spreads_a_sum_back_over_its_axes(axis, keepdims, dtype):
    x = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    dy = np.sum(x, axis=axis, keepdims=keepdims)
    got = unsum(dy, x, axis, keepdims)
    kept = dy if keepdims or axis is None else np.expand_dims(
        dy, axis if isinstance(axis, tuple) else (axis,))
    assert got.shape == x.shape and got.dtype == dtype
    np.testing.assert_array_equal(got, np.broadcast_to(kept, x.shape))
    got[0, 0, 0] = -1.0  # a new array, not a view of dy
    assert dy.flat[0] != -1.0


def test_unsum_of_a_python_number_over_an_array_fills_it():
    got = unsum(0.5, np.zeros((2, 3)))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.full((2, 3), 0.5))


def test_unsum_refuses_an_adjoint_that_does_not_fit():
    with pytest.raises(ValueError, match=r"cannot spread an adjoint of shape \(2,\) over "
                                         r"\(2, 3, 4\) along axis 1"):
        unsum(np.ones(2), np.ones((2, 3, 4)), 1)  # one axis short
    with pytest.raises(ValueError):
        unsum(np.ones((2, 5)), np.ones((2, 3, 4)), 1)  # the kept axes do not match
