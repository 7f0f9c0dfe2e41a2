r"""Softmax cross-entropy on logits, fused: the loss and its gradient in one step.

With :math:`p = \mathrm{softmax}(z)` per row and target rows :math:`t` (docs/losses.md):

.. math::
    L = -\textstyle\sum_{n,c} t_{nc} \log p_{nc}, \qquad
    \frac{\partial L}{\partial z_{nc}} = p_{nc} \textstyle\sum_k t_{nk} - t_{nc}

The log-softmax is :math:`z - \max z - \log \sum e^{z - \max z}`: no overflow.
"""

import numpy as np


def log_softmax(z):
    """Row-wise log-softmax of ``(N, C)`` logits, shifted by the row maximum (no overflow)."""
    shifted = z - z.max(axis=1, keepdims=True)               # <= 0: exp cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(z, t, scale):
    """``(loss, grad)`` for logits ``z (N, C)`` and targets ``t (N, C)``, both times ``scale``
    (``1/N`` for a mean): ``loss`` a float, ``grad = dL/dz`` in ``z``'s dtype."""
    logp = log_softmax(z)                                     # (N, C)
    loss = -np.sum(t * logp) * scale
    grad = (np.exp(logp) * t.sum(axis=1, keepdims=True) - t) * scale
    return float(loss), grad.astype(z.dtype, copy=False)
