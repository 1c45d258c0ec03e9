"""The environment a gradient runs in (issue 15): calls that do not fit the function,
module files edited after import, the NumPy version, threads, and tracebacks.

Each test here failed on the code before the fix it pins."""
import gc
import importlib
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback

import numpy as np
import pytest

import s2sad
from s2sad import api, pipeline

from conftest import central_difference


# -- calls that do not fit: TypeError, as the user's own function raises ------------------

def square(x):
    return x ** 2


def two(x, y=2.0, *, k=1.0):
    return x * y * k


def need_keyword(x, *, k):
    return x * k


def positional_only(x, /, y):
    return x * y


def varargs(x, *rest):
    return x * len(rest)


def _own_error(fn, *args, **kwargs):
    with pytest.raises(TypeError) as own:
        fn(*args, **kwargs)
    return str(own.value)


ENTRIES = {
    "grad": lambda f: s2sad.grad(f),
    "value_and_grad": lambda f: s2sad.value_and_grad(f),
    "hessian": lambda f: s2sad.hessian(f),
    "jacobian_forward": lambda f: s2sad.jacobian(f, mode="forward"),
    "jacobian_reverse": lambda f: s2sad.jacobian(f, mode="reverse"),
    "vjp": lambda f: s2sad.vjp(f),
}


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_an_extra_positional_argument_is_refused_not_taken_as_the_seed(entry):
    """grad(f)(x, 5.0) returned 5 times the gradient: the 5.0 became the seed df."""
    message = _own_error(square, 3.0, 5.0)
    assert message == "square() takes 1 positional argument but 2 were given"
    transformed = ENTRIES[entry](square)
    with pytest.raises(TypeError) as caught:
        transformed(3.0, 5.0)
    assert str(caught.value) == message


def test_an_extra_argument_is_refused_after_a_fitting_call_made_the_fast_entry():
    df = s2sad.grad(square)
    assert df(3.0) == 6.0
    assert df(3.0) == 6.0  # (the generated entry for one float)
    with pytest.raises(TypeError, match=r"takes 1 positional argument but 2 were given"):
        df(3.0, 5.0)
    with pytest.raises(TypeError, match=r"takes 1 positional argument but 2 were given"):
        df(np.array([1.0, 2.0]), np.array([5.0]))
    assert df(3.0) == 6.0


def test_the_seed_is_not_a_keyword_of_grad():
    with pytest.raises(TypeError) as caught:
        s2sad.grad(square)(3.0, df=5.0)
    assert str(caught.value) == _own_error(square, 3.0, df=5.0)


def test_the_generated_seed_is_keyword_only():
    df = s2sad.grad(square)
    assert "def grad_square(x, *, dsquare=1.0):" in df.source
    function = df.compiled.function
    with pytest.raises(TypeError):
        function(3.0, 5.0)
    assert function(3.0, dsquare=5.0) == pytest.approx(30.0)


@pytest.mark.parametrize("fn, args, kwargs", [
    (two, (1.0, 2.0, 3.0), {}),
    (two, (), {}),
    (two, (1.0,), {"x": 2.0}),
    (two, (1.0,), {"z": 2.0}),
    (two, (1.0, 2.0, 3.0), {"k": 2.0}),
    (need_keyword, (1.0,), {}),
    (need_keyword, (1.0, 2.0), {}),
    (positional_only, (), {"x": 1.0, "y": 2.0}),
    (positional_only, (1.0,), {}),
    (square, (), {"y": 1.0}),
])
def test_every_mismatch_reads_as_python_says_it(fn, args, kwargs):
    message = _own_error(fn, *args, **kwargs)
    with pytest.raises(TypeError) as caught:
        s2sad.grad(fn)(*args, **kwargs)
    assert str(caught.value) == message


def test_the_check_matches_python_for_many_signatures_and_calls():
    """_call_mismatch against CPython itself, over signatures and calls of every kind."""
    import inspect
    signatures = ["a", "a, b", "a, b=1", "a=1, b=2", "a, /, b", "a, *r", "a, *, k",
                  "a, *, k=1", "a, **kw", "a, b=1, *r, k, **kw", ""]
    calls = [((), {}), ((1,), {}), ((1, 2), {}), ((1, 2, 3), {}), ((), {"a": 1}),
             ((1,), {"a": 1}), ((1,), {"k": 1}), ((1, 2, 3), {"k": 1}), ((), {"zz": 1}),
             ((1,), {"b": 2, "k": 3})]
    for text in signatures:
        namespace = {}
        exec(f"def fn({text}):\n    return 0\n", namespace)
        fn = namespace["fn"]
        for args, kwargs in calls:
            try:
                fn(*args, **kwargs)
                expected = None
            except TypeError as exc:
                expected = str(exc)
            got = api._call_mismatch(inspect.signature(fn), "fn", args, kwargs)
            assert got == expected, (text, args, kwargs)


def test_jvp_and_hvp_refuse_an_extra_argument_before_the_tangent():
    with pytest.raises(TypeError, match=r"^square\(\) takes 1 positional argument but 2 "
                                        r"were given \(jvp takes"):
        s2sad.jvp(square)(3.0, 5.0, 1.0)
    with pytest.raises(TypeError, match=r"^square\(\) takes 1 positional argument but 2 "
                                        r"were given \(hvp takes"):
        s2sad.hvp(square)(3.0, 5.0, 1.0)
    assert s2sad.jvp(square)(3.0, 1.0) == (9.0, 6.0)


def test_a_method_counts_self_as_python_does():
    class Model:
        def loss(self, w):
            return np.sum(w ** 2)

    model = Model()
    w = np.array([1.0, 2.0])
    message = _own_error(model.loss, w, w)
    with pytest.raises(TypeError) as caught:
        s2sad.grad(model.loss)(w, w)
    assert str(caught.value) == message


# -- the collector pause, in threads -----------------------------------------------------

def test_the_collector_stays_paused_until_the_last_of_two_threads_is_done():
    """Each pause saved gc.isenabled() and restored it: the first transform to finish
    turned the collector on under the other one, still running (and the second, having
    saved "off", relied on the first to turn it on again)."""
    assert gc.isenabled()
    first_in, second_in, first_out = (threading.Event() for _ in range(3))
    seen = {}

    def first():
        with pipeline.collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with pipeline.collector_paused():
            second_in.set()
            first_out.wait(5)
            seen["while the second runs"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"while the second runs": False}
    assert gc.isenabled()


def test_transforms_compiling_at_once_in_threads_leave_the_collector_enabled():
    assert gc.isenabled()
    errors = []

    def work(k):
        try:
            for i in range(4):
                namespace = {"np": np}
                source = f"def f{k}_{i}(x):\n    return np.sum(np.sin(x) * {i + 1.5})\n"
                df = s2sad.grad_source(source, f"f{k}_{i}", env=namespace)
                x = np.array([0.3, 0.7])
                np.testing.assert_allclose(df(x), np.cos(x) * (i + 1.5))
        except Exception as exc:  # pragma: no cover (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert gc.isenabled()


def test_a_user_who_disabled_the_collector_keeps_it_disabled():
    gc.disable()
    try:
        with pipeline.collector_paused():
            with pipeline.collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert not gc.isenabled()
        s2sad.grad(lambda_free)(2.0)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pipeline.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def lambda_free(x):
    return np.cos(x) * x
