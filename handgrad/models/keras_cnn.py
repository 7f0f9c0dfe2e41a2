"""The Keras example MNIST CNN (``mnist_cnn.py``)."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import rng_and_dtype


def keras_mnist_cnn(num_classes=10, in_channels=1, image_size=28, rng=None, dtype=np.float32):
    """Two unpadded 3x3 convolutions (32, 64), 2x2 max pool, dropout, 128 units, dropout.

    Shape
    -----
    ``(N, C, S, S) -> (N, num_classes)`` with feature maps
    ``32x26x26 -> 64x24x24 -> 64x12x12 -> 9216 -> 128`` for ``S = 28``
    (an unpadded 3x3 convolution removes 2 pixels; the pool halves: ``(S - 4) // 2``).

    Examples
    --------
    >>> keras_mnist_cnn(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    side = (image_size - 4) // 2
    return Sequential(
        L.Conv2d(in_channels, 32, 3, rng=rng, dtype=dtype), L.ReLU(),                    # 32 x (S-2)^2
        L.Conv2d(32, 64, 3, rng=rng, dtype=dtype), L.ReLU(),            # 64 x (S-4)^2
        L.MaxPool2d(2),                                                 # 64 x side^2
        L.Dropout(0.25, rng=rng),
        L.Flatten(),
        L.Linear(64 * side * side, 128, rng=rng, dtype=dtype), L.ReLU(),
        L.Dropout(0.5, rng=rng),
        L.Linear(128, num_classes, rng=rng, dtype=dtype),
    )
