"""What the primal fixes is known (issue 19, items 1 and 2).

* Sizes read from shapes in any spelling are Python ints (`a.shape[0]`, `n, m = A.shape`,
  `np.shape(a)[0]`, `len(a)`, `a.size`, `s[1:]`, `int(...)`): arrays built from them have a
  known rank, so scalar adjoints in loops are not wrapped in `np.sum`, and the generated
  code is the same whichever spelling the user chose (up to names).
* An index computed from loop counters (`x = z + y`) is computed again in the backward loop,
  not stored; nothing is initialised to a placeholder for it.
* Slices of equally shaped arrays (`u[1:-1]`, `un[2:]`, `un[:n - 2]`) share a shape class, so
  a stencil stores only the values its adjoint reads, not those it reads for their shape.
Every gradient is also checked against central differences.
"""
import re

import numpy as np
import pytest

import s2sad

from conftest import central_difference


def _body(source: str) -> str:
    """The generated function without its comments, names numbered by first appearance,
    and `len(x)` written `x.shape[0]` (the two spellings of one int). The entry that
    takes structured arguments (`n, m = A.shape` goes through the desugar stage) is
    a wrapper of one call, not the code that runs."""
    source = source.split("\n\ndef grad_")[0] + "\n\ndef grad_" + \
        source.split("\n\ndef grad_")[1].split("\n\n\ndef ")[0]
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    code = re.sub(r"\blen\((\w+)\)", r"\1.shape[0]", code)
    code = re.sub(r"def \w+\(", "def FUNCTION(", code)
    seen = {}
    keep = {"FUNCTION", "np", "range", "reversed", "zeros_like", "unbroadcast", "shape", "sum", "zeros",
            "tape", "append", "pop", "return", "for", "in", "def", "import", "from", "as",
            "numpy", "s2sad", "runtime", "copy", "None", "tanh", "exp", "float"}

    def rename(match):
        word = match.group(0)
        if word in keep or word.isdigit():
            return word
        return seen.setdefault(word, f"v{len(seen)}")
    return re.sub(r"\b[A-Za-z_]\w*\b", rename, code)


def _check_gradient(f, args, wrt):
    gradient = s2sad.grad(f, wrt=wrt)(*args)
    gradient = gradient if isinstance(gradient, tuple) else (gradient,)
    names = f.__code__.co_varnames[:f.__code__.co_argcount]
    values = dict(zip(names, args))
    for position, computed in zip(wrt if isinstance(wrt, tuple) else (wrt,), gradient):
        expected = central_difference(f, values, names[position])
        assert np.shape(computed) == np.shape(expected)
        np.testing.assert_allclose(computed, expected, rtol=1e-6, atol=1e-8)


# -- one program, several spellings of its sizes -----------------------------------------

def conv_len(a, b):
    c = np.zeros(len(a) + len(b) - 1)
    for i in range(len(a)):
        for k in range(len(b)):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def conv_shape(a, b):
    c = np.zeros(a.shape[0] + b.shape[0] - 1)
    for i in range(a.shape[0]):
        for k in range(b.shape[0]):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def conv_np_shape(a, b):
    c = np.zeros(np.shape(a)[0] + np.shape(b)[0] - 1)
    for i in range(np.shape(a)[0]):
        for k in range(np.shape(b)[0]):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def matvec_unpack(A, x):
    n, m = A.shape
    y = np.zeros(n)
    for i in range(n):
        for j in range(m):
            y[i] += A[i, j] * x[j]
    return np.sum(np.tanh(y))


def matvec_shape(A, x):
    n = A.shape[0]
    m = A.shape[1]
    y = np.zeros(n)
    for i in range(n):
        for j in range(m):
            y[i] += A[i, j] * x[j]
    return np.sum(np.tanh(y))


def matvec_np_shape(A, x):
    n = np.shape(A)[0]
    m = np.shape(A)[1]
    y = np.zeros(n)
    for i in range(n):
        for j in range(m):
            y[i] += A[i, j] * x[j]
    return np.sum(np.tanh(y))


def horner_len(x, c):
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def horner_shape(x, c):
    p = 0.0
    for i in range(c.shape[0]):
        p = p * x + c[i]
    return p


def horner_np_shape(x, c):
    p = 0.0
    for i in range(np.shape(c)[0]):
        p = p * x + c[i]
    return p


SPELLINGS = [
    ((conv_len, conv_shape, conv_np_shape), (np.linspace(-1, 1, 6), np.array([0.5, -1.0, 2.0])),
     (0, 1)),
    ((matvec_shape, matvec_unpack, matvec_np_shape),
     (np.arange(12.0).reshape(3, 4) / 10, np.linspace(-1, 1, 4)), (0, 1)),
    ((horner_len, horner_shape, horner_np_shape), (0.7, np.linspace(-1, 1, 5)), (0, 1)),
]


@pytest.mark.parametrize("functions, args, wrt", SPELLINGS,
                         ids=[s[0][0].__name__ for s in SPELLINGS])
def test_every_spelling_of_a_size_generates_the_same_code(functions, args, wrt):
    sources = []
    for f in functions:
        g = s2sad.grad(f, wrt=wrt)
        g(*args)  # compiled for the call's ranks
        sources.append(_body(g.compiled.source))
        assert "np.sum(d" not in g.compiled.source.split("adjoint of the loop")[-1]
    assert sources[1] == sources[0]
    assert sources[2] == sources[0]


@pytest.mark.parametrize("f", [f for s in SPELLINGS for f in s[0]], ids=lambda f: f.__name__)
def test_every_spelling_is_right(f):
    functions, args, wrt = next(s for s in SPELLINGS if f in s[0])
    _check_gradient(f, args, wrt)


def test_sizes_read_in_other_ways_are_ints_too():
    def f(A, x):
        s = A.shape
        rows = s[0]
        cols = int(s[1])
        tail = s[1:]
        y = np.zeros((rows,) + tail)
        for i in range(rows):
            for j in range(min(cols, x.size)):
                y[i, j] += A[i, j] * x[j]
        return np.sum(y ** 2)
    g = s2sad.grad(f, wrt=(0, 1))
    args = (np.arange(6.0).reshape(2, 3) / 5, np.array([0.5, -1.0, 2.0]))
    g(*args)
    loop = g.compiled.source.split("adjoint of the loop")[-1]
    assert "np.sum(" not in loop and "unbroadcast" not in loop
    _check_gradient(f, args, (0, 1))


# -- indices recomputed, not stored --------------------------------------------------------

def lecture(a, b):
    n = a.shape[0] - b.shape[0] + 1
    c = np.zeros(n)
    for z in range(n):
        for y in range(b.shape[0]):
            x = z + y
            c[z] += a[x] * b[y]
    return np.sum(c ** 2)


def reversed_index(a):
    n = len(a)
    s = 0.0
    for i in range(n):
        j = n - 1 - i
        s = s + a[j] * (i + 1.0)
    return s * s


def two_indices(a, w):
    n = len(w)
    out = 0.0
    for i in range(n):
        lo = 2 * i
        hi = lo + 1
        out = out + w[i] * a[lo] * a[hi]
    return out


def test_the_lectures_loop_in_its_own_spelling_stores_nothing():
    g = s2sad.grad(lecture, wrt=(0, 1))
    args = (np.linspace(-1, 1, 7), np.array([0.5, -1.0, 2.0]))
    g(*args)
    source = g.compiled.source
    assert "stored:        nothing" in source
    assert "tape" not in source and "x = 0" not in source
    assert "da[x] += dc[z] * b[y]" in source
    assert "db[y] += dc[z] * a[x]" in source
    _check_gradient(lecture, args, (0, 1))


@pytest.mark.parametrize("f, args", [
    (reversed_index, (np.linspace(-1, 1, 5),)),
    (two_indices, (np.linspace(-1, 1, 8), np.array([0.5, -1.0, 2.0, 0.3]))),
], ids=["reversed_index", "two_indices"])
def test_index_arithmetic_is_recomputed(f, args):
    wrt = tuple(range(len(args)))
    g = s2sad.grad(f, wrt=wrt)
    g(*args)
    assert "recomputed rather than stored" in g.compiled.source
    stored = next(line for line in g.compiled.source.splitlines() if "stored:" in line)
    assert " j " not in stored and "lo" not in stored and "hi" not in stored
    _check_gradient(f, args, wrt)


def previous_iteration_index(a):
    """k is read before it is bound in the body: the previous iteration's value."""
    s = 0.0
    k = 0
    for i in range(1, len(a)):
        s = s + a[k] * a[i]
        k = i - 1
    return s


def changing_offset(a):
    """The offset changes inside the loop: x is not a function of the counter alone."""
    s = 0.0
    m = 0
    for i in range(len(a) - 3):
        m = (m + 1) % 3
        x = i + m
        s = s + a[x] * a[i]
    return s


@pytest.mark.parametrize("f", [previous_iteration_index, changing_offset],
                         ids=lambda f: f.__name__)
def test_indices_that_are_not_recomputable_stay_right(f):
    _check_gradient(f, (np.linspace(-1, 1, 7) + 0.1,), 0)


# -- slices of equally shaped arrays: one shape class ---------------------------------------

def heat(u0, r, steps):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:-1] = un[1:-1] + r * (un[2:] - 2 * un[1:-1] + un[:-2])
    return np.sum(u ** 3)


def heat_len(u0, r, steps):
    n = len(u0)
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:n - 1] = un[1:n - 1] + r * (un[2:n] - 2 * un[1:n - 1] + un[0:n - 2])
    return np.sum(u ** 3)


def heat_unpack(u0, r, steps):
    n, = u0.shape
    u = np.array(u0)
    for _ in range(steps):
        un = np.copy(u)
        lap = un[2:n] - 2 * un[1:n - 1] + un[:n - 2]
        u[1:n - 1] = un[1:n - 1] + r * lap
    return np.sum(u ** 3)


@pytest.mark.parametrize("f", [heat, heat_len, heat_unpack], ids=lambda f: f.__name__)
def test_a_stencil_stores_one_array_per_step(f):
    args = (np.sin(np.linspace(0, 3, 9)) + 0.5, 0.2, 4)
    g = s2sad.grad(f, wrt=(0, 1))
    g(*args)
    source = g.compiled.source
    assert source.count("_stored[_] =") == 1, source
    assert "unbroadcast(d" not in source.split("adjoint of the loop")[-1]
    _check_gradient(f, args, (0, 1))


def test_slices_of_different_lengths_still_broadcast_back():
    """x[0:1] (one element) times x[1:-1]: the shapes differ, the adjoint sums."""
    def f(x):
        return np.sum(x[0:1] * x[1:-1] + x[2:] * x[:-2])
    _check_gradient(f, (np.linspace(-1, 1, 6) + 0.2,), 0)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_stencil_on_tiny_rods_is_right(n):
    """Slices of a short array are empty (n - 2 <= 0 elements): one class still fits."""
    args = (np.linspace(0.1, 1, n), 0.2, 3)
    gradient = s2sad.grad(heat_len, wrt=0)(*args)
    np.testing.assert_allclose(gradient, central_difference(
        heat_len, {"u0": args[0], "r": 0.2, "steps": 3}, "u0"), rtol=1e-6, atol=1e-8)


# -- values read only for their shape are stored as their shape -----------------------------

def gated_recurrence(Wx, Wh, xs):
    """An LSTM-like cell: `xs[t] @ Wx + h @ Wh` (shapes the compiler cannot prove equal,
    so the adjoint unbroadcasts against them) whose values the adjoint never reads."""
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        pre = xs[t] @ Wx + h @ Wh
        h = np.tanh(pre) * 0.5 + h * 0.5
    return np.sum(h ** 2)


def test_values_read_only_for_their_shape_are_stored_as_shapes():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 2)), rng.normal(size=(2, 2)), rng.normal(size=(4, 5, 3)))
    g = s2sad.grad(gated_recurrence, wrt=(0, 1))
    g(*args)
    source = g.compiled.source
    assert "shape_of(" in source
    # the products' values are never read back, only their shapes
    for line in source.splitlines():
        if "_stored[t] = " in line and "shape_of" not in line:
            stored = line.split("= ")[-1].strip()
            assert any(f"{stored}" in other and "shape_of" not in other and "=" in other
                       and "_stored" not in other for other in
                       source.split("run backwards")[-1].splitlines())
    _check_gradient(gated_recurrence, args, (0, 1))


def test_a_shape_view_is_read_only_and_holds_no_values():
    from s2sad.runtime import shape_of, unbroadcast, zeros_like
    x = np.arange(12.0).reshape(3, 4)
    kept = shape_of(x)
    assert kept.shape == x.shape and kept.dtype == x.dtype and kept.strides == (0, 0)
    assert not kept.flags.writeable and kept.nbytes == x.nbytes  # (a view: no copy made)
    assert zeros_like(kept).flags.writeable and np.all(zeros_like(kept) == 0)
    assert unbroadcast(np.ones((2, 3, 4)), kept).shape == (3, 4)
    assert shape_of(2.5) == 2.5


def test_a_bound_n_minus_k_is_not_taken_for_minus_k_where_they_differ():
    """With n = 2, u[0:n - 3] is u[0:-1] (one element) but u[:-3] is empty: a slice of
    n - 3 has no class of its own, and its adjoint sums back what it must."""
    def f(u):
        n = len(u)
        return np.sum(u[0:n - 3] * u[:-3]) + np.sum(u[0:n - 3] ** 2)
    for size in (2, 5):
        args = (np.linspace(0.5, 1.5, size),)
        try:
            expected = central_difference(f, {"u": args[0]}, "u")
        except ValueError:
            continue  # (the primal itself cannot broadcast these)
        np.testing.assert_allclose(s2sad.grad(f)(*args), expected, rtol=1e-6, atol=1e-8)


# -- a gather by an arange and a vector: each element picked once -------------------------

def picked_log_likelihood(P, labels):
    n = len(labels)
    return -np.sum(np.log(P[np.arange(n), labels]))


def picked_twice(P, labels):
    """np.arange(1) against two labels broadcasts: row 0 is picked twice."""
    return -np.sum(np.log(P[np.arange(1), labels]))


def test_a_gather_by_an_arange_scatters_back_with_plus_equals():
    P = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    labels = np.array([1, 0])
    g = s2sad.grad(picked_log_likelihood)
    expected = np.zeros_like(P)
    expected[[0, 1], [1, 0]] = [-1 / 0.5, -1 / 0.6]
    np.testing.assert_allclose(g(P, labels), expected)
    assert "np.add.at" not in g.compiled.source and "labels] +=" in g.compiled.source


def test_a_gather_whose_pairs_repeat_still_adds_every_pick():
    P = np.array([[0.2, 0.5, 0.3]])
    labels = np.array([2, 2])
    np.testing.assert_allclose(s2sad.grad(picked_twice)(P, labels), [[0, 0, -2 / 0.3]])


def shifted_attention(Wq, X):
    scores = (X @ Wq) @ X.T
    scores = scores - scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=1, keepdims=True)
    return np.sum((w @ X) ** 2) + np.sum(np.max(scores, axis=(0, 1)))


def test_a_reduction_keeping_dims_keeps_the_rank():
    """scores rebound to scores - max(..., keepdims=True) stays a matrix, so its
    products differentiate as `dA = dC @ B.T`, not through the helpers for any rank."""
    rng = np.random.default_rng(1)
    args = (rng.normal(size=(3, 3)) * 0.3, rng.normal(size=(4, 3)))
    g = s2sad.grad(shifted_attention, wrt=(0, 1))
    g(*args)
    assert "matmul_adjoint" not in g.compiled.source
    _check_gradient(shifted_attention, args, (0, 1))
