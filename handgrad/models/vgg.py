"""A small VGG-style net (stacked 3x3 convolutions, batch norm, dropout) for best accuracy."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import conv_pool_stack, rng_and_dtype


def vgg_small(num_classes=10, in_channels=1, widths=(32, 64), hidden=256, dropout=0.4,
              image_size=28, rng=None, dtype=np.float32):
    """Blocks of two ``3x3 conv -> BN -> ReLU`` and a 2x2 max pool, then a BN'd hidden layer.

    Shape
    -----
    ``(N, C, S, S) -> (N, num_classes)``; each block keeps the side (padding 1) and the pool
    halves it, so the flattened size is ``widths[-1] * (S // 2**len(widths))**2``
    (64*7*7 = 3136 for the defaults).

    Examples
    --------
    >>> vgg_small(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    layers, channels, side = conv_pool_stack(in_channels, widths, image_size, rng, dtype, convs_per_block=2)
    layers += [
        L.Flatten(),
        L.Linear(channels * side * side, hidden, bias=False, rng=rng, dtype=dtype),
        L.BatchNorm1d(hidden, dtype=dtype), L.ReLU(),
        L.Dropout(dropout, rng=rng),
        L.Linear(hidden, num_classes, rng=rng, dtype=dtype),
    ]
    return Sequential(*layers)
