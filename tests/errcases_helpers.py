"""Helpers in another module than the functions that call them.

The first four are made by `exec`, so their source cannot be read: s2sad cannot
inline them, and a call from a differentiated function must be refused with
NoDerivativeRuleError whose hint shows how to register a rule. The last one has
source and is inlined, from this module's own globals.
"""
import numpy as np

exec(compile('''
def softplus(x):
    return np.log1p(np.exp(x))


def smooth_step(t):
    return t * t * (3.0 - 2.0 * t)


def cube(x):
    return x * x * x


def cube_with_other_name(t):
    return t * t * t
''', "<errcases_helpers exec>", "exec"))

OFFSET = 0.25


def shifted_softplus(x, shift=OFFSET):
    """Read here through this module's globals (np, OFFSET), not the caller's."""
    return np.log1p(np.exp(x - shift))
