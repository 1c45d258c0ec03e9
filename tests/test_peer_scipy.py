"""A peer library's SciPy and linear-algebra tests, in substance: each check of autograd
1.7.0's tests/test_scipy.py and tests/test_linalg.py (rewritten here, not copied) as an
s2sad check, with SciPy's own functions (scipy.signal.convolve for autograd's convolve).

autograd's `combo_check(fun, argnums)(*choices, **kw_choices)` checks every combination of
the choices; so does this table (one row per combination). For each row:

* reverse: s2sad.vjp of the function, with a random cotangent, against central
  differences of the cotangent's inner product with the function (every entry);
* forward: s2sad.jvp along a random tangent against directional differences;
* second order, where the peer checks it (its default order 2) and the input is small:
  the Hessian of the cotangent's inner product with the function against differences of
  its gradient.

A row is right if all agree, refused on an S2SADError; known refusals and bugs are listed in
KNOWN and marked xfail(strict=True). autograd checks that are not portable (its own
convolve's axes=/dot_axes= arguments, complex inputs: s2sad differentiates real code) are
listed in NOT_PORTED. `python tests/test_peer_scipy.py` prints every row's verdict.
"""
from __future__ import annotations

import atexit
import importlib.util
import itertools
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

pytest.importorskip("scipy")

import s2sad  # noqa: E402
from corpus_statistics import Case  # noqa: E402
from test_corpus_statistics import (KINDS, assert_same_structure,  # noqa: E402
                                    check_grad_of_grad, check_hessian, copied, leaves,
                                    random_like, rebuild)

RTOL, ATOL = 1e-5, 1e-6
HESSIAN_SIZE = 27     # second order for inputs of at most this many numbers


@dataclass
class Row:
    id: str
    params: str                 # "x, df"
    body: str                   # the function's body
    args: Tuple[Any, ...]
    wrt: Tuple[int, ...]
    order: int = 2              # the peer's order (1 where it asks for first order only)


ROWS: List[Row] = []
NOT_PORTED: Dict[str, str] = {}

_rng = np.random.default_rng(1)


def R(*shape):
    return _rng.standard_normal(shape) if shape else float(_rng.standard_normal())


def U(low, high, *shape):
    return _rng.uniform(low, high, shape) if shape else float(_rng.uniform(low, high))


def positive(*shape):
    return R(*shape) ** 2 + 1.1


def describe(value: Any) -> str:
    """A number by its value, an array by its shape (a row's id)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    return f"{value:.5g}" if np.ndim(value) == 0 else str(np.shape(value))


def combos(id, params, body, wrt, *choices, order=2, **kw_choices):
    """One row per combination of the positional choices and the keyword choices (the
    keywords are written into the body as literals, `{kw}` marks where)."""
    keys = list(kw_choices)
    for values in itertools.product(*choices):
        for kw in itertools.product(*kw_choices.values()):
            spelled = ", ".join(f"{k}={v!r}" for k, v in zip(keys, kw))
            suffix = "".join(f" {describe(v)}" for v in values) + \
                (f" {spelled}" if spelled else "")
            text = body.replace("{kw}", (", " + spelled) if spelled else "")
            ROWS.append(Row(f"{id}{suffix}", params, text, tuple(values), tuple(wrt), order))


# -- stats -----------------------------------------------------------------------------------------

for fn in ("pdf", "cdf", "logpdf"):
    combos(f"chi2.{fn}", "x, df", f"return stats.chi2.{fn}(x, df)", (0,), [positive(4)],
           [1, 2, 3])
combos("beta.cdf", "x, a, b", "return stats.beta.cdf(x, a, b)", (0,),
       [U(0.0, 1.0, 4)], [positive(4)], [positive(4)])
for fn in ("pdf", "logpdf"):
    combos(f"beta.{fn}", "x, a, b", f"return stats.beta.{fn}(x, a, b)", (0, 1, 2),
           [U(0.0, 1.0, 4)], [positive(4)], [positive(4)])
combos("gamma.cdf", "x, a", "return stats.gamma.cdf(x, a)", (0,), [positive(4)], [positive(4)])
for fn in ("pdf", "logpdf"):
    combos(f"gamma.{fn}", "x, a", f"return stats.gamma.{fn}(x, a)", (0, 1), [positive(4)],
           [positive(4)])
for fn in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf"):
    combos(f"norm.{fn}", "x, loc, scale", f"return stats.norm.{fn}(x, loc, scale)", (0, 1, 2),
           [R(4)], [R(4)], [positive(4)])
# (the peer's *_broadcast checks of sf and logsf call cdf and logcdf; so do these)
for fn, called in (("pdf", "pdf"), ("cdf", "cdf"), ("sf", "cdf"), ("logpdf", "logpdf"),
                   ("logcdf", "logcdf"), ("logsf", "logcdf")):
    combos(f"norm.{fn} broadcast", "x, loc, scale", f"return stats.norm.{called}(x, loc, scale)",
           (0, 1, 2), [R(4, 3)], [R(1, 3)], [positive(4, 1)])
for fn in ("cdf", "logpmf", "pmf"):
    combos(f"poisson.{fn}", "k, mu", f"return stats.poisson.{fn}(k, mu)", (1,),
           [np.round(R(4) ** 2)], [positive(4)])
    combos(f"poisson.{fn} broadcast", "k, mu", f"return stats.poisson.{fn}(k, mu)", (1,),
           [np.round(R(4, 3) ** 2)], [positive(4, 1)])
for fn, wrt in (("pdf", (0, 1, 2, 3)), ("cdf", (0, 2)), ("logpdf", (0, 1, 2, 3)),
                ("logcdf", (0, 2))):
    combos(f"t.{fn}", "x, df, loc, scale", f"return stats.t.{fn}(x, df, loc, scale)", wrt,
           [R(4)], [R(4) ** 2 + 2.1], [R(4)], [R(4) ** 2 + 2.1])
    combos(f"t.{fn} broadcast", "x, df, loc, scale", f"return stats.t.{fn}(x, df, loc, scale)",
           wrt, [R(4, 3)], [R(1, 3) ** 2 + 2.1], [R(4, 3)], [R(4, 1) ** 2 + 2.1])


def make_psd(mat):
    return mat.T @ mat + np.eye(mat.shape[0])


SYMMETRIZED = "0.5 * (cov + np.swapaxes(cov, -1, -2))"
for fn in ("pdf", "logpdf"):
    combos(f"mvn.{fn}", "x, mean, cov",
           f"return mvn.{fn}(x, mean, {SYMMETRIZED}, allow_singular=False)", (0, 1, 2),
           [R(4)], [R(4)], [make_psd(R(4, 4))])
    combos(f"mvn.{fn} broadcast", "x, mean, cov", f"return mvn.{fn}(x, mean, {SYMMETRIZED})",
           (0, 1, 2), [R(5, 4)], [R(4)], [make_psd(R(4, 4))])
combos("mvn.entropy", "mean, cov", f"return mvn.entropy(mean, {SYMMETRIZED})", (0, 1),
       [10 * R(4)], [make_psd(R(4, 4))])
_singular = np.zeros((4, 4))
_singular[0, 0] = _singular[1, 1] = 1.0
for fn in ("pdf", "logpdf"):
    combos(f"mvn.{fn} singular cov", "x, mean, cov",
           "x = np.concatenate([x[:2], mean[2:]])\n"
           f"    return mvn.{fn}(x, mean, {SYMMETRIZED}, allow_singular=True)", (0, 1),
           [np.concatenate((R(2), np.zeros(2)))], [np.concatenate((R(2), np.zeros(2)))],
           [_singular])
_alpha = _rng.random(4) ** 2 + 1.2
_x = _rng.dirichlet(_alpha)
for fn in ("pdf", "logpdf"):
    combos(f"dirichlet.{fn} x", "x, alpha", f"return stats.dirichlet.{fn}(x / sum(x), alpha)",
           (0,), [_x], [_alpha])
    combos(f"dirichlet.{fn} alpha", "x, alpha", f"return stats.dirichlet.{fn}(x, alpha)", (1,),
           [_x], [_alpha])

# -- logsumexp ------------------------------------------------------------------------------------

combos("logsumexp1", "x", "return special.logsumexp(x{kw})", (0,), [1.1, R(4), R(3, 4)],
       axis=[None, 0], keepdims=[True, False])
combos("logsumexp2", "x", "return special.logsumexp(x{kw})", (0,), [R(3, 4), R(4, 5, 6), R(1, 5)],
       axis=[None, 0, 1], keepdims=[True, False])
combos("logsumexp3", "x, b", "return special.logsumexp(x, b=b{kw})", (0,), [R(4)],
       [np.exp(R(4))], axis=[None, 0], keepdims=[True, False])
combos("logsumexp4", "x, b", "return special.logsumexp(x, b=b{kw})", (0,), [R(3, 4)],
       [np.exp(R(3, 4))], axis=[None, 0, 1], keepdims=[True, False])
combos("logsumexp5", "x, b", "return special.logsumexp(x, b=b{kw})", (0,), [R(2, 3, 4)],
       [np.exp(R(2, 3, 4))], axis=[None, 0, 1], keepdims=[True, False])
combos("logsumexp6", "a", "return special.logsumexp(a, axis=1, keepdims=True)", (0,), [R(1, 5)])

# -- signal: scipy.signal.convolve (autograd's axes=/dot_axes= forms are its own) ---------------

combos("convolve", "a, b", "return signal.convolve(a, b{kw})", (0, 1), [R(4), R(5), R(6)],
       [R(2), R(3), R(4)], mode=["full", "valid"])
combos("convolve_2d", "a, b", "return signal.convolve(a, b{kw})", (0, 1),
       [R(4, 3), R(5, 4), R(6, 7)], [R(2, 2), R(3, 2), R(4, 2), R(4, 1)], mode=["full", "valid"])
NOT_PORTED["convolve_generalization, convolve_ignore, convolve_ignore_dot"] = \
    "autograd's own convolve(axes=, dot_axes=) has no SciPy counterpart"

# -- special --------------------------------------------------------------------------------------

for fn in ("beta", "betaln"):
    combos(f"special.{fn}", "a, b", f"return special.{fn}(a, b)", (0, 1), [positive(4)],
           [positive(4)])
combos("special.betainc", "a, b, x", "return special.betainc(a, b, x)", (2,), [positive(4)],
       [positive(4)], [U(0.0, 1.0, 4)])
# (the peer passes arrays, not lists, as the choices here: every pair of their entries)
combos("special.gammainc", "a, x", "return special.gammainc(a, x)", (1,), [1],
       R(4) ** 2 + 1.3)
combos("special.gammaincc", "a, x", "return special.gammaincc(a, x)", (1,), [1],
       R(4) ** 2 + 1.3)
combos("special.polygamma", "n, x", "return special.polygamma(n, x)", (1,), [0],
       R(4) ** 2 + 1.3)
combos("special.jn", "n, x", "return special.jn(n, x)", (1,), [2], R(4) ** 2 + 1.3)
combos("special.yn", "n, x", "return special.yn(n, x)", (1,), [2], R(4) ** 2 + 1.3)


def unary(name, low, high):
    """The peer's unary_ufunc_check (real inputs): a number, (2,), (3, 2) and (1, 2)."""
    span = high - low
    combos(f"special.{name}", "x", f"return special.{name}(x)", (0,),
           [0.4 * span + low, _rng.random(2) * span + low, _rng.random((3, 2)) * span + low,
            _rng.random((1, 2)) * span + low])


for name in ("psi", "digamma", "gamma", "gammaln", "gammasgn", "rgamma"):
    unary(name, 0.3, 2.0)
combos("special.multigammaln", "a, d", "return special.multigammaln(a, d)", (0,),
       [U(4.0, 5.0), U(4.0, 5.0, 2, 3)], [1, 2, 3])
for name in ("j0", "j1", "y0", "y1", "i0", "i1"):
    unary(name, 0.2, 20.0)
combos("special.iv", "v, x", "return special.iv(v, x)", (1,), U(1.0, 50.0, 4), R(4) ** 2 + 1.3)
combos("special.ive", "v, x", "return special.ive(v, x)", (1,), U(1.0, 50.0, 4), R(4) ** 2 + 1.3)
unary("erf", -3.0, 3.0)
unary("erfc", -3.0, 3.0)
unary("erfinv", -0.95, 0.95)
unary("erfcinv", 0.05, 1.95)
unary("logit", 0.10, 0.90)
unary("expit", -4.05, 4.95)
NOT_PORTED["test_erf, test_erfc (complex inputs)"] = "s2sad differentiates real code"


def _func(y, t, arg1, arg2):
    return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)


combos("integrate.odeint", "y0, t, args", "return integrate.odeint(func, y0, t, args)", (0, 2),
       [R(3)], [np.linspace(0.1, 0.2, 4)], [(R(3), R(3))], order=1)

# -- scipy.linalg ---------------------------------------------------------------------------------

combos("sqrtm", "x", "return sla.sqrtm(0.5 * (x + x.T))", (0,), [R(3, 3)])
combos("solve_sylvester", "a, b, q", "return sla.solve_sylvester(a, b, q)", (0, 1, 2),
       [R(3, 3)], [R(3, 3)], [R(3, 3)])
combos("solve_banded", "l_and_u, ab, b", "return sla.solve_banded(l_and_u, ab, b)", (1, 2),
       [(1, 1)], [R(3, 5)], [R(5)], order=1)

# -- test_linalg ----------------------------------------------------------------------------------


def linalg(id, params, body, *args, wrt=(0,), order=2):
    ROWS.append(Row(id, params, body, tuple(args), tuple(wrt), order))


_m = R(8, 8)
linalg("inv", "x", "return np.linalg.inv(x)", _m @ _m + np.eye(8))
for M in range(2, 8):
    linalg(f"pinv (5, {M})", "x", "return np.linalg.pinv(x)", R(5, M))
    linalg(f"pinv (2, 5, {M})", "x", "return np.linalg.pinv(x)", R(2, 5, M))
    linalg(f"pinv low rank (5, {M})", "x", "return np.linalg.pinv(x.T @ x)", R(5, M))
    linalg(f"pinv low rank (2, 5, {M})", "x",
           "return np.linalg.pinv(np.swapaxes(x, -1, -2) @ x)", R(2, 5, M))
linalg("inv_3d", "x", "return np.linalg.inv(x)", R(4, 4, 4) + 5 * np.eye(4))
linalg("inv_4d", "x", "return np.linalg.inv(x)", R(4, 4, 4, 4) + 5 * np.eye(4))
_B = R(8, 7)
linalg("solve_arg1", "a, b", "return np.linalg.solve(a, b)", R(8, 8) + 10 * np.eye(8), _B)
linalg("solve_arg1_1d", "a, b", "return np.linalg.solve(a, b)", R(8, 8) + 10 * np.eye(8), R(8))
linalg("solve_arg2", "a, b", "return np.linalg.solve(a, b)", R(6, 6) + np.eye(6), R(6, 5),
       wrt=(1,))
linalg("solve_arg1_3d", "a, b", "return np.linalg.solve(a, b[..., None])[..., 0]",
       R(5, 4, 4) + 5 * np.eye(4), R(5, 4))
linalg("solve_arg1_3d_3d", "a, b", "return np.linalg.solve(a, b)", R(5, 4, 4) + 5 * np.eye(4),
       R(5, 4, 6))
linalg("det", "x", "return np.linalg.det(x)", R(6, 6))
linalg("det_3d", "x", "return np.linalg.det(x)", R(3, 3, 3))
_s = R(6, 6)
linalg("slogdet", "x", "sign, logdet = np.linalg.slogdet(x)\n    return logdet", _s)
linalg("slogdet negated", "x", "sign, logdet = np.linalg.slogdet(x)\n    return logdet", -_s)
_p = np.stack([make_psd(R(5, 5)) + 4 * np.eye(5) for _ in range(3)])
linalg("slogdet_3d", "x", "return np.sum(np.linalg.slogdet(x)[1])", _p)
linalg("vector_2norm", "x", "return np.linalg.norm(x)", R(6))
linalg("frobenius_norm", "x", "return np.linalg.norm(x)", R(6, 5))
linalg("frobenius_norm_axis", "x", "return np.linalg.norm(x, axis=(0, 1))", R(6, 5, 4))
for _ord in (2, 3, 4):
    linalg(f"vector_norm_ord {_ord}", "x", f"return np.linalg.norm(x, ord={_ord})", R(6))
for _axis in range(3):
    linalg(f"norm_axis {_axis}", "x", f"return np.linalg.norm(x, axis={_axis})", R(6, 5, 4))
linalg("norm_nuclear", "x", "return np.linalg.norm(x, ord='nuc')", R(6, 5), order=1)
linalg("norm_nuclear_axis", "x", "return np.linalg.norm(x, ord='nuc', axis=(0, 1))", R(6, 5, 4),
       order=1)
linalg("eigvalh_lower", "x", "w, v = np.linalg.eigh(x)\n    return w, v", R(6, 6))
linalg("eigvalh_upper", "x", "w, v = np.linalg.eigh(x, 'U')\n    return w, v", R(6, 6))
_h = R(2, 3, 6, 6) + 10 * np.eye(6)
_h = np.einsum("...ij,...kj->...ik", _h, _h)
linalg("eigvalh_lower_broadcasting", "x", "w, v = np.linalg.eigh(x)\n    return w, v", _h)
linalg("eigvalh_upper_broadcasting", "x", "w, v = np.linalg.eigh(x, 'U')\n    return w, v", _h)
linalg("eig_real", "x", "w, v = np.linalg.eig(x)\n    return np.abs(w), np.abs(v)", R(8, 8))
NOT_PORTED["eigvalh_*_complex, eig_complex, eig_batched, svd_*_complex"] = \
    "complex inputs: s2sad differentiates real code"


def rand_psd(d):
    m = R(d, d)
    return m @ m.T


SYM_TRIL = "(np.tril(A) + np.swapaxes(np.tril(A), -1, -2)) / 2.0"
linalg("cholesky", "A", f"return np.linalg.cholesky({SYM_TRIL})", rand_psd(6))
linalg("cholesky_broadcast", "A", f"return np.linalg.cholesky({SYM_TRIL})",
       np.stack([rand_psd(6) for _ in range(3)]))
linalg("cholesky_reparameterization_trick", "A",
       f"S = {SYM_TRIL}\n    z = np.linalg.cholesky(S) @ NOISE6\n    return np.linalg.norm(z)",
       rand_psd(6))
for _shape, _name in (((3, 5), "wide_2d"), ((4, 3, 5), "wide_3d"), ((4, 4), "square_2d"),
                      ((3, 4, 4), "square_3d"), ((5, 3), "tall_2d"), ((4, 5, 3), "tall_3d")):
    linalg(f"svd_{_name}", "x",
           "u, s, v = np.linalg.svd(x, full_matrices=False)\n    return u, s, v", R(*_shape))
linalg("svd_only_s_2d", "x", "return np.linalg.svd(x, full_matrices=False, compute_uv=False)",
       R(5, 3))
linalg("svd_only_s_3d", "x", "return np.linalg.svd(x, full_matrices=False, compute_uv=False)",
       R(4, 5, 3))

IDS = [row.id for row in ROWS]
assert len(set(IDS)) == len(IDS), sorted(i for i in IDS if IDS.count(i) > 1)

HEADER = """import numpy as np
import scipy
import scipy.integrate as integrate
import scipy.linalg as sla
from scipy import signal, special, stats
from scipy.stats import multivariate_normal as mvn
"""


def _load(text: str, folder: str):
    path = f"{folder}/peer_scipy_functions.py"
    with open(path, "w") as handle:
        handle.write(text)
    spec = importlib.util.spec_from_file_location("peer_scipy_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.func = _func
    module.NOISE6 = np.random.RandomState(0).randn(6)
    return module


def _inner(k: int, out: Any) -> str:
    """The body of g<k>: the output's inner product with the cotangent C<k>."""
    call = f"f{k}({ROWS[k].params})"
    if isinstance(out, tuple):
        names = ", ".join(f"o{i}" for i in range(len(out)))
        terms = " + ".join(f"np.sum(o{i} * C{k}[{i}])" for i in range(len(out)))
        return f"{names} = {call}\n    return {terms}"
    return f"return np.sum({call} * C{k})"


def _module():
    """The table's functions in a module file (s2sad reads their source): f<k> is the
    peer's function, g<k> its inner product with the cotangent C<k> (a number)."""
    folder = tempfile.mkdtemp(prefix="s2sad_peer_scipy_")
    atexit.register(shutil.rmtree, folder, True)  # (read until the process ends)
    text = HEADER + "".join(f"\n\ndef f{k}({row.params}):\n    {row.body}\n"
                            for k, row in enumerate(ROWS))
    module = _load(text, folder)
    outputs = []
    for k, row in enumerate(ROWS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outputs.append(getattr(module, f"f{k}")(*row.args))
        except Exception:  # noqa: BLE001 - a combination the primal refuses
            outputs.append(None)
    text += "".join(f"\n\ndef g{k}({ROWS[k].params}):\n    {_inner(k, out)}\n"
                    for k, out in enumerate(outputs) if out is not None)
    module = _load(text, folder)
    for k, out in enumerate(outputs):
        setattr(module, f"C{k}", None if out is None else
                random_like(out, "cotangent " + ROWS[k].id))
    return module


MODULE = _module()


def functions(k: int):
    return getattr(MODULE, f"f{k}"), getattr(MODULE, f"g{k}")


def primal_runs(k: int) -> bool:
    return getattr(MODULE, f"C{k}") is not None


def _spec(wrt):
    return wrt[0] if len(wrt) == 1 else wrt


def numeric_vjp(f, args: Tuple[Any, ...], index: int, cotangent: Any) -> Any:
    """The cotangent's product with central differences of f in each entry of argument
    `index` (each output entry differenced alone: no cancellation between large ones)."""
    def along(leaf_index, entry, h):
        outputs = []
        for sign in (1.0, -1.0):
            probe = list(args)
            parts = [copied(v) for v in leaves(args[index])]
            if isinstance(parts[leaf_index], np.ndarray):
                parts[leaf_index][entry] += sign * h
            else:
                parts[leaf_index] = parts[leaf_index] + sign * h
            probe[index] = rebuild(args[index], parts)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outputs.append(f(*probe))
        return sum(float(np.sum(c * (np.asarray(a) - np.asarray(b)))) for c, a, b in
                   zip(leaves(cotangent), leaves(outputs[0]), leaves(outputs[1]))) / (2 * h)

    result = []
    for n, leaf in enumerate(leaves(args[index])):
        if isinstance(leaf, np.ndarray):
            g = np.zeros(leaf.shape)
            for i in np.ndindex(leaf.shape):
                g[i] = along(n, i, 1e-6 * max(1.0, abs(leaf[i])))
            result.append(g)
        else:
            result.append(along(n, None, 1e-6 * max(1.0, abs(leaf))))
    return rebuild(args[index], result)


def check_reverse(k: int) -> None:
    row = ROWS[k]
    f, g = functions(k)
    cotangent = getattr(MODULE, f"C{k}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, pullback = s2sad.vjp(f, wrt=_spec(row.wrt))(*[copied(a) for a in row.args])
        got = pullback(copied(cotangent))
    got = (got,) if len(row.wrt) == 1 else got
    expected_value = f(*[copied(a) for a in row.args])
    assert_same_structure(value, expected_value, f"{row.id}: the value")
    for v, e in zip(leaves(value), leaves(expected_value)):
        np.testing.assert_allclose(v, e, rtol=1e-10, err_msg=f"{row.id}: the value")
    for index, gradient in zip(row.wrt, got):
        expected = numeric_vjp(f, row.args, index, cotangent)
        what = f"{row.id}: the VJP in argument {index}"
        assert_same_structure(gradient, row.args[index], what)
        for a, b in zip(leaves(gradient), leaves(expected)):
            assert np.all(np.isfinite(b)), f"{what}: the reference is not finite"
            assert np.all(np.isfinite(a)), f"{what}: {a}"
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def check_forward(k: int) -> None:
    row = ROWS[k]
    f, _ = functions(k)
    tangents = tuple(random_like(row.args[i], f"tangent {row.id} {i}") for i in row.wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, derivative = s2sad.jvp(f, wrt=_spec(row.wrt))(
            *[copied(a) for a in row.args], tangents[0] if len(row.wrt) == 1 else tangents)
    h = 1e-6

    def at(sign):
        probe = list(row.args)
        for i, t in zip(row.wrt, tangents):
            probe[i] = rebuild(row.args[i], [x + sign * h * d for x, d in
                                             zip(leaves(row.args[i]), leaves(t))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(*probe)
    up, down = at(1.0), at(-1.0)
    expected = rebuild(up, [(a - b) / (2 * h) for a, b in zip(leaves(up), leaves(down))])
    assert len(leaves(derivative)) == len(leaves(expected)), f"{row.id}: the JVP's structure"
    for a, b in zip(leaves(derivative), leaves(expected)):
        assert np.shape(a) == np.shape(b), f"{row.id}: the JVP's shape {np.shape(a)}"
        assert np.all(np.isfinite(b)), f"{row.id}: the reference is not finite"
        assert np.all(np.isfinite(a)), f"{row.id}: the JVP {a}"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"{row.id}: the JVP")


def second_order(row: Row) -> bool:
    return row.order > 1 and sum(np.size(row.args[i]) for i in row.wrt) <= HESSIAN_SIZE and \
        all(isinstance(row.args[i], (float, np.ndarray)) for i in row.wrt)


def check_second_order(k: int) -> None:
    row = ROWS[k]
    _, g = functions(k)
    check_hessian(Case(g, row.args, row.wrt))


def check_nested(k: int) -> None:
    """grad(grad(.)) of the cotangent's product in each number differentiated."""
    row = ROWS[k]
    _, g = functions(k)
    check_grad_of_grad(Case(g, row.args, row.wrt))


def nested_row(row: Row) -> bool:
    return row.order > 1 and any(type(row.args[i]) is float for i in row.wrt)


CHECKS = {"reverse": check_reverse, "forward": check_forward, "hessian": check_second_order,
          "grad of grad": check_nested}

# (check, row id) -> (kind, reason); kind is "refused", "wrong" or "crash"
KNOWN: Dict[Tuple[str, str], Tuple[str, str]] = {}
FIRST, ALL = ("reverse", "forward"), ("reverse", "forward", "hessian", "grad of grad")


def known(kind: str, reason: str, ids, checks=ALL) -> None:
    for id in ids:
        for check in checks:
            KNOWN[(check, id)] = (kind, reason)


known("refused", "the function 'func' is used as a value (odeint)",
      ["integrate.odeint (3,) (4,) ((3,), (3,))"], FIRST)
known("refused", "sqrtm of a matrix whose square root is complex (the peer's symmetric input "
      "has negative eigenvalues)", ["sqrtm (3, 3)"])
known("refused", "second order: s2sad.runtime.norm_adjoint_p has no derivative rule",
      [f"vector_norm_ord {order}" for order in (2, 3, 4)], ("hessian",))
known("refused", "no derivative for np.linalg.norm with ord='nuc' of a 3-d array",
      ["norm_nuclear_axis"], FIRST)
known("refused", "no derivative rule for np.linalg.eig (complex)", ["eig_real"], FIRST)


SELECTED = {"hessian": second_order, "grad of grad": nested_row}


def _params(check: str) -> list:
    params = []
    for k, row in enumerate(ROWS):
        if not primal_runs(k) or not SELECTED.get(check, lambda row: True)(row):
            continue
        known = KNOWN.get((check, row.id))
        marks = [pytest.mark.xfail(strict=True, raises=KINDS[known[0]], reason=known[1])] \
            if known else []
        params.append(pytest.param(k, id=row.id, marks=marks))
    return params


@pytest.mark.parametrize("k", _params("reverse"))
def test_reverse_mode(k):
    check_reverse(k)


@pytest.mark.parametrize("k", _params("forward"))
def test_forward_mode(k):
    check_forward(k)


@pytest.mark.parametrize("k", _params("hessian"))
def test_second_order(k):
    check_second_order(k)


@pytest.mark.parametrize("k", _params("grad of grad"))
def test_grad_of_grad(k):
    check_nested(k)


def test_the_known_list_names_real_rows():
    assert all(check in CHECKS and id in IDS for check, id in KNOWN)


def test_the_port_is_whole():
    assert len(ROWS) > 300
    assert all(primal_runs(k) for k in range(len(ROWS))), \
        [ROWS[k].id for k in range(len(ROWS)) if not primal_runs(k)]


def verdict(check, k: int) -> Tuple[str, str]:
    try:
        check(k)
    except s2sad.S2SADError as exc:
        return "refused", str(exc).strip().splitlines()[0]
    except AssertionError as exc:
        return "wrong", " ".join(str(exc).split())[:300]
    except Exception as exc:  # noqa: BLE001
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    return "right", ""


SEVERITY = ["right", "refused", "wrong", "crash"]


def main() -> None:
    rows: Dict[str, int] = {}
    counts: Dict[Tuple[str, str], int] = {}
    for k, row in enumerate(ROWS):
        if not primal_runs(k):
            print(f"primal   {row.id}: the primal raises")
            continue
        worst = 0
        for name, check in CHECKS.items():
            if not SELECTED.get(name, lambda row: True)(row):
                continue
            kind, message = verdict(check, k)
            counts[(name, kind)] = counts.get((name, kind), 0) + 1
            worst = max(worst, SEVERITY.index(kind))
            if kind != "right":
                print(f"{name:8} {row.id:45} {kind:8} {message}")
        rows[SEVERITY[worst]] = rows.get(SEVERITY[worst], 0) + 1
    print("programs (the worst verdict of each):", rows)
    for name in CHECKS:
        print(name, {kind: n for (check, kind), n in counts.items() if check == name})


if __name__ == "__main__":
    main()
