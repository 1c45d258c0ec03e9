"""The statistical corpus (tests/corpus_statistics.py) judged as a held-out corpus would be.

Each program's gradient (reverse mode) against central differences, its directional
derivative (forward mode) against directional differences, and, for the small ones, its
Hessian against differences of the gradient (dict and list parameters too), and
grad(grad(f)) in each number differentiated; autograd is a second oracle where it has
every function a program calls. A case is right if every number matches (a NaN never
does), refused if s2sad raises an S2SADError, wrong if a number differs, a crash on any
other exception. The second-order checks take s2sad's gradient as their reference, so
they judge a case only where its first order is right.

Known refusals and bugs are in KNOWN: {(check, case): (kind, reason)}, marked
xfail(strict=True) with the exception the kind expects, so a fix shows up as XPASS.
`python tests/test_corpus_statistics.py` prints every case's verdict.
"""
from __future__ import annotations

import functools
import inspect
import types
import warnings
import zlib
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest

pytest.importorskip("scipy")

import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402

import s2sad  # noqa: E402
from corpus_statistics import CASES, Case  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6

# (check, case name) -> (kind, reason); kind is "refused", "wrong" or "crash"
KNOWN = {}
ALL_CHECKS = ("reverse", "forward", "hessian", "grad of grad")
for _check in ALL_CHECKS:
    KNOWN[(_check, "laplace_nll")] = ("refused", "imports inside the function are not supported")
    KNOWN[(_check, "right_censored_normal_logsf")] = ("refused", "the operator ~ is not supported")
    KNOWN[(_check, "scipy_special_log1p_expm1")] = (
        "refused", "no derivative rule for special.expm1 / sp.log1p")
REFUSED_EVERYWHERE = {
    "kernel_exp_out_in_place": "np.exp(K, out=K): an expression statement is not supported",
    "gp_fill_diagonal": "np.fill_diagonal: an expression statement is not supported",
    "gp_diag_indices_in_place": "K[np.diag_indices_from(K)] += ...: writing through an index "
                                "array is not supported",
    "gp_flat_diagonal_in_place": "K.flat[::n + 1] += ...: assignment into an element of an "
                                 "expression is not supported",
    "solve_triangular_overwrite_b": "solve_triangular's rule does not accept overwrite_b",
    "cho_solve_overwrite_b": "cho_solve's rule does not accept overwrite_b",
    "gp_cholesky_overwrite_fortran": "cho_factor's rule does not accept overwrite_a; no rule "
                                     "for np.asfortranarray",
    "ard_kernel_cdist": "no derivative rule for scipy.spatial.distance.cdist",
    "density_normaliser_trapezoid": "no derivative rule for np.trapezoid / "
                                    "scipy.integrate.trapezoid",
    "smoothing_fftconvolve": "no derivative rule for scipy.signal.fftconvolve",
    "vi_elbo_reparameterised": "the method .standard_normal() is not supported (a seeded "
                               "generator's draws are constants)",
    "monte_carlo_call_pathwise": "the method .randn() is not supported",
    "whitening_cov_loss": "no derivative rule for np.cov / np.corrcoef",
    "median_abs_residual_quantile": "no derivative rule for np.quantile / np.percentile",
    "weighted_least_squares_average": "no derivative rule for np.average",
    "scipy_eigh_subset_by_index": "scipy.linalg.eigh's rule does not accept subset_by_index",
    "gmm_cholesky_from_tril_indices": "L[np.tril_indices(2)] = chunk: writing through an index "
                                      "array is not supported (an index may repeat)",
    "gp_nll_keywords_at_their_defaults": "overwrite_a=False / overwrite_b=False spelled out: "
                                         "the rules do not accept the keyword",
    "logsumexp_return_sign_false": "return_sign=False spelled out: logsumexp's rule does not "
                                   "accept the keyword",
    "flat_vector_split_for_minimize": "unpacking np.split's piece: 'unpacking an array needs the "
                                      "count of its rows, known only at run time here'",
}
for _name, _reason in REFUSED_EVERYWHERE.items():
    for _check in ALL_CHECKS:
        KNOWN[(_check, _name)] = ("refused", _reason)
KNOWN[("forward", "cho_factor_upper_then_solve_triangular")] = (
    "refused", "forward mode only: 'the tangent rule for scipy.linalg.solve_triangular treats "
               "lower as a constant, but here it depends on the inputs' for the bool cho_factor "
               "returns (reverse mode accepts it)")
NANS = {
    "gp_matern_in_its_inputs": "np.sqrt(d2) at d2 == 0 (the kernel's diagonal): inf * 0 gives "
                               "NaN where the kernel is smooth",
}
for _name, _reason in NANS.items():
    for _check in ALL_CHECKS:
        KNOWN[(_check, _name)] = ("wrong", "a NaN gradient: " + _reason)
for _check in ALL_CHECKS:  # (entr's slope at 0 is infinite: refused, not NaN)
    KNOWN[(_check, "entropy_bonus_underflowed_softmax")] = (
        "refused", "scipy.special.entr at 0 (an underflowed probability), where its slope is "
                   "infinite")
for _check in ALL_CHECKS:
    KNOWN[(_check, "logistic_regression_lambda_and_map")] = (
        "refused", "a comprehension over a count known only at run time (the list "
                   "comprehension over zip(y, p))")
CRASHES = {
}
for _name, _reason in CRASHES.items():
    for _check in ALL_CHECKS:
        KNOWN[(_check, _name)] = ("crash", _reason)
for _name, _what in (("shrinkage_covariance_eigh", "np.linalg.eigh"),
                     ("procrustes_svd_in_a_number", "np.linalg.svd")):
    KNOWN[("grad of grad", _name)] = (
        "crash", f"grad(grad(f)) through {_what}'s tuple: ValueError: setting an array element "
                 "with a sequence (the tuple's adjoint is stacked with its bool/pivot part); "
                 "s2sad.hessian of the same function is right")
KNOWN[("grad of grad", "two_component_logsumexp_list")] = (
    "refused", "second order: logsumexp of a list's gradient is refused")
KNOWN[("hessian", "two_component_logsumexp_list")] = (
    "refused", "second order: the generated gradient's list of values that depend on the "
               "inputs is refused (logsumexp of a list)")


# -- structures of parameters: leaves, rebuilt ---------------------------------------------

def leaves(tree: Any) -> List[Any]:
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in leaves(value)]
    return [tree]


def rebuild(tree: Any, flat: List[Any]) -> Any:
    """`tree` with its leaves replaced, in order, by `flat` (consumed)."""
    if isinstance(tree, dict):
        return {key: rebuild(value, flat) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(rebuild(value, flat) for value in tree)
    return flat.pop(0)


def copied(value: Any) -> Any:
    return rebuild(value, [np.array(v) if isinstance(v, np.ndarray) else v
                           for v in leaves(value)])


def quiet_call(fn: Callable, *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*[copied(a) for a in args])


def scalar(fn: Callable, args: List[Any]) -> float:
    return float(quiet_call(fn, *args))


def step(x: float) -> float:
    return 1e-6 * max(1.0, abs(x))


def numeric_gradient(fn: Callable, args: Tuple[Any, ...], index: int) -> Any:
    """Central differences of scalar fn in every leaf of argument `index`, in its
    structure (a float for a float leaf)."""
    tree = args[index]
    flat = leaves(tree)
    result = []
    for k, leaf in enumerate(flat):
        def at(value, k=k):
            probe = list(args)
            parts = list(flat)
            parts[k] = value
            probe[index] = rebuild(tree, parts)
            return scalar(fn, probe)
        if isinstance(leaf, np.ndarray):
            g = np.zeros(leaf.shape)
            for i in np.ndindex(leaf.shape):
                h = step(leaf[i])
                up, down = leaf.copy(), leaf.copy()
                up[i] += h
                down[i] -= h
                g[i] = (at(up) - at(down)) / (2 * h)
            result.append(g)
        else:
            h = step(leaf)
            result.append((at(leaf + h) - at(leaf - h)) / (2 * h))
    return rebuild(tree, result)


def directional_difference(fn: Callable, args: Tuple[Any, ...], wrt: Tuple[int, ...],
                           tangents: Tuple[Any, ...]) -> float:
    h = 1e-6 * max(1.0, max(np.max(np.abs(leaf)) for i in wrt for leaf in leaves(args[i])))

    def at(sign):
        probe = list(args)
        for i, t in zip(wrt, tangents):
            probe[i] = rebuild(args[i], [x + sign * h * d for x, d in
                                         zip(leaves(args[i]), leaves(t))])
        return scalar(fn, probe)
    return (at(1.0) - at(-1.0)) / (2 * h)


def random_like(tree: Any, seed: str) -> Any:
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    return rebuild(tree, [rng.uniform(-1, 1, size=np.shape(leaf)) if isinstance(leaf, np.ndarray)
                          else float(rng.uniform(-1, 1)) for leaf in leaves(tree)])


def assert_same_structure(got: Any, argument: Any, what: str) -> None:
    """The gradient has the argument's structure, shapes and kinds: a float for a float,
    an array of the argument's float dtype for an array, an np.float32 for one."""
    assert type(got) is type(argument) or (type(argument) is float and
                                           isinstance(got, float)), \
        f"{what}: a {type(got).__name__} for a {type(argument).__name__}"
    if isinstance(argument, dict):
        assert list(got) == list(argument), what
    assert len(leaves(got)) == len(leaves(argument)), what
    for g, e in zip(leaves(got), leaves(argument)):
        assert type(g) is type(e) or (type(e) is float and isinstance(g, float)), \
            f"{what}: {type(g).__name__} for {type(e).__name__}"
        assert np.shape(g) == np.shape(e), f"{what}: shape {np.shape(g)} for {np.shape(e)}"
        if isinstance(e, (np.ndarray, np.floating)):
            assert g.dtype == e.dtype, f"{what}: dtype {g.dtype} for {e.dtype}"


def in_float64(args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """The reference derivatives are taken in float64 (differences in float32 are noise)."""
    return tuple(rebuild(a, [v.astype(np.float64) if isinstance(v, np.ndarray) and
                             v.dtype == np.float32 else float(v)
                             if isinstance(v, np.floating) else v
                             for v in leaves(a)]) for a in args)


def single_precision(args: Tuple[Any, ...]) -> bool:
    return any(getattr(v, "dtype", None) == np.float32 for a in args for v in leaves(a))


def assert_close(got: Any, expected: Any, what: str, rtol=RTOL, atol=ATOL) -> None:
    """Every number finite and close (a NaN is never right, even where differences give one)."""
    for g, e in zip(leaves(got), leaves(expected)):
        assert np.all(np.isfinite(e)), f"{what}: the reference is not finite (a bad case)"
        assert np.all(np.isfinite(g)), f"{what}: {g}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=what)


# -- autograd as a second oracle ------------------------------------------------------------

def _autograd_modules():
    import autograd.numpy as anp
    import autograd.scipy.linalg as alinalg
    import autograd.scipy.special as aspecial
    import autograd.scipy.stats as astats
    modules = {id(np): anp, id(np.linalg): anp.linalg, id(scipy.special): aspecial,
               id(scipy.stats): astats, id(scipy.linalg): alinalg}
    modules[id(scipy)] = types.SimpleNamespace(special=aspecial, stats=astats, linalg=alinalg)
    return modules, [(scipy.special, aspecial), (scipy.stats, astats),
                     (scipy.linalg, alinalg), (np, anp), (np.linalg, anp.linalg)]


def autograd_version(fn: Callable, done: Optional[dict] = None) -> Optional[Callable]:
    """fn with its globals read as autograd's modules and functions, or None where
    autograd lacks one of them (then it is no oracle for this program)."""
    modules, pairs = _autograd_modules()
    done = {} if done is None else done
    if isinstance(fn, functools.partial):
        inner = autograd_version(fn.func, done)
        return None if inner is None else functools.partial(inner, *fn.args, **fn.keywords)
    if isinstance(fn, types.MethodType):
        inner = autograd_version(fn.__func__, done)
        return None if inner is None else types.MethodType(inner, fn.__self__)
    if fn in done:
        return done[fn]
    namespace = dict(fn.__globals__)
    code_names = set()

    def collect(code):
        code_names.update(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                collect(const)
    collect(fn.__code__)
    new = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                             fn.__closure__)
    done[fn] = new
    for name in code_names:
        if name not in namespace:
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            if id(value) in modules:
                namespace[name] = modules[id(value)]
            elif value.__name__ != "math":
                return None
        elif isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            inner = autograd_version(value, done)
            if inner is None:
                return None
            namespace[name] = inner
        elif callable(value) and not isinstance(value, type):
            replacement = None
            for original, theirs in pairs:
                for attribute in dir(original):
                    if getattr(original, attribute, None) is value:
                        replacement = getattr(theirs, attribute, None)
                        break
                if replacement is not None:
                    break
            if replacement is None:
                return None
            namespace[name] = replacement
    return new


def autograd_gradient(fn: Callable, args: Tuple[Any, ...], index: int) -> Optional[Any]:
    import autograd
    version = autograd_version(fn)
    if version is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return autograd.grad(version, index)(*[copied(a) for a in args])
    except Exception:  # noqa: BLE001 - autograd lacking a rule is not our finding
        return None


# -- the checks ------------------------------------------------------------------------------

def check_reverse(case: Case) -> None:
    single = len(case.wrt) == 1
    wrt = case.wrt[0] if single else case.wrt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = s2sad.grad(case.fn, wrt=wrt)(*[copied(a) for a in case.args])
    got = (got,) if single else got
    assert isinstance(got, tuple) and len(got) == len(case.wrt)
    rtol = 2e-3 if single_precision(case.args) else RTOL
    reference = in_float64(case.args)
    for index, g in zip(case.wrt, got):
        expected = numeric_gradient(case.fn, reference, index)
        what = f"{case.name}: d/d(argument {index})"
        assert_same_structure(g, case.args[index], what)
        assert_close(g, expected, what, rtol=rtol, atol=rtol / 10)
        if rtol != RTOL:
            continue
        oracle = autograd_gradient(case.fn, case.args, index)
        if oracle is not None and len(leaves(oracle)) == len(leaves(expected)) and all(
                np.allclose(o, e, rtol=RTOL, atol=ATOL)
                for o, e in zip(leaves(oracle), leaves(expected))):
            assert_close(g, oracle, what + " (autograd)", rtol=1e-7, atol=1e-9)


def check_forward(case: Case) -> None:
    single = len(case.wrt) == 1
    wrt = case.wrt[0] if single else case.wrt
    tangents = tuple(random_like(case.args[i], f"{case.name} {i}") for i in case.wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, derivative = s2sad.jvp(case.fn, wrt=wrt)(
            *[copied(a) for a in case.args], tangents[0] if single else tangents)
    np.testing.assert_allclose(value, scalar(case.fn, list(case.args)), rtol=1e-12,
                               err_msg=f"{case.name}: the value")
    assert np.ndim(derivative) == 0, f"{case.name}: derivative of shape {np.shape(derivative)}"
    rtol = 2e-3 if single_precision(case.args) else RTOL
    expected = directional_difference(case.fn, in_float64(case.args), case.wrt, tangents)
    assert np.isfinite(expected), f"{case.name}: the reference is not finite (a bad case)"
    assert np.isfinite(derivative), f"{case.name}: the derivative is {derivative}"
    np.testing.assert_allclose(derivative, expected, rtol=rtol, atol=rtol / 10,
                               err_msg=f"{case.name}: the directional derivative")


def _flat(x: Any) -> np.ndarray:
    return np.concatenate([np.ravel(leaf) for leaf in leaves(x)])


def check_hessian(case: Case) -> None:
    """Every block of the Hessian in the differentiated arguments, against central
    differences of s2sad's gradient (right by check_reverse)."""
    single = len(case.wrt) == 1
    wrt = case.wrt[0] if single else case.wrt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradient = s2sad.grad(case.fn, wrt=wrt)
        H = s2sad.hessian(case.fn, wrt=wrt)(*[copied(a) for a in case.args])
    blocks = ((H,),) if single else H

    def grad_at(probe):
        g = quiet_call(gradient, *probe)
        return (g,) if single else g

    for a, i in enumerate(case.wrt):
        for b, j in enumerate(case.wrt):
            x = case.args[j]
            shape = np.shape(x)
            expected = np.zeros(np.shape(case.args[i]) + shape)
            for k in np.ndindex(shape):
                h = 1e-5 * max(1.0, abs(float(np.asarray(x)[k])))
                probes = []
                for sign in (1.0, -1.0):
                    probe = list(case.args)
                    if isinstance(x, np.ndarray):
                        moved = x.copy()
                        moved[k] += sign * h
                    else:
                        moved = x + sign * h
                    probe[j] = moved
                    probes.append(np.asarray(grad_at(probe)[a], dtype=float))
                expected[(Ellipsis,) + k] = (probes[0] - probes[1]) / (2 * h)
            got = blocks[a][b]
            what = f"{case.name}: Hessian block ({i}, {j})"
            assert np.shape(got) == expected.shape, f"{what}: shape {np.shape(got)}"
            assert np.all(np.isfinite(got)) and np.all(np.isfinite(expected)), what
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=what)


def check_structured_hessian(case: Case) -> None:
    """The Hessian in one dict/list argument (blocks keyed like the argument, twice)
    against central differences of s2sad's gradient, leaf by leaf."""
    (index,) = case.wrt
    tree = case.args[index]
    flat = leaves(tree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradient = s2sad.grad(case.fn, wrt=index)
        H = s2sad.hessian(case.fn, wrt=index)(*[copied(a) for a in case.args])
    sizes = [int(np.size(leaf)) for leaf in flat]
    blocks = leaves(H)
    assert len(blocks) == len(flat) ** 2, f"{case.name}: {len(blocks)} Hessian blocks"
    got = np.block([[np.reshape(blocks[i * len(flat) + j], (sizes[i], sizes[j]))
                     for j in range(len(flat))] for i in range(len(flat))])
    expected = np.zeros_like(got)
    column = 0
    for k, leaf in enumerate(flat):
        for entry in range(sizes[k]):
            probes = []
            for sign in (1.0, -1.0):
                parts = [copied(v) for v in flat]
                h = 1e-5 * max(1.0, abs(float(np.ravel(leaf)[entry])))
                if isinstance(leaf, np.ndarray):
                    parts[k].flat[entry] += sign * h
                else:
                    parts[k] = leaf + sign * h
                probe = list(case.args)
                probe[index] = rebuild(tree, parts)
                probes.append(np.concatenate([np.ravel(g) for g in
                                              leaves(quiet_call(gradient, *probe))]))
            expected[:, column] = (probes[0] - probes[1]) / (2 * h)
            column += 1
    assert np.all(np.isfinite(got)), f"{case.name}: {got}"
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5,
                               err_msg=f"{case.name}: the structured Hessian")


def check_grad_of_grad(case: Case) -> None:
    """grad(grad(f)) in each number differentiated (reverse over reverse, as a user nests
    them), against central differences of the gradient."""
    for index in case.wrt:
        if type(case.args[index]) is not float:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inner = s2sad.grad(case.fn, wrt=index)
            got = s2sad.grad(inner, wrt=index)(*[copied(a) for a in case.args])
        x = case.args[index]
        h = 1e-5 * max(1.0, abs(x))
        probes = []
        for sign in (1.0, -1.0):
            probe = list(case.args)
            probe[index] = x + sign * h
            probes.append(float(quiet_call(inner, *probe)))
        expected = (probes[0] - probes[1]) / (2 * h)
        what = f"{case.name}: d2/d(argument {index})2 by grad(grad(f))"
        assert isinstance(got, float) and np.isfinite(got), f"{what}: {got!r}"
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=what)


def nested(case: Case) -> bool:
    return any(type(case.args[i]) is float for i in case.wrt)


def structured(case: Case) -> bool:
    return len(case.wrt) == 1 and isinstance(case.args[case.wrt[0]], (dict, list, tuple))


CHECKS = {"reverse": check_reverse, "forward": check_forward, "hessian": check_hessian,
          "structured hessian": check_structured_hessian, "grad of grad": check_grad_of_grad}
KINDS = {"refused": s2sad.S2SADError, "wrong": AssertionError, "crash": Exception}


def second_order(case: Case) -> bool:
    """The Hessian is checked where the case asks, and for every small program of plain
    arguments (six numbers at most)."""
    plain = all(isinstance(case.args[i], (float, np.ndarray)) for i in case.wrt) and \
        not single_precision(case.args)
    return case.hessian or (plain and sum(np.size(case.args[i]) for i in case.wrt) <= 6)


PARAMETRISED = {"hessian": second_order, "structured hessian": structured,
                "grad of grad": nested}


def _params(check: str) -> list:
    params = []
    for c in CASES:
        if check in PARAMETRISED and not PARAMETRISED[check](c):
            continue
        known = KNOWN.get((check, c.name))
        marks = [pytest.mark.xfail(strict=True, raises=KINDS[known[0]], reason=known[1])] \
            if known else []
        params.append(pytest.param(c, id=c.name, marks=marks))
    return params


@pytest.mark.parametrize("case", _params("reverse"))
def test_reverse_mode(case):
    check_reverse(case)


@pytest.mark.parametrize("case", _params("forward"))
def test_forward_mode(case):
    check_forward(case)


@pytest.mark.parametrize("case", _params("hessian"))
def test_hessian(case):
    check_hessian(case)


@pytest.mark.parametrize("case", _params("grad of grad"))
def test_grad_of_grad(case):
    check_grad_of_grad(case)


@pytest.mark.parametrize("case", _params("structured hessian"))
def test_hessian_of_structured_parameters(case):
    check_structured_hessian(case)


def test_the_corpus_is_broad():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


def test_the_known_list_names_real_cases():
    names = {c.name for c in CASES}
    assert all(check in CHECKS and name in names for check, name in KNOWN)


PRIOR = scipy.stats.norm(0.0, 2.0)


def _neg_log_prior(theta):
    return -np.sum(PRIOR.logpdf(theta))


def test_a_module_prior_rebound_is_read_again():
    """A notebook's new prior (a module-level frozen distribution rebound) is read again
    (it kept its old parameters, even through a new s2sad.grad)."""
    global PRIOR
    theta = np.array([0.4, -0.3])
    saved = PRIOR
    try:
        np.testing.assert_allclose(s2sad.grad(_neg_log_prior)(theta), theta / 4.0)
        PRIOR = scipy.stats.norm(1.0, 0.5)
        np.testing.assert_allclose(s2sad.grad(_neg_log_prior)(theta), (theta - 1.0) / 0.25)
    finally:
        PRIOR = saved


def _owens_t_loss(h):
    return scipy.special.owens_t(h, 0.5)


def _gumbel_loss(x):
    return np.sum(scipy.stats.gumbel_r.logpdf(x, 0.2, 1.3))


@pytest.mark.parametrize("loss, arg, count", [(_owens_t_loss, 0.3, 2),
                                              (_gumbel_loss, np.array([0.3, 1.0]), 3)])
def test_the_printed_registration_takes_every_argument_of_the_call(loss, arg, count):
    """(It took only the first: registered as printed, owens_t(h, a) stayed refused.)"""
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(loss)(arg)
    header = next(line for line in str(info.value).splitlines()
                  if line.strip().startswith("def "))
    parameters = header[header.index("(") + 1:header.index(")")].split(",")
    assert len(parameters) == 2 + count, header  # dy, y, then one per argument


def _t_cdf_in_df(df):
    x = np.array([0.5, 1.2])
    p = scipy.stats.t.cdf(x, df)
    return np.sum(p)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="a refusal decided when the rule runs (t.cdf in df, sqrtm of a matrix "
                          "with a complex root, qr of a wide matrix) points at the def line")
def test_a_refusal_decided_at_run_time_points_at_its_call():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(_t_cdf_in_df)(3.3)
    message = str(info.value)
    line = inspect.getsourcelines(_t_cdf_in_df)[1] + 2
    assert "t.cdf" in message and "df" in message
    assert f":{line}:" in message and "p = scipy.stats.t.cdf(x, df)" in message, message


# -- a verdict per case, for the report ------------------------------------------------------

def verdict(check: Callable, case: Case) -> Tuple[str, str]:
    try:
        check(case)
    except s2sad.S2SADError as exc:
        return "refused", str(exc).strip().splitlines()[0]
    except AssertionError as exc:
        return "wrong", " ".join(str(exc).split())[:300]
    except Exception as exc:  # noqa: BLE001
        return "crash", f"{type(exc).__name__}: {exc}"[:400]
    return "right", ""


SEVERITY = ["right", "refused", "wrong", "crash"]


def main() -> None:
    rows: Dict[str, int] = {}
    counts = {}
    for c in CASES:
        worst = 0
        for name, check in CHECKS.items():
            if name in PARAMETRISED and not PARAMETRISED[name](c):
                continue
            kind, message = verdict(check, c)
            counts[(name, kind)] = counts.get((name, kind), 0) + 1
            worst = max(worst, SEVERITY.index(kind))
            if kind != "right":
                print(f"{name:8} {c.name:40} {kind:8} {message}")
        rows[SEVERITY[worst]] = rows.get(SEVERITY[worst], 0) + 1
    print("programs (the worst verdict of each):", rows)
    for name in CHECKS:
        print(name, {k: n for (check, k), n in counts.items() if check == name})


if __name__ == "__main__":
    main()
