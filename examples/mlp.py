"""A small multilayer perceptron classifier, trained with the gradient s2sad writes.

One hidden tanh layer and a softmax output:

    H = tanh(X W1 + b1)
    Z = H W2 + b2
    loss = mean cross-entropy of softmax(Z) against one-hot labels Y

on two interleaved half circles in the plane, the "two moons" (seeded, so every
run is the same). No straight line separates them, so the hidden layer has to
bend the boundary; the data has a margin, so the MLP reaches full accuracy. The loss
is written once, in NumPy, calling the stable cross-entropy helper from
`losses.py`; s2sad inlines the helper and differentiates the whole thing with
respect to the four parameters, `s2sad.grad(mlp_loss, wrt=(0, 1, 2, 3))`. That is
backpropagation: the adjoint sweep of the generated code runs through the output
layer, then through tanh (db = dH * (1 - H * H)), then through the first layer.
Training is plain full-batch gradient descent:

    python examples/mlp.py
    python -m s2sad grad examples/mlp.py:mlp_loss --wrt W1,b1,W2,b2
"""
import os
import sys

import numpy as np

import s2sad

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # imported from elsewhere: find the sibling example
    sys.path.insert(0, HERE)
from losses import cross_entropy_from_logits  # noqa: E402

CLASSES = 2


def mlp_loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    return cross_entropy_from_logits(Z, Y)


def predict(W1, b1, W2, b2, X):
    """The class with the largest logit, for each row of X."""
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


dmlp_loss = s2sad.grad(mlp_loss, wrt=(0, 1, 2, 3))   # X and Y are data


def make_moons(per_class=100, noise=0.1, seed=0):
    """Two noisy half circles; returns X (n x 2), one-hot Y (n x 2), the labels.

    Class 0 lies on the upper unit half circle, class 1 on the lower one shifted
    to (1, 0.5), the two hooked into each other.
    """
    rng = np.random.default_rng(seed)
    t = np.pi * rng.uniform(size=per_class)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    t = np.pi * rng.uniform(size=per_class)
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    X = np.vstack([upper, lower]) + noise * rng.normal(size=(2 * per_class, 2))
    labels = np.repeat(np.arange(CLASSES), per_class)
    return X, np.eye(CLASSES)[labels], labels


def init_params(hidden=8, seed=1):
    """Small random weights (tanh starts unsaturated), zero biases."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(2, hidden))
    b1 = np.zeros(hidden)
    W2 = 0.5 * rng.normal(size=(hidden, CLASSES))
    b2 = np.zeros(CLASSES)
    return W1, b1, W2, b2


def train(X, Y, params, lr=1.0, steps=1000, report_every=0):
    """Full-batch gradient descent; returns (params, [(step, loss), ...])."""
    history = []
    for step in range(steps + 1):
        if step == steps or (report_every and step % report_every == 0):
            history.append((step, mlp_loss(*params, X, Y)))
            if report_every:
                print(f"step {step:4d}   loss {history[-1][1]:.6f}")
        if step == steps:
            break
        grads = dmlp_loss(*params, X, Y)
        params = tuple(p - lr * g for p, g in zip(params, grads))
    return params, history


def accuracy(params, X, labels):
    return float(np.mean(predict(*params, X) == labels))


def main():
    X, Y, labels = make_moons()
    params = init_params()
    print(f"accuracy before training: {accuracy(params, X, labels):.3f}")
    params, _ = train(X, Y, params, report_every=100)
    print(dmlp_loss.source)
    print(f"accuracy after training: {accuracy(params, X, labels):.3f}")


if __name__ == "__main__":
    main()
