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
