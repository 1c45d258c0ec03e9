"""Reductions: sum and mean, over all axes or some (`axis`, `keepdims`)."""
import numpy as np

from . import adjoint


def _reduction_shape(call):
    """A reduction with no axis argument (and no keepdims) returns a scalar."""
    reduces_all = len(call.args) <= 1 and not any(
        k.arg in ("axis", "keepdims") for k in call.keywords)
    return "scalar" if reduces_all else "other"


@adjoint(np.sum, shape=_reduction_shape)
def sum_adjoint(dy, y, a, axis=None, keepdims=False):
    da = unsum(dy, a, axis, keepdims)
    return da


@adjoint(np.mean, shape=_reduction_shape)
def mean_adjoint(dy, y, a, axis=None, keepdims=False):
    n = np.size(a) / np.size(y)
    da = unsum(dy / n, a, axis, keepdims)
    return da
