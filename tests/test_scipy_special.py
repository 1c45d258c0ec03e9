"""scipy.special's elementwise rules (issue 18, first part): each function in reverse
and forward mode and its Hessian against central differences, with exact shapes and
dtypes, and against autograd's scipy where it has the function; spelled as users
import them (`from scipy.special import expit`, `special.erf`, `scipy.special.ndtr`)."""
import numpy as np
import pytest

scipy_special = pytest.importorskip("scipy.special")

import s2sad  # noqa: E402
import scipy.special  # noqa: E402,F401  (the spellings users import)
import scipy.special as sp  # noqa: E402
from scipy import special  # noqa: E402
from scipy.special import (expit, gammaln, i0e, log_expit, log_softmax,  # noqa: E402
                           logsumexp, xlogy)

from s2sad.check import numeric_grad  # noqa: E402
UNIT = (0.1, 0.9)          # logit, erfinv's and ndtri's domains (open intervals)
POSITIVE = (0.2, 2.0)
ANY = (-1.5, 1.5)

UNARY = [
    (special.expit, ANY), (special.logit, UNIT), (special.log_expit, ANY),
    (special.erf, ANY), (special.erfc, ANY), (special.erfcx, ANY),
    (special.erfinv, (-0.8, 0.8)), (special.erfcinv, (0.2, 1.8)),
    (special.ndtr, ANY), (special.log_ndtr, ANY), (special.ndtri, UNIT),
    (special.entr, POSITIVE),
]
BINARY = [
    (special.xlogy, ANY, POSITIVE), (special.xlog1py, ANY, (-0.5, 1.5)),
    (special.rel_entr, POSITIVE, POSITIVE),
]


def _points(domain, shape, seed):
    low, high = domain
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _central(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("fn, domain", UNARY, ids=[f.__name__ for f, _ in UNARY])
def test_unary_function_in_both_modes_and_second_order(fn, domain):
    def f(x):
        return np.sum(fn(x) * np.cos(x))

    x = _points(domain, (4,), 1)
    g = s2sad.grad(f)(x)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, _central(f, x), rtol=1e-6, atol=1e-8)
    v = _points((-1, 1), (4,), 2)
    np.testing.assert_allclose(s2sad.jvp(f)(x, v)[1], _central(f, x) @ v, rtol=1e-6, atol=1e-8)
    h = s2sad.hessian(f)(x)
    np.testing.assert_allclose(h, np.stack([_central(lambda t: s2sad.grad(f)(t)[k], x)
                                            for k in range(4)]), rtol=1e-5, atol=1e-6)
    scalar = float(x[0])
    got = s2sad.grad(lambda t: fn(t) * 2.0)(scalar)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, (fn(scalar + 1e-6) - fn(scalar - 1e-6)) / 1e-6,
                               rtol=1e-6)


@pytest.mark.parametrize("fn, first, second", BINARY, ids=[f.__name__ for f, _, _ in BINARY])
def test_binary_function_in_each_argument(fn, first, second):
    def f(a, b):
        return np.sum(fn(a, b) * (1.0 + a * b))

    a, b = _points(first, (3,), 3), _points(second, (3,), 4)
    ga, gb = s2sad.grad(f, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(ga, _central(lambda t: f(t, b), a), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, _central(lambda t: f(a, t), b), rtol=1e-6, atol=1e-8)
    # broadcasting: a number against an array
    gs = s2sad.grad(lambda s, t: np.sum(fn(s, t)), wrt=0)(float(a[0]), b)
    assert isinstance(gs, float)
    _, tangent = s2sad.jvp(f, wrt=1)(a, b, np.ones(3))
    np.testing.assert_allclose(tangent, _central(lambda t: f(a, t), b).sum(), rtol=1e-6)


def test_xlogy_where_x_is_zero_has_the_slope_xlogy_has_there():
    """xlogy(0, y) is 0 for every y: no slope in y; in x the slope is log(y)."""
    def f(a, b):
        return np.sum(special.xlogy(a, b))

    a, b = np.array([0.0, 0.5]), np.array([2.0, 3.0])
    ga, gb = s2sad.grad(f, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(gb, [0.0, 0.5 / 3.0])
    np.testing.assert_allclose(ga, [np.log(2.0), np.log(3.0)])  # (at x = 0 too)


def logistic_loss(w, X, y):
    z = X @ w
    return -np.sum(y * log_expit(z) + (1 - y) * log_expit(-z)) + 0.01 * np.sum(expit(z))


def probit_loglik(beta, X, y):
    p = special.ndtr(X @ beta)
    return np.sum(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p))


@pytest.mark.parametrize("f", [logistic_loss, probit_loglik])
def test_glm_losses_against_autograd(f):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.special as aspecial
    import autograd.scipy.stats.norm as anorm
    rng = np.random.default_rng(5)
    X, y, w = rng.normal(size=(6, 3)), (rng.uniform(size=6) > 0.5) * 1.0, rng.normal(size=3)

    def oracle(w):
        z = anp.dot(X, w)
        if f is logistic_loss:
            return -anp.sum(y * -anp.logaddexp(0, -z) + (1 - y) * -anp.logaddexp(0, z)) + \
                0.01 * anp.sum(aspecial.expit(z))
        p = anorm.cdf(z)
        return anp.sum(y * anp.log(p) + (1 - y) * anp.log(1 - p))

    np.testing.assert_allclose(s2sad.grad(f)(w, X, y), autograd.grad(oracle)(w), rtol=1e-9)


def test_a_scipy_function_without_a_rule_is_named_as_imported():
    def f(x):
        return np.sum(special.ellipe(x))

    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(f)(np.array([0.1, 0.5]))
    assert "no derivative rule for special.ellipe" in str(info.value)
    assert "@s2sad.adjoint(special.ellipe)" in str(info.value)


def mixture_loglik(means, x):
    from_components = -0.5 * (x[:, None] - means[None, :]) ** 2
    return np.sum(special.logsumexp(from_components, axis=1)) + \
        special.logsumexp(means) + np.sum(special.logsumexp(from_components, axis=0,
                                                            keepdims=True) ** 2)


def test_logsumexp_over_all_axes_one_axis_and_keepdims():
    x = np.array([0.3, -1.2, 0.7, 2.0])
    means = np.array([-0.5, 0.4, 1.1])
    g = s2sad.grad(mixture_loglik)(means, x)
    np.testing.assert_allclose(g, _central(lambda m: mixture_loglik(m, x), means), rtol=1e-6)
    v = np.array([0.2, -0.3, 0.5])
    np.testing.assert_allclose(s2sad.jvp(mixture_loglik)(means, x, v)[1],
                               _central(lambda m: mixture_loglik(m, x), means) @ v, rtol=1e-6)
    h = s2sad.hessian(mixture_loglik)(means, x)
    np.testing.assert_allclose(h, np.stack([_central(
        lambda m: s2sad.grad(mixture_loglik)(m, x)[k], means) for k in range(3)]),
        rtol=1e-5, atol=1e-6)


def test_logsumexp_with_return_sign_is_refused_where_it_is_called():
    def f(a):
        return special.logsumexp(a, return_sign=True)[0]

    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(f)(np.array([0.3, 0.5]))
    assert "return_sign" in str(info.value)
    assert info.value.lineno == f.__code__.co_firstlineno + 1
    assert "^^^" in str(info.value)


# -- every row of the rule table: second order, float32, and autograd -----------------------

import rule_table_scipy_special  # noqa: E402

ROWS = [pytest.param(case, id=case.expression) for case in rule_table_scipy_special.TABLE]


def _row_function(case, tmp_path):
    """The row's call in sum(sin(...)) as a function in a file (hessian reads source)."""
    names = ["a", "b"][: len(case.domains)]
    text = (f"import numpy as np\nfrom scipy import special\n\n\n"
            f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n")
    path = tmp_path / f"row_{abs(hash(case.expression))}.py"
    path.write_text(text)
    namespace = {}
    exec(compile(text, str(path), "exec"), namespace)
    return namespace["f"]


def _row_args(case, seed=11, shapes=None):
    """Arguments at the row's last shapes (or those given)."""
    rng = np.random.default_rng(seed)
    shapes = shapes or case.shapes[-1]
    shapes = shapes if len(case.domains) > 1 else (shapes,)
    return [rng.uniform(*domain, size=shape) if shape != () else
            float(rng.uniform(*domain)) for domain, shape in zip(case.domains, shapes)]


def _jacobian_fd(g, args, j, eps=1e-6):
    """Central differences of array-valued g in argument j: g's shape + args[j]'s."""
    x = np.asarray(args[j], dtype=float)
    columns = []
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        up = [*args[:j], x + step if x.ndim else float(x + step), *args[j + 1:]]
        down = [*args[:j], x - step if x.ndim else float(x - step), *args[j + 1:]]
        columns.append((np.asarray(g(*up)) - np.asarray(g(*down))) / (2 * eps))
    out = np.stack(columns, axis=-1)
    return out.reshape(np.shape(g(*args)) + x.shape)


@pytest.mark.parametrize("case", ROWS)
def test_row_hessian_against_central_differences_of_the_gradient(case, tmp_path):
    """Second order: the gradient's own calls (digamma, polygamma, iv, ...) have rules."""
    f = _row_function(case, tmp_path)
    args = _row_args(case)
    n = len(args)
    wrt = tuple(range(n))
    hessian = s2sad.hessian(f, wrt=wrt if n > 1 else 0)(*args)
    blocks = hessian if n > 1 else ((hessian,),)
    for i in range(n):
        gradient_i = lambda *xs: s2sad.grad(f, wrt=i)(*xs)  # noqa: E731
        for j in range(n):
            expected = _jacobian_fd(gradient_i, args, j)
            assert np.shape(blocks[i][j]) == expected.shape
            np.testing.assert_allclose(blocks[i][j], expected, rtol=2e-5, atol=1e-6,
                                       err_msg=f"d2/d{'ab'[i]}d{'ab'[j]}")


@pytest.mark.parametrize("case", ROWS)
def test_row_keeps_float32_where_scipy_does(case, tmp_path):
    """The generated code itself, run with a float32 seed, computes in float32 where
    SciPy's function does (before the API casts the gradient to the input's dtype)."""
    f = _row_function(case, tmp_path)
    wrt = tuple(range(len(case.domains)))
    gradient = s2sad.grad(f, wrt=wrt)
    for shapes in case.shapes:
        # float32 arrays; numbers stay Python floats (weak: they keep an array's float32)
        args = [np.asarray(a, dtype=np.float32) if np.ndim(a) else a
                for a in _row_args(case, shapes=shapes)]
        expected = gradient(*[np.asarray(a, dtype=np.float64) for a in args])
        for arg, got, wanted in zip(args, gradient(*args), expected):
            assert np.shape(got) == np.shape(arg) and type(got) is type(arg)
            assert np.asarray(got).dtype == np.asarray(arg).dtype
            np.testing.assert_allclose(got, wanted, rtol=2e-3, atol=1e-4)
        raw = gradient.for_arguments(tuple(args), {}).function(*args, df=np.float32(1.0))
        if np.result_type(f(*args)) == np.float32:
            for arg, got in zip(args, raw):
                if np.ndim(arg):
                    assert np.asarray(got).dtype == np.float32, shapes


def _autograd_rows():
    """The rows whose every scipy.special function autograd has (autograd.scipy.special)."""
    try:
        import autograd.scipy.special as aspecial
    except ImportError:
        return []
    import re
    rows = []
    for case in rule_table_scipy_special.TABLE:
        used = re.findall(r"special\.(\w+)", case.expression)
        if all(hasattr(aspecial, name) for name in used):
            rows.append(pytest.param(case, id=case.expression))
    return rows


@pytest.mark.parametrize("case", _autograd_rows())
def test_row_agrees_with_autograd(case):
    """tests/test_rules_oracle.py skips scipy's rows (autograd.numpy has no scipy):
    here `special` is autograd.scipy.special for autograd, at every shape of the row."""
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.special as aspecial
    names = ["a", "b"][: len(case.domains)]
    text = f"def f({', '.join(names)}):\n    return {case.wrap.format(case.expression)}\n"
    ours, theirs = {"np": np, "special": special}, {"np": anp, "special": aspecial}
    exec(text, theirs)
    # autograd differentiates logsumexp in a only, not in its weights b, and only where
    # b does not broadcast a to a larger shape (its gradient then has that shape)
    weighted = case.keys == (special.logsumexp,) and len(case.domains) == 2
    for k, shapes in enumerate(case.shapes):
        shapes = shapes if len(case.domains) > 1 else (shapes,)
        if weighted and np.broadcast_shapes(*shapes) != shapes[0]:
            continue
        rng = np.random.default_rng(k)
        args = [rng.uniform(*d, size=s) if s != () else float(rng.uniform(*d))
                for d, s in zip(case.domains, shapes)]
        for index in range(1 if weighted else len(args)):
            got = s2sad.grad_source(text, "f", wrt=index, env=ours)(*args)
            expected = autograd.grad(theirs["f"], index)(*args)
            assert np.shape(got) == np.shape(expected)
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"d{names[index]} at {shapes}")


# -- end-to-end programs: likelihoods and losses as users write them --------------------------

def poisson_loglik(beta, X, counts):
    rate = np.exp(X @ beta)
    return np.sum(xlogy(counts, rate) - rate - gammaln(counts + 1.0))


def negative_binomial_loglik(params, X, y):
    r = np.exp(params[0])  # the dispersion, a number beside the coefficients
    mu = np.exp(X @ params[1:])
    return np.sum(sp.gammaln(y + r) - sp.gammaln(r) - sp.gammaln(y + 1.0)
                  + sp.xlogy(r, r / (r + mu)) + sp.xlogy(y, mu / (r + mu)))


def dirichlet_logpdf(alpha, x):
    norm = special.gammaln(np.sum(alpha)) - np.sum(special.gammaln(alpha))
    return norm + np.sum((alpha - 1.0) * np.log(x))


def softmax_classifier_loss(W, X, Y):
    logits = X @ W.T
    loss = -np.mean(np.sum(Y * log_softmax(logits, axis=1), axis=1))
    confidence = special.softmax(logits, axis=-1)
    return loss + 0.1 * np.sum(confidence[:, 0] ** 2) + 0.01 * np.sum(W * W)


def weighted_mixture_loglik(mu, weight_logits, x):
    weights = special.softmax(weight_logits)
    squares = -0.5 * (x[:, None] - mu[None, :]) ** 2 - 0.5 * np.log(2 * np.pi)
    return np.sum(logsumexp(squares, axis=1, b=weights))


def von_mises_loglik(theta, x):
    mu, kappa = theta[0], np.exp(theta[1])
    log_i0 = np.log(i0e(kappa)) + kappa  # log I0(kappa), without overflow
    return np.sum(kappa * np.cos(x - mu)) - x.size * (np.log(2 * np.pi) + log_i0)


def beta_binomial_loglik(log_ab, k, n):
    a, b = np.exp(log_ab)
    return np.sum(scipy.special.betaln(k + a, n - k + b) - scipy.special.betaln(a, b))


def wishart_log_normalizer(nu, log_det_scale):
    p = 3
    return nu * p / 2 * np.log(2.0) + nu / 2 * log_det_scale + sp.multigammaln(nu / 2, p)


RNG = np.random.default_rng(21)
X_DESIGN = RNG.normal(size=(6, 2)) * 0.5
PROGRAMS = [
    (poisson_loglik, (np.array([0.3, -0.2]), X_DESIGN, np.array([0., 2, 1, 4, 0, 3])), 0),
    (negative_binomial_loglik, (np.array([0.4, 0.3, -0.2]), X_DESIGN,
                                np.array([0., 2, 1, 4, 0, 3])), 0),
    (dirichlet_logpdf, (np.array([1.5, 2.0, 0.8]), np.array([0.2, 0.5, 0.3])), (0, 1)),
    (softmax_classifier_loss, (RNG.normal(size=(3, 2)), X_DESIGN,
                               np.eye(3)[[0, 1, 2, 1, 0, 2]]), 0),
    (weighted_mixture_loglik, (np.array([-0.5, 0.3, 1.2]), np.array([0.2, -0.1, 0.4]),
                               RNG.normal(size=5)), (0, 1)),
    (von_mises_loglik, (np.array([0.4, 0.7]), RNG.vonmises(0.3, 2.0, size=7)), 0),
    (beta_binomial_loglik, (np.array([0.3, 0.8]), np.array([2., 0, 5, 3]),
                            np.array([5., 4, 6, 3])), 0),
    (wishart_log_normalizer, (4.5, 0.7), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_program_in_both_modes_and_second_order(f, args, wrt):
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    got = s2sad.grad(f, wrt=wrt)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    rng = np.random.default_rng(3)
    directions = tuple(rng.uniform(-1, 1, size=np.shape(args[i])) for i in indices)
    derivative = 0.0
    for index, gradient, direction in zip(indices, got, directions):
        assert np.shape(gradient) == np.shape(args[index])
        assert np.asarray(gradient).dtype == np.float64
        np.testing.assert_allclose(gradient, numeric_grad(f, args, index), rtol=1e-6,
                                   atol=1e-8)
        derivative += float(np.sum(gradient * direction))
    _, tangent = s2sad.jvp(f, wrt=wrt)(*args, directions if isinstance(wrt, tuple)
                                       else directions[0])
    np.testing.assert_allclose(tangent, derivative, rtol=1e-8, atol=1e-10)
    hessian = s2sad.hessian(f, wrt=wrt)(*args)
    blocks = hessian if isinstance(wrt, tuple) else ((hessian,),)
    for i, first in enumerate(indices):
        gradient_i = lambda *xs: s2sad.grad(f, wrt=first)(*xs)  # noqa: E731
        for j, second in enumerate(indices):
            np.testing.assert_allclose(blocks[i][j], _jacobian_fd(gradient_i, args, second),
                                       rtol=1e-5, atol=1e-6)


def test_count_models_against_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.special as aspecial
    beta, X, counts = PROGRAMS[0][1]
    params, _, y = PROGRAMS[1][1]

    def poisson(b):
        rate = anp.exp(anp.dot(X, b))
        return anp.sum(counts * anp.log(rate) - rate - aspecial.gammaln(counts + 1.0))

    def negative_binomial(p):
        r, mu = anp.exp(p[0]), anp.exp(anp.dot(X, p[1:]))
        return anp.sum(aspecial.gammaln(y + r) - aspecial.gammaln(r) + r * anp.log(r / (r + mu))
                       + y * anp.log(mu / (r + mu)))

    alpha, x = PROGRAMS[2][1]

    def dirichlet(a):
        return aspecial.gammaln(anp.sum(a)) - anp.sum(aspecial.gammaln(a)) + \
            anp.sum((a - 1.0) * anp.log(x))

    np.testing.assert_allclose(s2sad.grad(poisson_loglik)(beta, X, counts),
                               autograd.grad(poisson)(beta), rtol=1e-10)
    np.testing.assert_allclose(s2sad.grad(negative_binomial_loglik)(params, X, y),
                               autograd.grad(negative_binomial)(params), rtol=1e-10)
    np.testing.assert_allclose(s2sad.hessian(dirichlet_logpdf)(alpha, x),
                               autograd.hessian(dirichlet)(alpha), rtol=1e-10)
    np.testing.assert_allclose(s2sad.hessian(negative_binomial_loglik)(params, X, y),
                               autograd.hessian(negative_binomial)(params), rtol=1e-9)


# -- orders and dimensions are constants ----------------------------------------------------

def polygamma_in_its_order(x, n):
    return np.sum(special.polygamma(n, x))


def iv_in_its_order(x, v):
    return np.sum(sp.iv(v, x) + x)


def jv_in_its_order(x, v):
    return np.sum(special.jv(v * 1.0, x))


def yv_in_its_order(x, v):
    return np.sum(special.yv(v, x))


def ive_in_its_order(x, v):
    return np.sum(special.ive(v, x))


def yn_in_its_order(x, n):
    return np.sum(special.yn(n, x))


def gammainc_in_its_shape(x, a):
    return np.sum(special.gammainc(a, x) + special.gammaincc(2.0, x))


def betainc_in_its_second_shape(x, b):
    return np.sum(special.betainc(1.5, b, x / 4.0))


def zeta_in_its_exponent(x, s):
    return np.sum(special.zeta(s, x))


@pytest.mark.parametrize("f, what", [
    (polygamma_in_its_order, "scipy.special.polygamma with an order n"),
    (iv_in_its_order, "scipy.special.iv with an order v"),
    (jv_in_its_order, "scipy.special.jv with an order v"),
    (yv_in_its_order, "scipy.special.yv with an order v"),
    (ive_in_its_order, "scipy.special.ive with an order v"),
    (yn_in_its_order, "scipy.special.yn with an order n"),
    (gammainc_in_its_shape, "scipy.special.gammainc with an a"),
    (betainc_in_its_second_shape, "scipy.special.betainc with a b"),
    (zeta_in_its_exponent, "scipy.special.zeta with an x"),
])
def test_an_order_that_depends_on_the_inputs_is_refused_in_both_modes(f, what):
    # (multigammaln's d has the same refusal, but SciPy itself takes no float d)
    x = np.array([2.3, 3.1])
    order = 2.0
    for run in (lambda: s2sad.grad(f, wrt=1)(x, order),
                lambda: s2sad.jvp(f, wrt=1)(x, order, 1.0),
                lambda: s2sad.grad(f, wrt=(0, 1))(x, order)):
        with pytest.raises(s2sad.S2SADError) as info:
            run()
        assert f"no derivative for {what} that depends on the inputs" in info.value.message
        assert info.value.lineno == f.__code__.co_firstlineno  # (found when it runs)
        assert "^" in str(info.value)
    # a constant order: the derivative in x
    got = s2sad.grad(f)(x, order)
    np.testing.assert_allclose(got, numeric_grad(f, [x, order], 0), rtol=1e-6)
    _, tangent = s2sad.jvp(f)(x, order, np.ones(2))
    np.testing.assert_allclose(tangent, np.sum(got), rtol=1e-9)


def orders_from_shapes(x):
    n = x.shape[0] - 1  # an int that depends on x's shape only: a constant
    return np.sum(special.polygamma(n, x) + special.jv(n, x) * sp.iv(len(x), x)) + \
        special.multigammaln(np.sum(x), len(x))


def test_orders_computed_from_shapes_are_constants():
    x = np.array([2.3, 3.1, 2.7])
    np.testing.assert_allclose(s2sad.grad(orders_from_shapes)(x),
                               numeric_grad(orders_from_shapes, [x], 0), rtol=1e-6)
    np.testing.assert_allclose(s2sad.hessian(orders_from_shapes)(x),
                               _jacobian_fd(s2sad.grad(orders_from_shapes), [x], 0),
                               rtol=1e-5, atol=1e-6)


def test_psi_is_digamma_and_jn_is_jv():
    """One function object under two names: one rule each covers both spellings."""
    assert special.psi is special.digamma and special.jn is special.jv

    def f(x):
        return np.sum(sp.psi(x) * special.jn(1, x))

    x = np.array([0.7, 1.9])
    np.testing.assert_allclose(s2sad.grad(f)(x), numeric_grad(f, [x], 0), rtol=1e-6)


def test_logsumexp_of_a_number_with_keepdims_and_axis_0_as_scipy_takes_them():
    """SciPy's logsumexp(1.1, keepdims=True) has shape (1,); axis=0 of a number is
    accepted: the derivative of the number is a number, its tangent shaped as y."""
    for axis in (None, 0):
        for keepdims in (True, False):
            value, pullback = s2sad.vjp(special.logsumexp)(1.1, axis=axis, keepdims=keepdims)
            assert np.shape(value) == np.shape(special.logsumexp(1.1, axis=axis,
                                                                 keepdims=keepdims))
            assert pullback(np.ones_like(value)) == pytest.approx(1.0)
            _, tangent = s2sad.jvp(special.logsumexp)(1.1, 2.0, axis=axis, keepdims=keepdims)
            assert np.shape(tangent) == np.shape(value)
            np.testing.assert_allclose(tangent, 2.0)


def test_zero_arguments_of_the_entropy_family():
    """xlogy(0, y)'s slope in the first argument is log(y) (it was 0); rel_entr and
    kl_div of a zero target against an underflowed probability have slope 0 and 1 in
    it (they were nan); entr at 0, whose slope is infinite, is refused (it was nan)."""
    q = np.array([0.6, 0.1, 0.3])

    def em_term(p):
        return -np.sum(special.xlogy(p, q) + special.xlog1py(p, q))
    p = np.array([0.0, 0.3, 0.7])
    np.testing.assert_allclose(s2sad.grad(em_term)(p), -np.log(q) - np.log1p(q))
    np.testing.assert_allclose(s2sad.jvp(em_term)(p, np.ones(3))[1],
                               np.sum(-np.log(q) - np.log1p(q)))
    target = np.array([1.0, 0.0, 0.0])
    z = np.array([0.0, -800.0, 1.0])  # (softmax(z)[1] underflows to 0)
    for divergence in (special.rel_entr, special.kl_div):
        def loss(z, divergence=divergence):
            return np.sum(divergence(target, special.softmax(z)))
        want = _central(loss, z)
        np.testing.assert_allclose(s2sad.grad(loss)(z), want, atol=1e-8)
        np.testing.assert_allclose(s2sad.jvp(loss)(z, np.ones(3))[1], np.sum(want), atol=1e-8)

    def entropy_bonus(z):
        return np.sum(special.entr(special.softmax(z)))
    with pytest.raises(s2sad.S2SADError, match="entr at 0"):
        s2sad.grad(entropy_bonus)(z)
    z = np.array([0.0, -8.0, 1.0])
    np.testing.assert_allclose(s2sad.grad(entropy_bonus)(z), _central(entropy_bonus, z),
                               rtol=1e-6)
