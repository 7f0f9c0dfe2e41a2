"""3x3 convolutions with stride 1, Numba backend: Winograd's minimal filtering F(2x2, 3x3).

The reference unfolds nine taps per output and multiplies; for a 3x3 window with stride 1
(no dilation, one group, a 2-d image) Winograd's algorithm computes each 2x2 tile of
outputs from the 4x4 tile of the padded input under it with 16 products per channel pair
instead of 36 (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):

    Y_tile = A^T [ (G w G^T) ⊙ (B^T d B) ] A        (d: 4x4 input tile, w: 3x3 filter)

    B^T = | 1  0 -1  0 |    G = | 1    0    0  |    A^T = | 1  1  1  0 |
          | 0  1  1  0 |        | 1/2  1/2  1/2|          | 0  1 -1 -1 |
          | 0 -1  1  0 |        | 1/2 -1/2  1/2|
          | 0  1  0 -1 |        | 0    0    1  |

Summed over input channels, the 16 elementwise products become 16 matrix products, one
per tile position ``xi`` of the 4x4 transforms:

    M[xi] (C_out, tiles) = U[xi] (C_out, C_in) @ V[xi] (C_in, tiles),
    U = G w G^T (per channel pair),  V = B^T d B (per channel and tile).

The backward pass is this computation's adjoint, in the same transforms:

    dM = A dY A^T (per tile),  dU[xi] = dM[xi] @ V[xi]^T,  dW = G^T dU G,
    dV[xi] = U[xi]^T @ dM[xi],  dd = B dV B^T (added into the padded input's gradient,
    tiles overlapping by two rows and two columns).

Products take 2.25x fewer multiply-adds than the unfolded product (14x14 outputs: 49
tiles of 16 against 196 outputs of 9 and the padded grid's junk columns); the transforms
are additions and halvings, exact in floating point except for the roundings of the sums.
Every kernel here is tested equal to the reference (tests/test_kernels.py), to float32's
precision relative to the sum of the terms' magnitudes.
"""

import numpy as np
from numba import njit

from ._blocks import largest
from ._gemm import matmul
from ._jit import kernel
from ._spin import block_done, claim, finish, publish
from .winograd_tiles import (gradient_transform, input_gradient, input_transform, masked, output_transform,
                             pad_tiles, tiles_to_weights, weights_to_tiles)

#: the weight transform G (4x3) and its use on both sides: U = G w G^T, dW = G^T dU G
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def applies(k3, s3, d3, groups, depth):
    """Whether a convolution is one this module computes: a 3x3 window over a 2-d image,
    stride 1, no dilation, one group."""
    return k3 == (1, 3, 3) and s3 == (1, 1, 1) and d3 == (1, 1, 1) and groups == 1 and depth == 1


def tiles(o3):
    """Tile rows and columns ``(TH, TW)`` covering outputs ``o3 = (1, O1, O2)``."""
    return -(-o3[1] // 2), -(-o3[2] // 2)


#: extra elements between two of the 16 matrices of a transformed block (one cache line of
#: float32): matrices a power of two apart (a 32x128 block is 16 KiB) fall on the same
#: cache sets, and a tile's 16 values, one per matrix, then evict each other. With the
#: shift the 3-conv net's third layer transforms its input 6x faster.
SKEW = 16


def weight_transform(w):
    """``U``: ``G w G^T`` for every channel pair of ``w (C_out, C_in, 3, 3)``, as 16 matrices
    ``(C_out, C_in)`` (:func:`skewed`)."""
    U = skewed((), w.shape[:2], w.dtype)
    weights_to_tiles(np.ascontiguousarray(w), U)
    return U


def weight_gradient(dU_parts, pairs):
    """``dW (C_out, C_in, 3, 3) = G^T dU G``, ``dU`` the sum of ``dU_parts`` (sets of 16
    matrices ``pairs = (C_out, C_in)``, :func:`skewed`; the first set is overwritten with
    the sum)."""
    dW = np.empty(pairs + (3, 3), dU_parts.dtype)
    tiles_to_weights(dU_parts, dW)
    return dW


def skewed(lead, pairs, dtype):
    """An uninitialized C-contiguous array ``lead + (16, C_out*C_in + SKEW)``: 16 matrices
    ``pairs = (C_out, C_in)`` (:func:`plane` gives one), :data:`SKEW` elements more than
    their size apart. The weight transforms write or read one entry of each of the 16 per
    channel pair, and a 64x32 layer's matrices, 8 KiB apart, evicted each other: its ``U``
    took 30 us to compute with a separate turn and 87 us entry by entry, 10 skewed."""
    return np.empty(lead + (16, pairs[0] * pairs[1] + SKEW), dtype)


@njit(cache=True, nogil=True, inline="always")
def _grid(TH, TW):
    return 2 * TH + 2, 2 * TW + 2


@njit(cache=True, nogil=True, inline="always")
def planes(buf, rows, L):
    """The 16 matrices ``(rows, L)`` of a transformed block in ``buf``, as a ``(16,
    rows*L + SKEW)`` array; :func:`plane` gives matrix ``xi``."""
    return buf[:16 * (rows * L + SKEW)].reshape((16, rows * L + SKEW))


@njit(cache=True, nogil=True, inline="always")
def plane(P, xi, rows, L):
    return P[xi, :rows * L].reshape((rows, L))


@kernel
def forward_driver(ctl, epoch, main, tries, blocks, x, U, bias, before, y, mask):
    """The forward pass over ``blocks`` of samples (``x (N, C_in, H, W)``, ``y (N, C_out, O1,
    O2)``) as one thread of a team (:mod:`._team`)."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co = x.shape[1], y.shape[1]
        TH, TW = -(-y.shape[2] // 2), -(-y.shape[3] // 2)
        Hq, Wq = _grid(TH, TW)
        T = TH * TW
        most = largest(blocks)
        xq = np.empty(most * Ci * Hq * Wq, x.dtype)
        V, M = np.empty(16 * (Ci * most * T + SKEW), x.dtype), np.empty(16 * (Co * most * T + SKEW), x.dtype)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            n = hi - lo
            L = n * T
            xb = xq[:n * Ci * Hq * Wq].reshape((n, Ci, Hq, Wq))
            Vb, Mb = planes(V, Ci, L), planes(M, Co, L)
            pad_tiles(x[lo:hi], before, xb)
            input_transform(xb, TH, TW, Vb)
            for xi in range(16):
                matmul(plane(U, xi, Co, Ci), plane(Vb, xi, Ci, L), plane(Mb, xi, Co, L))
            output_transform(Mb, bias, TH, TW, y[lo:hi], mask[lo:hi])
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def band_driver(ctl, epoch, main, tries, parts, edges, x, U, bias, before, y, mask):
    """The forward pass of part ``i`` of each sample's tile rows (sample ``i // parts``, tile
    rows ``[edges[i % parts], edges[i % parts + 1])``) as one thread of a team: a batch of
    fewer samples than threads (one image) is split into bands of its image. A band is the
    same computation on the rows of the padded grid under its tiles (two more than its
    outputs); its outputs go through a buffer of the band's own into ``y``."""
    if main:
        publish(ctl, epoch)
    count = x.shape[0] * parts
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co, O1, O2 = x.shape[1], y.shape[1], y.shape[2], y.shape[3]
        TW = -(-O2 // 2)
        Wq = 2 * TW + 2
        most = 1
        for q in range(parts):
            most = max(most, edges[q + 1] - edges[q])
        xq = np.empty(Ci * (2 * most + 2) * Wq, x.dtype)
        V, M = np.empty(16 * (Ci * most * TW + SKEW), x.dtype), np.empty(16 * (Co * most * TW + SKEW), x.dtype)
        yb, mb = np.empty(Co * 2 * most * O2, y.dtype), np.empty(Co * 2 * most * O2 if mask.size else 0, np.bool_)
        while i >= 0:
            n, t0, t1 = i // parts, edges[i % parts], edges[i % parts + 1]
            TB, L = t1 - t0, (t1 - t0) * TW
            rows = min(2 * t1, O1) - 2 * t0                      # the band's output rows
            xb = xq[:Ci * (2 * TB + 2) * Wq].reshape((1, Ci, 2 * TB + 2, Wq))
            Vb, Mb = planes(V, Ci, L), planes(M, Co, L)
            pad_tiles(x[n:n + 1], (before[0] - 2 * t0, before[1]), xb)
            input_transform(xb, TB, TW, Vb)
            for xi in range(16):
                matmul(plane(U, xi, Co, Ci), plane(Vb, xi, Ci, L), plane(Mb, xi, Co, L))
            ybb = yb[:Co * rows * O2].reshape((1, Co, rows, O2))
            mbb = mb[:Co * rows * O2].reshape((1, Co, rows, O2)) if mask.size else mb.reshape((0, Co, rows, O2))
            output_transform(Mb, bias, TB, TW, ybb, mbb)
            for o in range(Co):
                for r in range(rows):
                    dst, src = y[n, o, 2 * t0 + r], ybb[0, o, r]
                    for j in range(O2):
                        dst[j] = src[j]
                    if mask.size:
                        mdst, msrc = mask[n, o, 2 * t0 + r], mbb[0, o, r]
                        for j in range(O2):
                            mdst[j] = msrc[j]
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def backward_driver(ctl, epoch, main, tries, blocks, grad_y, mask, x, U, before, dU_parts, db_parts, dx,
                    input_grad):
    """The backward pass over ``blocks`` as one thread of a team: block ``i``'s share of
    ``dU`` and of the bias gradient into ``dU_parts[i]``, ``db_parts[i]``; its samples of
    ``dx`` when ``input_grad``."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co = x.shape[1], grad_y.shape[1]
        TH, TW = -(-grad_y.shape[2] // 2), -(-grad_y.shape[3] // 2)
        Hq, Wq = _grid(TH, TW)
        T = TH * TW
        most = largest(blocks)
        xq = np.empty(most * Ci * Hq * Wq, x.dtype)
        V, dM = np.empty(16 * (Ci * most * T + SKEW), x.dtype), np.empty(16 * (Co * most * T + SKEW), x.dtype)
        dV = np.empty(16 * (Ci * most * T + SKEW) if input_grad else 0, x.dtype)
        O1, O2 = grad_y.shape[2], grad_y.shape[3]
        gm = np.empty(most * Co * O1 * O2 if mask.size else 0, x.dtype)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            n = hi - lo
            L = n * T
            xb = xq[:n * Ci * Hq * Wq].reshape((n, Ci, Hq, Wq))
            Vb, dMb = planes(V, Ci, L), planes(dM, Co, L)
            if mask.size:
                gb = gm[:n * Co * O1 * O2].reshape((n, Co, O1, O2))
                masked(grad_y[lo:hi], mask[lo:hi], gb)
                gradient_transform(gb, TH, TW, dMb, db_parts[i])
            else:
                gradient_transform(grad_y[lo:hi], TH, TW, dMb, db_parts[i])
            pad_tiles(x[lo:hi], before, xb)
            input_transform(xb, TH, TW, Vb)
            for xi in range(16):
                matmul(plane(dMb, xi, Co, L), plane(Vb, xi, Ci, L).T, plane(dU_parts[i], xi, Co, Ci))
            if input_grad:
                dVb = planes(dV, Ci, L)
                for xi in range(16):
                    matmul(plane(U, xi, Co, Ci).T, plane(dMb, xi, Co, L), plane(dVb, xi, Ci, L))
                input_gradient(dVb, TH, TW, before, xb, dx[lo:hi])
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)
