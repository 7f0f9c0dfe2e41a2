r"""Max and average pooling over any number of spatial dimensions: the reference.

With windows :math:`W_o` of the padded input (``-inf`` padding for max, zeros for
average) and :math:`g = \partial L / \partial y` (docs/pooling.md):

.. math::
    y_o = \max_{i \in W_o} x_i, \qquad
    \frac{\partial L}{\partial x_i} = \sum_{o:\ a_o = i} g_o \qquad (a_o: \text{first maximum of } W_o)

    y_o = \frac{1}{D_o} \sum_{i \in W_o} x_i, \qquad
    \frac{\partial L}{\partial x_i} = \sum_{o:\ i \in W_o} \frac{g_o}{D_o}

Each forward returns the output and a cache; its backward takes the cache. The
compiled backends (handgrad/kernels/) have their own versions, tested equal to these.
"""

import math

import numpy as np

from .pool_geometry import avg_divisor
from .windows import add_windows, pad, taps, unpad, window_view


def _windows(x, geom, value):
    """All windows of ``x`` padded with ``value``: ``(N, C, *out, K)`` (a copy), K = prod(k)."""
    v = window_view(pad(x, geom.full_pads, value), geom.kernel, geom.stride,
                    (1,) * len(geom.kernel), geom.out)                      # (N, C, *out, *k)
    return v.reshape(x.shape[:2] + geom.out + (math.prod(geom.kernel),))


def _scatter(per_tap, x_shape, geom, dtype):
    """dL/dx from what each kernel tap sends back to the samples it read (padding dropped)."""
    padded = x_shape[:2] + tuple(n + p0 + p1 for n, (p0, p1) in zip(x_shape[2:], geom.full_pads))
    dxp = add_windows(per_tap, padded, geom.kernel, geom.stride, (1,) * len(geom.kernel),
                      geom.out, dtype)
    return np.ascontiguousarray(unpad(dxp, geom.full_pads, x_shape[2:]))


def max_pool_forward(x, geom):
    """``y (N, C, *out)`` and the cache: the tap index of each window's first maximum.

    Ties go to the first maximum in scan order (as in PyTorch); NaN propagates. A window
    that holds only ``-inf`` keeps its first tap, which may lie in the padding (its
    gradient is then dropped).
    """
    windows = _windows(x, geom, -np.inf)                   # (N, C, *out, K)
    arg = windows.argmax(axis=-1)                           # (N, C, *out)
    y = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
    return y, (arg, x.shape, geom)


def max_pool_backward(grad_y, cache):
    """dL/dx: each ``g_o`` goes to the input sample at its window's argmax."""
    arg, x_shape, geom = cache
    index = {j: i for i, j in enumerate(taps(geom.kernel))}
    return _scatter(lambda j: np.where(arg == index[j], grad_y, 0), x_shape, geom, grad_y.dtype)


def avg_pool_forward(x, geom, count_include_pad=True, divisor_override=None):
    """``y (N, C, *out)`` and the cache: the divisor (of shape ``out``, or a scalar)."""
    divisor = np.asarray(avg_divisor(geom, count_include_pad, divisor_override), x.dtype)
    y = _windows(x, geom, 0.0).sum(axis=-1) / divisor       # (N, C, *out)
    return y.astype(x.dtype, copy=False), (divisor, x.shape, geom)


def avg_pool_backward(grad_y, cache):
    """dL/dx: every sample of window ``o`` receives ``g_o / D_o``; overlaps add up."""
    divisor, x_shape, geom = cache
    share = grad_y / divisor                                # (N, C, *out)
    return _scatter(lambda j: share, x_shape, geom, grad_y.dtype)
