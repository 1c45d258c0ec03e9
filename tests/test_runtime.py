"""The runtime helpers generated code calls, against what NumPy gives directly."""
import numpy as np
import pytest

import itertools

from s2sad.runtime import fits, summed_to, tie_count, unbroadcast, unsum


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


def _target_shapes(shape):
    """Every shape an array of `shape` can be broadcast up from: leading axes dropped,
    any of the rest set to 1."""
    for lead in range(len(shape) + 1):
        rest = shape[lead:]
        for ones in itertools.product([False, True], repeat=len(rest)):
            yield tuple(1 if one else n for one, n in zip(ones, rest))


def _layouts(g):
    """g in C order, Fortran order, and as a strided view."""
    return [g, np.asfortranarray(g), g[..., ::-1] if g.ndim else g]


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (5, 1, 3), (4, 1), (2, 0, 3), (6,), ()])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.complex128])
def test_unbroadcast_sums_down_to_every_shape_that_broadcasts_up(shape, dtype):
    """The product with ones (C-contiguous floats, leading or trailing axes) and
    np.sum (every other case) agree with summing the axes one by one."""
    g = (np.random.default_rng(0).normal(size=shape) * 10).astype(dtype)
    for target in _target_shapes(shape):
        for layout in _layouts(g):
            expected = layout.sum(axis=tuple(range(len(shape) - len(target))))
            summed = tuple(i for i, n in enumerate(target) if n == 1 and expected.shape[i] != 1)
            expected = expected.sum(axis=summed, keepdims=True)
            got = unbroadcast(layout, np.zeros(target))
            assert np.shape(got) == target and got.dtype == dtype
            np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_unbroadcast_returns_the_adjoint_itself_where_nothing_broadcast():
    g = np.ones((2, 3))
    assert unbroadcast(g, np.zeros((2, 3))) is g
    assert unbroadcast(1.5, 2.0) == 1.5


@pytest.mark.parametrize("axes, shape", [([0], (1, 4)), ([1], (3, 1)), ([0, 1], (1, 1)),
                                          ([], (3, 4))])
def test_summed_to_keeps_the_order_of_a_float_sum(axes, shape):
    """Row and column sums through BLAS equal np.sum's to rounding, with a fresh result."""
    g = np.random.default_rng(1).normal(size=(3, 4))
    got = summed_to(g, axes, shape)
    np.testing.assert_allclose(got, g.sum(axis=tuple(axes), keepdims=True), rtol=1e-13)
    assert got.shape == shape and not np.shares_memory(got, g)


@pytest.mark.parametrize("dtype, expected", [(np.float64, np.float64), (np.float32, np.float32),
                                              (np.int64, np.float64), (np.float16, np.float32)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("rows", [2, 40_000])  # counted as floats, and by np.count_nonzero
def test_tie_count_counts_the_ties_in_the_extremum_s_float_type(dtype, expected, axis,
                                                                 keepdims, rows):
    a = np.tile(np.array([[1, 3, 3], [2, 0, 1]], dtype=dtype), (rows // 2, 1))
    hit = a == np.max(a, axis=axis, keepdims=True)
    got = tie_count(hit, a, axis, keepdims)
    want = np.count_nonzero(hit, axis=axis, keepdims=keepdims)
    assert got.dtype == expected and got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("buffer_shape", [(3, 4), (3, 1), (1, 4), (4,), ()])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fits_exactly_where_the_result_has_the_buffer_s_shape_and_dtype(buffer_shape, dtype):
    buffer = np.zeros(buffer_shape, dtype)
    for shape in [(3, 4), (3, 1), (1, 4), (4,), (1,), (), (2, 3, 4), (5,)]:
        for other in (np.float64, np.float32, np.int64):
            operand = np.ones(shape, other)
            try:
                result = buffer + operand
            except ValueError:  # shapes that do not broadcast: no room either
                assert fits(buffer, operand) is None
                continue
            room = result.shape == buffer.shape and result.dtype == buffer.dtype
            assert (fits(buffer, operand) is buffer) == room, (shape, other)
    assert fits(buffer, 2.0) is buffer and fits(buffer, 3) is buffer
    assert fits(buffer, [1.0] * 4) is (buffer if buffer_shape in [(3, 4), (1, 4), (4,)] and
                                       dtype == np.float64 else None)
