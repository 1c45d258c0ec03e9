"""np.einsum in every form NumPy accepts (issue 17, item 9), in reverse mode, forward mode
and second order, against central differences and autograd (where autograd takes the
form: it has no diagonals, 'ii->i').

The forms: any number of operands; indices repeated in an operand (its diagonal) or
summed over in it alone; implicit output (no '->': the labels used once, in NumPy's
order, 'B' before 'a'); '...' over operands of different ranks, a size-1 axis broadcast
against a longer one; the sublist form, with or without the output list; optimize=;
constant operands, an int operand, one array passed twice. A random generator of
subscripts (seeded) covers the combinations.
"""
from __future__ import annotations

import importlib.util
import tempfile
import warnings
import zlib
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy import einsum

import s2sad
from s2sad.check import numeric_grad

ENV = {"np": np, "W": np.arange(12.0).reshape(3, 4) / 10.0, "K": np.arange(12).reshape(3, 4)}
AUTOGRAD_ENV = {**ENV, "np": anp}
MODULE_HEADER = "import numpy as np\nW = np.arange(12.0).reshape(3, 4) / 10.0\n" \
    "K = np.arange(12).reshape(3, 4)\n\n"
MODULES = Path(tempfile.mkdtemp(prefix="einsum_forms_"))


def _function(text: str, env: dict):
    namespace = dict(env)
    exec(text, namespace)
    return namespace["f"]


def _module_function(text: str, name: str = "f"):
    """A function from a module file of its own: a second derivative reads its source."""
    path = MODULES / f"einsum_{zlib.crc32(text.encode()):08x}.py"
    path.write_text(MODULE_HEADER + text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _text(call: str, n: int) -> str:
    """f of n arrays x0, x1, ...: a nonlinear function of the einsum, so that the
    Hessian is not zero."""
    params = ", ".join(f"x{i}" for i in range(n))
    return f"def f({params}):\n    return np.sum(np.sin({call}))\n"


def _inputs(key: str, shapes) -> list:
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return [float(rng.uniform(-1.0, 1.0)) if s == "float" else
            rng.uniform(-1.0, 1.0, size=s) for s in shapes]


def _autograd(text: str, args: list, wrt: int):
    """autograd's gradient, or None where it does not take the form."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return autograd.grad(_function(text, AUTOGRAD_ENV), wrt)(*args)
    except Exception:  # noqa: BLE001 - autograd lacking the form is not our finding
        return None


def check_reverse(text: str, args: list, autograd_too: bool = True) -> None:
    """The gradient in every argument: shape, type and value (central differences, and
    autograd where it takes the form)."""
    f = _function(text, ENV)
    wrt = tuple(range(len(args)))
    got = s2sad.grad_source(text, "f", wrt=wrt, env=ENV)(*args)
    for index, arg in enumerate(args):
        assert np.shape(got[index]) == np.shape(arg)
        assert isinstance(got[index], float) == isinstance(arg, float)
        assert np.result_type(got[index]) == np.result_type(arg)
        expected = numeric_grad(f, args, index)
        np.testing.assert_allclose(got[index], expected, rtol=1e-6, atol=1e-7)
        oracle = _autograd(text, args, index) if autograd_too else None
        # (autograd keeps a size-1 labelled axis that broadcast, 'ij,kj' of (2, 1) and
        # (4, 3), at size 1 in the other operand's gradient: compared where it is right)
        if oracle is not None and np.shape(oracle) == np.shape(arg) and \
                np.allclose(oracle, expected, rtol=1e-5, atol=1e-6):
            np.testing.assert_allclose(got[index], oracle, rtol=1e-9, atol=1e-11)


def check_forward(text: str, args: list) -> None:
    f = _function(text, ENV)
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    directions = [float(rng.uniform(-1, 1)) if isinstance(a, float) else
                  rng.uniform(-1, 1, size=np.shape(a)) for a in args]
    jvp = s2sad.JVPFunction(None, tuple(range(len(args))), parsed=s2sad.frontend.parse_source(
        text, "f", "<string>", ENV))
    value, derivative = jvp(*args, tuple(directions))
    assert value == pytest.approx(f(*args), rel=1e-12)
    expected = sum(float(np.sum(numeric_grad(f, args, i) * d))
                   for i, d in enumerate(directions))
    np.testing.assert_allclose(derivative, expected, rtol=1e-6, atol=1e-7)


def _hessian_by_differences(text: str, args: list) -> np.ndarray:
    """Central differences of s2sad's (checked) gradient in the first argument."""
    gradient = s2sad.grad_source(text, "f", wrt=0, env=ENV)
    x = np.asarray(args[0], dtype=float)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = 1e-5
        plus = gradient(*[x + step.reshape(x.shape)] + args[1:])
        minus = gradient(*[x - step.reshape(x.shape)] + args[1:])
        columns.append(np.ravel((plus - minus) / 2e-5))
    return np.stack(columns, axis=1)


def check_hessian(text: str, args: list) -> None:
    """The Hessian in the first argument (forward over reverse) against central
    differences of the gradient and autograd's Hessian; and grad of grad through a
    scalar that scales the first operand."""
    hessian = s2sad.hessian(_module_function(text), wrt=0)(*args)
    size = np.size(args[0])
    assert np.shape(hessian) == np.shape(args[0]) * 2
    flat = np.reshape(hessian, (size, size))
    np.testing.assert_allclose(flat, _hessian_by_differences(text, args), rtol=1e-5, atol=1e-6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oracle = autograd.hessian(_function(text, AUTOGRAD_ENV), 0)(*args)
    except Exception:  # noqa: BLE001
        oracle = None
    if oracle is not None:
        np.testing.assert_allclose(flat, np.reshape(oracle, (size, size)), rtol=1e-8,
                                   atol=1e-10)


def check_grad_of_grad(text: str, args: list) -> None:
    """d2/dt2 of f(t * x0, x1, ...): the generated gradient differentiated again in
    reverse mode (the adjoint of the adjoint helper), against central differences of
    the (checked) gradient."""
    params = ", ".join(f"x{i}" for i in range(len(args)))
    scaled_args = ", ".join(["t * x0"] + [f"x{i}" for i in range(1, len(args))])
    scaled = _module_function(text + f"\n\ndef scaled(t, {params}):\n"
                                     f"    return f({scaled_args})\n", "scaled")
    first = s2sad.grad(scaled)
    second = s2sad.grad(first)(0.7, *args)
    step = 1e-5
    expected = (first(0.7 + step, *args) - first(0.7 - step, *args)) / (2 * step)
    assert isinstance(second, float)
    assert second == pytest.approx(expected, rel=1e-5, abs=1e-7)


# -- the forms, spelled as users write them --------------------------------------------
# (id, the einsum call over x0, x1, ..., the shapes of x0, x1, ...)
FORMS = [
    ("matmul", "np.einsum('ij,jk->ik', x0, x1)", [(2, 3), (3, 4)]),
    ("matmul implicit", "np.einsum('ij,jk', x0, x1)", [(2, 3), (3, 4)]),
    ("matmul spaces", "np.einsum('ij, jk -> ik', x0, x1)", [(2, 3), (3, 4)]),
    ("dot", "np.einsum('i,i->', x0, x1)", [(3,), (3,)]),
    ("dot implicit", "np.einsum('i,i', x0, x1)", [(3,), (3,)]),
    ("outer implicit", "np.einsum('i,j', x0, x1)", [(3,), (2,)]),
    ("transpose", "np.einsum('ij->ji', x0)", [(2, 3)]),
    ("transpose implicit", "np.einsum('ji', x0)", [(2, 3)]),
    ("diagonal", "np.einsum('ii->i', x0)", [(3, 3)]),
    ("trace", "np.einsum('ii->', x0)", [(3, 3)]),
    ("trace implicit", "np.einsum('ii', x0)", [(3, 3)]),
    ("diagonal of a 3-d", "np.einsum('iij->j', x0)", [(3, 3, 2)]),
    ("diagonal kept", "np.einsum('iij->ij', x0)", [(2, 2, 3)]),
    ("triple diagonal", "np.einsum('iii->i', x0)", [(2, 2, 2)]),
    ("sum all", "np.einsum('ij->', x0)", [(2, 3)]),
    ("row sums", "np.einsum('ij->i', x0)", [(2, 3)]),
    ("summed alone", "np.einsum('ij,k->ik', x0, x1)", [(2, 3), (4,)]),
    ("diagonal times vector", "np.einsum('ii,i->', x0, x1)", [(3, 3), (3,)]),
    ("vector times diagonal", "np.einsum('i,ii->i', x0, x1)", [(3,), (3, 3)]),
    ("diagonal with a matrix", "np.einsum('ii,ij->j', x0, x1)", [(3, 3), (3, 2)]),
    ("hadamard", "np.einsum('ij,ij->ij', x0, x1)", [(2, 3), (2, 3)]),
    ("three products", "np.einsum('ij,jk,kl->il', x0, x1, x2)", [(2, 3), (3, 4), (4, 2)]),
    ("three outer", "np.einsum('i,j,k->ijk', x0, x1, x2)", [(2,), (3,), (2,)]),
    ("three-way inner", "np.einsum('ij,ij,ij->', x0, x1, x2)", [(2, 3), (2, 3), (2, 3)]),
    ("bilinear form", "np.einsum('i,ij,j', x0, x1, x2)", [(3,), (3, 2), (2,)]),
    ("five operands",
     "np.einsum('ij,jk,kl,lm,mn->in', x0, x1, x2, x3, x4)",
     [(2, 3), (3, 2), (2, 3), (3, 2), (2, 2)]),
    ("batch matmul", "np.einsum('bij,bjk->bik', x0, x1)", [(2, 2, 3), (2, 3, 2)]),
    ("ellipsis ranks differ", "np.einsum('...ij,...jk->...ik', x0, x1)",
     [(2, 2, 3), (3, 2)]),
    ("ellipsis size-1 broadcast", "np.einsum('...ij,...jk->...ik', x0, x1)",
     [(2, 1, 2, 3), (3, 3, 2)]),
    ("ellipsis elementwise", "np.einsum('...i,...i->...', x0, x1)", [(4, 1, 3), (2, 3)]),
    ("ellipsis in the middle", "np.einsum('i...j,k...j->ik...', x0, x1)",
     [(2, 4, 3), (2, 1, 3)]),
    ("ellipsis implicit", "np.einsum('...ij,jk', x0, x1)", [(2, 2, 3), (3, 2)]),
    ("ellipsis broadcast implicit", "np.einsum('...,...', x0, x1)", [(2, 3), (3,)]),
    ("ellipsis moved", "np.einsum('i...j->j...', x0)", [(2, 3, 2)]),
    ("uppercase first", "np.einsum('ab,Bc', x0, x1)", [(2, 3), (2, 2)]),
    ("mixed case", "np.einsum('Ba,aC', x0, x1)", [(2, 3), (3, 2)]),
    ("scalar operand", "np.einsum('ij,->ij', x0, x1)", [(2, 3), "float"]),
    ("sublist", "np.einsum(x0, [0, 1], x1, [1, 2], [0, 2])", [(2, 3), (3, 4)]),
    ("sublist implicit", "np.einsum(x0, [0, 1], x1, [1, 2])", [(2, 3), (3, 4)]),
    ("sublist transpose", "np.einsum(x0, [0, 1], [1, 0])", [(2, 3)]),
    ("sublist diagonal", "np.einsum(x0, [0, 0], [0])", [(3, 3)]),
    ("sublist ellipsis", "np.einsum(x0, [Ellipsis, 0], [0, Ellipsis])", [(2, 3)]),
    ("sublist ellipsis literal", "np.einsum(x0, [..., 1], x1, [1, 2], [..., 2])",
     [(2, 2, 3), (3, 2)]),
    ("sublist three", "np.einsum(x0, [0, 1], x1, [1, 2], x2, [2, 0], [0])",
     [(2, 3), (3, 2), (2, 2)]),
    ("optimize True", "np.einsum('ij,jk,kl->il', x0, x1, x2, optimize=True)",
     [(2, 3), (3, 4), (4, 2)]),
    ("optimize False", "np.einsum('ij,jk->ik', x0, x1, optimize=False)", [(2, 3), (3, 4)]),
    ("optimize greedy", "np.einsum('ij,jk,kl->il', x0, x1, x2, optimize='greedy')",
     [(2, 3), (3, 4), (4, 2)]),
    ("optimize optimal", "np.einsum('i,ij,jk->k', x0, x1, x2, optimize='optimal')",
     [(2,), (2, 3), (3, 2)]),
    ("optimize a path", "np.einsum('ij,jk,kl->il', x0, x1, x2, "
                        "optimize=['einsum_path', (0, 1), (0, 1)])",
     [(2, 3), (3, 4), (4, 2)]),
    ("optimize diagonal", "np.einsum('ii,ij->j', x0, x1, optimize=True)", [(3, 3), (3, 2)]),
    ("constant operand", "np.einsum('ij,jk->ik', x0, W)", [(2, 3)]),
    ("constant in the middle", "np.einsum('ij,jk,k->i', x0, W, x1)", [(2, 3), (4,)]),
    ("int operand", "np.einsum('ij,jk->ik', x0, K)", [(2, 3)]),
    ("ones operand", "np.einsum('i,j,k->ijk', x0, x1, np.ones(2))", [(3,), (2,)]),
    ("same array twice", "np.einsum('i,i->', x0, x0)", [(3,)]),
    ("gram", "np.einsum('ij,kj->ik', x0, x0)", [(2, 3)]),
    ("same array thrice", "np.einsum('ij,jk,kl->il', x0, x0, x0)", [(3, 3)]),
    ("same array, diagonal and not", "np.einsum('ii,ij->j', x0, x0)", [(3, 3)]),
    ("named label broadcast", "np.einsum('ij,kj->ik', x0, x1)", [(2, 1), (4, 3)]),
    ("named label broadcast thrice", "np.einsum('ij,kj,j->', x0, x1, x2)",
     [(2, 1), (4, 1), (3,)]),
    ("size-1 diagonal", "np.einsum('ii,i->i', x0, x1)", [(1, 1), (3,)]),
    ("list operand", "np.einsum('ij,j', [x0, x0 * x1], x1)", [(3,), (3,)]),
    ("list of numbers", "np.einsum('i,i', [x1, 2.0 * x1, 1.0], x0)", [(3,), "float"]),
]

FORM_IDS = [form[0] for form in FORMS]


@pytest.mark.parametrize("id, call, shapes", FORMS, ids=FORM_IDS)
def test_reverse_mode(id, call, shapes):
    check_reverse(_text(call, len(shapes)), _inputs(id, shapes))


@pytest.mark.parametrize("id, call, shapes", FORMS, ids=FORM_IDS)
def test_forward_mode(id, call, shapes):
    check_forward(_text(call, len(shapes)), _inputs(id, shapes))


HESSIAN_FORMS = ["matmul", "matmul implicit", "diagonal", "trace implicit",
                 "diagonal with a matrix", "three products", "five operands",
                 "ellipsis size-1 broadcast", "ellipsis elementwise", "sublist",
                 "sublist diagonal", "optimize greedy", "scalar operand",
                 "constant in the middle", "int operand", "same array twice", "gram",
                 "same array thrice", "same array, diagonal and not", "summed alone",
                 "list operand", "list of numbers"]


@pytest.mark.parametrize("id", HESSIAN_FORMS)
def test_hessian(id):
    _, call, shapes = FORMS[FORM_IDS.index(id)]
    check_hessian(_text(call, len(shapes)), _inputs(id, shapes))


@pytest.mark.parametrize("id", ["matmul", "transpose", "diagonal", "trace implicit",
                                "diagonal with a matrix", "three products",
                                "sublist implicit", "ellipsis size-1 broadcast",
                                "same array twice", "optimize True"])
def test_grad_of_grad(id):
    _, call, shapes = FORMS[FORM_IDS.index(id)]
    check_grad_of_grad(_text(call, len(shapes)), _inputs(id, shapes))


# -- random subscripts ------------------------------------------------------------------

def random_spec(rng: np.random.Generator):
    """(subscripts, operand shapes): 1 to 4 operands of up to 3 labels each, drawn from
    a few letters (so some repeat within an operand: diagonals, and some appear in one
    operand only), '...' in some operands with ranks of their own (size-1 axes among
    them, which broadcast; a labelled axis is of size 1 at times, which broadcasts too),
    and an output that is implicit, or explicit in a random
    order, keeping some labels and summing the others."""
    letters = "abcdAB"
    size = {c: int(rng.integers(2, 4)) for c in letters}
    count = int(rng.integers(1, 5))
    with_ellipsis = rng.random() < 0.35
    ellipsis_shape = tuple(int(rng.integers(2, 4)) for _ in range(int(rng.integers(1, 3))))
    terms, shapes = [], []
    for _ in range(count):
        labels = "".join(rng.choice(list(letters), size=int(rng.integers(0, 4))))
        shape = [1 if rng.random() < 0.1 else size[c] for c in labels]  # (1 broadcasts)
        if with_ellipsis and rng.random() < 0.7:
            rank = int(rng.integers(0, len(ellipsis_shape) + 1))
            own = [1 if rng.random() < 0.3 else n for n in ellipsis_shape[len(ellipsis_shape)
                                                                          - rank:]]
            cut = int(rng.integers(0, len(labels) + 1))
            labels = labels[:cut] + "..." + labels[cut:]
            shape = shape[:cut] + own + shape[cut:]
        terms.append(labels)
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    if rng.random() < 0.3:
        return subscripts, shapes
    used = sorted(set("".join(terms).replace(".", "")))
    kept = [c for c in used if rng.random() < 0.6]
    rng.shuffle(kept)
    out = "".join(kept)
    if any("..." in t for t in terms) and rng.random() < 0.8:
        cut = int(rng.integers(0, len(out) + 1))
        out = out[:cut] + "..." + out[cut:]
    return f"{subscripts}->{out}", shapes


def _random_specs(n: int, seed: int = 17):
    rng = np.random.default_rng(seed)
    specs = []
    while len(specs) < n:
        subscripts, shapes = random_spec(rng)
        if subscripts in [s for s, _ in specs]:
            continue
        try:  # NumPy refuses some (a repeated output label cannot arise; sizes can clash)
            np.einsum(subscripts, *[np.ones(s) for s in shapes])
        except ValueError:
            continue
        specs.append((subscripts, shapes))
    return specs


RANDOM = _random_specs(40)


def _random_call(subscripts: str, n: int) -> str:
    return f"np.einsum({subscripts!r}, {', '.join(f'x{i}' for i in range(n))})"


@pytest.mark.parametrize("subscripts, shapes", RANDOM, ids=[s for s, _ in RANDOM])
def test_random_subscripts_in_both_modes(subscripts, shapes):
    text = _text(_random_call(subscripts, len(shapes)), len(shapes))
    args = _inputs(subscripts, shapes)
    check_reverse(text, args, autograd_too=False)
    check_forward(text, args)


def test_the_random_specs_cover_the_forms():
    """The generator does give what it promises (so the test above covers them)."""
    def has(predicate):
        return sum(1 for s, _ in RANDOM if predicate(s))
    assert len({s for s, _ in RANDOM} | {call for _, call, _ in FORMS}) >= 90
    assert has(lambda s: "->" not in s) >= 5
    assert has(lambda s: "..." in s) >= 5
    assert has(lambda s: any(len(set(t)) < len(t) for t in
                             s.split("->")[0].replace("...", "").split(","))) >= 5
    assert has(lambda s: s.split("->")[0].count(",") >= 2) >= 5
    assert has(lambda s: s.split("->")[0].count(",") == 0) >= 3
    broadcast = sum(1 for _, shapes in RANDOM if any(1 in s for s in shapes))
    assert broadcast >= 3


# (the Hessian in the first operand, where it is an array of at most 16 numbers)
RANDOM_HESSIAN = [(s, shapes) for s, shapes in RANDOM if 0 < np.prod(shapes[0]) <= 16
                  and shapes[0]][:10]


@pytest.mark.parametrize("subscripts, shapes", RANDOM_HESSIAN,
                         ids=[s for s, _ in RANDOM_HESSIAN])
def test_random_subscripts_hessian(subscripts, shapes):
    text = _text(_random_call(subscripts, len(shapes)), len(shapes))
    check_hessian(text, _inputs(subscripts, shapes))


# -- spellings: how the call is reached and how its arguments arrive -------------------

SPEC = 'ij,jk->ik'


def imported_name(A, B):
    return np.sum(np.sin(einsum('ij,jk->ik', A, B)))


def subscripts_in_a_local(A, B):
    spec = 'ij,jk->ik'
    return np.sum(np.sin(np.einsum(spec, A, B)))


def subscripts_in_a_global(A, B):
    return np.sum(np.sin(np.einsum(SPEC, A, B)))


def optimize_from_an_argument(A, B, opt=True):
    return np.sum(np.sin(np.einsum('ij,jk->ik', A, B, optimize=opt)))


def _product(a, b):
    return np.einsum('ij,jk->ik', a, b)


def in_a_helper(A, B):
    return np.sum(np.sin(_product(A, B)))


def operands_from_a_list(A, B):
    ops = [A, B]
    return np.sum(np.sin(np.einsum('ij,jk->ik', *ops)))


def used_twice_and_accumulated(A, B):
    C = np.einsum('ij,jk', A, B)
    C = C + np.einsum('ij,jk', A, B).T.T * 2.0
    return np.sum(np.sin(C))


@pytest.mark.parametrize("f", [imported_name, subscripts_in_a_local, subscripts_in_a_global,
                               optimize_from_an_argument, in_a_helper, operands_from_a_list,
                               used_twice_and_accumulated])
def test_spellings(f):
    A = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])
    B = np.array([[0.2, -0.7], [0.5, 0.6], [-0.3, 0.1]])
    expected = [numeric_grad(f, [A, B], i) for i in (0, 1)]
    got = s2sad.grad(f, wrt=(0, 1))(A, B)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8)
    directions = (np.ones_like(A), np.cos(np.arange(6.0)).reshape(3, 2))
    _, tangent = s2sad.jvp(f, wrt=(0, 1))(A, B, directions)
    assert tangent == pytest.approx(sum(np.sum(e * d) for e, d in zip(expected, directions)))


# -- the user's arguments, types and the generated code -------------------------------------

def matmul_loss(A, B):
    return np.sum(np.einsum('ij,jk->ik', A, B) ** 2)


def test_the_generated_code_reads_as_the_adjoint_of_each_operand():
    source = s2sad.grad(matmul_loss, wrt=(0, 1)).source
    assert "    dA = einsum_adjoint(da, ('ij,jk->ik', A, B), wrt=1)\n" in source
    assert "    dB = einsum_adjoint(da, ('ij,jk->ik', A, B), wrt=2)\n" in source
    assert "require_shapes" not in source
    forward = s2sad.jvp(matmul_loss, wrt=(0, 1)).source
    assert "np.einsum('ij,jk->ik', A_dot, B) + np.einsum('ij,jk->ik', A, B_dot)" in forward


def test_only_the_differentiated_operands_get_an_adjoint():
    """A constant operand gets no line (no work) in the adjoint sweep."""
    source = s2sad.grad(matmul_loss, wrt=0).source
    assert source.count("einsum_adjoint(") == 1


def optimized_three(A, B, C):
    return np.sum(np.sin(np.einsum('ij,jk,kl->il', A, B, C, optimize='greedy')))


def test_optimize_is_passed_on_to_the_adjoint():
    source = s2sad.grad(optimized_three, wrt=1).source
    assert "dB = einsum_adjoint(da, ('ij,jk,kl->il', A, B, C), wrt=2, optimize='greedy')" \
        in source


def test_the_callers_arrays_are_not_changed_and_the_one_operand_adjoint_is_fresh():
    """'ij->ji' of one operand: einsum of dy alone is a view of it; the adjoint must be
    an array of its own (generated code may accumulate into it in place)."""
    def f(x):
        t = np.einsum('ij->ji', x)
        return np.sum(t * t) + np.sum(np.einsum('ij->ij', x) * 3.0)

    x = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])
    kept = x.copy()
    got = s2sad.grad(f)(x)
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_allclose(got, 2 * x + 3.0)


def test_float32_operands_keep_their_type():
    def f(x):
        return np.sum(np.sin(np.einsum('ij,jk->ik', x, np.ones((3, 2), np.float32))))

    x = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]], dtype=np.float32)
    assert s2sad.grad(f)(x).dtype == np.float32


def einsum_in_a_loop(X, w):
    total = 0.0
    for i in range(2):
        total = total + np.einsum('j,j->', X[i], w) ** 2
    return total


def test_einsum_of_rows_in_a_loop():
    X = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])
    w = np.array([0.2, -0.7, 0.5])
    for wrt in (0, 1):
        got = s2sad.grad(einsum_in_a_loop, wrt=wrt)(X, w)
        np.testing.assert_allclose(got, numeric_grad(einsum_in_a_loop, [X, w], wrt),
                                   rtol=1e-6, atol=1e-8)
    _, tangent = s2sad.jvp(einsum_in_a_loop, wrt=1)(X, w, np.ones(3))
    assert tangent == pytest.approx(np.sum(numeric_grad(einsum_in_a_loop, [X, w], 1)))


def einsum_with_dtype(A, B):
    return np.sum(np.einsum('ij,jk->ik', A, B, dtype=np.float32))


def test_a_keyword_the_rule_does_not_know_is_refused_at_the_call():
    """dtype= (and out=, order=, casting=) change what einsum computes or where it
    writes: refused, pointing at the call, saying what the rule takes."""
    A, B = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(s2sad.NoDerivativeRuleError) as info:
        s2sad.grad(einsum_with_dtype)(A, B)
    error = info.value
    assert "np.einsum does not accept this call" in error.message
    assert "dtype" in error.message
    assert error.hint == "the rule handles np.einsum(*operands, optimize); pass only " \
        "those arguments"
    assert error.location.line == einsum_with_dtype.__code__.co_firstlineno + 1
    lines = str(error).splitlines()
    assert lines[1].strip() == "return np.sum(np.einsum('ij,jk->ik', A, B, dtype=np.float32))"
    assert lines[2].index("^") == lines[1].index("np.einsum")
    assert lines[2].strip() == "^" * len("np.einsum('ij,jk->ik', A, B, dtype=np.float32)")


def test_the_helper_as_a_plain_function_gives_every_adjoint():
    """The rule's template runs as a function: without a position, the helper gives the
    adjoints of all the arguments (zero for the subscripts)."""
    from s2sad.runtime import einsum_adjoint
    A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    dy = np.ones((2, 4))
    pieces = einsum_adjoint(dy, ('ij,jk->ik', A, B))
    assert pieces[0] == 0.0
    np.testing.assert_allclose(pieces[1], dy @ B.T)
    np.testing.assert_allclose(pieces[2], A.T @ dy)


def with_int_argument(x, N):
    return np.sum(np.sin(np.einsum('ij,jk->ik', x, N)))


def test_an_int_array_argument_is_an_operand_without_an_adjoint():
    x = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])
    N = np.arange(6).reshape(3, 2)
    expected = numeric_grad(with_int_argument, [x, N], 0)
    got = s2sad.grad(with_int_argument)(x, N)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    _, tangent = s2sad.jvp(with_int_argument)(x, N, np.ones_like(x))
    assert tangent == pytest.approx(np.sum(expected))
    hessian = s2sad.hessian(with_int_argument)(x, N)
    oracle = autograd.hessian(lambda x: anp.sum(anp.sin(anp.einsum('ij,jk->ik', x, N))))(x)
    np.testing.assert_allclose(hessian, oracle, rtol=1e-9, atol=1e-12)


def chain_with_diagonal(A, B):
    return np.einsum('ij,jk,kk->ik', A, B, B)


def test_vjp_and_jacobians_of_an_array_valued_einsum():
    """The pullback of an array output, and the Jacobian by forward and reverse mode."""
    A = np.array([[0.3, 0.5, 0.9], [0.8, 0.1, 0.4]])
    B = np.array([[0.2, -0.7, 0.1], [0.5, 0.6, -0.4], [-0.3, 0.1, 0.8]])
    dy = np.cos(np.arange(6.0)).reshape(2, 3)
    value, pullback = s2sad.vjp(chain_with_diagonal, wrt=(0, 1))(A, B)
    np.testing.assert_array_equal(value, chain_with_diagonal(A, B))
    dA, dB = pullback(dy)
    for got, index in ((dA, 0), (dB, 1)):
        expected = numeric_grad(lambda a, b: np.sum(dy * chain_with_diagonal(a, b)), [A, B],
                                index)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    forward = s2sad.jacobian(chain_with_diagonal, wrt=1, mode="forward")(A, B)
    reverse = s2sad.jacobian(chain_with_diagonal, wrt=1, mode="reverse")(A, B)
    assert forward.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.einsum('ij,ijkl->kl', dy, reverse), dB, rtol=1e-12)
