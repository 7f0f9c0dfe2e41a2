"""Cosine annealing of the learning rate."""

import math

from ..._checks import check_positive_int, check_real
from .base import Schedule


class CosineAnnealingLR(Schedule):
    r"""Anneal the learning rate from its base value to ``eta_min`` along a half cosine.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Steps of the half period (>= 1): the lr reaches ``eta_min`` at ``t = T_max``.
    eta_min : float, default 0
        Minimum learning rate (>= 0).

    Notes
    -----
    The closed form of PyTorch's CosineAnnealingLR (which computes the same values
    recursively); past ``T_max`` the cosine continues, so the lr rises again:

    .. math::

        \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
                 \Big(1 + \cos\frac{\pi t}{T_{max}}\Big)

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> sched = CosineAnnealingLR(SGD({"w": Parameter(np.zeros(1))}, lr=1.0), T_max=4)
    >>> [round(sched.lr_at(t), 4) for t in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    config_names = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        self.T_max = check_positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = check_real(eta_min, "eta_min", "CosineAnnealingLR", low=0.0)
        self._start()

    def lr_at(self, t):
        return self.eta_min + 0.5 * (self.base_lr - self.eta_min) * (1.0 + math.cos(math.pi * t / self.T_max))
