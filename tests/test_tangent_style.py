"""Right or refused on a Tangent-style corpus (tests/corpus_tangent_style.py).

For every function, in its first argument: s2sad.grad and s2sad.jvp (optimised and
not), value_and_grad, and, where the argument is a number, grad(grad(f)); hessian for a
number or an array of at most HESSIAN_SIZE entries; and grad in every float argument at
once (grad_all) where there are several. Each either agrees with central
differences, with the exact structure of the argument (a float for a float, an array of
the same shape for an array, the same containers) and the function's own value, leaving
the caller's arguments and tangent untouched; or raises an S2SADError. Any other
exception (a NumPy error from generated code, ZeroDivisionError, ...) or a wrong number
(nan included) fails.

Known defects are listed in KNOWN = {"case[mode]": reason} and marked
xfail(strict=True), so a fix shows up as XPASS and the entry must go. Two mechanisms are
open, each with its smallest programs in the corpus: 0 x inf in a chain-rule product, and
a name rebound to a view of itself in a loop or branch (reverse mode).
"""
from __future__ import annotations

import copy
import warnings
import zlib

import numpy as np
import pytest

import corpus_tangent_style as corpus
import s2sad

MODES = ("grad", "grad_noopt", "value_and_grad", "jvp", "jvp_noopt", "grad_grad", "hessian",
         "grad_all")
SECOND_ORDER = ("grad_grad", "hessian")
HESSIAN_SIZE = 4  # the Hessian of an array input by second differences: 2 n (n + 1) calls of f

ZERO_TIMES_INF = ("0 x inf: a zero tangent or adjoint times a rule's infinite local derivative "
                  "gives nan (Python floats: ZeroDivisionError)")
SELF_SLICE = ("y rebound from a subscript of itself in a loop or branch (y = y[::-1] + ..., "
              "y = y[1:] - y[:-1]): the subscript's adjoint goes into the new y's dy, which "
              "is then replaced (wrong), or is taken of the new y (NumPy error)")
FIRST_ORDER = "grad grad_noopt value_and_grad"
ALL = " ".join(m for m in MODES if m != "grad_all")
KNOWN: dict = {}
for _case_id, _modes in {
    "arcsin_at_one": ALL,
    "degenerate_arccos_one": ALL,
    "degenerate_arccosh_one": ALL,
    "degenerate_math_sqrt_var": "grad grad_noopt value_and_grad jvp jvp_noopt grad_grad",
    "degenerate_pow_15_zero": "grad_grad hessian",
    "degenerate_sqrt_sum_sq_zero": "grad grad_noopt value_and_grad jvp jvp_noopt hessian",
    "cbrt_zero_term": ALL,
    "clip_sqrt": "jvp jvp_noopt",
    "math_sqrt_zero_term": "grad grad_noopt value_and_grad jvp jvp_noopt grad_grad",
    "maximum_sqrt": "grad grad_noopt value_and_grad jvp jvp_noopt hessian",
    "np_power_zero_term": "grad_grad hessian",
    "pow_half_zero_term": ALL,
    "sqrt_of_relu@neg": "grad grad_noopt value_and_grad jvp jvp_noopt grad_grad",
    "sqrt_zero_term": ALL,
    "where_arcsin": FIRST_ORDER + " hessian",
    "where_pow_half": FIRST_ORDER + " hessian",
    "where_reciprocal": FIRST_ORDER + " hessian",
    "where_sqrt": FIRST_ORDER + " hessian",
    "where_then_sqrt": "jvp jvp_noopt",
}.items():
    for _mode in _modes.split():
        KNOWN[f"{_case_id}[{_mode}]"] = ZERO_TIMES_INF
# SHARED_TANGENT (copy_reshape_copy, copy_squeeze, view_* in forward mode) was fixed by
# fe4c3da: the tangent of a write is computed before the write.
# fixed by 51617fe (lower: an additive operation reading part of the name it rebinds is
# computed apart): self_slice_*, self_*_index_loop, loop_{neg,sub,sum_axis}_self,
# overlap_diff_loop; and by the commit after it, which computes apart any rebinding of a
# loop-carried name that reads it (y = y[1:], y = y.T): self_slice_only_loop, rebind_view_*,
# rerank_br_elem.


# -- structures: flatten a float / array / tuple / list / dict to one vector ---------------


def _flatten(value):
    """The entries of `value` as one float vector, and a function rebuilding it."""
    if isinstance(value, np.ndarray):
        shape = value.shape
        return value.astype(np.float64).ravel(), lambda v: v.reshape(shape).copy()
    if isinstance(value, (tuple, list)):
        parts = [_flatten(item) for item in value]
        return _join(parts, lambda items: type(value)(items))
    if isinstance(value, dict):
        keys = list(value)
        parts = [_flatten(value[k]) for k in keys]
        return _join(parts, lambda items: dict(zip(keys, items)))
    if isinstance(value, (int, float, np.floating)):
        return np.array([float(value)]), lambda v: float(v[0])
    raise TypeError(f"cannot flatten {type(value).__name__}")


def _join(parts, build):
    sizes = [len(flat) for flat, _ in parts]
    flat = np.concatenate([f for f, _ in parts]) if parts else np.zeros(0)

    def rebuild(v):
        items, start = [], 0
        for (_, unflatten), size in zip(parts, sizes):
            items.append(unflatten(v[start:start + size]))
            start += size
        return build(items)
    return flat, rebuild


def _check_structure(got, like, what, strict=True):
    """`got` has exactly the structure of `like`: float for float, same-shape arrays
    (strict: a 0-d array for a 0-d array too; a value may be any kind of number)."""
    if isinstance(like, np.ndarray) and (like.ndim > 0 or strict):
        assert isinstance(got, np.ndarray), f"{what}: {type(got).__name__} for an array"
        assert got.shape == like.shape, f"{what}: shape {got.shape} for {like.shape}"
        assert got.dtype == np.float64, f"{what}: dtype {got.dtype}"
    elif isinstance(like, (tuple, list)):
        assert type(got) is type(like) and len(got) == len(like), \
            f"{what}: {type(got).__name__} of {len(got) if hasattr(got, '__len__') else '?'}"
        for k, (g, e) in enumerate(zip(got, like)):
            _check_structure(g, e, f"{what}[{k}]", strict)
    elif isinstance(like, dict):
        assert isinstance(got, dict) and list(got) == list(like), f"{what}: {got!r}"
        for k in like:
            _check_structure(got[k], like[k], f"{what}[{k!r}]", strict)
    elif isinstance(like, float):
        assert isinstance(got, float) and not isinstance(got, np.ndarray), \
            f"{what}: {type(got).__name__} {got!r} for a float"
    else:  # a NumPy scalar or a 0-d array: a number of any of those kinds
        assert np.ndim(got) == 0 and not isinstance(got, (tuple, list, dict)), \
            f"{what}: {type(got).__name__} {got!r} for a number"


def _assert_close(got, expected, what, rtol=1e-5, atol=1e-6):
    flat_got, _ = _flatten(got)
    flat_expected, _ = _flatten(expected)
    np.testing.assert_allclose(flat_got, flat_expected, rtol=rtol, atol=atol, err_msg=what)


# -- differences -------------------------------------------------------------------------


def _call(f, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*copy.deepcopy(args))


def _is_number(value):
    """A float, a NumPy float64 or a 0-d array: the inputs whose Hessian is a number."""
    return isinstance(value, (float, np.ndarray)) and np.ndim(value) == 0


def _is_scalar_output(value):
    return not isinstance(value, (tuple, list, dict)) and np.ndim(value) == 0


def _numeric_grad(f, args, eps=1e-6, index=0):
    flat, rebuild = _flatten(args[index])

    def at(v):
        return float(_call(f, args[:index] + (rebuild(v),) + args[index + 1:]))
    result = np.zeros_like(flat)
    for k in range(len(flat)):
        up, down = flat.copy(), flat.copy()
        up[k] += eps
        down[k] -= eps
        result[k] = (at(up) - at(down)) / (2 * eps)
    return rebuild(result)


def _float_params(args):
    """The positions of the float and float-array arguments (the ones grad_all takes)."""
    return tuple(i for i, a in enumerate(args)
                 if isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype == float))


def _numeric_directional(f, args, direction, eps=1e-6):
    flat, rebuild = _flatten(args[0])
    d, _ = _flatten(direction)
    up = _flatten(_call(f, (rebuild(flat + eps * d),) + args[1:]))[0]
    down = _flatten(_call(f, (rebuild(flat - eps * d),) + args[1:]))[0]
    return (up - down) / (2 * eps)


def _numeric_second(f, args, h=1e-3):
    a = args[0]

    def at(step):
        return float(_call(f, (a + step,) + args[1:]))
    return (-at(2 * h) + 16 * at(h) - 30 * at(0.0) + 16 * at(-h) - at(-2 * h)) / (12 * h * h)


def _numeric_hessian(f, args, h=1e-4):
    """Second differences of f in the entries of the array args[0]: shape x.shape * 2."""
    x = args[0]
    flat = x.ravel()
    n = flat.size

    def at(i, si, j, sj):
        probe = flat.copy()
        probe[i] += si * h
        probe[j] += sj * h
        return float(_call(f, (probe.reshape(x.shape),) + args[1:]))
    result = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            result[i, j] = result[j, i] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1)
                                           + at(i, -1, j, -1)) / (4 * h * h)
    return result.reshape(x.shape * 2)


def _direction(case_id, like):
    flat, rebuild = _flatten(like)
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    return rebuild(rng.uniform(-1.0, 1.0, size=flat.shape))


# -- the test ----------------------------------------------------------------------------


def _params():
    for case_id in sorted(corpus.CASES):
        f, args = corpus.CASES[case_id]
        for mode in MODES:
            if mode == "grad_grad" and not _is_number(args[0]):
                continue
            if mode == "grad_all" and len(_float_params(args)) < 2:
                continue
            if mode == "hessian" and not (_is_number(args[0]) or (
                    isinstance(args[0], np.ndarray) and args[0].size <= HESSIAN_SIZE)):
                continue
            key = f"{case_id}[{mode}]"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
            yield pytest.param(case_id, mode, id=key, marks=marks)


def _run(mode, f, args, direction):
    """The transform `mode` of f, called on args (a fresh copy)."""
    if mode == "grad":
        return s2sad.grad(f)(*args)
    if mode == "grad_noopt":
        return s2sad.grad(f, optimize=False)(*args)
    if mode == "value_and_grad":
        return s2sad.value_and_grad(f)(*args)
    if mode == "jvp":
        return s2sad.jvp(f)(*args, direction)
    if mode == "jvp_noopt":
        return s2sad.jvp(f, optimize=False)(*args, direction)
    if mode == "grad_grad":
        return s2sad.grad(s2sad.grad(f))(*args)
    if mode == "hessian":
        return s2sad.hessian(f)(*args)
    if mode == "grad_all":
        return s2sad.grad(f, wrt=_float_params(args))(*args)
    raise AssertionError(mode)


@pytest.mark.parametrize("case_id, mode", list(_params()))
def test_right_or_refused(case_id, mode):
    f, args = corpus.CASES[case_id]
    value = _call(f, args)
    direction = _direction(case_id, args[0])
    given = copy.deepcopy(args)
    given_direction = copy.deepcopy(direction)
    pristine = copy.deepcopy(args)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = _run(mode, f, given, given_direction)
    except s2sad.S2SADError:
        return  # a refusal is allowed
    _assert_close(given, pristine, "the caller's arguments were modified", rtol=0, atol=0)
    _assert_close(given_direction, direction, "the caller's tangent was modified", rtol=0, atol=0)
    if mode in ("jvp", "jvp_noopt"):
        got_value, tangent = got
        _check_structure(got_value, value, "jvp value", strict=False)
        _assert_close(got_value, value, "jvp value")
        _check_structure(tangent, value, "jvp tangent", strict=False)
        _assert_close(tangent, _numeric_directional(f, args, direction), "jvp tangent")
        return
    assert _is_scalar_output(value), f"a gradient of a non-scalar output: {got!r}"
    if mode == "value_and_grad":
        got_value, got = got
        _check_structure(got_value, value, "value", strict=False)
        _assert_close(got_value, value, "value")
    if mode == "grad_all":
        wrt = _float_params(args)
        _check_structure(got, tuple(args[i] for i in wrt), mode)
        _assert_close(got, tuple(_numeric_grad(f, args, index=i) for i in wrt), mode)
        return
    if mode == "hessian" and not _is_number(args[0]):
        like = np.zeros(args[0].shape * 2)
        _check_structure(got, like, mode)
        _assert_close(got, _numeric_hessian(f, args), mode, rtol=1e-5, atol=1e-5)
        return
    if mode in SECOND_ORDER:
        # grad(grad(f)) is a gradient: the input's kind; a Hessian of a 0-d input is a
        # number of any kind (a matrix of shape ())
        _check_structure(got, args[0], mode, strict=mode == "grad_grad")
        _assert_close(got, _numeric_second(f, args), mode, rtol=1e-5, atol=1e-5)
        return
    _check_structure(got, args[0], mode)
    _assert_close(got, _numeric_grad(f, args), mode)


def test_the_corpus_is_broad():
    assert len(corpus.CASES) >= 200
