"""A call without a rule is named as the user's code spells it (issue 18, item 5).

`special.ellipe`, `sp.ellipe`, `ellipe`, `scipy.special.ellipe`: the message, the nearest
rules (of that module, in the user's prefix) and the registration example all use the
name the function was imported under, and the example registers a rule when run as
printed in the user's module.
"""
import importlib
import re
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import rules

special = pytest.importorskip("scipy.special")

MODULE = textwrap.dedent("""
    import numpy as np
    import scipy
    import scipy.special
    import scipy.special as sp
    from scipy import special
    from scipy.special import ellipe, erfi

    def by_module(x):
        return np.sum(special.ellipe(x))

    def by_alias(x):
        return np.sum(sp.ellipe(x))

    def by_name(x):
        return np.sum(ellipe(x) * 2.0)

    def by_full_path(x):
        y = x * 0.5
        return np.sum(scipy.special.ellipe(y))

    def near_erf(x):
        return np.sum(sp.erfi(x))

    def near_erf_bare(x):
        return np.sum(erfi(x))
    """)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    path = tmp_path / "naming_user_module.py"
    path.write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("naming_user_module")
    yield module
    sys.modules.pop("naming_user_module", None)


CASES = [("by_module", "special.ellipe", 10), ("by_alias", "sp.ellipe", 13),
         ("by_name", "ellipe", 16), ("by_full_path", "scipy.special.ellipe", 20)]


def _refusal(fn, mode):
    x = np.array([0.2, 0.4])
    with pytest.raises(s2sad.S2SADError) as info:
        if mode == "grad":
            s2sad.grad(fn)(x)
        else:
            s2sad.jvp(fn)(x, np.ones(2))
    return info.value


@pytest.mark.parametrize("mode", ["grad", "jvp"])
@pytest.mark.parametrize("name, spelled, line", CASES)
def test_named_as_the_call_spells_it(user_module, name, spelled, line, mode):
    error = _refusal(getattr(user_module, name), mode)
    text = str(error)
    assert f"no derivative rule for {spelled}\n" in text
    assert f"@s2sad.adjoint({spelled})" in text
    assert "np.ellipe" not in text
    assert error.location.line == line
    shown_line, caret_line = text.splitlines()[1:3]
    assert caret_line.index("^") == shown_line.index(spelled)


def test_nearest_rules_are_of_the_same_module_in_the_users_prefix(user_module):
    text = str(_refusal(user_module.near_erf, "grad"))
    nearest = re.search(r"nearest rules: ([^;]*);", text).group(1).split(", ")
    assert nearest and all(n.startswith("sp.erf") for n in nearest), nearest
    bare = str(_refusal(user_module.near_erf_bare, "grad"))
    nearest = re.search(r"nearest rules: ([^;]*);", bare).group(1).split(", ")
    assert nearest and all(n.startswith("scipy.special.erf") for n in nearest), nearest


@pytest.mark.parametrize("name, spelled, line", CASES)
def test_the_printed_registration_runs_as_printed(user_module, tmp_path, name, spelled,
                                                  line):
    """The example, pasted into the user's module with its `...` filled in, registers
    a rule under which the gradient is right."""
    text = str(_refusal(getattr(user_module, name), "grad"))
    lines = text.splitlines()
    start = next(k for k, l in enumerate(lines) if l.startswith("    @s2sad.adjoint("))
    example = textwrap.dedent("\n".join(lines[start:start + 4]))
    assert example.startswith(f"@s2sad.adjoint({spelled})")
    # ellipe(m)' = (ellipe(m) - ellipk(m)) / (2 m)
    filled = example.replace("...", "(y - special.ellipk(x)) / (2 * x)")
    path = tmp_path / f"naming_user_rules_{name}.py"
    path.write_text("import s2sad\nfrom naming_user_module import *\n\n\n" + filled + "\n")
    try:
        importlib.import_module(path.stem)
        x = np.array([0.2, 0.4])
        f = getattr(user_module, name)
        got = s2sad.grad(f)(x)
        h = 1e-6
        want = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)])
        np.testing.assert_allclose(got, want, rtol=1e-6)
    finally:
        rules.REGISTRY.pop(special.ellipe, None)
        sys.modules.pop(path.stem, None)
    assert rules.lookup(special.ellipe) is None
