"""Issue 15's wrong gradients in rules, runtime and optimiser: each smallest program,
right in reverse and forward mode against central differences, or refused.

Each test failed on the code before the fix (a zero gradient, NaN, a NumPy exception
or a wrong number); the comment above it says how.
"""
import ast
import itertools
import math
import warnings

import gast
import numpy as np
import pytest

import s2sad
from s2sad import frontend, lower, rules, runtime
from s2sad.anno import walk
from s2sad.check import numeric_grad
from s2sad.rules.template import instantiate


def _both_modes(f, *args, wrt=0, tol=1e-6):
    """grad against central differences (shape and type too), and jvp against
    the same numbers along a fixed direction."""
    expected = numeric_grad(f, list(args), wrt)
    got = s2sad.grad(f, wrt=wrt)(*args)
    assert np.shape(got) == np.shape(args[wrt])
    assert type(got) is type(args[wrt])
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    direction = np.cos(np.arange(np.size(args[wrt])) + 1.0).reshape(np.shape(args[wrt]))
    if not isinstance(args[wrt], np.ndarray):
        direction = float(direction)
    _, tangent = s2sad.jvp(f, wrt=wrt)(*args, direction)
    np.testing.assert_allclose(tangent, np.sum(expected * direction), rtol=tol, atol=tol)


# -- index objects: np.r_ and np.c_ gave an exactly zero gradient ----------------------

def r_join(x):
    return np.sum(np.r_[x, x * 2.0] ** 2)


def c_join(x):
    return np.sum(np.c_[x, x * 2.0] ** 2)


class Picker:
    def __getitem__(self, index):
        return index


PICK = Picker()


def user_index_object(x):
    return np.sum(PICK[x] ** 2)


@pytest.mark.parametrize("f, hint", [(user_index_object, "pass the result")])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_an_index_object_is_refused_not_taken_as_a_constant(f, hint, mode):
    x = np.array([0.3, 0.5, 0.7])
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="cannot tell what") as info:
        if mode == "reverse":
            s2sad.grad(f)(x)
        else:
            s2sad.jvp(f)(x, x)
    message = str(info.value)
    assert "test_rules_issue15.py" in message and "^" in message and hint in message


@pytest.mark.parametrize("f", [r_join, c_join])
def test_the_index_tricks_are_their_joins(f):
    """np.r_[...] and np.c_[...] (read as constants, they gave a zero gradient) are the
    concatenations they compute (see desugar/numpy_forms.py)."""
    x = np.array([0.3, 0.5, 0.7])
    np.testing.assert_allclose(s2sad.grad(f)(x), 2 * x + 8 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(f)(x, np.ones(3))[1], np.sum(10 * x), rtol=1e-12)


GRID = np.linspace(0.0, 1.0, 3)
SETTINGS = {"scale": 2.0, "shape": (3,)}


def plain_global_data(x):
    return np.sum(x * GRID) * SETTINGS["scale"]


def test_plain_global_data_is_still_a_constant():
    _both_modes(plain_global_data, np.array([0.3, 0.5, 0.7]))


# -- std and var over one entry: NaN where the derivative is 0 -------------------------

def std_of_rows(x):
    return np.sum(np.std(x, axis=1))


def std_of_one(x):
    return np.std(x)


def std_keepdims(x):
    return np.sum(np.sin(np.std(x, axis=0, keepdims=True)))


def var_of_rows(x):
    return np.sum(np.var(x, axis=1))


@pytest.mark.parametrize("f, x", [(std_of_rows, np.array([[0.3], [0.8]])),
                                  (std_of_one, np.array([0.4])),
                                  (std_of_one, 0.4),
                                  (std_keepdims, np.array([[0.3, -0.2]])),
                                  (var_of_rows, np.array([[0.3], [0.8]]))])
def test_std_and_var_of_one_entry_have_derivative_zero(f, x):
    _both_modes(f, x)
    assert np.all(s2sad.grad(f)(x) == 0.0)


def std_with_ddof(x):
    return np.std(x, ddof=1)


def var_with_ddof(x):
    return np.sum(np.var(x, axis=1, ddof=1))


@pytest.mark.parametrize("f", [std_with_ddof, var_with_ddof])
def test_std_and_var_with_ddof_at_the_count_are_refused(f):
    x = np.array([[0.4]])
    with pytest.raises(s2sad.S2SADError, match="ddof"):
        s2sad.grad(f)(x)
    with pytest.raises(s2sad.S2SADError, match="ddof"):
        s2sad.jvp(f)(x, x)


# -- einsum: '...' over different ranks, implicit mode, the sublist form ----------------

def einsum_middle_ellipsis(a, b):
    return np.sum(np.sin(np.einsum("i...j,k...j->ik...", a, b)))


def einsum_implicit(a, b):
    return np.sum(np.sin(np.einsum("ij,jk", a, b)))


@pytest.mark.parametrize("f, shapes", [
    # the adjoint of b was summed over k instead of '...' (sizes 4 and 4): wrong numbers
    (einsum_middle_ellipsis, ((2, 4, 3), (4, 3))),
    # a reshape crash
    (einsum_middle_ellipsis, ((2, 3), (5, 4, 3))),
    (einsum_implicit, ((2, 3), (3, 4))),
])
@pytest.mark.parametrize("wrt", [0, 1])
def test_einsum_gradients(f, shapes, wrt):
    rng = np.random.default_rng(15)
    args = [rng.uniform(-1.0, 1.0, s) for s in shapes]
    _both_modes(f, *args, wrt=wrt)


def einsum_sublist(x):
    return np.sum(np.sin(np.einsum(x, [0, 1], [1, 0])))


def einsum_sublist_two(x):
    return np.sum(np.sin(np.einsum(x, [0, 1], x, [1, 2], [0, 2])))


def einsum_three_operands(x):
    return np.sum(np.einsum("i,j,k->ijk", x, x, np.ones(2)))


@pytest.mark.parametrize("f, x", [
    (einsum_sublist, np.array([[0.3, 0.5], [0.8, 0.1]])),
    (einsum_sublist_two, np.array([[0.3, 0.5], [0.8, 0.1]])),
    (einsum_three_operands, np.array([0.3, -0.5]))])
def test_einsum_in_the_sublist_form_and_of_three_operands_in_both_modes(f, x):
    # refused once (forward mode gave a zero tangent for the first: the operand sat
    # where the rule expected the subscripts); every form is differentiated (issue 17)
    _both_modes(f, x)


def einsum_loss(x):
    return np.sum(np.sin(np.einsum("ij,kj->ik", x, x)))


def sort_loss(x):
    return np.sum(np.sort(x) * np.arange(3.0) ** 2)


def column_stack_loss(x):
    return np.sum(np.sin(np.column_stack([x, x * 2.0])))


def cholesky_loss(x):
    return np.sum(np.sin(np.linalg.cholesky(x @ x.T + 3 * np.eye(3))))


@pytest.mark.parametrize("f, x", [
    (einsum_loss, np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])),
    (sort_loss, np.array([0.3, -0.5, 0.9])),
    (column_stack_loss, np.array([0.3, -0.5, 0.9])),
    (cholesky_loss, np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4], [-0.2, 0.6, 0.1]])),
])
def test_second_derivatives_through_rules_that_were_refused(f, x):
    """einsum's and column_stack's helpers had no rule, the sort's np.take_along_axis
    neither, and cholesky's template read .dtype, which generated code may not."""
    hessian = s2sad.hessian(f)(x)
    gradient = s2sad.grad(f)
    flat = np.array([numeric_grad(lambda v: gradient(v).ravel()[i], [x], 0)
                     for i in range(x.size)])
    np.testing.assert_allclose(hessian.reshape(x.size, x.size), flat.reshape(x.size, -1),
                               rtol=1e-5, atol=1e-6)


# -- products with a number: the number's gradient was an array ------------------------

V = np.array([1.0, 2.0])
M = np.array([[0.3, 0.4], [0.1, -0.5]])


def inner_number(s):
    return np.sum(np.sin(np.inner(s, V)))


def inner_number_right(s):
    return np.sum(np.sin(np.inner(V, s)))


def dot_number(s):
    return np.sum(np.sin(np.dot(s, M)))


def outer_number(s):
    return np.sum(np.sin(np.outer(s, V)))


def kron_number(s):
    return np.sum(np.sin(np.kron(M, s)))


def tensordot_number(s):
    return np.sum(np.sin(np.tensordot(s, M, 0)))


def vdot_number(s):
    return np.sin(np.vdot(s, 0.7))


@pytest.mark.parametrize("f", [inner_number, inner_number_right, dot_number, outer_number,
                               kron_number, tensordot_number, vdot_number])
@pytest.mark.parametrize("s", [0.7, np.float64(-0.4)], ids=["float", "float64"])
def test_a_number_operand_gets_a_number_gradient(f, s):
    _both_modes(f, s)


# -- hypot at (0, 0): ZeroDivisionError (math) or NaN (NumPy) ---------------------------

def hypot_of_zero_terms(x):
    a = 0.0 * x
    return x + math.hypot(a, a)


def hypot_through_zero(x):
    return x + math.hypot(x - 0.5, 0.0)


def np_hypot_through_zero(x):
    return np.sum(x + np.hypot(x - 0.5, 0.0 * x))


@pytest.mark.parametrize("f, x", [(hypot_of_zero_terms, 0.5), (hypot_through_zero, 0.5),
                                  (np_hypot_through_zero, np.array([0.5, 0.7]))])
def test_hypot_at_the_origin_has_the_central_difference_limit(f, x):
    # at (0, 0) hypot is |.|-like: central differences see slope 0, as for abs at 0
    _both_modes(f, x)


# -- the optimiser wrote into a spread adjoint as if it had the full shape -------------

def log1p_mean_keepdims(u):
    return np.log1p(u ** 2).mean(keepdims=True).sum()


def exp_sum_keepdims(u):
    return np.exp(u ** 2).sum(axis=0, keepdims=True).sum()


@pytest.mark.parametrize("f, u", [
    # ValueError: non-broadcastable output operand with shape (1,) ... (3,)
    (log1p_mean_keepdims, np.array([0.3, 0.5, 0.7])),
    (log1p_mean_keepdims, np.array([[0.3, 0.5, 0.7], [0.2, -0.4, 0.9]])),
    (exp_sum_keepdims, np.array([[0.3, 0.5, 0.7], [0.2, -0.4, 0.9]])),
])
def test_a_spread_adjoint_is_not_written_into_as_if_it_had_the_full_shape(f, u):
    _both_modes(f, u)
    plain = s2sad.grad(f, optimize=False)(u)
    np.testing.assert_allclose(s2sad.grad(f)(u), plain, rtol=1e-12)


# -- templates: what they emit, s2sad's own frontend accepts ---------------------------

RUNTIME = {name: getattr(runtime, name) for name in runtime.__all__}


def _template_as_function(rule) -> str:
    """The template's code as generated code shows it where no rank is known (every
    known_rank test false), wrapped in a function of its parameters."""
    template = rule.template
    fresh = itertools.count()
    def name(p):
        return gast.Name(id=p, ctx=gast.Load(), annotation=None, type_comment=None)

    # (a *args parameter, or one whose default is a tuple, bound to a tuple of two, as a
    # call binds them: np.gradient(f, *varargs) is np.gradient(f, varargs_0, varargs_1))
    spread = [p for p in template.params if p == template.varargs or
              isinstance(template.defaults.get(p), tuple)]
    bindings = {p: gast.Tuple(elts=[name(f"{p}_0"), name(f"{p}_1")], ctx=gast.Load())
                if p in spread else name(p) for p in template.params}
    keep = tuple(f"d{p}" for p in template.params) if rule.kind == "adjoint" else ()
    statements, returned = instantiate(template, bindings, lambda local: f"{local}_{next(fresh)}",
                                       keep=keep, ranks=dict.fromkeys(template.params))
    if rule.kind == "adjoint":
        assigned = {n.id for s in statements for n in walk(s)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        returned = gast.Tuple(elts=[gast.Name(id=d, ctx=gast.Load(), annotation=None,
                                              type_comment=None)
                                    for d in keep if d in assigned], ctx=gast.Load())
    params = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
              for p in template.params
              for n in ([f"{p}_0", f"{p}_1"] if p in spread else [p])]
    function = gast.FunctionDef(
        name="f", args=gast.arguments(args=params, posonlyargs=[], vararg=None,
                                      kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=statements + [gast.Return(value=returned)], decorator_list=[], returns=None,
        type_comment=None, type_params=[])
    module = gast.Module(body=[function], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(module)))


def _all_templates():
    seen = set()
    for table in (rules.REGISTRY, rules.TANGENTS):
        for rule in table.values():
            if rule.template is not None and id(rule.template) not in seen:
                seen.add(id(rule.template))
                yield pytest.param(rule, id=f"{rule.kind} {rule.template.name}")


@pytest.mark.parametrize("rule", list(_all_templates()))
def test_every_rule_template_emits_code_the_frontend_accepts(rule):
    """`and`/`or`, comprehensions and generators in a template made a gradient that
    s2sad refuses to differentiate again (the Hessian of np.linalg.solve)."""
    text = _template_as_function(rule)
    parsed = frontend.parse_source(text, "f", filename="<s2sad template>",
                                   env={"np": np, "numpy": np, "math": math, **RUNTIME,
                                        **rule.template.modules})  # (scipy's `special`)
    lower.lower(parsed, is_pure=rules.has_rule)  # (x.dtype, a function as a value)


A3 = np.array([[2.0, 0.3, 0.1], [0.2, 1.5, 0.4], [0.1, 0.2, 1.8]])


def solve_loss(b):
    return np.sum(np.sin(np.linalg.solve(A3, b)))


def test_the_hessian_through_solve_is_not_refused():
    b = np.array([0.3, -0.5, 0.8])
    hessian = s2sad.hessian(solve_loss)(b)
    gradient = s2sad.grad(solve_loss)
    expected = np.array([numeric_grad(lambda v: gradient(v)[i], [b], 0) for i in range(3)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-8)


# -- a list of unequal arrays returned to grad: NumPy's ValueError from np.ndim ------------

def returns_a_list_of_unequal_arrays(x):
    return [np.ones(3), np.ones(2)]


def returns_a_list_of_numbers(x):
    return [1.0, 2.0]


@pytest.mark.parametrize("f", [returns_a_list_of_unequal_arrays, returns_a_list_of_numbers])
def test_a_list_returned_to_grad_is_refused(f):
    with pytest.raises(s2sad.NonScalarOutputError, match="scalar output"):
        s2sad.grad(f)(np.array([0.3, 0.5, 0.7]))
    with pytest.raises(runtime.NonScalarOutput):
        runtime.require_scalar([np.ones(3), np.ones(2)])


# -- the norm at 0 (NaN, where central differences see 0, as for std) ----------------------

def norm_at_zero(x):
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, ord=2, axis=1)) + \
        np.linalg.norm(x, "fro")


def test_the_norm_at_zero_has_derivative_zero():
    x = np.array([[0.0, 0.0, 0.0], [0.3, -0.5, 0.9]])
    _both_modes(norm_at_zero, x)
    _both_modes(norm_at_zero, np.zeros((2, 3)))


# -- a parameter a rule took as a constant, though it depends on the inputs -----------------

def var_in_ddof(x, d):
    return np.var(x, ddof=d) + np.sum(np.std(x[None, :], axis=1, ddof=d))


def norm_in_ord(x, p):
    return np.linalg.norm(x, ord=p)


def test_ddof_that_depends_on_the_inputs_has_its_derivative():
    # d var / d ddof = var / (n - ddof); it was 0 (the rule had no adjoint for ddof)
    x = np.array([0.3, -0.5, 0.9])
    expected = numeric_grad(var_in_ddof, [x, 1.0], 1)
    np.testing.assert_allclose(s2sad.grad(var_in_ddof, wrt=1)(x, 1.0), expected, rtol=1e-6)
    with pytest.raises(s2sad.S2SADError, match="ddof"):
        s2sad.jvp(var_in_ddof, wrt=1)(x, 1.0, 1.0)


def test_an_ord_that_depends_on_the_inputs_is_refused():
    x = np.array([0.3, -0.5, 0.9])
    with pytest.raises(s2sad.S2SADError, match="ord"):
        s2sad.grad(norm_in_ord, wrt=1)(x, 2.0)
    with pytest.raises(s2sad.S2SADError, match="ord"):
        s2sad.jvp(norm_in_ord, wrt=1)(x, 2.0, 1.0)
    np.testing.assert_allclose(s2sad.grad(norm_in_ord)(x, 2.0), x / np.linalg.norm(x))


# -- math functions whose derivative is infinite where they are not: ZeroDivisionError ----

def sqrt_at_zero(x):
    return math.sqrt(x)


def asin_at_one(x):
    return math.asin(x) + math.acos(x)


def acosh_at_one(x):
    return math.acosh(x)


def atan2_at_origin(x):
    return math.atan2(x, 0.0 * x)


@pytest.mark.parametrize("f, x, expected", [(sqrt_at_zero, 0.0, math.inf),
                                            (asin_at_one, 1.0, math.nan),
                                            (acosh_at_one, 1.0, math.inf),
                                            (atan2_at_origin, 0.0, math.nan)])
def test_math_partials_at_their_singular_points_are_numpys_not_an_exception(f, x, expected):
    # np.sqrt's (and so on) rules give inf or nan there; math's raised ZeroDivisionError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = s2sad.grad(f)(x)
        _, tangent = s2sad.jvp(f)(x, 1.0)
    np.testing.assert_equal(got, expected)
    np.testing.assert_equal(tangent, expected)
    assert type(got) is float


# -- a positional argument bound to the template parameter in its place, not NumPy's -------

X33 = np.array([[0.3, -0.5, 0.9], [0.8, 0.1, -0.4], [0.2, 0.6, 1.3]])


def mean_dtype_positional(x):
    # the third positional is dtype; the template took it as keepdims: a transposed gradient
    return np.sum(np.mean(x, 1, np.float64) * np.arange(3.0))


def prod_dtype_positional(x):
    return np.sum(np.prod(x, 1, np.float64) * np.arange(3.0))


def std_dtype_positional(x):
    return np.sum(np.std(x, 1, np.float64) * np.arange(3.0))


def sum_out(x):
    return np.sum(np.sum(x, axis=0, out=np.zeros(3)))


@pytest.mark.parametrize("f", [mean_dtype_positional, prod_dtype_positional,
                               std_dtype_positional, sum_out])
def test_dtype_and_out_bind_where_numpy_binds_them_and_are_refused(f):
    with pytest.raises(s2sad.S2SADError, match="dtype=|out="):
        s2sad.grad(f)(X33)
    with pytest.raises(s2sad.S2SADError, match="dtype=|out="):
        s2sad.jvp(f)(X33, X33)


def keepdims_positional(x):
    return np.sum(np.var(x, 1, None, None, 1, True) * np.arange(3.0)[:, None]) + \
        np.sum(np.max(x, 0, None, True) * np.arange(3.0))


def test_keepdims_passed_positionally_binds_as_keepdims():
    _both_modes(keepdims_positional, X33)
