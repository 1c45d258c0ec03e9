"""The loop examples in examples/: convolution and matrix product by loops, Horner, RK4, an RNN.

Each example carries its own reference gradient: correlations for the convolution, the
lecture's dA = dC B^T, dB = A^T dC for the matrix product, the closed-form derivative of
the polynomial for Horner, and an adjoint sweep written by hand for RK4 and the RNN.
The tests check that reference against central differences (the project's independent
oracle; these pass without loop support), s2sad's gradient against the reference, the
generated source of the convolution against the lecture's adjoint lines (§3.1), and that
every example runs as a script.
"""
import os
import re

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

from conftest import run  # the `examples` fixture is conftest's too
SCRIPTS = ["convolution_loops.py", "matmul_loops.py", "horner.py", "rk4.py", "rnn.py"]
RTOL = 1e-6


def assert_gradients_close(got, expected, rtol=RTOL, atol=1e-10):
    """Same structure (tuple of gradients), shapes and values."""
    assert isinstance(got, tuple) and len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# -- 1-D convolution by loops: c[i + k] += a[i] * b[k] ------------------------------------

CONV_SIZES = [(5, 3), (4, 4), (7, 1), (1, 6), (12, 5)]


def conv_inputs(n, m, seed=0):
    rng = np.random.default_rng(seed + 10 * n + m)
    return rng.normal(size=n), rng.normal(size=m)


@pytest.mark.parametrize("n, m", CONV_SIZES)
def test_convolution_hand_gradient_matches_central_differences(examples, n, m):
    conv = examples("convolution_loops")
    a, b = conv_inputs(n, m)
    np.testing.assert_allclose(conv.conv_energy(a, b), np.sum(np.convolve(a, b) ** 2),
                               rtol=1e-12)
    numeric = (numeric_grad(conv.conv_energy, [a, b], 0),
               numeric_grad(conv.conv_energy, [a, b], 1))
    assert_gradients_close(conv.hand_gradient(a, b), numeric, atol=1e-8)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("n, m", CONV_SIZES)
def test_convolution_gradient_equals_the_correlations(examples, n, m, optimize):
    conv = examples("convolution_loops")
    a, b = conv_inputs(n, m)
    df = s2sad.grad(conv.conv_energy, wrt=(0, 1), optimize=optimize)
    assert_gradients_close(df(a, b), conv.hand_gradient(a, b))


def test_convolution_gradient_in_one_argument(examples):
    conv = examples("convolution_loops")
    a, b = conv_inputs(6, 3)
    ha, hb = conv.hand_gradient(a, b)
    np.testing.assert_allclose(s2sad.grad(conv.conv_energy, wrt="b")(a, b), hb, rtol=RTOL)
    np.testing.assert_allclose(s2sad.grad(conv.conv_energy)(a, b), ha, rtol=RTOL)


def test_convolution_gradient_leaves_the_inputs_alone(examples):
    conv = examples("convolution_loops")
    a, b = conv_inputs(5, 3)
    a0, b0 = a.copy(), b.copy()
    conv.dconv(a, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


# the lecture's §3.1: da[x] += dc[z] * b[y]; db[y] += dc[z] * a[x] (a version suffix allowed)
INDEX = r"\[[^\]\n]+\]"
DA_LINE = re.compile(rf"\bda(?:_\d+)?{INDEX}\s*\+=\s*dc(?:_\d+)?{INDEX}\s*\*\s*b{INDEX}")
DB_LINE = re.compile(rf"\bdb(?:_\d+)?{INDEX}\s*\+=\s*dc(?:_\d+)?{INDEX}\s*\*\s*a{INDEX}")


def test_convolution_adjoint_reads_like_the_lecture(examples):
    conv = examples("convolution_loops")
    source = conv.dconv.source
    assert DA_LINE.search(source), source
    assert DB_LINE.search(source), source
    assert "def grad_conv_energy(a, b" in source


def test_the_lecture_regexes_match_the_lecture_lines():
    """The patterns above accept the lecture's lines and reject near misses."""
    assert DA_LINE.search("        da[i] += dc[i + k] * b[k]")
    assert DB_LINE.search("        db[k] += dc[i + k] * a[i]")
    assert DA_LINE.search("da_1[x] += dc_2[z] * b[y]")
    assert not DA_LINE.search("da[i] = dc[i + k] * b[k]")
    assert not DA_LINE.search("da[i] += dc * b[k]")
    assert not DB_LINE.search("db[k] += dc[i + k] * b[k]")


def test_convolution_main_prints_source_and_agreement(examples, capsys):
    conv = examples("convolution_loops")
    conv.main()
    out = capsys.readouterr().out
    assert "def grad_conv_energy(" in out
    assert DA_LINE.search(out) and DB_LINE.search(out)
    diffs = [float(d) for d in re.findall(r"rel\. diff: (\S+)", out)]
    assert len(diffs) == 2 and max(diffs) < 1e-10


# -- matrix product by three loops: C[i, j] += A[i, k] * B[k, j] --------------------------

MATMUL_SHAPES = [(3, 4, 2), (1, 1, 1), (2, 5, 3), (4, 1, 4)]


def matmul_inputs(n, q, p, seed=1):
    rng = np.random.default_rng(seed + 100 * n + 10 * q + p)
    return rng.normal(size=(n, q)), rng.normal(size=(q, p)), rng.normal(size=(n, p))


@pytest.mark.parametrize("n, q, p", MATMUL_SHAPES)
def test_matmul_lecture_gradient_matches_central_differences(examples, n, q, p):
    mm = examples("matmul_loops")
    A, B, G = matmul_inputs(n, q, p)
    np.testing.assert_allclose(mm.matmul_loss(A, B, G), np.sum((A @ B) * G), rtol=1e-12)
    numeric = (numeric_grad(mm.matmul_loss, [A, B, G], 0),
               numeric_grad(mm.matmul_loss, [A, B, G], 1))
    assert_gradients_close(mm.lecture_gradient(A, B, G), numeric, atol=1e-8)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("n, q, p", MATMUL_SHAPES)
def test_matmul_gradient_is_dC_BT_and_AT_dC(examples, n, q, p, optimize):
    mm = examples("matmul_loops")
    A, B, G = matmul_inputs(n, q, p)
    dA, dB = s2sad.grad(mm.matmul_loss, wrt=(0, 1), optimize=optimize)(A, B, G)
    assert_gradients_close((dA, dB), (G @ B.T, A.T @ G))


def test_matmul_adjoint_reads_like_the_lecture(examples):
    mm = examples("matmul_loops")
    source = mm.dmatmul.source
    assert re.search(rf"\bdA(?:_\d+)?{INDEX}\s*\+=\s*dC(?:_\d+)?{INDEX}\s*\*\s*B{INDEX}",
                     source), source
    assert re.search(rf"\bdB(?:_\d+)?{INDEX}\s*\+=\s*dC(?:_\d+)?{INDEX}\s*\*\s*A{INDEX}",
                     source), source


def test_matmul_main_prints_source_and_agreement(examples, capsys):
    mm = examples("matmul_loops")
    mm.main()
    out = capsys.readouterr().out
    assert "def grad_matmul_loss(" in out
    diffs = [float(d) for d in re.findall(r"rel\. diff: (\S+)", out)]
    assert len(diffs) == 2 and max(diffs) < 1e-10


# -- Horner's rule: p = p * x + c[i] ---------------------------------------------------------

HORNER_CASES = [(0.7, [1.0]), (-1.3, [2.0, -0.5]), (0.4, [0.5, -1.5, 2.0, 0.25, -3.0, 1.0]),
                (1.1, list(np.linspace(-1.0, 1.0, 15)))]


@pytest.mark.parametrize("x, c", HORNER_CASES)
def test_horner_analytic_gradient_matches_central_differences(examples, x, c):
    horner = examples("horner")
    c = np.array(c)
    np.testing.assert_allclose(horner.horner(x, c), np.polyval(c, x), rtol=1e-12)
    numeric = (numeric_grad(horner.horner, [x, c], 0), numeric_grad(horner.horner, [x, c], 1))
    assert_gradients_close(horner.analytic_gradient(x, c), numeric, atol=1e-8)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("x, c", HORNER_CASES)
def test_horner_gradient_is_the_derivative_polynomial(examples, x, c, optimize):
    horner = examples("horner")
    c = np.array(c)
    dx, dc = s2sad.grad(horner.horner, wrt=(0, 1), optimize=optimize)(x, c)
    assert isinstance(dx, float)  # a float for a float
    assert_gradients_close((dx, dc), horner.analytic_gradient(x, c))


def test_horner_main_prints_source_and_agreement(examples, capsys):
    horner = examples("horner")
    horner.main()
    out = capsys.readouterr().out
    assert "def grad_horner(" in out
    diffs = [float(d) for d in re.findall(r"rel\. diff: (\S+)", out)]
    assert len(diffs) == 2 * len(horner.POINTS) and max(diffs) < 1e-10


# -- RK4 for dy/dt = -lam y + sin(t) ---------------------------------------------------------

RK4_CASES = [(1.0, 0.5, 100, 0.05), (-0.4, 0.8, 100, 0.05), (2.0, 0.1, 1, 0.3),
             (0.3, 2.0, 37, 0.02)]


def rk4_numeric(rk4, y0, lam, steps, dt):
    f = lambda y0, lam: rk4.rk4(y0, lam, steps, dt)  # noqa: E731
    return numeric_grad(f, [y0, lam], 0), numeric_grad(f, [y0, lam], 1)


@pytest.mark.parametrize("y0, lam, steps, dt", RK4_CASES)
def test_rk4_hand_gradient_matches_central_differences(examples, y0, lam, steps, dt):
    rk4 = examples("rk4")
    hand = rk4.hand_gradient(y0, lam, steps, dt)
    assert_gradients_close(hand, rk4_numeric(rk4, y0, lam, steps, dt), atol=1e-8)
    # the ODE is linear in y: one RK4 step multiplies y by the stability polynomial R(-lam dt)
    z = -lam * dt
    R = 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24
    np.testing.assert_allclose(hand[0], R ** steps, rtol=1e-12)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("y0, lam, steps, dt", RK4_CASES)
def test_rk4_gradient_equals_the_hand_written_adjoint(examples, y0, lam, steps, dt,
                                                      optimize):
    rk4 = examples("rk4")
    got = s2sad.grad(rk4.rk4, wrt=(0, 1), optimize=optimize)(y0, lam, steps, dt)
    assert all(isinstance(g, float) for g in got)
    assert_gradients_close(got, rk4.hand_gradient(y0, lam, steps, dt))
    assert_gradients_close(got, rk4_numeric(rk4, y0, lam, steps, dt), atol=1e-8)


def test_rk4_gradient_with_the_default_arguments(examples):
    rk4 = examples("rk4")
    assert_gradients_close(rk4.drk4(1.0, 0.5), rk4.hand_gradient(1.0, 0.5))


def test_rk4_main_prints_source_and_agreement(examples, capsys):
    rk4 = examples("rk4")
    rk4.main()
    out = capsys.readouterr().out
    assert "def grad_rk4(" in out
    diffs = [float(d) for d in re.findall(r"rel\. diff \(hand\): (\S+)", out)]
    assert len(diffs) == 2 * len(rk4.POINTS) and max(diffs) < 1e-10


# -- RNN: h = tanh(W @ h + U @ x[t] + b) -----------------------------------------------------

RNN_SIZES = [(4, 3, 6), (1, 1, 1), (3, 2, 10), (5, 4, 2)]


@pytest.mark.parametrize("hidden, features, steps", RNN_SIZES)
def test_rnn_hand_gradient_matches_central_differences(examples, hidden, features, steps):
    rnn = examples("rnn")
    W, U, b, x = rnn.make_inputs(hidden, features, steps, seed=hidden + steps)
    numeric = tuple(numeric_grad(rnn.rnn_loss, [W, U, b, x], i) for i in range(3))
    assert_gradients_close(rnn.hand_gradient(W, U, b, x), numeric, atol=1e-8)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("hidden, features, steps", RNN_SIZES)
def test_rnn_gradient_equals_backpropagation_through_time(examples, hidden, features, steps,
                                                          optimize):
    rnn = examples("rnn")
    W, U, b, x = rnn.make_inputs(hidden, features, steps, seed=hidden + steps)
    got = s2sad.grad(rnn.rnn_loss, wrt=(0, 1, 2), optimize=optimize)(W, U, b, x)
    assert_gradients_close(got, rnn.hand_gradient(W, U, b, x))


def test_rnn_main_prints_source_and_agreement(examples, capsys):
    rnn = examples("rnn")
    rnn.main()
    out = capsys.readouterr().out
    assert "def grad_rnn_loss(" in out
    diffs = [float(d) for d in re.findall(r"rel\. diff vs by hand (\S+),", out)]
    assert len(diffs) == 3 and max(diffs) < 1e-10


# -- every example runs as a script ----------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_loop_example_runs_as_a_script(script):
    result = run(os.path.join("examples", script))
    assert result.returncode == 0, result.stderr
    assert "def grad_" in result.stdout
    assert "Traceback" not in result.stderr
