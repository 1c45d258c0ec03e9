"""patterns.py before/after: the gradient with the forms of s2sad/patterns.py recognised and
without (the same code otherwise), against the hand-written gradient.

    python3 benchmarks/patterns_before_after.py [ROW ...]      # ROUNDS=21 by default

Rows: benchmarks/programs.py's programs where a form is recognised, and a few of this
file's own (a least-squares loss written with R.T @ R, a Gram product, logsumexp,
log-softmax, a sigmoid MLP, inv + slogdet). Each round times the hand gradient, the
gradient before and after once each, in a rotating order; the table gives the medians
of the times and of the per-round ratios to the hand gradient. A script, not a test.
"""
import gc
import os
import statistics
import sys
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

import programs  # noqa: E402
import s2sad  # noqa: E402
import s2sad.api as api  # noqa: E402
from s2sad import patterns  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "21"))
rng = np.random.default_rng(3)



def lsq_gram(A, X, Y):
    R = X @ A - Y
    E = R.T @ R
    return E[0, 0]


def lsq_hand(A, X, Y):
    return (2.0 * (X.T @ (X @ A - Y)),)


def gram_loss(W, X):
    H = np.tanh(X @ W)
    G = H.T @ H
    return np.sum(G * C64)


def gram_hand(W, X):
    H = np.tanh(X @ W)
    dG = C64
    dH = H @ (dG + dG.T)
    return (X.T @ (dH * (1 - H * H)),)


C64 = rng.normal(size=(64, 64))


def logsumexp_loss(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def logsumexp_hand(x):
    e = np.exp(x - np.max(x))
    return (e / np.sum(e),)


def logsoftmax_loss(Z, Y):
    z = Z - np.max(Z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / Z.shape[0]


def logsoftmax_hand(Z, Y):
    z = Z - np.max(Z, axis=1, keepdims=True)
    e = np.exp(z)
    p = e / np.sum(e, axis=1, keepdims=True)
    return ((p * np.sum(Y, axis=1, keepdims=True) - Y) / Z.shape[0], )


def mlp_sigmoid(W1, W2, X, T):
    H = 1 / (1 + np.exp(-(X @ W1)))
    O = H @ W2
    return 0.5 * np.sum((O - T) ** 2)


def mlp_sigmoid_hand(W1, W2, X, T):
    H = 1 / (1 + np.exp(-(X @ W1)))
    dO = H @ W2 - T
    dH = dO @ W2.T
    dZ = dH * H * (1 - H)
    return X.T @ dZ, H.T @ dO


def gp_inverse(K, y):
    K_inv = np.linalg.inv(K)
    alpha = K_inv @ y
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet


def gp_inverse_hand(K, y):
    K_inv = np.linalg.inv(K)
    alpha = K_inv @ y
    return (0.5 * (K_inv.T - np.outer(alpha, alpha)),)


def gp_scipy(K, y):
    L = scipy.linalg.cholesky(K, lower=True)
    alpha = scipy.linalg.cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def gp_scipy_hand(K, y):
    factor = scipy.linalg.cho_factor(K, lower=True)
    alpha = scipy.linalg.cho_solve(factor, y)
    W = scipy.linalg.cho_solve(factor, np.eye(len(y)))
    G = 0.5 * (W - np.outer(alpha, alpha))
    return (np.tril(2 * G) - np.diag(np.diag(G)),)  # (on the triangle cholesky reads)


def own_rows():
    X = rng.normal(size=(20000, 50)); A = rng.normal(size=(50, 1)); Y = rng.normal(size=(20000, 1))
    Xg = rng.normal(size=(500, 32)); Wg = 0.1 * rng.normal(size=(32, 64))
    x = rng.normal(size=100000)
    Z = rng.normal(size=(512, 100)); Yo = np.eye(100)[rng.integers(0, 100, 512)]
    W1 = 0.1 * rng.normal(size=(64, 128)); W2 = 0.1 * rng.normal(size=(128, 10))
    Xm = rng.normal(size=(512, 64)); Tm = rng.normal(size=(512, 10))
    B = rng.normal(size=(200, 200)); K = B @ B.T + 200 * np.eye(200); yk = rng.normal(size=200)
    return [("lsq R.T @ R", lsq_gram, (0,), (A, X, Y), lsq_hand),
            ("Gram H.T @ H", gram_loss, (0,), (Wg, Xg), gram_hand),
            ("logsumexp 1e5", logsumexp_loss, (0,), (x,), logsumexp_hand),
            ("log-softmax rows", logsoftmax_loss, (0,), (Z, Yo), logsoftmax_hand),
            ("sigmoid MLP", mlp_sigmoid, (0, 1), (W1, W2, Xm, Tm), mlp_sigmoid_hand),
            ("inv + slogdet", gp_inverse, (0,), (K, yk), gp_inverse_hand),
            ("GP scipy cho_solve", gp_scipy, (0,), (K, yk), gp_scipy_hand)]



def compiled_pair(primal, wrt, args):
    """(before, after): compiled with patterns.recognise switched off, then on."""
    real = patterns.recognise
    off = s2sad.grad(primal, wrt=wrt)
    patterns.recognise = lambda analysed: 0
    try:
        off(*args)
    finally:
        patterns.recognise = real
    api._CACHE.clear()
    on = s2sad.grad(primal, wrt=wrt)
    on(*args)
    return off, on


def per_call(f, args, n):
    return min(timeit.repeat(lambda: f(*args), number=n, repeat=3)) / n


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def relative_difference(one, other) -> float:
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))) /
                     (1e-300 + np.max(np.abs(np.asarray(b)))))
               for a, b in zip(_as_tuple(one), _as_tuple(other)))


def main():
    rows = [(p.key, p.primal, p.wrt, p.args, p.hand) for p in programs.make_programs()]
    rows += own_rows()
    wanted = sys.argv[1:]
    for key, primal, wrt, args, hand in rows:
        if wanted and not any(w.lower() in key.lower() for w in wanted):
            continue
        before, after = compiled_pair(primal, wrt, args)
        if before.source == after.source:
            continue  # no form recognised: nothing to compare
        difference = relative_difference(after(*args), before(*args))
        calls = max(1, timeit.Timer(lambda: hand(*args)).autorange()[0] // 5)
        columns = [("hand", hand), ("before", before), ("after", after)]
        times = {column: [] for column, _ in columns}
        gc.disable()
        for r in range(ROUNDS):
            for column, f in columns[r % 3:] + columns[:r % 3]:
                times[column].append(per_call(f, args, calls))
        gc.enable()
        ms = {column: statistics.median(t) * 1e3 for column, t in times.items()}
        ratio = {column: statistics.median(t / h for t, h in zip(times[column], times["hand"]))
                 for column in ("before", "after")}
        print(f"{key:22s} hand {ms['hand']:8.3f} ms | before {ms['before']:8.3f} ms "
              f"{ratio['before']:5.2f}x | after {ms['after']:8.3f} ms {ratio['after']:5.2f}x "
              f"| rel.diff {difference:.0e}", flush=True)


if __name__ == "__main__":
    main()
