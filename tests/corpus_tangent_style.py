"""A corpus in the spirit of Tangent's test functions, written here from scratch.

Small plain functions, each exercising one habit of ordinary Python + NumPy code:
scalar arithmetic, math.* and np.* calls, branches, for and while loops, early
returns, helpers (nested, with defaults, called by keyword), lists, tuples,
closures, lambdas, attribute access, augmented assignment, element writes; and
the same computation in several spellings (len(x), x.shape[0], np.shape(x)[0];
math.* vs np.*; x**2 vs x*x vs np.square; while vs for; early return vs else).
A section holds combinations in the style of autograd's NumPy tests that
tests/test_peer_numpy.py does not already write (keepdims against a broadcast of
another rank, negative indices in slices and axes, joins along axis=-1, products
of mixed ranks). The adversarial sections after it aim at the mechanisms of issue 15:
aliasing and views, names rebound across ranks or from subscripts of themselves,
element recurrences, copies whose tangents might be shared, optimiser folds, and rules
evaluated where their derivative is infinite though the function is smooth.

The first parameter is the one differentiated. `CASES` maps each function's name
to its arguments; test_tangent_style.py builds fresh copies for every call.
Inputs sit away from every kink and branch boundary of the function they feed.
"""
import math

import numpy as np

# -- inputs ------------------------------------------------------------------------

A = 0.7          # a positive Python float away from 0 and 1
B = 1.3
NEG = -0.45
N = 3            # an int, never differentiated
VEC = np.array([0.55, -0.8, 1.25, 0.35])
VEC2 = np.array([0.9, 0.4, -0.65, 1.1])
POSV = np.array([0.6, 1.15, 0.85, 1.4])
MAT = np.array([[0.3, -0.7, 1.1, 0.45],
                [0.95, 0.25, -0.35, 0.8],
                [-0.6, 1.35, 0.5, -0.15]])
MAT2 = np.array([[0.75, 0.2], [-0.4, 1.05], [0.65, -0.9], [0.15, 0.55]])
SQ = np.array([[1.2, 0.3, -0.2], [0.1, 0.9, 0.4], [-0.3, 0.2, 1.4]])
CUBE = np.linspace(-1.05, 1.25, 24).reshape(2, 3, 4)
SCALE = 1.5
OFFSETS = (0.25, -0.5, 0.75)


class Config:
    """A global object read by attribute, as model code reads its settings."""

    scale = 2.5
    shift = -0.3


CONFIG = Config()

# -- scalar arithmetic -------------------------------------------------------------


def identity(a):
    return a


def negate(a):
    return -a


def unary_plus(a):
    return +a


def add_const_right(a):
    return a + 2.0


def add_const_left(a):
    return 2.0 + a


def add_int(a):
    return a + 1


def sub_const_right(a):
    return a - 4.0


def sub_const_left(a):
    return 4.0 - a


def sub_self(a):
    return a - a


def add_self(a):
    return a + a


def mul_const(a):
    return a * 3.0


def mul_const_left(a):
    return 3.0 * a


def div_const(a):
    return a / 4.0


def div_by(a):
    return 4.0 / a


def div_self(a):
    return a / a


def square_pow(a):
    return a ** 2


def square_mul(a):
    return a * a


def square_np(a):
    return np.square(a)


def square_float_pow(a):
    return a ** 2.0


def square_builtin_pow(a):
    return pow(a, 2)


def square_math_pow(a):
    return math.pow(a, 2.0)


def square_np_power(a):
    return np.power(a, 2)


def cube_pow(a):
    return a ** 3


def cube_mul(a):
    return a * a * a


def cube_grouped(a):
    return a * (a * a)


def root_pow(a):
    return a ** 0.5


def root_math(a):
    return math.sqrt(a)


def root_np(a):
    return np.sqrt(a)


def inverse_pow(a):
    return a ** -1


def const_pow(a):
    return 2.0 ** a


def self_pow(a):
    return a ** a


def saxpy(a, b, c):
    return a * b + c


def saxpy_steps(a, b, c):
    t1 = a * b
    t2 = t1 + c
    return t2


def saxpy_rebind(a, b, c):
    t = a * b
    t = t + c
    return t


def rebind_param(a):
    a = a * 3.0
    a = a + 1.0
    return a


def alias_then_rebind(a):
    b = a
    b = b * 3.0
    return b * a


def name_like_adjoint(a):
    da = a * a
    return da + a


def name_like_tangent(a):
    a_dot = np.sin(a)
    return a_dot * a


def int_division_mix(a):
    return a * (7 // 2) + a / 2


def modulo_const(a):
    return (a % 0.5) * a


def floor_division_value(a):
    return (a // 0.25) * a


def chained_ops(a, b):
    return (a + b) * (a - b) / (a * b + 1.0)


def polynomial(a):
    return 3.0 * a ** 3 - 2.0 * a ** 2 + a - 5.0


def horner(a):
    return ((3.0 * a - 2.0) * a + 1.0) * a - 5.0


def two_arg_mix(a, b):
    return a * np.sin(b) + b * np.cos(a)


def unused_second(a, b):
    return a * 2.0


def constant_output(a):
    return 5.0


def zero_times(a):
    return 0.0 * a + 1.0


def long_chain(a):
    b = a * 1.1
    c = b + a
    d = c * b
    e = d - a
    f = e / c
    g = f * f
    return g + d


# -- math vs numpy -------------------------------------------------------------------


def sin_math(a):
    return math.sin(a)


def sin_np(a):
    return np.sin(a)


def exp_math(a):
    return math.exp(a)


def exp_np(a):
    return np.exp(a)


def exp_exp(a):
    return np.exp(np.exp(a))


def log_math(a):
    return math.log(a)


def log_np(a):
    return np.log(a)


def log_base_math(a):
    return math.log(a, 3.0)


def log2_both(a):
    return math.log2(a) + np.log2(a)


def log10_both(a):
    return math.log10(a) - np.log10(a) * 0.5


def tanh_math(a):
    return math.tanh(a)


def tanh_np(a):
    return np.tanh(a)


def tanh_by_exp(a):
    e = np.exp(2.0 * a)
    return (e - 1.0) / (e + 1.0)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softplus_math(a):
    return math.log1p(math.exp(a))


def softplus_np(a):
    return np.log1p(np.exp(a))


def expm1_math(a):
    return math.expm1(a)


def atan2_math(a):
    return math.atan2(a, 1.5)


def atan2_np(a):
    return np.arctan2(1.5, a)


def hypot_math(a):
    return math.hypot(a, 2.0)


def hypot_np(a):
    return np.hypot(2.0, a)


def inverse_trig(a):
    return math.asin(a) + math.acos(a * 0.5) + math.atan(a)


def inverse_trig_np(a):
    return np.arcsin(a) + np.arccos(a * 0.5) + np.arctan(a)


def hyperbolic_math(a):
    return math.sinh(a) * math.cosh(a) + math.asinh(a)


def hyperbolic_np(a):
    return np.sinh(a) * np.cosh(a) + np.arcsinh(a)


def erf_math(a):
    return math.erf(a)


def degrees_math(a):
    return math.degrees(a) + math.radians(a)


def fabs_math(a):
    return math.fabs(a) * a


def abs_builtin(a):
    return abs(a) * 2.0


def abs_np(a):
    return np.abs(a) * 2.0


def copysign_math(a):
    return math.copysign(a, -1.0)


def pi_constant(a):
    return math.pi * a + np.pi * a * a


def e_constant(a):
    return math.e ** a


def float_cast(a):
    return float(a) * a


def max_builtin(a):
    return max(a, 0.2) * a


def min_builtin(a):
    return min(a, 0.2) + a


def max_np(a):
    return np.maximum(a, 0.2) * a


def max_of_three(a, b):
    return max(a, b, 0.1) * a


def trig_identity(a):
    return np.sin(a) ** 2 + np.cos(a) ** 2


def cos_sin_mixed(a):
    return math.cos(a) * np.sin(a)


def sin_over(a, b):
    return np.sin(a + b) / (a * b)


# -- branches and early returns --------------------------------------------------------


def branch_simple(a):
    if a > 0:
        a = a * 3.0
    else:
        a = a * 2.0
    return a


def branch_taken_other(a):
    if a > 1.0:
        a = a * 3.0
    else:
        a = a * a
    return a


def branch_nested(a):
    if a > 0:
        if a < 10:
            a = a * a
    else:
        a = 3.0 * a
    return a


def branch_elif(a):
    if a > 2.0:
        b = a * 3.0
    elif a > 0.5:
        b = a * a
    else:
        b = -a
    return b


def branch_elif_zero(a):
    if a > 0:
        a = a * 3.0
    elif 0 > a:
        a = a * 2.0
    else:
        a = 1.0 * a
    return a


def branch_noisy(a):
    if a * a / 3.0 > 0:
        b = 3.0
    else:
        b = 4.0
    a = a * b
    if a < b - a * b:
        a = a * a
    elif a > b + 3.0 * a:
        a = a / b
    else:
        a = -a
    return a


def branch_serial(a):
    if a > 0:
        a = a * a
    a = a + a
    if a < 0:
        a = 3.0 * a
    return a


def branch_two_args(a, b):
    if a > b:
        a = a * a
    else:
        a = a * b
    return a


def branch_compare_chain(a):
    if 0.0 < a < 1.0:
        return a * a
    return a


def branch_and(a, b):
    if a > 0 and b > 0:
        return a * b
    return a + b


def branch_or(a, b):
    if a < 0 or b < 0:
        return a - b
    return a * b


def branch_not(a):
    if not a > 1.0:
        return np.sin(a)
    return a


def branch_on_int(a, n):
    if n > 2:
        return a * n
    return a


def early_return(a):
    if a > 0:
        return a * a
    return -a


def early_return_else(a):
    if a > 0:
        return a * a
    else:
        return -a


def early_return_value(a):
    b = a * 2.0
    if b > 1.0:
        return b * b
    c = b + 1.0
    return c


def ternary(a):
    return a * a if a > 0 else -a


def ternary_assign(a, b):
    c = a if a > b else b
    return c * a


def branch_assigns_one(a):
    b = 1.0
    if a > 0:
        b = a * a
    return b + a


def branch_variable_defined_in_both(a):
    if a > 0.5:
        y = np.sin(a)
        z = a
    else:
        y = np.cos(a)
        z = 2.0
    return y * z


def branch_on_array_sum(x):
    if np.sum(x) > 0:
        y = x * 2.0
    else:
        y = x * x
    return np.sum(y)


def branch_on_element(x):
    if x[0] > 0:
        return np.sum(x * x)
    return np.sum(x)


def branch_rank_change(a):
    if a > 0:
        y = np.array([a, 2.0 * a])
        return np.sum(y * y)
    return a


# -- loops -----------------------------------------------------------------------------


def for_static(a):
    for i in range(3):
        a = a * a
    return a


def for_count(a, n):
    for i in range(n):
        a = a * 1.5 + 0.1
    return a


def for_power(a):
    out = 1.0
    for i in range(3):
        out = out * a
    return out


def for_power_start(a):
    out = a
    for i in range(3 - 1):
        out = out * a
    return out


def for_uses_index(a):
    total = 0.0
    for i in range(4):
        total = total + a * i
    return total


def for_uses_index_pow(a):
    total = 0.0
    for i in range(1, 4):
        total = total + a ** i
    return total


def for_reversed(a):
    for i in reversed(range(3)):
        a = a * (i + 1.0) + np.sin(a)
    return a


def for_step(a):
    for i in range(0, 6, 2):
        a = a + np.cos(a * i)
    return a


def for_nested(a):
    for i in range(2):
        for j in range(3):
            a = a * 0.9 + np.sin(a)
    return a


def for_nested_dependent(a):
    t = 0.0
    for i in range(3):
        for j in range(i):
            t = t + a * (i - j)
    return t


def for_conditional_body(a):
    for i in range(3):
        if a < 20:
            a = a * a + 0.5
    return a


def branch_around_loop(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


def for_cube_body(a):
    for i in range(3):
        a = a * a * a
    return a


def for_then_if(a, n):
    for i in range(n):
        a = a * a
    a = 2.0 * a
    if a > 0:
        a = a * a
    return a


def if_then_for(a, n):
    if a > 0:
        a = a * a
    a = 2.0 * a
    for i in range(n):
        a = a * a
    return a


def two_loops(a, n):
    for i in range(n):
        a = a * a
    a = 2.0 * a
    for i in range(n + 1):
        a = a * 0.75
    return a


def for_break(a):
    for i in range(10):
        a = a * 1.5
        if a > 2.0:
            break
    return a


def for_continue(a):
    t = 0.0
    for i in range(5):
        if i % 2 == 0:
            continue
        t = t + a * i
    return t


def for_early_return(a):
    for i in range(10):
        a = a * 1.5
        if a > 2.0:
            return a * a
    return a


def while_counter(a):
    i = 0
    while i < 3:
        a = a * a
        i = i + 1
    return a


def while_counter_aug(a):
    i = 0
    while i < 3:
        a = a * a
        i += 1
    return a


def while_value(a):
    while abs(a) > 0.1:
        a = a * 0.5
    return a


def while_np_abs(a):
    while np.abs(a) > 0.1:
        a = a * 0.5
    return a


def while_break(a):
    k = 0
    while True:
        a = np.sin(a) + a
        k = k + 1
        if k >= 3:
            break
    return a


def while_with_else_return(a):
    k = 0
    while k < 4:
        if a > 3.0:
            return a
        a = a * 1.4
        k = k + 1
    return a * 2.0


def for_over_array(x):
    t = 0.0
    for v in x:
        t = t + v * v
    return t


def for_over_range_len(x):
    t = 0.0
    for i in range(len(x)):
        t = t + np.sin(x[i])
    return t


def for_over_range_shape(x):
    t = 0.0
    for i in range(x.shape[0]):
        t = t + np.sin(x[i])
    return t


def for_over_range_np_shape(x):
    t = 0.0
    for i in range(np.shape(x)[0]):
        t = t + np.sin(x[i])
    return t


def for_over_range_size(x):
    t = 0.0
    for i in range(x.size):
        t = t + np.sin(x[i])
    return t


def while_over_len(x):
    t = 0.0
    i = 0
    while i < len(x):
        t = t + np.sin(x[i])
        i = i + 1
    return t


def for_enumerate(x):
    t = 0.0
    for i, v in enumerate(x):
        t = t + v * (i + 1.0)
    return t


def for_zip(x, y):
    t = 0.0
    for u, v in zip(x, y):
        t = t + u * v
    return t


def for_over_rows(x):
    t = 0.0
    for row in x:
        t = t + np.sum(row * row)
    return t


def for_over_tuple_const(a):
    t = a
    for c in (0.5, 1.5, 2.5):
        t = t * c + a
    return t


def for_over_global_tuple(a):
    t = 0.0
    for c in OFFSETS:
        t = t + (a + c) ** 2
    return t


def for_running_product(x):
    p = 1.0
    for i in range(len(x)):
        p = p * x[i]
    return p


def for_recurrence_pairs(x):
    t = 0.0
    for i in range(1, len(x)):
        t = t + x[i] * x[i - 1]
    return t


def for_vector_state(x):
    h = x
    for i in range(3):
        h = np.tanh(h * 0.5 + 0.1)
    return np.sum(h)


def for_scalar_to_vector(a):
    v = np.zeros(3)
    for i in range(3):
        v = v + a * i
    return np.sum(v * v)


# -- element writes ----------------------------------------------------------------------


def write_copy_loop(x):
    y = np.zeros_like(x)
    for i in range(len(x)):
        y[i] = x[i]
    return np.sum(y * y)


def write_rows_loop(x):
    h = np.zeros((len(x), 3))
    for t in range(len(h)):
        h[t] = x[t]
    return np.sum(h * h)


def write_accumulate(x):
    y = np.zeros(2)
    for i in range(len(x)):
        y[i % 2] += x[i] * x[i]
    return np.sum(y * np.array([1.0, 3.0]))


def write_scalar_into_array(a):
    y = np.zeros(3)
    y[1] = a * a
    return np.sum(y) + a


def write_shifted(x):
    y = np.zeros(len(x) + 1)
    for i in range(len(x)):
        y[i + 1] = y[i] + x[i]
    return np.sum(y * y)


def write_constant_element(x):
    y = x * 1.0
    y[0] = 2.0
    return np.sum(y * y)


def write_own_argument(x):
    a = x[0]
    b = x[1]
    x[0] = a * b
    return np.sum(x)


def write_after_square(x):
    y = x ** 2.0
    x[0] = y[1] * y[2]
    return np.sum(x * y)


def write_slice(x):
    y = np.zeros(6)
    y[1:5] = x * 2.0
    return np.sum(np.sin(y))


def write_aug_element(x):
    y = x.copy()
    y[2] *= 3.0
    y[0] += y[1]
    return np.sum(y * y)


def write_rnn(x, w):
    h = np.zeros((4, 2))
    for t in range(3):
        h[t + 1] = np.tanh(x[t] * w + h[t])
    return np.sum(h[1:])


def write_matrix_element(x):
    m = np.zeros((2, 2))
    m[0, 0] = x[0]
    m[1, 1] = x[1]
    m[0, 1] = x[2] * x[3]
    return np.sum(m @ m)


# -- helpers, defaults, keywords ------------------------------------------------------------


def _times(a, b):
    return a * b


def _plus(a, b):
    return a + b


def _scaled(a, scale=2.0):
    return a * scale


def _poly(a, c0=1.0, c1=0.5, c2=0.25):
    return c0 + c1 * a + c2 * a * a


def _pair(a):
    return a * 2.0, a * a


def _norm2(v):
    return np.sum(v * v)


def _softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


def _branchy(a):
    if a > 0:
        return a * a
    return -a


def _calls_times(a, b):
    return _times(a, b)


def helper_call(a, b):
    return _times(a, b)


def helper_nested_calls(a, b, c):
    return _plus(_times(a, b), c)


def helper_two_levels(a, b):
    return _calls_times(a, b)


def helper_in_branch(a, b):
    if a > b:
        o = _times(a, b)
    else:
        o = _times(b, a)
    return o


def helper_in_loop(a, n):
    for i in range(n):
        a = _times(a, a)
    return a


def helper_default(a):
    return _scaled(a)


def helper_default_passed(a):
    return _scaled(a, 3.0)


def helper_keyword(a):
    return _scaled(a, scale=3.0)


def helper_keyword_active(a, b):
    return _scaled(a, scale=b)


def helper_keyword_first(a):
    return _scaled(scale=0.5, a=a)


def helper_some_defaults(a):
    return _poly(a, c2=2.0)


def helper_all_defaults(a):
    return _poly(a)


def helper_tuple_result(a):
    p, q = _pair(a)
    return p * q


def helper_tuple_index(a):
    return _pair(a)[1]


def helper_array(x):
    return _norm2(x) + _norm2(np.sin(x))


def helper_softmax(x):
    p = _softmax(x)
    return np.sum(p * np.arange(4.0))


def helper_branchy(a):
    return _branchy(a) + _branchy(a - 2.0)


def helper_same_arg_twice(a):
    return _times(a, a)


def nested_def(a, n):
    def step(u, v):
        return u * v

    for i in range(n):
        a = step(a, a)
    return a


def nested_def_default(a):
    def shifted(u, by=0.5):
        return u + by

    return shifted(a) * shifted(a, by=2.0)


def closure_reads_local(a):
    k = 3.0

    def scaled(u):
        return u * k

    return scaled(a) * a


def closure_reads_param(a, b):
    def scaled(u):
        return u * b

    return scaled(a) + scaled(a * a)


def lambda_local(a):
    sq = lambda u: u * u  # noqa: E731
    return sq(a) + sq(2.0 * a)


def lambda_immediate(a):
    return (lambda u: u * 3.0)(a)


def lambda_closure(a, b):
    f = lambda u: u * b + a  # noqa: E731
    return f(a)


def recursive_power(a, n):
    if n == 0:
        return 1.0
    return a * recursive_power(a, n - 1)


def global_constant(a):
    return a * SCALE


def global_attribute(a):
    return a * CONFIG.scale + CONFIG.shift


def global_tuple_item(a):
    return a * OFFSETS[1] + OFFSETS[2]


def global_array(x):
    return np.sum(x * VEC2)


# -- lists, tuples, dicts ----------------------------------------------------------------


def list_sum(a):
    b = [1.0, a * a, 2.0]
    return np.sum(b)


def list_sum_builtin(a):
    b = [1.0, a * a, 2.0]
    return sum(b)


def list_from_vector(x):
    b = [1.0, x[0] * x[1] * x[2], 3.0]
    return np.sum(b)


def list_index(a):
    x = [1.0, a, 3.0]
    return x[0] * x[1]


def list_negative_index(a):
    x = [a, a * a, 3.0 * a]
    return x[-1] * x[-2]


def list_append(a):
    out = []
    for i in range(3):
        out.append(a * i)
    return np.sum(out)


def list_append_sum_loop(a):
    out = []
    for i in range(3):
        out.append(np.sin(a * i))
    t = 0.0
    for v in out:
        t = t + v
    return t


def list_comprehension(a):
    return np.sum([a * i for i in range(4)])


def list_comprehension_array(x):
    return np.sum([v * 3.0 for v in x])


def generator_sum(a):
    return sum(a ** i for i in range(1, 4))


def tuple_pack_unpack(a, b):
    t = (a, b * b)
    p, q = t
    return p * q


def tuple_swap(a, b):
    a, b = b, a * 2.0
    return a * b


def tuple_index(a, b, c):
    t = (a, b, c)
    return t[0] * t[2]


def tuple_param(abc):
    a, b, c = abc
    return a * b + c


def tuple_param_first_only(abc):
    a, b, c = abc
    return a


def list_param(ab):
    return ab[0] * ab[1]


def dict_param(p):
    return p['a'] * p['b'] + p['c']


def dict_nested_param(p):
    return p['i']['j'] * p['i']['k']


def dict_literal(a, b):
    d = {'u': a, 'v': b * b}
    return d['u'] * d['v']


def dict_call(a, b):
    d = dict(u=a, v=b)
    return d['u'] + d['v'] * a


def nested_tuple_unpack(a):
    (p, q), r = (a, a * a), 2.0
    return p * q * r


def star_unpack(a):
    first, *rest = (a, a * 2.0, a * 3.0)
    return first * rest[1]


def array_from_scalars(a, b):
    v = np.array([a, b, a * b])
    return np.sum(v * v)


def array_from_list_var(a):
    items = [a, 2.0 * a]
    v = np.array(items)
    return np.sum(np.sin(v))


def stack_from_list(x):
    return np.sum(np.stack([x, x * 2.0]) * 0.5)


def multiple_return(a):
    return 2.0 * a, a


# -- arrays, attributes and methods ----------------------------------------------------------


def array_sum(x):
    return np.sum(x)


def array_sum_of_array(x):
    return np.sum(np.array(x))


def array_mean(x):
    return np.mean(x)


def array_sum_method(x):
    return x.sum()


def array_mean_method(x):
    return (x * x).mean()


def array_overwrite_param(x):
    x = np.sum(x)
    x = x * x
    return x


def array_len_scale(x):
    return np.sum(x) / len(x)


def array_shape_scale(x):
    return np.sum(x) / x.shape[0]


def array_np_shape_scale(x):
    return np.sum(x) / np.shape(x)[0]


def array_size_scale(x):
    return np.sum(x) / x.size


def array_ndim(x):
    return np.sum(x) * x.ndim


def array_first(x):
    return x[0] * x[1]


def array_last(x):
    return x[-1] * x[len(x) - 1]


def array_slice_tail(x):
    return np.sum(x[1:])


def array_slice_head(x):
    return np.sum(x[:-1] * x[1:])


def array_slice_step(x):
    return np.sum(x[::2] * 3.0)


def array_slice_reverse(x):
    return np.sum(x[::-1] * np.arange(4.0))


def array_newaxis_slice(x):
    return np.sum(x[::2, np.newaxis] * np.ones(3))


def array_none_index(x):
    return np.sum(x[:, None] * x[None, :])


def matrix_row(m):
    return np.sum(m[1] * m[2])


def matrix_column(m):
    return np.sum(m[:, 1] ** 2)


def matrix_element(m):
    return m[1, 2] * m[0, 0]


def matrix_chained_index(m):
    return m[1][2] * m[0][0]


def matrix_transpose_attr(m):
    return np.sum(m.T @ m)


def matrix_dot_method(m):
    return np.sum(m.dot(MAT2))


def matrix_shape_loop(m):
    t = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            t = t + m[i, j] * (i + j)
    return t


def matrix_unpack_shape(m):
    rows, cols = m.shape
    return np.sum(m) * rows / cols


def matmul_op(m):
    return np.sum(np.tanh(m @ MAT2))


def dot_call(m):
    return np.sum(np.tanh(np.dot(m, MAT2)))


def matvec(m):
    return np.sum(np.sin(m @ VEC))


def logistic_regression(w, inputs, labels, bias):
    h = np.dot(inputs, w) + bias
    p = 0.5 * (np.tanh(h) + 1.0)
    probs = p * labels + (1.0 - p) * (1.0 - labels)
    return -np.sum(np.log(probs))


def bilinear(w, x, h, u, b):
    y = np.dot(x, w)
    y = y + np.dot(h, u)
    y = y + b
    return np.sum(np.tanh(y))


def least_squares(w):
    r = MAT @ w - np.array([0.5, -0.25, 1.0])
    return 0.5 * np.sum(r * r)


def array_of_ones_mul(x):
    return np.sum(np.ones(4) * x * x)


def array_zeros_add(x):
    return np.sum(np.zeros(4) + x ** 3)


def array_reshape(x):
    return np.sum(x.reshape(2, 2) @ np.array([1.0, -1.0]))


def array_reshape_np(x):
    return np.sum(np.reshape(x, (2, 2)) @ np.array([1.0, -1.0]))


def array_square_spellings(x):
    return np.sum(x ** 2) + np.sum(x * x) + np.sum(np.square(x))


def array_max(x):
    return np.max(x) * np.min(x)


def array_max_method(x):
    return x.max() - x.min()


def array_cumsum(x):
    return np.sum(np.cumsum(x) ** 2)


def array_where(x):
    return np.sum(np.where(x > 0, x * x, -x))


def array_copy_then_scale(x):
    y = x.copy()
    y = y * 2.0
    return np.sum(y * x)


def array_astype(x):
    return np.sum(x.astype(np.float64) ** 2)


def array_scalar_broadcast(a):
    return np.sum(VEC * a + a * a)


def array_from_scalar_ones(a):
    return np.sum(np.ones(3) * a)


def array_full(a):
    return np.sum(np.full(3, 2.0) * a * a)


def array_linspace(a):
    return np.sum(np.linspace(0.0, a, 5) ** 2)


def array_dot_self(x):
    return np.dot(x, x)


def array_inner_outer(x):
    return np.inner(x, VEC2) + np.sum(np.outer(x, VEC2))


# -- augmented assignment ----------------------------------------------------------------------


def aug_mul_self(a):
    x = a * a
    x *= x
    return x


def aug_add(a):
    t = a
    t += a * a
    return t


def aug_sub(a):
    t = 3.0
    t -= a * a
    return t


def aug_div(a):
    t = a * 4.0
    t /= a + 1.0
    return t


def aug_pow(a):
    t = a + 1.0
    t **= 3
    return t


def aug_in_loop(a):
    t = 0.0
    for i in range(4):
        t += a * i
        t *= 0.5
    return t


def aug_array(x):
    y = x * 2.0
    y += x * x
    y *= 0.5
    return np.sum(y)


def aug_array_param(x):
    x = x * 1.0
    x += 1.0
    return np.sum(x * x)


def aug_array_broadcast(m):
    y = m * 1.0
    y -= np.mean(m, axis=0)
    return np.sum(y * y)


# -- autograd-style combinations (not in test_peer_numpy.py) ----------------------------------


def ag_sum_keepdims_center(m):
    c = m - np.sum(m, axis=-1, keepdims=True) / m.shape[-1]
    return np.sum(c * c)


def ag_mean_axis0_times_vector(m):
    return np.sum(np.mean(m, axis=0) * VEC)


def ag_keepdims_row_vs_column(m):
    return np.sum(np.max(m, axis=1, keepdims=True) * np.mean(m, axis=0, keepdims=True))


def ag_std_keepdims_normalize(m):
    z = (m - np.mean(m, axis=0, keepdims=True)) / np.std(m, axis=0, keepdims=True)
    return np.sum(z * MAT)


def ag_prod_negative_axis(m):
    return np.sum(np.prod(m, axis=-2))


def ag_where_broadcast_row(m):
    return np.sum(np.where(m > 0, m, VEC[None, :] * m))


def ag_where_scalar_branches(m):
    return np.sum(np.where(m > 0.6, 1.0, m) * m)


def ag_where_rank_mix(x):
    return np.sum(np.where(MAT > 0, x, x[0] * x))


def ag_negative_slice(x):
    return np.sum(x[-3:-1] * x[:2])


def ag_negative_2d(m):
    return np.sum(m[-2:, :-1] * m[:2, 1:])


def ag_negative_step_2d(m):
    return np.sum(m[::-1, ::-2] ** 2)


def ag_negative_element(m):
    return m[-1, -2] * m[-3, -4]


def ag_concat_negative_axis(m):
    return np.sum(np.sin(np.concatenate([m, m[:, ::-1]], axis=-1)) * np.arange(8.0))


def ag_concat_scalars_and_vector(x):
    return np.sum(np.concatenate([x[:2], np.array([1.0]), x[2:] * 2.0]) ** 2)


def ag_stack_negative_axis(x):
    return np.sum(np.stack([x, x * x, np.sin(x)], axis=-1) @ np.array([1.0, 2.0, 3.0]))


def ag_stack_matrices(m):
    return np.sum(np.stack([m, m * 2.0, np.cos(m)], axis=1) ** 2 * np.arange(4.0))


def ag_dot_scalar_vector(a):
    return np.sum(np.dot(a, VEC) ** 2)


def ag_dot_vector_matrix(x):
    return np.sum(np.tanh(np.dot(x[:3], MAT)))


def ag_dot_3d_vector(x):
    return np.sum(np.sin(np.dot(CUBE, x)))


def ag_outer_matrix_input(m):
    return np.sum(np.sin(np.outer(m, VEC[:2])))


def ag_inner_matrix_vector(m):
    return np.sum(np.sin(np.inner(m, VEC)))


def ag_inner_3d(t):
    return np.sum(np.sin(np.inner(t, MAT)))


def ag_tensordot_axes_int(t):
    return np.sum(np.sin(np.tensordot(t, MAT, axes=2)))


def ag_tensordot_pairs(t):
    return np.sum(np.sin(np.tensordot(t, MAT2, axes=([2], [0]))))


def ag_tensordot_zero(x):
    return np.sum(np.sin(np.tensordot(x, MAT, axes=0)))


def ag_matmul_vector_both(x):
    return (x @ MAT.T) @ (MAT @ x)


def ag_broadcast_ranks_3(t):
    return np.sum(t * VEC + MAT * t[0] + np.sin(t) * 0.5)


def ag_broadcast_column(m):
    return np.sum((m[:, :1] - m) ** 2 * m[:1, :])


def ag_sum_axis_tuple_keepdims(t):
    s = np.sum(t, axis=(0, 2), keepdims=True)
    return np.sum(t / s)


def ag_max_axis_neg_keepdims(t):
    return np.sum(np.exp(t - np.max(t, axis=-1, keepdims=True)))


def ag_transpose_negative(t):
    return np.sum(np.transpose(t, (-1, 0, 1)) * np.arange(4.0)[:, None, None])


def ag_swap_and_reduce(t):
    return np.sum(np.mean(np.swapaxes(t, -1, -2), axis=-1) ** 2)


# -- adversarial: aliasing, views, rebinding across ranks, mixed argument kinds ------------


def alias_scaled_copy_write(x):
    y = x * 1.0
    y[0] = 2.0
    return np.sum(y * x)


def alias_plus_zero_write(x):
    y = x + 0.0
    y[1] = 3.0
    return np.sum(y * x * x)


def alias_two_names_write(x):
    c = x * 2.0
    t = c
    t[0] = c[1]
    return np.sum(c * x)


def alias_two_names_aug(x):
    c = x * 2.0
    t = c
    s = c
    t *= 0.5
    return np.sum(s * x)


def alias_copy_is_separate(x):
    c = x * 2.0
    d = c.copy()
    d[0] = 5.0
    return np.sum(c * x) + np.sum(d)


def alias_view_write(x):
    c = x * 2.0
    v = c[1:]
    v[0] = x[0] * 3.0
    return np.sum(c * c)


def alias_view_of_view_write(x):
    c = x * 2.0
    d = c.reshape(2, 2)[0]
    d[0] = x[3] * 5.0
    return np.sum(c * c)


def alias_view_chain_slices(x):
    c = x * 1.0
    d = c[1:][::-1]
    d[0] = x[0] * x[0]
    return np.sum(c * x)


def alias_view_aug(x):
    c = x * 1.0
    c[1:] *= 2.0
    return np.sum(c * c)


def alias_flatten_copy(m):
    c = m * 1.0
    d = c.flatten()
    d[0] = 9.0
    return np.sum(c * m) + np.sum(d)


def alias_mask_copy(x):
    c = x * 1.0
    d = c[c > 0]
    d[0] = 7.0
    return np.sum(c * x) + np.sum(d)


def alias_transpose_write(m):
    c = m * 1.0
    t = c.T
    t[0, 0] = m[1, 1] * 2.0
    return np.sum(c * m)


def alias_param_rebound_then_write(x):
    x = x * 1.0
    x[0] = 0.5
    return np.sum(x * x)


def alias_returned_by_helper(x):
    c = x * 3.0
    d = _same(c)
    d[2] = 1.0
    return np.sum(c * x)


def _same(v):
    return v


def _maybe_vector(a, v=None):
    if v is None:
        v = np.ones(3) * a
    return np.sum(v * a)


def rank_helper_default_none(a):
    return _maybe_vector(a)


def rank_helper_given(a):
    return _maybe_vector(a, np.array([1.0, 2.0, 3.0]))


def rank_rebound_in_branch(a):
    if a > 0:
        y = np.array([a, a * a])
    else:
        y = a * 2.0
    return np.sum(y)


def rank_rebound_in_sequence(a):
    y = a * 2.0
    y = np.array([y, y * a, 1.0])
    y = np.sum(y * y)
    return y


def rank_param_becomes_vector(a):
    a = np.linspace(0.0, 1.0, 3) * a
    return np.sum(np.sin(a))


def rank_loop_grows(a):
    y = a
    for i in range(2):
        y = np.stack([y, y * a]) if i == 0 else np.concatenate([y, y * 0.5])
    return np.sum(y)


def _square_any(v):
    return v * v


def helper_float_and_array(x):
    return np.sum(_square_any(x)) + _square_any(x[0])


def helper_array_and_float(a):
    return np.sum(_square_any(np.ones(2) * a)) * _square_any(a)


def _first_and_rest(v):
    return v[0], v[1:]


def helper_returns_view(x):
    head, tail = _first_and_rest(x)
    return head * np.sum(tail * tail)


def _accumulate(v, scale=1.0):
    total = 0.0
    for i in range(len(v)):
        total = total + v[i] * scale
    return total


def helper_loop_keyword(x):
    return _accumulate(x * x, scale=0.5) + _accumulate(x)


def _early(a):
    for i in range(5):
        if a > 1.5:
            return a * i
        a = a * 1.3
    return a


def helper_early_in_loop(a):
    return _early(a) * 2.0


# -- adversarial: element recurrences and second order ---------------------------------------


def recurrence_scalar_into_array(a):
    c = np.ones(4)
    for i in range(3):
        c[i + 1] = c[i] * np.tanh(a) + a
    return np.sum(c * c)


def recurrence_aug_nested(a):
    c = np.ones(5)
    for i in range(2):
        for j in range(2):
            c[i + j] *= 0.5 * np.tanh(a)
    return np.sum(c)


def recurrence_aug_add(a):
    c = np.zeros(3)
    for i in range(3):
        c[i] += a * (i + 1.0)
        c[i] += c[i - 1] * a
    return np.sum(c * c)


def recurrence_slice_update(a):
    c = np.ones(4) * a
    for i in range(2):
        c[1:] = c[1:] + c[:-1] * a
    return np.sum(c)


def recurrence_overwrite_element(a):
    c = np.array([a, 2.0, 3.0])
    c[0] = c[0] * c[0]
    c[0] = c[0] * a
    return np.sum(c) * a


def recurrence_vector_elements(x):
    y = x * 1.0
    for i in range(1, len(y)):
        y[i] = y[i] + y[i - 1] * y[i]
    return np.sum(y)


def recurrence_vector_reverse(x):
    y = x * 1.0
    for i in range(len(y) - 2, -1, -1):
        y[i] = y[i] * np.cos(y[i + 1])
    return np.sum(y * y)


def recurrence_while_index(x):
    y = np.zeros(len(x))
    i = len(x) - 1
    while i >= 0:
        y[i] = x[i] * x[i] + (y[i + 1] if i + 1 < len(x) else 0.0)
        i = i - 1
    return np.sum(y)


def recurrence_matrix_rows(m):
    h = np.zeros(m.shape[1])
    for t in range(m.shape[0]):
        h = np.tanh(m[t] + h * 0.5)
    return np.sum(h)


def loop_slice_window(x):
    t = 0.0
    for i in range(len(x) - 1):
        t = t + np.sum(x[i:i + 2] ** 2) * (i + 1.0)
    return t


def loop_row_index(m):
    t = 0.0
    for i in range(m.shape[0]):
        t = t + np.dot(m[i, :], m[i, :]) * (i + 1.0)
    return t


# -- adversarial: spellings and small oddities ------------------------------------------------


def relu_ternary(a):
    a = a if a > 0 else 0.0
    return a * a


def relu_np(x):
    return np.sum(np.maximum(x, 0.0) ** 2)


def relu_where(x):
    return np.sum(np.where(x > 0, x, 0.0) ** 2)


def relu_mask_mul(x):
    return np.sum((x * (x > 0)) ** 2)


def int_power_param(a, n):
    return a ** n + np.power(a, n - 1)


def float_of_element(x):
    return float(x[0]) * x[1]


def item_of_element(x):
    return x[0].item() * x[1] if hasattr(x[0], "item") else x[1]


def np_float64_wrap(a):
    return np.float64(a) * a


def int_cast_piecewise(a):
    return int(a * 10.0 + 0.5) * a


def round_piecewise(a):
    return round(a, 1) * a


def max_of_list(a, b):
    return max([a * a, b]) * a


def min_builtin_two(a, b):
    return min(a * a, b) + a


def sum_axis0_1d(x):
    return np.sum(x, axis=0) * x.sum(0) + np.mean(x, 0)


def shape_branch(x):
    if x.shape[0] > 2:
        return np.sum(x[:2] ** 2)
    return np.sum(x)


def len_in_arithmetic(x):
    return np.sum(x) * (len(x) - 1.5)


def double_transpose(m):
    return np.sum(m.T.T * m)


def real_attr(x):
    return np.sum(x.real * x)


def dot_of_floats(a, b):
    return np.dot(a, b) + np.dot(a, a)


def nested_ternary_loop(a):
    t = 0.0
    for i in range(4):
        t = t + (a * i if i % 2 == 0 else -a)
    return t


def continue_on_index(a, n):
    for i in range(n):
        if i == 1:
            continue
        a = a * np.cos(a)
    return a


def while_decrement(a):
    k = 3
    while k > 0:
        a = a + np.sin(a) * k
        k -= 1
    return a


def loop_carried_pair(a):
    p, q = a, 1.0
    for i in range(3):
        p, q = q * a, p + q
    return p * q


def swap_in_loop(a, b):
    for i in range(3):
        a, b = b, a * b
    return a + b


def scalar_and_array_result(a):
    v = np.array([1.0, 2.0]) * a
    s = v[0] + v[1]
    return s * a


def zero_d_array_math(h):
    return np.sin(h) * h


def zero_d_array_sum(h):
    return np.sum(h * h)


def float64_scalar_loop(r):
    for i in range(3):
        r = r * np.cos(r)
    return r


def float64_into_array(r):
    c = np.zeros(3)
    c[0] = r
    c[2] = r * r
    return np.sum(c * c)


def float64_helper_default(r):
    return _maybe_vector(r)


# -- adversarial: a loop rebinds a name from slices of itself ---------------------------------


def self_slice_reverse_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[::-1] + y * 0.5
    return y[0]


def self_slice_reverse_loop_scaled_first(x):
    y = x * 1.0
    for i in range(2):
        y = y * 0.5 + y[::-1]
    return y[0]


def self_slice_flip_loop(x):
    y = x * 1.0
    for i in range(2):
        y = np.flip(y) + y * 0.5
    return y[0]


def self_slice_halves_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[::2] + y[1::2]
    return y[0]


def self_slice_halves_while(x):
    y = x
    while y.size > 1:
        y = y[::2] + y[1::2] * y[::2]
    return y[0]


def self_slice_split_once(x):
    y = x * 1.0
    for i in range(1):
        y = y[:2] + y[2:]
    return np.sum(y * y)


def self_slice_neighbours(x):
    y = x * 1.0
    for i in range(2):
        y = y[1:] + y[:-1]
    return np.sum(y * y)


def self_slice_neighbours_product(x):
    y = x * 1.0
    for i in range(2):
        y = y[1:] * y[:-1]
    return np.sum(y)


def self_slice_scalar_built(a):
    y = np.array([a, 2.0 * a, 3.0])
    for i in range(2):
        y = y[::-1] + y * 0.5
    return y[0]


def self_slice_straight_line(x):
    y = x * 1.0
    y = y[::-1] + y * 0.5
    y = y[::-1] + y * 0.5
    return y[0]


def self_slice_in_branch(x):
    y = x * 1.0
    if y[0] > 0:
        y = y[::-1] + y * 0.5
    return y[0]


def self_slice_only_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[1:]
    return np.sum(y * y)


def self_slice_while_counter(x):
    y = x * 1.0
    k = 0
    while k < 2:
        y = y[::-1] + y * 0.5
        k += 1
    return y[0]


def self_slice_through_temporary(x):
    y = x * 1.0
    for i in range(2):
        z = y[::-1]
        y = z + y * 0.5
    return y[0]


def self_fancy_index_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[[1, 0, 3, 2]] + y * 0.5
    return y[0]


def self_ellipsis_index_loop(m):
    y = m * 1.0
    for i in range(2):
        y = y[..., ::-1] + y * 0.5
    return y[0, 0]


def self_newaxis_loop(x):
    y = x * 1.0
    for i in range(1):
        y = y[None, :] + y[:, None]
    return np.sum(y * np.arange(16.0).reshape(4, 4))


def self_slice_second_operand(x):
    y = x * 1.0
    for i in range(2):
        y = y + y[::-1]
    return y[0] * 2.0 + y[1]


# -- adversarial: helpers inlined twice, name clashes, loops over rebuilt arrays -----------


def _mix_h(a, b):
    c = a * b
    y = c + a
    return y


def mix_inline_clash(a, b):
    c = b * 3.0
    y = _mix_h(a, c)
    return y * c + b


def _mix_h2(v, w=VEC2):
    return np.sum(v * w)


def mix_helper_global_default(x):
    return _mix_h2(x) + _mix_h2(x, x)


def _mix_shrink(v):
    v = v[1:] + v[:-1]
    return v


def mix_helper_self_slice(x):
    return np.sum(_mix_shrink(x) ** 2)


def _mix_g(v):
    return np.sum(v * v)


def mix_helper_shapes(x):
    return _mix_g(x) + _mix_g(x[:2]) + _mix_g(x[0])


def _mix_loop_h(a, n=2):
    for i in range(n):
        a = a * np.cos(a)
    return a


def mix_helper_loop_twice(a):
    return _mix_loop_h(a) + _mix_loop_h(a * 2.0, 3)


def mix_loop_cond_update(x):
    best = x[0]
    for i in range(1, len(x)):
        if x[i] > best:
            best = x[i] * 1.0
    return best * best


def mix_loop_break_arrays(x):
    y = x * 1.0
    for i in range(4):
        y = np.tanh(y) * 1.5
        if np.sum(y) > 1.2:
            break
    return np.sum(y * y)


def mix_nested_break(a):
    t = a
    for i in range(3):
        for j in range(3):
            t = t * 1.2 + 0.1
            if t > 1.5:
                break
    return t


def mix_early_return_loop_write(a):
    c = np.zeros(4)
    for i in range(4):
        c[i] = a * (i + 1.0)
        if c[i] > 1.5:
            return np.sum(c * c)
    return np.sum(c)


def _mix_maybe(a, flag):
    if flag:
        return a * a
    return a


def mix_helper_flag(a):
    return _mix_maybe(a, True) + _mix_maybe(a, False) * 3.0


def mix_helper_kw_order(a, b):
    return _mix_h(b=a, a=b) + _mix_h(a, b=b)


def loop_roll_by_hand(x):
    y = x * 1.0
    for i in range(2):
        y = np.concatenate([y[1:], y[:1] * 2.0])
    return y[0] * 3.0 + y[1]


def loop_stack_elems(x):
    y = x * 1.0
    for i in range(2):
        y = np.stack([y[1] * y[0], y[0], y[3], y[2]])
    return y[0] + y[2] * 2.0


def loop_array_elems(x):
    y = x * 1.0
    for i in range(2):
        y = np.array([y[1] * y[0], y[0], y[3], y[2]])
    return y[0] + y[2] * 2.0


def loop_where_self(x):
    y = x * 1.0
    for i in range(2):
        y = np.where(y > 0, y[::-1], y * 0.5)
    return y[0] + y[1] * 2.0


def loop_maximum_self(x):
    y = x * 1.0
    for i in range(2):
        y = np.maximum(y[::-1], y * 0.5)
    return y[0] + y[1] * 2.0


def loop_dot_self(x):
    y = x * 1.0
    for i in range(2):
        y = np.dot(y[::-1], np.eye(4)) * y
    return y[0] + y[1] * 2.0


def loop_outer_self(x):
    y = x * 1.0
    for i in range(1):
        y = np.outer(y[:2], y[2:])
    return np.sum(y * np.arange(4.0).reshape(2, 2))


def loop_sum_axis_self(m):
    y = m * 1.0
    for i in range(1):
        y = np.sum(y[:, ::-1], axis=0) + y[0]
    return y[0] + 2.0 * y[1]


def loop_cumsum_self(x):
    y = x * 1.0
    for i in range(2):
        y = np.cumsum(y[::-1])
    return y[0] + y[1] * 2.0


def loop_div_self(x):
    y = x * 1.0 + 3.0
    for i in range(2):
        y = y / y[::-1]
    return y[0] + y[1] * 2.0


def loop_pow_self(x):
    y = x * 1.0 + 3.0
    for i in range(2):
        y = y[::-1] ** 2.0 + y
    return y[0] + y[1] * 2.0


def loop_neg_self(x):
    y = x * 1.0
    for i in range(2):
        y = -y[::-1]
    return y[0] + y[1] * 2.0


def loop_sub_self(x):
    y = x * 1.0
    for i in range(2):
        y = y[::-1] - y * 0.5
    return y[0] + y[1] * 2.0


# -- adversarial: copies made by arithmetic, then written (one tangent shared?) ---------


def copy_pos(x):
    c = +(x * 1.0)
    d = c
    c = c * 1.0
    c[0] = 2.0
    return np.sum(c * d)


def copy_div(x):
    c = x / 1.0
    c[0] = 2.0
    return np.sum(c * x)


def copy_sub(x):
    c = x - 0.0
    c[1] = 2.0
    return np.sum(c * x)


def copy_asarray(x):
    y = x * 2.0
    c = np.asarray(y)
    c[0] = 2.0
    return np.sum(c * y)


def copy_array(x):
    c = np.array(x)
    c[0] = 2.0
    return np.sum(c * x)


def copy_astype(x):
    c = x.astype(float)
    c[0] = 2.0
    return np.sum(c * x)


def copy_copy(x):
    c = np.copy(x)
    c[0] = 2.0
    return np.sum(c * x)


def copy_method_copy(x):
    c = x.copy()
    c[2] = 2.0
    return np.sum(c * x)


def copy_real(x):
    c = np.real(x) * 1.0
    c[2] = 2.0
    return np.sum(c * x)


def copy_reshape_copy(x):
    c = (x * 1.0).reshape(2, 2)
    c[0, 0] = 2.0
    return np.sum(c.ravel() * x)


def copy_ascontig(x):
    c = np.ascontiguousarray(x)
    c[0] = 2.0
    return np.sum(c * x)


def copy_float_mul(x):
    c = 1.0 * x
    c[3] = 2.0
    return np.sum(c * x)


def copy_add_zeros(x):
    c = x + np.zeros(4)
    c[3] = 2.0
    return np.sum(c * x)


def copy_where_true(x):
    c = np.where(True, x, 0.0)
    c[3] = 2.0
    return np.sum(c * x)


def copy_abs_pos(x):
    c = np.abs(x * x)
    c[3] = 2.0
    return np.sum(c * x)


def copy_max_same(x):
    c = np.maximum(x, -5.0)
    c[3] = 2.0
    return np.sum(c * x)


def copy_clip(x):
    c = np.clip(x, -5.0, 5.0)
    c[3] = 2.0
    return np.sum(c * x)


def copy_squeeze(x):
    c = np.squeeze(x[None, :] * 1.0)
    c[3] = 2.0
    return np.sum(c * x)


def copy_aug_on_alias(x):
    c = x * 1.0
    c *= 2.0
    return np.sum(c * x)


# -- adversarial: a view of an arithmetic copy, then written -------------------------------


def view_T(m):
    c = (m * 1.0).T
    c[0, 0] = 2.0
    return np.sum(c.T * m)


def view_slice(x):
    c = (x * 1.0)[:]
    c[0] = 2.0
    return np.sum(c * x)


def view_ravel(m):
    c = np.ravel(m + 0.0)
    c[0] = 2.0
    return np.sum(c.reshape(3, 4) * m)


def view_expand(x):
    c = np.expand_dims(x * 1.0, 0)
    c[0, 1] = 2.0
    return np.sum(c[0] * x)


def view_transpose(m):
    c = np.transpose(m / 1.0)
    c[1, 1] = 2.0
    return np.sum(c.T * m)


def view_loop(x):
    y = x
    for i in range(2):
        c = (y * 1.0).reshape(2, 2)
        c[0, i] = 0.5
        y = c.ravel() * y
    return np.sum(y)


def view_helper(x):
    c = _view_ident(x).reshape(2, 2)
    c[1, 1] = 0.5
    return np.sum(c.ravel() * x)


def _view_ident(v):
    return v * 1.0


def view_two_step_scalar(a):
    c = (np.ones(4) * a).reshape(2, 2)[0]
    c[0] = 2.0
    return np.sum(c) * a


def view_diag(m):
    s = m[:, :3] * 1.0
    c = np.diagonal(s)
    return np.sum(c * s)


# -- adversarial: what an optimiser folds, reuses or drops ---------------------------------


def opt_fold_zero_write(x):
    z = x * 0.0
    z[1] = 2.0
    return np.sum(z * x)


def opt_fold_pow1(x):
    return np.sum(x ** 1 * x ** 0 + x * 1 + 0 * x)


def opt_fold_pow0_shape(m):
    return np.sum((m ** 0) @ m.T)


def opt_fold_zero_shape(m):
    z = m * 0.0
    return np.sum((z + 1.0) @ m.T) + np.sum(z.T @ m)


def opt_fold_sub_self(x):
    z = x - x
    return np.sum(np.exp(z) * x) + np.sum(z)


def opt_keep1(m):
    return np.log1p(m ** 2).mean(axis=0, keepdims=True).sum(axis=1, keepdims=True).sum()


def opt_keep2(m):
    return np.mean(np.mean(m * m, axis=0, keepdims=True), axis=1)[0]


def opt_keep3(m):
    return (m * m).max(axis=1, keepdims=True).max()


def opt_keep4(m):
    return np.sin(m).std(axis=0, keepdims=True).sum()


def opt_keep5(m):
    return (m - m.mean(0)).var()


def opt_keep6(m):
    return (np.exp(m) / np.exp(m).sum(axis=-1, keepdims=True)).T.sum(axis=0).prod()


def opt_keep7(m):
    s = m.sum(axis=1, keepdims=True)
    s = s + s.T.sum()
    return np.sum(s * s)


def opt_keep8(x):
    return np.sum(np.cumsum(x ** 2, axis=0).reshape(2, 2).mean(axis=1, keepdims=True))


def opt_cse(x):
    a = np.sin(x) * 2.0
    b = np.sin(x) * 2.0
    a[0] = 5.0
    return np.sum(a * b)


def opt_dead_store(x):
    y = x * 2.0
    y = x * 3.0
    return np.sum(y * y)


def opt_reuse_temp(x):
    t = x * x
    u = t
    t = t + 1.0
    return np.sum(u * t)


def zero_trip_for(a, n):
    t = a
    for i in range(n):
        t = t * np.sin(a) + i
        u = t * 2.0
    return t * a


def zero_trip_while(a):
    k = 5
    while k < 3:
        a = a * a
        k = k + 1
    return a * 2.0


def zero_trip_write(x, n):
    y = x * 1.0
    for i in range(n):
        y[i] = y[i] * 2.0
    return np.sum(y * y)


def empty_vector_loop(x):
    t = 0.0
    for v in x[:0]:
        t = t + v
    return t + np.sum(x)


# -- adversarial: rows of a local array written through the loop variable ----------------


def iter_row_write(m):
    c = m * 1.0
    for row in c:
        row[0] = 0.5
    return np.sum(c * m)


def iter_row_aug(m):
    c = m * 1.0
    for row in c:
        row *= 2.0
    return np.sum(c * m)


def iter_row_aug_active(m):
    c = m * 1.0
    for row in c:
        row += m[0]
    return np.sum(c * c)


def enum_row_write(m):
    c = m * 1.0
    for i, row in enumerate(c):
        row[1] = m[i, 0] * 3.0
    return np.sum(c * c)


def zip_row_write(m):
    c = m * 1.0
    for row, src in zip(c, m):
        row[2] = src[0] * src[1]
    return np.sum(c * c)


def iter_row_rebind(m):
    c = m * 1.0
    t = 0.0
    for row in c:
        row = row * 2.0
        t = t + np.sum(row)
    return t + np.sum(c)


def iter_elem_write_param_copy(x):
    c = x * 1.0
    for v in c:
        v = v * 2.0
    return np.sum(c * x)


def _mix2_shrink(v):
    return v[1:] + v[:-1]


def _mix2_rev(v):
    return v[::-1] + v * 0.5


def mix2_helper_shrink_loop(x):
    y = x * 1.0
    for i in range(2):
        y = _mix2_shrink(y)
    return np.sum(y * y)


def mix2_helper_rev_loop(x):
    y = x * 1.0
    for i in range(2):
        y = _mix2_rev(y)
    return y[0]


def mix2_swap_arrays(x):
    a = x * 1.0
    b = x * 2.0
    for i in range(2):
        a, b = b, a + b[::-1]
    return a[0] + b[1] * 2.0


def mix2_copy_write_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y * 1.0
        y[0] = y[1] * y[2]
    return np.sum(y * y)


def mix2_cond_self_slice_loop(x):
    y = x * 1.0
    for i in range(3):
        if i % 2 == 0:
            y = y[::-1] * 0.5 + 1.0
        else:
            y = y + 1.0
    return y[0] + 2.0 * y[1]


def mix2_scalar_list_elem(a):
    y = np.array([a, 2.0 * a, a * a])
    for i in range(2):
        y = y[1] + y
    return np.sum(y)


# -- more of the math module and NumPy's scalar functions -----------------------------------


def num_floor_ceil(a):
    return math.floor(a * 3.0) * a + math.ceil(a) * a + np.floor(a * 3.0) * a


def num_trunc_fmod(a):
    return math.trunc(a * 3.0) * a + math.fmod(a, 0.3) * a


def num_remainder_m(a):
    return math.remainder(a, 0.5) * a


def num_divmod_b(a):
    q, r = divmod(a, 0.3)
    return q * a + r * a


def num_fsum_m(a):
    return math.fsum([a, a * a, 1.0])


def num_sign_m(a):
    return np.sign(a) * a + math.copysign(1.0, a) * a


def num_log_base_active(a, b):
    return math.log(b, a)


def num_pow_math_active(a, b):
    return math.pow(b, a) + math.pow(a, b)


def num_float_power(a):
    return np.float_power(a, 2.5)


def num_logaddexp_s(a):
    return np.logaddexp(a, 0.0) + np.logaddexp2(a, 1.0)


def num_sinc_heaviside(a):
    return np.sinc(a) + np.heaviside(a, 0.5) * a


def num_gamma_like(a):
    return math.lgamma(a + 1.0) + math.gamma(a + 1.0)


def num_erfc_m(a):
    return math.erfc(a) + math.log1p(a)


def num_cbrt_m(a):
    return np.cbrt(a) * a


def num_dist_m(a, b):
    return math.dist((a, b), (0.0, 1.0))


def num_prod_m(a):
    return math.prod([a, a, 2.0])


def num_np_scalar_funcs(a):
    return np.exp2(a) + np.log2(a) + np.expm1(a) + np.deg2rad(a) + np.rad2deg(a)


def num_clip_scalar(a):
    return np.clip(a, 0.0, 1.0) * a + min(max(a, 0.0), 1.0)


def num_hypot3(a, b):
    return math.hypot(a, b, 1.0)


def num_atan2_np_args(a, b):
    return np.arctan2(a, b) * math.atan2(b, a)


# -- adversarial: overlapping writes, element swaps, differences in a loop -----------------


def overlap_shift_write(x):
    y = x * 1.0
    y[1:] = y[:-1]
    return y[0] + 2.0 * y[1] + 3.0 * y[2] + 4.0 * y[3]


def overlap_shift_write_loop(x):
    y = x * 1.0
    for i in range(2):
        y[1:] = y[:-1] * 0.5
    return y[0] + 2.0 * y[1] + 3.0 * y[2] + 4.0 * y[3]


def overlap_reverse_write(x):
    y = x * 1.0
    y[:] = y[::-1]
    return y[0] + 2.0 * y[1]


def overlap_reverse_write_loop(x):
    y = x * 1.0
    for i in range(3):
        y[:] = y[::-1] + y * 0.5
    return y[0] + 2.0 * y[1]


def overlap_diff_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y[1:] - y[:-1]
    return np.sum(y * y)


def overlap_append_loop(x):
    y = x[:1] * 1.0
    for i in range(3):
        y = np.append(y, y[-1] * x[i + 1])
    return np.sum(y)


def overlap_elem_swap(x):
    y = x * 1.0
    y[0], y[1] = y[1], y[0] * 2.0
    return y[0] + 3.0 * y[1]


def overlap_elem_swap_loop(x):
    y = x * 1.0
    for i in range(3):
        y[i], y[i + 1] = y[i + 1] * 0.5, y[i]
    return y[0] + 2.0 * y[1] + 3.0 * y[2] + 4.0 * y[3]


def overlap_row_swap(m):
    y = m * 1.0
    y[[0, 1]] = y[[1, 0]]
    return np.sum(y * np.arange(12.0).reshape(3, 4))


# -- adversarial: chains of arithmetic copies, written (adjoints must not share) ----------


def copies_read_in_loop(x):
    y = x * 1.0
    t = 0.0
    for i in range(3):
        t = t + y[i] * x[i + 1]
    return t + np.sum(y)


def copies_written_in_loop(x):
    y = x + 0.0
    z = y * 1.0
    for i in range(3):
        z[i + 1] = z[i] * 0.5 + y[i]
    return np.sum(z * y)


def copies_chain_written(x):
    y = x
    z = y / 1.0
    z[0] = 0.0
    w = z * 1.0
    w[1] = x[0]
    return np.sum(w * y) + np.sum(z)


def copies_round_robin(x):
    a = x * 1.0
    b = a * 1.0
    c = b * 1.0
    c[0] = b[1]
    b[1] = a[2]
    a[2] = c[3]
    return np.sum(a * b * c)


def copies_rebound_in_loop(x):
    a = x * 1.0
    for i in range(3):
        b = a * 1.0
        b[i] = a[i + 1] * a[i]
        a = b
    return np.sum(a)


def copies_accumulate_and_zero(x):
    acc = x * 0.0
    for i in range(3):
        acc = acc + x
        acc[i] = 0.0
    return np.sum(acc * x)


# -- small algorithms: sorting by swaps, running max, argmax, matmul by hand -----------------


def algo_bubble(x):
    y = x * 1.0
    n = len(y)
    for i in range(n):
        for j in range(n - 1 - i):
            if y[j] > y[j + 1]:
                t = y[j]
                y[j] = y[j + 1]
                y[j + 1] = t
    return np.sum(y * np.arange(4.0))


def algo_bubble_tuple(x):
    y = x * 1.0
    for i in range(4):
        for j in range(3 - i):
            if y[j] > y[j + 1]:
                y[j], y[j + 1] = y[j + 1], y[j]
    return np.sum(y * np.arange(4.0))


def algo_running_max(x):
    m = x[0]
    for i in range(1, len(x)):
        m = max(m, x[i])
    return m * m


def algo_argmax_index(x):
    return x[np.argmax(x)] * x[int(np.argmin(x))]


def algo_computed_index(x):
    i = int(np.sum(x) * 2.0) % 4
    return x[i] * x[i - 1]


def algo_matmul_by_hand(m):
    out = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            s = 0.0
            for k in range(4):
                s = s + m[i, k] * m[j, k]
            out[i, j] = s
    return np.sum(out * np.arange(9.0).reshape(3, 3))


def algo_loop_rebind_param_slice(x):
    t = 0.0
    for i in range(len(x) - 1):
        x = x[1:] * 1.5
        t = t + np.sum(x)
    return t


def algo_selection_min(x):
    y = x * 1.0
    total = 0.0
    for k in range(3):
        j = int(np.argmin(y))
        total = total + y[j] * (k + 1.0)
        y[j] = 100.0
    return total


# -- augmented assignment with active operands, on slices and elements --------------------


def inplace_active_mul(x):
    y = x * 2.0
    y *= x
    return np.sum(y)


def inplace_active_div(x):
    y = x * 2.0
    y /= x * x + 3.0
    return np.sum(y)


def inplace_active_pow(x):
    y = x * 2.0 + 3.0
    y **= 2
    y -= x
    return np.sum(y)


def inplace_self(x):
    y = x * 2.0
    y *= y
    y += y
    return np.sum(y)


def inplace_slice_active(x):
    y = x * 2.0
    y[1:] *= x[:-1]
    y[0] /= x[1] + 3.0
    return np.sum(y * y)


def inplace_slice_pow(x):
    y = x * 1.0
    y[::2] **= 2
    return np.sum(y * x)


def inplace_slice_self(x):
    y = x * 1.0
    y[1:] += y[:-1]
    return np.sum(y * y)


def inplace_slice_self_loop(x):
    y = x * 1.0
    for i in range(2):
        y[1:] *= y[:-1]
    return np.sum(y)


def inplace_elem_loop_self(a):
    y = np.array([a, 1.0, 2.0])
    for i in range(2):
        y[i + 1] *= y[i]
        y[i] += y[i + 1]
    return np.sum(y)


def inplace_scalar_chain(a):
    t = a
    t *= t
    t += a
    t /= a + 1.0
    t **= 2
    t -= a * a
    return t


def inplace_matrix_col(m):
    y = m * 1.0
    y[:, 1] *= m[:, 0]
    y[1, :] += m[2, :] * y[0, :]
    return np.sum(y * y)


# -- adversarial: a name rebound to a view of itself (y = y[1:], y = y.T) in a loop or branch


def rebind_view_rev(x):
    y = x * 1.0
    for i in range(3):
        y = y[::-1]
    return y[0] + 2.0 * y[1]


def rebind_view_T(m):
    y = m * 1.0
    for i in range(3):
        y = y.T
    return np.sum(y * np.arange(12.0).reshape(y.shape))


def rebind_view_row(m):
    y = m * 1.0
    for i in range(1):
        y = y[1]
    return np.sum(y * y)


def rebind_view_none(x):
    y = x * 1.0
    for i in range(1):
        y = y[None]
    return np.sum(y * y)


def rebind_view_branch(x):
    y = x * 1.0
    if x[0] > 0:
        y = y[1:]
    return np.sum(y * y)


def rebind_view_while(x):
    y = x * 1.0
    while y.size > 2:
        y = y[1:]
    return np.sum(y * y)


def rebind_view_reshape(x):
    y = x * 1.0
    for i in range(1):
        y = y.reshape(2, 2)
    return np.sum(y * np.arange(4.0).reshape(2, 2))


def rebind_view_scaled_then_slice(x):
    y = x * 1.0
    for i in range(2):
        y = y[1:]
        y = y * 2.0
    return np.sum(y * y)


def rebind_view_mul_slice(x):
    y = x * 1.0
    for i in range(2):
        y = 2.0 * y[1:]
    return np.sum(y * y)


def rebind_view_param_slice_loop(x):
    t = 0.0
    for i in range(2):
        x = x[1:]
        t = t + np.sum(x * x)
    return t


def rebind_view_param_T_branch(m):
    if m[0, 0] > 0:
        m = m.T
    return np.sum(m * np.arange(12.0).reshape(m.shape))


def _rebind_view_tail(v):
    return v[1:]


def rebind_view_helper_view_loop(x):
    y = x * 1.0
    for i in range(2):
        y = _rebind_view_tail(y)
    return np.sum(y * y)


def rebind_view_two_names_view_loop(x):
    y = x * 1.0
    for i in range(2):
        z = y[1:]
        y = z
    return np.sum(y * y)


# -- adversarial: a name rebound with another rank in a branch or loop ----------------------


def rerank_br_sum(x):
    y = x * 2.0
    if x[0] > 0:
        y = np.sum(y)
    return np.sum(y * y)


def rerank_br_elem(x):
    y = x * 2.0
    if x[0] > 0:
        y = y[2]
    return np.sum(y * y)


def rerank_br_stack(x):
    y = x * 2.0
    if x[0] > 0:
        y = np.stack([y, y * x])
    return np.sum(y * y)


def rerank_loop_sum_rank(x):
    y = x * 2.0
    for i in range(2):
        y = np.sum(y) * x
    return np.sum(y)


def rerank_loop_mean_keep(m):
    y = m * 1.0
    for i in range(2):
        y = y - np.mean(y, axis=0)
    return np.sum(y * y * m)


def rerank_loop_outer_growth(x):
    y = x[:2] * 1.0
    for i in range(1):
        y = np.outer(y, y)
    return np.sum(y * np.arange(4.0).reshape(2, 2))


# -- adversarial: a rule evaluated where its derivative is infinite, with a zero factor ------
# Each function is smooth at the input (constant in the affected entries or terms), so the
# derivative is finite; a chain rule that multiplies 0 by inf gives NaN instead.


def where_sqrt(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def where_pow_half(x):
    return np.sum(np.where(x > 0, x ** 0.5, 0.0))


def where_arcsin(x):
    return np.sum(np.where(np.abs(x) < 1.0, np.arcsin(x), x))


def where_reciprocal(x):
    y = x * (x > 0)
    return np.sum(np.where(y != 0, 1.0 / y, 0.0))


def where_log_times(x):
    return np.sum(np.where(x > 0, np.log(x), 0.0) * x)


def maximum_sqrt(x):
    return np.sum(np.maximum(x, 0.0) ** 0.5)


def clip_sqrt(x):
    return np.sum(np.sqrt(np.clip(x, 0.0, None)))


def where_then_sqrt(x):
    return np.sum(np.sqrt(np.where(x > 0, x, 0.0)))


def sqrt_zero_term(a):
    return a + np.sqrt(a * 0.0)


def math_sqrt_zero_term(a):
    return a + math.sqrt(a * 0.0)


def pow_half_zero_term(a):
    return a + (a * 0.0) ** 0.5


def np_power_zero_term(a):
    return a + np.power(a * 0.0, 1.5)


def cbrt_zero_term(a):
    return a + np.cbrt(a * 0.0)


def arcsin_at_one(a):
    return a + np.arcsin(a * 0.0 + 1.0)


def sqrt_of_relu(a):
    return math.sqrt(max(a, 0.0)) + a


def hypot_zero_term(a):
    return a + math.hypot(a * 0.0, 0.0)


# -- degenerate points the rules special-case, or not ------------------------------------------


def degenerate_std_const(x):
    return np.std(x * 0.0 + 1.0) + np.sum(x)


def degenerate_std_const_axis(m):
    return np.sum(np.std(m[:, :1] * 0.0 + m[0, 0] * 0.0, axis=1)) + np.sum(m)


def degenerate_norm_zero(x):
    return np.linalg.norm(x - x) + np.sum(x)


def degenerate_arccos_one(a):
    return np.arccos(a * 0.0 + 1.0) + a


def degenerate_arccosh_one(a):
    return np.arccosh(a * 0.0 + 1.0) + a


def degenerate_pow_15_zero(a):
    return (a * 0.0) ** 1.5 + a


def degenerate_x_pow_x_zero(a):
    z = a * 0.0
    return a + np.exp(z * np.log(z + 1.0))


def degenerate_log_zero_times(a):
    z = a * 0.0
    return a + z * z * 3.0


def degenerate_reciprocal_of_sq(x):
    return np.sum(1.0 / (x * x + 1.0))


def degenerate_sqrt_sum_sq_zero(x):
    return np.sqrt(np.sum((x - x) ** 2)) + np.sum(x)


def degenerate_hypot_np_zero(x):
    return np.sum(np.hypot(x * 0.0, x * 0.0)) + np.sum(x)


def degenerate_math_sqrt_var(a):
    return math.sqrt(abs(a - a)) + a


# -- the input table ----------------------------------------------------------------------------

CASES = {}


def _case(fn, *args):
    CASES[fn.__name__] = (fn, args)


for _fn in [identity, negate, unary_plus, add_const_right, add_const_left, add_int,
            sub_const_right, sub_const_left, sub_self, add_self, mul_const, mul_const_left,
            div_const, div_by, div_self, square_pow, square_mul, square_np, square_float_pow,
            square_builtin_pow, square_math_pow, square_np_power, cube_pow, cube_mul,
            cube_grouped, root_pow, root_math, root_np, inverse_pow, const_pow, self_pow,
            rebind_param, alias_then_rebind, name_like_adjoint, name_like_tangent,
            int_division_mix, modulo_const, floor_division_value, polynomial, horner,
            constant_output, zero_times, long_chain, sin_math, sin_np, exp_math, exp_np,
            exp_exp, log_math, log_np, log_base_math, log2_both, log10_both, tanh_math,
            tanh_np, tanh_by_exp, sigmoid, softplus_math, softplus_np, expm1_math,
            atan2_math, atan2_np, hypot_math, hypot_np, inverse_trig, inverse_trig_np,
            hyperbolic_math, hyperbolic_np, erf_math, degrees_math, fabs_math, abs_builtin,
            abs_np, copysign_math, pi_constant, e_constant, float_cast, max_builtin,
            min_builtin, max_np, trig_identity, cos_sin_mixed, branch_simple,
            branch_taken_other, branch_nested, branch_elif, branch_elif_zero, branch_noisy,
            branch_serial, branch_compare_chain, branch_not, early_return, early_return_else,
            early_return_value, ternary, branch_assigns_one, branch_variable_defined_in_both,
            branch_rank_change, for_static, for_power, for_power_start, for_uses_index,
            for_uses_index_pow, for_reversed, for_step, for_nested, for_nested_dependent,
            for_conditional_body, branch_around_loop, for_cube_body, for_break, for_continue,
            for_early_return, while_counter, while_counter_aug, while_value, while_np_abs,
            while_break, while_with_else_return, for_over_tuple_const, for_over_global_tuple,
            for_scalar_to_vector, write_scalar_into_array, helper_default,
            helper_default_passed, helper_keyword, helper_keyword_first, helper_some_defaults,
            helper_all_defaults, helper_tuple_result, helper_tuple_index, helper_branchy,
            helper_same_arg_twice, nested_def_default, closure_reads_local, lambda_local,
            lambda_immediate, global_constant, global_attribute, global_tuple_item, list_sum,
            list_sum_builtin, list_index, list_negative_index, list_append,
            list_append_sum_loop, list_comprehension, generator_sum, nested_tuple_unpack,
            star_unpack, array_from_list_var, multiple_return, array_scalar_broadcast,
            array_from_scalar_ones, array_full, array_linspace, aug_mul_self, aug_add,
            aug_sub, aug_div, aug_pow, aug_in_loop, ag_dot_scalar_vector]:
    _case(_fn, A)

# a negative scalar takes the other side of every branch
for _fn in [branch_simple, branch_elif, branch_elif_zero, branch_noisy, branch_serial,
            early_return, early_return_else, ternary, branch_nested, abs_builtin, fabs_math,
            helper_branchy]:
    CASES[_fn.__name__ + "@neg"] = (_fn, (NEG,))

for _fn, _args in [(saxpy, (A, B, NEG)), (saxpy_steps, (A, B, NEG)), (saxpy_rebind, (A, B, NEG)),
                   (chained_ops, (A, B)), (two_arg_mix, (A, B)), (unused_second, (A, B)),
                   (max_of_three, (A, B)), (sin_over, (A, B)), (branch_two_args, (A, B)),
                   (branch_two_args, (B, A)), (branch_and, (A, B)), (branch_or, (A, B)),
                   (branch_or, (NEG, B)), (branch_on_int, (A, N)), (for_count, (A, N)),
                   (for_then_if, (A, 2)), (if_then_for, (A, 2)), (two_loops, (A, 2)),
                   (helper_call, (A, B)), (helper_nested_calls, (A, B, NEG)),
                   (helper_two_levels, (A, B)), (helper_in_branch, (A, B)),
                   (helper_in_branch, (B, A)), (helper_in_loop, (A, 2)),
                   (helper_keyword_active, (A, B)), (nested_def, (A, 2)),
                   (closure_reads_param, (A, B)), (lambda_closure, (A, B)),
                   (recursive_power, (A, N)), (tuple_pack_unpack, (A, B)),
                   (tuple_swap, (A, B)), (tuple_index, (A, B, NEG)), (dict_literal, (A, B)),
                   (dict_call, (A, B)), (array_from_scalars, (A, B)),
                   (ternary_assign, (A, B)), (ternary_assign, (B, A)),
                   (tuple_param, ((A, B, NEG),)), (tuple_param_first_only, ((A, B, NEG),)),
                   (list_param, ([A, B],)),
                   (dict_param, ({'a': A, 'b': B, 'c': NEG},)),
                   (dict_nested_param, ({'i': {'j': A, 'k': B}},))]:
    _name = _fn.__name__
    CASES[_name if _name not in CASES else _name + "@swap"] = (_fn, _args)

for _fn in [branch_on_array_sum, branch_on_element, for_over_array, for_over_range_len,
            for_over_range_shape, for_over_range_np_shape, for_over_range_size, while_over_len,
            for_enumerate, for_running_product, for_recurrence_pairs, for_vector_state,
            write_copy_loop, write_rows_loop, write_accumulate, write_shifted,
            write_constant_element, write_own_argument, write_after_square, write_slice,
            write_aug_element, write_matrix_element, helper_array, helper_softmax, global_array,
            list_from_vector, list_comprehension_array, stack_from_list, array_sum,
            array_sum_of_array, array_mean, array_sum_method, array_mean_method,
            array_overwrite_param, array_len_scale, array_shape_scale, array_np_shape_scale,
            array_size_scale, array_ndim, array_first, array_last, array_slice_tail,
            array_slice_head, array_slice_step, array_slice_reverse, array_newaxis_slice,
            array_none_index, least_squares, array_of_ones_mul, array_zeros_add, array_reshape,
            array_reshape_np, array_square_spellings, array_max, array_max_method,
            array_cumsum, array_where, array_copy_then_scale, array_astype, array_dot_self,
            array_inner_outer, aug_array, aug_array_param, ag_where_rank_mix,
            ag_negative_slice, ag_concat_scalars_and_vector, ag_stack_negative_axis,
            ag_dot_vector_matrix, ag_dot_3d_vector, ag_tensordot_zero, ag_matmul_vector_both]:
    _case(_fn, VEC)

for _fn in [branch_on_array_sum, branch_on_element]:
    CASES[_fn.__name__ + "@neg"] = (_fn, (-VEC[::-1].copy(),))

_case(for_zip, VEC, VEC2)
_case(write_rnn, VEC, np.array([0.5, -0.3]))

for _fn in [for_over_rows, matrix_row, matrix_column, matrix_element, matrix_chained_index,
            matrix_transpose_attr, matrix_dot_method, matrix_shape_loop, matrix_unpack_shape,
            matmul_op, dot_call, matvec, aug_array_broadcast, ag_sum_keepdims_center,
            ag_mean_axis0_times_vector, ag_keepdims_row_vs_column, ag_std_keepdims_normalize,
            ag_prod_negative_axis, ag_where_broadcast_row, ag_where_scalar_branches,
            ag_negative_2d, ag_negative_step_2d, ag_negative_element, ag_concat_negative_axis,
            ag_stack_matrices, ag_outer_matrix_input, ag_inner_matrix_vector,
            ag_broadcast_column]:
    _case(_fn, MAT)

for _fn in [ag_inner_3d, ag_tensordot_axes_int, ag_tensordot_pairs, ag_broadcast_ranks_3,
            ag_sum_axis_tuple_keepdims, ag_max_axis_neg_keepdims, ag_transpose_negative,
            ag_swap_and_reduce]:
    _case(_fn, CUBE + 2.0 if _fn is ag_sum_axis_tuple_keepdims else CUBE)

_case(logistic_regression, MAT2[:, 0].copy(), MAT.copy(), np.array([1.0, 0.0, 1.0]), 0.1)
_case(bilinear, MAT2, MAT[0].copy(), np.array([0.2, -0.4]), SQ[:2, :2].copy(),
      np.array([0.05, -0.1]))

# the first argument's value is in a branch condition of the function: keep it positive
CASES["root_np@vector"] = (root_np, (POSV,))

# -- adversarial cases --------------------------------------------------------------------------

for _fn in [alias_scaled_copy_write, alias_plus_zero_write, alias_two_names_write,
            alias_two_names_aug, alias_copy_is_separate, alias_view_write,
            alias_view_of_view_write, alias_view_chain_slices, alias_view_aug,
            alias_mask_copy, alias_param_rebound_then_write, alias_returned_by_helper,
            helper_float_and_array, helper_returns_view, helper_loop_keyword,
            recurrence_vector_elements, recurrence_vector_reverse, recurrence_while_index,
            loop_slice_window, relu_np, relu_where, relu_mask_mul, float_of_element,
            item_of_element, sum_axis0_1d, shape_branch, len_in_arithmetic, real_attr]:
    _case(_fn, VEC)

for _fn in [alias_flatten_copy, alias_transpose_write, recurrence_matrix_rows, loop_row_index,
            double_transpose]:
    _case(_fn, MAT)

for _fn in [rank_helper_default_none, rank_helper_given, rank_rebound_in_branch,
            rank_rebound_in_sequence, rank_param_becomes_vector, rank_loop_grows,
            helper_array_and_float, helper_early_in_loop, recurrence_scalar_into_array,
            recurrence_aug_nested, recurrence_aug_add, recurrence_slice_update,
            recurrence_overwrite_element, relu_ternary, np_float64_wrap, int_cast_piecewise,
            round_piecewise, nested_ternary_loop, while_decrement, loop_carried_pair,
            scalar_and_array_result]:
    _case(_fn, A)

CASES["rank_rebound_in_branch@neg"] = (rank_rebound_in_branch, (NEG,))
CASES["relu_ternary@neg"] = (relu_ternary, (NEG,))
for _fn, _args in [(int_power_param, (A, N)), (max_of_list, (A, B)), (min_builtin_two, (A, B)),
                   (dot_of_floats, (A, B)), (continue_on_index, (A, N)), (swap_in_loop, (A, B))]:
    _case(_fn, *_args)

# the same functions at a NumPy float64 and at a 0-d array: the gradient keeps the kind
for _fn in [float64_scalar_loop, float64_into_array, float64_helper_default, square_pow,
            sin_math, branch_simple, for_power, helper_keyword, rank_helper_default_none,
            rank_rebound_in_sequence, recurrence_aug_nested, write_scalar_into_array]:
    CASES[_fn.__name__ + "@float64"] = (_fn, (np.float64(A),))
for _fn in [zero_d_array_math, zero_d_array_sum, square_pow, sin_np, for_power, exp_exp,
            write_scalar_into_array, rank_helper_default_none]:
    CASES[_fn.__name__ + "@0d"] = (_fn, (np.array(A),))

for _fn in [where_sqrt, where_pow_half, where_arcsin, where_reciprocal, where_log_times,
            maximum_sqrt, clip_sqrt, where_then_sqrt]:
    _case(_fn, VEC)
for _fn in [sqrt_zero_term, math_sqrt_zero_term, pow_half_zero_term, np_power_zero_term,
            cbrt_zero_term, arcsin_at_one, hypot_zero_term]:
    _case(_fn, A)
CASES["sqrt_of_relu@neg"] = (sqrt_of_relu, (NEG,))
_case(sqrt_of_relu, A)

for _fn in [self_slice_reverse_loop, self_slice_reverse_loop_scaled_first, self_slice_flip_loop,
            self_slice_halves_loop, self_slice_halves_while, self_slice_split_once,
            self_slice_neighbours, self_slice_neighbours_product, self_slice_straight_line]:
    _case(_fn, VEC)
_case(self_slice_scalar_built, A)
for _fn in [self_slice_in_branch, self_slice_only_loop, self_slice_while_counter,
            self_slice_through_temporary]:
    _case(_fn, VEC)
for _fn in [self_fancy_index_loop, self_newaxis_loop, self_slice_second_operand]:
    _case(_fn, VEC)
_case(self_ellipsis_index_loop, MAT)

for _fn in [mix_helper_global_default, mix_helper_self_slice, mix_helper_shapes,
            mix_loop_cond_update, mix_loop_break_arrays, loop_roll_by_hand, loop_stack_elems,
            loop_array_elems, loop_where_self, loop_maximum_self, loop_dot_self,
            loop_outer_self, loop_cumsum_self, loop_div_self, loop_pow_self, loop_neg_self,
            loop_sub_self]:
    _case(_fn, VEC)
for _fn in [mix_helper_loop_twice, mix_nested_break, mix_early_return_loop_write, mix_helper_flag]:
    _case(_fn, A)
for _fn in [mix_inline_clash, mix_helper_kw_order]:
    _case(_fn, A, B)
_case(loop_sum_axis_self, MAT)
for _fn in [copy_pos, copy_div, copy_sub, copy_asarray, copy_array, copy_astype, copy_copy,
            copy_method_copy, copy_real, copy_reshape_copy, copy_ascontig, copy_float_mul,
            copy_add_zeros, copy_where_true, copy_abs_pos, copy_max_same, copy_clip,
            copy_squeeze, copy_aug_on_alias]:
    _case(_fn, VEC)
for _fn in [view_slice, view_expand, view_loop, view_helper]:
    _case(_fn, VEC)
for _fn in [view_T, view_ravel, view_transpose, view_diag]:
    _case(_fn, MAT)
_case(view_two_step_scalar, A)
for _fn in [opt_fold_zero_write, opt_fold_pow1, opt_fold_sub_self, opt_keep8, opt_cse,
            opt_dead_store, opt_reuse_temp]:
    _case(_fn, VEC)
for _fn in [opt_fold_pow0_shape, opt_fold_zero_shape, opt_keep1, opt_keep2, opt_keep3,
            opt_keep4, opt_keep5, opt_keep6, opt_keep7]:
    _case(_fn, MAT)
_case(empty_vector_loop, VEC)
_case(zero_trip_while, A)
CASES["zero_trip_for@0"] = (zero_trip_for, (A, 0))
CASES["zero_trip_for@2"] = (zero_trip_for, (A, 2))
CASES["zero_trip_write@0"] = (zero_trip_write, (VEC, 0))
CASES["zero_trip_write@2"] = (zero_trip_write, (VEC, 2))
for _fn, _args in [(for_count, (A, 0)), (helper_in_loop, (A, 0)), (two_loops, (A, 0)),
                   (nested_def, (A, 0)), (for_then_if, (A, 0)), (int_power_param, (A, 0))]:
    CASES[_fn.__name__ + "@0"] = (_fn, _args)
for _fn in [iter_row_write, iter_row_aug, iter_row_aug_active, enum_row_write, zip_row_write,
            iter_row_rebind]:
    _case(_fn, MAT)
for _fn in [iter_elem_write_param_copy, mix2_helper_shrink_loop, mix2_helper_rev_loop,
            mix2_swap_arrays, mix2_copy_write_loop, mix2_cond_self_slice_loop]:
    _case(_fn, VEC)
_case(mix2_scalar_list_elem, A)
for _fn in [num_floor_ceil, num_trunc_fmod, num_remainder_m, num_divmod_b, num_fsum_m,
            num_sign_m, num_float_power, num_logaddexp_s, num_sinc_heaviside, num_gamma_like,
            num_erfc_m, num_cbrt_m, num_prod_m, num_np_scalar_funcs, num_clip_scalar]:
    _case(_fn, A)
for _fn in [num_log_base_active, num_pow_math_active, num_dist_m, num_hypot3, num_atan2_np_args]:
    _case(_fn, A, B)
for _fn in [overlap_shift_write, overlap_shift_write_loop, overlap_reverse_write,
            overlap_reverse_write_loop, overlap_diff_loop, overlap_append_loop,
            overlap_elem_swap, overlap_elem_swap_loop]:
    _case(_fn, VEC)
_case(overlap_row_swap, MAT)
for _fn in [copies_read_in_loop, copies_written_in_loop, copies_chain_written,
            copies_round_robin, copies_rebound_in_loop, copies_accumulate_and_zero]:
    _case(_fn, VEC)
for _fn in [algo_bubble, algo_bubble_tuple, algo_running_max, algo_argmax_index,
            algo_computed_index, algo_loop_rebind_param_slice, algo_selection_min]:
    _case(_fn, VEC)
_case(algo_matmul_by_hand, MAT)
for _fn in [degenerate_std_const, degenerate_norm_zero, degenerate_reciprocal_of_sq,
            degenerate_sqrt_sum_sq_zero, degenerate_hypot_np_zero]:
    _case(_fn, VEC)
for _fn in [degenerate_arccos_one, degenerate_arccosh_one, degenerate_pow_15_zero,
            degenerate_x_pow_x_zero, degenerate_log_zero_times, degenerate_math_sqrt_var]:
    _case(_fn, A)
_case(degenerate_std_const_axis, MAT)
for _fn in [inplace_active_mul, inplace_active_div, inplace_active_pow, inplace_self,
            inplace_slice_active, inplace_slice_pow, inplace_slice_self, inplace_slice_self_loop]:
    _case(_fn, VEC)
for _fn in [inplace_elem_loop_self, inplace_scalar_chain]:
    _case(_fn, A)
_case(inplace_matrix_col, MAT)
for _fn in [rebind_view_rev, rebind_view_none, rebind_view_branch, rebind_view_while,
            rebind_view_reshape, rebind_view_scaled_then_slice, rebind_view_mul_slice]:
    _case(_fn, VEC)
for _fn in [rebind_view_T, rebind_view_row]:
    _case(_fn, MAT)
for _fn in [rebind_view_param_slice_loop, rebind_view_helper_view_loop,
            rebind_view_two_names_view_loop]:
    _case(_fn, VEC)
_case(rebind_view_param_T_branch, MAT)
for _fn in [rerank_br_sum, rerank_br_elem, rerank_br_stack, rerank_loop_sum_rank,
            rerank_loop_outer_growth]:
    _case(_fn, VEC)
for _fn in [rerank_br_sum, rerank_br_elem, rerank_br_stack]:
    CASES[_fn.__name__ + "@neg"] = (_fn, (-VEC,))
_case(rerank_loop_mean_keep, MAT)
