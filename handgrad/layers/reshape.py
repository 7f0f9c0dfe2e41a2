"""Flatten: merge all axes from ``start_dim`` on into one. Math: nothing to derive, see below."""

import math

from .._checks import check_array, check_positive_int
from .base import Layer


class Flatten(Layer):
    r"""Reshape ``(N, d_1, ..., d_k)`` to ``(N, d_1 * ... * d_k)`` (for ``start_dim=1``).

    Parameters
    ----------
    start_dim : int
        First axis to merge (default 1: keep the batch axis). Axes before it are kept.

    Shape
    -----
    - Input: ``(d_0, ..., d_{s-1}, d_s, ..., d_{k})`` with ``k >= s = start_dim``
    - Output: ``(d_0, ..., d_{s-1}, d_s * ... * d_k)``

    Notes
    -----
    A reshape only relabels entries, so the backward pass is the inverse reshape:
    :math:`\partial L / \partial x = \mathrm{reshape}(\partial L / \partial y, \text{shape of } x)`.

    Examples
    --------
    >>> import numpy as np
    >>> Flatten()(np.zeros((32, 16, 4, 4))).shape
    (32, 256)
    """

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = check_positive_int(start_dim, "start_dim", "Flatten")

    def forward(self, x):
        check_array(x, "Flatten")
        s = self.start_dim
        if x.ndim <= s:
            raise ValueError(f"Flatten(start_dim={s}) expected an input with at least {s + 1} "
                             f"dimensions, got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(*x.shape[:s], math.prod(x.shape[s:]))

    def backward(self, grad_out):
        in_shape = self._saved()
        return grad_out.reshape(in_shape)

    def get_config(self):
        return {"start_dim": self.start_dim}

    def extra_repr(self):
        return f"start_dim={self.start_dim}"
