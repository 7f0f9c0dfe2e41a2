"""Cross-entropy on logits (fused log-softmax) and on probabilities. Math: docs/losses.md."""

import numbers

import numpy as np

from .. import backend
from .base import Loss, check_prediction, class_targets


class CrossEntropyLoss(Loss):
    r"""Softmax cross-entropy on logits, ``L_n = -sum_c t_nc log softmax(z_n)_c``.

    Same semantics as ``torch.nn.CrossEntropyLoss`` for ``(N, C)`` logits.

    Parameters
    ----------
    reduction : {"mean", "sum"}
        "mean" divides the summed loss by ``N``.
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution:
        :math:`t' = (1 - \varepsilon) t + \varepsilon / C`.

    Shape
    -----
    - prediction: logits ``(N, C)``, float
    - target: integer labels ``(N,)`` in ``[0, C)``, or one-hot / probability rows ``(N, C)``

    Notes
    -----
    With :math:`p = \mathrm{softmax}(z)` and smoothed targets :math:`t'`:

    .. math::
        L_n = -\sum_c t'_{nc} \log p_{nc}, \qquad
        \frac{\partial L_n}{\partial z_{nc}} = p_{nc} \textstyle\sum_k t'_{nk} - t'_{nc}
        \;=\; p_{nc} - t'_{nc} \ \text{ when the targets sum to one,}

    divided by :math:`N` for "mean". The log-softmax is computed as
    :math:`z - \max z - \log \sum e^{z - \max z}`, finite for logits of 1e4.
    Math: docs/losses.md.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CrossEntropyLoss()
    >>> round(loss(np.zeros((2, 4)), np.array([0, 3])), 4)   # log 4
    1.3863
    >>> loss.backward().shape
    (2, 4)
    """

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
                or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss expected label_smoothing in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, prediction, target):
        z = check_prediction(prediction, "CrossEntropyLoss", ndim=2)
        N, C = z.shape
        t = class_targets(z, target, "CrossEntropyLoss")      # (N, C)
        if self.label_smoothing:
            eps = self.label_smoothing
            t = t * (1 - eps) + eps / C
        loss, grad = backend.ops().softmax_cross_entropy(z, t, self._reduce_scale(N))
        self._cache = grad                                     # (N, C), dL/dz
        return loss

    def backward(self):
        return self._saved().copy()

    def get_config(self):
        return {"reduction": self.reduction, "label_smoothing": self.label_smoothing}


class CategoricalCrossEntropy(Loss):
    r"""Cross-entropy on probabilities, ``L_n = -sum_c t_nc log p_nc``.

    For networks that end in an explicit :class:`handgrad.layers.Softmax` layer; with
    logits use :class:`CrossEntropyLoss` instead (fused and more accurate).

    Parameters
    ----------
    reduction : {"mean", "sum"}
    eps : float
        Probabilities are clipped from below at ``eps`` before the log (no ``log(0)``).

    Shape
    -----
    - prediction: probabilities ``(N, C)`` in [0, 1]
    - target: integer labels ``(N,)`` or one-hot / probability rows ``(N, C)``

    Notes
    -----
    .. math::
        L_n = -\sum_c t_{nc} \log \max(p_{nc}, \epsilon), \qquad
        \frac{\partial L_n}{\partial p_{nc}} = -\frac{t_{nc}}{p_{nc}} \ (p_{nc} > \epsilon;\ 0 \text{ otherwise})

    divided by :math:`N` for "mean". Chained with Softmax's backward this gives
    :math:`p - t` again. Math: docs/losses.md.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CategoricalCrossEntropy()
    >>> round(loss(np.array([[0.5, 0.5]]), np.array([1])), 4)   # log 2
    0.6931
    """

    def __init__(self, reduction="mean", eps=1e-7):
        super().__init__(reduction)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
            raise ValueError(f"CategoricalCrossEntropy expected eps in (0, 1), got {eps!r}")
        self.eps = float(eps)

    def forward(self, prediction, target):
        p = check_prediction(prediction, "CategoricalCrossEntropy", ndim=2)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(f"CategoricalCrossEntropy expected probabilities in [0, 1] (the output of "
                             f"Softmax), got values in [{p.min():.4g}, {p.max():.4g}]; "
                             f"for logits use CrossEntropyLoss")
        t = class_targets(p, target, "CategoricalCrossEntropy")
        kept = p > self.eps                                    # where the clip is inactive
        clipped = np.maximum(p, p.dtype.type(self.eps))
        scale = self._reduce_scale(p.shape[0])
        self._cache = (clipped, kept, t, scale)
        return float(-np.sum(t * np.log(clipped)) * scale)

    def backward(self):
        clipped, kept, t, scale = self._saved()
        grad = np.where(kept, -t / clipped, 0)
        return (grad * scale).astype(clipped.dtype, copy=False)

    def get_config(self):
        return {"reduction": self.reduction, "eps": self.eps}
