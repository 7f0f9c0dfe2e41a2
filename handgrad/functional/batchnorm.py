r"""Batch normalization in training mode, the reference (docs/batchnorm.md). Per channel
:math:`c`, over the :math:`M` entries of every axis but the channel axis (1):

.. math::
    \mu = \frac1M \sum x, \quad \sigma^2 = \frac1M \sum (x-\mu)^2, \quad
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \hat x + \beta

    \frac{\partial L}{\partial \gamma} = \sum g \hat x, \quad
    \frac{\partial L}{\partial \beta} = \sum g, \quad
    \frac{\partial L}{\partial x} = \frac{\gamma}{M\sqrt{\sigma^2+\epsilon}}
        \Big(M g - \sum g - \hat x \sum g \hat x\Big)

(:math:`\gamma = 1, \beta = 0` without affine parameters). Reductions run on the axes
themselves (no transposes) and in the input's dtype.
"""

import numpy as np


def _axes(x):
    """The axes reduced over (all but 1) and the shape that broadcasts a ``(C,)`` vector."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm_forward(x, weight, bias, eps):
    """``(y, mean, var, cache)`` for ``x (N, C, *S)`` with the batch's statistics; ``weight``
    and ``bias`` ``(C,)`` or None; ``var`` is the biased variance."""
    axes, bshape = _axes(x)
    mean = x.mean(axis=axes)                             # (C,)
    xhat = x - mean.reshape(bshape)                      # x - mu
    var = np.mean(xhat * xhat, axis=axes)                # (C,)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))       # (C,)
    xhat *= inv_std.reshape(bshape)                      # in place: our own temporary
    y = xhat
    if weight is not None:
        y = xhat * weight.reshape(bshape)
        y += bias.reshape(bshape)
    return y, mean, var, (xhat, inv_std, weight)


def batch_norm_backward(grad_y, cache):
    """``(dx, dweight, dbias)`` (the last two None without affine parameters)."""
    xhat, inv_std, weight = cache
    axes, bshape = _axes(grad_y)
    g, M = grad_y, grad_y.size // grad_y.shape[1]
    sum_g = g.sum(axis=axes)                             # (C,) = dL/dbeta
    sum_gx = np.sum(g * xhat, axis=axes)                 # (C,) = dL/dgamma
    scale = inv_std if weight is None else weight * inv_std      # gamma / sigma
    # dx = (gamma / sigma) / M * (M g - sum g - xhat * sum(g xhat)), with in-place steps
    dx = xhat * sum_gx.reshape(bshape)
    dx += sum_g.reshape(bshape)
    np.subtract(g * g.dtype.type(M), dx, out=dx)
    dx *= (scale / M).reshape(bshape)
    return dx, (None if weight is None else sum_gx), (None if weight is None else sum_g)
