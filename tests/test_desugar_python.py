"""Everyday Python the desugar stage reads (issue 17's first pieces): a lambda bound to
a name inside the function (read as its body where it is called), `T, d = X.shape`;
against central differences and autograd, and what stays refused, at its line."""
import collections
import dataclasses
import logging
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad
from s2sad.errors import UnsupportedSyntaxError

X = np.array([0.5, -0.7, 0.2])
W = np.array([[0.3, -0.2, 0.1], [0.1, 0.4, -0.3], [0.2, 0.0, 0.5]])


def leaky(params, x):
    act = lambda t: np.maximum(t, 0.0) + 0.1 * t  # noqa: E731
    return np.sum(act(x @ params["W"]) ** 2)


def with_default_and_closure(x, w):
    scale = 2.0
    power = lambda a, b=2.0: (a * scale) ** b  # noqa: E731
    return np.sum(power(np.tanh(x * w))) + np.sum(power(x, 3.0))


def called_twice_with_an_expression(x, w):
    f = lambda t: np.sin(t) * t  # noqa: E731
    return np.sum(f(x * w) + f(x + w))


def keyword_argument(x, w):
    g = lambda a, b: a * np.exp(b)  # noqa: E731
    return np.sum(g(b=x * w, a=x))


@pytest.mark.parametrize("f, args, oracle", [
    (leaky, ({"W": W}, X),
     lambda p, x: anp.sum((anp.maximum(anp.dot(x, p["W"]), 0.0) + 0.1 * anp.dot(x, p["W"])) ** 2)),
    (with_default_and_closure, (X, 0.7),
     lambda x, w: anp.sum((anp.tanh(x * w) * 2.0) ** 2) + anp.sum((x * 2.0) ** 3.0)),
    (called_twice_with_an_expression, (X, 0.7),
     lambda x, w: anp.sum(anp.sin(x * w) * x * w + anp.sin(x + w) * (x + w))),
    (keyword_argument, (X, 0.7), lambda x, w: anp.sum(x * anp.exp(x * w))),
], ids=["leaky", "default_and_closure", "twice", "keywords"])
def test_a_local_lambda_is_read_where_it_is_called(f, args, oracle):
    got = s2sad.grad(f)(*args)
    expected = autograd.grad(oracle)(*args)
    if isinstance(expected, dict):
        np.testing.assert_allclose(got["W"], expected["W"], rtol=1e-10)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert s2sad.check_grad(f, *args)


def passes_its_lambda(x):
    f = lambda t: t * 2.0  # noqa: E731
    return np.sum(np.apply_along_axis(f, 0, x))


def test_a_lambda_used_as_a_value_is_refused_at_its_line():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(passes_its_lambda)(X)
    error = info.value
    assert "lambda is used here as a value" in str(error)
    assert error.location.line == passes_its_lambda.__code__.co_firstlineno + 2


def shape_unpacked(params, X):
    T, d = X.shape
    h = np.zeros(params["Wh"].shape[0])
    for t in range(T):
        h = np.tanh(params["Wh"] @ h + params["Wx"] @ X[t])
    return np.sum(h) * d


def test_a_shape_unpacked_into_names():
    rng = np.random.default_rng(3)
    params = {"Wh": rng.normal(size=(3, 3)) * 0.4, "Wx": rng.normal(size=(3, 2)) * 0.4}
    assert s2sad.check_grad(shape_unpacked, params, rng.normal(size=(5, 2)))


# -- and / or with Python's short circuit ------------------------------------------------

def and_in_a_condition(x, a, b):
    if a > 0 and b > 0:
        y = x * a
    else:
        y = x * b
    z = a * 0.0 or b * x  # (the value of `or`: its first true operand)
    return np.sum(y) + np.sum(z)


def guarded_while(x):
    i = 0
    s = 0.0
    n = x.shape[0]
    while i < n and x[i] > 0:  # (x[n] is never read)
        s = s + x[i] ** 2
        i = i + 1
    return s


def test_and_or_of_run_time_values():
    import errcases_functions as ef
    for a, b in [(0.5, 0.3), (-0.5, 0.3), (0.5, -0.3)]:
        assert s2sad.check_grad(and_in_a_condition, X, a, b, wrt=(0, 1, 2))
    for x in [np.array([0.5, 0.7, -0.2, 0.3]), np.array([0.5, 0.7, 0.2]), np.array([-1.0])]:
        assert s2sad.check_grad(guarded_while, x)
    # (tests/errcases_functions.py's and / or, refused before)
    assert s2sad.check_grad(ef.has_and, 0.5) and s2sad.check_grad(ef.has_or, 0.5)


def test_a_branch_test_rebound_in_its_own_branch():
    """`if c: c = ...` then `if c:` again: the adjoint replays the branch c chose
    before it was rebound (it replayed the new c's: a wrong gradient)."""
    def h(x, a):
        c = a > 0
        y = x
        if c:
            c = a > 1
            y = x * 2.0
        if c:
            y = y * 3.0
        return y * a
    for a in (0.5, 1.5, -0.5):
        assert s2sad.check_grad(h, 2.0, a, wrt=(0, 1))


# -- assert --------------------------------------------------------------------------

def asserts(x, W):
    assert x.ndim == 1, "x must be a vector"
    assert W.shape[1] == x.shape[0]
    return np.sum(np.tanh(W @ x))


def test_an_assert_is_checked_in_the_forward_sweep():
    W = np.ones((2, 3)) * 0.3
    assert s2sad.check_grad(asserts, np.ones(3), W)
    with pytest.raises(AssertionError, match="x must be a vector"):
        s2sad.grad(asserts)(np.ones((3, 1)), W)
    assert s2sad.hessian(asserts)(np.ones(3), W).shape == (3, 3)
    import errcases_functions as ef  # (its assert, refused before)
    assert s2sad.check_grad(ef.has_assert, 0.5)


# -- print ---------------------------------------------------------------------------

def prints(x, w):
    h = np.tanh(x * w)
    print("h =", np.sum(h), sep=" ")
    return np.sum(h ** 2)


def test_a_print_runs_once_a_call_in_the_forward_sweep(capsys):
    gradient = s2sad.grad(prints)
    gradient(np.ones(2), 0.5)
    assert capsys.readouterr().out == f"h = {np.sum(np.tanh(np.ones(2) * 0.5))}\n"
    assert gradient.source.count("print(") == 1
    s2sad.value_and_grad(prints)(np.ones(2), 0.5)
    assert capsys.readouterr().out.count("h =") == 1
    assert s2sad.check_grad(prints, np.ones(2), 0.5)


# -- sum over a generator of a run-time count ---------------------------------------------

def sums_of_generators(x, w):
    n = x.shape[0]
    s = sum(x[i] ** 2 * w for i in range(n) if x[i] > 0)
    t = sum((x[i] * x[j] for i in range(n) for j in range(i)), 1.0)
    return s + t


def test_sum_over_a_generator_is_a_loop():
    x = np.array([0.5, -0.7, 0.3, 0.9])
    assert s2sad.check_grad(sums_of_generators, x, 1.5, wrt=(0, 1))
    source = s2sad.grad(sums_of_generators)
    source(x, 1.5)
    assert "for " in source.source and "total = total + " in source.source


# -- nested defs -----------------------------------------------------------------------

def closes_over_params(params, x):
    def layer(h):
        return np.tanh(h @ params["W"])
    return np.sum(layer(layer(x)))


def nested_with_branch_and_default(x, w):
    scale = 2.0

    def f(t, c=1.5):
        u = t * w
        if np.sum(u) > 0:
            u = u * scale
        return np.sum(u ** 2) * c
    return f(x) + f(x * 2.0, 0.5)


def test_a_nested_def_is_read_where_it_is_called():
    import errcases_functions as ef
    import errcases_loops as el
    params = {"W": np.array([[0.3, -0.2], [0.1, 0.4]])}
    x = np.array([0.5, 0.7])
    assert s2sad.check_grad(closes_over_params, params, x)
    for sign in (1.0, -1.0):
        assert s2sad.check_grad(nested_with_branch_and_default, sign * x, 0.7, wrt=(0, 1))
    # (refused before: a nested def, one in a loop, a generator over an array)
    assert s2sad.check_grad(ef.has_nested_def, 0.5)
    assert s2sad.check_grad(el.nested_def_in_loop, 0.5)
    assert s2sad.check_grad(ef.has_generator_exp, x)


# -- the walrus --------------------------------------------------------------------------

def walrus(x):
    if (s := np.sum(x ** 2)) > 1.0:
        y = s * 2.0
    else:
        y = s
    i = 0
    total = 0.0
    while (i := i + 1) < 4:  # (computed again before each trip)
        total = total + x[i - 1] * i
    return y + total


def test_an_assignment_expression_is_an_assignment_where_it_stands():
    import errcases_functions as ef
    for x in (np.array([0.5, 0.7, 0.2, 0.1]), np.array([0.1, 0.2, 0.1, 0.1])):
        assert s2sad.check_grad(walrus, x)
    assert s2sad.check_grad(ef.has_walrus, 0.5)  # (refused before)


# -- max and min of several values ------------------------------------------------------------

def max_and_min(a, b, c):
    m = max([a * 2.0, b, c + 1.0])
    n = min(a, b * 3.0, c)
    return m * n


def test_max_and_min_of_several_values_fold_pairwise():
    for args in ((0.3, 0.9, 0.2), (0.7, 0.1, -0.5)):
        assert s2sad.check_grad(max_and_min, *args, wrt=(0, 1, 2))


def errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x) * x
    return np.sum(y)


def test_with_np_errstate_is_its_body():
    assert s2sad.check_grad(errstate, np.array([0.5, 0.7]))


# -- raise in a check, del of a name ----------------------------------------------------------

def checks_its_input(x, W):
    if x.ndim != 1:
        raise ValueError("x must be a vector")
    h = np.tanh(W @ x)
    del W
    return np.sum(h)


def test_a_raise_in_a_check_is_raised_where_it_stands():
    W = np.ones((2, 3)) * 0.3
    assert s2sad.check_grad(checks_its_input, np.ones(3), W)
    with pytest.raises(ValueError, match="x must be a vector"):
        s2sad.grad(checks_its_input)(np.ones((3, 1)), W)


# -- a list grown in a loop over a shape --------------------------------------------------

def rnn_collecting_outputs(params, X):
    T = X.shape[0]
    h = np.zeros(params["Wh"].shape[0])
    outputs = []
    for t in range(T):
        h = np.tanh(params["Wh"] @ h + params["Wx"] @ X[t])
        outputs.append(h)
    H = np.stack(outputs)
    return np.sum(H ** 2) + sum(np.sum(o) for o in outputs)


def products_of_neighbours(x):
    ys = []
    for i in range(len(x)):
        ys.append(x[i] * x[i - 1])
    return np.sum(np.array(ys))


def test_a_list_grown_in_a_loop_over_a_shape_is_unrolled_for_that_shape():
    rng = np.random.default_rng(5)
    params = {"Wh": rng.normal(size=(3, 3)) * 0.4, "Wx": rng.normal(size=(3, 2)) * 0.4}
    gradient = s2sad.grad(rnn_collecting_outputs)
    for steps in (5, 3):  # (another shape compiles again)
        X = rng.normal(size=(steps, 2))
        assert s2sad.check_grad(rnn_collecting_outputs, params, X)
        gradient(params, X)
    assert s2sad.check_grad(products_of_neighbours, rng.normal(size=4))


def comprehensions_over_shapes(x):
    squares = [v * v for v in x]
    cubes = np.array([x[i] ** 3 for i in range(len(x))])
    return np.sum(np.stack(squares)) + np.sum(cubes) + sum(x[i] for i in range(len(x)))


def comprehension_over_an_int(x, n):
    return np.sum(np.array([x * k for k in range(n)]))


def test_list_comprehensions_over_shapes_and_ints_compile_for_them():
    assert s2sad.check_grad(comprehensions_over_shapes, np.array([0.5, 0.7, 0.2]))
    gradient = s2sad.grad(comprehension_over_an_int)
    np.testing.assert_allclose(gradient(np.ones(2), 3), [3.0, 3.0])
    np.testing.assert_allclose(gradient(np.ones(2), 4), [6.0, 6.0])
    import errcases_functions as ef  # (refused before)
    assert s2sad.check_grad(ef.has_list_comp, np.array([0.3, 0.7, 1.1]))


def test_the_items_of_a_list_grown_by_append_are_named_after_it():
    gradient = s2sad.grad(products_of_neighbours)
    gradient(np.ones(3))
    source = gradient.source
    assert "ys_0 = " in source and "np.array([ys_0, ys_1, ys_2])" in source
    assert "dys_0" in source


def activation_from_a_config(params, x, cfg):
    act = cfg.get("act_fn", np.tanh)
    return np.sum(act(x @ params["W"]))


def test_a_lambda_carried_in_a_config_is_read_for_its_call():
    params = {"W": np.array([[0.3, -0.2], [0.1, 0.4]])}
    x = np.array([0.5, -0.7])
    assert s2sad.check_grad(activation_from_a_config, params, x,
                            {"act_fn": lambda z: np.maximum(z, 0.1 * z)})
    gradient = s2sad.grad(activation_from_a_config)(params, x, {"act_fn": lambda z: z ** 2})
    np.testing.assert_allclose(gradient["W"], np.outer(x, 2 * (x @ params["W"])))


def doubled_by_np_shape(x):
    ys = []
    for i in range(np.shape(x)[0]):
        ys.append(x[i] * 2.0)
    return np.sum(np.stack(ys) ** 2)


def picks_positive(x):
    picked = [x[i] ** 2 for i in np.nonzero(x > 0)[0]]
    return np.sum(np.array(picked))


def test_lists_over_shapes_in_another_spelling_and_a_count_no_shape_fixes():
    assert s2sad.check_grad(doubled_by_np_shape, np.array([0.5, -0.2, 0.3]))
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(picks_positive)(np.array([0.5, -0.2, 0.3]))
    error = info.value
    assert "a comprehension over a count known only at run time" in str(error)
    assert error.location.line == picks_positive.__code__.co_firstlineno + 1
    assert error.hint


# -- issue 17, second round: builtins over sequences, chains, unpacking, functions as values

def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def _exact_in_both_modes(f, x, hessian=True):
    """grad against central differences (exact shape and dtype), jvp against the
    directional difference, and the Hessian against differences of the gradient."""
    x = np.asarray(x, dtype=float)
    g = s2sad.grad(f)(x.copy())
    assert isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, _fd_grad(f, x), rtol=1e-6, atol=1e-7)
    direction = np.linspace(0.3, -0.4, x.size).reshape(x.shape)
    value, tangent = s2sad.jvp(f)(x.copy(), direction)
    np.testing.assert_allclose(value, f(x), rtol=1e-12)
    np.testing.assert_allclose(tangent, (f(x + 1e-6 * direction) - f(x - 1e-6 * direction))
                               / 2e-6, rtol=1e-6, atol=1e-7)
    if hessian:
        h = s2sad.hessian(f)(x.copy())
        expected = np.stack([_fd_grad(lambda t: s2sad.grad(f)(t)[k], x)
                             for k in np.ndindex(x.shape)])
        np.testing.assert_allclose(h.reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)


XS = np.array([0.3, 1.7, -0.4, 0.9])


def chained_comparison(x):
    if 0.0 < x[0] < 1.0:
        return np.sum(x ** 3)
    return np.sum(x ** 2)


def chained_comparison_of_computed_values(x):
    total = 0.0
    for i in range(x.shape[0]):
        if -1.0 < np.sin(x[i]) * 2.0 <= 1.5 < 2.0:
            total = total + x[i] ** 2
    return total


def member_of_a_constant_tuple(x):
    k = np.floor(x[1])
    if k in (1.0, 2.0):
        return np.sum(x * k)
    if k not in (1.0, 2.0):
        return np.sum(x ** 2)
    return 0.0


@pytest.mark.parametrize("f", [chained_comparison, chained_comparison_of_computed_values,
                               member_of_a_constant_tuple])
def test_chained_comparisons_and_membership_of_run_time_values(f):
    _exact_in_both_modes(f, XS)
    _exact_in_both_modes(f, XS * -1.5)


def test_a_chain_computes_its_middle_once_and_its_right_only_where_needed():
    def f(x):
        k = x.shape[0] + 1
        if x[0] > 5.0 > x[k]:  # (x[k] would raise: it is read only where x[0] > 5)
            return np.sum(x)
        if -2.0 < np.sum(x) * 0.5 < 2.0:
            return np.sum(x ** 2)
        return 0.0

    g = s2sad.grad(f)
    np.testing.assert_allclose(g(XS), 2 * XS)
    assert g.source.count("np.sum(x) * 0.5") <= 1 or "compared" in g.source


def starred_unpacking(x):
    first, *rest, last = x
    head, *tail = [x[0] * 2.0, x[1], x[2] ** 2]
    return first * sum(rest) + last * head * tail[-1]


def generators_into_builtins(x):
    n = len(x)
    big = max(x[i] * x[(i + 1) % n] for i in range(n))
    small = min(np.sin(v) for v in x)
    return big + small + math.fsum(v ** 2 for v in x) + math.prod(v + 2.0 for v in x[:2])


def sorted_and_list_methods(x):
    ordered = sorted([x[0], x[1] * 2.0, x[2]])
    backwards = sorted([x[0], x[3]], reverse=True)
    parts = [x[0], x[1]]
    parts.insert(0, x[2] * 3.0)
    parts.append(x[3])
    popped = parts.pop()
    first = parts.pop(0)
    return ordered[0] * 2.0 + ordered[-1] + backwards[0] * popped + first * sum(parts) \
        + [1, 2, 3].index(2) * x[0] + ["a", "b", "a"].count("a")


def dict_comprehension_over_a_string(x):
    d = {k: x * (i + 1) for i, k in enumerate("abc")}
    return np.sum(d["a"] * d["c"]) + sum(np.sum(v) for v in d.values())


@pytest.mark.parametrize("f", [starred_unpacking, generators_into_builtins,
                               sorted_and_list_methods, dict_comprehension_over_a_string])
def test_builtins_over_sequences(f):
    _exact_in_both_modes(f, XS)


def test_sorted_numbers_are_a_permutation_with_the_right_ties_and_order():
    def f(x):
        a, b, c = sorted([x[0] * x[1], x[2], x[1]], reverse=True)
        return a * 3.0 + b * 2.0 + c

    x = np.array([0.5, 1.2, 0.1])
    np.testing.assert_allclose(s2sad.grad(f)(x), _fd_grad(f, x), rtol=1e-7)


def test_a_starred_unpacking_of_a_computed_array_is_refused_at_its_line():
    def f(x):
        a, *rest = np.sin(x)
        return a

    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(XS)
    assert "starred unpacking" in str(info.value) and "*rest" in str(info.value)
    assert info.value.hint == "index the rows: first, rest = x[0], x[1:]"


def _apply(fn, v, scale=1.0):
    return fn(v) * scale


def _twice(fn, v):
    return fn(fn(v))


def functions_as_values(x, use_tanh):
    act = np.tanh if use_tanh else np.sin
    squash = act
    return np.sum(squash(x)) + np.sum(_apply(np.exp, x, 0.5)) + np.sum(_twice(np.sin, x)) \
        + np.sum(_apply(lambda t: t ** 3, x))


@pytest.mark.parametrize("use_tanh", [True, False])
def test_a_function_held_in_a_variable_or_passed_to_a_helper(use_tanh):
    g = s2sad.grad(functions_as_values)
    got = g(XS, use_tanh)
    np.testing.assert_allclose(got, _fd_grad(lambda x: functions_as_values(x, use_tanh), XS),
                               rtol=1e-6)
    assert ("np.tanh(x)" if use_tanh else "np.sin(x)") in g.source
    np.testing.assert_allclose(g(XS, not use_tanh), _fd_grad(
        lambda x: functions_as_values(x, not use_tanh), XS), rtol=1e-6)


def test_a_function_chosen_at_run_time_is_refused_at_its_line():
    def f(x):
        act = np.tanh if x[0] > 0 else np.sin
        return np.sum(act(x))

    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(XS)
    assert "a function chosen by a value known only at run time" in str(info.value)
    assert "x[0] > 0" in str(info.value).splitlines()[1]


def _pair(v):
    return np.sin(v), np.cos(v) * v


def indexes_a_helpers_tuple(x):
    return np.sum(_pair(x)[1]) + np.sum(_pair(x * 2.0)[0] ** 2)


def test_a_helpers_tuple_result_indexed_directly():
    _exact_in_both_modes(indexes_a_helpers_tuple, XS)


_LOG = logging.getLogger("s2sad.tests.model")


def logs(x):
    _LOG.info("input %s", x)
    loss = np.sum(x ** 2)
    logging.getLogger("s2sad.tests.model").debug("unused")  # (a logger made here: kept)
    _LOG.log(logging.WARNING, "loss %.3f", loss)
    return loss


def test_logging_calls_run_once_a_call_in_the_forward_sweep(caplog):
    caplog.set_level(logging.DEBUG, logger="s2sad.tests.model")
    g = s2sad.grad(logs)
    np.testing.assert_allclose(g(XS), 2 * XS)
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count(f"loss {np.sum(XS ** 2):.3f}") == 1
    assert sum(m.startswith("input ") for m in messages) == 1
    assert [r.levelno for r in caplog.records if r.getMessage().startswith("loss")] == \
        [logging.WARNING]
    assert g.source.count("log_message(") == 3


# -- *args and **kwargs ------------------------------------------------------------------

def _squares(*values, **options):
    return sum(np.sum(v ** 2) for v in values) * options.get("scale", 1.0) + \
        options.get("shift", 0.0)


def _first_times_rest(*values):
    return values[0] * np.sum(np.stack(values[1:]))


def calls_helpers_with_spread_parameters(x, w):
    return _squares(x, x * w, scale=3.0) + _squares(w) + np.sum(_first_times_rest(w, x, x * 2.0))


def test_helpers_with_star_args_and_star_star_kwargs():
    _exact_in_both_modes(lambda x: calls_helpers_with_spread_parameters(x, 0.7), XS)
    g = s2sad.grad(calls_helpers_with_spread_parameters, wrt=(0, 1))
    dx, dw = g(XS, 0.7)
    assert np.asarray(dw).shape == () and dx.shape == XS.shape
    np.testing.assert_allclose(dw, (calls_helpers_with_spread_parameters(XS, 0.7 + 1e-6) -
                                    calls_helpers_with_spread_parameters(XS, 0.7 - 1e-6)) / 2e-6,
                               rtol=1e-6)


def loss_of_a_batch(w, *batch, **options):
    x, y = batch
    return np.sum((w * x - y) ** 2) * options.get("scale", 1.0) + len(batch)


@pytest.mark.parametrize("options", [{}, {"scale": 2.0}])
def test_the_differentiated_function_takes_star_args_and_star_star_kwargs(options):
    y = np.array([1.0, 2.0, 0.5, -1.0])
    got = s2sad.grad(loss_of_a_batch)(0.7, XS, y, **options)
    expected = autograd.grad(lambda w: anp.sum((w * XS - y) ** 2) *
                             options.get("scale", 1.0))(0.7)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    value, _ = s2sad.value_and_grad(loss_of_a_batch)(0.7, XS, y, **options)
    np.testing.assert_allclose(value, loss_of_a_batch(0.7, XS, y, **options), rtol=1e-12)
    h = s2sad.hessian(loss_of_a_batch)(0.7, XS, y, **options)
    np.testing.assert_allclose(h, 2 * np.sum(XS * XS) * options.get("scale", 1.0), rtol=1e-12)
    # a call with another count of extra values compiles again, for that count
    assert s2sad.grad(loss_of_a_batch)(0.7, XS, y) is not None
    with pytest.raises(Exception):
        s2sad.grad(loss_of_a_batch)(0.7, XS)  # (x, y = batch: Python's ValueError too)


def test_differentiating_an_item_of_star_args():
    def spread(*xs):
        return np.sum(xs[0] * xs[1])

    np.testing.assert_allclose(s2sad.grad(spread)(XS, XS * 2.0), XS * 2.0)
    np.testing.assert_allclose(s2sad.grad(spread, wrt=1)(XS, XS * 2.0), XS)


# -- a structure chosen at run time ------------------------------------------------------

def chooses_a_layer(params, x):
    layer = params["a"] if np.sum(x) > 0 else params["b"]
    scale = (2.0, params["s"]) if x[0] > 0.5 else (3.0, params["s"] * 2.0)
    return np.sum(np.tanh(x @ layer["W"] + layer["b"])) * scale[0] + scale[1]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_structure_chosen_by_a_run_time_test_is_chosen_item_by_item(sign):
    rng = np.random.default_rng(3)
    params = {k: {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)} for k in "ab"}
    params["s"] = 0.4
    x = sign * np.array([0.7, 0.2, 0.4])
    got = s2sad.grad(chooses_a_layer)(params, x)
    def oracle(p):
        layer = p["a"] if np.sum(x) > 0 else p["b"]
        scale = (2.0, p["s"]) if x[0] > 0.5 else (3.0, p["s"] * 2.0)
        return anp.sum(anp.tanh(anp.dot(x, layer["W"]) + layer["b"])) * scale[0] + scale[1]

    expected = autograd.grad(oracle)(params)
    for k in "ab":
        for leaf in ("W", "b"):
            np.testing.assert_allclose(got[k][leaf], expected[k][leaf], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got["s"], expected["s"], rtol=1e-12)
    assert s2sad.check_grad(chooses_a_layer, params, x)


# -- objects made in the function ---------------------------------------------------------

class _Dense:
    def __init__(self, W, b=0.0, act=np.tanh):
        self.W = W
        self.b = b
        self.act = act

    def __call__(self, h):
        return self.act(h @ self.W + self.b)


class _Scaled(_Dense):
    def __init__(self, W, scale):
        super().__init__(W, b=0.1)
        self.scale = scale

    def __call__(self, h):
        return super().__call__(h) * self.scale


class _Counter:
    def __init__(self):
        self.total = 0.0

    def add(self, v):
        self.total = self.total + v


@dataclasses.dataclass
class _Point:
    x: float
    y: float = 1.0


_Pair = collections.namedtuple("_Pair", "first second")


def makes_objects(W, x):
    layers = [_Dense(W), _Scaled(W.T, 2.0), _Dense(W, act=np.sin)]
    h = x
    for layer in layers[:2]:
        h = layer(h)
    p = _Point(np.sum(h), y=np.sum(x))
    q = _Pair(p.x * 2.0, p.y)
    return q.first * q.second + np.sum(layers[2](x)) + layers[1].scale


def test_objects_made_in_the_function_are_read_field_by_field():
    W = np.array([[0.3, -0.2], [0.1, 0.4]])
    x = np.array([0.5, -0.7])
    got = s2sad.grad(makes_objects, wrt=(0, 1))(W, x)
    eps = 1e-6
    for k, arg in enumerate((W, x)):
        expected = np.zeros_like(arg)
        for i in np.ndindex(arg.shape):
            step = np.zeros_like(arg)
            step[i] = eps
            args = [W, x]
            up, down = list(args), list(args)
            up[k], down[k] = arg + step, arg - step
            expected[i] = (makes_objects(*up) - makes_objects(*down)) / (2 * eps)
        np.testing.assert_allclose(got[k], expected, rtol=1e-6, atol=1e-8)
    _exact_in_both_modes(lambda v: makes_objects(W, v), x)


def test_a_method_that_changes_an_object_made_here_is_refused():
    def f(x):
        c = _Counter()
        c.add(x)
        return c.total

    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(0.3)
    assert "changes a structure its caller holds" in str(info.value)
    assert "self.total = self.total + v" in str(info.value)


def test_a_third_derivative_through_a_loop_reads_the_tape_of_the_second():
    def product(x):
        y = 1.0
        for k in range(1, 5):
            y = y * (x + 0.1 * k)
        return y

    third = s2sad.grad(s2sad.grad(s2sad.grad(product)))
    x = 0.7
    # y = prod (x + a_k): y''' = 6 * sum over triples of the remaining linear factor
    a = [0.1, 0.2, 0.3, 0.4]
    expected = 6 * sum(x + a[k] for k in range(4))
    np.testing.assert_allclose(third(x), expected, rtol=1e-10)
    np.testing.assert_allclose(s2sad.grad(third)(x), 24.0, rtol=1e-10)


# -- np.copyto(dst, src) is dst[...] = src -------------------------------------------------

def heat_by_copyto(u0, k):
    u = u0.copy()
    new = np.zeros_like(u)
    for _ in range(3):
        new[1:-1] = u[1:-1] + k * (u[2:] - 2 * u[1:-1] + u[:-2])
        np.copyto(u, new)
    return np.sum(u ** 2)


def test_np_copyto_is_a_write_the_alias_check_knows():
    x = np.linspace(0.0, 1.0, 6)
    _exact_in_both_modes(lambda u: heat_by_copyto(u, 0.1), x)
    before = x.copy()
    s2sad.grad(heat_by_copyto, wrt=(0, 1))(x, 0.1)
    np.testing.assert_array_equal(x, before)

    def into_the_argument(u):
        np.copyto(u, u * 2.0)
        return np.sum(u)

    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(into_the_argument)(x)
    assert "np.copyto(u, u * 2.0)" in str(info.value) and "u = u.copy()" in info.value.hint


# -- a nested def that makes a function ----------------------------------------------------

def makes_functions(x):
    scale = 1.0

    def make_lambda(k):
        return lambda t: t * k * scale           # (scale read when the lambda is called)

    def make_def(k, p):
        def power(t):
            return t ** p * k
        return power

    times_x = make_lambda(x)
    square = make_def(x, 2.0)
    cube = make_def(2.0, 3.0)
    scale = 3.0
    return times_x(np.sin(x)) + square(x) + cube(np.cos(x))


def test_a_nested_def_returning_a_lambda_or_a_def_makes_a_function():
    _exact_in_both_modes(lambda v: makes_functions(v[0]) + v[1], np.array([0.7, 0.2]))
    np.testing.assert_allclose(s2sad.grad(makes_functions)(0.7),
                               (makes_functions(0.7 + 1e-6) - makes_functions(0.7 - 1e-6)) / 2e-6,
                               rtol=1e-7)


def prints_and_logs(x):
    print("input", np.round(x, 2))
    _LOG.warning("sum %.2f", np.sum(x))
    return np.sum(np.sin(x) * x)


@pytest.mark.parametrize("transform", [s2sad.hessian, s2sad.jacobian,
                                       lambda f: s2sad.jacobian(f, mode="forward")],
                         ids=["hessian", "jacobian", "jacobian_forward"])
def test_a_hessian_or_jacobian_prints_and_logs_once_a_call(transform, capsys, caplog):
    caplog.set_level(logging.WARNING, logger="s2sad.tests.model")
    transform(prints_and_logs)(XS)
    assert capsys.readouterr().out.count("input") == 1
    assert sum(r.getMessage().startswith("sum ") for r in caplog.records) == 1


def rebinds_its_loop_variable(X, x):
    t = 0.0
    for row in X:
        row = np.tanh(row * 2.0)
        t = t + np.sum(row ** 2)
    for i in range(2):
        i = i * 2
        t = t + x[i] ** 2
    return t


def test_a_loop_variable_rebound_in_its_body_is_a_new_name_each_trip():
    X = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.2]])
    x = np.array([0.5, -0.7, 0.2])
    _exact_in_both_modes(lambda v: rebinds_its_loop_variable(X, v), x)
    _exact_in_both_modes(lambda v: rebinds_its_loop_variable(v.reshape(3, 2), x),
                         X.ravel())


def deletes_and_pops(x):
    vals = [x[0], x[1] * 2.0, x[2], x[3]]
    del vals[0]
    vals.pop(0)
    del vals[-1]
    d = {"a": x[0], "b": x[1]}
    del d["a"]
    return vals[0] * d["b"] + len(vals) + len(d)


def test_del_of_an_item_and_a_pop_whose_value_is_unused():
    _exact_in_both_modes(deletes_and_pops, XS)


def test_np_copyto_with_where_is_refused_with_a_hint_that_keeps_the_copy():
    def f(x):
        u = x.copy()
        np.copyto(u, x * 2.0, where=x > 0)
        return np.sum(u)

    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(XS)
    assert "np.copyto with where=" in str(info.value) and "np.where" in info.value.hint


def prints_formatted(x, w):
    h = np.tanh(x * w)
    print(f"h[0]={h[0]:.4f} w={w!r} n={len(x)}")
    _LOG.info(f"mean {np.mean(h):.3f}")
    return np.sum(h ** 2)


def test_an_f_string_printed_or_logged_runs_once_in_the_forward_sweep(capsys, caplog):
    caplog.set_level(logging.INFO, logger="s2sad.tests.model")
    expected = f"h[0]={np.tanh(XS[0] * 0.5):.4f} w=0.5 n=4"
    g = s2sad.grad(prints_formatted)
    g(XS, 0.5)
    s2sad.jvp(prints_formatted)(XS, 0.5, np.ones(4))
    assert capsys.readouterr().out.splitlines() == [expected, expected]
    assert [r.getMessage() for r in caplog.records].count(
        f"mean {np.mean(np.tanh(XS * 0.5)):.3f}") == 2
    assert "print(f'h[0]=" in g.source
    _exact_in_both_modes(lambda v: prints_formatted(v, 0.5), XS, hessian=False)


def appends_in_loops_over_rows(x, Y):
    ys = []
    for v in x:
        ys.append(v * 2.0)
    zs = []
    for i, row in enumerate(Y):
        zs.append(np.sum(row ** 2) * (i + 1))
    ws = []
    for a, b in zip(x, x[::-1]):
        ws.append(a * b)
    return sum(ys) + sum(zs) + np.sum(np.array(ws))


def test_append_in_loops_over_an_arrays_rows_enumerate_and_zip():
    Y = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.2]])
    x = np.array([0.5, -0.7, 0.2])
    value, tangent = s2sad.jvp(appends_in_loops_over_rows)(x, Y, np.ones(3))
    np.testing.assert_allclose(tangent, _fd_grad(
        lambda v: appends_in_loops_over_rows(v, Y), x).sum(), rtol=1e-6)
    gx, gY = s2sad.grad(appends_in_loops_over_rows, wrt=(0, 1))(x, Y)
    np.testing.assert_allclose(gx, _fd_grad(lambda v: appends_in_loops_over_rows(v, Y), x),
                               rtol=1e-6)
    np.testing.assert_allclose(gY, _fd_grad(lambda v: appends_in_loops_over_rows(x, v), Y),
                               rtol=1e-6)


def lists_of_arrays(x, Y):
    vals = x.tolist()
    rows = Y.tolist()
    return sum(v * v for v in vals) + rows[1][0] * vals[0] + max(vals) * rows[2][1]


def test_tolist_of_an_array_is_its_entries():
    Y = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.2]])
    x = np.array([0.5, -0.7, 0.2])
    gx, gY = s2sad.grad(lists_of_arrays, wrt=(0, 1))(x, Y)
    np.testing.assert_allclose(gx, _fd_grad(lambda v: lists_of_arrays(v, Y), x), rtol=1e-6)
    np.testing.assert_allclose(gY, _fd_grad(lambda v: lists_of_arrays(x, v), Y), rtol=1e-6)


def ordered_by_keys(x):
    pairs = [(x[0], x[1]), (x[1] * 2.0, x[2]), (x[2], x[0] ** 2)]
    best = max(pairs, key=lambda p: p[1])
    low = min([x[0], x[1], x[2]], key=lambda v: (v - 0.5) ** 2)
    order = sorted(pairs, key=lambda p: p[0], reverse=True)
    named = max([("a", 2.0), ("b", 3.0)], key=lambda t: t[1])
    return best[0] * 3.0 + low + order[0][1] * order[2][0] + (1.0 if named[0] == "b" else 0.0)


def test_max_min_and_sorted_with_a_key():
    x = np.array([0.3, 0.8, 1.1])
    _exact_in_both_modes(ordered_by_keys, x)
    _exact_in_both_modes(ordered_by_keys, np.array([1.2, -0.4, 0.6]))
    g = s2sad.grad(ordered_by_keys)
    g(x)
    assert "np.argmax(" in g.source and "np.argsort(" in g.source


_WEIGHTS = np.array([0.5, -1.5, 2.0, 0.25])


def _weighted(v, w=_WEIGHTS, shift=0.0):
    return np.sum(v * w) + shift


def uses_an_array_default(x):
    return _weighted(x) + _weighted(x, x, shift=1.0) * 0.5


def test_a_helpers_array_default_is_read_as_the_array_it_is():
    _exact_in_both_modes(uses_an_array_default, XS)
    g = s2sad.grad(uses_an_array_default)
    g(XS)
    assert "weighted_w_default" in g.source


# -- lambdas bound at module level, called in the function ------------------------------

swap_last = lambda A: np.swapaxes(A, -1, -2)  # noqa: E731
logistic = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731


def through_module_lambdas(A):
    return np.sum(logistic(swap_last(A)) * np.arange(3.0))


def test_a_module_level_lambda_is_read_where_it_is_called():
    """`T = lambda A: np.swapaxes(A, -1, -2)` at module level (autograd's tests, everyday
    code) called in the function: read for its call, as a local lambda is."""
    A = np.arange(6.0).reshape(3, 2) / 5.0
    np.testing.assert_allclose(s2sad.grad(through_module_lambdas)(A),
                               numeric_grad(through_module_lambdas, (A,), 0), rtol=1e-6)
    _, tangent = s2sad.jvp(through_module_lambdas)(A, np.ones_like(A))
    assert tangent == pytest.approx(np.sum(numeric_grad(through_module_lambdas, (A,), 0)))
    assert s2sad.hessian(through_module_lambdas)(A).shape == (3, 2, 3, 2)
