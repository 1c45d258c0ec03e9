"""Refusals: every unsupported construct gives a located, readable diagnostic.

Each case is a real function in tests/errcases_functions.py. The expected line is
found by the marker comment `# E:<key>` on the offending line, the expected column
by searching that line for the construct (a `»` in the snippet marks the column
when it is not the snippet's start). For every refusal we check the exception's
specific type, `.filename`, `.lineno`, `.col`, `.location`, the rendered message
(`file:line:col`, the source line, a caret under the column, what is refused) and
a non-empty hint.
"""
import importlib.util
import inspect
import os
import textwrap

import types

import numpy as np

import pytest

import errcases_functions as ef
import errcases_helpers
import s2sad
from s2sad.check import numeric_grad
from s2sad import (ArgumentError, NameResolutionError, NoDerivativeRuleError,
                   NonScalarOutputError, RuleDefinitionError, S2SADError,
                   SourceUnavailableError, UnsupportedSyntaxError)

FILE = ef.__file__
with open(FILE) as _handle:
    LINES = _handle.read().splitlines()


def marker(key):
    """(lineno, line text) of the line that ends with `# E:<key>`."""
    tag = f"# E:{key}"
    hits = [i for i, line in enumerate(LINES, 1) if line.rstrip().endswith(tag)]
    assert len(hits) == 1, f"marker {tag} found {len(hits)} times"
    return hits[0], LINES[hits[0] - 1]


def expect(key, snippet):
    """(lineno, col, line): the marked line and the column where `snippet` starts."""
    lineno, line = marker(key)
    offset = snippet.index("»") if "»" in snippet else 0
    text = snippet.replace("»", "")
    assert line.count(text) >= 1, f"{text!r} not on line {lineno}: {line!r}"
    return lineno, line.index(text) + offset, line


def assert_located(exc, filename, lineno, col, line):
    """The full diagnostic contract: attributes, location, header, source, caret, hint."""
    assert isinstance(exc, S2SADError)
    assert os.path.realpath(exc.filename) == os.path.realpath(filename)
    assert exc.lineno == lineno, f"line {exc.lineno}, expected {lineno}\n{exc}"
    assert exc.col == col, f"col {exc.col}, expected {col}\n{exc}"
    assert exc.location is not None
    assert (exc.location.filename, exc.location.line, exc.location.col) == \
        (exc.filename, exc.lineno, exc.col)
    rendered = str(exc).splitlines()
    assert rendered[0].startswith(f"{exc.filename}:{lineno}:{col}: "), rendered[0]
    shown = "    " + line.rstrip()
    assert shown in rendered, f"source line not shown:\n{exc}"
    index = rendered.index(shown)
    assert index + 1 < len(rendered), f"no caret line:\n{exc}"
    caret = rendered[index + 1]
    assert caret.strip() and set(caret.strip()) == {"^"}, f"bad caret line:\n{exc}"
    assert len(caret) - len(caret.lstrip()) == 4 + col, f"caret not under col {col}:\n{exc}"
    assert isinstance(exc.hint, str) and exc.hint.strip(), f"no hint:\n{exc}"
    assert any(r.startswith("hint: ") for r in rendered), f"hint not rendered:\n{exc}"


def refusal(fn, *args, wrt=0):
    """Differentiate `fn` and call the gradient: the way a user meets the error."""
    with pytest.raises(S2SADError) as info:
        s2sad.grad(fn, wrt=wrt)(*args)
    return info.value


X = 0.3
V = np.array([0.3, 0.7, 1.1])

# (test id, function, marker key, column snippet, exception type, words in the message)
CASES = [
    # statements
    ("class", ef.has_class, "class", "class Inner", UnsupportedSyntaxError, ["class"]),
    ("try", ef.has_try, "try", "try:", UnsupportedSyntaxError, ["try"]),
    ("with", ef.has_with, "with", "with np", UnsupportedSyntaxError, ["with"]),
    ("global", ef.has_global, "global", "global G", UnsupportedSyntaxError, ["global"]),
    ("nonlocal", ef.has_nonlocal, "nonlocal", "nonlocal count", UnsupportedSyntaxError,
     ["nonlocal"]),
    ("del", ef.has_del, "del", "del y[0]", UnsupportedSyntaxError, ["del"]),
    ("import", ef.has_import, "import", "import math", UnsupportedSyntaxError, ["import"]),
    ("import_from", ef.has_import_from, "import_from", "from math", UnsupportedSyntaxError,
     ["import"]),
    ("raise", ef.has_raise, "raise", "raise ValueError", UnsupportedSyntaxError, ["raise"]),
    ("match", ef.has_match, "match", "match x", UnsupportedSyntaxError, ["match"]),
    ("no_return", ef.has_no_return, "no_return", "y = x", UnsupportedSyntaxError,
     ["return"]),
    ("bare_annotation", ef.has_bare_annotation, "bare_annotation", "y: float",
     UnsupportedSyntaxError, ["annotation"]),
    ("return_nothing", ef.nothing_returned, "return_nothing", "return",
     UnsupportedSyntaxError, ["returns nothing"]),
    # expressions
    ("lambda", ef.has_lambda, "lambda", "lambda t", UnsupportedSyntaxError, ["lambda"]),
    ("yield", ef.has_yield, "yield", "yield x", UnsupportedSyntaxError, ["yield"]),
    ("starred_call", ef.has_starred_call, "starred_call", "*x", UnsupportedSyntaxError,
     ["starred"]),
    ("starred_target", ef.has_starred_target, "starred_target", "*rest",
     UnsupportedSyntaxError, ["starred"]),
    ("dict_comp", ef.has_dict_comp, "dict_comp", "{i: v", UnsupportedSyntaxError,
     ["dict comprehension"]),
    ("set_comp", ef.has_set_comp, "set_comp", "{v for", UnsupportedSyntaxError,
     ["set comprehension"]),
    ("fstring", ef.has_fstring, "fstring", 'f"x=', UnsupportedSyntaxError, ["f-string"]),
    ("bitand", ef.has_bitand, "bitand", "x & 1", UnsupportedSyntaxError, ["&"]),
    ("bitor", ef.has_bitor, "bitor", "x | 2", UnsupportedSyntaxError, ["|"]),
    ("xor", ef.has_xor, "xor", "x ^ 2", UnsupportedSyntaxError, ["^"]),
    ("lshift", ef.has_lshift, "lshift", "x << 1", UnsupportedSyntaxError, ["<<"]),
    ("invert", ef.has_invert, "invert", "~x", UnsupportedSyntaxError, ["~"]),
    ("aug_bitor", ef.has_aug_bitor, "aug_bitor", "y |= 1", UnsupportedSyntaxError, ["|"]),
    ("dict_literal", ef.has_dict_literal, "dict_literal", 'd)', UnsupportedSyntaxError,
     ["dict"]),
    ("set_literal", ef.has_set_literal, "set_literal", "{x, 2.0}", UnsupportedSyntaxError,
     ["set"]),
    ("complex", ef.has_complex, "complex", "1j", UnsupportedSyntaxError, ["complex"]),
    ("function_value", ef.has_function_as_value, "function_value", "np.sin",
     UnsupportedSyntaxError, ["np.sin"]),
    ("call_local", ef.has_call_of_local, "call_local", "f(x)", UnsupportedSyntaxError,
     ["call"]),
    ("unpack_non_tuple", ef.has_unpack_non_tuple, "unpack_non_tuple", "= »x",
     UnsupportedSyntaxError, ["unpack"]),
    # assignment targets and parameters
    ("subscript_target", ef.has_subscript_target, "subscript_target", "x[0]",
     UnsupportedSyntaxError, ["element", "argument", "caller"]),
    ("subscript_augassign", ef.has_subscript_augassign, "subscript_augassign", "x[0]",
     UnsupportedSyntaxError, ["element", "argument", "caller"]),
    ("attribute_target", ef.has_attribute_target, "attribute_target", "x.flags",
     UnsupportedSyntaxError, ["attribute"]),
    # names, calls, methods and attributes
    ("undefined_name", ef.has_undefined_name, "undefined_name", "undefined_scale",
     NameResolutionError, ["undefined_scale", "not defined"]),
    ("missing_module_attribute", ef.has_missing_module_attribute, "missing_attr",
     "np.sine", NameResolutionError, ["np.sine"]),
    ("used_before_assignment", ef.has_used_before_assignment, "before_assignment",
     "later", UnsupportedSyntaxError, ["later", "before"]),
    ("no_rule_np_i0", ef.has_i0, "i0", "np.i0(x)", NoDerivativeRuleError,
     ["no derivative rule", "np.i0"]),
    ("no_rule_user_helper", ef.has_user_helper, "user_helper", "softplus(x)",
     NoDerivativeRuleError, ["no derivative rule", "softplus"]),
    ("no_rule_user_helper_dotted", ef.has_user_helper_dotted, "user_helper_dotted",
     "errcases_helpers.smooth_step(x)", NoDerivativeRuleError,
     ["no derivative rule", "smooth_step"]),
    ("method_conj", ef.has_method_conj, "method_conj", "x.conj",
     NoDerivativeRuleError, ["conj"]),
    ("attribute_flat", ef.has_attribute_flat, "attribute_flat", "x.flat",
     NoDerivativeRuleError, [".flat"]),
    # outputs known at transform time
    ("tuple_output", ef.tuple_output, "tuple_output", "y, x", NonScalarOutputError,
     ["tuple"]),
]

XFAILS: dict = {}  # construct -> reason, for refusals known not to hold yet


def _param(case):
    test_id = case[0]
    marks = ()
    if test_id in XFAILS:
        marks = pytest.mark.xfail(reason=XFAILS[test_id], strict=True)
    return pytest.param(*case[1:], id=test_id, marks=marks)


@pytest.mark.parametrize("fn, key, snippet, error, words", [_param(c) for c in CASES])
def test_refused_construct_is_located(fn, key, snippet, error, words):
    lineno, col, line = expect(key, snippet)
    exc = refusal(fn, V if "comp" in key or key.endswith("_exp") else X)
    assert type(exc) is error, f"{type(exc).__name__}, expected {error.__name__}\n{exc}"
    assert_located(exc, FILE, lineno, col, line)
    for word in words:
        assert word.lower() in exc.message.lower(), f"{word!r} not in {exc.message!r}"



# (**opts of a dict is read key by key when the call is compiled; a mapping of another
# type is known only at run time)
RUN_TIME_MAPPING = types.MappingProxyType({})


def test_kwargs_in_call_is_located_at_the_double_star():
    lineno, col, line = expect("kwargs_call", "**opts")
    exc = refusal(ef.has_kwargs_call, V, RUN_TIME_MAPPING)
    assert type(exc) is UnsupportedSyntaxError
    assert "**kwargs" in exc.message
    assert_located(exc, FILE, lineno, col, line)


def test_kwargs_in_call_is_refused_on_its_line():
    lineno, _, line = expect("kwargs_call", "**opts")
    exc = refusal(ef.has_kwargs_call, V, RUN_TIME_MAPPING)
    assert type(exc) is UnsupportedSyntaxError
    assert exc.lineno == lineno and "**kwargs" in exc.message and exc.hint


def test_bare_yield_statement_is_refused_as_a_generator():
    lineno, col, line = expect("bare_yield", "yield x")
    exc = refusal(ef.has_bare_yield, X)
    assert type(exc) is UnsupportedSyntaxError
    assert_located(exc, FILE, lineno, col, line)
    assert "yield" in exc.message or "generator" in exc.message, exc.message


def test_async_function_is_located():
    lineno, col, line = expect("async", "async def")
    exc = refusal(ef.async_function, X)
    assert type(exc) is UnsupportedSyntaxError
    assert "async" in exc.message
    assert_located(exc, FILE, lineno, col, line)


# -- lambdas passed to grad ---------------------------------------------------------

def test_grad_of_a_lambda_is_accepted():
    df = ef.grad_of_lambda()
    assert df(2.0) == 4.0 and type(df(2.0)) is float


def test_refusal_in_a_lambda_is_located_in_its_body():
    lineno, col, line = expect("lambdas", "undefined_in_lambda")
    accepted, refused = ef.grad_of_lambdas_on_one_line()
    assert accepted(3.0) == 6.0
    with pytest.raises(S2SADError) as info:
        refused(2.0)
    exc = info.value
    assert type(exc) is NameResolutionError
    assert "undefined_in_lambda" in exc.message
    assert_located(exc, FILE, lineno, col, line)


# -- derivative rules -----------------------------------------------------------------

def test_missing_rule_hint_shows_how_to_register_one():
    exc = refusal(ef.has_i0, X)
    assert "@s2sad.adjoint(np.i0)" in exc.hint
    assert "def i0_adjoint(dy, y, x):" in exc.hint


def test_missing_rule_hint_for_a_user_helper_names_it_as_imported():
    exc = refusal(ef.has_user_helper, X)  # (from errcases_helpers import softplus)
    assert exc.message == "no derivative rule for softplus"
    assert "@s2sad.adjoint(softplus)" in exc.hint
    exc = refusal(ef.has_user_helper_dotted, X)
    assert "@s2sad.adjoint(errcases_helpers.smooth_step)" in exc.hint


def _registration_from_hint(hint, derivative):
    """The code the hint shows, with the placeholder filled in, as a module's text."""
    start = hint.index("@s2sad.adjoint(")
    code = textwrap.dedent(hint[start:].replace("\n    ", "\n"))
    return ("import s2sad\nimport errcases_helpers\n\n\n"
            + code.replace("...", derivative) + "\n")


def _import_file(path):
    """Rule templates are read with inspect.getsource: they must live in a real file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _use_cube(x):
    return 2.0 * errcases_helpers.cube(x)


def test_following_the_missing_rule_hint_makes_the_gradient_work(tmp_path):
    with pytest.raises(NoDerivativeRuleError) as info:
        s2sad.grad(_use_cube)(X)
    path = tmp_path / "errcases_cube_rule.py"
    path.write_text(_registration_from_hint(info.value.hint, "3.0 * x ** 2"))
    _import_file(path)
    s2sad.check_grad(_use_cube, 0.7)


def _use_cube_t(x):
    return 2.0 * errcases_helpers.cube_with_other_name(x)


def test_missing_rule_hint_uses_the_functions_own_parameter_names(tmp_path):
    with pytest.raises(NoDerivativeRuleError) as info:
        s2sad.grad(_use_cube_t)(X)
    path = tmp_path / "errcases_cube_t_rule.py"
    code = _registration_from_hint(info.value.hint, "3.0 * t ** 2")
    path.write_text(code)
    try:
        _import_file(path)
    except RuleDefinitionError as exc:
        pytest.fail(f"the hint's code does not register:\n{code}\n{exc}")
    s2sad.check_grad(_use_cube_t, 0.7)


@pytest.mark.parametrize("fn, args", [
    (ef.has_for, (X,)), (ef.has_while, (X,)), (ef.has_if, (X,)), (ef.has_if, (-X,)),
    (ef.has_early_return, (X,)), (ef.has_if_exp, (X,)), (ef.has_if_exp, (-X,)),
    (ef.has_source_helper, (X,)),
], ids=["for", "while", "if", "if_not_taken", "early_return", "if_exp", "if_exp_other",
        "helper_in_another_module"])
def test_constructs_once_refused_now_differentiate(fn, args):
    """Loops, branches, early returns and helpers with source are supported."""
    assert s2sad.check_grad(fn, *args)


def test_a_helper_in_another_module_reads_its_own_globals():
    expected = 1.0 / (1.0 + np.exp(-(X - errcases_helpers.OFFSET)))
    assert s2sad.grad(ef.has_source_helper)(X) == pytest.approx(expected)


def test_a_call_without_a_rule_on_a_constant_is_not_refused():
    assert s2sad.grad(ef.has_constant_no_rule_call)(X) == pytest.approx(np.i0(0.5))


def test_the_function_form_on_a_constant_array_is_accepted():
    np.testing.assert_allclose(s2sad.grad(ef.has_function_on_constant)(V), np.conj(ef.W))


@pytest.mark.xfail(reason="BUG (minor): an unmapped method on a value that does not depend "
                          "on the inputs (W.conj() for a module-level W) is refused, "
                          "while the function form np.conj(W) is accepted", strict=True)
def test_an_unmapped_method_on_a_constant_array_is_accepted():
    np.testing.assert_allclose(s2sad.grad(ef.has_method_on_constant)(V), np.conj(ef.W))


# -- outputs ----------------------------------------------------------------------------

def test_vector_output_is_refused_at_call_time():
    lineno, col, line = expect("vector_output", "np.sin(y)")
    df = s2sad.grad(ef.vector_output)
    assert df(X) == pytest.approx(2.0 * np.cos(2.0 * X))  # a scalar input is fine
    with pytest.raises(S2SADError) as info:
        df(V)
    exc = info.value
    assert type(exc) is NonScalarOutputError
    assert_located(exc, FILE, lineno, col, line)
    assert "(3,)" in exc.message
    assert "sum" in exc.hint and "jacobian" in exc.hint


def test_vector_output_is_refused_by_value_and_grad_too():
    lineno, col, line = expect("vector_output", "np.sin(y)")
    with pytest.raises(NonScalarOutputError) as info:
        s2sad.value_and_grad(ef.vector_output)(V)
    assert_located(info.value, FILE, lineno, col, line)


def test_tuple_output_hint_names_jacobian():
    exc = refusal(ef.tuple_output, X)
    assert "jacobian" in exc.hint


# -- source not available ----------------------------------------------------------------

def test_function_made_by_exec_has_no_source():
    exc = refusal(ef.made_by_exec, X)
    assert type(exc) is SourceUnavailableError
    assert exc.filename == "<made-by-exec>"
    assert exc.lineno == 1 and exc.col == 0
    assert str(exc).startswith("<made-by-exec>:1:0: ")
    assert "made_by_exec" in exc.message
    assert "s2sad.grad_source" in exc.hint


def test_following_the_source_hint_works():
    df = s2sad.grad_source("def made_by_exec(x):\n    return x * x\n", "made_by_exec")
    assert df(1.5) == pytest.approx(3.0)




@pytest.mark.parametrize("fn", [
    pytest.param(sorted, id="builtin_sorted"),
    pytest.param(len, id="builtin_len"),
    pytest.param(print, id="builtin_print"),
])
def test_a_function_without_python_source_is_refused_with_a_hint(fn):
    with pytest.raises(S2SADError) as info:
        s2sad.grad(fn)(X)
    assert type(info.value) is SourceUnavailableError
    assert "adjoint" in info.value.hint or "grad_source" in info.value.hint


# -- wrt and argument errors ---------------------------------------------------------------

@pytest.mark.parametrize("wrt, words", [
    pytest.param(2, ["wrt=2", "out of range", "['x', 'y']"], id="index_out_of_range"),
    pytest.param(-3, ["wrt=-3", "out of range"], id="negative_out_of_range"),
    pytest.param("z", ["'z'", "not a parameter", "['x', 'y']"], id="unknown_name"),
    pytest.param((0, 0), ["twice"], id="duplicate_index"),
    pytest.param((0, "x"), ["twice"], id="duplicate_index_and_name"),
    pytest.param((), ["empty"], id="empty"),
    pytest.param(True, ["bool"], id="bool"),
    pytest.param(0.5, ["0.5"], id="float"),
    # (wrt=None is the default, the first argument: argnums= may be given instead)
])
def test_bad_wrt_is_an_argument_error(wrt, words):
    with pytest.raises(S2SADError) as info:
        s2sad.grad(ef.two_args, wrt=wrt)(1.0, 2.0)
    exc = info.value
    assert type(exc) is ArgumentError
    for word in words:
        assert word in exc.message, f"{word!r} not in {exc.message!r}"
    assert exc.hint and exc.hint.strip()


def test_bad_wrt_is_refused_when_grad_is_built():
    with pytest.raises(ArgumentError):
        s2sad.grad(ef.two_args, wrt=5)
    with pytest.raises(ArgumentError):
        s2sad.value_and_grad(ef.two_args, wrt="nope")


@pytest.mark.parametrize("args, words", [
    pytest.param((2.0, 3), ["'n'", "integer"], id="int"),
    pytest.param((2.0, np.int64(3)), ["'n'", "integer"], id="numpy_int"),
    pytest.param((2.0, True), ["'n'"], id="bool"),
    pytest.param((2.0, np.array([1, 2])), ["'n'", "int64"], id="int_array"),
    # a list is a structure now: its leaves must be floats, named by their path
    pytest.param((2.0, [1.0, 2]), ["n[1]", "integer"], id="list_of_an_int"),
    pytest.param((2.0, {"a": "x"}), ["n['a']", "str"], id="dict_of_a_string"),
])
def test_differentiating_a_non_float_argument_is_an_argument_error(args, words):
    df = s2sad.grad(ef.power, wrt=1)
    with pytest.raises(S2SADError) as info:
        df(*args)
    exc = info.value
    assert type(exc) is ArgumentError
    for word in words:
        assert word in exc.message, f"{word!r} not in {exc.message!r}"
    assert exc.hint and exc.hint.strip()


def test_int_argument_hint_suggests_a_float():
    with pytest.raises(ArgumentError) as info:
        s2sad.grad(ef.power, wrt=1)(2.0, 3)
    assert "3.0" in info.value.hint and "wrt" in info.value.hint


def test_int_argument_not_differentiated_is_fine():
    assert s2sad.grad(ef.power, wrt=0)(2.0, 3) == pytest.approx(12.0)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: s2sad.grad(ef.two_args, wrt=2)(1.0, 2.0), id="wrt_out_of_range"),
    pytest.param(lambda: s2sad.grad(ef.two_args, wrt="z")(1.0, 2.0), id="wrt_unknown"),
    pytest.param(lambda: s2sad.grad(ef.power, wrt=1)(2.0, 3), id="int_argument"),
])
def test_argument_errors_point_at_the_function(make):
    with pytest.raises(ArgumentError) as info:
        make()
    exc = info.value
    assert exc.filename is not None, f"no location:\n{exc}"
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE)
    key = "two_args" if "two_args" in str(exc) or "x', 'y'" in str(exc) else "power"
    lineno, line = marker(key)
    assert exc.lineno == lineno
    assert "    " + line.rstrip() in str(exc).splitlines()


# -- grad_source text ------------------------------------------------------------------------

SYNTAX_ERROR_TEXT = "import numpy as np\n\ndef f(x):\n    y = np.sin(x) +* 2.0\n    return y\n"


def test_syntax_error_in_grad_source_text():
    with pytest.raises(SyntaxError) as python:
        compile(SYNTAX_ERROR_TEXT, "model_text.py", "exec")
    expected_line, expected_col = python.value.lineno, python.value.offset - 1
    with pytest.raises(S2SADError) as info:
        s2sad.grad_source(SYNTAX_ERROR_TEXT, "f", filename="model_text.py")
    exc = info.value
    assert type(exc) is UnsupportedSyntaxError
    assert_located(exc, "model_text.py", expected_line, expected_col,
                   SYNTAX_ERROR_TEXT.splitlines()[expected_line - 1])
    assert "parse" in exc.message or "syntax" in exc.message.lower()


def test_syntax_error_in_indented_grad_source_text_puts_the_caret_on_the_token():
    text = textwrap.indent(SYNTAX_ERROR_TEXT, "        ")
    with pytest.raises(SyntaxError) as python:
        compile(textwrap.dedent(text), "<string>", "exec")
    token = python.value.text[python.value.offset - 1]
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad_source(text, "f")
    rendered = str(info.value).splitlines()
    shown = [i for i, r in enumerate(rendered) if "np.sin(x) +* 2.0" in r]
    assert shown, str(info.value)
    source, caret = rendered[shown[0]], rendered[shown[0] + 1]
    position = len(caret) - len(caret.lstrip())
    assert source[position] == token, str(info.value)
    assert info.value.lineno == python.value.lineno


def test_refusal_in_grad_source_text_is_located_in_the_text():
    text = ("\nimport numpy as np\n\n\ndef f(x):\n"
            "    g = lambda t: t * 2.0\n    return np.sin(x)\n")
    with pytest.raises(S2SADError) as info:
        s2sad.grad_source(text, "f", filename="notebook_cell")(X)
    exc = info.value
    assert type(exc) is UnsupportedSyntaxError
    assert_located(exc, "notebook_cell", 6, 8, "    g = lambda t: t * 2.0")


def test_grad_source_with_an_unknown_function_name():
    with pytest.raises(S2SADError) as info:
        s2sad.grad_source("def f(x):\n    return x\n", "g")
    assert type(info.value) is SourceUnavailableError
    assert "'g'" in info.value.message and info.value.hint


def test_undefined_name_in_grad_source_text():
    text = "def f(x):\n    return scipy.special.expit(x)\n"
    with pytest.raises(S2SADError) as info:
        s2sad.grad_source(text, "f")(X)
    exc = info.value
    assert type(exc) is NameResolutionError
    assert_located(exc, "<string>", 2, 11, "    return scipy.special.expit(x)")
    assert "env" in exc.hint or "argument" in exc.hint


# -- the error tree ------------------------------------------------------------------------

def test_every_refusal_is_an_s2sad_error_not_a_crash():
    for name in ["UnsupportedSyntaxError", "NoDerivativeRuleError", "NameResolutionError",
                 "SourceUnavailableError", "NonScalarOutputError", "ArgumentError",
                 "RuleDefinitionError"]:
        assert issubclass(getattr(s2sad, name), S2SADError)
    assert issubclass(S2SADError, Exception)


def _sum_of_a_tuple(a, b):
    return np.sum((a, b * 3.0))


def test_a_tuple_of_active_arrays_passed_to_a_reduction_gets_both_gradients():
    """np.sum((a, b)) used to drop both gradients silently (the tuple was inactive);
    NumPy reads the tuple as np.asarray of it, and element i gets dy[i]."""
    da, db = s2sad.grad(_sum_of_a_tuple, wrt=(0, 1))(V, V)
    np.testing.assert_array_equal(da, np.ones_like(V))
    np.testing.assert_array_equal(db, np.full_like(V, 3.0))


def _sine_of_a_tuple(a, b):
    return np.sum(np.sin((a, b)))


def test_a_tuple_of_active_arrays_passed_to_an_elementwise_rule_is_refused():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(_sine_of_a_tuple, wrt=(0, 1))(V, V)
    lines, first = inspect.getsourcelines(_sine_of_a_tuple)
    assert info.value.lineno == first + 1 and "tuple" in info.value.message
    assert "np.stack" in info.value.hint


def _vector_from_branches(x):
    if np.sum(x) > 0:
        return x * 2.0
    return x


def test_a_non_scalar_output_from_one_of_several_returns_is_located_at_a_return():
    with pytest.raises(s2sad.NonScalarOutputError) as info:
        s2sad.grad(_vector_from_branches)(V)
    lines, first = inspect.getsourcelines(_vector_from_branches)
    assert info.value.lineno in (first + 2, first + 3)


# -- refusals added with loops -------------------------------------------------------


def _sum_of_squares(x):
    return np.sum(x * x)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_an_np_matrix_argument_is_refused():
    """np.matrix's * is a matrix product: an elementwise gradient would be wrong."""
    with pytest.raises(ArgumentError) as info:
        s2sad.grad(_sum_of_squares)(np.matrix([[1.0, 2.0], [3.0, 4.0]]))
    assert "np.matrix" in info.value.message and "asarray" in info.value.hint


@pytest.mark.parametrize("reserved", ["len", "range", "reversed", "min", "sign", "fits"])
def test_a_local_named_like_a_name_generated_code_calls_is_renamed(reserved):
    """`sign, logdet = np.linalg.slogdet(K)`: the local is `sign_1` in the generated
    code, which calls the runtime's `sign` (or loops over `range`) by its name."""
    text = (f"def f(x):\n    {reserved} = x * 2.0\n"
            f"    return np.sum(np.abs({reserved}) * 3.0 + np.sin({reserved}))\n")
    g = s2sad.grad_source(text, "f")
    np.testing.assert_allclose(g(0.3), 6.0 + 2.0 * np.cos(0.6), rtol=1e-12)
    np.testing.assert_allclose(g(np.array([0.3, -0.2])),
                               [6.0 + 2.0 * np.cos(0.6), -6.0 + 2.0 * np.cos(-0.4)], rtol=1e-12)
    assert f"{reserved}_1 = " in g.source


@pytest.mark.parametrize("reserved", ["len", "sign"])
def test_a_parameter_named_like_a_name_generated_code_calls_is_refused(reserved):
    text = f"def f(x, {reserved}):\n    return x * {reserved}\n"
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad_source(text, "f")(0.3, 2.0)
    assert info.value.lineno == 1 and reserved in info.value.message and info.value.hint


def test_a_user_global_named_tape_keeps_its_meaning():
    tape = np.array([0.5, 1.0, 2.0])
    text = ("def f(x):\n    p = 0.0\n    for i in range(3):\n"
            "        p = p * x + tape[i]\n    return p\n")
    df = s2sad.grad_source(text, "f", env={"np": np, "tape": tape})
    assert "tape_1 = []" in df.source  # the stack of the code shown before a call
    assert df(0.7) == pytest.approx(2 * 0.5 * 0.7 + 1.0)
    assert "p_stored[i] = p" in df.source and "tape = " not in df.source


def _keyword_only(x, *, scale):
    return np.sum(x * scale)


def test_check_grad_names_why_it_cannot_probe_a_keyword_only_parameter():
    with pytest.raises(ArgumentError) as info:
        s2sad.check_grad(_keyword_only, V, wrt="scale")
    assert "positional" in info.value.message and info.value.hint


def _einsum_trace_weighted(A, v):
    return np.einsum("ii,i->", A, v)


def test_einsum_with_an_index_repeated_in_the_differentiated_operand():
    """'ii,i->' differentiated in A: v on the diagonal (refused once; issue 17)."""
    A, v = np.eye(3) + 0.5, np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(_einsum_trace_weighted, wrt=0)(A, v), np.diag(v))
    np.testing.assert_allclose(s2sad.grad(_einsum_trace_weighted, wrt=1)(A, v), np.diag(A))


# -- refusals of the rules added with the NumPy library and forward mode ---------------

def _pad_reflect(x):
    return np.sum(np.pad(x, 1, mode="reflect") ** 2)


def _cross_2d(x):
    return np.sum(np.cross(x[:2], np.array([1.0, 2.0])))


def _linspace_arrays(x):
    return np.sum(np.linspace(x, x + 1.0, 4) ** 2)


def _pinv_stack(x):
    return np.sum(np.linalg.pinv(np.stack([np.diag(x), np.diag(x * 2.0)])))


def _eigh_upper(x):
    return np.sum(np.linalg.eigh(np.diag(x) + 1.0, UPLO="U")[0])


def _svd_vectors(x):
    return np.sum(np.linalg.svd(np.diag(x) + 0.5)[0])


def _eigh_repeated(x):
    return np.sum(np.linalg.eigh(np.eye(3) + 0.0 * x)[1][:, 0] * V)


def _svd_extra_columns(x):
    return np.sum(np.linalg.svd(np.outer(x, x[:2]))[0][:, 2])


def _gradient_2d(x):
    return np.sum(np.gradient(np.outer(x, x))[0])


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("fn, words", [
    (_pad_reflect, "'constant'"), (_linspace_arrays, "array start"),
    (_eigh_repeated, "eigenvector of a repeated eigenvalue"),
    (_svd_extra_columns, "past min(m, n)"),
], ids=["pad_reflect", "linspace_arrays", "eigh_repeated", "svd_extra_columns"])
def test_cases_of_new_rules_without_a_derivative_are_refused_when_the_gradient_runs(fn, words):
    exc = refusal(fn, V)
    assert isinstance(exc, NoDerivativeRuleError)
    assert words in exc.message, exc.message
    lines, first = inspect.getsourcelines(fn)
    assert exc.lineno == first


@pytest.mark.parametrize("fn", [_pinv_stack, _eigh_upper, _svd_vectors],
                         ids=["pinv_stack", "eigh_upper", "svd_U"])
def test_pinv_of_a_stack_eigh_of_the_upper_triangle_and_singular_vectors_are_differentiated(fn):
    """(refused until issue 18)"""
    np.testing.assert_allclose(s2sad.grad(fn)(V), numeric_grad(fn, [V], 0), rtol=1e-6,
                               atol=1e-8)


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("fn", [_cross_2d, _gradient_2d], ids=["cross_2d", "gradient_2d"])
def test_np_cross_of_2_vectors_and_np_gradient_of_a_matrix_are_differentiated(fn):
    """(refused until issue 18) 2-vectors are 3-vectors with z = 0; np.gradient of a 2-d
    array is a tuple of arrays, one per axis."""
    np.testing.assert_allclose(s2sad.grad(fn)(V), numeric_grad(fn, [V], 0), rtol=1e-6)


def _unpack_an_array(x):
    a, b, c = x
    return a * b * c


def test_unpacking_an_array_takes_its_rows_and_a_number_is_refused_where_it_is():
    np.testing.assert_allclose(s2sad.grad(_unpack_an_array)(V),
                               [V[1] * V[2], V[0] * V[2], V[0] * V[1]], rtol=1e-12)
    exc = refusal(_unpack_an_array, X)
    assert isinstance(exc, UnsupportedSyntaxError)
    assert "unpacked" in exc.message and "t[0]" in exc.hint
    lines, first = inspect.getsourcelines(_unpack_an_array)
    assert exc.lineno == first + 1


def _scaled(x, k):
    return x * k


@s2sad.tangent(_scaled)
def _scaled_tangent(y, x, x_dot, k):
    return x_dot * k


def _uses_scaled(x, k):
    return np.sum(_scaled(x, k))


def test_forward_mode_refuses_a_tangent_rule_that_takes_an_active_argument_as_constant():
    """k has no k_dot in the tangent rule: differentiating along k would drop its term."""
    assert s2sad.jvp(_uses_scaled, wrt=0)(V, 2.0, V)[1] == pytest.approx(2.0 * np.sum(V))
    with pytest.raises(NoDerivativeRuleError) as info:
        s2sad.jvp(_uses_scaled, wrt=1)(V, 2.0, 1.0)
    assert "treats 'k' as a constant" in info.value.message
    assert "k_dot" in info.value.hint
    # reverse mode, which has no rule for _scaled, inlines its body
    assert s2sad.grad(_uses_scaled, wrt=1)(V, 2.0) == pytest.approx(np.sum(V))
