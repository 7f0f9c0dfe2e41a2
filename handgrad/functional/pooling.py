"""Max and average pooling kernels over any number of spatial dimensions.

Each forward returns the output and what its backward needs; layers in
handgrad/layers/pooling.py wrap them. Math: docs/pooling.md.

Max pooling (window :math:`W_o`, padding = -inf):

    y_o = max_{i in W_o} x_i,   dL/dx_i = sum_{o : argmax(W_o) = i} g_o

Average pooling (padding = 0, divisor ``D_o``, see :func:`avg_divisor`):

    y_o = (1 / D_o) sum_{i in W_o} x_i,   dL/dx_i = sum_{o : i in W_o} g_o / D_o
"""

import math

import numpy as np

from .pool_windows import (avg_divisor, crop_to_input, flat_argmax, padded_input,
                           scatter_to_input)


def _index_dtype(num_offsets):
    """Smallest unsigned type that holds a kernel-offset index (uint8 for up to 256 offsets)."""
    return np.uint8 if num_offsets <= 256 else np.uint16


# -- max pooling ---------------------------------------------------------------

def max_pool_forward(x, geom, work):
    """Returns ``y`` ``(N, C, *out)`` and ``arg``, the offset index of each window's first maximum.

    The scan visits kernel offsets in row-major order and moves the argmax only when a
    value is strictly greater than the running maximum, so ties go to the first maximum
    (as in PyTorch). Offsets only grow along the scan, so "set arg to r where greater"
    is ``arg = max(arg, r * greater)``: two fast uint8 passes instead of a masked copy.
    NaN propagates to the output.
    """
    xp = padded_input(x, geom, -np.inf, work)          # (N, C, *extent)
    offsets = geom.offsets()
    y = xp[(Ellipsis,) + geom.offset_slices(offsets[0])].copy()   # (N, C, *out)
    arg = np.zeros(y.shape, _index_dtype(len(offsets)))
    greater = np.empty(y.shape, bool)
    moved = np.empty(y.shape, arg.dtype)
    for index, offset in enumerate(offsets[1:], start=1):
        v = xp[(Ellipsis,) + geom.offset_slices(offset)]
        np.greater(v, y, out=greater)
        np.maximum(y, v, out=y)
        np.multiply(greater.view(np.uint8), arg.dtype.type(index), out=moved)
        np.maximum(arg, moved, out=arg)
    return y, arg


def max_pool_backward(grad_out, arg, x_shape, geom, work):
    """dL/dx: each ``g_o`` goes to the input sample at its window's argmax.

    Non-overlapping windows write each input sample once: one pass per kernel offset
    writes ``(arg == offset) * g`` straight into the slice of dL/dx that offset read.
    Overlapping windows (a sample may be the maximum of several windows) turn ``arg``
    into flat indices into the padded grid (:func:`flat_argmax`) and sum ``g`` per index
    with one ``np.bincount`` (it accumulates in float64, then the result is rounded to
    ``grad_out``'s dtype); padding is cut off by :func:`crop_to_input`.
    """
    if geom.non_overlapping:
        hit = np.empty(arg.shape, bool)                  # (N, C, *out): arg == offset
        gx = _tiling_grad(x_shape, geom, grad_out.dtype)
        for index, offset in enumerate(geom.offsets()):
            np.equal(arg, index, out=hit)
            np.multiply(hit, grad_out, out=gx[(Ellipsis,) + geom.offset_slices(offset)])
        return gx
    N, C = x_shape[:2]
    flat = flat_argmax(arg, geom, work)                  # (N*C*prod(out),) into (N, C, *extent)
    sums = np.bincount(flat, weights=grad_out.ravel(), minlength=N * C * math.prod(geom.extent))
    return crop_to_input(sums.reshape((N, C) + geom.extent), x_shape, geom, grad_out.dtype)


def _tiling_grad(x_shape, geom, dtype):
    """dL/dx buffer for non-overlapping windows: only the samples no window covers need zeros."""
    exact = all(o * k == n for o, k, n in zip(geom.out, geom.kernel, geom.in_size))
    return np.empty(x_shape, dtype) if exact else np.zeros(x_shape, dtype)


# -- average pooling -----------------------------------------------------------

def avg_pool_forward(x, geom, count_include_pad, divisor_override, work):
    """Returns ``y`` ``(N, C, *out)`` and the divisor (array of shape ``out``, or a scalar)."""
    divisor = np.asarray(avg_divisor(geom, count_include_pad, divisor_override), x.dtype)
    if divisor.ndim and (divisor == divisor.flat[0]).all():
        divisor = divisor.flat[0]                       # one scalar (e.g. no padding): faster
    xp = padded_input(x, geom, 0.0, work)               # (N, C, *extent)
    offsets = geom.offsets()
    total = xp[(Ellipsis,) + geom.offset_slices(offsets[0])].copy()   # (N, C, *out)
    for offset in offsets[1:]:
        total += xp[(Ellipsis,) + geom.offset_slices(offset)]
    total /= divisor
    return total, divisor


def avg_pool_backward(grad_out, divisor, x_shape, geom, work):
    """dL/dx: every sample of window ``o`` receives ``g_o / D_o``; overlaps accumulate."""
    share = grad_out / divisor                           # (N, C, *out)
    if geom.non_overlapping:
        gx = _tiling_grad(x_shape, geom, grad_out.dtype)
        for offset in geom.offsets():
            gx[(Ellipsis,) + geom.offset_slices(offset)] = share
        return gx
    return scatter_to_input(((offset, share) for offset in geom.offsets()),
                            x_shape, geom, grad_out.dtype, work)
