"""Activity and shape classes, as sorted name lists per snippet."""
import math
import textwrap

import numpy as np

from s2sad import analysis, frontend, pipeline, rules

ENV = {"np": np, "math": math}


def analyse(text: str, wrt):
    parsed = frontend.parse_source(textwrap.dedent(text), "f", env=ENV)
    return analysis.analyse(pipeline.lower_function(parsed), wrt,
                            rules.is_differentiable, rules.shape_kind)


def test_activity_is_varied_and_useful():
    result = analyse("""
    def f(x, y):
        a = x * 2
        b = y * 3
        c = np.floor(x)
        d = a + c
        e = np.sin(y)
        return d * b
    """, ["x"])
    assert sorted(result.varied) == ["a", "d", "f", "x"]
    assert sorted(result.active) == ["a", "d", "f", "x"]
    assert "e" not in result.useful and "c" not in result.active


def test_nothing_is_active_when_the_output_ignores_the_input():
    result = analyse("""
    def f(x, y):
        a = np.sin(x)
        return y * 2
    """, ["x"])
    assert sorted(result.active) == []


def test_shape_classes_follow_elementwise_operations():
    result = analyse("""
    def f(x, y):
        a = np.exp(x)
        b = a * 2.0
        c = a + x
        d = x + y
        return np.sum(c) + np.sum(d) + np.sum(b)
    """, ["x"])
    classes = result.shape_class
    assert classes["a"] == classes["b"] == classes["c"] == classes["x"]
    assert classes["d"] != classes["x"] and classes["d"] != classes["y"]


def test_scalar_output_makes_elementwise_operands_scalar():
    result = analyse("""
    def f(x, y):
        return np.sin(x + y) / (x * y)
    """, ["x", "y"])
    assert result.shape_class["x"] == result.shape_class["y"] == analysis.SCALAR
    assert not result.output_scalar  # still checked at run time: x could be an array


def test_full_reduction_output_is_known_scalar():
    result = analyse("""
    def f(x):
        return np.sum(x * x)
    """, ["x"])
    assert result.output_scalar
    assert result.shape_class["x"] != analysis.SCALAR


def test_activity_flows_around_a_loop():
    result = analyse("""
    def f(x, y):
        s = 0.0
        t = y
        for i in range(3):
            t = t * 2.0
            s = s + x * i
        return s + t
    """, ["x"])
    assert {"s", "x"} <= set(result.active) and "t" not in result.varied


def test_a_name_bound_in_a_loop_counts_its_bindings():
    result = analyse("""
    def f(x):
        s = 0.0
        for i in range(3):
            s = s + x
        return s
    """, ["x"])
    assert result.definitions["s"] == 2 and result.definitions["i"] == 1


def test_argument_ranks_make_loop_elements_scalars():
    parsed = frontend.parse_source(textwrap.dedent("""
    def f(x, c):
        p = 0.0
        for i in range(len(c)):
            p = p * x + c[i]
        return p
    """), "f", env=ENV)
    result = analysis.analyse(pipeline.lower_function(parsed), ["x"],
                              rules.is_differentiable, rules.shape_kind, {"x": 0, "c": 1})
    assert result.ranks["p"] == 0 and result.class_of(gast_name("p")) == "scalar"


def gast_name(identifier):
    from s2sad.lower import name
    return name(identifier)


def test_a_write_into_a_view_of_an_argument_is_refused():
    import pytest
    from s2sad import UnsupportedSyntaxError
    with pytest.raises(UnsupportedSyntaxError, match="argument 'x'"):
        analyse("""
        def f(x):
            c = x[1:]
            c[0] = 5.0
            return np.sum(c)
        """, ["x"])
