"""s2sad: source-to-source automatic differentiation for Python and NumPy.

    import s2sad

    @s2sad.grad
    def f(x):
        return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)

    f(0.5)           # the derivative
    print(f.source)  # the generated Python that computed it
"""
from .api import GradientFunction, grad, grad_source, source, value_and_grad
from .check import check_grad
from .errors import (ArgumentError, NameResolutionError, NoDerivativeRuleError,
                     NonScalarOutputError, RuleDefinitionError, S2SADError,
                     SourceUnavailableError, UnsupportedSyntaxError)
from .rules import adjoint, non_differentiable, partials

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "source", "grad_source", "check_grad", "GradientFunction",
    "adjoint", "partials", "non_differentiable",
    "S2SADError", "UnsupportedSyntaxError", "NoDerivativeRuleError", "NameResolutionError",
    "SourceUnavailableError", "NonScalarOutputError", "ArgumentError", "RuleDefinitionError",
]
