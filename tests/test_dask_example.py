"""examples/dask_logistic_regression.py: the fit on dask arrays converges, recovers the
weights the data was drawn from, and equals the same fit on NumPy arrays; its gradient
stays lazy until the one dask.compute per pass. Small sizes (20,000 rows, uneven chunks)
on a cluster of threads in this process, and once as a script on worker processes."""
import pickle
import re

import numpy as np
import pytest

from conftest import compute_counter, run

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
pytest.importorskip("dask.distributed")
pytest.importorskip("scipy.optimize")

ROWS = 20_000
CHUNK_ROWS = 6_000  # 6000, 6000, 6000, 2000: the last chunk is shorter


@pytest.fixture(scope="module")
def example(examples):
    return examples("dask_logistic_regression")


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    """The example's fit on a cluster of threads, in a Python process of its own: a
    distributed cluster started here would share this test process's state with every
    test run in it before (and a hang fails at run()'s timeout, not the suite)."""
    path = tmp_path_factory.mktemp("dask_example") / "summary.pickle"
    argv = ["--rows", str(ROWS), "--chunk-rows", str(CHUNK_ROWS), "--threads",
            "--check-rows", str(ROWS)]
    done = run("-c", "import pickle, sys; sys.path.insert(0, 'examples'); "
                     "import dask_logistic_regression as example; "
                     f"summary = example.main({argv!r}); "
                     f"pickle.dump(summary, open({str(path)!r}, 'wb'))")
    assert done.returncode == 0, done.stderr
    with open(path, "rb") as f:
        return pickle.load(f)


def test_fit_converges_to_the_true_weights(summary):
    res = summary["result"]
    assert res.success, res.message
    assert np.all(np.diff(res.losses) <= 1e-15)  # L-BFGS's iterates only go down
    assert summary["result"].nit >= 5
    # at 20,000 rows the estimate is within a few standard errors of the truth
    assert np.max(np.abs(summary["z_scores"])) < 5
    assert abs(summary["accuracy"] - summary["true_accuracy"]) < 0.01


def test_fit_equals_the_fit_on_numpy_arrays(summary):
    np.testing.assert_allclose(summary["theta"], summary["numpy_theta"], rtol=0, atol=1e-8)
    assert summary["grad_diff"] <= 1e-10
    assert summary["value_diff"] <= 1e-10


def test_value_and_gradient_are_lazy_and_equal_numpys(example):
    X, y = example.make_data(ROWS, CHUNK_ROWS, seed=3)
    theta = np.linspace(-1.0, 1.0, example.N_FEATURES + 1)
    with dask.config.set(scheduler="synchronous"), compute_counter() as counter:
        value, grad = example.loss_and_grad(theta, X, y)  # (a compute would be counted)
    assert counter.computes == 0
    assert isinstance(value, da.Array) and value.shape == ()
    assert isinstance(grad, da.Array) and grad.shape == theta.shape
    assert grad.dtype == np.float64
    Xn, yn = dask.compute(X, y, scheduler="synchronous")
    value_n, grad_n = example.loss_and_grad(theta, Xn, yn)
    value_d, grad_d = dask.compute(value, grad, scheduler="synchronous")
    np.testing.assert_allclose(grad_d, grad_n, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(value_d, value_n, rtol=1e-12)
    # the hand-written gradient, as a second oracle
    s = (1.0 / (1.0 + np.exp(-(Xn @ theta[:-1] + theta[-1]))) - yn) / ROWS
    by_hand = np.append(Xn.T @ s + example.LAM * theta[:-1], np.sum(s))
    np.testing.assert_allclose(grad_d, by_hand, rtol=1e-10, atol=1e-14)


def test_script_runs_on_worker_processes():
    """The script as a user runs it, on 2 worker processes (4 iterations: the fit's
    convergence is the in-process tests' part)."""
    out = run("examples/dask_logistic_regression.py", "--rows", str(ROWS),
              "--chunk-rows", "10000", "--workers", "2", "--iterations", "4",
              "--check-rows", "5000")
    assert out.returncode == 0, out.stderr
    assert "2 workers (processes)" in out.stdout
    assert "iteration   4: loss" in out.stdout
    assert "peak resident memory per worker" in out.stdout
    assert out.stdout.count("tcp://") == 2
    difference = re.search(r"max \|gradient difference\| = (\S+),", out.stdout)
    assert difference and float(difference.group(1)) <= 1e-10, out.stdout
    assert "max |theta(dask) - theta(NumPy)| = " in out.stdout
