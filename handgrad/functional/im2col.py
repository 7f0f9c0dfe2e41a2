"""Unfolding windows into a matrix (im2col) and folding it back (col2im) for convolution.

Layout, chosen so that every convolution product is one large contiguous BLAS call:

    cols: (C, *k, N, *O)   viewed as a (C*K, N*OUT) matrix, K = prod(k), OUT = prod(O)

Rows are (input channel, kernel tap) in the order of the weight's flattening
``(C_out, C_in, *k) -> (C_out, C_in*K)``; columns are (sample, output position). The
padded input is kept channels-first as ``(C, N, *P)`` so each tap's slice copies
contiguous runs.
"""

import itertools

import numpy as np

from .windows import spatial_slices, window_view


def im2col(xp_cn, kernel_size, stride, dilation, out_shape, cols):
    """Fill ``cols`` (C, *k, N, *O) with the windows of the padded ``xp_cn`` (C, N, *P).

    ``cols[c, j..., n, o...] = xp_cn[c, n, o*s + d*j ...]``. Returns ``cols``.
    """
    d = len(kernel_size)
    v = window_view(xp_cn, kernel_size, stride, dilation, out_shape)   # (C, N, *O, *k)
    perm = (0,) + tuple(range(2 + d, 2 + 2 * d)) + (1,) + tuple(range(2, 2 + d))
    np.copyto(cols, v.transpose(perm))                                   # (C, *k, N, *O)
    return cols


def col2im(cols, kernel_size, stride, dilation, out_shape, dxp_cn):
    """Add every column entry back onto the input sample it was read from (adjoint of im2col).

    ``dxp_cn`` (C, N, *P) must be zero on entry; on exit
    ``dxp_cn[c, n, p] = sum over (j, o) with o*s + d*j = p of cols[c, j, n, o]``.
    One strided slice-add per kernel tap (K iterations), no loop over samples or positions.
    """
    for offsets in itertools.product(*(range(k) for k in kernel_size)):
        sl = (slice(None), slice(None)) + spatial_slices(offsets, stride, dilation, out_shape)
        dxp_cn[sl] += cols[(slice(None),) + offsets]
    return dxp_cn


def wide_shape(out_shape, padded_shape):
    """Output grid ``(O_1, P_2, ..., P_d)`` of the "wide" stride-1 column layout (see col2im_wide)."""
    return (out_shape[0],) + tuple(padded_shape[1:])


def col2im_wide(dcols, kernel_size, dilation, out_shape, padded_shape, dxp_flat):
    """col2im for stride 1 with long contiguous runs instead of rows of ``O_d`` samples.

    ``dcols`` is ``(C, *k, N, O_1, P_2, ..., P_d)``: output positions laid out on the padded
    grid except along the first dimension, with *zeros* at the positions ``q_i >= O_i``
    that are not real outputs. Flattening the padded spatial grid with strides
    ``t_i = P_{i+1} ... P_d``, tap ``j`` sends wide position ``q`` to ``flat(q) + off(j)``,
    ``off(j) = sum_i d_i j_i t_i``, so each tap adds one contiguous run of
    ``O_1 t_1`` samples per (channel, sample); the zero columns land harmlessly.

    ``dxp_flat`` is ``(C, N, prod(P) + slack)``, zero on entry, with
    ``slack = sum_{i>=2} d_i (k_i - 1) t_i``; its first ``prod(P)`` entries per (c, n) are the
    padded input gradient.
    """
    C, N = dxp_flat.shape[:2]
    t = [int(np.prod(padded_shape[i + 1:], dtype=np.int64)) for i in range(len(padded_shape))]
    run = out_shape[0] * t[0]
    flat = dcols.reshape((C,) + tuple(kernel_size) + (N, run))
    for offsets in itertools.product(*(range(k) for k in kernel_size)):
        off = sum(dl * j * ti for dl, j, ti in zip(dilation, offsets, t))
        dxp_flat[:, :, off:off + run] += flat[(slice(None),) + offsets]
    return dxp_flat


def wide_slack(kernel_size, dilation, padded_shape):
    """Extra entries per (c, n) that col2im_wide needs after the padded grid."""
    t = [int(np.prod(padded_shape[i + 1:], dtype=np.int64)) for i in range(len(padded_shape))]
    return sum(dl * (k - 1) * ti for dl, k, ti in zip(dilation[1:], kernel_size[1:], t[1:]))
