"""Random loop programs with subscripted accumulation, from source text, vs central differences.

A program takes two vectors `a` (length 3-5) and `b` (length 3-5), starts an
output `c = np.zeros(m)` (m in 3-6) and a scalar carry `s = 0.5`, and runs one
`for i in range(...)` loop (range(n), range(lo, hi), range(lo, hi, 2), a
negative step, or range(len(a))), optionally with a nested `for j in range(...)`
(rectangular, the triangular range(i) or range(i + 1), or range(len(b))), and
sometimes a second loop after it: the same loop again, or another over the same
range or a different one. The
loop bodies hold 1-3 statements (the first one of the innermost body is always
the lecture's `c[idx] += e`) drawn from

    c[idx] += e      c[idx] -= e      c[idx] = e      c[idx] *= np.cos(e)
    s = s * e + e    s = s * np.cos(e) + e

some of them under a branch on the loop indices (`if i % 2 == 0:`, `if j < i:`),
where every `idx` is an affine expression of the loop variables (p*i + q*j + r)
that stays inside its array on every iteration, and `e` is built from products,
sums, sin, cos, tanh and exp of a[idx], b[idx] (at least one of them), and
sometimes c[idx] and s (so a
value written earlier is read again, and the adjoint must see the value it had
then). The program returns `np.sum(c * w) + s` with a fixed weight vector w.

Every primitive is smooth and the branches depend only on the loop indices, so
there are no kinks; programs whose values leave [-1e3, 1e3] are rejected, and so
are those whose 4-point central differences at steps 1e-3 and 5e-4 disagree.
The primal is run first: every generated program must be valid Python that runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import numpy as np
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import s2sad
from conftest import central_difference  # noqa: I100

BOUND = 1e3
WEIGHTS = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5]
EXAMPLES = min(40, settings().max_examples)  # fewer with --short (conftest's profile)


@dataclass
class LoopProgram:
    source: str
    a: np.ndarray
    b: np.ndarray


# -- loops -------------------------------------------------------------------------------


@st.composite
def outer_ranges(draw, la: int):
    """(text, values) of the outer range: every value is an int in [0, 6)."""
    form = draw(st.sampled_from(["n", "lo_hi", "step", "negative", "len"]))
    if form == "n":
        n = draw(st.integers(1, 5))
        return f"range({n})", list(range(n))
    if form == "lo_hi":
        lo = draw(st.integers(0, 2))
        hi = draw(st.integers(lo + 1, lo + 4))
        return f"range({lo}, {hi})", list(range(lo, hi))
    if form == "step":
        lo = draw(st.integers(0, 1))
        hi = draw(st.integers(lo + 1, 6))
        return f"range({lo}, {hi}, 2)", list(range(lo, hi, 2))
    if form == "negative":
        start = draw(st.integers(1, 5))
        stop = draw(st.integers(-1, start - 1))
        step = draw(st.sampled_from([-1, -2]))
        return f"range({start}, {stop}, {step})", list(range(start, stop, step))
    return "range(len(a))", list(range(la))


@st.composite
def inner_ranges(draw, lb: int):
    """(text, function of i giving the inner values)."""
    form = draw(st.sampled_from(["n", "triangular", "triangular_inclusive", "len"]))
    if form == "n":
        n = draw(st.integers(1, 4))
        return f"range({n})", lambda i: list(range(n))
    if form == "triangular":
        return "range(i)", lambda i: list(range(i))
    if form == "triangular_inclusive":
        return "range(i + 1)", lambda i: list(range(i + 1))
    return "range(len(b))", lambda i: list(range(lb))


# -- indices and expressions ---------------------------------------------------------------


def _affine(p: int, q: int, r: int) -> str:
    """The text of p*i + q*j + r, written as a person would."""
    terms = []
    for coef, var in ((p, "i"), (q, "j")):
        if coef == 0:
            continue
        body = var if abs(coef) == 1 else f"{abs(coef)} * {var}"
        terms.append(("-" if coef < 0 else "+", body))
    if r != 0 or not terms:
        terms.append(("-" if r < 0 else "+", str(abs(r))))
    sign, first = terms[0]
    text = ("-" + first) if sign == "-" else first
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def valid_indices(loop_vars: List[str], envs: List[Dict[str, int]], length: int) -> List[str]:
    """Every affine index p*i + q*j + r that stays in [0, length) on every iteration."""
    varying, constant = [], []
    for p in (1, 0, -1, 2):
        for q in ((1, 0, -1) if "j" in loop_vars else (0,)):
            for r in range(-4, 7):
                if all(0 <= p * env["i"] + q * env.get("j", 0) + r < length for env in envs):
                    (varying if p or q else constant).append(_affine(p, q, r))
    # indices that move with the loop are drawn three times as often as constants
    return varying * 3 + constant or ["0"]


@st.composite
def expressions(draw, indices: Dict[str, List[str]], depth: int = 2) -> str:
    """A smooth scalar expression over elements of a, b (and sometimes c and s)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.sampled_from(["a", "a", "b", "b", "c", "s", "const"]))
        if leaf == "const":
            return repr(draw(st.sampled_from([0.5, 1.5, -0.75, 2.0])))
        if leaf == "s":
            return "s"
        return f"{leaf}[{draw(st.sampled_from(indices[leaf]))}]"
    kind = draw(st.sampled_from(["mul", "add", "sub", "sin", "cos", "tanh", "exp"]))
    if kind in ("mul", "add", "sub"):
        left = draw(expressions(indices, depth - 1))
        right = draw(expressions(indices, depth - 1))
        op = {"mul": "*", "add": "+", "sub": "-"}[kind]
        return f"({left} {op} {right})"
    operand = draw(expressions(indices, depth - 1))
    if kind == "exp":
        return f"np.exp(0.5 * np.sin({operand}))"
    return f"np.{kind}({operand})"


def _active(indices: Dict[str, List[str]]):
    """An expression that reads at least one element of a or b."""
    return expressions(indices).filter(lambda text: "a[" in text or "b[" in text)


@st.composite
def statements(draw, indices: Dict[str, List[str]], form: str = "") -> str:
    form = form or draw(st.sampled_from(["+=", "+=", "-=", "=", "*=", "carry", "carry_cos"]))
    e1 = draw(_active(indices))
    if form in ("carry", "carry_cos"):
        e2 = draw(_active(indices))
        factor = e1 if form == "carry" else f"np.cos({e1})"
        return f"s = s * {factor} + {e2}"
    target = f"c[{draw(st.sampled_from(indices['c']))}]"
    if form == "*=":
        return f"{target} *= np.cos({e1})"
    return f"{target} {form} {e1}"


@st.composite
def bodies(draw, loop_vars: List[str], envs: List[Dict[str, int]],
           lengths: Dict[str, int], count: int, indent: str,
           first_accumulates: bool = False) -> List[str]:
    """`count` statements for a loop body, some under a branch on the loop indices."""
    indices = {name: valid_indices(loop_vars, envs, n) for name, n in lengths.items()}
    lines = []
    for number in range(count):
        # the first statement of an innermost body is the lecture's c[idx] += e
        stmt = draw(statements(indices, "+=" if first_accumulates and number == 0 else ""))
        guard = draw(st.sampled_from(
            [None, None, "i % 2 == 0"] + (["j < i", "j == 0"] if "j" in loop_vars else [])))
        if guard is None:
            lines.append(indent + stmt)
        else:
            lines.append(f"{indent}if {guard}:")
            lines.append(f"{indent}    {stmt}")
            if draw(st.booleans()):
                lines.append(f"{indent}else:")
                lines.append(f"{indent}    {draw(statements(indices))}")
    return lines


finite = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)


@st.composite
def loop_programs(draw) -> LoopProgram:
    la, lb, m = draw(st.integers(3, 5)), draw(st.integers(3, 5)), draw(st.integers(3, 6))
    lengths = {"a": la, "b": lb, "c": m}
    outer_text, outer = draw(outer_ranges(la))
    lines = ["def f(a, b):",
             f"    w = np.array({WEIGHTS[:m]!r})",
             f"    c = np.zeros({m})",
             "    s = 0.5",
             f"    for i in {outer_text}:"]
    outer_envs = [{"i": i} for i in outer]
    if draw(st.booleans()):
        inner_text, inner = draw(inner_ranges(lb))
        inner_envs = [{"i": i, "j": j} for i in outer for j in inner(i)]
        if draw(st.booleans()):  # a statement before the inner loop, on i alone
            lines += draw(bodies(["i"], outer_envs, lengths, 1, " " * 8))
        lines.append(f"        for j in {inner_text}:")
        lines += draw(bodies(["i", "j"], inner_envs, lengths, draw(st.integers(1, 3)),
                             " " * 12, first_accumulates=True))
        if draw(st.booleans()):  # and one after it
            lines += draw(bodies(["i"], outer_envs, lengths, 1, " " * 8))
    else:
        lines += draw(bodies(["i"], outer_envs, lengths, draw(st.integers(1, 3)), " " * 8,
                             first_accumulates=True))
    second = draw(st.sampled_from([None, None, "again", "same range", "other range"]))
    if second == "again":  # the same loop twice: two loops that look alike
        lines += lines[4:]
    elif second is not None:  # a second loop after it, over the same range or another
        second_text, trips = (outer_text, outer) if second == "same range" else \
            draw(outer_ranges(la))
        lines.append(f"    for i in {second_text}:")
        lines += draw(bodies(["i"], [{"i": i} for i in trips], lengths,
                             draw(st.integers(1, 2)), " " * 8, first_accumulates=True))
    lines.append("    return np.sum(c * w) + s")
    a = np.array(draw(st.lists(finite, min_size=la, max_size=la)))
    b = np.array(draw(st.lists(finite, min_size=lb, max_size=lb)))
    return LoopProgram("\n".join(lines) + "\n", a, b)


# -- the property ---------------------------------------------------------------------------


def _primal(source: str):
    namespace = {"np": np}
    exec(compile(source, "<loop program>", "exec"), namespace)
    return namespace["f"]


def _central_with_error(f, inputs, name):
    """4-point central differences at steps h and h/2; reject when they disagree."""
    coarse = central_difference(f, inputs, name, eps=1e-3, points=4)
    fine = central_difference(f, inputs, name, eps=5e-4, points=4)
    error = np.max(np.abs(coarse - fine))
    assume(error <= 1e-5 * (1 + np.max(np.abs(fine))))
    return fine, error


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=loop_programs(), optimize=st.booleans())
def test_random_loop_program_gradient_matches_central_differences(program, optimize):
    note(program.source)
    note(f"a={program.a!r} b={program.b!r} optimize={optimize}")
    f = _primal(program.source)
    try:
        with np.errstate(all="raise"):
            value = f(program.a.copy(), program.b.copy())  # a generated program always runs
    except FloatingPointError:
        assume(False)
    assert np.shape(value) == ()
    assume(np.isfinite(value) and abs(value) <= BOUND)

    df = s2sad.grad_source(program.source, "f", wrt=(0, 1), with_value=True,
                           optimize=optimize)
    note(df.source)
    a, b = program.a.copy(), program.b.copy()
    got_value, (da, db) = df(a, b)
    np.testing.assert_array_equal(a, program.a)  # the caller's arrays are not written
    np.testing.assert_array_equal(b, program.b)
    np.testing.assert_allclose(got_value, value, rtol=1e-12, atol=1e-12)
    inputs = {"a": program.a, "b": program.b}
    for name, gradient in (("a", da), ("b", db)):
        x = inputs[name]
        assert type(gradient) is np.ndarray and gradient.shape == x.shape, name
        assert gradient.dtype == x.dtype, name
        expected, error = _central_with_error(f, inputs, name)
        np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-6 + 2 * error,
                                   err_msg=f"d{name}")


# -- the generator itself ------------------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=loop_programs())
def test_generated_programs_run_as_plain_python(program):
    """No index ever leaves its array: every program runs (the oracle is then valid)."""
    note(program.source)
    f = _primal(program.source)
    with np.errstate(over="ignore", invalid="ignore"):
        value = f(program.a.copy(), program.b.copy())
    assert np.shape(value) == ()


def test_affine_index_text():
    assert _affine(1, 0, 0) == "i"
    assert _affine(1, 1, 2) == "i + j + 2"
    assert _affine(-1, 0, 3) == "-i + 3"
    assert _affine(2, -1, -1) == "2 * i - j - 1"
    assert _affine(0, 0, 0) == "0"
    assert _affine(0, 0, -2) == "-2"
