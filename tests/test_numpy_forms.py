"""NumPy's remaining forms (issue 18, item 4), in the programs people write with them:
a finite-difference PDE residual through np.gradient (spacings, coordinates, axis,
edge_order), torques through np.cross along axis 0, a piecewise function through
np.select, features built with np.r_ / np.c_ / np.append, np.repeat with zero repeats,
np.linalg.norm of a list, and vjp / jacobian of functions returning a tuple or a list.

Each program is checked in both modes and to second order against central differences,
and against autograd where autograd has the function; the refusals name the line.
"""
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

RNG = np.random.default_rng(18)


def _check(f, args, wrt=0, oracle=None, hessian=True):
    """grad, jvp and hessian (or hvp) of f against central differences; the gradient
    against autograd's of `oracle` (the same program written with autograd.numpy)."""
    positions = (wrt,) if isinstance(wrt, int) else wrt
    grads = s2sad.grad(f, wrt=wrt)(*args)
    grads = (grads,) if isinstance(wrt, int) else grads
    expected = [numeric_grad(f, list(args), k) for k in positions]
    for k, got, want in zip(positions, grads, expected):
        assert type(got) is type(args[k]) and np.shape(got) == np.shape(args[k])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        if oracle is not None:
            np.testing.assert_allclose(got, autograd.grad(oracle, k)(*args), rtol=1e-10,
                                       atol=1e-12)
    directions = tuple(RNG.normal(size=np.shape(args[k])) for k in positions)
    _, derivative = s2sad.jvp(f, wrt=wrt)(*args, directions[0] if isinstance(wrt, int)
                                          else directions)
    np.testing.assert_allclose(derivative, sum(np.sum(g * v) for g, v in
                                               zip(expected, directions)),
                               rtol=1e-6, atol=1e-8)
    if hessian:
        _check_second_order(f, args, positions[0])


def _check_second_order(f, args, k, eps=1e-5):
    """hessian (hvp for a large input) against central differences of the gradient."""
    df = s2sad.grad(f, wrt=k)

    def moved(step):
        shifted = list(args)
        shifted[k] = args[k] + step
        return df(*shifted)

    x = np.asarray(args[k], dtype=float)
    if x.size <= 12:
        units = np.eye(x.size).reshape((x.size,) + x.shape)
        want = np.stack([(moved(eps * e) - moved(-eps * e)) / (2 * eps) for e in units], -1)
        got = s2sad.hessian(f, wrt=k)(*args)
        np.testing.assert_allclose(got, want.reshape(x.shape + x.shape), rtol=1e-5,
                                   atol=1e-6)
        return
    v = RNG.normal(size=x.shape)
    got = s2sad.hvp(f, wrt=k)(*args, v)
    np.testing.assert_allclose(got, (moved(eps * v) - moved(-eps * v)) / (2 * eps),
                               rtol=1e-5, atol=1e-6)


def _refused_at(info, line, text):
    """A refusal naming this file's line, with its source line and a caret."""
    message = str(info.value)
    assert f"test_numpy_forms.py:{line}:" in message, message
    assert text in message and "^" in message, message


# -- a finite-difference PDE residual: np.gradient -----------------------------------------

DX, DY = 0.1, 0.2
SOURCE = np.cos(np.arange(30.0).reshape(5, 6) / 7)
X_NODES = np.array([0.0, 0.1, 0.25, 0.45, 0.7])  # non-uniform coordinates
Y_NODES = np.linspace(0.0, 1.0, 6)
U = np.sin(np.arange(30.0).reshape(5, 6) / 4) + 0.1 * RNG.normal(size=(5, 6))


def poisson_residual(u):
    """0.5 |u_xx + u_yy - s|^2, the second derivatives by np.gradient twice."""
    u_x = np.gradient(u, DX, axis=0)
    u_y = np.gradient(u, DY, axis=1)
    laplacian = np.gradient(u_x, DX, axis=0) + np.gradient(u_y, DY, axis=1)
    return 0.5 * np.sum((laplacian - SOURCE) ** 2)


def advection_residual(u, c):
    """Steady advection on non-uniform nodes (second-order edges), the pair np.gradient
    returns unpacked, plus a smoothing term through a tuple of axes."""
    u_x, u_y = np.gradient(u, X_NODES, Y_NODES, edge_order=2)
    flux = c[0] * u_x + c[1] * u_y - np.tanh(u)
    smooth = np.gradient(u, axis=(0, 1))
    return np.sum(flux ** 2) + 0.1 * np.sum(smooth[1] ** 2)


def heat_flux(temperature, conductivity):
    """-k dT/dx along a rod with unit spacing and edge_order=1, its default spelling."""
    flux = -conductivity * np.gradient(temperature)
    return np.sum(flux ** 2 * np.linspace(1.0, 2.0, temperature.shape[0]))


def test_poisson_residual_in_both_modes_and_to_second_order():
    _check(poisson_residual, (U,))


def test_poisson_residual_hessian_is_the_operator_squared():
    """The residual is quadratic: its Hessian is A^T A for A the Laplacian's matrix."""
    operator = np.stack([np.ravel(np.gradient(np.gradient(e, DX, axis=0), DX, axis=0) +
                                  np.gradient(np.gradient(e, DY, axis=1), DY, axis=1))
                         for e in np.eye(30).reshape(30, 5, 6)], axis=1)
    hessian = s2sad.hessian(poisson_residual)(U)
    np.testing.assert_allclose(hessian.reshape(30, 30), operator.T @ operator, rtol=1e-9,
                               atol=1e-6)


def test_advection_residual_in_both_modes_and_to_second_order():
    c = np.array([0.7, -1.3])
    _check(advection_residual, (U, c), wrt=(0, 1))
    _check_second_order(advection_residual, (U, c), 1)


def test_heat_flux_in_both_modes_and_to_second_order():
    _check(heat_flux, (U[0], 0.8), wrt=(0, 1))
    _check_second_order(heat_flux, (U[0], 0.8), 1)


def test_gradient_keeps_float32():
    u = U.astype(np.float32)
    du = s2sad.grad(poisson_residual)(u)
    assert du.dtype == np.float32


def spacing_from_input(u, h):
    return np.sum(np.gradient(u, h) ** 2)


def test_a_spacing_that_depends_on_the_inputs_is_refused_in_both_modes():
    """A spacing is a constant of the rule: differentiated, it is refused (not a zero)."""
    with pytest.raises(s2sad.S2SADError, match="np.gradient with a spacing that depends"):
        s2sad.grad(spacing_from_input, wrt=1)(U[0], 0.3)
    with pytest.raises(s2sad.S2SADError, match="treats 'varargs' as a constant") as info:
        s2sad.jvp(spacing_from_input, wrt=(0, 1))(U[0], 0.3, (np.ones(6), 1.0))
    _refused_at(info, spacing_from_input.__code__.co_firstlineno + 1, "np.gradient(u, h)")
    # the spacing's own gradient not asked for: the gradient in u is right
    _check(spacing_from_input, (U[0], 0.3), wrt=0)


# -- torques: np.cross along axis 0 ------------------------------------------------------

R = RNG.normal(size=(3, 4))
FORCE = RNG.normal(size=(3, 4))
VELOCITY = RNG.normal(size=(4, 3))


def torque_energy(r, force):
    """Torques r x F of forces F (3, n) at positions r (3, n), vectors along axis 0."""
    torque = np.cross(r, force, axis=0)
    return 0.5 * np.sum(torque ** 2) + np.sum(np.sin(torque[2]))


def torque_energy_autograd(r, force):
    torque = anp.cross(r, force, axis=0)
    return 0.5 * anp.sum(torque ** 2) + anp.sum(anp.sin(torque[2]))


def angular_momentum(r, v):
    """L = r x v of positions (3, n) and velocities (n, 3), L along axis 0."""
    momentum = np.cross(r, v, axisa=0, axisb=1, axisc=0)
    return np.sum(momentum * np.arange(4.0)) + np.sum(momentum ** 2)


def angular_momentum_autograd(r, v):
    momentum = anp.cross(r, v, axisa=0, axisb=1, axisc=0)
    return anp.sum(momentum * anp.arange(4.0)) + anp.sum(momentum ** 2)


def test_torque_in_both_modes_to_second_order_and_against_autograd():
    _check(torque_energy, (R, FORCE), wrt=(0, 1), oracle=torque_energy_autograd)
    _check_second_order(torque_energy, (R, FORCE), 1)


def test_angular_momentum_with_axisa_axisb_axisc():
    _check(angular_momentum, (R, VELOCITY), wrt=(0, 1), oracle=angular_momentum_autograd)
    _check_second_order(angular_momentum, (R, VELOCITY), 1)


def planar_moment(a, b):
    """2-vectors (deprecated in NumPy 2, still computed): the z of their cross product."""
    return np.sum(np.cross(a, b) ** 2)


def test_cross_of_2_vectors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _check(planar_moment, (R[:2].T, FORCE[:2].T), wrt=(0, 1))


# -- a piecewise function: np.select -----------------------------------------------------

X = np.array([-2.3, -1.4, -0.6, 0.2, 0.9, 1.7, 2.6])


def huber_like(x):
    """A smooth piecewise function: linear, quadratic, linear."""
    return np.sum(np.select([x < -1.0, x < 1.0], [-2.0 * x - 1.0, x ** 2],
                            default=2.0 * x - 1.0) * np.linspace(1.0, 2.0, 7))


def huber_like_autograd(x):
    return anp.sum(anp.where(x < -1.0, -2.0 * x - 1.0, anp.where(x < 1.0, x ** 2,
                                                                  2.0 * x - 1.0))
                   * anp.linspace(1.0, 2.0, 7))


def regimes(x, level):
    """Conditions and choices held in names first, a number among the choices, the
    default by position; the first condition that holds wins (x > 0 and x > 1 overlap)."""
    conditions = [x > 1.0, x > 0.0]
    choices = [np.exp(-x) * level, level]
    return np.sum(np.select(conditions, choices, np.sin(x)) ** 2)


def regimes_autograd(x, level):
    # (autograd's np.where does not sum a number's gradient over the array: level is
    # broadcast first)
    return anp.sum(anp.where(x > 1.0, anp.exp(-x) * level,
                             anp.where(x > 0.0, level * anp.ones(7), anp.sin(x))) ** 2)


def test_piecewise_select_in_both_modes_to_second_order_and_against_autograd():
    _check(huber_like, (X,), oracle=huber_like_autograd)


def test_select_with_held_lists_and_a_number_among_the_choices():
    _check(regimes, (X, 0.8), wrt=(0, 1), oracle=regimes_autograd)
    _check_second_order(regimes, (X, 0.8), 1)


def select_without_default(x):
    return np.sum(np.select(condlist=[x > 0.5], choicelist=[x ** 3]))


def test_select_without_default_is_zero_elsewhere():
    _check(select_without_default, (X,))
    np.testing.assert_array_equal(s2sad.grad(select_without_default)(X)[X <= 0.5], 0.0)


# -- features: np.r_, np.c_, np.append ---------------------------------------------------

XS = np.array([0.1, 0.4, 0.5, 0.9, 1.3])
YS = np.array([1.0, 1.2, 1.1, 1.6, 2.4])


def polynomial_regression(w, x, y):
    """A design matrix [1, x, x^2] built with np.c_."""
    design = np.c_[np.ones(x.shape[0]), x, x ** 2]
    return np.mean((design @ w - y) ** 2)


def polynomial_regression_autograd(w, x, y):
    design = anp.c_[anp.ones(x.shape[0]), x, x ** 2]
    return anp.mean((anp.dot(design, w) - y) ** 2)


def packed(w, b):
    """Parameters packed with np.r_ (a number, an array, constant ranges) and with
    np.append, read back by slices."""
    theta = np.r_[w, b, 0:2, 0.0:1.0:3j]
    extended = np.append(theta, w * b)
    return np.sum(np.tanh(extended) * np.arange(extended.shape[0]))


def packed_autograd(w, b):
    theta = anp.r_[w, b, 0:2, 0.0:1.0:3j]
    extended = anp.append(theta, w * b)
    return anp.sum(anp.tanh(extended) * anp.arange(extended.shape[0]))


def columns_and_rows(a):
    """np.c_ of a matrix and a column, np.r_ along axis 1 ('1'), np.r_ of matrices."""
    wide = np.c_[a, a[:, 0] ** 2]
    joined = np.r_['1', a, np.sin(a)]
    stacked = np.r_[a, 2.0 * a]
    return np.sum(wide ** 2) + np.sum(joined * np.arange(6.0)) + np.sum(stacked[3])


def test_polynomial_regression_through_c_():
    w = np.array([0.5, -0.2, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (autograd: "c_ is slow")
        _check(polynomial_regression, (w, XS, YS), wrt=(0, 1),
               oracle=polynomial_regression_autograd)
    _check_second_order(polynomial_regression, (w, XS, YS), 1)


def test_packed_parameters_through_r_and_append():
    w = np.array([0.3, -0.7, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _check(packed, (w, 0.6), wrt=(0, 1), oracle=packed_autograd)
    _check_second_order(packed, (w, 0.6), 1)


def test_c_and_r_of_matrices_and_an_axis_string():
    _check(columns_and_rows, (R[:, :3],))


def test_r_and_c_values_are_numpys():
    """The lowering computes what NumPy's index tricks compute (values and shapes)."""
    w = np.array([0.3, -0.7, 0.2])
    value, _ = s2sad.vjp(packed)(w, 0.6)
    assert value == pytest.approx(packed(w, 0.6), rel=1e-15)
    value, _ = s2sad.vjp(columns_and_rows)(R[:, :3])
    assert value == pytest.approx(columns_and_rows(R[:, :3]), rel=1e-15)


@pytest.mark.parametrize("body, shapes", [
    ("np.r_[a, 2.0, b, 0:2] * np.arange(6.0)", [(), (2,)]),
    ("np.r_[a, b * a, 1:7:2] * np.arange(9.0)", [(3,), (3,)]),
    ("np.r_[a, b] * np.arange(3.0)", [(2, 3), (1, 3)]),
    ("np.r_['-1', a, b] * np.arange(5.0)", [(2, 3), (2, 2)]),
    ("np.c_[a, b, np.ones(3)] * np.arange(4.0)", [(3, 2), (3,)]),
    ("np.c_[a, b] * np.arange(2.0)", [(), ()]),
    ("np.c_[a, b] * np.arange(4.0)", [(2, 2, 2), (2, 2, 2)]),
    ("np.select([a > 0, b > 0.5], [a * b, np.sin(a)], default=b)", [(2, 3), (3,)]),
    ("np.select([a > b], [a], b)", [(3, 1), (1, 4)]),
    ("np.select(condlist=[b < 0], choicelist=[a ** 2])", [(), (2, 3)]),
])
def test_index_tricks_and_select_given_as_source_text(body, shapes):
    """grad_source reads them too (the desugar stage lowers them for source text)."""
    text = f"def f(a, b):\n    return np.sum(np.sin({body}))\n"
    namespace = {"np": np}
    exec(text, namespace)
    args = [RNG.uniform(-2.0, 2.0, size=s) if s else float(RNG.uniform(-2.0, 2.0))
            for s in shapes]
    grads = s2sad.grad_source(text, "f", wrt=(0, 1))(*args)
    for k, (got, arg) in enumerate(zip(grads, args)):
        assert type(got) is type(arg) and np.shape(got) == np.shape(arg)
        np.testing.assert_allclose(got, numeric_grad(namespace["f"], args, k), rtol=1e-6,
                                   atol=1e-8)


def r_directive(a):
    return np.sum(np.r_['0,2', a, a])


def c_directive(a):
    return np.sum(np.c_['r', a, a])


def r_run_time_slice(a, n):
    return np.sum(np.r_[a, 0:n])


def test_index_trick_forms_not_read_are_refused_at_their_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="directive string") as info:
        s2sad.grad(r_directive)(XS)
    _refused_at(info, r_directive.__code__.co_firstlineno + 1, "np.r_['0,2', a, a]")
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="directive string") as info:
        s2sad.grad(c_directive)(XS)
    _refused_at(info, c_directive.__code__.co_firstlineno + 1, "np.c_['r', a, a]")
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="computed at run time") as info:
        s2sad.grad(r_run_time_slice)(XS, 3)
    _refused_at(info, r_run_time_slice.__code__.co_firstlineno + 1, "np.r_[a, 0:n]")


# -- np.repeat with zero repeats; np.linalg.norm of a list ------------------------------

def repeated_features(x):
    """Some entries repeated, some dropped (a repeat of 0), by an array of repeats."""
    counts = np.array([2, 0, 1, 3, 0, 1, 1])
    return np.sum(np.sin(np.repeat(x, counts)) * np.arange(8.0)) + \
        np.sum(np.repeat(x, 0)) + np.sum(np.repeat(x.reshape(7, 1), [3], axis=1) ** 2)


def test_repeat_with_zero_repeats():
    """(autograd's np.repeat takes one int of repeats: the gradient is written out)"""
    _check(repeated_features, (X,))
    counts = np.array([2, 0, 1, 3, 0, 1, 1])
    want = 6.0 * X
    np.add.at(want, np.repeat(np.arange(7), counts),
              np.cos(np.repeat(X, counts)) * np.arange(8.0))
    np.testing.assert_allclose(s2sad.grad(repeated_features)(X), want, rtol=1e-14)
    assert want[1] == 6.0 * X[1] and want[4] == 6.0 * X[4]  # (the dropped entries)


def distance(a, b):
    """The length of a vector written as a list of its coordinates."""
    return np.linalg.norm([a[0] - b[0], a[1] - b[1], 2.0 * a[2]])


def distance_autograd(a, b):
    return anp.linalg.norm(anp.array([a[0] - b[0], a[1] - b[1], 2.0 * a[2]]))


def test_norm_of_a_list():
    _check(distance, (R[:, 0], R[:, 1]), wrt=(0, 1), oracle=distance_autograd)
    _check_second_order(distance, (R[:, 0], R[:, 1]), 1)


# -- vjp and jacobian of a function returning a tuple or a list --------------------------

def state_and_energy(x, w):
    """A tuple: an array and a number."""
    state = np.tanh(w @ x)
    return state, np.sum(state ** 2) + x[0] * w[1, 2]


def moments(x):
    """A list of arrays of different shapes."""
    return [np.outer(x, x), np.cumsum(x) ** 2, np.mean(x)]


W = RNG.normal(size=(2, 3))
V = np.array([0.3, -0.6, 0.9])


def _autograd_jacobian(f, args, out, k):
    return autograd.jacobian(lambda *a: f(*a)[out], k)(*args)


def state_and_energy_autograd(x, w):
    state = anp.tanh(anp.dot(w, x))
    return state, anp.sum(state ** 2) + x[0] * w[1, 2]


def moments_autograd(x):
    return [anp.outer(x, x), anp.cumsum(x) ** 2, anp.mean(x)]


@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
def test_jacobian_of_a_tuple_is_a_tuple_of_blocks_per_argument(mode):
    """jax.jacobian's layout: the output's structure outside, a tuple over wrt inside."""
    blocks = s2sad.jacobian(state_and_energy, wrt=(0, 1), mode=mode)(V, W)
    assert type(blocks) is tuple and len(blocks) == 2
    for out in range(2):
        assert type(blocks[out]) is tuple and len(blocks[out]) == 2
        for k, arg in enumerate((V, W)):
            want = _autograd_jacobian(state_and_energy_autograd, (V, W), out, k)
            assert np.shape(blocks[out][k]) == np.shape(state_and_energy(V, W)[out]) + \
                arg.shape
            np.testing.assert_allclose(blocks[out][k], want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
def test_jacobian_of_a_list_is_a_list(mode):
    blocks = s2sad.jacobian(moments, mode=mode)(V)
    assert type(blocks) is list and len(blocks) == 3
    for out, block in enumerate(blocks):
        np.testing.assert_allclose(block, _autograd_jacobian(moments_autograd, (V,), out, 0),
                                   rtol=1e-10, atol=1e-12)
    assert np.shape(blocks[0]) == (3, 3, 3) and np.shape(blocks[2]) == (3,)


def test_vjp_of_a_tuple_takes_a_cotangent_of_its_structure():
    value, pullback = s2sad.vjp(state_and_energy, wrt=(0, 1))(V, W)
    assert type(value) is tuple
    np.testing.assert_allclose(value[0], np.tanh(W @ V), rtol=1e-15)
    cotangent = (np.array([0.5, -1.5]), 2.0)
    dx, dw = pullback(cotangent)
    want = [sum(np.tensordot(np.asarray(c), _autograd_jacobian(
        state_and_energy_autograd, (V, W), out, k), np.ndim(c))
        for out, c in enumerate(cotangent)) for k in range(2)]
    np.testing.assert_allclose(dx, want[0], rtol=1e-10)
    np.testing.assert_allclose(dw, want[1], rtol=1e-10)
    # the same pullback again, and one of the wrong structure refused
    np.testing.assert_allclose(pullback(cotangent)[0], want[0], rtol=1e-10)
    with pytest.raises(s2sad.ArgumentError, match="cotangent"):
        pullback([np.ones(2)])
    with pytest.raises(s2sad.ArgumentError, match="shape"):
        pullback((np.ones(3), 1.0))


def test_vjp_of_a_list_and_the_caller_arrays_unchanged():
    x = V.copy()
    value, pullback = s2sad.vjp(moments)(x)
    assert type(value) is list and len(value) == 3
    cotangent = [np.ones((3, 3)), np.arange(3.0), 0.5]
    want = sum(np.tensordot(np.asarray(c), _autograd_jacobian(moments_autograd, (V,), out, 0),
                            np.ndim(c)) for out, c in enumerate(cotangent))
    np.testing.assert_allclose(pullback(cotangent), want, rtol=1e-10)
    np.testing.assert_array_equal(x, V)
    assert cotangent[0].shape == (3, 3) and cotangent[2] == 0.5


def report(x):
    """A dict holding a nested list: any structure of arrays and numbers."""
    return {"state": np.sin(x), "extra": [x[0] * x[1], {"cos": np.cos(x)}]}


@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
def test_jacobian_and_vjp_of_a_dict_output_keep_its_structure(mode):
    blocks = s2sad.jacobian(report, mode=mode)(V)
    assert set(blocks) == {"state", "extra"} and type(blocks["extra"][1]) is dict
    np.testing.assert_allclose(blocks["state"], np.diag(np.cos(V)), rtol=1e-14)
    np.testing.assert_allclose(blocks["extra"][0], [V[1], V[0], 0.0], rtol=1e-14)
    np.testing.assert_allclose(blocks["extra"][1]["cos"], -np.diag(np.sin(V)), rtol=1e-14)
    _, pullback = s2sad.vjp(report)(V)
    cotangent = {"state": np.ones(3), "extra": [2.0, {"cos": np.arange(3.0)}]}
    np.testing.assert_allclose(pullback(cotangent), np.cos(V) + 2.0 * np.array(
        [V[1], V[0], 0.0]) - np.arange(3.0) * np.sin(V), rtol=1e-14)


def select_of_an_array(x, c):
    return np.sum(np.select(c > 0, [x, 2.0 * x]))


def test_select_of_an_array_of_conditions_is_refused_at_its_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="np.select is read with lists") \
            as info:
        s2sad.grad(select_of_an_array)(V, np.ones((2, 3)))
    _refused_at(info, select_of_an_array.__code__.co_firstlineno + 1,
                "np.select(c > 0, [x, 2.0 * x])")


def labelled(x):
    """Beside the array: a string, None and an int (constants: zero blocks, no cotangent
    needed beyond a number)."""
    return np.sin(x), "state", None, x.shape[0]


@pytest.mark.parametrize("mode", [None, "forward", "reverse"])
def test_jacobian_and_vjp_with_constants_in_the_output(mode):
    blocks = s2sad.jacobian(labelled, mode=mode)(V)
    assert blocks[1:3] == ("state", None)
    np.testing.assert_allclose(blocks[0], np.diag(np.cos(V)), rtol=1e-14)
    np.testing.assert_array_equal(blocks[3], np.zeros(3))
    value, pullback = s2sad.vjp(labelled)(V)
    assert value[1:] == ("state", None, 3)
    np.testing.assert_allclose(pullback((np.ones(3), "state", None, 0.0)), np.cos(V),
                               rtol=1e-14)


# -- a split returned: its parts a list of known length -----------------------------------

def halves_and_rest(x):
    return np.array_split(x * 2.0, [1, 3])


@pytest.mark.parametrize("fn, args", [
    (np.split, (np.arange(6.0), 3)),
    (np.array_split, (np.arange(5.0), [1, 3])),
    (np.hsplit, (np.arange(12.0).reshape(3, 4), 2)),
    (np.vsplit, (np.arange(12.0).reshape(4, 3), [1])),
    (np.dsplit, (np.arange(16.0).reshape(2, 2, 4), 2)),
    (halves_and_rest, (np.arange(5.0),)),
])
def test_vjp_and_jacobian_of_a_split_take_and_give_its_list(fn, args):
    """vjp's cotangent of a returned split is the list of its parts' cotangents (as
    JAX's); the count or indices, known at the call, decide the list's length."""
    value, pullback = s2sad.vjp(fn)(*args)
    assert isinstance(value, list)
    cotangent = [np.full_like(part, k + 1.0) for k, part in enumerate(value)]
    got = pullback(cotangent)
    want = numeric_grad(lambda x, *rest: sum(np.sum(c * p) for c, p in
                                             zip(cotangent, fn(x, *rest))), args, 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    blocks = s2sad.jacobian(fn)(*args)
    assert isinstance(blocks, list) and len(blocks) == len(value)
    for block, part in zip(blocks, value):
        assert block.shape == part.shape + args[0].shape
