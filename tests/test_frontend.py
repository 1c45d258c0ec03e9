"""Front end: name resolution, decorator stripping, real positions, grad_source.

Functions under test live in this file on purpose: their positions are this file's
real lines. Lines that a test checks carry a marker comment `# F:<key>`; the tests
find them by searching this file's text, never by a hard-coded number.
"""
import functools
import math
import os
import textwrap

import numpy
import numpy as np
import numpy as xp
import pytest
from math import sin as math_sin
from numpy import sin

import errcases_annotations
import errcases_docstring
import s2sad
from s2sad import frontend, rules
from s2sad.anno import get_anno

FILE = __file__
with open(FILE) as _handle:
    LINES = _handle.read().splitlines()

X = 0.7
V = np.array([0.3, -1.2, 2.5])


def marker(key):
    """(lineno, line text) of the line of this file ending with `# F:<key>`."""
    tag = f"# F:{key}"
    hits = [i for i, line in enumerate(LINES, 1) if line.rstrip().endswith(tag)]
    assert len(hits) == 1, f"marker {tag} found {len(hits)} times"
    return hits[0], LINES[hits[0] - 1]


def def_line(fn):
    """The line of `def fn` in this file (after its decorators)."""
    hits = [i for i, line in enumerate(LINES, 1)
            if line.lstrip().startswith(f"def {fn.__name__}(")]
    assert len(hits) == 1
    return hits[0]


def resolved_callees(fn):
    """The objects every call in `fn`'s parsed body resolves to."""
    parsed = frontend.parse_function(fn)
    import gast
    return [get_anno(node.func, "resolved", None) for node in gast.walk(parsed.func)
            if isinstance(node, gast.Call)]


# -- name resolution: every spelling reaches the one rule ------------------------------

SCALE = 1.7
WEIGHTS = np.array([0.5, -1.0, 2.0])
my_tanh = np.tanh


def via_np(x):
    return np.sum(np.sin(x))


def via_numpy(x):
    return numpy.sum(numpy.sin(x))


def via_from_import(x):
    return np.sum(sin(x))


def via_alias(x):
    return xp.sum(xp.sin(x))


def via_math(x):
    return math.sin(x)


def via_math_from_import(x):
    return math_sin(x)


def via_global_alias(x):
    return np.sum(my_tanh(x))


def via_module_constants(x):
    return SCALE * np.sum(WEIGHTS * np.sin(x)) + math.pi * np.sum(x) + np.e * np.sum(x)


def via_default_constant(x, scale=SCALE):
    return scale * np.sum(np.sin(x))


def via_nested_module(x):
    return np.sum(numpy.linalg.inv(x))


@pytest.mark.parametrize("fn", [via_np, via_numpy, via_from_import, via_alias],
                         ids=lambda f: f.__name__)
def test_every_spelling_of_numpy_sin_reaches_the_same_rule(fn):
    callees = resolved_callees(fn)
    assert np.sin in callees
    sin_callee = next(c for c in callees if c is np.sin)
    assert rules.lookup(sin_callee) is rules.lookup(np.sin) is not None
    np.testing.assert_allclose(s2sad.grad(fn)(V), np.cos(V), rtol=1e-12)
    assert s2sad.check_grad(fn, V)


@pytest.mark.parametrize("fn", [via_math, via_math_from_import], ids=lambda f: f.__name__)
def test_math_sin_reaches_the_math_rule(fn):
    assert resolved_callees(fn) == [math.sin]
    assert rules.lookup(math.sin) is not None
    g = s2sad.grad(fn)(X)
    assert type(g) is float
    assert g == pytest.approx(math.cos(X), rel=1e-12)
    assert s2sad.check_grad(fn, X)


def test_a_module_level_alias_of_a_numpy_function_resolves():
    assert np.tanh in resolved_callees(via_global_alias)
    np.testing.assert_allclose(s2sad.grad(via_global_alias)(V), 1 - np.tanh(V) ** 2,
                               rtol=1e-12)
    assert s2sad.check_grad(via_global_alias, V)


def test_module_level_constants_resolve():
    expected = SCALE * WEIGHTS * np.cos(V) + math.pi + np.e
    np.testing.assert_allclose(s2sad.grad(via_module_constants)(V), expected, rtol=1e-12)
    assert s2sad.check_grad(via_module_constants, V)


def test_a_default_argument_naming_a_module_constant():
    np.testing.assert_allclose(s2sad.grad(via_default_constant)(V), SCALE * np.cos(V),
                               rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(via_default_constant, wrt=1)(V),
                               np.sum(np.sin(V)), rtol=1e-12)
    assert s2sad.check_grad(via_default_constant, V, 1.3, wrt=(0, 1))


def test_a_nested_module_attribute_chain_resolves_to_the_function():
    assert np.linalg.inv in resolved_callees(via_nested_module)
    x = np.array([[2.0, 0.5], [0.25, 1.5]])
    y = np.linalg.inv(x)
    # d sum(inv(X)) = -Y.T @ 1 @ Y.T: numpy.linalg.inv reached np.linalg.inv's rule
    np.testing.assert_allclose(s2sad.grad(via_nested_module)(x),
                               -y.T @ np.ones((2, 2)) @ y.T, rtol=1e-12)


# -- closures ------------------------------------------------------------------------------

def make_scaled(scale):
    def scaled(x):
        return scale * np.sum(np.sin(x))
    return scaled


def make_applied(fn):
    def applied(x):
        return np.sum(WEIGHTS * fn(x))
    return applied


def make_shadowing():
    SCALE = 5.0  # noqa: N806  (shadows the module-level SCALE on purpose)

    def shadowed(x):
        return SCALE * np.sum(np.sin(x))
    return shadowed




def test_a_closure_variable_resolves():
    fn = make_scaled(2.5)
    np.testing.assert_allclose(s2sad.grad(fn)(V), 2.5 * np.cos(V), rtol=1e-12)
    assert s2sad.check_grad(fn, V)
    other = make_scaled(-0.5)  # a second closure of the same code keeps its own value
    np.testing.assert_allclose(s2sad.grad(other)(V), -0.5 * np.cos(V), rtol=1e-12)


def test_a_closure_variable_holding_a_numpy_function_reaches_its_rule():
    fn = make_applied(np.tanh)
    assert np.tanh in resolved_callees(fn)
    np.testing.assert_allclose(s2sad.grad(fn)(V), WEIGHTS * (1 - np.tanh(V) ** 2),
                               rtol=1e-12)
    assert s2sad.check_grad(fn, V)


def test_a_closure_variable_shadows_a_global_of_the_same_name():
    fn = make_shadowing()
    np.testing.assert_allclose(s2sad.grad(fn)(V), 5.0 * np.cos(V), rtol=1e-12)
    assert s2sad.check_grad(fn, V)


def test_a_closure_bound_after_grad_is_built_resolves_lazily():
    def outer():
        def late(x):
            return k * np.sum(x ** 2)
        df = s2sad.grad(late)
        k = 3.0
        return df
    np.testing.assert_allclose(outer()(V), 6.0 * V, rtol=1e-12)


def test_a_local_name_shadows_a_module_name():
    def local_shadow(x):
        sin = x * 2.0  # noqa: F811  (a local, not numpy.sin)
        return np.sum(np.sin(sin))
    np.testing.assert_allclose(s2sad.grad(local_shadow)(V), 2.0 * np.cos(2.0 * V),
                               rtol=1e-12)


def test_a_parameter_named_like_a_runtime_helper():
    def clash(x, unsum):
        return np.sum(x) * unsum
    try:
        g = s2sad.grad(clash)(V, 3.0)
    except s2sad.S2SADError:
        return  # an honest refusal (rename the parameter) is acceptable; a crash is not
    np.testing.assert_allclose(g, [3.0, 3.0, 3.0])


# -- globals rebound after the first call --------------------------------------------------

REBOUND = np.array([1.0, 2.0, 3.0])


def uses_rebound(x):
    return np.sum((x * REBOUND) ** 2)


def test_a_global_rebound_after_the_first_gradient_is_seen():
    global REBOUND
    old = REBOUND
    try:
        s2sad.grad(uses_rebound)(X)
        REBOUND = np.array([-2.0, 0.5, 4.0])
        expected = 2.0 * X * np.sum(REBOUND ** 2)
        assert s2sad.grad(uses_rebound)(X) == pytest.approx(expected)
    finally:
        REBOUND = old


# -- annotations ---------------------------------------------------------------------------

def test_postponed_annotations_are_not_resolved():
    np.testing.assert_allclose(s2sad.grad(errcases_annotations.typed_energy)(V), np.cos(V),
                               rtol=1e-12)


def test_scalar_annotations_under_postponed_evaluation():
    fn = errcases_annotations.scalar_annotated
    assert s2sad.grad(fn)(X) == pytest.approx(4.0 * X)
    assert s2sad.check_grad(fn, X, 2.0, wrt=(0, 1))


# -- decorators are stripped -------------------------------------------------------------

def passthrough(fn):
    return fn


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def tagged(*tags, **options):
    def decorate(fn):
        fn.tags = (tags, options)
        return fn
    return decorate


@passthrough
def deco_plain(x):
    return np.sum(np.sin(x))


@logged
def deco_wraps(x):
    return np.sum(np.sin(x))


@tagged(
    "first",
    "second",
    level=2,
)
@passthrough
def deco_multiline(x):
    y = np.sin(x)  # F:deco_multiline_body
    return np.sum(y)


@tagged("x")
@logged
def deco_error(x):
    y = np.sin(x)
    return np.sum(y * undefined_after_decorators)  # F:deco_error


@pytest.mark.parametrize("fn", [deco_plain, deco_wraps, deco_multiline],
                         ids=lambda f: f.__name__)
def test_decorators_are_stripped(fn):
    np.testing.assert_allclose(s2sad.grad(fn)(V), np.cos(V), rtol=1e-12)
    assert s2sad.check_grad(fn, V)
    source = s2sad.grad(fn).source
    assert "@" not in source
    assert f"({FILE}:{def_line(fn)})" in source


def test_positions_after_multiline_decorators_are_file_lines():
    lineno, line = marker("deco_multiline_body")
    source = s2sad.grad(deco_multiline).source
    assert f"# adjoint of line {lineno}: y = np.sin(x)" in source


def test_refusal_in_a_decorated_function_points_at_the_file_line():
    lineno, line = marker("deco_error")
    with pytest.raises(s2sad.NameResolutionError) as info:
        s2sad.grad(deco_error)(V)
    exc = info.value
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE)
    assert (exc.lineno, exc.col) == (lineno, line.index("undefined_after_decorators"))
    assert "    " + line in str(exc).splitlines()


def test_a_decorator_that_is_a_local_name_is_not_resolved():
    def local_decorator(fn):
        return fn

    @local_decorator
    def decorated_by_local(x):
        return np.sum(np.sin(x))
    np.testing.assert_allclose(s2sad.grad(decorated_by_local)(V), np.cos(V), rtol=1e-12)


def test_the_grad_decorator_itself_is_stripped():
    @s2sad.grad(
        wrt=(0, 1),
    )
    def product(x, y):
        return x * np.sin(y)
    assert product(2.0, X) == (pytest.approx(np.sin(X)), pytest.approx(2.0 * np.cos(X)))
    assert "s2sad.grad" not in product.source


# -- positions are the user's real file lines ---------------------------------------------

class Model:
    @staticmethod
    def energy(x, w):
        y = np.sin(x) * w  # F:class_body_ok
        return np.sum(y)

    @staticmethod
    def broken(x):
        y = x * 2.0
        return np.sum(y * undefined_in_class)  # F:class_body_error


if True:  # an indented block at module level
    def in_block(x):
        y = x * 2.0
        return np.sum(y) + len({1.0, 2.0})  # F:indented_block


def test_function_in_a_class_body_keeps_file_positions():
    lineno, line = marker("class_body_ok")
    df = s2sad.grad(Model.energy)
    np.testing.assert_allclose(df(V, 2.0), 2.0 * np.cos(V), rtol=1e-12)
    assert f"({FILE}:{lineno - 1})" in df.source
    assert f"# adjoint of line {lineno}: y = np.sin(x) * w" in df.source


def test_refusal_in_a_class_body_is_located():
    lineno, line = marker("class_body_error")
    with pytest.raises(s2sad.NameResolutionError) as info:
        s2sad.grad(Model.broken)(V)
    exc = info.value
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE)
    assert (exc.lineno, exc.col) == (lineno, line.index("undefined_in_class"))
    rendered = str(exc).splitlines()
    index = rendered.index("    " + line)
    caret = rendered[index + 1]
    assert len(caret) - len(caret.lstrip()) == 4 + exc.col


def test_refusal_in_an_indented_block_is_located():
    lineno, line = marker("indented_block")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(in_block)(X)
    exc = info.value
    assert (exc.lineno, exc.col) == (lineno, line.index("{1.0, 2.0}"))
    assert "    " + line in str(exc).splitlines()


def test_refusal_in_a_function_nested_in_a_test_is_located():
    def inner(x):
        y = x * 2.0
        z = [t for t in y]  # F:nested_in_test
        return np.sum(y)
    lineno, line = marker("nested_in_test")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(inner)(V)
    exc = info.value
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE)
    assert (exc.lineno, exc.col) == (lineno, line.index("[t for"))
    assert "    " + line in str(exc).splitlines()


def test_refusal_on_a_continuation_line_is_located():
    def continued(x):
        y = np.add(x * 2.0,
                   lambda t: t)  # F:continuation
        return y
    lineno, line = marker("continuation")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(continued)(X)
    assert (info.value.lineno, info.value.col) == (lineno, line.index("lambda"))


def test_one_line_function_is_located():
    def one(x): return x * undefined_on_one_line  # F:one_liner
    lineno, line = marker("one_liner")
    with pytest.raises(s2sad.NameResolutionError) as info:
        s2sad.grad(one)(X)
    assert (info.value.lineno, info.value.col) == (lineno, line.index("undefined_on"))


def test_docstring_with_a_column_0_line_in_an_indented_function():
    fn = errcases_docstring.Model.energy
    np.testing.assert_allclose(s2sad.grad(fn)(V), np.cos(V), rtol=1e-12)


# -- s2sad.grad_source --------------------------------------------------------------------

def test_grad_source_resolves_np_numpy_and_math():
    text = textwrap.dedent("""
        def f(x, y):
            a = np.sin(x) * numpy.exp(y)
            return np.sum(a) + math.cos(math.pi) * np.sum(x)
        """)
    df = s2sad.grad_source(text, "f", wrt=(0, 1))
    gx, gy = df(V, 0.4)
    np.testing.assert_allclose(gx, np.cos(V) * np.exp(0.4) - 1.0, rtol=1e-12)
    assert gy == pytest.approx(np.sum(np.sin(V)) * np.exp(0.4), rel=1e-12)
    assert type(gy) is float


def test_grad_source_picks_the_named_function_among_several():
    text = textwrap.dedent("""
        import numpy as np

        def helper(x):
            return x

        @some.decorator(that, does_not="exist")
        def target(x):
            y = x ** 3  # the only line with a power
            return np.sum(y)

        def after(x):
            return lambda t: t
        """)
    df = s2sad.grad_source(text, "target", filename="cell[3]")
    np.testing.assert_allclose(df(V), 3.0 * V ** 2, rtol=1e-12)
    lineno = text.splitlines().index("    y = x ** 3  # the only line with a power") + 1
    assert f"# adjoint of line {lineno}: y = x ** 3" in df.source
    assert "cell[3]" in df.source


def test_grad_source_indented_text():
    text = """
        def f(x):
            return math.exp(x) * 2.0
    """
    assert s2sad.grad_source(text, "f")(X) == pytest.approx(2.0 * math.exp(X))


def test_grad_source_with_an_env():
    text = "def f(x):\n    return np.sum(w * custom(x))\n"
    df = s2sad.grad_source(text, "f", env={"np": np, "w": WEIGHTS, "custom": np.tanh})
    np.testing.assert_allclose(df(V), WEIGHTS * (1 - np.tanh(V) ** 2), rtol=1e-12)


def test_grad_source_value_and_defaults():
    text = "def f(x, scale=2.0):\n    return scale * np.sum(x ** 2)\n"
    value, g = s2sad.grad_source(text, "f", with_value=True)(V)
    assert value == pytest.approx(2.0 * np.sum(V ** 2))
    np.testing.assert_allclose(g, 4.0 * V, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad_source(text, "f", wrt="scale")(V, 3.0),
                               np.sum(V ** 2), rtol=1e-12)


def test_grad_source_unresolved_name_hint_mentions_env():
    with pytest.raises(s2sad.NameResolutionError) as info:
        s2sad.grad_source("def f(x):\n    return special(x)\n", "f")(X)
    assert "env" in info.value.hint


# -- far down the file: positions after many lines ----------------------------------------

def far_down(x):
    y = np.sin(x)  # F:far_down
    return np.sum(y * y)


def far_down_broken(x):
    y = np.sin(x)
    del y[0]  # F:far_down_broken
    return np.sum(x)


def test_positions_far_down_the_file():
    lineno, line = marker("far_down")
    assert lineno > 300
    df = s2sad.grad(far_down)
    np.testing.assert_allclose(df(V), 2.0 * np.sin(V) * np.cos(V), rtol=1e-12)
    assert f"# adjoint of line {lineno}: y = np.sin(x)" in df.source
    lineno, line = marker("far_down_broken")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(far_down_broken)(V)
    assert (info.value.lineno, info.value.col) == (lineno, 4)
    assert "    " + line in str(info.value).splitlines()
