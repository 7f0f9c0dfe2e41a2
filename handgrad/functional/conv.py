r"""Convolution (cross-correlation) over 1, 2 or 3 spatial dimensions: the reference.

The math (docs/convolution.md), with taps :math:`j`, padded input :math:`\tilde x` and
:math:`G = \partial L / \partial y`:

.. math::
    y_{n,c,o} = b_c + \sum_{c' \in g(c)} \sum_j w_{c,c',j}\, \tilde x_{n,c',\,so+dj}

    \partial L / \partial w_{c,c',j} = \sum_{n,o} G_{n,c,o}\, \tilde x_{n,c',\,so+dj}, \quad
    \partial L / \partial b_c = \sum_{n,o} G_{n,c,o}, \quad
    \partial L / \partial \tilde x_{n,c',p} = \sum_{c \in g(c')} \sum_{(j,o):\, so+dj=p} w_{c,c',j} G_{n,c,o}

Written as matrix products over the unfolded windows ``cols`` (rows: input channel and
tap, columns: sample and output position), one per group:

    Y = W @ cols,    dW = G @ cols.T,    dcols = W.T @ G,    dx = fold(dcols)

The compiled backends (handgrad/kernels/) replace :func:`unfold`, :func:`fold` and the
layout changes around the products; they are tested equal to these functions.
"""

import math

import numpy as np

from .._memo import remembered
from .sizes import output_size
from .windows import add_windows, pad, unpad, window_view


@remembered
def conv_output_shape(spatial, kernel_size, stride, pads, dilation):
    """Output spatial sizes ``O`` for input spatial sizes ``spatial`` (all per-dimension
    tuples; remembered: layers ask for them with every batch)."""
    return tuple(output_size(n, k, s, p, d) for n, k, s, p, d in
                 zip(spatial, kernel_size, stride, pads, dilation))


def unfold(x, kernel_size, stride, pads, dilation, out):
    """im2col: the windows of ``x`` ``(N, C, *S)`` as a matrix ``cols (C*K, N*OUT)``.

    ``cols[(c, j), (n, o)] = x_padded[n, c, o*s + d*j]``; rows in the order of the
    weight's flattening ``(C_out, C_in, *k) -> (C_out, C_in*K)``.
    """
    N, C = x.shape[:2]
    nd = len(kernel_size)
    v = window_view(pad(x, pads), kernel_size, stride, dilation, out)    # (N, C, *O, *k)
    order = (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))
    return v.transpose(order).reshape(C * math.prod(kernel_size), N * math.prod(out))


def fold(dcols, x_shape, kernel_size, stride, pads, dilation, out):
    """col2im, the adjoint of :func:`unfold`: every entry of ``dcols (C*K, N*OUT)`` added
    back onto the input sample it was read from; padding dropped. Returns ``(N, C, *S)``."""
    N, C = x_shape[:2]
    spatial = x_shape[2:]
    padded = (N, C) + tuple(n + p0 + p1 for n, (p0, p1) in zip(spatial, pads))
    per_tap = dcols.reshape((C,) + tuple(kernel_size) + (N,) + tuple(out))     # (C, *k, N, *O)
    dxp = add_windows(lambda j: per_tap[(slice(None),) + j].swapaxes(0, 1), padded,
                      kernel_size, stride, dilation, out, dcols.dtype)
    return unpad(dxp, pads, spatial)


def conv_forward(x, w, b, stride, pads, dilation, groups):
    """``y (N, C_out, *O)`` and the cache :func:`conv_backward` needs.

    ``x (N, C_in, *S)``, ``w (C_out, C_in/groups, *k)``, ``b (C_out,)`` or None; ``pads``
    is a tuple of ``(before, after)`` pairs.
    """
    N, Ci = x.shape[:2]
    Co, k, G = w.shape[0], w.shape[2:], groups
    out = conv_output_shape(x.shape[2:], k, stride, pads, dilation)
    cols = unfold(x, k, stride, pads, dilation, out)              # (Ci*K, N*OUT)
    cols = cols.reshape(G, Ci // G * math.prod(k), N * math.prod(out))   # (G, Ci/G*K, N*OUT)
    y = w.reshape(G, Co // G, cols.shape[1]) @ cols                           # (G, Co/G, N*OUT)
    y = y.reshape((Co, N) + out).swapaxes(0, 1)                    # (N, Co, *O)
    if b is not None:
        y = y + b.reshape((Co,) + (1,) * len(out))
    return np.ascontiguousarray(y), (x.shape, w, b is not None, cols, stride, pads, dilation, out)


def conv_backward(grad_y, cache, input_grad=True):
    """``(dx, dw, db)`` for ``grad_y = dL/dy (N, C_out, *O)``; ``dx`` is None without
    ``input_grad``, ``db`` None without bias."""
    x_shape, w, has_bias, cols, stride, pads, dilation, out = cache
    Co, k, G = w.shape[0], w.shape[2:], cols.shape[0]
    g = grad_y.swapaxes(0, 1).reshape(G, Co // G, cols.shape[2])  # (G, Co/G, N*OUT)
    dw = (g @ cols.transpose(0, 2, 1)).reshape(w.shape)           # (Co, Ci/G, *k)
    db = grad_y.sum(axis=(0,) + tuple(range(2, grad_y.ndim))) if has_bias else None
    if not input_grad:
        return None, dw, db
    dcols = w.reshape(G, Co // G, cols.shape[1]).transpose(0, 2, 1) @ g      # (G, Ci/G*K, N*OUT)
    dx = fold(dcols.reshape(G * cols.shape[1], cols.shape[2]), x_shape, k, stride, pads, dilation, out)
    return np.ascontiguousarray(dx), dw, db
