"""A multilayer perceptron on flattened images."""

import numpy as np

from .. import layers as L
from ..layers import Sequential
from ._blocks import rng_and_dtype


def mlp(in_features=784, hidden=(256, 128), num_classes=10, dropout=0.0, rng=None, dtype=np.float32):
    """``Flatten -> [Linear -> ReLU (-> Dropout)] * len(hidden) -> Linear``.

    Shape
    -----
    ``(N, *) -> (N, num_classes)`` where the trailing axes multiply to ``in_features``.

    Examples
    --------
    >>> mlp(rng=0)(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 10)
    """
    rng, dtype = rng_and_dtype(rng, dtype)
    layers = [L.Flatten()]
    width = in_features
    for h in hidden:
        layers += [L.Linear(width, h, rng=rng, dtype=dtype), L.ReLU()]
        if dropout:
            layers.append(L.Dropout(dropout, rng=rng))
        width = h
    layers.append(L.Linear(width, num_classes, rng=rng, dtype=dtype))
    return Sequential(*layers)
