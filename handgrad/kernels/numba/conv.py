"""Convolution, Numba backend: the reference's products (BLAS), with the memory-bound work
around them as loop kernels, all done one block of samples at a time (:mod:`._blocks`).

Same math and same layouts as handgrad/functional/conv.py: ``cols (C*K, N*OUT)``,
``Y = W @ cols``, ``dW = G @ cols.T``, ``dcols = W.T @ G``. For each block of samples

- forward: unfold the block's windows into its ``cols (C*K, n*OUT)`` (straight from the
  unpadded input), multiply, and move the product ``(C_out, n*OUT)`` into ``y (n, C_out, *O)``
  with the bias added in the same pass;
- backward: move the block of ``dL/dy`` into ``G (C_out, n*OUT)`` while summing the bias
  gradient, unfold the block again, multiply twice (the block's share of ``dW``; its
  ``dcols``), and fold ``dcols`` straight into the block of ``dL/dx`` (no padded buffer).

A block's columns and products live in per-thread scratch buffers that stay in the CPU
cache between these passes; the whole ``cols`` of a batch (tens of megabytes for a
mid-sized layer) is never written out to memory, and unfolding a block twice costs less
than keeping it. ``dW`` and the bias gradient are sums of one partial per block, added in
block order. Convolutions whose strides are all 1 (most) use the kernels of
:mod:`.conv_stride1` instead, which unfold whole runs of the padded image at once.
"""

import math
from types import SimpleNamespace

import numpy as np
from numba import njit, uintp

from ..._memo import remembered
from ...functional.conv import conv_output_shape
from . import _blocks
from . import conv_stride1 as stride1
from . import conv_winograd as winograd
from ._blocks import as_rows, block_size, bounds, run_blocks, run_driver, scratch, threads_for
from ._gemm import matmul
from ._jit import kernel
from ._sums import run_sum
from ._spatial import as_3d


@njit(cache=True)
def span(n, o, s, j, d, p):
    """The output range ``[lo, hi)`` along one dimension (``o`` outputs, stride ``s``) whose
    input sample ``o*s + j*d - p`` for tap ``j`` (dilation ``d``, left padding ``p``) lies
    inside ``[0, n)``."""
    first = j * d - p                          # input index of output 0
    lo = 0 if first >= 0 else (-first + s - 1) // s
    hi = 0 if first >= n else (n - 1 - first) // s + 1
    return min(lo, o), min(max(hi, 0), o)


@kernel
def unfold(x, k, s, d, p, o, cols):
    """cols[(c, j), (n, o)] = x[n, c, o*s + j*d - p] (0 outside the input), for a block
    ``x (n, C, D, H, W)`` and its own ``cols (C*K, n*OUT)``.

    Along W each tap copies one run of samples (``span``: the outputs whose input lies
    inside; the others are padding). Flat views and unsigned offsets: a signed index is
    checked for Python's negative indexing at every access.
    """
    N, C, D, H, W = x.shape
    K, OUT, L = k[0] * k[1] * k[2], o[0] * o[1] * o[2], cols.shape[1]
    xf, cf = x.reshape(x.size), cols.reshape(cols.size)
    for n in range(N):
        for c in range(C):
            plane = (n * C + c) * D * H * W
            for j in range(K):
                j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
                lo, hi = span(W, o[2], s[2], j2, d[2], p[2])
                row = (c * K + j) * L + n * OUT
                for a in range(o[0]):
                    i0 = a * s[0] + j0 * d[0] - p[0]
                    for b in range(o[1]):
                        i1 = b * s[1] + j1 * d[1] - p[1]
                        at = uintp(row + (a * o[1] + b) * o[2])
                        if 0 <= i0 < D and 0 <= i1 < H:
                            src = uintp(plane + (i0 * H + i1) * W + j2 * d[2] - p[2])
                            for e in range(lo):
                                cf[at + e] = 0
                            if s[2] == 1:                              # a contiguous run
                                for e in range(uintp(lo), uintp(hi)):
                                    cf[at + e] = xf[src + e]
                            else:
                                for e in range(uintp(lo), uintp(hi)):
                                    cf[at + e] = xf[src + e * s[2]]
                            for e in range(hi, o[2]):
                                cf[at + e] = 0
                        else:
                            for e in range(o[2]):
                                cf[at + e] = 0


@kernel
def fold(dcols, k, s, d, p, o, dx):
    """dx[n, c, i] = sum of dcols[(c, j), (n, o)] over (j, o) with o*s + j*d - p = i: the
    adjoint of :func:`unfold`, for a block ``dx (n, C, D, H, W)``."""
    N, C, D, H, W = dx.shape
    K, OUT, L = k[0] * k[1] * k[2], o[0] * o[1] * o[2], dcols.shape[1]
    df, xf = dcols.reshape(dcols.size), dx.reshape(dx.size)
    xf[:] = 0
    for n in range(N):
        for c in range(C):
            plane = (n * C + c) * D * H * W
            for j in range(K):
                j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
                lo, hi = span(W, o[2], s[2], j2, d[2], p[2])
                row = (c * K + j) * L + n * OUT
                for a in range(o[0]):
                    i0 = a * s[0] + j0 * d[0] - p[0]
                    for b in range(o[1]):
                        i1 = b * s[1] + j1 * d[1] - p[1]
                        if 0 <= i0 < D and 0 <= i1 < H:
                            at = uintp(row + (a * o[1] + b) * o[2])
                            dst = uintp(plane + (i0 * H + i1) * W + j2 * d[2] - p[2])
                            if s[2] == 1:
                                for e in range(uintp(lo), uintp(hi)):
                                    xf[dst + e] += df[at + e]
                            else:
                                for e in range(uintp(lo), uintp(hi)):
                                    xf[dst + e * s[2]] += df[at + e]


@kernel
def samples_first(yt, bias, y, mask):
    """y[n, c, o] = yt[c, n*OUT + o] + bias[c]; yt (C, n*OUT), y (n, C, OUT). With a ``mask``
    of y's shape (size 0: none), the ReLU of that too and ``mask = y > 0``."""
    N, C, OUT = y.shape
    for n in range(N):
        for c in range(C):
            bc, src, dst = bias[c], yt[c, n * OUT:(n + 1) * OUT], y[n, c]
            if mask.size:
                positive = mask[n, c]
                for o in range(OUT):
                    v = src[o] + bc
                    positive[o] = v > 0
                    dst[o] = 0 if v <= 0 else v
            else:
                for o in range(OUT):
                    dst[o] = src[o] + bc


@kernel
def channels_first(g, gt, db, mask):
    """gt[c, n*OUT + o] = g[n, c, o] and db[c] = sum of g[:, c, :]; g (n, C, OUT). With a
    ``mask`` of g's shape (size 0: none), g is taken where the mask is set, 0 elsewhere."""
    N, C, OUT = g.shape
    for n in range(N):
        for c in range(C):
            src, dst = g[n, c], gt[c, n * OUT:(n + 1) * OUT]
            if mask.size:
                positive = mask[n, c]
                for o in range(OUT):
                    dst[o] = src[o] if positive[o] else 0
            else:
                for o in range(OUT):
                    dst[o] = src[o]
    for c in range(C):
        db[c] = run_sum(gt[c])


@kernel
def _forward_block(x, w, bias, k, s, d, p, o, cols, yt, y, mask):
    """One block of samples: unfold ``x (n, C, D, H, W)`` into ``cols``, ``yt = W @ cols``
    per group (``w (G, C_out/G, C*K/G)``), and ``y (n, C_out, OUT)`` = ``yt`` moved
    samples-first with the bias added (and the ReLU, with a ``mask`` of y's shape)."""
    G, Cog, CKg = w.shape
    unfold(x, k, s, d, p, o, cols)
    for g in range(G):
        matmul(w[g], cols[g * CKg:(g + 1) * CKg], yt[g * Cog:(g + 1) * Cog])
    samples_first(yt, bias, y, mask)


@kernel
def _backward_block(grad_y, mask, x, w, k, s, d, p, o, gt, cols, dcols, dwt, db, dx, input_grad):
    """One block of samples: ``gt`` = ``grad_y (n, C_out, OUT)`` channels-first and its
    bias-gradient sum ``db``; ``x`` unfolded again into ``cols``; per group ``dW^T = cols @ G^T``
    into ``dwt (G, C*K/G, C_out/G)`` (in this orientation OpenBLAS runs 1.3-1.8x faster than
    ``G @ cols^T``) and, with ``input_grad``, ``dcols = W^T @ G`` folded into ``dx``."""
    G, Cog, CKg = w.shape
    channels_first(grad_y, gt, db, mask)
    unfold(x, k, s, d, p, o, cols)
    for g in range(G):
        matmul(cols[g * CKg:(g + 1) * CKg], gt[g * Cog:(g + 1) * Cog].T, dwt[g])
        if input_grad:
            matmul(w[g].T, gt[g * Cog:(g + 1) * Cog], dcols[g * CKg:(g + 1) * CKg])
    if input_grad:
        fold(dcols, k, s, d, p, o, dx)


#: input channels from which a 3x3 convolution (stride 1, one group, a 2-d image) goes
#: through :mod:`.conv_winograd`: with fewer, its transforms cost more than the products
#: they save (the 3-conv net's first layer, 1 -> 16 channels: 0.45 ms forward unfolded,
#: 0.86 ms by Winograd, AMD EPYC)
WINOGRAD_MIN_CHANNELS = 8


@remembered
def _plan(x_shape, w_shape, stride, pads, dilation, groups, elements):
    """What a convolution derives from its shapes alone, computed once per shape and
    hyperparameters (at batch 1 this had cost a third of the third convolution of the
    3-conv net): output sizes, 3-d geometry, the padded grid of a stride-1 convolution,
    the blocks of samples (of the unfolded and the Winograd path, as lists and as a driver's
    rows; blocks of at most ``elements``, :data:`._blocks.BLOCK_ELEMENTS`) and the estimated
    work."""
    N, Ci = x_shape[:2]
    Co, k = w_shape[0], w_shape[2:]
    out = conv_output_shape(x_shape[2:], k, stride, pads, dilation)
    shape3, k3, s3, d3, p3, o3 = as_3d(x_shape, k, stride, dilation, pads, out)
    # plain tuples: passed by value, so the compiler keeps them in registers (arrays could alias)
    geometry = (tuple(k3), tuple(s3), tuple(d3), tuple(p0 for p0, _ in p3), tuple(o3))
    k3, s3, d3, p3, o3 = geometry
    CK, OUT = Ci * math.prod(k), math.prod(out)
    wide = all(v == 1 for v in s3)
    padded, Lw = stride1.grid_shapes(k3, d3, o3) if wide else (None, OUT)
    blocks = bounds(N, block_size(N, max(CK, Co) * Lw, elements))
    tiled = (winograd.applies(k3, s3, d3, groups, shape3[2]) and Ci >= WINOGRAD_MIN_CHANNELS)
    wblocks = bounds(N, block_size(N, 16 * max(Ci, Co) * math.prod(winograd.tiles(o3)), elements)) if tiled else None
    return SimpleNamespace(out=out, shape3=tuple(shape3), geometry=geometry, CK=CK, OUT=OUT, wide=wide,
                           padded=padded, Lw=Lw, blocks=blocks, rows=as_rows(blocks), tiled=tiled,
                           wblocks=wblocks, wrows=as_rows(wblocks) if tiled else None,
                           work=N * OUT * (CK + Co))                  # ~1 ns each


#: a sample's positions are split among threads in parts of at least this many
MIN_POSITIONS_PER_PART = 64


def conv_forward(x, w, b, stride, pads, dilation, groups):
    """As :func:`handgrad.functional.conv.conv_forward` (same arguments and results; the
    cache keeps the input instead of ``cols``)."""
    y, _, cache = _conv_forward(x, w, b, stride, pads, dilation, groups, relu=False)
    return y, cache


def conv_relu_forward(x, w, b, stride, pads, dilation, groups):
    """As :func:`handgrad.functional.conv_relu.conv_relu_forward`: the clamp and the mask
    written in the pass that moves the product samples-first."""
    return _conv_forward(x, w, b, stride, pads, dilation, groups, relu=True)


def conv_backward(grad_y, cache, input_grad=True):
    """As :func:`handgrad.functional.conv.conv_backward`."""
    return _conv_backward(grad_y, None, cache, input_grad)


def conv_relu_backward(grad_y, mask, cache, input_grad=True):
    """As :func:`handgrad.functional.conv_relu.conv_relu_backward`: the mask applied in the
    pass that moves ``grad_y`` channels-first."""
    return _conv_backward(grad_y, mask, cache, input_grad)


def _conv_forward(x, w, b, stride, pads, dilation, groups, relu):
    """``(y, mask, cache)``; ``mask`` (``y > 0``) is an empty array without ``relu``."""
    N, Ci = x.shape[:2]
    Co, G = w.shape[0], groups
    plan = _plan(x.shape, w.shape, stride, pads, dilation, groups, _blocks.BLOCK_ELEMENTS)
    k3, s3, d3, p3, o3 = plan.geometry
    CK, OUT, Lw, padded, work = plan.CK, plan.OUT, plan.Lw, plan.padded, plan.work
    x3 = np.ascontiguousarray(x).reshape(plan.shape3)
    wg = np.ascontiguousarray(w).reshape(G, Co // G, CK // G)
    y = np.empty((N, Co) + plan.out, x.dtype)
    y3 = y.reshape((N, Co) + o3)
    mask = np.empty(y.shape if relu else (0, Co) + plan.out, np.bool_)     # size 0: no ReLU
    m3 = mask.reshape((-1, Co) + o3)
    bias = b if b is not None else np.zeros(Co, x.dtype)
    blocks, rows = plan.blocks, plan.rows

    def block(i, lo, hi):
        n = hi - lo
        cols = scratch("conv.cols", (CK, n * Lw), x.dtype)
        yt = scratch("conv.yt", (Co, n * Lw), x.dtype)
        _forward_block(x3[lo:hi], wg, bias, k3, s3, d3, p3, o3, cols, yt,
                       y3[lo:hi].reshape(n, Co, OUT), m3[lo:hi].reshape(-1, Co, OUT))

    U, threads = None, threads_for(work)
    if plan.tiled and x.dtype == w.dtype and x.dtype in (np.float32, np.float64):
        # Winograd (:data:`WINOGRAD_MIN_CHANNELS`): blocks of samples, or with fewer samples
        # than threads, bands of each image's tile rows
        U = winograd.weight_transform(w.reshape(Co, Ci, 3, 3))
        blocks, rows = plan.wblocks, plan.wrows
        args = (x3.reshape(plan.shape3[:2] + plan.shape3[3:]), U, bias, p3[1:], y3.reshape((N, Co) + o3[1:]),
                m3.reshape((-1, Co) + o3[1:]))
        TH = winograd.tiles(o3)[0]
        parts = min(-(-threads // N), TH)
        if N >= threads or parts < 2:
            run_driver(winograd.forward_driver, (rows,) + args, len(blocks), work)
        else:
            edges = np.array([TH * q // parts for q in range(parts + 1)])
            run_driver(winograd.band_driver, (parts, edges) + args, N * parts, work)
    elif not plan.wide:
        run_blocks(block, blocks, work)
    elif N < threads <= N * Lw // MIN_POSITIONS_PER_PART:        # too few samples to share
        parts = -(-threads // N)
        edges = np.array([Lw * q // parts for q in range(parts + 1)])
        run_driver(stride1.columns_driver, (parts, edges, x3, wg, bias, k3, d3, p3, padded, y3, m3),
                   N * parts, work)
    else:
        run_driver(stride1.forward_driver, (rows, x3, wg, bias, k3, d3, p3, padded, Lw, y3, m3),
                   len(blocks), work)
    return y, mask, (x3, x.shape, w.shape, wg, b is not None, blocks, rows, plan.geometry, padded, Lw, U)


def _conv_backward(grad_y, mask, cache, input_grad):
    """``(dx, dw, db)``; ``mask`` None or the ReLU's mask to apply to ``grad_y`` first."""
    x3, x_shape, w_shape, wg, has_bias, blocks, rows, geometry, padded, Lw, U = cache
    k3, s3, d3, p3, o3 = geometry
    G, Cog, CKg = wg.shape
    Co, CK, OUT = G * Cog, G * CKg, math.prod(o3)
    g3 = np.ascontiguousarray(grad_y).reshape((x_shape[0], Co) + o3)
    m3 = np.empty((0, Co) + o3, np.bool_) if mask is None else mask.reshape(g3.shape)  # size 0: no ReLU
    dwt_parts = np.empty((len(blocks), G, CKg, Cog), grad_y.dtype)      # dW transposed, per block
    db_parts = np.empty((len(blocks), Co), grad_y.dtype)
    dx = np.empty(x_shape, grad_y.dtype) if input_grad else None
    dx3 = dx.reshape(x3.shape) if input_grad else np.empty((0,) * 5, grad_y.dtype)

    def block(i, lo, hi):
        n, dt = hi - lo, grad_y.dtype
        gt, cols = scratch("conv.gt", (Co, n * Lw), dt), scratch("conv.cols", (CK, n * Lw), dt)
        dcols = scratch("conv.dcols", (CK, n * Lw), dt)
        _backward_block(g3[lo:hi].reshape(n, Co, OUT), m3[lo:hi].reshape(-1, Co, OUT), x3[lo:hi],
                        wg, k3, s3, d3, p3, o3, gt, cols, dcols, dwt_parts[i], db_parts[i],
                        dx3[lo:hi] if input_grad else dx3, input_grad)

    work = x_shape[0] * OUT * (CK + Co) * 2
    if U is not None:
        N, Ci = x3.shape[:2]
        plane = (N, Ci) + x3.shape[3:]
        dU_parts = winograd.skewed((len(blocks),), (Co, Ci), grad_y.dtype)
        run_driver(winograd.backward_driver,
                   (rows, g3.reshape((N, Co) + o3[1:]), m3.reshape((-1, Co) + o3[1:]), x3.reshape(plane),
                    U, p3[1:], dU_parts, db_parts, dx3.reshape(plane if input_grad else (0, Ci) + plane[2:]),
                    input_grad), len(blocks), work)
        dw = winograd.weight_gradient(dU_parts, (Co, Ci)).reshape(w_shape)
        return dx, dw, db_parts.sum(axis=0) if has_bias else None
    if padded is None:
        run_blocks(block, blocks, work)
    else:
        run_driver(stride1.backward_driver, (rows, g3, m3, x3, wg, k3, d3, p3, padded, Lw,
                                             dwt_parts, db_parts, dx3, input_grad), len(blocks), work)
    dw = np.ascontiguousarray(dwt_parts.sum(axis=0).transpose(0, 2, 1)).reshape(w_shape)
    db = db_parts.sum(axis=0) if has_bias else None
    return dx, dw, db
