"""Regressions from an adversarial review of loops, element writes and wrappers.

Used by tests/test_loop_regressions.py. Every function runs as plain Python.
Each case s2sad must refuse carries the marker comment `# R:<key>` on the line
the refusal must point at; the tests find that line by searching this file's
text for the marker (never a hard-coded number). Keep each marker unique.
"""
# flake8: noqa
import functools
import math

import numpy as np

OFFSET = 0.25
LST = [[1.0, 2.0], [3.0, 4.0]]


# -- refused: writes and rebindings with no honest derivative ------------------------

def fancy_rep(x):
    """Bug 1: `c[idx] += e` through a repeating index array (NumPy keeps one write)."""
    c = np.zeros(3)
    c[[0, 0, 1]] += x[:3]  # R:fancy_rep
    return np.sum(c * x[:3])


def view_write(x):
    """Bug 3a: a write through a view of an argument changed the caller's array."""
    c = x[1:]
    c[0] = 5.0  # R:view_write
    return np.sum(c ** 2)


def h_write_param(v):
    """Helper for bug 3b: assigns into an element of its own parameter."""
    v[0] = 2.0 * v[1]  # R:helper_writes_param
    return np.sum(v ** 2)


def helper_writes_param(x):
    """Bug 3b: an inlined helper's write into its parameter changed the caller's array."""
    return h_write_param(x)


def counter_rebound(x):
    """Bug 4: a loop variable reassigned in its loop was recomputed in the adjoint (it
    was refused; the loop now runs over a name of its own, i = that name first)."""
    s = 0.0
    for i in range(4):
        i = i + 1
        s = s * x[i] + x[i]
    return s


def int_array_write(x, k):
    """Bug 10: input-dependent values written into an integer array got a gradient."""
    c = np.zeros_like(k)  # R:int_array_write
    c[0] = x[0] * 10
    return np.sum(c * x)


def row_view_loop(W):
    """Bug 11a: a row view `r = C[i]` in a loop was not an alias of C."""
    C = W * 1.0
    s = 0.0
    for i in range(3):
        r = C[i]
        C[i] = 2.0 * C[i]  # R:row_view_loop
        s = s + np.sum(r)
    return s


def row_view_aug(W):
    """Bug 11b: `r += 1.0` on a row view `r = C[0]` was not a write into C."""
    C = W * 1.0
    r = C[0]
    r += 1.0  # R:row_view_aug
    return np.sum(C * C)


def q(x):
    """Bug 14: grad(grad(q)) unwrapped to q and silently gave the first derivative."""
    return x ** 3


# -- differentiated: each once gave a wrong gradient or an unlocated error -----------

def early_nested(x):
    """Bug 2: an early `return` in nested loops (a synthesized `break`) had no location."""
    s = 0.0
    for i in range(3):
        for j in range(3):
            if j > 1:
                return s
            s = s + x[i]
    return s


def h_global(a):
    """Helper for bug 5: reads the module global OFFSET."""
    return a * OFFSET


def shadow_global(x):
    """Bug 5: a caller's local OFFSET shadowed the helper's global OFFSET."""
    OFFSET = x * 2.0
    return h_global(x) * OFFSET


def condexpr_loop(x):
    """Bug 6: a conditional expression into a loop-carried name its branches read."""
    s = 0.5
    for i in range(3):
        s = s * x if i > 0 else s + x
    return s


def scal_to_arr(x, a):
    """Bug 7: a scalar loop-carried name that becomes an array was not unbroadcast."""
    s = a
    for i in range(2):
        s = s + x
    return np.sum(s)


def scalar_into_row(x):
    """Bug 8: a scalar written into a row (`C[0] = x[0]`) was not unbroadcast."""
    C = np.zeros((2, 3))
    C[0] = x[0]
    return np.sum(C * C)


def fresh_per_iter(x):
    """Bug 9: an array made anew and written in each iteration was not stored."""
    s = 0.0
    for i in range(3):
        t = np.zeros(3)
        t[i] = x[i]
        s = s + np.sum(t * t)
    return s


def self_copy(x):
    """Bug 12: `c[i] = c[j]` in a loop (j may equal i) must go through a temporary."""
    c = x * 1.0
    for i in range(3):
        j = 2 - i
        c[i] = c[j]
    return np.sum(c * c * x)


def list_chain(x):
    """Bug 13: `LST[i][1]` on a global list was merged into `LST[i, 1]` like an array."""
    s = 0.0
    for i in range(2):
        s = s + x[i] * LST[i][1]
    return s


# -- wrappers -------------------------------------------------------------------------

def doubled(fn):
    """Decorator for bug 14b: a functools.wraps wrapper that returns 2 * fn(x)."""
    @functools.wraps(fn)
    def w(x):
        return 2.0 * fn(x)
    return w


@doubled
def q2(x):
    """Bug 14b: a functools.wraps decorator was unwrapped, losing its factor 2."""
    return x ** 3


def logged(fn):
    """Decorator for the logging-wrapper case: passes every argument on."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@logged
def logged_cube(x):
    """Wrapper case: a transparent `*args, **kwargs` wrapper gives fn's gradient."""
    return np.sum(x ** 3)


# -- second review ------------------------------------------------------------------


def view_read_then_write(x):
    """r2-1: a view read before an element write into its base."""
    C = x * 1.0
    v = C[0:2]
    y = np.sum(v * v)
    C[0] = 5.0
    return y + np.sum(C)


def row_view_matmul_then_write(X):
    """r2-1: r = C[0]; r @ r; then C[0, 1] = 0.0."""
    C = X * 1.0
    r = C[0]
    y = r @ r
    C[0, 1] = 0.0
    return y + np.sum(C)


def break_in_loop_in_branch(x, c):
    """r2-2: a break in a loop that sits inside an if."""
    s = 0.0
    if c > 0:
        for i in range(4):
            if i == 2:
                break
            s = s + x[i]
    return s


def continue_in_loop_in_else(x, c):
    """r2-2: a continue in a loop that sits in an else."""
    s = 1.0
    if c < 0:
        s = 2.0
    else:
        for i in range(4):
            if i == 1:
                continue
            s = s * x[i]
    return s


def taped_then_updated(W, a):
    """r2-3: v = v + c after tape.append(v) must not become v += c."""
    v = a * 1.0
    u = np.tanh(W @ v)
    v = v + a * 0.5
    for i in range(2):
        v = np.tanh(W @ v)
    return np.sum(v * u)


def power_one_alias(x):
    """r2-4: y = x ** 1 folded to y = x made the writes go into x."""
    y = x ** 1
    for i in range(2):
        y[i] = y[i] * 3.0
    return np.sum(y * x)


def int_division_fold(x):
    """r2-5: 4 / 2 folded to an int made np.full an int array."""
    y = np.full(3, 4 / 2)
    y[1] = 0.25
    return np.sum(y * x[:3])


def negative_range_revisits(x):
    """r2-6: range(-2, 2) visits x[1] twice (x[-2])."""
    s = 0.0
    for i in range(-2, 2):
        s = s + np.sin(x[i])
    return s


def counter_name_reused(x, idx):
    """r2-7: i is an index array, then a range counter."""
    i = idx
    s = np.sum(x[i] ** 2)
    for i in range(2):
        s = s + x[i] * s
    return s


def fmod_negative(a, b):
    """r2-9: fmod truncates the quotient."""
    return math.fmod(a, b) * 1.5


def swap_elements(x):
    """r2 lesser: an element swap in a loop (1-d: elements are copies)."""
    c = x * 1.0
    for j in range(len(c) - 1):
        c[j], c[j + 1] = c[j + 1], c[j]
    return np.sum(c * np.arange(1.0, len(c) + 1.0))


def sibling_loops(x, a):
    """Two loops over the same range storing as much per trip: each kept its stored
    values in the other's lists (indexed stores matched the first adjoint loop over
    that range, which undoes the second loop)."""
    s = 0.0
    for i in range(len(a)):
        s = np.sin(s * a[i] + x)
    for i in range(len(a)):
        s = np.cos(s + a[i] * x)
    return s


def equal_fancy_reads_then_update(x):
    """Value numbering gave c b's array (both are c[[0, 0, 2]]); b += ... was then
    refused as an update of an array c shares, which in Python it is not."""
    c = np.copy(x)
    b = c[[0, 0, 2]]
    c = c[[0, 0, 2]]
    b += x[:3]
    return np.sum(c * b)


def equal_values_then_element_write(x):
    """Likewise for an element write: c = x * 2 shared b's array, so c[0] = ... was
    refused as a write into an array b shares."""
    b = x * 2.0
    c = x * 2.0
    c[0] = 5.0
    return np.sum(b * b) + np.sum(c * x)


def dot_of_stacks(A, B):
    """r2-8: np.dot of 3-d arrays (was refused at call time; issue 15 gave it a rule)."""
    return np.sum(np.dot(A, B) ** 2)
