"""s2sad's rules against an independent oracle, on drawn shapes, and in float32.

1. Every case of the rule table (tests/test_rules.py's TABLE, which gathers every
   tests/rule_table_*.py) is compiled by s2sad and by autograd from the same source
   text, `np` bound to autograd.numpy for autograd: the gradients must have the same
   values (rtol 1e-9), shape and dtype. Where autograd cannot differentiate a case
   (no VJP, an argument form its VJP does not take, the math module) the test is
   skipped, the condition recognised by autograd's own error (AUTOGRAD_CANNOT);
   where autograd is wrong (checked against central differences by
   test_autograd_is_wrong_where_excluded) the case is left out (AUTOGRAD_WRONG).
2. Hypothesis properties with drawn shapes: binary elementwise functions on mutually
   broadcastable shapes (size-1 axes and 0-d included), unary ones on any shape,
   reductions with a drawn `axis` and `keepdims`; each against central differences
   and autograd, with exact gradient shapes and types.
3. float32: for every non-math table case (and FLOAT32_EXTRA) with an array argument
   (a Python float has no dtype: scalar arguments stay floats and are not checked),
   the gradient s2sad returns is float32 and close to the float64 gradient; and the
   adjoint the generated code computes is float32 already. The API casts every
   gradient to its input's dtype, so only the generated code's own output shows a rule
   computing in float64: it is run with a float32 seed, so each rule is seen on its
   own (the expression's float64 constants rewritten to float32 ones), and, for a few
   functions, with its default seed df=1.0. Rules that promote are listed in
   FLOAT32_PROMOTES and DEFAULT_SEED_PROMOTES, as strict xfails: fix the rule, delete
   its entries.

Random table inputs are seeded from the case's text (zlib.crc32), so every run draws
the same values.
"""
import functools
import inspect
import math
import re
import zlib

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import s2sad
from s2sad.check import numeric_grad

from rule_cases import ANY, POSITIVE, UNIT, ABOVE_ONE, Case, binary, unary
from test_rules import TABLE

# -- known s2sad bugs: float32 adjoints computed in float64 ------------------------------
#
# Keys are a table expression (every shape and argument of that entry) or one test id
# "<expression> <shapes> d<arg>". The value names the rule and where float64 comes
# from; the xfail reason is "float32 -> float64 in <value>".
_COUNT = "(dy / count: the tie count np.sum(a == y) is int64)"
_EYE = "(np.eye(...) is float64)"
_RESULT_TYPE = "(runtime buffer np.zeros(..., dtype=np.result_type(dy, float)))"
FLOAT32_PROMOTES = {
    # a Python-float operand becomes a float64 0-d array: np.where(b, b - 1, 1.0) in
    # da = dy * b * a ** np.where(b, b - 1, 1.0), np.log(np.where(a, a, 1.0)) in db
    "a ** b ((2, 3), ()) da": "operator.pow (np.where(b, b - 1, 1.0) of a float exponent)",
    "a ** b ((), (2, 3)) db": "operator.pow (np.log(np.where(a, a, 1.0)) of a float base)",
    "np.power(a, b) ((2, 3), ()) da": "np.power (np.where(b, b - 1, 1.0) of a float exponent)",
    "np.power(a, b) ((), (2, 3)) db": "np.power (np.log(np.where(a, a, 1.0)) of a float base)",
}

# With the default seed df=1.0, the adjoint of np.sum starts with unsum(1.0, x), and
# unsum's np.asarray(dy) makes the Python float a float64 array: every gradient of a
# function returning np.sum(...) is computed in float64 (and cast back by the API).
DEFAULT_SEED_PROMOTES = {
}

# -- where autograd is wrong: these table cases are not compared -------------------------
#
# id -> (why, the exception autograd raises, or None where it returns a wrong gradient).
# test_autograd_is_wrong_where_excluded checks each: s2sad agrees with central
# differences, and autograd raises that exception or disagrees with them. Paths are in
# autograd/numpy/ (autograd 1.9.1).
NO_UNBROADCAST = ("autograd's where/clip VJP does not unbroadcast", None)
AUTOGRAD_WRONG = {
    # numpy_vjps.py: the VJPs of np.where (anp.where(c, g, anp.zeros(g.shape))) and
    # np.clip (g * logical_and(ans != a_min, ans != a_max)) do not unbroadcast: an operand
    # passed straight to where or clip and smaller than the output gets the output's shape
    "np.where(a > b, a, b) ((2, 3), (3,)) db": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((3, 1), (1, 4)) da": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((3, 1), (1, 4)) db": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((2, 3), ()) db": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((), (2, 3)) da": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((1, 3), (2, 1)) da": NO_UNBROADCAST,
    "np.where(a > b, a, b) ((1, 3), (2, 1)) db": NO_UNBROADCAST,
    "np.where(a > 0, a * b, -b) ((2, 3), (3,)) db": NO_UNBROADCAST,
    "np.where(a > 0, a * b, -b) ((3, 1), (1, 4)) db": NO_UNBROADCAST,
    "np.where(a > 0, a * b, -b) ((2, 3), ()) db": NO_UNBROADCAST,
    "np.where(a > 0, a * b, -b) ((1, 3), (2, 1)) db": NO_UNBROADCAST,
    "np.where(b > 0.5, 2.0, a) ((3, 1), (1, 4)) da": NO_UNBROADCAST,
    "np.where(b > 0.5, 2.0, a) ((), (2, 3)) da": NO_UNBROADCAST,
    "np.where(b > 0.5, 2.0, a) ((1, 3), (2, 1)) da": NO_UNBROADCAST,
    "np.clip(a, b, 1.5) ((3, 1), (1, 4)) da": NO_UNBROADCAST,
    "np.clip(a, b, 1.5) ((), (2, 3)) da": NO_UNBROADCAST,
    "np.clip(a, b, 1.5) ((1, 3), (2, 1)) da": NO_UNBROADCAST,
    "np.clip(b, -1.5, a) ((2, 3), (3,)) db": NO_UNBROADCAST,
    "np.clip(b, -1.5, a) ((3, 1), (1, 4)) db": NO_UNBROADCAST,
    "np.clip(b, -1.5, a) ((2, 3), ()) db": NO_UNBROADCAST,
    "np.clip(b, -1.5, a) ((1, 3), (2, 1)) db": NO_UNBROADCAST,
    # np.cross's VJP does not unbroadcast either: db of shape (2, 3) for b of shape (3,)
    "np.cross(a, b) * np.arange(3.0) ((2, 3), (3,)) db":
        ("autograd's cross VJP does not unbroadcast", None),
    # linalg.py norm_vjp expands g along `axis` even with keepdims=True
    "np.linalg.norm(a, axis=-1, keepdims=True) ((2, 3),) da":
        ("autograd's norm VJP ignores keepdims (gradient of shape (2, 2, 3))", None),
    "np.linalg.norm(a, axis=-1, keepdims=True) ((2, 3, 4),) da":
        ("autograd's norm VJP ignores keepdims", ValueError),
    # linalg.py norm_vjp for ord=inf: x ** (ord - 1) with ord - 1 = inf, nan where |x| < 1
    "np.linalg.norm(a, np.inf) ((3,),) da":
        ("autograd's inf-norm VJP computes |x| ** inf (nan)", None),
    # numpy_vjps.py: np.outer's VJP is dot(g, b.T), with no ravel of 2-d operands
    "np.outer(a, b) @ np.arange(4.0) ((2, 3), (2, 2)) da":
        ("autograd's outer VJP does not flatten 2-d operands", ValueError),
    "np.outer(a, b) @ np.arange(4.0) ((2, 3), (2, 2)) db":
        ("autograd's outer VJP does not flatten 2-d operands", ValueError),
    # linalg.py grad_cholesky spreads the gradient over both triangles (symmetric), where
    # np.linalg.cholesky reads only the lower one
    "np.linalg.cholesky((a + 3 * np.eye(3))) ((3, 3),) da":
        ("autograd's cholesky VJP is the symmetric one, not the lower triangle's", None),
    # linalg.py grad_solve: updim adds an axis to ans, not b's batch axes: dA of shape (1, 1)
    "np.linalg.solve((a + 3 * np.eye(3)), b) ((3, 3), (2, 3, 1)) da":
        ("autograd's solve VJP does not sum over b's batch axes", None),
    # numpy_vjps.py grad_transpose: argsort of axes with negative entries is not the
    # inverse permutation
    "np.transpose(a, (-1, 0)) * np.array([[1.0, 2.0], [3.0, 4.0]]) ((2, 2),) da":
        ("autograd's transpose VJP mishandles negative axes", None),
    "np.transpose(a, (1, -1, 0)) * np.arange(24.0).reshape(3, 4, 2) ((2, 3, 4),) da":
        ("autograd's transpose VJP mishandles negative axes", None),
    # issue 18's rows (tests/rule_table_shapes.py). numpy_vjps.py grad_repeat: one int of
    # repeats only (an array of repeats, or a number repeated, raise)
    **{f"np.repeat(a, {repeats}) * np.arange({n}.0) ({shape},) da":
       ("autograd's repeat VJP takes one int of repeats", TypeError) for repeats, n, shape in [
           ("[0, 2, 1]", 3, "(3,)"), ("[1, 0, 0, 2, 1, 3]", 7, "(2, 3)"),
           ("[2, 0], axis=0", 3, "(2, 3)"),
           ("np.array([1, 0, 3], dtype=int), axis=-1", 4, "(2, 3)"),
           ("repeats=[3], axis=1", 9, "(2, 3)"), ("3", 3, "()")]},
    # its cross VJP neither unbroadcasts nor takes 2-vectors
    **{f"np.cross(a, b{keywords}) * np.arange({n}.0) ({shapes}) d{x}":
       ("autograd's cross VJP does not unbroadcast, nor take 2-vectors", None)
       for keywords, n, shapes, x in [
           (", axis=0", 4, "(3, 1), (3, 4)", "a"), (", axis=0", 4, "(3, 4), (3,)", "b"),
           (", axisb=-2, axisc=-1", 3, "(3,), (3, 2)", "a"), ("", 3, "(2,), (3,)", "a"),
           ("", 3, "(4, 3), (2,)", "b")]},
    **{f"np.cross(a, b{keywords}) * np.arange(4.0) ({shapes}) d{x}":
       ("autograd's cross VJP takes no two 2-vectors", ValueError)
       for keywords, shapes in [("", "(4, 2), (4, 2)"), (", axis=0", "(2, 4), (2, 4)")]
       for x in "ab"},
    # np.gradient of a 2-d array returns a tuple, which autograd's boxes do not index
    "np.gradient(a)[1] * np.arange(4.0) ((3, 4),) da":
        ("autograd cannot index np.gradient's tuple of arrays", ValueError),
    # numpy_vjps.py grad_tile splits axes 0, 1, ... in reps order; reps shorter than
    # ndim apply to the last axes
    "np.tile(a, 2) * np.arange(6.0) ((2, 3),) da":
        ("autograd's tile VJP splits the wrong axis when len(reps) < ndim", None),
    # numpy_vjps.py grad_repeat slices shape[0:axis + 1]: wrong for axis=-1
    "np.repeat(a, repeats=2, axis=-1) * np.arange(6.0) ((2, 3),) da":
        ("autograd's repeat VJP mishandles a negative axis", None),
    # numpy_vjps.py: the roll VJP is roll(g, -shift): a tuple shift cannot be negated
    "np.roll(a, (1, 2), axis=(0, 1)) * np.arange(3.0) ((2, 3),) da":
        ("autograd's roll VJP negates the shift: no tuple shifts", TypeError),
    # numpy_vjps.py: the concatenate VJP indexes the shapes with axis, also axis=None
    "np.concatenate([a, b], axis=None) * np.arange(9.0) ((2, 3), (3,)) da":
        ("autograd's concatenate VJP does not take axis=None", TypeError),
    "np.concatenate([a, b], axis=None) * np.arange(9.0) ((2, 3), (3,)) db":
        ("autograd's concatenate VJP does not take axis=None", TypeError),
    # numpy_wrapper.py: hsplit of a 1-d array splits axis 1
    "np.hsplit(a, 2)[0] * np.arange(3.0) ((6,),) da":
        ("autograd's hsplit splits axis 1 of a 1-d array", np.exceptions.AxisError),
    # ArrayBox.astype(int) keeps the gradient: autograd counts a twice here
    "a.astype(int) * 1.0 + a ((3,),) da":
        ("autograd differentiates through astype(int)", None),
    # np.full's VJP sums to a scalar fill value (gradient of shape ())
    "np.full((2, 3), a) * np.arange(3.0) ((3,),) da":
        ("autograd's full VJP assumes a scalar fill value", None),
    "np.full((2, 3), a) * np.arange(3.0) ((1, 3),) da":
        ("autograd's full VJP assumes a scalar fill value", None),
    # np.full_like: autograd gives the fill value no gradient (zeros)
    "np.full_like(np.ones((2, 3)), a) * np.arange(3.0) ((),) da":
        ("autograd does not differentiate full_like's fill value", None),
    "np.full_like(np.ones((2, 3)), a) * np.arange(3.0) ((3,),) da":
        ("autograd does not differentiate full_like's fill value", None),
    # np.diag of a (2, 3) matrix: autograd's VJP returns a (2, 2) gradient
    "np.diag(a) * np.arange(2.0) ((2, 3),) da":
        ("autograd's diag VJP assumes a square matrix", None),
    # numpy_vjps.py grad_gradient: the edge terms need at least 4 elements
    "np.gradient(a) * np.arange(3.0) ((3,),) da":
        ("autograd's gradient VJP needs 4 elements or more", ValueError),
}

# -- what autograd cannot do: recognised by its own error messages ----------------------
#
# autograd says so with a NotImplementedError from its own code ("VJP of fmod wrt
# argnums (0,) not defined", "Gradient of sort not implemented for multi-dimensional
# arrays", "Currently make_diagonal only supports offset=0, ..."); otherwise:
# (exception type, message pattern, raised in autograd's code, why)
AUTOGRAD_CANNOT = [
    (TypeError, r"^(<lambda>|\w+_vjp|grad_\w+)\(\) (got an unexpected keyword argument|"
                r"takes from \d+ to \d+ positional arguments|missing \d+ required positional)",
     True, "autograd's VJP does not take this argument form"),
    (AssertionError, r"^Can't handle extra leading dims$", True,
     "autograd's broadcast_to VJP cannot add leading axes"),
    # float(box), and np.float64(box) (NumPy's own type in autograd.numpy), whose
    # ValueError is raised from this TypeError
    (TypeError, r"^float\(\) argument must be .*, not 'ArrayBox'$", False,
     "a float of an autograd ArrayBox"),
    (AttributeError, r"^'ArrayBox' object has no attribute '\w+'$", False,
     "autograd's ArrayBox lacks this ndarray method"),
    (TypeError, r"of type (ArrayBox|float) which has no callable \w+ method$", False,
     "a call autograd does not trace (an ndarray method, a list holding an ArrayBox) "
     "made an object array"),
    (TypeError, r"^(unsupported operand type\(s\) for divmod\(\)|operand type\(s\) all "
                r"returned NotImplemented from __array_ufunc__\(<ufunc 'divmod'>)", False,
     "autograd's ArrayBox has no divmod"),
]
_AUTOGRAD_DIR = autograd.__file__.rsplit("/", 1)[0]


def _raised_in_autograd(exc):
    frames = inspect.getinnerframes(exc.__traceback__, context=0)
    return frames[-1].filename.startswith(_AUTOGRAD_DIR)


def _autograd_cannot(exc):
    """Why autograd cannot differentiate this, from the exception it raised (or None)."""
    if isinstance(exc, NotImplementedError) and _raised_in_autograd(exc):
        return "autograd has no VJP for this case"
    for kind, pattern, in_autograd, why in AUTOGRAD_CANNOT:
        for error in (exc, exc.__cause__):
            if isinstance(error, kind) and re.search(pattern, str(error)) and \
                    (not in_autograd or _raised_in_autograd(error)):
                return why
    return None


try:  # (scipy.special's table rows, where SciPy is installed)
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats
    SCIPY = {"special": scipy.special, "stats": scipy.stats, "signal": scipy.signal,
             "scipy": scipy}
except ImportError:
    SCIPY = {}
ENV = {"np": np, "math": math, **SCIPY}
AUTOGRAD_ENV = {"np": anp, "math": math}
NAMES = ("a", "b")

# at most 30 examples per property (fewer with --short or S2SAD_PROPERTY_EXAMPLES)
EXAMPLES = min(30, settings().max_examples)


# -- helpers ---------------------------------------------------------------------------

def _text(body, n):
    return f"def f({', '.join(NAMES[:n])}):\n    return {body}\n"


@functools.lru_cache(maxsize=None)
def _functions(text):
    """The primal with NumPy, the primal with autograd.numpy, and s2sad's gradient."""
    n = len(inspect.signature(_exec(text, ENV)).parameters)
    gradient = s2sad.grad_source(text, "f", wrt=tuple(range(n)), env=ENV)
    return _exec(text, ENV), _exec(text, AUTOGRAD_ENV), gradient


def _exec(text, env):
    namespace = dict(env)
    exec(text, namespace)
    return namespace["f"]


def _autograd_grad(f, index, args):
    """autograd's gradient; a pytest.skip only where autograd's error says it cannot."""
    try:
        return autograd.grad(f, index)(*args)
    except (NotImplementedError, TypeError, AssertionError, ValueError,
            AttributeError) as exc:
        why = _autograd_cannot(exc)
        if why is None:
            raise
        pytest.skip(f"autograd cannot: {why} ({type(exc).__name__}: {exc})")


def _sample(rng, domain, shape):
    value = rng.uniform(*domain, size=shape)
    return float(value) if shape == () else value


def _table_params():
    """(case, shapes, index, id) for each table case, shape tuple and argument."""
    for case in TABLE:
        for shapes in case.shapes:
            shapes = tuple(shapes) if len(case.domains) > 1 else (shapes,)
            for index in range(len(case.domains)):
                yield case, shapes, index, f"{case.expression} {shapes} d{NAMES[index]}"


def _table_args(case, shapes):
    seed = zlib.crc32(f"{case.expression} {shapes}".encode())
    rng = np.random.default_rng(seed)
    return [_sample(rng, d, s) for d, s in zip(case.domains, shapes)]


def _table_text(case):
    return _text(case.wrap.format(case.expression), len(case.domains))


def _assert_same_gradient(got, expected, what):
    assert np.shape(got) == np.shape(expected), (what, np.shape(got), np.shape(expected))
    assert np.asarray(got).dtype == np.asarray(expected).dtype, \
        (what, np.asarray(got).dtype, np.asarray(expected).dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=what)


# -- 1. the rule table against autograd ------------------------------------------------

def _autograd_params():
    for case, shapes, index, id_ in _table_params():
        if id_ in AUTOGRAD_WRONG or any(f"{module}." in case.expression for module in SCIPY):
            continue  # (SciPy's rows: tests/test_scipy_*.py compare with autograd.scipy)
        yield pytest.param(case, shapes, index, id=id_)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("case, shapes, index", list(_autograd_params()))
def test_table_case_agrees_with_autograd(case, shapes, index):
    text = _table_text(case)
    args = _table_args(case, shapes)
    # s2sad first: a crash of s2sad is a failure, whatever autograd does
    got = s2sad.grad_source(text, "f", wrt=index, env=ENV)(*args)
    if "math." in text:
        pytest.skip("autograd cannot: it does not differentiate the math module "
                    "(math functions of an ArrayBox raise)")
    expected = _autograd_grad(_exec(text, AUTOGRAD_ENV), index, args)
    _assert_same_gradient(got, expected, f"d{NAMES[index]} of {case.expression} at "
                                         f"shapes {shapes}")


def _excluded_params():
    for case, shapes, index, id_ in _table_params():
        if id_ in AUTOGRAD_WRONG:
            yield pytest.param(case, shapes, index, AUTOGRAD_WRONG[id_], id=id_)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("case, shapes, index, why", list(_excluded_params()))
def test_autograd_is_wrong_where_excluded(case, shapes, index, why):
    """An excluded case stays excluded only while autograd is the one that is wrong."""
    reason, raises = why
    text = _table_text(case)
    args = _table_args(case, shapes)
    expected = numeric_grad(_exec(text, ENV), args, index)
    got = s2sad.grad_source(text, "f", wrt=index, env=ENV)(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    theirs = autograd.grad(_exec(text, AUTOGRAD_ENV), index)
    if raises is not None:
        with pytest.raises(raises):
            theirs(*args)
        return
    theirs = theirs(*args)
    assert np.shape(theirs) != np.shape(expected) or \
        not np.allclose(theirs, expected, rtol=1e-6, atol=1e-8), \
        f"autograd now agrees with central differences: drop the exclusion ({reason})"


def test_exclusion_and_xfail_lists_name_existing_cases():
    """An entry for an expression the table has must name one of its cases (entries for
    expressions not in the table are tolerated: the table modules change concurrently)."""
    ids = {id_ for _, _, _, id_ in _table_params()}
    expressions = {case.expression for case in TABLE}
    assert sorted(k for k in AUTOGRAD_WRONG
                  if k not in ids and any(k.startswith(e + " (") for e in expressions)) == []
    float32_ids = {p.id for p in _float32_params(raw=False)}
    expressions |= {case.expression for case in FLOAT32_EXTRA}
    assert sorted(k for k in FLOAT32_PROMOTES
                  if k not in float32_ids and k not in expressions) == []


# -- 2. properties on drawn shapes -----------------------------------------------------

def _uniform(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _grid(offset):
    """Values -0.8 + 0.1 k + offset: two grids with different offsets never tie."""
    return st.integers(0, 15).map(lambda k: -0.8 + 0.1 * k + offset)


NONZERO = st.one_of(_uniform(-2.0, -0.3), _uniform(0.3, 2.0))


@st.composite
def _argument(draw, shape, elements):
    """An array of `shape`; for shape () a Python float or (sometimes) a 0-d array."""
    if shape == ():
        value = draw(elements)
        return np.array(value) if draw(st.booleans()) else value
    return draw(hnp.arrays(np.float64, shape, elements=elements))


def _check_against_oracles(body, args, with_autograd=True):
    text = _text(f"np.sum(np.sin({body}))", len(args))
    primal, primal_autograd, gradient = _functions(text)
    got = gradient(*args)
    for index, (arg, g) in enumerate(zip(args, got)):
        what = f"d{NAMES[index]} of {body} at shapes {[np.shape(a) for a in args]}"
        assert type(g) is type(arg), (what, type(g), type(arg))
        assert np.shape(g) == np.shape(arg), (what, np.shape(g), np.shape(arg))
        assert np.asarray(g).dtype == np.float64, what
        np.testing.assert_allclose(g, numeric_grad(primal, args, index), rtol=1e-6,
                                   atol=1e-7, err_msg=what + " (central differences)")
        if with_autograd:
            expected = autograd.grad(primal_autograd, index)(*args)
            _assert_same_gradient(g, expected, what + " (autograd)")


# (expression, elements of a, elements of b, autograd has a VJP)
BINARY = [
    ("a + b", _uniform(*ANY), _uniform(*ANY), True),
    ("a - b", _uniform(*ANY), _uniform(*ANY), True),
    ("a * b", _uniform(*ANY), _uniform(*ANY), True),
    ("a / b", _uniform(*ANY), _uniform(*POSITIVE), True),
    ("a ** b", _uniform(*POSITIVE), _uniform(*ANY), True),
    # a / b in (1.1, 1.75): floor 1, away from the jumps of % at integer quotients
    ("a % b", _uniform(1.1, 1.4), _uniform(0.8, 1.0), True),
    ("np.add(a, b)", _uniform(*ANY), _uniform(*ANY), True),
    ("np.subtract(a, b)", _uniform(*ANY), _uniform(*ANY), True),
    ("np.multiply(a, b)", _uniform(*ANY), _uniform(*ANY), True),
    ("np.divide(a, b)", _uniform(*ANY), _uniform(*POSITIVE), True),
    ("np.true_divide(a, b)", _uniform(*ANY), _uniform(*POSITIVE), True),
    ("np.power(a, b)", _uniform(*POSITIVE), _uniform(*ANY), True),
    ("np.mod(a, b)", _uniform(1.1, 1.4), _uniform(0.8, 1.0), True),
    ("np.remainder(a, b)", _uniform(1.1, 1.4), _uniform(0.8, 1.0), True),
    # a / b in (-1.75, -1.1): truncates to -1. autograd has no VJP for fmod
    ("np.fmod(a, b)", _uniform(-1.4, -1.1), _uniform(0.8, 1.0), False),
    ("np.maximum(a, b)", _grid(0.03), _grid(0.07), True),
    ("np.minimum(a, b)", _grid(0.03), _grid(0.07), True),
    ("np.fmax(a, b)", _grid(0.03), _grid(0.07), True),
    ("np.fmin(a, b)", _grid(0.03), _grid(0.07), True),
    ("np.arctan2(a, b)", _uniform(*ANY), _uniform(*POSITIVE), True),
    ("np.hypot(a, b)", _uniform(*POSITIVE), _uniform(*POSITIVE), True),
    ("np.logaddexp(a, b)", _uniform(*ANY), _uniform(*ANY), True),
]


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("body, elements_a, elements_b, with_autograd", BINARY,
                         ids=[entry[0] for entry in BINARY])
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_binary_elementwise_on_broadcast_shapes(body, elements_a, elements_b,
                                                with_autograd, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                         max_side=4)).input_shapes
    args = [data.draw(_argument(shapes[0], elements_a)),
            data.draw(_argument(shapes[1], elements_b))]
    _check_against_oracles(body, args, with_autograd)


# (expression, elements, autograd has a VJP)
UNARY = [
    ("-a", _uniform(*ANY), True),
    ("np.negative(a)", _uniform(*ANY), True),
    ("np.positive(a)", _uniform(*ANY), False),  # autograd: no VJP
    ("a ** 3", _uniform(*ANY), True),
    ("abs(a)", NONZERO, True),
    ("np.abs(a)", NONZERO, True),
    ("np.absolute(a)", NONZERO, True),
    ("np.sin(a)", _uniform(*ANY), True),
    ("np.cos(a)", _uniform(*ANY), True),
    ("np.tan(a)", _uniform(*UNIT), True),
    ("np.exp(a)", _uniform(*ANY), True),
    ("np.exp2(a)", _uniform(*ANY), True),
    ("np.expm1(a)", _uniform(*ANY), True),
    ("np.log(a)", _uniform(*POSITIVE), True),
    ("np.log2(a)", _uniform(*POSITIVE), True),
    ("np.log10(a)", _uniform(*POSITIVE), True),
    ("np.log1p(a)", _uniform(*POSITIVE), True),
    ("np.sqrt(a)", _uniform(*POSITIVE), True),
    ("np.cbrt(a)", _uniform(*POSITIVE), False),  # autograd: no VJP
    ("np.square(a)", _uniform(*ANY), True),
    ("np.reciprocal(a)", _uniform(*POSITIVE), True),
    ("np.tanh(a)", _uniform(*ANY), True),
    ("np.sinh(a)", _uniform(*ANY), True),
    ("np.cosh(a)", _uniform(*ANY), True),
    ("np.arcsin(a)", _uniform(*UNIT), True),
    ("np.arccos(a)", _uniform(*UNIT), True),
    ("np.arctan(a)", _uniform(*ANY), True),
    ("np.arcsinh(a)", _uniform(*ANY), True),
    ("np.arccosh(a)", _uniform(*ABOVE_ONE), True),
    ("np.arctanh(a)", _uniform(*UNIT), True),
    ("np.deg2rad(a)", _uniform(*ANY), True),
    ("np.rad2deg(a) / 100", _uniform(*ANY), True),
]


@pytest.mark.parametrize("body, elements, with_autograd", UNARY,
                         ids=[entry[0] for entry in UNARY])
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_unary_elementwise_on_drawn_shapes(body, elements, with_autograd, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    _check_against_oracles(body, [data.draw(_argument(shape, elements))], with_autograd)


@st.composite
def _axis(draw, ndim, tuples=True):
    """None, an int (maybe negative), or a tuple of distinct axes (maybe negative, in
    any order, maybe empty)."""
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if tuples:
            choices.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)
                           .flatmap(lambda axes: st.tuples(*[
                               st.sampled_from([i, i - ndim]) for i in axes])))
    return draw(st.one_of(*choices))


def _reduced_count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[i] for i in axes]))


def _distinct_values(draw, shape):
    """Entries all different (no ties for max and min), a permutation of a grid."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    values = np.array(order, dtype=float).reshape(shape) * 0.1 - 3.15
    return float(values) if shape == () else values


# (function, elements (None: distinct values), tuple axes and keepdims, ddof, autograd)
REDUCTIONS = [
    ("np.sum", _uniform(*ANY), True, False, True),
    ("np.mean", _uniform(*ANY), True, False, True),
    # a product of up to 64 factors: near 1, so sin(prod) stays tame for differences
    ("np.prod", _uniform(0.95, 1.05), True, False, True),
    ("np.max", None, True, False, True),
    ("np.min", None, True, False, True),
    ("np.amax", None, True, False, True),
    ("np.var", _uniform(*ANY), True, True, True),
    ("np.std", None, True, True, True),
    ("np.cumsum", _uniform(*ANY), False, False, True),
    ("np.cumprod", _uniform(0.95, 1.05), False, False, False),  # autograd: no VJP
]


@pytest.mark.parametrize("name, elements, full, with_ddof, with_autograd", REDUCTIONS,
                         ids=[entry[0] for entry in REDUCTIONS])
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_reduction_with_drawn_axis_and_keepdims(name, elements, full, with_ddof,
                                                with_autograd, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(_axis(len(shape), tuples=full))
    keepdims = full and data.draw(st.booleans())
    ddof = data.draw(st.sampled_from([0, 1])) if with_ddof else 0
    if name == "np.std":
        assume(_reduced_count(shape, axis) >= 2)  # std 0 has no derivative
    else:
        assume(_reduced_count(shape, axis) > ddof)
    if elements is None:
        arg = _distinct_values(data.draw, shape)
    else:
        arg = data.draw(_argument(shape, elements))
    call = f"{name}(a"
    call += "" if axis is None and data.draw(st.booleans()) else f", axis={axis!r}"
    call += ", keepdims=True" if keepdims else ""
    call += f", ddof={ddof}" if ddof else ""
    # autograd's cumsum VJP reads x.shape (numpy_vjps.py grad_np_cumsum): it crashes on a
    # Python float, so a float argument is checked against central differences only
    with_autograd = with_autograd and not (name == "np.cumsum" and isinstance(arg, float))
    _check_against_oracles(call + ")", [arg], with_autograd)


# -- 3. float32 ---------------------------------------------------------------------------

FLOAT32 = "dtype=np.float32"

# Table expressions build their constants in float64 (np.arange(3.0), np.eye(3)); for the
# adjoint test they are rewritten to float32 ones (np.arange(3.0, dtype=np.float32)), so
# the primal stays float32 and a float64 adjoint is the rule's doing. Calls given a
# variable (np.array([a, b])) are left alone. Cases whose primal is float64 even so are
# not run: np.dot of a Python float (NumPy's dot makes it float64), np.hstack([a, b,
# 1.0]), a.astype(float), np.where / np.clip choosing a Python float.
_CONSTANT = re.compile(r"np\.(arange|eye|ones|zeros|array)\(((?:[^()]|\([^()]*\))*)\)")


def _float32_constants(expression):
    def rewrite(match):
        args = match.group(2)
        if "dtype" in args or re.search(r"\b[ab]\b", args):
            return match.group(0)
        return f"np.{match.group(1)}({args}, dtype=np.float32)"
    return _CONSTANT.sub(rewrite, expression)


# Python-literal operands, which the table has few of
FLOAT32_EXTRA = [
    unary(np.power, "a ** 2.5", POSITIVE, shapes=[(3,), (2, 3)]),
    unary(np.power, "2.0 ** a", shapes=[(3,), (2, 3)]),
    unary(np.maximum, "np.maximum(a, 0.1)", (0.5, 2.0), shapes=[(3,)]),
    unary(np.minimum, "np.minimum(0.1, a)", (0.5, 2.0), shapes=[(3,)]),
    unary(np.mod, "a % 0.7", (0.8, 1.3), shapes=[(3,)]),
    unary(np.fmod, "np.fmod(a, 0.7)", (0.8, 1.3), shapes=[(3,)]),
    unary(np.arctan2, "np.arctan2(a, 0.5) + np.arctan2(0.5, a)", POSITIVE, shapes=[(3,)]),
    unary(np.hypot, "np.hypot(a, 0.5)", shapes=[(3,)]),
    unary(np.logaddexp, "np.logaddexp(a, 0.5)", shapes=[(3,)]),
    unary(np.ones, "a * np.ones(3, dtype=np.float32)", shapes=[(3,)]),
]


def _float32_args(case, shapes):
    """float32 arrays (Python floats stay floats: they have no dtype), and the same
    values as float64 arrays."""
    args = _table_args(case, shapes)
    single = [np.asarray(x, np.float32) if isinstance(x, np.ndarray) else x for x in args]
    double = [np.asarray(x, np.float64) if isinstance(x, np.ndarray) else x for x in single]
    return single, double


def _expression_dtype(case, shapes):
    single, _ = _float32_args(case, shapes)
    text = _text(_float32_constants(case.expression), len(case.domains))
    return np.asarray(_exec(text, ENV)(*single)).dtype


def _float32_params(raw):
    """Each array argument of each non-math case (table and FLOAT32_EXTRA). With raw,
    only cases whose expression (its constants rewritten) stays float32 on float32
    inputs, marked xfail where FLOAT32_PROMOTES names the rule."""
    for case in TABLE + FLOAT32_EXTRA:
        if "math." in _table_text(case):
            continue
        for shapes in case.shapes:
            shapes = tuple(shapes) if len(case.domains) > 1 else (shapes,)
            if raw and _expression_dtype(case, shapes) != np.float32:
                continue  # the primal itself computes in float64
            for index in range(len(case.domains)):
                if shapes[index] == ():
                    continue
                id_ = f"{case.expression} {shapes} d{NAMES[index]}"
                rule = FLOAT32_PROMOTES.get(id_) or FLOAT32_PROMOTES.get(case.expression)
                marks = [pytest.mark.xfail(strict=True, reason=f"float32 -> float64 in {rule}")
                         ] if raw and rule else []
                yield pytest.param(case, shapes, index, id=id_, marks=marks)


@pytest.mark.parametrize("case, shapes, index", list(_float32_params(raw=False)))
def test_float32_input_gets_a_float32_gradient(case, shapes, index):
    single, double = _float32_args(case, shapes)
    gradient = s2sad.grad_source(_table_text(case), "f", wrt=index, env=ENV)
    got = gradient(*single)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32, type(got)
    assert got.shape == single[index].shape
    expected = gradient(*double)
    np.testing.assert_allclose(got, expected, rtol=1e-4,
                               atol=1e-4 * max(1.0, float(np.max(np.abs(expected)))))


def _raw_adjoint(gradient, args, seed):
    """What the generated code returns, before the API casts it to the input's dtype."""
    compiled = gradient.for_arguments(tuple(args), {})
    parameters = list(inspect.signature(compiled.function).parameters)
    assert len(parameters) == len(args) + 1, parameters  # the arguments, then the seed
    seed_name = parameters[-1]  # (keyword-only: df=)
    return compiled.function(*args, **{seed_name: seed}) if seed is not None else \
        compiled.function(*args)


@pytest.mark.parametrize("case, shapes, index", list(_float32_params(raw=True)))
def test_float32_adjoint_is_computed_in_float32(case, shapes, index):
    """The generated code run with a float32 seed (the output's dtype): every rule on
    the way must keep float32 (the seed's own promotion is the test below)."""
    single, _ = _float32_args(case, shapes)
    text = _text(case.wrap.format(_float32_constants(case.expression)), len(case.domains))
    gradient = s2sad.grad_source(text, "f", wrt=index, env=ENV)
    raw = _raw_adjoint(gradient, single, np.float32(1.0))
    assert np.asarray(raw).dtype == np.float32, np.asarray(raw).dtype


@pytest.mark.parametrize("body", [
    pytest.param(body, id=body, marks=pytest.mark.xfail(
        strict=True, reason=f"float32 -> float64 in {DEFAULT_SEED_PROMOTES[body]}")
        if body in DEFAULT_SEED_PROMOTES else ())
    for body in ["np.sum(a)", "a.sum()", "np.sum(a * a)", "np.mean(a)", "np.linalg.norm(a)",
                 "np.max(a)", "a @ a", "np.dot(a, a)", "np.inner(a, a)", "np.prod(a)"]])
def test_float32_adjoint_with_the_default_seed(body):
    """What grad runs: the generated code with its default seed df=1.0."""
    x = np.linspace(0.5, 1.5, 3, dtype=np.float32)
    gradient = s2sad.grad_source(_text(body, 1), "f", env=ENV)
    raw = _raw_adjoint(gradient, [x], None)
    assert np.asarray(raw).dtype == np.float32, np.asarray(raw).dtype
