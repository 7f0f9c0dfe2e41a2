"""Reduce the learning rate when a monitored metric stops improving."""

import math

from ..._checks import check_positive_int, check_real
from .base import Schedule


class ReduceLROnPlateau(Schedule):
    r"""Multiply the lr by ``factor`` after ``patience`` steps without improvement (as PyTorch).

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}, default "min"
        Whether the metric should decrease (a loss) or increase (an accuracy).
    factor : float, default 0.1
        Multiplier of the lr on a plateau, in [0, 1).
    patience : int, default 10
        Number of non-improving steps tolerated; the lr drops on the next one.
    threshold : float, default 1e-4
        Minimal improvement (>= 0) to count as better.
    threshold_mode : {"rel", "abs"}, default "rel"
        ``rel``: better means ``metric < best * (1 - threshold)`` (min mode) or
        ``metric > best * (1 + threshold)`` (max); ``abs``: ``best -/+ threshold``.
    cooldown : int, default 0
        Steps after a reduction during which bad steps are not counted.
    min_lr : float, default 0
        Lower bound of the lr (>= 0).
    eps : float, default 1e-8
        A reduction smaller than ``eps`` is skipped.

    Notes
    -----
    Each ``step(metric)``::

        if better(metric, best): best <- metric; bad <- 0
        else:                    bad <- bad + 1
        if cooldown_counter > 0: cooldown_counter <- cooldown_counter - 1; bad <- 0
        if bad > patience:
            lr <- max(lr * factor, min_lr)     (unless the change is below eps)
            cooldown_counter <- cooldown; bad <- 0

    ``step`` takes a metric, so call it where the metric exists (usually once per
    epoch, after validation). There is no closed form ``lr_at``. ``best`` is ``None``
    before the first metric (stands for +inf in min mode, -inf in max mode).

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> opt = SGD({"w": Parameter(np.zeros(1))}, lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [1.0, 0.5, 0.6, 0.6, 0.6]:
    ...     sched.step(loss)
    >>> opt.lr                          # two bad steps after 0.5: halved once
    0.5
    """

    config_names = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                    "min_lr", "eps")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        super().__init__(optimizer)
        owner = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau expected mode 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau expected threshold_mode 'rel' or 'abs', got {threshold_mode!r}")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = check_real(factor, "factor", owner, low=0.0, high=1.0, high_open=True)
        self.patience = check_positive_int(patience, "patience", owner, minimum=0)
        self.threshold = check_real(threshold, "threshold", owner, low=0.0)
        self.cooldown = check_positive_int(cooldown, "cooldown", owner, minimum=0)
        self.min_lr = check_real(min_lr, "min_lr", owner, low=0.0)
        self.eps = check_real(eps, "eps", owner, low=0.0)
        self.best = None
        self.num_bad_steps = 0
        self.cooldown_counter = 0
        self._last_lr = optimizer.lr

    def is_better(self, metric, best):
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        if best is None:
            best = math.inf if self.mode == "min" else -math.inf
        if self.mode == "min":
            bound = best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return metric < bound
        bound = best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return metric > bound

    def step(self, metric):
        """Record one value of the monitored metric; lower the lr on a plateau."""
        metric = check_real(metric, "metric", "ReduceLROnPlateau.step")
        self.last_step += 1
        if self.is_better(metric, self.best):
            self.best = metric
            self.num_bad_steps = 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter = self.cooldown
            self.num_bad_steps = 0
        self._last_lr = self.optimizer.lr

    def state_dict(self):
        out = super().state_dict()
        out.update(best=self.best, num_bad_steps=self.num_bad_steps, cooldown_counter=self.cooldown_counter)
        return out

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.best = state["best"]
        self.num_bad_steps = int(state["num_bad_steps"])
        self.cooldown_counter = int(state["cooldown_counter"])
