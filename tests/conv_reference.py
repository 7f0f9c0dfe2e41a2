"""A slow, obviously-correct convolution: explicit loops over samples, output channels and
output positions. Used only by the tests as the reference for the fast im2col layer."""

import itertools

import numpy as np


def _window(xp, n, chans, o, stride, dilation, kernel):
    """xp[n, chans, o*s + d*j for every tap j] as a (len(chans), *k) array view."""
    idx = tuple(slice(oi * s, oi * s + d * (k - 1) + 1, d)
                for oi, s, d, k in zip(o, stride, dilation, kernel))
    return (n, chans) + idx


def loop_conv(x, w, b, stride, pads, dilation, groups, grad_out=None):
    """Forward (and, given ``grad_out``, backward) of a grouped N-d cross-correlation.

    Returns ``y`` or ``(y, dx, dw, db)``.
    """
    N, C = x.shape[:2]
    Co, Cg = w.shape[:2]
    kernel = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    out = tuple((p - d * (k - 1) - 1) // s + 1
                for p, k, s, d in zip(xp.shape[2:], kernel, stride, dilation))
    y = np.zeros((N, Co) + out)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for co in range(Co):
            g = co // (Co // groups)
            chans = slice(g * Cg, (g + 1) * Cg)
            for o in itertools.product(*(range(m) for m in out)):
                win = _window(xp, n, chans, o, stride, dilation, kernel)
                y[(n, co) + o] = np.sum(w[co] * xp[win]) + (b[co] if b is not None else 0.0)
                if grad_out is not None:
                    go = grad_out[(n, co) + o]
                    dw[co] += go * xp[win]
                    dxp[win] += go * w[co]
    if grad_out is None:
        return y
    inner = (slice(None), slice(None)) + tuple(slice(p0, p0 + s) for (p0, _), s in zip(pads, x.shape[2:]))
    db = grad_out.sum(axis=(0,) + tuple(range(2, grad_out.ndim))) if b is not None else None
    return y, dxp[inner], dw, db
