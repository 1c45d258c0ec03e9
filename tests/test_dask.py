"""Gradients of dask arrays: the same generated code, run lazily, equal to NumPy's.

Every check counts dask computes with a callback: a gradient call must start none
(its result is a recipe), and `dask.compute` of the result must equal the gradient of
the same NumPy arrays to 1e-12, in the input's shape, dtype and chunks.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import s2sad  # noqa: E402
from conftest import compute_counter, leaves, run  # noqa: E402
from s2sad import LazyArrayWarning  # noqa: E402

ROWS, FEATURES, CLASSES = 103, 5, 3
RNG = np.random.default_rng(20)
X_NP = RNG.normal(size=(ROWS, FEATURES))
Y01_NP = (RNG.random(ROWS) > 0.5).astype(float)
T_NP = RNG.normal(size=ROWS)
ONE_HOT_NP = np.eye(CLASSES)[RNG.integers(0, CLASSES, ROWS)]
# one chunk, even chunks, uneven chunks (17 rows: the last has 1), chunks of columns too
CHUNKINGS = [(ROWS, FEATURES), (26, FEATURES), (17, FEATURES), (40, 2)]


def chunked(value, chunks):
    """A NumPy array of the data's rows as a dask array (rows, then columns, chunked)."""
    if not isinstance(value, np.ndarray) or value.ndim == 0 or value.shape[0] != ROWS:
        return value
    return da.from_array(value, chunks=chunks[:value.ndim])


# -- losses, as users write them ---------------------------------------------------------

def logistic(w, X, y):
    z = X @ w
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def logistic_stable(w, b, X, y, lam=0.1):
    z = np.dot(X, w) + b
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w ** 2)


def least_squares(w, X, t):
    r = X.dot(w) - t
    return 0.5 * np.sum(r ** 2) / len(t)


def least_squares_shape(w, X, t):
    n = X.shape[0]
    return np.sum((X @ w - t) ** 2) / n


def poisson_glm(w, X, t):
    eta = X @ w
    return np.sum(np.exp(eta) - t * eta) / np.shape(X)[0]


def huber(w, X, t, delta=1.0):
    r = X @ w - t
    a = np.abs(r)
    return np.mean(np.where(a < delta, 0.5 * r ** 2, delta * (a - 0.5 * delta)))


def mlp(params, X, t):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out[:, 0] - t) ** 2)


def relu_net(W1, W2, X, t):
    h = np.maximum(X @ W1, 0.0)
    return np.mean((h @ W2 - t[:, None]) ** 2)


def softmax_classifier(W, b, X, Y):
    z = X @ W + b
    z = z - np.max(z, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * log_p) / X.shape[0]


def gaussian_nll(mu, log_sigma, t):
    z = (t - mu) / np.exp(log_sigma)
    return np.sum(0.5 * z ** 2 + log_sigma) + 0.5 * len(t) * np.log(2 * np.pi)


def moments(w, X):
    s = X @ w
    return np.var(s) + np.std(s, ddof=1) + np.linalg.norm(X, axis=1).sum() * 0.0 + \
        np.linalg.norm(s)


def columns(w, X):
    centred = X - np.mean(X, axis=0)
    scaled = centred / (np.std(X, axis=0) + 1.0)
    return np.sum(np.tanh(scaled @ w) ** 2)


def joined(w, X, t):
    Z = np.concatenate([X, t[:, None]], axis=1)
    return np.sum(np.sin(Z @ np.concatenate([w, [0.5]])))


def method_spellings(w, X, y):
    """Methods that lower to NumPy functions dask lacks (np.array, np.copy) or spells
    otherwise (np.reshape(x, -1), np.transpose with computed axes)."""
    labels = (y > 0.5).astype(float)
    Z = X.copy() * 2.0
    flat = Z.reshape(-1)
    cube = np.transpose(np.reshape(Z, (len(X), FEATURES, 1)), (2, 0, 1))
    return np.mean(np.logaddexp(0.0, Z @ w) - labels * (X @ w)) + 1e-3 * np.sum(
        flat.ravel() ** 2) + np.sum(np.tile(w, (len(X), 1)) * X) * 1e-2 + \
        np.sum(cube.astype(np.float64) ** 3) * 1e-3


def _mlp_params():
    rng = np.random.default_rng(7)
    return {"W1": rng.normal(size=(FEATURES, 4)), "b1": rng.normal(size=4),
            "W2": rng.normal(size=(4, 1)), "b2": rng.normal(size=1)}


W = RNG.normal(size=FEATURES) * 0.3
CASES = [
    (logistic, (W, X_NP, Y01_NP), (0,)),
    (logistic_stable, (W, 0.3, X_NP, Y01_NP), (0, 1)),
    (least_squares, (W, X_NP, T_NP), (0,)),
    (least_squares_shape, (W, X_NP, T_NP), (0, 1)),
    (poisson_glm, (W, X_NP, np.abs(T_NP)), (0,)),
    (huber, (W, X_NP, T_NP), (0, 1, 2)),
    (mlp, (_mlp_params(), X_NP, T_NP), (0,)),
    (relu_net, (RNG.normal(size=(FEATURES, 4)), RNG.normal(size=(4, 1)), X_NP, T_NP),
     (0, 1, 2, 3)),
    (softmax_classifier, (RNG.normal(size=(FEATURES, CLASSES)), RNG.normal(size=CLASSES),
                          X_NP, ONE_HOT_NP), (0, 1)),
    (gaussian_nll, (0.2, -0.1, T_NP), (0, 1)),
    (moments, (W, X_NP), (0, 1)),
    (columns, (W, X_NP), (0, 1)),
    (joined, (W, X_NP, T_NP), (0, 1, 2)),
    (method_spellings, (W, X_NP, Y01_NP), (0, 1)),
]


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=lambda c: f"{c[0]}x{c[1]}")
@pytest.mark.parametrize("fn, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_of_dask_arrays_is_lazy_and_equals_numpys(fn, args, wrt, chunks):
    expected = s2sad.value_and_grad(fn, wrt=wrt)(*args)
    lazy_args = [chunked(a, chunks) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (dask warns of a NumPy function it lacks)
        with compute_counter() as computes:
            value, grads = s2sad.value_and_grad(fn, wrt=wrt)(*lazy_args)
    assert computes.computes == 0
    assert isinstance(value, da.Array) and value.shape == ()
    for g, x in zip(leaves(grads), leaves([lazy_args[k] for k in wrt])):
        if isinstance(x, da.Array):
            assert isinstance(g, da.Array) and g.chunks == x.chunks and g.dtype == x.dtype
    got_value, got = dask.compute(value, grads)  # (one compute: the sweeps shared)
    assert got_value == pytest.approx(expected[0], rel=1e-12)
    for g, e in zip(leaves(got), leaves(expected[1])):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)


def test_code_for_dask_is_the_numpy_code_without_writes_into_arrays():
    """The same lines as NumPy's code, but nothing written in place (`out=`, `+=`, an
    element of an adjoint), and the header says for what arrays it was compiled."""
    g = s2sad.grad(relu_net, wrt=(0, 1, 2, 3))
    args = (RNG.normal(size=(FEATURES, 4)), RNG.normal(size=(4, 1)), X_NP, T_NP)
    g(*args)
    numpy_source = g.source
    assert "out=" in numpy_source and "+= " in numpy_source
    g(*[chunked(a, (17, FEATURES)) for a in args])
    source = g.source
    assert "#   arrays:        dask (lazy: the code builds a graph and computes nothing)" \
        in source
    assert "out=" not in source and "+=" not in source and "fits" not in source
    assert "dt = unindex(dc, t, (slice(None, None, None), None))" in source
    body = [line for line in source.splitlines() if not line.startswith("#")]
    numpy_body = [line for line in numpy_source.splitlines() if not line.startswith("#")]
    assert "    a = X @ W1" in body and "    a = X @ W1" in numpy_body
    assert "    dW1 = X.T @ da" in body
    # a NumPy call after the dask one runs NumPy's code again, and agrees
    np.testing.assert_allclose(g(*args)[0], s2sad.grad(relu_net, wrt=0)(*args))
    assert "out=" in g.source


def test_mean_reads_size_as_an_attribute():
    """np.size is not dask's: the mean's adjoint of an array of known rank reads .size."""
    g = s2sad.grad(logistic)
    g(W, X_NP, Y01_NP)
    assert " = j.size" in g.source and "np.size" not in g.source


def test_float32_data_stays_float32():
    X32 = da.from_array(X_NP.astype(np.float32), chunks=(17, FEATURES))
    w32 = W.astype(np.float32)
    g = s2sad.grad(least_squares, wrt=(0, 1))(w32, X32, T_NP.astype(np.float32))
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32
    expected = s2sad.grad(least_squares, wrt=(0, 1))(w32, X32.compute(),
                                                    T_NP.astype(np.float32))
    np.testing.assert_allclose(g[1].compute(), expected[1], rtol=1e-5)


def test_gradient_of_a_number_from_dask_data_is_a_lazy_0d_array():
    with compute_counter() as computes:
        g = s2sad.grad(gaussian_nll, wrt=0)(0.2, -0.1, chunked(T_NP, (17,)))
    assert computes.computes == 0
    assert isinstance(g, da.Array) and g.shape == () and g.dtype == np.float64
    assert float(g) == pytest.approx(s2sad.grad(gaussian_nll)(0.2, -0.1, T_NP), rel=1e-12)


def test_arguments_are_not_changed():
    X = chunked(X_NP, (17, FEATURES))
    name = X.name
    s2sad.grad(relu_net, wrt=(0, 1, 2, 3))(RNG.normal(size=(FEATURES, 4)),
                                          RNG.normal(size=(4, 1)), X, chunked(T_NP, (17,)))
    assert X.name == name
    np.testing.assert_array_equal(X.compute(), X_NP)


# -- vjp, jvp, Hessian-vector products, check_grad --------------------------------------

def test_vjp_jvp_and_hvp_of_dask_arrays_are_lazy():
    X, t = chunked(X_NP, (17, FEATURES)), chunked(T_NP, (17,))
    v = RNG.normal(size=FEATURES)
    with compute_counter() as computes:
        value, pullback = s2sad.vjp(least_squares)(W, X, t)
        pulled = pullback(2.0)
        _, along = s2sad.jvp(least_squares)(W, X, t, v)
        _, along_data = s2sad.jvp(least_squares, wrt=1)(W, X, t, da.ones_like(X))
        hv = s2sad.hvp(least_squares)(W, X, t, v)
    assert computes.computes == 0
    grad = s2sad.grad(least_squares, wrt=(0, 1))(W, X_NP, T_NP)
    np.testing.assert_allclose(pulled.compute(), 2.0 * grad[0], rtol=1e-12)
    assert float(along) == pytest.approx(grad[0] @ v, rel=1e-12)
    assert float(along_data) == pytest.approx(grad[1].sum(), rel=1e-12)
    np.testing.assert_allclose(hv.compute(), X_NP.T @ (X_NP @ v) / ROWS, rtol=1e-12)


def test_vjp_of_a_vector_output_takes_a_dask_cotangent():
    def predictions(w, X):
        return np.tanh(X @ w)

    X = chunked(X_NP, (17, FEATURES))
    value, pullback = s2sad.vjp(predictions)(W, X)
    cotangent = chunked(T_NP, (17,))
    with compute_counter() as computes:
        pulled = pullback(cotangent)
    assert computes.computes == 0
    expected = s2sad.vjp(predictions)(W, X_NP)[1](T_NP)
    np.testing.assert_allclose(pulled.compute(), expected, rtol=1e-12)


def test_check_grad_accepts_dask_arrays():
    assert s2sad.check_grad(logistic, W, chunked(X_NP, (17, FEATURES)),
                            chunked(Y01_NP, (17,)))


# -- what cannot stay lazy ---------------------------------------------------------------

def branch_on_data(w, X):
    s = np.sum(X @ w)
    if s > 0:
        return s
    return -s


def float_of_data(w, X):
    scale = float(np.max(np.abs(X)))
    return np.sum(X @ w) / scale


def loop_over_rows(w, X):
    total = 0.0
    for row in X:
        total = total + np.tanh(row @ w)
    return total


def while_on_data(w, X):
    s = np.sum((X @ w) ** 2)
    while s > 1.0:
        s = s / 2.0
    return s


def converts_to_numpy(w, X):
    return np.sum(np.asarray(X) @ w)


try:
    from scipy.special import logsumexp
except ImportError:  # (SciPy is optional)
    logsumexp = None


def through_scipy(w, X):
    return logsumexp(X @ w)  # (SciPy converts its argument to NumPy: computes it)


@pytest.mark.parametrize("fn, line, underlined, message", [
    (branch_on_data, "    if s > 0:", "s > 0", "a branch on a value computed from a dask"),
    (float_of_data, "    scale = float(np.max(np.abs(X)))", "float(np.max(np.abs(X)))",
     "float(...) of a value computed from a dask array"),
    (converts_to_numpy, "    return np.sum(np.asarray(X) @ w)", "np.asarray(X)",
     "np.asarray(...) of a value computed from a dask array"),
    (while_on_data, "    while s > 1.0:", "s > 1.0", "a while loop's condition"),
])
def test_constructs_needing_values_are_refused_before_any_compute(fn, line, underlined,
                                                                  message):
    X = chunked(X_NP, (17, FEATURES))
    with compute_counter() as computes:
        with pytest.raises(s2sad.S2SADError) as info:
            s2sad.grad(fn)(W, X)
    assert computes.computes == 0
    error = info.value
    assert message in error.message
    assert error.filename == __file__
    text = str(error).splitlines()
    caret = " " * line.rindex(underlined) + "^" * len(underlined)
    assert text[1] == "    " + line and text[2] == "    " + caret
    assert "hint:" in str(error)
    # NumPy arrays are fine
    assert np.all(np.isfinite(s2sad.grad(fn)(W, X_NP)))


def test_a_compute_inside_the_generated_code_is_refused_with_its_line():
    if logsumexp is None:
        pytest.skip("SciPy is not installed")
    X = chunked(X_NP, (17, FEATURES))
    with compute_counter() as computes:
        with pytest.raises(s2sad.S2SADError) as info:
            s2sad.grad(through_scipy)(W, X)
    assert computes.computes == 0
    assert "would compute a dask value at line" in str(info.value)
    assert "logsumexp(" in str(info.value)
    assert "hint: call only functions dask implements" in str(info.value)


def helper_with_a_branch(z):
    if np.sum(z) > 0:
        return np.tanh(z)
    return z


def calls_the_helper(w, X):
    return np.sum(helper_with_a_branch(X @ w))


def test_a_branch_in_a_helper_is_refused_at_the_helpers_line():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(calls_the_helper)(W, chunked(X_NP, (17, FEATURES)))
    assert info.value.lineno == helper_with_a_branch.__code__.co_firstlineno + 1
    assert "a branch on a value computed from a dask array" in info.value.message


def optional_weights(w, X, t, weights=None):
    r = (X @ w - t) ** 2
    if weights is None:
        return np.mean(r)
    if isinstance(weights, float):
        return weights * np.mean(r)
    return np.sum(weights * r) / np.sum(weights)


def test_identity_and_type_tests_need_no_values():
    X, t = chunked(X_NP, (17, FEATURES)), chunked(T_NP, (17,))
    weights = chunked(np.abs(T_NP), (17,))
    for extra in ((), (weights,)):
        with compute_counter() as computes:
            g = s2sad.grad(optional_weights)(W, X, t, *extra)
        assert computes.computes == 0
        expected = s2sad.grad(optional_weights)(W, X_NP, T_NP,
                                                *[e.compute() for e in extra])
        np.testing.assert_allclose(g.compute(), expected, rtol=1e-12)


def test_a_loop_over_rows_warns_and_stays_lazy():
    X = da.from_array(X_NP[:12], chunks=(5, FEATURES))
    with compute_counter() as computes:
        with pytest.warns(LazyArrayWarning, match="row by row|over the rows"):
            g = s2sad.grad(loop_over_rows)(W, X)
    assert computes.computes == 0
    np.testing.assert_allclose(g.compute(), s2sad.grad(loop_over_rows)(W, X_NP[:12]),
                               rtol=1e-12)


def element_loop(w, x):
    total = 0.0
    for i in range(len(x)):
        total = total + w * x[i] ** 2
    return total


def test_element_loops_warn_and_stay_lazy():
    x = chunked(T_NP, (17,))
    with compute_counter() as computes:
        with pytest.warns(LazyArrayWarning, match="element by element"):
            g = s2sad.grad(element_loop)(0.5, x)
    assert computes.computes == 0
    assert float(g) == pytest.approx(np.sum(T_NP ** 2), rel=1e-12)


def test_integer_dask_arrays_are_not_differentiated():
    ids = da.from_array(np.arange(ROWS), chunks=17)
    with pytest.raises(s2sad.ArgumentError, match="of dtype int64"):
        s2sad.grad(lambda_free_sum)(ids)


def lambda_free_sum(x):
    return np.sum(x * 1.0)


def test_advanced_index_adjoint_on_dask_is_refused():
    def gather(E, ids):
        return np.sum(E[ids] ** 2)

    E = chunked(X_NP, (17, FEATURES))
    ids = np.array([0, 3, 3, 7])
    with pytest.raises(s2sad.S2SADError, match="np.add.at"):
        s2sad.grad(gather)(E, ids)


# -- a cluster -----------------------------------------------------------------------------

def test_on_a_local_cluster():
    """In a Python process of its own (a cluster started in the test process would share
    its state with every test run in it before; a hang fails at run()'s timeout)."""
    pytest.importorskip("distributed")
    done = run("-c", "import sys; sys.path.insert(0, 'tests'); import test_dask; "
                     "test_dask.on_a_local_cluster(); print('cluster ok')")
    assert done.returncode == 0 and "cluster ok" in done.stdout, done.stderr


def on_a_local_cluster():
    import distributed
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        X, y = chunked(X_NP, (26, FEATURES)), chunked(Y01_NP, (26,))
        value, g = s2sad.value_and_grad(logistic)(W, X, y)
        got_value, got = dask.compute(value, g)
        if logsumexp is not None:
            with pytest.raises(s2sad.S2SADError, match="would compute a dask value"):
                s2sad.grad(through_scipy)(W, X)  # (the client's scheduler is held off)
    expected_value, expected = s2sad.value_and_grad(logistic)(W, X_NP, Y01_NP)
    assert got_value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- CuPy, where a GPU is present -----------------------------------------------------------

def test_cupy_arrays_where_a_gpu_is_present():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # pragma: no cover (a machine with CuPy but no GPU)
        pytest.skip("no GPU")
    X, t = cupy.asarray(X_NP), cupy.asarray(T_NP)
    g = s2sad.grad(least_squares, wrt=(0, 1))(cupy.asarray(W), X, t)
    assert isinstance(g[1], cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(g[0]),
                               s2sad.grad(least_squares)(W, X_NP, T_NP), rtol=1e-12)


# -- the runtime helpers, called on dask arrays ---------------------------------------------

from s2sad import runtime as rt  # noqa: E402

_A = RNG.normal(size=(6, 4))
_V = RNG.normal(size=4)
_C = RNG.normal(size=6)
HELPERS = {
    "zeros_like": lambda A, v, c: rt.zeros_like(A),
    "unbroadcast to a row": lambda A, v, c: rt.unbroadcast(A, v),
    "unbroadcast to a size-1 axis": lambda A, v, c: rt.unbroadcast(A, A[:1]),
    "unbroadcast up": lambda A, v, c: rt.unbroadcast(v, A),
    "unsum": lambda A, v, c: rt.unsum(np.sum(A), A),
    "unsum axis 0": lambda A, v, c: rt.unsum(np.sum(A, axis=0), A, 0),
    "unsum keepdims": lambda A, v, c: rt.unsum(np.sum(A, axis=1, keepdims=True), A, 1, True),
    "spread": lambda A, v, c: rt.spread(np.sum(A, axis=1), A, 1),
    "tie_count": lambda A, v, c: rt.tie_count(A == np.max(A, axis=0), A, 0),
    "unindex slice": lambda A, v, c: rt.unindex(A[1:3], A, slice(1, 3)),
    "unindex int": lambda A, v, c: rt.unindex(A[2], A, 2),
    "unindex new axis": lambda A, v, c: rt.unindex(v[:, None], v, (slice(None), None)),
    "matmul_adjoint_a": lambda A, v, c: rt.matmul_adjoint_a(c, A, v),
    "matmul_adjoint_b": lambda A, v, c: rt.matmul_adjoint_b(c, A, v),
    "matmul_adjoint_b matrices": lambda A, v, c: rt.matmul_adjoint_b(A @ A.T, A, A.T),
    "dot_adjoint_a": lambda A, v, c: rt.dot_adjoint_a(c, A, v),
    "dot_adjoint_b": lambda A, v, c: rt.dot_adjoint_b(c, A, v),
    "unconcatenate": lambda A, v, c: rt.unconcatenate(np.concatenate([A, 2 * A]), [A, A])[1],
    "unconcatenate axis None": lambda A, v, c: rt.unconcatenate(
        np.concatenate([A, v], axis=None), [A, v], None)[0],
    "unstack": lambda A, v, c: rt.unstack(np.stack([v, 2 * v]), [v, v], 0)[1],
    "rejoin": lambda A, v, c: rt.rejoin([A, 2 * A], [A, A], 0),
    "restack": lambda A, v, c: rt.restack([v, 2 * v], [v, v], 0),
    "inner_adjoint_a": lambda A, v, c: rt.inner_adjoint_a(c, A, v),
    "inner_adjoint_b": lambda A, v, c: rt.inner_adjoint_b(c, A, v),
    "undiff": lambda A, v, c: rt.undiff(np.diff(A, axis=0), 1, 0),
    "unpad": lambda A, v, c: rt.unpad(np.pad(A, 1), A, 1),
    "broadcast_like": lambda A, v, c: rt.broadcast_like(v, A),
    "einsum_adjoint": lambda A, v, c: rt.einsum_adjoint(c, ("ij,j->i", A, v), 1),
    "tensordot_adjoint": lambda A, v, c: rt.tensordot_adjoint(c, A, v, 1)[0],
    "norm_adjoint_p": lambda A, v, c: rt.norm_adjoint_p(1.0, np.linalg.norm(v, 3), v, 3,
                                                        None, False),
    "undiagonal": lambda A, v, c: rt.undiagonal(np.diagonal(A, 1), A, 1),
    "undiagonal below": lambda A, v, c: rt.undiagonal(np.diagonal(A, -2), A, -2),
}


@pytest.mark.parametrize("helper", HELPERS, ids=list(HELPERS))
def test_runtime_helpers_build_on_dask_arrays_without_computing(helper):
    expected = HELPERS[helper](_A, _V, _C)
    lazy = (da.from_array(_A, chunks=(4, 3)), da.from_array(_V, chunks=3),
            da.from_array(_C, chunks=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with compute_counter() as computes:
            got = HELPERS[helper](*lazy)
    assert computes.computes == 0
    assert isinstance(got, da.Array)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got.compute(), expected, rtol=1e-13)


def test_fits_declines_a_dask_operand():
    assert rt.fits(np.zeros(3), da.zeros(3)) is None


def test_scatter_adds_refuse_dask_arrays():
    lazy = da.from_array(_A, chunks=(4, 3))
    with pytest.raises(rt.UnsupportedShapes, match="np.add.at"):
        rt.unindex(lazy[[0, 0]], lazy, [0, 0])
    with pytest.raises(rt.UnsupportedShapes, match="np.add.at"):
        rt.untake_along_axis(lazy, lazy, np.zeros((6, 4), int), 1)
