"""Every registered rule, checked against central differences through the whole pipeline.

The table is the test: a rule registered without an entry here fails
`test_every_rule_has_a_table_entry`. Each entry gives the call as source text,
the domain its inputs are drawn from, and the shapes to try (scalars, arrays
and broadcasting pairs). The output is wrapped in sum(sin(...)) so the seed is
not all ones and a transposed or misplaced adjoint cannot hide (Zygote's trick).
"""
import builtins
import importlib
import math
import operator
import zlib

import numpy as np
import pytest

import s2sad
from s2sad import rules, runtime
from s2sad.check import numeric_grad

try:  # (scipy.special's rules, in the table where SciPy is installed)
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats
    SCIPY = {"special": scipy.special, "stats": scipy.stats, "signal": scipy.signal,
             "scipy": scipy}
except ImportError:
    SCIPY = {}

from rule_cases import ABOVE_ONE, ANY, POSITIVE, SCALARS, UNIT, Case, binary, scalar_math, unary

TABLE = [
    # operators and their NumPy function forms
    binary((operator.add, np.add), "a + b"),
    binary((np.add,), "np.add(a, b)"),
    binary((operator.sub, np.subtract), "a - b"),
    binary((np.subtract,), "np.subtract(a, b)"),
    binary((operator.mul, np.multiply), "a * b"),
    binary((np.multiply,), "np.multiply(a, b)"),
    binary((operator.truediv,), "a / b", (ANY, POSITIVE)),
    binary((np.divide, np.true_divide), "np.divide(a, b)", (ANY, POSITIVE)),
    binary((np.true_divide,), "np.true_divide(a, b)", (ANY, POSITIVE)),
    binary((operator.pow,), "a ** b", (POSITIVE, ANY)),
    binary((np.power,), "np.power(a, b)", (POSITIVE, ANY)),
    binary((builtins.pow,), "pow(a, b)", (POSITIVE, ANY), shapes=[((), ())]),
    unary((operator.pow,), "a ** 3"),
    binary((operator.mod, np.mod), "a % b", ((0.1, 0.9), (1.1, 1.9))),
    binary((np.mod, np.remainder), "np.mod(a, b)", ((0.1, 0.9), (1.1, 1.9))),
    binary((np.remainder,), "np.remainder(a, b)", ((0.1, 0.9), (1.1, 1.9))),
    # fmod truncates the quotient: for a < 0 it differs from %
    binary((np.fmod,), "np.fmod(a, b)", ((-1.3, -1.2), (0.55, 0.58))),
    unary((operator.neg, np.negative), "-a"),
    unary((np.negative,), "np.negative(a)"),
    unary((operator.pos, np.positive), "np.positive(a)"),
    unary((builtins.float,), "float(a)", shapes=SCALARS),
    unary((np.float64,), "np.float64(a)", shapes=SCALARS),
    unary((builtins.abs, np.abs, np.absolute), "abs(a)", (0.3, 2.0)),
    unary((np.abs,), "np.abs(a)", (-2.0, -0.3)),
    unary((np.absolute,), "np.absolute(a)", (0.3, 2.0)),
    binary((builtins.max,), "max(a, b)", ((0.0, 0.4), (0.6, 1.0)), shapes=[((), ())]),
    binary((builtins.max,), "max(b, a)", ((0.0, 0.4), (0.6, 1.0)), shapes=[((), ())]),
    binary((builtins.min,), "min(a, b)", ((0.0, 0.4), (0.6, 1.0)), shapes=[((), ())]),
    binary((np.maximum, np.fmax), "np.maximum(a, b)", ((0.0, 0.4), (0.6, 1.0))),
    binary((np.fmax,), "np.fmax(b, a)", ((0.0, 0.4), (0.6, 1.0))),
    binary((np.minimum, np.fmin), "np.minimum(a, b)", ((0.0, 0.4), (0.6, 1.0))),
    binary((np.fmin,), "np.fmin(b, a)", ((0.0, 0.4), (0.6, 1.0))),
    # math: scalars only
    scalar_math(math.sin, "math.sin(a)"),
    scalar_math(math.cos, "math.cos(a)"),
    scalar_math(math.tan, "math.tan(a)", (UNIT,)),
    scalar_math(math.exp, "math.exp(a)"),
    scalar_math(math.expm1, "math.expm1(a)"),
    scalar_math(math.log, "math.log(a)", (POSITIVE,)),
    scalar_math(math.log, "math.log(a, b)", (POSITIVE, ABOVE_ONE)),
    scalar_math(math.log2, "math.log2(a)", (POSITIVE,)),
    scalar_math(math.log10, "math.log10(a)", (POSITIVE,)),
    scalar_math(math.log1p, "math.log1p(a)", (POSITIVE,)),
    scalar_math(math.sqrt, "math.sqrt(a)", (POSITIVE,)),
    scalar_math(math.tanh, "math.tanh(a)"),
    scalar_math(math.sinh, "math.sinh(a)"),
    scalar_math(math.cosh, "math.cosh(a)"),
    scalar_math(math.asin, "math.asin(a)", (UNIT,)),
    scalar_math(math.acos, "math.acos(a)", (UNIT,)),
    scalar_math(math.atan, "math.atan(a)"),
    scalar_math(math.asinh, "math.asinh(a)"),
    scalar_math(math.acosh, "math.acosh(a)", (ABOVE_ONE,)),
    scalar_math(math.atanh, "math.atanh(a)", (UNIT,)),
    scalar_math(math.atan2, "math.atan2(a, b)", (ANY, POSITIVE)),
    scalar_math(math.hypot, "math.hypot(a, b)", (POSITIVE, POSITIVE)),
    scalar_math(math.pow, "math.pow(a, b)", (POSITIVE, ANY)),
    scalar_math(math.fabs, "math.fabs(a)", ((0.3, 2.0),)),
    scalar_math(math.fmod, "math.fmod(a, b)", ((0.1, 0.9), (1.1, 1.9))),
    scalar_math(math.fmod, "math.fmod(a, b)", ((-1.3, -1.2), (0.55, 0.58))),
    scalar_math(math.erf, "math.erf(a)"),
    # NumPy elementwise
    unary(np.sin, "np.sin(a)"),
    unary(np.cos, "np.cos(a)"),
    unary(np.tan, "np.tan(a)", UNIT),
    unary(np.exp, "np.exp(a)"),
    unary(np.exp2, "np.exp2(a)"),
    unary(np.expm1, "np.expm1(a)"),
    unary(np.log, "np.log(a)", POSITIVE),
    unary(np.log2, "np.log2(a)", POSITIVE),
    unary(np.log10, "np.log10(a)", POSITIVE),
    unary(np.log1p, "np.log1p(a)", POSITIVE),
    unary(np.sqrt, "np.sqrt(a)", POSITIVE),
    unary(np.cbrt, "np.cbrt(a)", POSITIVE),
    unary(np.square, "np.square(a)"),
    unary(np.reciprocal, "np.reciprocal(a)", POSITIVE),
    unary(np.tanh, "np.tanh(a)"),
    unary(np.sinh, "np.sinh(a)"),
    unary(np.cosh, "np.cosh(a)"),
    unary(np.arcsin, "np.arcsin(a)", UNIT),
    unary(np.arccos, "np.arccos(a)", UNIT),
    unary(np.arctan, "np.arctan(a)"),
    unary(np.arcsinh, "np.arcsinh(a)"),
    unary(np.arccosh, "np.arccosh(a)", ABOVE_ONE),
    unary(np.arctanh, "np.arctanh(a)", UNIT),
    binary(np.arctan2, "np.arctan2(a, b)", (ANY, POSITIVE)),
    binary(np.hypot, "np.hypot(a, b)", (POSITIVE, POSITIVE)),
    binary(np.logaddexp, "np.logaddexp(a, b)"),
    unary((np.deg2rad, np.radians), "np.deg2rad(a)"),
    unary((np.radians,), "np.radians(a)"),
    unary((np.rad2deg, np.degrees), "np.rad2deg(a) / 100"),
    unary((np.degrees,), "np.degrees(a) / 100"),
    # reductions
    unary(np.sum, "np.sum(a)"),
    unary(np.sum, "np.sum(a, axis=0)", shapes=[(3,), (2, 3)]),
    unary(np.sum, "np.sum(a, axis=-1, keepdims=True)", shapes=[(2, 3)]),
    unary(np.sum, "np.sum(a, axis=(0, 1))", shapes=[(2, 3)]),
    unary(np.sum, "a.sum(axis=1)", shapes=[(2, 3)]),
    unary(np.mean, "np.mean(a)"),
    unary(np.mean, "np.mean(a, axis=1, keepdims=True)", shapes=[(2, 3)]),
    unary(np.mean, "a.mean(0)", shapes=[(2, 3)]),
    # linear algebra
    Case((operator.matmul, np.matmul), "a @ b", [ANY, ANY],
         [((2, 3), (3, 4)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (3, 4))]),
    Case((np.matmul,), "np.matmul(a, b)", [ANY, ANY], [((2, 3), (3, 4))]),
    Case((np.dot,), "np.dot(a, b)", [ANY, ANY],
         [((2, 3), (3, 4)), ((3,), (3,)), ((2, 3), (3,)), ((), (3,)), ((2, 3), ())]),
    Case((np.dot,), "a.dot(b)", [ANY, ANY], [((2, 3), (3,))]),
    # beyond 2 axes (issue 15: was refused): b's second-to-last axis is contracted
    Case((np.dot,), "np.dot(a, b)", [ANY, ANY],
         [((2, 3, 4), (4,)), ((2, 3, 4), (4, 2)), ((3,), (2, 3, 4)), ((2, 2, 3), (4, 3, 2))]),
    unary(np.transpose, "np.transpose(a) @ np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.transpose, "a.T * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.transpose, "np.transpose(a, (1, 2, 0)) * np.arange(2.0)", shapes=[(2, 3, 4)]),
    # indexing and shape
    unary(operator.getitem, "a[1] * a[0]", shapes=[(3,)]),
    unary(operator.getitem, "a[1:] * a[:2]", shapes=[(3,)]),
    unary(operator.getitem, "a[:, 0] * a[1]", shapes=[(2, 2)]),
    unary(operator.getitem, "a[[0, 0, 2]] * a[:, None]", shapes=[(3,)]),
    unary(operator.getitem, "a[a > 0] * 2", shapes=[(3,)]),
    unary(np.reshape, "np.reshape(a, (3, 2)) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.reshape, "a.reshape(3, 2) * np.arange(2.0)", shapes=[(2, 3)]),
    unary(np.reshape, "a.reshape((6,)) * np.arange(6.0)", shapes=[(2, 3)]),
    unary(np.ravel, "np.ravel(a) * np.arange(6.0)", shapes=[(2, 3)]),
    unary(np.ravel, "a.flatten() * np.arange(6.0)", shapes=[(2, 3)]),
    unary(np.copy, "np.copy(a) * a", shapes=[(2, 3)]),
]


def _extra_tables():
    """TABLE lists of tests/rule_table_*.py (one module per domain of rules)."""
    import importlib
    import pathlib
    here = pathlib.Path(__file__).parent
    tables = []
    for path in sorted(here.glob("rule_table_*.py")):
        tables += importlib.import_module(path.stem).TABLE
    return tables


TABLE = TABLE + _extra_tables()


def _sample(rng, domain, shape):
    low, high = domain
    value = rng.uniform(low, high, size=shape)
    return float(value) if shape == () else value


def _cases():
    for case in TABLE:
        for shapes in case.shapes:
            shapes = shapes if len(case.domains) > 1 else (shapes,)
            yield pytest.param(case, shapes, id=f"{case.id} {shapes}")


@pytest.mark.parametrize("case, shapes", list(_cases()))
def test_rule_against_central_differences(case, shapes):
    rng = np.random.default_rng(zlib.crc32(f"{case.expression} {shapes}".encode()))
    names = ["a", "b"][: len(case.domains)]
    args = [_sample(rng, d, s) for d, s in zip(case.domains, shapes)]
    body = case.wrap.format(case.expression)
    text = f"def f({', '.join(names)}):\n    return {body}\n"
    env = {"np": np, "math": math, **SCIPY}
    primal_namespace = dict(env)
    exec(text, primal_namespace)
    primal = primal_namespace["f"]
    gradient = s2sad.grad_source(text, "f", wrt=tuple(range(len(names))), env=env)
    computed = gradient(*args)
    for index, (arg, got) in enumerate(zip(args, computed)):
        expected = numeric_grad(primal, args, index)
        assert type(got) is type(arg), (type(got), type(arg))
        assert np.shape(got) == np.shape(arg)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8,
                                   err_msg=f"d/d{names[index]} of {case.expression}\n"
                                           f"{gradient.source}")


GENERATED = importlib.import_module("generated_rule_table").TABLE
# generated code's helpers are in scope where generated code is differentiated again
HELPERS = {name: getattr(runtime, name) for name in runtime.__all__}


def _generated_cases():
    for case in GENERATED:
        for shapes in case.shapes:
            shapes = shapes if len(case.domains) > 1 else (shapes,)
            yield pytest.param(case, shapes, id=f"{case.id} {shapes}")


@pytest.mark.parametrize("case, shapes", list(_generated_cases()))
def test_generated_code_helper_rule_against_central_differences(case, shapes):
    """Both modes: reverse against central differences, forward against reverse."""
    rng = np.random.default_rng(zlib.crc32(f"{case.expression} {shapes}".encode()))
    names = ["a", "b"][: len(case.domains)]
    args = [_sample(rng, d, s) for d, s in zip(case.domains, shapes)]
    text = f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n"
    env = {"np": np, "math": math, **SCIPY, **HELPERS}
    namespace = dict(env)
    exec(text, namespace)
    wrt = tuple(range(len(names)))
    got = s2sad.grad_source(text, "f", wrt=wrt, env=env)(*args)
    for index, gradient in enumerate(got):
        assert np.shape(gradient) == np.shape(args[index])
        np.testing.assert_allclose(gradient, numeric_grad(namespace["f"], args, index),
                                   rtol=1e-6, atol=1e-8)
    directions = [_sample(rng, (-1.0, 1.0), s) for s in shapes]
    forward = s2sad.JVPFunction(None, wrt, parsed=s2sad.frontend.parse_source(
        text, "f", "<string>", env))
    _, derivative = forward(*args, tuple(directions))
    expected = sum(float(np.sum(g * v)) for g, v in zip(got, directions))
    np.testing.assert_allclose(derivative, expected, rtol=1e-9, atol=1e-12)


def test_every_rule_has_a_table_entry():
    covered = {key for case in TABLE + GENERATED for key in case.keys}
    builtin = [rule for rule in rules.all_rules() if rule.kind != "nondiff"
               and rule.template.function.__module__.startswith("s2sad.rules.")
               and rule.key not in s2sad.patterns.FORMS.values()  # (test_patterns.py's)
               # (array_copy, array_astype: NumPy's rules, for code on dask arrays;
               # test_dask.py differentiates that code, and again)
               and getattr(rule.key, "__module__", None) != "s2sad.runtime"]
    missing = [rule.label for rule in builtin if rule.key not in covered]
    assert missing == []


def test_templates_run_as_plain_functions():
    """A rule template is a real function: calling it gives the derivative."""
    from s2sad.rules import elementwise, scalar
    assert elementwise.sin_partials(np.sin(0.3), 0.3) == pytest.approx(np.cos(0.3))
    assert scalar.truediv_partials(3.0 / 4.0, 3.0, 4.0) == pytest.approx((0.25, -3 / 16))


@pytest.mark.parametrize("case", TABLE, ids=[c.id for c in TABLE])
def test_rule_unoptimized_code_agrees(case):
    """The optimizer only rewrites: the unoptimized gradient gives the same numbers."""
    rng = np.random.default_rng(7)
    shapes = case.shapes[-1] if len(case.domains) > 1 else (case.shapes[-1],)
    names = ["a", "b"][: len(case.domains)]
    args = [_sample(rng, d, s) for d, s in zip(case.domains, shapes)]
    text = f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n"
    wrt = tuple(range(len(names)))
    env = {"np": np, "math": math, **SCIPY}
    fast = s2sad.grad_source(text, "f", wrt=wrt, env=env)(*args)
    plain = s2sad.grad_source(text, "f", wrt=wrt, env=env, optimize=False)(*args)
    for got, expected in zip(plain, fast):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case, shapes", list(_cases()))
def test_rule_in_forward_mode_agrees_with_reverse_mode(case, shapes):
    """Every rule has a forward mode (a tangent template, partials, or linearity), and
    <J v, 1> from it equals <v, J^T 1> from reverse mode (the dot-product test)."""
    rng = np.random.default_rng(zlib.crc32(f"forward {case.expression} {shapes}".encode()))
    names = ["a", "b"][: len(case.domains)]
    args = [_sample(rng, d, s) for d, s in zip(case.domains, shapes)]
    directions = [_sample(rng, (-1.0, 1.0), s) for s in shapes]
    text = f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n"
    env = {"np": np, "math": math, **SCIPY}
    wrt = tuple(range(len(names)))
    gradients = s2sad.grad_source(text, "f", wrt=wrt, env=env)(*args)
    forward = s2sad.JVPFunction(None, wrt, parsed=s2sad.frontend.parse_source(
        text, "f", "<string>", env))
    _, derivative = forward(*args, tuple(directions))
    expected = sum(float(np.sum(g * v)) for g, v in zip(gradients, directions))
    np.testing.assert_allclose(derivative, expected, rtol=1e-9, atol=1e-12,
                               err_msg=forward.source)
