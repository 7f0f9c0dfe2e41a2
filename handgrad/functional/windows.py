"""Sliding windows for convolution and pooling: padding, window views and their adjoint.

Along one dimension of a padded input the window of output position ``o`` reads the
samples ``o*s + d*j`` for kernel taps ``j = 0..k-1`` (stride ``s``, dilation ``d``).
:func:`window_view` exposes all windows at once without copying; :func:`tap_slices`
selects, for one tap ``j``, the samples every window reads with it, which is how the
backward passes add gradients back (one strided slice per tap, see :func:`add_windows`).
"""

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad(x, pads, value=0.0):
    """``x`` ``(N, C, *S)`` padded to ``(N, C, *P)``, ``P = S + before + after`` (a copy)."""
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads), constant_values=value)


def unpad(xp, pads, spatial):
    """The interior view of a padded ``(N, C, *P)`` array for spatial sizes ``spatial``."""
    return xp[(slice(None), slice(None)) + tuple(
        slice(p0, p0 + n) for (p0, _), n in zip(pads, spatial))]


def window_view(xp, kernel_size, stride, dilation, out_shape):
    """A read-only view ``(N, C, *O, *k)`` of the windows of a padded ``(N, C, *P)`` array.

    ``view[n, c, o..., j...] = xp[n, c, o*s + d*j ...]``; nothing is copied.
    """
    d = len(kernel_size)
    spans = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel_size, dilation))
    v = sliding_window_view(xp, spans, axis=tuple(range(2, 2 + d)))
    # v: (N, C, *(P - span + 1), *span); keep every s-th start and every d-th tap
    sel = (slice(None), slice(None))
    sel += tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(stride, out_shape))
    sel += tuple(slice(None, None, dl) for dl in dilation)
    return v[sel]


def taps(kernel_size):
    """Kernel taps ``j`` (tuples) in window scan order (row-major)."""
    return list(itertools.product(*(range(k) for k in kernel_size)))


def tap_slices(tap, stride, dilation, out_shape):
    """Spatial slices of the padded input read by tap ``j``: samples ``o*s + d*j``, ``o < out``."""
    return tuple(slice(dl * j, dl * j + s * (o - 1) + 1, s)
                 for j, s, dl, o in zip(tap, stride, dilation, out_shape))


def add_windows(per_tap, padded_shape, kernel_size, stride, dilation, out_shape, dtype):
    """The adjoint of :func:`window_view`: ``dxp[n, c, p] = sum over (j, o) with o*s + d*j = p
    of per_tap(j)[n, c, o]``.

    ``per_tap(j)`` gives the ``(N, C, *O)`` values that tap ``j`` sends back; one strided
    slice-add per tap. Returns the padded ``(N, C, *P)`` sum.
    """
    dxp = np.zeros(padded_shape, dtype)
    for j in taps(kernel_size):
        dxp[(Ellipsis,) + tap_slices(j, stride, dilation, out_shape)] += per_tap(j)
    return dxp
