"""Rule table for s2sad/rules/shapes.py: reshaping, reordering and selecting functions.

Each expression multiplies by a fixed non-uniform array where the output would
otherwise be symmetric in its elements, so a misplaced gradient shows.
"""
import numpy as np

from rule_cases import ANY, POSITIVE, Case, binary, unary

# sort: inputs spaced apart so no two elements tie
DISTINCT = (-2.0, 2.0)

TABLE = [
    unary(np.expand_dims, "np.expand_dims(a, 0) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.expand_dims, "np.expand_dims(a, axis=-1) * np.arange(2.0)", shapes=[(3,), (2, 3)]),
    unary(np.squeeze, "np.squeeze(a) * np.arange(3.0)", shapes=[(1, 3), (3, 1), (1, 3, 1)]),
    unary(np.squeeze, "np.squeeze(a, axis=0) * np.arange(3.0)", shapes=[(1, 3), (1, 2, 3)]),
    unary(np.squeeze, "np.squeeze(a, 1) * np.arange(3.0)", shapes=[(3, 1)]),
    unary(np.flip, "np.flip(a) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.flip, "np.flip(a, 0) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.flip, "np.flip(a, axis=-1) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.roll, "np.roll(a, 1) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.roll, "np.roll(a, -2, axis=1) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.roll, "np.roll(a, shift=1, axis=0) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.roll, "np.roll(a, (1, 2), axis=(0, 1)) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.tile, "np.tile(a, 2) * np.arange(6.0)", shapes=[(3,), (2, 3)]),
    unary(np.tile, "np.tile(a, (2, 1)) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.tile, "np.tile(a, (2, 1, 2)) * np.arange(6.0)", shapes=[(3,), (2, 3)]),
    unary(np.tile, "np.tile(a, reps=3) * np.arange(3.0)", shapes=[()]),
    unary(np.repeat, "np.repeat(a, 2) * np.arange(6.0)", shapes=[(3,)]),
    unary(np.repeat, "np.repeat(a, 2) * np.arange(12.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, 3, axis=0) * np.arange(9.0)", shapes=[(3,)]),
    unary(np.repeat, "np.repeat(a, 3, axis=0) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, repeats=2, axis=-1) * np.arange(6.0)", shapes=[(2, 3)]),
    unary(np.broadcast_to, "np.broadcast_to(a, (2, 3)) * np.arange(3.0)",
          shapes=[(), (3,), (1, 3), (2, 1), (2, 3)]),
    unary(np.broadcast_to, "np.broadcast_to(a, shape=(4, 2, 3)) * np.arange(3.0)",
          shapes=[(2, 3)]),
    unary(np.take, "np.take(a, [0, 2, 2]) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.take, "np.take(a, 1) * a", shapes=[(3,), (2, 3)]),
    unary(np.take, "np.take(a, [[1, 0], [1, 1]], axis=1) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.take, "np.take(a, indices=[2, 0, 0], axis=0) * np.arange(3.0)", shapes=[(3,)]),
    unary(np.take, "np.take(a, 0, axis=-1) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.sort, "np.sort(a) * np.arange(3.0)", DISTINCT, shapes=[(3,), (2, 3)]),
    # a position taken twice gets both; indices broadcast against a's size-1 axis
    unary(np.take_along_axis,
          "np.take_along_axis(a, np.array([[2, 0, 0], [1, 1, 2]], dtype=int), 1)",
          shapes=[(2, 3)]),
    unary(np.take_along_axis,
          "np.take_along_axis(a, np.array([[1, 0, 1]], dtype=int), axis=0)",
          shapes=[(2, 3)]),
    unary(np.take_along_axis,
          "np.take_along_axis(a, np.array([[1, 0], [2, 2]], dtype=int), -1)",
          shapes=[(1, 3)]),
    unary(np.take_along_axis, "np.take_along_axis(a, np.array([4, 0, 4], dtype=int), None)",
          shapes=[(2, 3)]),
    unary(np.sort, "np.sort(a, axis=0) * np.arange(3.0)", DISTINCT, shapes=[(4, 3)]),
    unary(np.sort, "np.sort(a, None) * np.arange(6.0)", DISTINCT, shapes=[(2, 3)]),
    binary(np.where, "np.where(a > b, a, b)"),
    binary(np.where, "np.where(a > 0, a * b, -b)"),
    binary(np.where, "np.where(b > 0.5, 2.0, a)"),
    unary(np.clip, "np.clip(a, -1.0, 1.0)"),
    unary(np.clip, "np.clip(a, a_min=-0.5, a_max=None)"),
    unary(np.clip, "np.clip(a, None, 0.5)"),
    binary(np.clip, "np.clip(a, b, 1.5)", ((-2.0, 2.0), (-1.0, 1.0))),
    binary(np.clip, "np.clip(b, -1.5, a)", ((-1.0, 1.0), (-2.0, 2.0))),
]

# distinct values for np.partition, as for sort
TABLE += [
    unary((np.atleast_1d,), "np.atleast_1d(a) * np.arange(3.0)", shapes=[(), (3,)]),
    unary((np.atleast_2d,), "np.atleast_2d(a) * np.arange(3.0)", shapes=[(), (3,), (2, 3)]),
    unary((np.atleast_3d,), "np.atleast_3d(a) * np.arange(3.0)[:, None]", shapes=[(3,)]),
    unary((np.atleast_3d,), "np.atleast_3d(a) * np.arange(3.0)[:, None]", shapes=[(2, 3)]),
    unary(np.moveaxis, "np.moveaxis(a, 0, -1) * np.arange(2.0)", shapes=[(2, 3, 2)]),
    unary(np.moveaxis, "np.moveaxis(a, (0, 1), (2, 0)) * np.arange(2.0)", shapes=[(2, 3, 4)]),
    unary(np.rollaxis, "np.rollaxis(a, 2) * np.arange(4.0)", shapes=[(2, 4, 3)]),
    unary(np.rollaxis, "np.rollaxis(a, 0, 3) * np.arange(2.0)", shapes=[(2, 3, 2)]),
    unary(np.rollaxis, "np.rollaxis(a, -1, start=1) * np.arange(4.0)", shapes=[(2, 4, 3)]),
    unary(np.rot90, "np.rot90(a) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.rot90, "np.rot90(a, 3, axes=(1, 0)) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.rot90, "np.rot90(a, k=2) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.fliplr, "np.fliplr(a) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.flipud, "np.flipud(a) * np.arange(3.0)", shapes=[(3,), (2, 3)]),
    unary(np.diag, "np.diag(a) * np.arange(3.0)", shapes=[(3,)]),
    unary(np.diag, "np.diag(a, 1) * np.arange(4.0)", shapes=[(3,)]),
    unary(np.diag, "np.diag(a) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.diag, "np.diag(a) * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.diag, "np.diag(a, k=-1) * np.arange(2.0)", shapes=[(3, 3)]),
    unary(np.diagonal, "np.diagonal(a) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.diagonal, "np.diagonal(a, 1) * np.arange(2.0)", shapes=[(3, 3)]),
    unary(np.diagonal, "np.diagonal(a, 0, 1, 2) * np.arange(3.0)", shapes=[(2, 3, 3)]),
    unary(np.diagonal, "a.diagonal(-1) * np.arange(2.0)", shapes=[(3, 3)]),
    unary(np.tril, "np.tril(a) * np.arange(3.0)", shapes=[(3, 3), (2, 3)]),
    unary(np.tril, "np.tril(a, -1) * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.triu, "np.triu(a) * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.triu, "np.triu(a, k=1) * np.arange(3.0)", shapes=[(2, 3, 3)]),
    unary(np.diff, "np.diff(a) * np.arange(3.0)", shapes=[(4,), (2, 4)]),
    unary(np.diff, "np.diff(a, 2) * np.arange(3.0)", shapes=[(5,)]),
    unary(np.diff, "np.diff(a, axis=0) * np.arange(3.0)", shapes=[(4, 3)]),
    unary(np.pad, "np.pad(a, 1) * np.arange(5.0)", shapes=[(3,)]),
    unary(np.pad, "np.pad(a, (2, 1)) * np.arange(6.0)", shapes=[(3,), (2, 3)]),
    unary(np.pad, "np.pad(a, ((1, 0), (0, 2))) * np.arange(5.0)", shapes=[(2, 3)]),
    unary(np.pad, "np.pad(a, 1, mode='constant') * np.arange(5.0)", shapes=[(3, 3)]),
    unary(np.partition, "np.partition(a, 2) * np.arange(5.0)", DISTINCT, shapes=[(5,)]),
    unary(np.partition, "np.partition(a, 1, axis=0) * np.arange(3.0)", DISTINCT,
          shapes=[(4, 3)]),
    unary(np.partition, "np.partition(a, (0, 2)) * np.arange(4.0)", DISTINCT, shapes=[(2, 4)]),
    unary(np.gradient, "np.gradient(a) * np.arange(5.0)", shapes=[(5,)]),
    unary(np.gradient, "np.gradient(a) * np.arange(3.0)", shapes=[(3,)]),
]

# issue 18: np.gradient with axis, spacing (numbers, coordinates) and edge_order; several
# axes give a tuple, read by index
COORDINATES = "np.array([0.0, 0.3, 1.0, 1.2, 2.0])"
TABLE += [
    unary(np.gradient, "np.gradient(a, axis=0) * np.arange(3.0)", shapes=[(4, 3)]),
    unary(np.gradient, "np.gradient(a, 0.5, axis=-1, edge_order=2) * np.arange(4.0)",
          shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, 2.0, edge_order=2) * np.arange(5.0)", shapes=[(5,)]),
    unary(np.gradient, f"np.gradient(a, {COORDINATES}) * np.arange(5.0)", shapes=[(5,)]),
    unary(np.gradient, f"np.gradient(a, {COORDINATES}, axis=0, edge_order=2) * np.arange(2.0)",
          shapes=[(5, 2)]),
    unary(np.gradient, "np.gradient(a, [0.0, 1.0, 3.0], axis=1) * np.arange(3.0)",
          shapes=[(2, 3)]),
    unary(np.gradient, "np.gradient(a, axis=(1,)) * np.arange(4.0)", shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a)[1] * np.arange(4.0)", shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, 0.5)[0] * np.gradient(a, 0.5)[1]", shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, 0.5, 0.25)[0] * np.arange(4.0)", shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, axis=(0, 1), edge_order=2)[1] * np.arange(4.0)",
          shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, 1.0, 2.0, axis=(1, 0))[1] * np.arange(4.0)",
          shapes=[(3, 4)]),
    unary(np.gradient, "np.gradient(a, 1.0, 2.0, 0.5)[2] * np.arange(4.0)",
          shapes=[(2, 3, 4)]),
]

# issue 18: np.repeat with repeats of zero and arrays of repeats (zeros among them)
TABLE += [
    unary(np.repeat, "np.sum(np.repeat(a, 0)) + a", shapes=[(3,), (2, 3)]),
    unary(np.repeat, "np.repeat(a, [0, 2, 1]) * np.arange(3.0)", shapes=[(3,)]),
    unary(np.repeat, "np.repeat(a, [1, 0, 0, 2, 1, 3]) * np.arange(7.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, [2, 0], axis=0) * np.arange(3.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, np.array([1, 0, 3], dtype=int), axis=-1) * "
          "np.arange(4.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, repeats=[3], axis=1) * np.arange(9.0)", shapes=[(2, 3)]),
    unary(np.repeat, "np.repeat(a, 3) * np.arange(3.0)", shapes=[()]),
    unary(np.repeat, "a.repeat(2, axis=0) * np.arange(3.0)", shapes=[(2, 3)]),
]

# issue 18: np.cross along any axis (axis= sets axisa, axisb and axisc), broadcasting,
# and 2-vectors (deprecated in NumPy 2, still computed: a 3-vector with z = 0)
TABLE += [
    binary(np.cross, "np.cross(a, b, axis=0) * np.arange(4.0)",
           shapes=[((3, 4), (3, 4)), ((3, 1), (3, 4)), ((3, 4), (3,))]),
    binary(np.cross, "np.cross(a, b, axisa=0, axisb=0) * np.arange(3.0)",
           shapes=[((3, 4), (3, 4))]),
    binary(np.cross, "np.cross(a, b, axisa=0, axisc=0) * np.arange(4.0)",
           shapes=[((3, 4), (4, 3))]),
    binary(np.cross, "np.cross(a, b, axisb=-2, axisc=-1) * np.arange(3.0)",
           shapes=[((2, 3), (3, 2)), ((3,), (3, 2))]),
    binary(np.cross, "np.cross(a, b, -1, 0, 0) * np.arange(2.0)", shapes=[((2, 3), (3, 2))]),
    binary(np.cross, "np.cross(a, b) * np.arange(3.0)", shapes=[((2,), (3,)), ((4, 3), (2,))]),
    binary(np.cross, "np.cross(a, b) * np.arange(4.0)", shapes=[((4, 2), (4, 2))]),
    binary(np.cross, "np.cross(a, b, axis=0) * np.arange(4.0)", shapes=[((2, 4), (2, 4))]),
]

TABLE += [
    unary(np.fft.fftshift, "np.fft.fftshift(a) * np.arange(5.0)", shapes=[(5,), (2, 5)]),
    unary(np.fft.fftshift, "np.fft.fftshift(a, axes=0) * np.arange(3.0)", shapes=[(3, 3)]),
    unary(np.fft.ifftshift, "np.fft.ifftshift(a) * np.arange(5.0)", shapes=[(5,), (3, 5)]),
    unary(np.fft.ifftshift, "np.fft.ifftshift(a, (0, 1)) * np.arange(4.0)", shapes=[(3, 4)]),
]
