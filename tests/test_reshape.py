"""Flatten: shapes for every rank, backward restores the shape, errors."""

import numpy as np
import pytest

from handgrad import layers as L


@pytest.mark.parametrize("shape, start_dim, out_shape", [
    ((4, 3), 1, (4, 3)),
    ((4, 3, 5), 1, (4, 15)),
    ((4, 2, 3, 5), 1, (4, 30)),
    ((4, 2, 3, 5), 2, (4, 2, 15)),
    ((2, 2, 2, 2, 2), 3, (2, 2, 2, 4)),
], ids=["2d", "3d", "4d", "4d-start2", "5d-start3"])
def test_flatten_shapes(shape, start_dim, out_shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    layer = L.Flatten(start_dim)
    y = layer(x)
    assert y.shape == out_shape and y.dtype == np.float32
    # row-major order: entries keep their C order
    np.testing.assert_array_equal(y.ravel(), x.ravel())
    gx = layer.backward(y * 2)
    assert gx.shape == shape
    np.testing.assert_array_equal(gx, 2 * x)


def test_flatten_errors():
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2\) expected an input with at least 3 dimensions"):
        L.Flatten(2)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="start_dim >= 1"):
        L.Flatten(0)
    with pytest.raises(TypeError, match="floating-point"):
        L.Flatten()(np.zeros((2, 3), np.int32))


def test_flatten_config():
    assert L.Flatten(2).get_config() == {"start_dim": 2}
    assert repr(L.Flatten()) == "Flatten(start_dim=1)"
