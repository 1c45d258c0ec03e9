"""Control-flow functions that s2sad must refuse, for tests/test_loop_refusals.py.

Every offending line carries a marker comment `# E:<key>`; the tests find the
expected line by searching this file's text for the marker (never a hard-coded
number). Each function runs as plain Python (the refusal is s2sad's, not
Python's). Keep each marker unique.
"""
# flake8: noqa
import numpy as np

G = 2.0


# -- loop forms without a derivative -----------------------------------------------

def for_else(x):
    y = 0.0
    for i in range(3):  # E:for_else
        y = y + x * i
    else:  # E:for_else_keyword
        y = y * 2.0  # E:for_else_body
    return y


def while_else(x):
    y = x
    while y < 10.0:  # E:while_else
        y = y * 2.0
    else:  # E:while_else_keyword
        y = y + 1.0  # E:while_else_body
    return y


def for_over_dict_items(x):
    y = x
    for key, value in {"a": 1.0, "b": 2.0}.items():  # E:dict_items
        y = y * value
    return y


def for_over_string(x):
    y = x
    for ch in "abc":  # E:string
        y = y * 2.0
    return y


# -- statements refused inside loops ------------------------------------------------

def nested_def_in_loop(x):
    y = x
    for i in range(3):
        def step(t):  # E:def_in_loop
            return t * 2.0
        y = step(y)
    return y


def global_in_loop(x):
    y = x
    for i in range(3):
        global G  # E:global_in_loop
        y = y * G
    return y


# -- recursion ------------------------------------------------------------------------

def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)  # E:direct_recursion


def calls_recursive(x):
    return recursive_power(x, 3) + x


def ping(x, n):
    if n <= 0:
        return x
    return pong(x * 0.5, n - 1)  # E:mutual_ping


def pong(x, n):
    if n <= 0:
        return x
    return ping(x + 1.0, n - 1)  # E:mutual_pong


def calls_mutual(x):
    return ping(x, 4) * x


# -- writes that would change the caller's arrays ------------------------------------

def writes_parameter_element(x):
    x[0] = 1.0  # E:param_write
    return np.sum(x * x)


def writes_parameter_element_in_loop(x):
    for i in range(len(x)):
        x[i] += 1.0  # E:param_write_loop
    return np.sum(x * x)


def augmented_through_alias(x):
    y = x
    y += 1.0  # E:alias_augassign
    return np.sum(x * y)


def augmented_through_view(x):
    y = x[1:3]
    y *= 2.0  # E:view_augassign
    return np.sum(x ** 2)
