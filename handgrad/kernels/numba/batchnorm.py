"""Batch normalization (training mode), Numba backend: two passes over each channel
forward (statistics; normalize and scale) and two backward (the two sums; dL/dx), run one
block of channels at a time (:mod:`._blocks`). Sums are taken in float64. Same results as
handgrad/functional/batchnorm.py.
"""

import math

import numpy as np

from ._blocks import block_size, bounds, run_blocks
from ._jit import kernel


@kernel
def _forward(x, weight, bias, eps, c0, c1, y, xhat, mean, var, inv_std):
    """Channels ``[c0, c1)`` of ``x (N, C, S)``; ``weight``/``bias`` of size 0 mean none."""
    N, C, S = x.shape
    M = N * S
    for c in range(c0, c1):
        total = 0.0
        for n in range(N):
            for s in range(S):
                total += x[n, c, s]
        mu = total / M
        total = 0.0
        for n in range(N):
            for s in range(S):
                d = x[n, c, s] - mu
                total += d * d
        sigma2 = total / M
        r = 1.0 / math.sqrt(sigma2 + eps)
        gamma = weight[c] if weight.size else 1.0
        beta = bias[c] if bias.size else 0.0
        for n in range(N):
            for s in range(S):
                h = (x[n, c, s] - mu) * r
                xhat[n, c, s] = h
                y[n, c, s] = h * gamma + beta
        mean[c], var[c], inv_std[c] = mu, sigma2, r


@kernel
def _backward(g, xhat, scale, c0, c1, dx, sum_g, sum_gx):
    """Channels ``[c0, c1)``: the sums of ``g`` and ``g * xhat``, then
    dx = scale / M * (M g - sum g - xhat sum(g xhat))."""
    N, C, S = g.shape
    M = N * S
    for c in range(c0, c1):
        a, b = 0.0, 0.0
        for n in range(N):
            for s in range(S):
                a += g[n, c, s]
                b += g[n, c, s] * xhat[n, c, s]
        sum_g[c], sum_gx[c] = a, b
        k = scale[c] / M
        for n in range(N):
            for s in range(S):
                dx[n, c, s] = k * (M * g[n, c, s] - a - xhat[n, c, s] * b)


def _channels(shape):
    """``(N, C, S)`` view shape and the blocks of channels."""
    N, C, S = shape[0], shape[1], math.prod(shape[2:])
    return (N, C, S), bounds(C, block_size(C, N * S))


def batch_norm_forward(x, weight, bias, eps):
    """As :func:`handgrad.functional.batchnorm.batch_norm_forward`."""
    shape3, blocks = _channels(x.shape)
    x3 = np.ascontiguousarray(x).reshape(shape3)
    y, xhat = np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype)
    mean, var, inv_std = (np.empty(shape3[1], x.dtype) for _ in range(3))
    none = np.empty(0, x.dtype)
    w = none if weight is None else weight
    b = none if bias is None else bias
    y3, h3 = y.reshape(shape3), xhat.reshape(shape3)
    run_blocks(lambda i, c0, c1: _forward(x3, w, b, float(eps), c0, c1, y3, h3, mean, var, inv_std),
               blocks, x.size * 2)                                   # ~2 ns per element
    return y, mean, var, (xhat, inv_std, weight)


def batch_norm_backward(grad_y, cache):
    """As :func:`handgrad.functional.batchnorm.batch_norm_backward`."""
    xhat, inv_std, weight = cache
    shape3, blocks = _channels(grad_y.shape)
    g3 = np.ascontiguousarray(grad_y).reshape(shape3)
    scale = inv_std if weight is None else weight * inv_std
    dx = np.empty(grad_y.shape, grad_y.dtype)
    sum_g, sum_gx = np.empty(shape3[1], grad_y.dtype), np.empty(shape3[1], grad_y.dtype)
    d3, h3 = dx.reshape(shape3), xhat.reshape(shape3)
    run_blocks(lambda i, c0, c1: _backward(g3, h3, scale, c0, c1, d3, sum_g, sum_gx),
               blocks, grad_y.size)
    return dx, (None if weight is None else sum_gx), (None if weight is None else sum_g)
