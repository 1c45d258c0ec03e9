"""A method whose docstring has a continuation line at column 0.

inspect.getsource returns the method indented; textwrap.dedent cannot remove the
indentation because one line of the docstring starts at column 0.
"""
import numpy as np


class Model:
    @staticmethod
    def energy(x):
        """Energy of x.
Continuation written at column 0 (pasted text).
        """
        return np.sum(np.sin(x))
