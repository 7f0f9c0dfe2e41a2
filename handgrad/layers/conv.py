"""N-dimensional convolution (cross-correlation) and the thin Conv1d/Conv2d/Conv3d.

Math: docs/convolution.md. The array work is :func:`handgrad.functional.conv.conv_forward`
and :func:`~handgrad.functional.conv.conv_backward` (or a compiled backend's version of
them, see :mod:`handgrad.backend`); this file holds the parameters and the checks.
"""

import math

import numpy as np

from .. import backend
from .._checks import as_dtype, as_rng, check_input, check_positive_int
from ..functional.conv import conv_output_shape
from ..functional.sizes import ntuple, parse_padding
from ..init import Constant, He, make_parameter
from ._spatial import LAYOUTS, FixedDims, as_json
from .activations import ReLU
from .base import Layer, check_backward_call, forward_done, runs_own


class ConvNd(Layer):
    r"""Convolution over ``num_spatial_dims`` spatial dimensions (cross-correlation, no flip).

    Parameters
    ----------
    num_spatial_dims : int
        1, 2 or 3 (``Conv1d``/``Conv2d``/``Conv3d`` fix it).
    in_channels, out_channels : int
        Both must be divisible by ``groups``.
    kernel_size, stride, dilation : int or tuple of ``num_spatial_dims`` ints (each >= 1)
    padding : int, tuple of ints, tuple of ``(before, after)`` pairs, ``"valid"`` or ``"same"``
        ``"same"`` pads as a stride-1 convolution would (``before = d*(k-1)//2``, ``after`` the
        rest) and the stride then subsamples, giving ``ceil(n / s)`` outputs.
    groups : int
        Input and output channels are split into ``groups`` blocks; block ``g`` of the
        output sees only block ``g`` of the input.
    bias : bool
    weight_init : Initializer, default ``He()`` (fan_in = C_in / groups * K)
    bias_init : Initializer, default ``Constant(0.0)``
    rng : numpy.random.Generator or int, optional
    dtype : float32 (default) or float64

    Shape
    -----
    - Input: ``(N, C_in, *S)``; output: ``(N, C_out, *O)`` with, per dimension,
      ``O = floor((S + p_before + p_after - d*(k-1) - 1) / s) + 1``
    - ``weight``: ``(C_out, C_in / groups, *k)``; ``bias``: ``(C_out,)``

    Notes
    -----
    With :math:`g(c)` the group of channel :math:`c`, taps :math:`j` and padded input
    :math:`\tilde x`:

    .. math::
        y_{n,c,o} = b_c + \sum_{c' \in g(c)} \sum_j w_{c,c',j}\, \tilde x_{n,c',\, s o + d j}

    and with :math:`G = \partial L / \partial y`:

    .. math::
        \frac{\partial L}{\partial w_{c,c',j}} = \sum_{n,o} G_{n,c,o}\, \tilde x_{n,c', s o + d j},\quad
        \frac{\partial L}{\partial b_c} = \sum_{n,o} G_{n,c,o},\quad
        \frac{\partial L}{\partial \tilde x_{n,c',p}} = \sum_{c \in g(c')} \sum_{(j,o):\, s o + d j = p}
            w_{c,c',j}\, G_{n,c,o}

    and :math:`\partial L / \partial x` is the interior (unpadded part) of the last one.

    Examples
    --------
    >>> import numpy as np
    >>> conv = ConvNd(2, 3, 8, kernel_size=3, stride=(2, 1), padding="same", rng=0)
    >>> conv(np.zeros((4, 3, 9, 10), np.float32)).shape
    (4, 8, 5, 10)
    """

    def __init__(self, num_spatial_dims, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, groups=1, bias=True, *, weight_init=None, bias_init=None,
                 rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        nd = check_positive_int(num_spatial_dims, "num_spatial_dims", name)
        if nd > 3:
            raise ValueError(f"{name} expected num_spatial_dims in 1..3, got {nd}")
        self.num_spatial_dims = nd
        self.in_channels = check_positive_int(in_channels, "in_channels", name)
        self.out_channels = check_positive_int(out_channels, "out_channels", name)
        self.groups = check_positive_int(groups, "groups", name)
        for label, c in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if c % self.groups:
                raise ValueError(f"{name} expected {label} divisible by groups={self.groups}, got {c}")
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        self.padding = padding if isinstance(padding, str) else as_json(padding)   # as given
        self.pads = parse_padding(padding, self.kernel_size, self.dilation, nd, name)  # (before, after) pairs
        self.dtype = as_dtype(dtype)
        rng = as_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        K = math.prod(self.kernel_size)
        fan_in, fan_out = shape[1] * K, self.out_channels * K
        self.weight = make_parameter(weight_init or He(), shape, fan_in, fan_out, rng, self.dtype, name)
        self.bias = None
        if bias:
            self.bias = make_parameter(bias_init or Constant(0.0), (self.out_channels,),
                                       fan_in, fan_out, rng, self.dtype, name)

    def output_shape(self, spatial):
        """Output spatial sizes for input spatial sizes ``spatial`` (see Shape)."""
        return conv_output_shape(spatial, self.kernel_size, self.stride, self.pads, self.dilation)

    # -- forward / backward --------------------------------------------------
    def forward(self, x):
        self._check(x)
        ops = backend.ops()
        b = None if self.bias is None else self.bias.data
        y, cache = ops.conv_forward(x, self.weight.data, b, self.stride, self.pads,
                                    self.dilation, self.groups)
        self._cache = (ops, y.shape, cache)
        return y

    def backward(self, grad_out):
        return self._backward(grad_out, input_grad=True)

    def backward_params(self, grad_out):
        self._backward(grad_out, input_grad=False)

    def _backward(self, grad_out, input_grad):
        ops, y_shape, cache = self._saved()
        if grad_out.shape != y_shape:
            raise ValueError(f"{type(self).__name__}.backward expected grad_out of shape "
                             f"{y_shape}, got {grad_out.shape}")
        dx, dw, db = ops.conv_backward(grad_out, cache, input_grad)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    # -- fused with the ReLU after it (Sequential; math: functional/conv_relu.py) --
    def fuses_with(self, layer):
        # exactly ReLU (a subclass may compute something else), and only while both run
        # their classes' own forward and backward (one that was replaced must run)
        return type(layer) is ReLU and runs_own(self, ConvNd) and runs_own(layer, ReLU)

    def forward_fused(self, x, relu):
        self._check(x)
        ops = backend.ops()
        b = None if self.bias is None else self.bias.data
        y, mask, cache = ops.conv_relu_forward(x, self.weight.data, b, self.stride, self.pads,
                                               self.dilation, self.groups)
        self._cache = (ops, y.shape, cache)             # as self.forward leaves it
        relu._cache = (ops, mask)                       # as relu.forward(self.forward(x)) leaves it
        forward_done(self, y)
        forward_done(relu, y)
        return y

    def backward_fused(self, grad_out, relu, input_grad=True):
        check_backward_call(relu, grad_out)
        check_backward_call(self, grad_out)             # the same shape and dtype as relu's output
        _, mask = relu._saved()
        ops, _, cache = self._saved()
        relu._backward_armed = self._backward_armed = False
        dx, dw, db = ops.conv_relu_backward(grad_out, mask, cache, input_grad)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def _check(self, x):
        nd, name = self.num_spatial_dims, type(self).__name__
        layout = LAYOUTS[nd].replace("C", str(self.in_channels), 1)
        check_input(x, name, ndim=nd + 2, dtype=self.dtype, axis_size=(1, self.in_channels),
                    layout=layout)
        if min(self.output_shape(x.shape[2:])) < 1:
            padded = tuple(n + p0 + p1 for n, (p0, p1) in zip(x.shape[2:], self.pads))
            spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
            raise ValueError(f"{name} input too small: spatial size {x.shape[2:]} (padded {padded}) "
                             f"is smaller than the dilated kernel {spans}")

    # -- description ---------------------------------------------------------
    def macs(self, input_shape, output_shape):
        K = math.prod(self.kernel_size)
        return int(math.prod(output_shape)) * (self.in_channels // self.groups) * K

    def get_config(self):
        cfg = {"in_channels": self.in_channels, "out_channels": self.out_channels,
               "kernel_size": list(self.kernel_size), "stride": list(self.stride),
               "padding": self.padding, "dilation": list(self.dilation),
               "groups": self.groups, "bias": self.bias is not None, "dtype": self.dtype.name}
        if type(self) is ConvNd:
            cfg = {"num_spatial_dims": self.num_spatial_dims, **cfg}
        return cfg

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if any(p0 or p1 for p0, p1 in self.pads):
            s += f", padding={self.padding!r}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + f", bias={self.bias is not None}"


class Conv1d(FixedDims, ConvNd):
    """1-D convolution over ``(N, C, L)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv1d(2, 4, 3, rng=0)(np.zeros((5, 2, 10), np.float32)).shape
    (5, 4, 8)
    """

    fixed_dims = 1


class Conv2d(FixedDims, ConvNd):
    """2-D convolution over ``(N, C, H, W)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv2d(1, 6, 5, padding=2, rng=0)(np.zeros((8, 1, 28, 28), np.float32)).shape
    (8, 6, 28, 28)
    """

    fixed_dims = 2


class Conv3d(FixedDims, ConvNd):
    """3-D convolution over ``(N, C, D, H, W)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv3d(1, 2, (1, 3, 3), rng=0)(np.zeros((2, 1, 4, 6, 6), np.float32)).shape
    (2, 2, 4, 4, 4)
    """

    fixed_dims = 3
