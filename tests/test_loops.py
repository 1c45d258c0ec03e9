"""Control flow through the whole pipeline: every corpus_loops function against two oracles.

For each function in `corpus_loops.FUNCTIONS`, each float parameter alone and all
of them as one tuple (`loop_case`):

* central differences (rtol 1e-5, atol 1e-6), optimized and with optimize=False,
  with the gradient's exact type and shape (a float for a float, a NumPy scalar
  for a NumPy scalar, an ndarray of the input's shape and dtype for an ndarray);
* the arguments are unchanged after grad, value_and_grad and the unoptimized grad;
* value_and_grad returns the primal's value and the same gradients;
* autograd, on the function's own source re-executed with `np` bound to
  autograd.numpy (rtol 1e-9), for every function without an in-place array
  write (a subscripted assignment, in the function or in a helper it calls).

Then the emitted code itself: the lecture's 1-D convolution must read as the
lecture's adjoint `da[i] += dc[i + k] * b[k]; db[k] += dc[i + k] * a[i]`, the
loop `c[i] = a[i] * b[i]` must store nothing, and Horner's rule exactly one value
per iteration.

The parametrized arguments are named `loop_case` and `loop_function` (not
`gradient_case` / `corpus_function`, which conftest.py binds to corpus.py);
`--short` keeps only the all-parameters case of each function, as for corpus.py.
Inputs: conftest.INPUTS by parameter name, plus LOOP_INPUTS below for the names
this corpus adds, plus OVERRIDES for the two functions that keep the lecture's
array names `a`, `b`.
"""
import ast
import copy
import functools
import inspect
import re
import warnings
import zlib

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import corpus_loops
from regressions_loops import sibling_loops
import s2sad
from conftest import (GradientCase, Inputs, as_tuple, call_by_name, central_difference,
                      gradients_of, inputs_for)

RTOL, ATOL = 1e-5, 1e-6
ORACLE_RTOL, ORACLE_ATOL = 1e-9, 1e-12


# -- inputs ---------------------------------------------------------------------------


def _grid(name, shape, low, cells, shift, signed, scale=1.0):
    """conftest's grid scheme: low + 0.1 * (k + shift), k random per name, optionally signed."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    k = rng.integers(0, cells, size=shape)
    values = low + 0.1 * (k + shift)
    if signed:
        values = values * rng.choice([-1.0, 1.0], size=shape)
    return (values * scale).astype(np.float64)


LOOP_INPUTS = {
    "W": lambda: _grid("W", (3, 3), 0.2, 6, 0.15, True, scale=0.5),
    "xs": lambda: _grid("xs", (5, 3), 0.2, 6, 0.45, True),
    "h0": lambda: _grid("h0", (3,), 0.2, 6, 0.75, True),
    "coeffs": lambda: _grid("coeffs", (5,), 0.2, 6, 0.15, True),
    "kernel": lambda: _grid("kernel", (3,), 0.5, 10, 0.45, False),
}

# the lecture's own names: `a` and `b` are arrays here (floats in the shared scheme)
OVERRIDES = {
    "lecture_convolution": {"a": lambda: _grid("conv_a", (5,), 0.5, 10, 0.15, False),
                            "b": lambda: _grid("conv_b", (3,), 0.2, 6, 0.45, True)},
    "elementwise_product_loop": {"a": lambda: _grid("prod_a", (4,), 0.5, 10, 0.15, False),
                                 "b": lambda: _grid("prod_b", (4,), 0.2, 6, 0.75, True)},
}


def loop_inputs_for(fn) -> Inputs:
    """Fresh inputs for `fn` by parameter name: conftest's table plus LOOP_INPUTS."""
    return inputs_for(fn, {**LOOP_INPUTS, **OVERRIDES.get(fn.__name__, {})})


def loop_cases(short=False):
    """One case per float parameter and one for all of them (only the latter with --short)."""
    cases = []
    for fn in corpus_loops.FUNCTIONS:
        params = loop_inputs_for(fn).float_params
        if not short:
            cases += [GradientCase(fn, (p,), True) for p in params]
        cases.append(GradientCase(fn, tuple(params), False))
    return cases


FUNCTIONS = [pytest.param(fn, id=fn.__name__) for fn in corpus_loops.FUNCTIONS]


def pytest_generate_tests(metafunc):
    """`loop_case`: every (function, wrt) pair of corpus_loops, as conftest does for corpus."""
    if "loop_case" in metafunc.fixturenames:
        short = metafunc.config.getoption("--short")
        metafunc.parametrize("loop_case", [pytest.param(case, id=case.id)
                                           for case in loop_cases(short)])


# -- helpers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _central(fn, name):
    """Central differences at the fixed inputs (cached: both modes share them)."""
    return central_difference(fn, loop_inputs_for(fn).values, name)


def _same_kind(gradient, value):
    """A float for a float, a NumPy scalar for a NumPy scalar, an array like the array."""
    if isinstance(value, np.ndarray):
        return (type(gradient) is np.ndarray and gradient.shape == value.shape
                and gradient.dtype == value.dtype)
    return type(gradient) is type(value)


_MODULE_TREE = ast.parse(inspect.getsource(corpus_loops))
_DEFS = {node.name: node for node in _MODULE_TREE.body if isinstance(node, ast.FunctionDef)}


def _writes_in_place(name, seen=()):
    """Whether function `name` (or a corpus helper it calls) assigns into a subscript."""
    node = _DEFS[name]
    for sub in ast.walk(node):
        targets = []
        if isinstance(sub, ast.Assign):
            targets = sub.targets
        elif isinstance(sub, ast.AugAssign):
            targets = [sub.target]
        for target in targets:
            if any(isinstance(t, ast.Subscript) for t in ast.walk(target)):
                return True
        if (isinstance(sub, ast.Name) and sub.id in corpus_loops.HELPERS
                and sub.id not in seen and sub.id != name):
            if _writes_in_place(sub.id, seen + (name,)):
                return True
    return False


class _NoInPlace(ast.NodeTransformer):
    """`v += e` -> `v = v + e` for names: autograd cannot box an ndarray updated in place."""

    def visit_AugAssign(self, node):
        if not isinstance(node.target, ast.Name):
            return node
        target = ast.Name(id=node.target.id, ctx=ast.Load())
        return ast.copy_location(
            ast.Assign(targets=[node.target], value=ast.BinOp(left=target, op=node.op,
                                                              right=node.value)), node)


@functools.lru_cache(maxsize=None)
def _autograd_module():
    """corpus_loops re-made from its source, every function (helpers too) on autograd.numpy."""
    tree = ast.fix_missing_locations(_NoInPlace().visit(copy.deepcopy(_MODULE_TREE)))
    namespace = {"__name__": "corpus_loops_autograd"}
    exec(compile(tree, corpus_loops.__file__, "exec"), namespace)
    namespace["np"] = anp  # functions read np from their globals at call time
    return namespace


def _code_lines(source):
    """The generated source without its comment lines (the header, the line notes)."""
    return [line for line in source.splitlines() if not line.lstrip().startswith("#")]


def _store_calls(source):
    code = "\n".join(_code_lines(source))
    return code.count("append(") + code.count("push(")


# -- the corpus itself ---------------------------------------------------------------------


def test_corpus_has_at_least_45_documented_functions():
    assert len(corpus_loops.FUNCTIONS) >= 45
    names = [fn.__name__ for fn in corpus_loops.FUNCTIONS]
    assert len(set(names)) == len(names)
    assert not set(names) & set(corpus_loops.HELPERS)
    for fn in corpus_loops.FUNCTIONS:
        doc = fn.__doc__ or ""
        assert doc.strip() and "\n" not in doc.strip(), f"{fn.__name__}: one-line docstring"


def test_every_helper_is_called_by_the_corpus():
    called = {sub.id for name in (fn.__name__ for fn in corpus_loops.FUNCTIONS)
              for sub in ast.walk(_DEFS[name]) if isinstance(sub, ast.Name)}
    called |= {sub.id for name in corpus_loops.HELPERS
               for sub in ast.walk(_DEFS[name]) if isinstance(sub, ast.Name)}
    assert set(corpus_loops.HELPERS) <= called


@pytest.mark.parametrize("loop_function", FUNCTIONS)
def test_every_function_runs_and_its_differences_are_finite(loop_function):
    inputs = loop_inputs_for(loop_function)
    assert inputs.float_params, "nothing to differentiate"
    value = inputs.call(loop_function)
    assert np.shape(value) == () and np.isfinite(value)
    for name in inputs.float_params:
        assert np.all(np.isfinite(_central(loop_function, name))), name


# -- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_gradient_matches_central_differences(loop_case, optimize):
    inputs = loop_inputs_for(loop_case.fn)
    result = s2sad.grad(loop_case.fn, wrt=loop_case.wrt(inputs), optimize=optimize)(
        *inputs.args, **inputs.kwargs)
    if not loop_case.single:
        assert type(result) is tuple and len(result) == len(loop_case.params)
    for name, gradient in zip(loop_case.params, as_tuple(result, loop_case)):
        value = inputs.values[name]
        assert _same_kind(gradient, value), (
            f"d{name}: got {type(gradient).__name__} {np.shape(gradient)} "
            f"{getattr(gradient, 'dtype', '')}, input is {type(value).__name__} "
            f"{np.shape(value)} {getattr(value, 'dtype', '')}")
        np.testing.assert_allclose(gradient, _central(loop_case.fn, name),
                                   rtol=RTOL, atol=ATOL, err_msg=f"d{name}")


def test_arguments_are_unchanged(loop_case):
    fn = loop_case.fn
    inputs = loop_inputs_for(fn)
    before = copy.deepcopy(inputs.values)
    wrt = loop_case.wrt(inputs)
    s2sad.grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    s2sad.value_and_grad(fn, wrt=wrt)(*inputs.args, **inputs.kwargs)
    s2sad.grad(fn, wrt=wrt, optimize=False)(*inputs.args, **inputs.kwargs)
    for name, value in inputs.values.items():
        assert type(value) is type(before[name]), name
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_value_and_grad_returns_the_primal(loop_case):
    fn = loop_case.fn
    inputs = loop_inputs_for(fn)
    value, result = s2sad.value_and_grad(fn, wrt=loop_case.wrt(inputs))(
        *inputs.args, **inputs.kwargs)
    expected = call_by_name(fn, copy.deepcopy(inputs.values))
    assert np.shape(value) == ()
    np.testing.assert_allclose(value, expected, rtol=1e-13, atol=0)
    for from_value_and_grad, from_grad in zip(as_tuple(result, loop_case),
                                              gradients_of(loop_case, inputs)):
        assert _same_kind(from_value_and_grad, from_grad)
        np.testing.assert_allclose(from_value_and_grad, from_grad, rtol=1e-13, atol=0)


def test_gradient_matches_autograd(loop_case):
    fn = loop_case.fn
    if _writes_in_place(fn.__name__):
        pytest.skip("in-place array writes: autograd cannot differentiate them")
    inputs = loop_inputs_for(fn)
    gradients = gradients_of(loop_case, inputs)
    oracle = _autograd_module()[fn.__name__]
    for name, gradient in zip(loop_case.params, gradients):
        def along(value, name=name):
            return call_by_name(oracle, dict(inputs.values, **{name: value}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "output seems independent of input"
            expected = autograd.grad(along)(inputs.values[name])
        np.testing.assert_allclose(gradient, expected, rtol=ORACLE_RTOL, atol=ORACLE_ATOL,
                                   err_msg=f"d{name}")


def test_autograd_oracle_covers_most_of_the_corpus():
    """The oracle is skipped only for in-place writes; the rest must be most functions."""
    checked = [fn for fn in corpus_loops.FUNCTIONS if not _writes_in_place(fn.__name__)]
    assert len(checked) >= 30
    assert _writes_in_place("helper_with_writes")     # through the helper cumulative_sum
    assert _writes_in_place("matmul_three_loops")
    assert not _writes_in_place("horner")


# -- the lecture's convolution ----------------------------------------------------------------

INDEX = r"(?:i\s*\+\s*k|k\s*\+\s*i|(?P<tmp>[A-Za-z_]\w*))"
DA_LINE = re.compile(r"^\s*da\[\s*i\s*\]\s*\+=\s*dc\[\s*" + INDEX +
                     r"\s*\]\s*\*\s*b\[\s*k\s*\]\s*$", re.M)
DB_LINE = re.compile(r"^\s*db\[\s*k\s*\]\s*\+=\s*dc\[\s*" + INDEX +
                     r"\s*\]\s*\*\s*a\[\s*i\s*\]\s*$", re.M)


def _assert_lecture_line(pattern, source, text):
    match = pattern.search(source)
    assert match, f"no line like `{text}` in the generated source:\n{source}"
    tmp = match.group("tmp")
    if tmp is not None:  # the index bound to a temporary: it must be i + k
        bound = re.compile(r"^\s*" + re.escape(tmp) + r"\s*=\s*(?:i\s*\+\s*k|k\s*\+\s*i)\s*$",
                           re.M)
        assert bound.search(source), f"`{tmp}` is not bound to i + k:\n{source}"


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_convolution_adjoint_is_the_lectures(optimize):
    """Lecture 3.1: c[i + k] += a[i] * b[k] gives da[i] += dc[i + k] * b[k], and db alike."""
    source = s2sad.grad(corpus_loops.lecture_convolution, wrt=(0, 1), optimize=optimize).source
    _assert_lecture_line(DA_LINE, source, "da[i] += dc[i + k] * b[k]")
    _assert_lecture_line(DB_LINE, source, "db[k] += dc[i + k] * a[i]")


def test_lecture_line_pattern_is_strict():
    """The pattern accepts the lecture's line and its temporary form, nothing looser."""
    assert DA_LINE.search("        da[i] += dc[i + k] * b[k]\n")
    assert DA_LINE.search("    da[i]+=dc[t1]*b[k]")
    assert DB_LINE.search("        db[k] += dc[k + i] * a[i]")
    for wrong in ["da[i] = dc[i + k] * b[k]", "da[k] += dc[i + k] * b[k]",
                  "da[i] += dc[i + k] * a[i]", "da[i] += dc[i + k]", "da += dc * b",
                  "da[i] += dc[i - k] * b[k]"]:
        assert not DA_LINE.search(wrong), wrong


def test_convolution_gradient_has_the_closed_form():
    """d/da[i] of sum_z w[z] c[z] is sum_k w[i + k] b[k]; d/db[k] is sum_i w[i + k] a[i]."""
    inputs = loop_inputs_for(corpus_loops.lecture_convolution)
    a, b = inputs.args
    w = corpus_loops.WEIGHTS7
    da, db = s2sad.grad(corpus_loops.lecture_convolution, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(da, [sum(w[i + k] * b[k] for k in range(3)) for i in range(5)],
                               rtol=1e-12)
    np.testing.assert_allclose(db, [sum(w[i + k] * a[i] for i in range(5)) for k in range(3)],
                               rtol=1e-12)


# -- what the forward sweep stores ------------------------------------------------------------


def _stored_header(source):
    lines = [line for line in source.splitlines() if line.startswith("#   stored:")]
    assert len(lines) == 1, f"no `#   stored:` line in the header:\n{source}"
    return lines[0]


def test_elementwise_product_loop_stores_nothing():
    """c[i] = a[i] * b[i]: the adjoint reads only a and b, never overwritten: no tape."""
    df = s2sad.grad(corpus_loops.elementwise_product_loop, wrt=(0, 1))
    source = df.source
    _stored_header(source)
    assert _store_calls(source) == 0, f"a value is stored:\n{source}"
    a, b = loop_inputs_for(corpus_loops.elementwise_product_loop).args
    da, db = df(a, b)
    np.testing.assert_allclose(da, b, rtol=1e-15)
    np.testing.assert_allclose(db, a, rtol=1e-15)


def test_horner_stores_one_value_per_iteration():
    """p = p * s + coeffs[i]: the old p (for ds) is the one value stored per iteration."""
    df = s2sad.grad(corpus_loops.horner, wrt=(0, 1))
    source = df.source
    _stored_header(source)
    assert _store_calls(source) == 1, f"expected exactly one store call:\n{source}"


def test_store_count_helper_ignores_comments():
    assert _store_calls("# tape.append(x)\nx = 1\n") == 0
    assert _store_calls("    tape.append(p)\n    t.push(q)\n") == 2


def _summed_then_indexed(x):
    """Bug: np.sum(c)'s adjoint was kept as one number (dc is dd everywhere) even after
    c[1] added to an element of dc, so the sine's adjoint saw dd, not dc."""
    c = np.sin(x * 1.0)
    a = c[1]
    return np.sum(a) + np.sum(c)


def test_a_spread_sum_adjoint_that_an_element_write_changes_is_not_used_as_a_number():
    x = np.array([0.0, 0.3, -0.4])
    for optimize in (True, False):
        got = s2sad.grad(_summed_then_indexed, optimize=optimize)(x)
        np.testing.assert_allclose(got, np.cos(x) * np.array([1.0, 2.0, 1.0]), rtol=1e-12)


# -- stores indexed by the loop counter (compiled for a call) -----------------------

def _offset_horner(x, c, a: int, b: int):
    p = 0.0
    for i in range(a, b):
        p = p * x + c[i]
    return p


def _stepped_horner(x, c):
    p = 0.0
    for i in range(0, len(c), 2):
        p = p * x + c[i]
    return p


def test_a_counted_loop_keeps_its_values_in_lists_indexed_by_the_counter():
    df = s2sad.grad(corpus_loops.horner, wrt=(0, 1))
    assert "tape.append(p)" in df.source  # before a call: the stack, read back by grad(grad)
    coeffs = np.array([0.5, -1.0, 2.0, 0.25])
    got = df(coeffs, 0.7)
    source = df.source
    assert "p_stored = [None] * a" in source and "p_stored[i] = p" in source
    assert "p = p_stored[i]" in source and "tape" not in source
    stack = df.for_ranks((1, 0), read_back=True)
    assert "tape.append(p)" in stack.source
    for mine, theirs in zip(got, stack.function(coeffs, 0.7)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-15)


def test_two_loops_over_the_same_range_each_read_their_own_lists():
    df = s2sad.grad(sibling_loops, wrt=(0, 1))
    a = np.array([0.5, -1.0, 2.0, 0.25])
    got = df(0.3, a)
    code = df.source.split("\n\n\n")[1]
    primal, first_adjoint, second_adjoint = code.split("run backwards")
    loops = primal.split("for i in range(b):")  # each loop's lists are made before it

    def lists_made(text):
        return {line.split(" = ")[0].strip() for line in text.splitlines()
                if line.endswith("= [None] * b")}

    def lists_read(text):
        return set(re.findall(r"= (\w+_stored\w*)\[i\]$", text, re.MULTILINE))
    first_lists, second_lists = lists_made(loops[1]) | lists_made(loops[0]), \
        lists_made(loops[1])
    first_lists -= second_lists
    assert first_lists and second_lists, code
    # the first adjoint loop undoes the second loop, so it reads that loop's lists
    assert lists_read(first_adjoint) == second_lists, code
    assert lists_read(second_adjoint) == first_lists, code
    stack = df.for_ranks((0, 1), read_back=True)
    for mine, theirs in zip(got, stack.function(0.3, a)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-14)
    values = {"x": 0.3, "a": a}
    assert got[0] == pytest.approx(central_difference(sibling_loops, values, "x"), rel=1e-6)


def test_an_offset_range_indexes_from_its_start():
    df = s2sad.grad(_offset_horner, wrt=(0, 1))
    c = np.array([0.5, -1.0, 2.0, 0.25, 3.0])
    dx, dc = df(0.7, c, 1, 4)
    assert "p_stored[i - a] = p" in df.source
    values = {"x": 0.7, "c": c, "a": 1, "b": 4}
    assert dx == pytest.approx(central_difference(_offset_horner, values, "x"), rel=1e-6)
    np.testing.assert_allclose(dc, central_difference(_offset_horner, values, "c"),
                               rtol=1e-6, atol=1e-9)


def test_a_stepped_range_keeps_the_stack():
    df = s2sad.grad(_stepped_horner)
    c = np.array([0.5, -1.0, 2.0, 0.25, 3.0])
    dx = df(0.7, c)
    assert "tape.append(p)" in df.source and "_stored" not in df.source
    assert dx == pytest.approx(central_difference(_stepped_horner, {"x": 0.7, "c": c}, "x"),
                               rel=1e-6)
