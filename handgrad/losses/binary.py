"""Binary cross-entropy on logits, in the stable log-sum-exp form. Math: docs/losses.md."""

import numpy as np

from ..functional.activation_math import sigmoid
from .base import Loss, check_prediction, same_shape_target


class BCEWithLogitsLoss(Loss):
    r"""Sigmoid + binary cross-entropy, ``-t log s(z) - (1-t) log(1 - s(z))``, fused.

    Parameters
    ----------
    reduction : {"mean", "sum"}
        "mean" divides by the number of elements.

    Shape
    -----
    logits and targets (in [0, 1]): the same shape, any rank.

    Notes
    -----
    Since :math:`\log s(z) = -\log(1 + e^{-z})` and :math:`\log(1 - s(z)) = -z - \log(1 + e^{-z})`,

    .. math::
        \ell = \max(z, 0) - z t + \log\left(1 + e^{-|z|}\right), \qquad
        \frac{\partial \ell}{\partial z} = s(z) - t

    which never exponentiates a positive number. Math: docs/losses.md.

    Examples
    --------
    >>> import numpy as np
    >>> round(BCEWithLogitsLoss()(np.array([0.0]), np.array([1.0])), 4)   # log 2
    0.6931
    """

    def forward(self, prediction, target):
        z = check_prediction(prediction, "BCEWithLogitsLoss")
        t = same_shape_target(z, target, "BCEWithLogitsLoss")
        loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))   # exp of <= 0 only
        scale = self._reduce_scale(z.size)
        self._cache = (sigmoid(z), t, scale)
        return float(np.sum(loss) * scale)

    def backward(self):
        s, t, scale = self._saved()
        return ((s - t) * scale).astype(s.dtype, copy=False)
