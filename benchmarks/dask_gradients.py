"""Gradients of NumPy losses on dask arrays (issue 20): the overhead of laziness, the
throughput past one process's memory, and dask-ml's own logistic gradient.

    python3 benchmarks/dask_gradients.py            # the full run, ~5 minutes on 2 cores
    python3 benchmarks/dask_gradients.py --quick    # a smoke run (smaller data, fewer rounds)
    python3 benchmarks/dask_gradients.py --out DIR  # where dask.md goes (benchmarks/results)

Four vectorised losses, each written as a user writes it for NumPy arrays (logistic
regression, least squares, a tanh MLP over a batch, a softmax classifier), and their
`s2sad.value_and_grad` called with dask arrays for the data (X, y) and NumPy arrays for
the parameters: the value and the gradients come back lazy, and one `dask.compute` runs
them.

1. Data in memory (the overhead of laziness): the same data as NumPy arrays and as
   `da.from_array(X, chunks=...)`; s2sad's gradient on NumPy against the same gradient on
   dask, computed by the synchronous scheduler (one thread: the cost of building and
   walking the graph, the same arithmetic) and by the threaded scheduler (2 threads), and
   the graph build alone (the s2sad call that returns the lazy results). Every column is
   timed once per round, in a rotating order, wall clock; a ratio is the median of the
   per-round ratios (as benchmarks/run.py does, whose helpers this uses). The dask
   gradients are checked against NumPy's first (rtol 1e-12).
2. Data past the budget of one chunk (streaming): a dask.distributed LocalCluster of 2
   worker processes with one thread each; X and y are generated on the workers chunk by
   chunk (dask.array.random, the seeds in the graph) and never held whole: each pass
   generates them again. Per loss, a fresh cluster; the median of a few passes of data
   generation alone, the primal, and value_and_grad; rows per second; each worker's peak
   resident memory (ru_maxrss of the whole worker process) against the chunk and the
   data; tracemalloc's peak in this process (the client: the graph, no data).
3. dask-ml: the logistic loss and gradient that dask-ml's LogisticRegression(solver=
   "lbfgs") computes on each L-BFGS step (dask_glm.families.Logistic.pointwise_loss and
   pointwise_gradient with the L2 regulariser, a hand-written gradient) against s2sad's
   value_and_grad of the same loss written in NumPy, on the same dask data, in memory and
   on the cluster; then both whole fits on the cluster (dask-ml's estimator against SciPy's
   L-BFGS-B with s2sad's gradient, as examples/dask_logistic_regression.py fits).

A script, not a test: the numbers depend on the machine and on what else runs on it.
"""
import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# first: run.py sets one thread for BLAS before NumPy loads (and the workers, spawned
# from this process, inherit it); then its timing helpers
import run as harness  # noqa: E402
from run import (_version, calls_per_block, fmt_bytes, fmt_time, median_ratio,  # noqa: E402
                 peak_bytes, time_rounds)

import numpy as np  # noqa: E402

import s2sad  # noqa: E402
from dask_logistic_regression import peak_rss_bytes  # noqa: E402  (examples/, on the path)

try:
    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster
except ImportError:
    sys.exit("benchmarks/dask_gradients.py needs dask.array and dask.distributed: "
             "python3 -m pip install \".[dask]\"")

MIB = 2 ** 20
LAM = 1e-4
FEATURES = 20
HIDDEN = 32
CLASSES = 5


# -- the losses, as a user writes them for NumPy -----------------------------------------

def logistic(theta, X, y, lam=LAM):
    w = theta[:-1]
    z = X @ w + theta[-1]
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w ** 2)


def least_squares(w, X, y, lam=LAM):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + 0.5 * lam * np.sum(w ** 2)


def mlp(W1, b1, w2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ w2 + b2
    return np.mean((out - y) ** 2)


def softmax_classifier(W, b, X, Y):
    Z = X @ W + b
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def logistic_sum(beta, X, y, lam=1.0):
    """dask_glm's logistic loss with its L2 regulariser, written in NumPy: the sum of the
    log-losses plus lam |beta|^2 / 2 (no intercept: dask-ml adds a column of ones)."""
    z = X @ beta
    return np.sum(np.logaddexp(0.0, z) - y * z) + lam * 0.5 * np.sum(beta ** 2)


class Case:
    """A loss, its parameters (NumPy, differentiated) and how its data is drawn from X
    (the same function on NumPy and on dask chunks)."""

    def __init__(self, label, fn, params, targets):
        self.label, self.fn, self.params, self.targets = label, fn, params, targets
        self.value_and_grad = s2sad.value_and_grad(fn, wrt=tuple(range(len(params))))
        self.primal = fn


def make_cases():
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, FEATURES)
    W = rng.uniform(-1, 1, (FEATURES, CLASSES))

    def labels(X, u):  # y ~ Bernoulli(sigmoid(X w))
        return (u < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(np.float64)

    def responses(X, u):
        return X @ w + (u - 0.5)

    def one_hot(X, u):  # the most likely class of X W, one-hot
        return (X @ W == np.max(X @ W, axis=1, keepdims=True)).astype(np.float64)

    return [
        Case("logistic regression, 20 features", logistic,
             [0.1 * rng.standard_normal(FEATURES + 1)], labels),
        Case("least squares, 20 features", least_squares,
             [0.1 * rng.standard_normal(FEATURES)], responses),
        Case(f"MLP 20-{HIDDEN}-1 tanh, squared error", mlp,
             [0.3 * rng.standard_normal((FEATURES, HIDDEN)), np.zeros(HIDDEN),
              0.3 * rng.standard_normal(HIDDEN), 0.0], responses),
        Case(f"softmax classifier, {CLASSES} classes", softmax_classifier,
             [0.1 * rng.standard_normal((FEATURES, CLASSES)), np.zeros(CLASSES)], one_hot),
    ]


def numpy_data(case, rows, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES))
    return X, case.targets(X, rng.random(rows))


def dask_data(case, rows, chunk_rows, seed=1):
    """X and the targets as lazy dask arrays, generated chunk by chunk where they are
    computed (on the workers of a cluster)."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    u = rng.random(rows, chunks=chunk_rows)
    return X, case.targets(X, u)  # NumPy code, lazy on dask arrays


def max_relative_difference(got, want):
    worst = 0.0
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(g - w) / np.maximum(np.abs(w), 1e-300))))
    return worst


# -- 1. in memory: dask against NumPy ----------------------------------------------------

def graph_tasks(value, grads):
    """The tasks of the lazy value and gradients, as dask.compute runs them (optimised)."""
    lazy = [a for a in (value,) + tuple(grads) if dask.is_dask_collection(a)]
    tasks = set()
    for collection in dask.optimize(*lazy):
        tasks.update(dict(collection.__dask_graph__()))
    return len(tasks)


def in_memory(case, rows, chunks, rounds, budget):
    Xn, yn = numpy_data(case, rows)
    chunk_rows = -(-rows // chunks)
    Xd = da.from_array(Xn, chunks=(chunk_rows, FEATURES))
    yd = da.from_array(yn, chunks=(chunk_rows,) + yn.shape[1:])
    vg = case.value_and_grad
    value_n, grads_n = vg(*case.params, Xn, yn)
    tasks = graph_tasks(*vg(*case.params, Xd, yd))
    value_d, grads_d = dask.compute(*vg(*case.params, Xd, yd), scheduler="synchronous")
    difference = max_relative_difference((value_d,) + tuple(grads_d),
                                         (value_n,) + tuple(grads_n))
    assert difference <= 1e-12, (case.label, difference)
    calls = {
        "NumPy": lambda: vg(*case.params, Xn, yn),
        "dask, synchronous": lambda: dask.compute(*vg(*case.params, Xd, yd),
                                                  scheduler="synchronous"),
        "dask, 2 threads": lambda: dask.compute(*vg(*case.params, Xd, yd),
                                                scheduler="threads", num_workers=2),
        "graph build": lambda: vg(*case.params, Xd, yd),
        "dask primal, synchronous": lambda: dask.compute(case.primal(*case.params, Xd, yd),
                                                         scheduler="synchronous"),
    }
    numbers = {key: calls_per_block(call, budget) for key, call in calls.items()}
    seconds = time_rounds(calls, numbers, rounds)
    return {"label": case.label, "rows": rows, "chunks": len(Xd.chunks[0]), "tasks": tasks,
            "median": {key: statistics.median(s) for key, s in seconds.items()},
            "sync/numpy": median_ratio(seconds, "dask, synchronous", "NumPy"),
            "threads/numpy": median_ratio(seconds, "dask, 2 threads", "NumPy"),
            "grad/primal": median_ratio(seconds, "dask, synchronous",
                                        "dask primal, synchronous"),
            "difference": difference}


# -- 2. streaming on a cluster of worker processes ---------------------------------------

def new_client(workers):
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           memory_limit="1GiB", dashboard_address=":0")
    return Client(cluster)


def close(client):
    cluster = client.cluster
    client.close()
    cluster.close()


def passes(calls, repeats):
    """Median wall seconds of each call, interleaved: each repeat runs every call once."""
    seconds = {key: [] for key in calls}
    for _ in range(repeats):
        for key, call in calls.items():
            start = time.perf_counter()
            call()
            seconds[key].append(time.perf_counter() - start)
    return {key: statistics.median(s) for key, s in seconds.items()}


def streaming(case, rows, chunk_rows, workers, repeats):
    client = new_client(workers)
    try:
        start_rss = max(client.run(peak_rss_bytes).values())
        X, y = dask_data(case, rows, chunk_rows)
        vg = case.value_and_grad
        calls = {
            "generate": lambda: dask.compute(X.sum(), y.sum()),
            "primal": lambda: dask.compute(case.primal(*case.params, X, y)),
            "value_and_grad": lambda: dask.compute(*vg(*case.params, X, y)),
        }
        times = passes(calls, repeats)
        client_bytes = peak_bytes(calls["value_and_grad"])  # (the client's share)
        peak = max(client.run(peak_rss_bytes).values())
    finally:
        close(client)
    return {"label": case.label, "rows": rows, "times": times,
            "rows/s": rows / times["value_and_grad"], "start_rss": start_rss,
            "peak_rss": peak, "client": client_bytes,
            "data": X.nbytes + y.nbytes, "chunk": (X.nbytes + y.nbytes) * chunk_rows / rows}


# -- 3. dask-ml's logistic gradient ------------------------------------------------------

def dask_glm_functions():
    """dask_glm's (loss, gradient) with the L2 regulariser, lam = 1, as dask-ml's
    LogisticRegression(solver="lbfgs", C=1) builds them; None where not installed."""
    try:
        from dask_glm.families import Logistic
        from dask_glm.regularizers import Regularizer
    except ImportError:
        return None
    l2 = Regularizer.get("l2")
    return (l2.add_reg_f(Logistic.pointwise_loss, 1.0),
            l2.add_reg_grad(Logistic.pointwise_gradient, 1.0))


def logistic_data(rows, chunk_rows):
    return dask_data(make_cases()[0], rows, chunk_rows, seed=2)


def against_dask_glm(X, y, repeats, scheduler=None):
    """Seconds of one (loss, gradient) pass of dask_glm's and of s2sad's, and the largest
    relative difference of their gradients."""
    loss_fn, grad_fn = dask_glm_functions()
    ours = s2sad.value_and_grad(logistic_sum)
    beta = np.linspace(-0.5, 0.5, FEATURES)
    extra = {} if scheduler is None else {"scheduler": scheduler}
    theirs_value, theirs_grad = dask.compute(loss_fn(beta, X, y), grad_fn(beta, X, y), **extra)
    our_value, our_grad = dask.compute(*ours(beta, X, y), **extra)
    difference = max_relative_difference((our_value, our_grad), (theirs_value, theirs_grad))
    times = passes({
        "dask-ml": lambda: dask.compute(loss_fn(beta, X, y), grad_fn(beta, X, y), **extra),
        "s2sad": lambda: dask.compute(*ours(beta, X, y), **extra),
    }, repeats)
    return times, difference


def fits(X, y):
    """dask-ml's LogisticRegression(solver="lbfgs") against SciPy's L-BFGS-B with s2sad's
    gradient of the same objective (sum of log-losses + |beta|^2 / 2, the intercept a
    column of ones, as dask-ml does), on persisted data: seconds, passes, coefficients."""
    from dask_ml.linear_model import LogisticRegression
    from scipy.optimize import minimize
    start = time.perf_counter()
    with warnings.catch_warnings():  # dask_glm sets a configuration key dask renamed
        warnings.simplefilter("ignore", FutureWarning)
        model = LogisticRegression(solver="lbfgs", C=1.0, max_iter=100).fit(X, y)
    theirs = time.perf_counter() - start
    theirs_beta = np.append(model.coef_, model.intercept_)

    X1 = da.concatenate([X, da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1))], axis=1)
    ours = s2sad.value_and_grad(logistic_sum)
    count = [0]

    def fun(beta):
        count[0] += 1
        value, grad = dask.compute(*ours(beta, X1, y))
        return float(value), np.asarray(grad)

    start = time.perf_counter()
    res = minimize(fun, np.zeros(FEATURES + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 100, "gtol": 1e-4})
    ours_seconds = time.perf_counter() - start
    return {"dask-ml": theirs, "s2sad": ours_seconds, "passes": count[0],
            "beta difference": float(np.max(np.abs(res.x - theirs_beta)))}


# -- the report ----------------------------------------------------------------------------

def report(options, memory_rows, stream_rows, glm, fit, header, command):
    lines = [f"## s2sad gradients on dask arrays{' (--quick: a smoke run)' if options.quick else ''}",
             "", f"Generated by `{command}` on {header}.", ""]
    lines += ["### 1. Data in memory: the overhead of laziness",
              "",
              "s2sad's `value_and_grad` of each loss with X, y as NumPy arrays and as "
              "`da.from_array` chunks (NumPy parameters); wall clock, median of "
              f"{options.rounds} interleaved rounds; a ratio is the median of the per-round "
              "ratios. *graph build* is the s2sad call alone (it returns the lazy value and "
              "gradients); *tasks*, the tasks of its graph as dask runs it (on small data "
              "dask's own cost per task dominates). Every dask gradient equals NumPy's (max relative difference in the "
              "last column).",
              "",
              "| loss | rows × chunks | tasks | NumPy | dask, synchronous | dask, 2 threads | "
              "graph build | dask sync / NumPy | dask threads / NumPy | "
              "dask gradient / dask primal | max rel. difference |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in memory_rows:
        m = r["median"]
        lines.append(f"| {r['label']} | {r['rows']:,} × {r['chunks']} | {r['tasks']} | "
                     f"{fmt_time(m['NumPy'])} | "
                     f"{fmt_time(m['dask, synchronous'])} | {fmt_time(m['dask, 2 threads'])} | "
                     f"{fmt_time(m['graph build'])} | {r['sync/numpy']:.2f} | "
                     f"{r['threads/numpy']:.2f} | {r['grad/primal']:.2f} | "
                     f"{r['difference']:.1e} |")
    lines += ["", "On small data the graph's tasks (dask's cost per task, and the s2sad call "
              "that builds the graph) cost more than NumPy's whole gradient: dask pays off "
              "past one process's memory, not below it. Where NumPy's whole-array "
              "temporaries are large (the MLP's rows × 32 hidden layer), dask's chunks can "
              "be faster than NumPy on one thread."]
    lines += ["", "### 2. Streaming on a cluster: data generated chunk by chunk, never whole",
              "",
              f"LocalCluster of {options.workers} worker processes × 1 thread (memory limit "
              "1 GiB each), a fresh one per loss; X and y generated on the workers by "
              "`dask.array.random` on every pass (nothing persisted). Median of "
              f"{options.repeats} passes. Peak RSS: the largest worker's peak resident memory "
              "(the kernel's VmHWM of the whole process: Python, dask, the chunks in flight), "
              "after the passes and at start (a spawned worker imports this script's modules, the "
              "benchmark harness included). "
              "Client: tracemalloc's peak in this process during one gradient pass.",
              "",
              "| loss | rows | data | chunk | generate only | primal | value_and_grad | "
              "rows/s (gradient) | worker peak RSS (start) | client peak |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in stream_rows:
        t = r["times"]
        lines.append(f"| {r['label']} | {r['rows']:,} | {fmt_bytes(r['data'])} | "
                     f"{fmt_bytes(int(r['chunk']))} | {fmt_time(t['generate'])} | "
                     f"{fmt_time(t['primal'])} | {fmt_time(t['value_and_grad'])} | "
                     f"{r['rows/s']:,.0f} | {fmt_bytes(r['peak_rss'])} "
                     f"({fmt_bytes(r['start_rss'])}) | {fmt_bytes(r['client'])} |")
    lines += ["", "*generate only* (summing the generated X and y) is the floor of a pass; a "
              "worker's peak stays a few chunks above its start whatever the number of rows "
              "(the MLP's, with its rows × 32 hidden layer, more). The machine is shared: "
              "the load average is in the header, and a median of a few passes moves by "
              "10-20% between runs. distributed may log \"Detected different `run_spec` "
              "for key\" here: the primal and the gradient at the same parameters share "
              "`X @ w`, which dask's graph optimisation fuses differently in the two graphs "
              "(dask alone does the same: `mean(X @ w)`, then `mean(z), X.T @ z`)."]
    lines += ["", "### 3. Against dask-ml's logistic gradient", ""]
    if glm is None:
        lines.append("dask-ml / dask_glm is not installed: skipped.")
    else:
        lines += ["dask_glm's `Logistic.pointwise_loss` + `pointwise_gradient` with the L2 "
                  "regulariser (what dask-ml's `LogisticRegression(solver=\"lbfgs\")` computes "
                  "on each L-BFGS step, with a hand-written gradient) against s2sad's "
                  "`value_and_grad` of the same loss written in NumPy (`logistic_sum` above); "
                  "one `dask.compute` of (loss, gradient) each, median of "
                  f"{options.repeats} interleaved passes.",
                  "",
                  "| data | dask-ml | s2sad | s2sad / dask-ml | max rel. gradient difference |",
                  "|---|---:|---:|---:|---:|"]
        for label, (times, difference) in glm:
            lines.append(f"| {label} | {fmt_time(times['dask-ml'])} | {fmt_time(times['s2sad'])}"
                         f" | {times['s2sad'] / times['dask-ml']:.2f} | {difference:.1e} |")
    if fit is not None:
        lines += ["", f"Whole fits on the cluster ({fit['rows']:,} rows persisted): dask-ml's "
                  f"`LogisticRegression(solver=\"lbfgs\", C=1)` took {fit['dask-ml']:.1f} s; "
                  f"SciPy's L-BFGS-B with s2sad's gradient of the same objective (gtol 1e-4, "
                  f"as dask-ml's tol) took {fit['s2sad']:.1f} s in {fit['passes']} passes; "
                  f"the coefficients differ by at most {fit['beta difference']:.1e}."]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller data and fewer rounds: a smoke run")
    parser.add_argument("--out", default=os.path.join(HERE, "results"),
                        help="directory for dask.md (default benchmarks/results)")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    harness.clock = time.perf_counter  # wall clock: the threaded scheduler uses 2 threads
    if options.quick:
        options.rounds, options.repeats, budget = 5, 2, 0.02
        memory_sizes, stream_rows, chunk_rows = [(20_000, 4)], 500_000, 125_000
    else:
        options.rounds, options.repeats, budget = 15, 3, 0.05
        memory_sizes, stream_rows, chunk_rows = [(20_000, 4), (400_000, 8)], 4_000_000, 250_000
    command = "python3 benchmarks/dask_gradients.py" + (" --quick" if options.quick else "")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    cases = make_cases()
    memory_rows = []
    for rows, chunks in memory_sizes:
        for case in cases:
            print(f"in memory: {case.label}, {rows:,} rows in {chunks} chunks", flush=True)
            memory_rows.append(in_memory(case, rows, chunks, options.rounds, budget))
    stream = []
    for case in cases:
        print(f"streaming: {case.label}, {stream_rows:,} rows", flush=True)
        stream.append(streaming(case, stream_rows, chunk_rows, options.workers,
                                options.repeats))
    glm, fit = None, None
    if dask_glm_functions() is not None:
        print("dask-ml: in memory", flush=True)
        Xn, yn = dask.compute(*logistic_data(400_000, 50_000), scheduler="synchronous")
        Xd, yd = da.from_array(Xn, chunks=(50_000, FEATURES)), da.from_array(yn, chunks=50_000)
        glm = [("400,000 rows in memory, 8 chunks, synchronous scheduler",
                against_dask_glm(Xd, yd, options.repeats * 3, scheduler="synchronous"))]
        print("dask-ml: on the cluster", flush=True)
        client = new_client(options.workers)
        try:
            X, y = logistic_data(stream_rows, chunk_rows)
            glm.append((f"{stream_rows:,} rows generated on {options.workers} workers, "
                        f"{len(X.chunks[0])} chunks", against_dask_glm(X, y, options.repeats)))
            fit_rows = stream_rows // 4
            X, y = client.persist(list(logistic_data(fit_rows, chunk_rows)))
            fit = dict(fits(X, y), rows=fit_rows)
        finally:
            close(client)

    header = (f"{datetime.date.today().isoformat()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs; Python {platform.python_version()}; "
              f"NumPy {np.__version__}; dask {dask.__version__}; "
              f"distributed {_version('distributed')}; dask-ml {_version('dask-ml')}; "
              f"dask-glm {_version('dask-glm')}; OPENBLAS/OMP threads "
              f"{os.environ['OPENBLAS_NUM_THREADS']}/{os.environ['OMP_NUM_THREADS']}; "
              f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
              f"{time.perf_counter() - started:.0f} s")
    lines = report(options, memory_rows, stream, glm, fit, header, command)
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    os.makedirs(options.out, exist_ok=True)
    with open(os.path.join(options.out, "dask.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
