"""Implicit solves (seed 002): s2sad.fixed_point, s2sad.root, fixed_point_of/root_of.

Each derivative is checked against central differences of the converged solution (the
forward solves run to 1e-13), in reverse and forward mode, for the three ways the
multipliers are found (dense, iterate, auto) and the ways g is written (module-level
def or lambda, a lambda or nested def in the function, a marked hand-written loop)."""
import dataclasses

import numpy as np
import pytest

import s2sad
from s2sad import implicit

RNG = np.random.default_rng(21)
W = 0.4 * RNG.standard_normal((5, 5)) / np.sqrt(5)
U = RNG.standard_normal((5, 3))
B = RNG.standard_normal(5)
X = RNG.standard_normal(3)


def layer(z, W, U, b, x):
    return np.tanh(W @ z + U @ x + b)


square_root_step = lambda x, a: 0.5 * (x + a / x)  # noqa: E731  (Heron: x = sqrt(a))


def gap(x, a, c):
    return x ** 3 + a * x - c


def system(v, k):
    """A 2-D steady state: production k[0], k[1], decay and a coupling."""
    return np.array([k[0] - v[0] - 0.5 * v[0] * v[1], k[1] - 2.0 * v[1] + 0.3 * v[0] ** 2])


def central(f, args, k, eps=1e-6):
    """d f / d args[k] by central differences, shaped like f's value by args[k]."""
    x = np.asarray(args[k], dtype=float)
    out = np.asarray(f(*args))
    result = np.zeros(out.shape + x.shape)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        up = list(args); up[k] = (x + e) if x.ndim else float(x + e)
        down = list(args); down[k] = (x - e) if x.ndim else float(x - e)
        result[(...,) + i] = (np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * eps)
    return result


@pytest.mark.parametrize("solve", ["auto", "dense", "iterate"])
def test_deq_gradient_matches_differences_of_the_solution(solve):
    def loss(W, U, b, x):
        z = s2sad.fixed_point(layer, np.zeros(5), W, U, b, x, tol=1e-13, solve=solve)
        return np.sum(z ** 2) + np.sum(np.sin(z))

    gW, gU, gb = s2sad.grad(loss, wrt=(0, 1, 2))(W, U, B, X)
    for got, k in ((gW, 0), (gU, 1), (gb, 2)):
        assert got.shape == (W, U, B)[k].shape and got.dtype == np.float64
        np.testing.assert_allclose(got, central(loss, (W, U, B, X), k), atol=1e-7)


@pytest.mark.parametrize("solve", ["dense", "iterate"])
def test_deq_tangent_matches_differences(solve):
    def solution(W, b):
        return s2sad.fixed_point(layer, np.zeros(5), W, U, b, X, tol=1e-13, solve=solve)

    dW, db = RNG.standard_normal(W.shape), RNG.standard_normal(B.shape)
    value, tangent = s2sad.jvp(solution, wrt=(0, 1))(W, B, (dW, db))
    eps = 1e-6
    expected = (solution(W + eps * dW, B + eps * db) -
                solution(W - eps * dW, B - eps * db)) / (2 * eps)
    np.testing.assert_allclose(value, solution(W, B))
    np.testing.assert_allclose(tangent, expected, atol=1e-8)


def test_large_solution_iterates_the_multipliers():
    n = 150  # lam = dz + vjp(lam), iterated (it converges in fewer steps than n)
    A = 0.5 * RNG.standard_normal((n, n)) / np.sqrt(n)
    c = RNG.standard_normal(n)

    def lin(x, A, c):
        return A @ x + c

    def loss(c):
        x = s2sad.fixed_point(lin, np.zeros(n), A, c, tol=1e-13)
        return np.sum(x ** 2)

    x = np.linalg.solve(np.eye(n) - A, c)
    expected = np.linalg.solve((np.eye(n) - A).T, 2 * x)  # (I - A)^-T dx
    np.testing.assert_allclose(s2sad.grad(loss)(c), expected, rtol=1e-8)
    source = s2sad.grad(loss).source
    assert "vjp = vjp_lin_x_at(x, A, c)" in source and "lam_next = dx + vjp(lam)" in source


def test_scalar_fixed_point_and_its_closed_form():
    def sqrt_by_heron(a):
        return s2sad.fixed_point(square_root_step, 1.0, a, tol=1e-14)

    for a in (0.5, 2.0, 9.0):
        assert s2sad.grad(sqrt_by_heron)(a) == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
        _, t = s2sad.jvp(sqrt_by_heron)(a, 1.0)
        assert t == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
    g = s2sad.grad(sqrt_by_heron)
    g(2.0)  # (compiled for a number: the derivative divides by the slope)
    source = g.source
    assert "return dx / nonsingular(1 - dsquare_root_step_dx)" in source


def test_root_by_newton_scalar_and_system():
    def cube_root_like(a, c):
        return s2sad.root(gap, 1.0, a, c)

    a, c = 2.0, 5.0
    x = cube_root_like(a, c)
    assert gap(x, a, c) == pytest.approx(0.0, abs=1e-10)
    ga, gc = s2sad.grad(cube_root_like, wrt=(0, 1))(a, c)
    slope = 3 * x ** 2 + a  # x' = -F_theta / F_x
    assert ga == pytest.approx(-x / slope, rel=1e-9)
    assert gc == pytest.approx(1 / slope, rel=1e-9)

    def steady(k):
        v = s2sad.root(system, np.ones(2), k)
        return v[0] * v[1] + v[1] ** 2

    k = np.array([1.5, 1.0])
    np.testing.assert_allclose(s2sad.grad(steady)(k), central(steady, (k,), 0), atol=1e-7)
    value, tangent = s2sad.jvp(lambda k: s2sad.root(system, np.ones(2), k))(k, np.ones(2))
    np.testing.assert_allclose(np.sum(central(lambda k: s2sad.root(system, np.ones(2), k),
                                              (k,), 0), axis=1), tangent, atol=1e-7)


def test_matrix_shaped_solution():
    def loss(M):
        X = s2sad.fixed_point(lambda X, M: 0.5 * np.tanh(X @ M) + M, np.zeros((2, 2)), M,
                              tol=1e-13)
        return np.sum(X * X)

    M = np.array([[0.3, -0.2], [0.1, 0.4]])
    g = s2sad.grad(loss)(M)
    assert g.shape == (2, 2)
    np.testing.assert_allclose(g, central(loss, (M,), 0), atol=1e-7)


def test_lambdas_and_nested_defs_close_over_the_differentiated_values():
    def inline(th):
        return s2sad.fixed_point(lambda x, t: np.cos(t * x), 0.5, th, tol=1e-14)

    def closure(th):
        g = lambda x: np.cos(th * x)  # noqa: E731
        return s2sad.fixed_point(g, 0.5, tol=1e-14)

    def nested(th):
        def g(x):
            return np.cos(th * x)
        return s2sad.fixed_point(g, 0.5, tol=1e-14)

    th = 0.7
    x = inline(th)
    expected = -np.sin(th * x) * x / (1 + th * np.sin(th * x))
    for f in (inline, closure, nested):
        assert s2sad.grad(f)(th) == pytest.approx(expected, rel=1e-10)


def test_marked_hand_written_loop_is_differentiated_implicitly():
    def small(z, W, b):
        return np.tanh(W @ z + b)

    @s2sad.fixed_point_of(small)
    def equilibrium(z0, W, b):
        z = z0
        while True:
            z_new = np.tanh(W @ z + b)
            if np.max(np.abs(z_new - z)) < 1e-14:
                return z_new
            z = z_new

    def loss(W, b):
        return np.sum(np.sin(equilibrium(np.zeros(5), W, b)))

    g = s2sad.grad(loss, wrt=(0, 1))
    gW, gb = g(W, B)
    np.testing.assert_allclose(gW, central(loss, (W, B), 0), atol=1e-7)
    np.testing.assert_allclose(gb, central(loss, (W, B), 1), atol=1e-7)
    assert "solver=equilibrium" in g.source and "stored:        nothing" in g.source


def test_unmarked_loop_keeps_the_unrolled_derivative():
    def unrolled(th):
        x = 0.5
        for _ in range(4):
            x = np.cos(th * x)
        return x

    source = s2sad.grad(unrolled).source
    assert "Seed 002" not in source and "#   implicit:" not in source and "tape" in source


def test_the_solution_does_not_depend_on_the_start():
    def loss(x0, a):
        return s2sad.fixed_point(square_root_step, x0, a, tol=1e-14)

    g0, ga = s2sad.grad(loss, wrt=(0, 1))(3.0, 4.0)
    assert g0 == 0.0 and ga == pytest.approx(0.25, rel=1e-10)


def test_source_reads_as_seed_002s_multiplier_equation():
    def loss(W, b):
        z = s2sad.fixed_point(layer, np.zeros(5), W, U, b, X)
        return np.sum(z ** 2)

    g = s2sad.grad(loss, wrt=(0, 1))
    g(W, B)
    source = g.source
    assert "#   implicit:      z = fixed_point(layer, ...): multipliers by layer_multiplier" \
        in source
    assert "lam = layer_multiplier(dz, z, W, U, b, X)" in source
    assert "Seed 002: z = layer(z, W, U, b, x) is a cyclic constraint" in source
    assert "(I - ∂layer/∂z)ᵀ lam = dz" in source
    assert "vjp = vjp_layer_z_at(z, W, U, b, x)" in source
    assert "lam_next = dz + vjp(lam)" in source
    assert "def vjp_layer_z_at(" in source and "def vjp_layer_W_b(" in source
    assert "dz = W.T @ da" in source  # the vjp of g in the lecture's notation
    assert "tape" not in source  # nothing of the forward iterations is stored


def test_convergence_failure_reports_the_residual():
    with pytest.raises(s2sad.ConvergenceError) as info:
        s2sad.fixed_point(lambda x: 2.0 * x + 1.0, 0.0, max_iter=20)
    assert info.value.iterations == 20 and info.value.residual > 1.0
    assert "did not converge: after 20 iterations" in str(info.value)

    def loss(a):
        return s2sad.fixed_point(square_root_step, 1.0, a, max_iter=2)

    with pytest.raises(s2sad.ConvergenceError, match="did not converge"):
        s2sad.grad(loss)(4.0)

    def no_root(c):
        return s2sad.root(lambda x, c: x * x + c, 1.0, c, max_iter=30)

    with pytest.raises(s2sad.ConvergenceError) as info:
        no_root(1.0)
    assert info.value.residual >= 1.0 - 1e-9


def test_marked_solver_that_stops_early_is_refused():
    def half(x, a):
        return 0.5 * x + a

    @s2sad.fixed_point_of(half)
    def sloppy(x0, a):
        x = x0
        for _ in range(3):
            x = 0.5 * x + a
        return x

    with pytest.raises(s2sad.ConvergenceError, match="not a fixed point of half"):
        s2sad.grad(lambda a: sloppy(0.0, a))(1.0)


def test_singular_equation_is_refused():
    def loss(c):
        return s2sad.root(lambda x, c: (x - c) ** 3, 0.0, c, solver=exact_root)

    with pytest.raises(s2sad.S2SADError, match="singular"):
        s2sad.grad(loss)(0.0)


def exact_root(F, x0, c):
    return c


def test_callers_arrays_are_not_written():
    z0 = np.zeros(5)
    kept = (z0.copy(), W.copy(), B.copy())

    def loss(W, b, z0):
        return np.sum(s2sad.fixed_point(layer, z0, W, U, b, X))

    s2sad.grad(loss, wrt=(0, 1))(W, B, z0)
    s2sad.jvp(loss, wrt=0)(W, B, z0, np.ones_like(W))
    for before, after in zip(kept, (z0, W, B)):
        np.testing.assert_array_equal(before, after)


def test_check_grad_compares_with_differences_of_the_solution():
    def loss(W, b):
        return np.sum(s2sad.fixed_point(layer, np.zeros(5), W, U, b, X, tol=1e-13) ** 2)

    assert s2sad.check_grad(loss, W, B)


@pytest.mark.parametrize("text, message", [
    ("s2sad.fixed_point(3.0, x, a)", "must be a def or a lambda"),
    ("s2sad.fixed_point(step, x, a, tol=a)", "tol= must be known when the code is compiled"),
    ("s2sad.fixed_point(step, x, a, damping=0.5)", "has no keyword 'damping'"),
    ("s2sad.fixed_point(step, x, a, solve='newton')", "solve must be one of"),
    ("s2sad.fixed_point(step)", "each written out"),
    ("s2sad.fixed_point(lambda x, a=1.0: x * a, x, a)", "plain parameters"),
    ("s2sad.fixed_point(step, d, a)", "starting point of an implicit solve is a structure"),
    ("s2sad.fixed_point(step, x, Holder(a))", "an object is passed to an implicit solve"),
    ("s2sad.fixed_point(lambda x: half(x) + a, x)",
     "reads 'half', a function of the enclosing function"),
    ("s2sad.fixed_point(Holder(a).step, x, a)", "a method of an argument is not one"),
    ("by_hand(x, a, sweeps=3)", "is called with the starting point and the parameters"),
])
def test_refusals_point_at_the_call(tmp_path, text, message):
    module = tmp_path / "user_solves.py"
    source = (
        "import numpy as np\nimport s2sad\n\n\ndef step(x, a):\n    return 0.5 * x + a\n\n\n"
        "class Holder:\n    def __init__(self, a):\n        self.a = a\n\n"
        "    def step(self, x, a):\n        return 0.5 * x + a * self.a\n\n\n"
        "@s2sad.fixed_point_of(step)\ndef by_hand(x, a, sweeps=100):\n"
        "    for _ in range(sweeps):\n        x = step(x, a)\n    return x\n\n\n"
        f"def f(x, a):\n    args = (a,)\n    d = {{'a': a}}\n    half = lambda t: 0.5 * t\n"
        f"    return {text}\n")
    module.write_text(source)
    import importlib.util
    spec = importlib.util.spec_from_file_location("user_solves", module)
    user = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user)
    with pytest.raises(s2sad.S2SADError, match=message) as info:
        s2sad.grad(user.f, wrt=1)(0.0, 0.5)
    line = source.splitlines().index(f"    return {text}") + 1
    assert info.value.location.line == line and info.value.location.filename == str(module)
    assert "^" in str(info.value) and "hint:" in str(info.value)


def test_a_companion_is_not_differentiated_as_user_code():
    def loss(W, b):
        return np.sum(s2sad.fixed_point(layer, np.zeros(5), W, U, b, X) ** 2)

    g = s2sad.grad(loss, wrt=(0, 1))
    g(W, B)
    multiplier = g.compiled.function.__globals__["layer_multiplier"]

    def misuse(dz):
        return np.sum(multiplier(dz, np.zeros(5), W, U, B, X))

    with pytest.raises(s2sad.S2SADError, match="code s2sad generated for an implicit solve"):
        s2sad.grad(misuse)(np.ones(5))


def test_newton_from_a_zero_slope_says_so():
    with pytest.raises(s2sad.ConvergenceError, match="cannot move from x = 0: ∂F/∂x is "
                                                     "singular there") as info:
        s2sad.root(lambda x, a: x ** 3 - a, 0.0, 2.0)
    assert info.value.residual == 2.0 and "brentq(F, lo, hi, args=p)" in str(info.value)


def test_second_order_through_a_linear_fixed_point_is_exact():
    A = 0.3 * RNG.standard_normal((3, 3))

    def loss(c):
        return np.sum(s2sad.fixed_point(lambda x, c: A @ x + c, np.zeros(3), c,
                                        tol=1e-14) ** 3)

    c = RNG.standard_normal(3)
    M = np.linalg.inv(np.eye(3) - A)  # x = M c, the loss's Hessian M.T diag(6x) M
    expected = M.T @ np.diag(6 * (M @ c)) @ M
    np.testing.assert_allclose(s2sad.hessian(loss)(c), expected, rtol=1e-9)
    v = RNG.standard_normal(3)
    np.testing.assert_allclose(s2sad.hvp(loss)(c, v), expected @ v, rtol=1e-9)


def test_second_order_through_nonlinear_solves_matches_differences_of_the_gradient():
    def small(z, W, b):
        return np.tanh(W @ z + b)

    def deq(b):
        return np.sum(s2sad.fixed_point(small, np.zeros(5), W, b, tol=1e-14) ** 3)

    def cube(a, c):
        return s2sad.root(gap, 1.0, a, c) ** 2

    for f, args in ((deq, (B,)), (cube, (2.0, 5.0))):
        wrt = tuple(range(len(args)))
        H = np.array(s2sad.hessian(f, wrt=wrt if len(wrt) > 1 else 0)(*args))
        g = s2sad.grad(f, wrt=wrt if len(wrt) > 1 else 0)
        flat = lambda *a: np.hstack([np.ravel(t) for t in np.atleast_1d(g(*a))])  # noqa
        if len(args) == 1:
            expected = central(lambda b: g(b), args, 0, eps=1e-5)
        else:
            expected = np.stack([central(flat, args, k, eps=1e-5) for k in wrt], axis=1)
        np.testing.assert_allclose(H.reshape(expected.shape), expected, atol=1e-7)


def test_solvers_run_as_plain_functions():
    assert s2sad.fixed_point(square_root_step, 1.0, 2.0) == pytest.approx(np.sqrt(2))
    assert isinstance(s2sad.fixed_point(square_root_step, 1, 2.0), float)
    assert gap(s2sad.root(gap, 1.0, 2.0, 5.0), 2.0, 5.0) == pytest.approx(0.0, abs=1e-12)
    v = s2sad.root(system, np.ones(2), np.array([1.5, 1.0]))
    np.testing.assert_allclose(system(v, np.array([1.5, 1.0])), 0.0, atol=1e-10)
    with pytest.raises(s2sad.ArgumentError, match="returned shape"):
        s2sad.fixed_point(lambda x: np.zeros(3), np.zeros(2))
    with pytest.raises(s2sad.ArgumentError, match="max_iter"):
        s2sad.fixed_point(square_root_step, 1.0, 2.0, max_iter=0)
    assert implicit.converged(np.array([1.0, np.nan]), np.array([1.0, np.nan]), 1.0) is False


def dict_layer(z, p, x):
    return np.tanh(p["W"] @ z + p["b"] + x)


def test_dicts_lists_and_tuples_of_parameters():
    def with_dict(p, x):
        return np.sum(s2sad.fixed_point(dict_layer, np.zeros(5), p, x, tol=1e-14) ** 2)

    def closing_over_a_dict(p, x):
        z = s2sad.fixed_point(lambda z: np.tanh(p["W"] @ z + p["b"] + x), np.zeros(5),
                              tol=1e-14)
        return np.sum(z ** 2)

    def with_layers(layers, x):
        W, b = layers[0]
        z = s2sad.fixed_point(lambda z, Wb: np.tanh(Wb[0] @ z + Wb[1] + x), np.zeros(5),
                              (W, b), tol=1e-14)
        return np.sum(z ** 2)

    p = {"W": W, "b": B}
    x = U @ X
    expected = s2sad.grad(with_dict)(p, x)
    assert set(expected) == {"W", "b"}
    for k, name in enumerate(("W", "b")):
        def along(v, name=name):
            return with_dict({**p, name: v}, x)
        np.testing.assert_allclose(expected[name], central(along, (p[name],), 0), atol=1e-7)
    got = s2sad.grad(closing_over_a_dict)(p, x)
    np.testing.assert_allclose(got["W"], expected["W"], atol=1e-12)
    (gW, gb), = s2sad.grad(with_layers)([(W, B)], x)
    np.testing.assert_allclose(gW, expected["W"], atol=1e-12)
    np.testing.assert_allclose(gb, expected["b"], atol=1e-12)
    g = s2sad.grad(with_dict)
    g(p, x)
    assert "dp_W, dp_b = vjp_dict_layer_p_W_p_b(" in g.source


@dataclasses.dataclass
class Equilibrium:
    """A model whose method solves with a lambda reading its fields (self.W, self.b)."""

    W: np.ndarray
    b: np.ndarray

    def loss(self, x):
        z = s2sad.fixed_point(lambda z: np.tanh(self.W @ z + self.b + x), np.zeros(5),
                              tol=1e-14)
        return np.sum(z ** 2)


def model_loss(model, x):
    return model.loss(x)


def test_a_lambda_reading_fields_of_self():
    model, x = Equilibrium(W, B), U @ X
    g = s2sad.grad(model_loss)(model, x)
    assert isinstance(g, Equilibrium)
    np.testing.assert_allclose(
        g.W, central(lambda W: model_loss(Equilibrium(W, B), x), (W,), 0), atol=1e-7)
    np.testing.assert_allclose(s2sad.grad(model.loss)(x),
                               central(model.loss, (x,), 0), atol=1e-7)


@pytest.mark.parametrize("call, message", [
    (lambda: s2sad.fixed_point(square_root_step, 1.0, 2.0, tol=-1.0),
     "tol must be a positive number"),
    (lambda: s2sad.fixed_point(square_root_step, 1.0, 2.0, max_iter=2.5),
     "max_iter must be a positive int"),
    (lambda: s2sad.fixed_point(square_root_step, "1.0", 2.0), "x0 must be a float"),
    (lambda: s2sad.fixed_point(3.0, 1.0), "first argument must be a function"),
    (lambda: s2sad.fixed_point_of(square_root_step)(3.0), "marks a function"),
    (lambda: s2sad.root(gap, 1.0, 2.0, 5.0, solve="iterate"),
     "multipliers are found by a dense solve only"),
    (lambda: s2sad.root(gap, 1.0, 2.0, 5.0, solver=lambda F, x0, a, c: x0),
     "stopped at a point that is not a root"),
])
def test_plain_calls_refuse_with_a_hint(call, message):
    with pytest.raises(s2sad.S2SADError, match=message) as info:
        call()
    assert info.value.hint
