"""Softmax cross-entropy on logits, Numba backend: loss and gradient of each row in one
pass over it. Same results as handgrad/functional/softmax_ce.py."""

import math

import numpy as np

from ._jit import kernel


@kernel
def _rows(z, t, scale, grad, losses):
    N, C = z.shape
    for n in range(N):
        top = z[n, 0]
        for c in range(1, C):
            top = max(top, z[n, c])
        total, mass = 0.0, 0.0
        for c in range(C):
            total += math.exp(z[n, c] - top)
            mass += t[n, c]
        log_total = math.log(total)
        loss = 0.0
        for c in range(C):
            logp = z[n, c] - top - log_total
            loss -= t[n, c] * logp
            grad[n, c] = (math.exp(logp) * mass - t[n, c]) * scale
        losses[n] = loss


def softmax_cross_entropy(z, t, scale):
    """As :func:`handgrad.functional.softmax_ce.softmax_cross_entropy`."""
    z = np.ascontiguousarray(z)
    grad = np.empty_like(z)
    losses = np.empty(z.shape[0], np.float64)
    _rows(z, np.ascontiguousarray(t, dtype=z.dtype), scale, grad, losses)
    return float(losses.sum() * scale), grad
