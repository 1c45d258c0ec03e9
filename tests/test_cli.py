"""Command line: `s2sad grad|ssa FILE.py:FUNC`, run as a user would, in a subprocess.

Exit status 0 on success, 1 on a transform error (the diagnostic on stderr, no
traceback unless --traceback), 2 on a usage error.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
SEED = os.path.join("examples", "seed002.py")
LECTURE = os.path.join("examples", "lecture_sin_ratio.py")
DESCENT = os.path.join("examples", "gradient_descent.py")


def cli(*args, cwd=ROOT):
    """`python -m s2sad ...` of this checkout, from any directory (a copy of s2sad
    installed in site-packages would answer otherwise)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    return subprocess.run([sys.executable, "-m", "s2sad", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def python(code, *path, cwd=ROOT):
    """Run `code` in a fresh interpreter with `path` prepended to sys.path."""
    prelude = f"import sys; sys.path[:0] = {list(path)!r}\n"
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def ok(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# -- success: exit 0 ---------------------------------------------------------------

def test_grad_prints_the_gradient_module():
    out = ok(cli("grad", f"{SEED}:f"))
    assert "def grad_f(x, *, df=1.0):" in out
    assert out.startswith("# Reverse-mode gradient of f (")
    assert "    return dx\n" in out
    compile(out, "<grad_f>", "exec")


def test_output_is_the_same_from_run_to_run():
    assert ok(cli("grad", f"{SEED}:f")) == ok(cli("grad", f"{SEED}:f"))


def test_ssa_prints_the_lowered_function():
    out = ok(cli("ssa", f"{SEED}:f"))
    assert out.splitlines() == [
        "def f(x):", "    a = np.exp(x)", "    b = a ** 2", "    c = a + b",
        "    d = np.exp(c)", "    e = np.sin(c)", "    f = d + e", "    return f"]


def test_ssa_of_the_lecture_function():
    out = ok(cli("ssa", f"{LECTURE}:F"))
    assert out.startswith("def F(x")
    assert "np.sin(" in out and out.rstrip().endswith("return F")


@pytest.mark.parametrize("wrt", ["x,y", "0,1", "x,1", " x , y "])
def test_wrt_names_and_indices(wrt):
    out = ok(cli("grad", f"{LECTURE}:F", "--wrt", wrt))
    assert "def grad_F(x, y, *, dF=1.0):" in out
    assert "    return dx, dy\n" in out


def test_wrt_names_and_indices_give_the_same_module():
    assert ok(cli("grad", f"{LECTURE}:F", "--wrt", "x,y")) == \
        ok(cli("grad", f"{LECTURE}:F", "--wrt", "0,1"))
    assert ok(cli("grad", f"{LECTURE}:F", "--wrt", "y")) == \
        ok(cli("grad", f"{LECTURE}:F", "--wrt=-1"))


def test_wrt_one_parameter_returns_one_gradient():
    out = ok(cli("grad", f"{LECTURE}:F", "--wrt", "y"))
    assert "    return dy\n" in out and "dx" not in out


def test_default_wrt_is_the_first_parameter():
    out = ok(cli("grad", f"{LECTURE}:F"))
    assert "    return dx\n" in out


def test_no_optimize_shows_the_code_before_optimisation():
    optimized = ok(cli("grad", f"{SEED}:f"))
    plain = ok(cli("grad", f"{SEED}:f", "--no-optimize"))
    assert "def grad_f(x, *, df=1.0):" in plain
    assert plain != optimized
    assert "dc = dc + " in plain and "dc += " in optimized


def test_a_decorated_function_is_differentiated_as_written():
    out = ok(cli("grad", f"{DESCENT}:loss", "--wrt", "w,b"))
    assert "def grad_loss(w, b, X, y, *, dloss=1.0):" in out
    assert "    return dw, db\n" in out


def test_runs_from_another_directory(tmp_path):
    out = ok(cli("grad", os.path.join(EXAMPLES, "seed002.py") + ":f", cwd=tmp_path))
    assert "def grad_f(" in out


def test_help_exits_0():
    result = cli("--help")
    assert result.returncode == 0 and "grad" in result.stdout and "ssa" in result.stdout
    result = cli("grad", "--help")
    assert result.returncode == 0 and "--wrt" in result.stdout


# -- -o OUT.py: an importable module ---------------------------------------------------

@pytest.mark.parametrize("options", [[], ["--no-optimize"]], ids=["optimized", "plain"])
def test_output_module_imports_in_a_fresh_interpreter(tmp_path, options):
    out = tmp_path / "seed_grad.py"
    result = cli("grad", f"{SEED}:f", "-o", str(out), *options)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "def grad_f(" in out.read_text()
    check = python(textwrap.dedent("""
        import seed_grad, seed002
        for x in (-1.0, 0.0, 0.5):
            got, want = seed_grad.grad_f(x), seed002.symbolic_df(x)
            assert abs(got - want) <= 1e-10 * abs(want), (x, got, want)
        print("ok", float(seed_grad.grad_f(0.5)))
        """), str(tmp_path), EXAMPLES, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ok 555.97196790150")


def test_output_module_of_two_gradients(tmp_path):
    result = cli("grad", f"{LECTURE}:F", "--wrt", "x,y", "--output", str(tmp_path / "g.py"))
    assert result.returncode == 0, result.stderr
    check = python(textwrap.dedent("""
        import g, lecture_sin_ratio as lecture
        for x, y in [(1.0, 2.0), (0.5, -1.5), (-2.0, 3.0)]:
            got, want = g.grad_F(x, y), lecture.hand_gradient(x, y)
            assert all(abs(a - b) <= 1e-10 * abs(b) for a, b in zip(got, want)), got
        print("ok")
        """), str(tmp_path), EXAMPLES, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout == "ok\n"


def test_output_module_reads_the_users_globals(tmp_path):
    """Module-level names the function reads are imported from the user's module."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.py").write_text(textwrap.dedent("""
        import math
        import numpy as np
        from numpy import tanh

        WEIGHTS = np.array([1.0, -2.0, 0.5])
        SCALE = 3.0

        def energy(x):
            return SCALE * np.sum(tanh(x) * WEIGHTS) + math.pi * np.sum(x ** 2)
        """))
    result = cli("grad", str(src / "model.py") + ":energy", "-o", str(tmp_path / "energy_grad.py"))
    assert result.returncode == 0, result.stderr
    check = python(textwrap.dedent("""
        import numpy as np
        import energy_grad
        x = np.array([0.3, -0.1, 1.2])
        want = 3.0 * (1 - np.tanh(x) ** 2) * np.array([1.0, -2.0, 0.5]) + 2 * np.pi * x
        np.testing.assert_allclose(energy_grad.grad_energy(x), want, rtol=1e-12)
        print("ok")
        """), str(tmp_path), str(src), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout == "ok\n"


def test_output_module_matches_the_api(tmp_path):
    import s2sad
    sys.path.insert(0, EXAMPLES)
    try:
        import gradient_descent as gd
    finally:
        sys.path.remove(EXAMPLES)
    result = cli("grad", f"{DESCENT}:loss", "--wrt", "0,1", "-o", str(tmp_path / "lg.py"))
    assert result.returncode == 0, result.stderr
    # the function is the API's, byte for byte; the helpers it calls are copied above it
    written = (tmp_path / "lg.py").read_text()
    api_source = s2sad.source(gd.loss.__wrapped__, wrt=(0, 1))
    function = api_source[api_source.index("\ndef grad_loss("):]
    assert written.endswith(function)
    assert "\nfrom s2sad" not in written and "import s2sad" not in written
    X, y = gd.make_data(n=10)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    check = python(textwrap.dedent("""
        import numpy as np, lg
        X, y = np.load("X.npy"), np.load("y.npy")
        dw, db = lg.grad_loss(np.array([0.5, 0.25]), 0.1, X, y)
        np.save("dw.npy", dw); np.save("db.npy", db)
        """), str(tmp_path), EXAMPLES, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    dw, db = gd.loss(np.array([0.5, 0.25]), 0.1, X, y)
    np.testing.assert_allclose(np.load(tmp_path / "dw.npy"), dw, rtol=1e-12)
    np.testing.assert_allclose(np.load(tmp_path / "db.npy"), db, rtol=1e-12)


# a fresh interpreter that cannot import s2sad (it may be installed in site-packages,
# not only in this checkout): -I leaves out the working directory and PYTHONPATH, and a
# finder refuses the package wherever it is
WITHOUT_S2SAD = textwrap.dedent("""\
    import sys
    class _NoS2SAD:
        def find_spec(self, name, path=None, target=None):
            if name == "s2sad" or name.startswith("s2sad."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
    sys.meta_path.insert(0, _NoS2SAD())
    try:
        import s2sad
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit("s2sad is importable")
    """)


def python_without_s2sad(code, *path, cwd):
    prelude = WITHOUT_S2SAD + f"sys.path[:0] = {list(path)!r}\n"
    return subprocess.run([sys.executable, "-I", "-c", prelude + textwrap.dedent(code)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


HELPERS = textwrap.dedent("""\
    import numpy as np


    def many_helpers(A, x, w):
        m = np.max(A, axis=1)
        p = np.concatenate([x, w])
        q = np.sum(A @ x[:4]) + np.sum(m * w[:3]) + np.sum(p[[0, 0, 1]]) ** 2
        return q + np.sum(np.maximum(x, 0.5) * w)
    """)


def test_output_module_runs_with_numpy_alone(tmp_path):
    """-o copies the s2sad.runtime helpers the code calls (and what they call) into the
    file: it imports and runs where s2sad is not installed."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "helpers_model.py").write_text(HELPERS)
    result = cli("grad", str(src / "helpers_model.py") + ":many_helpers", "--wrt", "A,x,w",
                 "-o", str(tmp_path / "standalone.py"))
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "standalone.py").read_text()
    assert "s2sad.runtime import" not in written
    assert "#   runtime:       copied below from s2sad.runtime " in written
    assert "def unbroadcast(" in written and "def tie_count(" in written
    compile(written, "standalone.py", "exec")
    check = python_without_s2sad("""
        import numpy as np
        import standalone
        rng = np.random.default_rng(3)
        A, x, w = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=4)
        dA, dx, dw = standalone.grad_many_helpers(A, x, w)
        np.savez("grads.npz", A=A, x=x, w=w, dA=dA, dx=dx, dw=dw)
        print("ok")
        """, str(tmp_path), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout == "ok\n"
    import s2sad
    sys.path.insert(0, str(src))
    try:
        import helpers_model
    finally:
        sys.path.remove(str(src))
    saved = np.load(tmp_path / "grads.npz")
    want = s2sad.grad(helpers_model.many_helpers, wrt=(0, 1, 2))(
        saved["A"], saved["x"], saved["w"])
    for name, value in zip(["dA", "dx", "dw"], want):
        np.testing.assert_allclose(saved[name], value, rtol=1e-12)


@pytest.mark.parametrize("target, options, call", [
    (f"{SEED}:f", [], "seed_grad.grad_f(0.5)"),
    (f"{DESCENT}:loss", ["--wrt", "w,b"],
     "seed_grad.grad_loss(np.ones(2), 0.5, np.ones((3, 2)), np.zeros(3))"),
    (f"{LECTURE}:F", ["--wrt", "x,y", "--mode", "forward"],
     "seed_grad.jvp_F(1.0, 2.0, 1.0, 0.0)"),
    (f"{SEED}:f", ["--no-optimize"], "seed_grad.grad_f(np.float64(0.5))"),
], ids=["seed", "loss", "forward", "plain"])
def test_examples_written_with_o_run_without_s2sad(tmp_path, target, options, call):
    result = cli("grad", target, *options, "-o", str(tmp_path / "seed_grad.py"))
    assert result.returncode == 0, result.stderr
    check = python_without_s2sad(f"""
        import numpy as np
        import seed_grad
        print(repr({call}))
        """, str(tmp_path), EXAMPLES, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip()


def test_without_s2sad_really_blocks_it(tmp_path):
    check = python_without_s2sad("import s2sad.runtime", cwd=tmp_path)
    assert check.returncode != 0 and "blocked" in check.stderr


def test_the_targets_own_prints_go_to_stderr(tmp_path):
    (tmp_path / "noisy.py").write_text(textwrap.dedent("""\
        import numpy as np
        print("loading noisy")


        def f(x):
            return np.sum(np.sin(x))


        if __name__ == "__main__":
            print("as a script")
        """))
    result = cli("grad", "noisy.py:f", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loading noisy" not in result.stdout
    assert result.stdout.startswith("# Reverse-mode gradient of f (")
    compile(result.stdout, "<grad_f>", "exec")
    assert result.stderr == "loading noisy\n"
    assert "as a script" not in result.stdout + result.stderr
    ssa = cli("ssa", "noisy.py:f", cwd=tmp_path)
    assert ssa.stdout.startswith("def f(x):") and ssa.stderr == "loading noisy\n"
    written = cli("grad", "noisy.py:f", "-o", "out.py", cwd=tmp_path)
    assert written.stdout == "" and "loading noisy" not in (tmp_path / "out.py").read_text()


def test_version():
    import s2sad
    result = cli("--version")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"s2sad {s2sad.__version__}\n"


# -- transform errors: exit 1, a diagnostic, no traceback ------------------------------

BAD = textwrap.dedent("""\
    import numpy as np


    def with_lambda(x):
        g = lambda t: t * 2
        return g(x)


    def with_try(x):
        try:
            y = np.sin(x)
        except ValueError:
            y = x
        return y


    def helper(x):
        return x * 2


    def calls_helper(x):
        return helper(x) + 1.0


    def with_loop(x):
        s = 0.0
        for i in range(3):
            s = s + x
        return s


    def with_loop_else(x):
        s = 0.0
        for i in range(3):
            s = s + x
        else:
            s = s * 2.0
        return s


    def recursive(x):
        return recursive(x * 0.5) + 1.0
    """)


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(BAD)
    return path


def line_of(text, needle):
    """(1-based line, 0-based column) of the first `needle` in the file."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle)
    raise AssertionError(needle)


UNSUPPORTED = [
    ("with_lambda", "lambda t", "lambda"),
    ("with_try", "try:", "try"),
    ("with_loop_else", "s = s * 2.0", "else block"),
    ("recursive", "recursive(x * 0.5)", "recursive call"),
]


@pytest.mark.parametrize("command, func, construct, words",
                         [("grad", *case) for case in UNSUPPORTED] +
                         [("ssa", *case) for case in UNSUPPORTED])
def test_unsupported_construct_exits_1_with_a_diagnostic(bad, command, func, construct,
                                                         words):
    result = cli(command, f"{bad}:{func}", cwd=bad.parent)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    line, col = line_of(BAD, construct)
    lines = result.stderr.splitlines()
    header = f"{bad}:{line}:{col}: error: "  # the column counts from 0, as in errors.py
    assert lines[0].startswith(header), lines[0]
    assert words in lines[0]
    # the offending source line, then a caret under the construct
    assert lines[1].strip() == BAD.splitlines()[line - 1].strip()
    caret = lines[2]
    assert set(caret.strip()) == {"^"}
    assert caret.index("^") - lines[1].index(lines[1].strip()) == \
        col - BAD.splitlines()[line - 1].index(lines[1].strip())
    assert any(text.startswith("hint: ") for text in lines[3:])


def test_ssa_inlines_a_helper_of_the_users(bad):
    out = ok(cli("ssa", f"{bad}:calls_helper"))
    assert "a = x * 2" in out and " helper(" not in out


def test_grad_of_a_loop_prints_the_loop_run_backwards(bad):
    out = ok(cli("grad", f"{bad}:with_loop"))
    assert "for i in range(3):" in out
    assert "for i in reversed(range(3)):" in out
    assert "#   stored:        nothing" in out


def test_transform_error_writes_no_output_file(bad):
    out = bad.parent / "out.py"
    result = cli("grad", f"{bad}:with_try", "-o", str(out))
    assert result.returncode == 1
    assert not out.exists()


@pytest.mark.parametrize("command", ["grad", "ssa"])
def test_traceback_option_shows_the_traceback(bad, command):
    result = cli(command, f"{bad}:with_lambda", "--traceback")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "UnsupportedSyntaxError" in result.stderr
    assert "lambda expressions are not supported" in result.stderr


# -- usage errors: exit 2 --------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ([], "required"),
    (["grad"], "required"),
    (["grad", SEED], "expected FILE.py:FUNC"),
    (["grad", f"{SEED}:"], "expected FILE.py:FUNC"),
    (["grad", ":f"], "expected FILE.py:FUNC"),
    (["grad", "no/such/file.py:f"], "no such file"),
    (["ssa", "no/such/file.py:f"], "no such file"),
    (["grad", f"{SEED}:nope"], "has no function 'nope'"),
    (["ssa", f"{SEED}:nope"], "has no function 'nope'"),
    (["grad", f"{SEED}:f", "--bogus"], "unrecognized arguments"),
    (["grad", f"{SEED}:f", "--mode", "sideways"], "invalid choice"),
    (["grad", f"{SEED}:f", "--wrt", ","], "--wrt"),
    (["grad", f"{SEED}:f", "--wrt"], "expected one argument"),
    (["ssa", f"{SEED}:f", "--wrt", "x"], "unrecognized arguments"),
    (["integrate", f"{SEED}:f"], "invalid choice"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_usage_error_exits_2(args, message):
    result = cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "s2sad: error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_module_that_fails_to_import_is_a_usage_error(tmp_path):
    (tmp_path / "boom.py").write_text("raise RuntimeError('boom')\n\ndef f(x):\n    return x\n")
    (tmp_path / "syntax.py").write_text("def f(x):\n    return x +\n")
    for name, message in [("boom", "RuntimeError: boom"), ("syntax", "SyntaxError")]:
        result = cli("grad", f"{name}.py:f", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert f"importing {name}.py failed" in result.stderr and message in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("wrt, message", [("z", "is not a parameter"), ("5", "out of range")])
def test_wrt_naming_no_parameter_is_a_usage_error(wrt, message):
    result = cli("grad", f"{SEED}:f", "--wrt", wrt)
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.returncode == 2


# (the wording of the front end's refusal, as differentiable callables grow)
NOT_A_FUNCTION = r"is not a (Python )?function"

NOT_FUNCTIONS = [
    pytest.param(f"{SEED}:np", id="a module"),
    pytest.param(f"{DESCENT}:TRUE_W", id="an array"),
    pytest.param(f"{DESCENT}:TRUE_B", id="a float"),
    pytest.param(f"{DESCENT}:s2sad", id="a package"),
]


@pytest.mark.parametrize("target", NOT_FUNCTIONS)
def test_ssa_of_a_target_that_is_not_a_function_gives_a_diagnostic(target):
    result = cli("ssa", target)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)
    assert re.search(NOT_A_FUNCTION, result.stderr), result.stderr


@pytest.mark.parametrize("target", NOT_FUNCTIONS)
def test_grad_of_a_target_that_is_not_a_function_gives_a_diagnostic(target):
    result = cli("grad", target)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)
    assert re.search(NOT_A_FUNCTION, result.stderr), result.stderr


@pytest.fixture
def library(tmp_path):
    (tmp_path / "lib.py").write_text("from math import cos\nfrom numpy import sin\n")
    return tmp_path


@pytest.mark.parametrize("command", ["grad", "ssa"])
def test_a_target_that_is_a_builtin_gives_a_diagnostic(library, command):
    result = cli(command, "lib.py:cos", cwd=library)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)
    assert re.search(NOT_A_FUNCTION, result.stderr), result.stderr


@pytest.mark.parametrize("command", ["grad", "ssa"])
def test_a_target_that_is_a_numpy_ufunc_gives_a_diagnostic(library, command):
    result = cli(command, "lib.py:sin", cwd=library)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)
    assert re.search(NOT_A_FUNCTION, result.stderr), result.stderr


def test_output_to_a_missing_directory_is_a_usage_error(tmp_path):
    result = cli("grad", f"{SEED}:f", "-o", str(tmp_path / "missing" / "out.py"))
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "s2sad: error:" in result.stderr
    assert not (tmp_path / "missing").exists()


# -- entry points ----------------------------------------------------------------------

def test_python_dash_m_s2sad():
    result = cli("grad", f"{SEED}:f")
    assert result.returncode == 0 and "def grad_f(" in result.stdout


def console_script():
    """The `s2sad` script of this interpreter's environment, else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "s2sad")
    return beside if os.path.isfile(beside) else shutil.which("s2sad")


def test_console_script():
    exe = console_script()
    if exe is None:
        pytest.skip("the s2sad console script is not installed")
    result = subprocess.run([exe, "grad", f"{SEED}:f"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == cli("grad", f"{SEED}:f").stdout
    usage = subprocess.run([exe, "grad"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert usage.returncode == 2
    assert re.search(r"s2sad: error: .*FILE\.py:FUNC", usage.stderr)


def test_export_refuses_values_no_import_can_name(tmp_path):
    """-o writes a module that must run on its own: a helper's globals from another
    module cannot be imported under the names the generated code uses."""
    (tmp_path / "helpermod.py").write_text(textwrap.dedent("""\
        import numpy as np
        H = 2.0


        def hh(t):
            return t * H
        """))
    (tmp_path / "rootmod.py").write_text(textwrap.dedent("""\
        import numpy as np
        from helpermod import hh
        H = 3.0


        def f(x):
            s = 0.0
            for i in range(2):
                s = s + hh(x[i]) * H
            return s
        """))
    result = cli("grad", f"{tmp_path / 'rootmod.py'}:f", "-o", str(tmp_path / "out.py"),
                 cwd=tmp_path)
    assert result.returncode == 1 and "no import can name" in result.stderr
    assert not (tmp_path / "out.py").exists()


# -- packaging -------------------------------------------------------------------------

def _pyproject():
    tomllib = pytest.importorskip("tomllib")  # (Python 3.11+)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_version_in_pyproject_is_the_packages():
    import s2sad
    assert _pyproject()["project"]["version"] == s2sad.__version__


def test_package_metadata_ships_types_license_and_urls():
    project = _pyproject()
    assert os.path.isfile(os.path.join(ROOT, "s2sad", "py.typed"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["s2sad"]
    assert project["project"]["license"] == {"text": "Apache-2.0"}
    with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as f:
        license_text = f.read()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    urls = project["project"]["urls"]
    assert set(urls) == {"Homepage", "Repository", "Issues", "Changelog"}
    assert all(url.startswith("https://github.com/s2sad/s2sad") for url in urls.values())
