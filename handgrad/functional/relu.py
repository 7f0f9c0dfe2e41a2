r"""ReLU, the reference: :math:`y = \max(x, 0)` and :math:`\partial L/\partial x = g\,[x > 0]`.

The subgradient at 0 is taken as 0, as PyTorch does. Forward keeps the 1-byte mask
``x > 0`` (not ``y``): backward then reads a quarter of the bytes.
"""

import numpy as np


def relu_forward(x):
    """``(y, mask)``: ``y = max(x, 0)`` and the boolean mask ``x > 0`` (both ``x``'s shape)."""
    return np.maximum(x, 0), x > 0


def relu_backward(grad_y, mask):
    """dL/dx ``= grad_y * mask``."""
    return grad_y * mask
