"""The compiled path: s2sad.grad(f, jit=True) runs the generated code through Numba.

The gradient is the same as the Python one; the source is the code Numba compiled
(backward loops as explicit ranges, a counted loop's float numbers stored in
arrays indexed by its counter); code outside Numba's subset runs as Python
with one JitFallback warning naming the reason; without Numba the same.
Speed is measured in benchmarks/, not here.
"""
import os
import re
import sys
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad
from s2sad.jit import JitFallback

numba = pytest.importorskip("numba")


def horner(x, c):
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def convolution(a, b):
    c = np.zeros(len(a) + len(b) - 1)
    for i in range(len(a)):
        for k in range(len(b)):
            c[i + k] += a[i] * b[k]
    return np.sum(c ** 2)


def first_crossing(x, c):
    s = 0.0
    for i in range(len(c)):
        s = s * x + c[i]
        if s > 4.0:
            break
    return s


C = np.array([0.5, 1.0, 1.5, 2.0, 2.5])


@pytest.mark.parametrize("fn, args, wrt", [
    (horner, (0.7, C), (0, 1)),
    (convolution, (C, C[:3]), (0, 1)),
    (first_crossing, (0.9, C), (0, 1)),
], ids=["horner", "convolution", "break"])
def test_jit_gradient_equals_the_python_gradient(fn, args, wrt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)  # Numba must take these
        compiled = s2sad.grad(fn, wrt=wrt, jit=True)
        got = compiled(*args)
    expected = s2sad.grad(fn, wrt=wrt)(*args)
    for g, e in zip(got, expected):
        assert type(g) is type(e) and np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-13)
    assert "compiled by:   Numba" in compiled.source
    assert "reversed(" not in compiled.source.split("\n\n\n")[1]


def test_backward_loops_are_written_as_explicit_ranges():
    compiled = s2sad.grad(horner, wrt=(0, 1), jit=True)
    compiled(0.7, C)
    assert "for i in range(a - 1, -1, -1):" in compiled.source
    broken = s2sad.grad(first_crossing, wrt=(0, 1), jit=True)
    broken(0.9, C)
    assert "range(runs - 1, -1, -1)" in broken.source


def rk4(y0, lam, steps, dt):
    y = y0
    for i in range(steps):
        t = i * dt
        k1 = -lam * y + np.sin(t)
        k2 = -lam * (y + 0.5 * dt * k1) + np.sin(t + 0.5 * dt)
        y = y + dt * k2
    return y


def stored_index(x, c):
    s = 0.0
    for i in range(8):
        j = (i * 3) % len(c)
        s = np.sin(s * c[j] + x)
    return s


def test_stored_float_numbers_go_in_float_arrays_for_numba():
    compiled = s2sad.grad(rk4, wrt=(0, 1), jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(1.0, 0.5, 50, 0.05)
    code = compiled.source.split("\n\n\n")[1]
    assert "y_stored = np.empty(max(steps, 0))" in code and "y_stored[i] = y" in code
    assert "y = y_stored[i]" in code and "tape" not in code
    expected = [numeric_grad(rk4, [1.0, 0.5, 50, 0.05], k) for k in (0, 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    python = compiled.compiled.function(1.0, 0.5, 50, 0.05)  # the fallback, as Python
    np.testing.assert_allclose(python, got, rtol=1e-13)


def test_stored_integers_stay_on_the_stack_beside_float_arrays():
    compiled = s2sad.grad(stored_index, wrt=(0, 1), jit=True)
    c = np.array([0.5, 1.0, 1.5, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(0.3, c)
    code = compiled.source.split("\n\n\n")[1]
    # (a stored index keeps a stack of its own: a Numba list holds one type)
    assert "tape.append(" not in code.replace("j_tape.append(j)", "")
    assert "s_stored = np.empty(8)" in code and "s = s_stored[i]" in code
    for g, k in zip(got, (0, 1)):
        np.testing.assert_allclose(g, numeric_grad(stored_index, [0.3, c], k), rtol=1e-7)
    for g, e in zip(got, s2sad.grad(stored_index, wrt=(0, 1))(0.3, c)):
        np.testing.assert_allclose(g, e, rtol=1e-13)


def contracted(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.einsum("i,i->", np.tanh(x), w)
    return s


def test_code_outside_numbas_subset_falls_back_with_one_warning():
    compiled = s2sad.grad(contracted, jit=True)
    x, w = np.array([0.1, 0.2]), np.array([1.0, 2.0])
    with pytest.warns(JitFallback, match="Numba cannot compile") as caught:
        got = compiled(x, w)
    np.testing.assert_allclose(got, s2sad.grad(contracted)(x, w), rtol=1e-13)
    # the reason names the helper Numba has no type for, and the generated line
    message = str(caught[0].message)
    assert "einsum_adjoint" in message
    number, text = re.search(r"\(line (\d+) of the generated code: (.*)\)$", message).groups()
    assert "einsum_adjoint(" in text
    assert compiled.source.splitlines()[int(number) - 1].strip() == text
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)  # warned once only
        compiled(x, w)


def horner_again(x, c):
    """Horner once more: its compiled gradient is not cached yet."""
    p = 0.0
    for i in range(len(c)):
        p = p * x + c[i]
    return p


def test_without_numba_the_python_code_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    compiled = s2sad.grad(horner_again, wrt=(0, 1), jit=True)
    with pytest.warns(JitFallback, match="not installed"):
        got = compiled(0.7, C)
    np.testing.assert_allclose(got[1], s2sad.grad(horner, wrt=1)(0.7, C))


# -- array loops (issue 19): each compiles, with no fallback -------------------------
#
# The same mathematics in several spellings a user might write. Each jitted gradient
# equals the Python one (same types and shapes) and central differences.

def heat_augmented(u0, r, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] += r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u ** 2)


def heat_assigned(u0, r, steps=6):
    u = np.copy(u0)
    for _ in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_fresh_array(u, r, steps):
    n = len(u)
    for _ in range(steps):
        un = u.copy()
        un[1:n - 1] = u[1:n - 1] + r * (u[2:n] - 2 * u[1:n - 1] + u[0:n - 2])
        u = un
    return np.mean(u ** 2)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_matmul(Wx, Wh, b, xs, h0, c0):
    h = h0
    c = c0
    n = h0.shape[0]
    for t in range(xs.shape[0]):
        z = Wx @ xs[t] + Wh @ h + b
        i = sigmoid(z[:n])
        f = sigmoid(z[n:2 * n])
        o = sigmoid(z[2 * n:3 * n])
        g = np.tanh(z[3 * n:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.sum(h ** 2)


def lstm_dot(W, U, b, xs):
    H = U.shape[1]
    h = np.zeros(H)
    c = np.zeros(H)
    for x in xs:
        gates = np.dot(W, x) + np.dot(U, h) + b
        i = 1 / (1 + np.exp(-gates[0:H]))
        f = 1 / (1 + np.exp(-gates[H:2 * H]))
        o = 1 / (1 + np.exp(-gates[2 * H:3 * H]))
        g = np.tanh(gates[3 * H:4 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.dot(h, h)


def nbody_sqrt(x, v, m, dt, steps):
    n = x.shape[0]
    for s in range(steps):
        a = np.zeros_like(x)
        for i in range(n):
            for j in range(n):
                if i != j:
                    d = x[j] - x[i]
                    r = np.sqrt(np.sum(d ** 2) + 0.01)
                    a[i] += m[j] * d / r ** 3
        v = v + dt * a
        x = x + dt * v
    return np.sum(x ** 2)


def nbody_norm(pos, vel, masses, dt=0.01, steps=3):
    n = len(masses)
    for _ in range(steps):
        acc = np.zeros_like(pos)
        for i in range(n):
            for j in range(n):
                if i != j:
                    diff = pos[j] - pos[i]
                    dist = np.linalg.norm(diff) + 0.1
                    acc[i] = acc[i] + masses[j] * diff / dist ** 3
        vel = vel + dt * acc
        pos = pos + dt * vel
    return np.sum(pos[:, 0])


def horner_reversed(coeffs, x):
    result = 0.0
    for c in coeffs[::-1]:
        result = result * x + c
    return result


def rk4_vector(y, k, dt, steps):
    for _ in range(steps):
        k1 = -k * y
        k2 = -k * (y + dt / 2 * k1)
        k3 = -k * (y + dt / 2 * k2)
        k4 = -k * (y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(y ** 2)


def convolution_lecture(a, b):
    """The lecture's loop in its own spelling: x = z - y; c[z] += a[x] * b[y]."""
    c = np.zeros(len(a) + len(b) - 1)
    for z in range(len(c)):
        for y in range(len(b)):
            x = z - y
            if 0 <= x < len(a):
                c[z] += a[x] * b[y]
    return np.sum(c ** 2)


_rng = np.random.default_rng(19)
_H, _X, _T = 3, 2, 4
_LSTM = (_rng.normal(size=(4 * _H, _X)) * 0.5, _rng.normal(size=(4 * _H, _H)) * 0.5,
         _rng.normal(size=4 * _H) * 0.1, _rng.normal(size=(_T, _X)))

LOOP_PROGRAMS = [
    (heat_augmented, (_rng.random(10), 0.2, 5), 0),
    (heat_assigned, (_rng.random(10), 0.25), (0, 1)),  # steps left to its default
    (heat_fresh_array, (_rng.random(9), 0.2, 4), (0, 1)),
    (lstm_matmul, _LSTM + (_rng.normal(size=_H), _rng.normal(size=_H)), (0, 1, 2, 4)),
    (lstm_dot, _LSTM, (0, 1, 2, 3)),
    (nbody_sqrt, (_rng.normal(size=(4, 3)), _rng.normal(size=(4, 3)) * 0.1,
                  _rng.random(4) + 0.5, 0.01, 3), (0, 1, 2, 3)),
    (nbody_norm, (_rng.normal(size=(3, 2)), _rng.normal(size=(3, 2)) * 0.1,
                  _rng.random(3) + 0.5), (0, 1, 2)),
    (horner_reversed, (_rng.random(6), 0.8), (0, 1)),
    (rk4_vector, (_rng.random(3), 0.7, 0.05, 10), (0, 1, 2)),
    (convolution_lecture, (_rng.random(5), _rng.random(3)), (0, 1)),
]


def _flat(values):
    return values if isinstance(values, tuple) else (values,)


@pytest.mark.parametrize("fn, args, wrt", LOOP_PROGRAMS,
                         ids=[p[0].__name__ for p in LOOP_PROGRAMS])
def test_array_loops_compile_and_match_the_python_gradient(fn, args, wrt):
    compiled = s2sad.grad(fn, wrt=wrt, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(*args)
    assert compiled.compiled.runner.compiled is not None  # Numba's code ran
    expected = s2sad.grad(fn, wrt=wrt)(*args)
    for g, e in zip(_flat(got), _flat(expected)):
        assert type(g) is type(e) and np.shape(g) == np.shape(e)
        assert np.result_type(g) == np.result_type(e)
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-14)
    for g, k in zip(_flat(got), _flat(wrt)):
        np.testing.assert_allclose(g, numeric_grad(fn, args, k), rtol=1e-6, atol=1e-9)
    assert all(isinstance(a, float) or not np.shares_memory(a, g)
               for a in args for g in _flat(got))


def test_the_rewritten_stores_are_plain_python_too():
    """The forms written for Numba (a stack per stored value, a value pushed after
    it is bound) are what the fallback runs: as Python they give the same gradient."""
    for fn, args, wrt in (LOOP_PROGRAMS[0], LOOP_PROGRAMS[3], LOOP_PROGRAMS[5]):
        compiled = s2sad.grad(fn, wrt=wrt, jit=True)
        compiled(*args)
        code = compiled.source.split("\n\n\n")[1]
        assert "\n    tape = []" not in code and " = None" not in code
        python = compiled.compiled.function(*args)
        for g, e in zip(_flat(python), _flat(s2sad.grad(fn, wrt=wrt)(*args))):
            np.testing.assert_allclose(g, e, rtol=1e-13)


def test_a_value_bound_in_the_loop_is_stored_after_its_binding():
    """Python's code binds it to None before the loop, and stores it before each
    binding; Numba's stores it after each binding, so its stack holds no None."""
    plain = s2sad.grad(lstm_matmul, wrt=0)
    plain(*LOOP_PROGRAMS[3][1])
    placeholders = re.findall(r"^    (\w+) = None$", plain.source, re.M)
    assert placeholders
    compiled = s2sad.grad(lstm_matmul, wrt=0, jit=True)
    compiled(*LOOP_PROGRAMS[3][1])
    lines = [line.strip() for line in compiled.source.splitlines()]
    for stored in placeholders:
        pushes = [k for k, line in enumerate(lines) if line == f"{stored}_tape.append({stored})"]
        assert pushes and all(lines[k - 1].startswith(f"{stored} = ") for k in pushes)
        pops = [k for k, line in enumerate(lines) if line == f"{stored}_tape.pop()"]
        assert pops and all(lines[k + 1] == f"if {stored}_tape:" and
                            lines[k + 2] == f"{stored} = {stored}_tape[-1]" for k in pops)


def defaults(x, c, scale=2.0, *, shift=0.5):
    p = 0.0
    for i in range(len(c)):
        p = p * x + scale * c[i] + shift
    return p


def test_defaults_are_bound_before_compiling():
    compiled = s2sad.grad(defaults, wrt=(0, 1), jit=True)
    c = np.array([0.5, 1.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        left_out = compiled(0.7, c)
        passed = compiled(0.7, c, 3.0, shift=0.25)
    assert "scale scalar" in compiled.source  # the code for the default's rank
    for g, e in zip(left_out, s2sad.grad(defaults, wrt=(0, 1))(0.7, c)):
        np.testing.assert_allclose(g, e, rtol=1e-13)
    for g, k in zip(passed, (0, 1)):
        np.testing.assert_allclose(g, numeric_grad(lambda x, c: defaults(x, c, 3.0, shift=0.25),
                                                   [0.7, c], k), rtol=1e-7)


# -- the helpers' Numba implementations (jit_runtime.py) against runtime.py's ---------

from s2sad import runtime  # noqa: E402

_a = np.arange(1.0, 7.0)
_m = np.arange(1.0, 7.0).reshape(2, 3)

HELPER_CASES = [
    ("unbroadcast", (_a, np.ones(6))),                 # the identity
    ("unbroadcast", (_m, np.ones(3))),                 # a leading axis summed
    ("unbroadcast", (_m, np.ones((1, 3)))),            # a size-1 axis summed
    ("unbroadcast", (_m, np.ones((2, 1)))),
    ("unbroadcast", (_m[:, ::2], np.ones((2, 1)))),    # a strided operand
    ("unbroadcast", (_m, 1.5)),                        # to a number
    ("unbroadcast", (2.5, np.ones((2, 2)))),           # a number spread
    ("unbroadcast", (_a[:3], np.ones((2, 3)))),        # a lower rank spread
    ("unbroadcast", (2.5, 1.0)),
    ("unsum", (2.0, _m)),
    ("unsum", (np.arange(3.0), _m, 0)),
    ("unsum", (np.arange(2.0), _m, 1)),
    ("unsum", (np.arange(2.0), _m, -1)),
    ("unsum", (np.arange(3.0).reshape(1, 3), _m, 0, True)),
    ("unsum", (np.float64(2.0), _m, (0, 1))),
    ("unsum", (3.0, 1.5)),
    ("spread", (np.arange(3.0), _m, 0)),
    ("spread", (np.arange(2.0), _m, 1)),
    ("spread", (np.arange(2.0), _m)),
    ("spread", (np.arange(3.0).reshape(1, 3), _m, 0, True)),
    ("tie_count", (_m == 6.0, _m)),
    ("tie_count", (_m > 2.0, _m, 0)),
    ("tie_count", (_m > 2.0, _m, 1, True)),
    ("zeros_like", (_m,)),
    ("zeros_like", (_m.astype(np.float32),)),
    ("zeros_like", (np.arange(3),)),
    ("zeros_like", (1.5,)),
    ("unindex", (2.0, _a, 3)),
    ("unindex", (np.ones(3), _m, 1)),
    ("unindex", (np.array([1.0, 2.0, 3.0]), _a, np.array([0, 0, 4]))),  # repeats add up
    ("matmul_adjoint_a", (np.ones(2), _m, np.arange(3.0))),
    ("matmul_adjoint_b", (np.ones(2), _m, np.arange(3.0))),
    ("matmul_adjoint_a", (np.ones(3), np.arange(2.0), _m)),
    ("matmul_adjoint_b", (np.ones(3), np.arange(2.0), _m)),
    ("matmul_adjoint_a", (np.ones((2, 2)), _m, _m.T.copy())),
    ("matmul_adjoint_b", (np.ones((2, 2)), _m, _m.T.copy())),
    ("matmul_adjoint_a", (2.0, _a, _a)),
    ("matmul_adjoint_b", (2.0, _a, _a)),
    ("dot_adjoint_a", (np.ones(3), 2.0, _a[:3])),
    ("dot_adjoint_b", (np.ones(3), 2.0, _a[:3])),
    ("dot_adjoint_a", (np.ones((2, 2)), _m, _m.T.copy())),
    ("sign", (-0.5,)),
    ("sign", (0.0,)),
]


@pytest.mark.parametrize("helper, args", HELPER_CASES,
                         ids=[f"{h}-{k}" for k, (h, _) in enumerate(HELPER_CASES)])
def test_a_helper_under_numba_gives_the_python_helpers_result(helper, args):
    from s2sad import jit_runtime
    jit_runtime.register()
    function = getattr(runtime, helper)
    # the arrays passed, the rest written in the call, as generated code writes them
    arrays = [a for a in args if isinstance(a, (np.ndarray, float))]
    names = [f"a{k}" for k in range(len(arrays))]
    written = iter(names)
    text = ", ".join(next(written) if isinstance(a, (np.ndarray, float)) else repr(a)
                     for a in args)
    compiled = numba.njit(eval(f"lambda {', '.join(names)}: runtime.{helper}({text})"))
    got, expected = compiled(*arrays), function(*args)
    assert np.shape(got) == np.shape(expected)
    assert np.result_type(got) == np.result_type(expected)
    np.testing.assert_array_equal(got, expected)


def test_a_helper_case_numba_has_no_implementation_for_is_refused_by_numba():
    """(so the gradient falls back to Python, named, rather than computing a wrong one)"""
    from s2sad import jit_runtime
    jit_runtime.register()
    compiled = numba.njit(lambda dy, x, index: runtime.unindex(dy, x, index))
    with pytest.raises(numba.core.errors.TypingError, match="unindex"):
        compiled(np.ones((2, 2)), _m, (np.array([0, 1]), np.array([1, 2])))


# -- what Numba compiles in: data globals, and the cache on disk ---------------------

WEIGHTS = np.array([1.0, 2.0, 3.0])


def weighted_horner(x, c):
    p = 0.0
    for i in range(len(c)):
        p = p * x + WEIGHTS[i] * c[i]
    return p


def test_a_data_global_changed_after_compiling_is_read_again(monkeypatch):
    """Numba freezes the globals it reads; the Python code reads them live. A global
    rebound or changed in place compiles the code again, so both agree."""
    compiled = s2sad.grad(weighted_horner, wrt=(0, 1), jit=True)
    python = s2sad.grad(weighted_horner, wrt=(0, 1))
    c = np.array([0.5, 1.0, 1.5])

    def check(weights):
        with warnings.catch_warnings():
            warnings.simplefilter("error", JitFallback)
            got = compiled(0.7, c)
        np.testing.assert_allclose(got[1], weights * np.array([0.49, 0.7, 1.0]), rtol=1e-13)
        for g, e in zip(got, python(0.7, c)):
            np.testing.assert_allclose(g, e, rtol=1e-13)

    check(np.array([1.0, 2.0, 3.0]))
    monkeypatch.setitem(globals(), "WEIGHTS", np.array([3.0, 2.0, 1.0]))
    check(np.array([3.0, 2.0, 1.0]))
    WEIGHTS[0] = 10.0  # (the rebound array, changed in place)
    check(np.array([10.0, 2.0, 1.0]))


_CACHED_RUN = """
import warnings
import numpy as np, s2sad
from s2sad.jit import JitFallback
warnings.simplefilter("error", JitFallback)
def heat(u0, r, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] += r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u ** 2)
g = s2sad.grad(heat, jit=True)
print(g(np.linspace(0.0, 1.0, 8) ** 2, 0.2, 3).tolist())
print(sum(g.compiled.runner.compiled.stats.cache_hits.values()))
"""


def test_compiled_code_is_cached_on_disk_for_the_next_process(tmp_path):
    import subprocess
    script = tmp_path / "cached_heat.py"
    script.write_text(_CACHED_RUN)
    cache = tmp_path / "cache"
    env = {**os.environ, "S2SAD_CACHE_DIR": str(cache)}
    outputs = []
    for _ in range(2):
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             env=env)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout.strip().splitlines())
    (first, hits_first), (second, hits_second) = outputs
    assert first == second
    assert (hits_first, hits_second) == ("0", "1")  # the second process loaded it
    assert len(list((cache / "numba").glob("grad_heat_*.py"))) == 1
    env["S2SAD_CACHE_DIR"] = "off"
    off = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env)
    assert off.stdout.strip().splitlines() == [first, "0"]


# -- corpus loops that fell back or failed before (tests/corpus_loops.py) -----------

import corpus_loops  # noqa: E402
from test_loops import loop_inputs_for  # noqa: E402

CORPUS_REGRESSIONS = [
    corpus_loops.range_empty,               # range(len(x), 2): np.empty(-2) raised
    corpus_loops.range_positive_step,       # reversed(range(a, b, 2)): left to Numba
    corpus_loops.range_negative_step_two,
    corpus_loops.write_zeros_like_add,      # c[i].copy() of a number: Numba has none
    corpus_loops.forward_substitution,
]


@pytest.mark.parametrize("fn", CORPUS_REGRESSIONS, ids=[f.__name__ for f in CORPUS_REGRESSIONS])
def test_corpus_loops_that_fell_back_compile(fn):
    call = loop_inputs_for(fn)
    wrt = tuple(call.wrt_spec(p) for p in call.float_params)
    compiled = s2sad.grad(fn, wrt=wrt, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(*call.args, **call.kwargs)
    expected = s2sad.grad(fn, wrt=wrt)(*call.args, **call.kwargs)
    for g, e in zip(got, expected):
        assert type(g) is type(e) and np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("start, stop, step", [
    (0, 7, 3), (5, 0, -2), (0, 0, 1), (3, 3, -1), (2, 11, 4), (10, -3, -3), (4, 1, 2),
    (1, 4, -2), (0, 5, -1), (7, 0, -1), (0, 9, 1), (-4, 4, 5)])
def test_a_stepped_backward_range_is_written_explicitly(start, stop, step):
    import ast
    import gast
    from s2sad.jit import _explicit_range
    loop = gast.parse(f"reversed(range(start, stop, {step}))").body[0].value
    explicit = ast.unparse(gast.gast_to_ast(_explicit_range(loop)))
    assert "reversed" not in explicit
    assert list(eval(explicit)) == list(reversed(range(start, stop, step)))


def test_an_empty_counted_loop_stores_into_empty_arrays():
    def count_down(x, c):
        p = 0.0
        for i in range(len(c) - 10):  # no trip: range(-7)
            p = p * x + c[i]
        return p + x * np.sum(c)
    compiled = s2sad.grad(count_down, wrt=(0, 1), jit=True)
    c = np.array([0.5, 1.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallback)
        got = compiled(0.7, c)
    assert "np.empty(max(" in compiled.source
    np.testing.assert_allclose(got[0], np.sum(c))
    np.testing.assert_allclose(got[1], [0.7, 0.7, 0.7])


def embedding_lookups(E, w, tokens):
    s = 0.0
    for t in range(len(tokens)):
        s = s + np.tanh(np.dot(E[tokens[t]], w))
    return s


def gathered_rows(x, idx, steps):
    y = np.zeros_like(x)
    for k in range(steps):
        y = y + np.sin(x[idx]) * (k + 1)
    return np.sum(y ** 2)


def test_adding_at_repeated_indices_compiles():
    """np.add.at, which Numba lacks, is written add_at in the code for Numba."""
    E = np.arange(12.0).reshape(4, 3) / 10
    w = np.array([0.5, -0.25, 1.0])
    tokens = np.array([2, 0, 2, 3])
    x, idx = np.array([0.1, 0.5, -0.3]), np.array([0, 0, 2])
    for fn, args, wrt in ((embedding_lookups, (E, w, tokens), (0, 1)),
                          (gathered_rows, (x, idx, 3), 0)):
        compiled = s2sad.grad(fn, wrt=wrt, jit=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", JitFallback)
            got = compiled(*args)
        assert "add_at(" in compiled.source and "np.add.at" not in compiled.source
        for g, k in zip(_flat(got), _flat(wrt)):
            np.testing.assert_allclose(g, numeric_grad(fn, args, k), rtol=1e-6, atol=1e-9)
        for g, e in zip(_flat(got), _flat(s2sad.grad(fn, wrt=wrt)(*args))):
            np.testing.assert_allclose(g, e, rtol=1e-12)
