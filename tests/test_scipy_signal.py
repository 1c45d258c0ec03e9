"""Convolutions end to end: a 1-d smoothing loss, a 2-d image filter fitted to a target,
and a correlation-based matched filter, through grad, jvp and hessian, against central
differences and autograd's own convolve (which computes SciPy's full and valid modes)."""
import numpy as np
import pytest

import s2sad
from s2sad.check import numeric_grad

signal = pytest.importorskip("scipy.signal")
import scipy.signal as sps  # noqa: E402
from scipy.signal import correlate  # noqa: E402

RNG = np.random.default_rng(18)
IMAGE = RNG.normal(size=(6, 5))
TARGET = RNG.normal(size=(6, 5))
SIGNAL = RNG.normal(size=9)


def smoothing_loss(kernel, x):
    smooth = np.convolve(x, kernel, mode="same")
    return np.sum((smooth - x) ** 2) + 0.1 * np.sum(np.diff(smooth) ** 2)


def filter_fit(kernel):
    blurred = signal.convolve(IMAGE, kernel, mode="same")
    return 0.5 * np.sum((blurred - TARGET) ** 2)


def valid_filter_energy(kernel, image):
    response = sps.convolve(image, kernel, "valid")
    return np.sum(np.tanh(response) ** 2)


def matched_filter(template):
    score = correlate(SIGNAL, template, mode="valid")
    return np.log(np.sum(np.exp(score)))


def _hessian_by_differences(f, x, h=1e-5):
    grad = s2sad.grad(f)
    cols = [(grad(x + h * e) - grad(x - h * e)).ravel() / (2 * h)
            for e in np.eye(x.size).reshape((x.size,) + x.shape)]
    return np.array(cols).T.reshape(x.shape + x.shape)


CASES = [
    ("smoothing", lambda k: smoothing_loss(k, SIGNAL), RNG.normal(size=3)),
    ("smoothing_even", lambda k: smoothing_loss(k, SIGNAL), RNG.normal(size=4)),
    ("filter_fit", filter_fit, RNG.normal(size=(3, 2))),
    ("valid_energy", lambda k: valid_filter_energy(k, IMAGE), RNG.normal(size=(2, 3)) * 0.5),
    ("matched", matched_filter, RNG.normal(size=4) * 0.5),
]


@pytest.mark.parametrize("name, f, x", CASES, ids=[c[0] for c in CASES])
def test_gradient_tangent_and_hessian_against_differences(name, f, x):
    np.testing.assert_allclose(s2sad.grad(f)(x), numeric_grad(f, (x,), 0), rtol=1e-6, atol=1e-8)
    v = RNG.normal(size=x.shape)
    _, tangent = s2sad.jvp(f)(x, v)
    np.testing.assert_allclose(tangent, np.sum(numeric_grad(f, (x,), 0) * v), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(s2sad.hessian(f)(x), _hessian_by_differences(f, x),
                               rtol=1e-5, atol=1e-7)


def test_in_both_operands_against_autograd():
    ag = pytest.importorskip("autograd")
    agsig = pytest.importorskip("autograd.scipy.signal")
    anp = pytest.importorskip("autograd.numpy")

    def ours(image, kernel):
        return np.sum(np.sin(signal.convolve(image, kernel, mode="valid")) *
                      np.cos(signal.convolve(image, kernel)[1:3, :]).sum())

    def theirs(image, kernel):
        return anp.sum(anp.sin(agsig.convolve(image, kernel, mode="valid")) *
                       anp.cos(agsig.convolve(image, kernel)[1:3, :]).sum())

    kernel = RNG.normal(size=(2, 3))
    got = s2sad.grad(ours, wrt=(0, 1))(IMAGE, kernel)
    want = ag.grad(theirs, (0, 1))(IMAGE, kernel)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_float32_operands_keep_float32_gradients():
    kernel = RNG.normal(size=3).astype(np.float32)
    x = SIGNAL.astype(np.float32)
    g = s2sad.grad(smoothing_loss)(kernel, x)
    assert g.dtype == np.float32 and g.shape == (3,)
