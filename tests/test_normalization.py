"""BatchNorm: hand-computed golden case, running statistics, eval mode, dtype, errors."""

import numpy as np
import pytest

from handgrad import layers as L


def test_batchnorm1d_golden_forward_and_running_stats():
    # one channel, x = [1, 3]: mean 2, biased var 1, unbiased var 2
    bn = L.BatchNorm1d(1, eps=1e-5, momentum=0.1, dtype=np.float64)
    bn.weight.data[:] = 2.0
    bn.bias.data[:] = 1.0
    y = bn(np.array([[1.0], [3.0]]))
    a = 1 / np.sqrt(1 + 1e-5)                          # xhat = [-a, a]
    np.testing.assert_allclose(y, [[1 - 2 * a], [1 + 2 * a]], rtol=1e-15)
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 2], rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 2], rtol=1e-15)


def test_batchnorm1d_golden_backward():
    bn = L.BatchNorm1d(1, dtype=np.float64)
    bn.weight.data[:] = 2.0
    bn(np.array([[1.0], [3.0]]))
    a = 1 / np.sqrt(1 + 1e-5)
    # g = [1, 0]: dbeta = 1, dgamma = sum(g xhat) = -a;
    # dx = (gamma / sigma) / 2 * (2 g - 1 - xhat * (-a)) = a * [1 - a^2, -(1 - a^2)]
    gx = bn.backward(np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(bn.bias.grad, [1.0])
    np.testing.assert_allclose(bn.weight.grad, [-a], rtol=1e-15)
    np.testing.assert_allclose(gx, [[a * (1 - a * a)], [-a * (1 - a * a)]], rtol=1e-9)


def test_backward_kills_shifts_and_scalings():
    # the output does not change when x is shifted per channel, nor (up to eps) when scaled:
    # an upstream gradient that is constant per channel gives exactly dx = 0
    rng = np.random.default_rng(0)
    bn = L.BatchNorm2d(3, dtype=np.float64)
    bn(rng.standard_normal((4, 3, 5, 5)))
    gx = bn.backward(np.broadcast_to(np.array([1.0, -2.0, 0.5]).reshape(1, 3, 1, 1), (4, 3, 5, 5)))
    np.testing.assert_allclose(gx, 0, atol=1e-13)


def test_running_stats_after_several_steps():
    rng = np.random.default_rng(1)
    bn = L.BatchNorm2d(2, momentum=0.3, dtype=np.float64)
    rm, rv = np.zeros(2), np.ones(2)
    for _ in range(4):
        x = rng.normal(3.0, 2.0, (5, 2, 3, 3))
        bn(x)
        m = x.mean(axis=(0, 2, 3))
        v = x.var(axis=(0, 2, 3), ddof=1)              # unbiased, M = 45
        rm, rv = 0.7 * rm + 0.3 * m, 0.7 * rv + 0.3 * v
    np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, rv, rtol=1e-13)


def test_eval_uses_running_stats_and_does_not_update_them():
    bn = L.BatchNorm1d(2, eps=1e-5, dtype=np.float64).eval()
    bn.running_mean[:] = [1.0, -1.0]
    bn.running_var[:] = [4.0, 0.25]
    y = bn(np.array([[5.0, 0.0]]))                     # a batch of one is fine in eval mode
    np.testing.assert_allclose(y, [[4 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-15)
    np.testing.assert_array_equal(bn.running_mean, [1.0, -1.0])
    gx = bn.backward(np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(gx, [[1 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-15)


def test_batchnorm2d_matches_batchnorm1d_on_flattened_spatial_axes():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 2, 5))
    g = rng.standard_normal(x.shape)
    bn2, bn1 = L.BatchNorm2d(4, dtype=np.float64), L.BatchNorm1d(4, dtype=np.float64)
    y2 = bn2(x)
    y1 = bn1(x.reshape(3, 4, 10))
    np.testing.assert_allclose(y2.reshape(3, 4, 10), y1, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(bn2.backward(g).reshape(3, 4, 10), bn1.backward(g.reshape(3, 4, 10)),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn2.running_var, bn1.running_var, rtol=1e-14)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_float32_stays_float32(training):
    bn = L.BatchNorm2d(3).train(training)
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 4)).astype(np.float32)
    y = bn(x)
    gx = bn.backward(np.ones_like(y))
    assert y.dtype == gx.dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    assert bn.weight.grad.dtype == np.float32


def test_buffers_and_state_dict():
    bn = L.BatchNorm1d(3)
    assert list(bn.buffers()) == ["running_mean", "running_var"]
    bn(np.random.default_rng(4).standard_normal((8, 3)).astype(np.float32))
    state = bn.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var"}
    fresh = L.BatchNorm1d(3)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_var, bn.running_var)


def test_config_and_repr():
    bn = L.BatchNorm2d(8, eps=1e-3, momentum=0.2, affine=False, dtype=np.float64)
    assert bn.get_config() == {"num_features": 8, "eps": 1e-3, "momentum": 0.2, "affine": False,
                               "dtype": "float64"}
    assert repr(bn) == "BatchNorm2d(8, eps=0.001, momentum=0.2, affine=False)"
    assert bn.parameters() == {}


@pytest.mark.parametrize("layer, x, error, match", [
    (L.BatchNorm1d(4), np.zeros((2, 4, 3, 3), np.float32), ValueError,
     r"BatchNorm1d\(4\) expected input of shape \(N, C\) or \(N, C, L\), got \(2, 4, 3, 3\) \(4-D\)"),
    (L.BatchNorm1d(4), np.zeros((2, 5), np.float32), ValueError, r"with 4 at axis 1, got \(2, 5\)"),
    (L.BatchNorm2d(3), np.zeros((2, 3, 3), np.float32), ValueError, r"expected input of shape \(N, C, H, W\)"),
    (L.BatchNorm2d(3), np.zeros((2, 28, 28, 3), np.float32), ValueError, "is the data channels-last"),
    (L.BatchNorm2d(3), np.zeros((2, 3, 4, 4), np.float64), TypeError,
     "has float32 parameters but received a float64 input"),
    (L.BatchNorm1d(3), np.zeros((2, 3), np.int64), TypeError, "floating-point array, got dtype int64"),
    (L.BatchNorm1d(3), np.zeros((1, 3), np.float32), ValueError, "needs more than one value per channel"),
], ids=["1d-rank", "1d-features", "2d-rank", "2d-channels-last", "dtype-mismatch", "int-input", "batch-of-one"])
def test_bad_input(layer, x, error, match):
    with pytest.raises(error, match=match):
        layer(x)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_features": 0}, ValueError, "num_features >= 1"),
    ({"num_features": 2.0}, TypeError, "num_features to be an int"),
    ({"num_features": 2, "eps": 0}, ValueError, r"BatchNorm\dd expected eps in \(0, inf\), got 0.0"),
    ({"num_features": 2, "eps": "1e-5"}, TypeError, r"BatchNorm\dd expected eps to be a number, got str '1e-5'"),
    ({"num_features": 2, "momentum": 1.5}, ValueError, r"momentum in \[0, 1\]"),
    ({"num_features": 2, "dtype": np.int32}, TypeError, "float32 or float64, got int32"),
], ids=["zero-features", "float-features", "eps", "eps-type", "momentum", "dtype"])
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        L.BatchNorm2d(**kwargs)


@pytest.mark.parametrize("cls", [L.BatchNorm1d, L.BatchNorm2d], ids=["1d", "2d"])
def test_batchnorm_takes_initializers(cls):
    from handgrad.init import Constant, UniformRandom
    bn = cls(5, weight_init=UniformRandom(0.5, 1.5), bias_init=Constant(0.25), rng=3)
    assert np.all((bn.weight.data >= 0.5) & (bn.weight.data < 1.5)) and np.ptp(bn.weight.data) > 0
    np.testing.assert_array_equal(bn.bias.data, np.full(5, 0.25, np.float32))
    again = cls(5, weight_init=UniformRandom(0.5, 1.5), rng=3)
    np.testing.assert_array_equal(bn.weight.data, again.weight.data)
