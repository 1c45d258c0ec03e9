"""The lecture's losses, written as a user writes them, and differentiated by s2sad.

Each loss is plain NumPy: no special functions, no autodiff-aware primitives, just
exp, log, sum and max. s2sad reads that source and writes the gradient.

* `mse(w, X, y)`: the mean squared error of a linear model, mean((Xw - y)^2);
  its gradient is the closed form 2 X^T (Xw - y) / n.
* `softmax_cross_entropy(W, X, labels_onehot)`: the cross-entropy of a softmax
  classifier with logits Z = X W, in the stable form that subtracts each row's
  maximum before exponentiating. The maximum is differentiated too, which is
  harmless: log-softmax is invariant to a shift of its row, so the row max's
  contribution to the gradient cancels (its adjoint is dZ summed over the row,
  and the rows of softmax - labels sum to zero). The gradient is
  X^T (softmax(Z) - labels) / n.
* `logsumexp(x)` by hand, m + log(sum(exp(x - m))) with m = max(x); its gradient
  is softmax(x), the max again cancelling.
* `soft_f1_loss(w, X, y)` (lecture §1.3): F1 is not differentiable in hard
  predictions, so the confusion matrix is made soft. With p = sigmoid(X w) the
  probability of predicting 1, tp = sum(p y), fp = sum(p (1 - y)),
  fn = sum((1 - p) y), and the loss is 1 - 2 tp / (2 tp + fp + fn).

`python examples/losses.py` prints each loss's generated gradient and compares it
with central differences:

    python examples/losses.py
    python -m s2sad grad examples/losses.py:soft_f1_loss --wrt w
"""
import numpy as np

import s2sad
from s2sad.check import numeric_grad


def mse(w, X, y):
    return np.mean((X @ w - y) ** 2)


def cross_entropy_from_logits(Z, labels_onehot):
    """Mean cross-entropy of softmax(Z) rows against one-hot labels, the stable way."""
    Z = Z - np.max(Z, axis=1, keepdims=True)
    log_p = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(labels_onehot * log_p, axis=1))


def softmax_cross_entropy(W, X, labels_onehot):
    # an ordinary call to a helper: s2sad inlines it
    return cross_entropy_from_logits(X @ W, labels_onehot)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def soft_f1_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    tp = np.sum(p * y)
    fp = np.sum(p * (1 - y))
    fn = np.sum((1 - p) * y)
    soft_f1 = 2 * tp / (2 * tp + fp + fn)
    return 1 - soft_f1


# only the weights are differentiated: X, y and the labels are data
dmse = s2sad.grad(mse, wrt=0)
dsoftmax_cross_entropy = s2sad.grad(softmax_cross_entropy, wrt=0)
dlogsumexp = s2sad.grad(logsumexp)
dsoft_f1_loss = s2sad.grad(soft_f1_loss, wrt=0)

LOSSES = {  # name: (loss, its gradient)
    "mse": (mse, dmse),
    "softmax_cross_entropy": (softmax_cross_entropy, dsoftmax_cross_entropy),
    "logsumexp": (logsumexp, dlogsumexp),
    "soft_f1_loss": (soft_f1_loss, dsoft_f1_loss),
}


def make_inputs(n=12, features=3, classes=4, seed=0):
    """Arguments for each loss: a small random problem, labels one-hot or 0/1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    w = rng.normal(size=features)
    W = rng.normal(size=(features, classes))
    labels = np.eye(classes)[rng.integers(0, classes, size=n)]
    y_real = X @ w + 0.1 * rng.normal(size=n)
    y_binary = (rng.uniform(size=n) < 0.5).astype(float)
    return {
        "mse": (w, X, y_real),
        "softmax_cross_entropy": (W, X, labels),
        "logsumexp": (3.0 * rng.normal(size=7),),
        "soft_f1_loss": (w, X, y_binary),
    }


def main():
    for name, args in make_inputs().items():
        loss, dloss = LOSSES[name]
        gradient = dloss(*args)
        print(dloss.source)
        error = np.max(np.abs(gradient - numeric_grad(loss, args, 0)))
        print(f"{name}: loss {loss(*args):.6f}, gradient shape {np.shape(gradient)}, "
              f"max |s2sad - central differences| {error:.2e}\n")


if __name__ == "__main__":
    main()
