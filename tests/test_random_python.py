"""A fixed-seed batch of tests/random_python.py's everyday-Python programs: each is
exact or refused (an S2SADError naming a line), none is wrong or crashes.

The batch is the first COUNT programs of each family under SEED, and the first
HESSIAN_COUNT again with the Hessian checked (about 15 s together); run
`python tests/random_python.py 2400 1 [--hessian]` for a long run. A program failing for a defect
already reproduced in tests/test_adversary_issue17.py is listed in OPEN with that
test's name and checked to fail still (strict xfail: a fix shows as XPASS, then drop
the entry); any other wrong or crashing program fails the batch.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_python  # noqa: E402

SEED = 20261207
COUNT = int(os.environ.get("S2SAD_RANDOM_PYTHON", 40))
HESSIAN_COUNT = int(os.environ.get("S2SAD_RANDOM_PYTHON_HESSIAN", 12))

# (family, index) -> the reproducer in test_adversary_issue17.py. Empty: the programs
# this batch found wrong or crashing were fixed (7a275e7, 94f4df9); see that file.
OPEN: dict = {}


def _report(program, outcome) -> str:
    return f"{program.family}/{SEED}/{program.index}\n{program.source}\n{outcome.detail}"


@pytest.mark.parametrize("family", random_python.FAMILIES)
def test_random_python_programs_are_exact_or_refused(family, tmp_path):
    failures, statuses = [], []
    for index in range(COUNT):
        if (family, index) in OPEN:
            continue
        program = random_python.generate(family, SEED, index)
        outcome = random_python.check(program, tmp_path)
        statuses.append(outcome.status)
        if outcome.status in ("wrong", "crash"):
            failures.append(_report(program, outcome))
    assert not failures, f"{len(failures)} of {COUNT} {family} programs are wrong or " \
                         "crash:\n\n" + "\n\n".join(failures)
    # the batch tests something: most programs are compared, not skipped or refused
    assert statuses.count("skipped") <= COUNT // 8, statuses
    assert statuses.count("exact") >= COUNT // 4, statuses


@pytest.mark.parametrize("family", random_python.FAMILIES)
def test_random_python_hessians(family, tmp_path):
    """The first HESSIAN_COUNT programs again, with s2sad.hessian in x checked too."""
    failures = []
    for index in range(HESSIAN_COUNT):
        if (family, index) in OPEN:
            continue
        program = random_python.generate(family, SEED, index)
        outcome = random_python.check(program, tmp_path, hessian=True)
        if outcome.status in ("wrong", "crash"):
            failures.append(_report(program, outcome))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("family,index", sorted(OPEN), ids=lambda v: str(v))
def test_open_programs_still_fail(family, index, tmp_path):
    request_reason = OPEN[(family, index)]
    outcome = random_python.check(random_python.generate(family, SEED, index), tmp_path)
    if outcome.status in ("wrong", "crash"):
        pytest.xfail(f"{request_reason}: {outcome.detail.splitlines()[0][:200]}")
    assert outcome.status in ("exact", "refused"), outcome.detail
    pytest.fail(f"fixed ({request_reason} should XPASS too): drop ({family!r}, {index}) "
                "from OPEN")


def test_generation_is_deterministic():
    for family in random_python.FAMILIES:
        for index in range(5):
            first = random_python.generate(family, SEED, index)
            second = random_python.generate(family, SEED, index)
            assert first.source == second.source
            for a, b in zip(first.args, second.args):
                assert type(a) is type(b) and np.array_equal(a, b)


def test_programs_have_the_promised_shapes():
    for family in random_python.FAMILIES:
        for index in range(20):
            x, y = random_python.generate(family, SEED, index).args
            assert x.ndim == 1 and 3 <= x.size <= 6 and x.dtype == np.float64
            assert type(y) is float or (y.ndim == 2 and y.shape[1] == x.size)


# -- the checker can fail ---------------------------------------------------------------

class _Broken:
    """s2sad with one thing broken; the checker must call the program wrong."""

    def __init__(self, how):
        import s2sad
        self._s2sad = s2sad
        self.how = how

    def __getattr__(self, name):
        return getattr(self._s2sad, name)

    def grad(self, f, wrt=0, **options):
        inner = self._s2sad.grad(f, wrt=wrt, **options)

        def each(change, gradients):
            return tuple(map(change, gradients)) if isinstance(gradients, tuple) else \
                change(gradients)

        def broken(*args):
            gradients = inner(*args)
            if self.how == "doubled":
                return each(lambda g: 2 * g, gradients)
            if self.how == "float32":
                return each(lambda g: np.float32(g) if isinstance(g, float) else
                            g.astype(np.float32), gradients)
            if self.how == "mutates":
                args[0][0] += 1.0
            if self.how == "prints":
                print("again")
            return gradients
        return broken


@pytest.mark.parametrize("how", ["doubled", "float32", "mutates", "prints"])
def test_the_checker_sees_a_broken_gradient(how, tmp_path):
    seen = 0
    for index in range(0, 24, 2):   # (x and y differentiated: a gradient that is not all 0)
        program = random_python.generate("conditions", SEED, index)
        assert program.wrt == (0, 1)
        right = random_python.check(program, tmp_path)
        if right.status != "exact":
            continue
        broken = random_python.check(program, tmp_path, ad=_Broken(how))
        assert broken.status == "wrong", (how, program.source)
        seen += 1
    assert seen >= 5


def test_the_checker_skips_a_kink(tmp_path):
    # |x[0]| at x[0] = 0 and a branch at x[1] = 0.25: a probe at x +- step takes
    # another branch, so these points give no differences; others do
    program = random_python.Program("conditions", SEED, 0, "import numpy as np\n\n\n"
                                    "def at_kink(x, y):\n"
                                    "    return abs(x[0]) + (x[1] if x[1] > 0.25 else -x[1])\n",
                                    "at_kink", (np.array([0.0, 0.5, 1.0]), 0.5))
    _, twin, decisions = random_python._load(program, tmp_path)
    differences = random_python._differences
    assert differences(twin, decisions, (np.array([0.0, 0.5, 1.0]), 0.5)) is None
    assert differences(twin, decisions, (np.array([0.5, 0.25, 1.0]), 0.5)) is None
    gradient = differences(twin, decisions, (np.array([-0.5, 0.5, 1.0]), 0.5))
    np.testing.assert_allclose(gradient[0], [-1.0, 1.0, 0.0], atol=1e-8)
    assert random_python.check(program, tmp_path).status == "exact"
