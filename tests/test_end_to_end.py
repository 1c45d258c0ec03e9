"""Every corpus function through the whole pipeline, against two independent oracles.

For each function, each float parameter alone and all of them as one tuple
(`gradient_case`, built in conftest.py):

* central differences (rtol 1e-5, atol 1e-6: inputs and gradients are O(1), so
  the truncation error eps**2 * f''' and the rounding error 1e-16 * |f| / eps
  of a step eps = 1e-6 both stay below 1e-8), optimized and not;
* autograd, run on the function's own source with `np` bound to autograd.numpy
  (rtol 1e-9: two exact derivatives differ only by rounding);
* the gradient's type: a float for a float, a NumPy scalar for a NumPy scalar,
  an ndarray of the input's shape and dtype for an ndarray;
* value_and_grad returns the primal value and the same gradients;
* the arguments are unchanged, and no returned gradient shares memory with an
  argument or with another returned gradient.

For each function, with every float parameter differentiated: a call by keyword
gives what the positional call gives, the printed `df.source` exec'd on its own
gives the same gradient, and `s2sad.check_grad` accepts it.

Known s2sad bugs are listed in KNOWN_BUGS, keyed by (test, case id), and run as
strict xfails: a fix shows up as an XPASS, and then its entry goes.
"""
import ast
import copy
import functools
import inspect
import re
import textwrap
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import corpus
import s2sad
from conftest import (as_tuple, call_by_name, central_difference,  # noqa: I100
                      gradients_of, inputs_for)

GRADIENT_TESTS = ("test_gradient_types_and_shapes", "test_gradient_matches_central_differences",
                  "test_gradient_matches_autograd", "test_value_and_grad_returns_the_primal",
                  "test_arguments_are_unchanged", "test_gradients_do_not_share_memory")
WRONG_VALUE_TESTS = ("test_gradient_matches_central_differences",
                     "test_gradient_matches_autograd", "test_value_and_grad_returns_the_primal")
CALL_TESTS = ("test_keyword_call_matches_positional_call", "test_check_grad_accepts_the_corpus",
              "test_printed_source_runs_on_its_own")


KNOWN_BUGS: dict = {}

# Functions autograd itself cannot differentiate (not s2sad's concern).
AUTOGRAD_CANNOT = {
    "float_casts": "float() of an ArrayBox",
    "numpy_function_forms": "autograd has no VJP for np.positive",
    "unary_plus": "unary + on an ArrayBox",
    "floor_division_and_mod": "// on an ArrayBox",
    "logaddexp_cbrt": "autograd has no VJP for np.cbrt",
    "products_mixed": "ArrayBox has no .dot method",
    "copy_method": "ArrayBox has no .copy method",
}

RTOL, ATOL = 1e-5, 1e-6
ORACLE_RTOL, ORACLE_ATOL = 1e-9, 1e-12


# -- helpers ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _central(fn, name):
    """Central differences at the fixed corpus inputs (cached: both modes share them)."""
    return central_difference(fn, inputs_for(fn).values, name)


class _NoInPlace(ast.NodeTransformer):
    """`v += e` -> `v = v + e`: autograd cannot box an ndarray updated in place."""

    def visit_AugAssign(self, node):
        target = ast.Name(id=node.target.id, ctx=ast.Load())
        return ast.copy_location(
            ast.Assign(targets=[node.target], value=ast.BinOp(left=target, op=node.op,
                                                              right=node.value)), node)


@functools.lru_cache(maxsize=None)
def _autograd_version(fn):
    """The corpus function re-made from its source with np = autograd.numpy."""
    lines, first = inspect.getsourcelines(fn)
    tree = _NoInPlace().visit(ast.parse(textwrap.dedent("".join(lines))))
    ast.increment_lineno(tree, first - 1)  # tracebacks show corpus.py's own lines
    ast.fix_missing_locations(tree)
    namespace = dict(vars(corpus), np=anp)
    exec(compile(tree, corpus.__file__, "exec"), namespace)
    return namespace[fn.__name__]


def _same_kind(gradient, value):
    """A float for a float, a NumPy scalar for a NumPy scalar, an array like the array."""
    if isinstance(value, np.ndarray):
        return (type(gradient) is np.ndarray and gradient.shape == value.shape
                and gradient.dtype == value.dtype)
    return type(gradient) is type(value)


# -- the corpus itself -------------------------------------------------------------------


def test_corpus_has_at_least_fifty_documented_functions():
    assert len(corpus.FUNCTIONS) >= 50
    names = [fn.__name__ for fn in corpus.FUNCTIONS]
    assert len(set(names)) == len(names)
    for fn in corpus.FUNCTIONS:
        doc = fn.__doc__ or ""
        assert doc.strip() and "\n" not in doc.strip(), f"{fn.__name__}: one-line docstring"


def test_seed_examples_come_first():
    first = [fn.__name__ for fn in corpus.FUNCTIONS[:7]]
    assert first == ["seed002", "seed002_lowered", "seed002_vector", "lecture_sin_ratio",
                     "lecture_sin_ratio_annotated", "linear_regression",
                     "linear_regression_mse"]


def test_every_corpus_function_has_inputs(corpus_function):
    inputs = inputs_for(corpus_function)
    assert inputs.float_params, "nothing to differentiate"
    inputs.call(corpus_function)


@pytest.mark.parametrize("first, second", [
    ("x", "y"), ("x", "z"), ("y", "z"), ("v", "w"), ("A", "B"), ("A", "x"), ("A", "K"),
    ("a", "x"), ("a", "b"), ("s", "t"),
])
def test_inputs_compared_by_min_max_stay_apart(first, second):
    values = inputs_for(lambda a, b, s, t, x, y, z, v, w, A, B, K: 0).values
    gap = np.min(np.abs(np.subtract(values[first], values[second])))
    assert gap > 0.02


def test_array_inputs_stay_away_from_round_constants():
    values = inputs_for(lambda x, y, z, v, w, u, A, B, C, P, R, K, X, Y: 0).values
    for name, value in values.items():
        tenths = np.abs(value * 10 - np.round(value * 10)) / 10
        assert np.min(tenths) > 0.01, name
        assert np.min(np.abs(value)) >= 0.2, name


# -- gradients ---------------------------------------------------------------------------


def test_gradient_types_and_shapes(gradient_case):
    inputs = inputs_for(gradient_case.fn)
    result = s2sad.grad(gradient_case.fn, wrt=gradient_case.wrt(inputs))(
        *inputs.args, **inputs.kwargs)
    if not gradient_case.single:
        assert type(result) is tuple and len(result) == len(gradient_case.params)
    for name, gradient in zip(gradient_case.params, as_tuple(result, gradient_case)):
        value = inputs.values[name]
        assert _same_kind(gradient, value), (
            f"d{name}: got {type(gradient).__name__} {np.shape(gradient)} "
            f"{getattr(gradient, 'dtype', '')}, input is {type(value).__name__} "
            f"{np.shape(value)} {getattr(value, 'dtype', '')}")


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_gradient_matches_central_differences(gradient_case, optimize):
    inputs = inputs_for(gradient_case.fn)
    gradients = gradients_of(gradient_case, inputs, optimize=optimize)
    for name, gradient in zip(gradient_case.params, gradients):
        np.testing.assert_allclose(gradient, _central(gradient_case.fn, name),
                                   rtol=RTOL, atol=ATOL, err_msg=f"d{name}")


def test_gradient_matches_autograd(gradient_case):
    fn = gradient_case.fn
    if re.search(r"\bmath\.", inspect.getsource(fn)):
        pytest.skip("uses math.*, which autograd cannot trace")
    if fn.__name__ in AUTOGRAD_CANNOT:
        pytest.skip(f"autograd cannot: {AUTOGRAD_CANNOT[fn.__name__]}")
    inputs = inputs_for(fn)
    gradients = gradients_of(gradient_case, inputs)
    oracle = _autograd_version(fn)
    for name, gradient in zip(gradient_case.params, gradients):
        def along(value, name=name):
            return call_by_name(oracle, dict(inputs.values, **{name: value}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "output seems independent of input"
            expected = autograd.grad(along)(inputs.values[name])
        np.testing.assert_allclose(gradient, expected, rtol=ORACLE_RTOL, atol=ORACLE_ATOL,
                                   err_msg=f"d{name}")


def test_value_and_grad_returns_the_primal(gradient_case):
    fn = gradient_case.fn
    inputs = inputs_for(fn)
    value, result = s2sad.value_and_grad(fn, wrt=gradient_case.wrt(inputs))(
        *inputs.args, **inputs.kwargs)
    expected = call_by_name(fn, copy.deepcopy(inputs.values))  # fn may update arrays
    assert np.shape(value) == ()
    np.testing.assert_allclose(value, expected, rtol=1e-13, atol=0)
    for from_value_and_grad, from_grad in zip(as_tuple(result, gradient_case),
                                              gradients_of(gradient_case, inputs)):
        assert _same_kind(from_value_and_grad, from_grad)
        np.testing.assert_allclose(from_value_and_grad, from_grad, rtol=1e-13, atol=0)


def test_arguments_are_unchanged(gradient_case):
    fn = gradient_case.fn
    inputs = inputs_for(fn)
    before = copy.deepcopy(inputs.values)
    wrt = gradient_case.wrt(inputs)
    s2sad.grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    s2sad.value_and_grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    s2sad.grad(fn, wrt=wrt, optimize=False)(*inputs.args, **inputs.kwargs)
    for name, value in inputs.values.items():
        assert type(value) is type(before[name])
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_gradients_do_not_share_memory(gradient_case):
    """A caller may update a returned gradient in place without touching anything else."""
    inputs = inputs_for(gradient_case.fn)
    gradients = [g for g in gradients_of(gradient_case, inputs) if isinstance(g, np.ndarray)]
    arguments = [v for v in inputs.values.values() if isinstance(v, np.ndarray)]
    for i, gradient in enumerate(gradients):
        for other in gradients[i + 1:]:
            assert not np.shares_memory(gradient, other), "two gradients share memory"
        for argument in arguments:
            assert not np.shares_memory(gradient, argument), "a gradient is an argument"


# -- other ways to call ----------------------------------------------------------------


def test_keyword_call_matches_positional_call(corpus_function):
    inputs = inputs_for(corpus_function)
    params = inspect.signature(corpus_function).parameters
    wrt = tuple(inputs.wrt_spec(name) for name in inputs.float_params)
    positional = s2sad.grad(corpus_function, wrt=wrt)(*inputs.args, **inputs.kwargs)
    only_positional = [inputs.values[p.name] for p in params.values()
                       if p.kind is p.POSITIONAL_ONLY]
    by_keyword = {name: inputs.values[name] for name in inputs.positional + list(inputs.kwargs)
                  if params[name].kind is not params[name].POSITIONAL_ONLY}
    keyword = s2sad.grad(corpus_function, wrt=wrt)(*only_positional, **by_keyword)
    for got, expected in zip(keyword, positional):
        assert _same_kind(got, expected)
        np.testing.assert_array_equal(got, expected)


def test_printed_source_runs_on_its_own(corpus_function):
    """df.source, exec'd in an empty namespace, is the gradient (globals it reads bound)."""
    inputs = inputs_for(corpus_function)
    wrt = tuple(inputs.wrt_spec(name) for name in inputs.float_params)
    df = s2sad.grad(corpus_function, wrt=wrt)
    expected = df(*inputs.args, **inputs.kwargs)
    namespace = dict(vars(corpus)) if "bound names:" in df.source else {}
    exec(compile(df.source, "<printed>", "exec"), namespace)
    printed = namespace[f"grad_{corpus_function.__name__}"](*inputs.args, **inputs.kwargs)
    if len(wrt) == 1:
        printed = (printed,)
    for got, want in zip(printed, expected):
        np.testing.assert_array_equal(got, want)


def test_check_grad_accepts_the_corpus(corpus_function):
    inputs = inputs_for(corpus_function)
    if inputs.kwargs:
        pytest.skip("check_grad passes positional arguments only")
    indices = [inputs.positional.index(p) for p in inputs.float_params
               if p in inputs.positional]
    assert s2sad.check_grad(corpus_function, *inputs.args, wrt=tuple(indices))


# -- honest errors on the way --------------------------------------------------------------


def keepdims_times_scalar(a: float, A):
    return np.sum(A, keepdims=True) * a


def test_keepdims_output_is_refused_as_non_scalar():
    A = inputs_for(keepdims_times_scalar).values["A"]
    with pytest.raises(s2sad.NonScalarOutputError):
        s2sad.grad(keepdims_times_scalar)(0.7, A)


def test_check_grad_accepts_wrt_by_name():
    inputs = inputs_for(corpus.lecture_sin_ratio)
    assert s2sad.check_grad(corpus.lecture_sin_ratio, *inputs.args, wrt=("a", "b"))


# -- in-place updates through an alias ------------------------------------------------


def augmented_assignment_through_alias(x):
    y = x
    y += 1.0
    return np.sum(x * y)


def augmented_assignment_through_view(x):
    y = x[1:3]
    y *= 2.0
    return np.sum(x ** 2)


@pytest.mark.parametrize("fn", [augmented_assignment_through_alias,
                                augmented_assignment_through_view])
def test_in_place_update_of_a_shared_array_is_refused_where_it_happens(fn):
    """NumPy would write into x through y; the generated code would not: refused."""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    before = x.copy()
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(fn)(x)
    lines, first = inspect.getsourcelines(fn)
    assert info.value.lineno == first + 2 and "in place" in info.value.message
    np.testing.assert_array_equal(x, before)


def test_update_through_an_alias_of_a_number_rebinds():
    """For a float `y += 1.0` rebinds y: x keeps its value, as in Python."""
    assert s2sad.grad(augmented_assignment_through_alias)(0.5) == pytest.approx(2 * 0.5 + 1.0)
