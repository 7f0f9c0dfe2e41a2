"""The dense layer, Numba backend: the reference's products, one block of rows (samples)
at a time (:mod:`._blocks`), so that on the main thread every core multiplies.

``Y = X W^T + b`` and ``dX = G W`` are cut by rows; ``dW = G^T X`` and the bias gradient
are sums over rows: one partial per block, added in block order (the result does not
depend on the number of threads).
"""

import numpy as np

from ._blocks import block_size, bounds, run_blocks


def _blocks(x, w):
    M = x.shape[0]
    return bounds(M, block_size(M, max(w.shape)))


def linear_forward(x, w, b):
    """As :func:`handgrad.functional.linear.linear_forward`."""
    y = np.empty((x.shape[0], w.shape[0]), np.result_type(x, w))

    def block(i, lo, hi):
        np.matmul(x[lo:hi], w.T, out=y[lo:hi])
        if b is not None:
            y[lo:hi] += b

    run_blocks(block, _blocks(x, w), x.shape[0] * w.size // 64)
    return y


def linear_backward(grad_y, x, w, input_grad=True):
    """As :func:`handgrad.functional.linear.linear_backward`."""
    blocks = _blocks(x, w)
    dw_parts = np.empty((len(blocks),) + w.shape, grad_y.dtype)
    db_parts = np.empty((len(blocks), w.shape[0]), grad_y.dtype)
    dx = np.empty(x.shape, grad_y.dtype) if input_grad else None

    def block(i, lo, hi):
        np.matmul(grad_y[lo:hi].T, x[lo:hi], out=dw_parts[i])
        np.sum(grad_y[lo:hi], axis=0, out=db_parts[i])
        if input_grad:
            np.matmul(grad_y[lo:hi], w, out=dx[lo:hi])

    run_blocks(block, blocks, x.shape[0] * w.size // 32)
    return dx, dw_parts.sum(axis=0), db_parts.sum(axis=0)
