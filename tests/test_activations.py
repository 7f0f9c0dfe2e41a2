"""Activations: hand-computed golden values, stability for huge inputs, dtype, errors."""

import numpy as np
import pytest

from handgrad import layers as L


def run(layer, x, g):
    y = layer(np.asarray(x, np.float64))
    return y, layer.backward(np.asarray(g, np.float64))


def test_leaky_relu_golden():
    # slope 0.1: y = [-0.2, 3]; dy/dx = [0.1, 1]
    y, gx = run(L.LeakyReLU(0.1), [-2.0, 3.0], [1.0, 2.0])
    np.testing.assert_allclose(y, [-0.2, 3.0])
    np.testing.assert_allclose(gx, [0.1, 2.0])


def test_sigmoid_golden():
    # s(0) = 1/2, s'(0) = 1/4; s(ln 3) = 3/(3+1) = 3/4, s' = 3/4 * 1/4 = 3/16
    y, gx = run(L.Sigmoid(), [0.0, np.log(3.0)], [1.0, 1.0])
    np.testing.assert_allclose(y, [0.5, 0.75], rtol=1e-15)
    np.testing.assert_allclose(gx, [0.25, 3 / 16], rtol=1e-15)


def test_tanh_golden():
    # tanh(ln 2) = (4 - 1) / (4 + 1) = 0.6, derivative 1 - 0.36 = 0.64
    y, gx = run(L.Tanh(), [np.log(2.0)], [2.0])
    np.testing.assert_allclose(y, [0.6], rtol=1e-15)
    np.testing.assert_allclose(gx, [1.28], rtol=1e-14)


def test_softmax_golden():
    # softmax([0, ln 3]) = [1, 3] / 4; with g = [1, 0]: sum(g y) = 1/4,
    # dx = y (g - 1/4) = [1/4 * 3/4, 3/4 * (-1/4)] = [3/16, -3/16]
    y, gx = run(L.Softmax(), [[0.0, np.log(3.0)]], [[1.0, 0.0]])
    np.testing.assert_allclose(y, [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(gx, [[3 / 16, -3 / 16]], rtol=1e-14)


def test_softmax_backward_is_not_trivial_for_constant_upstream():
    # a constant upstream gradient gives exactly zero (rows of y sum to one): why the
    # gradient checks use a random upstream gradient
    layer = L.Softmax()
    layer(np.random.default_rng(0).standard_normal((3, 5)))
    np.testing.assert_allclose(layer.backward(np.ones((3, 5))), 0, atol=1e-15)


def test_softmax_along_axis_sums_to_one():
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    np.testing.assert_allclose(L.Softmax(axis=1)(x).sum(axis=1), 1, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_softmax_stable_for_huge_inputs(dtype):
    x = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]], dtype)
    layer = L.Softmax()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = layer(x)
        gx = layer.backward(np.ones_like(x))
    assert y.dtype == dtype and np.isfinite(gx).all()
    np.testing.assert_allclose(y, [[1, 0, 0], [0.5, 0.5, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_sigmoid_no_overflow(dtype):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = L.Sigmoid()(x)
    assert y.dtype == dtype
    assert y[0] == 0 and y[-1] == 1 and y[2] == 0.5
    assert 0 < y[1] < 1e-20  # s(-50) = 1.9e-22, not rounded to 0


@pytest.mark.parametrize("layer", [L.LeakyReLU(), L.Sigmoid(), L.Tanh(), L.Softmax()],
                         ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_dtype_kept(layer, dtype):
    x = np.linspace(-2, 2, 12, dtype=dtype).reshape(3, 4)
    y = layer(x)
    assert y.dtype == dtype and layer.backward(np.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("layer", [L.LeakyReLU(), L.Sigmoid(), L.Tanh(), L.Softmax(), L.ReLU()],
                         ids=lambda layer: type(layer).__name__)
def test_integer_input_rejected(layer):
    with pytest.raises(TypeError, match="expected a floating-point array, got dtype int64"):
        layer(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="expected a NumPy array, got list"):
        layer([[1.0, 2.0]])


def test_softmax_axis_out_of_range():
    with pytest.raises(ValueError, match=r"Softmax\(axis=2\) needs an input with at least 3 dimensions"):
        L.Softmax(axis=2)(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="axis to be an int"):
        L.Softmax(axis=1.0)


def test_leaky_relu_bad_slope():
    with pytest.raises(TypeError, match="negative_slope to be a number"):
        L.LeakyReLU("0.1")
    with pytest.raises(ValueError, match="finite negative_slope"):
        L.LeakyReLU(float("nan"))


def test_config_and_repr():
    assert L.LeakyReLU(0.2).get_config() == {"negative_slope": 0.2}
    assert repr(L.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert L.Softmax(axis=1).get_config() == {"axis": 1}
    assert repr(L.Sigmoid()) == "Sigmoid()" and repr(L.Tanh()) == "Tanh()"
