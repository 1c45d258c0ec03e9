"""Rules for the helpers generated code calls (s2sad.runtime), so that a generated
derivative can be differentiated again: the Hessian differentiates the JVP's code.

Generated code calls these helpers positionally, and some of their parameters are
named dy, which an adjoint template's own (dy, y) would shadow: the templates name
them g and registration skips the name check."""
import numpy as np

from .. import runtime
from . import adjoint, non_differentiable, tangent

non_differentiable(runtime.zeros_like, runtime.rollaxis_destination, runtime.sign,
                   runtime.tie_count, runtime.hstack_axis)


@adjoint(runtime.broadcast_like, check=False, linear="t")
def broadcast_like_adjoint(dy, y, t, like):
    dt = unbroadcast(dy, t)
    return dt


@adjoint(runtime.unbroadcast, check=False, linear="g")
def unbroadcast_adjoint(dy, y, g, x):
    dg = broadcast_like(dy, g)
    return dg


@adjoint(runtime.unsum, check=False, linear="g")
def unsum_adjoint(dy, y, g, x, axis=None, keepdims=False):
    # y is g spread over the axes a sum reduced: the adjoint sums them again
    dg = np.sum(dy, axis=axis, keepdims=keepdims)
    return dg


@adjoint(runtime.unindex, check=False, linear="g")
def unindex_adjoint(dy, y, g, x, index):
    # y scatters g into zeros at `index`: the adjoint reads dy back at it
    dg = dy[index]
    return dg


@adjoint(runtime.cast_tangent, check=False, linear="t")
def cast_tangent_adjoint(dy, y, t, dtype):
    dt = unastype(dy, t, dtype)
    return dt


@adjoint(runtime.permute_tangent, check=False, linear="t")
def permute_tangent_adjoint(dy, y, t, a, values, axis=-1):
    dt = unpermute(dy, a, values, axis)
    return dt


# dA and dB of a product, computed by the gradient of `a @ b` where ranks were not
# known: each is linear in g (the output's adjoint) and in the other operand. For
# dA = matmul_adjoint_a(g, a, b), the gradient of <g, a @ b> in a:
#     <dy, dA> = <g, dy @ b>, so dg = dy @ b and db = the gradient of <g, dy @ b> in b.

@adjoint(runtime.matmul_adjoint_a, check=False, multilinear=("g", "b"))
def matmul_adjoint_a_adjoint(dy, y, g, a, b):
    dg = np.matmul(dy, b)
    db = matmul_adjoint_b(g, dy, b)
    return dg, db


@adjoint(runtime.matmul_adjoint_b, check=False, multilinear=("g", "a"))
def matmul_adjoint_b_adjoint(dy, y, g, a, b):
    dg = np.matmul(a, dy)
    da = matmul_adjoint_a(g, a, dy)
    return dg, da


@adjoint(runtime.dot_adjoint_a, check=False, multilinear=("g", "b"))
def dot_adjoint_a_adjoint(dy, y, g, a, b):
    dg = np.dot(dy, b)
    db = dot_adjoint_b(g, dy, b)
    return dg, db


@adjoint(runtime.dot_adjoint_b, check=False, multilinear=("g", "a"))
def dot_adjoint_b_adjoint(dy, y, g, a, b):
    dg = np.dot(a, dy)
    da = dot_adjoint_a(g, a, dy)
    return dg, da


@adjoint(runtime.spread, check=False, linear="g")
def spread_adjoint(dy, y, g, x, axis=None, keepdims=False):
    # y is g with size-1 axes put in (the same numbers): back to g's shape
    dg = np.reshape(dy, np.shape(g))
    return dg


# -- the adjoints of the shape rules: each linear in the adjoint g it moves -------------

@adjoint(runtime.undiagonal, check=False, linear="g")
def undiagonal_adjoint(dy, y, g, x, offset=0, axis1=0, axis2=1):
    dg = np.diagonal(dy, offset, axis1, axis2)
    return dg


@adjoint(runtime.undiff, check=False, linear="g")
def undiff_adjoint(dy, y, g, n=1, axis=-1):
    # undiff is the transpose of np.diff, so its own transpose is np.diff
    dg = np.diff(dy, n, axis)
    return dg


@adjoint(runtime.unpad, check=False, linear="g")
def unpad_adjoint(dy, y, g, array, pad_width):
    dg = np.pad(dy, pad_width)
    return dg


@adjoint(runtime.unastype, check=False, linear="g")
def unastype_adjoint(dy, y, g, x, dtype):
    dg = unastype(dy, g, dtype)
    return dg


@adjoint(runtime.ungradient, check=False, linear="g")
def ungradient_adjoint(dy, y, g, f, spacing=(), axis=None, edge_order=1):
    # ungradient is np.gradient's transpose, so its own is np.gradient (one array per axis)
    dg = np.gradient(dy, *spacing, axis=axis, edge_order=edge_order)
    return dg


@adjoint(runtime.unpermute, check=False, linear="g")
def unpermute_adjoint(dy, y, g, a, values, axis=-1):
    dg = permute_tangent(dy, a, values, axis)
    return dg


@adjoint(runtime.unstack, check=False, linear="g", shape="pieces")
def unstack_adjoint(dy, y, g, arrays, axis=0):
    dg = restack(dy, arrays, axis)
    return dg


@adjoint(runtime.unconcatenate, check=False, linear="g", shape="pieces")
def unconcatenate_adjoint(dy, y, g, arrays, axis=0, promote=None):
    dg = np.reshape(rejoin(dy, arrays, axis, promote), np.shape(g))
    return dg


@adjoint(runtime.unhstack, check=False, linear="g", shape="pieces")
def unhstack_adjoint(dy, y, g, tup):
    dg = np.reshape(rejoin(dy, tup, hstack_axis(tup), "atleast_1d"), np.shape(g))
    return dg


@adjoint(runtime.unvstack, check=False, linear="g", shape="pieces")
def unvstack_adjoint(dy, y, g, tup):
    dg = np.reshape(rejoin(dy, tup, 0, "atleast_2d"), np.shape(g))
    return dg


@adjoint(runtime.undstack, check=False, linear="g", shape="pieces")
def undstack_adjoint(dy, y, g, tup):
    dg = np.reshape(rejoin(dy, tup, 2, "atleast_3d"), np.shape(g))
    return dg


# einsum's adjoint helper: einsum_adjoint(g, args, wrt) is the contraction of g and the
# operands of np.einsum(*args) but args[wrt] onto args[wrt]'s labels, linear in g and in
# each of those operands; args[wrt] gives its shape only. With x = args[wrt],
#     <dy, einsum_adjoint(g, args, wrt)> = <g, np.einsum(*args with dy in x's place)>:
# dg is that einsum, and each other operand's adjoint is einsum's, with dy in x's place.

@adjoint(runtime.einsum_adjoint, check=False)
def einsum_adjoint_adjoint_rule(dy, y, g, args, wrt=None, optimize=False):
    dg = einsum_at(dy, args, wrt, optimize)
    dargs = einsum_adjoint_adjoint(g, dy, args, wrt, optimize)
    return dg, dargs


@tangent(runtime.einsum_adjoint, check=False)
def einsum_adjoint_tangent_rule(y, g, g_dot, args, args_dot, wrt=None, optimize=False):
    y_dot = einsum_adjoint(g_dot, args, wrt, optimize) + \
        einsum_adjoint_tangent(g, args, args_dot, wrt, optimize)
    return y_dot


@adjoint(runtime.uncolumn_stack, check=False, linear="g", shape="pieces")
def uncolumn_stack_adjoint(dy, y, g, tup):
    dg = np.reshape(rejoin(dy, tup, 1, "as_column"), np.shape(g))
    return dg


# np.inner's (as einsum's): inner_adjoint_a(g, a, b) is bilinear in (g, b), a its shape
# only: <dy, adjoint_a(g, b)> = <g, inner(dy, b)> = <adjoint_b(g, dy, b), b>

@adjoint(runtime.inner_adjoint_a, check=False, multilinear=("g", "b"))
def inner_adjoint_a_adjoint(dy, y, g, a, b):
    dg = np.inner(dy, b)
    db = inner_adjoint_b(g, dy, b)
    return dg, db


@adjoint(runtime.inner_adjoint_b, check=False, multilinear=("g", "a"))
def inner_adjoint_b_adjoint(dy, y, g, a, b):
    dg = np.inner(a, dy)
    da = inner_adjoint_a(g, a, dy)
    return dg, da


non_differentiable(runtime.convolution_shape)


@adjoint(runtime.centred_part, check=False, linear="a")
def centred_part_adjoint(dy, y, a, shape):
    da = centred_in(dy, np.shape(a))
    return da


@adjoint(runtime.centred_in, check=False, linear="a")
def centred_in_adjoint(dy, y, a, shape):
    da = centred_part(dy, np.shape(a))
    return da
