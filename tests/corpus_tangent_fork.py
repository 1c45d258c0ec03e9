"""A corpus organised by the feature list of Tangent's maintained fork, written here.

The fork (github.com/pedronahum/tangent, on PyPI as tangent-ad) lists what it
differentiates in its README ("Comprehensive Python Support", "What's New in This
Fork"), in docs/features/PYTHON_FEATURE_SUPPORT.md, and on the PyPI page of
tangent-ad 0.3.0 (break/continue/early return, list building, comprehensions, second and
third derivatives, custom gradients, stop_gradient, differentiable simulators). Each
section below names one entry of that list and holds small functions, written from
scratch for s2sad, that use the feature the way the fork's documentation describes it,
plus a few spellings a user might also write.

`CASES` maps a case id to (function, arguments); `FEATURES` maps each case id to the
feature its section exercises; `REFERENCES` gives, for a case whose derivative is not the
function's own (stop_gradient), the function central differences should see. The first
argument is the one differentiated; inputs sit away from every kink and branch boundary of
the function they feed.
"""
import math

import numpy as np

import s2sad

# -- inputs ------------------------------------------------------------------------

A = 0.7          # a positive Python float away from 0, 1 and every branch boundary
B = 1.3
NEG = -0.45
VEC = np.array([0.55, -0.8, 1.25, 0.35])
POSV = np.array([0.6, 1.15, 0.85, 1.4])
SMALL = np.array([0.3, -0.55, 0.8])
MAT = np.array([[0.3, -0.7, 1.1, 0.45],
                [0.95, 0.25, -0.35, 0.8],
                [-0.6, 1.35, 0.5, -0.15]])
SQ = np.array([[1.2, 0.3, -0.2], [0.1, 0.9, 0.4], [-0.3, 0.2, 1.4]])
CUBE = np.linspace(-1.05, 1.25, 24).reshape(2, 3, 4)

CASES = {}
FEATURES = {}
REFERENCES = {}  # case id -> the function the oracles differentiate instead (stop_gradient)


def _register(feature, entries):
    """Add (function, args) or (case id, function, args) entries under `feature`."""
    for entry in entries:
        case_id, fn, args = entry if len(entry) == 3 else (entry[0].__name__,) + entry
        assert case_id not in CASES, case_id
        CASES[case_id] = (fn, args)
        FEATURES[case_id] = feature


# -- feature: lambda functions (simple, several arguments, nested calls, NumPy inside) -


def lam_square(x):
    sq = lambda t: t ** 2
    return sq(x) + 1.0


def lam_two_args(x):
    mul = lambda p, q: p * q
    return mul(x, np.sin(x))


def lam_composed(x):
    outer = lambda t: np.exp(t)
    inner = lambda t: 0.5 * t + 1.0
    return outer(inner(x))


def lam_relu_hidden(x):
    relu = lambda z: np.maximum(0.0, z)
    hidden = relu(x * 0.5)
    return np.sum(hidden ** 2)


def lam_reads_local(x):
    k = x * x
    scale = lambda t: t * k
    return scale(np.cos(x))


def lam_default_param(x):
    power = lambda t, p=2.0: t ** p
    return power(x) + power(x, 3.0)


def lam_called_in_loop(x):
    step = lambda t: 0.5 * t + np.sin(t)
    for _ in range(3):
        x = step(x)
    return x


def lam_called_twice_array(x):
    smooth = lambda v: np.log1p(v * v)
    return np.sum(smooth(x) * smooth(2.0 * x))


def lam_immediate(x):
    return (lambda t: t * t * t)(x)


def lam_late_binding(x):
    k = 2.0
    scale = lambda t: t * k
    k = x * x
    return scale(x)


def lam_default_binds_early(x):
    k = np.sin(x)
    scale = lambda t, k=k: t * k
    k = 100.0
    return scale(x)


def lam_returns_tuple(x):
    pair = lambda t: (t, t * t)
    a, b = pair(x)
    return a * np.exp(b)


def lam_in_comprehension(x):
    sq = lambda t: t * t + 0.5
    return sum([sq(x * k) for k in range(3)])


def lam_keyword_call(x):
    mix = lambda a, b=1.0: a * b - a
    return mix(b=np.cos(x), a=x)



def lam_param_shadows_outer(x):
    double = lambda x: x * 2.0
    return double(x * 3.0) + x


def lam_made_by_local_factory(x):
    def make(k):
        return lambda t: t * k
    times_x = make(x)
    return times_x(np.sin(x))


def lam_default_is_shared_array(x):
    k = x * 1.0
    dot = lambda t, k=k: np.sum(t * k)
    k[0] = 5.0
    return dot(x)


def lam_sees_inplace_update(x):
    w = x * 1.0
    dot = lambda t: np.sum(w * t)
    w += 1.0
    return dot(x)



def lam_nested_lambda(x):
    f = lambda t: (lambda u: u * t)(t + 1.0)
    return f(x)


def lam_conditional_body(x):
    f = lambda t: t if t > 0 else -t
    return f(x) + f(x - 1.0)



def _apply_then_add(fn, v):
    return fn(v) + v


def lam_passed_to_helper(x):
    return _apply_then_add(lambda t: t * t, x)


def lam_stored_in_dict(x):
    ops = {"sq": lambda t: t * t, "cube": lambda t: t ** 3}
    return ops["sq"](x) + ops["cube"](x)


def lam_mapped(x):
    return sum(map(lambda t: t * t, [x, 2.0 * x]))



_register("lambda functions", [
    (lam_square, (A,)), (lam_two_args, (A,)), (lam_composed, (A,)), (lam_relu_hidden, (VEC,)),
    (lam_reads_local, (A,)), (lam_default_param, (A,)), (lam_called_in_loop, (A,)),
    (lam_called_twice_array, (VEC,)), (lam_immediate, (A,)), (lam_late_binding, (A,)),
    (lam_default_binds_early, (A,)), (lam_returns_tuple, (A,)), (lam_in_comprehension, (A,)),
    (lam_keyword_call, (A,)), (lam_param_shadows_outer, (A,)),
    (lam_made_by_local_factory, (A,)), (lam_default_is_shared_array, (VEC,)),
    (lam_sees_inplace_update, (VEC,)), (lam_nested_lambda, (A,)), (lam_conditional_body, (A,)),
    (lam_passed_to_helper, (A,)), (lam_stored_in_dict, (A,)), (lam_mapped, (A,)),
])


# -- feature: closures and captured variables (factories, closure of a closure, lambdas
#    capturing, arrays captured, several captures, parameters and locals mixed) -----------


def make_target_loss(target):
    def loss(prediction):
        return (prediction - target) ** 2
    return loss


def make_weighted_loss(target, weight):
    def loss(prediction):
        return weight * (prediction - target) ** 2 + 0.1 * prediction
    return loss


def make_leaky(alpha):
    def act(x):
        return np.sum(np.maximum(alpha * x, x) ** 2)
    return act


def make_affine_then(slope):
    def with_offset(offset):
        def f(x):
            return np.tanh(slope * x + offset)
        return f
    return with_offset


def make_scaled_lambda(w):
    return lambda x: w * np.tanh(x) + x * x


def make_array_weighted(weights):
    def f(x):
        return np.sum(weights * x ** 2)
    return f


def closure_mixed_captures(x, c):
    base = 2.0 * x

    def g(t):
        return t * base + c * np.sin(t)
    return g(x)


def closure_nested_def_calls_nested_def(x):
    shift = 0.25

    def inner(t):
        return t * t + shift

    def outer(t):
        return np.exp(-inner(t))
    return outer(x) + inner(x)


def closure_rebound_after_def(x):
    c = 1.0

    def g(t):
        return t * c
    c = np.exp(x)
    return g(x)


def closure_in_loop_reads_index(x):
    total = 0.0
    for i in range(3):
        def term(t):
            return t ** (i + 1)
        total = total + term(x)
    return total


def closure_returns_early(x):
    def piece(t):
        if t > 0.5:
            return t * t
        return -t
    return piece(x) + piece(x - 0.5)


def closure_reads_array_local(x):
    w = np.cos(x)

    def score(v):
        return np.sum(v * w)
    return score(x) * score(np.ones(4))



def closure_appends_to_enclosing_list(x):
    acc = []

    def add(v):
        acc.append(v)
    add(x)
    add(x * x)
    return sum(acc)


def closure_sees_element_write(x):
    w = np.zeros(2)

    def g(t):
        return np.sum(w) * t
    w[0] = x[0]
    return g(x[1])


def closure_default_binds_at_def(x):
    def g(t, k=x * x):
        return t * k
    x = x * 3.0
    return g(x)


def closure_reads_loop_carried(x):
    c = 0.0

    def g(t):
        return t * c
    total = 0.0
    for _ in range(3):
        c = c + x
        total = total + g(1.0)
    return total


def closure_local_shadows_outer(x):
    y = x * x

    def g(t):
        y = t * 2.0
        return y
    z = g(x)
    return y + z


def closure_param_shadows_outer(x):
    y = np.sin(x)

    def g(y):
        return y * x
    return g(3.0) + y


def closure_return_in_loop(x):
    def first_big(v):
        for i in range(4):
            if v[i] > 1.0:
                return v[i] * 2.0
        return v[0]
    return first_big(x) * x[0]



_register("closures and captured variables", [
    ("closure_target_loss", make_target_loss(1.5), (A,)),
    ("closure_weighted_loss", make_weighted_loss(1.5, 0.8), (A,)),
    ("closure_leaky_relu", make_leaky(0.1), (VEC,)),
    ("closure_of_closure", make_affine_then(1.7)(-0.4), (A,)),
    ("closure_lambda_factory", make_scaled_lambda(2.5), (A,)),
    ("closure_array_captured", make_array_weighted(np.array([0.5, 1.5, -1.0, 2.0])), (VEC,)),
    (closure_mixed_captures, (A, B)), (closure_nested_def_calls_nested_def, (A,)),
    (closure_rebound_after_def, (A,)), (closure_in_loop_reads_index, (A,)),
    (closure_returns_early, (A,)), (closure_reads_array_local, (VEC,)),
    (closure_appends_to_enclosing_list, (A,)), (closure_sees_element_write, (VEC,)),
    (closure_default_binds_at_def, (A,)), (closure_reads_loop_carried, (A,)),
    (closure_local_shadows_outer, (A,)), (closure_param_shadows_outer, (A,)),
    (closure_return_in_loop, (VEC,)),
])


# -- feature: nested functions, default arguments, keyword arguments -----------------------


def _blend(x, y, weight=0.3, power=2.0):
    return weight * x ** power + (1.0 - weight) * y


def nested_def_with_default(x):
    def poly(t, c0=1.0, c1=-0.5):
        return c0 + c1 * t + t * t
    return poly(x) + poly(x, c1=2.0)


def helper_keywords_reordered(x):
    return _blend(y=np.cos(x), x=x, power=3.0)


def helper_defaults_only(x):
    return _blend(x, x * x)


def helper_keyword_active_value(x, y):
    return _blend(x, y, weight=y)


def nested_def_twice(x):
    def bump(t):
        return t / (1.0 + t * t)
    return bump(x) * bump(x + 1.0)


def nested_def_array(x):
    def normalize(v):
        return v / np.sqrt(np.sum(v * v))
    return np.sum(normalize(x) * np.arange(4.0))


def keyword_only_parameter(x, *, scale=2.0):
    return scale * np.sin(x)


def nested_def_passed_to_helper(x):
    def cube(t):
        return t ** 3
    return _apply_then_add(cube, x)


def nested_def_recursive(x):
    """Not in CASES: test_tangent_fork.py expects recursion refused, as README promises."""
    def power(t, n):
        if n == 0:
            return 1.0
        return t * power(t, n - 1)
    return power(x, 3)


def activation_as_default(x, act=np.tanh):
    return act(x) * x



_register("nested functions, default and keyword arguments", [
    (nested_def_with_default, (A,)), (helper_keywords_reordered, (A,)),
    (helper_defaults_only, (A,)), (helper_keyword_active_value, (A, B)),
    (nested_def_twice, (A,)), (nested_def_array, (VEC,)), (keyword_only_parameter, (A,)),
    (nested_def_passed_to_helper, (A,)),
    (activation_as_default, (A,)),
])


# -- feature: classes (methods inlined, instance attributes, methods calling methods,
#    several instances, NumPy in methods, inheritance, super().__init__, overrides) ------


class Quadratic:
    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c

    def value(self, x):
        return self.a * x ** 2 + self.b * x + self.c


class Gain:
    def __init__(self, factor):
        self.factor = factor

    def apply(self, x):
        return x * self.factor


class Pipeline:
    def square(self, x):
        return x * x

    def twice(self, x):
        return 2.0 * x

    def run(self, x):
        return self.twice(self.square(x))


class Shape:
    def __init__(self, scale):
        self.scale = scale

    def area(self, x):
        return self.scale * x * x

    def describe(self, x):
        return self.area(x) + 1.0


class Circle(Shape):
    def __init__(self, scale, offset):
        super().__init__(scale)
        self.offset = offset

    def area(self, x):
        return np.pi * (self.scale * x + self.offset) ** 2


class Disc(Circle):
    pass


class Smoother:
    def __init__(self, width):
        self.width = width

    def smooth(self, v):
        return np.tanh(v / self.width)

    def energy(self, v):
        return np.sum(self.smooth(v) ** 2)


def class_method_inlined(x):
    q = Quadratic(2.0, 3.0, 1.0)
    return q.value(x)


def class_attribute_factor(x):
    g = Gain(2.5)
    return g.apply(x) ** 2


def class_method_chain(x):
    p = Pipeline()
    return p.run(x)


def class_two_instances(x):
    small = Gain(0.5)
    big = Gain(4.0)
    return small.apply(x) * big.apply(np.sin(x))


def class_numpy_method(x):
    s = Smoother(1.5)
    return s.energy(x)


def class_attribute_from_argument(x):
    g = Gain(x)
    return g.apply(np.cos(x))


def class_inherited_override(x):
    c = Circle(1.2, 0.3)
    return c.describe(x)


def class_multilevel_inheritance(x):
    d = Disc(0.8, -0.2)
    return d.area(x) + d.describe(x)


def class_base_still_works(x):
    s = Shape(3.0)
    return s.describe(x)


def class_instance_passed_in(x, model):
    return model.value(x) + model.value(2.0 * x)


_register("classes and inheritance (methods inlined)", [
    (class_method_inlined, (A,)), (class_attribute_factor, (A,)), (class_method_chain, (A,)),
    (class_two_instances, (A,)), (class_numpy_method, (VEC,)),
    (class_attribute_from_argument, (A,)), (class_inherited_override, (A,)),
    (class_multilevel_inheritance, (A,)), (class_base_still_works, (A,)),
    (class_instance_passed_in, (A, Quadratic(0.5, -1.0, 2.0))),
])


# -- feature: conditional expressions (ternary: simple, nested, every comparison,
#    expressions in the branches, several in sequence) -------------------------------------


def ternary_relu(x):
    return x if x > 0 else 0.1 * x


def ternary_nested(x):
    return x * x if x > 1.0 else (np.sin(x) if x > 0.0 else -x)


def ternary_each_comparison(x, n):
    a = x * 2.0 if x < 1.0 else x
    b = a * a if a >= 0.5 else a
    c = b + x if b <= 3.0 else b
    d = c * 3.0 if n == 3 else c
    return d - x if n != 2 else d


def ternary_sequence(x):
    y = x ** 3 if x > 0 else 2 * x
    z = np.exp(y) if y < 1.0 else y
    return z * x if z > 0 else z


def ternary_clip(x):
    lo, hi = -0.5, 0.5
    y = np.sin(3.0 * x)
    return lo if y < lo else (hi if y > hi else y)


def ternary_on_array_sum(x):
    s = np.sum(x)
    return np.sum(x ** 2) if s > 0 else np.sum(np.abs(x))


def ternary_with_boolop(x):
    return x * x if x > 0 and x < 1 else -x


def ternary_array_or_scalar(x):
    s = np.sum(x)
    y = x * 2.0 if s > 0 else s
    return np.sum(y * x)


def ternary_in_loop(x):
    y = x
    for i in range(4):
        y = y * 1.1 if i % 2 == 0 else np.sin(y)
    return y


def ternary_as_argument(x):
    return np.exp(x if x < 1 else 1.0) + max(x, 1.0 - x)



_register("conditional expressions", [
    (ternary_relu, (A,)), ("ternary_relu@neg", ternary_relu, (NEG,)), (ternary_nested, (A,)),
    ("ternary_nested@big", ternary_nested, (B,)),
    ("ternary_nested@neg", ternary_nested, (NEG,)), (ternary_each_comparison, (A, 3)),
    (ternary_sequence, (A,)), (ternary_clip, (A,)),
    ("ternary_clip@small", ternary_clip, (0.1,)), (ternary_on_array_sum, (VEC,)),
    (ternary_with_boolop, (A,)), (ternary_array_or_scalar, (VEC,)), (ternary_in_loop, (A,)),
    (ternary_as_argument, (A,)),
])


# -- feature: list comprehensions (filters, nested, several generators, in code that is
#    not differentiated) ---------------------------------------------------------------------


def comp_powers_summed(x):
    terms = [x ** k / (k + 1.0) for k in range(1, 4)]
    return sum(terms)


def comp_filtered(x):
    even = [x * i for i in range(6) if i % 2 == 0]
    return np.sum(np.array(even) ** 2)


def comp_nested(x):
    grid = [[x * i + j for j in range(2)] for i in range(3)]
    return np.sum(np.sin(np.array(grid)))


def comp_two_generators(x):
    pairs = [p * q for p in (1.0, 2.0) for q in (0.5, 1.5)]
    return x * sum(pairs) + x * x


def comp_constant_coefficients(x):
    coeffs = [float(k) for k in range(4)]
    return np.sum(x * np.array(coeffs))


def comp_over_rows(x):
    w = np.array([0.5, -1.0, 0.25, 2.0])
    scores = [np.dot(row, w) for row in x]
    return np.sum(np.tanh(np.array(scores)))


def comp_over_elements(x):
    return sum([np.exp(-t * t) for t in x])


def comp_generator_in_sum(x):
    return sum(np.cos(x * k) for k in range(3))


def comp_zip_pairs(x):
    w = np.array([0.5, 1.5, -1.0, 2.0])
    return sum([a * b for a, b in zip(x, w)])


def comp_enumerate(x):
    return sum([i * np.sin(t) for i, t in enumerate(x)])


def comp_dict(x):
    d = {k: x * v for k, v in (("a", 1.0), ("b", 2.0))}
    return d["a"] * d["b"]


def comp_helper_inside(x):
    def f(t):
        return np.tanh(t) * t
    return np.sum(np.array([f(x * k) for k in (1.0, 2.0)]))


def comp_max_of_generator(x):
    return max(x * k - k * k for k in range(1, 4))



def comp_variable_shadows_param(x):
    ys = [x * 2.0 for x in range(3)]
    return x * sum(ys)


def gen_variable_shadows_param(x):
    s = sum(x * x for x in (1.0, 2.0))
    return s * x


def comp_ragged_nested(x):
    grid = [[i * j * x for j in range(i)] for i in range(4)]
    return sum(sum(row) for row in grid)


def comp_generator_to_array(x):
    return np.sum(np.array(list(t * x for t in range(3))) ** 2)


def comp_filter_on_active_values(x):
    return sum([t * t for t in x if t > 0])


def comp_dict_over_range(x):
    d = {i: x ** i for i in range(3)}
    return d[0] + d[1] * d[2]



_register("list comprehensions", [
    (comp_powers_summed, (A,)), (comp_filtered, (A,)), (comp_nested, (A,)),
    (comp_two_generators, (A,)), (comp_constant_coefficients, (VEC,)), (comp_over_rows, (MAT,)),
    (comp_over_elements, (VEC,)), (comp_generator_in_sum, (A,)), (comp_zip_pairs, (VEC,)),
    (comp_enumerate, (VEC,)), (comp_dict, (A,)), (comp_helper_inside, (A,)),
    (comp_max_of_generator, (A,)), (comp_variable_shadows_param, (A,)),
    (gen_variable_shadows_param, (A,)), (comp_ragged_nested, (A,)),
    (comp_generator_to_array, (A,)), (comp_filter_on_active_values, (VEC,)),
    (comp_dict_over_range, (A,)),
])


# -- feature: boolean operators and, or, not (short circuit, chains, nested, with NumPy
#    comparisons) ------------------------------------------------------------------------------


def bool_and_range(x):
    if x > 0 and x < 5:
        return x * x
    return -x


def bool_or_boundary(x):
    if x < 0.2 or x > 2.0:
        return np.exp(x)
    return np.sin(x)


def bool_not(x):
    if not x < 0:
        return x ** 3
    return x


def bool_two_bands(x):
    if (x > 0 and x < 5) or (x > 10 and x < 15):
        return np.log(x)
    return x


def bool_three_and(x):
    if x > 0 and x < 10 and x != 5:
        return x * np.cos(x)
    return 0.0 * x


def bool_not_of_or(x):
    if not (x < 0 or x > 10):
        return x / (1.0 + x)
    return x


def bool_numpy_comparisons(x):
    if np.sum(x) > 0 and np.max(x) < 10:
        return np.sum(x ** 2)
    return np.sum(x)


def bool_value_used(x, y):
    both = x > 0 and y > 0
    return x * y if both else x + y


def bool_or_value(x):
    fallback = None
    scale = fallback or 2.0
    return scale * x


def bool_and_returns_value(x):
    y = x > 0 and x * 2.0
    return y * x


def bool_or_returns_active(x):
    y = x or 1.0
    return y * y


def bool_or_first_falsy(x):
    zero = 0.0
    y = zero or np.sin(x)
    return y + x


def bool_chained_active_middle(x):
    if 0.0 < x * 2.0 < 3.0:
        return np.exp(-x)
    return x


def bool_short_circuit_index(x):
    i = 0
    while i < 4 and x[i] > -0.5:
        i += 1
    return np.sum(x[:i] ** 2)



def bool_and_with_walrus(x):
    if (y := x * 2.0) > 1.0 and (z := y * 3.0) > 0.0:
        return y * z
    return y


def bool_and_array_value(x):
    y = (x.shape[0] > 2) and x * 2.0
    return np.sum(y * x)



def bool_or_falsy_difference(x):
    y = (x - x) or x
    return y * y



_register("boolean operators", [
    (bool_and_range, (A,)), ("bool_and_range@neg", bool_and_range, (NEG,)),
    (bool_or_boundary, (A,)), ("bool_or_boundary@big", bool_or_boundary, (2.5,)),
    (bool_not, (A,)), ("bool_not@neg", bool_not, (NEG,)), (bool_two_bands, (A,)),
    ("bool_two_bands@far", bool_two_bands, (12.5,)), (bool_three_and, (A,)),
    (bool_not_of_or, (A,)), (bool_numpy_comparisons, (VEC,)), (bool_value_used, (A, B)),
    ("bool_value_used@neg", bool_value_used, (A, NEG)), (bool_or_value, (A,)),
    (bool_and_returns_value, (A,)), (bool_or_returns_active, (A,)), (bool_or_first_falsy, (A,)),
    (bool_chained_active_middle, (A,)), (bool_short_circuit_index, (VEC,)),
    (bool_and_with_walrus, (A,)), (bool_and_array_value, (VEC,)),
    (bool_or_falsy_difference, (A,)),
])


# -- feature: augmented assignment (+= -= *= /= **= //= %=) -------------------------------


def aug_all_scalar(x):
    y = x
    y += 1.0
    y -= 0.25 * x
    y *= x
    y /= 1.0 + x
    y **= 2
    return y


def aug_floor_div(x):
    y = 3.0 * x
    q = y
    q //= 1.0
    return y * q + x


def aug_modulo(x):
    y = 3.0 * x
    y %= 1.0
    return y * y


def aug_accumulate_loop(x):
    total = 0.0
    for k in range(1, 5):
        total += x ** k
    return total


def aug_gradient_step(w):
    lr = 0.1
    for _ in range(3):
        g = 2.0 * (w - 1.0)
        w -= lr * g
    return w * w


def aug_array(x):
    y = x * 1.0
    y += np.sin(x)
    y *= 0.5
    y /= 2.0
    return np.sum(y ** 2)


def aug_element_of_local(x):
    y = np.zeros(4)
    y[1] += x[0] * 2.0
    y[2] -= x[3] ** 2
    y[:2] *= x[2]
    return np.sum(y * x)


def aug_matrix_column(x):
    y = x.copy()
    y[:, 0] *= 2.0
    y[1, :] /= 3.0
    return np.sum(y ** 2)


def aug_pow_array(x):
    y = x + 2.0
    y **= 3
    y %= 5.0
    return np.sum(y)


def aug_negative_modulo(x):
    y = -x
    y %= 1.0
    return y * x



_register("augmented assignment", [
    (aug_all_scalar, (A,)), (aug_floor_div, (A,)), (aug_modulo, (A,)),
    (aug_accumulate_loop, (A,)), (aug_gradient_step, (A,)), (aug_array, (VEC,)),
    (aug_element_of_local, (VEC,)), (aug_matrix_column, (MAT,)), (aug_pow_array, (SMALL,)),
    (aug_negative_modulo, (A,)),
])


# -- feature: for loops over range (stop; start, stop; step; the index used; nested;
#    branches inside; NumPy inside; no trips) ------------------------------------------------


def for_taylor_exp(x):
    total = 1.0
    term = 1.0
    for k in range(1, 8):
        term = term * x / k
        total = total + term
    return total


def for_start_stop(x):
    y = 0.0
    for i in range(2, 5):
        y = y + np.sin(i * x)
    return y


def for_step(x):
    y = x
    for i in range(1, 8, 3):
        y = y * x + i
    return y


def for_negative_step(x):
    y = 0.0
    for i in range(4, 0, -1):
        y = y * x + 1.0 / i
    return y


def for_nested(x):
    y = 0.0
    for i in range(3):
        for j in range(2):
            y = y + x ** (i + j) * 0.5
    return y


def for_branch_inside(x):
    y = x
    for i in range(4):
        if i % 2 == 0:
            y = y * x
        else:
            y = y + np.cos(x)
    return y


def for_numpy_inside(x):
    h = x
    for _ in range(3):
        h = np.tanh(h * 1.3 + 0.1)
    return np.sum(h)


def for_no_trips(x):
    y = x * x
    for i in range(3, 3):
        y = y * 100.0
    return y


def for_int_count(x, n):
    y = 1.0
    for _ in range(n):
        y = y * np.sin(x) + x
    return y


def for_coefficients_tuple(x):
    y = 0.0
    for c in (0.5, -1.0, 2.0, 0.25):
        y = y * x + c
    return y


def for_reversed_range(x):
    y = 0.0
    for i in reversed(range(4)):
        y = y * x + (i + 1.0)
    return y


def for_over_list_of_actives(x):
    total = 0.0
    for v in [x, x * x, np.sin(x)]:
        total = total + v * v
    return total


def for_enumerate_array(x):
    total = 0.0
    for i, v in enumerate(x):
        total = total + (i + 1) * v ** 2
    return total


def for_write_rows(x):
    out = np.zeros((3, 4))
    for i in range(3):
        out[i] = x * (i + 1.0)
    return np.sum(np.sin(out))



def for_index_leaks(x):
    for i in range(3):
        x = x * 1.5
    return x * i


def for_row_leaks(x):
    for row in x:
        pass
    return np.sum(row * 2.0)


def for_zip_lists(x):
    total = 0.0
    for a, b in zip([x, 2.0 * x], [1.0, 3.0]):
        total = total + a * b
    return total


def for_enumerate_reversed_list(x):
    total = 0.0
    for i, v in enumerate(reversed([x, x * x])):
        total = total * x + v + i
    return total



_register("for loops", [
    (for_taylor_exp, (A,)), (for_start_stop, (A,)), (for_step, (A,)), (for_negative_step, (A,)),
    (for_nested, (A,)), (for_branch_inside, (A,)), (for_numpy_inside, (VEC,)),
    (for_no_trips, (A,)), (for_int_count, (A, 3)), (for_coefficients_tuple, (A,)),
    (for_reversed_range, (A,)), (for_over_list_of_actives, (A,)), (for_enumerate_array, (VEC,)),
    (for_write_rows, (VEC,)), (for_index_leaks, (A,)), (for_row_leaks, (MAT,)),
    (for_zip_lists, (A,)), (for_enumerate_reversed_list, (A,)),
])


# -- feature: while loops (a counter, a value as the stop, compound conditions, nested,
#    branches inside, NumPy inside, several updates, no trips) --------------------------------


def while_counter(x):
    i = 0
    y = x
    while i < 4:
        y = y * 0.5 + np.sin(y)
        i += 1
    return y


def while_until_value(x):
    y = x
    while y < 10.0:
        y = y * 2.0
    return y


def while_compound(x):
    i = 0
    y = x
    while i < 10 and y < 5.0:
        y = y * 1.5 + 0.1
        i = i + 1
    return y


def while_nested(x):
    y = x
    i = 0
    while i < 2:
        j = 0
        while j < 3:
            y = y + x * 0.1 * (i + j)
            j += 1
        i += 1
    return y * y


def while_branch_inside(x):
    i = 0
    y = x
    while i < 5:
        if i % 2 == 1:
            y = y * x
        else:
            y = y + 1.0
        i += 1
    return y


def while_newton_sqrt(x):
    r = 1.0
    i = 0
    while i < 6:
        r = 0.5 * (r + x / r)
        i += 1
    return r


def while_several_updates(x):
    a = x
    b = 1.0
    i = 0
    while i < 3:
        a, b = a + b * 0.5, b * x
        i += 1
    return a * b


def while_no_trips(x):
    y = x
    while y > 100.0:
        y = y / 2.0
    return np.exp(y)


def while_numpy_array(x):
    i = 0
    while i < 3:
        x = x - 0.1 * np.tanh(x)
        i += 1
    return np.sum(x ** 2)


def while_value_array(x):
    i = 0
    while np.max(np.abs(x)) > 0.5 and i < 20:
        x = x * 0.8
        i += 1
    return np.sum(x)


def while_break_on_value(x):
    y = x
    while True:
        y = y * 1.5 + 0.1
        if y > 4.0:
            break
    return y



_register("while loops", [
    (while_counter, (A,)), (while_until_value, (A,)), (while_compound, (A,)),
    (while_nested, (A,)), (while_branch_inside, (A,)), (while_newton_sqrt, (B,)),
    (while_several_updates, (A,)), (while_no_trips, (A,)), (while_numpy_array, (VEC,)),
    (while_value_array, (VEC,)), (while_break_on_value, (A,)),
])


# -- feature: assert and pass (with a message, compound conditions, NumPy in the
#    condition, in loops and branches; pass as a placeholder) ---------------------------------


def assert_simple(x):
    assert x > 0
    return np.log(x)


def assert_message(x):
    assert x > 0, "x must be positive"
    return np.sqrt(x)


def assert_compound(x):
    assert x > 0 and x < 10, "x out of range"
    return x ** 1.5


def assert_numpy(x):
    assert np.all(np.isfinite(x))
    assert x.shape == (4,)
    return np.sum(np.sin(x))


def assert_in_loop(x):
    y = x
    for _ in range(3):
        assert y > 0
        y = np.sqrt(y) + 0.5
    return y


def pass_in_branches(x):
    if x > 0:
        pass
    else:
        x = -x
    y = x * x
    for _ in range(2):
        pass
    return y


def pass_only_branch(x):
    y = np.exp(x)
    if y > 100.0:
        pass
    elif y > 1.0:
        y = y * x
    else:
        pass
    return y


def assert_with_walrus(x):
    assert (y := x * 2.0) > 0
    return y * y



_register("assert and pass", [
    (assert_simple, (A,)), (assert_message, (A,)), (assert_compound, (A,)),
    (assert_numpy, (VEC,)), (assert_in_loop, (A,)), (pass_in_branches, (A,)),
    ("pass_in_branches@neg", pass_in_branches, (NEG,)), (pass_only_branch, (A,)),
    (assert_with_walrus, (A,)),
])


# -- feature: dictionaries, read only (a dict argument, a dict default, a module dict,
#    nested dicts, a dict built in the function) --------------------------------------------

SETTINGS = {"scale": 2.0, "offset": 1.0, "inner": {"gain": 0.5}}


def dict_argument(x, cfg):
    return x * cfg["lr"] + x ** 2 * cfg["momentum"]


def dict_default_argument(x, cfg={"lr": 0.1, "momentum": 0.9}):
    return np.sin(x) * cfg["lr"] + x * cfg["momentum"]


def dict_global(x):
    return x * SETTINGS["scale"] + SETTINGS["offset"] * x * x


def dict_global_nested(x):
    return np.exp(x * SETTINGS["inner"]["gain"])


def dict_single_key(x):
    d = {"a": x}
    return d["a"] * d["a"]


def dict_two_keys(x):
    d = {"a": x, "b": x ** 2}
    return d["a"] + d["b"]


def dict_get_method(x, cfg):
    return x * cfg.get("lr", 0.5) + x * cfg.get("missing", 0.25)


def dict_active_values_param(p):
    return p["w"] * np.tanh(p["b"]) + p["w"] ** 2


def dict_rewritten_in_loop(x):
    d = {"a": x}
    for _ in range(2):
        d["a"] = d["a"] * x
    return d["a"]


def dict_written_through_alias(x):
    d = {"a": x}
    e = d
    e["a"] = x * 5.0
    return d["a"]


def dict_items_of_local(x):
    d = {"a": x, "b": x * x}
    total = 0.0
    for k, v in d.items():
        total = total + v * (2.0 if k == "a" else 1.0)
    return total



def dict_constructor_call(x):
    d = dict(a=x, b=2.0 * x)
    return d["a"] * d["b"]


def dict_get_active_default(x, cfg):
    return cfg.get("missing", x) * x



_register("dictionaries (read only)", [
    (dict_argument, (A, {"lr": 0.1, "momentum": 0.9})), (dict_default_argument, (A,)),
    (dict_global, (A,)), (dict_global_nested, (A,)), (dict_single_key, (A,)),
    (dict_two_keys, (A,)), (dict_get_method, (A, {"lr": 0.3})),
    (dict_active_values_param, ({"w": A, "b": B},)), (dict_rewritten_in_loop, (A,)),
    (dict_written_through_alias, (A,)), (dict_items_of_local, (A,)),
    (dict_constructor_call, (A,)), (dict_get_active_default, (A, {"lr": 0.1})),
])


# -- feature: tuples (access, indexing, unpacking, from a helper, multi-output) ------------


def _two_outputs(x):
    return x ** 2, x * 3.0


def tuple_unpack_pair(x):
    a, b = x ** 2, x * 3
    return a + b


def tuple_unpack_twice(x):
    a, b = x ** 2, x * 3
    c, d = a + 1, b * 2
    return c * d


def tuple_unpack_helper(x):
    a, b = _two_outputs(x)
    return a * b


def tuple_index_local(x):
    t = (x, np.sin(x), x * x)
    return t[0] * t[2] + t[-2]


def tuple_nested_unpack(x):
    (a, b), c = (x, 2.0 * x), np.cos(x)
    return a * b * c


def tuple_helper_indexed(x):
    return _two_outputs(x)[1] * _two_outputs(x)[0]


def tuple_output_first(x):
    return _two_outputs(np.sin(x))[0]


def tuple_output_pair(x):
    return x ** 2, x * 3.0


def tuple_output_array_pair(x):
    return np.sum(x ** 2), np.tanh(x)


def tuple_shape_unpack(x):
    rows, cols = x.shape
    return np.sum(x) / (rows * cols) + np.sum(x ** 2)


def tuple_star_unpack(x):
    first, *rest = (x, x * 2.0, x * 3.0)
    return first * rest[0] + rest[1]


def tuple_swap_names(x):
    a, b = x, np.sin(x)
    a, b = b, a
    return a * 2.0 + b


def tuple_loop_carried(x):
    a, b = 1.0, x
    for _ in range(3):
        a, b = b, a + b * x
    return b



def tuple_same_name_twice(x):
    a, a = x, 2.0 * x
    return a * x


def tuple_swap_elements(x):
    y = x * 1.0
    y[0], y[1] = y[1], y[0]
    return np.sum(y * np.arange(4.0))


def tuple_indexed_by_loop(x):
    pair = (x, x * x)
    total = 0.0
    for i in range(2):
        total = total + pair[i] * (i + 1)
    return total



def tuple_unpack_array(x):
    a, b, c, d = x
    return a * b + c * d


def tuple_star_unpack_array(x):
    first, *rest = x
    return first * sum(rest)


def tuple_zip_star(x):
    pairs = [(x, 1.0), (2.0 * x, 3.0)]
    firsts, seconds = zip(*pairs)
    return sum(firsts) * seconds[1]



_register("tuples and multiple outputs", [
    (tuple_unpack_pair, (A,)), (tuple_unpack_twice, (A,)), (tuple_unpack_helper, (A,)),
    (tuple_index_local, (A,)), (tuple_nested_unpack, (A,)), (tuple_helper_indexed, (A,)),
    (tuple_output_first, (A,)), (tuple_output_pair, (A,)), (tuple_output_array_pair, (VEC,)),
    (tuple_shape_unpack, (MAT,)), (tuple_star_unpack, (A,)), (tuple_swap_names, (A,)),
    (tuple_loop_carried, (A,)), (tuple_same_name_twice, (A,)), (tuple_swap_elements, (VEC,)),
    (tuple_indexed_by_loop, (A,)), (tuple_unpack_array, (VEC,)),
    (tuple_star_unpack_array, (VEC,)), (tuple_zip_star, (A,)),
])


# -- feature: NumPy slicing (colon slices, steps, negative indices, ellipsis, newaxis) ----


def slice_colon_column(x):
    return np.sum(x[:, 1] * x[:, 2])


def slice_rows_from(x):
    return np.sum(x[1:, :] ** 2)


def slice_ellipsis(x):
    return np.sum(np.sin(x[..., 1]))


def slice_ellipsis_leading(x):
    return np.sum(x[0, ...] * x[1, ...])


def slice_negative_step(x):
    return np.sum(x[::-1] * np.arange(4.0))


def slice_interior(x):
    return np.sum(x[1:-1] ** 3)


def slice_newaxis(x):
    outer = x[:, None] * x[None, :]
    return np.sum(outer)


def slice_element_negative(x):
    return x[-1, -2] * x[0, 0] + x[1][2]


def slice_ellipsis_newaxis(x):
    return np.sum(x[..., None] * x[None, ...])


def slice_mask(x):
    return np.sum(x[x > 0] ** 2)


def slice_fancy_repeat(x):
    return np.sum(x[[0, 0, 2]] * np.array([1.0, 2.0, 3.0]))


def slice_write_ellipsis(x):
    y = np.zeros((2, 3, 4))
    y[..., 0] = x[..., 1]
    return np.sum(y * x)



_register("NumPy slicing and ellipsis", [
    (slice_colon_column, (MAT,)), (slice_rows_from, (MAT,)), (slice_ellipsis, (CUBE,)),
    (slice_ellipsis_leading, (CUBE,)), (slice_negative_step, (VEC,)), (slice_interior, (VEC,)),
    (slice_newaxis, (VEC,)), (slice_element_negative, (MAT,)), (slice_ellipsis_newaxis, (VEC,)),
    (slice_mask, (VEC,)), (slice_fancy_repeat, (VEC,)), (slice_write_ellipsis, (CUBE,)),
])


# -- feature: extended NumPy gradients (abs square reciprocal negative; log10 log2 log1p
#    expm1; min max prod; matmul inv outer trace; squeeze expand_dims concatenate stack;
#    minimum clip where; sign floor ceil; var std) ----------------------------------------


def np_elementwise_basic(x):
    return np.sum(np.abs(x) + np.square(x) + np.reciprocal(x) + np.negative(x))


def np_logarithms(x):
    return np.sum(np.log10(x) + np.log2(x) + np.log1p(x) + np.expm1(x))


def np_reductions_minmax(x):
    return np.min(x) * np.max(x) + np.prod(x)


def np_matmul_inv(x):
    return np.trace(np.linalg.inv(x) @ np.matmul(x, x))


def np_outer_trace(x):
    return np.trace(np.outer(x, np.sin(x)))


def np_squeeze_expand(x):
    col = np.expand_dims(x, 1)
    return np.sum(np.squeeze(col * 2.0) ** 2)


def np_concatenate_stack(x):
    joined = np.concatenate([x, x ** 2])
    stacked = np.stack([x, np.cos(x)])
    return np.sum(joined) + np.sum(stacked[1] * stacked[0])


def np_minimum_clip_where(x):
    m = np.minimum(x, 0.5)
    c = np.clip(x, -0.6, 1.0)
    w = np.where(x > 0, x ** 2, -x)
    return np.sum(m * c + w)


def np_piecewise_constants(x):
    return np.sum(x * np.sign(x) + np.floor(2.0 * x) * x + np.ceil(x) * x)


def np_var_std(x):
    return np.var(x) + np.std(x) * 2.0


def np_var_std_axis(x):
    return np.sum(np.var(x, axis=0)) + np.sum(np.std(x, axis=1, ddof=1))


_register("extended NumPy", [
    (np_elementwise_basic, (VEC,)), (np_logarithms, (POSV,)), (np_reductions_minmax, (POSV,)),
    (np_matmul_inv, (SQ,)), (np_outer_trace, (VEC,)), (np_squeeze_expand, (VEC,)),
    (np_concatenate_stack, (VEC,)), (np_minimum_clip_where, (VEC,)),
    (np_piecewise_constants, (VEC,)), (np_var_std, (VEC,)), (np_var_std_axis, (MAT,)),
])


# -- feature: neural-network activations (ReLU, sigmoid, ELU, leaky ReLU, softplus,
#    softmax) in NumPy ---------------------------------------------------------------------


def act_relu(x):
    return np.sum(np.maximum(x, 0.0) * x)


def act_sigmoid(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def act_elu(x):
    return np.sum(np.where(x > 0, x, np.exp(x) - 1.0))


def act_leaky_relu(x):
    return np.sum(np.where(x > 0, x, 0.01 * x) ** 2)


def act_softplus(x):
    return np.sum(np.log1p(np.exp(x)))


def act_softmax_cross_entropy(x):
    shifted = x - np.max(x)
    p = np.exp(shifted) / np.sum(np.exp(shifted))
    return -np.log(p[2])


def act_two_layer(x, W):
    h = np.tanh(W @ x)
    return np.sum(1.0 / (1.0 + np.exp(-h)))


_register("activations", [
    (act_relu, (VEC,)), (act_sigmoid, (VEC,)), (act_elu, (VEC,)), (act_leaky_relu, (VEC,)),
    (act_softplus, (VEC,)), (act_softmax_cross_entropy, (VEC,)), (act_two_layer, (VEC, MAT)),
])


# -- feature: loop control (break, continue, early return; tangent-ad 0.3.0) ---------------


def for_break(x):
    y = x
    for i in range(10):
        y = y * 1.5
        if y > 3.0:
            break
    return y


def for_continue(x):
    y = 0.0
    for i in range(6):
        if i % 3 == 0:
            continue
        y = y + x ** i
    return y


def for_early_return(x):
    y = x
    for i in range(5):
        y = y * y + 0.2
        if y > 1.0:
            return y * 2.0
    return y


def while_break(x):
    y = x
    i = 0
    while True:
        y = np.sin(y) + y
        i += 1
        if i >= 3:
            break
    return y


def early_return_branch(x):
    if x > 1.0:
        return np.log(x)
    y = x * x
    return y + 1.0


_register("loop control: break, continue, early return", [
    (for_break, (A,)), (for_continue, (A,)), (for_early_return, (A,)), (while_break, (A,)),
    (early_return_branch, (A,)), ("early_return_branch@big", early_return_branch, (B,)),
])


# -- feature: list building (append in a loop, then sum / np.array / np.stack;
#    tangent-ad 0.3.0) ---------------------------------------------------------------------


def list_append_sum(x):
    parts = []
    for k in range(4):
        parts.append(x ** k * 0.5)
    return sum(parts)


def list_append_array(x):
    values = []
    for k in range(3):
        values.append(np.sin(x + k))
    return np.sum(np.array(values) ** 2)


def list_append_stack_rows(x):
    rows = []
    h = x
    for _ in range(3):
        h = np.tanh(h + 0.1)
        rows.append(h)
    return np.sum(np.stack(rows) * np.arange(3.0)[:, None])


def list_literal_then_append(x):
    items = [x, 2.0 * x]
    items.append(x * x)
    return items[0] * items[1] + items[2]


def list_index_after_build(x):
    out = []
    for i in range(3):
        out.append(x * (i + 1))
    return out[-1] * out[0]


def list_extend_concat(x):
    a = [x, x * x]
    b = a + [np.exp(x)]
    return sum(b)


def list_pop_and_insert(x):
    items = [x, x * 2.0, x * 3.0]
    last = items.pop()
    items.insert(0, np.sin(x))
    return items[0] * last + items[1]


def list_len_and_slice(x):
    items = []
    for k in range(4):
        items.append(x + k)
    head = items[:2]
    return sum(head) * len(items)



def list_grow_by_plus(x):
    items = []
    for k in range(3):
        items = items + [x * k]
    return sum(items)


def list_plus_equals(x):
    items = [x]
    items += [x * x]
    return sum(items)


def list_extend_method(x):
    items = [x]
    items.extend([x * 2.0, x * x])
    return sum(items)


def list_reverse_method(x):
    items = [x, x * x]
    items.reverse()
    return items[0] * 2.0 + items[1]


def list_set_items_in_loop(x):
    items = [0.0, 0.0, 0.0]
    for i in range(3):
        items[i] = x ** (i + 1)
    return items[0] + items[1] * items[2]


def list_of_arrays_last(x):
    hs = [x]
    for _ in range(3):
        hs.append(np.tanh(hs[-1]))
    return np.sum(hs[-1] * hs[1])


def list_alias_then_append(x):
    a = [x, 2.0 * x]
    b = a
    b.append(x * x)
    return sum(a)


def list_sum_with_start(x):
    return sum([x, x * x], x * 3.0)



def list_repeated(x):
    return sum([x] * 3) * x



_register("list building", [
    (list_append_sum, (A,)), (list_append_array, (A,)), (list_append_stack_rows, (VEC,)),
    (list_literal_then_append, (A,)), (list_index_after_build, (A,)),
    (list_extend_concat, (A,)), (list_pop_and_insert, (A,)), (list_len_and_slice, (A,)),
    (list_grow_by_plus, (A,)), (list_plus_equals, (A,)), (list_extend_method, (A,)),
    (list_reverse_method, (A,)), (list_set_items_in_loop, (A,)), (list_of_arrays_last, (VEC,)),
    (list_alias_then_append, (A,)), (list_sum_with_start, (A,)), (list_repeated, (A,)),
])


# -- feature: second and third derivatives (tangent-ad 0.3.0; grad of grad and hessian)


def deriv_poly(x):
    return x ** 4 - 2.0 * x ** 3 + x


def deriv_exp_sin(x):
    return np.exp(np.sin(x))


def deriv_loop_product(x):
    y = 1.0
    for k in range(1, 4):
        y = y * (x + 0.1 * k)
    return y


def deriv_branch(x):
    if x > 0:
        return x ** 3 * np.cos(x)
    return x


def deriv_array_quartic(x):
    return np.sum(x ** 4) + np.prod(x[:2]) * x[2]


_register("second and third derivatives", [
    (deriv_poly, (A,)), (deriv_exp_sin, (A,)), (deriv_loop_product, (A,)), (deriv_branch, (A,)),
    (deriv_array_quartic, (SMALL,)),
])


# -- feature: custom gradients and stop_gradient (tangent-ad 0.3.0: custom_vjp,
#    stop_gradient; s2sad spells them s2sad.adjoint / s2sad.tangent and
#    s2sad.non_differentiable) -------------------------------------------------------------


def fork_soft_square(x):
    """A function with a rule registered below (its body is not read for the derivative)."""
    return np.sqrt(x * x + 1.0) - 1.0


@s2sad.adjoint(fork_soft_square)
def _fork_soft_square_adjoint(dy, y, x):
    dx = dy * x / np.sqrt(x * x + 1.0)
    return dx


@s2sad.tangent(fork_soft_square)
def _fork_soft_square_tangent(y, x, x_dot):
    return x_dot * x / np.sqrt(x * x + 1.0)


def fork_frozen_scale(x):
    """A value treated as a constant by differentiation, as stop_gradient does."""
    return x * 2.0


s2sad.non_differentiable(fork_frozen_scale)


def custom_rule_used(x):
    return fork_soft_square(np.sin(x)) * x


def custom_rule_array(x):
    return np.sum(fork_soft_square(x) * x)


def stop_gradient_like(x):
    return fork_frozen_scale(x) * x


def stop_gradient_array(x):
    return np.sum(x * fork_frozen_scale(np.sin(x)))


_register("custom gradients and stop_gradient", [
    (custom_rule_used, (A,)), (custom_rule_array, (VEC,)), (stop_gradient_like, (A,)),
    (stop_gradient_array, (VEC,)),
])
# the frozen value is a constant at the point of the call: the oracles differentiate that
REFERENCES["stop_gradient_like"] = lambda x: fork_frozen_scale(A) * x
REFERENCES["stop_gradient_array"] = lambda x: np.sum(x * fork_frozen_scale(np.sin(VEC)))


# -- feature: differentiable simulators (tangent-ad: odeint; the fork's building-energy
#    example: a dict of parameters, a loop over a schedule, += of a cost) -------------------


def sim_euler_decay(k):
    y = 1.0
    dt = 0.1
    for _ in range(10):
        y = y + dt * (-k * y + np.sin(y))
    return y


def sim_rk4_oscillator(state):
    dt = 0.05
    for _ in range(8):
        p, q = state[0], state[1]
        k1 = np.array([q, -np.sin(p)])
        s2 = state + 0.5 * dt * k1
        k2 = np.array([s2[1], -np.sin(s2[0])])
        s3 = state + 0.5 * dt * k2
        k3 = np.array([s3[1], -np.sin(s3[0])])
        s4 = state + dt * k3
        k4 = np.array([s4[1], -np.sin(s4[0])])
        state = state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return state[0] ** 2 + state[1]


def sim_heating_cost(heating, outdoor, price, params):
    temp = params["t0"]
    cost = 0.0
    for t in range(len(heating)):
        rate = (outdoor[t] - temp) / (params["r"] * params["c"]) + heating[t] / params["c"]
        temp = temp + params["dt"] * rate
        cost += price[t] * heating[t] + params["comfort"] * (temp - params["target"]) ** 2
    return cost


_HEAT_PARAMS = {"t0": 18.0, "r": 2.0, "c": 5.0, "dt": 0.5, "comfort": 0.3, "target": 20.0}

_register("differentiable simulators", [
    (sim_euler_decay, (A,)), (sim_rk4_oscillator, (np.array([0.6, -0.2]),)),
    (sim_heating_cost, (np.array([1.5, 2.0, 0.5, 1.0]), np.array([5.0, 4.5, 6.0, 7.5]),
                        np.array([0.2, 0.35, 0.3, 0.1]), _HEAT_PARAMS)),
])


# -- feature: gradients in several arguments at once (README "Multiple Gradients") ---------


def multi_two_scalars(x, y):
    return x * x * y + np.sin(y) / (1.0 + x * x)


def multi_scalar_and_array(s, v):
    return np.sum(np.tanh(s * v)) + s ** 3


def multi_linear_regression(w, X, y, b):
    residual = X @ w + b - y
    return np.mean(residual ** 2)


def multi_three_with_helper(x, y, z):
    return _blend(x, y, weight=0.25) * z + np.exp(-z * y)


_register("gradients in several arguments", [
    (multi_two_scalars, (A, B)), (multi_scalar_and_array, (A, VEC)),
    (multi_linear_regression, (POSV, MAT, np.array([0.5, -0.25, 1.0]), 0.3)),
    (multi_three_with_helper, (A, B, NEG)),
])


# -- feature: operators and statements of the base language (arithmetic with // and %,
#    comparisons, if/elif/else, chained comparisons, multiple assignment) ------------------


def ops_floor_mod(x):
    whole = x // 0.25
    frac = x % 0.25
    return whole * x + frac * frac


def ops_elif_chain(x):
    if x < 0.0:
        y = -x
    elif x < 0.5:
        y = x * x
    elif x < 1.0:
        y = np.sin(x) * x
    else:
        y = np.log(x)
    return y


def ops_chained_comparison(x):
    if 0.0 < x < 1.0:
        return x * (1.0 - x)
    return x


def ops_chain_assign(x):
    a = b = x * 2.0
    return a * b + a


def ops_unary_and_pow(x):
    return -x ** 2 + (+x) * 3.0 - (-x) ** 3


def ops_matmul_operator(x):
    return np.sum((x @ x.T) ** 2)


def ops_sorted_builtin(x):
    return sorted([x, 1.0 - x, x * x])[0] * x


def ops_round_and_abs(x):
    return round(x * 10.0) * x + abs(x - 1.0)


def ops_math_prod(x):
    return math.prod([x, x + 1.0, 2.0])


def ops_del_then_reuse(x):
    y = x * 2.0
    del y
    y = x * 3.0
    return y * y


def ops_is_none_default(x, w=None):
    if w is None:
        w = 2.0
    return w * x


def ops_in_constant_tuple(x, n):
    if n in (1, 3) and isinstance(x, float):
        return x * x
    return x



def ops_builtin_max_of_array(x):
    return max(x) * 2.0 + min(x)


def ops_builtin_sum_of_matrix(x):
    return np.sum(sum(x) ** 2)



_register("operators and base statements", [
    (ops_floor_mod, (A,)), (ops_elif_chain, (A,)),
    ("ops_elif_chain@neg", ops_elif_chain, (NEG,)),
    ("ops_elif_chain@small", ops_elif_chain, (0.3,)),
    ("ops_elif_chain@big", ops_elif_chain, (B,)), (ops_chained_comparison, (A,)),
    ("ops_chained_comparison@big", ops_chained_comparison, (B,)), (ops_chain_assign, (A,)),
    (ops_unary_and_pow, (A,)), (ops_matmul_operator, (MAT,)), (ops_sorted_builtin, (A,)),
    (ops_round_and_abs, (A,)), (ops_math_prod, (A,)), (ops_del_then_reuse, (A,)),
    (ops_is_none_default, (A,)), (ops_in_constant_tuple, (A, 3)),
    (ops_builtin_max_of_array, (VEC,)), (ops_builtin_sum_of_matrix, (MAT,)),
])
