"""Rules the Tangent-style corpus (tests/corpus_tangent_style.py) found missing, issue 17:
math.copysign, math.erfc, math.remainder, math.hypot of any count, math.dist, divmod
(builtin and np.divmod), np.copysign, np.float_power, np.heaviside, np.append, x.item(),
x.real and x.imag (and math.radians / math.degrees).

Each was refused before ("no derivative rule for ...", "the method .item() is not
supported"). Here: the corpus's own programs and other spellings a user might write, in
reverse and forward mode and to second order, against central differences away from the
kinks, with the argument's exact type, shape and dtype. The single calls are in
tests/rule_table_issue17_corpus.py.
"""
import math
import sys
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import corpus_tangent_style as corpus  # noqa: E402


def _direction(x):
    d = np.cos(np.arange(np.size(x)) + 1.0).reshape(np.shape(x))
    return d.astype(x.dtype) if isinstance(x, np.ndarray) else float(d)


def _check(f, *args, wrt=0, second=True, tol=1e-6):
    """grad against central differences (type, shape, dtype exact), jvp along a fixed
    direction, and the Hessian against central differences of the gradient."""
    x = args[wrt]
    expected = numeric_grad(f, list(args), wrt)
    got = s2sad.grad(f, wrt=wrt)(*args)
    assert type(got) is type(x)
    assert np.shape(got) == np.shape(x)
    if isinstance(x, np.ndarray):
        assert got.dtype == x.dtype
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    direction = _direction(x)
    value, tangent = s2sad.jvp(f, wrt=wrt)(*args, direction)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(tangent, np.sum(expected * direction), rtol=tol, atol=tol)
    if not second:
        return
    gradient = s2sad.grad(f, wrt=wrt)
    hessian = s2sad.hessian(f, wrt=wrt)(*args)
    rows = [numeric_grad(lambda *v: np.ravel(gradient(*v))[i], list(args), wrt)
            for i in range(np.size(x))]
    np.testing.assert_allclose(np.reshape(hessian, (np.size(x), -1)),
                               np.reshape(rows, (np.size(x), -1)), rtol=1e-5, atol=1e-5)


# -- the corpus's programs: each was refused -----------------------------------------------

CORPUS = ["copysign_math", "num_sign_m", "num_erfc_m", "num_remainder_m", "num_divmod_b",
          "num_float_power", "num_sinc_heaviside", "num_dist_m", "num_hypot3",
          "item_of_element", "real_attr", "overlap_append_loop", "degrees_math"]


@pytest.mark.parametrize("case_id", CORPUS)
def test_the_corpus_programs_are_differentiated(case_id):
    f, args = corpus.CASES[case_id]
    for wrt in range(len(args)):
        _check(f, *args, wrt=wrt, second=np.size(args[wrt]) <= 4)


# -- spellings ---------------------------------------------------------------------------

def copysign_both(a, b):
    return math.copysign(a * a + 1.0, b) * b + math.copysign(a, -2.0)


def np_copysign_of_arrays(x, y):
    return np.sum(np.copysign(x, y) * y + np.copysign(x * x, -1.0))


def erfc_chain(a):
    return math.erfc(a * a) * math.erf(a)


def remainder_active_divisor(a, b):
    # n = round(3 a / b) changes only at the jumps: slope -n in b
    return math.remainder(3.0 * a, b) * a


def hypot_four(a, b):
    return math.hypot(a, 2.0 * b, a - b, 0.5)


def hypot_one(a, b):
    return math.hypot(a - b) * b


def hypot_of_a_list(a, b):
    coords = [a, b, 1.0]
    return math.hypot(*coords)


def hypot_in_a_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total = total + math.hypot(x[i], x[i + 1], 1.0)
    return total


def dist_of_tuples(a, b):
    return math.dist((a, b), (0.0, 1.0)) * a


def dist_of_a_list_built_by_append(a, b):
    p = [a, b]
    p.append(a * b)
    return math.dist(p, (1.0, 0.0, 2.0))


def dist_of_a_comprehension(a, b):
    return math.dist([a * k for k in range(3)], [b, 0.0, 1.0])


def dist_of_arrays(x, y):
    return math.dist(x, y) * x[0]


def dist_of_a_generator(x):
    return math.dist((v * 2.0 for v in x), [0.0, 1.0, 0.5])


def divmod_unpacked(a, b):
    q, r = divmod(a, b)
    return q * a + r * a + r * b


def divmod_indexed(a):
    pair = divmod(a, 0.3)
    return pair[1] ** 2 + divmod(a * 2.0, 0.65)[1]


def divmod_in_a_loop(x):
    total = 0.0
    for v in x:
        q, r = divmod(v, 0.3)
        total = total + r * v + q
    return total


def divmod_of_arrays(x, y):
    q, r = divmod(x, y)
    return np.sum(q * x + r * r)


def np_divmod_of_arrays(x, y):
    q, r = np.divmod(x, y)
    return np.sum(r * x) + np.sum(q)


def float_power_of_arrays(x, p):
    return np.sum(np.float_power(x, p) * np.arange(1.0, 4.0))


def float_power_of_a_number(a):
    return np.float_power(a, 2.5) + np.float_power(2.0, a)


def heaviside_step(x):
    return np.sum(np.heaviside(x, 0.5) * x + np.sinc(x))


def heaviside_value_at_zero(x, h):
    # d/dh is 1 where x == 0: here at x[1]
    return np.sum(np.heaviside(x, h) * np.arange(1.0, 4.0))


def append_scalar_in_a_loop(x):
    y = x[:1] * 1.0
    for i in range(3):
        y = np.append(y, y[-1] * x[i + 1])
    return np.sum(y * np.arange(1.0, 5.0))


def append_rows(x, v):
    return np.sum(np.append(x, v, axis=0) ** 2 * np.arange(1.0, 4.0))


def append_a_list(x, a):
    return np.sum(np.append(x, [a, a * a]) ** 2)


def append_a_matrix_raveled(m):
    return np.sum(np.append(m, m[0] * 2.0) * np.arange(9.0))


def item_of_elements(x):
    return x[0].item() * x[1] + x.sum().item() + np.ones(1).item()


def item_of_one_element(x):
    return (x * x).item() * 3.0


def item_as_an_index(x, k):
    return x[k.item()] * 2.0


def real_and_imag(x):
    y = x.real
    return np.sum(y * x) + np.sum(x.imag * x) + np.sum(x.T.real)


def radians_degrees(a):
    return math.sin(math.radians(a * 90.0)) * math.degrees(a)


X3 = np.array([0.3, 0.7, 1.1])


@pytest.mark.parametrize("f, args", [
    (copysign_both, (0.7, -1.3)), (copysign_both, (-0.4, 0.9)),
    (np_copysign_of_arrays, (X3 - 0.5, np.array([-1.0, 2.0, -0.3]))),
    (erfc_chain, (0.6,)),
    (remainder_active_divisor, (0.37, 0.5)),
    (hypot_four, (0.3, -0.4)), (hypot_one, (0.3, 0.9)), (hypot_of_a_list, (0.3, 0.4)),
    (hypot_in_a_loop, (X3,)),
    (dist_of_tuples, (0.3, 0.4)), (dist_of_a_list_built_by_append, (0.3, 0.4)),
    (dist_of_a_comprehension, (0.3, 0.4)), (dist_of_arrays, (X3, np.array([0.1, 0.2, 0.4]))),
    (dist_of_a_generator, (X3,)),
    (divmod_unpacked, (0.7, 0.3)), (divmod_indexed, (0.7,)), (divmod_in_a_loop, (X3 + 0.05,)),
    (divmod_of_arrays, (X3 + 1.0, np.array([0.3, 0.4, 0.45]))),
    (divmod_of_arrays, (X3 + 1.0, 0.31)),
    (np_divmod_of_arrays, (X3 + 1.0, np.array([0.3, 0.4, 0.45]))),
    (float_power_of_arrays, (X3, np.array([1.5, 2.0, 2.5]))), (float_power_of_a_number, (0.7,)),
    (heaviside_step, (X3 - 0.5,)), (heaviside_value_at_zero, (np.array([-0.4, 0.0, 0.4]), 0.5)),
    (append_scalar_in_a_loop, (np.array([0.55, -0.8, 1.25, 0.35]),)),
    (append_rows, (np.ones((2, 3)) * X3, np.array([[0.2, 0.4, 0.6]]))),
    (append_a_list, (X3, 0.4)), (append_a_matrix_raveled, (np.array([[0.3, 0.5, 0.7]] * 2),)),
    (item_of_elements, (X3,)), (item_of_one_element, (np.array([0.4]),)),
    (item_as_an_index, (X3, np.array([1]))),
    (real_and_imag, (X3,)), (radians_degrees, (0.7,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_spellings_in_every_argument(f, args):
    for wrt, x in enumerate(args):
        if isinstance(x, np.ndarray) and x.dtype.kind != "f":
            continue
        if f is heaviside_value_at_zero and wrt == 0:
            # the step sits at x[1] == 0: no central difference there
            got = s2sad.grad(f)(*args)
            np.testing.assert_array_equal(got, np.zeros(3))
            continue
        _check(f, *args, wrt=wrt, second=np.size(x) <= 4)


def test_heaviside_value_at_zero_has_slope_one_per_zero():
    x = np.array([0.0, 0.5, 0.0])
    assert s2sad.grad(heaviside_value_at_zero, wrt=1)(x, 0.5) == 1.0 + 3.0
    _, tangent = s2sad.jvp(heaviside_value_at_zero, wrt=1)(x, 0.5, 2.0)
    assert tangent == 8.0


def test_the_quotient_of_divmod_has_derivative_zero():
    def quotient_only(a):
        return divmod(a, 0.3)[0] * 1.0

    got = s2sad.grad(quotient_only)(0.7)
    assert got == 0.0 and type(got) is float
    assert s2sad.jvp(quotient_only)(0.7, 1.0)[1] == 0.0


# -- float32: float_power computes in float64, the gradient keeps the input's dtype ------------

def float_power_sum(x):
    return np.sum(np.float_power(x, 2.5))


def item_sum(x):
    return x.sum().item() * 2.0


def np_copysign_sum(x):
    return np.sum(np.copysign(x, -1.0) * x)


@pytest.mark.parametrize("f", [float_power_sum, item_sum, append_scalar_in_a_loop,
                               heaviside_step, np_copysign_sum])
def test_float32_arrays_get_float32_gradients(f):
    x = np.array([0.55, 0.8, 1.25, 0.35], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = s2sad.grad(f)(x)
        expected = s2sad.grad(f)(x.astype(np.float64))
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5)


# -- what stays refused ---------------------------------------------------------------------

def item_with_an_index(x):
    return x.item(1) * x[0]


def test_item_with_an_index_is_refused_at_its_call():
    with pytest.raises(s2sad.NoDerivativeRuleError, match="does not accept this call") as info:
        s2sad.grad(item_with_an_index)(X3)
    message = str(info.value)
    line = item_with_an_index.__code__.co_firstlineno + 1
    assert f"test_rules_issue17_corpus.py:{line}:11" in message
    assert "    return x.item(1) * x[0]\n" + " " * 15 + "^" * 9 + "\n" in message
    assert "hint:" in message


def real_written(x):
    y = x.real
    y[0] = 5.0
    return np.sum(y * x)


def test_a_write_into_x_real_is_refused_as_a_write_into_the_argument():
    # x.real of a real array is x itself: the write would change the caller's array
    with pytest.raises(s2sad.S2SADError, match="would change the argument 'x'"):
        s2sad.grad(real_written)(X3.copy())


def test_the_two_argument_hypot_reads_as_before():
    def hypot_two(a, b):
        return math.hypot(a, b)

    source = s2sad.source(hypot_two, wrt=(0, 1))
    assert "da = dhypot_two * a / (hypot_two if hypot_two != 0 else 1.0)" in source
    assert "db = dhypot_two * b / (hypot_two if hypot_two != 0 else 1.0)" in source
    _check(hypot_two, 0.3, 0.4)
    _check(hypot_two, 0.3, 0.4, wrt=1)
