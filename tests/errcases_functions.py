"""Functions that s2sad must refuse, one per construct, for tests/test_errors.py.

Every offending line carries a marker comment `# E:<key>`; the tests find the
expected line by searching this file's text for the marker (never a hard-coded
number) and the expected column by searching that line for the construct.
Keep each marker unique.
"""
# flake8: noqa
import math

import numpy as np

import s2sad
import errcases_helpers
from errcases_helpers import softplus

G = 2.0


# -- statements refused by the subset check -------------------------------------

def has_class(x):
    class Inner:  # E:class
        scale = 2.0
    return x * 2.0


def has_nested_def(x):
    def helper(t):  # E:nested_def
        return t * 2.0
    return x * 2.0


def has_try(x):
    try:  # E:try
        y = x * 2.0
    except ValueError:
        y = x
    return y


def has_with(x):
    # (with np.errstate(...) is read as its body: it changes warnings, not values)
    with np.printoptions(precision=3):  # E:with
        y = np.log(x)
    return y


def has_global(x):
    global G  # E:global
    return x * G


def make_nonlocal():
    count = 0

    def has_nonlocal(x):
        nonlocal count  # E:nonlocal
        return x * 2.0
    return has_nonlocal


has_nonlocal = make_nonlocal()


def has_for(x):
    y = x
    for i in range(3):  # E:for
        y = y * x
    return y


def has_while(x):
    y = x
    while y < 10.0:  # E:while
        y = y * 2.0
    return y


def has_if(x):
    y = x
    if x > 0:  # E:if
        y = x * 2.0
    return y


def has_del(x):
    y = x * 2.0  # (del of a name, or of a list's item, is read; of an array's, refused)
    del y[0]  # E:del
    return x


def has_import(x):
    import math as m  # E:import
    return m.sin(x)


def has_import_from(x):
    from math import sin  # E:import_from
    return sin(x)


def has_assert(x):
    assert x > 0  # E:assert
    return x * 2.0


def has_raise(x):
    # (raise ValueError("...") in a check is raised where it stands; a chained one is not)
    raise ValueError("no") from None  # E:raise
    return x


def has_print(x):
    print(x)  # E:print
    return x * 2.0


def has_bare_yield(x):
    yield x  # E:bare_yield
    return x


def has_match(x):
    match x:  # E:match
        case _:
            y = x
    return y


def has_early_return(x):
    y = x * 2.0
    return y  # E:early_return
    z = y * 2.0
    return z


def has_no_return(x):
    y = x * 2.0  # E:no_return


def has_bare_annotation(x):
    y: float  # E:bare_annotation
    y = x * 2.0
    return y


# -- expressions refused by the subset check --------------------------------------

def has_lambda(x):
    # (a lambda bound to a name and called is read where it is called; one used as a
    # value, here passed to a function, is refused)
    return np.sum(np.apply_along_axis(lambda t: t * 2.0, 0, x))  # E:lambda


def grad_of_lambda():
    return s2sad.grad(lambda x: x * x)  # E:grad_lambda


def grad_of_lambdas_on_one_line():
    return s2sad.grad(lambda x: x * x), s2sad.grad(lambda x: x * undefined_in_lambda)  # E:lambdas


def has_yield(x):
    y = yield x  # E:yield
    return y


def has_starred_call(x):
    # (spread over a run-time value; *pair of a tuple known now works)
    return np.add(*x)  # E:starred_call


def has_starred_target(x):
    a, *rest = np.sin(x)  # E:starred_target
    return a


def has_kwargs_call(x, opts):
    return np.sum(x, **opts)  # E:kwargs_call


def has_list_comp(x):
    parts = [v * 2.0 for v in x]  # E:list_comp
    return np.sum(parts)


def has_dict_comp(x):
    parts = {i: v for i, v in x}  # E:dict_comp
    return x


def has_set_comp(x):
    parts = {v for v in x}  # E:set_comp
    return x


def has_generator_exp(x):
    return sum(v * v for v in x)  # E:generator_exp


def has_if_exp(x):
    y = x if x > 0 else -x  # E:if_exp
    return y


def has_and(x):
    y = x > 0 and x < 1  # E:and
    return x * 2.0


def has_or(x):
    y = 2.0 * (x or 1.0)  # E:or
    return y


def has_fstring(x):
    label = f"x={x}"  # E:fstring
    return x * 2.0


def has_walrus(x):
    y = (z := x * 2.0) + 1.0  # E:walrus
    return y + z


def has_bitand(x):
    y = x & 1  # E:bitand
    return x


def has_bitor(x):
    y = 1.0 + (x | 2)  # E:bitor
    return x


def has_xor(x):
    y = x ^ 2  # E:xor
    return y


def has_lshift(x):
    y = x << 1  # E:lshift
    return y


def has_invert(x):
    y = 2.0 * ~x  # E:invert
    return y


def has_aug_bitor(x):
    y = x
    y |= 1  # E:aug_bitor
    return y


def has_dict_literal(x):
    d = {"x": x}  # (a dict read whole below: its items are read by key)
    return np.sum(d)  # E:dict_literal


def has_set_literal(x):
    s = {x, 2.0}  # E:set_literal
    return x


def has_complex(x):
    y = x * 1j  # E:complex
    return y


# -- targets ------------------------------------------------------------------------

def has_subscript_target(x):
    x[0] = 1.0  # E:subscript_target
    return np.sum(x)


def has_subscript_augassign(x):
    x[0] += 1.0  # E:subscript_augassign
    return np.sum(x)


def has_attribute_target(x):
    x.flags = 1  # E:attribute_target
    return np.sum(x)


# -- parameters -------------------------------------------------------------------

# -- names, calls, methods, attributes ------------------------------------------------

def has_undefined_name(x):
    y = x * undefined_scale  # E:undefined_name
    return y


def has_missing_module_attribute(x):
    return np.sine(x)  # E:missing_attr


def has_used_before_assignment(x):
    y = x * later  # E:before_assignment
    later = 2.0
    return y


def has_i0(x):
    y = 2.0 * np.i0(x)  # E:i0
    return y


def has_user_helper(x):
    y = 1.0 + softplus(x)  # E:user_helper
    return y


def has_user_helper_dotted(x):
    return errcases_helpers.smooth_step(x)  # E:user_helper_dotted


def has_source_helper(x):
    return errcases_helpers.shifted_softplus(x)


def has_constant_no_rule_call(x):
    return x * np.i0(0.5)


def has_method_conj(x):
    y = 1.0 + x.conj()  # E:method_conj
    return np.sum(y)


W = np.array([1.0, 2.0, 3.0])


def has_method_on_constant(x):
    return np.sum(x * W.conj())


def has_function_on_constant(x):
    return np.sum(x * np.conj(W))


def has_attribute_flat(x):
    # (x.real was refused here; it is differentiated since issue 17)
    y = 2.0 * x.flat[0]  # E:attribute_flat
    return np.sum(y)


def has_function_as_value(x):
    y = np.apply_along_axis(np.sin, 0, x)  # E:function_value
    return x * 2.0


def has_call_of_local(x):
    f = x
    return f(x)  # E:call_local


def has_unpack_non_tuple(x):
    a, b = x  # E:unpack_non_tuple
    return a + b


# -- outputs ------------------------------------------------------------------------

def vector_output(x):
    y = x * 2.0
    return np.sin(y)  # E:vector_output


def tuple_output(x):
    y = x * 2.0
    return y, x  # E:tuple_output


def nothing_returned(x):
    y = x * 2.0
    return  # E:return_nothing


# -- arguments (call-time and wrt errors point at the function) --------------------------

def two_args(x, y):  # E:two_args
    return x * y


def power(x, n):  # E:power
    return x ** n


# -- source not available ----------------------------------------------------------------

_EXEC_NAMESPACE = {"np": np}
exec(compile("def made_by_exec(x):\n    return x * x\n", "<made-by-exec>", "exec"),
     _EXEC_NAMESPACE)
made_by_exec = _EXEC_NAMESPACE["made_by_exec"]


async def async_function(x):  # E:async
    return x * 2.0
