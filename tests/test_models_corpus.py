"""The model corpus (corpus_models.py): structured parameters as other people write them.

Each case goes through grad, value_and_grad (and a second call with new values), vjp,
jvp along a tangent of the argument's structure, and check_grad; a subset through hvp,
hessian, jacobian and jit=True; the has_aux cases through grad, value_and_grad, vjp
and jvp with JAX's return conventions. The oracle is autograd (which takes dicts,
lists and tuples natively) run on a copy of the corpus module whose `np` is
autograd.numpy, or leaf-wise central differences for namedtuples, dataclasses, None
leaves and objects. The gradient must have exactly the argument's structure (dict keys
in order, list vs tuple, the same namedtuple or dataclass type, None for None), each
leaf the argument leaf's type, dtype and shape; the caller's arguments must come back
untouched. Refusals are checked for the path they name and the line they point at.

Cases that fail today are strict xfails with their cause (KNOWN below), so a fix shows
up as XPASS.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import os
import re
import sys
import types
import warnings
from typing import Any, Callable, List, Tuple

import numpy as np
import pytest

import autograd
import s2sad
from s2sad.jit import JitFallback

import corpus_models
from corpus_models import CASES

HERE = os.path.dirname(os.path.abspath(__file__))


def _autograd_copy() -> types.ModuleType:
    """corpus_models again, with `import numpy as np` reading autograd.numpy."""
    path = os.path.join(HERE, "corpus_models.py")
    with open(path) as handle:
        text = handle.read()
    assert "import numpy as np\n" in text
    text = text.replace("import numpy as np\n", "import autograd.numpy as np\n", 1)
    text = text.replace("from scipy.special import", "from autograd.scipy.special import", 1)
    module = types.ModuleType("corpus_models_autograd")
    module.__file__ = path
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(text, path, "exec"), module.__dict__)
    return module


AUTOGRAD = _autograd_copy()
AUTOGRAD_CASES = {c.name: c for c in AUTOGRAD.CASES}

# Cases failing today: case name -> cause. A fix turns them into XPASS (strict).
KNOWN = {
}
# Cases failing only under value_and_grad / has_aux / mutation checks, by test name.
KNOWN_BY_TEST = {
}


def _params(cases, test):
    out = []
    for c in cases:
        reason = KNOWN_BY_TEST.get((test, c.name)) or KNOWN.get(c.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


PLAIN = [c for c in CASES if not c.aux]
AUX = [c for c in CASES if c.aux]


# -- structures -------------------------------------------------------------------------

def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def leaves_with_paths(value: Any, path: str = "") -> List[Tuple[str, Any]]:
    """(path, leaf) of every leaf, None included, in the structure's order."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves_with_paths(v, f"{path}[{k!r}]")]
    if _is_namedtuple(value):
        return [p for f, v in zip(value._fields, value)
                for p in leaves_with_paths(v, f"{path}.{f}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in leaves_with_paths(v, f"{path}[{i}]")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value)
                for p in leaves_with_paths(getattr(value, f.name), f"{path}.{f.name}")]
    return [(path, value)]


def assert_same_structure(got: Any, like: Any, path: str = "grad") -> None:
    """`got` has exactly the structure of `like`: container types, keys and their order,
    lengths, None where None; each leaf a float for a float, an array of the same shape
    and dtype for an array."""
    if like is None:
        assert got is None, f"{path}: expected None, got {type(got).__name__}"
        return
    if isinstance(like, (dict, list, tuple)) or dataclasses.is_dataclass(like):
        assert type(got) is type(like), \
            f"{path}: expected {type(like).__name__}, got {type(got).__name__}"
    if isinstance(like, dict):
        assert list(got) == list(like), f"{path}: keys {list(got)} != {list(like)}"
        for k in like:
            assert_same_structure(got[k], like[k], f"{path}[{k!r}]")
    elif isinstance(like, (list, tuple)):
        assert len(got) == len(like), f"{path}: length {len(got)} != {len(like)}"
        for i, (g, v) in enumerate(zip(got, like)):
            assert_same_structure(g, v, f"{path}[{i}]")
    elif dataclasses.is_dataclass(like):
        for f in dataclasses.fields(like):
            assert_same_structure(getattr(got, f.name), getattr(like, f.name),
                                  f"{path}.{f.name}")
    elif isinstance(like, np.ndarray):
        assert isinstance(got, np.ndarray), f"{path}: expected an array, got {type(got)}"
        assert got.shape == like.shape, f"{path}: shape {got.shape} != {like.shape}"
        assert got.dtype == like.dtype, f"{path}: dtype {got.dtype} != {like.dtype}"
    elif isinstance(like, np.generic):
        assert type(got) is type(like), \
            f"{path}: expected {type(like).__name__}, got {type(got).__name__}"
    elif isinstance(like, float):
        assert isinstance(got, float) and not isinstance(got, np.ndarray), \
            f"{path}: expected a float, got {type(got).__name__}"
    else:
        raise AssertionError(f"{path}: unexpected leaf {like!r} in a differentiated argument")


def assert_same_values(got: Any, expected: Any, rtol: float, atol: float) -> None:
    got_leaves = leaves_with_paths(got)
    expected_leaves = leaves_with_paths(expected)
    assert [p for p, _ in got_leaves] == [p for p, _ in expected_leaves]
    for (path, g), (_, e) in zip(got_leaves, expected_leaves):
        if e is None:
            assert g is None, path
            continue
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64),
                                   np.asarray(e, dtype=np.float64), rtol=rtol, atol=atol,
                                   err_msg=f"gradient{path}")


def assert_unchanged(before: Any, after: Any, path: str = "arg") -> None:
    """Deep equality of a call's arguments before and after: nothing was mutated."""
    assert type(before) is type(after), path
    if isinstance(before, dict):
        assert list(before) == list(after), path
        for k in before:
            assert_unchanged(before[k], after[k], f"{path}[{k!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), path
        for i, (b, a) in enumerate(zip(before, after)):
            assert_unchanged(b, a, f"{path}[{i}]")
    elif dataclasses.is_dataclass(before) and not isinstance(before, type):
        for f in dataclasses.fields(before):
            assert_unchanged(getattr(before, f.name), getattr(after, f.name),
                             f"{path}.{f.name}")
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and np.array_equal(before, after), \
            f"{path} was modified"
    else:
        assert before == after, f"{path} was modified"


# -- oracles ----------------------------------------------------------------------------

def _argnums(case) -> Tuple[int, ...]:
    return case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)


def _as_float64(value: Any) -> Any:
    """The same structure with float64 leaves (the oracle runs in float64)."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32:
        return value.astype(np.float64)
    if isinstance(value, dict):
        return {k: _as_float64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_float64(v) for v in value]
    if _is_namedtuple(value):
        return type(value)(*[_as_float64(v) for v in value])
    if isinstance(value, tuple):
        return tuple(_as_float64(v) for v in value)
    return value


def _scalar_of(case, fn):
    if not case.aux:
        return fn
    return lambda *args: fn(*args)[0]


def autograd_gradients(case, args) -> Tuple[Any, ...]:
    fn = _scalar_of(case, AUTOGRAD_CASES[case.name].get(AUTOGRAD))
    args = _as_float64(copy.deepcopy(args))
    return tuple(autograd.grad(fn, i)(*args) for i in _argnums(case))


def _replace_leaf(value: Any, path: List[Any], new: Any) -> Any:
    """`value` with the leaf at `path` (keys, indices, field names) replaced; the
    containers on the way are new, as a user's functional update would make them."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
        out[key] = _replace_leaf(value[key], rest, new)
        return out
    if _is_namedtuple(value):
        return value._replace(**{key: _replace_leaf(getattr(value, key), rest, new)})
    if isinstance(value, (list, tuple)):
        items = list(value)
        items[key] = _replace_leaf(value[key], rest, new)
        return type(value)(items)
    out = copy.copy(value)  # a dataclass: init=False fields too, frozen ones too
    object.__setattr__(out, key, _replace_leaf(getattr(value, key), rest, new))
    return out


def _leaf_keys(value: Any, path: Tuple = ()) -> List[Tuple[Tuple, Any]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_keys(v, path + (k,))]
    if _is_namedtuple(value):
        return [p for f, v in zip(value._fields, value) for p in _leaf_keys(v, path + (f,))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _leaf_keys(v, path + (i,))]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value)
                for p in _leaf_keys(getattr(value, f.name), path + (f.name,))]
    return [(path, value)]


def fd_gradient(fn: Callable, args: tuple, argnum: int, eps: float = 1e-6) -> Any:
    """Central differences, leaf by leaf and entry by entry, rebuilt in the argument's
    structure (None leaves stay None)."""
    args = list(_as_float64(copy.deepcopy(args)))
    result = args[argnum]
    for path, leaf in _leaf_keys(args[argnum]):
        if leaf is None:
            continue
        base = np.array(leaf, dtype=np.float64)
        grad = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                moved = base.copy()
                moved[index] += step
                new = float(moved) if isinstance(leaf, float) else moved
                trial = list(args)
                trial[argnum] = _replace_leaf(args[argnum], list(path), new)
                values.append(fn(*trial))
            grad[index] = (values[0] - values[1]) / (2 * eps)
        result = _replace_leaf(result, list(path),
                               float(grad) if isinstance(leaf, float) else grad)
    return result


_EXPECTED: dict = {}


def _fingerprint(args: Any) -> str:
    """A digest of every leaf's value and type: the same arguments give the same oracle."""
    digest = hashlib.sha1()
    for path, leaf in leaves_with_paths(args):
        digest.update(f"{path}:{type(leaf).__name__}:".encode())
        digest.update(leaf.tobytes() if isinstance(leaf, np.ndarray) else repr(leaf).encode())
    return digest.hexdigest()


def expected_gradients(case, args) -> Tuple[Any, ...]:
    """The oracle's gradients, computed once per case and argument values (the corpus
    runs each case through several transforms)."""
    key = (case.name, _fingerprint(args))
    if key not in _EXPECTED:
        if case.oracle == "autograd":
            _EXPECTED[key] = autograd_gradients(case, args)
        else:
            fn = _scalar_of(case, case.get(corpus_models))
            _EXPECTED[key] = tuple(fd_gradient(fn, args, i) for i in _argnums(case))
    return _EXPECTED[key]


def tolerances(case, args):
    if case.oracle == "fd":
        return 1e-5, 1e-6
    if any(getattr(leaf, "dtype", None) == np.float32 for _, leaf in leaves_with_paths(args)):
        return 2e-4, 1e-5
    return 1e-6, 1e-10


def check(case, args, grads) -> None:
    """`grads` (one per argnum, or the single gradient) against the oracle."""
    single = not isinstance(case.argnums, tuple)
    got = (grads,) if single else grads
    if not single:
        assert isinstance(grads, tuple) and len(grads) == len(case.argnums)
    rtol, atol = tolerances(case, args)
    for g, e, i in zip(got, expected_gradients(case, args), _argnums(case)):
        assert_same_structure(g, args[i])
        assert_same_values(g, e, rtol, atol)


# -- the tests --------------------------------------------------------------------------

@pytest.mark.parametrize("case", _params(PLAIN, "grad"))
def test_grad_matches_the_oracle(case):
    args = case.args()
    before = copy.deepcopy(args)
    grads = s2sad.grad(case.get(corpus_models), argnums=case.argnums)(*args)
    assert_unchanged(before, args)
    check(case, args, grads)


@pytest.mark.parametrize("case", _params(PLAIN, "value_and_grad"))
def test_value_and_grad_matches_the_oracle(case):
    args = case.args()
    fn = case.get(corpus_models)
    expected_value = fn(*copy.deepcopy(args))
    before = copy.deepcopy(args)
    value, grads = s2sad.value_and_grad(fn, argnums=case.argnums)(*args)
    assert_unchanged(before, args)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    check(case, args, grads)


@pytest.mark.parametrize("case", _params(PLAIN, "unoptimised"))
def test_unoptimised_gradient_matches_the_oracle(case):
    args = case.args()
    check(case, args, s2sad.grad(case.get(corpus_models), argnums=case.argnums,
                                 optimize=False)(*args))


@pytest.mark.parametrize("case", _params(PLAIN, "twice"))
def test_second_call_with_new_values(case):
    """The compiled gradient is reused for new values of the same structure."""
    args = case.args()
    df = s2sad.grad(case.get(corpus_models), argnums=case.argnums)
    df(*args)
    moved = tuple(_scaled(a, 1.1) if i in _argnums(case) else a for i, a in enumerate(args))
    check(case, moved, df(*moved))


def _scaled(value, factor):
    paths = _leaf_keys(value)
    for path, leaf in paths:
        if leaf is not None:
            value = _replace_leaf(value, list(path), leaf * factor if not isinstance(
                leaf, np.ndarray) else (leaf * factor).astype(leaf.dtype))
    return value


def _aux_equal(got, expected, path="aux"):
    assert type(got) is type(expected), f"{path}: {type(got)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), path
        for k in expected:
            _aux_equal(got[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected)):
            _aux_equal(g, e, f"{path}[{i}]")
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=path)
        assert np.shape(got) == np.shape(expected), path


@pytest.mark.parametrize("case", _params(AUX, "has_aux"))
def test_has_aux_follows_jax(case):
    """grad(has_aux=True) -> (grad, aux); value_and_grad -> ((value, aux), grad)."""
    args = case.args()
    fn = case.get(corpus_models)
    value, aux = fn(*copy.deepcopy(args))
    before = copy.deepcopy(args)
    grads, got_aux = s2sad.grad(fn, argnums=case.argnums, has_aux=True)(*args)
    check(case, args, grads)
    _aux_equal(got_aux, aux)
    (got_value, got_aux), grads = s2sad.value_and_grad(fn, argnums=case.argnums,
                                                        has_aux=True)(*args)
    np.testing.assert_allclose(got_value, value, rtol=1e-12)
    _aux_equal(got_aux, aux)
    check(case, args, grads)
    assert_unchanged(before, args)


def test_aux_without_has_aux_is_refused():
    """A loss returning (loss, metrics) without has_aux=True: refused, not a wrong answer."""
    args = corpus_models.softmax_args()
    with pytest.raises(s2sad.S2SADError):
        s2sad.grad(corpus_models.loss_with_metrics)(*args)


def test_aux_without_has_aux_points_to_has_aux():
    args = corpus_models.softmax_args()
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(corpus_models.loss_with_metrics)(*args)
    assert "has_aux" in str(info.value)
    assert "3 values" not in str(info.value)


def test_layers_of_another_depth_compile_again():
    """One grad object, called with two layers and then three: each structure right."""
    df = s2sad.grad(corpus_models.mlp_layers_range_len)
    for builder in (corpus_models.layers_args, corpus_models.layers3_args,
                    corpus_models.layers_args):
        args = builder()
        check(CASES_BY_NAME["mlp_layers_range_len"], args, df(*args))


def test_configs_choose_branches_per_call():
    """One grad object, a relu config then a tanh one: the string is read per call."""
    df = s2sad.grad(corpus_models.configured_mlp)
    for name in ("configured_mlp_relu", "configured_mlp_tanh", "configured_mlp_relu"):
        case = CASES_BY_NAME[name]
        args = case.args()
        check(case, args, df(*args))


def test_generator_expression_is_right_or_refused():
    """sum(np.sum(w ** 2) for w in params.values()) is issue 17: until then a refusal,
    never a wrong gradient or a crash."""
    case = CASES_BY_NAME["mlp_l2_genexpr"]
    args = case.args()
    try:
        grads = s2sad.grad(corpus_models.mlp_l2_genexpr)(*args)
    except s2sad.S2SADError as error:
        assert error.lineno is not None
        return
    check(case, args, grads)


def test_dict_mlp_source_is_one_local_per_leaf():
    df = s2sad.grad(corpus_models.mlp_mse)
    df(*corpus_models.mlp_dict_args())
    text = df.source
    for leaf in ("W1", "b1", "W2", "b2"):
        assert f"params_{leaf}" in text and f"dparams_{leaf}" in text
    body = text.split("def grad_mlp_mse(", 1)[1].split("\ndef ", 1)[0]
    code = [line for line in body.splitlines() if not line.strip().startswith("#")]
    assert not any("params[" in line for line in code)  # one plain local per leaf
    assert "dparams_W1 = x.T @ " in text


def test_nested_dict_mlp_source_reads_like_the_lecture():
    """A dict of layers walked by .items() in a helper: each leaf one local, each weight's
    adjoint the lecture's dW = X.T @ dZ, the dict of gradients built once at the end."""
    df = s2sad.grad(corpus_models.nested_dict_mlp)
    df(*corpus_models.nested_dict_args())
    flat, entry = df.source.split("\ndef grad_nested_dict_mlp_of_structures(", 1)
    for layer in ("hidden1", "hidden2", "out"):
        assert f"params_{layer}_W" in flat
        assert re.search(rf"dparams_{layer}_W = \w+\.T @ \w+", flat), layer
    assert "params[" not in "\n".join(
        line for line in flat.splitlines() if not line.strip().startswith("#"))
    assert entry.count("return ") == 1 and entry.count("{'W': dparams_") == 3


CASES_BY_NAME = {c.name: c for c in CASES}


# -- refusals ---------------------------------------------------------------------------

def _line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset, line
    raise AssertionError(text)


def _deep_nested_with_int():
    params, x, y = corpus_models.deep_nested_args()
    params["encoder"]["layers"][1]["n"] = 3
    return params, x, y


@pytest.mark.parametrize("fn, args, path", [
    (corpus_models.int_leaf_loss, lambda: ({"W": np.ones(3), "n": 3}, np.ones(3)),
     "params['n']"),
    (corpus_models.string_leaf_loss,
     lambda: ({"W": np.ones((3, 2)), "act": "tanh"}, np.ones((4, 3))), "params['act']"),
    (corpus_models.int_field_loss,
     lambda: (corpus_models.LinearState(np.arange(3), 0.5), np.ones((4, 3)), np.ones(4)),
     "state.weights"),
    (corpus_models.mutable_dataclass_loss,
     lambda: (corpus_models.LinearState(np.ones(3), True), np.ones((4, 3)), np.ones(4)),
     "state.bias"),
    (corpus_models.mlp_layers_range_len,
     lambda: ([(np.ones((3, 2)), np.arange(2))], np.ones((4, 3)), np.ones((4, 2))),
     "layers[0][1]"),
    (corpus_models.deep_nested, _deep_nested_with_int,
     "params['encoder']['layers'][1]['n']"),
    (corpus_models.namedtuple_layers,
     lambda: ([corpus_models.Layer(np.ones((3, 2)), np.arange(2))], np.ones((4, 3)),
              np.ones((4, 2))), "layers[0].b"),
    (corpus_models.mlp_mse,
     lambda: (dict(corpus_models.mlp_dict_args()[0], b1=np.ones(4, complex)),
              *corpus_models.mlp_dict_args()[1:]), "params['b1']"),
], ids=["int-in-dict", "string-in-dict", "int-array-in-dataclass", "bool-in-dataclass",
        "int-array-in-list", "int-deep-in-nested", "int-array-in-namedtuple-in-list",
        "complex-array"])
def test_non_float_leaf_is_refused_by_path(fn, args, path):
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(fn)(*args())
    assert path in str(info.value)


def test_assigning_an_attribute_of_self_is_refused_at_its_line():
    model = corpus_models.LoggingModel()
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(model.loss)(*corpus_models.dense_args())
    line, source = _line_of(corpus_models.LoggingModel.loss, "self.last_loss = value")
    assert info.value.lineno == line
    assert model.last_loss is None


@pytest.mark.parametrize("fn, args, text", [
    (corpus_models.missing_key_loss,
     lambda: ({"W1": np.ones((3, 2)), "W2": np.ones((2, 1))}, np.ones((4, 3))),
     'params["W3"]'),
    (corpus_models.missing_field_loss,
     lambda: (corpus_models.Params(np.ones((3, 2)), np.ones(2)), np.ones((4, 3)),
              np.ones((4, 2))), "params.bias"),
    (corpus_models.missing_config_attribute,
     lambda: ({"W": np.ones((3, 2))}, np.ones((4, 3)), corpus_models.TrainConfig()),
     "cfg.momentum"),
    (corpus_models.layer_index_out_of_range,
     lambda: ([(np.ones((3, 2)), np.ones(2))], np.ones((4, 3))), "layers[5]"),
    (corpus_models.unpack_wrong_count,
     lambda: ((np.ones((3, 2)), np.ones(2)), np.ones((4, 3))), "W, b, c"),
], ids=["missing-key", "missing-field", "missing-config-attribute", "index-out-of-range",
        "unpack-count"])
def test_missing_key_or_field_points_at_the_line(fn, args, text):
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(fn)(*args())
    line, source = _line_of(fn, text)
    error = info.value
    assert error.lineno == line
    assert error.col == source.index(text)
    rendered = str(error)
    assert source.rstrip() in rendered and "^" in rendered


# -- the other transforms on the same corpus --------------------------------------------

SINGLE = [c for c in PLAIN if not isinstance(c.argnums, tuple)]


def _tangent_like(value: Any, seed: int = 5) -> Any:
    """A direction of the structure of `value`: floats for floats, arrays of the same
    shape and dtype for arrays, None for None."""
    rng = np.random.default_rng(seed)
    out = value
    for path, leaf in _leaf_keys(value):
        if leaf is None:
            continue
        if isinstance(leaf, np.ndarray):
            new = rng.normal(size=leaf.shape).astype(leaf.dtype)
        else:
            new = float(rng.normal())
        out = _replace_leaf(out, list(path), new)
    return out


def _dot(a: Any, b: Any) -> float:
    return sum(float(np.sum(np.asarray(x, dtype=np.float64) * np.asarray(y, dtype=np.float64)))
               for (_, x), (_, y) in zip(leaves_with_paths(a), leaves_with_paths(b))
               if x is not None)


@pytest.mark.parametrize("case", _params(SINGLE, "vjp"))
def test_vjp_pullback_of_one_is_the_gradient(case):
    args = case.args()
    before = copy.deepcopy(args)
    value, pullback = s2sad.vjp(case.get(corpus_models), argnums=case.argnums)(*args)
    np.testing.assert_allclose(value, case.get(corpus_models)(*copy.deepcopy(args)),
                               rtol=1e-12)
    check(case, args, pullback(1.0))
    assert_unchanged(before, args)


@pytest.mark.parametrize("case", _params(SINGLE, "jvp"))
def test_jvp_along_a_structured_tangent(case):
    """The tangent has the argument's structure; the directional derivative is the
    oracle gradient's inner product with it."""
    args = case.args()
    before = copy.deepcopy(args)
    tangent = _tangent_like(args[case.argnums])
    value, derivative = s2sad.jvp(case.get(corpus_models), argnums=case.argnums)(
        *args, tangent)
    expected = _dot(expected_gradients(case, args)[0], tangent)
    rtol, atol = tolerances(case, args)
    np.testing.assert_allclose(derivative, expected, rtol=max(rtol, 1e-6), atol=atol)
    assert_unchanged(before, args)


@pytest.mark.parametrize("case", _params(SINGLE, "check_grad"))
def test_check_grad_accepts_the_corpus(case):
    args = case.args()
    if any(getattr(leaf, "dtype", None) == np.float32 for _, leaf in leaves_with_paths(args)):
        pytest.skip("central differences in float32 are too coarse for check_grad")
    assert s2sad.check_grad(case.get(corpus_models), *args, argnums=case.argnums)


HVP = [c for c in SINGLE if c.oracle == "autograd" and c.name in (
    "logistic_regression_loss", "mlp_mse", "nested_dict_mlp", "softmax_cross_entropy",
    "gaussian_nll", "jax_tutorial_loss", "mlp_layers_enumerate", "linear_regression_tuple",
    "two_layer_tuple", "rnn_loss", "deep_nested", "vae_kl")]


@pytest.mark.parametrize("case", _params(HVP, "hvp"))
def test_hvp_of_a_structure(case):
    """Hessian-vector product along a direction of the argument's structure, against
    autograd's (the gradient of <grad f, v>)."""
    args = case.args()
    v = _tangent_like(args[case.argnums], seed=7)
    got = s2sad.hvp(case.get(corpus_models), argnums=case.argnums)(*args, v)
    fn = AUTOGRAD_CASES[case.name].get(AUTOGRAD)
    first = autograd.grad(fn, case.argnums)

    def along(*a):
        g = first(*a)
        total = 0.0
        for path, direction in _leaf_keys(v):
            part = g
            for key in path:  # autograd's boxes of dicts and lists are indexed like them
                part = part[key]
            total = total + AUTOGRAD.np.sum(part * direction)
        return total

    expected = autograd.grad(along, case.argnums)(*copy.deepcopy(args))
    assert_same_structure(got, args[case.argnums], "hvp")
    assert_same_values(got, expected, 1e-6, 1e-10)


# -- calling conventions ----------------------------------------------------------------

def test_structured_argument_passed_by_keyword():
    """grad(loss)(params=..., x=..., y=...) and the data by keyword: the same gradient."""
    case = CASES_BY_NAME["mlp_mse"]
    params, x, y = case.args()
    df = s2sad.grad(corpus_models.mlp_mse)
    for call in (lambda: df(params, x=x, y=y), lambda: df(params=params, x=x, y=y),
                 lambda: df(y=y, x=x, params=params)):
        check(case, (params, x, y), call())


def test_has_aux_with_two_structured_arguments():
    """argnums=(0, 1) with has_aux: a tuple of gradients, each in its argument's structure."""
    enc, dec, x = corpus_models.encoder_decoder_args()

    def loss(enc, dec, x):
        z = np.tanh(x @ enc["W"] + enc["b"])
        recon = z @ dec["W"] + dec["b"]
        return np.mean((recon - x) ** 2), {"code": z}

    (value, aux), (genc, gdec) = s2sad.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
        enc, dec, x)
    expected_value, expected_aux = loss(enc, dec, x)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    _aux_equal(aux, expected_aux)
    case = CASES_BY_NAME["encoder_decoder_loss"]
    check(case, (enc, dec, x), (genc, gdec))


@pytest.mark.parametrize("case", _params(AUX, "vjp_has_aux"))
def test_vjp_and_jvp_with_has_aux(case):
    """JAX: vjp(f, has_aux=True) -> (value, pullback, aux); jvp -> (value, tangent, aux)."""
    args = case.args()
    fn = case.get(corpus_models)
    value, aux = fn(*copy.deepcopy(args))
    got_value, pullback, got_aux = s2sad.vjp(fn, argnums=case.argnums, has_aux=True)(*args)
    np.testing.assert_allclose(got_value, value, rtol=1e-12)
    _aux_equal(got_aux, aux)
    check(case, args, pullback(1.0))
    tangent = _tangent_like(args[case.argnums])
    got_value, derivative, got_aux = s2sad.jvp(fn, argnums=case.argnums, has_aux=True)(
        *args, tangent)
    np.testing.assert_allclose(got_value, value, rtol=1e-12)
    _aux_equal(got_aux, aux)
    np.testing.assert_allclose(derivative, _dot(expected_gradients(case, args)[0], tangent),
                               rtol=1e-6)


# -- jacobian, hessian and jit on structures ----------------------------------------------

def _contract(block: Any, direction: Any) -> Any:
    """A Hessian block (shape of row leaf + shape of column leaf) applied to a direction
    of the column leaf."""
    d = np.asarray(direction, dtype=np.float64)
    return np.tensordot(np.asarray(block, dtype=np.float64), d, axes=d.ndim)


@pytest.mark.parametrize("name", ["gaussian_nll", "vae_kl", "logistic_regression_loss",
                                  "linear_regression_tuple"])
def test_hessian_of_a_structure_applied_to_a_direction(name):
    """H[i][j] has the shape of leaf i followed by leaf j (JAX's nesting); H applied to
    a direction equals autograd's Hessian-vector product."""
    case = CASES_BY_NAME[name]
    args = case.args()
    H = s2sad.hessian(case.get(corpus_models))(*args)
    v = _tangent_like(args[0], seed=11)
    paths = _leaf_keys(args[0])
    fn = AUTOGRAD_CASES[name].get(AUTOGRAD)
    first = autograd.grad(fn)

    def along(*a):
        g = first(*a)
        total = 0.0
        for path, direction in paths:
            part = g
            for key in path:
                part = part[key]
            total = total + AUTOGRAD.np.sum(part * _get(v, path))
        return total

    expected = autograd.grad(along)(*copy.deepcopy(args))
    for row, leaf in paths:
        block_row = _get(H, row)
        applied = sum(_contract(_get(block_row, column), _get(v, column))
                      for column, _ in paths)
        np.testing.assert_allclose(applied, _get(expected, row), rtol=1e-6, atol=1e-10)
        for column, other in paths:
            assert np.shape(_get(block_row, column)) == np.shape(leaf) + np.shape(other)


def _get(value: Any, path: Tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def layer_output(params, x):
    """A vector-valued function of a dict and a list (for jacobian)."""
    h = np.tanh(x @ params["W"] + params["b"])
    return h * params["scales"][0] + params["scales"][1]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_a_structure(mode):
    params = {"W": _normal_array(1, (3, 2)), "b": _normal_array(2, (2,)),
              "scales": [_normal_array(3, (2,)), 0.5]}
    x = _normal_array(4, (3,))
    J = s2sad.jacobian(layer_output, mode=mode)(params, x)
    assert type(J) is dict and list(J) == ["W", "b", "scales"]
    assert type(J["scales"]) is list and len(J["scales"]) == 2
    for path, leaf in _leaf_keys(params):
        def of_leaf(value, path=path):
            return layer_output(_replace_leaf(params, list(path), value), x)
        expected = np.zeros((2,) + np.shape(leaf))
        base = np.array(leaf, dtype=np.float64)
        for index in np.ndindex(base.shape):
            up, down = base.copy(), base.copy()
            up[index] += 1e-6
            down[index] -= 1e-6
            as_leaf = (lambda a: float(a)) if isinstance(leaf, float) else (lambda a: a)
            expected[(slice(None),) + index] = (of_leaf(as_leaf(up)) -
                                                of_leaf(as_leaf(down))) / 2e-6
        got = _get(J, path)
        assert np.shape(got) == expected.shape, path
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-8)


def _normal_array(seed, shape):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("name", ["mlp_mse", "namedtuple_linear", "jax_tutorial_loss",
                                  "frozen_dataclass_loss", "gaussian_nll"])
def test_jit_on_structures(name):
    """jit=True takes structured arguments (running the code as Python, with the usual
    warning, where Numba cannot take it): the same gradient, in the same structure."""
    case = CASES_BY_NAME[name]
    args = case.args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitFallback)
        grads = s2sad.grad(case.get(corpus_models), jit=True)(*args)
    check(case, args, grads)


# -- the checks themselves can fail ------------------------------------------------------

@pytest.mark.parametrize("got, like", [
    ((np.ones(2), np.ones(1)), [np.ones(2), np.ones(1)]),            # tuple for a list
    ({"b": np.ones(1), "W": np.ones(2)}, {"W": np.ones(2), "b": np.ones(1)}),  # key order
    ({"W": np.ones(2, np.float64)}, {"W": np.ones(2, np.float32)}),  # dtype
    ({"W": np.ones((2, 1))}, {"W": np.ones(2)}),                      # shape
    ({"a": np.array(1.0)}, {"a": 1.0}),                               # 0-d array for a float
    ({"a": np.float64(1.0)}, {"a": np.float32(1.0)}),                 # scalar type
    ({"a": np.zeros(2)}, {"a": None}),                                # None kept
    ((1.0, 2.0), corpus_models.Params(1.0, 2.0)),                     # namedtuple type
    ({"W": np.ones(2)}, corpus_models.DenseParams(np.ones(2))),       # dataclass type
])
def test_structure_check_rejects(got, like):
    with pytest.raises(AssertionError):
        assert_same_structure(got, like)


def test_mutation_check_rejects_a_changed_leaf():
    before = {"W": np.ones(2), "layers": [(np.ones(1), 0.5)]}
    after = copy.deepcopy(before)
    after["layers"][0][0][0] = 2.0
    with pytest.raises(AssertionError):
        assert_unchanged(before, after)


def test_key_order_and_leaf_kinds_follow_each_call():
    """One grad object: the gradient's keys come in each call's order, and a leaf that
    is a float in one call and an array in the next comes back as each was."""
    case = CASES_BY_NAME["mixed_scalar_leaves"]
    df = s2sad.grad(corpus_models.mixed_scalar_leaves)
    params, x = case.args()
    reordered = {k: params[k] for k in reversed(list(params))}
    as_arrays = {k: np.array(v) if isinstance(v, float) else v  # 0-d arrays
                 for k, v in params.items()}
    for args in ((params, x), (reordered, x), (as_arrays, x), (params, x)):
        check(case, args, df(*args))


def test_decorator_and_wrt_by_name_take_structures():
    @s2sad.grad(wrt="params")
    def dloss(params, x, y):
        return np.mean((corpus_models.predict(params, x) - y) ** 2)

    case = CASES_BY_NAME["mlp_mse"]
    args = case.args()
    check(case, args, dloss(*args))


@pytest.mark.parametrize("fn, container", [
    (corpus_models.loss_filling_metrics, dict), (corpus_models.loss_logging, list)])
def test_side_effects_on_an_argument_are_kept_or_refused(fn, container):
    """A function that writes into an argument it is given: the gradient either does
    what Python does (the caller sees the write) or refuses (pointing to has_aux);
    never a gradient with the write silently dropped."""
    params, x, y = corpus_models.mlp_dict_args()
    sink = container()
    try:
        s2sad.grad(fn)(params, x, y, sink)
    except s2sad.S2SADError:
        return
    assert len(sink) > 0, "the write into the argument was dropped"


def test_tangent_of_another_structure_is_refused():
    params, x, y = corpus_models.mlp_dict_args()
    for tangent in ({"W1": params["W1"]}, list(params.values()),
                    dict(params, extra=np.ones(2))):
        with pytest.raises(s2sad.ArgumentError) as info:
            s2sad.jvp(corpus_models.mlp_mse)(params, x, y, tangent)
        assert "params" in str(info.value)


def test_tangent_leaf_of_the_wrong_shape_is_named_by_its_path():
    params, x, y = corpus_models.mlp_dict_args()
    tangent = dict(params, W1=np.ones(3))
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.jvp(corpus_models.mlp_mse)(params, x, y, tangent)
    assert "params['W1']" in str(info.value)


# -- random nestings ----------------------------------------------------------------------

from collections import namedtuple  # noqa: E402

from hypothesis import given, strategies as st  # noqa: E402

Pair = namedtuple("Pair", ["first", "second"])


@dataclasses.dataclass
class Box:
    left: Any
    right: Any = None


@dataclasses.dataclass(frozen=True)
class FrozenBox:
    left: Any
    right: Any = None


_leaf = st.one_of(
    st.floats(-2.0, 2.0).map(float),
    st.tuples(st.integers(1, 3), st.integers(0, 2)).map(
        lambda s: np.linspace(-1.0, 1.0, s[0] * max(s[1], 1)).reshape(
            (s[0], s[1]) if s[1] else (s[0],))),
    st.just(None))


def _nest(children):
    return st.one_of(
        st.dictionaries(st.sampled_from(["W", "b", "layer1", "out", "gamma"]), children,
                        min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
        st.tuples(children, children).map(lambda t: Pair(*t)),
        st.tuples(children, children).map(lambda t: Box(*t)),
        st.tuples(children, children).map(lambda t: FrozenBox(*t)))


def _reads(value: Any, text: str = "p") -> List[str]:
    """The expression reading each non-None leaf, as a user would spell it."""
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _reads(v, f"{text}[{k!r}]")]
    if _is_namedtuple(value):
        return [r for f, v in zip(value._fields, value) for r in _reads(v, f"{text}.{f}")]
    if isinstance(value, (list, tuple)):
        return [r for i, v in enumerate(value) for r in _reads(v, f"{text}[{i}]")]
    if dataclasses.is_dataclass(value):
        return [r for f in dataclasses.fields(value)
                for r in _reads(getattr(value, f.name), f"{text}.{f.name}")]
    return [] if value is None else [text]


@given(st.recursive(_leaf, _nest, max_leaves=8))
def test_random_nesting_has_its_gradient_in_its_structure(tmp_path_factory, structure):
    """f(p) = sum over leaves of (k+1) * sum(sin(leaf_k)), read by subscripts and
    attributes; the gradient is (k+1) * cos(leaf_k) in exactly p's structure."""
    reads = _reads(structure)
    if not reads:
        return
    body = " + ".join(f"{k + 1}.0 * np.sum(np.sin({r}))" for k, r in enumerate(reads))
    folder = tmp_path_factory.mktemp("nesting")
    name = f"nesting_{abs(hash(body))}"
    (folder / f"{name}.py").write_text(f"import numpy as np\n\n\ndef f(p):\n"
                                       f"    return {body}\n")
    sys.path.insert(0, str(folder))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(folder))
    before = copy.deepcopy(structure)
    got = s2sad.grad(module.f)(structure)
    assert_unchanged(before, structure)
    assert_same_structure(got, structure)
    expected = structure
    leaves = [(path, leaf) for path, leaf in _leaf_keys(structure) if leaf is not None]
    for k, (path, leaf) in enumerate(leaves):
        value = (k + 1) * np.cos(leaf)
        expected = _replace_leaf(expected, list(path),
                                 float(value) if isinstance(leaf, float) else value)
    assert_same_values(got, expected, 1e-12, 1e-12)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES
                                  if c.name in KNOWN])
def test_known_cases_are_right_or_refused_at_a_line(case):
    """What fails today fails honestly: an S2SADError pointing into the corpus source
    with a caret, never a crash or a wrong gradient (and once fixed, the right one)."""
    args = case.args()
    fn = case.get(corpus_models)
    try:
        result = s2sad.grad(fn, argnums=case.argnums, has_aux=case.aux)(*args)
    except TypeError:  # (a case calling SciPy's logsumexp, without SciPy)
        if corpus_models.scipy_logsumexp is None:
            pytest.skip("SciPy is not installed")
        raise
    except s2sad.S2SADError as error:
        assert error.filename == corpus_models.__file__, str(error)
        assert error.lineno is not None and "^" in str(error)
        return
    check(case, args, result[0] if case.aux else result)


def test_differentiating_a_plain_object_is_refused_naming_it():
    """A model object that is not a dataclass, as the differentiated argument (PyTorch
    habit): refused naming the argument and its class, not differentiated field by guess."""
    model = corpus_models.LinearModel(l2=0.1)
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(corpus_models.LinearModel.loss)(model, *corpus_models.linear_model_args())
    assert "self" in str(info.value) and "LinearModel" in str(info.value)


def test_jvp_of_a_function_returning_a_dict():
    """The tangent of a dict output is a dict of the same keys, each the directional
    derivative of that entry (against central differences along the tangent)."""
    params, x, _ = corpus_models.mlp_dict_args()
    tangent = _tangent_like(params, seed=13)
    value, derivative = s2sad.jvp(corpus_models.forward_outputs)(params, x, tangent)
    expected_value = corpus_models.forward_outputs(params, x)
    assert type(derivative) is dict and list(derivative) == list(expected_value)
    step = 1e-6
    ahead = corpus_models.forward_outputs({k: v + step * tangent[k] for k, v in params.items()}, x)
    behind = corpus_models.forward_outputs({k: v - step * tangent[k] for k, v in params.items()},
                                           x)
    for key in expected_value:
        np.testing.assert_allclose(value[key], expected_value[key], rtol=1e-12)
        assert np.shape(derivative[key]) == np.shape(expected_value[key])
        np.testing.assert_allclose(derivative[key], (ahead[key] - behind[key]) / (2 * step),
                                   rtol=1e-6, atol=1e-9)


def test_float32_structures_stay_float32_in_every_transform():
    params, x, y = corpus_models.mlp32_args()
    direction = _tangent_like(params)
    value, grads = s2sad.value_and_grad(corpus_models.mlp_mse)(params, x, y)
    assert np.asarray(value).dtype == np.float32
    assert_same_structure(grads, params)
    assert_same_structure(s2sad.hvp(corpus_models.mlp_mse)(params, x, y, direction), params)
    value, derivative = s2sad.jvp(corpus_models.mlp_mse)(params, x, y, direction)
    assert np.asarray(derivative).dtype == np.float32
    _, pullback = s2sad.vjp(corpus_models.mlp_mse)(params, x, y)
    assert_same_structure(pullback(np.float32(1.0)), params)
    kl_params = {k: v.astype(np.float32) for k, v in corpus_models.vae_args()[0].items()}
    H = s2sad.hessian(corpus_models.vae_kl)(kl_params)
    assert all(block.dtype == np.float32 for row in H.values() for block in row.values())
