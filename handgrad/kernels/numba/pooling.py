"""Max and average pooling, Numba backend: one loop over each window, parallel over the
``N*C`` planes (each plane's windows and its gradient belong to one thread: no races).

Same results as handgrad/functional/pooling.py. The max-pool cache is the flat index of
each window's first maximum inside its input plane (-1 when that maximum lies in the
padding, whose gradient is dropped), so backward is one scatter-add per plane.
"""

import math

import numpy as np
from numba import prange

from ...functional.pool_geometry import avg_divisor
from ._jit import kernel
from ._spatial import as_3d


@kernel
def _max_forward(x, k, s, p, y, arg):
    """y[q, o] = max over window o of plane q of x (N*C, D, H, W); arg = its flat index.

    The scan visits the window's samples inside the input in row-major order and keeps
    the first maximum (the first NaN), as np.argmax does over the ``-inf``-padded window.
    A window whose maximum is ``-inf`` and whose first tap is padding keeps that tap:
    ``arg = -1``.
    """
    Q, D, H, W = x.shape
    O0, O1, O2 = y.shape[1:]
    for q in prange(Q):
        plane = x[q]
        for a in range(O0):
            s0 = a * s[0] - p[0]
            lo0, hi0 = max(s0, 0), min(s0 + k[0], D)
            for b in range(O1):
                s1 = b * s[1] - p[1]
                lo1, hi1 = max(s1, 0), min(s1 + k[1], H)
                for e in range(O2):
                    s2 = e * s[2] - p[2]
                    lo2, hi2 = max(s2, 0), min(s2 + k[2], W)
                    best = plane[lo0, lo1, lo2]
                    where = (lo0 * H + lo1) * W + lo2
                    for i0 in range(lo0, hi0):
                        for i1 in range(lo1, hi1):
                            line = plane[i0, i1]
                            for i2 in range(lo2, hi2):
                                v = line[i2]
                                if v > best or (v != v and best == best):
                                    best = v
                                    where = (i0 * H + i1) * W + i2
                    if best == -np.inf and (s0 < 0 or s1 < 0 or s2 < 0):
                        where = -1                       # np.argmax's first tap: the padding
                    y[q, a, b, e] = best
                    arg[q, a, b, e] = where


@kernel
def _max_backward(g, arg, gx):
    """gx[q, arg[q, o]] += g[q, o] for every window o with its maximum inside the input."""
    Q, OUT = g.shape
    for q in prange(Q):
        gx[q, :] = 0
        for o in range(OUT):
            i = arg[q, o]
            if i >= 0:
                gx[q, i] += g[q, o]


@kernel
def _avg_forward(x, k, s, p, divisor, y):
    """y[q, o] = (sum of window o of plane q, zeros outside the input) / divisor[o]."""
    Q, D, H, W = x.shape
    O0, O1, O2 = y.shape[1:]
    for q in prange(Q):
        for a in range(O0):
            for b in range(O1):
                for e in range(O2):
                    total = 0.0
                    for i0 in range(max(a * s[0] - p[0], 0), min(a * s[0] - p[0] + k[0], D)):
                        for i1 in range(max(b * s[1] - p[1], 0), min(b * s[1] - p[1] + k[1], H)):
                            for i2 in range(max(e * s[2] - p[2], 0), min(e * s[2] - p[2] + k[2], W)):
                                total += x[q, i0, i1, i2]
                    y[q, a, b, e] = total / divisor[a, b, e]


@kernel
def _avg_backward(g, k, s, p, divisor, gx):
    """gx[q, i] = sum over the windows o that hold i of g[q, o] / divisor[o]."""
    Q, D, H, W = gx.shape
    O0, O1, O2 = g.shape[1:]
    for q in prange(Q):
        gx[q] = 0
        for a in range(O0):
            for b in range(O1):
                for e in range(O2):
                    share = g[q, a, b, e] / divisor[a, b, e]
                    for i0 in range(max(a * s[0] - p[0], 0), min(a * s[0] - p[0] + k[0], D)):
                        for i1 in range(max(b * s[1] - p[1], 0), min(b * s[1] - p[1] + k[1], H)):
                            for i2 in range(max(e * s[2] - p[2], 0), min(e * s[2] - p[2] + k[2], W)):
                                gx[q, i0, i1, i2] += share


def _planes(x_shape, geom):
    """``(N*C, D, H, W)`` plane shape, and kernel, stride, left padding and output as 3-tuples."""
    shape3, k, s, pads, out = as_3d(x_shape, geom.kernel, geom.stride, geom.pads, geom.out)
    N, C = x_shape[:2]
    # plain tuples: passed by value, so the compiler keeps them in registers (arrays could alias)
    return (N * C,) + shape3[2:], tuple(k), tuple(s), tuple(p0 for p0, _ in pads), out


def max_pool_forward(x, geom):
    """As :func:`handgrad.functional.pooling.max_pool_forward` (the cache differs)."""
    planes, k, s, p, out3 = _planes(x.shape, geom)
    y = np.empty(x.shape[:2] + geom.out, x.dtype)
    arg = np.empty(y.shape, np.int32 if planes[1] * planes[2] * planes[3] < 2**31 else np.int64)
    _max_forward(np.ascontiguousarray(x).reshape(planes), k, s, p,
                 y.reshape((planes[0],) + out3), arg.reshape((planes[0],) + out3))
    return y, (arg, x.shape)


def max_pool_backward(grad_y, cache):
    """As :func:`handgrad.functional.pooling.max_pool_backward`."""
    arg, x_shape = cache
    N, C = x_shape[:2]
    gx = np.empty(x_shape, grad_y.dtype)
    OUT, IN = math.prod(arg.shape[2:]), math.prod(x_shape[2:])
    _max_backward(np.ascontiguousarray(grad_y).reshape(N * C, OUT), arg.reshape(N * C, OUT),
                  gx.reshape(N * C, IN))
    return gx


def avg_pool_forward(x, geom, count_include_pad=True, divisor_override=None):
    """As :func:`handgrad.functional.pooling.avg_pool_forward` (the cache differs)."""
    planes, k, s, p, out3 = _planes(x.shape, geom)
    divisor = np.broadcast_to(np.asarray(avg_divisor(geom, count_include_pad, divisor_override),
                                         x.dtype), geom.out).reshape(out3)
    y = np.empty(x.shape[:2] + geom.out, x.dtype)
    _avg_forward(np.ascontiguousarray(x).reshape(planes), k, s, p, np.ascontiguousarray(divisor),
                 y.reshape((planes[0],) + out3))
    return y, (divisor, x.shape, geom)


def avg_pool_backward(grad_y, cache):
    """As :func:`handgrad.functional.pooling.avg_pool_backward`."""
    divisor, x_shape, geom = cache
    planes, k, s, p, out3 = _planes(x_shape, geom)
    gx = np.empty(x_shape, grad_y.dtype)
    _avg_backward(np.ascontiguousarray(grad_y).reshape((planes[0],) + out3), k, s, p,
                  np.ascontiguousarray(divisor), gx.reshape(planes))
    return gx
