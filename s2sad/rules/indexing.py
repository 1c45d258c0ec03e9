"""Indexing reads: the adjoint scatters with accumulation (np.add.at semantics)."""
import operator

import numpy as np

from .. import runtime
from . import adjoint


@adjoint(operator.getitem, check=False, linear="a")
def getitem_adjoint(dy, y, a, index):
    da = unindex(dy, a, index)
    return da


@adjoint(np.reshape, linear="a", also_named={"shape": "newshape"})  # (NumPy < 2.1)
def reshape_adjoint(dy, y, a, shape):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.ravel, linear="a")
def ravel_adjoint(dy, y, a):
    da = np.reshape(dy, np.shape(a))
    return da


@adjoint(np.copy, runtime.array_copy, linear="a")  # (array_copy: dask's, dispatch.py)
def copy_adjoint(dy, y, a):
    da = dy
    return da
