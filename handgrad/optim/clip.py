"""Gradient clipping by global L2 norm."""

import math

import numpy as np

from .._checks import check_real
from ..parameter import Parameter


def clip_grad_norm(params, max_norm):
    r"""Rescale gradients in place so that their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of Parameter or (name, Parameter)
        The parameters whose ``grad`` is clipped (``model.parameters()``).
    max_norm : float
        Largest allowed global norm, > 0.

    Returns
    -------
    total_norm : float
        The global norm *before* clipping (useful for logging).

    Notes
    -----
    As ``torch.nn.utils.clip_grad_norm_``:

    .. math::

        n = \sqrt{\textstyle\sum_p \lVert g_p \rVert_2^2}, \qquad
        g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{n + 10^{-6}}\Big)

    All gradients are scaled by the same factor, so the update direction is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> p = Parameter(np.zeros(2))
    >>> p.grad[:] = [3.0, 4.0]
    >>> clip_grad_norm({"w": p}, 1.0)
    5.0
    >>> np.round(p.grad, 6)
    array([0.6, 0.8])
    """
    max_norm = check_real(max_norm, "max_norm", "clip_grad_norm", low=0.0, low_open=True)
    if isinstance(params, dict):
        params = list(params.values())
    grads = []
    for p in params:
        if isinstance(p, tuple) and len(p) == 2:
            p = p[1]
        if not isinstance(p, Parameter):
            raise TypeError(f"clip_grad_norm expected Parameters, got {type(p).__name__}")
        grads.append(p.grad)
    # accumulate the squared norms in float64 so float32 gradients lose no precision
    total = 0.0
    for g in grads:
        g64 = g.ravel().astype(np.float64, copy=False)
        total += float(g64 @ g64)
    total = math.sqrt(total)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total
