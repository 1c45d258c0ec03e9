"""Logistic regression on 10^7 rows with dask.distributed: s2sad's gradient of a NumPy loss,
run lazily on a cluster of worker processes.

The loss below is an ordinary NumPy function, written for arrays in memory. s2sad
generates its gradient as plain NumPy code, and NumPy's dispatch protocols
(`__array_function__`, `__array_ufunc__`) let that same code run on dask arrays: called
with a dask X and y, `s2sad.value_and_grad(loss)` builds a lazy graph for the value and
the gradient, block by block, and `dask.compute` runs it on the cluster in one pass over
the data (the value and the gradient share the forward sweep):

    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    value, grad = dask.compute(*loss_and_grad(theta, X, y))

SciPy's L-BFGS-B asks for (f, gradient) at each point, `jac=True`; here each such call is
one pass of the cluster over the data.

The data: X is 10^7 x 20 standard normal, y ~ Bernoulli(sigmoid(X TRUE_W + TRUE_B)),
generated chunk by chunk on the workers by `dask.array.random` (each chunk has its seed
in the graph, so every pass sees the same numbers). No process ever holds the whole data,
the client holds none of it: by default the chunks are generated again on each pass and
dropped once their share of the value and the gradient is summed, so a worker's memory
is bounded by a few chunks, not by the data (the script prints each worker's peak
resident memory next to the chunk size and the data size). With --persist the workers
keep the data in memory instead (`client.persist`): each pass is then faster, and each
worker holds its share of the data (give it the --memory-limit for that).

Then the fit is checked: the true weights are recovered to within the sampling error,
the gradient on dask arrays equals the gradient on the same rows as NumPy arrays (to
1e-10, on the first --check-rows rows), and for --rows up to 10^6 the whole fit is
repeated on NumPy arrays in this process and the two solutions compared.

    python3 -m pip install ".[dask]"        # dask[array,distributed] and scipy
    python3 examples/dask_logistic_regression.py                  # 10^7 rows, a few minutes
    python3 examples/dask_logistic_regression.py --rows 100000    # a quick run
    python3 examples/dask_logistic_regression.py --help
"""
import argparse
import sys
import time

import numpy as np

import s2sad

MISSING = ("examples/dask_logistic_regression.py needs dask.array, dask.distributed and "
           "SciPy; install them with `python3 -m pip install \".[dask]\"` (or "
           "`python3 -m pip install \"dask[array,distributed]\" scipy`).")

N_FEATURES = 20
TRUE_W = np.array([0.8, -1.2, 0.5, 0.0, 1.5, -0.3, 0.9, -0.7, 0.2, 1.1,
                   -1.4, 0.6, -0.1, 0.4, -0.9, 1.3, 0.05, -0.5, 0.7, -1.0])
TRUE_B = -0.4
LAM = 1e-5
MIB = 2 ** 20
THREE_DECIMALS = {"float_kind": lambda v: f"{v:6.3f}"}


def loss(theta, X, y, lam=LAM):
    """Mean logistic loss of the labels y in {0, 1} plus an L2 penalty on the weights;
    theta = (w, b), the form SciPy's optimisers take. np.logaddexp(0, z) is
    log(1 + e^z) without overflow."""
    w = theta[:-1]
    b = theta[-1]
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w ** 2)


loss_and_grad = s2sad.value_and_grad(loss)


def accuracy(theta, X, y):
    """The fraction of labels that sign(X w + b) predicts (lazy for dask arrays)."""
    return np.mean((X @ theta[:-1] + theta[-1] > 0) == (y > 0.5))


def make_data(rows, chunk_rows, seed=0):
    """X (rows x 20) and y (rows), as lazy dask arrays generated on the workers, chunk
    by chunk: nothing is built in this process but the graph."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, N_FEATURES), chunks=(chunk_rows, N_FEATURES))
    u = rng.random(rows, chunks=chunk_rows)
    p = 1.0 / (1.0 + np.exp(-(X @ TRUE_W + TRUE_B)))
    y = (u < p).astype(np.float64)
    return X, y


def value_and_gradient(theta, X, y):
    """(loss, gradient) as a float and a NumPy array: one dask.compute, one pass over
    the data (for NumPy arrays dask.compute returns them as they are)."""
    import dask
    value, grad = dask.compute(*loss_and_grad(theta, X, y))
    return float(value), np.asarray(grad, dtype=np.float64)


def fit(X, y, iterations=100, verbose=True):
    """L-BFGS-B from theta = 0, one (value, gradient) pass per evaluation; returns
    SciPy's OptimizeResult, with .losses (the loss after each iteration) and
    .evaluation_seconds (the time of each pass)."""
    from scipy.optimize import minimize
    seconds, values, losses = [], [], []
    start = time.perf_counter()

    def fun(theta):
        t = time.perf_counter()
        value, grad = value_and_gradient(theta, X, y)
        seconds.append(time.perf_counter() - t)
        values.append(value)
        return value, grad

    def report(theta):
        # an iteration ends at the point its line search evaluated last
        losses.append(values[-1])
        if verbose:
            print(f"  iteration {len(losses):3d}: loss {values[-1]:.12f}   ({len(seconds)} "
                  f"passes, {time.perf_counter() - start:6.1f} s)", flush=True)

    res = minimize(fun, np.zeros(N_FEATURES + 1), jac=True, method="L-BFGS-B",
                   callback=report,
                   options={"maxiter": iterations, "gtol": 1e-9, "ftol": 1e-14})
    res.losses = losses
    res.evaluation_seconds = seconds
    return res


def peak_rss_bytes():
    """This process's peak resident memory (run on each worker by client.run). On Linux
    the kernel's VmHWM: getrusage's ru_maxrss would report the peak of the process that
    spawned the worker if that was higher (it survives fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # in kB
    except OSError:
        pass
    import resource  # not on Windows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux counts KiB


def start_client(args):
    """A client of a cluster of local worker processes (or threads, or an existing
    scheduler at --address)."""
    from dask.distributed import Client, LocalCluster
    if args.address:
        return Client(args.address)
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                           processes=not args.threads, memory_limit=args.memory_limit,
                           dashboard_address=":0")
    return Client(cluster)


def standard_errors(theta, X, y):
    """The asymptotic standard errors of the maximum-likelihood theta: the square roots
    of the diagonal of the inverse Fisher information, (X1^T diag(p (1 - p)) X1)^-1,
    X1 = [X, 1], computed by hand in one pass (an independent check of the fit)."""
    import dask
    p = 1.0 / (1.0 + np.exp(-(X @ theta[:-1] + theta[-1])))
    s = p * (1.0 - p)
    Hww, Hwb, Hbb = dask.compute(X.T @ (X * s[:, None]), X.T @ s, np.sum(s))
    H = np.block([[Hww, Hwb[:, None]], [Hwb[None, :], np.array([[Hbb]])]])
    return np.sqrt(np.diag(np.linalg.inv(H)))


def gradient_agreement(theta, X, y, rows):
    """max |gradient on dask arrays - gradient on the same rows as NumPy arrays| and the
    same for the value, on the first `rows` rows (kept in their dask chunks)."""
    import dask
    Xd, yd = X[:rows], y[:rows]
    Xn, yn = dask.compute(Xd, yd)
    value_d, grad_d = value_and_gradient(theta, Xd, yd)
    value_n, grad_n = loss_and_grad(theta, Xn, yn)
    return float(np.max(np.abs(grad_d - grad_n))), abs(value_d - float(value_n))


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="default 10^7")
    parser.add_argument("--chunk-rows", type=int, default=250_000,
                        help="rows per chunk (default 250,000: 40 MB of X)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--iterations", type=int, default=100,
                        help="at most this many L-BFGS iterations (default 100)")
    parser.add_argument("--memory-limit", default="1GiB", help="per worker (default 1GiB)")
    parser.add_argument("--persist", action="store_true",
                        help="keep the data in the workers' memory instead of "
                             "generating its chunks again on each pass")
    parser.add_argument("--threads", action="store_true",
                        help="workers as threads of this process, not processes")
    parser.add_argument("--address", help="use the running scheduler at this address")
    parser.add_argument("--check-rows", type=int, default=100_000,
                        help="rows of the dask-vs-NumPy gradient check (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    """Fit, check, print; returns a summary dict (for tests)."""
    args = parse(argv)
    try:
        import dask  # noqa: F401
        import dask.distributed  # noqa: F401
        import scipy.optimize  # noqa: F401
    except ImportError:
        sys.exit(MISSING)
    client = start_client(args)
    try:
        return run(args, client)
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def run(args, client):
    import dask
    X, y = make_data(args.rows, args.chunk_rows, args.seed)
    data_bytes = X.nbytes + y.nbytes
    chunk_bytes = args.chunk_rows * (N_FEATURES + 1) * 8
    workers = len(client.scheduler_info()["workers"])
    rss_start = client.run(peak_rss_bytes)
    print(f"cluster: {workers} workers ({'threads' if args.threads else 'processes'}), "
          f"memory limit {args.memory_limit} each")
    print(f"data: {args.rows:,} rows x {N_FEATURES} features + labels = "
          f"{data_bytes / MIB:,.0f} MiB in {X.numblocks[0]} chunks of {args.chunk_rows:,} rows "
          f"({chunk_bytes / MIB:,.1f} MiB each), generated on the workers"
          + (", persisted" if args.persist else ", generated again on each pass"))
    if args.persist:
        X, y = client.persist([X, y])

    print("L-BFGS-B with jac=True, (value, gradient) = "
          "dask.compute(*s2sad.value_and_grad(loss)(theta, X, y)):")
    start = time.perf_counter()
    res = fit(X, y, args.iterations)
    seconds = time.perf_counter() - start
    theta = res.x
    print(f"{res.message}: {res.nit} iterations, {res.nfev} passes over the data in "
          f"{seconds:.1f} s ({np.median(res.evaluation_seconds):.2f} s per pass, "
          f"{args.rows / np.median(res.evaluation_seconds):,.0f} rows/s)")

    truth = np.append(TRUE_W, TRUE_B)
    fitted_accuracy, true_accuracy = dask.compute(accuracy(theta, X, y), accuracy(truth, X, y))
    error = float(np.max(np.abs(theta - truth)))
    print(f"accuracy {float(fitted_accuracy):.4f} (the true weights' {float(true_accuracy):.4f})")
    print(f"true   w, b: {np.array2string(truth, formatter=THREE_DECIMALS, max_line_width=200)}")
    print(f"fitted w, b: {np.array2string(theta, formatter=THREE_DECIMALS, max_line_width=200)}")
    z_scores = (theta - truth) / standard_errors(theta, X, y)
    worst = float(np.max(np.abs(z_scores)))
    print(f"max |theta - theta_true| = {error:.2e}, at most {worst:.1f} standard errors "
          f"of the maximum-likelihood estimate at {args.rows:,} rows")

    rss_peak = client.run(peak_rss_bytes)
    print("peak resident memory per worker (whole process: Python, dask, the chunks):")
    for address, peak in rss_peak.items():
        print(f"  {address}: {peak / MIB:,.0f} MiB (at start {rss_start[address] / MIB:,.0f} MiB)"
              f"; chunk {chunk_bytes / MIB:,.1f} MiB, data {data_bytes / MIB:,.0f} MiB, "
              f"a worker's share {data_bytes / workers / MIB:,.0f} MiB")
    if not args.threads:
        print(f"  this process (the client, which holds no data): "
              f"{peak_rss_bytes() / MIB:,.0f} MiB")

    check_rows = min(args.check_rows, args.rows)
    grad_diff, value_diff = gradient_agreement(theta, X, y, check_rows)
    print(f"dask vs NumPy on the first {check_rows:,} rows at the fitted theta: "
          f"max |gradient difference| = {grad_diff:.1e}, |value difference| = {value_diff:.1e}")

    summary = {"result": res, "theta": theta, "seconds": seconds, "error": error,
               "z_scores": z_scores,
               "accuracy": float(fitted_accuracy), "true_accuracy": float(true_accuracy),
               "grad_diff": grad_diff, "value_diff": value_diff,
               "peak_rss": rss_peak, "start_rss": rss_start,
               "chunk_bytes": chunk_bytes, "data_bytes": data_bytes}
    if args.rows <= 1_000_000:
        Xn, yn = dask.compute(X, y)
        reference = fit(Xn, yn, args.iterations, verbose=False)
        summary["numpy_theta"] = reference.x
        print(f"the same fit on NumPy arrays in this process: {reference.nit} iterations, "
              f"max |theta(dask) - theta(NumPy)| = {np.max(np.abs(theta - reference.x)):.1e}")
    return summary


if __name__ == "__main__":
    main()
