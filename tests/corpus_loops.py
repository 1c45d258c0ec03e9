"""The control-flow corpus: loops, branches, subscript writes, user helpers.

Every function returns a scalar. Argument names choose the inputs, as in
`corpus.py` (see its docstring and `conftest.INPUTS`); a few names are added
for this corpus, and their values are built in `test_loops.py` (`LOOP_INPUTS`):

    W           a recurrent weight matrix of shape (3, 3), entries in +-[0.1, 0.4]
    xs          an input sequence of shape (5, 3), entries in +-[0.2, 0.8]
    h0          an initial state of shape (3,), entries in +-[0.2, 0.8]
    coeffs      polynomial coefficients of shape (5,), entries in +-[0.2, 0.8]
    kernel      a convolution kernel of shape (3,), entries in [0.5, 1.5]

Two functions keep the lecture's own names `a`, `b` for arrays (in the shared
scheme `a` and `b` are floats); `test_loops.OVERRIDES` gives them arrays.

Branch thresholds and `while` conditions are chosen so that no intermediate
value the test inputs produce comes within 0.01 of a threshold: the branch
taken and the trip count are locally constant, and central differences with a
step of 1e-6 are valid. Loops run fewer than 50 iterations on arrays of length
3-8, since every case runs central differences.

Module-level helpers (listed in `HELPERS`) are called by the corpus functions
and are not corpus functions themselves. `FUNCTIONS` lists the rest, in order.
"""
import numpy as np

WEIGHTS = np.array([0.5, -1.0, 2.0, 0.25])
WEIGHTS6 = np.array([0.5, -1.0, 2.0, 0.25, -0.75, 1.5])
WEIGHTS7 = np.array([0.3, -0.6, 1.2, 0.9, -0.4, 0.8, -1.1])
OUTPUT = np.array([0.6, -0.4, 0.9])


# -- helpers (module level, called from the corpus functions) ----------------------


def ode_rhs(y, rate, forcing=0.5):
    """dy/dt = -rate * y + forcing * sin(y)."""
    return -rate * y + forcing * np.sin(y)


def rk4_step(y, dt, rate):
    """One classical Runge-Kutta step; calls ode_rhs by position and by keyword."""
    k1 = ode_rhs(y, rate)
    k2 = ode_rhs(y + 0.5 * dt * k1, rate=rate)
    k3 = ode_rhs(rate=rate, y=y + 0.5 * dt * k2)
    k4 = ode_rhs(y + dt * k3, rate, forcing=0.5)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def smooth_abs(v, eps=0.1):
    """A smooth |v|, with a default argument."""
    return np.sqrt(v * v + eps)


def scaled_sum(vec, scale=1.0, power=2):
    """sum(scale * vec ** power), with two defaults."""
    return np.sum(scale * vec ** power)


def mean_and_var(x):
    """Two results, returned as a tuple."""
    m = np.mean(x)
    var = np.mean((x - m) ** 2)
    return m, var


def inner_helper(t):
    """t * exp(-t)."""
    return t * np.exp(-t)


def outer_helper(t, u):
    """A helper calling another helper twice."""
    return inner_helper(t) + inner_helper(u * t)


def poly_eval(coeffs, s):
    """Horner's rule in a helper: a loop inside a called function."""
    p = 0.0
    for i in range(len(coeffs)):
        p = p * s + coeffs[i]
    return p


def cumulative_sum(x):
    """A helper that writes into its own local array in a loop."""
    c = np.zeros_like(x)
    acc = 0.0
    for i in range(len(x)):
        acc = acc + x[i]
        c[i] = acc
    return c


def rnn_cell(W, h, xt):
    """One step of a tanh recurrent cell."""
    return np.tanh(W @ h + xt)


HELPERS = ("ode_rhs", "rk4_step", "smooth_abs", "scaled_sum", "mean_and_var",
           "inner_helper", "outer_helper", "poly_eval", "cumulative_sum", "rnn_cell")


# -- for over range ------------------------------------------------------------------


def range_len_sum_squares(x):
    """for i in range(len(x)): a loop-carried scalar sum of x[i] ** 2."""
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] ** 2
    return s


def range_int_argument(a, n):
    """for i in range(n) with an int argument n: p = p * a + sin(p)."""
    p = 1.0
    for i in range(n):
        p = p * a + np.sin(p)
    return p


def range_numpy_scalar(r, k):
    """A NumPy float64 carried through range(k): the gradient is a NumPy float64."""
    q = r
    for i in range(k + 2):
        q = np.cos(q) * r + 0.5 * q
    return q


def range_start_stop(x):
    """range(1, len(x)): neighbouring products x[i] * x[i - 1]."""
    s = 0.0
    for i in range(1, len(x)):
        s += x[i] * x[i - 1]
    return s


def range_positive_step(x, y):
    """range(0, len(x), 2) and range(1, 4, 2): every other element."""
    s = 0.0
    for i in range(0, len(x), 2):
        s += np.exp(x[i]) * y[i]
    for j in range(1, 4, 2):
        s += x[j] / y[j]
    return s


def range_negative_step(x):
    """range(len(x) - 1, -1, -1): a loop run backwards, order matters."""
    s = 0.0
    for i in range(len(x) - 1, -1, -1):
        s = s * 0.5 + np.sin(x[i]) * (i + 1)
    return s


def range_negative_step_two(x, y):
    """range(3, 0, -2) visits 3 and 1; range(x.shape[0] - 2, -1, -2) visits 2 and 0."""
    s = 1.0
    for i in range(3, 0, -2):
        s = s * x[i] + y[i]
    for i in range(x.shape[0] - 2, -1, -2):
        s = s * y[i] - x[i] ** 2
    return s


def range_shape_bounds(A, x):
    """Bounds from A.shape[0] and A.shape[1], elements read as A[i, j]."""
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * x[j] * (i + 1)
    return s


def range_empty(x, a):
    """range(len(x), 2) runs no iteration: only the code after the loop counts."""
    s = a * 2.0
    for i in range(len(x), 2):
        s = s * x[i]
    return s + np.sum(x) * a


def loop_index_in_arithmetic(x, a):
    """The int loop index as an exponent and a factor: a ** i * x[i] / (i + 1)."""
    s = 0.0
    for i in range(len(x)):
        s += a ** i * x[i] / (i + 1)
    return s


def loop_variable_after_loop(x):
    """The loop variable and the carried value are both read after the loop."""
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i]
    return s * x[i] + i


# -- nested loops ----------------------------------------------------------------------


def nested_rectangular(A, x):
    """Two nested loops reading A[i][j]: the matrix-vector product, squared."""
    s = 0.0
    for i in range(3):
        t = 0.0
        for j in range(4):
            t = t + A[i][j] * x[j]
        s = s + t * t
    return s


def nested_triangular(x):
    """for j in range(i): every pair x[i] * x[j] with j < i, once."""
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s += x[i] * x[j] * np.cos(x[j])
    return s


def forward_substitution(P, x):
    """Solve the lower triangle of P by forward substitution, into np.zeros."""
    n = len(x)
    sol = np.zeros(n)
    for i in range(n):
        acc = x[i]
        for j in range(i):
            acc = acc - P[i, j] * sol[j]
        sol[i] = acc / P[i, i]
    return np.sum(sol * WEIGHTS)


def matmul_three_loops(A, C):
    """The matrix product by three loops, M[i, j] += A[i, k] * C[k, j]."""
    M = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            for k in range(4):
                M[i, j] += A[i, k] * C[k, j]
    return np.sum(M * M)


# -- iterating over arrays ----------------------------------------------------------


def for_row_in_matrix(X, w):
    """for row in X: each row is a vector, row @ w."""
    s = 0.0
    for row in X:
        s = s + np.tanh(row @ w)
    return s


def for_element_in_vector(x):
    """for v in x: a scalar element per iteration, decaying sum."""
    s = 0.0
    for v in x:
        s = s * 0.9 + np.cos(v)
    return s


def enumerate_vector(x, y):
    """for i, v in enumerate(x): index and element together."""
    s = 0.0
    for i, v in enumerate(x):
        s += (i + 1) * v ** 2 * y[i]
    return s


def enumerate_rows(A, y):
    """for i, row in enumerate(A): a row and an index into another array."""
    s = 0.0
    for i, row in enumerate(A):
        s += np.sum(row * y) * y[i]
    return s


def zip_two_vectors(x, y):
    """for p, q in zip(x, y): pairs of elements."""
    s = 0.0
    for p, q in zip(x, y):
        s += p * np.sin(q)
    return s


def zip_rows(A, B):
    """for ra, rb in zip(A, B): pairs of rows."""
    s = 0.0
    for ra, rb in zip(A, B):
        s = s + ra @ rb * 0.1
    return s


# -- while loops ------------------------------------------------------------------------


def while_halving(a):
    """Halve until below 0.1: the trip count (3) depends on the input."""
    y = a * 3.0
    total = 0.0
    while y > 0.1:
        y = y * 0.5
        total = total + np.sin(y)
    return total + y


def while_newton_sqrt(c):
    """Newton's iteration for sqrt(c), until the residual is below 1e-6."""
    y = c
    while abs(y * y - c) > 1e-6:
        y = 0.5 * (y + c / y)
    return y


def while_index_counter(x):
    """while i < len(x) with an explicit counter, i += 1."""
    i = 0
    s = 0.0
    while i < len(x):
        s = s + x[i] * np.exp(-x[i])
        i += 1
    return s


def while_break(x):
    """while True, accumulating x[i] ** 2 until the sum exceeds 1.5, then break."""
    s = 0.0
    i = 0
    while True:
        s = s + x[i] ** 2
        i = i + 1
        if s > 1.5:
            break
    return s * x[0]


def while_continue(v):
    """A while loop that skips negative elements with continue."""
    s = 0.0
    i = 0
    while i < len(v):
        i = i + 1
        if v[i - 1] < 0.0:
            continue
        s = s + v[i - 1] ** 3
    return s


def while_growth(s):
    """Grow a value by a data-dependent factor until it passes 4.0."""
    y = 1.0
    steps = 0
    while y < 4.0:
        y = y * (1.5 + s)
        steps = steps + 1
    return y * steps


# -- break and continue in for --------------------------------------------------------


def for_break_on_value(x):
    """Break at the first element above 1.05: the elements before it are summed."""
    s = 0.0
    for v in x:
        if v > 1.05:
            break
        s = s + v * v
    return s + x[3]


def for_break_on_sum(y):
    """Break once the running product drops below 0.6, inside range(len(y))."""
    p = 1.0
    for i in range(len(y)):
        p = p * y[i]
        if p < 0.6:
            break
    return p


def for_continue_on_index(x):
    """continue on odd indices (i % 2 == 1): only even positions are used."""
    s = 0.0
    for i in range(len(x)):
        if i % 2 == 1:
            continue
        s += np.log(x[i]) * x[i]
    return s


def for_continue_on_value(w):
    """continue on negative elements: a data-dependent skip."""
    s = 0.0
    for v in w:
        if v < 0.0:
            continue
        s = s + np.exp(v)
    return s


# -- branches ----------------------------------------------------------------------------


def if_elif_else_outside_loop(a, s, t):
    """if/elif/else on a scalar, three times with inputs in each branch."""
    total = 0.0
    if a > 0.5:
        total = total + a ** 2
    elif a > 0.0:
        total = total + np.sin(a)
    else:
        total = total - a
    if s > 0.5:
        total = total * s
    elif s > 0.0:
        total = total + np.exp(s)
    else:
        total = total - s
    if t > 0.5:
        total = total * t
    elif t > 0.0:
        total = total + t
    else:
        total = total * np.cos(t)
    return total


def if_elif_else_in_loop(w):
    """if/elif/else on each element of w (all three branches are taken)."""
    s = 0.0
    for v in w:
        if v > 0.5:
            s = s + v ** 2
        elif v > -0.5:
            s = s + np.sin(v) * 2.0
        else:
            s = s * 0.5 + v
    return s


def branch_without_else(x, a):
    """if without else: the branch rebinds a value computed before it."""
    y = np.sum(x * x)
    if a > 0.5:
        y = y * a
    if a > 1.0:
        y = y + 100.0 * a
    return y


def branch_defines_names(a, b):
    """Both branches bind the same names, to different expressions."""
    if a < b:
        lo = a
        hi = b * b
    else:
        lo = b
        hi = a * a
    return lo * np.sin(hi)


def branch_on_computed_value(x, y):
    """A condition on an intermediate value, not on an input."""
    d = np.sum(x * y)
    if d > 3.0:
        out = np.log(d) * x[0]
    else:
        out = d * y[0]
    return out


def conditional_expression(a, t):
    """y = a * a if a > t else sin(t), both operand values active."""
    y = a * a if a > t else np.sin(t)
    z = t * 3.0 if t > 0.0 else t * a
    return y + z


def conditional_expression_in_loop(w):
    """A leaky relu v if v > 0 else 0.1 * v, summed in a loop."""
    s = 0.0
    for v in w:
        s += v if v > 0.0 else 0.1 * v
    return s * s


def early_return_taken(a, b):
    """if b > 1.0: return early (taken for b = 1.6)."""
    y = a * b
    if b > 1.0:
        return y * np.sin(b)
    return y * 2.0


def early_return_not_taken(a, b):
    """if a > 1.0: return early (not taken for a = 0.7)."""
    y = a * b
    if a > 1.0:
        return y * np.sin(b)
    return y * np.cos(a)


def early_return_in_loop(x):
    """Return from inside the loop once the running sum passes 2.2."""
    s = 0.0
    for i in range(len(x)):
        s = s + x[i]
        if s > 2.2:
            return s * x[0] + i
    return s


def early_return_in_while(a):
    """Return from inside a while loop once the value exceeds 3.0."""
    y = a
    while y < 10.0:
        y = y * 2.0 + np.sin(y)
        if y > 3.0:
            return y * a
    return y


# -- subscript reads -----------------------------------------------------------------


def slices_in_loop(x, y):
    """Slices x[i:i + 2] and y[:i + 1] with bounds from the loop index."""
    s = 0.0
    for i in range(len(x) - 1):
        s += np.sum(x[i:i + 2] ** 2) * np.sum(y[:i + 1])
    return s


def rows_and_columns_in_loop(A):
    """A[i, :] and A[:, j] read inside loops."""
    s = 0.0
    for i in range(A.shape[0]):
        s += np.sum(A[i, :] ** 2)
    for j in range(A.shape[1]):
        s += np.sum(A[:, j] * A[:, j][::-1]) * A[0, j]
    return s


def negative_index_in_loop(x):
    """x[-1 - i]: negative indices computed from the loop variable."""
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[-1 - i]
    return s


# -- subscript writes ----------------------------------------------------------------


def elementwise_product_loop(a, b):
    """c[i] = a[i] * b[i] into np.zeros_like: nothing needs to be stored."""
    c = np.zeros_like(a)
    for i in range(len(a)):
        c[i] = a[i] * b[i]
    return np.sum(c)


def write_zeros_assign(x, y):
    """c[i] = e into np.zeros(n), then a weighted sum."""
    c = np.zeros(len(x))
    for i in range(len(x)):
        c[i] = x[i] * np.exp(y[i])
    return np.sum(c * WEIGHTS)


def write_zeros_like_add(x):
    """Two c[i] += e updates of the same element per iteration."""
    c = np.zeros_like(x)
    for i in range(len(x)):
        c[i] += x[i] ** 2
        c[i] += np.sin(x[i]) * c[i]
    return np.sum(c * WEIGHTS)


def write_empty_then_fill(x):
    """np.empty filled element by element before it is read."""
    c = np.empty(len(x))
    for i in range(len(x)):
        c[i] = np.tanh(x[i]) * (i + 1)
    return np.sum(c ** 2)


def write_ones_multiply(x):
    """c[i] *= e on np.ones: each element multiplied twice, by x[i] and x[i - 1]."""
    c = np.ones(4)
    for i in range(4):
        c[i] *= x[i]
        c[(i + 1) % 4] *= x[i] + 0.5
    return np.sum(c * WEIGHTS)


def write_copy_method_subtract(x, y):
    """c = x.copy(); c[i] -= y[i] * c[i - 1]: an in-place recurrence."""
    c = x.copy()
    for i in range(1, len(c)):
        c[i] -= y[i] * c[i - 1]
    return np.sum(c * WEIGHTS)


def write_np_copy_cumprod(x):
    """c = np.copy(x); c[i] = c[i] * c[i - 1]: each element overwritten from itself."""
    c = np.copy(x)
    for i in range(1, len(c)):
        c[i] = c[i] * c[i - 1]
    return np.sum(c * WEIGHTS)


def write_overwrite_element(x):
    """c[i] written twice in one iteration: the first value must not leak."""
    c = np.zeros(4)
    for i in range(4):
        c[i] = x[i] ** 3
        c[i] = np.sin(x[i]) * x[(i + 1) % 4]
    return np.sum(c * WEIGHTS)


def write_constant_into_element(x):
    """c = 2 * x; c[1] = 3.0: only that element's adjoint becomes zero."""
    c = x * 2.0
    c[1] = 3.0
    c[2] += x[0]
    return np.sum(c ** 2)


def write_in_branches(v):
    """c[i] = e in one branch, c[i] -= e in the other, on np.ones."""
    c = np.ones(len(v))
    for i in range(len(v)):
        if v[i] > 0.0:
            c[i] = v[i] ** 2
        else:
            c[i] -= v[i] * 3.0
    return np.sum(c * WEIGHTS)


def write_matrix_elements(A):
    """Gram matrix M[i, j] = A[i] @ A[j] written element by element."""
    M = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            M[i, j] = A[i] @ A[j]
    return np.sum(M * M) * 0.01


def write_rows(A, x):
    """A row at a time: R[i] = A[i] * x[i], then R[i] += 0.5 * x."""
    R = np.zeros((3, 4))
    for i in range(3):
        R[i] = A[i] * x[i]
        R[i] += x * 0.5
    return np.sum(R * R)


def write_slice_update(x, y):
    """c[i:i + 2] += x[i] * y[i]: an overlapping slice updated in a loop."""
    c = np.zeros(5)
    for i in range(4):
        c[i:i + 2] += x[i] * y[i]
    return np.sum(c * c)


def write_read_previous(x):
    """c[i] = c[i - 1] * 0.5 + x[i]: each write reads the previous element."""
    c = np.zeros(len(x))
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] * 0.5 + x[i] ** 2
    return np.sum(c * WEIGHTS)


# -- the lecture's loops and classic algorithms ----------------------------------------


def lecture_convolution(a, b):
    """The lecture's c[z] += a[x] * b[y]: for i, k: c[i + k] += a[i] * b[k]."""
    n = len(a)
    m = len(b)
    c = np.zeros(n + m - 1)
    for i in range(n):
        for k in range(m):
            c[i + k] += a[i] * b[k]
    return np.sum(c * WEIGHTS7)


def convolution_1d(x, kernel):
    """A full 1-D convolution of x (4) and kernel (3) into 6 outputs, then weighted."""
    c = np.zeros(len(x) + len(kernel) - 1)
    for i in range(len(x)):
        for k in range(len(kernel)):
            c[i + k] += x[i] * kernel[k]
    return np.sum(c * WEIGHTS6)


def horner(coeffs, s):
    """Horner's rule p = p * s + coeffs[i]: one value (p) stored per iteration."""
    p = 0.0
    for i in range(len(coeffs)):
        p = p * s + coeffs[i]
    return p


def horner_over_elements(coeffs, t):
    """Horner's rule over `for coef in coeffs`, in the negative argument t."""
    p = 0.0
    for coef in coeffs:
        p = p * t + coef
    return p * p


def rk4_inline(a, s):
    """Five RK4 steps of dy/dt = -a * y + 0.5 * sin(y), all stages inline."""
    y = s
    dt = 0.2
    for step in range(5):
        k1 = -a * y + 0.5 * np.sin(y)
        y2 = y + 0.5 * dt * k1
        k2 = -a * y2 + 0.5 * np.sin(y2)
        y3 = y + 0.5 * dt * k2
        k3 = -a * y3 + 0.5 * np.sin(y3)
        y4 = y + dt * k3
        k4 = -a * y4 + 0.5 * np.sin(y4)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def rnn_tanh(W, xs, h0):
    """h = tanh(W @ h + xs[t]) over the sequence, then the squared final state."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def rnn_with_loss(W, xs, h0, Y):
    """A small RNN with a squared error at every step against Y[t]."""
    h = h0
    loss = 0.0
    for t in range(len(Y)):
        h = np.tanh(W @ h + xs[t])
        pred = h @ OUTPUT
        loss = loss + (pred - Y[t]) ** 2
    return loss / len(Y)


# -- calls to the user's own helpers -------------------------------------------------


def rk4_with_helpers(a, s, dt=0.1):
    """RK4 through rk4_step, which calls ode_rhs (keywords, defaults); dt by name."""
    y = s
    for step in range(4):
        y = rk4_step(y, dt, a)
    return y


def helper_keyword_arguments(x, a):
    """scaled_sum called with keywords, in both orders, and with one default left out."""
    first = scaled_sum(x, scale=a)
    second = scaled_sum(power=3, vec=x * a)
    return first + second


def helper_default_arguments(w):
    """smooth_abs with its default eps and with eps given, inside a loop."""
    s = 0.0
    for v in w:
        s = s + smooth_abs(v) + smooth_abs(v, 0.2) * v
    return s


def helper_tuple_unpack(x, y):
    """m, var = mean_and_var(...): a helper returning a tuple."""
    m, var = mean_and_var(x * y)
    return m * var + m ** 2


def helper_calls_helper(a, b):
    """outer_helper calls inner_helper twice."""
    return outer_helper(a, b) * outer_helper(b, a)


def helper_with_loop(coeffs, s, t):
    """poly_eval (a loop inside a helper) at two points."""
    return poly_eval(coeffs, s) * poly_eval(coeffs, t)


def helper_with_writes(x):
    """cumulative_sum writes into its own array in a loop; the caller reduces."""
    c = cumulative_sum(x)
    return np.sum(c ** 2) + c[1] * x[3]


def helper_called_in_loop(W, xs, h0):
    """rnn_cell called once per step in the caller's loop."""
    h = h0
    for t in range(len(xs)):
        h = rnn_cell(W, h, xs[t])
    return np.sum(h * OUTPUT)


def helper_in_branch(a, s):
    """A helper called in one branch of an if."""
    if a > s:
        y = inner_helper(a) * smooth_abs(s)
    else:
        y = inner_helper(s)
    return y


FUNCTIONS = [value for name, value in list(globals().items())
             if callable(value) and getattr(value, "__module__", None) == __name__
             and name not in HELPERS]
