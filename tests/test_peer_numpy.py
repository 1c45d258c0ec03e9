"""A peer library's real-valued NumPy tests, in spirit: a broad table of small functions
in the style of autograd's tests/test_numpy.py, test_linalg.py and test_systematic.py
(written here, not copied), differentiated by s2sad in reverse and forward mode.

Each is right or refused: the gradient (reverse) and the directional derivative
(forward) agree with central differences, and with autograd where autograd can
differentiate it; or s2sad raises an S2SADError. Never a wrong number, never another
exception (a NumPy error from generated code is a bug here).

A table row is (id, body, argument specs): the body is the function's body over the
parameters x, y, z (in that order), a spec is (shape, (low, high)). Inputs are drawn
uniformly from the domain, which keeps them off the kinks of abs, max, sign and clip.
"""
from __future__ import annotations

import importlib.util
import math
import warnings
import zlib

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

ANY = (-2.0, 2.0)
POS = (0.5, 2.0)
UNIT = (-0.8, 0.8)
BIG = (1.2, 3.0)
WELL = "(x + 4 * np.eye(3))"          # a well-conditioned 3x3 matrix built from x
SPD = "(x @ x.T + 3 * np.eye(3))"     # symmetric positive definite
SYM = "(x + x.T + np.diag(np.arange(3.0)) * 4)"  # symmetric, well-spread eigenvalues

S = ()
V = (3,)
M = (2, 3)
Q = (3, 3)
T3 = (2, 3, 4)


def one(body, shape=V, domain=ANY):
    return [(shape, domain)], body


def two(body, a=V, b=V, da=ANY, db=ANY):
    return [(a, da), (b, db)], body


ROWS = []
FIRST_ORDER_ONLY = set()  # systematic rows of other shapes: their Hessians add little time


def row(id, specs_body, second_order=True):
    specs, body = specs_body
    ROWS.append((id, body, specs))
    if not second_order:
        FIRST_ORDER_ONLY.add(id)


# -- elementwise functions of one argument (test_systematic's unary table) ----------------
for name, domain in [("sin", ANY), ("cos", ANY), ("tan", UNIT), ("arcsin", UNIT),
                     ("arccos", UNIT), ("arctan", ANY), ("sinh", ANY), ("cosh", ANY),
                     ("tanh", ANY), ("arcsinh", ANY), ("arccosh", BIG), ("arctanh", UNIT),
                     ("exp", ANY), ("exp2", ANY), ("expm1", ANY), ("log", POS),
                     ("log2", POS), ("log10", POS), ("log1p", POS), ("sqrt", POS),
                     ("square", ANY), ("reciprocal", POS), ("abs", ANY), ("fabs", ANY),
                     ("absolute", ANY), ("negative", ANY), ("sign", ANY), ("floor", ANY),
                     ("ceil", ANY), ("rint", ANY), ("deg2rad", ANY), ("rad2deg", ANY),
                     ("degrees", ANY), ("radians", ANY), ("sinc", POS), ("cbrt", POS),
                     ("real", ANY), ("conj", ANY), ("conjugate", ANY), ("positive", ANY),
                     ("trunc", ANY), ("fix", ANY), ("nan_to_num", ANY), ("signbit", ANY)]:
    for shape in (S, V, M):
        row(f"{name}{shape}", one(f"return np.sum(np.sin(np.{name}(x)))", shape, domain),
            second_order=shape == V)

# -- elementwise functions of two arguments, broadcasting (test_systematic's binary) -----
for name, da, db in [("add", ANY, ANY), ("subtract", ANY, ANY), ("multiply", ANY, ANY),
                     ("divide", ANY, POS), ("true_divide", ANY, POS), ("power", POS, ANY),
                     ("maximum", ANY, ANY), ("minimum", ANY, ANY), ("fmax", ANY, ANY),
                     ("fmin", ANY, ANY), ("hypot", ANY, ANY), ("arctan2", ANY, POS),
                     ("logaddexp", ANY, ANY), ("logaddexp2", ANY, ANY), ("mod", POS, BIG),
                     ("remainder", POS, BIG), ("fmod", POS, BIG), ("copysign", ANY, ANY),
                     ("nextafter", ANY, ANY), ("ldexp", ANY, ANY),
                     ("floor_divide", ANY, POS)]:
    for a, b in [(S, S), (V, V), (M, V), (V, M), ((3, 1), (1, 4)), (S, M), (M, S)]:
        row(f"{name}{a}{b}", two(f"return np.sum(np.sin(np.{name}(x, y)))", a, b, da, db),
            second_order=(a, b) in ((S, S), (M, V)))

# -- operators ---------------------------------------------------------------------------
for op, da, db in [("+", ANY, ANY), ("-", ANY, ANY), ("*", ANY, ANY), ("/", ANY, POS),
                   ("**", POS, ANY), ("%", POS, BIG), ("//", ANY, POS)]:
    for a, b in [(S, S), (V, V), (M, V), (S, M)]:
        row(f"op{op}{a}{b}", two(f"return np.sum(np.sin(x {op} y))", a, b, da, db),
            second_order=(a, b) == (M, V))
row("op@ mm", two("return np.sum(np.sin(x @ y))", (2, 3), (3, 4)))
row("op@ mv", two("return np.sum(np.sin(x @ y))", (2, 3), (3,)))
row("op@ vm", two("return np.sum(np.sin(x @ y))", (3,), (3, 4)))
row("op@ vv", two("return np.sin(x @ y)", (3,), (3,)))
row("op@ batch", two("return np.sum(np.sin(x @ y))", (2, 2, 3), (3, 4)))
row("op@ batch2", two("return np.sum(np.sin(x @ y))", (2, 2, 3), (2, 3, 4)))
row("neg", one("return np.sum(-x * x)", M))
row("pow int", one("return np.sum(x ** 3)", M))
row("pow neg int", one("return np.sum(x ** -2)", M, POS))
row("pow half", one("return np.sum(x ** 0.5)", M, POS))
row("rpow", one("return np.sum(2.0 ** x)", M))
row("rsub", one("return np.sum(np.sin(1.0 - x))", M))
row("rdiv", one("return np.sum(1.0 / x)", M, POS))

# -- reductions ----------------------------------------------------------------------------
for name in ("sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std"):
    domain = POS if name == "prod" else ANY
    row(f"{name} all", one(f"return np.sin(np.{name}(x))", M, domain))
    row(f"{name} 3d all", one(f"return np.sin(np.{name}(x))", T3, domain))
    for axis in ("0", "1", "-1", "(0, 1)"):
        row(f"{name} axis={axis}", one(f"return np.sum(np.sin(np.{name}(x, axis={axis})))",
                                      M, domain))
    row(f"{name} keepdims", one(f"return np.sum(np.sin(np.{name}(x, axis=1, "
                                f"keepdims=True)) * np.arange(2.0).reshape(2, 1))", M, domain))
    row(f"{name} 3d axis", one(f"return np.sum(np.sin(np.{name}(x, axis=(0, 2))))", T3, domain))
    row(f"{name} scalar", one(f"return np.sin(np.{name}(x))", S, domain))
    row(f"{name} one", one(f"return np.sin(np.{name}(x))", (1,), domain))
    row(f"{name} axis len 1", one(f"return np.sum(np.sin(np.{name}(x, axis=1)))", (2, 1),
                                  domain))
    row(f"{name} method", one(f"return np.sin(x.{name.lstrip('a')}())", M, domain)
        if name not in ("amax", "amin") else one(f"return np.sin(x.{name[1:]}())", M, domain))
for name in ("var", "std"):
    row(f"{name} ddof", one(f"return np.sum(np.{name}(x, axis=0, ddof=1))", M))
    row(f"{name} ddof all", one(f"return np.{name}(x, ddof=1)", M))
    row(f"{name} keepdims all", one(f"return np.sum(np.{name}(x, keepdims=True))", M))
    row(f"{name} constant rows", one(f"return np.sum(np.{name}(x * 0.0 + 1.0, axis=1)) "
                                     f"+ np.sum(x)", M))
row("cumsum", one("return np.sum(np.sin(np.cumsum(x)))", M))
row("cumsum axis", one("return np.sum(np.sin(np.cumsum(x, axis=1)))", M))
row("cumprod", one("return np.sum(np.sin(np.cumprod(x)))", M, POS))
row("cumprod axis", one("return np.sum(np.sin(np.cumprod(x, axis=0)))", M, POS))
row("nansum", one("return np.sin(np.nansum(x))", M))
row("nanmean", one("return np.sin(np.nanmean(x))", M))
row("average", one("return np.sin(np.average(x))", M))
row("average weights", one("return np.sin(np.average(x, weights=np.arange(1.0, 4.0), axis=1)"
                           ".sum())", M))
row("median", one("return np.sin(np.median(x))", M))
row("ptp", one("return np.sin(np.ptp(x))", M))
row("logsumexp by hand", one("m = np.max(x)\n    return m + np.log(np.sum(np.exp(x - m)))", M))
row("softmax", one("e = np.exp(x - np.max(x, axis=1, keepdims=True))\n"
                   "    p = e / np.sum(e, axis=1, keepdims=True)\n"
                   "    return np.sum(p * np.arange(3.0))", M))
row("count_nonzero", one("return np.sum(x) * np.count_nonzero(x > 0)", M))
row("all any", one("return np.sum(x) * np.all(x > -5) * np.any(x > 5)", M))

# -- norms ----------------------------------------------------------------------------------
row("norm", one("return np.linalg.norm(x)", M))
row("norm vector", one("return np.linalg.norm(x)", V))
for order in ("1", "2", "np.inf", "-np.inf", "3", "0.5"):
    row(f"norm vec ord={order}", one(f"return np.linalg.norm(x, ord={order})", V, POS))
for order in ("'fro'", "1", "-1", "np.inf", "-np.inf", "2", "-2", "'nuc'"):
    row(f"norm mat ord={order}", one(f"return np.linalg.norm(x, ord={order})", M))
row("norm axis", one("return np.sum(np.linalg.norm(x, axis=1))", M))
row("norm axis keepdims", one("return np.sum(np.linalg.norm(x, axis=0, keepdims=True))", M))
row("norm ord axis", one("return np.sum(np.linalg.norm(x, ord=1, axis=1))", M))

# -- linear algebra (test_linalg) ----------------------------------------------------------
row("dot vv", two("return np.dot(x, y)"))
row("dot mv", two("return np.sum(np.sin(np.dot(x, y)))", M, V))
row("dot mm", two("return np.sum(np.sin(np.dot(x, y)))", M, (3, 2)))
row("dot scalar", two("return np.sum(np.sin(np.dot(x, y)))", S, M))
row("dot 3d", two("return np.sum(np.sin(np.dot(x, y)))", T3, (4, 2)))
row("inner", two("return np.inner(x, y)"))
row("inner scalar", two("return np.sum(np.sin(np.inner(x, y)))", S, V))
row("inner mm", two("return np.sum(np.sin(np.inner(x, y)))", M, (4, 3)))
row("outer", two("return np.sum(np.sin(np.outer(x, y)))", V, (4,)))
row("outer mat", two("return np.sum(np.sin(np.outer(x, y)))", M, (2,)))
row("vdot", two("return np.vdot(x, y)", M, M))
row("kron", two("return np.sum(np.sin(np.kron(x, y)))", M, (2, 2)))
row("kron vec", two("return np.sum(np.sin(np.kron(x, y)))", V, (2,)))
row("cross", two("return np.sum(np.sin(np.cross(x, y)))", V, V))
row("cross batch", two("return np.sum(np.sin(np.cross(x, y)))", (2, 3), V))
row("cross 2d", two("return np.sum(np.sin(np.cross(x, y)))", (2,), (2,)))
row("tensordot 2", two("return np.sum(np.sin(np.tensordot(x, y)))", M, M))
row("tensordot 1", two("return np.sum(np.sin(np.tensordot(x, y, 1)))", M, (3, 4)))
row("tensordot axes", two("return np.sum(np.sin(np.tensordot(x, y, axes=([1], [0]))))",
                          M, (3, 4)))
row("tensordot axes2", two("return np.sum(np.sin(np.tensordot(x, y, axes=([0, 1], [1, 0]))))",
                           (2, 3, 4), (3, 2)))
row("tensordot 0", two("return np.sum(np.sin(np.tensordot(x, y, 0)))", V, (2,)))
row("matmul", two("return np.sum(np.sin(np.matmul(x, y)))", M, (3, 2)))
row("trace", one("return np.trace(x)", Q))
row("trace offset", one("return np.trace(x, 1)", Q))
row("trace 3d", one("return np.sum(np.trace(x, axis1=1, axis2=2))", T3))
row("transpose", one("return np.sum(np.transpose(x) * np.arange(6.0).reshape(3, 2))", M))
row("transpose axes", one("return np.sum(np.transpose(x, (2, 0, 1)) * "
                          "np.arange(24.0).reshape(4, 2, 3))", T3))
row("T", one("return np.sum(x.T @ np.arange(2.0))", M))
row("inv", one(f"return np.sum(np.sin(np.linalg.inv({WELL})))", Q))
row("inv batch", one("return np.sum(np.sin(np.linalg.inv(x + 4 * np.eye(2))))", (3, 2, 2)))
row("det", one(f"return np.linalg.det({WELL})", Q))
row("det batch", one("return np.sum(np.linalg.det(x + 4 * np.eye(2)))", (3, 2, 2)))
row("det 1x1", one("return np.linalg.det(x)", (1, 1), POS))
row("slogdet", one(f"return np.linalg.slogdet({WELL})[1]", Q))
row("slogdet sign", one(f"return np.linalg.slogdet(-{WELL})[1] * "
                        f"np.linalg.slogdet(-{WELL})[0]", Q))
row("solve vec", two(f"return np.sum(np.sin(np.linalg.solve(x + 4 * np.eye(3), y)))", Q, V))
row("solve mat", two(f"return np.sum(np.sin(np.linalg.solve(x + 4 * np.eye(3), y)))",
                     Q, (3, 2)))
row("solve batch", two("return np.sum(np.sin(np.linalg.solve(x + 4 * np.eye(3), y)))",
                       (2, 3, 3), (2, 3, 2)))
row("cholesky", one(f"return np.sum(np.sin(np.linalg.cholesky({SPD})))", Q))
row("eigh values", one(f"return np.sum(np.sin(np.linalg.eigh({SYM})[0]))", Q))
row("eigh vectors", one(f"return np.sum(np.abs(np.linalg.eigh({SYM})[1]))", Q))
row("eigvalsh", one(f"return np.sum(np.sin(np.linalg.eigvalsh({SYM})))", Q))
row("svd values", one("return np.sum(np.linalg.svd(x, compute_uv=False))", M))
row("svd full", one("return np.sum(np.linalg.svd(x)[1])", M))
row("pinv", one("return np.sum(np.sin(np.linalg.pinv(x)))", M))
row("matrix_power", one("return np.sum(np.linalg.matrix_power(x, 3))", Q))
row("qr", one("return np.sum(np.abs(np.linalg.qr(x)[1]))", Q))
row("eig", one(f"return np.sum(np.linalg.eig({SYM})[0])", Q))

# -- einsum ---------------------------------------------------------------------------------
for subscripts, a, b in [("ij,jk->ik", M, (3, 4)), ("ij,ij->", M, M), ("i,i->", V, V),
                         ("ij,j->i", M, V), ("i,j->ij", V, (4,)), ("ij,jk->k", M, (3, 4)),
                         ("ij,kj->ik", M, (4, 3)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
                         ("...ij,...jk->...ik", M, (4, 3, 2)),
                         ("...ij,...jk->...ik", (4, 2, 3), (3, 2)),
                         ("i...j,k...j->ik...", (2, 4, 3), (4, 3)),
                         ("i...j,k...j->ik...", (2, 3), (5, 4, 3)),
                         ("ij...,kj...->ik...", (2, 3, 4), (2, 3)),
                         ("...,...->...", M, V), ("...,...", M, V), ("ij,jk", M, (3, 4)),
                         ("ba,ac", M, (3, 4)), ("ii,i->", Q, V), ("i,ii->i", V, Q),
                         ("ij,ji", M, (3, 2)), ("ij->", M, M)]:
    row(f"einsum {subscripts} {a} {b}",
        two(f"return np.sum(np.sin(np.einsum({subscripts!r}, x, y)))", a, b))
row("einsum one operand", one("return np.sum(np.sin(np.einsum('ij->ji', x)))", M))
row("einsum three operands", one("return np.sum(np.einsum('i,j,k->ijk', x, x, x))", V))
row("einsum sublist", one("return np.sum(np.sin(np.einsum(x, [0, 1], [1, 0])))", M))
row("einsum sublist two", one("return np.sum(np.sin(np.einsum(x, [0, 1], x, [2, 1])))", M))
row("einsum optimize", two("return np.sum(np.sin(np.einsum('ij,jk->ik', x, y, "
                           "optimize=True)))", M, (3, 4)))

# -- shapes and joins (test_numpy) ---------------------------------------------------------
W6 = "np.arange(6.0)"
row("reshape", one(f"return np.sum(np.reshape(x, (3, 2)) * {W6}.reshape(3, 2))", M))
row("reshape -1", one(f"return np.sum(np.reshape(x, -1) * {W6})", M))
row("reshape method", one(f"return np.sum(x.reshape(3, 2) * {W6}.reshape(3, 2))", M))
row("ravel", one(f"return np.sum(np.ravel(x) * {W6})", M))
row("ravel method", one(f"return np.sum(x.ravel() * {W6})", M))
row("flatten", one(f"return np.sum(x.flatten() * {W6})", M))
row("squeeze", one("return np.sum(np.squeeze(x) * np.arange(3.0))", (1, 3)))
row("squeeze axis", one("return np.sum(np.squeeze(x, axis=0) * np.arange(3.0))", (1, 3)))
row("expand_dims", one("return np.sum(np.expand_dims(x, 1) * np.arange(2.0))", V))
row("newaxis", one("return np.sum(x[:, None] * np.arange(2.0))", V))
row("broadcast_to", one("return np.sum(np.sin(np.broadcast_to(x, (2, 3))))", V))
row("atleast_2d", one("return np.sum(np.sin(np.atleast_2d(x)))", V))
row("swapaxes", one("return np.sum(np.swapaxes(x, 0, 2) * np.arange(4.0)[:, None, None])",
                    T3))
row("moveaxis", one("return np.sum(np.moveaxis(x, 0, -1) * np.arange(2.0))", T3))
row("rollaxis", one("return np.sum(np.rollaxis(x, 2) * np.arange(4.0)[:, None, None])", T3))
row("flip", one("return np.sum(np.flip(x) * np.arange(3.0))", V))
row("flip axis", one(f"return np.sum(np.flip(x, 1) * {W6}.reshape(2, 3))", M))
row("fliplr", one(f"return np.sum(np.fliplr(x) * {W6}.reshape(2, 3))", M))
row("flipud", one(f"return np.sum(np.flipud(x) * {W6}.reshape(2, 3))", M))
row("rot90", one(f"return np.sum(np.rot90(x) * {W6}.reshape(3, 2))", M))
row("roll", one("return np.sum(np.roll(x, 1) * np.arange(3.0))", V))
row("roll axis", one(f"return np.sum(np.roll(x, -1, axis=1) * {W6}.reshape(2, 3))", M))
row("tile", one("return np.sum(np.tile(x, 2) * np.arange(6.0))", V))
row("tile 2d", one("return np.sum(np.tile(x, (2, 1)) * np.arange(12.0).reshape(4, 3))", M))
row("repeat", one("return np.sum(np.repeat(x, 2) * np.arange(6.0))", V))
row("repeat axis", one("return np.sum(np.repeat(x, 2, axis=0) * np.arange(3.0))", M))
row("diag", one("return np.sum(np.sin(np.diag(x)))", Q))
row("diag make", one("return np.sum(np.sin(np.diag(x)) * np.arange(9.0).reshape(3, 3))", V))
row("diagonal", one("return np.sum(np.sin(np.diagonal(x)))", Q))
row("diagonal offset", one("return np.sum(np.sin(np.diagonal(x, 1)))", Q))
row("triu", one("return np.sum(np.sin(np.triu(x)))", Q))
row("tril", one("return np.sum(np.sin(np.tril(x, -1)))", Q))
row("concatenate", two("return np.sum(np.sin(np.concatenate([x, y])))", V, (2,)))
row("concatenate axis", two("return np.sum(np.sin(np.concatenate([x, y], axis=1)))", M, (2, 2)))
row("concatenate none", two("return np.sum(np.sin(np.concatenate([x, y], axis=None)))", M, V))
row("concatenate tuple", two("return np.sum(np.sin(np.concatenate((x, y, x))))", V, (2,)))
row("stack", two("return np.sum(np.sin(np.stack([x, y])) * np.arange(3.0))"))
row("stack axis", two("return np.sum(np.sin(np.stack([x, y], axis=1)) * np.arange(2.0))"))
row("hstack", two("return np.sum(np.sin(np.hstack([x, y])) * np.arange(6.0))"))
row("hstack 2d", two("return np.sum(np.sin(np.hstack([x, y])))", M, (2, 1)))
row("vstack", two("return np.sum(np.sin(np.vstack([x, y])) * np.arange(3.0))"))
row("dstack", two("return np.sum(np.sin(np.dstack([x, y])))"))
row("column_stack", two("return np.sum(np.sin(np.column_stack([x, y])) * np.arange(2.0))"))
row("column_stack 2d", two("return np.sum(np.sin(np.column_stack([x, y])))", (3, 2), V))
row("r_", two("return np.sum(np.r_[x, y] ** 2)"))
row("c_", two("return np.sum(np.c_[x, y] ** 2)"))
row("r_ scalars", one("return np.sum(np.r_[x, 1.0] ** 2)", V))
row("mgrid", one("return np.sum(x * np.mgrid[0:3])", V))
row("array list", one("return np.sum(np.sin(np.array([x, 2.0 * x])))", V))
row("array list scalars", one("return np.sum(np.sin(np.array([x[0], x[2], 1.0])))", V))
row("array unequal", one("return np.sum(np.array([x, x[:2]]))", V))
row("asarray", one("return np.sum(np.sin(np.asarray(x)))", V))
row("copy", one("return np.sum(np.sin(np.copy(x)))", V))
row("split", one("return np.sum(np.sin(np.split(x, 2)[1]))", (4,)))
row("array_split", one("return np.sum(np.sin(np.array_split(x, 2)[0]))", (5,)))
row("pad", one("return np.sum(np.sin(np.pad(x, 1)))", V))
row("pad tuple", one("return np.sum(np.sin(np.pad(x, ((1, 0), (0, 2)))))", M))
row("sort", one("return np.sum(np.sort(x) * np.arange(3.0))", V))
row("sort axis", one(f"return np.sum(np.sort(x, axis=0) * {W6}.reshape(2, 3))", M))
row("partition", one("return np.sum(np.partition(x, 1) * np.arange(3.0))", V))
row("diff", one("return np.sum(np.sin(np.diff(x)))", (4,)))
row("gradient", one("return np.sum(np.sin(np.gradient(x)))", (4,)))
row("clip", one("return np.sum(np.sin(np.clip(x, -0.5, 0.5)))", M))
row("clip method", one("return np.sum(np.sin(x.clip(-0.5, 0.5)))", M))
row("where", one("return np.sum(np.where(x > 0, x ** 2, np.sin(x)))", M))
row("where scalar", one("return np.sum(np.where(x > 0, x, 0.0))", M))
row("select", one("return np.sum(np.select([x > 0], [x ** 2], default=1.0))", M))
row("linspace", one("return np.sum(np.sin(np.linspace(x, 2.0 * x, 5)))", S))
row("full_like", one("return np.sum(np.full_like(x, 2.0) * x)", V))
row("zeros_like", one("return np.sum(np.zeros_like(x) + x)", V))
row("ones", one("return np.sum(np.ones(3) * x)", V))
row("eye", one("return np.sum(np.eye(3) * x)", Q))
row("outer add", one("return np.sum(np.sin(np.add.outer(x, x)))", V))
row("astype", one("return np.sum(np.sin(x.astype(np.float64)) * 2.0)", V))
row("astype int", one("return np.sum(x.astype(int) * 2.0) + np.sum(x)", V))
row("round", one("return np.sum(np.round(x, 1) * x)", V))

# -- indexing (test_numpy's index tests) -----------------------------------------------------
row("index int", one("return np.sin(x[1])", V))
row("index neg", one("return np.sin(x[-1])", V))
row("slice", one("return np.sum(np.sin(x[1:]))", V))
row("slice step", one("return np.sum(np.sin(x[::2]))", (5,)))
row("slice neg step", one("return np.sum(np.sin(x[::-1]) * np.arange(3.0))", V))
row("slice 2d", one("return np.sum(np.sin(x[:, 1:]))", M))
row("index row", one("return np.sum(np.sin(x[1]))", M))
row("index pair", one("return np.sin(x[1, 2])", M))
row("index ellipsis", one("return np.sum(np.sin(x[..., 0]))", T3))
row("fancy", one("return np.sum(np.sin(x[[0, 2]]))", V))
row("fancy repeated", one("return np.sum(np.sin(x[[0, 0, 1]]))", V))
row("fancy array", one("return np.sum(np.sin(x[np.array([2, 0])]))", V))
row("fancy 2d", one("return np.sum(np.sin(x[[0, 1], [2, 0]]))", M))
row("mask", one("return np.sum(np.sin(x[x > 0]))", M))
row("index method take", one("return np.sum(np.sin(np.take(x, [0, 2])))", V))
row("take_along_axis", one("return np.sum(np.sin(np.take_along_axis(x, np.argsort(x, 1), 1)))",
                           M))
row("setitem copy", one("y = np.zeros(4)\n    y[1:] = x\n    return np.sum(np.sin(y))", V))
row("setitem elem", one("y = x * 1.0\n    y[0] = 2.0\n    return np.sum(y * y)", V))

# -- numbers and math, loops, branches (test_systematic's scalar and control cases) ---------
row("math", one("return math.sin(x) * math.exp(x) + math.hypot(x, 1.0)", S))
row("math log", one("return math.log(x) + math.log(x, 2.0) + math.sqrt(x)", S, POS))
row("math atan2", one("return math.atan2(x, 1.0) + math.tanh(x)", S))
row("math hypot zero", one("a = 0.0 * x\n    return x + math.hypot(a, a)", S))
row("np hypot zero", one("return np.sum(x + np.hypot(x * 0.0, x * 0.0))", V))
row("float", one("return float(np.sum(x)) ** 2", V))
row("abs builtin", one("return abs(x) * x", S))
row("max builtin", one("return max(x, 0.3) * x", S))
row("loop", one("t = 0.0\n    for i in range(3):\n        t = t + np.sin(x[i]) * i\n"
                "    return t", V))
row("loop accumulate", one("y = np.zeros(3)\n    for i in range(3):\n"
                           "        y[i] += x[i] * x[2 - i]\n    return np.sum(y)", V))
row("branch", one("if np.sum(x) > 0:\n        y = x * 2.0\n    else:\n        y = x ** 2\n"
                  "    return np.sum(y)", V))
row("while", one("t = x\n    k = 0\n    while k < 3:\n        t = np.sin(t)\n"
                 "        k += 1\n    return np.sum(t)", V))
row("tuple return aux", one("return np.sum(x ** 2)", V))
row("list return", one("return [np.sum(x), np.sum(x ** 2)]", V))
row("list unequal return", one("return [x, x[:2]]", V))
row("mean keepdims log1p", one("return np.log1p(x ** 2).mean(keepdims=True).sum()", V))
row("mean keepdims log1p 2d", one("return np.log1p(x ** 2).mean(keepdims=True).sum()", M))
row("sum keepdims exp", one("return np.exp(x ** 2).sum(axis=0, keepdims=True).sum()", M))
row("max keepdims sin", one("return np.sin(x ** 2).max(axis=1, keepdims=True).sum()", M))
row("std keepdims sin", one("return np.sin(x ** 2).std(axis=1, keepdims=True).sum()", M))


# -- more of the peer's own cases: appends, splits, multi-indexing, batches ----------------
row("append", two("return np.sum(np.sin(np.append(x, y)))", V, (2,)))
row("append axis", two("return np.sum(np.sin(np.append(x, y, axis=0)))", M, (1, 3)))
row("diagflat", one("return np.sum(np.sin(np.diagflat(x)) * np.arange(9.0).reshape(3, 3))", V))
row("vsplit", one("return np.sum(np.sin(np.vsplit(x, 2)[1]))", (4, 3)))
row("hsplit", one("return np.sum(np.sin(np.hsplit(x, 2)[0]))", (2, 4, 3)))
row("dsplit", one("return np.sum(np.sin(np.dsplit(x, 2)[1]))", (2, 3, 4)))
row("split axis", one("return np.sum(np.sin(np.split(x, [1], axis=1)[1]))", M))
row("array of numbers", one("return np.sum(np.sin(np.array([x, x * 2.0, 3.0])))", S))
row("array of arrays 2d", two("return np.sum(np.sin(np.array([[x, y], [y, x]])))", M, M))
row("len", one("return np.sum(x) * len(x)", V))
row("maximum same", one("return np.sum(np.maximum(x, x))", V))
row("max tie", one("return np.max(np.array([x[0], x[0]]))", V))
row("multi index", one("return np.sin(x[1][2])", M))
row("multi index2", one("return np.sum(np.sin(x[1][1:]))", M))
row("index dot slices", one("return np.sum(np.sin(x[::2] @ x[1::2].T))", (4, 3)))
row("index mixed", one("return np.sum(np.sin(x[1, :2]))", M))
row("index slice fanout", one("a = x[1:]\n    b = x[:2]\n    return np.sum(a * b)", V))
row("index lists 2d", one("return np.sum(np.sin(x[[0, 1, 1]][:, [2, 0]]))", M))
row("cast int", one("return np.sum(x * x.astype(int))", V, (1.1, 2.9)))
row("tensordot by position", two("return np.sum(np.sin(np.tensordot(x, y, ([1], [0]))))",
                                 M, (3, 2)))
row("repeat axis1 rep1", one("return np.sum(np.sin(np.repeat(x, 1, axis=1)))", M))
row("repeat 1d axis0", one("return np.sum(np.repeat(x, 3, axis=0) * np.arange(9.0))", V))
row("tril 3d", one("return np.sum(np.sin(np.tril(x)))", T3))
row("cholesky batch", one("return np.sum(np.sin(np.linalg.cholesky("
                          "x @ np.swapaxes(x, -1, -2) + 3 * np.eye(3))))", (2, 3, 3)))
row("cholesky reparam", two("return np.sum(np.sin(np.linalg.cholesky(" + SPD + ") @ y))",
                            Q, V))
row("eigh batch", one("return np.sum(np.sin(np.linalg.eigh("
                      "x + np.swapaxes(x, -1, -2) + np.diag(np.arange(3.0)) * 4)[0]))",
                      (2, 3, 3)))
row("svd wide", one("return np.sum(np.linalg.svd(x, compute_uv=False) * np.arange(2.0))",
                    (2, 4)))
row("svd batch", one("return np.sum(np.linalg.svd(x, compute_uv=False))", (2, 3, 3)))
row("norm fro axis", one("return np.sum(np.linalg.norm(x, 'fro', axis=(0, 1)))", T3))
row("norm nuc axis", one("return np.sum(np.linalg.norm(x, 'nuc', axis=(1, 2)))", T3))
row("solve 1d", two("return np.sum(np.sin(np.linalg.solve(x + 4 * np.eye(3), y)))", Q, V))
row("solve stack vec", two("return np.sum(np.sin(np.linalg.solve(x + 4 * np.eye(3), y)))",
                           (2, 3, 3), (2, 3, 1)))
row("pinv wide", one("return np.sum(np.sin(np.linalg.pinv(x)))", (2, 4)))
row("det 3d", one("return np.sum(np.linalg.det(x + 4 * np.eye(3)))", (2, 3, 3)))
row("inv solve chain", two("A = x + 4 * np.eye(3)\n    return np.sum(np.linalg.inv(A) @ "
                           "np.linalg.solve(A, y))", Q, V))
row("logdet chol", one("L = np.linalg.cholesky(" + SPD + ")\n"
                       "    return 2.0 * np.sum(np.log(np.diag(L)))", Q))
row("dot broadcast 3d", two("return np.sum(np.sin(x @ y))", (3, 2, 3), (3, 2)))
row("atleast_1d", one("return np.sum(np.sin(np.atleast_1d(x)))", S))
row("atleast_3d", one("return np.sum(np.sin(np.atleast_3d(x)))", M))
row("nan_to_num 2", one("return np.sum(np.nan_to_num(x) * x)", M))
row("where 2", two("return np.sum(np.where(x > y, x, y))", M, M))
row("std var same", one("return np.std(x) * np.var(x)", V))
row("fmax scalar", one("return np.sum(np.fmax(x, 0.1) * x)", V))
row("einsum 3 terms const", one("return np.sum(np.einsum('i,j,k->ijk', x, x, "
                                "np.ones(2)))", V))
row("einsum trace", one("return np.einsum('ii', x)", Q))
row("einsum diag", one("return np.sum(np.sin(np.einsum('ii->i', x)))", Q))
row("einsum sum", one("return np.einsum('ij->', x)", M))
row("einsum transpose", two("return np.sum(np.einsum('ij,ji->ij', x, y))", M, (3, 2)))
row("einsum covsum", two("return np.sum(np.sin(np.einsum('ijk,lji->lki', x, y)))",
                         (3, 4, 2), (2, 4, 3)))
row("einsum matmult broadcast", two("return np.sum(np.sin(np.einsum('...ij,...jk->...ik', "
                                    "x, y)))", (2, 1, 2, 3), (3, 3, 2)))
row("einsum matmult broadcast leadzero", two("return np.sum(np.einsum('...ij,...jk->...ik', "
                                             "x, y))", (0, 2, 3), (0, 3, 2)))
row("einsum ellipses tail", two("return np.sum(np.sin(np.einsum('ij...,kj...->ik...', x, "
                                "y)))", (3, 2, 4), (1, 2, 4)))
row("einsum ellipses center", two("return np.sum(np.sin(np.einsum('i...j,k...j->ik...', x, "
                                  "y)))", (2, 4, 3), (2, 1, 3)))
row("einsum three args", one("return np.sum(np.einsum('ij,jk,kl->il', x, x.T, x))", M))
row("einsum no output indices", two("return np.sum(np.sin(np.einsum('ij,k', x, y)))", M, V))
row("einsum 2 operands ellipsis to nothing", two("return np.einsum('...,...->', x, y)", M, V))

IDS = [r[0] for r in ROWS]
assert len(set(IDS)) == len(IDS), sorted(i for i in IDS if IDS.count(i) > 1)

PARAMS = ("x", "y", "z")
ENV = {"np": np, "math": math}
AUTOGRAD_ENV = {"np": anp, "math": math}


def _text(body, n):
    return f"def f({', '.join(PARAMS[:n])}):\n    {body}\n"


def _exec(text, env):
    namespace = dict(env)
    exec(text, namespace)
    return namespace["f"]


def _args(id, specs):
    rng = np.random.default_rng(zlib.crc32(id.encode()))
    return [float(rng.uniform(*d)) if s == () else rng.uniform(*d, size=s) for s, d in specs]


def _autograd(text, args, index):
    """autograd's gradient, or None where it cannot take one (it is an oracle only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return autograd.grad(_exec(text, AUTOGRAD_ENV), index)(*args)
    except Exception:  # noqa: BLE001 - autograd lacking a rule is not our finding
        return None


def _same_as_the_primal(primal, args, exc):
    """Another exception is allowed only where the user's own function raises the same
    (a NumPy error in the primal: np.array of unequal pieces, a bad einsum string)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            primal(*args)
    except Exception as own:  # noqa: BLE001
        assert type(own) is type(exc), (own, exc)
        return
    raise AssertionError(f"not an S2SADError, and the primal runs: "
                         f"{type(exc).__name__}: {exc}") from exc


def _primal_runs(f, args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = f(*args)
        return np.ndim(value) == 0 and np.isfinite(value)
    except Exception:  # noqa: BLE001 - a primal NumPy refuses: only a refusal is right
        return False


@pytest.mark.parametrize("id, body, specs", ROWS, ids=IDS)
def test_right_or_refused_in_reverse_mode(id, body, specs):
    text = _text(body, len(specs))
    args = _args(id, specs)
    primal = _exec(text, ENV)
    wrt = tuple(range(len(specs)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gradient = s2sad.grad_source(text, "f", wrt=wrt, env=ENV)
            got = gradient(*args)
    except s2sad.S2SADError:
        return  # refused: allowed
    except Exception as exc:  # noqa: BLE001
        _same_as_the_primal(primal, args, exc)
        return
    assert _primal_runs(primal, args), "a gradient for a function that does not run"
    for index, arg in enumerate(args):
        expected = numeric_grad(primal, args, index)
        assert np.shape(got[index]) == np.shape(arg), (id, index)
        assert isinstance(got[index], float) == isinstance(arg, float), (id, type(got[index]))
        np.testing.assert_allclose(got[index], expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{id}: d/d{PARAMS[index]}\n{gradient.source}")
        oracle = _autograd(text, args, index)
        # where autograd is right (it has its own bugs: np.outer of a matrix, the
        # keepdims of np.linalg.norm), s2sad agrees with it more tightly than with
        # central differences
        if oracle is not None and np.shape(oracle) == np.shape(arg) and \
                np.all(np.isfinite(oracle)) and \
                np.allclose(oracle, expected, rtol=1e-5, atol=1e-6):
            np.testing.assert_allclose(got[index], oracle, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("id, body, specs", ROWS, ids=IDS)
def test_right_or_refused_in_forward_mode(id, body, specs):
    text = _text(body, len(specs))
    args = _args(id, specs)
    primal = _exec(text, ENV)
    wrt = tuple(range(len(specs)))
    rng = np.random.default_rng(zlib.crc32(("forward " + id).encode()))
    directions = [float(rng.uniform(-1, 1)) if s == () else rng.uniform(-1, 1, size=s)
                  for s, _ in specs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forward = s2sad.JVPFunction(None, wrt, parsed=s2sad.frontend.parse_source(
                text, "f", "<string>", ENV))
            _, derivative = forward(*args, tuple(directions))
    except s2sad.S2SADError:
        return
    except Exception as exc:  # noqa: BLE001
        _same_as_the_primal(primal, args, exc)
        return
    assert _primal_runs(primal, args), "a derivative for a function that does not run"
    expected = sum(float(np.sum(numeric_grad(primal, args, i) * d))
                   for i, d in enumerate(directions))
    np.testing.assert_allclose(derivative, expected, rtol=1e-5, atol=1e-6,
                               err_msg=f"{id}\n{forward.source}")


@pytest.fixture(scope="module")
def peer_module(tmp_path_factory):
    """The table's functions in a module file (s2sad.hessian reads their source)."""
    folder = tmp_path_factory.mktemp("peer")
    lines = ["import math", "import numpy as np", ""]
    for k, (id, body, specs) in enumerate(ROWS):
        lines.append(_text(body, len(specs)).replace("def f(", f"def f{k}("))
    (folder / "peer_functions.py").write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("peer_functions",
                                                  folder / "peer_functions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jacobian_by_differences(g, args):
    """Central differences of g (a gradient, right by the tests above) in args[0]."""
    x, eps = args[0], 1e-5

    def at(value):
        return np.asarray(g(value, *args[1:]), dtype=float)
    if np.ndim(x) == 0:
        return (at(x + eps) - at(x - eps)) / (2 * eps)
    result = np.zeros(np.shape(x) * 2)
    for i in np.ndindex(np.shape(x)):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        result[(Ellipsis,) + i] = (at(up) - at(down)) / (2 * eps)
    return result


@pytest.mark.parametrize("k, id, body, specs", [(k,) + r for k, r in enumerate(ROWS)
                                                if r[0] not in FIRST_ORDER_ONLY],
                         ids=[i for i in IDS if i not in FIRST_ORDER_ONLY])
def test_right_or_refused_second_derivatives(peer_module, k, id, body, specs):
    """The Hessian (forward over reverse), and grad(grad(f)) of a number, in the first
    argument: against central differences of the gradient."""
    f = getattr(peer_module, f"f{k}")
    args = _args(id, specs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gradient = s2sad.grad(f)
            gradient(*args)
        except Exception:  # noqa: BLE001 - the first-order tests judge these
            return
        expected = _jacobian_by_differences(gradient, args)
        second = [s2sad.hessian(f)]
        if isinstance(args[0], float):
            second.append(s2sad.grad(gradient))
        for derivative in second:
            try:
                got = derivative(*args)
            except s2sad.S2SADError:
                continue
            assert np.shape(got) == np.shape(expected)
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=id)


def test_the_table_is_broad():
    assert len(ROWS) > 400
