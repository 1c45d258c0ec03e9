"""Model code as JAX and autograd users write it: structured parameters, configs, methods.

A held-out style corpus for structured arguments (issue 16). The functions below are
written the way tutorials and users write them, not the way s2sad's own tests do:
parameters in dicts (flat and nested), lists of `(W, b)` tuples, lists of dicts,
tuples, namedtuples and dataclasses; configs as dicts, namedtuples and dataclasses of
floats, ints, strings and bools; helpers taking `params`; methods of a model class;
losses returning auxiliary output. The functions use the module global `np`, so
test_models_corpus.py can load a second copy of this module with `np` set to
autograd.numpy, the oracle for dicts, lists and tuples.

`CASES` lists each function with a builder of its arguments (fixed seeds, small
shapes, so central differences over every entry stay cheap) and what to differentiate.
"""
from __future__ import annotations

import dataclasses
import functools
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np
import numpy  # the argument builders' own name: the autograd copy rebinds only `np`
try:
    from scipy.special import logsumexp as scipy_logsumexp
except ImportError:  # (SciPy is optional; the cases that call it are refused today anyway)
    scipy_logsumexp = None

_RNG = numpy.random.default_rng


def _normal(seed, *shape, scale=0.5, dtype=numpy.float64):
    return (_RNG(seed).normal(size=shape) * scale).astype(dtype)


# -- dicts of parameters -------------------------------------------------------------

def sigmoid(z):
    return 0.5 * (np.tanh(z / 2) + 1)


def logistic_regression_loss(params, X, y):
    """autograd's README example, with the weights in a dict."""
    logits = X @ params["w"] + params["b"]
    preds = sigmoid(logits)
    label_probabilities = preds * y + (1 - preds) * (1 - y)
    return -np.sum(np.log(label_probabilities))


def logreg_args():
    X = _normal(1, 8, 3)
    y = (_RNG(2).random(8) > 0.5).astype(float)
    return {"w": _normal(3, 3), "b": 0.1}, X, y


def predict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"]


def mlp_mse(params, x, y):
    pred = predict(params, x)
    return np.mean((pred - y) ** 2)


def mlp_dict_args(dtype=numpy.float64):
    params = {"W1": _normal(10, 3, 4, dtype=dtype), "b1": _normal(11, 4, dtype=dtype),
              "W2": _normal(12, 4, 2, dtype=dtype), "b2": _normal(13, 2, dtype=dtype)}
    return params, _normal(14, 5, 3, dtype=dtype), _normal(15, 5, 2, dtype=dtype)


def mlp32_args():
    return mlp_dict_args(numpy.float32)


def mlp_l2(params, x, y, l2=1e-2):
    """A data term plus weight decay over every parameter, by .items()."""
    loss = mlp_mse(params, x, y)
    reg = 0.0
    for name, W in params.items():
        if name.startswith("W"):
            reg = reg + np.sum(W ** 2)
    return loss + l2 * reg


def mlp_l2_genexpr(params, x, y):
    """The one-line spelling of weight decay (a generator expression: issue 17)."""
    data_loss = np.mean((predict(params, x) - y) ** 2)
    return data_loss + 1e-3 * sum(np.sum(w ** 2) for w in params.values())


def net_forward(params, x):
    for name, layer in params.items():
        x = x @ layer["W"] + layer["b"]
        if name != "out":
            x = np.tanh(x)
    return x


def nested_dict_mlp(params, x, y):
    out = net_forward(params, x)
    return 0.5 * np.sum((out - y) ** 2)


def nested_dict_args():
    params = {
        "hidden1": {"W": _normal(20, 3, 5), "b": _normal(21, 5)},
        "hidden2": {"W": _normal(22, 5, 4), "b": _normal(23, 4)},
        "out": {"W": _normal(24, 4, 2), "b": _normal(25, 2)},
    }
    return params, _normal(26, 6, 3), _normal(27, 6, 2)


def logsumexp(z):
    m = np.max(z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def softmax_cross_entropy(params, inputs, targets):
    logits = inputs @ params["W"] + params["b"]
    log_probs = logits - logsumexp(logits)
    return -np.mean(np.sum(targets * log_probs, axis=1))


def softmax_args():
    labels = _RNG(31).integers(0, 3, size=7)
    return ({"W": _normal(30, 4, 3), "b": numpy.zeros(3)}, _normal(32, 7, 4),
            numpy.eye(3)[labels])


def gaussian_nll(params, x):
    """Negative log-likelihood of a Gaussian with a learned mean and log-scale."""
    mu = params["mu"]
    log_sigma = params["log_sigma"]
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    return np.sum(0.5 * z ** 2 + log_sigma + 0.5 * np.log(2 * np.pi))


def gaussian_args():
    return {"mu": 0.3, "log_sigma": -0.2}, _normal(40, 12, scale=1.3) + 0.5


def gaussian_vec_args():
    return {"mu": _normal(41, 4), "log_sigma": _normal(42, 4, scale=0.1)}, _normal(43, 9, 4)


def optional_bias_loss(params, x, y):
    out = x @ params["W"]
    if params["b"] is not None:
        out = out + params["b"]
    return np.sum((out - y) ** 2)


def optional_bias_args():
    return {"W": _normal(50, 3, 2), "b": None}, _normal(51, 4, 3), _normal(52, 4, 2)


def configured_mlp(params, x, y, config):
    h = x @ params["W1"]
    if config["use_bias"]:
        h = h + params["b1"]
    if config["act"] == "relu":
        h = np.maximum(h, 0.0)
    elif config["act"] == "tanh":
        h = np.tanh(h)
    out = h @ params["W2"]
    loss = np.mean((out - y) ** 2)
    return loss + config["weight_decay"] * np.sum(params["W1"] ** 2)


def config_relu_args():
    params, x, y = mlp_dict_args()
    config = {"act": "relu", "use_bias": True, "weight_decay": 1e-3, "n_hidden": 4}
    return params, x, y, config


def config_tanh_args():
    params, x, y = mlp_dict_args()
    config = {"act": "tanh", "use_bias": False, "weight_decay": 0.0, "n_hidden": 4}
    return params, x, y, config


def minibatch_loss(w, batches):
    """The data as a list of (X, y) minibatches."""
    total = 0.0
    for X, y in batches:
        total = total + np.sum((X @ w - y) ** 2)
    return total / len(batches)


def minibatch_args():
    batches = [(_normal(60 + i, 4, 3), _normal(70 + i, 4)) for i in range(3)]
    return _normal(80, 3), batches


def get_with_default(params, x):
    """dict.get with a default for an optional entry."""
    scale = params.get("scale", 1.0)
    return np.sum(scale * np.sin(x @ params["W"]))


def get_default_args():
    return {"W": _normal(90, 3, 2), "scale": 0.7}, _normal(91, 5, 3)


def concat_params(params, x):
    theta = np.concatenate([params["a"], params["b"]])
    return np.sum(np.cos(x @ theta))


def concat_args():
    return {"a": _normal(95, 2), "b": _normal(96, 3)}, _normal(97, 4, 5)


def tuple_in_dict(params, x):
    W, b = params["dense"]
    h = np.tanh(x @ W + b)
    return np.sum(h * params["v"])


def tuple_in_dict_args():
    return {"dense": (_normal(100, 3, 4), _normal(101, 4)), "v": _normal(102, 4)}, \
        _normal(103, 5, 3)


# -- lists of layers ------------------------------------------------------------------

def relu(x):
    return np.maximum(0, x)


def jax_tutorial_predict(params, image):
    """The JAX MNIST tutorial's `predict`: hidden layers by a loop, the last by [-1]."""
    activations = image
    for w, b in params[:-1]:
        outputs = np.dot(w, activations) + b
        activations = relu(outputs)
    final_w, final_b = params[-1]
    logits = np.dot(final_w, activations) + final_b
    return logits - logsumexp(logits[None, :])[0]


def jax_tutorial_loss(params, image, target):
    preds = jax_tutorial_predict(params, image)
    return -np.sum(preds * target)


def random_layer_params(m, n, seed, scale=0.3):
    return _normal(seed, n, m, scale=scale), _normal(seed + 1, n, scale=scale)


def init_network_params(sizes, seed=200):
    return [random_layer_params(m, n, seed + 2 * i)
            for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]))]


def jax_tutorial_args():
    return init_network_params([4, 5, 3]), _normal(210, 4), numpy.eye(3)[1]


def mlp_layers_range_len(layers, x, y):
    h = x
    for i in range(len(layers)):
        W, b = layers[i]
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.tanh(h)
    return np.mean((h - y) ** 2)


def layers_args(sizes=(3, 4, 2), seed=300):
    layers = [(_normal(seed + 2 * i, m, n), _normal(seed + 2 * i + 1, n))
              for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]))]
    return layers, _normal(seed + 50, 5, sizes[0]), _normal(seed + 51, 5, sizes[-1])


def layers3_args():
    return layers_args((3, 4, 4, 2), seed=320)


def int_argument_range(layers, x, y, n_layers):
    """The depth passed as an int argument."""
    h = x
    for i in range(n_layers):
        W, b = layers[i]
        h = np.tanh(h @ W + b)
    return np.sum((h - y) ** 2)


def int_argument_args():
    return layers_args() + (2,)


def mlp_layers_enumerate(layers, x, y):
    for i, (W, b) in enumerate(layers):
        x = x @ W + b
        if i != len(layers) - 1:
            x = np.tanh(x)
    return np.sum((x - y) ** 2)


def mlp_layers_zip(layers, x, y, scales):
    """Per-layer constants (floats) walked alongside the parameters."""
    h = x
    for (W, b), scale in zip(layers, scales):
        h = np.tanh(scale * (h @ W) + b)
    return np.sum((h - y) ** 2)


def layers_zip_args():
    layers, x, y = layers_args()
    return layers, x, y, [1.0, 0.5]


def mlp_layers_last(layers, x, y):
    """Hidden layers by index, the output layer as layers[-1], and a mean over len()."""
    h = x
    for layer in layers[:-1]:
        h = np.tanh(h @ layer[0] + layer[1])
    W_out, b_out = layers[-1]
    out = h @ W_out + b_out
    penalty = 0.0
    for W, _ in layers:
        penalty = penalty + np.sum(W ** 2)
    return np.mean((out - y) ** 2) + 1e-3 * penalty / len(layers)


def list_of_dicts_mlp(layers, x, y):
    h = x
    for layer in layers[:-1]:
        h = np.tanh(h @ layer["W"] + layer["b"])
    out = h @ layers[-1]["W"] + layers[-1]["b"]
    return np.mean((out - y) ** 2)


def list_of_dicts_args():
    layers, x, y = layers_args(seed=400)
    return ([{"W": W, "b": b} for W, b in layers], x, y)


def list_of_dicts_loss(layers, x, y, acts):
    h = x
    for layer, act in zip(layers, acts):
        h = h @ layer["W"] + layer["b"]
        if act == "tanh":
            h = np.tanh(h)
        elif act == "sigmoid":
            h = sigmoid(h)
    return np.mean((h - y) ** 2)


def list_of_dicts_acts_args():
    layers, x, y = list_of_dicts_args()
    return layers, x, y, ["tanh", "linear"]


def linear_regression_tuple(params, X, y):
    w, b = params
    residual = X @ w + b - y
    return np.mean(residual ** 2)


def linreg_tuple_args():
    return (_normal(500, 3), 0.25), _normal(501, 10, 3), _normal(502, 10)


def two_layer_tuple(params, x, y):
    (W1, b1), (W2, b2) = params
    h = np.tanh(np.dot(x, W1) + b1)
    return np.sum((np.dot(h, W2) + b2 - y) ** 2)


def nested_tuple_args():
    layers, x, y = layers_args(seed=510)
    return tuple(layers), x, y


def params_list_plain(params, x, y):
    """autograd's neural-net examples keep [W1, b1, W2, b2] in a flat list."""
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2 + b2 - y) ** 2)


def params_list_args():
    params, x, y = mlp_dict_args()
    return [params["W1"], params["b1"], params["W2"], params["b2"]], x, y


# -- recurrent networks ---------------------------------------------------------------

def rnn_loss(params, X, y):
    """A vanilla RNN over the rows of X, read out at the last step."""
    Wxh = params["Wxh"]
    Whh = params["Whh"]
    T = X.shape[0]
    h = np.zeros(Whh.shape[0])
    for t in range(T):
        h = np.tanh(X[t] @ Wxh + h @ Whh + params["bh"])
    out = h @ params["Why"] + params["by"]
    return np.sum((out - y) ** 2)


def rnn_args():
    params = {"Wxh": _normal(600, 3, 4), "Whh": _normal(601, 4, 4, scale=0.3),
              "bh": _normal(602, 4), "Why": _normal(603, 4, 2), "by": _normal(604, 2)}
    return params, _normal(605, 6, 3), _normal(606, 2)


def rnn_sequence_loss(params, xs, ys):
    """An RNN over a list of per-step inputs, with a loss at every step."""
    Wxh, Whh, Why = params
    h = np.zeros(Whh.shape[0])
    loss = 0.0
    for x, y in zip(xs, ys):
        h = np.tanh(np.dot(x, Wxh) + np.dot(h, Whh))
        loss = loss + np.sum((np.dot(h, Why) - y) ** 2)
    return loss / len(xs)


def rnn_sequence_args():
    params = [_normal(610, 3, 4), _normal(611, 4, 4, scale=0.3), _normal(612, 4, 2)]
    xs = [_normal(620 + t, 3) for t in range(5)]
    ys = [_normal(630 + t, 2) for t in range(5)]
    return params, xs, ys


# -- namedtuples ----------------------------------------------------------------------

Params = namedtuple("Params", ["W", "b"])


def namedtuple_linear(params, X, y):
    pred = X @ params.W + params.b
    return np.mean((pred - y) ** 2)


def namedtuple_args():
    return Params(_normal(700, 3, 2), _normal(701, 2)), _normal(702, 6, 3), _normal(703, 6, 2)


class Layer(NamedTuple):
    W: np.ndarray
    b: np.ndarray


def namedtuple_layers(layers, x, y):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer.W + layer.b)
    return np.sum((h - y) ** 2)


def namedtuple_layers_args():
    layers, x, y = layers_args(seed=710)
    return [Layer(W, b) for W, b in layers], x, y


Config = namedtuple("Config", ["lr", "n_steps", "act"])


def unrolled_descent(w0, A, b, cfg):
    """Meta-learning style: the loss after n_steps of gradient descent, unrolled."""
    w = w0
    for _ in range(cfg.n_steps):
        grad = A.T @ (A @ w - b)
        w = w - cfg.lr * grad
    if cfg.act == "square":
        return np.sum(w ** 2)
    return np.sum(np.abs(w))


def unrolled_args():
    return _normal(720, 3), _normal(721, 5, 3), _normal(722, 5), Config(0.05, 4, "square")


# -- dataclasses ----------------------------------------------------------------------

@dataclass(frozen=True)
class MLPParams:
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray


def frozen_dataclass_loss(params, x, y):
    h = np.tanh(x @ params.W1 + params.b1)
    out = h @ params.W2 + params.b2
    return np.mean((out - y) ** 2)


def frozen_dataclass_args():
    params, x, y = mlp_dict_args()
    return MLPParams(**params), x, y


@dataclass
class LinearState:
    weights: np.ndarray
    bias: float
    temperature: float = 1.0


def mutable_dataclass_loss(state, X, y):
    logits = (X @ state.weights + state.bias) / state.temperature
    return np.sum(np.logaddexp(0.0, -y * logits))


def mutable_dataclass_args():
    y = numpy.where(_RNG(801).random(7) > 0.5, 1.0, -1.0)
    return LinearState(_normal(800, 3), 0.1, 1.5), _normal(802, 7, 3), y


@dataclass
class TrainConfig:
    activation: str = "tanh"
    use_bias: bool = True
    weight_decay: float = 1e-3
    n_layers: int = 2
    dropout: Optional[float] = None


def dataclass_config_loss(params, x, y, cfg):
    h = x
    for i in range(cfg.n_layers):
        W, b = params[i]
        h = h @ W
        if cfg.use_bias:
            h = h + b
        if i < cfg.n_layers - 1:
            if cfg.activation == "tanh":
                h = np.tanh(h)
            else:
                h = relu(h)
    loss = np.mean((h - y) ** 2)
    if cfg.weight_decay > 0:
        for W, _ in params:
            loss = loss + cfg.weight_decay * np.sum(W * W)
    return loss


def dataclass_config_args():
    layers, x, y = layers_args(seed=810)
    return layers, x, y, TrainConfig()


def dataclass_config_relu_args():
    layers, x, y = layers_args(seed=820)
    return layers, x, y, TrainConfig(activation="relu", use_bias=False, weight_decay=0.0)


@dataclass
class DenseParams:
    W: np.ndarray
    b: Optional[np.ndarray] = None


def dataclass_none_loss(params, x):
    z = x @ params.W
    if params.b is not None:
        z = z + params.b
    return np.sum(np.sin(z))


def dataclass_none_args():
    return DenseParams(_normal(830, 3, 2)), _normal(831, 4, 3)


# -- models as classes ----------------------------------------------------------------

class LinearModel:
    """Hyper-parameters on the object, parameters passed in: `s2sad.grad(model.loss)`."""

    def __init__(self, l2=0.1, loss_type="mse"):
        self.l2 = l2
        self.loss_type = loss_type

    def predict(self, params, X):
        return X @ params["w"] + params["b"]

    def loss(self, params, X, y):
        residual = self.predict(params, X) - y
        if self.loss_type == "mse":
            data = np.mean(residual ** 2)
        else:
            data = np.mean(np.log(np.cosh(residual)))
        return data + self.l2 * np.sum(params["w"] ** 2)


def linear_model_args():
    return {"w": _normal(900, 3), "b": 0.0}, _normal(901, 8, 3), _normal(902, 8)


class MLP:
    def __init__(self, sizes, activation=np.tanh):
        self.sizes = sizes
        self.activation = activation

    def forward(self, params, x):
        for W, b in params[:-1]:
            x = self.activation(x @ W + b)
        W, b = params[-1]
        return x @ W + b

    def __call__(self, params, x, y):
        return np.mean((self.forward(params, x) - y) ** 2)


def forward_lambda():
    """The JAX habit: a lambda closing over the model, differentiated in place."""
    model = MLP([3, 5, 2])
    return lambda params, x, y: np.sum(model.forward(params, x) * y)


class DenseNet:
    """A base class with a property and an overridable forward."""
    scale = 2.0

    def __init__(self, sizes):
        self.sizes = sizes

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    def forward(self, params, x):
        return x @ params["W"] + params["b"]

    def loss(self, params, x):
        return self.scale * np.sum(self.forward(params, x) ** 2)

    def loss_per_layer(self, params, x):
        total = 0.0
        for i in range(self.n_layers):
            total = total + np.sum(np.tanh(self.forward(params, x)) ** 2) / (i + 1)
        return total

    @staticmethod
    def static_loss(params, x):
        return np.sum(np.tanh(x @ params["W"] + params["b"]))

    @classmethod
    def class_loss(cls, params, x):
        return cls.scale * np.sum(np.tanh(x @ params["W"] + params["b"]))


class TanhNet(DenseNet):
    """A subclass overriding forward through super()."""
    scale = 0.5

    def forward(self, params, x):
        return np.tanh(super().forward(params, x))


class PlainTanhNet(DenseNet):
    """A subclass overriding forward without super()."""

    def forward(self, params, x):
        return np.tanh(x @ params["W"] + params["b"])


class LoggingModel:
    def __init__(self):
        self.last_loss = None

    def loss(self, params, x):
        value = np.sum(np.tanh(x @ params["W"] + params["b"]))
        self.last_loss = value
        return value


def dense_args():
    return {"W": _normal(3700, 3, 2), "b": _normal(3701, 2)}, _normal(3702, 4, 3)


def mlp_object_args():
    return layers_args((3, 5, 2), seed=910)


# -- losses returning auxiliary output (has_aux) --------------------------------------

def loss_with_metrics(params, inputs, targets):
    logits = inputs @ params["W"] + params["b"]
    log_probs = logits - logsumexp(logits)
    loss = -np.mean(np.sum(targets * log_probs, axis=1))
    acc = np.mean(np.argmax(logits, axis=1) == np.argmax(targets, axis=1))
    return loss, {"acc": acc, "logits": logits}


def loss_with_tuple_aux(params, x, y):
    pred = predict(params, x)
    err = pred - y
    return np.mean(err ** 2), (pred, np.max(np.abs(err)))


def loss_with_list_aux(layers, x, y):
    activations = [x]
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
        activations.append(h)
    return np.sum((h - y) ** 2), activations


# -- several structured arguments -----------------------------------------------------

def encoder_decoder_loss(enc, dec, x):
    """An autoencoder with the encoder and decoder parameters in separate dicts."""
    z = np.tanh(x @ enc["W"] + enc["b"])
    recon = z @ dec["W"] + dec["b"]
    return np.mean((recon - x) ** 2)


def encoder_decoder_args():
    enc = {"W": _normal(1000, 4, 2), "b": _normal(1001, 2)}
    dec = {"W": _normal(1002, 2, 4), "b": _normal(1003, 4)}
    return enc, dec, _normal(1004, 6, 4)


def data_first_loss(batch, params):
    """Parameters as the second argument (argnums=1)."""
    x, y = batch
    pred = np.tanh(x @ params["W"]) @ params["v"]
    return np.sum((pred - y) ** 2)


def data_first_args():
    return ((_normal(1010, 5, 3), _normal(1011, 5)),
            {"W": _normal(1012, 3, 4), "v": _normal(1013, 4)})


def deep_nested(params, x, y):
    h = x
    for layer in params["encoder"]["layers"]:
        h = np.tanh(h @ layer["W"] + layer["b"])
    W, b = params["head"]
    out = h @ W + b
    return np.mean((out - y) ** 2) + params["log_temp"] ** 2


def deep_nested_args():
    params = {
        "encoder": {"layers": [{"W": _normal(1100, 3, 4), "b": _normal(1101, 4)},
                               {"W": _normal(1102, 4, 4), "b": _normal(1103, 4)}]},
        "head": (_normal(1104, 4, 2), _normal(1105, 2)),
        "log_temp": 0.3,
    }
    return params, _normal(1106, 5, 3), _normal(1107, 5, 2)


# -- more models people write ---------------------------------------------------------

def attention_loss(params, x):
    """One self-attention head, squared norm of the output."""
    q = x @ params["Wq"]
    k = x @ params["Wk"]
    v = x @ params["Wv"]
    scores = q @ k.T / np.sqrt(q.shape[1])
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.sum((weights @ v) ** 2)


def attention_args():
    return {"Wq": _normal(1200, 4, 3), "Wk": _normal(1201, 4, 3),
            "Wv": _normal(1202, 4, 3)}, _normal(1203, 5, 4)


def layer_norm_loss(params, x, y):
    mean = np.mean(x, axis=1, keepdims=True)
    var = np.var(x, axis=1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + 1e-5)
    out = params["gamma"] * xhat + params["beta"]
    return np.sum((out - y) ** 2)


def layer_norm_args():
    return {"gamma": 1.0 + _normal(1300, 4), "beta": _normal(1301, 4)}, \
        _normal(1302, 6, 4), _normal(1303, 6, 4)


def poisson_glm(params, X, counts):
    rate = np.exp(X @ params["coef"] + params["intercept"])
    return np.sum(rate - counts * np.log(rate))


def poisson_args():
    return {"coef": _normal(1400, 3, scale=0.2), "intercept": 0.1}, _normal(1401, 9, 3), \
        numpy.array([0.0, 1, 2, 0, 3, 1, 1, 4, 2])


def vae_kl(params):
    mu = params["mu"]
    log_var = params["log_var"]
    return -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var))


def vae_args():
    return ({"mu": _normal(1500, 5), "log_var": _normal(1501, 5, scale=0.2)},)


def dict_comprehension_loss(params, x):
    """Scaling every parameter with a dict comprehension (issue 17)."""
    scaled = {k: 0.5 * v for k, v in params.items()}
    return np.sum(np.tanh(x @ scaled["W"] + scaled["b"]))


def dict_comp_args():
    return {"W": _normal(1600, 3, 2), "b": _normal(1601, 2)}, _normal(1602, 4, 3)


def keyword_helper_loss(params, x, y):
    """A helper given the parameters by keyword."""
    pred = predict(x=x, params=params)
    return np.sum((pred - y) ** 2)


def new_dict_loss(params, x):
    """A new dict of derived parameters, read back by key."""
    derived = {"W": params["W"] * 2.0, "b": params["b"]}
    derived["b"] = derived["b"] - 1.0
    return np.sum(np.tanh(x @ derived["W"] + derived["b"]))


def new_dict_args():
    return {"W": _normal(1700, 3, 2), "b": _normal(1701, 2)}, _normal(1702, 4, 3)


def mixed_scalar_leaves(params, x):
    """Float scalars and arrays side by side in one dict."""
    return params["scale"] * np.sum(np.tanh(params["W"] * x)) + params["shift"] ** 2


def mixed_scalar_args():
    return {"scale": 1.5, "W": _normal(1800, 3), "shift": -0.4}, _normal(1801, 3)


def partial_target(params, x, y, reg):
    return np.sum((x @ params["w"] - y) ** 2) + reg * np.sum(params["w"] ** 2)


def partial_args():
    return {"w": _normal(1900, 3)}, _normal(1901, 6, 3), _normal(1902, 6)


# -- more idioms: string-built keys, collected outputs, callable parameters ------------

def L_model_forward(X, parameters):
    """deeplearning.ai's L-layer network: keys built as "W" + str(l), columns as samples."""
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A = relu(np.dot(parameters["W" + str(l)], A) + parameters["b" + str(l)])
    AL = sigmoid(np.dot(parameters["W" + str(L)], A) + parameters["b" + str(L)])
    return AL


def compute_cost(parameters, X, Y):
    AL = L_model_forward(X, parameters)
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    return cost


def l_layer_args():
    sizes = [4, 5, 3, 1]
    parameters = {}
    for l in range(1, len(sizes)):
        parameters["W" + str(l)] = _normal(2000 + l, sizes[l], sizes[l - 1])
        parameters["b" + str(l)] = _normal(2010 + l, sizes[l], 1)
    Y = (_RNG(2020).random((1, 6)) > 0.5).astype(float)
    return parameters, _normal(2021, 4, 6), Y


def fstring_keys_loss(params, x, y):
    h = x
    for i in range(1, 3):
        h = np.tanh(h @ params[f"W{i}"] + params[f"b{i}"])
    return np.sum((h - y) ** 2)


def fstring_keys_args():
    return ({"W1": _normal(2100, 3, 4), "b1": _normal(2101, 4), "W2": _normal(2102, 4, 2),
             "b2": _normal(2103, 2)}, _normal(2104, 5, 3), _normal(2105, 5, 2))


def rnn_collect_outputs(params, X, Y):
    """Outputs appended per time step, stacked at the end."""
    h = np.zeros(params["Whh"].shape[0])
    outputs = []
    for t in range(X.shape[0]):
        h = np.tanh(X[t] @ params["Wxh"] + h @ params["Whh"])
        outputs.append(h @ params["Why"])
    preds = np.stack(outputs)
    return np.mean((preds - Y) ** 2)


def rnn_collect_args():
    params, X, _ = rnn_args()
    return params, X, _normal(2200, 6, 2)


@dataclass
class Linear:
    """Equinox style: the differentiated model is a dataclass with a __call__."""
    weight: np.ndarray
    bias: np.ndarray

    def __call__(self, x):
        return x @ self.weight + self.bias

    def predict(self, x):
        return np.tanh(self(x))


def callable_model_loss(model, x, y):
    pred = model(x)
    return np.mean((pred - y) ** 2)


def model_method_loss(model, x, y):
    return np.mean((model.predict(x) - y) ** 2)


def callable_model_args():
    return Linear(_normal(2300, 3, 2), _normal(2301, 2)), _normal(2302, 5, 3), \
        _normal(2303, 5, 2)


def star_unpack_layers(layers, x, y):
    *hidden, last = layers
    for W, b in hidden:
        x = np.tanh(x @ W + b)
    W, b = last
    return np.sum((x @ W + b - y) ** 2)


CONFIG = {"l2": 1e-3, "activation": "tanh"}


def global_config_loss(params, x, y):
    h = x @ params["W1"] + params["b1"]
    if CONFIG["activation"] == "tanh":
        h = np.tanh(h)
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2) + CONFIG["l2"] * np.sum(params["W2"] ** 2)


DEFAULTS = {"scale": 0.5, "act": "tanh"}


def default_config_loss(params, x, y, cfg=DEFAULTS):
    h = np.tanh(x @ params["W1"] + params["b1"]) * cfg["scale"]
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2)


def iterate_keys_l2(params, x, y):
    penalty = 0.0
    for key in params:
        penalty = penalty + np.sum(params[key] ** 2)
    for key in sorted(params.keys()):
        penalty = penalty + 0.1 * np.sum(np.abs(params[key]))
    return mlp_mse(params, x, y) + 1e-3 * penalty / len(params)


def dict_of_lists_loss(params, x, y):
    h = x
    for W, b in zip(params["Ws"], params["bs"]):
        h = np.tanh(h @ W + b)
    return np.sum((h - y) ** 2)


def dict_of_lists_args():
    layers, x, y = layers_args(seed=2400)
    return {"Ws": [W for W, _ in layers], "bs": [b for _, b in layers]}, x, y


def tied_autoencoder(weights, x):
    h = x
    for W in weights:
        h = np.tanh(h @ W)
    for W in reversed(weights):
        h = h @ W.T
    return np.mean((h - x) ** 2)


def tied_args():
    return [_normal(2500, 4, 3), _normal(2501, 3, 2)], _normal(2502, 5, 4)


def forward_with_cache(params, x):
    z1 = x @ params["W1"] + params["b1"]
    a1 = np.tanh(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    return z2, {"z1": z1, "a1": a1}


def cached_loss(params, x, y):
    out, cache = forward_with_cache(params, x)
    return np.mean((out - y) ** 2) + 1e-3 * np.sum(cache["a1"] ** 2)


def loss_with_value_in_aux(params, x, y):
    pred = predict(params, x)
    loss = np.mean((pred - y) ** 2)
    return loss, {"loss": loss, "pred_norm": np.sum(pred ** 2), "n": x.shape[0]}


# -- sharing, closures, membership, scalar kinds ----------------------------------------

def tied_weights(params, x):
    """An autoencoder whose decoder is given the encoder's own array (tied weights)."""
    h = np.tanh(x @ params["enc"])
    return np.sum((h @ params["dec"].T - x) ** 2)


def tied_weights_args():
    W = _normal(3000, 3, 2)
    return {"enc": W, "dec": W}, _normal(3001, 4, 3)


def shared_subdict_loss(params, x):
    return np.sum(np.sin(x @ params["a"]["W"])) + 2 * np.sum(x @ params["b"]["W"])


def shared_subdict_args():
    shared = {"W": _normal(3010, 3, 2)}
    return {"a": shared, "b": shared}, _normal(3011, 4, 3)


def optional_bias_membership(params, x, y):
    """`if "b" in params:` for an optional entry."""
    out = x @ params["W"]
    if "b" in params:
        out = out + params["b"]
    return np.sum((out - y) ** 2)


def membership_args():
    return {"W": _normal(3020, 3, 2), "b": _normal(3021, 2)}, _normal(3022, 4, 3), \
        _normal(3023, 4, 2)


def copy_then_override(params, x):
    """A shallow copy of the parameters with one entry replaced."""
    p = dict(params)
    p["W"] = p["W"] * 0.5
    return np.sum(np.tanh(x @ p["W"] + p["b"]))


def closure_layer_loss(params, x):
    """A nested helper closing over the parameters."""
    def layer(h):
        return np.tanh(h @ params["W"] + params["b"])
    return np.sum(layer(x) ** 2)


def square_args():
    return {"W": _normal(3030, 3, 3), "b": _normal(3031, 3)}, _normal(3032, 4, 3)


def inner_sgd_step(params, X, y, lr=0.1):
    """Meta-learning: the loss after one inner gradient step, the step written out."""
    g = X.T @ (X @ params["w"] - y) / X.shape[0]
    adapted = {"w": params["w"] - lr * g}
    return np.mean((X @ adapted["w"] - y) ** 2)


def inner_step_args():
    return {"w": _normal(3040, 3)}, _normal(3041, 6, 3), _normal(3042, 6)


def polynomial(coefs, x):
    """Coefficients as a list of Python floats."""
    total = 0.0
    for i, c in enumerate(coefs):
        total = total + c * x ** i
    return np.sum(total)


def polynomial_args():
    return [0.5, 1.2, -0.3], _normal(3050, 5)


def weighted_layers(layers, x):
    total = 0.0
    for depth, (W, b) in enumerate(layers, start=1):
        x = np.tanh(x @ W + b)
        total = total + depth * np.sum(x ** 2)
    return total


def choose_branch_layer(layers, x):
    """Which layer is used depends on the data, at run time."""
    layer = layers[0] if np.sum(x) > 0 else layers[1]
    return np.sum(np.tanh(x @ layer[0] + layer[1]))


def branch_args():
    return [(_normal(3060, 3, 3), _normal(3061, 3)), (_normal(3062, 3, 3), _normal(3063, 3))], \
        -numpy.abs(_normal(3064, 3))


def int_keys_loss(params, x):
    h = x
    for k in range(2):
        h = np.tanh(h @ params[k])
    return np.sum(h)


def int_keys_args():
    return {0: _normal(3070, 3, 3), 1: _normal(3071, 3, 2)}, _normal(3072, 4, 3)


def empty_parts_loss(params, x):
    return np.sum(np.tanh(x @ params["W"])) * params["scale"]


def empty_parts_args():
    return {"W": _normal(3080, 3, 2), "extra": {}, "unused": None, "buffers": [],
            "scale": 1.5}, _normal(3081, 4, 3)


def scalar_kinds_loss(params, x):
    """np.float32 and np.float64 scalars, a 0-d array and a Python float as leaves."""
    return params["a"] * np.sum(np.sin(x)) + params["b"] ** 2 + params["c"] * params["d"]


def scalar_kinds_args():
    return {"a": numpy.float32(2.0), "b": numpy.array(0.5), "c": numpy.float64(1.5),
            "d": 0.25}, _normal(3090, 4)


LayerWithDefault = namedtuple("LayerWithDefault", ["W", "b"], defaults=[None])


def namedtuple_default_none(layer, x):
    out = x @ layer.W
    if layer.b is not None:
        out = out + layer.b
    return np.sum(out ** 2)


def namedtuple_default_args():
    return LayerWithDefault(_normal(3100, 3, 2)), _normal(3101, 4, 3)


def namedtuple_by_position(layer, x):
    W, b = layer[0], layer[1]
    return np.sum(np.tanh(x @ W + b))


def namedtuple_position_args():
    return LayerWithDefault(_normal(3110, 3, 2), _normal(3111, 2)), _normal(3112, 4, 3)


@dataclass
class Scaled:
    W: np.ndarray
    scale: float = dataclasses.field(default=2.0, init=False)


def init_false_field_loss(model, x):
    return model.scale * np.sum(np.tanh(x @ model.W))


def init_false_args():
    return Scaled(_normal(3120, 3, 2)), _normal(3121, 4, 3)


# -- stores into a structure under a run-time condition ---------------------------------

def conditional_store(params, x):
    """A cache entry replaced only when a data-dependent test holds."""
    cache = {"h": x}
    h = np.tanh(x @ params["W"])
    if np.sum(h) > 0:
        cache["h"] = h
    return np.sum(cache["h"] * params["b"])


def conditional_store_taken_args():
    x = numpy.abs(_normal(3200, 3))
    return {"W": numpy.abs(_normal(3201, 3, 3)), "b": _normal(3202, 3)}, x


def conditional_store_not_taken_args():
    x = -numpy.abs(_normal(3200, 3))
    return {"W": numpy.abs(_normal(3201, 3, 3)), "b": _normal(3202, 3)}, x


def conditional_rescale(params, x):
    """Logits rescaled only when they grow large (a data-dependent normalisation)."""
    out = {"z": x @ params["W"]}
    if np.max(out["z"]) > 1.0:
        out["z"] = out["z"] / np.max(out["z"])
    return np.sum(out["z"] ** 2)


def conditional_rescale_args():
    return {"W": _normal(3210, 3, 2)}, _normal(3211, 4, 3)  # max(z) < 1: kept


def conditional_rescale_large_args():
    return {"W": _normal(3210, 3, 2)}, 3.0 * _normal(3211, 4, 3)  # max(z) > 1: rescaled


def store_in_both_branches(params, x):
    """Both branches of a data-dependent if store the same entry."""
    out = {"h": x}
    if np.sum(x) > 0:
        out["h"] = np.tanh(x @ params["W"])
    else:
        out["h"] = np.sin(x @ params["W"])
    return np.sum(out["h"] * params["b"])


def positive_x_args():
    return {"W": _normal(3400, 3, 3), "b": _normal(3401, 3)}, numpy.abs(_normal(3402, 3))


def negative_x_args():
    return {"W": _normal(3400, 3, 3), "b": _normal(3401, 3)}, -numpy.abs(_normal(3402, 3))


def list_item_in_branch(params, x):
    """A list slot replaced under a data-dependent if."""
    outs = [x, x]
    if np.sum(x) > 0:
        outs[0] = np.tanh(x @ params["W"])
    return np.sum(outs[0] * params["b"]) + np.sum(outs[1])


def stacked_rnn(layers, X):
    """A stacked RNN: a loop over time steps (run-time count) around a loop over layers."""
    hs = [np.zeros(W.shape[1]) for W, _ in layers]
    h = hs[0]
    for t in range(X.shape[0]):
        x = X[t]
        for W, U in layers:
            h = np.tanh(x @ W + h @ U)
            x = h
    return np.sum(h ** 2)


def stacked_rnn_args():
    layers = [(_normal(3500, 3, 3), _normal(3501, 3, 3, scale=0.3)),
              (_normal(3502, 3, 3), _normal(3503, 3, 3, scale=0.3))]
    return layers, _normal(3504, 5, 3)


def config_none_default(params, x, cfg=None):
    """A config that defaults to None and is filled in."""
    if cfg is None:
        cfg = {"scale": 2.0, "act": "tanh"}
    h = x @ params["W"] + params["b"]
    if cfg["act"] == "tanh":
        h = np.tanh(h)
    return cfg["scale"] * np.sum(h ** 2)


def config_none_args():
    return {"W": _normal(3510, 3, 2), "b": _normal(3511, 2)}, _normal(3512, 4, 3)


def neural_net_predict(params, inputs):
    """autograd's examples/neural_net.py, as written there."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - scipy_logsumexp(outputs, axis=1, keepdims=True)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def log_posterior_args():
    layers, inputs, _ = layers_args((4, 5, 3), seed=3600)
    return layers, inputs, numpy.eye(3)[[0, 2, 1, 1, 0]], 0.1


def typed_loss(params: Dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Type hints as a typed code base writes them."""
    pred: np.ndarray = np.tanh(x @ params["W"]) @ params["v"]
    return np.mean((pred - y) ** 2)


def typed_args():
    return {"W": _normal(3610, 3, 4), "v": _normal(3611, 4)}, _normal(3612, 5, 3), \
        _normal(3613, 5)


def gp_neg_log_marginal(params, X, y):
    """A Gaussian process's negative log marginal likelihood, hyper-parameters in a dict
    of Python floats (log length-scale, log signal variance, log noise)."""
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=2)
    K = np.exp(params["log_var"]) * np.exp(-0.5 * sq / np.exp(2 * params["log_ls"]))
    K = K + np.exp(params["log_noise"]) * np.eye(X.shape[0])
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet


def gp_args():
    return {"log_ls": -0.2, "log_var": 0.3, "log_noise": -1.5}, _normal(3620, 6, 2), \
        _normal(3621, 6)


def gp_neg_log_marginal_renamed(params, X, y):
    """The same, with slogdet's sign bound to another name."""
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=2)
    K = np.exp(params["log_var"]) * np.exp(-0.5 * sq / np.exp(2 * params["log_ls"]))
    K = K + np.exp(params["log_noise"]) * np.eye(X.shape[0])
    alpha = np.linalg.solve(K, y)
    _, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet


def gmm_neg_log_likelihood(params, x):
    """A 1-d Gaussian mixture: mixing logits, means and log standard deviations."""
    log_weights = params["logits"] - scipy_logsumexp(params["logits"])
    z = (x[:, None] - params["means"][None, :]) / np.exp(params["log_stds"])[None, :]
    log_comp = -0.5 * z ** 2 - params["log_stds"][None, :] - 0.5 * np.log(2 * np.pi)
    return -np.sum(scipy_logsumexp(log_comp + log_weights[None, :], axis=1))


def gmm_args():
    return {"logits": _normal(3630, 3), "means": np.array([-1.0, 0.2, 1.5]),
            "log_stds": _normal(3631, 3, scale=0.2)}, 1.5 * _normal(3632, 10)


def embedding_loss(params, ids, targets):
    """Embedding lookup with repeated ids (the adjoint must accumulate)."""
    vectors = params["embedding"][ids]
    logits = vectors @ params["out"]
    return np.sum((logits - targets) ** 2)


def embedding_args():
    ids = numpy.array([0, 3, 3, 1, 0, 3])
    return {"embedding": _normal(3640, 5, 4), "out": _normal(3641, 4, 2)}, ids, \
        _normal(3642, 6, 2)


def batch_loss(params, batch):
    """The batch as a tuple, unpacked into the helper's arguments."""
    return mlp_mse(params, *batch)


def batch_args():
    params, x, y = mlp_dict_args()
    return params, (x, y)


def keyword_batch_loss(params, batch):
    """The batch as a dict, passed as keyword arguments."""
    return mlp_mse(params, **batch)


def keyword_batch_args():
    params, x, y = mlp_dict_args()
    return params, {"x": x, "y": y}


# Losses as lambdas bound to names, as notebooks write them.
lambda_l2_loss = lambda params, x, y: mlp_mse(params, x, y) + 1e-3 * sum(  # noqa: E731
    np.sum(w ** 2) for w in params.values())
lambda_aux_loss = lambda params, x, y: (mlp_mse(params, x, y), {"W1": params["W1"]})  # noqa: E731
lambda_layers_loss = lambda layers, x, y: np.mean(  # noqa: E731
    (jax_style_forward(layers, x) - y) ** 2)


def jax_style_forward(layers, x):
    for W, b in layers[:-1]:
        x = np.tanh(x @ W + b)
    W, b = layers[-1]
    return x @ W + b


def flax_style_apply(variables, x):
    """Flax's parameter tree: {"params": {"Dense_0": {"kernel", "bias"}, ...}}."""
    p = variables["params"]
    x = np.tanh(x @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"])
    return x @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"]


def flax_style_loss(variables, x, y):
    return np.mean((flax_style_apply(variables, x) - y) ** 2)


def flax_style_args():
    variables = {"params": {
        "Dense_0": {"kernel": _normal(3800, 3, 4), "bias": _normal(3801, 4)},
        "Dense_1": {"kernel": _normal(3802, 4, 2), "bias": _normal(3803, 2)}}}
    return variables, _normal(3804, 5, 3), _normal(3805, 5, 2)


def awkward_keys_loss(params, x):
    """Keys whose plain-local spellings collide ("a_b", "a"/"b", "a-b", "a b") or are
    not identifiers ("class", "1st", "")."""
    return (np.sum(x * params["a_b"]) + 2 * np.sum(x * params["a"]["b"]) +
            3 * np.sum(x * params["a-b"]) + 5 * np.sum(np.sin(x * params["a b"])) +
            np.sum(params["class"] ** 2) + np.sum(params["1st"] * x) + params[""] ** 2)


def awkward_keys_args():
    return {"a_b": _normal(3810, 3), "a": {"b": _normal(3811, 3)}, "a-b": _normal(3812, 3),
            "a b": _normal(3813, 3), "class": _normal(3814, 3), "1st": _normal(3815, 3),
            "": 0.5}, _normal(3816, 3)


# -- everyday Python around structures (issue 17's idioms) ---------------------------

def comprehension_layers(layers, x, y):
    """Per-layer outputs by a list comprehension, a penalty by a generator."""
    outs = [np.tanh(x @ W + b) for W, b in layers[:1]]
    penalty = sum(np.sum(W ** 2) for W, _ in layers)
    h = outs[0]
    W, b = layers[-1]
    return np.mean((h @ W + b - y) ** 2) + 1e-3 * penalty


def shape_unpack_rnn(params, X, y):
    """T, d = X.shape and an assert on the input."""
    T, d = X.shape
    assert d == params["Wxh"].shape[0]
    h = np.zeros(params["Whh"].shape[0])
    for t in range(T):
        h = np.tanh(X[t] @ params["Wxh"] + h @ params["Whh"] + params["bh"])
    out = h @ params["Why"] + params["by"]
    return np.sum((out - y) ** 2)


def and_or_config(params, x, cfg):
    h = x @ params["W"]
    if cfg["use_bias"] and params.get("b") is not None:
        h = h + params["b"]
    if cfg["act"] == "tanh" or cfg["act"] == "default":
        h = np.tanh(h)
    return np.sum(h ** 2)


def and_or_args():
    return {"W": _normal(3900, 3, 2), "b": _normal(3901, 2)}, _normal(3902, 4, 3), \
        {"use_bias": True, "act": "default"}


def stacked_predictions(params, xs):
    """Predictions per example collected in a list and stacked."""
    preds = []
    for x in xs:
        preds.append(np.tanh(x @ params["W"]) @ params["v"])
    return np.sum(np.stack(preds) ** 2)


def stacked_args():
    return {"W": _normal(3910, 3, 4), "v": _normal(3911, 4)}, \
        [_normal(3912 + i, 3) for i in range(4)]


def max_over_layers(layers, x):
    """The largest layer response, by max() over a list."""
    return max([np.sum(np.tanh(x @ W + b)) for W, b in layers])


def swap_state_in_branch(params, x):
    """A tuple state rebound to another tuple of the same shape under a run-time if."""
    state = (x @ params["W"], np.tanh(x @ params["W"]) * params["b"])
    if np.sum(x) > 0:
        state = (state[1], state[0])
    return np.sum(state[0] ** 2) + np.sum(state[1])


def reversed_enumerate_layers(layers, x):
    h = x
    for i, (W, b) in enumerate(reversed(layers)):
        h = np.tanh(h @ W + b) * (i + 1)
    return np.sum(h)


def square_layers_args():
    return layers_args((3, 3, 3, 3), seed=3950)[:2]


def first_middle_last(layers, x):
    first, *middle, last = layers
    h = np.tanh(x @ first[0] + first[1])
    for W, b in middle:
        h = np.tanh(h @ W + b)
    return np.sum(h @ last[0] + last[1])


def activation_from_config(params, x, cfg):
    """A function object carried by the config, with a default."""
    act = cfg.get("act_fn", np.tanh)
    return np.sum(act(x @ params["W"] + params["b"]) ** 2)


def activation_from_config_args():
    params, x, _ = activation_args()
    return params, x, {"act_fn": sigmoid}


def leaky_relu_config_args():
    params, x, _ = activation_args()
    return params, x, {"act_fn": lambda z: np.maximum(z, 0.1 * z)}


class ScaledProjection:
    """A property computing an array from the object's attributes."""
    base = np.array([[1.0, 0.5], [-0.5, 1.0]])

    def __init__(self, scale):
        self.scale = scale

    @property
    def projection(self):
        return self.base * self.scale

    def loss(self, params, x):
        return np.sum(np.tanh((x @ params["W"]) @ self.projection + params["b"]) ** 2)


# -- functions chosen by a config -----------------------------------------------------

def activation_by_ternary(params, x, cfg):
    act = np.tanh if cfg["act"] == "tanh" else relu
    return np.sum(act(x @ params["W"] + params["b"]) ** 2)


ACTIVATIONS = {"tanh": np.tanh, "relu": relu, "sigmoid": sigmoid}


def activation_table(params, x, cfg):
    h = ACTIVATIONS[cfg["act"]](x @ params["W"] + params["b"])
    return np.sum(h ** 2)


def activation_args_two():
    return activation_args()[:2]


def activation_args():
    return {"W": _normal(3300, 3, 2), "b": _normal(3301, 2)}, _normal(3302, 4, 3), \
        {"act": "sigmoid"}


def loss_filling_metrics(params, x, y, metrics):
    """Metrics written into a dict the caller passes (the habit before has_aux)."""
    pred = predict(params, x)
    loss = np.mean((pred - y) ** 2)
    metrics["loss"] = loss
    metrics["max_err"] = np.max(np.abs(pred - y))
    return loss


def loss_logging(params, x, y, history):
    loss = np.mean((predict(params, x) - y) ** 2)
    history.append(loss)
    return loss


def forward_outputs(params, x):
    """Several named outputs (for jvp, whose tangent has the output's structure)."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return {"hidden": h, "out": out, "norm": np.sum(out ** 2)}


# -- refusals: the structures may not be differentiated or read as written -------------

def int_leaf_loss(params, x):
    return np.sum(params["W"] * x) * params["n"]


def string_leaf_loss(params, x):
    h = x @ params["W"]
    if params["act"] == "tanh":
        h = np.tanh(h)
    return np.sum(h)


def missing_key_loss(params, x):
    h = np.tanh(x @ params["W1"])
    return np.sum(h @ params["W3"])


def missing_field_loss(params, X, y):
    pred = X @ params.W + params.bias
    return np.sum((pred - y) ** 2)


def missing_config_attribute(params, x, cfg):
    return np.sum(x @ params["W"]) * cfg.momentum


def layer_index_out_of_range(layers, x):
    return np.sum(x @ layers[5][0])


def unpack_wrong_count(params, x):
    W, b, c = params
    return np.sum(x @ W + b)


def int_field_loss(state, X, y):
    return np.sum((X @ state.weights - y) ** 2)


# -- the cases ------------------------------------------------------------------------

@dataclass
class Case:
    """A corpus function, its arguments, and what to differentiate.

    `get(module)` returns the callable from a copy of this module (so the autograd copy
    gets its own); `oracle` is "autograd" (dicts, lists, tuples) or "fd" (leaf-wise
    central differences, for namedtuples, dataclasses, None leaves). `aux`: the
    function returns (value, aux)."""

    name: str
    get: Callable[[Any], Callable]
    args: Callable[[], tuple]
    argnums: Union[int, Tuple[int, ...]] = 0
    oracle: str = "autograd"
    aux: bool = False


def _fn(name):
    return lambda module: getattr(module, name)


def case(fn, args, argnums=0, oracle="autograd", aux=False, name=None):
    return Case(name or fn.__name__, _fn(fn.__name__), args, argnums, oracle, aux)


CASES = [
    case(logistic_regression_loss, logreg_args),
    case(mlp_mse, mlp_dict_args),
    case(mlp_mse, mlp32_args, name="mlp_mse_float32"),
    case(mlp_l2, mlp_dict_args),
    case(mlp_l2_genexpr, mlp_dict_args),
    case(nested_dict_mlp, nested_dict_args),
    case(softmax_cross_entropy, softmax_args),
    case(gaussian_nll, gaussian_args),
    case(gaussian_nll, gaussian_vec_args, name="gaussian_nll_vector"),
    case(optional_bias_loss, optional_bias_args, oracle="fd"),
    case(configured_mlp, config_relu_args, name="configured_mlp_relu"),
    case(configured_mlp, config_tanh_args, name="configured_mlp_tanh"),
    case(minibatch_loss, minibatch_args),
    case(get_with_default, get_default_args),
    case(concat_params, concat_args),
    case(tuple_in_dict, tuple_in_dict_args),
    case(jax_tutorial_loss, jax_tutorial_args),
    case(mlp_layers_range_len, layers_args),
    case(mlp_layers_range_len, layers3_args, name="mlp_layers_range_len_3"),
    case(mlp_layers_enumerate, layers_args),
    case(int_argument_range, int_argument_args),
    case(mlp_layers_zip, layers_zip_args),
    case(mlp_layers_last, layers3_args),
    case(list_of_dicts_mlp, list_of_dicts_args, oracle="fd"),
    case(list_of_dicts_loss, list_of_dicts_acts_args),
    case(linear_regression_tuple, linreg_tuple_args),
    case(two_layer_tuple, nested_tuple_args),
    case(params_list_plain, params_list_args),
    case(rnn_loss, rnn_args),
    case(rnn_sequence_loss, rnn_sequence_args),
    case(namedtuple_linear, namedtuple_args, oracle="fd"),
    case(namedtuple_layers, namedtuple_layers_args, oracle="fd"),
    case(unrolled_descent, unrolled_args, oracle="fd"),
    case(frozen_dataclass_loss, frozen_dataclass_args, oracle="fd"),
    case(mutable_dataclass_loss, mutable_dataclass_args, oracle="fd"),
    case(dataclass_config_loss, dataclass_config_args, oracle="fd"),
    case(dataclass_config_loss, dataclass_config_relu_args, oracle="fd",
         name="dataclass_config_loss_relu"),
    case(dataclass_none_loss, dataclass_none_args, oracle="fd"),
    Case("LinearModel.loss", lambda m: m.LinearModel(l2=0.1).loss, linear_model_args),
    Case("LinearModel.loss_logcosh", lambda m: m.LinearModel(0.05, "logcosh").loss,
         linear_model_args),
    Case("MLP.__call__", lambda m: m.MLP([3, 5, 2]), mlp_object_args),
    Case("MLP.forward_lambda", lambda m: m.forward_lambda(), mlp_object_args),
    Case("DenseNet.loss", lambda m: m.DenseNet([3, 2]).loss, dense_args),
    Case("DenseNet.loss_per_layer_property", lambda m: m.DenseNet([3, 2, 2]).loss_per_layer,
         dense_args),
    Case("TanhNet.loss_super", lambda m: m.TanhNet([3, 2]).loss, dense_args),
    Case("PlainTanhNet.loss_override", lambda m: m.PlainTanhNet([3, 2]).loss, dense_args),
    Case("DenseNet.static_loss", lambda m: m.DenseNet.static_loss, dense_args),
    Case("DenseNet.static_loss_on_instance", lambda m: m.DenseNet([3, 2]).static_loss,
         dense_args),
    Case("TanhNet.class_loss", lambda m: m.TanhNet.class_loss, dense_args),
    case(loss_with_metrics, softmax_args, aux=True),
    case(loss_with_tuple_aux, mlp_dict_args, aux=True),
    case(loss_with_list_aux, layers_args, aux=True),
    case(encoder_decoder_loss, encoder_decoder_args, argnums=(0, 1)),
    case(encoder_decoder_loss, encoder_decoder_args, argnums=1, name="decoder_only"),
    case(data_first_loss, data_first_args, argnums=1),
    case(deep_nested, deep_nested_args),
    case(attention_loss, attention_args),
    case(layer_norm_loss, layer_norm_args),
    case(poisson_glm, poisson_args),
    case(vae_kl, vae_args),
    case(dict_comprehension_loss, dict_comp_args),
    case(keyword_helper_loss, mlp_dict_args),
    case(new_dict_loss, new_dict_args),
    case(mixed_scalar_leaves, mixed_scalar_args),
    case(compute_cost, l_layer_args),
    case(fstring_keys_loss, fstring_keys_args),
    case(rnn_collect_outputs, rnn_collect_args),
    case(callable_model_loss, callable_model_args, oracle="fd"),
    case(model_method_loss, callable_model_args, oracle="fd"),
    case(star_unpack_layers, layers3_args),
    case(global_config_loss, mlp_dict_args),
    case(default_config_loss, mlp_dict_args),
    case(iterate_keys_l2, mlp_dict_args),
    case(dict_of_lists_loss, dict_of_lists_args),
    case(tied_autoencoder, tied_args),
    case(cached_loss, mlp_dict_args),
    case(loss_with_value_in_aux, mlp_dict_args, aux=True),
    case(tied_weights, tied_weights_args),
    case(shared_subdict_loss, shared_subdict_args),
    case(optional_bias_membership, membership_args),
    case(copy_then_override, square_args),
    case(closure_layer_loss, square_args),
    case(inner_sgd_step, inner_step_args),
    case(polynomial, polynomial_args),
    case(weighted_layers, lambda: layers_args((3, 3, 2))[:2]),
    case(choose_branch_layer, branch_args),
    case(int_keys_loss, int_keys_args),
    case(empty_parts_loss, empty_parts_args, oracle="fd"),
    case(scalar_kinds_loss, scalar_kinds_args, oracle="fd"),
    case(namedtuple_default_none, namedtuple_default_args, oracle="fd"),
    case(namedtuple_by_position, namedtuple_position_args, oracle="fd"),
    case(init_false_field_loss, init_false_args, oracle="fd"),
    case(conditional_store, conditional_store_taken_args, name="conditional_store_taken"),
    case(conditional_store, conditional_store_not_taken_args,
         name="conditional_store_not_taken"),
    case(conditional_rescale, conditional_rescale_args),
    case(conditional_rescale, conditional_rescale_large_args, name="conditional_rescale_large"),
    case(store_in_both_branches, positive_x_args, name="store_in_both_branches_true"),
    case(store_in_both_branches, negative_x_args, name="store_in_both_branches_false"),
    case(list_item_in_branch, positive_x_args, name="list_item_in_branch_taken"),
    case(list_item_in_branch, negative_x_args, name="list_item_in_branch_not_taken"),
    case(stacked_rnn, stacked_rnn_args),
    case(config_none_default, config_none_args),
    case(log_posterior, log_posterior_args),
    case(typed_loss, typed_args),
    case(gp_neg_log_marginal, gp_args),
    case(gp_neg_log_marginal_renamed, gp_args),
    case(gmm_neg_log_likelihood, gmm_args),
    case(embedding_loss, embedding_args),
    case(batch_loss, batch_args),
    case(keyword_batch_loss, keyword_batch_args),
    Case("lambda_l2_loss", lambda m: m.lambda_l2_loss, mlp_dict_args),
    Case("lambda_aux_loss", lambda m: m.lambda_aux_loss, mlp_dict_args, aux=True),
    Case("lambda_layers_loss", lambda m: m.lambda_layers_loss, layers3_args),
    case(flax_style_loss, flax_style_args),
    case(awkward_keys_loss, awkward_keys_args),
    case(comprehension_layers, layers_args),
    case(shape_unpack_rnn, rnn_args),
    case(and_or_config, and_or_args),
    case(stacked_predictions, stacked_args),
    case(max_over_layers, lambda: layers_args((3, 3, 3))[:2]),
    case(swap_state_in_branch, positive_x_args, name="swap_state_in_branch_taken"),
    case(swap_state_in_branch, negative_x_args, name="swap_state_in_branch_not_taken"),
    case(reversed_enumerate_layers, square_layers_args),
    case(first_middle_last, square_layers_args),
    case(activation_from_config, activation_from_config_args),
    case(activation_from_config, leaky_relu_config_args, name="activation_lambda_in_config"),
    Case("ScaledProjection.loss", lambda m: m.ScaledProjection(0.7).loss, activation_args_two),
    case(activation_by_ternary, activation_args),
    case(activation_table, activation_args),
    Case("partial_of_bound_method",
         lambda m: functools.partial(m.LinearModel(l2=0.1).loss, X=m.linear_model_args()[1],
                                     y=m.linear_model_args()[2]),
         lambda: linear_model_args()[:1]),
    Case("partial_of_callable_object",
         lambda m: functools.partial(m.MLP([3, 5, 2]), x=m.mlp_object_args()[1],
                                     y=m.mlp_object_args()[2]),
         lambda: mlp_object_args()[:1]),
    Case("partial_target", lambda m: functools.partial(m.partial_target, reg=0.1),
         partial_args),
]
