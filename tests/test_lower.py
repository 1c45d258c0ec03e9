"""Lowering: golden lowered text, and the lowered function computes what the original does."""
import math
import textwrap

import numpy as np
import pytest

from s2sad import frontend, pipeline

ENV = {"np": np, "math": math}


def lowered(text: str, name: str = "f") -> str:
    return pipeline.lowered_source(frontend.parse_source(textwrap.dedent(text), name,
                                                         env=ENV))


def run_lowered(text: str, *args, name: str = "f"):
    namespace = dict(ENV)
    exec(lowered(text, name), namespace)
    return namespace[name](*args)


def test_seed_002_lowers_to_the_blog_intermediate_variables():
    text = """
    def f(x):
        return np.exp(np.exp(x) + np.exp(x) ** 2) + np.sin(np.exp(x) + np.exp(x) ** 2)
    """
    assert lowered(text) == textwrap.dedent("""\
        def f(x):
            a = np.exp(x)
            b = a ** 2
            c = a + b
            d = np.exp(c)
            e = np.sin(c)
            f = d + e
            return f
        """)


def test_lecture_sin_ratio_lowers_to_one_operation_per_line():
    text = """
    def F(x, y):
        return np.sin(x + y) / (x * y)
    """
    assert lowered(text, "F") == textwrap.dedent("""\
        def F(x, y):
            a = x + y
            b = np.sin(a)
            c = x * y
            F = b / c
            return F
        """)


def test_reassignment_gets_versions_and_user_names_stay():
    text = """
    def f(x):
        y = x * 2
        y = np.sin(y)
        y += x
        return y
    """
    assert lowered(text) == textwrap.dedent("""\
        def f(x):
            y = x * 2
            y_1 = np.sin(y)
            y_2 = y_1 + x
            return y_2
        """)


def test_equal_values_are_computed_once():
    text = """
    def f(x):
        b = np.sin(x)
        c = np.sin(x)
        return b + c
    """
    assert "c = b" in lowered(text)


@pytest.mark.parametrize("write", ["c[0] = 5.0", "c += 1.0", "b[1:] = 0.0", "b += c"])
def test_a_name_written_into_shares_no_equal_value(write):
    text = f"""
    def f(x):
        b = x * 2.0
        c = x * 2.0
        {write}
        return b + c
    """  # sharing one array, the write would reach the other name too
    code = lowered(text)
    assert "c = x * 2.0" in code and "c = b" not in code
    x = np.array([1.0, 2.0, 3.0])
    namespace = dict(ENV)
    exec(textwrap.dedent(text), namespace)
    np.testing.assert_array_equal(run_lowered(text, x.copy()), namespace["f"](x.copy()))


def test_temporaries_skip_names_the_user_binds():
    text = """
    def f(a, b):
        c = a * b + a / b
        return c
    """
    assert lowered(text) == textwrap.dedent("""\
        def f(a, b):
            d = a * b
            e = a / b
            c = d + e
            return c
        """)


def test_tuple_swap_reads_old_values():
    text = """
    def f(a, b):
        a, b = b, a * 2
        return a - b
    """
    assert run_lowered(text, 3.0, 5.0) == 5.0 - 6.0
    assert "a_1 = b" in lowered(text)


def test_method_and_attribute_spellings_become_numpy_calls():
    text = """
    def f(x):
        return x.T.sum() + x.mean(axis=0).sum() + x.shape[0]
    """
    source = lowered(text)
    assert "np.transpose(x)" in source and "np.mean(x, axis=0)" in source
    assert "np.shape(x)" in source
    x = np.arange(6.0).reshape(2, 3)
    assert run_lowered(text, x) == pytest.approx(x.T.sum() + x.mean(axis=0).sum() + 2)


def test_returning_a_parameter_copies_it_into_the_output_name():
    text = """
    def f(x):
        return x
    """
    assert lowered(text) == "def f(x):\n    f = x\n    return f\n"


@pytest.mark.parametrize("text, args", [
    ("def f(x, y):\n    z = x ** 2 - -y\n    z *= 3\n    return z / (1 + x)\n", (0.5, 2.0)),
    ("def f(x):\n    return np.sum(x[1:] * x[:-1]) + x[0] ** 3\n", (np.arange(4.0),)),
    ("def f(x, n=2):\n    return math.log(x) ** n + abs(-x)\n", (1.5,)),
    ("def f(A, v):\n    return (A @ v) @ (A @ v)\n", (np.ones((2, 3)), np.arange(3.0))),
])
def test_lowered_function_computes_the_same_value(text, args):
    namespace = dict(ENV)
    exec(text, namespace)
    assert run_lowered(text, *args) == pytest.approx(namespace["f"](*args))


# -- control flow ---------------------------------------------------------------------


def test_a_loop_stays_structured_and_reads_elements_in_place():
    text = """
    def f(a, b):
        c = np.zeros(len(a) + len(b) - 1)
        for i in range(len(a)):
            for k in range(len(b)):
                c[i + k] += a[i] * b[k]
        return np.sum(c)
    """
    out = lowered(text)
    assert "        for k in range(" in out
    assert "            c[i + k] += a[i] * b[k]\n" in out  # the lecture's line, in place
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])
    assert run_lowered(text, a, b) == pytest.approx(np.sum(np.convolve(a, b)))


def test_early_returns_become_one_result_assigned_on_every_path():
    text = """
    def f(x):
        if x > 1.0:
            return x * 2.0
        for i in range(3):
            if x < -1.0:
                return x - i
            x = x * 0.5
        return x
    """
    out = lowered(text)
    assert len([l for l in out.splitlines() if l.strip().startswith("return ")]) == 1
    assert "break" in out
    for x in (2.0, -4.0, 0.3):
        expected = 4.0 if x == 2.0 else -4.0 if x == -4.0 else 0.3 * 0.125
        assert run_lowered(text, x) == pytest.approx(expected)


def test_continue_moves_the_rest_of_the_body_into_the_other_branch():
    text = """
    def f(x):
        s = 0.0
        for i in range(len(x)):
            if x[i] < 0:
                continue
            s = s + x[i]
        return s
    """
    out = lowered(text)
    assert "continue" not in out and "else:" in out
    assert run_lowered(text, np.array([1.0, -2.0, 3.0])) == 4.0


def test_a_helper_is_inlined_reading_its_own_modules_globals():
    import errcases_helpers
    text = """
    def f(x):
        shift = 3.0
        return shifted_softplus(x) + shifted_softplus(x, shift=shift)
    """
    parsed = frontend.parse_source(textwrap.dedent(text), "f", env=dict(
        ENV, shifted_softplus=errcases_helpers.shifted_softplus))
    out = pipeline.lowered_source(parsed)
    assert "shifted_softplus(" not in out and out.count("np.log1p(") == 2
    assert "= 0.25" in out  # the default, OFFSET of the helper's module when it was defined


def test_a_loop_carried_product_is_split_so_the_old_value_survives():
    text = """
    def f(x):
        p = 1.0
        for i in range(3):
            p = p * x
        return p
    """
    out = lowered(text)
    assert "p = p * x" not in out  # a = p * x; p = a: the adjoint needs the old p
    assert run_lowered(text, 1.5) == pytest.approx(1.5 ** 3)


def test_lowering_twice_from_one_parse_gives_the_same_code():
    """grad_source keeps one parse for the shown and the per-rank compiles: lowering
    must not rewrite the parsed function (an early return in a loop lost its guard)."""
    import s2sad
    text = textwrap.dedent("""
    def f(x):
        s = 0.0
        for i in range(len(x)):
            if x[i] > 1.0:
                return s * 2.0
            s = s + x[i] ** 2
        return s
    """)
    parsed = frontend.parse_source(text, "f", env=ENV)
    assert pipeline.lowered_source(parsed) == pipeline.lowered_source(parsed)
    df = s2sad.grad_source(text, "f")
    df.source  # the compile shown before any call
    np.testing.assert_allclose(df(np.array([0.5, 0.7, 1.5, 0.2])), [2.0, 2.8, 0.0, 0.0])


def test_early_exits_that_would_multiply_the_code_are_refused():
    import s2sad
    lines = ["def f(x):", "    s = 0.0", "    for i in range(len(x)):"]
    for j in range(9):
        lines += [f"        if x[i] > {j * 0.01}:", f"            if i == {j}:",
                  "                continue"]
    lines += ["        s = s + x[i] * x[i]", "    return s"]
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="expanded"):
        s2sad.grad_source("\n".join(lines) + "\n", "f")(np.linspace(0.5, 1.0, 12))
