"""A fixed-seed sample of benchmarks/random_programs.py's programs: right or refused.

benchmarks/random_programs.py generates random Python + NumPy programs in seven
families (straight-line NumPy, views and aliasing of local arrays, names rebound
across ranks, helpers called with different argument kinds, element recurrences,
scalar loops and branches, loops over vectors) and checks grad, value_and_grad, jvp, hessian and
grad(grad) on each against central differences, and that no argument is changed.
Locally it runs 10^4 programs per change to the transform; here the first
S2SAD_RANDOM_PROGRAMS (default 40) programs of each family under one seed run, so a
failure names a program anyone can reproduce with `generate(family, SEED, index)`.
"""
from __future__ import annotations

import os
import sys

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
    assert {f.check for f in outcome.failures} == {"grad"}
    small, small_outcome = random_programs.shrink(program, outcome)
    assert "np.cos" not in small.source and "np.sin" in small.source
    assert small_outcome.checks == ("grad",)


def test_the_oracle_gives_the_analytic_gradient():
    program = random_programs.generate("straight", SEED, 0)
    module = random_programs.compile_program(
        program.with_lines([("import numpy as np", ""), ("def f(x, v):", ""),
                            ("    return np.sum(np.sin(v) * x)", "")]))
    v = np.array([0.3, -0.4, 1.2])
    gradient, error = random_programs._oracle_gradient(module.f, [0.5, v], 1)
    np.testing.assert_allclose(gradient, np.cos(v) * 0.5, rtol=1e-9, atol=1e-9)
    assert error < 1e-8
