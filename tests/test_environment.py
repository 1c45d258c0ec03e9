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


# -- a module file edited after import: refused, with the way out ---------------------------

@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """make_module(name, text): a module written to a file and imported (and forgotten
    after the test)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []

    def make(name, text):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(text))
        names.append(name)
        return importlib.import_module(name), path

    yield make
    for name in names:
        sys.modules.pop(name, None)


def _edit(path, old, new):
    """Rewrite the file (a later mtime, so linecache sees the change at once)."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


def test_a_module_edited_after_import_is_refused_and_reload_fixes_it(make_module):
    """The primal was x ** 2 and the gradient that of x ** 3, the file's new text."""
    module, path = make_module("edited_after_import", """
        def f(x):
            return x ** 2
        """)
    _edit(path, "x ** 2", "x ** 3")
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        s2sad.grad(module.f)(3.0)
    message = str(caught.value)
    assert "importlib.reload(edited_after_import)" in message
    assert "edited after it was imported" in message
    assert f"{path}:2:0" in message
    with pytest.raises(s2sad.SourceUnavailableError):
        s2sad.value_and_grad(module.f)(3.0)
    with pytest.raises(s2sad.SourceUnavailableError):
        s2sad.jvp(module.f)(3.0, 1.0)
    importlib.reload(module)
    assert s2sad.grad(module.f)(3.0) == pytest.approx(central_difference(module.f, {"x": 3.0}, "x"))
    assert s2sad.grad(module.f)(3.0) == pytest.approx(27.0)


def test_a_helper_edited_after_import_is_refused(make_module):
    module, path = make_module("helper_edited_after_import", """
        import numpy as np


        def helper(x):
            return np.sin(x)


        def f(x):
            return helper(x) * 2.0
        """)
    _edit(path, "np.sin(x)", "np.cos(x)")
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        s2sad.grad(module.f)(0.5)
    assert "'helper'" in str(caught.value) and "importlib.reload" in str(caught.value)
    importlib.reload(module)
    assert s2sad.grad(module.f)(0.5) == pytest.approx(-2.0 * np.sin(0.5))


def test_a_gradient_compiled_before_the_edit_stays_the_running_function_s(make_module):
    module, path = make_module("compiled_before_the_edit", """
        def f(x):
            return x ** 2
        """)
    df = s2sad.value_and_grad(module.f)
    assert df(3.0) == (9.0, 6.0)
    _edit(path, "x ** 2", "x ** 3")
    assert df(3.0) == (9.0, 6.0)  # what runs is still x ** 2


def test_a_function_given_other_code_is_compiled_again():
    """The cache was keyed by the function object alone."""
    def f(x):
        return x ** 2

    def g(x):
        return x ** 3

    assert s2sad.grad(f)(2.0) == 4.0
    f.__code__ = g.__code__
    assert s2sad.grad(f)(2.0) == pytest.approx(12.0)


class Scaled:
    __factor = 3.0

    def value(self, x):
        return np.sum(np.sin(x) * self.__factor)


class Child(Scaled):
    def value(self, x):
        """A docstring
with a line at column 0."""
        return super().value(x) + np.sum(x * -0.0) + Child._Scaled__factor * np.sum(x)


def _closure():
    scale = 2.5

    def inner(x):
        return np.sum(np.tanh(x) * scale)
    return inner


def _decorated(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@_decorated
def wrapped(x):
    return np.sum(x ** 3)


def test_current_source_is_accepted_in_every_context():
    """Methods (mangled names, super(), docstrings), closures, decorators and generated
    gradients differentiated again: their source compiles to their code."""
    from s2sad import frontend
    import inspect
    for fn in (Scaled.value, Child.value, _closure(), wrapped.__wrapped__, wrapped):
        text = inspect.getsource(fn.__code__)
        assert frontend._compiles_to(fn.__code__, text, fn.__qualname__), fn.__qualname__
    x = np.array([0.3, -0.4])
    inner = _closure()
    np.testing.assert_allclose(s2sad.grad(inner)(x), central_difference(inner, {"x": x}, "x"),
                               rtol=1e-6)
    np.testing.assert_allclose(s2sad.grad(wrapped)(x), 3 * x ** 2)
    np.testing.assert_allclose(s2sad.hessian(wrapped)(x), np.diag(6 * x), atol=1e-12)
    second = s2sad.grad(s2sad.grad(lambda_free))(0.7)
    assert second == pytest.approx(-2 * np.sin(0.7) - 0.7 * np.cos(0.7))


# -- rule templates and the parameter names of other NumPy versions -----------------------

def reshaped_like_numpy_1(a, newshape, order="C"):
    """np.reshape's signature before NumPy 2.1 (whose parameter is `shape`)."""
    return np.reshape(a, newshape, order=order)


@s2sad.adjoint(reshaped_like_numpy_1, linear="a", also_named={"shape": "newshape"})
def reshaped_like_numpy_1_adjoint(dy, y, a, shape):
    da = np.reshape(dy, np.shape(a))
    return da


def uses_the_old_name(x):
    return np.sum(reshaped_like_numpy_1(x, newshape=(3, 2)) ** 2 * np.arange(6.0).reshape(3, 2))


def test_a_template_binds_a_parameter_by_the_name_the_installed_function_gives_it():
    """`import s2sad` raised RuleDefinitionError on NumPy 1.26 and 2.0: reshape's rule
    named `shape` a parameter those versions call `newshape`."""
    from s2sad import rules
    rule = rules.lookup(reshaped_like_numpy_1)
    assert rule.params == ["a", "newshape"]
    x = np.linspace(-1.0, 1.0, 6)
    expected = central_difference(uses_the_old_name, {"x": x}, "x")
    np.testing.assert_allclose(s2sad.grad(uses_the_old_name)(x), expected, rtol=1e-6)
    value, tangent = s2sad.jvp(uses_the_old_name)(x, np.ones(6))
    assert tangent == pytest.approx(np.sum(expected))


def test_numpy_reshape_has_a_rule_whichever_name_its_parameter_has():
    import inspect
    from s2sad import rules
    names = inspect.signature(np.reshape).parameters
    expected = "shape" if "shape" in names else "newshape"
    assert rules.lookup(np.reshape).params == ["a", expected]


def test_the_declared_numpy_floor_is_the_one_the_floor_check_installs():
    """pyproject.toml's numpy>= lines, one per Python version, and .ci/numpy-floor's
    choice for this Python, which must be met by the installed NumPy."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "pyproject.toml")).read()
    floors = re.findall(r'"numpy>=([0-9.]+); python_version ([<>=]+) \'([0-9.]+)\'"', text)
    assert [f[0] for f in floors] == ["1.23.2", "1.26", "2.1", "2.3.2"]
    assert "numpy>=1.22" not in text
    installed = tuple(int(p) for p in re.findall(r"\d+", np.__version__)[:3])
    assert installed >= (1, 23, 2)
    with open(os.path.join(root, ".ci", "run")) as run:
        assert 'python3 -m pip install ".[test]" && python3 -m pytest' in run.read()


# -- refusals show the user's frames, not s2sad's ------------------------------------------

def returns_a_vector(x):
    return x * 2.0


def scalar_loss(x):
    return np.sum(np.sin(x))


def _s2sad_frames(exc):
    package = os.path.dirname(os.path.abspath(s2sad.__file__)) + os.sep
    frames = traceback.extract_tb(exc.__traceback__)
    return [f for f in frames if f.filename.startswith(package) or f.filename.startswith("<s2sad")]


def _refusal(call):
    with pytest.raises(s2sad.S2SADError) as caught:
        call()
    return caught.value


REFUSING_CALLS = {
    "grad": lambda: s2sad.grad(returns_a_vector)(np.ones(3)),
    "grad again": lambda: s2sad.grad(returns_a_vector)(np.ones(3)),
    "value_and_grad": lambda: s2sad.value_and_grad(returns_a_vector)(np.ones(3)),
    "bad wrt": lambda: s2sad.grad(scalar_loss, wrt=3),
    "decorator with bad wrt": lambda: s2sad.grad(wrt="nope")(scalar_loss),
    "source": lambda: s2sad.source(scalar_loss, mode="sideways"),
    "grad_source": lambda: s2sad.grad_source("def f(x):\n    return [x]\n", "f")(1.0),
    "integer argument": lambda: s2sad.grad(scalar_loss)(np.arange(3)),
    "jvp tangent": lambda: s2sad.jvp(scalar_loss)(np.ones(3), np.ones(2)),
    "vjp pullback": lambda: s2sad.vjp(returns_a_vector)(np.ones(3))[1](np.ones(2)),
    "jacobian": lambda: s2sad.jacobian(scalar_loss)(np.arange(3)),
    "hessian": lambda: s2sad.hessian(returns_a_vector)(np.ones(3)),
    "hvp": lambda: s2sad.hvp(scalar_loss)(np.ones(3), np.ones(2)),
    "check_grad": lambda: s2sad.check_grad(scalar_loss, np.arange(3)),
}


@pytest.mark.parametrize("name", list(REFUSING_CALLS))
def test_a_refusal_s_traceback_shows_the_user_s_frame_and_hides_s2sad_s(name):
    """Like JAX: the traceback ends in the user's code (and the raise of the public
    function they called), the diagnostic says where; s2sad's dozen frames are gone."""
    exc = _refusal(REFUSING_CALLS[name])
    frames = traceback.extract_tb(exc.__traceback__)
    assert len(_s2sad_frames(exc)) <= 2, [f"{f.filename}:{f.name}" for f in frames]
    assert frames[0].filename == __file__  # the user's frame, where the call is
    assert "S2SAD_TRACEBACK=1" in "".join(getattr(exc, "__notes__", [])) or \
        sys.version_info < (3, 11)
    assert "error:" in str(exc) and "hint:" in str(exc)


def test_s2sad_traceback_shows_every_frame(monkeypatch):
    monkeypatch.setenv("S2SAD_TRACEBACK", "1")
    exc = _refusal(REFUSING_CALLS["grad"])
    assert len(_s2sad_frames(exc)) > 2
    monkeypatch.setenv("S2SAD_TRACEBACK", "0")
    exc = _refusal(REFUSING_CALLS["grad"])
    assert len(_s2sad_frames(exc)) <= 2


def test_a_stale_source_refusal_hides_s2sad_s_frames_too(make_module):
    module, path = make_module("stale_for_traceback", """
        def f(x):
            return x ** 2
        """)
    _edit(path, "x ** 2", "x ** 3")
    exc = _refusal(lambda: s2sad.grad(module.f)(2.0))
    assert isinstance(exc, s2sad.SourceUnavailableError)
    assert len(_s2sad_frames(exc)) <= 2


def test_the_command_line_traceback_option_still_shows_everything(tmp_path):
    path = tmp_path / "vector.py"
    path.write_text("def f(x):\n    return [x]\n")
    result = subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{path}:f",
                             "--traceback"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count(f"{os.sep}s2sad{os.sep}") >= 3, result.stderr


def test_the_hessian_of_a_vector_function_is_refused_where_the_user_returns_it():
    """NonScalarOutput, raised by the gradient's code under the Hessian's JVP, left as a
    plain ValueError (not an S2SADError)."""
    with pytest.raises(s2sad.NonScalarOutputError) as caught:
        s2sad.hessian(returns_a_vector)(np.ones(3))
    assert caught.value.filename == __file__
    assert "return x * 2.0" in str(caught.value)


def helper_before(x):
    return x ** 2


def helper_after(x):
    return x ** 3


def calls_the_helper(x):
    return helper_before(x) * 2.0


def test_code_replaced_in_place_is_differentiated_anew():
    """IPython's autoreload gives an edited function new __code__ in place: a gradient
    made before kept differentiating the old code (its fast entry too)."""
    def f(x):
        return x ** 2

    def g(x):
        return x ** 3

    df = s2sad.grad(f)
    assert df(2.0) == 4.0 and df(2.0) == 4.0  # (the second call takes the fast entry)
    f.__code__ = g.__code__
    assert df(2.0) == pytest.approx(12.0)
    assert df(2.0) == pytest.approx(12.0)
    assert "x ** 3" in df.source or "3" in df.source
    dh = s2sad.value_and_grad(calls_the_helper)
    assert dh(2.0) == (8.0, 8.0) and dh(2.0) == (8.0, 8.0)
    saved = helper_before.__code__
    try:
        helper_before.__code__ = helper_after.__code__
        assert dh(2.0) == (16.0, pytest.approx(24.0))
    finally:
        helper_before.__code__ = saved
    assert dh(2.0) == (8.0, 8.0)


@pytest.mark.parametrize("entry", list(ENTRIES) + ["jvp", "hvp"])
def test_a_call_that_does_not_fit_shows_the_user_s_frame(entry):
    """As Python's own TypeError for the function would: the caller's line, not three
    frames of s2sad's argument checks."""
    transformed = s2sad.jvp(square) if entry == "jvp" else s2sad.hvp(square) \
        if entry == "hvp" else ENTRIES[entry](square)
    with pytest.raises(TypeError) as caught:
        transformed(3.0, 5.0, 1.0) if entry in ("jvp", "hvp") else transformed(3.0, 5.0)
    assert caught.value.args[0].startswith("square() takes 1 positional argument but 2")
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert frames[0].filename == __file__
    assert len(_s2sad_frames(caught.value)) <= 2


def test_a_script_edited_while_it_runs_is_told_to_run_again(tmp_path):
    script = tmp_path / "edits_itself.py"
    script.write_text(textwrap.dedent("""
        import os, time
        import s2sad

        def f(x):
            return x ** 2

        text = open(__file__).read()
        open(__file__, "w").write(text.replace("x ** " + "2", "x ** " + "3"))
        os.utime(__file__, (time.time() + 5,) * 2)
        try:
            print(s2sad.grad(f)(2.0))
        except s2sad.SourceUnavailableError as exc:
            print(exc)
        """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert "hint: run the script again" in result.stdout, result.stdout + result.stderr
