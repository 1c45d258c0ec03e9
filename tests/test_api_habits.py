"""What JAX and autograd users type: `argnums=` (JAX's name for `wrt`),
`elementwise_grad` (autograd's), SciPy's `hessp=` convention, and a misspelt
keyword answered with the one meant. Checked against central differences and
autograd; JAX's documented semantics: an int gives one gradient, a tuple a tuple
(even of one)."""
import inspect
import os
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from conftest import central_difference  # noqa: I100

agrad = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")


def loss(w, b, X, y):
    return np.mean((X @ w + b - y) ** 2)


def mixed(x, y, z):
    return np.sum(np.sin(x) * y) + z ** 2 * np.sum(x)


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_scaled(scale, x, shift):
    return scale * np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (shift - x[:-1]) ** 2)


def softplus(x):
    return np.log1p(np.exp(x))


def softplus_ag(x):
    return anp.log1p(anp.exp(x))


def scaled_tanh(a, x):
    return a * np.tanh(x)


def with_keyword(x, *, k):
    return k * np.sum(x ** 3)


rng = np.random.default_rng(16)
W, B = rng.normal(size=3), 0.3
X, Y = rng.normal(size=(5, 3)), rng.normal(size=5)
ARGS = {"w": W, "b": B, "X": X, "y": Y}
MX, MY, MZ = rng.normal(size=4), rng.normal(size=4), 0.7


def difference(fn, values, name):
    return central_difference(fn, values, name)


# -- argnums: JAX's name for wrt ------------------------------------------------------

@pytest.mark.parametrize("argnums, names", [
    (0, ["w"]), (1, ["b"]), (-1, ["y"]), ((0,), ["w"]), ((0, 1), ["w", "b"]),
    ([1, 0], ["b", "w"]), ("w", ["w"]), (("w", 1), ["w", "b"]),
])
def test_grad_argnums_against_differences(argnums, names):
    got = s2sad.grad(loss, argnums=argnums)(W, B, X, Y)
    single = isinstance(argnums, (int, str))
    parts = [got] if single else list(got)
    assert isinstance(got, tuple) != single  # an int gives one gradient, a tuple a tuple
    assert len(parts) == len(names)
    for part, name in zip(parts, names):
        want = difference(loss, ARGS, name)
        assert type(part) is type(ARGS[name])
        assert np.shape(part) == np.shape(ARGS[name])
        np.testing.assert_allclose(part, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), (0,)])
def test_grad_argnums_matches_autograd_and_wrt(argnums):
    def loss_ag(w, b, X, y):
        return anp.mean((anp.dot(X, w) + b - y) ** 2)
    got = s2sad.grad(loss, argnums=argnums)(W, B, X, Y)
    assert _same(got, s2sad.grad(loss, wrt=argnums)(W, B, X, Y))
    if isinstance(argnums, int):
        want = agrad.grad(loss_ag, argnum=argnums)(W, B, X, Y)
    else:
        want = tuple(agrad.grad(loss_ag, argnum=i)(W, B, X, Y) for i in argnums)
    _close(got, want)


def _same(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and np.array_equal(a, b)


def _close(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w)
        return
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_value_and_grad_argnums():
    value, (dw, db) = s2sad.value_and_grad(loss, argnums=(0, 1))(W, B, X, Y)
    assert value == pytest.approx(loss(W, B, X, Y), rel=1e-12)
    np.testing.assert_allclose(dw, difference(loss, ARGS, "w"), rtol=1e-6)
    assert isinstance(db, float)
    assert db == pytest.approx(difference(loss, ARGS, "b"), rel=1e-6)
    value, db = s2sad.value_and_grad(loss, argnums=1)(W, B, X, Y)
    assert isinstance(db, float)


def test_decorator_forms_take_argnums():
    @s2sad.grad(argnums=(0, 1))
    def d_loss(w, b, X, y):
        return np.mean((X @ w + b - y) ** 2)

    dw, db = d_loss(W, B, X, Y)
    np.testing.assert_allclose(dw, difference(loss, ARGS, "w"), rtol=1e-6)

    @s2sad.value_and_grad(argnums=1)
    def v_loss(w, b, X, y):
        return np.mean((X @ w + b - y) ** 2)

    value, db2 = v_loss(W, B, X, Y)
    assert db2 == pytest.approx(db, rel=1e-12)


def test_jvp_vjp_jacobian_take_argnums():
    def f(x, y):
        return np.sin(x) * y

    x, y = rng.normal(size=3), rng.normal(size=3)
    t = rng.normal(size=3)
    value, tangent = s2sad.jvp(f, argnums=1)(x, y, t)
    np.testing.assert_allclose(tangent, np.sin(x) * t, rtol=1e-12)
    value, pullback = s2sad.vjp(f, argnums=(0, 1))(x, y)
    gx, gy = pullback(t)
    np.testing.assert_allclose(gx, t * np.cos(x) * y, rtol=1e-12)
    np.testing.assert_allclose(gy, t * np.sin(x), rtol=1e-12)
    J = s2sad.jacobian(f, argnums=1)(x, y)
    np.testing.assert_allclose(J, np.diag(np.sin(x)), rtol=1e-12, atol=1e-15)
    Jx, = s2sad.jacobian(f, argnums=(0,), mode="forward")(x, y)
    np.testing.assert_allclose(Jx, np.diag(np.cos(x) * y), rtol=1e-12, atol=1e-15)


def test_hessian_and_hvp_take_argnums():
    values = {"x": MX, "y": MY, "z": MZ}
    H = s2sad.hessian(mixed, argnums=2)(MX, MY, MZ)
    assert isinstance(H, float) and H == pytest.approx(2 * np.sum(MX), rel=1e-12)
    Hxx = s2sad.hessian(mixed, argnums=0)(MX, MY, MZ)
    np.testing.assert_allclose(Hxx, np.diag(-np.sin(MX) * MY), atol=1e-12)
    v = rng.normal(size=4)
    Hv = s2sad.hvp(mixed, argnums=0)(MX, MY, MZ, v)
    np.testing.assert_allclose(Hv, Hxx @ v, rtol=1e-10)
    # the gradient those second derivatives are of matches central differences
    np.testing.assert_allclose(s2sad.grad(mixed, argnums=0)(MX, MY, MZ),
                               difference(mixed, values, "x"), rtol=1e-6)


def test_source_and_check_grad_take_argnums():
    assert s2sad.source(loss, argnums=(0, 1)) == s2sad.source(loss, wrt=(0, 1))
    assert s2sad.source(loss, argnums=1, mode="forward") == \
        s2sad.source(loss, wrt=1, mode="forward")
    assert s2sad.check_grad(loss, W, B, X, Y, argnums=(0, 1))
    assert s2sad.check_grad(loss, W, B, X, Y, argnums="b")


TRANSFORMS = [s2sad.grad, s2sad.value_and_grad, s2sad.jvp, s2sad.vjp, s2sad.jacobian,
              s2sad.hessian, s2sad.hvp, s2sad.elementwise_grad, s2sad.hessp]


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.__name__)
def test_wrt_and_argnums_together_are_refused(transform):
    with pytest.raises(s2sad.ArgumentError) as info:
        transform(loss, wrt=0, argnums=1)
    assert "argnums is another name for wrt" in str(info.value)
    assert "hint: pass one of them" in str(info.value)


def test_wrt_and_argnums_together_are_refused_by_source_and_check_grad():
    with pytest.raises(s2sad.ArgumentError, match="another name for wrt"):
        s2sad.source(loss, 0, argnums=0)
    with pytest.raises(s2sad.ArgumentError, match="another name for wrt"):
        s2sad.check_grad(loss, W, B, X, Y, wrt=0, argnums=(0, 1))
    with pytest.raises(s2sad.ArgumentError, match="another name for wrt"):
        s2sad.grad(wrt=0, argnums=0)  # the decorator form, refused at once


@pytest.mark.parametrize("transform", TRANSFORMS + [s2sad.source],
                         ids=lambda t: t.__name__)
def test_signatures_stay_readable(transform):
    params = inspect.signature(transform).parameters
    assert "wrt" in params and params["argnums"].kind is inspect.Parameter.KEYWORD_ONLY
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())


# -- a misspelt keyword names the one meant -------------------------------------------

@pytest.mark.parametrize("call, meant", [
    (lambda: s2sad.grad(loss, argnum=1), "argnums"),
    (lambda: s2sad.grad(loss, wrt_=1), "wrt"),
    (lambda: s2sad.grad(loss, argnum=(0, 1), optimise=False), "argnums"),
    (lambda: s2sad.grad(loss, optimise=False), "optimize"),
    (lambda: s2sad.grad(argnum=1), "argnums"),                # the decorator form
    (lambda: s2sad.value_and_grad(loss, argsnum=0), "argnums"),
    (lambda: s2sad.jacobian(loss, mdoe="forward"), "mode"),
    (lambda: s2sad.jacobian(loss, modes="forward"), "mode"),
    (lambda: s2sad.jvp(loss, argnum=0), "argnums"),
    (lambda: s2sad.vjp(loss, wtr=0), "wrt"),
    (lambda: s2sad.hessian(loss, argnum=0), "argnums"),
    (lambda: s2sad.hvp(loss, argnum=0), "argnums"),
    (lambda: s2sad.source(loss, mod="forward"), "mode"),
    (lambda: s2sad.elementwise_grad(softplus, argnum=0), "argnums"),
    (lambda: s2sad.hessp(rosen, argnum=0), "argnums"),
    (lambda: s2sad.check_grad(loss, W, B, X, Y, argnum=0), "argnums"),
    (lambda: s2sad.check_grad(loss, W, B, X, Y, rtoll=1e-3), "rtol"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_misspelt_keyword_names_the_right_one(call, meant):
    with pytest.raises(TypeError) as info:
        call()
    message = str(info.value)
    assert "got an unexpected keyword argument" in message
    assert message.endswith(f"did you mean {meant!r}?"), message


def test_misspelt_keyword_error_names_the_transform_and_hides_s2sad_frames():
    with pytest.raises(TypeError) as info:
        s2sad.grad(loss, argnum=1)
    assert str(info.value).startswith("grad() got an unexpected keyword argument 'argnum'")
    frames = [tb.tb_frame.f_code.co_filename for tb in _frames(info.value.__traceback__)]
    # the user's frame, then only the public entry point's re-raise (as for any refusal)
    assert not any(name.endswith(os.path.join("s2sad", "api.py")) for name in frames), frames


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_keyword_of_another_transform_says_where_it_belongs():
    with pytest.raises(TypeError, match=r"grad\(\) got an unexpected keyword argument "
                                        r"'mode'; mode= is taken by s2sad.source, "
                                        r"s2sad.jacobian \(grad\(\) takes wrt, argnums"):
        s2sad.grad(loss, mode="forward")
    with pytest.raises(TypeError, match=r"rtol= is taken by s2sad.check_grad \(hvp\(\) takes"):
        s2sad.hvp(loss, rtol=1e-3)
    with pytest.raises(TypeError, match="its keywords are wrt, argnums, optimize"):
        s2sad.hvp(loss, banana=1)


# -- elementwise_grad: autograd's -------------------------------------------------------

@pytest.mark.parametrize("x", [np.linspace(-2.0, 2.0, 7), rng.normal(size=(3, 4)),
                               np.array(0.3), 0.3, -1.5],
                         ids=["vector", "matrix", "0-d", "float", "negative float"])
def test_elementwise_grad_matches_autograd(x):
    got = s2sad.elementwise_grad(softplus)(x)
    want = agrad.elementwise_grad(softplus_ag)(x)
    assert type(got) is type(x) if not isinstance(x, float) else type(got) is float
    assert np.shape(got) == np.shape(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-np.asarray(x))), rtol=1e-12)


def test_elementwise_grad_is_the_gradient_of_the_sum():
    x = rng.normal(size=5)
    got = s2sad.elementwise_grad(lambda_free_cube)(x)
    np.testing.assert_allclose(got, difference(lambda v: np.sum(lambda_free_cube(v)),
                                               {"v": x}, "v"), rtol=1e-6)


def lambda_free_cube(v):
    return v ** 3 - 2.0 * v


def test_elementwise_grad_of_another_argument():
    a, x = rng.normal(size=4), rng.normal(size=4)
    for spelling in ({"wrt": 1}, {"argnums": 1}, {"wrt": "x"}):
        got = s2sad.elementwise_grad(scaled_tanh, **spelling)(a, x)
        np.testing.assert_allclose(got, a * (1 - np.tanh(x) ** 2), rtol=1e-12)
    got = s2sad.elementwise_grad(scaled_tanh, 1)(a, x)  # autograd's positional argnum
    want = agrad.elementwise_grad(lambda a, x: a * anp.tanh(x), 1)(a, x)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_elementwise_grad_keeps_float32_and_leaves_x_alone():
    x = np.linspace(-1.0, 1.0, 5).astype(np.float32)
    before = x.copy()
    got = s2sad.elementwise_grad(softplus)(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_array_equal(x, before)
    assert got is not x


def test_elementwise_grad_shows_its_source():
    eg = s2sad.elementwise_grad(softplus)
    eg(np.ones(3))
    assert "def " in eg.source and "softplus" in eg.source
    assert repr(eg) == "<s2sad elementwise_grad of softplus wrt x>"


def test_elementwise_grad_of_a_tuple_output_is_refused():
    def two(x):
        return np.sin(x), np.cos(x)
    with pytest.raises(s2sad.NonScalarOutputError, match="one array output"):
        s2sad.elementwise_grad(two)(np.ones(3))


# -- hessp: SciPy's calling convention --------------------------------------------------

def test_hessp_is_the_hessian_times_p():
    x, p = rng.normal(size=5), rng.normal(size=5)
    before = x.copy(), p.copy()
    got = s2sad.hessp(rosen)(x, p)
    np.testing.assert_allclose(got, s2sad.hessian(rosen)(x) @ p, rtol=1e-12)
    want = agrad.hessian_vector_product(lambda v: anp.sum(
        100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2))(x, p)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got.shape == x.shape
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(p, before[1])


def test_hessp_places_x_at_wrt_and_the_rest_in_order():
    x, p = rng.normal(size=4), rng.normal(size=4)
    want = s2sad.hessian(rosen_scaled, wrt=1)(2.0, x, 0.5) @ p
    for spelling in ({"wrt": 1}, {"argnums": 1}, {"wrt": "x"}):
        got = s2sad.hessp(rosen_scaled, **spelling)(x, p, 2.0, 0.5)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_hessp_of_a_float():
    def cube(t, c):
        return c * t ** 3
    got = s2sad.hessp(cube)(2.0, 0.5, 3.0)
    assert isinstance(got, float) and got == pytest.approx(6 * 3.0 * 2.0 * 0.5, rel=1e-12)


@pytest.mark.parametrize("wrt", [(0, 1), "k"])
def test_hessp_refuses_several_or_keyword_only_arguments(wrt):
    fn = with_keyword if wrt == "k" else rosen_scaled
    with pytest.raises(s2sad.ArgumentError, match="hessp takes one positional argument") \
            as info:
        s2sad.hessp(fn, wrt=wrt)
    assert info.value.lineno == fn.__code__.co_firstlineno
    assert info.value.location.source_line.startswith(f"def {fn.__name__}(")
    assert "s2sad.hvp(f, wrt)(*args, v)" in info.value.hint


@pytest.mark.parametrize("method", ["trust-ncg", "Newton-CG", "trust-krylov"])
def test_scipy_minimize_with_hessp_on_rosenbrock(method):
    optimize = pytest.importorskip("scipy.optimize")
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    result = optimize.minimize(rosen, x0, jac=s2sad.grad(rosen), hessp=s2sad.hessp(rosen),
                               method=method, options={"gtol": 1e-10} if method != "Newton-CG"
                               else {"xtol": 1e-10})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)
    np.testing.assert_array_equal(x0, [-1.2, 1.0, -0.5, 0.8])


def test_scipy_minimize_passes_args_to_hessp():
    optimize = pytest.importorskip("scipy.optimize")

    def shifted(x, c, scale):
        return scale * np.sum((x - c) ** 2) + np.sum(x ** 4)

    c = np.array([1.0, -2.0, 0.5])
    result = optimize.minimize(shifted, np.zeros(3), args=(c, 3.0), jac=s2sad.grad(shifted),
                               hessp=s2sad.hessp(shifted), method="trust-ncg",
                               options={"gtol": 1e-10})
    assert result.success, result.message
    gradient = s2sad.grad(shifted)(result.x, c, 3.0)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)


# -- *args: the error names it ----------------------------------------------------------

STARRED = textwrap.dedent("""\
    import numpy as np


    def total(*args):
        return np.sum(args[0] ** 2)


    def scaled(x, *rest, **options):
        return np.sum(x ** 2)
    """)


@pytest.fixture
def starred(tmp_path):
    path = tmp_path / "starred_module.py"
    path.write_text(STARRED)
    sys.path.insert(0, str(tmp_path))
    try:
        import starred_module
        yield starred_module
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("starred_module", None)


@pytest.mark.parametrize("name, wrt, star", [
    ("total", "args", "*args"), ("scaled", "rest", "*rest"),
    ("scaled", "options", "**options"),
])
def test_wrt_naming_starred_parameters_names_them(starred, name, wrt, star):
    """By name, *args is the whole tuple and **options a dict: refused; by position,
    an item of *args is an argument (see the test below)."""
    fn = getattr(starred, name)
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(fn, argnums=wrt)
    error = info.value
    assert f"s2sad cannot differentiate with respect to {star} " in error.message
    assert "out of range" not in str(error)
    line = 4 if name == "total" else 8
    assert error.lineno == line
    assert error.col == STARRED.splitlines()[line - 1].index(star)
    assert error.location.caret().strip() == "^" * len(star)
    assert error.hint.startswith("name the arguments in the def, e.g. def ")
    assert f"in place of {star}" in error.hint


@pytest.mark.parametrize("name, wrt", [("total", None), ("total", 0), ("total", (0, 1)),
                                       ("scaled", 1), ("scaled", (0, 2))])
def test_wrt_of_positions_in_star_args_differentiates_those_arguments(starred, name, wrt):
    fn = getattr(starred, name)
    x, y, z = np.array([1.0, 2.0]), np.array([3.0]), np.array([0.5, 0.25])
    transform = s2sad.grad(fn) if wrt is None else s2sad.grad(fn, argnums=wrt)
    got = transform(x, y, z)
    weights = {"total": {0: 2 * x, 1: np.zeros(1)}, "scaled": {0: 2 * x, 1: np.zeros(1),
                                                              2: np.zeros(2)}}[name]
    for index, g in zip((wrt or 0,) if not isinstance(wrt, tuple) else wrt,
                        (got,) if not isinstance(wrt, tuple) else got):
        np.testing.assert_allclose(g, weights[index])


def test_wrt_past_the_named_parameters_without_star_is_still_out_of_range():
    with pytest.raises(s2sad.ArgumentError, match="wrt=4 is out of range"):
        s2sad.grad(loss, argnums=4)


@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.value_and_grad],
                         ids=lambda t: t.__name__)
def test_wrt_none_is_the_default_first_argument(transform):
    assert _same(transform(loss, wrt=None)(W, B, X, Y), transform(loss)(W, B, X, Y))
    assert _same(transform(loss, wrt=None, argnums=None)(W, B, X, Y),
                 transform(loss, wrt=0)(W, B, X, Y))


def test_more_spellings_of_argnums():
    want = s2sad.grad(loss, wrt=1)(W, B, X, Y)
    assert s2sad.grad(loss, argnums=np.int64(1))(W, B, X, Y) == want
    assert s2sad.grad(loss, argnums=1)(W, b=B, X=X, y=Y) == want  # called by keyword
    assert s2sad.grad(loss, argnums=(np.int32(1),))(W, B, X, Y) == (want,)

    @s2sad.elementwise_grad
    def cube(v):
        return v ** 3

    np.testing.assert_allclose(cube(np.array([1.0, -2.0])), [3.0, 12.0], rtol=1e-12)
    assert cube(2.0) == 12.0 and type(cube(2.0)) is float


def test_scipy_minimize_takes_hessian_as_hess():
    optimize = pytest.importorskip("scipy.optimize")
    result = optimize.minimize(rosen, np.zeros(4), jac=s2sad.grad(rosen),
                               hess=s2sad.hessian(rosen), method="trust-exact",
                               options={"gtol": 1e-10})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)


def test_jax_calling_forms_are_pointed_to_s2sads():
    """jax.jvp(f, primals, tangents) and jax.vjp(f, x) written with s2sad's names."""
    import s2sad as s
    from s2sad.errors import CallError

    def f(x):
        return np.sum(np.sin(x))
    for call, words in [(lambda: s.jvp(f, (np.ones(2),), (np.ones(2),)), "s2sad.jvp(f)(*primals"),
                        (lambda: s.vjp(f, np.ones(2)), "s2sad.vjp(f)(*primals)")]:
        with pytest.raises(CallError, match=words.replace("(", r"\(").replace(")", r"\)")
                           .replace("*", r"\*")):
            call()
