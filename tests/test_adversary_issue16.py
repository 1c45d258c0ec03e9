"""Adversarial review of issue 16 (structured arguments: pytree.py, desugar.py,
structured.py and their paths in api.py/check.py): programs written to break the
claims "every accepted structured call is exactly right in value, structure and
dtype", "the caller's arguments are never mutated", "a second call sees new data",
and "a refusal is an S2SADError at the right line".

Each confirmed defect is a strict xfail naming the cause and the smallest reproducer
(a fix shows as XPASS: then drop the marker); the plain tests pin attacks that s2sad
already meets. The oracle is central differences leaf by leaf (written here, apart
from s2sad.pytree, so a bug there cannot hide itself) and autograd where it applies.
"""
import collections
import copy
import dataclasses

import numpy as np
import pytest

import autograd
import autograd.numpy as anp
import s2sad

W = np.array([[0.3, -0.2], [0.15, 0.45]])
B = np.array([0.1, -0.35])
X = np.array([0.7, -0.4])      # np.sum(X) > 0
XN = -X                        # np.sum(XN) < 0


# -- an oracle independent of s2sad.pytree --------------------------------------------

def _leaves(v, path=()):
    """(path, leaf) of every float leaf of a dict/list/tuple/namedtuple/dataclass."""
    if isinstance(v, dict):
        for k in v:
            yield from _leaves(v[k], path + (("item", k),))
    elif isinstance(v, tuple) and hasattr(type(v), "_fields"):
        for f in v._fields:
            yield from _leaves(getattr(v, f), path + (("attr", f),))
    elif isinstance(v, (list, tuple)):
        for i, item in enumerate(v):
            yield from _leaves(item, path + (("item", i),))
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        for f in dataclasses.fields(v):
            yield from _leaves(getattr(v, f.name), path + (("attr", f.name),))
    elif isinstance(v, (float, np.ndarray, np.floating)):
        yield path, v


def _get(v, path):
    for kind, key in path:
        v = v[key] if kind == "item" else getattr(v, key)
    return v


def _set(v, path, new):
    """A deep copy of `v` with the leaf at `path` replaced."""
    if not path:
        return new
    v = copy.deepcopy(v)
    *head, (kind, key) = path
    parent = _get(v, head)
    if isinstance(parent, tuple):
        if hasattr(type(parent), "_fields"):
            return _set(v, head, parent._replace(**{key if kind == "attr" else
                                                    parent._fields[key]: new}))
        items = list(parent)
        items[key] = new
        return _set(v, head, tuple(items))
    if kind == "item":
        parent[key] = new
    else:
        object.__setattr__(parent, key, new)
    return v


def _numeric(f, args, index, eps=1e-6):
    """Central differences of scalar f in every float leaf of args[index]: [(path, g)]."""
    found = []
    for path, leaf in _leaves(args[index]):
        def at(value):
            fresh = list(copy.deepcopy(args))
            fresh[index] = _set(args[index], path, value)
            return float(f(*fresh))
        if isinstance(leaf, np.ndarray):
            g = np.zeros(leaf.shape)
            for i in np.ndindex(leaf.shape):
                up, down = leaf.copy(), leaf.copy()
                up[i] += eps
                down[i] -= eps
                g[i] = (at(up) - at(down)) / (2 * eps)
        else:
            g = (at(float(leaf) + eps) - at(float(leaf) - eps)) / (2 * eps)
        found.append((path, g))
    return found


def _same_structure(got, like):
    if isinstance(like, (float, np.floating)) and not isinstance(like, np.ndarray):
        return np.ndim(got) == 0
    if type(got) is not type(like):
        return False
    if isinstance(like, dict):
        return list(got) == list(like) and all(_same_structure(got[k], like[k]) for k in like)
    if isinstance(like, (list, tuple)):
        return len(got) == len(like) and all(_same_structure(a, b) for a, b in zip(got, like))
    if dataclasses.is_dataclass(like):
        return all(_same_structure(getattr(got, f.name), getattr(like, f.name))
                   for f in dataclasses.fields(like))
    if isinstance(like, np.ndarray):
        return got.shape == like.shape and got.dtype == like.dtype
    return got is like or got == like  # None, strings


def _check(f, *args, argnum=0, got=None, rtol=1e-5, atol=1e-7):
    """s2sad.grad(f, argnum) against differences: the argument's exact structure and
    dtypes, the values, and every argument unchanged by the call."""
    saved = copy.deepcopy(args)
    if got is None:
        got = s2sad.grad(f, argnum)(*args)
    for now, before in zip(args, saved):
        for (path, a), (_, b) in zip(_leaves(now), _leaves(before)):
            assert np.array_equal(a, b), f"the caller's argument changed at {path}"
    assert _same_structure(got, args[argnum]), (got, args[argnum])
    for path, want in _numeric(f, args, argnum):
        np.testing.assert_allclose(_get(got, path), want, rtol=rtol, atol=atol,
                                   err_msg=str(path))
    return got


def _p():
    return {"W": W.copy(), "b": B.copy()}


def _layers():
    return [(W.copy(), B.copy()), (W.T.copy(), B[::-1].copy())]


# == 1. WRONG GRADIENT: a store into a structure inside a run-time `if` ================

BRANCH_STORE = ("desugar.py `if_`: `before = dict(self.env)` copies the env shallowly but "
                "`store_item` mutates the Struct's items in place, so a store in one branch "
                "is seen by the other branch and after the if as if it always ran; "
                "`merged` keeps it (`a is b`). Smallest: W2 = p['W'] * 2; if np.sum(x) > 0: "
                "p['W'] = W2; return np.sum(p['W'] @ x) at sum(x) < 0 gives twice the "
                "gradient")


def store_in_if(p, x):
    W2 = p["W"] * 2
    if np.sum(x) > 0:
        p["W"] = W2
    return np.sum(p["W"] @ x)


def store_in_else(p, x):
    W2 = p["W"] * 2
    if np.sum(x) > 0:
        pass
    else:
        p["W"] = W2
    return np.sum(p["W"] @ x)


def list_item_in_if(p, x):
    hs = [p["W"] @ x]
    h2 = p["W"] @ (2 * x)
    if np.sum(x) > 0:
        hs[0] = h2
    return np.sum(hs[0])


def local_dict_in_if(p, x):
    d = {"h": p["W"] @ x}
    h3 = np.tanh(p["W"] @ x)
    if np.sum(x) > 0:
        d["h"] = h3
    return np.sum(d["h"])


def store_both_branches(p, x):
    if np.sum(x) > 0:
        p["W"] = p["W"] * 2
    else:
        p["W"] = p["W"] * 5
    return np.sum(p["W"] @ x)


BOTH_BRANCHES = BRANCH_STORE + ("; with a store in both branches the else branch reads the "
                                "body's fresh name (None at run time): ValueError/TypeError "
                                "from the generated code, not an S2SADError")


@pytest.mark.parametrize("f, x", [
    (store_in_if, X), (store_in_else, XN), (list_item_in_if, X), (local_dict_in_if, X),
    pytest.param(store_both_branches, X, marks=pytest.mark.xfail(strict=True,
                                                               reason=BOTH_BRANCHES)),
    pytest.param(store_both_branches, XN, marks=pytest.mark.xfail(strict=True,
                                                                reason=BOTH_BRANCHES))],
    ids=["if-taken", "else-taken", "list-taken", "dict-taken", "both-body", "both-else"])
def test_store_in_a_branch_when_it_is_taken(f, x):
    try:
        _check(f, {"W": W.copy()}, x)
    except s2sad.S2SADError:
        pass  # a refusal is acceptable


@pytest.mark.xfail(strict=True, reason=BRANCH_STORE)
def test_store_in_if_not_taken():
    _check(store_in_if, {"W": W.copy()}, XN)


@pytest.mark.xfail(strict=True, reason=BRANCH_STORE)
def test_store_in_else_not_taken():
    _check(store_in_else, {"W": W.copy()}, X)


@pytest.mark.xfail(strict=True, reason=BRANCH_STORE + " (a local list: hs[0] = h2)")
def test_list_item_stored_in_if_not_taken():
    _check(list_item_in_if, {"W": W.copy()}, XN)


@pytest.mark.xfail(strict=True, reason=BRANCH_STORE + " (a local dict: d['h'] = h3)")
def test_local_dict_item_stored_in_if_not_taken():
    _check(local_dict_in_if, {"W": W.copy()}, XN)
