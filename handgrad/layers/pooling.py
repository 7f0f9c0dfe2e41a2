r"""Max and average pooling over 1, 2 or 3 spatial dimensions.  Math: docs/pooling.md.

One N-dimensional implementation per kind (:class:`MaxPoolNd`, :class:`AvgPoolNd`);
``MaxPool1d/2d/3d`` and ``AvgPool1d/2d/3d`` only fix the number of spatial dimensions.
The array work is in handgrad/functional/pooling.py (or a compiled backend's version of
it, see :mod:`handgrad.backend`).
"""

import numpy as np

from .. import backend
from .._checks import check_input, check_positive_int
from ..functional.pool_geometry import check_output_size, pool_args, pool_geometry
from ._spatial import LAYOUTS, FixedDims, as_json
from .base import Layer


class _PoolNd(Layer):
    """Shared hyperparameters, input checks and description of the pooling layers."""

    #: set by the 1d/2d/3d wrappers; ``None`` means the constructor takes it
    fixed_dims = None

    def __init__(self, num_spatial_dims, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        self.num_spatial_dims = check_positive_int(num_spatial_dims, "num_spatial_dims", name)
        self.kernel_size, self.stride, self.pads = pool_args(
            self.num_spatial_dims, kernel_size, stride, padding, name)
        self.padding = padding if isinstance(padding, str) else as_json(padding)   # as given
        if not isinstance(ceil_mode, bool):
            raise TypeError(f"{name} expected ceil_mode to be a bool, got {ceil_mode!r}")
        self.ceil_mode = ceil_mode

    def _geometry(self, x):
        """Check the input and return the pooling geometry for its spatial size."""
        d, name = self.num_spatial_dims, type(self).__name__
        layout = LAYOUTS.get(d, f"(N, C, {d} spatial dims)")
        check_input(x, name, ndim=d + 2, layout=layout)
        geom = pool_geometry(x.shape[2:], self.kernel_size, self.stride, self.pads, self.ceil_mode)
        check_output_size(geom, x.shape, name)
        return geom

    def _saved_checked(self, grad_out):
        """The cache, after checking that ``grad_out`` has the output's shape."""
        ops, y_shape, cache = self._saved()
        if np.shape(grad_out) != y_shape:
            raise ValueError(f"{type(self).__name__}.backward expected grad_out of shape "
                             f"{y_shape}, got {np.shape(grad_out)}")
        return ops, y_shape, cache

    def get_config(self):
        config = {} if self.fixed_dims else {"num_spatial_dims": self.num_spatial_dims}
        config.update(kernel_size=as_json(self.kernel_size), stride=as_json(self.stride),
                      padding=self.padding, ceil_mode=self.ceil_mode)
        return config

    def macs(self, input_shape, output_shape):
        """One comparison or addition per window sample: ``C * prod(out) * prod(k)``."""
        return int(np.prod(output_shape)) * int(np.prod(self.kernel_size))

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding!r}, ceil_mode={self.ceil_mode}")


class MaxPoolNd(_PoolNd):
    r"""Maximum over sliding windows, for any number of spatial dimensions.

    Parameters
    ----------
    num_spatial_dims : int
        1, 2 or 3 for the usual layers (fixed by ``MaxPool1d/2d/3d``).
    kernel_size : int or tuple of int
        Window size ``k`` per spatial dimension, >= 1.
    stride : int or tuple of int, optional
        Step ``s`` between windows; default ``kernel_size``.
    padding : int, tuple of int, or tuple of (before, after) pairs
        Implicit ``-inf`` padding ``p``; at most ``kernel_size // 2`` on each side.
    ceil_mode : bool
        Round the output size up, keeping a last partial window when it starts inside
        the input or the left padding (PyTorch's rule).

    Shape
    -----
    - Input: ``(N, C, *spatial)``; Output: ``(N, C, *out)`` with, per dimension,

      .. math:: \text{out} = \left\lfloor \frac{n + p_0 + p_1 - k}{s} \right\rfloor + 1

      (``ceil`` in ``ceil_mode``, minus one if that last window would start at or after
      ``n + p_0``).

    Notes
    -----
    With windows :math:`W_o` of the ``-inf``-padded input,

    .. math::
        y_o = \max_{i \in W_o} x_i, \qquad
        \frac{\partial L}{\partial x_i} = \sum_{o:\ i = a_o} g_o ,

    where :math:`a_o` is the *first* maximum of :math:`W_o` in window scan order (ties
    go to the first, as in PyTorch). Each gradient is routed to its argmax; overlapping
    windows (stride < kernel) add up. The cache keeps only :math:`a_o` as a uint8
    kernel-offset index.

    Examples
    --------
    >>> import numpy as np
    >>> MaxPoolNd(2, 2)(np.zeros((8, 3, 28, 28), np.float32)).shape
    (8, 3, 14, 14)
    """

    def forward(self, x):
        ops = backend.ops()
        y, cache = ops.max_pool_forward(x, self._geometry(x))
        self._cache = ops, y.shape, cache
        return y

    def backward(self, grad_out):
        ops, y_shape, cache = self._saved_checked(grad_out)
        return ops.max_pool_backward(grad_out, cache)


class AvgPoolNd(_PoolNd):
    r"""Mean over sliding windows, for any number of spatial dimensions.

    Parameters
    ----------
    num_spatial_dims, kernel_size, stride, padding, ceil_mode
        As for :class:`MaxPoolNd`; padding is zeros here.
    count_include_pad : bool
        Count padding positions in the divisor (default True, as PyTorch).
    divisor_override : int, optional
        Divide every window sum by this number instead.

    Shape
    -----
    As :class:`MaxPoolNd`: ``(N, C, *spatial) -> (N, C, *out)`` with
    :math:`\text{out} = \lfloor (n + p_0 + p_1 - k) / s \rfloor + 1` per dimension.

    Notes
    -----
    .. math::
        y_o = \frac{1}{D_o} \sum_{i \in W_o} x_i, \qquad
        \frac{\partial L}{\partial x_i} = \sum_{o:\ i \in W_o} \frac{g_o}{D_o} .

    The divisor is a product over dimensions of a count per dimension. For a window
    starting at :math:`a = o s - p_0` it is :math:`\min(a + k, n + p_1) - a` with
    ``count_include_pad`` (padding counts, the extra area added by ``ceil_mode`` does
    not) and :math:`\min(a + k, n) - \max(a, 0)` without it.

    Examples
    --------
    >>> import numpy as np
    >>> AvgPoolNd(1, 3, stride=1, padding=1)(np.ones((2, 4, 10))).shape
    (2, 4, 10)
    """

    def __init__(self, num_spatial_dims, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(num_spatial_dims, kernel_size, stride, padding, ceil_mode)
        if not isinstance(count_include_pad, bool):
            raise TypeError(f"{type(self).__name__} expected count_include_pad to be a bool, "
                            f"got {count_include_pad!r}")
        self.count_include_pad = count_include_pad
        if divisor_override is not None:
            divisor_override = check_positive_int(divisor_override, "divisor_override", type(self).__name__)
        self.divisor_override = divisor_override

    def forward(self, x):
        ops = backend.ops()
        y, cache = ops.avg_pool_forward(x, self._geometry(x), self.count_include_pad,
                                        self.divisor_override)
        self._cache = ops, y.shape, cache
        return y

    def backward(self, grad_out):
        ops, y_shape, cache = self._saved_checked(grad_out)
        return ops.avg_pool_backward(grad_out, cache)

    def get_config(self):
        return {**super().get_config(), "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}

    def extra_repr(self):
        return (f"{super().extra_repr()}, count_include_pad={self.count_include_pad}"
                + (f", divisor_override={self.divisor_override}" if self.divisor_override else ""))


# -- thin wrappers: the number of spatial dimensions fixed ------------------------

class MaxPool1d(FixedDims, MaxPoolNd):
    """:class:`MaxPoolNd` over ``(N, C, L)`` inputs; ``L_out = floor((L + 2p - k) / s) + 1``.

    >>> import numpy as np
    >>> MaxPool1d(2)(np.arange(6.0).reshape(1, 1, 6)).tolist()
    [[[1.0, 3.0, 5.0]]]
    """
    fixed_dims = 1


class MaxPool2d(FixedDims, MaxPoolNd):
    """:class:`MaxPoolNd` over ``(N, C, H, W)``; ``H_out = floor((H + 2p - k) / s) + 1``, same for W.

    >>> import numpy as np
    >>> MaxPool2d(3, stride=2, padding=1)(np.zeros((2, 16, 28, 28))).shape
    (2, 16, 14, 14)
    """
    fixed_dims = 2


class MaxPool3d(FixedDims, MaxPoolNd):
    """:class:`MaxPoolNd` over ``(N, C, D, H, W)``; each of D, H, W as ``floor((n + 2p - k) / s) + 1``.

    >>> import numpy as np
    >>> MaxPool3d(2)(np.zeros((1, 2, 4, 6, 8))).shape
    (1, 2, 2, 3, 4)
    """
    fixed_dims = 3


class AvgPool1d(FixedDims, AvgPoolNd):
    """:class:`AvgPoolNd` over ``(N, C, L)`` inputs; ``L_out = floor((L + 2p - k) / s) + 1``.

    >>> import numpy as np
    >>> AvgPool1d(2)(np.arange(6.0).reshape(1, 1, 6)).tolist()
    [[[0.5, 2.5, 4.5]]]
    """
    fixed_dims = 1


class AvgPool2d(FixedDims, AvgPoolNd):
    """:class:`AvgPoolNd` over ``(N, C, H, W)``; ``H_out = floor((H + 2p - k) / s) + 1``, same for W.

    >>> import numpy as np
    >>> AvgPool2d(2)(np.ones((4, 6, 28, 28), np.float32)).shape
    (4, 6, 14, 14)
    """
    fixed_dims = 2


class AvgPool3d(FixedDims, AvgPoolNd):
    """:class:`AvgPoolNd` over ``(N, C, D, H, W)``; each of D, H, W as ``floor((n + 2p - k) / s) + 1``.

    >>> import numpy as np
    >>> AvgPool3d(2, stride=1)(np.zeros((1, 1, 3, 3, 3))).shape
    (1, 1, 2, 2, 2)
    """
    fixed_dims = 3
