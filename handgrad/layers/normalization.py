"""Batch normalization over every axis but the channel axis (1). Math: docs/batchnorm.md."""

import numpy as np

from .. import backend
from .._checks import as_dtype, as_rng, check_input, check_positive_int, check_probability, check_real
from ..init import Constant, make_parameter
from .activations import ReLU
from .base import Layer, check_backward_call, forward_done, runs_own


class _BatchNorm(Layer):
    r"""Shared implementation of :class:`BatchNorm1d` and :class:`BatchNorm2d`.

    Statistics are taken per channel ``c`` over the ``M = N * prod(spatial)`` entries of
    the axes ``(0, 2, 3, ...)``; the array work of training mode is
    :func:`handgrad.functional.batchnorm.batch_norm_forward` and ``batch_norm_backward``
    (or a compiled backend's version, see :mod:`handgrad.backend`).
    """

    _ranks = ()          # allowed input ranks
    _layout = ""         # for messages

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, *, weight_init=None,
                 bias_init=None, rng=None, dtype=np.float32):
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_positive_int(num_features, "num_features", owner)
        self.eps = check_real(eps, "eps", owner, low=0.0, low_open=True)   # TypeError for a non-number
        self.momentum = check_probability(momentum, "momentum", owner, include_one=True)
        self.affine = bool(affine)
        self.dtype = as_dtype(dtype)
        rng = as_rng(rng)
        C = self.num_features
        self.weight = self.bias = None
        if self.affine:
            self.weight = make_parameter(weight_init or Constant(1.0), (C,), C, C, rng, self.dtype, owner)
            self.bias = make_parameter(bias_init or Constant(0.0), (C,), C, C, rng, self.dtype, owner)
        self.running_mean = np.zeros(C, self.dtype)
        self.running_var = np.ones(C, self.dtype)

    buffer_names = ("running_mean", "running_var")

    def _check(self, x):
        name = f"{type(self).__name__}({self.num_features})"
        check_input(x, name, ndim=self._ranks, dtype=self.dtype, layout=self._layout,
                    axis_size=(1, self.num_features))

    def forward(self, x):
        return self._forward(x, relu=None)

    def _forward(self, x, relu):
        """``y``, and with ``relu`` (the ReLU layer after this one) its output instead,
        leaving ``relu`` the mask its own forward would."""
        self._check(x)
        bshape = (1, self.num_features) + (1,) * (x.ndim - 2)  # per-channel values broadcast
        M = x.size // self.num_features                     # entries per channel
        if self.training:
            if M < 2:
                raise ValueError(f"{type(self).__name__} in training mode needs more than one value "
                                 f"per channel to compute a variance, got input shape {x.shape}; "
                                 f"use a batch of at least 2 or call .eval()")
            ops = backend.ops()
            weight, bias = (self.weight.data, self.bias.data) if self.affine else (None, None)
            if relu is None:
                y, mean, var, cache = ops.batch_norm_forward(x, weight, bias, self.eps)
            else:
                y, mask, mean, var, cache = ops.batch_norm_relu_forward(x, weight, bias, self.eps)
                relu._cache = (ops, mask)                     # as relu.forward would leave it
            m = self.dtype.type(self.momentum)
            # running statistics use the unbiased variance, as PyTorch does; updated in place
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m * M / (M - 1)) * var
            self._cache = (ops, cache)
            return y
        # evaluation: the running statistics, an affine map per channel
        inv_std = 1 / np.sqrt(self.running_var + self.dtype.type(self.eps))
        xhat = (x - self.running_mean.reshape(bshape)) * inv_std.reshape(bshape)
        y = xhat
        if self.affine:
            y = xhat * self.weight.data.reshape(bshape)
            y += self.bias.data.reshape(bshape)
        self._cache = (None, (xhat, inv_std))
        if relu is not None:
            ops = backend.ops()
            y, mask = ops.relu_forward(y)
            relu._cache = (ops, mask)
        return y

    def backward(self, grad_out):
        return self._backward(grad_out)

    # -- fused with the ReLU after it (Sequential; math: functional/batchnorm_relu.py) --
    def fuses_with(self, layer):
        # as ConvNd.fuses_with: exactly ReLU, both running their classes' own methods
        return type(layer) is ReLU and runs_own(self, _BatchNorm) and runs_own(layer, ReLU)

    def forward_fused(self, x, relu):
        y = self._forward(x, relu)
        forward_done(self, y)
        forward_done(relu, y)
        return y

    def backward_fused(self, grad_out, relu, input_grad=True):
        check_backward_call(relu, grad_out)
        check_backward_call(self, grad_out)
        relu_ops, mask = relu._saved()
        relu._backward_armed = self._backward_armed = False
        ops, cache = self._saved()
        if ops is None:                                      # evaluation: the two in turn
            return self._backward(relu_ops.relu_backward(grad_out, mask))
        return self._add_grads(*ops.batch_norm_relu_backward(grad_out, mask, cache))

    def _backward(self, grad_out):
        ops, cache = self._saved()
        if ops is not None:
            return self._add_grads(*ops.batch_norm_backward(grad_out, cache))
        # evaluation: an affine map per channel
        xhat, inv_std = cache
        axes = (0,) + tuple(range(2, grad_out.ndim))
        scale = inv_std if not self.affine else self.weight.data * inv_std      # gamma / sigma
        dx = grad_out * scale.reshape((1, self.num_features) + (1,) * (grad_out.ndim - 2))
        return self._add_grads(dx, np.sum(grad_out * xhat, axis=axes), grad_out.sum(axis=axes))

    def _add_grads(self, dx, dweight, dbias):
        if self.affine:
            self.weight.grad += dweight
            self.bias.grad += dbias
        return dx

    def macs(self, input_shape, output_shape):
        return 2 * int(np.prod(input_shape, dtype=np.int64))

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "dtype": self.dtype.name}

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    r"""Batch normalization of ``(N, C)`` features or ``(N, C, L)`` sequences, per channel.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float
        Added to the variance before the square root (default 1e-5).
    momentum : float in [0, 1]
        Weight of the current batch in the running statistics (default 0.1).
    affine : bool
        Learn a per-channel scale ``weight`` (gamma) and shift ``bias`` (beta).
    weight_init : Initializer, default ``Constant(1.0)``
    bias_init : Initializer, default ``Constant(0.0)``
    rng : numpy.random.Generator or int, optional
        Used by random initializers (the defaults are constants).
    dtype : float32 (default) or float64

    Shape
    -----
    - Input: ``(N, C)`` or ``(N, C, L)``; output: same shape.
    - ``weight``, ``bias``, ``running_mean``, ``running_var``: ``(C,)``

    Notes
    -----
    In training mode, over the :math:`M` entries of channel :math:`c`:

    .. math::
        \mu = \frac1M \sum x, \quad \sigma^2 = \frac1M \sum (x-\mu)^2, \quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \hat x + \beta

    and the running statistics become
    :math:`r_\mu \leftarrow (1-m) r_\mu + m\mu`,
    :math:`r_{\sigma^2} \leftarrow (1-m) r_{\sigma^2} + m \frac{M}{M-1}\sigma^2` (unbiased).
    In evaluation mode :math:`\mu, \sigma^2` are the running values. Gradients
    (through the batch statistics in training mode):

    .. math::
        \frac{\partial L}{\partial \gamma} = \sum g \hat x, \quad
        \frac{\partial L}{\partial \beta} = \sum g, \quad
        \frac{\partial L}{\partial x} = \frac{\gamma}{M\sqrt{\sigma^2+\epsilon}}
        \Big(M g - \sum g - \hat x \sum g \hat x\Big)

    Math: docs/batchnorm.md.

    Examples
    --------
    >>> import numpy as np
    >>> BatchNorm1d(8)(np.random.default_rng(0).standard_normal((4, 8), dtype=np.float32)).shape
    (4, 8)
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    r"""Batch normalization of images ``(N, C, H, W)``, per channel over ``N, H, W``.

    Same parameters, statistics and gradients as :class:`BatchNorm1d`, with
    :math:`M = N H W` entries per channel. Math: docs/batchnorm.md.

    Shape
    -----
    - Input: ``(N, C, H, W)`` (channels first); output: same shape.

    Examples
    --------
    >>> import numpy as np
    >>> BatchNorm2d(3)(np.zeros((2, 3, 5, 5), np.float32)).shape
    (2, 3, 5, 5)
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"
