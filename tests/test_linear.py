"""Linear: a hand-computed golden case and the input errors."""

import numpy as np
import pytest

from handgrad import layers as L


def test_linear_golden():
    layer = L.Linear(2, 1, dtype=np.float64)
    layer.weight.data[...] = [[2.0, -1.0]]
    layer.bias.data[...] = [0.5]
    x = np.array([[1.0, 3.0], [2.0, 0.0]])
    # y = 2*x0 - x1 + 0.5 = [-0.5, 4.5]
    y = layer(x)
    np.testing.assert_allclose(y, [[-0.5], [4.5]])
    # g = [1, 2]: dx = g W = [[2, -1], [4, -2]]; dW = g^T x = [1*1 + 2*2, 1*3 + 2*0] = [5, 3]; db = 3
    gx = layer.backward(np.array([[1.0], [2.0]]))
    np.testing.assert_allclose(gx, [[2.0, -1.0], [4.0, -2.0]])
    np.testing.assert_allclose(layer.weight.grad, [[5.0, 3.0]])
    np.testing.assert_allclose(layer.bias.grad, [3.0])


@pytest.mark.parametrize("x, error, match", [
    (np.zeros(784, np.float32), ValueError,
     r"Linear\(784 -> 10\) expected input of shape \(N, \*, in_features\), got \(784,\) \(1-D\)"),
    (np.zeros((4, 28, 28), np.float32), ValueError, r"with 784 at axis -1, got \(4, 28, 28\)"),
    (np.zeros((4, 784), np.float64), TypeError, "has float32 parameters but received a float64 input"),
    (np.zeros((4, 784), np.uint8), TypeError, "floating-point array, got dtype uint8.*scale images"),
], ids=["rank", "features", "dtype", "int"])
def test_linear_bad_input(x, error, match):
    layer = L.Linear(784, 10, rng=0)
    with pytest.raises(error, match=match):
        layer(x)
