"""Convolution with stride 1, Numba backend: the windows as contiguous runs of the padded
image (used by :mod:`.conv` for every convolution whose strides are all 1).

With stride 1 the windows of tap j, over every output position at once, are one contiguous
run of the flattened padded sample: output (a, b, e) reads padded position
(a + j0 d0, b + j1 d1, e + j2 d2), i.e. flat index ``a*Hp*Wp + b*Wp + e + off_j``. Indexing
the outputs on the padded grid ("wide": ``Lw = (O0-1)*Hp*Wp + (O1-1)*Wp + O2`` positions,
of which those with ``e >= O2`` or ``b >= O1`` are junk) makes every row of cols a single
copy, and fold a single run of additions. The product then also covers the junk positions:
forward drops them, backward gives them a zero gradient, so they add nothing to dW or dx.
"""

import numpy as np
from numba import uintp

from ._blocks import largest
from ._gemm import matmul
from ._jit import kernel
from ._spin import block_done, claim, finish, publish
from ._sums import run_sum


def grid_shapes(k3, d3, o3):
    """Padded sizes ``(Dp, Hp, Wp)`` and wide row length ``Lw`` of a stride-1 convolution."""
    Dp, Hp, Wp = (o + dd * (kk - 1) for o, kk, dd in zip(o3, k3, d3))
    return (Dp, Hp, Wp), ((o3[0] - 1) * Hp + o3[1] - 1) * Wp + o3[2]


@kernel
def pad_block(x, before, xp):
    """xp (n, C, Dp, Hp, Wp) = x (n, C, D, H, W) with zeros around it (``before`` in front)."""
    N, C, D, H, W = x.shape
    xp[:] = 0
    for n in range(N):
        for c in range(C):
            for a in range(D):
                for b in range(H):
                    src, dst = x[n, c, a, b], xp[n, c, a + before[0], b + before[1], before[2]:]
                    for e in range(W):
                        dst[e] = src[e]


@kernel
def crop_block(dxp, before, dx):
    """dx (n, C, D, H, W) = the interior of dxp (the inverse of :func:`pad_block`)."""
    N, C, D, H, W = dx.shape
    for n in range(N):
        for c in range(C):
            for a in range(D):
                for b in range(H):
                    src, dst = dxp[n, c, a + before[0], b + before[1], before[2]:], dx[n, c, a, b]
                    for e in range(W):
                        dst[e] = src[e]


@kernel
def unfold_wide(xp, k, d, Lw, cols):
    """cols[(c, j), n*Lw + t] = xp[n, c].flat[t + off_j], off_j = (j0 d0 Hp + j1 d1) Wp + j2 d2."""
    N, C, Dp, Hp, Wp = xp.shape
    K, L = k[0] * k[1] * k[2], cols.shape[1]
    xf, cf = xp.reshape(xp.size), cols.reshape(cols.size)
    for n in range(N):
        for c in range(C):
            plane = (n * C + c) * Dp * Hp * Wp
            for j in range(K):
                j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
                src = uintp(plane + (j0 * d[0] * Hp + j1 * d[1]) * Wp + j2 * d[2])
                dst = uintp((c * K + j) * L + n * Lw)
                for t in range(uintp(Lw)):
                    cf[dst + t] = xf[src + t]


@kernel
def fold_wide(dcols, k, d, Lw, dxp):
    """dxp[n, c].flat[t + off_j] += dcols[(c, j), n*Lw + t]: the adjoint of :func:`unfold_wide`."""
    N, C, Dp, Hp, Wp = dxp.shape
    K, L = k[0] * k[1] * k[2], dcols.shape[1]
    df, xf = dcols.reshape(dcols.size), dxp.reshape(dxp.size)
    xf[:] = 0
    for n in range(N):
        for c in range(C):
            plane = (n * C + c) * Dp * Hp * Wp
            for j in range(K):
                j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
                dst = uintp(plane + (j0 * d[0] * Hp + j1 * d[1]) * Wp + j2 * d[2])
                src = uintp((c * K + j) * L + n * Lw)
                for t in range(uintp(Lw)):
                    xf[dst + t] += df[src + t]


@kernel
def samples_first_wide(yt, bias, Lw, Hp, Wp, y, mask):
    """y[n, c, a, b, e] = yt[c, n*Lw + (a*Hp + b)*Wp + e] + bias[c] (the junk dropped); with
    a ``mask`` of y's shape (size 0: none), the ReLU of that too and ``mask = y > 0``.

    Each run along e is copied between two row views: this compiles to a plain vector
    loop, 2-4x faster than indexing both arrays in full at every step."""
    N, C, O0, O1, O2 = y.shape
    for n in range(N):
        for c in range(C):
            bc = bias[c]
            for a in range(O0):
                for b in range(O1):
                    at = n * Lw + (a * Hp + b) * Wp
                    src, dst = yt[c, at:at + O2], y[n, c, a, b]
                    if mask.size:
                        positive = mask[n, c, a, b]
                        for e in range(O2):
                            v = src[e] + bc
                            positive[e] = v > 0
                            dst[e] = 0 if v <= 0 else v
                    else:
                        for e in range(O2):
                            dst[e] = src[e] + bc


@kernel
def channels_first_wide(g, Lw, Hp, Wp, gt, db, mask):
    """gt[c, n*Lw + (a*Hp + b)*Wp + e] = g[n, c, a, b, e], 0 at the junk; db[c] = sum of
    g[:, c]. With a ``mask`` of g's shape (size 0: none), ``g`` is first taken where the
    mask is set and 0 elsewhere (the ReLU's backward)."""
    N, C, O0, O1, O2 = g.shape
    gt[:] = 0
    for n in range(N):
        for c in range(C):
            for a in range(O0):
                for b in range(O1):
                    at = n * Lw + (a * Hp + b) * Wp
                    src, dst = g[n, c, a, b], gt[c, at:at + O2]
                    if mask.size:
                        positive = mask[n, c, a, b]
                        for e in range(O2):
                            dst[e] = src[e] if positive[e] else 0
                    else:
                        for e in range(O2):
                            dst[e] = src[e]
    for c in range(C):
        db[c] = run_sum(gt[c])                                     # the junk adds zeros


@kernel
def forward_block(x, w, bias, k, d, before, xp, cols, yt, y, mask):
    """One block of samples (as :func:`.conv._forward_block`) on the padded grid; ``xp`` is
    ``x`` when there is no padding."""
    G, Cog, CKg = w.shape
    Dp, Hp, Wp = xp.shape[2:]
    O0, O1, O2 = y.shape[2:]
    Lw = ((O0 - 1) * Hp + O1 - 1) * Wp + O2
    if xp.shape[2:] != x.shape[2:]:
        pad_block(x, before, xp)
    unfold_wide(xp, k, d, Lw, cols)
    for g in range(G):
        matmul(w[g], cols[g * CKg:(g + 1) * CKg], yt[g * Cog:(g + 1) * Cog])
    samples_first_wide(yt, bias, Lw, Hp, Wp, y, mask)


@kernel
def backward_block(grad_y, mask, x, w, k, d, before, xp, gt, cols, dcols, dwt, db, dxp, dx, input_grad):
    """One block of samples (as :func:`.conv._backward_block`) on the padded grid."""
    G, Cog, CKg = w.shape
    Dp, Hp, Wp = xp.shape[2:]
    O0, O1, O2 = grad_y.shape[2:]
    Lw = ((O0 - 1) * Hp + O1 - 1) * Wp + O2
    channels_first_wide(grad_y, Lw, Hp, Wp, gt, db, mask)
    if xp.shape[2:] != x.shape[2:]:
        pad_block(x, before, xp)
    unfold_wide(xp, k, d, Lw, cols)
    for g in range(G):
        matmul(cols[g * CKg:(g + 1) * CKg], gt[g * Cog:(g + 1) * Cog].T, dwt[g])
        if input_grad:
            matmul(w[g].T, gt[g * Cog:(g + 1) * Cog], dcols[g * CKg:(g + 1) * CKg])
    if input_grad:
        fold_wide(dcols, k, d, Lw, dxp)
        if dxp.shape[2:] != dx.shape[2:]:
            crop_block(dxp, before, dx)


@kernel
def forward_columns(x, w, bias, k, d, before, xp, t0, t1, cols, yt, y, mask):
    """One sample's outputs at the padded-grid positions ``[t0, t1)``: a batch too small to
    split by samples (inference on one image) splits each sample's positions instead."""
    G, Cog, CKg = w.shape
    C, K = x.shape[1], k[0] * k[1] * k[2]
    Dp, Hp, Wp = xp.shape[2:]
    O0, O1, O2 = y.shape[2:]
    if xp.shape[2:] != x.shape[2:]:
        pad_block(x, before, xp)
    L = t1 - t0
    xf, cf = xp.reshape(xp.size), cols.reshape(cols.size)
    for c in range(C):
        for j in range(K):
            j0, j1, j2 = j // (k[1] * k[2]), (j // k[2]) % k[1], j % k[2]
            src = uintp(c * Dp * Hp * Wp + (j0 * d[0] * Hp + j1 * d[1]) * Wp + j2 * d[2] + t0)
            dst = uintp((c * K + j) * L)
            for t in range(uintp(L)):
                cf[dst + t] = xf[src + t]
    for g in range(G):
        matmul(w[g], cols[g * CKg:(g + 1) * CKg], yt[g * Cog:(g + 1) * Cog])
    for r in range(t0 // Wp, (t1 - 1) // Wp + 1):      # the grid rows r = a*Hp + b it covers
        a, b = r // Hp, r % Hp
        e0, e1 = max(0, t0 - r * Wp), min(O2, t1 - r * Wp)
        if a >= O0 or b >= O1 or e0 >= e1:
            continue
        for c in range(G * Cog):
            bc, src, dst = bias[c], yt[c, r * Wp + e0 - t0:r * Wp + e1 - t0], y[0, c, a, b, e0:e1]
            if mask.size:
                positive = mask[0, c, a, b, e0:e1]
                for e in range(e1 - e0):
                    v = src[e] + bc
                    positive[e] = v > 0
                    dst[e] = 0 if v <= 0 else v
            else:
                for e in range(e1 - e0):
                    dst[e] = src[e] + bc


@kernel
def forward_driver(ctl, epoch, main, tries, blocks, x, w, bias, k, d, before, padded, Lw, y, mask):
    """:func:`forward_block` over ``blocks`` (rows ``[lo, hi)``) as one thread of a team
    (:mod:`._team`); each thread's columns, product and padded block live in its own
    arrays, made once per call for the largest block."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co, CK = x.shape[1], w.shape[0] * w.shape[1], w.shape[0] * w.shape[2]
        most = largest(blocks)
        pad = padded != x.shape[2:]
        plane = padded[0] * padded[1] * padded[2]
        cols, yt = np.empty(CK * most * Lw, x.dtype), np.empty(Co * most * Lw, x.dtype)
        xp = np.empty(most * Ci * plane if pad else 0, x.dtype)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            n = hi - lo
            c, t = cols[:CK * n * Lw].reshape((CK, n * Lw)), yt[:Co * n * Lw].reshape((Co, n * Lw))
            if pad:
                forward_block(x[lo:hi], w, bias, k, d, before, xp[:n * Ci * plane].reshape((n, Ci) + padded),
                              c, t, y[lo:hi], mask[lo:hi])
            else:
                forward_block(x[lo:hi], w, bias, k, d, before, x[lo:hi], c, t, y[lo:hi], mask[lo:hi])
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def columns_driver(ctl, epoch, main, tries, parts, edges, x, w, bias, k, d, before, padded, y, mask):
    """:func:`forward_columns` for part ``i`` of each sample's positions (sample
    ``i // parts``, positions ``[edges[i % parts], edges[i % parts + 1])``), as one thread of a
    team."""
    if main:
        publish(ctl, epoch)
    count = x.shape[0] * parts
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co, CK = x.shape[1], w.shape[0] * w.shape[1], w.shape[0] * w.shape[2]
        most = 1
        for q in range(parts):
            most = max(most, edges[q + 1] - edges[q])
        plane = padded[0] * padded[1] * padded[2]
        pad = padded != x.shape[2:]
        cols, yt = np.empty(CK * most, x.dtype), np.empty(Co * most, x.dtype)
        xp = np.empty(Ci * plane if pad else 0, x.dtype)
        while i >= 0:
            n, t0, t1 = i // parts, edges[i % parts], edges[i % parts + 1]
            c, t = cols[:CK * (t1 - t0)].reshape((CK, t1 - t0)), yt[:Co * (t1 - t0)].reshape((Co, t1 - t0))
            if pad:
                forward_columns(x[n:n + 1], w, bias, k, d, before, xp.reshape((1, Ci) + padded),
                                t0, t1, c, t, y[n:n + 1], mask[n:n + 1])
            else:
                forward_columns(x[n:n + 1], w, bias, k, d, before, x[n:n + 1], t0, t1, c, t,
                                y[n:n + 1], mask[n:n + 1])
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def backward_driver(ctl, epoch, main, tries, blocks, grad_y, mask, x, w, k, d, before, padded, Lw,
                    dwt_parts, db_parts, dx, input_grad):
    """:func:`backward_block` over ``blocks`` as one thread of a team: block ``i`` writes
    its partial sums to ``dwt_parts[i]``, ``db_parts[i]``."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0:
        Ci, Co, CK = x.shape[1], w.shape[0] * w.shape[1], w.shape[0] * w.shape[2]
        most = largest(blocks)
        pad = padded != x.shape[2:]
        plane = padded[0] * padded[1] * padded[2]
        gt, cols = np.empty(Co * most * Lw, x.dtype), np.empty(CK * most * Lw, x.dtype)
        dcols = np.empty(CK * most * Lw if input_grad else 0, x.dtype)
        xp = np.empty(most * Ci * plane if pad else 0, x.dtype)
        dxp = np.empty(most * Ci * plane if pad and input_grad else 0, x.dtype)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            n = hi - lo
            g = gt[:Co * n * Lw].reshape((Co, n * Lw))
            c = cols[:CK * n * Lw].reshape((CK, n * Lw))
            dc = dcols[:CK * n * Lw].reshape((CK, n * Lw)) if input_grad else dcols.reshape((0, 0))
            dxb = dx[lo:hi] if input_grad else dx
            if pad:
                p5 = xp[:n * Ci * plane].reshape((n, Ci) + padded)
                q5 = (dxp[:n * Ci * plane] if input_grad else dxp).reshape((n if input_grad else 0, Ci) + padded)
                backward_block(grad_y[lo:hi], mask[lo:hi], x[lo:hi], w, k, d, before, p5, g, c, dc,
                               dwt_parts[i], db_parts[i], q5, dxb, input_grad)
            else:
                backward_block(grad_y[lo:hi], mask[lo:hi], x[lo:hi], w, k, d, before, x[lo:hi], g, c, dc,
                               dwt_parts[i], db_parts[i], dxb, dxb, input_grad)
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)
