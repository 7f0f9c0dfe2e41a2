"""Mean squared error. Math: docs/losses.md."""

import numpy as np

from .base import Loss, check_prediction, same_shape_target


class MSELoss(Loss):
    r"""Squared error ``sum (prediction - target)^2``, averaged over every element ("mean").

    Parameters
    ----------
    reduction : {"mean", "sum"}
        "mean" divides by the number of elements (as ``torch.nn.MSELoss``), not by N.

    Shape
    -----
    prediction and target: the same shape, e.g. ``(N, D)`` for D outputs.

    Notes
    -----
    With :math:`K` elements (:math:`K = 1` for "sum"):

    .. math::
        L = \frac1K \sum_i (p_i - t_i)^2, \qquad \frac{\partial L}{\partial p_i} = \frac2K (p_i - t_i)

    Math: docs/losses.md.

    Examples
    --------
    >>> import numpy as np
    >>> MSELoss()(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    2.5
    """

    def forward(self, prediction, target):
        p = check_prediction(prediction, "MSELoss")
        t = same_shape_target(p, target, "MSELoss")
        diff = p - t
        scale = self._reduce_scale(p.size)
        self._cache = (diff, scale)
        return float(np.sum(diff * diff) * scale)

    def backward(self):
        diff, scale = self._saved()
        return (diff * (2 * scale)).astype(diff.dtype, copy=False)
