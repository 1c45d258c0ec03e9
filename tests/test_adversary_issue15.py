"""Adversarial review of issue 15 (alias analysis; environment): programs written to break
the claims "every write into an array another live name shares is refused or right",
"the caller's arguments are never mutated", "grad, value_and_grad, jvp and hessian agree",
and "a module edited after import is right or refused".

Each confirmed defect is a strict xfail (a fix shows as XPASS: then drop the marker);
the plain tests pin attacks that s2sad already meets."""
import importlib
import os
import sys
import textwrap
import time

import numpy as np
import pytest

import s2sad

from conftest import central_difference
from test_element_dtypes import INTEGER_ARRAYS  # (the same programs, refusal messages)

X = np.array([0.33, -0.77, 1.13, 0.57])   # away from the integer-cast kinks below


def _expected(f, x):
    return central_difference(f, {"x": x}, "x")


def _check_all_modes(f, x=X):
    """grad, value_and_grad, jvp and hessian each refuse or agree with differences of f
    run on copies; the argument is never changed."""
    x = np.array(x, dtype=float)
    want = _expected(f, x)
    value = f(x.copy())
    tangent = np.linspace(0.5, 2.0, x.size).reshape(x.shape)
    calls = {
        "grad": lambda a: s2sad.grad(f)(a),
        "value_and_grad": lambda a: s2sad.value_and_grad(f)(a),
        "jvp": lambda a: s2sad.jvp(f)(a, tangent),
    }
    for name, call in calls.items():
        given = x.copy()
        try:
            result = call(given)
        except s2sad.S2SADError:
            continue
        np.testing.assert_array_equal(given, x, err_msg=f"{name} changed the argument")
        if name == "grad":
            np.testing.assert_allclose(result, want, rtol=1e-5, atol=1e-6, err_msg=name)
        elif name == "value_and_grad":
            np.testing.assert_allclose(result[0], value, rtol=1e-12, err_msg=name)
            np.testing.assert_allclose(result[1], want, rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_allclose(result[1], np.sum(want * tangent), rtol=1e-5, atol=1e-6,
                                       err_msg=name)


def _hessian_by_differences(f, x, eps=1e-4):
    columns = []
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = eps
        step = step.reshape(x.shape)
        columns.append(((_expected(f, x + step) - _expected(f, x - step)) / (2 * eps)).ravel())
    return np.array(columns).T.reshape(x.shape + x.shape)


# == (A) aliasing: accepted and wrong ======================================================

def overlapping_slice_write(x):
    c = x * 1.0
    c[1:] = c[:-1] * x[1:]
    return np.sum(c)


# Was wrong (lowering made a = c[:-1] a view, c[1:] = a * b wrote into it, the adjoint read
# the changed a): fixed by 52066c8 (lower) and fe4c3da (forward).
def test_write_from_an_overlapping_slice_of_the_same_array():
    _check_all_modes(overlapping_slice_write)


def overlapping_slice_write_backwards(x):
    c = x * 1.0
    c[:-1] = c[1:] * x[:-1]
    return np.sum(c)


def test_write_from_an_overlapping_slice_backwards():
    _check_all_modes(overlapping_slice_write_backwards)


def view_named_then_written_through_its_base(x):
    c = x * 1.0
    a = c[:-1]
    c[1:] = a * x[1:]
    return np.sum(c)


def reversed_self_times_argument(x):
    c = x * 1.0
    c[:] = c[::-1] * x
    return np.sum(c)


def shifted_square(x):
    c = x * 1.0
    c[1:] = c[:-1] ** 2
    return np.sum(c * x)


def shifted_product_added(x):
    c = x * 1.0
    c[1:] += c[:-1] * x[1:]
    return np.sum(c * c)


# Was wrong in every mode (the adjoint and the tangent read a view of c after c[...] = e):
# fixed by 52066c8 and fe4c3da.
@pytest.mark.parametrize("f", [view_named_then_written_through_its_base,
                               reversed_self_times_argument, shifted_square,
                               shifted_product_added], ids=lambda f: f.__name__)
def test_a_view_read_by_the_derivative_after_its_base_is_written(f):
    _check_all_modes(f)


def copy_of_a_view_then_base_written(x):
    c = np.sin(x)
    v = c[:]
    w = v * 1.0
    c[0] = x[1]
    return np.sum(w * x) + np.sum(c * x)


def ravel_of_base_scaled(x):
    c = np.sin(x)
    w = c.ravel() * 1.0
    c[0] = x[1]
    return np.sum(w * x) + np.sum(c * x)


def view_added_to_zero(x):
    c = np.sin(x)
    w = np.add(c[::-1], 0.0)
    c[:2] = x[2:]
    return np.sum(w * x) + np.sum(c * x)


def test_reverse_mode_of_a_copy_of_a_view_then_base_written():
    np.testing.assert_allclose(s2sad.grad(copy_of_a_view_then_base_written)(X),
                               _expected(copy_of_a_view_then_base_written, X), rtol=1e-6)


@pytest.mark.parametrize("f", [copy_of_a_view_then_base_written, ravel_of_base_scaled,
                               view_added_to_zero], ids=lambda f: f.__name__)
def test_forward_mode_of_a_copy_of_a_view_then_base_written(f):
    _check_all_modes(f)
    np.testing.assert_allclose(s2sad.hessian(f)(X), _hessian_by_differences(f, X),
                               rtol=1e-4, atol=1e-4)


def through_asanyarray(x):
    c = x * 1.0
    d = np.asanyarray(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_ascontiguousarray(x):
    c = x * 1.0
    d = np.ascontiguousarray(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_asfortranarray(x):
    c = x * 1.0
    d = np.asfortranarray(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_astype_without_copy(x):
    c = x * 1.0
    d = c.astype(float, copy=False)
    d[0] = x[1] ** 2
    return np.sum(c * x)


@pytest.mark.parametrize("f", [through_asanyarray, through_ascontiguousarray,
                               through_asfortranarray, through_astype_without_copy],
                         ids=lambda f: f.__name__)
def test_calls_that_hand_back_their_argument_are_views(f):
    _check_all_modes(f)


def asanyarray_of_the_argument_updated(x):
    y = np.asanyarray(x)
    y += 1.0
    return np.sum(x * x)


def test_asanyarray_of_an_argument_updated_in_place():
    _check_all_modes(asanyarray_of_the_argument_updated)


def out_argument_into_itself(x):
    c = x * 1.0
    d = np.multiply(c, 2.0, out=c)
    return np.sum(c * x)


def test_a_ufunc_s_out_argument_writes_into_it():
    _check_all_modes(out_argument_into_itself)


def ufunc_positional_out(x):
    c = x * 1.0
    d = np.add(c, 1.0, c)
    return np.sum(c * x)


def ufunc_out_where(x):
    c = x * 1.0
    d = np.multiply(c, 3.0, out=c, where=c > 0)
    return np.sum(c * x)


def clip_out(x):
    c = x * 1.0
    d = np.clip(c, -0.5, 0.5, out=c)
    return np.sum(c * x)


def cumsum_out(x):
    c = x * 1.0
    d = np.cumsum(x, out=c)
    return np.sum(c * x)


def dot_out(x):
    c = np.zeros(2)
    d = np.dot(np.ones((2, 4)), x, out=c)
    return np.sum(c * c)


def fill_diagonal_bound(x):
    c = np.outer(x, x)
    d = np.fill_diagonal(c, 0.0)
    return np.sum(c)


def put_bound(x):
    c = x * 1.0
    d = np.put(c, [0], [5.0])
    return np.sum(c * x)


def putmask_bound(x):
    c = x * 1.0
    d = np.putmask(c, c > 0, 5.0)
    return np.sum(c * x)


@pytest.mark.parametrize("f", [ufunc_positional_out, ufunc_out_where, clip_out, cumsum_out,
                               dot_out, fill_diagonal_bound, put_bound, putmask_bound],
                         ids=lambda f: f.__name__)
def test_calls_that_write_into_an_argument(f):
    _check_all_modes(f)


def through_array_copy_false(x):
    c = x * 1.0
    d = np.array(c, copy=False)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_asarray_chkfinite(x):
    c = x * 1.0
    d = np.asarray_chkfinite(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_require(x):
    c = x * 1.0
    d = np.require(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def through_trim_zeros(x):
    c = x * 1.0
    d = np.trim_zeros(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


@pytest.mark.parametrize("f", [through_array_copy_false, through_asarray_chkfinite,
                               through_require, through_trim_zeros], ids=lambda f: f.__name__)
def test_more_calls_that_hand_back_their_argument(f):
    _check_all_modes(f)


def copyto_result_bound(x):
    c = np.zeros(4)
    z = np.copyto(c, x * x)
    return np.sum(c)


def test_copyto_writes_into_its_first_argument():
    _check_all_modes(copyto_result_bound)


def zero_d_view_then_write(x):
    c = np.array(np.sum(x))
    d = c[...]
    c[...] = 5.0
    return d * x[1] + c


def test_a_zero_d_array_s_ellipsis_view():
    """c = np.array(s) is a 0-d array, not a number, and d = c[...] a view of it."""
    _check_all_modes(zero_d_view_then_write)
    with pytest.raises(s2sad.S2SADError, match="shares"):
        s2sad.hessian(zero_d_view_then_write)(X)


@pytest.mark.parametrize("f", INTEGER_ARRAYS, ids=lambda f: f.__name__)
def test_integer_arrays_the_check_does_not_see_truncate(f):
    _check_all_modes(f)


def int_array_written(x):
    c = np.zeros(4, dtype=int)
    c[0] = x[0] * 10.0
    return np.sum(c * x)


def bool_array_written(x):
    c = np.zeros(4, dtype=bool)
    c[0] = x[0]
    return np.sum(c * x)


def int_array_slice_written(x):
    c = np.zeros(4, dtype=int)
    c[:] = x * 10.0
    return np.sum(c * x)


def test_reverse_mode_refuses_writes_into_integer_arrays():
    for f in (int_array_written, bool_array_written, int_array_slice_written):
        with pytest.raises(s2sad.S2SADError):
            s2sad.grad(f)(X.copy())


@pytest.mark.parametrize("f", [int_array_written, bool_array_written, int_array_slice_written],
                         ids=lambda f: f.__name__)
def test_jvp_refuses_or_truncates_writes_into_integer_arrays(f):
    _check_all_modes(f)


def updates_its_argument(x):
    x += 1.0
    return np.sum(x * x)


def doubles_its_argument(x):
    x *= 2.0
    return x * x


def test_grad_accepts_an_argument_updated_in_place_and_leaves_the_caller_s_alone():
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(s2sad.grad(updates_its_argument)(x), [3.0, 4.0])
    np.testing.assert_array_equal(x, [0.5, 1.0])


def test_vjp_of_a_function_that_updates_its_argument():
    x = np.array([0.5, 1.0])
    value, pullback = s2sad.vjp(updates_its_argument)(x)
    np.testing.assert_allclose(pullback(1.0), [3.0, 4.0])
    np.testing.assert_array_equal(x, [0.5, 1.0])


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_function_that_updates_its_argument(mode):
    x = np.array([0.5, 1.0])
    # f(x) = (2 x) ** 2 elementwise: d/dx = 8 x = [4, 8] at the caller's point
    np.testing.assert_allclose(s2sad.jacobian(doubles_its_argument, mode=mode)(x),
                               np.diag([4.0, 8.0]))
    np.testing.assert_array_equal(x, [0.5, 1.0])


WEIGHTS = np.ones(4)


def global_written_through_a_view(x):
    d = WEIGHTS[1:]
    d[0] = x[0]
    return np.sum(WEIGHTS * x)


def global_updated_through_an_alias(x):
    d = WEIGHTS
    d += x
    return np.sum(WEIGHTS * x)


def global_written_through_reshape(x):
    d = np.reshape(WEIGHTS, (2, 2))
    d[0, 0] = x[1]
    return np.sum(WEIGHTS * x)


def global_written_directly(x):
    WEIGHTS[0] = x[0]
    return np.sum(WEIGHTS * x)


def test_a_global_array_written_directly_is_refused():
    with pytest.raises(s2sad.S2SADError):
        s2sad.grad(global_written_directly)(X.copy())


# passes on the working tree with an uncommitted aliasing.py change (04:30 UTC): not strict
# until it is committed, then drop the marker
@pytest.mark.parametrize("f", [global_written_through_a_view, global_updated_through_an_alias,
                               global_written_through_reshape], ids=lambda f: f.__name__)
def test_a_global_array_written_through_a_view_is_refused(f):
    try:
        with pytest.raises(s2sad.S2SADError):
            s2sad.grad(f)(X.copy())
        np.testing.assert_array_equal(WEIGHTS, np.ones(4))
    finally:
        WEIGHTS[:] = 1.0


def copy_of_an_integer_argument_written(x, c):
    d = c * 1
    d[0] = x[0]
    return np.sum(d * x)


def test_jvp_of_a_write_into_a_copy_of_an_integer_argument():
    x = np.full(4, 0.3)
    c = np.arange(4)
    with pytest.raises(s2sad.S2SADError):
        s2sad.grad(copy_of_an_integer_argument_written)(x, c)
    try:
        _, tangent = s2sad.jvp(copy_of_an_integer_argument_written)(x, c, np.ones(4))
    except s2sad.S2SADError:
        return
    assert tangent == pytest.approx(6.0)


# == (A) secondary: the Hessian refuses s2sad's own gradient code ============================

def overlapping_update(x):
    c = x * 1.0
    c[1:] += c[:-1]
    return np.sum(c * c)


def row_of_a_stack_written(x):
    c = x * 1.0
    d = np.stack([c])[0]
    d[0] = 9.0
    return np.sum(c * x) + np.sum(d * x)


@pytest.mark.parametrize("f", [overlapping_update, row_of_a_stack_written],
                         ids=lambda f: f.__name__)
def test_the_hessian_of_a_program_whose_gradient_is_accepted(f):
    np.testing.assert_allclose(s2sad.grad(f)(X), _expected(f, X), rtol=1e-6)
    np.testing.assert_allclose(s2sad.hessian(f)(X), _hessian_by_differences(f, X),
                               rtol=1e-4, atol=1e-4)


def copy_updated_in_a_loop(t):
    c = np.ones(3) * t
    for i in range(3):
        d = c.copy()
        d[i] = d[i] * t
        c = d
    return np.sum(c ** 2)


def test_second_order_of_a_copy_updated_in_a_loop():
    t = 0.7
    eps = 1e-4
    f = copy_updated_in_a_loop
    second = (f(t + eps) - 2 * f(t) + f(t - eps)) / eps ** 2
    assert s2sad.grad(s2sad.grad(f))(t) == pytest.approx(second, rel=1e-4)


def unary_plus_copy(x):
    a = x * 2.0
    c = +a
    c[0] = 2.0
    return np.sum(a * c)


def test_unary_plus_is_a_copy():
    np.testing.assert_allclose(s2sad.grad(unary_plus_copy)(X), _expected(unary_plus_copy, X),
                               rtol=1e-6)


# == (A) attacks s2sad meets: refused, or right in every mode ===============================

def chain_through_helper(x):
    c = x + 0.0
    d = _view_of(c, k=1, back=True)
    d[0] = x[2] * x[3]
    return np.sum(c ** 2)


def _view_of(a, k=0, *, back=False):
    v = a[k:]
    if back:
        v = v[::-1]
    return v


def view_in_one_branch_written_in_the_other(x):
    c = x * 1.0
    v = c[2:]
    for i in range(2):
        if i == 0:
            v = c[1:]
        else:
            c[1] = x[0] ** 2
    return np.sum(v * x[1:])


def view_kept_across_swaps(x):
    a = x * 1.0
    b = x * 2.0
    s = 0.0
    for i in range(2):
        v = a[1:]
        a, b = b, a
        b[1] = x[i] ** 2
        s = s + np.sum(v * x[1:])
    return s + np.sum(a) + np.sum(b)


def long_chain(x):
    c = np.outer(x, x)
    d = np.expand_dims(c.T[1:].T, 0)[0][0][::-1]
    d[1] = 3.0 * x[1]
    return np.sum(np.sin(c))


def reshape_minus_one_function(x):
    c = x * 1.0
    d = np.reshape(c, -1)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def atleast_2d_then_write(x):
    c = x * 1.0
    d = np.atleast_2d(c)
    d[0, 0] = x[1] ** 2
    return np.sum(c * x)


def real_then_write(x):
    c = x * 1.0
    d = np.real(c)
    d[0] = x[1] ** 2
    return np.sum(c * x)


def parts_of_split_written(x):
    c = x * 1.0
    p, q = np.split(c, 2)
    q[0] = x[1] ** 2
    return np.sum(c * x)


def helper_that_writes_its_argument(x):
    c = x * 1.0
    d = _set_first(c, v=x[1] ** 2)
    return np.sum(c * x) + np.sum(d)


def _set_first(a, v=1.0):
    a[0] = v
    return a


def argument_reshaped_and_scaled(x):
    y = x.reshape(2, 2)
    y *= 2.0
    return np.sum(x * x)


def copies_written(x):
    c = x * 1.0
    d = c.reshape(2, 2).flatten()
    e = c[c > -10]
    f = c[np.array([0, 2])]
    g = np.copy(c)
    h = c[1:].copy()
    k = np.array(c)
    d[0] = 9.0
    e[1] = 9.0
    f[0] = 9.0
    g[2] = 9.0
    h[0] = 9.0
    k[3] = 9.0
    return (np.sum(c * c) + np.sum(d * x) + np.sum(e * x) + np.sum(f * x[:2]) + np.sum(g * x)
            + np.sum(h * x[1:]) + np.sum(k * x))


def argument_updated_in_place(x):
    x += 1.0
    return np.sum(x * x)


def copy_then_written_forward(x):
    a = x * 2.0
    c = a.copy()
    c[0] = 2.0
    d = a * 1.0
    d[1] = 3.0
    return np.sum(a * c * d)


def slice_assigned_from_its_reverse(x):
    c = x * 1.0
    c[:] = c[::-1]
    return np.sum(c * x)


@pytest.mark.parametrize("f", [chain_through_helper, view_in_one_branch_written_in_the_other,
                               view_kept_across_swaps, long_chain, reshape_minus_one_function,
                               atleast_2d_then_write, real_then_write, parts_of_split_written,
                               helper_that_writes_its_argument, argument_reshaped_and_scaled,
                               copies_written, argument_updated_in_place,
                               copy_then_written_forward, slice_assigned_from_its_reverse],
                         ids=lambda f: f.__name__)
def test_views_refused_or_right_copies_right(f):
    _check_all_modes(f)


def test_copies_are_accepted():
    for f in (copies_written, argument_updated_in_place, copy_then_written_forward):
        s2sad.grad(f)(X.copy())


def test_views_through_helpers_and_branches_are_refused():
    for f in (chain_through_helper, view_in_one_branch_written_in_the_other,
              view_kept_across_swaps, long_chain, helper_that_writes_its_argument,
              argument_reshaped_and_scaled):
        with pytest.raises(s2sad.S2SADError):
            s2sad.grad(f)(X.copy())


def test_jvp_and_hvp_leave_the_caller_s_tangent_alone():
    tangent = np.array([1.0, 2.0, 3.0, 4.0])
    s2sad.jvp(copy_then_written_forward)(X.copy(), tangent)
    s2sad.hvp(copy_then_written_forward)(X.copy(), tangent)
    np.testing.assert_array_equal(tangent, [1.0, 2.0, 3.0, 4.0])


# == (B) environment ========================================================================

@pytest.fixture
def make_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []

    def make(name, text):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(text))
        names.append(name)
        return importlib.import_module(name), path

    yield make
    for name in names:
        sys.modules.pop(name, None)


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


# passes on the working tree with an uncommitted frontend.py change (04:30 UTC): not strict
# until it is committed, then drop the marker
@pytest.mark.parametrize("signature", ["x, k=2.0", "x, *, k=2.0"])
def test_a_default_edited_after_import_is_refused_or_right(make_module, signature):
    name = "adversary_default_" + ("kw" if "*" in signature else "pos")
    module, path = make_module(name, f"""
        def f({signature}):
            return x ** k
        """)
    _edit(path, "k=2.0", "k=3.0")
    try:
        assert s2sad.grad(module.f)(3.0) == pytest.approx(6.0)
    except s2sad.SourceUnavailableError:
        pass


def scaled_power(x, k=2.0):
    return x ** k


def test_defaults_changed_after_a_gradient_was_compiled():
    original = scaled_power.__defaults__
    try:
        assert s2sad.grad(scaled_power)(3.0) == pytest.approx(6.0)
        scaled_power.__defaults__ = (3.0,)
        assert s2sad.grad(scaled_power)(3.0) == pytest.approx(27.0)
    finally:
        scaled_power.__defaults__ = original


def test_edits_elsewhere_are_refused_or_right(make_module):
    """A helper in another module, a closure, a decorated function, a shifted function."""
    make_module("adversary_other_helper", """
        import numpy as np


        def h(x):
            return np.sin(x)
        """)
    helper_path = sys.modules["adversary_other_helper"].__file__
    user, user_path = make_module("adversary_user", """
        import functools
        import adversary_other_helper
        from adversary_other_helper import h


        def deco(fn):
            @functools.wraps(fn)
            def w(*a, **k):
                return fn(*a, **k)
            return w


        def f(x):
            return h(x) * 2.0


        def g(x):
            return adversary_other_helper.h(x) * 2.0


        def make():
            def inner(x):
                return x ** 2
            return inner


        closure = make()


        @deco
        def decorated(x):
            return x ** 2


        def shifted(x):
            return x ** 2
        """)
    import pathlib
    _edit(pathlib.Path(helper_path), "np.sin(x)", "np.cos(x)")
    for fn in (user.f, user.g):
        with pytest.raises(s2sad.SourceUnavailableError):
            s2sad.grad(fn)(0.5)
    _edit(user_path, "return x ** 2\n    return inner", "return x ** 3\n    return inner")
    _edit(user_path, "def decorated(x):\n    return x ** 2", "def decorated(x):\n    return x ** 3")
    _edit(user_path, "def shifted(x):", "# a new line\ndef shifted(x):")
    for fn in (user.closure, user.decorated):
        with pytest.raises(s2sad.SourceUnavailableError):
            s2sad.grad(fn)(3.0)
    try:
        assert s2sad.grad(user.shifted)(3.0) == pytest.approx(6.0)
    except s2sad.SourceUnavailableError:
        pass


def two_args(x, y=2.0):
    return np.sum(x * y)


def one_arg(x):
    return np.sum(np.sin(x))


@pytest.mark.parametrize("entry", [s2sad.grad, s2sad.value_and_grad, s2sad.jacobian,
                                   s2sad.hessian, s2sad.vjp])
def test_one_argument_too_many_reads_as_python_says_it(entry):
    x = np.ones(3)
    for fn, args in ((one_arg, (x, 1.0)), (two_args, (x, 1.0, 2.0))):
        with pytest.raises(TypeError) as own:
            fn(*args)
        with pytest.raises(TypeError) as theirs:
            entry(fn)(*args)
        assert str(theirs.value) == str(own.value)


@pytest.mark.parametrize("entry", [s2sad.jvp, s2sad.hvp])
def test_jvp_and_hvp_refuse_one_argument_too_many(entry):
    x = np.ones(3)
    with pytest.raises(TypeError, match=r"one_arg\(\) takes 1 positional argument but 2"):
        entry(one_arg)(x, 1.0, np.ones(3))


def test_a_parameter_named_df_is_the_user_s():
    def h(x, df):
        return np.sum(x * df)
    np.testing.assert_allclose(s2sad.grad(h)(np.ones(3), 3.0), 3.0 * np.ones(3))
    np.testing.assert_allclose(s2sad.grad(h)(np.ones(3), df=3.0), 3.0 * np.ones(3))


def _s2sad_frames(exc):
    import traceback
    package = os.path.dirname(os.path.abspath(s2sad.__file__)) + os.sep
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if f.filename.startswith(package) or f.filename.startswith("<s2sad")]


def _vector(x):
    return x * 2.0


def _unknown_name(x):
    return helper_that_does_not_exist(x)  # noqa: F821


@pytest.mark.parametrize("call", [
    lambda: s2sad.hvp(_vector)(np.ones(3), np.ones(3)),
    lambda: s2sad.jvp(_unknown_name)(np.ones(3), np.ones(3)),
    lambda: s2sad.grad(s2sad.grad(_vector))(np.ones(3)),
    lambda: s2sad.grad(long_chain)(X),
    lambda: s2sad.grad(helper_that_writes_its_argument)(X),
])
def test_refusals_show_at_most_two_s2sad_frames(call, monkeypatch):
    monkeypatch.delenv("S2SAD_TRACEBACK", raising=False)
    with pytest.raises(s2sad.S2SADError) as caught:
        call()
    assert len(_s2sad_frames(caught.value)) <= 2
    monkeypatch.setenv("S2SAD_TRACEBACK", "1")
    with pytest.raises(s2sad.S2SADError) as caught:
        call()
    assert len(_s2sad_frames(caught.value)) > 2
