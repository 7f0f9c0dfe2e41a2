"""Convolution, Numba backend: the reference's products (BLAS, split over threads by
handgrad.kernels.numba.gemm), with the memory-bound work around them as loop kernels,
parallel over rows or samples.

Same math and same layouts as handgrad/functional/conv.py: ``cols (C*K, N*OUT)``,
``Y = W @ cols``, ``dW = G @ cols.T``, ``dcols = W.T @ G``. The kernels replace

- unfolding (im2col), read straight from the unpadded input (no padded copy);
- the transpose of ``Y (C_out, N*OUT)`` into ``y (N, C_out, *O)``, bias added in the same pass;
- the transpose of ``dL/dy`` into ``G (C_out, N*OUT)``, the bias gradient summed in the same pass;
- folding (col2im), written straight into dL/dx (no padded buffer, no zero pass over it).
"""

import math

import numpy as np
from numba import njit, prange

from ...functional.conv import conv_output_shape
from ._jit import kernel
from .gemm import matmul, matmul_nt
from ._spatial import as_3d


@njit(cache=True, inline="always")
def _span(n, o, s, j, d, p):
    """The output range ``[lo, hi)`` along one dimension whose input sample ``o*s + j*d - p``
    lies inside ``[0, n)``."""
    first = j * d - p                          # input index of output 0
    lo = 0 if first >= 0 else (-first + s - 1) // s
    hi = 0 if first >= n else (n - 1 - first) // s + 1
    return min(lo, o), min(max(hi, 0), o)


@kernel
def unfold(x, k, s, d, p, o, cols):
    """cols[(c, j), (n, o)] = x[n, c, o*s + j*d - p] (0 outside the input); x (N, C, D, H, W)."""
    N, C, D, H, W = x.shape
    K = k[0] * k[1] * k[2]
    OUT = o[0] * o[1] * o[2]
    for r in prange(C * K):
        c, j = r // K, r % K
        j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
        lo, hi = _span(W, o[2], s[2], j2, d[2], p[2])
        shift = j2 * d[2] - p[2]
        row = cols[r]
        for n in range(N):
            plane = x[n, c]
            for a in range(o[0]):
                i0 = a * s[0] + j0 * d[0] - p[0]
                for b in range(o[1]):
                    i1 = b * s[1] + j1 * d[1] - p[1]
                    at = n * OUT + (a * o[1] + b) * o[2]
                    if i0 < 0 or i0 >= D or i1 < 0 or i1 >= H:
                        for e in range(o[2]):
                            row[at + e] = 0
                        continue
                    line = plane[i0, i1]
                    for e in range(lo):
                        row[at + e] = 0
                    if s[2] == 1:                                  # a contiguous run: a copy
                        row[at + lo:at + hi] = line[lo + shift:hi + shift]
                    else:
                        for e in range(lo, hi):
                            row[at + e] = line[e * s[2] + shift]
                    for e in range(hi, o[2]):
                        row[at + e] = 0


@kernel
def fold(dcols, k, s, d, p, o, dx):
    """dx[n, c, i] = sum of dcols[(c, j), (n, o)] over (j, o) with o*s + j*d - p = i."""
    N, C, D, H, W = dx.shape
    K = k[0] * k[1] * k[2]
    OUT = o[0] * o[1] * o[2]
    for q in prange(N * C):
        n, c = q // C, q % C
        plane = dx[n, c]
        plane[:] = 0
        for j in range(K):
            row = dcols[c * K + j]
            j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
            lo, hi = _span(W, o[2], s[2], j2, d[2], p[2])
            shift = j2 * d[2] - p[2]
            for a in range(o[0]):
                i0 = a * s[0] + j0 * d[0] - p[0]
                if i0 < 0 or i0 >= D:
                    continue
                for b in range(o[1]):
                    i1 = b * s[1] + j1 * d[1] - p[1]
                    if i1 < 0 or i1 >= H:
                        continue
                    at = n * OUT + (a * o[1] + b) * o[2]
                    line = plane[i0, i1]
                    if s[2] == 1:                                  # a contiguous run
                        line[lo + shift:hi + shift] += row[at + lo:at + hi]
                    else:
                        for e in range(lo, hi):
                            line[e * s[2] + shift] += row[at + e]


@kernel
def samples_first(yt, bias, y):
    """y[n, c, o] = yt[c, n*OUT + o] + bias[c]; yt (C, N*OUT), y (N, C, OUT)."""
    N, C, OUT = y.shape
    for q in prange(N * C):
        n, c = q // C, q % C
        y[n, c, :] = yt[c, n * OUT:(n + 1) * OUT] + bias[c]


@kernel
def channels_first(g, gt, db):
    """gt[c, n*OUT + o] = g[n, c, o] and db[c] = sum of g[:, c, :]; g (N, C, OUT)."""
    N, C, OUT = g.shape
    for c in prange(C):
        total = 0.0
        for n in range(N):
            for o in range(OUT):
                v = g[n, c, o]
                gt[c, n * OUT + o] = v
                total += v
        db[c] = total


def _geometry(x_shape, k, stride, pads, dilation):
    out = conv_output_shape(x_shape[2:], k, stride, pads, dilation)
    shape3, k3, s3, d3, p3, o3 = as_3d(x_shape, k, stride, dilation, pads, out)
    p3 = tuple(p0 for p0, _ in p3)
    # plain tuples: passed by value, so the compiler keeps them in registers (arrays could alias)
    return out, shape3, tuple(k3), tuple(s3), tuple(d3), p3, tuple(o3)


def conv_forward(x, w, b, stride, pads, dilation, groups):
    """As :func:`handgrad.functional.conv.conv_forward` (same arguments and results)."""
    N, Ci = x.shape[:2]
    Co, k, G = w.shape[0], w.shape[2:], groups
    out, shape3, k3, s3, d3, p3, o3 = _geometry(x.shape, k, stride, pads, dilation)
    CK, OUT = Ci * math.prod(k), math.prod(out)
    cols = np.empty((CK, N * OUT), x.dtype)
    unfold(x.reshape(shape3), k3, s3, d3, p3, o3, cols)
    cols = cols.reshape(G, CK // G, N * OUT)                           # (G, Ci/G*K, N*OUT)
    yt = matmul(w.reshape(G, Co // G, CK // G), cols, np.empty((G, Co // G, N * OUT), x.dtype))
    y = np.empty((N, Co) + out, x.dtype)
    bias = b if b is not None else np.zeros(Co, x.dtype)
    samples_first(yt.reshape(Co, N * OUT), bias, y.reshape(N, Co, OUT))
    return y, (x.shape, w, b is not None, cols, stride, pads, dilation, out)


def conv_backward(grad_y, cache, input_grad=True):
    """As :func:`handgrad.functional.conv.conv_backward`."""
    x_shape, w, has_bias, cols, stride, pads, dilation, out = cache
    Co, k, G = w.shape[0], w.shape[2:], cols.shape[0]
    N, OUT, CKg = x_shape[0], math.prod(out), cols.shape[1]
    g = np.ascontiguousarray(grad_y).reshape(N, Co, OUT)
    gt = np.empty((Co, N * OUT), grad_y.dtype)
    db = np.empty(Co, grad_y.dtype)
    channels_first(g, gt, db)
    gt = gt.reshape(G, Co // G, N * OUT)
    dw = matmul_nt(gt, cols, np.empty((G, Co // G, CKg), grad_y.dtype))
    dw = dw.reshape(w.shape)
    if not input_grad:
        return None, dw, db if has_bias else None
    dcols = matmul(w.reshape(G, Co // G, CKg).transpose(0, 2, 1), gt,
                    np.empty((G, CKg, N * OUT), grad_y.dtype))
    _, shape3, k3, s3, d3, p3, o3 = _geometry(x_shape, k, stride, pads, dilation)
    dx = np.empty(x_shape, grad_y.dtype)
    fold(dcols.reshape(G * CKg, N * OUT), k3, s3, d3, p3, o3, dx.reshape(shape3))
    return dx, dw, db if has_bias else None
