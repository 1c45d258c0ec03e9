"""Counted loops for tests/test_checkpoint.py, in the spellings users write them.
(Kept in a file of their own: the line numbers the refusal tests check are these.)"""
import numpy as np


def rhs(y, theta):
    return -theta * y + np.sin(y)


def rk4(y0, theta, n):
    h = 0.01
    y = y0
    t = 0.0
    for i in range(n):
        k1 = rhs(y, theta)
        k2 = rhs(y + 0.5 * h * k1, theta)
        k3 = rhs(y + 0.5 * h * k2, theta)
        k4 = rhs(y + h * k3, theta)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t = t + h
    return np.sum(y ** 2) + t * theta


def scalar_map(x, a, n):
    """A scalar state, the parameter itself carried (no line before the loop)."""
    for _ in range(n):
        x = a * np.sin(x) + 0.1 * x
    return x * x


def with_index(w, xs):
    """The index reads data; the count from len(); an accumulated sum."""
    total = 0.0
    h = w
    for k in range(len(xs)):
        h = np.tanh(h * xs[k] + 0.5)
        total += h ** 2
    return total


def strided(x, n):
    """range(start, stop, step); two carried values, one only read after the loop."""
    s = x
    p = 1.0
    for j in range(2, n, 3):
        p = p * (1.0 + 0.1 * j * s)
        s = np.cos(s) + 0.01 * j
    return p + s


def nested(A, v, n):
    """An inner loop in the body (a matrix-vector product written out)."""
    m = A.shape[0]
    for step in range(n):
        u = np.zeros(m)
        for r in range(m):
            u[r] = np.dot(A[r], v)
        v = np.tanh(u) + 0.5 * v
    return np.sum(v * v)


def element_writes(c, theta, n):
    """The state is an array the body writes element by element."""
    u = c * 1.0
    for i in range(n):
        u[0] = u[0] + theta * np.sin(u[1])
        u[1] = u[1] - theta * np.cos(u[0])
    return u[0] * u[1] + np.sum(c)


def euler(y0, theta, n):
    h = 1.0 / (n + 1)
    y = y0
    for i in range(n):
        y = y + h * (-theta * y * y + 1.0)
    return y


def with_while(x, n):
    i = 0
    while i < n:
        x = np.sin(x)
        i += 1
    return x


def with_break(x, n):
    for i in range(n):
        x = np.sin(x)
        if x < 0.1:
            break
    return x


def with_append(x, n):
    xs = [x]
    for i in range(n):
        xs.append(np.sin(xs[-1]))
    return xs[-1]


def two_loops(x, n):
    for i in range(n):
        x = np.sin(x)
    for j in range(n):
        x = np.cos(x)
    return x


def no_loop(x):
    return x * x


def bound_in_loop(x, n):
    for i in range(n):
        x = np.sin(x)
        last = x * 2.0
    return last


def grows(x, n):
    y = 0.0
    for i in range(n):
        y = y + x
    return np.sum(y)


def cubic_field(y, theta):
    return -theta * y + 0.1 * y ** 3


def rk4_cubic(y0, theta, n):
    """RK4 on a polynomial field (Python floats throughout: cheap to trace)."""
    h = 0.001
    y = y0
    for i in range(n):
        k1 = cubic_field(y, theta)
        k2 = cubic_field(y + 0.5 * h * k1, theta)
        k3 = cubic_field(y + 0.5 * h * k2, theta)
        k4 = cubic_field(y + h * k3, theta)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y * y


def rk4_linear(y0, theta, n):
    """RK4 on dy/dt = -theta y (its exact solution is known), Python floats."""
    h = 0.0001
    y = y0
    for i in range(n):
        k1 = -theta * y
        k2 = -theta * (y + 0.5 * h * k1)
        k3 = -theta * (y + 0.5 * h * k2)
        k4 = -theta * (y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y * y


def rnn(W, xs, h0):
    """An RNN: a matrix invariant, the count from a shape, data read by the index."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def branchy(y, a, n):
    """An if in the body, augmented assignments."""
    for i in range(n):
        if i % 2 == 0:
            y *= a
        else:
            y += 0.1 * np.sin(y)
    return np.sum(y)


def counted_from_before(x, xs):
    """The count computed before the loop; an int carried beside the floats."""
    m = len(xs) - 1
    count = 0
    s = x * 0.5
    for i in range(1, m):
        count = count + 1
        s = s + xs[i] * np.cos(s) / count
    return s * s + count


def with_default(x, n=6):
    acc = 0.0
    for i in range(n):
        acc = acc + np.exp(-x * i)
    return acc


class Model:
    def __init__(self, decay):
        self.decay = decay

    def loss(self, x, n):
        for i in range(n):
            x = x - self.decay * x ** 3
        return x


def trajectory_end(y0, theta, n):
    """An array output, for vjp."""
    y = y0
    for i in range(n):
        y = y + 0.1 * (-theta * y + np.sin(y))
    return y * 2.0


def leapfrog(q0, p0, k, n):
    """Tuple assignment before the loop (read through the desugar stage)."""
    q, p = q0, p0
    dt = 0.05
    for _ in range(n):
        p = p - 0.5 * dt * k * q
        q = q + dt * p
        p = p - 0.5 * dt * k * q
    return np.sum(q ** 2 + p ** 2)


def swapping(a, b, n):
    """Tuple assignment in the body."""
    for i in range(n):
        a, b = b, a + 0.5 * np.sin(b)
    return a * b


def power_iteration(A, v, n):
    """A matrix invariant, a normalised vector state."""
    x = v
    for i in range(n):
        x = A @ x
        x = x / np.linalg.norm(x)
    return x @ A @ x


def keyword_only(x, *, n=5):
    for i in range(n):
        x = x * 0.9 + np.sin(x)
    return x


def carried_unbound(x, n):
    for i in range(n):
        if i > 0:
            x = x + previous
        previous = np.sin(x)
    return x
