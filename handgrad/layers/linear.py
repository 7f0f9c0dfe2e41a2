"""Fully connected layer: y = x W^T + b.  Math: docs/linear.md."""

import numpy as np

from .. import backend
from .._checks import as_dtype, as_rng, check_input, check_positive_int
from ..init import Constant, He, make_parameter
from .base import Layer


class Linear(Layer):
    r"""Affine map ``y = x @ W.T + b``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Learn an additive bias (default True).
    weight_init : Initializer, default ``He()``
        Normal with std sqrt(2 / in_features), suited to ReLU networks.
    bias_init : Initializer, default ``Constant(0.0)``
    rng : numpy.random.Generator or int, optional
    dtype : float32 (default) or float64

    Shape
    -----
    - Input: ``(N, *, in_features)``
    - Output: ``(N, *, out_features)``
    - ``weight``: ``(out_features, in_features)``, ``bias``: ``(out_features,)``

    Notes
    -----
    With upstream gradient :math:`G = \partial L / \partial Y` (rows are samples):

    .. math::
        Y = X W^\top + b, \quad
        \frac{\partial L}{\partial X} = G W, \quad
        \frac{\partial L}{\partial W} = G^\top X, \quad
        \frac{\partial L}{\partial b} = \textstyle\sum_n G_n .

    Examples
    --------
    >>> import numpy as np
    >>> layer = Linear(784, 10, rng=np.random.default_rng(0))
    >>> layer(np.zeros((32, 784), np.float32)).shape
    (32, 10)
    """

    def __init__(self, in_features, out_features, bias=True, *, weight_init=None,
                 bias_init=None, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", "Linear")
        self.out_features = check_positive_int(out_features, "out_features", "Linear")
        self.dtype = as_dtype(dtype)
        rng = as_rng(rng)
        shape = (self.out_features, self.in_features)
        self.weight = make_parameter(weight_init or He(), shape, self.in_features,
                                     self.out_features, rng, self.dtype, "Linear")
        self.bias = None
        if bias:
            self.bias = make_parameter(bias_init or Constant(0.0), (self.out_features,),
                                       self.in_features, self.out_features, rng, self.dtype, "Linear")

    def forward(self, x):
        check_input(x, f"Linear({self.in_features} -> {self.out_features})", ndim=range(2, 33),
                    dtype=self.dtype, axis_size=(-1, self.in_features), layout="(N, *, in_features)")
        x2 = x.reshape(-1, self.in_features)                # (M, in), M = N * prod(*)
        ops = backend.ops()
        b = None if self.bias is None else self.bias.data
        y = ops.linear_forward(x2, self.weight.data, b)     # (M, out)
        self._cache = ops, x2, x.shape
        return y.reshape(*x.shape[:-1], self.out_features)

    def backward(self, grad_out):
        return self._backward(grad_out, input_grad=True)

    def backward_params(self, grad_out):
        self._backward(grad_out, input_grad=False)

    def _backward(self, grad_out, input_grad):
        ops, x2, in_shape = self._saved()
        g = grad_out.reshape(-1, self.out_features)         # (M, out)
        dx, dw, db = ops.linear_backward(g, x2, self.weight.data, input_grad)
        self.weight.grad += dw                              # (out, in)
        if self.bias is not None:
            self.bias.grad += db
        return None if dx is None else dx.reshape(in_shape)  # (M, in) -> input shape

    def macs(self, input_shape, output_shape):
        return int(np.prod(output_shape[:-1], dtype=np.int64)) * self.in_features * self.out_features

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": self.dtype.name}

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
