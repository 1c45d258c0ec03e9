"""scipy.stats distributions (issue 18, second part): likelihoods as users write them,
spelled as they import them (`stats.norm`, `scipy.stats.norm`, `st.t`, `from scipy.stats
import norm`, frozen `stats.norm(mu, s)`), each in reverse and forward mode and to second
order against central differences, and against autograd.scipy.stats where autograd has
the distribution; every row of tests/rule_table_scipy_stats.py to second order and
against autograd; the refusals (counts, a cdf's shape parameter, methods without a rule,
frozen distributions used otherwise) with their lines and hints."""
import numpy as np
import pytest

pytest.importorskip("scipy.stats")

import s2sad  # noqa: E402
import scipy  # noqa: E402,F401  (the spellings users import)
import scipy.stats  # noqa: E402
import scipy.stats as st  # noqa: E402
from scipy import special, stats  # noqa: E402
from scipy.stats import (beta, binom, dirichlet, gamma, multivariate_normal,  # noqa: E402
                         norm, poisson, t)

from s2sad.check import numeric_grad  # noqa: E402
from s2sad.rules import REGISTRY  # noqa: E402

RNG = np.random.default_rng(18)
Y = np.array([0.3, -1.2, 0.8, 2.0, -0.4])
X = RNG.normal(size=(5, 3))
COUNTS = np.array([0.0, 2.0, 1.0, 4.0, 3.0])
POINTS = RNG.normal(size=(6, 2))


# -- end-to-end programs ---------------------------------------------------------------------

def gaussian_nll(mu, log_sigma, y):
    return -np.sum(stats.norm.logpdf(y, mu, np.exp(log_sigma)))


def gaussian_nll_keywords(mu, log_sigma, y):
    return -norm.logpdf(y, loc=mu, scale=np.exp(log_sigma)).sum()


def gaussian_nll_module_path(params, y):
    return -np.sum(scipy.stats.norm.logpdf(y, params[0], np.exp(params[1])))


def gaussian_nll_frozen(mu, log_sigma, y):
    model = stats.norm(mu, np.exp(log_sigma))
    return -np.sum(model.logpdf(y))


def student_t_regression(w, log_df, X, y):
    resid = y - X @ w
    return -np.sum(st.t.logpdf(resid, np.exp(log_df), scale=0.8))


def student_t_location(w, X, y):
    return -np.sum(t.logpdf(y, 4.0, loc=X @ w, scale=1.5))


def poisson_glm(w, X, counts):
    rate = np.exp(X @ w)
    return -np.sum(stats.poisson.logpmf(counts, rate))


def poisson_glm_pmf(w, X, counts):
    return -np.sum(np.log(poisson.pmf(counts, mu=np.exp(X @ w))))


def beta_binomial(z, a, b, k, n):
    """Binomial counts whose probabilities have a beta prior (z their logits)."""
    p = special.expit(z)
    return np.sum(binom.logpmf(k, n, p)) + np.sum(beta.logpdf(p, a, b))


def gamma_shape_rate(log_shape, log_rate, y):
    return -np.sum(gamma.logpdf(y, np.exp(log_shape), scale=1.0 / np.exp(log_rate)))


def gamma_keywords(shape, rate, y):
    return -np.sum(stats.gamma.logpdf(y, a=shape, loc=0.0, scale=1 / rate))


def gmm_loglik(means, log_weights, X):
    cov = np.array([[1.0, 0.3], [0.3, 0.8]])
    components = np.stack([multivariate_normal.logpdf(X, means[0], cov),
                           multivariate_normal.logpdf(X, means[1], 1.5 * cov)], axis=1)
    log_mix = log_weights - special.logsumexp(log_weights)
    return np.sum(special.logsumexp(components + log_mix, axis=1))


def gmm_covariance_factors(means, L, X):
    parts = []
    for k in range(2):
        cov = L[k] @ L[k].T + 0.1 * np.eye(2)
        parts.append(st.multivariate_normal.logpdf(X, mean=means[k], cov=cov))
    return np.sum(special.logsumexp(np.stack(parts), axis=0))


def dirichlet_log_density(log_alpha, p_raw):
    p = p_raw / np.sum(p_raw)
    return dirichlet.logpdf(p, np.exp(log_alpha))


def kl_to_one_hot(logits, target):
    """scipy.stats.entropy(pk, qk): the divergence from a one-hot target (zeros in pk)."""
    return stats.entropy(target, special.softmax(logits))


def von_mises_and_entropy(mu, log_kappa, theta):
    return -np.sum(stats.vonmises.logpdf(theta, np.exp(log_kappa), loc=mu)) + \
        stats.norm.entropy(mu, np.exp(log_kappa))


GAMMA_Y = np.array([0.5, 1.3, 2.2, 0.9])
K, N = np.array([2.0, 5.0, 1.0]), np.array([6.0, 8.0, 4.0])
PROGRAMS = [
    (gaussian_nll, (0.4, -0.1, Y), (0, 1)),
    (gaussian_nll_keywords, (0.4, -0.1, Y), (0, 1)),
    (gaussian_nll_module_path, (np.array([0.4, -0.1]), Y), 0),
    (gaussian_nll_frozen, (0.4, -0.1, Y), (0, 1)),
    (student_t_regression, (np.array([0.2, -0.1, 0.3]), 1.2, X, Y), (0, 1)),
    (student_t_location, (np.array([0.2, -0.1, 0.3]), X, Y), 0),
    (poisson_glm, (np.array([0.1, 0.2, -0.1]), X, COUNTS), 0),
    (poisson_glm_pmf, (np.array([0.1, 0.2, -0.1]), X, COUNTS), 0),
    (beta_binomial, (np.array([0.2, -0.3, 0.5]), 2.0, 3.0, K, N), (0, 1, 2)),
    (gamma_shape_rate, (0.4, 0.2, GAMMA_Y), (0, 1)),
    (gamma_keywords, (1.6, 1.2, GAMMA_Y), (0, 1)),
    (gmm_loglik, (np.array([[0.0, 0.2], [1.0, -0.5]]), np.array([0.3, -0.2]), POINTS),
     (0, 1)),
    (gmm_covariance_factors, (np.array([[0.0, 0.2], [1.0, -0.5]]),
                              np.array([[[1.0, 0.0], [0.3, 0.8]], [[0.7, 0.0], [-0.2, 1.1]]]),
                              POINTS), (0, 1)),
    (dirichlet_log_density, (np.array([0.2, 0.5, -0.1]), np.array([0.3, 0.5, 0.2])),
     (0, 1)),
    (kl_to_one_hot, (np.array([0.3, -0.2, 0.5]), np.array([0.0, 1.0, 0.0])), 0),
    (von_mises_and_entropy, (0.3, 0.2, np.array([0.1, 1.0, -2.0])), (0, 1)),
]


def _as_tuple(wrt, gradients):
    return gradients if isinstance(wrt, tuple) else (gradients,)


def _flat(args, wrt):
    return [np.ravel(np.asarray(args[i], dtype=float)) for i in
            (wrt if isinstance(wrt, tuple) else (wrt,))]


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_program_in_both_modes_against_central_differences(f, args, wrt):
    gradients = _as_tuple(wrt, s2sad.grad(f, wrt=wrt)(*args))
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    for index, got in zip(indices, gradients):
        assert type(got) is type(args[index]) and np.shape(got) == np.shape(args[index])
        np.testing.assert_allclose(got, numeric_grad(f, list(args), index), rtol=1e-6,
                                   atol=1e-7, err_msg=f"d/d argument {index}")
    directions = tuple(RNG.uniform(-1, 1, size=np.shape(args[i])) if np.ndim(args[i])
                       else float(RNG.uniform(-1, 1)) for i in indices)
    value, tangent = s2sad.jvp(f, wrt=wrt)(*args, directions if isinstance(wrt, tuple)
                                           else directions[0])
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    expected = sum(float(np.sum(g * v)) for g, v in zip(gradients, directions))
    np.testing.assert_allclose(tangent, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_program_hessian_against_central_differences_of_the_gradient(f, args, wrt):
    index = wrt[0] if isinstance(wrt, tuple) else wrt
    hessian = s2sad.hessian(f, wrt=index)(*args)
    gradient = s2sad.grad(f, wrt=index)
    x = np.asarray(args[index], dtype=float)
    columns = []
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = 1e-5
        at = [list(args) for _ in range(2)]
        at[0][index], at[1][index] = (x + step, x - step) if x.ndim else \
            (float(x + step), float(x - step))
        columns.append((np.asarray(gradient(*at[0])) - np.asarray(gradient(*at[1]))) / 2e-5)
    expected = np.stack(columns, axis=-1).reshape(x.shape + x.shape)
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6)


# autograd's own scipy.stats, for the programs whose distributions it has
def _autograd_programs():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.special as aspecial
    import autograd.scipy.stats as astats

    def binom_logpmf(k, n, p):
        return (aspecial.gammaln(n + 1) - aspecial.gammaln(k + 1) -
                aspecial.gammaln(n - k + 1) + k * anp.log(p) + (n - k) * anp.log1p(-p))

    def gmm(means, log_weights, X):
        cov = anp.array([[1.0, 0.3], [0.3, 0.8]])
        components = anp.stack([astats.multivariate_normal.logpdf(X, means[0], cov),
                                astats.multivariate_normal.logpdf(X, means[1], 1.5 * cov)],
                               axis=1)
        log_mix = log_weights - aspecial.logsumexp(log_weights)
        return anp.sum(aspecial.logsumexp(components + log_mix, axis=1))

    oracles = {
        gaussian_nll: lambda mu, ls, y: -anp.sum(astats.norm.logpdf(y, mu, anp.exp(ls))),
        student_t_regression: lambda w, ldf, X, y: -anp.sum(astats.t.logpdf(
            y - anp.dot(X, w), anp.exp(ldf), 0.0, 0.8)),
        poisson_glm: lambda w, X, c: -anp.sum(astats.poisson.logpmf(c, anp.exp(anp.dot(X, w)))),
        beta_binomial: lambda z, a, b, k, n: anp.sum(binom_logpmf(
            k, n, aspecial.expit(z))) + anp.sum(astats.beta.logpdf(aspecial.expit(z), a, b)),
        gamma_shape_rate: lambda lk, lr, y: -anp.sum(
            astats.gamma.logpdf(y * anp.exp(lr), anp.exp(lk)) + lr),
        gmm_loglik: gmm,
        dirichlet_log_density: lambda la, p: astats.dirichlet.logpdf(
            p / anp.sum(p), anp.exp(la)),
    }
    return autograd, oracles


WITH_AUTOGRAD = [p for p in PROGRAMS if p[0] in (
    gaussian_nll, student_t_regression, poisson_glm, beta_binomial, gamma_shape_rate,
    gmm_loglik, dirichlet_log_density)]


@pytest.mark.parametrize("f, args, wrt", WITH_AUTOGRAD, ids=[p[0].__name__ for p in WITH_AUTOGRAD])
def test_program_agrees_with_autograd(f, args, wrt):
    autograd, oracles = _autograd_programs()
    oracle = oracles[f]
    np.testing.assert_allclose(oracle(*args), f(*args), rtol=1e-12)
    gradients = _as_tuple(wrt, s2sad.grad(f, wrt=wrt)(*args))
    for index, got in zip(wrt if isinstance(wrt, tuple) else (wrt,), gradients):
        np.testing.assert_allclose(got, autograd.grad(oracle, index)(*args), rtol=1e-9,
                                   atol=1e-12)


def test_the_covariance_gradient_lands_on_the_triangle_scipy_reads():
    """SciPy reads cov's lower triangle: the gradient is autograd's symmetric one folded
    onto it (off-diagonal entries twice), what central differences in cov see; through a
    symmetric parametrisation the two agree."""
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.stats as astats

    def loglik(mean, cov, X):
        return np.sum(stats.multivariate_normal.logpdf(X, mean, cov))

    mean = np.array([0.1, -0.2, 0.3])
    A = RNG.normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    points = RNG.normal(size=(4, 3))
    dmean, dcov = s2sad.grad(loglik, wrt=(0, 1))(mean, cov, points)
    np.testing.assert_allclose(dcov, np.tril(dcov), rtol=0, atol=0)
    theirs = autograd.grad(lambda c: anp.sum(astats.multivariate_normal.logpdf(
        points, mean, c)), 0)(cov)
    np.testing.assert_allclose(dcov, 2 * np.tril(theirs, -1) + np.diag(np.diag(theirs)),
                               rtol=1e-9)
    np.testing.assert_allclose(dcov, numeric_grad(loglik, [mean, cov, points], 1), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(dmean, numeric_grad(loglik, [mean, cov, points], 0),
                               rtol=1e-6)

    def through_factor(L):
        return loglik(mean, L @ L.T + np.eye(3), points)

    np.testing.assert_allclose(s2sad.grad(through_factor)(A),
                               autograd.grad(lambda L: anp.sum(astats.multivariate_normal.logpdf(
                                   points, mean, anp.dot(L, L.T) + anp.eye(3))))(A), rtol=1e-9)
    # a kernel filled below the diagonal only, as SciPy reads it
    lower = np.tril(cov)
    np.testing.assert_allclose(s2sad.grad(loglik, wrt=1)(mean, lower, points),
                               numeric_grad(loglik, [mean, lower, points], 1), rtol=1e-6,
                               atol=1e-8)
    _, tangent = s2sad.jvp(loglik, wrt=1)(mean, lower, points, np.triu(np.ones((3, 3))))
    np.testing.assert_allclose(tangent, np.trace(s2sad.grad(loglik, wrt=1)(mean, lower, points)),
                               rtol=1e-9)
    # a vector cov is SciPy's diagonal; a number, times the identity
    for given in (np.diag(cov).copy(), 1.7):
        got = s2sad.grad(loglik, wrt=1)(mean, given, points)
        np.testing.assert_allclose(got, numeric_grad(loglik, [mean, given, points], 1),
                                   rtol=1e-6, atol=1e-8)


def test_a_singular_covariance_with_allow_singular():
    """SciPy's pseudo-inverse: the points and the mean differentiated on the support;
    the covariance refused, as autograd does (the pseudo-determinant's rank may change)."""
    singular = np.diag([1.0, 2.0, 0.0])

    def f(x, mean, cov):
        x = np.concatenate([x[:2], mean[2:]])
        return np.sum(multivariate_normal.logpdf(x, mean, cov, allow_singular=True))

    args = [np.array([0.3, -0.2, 0.0]), np.array([0.1, 0.4, 0.5]), singular]
    for index in (0, 1):
        np.testing.assert_allclose(s2sad.grad(f, wrt=index)(*args),
                                   numeric_grad(f, args, index), rtol=1e-7, atol=1e-9)
    with pytest.raises(s2sad.S2SADError, match="in cov with allow_singular=True"):
        s2sad.grad(f, wrt=2)(*args)
    # (allow_singular=True with a regular covariance: the points and the mean as usual)
    regular = np.diag([1.0, 2.0, 0.5])
    np.testing.assert_allclose(s2sad.grad(f, wrt=1)(args[0], args[1], regular),
                               numeric_grad(f, [args[0], args[1], regular], 1), rtol=1e-7)


def test_inactive_calls_need_no_rule():
    """rvs and ppf of constants are values: no derivative is asked of them."""
    def f(mu, y):
        noise = stats.norm.rvs(size=5, random_state=0)
        cut = stats.expon.ppf(0.9)
        return np.sum(norm.logpdf(y + noise, mu)) * cut

    np.testing.assert_allclose(s2sad.grad(f)(0.3, Y), numeric_grad(f, [0.3, Y], 0),
                               rtol=1e-7)


HEIGHTS = [1.62, 1.75, 1.80, 1.68, 1.71]
GOALS = [1, 0, 3, 2, 1, 0]


def test_lists_are_read_as_arrays():
    """SciPy reads a list as an array; so does the derivative (its arithmetic would not):
    a list written in the call, or a module's list of data."""
    cov = [[1.0, 0.3], [0.3, 2.0]]

    def f(mu):
        return np.sum(stats.norm.logpdf([0.5, 1.0], mu, 2.0)) + \
            multivariate_normal.logpdf([0.5, 1.0], [mu, 0.0], cov) + \
            dirichlet.logpdf([0.2, 0.3, 0.5], [mu + 1.0, 2.0, 3.0]) + \
            np.sum(stats.poisson.logpmf(GOALS, mu + 2.0)) + np.sum(norm.logpdf(HEIGHTS, mu))

    np.testing.assert_allclose(s2sad.grad(f)(0.3), numeric_grad(f, [0.3], 0), rtol=1e-7)
    np.testing.assert_allclose(s2sad.jvp(f)(0.3, 1.0)[1], numeric_grad(f, [0.3], 0),
                               rtol=1e-7)

    def g(log_rate, goals, heights):  # (data passed as lists)
        return -np.sum(stats.poisson.logpmf(goals, np.exp(log_rate))) - \
            np.sum(norm.logpdf(heights, log_rate, 0.3))

    args = [0.2, GOALS, HEIGHTS]
    np.testing.assert_allclose(s2sad.grad(g)(*args), numeric_grad(g, args, 0), rtol=1e-7)
    np.testing.assert_allclose(s2sad.hessian(g)(*args),
                               (s2sad.grad(g)(0.2 + 1e-5, GOALS, HEIGHTS) -
                                s2sad.grad(g)(0.2 - 1e-5, GOALS, HEIGHTS)) / 2e-5, rtol=1e-6)


# -- every row of the rule table: second order and autograd --------------------------------

import rule_table_scipy_stats  # noqa: E402

ROWS = [pytest.param(case, id=case.expression) for case in rule_table_scipy_stats.TABLE]


def _row_function(case, tmp_path):
    """The row's call in sum(sin(...)) as a function in a file (hessian reads source)."""
    names = ["a", "b"][: len(case.domains)]
    text = (f"import numpy as np\nfrom scipy import stats\n\n\n"
            f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n")
    path = tmp_path / "row.py"
    path.write_text(text)
    namespace = {}
    exec(compile(text, str(path), "exec"), namespace)
    return namespace["f"]


def _row_args(case, shapes, seed=11):
    rng = np.random.default_rng(seed)
    shapes = shapes if len(case.domains) > 1 else (shapes,)
    return [rng.uniform(*domain, size=shape) if shape != () else
            float(rng.uniform(*domain)) for domain, shape in zip(case.domains, shapes)]


@pytest.mark.parametrize("case", ROWS)
def test_row_hessian_against_central_differences_of_the_gradient(case, tmp_path):
    """Second order: every call a rule's derivative makes (digamma, stats.t.pdf, the
    inverse of cov...) has a rule of its own."""
    f = _row_function(case, tmp_path)
    shapes = case.shapes[min(2, len(case.shapes) - 1)]
    args = _row_args(case, shapes)
    n = len(args)
    hessian = s2sad.hessian(f, wrt=tuple(range(n)) if n > 1 else 0)(*args)
    blocks = hessian if n > 1 else ((hessian,),)
    for i in range(n):
        gradient = s2sad.grad(f, wrt=i)
        for j in range(n):
            x = np.asarray(args[j], dtype=float)
            columns = []
            for k in np.ndindex(x.shape):
                step = np.zeros_like(x)
                step[k] = 1e-5
                up, down = list(args), list(args)
                up[j], down[j] = (x + step, x - step) if x.ndim else \
                    (float(x + step), float(x - step))
                columns.append((np.asarray(gradient(*up)) - np.asarray(gradient(*down)))
                               / 2e-5)
            expected = np.stack(columns, axis=-1).reshape(np.shape(args[i]) + x.shape)
            assert np.shape(blocks[i][j]) == expected.shape
            np.testing.assert_allclose(blocks[i][j], expected, rtol=1e-4, atol=1e-5,
                                       err_msg=f"d2/d{'ab'[i]}d{'ab'[j]}")


def _autograd_rows():
    """Rows whose distribution and method autograd.scipy.stats has, and whose arguments
    differentiated are ones its rules differentiate."""
    try:
        import autograd.scipy.stats as astats
    except ImportError:
        return []
    import re
    rows = []
    for case in rule_table_scipy_stats.TABLE:
        used = re.findall(r"stats\.(\w+)\.(\w+)\(", case.expression)
        if used and all(hasattr(getattr(astats, d, None), m) for d, m in used) and \
                "astype" not in case.expression:
            rows.append(pytest.param(case, id=case.expression))
    return rows


# (row, argument index) where autograd's rule is wrong, checked below to stay so
_LOWER = "autograd reads the whole matrix, SciPy its lower triangle"
AUTOGRAD_WRONG = {
    ("stats.chi2.logpdf(a, b)", 0): "autograd's chi2.logpdf has slope 0 in x where df is "
                                    "not an integer",
    **{(f"stats.multivariate_normal.{m}(a, np.ones(3), b / 4 + 2 * np.eye(3))", i): _LOWER
       for m in ("logpdf", "pdf") for i in (0, 1)},
    ("stats.multivariate_normal.entropy(np.zeros(3), a / 4 + 2 * np.eye(3))", 0): _LOWER,
}


def test_autograd_is_wrong_where_excluded():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.stats as astats
    for (expression, index), why in AUTOGRAD_WRONG.items():
        case = next(c for c in rule_table_scipy_stats.TABLE if c.expression == expression)
        names = ["a", "b"][: len(case.domains)]
        text = f"def f({', '.join(names)}):\n    return {case.wrap.format(expression)}\n"
        theirs = {"np": anp, "stats": astats}
        exec(text, theirs)
        args = _row_args(case, case.shapes[0])
        got = s2sad.grad_source(text, "f", wrt=index, env={"np": np, "stats": stats})(*args)
        central = numeric_grad(theirs["f"], args, index)
        np.testing.assert_allclose(got, central, rtol=1e-6)
        assert not np.allclose(autograd.grad(theirs["f"], index)(*args), central), why


@pytest.mark.parametrize("case", _autograd_rows())
def test_row_agrees_with_autograd(case):
    """`stats` bound to autograd.scipy.stats for autograd, at every shape of the row;
    where autograd has no derivative in an argument (it raises) that argument is left."""
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.stats as astats
    names = ["a", "b"][: len(case.domains)]
    text = f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n"
    ours, theirs = {"np": np, "stats": stats}, {"np": anp, "stats": astats}
    exec(text, theirs)
    compared = 0
    for k, shapes in enumerate(case.shapes):
        shapes = shapes if len(case.domains) > 1 else (shapes,)
        args = _row_args(case, shapes if len(case.domains) > 1 else shapes[0], seed=k)
        for index in range(len(args)):
            if (case.expression, index) in AUTOGRAD_WRONG:
                continue
            got = s2sad.grad_source(text, "f", wrt=index, env=ours)(*args)
            try:
                expected = autograd.grad(theirs["f"], index)(*args)
            except (NotImplementedError, TypeError, ValueError, AttributeError):
                continue
            np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10,
                                       err_msg=f"d{names[index]} at {shapes}")
            compared += 1
    if not compared:
        pytest.skip("autograd differentiates none of this row's arguments (it raises)")


# -- refusals -----------------------------------------------------------------------------

def _refusal(f, *args, wrt=0):
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(f, wrt=wrt)(*args)
    return info.value


def test_a_count_is_not_differentiated():
    def f(k, mu):
        return np.sum(stats.poisson.logpmf(k, mu))

    error = _refusal(f, COUNTS + 0.0, 1.5)
    assert "scipy.stats.poisson.logpmf in k (a count)" in str(error)
    assert "no derivative" in str(error)
    np.testing.assert_allclose(s2sad.grad(f, wrt=1)(COUNTS, 1.5),
                               numeric_grad(f, [COUNTS, 1.5], 1), rtol=1e-7)


def test_a_cdf_in_its_shape_parameter_is_refused():
    def f(a, x):
        return np.sum(gamma.cdf(x, a))

    error = _refusal(f, 2.0, GAMMA_Y)
    assert "scipy.stats.gamma.cdf in a" in str(error)
    np.testing.assert_allclose(s2sad.grad(f, wrt=1)(2.0, GAMMA_Y),
                               numeric_grad(f, [2.0, GAMMA_Y], 1), rtol=1e-7)
    with pytest.raises(s2sad.S2SADError, match="scipy.stats.gamma.cdf in a"):
        s2sad.jvp(f, wrt=0)(2.0, GAMMA_Y, 1.0)


def test_a_method_without_a_rule_is_named_as_the_call_spells_it():
    def f(s):
        return np.sum(stats.expon.ppf(np.array([0.2, 0.7]), scale=s))

    error = _refusal(f, 1.5)
    text = str(error)
    assert "no derivative rule for stats.expon.ppf" in text
    assert error.lineno == f.__code__.co_firstlineno + 1 and "^^^" in text
    assert "@s2sad.adjoint(stats.expon.ppf)" in text


def test_the_printed_registration_works_as_printed():
    """The hint's `@s2sad.adjoint(stats.expon.ppf)`: a rule keyed by the bound method,
    found again from a new bound method at each call."""
    def f(q):
        return np.sum(stats.expon.ppf(q, scale=2.0))

    key = stats.expon.ppf
    try:
        @s2sad.adjoint(stats.expon.ppf)
        def ppf_adjoint(dy, y, q, loc=0.0, scale=1.0):
            dq = dy * scale / (1 - q)  # (the expon quantile loc - scale log(1 - q))
            return dq

        q = np.array([0.2, 0.7])
        np.testing.assert_allclose(s2sad.grad(f)(q), numeric_grad(f, [q], 0), rtol=1e-7)
    finally:
        REGISTRY.pop(key, None)


def test_a_frozen_distribution_used_otherwise_is_refused_where_it_is_made():
    def f(mu, y):
        d = norm(mu, 1.0)
        return np.sum(d.logpdf(y)) + d.interval(0.9)[0]

    error = _refusal(f, 0.3, Y)
    text = str(error)
    assert "a distribution frozen with its parameters (norm(...))" in text
    assert error.lineno == f.__code__.co_firstlineno + 1
    lines = text.splitlines()
    shown = next(k for k, line in enumerate(lines) if line.endswith("d = norm(mu, 1.0)"))
    assert lines[shown + 1] == " " * lines[shown].index("norm(") + "^" * len("norm(mu, 1.0)")
    assert "norm.logpdf(x, mu, 1.0)" in text


PRIOR = stats.norm(0.0, 2.0)
SHAPE_PRIOR = st.gamma(2.0, scale=0.5)
PRIOR_OF_ARRAYS = stats.norm(np.zeros(2), 1.0)
POINT_PRIOR = multivariate_normal(np.zeros(2), np.eye(2))


def log_posterior(theta, s, y):
    return np.sum(norm.logpdf(y, theta[0] + theta[1], s)) + np.sum(PRIOR.logpdf(theta)) + \
        SHAPE_PRIOR.logpdf(s) + SHAPE_PRIOR.logsf(s)


def test_a_distribution_frozen_outside_with_numbers_is_read_with_them():
    """A prior made at module level: PRIOR.logpdf(theta) has stats.norm.logpdf's rule,
    with loc 0.0 and scale 2.0 (and SHAPE_PRIOR gamma's, a 2.0 and scale 0.5)."""
    args = [np.array([0.1, 0.5]), 1.3, Y]
    got = s2sad.grad(log_posterior, wrt=(0, 1))(*args)
    for index in (0, 1):
        np.testing.assert_allclose(got[index], numeric_grad(log_posterior, args, index),
                                   rtol=1e-7)
    assert "PRIOR.logpdf(" in s2sad.grad(log_posterior).source
    hessian = s2sad.hessian(log_posterior)(*args)
    gradient = s2sad.grad(log_posterior)
    expected = np.stack([(gradient(args[0] + e, *args[1:]) - gradient(args[0] - e, *args[1:]))
                         / 2e-5 for e in np.eye(2) * 1e-5], axis=-1)
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-7)


class Model:
    """A model holding its prior, frozen, and its noise level."""

    def __init__(self):
        self.prior = st.norm(0.0, 2.0)
        self.noise = 0.5

    def loss(self, mu, y):
        return -np.sum(norm.logpdf(y, mu, self.noise)) - np.sum(self.prior.logpdf(mu))


def test_a_frozen_distribution_an_object_holds_is_read_with_its_numbers():
    model = Model()
    mu = np.array([0.3, -0.1])
    got = s2sad.grad(model.loss)(mu, Y[:2])
    np.testing.assert_allclose(got, numeric_grad(model.loss, [mu, Y[:2]], 0), rtol=1e-7)
    hessian = s2sad.hessian(model.loss)(mu, Y[:2])
    np.testing.assert_allclose(hessian, np.diag([1 / 0.25 + 1 / 4.0] * 2), rtol=1e-9)
    _, tangent = s2sad.jvp(model.loss)(mu, Y[:2], np.array([1.0, 0.0]))
    np.testing.assert_allclose(tangent, got[0], rtol=1e-9)


def _neg_log_prior(theta):
    return -np.sum(PRIOR.logpdf(theta))


def test_a_prior_rebound_is_read_again():
    """The derivative holds a frozen prior's numbers: rebinding the global (or the
    object's attribute) compiles it again, in the same transform too."""
    global PRIOR
    theta = np.array([0.4, -0.3])
    gradient, saved = s2sad.grad(_neg_log_prior), PRIOR
    try:
        np.testing.assert_allclose(gradient(theta), theta / 4.0)
        PRIOR = stats.norm(1.0, 0.5)
        np.testing.assert_allclose(gradient(theta), (theta - 1.0) / 0.25)
        np.testing.assert_allclose(gradient(theta), (theta - 1.0) / 0.25)
    finally:
        PRIOR = saved
    model = Model()
    loss = s2sad.grad(model.loss)
    np.testing.assert_allclose(loss(theta, Y[:2]), numeric_grad(model.loss, [theta, Y[:2]], 0),
                               rtol=1e-7)
    model.prior = st.norm(1.0, 0.5)
    np.testing.assert_allclose(loss(theta, Y[:2]), numeric_grad(model.loss, [theta, Y[:2]], 0),
                               rtol=1e-7)


@pytest.mark.parametrize("frozen, written", [
    ("PRIOR_OF_ARRAYS", "scipy.stats.norm.logpdf(x, loc, scale)"),
    ("POINT_PRIOR", "scipy.stats.multivariate_normal.logpdf(x, mean, cov)")])
def test_a_distribution_frozen_outside_with_arrays_is_refused_naming_the_call(frozen,
                                                                              written):
    held = globals()[frozen]

    def f(theta):
        return np.sum(held.logpdf(theta))

    text = str(_refusal(f, np.array([0.1, 0.4])))
    assert f"no derivative rule for {written.split('.logpdf')[0]}(...).logpdf" in text
    assert written in text


def test_frozen_distributions_bind_their_parameters_where_they_are_made():
    """mu changes after the freeze: the frozen distribution keeps the value it had."""
    def f(mu, s, y):
        d = st.norm(loc=mu, scale=s)
        mu = mu * 3.0
        return np.sum(d.logpdf(y)) + np.sum(d.cdf(y)) * mu + norm(mu, s).sf(0.5)

    args = [0.4, 1.3, Y]
    got = s2sad.grad(f, wrt=(0, 1))(*args)
    for index in (0, 1):
        np.testing.assert_allclose(got[index], numeric_grad(f, args, index), rtol=1e-7)
    source = s2sad.grad(f, wrt=(0, 1)).source
    assert "d_loc = mu" in source and "st.norm.logpdf(" in source and "scale=d_scale)" in source


T3 = stats.t(3.0)


def test_summaries_of_frozen_distributions_and_methods_without_a_rule():
    """frozen.entropy() is the distribution's entropy of the parameters; a frozen prior's
    method without a rule is refused as that (not as frozen with arrays)."""
    def f(s):
        d = stats.gamma(s, scale=2.0)
        return d.entropy() + st.norm(0.0, s).entropy()

    np.testing.assert_allclose(s2sad.grad(f)(1.5), numeric_grad(f, [1.5], 0), rtol=1e-7)

    def g(x):
        return np.sum(T3.isf(x))

    text = str(_refusal(g, np.array([0.3, 0.6])))
    assert "no derivative rule for scipy.stats.t(...).isf: scipy.stats.t.isf has none" in text
    assert "other than numbers" not in text


def test_points_given_as_a_vector_to_multivariate_normal_are_refused():
    """SciPy reads x of shape (n,) with a number mean as n one-dimensional points."""
    def f(m, x):
        return np.sum(multivariate_normal.logpdf(x, m, 2.0))

    text = str(_refusal(f, 0.3, Y))
    assert "1-d points given as a vector" in text


def test_a_call_the_rule_does_not_take_is_refused_naming_its_parameters():
    def f(mu, y):
        return np.sum(stats.multivariate_normal.logpdf(y, mu, 1.0, False, 3))

    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(f)(np.zeros(2), np.ones((3, 2)))
    assert "scipy.stats.multivariate_normal.logpdf" in str(info.value)
