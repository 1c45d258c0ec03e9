"""Shape, selection and reordering functions: adjoints move dy back to the input's layout."""
import numpy as np

from . import adjoint


@adjoint(np.expand_dims)
def expand_dims_adjoint(dy, y, a, axis):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.squeeze)
def squeeze_adjoint(dy, y, a, axis=None):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.flip)
def flip_adjoint(dy, y, m, axis=None):
    dm = np.flip(dy, axis)
    return dm


@adjoint(np.roll)
def roll_adjoint(dy, y, a, shift, axis=None):
    da = np.roll(dy, np.negative(shift), axis)
    return da


@adjoint(np.tile)
def tile_adjoint(dy, y, A, reps):
    # y has axes (r0 * s0, r1 * s1, ...) once A's shape s and reps r are padded to one
    # length: split each into (r_i, s_i), move the r axes first and sum them away
    shape = np.shape(A)
    counts = np.ravel(reps).astype(int)
    rank = np.maximum(np.size(shape), np.size(counts))
    sizes = np.concatenate([np.ones(rank - np.size(shape), dtype=int), shape]).astype(int)
    counts = np.concatenate([np.ones(rank - np.size(counts), dtype=int), counts])
    split = np.reshape(dy, np.ravel(np.stack([counts, sizes], axis=1)))
    order = np.concatenate([np.arange(0, 2 * rank, 2), np.arange(1, 2 * rank, 2)])
    blocks = np.reshape(np.transpose(split, order), np.concatenate([[-1], sizes]))
    dA = np.reshape(np.sum(blocks, axis=0), shape)
    return dA


@adjoint(np.repeat)
def repeat_adjoint(dy, y, a, repeats, axis=None):
    # repeats is one int: each element's copies lie next to each other along the axis
    require_shapes(np.ndim(repeats) == 0 and repeats > 0, "np.repeat with an array of "
                   "repeats, or none")
    da = np.reshape(np.sum(np.reshape(dy, (-1, repeats)), axis=1), np.shape(a)) \
        if axis is None else \
        np.sum(np.reshape(dy, np.insert(np.shape(a), axis % np.ndim(a) + 1, repeats)),
               axis=axis % np.ndim(a) + 1)
    return da


@adjoint(np.broadcast_to)
def broadcast_to_adjoint(dy, y, array, shape):
    darray = unbroadcast(dy, array)
    return darray


@adjoint(np.take)
def take_adjoint(dy, y, a, indices, axis=None):
    # scatter along the taken axis, moved first; np.add.at adds at repeated indices
    require_shapes(not isinstance(indices, tuple), "np.take with a tuple of indices")
    flat = np.reshape(a, -1) if axis is None else a
    position = 0 if axis is None else axis % np.ndim(a)
    count = np.ndim(indices)
    moved = np.zeros(np.shape(np.moveaxis(flat, position, 0)), dtype=np.result_type(dy, float))
    np.add.at(moved, indices,
              np.moveaxis(dy, np.arange(position, position + count), np.arange(count)))
    da = np.reshape(np.moveaxis(moved, 0, position), np.shape(a))
    return da


@adjoint(np.sort)
def sort_adjoint(dy, y, a, axis=-1):
    # y = take_along_axis(a, p) for p = argsort(a): dy goes back through p's inverse
    inverse = np.argsort(np.argsort(a, axis), axis)
    da = np.reshape(np.take_along_axis(dy, inverse, axis), np.shape(a))
    return da


# np.where's own names (condition, x, y) clash with the template's y, and NumPy takes
# them positionally only, so the template names the branches x and other
@adjoint(np.where, check=False)
def where_adjoint(dy, y, condition, x, other):
    dx = unbroadcast(np.where(condition, dy, 0), x)
    dother = unbroadcast(np.where(condition, 0, dy), other)
    return dx, dother


@adjoint(np.clip)
def clip_adjoint(dy, y, a, a_min=None, a_max=None):
    # y = minimum(maximum(a, a_min), a_max): dy goes to whichever value y equals
    raised = np.maximum(a, a_min) if a_min is not None else a
    below = (a < a_min) if a_min is not None else False
    above = (raised > a_max) if a_max is not None else False  # (a_max wins if a_min > a_max)
    da = unbroadcast(np.where(np.logical_or(below, above), 0, dy), a)
    da_min = unbroadcast(np.where(np.logical_and(below, np.logical_not(above)), dy, 0), a_min)
    da_max = unbroadcast(np.where(above, dy, 0), a_max)
    return da, da_min, da_max
