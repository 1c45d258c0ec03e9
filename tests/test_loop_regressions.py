"""Regressions from an adversarial review: loops, element writes, views and wrappers.

Each case is a real function in tests/regressions_loops.py, with the inputs the
review used. Two kinds:

* differentiated: the gradient matches central differences (rtol 1e-6,
  atol 1e-8), has the input's type (a float for a float, a NumPy scalar for a
  NumPy scalar, an ndarray of the input's shape and dtype for an ndarray), and
  the arguments are unchanged; optimized and with optimize=False;
* refused: the exception is a proper subclass of S2SADError, located in
  regressions_loops.py on the line carrying the marker `# R:<key>` (found by
  searching the file's text), with a non-empty message and hint, and the
  arguments are unchanged; optimized and with optimize=False.

Then the two wrappers: a functools.wraps decorator returning 2 * fn(x) doubles
the gradient, and a transparent `wrapper(*args, **kwargs)` gives the wrapped
function's gradient.
"""
import copy
import inspect
import os

import numpy as np
import pytest

import regressions_loops as rl
import s2sad
from conftest import central_difference
from s2sad import S2SADError

RTOL, ATOL = 1e-6, 1e-8

FILE = rl.__file__
with open(FILE) as _handle:
    LINES = _handle.read().splitlines()


def marker(key):
    """The line number of the line that ends with `# R:<key>`."""
    tag = f"# R:{key}"
    hits = [i for i, line in enumerate(LINES, 1) if line.rstrip().endswith(tag)]
    assert len(hits) == 1, f"marker {tag} found {len(hits)} times"
    return hits[0]


X5 = np.array([0.35, -0.6, 1.1, 0.45, -0.2])
EYE3 = np.eye(3)
K5 = np.array([3, 1, 4, 1, 5])
X4 = np.array([0.5, 0.7, 0.2, 0.9])
M23 = 0.1 * np.arange(6.0).reshape(2, 3) + 0.1
W3 = np.array([[0.5, -0.3, 0.2], [0.1, 0.8, -0.4], [0.3, 0.2, 0.6]])
IDX = np.array([0, 0, 1])
S222 = 0.1 * np.arange(8.0).reshape(2, 2, 2) + 0.1

# (test id, function, arguments, wrt)
GRADIENT_CASES = [
    ("2_early_nested", rl.early_nested, (X5,), 0),
    ("5_shadow_global", rl.shadow_global, (0.6,), 0),
    ("6_condexpr_loop", rl.condexpr_loop, (0.7,), 0),
    ("7a_scal_to_arr_float", rl.scal_to_arr, (X5, 0.4), 1),
    ("7b_scal_to_arr_float64", rl.scal_to_arr, (X5, np.float64(0.4)), 1),
    ("8_scalar_into_row", rl.scalar_into_row, (X5,), 0),
    ("9_fresh_per_iter", rl.fresh_per_iter, (X5,), 0),
    ("12_self_copy", rl.self_copy, (X5,), 0),
    ("13_list_chain", rl.list_chain, (X5,), 0),
    ("14b_wraps_doubled", rl.q2, (1.0,), 0),
    ("logging_wrapper", rl.logged_cube, (X5,), 0),
    ("r2_1_view_read_then_write", rl.view_read_then_write, (X5[:3],), 0),
    ("r2_1_row_view_matmul", rl.row_view_matmul_then_write, (M23,), 0),
    ("r2_2_break_in_branch", rl.break_in_loop_in_branch, (X4, 1.0), 0),
    ("r2_2_continue_in_else", rl.continue_in_loop_in_else, (X4, 1.0), 0),
    ("r2_3_taped_then_updated", rl.taped_then_updated, (W3, X5[:3]), 0),
    ("r2_4_power_one_alias", rl.power_one_alias, (X5,), 0),
    ("r2_5_int_division_fold", rl.int_division_fold, (X5,), 0),
    ("r2_6_negative_range", rl.negative_range_revisits, (X5[:3],), 0),
    ("r2_7_counter_name_reused", rl.counter_name_reused, (X5[:3], IDX), 0),
    ("r2_9_fmod_negative", rl.fmod_negative, (-5.5, 2.1), 1),
    ("r2_swap_elements", rl.swap_elements, (X5,), 0),
    ("sibling_loops_x", rl.sibling_loops, (0.3, X5), 0),
    ("sibling_loops_a", rl.sibling_loops, (0.3, X5), 1),
    ("equal_fancy_reads_then_update", rl.equal_fancy_reads_then_update, (X5,), 0),
    ("equal_values_then_element_write", rl.equal_values_then_element_write, (X5,), 0),
    ("r2_8_dot_of_stacks", rl.dot_of_stacks, (S222, S222 + 0.5), 0),
    # a loop variable rebound in its loop: the loop runs over a name of its own now
    ("4_counter_rebound", rl.counter_rebound, (X5,), 0),
]

# (test id, function, arguments, wrt, marker key)
REFUSAL_CASES = [
    ("1_fancy_rep", rl.fancy_rep, (X5,), 0, "fancy_rep"),
    ("3a_view_write", rl.view_write, (X5,), 0, "view_write"),
    ("3b_helper_writes_param", rl.helper_writes_param, (X5,), 0, "helper_writes_param"),
    ("10_int_array_write", rl.int_array_write, (X5 + 0.0123, K5), 0, "int_array_write"),
    ("11a_row_view_loop", rl.row_view_loop, (EYE3,), 0, "row_view_loop"),
    ("11b_row_view_aug", rl.row_view_aug, (EYE3,), 0, "row_view_aug"),
]

GRADIENTS = [pytest.param(*case[1:], id=case[0]) for case in GRADIENT_CASES]
REFUSALS = [pytest.param(*case[1:], id=case[0]) for case in REFUSAL_CASES]
EVERY = [pytest.param(*case[1:3], id=case[0]) for case in GRADIENT_CASES + REFUSAL_CASES]
OPTIMIZE = pytest.mark.parametrize("optimize", [True, False], ids=["opt", "noopt"])


# -- helpers -----------------------------------------------------------------------------


def _fresh(args):
    return tuple(copy.deepcopy(a) for a in args)


def _assert_unchanged(args, originals):
    for got, original in zip(args, originals):
        if isinstance(original, np.ndarray):
            assert got.dtype == original.dtype
            np.testing.assert_array_equal(got, original, err_msg="an argument was changed")


def _central(fn, args, wrt):
    """Central differences of fn in argument `wrt` (an index), on fresh copies."""
    names = list(inspect.signature(fn).parameters)
    return central_difference(fn, dict(zip(names, _fresh(args))), names[wrt])


def _same_kind(gradient, value):
    """A float for a float, a NumPy scalar for a NumPy scalar, an array like the array."""
    if isinstance(value, np.ndarray):
        return (type(gradient) is np.ndarray and gradient.shape == value.shape
                and gradient.dtype == value.dtype)
    return type(gradient) is type(value)


def _check_refusal(exc, key):
    assert isinstance(exc, S2SADError) and type(exc) is not S2SADError, (
        f"{type(exc).__name__} is not a specific refusal\n{exc}")
    assert exc.filename is not None, f"no location:\n{exc}"
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE), exc.filename
    assert exc.lineno == marker(key), f"line {exc.lineno}, expected {marker(key)}\n{exc}"
    assert isinstance(exc.message, str) and exc.message.strip(), f"empty message:\n{exc}"
    assert isinstance(exc.hint, str) and exc.hint.strip(), f"no hint:\n{exc}"


# -- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, args", EVERY)
def test_case_runs_as_plain_python(fn, args):
    """Every case is ordinary Python: a refusal is s2sad's, not Python's."""
    value = fn(*_fresh(args))
    assert np.all(np.isfinite(value))


@OPTIMIZE
@pytest.mark.parametrize("fn, args, wrt", GRADIENTS)
def test_gradient_matches_central_differences(fn, args, wrt, optimize):
    passed = _fresh(args)
    gradient = s2sad.grad(fn, wrt=wrt, optimize=optimize)(*passed)
    _assert_unchanged(passed, args)
    value = args[wrt]
    assert _same_kind(gradient, value), (
        f"gradient {type(gradient).__name__} {getattr(gradient, 'shape', '')} "
        f"{getattr(gradient, 'dtype', '')} for {type(value).__name__} "
        f"{getattr(value, 'shape', '')} {getattr(value, 'dtype', '')}")
    np.testing.assert_allclose(gradient, _central(fn, args, wrt), rtol=RTOL, atol=ATOL)


@OPTIMIZE
@pytest.mark.parametrize("fn, args, wrt, key", REFUSALS)
def test_refused_on_the_marked_line(fn, args, wrt, key, optimize):
    passed = _fresh(args)
    with pytest.raises(S2SADError) as info:
        s2sad.grad(fn, wrt=wrt, optimize=optimize)(*passed)
    _check_refusal(info.value, key)
    _assert_unchanged(passed, args)


@OPTIMIZE
def test_grad_of_grad_is_the_second_derivative(optimize):
    """Bug 14: not silently the first derivative (3.0 at 1.0 instead of 6.0); the
    generated gradient is now differentiated again."""
    second = s2sad.grad(s2sad.grad(rl.q, optimize=optimize), optimize=optimize)(1.0)
    assert type(second) is float
    np.testing.assert_allclose(second, 6.0, rtol=1e-12)


@OPTIMIZE
def test_wraps_decorator_doubles_the_gradient(optimize):
    """Bug 14b: d/dx 2 x**3 = 6.0 at 1.0, twice the undecorated function's 3.0."""
    gradient = s2sad.grad(rl.q2, optimize=optimize)(1.0)
    inner = s2sad.grad(rl.q2.__wrapped__, optimize=optimize)(1.0)
    assert type(gradient) is float
    np.testing.assert_allclose(gradient, 6.0, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gradient, 2.0 * inner, rtol=RTOL, atol=ATOL)


@OPTIMIZE
def test_transparent_wrapper_gives_the_wrapped_gradient(optimize):
    passed = X5.copy()
    gradient = s2sad.grad(rl.logged_cube, optimize=optimize)(passed)
    inner = s2sad.grad(rl.logged_cube.__wrapped__, optimize=optimize)(X5.copy())
    np.testing.assert_array_equal(passed, X5)
    assert _same_kind(gradient, X5)
    np.testing.assert_allclose(gradient, 3.0 * X5 ** 2, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gradient, inner, rtol=RTOL, atol=ATOL)
