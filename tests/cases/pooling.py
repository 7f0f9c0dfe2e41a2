import numpy as np

from handgrad import layers as L

from . import LayerCase


def distinct(rng, shape, dtype):
    """No ties (a shuffled ramp), so max-pool gradients are well defined for gradcheck."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * (4.0 / size) - 2.0).reshape(shape).astype(dtype)


CASES = [
    LayerCase("MaxPool1d-k3s2p1-ceil", lambda rng, dt: L.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 8),
              make_input=distinct),
    LayerCase("MaxPool2d-2x2", lambda rng, dt: L.MaxPool2d(2), (2, 3, 6, 6), make_input=distinct),
    LayerCase("MaxPool2d-k3s2p1", lambda rng, dt: L.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7),
              make_input=distinct),
    LayerCase("MaxPool3d-2", lambda rng, dt: L.MaxPool3d(2), (1, 2, 4, 4, 4), make_input=distinct),
    LayerCase("AvgPool1d-excl-pad", lambda rng, dt: L.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
    LayerCase("AvgPool2d-2x2", lambda rng, dt: L.AvgPool2d(2), (2, 3, 6, 6)),
    LayerCase("AvgPool2d-k3s2p1-ceil", lambda rng, dt: L.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 2, 6, 7)),
    LayerCase("AvgPool3d-s1", lambda rng, dt: L.AvgPool3d(2, stride=1), (1, 2, 3, 3, 3)),
    LayerCase("GlobalAvgPool", lambda rng, dt: L.GlobalAvgPool(), (2, 3, 4, 4)),
    LayerCase("GlobalMaxPool", lambda rng, dt: L.GlobalMaxPool(), (2, 3, 4, 4), make_input=distinct),
]
