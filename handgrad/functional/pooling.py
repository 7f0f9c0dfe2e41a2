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

from .pool_windows import avg_divisor, crop_to_input, flat_argmax, merge_phases, phase_layout, split_phases


def _index_dtype(num_offsets):
    """Smallest unsigned type that holds a kernel-offset index (uint8 for up to 256 offsets)."""
    return np.uint8 if num_offsets <= 256 else np.uint16


# -- max pooling ---------------------------------------------------------------

def max_pool_forward(x, geom, work):
    """Returns ``y`` ``(N, C, *out)``, ``arg``, the offset index of each window's first
    maximum, and ``inside``: whether every maximum is known to lie inside the input (it
    can lie in the ``-inf`` padding only when a window's maximum is ``-inf`` or NaN).

    The input is split into stride-phase planes (:func:`split_phases`), so each kernel
    offset is one contiguous run over all windows at once, on the "wide" output grid
    (``arg`` is a view of the real outputs in that grid). The scan visits kernel offsets
    in row-major order and moves the argmax only when a value is strictly greater than the
    running maximum, so ties go to the first maximum (as in PyTorch). Offsets only grow
    along the scan, so "set arg to r where greater" is ``arg = max(arg, r * greater)``:
    two fast uint8 passes instead of a masked copy. NaN propagates to the output.
    """
    N, C = x.shape[:2]
    layout = work.computed("layout", geom, lambda: phase_layout(geom))
    planes = split_phases(x, layout, -np.inf, work)      # (phases, N*C*prod(Q) + slack)
    size = layout.wide_size(N * C)
    runs = [planes[plane, shift:shift + size] for plane, shift in layout.taps]
    y_wide = work.get("y_wide", (size,), x.dtype)        # (N*C*prod(Q),), junk past `out`
    arg = work.get("arg_wide", (size,), _index_dtype(len(runs)))
    greater = work.get("greater", (size,), bool)
    moved = work.get("moved", (size,), arg.dtype)
    np.copyto(y_wide, runs[0])
    arg.fill(0)
    for index, v in enumerate(runs[1:], start=1):
        np.greater(v, y_wide, out=greater)
        np.maximum(y_wide, v, out=y_wide)
        np.multiply(greater.view(np.uint8), arg.dtype.type(index), out=moved)
        np.maximum(arg, moved, out=arg)
    valid = layout.valid()
    wide = (N, C) + layout.plane
    y = work.output("y", (N, C) + geom.out, x.dtype)
    np.copyto(y, y_wide.reshape(wide)[valid])
    inside = not geom.needs_buffer or y.size == 0 or bool(y.min() > -np.inf)   # NaN: False
    return y, arg.reshape(wide)[valid], inside


def max_pool_backward(grad_out, arg, inside, x_shape, geom, work):
    """dL/dx: each ``g_o`` goes to the input sample at its window's argmax.

    Non-overlapping windows write each input sample once: one pass per kernel offset
    writes ``(arg == offset) * g`` straight into the slice of dL/dx that offset read.
    Overlapping windows (a sample may be the maximum of several windows) turn ``arg``
    into flat indices (:func:`flat_argmax`) and sum ``g`` per index with one
    ``np.bincount`` (it accumulates in float64, then the result is rounded to
    ``grad_out``'s dtype). When every maximum is ``inside`` the input the indices point
    straight into dL/dx; otherwise into the padded grid, whose padding
    :func:`crop_to_input` then drops.
    """
    if geom.non_overlapping:
        hit = np.empty(arg.shape, bool)                  # (N, C, *out): arg == offset
        gx = _tiling_grad(x_shape, geom, grad_out.dtype, work)
        for index, offset in enumerate(geom.offsets()):
            np.equal(arg, index, out=hit)
            np.multiply(hit, grad_out, out=gx[(Ellipsis,) + geom.offset_slices(offset)])
        return gx
    N, C = x_shape[:2]
    if inside:
        flat = flat_argmax(arg, geom, work, padded=False)  # (N*C*prod(out),) into (N, C, *in_size)
        sums = np.bincount(flat, weights=grad_out.ravel(), minlength=math.prod(x_shape))
        gx = work.output("gx", x_shape, grad_out.dtype)
        np.copyto(gx, sums.reshape(x_shape))
        return gx
    flat = flat_argmax(arg, geom, work)                  # (N*C*prod(out),) into (N, C, *extent)
    sums = np.bincount(flat, weights=grad_out.ravel(), minlength=N * C * math.prod(geom.extent))
    return crop_to_input(sums.reshape((N, C) + geom.extent), x_shape, geom, grad_out.dtype, work)


def _tiling_grad(x_shape, geom, dtype, work):
    """dL/dx buffer for non-overlapping windows: only the samples no window covers need zeros."""
    gx = work.output("gx", x_shape, dtype)
    if not all(o * k == n for o, k, n in zip(geom.out, geom.kernel, geom.in_size)):
        gx.fill(0)
    return gx


# -- average pooling -----------------------------------------------------------

def avg_pool_forward(x, geom, count_include_pad, divisor_override, work):
    """Returns ``y`` ``(N, C, *out)`` and the divisor (array of shape ``out``, or a scalar).

    The window sums run over stride-phase planes as in :func:`max_pool_forward`."""
    divisor = np.asarray(avg_divisor(geom, count_include_pad, divisor_override), x.dtype)
    if divisor.ndim and (divisor == divisor.flat[0]).all():
        divisor = divisor.flat[0]                       # one scalar (e.g. no padding): faster
    N, C = x.shape[:2]
    layout = work.computed("layout", geom, lambda: phase_layout(geom))
    planes = split_phases(x, layout, 0.0, work)          # (phases, N*C*prod(Q) + slack)
    size = layout.wide_size(N * C)
    total = work.get("sum_wide", (size,), x.dtype)
    (plane, shift), *rest = layout.taps
    np.copyto(total, planes[plane, shift:shift + size])
    for plane, shift in rest:
        total += planes[plane, shift:shift + size]
    y = work.output("y", (N, C) + geom.out, x.dtype)
    np.divide(total.reshape((N, C) + layout.plane)[layout.valid()], divisor, out=y)
    return y, divisor


def avg_pool_backward(grad_out, divisor, x_shape, geom, work):
    """dL/dx: every sample of window ``o`` receives ``g_o / D_o``; overlaps accumulate.

    Overlapping windows: ``g / D`` is laid on the wide grid (zeros at the junk positions)
    and each kernel offset adds it, as one contiguous run, into its phase plane at its
    shift; :func:`merge_phases` then writes the planes into dL/dx.
    """
    if geom.non_overlapping:
        share = grad_out / divisor                       # (N, C, *out)
        gx = _tiling_grad(x_shape, geom, grad_out.dtype, work)
        for offset in geom.offsets():
            gx[(Ellipsis,) + geom.offset_slices(offset)] = share
        return gx
    N, C = x_shape[:2]
    layout = work.computed("layout", geom, lambda: phase_layout(geom))
    size = layout.wide_size(N * C)
    share = work.zeroed_once("share_wide", (size,), grad_out.dtype)   # junk stays zero
    np.divide(grad_out, divisor, out=share.reshape((N, C) + layout.plane)[layout.valid()])
    planes = work.zeros("grad_planes", (len(layout.phases), size + layout.slack), grad_out.dtype)
    for plane, shift in layout.taps:
        run = planes[plane, shift:shift + size]
        run += share
    return merge_phases(planes, x_shape, layout, grad_out.dtype, work)
