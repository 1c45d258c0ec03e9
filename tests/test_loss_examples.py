"""The lecture's losses and models in examples/: losses.py, linear_regression.py, mlp.py.

Each loss's gradient is checked three independent ways: against central
differences (`numeric_grad`), against autograd run on the loss's own source with
`np` bound to autograd.numpy, and against the closed form derived by hand from the
math (never against numbers copied from s2sad's output). The closed forms:

* mse(w) = mean((Xw - y)^2):           dw = 2 X^T (Xw - y) / n
* softmax cross-entropy of Z = XW:     dW = X^T (softmax(Z) - labels) / n
* logsumexp(x):                        dx = softmax(x)
* soft-F1 loss, p = sigmoid(Xw): with D = 2tp + fp + fn = sum(p) + sum(y) and
  F = 2tp / D, dL/dp = (F - 2y) / D, so dw = X^T ((F - 2y) / D * p (1 - p))
* linear regression sum((XA - Y)^2):   dA = 2 X^T (XA - Y)   (lecture §3.4)

The row max subtracted for stability is differentiated too; its contribution
cancels, which the tests check where it matters most, at ties (all logits equal)
and far from zero (logits in the thousands, where the unstable form overflows).
"""
import ast
import inspect
import os
import re
import textwrap
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

from conftest import EXAMPLES, run  # the `examples` fixture is conftest's too

SCRIPTS = ["losses.py", "linear_regression.py", "mlp.py"]
LOSS_NAMES = ["mse", "softmax_cross_entropy", "logsumexp", "soft_f1_loss"]
SEEDS = [0, 1, 2]

# central differences with eps = 1e-6 on O(1) values: truncation and rounding
# errors both stay below 1e-9; autograd differs from s2sad only by rounding
NUMERIC = dict(rtol=1e-6, atol=1e-8)
ORACLE = dict(rtol=1e-9, atol=1e-12)


def softmax(Z, axis=-1):
    E = np.exp(Z - np.max(Z, axis=axis, keepdims=True))
    return E / np.sum(E, axis=axis, keepdims=True)


def closed_form(name, args):
    """The gradient of loss `name` in its first argument, derived by hand (docstring)."""
    if name == "mse":
        w, X, y = args
        return 2 * X.T @ (X @ w - y) / len(y)
    if name == "softmax_cross_entropy":
        W, X, labels = args
        return X.T @ (softmax(X @ W, axis=1) - labels) / len(X)
    if name == "logsumexp":
        (x,) = args
        return softmax(x, axis=None)
    if name == "soft_f1_loss":
        w, X, y = args
        p = 1 / (1 + np.exp(-(X @ w)))
        D = np.sum(p) + np.sum(y)
        F = 2 * np.sum(p * y) / D
        return X.T @ ((F - 2 * y) / D * p * (1 - p))
    raise KeyError(name)


def autograd_version(module, *names):
    """The named functions of `module` re-made from their source with np = autograd.numpy,
    in one namespace (so a loss calls the autograd version of its helper)."""
    namespace = dict(vars(module), np=anp)
    for name in names:
        fn = getattr(module, name)
        lines, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
        ast.increment_lineno(tree, first - 1)  # tracebacks show the example's own lines
        exec(compile(tree, inspect.getsourcefile(fn), "exec"), namespace)
    return namespace


def autograd_gradient(fn, args, index):
    def along(value):
        return fn(*args[:index], value, *args[index + 1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "output seems independent of input"
        return autograd.grad(along)(args[index])


def assert_like(gradient, value):
    """An ndarray of the argument's shape and dtype."""
    assert type(gradient) is np.ndarray, type(gradient)
    assert gradient.shape == value.shape and gradient.dtype == value.dtype, (
        f"gradient {gradient.shape} {gradient.dtype}, argument {value.shape} {value.dtype}")


@pytest.fixture(scope="module")
def losses(examples):
    return examples("losses")


@pytest.fixture(scope="module")
def autograd_losses(losses):
    return autograd_version(losses, "cross_entropy_from_logits", *LOSS_NAMES)


# -- losses.py: each loss's gradient in its first argument (the example's own) --------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_matches_central_differences(losses, name, seed):
    loss, dloss = losses.LOSSES[name]
    args = losses.make_inputs(seed=seed)[name]
    gradient = dloss(*args)
    assert_like(gradient, args[0])
    np.testing.assert_allclose(gradient, numeric_grad(loss, args, 0), **NUMERIC)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_matches_autograd(losses, autograd_losses, name, seed):
    _, dloss = losses.LOSSES[name]
    args = losses.make_inputs(seed=seed)[name]
    expected = autograd_gradient(autograd_losses[name], args, 0)
    assert_like(expected, args[0])  # the oracle's own shape and dtype, for comparison
    gradient = dloss(*args)
    assert_like(gradient, args[0])
    np.testing.assert_allclose(gradient, expected, **ORACLE)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_equals_the_closed_form(losses, name, seed):
    _, dloss = losses.LOSSES[name]
    args = losses.make_inputs(seed=seed)[name]
    np.testing.assert_allclose(dloss(*args), closed_form(name, args), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_closed_forms_are_right(losses, name):
    """The hand-derived closed forms themselves, against central differences."""
    loss, _ = losses.LOSSES[name]
    args = losses.make_inputs(seed=4)[name]
    np.testing.assert_allclose(closed_form(name, args), numeric_grad(loss, args, 0), **NUMERIC)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_in_every_argument(losses, autograd_losses, name):
    """wrt every argument, data included (X, y, the labels), unoptimized too."""
    loss, _ = losses.LOSSES[name]
    args = losses.make_inputs(seed=5)[name]
    wrt = tuple(range(len(args)))
    for optimize in (True, False):
        gradients = s2sad.grad(loss, wrt=wrt, optimize=optimize)(*args)
        assert type(gradients) is tuple and len(gradients) == len(args)
        for index, gradient in zip(wrt, gradients):
            assert_like(gradient, args[index])
            np.testing.assert_allclose(gradient, numeric_grad(loss, args, index), **NUMERIC,
                                       err_msg=f"argument {index}, optimize={optimize}")
            np.testing.assert_allclose(
                gradient, autograd_gradient(autograd_losses[name], args, index), **ORACLE,
                err_msg=f"argument {index}, optimize={optimize}")


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_float32_arguments_give_float32_gradients(losses, name):
    _, dloss = losses.LOSSES[name]
    args = tuple(a.astype(np.float32) for a in losses.make_inputs(seed=6)[name])
    gradient = dloss(*args)
    assert_like(gradient, args[0])
    exact = closed_form(name, tuple(a.astype(np.float64) for a in args))
    np.testing.assert_allclose(gradient, exact, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_value_and_grad_returns_the_loss(losses, name):
    loss, dloss = losses.LOSSES[name]
    args = losses.make_inputs(seed=7)[name]
    value, gradient = s2sad.value_and_grad(loss, wrt=0)(*args)
    assert value == pytest.approx(loss(*args), rel=1e-14)
    np.testing.assert_allclose(gradient, dloss(*args), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_leaves_its_arguments_alone(losses, name):
    _, dloss = losses.LOSSES[name]
    args = losses.make_inputs(seed=8)[name]
    before = [a.copy() for a in args]
    gradient = dloss(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(gradient, a)


# -- the stable forms: the max is differentiated, and its share cancels ---------------

def test_softmax_cross_entropy_at_all_logits_tied(losses):
    """W = 0 makes every logit 0: every entry of each row is the row max, which then
    takes the gradient in equal shares; the shares cancel, leaving X^T (1/K - labels)/n."""
    W, X, labels = losses.make_inputs(seed=1)["softmax_cross_entropy"]
    W = np.zeros_like(W)
    expected = X.T @ (1 / W.shape[1] - labels) / len(X)
    np.testing.assert_allclose(losses.dsoftmax_cross_entropy(W, X, labels), expected,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(expected, numeric_grad(losses.softmax_cross_entropy,
                                                      [W, X, labels], 0), **NUMERIC)


def test_logsumexp_with_a_tied_maximum_is_softmax(losses):
    x = np.array([1.0, 3.0, -0.5, 3.0, 2.0])
    np.testing.assert_allclose(losses.dlogsumexp(x), softmax(x), rtol=1e-12)
    np.testing.assert_allclose(np.sum(losses.dlogsumexp(x)), 1.0, rtol=1e-14)


def test_logsumexp_of_large_entries_does_not_overflow(losses):
    """exp(1000) overflows; the subtracted max keeps loss and gradient finite."""
    x = 1000.0 + np.array([0.3, -1.2, 2.0, 0.0])
    with np.errstate(all="raise"):
        gradient = losses.dlogsumexp(x)
        value = losses.logsumexp(x)
    np.testing.assert_allclose(gradient, softmax(x - 1000.0), rtol=1e-12)
    assert value == pytest.approx(1000.0 + np.log(np.sum(np.exp(x - 1000.0))), rel=1e-15)


def test_logsumexp_of_a_matrix_reduces_everything(losses, autograd_losses):
    x = np.random.default_rng(3).normal(size=(3, 4))
    gradient = losses.dlogsumexp(x)
    assert_like(gradient, x)
    np.testing.assert_allclose(gradient, softmax(x, axis=None), rtol=1e-12)
    np.testing.assert_allclose(gradient, autograd_gradient(autograd_losses["logsumexp"],
                                                           (x,), 0), **ORACLE)


def test_softmax_cross_entropy_of_huge_logits_stays_finite(losses):
    W, X, labels = losses.make_inputs(seed=2)["softmax_cross_entropy"]
    W = 300.0 * W   # logits in the hundreds to thousands
    with np.errstate(over="raise", invalid="raise"):
        gradient = losses.dsoftmax_cross_entropy(W, X, labels)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, closed_form("softmax_cross_entropy", (W, X, labels)),
                               rtol=1e-10, atol=1e-12)


# -- soft F1 --------------------------------------------------------------------------

def test_soft_f1_denominator_is_sum_p_plus_sum_y(losses):
    """2tp + fp + fn = sum(p) + sum(y), the identity the closed form rests on."""
    w, X, y = losses.make_inputs(seed=3)["soft_f1_loss"]
    p = 1 / (1 + np.exp(-(X @ w)))
    F = 1 - losses.soft_f1_loss(w, X, y)
    assert F == pytest.approx(2 * np.sum(p * y) / (np.sum(p) + np.sum(y)), rel=1e-14)


def test_soft_f1_without_positives_is_flat(losses):
    """No positive labels: tp = 0, the soft F1 is 0 whatever w is, so dw = 0 exactly."""
    w, X, y = losses.make_inputs(seed=3)["soft_f1_loss"]
    y = np.zeros_like(y)
    assert losses.soft_f1_loss(w, X, y) == 1.0
    np.testing.assert_array_equal(losses.dsoft_f1_loss(w, X, y), np.zeros_like(w))


def test_soft_f1_gradient_descent_raises_the_hard_f1(losses):
    """The reason for the soft confusion matrix (§1.3): descending it improves F1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0.3).astype(float)

    def hard_f1(w):
        pred = (X @ w > 0).astype(float)
        tp, fp, fn = np.sum(pred * y), np.sum(pred * (1 - y)), np.sum((1 - pred) * y)
        return 2 * tp / (2 * tp + fp + fn)

    w = np.array([0.1, 0.1, 0.1])
    start, first = hard_f1(w), losses.soft_f1_loss(w, X, y)
    for _ in range(200):
        w = w - 2.0 * losses.dsoft_f1_loss(w, X, y)
    assert losses.soft_f1_loss(w, X, y) < first - 0.3
    assert start < 0.6 and hard_f1(w) > 0.9


# -- linear regression (lecture §3.4) --------------------------------------------------

@pytest.mark.parametrize("n, features, outputs", [(100, 3, 2), (7, 4, 1), (30, 2, 5)])
def test_linear_regression_gradient_is_the_lectures_closed_form(examples, n, features,
                                                                 outputs):
    lr = examples("linear_regression")
    rng = np.random.default_rng(n + features + outputs)
    X = rng.normal(size=(n, features))
    Y = rng.normal(size=(n, outputs))
    for _ in range(3):
        A = rng.normal(size=(features, outputs))
        dA = lr.dloss(A, X, Y)
        assert_like(dA, A)
        expected = 2 * X.T @ (X @ A - Y)
        np.testing.assert_allclose(dA, expected, rtol=1e-10,
                                   atol=1e-10 * np.max(np.abs(expected)))
        np.testing.assert_allclose(lr.closed_form_gradient(A, X, Y), expected, rtol=1e-15)


def test_linear_regression_gradient_matches_central_differences_and_autograd(examples):
    lr = examples("linear_regression")
    X, Y = lr.make_data(n=20, seed=4)
    A = np.random.default_rng(4).normal(size=lr.TRUE_A.shape)
    oracle = autograd_version(lr, "loss")["loss"]
    dA, dX, dY = s2sad.grad(lr.loss, wrt=(0, 1, 2))(A, X, Y)
    for index, gradient in enumerate((dA, dX, dY)):
        value = (A, X, Y)[index]
        assert_like(gradient, value)
        np.testing.assert_allclose(gradient, numeric_grad(lr.loss, [A, X, Y], index),
                                   rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(gradient, autograd_gradient(oracle, (A, X, Y), index),
                                   **ORACLE)
    # dY by hand too: -2 (XA - Y)
    np.testing.assert_allclose(dY, -2 * (X @ A - Y), rtol=1e-12)


def test_linear_regression_source_after_a_call_reads_as_the_lecture(examples):
    lr = examples("linear_regression")
    X, Y = lr.make_data(n=10)
    dloss = s2sad.grad(lr.loss, wrt=0)   # a fresh one: no call has compiled it yet
    dloss(np.zeros_like(lr.TRUE_A), X, Y)
    text = dloss.source
    assert "compiled for:  A 2-d array, X 2-d array, Y 2-d array" in text
    assert "dA = X.T @ " in text
    assert re.search(r"^    dA = X\.T @ d\w+$", text, re.MULTILINE)


def test_linear_regression_recompiles_for_a_vector_of_weights(examples):
    """The rank-specialized gradient is chosen per call: a 1-d A (one output) after a
    2-d one, and back, each gives the closed form."""
    lr = examples("linear_regression")
    rng = np.random.default_rng(9)
    X = rng.normal(size=(12, 3))
    dloss = s2sad.grad(lr.loss, wrt=0)
    for A, Y in [(rng.normal(size=(3, 2)), rng.normal(size=(12, 2))),
                 (rng.normal(size=3), rng.normal(size=12)),
                 (rng.normal(size=(3, 1)), rng.normal(size=(12, 1)))]:
        dA = dloss(A, X, Y)
        assert_like(dA, A)
        np.testing.assert_allclose(dA, 2 * X.T @ (X @ A - Y), rtol=1e-10, atol=1e-12)
        ranks = "A 2-d array" if A.ndim == 2 else "A 1-d array"
        assert f"compiled for:  {ranks}" in dloss.source


def test_linear_regression_fit_reaches_least_squares(examples):
    lr = examples("linear_regression")
    X, Y = lr.make_data()
    A, history = lr.fit(X, Y, report_every=10)
    losses = [value for _, value in history]
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < losses[0] / 1000
    exact, *_ = np.linalg.lstsq(X, Y, rcond=None)
    np.testing.assert_allclose(A, exact, atol=1e-5)   # 100 steps: within 1e-5
    np.testing.assert_allclose(A, lr.TRUE_A, atol=0.05)   # noise 0.05 on 100 samples


# -- the MLP ---------------------------------------------------------------------------

def small_mlp_problem(mlp, n=10, hidden=5, seed=3):
    X, Y, _ = mlp.make_moons(per_class=n, seed=seed)
    return (*mlp.init_params(hidden=hidden, seed=seed), X, Y)


def test_mlp_gradient_matches_central_differences(examples):
    mlp = examples("mlp")
    args = small_mlp_problem(mlp)
    gradients = mlp.dmlp_loss(*args)
    assert type(gradients) is tuple and len(gradients) == 4
    for index, gradient in enumerate(gradients):
        assert_like(gradient, args[index])
        np.testing.assert_allclose(gradient, numeric_grad(mlp.mlp_loss, args, index),
                                   **NUMERIC, err_msg=f"parameter {index}")


def test_mlp_gradient_matches_autograd(examples):
    mlp = examples("mlp")
    oracle = autograd_version(mlp, "cross_entropy_from_logits", "mlp_loss")["mlp_loss"]
    for seed in (3, 4):
        args = small_mlp_problem(mlp, n=15, hidden=6, seed=seed)
        for index, gradient in enumerate(mlp.dmlp_loss(*args)):
            np.testing.assert_allclose(gradient, autograd_gradient(oracle, args, index),
                                       **ORACLE, err_msg=f"parameter {index}")


def test_mlp_backpropagates_through_tanh(examples):
    """The generated adjoint of H = tanh(.) reads tanh' = 1 - H^2 from H itself."""
    mlp = examples("mlp")
    mlp.dmlp_loss(*small_mlp_problem(mlp))
    assert "1 - H * H" in mlp.dmlp_loss.source
    assert "return dW1, db1, dW2, db2" in mlp.dmlp_loss.source


def test_mlp_training_lowers_the_loss_and_separates_the_moons(examples):
    mlp = examples("mlp")
    X, Y, labels = mlp.make_moons()
    params = mlp.init_params()
    before = mlp.accuracy(params, X, labels)
    params, history = mlp.train(X, Y, params, report_every=100)
    losses = [value for _, value in history]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[0] > 0.5 and losses[-1] < 0.05   # from near log 2 to near 0
    assert before < 0.7
    assert mlp.accuracy(params, X, labels) >= 0.98
    # and on fresh samples from the same moons
    X_new, _, labels_new = mlp.make_moons(seed=11)
    assert mlp.accuracy(params, X_new, labels_new) >= 0.95


def test_the_moons_need_the_hidden_layer(examples, losses):
    """A linear softmax classifier, trained the same way, does markedly worse: the MLP's
    accuracy comes from the nonlinearity it is differentiated through."""
    mlp = examples("mlp")
    X, Y, labels = mlp.make_moons()
    Xb = np.column_stack([X, np.ones(len(X))])   # a bias feature
    W = np.zeros((3, 2))
    for _ in range(1000):
        W = W - 1.0 * losses.dsoftmax_cross_entropy(W, Xb, Y)
    linear = float(np.mean(np.argmax(Xb @ W, axis=1) == labels))
    assert linear < 0.93


# -- every example runs as a script ----------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_as_a_script(script):
    result = run(os.path.join("examples", script))
    assert result.returncode == 0, result.stderr
    assert "def grad_" in result.stdout
    assert "Traceback" not in result.stderr


def test_losses_script_agrees_with_central_differences():
    result = run(os.path.join("examples", "losses.py"))
    errors = re.findall(r"(\w+): loss \S+, gradient shape .*central differences\| (\S+)",
                        result.stdout)
    assert [name for name, _ in errors] == LOSS_NAMES
    assert max(float(error) for _, error in errors) < 1e-7
    for name in LOSS_NAMES:
        assert f"def grad_{name}(" in result.stdout


def test_linear_regression_script_prints_the_lecture_form_and_the_fit():
    result = run(os.path.join("examples", "linear_regression.py"))
    assert result.returncode == 0, result.stderr
    assert "    dA = X.T @ da\n" in result.stdout
    assert float(re.search(r"at A = 0: (\S+)", result.stdout).group(1)) < 1e-10
    block = result.stdout.split("gradient descent: A =\n", 1)[1].split("exact lstsq")[0]
    fitted = np.array([[float(v) for v in row.strip(" []").split()]
                       for row in block.strip().splitlines()])
    np.testing.assert_allclose(fitted, [[1.5, -2.0], [0.5, 0.0], [-1.0, 3.0]], atol=0.05)


def test_mlp_script_trains_from_another_directory():
    result = run("mlp.py", cwd=EXAMPLES)   # it finds losses.py next to itself
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", result.stdout)]
    assert len(losses) > 5
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < losses[0] / 10
    final = float(re.search(r"accuracy after training: (\S+)", result.stdout).group(1))
    assert final >= 0.98
