"""A fixed-seed sample of benchmarks/random_programs.py's programs: right or refused.

benchmarks/random_programs.py generates random Python + NumPy programs in seven
families (straight-line NumPy, views and aliasing of local arrays, names rebound
across ranks, helpers called with different argument kinds, element recurrences,
scalar loops and branches, loops over vectors) and checks grad, value_and_grad,
jvp, hessian and grad(grad) on each against central differences, a gradient
function called again with other scalar types, and that no argument is changed.
Locally it runs 10^4 programs per change to the transform; here the first
S2SAD_RANDOM_PROGRAMS (default 40) programs of each family under one seed run, so a
failure names a program anyone can reproduce with `generate(family, SEED, index)`.
The smallest program of every class the random programs found is kept below
(`FOUND`, and `OPEN` for those still failing when added).
"""
from __future__ import annotations

import os
import sys
from typing import NamedTuple, Tuple

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import random_programs  # noqa: E402

SEED = 20261207
COUNT = int(os.environ.get("S2SAD_RANDOM_PROGRAMS", 40))


def _report(program, outcome) -> str:
    details = "\n".join(f"  {f.check} ({f.kind}): {f.detail}" for f in outcome.failures)
    return (f"{program.family}/{SEED}/{program.index} optimize={program.optimize} "
            f"wrt={program.wrt}\n{program.source}# arguments: "
            f"{random_programs._args_text(program)}\n{details}")


@pytest.mark.parametrize("family", random_programs.FAMILIES)
def test_random_programs_are_right_or_refused(family):
    failures, statuses = [], []
    for index in range(COUNT):
        program = random_programs.generate(family, SEED, index)
        outcome = random_programs.check_program(program)
        statuses.append(outcome.status)
        if outcome.status in ("wrong", "crash"):
            failures.append(_report(program, outcome))
    # the sample tests something: most programs run and most of those are accepted
    assert statuses.count("rejected") <= COUNT // 4, statuses
    assert statuses.count("accepted") + statuses.count("wrong") + statuses.count("crash") \
        >= COUNT // 3, statuses
    assert not failures, f"{len(failures)} of {COUNT} {family} programs are wrong or " \
                         "crash:\n\n" + "\n\n".join(failures)


@pytest.mark.parametrize("family", random_programs.FAMILIES)
def test_generation_is_deterministic(family):
    for index in range(5):
        first = random_programs.generate(family, SEED, index)
        second = random_programs.generate(family, SEED, index)
        assert first.source == second.source
        assert first.wrt == second.wrt and first.optimize == second.optimize
        for a, b in zip(first.args, second.args):
            assert type(a) is type(b) and np.array_equal(a, b)


class _DoubledGradient:
    """s2sad with grad returning twice the gradient: the checker must see it."""

    def __init__(self):
        import s2sad
        self._s2sad = s2sad

    def __getattr__(self, name):
        return getattr(self._s2sad, name)

    def grad(self, f, wrt=0, **options):
        inner = self._s2sad.grad(f, wrt=wrt, **options)

        def doubled(*args):
            g = inner(*args)
            if isinstance(g, tuple):
                return tuple(2 * x for x in g)
            return 2 * g if isinstance(g, np.ndarray) else type(g)(2 * g)
        return doubled


def test_a_wrong_gradient_is_found_and_shrunk(monkeypatch):
    program = random_programs.Program(
        "straight", 0, 0,
        [("import numpy as np", ""), ("def f(x, v):", ""),
         ("    a = np.sin(v) * x", "assign"), ("    b = np.cos(x)", "unused"),
         ("    return np.sum(a) + b", "")],
        ["x", "v"], [0.5, np.array([0.3, -0.4, 1.2])], (1,))
    assert random_programs.check_program(program).status == "accepted"
    monkeypatch.setattr(random_programs, "s2sad", _DoubledGradient())
    outcome = random_programs.check_program(program)
    assert outcome.status == "wrong"
    assert {f.check for f in outcome.failures} == {"grad", "reuse"}
    small, small_outcome = random_programs.shrink(program, outcome)
    assert "np.cos" not in small.source and "np.sin" in small.source
    assert small_outcome.checks == ("grad", "reuse")


def test_the_oracle_gives_the_analytic_gradient():
    program = random_programs.generate("straight", SEED, 0)
    module = random_programs.compile_program(
        program.with_lines([("import numpy as np", ""), ("def f(x, v):", ""),
                            ("    return np.sum(np.sin(v) * x)", "")]))
    v = np.array([0.3, -0.4, 1.2])
    gradient, error = random_programs._oracle_gradient(module.f, [0.5, v], 1)
    np.testing.assert_allclose(gradient, np.cos(v) * 0.5, rtol=1e-9, atol=1e-9)
    assert error < 1e-8


class Found(NamedTuple):
    """A program the random programs found wrong or crashing, as shrunk (by hand for some)."""

    origin: str          # family/seed/index of the generated program it was shrunk from
    source: str          # f's module without `import numpy as np`
    args: str            # f's arguments, as keyword arguments in Python
    wrt: Tuple[int, ...]
    optimize: bool


# One per (family, failing checks) class found in the first 9480 programs, and those found by
# hand-minimising later ones; all are right or refused since.
FOUND = [
    Found('ranks/100/4',  # ranks | hessian crash [ValueError: cannot reshape array of size N into
          """\
def f(x, v, k):
    a2 = x
    for i in range(2):
        a2 = np.tanh(a2) * v
    return np.sum(a2)
""",
          'x=1.142948, v=np.array([ 0.868255, -1.414586, -0.489521]), k=0', (0, 1), optimize=True),
    Found('ranks/100/6',  # ranks | hessian crash [ValueError: cannot reshape array of size N into
          """\
def f(x, v, k):
    a1 = x
    for i in range(2):
        a1 = np.tanh(a1) * v
    return np.sum(a1)
""",
          'x=np.float64(0.217814), '
          'v=np.array([-0.829308,  1.387324, -1.360745]), '
          'k=0',
          (0,), optimize=True),
    Found('views/100/106',  # views | forward wrong; value wrong
          """\
def f(x, v):
    c = v + 0.0
    tmp = np.squeeze(c[None]).T
    tmp *= np.cos(x)
    return np.sum(c * c)
""",
          'x=np.float64(1.386303), '
          'v=np.array([-0.639937,  0.619026,  1.026313])',
          (1,), optimize=True),
    Found('ranks/300/9',  # ranks | grad(grad) wrong
          """\
def f(x, v, k):
    a1 = x
    for i in range(2):
        a1 = np.tanh(a1) * v
    return np.sum(np.sin(a1))
""",
          'x=np.float64(-0.690524), '
          'v=np.array([ 1.100496, -0.916299,  0.662486]), '
          'k=2',
          (0, 1), optimize=True),
    Found('straight/300/158',  # straight | forward wrong; reverse wrong; value wrong
          """\
def f(x, w):
    q, u = 1.0 / (2.0 + (np.sqrt(1.0 + w * w)) * (np.sqrt(1.0 + w * w))), w[:-1]
    u += u[0]
    return np.sum(w * w)
""",
          'x=0.213954, w=np.array([-0.524918, -1.448117, -1.031842])', (0, 1), optimize=True),
    Found('views/100/273',  # views | forward wrong; reverse wrong; value wrong
          """\
def f(x, v):
    c = np.array(v)
    t1 = np.sin(c) * x
    z1 = c[None].T
    z1[1] += np.tanh(x) * 0.5
    return np.sum(np.sin(c))
""",
          'x=np.float64(-0.791664), '
          'v=np.array([ 0.839613, -0.487255,  0.109087,  0.212957])',
          (0,), optimize=False),
    Found('ranks/200/52',  # ranks | grad(grad) crash [TypeError: only N-dimensional arrays can be
          """\
def f(x, v, k):
    if k == 0:
        a0 = x
    else:
        a0 = v * x
    a2 = np.sin(x)
    return np.sum(np.sin(a0)) + np.sum(a2)
""",
          'x=0.293211, v=np.array([-0.97291 ,  0.694658, -0.970276]), k=2', (0, 1), optimize=True),
    Found('straight/100/265',  # straight | forward wrong; value wrong
          """\
def f(x, y, A):
    dx, df = np.add((A.mean(axis=-1)), (np.std(A))), np.maximum((A.reshape(-1)), (np.std(A)) - 5.0)
    t1 = df.reshape(1, -1)
    df += t1[0]
    return np.sum(t1)
""",
          'x=np.float64(-0.52882), '
          'y=0.743214, '
          'A=np.array([[ 0.067505, -0.516211, -1.289456], [-0.76883 , -0.963026, -0.024244]])',
          (0, 1, 2), optimize=True),
    Found('recurrences/100/130',  # recurrences | grad(grad) wrong
          """\
def f(x, v, a):
    n = len(v)
    c = v * 1.0
    for i in range(1, n):
        c[i] += 0.5 * np.tanh(x) * c[i - 1]
    s = 0.0
    for i in range(n):
        s = s + c[i] * v[i]
    return s
""",
          'x=np.float64(-0.381038), '
          'v=np.array([-0.43423 , -1.007256,  0.615624, -0.62325 ]), '
          'a=np.array([-0.066685,  0.182585, -0.159917, -0.903197])',
          (0, 1, 2), optimize=True),
    Found('views/400/234 by hand',  # the same expression before and after a write through a view
          """\
def f(x, v):
    c = v * 1.0
    t1 = c * 2.0
    x_1 = c[1:]
    x_1 *= x
    return np.sum(c * 2.0)
""",
          'x=-0.209243, '
          'v=np.array([ 1.069813, -1.114276, -1.25927 ,  0.435106])',
          (0, 1), optimize=True),
    Found('views/85 by hand',  # an overlapping slice read inline: dx -1.313, right 1.0795
          """\
def f(x, v):
    c = v * 1.0
    c[1:] = c[:-1] * x
    return np.sum(c)
""",
          'x=-0.843138, v=np.array([-0.924302,  1.385792,  0.618049, -0.827275])', (0, 1),
          optimize=True),
    Found('views/out= by hand',  # a write through out= was ignored: dx = 0
          """\
def f(x, v):
    c = v.copy()
    d = np.multiply(c, x, out=c)
    return np.sum(c)
""",
          'x=0.756595, v=np.array([-0.929999,  0.167711,  0.872947])', (0, 1), optimize=True),
    Found('views/20261207/12 by hand',  # value numbering merged two equal arrays, then out=
          """\
def f(x, v):
    t1 = v * 1.0
    dx = v * 1.0
    t1 = np.add(t1, x, out=t1)
    return np.sum(np.sin(dx))
""",
          'x=np.float64(1.117492), v=np.array([ 0.165011,  0.226522, -1.44814 ,  1.415546])',
          (1,), optimize=False),
]


# Found and still open when added: strict xfails, so a fix shows up as XPASS (then move the
# case into FOUND).
OPEN: list = []   # (Found, reason) pairs


@pytest.mark.parametrize("found", FOUND + [
    pytest.param(found, marks=pytest.mark.xfail(strict=True, reason=reason))
    for found, reason in OPEN], ids=[f.origin for f in FOUND] + [f.origin for f, _ in OPEN])
def test_a_program_found_once_stays_right_or_refused(found):
    source = "import numpy as np\n" + found.source
    values = eval(f"dict({found.args})", {"np": np})
    lines = [(line, "") for line in source.splitlines()]
    program = random_programs.Program(found.origin.split("/")[0], 0, 0, lines, list(values),
                                      list(values.values()), found.wrt, found.optimize)
    outcome = random_programs.check_program(program)
    assert outcome.status in ("accepted", "refused"), _report(program, outcome)
