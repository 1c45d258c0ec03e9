"""Shape, selection and reordering functions: adjoints move dy back to the input's layout."""
import gast
import numpy as np

from .. import runtime
from . import adjoint, tangent


@adjoint(np.expand_dims, linear="a")
def expand_dims_adjoint(dy, y, a, axis):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.squeeze, linear="a")
def squeeze_adjoint(dy, y, a, axis=None):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.flip, linear="m")
def flip_adjoint(dy, y, m, axis=None):
    dm = np.flip(dy, axis)
    return dm


@adjoint(np.roll, linear="a")
def roll_adjoint(dy, y, a, shift, axis=None):
    da = np.roll(dy, np.negative(shift), axis)
    return da


@adjoint(np.tile, linear="A")
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


@adjoint(np.repeat, linear="a")
def repeat_adjoint(dy, y, a, repeats, axis=None):
    # y reads a (raveled where axis is None) at source = np.repeat(np.arange(n), repeats)
    # along the axis: the copies of each element, none or several, add up back into it
    along = 0 if axis is None else axis
    rows = np.ravel(a) if axis is None else np.moveaxis(a, along, 0)
    source = np.repeat(np.arange(np.shape(rows)[0]), repeats)
    drows = unindex(np.moveaxis(dy, along, 0), rows, source)
    da = np.reshape(np.moveaxis(drows, 0, along), np.shape(a))
    return da


@adjoint(np.broadcast_to, linear="array")
def broadcast_to_adjoint(dy, y, array, shape):
    darray = unbroadcast(dy, array)
    return darray


@adjoint(np.take, linear="a")
def take_adjoint(dy, y, a, indices, axis=None):
    # scatter along the taken axis, moved first; np.add.at adds at repeated indices
    require_shapes(not isinstance(indices, tuple), "np.take with a tuple of indices")
    flat = np.reshape(a, -1) if axis is None else a
    position = 0 if axis is None else axis % np.ndim(a)
    count = np.ndim(indices)
    moved = np.zeros(np.shape(np.moveaxis(flat, position, 0)), dtype=np.result_type(dy, a, np.float32))
    np.add.at(moved, indices,
              np.moveaxis(dy, np.arange(position, position + count), np.arange(count)))
    da = np.reshape(np.moveaxis(moved, 0, position), np.shape(a))
    return da


@adjoint(np.take_along_axis, linear="arr")
def take_along_axis_adjoint(dy, y, arr, indices, axis):
    # (axis has no default: it changed from required to -1 in NumPy 2.3)
    darr = untake_along_axis(dy, arr, indices, axis)
    return darr


@adjoint(np.sort)
def sort_adjoint(dy, y, a, axis=-1):
    # y = take_along_axis(a, p) for p = argsort(a): dy goes back through p's inverse
    inverse = np.argsort(np.argsort(a, axis), axis)
    da = np.reshape(np.take_along_axis(dy, inverse, axis), np.shape(a))
    return da


# np.where's own names (condition, x, y) clash with the template's y, and NumPy takes
# them positionally only, so the template names the branches x and other
@adjoint(np.where, check=False, linear=("x", "other"))
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


# -- products of vectors along an axis ---------------------------------------------------

@adjoint(np.cross, multilinear=("a", "b"))
def cross_adjoint(dy, y, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """y = a x b of the vectors along a's axisa and b's axisb, along y's axisc (axis= sets
    all three): <dy, a x b> = <a, b x dy> = <b, dy x a>, worked out with the vectors
    last. A 2-vector is a 3-vector with z = 0; the product of two is a number, y's z."""
    vectors_a = np.moveaxis(a, axisa if axis is None else axis, -1)
    vectors_b = np.moveaxis(b, axisb if axis is None else axis, -1)
    width_a = np.shape(vectors_a)[-1]
    width_b = np.shape(vectors_b)[-1]
    # (a 3-vector among the two: y's vectors along axisc; two 2-vectors: y is z alone)
    dvectors = np.moveaxis(dy, axisc if axis is None else axis, -1) \
        if width_a + width_b > 4 else \
        np.expand_dims(dy, -1) * np.array([0.0, 0.0, 1.0], dtype=np.result_type(dy))
    padded_a = np.pad(vectors_a, [(0, 0)] * (np.ndim(vectors_a) - 1) + [(0, 3 - width_a)])
    padded_b = np.pad(vectors_b, [(0, 0)] * (np.ndim(vectors_b) - 1) + [(0, 3 - width_b)])
    da = np.moveaxis(unbroadcast(np.cross(padded_b, dvectors)[..., :width_a], vectors_a),
                     -1, axisa if axis is None else axis)
    db = np.moveaxis(unbroadcast(np.cross(dvectors, padded_a)[..., :width_b], vectors_b),
                     -1, axisb if axis is None else axis)
    return da, db


@adjoint(np.convolve, multilinear=("a", "v"))
def convolve_adjoint(dy, y, a, v, mode="full"):
    """Every mode is the centred part of the full convolution: dy back in the centre of
    the full shape, convolved with the other operand flipped (valid). scipy.signal's
    convolve and correlate are the same (rules/scipy_signal.py)."""
    full = convolution_shape(a, v)
    dfull = centred_in(dy, full)
    da = np.convolve(dfull, np.flip(v), mode="valid")
    dv = np.convolve(dfull, np.flip(a), mode="valid")
    return da, dv


# -- joining: a list of arrays in, one array out -------------------------------------
# The adjoint of the list is a list of pieces of dy; element i of the call's list gets
# piece i (reverse.accumulate_elements).

@adjoint(np.concatenate, linear="arrays")
def concatenate_adjoint(dy, y, arrays, axis=0):
    darrays = unconcatenate(dy, arrays, axis)
    return darrays


@adjoint(np.append, linear=("arr", "values"))
def append_adjoint(dy, y, arr, values, axis=None):
    # np.concatenate((arr, values), axis), of both raveled where axis is None
    pieces = unconcatenate(dy, (arr, values), axis)
    darr = pieces[0]
    dvalues = pieces[1]
    return darr, dvalues


@adjoint(np.stack, linear="arrays")
def stack_adjoint(dy, y, arrays, axis=0):
    darrays = unstack(dy, arrays, axis)
    return darrays


@adjoint(np.hstack, linear="tup")
def hstack_adjoint(dy, y, tup):
    dtup = unhstack(dy, tup)
    return dtup


# np.row_stack, NumPy's old name of vstack, where the installed NumPy still has it
ROW_STACK = (np.row_stack,) if hasattr(np, "row_stack") else ()


@adjoint(np.vstack, *ROW_STACK, linear="tup")
def vstack_adjoint(dy, y, tup):
    dtup = unvstack(dy, tup)
    return dtup


@adjoint(np.dstack, linear="tup")
def dstack_adjoint(dy, y, tup):
    dtup = undstack(dy, tup)
    return dtup


@adjoint(np.column_stack, linear="tup")
def column_stack_adjoint(dy, y, tup):
    dtup = uncolumn_stack(dy, tup)
    return dtup


# np.array([x, y]) is np.asarray of a list: element i of the list gets dy[i]; x.astype(t)
# is lowered to np.array(x, t) (for dask's arrays, array_astype(x, t): dispatch.py). A
# cast goes back to the argument's float type.
@adjoint(np.array, np.asarray, runtime.array_astype, check=False)
def array_adjoint(dy, y, object, dtype=None):
    dobject = dy if dtype is None else unastype(dy, object, dtype)
    return dobject


# x.item(): the Python number of a one-element array (or NumPy scalar); its adjoint is
# shaped, and typed, like x
@adjoint(runtime.item, check=False, linear="a")
def item_adjoint(dy, y, a):
    da = unastype(np.reshape(dy, np.shape(a)), a, None)
    return da


# -- splitting: one array in, a list of arrays out -------------------------------------
# The user indexes the list (parts[0], or a, b = np.split(x, 2)); the adjoint of the
# list arrives as Pieces, one adjoint per part, and the parts join back up.

@adjoint(np.split, np.array_split, shape="pieces", linear="ary")
def split_adjoint(dy, y, ary, indices_or_sections, axis=0):
    dary = np.concatenate(dy, axis)
    return dary


@adjoint(np.hsplit, shape="pieces", linear="ary")
def hsplit_adjoint(dy, y, ary, indices_or_sections):
    dary = np.concatenate(dy, 1 if np.ndim(ary) > 1 else 0)
    return dary


@adjoint(np.vsplit, shape="pieces", linear="ary")
def vsplit_adjoint(dy, y, ary, indices_or_sections):
    dary = np.concatenate(dy, 0)
    return dary


@adjoint(np.dsplit, shape="pieces", linear="ary")
def dsplit_adjoint(dy, y, ary, indices_or_sections):
    dary = np.concatenate(dy, 2)
    return dary


# -- more reshaping and reordering ------------------------------------------------------

@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, check=False, linear="a")
def atleast_adjoint(dy, y, a):
    # one array at a time (several arguments return a list: the call does not bind)
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.moveaxis, linear="a")
def moveaxis_adjoint(dy, y, a, source, destination):
    da = np.moveaxis(dy, destination, source)
    return da


@adjoint(np.rollaxis, linear="a")
def rollaxis_adjoint(dy, y, a, axis, start=0):
    # rollaxis(a, axis, start) is moveaxis(a, axis, start, less one if start is past axis)
    da = np.moveaxis(dy, rollaxis_destination(a, axis, start), axis)
    return da


@adjoint(np.rot90, linear="m")
def rot90_adjoint(dy, y, m, k=1, axes=(0, 1)):
    dm = np.rot90(dy, -k, axes)
    return dm


@adjoint(np.fliplr, linear="m")
def fliplr_adjoint(dy, y, m):
    dm = np.fliplr(dy)
    return dm


@adjoint(np.flipud, linear="m")
def flipud_adjoint(dy, y, m):
    dm = np.flipud(dy)
    return dm


@adjoint(np.diag, linear="v")
def diag_adjoint(dy, y, v, k=0):
    # 1-d v makes a matrix with v on diagonal k; 2-d v reads that diagonal
    dv = np.diagonal(dy, k) if np.ndim(v) == 1 else undiagonal(dy, v, k)
    return dv


@adjoint(np.diagonal, linear="a")
def diagonal_adjoint(dy, y, a, offset=0, axis1=0, axis2=1):
    da = undiagonal(dy, a, offset, axis1, axis2)
    return da


@adjoint(np.tril, linear="m")
def tril_adjoint(dy, y, m, k=0):
    dm = np.tril(dy, k)
    return dm


@adjoint(np.triu, linear="m")
def triu_adjoint(dy, y, m, k=0):
    dm = np.triu(dy, k)
    return dm


@adjoint(np.diff, linear="a")
def diff_adjoint(dy, y, a, n=1, axis=-1):
    # prepend= and append= are not parameters here: such calls do not bind (refused)
    da = undiff(dy, n, axis)
    return da


@adjoint(np.pad, linear="array")
def pad_adjoint(dy, y, array, pad_width, mode="constant"):
    # constant_values= does not bind (refused); the padding itself is constant
    require_shapes(mode == "constant", "np.pad with a mode other than 'constant'")
    darray = unpad(dy, array, pad_width)
    return darray


@adjoint(np.partition)
def partition_adjoint(dy, y, a, kth, axis=-1):
    # y holds a's values in another order: dy goes back where each came from (distinct
    # values assumed, as for sort)
    da = unpermute(dy, a, y, axis)
    return da


# -- creation: arrays whose values are the arguments' ----------------------------------

@adjoint(np.full, linear="fill_value")
def full_adjoint(dy, y, shape, fill_value, dtype=None):
    dfill_value = unbroadcast(dy, fill_value)
    return dfill_value


@adjoint(np.full_like, linear="fill_value")
def full_like_adjoint(dy, y, a, fill_value, dtype=None):
    dfill_value = unbroadcast(dy, fill_value)
    return dfill_value


@adjoint(np.linspace, linear=("start", "stop"))
def linspace_adjoint(dy, y, start, stop, num=50, endpoint=True):
    # y = start + (stop - start) * t for t = linspace(0, 1, num, endpoint): numbers only
    require_shapes(np.ndim(start) == 0, "np.linspace with array start or stop")
    require_shapes(np.ndim(stop) == 0, "np.linspace with array start or stop")
    t = np.linspace(0.0, 1.0, num, endpoint)
    dstart = np.sum(dy * (1 - t))
    dstop = np.sum(dy * t)
    return dstart, dstop


def _gradient_result(call) -> str:
    """np.gradient's result is a tuple, one array per axis, where the call names two or
    more axes (axis=(0, 1)) or spacings (np.gradient(u, dx, dy)). (axis=None with one
    spacing or none gives a tuple for an n-d array too: its adjoint then comes as the
    stack of the arrays' adjoints, which ungradient reads as well.)"""
    axes = [k.value for k in call.keywords if k.arg == "axis"]
    listed = bool(axes) and isinstance(axes[0], (gast.Tuple, gast.List)) and \
        len(axes[0].elts) > 1
    return "pieces" if listed or len(call.args) > 2 else "other"


@adjoint(np.gradient, shape=_gradient_result, linear="f")
def gradient_adjoint(dy, y, f, *varargs, axis=None, edge_order=1, position=None):
    # the spacings (numbers, or coordinate arrays) are constants: dvarargs is emitted
    # only for a spacing that depends on the inputs, and refuses it
    df = ungradient(dy, f, varargs, axis, edge_order)
    dvarargs = no_derivative("np.gradient with a spacing that depends on the inputs")
    return df, dvarargs


@adjoint(np.fft.fftshift, linear="x")
def fftshift_adjoint(dy, y, x, axes=None):
    # a roll by half of each axis: undone by ifftshift (they differ for odd lengths)
    dx = np.fft.ifftshift(dy, axes)
    return dx


@adjoint(np.fft.ifftshift, linear="x")
def ifftshift_adjoint(dy, y, x, axes=None):
    dx = np.fft.fftshift(dy, axes)
    return dx


# -- tangents (forward mode) of the functions that are not linear in their input -------

@tangent(np.sort)
def sort_tangent(y, a, a_dot, axis=-1):
    # the tangents reordered as a was: y = take_along_axis(a, argsort(a))
    y_dot = np.take_along_axis(np.ravel(a_dot), np.argsort(a, None), 0) if axis is None \
        else np.take_along_axis(a_dot, np.argsort(a, axis), axis)
    return y_dot


@tangent(np.partition)
def partition_tangent(y, a, a_dot, kth, axis=-1):
    y_dot = permute_tangent(a_dot, a, y, axis)
    return y_dot


@tangent(np.clip)
def clip_tangent(y, a, a_dot, a_min=None, a_max=None, a_min_dot=0.0, a_max_dot=0.0):
    # y is whichever of a, a_min, a_max it equals (a_max wins, as in the adjoint)
    raised = np.maximum(a, a_min) if a_min is not None else a
    below = (a < a_min) if a_min is not None else False
    above = (raised > a_max) if a_max is not None else False
    y_dot = np.where(above, a_max_dot, np.where(below, a_min_dot, a_dot))
    return y_dot


@tangent(np.gradient)
def gradient_tangent(y, f, f_dot, *varargs, axis=None, edge_order=1):
    # linear in f; a template (not only the linear mark) so that a spacing that depends
    # on the inputs is refused, not taken as a constant
    y_dot = np.gradient(f_dot, *varargs, axis=axis, edge_order=edge_order)
    return y_dot


@tangent(np.array, np.asarray, runtime.array_astype, check=False)
def array_tangent(y, object, object_dot, dtype=None):
    # a cast to integers has no tangent; to floats, the tangent keeps its own type
    y_dot = np.array(object_dot) if dtype is None else cast_tangent(object_dot, dtype)
    return y_dot
