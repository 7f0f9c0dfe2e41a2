"""Padding into reused buffers and strided window views (no copies) for conv and pooling.

For a padded input of spatial size ``P`` the window of output position ``o`` along one
dimension starts at ``o * s`` and reads ``P[o*s + d*j]`` for ``j = 0..k-1``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def spatial_slices(offsets, stride, dilation, out_shape):
    """Slices selecting, for kernel offset ``j`` per dim, the samples ``o*s + d*j``, ``o < out``."""
    return tuple(slice(d * j, d * j + s * (o - 1) + 1, s)
                 for j, s, d, o in zip(offsets, stride, dilation, out_shape))


def pad_into(x, pads, buf, lead=(0, 1)):
    """Copy ``x`` (N, C, *S) into the interior of ``buf``, whose border must already be zero.

    ``buf`` has leading axes ``x``'s axes 0 and 1 in the order ``lead`` ((0, 1): ``(N, C, *P)``,
    (1, 0): ``(C, N, *P)``) and spatial sizes ``P = S + before + after``. The border is
    never written, so a buffer zeroed once keeps a zero border across calls with the same
    shape (see :class:`~handgrad.functional.workspace.Workspace`).
    """
    d = x.ndim - 2
    interior = (slice(None), slice(None)) + tuple(
        slice(p0, p0 + n) for (p0, _), n in zip(pads, x.shape[2:]))
    np.copyto(buf[interior], x.transpose(lead + tuple(range(2, 2 + d))))
    return buf


def unpad(buf, pads, spatial):
    """The interior view of a padded array ``(A, B, *P)`` for spatial sizes ``spatial``."""
    return buf[(slice(None), slice(None)) + tuple(
        slice(p0, p0 + n) for (p0, _), n in zip(pads, spatial))]


def window_view(xp, kernel_size, stride, dilation, out_shape):
    """A read-only view ``(A, B, *O, *k)`` of the windows of a padded ``(A, B, *P)`` array.

    ``view[a, b, o..., j...] = xp[a, b, o*s + d*j ...]``; nothing is copied.
    """
    d = len(kernel_size)
    spans = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel_size, dilation))
    v = sliding_window_view(xp, spans, axis=tuple(range(2, 2 + d)))
    # v: (A, B, *(P - span + 1), *span); keep every s-th start and every d-th tap
    sel = (slice(None), slice(None))
    sel += tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(stride, out_shape))
    sel += tuple(slice(None, None, dl) for dl in dilation)
    return v[sel]
