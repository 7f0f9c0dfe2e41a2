"""Multiplicative decays: StepLR, MultiStepLR and ExponentialLR."""

import bisect
import numbers

from ..._checks import check_positive_int, check_real
from .base import Schedule


class StepLR(Schedule):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` steps (as ``torch``'s StepLR).

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Period of the decay (>= 1), in calls of ``step()``.
    gamma : float, default 0.1
        Decay factor (> 0).

    Notes
    -----
    .. math:: \eta_t = \eta_0\,\gamma^{\lfloor t / \text{step\_size} \rfloor}

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> sched = StepLR(SGD({"w": Parameter(np.zeros(1))}, lr=1.0), step_size=2, gamma=0.5)
    >>> [sched.lr_at(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    config_names = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size = check_positive_int(step_size, "step_size", "StepLR")
        self.gamma = check_real(gamma, "gamma", "StepLR", low=0.0, low_open=True)
        self._start()

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(Schedule):
    r"""Multiply the learning rate by ``gamma`` at each milestone (as ``torch``'s MultiStepLR).

    Parameters
    ----------
    optimizer : Optimizer
    milestones : sequence of int
        Strictly increasing step counts (>= 1) at which the lr decays.
    gamma : float, default 0.1
        Decay factor (> 0).

    Notes
    -----
    .. math:: \eta_t = \eta_0\,\gamma^{\#\{m \in \text{milestones} : m \le t\}}

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> sched = MultiStepLR(SGD({"w": Parameter(np.zeros(1))}, lr=1.0), [1, 3], gamma=0.5)
    >>> [sched.lr_at(t) for t in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    config_names = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1):
        super().__init__(optimizer)
        milestones = tuple(milestones)
        if not milestones or any(isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 1
                                 for m in milestones):
            raise ValueError(f"MultiStepLR expected milestones to be ints >= 1, got {milestones!r}")
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"MultiStepLR expected strictly increasing milestones, got {milestones!r}")
        self.milestones = tuple(int(m) for m in milestones)
        self.gamma = check_real(gamma, "gamma", "MultiStepLR", low=0.0, low_open=True)
        self._start()

    def lr_at(self, t):
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(Schedule):
    r"""Multiply the learning rate by ``gamma`` every step (as ``torch``'s ExponentialLR).

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        Decay factor (> 0).

    Notes
    -----
    .. math:: \eta_t = \eta_0\,\gamma^{t}

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> sched = ExponentialLR(SGD({"w": Parameter(np.zeros(1))}, lr=1.0), gamma=0.5)
    >>> [sched.lr_at(t) for t in range(4)]
    [1.0, 0.5, 0.25, 0.125]
    """

    config_names = ("gamma",)

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = check_real(gamma, "gamma", "ExponentialLR", low=0.0, low_open=True)
        self._start()

    def lr_at(self, t):
        return self.base_lr * self.gamma ** t
