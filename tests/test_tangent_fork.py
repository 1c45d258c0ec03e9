"""The feature list of Tangent's maintained fork, differentiated by s2sad.

Issue 17 asks that everything the fork (github.com/pedronahum/tangent, tangent-ad on
PyPI) differentiates, s2sad differentiates too. tests/corpus_tangent_fork.py holds
functions written here for each entry of the fork's feature list; for each one:

* grad: s2sad.grad in the first argument against central differences, with the
  argument's exact structure (a float for a float, an array of its shape and dtype, a
  dict of the same keys); a function with a tuple or array output must instead be
  refused with NonScalarOutputError (s2sad's contract; the fork sums the outputs);
* jvp: s2sad.jvp against a directional central difference, value included;
* hessian: for a number or an array of at most HESSIAN_SIZE entries, against second
  differences;
* grad3 (the section "second and third derivatives"): grad(grad(grad(f))) against a
  third difference;
* grad_all: grad in every float argument at once, where there are several.

Unlike test_tangent_style.py, a refusal fails here: the fork differentiates all of it.
Each known failure is listed in REFUSED with the first line of s2sad's refusal (or
CRASH for another exception out of s2sad) and marked xfail(strict=True), so
that a fix shows up as XPASS and the entry must go. No case gives a wrong number.
"""
from __future__ import annotations

import copy
import sys
import warnings

import numpy as np
import pytest

import corpus_tangent_fork as corpus
import s2sad
from test_tangent_style import (_assert_close, _call, _check_structure, _direction,
                                _float_params, _is_number, _is_scalar_output,
                                _numeric_directional, _numeric_grad, _numeric_hessian,
                                _numeric_second)

HESSIAN_SIZE = 4  # second differences cost 2 n (n + 1) calls of f
THIRD_ORDER_FEATURE = "second and third derivatives"


class Crash(Exception):
    """An exception out of s2sad that is not an S2SADError (kept apart from a wrong number,
    which fails this test's own asserts)."""


# The refusals and crashes the first run found: (case, modes, the exception the test
# raises today, the first line of s2sad's message without its file:line:col). A refusal
# is marked raises=S2SADError and a crash raises=Crash, so that either turning into a
# wrong number fails.
CLASS_METHOD = "NoDerivativeRuleError: the method .{}() is not supported"
LIST_OF_ACTIVES = ("UnsupportedSyntaxError: a tuple or list of values that depend on the "
                   "inputs is not supported here")
SUM_RULE = "NoDerivativeRuleError: no derivative rule for sum"
RUN_TIME_COUNT = ("UnsupportedSyntaxError: a comprehension over a count known only at run "
                  "time is not supported")
LAMBDA_VALUE = ("UnsupportedSyntaxError: a lambda is used here as a value; s2sad reads a "
                "lambda bound to a name where it is called")
REFUSED = [
    # lambda functions
    ("closure_appends_to_enclosing_list", "grad jvp hessian", s2sad.S2SADError,
     "UnsupportedSyntaxError: this changes a structure its caller holds too (an argument "
     "that is not differentiated, a helper's argument, or what a helper returned of its "
     "arguments); the generated code never changes the caller's objects"),
]
KNOWN = {f"{case_id}[{mode}]": (raises, reason)
         for case_id, modes, raises, reason in REFUSED for mode in modes.split()}


def _numeric_third(f, args, h=1e-2):
    """f''' at the number args[0]: (f(x+2h) - 2 f(x+h) + 2 f(x-h) - f(x-2h)) / 2h^3."""
    x = args[0]

    def at(step):
        return float(_call(f, (x + step,) + args[1:]))
    return (at(2 * h) - 2 * at(h) + 2 * at(-h) - at(-2 * h)) / (2 * h ** 3)


def _modes(case_id):
    f, args = corpus.CASES[case_id]
    modes = ["grad", "jvp"]
    scalar_out = _is_scalar_output(_call(f, args))
    if scalar_out and (_is_number(args[0]) or (
            isinstance(args[0], np.ndarray) and args[0].size <= HESSIAN_SIZE)):
        modes.append("hessian")
    if scalar_out and corpus.FEATURES[case_id] == THIRD_ORDER_FEATURE and _is_number(args[0]):
        modes.append("grad3")
    if scalar_out and len(_float_params(args)) > 1:
        modes.append("grad_all")
    return modes


def _params():
    for case_id in corpus.CASES:
        for mode in _modes(case_id):
            key = f"{case_id}[{mode}]"
            marks = []
            if key in KNOWN:
                raises, reason = KNOWN[key]
                marks = [pytest.mark.xfail(strict=True, raises=raises, reason=reason)]
            yield pytest.param(case_id, mode, id=key, marks=marks)


def _run(mode, f, args, direction):
    if mode == "grad":
        return s2sad.grad(f)(*args)
    if mode == "jvp":
        return s2sad.jvp(f)(*args, direction)
    if mode == "hessian":
        return s2sad.hessian(f)(*args)
    if mode == "grad3":
        return s2sad.grad(s2sad.grad(s2sad.grad(f)))(*args)
    if mode == "grad_all":
        return s2sad.grad(f, wrt=_float_params(args))(*args)
    raise AssertionError(mode)


def _data(args):
    """The arguments that are numbers, arrays or containers (an object is left out)."""
    return tuple(a for a in args if isinstance(a, (float, int, np.ndarray, tuple, list, dict)))


@pytest.mark.parametrize("case_id, mode", list(_params()))
def test_fork_feature(case_id, mode):
    f, args = corpus.CASES[case_id]
    oracle = corpus.REFERENCES.get(case_id, f)  # what central differences see
    value = _call(oracle, args)
    direction = _direction(case_id, args[0])
    given, given_direction = copy.deepcopy(args), copy.deepcopy(direction)
    if mode == "grad" and not _is_scalar_output(value):
        with pytest.raises(s2sad.NonScalarOutputError):
            _run(mode, f, given, given_direction)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = _run(mode, f, given, given_direction)
    except s2sad.S2SADError:
        raise
    except Exception as error:  # s2sad's own assert, a RecursionError, ...: not a refusal
        raise Crash(f"{type(error).__name__}: {error}") from error
    _assert_close(_data(given), _data(args), "the caller's arguments were modified",
                  rtol=0, atol=0)
    _assert_close(given_direction, direction, "the caller's tangent was modified",
                  rtol=0, atol=0)
    if mode == "jvp":
        got_value, tangent = got
        _check_structure(got_value, value, "jvp value", strict=False)
        _assert_close(got_value, value, "jvp value")
        _check_structure(tangent, value, "jvp tangent", strict=False)
        _assert_close(tangent, _numeric_directional(oracle, args, direction), "jvp tangent")
    elif mode == "grad":
        _check_structure(got, args[0], "grad")
        _assert_close(got, _numeric_grad(oracle, args), "grad")
    elif mode == "grad_all":
        wrt = _float_params(args)
        _check_structure(got, tuple(args[i] for i in wrt), "grad_all")
        _assert_close(got, tuple(_numeric_grad(oracle, args, index=i) for i in wrt), "grad_all")
    elif mode == "hessian" and not _is_number(args[0]):
        _check_structure(got, np.zeros(args[0].shape * 2), "hessian")
        _assert_close(got, _numeric_hessian(oracle, args), "hessian", rtol=1e-5, atol=1e-5)
    elif mode == "hessian":
        _check_structure(got, args[0], "hessian", strict=False)
        _assert_close(got, _numeric_second(oracle, args), "hessian", rtol=1e-5, atol=1e-5)
    else:
        _check_structure(got, args[0], "grad3")
        _assert_close(got, _numeric_third(oracle, args), "grad3", rtol=1e-3, atol=1e-3)


def test_recursive_nested_def_is_refused():
    """README: recursion is refused, naming the cycle; a nested def calling itself too.
    A low recursion limit makes an endless recursion fail in milliseconds, not seconds."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        with pytest.raises(s2sad.S2SADError, match="recursive call"):
            s2sad.grad(corpus.nested_def_recursive)(corpus.A)
    finally:
        sys.setrecursionlimit(limit)


def test_every_feature_has_cases():
    """At least 80 functions, and each feature of the fork's list has three or more cases."""
    functions = {id(fn) for fn, _ in corpus.CASES.values()}
    assert len(functions) >= 80
    for feature in set(corpus.FEATURES.values()):
        assert sum(1 for f in corpus.FEATURES.values() if f == feature) >= 3, feature
