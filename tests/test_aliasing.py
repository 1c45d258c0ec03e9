"""The may-alias analysis (s2sad/aliasing.py): views and names of one array.

A write into an array (`d[0] = x`, or `t *= 0.5` on an array) that another name
still sees, read afterwards, is refused where the write is, in reverse mode,
value_and_grad and forward mode alike: the derivative would not follow the shared
memory. Chains of views of any length are followed; copies (flatten, mask and
index-array indexing) are not taken for views. Every program here once came back
accepted and wrong, or refused though it was right.
"""
import inspect

import numpy as np
import pytest

import s2sad
from conftest import central_difference
from test_adversary_round2 import (einsum_diagonal_written,  # (the adversary's programs)
                                   zero_d_accumulator_read_through_an_earlier_name,
                                   zero_d_asarray_updated_through_another_name,
                                   zero_d_updated_through_another_name)
from s2sad import aliasing, analysis, frontend, pipeline, rules


# -- view chains: a write through the end of the chain, a read of its start ------------

def reshape_then_index(v, x):
    c = v.copy()
    d = c.reshape(1, 2)[0]
    d[0] = x
    return np.sum(c * v)


def slice_of_slice(v, x):
    c = v.copy()
    d = c[:][:]
    d[0] = x
    return np.sum(c * v)


def slice_then_flip(v, x):
    c = v.copy()
    d = c[1:][::-1]
    d[0] = x
    return np.sum(c * v)


def new_axis_then_index(v, x):
    c = v.copy()
    d = c[None][0]
    d[0] = x
    return np.sum(c * v)


def expand_dims_then_index(v, x):
    c = v.copy()
    d = np.expand_dims(c, 0)[0]
    d[0] = x
    return np.sum(c * v)


def three_steps(v, x):
    c = v.copy()
    d = c.reshape(1, 2)[0][::-1]
    d[0] = x
    return np.sum(c * v)


def three_named_steps(v, x):
    c = v.copy()
    a = c.T
    b = np.squeeze(a[None])
    d = b.ravel()
    d[1] = x
    return np.sum(c * v)


def write_source_read_chain(v, x):
    c = v.copy()
    d = c.reshape(1, 2)[0]
    c[0] = x
    return np.sum(d * v)


def write_in_place_through_chain(v, x):
    c = v * 1.0
    d = c[None][0]
    d *= x
    return np.sum(c)


def first_row(m):
    return m[0]


def helper_returns_a_view(v, x):
    c = np.outer(v, v)
    r = first_row(c.T)
    r[0] = x
    return np.sum(c)


# -- two other names for one array -------------------------------------------------------

def two_names_element_write(b, x):
    b = b * x
    t = b
    c = b
    c[0] = b[1]
    return np.sum(t)


def two_names_in_place(A, x):
    A = A * x
    t = A
    s = A
    t *= 0.5
    return np.sum(s)


def read_again_next_trip(v, x):
    c = v * 1.0
    t = c
    for i in range(1, 3):
        c[i] = t[i - 1] * x
    return np.sum(c)


def diagonal_of_a_matrix(m, x):
    c = m * 1.0
    d = np.diag(c)
    c[0, 0] = x
    return np.sum(d)


def split_parts(v, x):
    c = v * 1.0
    p, q = np.split(c, 2)
    p[0] = x
    return np.sum(c)


def iterate_rows(m, x):
    c = m * 1.0
    s = 0.0
    for r in c:
        r[0] = x
        s = s + np.sum(r)
    return s + np.sum(c)


def head_and_tail(m):
    return m[0], m[1:]


def helper_returns_views_in_a_tuple(v, x):
    c = v * 1.0
    a, b = head_and_tail(c)
    b[0] = x
    return np.sum(c)


def in_place_on_an_unknown_rank(A, b, x):
    t = np.linalg.solve(A, b * x)
    s = t
    t += 1.0
    return np.sum(s * s)


# -- a value computed before the write is not reused after it (value numbering) --------------

def sine_before_and_after_an_element_write(v, x):
    c = v + 0.0
    q = np.sin(c) * x
    da = c
    da[-1] -= x
    return np.sum(np.sin(c)) + np.sum(q)


def sine_before_and_after_an_update(v, x):
    c = v * 1.0
    a = np.sin(c) * x
    t1 = c
    t1 *= 0.5
    return np.sum(np.sin(c)) + np.sum(a)


def sine_before_and_after_a_while_loop(v, x):
    c = v + 0.0
    q = np.sum(np.sin(c)) * x
    da = c
    i = 0
    while i < 1:
        da[i] = x
        i += 1
    return np.sum(np.sin(c)) + q


def sine_before_and_after_rows_written(v, x):
    c = v + 0.0
    q = np.sum(np.sin(c)) * x
    for r in c[None]:
        r[0] = x
    return np.sum(np.sin(c)) + q


def float64_of_an_array(v, x):
    c = v * 1.0
    d = np.float64(c)
    d[0] = x
    return np.sum(c * v)


def zeroth_difference(v, x):
    c = v * 1.0
    d = np.diff(c, 0)
    d[0] = x
    return np.sum(c * v)


VEC2 = {"v": np.array([0.7, -1.3]), "x": 0.4}
VEC3 = {"v": np.array([0.7, -1.3, 2.1]), "x": 0.4}

REFUSED = [
    (reshape_then_index, VEC2, "d[0] = x"),
    (slice_of_slice, VEC2, "d[0] = x"),
    (slice_then_flip, VEC3, "d[0] = x"),
    (new_axis_then_index, VEC2, "d[0] = x"),
    (expand_dims_then_index, VEC2, "d[0] = x"),
    (three_steps, VEC2, "d[0] = x"),
    (three_named_steps, VEC2, "d[1] = x"),
    (write_source_read_chain, VEC2, "c[0] = x"),
    (write_in_place_through_chain, VEC2, "d *= x"),
    (helper_returns_a_view, VEC2, "r[0] = x"),
    (two_names_element_write, {"b": np.array([0.7, -1.3, 2.1]), "x": 0.4}, "c[0] = b[1]"),
    (two_names_in_place, {"A": np.array([0.7, -1.3, 2.1]), "x": 0.4}, "t *= 0.5"),
    (read_again_next_trip, VEC3, "c[i] = t[i - 1] * x"),
    (diagonal_of_a_matrix, {"m": np.array([[0.7, -1.3], [2.1, 0.4]]), "x": 0.4}, "c[0, 0] = x"),
    (split_parts, {"v": np.array([0.7, -1.3, 2.1, 0.4]), "x": 0.4}, "p[0] = x"),
    (iterate_rows, {"m": np.array([[0.7, -1.3], [2.1, 0.4]]), "x": 0.4}, "r[0] = x"),
    (helper_returns_views_in_a_tuple, VEC3, "b[0] = x"),
    (sine_before_and_after_an_element_write, VEC3, "da[-1] -= x"),
    (sine_before_and_after_an_update, VEC3, "t1 *= 0.5"),
    (sine_before_and_after_a_while_loop, VEC3, "da[i] = x"),
    (sine_before_and_after_rows_written, VEC3, "r[0] = x"),
    (float64_of_an_array, VEC3, "d[0] = x"),   # (the same array, not a copy)
    (zeroth_difference, VEC3, "d[0] = x"),
    # (the rank of solve's result is not inferred: forward mode has no run-time check)
    (in_place_on_an_unknown_rank, {"A": np.array([[2.0, 0.5], [0.1, 3.0]]),
                                   "b": np.array([1.0, 2.0]), "x": 0.3}, "t += 1.0"),
]


def _line_of(fn, text):
    lines, first = inspect.getsourcelines(fn)
    hits = [first + k for k, line in enumerate(lines) if line.strip() == text]
    assert len(hits) == 1, text
    return hits[0]


def _args(values):
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()}


def _tangent(value):
    return np.ones_like(value) if isinstance(value, np.ndarray) else 1.0


@pytest.mark.parametrize("fn,values,write", REFUSED, ids=[c[0].__name__ for c in REFUSED])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jvp"])
def test_a_write_another_name_sees_is_refused_where_it_happens(fn, values, write, transform):
    """Accepted before and wrong (d/dx came back 0 for every chain of two views)."""
    args = _args(values)
    before = _args(values)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        if transform == "grad":
            s2sad.grad(fn, wrt="x")(*args.values())
        elif transform == "value_and_grad":
            s2sad.value_and_grad(fn, wrt="x")(*args.values())
        else:
            s2sad.jvp(fn, wrt="x")(*args.values(), 1.0)
    error = info.value
    assert error.lineno == _line_of(fn, write)
    assert "in place" in error.message and "shares its array" in error.message
    assert ".copy()" in error.hint
    for name_, value in before.items():
        np.testing.assert_array_equal(args[name_], value)  # the caller's arrays untouched


# -- what the hint says works: copy at the end of the chain --------------------------------

def chain_then_copy(v, x):
    c = v.copy()
    d = c.reshape(1, 2)[0][::-1].copy()
    d[0] = x
    return np.sum(c * v) + np.sum(d * d)


def names_then_copy(b, x):
    b = b * x
    t = b
    c = b.copy()
    c[0] = b[1]
    return np.sum(t) + np.sum(c * c)


# -- copies that are not views -------------------------------------------------------------

def flatten_copies(m, x):
    c = m * x
    d = c.flatten()
    d[0] = 0.0
    return np.sum(c * c) + np.sum(d * d)


def mask_copies(v, x):
    c = v * x
    d = c[c > 0]
    d[0] = 0.0
    return np.sum(c * c) + np.sum(d * d)


def index_array_copies(v, x):
    c = v * x
    d = c[np.array([2, 0])]
    d[0] = 0.0
    return np.sum(c * c) + np.sum(d * d)


def index_list_copies(v, x):
    c = v * x
    d = c[[2, 0]]
    d[0] = 0.0
    return np.sum(c * c) + np.sum(d * d)


# -- one element of an index array per write ------------------------------------------------

def scatter_by_index(a, idx):
    c = np.zeros(3)
    for i in range(2):
        c[idx[i]] += a[i]
    return np.sum(c * c)


def scatter_repeated(a, idx):
    c = np.zeros(3)
    for i in range(3):
        c[idx[i]] += a[i] * a[i]
    return np.sum(c * c)


def scatter_by_a_literal_index(a, x):
    c = a * 1.0
    idx = np.array([0, 2, 1, 2])
    for i in range(4):
        c[idx[i]] += a[i] * x
    return np.sum(c * c)


def overwrite_repeated(a, idx):
    c = np.ones(3)
    for i in range(3):
        c[idx[i]] = c[idx[i]] * a[i] + a[i]
    return np.sum(c * c)


# -- common programs that share nothing when the write happens ------------------------------

def last_trip_array(v, x):
    prev = np.zeros(3)
    s = 0.0
    for i in range(3):
        cur = np.zeros(3)
        cur[0] = prev[0] * x + v[i]
        s = s + np.sum(prev * prev)
        prev = cur
    return s + np.sum(prev)


def rebound_by_reshape(v, x):
    v = v.reshape(3, 1) * x
    v = v.reshape(3)
    c = np.zeros(3)
    for i in range(3):
        r = v[i]
        c[i] = r * r
    return np.sum(c)


def rows_of_a_matrix(m, x):
    out = np.zeros(2)
    for i in range(2):
        r = m[i]
        out[i] = np.sum(r * x)
    return np.sum(out * out)


def diagonal_matrix_of_a_vector(v, x):
    d = np.diag(v)
    d[0, 1] = x
    return np.sum(d * d) + np.sum(v)


def first_difference(v, x):
    c = v * x
    d = np.diff(c, 1)
    d[0] = x
    return np.sum(c * v) + np.sum(d * d)


def view_made_after_the_write(v, x):
    c = v * 1.0
    c[0] = x
    d = c.reshape(1, 3)[0]
    return np.sum(d * d)


M = np.array([[0.7, -1.3], [2.1, 0.4]])
ACCEPTED = [
    (chain_then_copy, VEC2, "x"),
    (chain_then_copy, VEC2, "v"),
    (names_then_copy, {"b": np.array([0.7, -1.3, 2.1]), "x": 0.4}, "x"),
    (flatten_copies, {"m": M, "x": 0.4}, "x"),
    (flatten_copies, {"m": M, "x": 0.4}, "m"),
    (mask_copies, VEC3, "x"),
    (index_array_copies, VEC3, "x"),
    (index_array_copies, VEC3, "v"),
    (index_list_copies, VEC3, "x"),
    (scatter_by_index, {"a": np.array([0.7, -1.3]), "idx": np.array([2, 0])}, "a"),
    (scatter_repeated, {"a": np.array([0.7, -1.3, 0.5]), "idx": np.array([2, 0, 2])}, "a"),
    (scatter_by_a_literal_index, {"a": np.array([0.7, -1.3, 0.5, 0.2]), "x": 0.4}, "x"),
    (scatter_by_a_literal_index, {"a": np.array([0.7, -1.3, 0.5, 0.2]), "x": 0.4}, "a"),
    (overwrite_repeated, {"a": np.array([0.7, -1.3, 0.5]), "idx": np.array([2, 0, 2])}, "a"),
    (last_trip_array, VEC3, "x"),
    (last_trip_array, VEC3, "v"),
    (rebound_by_reshape, VEC3, "x"),
    (rows_of_a_matrix, {"m": M, "x": 0.4}, "x"),
    (view_made_after_the_write, VEC3, "x"),
    (view_made_after_the_write, VEC3, "v"),
    (first_difference, VEC3, "x"),
    (diagonal_matrix_of_a_vector, VEC2, "x"),
    (diagonal_matrix_of_a_vector, VEC2, "v"),
]


@pytest.mark.parametrize("fn,values,wrt", ACCEPTED,
                         ids=[f"{c[0].__name__}-{c[2]}" for c in ACCEPTED])
def test_copies_and_unshared_writes_are_accepted_and_right(fn, values, wrt):
    """flatten, mask and index-array indexing copy; c[idx[i]] += e writes one element
    (all refused before); the rest share nothing when the write happens."""
    expected = central_difference(fn, _args(values), wrt)
    gradient = s2sad.grad(fn, wrt=wrt)(*_args(values).values())
    assert np.shape(gradient) == np.shape(values[wrt])
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    value, gradient = s2sad.value_and_grad(fn, wrt=wrt)(*_args(values).values())
    assert value == pytest.approx(fn(*_args(values).values()), rel=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    tangent = _tangent(values[wrt])
    value, derivative = s2sad.jvp(fn, wrt=wrt)(*_args(values).values(), tangent)
    assert value == pytest.approx(fn(*_args(values).values()), rel=1e-12)
    assert derivative == pytest.approx(float(np.sum(expected * tangent)), rel=1e-6, abs=1e-8)


def test_flatten_lowers_to_a_copy_of_ravel():
    """ravel may return a view; flatten never does."""
    text = pipeline.lowered_source(frontend.parse_function(flatten_copies))
    assert "np.ravel(c)" in text and "d = np.copy(" in text


# -- the caller's arrays ---------------------------------------------------------------------

def write_into_argument_through_chain(v, x):
    d = v.reshape(1, 2)[0][::-1]
    d[0] = x
    return np.sum(d * d)


def write_into_argument_through_names(v, x):
    t = v
    s = t[:]
    s[0] = x
    return np.sum(s * s)


@pytest.mark.parametrize("fn", [write_into_argument_through_chain,
                                write_into_argument_through_names])
def test_a_write_into_the_callers_array_is_refused_through_any_chain(fn):
    v = np.array([0.7, -1.3])
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(fn, wrt="x")(v, 0.4)
    assert "argument 'v'" in info.value.message and ".copy()" in info.value.hint
    assert info.value.lineno == _line_of(fn, [line.strip() for line in
                                              inspect.getsource(fn).splitlines()][-2])
    np.testing.assert_array_equal(v, [0.7, -1.3])


# -- the groups other stages ask about ---------------------------------------------------------

def _analysed(fn, ranks):
    lowered = pipeline.lower_function(frontend.parse_function(fn), ranks)
    return analysis.analyse(lowered, ["x"], rules.is_differentiable, rules.shape_kind, ranks)


def test_groups_follow_chains_and_names_and_stop_at_copies():
    lowered = pipeline.lower_function(frontend.parse_function(three_named_steps))
    assert {"c", "a", "b", "d"} <= aliasing.may_share(lowered)["d"]
    lowered = pipeline.lower_function(frontend.parse_function(two_names_element_write))
    sharing = aliasing.may_share(lowered)
    assert sharing["t"] == sharing["c"] and {"t", "c"} <= sharing["c"]
    sharing = _analysed(mask_copies, {"v": 1, "x": 0}).sharing
    assert "d" not in sharing.get("c", ())
    sharing = _analysed(chain_then_copy, {"v": 1, "x": 0}).sharing
    assert "c" in sharing and "d" not in sharing.get("c", ())


# -- a user's own rule: its result may be a view of what it is given ------------------------

def reversed_view(x):
    return x[::-1]


@s2sad.adjoint(reversed_view)
def reversed_view_adjoint(dy, y, x):
    dx = dy[::-1]
    return dx


@s2sad.tangent(reversed_view)
def reversed_view_tangent(y, x, x_dot):
    return x_dot[::-1]


def write_into_a_user_rules_result(v, x):
    c = v * 1.0
    d = reversed_view(c)
    d[0] = x
    return np.sum(c * v)


def read_a_user_rules_result(v, x):
    c = v * x
    d = reversed_view(c)
    return np.sum(d * v)


def test_a_user_rules_result_may_share_its_argument():
    """s2sad cannot see inside mylib.op: writing into its result is refused where
    another name of its argument is read; reading it alone is right."""
    values = {"v": np.array([0.7, -1.3, 2.1]), "x": 0.4}
    line = _line_of(write_into_a_user_rules_result, "d[0] = x")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(write_into_a_user_rules_result, wrt="x")(*_args(values).values())
    assert info.value.lineno == line
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.jvp(write_into_a_user_rules_result, wrt="x")(*_args(values).values(), 1.0)
    assert info.value.lineno == line
    expected = central_difference(read_a_user_rules_result, _args(values), "x")
    assert s2sad.grad(read_a_user_rules_result, wrt="x")(*_args(values).values()) == \
        pytest.approx(expected, rel=1e-6)


def shift_by_slices(x, v):
    c = v * 1.0
    c[1:] = c[:-1] * x
    return np.sum(c * c)


def shift_by_a_named_view(x, v):
    c = v * 1.0
    a = c[:-1]
    c[1:] = a * x + 1.0
    return np.sum(c * c)


def shift_in_a_loop(x, v):
    c = v * 1.0
    for i in range(2):
        c[1:] = c[:-1] * x
    return np.sum(c * c)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [shift_by_slices, shift_by_a_named_view, shift_in_a_loop])
def test_a_write_whose_value_reads_a_view_of_the_array_written(fn, optimize):
    """c[1:] = a * x with a = c[:-1]: the adjoint of the write read a after the write
    had changed it (dx 1.372 by differences, -0.413 by s2sad). The value is now
    computed apart, before the write, whose restore then precedes that adjoint."""
    values = {"x": 0.7, "v": np.array([0.3, -0.5, 0.8, 1.1])}
    gx, gv = s2sad.grad(fn, wrt=(0, 1), optimize=optimize)(*values.values())
    assert gx == pytest.approx(central_difference(fn, values, "x"), rel=1e-6)
    np.testing.assert_allclose(gv, central_difference(fn, values, "v"), rtol=1e-6)
    value, tangent = s2sad.jvp(fn, wrt=0)(*values.values(), 1.0)
    assert tangent == pytest.approx(central_difference(fn, values, "x"), rel=1e-6)


MODULE_WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0])


def module_array_written_through_a_view(x):
    d = MODULE_WEIGHTS[1:]
    d[0] = x[0]
    return np.sum(MODULE_WEIGHTS * x)


def module_array_updated_through_a_name(x):
    d = MODULE_WEIGHTS
    d += x
    return np.sum(MODULE_WEIGHTS * x)


def module_array_written_through_reshape(x):
    d = np.reshape(MODULE_WEIGHTS, (2, 2)).T
    d[0, 0] = x[1]
    return np.sum(d)


def module_array_read_through_a_view(x):
    d = MODULE_WEIGHTS[1:]
    return np.sum(d * x[1:])


def module_array_copied_then_written(x):
    d = MODULE_WEIGHTS[1:].copy()
    d[0] = x[0]
    return np.sum(d * x[1:])


@pytest.mark.parametrize("fn", [module_array_written_through_a_view,
                                module_array_updated_through_a_name,
                                module_array_written_through_reshape])
def test_a_module_array_written_through_a_name_is_refused(fn):
    """The write would change the module's array for good (and the gradient ignored
    it): refused like a write into an argument."""
    x = np.array([0.5, -0.2, 0.3, 0.9])
    with pytest.raises(s2sad.S2SADError, match="module's array 'MODULE_WEIGHTS'"):
        s2sad.grad(fn)(x)
    np.testing.assert_array_equal(MODULE_WEIGHTS, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("fn", [module_array_read_through_a_view,
                                module_array_copied_then_written])
def test_a_module_array_read_or_copied_is_accepted(fn):
    x = np.array([0.5, -0.2, 0.3, 0.9])
    np.testing.assert_allclose(s2sad.grad(fn)(x), central_difference(fn, {"x": x}, "x"),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(MODULE_WEIGHTS, [1.0, 2.0, 3.0, 4.0])


def zero_d_accumulator(s):
    acc = np.zeros(())
    for i in range(3):
        acc += s * i
    return acc * s


@pytest.mark.parametrize("fn", [zero_d_updated_through_another_name,
                                zero_d_asarray_updated_through_another_name,
                                zero_d_accumulator_read_through_an_earlier_name])
def test_a_0d_array_updated_through_another_name_is_refused(fn):
    """w = z of a 0-d array is the same array, and w *= s writes into it: accepted, the
    value and the gradient were wrong (0.7 and 1.0 for s * s: 0.49 and 1.4)."""
    for call in (lambda: s2sad.grad(fn)(0.7), lambda: s2sad.jvp(fn)(0.7, 1.0)):
        with pytest.raises(s2sad.S2SADError, match="shares its array"):
            call()


def test_a_0d_accumulator_alone_is_accepted_and_right():
    assert s2sad.grad(zero_d_accumulator)(0.7) == pytest.approx(
        central_difference(zero_d_accumulator, {"s": 0.7}, "s"), rel=1e-6)


def test_a_write_through_an_einsum_view_is_refused():
    with pytest.raises(s2sad.S2SADError, match="shares its array"):
        s2sad.grad(einsum_diagonal_written)(np.array([0.3, 0.5, 0.9]))


def test_operator_getitem_as_a_function_is_refused():
    import operator

    def f(x):
        return np.sum(operator.getitem(x, slice(1, None)))

    with pytest.raises(s2sad.S2SADError, match="operator.getitem"):
        s2sad.grad(f)(np.array([0.3, 0.5, 0.9]))


def ufunc_out_keyword(x):
    c = x * 1.0
    d = np.multiply(c, 2.0, out=c)
    return np.sum(c * d)


def ufunc_out_positional(x):
    c = x * 1.0
    d = np.add(c, 1.0, c)
    return np.sum(c * d)


def copyto_bound(x):
    c = np.zeros(3)
    z = np.copyto(c, x)
    return np.sum(c * x)


@pytest.mark.parametrize("fn, line_offset, caret, message", [
    (ufunc_out_keyword, 2, "out=c", "writes its result into an array (out=)"),
    (ufunc_out_positional, 2, "c", "writes its result into an array (out=)"),
    (copyto_bound, 2, "np.copyto(c, x)", "copyto() changes an array it is given in place"),
])
def test_calls_that_write_into_an_array_are_refused_at_the_array(fn, line_offset, caret,
                                                                 message):
    """Their writes were ignored (copyto's gradient was 0): refused, pointing at the
    array written (out=) or the call, with a hint to bind a new value."""
    first = inspect.getsourcelines(fn)[1]
    for call in (lambda: s2sad.grad(fn)(np.array([0.3, 0.5, 0.9])),
                 lambda: s2sad.jvp(fn)(np.array([0.3, 0.5, 0.9]), np.ones(3))):
        with pytest.raises(s2sad.S2SADError) as info:
            call()
        text = str(info.value)
        assert message in text and "hint:" in text
        assert info.value.lineno == first + line_offset
        source_line, caret_line = text.splitlines()[1:3]
        start = caret_line.index("^")
        assert source_line[start:start + len(caret)] == caret
