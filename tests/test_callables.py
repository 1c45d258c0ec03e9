"""Every callable a user passes: lambdas, methods (bound, static, class), objects with
__call__, functools.partial, nested defs and closures, and NumPy / math functions.

Each kind computes the same F(x, y) = sum(sin(x) * y) + y ** 2 from the arguments the
user passes (x an array, y a float), and goes through every transform against central
differences, with exact result types. `wrt=0` is the first argument the user passes
(a method's self and a partial's arguments are bound, as in JAX).
"""
import functools
import importlib
import linecache
import math
import os
import sys

import numpy as np
import pytest

import s2sad
from conftest import central_difference
from s2sad.check import numeric_grad

X = np.array([0.3, -0.7, 1.1])
Y = 0.8
T = np.array([0.5, -1.0, 2.0])   # a tangent / vector for x
FILE = __file__
with open(FILE) as _handle:
    LINES = _handle.read().splitlines()


def marker(key):
    """(lineno, line text) of the line that ends with `# C:<key>`."""
    hits = [i for i, line in enumerate(LINES, 1) if line.rstrip().endswith(f"# C:{key}")]
    assert len(hits) == 1, key
    return hits[0], LINES[hits[0] - 1]


def F(x, y):
    return np.sum(np.sin(x) * y) + y ** 2


def F_with_power(x, y, c):
    return np.sum(np.sin(x) * y) + y ** c


module_lambda = lambda x, y: np.sum(np.sin(x) * y) + y ** 2  # noqa: E731


class Model:
    def loss(self, x, y):
        return np.sum(np.sin(x) * y) + y ** 2

    def power_loss(self, x, y, c):
        return np.sum(np.sin(x) * y) + y ** c

    @staticmethod
    def static_loss(x, y):
        return np.sum(np.sin(x) * y) + y ** 2

    @classmethod
    def class_loss(cls, x, y):
        return np.sum(np.sin(x) * y) + y ** 2

    def __call__(self, x, y):
        return np.sum(np.sin(x) * y) + y ** 2


def closure_lambda():
    power = 2.0
    return lambda x, y: np.sum(np.sin(x) * y) + y ** power


def nested_def():
    power = 2.0

    def inner(x, y):
        return np.sum(np.sin(x) * y) + y ** power
    return inner


def lambda_in_a_call():
    return functools.partial(
        lambda c, x,
        y: np.sum(np.sin(x) * y) + y ** c,
        2.0)


KINDS = {
    "def": lambda: F,
    "module_lambda": lambda: module_lambda,
    "lambda_default": lambda: (lambda x, y, c=2.0: np.sum(np.sin(x) * y) + y ** c),
    "lambda_closure": closure_lambda,
    "nested_def": nested_def,
    "bound_method": lambda: Model().loss,
    "staticmethod_via_class": lambda: Model.static_loss,
    "staticmethod_via_instance": lambda: Model().static_loss,
    "classmethod_via_class": lambda: Model.class_loss,
    "classmethod_via_instance": lambda: Model().class_loss,
    "callable_object": lambda: Model(),
    "partial_keyword": lambda: functools.partial(F_with_power, c=2.0),
    "partial_of_a_method": lambda: functools.partial(Model().power_loss, c=2.0),
    "partial_of_a_lambda_in_a_call": lambda_in_a_call,
    "partial_of_a_partial": lambda: functools.partial(functools.partial(F_with_power, c=2.0)),
}


@pytest.fixture(params=sorted(KINDS))
def fn(request):
    return KINDS[request.param]()


def expected_gradients(fn):
    values = {"x": X.copy(), "y": Y}
    return central_difference(fn, values, "x"), central_difference(fn, values, "y")


def test_grad(fn):
    gx_expected, gy_expected = expected_gradients(fn)
    gx = s2sad.grad(fn)(X, Y)
    assert type(gx) is np.ndarray and gx.dtype == np.float64 and gx.shape == (3,)
    np.testing.assert_allclose(gx, gx_expected, rtol=1e-6)
    gy = s2sad.grad(fn, wrt=1)(X, Y)
    assert type(gy) is float
    assert gy == pytest.approx(gy_expected, rel=1e-6)
    both = s2sad.grad(fn, wrt=("x", "y"))(X, Y)
    assert type(both) is tuple and len(both) == 2 and type(both[1]) is float
    np.testing.assert_allclose(both[0], gx_expected, rtol=1e-6)
    assert s2sad.grad(fn, wrt=(1,))(X, Y) == (pytest.approx(gy_expected, rel=1e-6),)


def test_grad_by_keyword_and_repeated_calls(fn):
    df = s2sad.grad(fn, wrt=1)
    first = df(X, Y)
    assert df(X, Y) == first and df(X, y=Y) == first   # (the fast entry, the keyword path)
    assert first == pytest.approx(expected_gradients(fn)[1], rel=1e-6)


def test_value_and_grad(fn):
    value, (gx, gy) = s2sad.value_and_grad(fn, wrt=(0, 1))(X, Y)
    assert value == pytest.approx(F(X, Y), rel=1e-12)
    gx_expected, gy_expected = expected_gradients(fn)
    np.testing.assert_allclose(gx, gx_expected, rtol=1e-6)
    assert type(gy) is float and gy == pytest.approx(gy_expected, rel=1e-6)


def test_jvp(fn):
    value, tangent = s2sad.jvp(fn)(X, Y, T)
    assert value == pytest.approx(F(X, Y), rel=1e-12)
    assert type(tangent) is float
    assert tangent == pytest.approx(np.dot(expected_gradients(fn)[0], T), rel=1e-6)
    _, tangent = s2sad.jvp(fn, wrt=(0, 1))(X, Y, (T, 2.0))
    gx, gy = expected_gradients(fn)
    assert tangent == pytest.approx(np.dot(gx, T) + 2.0 * gy, rel=1e-6)


def test_vjp(fn):
    value, pullback = s2sad.vjp(fn, wrt=(0, 1))(X, Y)
    assert value == pytest.approx(F(X, Y), rel=1e-12)
    gx, gy = pullback(2.0)
    gx_expected, gy_expected = expected_gradients(fn)
    np.testing.assert_allclose(gx, 2.0 * gx_expected, rtol=1e-6)
    assert type(gy) is float and gy == pytest.approx(2.0 * gy_expected, rel=1e-6)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian(fn, mode):
    jacobian = s2sad.jacobian(fn, mode=mode)(X, Y)
    assert type(jacobian) is np.ndarray and jacobian.shape == (3,)
    np.testing.assert_allclose(jacobian, expected_gradients(fn)[0], rtol=1e-6)
    dy = s2sad.jacobian(fn, wrt=1, mode=mode)(X, Y)
    assert type(dy) is float and dy == pytest.approx(expected_gradients(fn)[1], rel=1e-6)


def _hessian_by_differences(fn):
    gradient = s2sad.grad(fn)
    columns = []
    for k in range(X.size):
        step = np.zeros(X.size)
        step[k] = 1e-6
        columns.append((gradient(X + step, Y) - gradient(X - step, Y)) / 2e-6)
    return np.stack(columns, axis=-1)


def test_hessian_and_hvp(fn):
    hessian = s2sad.hessian(fn)(X, Y)
    assert type(hessian) is np.ndarray and hessian.shape == (3, 3)
    np.testing.assert_allclose(hessian, np.diag(-np.sin(X) * Y), atol=1e-12)
    np.testing.assert_allclose(hessian, _hessian_by_differences(fn), rtol=1e-6, atol=1e-8)
    product = s2sad.hvp(fn)(X, Y, T)
    assert type(product) is np.ndarray and product.shape == (3,)
    np.testing.assert_allclose(product, hessian @ T, rtol=1e-12)
    assert s2sad.hessian(fn, wrt=1)(X, Y) == pytest.approx(2.0, rel=1e-9)


def test_check_grad_and_source(fn):
    assert s2sad.check_grad(fn, X, Y, wrt=(0, 1)) is True
    assert "def grad_" in s2sad.source(fn)
    assert "def jvp_" in s2sad.source(fn, mode="forward")


def test_the_arguments_are_not_modified(fn):
    x = X.copy()
    s2sad.grad(fn, wrt=(0, 1))(x, Y)
    s2sad.hessian(fn)(x, Y)
    np.testing.assert_array_equal(x, X)


def test_a_call_that_does_not_fit_gets_pythons_own_message(fn):
    with pytest.raises(TypeError) as python:
        fn(X, Y, 1.0, 2.0)
    with pytest.raises(TypeError) as ours:
        s2sad.grad(fn)(X, Y, 1.0, 2.0)
    assert str(ours.value) == str(python.value)


# -- names, wrt and calls ----------------------------------------------------------

@pytest.mark.parametrize("kind, name", [
    ("module_lambda", "<lambda>"), ("bound_method", "Model.loss"),
    ("staticmethod_via_instance", "Model.static_loss"), ("callable_object", "Model.__call__"),
    ("nested_def", "inner"), ("partial_keyword", "partial(F_with_power)"),
])
def test_repr_and_name(kind, name):
    df = s2sad.grad(KINDS[kind](), wrt=(0, 1))
    assert repr(df) == f"<s2sad grad of {name} wrt x, y>"
    assert repr(s2sad.jvp(KINDS[kind]())) == f"<s2sad jvp of {name} wrt x>"
    assert df.__name__ in name


def test_a_library_functions_repr():
    assert repr(s2sad.grad(np.tanh)) == "<s2sad grad of numpy.tanh wrt x>"
    assert s2sad.grad(np.tanh).__name__ == "tanh"


def test_wrt_zero_is_the_first_argument_the_user_passes():
    model = Model()
    assert s2sad.grad(model.loss, wrt=1)(X, Y) == s2sad.grad(F, wrt=1)(X, Y)
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(model.loss, wrt="self")
    assert "['x', 'y']" in info.value.message


def test_partial_wrt_counts_the_parameters_left():
    def volume(a, b, c):
        return a * b * c
    with_a = functools.partial(volume, 2.0)
    assert s2sad.grad(with_a, wrt=(0, 1))(3.0, 4.0) == (8.0, 6.0)
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(with_a, wrt=2)
    assert "2 positional parameter(s) ['b', 'c']" in info.value.message
    # a keyword binds c: it is keyword-only now, and may still be differentiated by name
    with_c = functools.partial(volume, c=5.0)
    assert s2sad.grad(with_c, wrt=-1)(2.0, 3.0) == 10.0
    assert s2sad.grad(with_c, wrt="c")(2.0, 3.0) == 6.0
    assert s2sad.grad(with_c, wrt="c")(2.0, 3.0, c=7.0) == 6.0
    assert s2sad.grad(with_c)(2.0, 3.0, c=7.0) == 21.0   # the call's keyword wins


def test_a_method_of_a_class_defined_in_a_test():
    class Local:
        scale = 3.0

        def energy(self, w, v):
            return np.sum(w ** 2 * v)

        @staticmethod
        def cubic(w):
            return np.sum(w ** 3)

        @classmethod
        def quartic(cls, w):
            return np.sum(w ** 4)

        def __call__(self, w):
            return np.sum(np.exp(w))

    local = Local()
    np.testing.assert_allclose(s2sad.grad(local.energy)(X, 2.0), 4.0 * X, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(local.cubic)(X), 3.0 * X ** 2, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(Local.quartic)(X), 4.0 * X ** 3, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(local)(X), np.exp(X), rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(local.energy, wrt=1)(X, 2.0), np.sum(X ** 2),
                               rtol=1e-12)


def test_a_staticmethod_object_itself():
    static = Model.__dict__["static_loss"]
    np.testing.assert_allclose(s2sad.grad(static)(X, Y), Y * np.cos(X), rtol=1e-12)


def test_a_classmethod_object_itself_is_refused():
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(Model.__dict__["class_loss"])
    assert "classmethod" in info.value.message and info.value.hint.endswith("Model.class_loss")


def test_a_class_is_refused():
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(Model)
    assert "is not a Python function defined with `def`" in info.value.message


# -- methods reading their object's attributes ---------------------------------------

class Layer:
    def __init__(self):
        self.W = np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.4]])
        self.lr = 0.5

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x)) * self.lr

    def __call__(self, x):
        return np.sum(np.tanh(self.W @ x)) * self.lr


def _layer_gradient(x):
    layer = Layer()
    return layer.W.T @ (1.0 - np.tanh(layer.W @ x) ** 2) * layer.lr


@pytest.mark.xfail(strict=False, reason="needs structured args")
@pytest.mark.parametrize("which", ["method", "object"])
def test_self_attributes_are_constants_read_at_call_time(which):
    layer = Layer()
    fn = layer.loss if which == "method" else layer
    expected = central_difference(fn, {"x": X.copy()}, "x")
    np.testing.assert_allclose(expected, _layer_gradient(X), rtol=1e-6)
    np.testing.assert_allclose(s2sad.grad(fn)(X), expected, rtol=1e-6)
    np.testing.assert_allclose(s2sad.vjp(fn)(X)[1](1.0), expected, rtol=1e-6)
    assert s2sad.jvp(fn)(X, T)[1] == pytest.approx(np.dot(expected, T), rel=1e-6)
    np.testing.assert_allclose(s2sad.jacobian(fn, mode="forward")(X), expected, rtol=1e-6)
    hessian = s2sad.hessian(fn)(X)
    np.testing.assert_allclose(s2sad.hvp(fn)(X, T), hessian @ T, rtol=1e-9)
    assert s2sad.check_grad(fn, X)
    layer.lr = 2.0  # read again at the next call
    np.testing.assert_allclose(s2sad.grad(fn)(X), 4.0 * expected, rtol=1e-6)


# -- lambdas -------------------------------------------------------------------------

def test_several_lambdas_on_one_line():
    double, triple, same = lambda x: x * 2.0, lambda x: x * 3.0, lambda x: x * 2.0  # noqa
    assert (s2sad.grad(double)(1.0), s2sad.grad(triple)(1.0), s2sad.grad(same)(1.0)) == \
        (2.0, 3.0, 2.0)
    square, cube = lambda v: np.sum(v ** 2), lambda v: np.sum(v ** 3)  # noqa: E731
    np.testing.assert_allclose(s2sad.grad(cube)(X), 3.0 * X ** 2, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(square)(X), 2.0 * X, rtol=1e-12)


def test_lambdas_from_one_line_with_different_defaults_and_cells():
    scaled = [lambda x, k=k: k * x ** 2 for k in (1.0, 2.0, 3.0)]
    assert [s2sad.grad(f)(1.0) for f in scaled] == [2.0, 4.0, 6.0]

    def make(k):
        return lambda x: k * x ** 2
    assert [s2sad.grad(make(k))(1.0) for k in (1.0, 5.0)] == [2.0, 10.0]


def test_a_lambda_in_a_call_spanning_lines():
    df = s2sad.grad(
        lambda x,
        y:
            np.sum(
                np.exp(x) * y),
        wrt=(0, 1),
    )
    gx, gy = df(X, 2.0)
    np.testing.assert_allclose(gx, 2.0 * np.exp(X), rtol=1e-12)
    assert gy == pytest.approx(np.sum(np.exp(X)), rel=1e-12)


def test_the_generated_code_names_a_lambda_by_its_assignment():
    square = lambda x: x ** 2  # noqa: E731
    assert "def grad_square(x" in s2sad.source(square)
    assert "def grad_lambda_(x" in s2sad.source(lambda x: x ** 2)


def test_a_refusal_in_a_lambda_is_located_at_its_construct():
    accepted, refused = (lambda x: x * 2.0), (lambda x: x * nowhere_defined)  # noqa  # C:refused
    lineno, line = marker("refused")
    assert s2sad.grad(accepted)(1.0) == 2.0
    with pytest.raises(s2sad.NameResolutionError) as info:
        s2sad.grad(refused)(1.0)
    exc = info.value
    assert os.path.realpath(exc.filename) == os.path.realpath(FILE)
    assert (exc.lineno, exc.col) == (lineno, line.index("nowhere_defined"))
    rendered = str(exc).splitlines()
    index = rendered.index("    " + line)
    assert rendered[index + 1] == " " * (4 + exc.col) + "^" * len("nowhere_defined")


def test_an_argument_error_points_at_the_lambdas_parameter():
    first, second = (lambda x: x * 2.0), (lambda n, t: t * 2.0)  # noqa  # C:parameter
    lineno, line = marker("parameter")
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(second)(3, 1.0)
    exc = info.value
    assert "'n' is an integer" in exc.message
    assert (exc.lineno, exc.col) == (lineno, line.index("lambda n") + len("lambda "))


def test_a_wrt_error_points_at_the_lambda():
    with pytest.raises(s2sad.ArgumentError) as info:
        first, second = s2sad.grad(lambda t: t), s2sad.grad(lambda u: u, wrt=3)  # C:wrt
    lineno, line = marker("wrt")
    exc = info.value
    assert "wrt=3 is out of range" in exc.message
    assert (exc.lineno, exc.col) == (lineno, line.index("lambda u"))
    assert str(exc).splitlines()[2].strip() == "^" * len("lambda")


def test_a_lambda_made_by_eval_is_refused_with_a_hint_that_works():
    made = eval("lambda x: x * x")
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(made)(1.5)
    exc = info.value
    assert (exc.filename, exc.lineno) == ("<string>", 1)
    assert "cannot find the source of the lambda (x)" in exc.message
    assert "s2sad.grad_source('def f(x):\\n    return <its expression>\\n', 'f')" in exc.hint
    df = eval(exc.hint[exc.hint.index("s2sad.grad_source"):].replace("<its expression>",
                                                                     "x * x"))
    assert df(1.5) == 3.0


def test_a_lambda_whose_file_was_edited_is_refused(tmp_path, monkeypatch):
    module = tmp_path / "edited_lambda_module.py"
    module.write_text("scale = lambda x: x * 2.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = importlib.import_module("edited_lambda_module")
    try:
        module.write_text("scale = lambda x: x * 3.0\n")
        linecache.checkcache(str(module))
        with pytest.raises(s2sad.SourceUnavailableError) as info:
            s2sad.grad(imported.scale)(1.0)
        assert "edited after it was imported" in info.value.message
        assert "importlib.reload(edited_lambda_module)" in info.value.hint
        importlib.reload(imported)
        assert s2sad.grad(imported.scale)(1.0) == 3.0
    finally:
        sys.modules.pop("edited_lambda_module", None)


# -- closures: cells are read at each call --------------------------------------------

def test_a_rebound_closure_variable_is_seen_at_the_next_call():
    scale = 2.0
    weights = np.ones(3)
    f = lambda x: scale * np.sum(weights * x ** 2)  # noqa: E731
    df = s2sad.grad(f)
    np.testing.assert_allclose(df(X), 4.0 * X, rtol=1e-12)
    np.testing.assert_allclose(df(X), 4.0 * X, rtol=1e-12)   # (the fast entry)
    scale = 3.0
    np.testing.assert_allclose(df(X), 6.0 * X, rtol=1e-12)
    weights = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(df(X), 6.0 * weights * X, rtol=1e-12)
    value, gradient = s2sad.value_and_grad(f)(X)
    assert value == pytest.approx(f(X), rel=1e-12)


def test_a_rebound_closure_function_is_differentiated_anew():
    activation = np.sin

    def helper(t):
        return t * t

    def f(x):
        return np.sum(activation(x)) + np.sum(helper(x))
    df = s2sad.grad(f)
    np.testing.assert_allclose(df(X), np.cos(X) + 2.0 * X, rtol=1e-12)
    np.testing.assert_allclose(df(X), np.cos(X) + 2.0 * X, rtol=1e-12)
    activation = np.exp
    np.testing.assert_allclose(df(X), np.exp(X) + 2.0 * X, rtol=1e-12)

    def helper(t):  # noqa: F811
        return 3.0 * t
    np.testing.assert_allclose(df(X), np.exp(X) + 3.0, rtol=1e-12)


def test_a_rebound_closure_rule_alone_is_seen():
    activation = np.sin
    df = s2sad.grad(lambda x: activation(x))
    assert df(0.5) == df(0.5) == pytest.approx(np.cos(0.5), rel=1e-12)
    activation = np.exp
    assert df(0.5) == pytest.approx(np.exp(0.5), rel=1e-12)


# -- NumPy and math functions --------------------------------------------------------

@pytest.mark.parametrize("function, derivative", [
    (np.tanh, lambda v: 1.0 - np.tanh(v) ** 2),
    (np.sin, np.cos),
    (np.exp, np.exp),
    (np.log, lambda v: 1.0 / v),
    (math.sin, math.cos),
    (math.exp, math.exp),
    (math.sqrt, lambda v: 0.5 / math.sqrt(v)),
    (abs, lambda v: 1.0),
], ids=lambda f: getattr(f, "__name__", "derivative"))
def test_a_library_function_on_a_float(function, derivative):
    gradient = s2sad.grad(function)(0.5)
    assert type(gradient) is float
    assert gradient == pytest.approx(derivative(0.5), rel=1e-12)
    assert gradient == pytest.approx(central_difference(function, {"x": 0.5}, "x")
                                     if _takes_x(function) else derivative(0.5), rel=1e-6)
    value, gradient = s2sad.value_and_grad(function)(0.5)
    assert value == function(0.5)
    assert s2sad.check_grad(function, 0.5)


def _takes_x(function):
    import inspect
    try:
        return list(inspect.signature(function).parameters)[0] == "x"
    except ValueError:
        return False


def test_numpy_functions_on_arrays():
    value, pullback = s2sad.vjp(np.sin)(X)
    np.testing.assert_array_equal(value, np.sin(X))
    np.testing.assert_allclose(pullback(T), T * np.cos(X), rtol=1e-12)
    jacobian = s2sad.jacobian(np.exp)(X)
    assert jacobian.shape == (3, 3)
    np.testing.assert_allclose(jacobian, np.diag(np.exp(X)), rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(np.exp, mode="reverse")(X), jacobian)
    value, tangent = s2sad.jvp(np.tanh)(X, T)
    np.testing.assert_allclose(tangent, (1.0 - np.tanh(X) ** 2) * T, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(np.sum)(X), np.ones(3))
    np.testing.assert_allclose(s2sad.grad(np.linalg.norm)(X), X / np.linalg.norm(X),
                               rtol=1e-12)
    assert s2sad.hessian(np.sin)(0.3) == pytest.approx(-np.sin(0.3), rel=1e-12)
    assert s2sad.grad(np.arctan2, wrt=(0, 1))(0.3, 0.4) == \
        (pytest.approx(0.4 / 0.25, rel=1e-12), pytest.approx(-0.3 / 0.25, rel=1e-12))


@pytest.mark.parametrize("function, at", [
    (math.log, (2.0,)), (math.hypot, (3.0, 4.0)), (max, (3.0, 4.5)), (min, (3.0, 4.5)),
    (math.atan2, (1.0, 2.0)), (math.pow, (2.0, 3.0)), (np.arctan2, (1.0, 2.0)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_library_functions_of_several_numbers(function, at):
    """(math.log, math.hypot and max have no signature: their rule's parameters.)"""
    wrt = tuple(range(len(at)))
    gradients = s2sad.grad(function, wrt=wrt)(*at)
    for k, gradient in enumerate(gradients):
        step = [1e-6 if i == k else 0.0 for i in range(len(at))]
        expected = (function(*[a + s for a, s in zip(at, step)]) -
                    function(*[a - s for a, s in zip(at, step)])) / 2e-6
        assert type(gradient) is float and gradient == pytest.approx(expected, rel=1e-6)


def test_numpy_functions_with_options_through_partial_or_arguments():
    """JAX habits: partial(jnp.sum, axis=0), norm's ord=, reshape's shape."""
    matrix = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    by_rows = s2sad.jacobian(functools.partial(np.mean, axis=1))(matrix)
    assert by_rows.shape == (2, 2, 3)
    np.testing.assert_allclose(by_rows[0, 0], np.full(3, 1 / 3), rtol=1e-12)
    np.testing.assert_allclose(by_rows[0, 1], np.zeros(3))
    np.testing.assert_array_equal(s2sad.jacobian(np.sum)(matrix, 0),
                                  s2sad.jacobian(functools.partial(np.sum, axis=0))(matrix))
    np.testing.assert_allclose(s2sad.grad(functools.partial(np.linalg.norm, ord=1))(X),
                               np.sign(X), rtol=1e-12)
    assert s2sad.jacobian(np.reshape)(matrix, (3, 2)).shape == (3, 2, 2, 3)
    # (the wrapper takes the options the rule handles; out= and dtype= have no derivative)
    assert linecache.getline(s2sad.grad(np.sum).fn.__code__.co_filename, 1) == \
        "def sum(a, axis=None, keepdims=False):\n"


def test_a_library_functions_code_reads_as_a_wrapper():
    source = s2sad.source(np.tanh)
    assert "def grad_tanh(x" in source and "<s2sad-wrapper of numpy.tanh>" in source
    assert linecache.getline("<s2sad-wrapper of numpy.tanh>", 2) == "    return np.tanh(x)\n"


def test_a_library_function_without_a_rule_is_refused_by_its_real_name():
    special = pytest.importorskip("scipy.special")
    assert s2sad.grad(special.expit)(0.0) == pytest.approx(0.25)  # (it has a rule)
    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        s2sad.grad(special.ellipe)  # (refused at once: no rule, nothing to read)
    exc = info.value
    assert exc.message == "no derivative rule for scipy.special.ellipe"
    assert "np.ellipe" not in str(exc)
    assert "@s2sad.adjoint(scipy.special.ellipe)" in exc.hint
    integrate = pytest.importorskip("scipy.integrate")
    with pytest.raises(s2sad.NoDerivativeRuleError, match="scipy.integrate.odeint"):
        s2sad.vjp(integrate.odeint, wrt=1)  # (it was a CallError once called with args=)


def test_a_numpy_function_without_a_rule_is_refused():
    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        s2sad.grad(np.i0)(0.5)
    assert info.value.message == "no derivative rule for np.i0"
    assert "@s2sad.adjoint(np.i0)" in info.value.hint


@pytest.mark.parametrize("function", [sorted, len, print])
def test_a_builtin_without_source_is_refused(function):
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(function)
    exc = info.value
    assert exc.message == f"{function!r} is not a Python function defined with `def`"
    assert "@s2sad.adjoint" in exc.hint


def test_a_numpy_function_taking_star_args_differentiated_in_a_string_is_refused():
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(np.einsum)("ii", np.eye(2))  # (wrt=0: the subscripts)
    assert info.value.message == "argument 'operands_0' is a str ('ii'), which has no " \
        "derivative"
    assert "wrt=1" in info.value.hint


def test_something_not_callable_is_refused():
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(X)
    assert "is not a Python function defined with `def`" in info.value.message


# -- with structured arguments --------------------------------------------------------

def _regression_loss(params, batch):
    return np.sum((batch["X"] @ params["w"] - batch["y"]) ** 2) + params["b"] ** 2


BATCH = {"X": np.array([[1.0, 2.0], [0.5, -1.0]]), "y": np.array([1.0, 0.0])}
PARAMS = {"w": np.array([0.1, 0.2]), "b": 0.3}


class Regression:
    def __init__(self):
        self.X, self.y = BATCH["X"], BATCH["y"]

    def loss(self, params):
        return np.sum((self.X @ params["w"] - self.y) ** 2) + params["b"] ** 2


@pytest.mark.parametrize("loss", [
    functools.partial(_regression_loss, batch=BATCH),
    Regression().loss,
    lambda params, batch=BATCH: _regression_loss(params, batch),
], ids=["partial_with_a_dict_keyword", "method", "lambda"])
def test_a_dict_of_parameters_through_a_bound_callable(loss):
    gradient = s2sad.grad(loss)(PARAMS)
    assert type(gradient) is dict and sorted(gradient) == ["b", "w"]
    residual = BATCH["X"] @ PARAMS["w"] - BATCH["y"]
    np.testing.assert_allclose(gradient["w"], 2.0 * BATCH["X"].T @ residual, rtol=1e-12)
    assert type(gradient["b"]) is float and gradient["b"] == pytest.approx(0.6, rel=1e-12)


def test_library_functions_with_star_args_or_no_value_defaults_take_their_keywords():
    """np.gradient(f, *varargs, axis=None), np.std(a, ..., ddof=0, keepdims=<no value>):
    differentiated in the first argument, the keywords after passed on."""
    x = np.random.default_rng(3).normal(size=(3, 4))
    for kwargs in ({}, {"keepdims": True}, {"ddof": 1, "axis": 1}, {"axis": None, "keepdims": False}):
        value, pullback = s2sad.vjp(np.std)(x, **kwargs)
        np.testing.assert_allclose(value, np.std(x, **kwargs))
        ct = np.ones_like(value)
        got = pullback(ct)
        want = numeric_grad(lambda a: np.sum(np.std(a, **kwargs) * ct), (x,), 0)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    value, pullback = s2sad.vjp(np.gradient)(x, axis=1)
    np.testing.assert_allclose(pullback(np.ones_like(value)),
                               numeric_grad(lambda a: np.sum(np.gradient(a, axis=1)), (x,), 0),
                               rtol=1e-6, atol=1e-8)


def test_a_library_function_taking_star_args_is_differentiated_per_count_of_arguments():
    """np.einsum(subscripts, *operands), np.atleast_2d(*arys), as autograd's tests call
    them: wrt=1 is the second argument passed; each count of arguments compiles once."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    einsum_grad = s2sad.grad(lambda x, y: np.sum(np.sin(np.einsum("ij,jk->ik", x, y))),
                             wrt=(0, 1))(a, b)
    value, pullback = s2sad.vjp(np.einsum, wrt=(1, 2))("ij,jk->ik", a, b)
    np.testing.assert_allclose(value, a @ b)
    for got, want in zip(pullback(np.cos(a @ b)), einsum_grad):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    _, tangent = s2sad.jvp(np.einsum, wrt=1)("ij,jk->ik", a, b, np.ones_like(a))
    np.testing.assert_allclose(tangent, np.ones_like(a) @ b, rtol=1e-12)
    trace = s2sad.grad(np.einsum, wrt=1)
    np.testing.assert_allclose(trace("ii", np.eye(3) * 2.0), np.eye(3))
    np.testing.assert_allclose(trace("ij,ij", a, a * 0.5), a * 0.5)  # (a second count)
    assert "def grad_einsum(operands_0, operands_1, operands_2" in trace.source
    assert s2sad.jacobian(np.atleast_2d)(np.ones(3)).shape == (1, 3, 3)
    assert s2sad.hessian(np.einsum, wrt=1)("i,i", a[0], a[0]).shape == (3, 3)
    with pytest.raises(AttributeError, match="call the transform first"):
        s2sad.grad(np.einsum, wrt=1).source


def test_a_distributions_method_is_differentiated_by_its_rule_not_scipys_code():
    """stats.norm.logpdf(x, *args, **kwds) is SciPy's Python: read, it would differentiate
    its argument checks. Passed to a transform, it is its rule, in x, loc and scale."""
    stats = pytest.importorskip("scipy.stats")
    x, loc, scale = np.array([0.1, 0.5]), np.array([0.2, -0.1]), np.array([1.2, 2.0])
    z = (x - loc) / scale
    expected = (-z / scale, z / scale, (z * z - 1) / scale)
    for wrt in range(3):
        value, pullback = s2sad.vjp(stats.norm.logpdf, wrt=wrt)(x, loc, scale)
        np.testing.assert_allclose(value, stats.norm.logpdf(x, loc, scale))
        np.testing.assert_allclose(pullback(np.ones(2)), expected[wrt], rtol=1e-12)
    g = s2sad.grad(lambda m: np.sum(stats.norm.logpdf(x, m, 1.5)))(-0.4)
    np.testing.assert_allclose(g, np.sum((x + 0.4) / 1.5 ** 2), rtol=1e-12)
    _, tangent = s2sad.jvp(stats.norm.logpdf, wrt=2)(x, loc, scale, np.ones(2))
    np.testing.assert_allclose(tangent, expected[2], rtol=1e-12)
    assert "scipy.stats.norm.logpdf(x, loc=loc, scale=scale)" in \
        s2sad.grad(stats.norm.logpdf).source


def loss_over_batches(w, *batches, scale=1.0):
    return scale * sum(np.sum((w - b) ** 2) for b in batches)


def test_a_function_differentiated_in_its_star_args():
    """wrt=2 of `def loss(w, *batches)` is the second batch, as in JAX: the function is
    read for each count of arguments, *batches a tuple of named ones."""
    w, b0, b1 = 0.5, np.array([1.0, 2.0]), np.array([-1.0, 0.5])
    g_w, g_b1 = s2sad.grad(loss_over_batches, wrt=(0, 2))(w, b0, b1, scale=2.0)
    assert g_w == pytest.approx(2.0 * np.sum(2 * (w - b0) + 2 * (w - b1)))
    np.testing.assert_allclose(g_b1, -4.0 * (w - b1))
    grad_b0 = s2sad.grad(loss_over_batches, argnums=1)
    np.testing.assert_allclose(grad_b0(w, b0), -2 * (w - b0))
    np.testing.assert_allclose(grad_b0(w, b0, b1, b1), -2 * (w - b0))  # (another count)
    assert "def grad_loss_over_batches(w, batches_0, batches_1, batches_2" in grad_b0.source
    value, pullback = s2sad.vjp(loss_over_batches, wrt=1)(w, b0, b1)
    assert value == pytest.approx(loss_over_batches(w, b0, b1))
    np.testing.assert_allclose(pullback(1.0), -2 * (w - b0))
    _, tangent = s2sad.jvp(loss_over_batches, wrt=2)(w, b0, b1, np.ones(2))
    assert tangent == pytest.approx(np.sum(-2 * (w - b1)))
