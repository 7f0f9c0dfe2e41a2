"""UntiedBias: one bias per channel and position."""

import numpy as np
import pytest

from handgrad import gradcheck
from handgrad.layers import UntiedBias
from handgrad.init import UniformRandom


def test_adds_bias_per_position():
    layer = UntiedBias((2, 3), bias_init=UniformRandom(-1, 1), rng=0, dtype=np.float64)
    x = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    y = layer(x)
    np.testing.assert_array_equal(y, x + layer.bias.data[None])
    g = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_array_equal(layer.bias.grad, g[0] + g[1])


def test_gradcheck():
    rng = np.random.default_rng(0)
    layer = UntiedBias((3, 4, 4), bias_init=UniformRandom(-1, 1), rng=rng, dtype=np.float64)
    assert gradcheck(layer, rng.standard_normal((2, 3, 4, 4)), rng=rng).passed


@pytest.mark.parametrize("shape,error,match", [
    (16, TypeError, r"tuple \(C, \*spatial\)"),
    ((3, 0), ValueError, "shape >= 1"),
], ids=["int", "zero"])
def test_bad_shape(shape, error, match):
    with pytest.raises(error, match=match):
        UntiedBias(shape)


def test_wrong_input_shape():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 4, 4\), got \(2, 3, 5, 5\)"):
        UntiedBias((3, 4, 4))(np.zeros((2, 3, 5, 5), np.float32))
