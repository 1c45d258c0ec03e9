"""The README shows what the code prints today: each block of generated code it shows
is compared with what s2sad generates for the same function, and the snippets of
its "Coming from JAX or autograd" section run as written."""
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def readme_blocks():
    """Every fenced block of README.md: (language, text, the prose just before it)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = []
    for match in re.finditer(r"```(\w*)\n(.*?)```", text, re.S):
        before = text[:match.start()].rstrip().rsplit("\n\n", 1)[-1]
        blocks.append((match.group(1), match.group(2), before))
    return blocks


def block_after(prose_ends_with, containing=None):
    """The block whose preceding prose ends with these words."""
    for language, text, before in readme_blocks():
        if before.endswith(prose_ends_with) and (containing is None or containing in text):
            return text
    raise AssertionError(f"README has no block after {prose_ends_with!r}")


def block_containing(needle):
    found = [text for _, text, _ in readme_blocks() if needle in text]
    assert found, f"README has no block containing {needle!r}"
    return found[0]


@pytest.fixture(scope="module")
def examples():
    sys.path.insert(0, EXAMPLES)
    try:
        import convolution_loops
        import seed002
        yield {"seed002": seed002, "convolution_loops": convolution_loops}
    finally:
        sys.path.remove(EXAMPLES)


def relative(text):
    """Generated headers name the file by its absolute path; the README by the
    repository's."""
    return text.replace(ROOT + os.sep, "")


def function_text(module, name):
    """`def name(...)` and its body, as written in the module."""
    with open(module.__file__, encoding="utf-8") as f:
        source = f.read()
    start = source.index(f"def {name}(")
    end = source.find("\n\n\n", start)
    return source[start:end if end >= 0 else None].rstrip()


# -- the tour -------------------------------------------------------------------------

def test_the_tours_function_is_seed_002s(examples):
    tour = block_containing("print(f.source)")
    shown = tour[tour.index("def f(x):"):tour.index("\n\n", tour.index("def f(x):"))]
    assert shown == function_text(examples["seed002"], "f")


def test_the_tour_prints_what_the_code_prints(examples):
    df = s2sad.grad(examples["seed002"].f)
    tour = block_containing("print(f.source)")
    comment = re.search(r"f\(0\.5\)\s+# ([\d.]+)\.\.\.", tour).group(1)
    assert repr(df(0.5)).startswith(comment)
    assert block_after("prints", containing="def grad_f(") == relative(df.source)


def test_the_tour_says_how_float_code_reads():
    """The prose under the tour's output describes that output."""
    shown = block_after("prints", containing="def grad_f(")
    if "math.exp(x)" in shown:
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            text = f.read()
        after = text[text.index(shown) + len(shown):]
        assert "`math`" in after[:1500]


def test_forward_mode_output(examples):
    shown = block_after("prints", containing="def jvp_f(")
    generated = relative(s2sad.source(examples["seed002"].f, mode="forward"))
    assert generated.endswith("\n" + shown), generated
    cli = subprocess.run([sys.executable, "-m", "s2sad", "grad", "examples/seed002.py:f",
                          "--mode", "forward"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert relative(cli.stdout).endswith("\n" + shown)


def test_the_matrix_adjoint_shown(tmp_path):
    shown = block_containing("C = A @ B")
    line = int(re.search(r"adjoint of line (\d+)", shown).group(1))
    module = tmp_path / "matrices_readme.py"
    module.write_text("import numpy as np\n" + "\n" * (line - 3) + textwrap.dedent("""\
        def f(A, B):
            C = A @ B
            return np.sum(np.sin(C))
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        import matrices_readme
        df = s2sad.grad(matrices_readme.f, wrt=(0, 1))
        df(np.ones((2, 3)), np.ones((3, 4)))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("matrices_readme", None)
    assert shown in df.source


def test_the_loop_example_and_its_adjoint(examples):
    conv = examples["convolution_loops"]
    shown = block_containing("def conv_energy(a, b):")
    assert shown.replace("                    # examples/convolution_loops.py", "").rstrip() \
        == function_text(conv, "conv_energy")
    tail = block_after("ends in", containing="reversed(range(n))")
    assert s2sad.source(conv.conv_energy, wrt=(0, 1)).endswith(tail + "    return da, db\n")


# -- Coming from JAX or autograd ------------------------------------------------------

def section(title):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_coming_from_jax_names_each_habit():
    text = section("Coming from JAX or autograd")
    for name in ["argnums", "s2sad.elementwise_grad", "s2sad.hessp", "hessp=",
                 "jax.grad", "autograd.elementwise_grad", "did you mean 'argnums'?"]:
        assert name in text, name


def test_coming_from_jax_snippets_run(tmp_path):
    """The section's python blocks run as written (SciPy's where it is installed)."""
    text = section("Coming from JAX or autograd")
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    if "scipy" in code:
        pytest.importorskip("scipy")
    script = tmp_path / "coming_from_jax.py"
    script.write_text(code)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    for comment, printed in zip(re.findall(r"# prints (.*)", code),
                                result.stdout.splitlines()):
        assert printed == comment
    assert len(re.findall(r"# prints (.*)", code)) == len(result.stdout.splitlines())
