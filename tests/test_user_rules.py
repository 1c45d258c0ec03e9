"""Rules users register: @s2sad.adjoint, @s2sad.tangent, @s2sad.partials and
s2sad.non_differentiable, for their own functions and for library ones.

A registered rule is used exactly like a built-in one: the function's body is not
inlined, the template's lines appear in the generated code, forward mode uses the
tangent rule, and check_grad's dot-product test catches a tangent that does not
match its adjoint. Templates are checked when registered.
"""
import math

import numpy as np
import pytest

import s2sad
from s2sad import GradientCheckError, RuleDefinitionError
from s2sad.check import numeric_grad

X = np.array([-3.0, -0.5, 0.2, 4.0])


# -- a numerically stable softplus, with both rules -----------------------------------

def softplus(x):
    """log(1 + exp(x)) without overflow; its derivative is the logistic sigmoid."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@s2sad.adjoint(softplus)
def softplus_adjoint(dy, y, x):
    dx = dy / (1 + np.exp(-x))
    return dx


@s2sad.tangent(softplus)
def softplus_tangent(y, x, x_dot):
    return x_dot / (1 + np.exp(-x))


def softplus_loss(w, features):
    return np.sum(softplus(features @ w))


FEATURES = np.array([[1.0, -2.0], [0.5, 0.3], [-1.5, 2.5], [2.0, 1.0]])
W = np.array([0.4, -0.7])


def test_a_registered_adjoint_is_used_instead_of_the_body():
    gradient = s2sad.grad(softplus_loss)
    got = gradient(W, FEATURES)
    np.testing.assert_allclose(got, numeric_grad(softplus_loss, [W, FEATURES], 0), rtol=1e-7)
    assert "1 + np.exp(-" in gradient.source        # the rule's line
    assert "np.log1p" not in gradient.source         # not the inlined body


def test_a_registered_tangent_is_used_by_forward_mode():
    v = np.array([0.3, -1.1])
    value, derivative = s2sad.jvp(softplus_loss)(W, FEATURES, v)
    np.testing.assert_allclose(value, softplus_loss(W, FEATURES))
    np.testing.assert_allclose(derivative, s2sad.grad(softplus_loss)(W, FEATURES) @ v,
                               rtol=1e-12)
    assert "1 + np.exp(-" in s2sad.source(softplus_loss, mode="forward")


def test_check_grad_runs_the_dot_product_test_with_the_tangent_rule():
    assert s2sad.check_grad(softplus_loss, W, FEATURES)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_the_rule_holds_where_the_body_would_overflow():
    """exp(800) overflows to inf in the rule, and 1 / (1 + inf) is the right 0."""
    big = np.array([800.0, -800.0])
    got = s2sad.grad(softplus_sum)(big)
    np.testing.assert_allclose(got, [1.0, 0.0])


def softplus_sum(x):
    return np.sum(softplus(x))


# -- a tangent that disagrees with its adjoint is caught ------------------------------

def scaled_cube(x):
    return 2.0 * x ** 3


@s2sad.adjoint(scaled_cube)
def scaled_cube_adjoint(dy, y, x):
    dx = dy * 6.0 * x ** 2
    return dx


@s2sad.tangent(scaled_cube)
def scaled_cube_tangent(y, x, x_dot):
    return x_dot * 3.0 * x ** 2  # wrong on purpose: half the derivative


def uses_scaled_cube(x):
    return np.sum(scaled_cube(x))


def test_check_grad_names_forward_mode_when_the_modes_disagree():
    with pytest.raises(GradientCheckError) as info:
        s2sad.check_grad(uses_scaled_cube, X)
    assert "forward and reverse mode disagree" in str(info.value)


# -- partials: elementwise rules get broadcasting for free ------------------------------

def smooth_max(a, b):
    return np.logaddexp(a, b)


@s2sad.partials(smooth_max)
def smooth_max_partials(y, a, b):
    return np.exp(a - y), np.exp(b - y)


def uses_smooth_max(a, b):
    return np.sum(smooth_max(a, b) * np.arange(3.0))


def test_partials_are_unbroadcast_in_reverse_and_broadcast_in_forward():
    a, b = np.array([0.3, -0.2, 1.0]), np.array([[0.1], [0.5]])
    da, db = s2sad.grad(uses_smooth_max, wrt=(0, 1))(a, b)
    assert da.shape == a.shape and db.shape == b.shape
    np.testing.assert_allclose(da, numeric_grad(uses_smooth_max, [a, b], 0), rtol=1e-7)
    np.testing.assert_allclose(db, numeric_grad(uses_smooth_max, [a, b], 1), rtol=1e-7)
    va, vb = np.array([1.0, -1.0, 0.5]), np.array([[0.2], [-0.3]])
    _, derivative = s2sad.jvp(uses_smooth_max, wrt=(0, 1))(a, b, (va, vb))
    np.testing.assert_allclose(derivative, np.sum(da * va) + np.sum(db * vb), rtol=1e-12)


# -- constants, and rules for library functions ----------------------------------------

def snap_to_grid(x):
    return np.round(x * 4.0) / 4.0


s2sad.non_differentiable(snap_to_grid)


def uses_snap(x):
    return np.sum(x * snap_to_grid(x))


def test_a_non_differentiable_function_is_a_constant():
    got = s2sad.grad(uses_snap)(X)
    np.testing.assert_allclose(got, snap_to_grid(X))  # d/dx [x * c] with c constant


# (a function s2sad has no rule for: registering one replaces the built-in rule for
# the whole session; math.erfc, used here before, has one since issue 17)
@s2sad.adjoint(math.cbrt)
def cbrt_adjoint(dy, y, x):
    dx = dy / (3.0 * y * y)
    return dx


def uses_cbrt(s):
    return math.cbrt(s) * s


def test_a_rule_for_a_library_function():
    got = s2sad.grad(uses_cbrt)(0.4)
    assert isinstance(got, float)
    assert got == pytest.approx(numeric_grad(uses_cbrt, [0.4], 0), rel=1e-7)


# -- templates are checked when registered ------------------------------------------------

def target(x, scale=1.0):
    return x * scale


def test_an_adjoint_template_must_start_with_dy_and_y():
    with pytest.raises(RuleDefinitionError, match=r"\(dy, y\)"):
        @s2sad.adjoint(target)
        def wrong(g, y, x):
            dx = g
            return dx


def test_an_adjoint_template_must_use_the_functions_parameter_names():
    with pytest.raises(RuleDefinitionError, match="does not have"):
        @s2sad.adjoint(target)
        def wrong(dy, y, value):
            dvalue = dy
            return dvalue


def test_an_adjoint_template_must_assign_an_adjoint():
    with pytest.raises(RuleDefinitionError, match="assigns no d<param>"):
        @s2sad.adjoint(target)
        def wrong(dy, y, x):
            gx = dy
            return gx


def test_a_tangent_template_must_start_with_y():
    with pytest.raises(RuleDefinitionError, match="parameter y"):
        @s2sad.tangent(target)
        def wrong(x, x_dot):
            return x_dot


def test_a_tangent_template_needs_a_tangent_parameter():
    with pytest.raises(RuleDefinitionError, match="_dot"):
        @s2sad.tangent(target)
        def wrong(y, x):
            return x


def test_a_tangent_parameter_must_belong_to_a_parameter():
    with pytest.raises(RuleDefinitionError, match="z_dot"):
        @s2sad.tangent(target)
        def wrong(y, x, z_dot):
            return z_dot


def test_a_tangent_template_must_return_the_tangent():
    with pytest.raises(RuleDefinitionError, match="returns nothing"):
        @s2sad.tangent(target)
        def wrong(y, x, x_dot):
            y_dot = x_dot


def test_a_tangent_template_must_use_the_functions_parameter_names():
    with pytest.raises(RuleDefinitionError, match="does not have"):
        @s2sad.tangent(target)
        def wrong(y, value, value_dot):
            return value_dot


def test_forward_mode_without_a_tangent_rule_says_how_to_register_one():
    def only_adjoint(x):
        return x * 2.0

    @s2sad.adjoint(only_adjoint)
    def only_adjoint_rule(dy, y, x):
        dx = dy * 2.0
        return dx

    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        s2sad.jvp(uses_only_adjoint_factory(only_adjoint))(X, X)
    assert "@s2sad.tangent(" in info.value.hint


def uses_only_adjoint_factory(helper):
    """A module-level function calling `helper` through a global (for the test above)."""
    globals()["_helper_under_test"] = helper
    return calls_helper_under_test


def calls_helper_under_test(x):
    return np.sum(_helper_under_test(x))
