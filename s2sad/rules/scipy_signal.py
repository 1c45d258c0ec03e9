"""Convolutions: scipy.signal.convolve and correlate (any rank, modes full, same and
valid), as NumPy's np.convolve (rules/shapes.py).

A convolution is linear in each operand. Whatever the mode, its result is the centred
part of the full convolution, so the adjoint puts dy back in the centre of the full
shape (centred_in) and correlates it with the other operand: for y = a * b (full),
da = dfull * flip(b) (valid) and db = dfull * flip(a) (valid). A correlation is the
convolution with the second operand flipped. Loaded only where SciPy is installed.
"""
import numpy as np
from scipy import signal

from . import adjoint, tangent


@adjoint(signal.convolve, multilinear=("in1", "in2"))
def convolve_adjoint(dy, y, in1, in2, mode="full", method="auto"):
    # (the method the call chose, where it chose one)
    full = convolution_shape(in1, in2)
    dfull = centred_in(dy, full)
    flipped2 = np.flip(in2)
    din1 = signal.convolve(dfull, flipped2, mode="valid") if method == "auto" else \
        signal.convolve(dfull, flipped2, mode="valid", method=method)
    flipped1 = np.flip(in1)
    din2 = signal.convolve(dfull, flipped1, mode="valid") if method == "auto" else \
        signal.convolve(dfull, flipped1, mode="valid", method=method)
    return din1, din2


@adjoint(signal.correlate, multilinear=("in1", "in2"))
def correlate_adjoint(dy, y, in1, in2, mode="full", method="auto"):
    # correlate(in1, in2) = convolve(in1, flip(in2)) for real arrays
    full = convolution_shape(in1, in2)
    dfull = centred_in(dy, full)
    din1 = signal.convolve(dfull, in2, mode="valid") if method == "auto" else \
        signal.convolve(dfull, in2, mode="valid", method=method)
    flipped1 = np.flip(in1)
    reversed2 = signal.convolve(dfull, flipped1, mode="valid") if method == "auto" else \
        signal.convolve(dfull, flipped1, mode="valid", method=method)
    din2 = np.flip(reversed2)
    return din1, din2

