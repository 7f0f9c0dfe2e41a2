"""ReLU, Numba backend: output and mask in one pass, gradient in one pass (in blocks,
:mod:`._blocks`).

Same results as handgrad/functional/relu.py (NaN stays NaN with a False mask).
"""

import numpy as np

from ...functional import relu as reference
from ._blocks import block_size, bounds, run_rows
from ._jit import kernel


@kernel
def _forward(x, y, mask):
    for i in range(x.size):
        v = x[i]
        mask[i] = v > 0
        y[i] = 0 if v <= 0 else v


@kernel
def _backward(g, mask, gx):
    for i in range(g.size):
        gx[i] = g[i] if mask[i] else 0


def relu_forward(x):
    """As :func:`handgrad.functional.relu.relu_forward`."""
    if x.dtype.kind != "f":
        return reference.relu_forward(x)
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    mask = np.empty(x.shape, np.bool_)
    xf, yf, mf = x.reshape(-1), y.reshape(-1), mask.reshape(-1)
    run_rows(_forward, xf, yf, mf, bounds(x.size, block_size(x.size, 1)),
             x.size // 7)                                            # ~0.14 ns per element
    return y, mask


def relu_backward(grad_y, mask):
    """As :func:`handgrad.functional.relu.relu_backward`."""
    grad_y = np.asarray(grad_y)
    if grad_y.dtype.kind != "f":
        return reference.relu_backward(grad_y, mask)
    grad_y = np.ascontiguousarray(grad_y)
    gx = np.empty_like(grad_y)
    gf, mf, xf = grad_y.reshape(-1), mask.reshape(-1), gx.reshape(-1)
    run_rows(_backward, gf, mf, xf, bounds(gx.size, block_size(gx.size, 1)), gx.size // 7)
    return gx
