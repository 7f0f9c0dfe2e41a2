"""Dropout: statistics of the mask, inverted scaling, eval identity, seeding, gradients."""

import numpy as np
import pytest

from handgrad import gradcheck
from handgrad import layers as L


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_kept_and_mean_preserved(p):
    n = 1_000_000
    y = L.Dropout(p, rng=0)(np.ones(n))
    kept = y != 0
    sigma = np.sqrt(p * (1 - p) / n)                 # std of the kept fraction
    assert abs(kept.mean() - (1 - p)) < 5 * sigma
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-15)   # kept units scaled by 1/(1-p)
    assert abs(y.mean() - 1) < 5 * sigma / (1 - p)                  # E[y] = x


def test_backward_uses_the_forward_mask():
    layer = L.Dropout(0.5, rng=1)
    x = np.random.default_rng(0).uniform(1, 2, (6, 7))
    y = layer(x)
    g = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(g), g * (y / x), rtol=1e-15)


def test_eval_is_identity():
    layer = L.Dropout(0.7, rng=0).eval()
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    y = layer(x)
    np.testing.assert_array_equal(y, x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), g)


def test_p_zero_is_identity_in_training():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(L.Dropout(0.0, rng=0)(x), x)


def test_reproducible_for_a_seed_and_fresh_mask_per_call():
    x = np.ones((50, 40))
    a, b = L.Dropout(0.5, rng=3), L.Dropout(0.5, rng=3)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(first, a(x))           # the next call draws a new mask
    np.testing.assert_array_equal(a.reseed(3)(x), first)
    assert not np.array_equal(L.Dropout(0.5, rng=4)(x), first)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_dtype_kept(dtype):
    layer = L.Dropout(0.3, rng=0)
    y = layer(np.ones((3, 4), dtype))
    assert y.dtype == dtype and layer.backward(np.ones_like(y)).dtype == dtype


def test_gradcheck_with_fixed_mask():
    layer = L.Dropout(0.4, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 6))
    report = gradcheck(layer, x, rng=1, before_forward=lambda: layer.reseed(11))
    assert report.passed


@pytest.mark.parametrize("p, error, match", [
    (1.0, ValueError, r"Dropout expected p in \[0, 1\), got 1.0"),
    (-0.1, ValueError, r"p in \[0, 1\)"),
    ("0.5", TypeError, "p to be a number"),
], ids=["one", "negative", "string"])
def test_bad_p(p, error, match):
    with pytest.raises(error, match=match):
        L.Dropout(p)


def test_bad_rng_and_input():
    with pytest.raises(TypeError, match="Dropout rng expected a numpy.random.Generator"):
        L.Dropout(0.5, rng="seed")
    with pytest.raises(TypeError, match="floating-point array"):
        L.Dropout(0.5, rng=0)(np.ones((2, 2), np.int64))


def test_config_and_repr():
    assert L.Dropout(0.25).get_config() == {"p": 0.25}
    assert repr(L.Dropout(0.25)) == "Dropout(p=0.25)"
