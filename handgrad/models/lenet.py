"""LeNet-5 (LeCun et al., 1998), in its common modern form for 28x28 MNIST."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import activation, rng_and_dtype


def lenet5(num_classes=10, in_channels=1, activation_name="tanh", rng=None, dtype=np.float32):
    """LeNet-5: two 5x5 convolutions with 2x2 pooling, then 120 -> 84 -> classes.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    activation_name : {"tanh", "relu"}
        The original uses a squashing function; ReLU trains faster.
    rng : numpy.random.Generator or int, optional
    dtype : float32 (default) or float64

    Shape
    -----
    ``(N, in_channels, 28, 28) -> (N, num_classes)``. Padding 2 on the first convolution keeps
    28x28 (the original's 32x32 input), so the feature maps are
    ``6x28x28 -> 6x14x14 -> 16x10x10 -> 16x5x5 -> 400``.

    Notes
    -----
    Parameters (with ``in_channels=1, num_classes=10``):
    conv1 6*1*25+6 = 156, conv2 16*6*25+16 = 2,416, fc 400*120+120 = 48,120,
    120*84+84 = 10,164, 84*10+10 = 850; total 61,706.

    Examples
    --------
    >>> lenet5(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    act = lambda: activation(activation_name)  # noqa: E731 - one fresh layer per use
    return Sequential(
        L.Conv2d(in_channels, 6, 5, padding=2, rng=rng, dtype=dtype), act(),                    # 6x28x28
        L.MaxPool2d(2),                                                            # 6x14x14
        L.Conv2d(6, 16, 5, rng=rng, dtype=dtype), act(),                           # 16x10x10
        L.MaxPool2d(2),                                                            # 16x5x5
        L.Flatten(),                                                               # 400
        L.Linear(16 * 5 * 5, 120, rng=rng, dtype=dtype), act(),
        L.Linear(120, 84, rng=rng, dtype=dtype), act(),
        L.Linear(84, num_classes, rng=rng, dtype=dtype),
    )
