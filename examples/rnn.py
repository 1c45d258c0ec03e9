"""A small recurrent network, differentiated through time.

    h = 0
    for t in range(T):
        h = tanh(W @ h + U @ x[t] + b)
    loss = sum(h ** 2)

Every step overwrites the hidden state h, and the adjoint of step t needs the
h that step read and the h it wrote (tanh' = 1 - h^2), so the forward sweep keeps
one hidden state per step; the adjoint sweep is backpropagation through time,

    dz = dh * (1 - h_new ** 2)
    dW += outer(dz, h_old);  dU += outer(dz, x[t]);  db += dz
    dh = W.T @ dz

which `hand_gradient` writes out. The gradient with respect to W, U and b is
checked against it and against central differences.

    python examples/rnn.py
    python -m s2sad grad examples/rnn.py:rnn_loss --wrt W,U,b
"""
import numpy as np

import s2sad


def rnn_loss(W, U, b, x):
    h = np.zeros(W.shape[0])
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U @ x[t] + b)
    return np.sum(h ** 2)


def hand_gradient(W, U, b, x):
    """(dW, dU, db) by backpropagation through time: one reverse loop over the steps."""
    steps = x.shape[0]
    hs = [np.zeros(W.shape[0])]
    for t in range(steps):
        hs.append(np.tanh(W @ hs[-1] + U @ x[t] + b))
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dh = 2.0 * hs[-1]
    for t in range(steps - 1, -1, -1):
        dz = dh * (1.0 - hs[t + 1] ** 2)
        dW += np.outer(dz, hs[t])
        dU += np.outer(dz, x[t])
        db += dz
        dh = W.T @ dz
    return dW, dU, db


def central_differences(f, args, index, eps=1e-6):
    """Central differences of scalar f in every entry of array argument `index`."""
    args = [np.array(a, dtype=float) for a in args]
    result = np.zeros_like(args[index])
    for i in np.ndindex(result.shape):
        probe = args[index].copy()
        probe[i] += eps
        up = f(*args[:index], probe, *args[index + 1:])
        probe[i] -= 2 * eps
        down = f(*args[:index], probe, *args[index + 1:])
        result[i] = (up - down) / (2 * eps)
    return result


drnn = s2sad.grad(rnn_loss, wrt=(0, 1, 2))   # x is data: not differentiated


def make_inputs(hidden=4, features=3, steps=6, seed=7):
    """Small random weights (so tanh is not saturated) and an input sequence."""
    rng = np.random.default_rng(seed)
    W = 0.5 * rng.normal(size=(hidden, hidden))
    U = 0.5 * rng.normal(size=(hidden, features))
    b = 0.1 * rng.normal(size=hidden)
    x = rng.normal(size=(steps, features))
    return W, U, b, x


def main():
    W, U, b, x = make_inputs()
    print(drnn.source)
    print(f"loss = {rnn_loss(W, U, b, x):.12f}")
    got = drnn(W, U, b, x)
    hand = hand_gradient(W, U, b, x)
    for index, (name, g, h) in enumerate(zip(("dW", "dU", "db"), got, hand)):
        numeric = central_differences(rnn_loss, (W, U, b, x), index)
        scale = np.max(np.abs(h))
        print(f"{name} {g.shape}: rel. diff vs by hand {np.max(np.abs(g - h)) / scale:.1e}, "
              f"vs central differences {np.max(np.abs(g - numeric)) / scale:.1e}")
        np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


if __name__ == "__main__":
    main()
