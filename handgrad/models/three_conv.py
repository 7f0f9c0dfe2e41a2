"""The classic from-scratch "3-conv" MNIST net: untied biases, overlapping stride-2 pools."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import rng_and_dtype


def three_conv_net(num_classes=10, in_channels=1, hidden=100, rng=None, dtype=np.float32):
    """3x3 convolutions 16/32/64 (padding 1), each followed by an untied bias and ReLU.

    The arrangement that gives the classic 3136 = 64*7*7 features: a 3x3 max pool with
    stride 2 and padding 1 after the first two convolutions only. Such a pool maps a side
    ``S`` to ``floor((S + 2 - 3) / 2) + 1``: 28 -> 14 -> 7. The third convolution keeps 7x7
    and is flattened directly (a third pool would give 4x4 = 1024 features).

    ==========================  ============  ===========
    layer                       output        parameters
    ==========================  ============  ===========
    Conv2d 1->16, 3x3, pad 1    16x28x28      144
    UntiedBias(16, 28, 28)      16x28x28      12,544
    MaxPool 3x3/2, pad 1        16x14x14
    Conv2d 16->32               32x14x14      4,608
    UntiedBias(32, 14, 14)      32x14x14      6,272
    MaxPool 3x3/2, pad 1        32x7x7
    Conv2d 32->64               64x7x7        18,432
    UntiedBias(64, 7, 7)        64x7x7        3,136
    Flatten, Linear 3136->100   100           313,700
    Linear 100->10              10            1,010
    ==========================  ============  ===========

    An untied bias has one value per channel *and* position (shape ``(C, H, W)``), so the
    convolutions themselves have no bias. Total 359,846 parameters.

    Examples
    --------
    >>> three_conv_net(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    layers = []
    channels, side = in_channels, 28
    for i, out in enumerate((16, 32, 64)):
        layers += [
            L.Conv2d(channels, out, 3, padding=1, bias=False, rng=rng, dtype=dtype),
            L.UntiedBias((out, side, side), dtype=dtype),
            L.ReLU(),
        ]
        if i < 2:
            layers.append(L.MaxPool2d(3, stride=2, padding=1))
            side = (side + 2 - 3) // 2 + 1
        channels = out
    layers += [
        L.Flatten(),                                                  # 64*7*7 = 3136
        L.Linear(channels * side * side, hidden, rng=rng, dtype=dtype), L.ReLU(),
        L.Linear(hidden, num_classes, rng=rng, dtype=dtype),
    ]
    return Sequential(*layers)
