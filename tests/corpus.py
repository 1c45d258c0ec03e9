"""The shared corpus: straight-line functions, each naming the feature it tests.

Argument names choose the inputs (the Tangent convention); `conftest.py` builds
them, and every value is float64:

    a, b, c     Python floats, positive and away from 1: 0.7, 1.6, 1.3
    s, t        Python floats in (-1, 1), away from 0:   0.35, -0.6
    r           a NumPy float64 scalar:                   0.9
    h           a 0-d float64 array:                      1.1
    x, y, z     vectors of shape (4,), entries in [0.5, 1.5]
    v, w        vectors of shape (4,), entries in +-[0.2, 0.8]
    u           a vector of shape (1,), entries in [0.5, 1.5]
    A, B        matrices of shape (3, 4), entries in [0.5, 1.5]
    C           a matrix of shape (4, 3), entries in [0.5, 1.5]
    P           a matrix of shape (4, 4), entries in [0.5, 1.5]
    R           a row of shape (1, 4), entries in [0.5, 1.5]
    K           a column of shape (3, 1), entries in [0.5, 1.5]
    X           a design matrix of shape (5, 4), entries in +-[0.2, 0.8]
    Y           targets of shape (5,), entries in [0.5, 1.5]
    n, k        Python ints 3 and 2, never differentiated

Inputs of the same shape differ by more than 0.05 in every entry, so `min`,
`max` and `abs` are differentiated away from their kinks. A parameter with a
default value is not passed: the default applies (and a float default is still
differentiated, by name). Every float parameter is differentiated, one at a
time and all together. Functions calling `math.*` are left out of the autograd
oracle, which cannot trace them.

The seed examples come first: seed 002's exp(exp(x) + exp(x)**2) + sin(...), the
lecture's sin(x + y) / (x * y), and linear regression (the lecture's parameters A
are the weight vector `w` here, so that `A` keeps meaning a 3x4 matrix).
"""
import math

import numpy as np

WEIGHTS = np.array([0.5, -1.0, 2.0, 0.25])
SCALE = 2.0

# -- seed examples -------------------------------------------------------------


def seed002(s):
    """Seed 002: exp(exp(x) + exp(x)**2) + sin(exp(x) + exp(x)**2), repeated exp(x)."""
    return np.exp(np.exp(s) + np.exp(s) ** 2) + np.sin(np.exp(s) + np.exp(s) ** 2)


def seed002_lowered(s):
    """Seed 002 written as the blog's intermediate variables a..f."""
    a = np.exp(s)
    b = a ** 2
    c = a + b
    d = np.exp(c)
    e = np.sin(c)
    f = d + e
    return f


def seed002_vector(w):
    """Seed 002 elementwise over a vector, summed."""
    return np.sum(np.exp(np.exp(w) + np.exp(w) ** 2) + np.sin(np.exp(w) + np.exp(w) ** 2))


def lecture_sin_ratio(a, b):
    """Lecture 2.10: sin(x + y) / (x * y) on two scalars."""
    return np.sin(a + b) / (a * b)


def lecture_sin_ratio_annotated(a: float, b: float):
    """Lecture 2.10 with `float` annotations (scalar parameters declared)."""
    return np.sin(a + b) / (a * b)


def linear_regression(w, X, Y):
    """Lecture 3.4: E = (X @ A - Y) @ (X @ A - Y), matrix-vector products."""
    E = (X @ w - Y) @ (X @ w - Y)
    return E


def linear_regression_mse(w, X, Y):
    """Lecture 3.4, mean squared error form: np.mean((X @ A - Y) ** 2)."""
    D = X @ w - Y
    return np.mean(D ** 2)


def linear_regression_bias(w, a: float, X, Y):
    """Linear regression with a scalar bias broadcast over the predictions."""
    return np.mean((X @ w + a - Y) ** 2)


# -- scalars ---------------------------------------------------------------------


def scalar_arithmetic(a, b):
    """Scalar + - * / ** and unary minus."""
    return a * b + a / b - b ** 2 - -a + (-b) * 3.0


def scalar_power_both_active(a, b):
    """a ** b with both base and exponent differentiated."""
    return a ** b + b ** 0.5


def scalar_same_operand(a):
    """One value on both sides of an operator: a * a, a ** a, a / a."""
    return a * a + a ** a + a / (a + 1.0) - a - a


def scalar_numpy_chain(s):
    """NumPy hyperbolic and inverse trigonometric functions on a scalar."""
    return np.tanh(np.sinh(s)) + np.cosh(s) * np.arctan(s)


def scalar_logs_and_roots(a, s):
    """np.log, np.log1p, np.expm1, np.sqrt on scalars."""
    return np.log(a) + np.log1p(a) * np.expm1(s) + np.sqrt(a)


def scalar_arcsin_arccos(s, t):
    """np.arcsin and np.arccos inside (-1, 1)."""
    return np.arcsin(s) * np.arccos(t) + np.tan(t)


def scalar_arctan2_hypot(s, a, b):
    """np.arctan2 and np.hypot of two scalars."""
    return np.arctan2(s, a) + np.hypot(a, b) * np.arctan2(a, s)


def math_functions(a, b, s):
    """math.sin, math.exp, math.log, math.sqrt, math.cos, math.tanh on floats."""
    return math.sin(a) * math.exp(b) + math.log(a) - math.sqrt(b) + math.cos(s) * math.tanh(s)


def math_two_argument(s, a, b):
    """math.atan2, math.hypot, math.pow and math.log with a base."""
    return math.atan2(s, a) + math.hypot(a, b) + math.pow(a, b) + math.log(b, 2.0)


def math_inverse_functions(s, t, a):
    """math.asin, math.acos, math.atan, math.log1p, math.expm1."""
    return math.asin(s) * math.acos(t) + math.atan(a) + math.log1p(a) - math.expm1(t)


def math_on_array_element(x):
    """math.exp of an indexed element, mixed with an array sum."""
    return math.exp(x[1]) * np.sum(x) + math.sin(x[0])


def builtin_min_max_abs(a, b, s, t):
    """Builtins max, min and abs on two-argument scalars."""
    return max(a, b) * min(s, t) + abs(t) + max(s, t) - min(a, b) * abs(s)


def numpy_scalar_input(r, a):
    """A NumPy float64 scalar argument: its gradient is a NumPy float64."""
    return np.sin(r) * a + r ** 2


def zero_dim_array_input(h, x):
    """A 0-d array argument broadcast against a vector: its gradient is 0-d."""
    return np.sum(h * x + np.exp(h))


def numpy_constant(a):
    """A NumPy constant (np.pi) as a coefficient."""
    return np.pi * a ** 2 + np.e


# -- arrays -------------------------------------------------------------------


def vector_elementwise(x, y):
    """Elementwise sin, cos, exp, division on vectors, then np.sum."""
    return np.sum(np.sin(x) * np.cos(y) + np.exp(-x) / y)


def vector_more_ufuncs(x, y, z):
    """np.square, np.reciprocal, np.exp2, np.log2, np.log10 on vectors."""
    return np.sum(np.square(x) + np.reciprocal(y) + np.exp2(z) + np.log2(x) * np.log10(y))


def vector_min_max_abs(x, y, v, w):
    """np.maximum, np.minimum and np.abs elementwise; builtin abs on an array."""
    return np.sum(np.maximum(x, y) * np.minimum(v, w) + np.abs(w) + abs(v) * x)


def vector_power_same(x):
    """x ** x elementwise: the same array as base and exponent."""
    return np.sum(x ** x)


def dot_product(x, y):
    """np.dot of two vectors."""
    return np.dot(x, y)


def vector_matmul(x, y, z):
    """x @ (y * z): vector @ vector."""
    return x @ (y * z)


def matrix_vector(A, x):
    """A @ x followed by tanh and a sum."""
    return np.sum(np.tanh(A @ x))


def matrix_matrix(A, C):
    """A @ C (3x4 @ 4x3), squared and summed."""
    return np.sum((A @ C) ** 2)


def quadratic_form(x, P):
    """x @ P @ x: a chained product, x used twice."""
    return x @ P @ x


def transpose_matmul(A, B):
    """A.T @ B (the .T attribute on a matrix)."""
    return np.sum(A.T @ B)


def numpy_dot_matrix(A, C, x):
    """np.dot on matrix @ matrix and matrix @ vector."""
    return np.sum(np.dot(A, C)) + np.sum(np.dot(A, x) ** 2)


def method_sum_and_transpose(A, C):
    """The .sum() method and .T, mixed."""
    return (A.T * C).sum() + A.sum() * C.T.sum()


def method_mean(x, y):
    """The .mean() method."""
    return x.mean() * y.sum()


def vector_transpose_is_identity(x, y):
    """x.T on a vector is x itself."""
    return np.sum(x.T * y)


def double_negation(x, y):
    """Unary minus on arrays and on a result: -sum(-x * y)."""
    return -np.sum(-x * y)


def log_sum_exp(w):
    """log(sum(exp(w))): a reduction between two elementwise functions."""
    return np.log(np.sum(np.exp(w)))


def two_layer_network(w, A, C):
    """A small network: tanh(A @ w), then C @ h, squared error."""
    h = np.tanh(A @ w)
    o = C @ h
    return np.sum((o - 1.0) ** 2)


def logistic_loss(w, X, Y):
    """Logistic loss: mean(log1p(exp(-Y * (X @ w))))."""
    return np.mean(np.log1p(np.exp(-Y * (X @ w))))


def size_one_vector(u, x):
    """A shape-(1,) vector broadcast against a shape-(4,) vector."""
    return np.sum(u * x + x / u - u ** 2)


# -- broadcasting ------------------------------------------------------------------


def broadcast_vector_scalar(x, a, b):
    """Vector + scalar and scalar - vector: the scalar's adjoint sums."""
    return np.sum((x + a) * (b - x))


def broadcast_vector_scalar_mul_div(x, y, a, b, c):
    """Scalar * vector, vector / scalar, scalar / vector."""
    return np.sum(a * x + x / b + c / y)


def broadcast_matrix_row_vector(A, x, y):
    """Matrix (3, 4) with a 1-D row vector (4,)."""
    return np.sum(np.sin(A + x) * (A - y))


def broadcast_matrix_row(A, R):
    """Matrix (3, 4) times a (1, 4) row: a size-1 leading axis."""
    return np.sum((A * R) ** 2)


def broadcast_matrix_column(A, K):
    """Matrix (3, 4) minus a (3, 1) column: a size-1 trailing axis."""
    return np.sum(np.exp(-(A - K) ** 2))


def broadcast_outer(R, K):
    """(1, 4) with (3, 1): both operands grow to (3, 4)."""
    return np.sum(R * K + R / K)


def broadcast_matrix_scalar(A, a):
    """Matrix with a scalar: A * a + a."""
    return np.sum(A * a + a - A)


def divide_matrix_by_vector(A, x):
    """Broadcasting trap: A / x, the divisor's adjoint reduces to (4,)."""
    return np.sum(A / x)


def divide_vector_by_matrix(x, A):
    """Broadcasting trap: x / A, the numerator's adjoint reduces to (4,)."""
    return np.sum(np.sin(x / A))


def divide_by_column(A, K):
    """Broadcasting trap: A / K with K of shape (3, 1)."""
    return np.sum(A / K)


def divide_column_by_matrix(K, A):
    """Broadcasting trap: K / A, K of shape (3, 1)."""
    return np.sum(K / A)


def divide_scalar_and_matrix(a, A):
    """Broadcasting trap: a / A and A / a with a scalar."""
    return np.sum(a / A + A / a)


def divide_outer(R, K):
    """Broadcasting trap: (1, 4) / (3, 1), both adjoints reduce."""
    return np.sum(np.cos(R / K))


def power_matrix_by_vector(A, x):
    """Broadcasting trap: A ** x, the exponent's adjoint reduces to (4,)."""
    return np.sum(A ** x)


def power_vector_by_matrix(x, A):
    """Broadcasting trap: x ** A, the base's adjoint reduces to (4,)."""
    return np.sum(x ** A)


def power_column_row(K, R):
    """Broadcasting trap: K ** R, (3, 1) ** (1, 4)."""
    return np.sum(K ** R)


def power_scalar_and_matrix(a, A):
    """Broadcasting trap: A ** a and a ** A with a scalar."""
    return np.sum(A ** a + a ** A)


def np_power_vector_scalar(x, a):
    """Broadcasting trap through np.power(vector, scalar)."""
    return np.sum(np.power(x, a))


def broadcast_binary_ufuncs(A, K, R):
    """np.arctan2 and np.hypot with broadcast (3, 1) and (1, 4) operands."""
    return np.sum(np.arctan2(A, K) + np.hypot(R, A))


def broadcast_min_max(A, x, K):
    """np.maximum / np.minimum between a matrix and a vector or a column."""
    return np.sum(np.maximum(A, x) + np.minimum(A, K))


# -- assignment forms --------------------------------------------------------------


def reassignment(x, y):
    """A parameter reassigned from itself: y = y * 2, then again."""
    y = y * 2
    y = np.sin(y) + x
    return np.sum(y * y)


def reassignment_scalar(a, b):
    """A scalar parameter reassigned several times, each version used later."""
    c = a * b
    a = a + c
    c = c * a
    a = a * a
    return a + c + b


def augmented_assignment(x, a, b, c):
    """+=, -=, *=, /=, **= on an array local."""
    acc = a * x
    acc += np.sin(x)
    acc -= b
    acc *= x
    acc /= c
    acc **= 2
    return np.sum(acc)


def augmented_assignment_parameter(a, b):
    """Augmented assignment to a scalar parameter itself."""
    a += b
    a *= a
    b -= a
    return a * b


def tuple_assignment(x, a):
    """p, q = x * a, np.exp(x): tuple assignment."""
    p, q = x * a, np.exp(x)
    return np.sum(p * q)


def tuple_swap(x, y):
    """x, y = y, x * 2.0: a swap reading the old bindings."""
    x, y = y, x * 2.0
    return np.sum(x ** 2 * y)


def scalar_swap_twice(a, b):
    """a, b = b, a then a, b = a * b, a - b."""
    a, b = b, a
    a, b = a * b, a - b
    return a / b + b


def annotated_assignment(a, x):
    """An annotated assignment `t: float = ...`."""
    q: float = a * 2.0
    return np.sum(q * x)


# -- common subexpressions and reuse ----------------------------------------------


def repeated_subexpression(x, y):
    """np.sin(x * y) written three times (CSE-able)."""
    return np.sum(np.sin(x * y) * np.sin(x * y) + np.sin(x * y))


def commuted_subexpression(x, y):
    """x * y and y * x: equal values written differently."""
    return np.sum(x * y) * np.sum(y * x)


def reused_intermediate(a):
    """One intermediate used many times: += accumulation of its adjoint."""
    e = np.exp(a)
    return e * e * e + e / (1 + e)


def cancelling_terms(x, y):
    """x * y - x * y + x: a zero part and a nonzero part."""
    return np.sum(x * y - x * y + x)


def self_division(x, y):
    """x / x * y: the x-dependence cancels, its gradient is zero."""
    return np.sum(x / x * y)


# -- keywords, defaults and integers ----------------------------------------------


def keyword_reductions(A):
    """Keyword arguments at a call site: np.sum(A, axis=0), np.mean(..., keepdims=True)."""
    return np.sum(np.sum(A, axis=0) ** 2) + np.sum(np.mean(A, axis=1, keepdims=True) * A)


def default_scale(x, scale=2.5):
    """A float parameter with a default, not passed (differentiated by name)."""
    return np.sum(scale * x ** 2)


def keyword_only(x, *, a, power=3):
    """A keyword-only float parameter and a keyword-only integer default."""
    return np.sum(a * x ** power)


def integer_exponent(x, n):
    """An integer argument as an exponent, not differentiated."""
    return np.sum(x ** n)


def integer_multiplier(a, n, k):
    """Integer arguments as exponent and multiplier of a scalar."""
    return a ** n + n * a - a ** k / k


# -- reductions ---------------------------------------------------------------------


def sum_axis0(A, x):
    """np.sum(..., axis=0) of a matrix, times a vector."""
    return np.sum(np.sum(A ** 2, axis=0) * x)


def sum_axis1_keepdims(A):
    """np.sum(..., axis=1, keepdims=True) broadcast back over the matrix."""
    return np.sum(np.sum(A, axis=1, keepdims=True) * A)


def sum_negative_axis(A, B):
    """np.sum(..., axis=-1) of a product."""
    return np.sum(np.sum(A * B, axis=-1) ** 2)


def sum_axis_tuple(A):
    """np.sum over axis=(0, 1): all axes as a tuple."""
    return np.sum(np.sin(A), axis=(0, 1))


def mean_centered(A):
    """np.mean(..., axis=0, keepdims=True) subtracted: a variance."""
    return np.sum((A - np.mean(A, axis=0, keepdims=True)) ** 2)


def mean_axis1(A, B):
    """np.mean(..., axis=1) of two matrices, multiplied."""
    return np.sum(np.mean(A, axis=1) * np.mean(B, axis=1))


def mean_all(A):
    """np.mean over all entries."""
    return np.mean(np.exp(A))


def method_sum_axis(A, x):
    """The .sum(axis=0) method with a keyword."""
    return np.sum(A.sum(axis=0) * x) + A.mean(axis=1).sum()


# -- indexing reads ----------------------------------------------------------------


def index_constant(x):
    """Constant indices x[0], x[3], x[-1]: scalar reads of a vector."""
    return x[0] * x[3] + x[-1] + x[0]


def index_slices(x, y):
    """Slices x[1:3], y[:2], x[::2]."""
    return np.sum(x[1:3] * y[:2]) + np.sum(x[::2])


def index_matrix(A):
    """A[0, 1], A[1], A[:, 2], A[1:, :2]: element, row, column, block."""
    return A[0, 1] + np.sum(A[1]) * np.sum(A[:, 2]) + np.sum(A[1:, :2] ** 2)


def index_repeated_fancy(x, y):
    """Repeated fancy indices x[[0, 0, 1]]: the adjoint must accumulate."""
    return np.sum(x[[0, 0, 1]] * y[[3, 3, 3]])


def index_embedding_rows(A, x):
    """An embedding lookup A[[0, 2, 0]] with a repeated row."""
    return np.sum((A[[0, 2, 0]] @ x) ** 2)


def index_of_product(A, C):
    """An element of a matrix product: (A @ C)[1, 2]."""
    return (A @ C)[1, 2]


# -- names, aliases and call forms --------------------------------------------------


def local_named_like_an_adjoint(a):
    """A local named `da`, the name s2sad would give a's adjoint."""
    da = a * 2.0
    return da * a


def local_named_like_the_function(x):
    """A local with the function's own name (the name of the output seed)."""
    local_named_like_the_function = x * 2.0
    return np.sum(local_named_like_the_function * x)


def local_named_like_the_seed(a, b):
    """Locals named `df` and `dlocal_named_like_the_seed`."""
    dlocal_named_like_the_seed = a * b
    df = dlocal_named_like_the_seed + a
    return df * a


def alias_then_reassign(x):
    """y = x aliases a parameter, then y is rebound; x is read after."""
    y = x
    y = y * 2.0
    return np.sum(x * y)


def same_value_two_names(x, a):
    """p, q = x, x: one value under two names, both differentiated through."""
    p, q = x, x
    return np.sum(p * q) + a


def scalar_grows_into_array(a, x):
    """A scalar local augmented with an array: q = a; q += x."""
    q = a * 1.0
    q += x
    return np.sum(q * q)


def positional_only(a, b, /, c):
    """Positional-only parameters."""
    return a * b + c / a


def keyword_operand(x):
    """The differentiated operand passed by keyword: np.sum(a=...)."""
    return np.sum(a=x ** 2)


def global_constants(x, a):
    """Module-level constants: an array and a float."""
    return np.sum(WEIGHTS * x) * SCALE + a * SCALE


def float_casts(a):
    """float(a) and np.float64(a) casts pass the derivative through."""
    return float(a) * np.float64(a)


def numpy_function_forms(a, x):
    """np.negative, np.positive, np.add, np.subtract, np.multiply, np.divide."""
    return np.sum(np.negative(x) + np.positive(x) * np.add(a, x) - np.subtract(x, a)
                  + np.multiply(a, x) / np.divide(x, a))


def unary_plus(x):
    """Unary plus and unary minus on arrays."""
    return np.sum(+x * -x)


def integer_arithmetic(a, x, n, k):
    """Integer arguments in arithmetic with floats: -n * a, a / n, x / k."""
    return -n * a + a / n + np.sum(x / k) + a * (n + k)


def floor_division_and_mod(a, b):
    """a // b (piecewise constant) and a % b, b % a."""
    return a // b + a % b + b % a


def comparison_masks(x, y):
    """Comparisons as 0/1 masks: x * (x > 1.0) + (x > y) * y."""
    return np.sum(x * (x > 1.0) + (x > y) * y)


def shape_reads(x, A, a):
    """x.shape[0], len(x), A.size, A.ndim as constants."""
    return x.shape[0] * a + len(x) * a + A.shape[1] * np.sum(A) + A.size + A.ndim


def many_powers(a, x, w, k):
    """a ** 2.5, a ** -1, x ** 0, x ** 1, x ** 2.0, np.power(w, 3), w ** k, pow(a, 3)."""
    return (a ** 2.5 + a ** -1 + np.sum(x ** 0) + np.sum(x ** 1) + np.sum(x ** 2.0)
            + np.sum(np.power(w, 3)) + np.sum(w ** k) + pow(a, 3))


def max_with_constants(a, s):
    """Builtin max/min against float constants, on either side."""
    return max(a, 0.0) + min(a, 1.0) + max(0.0, s) + min(2.0, a)


def maximum_scalar_vector(a, x):
    """np.maximum / np.minimum of a scalar and a vector: the scalar's adjoint sums."""
    return np.sum(np.maximum(a, x) + np.minimum(x, a))


def relu_squared(w):
    """np.maximum(w, 0.0): a ReLU, then squared."""
    return np.sum(np.maximum(w, 0.0) ** 2)


def abs_spellings(t, w):
    """np.abs, np.absolute, math.fabs, abs on a negative scalar and a signed vector."""
    return np.abs(t) + np.absolute(t) + math.fabs(t) + np.sum(abs(w) * np.abs(w))


def inverse_functions_vector(w):
    """np.arcsin, np.arccos, np.arctan, np.arcsinh, np.arctanh on a vector in (-1, 1)."""
    return np.sum(np.arcsin(w) + np.arccos(w) + np.arctan(w) + np.arcsinh(w) + np.arctanh(w))


def logaddexp_cbrt(x, y):
    """np.logaddexp of two vectors and np.cbrt."""
    return np.sum(np.logaddexp(x, y) * np.cbrt(x))


def one_value_many_uses(x):
    """One intermediate read by six operations: adjoint accumulated six times."""
    e = np.exp(x)
    return np.sum(e) + np.sum(e * e) + e @ e + np.mean(e) + e[0] + e.sum()


def sum_of_sum_squared(x, y):
    """(x + y) ** 2: x and y receive equal gradients."""
    return np.sum((x + y) ** 2)


# -- more reductions, products and indexing ------------------------------------------


def positional_axis(A):
    """np.sum(A, 0) and np.mean(A, 0) with a positional axis."""
    return np.sum(np.sum(A, 0) * np.mean(A, 0))


def keepdims_without_axis(A):
    """np.sum(A, keepdims=True): shape (1, 1), broadcast back."""
    return np.sum(np.sum(A, keepdims=True) * A)


def method_axis_forms(A):
    """A.sum(0) and A.sum(axis=1, keepdims=True)."""
    return np.sum(A.sum(0) ** 2) + np.sum(A.sum(axis=1, keepdims=True) * A)


def mean_axis_tuple_keepdims(A):
    """np.mean over axis=(0, 1) with keepdims=True."""
    return np.sum(np.mean(A, axis=(0, 1), keepdims=True) * A)


def reductions_of_scalars(a):
    """np.sum and np.mean of a Python float."""
    return np.sum(a) * np.mean(a)


def axis_none(A):
    """np.sum and np.mean with axis=None spelled out."""
    return np.sum(A, axis=None) + np.mean(A ** 2, axis=None)


def products_mixed(x, A, R, C, K):
    """x @ A.T, R @ C, K.T @ A, np.matmul, A.dot(C), x.dot(x)."""
    return (np.sum(x @ A.T) + np.sum(R @ C) + np.sum(K.T @ A) + np.sum(np.matmul(A, x))
            + A.dot(C).sum() + x.dot(x))


def dot_scalar_vector(a, x):
    """np.dot of a scalar and a vector, in both orders."""
    return np.sum(np.dot(a, x)) + np.sum(np.dot(x, a))


def reduction_then_matmul(A, x):
    """np.sum(A, axis=0) @ x."""
    return np.sum(A, axis=0) @ x


def transposes(A, C):
    """np.transpose(A), np.transpose(A, (1, 0)), A.transpose()."""
    return (np.sum(np.transpose(A) * C) + np.sum(np.transpose(A, (1, 0)) ** 2 * C)
            + np.sum(A.transpose() * C))


def reshapes(A):
    """A.reshape(2, 6), np.reshape(A, (4, 3)), A.reshape(-1), A.flatten(), np.ravel(A)."""
    return (np.sum(A.reshape(2, 6)[0] ** 2)
            + np.sum(np.reshape(A, (4, 3))[:, 0] * A.reshape(-1)[:4])
            + np.sum(A.flatten() * np.ravel(A)))


def index_of_reduction(A):
    """An element of a reduction: np.sum(A, axis=1)[0]."""
    return np.sum(A, axis=1)[0] * A[2, 3]


def index_negative_repeated(x):
    """x[[-1, 3, 0]]: -1 and 3 name the same element."""
    return np.sum(x[[-1, 3, 0]] ** 2)


def index_fancy_and_slice(A):
    """A[[0, 0], 1:3]: repeated fancy rows with a column slice."""
    return np.sum(A[[0, 0], 1:3] ** 2)


def index_by_integer_argument(x, n):
    """x[n], x[n - 1], x[:n] with an integer argument."""
    return x[n] * x[n - 1] + np.sum(x[:n])


def index_boolean_mask(x):
    """x[x > 1.0]: a boolean mask computed from the input."""
    return np.sum(x[x > 1.0] ** 2)


def index_newaxis_outer(x, y):
    """x[:, None] * y[None, :]: an outer product by new axes."""
    return np.sum(x[:, None] * y[None, :] ** 2)


def index_ellipsis(A):
    """A[..., 0]."""
    return np.sum(A[..., 0] ** 2)


# -- more assignment, keyword and scalar forms ---------------------------------------


def augmented_parameter_vector(x, y):
    """x *= y; x += 1.0 on a vector parameter (in place in Python, on the caller's copy)."""
    x *= y
    x += 1.0
    return np.sum(x ** 2)


def reassignment_changes_shape(x, A, K):
    """x = x + A turns a vector parameter into a matrix; dx must reduce back to (4,)."""
    x = x + A
    x = x * K
    return np.sum(x ** 2)


def list_assignment(x, a):
    """[p, q] = [x * a, x + a]: a list on both sides."""
    [p, q] = [x * a, x + a]
    return np.sum(p * q)


def keyword_only_default(x, *, scale=1.5):
    """A keyword-only float default, not passed (differentiated by name)."""
    return np.sum(np.sin(scale * x))


def math_log_variable_base(a, c):
    """math.log(a, c) with a differentiated base."""
    return math.log(a, c) * c


def math_on_numpy_scalar(r):
    """math.exp of a NumPy float64: the gradient is a NumPy float64."""
    return math.exp(r) * r


def piecewise_constant(a, w):
    """np.floor, np.round, np.sign: zero derivatives inside a product."""
    return np.floor(a) * a + np.sum(np.sign(w) * w) + np.round(a) * a


def mean_negative_axis_keepdims(A):
    """np.mean(..., axis=-1, keepdims=True), then np.sum(..., axis=-2, keepdims=True)."""
    M = np.mean(A ** 2, axis=-1, keepdims=True)
    return np.sum(np.sum(A * M, axis=-2, keepdims=True))


def accumulator_from_zero(x, a):
    """acc = 0.0, then acc += ...: a constant start grows into an active sum."""
    acc = 0.0
    acc += np.sum(x * x)
    acc += a * np.sum(np.sin(x))
    return acc


def accumulator_integer_zero(a, b):
    """total = 0 (an int), then += and -= with floats."""
    total = 0
    total += a * b
    total -= b
    return total


def constant_arrays(x, a, A):
    """np.zeros_like, np.ones, np.eye: constant arrays mixed with active values."""
    y = np.zeros_like(x)
    y += x * a
    v = np.ones(4) * a
    return np.sum(y * v) + np.sum((np.eye(3) @ A) @ x)


def copy_method(x):
    """x.copy() and np.copy(x): the derivative passes through a copy."""
    y = x.copy()
    return np.sum(y * np.copy(x))


# -- known traps ---------------------------------------------------------------------






def keepdims_total_times_vector(A, x):
    """np.sum(A, keepdims=True) has shape (1, 1), not a scalar: x's adjoint must reduce."""
    t = np.sum(A, keepdims=True)
    return np.sum(t * x)


def alternating_sign(x, k):
    """(-1) ** k with an integer argument: a negative constant as a power's base."""
    return np.sum((-1) ** k * x)


def relu_power_learned_exponent(w, b):
    """np.maximum(w, 0.0) ** b: d/db of 0 ** b is 0 for b > 0 (not 0 * log 0)."""
    return np.sum(np.maximum(w, 0.0) ** b)


def power_zero_of_relu(w):
    """np.maximum(w, 0.0) ** 0: the derivative of v ** 0 is 0 at v = 0 too."""
    return np.sum(np.maximum(w, 0.0) ** 0 * w)


# -- zero and constant gradients -----------------------------------------------------


def ignores_second(x, y):
    """The output does not depend on y: its gradient is zero."""
    return np.sum(x ** 2)


def ignores_scalar(a, b):
    """A scalar argument that is never read."""
    return a * 3.0


def constant_output(x):
    """The function returns a constant: every gradient is zero."""
    return 3.0


def dead_intermediate(x, a):
    """An intermediate that depends on a but is never used."""
    e = np.exp(a * x)
    return np.sum(x)


def identity_scalar(a):
    """The output is the argument itself."""
    return a


def shape_dependent(x):
    """np.size of the input as a constant factor."""
    return np.sum(x) * np.size(x)


FUNCTIONS = [value for name, value in list(globals().items())
             if callable(value) and getattr(value, "__module__", None) == __name__]
