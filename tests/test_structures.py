"""Structured arguments (pytrees): pytree.py's description, desugar.py's rewriting,
and every transform end to end, against autograd and central differences."""
import dataclasses
from collections import namedtuple

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from s2sad import pytree
from s2sad.errors import ArgumentError, S2SADError, UnsupportedSyntaxError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 2))
PARAMS = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4),
          "W2": RNG.normal(size=(4, 2)), "b2": RNG.normal(size=2)}
LAYERS = [(PARAMS["W1"], PARAMS["b1"]), (PARAMS["W2"], PARAMS["b2"])]
Layer = namedtuple("Layer", "W b")


@dataclasses.dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray


@dataclasses.dataclass(frozen=True)
class Config:
    scale: float
    act: str
    n_layers: int


# -- pytree ------------------------------------------------------------------------

def test_a_dict_of_arrays_is_described_flattened_and_rebuilt_in_its_key_order():
    value = {"b": np.ones(2), "a": 3.0, "none": None}
    tree = pytree.describe(value, True, "p")
    assert tree.keys == ("b", "a", "none") and tree.leaf_count() == 2
    leaves = pytree.leaves(value, tree)
    assert leaves[0] is value["b"] and leaves[1] == 3.0
    rebuilt = pytree.rebuild(tree, [np.zeros(2), 1.0], value)
    assert list(rebuilt) == ["b", "a", "none"] and rebuilt["none"] is None
    assert rebuilt["a"] == 1.0


def test_trees_compare_by_structure_and_constants_not_by_leaf_values():
    one = pytree.describe({"W": np.ones(2), "act": "tanh"}, False, "c")
    two = pytree.describe({"W": np.zeros((3, 3)), "act": "tanh"}, False, "c")
    other = pytree.describe({"W": np.ones(2), "act": "relu"}, False, "c")
    assert one == two and hash(one) == hash(two)
    assert one != other


def test_leaf_names_are_readable_and_distinct():
    tree = pytree.describe({"W 1": 1.0, "W_1": 2.0, "layers": [(1.0, 2.0)]}, True, "p")
    names = pytree.leaf_names("params", tree, {"params"})
    assert names == ["params_W_1", "params_W_1_1", "params_layers_0_0", "params_layers_0_1"]


@pytest.mark.parametrize("value, path, words", [
    ({"n": 3}, "params['n']", "integer"),
    ({"flag": True}, "params['flag']", "bool"),
    ({"name": "mlp"}, "params['name']", "str"),
    ([np.ones(2), np.arange(3)], "params[1]", "int64"),
    (Layer(np.ones(2), 2), "params.b", "integer"),
])
def test_non_float_leaves_of_a_differentiated_structure_are_refused_by_path(value, path, words):
    def loss(params):
        return 1.0
    with pytest.raises(ArgumentError) as info:
        s2sad.grad(loss)(value)
    message = str(info.value)
    assert path in message and words in message


# -- gradients of every kind of structure ------------------------------------------------

def mlp_dict(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def mlp_dict_autograd(params, X, y):
    h = anp.tanh(anp.dot(X, params["W1"]) + params["b1"])
    out = anp.dot(h, params["W2"]) + params["b2"]
    return anp.mean((out - y) ** 2)


def mlp_layers(layers, X, y):
    h = X
    for W, b in layers[:-1]:
        h = np.tanh(h @ W + b)
    W, b = layers[-1]
    return np.mean((h @ W + b - y) ** 2)


def mlp_layers_autograd(layers, X, y):
    h = X
    for W, b in layers[:-1]:
        h = anp.tanh(anp.dot(h, W) + b)
    W, b = layers[-1]
    return anp.mean((anp.dot(h, W) + b - y) ** 2)


def mlp_indexed(layers, X, y):
    h = X
    for i in range(len(layers)):
        if i < len(layers) - 1:
            h = np.tanh(h @ layers[i][0] + layers[i][1])
        else:
            h = h @ layers[i][0] + layers[i][1]
    return np.mean((h - y) ** 2)


def mlp_enumerate(layers, X, y):
    h = X
    for k, layer in enumerate(layers):
        W, b = layer
        h = h @ W + b
        if k + 1 < len(layers):
            h = np.tanh(h)
    return np.mean((h - y) ** 2)


def predict(params, X):
    return np.tanh(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]


def mlp_helper(params, X, y):
    residual = predict(params, X) - y
    return np.sum(residual ** 2) / len(y)


def weight_decay(params, X, y):
    penalty = sum(np.sum(W ** 2) for name, W in params.items() if name.startswith("W"))
    return mlp_dict(params, X, y) + 0.01 * penalty


def updated(params, X, y):
    new = {k: v * 0.9 for k, v in params.items()}
    new["b2"] = new["b2"] + 1.0
    return mlp_dict(new, X, y)


@pytest.mark.parametrize("f, oracle, args", [
    (mlp_dict, mlp_dict_autograd, (PARAMS, X, Y)),
    (mlp_layers, mlp_layers_autograd, (LAYERS, X, Y)),
    (mlp_indexed, mlp_layers_autograd, (LAYERS, X, Y)),
    (mlp_enumerate, mlp_layers_autograd, (LAYERS, X, Y)),
    (mlp_helper, lambda p, X, y: anp.sum((anp.dot(anp.tanh(anp.dot(X, p["W1"]) + p["b1"]),
                                                  p["W2"]) + p["b2"] - y) ** 2) / len(y),
     (PARAMS, X, Y)),
    (weight_decay, lambda p, X, y: mlp_dict_autograd(p, X, y) + 0.01 * (
        anp.sum(p["W1"] ** 2) + anp.sum(p["W2"] ** 2)), (PARAMS, X, Y)),
    (updated, lambda p, X, y: mlp_dict_autograd(
        {**{k: v * 0.9 for k, v in p.items()}, "b2": p["b2"] * 0.9 + 1.0}, X, y),
     (PARAMS, X, Y)),
], ids=["dict", "layers", "indexed", "enumerate", "helper", "weight_decay", "updated"])
def test_gradients_match_autograd_in_the_arguments_structure(f, oracle, args):
    before = {k: v.copy() for k, v in PARAMS.items()}
    expected = autograd.grad(oracle)(*args)
    value, got = s2sad.value_and_grad(f)(*args)
    assert value == pytest.approx(oracle(*args), rel=1e-12)
    _same_structure(got, expected)
    assert all(np.array_equal(PARAMS[k], before[k]) for k in PARAMS)  # not mutated


def _same_structure(got, expected):
    assert type(got) is type(expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for k in expected:
            _same_structure(got[k], expected[k])
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            _same_structure(a, b)
    else:
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def linear_record(model, X):
    return np.sum(np.tanh(X @ model.W + model.b) ** 2)


def configured(params, X, cfg):
    h = X
    for i in range(cfg.n_layers):
        h = h @ params[i].W + params[i].b
        if cfg.act == "tanh":
            h = np.tanh(h)
    return cfg.scale * np.sum(h ** 2)


@pytest.mark.parametrize("f, args", [
    (linear_record, (Layer(PARAMS["W1"], PARAMS["b1"]), X)),
    (linear_record, (Linear(PARAMS["W1"], PARAMS["b1"]), X)),
    (configured, ([Layer(PARAMS["W1"], PARAMS["b1"]), Layer(PARAMS["W2"], PARAMS["b2"])], X,
                  Config(0.5, "tanh", 2))),
    (configured, ([Linear(PARAMS["W1"], PARAMS["b1"])], X, Config(2.0, "identity", 1))),
], ids=["namedtuple", "dataclass", "config_tanh", "config_identity"])
def test_records_keep_their_type_and_match_central_differences(f, args):
    assert s2sad.check_grad(f, *args)
    got = s2sad.grad(f)(*args)
    assert type(got) is type(args[0])
    if isinstance(got, list):
        assert all(type(g) is type(a) for g, a in zip(got, args[0]))


def test_float32_leaves_keep_their_dtype_and_python_floats_stay_floats():
    params = {"w": np.ones(3, dtype=np.float32), "s": 2.0}

    def loss(p):
        return np.sum(p["w"] ** 2) * p["s"]
    got = s2sad.grad(loss)(params)
    assert got["w"].dtype == np.float32 and type(got["s"]) is float
    assert got["s"] == pytest.approx(3.0)


def test_none_leaves_stay_none_and_a_second_structure_compiles_apart():
    def loss(p):
        total = np.sum(p["w"] ** 2)
        if p["b"] is not None:
            total = total + np.sum(p["b"])
        return total
    grad = s2sad.grad(loss)
    assert grad({"w": np.ones(2), "b": None})["b"] is None
    with_bias = grad({"w": np.ones(2), "b": np.ones(2)})
    np.testing.assert_array_equal(with_bias["b"], np.ones(2))


def test_wrt_a_tuple_of_structured_and_plain_arguments():
    def loss(params, scale):
        return scale * np.sum(params["a"] * params["b"])
    dparams, dscale = s2sad.grad(loss, wrt=(0, 1))({"a": np.ones(2), "b": np.arange(2.)}, 3.0)
    np.testing.assert_allclose(dparams["a"], 3 * np.arange(2.))
    assert dscale == pytest.approx(1.0)


def test_non_differentiated_structures_are_data():
    def loss(w, data):
        total = 0.0
        for x, y in data:
            total = total + np.sum((x @ w - y) ** 2)
        return total
    data = [(X, Y[:, 0]), (X * 2, Y[:, 1])]
    expected = autograd.grad(lambda w: sum(anp.sum((anp.dot(x, w) - y) ** 2)
                                           for x, y in data))(np.ones(3))
    np.testing.assert_allclose(s2sad.grad(loss)(np.ones(3), data), expected, rtol=1e-12)


def test_a_list_indexed_by_a_run_time_value_is_read_whole_when_not_differentiated():
    def loss(w, xs, k):
        return np.sum(w * xs[k])
    got = s2sad.grad(loss)(np.ones(2), [np.arange(2.), np.arange(2.) + 5], 1)
    np.testing.assert_allclose(got, [5.0, 6.0])


# -- every mode ------------------------------------------------------------------

def layer(params, x):
    return np.tanh(x @ params["W"] + params["b"])


def test_jvp_takes_a_tangent_of_the_arguments_structure():
    params = {"W": PARAMS["W1"], "b": PARAMS["b1"]}
    tangent = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}
    value, derivative = s2sad.jvp(layer)(params, X, tangent)
    eps = 1e-6
    plus = layer({k: params[k] + eps * tangent[k] for k in params}, X)
    minus = layer({k: params[k] - eps * tangent[k] for k in params}, X)
    np.testing.assert_allclose(derivative, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
    with pytest.raises(ArgumentError, match="structure"):
        s2sad.jvp(layer)(params, X, {"W": tangent["W"]})


def test_vjp_jacobian_and_hessian_give_structures_of_blocks():
    params = {"W": PARAMS["W1"], "b": PARAMS["b1"]}
    value, pullback = s2sad.vjp(layer)(params, X)
    cotangent = RNG.normal(size=value.shape)
    pulled = pullback(cotangent)
    jacobian = s2sad.jacobian(layer)(params, X)
    assert set(jacobian) == {"W", "b"} and jacobian["W"].shape == (5, 4, 3, 4)
    np.testing.assert_allclose(pulled["W"], np.tensordot(cotangent, jacobian["W"], 2),
                               rtol=1e-10, atol=1e-12)

    def loss(p, x):
        return np.sum(layer(p, x) ** 2)
    hessian = s2sad.hessian(loss)(params, X)
    assert hessian["W"]["b"].shape == (3, 4, 4) and hessian["b"]["W"].shape == (4, 3, 4)
    np.testing.assert_allclose(hessian["W"]["b"], np.moveaxis(hessian["b"]["W"], 0, -1),
                               rtol=1e-9, atol=1e-12)
    vector = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}
    product = s2sad.hvp(loss)(params, X, vector)
    expected_b = np.tensordot(hessian["b"]["W"], vector["W"], 2) + hessian["b"]["b"] @ vector["b"]
    np.testing.assert_allclose(product["b"], expected_b, rtol=1e-9, atol=1e-12)


# -- has_aux ---------------------------------------------------------------------------

def with_aux(params, X, y):
    out = predict(params, X)
    loss = np.mean((out - y) ** 2)
    return loss, {"predictions": out, "tag": "mse", "max": np.max(out)}


def test_has_aux_follows_jax_return_conventions():
    grads, aux = s2sad.grad(with_aux, has_aux=True)(PARAMS, X, Y)
    np.testing.assert_allclose(grads["W2"], s2sad.grad(mlp_helper)(PARAMS, X, Y)["W2"] / 2 * 2
                               * len(Y) / Y.size, rtol=1e-10)
    np.testing.assert_allclose(aux["predictions"], predict(PARAMS, X))
    assert aux["tag"] == "mse" and aux["max"] == pytest.approx(np.max(predict(PARAMS, X)))
    (value, aux2), grads2 = s2sad.value_and_grad(with_aux, has_aux=True)(PARAMS, X, Y)
    assert value == pytest.approx(with_aux(PARAMS, X, Y)[0])
    np.testing.assert_allclose(grads2["b1"], grads["b1"])
    out, tangent, aux3 = s2sad.jvp(lambda p: with_aux(p, X, Y), has_aux=True)(
        PARAMS, {k: np.ones_like(v) for k, v in PARAMS.items()})
    assert out == pytest.approx(value) and aux3["tag"] == "mse"
    assert tangent == pytest.approx(sum(np.sum(g) for g in grads.values()))
    out, pullback, aux4 = s2sad.vjp(with_aux, has_aux=True)(PARAMS, X, Y)
    np.testing.assert_allclose(pullback(1.0)["W1"], grads["W1"])


def test_has_aux_refuses_a_function_not_returning_a_pair():
    def single(x):
        return np.sum(x)
    with pytest.raises(S2SADError, match="pair") as info:
        s2sad.grad(single, has_aux=True)(np.ones(2))
    assert info.value.location.line == single.__code__.co_firstlineno + 1


# -- refusals --------------------------------------------------------------------------

def missing_key(params):
    return np.sum(params["W3"])


def run_time_index(layers, k):
    total = 0.0
    while k > 0:
        total = total + np.sum(layers[k])
        k = k - 1
    return total


def branch_structures(params, flag):
    if flag > 0:
        chosen = params["a"]
        pair = (params["a"], params["b"])
    else:
        pair = (params["b"],)
    return np.sum(pair[0])


@pytest.mark.parametrize("f, args, words, construct", [
    (missing_key, ({"W1": np.ones(2)},), "'W3' is not in this dict", 'params["W3"]'),
    (run_time_index, ([np.ones(2), np.ones(2)], 1), "known only at run time", "layers[k]"),
    (branch_structures, ({"a": np.ones(2), "b": np.ones(2)}, 1.0), "different structure",
     "if flag > 0:"),
])
def test_refusals_name_the_line_and_the_construct(f, args, words, construct):
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(*args)
    error = info.value
    assert words in str(error)
    assert construct in error.location.source_line
    assert error.location.source_line[error.location.col:].startswith(construct.split("[")[0])


# -- what .source shows --------------------------------------------------------------

def readme_predict(params, X):
    h = X
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def readme_loss(params, X, y):
    err = readme_predict(params, X) - y
    return np.mean(err ** 2), {"max_error": np.max(np.abs(err))}


def test_the_readme_shows_the_entry_that_runs():
    from pathlib import Path
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index("def value_and_grad_loss_of_structures")
    shown = readme[start:readme.index("```", start)]
    params = [(RNG.normal(size=(3, 8)), np.zeros(8)), (RNG.normal(size=(8, 1)), np.zeros(1))]
    step = s2sad.value_and_grad(readme_loss, has_aux=True)
    (value, aux), grads = step(params, X, Y[:, :1])
    source = step.source.replace("readme_loss", "loss")
    assert shown.strip() in source
    assert type(grads) is list and all(type(layer) is tuple for layer in grads)
    assert set(aux) == {"max_error"}
    # one local per leaf, the lecture's matrix adjoints, the structure rebuilt once
    assert "dparams_0_0" in source and ".T @ " in source
    assert source.count("[(dparams_0_0, dparams_0_1), (dparams_1_0, dparams_1_1)]") == 1


def test_grad_source_takes_structured_arguments():
    text = '''
def f(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)
'''
    grad = s2sad.grad_source(text, "f")
    params = {"W": PARAMS["W1"], "b": PARAMS["b1"]}
    expected = autograd.grad(lambda p: anp.sum(anp.tanh(anp.dot(X, p["W"]) + p["b"]) ** 2))(
        params)
    _same_structure(grad(params, X), expected)


def test_a_loop_over_a_dict_literals_items_is_unrolled():
    """(It used to be refused: tests/errcases_loops.py keeps the function.)"""
    import errcases_loops
    assert s2sad.grad(errcases_loops.for_over_dict_items)(1.5) == pytest.approx(2.0)
    assert s2sad.check_grad(errcases_loops.for_over_dict_items, 1.5)


def test_an_int_argument_indexing_a_structure_compiles_per_int():
    def depth_loss(layers, x, n):
        h = x
        for i in range(n):
            h = np.tanh(h @ layers[i])
        return np.sum(h)
    layers = [RNG.normal(size=(3, 3)) * 0.4 for _ in range(3)]
    x = RNG.normal(size=3)
    grad = s2sad.grad(depth_loss)
    assert np.all(grad(layers, x, 2)[2] == 0.0) and np.any(grad(layers, x, 3)[2] != 0.0)
    assert s2sad.check_grad(depth_loss, layers, x, 2)
    assert s2sad.check_grad(depth_loss, layers, x, 3)


NOT_A_FUNCTION = None


def calls_a_global_bound_to_none(x):
    return np.sum(x * 2) - np.sum(NOT_A_FUNCTION(x))


def test_a_call_of_a_global_that_is_not_a_function_is_refused():
    """(It was taken for a constant: the gradient ignored the term.)"""
    with pytest.raises(UnsupportedSyntaxError, match="'NOT_A_FUNCTION' is None, not a function"):
        s2sad.grad(calls_a_global_bound_to_none)(np.ones(2))
