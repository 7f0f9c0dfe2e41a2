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

from ...functional.pool_geometry import avg_divisor
from ._blocks import block_size, bounds, run_blocks
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
def _max_forward(k, s, p):
    """The fast max-pool forward kernel for one window geometry (3-tuples: kernel, stride,
    left padding), compiled with it as constants so that the tap loops unroll (a loop of
    two or three taps whose bounds are known only at run time costs several times the work
    in it), and with the comparisons written without branches (a branch on data is a coin
    toss for the CPU).

    ``forward(x, y, arg) -> holds_nan``: the results of :func:`_max_forward_exact` for
    inputs without NaN; whether a NaN was seen (the caller then runs the exact kernel).
    """
    (k0, k1, k2), (s0, s1, s2), (p0, p1, p2) = k, s, p

    @kernel
    def forward(x, y, arg):
        Q, D, H, W = x.shape
        O0, O1, O2 = y.shape[1:]
        nan = False
        for q in range(Q):
            for a in range(O0):
                for b in range(O1):
                    for e in range(O2):
                        f0, f1, f2 = a * s0 - p0, b * s1 - p1, e * s2 - p2    # first tap
                        best, where = -np.inf, -1
                        if f0 >= 0 and f1 >= 0 and f2 >= 0:
                            best, where = x[q, f0, f1, f2], (f0 * H + f1) * W + f2
                        for t0 in range(k0):
                            i0 = f0 + t0
                            if 0 <= i0 < D:
                                for t1 in range(k1):
                                    i1 = f1 + t1
                                    if 0 <= i1 < H:
                                        for t2 in range(k2):
                                            i2 = f2 + t2
                                            if 0 <= i2 < W:
                                                v = x[q, i0, i1, i2]
                                                nan |= v != v
                                                larger = np.int64(v > best)
                                                where += larger * ((i0 * H + i1) * W + i2 - where)
                                                best = max(best, v)
                        y[q, a, b, e] = best
                        arg[q, a, b, e] = where
        return nan
    return forward


@functools.lru_cache(maxsize=None)
def _max_forward_inside(k, s):
    """The max-pool forward kernel for square 2-d windows (``k``: ``(1, w, w)``) that all lie
    inside the input (no padding, no window hanging over the edge), compiled per geometry as
    :func:`_max_forward`, with the same results and the same NaN report. Each output row
    reads its ``w`` input rows through row views and keeps a window's maximum and its index
    in registers while it goes over the taps: 2.2-2.3x faster than :func:`_max_forward`
    (2x2 windows of a 64x64x24x24 batch: 1.63 -> 0.71 ms on one thread, AMD EPYC)."""
    (_, k1, k2), (_, s1, s2) = k, s

    @kernel
    def forward(x, y, arg):
        Q, D, H, W = x.shape
        O1, O2 = y.shape[2], y.shape[3]
        nan = False
        for q in range(Q):
            for b in range(O1):
                r0, r1 = x[q, 0, b * s1], x[q, 0, b * s1 + 1]
                r2 = x[q, 0, b * s1 + (2 if k1 > 2 else 1)]          # used only when k1 is 3
                yr, ar = y[q, 0, b], arg[q, 0, b]
                base = b * s1 * W
                for e in range(O2):
                    c = e * s2
                    best, w = r0[c], 0
                    nan |= best != best
                    for t1 in range(k1):
                        row = r0 if t1 == 0 else (r1 if t1 == 1 else r2)
                        for t2 in range(k2):
                            if t1 + t2 > 0:
                                v = row[c + t2]
                                nan |= v != v
                                larger = v > best
                                best = v if larger else best
                                w = t1 * W + t2 if larger else w
                    yr[e] = best
                    ar[e] = base + c + w
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


def max_pool_forward(x, geom):
    """As :func:`handgrad.functional.pooling.max_pool_forward` (the cache differs)."""
    planes, k, s, p, out3 = _planes(x.shape, geom)
    y = np.empty(x.shape[:2] + geom.out, x.dtype)
    arg = np.empty(y.shape, np.int32 if math.prod(planes[1:]) < 2**31 else np.int64)
    xq, yq, aq = np.ascontiguousarray(x).reshape(planes), y.reshape((planes[0],) + out3), \
        arg.reshape((planes[0],) + out3)
    fast = _max_forward(k, s, p) if (k, s, p) in COMMON else None
    inside = all(o and (o - 1) * st + kk <= n for o, st, kk, n in zip(out3, s, k, planes[1:]))
    if fast is not None and p == (0, 0, 0) and planes[1] == 1 and inside:
        fast = _max_forward_inside(k, s)

    def forward(lo, hi):
        if fast is None or fast(xq[lo:hi], yq[lo:hi], aq[lo:hi]):
            _max_forward_exact(xq[lo:hi], k, s, p, yq[lo:hi], aq[lo:hi])

    # ~0.8 ns per window tap
    _by_planes(forward, planes[0], math.prod(planes[1:]), y.size * math.prod(k) * 4 // 5)
    return y, (arg, x.shape)


def max_pool_backward(grad_y, cache):
    """As :func:`handgrad.functional.pooling.max_pool_backward`."""
    arg, x_shape = cache
    N, C = x_shape[:2]
    gx = np.empty(x_shape, grad_y.dtype)
    OUT, IN = math.prod(arg.shape[2:]), math.prod(x_shape[2:])
    gq = np.ascontiguousarray(grad_y).reshape(N * C, OUT)
    aq, xq = arg.reshape(N * C, OUT), gx.reshape(N * C, IN)
    _by_planes(lambda lo, hi: _max_backward(gq[lo:hi], aq[lo:hi], xq[lo:hi]), N * C, IN,
               gx.size // 5)                                               # ~0.2 ns per input
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
