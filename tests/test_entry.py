"""The generated call entry: a repeated call gives what the checked first call gave,
and every argument the entry does not fit takes the checked path."""
import numpy as np
import pytest

import s2sad
from s2sad import entry
from s2sad.errors import ArgumentError, NonScalarOutputError


def scalar_mix(x, y):
    return np.sum(np.sin(x + y) / (x * y))


def weighted(w, X, scale=2.0):
    return scale * np.sum(np.tanh(X @ w) ** 2)


def branchy(x, keep):
    if keep:
        return np.sum(x)
    return x


def grads_agree(first, second):
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert type(a) is type(b)
        np.testing.assert_allclose(a, b, rtol=1e-12)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape


@pytest.mark.parametrize("args, wrt", [
    ((1.0, 2.0), (0, 1)),
    ((1.0, 2.0), 1),
    ((np.float32(1.0), 2.0), 0),
    ((np.array([0.5, -1.0]), np.array([1.5, 2.0])), (0, 1)),
    ((np.array([[0.5, -1.0]], dtype=np.float32), 2.0), (0, 1)),
])
def test_repeated_calls_give_the_checked_result(args, wrt):
    g = s2sad.grad(scalar_mix, wrt)
    first = g(*args)
    assert g._entry is not None  # the second call goes through the entry
    grads_agree(first, g(*args))
    grads_agree(first, g._call_checked(*args))


def test_changing_types_between_calls_stays_right():
    g = s2sad.grad(weighted, (0, 1))
    w, X = np.array([0.1, -0.2, 0.3]), np.arange(6.0).reshape(2, 3) / 6
    w32, X32 = w.astype(np.float32), X.astype(np.float32)
    a = g(w, X)
    b = g(w32, X32)
    assert b[0].dtype == np.float32 and b[1].dtype == np.float32
    c = g(w, X)
    grads_agree(a, c)
    np.testing.assert_allclose(b[0], a[0], rtol=1e-5)
    assert g(w, X, 3.0)[0] == pytest.approx(1.5 * a[0])  # another arity: checked path
    np.testing.assert_allclose(g(w, X=X, scale=3.0)[0], 1.5 * a[0])  # keywords: checked


def test_value_and_grad_through_the_entry():
    g = s2sad.value_and_grad(scalar_mix, (0, 1))
    first = g(1.0, 2.0)
    value, grads = g(1.0, 2.0)
    assert value == pytest.approx(scalar_mix(1.0, 2.0))
    grads_agree(first[1], grads)


def test_the_entry_still_refuses_bad_arguments():
    g = s2sad.grad(scalar_mix)
    g(1.0, 2.0)
    with pytest.raises(ArgumentError, match="integer"):
        g(1, 2.0)
    assert g(1.0, 2.0) == pytest.approx(s2sad.grad(scalar_mix)(1.0, 2.0))


def test_a_run_time_refusal_is_raised_through_the_entry():
    g = s2sad.grad(branchy)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(g(x, 1), [1.0, 1.0])
    with pytest.raises(NonScalarOutputError, match=r"shape \(2,\)"):
        g(x, 0)  # the same argument types: the entry runs it and the refusal is located


SCALE = 2.0


def reads_a_global(x):
    return SCALE * x * x


def test_a_global_rebound_between_calls_is_seen_by_the_entry():
    global SCALE
    g = s2sad.grad(reads_a_global)
    assert g(3.0) == pytest.approx(12.0)
    try:
        SCALE = 5.0
        assert g(3.0) == pytest.approx(30.0)
    finally:
        SCALE = 2.0


def test_a_gradient_that_is_an_input_array_is_copied():
    x = np.array([1.0, 2.0])
    y = np.array([3.0, 4.0])
    fast = entry.make_entry((x, y), [0, 1], single=False, with_value=False,
                            run=lambda a, b: (b, b), refresh=None, refusal=RuntimeError,
                            general=None)
    gx, gy = fast(x, y)
    assert gx is not y and gy is not y and gx is not gy
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, y)


def test_a_gradient_of_another_dtype_or_shape_is_converted():
    x = np.array([1.0, 2.0], dtype=np.float32)
    fast = entry.make_entry((x,), [0], single=True, with_value=False,
                            run=lambda a: np.array([1.0, 2.0]), refresh=None,
                            refusal=RuntimeError, general=None)
    assert fast(x).dtype == np.float32
    wrong = entry.make_entry((x,), [0], single=True, with_value=False,
                             run=lambda a: np.zeros(3), refresh=None,
                             refusal=RuntimeError, general=None)
    with pytest.raises(s2sad.S2SADError, match="internal error"):
        wrong(x)


def test_arguments_of_other_types_take_the_general_path():
    seen = []
    fast = entry.make_entry((1.0, np.zeros(2)), [0], single=True, with_value=False,
                            run=lambda a, b: 2.0 * a, refresh=None, refusal=RuntimeError,
                            general=lambda *args: seen.append(args) or "general")
    assert fast(3.0, np.zeros(2)) == 6.0 and not seen
    assert fast(3.0, np.zeros((2, 2))) == "general"      # another rank
    assert fast(np.float64(3.0), np.zeros(2)) == "general"  # another type
    assert fast(3.0, np.zeros(2, dtype=int)) == "general"   # another dtype
    assert len(seen) == 3


def test_no_entry_where_an_argument_has_no_cheap_test():
    assert entry.make_entry((1.0, object()), [0], single=True, with_value=False,
                            run=None, refresh=None, refusal=RuntimeError,
                            general=None) is None


def inner_helper(x):
    return x * x


def uses_a_helper(x):
    return 2.0 * inner_helper(x)


def test_a_helper_redefined_between_calls_is_differentiated_anew():
    """A notebook cell run again: the same grad object must not keep the old body."""
    global inner_helper
    original = inner_helper
    g = s2sad.grad(uses_a_helper)
    assert g(3.0) == pytest.approx(12.0)
    assert g(3.0) == pytest.approx(12.0)  # through the entry
    try:
        def inner_helper(x):
            return x * x * x
        assert g(3.0) == pytest.approx(54.0)
        assert g(3.0) == pytest.approx(54.0)
    finally:
        inner_helper = original
    assert g(3.0) == pytest.approx(12.0)


def test_a_converted_gradient_that_is_an_input_array_is_still_copied():
    """A dtype equal to the input's but not the same object (here one with metadata)
    sends the gradient through the conversion, which keeps it as it is: the aliasing
    check must still run after it."""
    with_metadata = np.dtype(np.float64, metadata={"unit": "m"})
    x = np.array([1.0, 2.0], dtype=with_metadata)
    y = np.array([3.0, 4.0])
    fast = entry.make_entry((x, y), [0], single=True, with_value=False,
                            run=lambda a, b: b, refresh=None, refusal=RuntimeError,
                            general=None)
    gx = fast(x, y)
    assert gx is not y
    np.testing.assert_array_equal(gx, y)
