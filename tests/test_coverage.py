"""s2sad covers at least the NumPy and SciPy functions autograd differentiates.

autograd's VJP table (autograd.core.primitive_vjps, filled in by autograd.numpy) is
read at test time, so a new autograd release that adds a NumPy function shows up
here as a failure, not as a silently smaller coverage. Every NumPy function in it
must have an s2sad rule, or be named in LEFT_OUT with the reason; so must every SciPy
function of its scipy table (read once autograd.scipy's modules are imported), which
s2sad users call as the SciPy function itself (`scipy.special.gammaln`,
`scipy.stats.norm.logpdf`, `scipy.linalg.solve_triangular`).
"""
import importlib
import pkgutil
import operator

import numpy as np
import pytest

from s2sad import rules

autograd_core = pytest.importorskip("autograd.core")
pytest.importorskip("autograd.numpy")

# autograd's own helpers, and what an s2sad user writes for each
AUTOGRAD_SPELLINGS = {
    "array_from_args": np.array,              # np.array([x, y])
    "_array_from_scalar_or_array": np.array,  # np.array(x)
    "concatenate_args": np.concatenate,
    "make_diagonal": np.diag,                 # np.diag(v)
    "__getitem__": operator.getitem,          # x[i]
    "astype": np.array,                       # x.astype(t) lowers to np.array(x, t)
}
# autograd internals that are not NumPy functions: their second-order VJPs, its
# sparse/container machinery, its scipy.special table
INTERNAL_MODULES = ("autograd.core", "autograd.builtins")
INTERNAL_NAMES = {"dot_adjoint_0", "dot_adjoint_1", "tensordot_adjoint_0",
                  "tensordot_adjoint_1", "untake", "truncate_pad"}

COMPLEX = "complex-valued: s2sad differentiates real arrays (a complex result is refused " \
          "with 'no derivative rule')"
LEFT_OUT = {
    **{f"numpy.fft.{name}": COMPLEX for name in (
        "fft", "fft2", "fftn", "ifft", "ifft2", "ifftn", "rfft", "rfft2", "rfftn",
        "irfft", "irfft2", "irfftn")},
    "numpy.linalg.eig": COMPLEX + " (a general matrix's eigenvalues are complex)",
}


def _autograd_numpy_functions():
    """(label, the callable a NumPy user writes) for each NumPy entry of the table."""
    found = {}
    for primitive in autograd_core.primitive_vjps:
        raw = getattr(primitive, "fun", primitive)
        module = getattr(raw, "__module__", None) or ""
        name = getattr(raw, "__name__", repr(raw))
        if module.startswith(INTERNAL_MODULES) or name in INTERNAL_NAMES:
            continue
        if not module:  # scipy.special ufuncs carry no module
            if type(raw).__name__ == "ufunc" and getattr(np, name, None) is raw:
                module = "numpy"
            else:
                continue
        if name in AUTOGRAD_SPELLINGS:
            found[f"autograd:{name}"] = AUTOGRAD_SPELLINGS[name]
        elif module.startswith("numpy"):
            label = f"{_public_module(raw, module)}.{name}"
            found[label] = raw
    return found


def _public_module(raw, module):
    for public in ("numpy.fft", "numpy.linalg", "numpy"):
        space = {"numpy": np, "numpy.fft": np.fft, "numpy.linalg": np.linalg}[public]
        if getattr(space, getattr(raw, "__name__", ""), None) is raw:
            return public
    return module


AUTOGRAD = _autograd_numpy_functions()


def test_autograd_table_was_read():
    """The table is autograd's real one, not an empty import (about 150 NumPy entries)."""
    assert len(AUTOGRAD) > 120
    assert "numpy.sin" in AUTOGRAD and "numpy.linalg.inv" in AUTOGRAD


@pytest.mark.parametrize("label", sorted(AUTOGRAD))
def test_every_autograd_numpy_function_has_an_s2sad_rule(label):
    if label in LEFT_OUT:
        assert not rules.has_rule(AUTOGRAD[label]) or \
            rules.lookup(AUTOGRAD[label]).kind == "nondiff", "covered now: drop it from LEFT_OUT"
        pytest.skip(LEFT_OUT[label])
    assert rules.has_rule(AUTOGRAD[label]), f"{label} has no s2sad rule"


def test_s2sad_differentiates_at_least_as_many_numpy_functions():
    """Counted as distinct callables: ufuncs, functions of numpy and numpy.linalg, and
    the operators they share rules with; constants (np.floor, np.argmax) not counted."""
    ours = {rule.key for rule in rules.all_rules() if rule.kind != "nondiff"}
    theirs = {fn for fn in AUTOGRAD.values()}
    assert len(ours) >= len(theirs), (len(ours), len(theirs))
    covered = {fn for label, fn in AUTOGRAD.items() if label not in LEFT_OUT}
    assert covered <= ours | {rule.key for rule in rules.all_rules()}


# -- SciPy -----------------------------------------------------------------------------

# autograd's own implementations, and the SciPy function an s2sad user calls instead
AUTOGRAD_SCIPY_SPELLINGS = {"autograd.scipy.signal.convolve": "scipy.signal.convolve"}
SCIPY_LEFT_OUT = {
    # its derivative needs the vjp of the user's right-hand side inside the rule (an
    # adjoint ODE solved backwards): a function passed as a value to a library call,
    # which s2sad refuses; issue 21's implicit solves bring that machinery
    "scipy.integrate.odeint": "takes a function as an argument (refused as 'used as a "
                              "value'); write the integrator's steps in Python instead",
}


# piecewise constant: the rule that says so (derivative zero) is the right one
PIECEWISE_CONSTANT = {"scipy.special.gammasgn"}


def _autograd_scipy_functions():
    """(label, the SciPy callable a user writes) for each SciPy entry of autograd's table."""
    pytest.importorskip("scipy.special")
    import autograd.scipy
    for info in pkgutil.walk_packages(autograd.scipy.__path__, "autograd.scipy."):
        importlib.import_module(info.name)
    from s2sad.callables import qualified_name
    found = {}
    for primitive in autograd_core.primitive_vjps:
        raw = getattr(primitive, "fun", primitive)
        name = getattr(raw, "__name__", "")
        owner = getattr(raw, "__self__", None)
        module = getattr(raw, "__module__", None) or ""
        if owner is not None and type(owner).__module__.startswith("scipy.stats"):
            instance = type(owner).__name__[:-len("_gen")]  # norm_gen -> norm
            import scipy.stats
            found[f"scipy.stats.{instance}.{name}"] = getattr(getattr(scipy.stats, instance), name)
        elif f"{module}.{name}" in AUTOGRAD_SCIPY_SPELLINGS:
            label = AUTOGRAD_SCIPY_SPELLINGS[f"{module}.{name}"]
            holder, _, short = label.rpartition(".")
            found[label] = getattr(importlib.import_module(holder), short)
        elif module.startswith("scipy") or not module and getattr(np, name, None) is not raw:
            label = qualified_name(raw)
            if label is not None and label.startswith("scipy."):
                found[label] = raw
    return found


@pytest.fixture(scope="module")
def autograd_scipy():
    return _autograd_scipy_functions()


def test_autograd_scipy_table_was_read(autograd_scipy):
    """About 70 entries: special's ufuncs, stats' distributions' methods, linalg's solves."""
    assert len(autograd_scipy) > 50
    for label in ("scipy.special.gammaln", "scipy.stats.norm.logpdf",
                  "scipy.linalg.solve_triangular", "scipy.stats.multivariate_normal.logpdf"):
        assert label in autograd_scipy


def test_every_autograd_scipy_function_has_an_s2sad_rule(autograd_scipy):
    missing = []
    for label, fn in sorted(autograd_scipy.items()):
        if label in SCIPY_LEFT_OUT:
            continue
        if not rules.has_rule(fn) or rules.lookup(fn).kind == "nondiff" and \
                label not in PIECEWISE_CONSTANT:
            missing.append(label)
    assert not missing, f"no s2sad rule for {missing}"
