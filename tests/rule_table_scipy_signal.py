"""Rule table for convolutions: scipy.signal.convolve and correlate in each mode and
rank (the second operand larger, smaller, of equal size; even and odd lengths, whose
'same' parts centre differently), and np.convolve. Empty for SciPy's where SciPy is
not installed."""
import numpy as np

from rule_cases import binary

try:
    from scipy import signal
except ImportError:
    signal = None

ONE_D = [((6,), (3,)), ((3,), (6,)), ((4,), (4,)), ((5,), (2,))]
TWO_D = [((5, 4), (2, 3)), ((3, 3), (3, 3))]
SWAPPED_2D = [((2, 3), (5, 4))]  # valid mode: the larger operand in every axis comes second

TABLE = [
    binary(np.convolve, "np.convolve(a, b)", shapes=ONE_D),
    binary(np.convolve, "np.convolve(a, b, mode='same')", shapes=ONE_D),
    binary(np.convolve, "np.convolve(a, b, 'valid')", shapes=ONE_D),
] + ([] if signal is None else [
    binary(signal.convolve, "signal.convolve(a, b)", shapes=ONE_D + TWO_D),
    binary(signal.convolve, "signal.convolve(a, b, mode='same')", shapes=ONE_D + TWO_D),
    binary(signal.convolve, "signal.convolve(a, b, 'valid', method='direct')",
           shapes=ONE_D + TWO_D + SWAPPED_2D),
    binary(signal.convolve, "signal.convolve(a, b, mode='same', method='fft')",
           shapes=TWO_D),
    binary(signal.correlate, "signal.correlate(a, b)", shapes=ONE_D + TWO_D),
    binary(signal.correlate, "signal.correlate(a, b, mode='same')", shapes=ONE_D + TWO_D),
    binary(signal.correlate, "signal.correlate(a, b, mode='valid')",
           shapes=ONE_D + TWO_D + SWAPPED_2D),
])
