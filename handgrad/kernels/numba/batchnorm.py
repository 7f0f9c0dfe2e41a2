"""Batch normalization (training mode), Numba backend: three passes over each channel
forward (mean; variance; normalize and scale) and two backward (the two sums; dL/dx), run
one block of channels at a time (:mod:`._blocks`). Sums are taken in float64
(:mod:`._sums`). Same results as handgrad/functional/batchnorm.py.
"""

import math

import numpy as np

from ._blocks import block_size, bounds, run_blocks
from ._jit import kernel
from ._sums import run_masked_sum_and_dot, run_sum, run_sum_and_dot, run_sum_squares


@kernel
def _forward(x, weight, bias, eps, c0, c1, y, xhat, mean, var, inv_std, mask):
    """Channels ``[c0, c1)`` of ``x (N, C, S)``; ``weight``/``bias`` of size 0 mean none.
    The statistics are summed in float64; normalizing runs in ``x``'s dtype, as in the
    reference (``mean[c]`` and ``inv_std[c]`` are read back in that dtype). With a ``mask``
    of x's shape (size 0: none), ``y`` is followed by a ReLU whose mask it writes."""
    N, C, S = x.shape
    M = N * S
    for c in range(c0, c1):
        total = 0.0
        for n in range(N):
            total += run_sum(x[n, c])
        mu = total / M
        total = 0.0
        for n in range(N):
            total += run_sum_squares(x[n, c], mu)
        sigma2 = total / M
        mean[c], var[c], inv_std[c] = mu, sigma2, 1.0 / math.sqrt(sigma2 + eps)
        m, r = mean[c], inv_std[c]
        for n in range(N):
            xr, hr, yr = x[n, c], xhat[n, c], y[n, c]
            if weight.size:
                gamma, beta = weight[c], bias[c]
                for s in range(S):
                    h = (xr[s] - m) * r
                    hr[s] = h
                    yr[s] = h * gamma + beta
            else:
                for s in range(S):
                    h = (xr[s] - m) * r
                    hr[s] = h
                    yr[s] = h
            if mask.size:
                positive = mask[n, c]
                for s in range(S):
                    v = yr[s]
                    positive[s] = v > 0
                    yr[s] = 0 if v <= 0 else v


@kernel
def _backward(g, xhat, scale, c0, c1, dx, sum_g, sum_gx, means, mask):
    """Channels ``[c0, c1)``: the sums of ``g`` and ``g * xhat`` (float64), then
    dx = scale (g - mean(g) - xhat mean(g xhat)) in ``g``'s dtype (``means (2, C)`` holds
    the two means in that dtype). With a ``mask`` of g's shape (size 0: none), ``g`` is
    taken where the mask is set and 0 elsewhere (the ReLU's backward) as it is read."""
    N, C, S = g.shape
    M = N * S
    zero = np.zeros(1, g.dtype)[0]                 # in g's dtype: the masked values stay in it
    for c in range(c0, c1):
        a, b = 0.0, 0.0
        for n in range(N):
            if mask.size:
                sum_row, dot_row = run_masked_sum_and_dot(g[n, c], mask[n, c], zero, xhat[n, c])
            else:
                sum_row, dot_row = run_sum_and_dot(g[n, c], xhat[n, c])
            a += sum_row
            b += dot_row
        sum_g[c], sum_gx[c] = a, b
        means[0, c], means[1, c] = a / M, b / M
        k, mean_g, mean_gx = scale[c], means[0, c], means[1, c]
        for n in range(N):
            gr, hr, dr = g[n, c], xhat[n, c], dx[n, c]
            if mask.size:
                positive = mask[n, c]
                for s in range(S):
                    dr[s] = k * ((gr[s] if positive[s] else zero) - mean_g - hr[s] * mean_gx)
            else:
                for s in range(S):
                    dr[s] = k * (gr[s] - mean_g - hr[s] * mean_gx)


def _channels(shape):
    """``(N, C, S)`` view shape and the blocks of channels."""
    N, C, S = shape[0], shape[1], math.prod(shape[2:])
    return (N, C, S), bounds(C, block_size(C, N * S))


def batch_norm_forward(x, weight, bias, eps):
    """As :func:`handgrad.functional.batchnorm.batch_norm_forward`."""
    y, _, mean, var, cache = _batch_norm_forward(x, weight, bias, eps, relu=False)
    return y, mean, var, cache


def batch_norm_relu_forward(x, weight, bias, eps):
    """As :func:`handgrad.functional.batchnorm_relu.batch_norm_relu_forward`: the clamp and
    the mask in the pass that writes ``y``."""
    return _batch_norm_forward(x, weight, bias, eps, relu=True)


def batch_norm_backward(grad_y, cache):
    """As :func:`handgrad.functional.batchnorm.batch_norm_backward`."""
    return _batch_norm_backward(grad_y, None, cache)


def batch_norm_relu_backward(grad_y, mask, cache):
    """As :func:`handgrad.functional.batchnorm_relu.batch_norm_relu_backward`."""
    return _batch_norm_backward(grad_y, mask, cache)


def _batch_norm_forward(x, weight, bias, eps, relu):
    """``(y, mask, mean, var, cache)``; ``mask`` (``y > 0``) is empty without ``relu``."""
    shape3, blocks = _channels(x.shape)
    x3 = np.ascontiguousarray(x).reshape(shape3)
    y, xhat = np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype)
    mean, var, inv_std = (np.empty(shape3[1], x.dtype) for _ in range(3))
    none = np.empty(0, x.dtype)
    w = none if weight is None else weight
    b = none if bias is None else bias
    y3, h3 = y.reshape(shape3), xhat.reshape(shape3)
    mask = np.empty(x.shape if relu else (0,) + x.shape[1:], np.bool_)   # size 0: no ReLU
    m3 = mask.reshape((-1,) + shape3[1:])
    run_blocks(lambda i, c0, c1: _forward(x3, w, b, float(eps), c0, c1, y3, h3, mean, var, inv_std, m3),
               blocks, x.size // 3)                                  # ~0.35 ns per element
    return y, mask, mean, var, (xhat, inv_std, weight)


def _batch_norm_backward(grad_y, mask, cache):
    """``(dx, dweight, dbias)``; ``mask`` None or the ReLU's mask to apply to ``grad_y`` first."""
    xhat, inv_std, weight = cache
    shape3, blocks = _channels(grad_y.shape)
    g3 = np.ascontiguousarray(grad_y).reshape(shape3)
    scale = inv_std if weight is None else weight * inv_std
    dx = np.empty(grad_y.shape, grad_y.dtype)
    sum_g, sum_gx = np.empty(shape3[1], grad_y.dtype), np.empty(shape3[1], grad_y.dtype)
    means = np.empty((2, shape3[1]), grad_y.dtype)
    d3, h3 = dx.reshape(shape3), xhat.reshape(shape3)
    m3 = np.empty((0,) + shape3[1:], np.bool_) if mask is None else mask.reshape(shape3)
    run_blocks(lambda i, c0, c1: _backward(g3, h3, scale, c0, c1, d3, sum_g, sum_gx, means, m3),
               blocks, grad_y.size // 3)                             # ~0.3 ns per element
    return dx, (None if weight is None else sum_gx), (None if weight is None else sum_g)
