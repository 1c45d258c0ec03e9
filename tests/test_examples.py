"""The examples in examples/: each one's gradient has the right values and each runs as a script.

The seed and lecture examples compare s2sad's gradient with a derivative written out
by hand in the example itself, so these tests also check central differences, the
project's independent oracle.
"""
import os
import re

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

from conftest import EXAMPLES, run  # the `examples` fixture is conftest's too
SCRIPTS = ["seed002.py", "lecture_sin_ratio.py", "gradient_descent.py",
           "mlp_params_dict.py", "class_model.py"]


# -- seed 002: exp(exp(x) + exp(x)^2) + sin(exp(x) + exp(x)^2) -----------------------

SEED_POINTS = [-2.0, -1.0, -0.3, 0.0, 0.25, 0.5, 1.0]


@pytest.mark.parametrize("x", SEED_POINTS)
def test_seed002_gradient_equals_the_closed_form(examples, x):
    seed = examples("seed002")
    got = seed.df(x)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, seed.symbolic_df(x), rtol=1e-10)


@pytest.mark.parametrize("optimize", [True, False])
def test_seed002_gradient_matches_central_differences(examples, optimize):
    seed = examples("seed002")
    df = s2sad.grad(seed.f, optimize=optimize)
    for x in SEED_POINTS:
        np.testing.assert_allclose(df(x), numeric_grad(seed.f, [x], 0), rtol=1e-6)
        np.testing.assert_allclose(df(x), seed.symbolic_df(x), rtol=1e-10)


def test_seed002_closed_form_is_right(examples):
    """The hand-written closed form itself, against central differences."""
    seed = examples("seed002")
    for x in SEED_POINTS:
        np.testing.assert_allclose(seed.symbolic_df(x), numeric_grad(seed.f, [x], 0),
                                   rtol=1e-6)


def test_seed002_generated_gradient_differentiates_again(examples):
    """DESIGN.md: a generated function can be differentiated again, as a function and
    as grad(grad(f))."""
    seed = examples("seed002")
    d2f = s2sad.grad(seed.df.compiled.function)
    again = s2sad.grad(seed.df)
    for x in SEED_POINTS:
        expected = numeric_grad(seed.symbolic_df, [x], 0)
        np.testing.assert_allclose(d2f(x), expected, rtol=1e-6)
        np.testing.assert_allclose(again(x), expected, rtol=1e-6)


def test_seed002_main_prints_source_and_agreement(examples, capsys):
    seed = examples("seed002")
    seed.main(points=(0.5,))
    out = capsys.readouterr().out
    assert "def grad_f(x, *, df=1.0):" in out
    assert "555.971967901508" in out  # df/dx at 0.5, in both columns
    assert out.count("555.971967901508") == 2


def cli_grad_lines(target, *options):
    result = run("-m", "s2sad", "grad", target, *options)
    assert result.returncode == 0, result.stderr
    body = result.stdout.split("def grad_f(", 1)[1]
    return [line.strip() for line in body.splitlines()[1:] if line.strip()]


def test_seed002_cli_mirrors_the_intermediate_variables():
    lines = cli_grad_lines("examples/seed002.py:f")
    forward = [line for line in lines if re.match(r"[a-f] = ", line)]
    assert forward == ["a = np.exp(x)", "b = a ** 2", "c = a + b", "d = np.exp(c)",
                       "e = np.sin(c)", "f = d + e"]
    start = next(i for i, line in enumerate(lines) if line.startswith("# adjoint of"))
    adjoint = lines[start + 1:]
    assert adjoint[-1] == "return dx"
    assigned = [re.match(r"(d\w+) \+?= ", line).group(1) for line in adjoint[:-1]]
    # one multiplier per constraint, met in reverse order: f's (dd, de) first, x's last
    assert set(assigned) == {"dd", "de", "dc", "da", "db", "dx"}
    assert assigned.index("dc") < assigned.index("da") < assigned.index("dx")
    assert assigned.index("dd") < assigned.index("dc") and assigned.index("de") < \
        assigned.index("dc")
    # c is read by d and by e: its adjoint is set once and accumulated once, in a row
    dc = [i for i, line in enumerate(adjoint) if line.startswith("dc ")]
    assert len(dc) == 2
    assert adjoint[dc[0]].startswith("dc = ") and adjoint[dc[1]].startswith("dc += ")
    assert dc[1] == dc[0] + 1
    # a is read by b and by c: da too
    da = [line for line in adjoint if line.startswith("da ")]
    assert [line.split()[1] for line in da] == ["=", "+="]


def test_seed002_cli_without_optimisation_still_accumulates_dc():
    lines = cli_grad_lines("examples/seed002.py:f", "--no-optimize")
    dc = [line for line in lines if line.startswith("dc ")]
    assert len(dc) == 2 and dc[0].startswith("dc = ")
    assert dc[1].startswith("dc += ") or dc[1].startswith("dc = dc + ")


# -- lecture §2.10: sin(x + y) / (x * y) ----------------------------------------------

LECTURE_POINTS = [(1.0, 2.0), (0.5, -1.5), (-2.0, 3.0), (3.0, 0.25), (-0.7, -0.4),
                  (10.0, 0.1)]


@pytest.mark.parametrize("x, y", LECTURE_POINTS)
def test_lecture_gradient_equals_the_hand_derived_one(examples, x, y):
    lecture = examples("lecture_sin_ratio")
    dx, dy = lecture.dF(x, y)
    hx, hy = lecture.hand_gradient(x, y)
    assert isinstance(dx, float) and isinstance(dy, float)
    np.testing.assert_allclose([dx, dy], [hx, hy], rtol=1e-10)


@pytest.mark.parametrize("optimize", [True, False])
def test_lecture_gradient_by_name_and_unoptimised(examples, optimize):
    lecture = examples("lecture_sin_ratio")
    by_name = s2sad.grad(lecture.F, wrt=("x", "y"), optimize=optimize)
    only_y = s2sad.grad(lecture.F, wrt="y", optimize=optimize)
    for x, y in LECTURE_POINTS:
        hx, hy = lecture.hand_gradient(x, y)
        np.testing.assert_allclose(by_name(x, y), [hx, hy], rtol=1e-10)
        np.testing.assert_allclose(only_y(x, y), hy, rtol=1e-10)
        np.testing.assert_allclose([hx, hy], [numeric_grad(lecture.F, [x, y], 0),
                                              numeric_grad(lecture.F, [x, y], 1)], rtol=1e-6)


def test_lecture_scalar_annotations_need_no_unbroadcast(examples):
    lecture = examples("lecture_sin_ratio")
    text = s2sad.source(lecture.F, wrt=(0, 1))
    assert "def grad_F(x, y, *, dF=1.0):" in text
    assert "unbroadcast" not in text
    assert "return dx, dy" in text


def test_lecture_main_prints_both_gradients(examples, capsys):
    lecture = examples("lecture_sin_ratio")
    lecture.main(points=[(1.0, 2.0)])
    out = capsys.readouterr().out
    assert "def grad_F(" in out
    assert out.count("-0.565556252330") == 2 and out.count("-0.530276250315") == 2


# -- gradient descent on a least-squares loss -----------------------------------------

def test_gradient_descent_gradient_is_the_least_squares_gradient(examples):
    gd = examples("gradient_descent")
    X, y = gd.make_data(n=30, seed=3)
    rng = np.random.default_rng(5)
    for _ in range(3):
        w, b = rng.normal(size=2), float(rng.normal())
        residual = X @ w + b - y
        dw, db = gd.loss(w, b, X, y)
        assert dw.shape == w.shape and isinstance(db, float)
        np.testing.assert_allclose(dw, 2 * X.T @ residual / len(y), rtol=1e-10)
        np.testing.assert_allclose(db, 2 * np.mean(residual), rtol=1e-10)


def test_gradient_descent_converges_to_the_true_parameters(examples):
    gd = examples("gradient_descent")
    X, y = gd.make_data()
    w, b, history = gd.fit(X, y, report_every=10)
    losses = [value for _, value in history]
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < losses[0] / 100
    # the noise is 0.05 on 200 points: the fit is within a few hundredths of the truth
    np.testing.assert_allclose(w, gd.TRUE_W, atol=0.05)
    assert abs(b - gd.TRUE_B) < 0.05
    # and gradient descent has reached the exact least-squares solution
    design = np.column_stack([X, np.ones(len(y))])
    exact, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(np.append(w, b), exact, atol=1e-3)


def test_gradient_descent_does_not_modify_its_data(examples):
    gd = examples("gradient_descent")
    X, y = gd.make_data(n=20)
    X0, y0 = X.copy(), y.copy()
    w = np.array([0.3, -0.2])
    w0 = w.copy()
    gd.loss(w, 0.1, X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, w0)


# -- every example runs as a script ----------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_as_a_script(script):
    result = run(os.path.join("examples", script))
    assert result.returncode == 0, result.stderr
    assert "def grad_" in result.stdout or "def value_and_grad_" in result.stdout
    assert "Traceback" not in result.stderr


def test_seed002_script_agrees_with_the_closed_form():
    result = run(os.path.join("examples", "seed002.py"))
    diffs = [float(d) for d in re.findall(r"rel\. diff: (\S+)", result.stdout)]
    assert len(diffs) == 3 and max(diffs) < 1e-10


def test_gradient_descent_script_prints_a_decreasing_loss():
    result = run("gradient_descent.py", cwd=EXAMPLES)  # from any directory
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", result.stdout)]
    assert len(losses) > 5
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < 0.01 < losses[0]
    fitted = re.search(r"gradient descent: w = \[\s*(\S+)\s+(\S+)\], b = (\S+)",
                       result.stdout)
    np.testing.assert_allclose([float(v) for v in fitted.groups()], [2.0, -3.0, 0.5],
                               atol=0.05)


# -- structured parameters: a dict of layers, and a model written as a class --------------

def _autograd_gradient(fn, args):
    """autograd's gradient of fn (written against `np`) w.r.t. its first argument: fn's
    code run with autograd.numpy as `np` (autograd takes dicts, lists and tuples)."""
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    scope = dict(fn.__globals__, np=anp)
    again = type(fn)(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    for name, value in fn.__globals__.items():  # its helpers see autograd.numpy too
        if callable(value) and getattr(value, "__code__", None) is not None and \
                getattr(value, "__module__", None) == fn.__module__:
            scope[name] = type(value)(value.__code__, scope, value.__name__,
                                      value.__defaults__, value.__closure__)
    return autograd.grad(again)(*args)


def test_mlp_params_dict_gradient_is_autograds(examples):
    example = examples("mlp_params_dict")
    x, y = example.make_data(n=20)
    params = example.init_params(hidden=5)
    value, grads = example.loss_and_grads(params, x, y)
    expected = _autograd_gradient(example.loss, (params, x, y))
    assert list(grads) == ["hidden", "output"]
    for name in grads:
        assert list(grads[name]) == ["W", "b"]
        for key in ("W", "b"):
            assert grads[name][key].shape == params[name][key].shape
            np.testing.assert_allclose(grads[name][key], expected[name][key], rtol=1e-8)
    np.testing.assert_allclose(value, example.loss(params, x, y), rtol=1e-12)


def test_mlp_params_dict_script_trains_and_prints_its_gradient():
    result = run(os.path.join("examples", "mlp_params_dict.py"))
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(r"step +\d+ +loss (\d+\.\d+)", result.stdout)]
    assert len(losses) == 7 and losses[-1] < 0.1 * losses[0]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    for leaf in ("params_hidden_W", "dparams_hidden_W", "dparams_output_b"):
        assert leaf in result.stdout


def test_class_model_gradient_is_autograds(examples):
    example = examples("class_model")
    X, Y, labels = example.make_blobs(per_class=5)
    for activation in ("tanh", "relu"):
        model = example.MLP([2, 4, 3], activation=activation, weight_decay=0.01)
        params = model.init_params(seed=3)
        grads = s2sad.grad(model.loss)(params, X, Y)
        assert type(grads) is list and len(grads) == 2
        for layer, ((dW, db), (W, b)) in enumerate(zip(grads, params)):
            assert type(grads[layer]) is tuple
            for slot, (got, leaf) in enumerate(((dW, W), (db, b))):
                assert got.shape == leaf.shape

                def at(value):
                    moved = [list(p) for p in params]
                    moved[layer][slot] = value
                    return model.loss([tuple(p) for p in moved], X, Y)

                np.testing.assert_allclose(got, numeric_grad(at, [leaf], 0), rtol=1e-6,
                                           atol=1e-9)


def test_class_model_script_reaches_full_accuracy():
    result = run(os.path.join("examples", "class_model.py"))
    assert result.returncode == 0, result.stderr
    accuracies = [float(v) for v in re.findall(r"accuracy (\d\.\d+)", result.stdout)]
    assert accuracies[-1] == 1.0 and accuracies[0] < 0.5
    assert "def grad_loss(self_weight_decay, params_0_0" in result.stdout
