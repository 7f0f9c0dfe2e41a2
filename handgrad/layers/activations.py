"""Element-wise activations (and Softmax). Math: docs/activations.md."""

import numpy as np

from .._checks import check_array
from .base import Layer


class ReLU(Layer):
    r"""Rectified linear unit, ``y = max(x, 0)``.

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0]

    (the subgradient at 0 is taken as 0, as PyTorch does).

    Examples
    --------
    >>> import numpy as np
    >>> ReLU()(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def forward(self, x):
        check_array(x, "ReLU")
        y = np.maximum(x, 0)
        self._cache = y
        return y

    def backward(self, grad_out):
        y = self._saved()
        return np.where(y > 0, grad_out, 0).astype(grad_out.dtype, copy=False)
