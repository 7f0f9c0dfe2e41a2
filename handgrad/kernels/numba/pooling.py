"""Max and average pooling, Numba backend: one loop over each window, run one block of
``N*C`` planes at a time (:mod:`._blocks`; each plane's windows and its gradient belong to
one block: no races).

Same results as handgrad/functional/pooling.py. The max-pool cache is the flat index of
each window's first maximum inside its input plane (-1 when that maximum lies in the
padding, whose gradient is dropped), so backward is one scatter-add per plane.
"""

import functools
import math

import numpy as np
from numba import njit

from ..._memo import remembered
from ...functional.pool_geometry import avg_divisor
from . import _blocks
from ._blocks import as_rows, block_size, bounds, run_blocks, run_rows
from ._jit import kernel
from ._spatial import as_3d


@kernel
def _max_forward_exact(x, k, s, p, y, arg):
    """y[q, o] = max over window o of plane q of x (Q, D, H, W); arg = its flat index.

    The scan visits the window's samples inside the input in row-major order and keeps
    the first maximum (the first NaN), as np.argmax does over the ``-inf``-padded window.
    A window whose maximum is ``-inf`` and whose first tap is padding keeps that tap:
    ``arg = -1``. Any geometry; the fast kernels below fall back to it for blocks holding
    a NaN.
    """
    Q, D, H, W = x.shape
    O0, O1, O2 = y.shape[1:]
    for q in range(Q):
        for a in range(O0):
            f0 = a * s[0] - p[0]
            for b in range(O1):
                f1 = b * s[1] - p[1]
                for e in range(O2):
                    f2 = e * s[2] - p[2]
                    best, where = -np.inf, -1
                    if f0 >= 0 and f1 >= 0 and f2 >= 0:
                        best, where = x[q, f0, f1, f2], (f0 * H + f1) * W + f2
                    for i0 in range(max(f0, 0), min(f0 + k[0], D)):
                        for i1 in range(max(f1, 0), min(f1 + k[1], H)):
                            for i2 in range(max(f2, 0), min(f2 + k[2], W)):
                                v = x[q, i0, i1, i2]
                                if best == best and not v <= best:   # larger, or the first NaN
                                    best, where = v, (i0 * H + i1) * W + i2
                    y[q, a, b, e] = best
                    arg[q, a, b, e] = where


#: window geometries (3-d kernel, stride, left padding) with a kernel of their own: square
#: 2-d windows of 2 or 3, stride 1, 2 or 3, padding 0 or 1 (compiling one takes about a
#: second the first time on a machine; any other geometry runs the exact kernel)
COMMON = frozenset(((1, w, w), (1, t, t), (0, q, q)) for w in (2, 3) for t in (1, 2, 3) for q in (0, 1)
                   if q <= w // 2)


@functools.lru_cache(maxsize=None)
def _interior(k1, k2, s2, p2):
    """One output row's windows ``[e_lo, e_hi)`` that lie inside the input, for ``k1 x k2``
    windows of 2 or 3 taps (stride ``s2`` and left padding ``p2`` along the row), from the
    input rows ``r0, r1, r2`` through row views: every tap written out, its value loaded
    before the comparisons, the maximum and its offset kept in registers."""

    @njit(cache=True, inline="always")
    def interior(r0, r1, r2, yr, ar, e_lo, e_hi, base, W):
        nan = False
        for e in range(e_lo, e_hi):
            c = e * s2 - p2
            v00, v01, v10, v11 = r0[c], r0[c + 1], r1[c], r1[c + 1]
            best, w = v00, 0
            nan |= (v00 != v00) | (v01 != v01) | (v10 != v10) | (v11 != v11)
            if k2 == 3:
                v02, v12 = r0[c + 2], r1[c + 2]
                nan |= (v02 != v02) | (v12 != v12)
            if k1 == 3:
                v20, v21 = r2[c], r2[c + 1]
                nan |= (v20 != v20) | (v21 != v21)
            t = v01 > best
            best, w = (v01, 1) if t else (best, w)
            if k2 == 3:
                t = v02 > best
                best, w = (v02, 2) if t else (best, w)
            t = v10 > best
            best, w = (v10, W) if t else (best, w)
            t = v11 > best
            best, w = (v11, W + 1) if t else (best, w)
            if k2 == 3:
                t = v12 > best
                best, w = (v12, W + 2) if t else (best, w)
            if k1 == 3:
                t = v20 > best
                best, w = (v20, 2 * W) if t else (best, w)
                t = v21 > best
                best, w = (v21, 2 * W + 1) if t else (best, w)
                if k2 == 3:
                    v22 = r2[c + 2]
                    nan |= v22 != v22
                    t = v22 > best
                    best, w = (v22, 2 * W + 2) if t else (best, w)
            yr[e] = best
            ar[e] = base + e * s2 + w
        return nan
    return interior


@functools.lru_cache(maxsize=None)
def _max_forward(k, s, p):
    """The fast max-pool forward kernel for one window geometry of :data:`COMMON` (3-tuples:
    kernel, stride, left padding; the windows are ``(1, w, w)``, so tap row ``i0`` is output
    row ``a``), compiled with it as constants so that the tap loops unroll (a loop of two or
    three taps whose bounds are known only at run time costs several times the work in it),
    with the comparisons written without branches (a branch on data is a coin toss for the
    CPU).

    Each plane is first copied into a buffer with a border of -inf as wide as the padding
    (and the last windows' overhang), so that every window, the border's too, goes through
    :func:`_interior`, whose offsets still count in the unpadded plane. The border had kept
    a loop that checked every tap against the input's bounds, about ten times slower per
    window: the 3-conv net's 3x3/2 windows with padding 1 on a 64x16x28x28 batch spent half
    their time on the 14% of windows that touch the border. A -inf in the input would tie
    with the border's: it is reported like a NaN. A geometry without any border uses
    :func:`_max_forward_inside` instead.

    ``forward(x, y, arg) -> holds_nan``: the results of :func:`_max_forward_exact` for
    inputs without NaN or -inf; whether one was seen (the caller then runs the exact kernel).
    """
    (_, k1, k2), (_, s1, s2), (_, p1, p2) = k, s, p              # k0 = s0 = 1, p0 = 0

    @kernel
    def forward(x, y, arg):
        Q, D, H, W = x.shape
        O0, O1, O2 = y.shape[1:]
        rows, cols = max((O1 - 1) * s1 + k1, p1 + H), max((O2 - 1) * s2 + k2, p2 + W)
        padded = np.full((rows, cols), -np.inf, x.dtype)          # its border stays -inf
        nan = False
        for q in range(Q):
            for a in range(O0):
                for i in range(H):
                    src, dst = x[q, a, i], padded[p1 + i, p2:]
                    for j in range(W):
                        v = src[j]
                        nan |= (v != v) | (v == -np.inf)
                        dst[j] = v
                for b in range(O1):
                    f = b * s1                                        # first row, in the buffer
                    r2 = padded[f + (2 if k1 > 2 else 1)]             # used only when k1 is 3
                    interior(padded[f], padded[f + 1], r2, y[q, a, b], arg[q, a, b], 0, O2,
                             (a * H + f - p1) * W - p2, W)
        return nan

    interior = _interior(k1, k2, s2, 0)
    return forward


@functools.lru_cache(maxsize=None)
def _max_forward_inside(k, s):
    """The max-pool forward kernel for square 2-d windows (``k``: ``(1, w, w)``) that all lie
    inside the input (no padding, no window hanging over the edge): every row through
    :func:`_interior`, with the results and the NaN report of :func:`_max_forward`. 2.2-2.3x
    faster than the bounds-checked loop (2x2 windows of a 64x64x24x24 batch: 1.63 -> 0.71 ms
    on one thread, AMD EPYC), and faster than :func:`_max_forward`, whose row loop also
    carries the border."""
    (_, k1, k2), (_, s1, s2) = k, s
    interior = _interior(k1, k2, s2, 0)

    @kernel
    def forward(x, y, arg):
        Q, D, H, W = x.shape
        O1, O2 = y.shape[2], y.shape[3]
        nan = False
        for q in range(Q):
            for b in range(O1):
                r2 = x[q, 0, b * s1 + (2 if k1 > 2 else 1)]          # used only when k1 is 3
                nan |= interior(x[q, 0, b * s1], x[q, 0, b * s1 + 1], r2, y[q, 0, b], arg[q, 0, b],
                                0, O2, b * s1 * W, W)
        return nan
    return forward


@kernel
def _max_backward(g, arg, gx):
    """gx[q, arg[q, o]] += g[q, o] for every window o with its maximum inside the input."""
    Q, OUT = g.shape
    gx[:] = 0
    for q in range(Q):
        for o in range(OUT):
            i = arg[q, o]
            if i >= 0:
                gx[q, i] += g[q, o]


@kernel
def _avg_forward(x, k, s, p, divisor, y):
    """y[q, o] = (sum of window o of plane q, zeros outside the input) / divisor[o]."""
    Q, D, H, W = x.shape
    O0, O1, O2 = y.shape[1:]
    for q in range(Q):
        for a in range(O0):
            f0 = a * s[0] - p[0]
            for b in range(O1):
                f1 = b * s[1] - p[1]
                for e in range(O2):
                    f2 = e * s[2] - p[2]
                    total = 0.0
                    for i0 in range(max(f0, 0), min(f0 + k[0], D)):
                        for i1 in range(max(f1, 0), min(f1 + k[1], H)):
                            for i2 in range(max(f2, 0), min(f2 + k[2], W)):
                                total += x[q, i0, i1, i2]
                    y[q, a, b, e] = total / divisor[a, b, e]


@kernel
def _avg_backward(g, k, s, p, divisor, gx):
    """gx[q, i] = sum over the windows o that hold i of g[q, o] / divisor[o]."""
    Q, D, H, W = gx.shape
    O0, O1, O2 = g.shape[1:]
    gx[:] = 0
    for q in range(Q):
        for a in range(O0):
            f0 = a * s[0] - p[0]
            for b in range(O1):
                f1 = b * s[1] - p[1]
                for e in range(O2):
                    f2 = e * s[2] - p[2]
                    share = g[q, a, b, e] / divisor[a, b, e]
                    for i0 in range(max(f0, 0), min(f0 + k[0], D)):
                        for i1 in range(max(f1, 0), min(f1 + k[1], H)):
                            for i2 in range(max(f2, 0), min(f2 + k[2], W)):
                                gx[q, i0, i1, i2] += share


def _planes(x_shape, geom):
    """``(N*C, D, H, W)`` plane shape, and kernel, stride, left padding and output as 3-tuples."""
    shape3, k, s, pads, out = as_3d(x_shape, geom.kernel, geom.stride, geom.pads, geom.out)
    N, C = x_shape[:2]
    # plain tuples: passed by value, so the compiler keeps them in registers (arrays could alias)
    return (N * C,) + shape3[2:], tuple(k), tuple(s), tuple(p0 for p0, _ in pads), tuple(out)


def _by_planes(fn, planes, per_plane, work):
    """Run ``fn(lo, hi)`` over blocks of the ``planes`` planes (``per_plane`` elements each);
    ``work``: the estimated serial time in ns (:func:`._blocks.run_blocks`)."""
    run_blocks(lambda i, lo, hi: fn(lo, hi), bounds(planes, block_size(planes, per_plane)), work)


@remembered
def _max_plan(x_shape, geom, elements):
    """What :func:`max_pool_forward` derives from the shapes alone (computed once per input
    shape and geometry: at batch 1 this had cost as much as the pooling itself): the plane
    shape, the 3-d geometry, the kernel, the blocks (as a list and as a driver's rows), the
    estimated work and the dtype of the argmax (blocks of at most ``elements``,
    :data:`._blocks.BLOCK_ELEMENTS`)."""
    planes, k, s, p, out3 = _planes(x_shape, geom)
    fast = _max_forward(k, s, p) if (k, s, p) in COMMON else None
    inside = all(o and (o - 1) * st + kk <= n for o, st, kk, n in zip(out3, s, k, planes[1:]))
    if fast is not None and p == (0, 0, 0) and planes[1] == 1 and inside:
        fast = _max_forward_inside(k, s)                  # no border at all: faster still
    blocks = bounds(planes[0], block_size(planes[0], math.prod(planes[1:]), elements))
    rows = as_rows(blocks)
    work = planes[0] * math.prod(out3) * math.prod(k) * 4 // 5         # ~0.8 ns per window tap
    arg_dtype = np.int32 if math.prod(planes[1:]) < 2**31 else np.int64
    return planes, k, s, p, (planes[0],) + out3, fast, blocks, rows, work, arg_dtype


def max_pool_forward(x, geom):
    """As :func:`handgrad.functional.pooling.max_pool_forward` (the cache differs)."""
    planes, k, s, p, yq_shape, fast, blocks, rows, work, arg_dtype = _max_plan(x.shape, geom, _blocks.BLOCK_ELEMENTS)
    y = np.empty(x.shape[:2] + geom.out, x.dtype)
    arg = np.empty(y.shape, arg_dtype)
    xq, yq, aq = np.ascontiguousarray(x).reshape(planes), y.reshape(yq_shape), arg.reshape(yq_shape)
    if fast is None:
        run_blocks(lambda i, lo, hi: _max_forward_exact(xq[lo:hi], k, s, p, yq[lo:hi], aq[lo:hi]),
                   blocks, work)
    else:
        for i in run_rows(fast, xq, yq, aq, blocks, work, reports=True, rows=rows):
            lo, hi = blocks[i]                                    # NaN seen: the exact kernel
            _max_forward_exact(xq[lo:hi], k, s, p, yq[lo:hi], aq[lo:hi])
    return y, (arg, x.shape)


def max_pool_backward(grad_y, cache):
    """As :func:`handgrad.functional.pooling.max_pool_backward`."""
    arg, x_shape = cache
    N, C = x_shape[:2]
    gx = np.empty(x_shape, grad_y.dtype)
    OUT, IN = math.prod(arg.shape[2:]), math.prod(x_shape[2:])
    gq = np.ascontiguousarray(grad_y).reshape(N * C, OUT)
    aq, xq = arg.reshape(N * C, OUT), gx.reshape(N * C, IN)
    run_rows(_max_backward, gq, aq, xq, bounds(N * C, block_size(N * C, IN)),
             gx.size // 5)                                                 # ~0.2 ns per input
    return gx


def avg_pool_forward(x, geom, count_include_pad=True, divisor_override=None):
    """As :func:`handgrad.functional.pooling.avg_pool_forward` (the cache differs)."""
    planes, k, s, p, out3 = _planes(x.shape, geom)
    divisor = np.broadcast_to(np.asarray(avg_divisor(geom, count_include_pad, divisor_override),
                                         x.dtype), geom.out).reshape(out3)
    divisor = np.ascontiguousarray(divisor)
    y = np.empty(x.shape[:2] + geom.out, x.dtype)
    xq, yq = np.ascontiguousarray(x).reshape(planes), y.reshape((planes[0],) + out3)
    _by_planes(lambda lo, hi: _avg_forward(xq[lo:hi], k, s, p, divisor, yq[lo:hi]),
               planes[0], math.prod(planes[1:]), y.size * math.prod(k) * 2)    # generic loop
    return y, (divisor, x.shape, geom)


def avg_pool_backward(grad_y, cache):
    """As :func:`handgrad.functional.pooling.avg_pool_backward`."""
    divisor, x_shape, geom = cache
    planes, k, s, p, out3 = _planes(x_shape, geom)
    gx = np.empty(x_shape, grad_y.dtype)
    gq, xq = np.ascontiguousarray(grad_y).reshape((planes[0],) + out3), gx.reshape(planes)
    _by_planes(lambda lo, hi: _avg_backward(gq[lo:hi], k, s, p, divisor, xq[lo:hi]),
               planes[0], math.prod(planes[1:]), grad_y.size * math.prod(k) * 2)
    return gx
