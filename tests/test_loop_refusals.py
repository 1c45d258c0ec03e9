"""Refusals around control flow: each is a located S2SADError subclass with a hint.

Each case is a real function in tests/errcases_loops.py; the expected line is the
one carrying the marker comment `# E:<key>` (found by searching the file's text,
as tests/test_errors.py does). Only the exception's type (a proper subclass of
S2SADError), its file and line, a non-empty message and a non-empty hint are
checked, not the wording. Where the "line of the construct" has more than one
honest reading (the `for` of a `for ... else` or its `else:`; either call that
closes a mutual recursion), every reading is listed and any one is accepted.
"""
import copy
import os

import numpy as np
import pytest

import errcases_loops as el
import s2sad
from s2sad import S2SADError

FILE = el.__file__
with open(FILE) as _handle:
    LINES = _handle.read().splitlines()


def marker(key):
    """The line number of the line that ends with `# E:<key>`."""
    tag = f"# E:{key}"
    hits = [i for i, line in enumerate(LINES, 1) if line.rstrip().endswith(tag)]
    assert len(hits) == 1, f"marker {tag} found {len(hits)} times"
    return hits[0]


X = 0.3
V = np.array([0.3, 0.7, 1.1, 0.45])

# (test id, function, arguments, wrt, marker keys of the acceptable lines)
CASES = [
    ("for_else", el.for_else, (X,), 0, ["for_else", "for_else_keyword", "for_else_body"]),
    ("while_else", el.while_else, (X,), 0,
     ["while_else", "while_else_keyword", "while_else_body"]),
    ("for_over_string", el.for_over_string, (X,), 0, ["string"]),
    ("global_in_loop", el.global_in_loop, (X,), 0, ["global_in_loop"]),
    ("direct_recursion_called", el.calls_recursive, (X,), 0, ["direct_recursion"]),
    ("direct_recursion_itself", el.recursive_power, (X, 3), 0, ["direct_recursion"]),
    ("mutual_recursion", el.calls_mutual, (X,), 0, ["mutual_ping", "mutual_pong"]),
    ("parameter_element_write", el.writes_parameter_element, (V,), 0, ["param_write"]),
    ("parameter_element_write_in_loop", el.writes_parameter_element_in_loop, (V,), 0,
     ["param_write_loop"]),
    ("augmented_through_alias", el.augmented_through_alias, (V,), 0, ["alias_augassign"]),
    ("augmented_through_view", el.augmented_through_view, (V,), 0, ["view_augassign"]),
]

PARAMS = [pytest.param(*case[1:], id=case[0]) for case in CASES]


def _refusal(fn, args, wrt):
    """Differentiate `fn` and call the gradient (on copies): the way a user meets it."""
    with pytest.raises(S2SADError) as info:
        s2sad.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    return info.value


@pytest.mark.parametrize("fn, args, wrt, keys", PARAMS)
def test_case_runs_as_plain_python(fn, args, wrt, keys):
    """The refusal is s2sad's: Python itself runs every case."""
    value = fn(*copy.deepcopy(args))
    assert np.all(np.isfinite(value))


@pytest.mark.parametrize("fn, args, wrt, keys", PARAMS)
def test_refused_on_the_line_of_the_construct(fn, args, wrt, keys):
    exc = _refusal(fn, args, wrt)
    assert isinstance(exc, S2SADError) and type(exc) is not S2SADError, (
        f"{type(exc).__name__} is not a specific refusal\n{exc}")
    assert exc.filename is not None, f"no location:\n{exc}"
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE), exc.filename
    lines = sorted(marker(key) for key in keys)
    assert exc.lineno in lines, f"line {exc.lineno}, expected one of {lines}\n{exc}"
    assert isinstance(exc.message, str) and exc.message.strip(), f"empty message:\n{exc}"
    assert isinstance(exc.hint, str) and exc.hint.strip(), f"no hint:\n{exc}"


@pytest.mark.parametrize("fn", [el.writes_parameter_element,
                                el.writes_parameter_element_in_loop],
                         ids=["write", "write_in_loop"])
def test_parameter_write_hint_suggests_a_copy(fn):
    exc = _refusal(fn, (V,), 0)
    assert "copy" in exc.hint.lower(), f"the hint does not mention copying:\n{exc}"


def test_refusal_leaves_the_arguments_alone():
    """Refusing a write into a parameter must not have written it first."""
    x = V.copy()
    with pytest.raises(S2SADError):
        s2sad.grad(el.writes_parameter_element)(x)
    np.testing.assert_array_equal(x, V)
