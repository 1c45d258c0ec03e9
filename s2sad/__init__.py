"""s2sad: source-to-source automatic differentiation for Python and NumPy.

    import s2sad

    @s2sad.grad
    def f(x):
        return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)

    f(0.5)           # the derivative
    print(f.source)  # the generated Python that computed it
"""
from .api import (ElementwiseGradFunction, GradientFunction, JVPFunction, VJPFunction,
                  elementwise_grad, grad, grad_source, hessian, hessp, hvp, jacobian, jvp,
                  source, value_and_grad, vjp)
from .check import GradientCheckError, check_grad
from .errors import (ArgumentError, NameResolutionError, NoDerivativeRuleError,
                     NonScalarOutputError, RuleDefinitionError, S2SADError,
                     SourceUnavailableError, UnsupportedSyntaxError)
from .implicit import ConvergenceError, fixed_point, fixed_point_of, root, root_of
from .laziness import LazyArrayWarning
from .rules import adjoint, non_differentiable, partials, tangent

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "jvp", "vjp", "jacobian", "hessian", "hvp", "source",
    "grad_source", "elementwise_grad", "hessp", "ElementwiseGradFunction",
    "check_grad", "GradientCheckError", "GradientFunction", "JVPFunction", "VJPFunction",
    "adjoint", "partials", "tangent", "non_differentiable",
    "S2SADError", "UnsupportedSyntaxError", "NoDerivativeRuleError", "NameResolutionError",
    "SourceUnavailableError", "NonScalarOutputError", "ArgumentError", "RuleDefinitionError",
    "LazyArrayWarning", "fixed_point", "root", "fixed_point_of", "root_of",
    "ConvergenceError",
]
