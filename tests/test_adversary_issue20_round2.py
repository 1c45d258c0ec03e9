"""Second adversarial review of issue 20 (gradients of dask arrays), at d5fb28c.

Aimed at the newest parts: the laziness check on the lowered function (wrong and
missed refusals, and where a refusal points), the per-thread no-compute guard
(concurrent gradients, other threads' computes and configuration changes, nesting),
arrays of unknown chunk sizes, the dispatch rewrites (astype/reshape/transpose/copy/
size spellings, on dask and unchanged on NumPy), and held-out vectorised losses.

The contract (`_lazy_matches`): no dask compute during the call (counted with a dask
callback), dask arrays out (a dask input's gradient in its chunks), dask.compute of
them equal to the NumPy gradient to 1e-12. A defect is a strict xfail whose reason
says what is wrong; `raises=` pins how it fails today, so a fix shows as XPASS.
"""
import dataclasses
import math
import threading
import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
import dask.array as dka  # noqa: E402

import s2sad  # noqa: E402
from conftest import compute_counter, leaves, numpy_of  # noqa: E402
from s2sad import arrays  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:The `numpy.*` function is not implemented")

RNG = np.random.default_rng(2020)
N, D = 41, 3
XN = RNG.normal(size=(N, D))
YN = RNG.normal(size=N)
WN = RNG.normal(size=D) * 0.5
X = dka.from_array(XN, chunks=(13, D))
Y = dka.from_array(YN, chunks=13)


def _lazy_matches(fn, *args, wrt=0, transform=None, tol=1e-12):
    transform = transform or s2sad.grad
    expected = transform(fn, wrt=wrt)(*[numpy_of(a) for a in args])
    with compute_counter() as counter:
        got = transform(fn, wrt=wrt)(*args)
    assert counter.computes == 0, f"{counter.computes} computes inside the call"
    got_leaves, expected_leaves = leaves(got), leaves(expected)
    assert len(got_leaves) == len(expected_leaves)
    for g in got_leaves:
        assert isinstance(g, dka.Array), type(g)
    if transform is s2sad.grad and not isinstance(wrt, tuple) and \
            isinstance(args[wrt], dka.Array):
        assert got.chunks == args[wrt].chunks
    for g, e in zip(dask.compute(*got_leaves), expected_leaves):
        e = np.asarray(e)
        assert np.shape(g) == e.shape
        scale = max(1.0, float(np.max(np.abs(e))) if e.size else 1.0)
        np.testing.assert_allclose(g, e, rtol=0, atol=tol * scale)
    return got


def _refused_at(fn, args, line_text, caret_text=None):
    """fn's gradient refused before any compute, naming the user's line holding
    `line_text` with the caret under `caret_text`."""
    with compute_counter() as counter:
        with pytest.raises(s2sad.S2SADError) as info:
            s2sad.grad(fn)(*args)
    assert counter.computes == 0
    message = str(info.value)
    assert __file__ in message, message
    lines = message.splitlines()
    source = next((i for i, t in enumerate(lines) if line_text in t), None)
    assert source is not None, message
    if caret_text is not None:
        start = lines[source].index(caret_text)
        caret = lines[source + 1]
        assert caret.index("^") == start, message
    return message


# ======================================================================================
# (1) the laziness check: shapes, counts, flags and identities are not data
# ======================================================================================

def shape_threshold(w, X, y):
    if X.shape[0] > 100:
        return np.sum(X @ w)
    return np.mean((X @ w - y) ** 2)


def len_arithmetic_branch(w, X, y):
    n = len(X)
    m = n * 2 - 1
    if m > 10:
        w = w * 2
    return np.sum((X @ w - y) ** 2) / m


def flag_argument(w, X, y, flag=True):
    if flag:
        return np.sum((X @ w - y) ** 2)
    return 0.0


def unpacked_shape(w, X, y):
    n, d = X.shape
    if n > d:
        return np.sum((X @ w - y) ** 2) / n
    return 0.0


def size_ternary(w, X, y):
    s = X.size
    return np.sum((X @ w - y) ** 2) / s if s > 0 else 0.0


def max_of_len(w, X, y):
    return np.sum((X @ w - y) ** 2) / max(len(X), 1)


def math_of_shape(w, X, y):
    return np.sum((X @ w - y) ** 2) / math.sqrt(X.shape[0]) + float(X.shape[1])


def assert_on_shapes(w, X, y):
    assert X.ndim == 2 and X.shape[1] == w.shape[0]
    return np.sum((X @ w - y) ** 2)


def int_of_prod_of_shape(w, X, y):
    k = int(np.prod(X.shape))
    return np.sum(X @ w) / k


def none_and_shape(w, X, y, mask=None):
    if mask is not None and mask.shape[0] > 0:
        return 0.0
    return np.sum((X @ w - y) ** 2)


def shape_through_a_name(w, X, y):
    shape = X.shape
    if shape[0] > 0:
        return np.sum((X @ w - y) ** 2)
    return 0.0


def min_of_len_batch(w, X, y):
    batch = min(X.shape[0], 16)
    return np.sum((X[:batch] @ w - y[:batch]) ** 2)


def abs_builtin_of_data(w, X, y):
    return abs(np.sum((X @ w - y) ** 2))


def builtin_sum_over_rows(w, X, y):
    return sum((X @ w - y) ** 2)


def count_nonzero_divides(w, X, y):
    return np.sum((X @ w - y) ** 2) / np.count_nonzero(y > 0)


def comparison_as_number(w, X, y):
    r = X @ w - y
    c = np.sum(r > 0) > 3
    return np.sum(r ** 2) * (c == True)  # noqa: E712


@pytest.mark.parametrize("fn", [
    shape_threshold, len_arithmetic_branch, flag_argument, unpacked_shape, size_ternary,
    max_of_len, math_of_shape, assert_on_shapes, int_of_prod_of_shape, none_and_shape,
    shape_through_a_name, min_of_len_batch, abs_builtin_of_data, count_nonzero_divides,
    comparison_as_number], ids=lambda f: f.__name__)
def test_shapes_counts_and_flags_are_not_data(fn):
    _lazy_matches(fn, WN, X, Y)


def test_builtin_sum_over_rows_warns_or_stays_lazy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _lazy_matches(builtin_sum_over_rows, WN, X, Y)


# ======================================================================================
# (1) missed refusals, and where a refusal points
# ======================================================================================

def _helper_branch(r):
    if np.sum(r) > 0:
        return r
    return -r


def branch_in_helper(w, X, y):
    return np.sum(_helper_branch(X @ w - y) ** 2)


def ternary_on_data(w, X, y):
    r = X @ w - y
    return np.sum(r ** 2) if np.mean(r) > 0 else np.sum(r)


def lambda_ternary(w, X, y):
    f = lambda r: r if np.sum(r) > 0 else -r  # noqa: E731
    return np.sum(f(X @ w - y) ** 2)


def while_on_data(w, X, y):
    r = X @ w - y
    m = np.max(np.abs(r))
    while m > 1.0:
        r = r / 2
        m = m / 2
    return np.sum(r ** 2)


def count_branch(w, X, y):
    r = X @ w - y
    n = np.sum(y > 0)
    if n > 5:
        return np.sum(r ** 2)
    return np.sum(r)


def int_of_count(w, X, y):
    r = X @ w - y
    k = int(np.sum(y > 0))
    return np.sum(r[:k] ** 2)


def element_ternary(w, X, y):
    r = X @ w - y
    return np.sum(r ** 2) * (1.0 if y[0] > 0 else 2.0)


def branch_inside_row_loop(w, X, y):
    r = X @ w - y
    total = 0.0
    for v in r:
        if v > 0:
            total = total + v
    return total


def not_compare_ternary(w, X, y):
    s = np.sum((X @ w - y) ** 2)
    return s if not s < 0 else -s


def min_of_data(w, X, y):
    return min(np.sum((X @ w - y) ** 2), 10.0)


def math_exp_of_data(w, X, y):
    return math.exp(np.mean(X @ w - y))


def bool_of_data(w, X, y):
    r = X @ w - y
    ok = bool(np.all(r < 100))
    return np.sum(r ** 2) * ok


def asarray_of_data(w, X, y):
    return np.sum((X @ w - y) ** 2) * np.asarray(y).mean()


def array_of_list_of_dask(w, X, y):
    cols = [X[:, j] for j in range(3)]
    A = np.array(cols)
    return np.sum(A.T @ w)


def float_of_count(w, X, y):
    return np.sum((X @ w - y) ** 2) / float(np.sum(y > 0))


REFUSED = [
    (branch_in_helper, "if np.sum(r) > 0:", "np.sum(r) > 0"),
    (ternary_on_data, "if np.mean(r) > 0 else", "np.mean(r) > 0"),
    (lambda_ternary, "lambda r: r if", "np.sum(r) > 0"),
    (while_on_data, "while m > 1.0:", "m > 1.0"),
    (count_branch, "if n > 5:", "n > 5"),
    (int_of_count, "k = int(np.sum(y > 0))", "int("),
    (element_ternary, "1.0 if y[0] > 0 else 2.0", "y[0] > 0"),
    (branch_inside_row_loop, "if v > 0:", "v > 0"),
    (not_compare_ternary, "s if not s < 0 else -s", "not s < 0"),
    (min_of_data, "return min(np.sum", "min("),
    (math_exp_of_data, "return math.exp(", "math.exp("),
    (bool_of_data, "ok = bool(", "bool("),
    (asarray_of_data, "np.asarray(y).mean()", "np.asarray(y)"),
    (array_of_list_of_dask, "A = np.array(cols)", "np.array(cols)"),
    (float_of_count, "/ float(np.sum(y > 0))", "float("),
]


@pytest.mark.parametrize("fn, line, caret", REFUSED, ids=[c[0].__name__ for c in REFUSED])
def test_value_reads_refused_at_the_users_expression(fn, line, caret):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _refused_at(fn, (WN, X, Y), line, caret)


def truthiness_ternary(w, X, y):
    r = X @ w - y
    s = np.sum(r)
    return np.sum(r ** 2) if s else 0.0


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "a test that is a bare name (`... if s else ...`) is placed at the line defining s "
    "(`s = np.sum(r)`), not at the ternary the user wrote: the caret points at the "
    "wrong line (refuse_value_reads: definitions.get(test.id) for the user's own Name)"))
def test_truthiness_of_data_refused_at_the_ternary():
    _refused_at(truthiness_ternary, (WN, X, Y), "if s else 0.0", "s else")


def assert_on_data(w, X, y):
    r = X @ w - y
    assert np.all(np.isfinite(r))
    return np.sum(r ** 2)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "`assert <data>` is missed by the static check (the lowered function has a "
    "require_true(c, '') call, not an Assert): it is refused only by the runtime guard, "
    "naming 'line 17 of its code: require_true(c, '')' instead of the user's line"))
def test_assert_on_data_refused_at_the_users_line():
    _refused_at(assert_on_data, (WN, X, Y), "assert np.all(", "np.all(")


def argmax_row(w, X, y):
    r = X @ w - y
    i = np.argmax(r)
    return r[i] + np.sum(w * X[i])


def test_argmax_row_works_on_numpy():
    g = s2sad.grad(argmax_row)(WN, XN, YN)
    i = np.argmax(XN @ WN - YN)
    np.testing.assert_allclose(g, 2 * XN[i], atol=1e-12)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "r[np.argmax(r)] on dask: refused as 'no derivative for ... np.add.at' placed at the "
    "`def` line (col 0), not at the user's r[i]; the hint (see the README's table) does "
    "not say that the index is a lazy 0-d dask array"))
def test_argmax_index_refusal_names_the_users_line():
    _refused_at(argmax_row, (WN, X, Y), "return r[i] +", "r[i]")


# ======================================================================================
# (2) the per-thread no-compute guard
# ======================================================================================

def _least_squares(w, X, y):
    return np.mean((X @ w - y) ** 2)


def test_concurrent_gradients_in_threads():
    expected = s2sad.grad(_least_squares)(WN, XN, YN)
    results, errors = [None] * 6, []

    def work(i):
        try:
            results[i] = s2sad.grad(_least_squares)(WN, X, Y)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for g in dask.compute(*results):
        np.testing.assert_allclose(g, expected, atol=1e-12)
    assert dask.config.get("scheduler", None) is None


def test_other_threads_compute_while_gradients_build():
    stop, errors, done = threading.Event(), [], [0]

    def computer():
        while not stop.is_set():
            try:
                X.sum().compute()
                done[0] += 1
            except Exception as exc:  # pragma: no cover
                errors.append(repr(exc))
                return

    t = threading.Thread(target=computer)
    t.start()
    try:
        for _ in range(10):
            s2sad.grad(_least_squares)(WN, X, Y)
    finally:
        stop.set()
        t.join()
    assert not errors and done[0] > 0
    assert dask.config.get("scheduler", None) is None


def test_users_scheduler_kept_and_restored():
    with dask.config.set(scheduler="synchronous"):
        g = s2sad.grad(_least_squares)(WN, X, Y)
        assert dask.config.get("scheduler") == "synchronous"
        np.testing.assert_allclose(g.compute(), s2sad.grad(_least_squares)(WN, XN, YN))
    assert dask.config.get("scheduler", None) is None


def test_config_restored_after_a_refusal():
    with pytest.raises(s2sad.S2SADError):
        s2sad.grad(assert_on_data)(WN, X, Y)
    assert dask.config.get("scheduler", None) is None


def test_gradient_built_inside_a_dask_task():
    expected = s2sad.grad(_least_squares)(WN, XN, YN)

    def task(_):
        Xl = dka.from_array(XN, chunks=13)
        yl = dka.from_array(YN, chunks=13)
        return s2sad.grad(_least_squares)(WN, Xl, yl).compute()

    np.testing.assert_allclose(dask.delayed(task)(0).compute(), expected, atol=1e-12)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "a thread that enters dask.config.set(scheduler=...) while another builds a "
    "gradient, and leaves after it: the guard's exit restores the scheduler under the "
    "user's set, whose exit then restores the GUARD's scheduler for good; the next "
    "guard takes it as 'the scheduler before' and every other thread's compute during "
    "a later gradient build recurses (RecursionError)"))
def test_guard_and_another_threads_config_set_interleaved():
    a_in, b_set, a_out = threading.Event(), threading.Event(), threading.Event()

    def builder():
        with arrays.computes_refused():
            a_in.set()
            b_set.wait(5)
        a_out.set()

    def configurer():
        a_in.wait(5)
        change = dask.config.set(scheduler="synchronous")
        b_set.set()
        a_out.wait(5)
        change.__exit__(None, None, None)

    threads = [threading.Thread(target=builder), threading.Thread(target=configurer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    left = dask.config.get("scheduler", None)
    if left is not None:  # leave the process as it was for the next tests
        dask.config.refresh()
        dask.config.config.pop("scheduler", None)
    assert left is None, left


def test_nested_guards_keep_refusing():
    with arrays.computes_refused():
        with arrays.computes_refused():
            pass
        try:
            X.sum().compute()
        except arrays.EagerCompute:
            return
    raise AssertionError("a compute ran inside the outer guard")


# ======================================================================================
# (3) dask arrays of unknown chunk sizes (rows picked by a boolean mask)
# ======================================================================================

MASK_N = YN > 0
XM, YM = X[Y > 0], Y[Y > 0]           # shapes (nan, 3), (nan,)
XMN, YMN = XN[MASK_N], YN[MASK_N]


def _unknown_matches(fn, wrt=0):
    """As _lazy_matches, for (WN, XM, YM) against (WN, XMN, YMN): the chunks of an
    unknown-length input are not comparable, so only their number is."""
    expected = s2sad.grad(fn, wrt=wrt)(WN, XMN, YMN)
    with compute_counter() as counter:
        got = s2sad.grad(fn, wrt=wrt)(WN, XM, YM)
    assert counter.computes == 0
    assert isinstance(got, dka.Array)
    value = got.compute()
    assert value.shape == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=0, atol=1e-12 * max(1, np.abs(expected).max()))


def unknown_mse(w, X, y):
    return np.mean((X @ w - y) ** 2)


def unknown_var_std(w, X, y):
    return np.var(X @ w - y) + np.std(X @ w)


def unknown_column_stats(w, X, y):
    return np.sum(X.mean(axis=0) * w) + np.mean(X.var(axis=0) * w)


def unknown_sizes(w, X, y):
    return np.sum((X @ w - y) ** 2) / np.size(y) + np.sum(X @ w) / y.size


def unknown_extremes(w, X, y):
    return np.mean(np.abs(X @ w - y)) + np.max(X @ w) + np.min(X @ w)


def unknown_softmax(w, X, y):
    return np.sum(np.exp(X @ w) / np.sum(np.exp(X @ w)))


def unknown_norm_prod(w, X, y):
    return np.linalg.norm(X @ w - y) + np.mean(np.prod(X, axis=1) * (X @ w))


def unknown_cumsum_rows(w, X, y):
    return np.sum(np.cumsum(X, axis=0) @ w)


UNKNOWN_OK = [unknown_mse, unknown_var_std, unknown_column_stats, unknown_sizes,
              unknown_extremes, unknown_softmax, unknown_norm_prod, unknown_cumsum_rows]


@pytest.mark.parametrize("fn", UNKNOWN_OK, ids=lambda f: f.__name__)
def test_unknown_length_data_constant(fn):
    _unknown_matches(fn)


@pytest.mark.parametrize("fn", [unknown_mse, unknown_var_std, unknown_column_stats,
                                unknown_sizes, unknown_extremes, unknown_softmax],
                         ids=lambda f: f.__name__)
def test_unknown_length_data_differentiated(fn):
    _unknown_matches(fn, wrt=1)


def unknown_row_sums(w, X, y):
    return np.mean(np.sum(X * w, axis=1) ** 2)


def unknown_cumsum(w, X, y):
    return np.sum(np.cumsum(X @ w) * y)


def unknown_concatenate(w, X, y):
    return np.sum(np.concatenate([X @ w, y]) ** 2)


def unknown_outer(w, X, y):
    return np.sum(np.outer(X @ w, w))


def unknown_ddof(w, X, y):
    return np.std(X @ w, ddof=1) + np.var(X, axis=0, ddof=1) @ w


@pytest.mark.parametrize("fn", [unknown_row_sums, unknown_cumsum, unknown_concatenate,
                                unknown_outer], ids=lambda f: f.__name__)
def test_unknown_length_primal_runs_on_dask(fn):
    """The functions below run on dask themselves (their value is right, lazily)."""
    np.testing.assert_allclose(fn(WN, XM, YM).compute(), fn(WN, XMN, YMN))


@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "np.sum(X * w, axis=1) of unknown-length rows: the gradient crashes with dask's "
    "ValueError 'cannot convert float NaN to integer' (a row-wise sum, the commonest "
    "pattern after X @ w); the primal runs on dask"))
def test_unknown_length_row_sums():
    _unknown_matches(unknown_row_sums)


@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "np.cumsum of an unknown-length vector: the gradient crashes with dask's "
    "'Arrays chunk sizes are unknown: (nan,)' (the adjoint reverses it by slicing); "
    "the primal runs on dask"))
def test_unknown_length_cumsum():
    _unknown_matches(unknown_cumsum)


@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "np.concatenate of unknown-length pieces: the gradient crashes ('cannot convert "
    "float NaN to integer': the adjoint cuts by the pieces' lengths); the primal runs"))
def test_unknown_length_concatenate():
    _unknown_matches(unknown_concatenate)


@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "np.outer of an unknown-length vector: the gradient crashes ('cannot convert float "
    "NaN to integer'); the primal runs on dask"))
def test_unknown_length_outer():
    _unknown_matches(unknown_outer)


@pytest.mark.xfail(strict=True, raises=s2sad.S2SADError, reason=(
    "std/var with ddof=1 over an unknown count: refused at run time by the guard "
    "(degrees_of_freedom(e, 1) converts the lazy count), naming the generated code's "
    "line, not the user's; the count could stay lazy as np.mean's does"))
def test_unknown_length_ddof():
    _unknown_matches(unknown_ddof)


# ======================================================================================
# (4) the dispatch rewrites: astype/reshape/transpose/copy/ravel/size spellings
# ======================================================================================

def astype_f32_copy_false(w, X, y):
    return np.sum(X.astype(np.float32, copy=False).astype(float) @ w)


def astype_keyword_dtype_copy_false(w, X, y):
    return np.sum(X.astype(dtype="float64", copy=False) @ w)


def astype_keywords_reversed(w, X, y):
    return np.sum(X.astype(copy=False, dtype=np.float64) @ w)


def asarray_with_dtype_keyword(w, X, y):
    return np.sum(np.asarray(X @ w, dtype=np.float64) ** 2)


def reshape_to_a_computed_length(w, X, y):
    n = X.shape[0] * X.shape[1]
    return np.sum(np.reshape(X * w, n) ** 2)


def reshape_to_a_shape_tuple_of_names(w, X, y):
    shape = X.shape
    return np.sum(np.reshape(X * w, (shape[0] * shape[1],)) ** 2)


def reshape_method_three_ints(w, X, y):
    return np.sum(X.reshape((X.shape[0], 1, X.shape[1])) * w)


def reshape_column(w, X, y):
    return np.sum(np.reshape(X @ w, (-1, 1)) * y[:, None])


def transpose_axes_tuple(w, X, y):
    A = X[:, :, None] * w
    return np.sum(np.transpose(A, (2, 0, 1)) * w[:, None, None])


def transpose_method_varargs(w, X, y):
    A = X[:, :, None] * w
    return np.sum(A.transpose(1, 2, 0) * y)


def transpose_axes_list_name(w, X, y):
    axes = [1, 0]
    return np.sum(np.transpose(X * w, axes) ** 2)


def transpose_axes_argsort(w, X, y):
    axes = np.argsort([1, 0])
    return np.sum(np.transpose(X * w, axes) @ y)


def copy_ravel_flatten(w, X, y):
    A = (X * w).copy()
    return (np.sum(A.ravel() ** 2) + np.sum(np.ravel(X).dot(np.tile(w, X.shape[0])))
            + np.sum((X * w).flatten()) + np.sum(np.copy(X) @ w))


def size_spellings(w, X, y):
    return np.sum(X @ w) / np.size(X) + np.sum(w) * X.size / y.size


DISPATCH_OK = [astype_f32_copy_false, astype_keyword_dtype_copy_false,
               astype_keywords_reversed, asarray_with_dtype_keyword,
               reshape_to_a_computed_length, reshape_to_a_shape_tuple_of_names,
               reshape_method_three_ints, reshape_column, transpose_axes_tuple,
               transpose_method_varargs, transpose_axes_list_name, transpose_axes_argsort,
               copy_ravel_flatten, size_spellings]
W_DASK = dka.from_array(WN, chunks=2)


@pytest.mark.parametrize("wrt", [0, 1])
@pytest.mark.parametrize("fn", DISPATCH_OK, ids=lambda f: f.__name__)
def test_dispatch_spellings_on_dask(fn, wrt):
    tol = 1e-6 if fn is astype_f32_copy_false else 1e-12
    _lazy_matches(fn, WN, X, Y, wrt=wrt, tol=tol)


@pytest.mark.parametrize("fn", DISPATCH_OK, ids=lambda f: f.__name__)
def test_dispatch_spellings_with_dask_parameters(fn):
    tol = 1e-6 if fn is astype_f32_copy_false else 1e-12
    _lazy_matches(fn, W_DASK, X, Y, tol=tol)


def _fd(fn, args, wrt=0, eps=1e-6):
    x = np.array(args[wrt], dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        a, b = list(args), list(args)
        a[wrt], b[wrt] = up, down
        out[i] = (fn(*a) - fn(*b)) / (2 * eps)
    return out


def write_through_asarray_copy(w, X, y):
    u = np.array(w, np.float64)
    u[0] = 0.0
    return np.sum(w * u) + np.sum(X @ u)


def write_through_astype(w, X, y):
    u = w.astype(np.float64)
    u[0] = 0.0
    return np.sum(w * u) + np.sum(X @ u)


def astype_copy_false_read_only(w, X, y):
    u = w.astype(np.float64, copy=False)
    v = np.asarray(u, dtype=np.float64)
    return np.sum(X @ v) + np.sum(u * w)


@pytest.mark.parametrize("fn", [write_through_asarray_copy, write_through_astype,
                                astype_copy_false_read_only, size_spellings,
                                reshape_to_a_computed_length, transpose_axes_argsort],
                         ids=lambda f: f.__name__)
def test_numpy_behaviour_unchanged(fn):
    w = WN.copy()
    g = s2sad.grad(fn)(w, XN, YN)
    np.testing.assert_array_equal(w, WN)  # the argument is not written through an alias
    np.testing.assert_allclose(g, _fd(fn, (WN, XN, YN)), rtol=1e-6, atol=1e-6)


def write_through_astype_copy_false(w, X, y):
    u = w.astype(np.float64, copy=False)
    u[0] = 0.0
    return np.sum(w * w)


def test_write_through_astype_copy_false_refused_on_numpy():
    """x.astype(t, copy=False) with t x's dtype is x itself: a write through it would
    change the argument; refused at the write (not a wrong gradient)."""
    w = WN.copy()
    with pytest.raises(s2sad.S2SADError, match="shares"):
        s2sad.grad(write_through_astype_copy_false)(w, XN, YN)
    np.testing.assert_array_equal(w, WN)


def size_with_an_axis(w, X, y):
    return np.sum(X @ w) / np.size(X, 0) + np.sum(w) * np.size(X, axis=1)


def test_size_with_an_axis_on_numpy():
    np.testing.assert_allclose(s2sad.grad(size_with_an_axis)(WN, XN, YN),
                               XN.sum(0) / N + D, atol=1e-12)


@pytest.mark.xfail(strict=True, raises=s2sad.S2SADError, reason=(
    "np.size(X, 0) / np.size(X, axis=1) on dask: dispatch.py's size-attribute rewrite "
    "turns the callee `np.size` (an Attribute named size on the Name np) into "
    "`array_size(np)(X, 0)`; the guard then refuses a compute at the generated line"))
def test_size_with_an_axis_on_dask():
    _lazy_matches(size_with_an_axis, WN, X, Y)


def astype_copy_true(w, X, y):
    return np.sum(X.astype(np.float64, copy=True) @ w) + np.sum(w.astype(float, copy=True) ** 2)


def test_astype_copy_true_on_numpy():
    np.testing.assert_allclose(s2sad.grad(astype_copy_true)(WN, XN, YN),
                               XN.sum(0) + 2 * WN, atol=1e-12)


def astype_copy_true_data(w, X, y):
    return np.sum(X.astype(np.float64, copy=True) @ w)


def test_astype_copy_true_on_dask():
    _lazy_matches(astype_copy_true_data, WN, X, Y)


def repeat_parameter_against_data(w, X, y):
    return np.sum(X.T.reshape(-1) ** 2 * np.repeat(w, X.shape[0]))


def test_repeat_parameter_against_data_on_numpy():
    g = s2sad.grad(repeat_parameter_against_data)(WN, XN, YN)
    np.testing.assert_allclose(g, (XN ** 2).sum(0), atol=1e-12)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "np.repeat(w, n) of a NumPy parameter against dask data: refused (np.add.at) at "
    "the `def` line, col 0, not at the np.repeat the user wrote (and the adjoint of "
    "repeat needs no add.at: a reshape and a sum)"))
def test_repeat_parameter_against_data_refusal_place():
    _refused_at(repeat_parameter_against_data, (WN, X, Y), "np.repeat(w", "np.repeat(")


# ======================================================================================
# (5) held-out vectorised losses, written as users write them, on three chunkings
# ======================================================================================

from scipy import special  # noqa: E402

def glm_bernoulli(w, X, y):
    eta = X @ w
    return -np.mean(y * eta - np.logaddexp(0.0, eta))
def poisson(w, X, c):
    eta = np.dot(X, w)
    mu = np.exp(eta)
    return np.sum(mu - c * eta + special.gammaln(c + 1)) / len(c)
def ridge(w, X, y, lam):
    r = y - X @ w
    return r @ r / X.shape[0] + lam * np.sum(w * w)
def hinge(w, X, s):
    margin = s * (X @ w)
    return np.mean(np.maximum(0.0, 1.0 - margin)) + 0.01 * np.dot(w, w)
def sq_hinge(w, X, s):
    return np.mean(np.clip(1 - s * X.dot(w), 0, None) ** 2)
def huber_delta(w, X, y, delta=0.7):
    r = np.abs(X @ w - y)
    quad = np.minimum(r, delta)
    lin = r - quad
    return np.mean(0.5 * quad ** 2 + delta * lin)
def quantile(w, X, y, tau=0.3):
    r = y - X @ w
    return np.mean(np.maximum(tau * r, (tau - 1) * r))
def softmax_ce(W, X, Y):
    z = X @ W
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -(Y * logp).sum() / X.shape[0]
def softmax_labels_mask(W, X, labels):
    z = X @ W
    lse = special.logsumexp(z, axis=1)
    k = W.shape[1]
    onehot = (labels[:, None] == np.arange(k)[None, :])
    return np.mean(lse - np.sum(z * onehot, axis=1))
def mlp(p, X, y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    out = h @ p["W2"] + p["b2"]
    return 0.5 * np.mean((out - y) ** 2)
@dataclasses.dataclass
class Params:
    w: np.ndarray
    b: float
    log_s: np.ndarray
def dc_loss(p, X, y):
    s = np.exp(p.log_s)
    z = (y - X @ p.w - p.b) / s
    return np.sum(0.5 * z ** 2 + p.log_s)
def negbin(w, X, c, r=2.0):
    mu = np.exp(X @ w)
    return -np.sum(c * np.log(mu / (mu + r)) + r * np.log(r / (mu + r)))
def logcosh(w, X, y):
    r = X @ w - y
    return np.mean(np.logaddexp(r, -r) - np.log(2.0))
def elastic(w, X, y, a=0.1, l1=0.5):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + a * (l1 * np.abs(w).sum() + 0.5 * (1 - l1) * (w ** 2).sum())
def tweedie(w, X, c, p=1.5):
    mu = np.exp(X @ w)
    return np.mean(-c * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
def student_t(w, X, y, nu=3.0):
    r = y - X @ w
    return np.sum(0.5 * (nu + 1) * np.log1p(r ** 2 / nu))
def weighted_ls(w, X, y, sw):
    r = X @ w - y
    return np.sum(sw * r ** 2) / np.sum(sw)
def centered(w, X, y):
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    return np.mean((Xc @ w - yc) ** 2) + 0.1 * np.linalg.norm(w) ** 2


_R = np.random.default_rng(7)
HN, HD, HH, HK = 57, 5, 4, 3
HX = _R.normal(size=(HN, HD))
HY = _R.normal(size=HN)
HW = _R.normal(size=HD) * 0.3
HC = _R.poisson(1.5, size=HN).astype(float)
HLAB = _R.integers(0, HK, HN)
HONEHOT = np.eye(HK)[HLAB]
HWK = _R.normal(size=(HD, HK)) * 0.3
HMLP = {"W1": _R.normal(size=(HD, HH)) * .4, "b1": np.zeros(HH) + .1,
        "W2": _R.normal(size=HH) * .4, "b2": 0.2}
H_CHUNKS = {"one": (HN, HD), "uneven": ((20, 7, 30), HD), "columns": (11, (2, 3))}


def _h_dask(a, chunking):
    rows, cols = H_CHUNKS[chunking]
    if a.ndim == 1:
        return dka.from_array(a, chunks=(rows,))
    return dka.from_array(a, chunks=(rows, cols if a.shape[1] == HD else a.shape[1]))


HELD_OUT = {
    "bernoulli_glm": (glm_bernoulli, (HW, HX, (HY > 0).astype(float))),
    "poisson_gammaln": (poisson, (HW, HX, HC)),
    "ridge": (ridge, (HW, HX, HY, 0.3)),
    "hinge": (hinge, (HW, HX, np.sign(HY))),
    "squared_hinge": (sq_hinge, (HW, HX, np.sign(HY))),
    "huber": (huber_delta, (HW, HX, HY)),
    "quantile": (quantile, (HW, HX, HY)),
    "softmax": (softmax_ce, (HWK, HX, HONEHOT)),
    "mlp_dict": (mlp, (HMLP, HX, HY)),
    "dataclass": (dc_loss, (Params(w=HW, b=0.3, log_s=np.array(0.1)), HX, HY)),
    "negative_binomial": (negbin, (HW, HX, HC)),
    "log_cosh": (logcosh, (HW, HX, HY)),
    "elastic_net": (elastic, (HW, HX, HY)),
    "tweedie": (tweedie, (HW, HX, HC)),
    "student_t": (student_t, (HW, HX, HY)),
    "weighted_least_squares": (weighted_ls, (HW, HX, HY, np.abs(HY) + 0.5)),
    "centred_ridge": (centered, (HW, HX, HY)),
}


@pytest.mark.parametrize("chunking", list(H_CHUNKS))
@pytest.mark.parametrize("case", list(HELD_OUT))
def test_held_out_losses(case, chunking):
    fn, args = HELD_OUT[case]
    args = tuple(_h_dask(a, chunking) if isinstance(a, np.ndarray) and a.ndim >= 1
                 and a.shape[0] == HN else a for a in args)
    _lazy_matches(fn, *args)
    if chunking == "uneven":
        _lazy_matches(fn, *args, wrt=1)


def softmax_logsumexp(W, X, labels):
    z = X @ W
    lse = special.logsumexp(z, axis=1)
    onehot = labels[:, None] == np.arange(W.shape[1])[None, :]
    return np.mean(lse - np.sum(z * onehot, axis=1))


def softmax_scipy(W, X, Y):
    return -np.sum(Y * special.log_softmax(X @ W, axis=1)) / X.shape[0]


def inner_product_loss(w, X, y):
    return np.inner(X @ w - y, X @ w - y) / X.shape[0]


def bayesian_log_det(w, X, y):
    A = (X * w).T @ X + 10 * np.eye(X.shape[1])
    return np.linalg.slogdet(A)[1]


@pytest.mark.parametrize("fn, args, line, caret", [
    (softmax_logsumexp, (HWK, HX, HLAB.astype(float)), "lse = special.logsumexp(",
     "special.logsumexp("),
    (softmax_scipy, (HWK, HX, HONEHOT), "special.log_softmax(X @ W", "special.log_softmax("),
    (inner_product_loss, (HW, HX, HY), "return np.inner(", "np.inner("),
    (bayesian_log_det, (HW, HX, HY), "return np.linalg.slogdet(", "np.linalg.slogdet("),
], ids=["logsumexp", "log_softmax", "inner", "slogdet"])
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "SciPy's logsumexp/softmax/log_softmax and np.inner / np.linalg.slogdet (which dask "
    "does not implement; the latter even of a small d x d matrix) are refused only at "
    "run time by the guard: the S2SADError has no filename/line, it names 'line 15 of "
    "its code: `b = special.logsumexp(a, axis=1)`' (generated code, a temporary's "
    "name); a softmax classifier written with special.logsumexp has no lazy path"))
def test_functions_dask_lacks_refused_at_the_users_line(fn, args, line, caret):
    assert s2sad.grad(fn)(*args) is not None  # NumPy: fine
    args = tuple(_h_dask(a, "uneven") if isinstance(a, np.ndarray) and a.ndim >= 1
                 and a.shape[0] == HN else a for a in args)
    _refused_at(fn, args, line, caret)


# ======================================================================================
# the other transforms: the forward sweep of vjp is not under the no-compute guard
# ======================================================================================

def all_builtin_of_data(w, X, y):
    r = X @ w - y
    good = all(r < 100)
    return np.sum(r ** 2) * good


def test_all_builtin_refused_at_the_users_line():
    _refused_at(all_builtin_of_data, (WN, X, Y), "good = all(", "all(")


def _computes_or_refuses(call):
    """call() raises an S2SADError or computes nothing."""
    with compute_counter() as counter:
        try:
            call()
        except s2sad.S2SADError:
            return
    assert counter.computes == 0, f"{counter.computes} silent dask computes"


@pytest.mark.parametrize("fn", [assert_on_data, inner_product_loss],
                         ids=["assert", "np.inner"])
def test_vjp_forward_sweep_computes_nothing(fn):
    _computes_or_refuses(lambda: s2sad.vjp(fn)(WN, X, Y))


def test_elementwise_grad_computes_nothing():
    _computes_or_refuses(lambda: s2sad.elementwise_grad(inner_product_loss)(WN, X, Y))


@pytest.mark.parametrize("fn", [ternary_on_data, min_of_data, array_of_list_of_dask],
                         ids=lambda f: f.__name__)
def test_vjp_refuses_at_the_users_line(fn):
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.vjp(fn)(WN, X, Y)
    assert info.value.filename == __file__


@pytest.mark.parametrize("fn", [ternary_on_data, min_of_data, array_of_list_of_dask],
                         ids=lambda f: f.__name__)
def test_vjp_refuses_before_any_compute(fn):
    with compute_counter() as counter:
        with pytest.raises(s2sad.S2SADError):
            s2sad.vjp(fn)(WN, X, Y)
    assert counter.computes == 0, f"{counter.computes} computes before the refusal"


@pytest.mark.parametrize("transform", ["jvp", "hvp", "hessian"])
def test_forward_transforms_refuse_before_computing(transform):
    w_dask = dka.from_array(WN, chunks=2)
    calls = {"jvp": lambda fn: s2sad.jvp(fn)(WN, X, Y, w_dask),
             "hvp": lambda fn: s2sad.hvp(fn)(WN, X, Y, WN),
             "hessian": lambda fn: s2sad.hessian(fn)(WN, X, Y)}
    for fn in (ternary_on_data, assert_on_data, inner_product_loss):
        with compute_counter() as counter:
            with pytest.raises(s2sad.S2SADError):
                calls[transform](fn)
        assert counter.computes == 0


# ======================================================================================
# np.array / np.asarray with a second argument: the astype exemption is too wide
# ======================================================================================

def asarray_of_a_list_with_dtype(w, X, y):
    A = np.asarray([X[:, 0], X[:, 1]], dtype=np.float64)
    return np.sum(A.T @ w[:2])


def asarray_with_order(w, X, y):
    A = np.asarray(X, order="C")
    return np.sum(A @ w)


def array_with_copy(w, X, y):
    A = np.array(X, copy=True)
    return np.sum(A @ w)


def array_of_a_list_positional_dtype(w, X, y):
    A = np.array([X @ w, y], np.float64)
    return np.sum(A[0] * A[1])


def test_array_conversions_with_a_dtype_on_numpy():
    for fn in (asarray_of_a_list_with_dtype, asarray_with_order, array_with_copy,
               array_of_a_list_positional_dtype):
        assert s2sad.grad(fn)(WN, XN, YN).shape == (D,)


@pytest.mark.parametrize("fn, line, caret", [
    (asarray_of_a_list_with_dtype, "A = np.asarray([X[:, 0]", "np.asarray("),
    (asarray_with_order, 'A = np.asarray(X, order="C")', "np.asarray("),
    (array_with_copy, "A = np.array(X, copy=True)", "np.array("),
    (array_of_a_list_positional_dtype, "A = np.array([X @ w, y], np.float64)", "np.array("),
], ids=["asarray_list_dtype", "asarray_order", "array_copy", "array_list_dtype"])
def test_array_conversions_refused_at_the_users_line(fn, line, caret):
    _refused_at(fn, (WN, X, Y), line, caret)


def _rows_total(X, w):
    total = 0.0
    for row in X:
        total = total + np.sum(row * w)
    return total


def row_loop_in_a_helper(w, X, y):
    return _rows_total(X, w) ** 2


def test_row_loop_in_a_helper_stays_lazy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _lazy_matches(row_loop_in_a_helper, WN, X, Y)


def test_row_loop_in_a_helper_warns():
    from s2sad.laziness import LazyArrayWarning

    def own_loss(w, X, y):  # (a function of its own: the warning comes with its compile)
        return _rows_total(X, w) ** 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s2sad.grad(own_loss)(WN, X, Y)
    assert any(isinstance(w.message, LazyArrayWarning) for w in caught)


# ======================================================================================
# unknown lengths through the other transforms
# ======================================================================================

def test_value_and_grad_of_unknown_length_data():
    with compute_counter() as counter:
        value, g = s2sad.value_and_grad(unknown_mse)(WN, XM, YM)
    assert counter.computes == 0
    expected_value, expected = s2sad.value_and_grad(unknown_mse)(WN, XMN, YMN)
    got_value, got = dask.compute(value, g)
    np.testing.assert_allclose(got_value, expected_value, atol=1e-12)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def unknown_residuals(w, X, y):
    return X @ w - y


@pytest.mark.parametrize("transform", ["jvp", "hvp", "hessian"])
@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "forward mode with data of unknown length (a NumPy parameter, mask-picked dask "
    "rows): jvp/hvp/hessian of np.mean((X @ w - y) ** 2) crash with dask's ValueError "
    "'cannot broadcast shape (nan,) to shape (nan,)'; grad of it works"))
def test_forward_modes_of_unknown_length_data(transform):
    calls = {"jvp": lambda X, Y: s2sad.jvp(unknown_mse)(WN, X, Y, WN),
             "hvp": lambda X, Y: s2sad.hvp(unknown_mse)(WN, X, Y, WN),
             "hessian": lambda X, Y: s2sad.hessian(unknown_mse)(WN, X, Y)}
    with compute_counter() as counter:
        got = calls[transform](XM, YM)
    assert counter.computes == 0
    for g, e in zip(dask.compute(*leaves(got)), leaves(calls[transform](XMN, YMN))):
        np.testing.assert_allclose(g, e, atol=1e-12)


@pytest.mark.xfail(strict=True, raises=s2sad.S2SADError, reason=(
    "a tangent/cotangent of unknown length is refused with an ArgumentError that "
    "contradicts itself: 'the cotangent has shape (nan,), the output (nan,)' / 'the "
    "tangent for X has shape (nan, 3), the argument (nan, 3)' (nan != nan; "
    "arrays._same_shape is not used by the entry checks)"))
def test_cotangent_of_unknown_length():
    value, pullback = s2sad.vjp(unknown_residuals)(WN, XM, YM)
    g = pullback(YM)
    np.testing.assert_allclose(
        g.compute(), s2sad.vjp(unknown_residuals)(WN, XMN, YMN)[1](YMN), atol=1e-12)


@pytest.mark.xfail(strict=True, raises=s2sad.S2SADError, reason=(
    "jvp wrt unknown-length dask data with a tangent of the same (unknown) shape: "
    "'the tangent for X has shape (nan, 3), the argument (nan, 3)'"))
def test_tangent_of_unknown_length():
    got = s2sad.jvp(unknown_mse, wrt=1)(WN, XM, YM, XM * 0.5)
    expected = s2sad.jvp(unknown_mse, wrt=1)(WN, XMN, YMN, XMN * 0.5)
    for g, e in zip(dask.compute(*got), expected):
        np.testing.assert_allclose(g, e, atol=1e-12)
