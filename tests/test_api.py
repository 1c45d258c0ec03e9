"""API semantics: wrt forms, decorators, value_and_grad, types, caching, argument safety."""
import numpy as np
import pytest

import s2sad
from s2sad import api


def three(x, y, z):
    return x * y ** 2 * np.sum(z)


def scaled(x, scale=3.0, *, power=2):
    return np.sum((x * scale) ** power)


ARGS = (1.5, 2.0, np.array([0.5, 1.0]))


def test_wrt_int_gives_one_gradient():
    assert s2sad.grad(three, wrt=1)(*ARGS) == pytest.approx(2 * 1.5 * 2.0 * 1.5)


def test_wrt_tuple_gives_a_tuple_even_of_one():
    result = s2sad.grad(three, wrt=(0,))(*ARGS)
    assert isinstance(result, tuple) and len(result) == 1
    g0, g2 = s2sad.grad(three, wrt=(0, 2))(*ARGS)
    assert g0 == pytest.approx(4.0 * 1.5)
    np.testing.assert_allclose(g2, [1.5 * 4.0] * 2)


def test_wrt_by_name_and_negative_index():
    assert s2sad.grad(three, wrt="y")(*ARGS) == s2sad.grad(three, wrt=1)(*ARGS)
    np.testing.assert_allclose(s2sad.grad(three, wrt=-1)(*ARGS), s2sad.grad(three, wrt=2)(*ARGS))


def test_default_wrt_is_the_first_argument():
    assert s2sad.grad(three)(*ARGS) == s2sad.grad(three, wrt=0)(*ARGS)


def test_keyword_arguments_and_defaults_pass_through():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(s2sad.grad(scaled)(x), 2 * 9.0 * x)
    np.testing.assert_allclose(s2sad.grad(scaled)(x, scale=2.0, power=3), 3 * 8.0 * x ** 2)
    np.testing.assert_allclose(s2sad.grad(scaled, wrt="scale")(x, 2.0), 2 * 2.0 * np.sum(x ** 2))


def test_decorator_forms():
    @s2sad.grad
    def square(x):
        return x * x

    @s2sad.grad(wrt=(0, 1))
    def product(x, y):
        return x * y

    assert square(3.0) == 6.0
    assert product(2.0, 5.0) == (5.0, 2.0)
    assert "def grad_square(x, *, dsquare=1.0):" in square.source


def test_value_and_grad_returns_the_primal_value():
    value, (g0, g1) = s2sad.value_and_grad(three, wrt=(0, 1))(*ARGS)
    assert value == pytest.approx(three(*ARGS))
    assert (g0, g1) == s2sad.grad(three, wrt=(0, 1))(*ARGS)


def test_gradient_types_follow_the_inputs():
    assert type(s2sad.grad(three)(*ARGS)) is float
    assert type(s2sad.grad(three)(np.float64(1.5), 2.0, ARGS[2])) is np.float64
    x32 = np.array([0.5, 1.0], dtype=np.float32)
    g = s2sad.grad(three, wrt=2)(1.5, 2.0, x32)
    assert g.dtype == np.float32 and g.shape == (2,)


def test_integer_arguments_not_differentiated_are_fine():
    def power(x, n):
        return x ** n
    assert s2sad.grad(power)(2.0, 3) == pytest.approx(12.0)


def test_caller_arrays_are_not_modified():
    def inplace_looking(x):
        x += 1.0
        x *= 2.0
        return np.sum(x * x)
    x = np.array([1.0, 2.0])
    before = x.copy()
    g = s2sad.grad(inplace_looking)(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, 8 * (before + 1))


def test_transforms_are_cached():
    def cube(x):
        return x ** 3
    first = s2sad.grad(cube)
    first(1.0)
    second = s2sad.grad(cube)
    second(2.0)
    assert second.compiled is first.compiled   # same function, options and ranks
    assert second.generic is first.generic
    plain = s2sad.grad(cube, optimize=False)
    plain(1.0)
    assert plain.compiled is not first.compiled


def test_decorated_function_may_use_names_defined_later():
    @s2sad.grad
    def uses_later(x):
        return np.sum(LATER * x)
    assert "LATER" not in globals()
    globals()["LATER"] = np.array([1.0, 2.0])
    try:
        np.testing.assert_allclose(uses_later(np.zeros(2)), [1.0, 2.0])
    finally:
        del globals()["LATER"]


def test_check_grad_passes_and_reports():
    assert s2sad.check_grad(three, *ARGS, wrt=(0, 1, 2))

    def wrong(x):
        return np.sum(x * x)
    from s2sad.check import GradientCheckError
    with pytest.raises(GradientCheckError, match="central differences"):
        # an input whose gradient is compared at too tight a step fails loudly
        s2sad.check_grad(wrong, np.array([1e8, 1.0]), rtol=1e-15, atol=0.0, eps=1e-3)


def test_grad_source_for_text():
    df = s2sad.grad_source("def g(x):\n    return np.sin(x) * x\n", "g")
    assert df(0.5) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))


def test_a_redefined_helper_is_seen_by_a_new_gradient(tmp_path, monkeypatch):
    """A notebook cell that redefines a helper: the cached gradient of its caller,
    which inlined the old body, is not reused."""
    (tmp_path / "nb_cells.py").write_text(
        "def helper(x):\n    return x * 2.0\n\n\ndef f(x):\n    return helper(x) * x\n")
    (tmp_path / "nb_later.py").write_text("def helper(x):\n    return x * 3.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import nb_cells
    import nb_later
    assert s2sad.grad(nb_cells.f)(1.0) == pytest.approx(4.0)
    nb_cells.helper = nb_later.helper
    assert s2sad.grad(nb_cells.f)(1.0) == pytest.approx(6.0)


def test_a_transform_pauses_the_cyclic_collector_and_restores_its_state():
    import gc

    from s2sad import pipeline

    seen = []

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return differentiate(*args, **kwargs)

    differentiate = pipeline.differentiate
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            pipeline.differentiate = spy
            s2sad.grad_source("def f(x):\n    return x * x\n", "f")(3.0)
        finally:
            pipeline.differentiate = differentiate
            state = gc.isenabled()
            gc.enable()
        assert state is enabled  # as the caller left it
    assert seen and not any(seen)  # paused while the stages ran
