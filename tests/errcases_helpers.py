"""User helpers that live in another module and have no derivative rule.

Used by tests/errcases_functions.py: calling them from a differentiated function
must be refused with NoDerivativeRuleError whose hint shows how to register a rule.
"""
import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))


def smooth_step(t):
    return t * t * (3.0 - 2.0 * t)


def cube(x):
    return x * x * x


def cube_with_other_name(t):
    return t * t * t
