"""The implicit-differentiation examples (issue 21): a DEQ layer, ridge's hyper-gradient, a
steady state, an implied volatility.

Each example's main runs in a fast configuration and its own checks pass; each example's
gradient is within 1e-6 of central differences of the converged solution (the examples
solve to tolerances of 1e-12 and below, so the differences see the solution, not the
solver's stopping point); the DEQ's generated adjoint reads as seed 002's multiplier
equation; and every example runs as a script.
"""
import os

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

from conftest import run  # the `examples` fixture is conftest's too

SCRIPTS = ["deq_layer.py", "ridge_hypergradient.py", "steady_state.py",
           "implied_volatility.py"]


def assert_close_to_differences(got, f, args, index, rtol=1e-6):
    """s2sad's gradient against central differences of f in argument `index`, entry by
    entry, within rtol of the largest entry (entries near zero are differences of
    nearly equal numbers)."""
    expected = numeric_grad(f, args, index)
    assert np.shape(got) == np.shape(expected)
    assert isinstance(got, float) == isinstance(args[index], float)
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)


# -- the deep-equilibrium layer ------------------------------------------------------------

def deq_case(examples, hidden, points, seed=0):
    deq = examples("deq_layer")
    X, y = deq.make_moons(points, seed=seed)
    return deq, [*deq.init_params(hidden, seed=seed + 1), X, y]


@pytest.mark.parametrize("hidden, points", [(3, 10), (6, 40)])  # dense, then iterated
def test_deq_gradient_matches_differences_of_the_equilibrium(examples, hidden, points):
    deq, args = deq_case(examples, hidden, points)
    copies = [np.copy(a) for a in args]
    grads = s2sad.grad(deq.loss, wrt=(0, 1, 2, 3, 4))(*args)
    for index, got in enumerate(grads):
        assert_close_to_differences(got, deq.loss, args, index)
    for a, c in zip(args, copies):  # the caller's arrays are left alone
        np.testing.assert_array_equal(a, c)


def test_deq_value_and_grad_equals_grad(examples):
    deq, args = deq_case(examples, 4, 20)
    value, grads = deq.value_and_gradient(*args)
    assert value == pytest.approx(deq.loss(*args), rel=1e-14)
    for a, b in zip(grads, s2sad.grad(deq.loss, wrt=(0, 1, 2, 3, 4))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def unrolled_loss(W, U, b, v, c, X, y, steps):
    """The DEQ loss with the equilibrium by a plain loop (s2sad's exact unrolled
    derivative: the derivative of the steps)."""
    Z = np.zeros((X.shape[0], W.shape[0]))
    for _ in range(steps):
        Z = np.tanh(Z @ W + X @ U + b)
    logits = Z @ v + c
    return np.mean(np.logaddexp(0.0, logits) - y * logits)


def test_deq_implicit_gradient_is_the_limit_of_the_unrolled_one(examples):
    """W has norm 0.5: after 80 steps the unrolled loop is converged to round-off, and
    its step-by-step derivative agrees with the multiplier solve's."""
    deq, args = deq_case(examples, 5, 30)
    implicit = s2sad.grad(deq.loss, wrt=(0, 1, 2))(*args)
    unrolled = s2sad.grad(unrolled_loss, wrt=(0, 1, 2))(*args, 80)
    for a, b in zip(implicit, unrolled):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_deq_generated_adjoint_reads_as_the_multiplier_equation(examples):
    deq, args = deq_case(examples, 6, 40)  # Z has 240 entries: the iterated solve
    gradient = s2sad.grad(deq.loss, wrt=(0, 1, 2, 3, 4))
    gradient(*args)
    source = gradient.source
    assert "implicit:      Z = fixed_point(cell, ...): multipliers by cell_multiplier" \
        in source
    assert "lam = cell_multiplier(dZ, Z, W, U, b, X)" in source
    assert "(I - ∂cell/∂Z)ᵀ lam = dZ" in source
    assert "vjp = vjp_cell_Z_at(Z, W, U, b, X)" in source
    assert "lam_next = dZ + vjp(lam)" in source
    assert "def vjp_cell_Z_at(" in source and "def vjp_cell_W_U_b(" in source
    assert "stored:        nothing" in source  # no iterate of the forward solve kept


def test_deq_main_checks_and_trains(examples, capsys):
    deq = examples("deq_layer")
    result = deq.main(points=80, hidden=6, epochs=40)
    out = capsys.readouterr().out
    assert max(result["gradient_errors"].values()) < 1e-6
    assert result["losses"][-1] < 0.5 * result["losses"][0]
    assert result["accuracy"] > 0.8
    assert "def cell_multiplier(dZ, Z, W, U, b, X):" in out
    assert "epoch   40" in out


# -- ridge regression's hyper-gradient -------------------------------------------------

def test_ridge_hypergradient_matches_closed_form_and_differences(examples):
    ridge = examples("ridge_hypergradient")
    data = ridge.make_data(features=8, n_train=12, n_val=30, seed=3)
    for log_lam in (-2.0, 0.0, 1.5):
        got = s2sad.grad(ridge.val)(log_lam, *data)
        assert isinstance(got, float)
        np.testing.assert_allclose(got, ridge.closed_form(log_lam, *data), rtol=1e-10)
        assert_close_to_differences(got, ridge.val, [log_lam, *data], 0)


def test_ridge_per_feature_and_fixed_point_forms(examples):
    ridge = examples("ridge_hypergradient")
    X, y, X_val, y_val = data = ridge.make_data(features=6, n_train=10, n_val=20, seed=5)
    log_lams = np.linspace(-1.0, 1.0, 6)
    got = s2sad.grad(ridge.val)(log_lams, *data)
    np.testing.assert_allclose(got, ridge.closed_form_per_feature(log_lams, *data),
                               rtol=1e-9)
    assert_close_to_differences(got, ridge.val, [log_lams, *data], 0)
    step = 1.0 / (np.linalg.norm(X, 2) ** 2 + 1.0)
    fixed = s2sad.grad(ridge.val_fixed_point)(0.0, *data, step)
    np.testing.assert_allclose(fixed, ridge.closed_form(0.0, *data), rtol=1e-7)


def test_ridge_main_checks_and_descends(examples, capsys):
    ridge = examples("ridge_hypergradient")
    result = ridge.main(steps=4, check_fixed_point=False)
    capsys.readouterr()
    assert max(result["errors"].values()) < 1e-6
    values = [v for _, v in result["history"]]
    assert values[-1] < values[0]
    assert abs(result["history"][-1][0] - result["grid_best"]) < 0.1


# -- the steady state of a pathway -----------------------------------------------------

def test_steady_state_gradients_match_differences(examples):
    st = examples("steady_state")
    params = list(st.make_pathway(4))
    grads = s2sad.grad(st.flux, wrt=(0, 1, 2, 3))(*params)
    for index, got in enumerate(grads):
        assert_close_to_differences(got, st.flux, params, index)
    pool = s2sad.grad(st.total_pool, wrt=(0, 1, 2, 3))(*params)
    for index, got in enumerate(pool):
        assert_close_to_differences(got, st.total_pool, params, index)


def test_steady_state_main_checks(examples, capsys):
    st = examples("steady_state")
    result = st.main(n=4, check_time_steps=True)
    capsys.readouterr()
    assert max(result["errors"].values()) < 1e-6
    assert max(result["summation"].values()) < 1e-10


# -- the implied volatility ------------------------------------------------------------

def test_implied_vol_gradient_is_one_over_vega(examples):
    iv = examples("implied_volatility")
    for S, K, T, r, sigma in [(100.0, 110.0, 0.75, 0.02, 0.27), (50.0, 40.0, 2.0, 0.0, 0.6)]:
        market = float(iv.bs_call(sigma, S, K, T, r))
        args = [market, S, K, T, r]
        d_market, d_spot = s2sad.grad(iv.implied_vol, wrt=(0, 1))(*args)
        vega, delta = iv.vega_and_delta(sigma, S, K, T, r)
        np.testing.assert_allclose([d_market, d_spot], [1 / vega, -delta / vega], rtol=1e-9)
        assert_close_to_differences(d_market, iv.implied_vol, args, 0)
        assert_close_to_differences(d_spot, iv.implied_vol, args, 1)


def test_implied_vol_main_checks(examples, capsys):
    iv = examples("implied_volatility")
    result = iv.main(strikes=4)
    capsys.readouterr()
    assert max(result["errors"].values()) < 1e-6


# -- as scripts ----------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_as_a_script(script):
    result = run(os.path.join("examples", script), "--quick")
    assert result.returncode == 0, result.stderr
    assert "relative errors" in result.stdout or "per parameter" in result.stdout
    assert "_multiplier(" in result.stdout  # the generated multiplier solve is printed
    assert "Traceback" not in result.stderr


def test_memory_benchmark_smoke(tmp_path):
    """benchmarks/implicit_memory.py runs, forces its iteration counts, and writes its
    table; the implicit gradients' peak memory stays put while the unrolled one's grows."""
    result = run(os.path.join("benchmarks", "implicit_memory.py"), "--iterations", "10",
                 "100", "--rounds", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "implicit.md").read_text()
    rows = [line.split("|")[1:-1] for line in table.splitlines()
            if line.startswith("| 10 |") or line.startswith("| 100 |")]
    assert len(rows) == 2 and all(row[2].strip() == "ok" for row in rows)
    units = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2}
    peaks = [[float(cell.split()[0]) * units[cell.split()[1]] for cell in row[7:11]]
             for row in rows]  # primal, implicit dense, implicit iterated, unrolled
    for column in (1, 2):  # the implicit gradients: the same peak at 10 and 100 steps
        assert abs(peaks[1][column] / peaks[0][column] - 1) < 0.05
    assert peaks[1][3] > 1.2 * peaks[0][3]  # the unrolled one grows
    assert "python3 benchmarks/implicit_memory.py --iterations 10 100" in table


# -- found while writing the examples ------------------------------------------------

def diverging_loss(W, c):
    """A DEQ cell whose W (norm 3) does not contract: the forward solve fails."""
    z = s2sad.fixed_point(deq_cell, np.zeros(3), 3.0 * W, c, max_iter=20)
    return np.sum(z)


def deq_cell(z, W, c):
    return np.tanh(W @ z + c)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jvp"])
def test_convergence_error_inside_a_derivative_points_at_the_call(transform):
    rng = np.random.default_rng(0)
    W, c = rng.normal(size=(3, 3)), rng.normal(size=3)
    call = {"grad": lambda: s2sad.grad(diverging_loss, wrt=1)(W, c),
            "value_and_grad": lambda: s2sad.value_and_grad(diverging_loss, wrt=1)(W, c),
            "jvp": lambda: s2sad.jvp(diverging_loss, wrt=1)(W, c, c)}[transform]
    with pytest.raises(s2sad.ConvergenceError, match="did not converge") as info:
        call()
    assert info.value.location is not None
    assert info.value.location.filename == __file__
    assert info.value.location.line == diverging_loss.__code__.co_firstlineno + 2


def scaled_deq_loss(W, c, scale):
    Z = s2sad.fixed_point(batch_cell, np.zeros(c.shape), W, c, solve="iterate")
    return scale * np.sum(Z ** 2)


def deq_batch(W, c):
    return s2sad.fixed_point(batch_cell, np.zeros(c.shape), W, c, solve="iterate")


def batch_cell(Z, W, c):
    return np.tanh(Z @ W + c)


def contracting_batch():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(8, 8))
    return W * (0.9 / np.linalg.norm(W, 2)), rng.normal(size=(30, 8)), rng.normal(size=(30, 8))


def test_iterated_multipliers_are_linear_in_the_seed():
    W, c, _ = contracting_batch()
    gradient = s2sad.grad(scaled_deq_loss)
    np.testing.assert_allclose(gradient(W, c, 1e-6) / 1e-6, gradient(W, c, 1.0), rtol=1e-7)


def test_iterated_tangents_are_linear_in_the_tangent():
    W, c, t = contracting_batch()
    jvp = s2sad.jvp(deq_batch, wrt=1)
    np.testing.assert_allclose(jvp(W, c, 1e-6 * t)[1] / 1e-6, jvp(W, c, t)[1], rtol=1e-7)


def square_gap(x, a):
    return x ** 2 - a


def small_root(a):
    return s2sad.root(square_gap, 1.0, a)


def test_root_of_small_scale_is_accurate():
    np.testing.assert_allclose(small_root(1e-20), 1e-10, rtol=1e-8)
    np.testing.assert_allclose(s2sad.grad(small_root)(1e-20), 0.5e10, rtol=1e-6)
