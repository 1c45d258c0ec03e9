"""Functions whose outputs are constants for differentiation (ChainRules' NoTangent)."""
import builtins
import math
import operator

import numpy as np

from .. import runtime
from . import non_differentiable

non_differentiable(
    # shapes, sizes, types
    np.shape, np.ndim, np.size, np.result_type, np.dtype, builtins.len, builtins.int, builtins.bool, builtins.range,
    builtins.round, builtins.isinstance, runtime.array_size,
    runtime.array_shape,
    # comparisons and logic
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.is_, operator.is_not,
    operator.not_, operator.floordiv, np.floor_divide,
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isnan, np.isinf, np.isfinite,
    # piecewise-constant functions: zero derivative almost everywhere
    np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix,
    math.floor, math.ceil, math.trunc,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero,
    # of a real array: np.imag is 0 and np.angle is 0 or pi (s2sad differentiates reals)
    np.imag, np.angle,
    # constructors of constant arrays
    # (np.full, np.arange and np.linspace are left out: their values do depend on
    # their arguments, so an active argument must meet a real rule or a refusal)
    np.zeros, np.ones, np.eye, np.identity, np.zeros_like, np.ones_like, np.empty,
    np.empty_like,
)
