"""A model written as a class: hyper-parameters on the object, parameters passed in.

    model = MLP(sizes=[2, 16, 3], activation="tanh", weight_decay=1e-3)
    dloss = s2sad.grad(model.loss)          # a bound method
    grads = dloss(params, X, Y)             # a list of (dW, db), like params

`MLP.loss` calls the model's own methods (`self.forward`, `self.activate`) and reads
its attributes. A string attribute is read when the call is compiled:
`self.activation == "tanh"` picks the branch then, so the generated code holds only
the tanh; a float attribute is read at each call (the generated function takes
`self_weight_decay`). The parameters are a list of `(W, b)` layers, walked with
`for W, b in params[:-1]:` and `params[-1]`; the gradient comes back as a list of
`(dW, db)` tuples in the same order.

The task: three Gaussian blobs in the plane (seeded), softmax cross-entropy, plain
full-batch gradient descent. The script prints the loss and accuracy as it trains,
then the generated gradient.

    python examples/class_model.py
"""
import numpy as np

import s2sad


class MLP:
    def __init__(self, sizes, activation="tanh", weight_decay=1e-3):
        self.sizes = sizes
        self.activation = activation
        self.weight_decay = weight_decay

    def init_params(self, seed=0):
        rng = np.random.default_rng(seed)
        return [(rng.normal(size=(m, n)) / np.sqrt(m), np.zeros(n))
                for m, n in zip(self.sizes[:-1], self.sizes[1:])]

    def activate(self, z):
        if self.activation == "tanh":
            return np.tanh(z)
        return np.maximum(z, 0.0)

    def forward(self, params, X):
        h = X
        for W, b in params[:-1]:
            h = self.activate(h @ W + b)
        W_out, b_out = params[-1]
        return h @ W_out + b_out

    def loss(self, params, X, Y):
        """Mean softmax cross-entropy against one-hot Y, plus weight decay."""
        logits = self.forward(params, X)
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        data = -np.mean(np.sum(Y * log_probs, axis=1))
        penalty = 0.0
        for W, _ in params:
            penalty = penalty + np.sum(W ** 2)
        return data + self.weight_decay * penalty

    def accuracy(self, params, X, labels):
        return np.mean(np.argmax(self.forward(params, X), axis=1) == labels)


def make_blobs(per_class=60, seed=0):
    """Three Gaussian blobs around the corners of a triangle; X, one-hot Y, labels."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 1.0], [-1.0, -0.6], [1.0, -0.6]])
    labels = np.repeat(np.arange(3), per_class)
    X = centres[labels] + 0.35 * rng.normal(size=(3 * per_class, 2))
    return X, np.eye(3)[labels], labels


def train(model, X, Y, labels, lr=0.5, steps=300, report_every=0):
    """Full-batch gradient descent; returns (params, [(step, loss, accuracy), ...])."""
    dloss = s2sad.grad(model.loss)
    params = model.init_params()
    history = []
    for i in range(steps + 1):
        if report_every and i % report_every == 0:
            value = model.loss(params, X, Y)
            history.append((i, value, model.accuracy(params, X, labels)))
            print(f"step {i:4d}  loss {value:.4f}  accuracy {history[-1][2]:.3f}")
        if i < steps:
            grads = dloss(params, X, Y)
            params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
    return params, history, dloss


def main():
    X, Y, labels = make_blobs()
    model = MLP(sizes=[2, 16, 3], activation="tanh", weight_decay=1e-3)
    params, history, dloss = train(model, X, Y, labels, report_every=50)
    print()
    print(dloss.source)


if __name__ == "__main__":
    main()
