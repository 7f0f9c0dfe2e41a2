"""A learnable bias per channel and position, as classic nets add after a convolution."""

import math

import numpy as np

from .._checks import as_dtype, as_rng, check_input, check_positive_int
from ..init import Constant, make_parameter
from .base import Layer


class UntiedBias(Layer):
    r"""Add one learnable bias per channel *and* spatial position: ``y = x + b``.

    Parameters
    ----------
    shape : tuple of int
        ``(C, *spatial)``, e.g. ``(16, 14, 14)``: the per-sample shape of the input.
    bias_init : Initializer, default ``Constant(0.0)``
    rng : numpy.random.Generator or int, optional
    dtype : float32 (default) or float64

    Shape
    -----
    - Input: ``(N, *shape)``; output: same as input
    - ``bias``: ``shape``

    Notes
    -----
    .. math::
        y_{n,i} = x_{n,i} + b_i, \qquad
        \frac{\partial L}{\partial x} = G, \qquad
        \frac{\partial L}{\partial b_i} = \textstyle\sum_n G_{n,i}

    where :math:`i` runs over ``(C, *spatial)`` and :math:`G = \partial L / \partial y`.

    Examples
    --------
    >>> import numpy as np
    >>> UntiedBias((3, 4, 4))(np.zeros((2, 3, 4, 4), np.float32)).shape
    (2, 3, 4, 4)
    """

    def __init__(self, shape, *, bias_init=None, rng=None, dtype=np.float32):
        super().__init__()
        if isinstance(shape, int) or not isinstance(shape, (tuple, list)) or not shape:
            raise TypeError(f"UntiedBias expected shape to be a tuple (C, *spatial), got {shape!r}")
        self.shape = tuple(check_positive_int(s, "shape", "UntiedBias") for s in shape)
        self.dtype = as_dtype(dtype)
        size = math.prod(self.shape)
        self.bias = make_parameter(bias_init or Constant(0.0), self.shape, size, size,
                                   as_rng(rng), self.dtype, "UntiedBias")

    def forward(self, x):
        layout = "(N, " + ", ".join(map(str, self.shape)) + ")"
        check_input(x, "UntiedBias", ndim=len(self.shape) + 1, dtype=self.dtype, layout=layout)
        if x.shape[1:] != self.shape:
            raise ValueError(f"UntiedBias expected input of shape {layout}, got {x.shape}")
        self._cache = True
        return x + self.bias.data

    def backward(self, grad_out):
        self._saved()
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out.copy()

    def get_config(self):
        return {"shape": list(self.shape), "dtype": self.dtype.name}

    def extra_repr(self):
        return f"shape={self.shape}"
