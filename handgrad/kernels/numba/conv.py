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
block order.
"""

import math

import numpy as np
from numba import uintp

from ...functional.conv import conv_output_shape
from ._blocks import block_size, bounds, run_blocks, scratch
from ._jit import kernel
from ._spans import span
from ._spatial import as_3d


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
def samples_first(yt, bias, y):
    """y[n, c, o] = yt[c, n*OUT + o] + bias[c]; yt (C, n*OUT), y (n, C, OUT)."""
    N, C, OUT = y.shape
    for n in range(N):
        for c in range(C):
            for o in range(OUT):
                y[n, c, o] = yt[c, n * OUT + o] + bias[c]


@kernel
def channels_first(g, gt, db):
    """gt[c, n*OUT + o] = g[n, c, o] and db[c] = sum of g[:, c, :]; g (n, C, OUT)."""
    N, C, OUT = g.shape
    db[:] = 0
    for n in range(N):
        for c in range(C):
            total = 0.0
            for o in range(OUT):
                v = g[n, c, o]
                gt[c, n * OUT + o] = v
                total += v
            db[c] += total


def _geometry(x_shape, k, stride, pads, dilation):
    out = conv_output_shape(x_shape[2:], k, stride, pads, dilation)
    shape3, k3, s3, d3, p3, o3 = as_3d(x_shape, k, stride, dilation, pads, out)
    p3 = tuple(p0 for p0, _ in p3)
    # plain tuples: passed by value, so the compiler keeps them in registers (arrays could alias)
    return out, shape3, tuple(k3), tuple(s3), tuple(d3), p3, tuple(o3)


def conv_forward(x, w, b, stride, pads, dilation, groups):
    """As :func:`handgrad.functional.conv.conv_forward` (same arguments and results; the
    cache keeps the input instead of ``cols``)."""
    N, Ci = x.shape[:2]
    Co, k, G = w.shape[0], w.shape[2:], groups
    out, shape3, k3, s3, d3, p3, o3 = _geometry(x.shape, k, stride, pads, dilation)
    CK, OUT = Ci * math.prod(k), math.prod(out)
    CKg, Cog = CK // G, Co // G
    x3 = np.ascontiguousarray(x).reshape(shape3)
    y = np.empty((N, Co) + out, x.dtype)
    y3 = y.reshape(N, Co, OUT)
    wg = w.reshape(G, Cog, CKg)
    bias = b if b is not None else np.zeros(Co, x.dtype)

    def block(i, lo, hi):
        cols = scratch("conv.cols", (CK, (hi - lo) * OUT), x.dtype)
        unfold(x3[lo:hi], k3, s3, d3, p3, o3, cols)
        yt = scratch("conv.yt", (Co, (hi - lo) * OUT), x.dtype)
        for g in range(G):
            np.matmul(wg[g], cols[g * CKg:(g + 1) * CKg], out=yt[g * Cog:(g + 1) * Cog])
        samples_first(yt, bias, y3[lo:hi])

    blocks = bounds(N, block_size(N, max(CK, Co) * OUT))
    run_blocks(block, blocks, N * OUT * (CK + Co))
    return y, (x3, x.shape, w, b is not None, blocks, G, stride, pads, dilation, out)


def conv_backward(grad_y, cache, input_grad=True):
    """As :func:`handgrad.functional.conv.conv_backward`."""
    x3, x_shape, w, has_bias, blocks, G, stride, pads, dilation, out = cache
    Co, k = w.shape[0], w.shape[2:]
    N, OUT, CK = x_shape[0], math.prod(out), w.shape[1] * G * math.prod(w.shape[2:])
    CKg, Cog = CK // G, Co // G
    _, shape3, k3, s3, d3, p3, o3 = _geometry(x_shape, k, stride, pads, dilation)
    g3 = np.ascontiguousarray(grad_y).reshape(N, Co, OUT)
    wg = w.reshape(G, Cog, CKg)
    dwt_parts = np.empty((len(blocks), G, CKg, Cog), grad_y.dtype)      # dW transposed, per block
    db_parts = np.empty((len(blocks), Co), grad_y.dtype)
    dx = np.empty(x_shape, grad_y.dtype) if input_grad else None
    dx3 = dx.reshape(shape3) if input_grad else None

    def block(i, lo, hi):
        gt = scratch("conv.gt", (Co, (hi - lo) * OUT), grad_y.dtype)
        channels_first(g3[lo:hi], gt, db_parts[i])
        cols = scratch("conv.cols", (CK, (hi - lo) * OUT), grad_y.dtype)
        unfold(x3[lo:hi], k3, s3, d3, p3, o3, cols)             # again: cheaper than keeping it
        for g in range(G):
            # dW^T = cols @ G^T: in this orientation OpenBLAS runs 1.3-1.8x faster than G @ cols^T
            np.matmul(cols[g * CKg:(g + 1) * CKg], gt[g * Cog:(g + 1) * Cog].T, out=dwt_parts[i, g])
        if input_grad:
            dcols = scratch("conv.dcols", (CK, (hi - lo) * OUT), grad_y.dtype)
            for g in range(G):
                np.matmul(wg[g].T, gt[g * Cog:(g + 1) * Cog], out=dcols[g * CKg:(g + 1) * CKg])
            fold(dcols, k3, s3, d3, p3, o3, dx3[lo:hi])

    run_blocks(block, blocks, N * OUT * (CK + Co) * 2)
    dw = np.ascontiguousarray(dwt_parts.sum(axis=0).transpose(0, 2, 1)).reshape(w.shape)
    db = db_parts.sum(axis=0) if has_bias else None
    return dx, dw, db
