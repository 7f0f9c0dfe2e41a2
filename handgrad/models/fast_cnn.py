"""``fast_cnn``: the default model of ``handgrad train``, sized for a 2-core CPU.

Chosen to reach >= 99.3% MNIST test accuracy in a few minutes of NumPy training: two
``conv -> BN -> ReLU -> pool`` blocks keep the expensive convolutions at low resolution and
low width, batch norm lets a one-cycle schedule use a large learning rate, and dropout before
the classifier keeps the few epochs from overfitting. See benchmarks/README.md for figures.
"""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import conv_pool_stack, rng_and_dtype


def fast_cnn(num_classes=10, in_channels=1, widths=(16, 32), hidden=128, dropout=0.3,
             image_size=28, rng=None, dtype=np.float32):
    """``[3x3 conv -> BN -> ReLU -> 2x2 max pool] * len(widths) -> hidden (BN, ReLU, dropout) -> classes``.

    Shape
    -----
    ``(N, C, S, S) -> (N, num_classes)``; the flattened size is
    ``widths[-1] * (S // 2**len(widths))**2`` (32*7*7 = 1568 for the defaults).
    ``hidden=0`` drops the hidden layer (dropout then a linear classifier).

    Examples
    --------
    >>> fast_cnn(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    layers, channels, side = conv_pool_stack(in_channels, widths, image_size, rng, dtype)
    layers.append(L.Flatten())
    features = channels * side * side
    if hidden:
        layers += [L.Linear(features, hidden, bias=False, rng=rng, dtype=dtype),
                   L.BatchNorm1d(hidden, dtype=dtype), L.ReLU()]
        features = hidden
    layers += [L.Dropout(dropout, rng=rng), L.Linear(features, num_classes, rng=rng, dtype=dtype)]
    return Sequential(*layers)
