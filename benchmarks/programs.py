"""Benchmark programs of issue 19, written the way a user would, each with a hand gradient.

Seven new kinds of program (a heat-equation stencil, softmax cross-entropy over rows,
scaled dot-product attention, an LSTM unrolled in time, a Gaussian-process negative log
marginal likelihood, logistic regression, n-body), and the loop benchmarks of issue 6
(Horner, convolution, RK4) in other spellings of their lengths (`a.shape[0]`,
`np.shape(a)[0]`, `a.size`, `n, = a.shape`), so that a gradient whose cost depends on how
a length was spelled shows up as a row of its own.

The primals are ordinary code, not tuned for s2sad. Each hand gradient is what a careful
person writes with NumPy: closed forms for the vectorised programs, a forward loop that
keeps the state the reverse loop needs for the loops. tests/test_benchmark_functions.py
checks every hand gradient against central differences and against s2sad's gradient, at
the small sizes of `make_programs(small=True)`.
"""
import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np
import scipy.linalg


@dataclass
class Program:
    key: str                                # short name
    label: str                              # the row's label
    primal: Callable
    args: tuple
    wrt: tuple
    hand: Callable                          # returns a tuple, one gradient per wrt entry
    autograd_ok: bool = True                # the same source runs on autograd.numpy
    jit: bool = False                       # a loop program: also time jit=True
    family: str = ""                        # rows that are spellings of one program


# -- heat equation: explicit Euler steps of u_t = u_xx on a 1-d rod, ends held fixed --------

def heat(u0, r, target, steps):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:-1] = un[1:-1] + r * (un[2:] - 2 * un[1:-1] + un[:-2])
    return np.sum((u - target) ** 2)


def heat_len(u0, r, target, steps):
    n = len(u0)
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:n - 1] = un[1:n - 1] + r * (un[2:n] - 2 * un[1:n - 1] + un[0:n - 2])
    return np.sum((u - target) ** 2)


def heat_np_shape(u0, r, target, steps):
    n = np.shape(u0)[0]
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:n - 1] = un[1:n - 1] + r * (un[2:n] - 2 * un[1:n - 1] + un[0:n - 2])
    return np.sum((u - target) ** 2)


def heat_hand(u0, r, target, steps):
    """Keep each step's Laplacian (what dr reads); the update is linear in u, so the
    reverse step is the transposed stencil."""
    u = u0.copy()
    laps = np.empty((steps, len(u0) - 2))
    for t in range(steps):
        lap = laps[t]
        np.subtract(u[2:], 2 * u[1:-1], out=lap)
        lap += u[:-2]
        u[1:-1] += r * lap
    du = 2.0 * (u - target)
    dr = 0.0
    for t in range(steps - 1, -1, -1):
        inner = du[1:-1].copy()
        dr += inner @ laps[t]
        du[1:-1] -= 2 * r * inner
        du[2:] += r * inner
        du[:-2] += r * inner
    return du, dr


# -- softmax over rows and cross-entropy, integer labels -------------------------------------

def softmax_xent(W, X, labels):
    logits = X @ W
    logits = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits)
    p = e / np.sum(e, axis=1, keepdims=True)
    n = len(labels)
    return -np.mean(np.log(p[np.arange(n), labels]))


def softmax_xent_hand(W, X, labels):
    """d(mean -log p[label])/dlogits = (p - onehot) / n."""
    logits = X @ W
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    n = len(labels)
    p[np.arange(n), labels] -= 1.0
    p /= n
    return (X.T @ p,)


# -- scaled dot-product attention, one head, squared error against a target ------------------

def attention(Wq, Wk, Wv, X, target):
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    d = Q.shape[1]
    scores = Q @ K.T / np.sqrt(d)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=1, keepdims=True)
    out = weights @ V
    return 0.5 * np.sum((out - target) ** 2)


def attention_hand(Wq, Wk, Wv, X, target):
    """Backpropagation through the softmax rows: dS = A * (dA - rowsum(dA * A))."""
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    scale = 1.0 / math.sqrt(Q.shape[1])
    S = (Q @ K.T) * scale
    S -= S.max(axis=1, keepdims=True)
    A = np.exp(S)
    A /= A.sum(axis=1, keepdims=True)
    dout = A @ V
    dout -= target
    dV = A.T @ dout
    dA = dout @ V.T
    dA -= np.sum(dA * A, axis=1, keepdims=True)
    dA *= A
    dA *= scale
    dQ = dA @ K
    dK = dA.T @ Q
    return X.T @ dQ, X.T @ dK, X.T @ dV


# -- an LSTM unrolled in time, a batch of sequences, loss on the last hidden state -----------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm(Wx, Wh, b, xs, target):
    T = len(xs)
    H = Wh.shape[0]
    h = np.zeros((xs.shape[1], H))
    c = np.zeros((xs.shape[1], H))
    for t in range(T):
        z = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :H])
        f = sigmoid(z[:, H:2 * H])
        o = sigmoid(z[:, 2 * H:3 * H])
        g = np.tanh(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return 0.5 * np.sum((h - target) ** 2)


def lstm_shape(Wx, Wh, b, xs, target):
    T = xs.shape[0]
    batch = xs.shape[1]
    H = len(Wh)
    h = np.zeros((batch, H))
    c = np.zeros((batch, H))
    for t in range(T):
        z = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :H])
        f = sigmoid(z[:, H:2 * H])
        o = sigmoid(z[:, 2 * H:3 * H])
        g = np.tanh(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return 0.5 * np.sum((h - target) ** 2)


def lstm_unpack(Wx, Wh, b, xs, target):
    T, batch, _ = xs.shape
    H = b.size // 4
    h = np.zeros((batch, H))
    c = np.zeros((batch, H))
    for t in range(T):
        z = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :H])
        f = sigmoid(z[:, H:2 * H])
        o = sigmoid(z[:, 2 * H:3 * H])
        g = np.tanh(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return 0.5 * np.sum((h - target) ** 2)


def lstm_hand(Wx, Wh, b, xs, target):
    """Backpropagation through time: the forward loop keeps each step's gates, cell and
    previous hidden state; the reverse loop runs the cell's chain rule backwards."""
    T, batch, _ = xs.shape
    H = Wh.shape[0]
    h = np.zeros((batch, H))
    c = np.zeros((batch, H))
    tape = []
    for t in range(T):
        z = xs[t] @ Wx + h @ Wh + b
        gates = 1.0 / (1.0 + np.exp(-z[:, :3 * H]))
        g = np.tanh(z[:, 3 * H:])
        c_prev = c
        c = gates[:, H:2 * H] * c + gates[:, :H] * g
        tc = np.tanh(c)
        tape.append((h, c_prev, gates, g, tc))
        h = gates[:, 2 * H:] * tc
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros_like(b)
    dh = h - target
    dc = np.zeros((batch, H))
    dz = np.empty((batch, 4 * H))
    for t in range(T - 1, -1, -1):
        h_prev, c_prev, gates, g, tc = tape[t]
        i, f, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
        dc += dh * o * (1.0 - tc * tc)
        dz[:, :H] = dc * g
        dz[:, H:2 * H] = dc * c_prev
        dz[:, 2 * H:3 * H] = dh * tc
        dz[:, :3 * H] *= gates * (1.0 - gates)
        dz[:, 3 * H:] = dc * i * (1.0 - g * g)
        dc *= f
        dWx += xs[t].T @ dz
        dWh += h_prev.T @ dz
        db += dz.sum(axis=0)
        dh = dz @ Wh.T
    return dWx, dWh, db


# -- Gaussian-process negative log marginal likelihood (Rasmussen & Williams, alg. 2.1) -------

def gp_nll(log_ell, log_sf, log_sn, X, y):
    n = X.shape[0]
    ell = np.exp(log_ell)
    sf2 = np.exp(2 * log_sf)
    sn2 = np.exp(2 * log_sn)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = sf2 * np.exp(-0.5 * sq / ell ** 2) + sn2 * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


def gp_nll_slogdet(log_ell, log_sf, log_sn, X, y):
    n = len(y)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(2 * log_sf) * np.exp(-0.5 * sq / np.exp(2 * log_ell))
    K = K + np.exp(2 * log_sn) * np.eye(n)
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * np.dot(y, alpha) + 0.5 * logdet + 0.5 * n * math.log(2 * math.pi)


def gp_hand(log_ell, log_sf, log_sn, X, y):
    """dNLL/dK = (K^-1 - alpha alpha^T) / 2 from one Cholesky factorisation, then the
    kernel's derivative in each log hyperparameter."""
    n = X.shape[0]
    ell2 = math.exp(2 * log_ell)
    sf2 = math.exp(2 * log_sf)
    sn2 = math.exp(2 * log_sn)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    Kf = sf2 * np.exp(-0.5 / ell2 * sq)
    K = Kf + sn2 * np.eye(n)
    factor = scipy.linalg.cho_factor(K, lower=True)
    alpha = scipy.linalg.cho_solve(factor, y)
    W = scipy.linalg.cho_solve(factor, np.eye(n))
    W -= np.outer(alpha, alpha)
    W *= 0.5
    WKf = W * Kf
    return float(np.sum(WKf * sq) / ell2), float(2.0 * np.sum(WKf)), \
        float(2.0 * sn2 * np.trace(W))


# -- logistic regression, mean log-loss and an L2 penalty ------------------------------------

def logistic(w, b, X, y, lam):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss + lam * np.sum(w ** 2)


def logistic_hand(w, b, X, y, lam):
    """dloss/dz = (p - y) / n."""
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    p -= y
    p /= len(y)
    return X.T @ p + 2.0 * lam * w, float(np.sum(p))


# -- n-body: pairwise gravity (G = 1, softened), semi-implicit Euler steps --------------------

def nbody(pos, vel, masses, dt, steps):
    n = len(pos)
    for _ in range(steps):
        diff = pos[np.newaxis, :, :] - pos[:, np.newaxis, :]
        r2 = np.sum(diff ** 2, axis=2) + 0.01
        inv_r3 = r2 ** -1.5 * (1.0 - np.eye(n))
        acc = np.sum(diff * (inv_r3 * masses)[:, :, np.newaxis], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    return 0.5 * np.sum(masses[:, np.newaxis] * vel ** 2) + np.sum(pos ** 2)


def nbody_shape(pos, vel, masses, dt, steps):
    n = pos.shape[0]
    for _ in range(steps):
        diff = pos[np.newaxis, :, :] - pos[:, np.newaxis, :]
        r2 = np.sum(diff ** 2, axis=2) + 0.01
        inv_r3 = r2 ** -1.5 * (1.0 - np.eye(n))
        acc = np.sum(diff * (inv_r3 * masses)[:, :, np.newaxis], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    return 0.5 * np.sum(masses[:, np.newaxis] * vel ** 2) + np.sum(pos ** 2)


def nbody_unpack(pos, vel, masses, dt, steps):
    n, dim = pos.shape
    for _ in range(steps):
        diff = pos[np.newaxis, :, :] - pos[:, np.newaxis, :]
        r2 = np.sum(diff ** 2, axis=2) + 0.01
        inv_r3 = r2 ** -1.5 * (1.0 - np.eye(n))
        acc = np.sum(diff * (inv_r3 * masses)[:, :, np.newaxis], axis=1)
        vel = vel + dt * acc
        pos = pos + dt * vel
    return 0.5 * np.sum(masses[:, np.newaxis] * vel ** 2) + np.sum(pos ** 2)


def _forces(pos, masses, mask):
    """(diff, pairwise weights w_ij = m_j / r_ij^3, r2) of the softened gravity."""
    diff = pos[np.newaxis, :, :] - pos[:, np.newaxis, :]
    r2 = np.einsum("ijk,ijk->ij", diff, diff)
    r2 += 0.01
    w = r2 ** -1.5
    w *= mask
    w *= masses
    return diff, w, r2


def nbody_hand(pos, vel, masses, dt, steps):
    """The forward loop keeps each step's positions (the state the forces read); the
    reverse loop recomputes that step's pairwise terms and backpropagates through them."""
    mask = 1.0 - np.eye(len(pos))
    trajectory = []
    for _ in range(steps):
        trajectory.append(pos)
        diff, w, _ = _forces(pos, masses, mask)
        vel = vel + dt * np.einsum("ijk,ij->ik", diff, w)
        pos = pos + dt * vel
    dpos = 2.0 * pos
    dvel = masses[:, np.newaxis] * vel
    for t in range(steps - 1, -1, -1):
        dvel += dt * dpos                  # pos' = pos + dt vel'
        dacc = dt * dvel                   # vel' = vel + dt acc
        diff, w, r2 = _forces(trajectory[t], masses, mask)
        # acc_i = sum_j diff_ij w_ij, w_ij = m_j mask_ij r2_ij^-1.5, r2_ij = |diff_ij|^2 + eps
        ddiff = dacc[:, np.newaxis, :] * w[:, :, np.newaxis]
        dr2 = np.einsum("ik,ijk->ij", dacc, diff) * w * (-1.5 / r2)
        ddiff += 2.0 * diff * dr2[:, :, np.newaxis]
        dpos = dpos + ddiff.sum(axis=0) - ddiff.sum(axis=1)   # diff_ij = pos_j - pos_i
    return dpos, dvel


# -- the loop benchmarks of issue 6 in other spellings of their lengths ----------------------

def horner_shape(x, c):
    n = c.shape[0]
    p = 0.0
    for i in range(n):
        p = p * x + c[i]
    return p


def horner_np_shape(x, c):
    n = np.shape(c)[0]
    p = 0.0
    for i in range(n):
        p = p * x + c[i]
    return p


def horner_size(x, c):
    p = 0.0
    for i in range(c.size):
        p = p * x + c[i]
    return p


def conv_shape(a, b):
    n = a.shape[0]
    m = b.shape[0]
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def conv_np_shape(a, b):
    n = np.shape(a)[0]
    m = np.shape(b)[0]
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def conv_unpack(a, b):
    n, = a.shape
    m = b.size
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def rk4_grid_shape(y0, lam, ts):
    """RK4 for dy/dt = -lam y + sin(t) on the time grid ts (steps of any size)."""
    y = y0
    for i in range(ts.shape[0] - 1):
        t = ts[i]
        h = ts[i + 1] - ts[i]
        k1 = -lam * y + np.sin(t)
        k2 = -lam * (y + 0.5 * h * k1) + np.sin(t + 0.5 * h)
        k3 = -lam * (y + 0.5 * h * k2) + np.sin(t + 0.5 * h)
        k4 = -lam * (y + h * k3) + np.sin(t + h)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def rk4_grid_np_shape(y0, lam, ts):
    n = np.shape(ts)[0]
    y = y0
    for i in range(n - 1):
        t = ts[i]
        h = ts[i + 1] - ts[i]
        k1 = -lam * y + np.sin(t)
        k2 = -lam * (y + 0.5 * h * k1) + np.sin(t + 0.5 * h)
        k3 = -lam * (y + 0.5 * h * k2) + np.sin(t + 0.5 * h)
        k4 = -lam * (y + h * k3) + np.sin(t + h)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def rk4_grid_size(y0, lam, ts):
    steps = ts.size - 1
    y = y0
    for i in range(steps):
        t = ts[i]
        h = ts[i + 1] - ts[i]
        k1 = -lam * y + np.sin(t)
        k2 = -lam * (y + 0.5 * h * k1) + np.sin(t + 0.5 * h)
        k3 = -lam * (y + 0.5 * h * k2) + np.sin(t + 0.5 * h)
        k4 = -lam * (y + h * k3) + np.sin(t + h)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def rk4_grid_hand(y0, lam, ts):
    """The forward loop (the primal's own, stage by stage) keeps each step's four stage
    states; the reverse loop runs the stages backwards (as run.py's rk4_hand, with a step
    size per step)."""
    steps = len(ts) - 1
    tape = []
    y = y0
    for i in range(steps):
        t = ts[i]
        h = ts[i + 1] - ts[i]
        s = np.sin(t + 0.5 * h)
        k1 = -lam * y + np.sin(t)
        y2 = y + 0.5 * h * k1
        k2 = -lam * y2 + s
        y3 = y + 0.5 * h * k2
        k3 = -lam * y3 + s
        y4 = y + h * k3
        k4 = -lam * y4 + np.sin(t + h)
        tape.append((h, y, y2, y3, y4))
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    dy = 1.0
    dlam = 0.0
    for i in range(steps - 1, -1, -1):
        h, y, y2, y3, y4 = tape[i]
        dk1 = dy * h / 6.0
        dk4 = dk1
        dk2 = dk3 = 2.0 * dk1
        dlam -= dk4 * y4
        dy4 = -lam * dk4
        dk3 += h * dy4
        dlam -= dk3 * y3
        dy3 = -lam * dk3
        dk2 += 0.5 * h * dy3
        dlam -= dk2 * y2
        dy2 = -lam * dk2
        dk1 += 0.5 * h * dy2
        dlam -= dk1 * y
        dy = dy + dy4 + dy3 + dy2 - lam * dk1
    return float(dy), float(dlam)


def horner_hand(x, c):
    """As run.py's: a list keeps each old p, one reverse loop."""
    n = len(c)
    ps = []
    p = 0.0
    for i in range(n):
        ps.append(p)
        p = p * x + c[i]
    dc = np.empty(n)
    dx = 0.0
    dp = 1.0
    for i in range(n - 1, -1, -1):
        dc[i] = dp
        dx += dp * ps[i]
        dp *= x
    return dx, dc


def conv_hand(a, b):
    """The forward loops, then the lecture's two accumulations."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    dc = 2.0 * c
    da = np.zeros(n)
    db = np.zeros(m)
    for i in range(n):
        for k in range(m):
            da[i] += dc[i + k] * b[k]
            db[k] += dc[i + k] * a[i]
    return da, db


# -- the rows --------------------------------------------------------------------------------

def make_programs(small: bool = False) -> List[Program]:
    """Every row, at benchmark sizes (each gradient call 0.5-50 ms) or, with small=True,
    at sizes for the tests (central differences over every entry stay fast)."""
    rng = np.random.default_rng(19)

    def sizes(full, tiny):
        return tiny if small else full

    n_horner = sizes(3000, 12)
    coefficients = rng.normal(size=n_horner)
    n_conv, k_conv = sizes((256, 8), (10, 3))
    a, b = rng.normal(size=n_conv), rng.normal(size=k_conv)
    steps = sizes(1000, 20)
    ts = np.linspace(0.0, 10.0, steps + 1) + np.concatenate(
        ([0.0], 0.2 * 10.0 / steps * rng.uniform(-1, 1, steps - 1), [0.0]))  # uneven grid

    n_rod, heat_steps = sizes((500, 100), (12, 6))
    r = 0.2
    u0 = np.sin(np.linspace(0.0, math.pi, n_rod)) + 0.1 * rng.normal(size=n_rod)
    u_target = 0.5 * np.sin(np.linspace(0.0, math.pi, n_rod))

    rows, features, classes = sizes((4000, 64, 10), (7, 4, 3))
    X = rng.normal(size=(rows, features))
    W = 0.1 * rng.normal(size=(features, classes))
    labels = rng.integers(0, classes, size=rows)

    tokens, width, head = sizes((256, 128, 64), (5, 4, 3))
    Xa = rng.normal(size=(tokens, width))
    Wq, Wk, Wv = (rng.normal(size=(width, head)) / math.sqrt(width) for _ in range(3))
    attention_target = rng.normal(size=(tokens, head))

    T, batch, inputs, hidden = sizes((20, 32, 16, 32), (3, 2, 3, 2))
    xs = rng.normal(size=(T, batch, inputs))
    Wx = rng.normal(size=(inputs, 4 * hidden)) / math.sqrt(inputs)
    Wh = rng.normal(size=(hidden, 4 * hidden)) / math.sqrt(hidden)
    bias = 0.1 * rng.normal(size=4 * hidden)
    lstm_target = 0.5 * rng.normal(size=(batch, hidden))

    points = sizes(200, 8)
    Xg = rng.uniform(-2.0, 2.0, size=(points, 3))
    yg = np.sin(Xg[:, 0]) * np.cos(Xg[:, 1]) + 0.1 * rng.normal(size=points)
    hyper = (math.log(1.2), math.log(0.9), math.log(0.3))

    samples, dims = sizes((40000, 50), (9, 3))
    Xl = rng.normal(size=(samples, dims))
    yl = (Xl @ rng.normal(size=dims) + 0.5 * rng.normal(size=samples) > 0).astype(float)
    wl = 0.1 * rng.normal(size=dims)

    bodies, nbody_steps = sizes((32, 10), (4, 3))
    pos = rng.uniform(-1.0, 1.0, size=(bodies, 3))
    vel = 0.1 * rng.normal(size=(bodies, 3))
    masses = rng.uniform(0.5, 1.5, size=bodies) / bodies

    def program(key, label, primal, args, wrt, hand, **options):
        return Program(key, label, primal, args, wrt, hand, **options)

    heat_args = (u0, r, u_target, heat_steps)
    lstm_args = (Wx, Wh, bias, xs, lstm_target)
    nbody_args = (pos, vel, masses, 0.01, nbody_steps)
    rk4_args = (1.0, 0.5, ts)
    return [
        program("Horner shape", f"Horner, n = c.shape[0], {n_horner}", horner_shape,
                (0.98, coefficients), (0, 1), horner_hand, jit=True, family="Horner"),
        program("Horner np.shape", f"Horner, n = np.shape(c)[0], {n_horner}",
                horner_np_shape, (0.98, coefficients), (0, 1), horner_hand, jit=True,
                family="Horner"),
        program("Horner size", f"Horner, range(c.size), {n_horner}", horner_size,
                (0.98, coefficients), (0, 1), horner_hand, jit=True, family="Horner"),
        program("conv shape", f"convolution, a.shape[0], n={n_conv}, k={k_conv}",
                conv_shape, (a, b), (0, 1), conv_hand, autograd_ok=False, jit=True,
                family="convolution"),
        program("conv np.shape", f"convolution, np.shape(a)[0], n={n_conv}, k={k_conv}",
                conv_np_shape, (a, b), (0, 1), conv_hand, autograd_ok=False, jit=True,
                family="convolution"),
        program("conv unpack", f"convolution, n, = a.shape; b.size, n={n_conv}, k={k_conv}",
                conv_unpack, (a, b), (0, 1), conv_hand, autograd_ok=False, jit=True,
                family="convolution"),
        program("RK4 grid shape", f"RK4 on a time grid, ts.shape[0], {steps} steps",
                rk4_grid_shape, rk4_args, (0, 1), rk4_grid_hand, jit=True, family="RK4"),
        program("RK4 grid np.shape", f"RK4 on a time grid, np.shape(ts)[0], {steps} steps",
                rk4_grid_np_shape, rk4_args, (0, 1), rk4_grid_hand, jit=True, family="RK4"),
        program("RK4 grid size", f"RK4 on a time grid, ts.size, {steps} steps",
                rk4_grid_size, rk4_args, (0, 1), rk4_grid_hand, jit=True, family="RK4"),
        program("heat", f"heat stencil, u[1:-1], n={n_rod}, {heat_steps} steps", heat,
                heat_args, (0, 1), heat_hand, autograd_ok=False, jit=True, family="heat"),
        program("heat len", f"heat stencil, n = len(u0), n={n_rod}, {heat_steps} steps",
                heat_len, heat_args, (0, 1), heat_hand, autograd_ok=False, jit=True,
                family="heat"),
        program("heat np.shape",
                f"heat stencil, n = np.shape(u0)[0], n={n_rod}, {heat_steps} steps",
                heat_np_shape, heat_args, (0, 1), heat_hand, autograd_ok=False, jit=True,
                family="heat"),
        program("softmax xent", f"softmax rows + cross-entropy, X {rows}x{features}, "
                f"{classes} classes", softmax_xent, (W, X, labels), (0,), softmax_xent_hand),
        program("attention", f"attention, {tokens} tokens, width {width}, head {head}",
                attention, (Wq, Wk, Wv, Xa, attention_target), (0, 1, 2), attention_hand),
        program("LSTM", f"LSTM, T = len(xs), T={T}, batch {batch}, hidden {hidden}", lstm,
                lstm_args, (0, 1, 2), lstm_hand, jit=True, family="LSTM"),
        program("LSTM shape", f"LSTM, T = xs.shape[0], T={T}, batch {batch}, hidden {hidden}",
                lstm_shape, lstm_args, (0, 1, 2), lstm_hand, jit=True, family="LSTM"),
        program("LSTM unpack", f"LSTM, T, batch, _ = xs.shape, T={T}, batch {batch}, "
                f"hidden {hidden}", lstm_unpack, lstm_args, (0, 1, 2), lstm_hand, jit=True,
                family="LSTM"),
        program("GP cholesky", f"GP neg. log likelihood, cholesky + solve, n={points}",
                gp_nll, (*hyper, Xg, yg), (0, 1, 2), gp_hand, family="GP"),
        program("GP slogdet", f"GP neg. log likelihood, solve + slogdet, n={points}",
                gp_nll_slogdet, (*hyper, Xg, yg), (0, 1, 2), gp_hand, family="GP"),
        program("logistic", f"logistic regression, X {samples}x{dims}", logistic,
                (wl, 0.1, Xl, yl, 1e-3), (0, 1), logistic_hand),
        program("n-body", f"n-body, n = len(pos), {bodies} bodies, {nbody_steps} steps",
                nbody, nbody_args, (0, 1), nbody_hand, jit=True, family="n-body"),
        program("n-body shape", f"n-body, n = pos.shape[0], {bodies} bodies, "
                f"{nbody_steps} steps", nbody_shape, nbody_args, (0, 1), nbody_hand,
                jit=True, family="n-body"),
        program("n-body unpack", f"n-body, n, dim = pos.shape, {bodies} bodies, "
                f"{nbody_steps} steps", nbody_unpack, nbody_args, (0, 1), nbody_hand,
                jit=True, family="n-body"),
    ]


def autograd_version(p: Program, anp) -> Optional[Callable]:
    """The program's own source on autograd.numpy (helpers rebound too), or None."""
    if anp is None or not p.autograd_ok:
        return None
    import types
    f = p.primal
    env = {**f.__globals__, "np": anp,
           "sigmoid": types.FunctionType(sigmoid.__code__, {**sigmoid.__globals__, "np": anp})}
    return types.FunctionType(f.__code__, env, f.__name__, f.__defaults__, f.__closure__)


def wrt_args(p: Program) -> Tuple[str, ...]:
    """The names of the differentiated parameters (for a table or a message)."""
    code = p.primal.__code__
    return tuple(code.co_varnames[i] for i in p.wrt)
