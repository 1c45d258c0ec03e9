"""A two-layer MLP whose parameters are a dict of layers, as JAX and autograd users keep them.

    params = {"hidden": {"W": ..., "b": ...}, "output": {"W": ..., "b": ...}}

The loss reads the layers by name, through a `predict(params, x)` helper, and adds
weight decay over every layer with `for name, layer in params.items():`. It fits
y = sin(3 x0) * cos(2 x1) on random points of the square [-1, 1]^2 (seeded, so every
run is the same) by plain full-batch gradient descent:

    value, grads = s2sad.value_and_grad(loss)(params, X, y)
    params = {name: {k: p - lr * grads[name][k] for k, p in layer.items()}
              for name, layer in params.items()}

`grads` has exactly the structure of `params` (the same keys, in order). s2sad
compiles the loss for that structure: every leaf becomes a plain local of the
generated code (`params_hidden_W`, its adjoint `dparams_hidden_W`), and the dict of
gradients is rebuilt once at the end. The script prints that code last.

    python examples/mlp_params_dict.py
"""
import numpy as np

import s2sad

WEIGHT_DECAY = 1e-4


def predict(params, x):
    hidden = params["hidden"]
    h = np.tanh(x @ hidden["W"] + hidden["b"])
    return h @ params["output"]["W"] + params["output"]["b"]


def loss(params, x, y):
    err = predict(params, x) - y
    penalty = 0.0
    for name, layer in params.items():
        penalty = penalty + np.sum(layer["W"] ** 2)
    return np.mean(err ** 2) + WEIGHT_DECAY * penalty


loss_and_grads = s2sad.value_and_grad(loss)


def make_data(n=200, seed=0):
    """Points of [-1, 1]^2 and the target y = sin(3 x0) cos(2 x1), as a column."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = np.sin(3 * x[:, 0]) * np.cos(2 * x[:, 1])
    return x, y[:, None]


def init_params(hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    return {
        "hidden": {"W": rng.normal(size=(2, hidden)), "b": np.zeros(hidden)},
        "output": {"W": rng.normal(size=(hidden, 1)) / np.sqrt(hidden), "b": np.zeros(1)},
    }


def step(params, grads, lr):
    """One step of gradient descent on every leaf; params is not modified."""
    return {name: {key: value - lr * grads[name][key] for key, value in layer.items()}
            for name, layer in params.items()}


def train(x, y, params, lr=0.2, steps=600, report_every=0):
    """Full-batch gradient descent; returns (params, [(step, loss), ...])."""
    history = []
    for i in range(steps + 1):
        value, grads = loss_and_grads(params, x, y)
        if report_every and i % report_every == 0:
            history.append((i, value))
            print(f"step {i:4d}  loss {value:.5f}")
        if i < steps:
            params = step(params, grads, lr)
    return params, history


def main():
    x, y = make_data()
    params, history = train(x, y, init_params(), report_every=100)
    print(f"the target's variance is {np.var(y):.5f}; the fit's loss {history[-1][1]:.5f}")
    print()
    print(loss_and_grads.source)


if __name__ == "__main__":
    main()
