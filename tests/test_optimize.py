"""Before/after pairs for each optimisation pass; a second run changes nothing."""
import textwrap

import gast
import numpy as np
import pytest

import s2sad
from s2sad import codegen, optimize
from s2sad.check import numeric_grad


def parse(text: str) -> gast.FunctionDef:
    return gast.parse(textwrap.dedent(text)).body[0]


def show(func: gast.FunctionDef) -> str:
    return codegen.function_source(func)


def test_fold_constants():
    func = parse("""
    def g(a, dy):
        da = dy * 2 * a ** (2 - 1)
        db = dy * 1
        dc = dy / 1 * math.log(2.718281828459045)
        dd = -(-dy)
        de = 4 / 2 + -(-dy)
        return da, db, dc, dd, de
    """)
    assert optimize.fold_constants(func)
    assert show(func) == textwrap.dedent("""\
        def g(a, dy):
            da = dy * 2 * a
            db = dy * 1
            dc = dy * 1.0
            dd = --dy
            de = 2.0 + dy
            return da, db, dc, dd, de
        """)  # db = dy would make db the same array as dy, which a later write would see
    optimize.fold_constants(func)
    assert not optimize.fold_constants(func)


def test_fold_drops_default_helper_arguments():
    func = parse("""
    def g(x, dy):
        dx = unsum(dy, x, None, False)
        return dx
    """)
    optimize.fold_constants(func)
    assert "dx = unsum(dy, x)" in show(func)


def test_eliminate_dead_code():
    func = parse("""
    def g(x, df=1.0):
        a = np.exp(x)
        b = a * 2
        f = a + b
        db = df
        da = df * 3
        dx = da * a
        return dx
    """)
    assert optimize.eliminate_dead(func)
    assert show(func) == textwrap.dedent("""\
        def g(x, df=1.0):
            a = np.exp(x)
            da = df * 3
            dx = da * a
            return dx
        """)
    assert not optimize.eliminate_dead(func)


def test_dead_code_keeps_writes_into_live_arrays():
    func = parse("""
    def g(x, db):
        dx = np.zeros_like(x)
        dx[0] += db
        np.add.at(dx, [1, 1], db)
        dz = np.zeros_like(x)
        dz[0] += db
        return dx
    """)
    optimize.eliminate_dead(func)
    assert "dz" not in show(func)
    assert "dx[0] += db" in show(func) and "np.add.at(dx, [1, 1], db)" in show(func)


def test_coalesce_versions_only_where_lifetimes_are_disjoint():
    func = parse("""
    def g(x, dy_1=1.0):
        y = x * 2
        y_1 = np.sin(y)
        z = x + 1
        z_1 = z * 3
        return z_1 + y_1
    """)
    assert optimize.coalesce_versions(func, {"y_1": "y", "z_1": "z"})
    assert show(func) == textwrap.dedent("""\
        def g(x, dy_1=1.0):
            y = x * 2
            y = np.sin(y)
            z = x + 1
            z = z * 3
            return z + y
        """)


def test_coalesce_keeps_versions_the_adjoint_needs():
    func = parse("""
    def g(x, dy_1=1.0):
        y = x * 2
        y_1 = np.sin(y)
        dy = dy_1 * np.cos(y)
        return dy
    """)
    assert not optimize.coalesce_versions(func, {"y_1": "y"})
    assert "y_1 = np.sin(y)" in show(func)


def test_inplace_accumulation_when_nobody_else_holds_the_array():
    func = parse("""
    def g(c, d, df=1.0):
        dd = df
        de = df
        dc = de * np.cos(c)
        dc = dc + dd * d
        da = dc
        db = dc
        da = da + db * 2
        return da
    """)
    assert optimize.accumulate_inplace(func)
    text = show(func)
    assert "dc += dd * d" in text and "da += db * 2" in text


@pytest.mark.parametrize("body", [
    # dd is the caller's seed: never written in place
    "dd = df\n    dd = dd + 1\n    return dd",
    # db still reads the shared array after the accumulation
    "da = df * 2\n    db = da\n    da = da + 1\n    return da + db",
    # unbroadcast may hand back its argument itself
    "da = unbroadcast(dy, x)\n    da = da + 1\n    return da + dy",
])
def test_inplace_accumulation_refused_when_unsafe(body):
    func = parse(f"def g(x, dy, df=1.0):\n    {body}\n")
    optimize.accumulate_inplace(func)
    assert "+=" not in show(func)


@pytest.mark.parametrize("returned, in_place", [
    ("dx", True),          # unbroadcast(dz, x) is dz itself or a new array, never x's
    ("dx + dz", False),    # dz is read after the accumulation: it may be dx's array
])
def test_inplace_accumulation_through_unbroadcast(returned, in_place):
    func = parse(f"""
    def g(x, y, dy):
        dz = dy * y
        dx = unbroadcast(dz, x)
        dx = dx + y
        return {returned}
    """)
    optimize.accumulate_inplace(func)
    assert ("dx += y" in show(func)) is in_place


def test_a_tape_pop_is_never_dropped_even_if_its_value_is_unused():
    func = parse("""
    def g(x, tape):
        p = tape.pop()
        q = tape.pop()
        return q
    """)
    optimize.eliminate_dead(func)
    assert show(func).count("tape.pop()") == 2


def test_a_loop_is_opaque_to_in_place_accumulation():
    func = parse("""
    def g(x, dy):
        dv = dy * 2
        for i in range(3):
            dz = dv
        dv = dv + x
        return dv, dz
    """)
    optimize.accumulate_inplace(func)
    assert "dv += x" not in show(func)  # dz shares dv's array after the loop


# -- buffer reuse ---------------------------------------------------------------------

def array(klass="param x", floats=True):
    return optimize.Shape(klass, 1, floats)


SCALAR = optimize.Shape("scalar", 0, True)


def test_reuse_buffers_writes_results_into_dead_temporaries():
    func = parse("""
    def g(x, c, dy):
        a = x - c
        b = np.exp(a)
        s = np.sum(b)
        db = dy / s * b
        e = -db
        return e
    """)
    known = {"x": array(), "c": SCALAR, "a": array(), "b": array(), "s": SCALAR, "dy": SCALAR}
    assert optimize.reuse_buffers(func, known)
    assert show(func) == textwrap.dedent("""\
        def g(x, c, dy):
            a = x - c
            b = np.exp(a, out=a)
            s = np.sum(b)
            db = np.multiply(dy / s, b, out=b)
            e = np.negative(db, out=db)
            return e
        """)  # x is the caller's; a reduction keeps no reference to b


@pytest.mark.parametrize("why, body", [
    ("a parameter's array is the caller's", "b = np.exp(x)\n    return b"),
    ("read afterwards", "a = x * 2.0\n    b = np.exp(a)\n    return a + b"),
    ("another name holds it", "a = x * 2.0\n    v = a\n    b = np.exp(a)\n    return v + b"),
    ("a view of it is read afterwards",
     "a = x * 2.0\n    v = a[1:]\n    b = np.exp(a)\n    return v"),
    ("a tape holds it", "a = x * 2.0\n    tape.append(a)\n    b = np.exp(a)\n    return b"),
    ("the result may broadcast larger, and the other operand's rank is unknown",
     "a = x * 2.0\n    b = a * v\n    return b"),
    ("the other operand has the higher rank", "a = x * 2.0\n    b = a * M\n    return b"),
    ("its values are read afterwards, not only its shape",
     "a = x * 2.0\n    b = a * w\n    return unbroadcast(b, x) + a"),
    ("not floats: k / 3 has no place in an integer array", "k = n * 2\n    b = k / 3\n    return b"),
    ("a scalar has no array", "a = c * 2.0\n    b = np.exp(a)\n    return b"),
    ("bound in a loop", "for i in range(3):\n        a = x * i\n    b = np.exp(a)\n    return b"),
])
def test_reuse_buffers_leaves(why, body):
    func = parse(f"def g(x, w, n, c, tape, M):\n    {body}\n")
    known = {"x": array(), "w": array("param w"), "n": array("param n", floats=False),
             "c": SCALAR, "a": array() if "c * 2.0" not in body else SCALAR,
             "v": optimize.Shape(None, None, True), "b": array(), "k": array("param n", False),
             "M": optimize.Shape("param M", 2, True)}
    before = show(func)
    assert not optimize.reuse_buffers(func, known), why
    assert show(func) == before


# -- spreads read by broadcasting -------------------------------------------------------

def test_spread_products_lets_broadcasting_spread_an_adjoint():
    func = parse("""
    def g(e, x, df, dy, ds):
        de = unsum(df, e, 1, True)
        dx = de * e
        dv = unsum(dy, x, 0)
        dw = x / dv
        dt = unsum(ds, x)
        du = dt * x
        return dx, dw, du
    """)
    known = {"e": array("e"), "x": array(), "df": array("row"), "dy": array("col"),
             "ds": SCALAR}
    assert optimize.spread_products(func, known)
    assert show(func) == textwrap.dedent("""\
        def g(e, x, df, dy, ds):
            de = df
            dx = de * e
            dv = spread(dy, x, 0)
            dw = x / dv
            dt = ds
            du = dt * x
            return dx, dw, du
        """)  # kept axes, and a sum over all axes, spread as the adjoint itself


def test_a_spread_adjoint_loses_its_primal_shape_for_the_passes_after():
    """Issue 15: db = unsum(dc / d, b, None, True) became db = dc / d (shape (1,)), and
    reuse_buffers, still taking db for b's shape, wrote da = np.divide(db, 1 + a,
    out=db): NumPy's non-broadcastable output operand."""
    func = parse("""
    def g(a, b, dc, d):
        db = unsum(dc / d, b, None, True)
        da = db / (1 + a)
        return da
    """)
    known = {"a": array(), "b": array(), "db": array(), "dc": array("one"), "d": SCALAR}
    assert optimize.spread_products(func, known)
    assert "db" not in known
    optimize.reuse_buffers(func, known)
    assert show(func) == textwrap.dedent("""\
        def g(a, b, dc, d):
            db = dc / d
            da = np.divide(db, 1 + a, out=fits(db, 1 + a))
            return da
        """)  # (was out=db: its shape is now checked when the code runs)


@pytest.mark.parametrize("why, body", [
    ("the other operand may be smaller", "dv = unsum(dy, x, 0)\n    dw = dv * w\n    return dw"),
    ("read twice", "dv = unsum(dy, x, 0)\n    dw = dv * x\n    return dw + dv"),
    ("not arithmetic", "dv = unsum(dy, x, 0)\n    dw = np.exp(dv)\n    return dw"),
    ("updated in place", "dv = unsum(dy, x, 0)\n    dv += x\n    return dv * x"),
    ("read in a loop", "dv = unsum(dy, x, 0)\n    for i in range(3):\n        dw = dv * x\n"
     "    return dw"),
    ("returned", "dv = unsum(dy, x, 0)\n    return dv"),
    ("the spread adjoint is updated before the read (a view would see it)",
     "dv = unsum(dy, x, 0)\n    dy += w\n    dw = dv * x\n    return dw"),
    ("x is bound again before the read",
     "dv = unsum(dy, x, 0)\n    x = w * 2.0\n    dw = dv * x\n    return dw"),
])
def test_spread_products_leaves(why, body):
    func = parse(f"def g(x, w, dy):\n    {body}\n")
    known = {"x": array(), "w": array("param w"), "dy": array("col")}
    before = show(func)
    assert not optimize.spread_products(func, known), why
    assert show(func) == before


def row_softmax_loss(Z, Y):
    Z = Z - np.max(Z, axis=1, keepdims=True)
    return -np.sum(Y * (Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))))


def test_spread_gradient_equals_the_plain_one(monkeypatch):
    rng = np.random.default_rng(2)
    Z, Y = rng.normal(size=(6, 4)), np.eye(4)[rng.integers(0, 4, size=6)]
    # the chain's own adjoints, spread (patterns.py would take the log-softmax as one form)
    monkeypatch.setattr(s2sad.patterns, "recognise", lambda analysed: 0)
    df = s2sad.grad(row_softmax_loss)
    got = df(Z, Y)
    assert "    db = dc\n" in df.compiled.source  # the adjoint of np.exp(Z_1)'s row sums
    plain = df.for_ranks((2, 2), read_back=True)
    assert "    db = unsum(dc, b, 1, True)\n" in plain.source
    np.testing.assert_allclose(got, plain.function(Z, Y), rtol=1e-14)
    softmax = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)
    np.testing.assert_allclose(got, softmax * Y.sum(axis=1, keepdims=True) - Y, rtol=1e-12)
    np.testing.assert_allclose(got, numeric_grad(row_softmax_loss, (Z, Y), 0), rtol=1e-6)


def test_reuse_buffers_checks_at_run_time_where_an_operand_may_broadcast():
    """A bias added to a matrix: the sum fits in the matrix's array unless the bias
    broadcasts it larger, which `fits` tells at run time. A read of the matrix's
    shape alone (unbroadcast) does not keep its array."""
    func = parse("""
    def g(X, W, b1, dy):
        a = X @ W
        b = a + b1
        H = np.tanh(b)
        db = dy * (1 - H * H)
        da = unbroadcast(db, a)
        return da
    """)
    known = {"X": array("X", True), "W": array("W"), "b1": array("b1"), "dy": array("H"),
             "a": optimize.Shape("a", 2, True), "b": optimize.Shape("b", 2, True),
             "H": optimize.Shape("b", 2, True)}
    known["X"] = known["W"] = optimize.Shape("X", 2, True)
    assert optimize.reuse_buffers(func, known)
    assert show(func) == textwrap.dedent("""\
        def g(X, W, b1, dy):
            a = X @ W
            b = np.add(a, b1, out=fits(a, b1))
            H = np.tanh(b, out=b)
            db = dy * (1 - H * H)
            da = unbroadcast(db, a)
            return da
        """)


def dense_layer(W, b, X):
    return np.sum(np.tanh(X @ W + b) ** 2)


@pytest.mark.parametrize("shapes", [((3, 4), (4,), (5, 3)),     # the bias fits
                                    ((3, 1), (4,), (5, 3)),     # it broadcasts the sum up
                                    ((3, 4), (1, 4), (5, 3))])  # it has the matrix's rank
@pytest.mark.parametrize("bias_dtype", [np.float64, np.float32])
def test_checked_reuse_gives_the_plain_gradient(shapes, bias_dtype):
    rng = np.random.default_rng(3)
    W, b, X = (rng.normal(size=s) for s in shapes)
    b = b.astype(bias_dtype)
    W32 = W.astype(np.float32)
    df = s2sad.grad(dense_layer, wrt=(0, 1))
    for weights in (W, W32):
        kept = [weights.copy(), b.copy(), X.copy()]
        got = df(weights, b, X)
        assert "out=fits(a, b)" in df.compiled.source
        plain = df.for_ranks((2, np.ndim(b), 2), read_back=True).function(weights, b, X)
        for g, p, arg in zip(got, plain, (weights, b)):
            assert g.shape == arg.shape and g.dtype == arg.dtype
            single = weights is W32 or bias_dtype == np.float32
            np.testing.assert_allclose(g, p, rtol=1e-5 if single else 1e-13)
        for arg, before in zip((weights, b, X), kept):
            np.testing.assert_array_equal(arg, before)
    for index, g in enumerate(df(W, b.astype(np.float64), X)):  # and central differences
        np.testing.assert_allclose(
            g, numeric_grad(dense_layer, (W, b.astype(np.float64), X), index), rtol=1e-6)


def shifted_logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def test_reused_gradient_equals_the_plain_one_and_leaves_the_inputs():
    x = np.random.default_rng(1).normal(size=50)
    kept = x.copy()
    df = s2sad.grad(shifted_logsumexp)
    got = df(x)
    assert "out=" in df.source
    plain = df.for_ranks((1,), read_back=True)
    assert "out=" not in plain.source
    np.testing.assert_allclose(got, plain.function(x), rtol=1e-14)
    np.testing.assert_array_equal(x, kept)
    softmax = np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))
    np.testing.assert_allclose(got, softmax, rtol=1e-12)
    assert df(x.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(df(x.astype(np.float32)), softmax, rtol=1e-5)


def test_accumulate_where_adds_a_max_share_to_its_ties_only():
    func = parse("""
    def g(x, m, s):
        dx = x * 2.0
        e = x == m
        dx += s * e
        return dx
    """)
    known = {"x": array(), "m": SCALAR, "s": SCALAR}
    assert optimize.accumulate_where(func, known)
    assert show(func).splitlines()[3] == "    add_where(dx, e, s)"


@pytest.mark.parametrize("why, body, known_dx", [
    ("a product of floats, not a comparison", "e = x * m\n    dx += s * e", True),
    ("the comparison broadcasts larger", "e = x == w\n    dx += s * e", True),
    ("dx may be a number (rebinding, not in place)", "e = x == m\n    dx += s * e", False),
])
def test_accumulate_where_leaves(why, body, known_dx):
    func = parse(f"def g(x, w, m, s):\n    dx = x * 2.0 if True else x\n    {body}\n"
                 "    return dx\n")
    known = {"x": array(), "w": array("param w"), "m": SCALAR, "s": SCALAR}
    if known_dx:
        known["dx"] = array()
    before = show(func)
    assert not optimize.accumulate_where(func, known), why
    assert show(func) == before


@pytest.mark.parametrize("rows", [2, 4000], ids=["small: the product", "large: masked add"])
@pytest.mark.parametrize("term", [0.25, 2.0 ** -30, "per row"])
def test_add_where_equals_the_product_it_replaces(term, rows):
    from s2sad.runtime import add_where

    total = np.arange(3.0 * rows).reshape(rows, 3)
    where = np.arange(3 * rows).reshape(rows, 3) % 4 == 1
    if term == "per row":  # broadcast along the rows (a max along axis 1)
        term = np.linspace(0.5, 1.5, rows)[:, None]
    expected = total + term * where
    add_where(total, where, term)
    np.testing.assert_array_equal(total, expected)


@pytest.mark.parametrize("size", [3, 10_000])
def test_add_where_keeps_a_nan_term_everywhere(size):
    from s2sad.runtime import add_where

    total = np.zeros(size)
    where = np.zeros(size, dtype=bool)
    where[0] = True
    with np.errstate(invalid="ignore"):
        add_where(total, where, np.nan)
    assert np.isnan(total).all()  # as total + nan * where would be


def test_names_a_loop_reads_are_found_again_after_folding_rewrites_inside_it():
    # The first folding round writes 2 + -3 as 2 - 3, the second folds it to -1 and
    # then np.where(-1, a, c) to a: only then is c dead. The passes keep what each
    # loop reads between rounds; kept after that second round, it would keep c alive.
    func = parse("""
    def g(a, b, s):
        c = np.sin(b)
        for i in range(3):
            s = s + np.where(2 + -3, a, c)
        return s
    """)
    optimize.optimize(func, {})
    assert show(func) == textwrap.dedent("""\
        def g(a, b, s):
            for i in range(3):
                s = s + a
            return s
        """)



def test_a_rename_is_seen_by_the_names_kept_for_a_loop():
    # Coalescing leaves names used in loops alone, but the kept names must not rely on it.
    func = parse("""
    def g(x_1, s):
        for i in range(3):
            s = s + x_1[i]
        return s
    """)
    loop = func.body[0]
    try:
        assert "x_1" in optimize._reads(loop)
        optimize._rename(func, "x_1", "x")
        assert "x" in optimize._reads(loop) and "x_1" not in optimize._reads(loop)
    finally:
        optimize._compound_names.clear()


def softmax_cross_entropy(W, X, Y):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    log_p = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


def test_softmax_cross_entropy_adjoint_updates_in_place_and_negates_sums(monkeypatch):
    rng = np.random.default_rng(3)
    W, X = rng.normal(size=(4, 3)), rng.normal(size=(6, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    # the chain's own adjoints (patterns.py would take the log-softmax as one form)
    monkeypatch.setattr(s2sad.patterns, "recognise", lambda analysed: 0)
    dW = s2sad.grad(softmax_cross_entropy)
    got = dW(W, X, Y)
    code = dW.source
    assert "dZ_1 += " in code or "dZ += " in code  # no new array for the accumulation
    assert "= -unbroadcast(" in code                # negation after the reduction
    plain = dW.for_ranks((2, 2, 2), read_back=True)
    np.testing.assert_allclose(got, plain.function(W, X, Y), rtol=1e-13)
    np.testing.assert_allclose(got, numeric_grad(softmax_cross_entropy, [W, X, Y], 0),
                               rtol=1e-6, atol=1e-9)
