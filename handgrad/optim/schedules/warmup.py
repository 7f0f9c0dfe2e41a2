"""Linear warm-up, optionally followed by another schedule."""

from ..._checks import check_positive_int, check_real
from .base import Schedule


class LinearWarmup(Schedule):
    r"""Raise the lr linearly for ``warmup_steps`` steps, then hand over to ``after``.

    Parameters
    ----------
    optimizer : Optimizer
    warmup_steps : int
        Length of the warm-up (>= 1).
    start_factor : float, default 1/3
        The lr at step 0 is ``start_factor * base_lr`` (in [0, 1]; PyTorch's LinearLR default).
    after : Schedule, optional
        A closed-form schedule on the same optimizer, built *before* the warm-up
        (``LinearWarmup(opt, 5, after=CosineAnnealingLR(opt, T_max=95))``). From step
        ``warmup_steps`` on it takes over and counts from 0. Without it the lr stays at
        ``base_lr``.

    Notes
    -----
    With :math:`W` = ``warmup_steps`` and :math:`f` = ``start_factor``:

    .. math::

        \eta_t = \begin{cases}
            \eta_0\big(f + (1 - f)\,t/W\big) & t < W \\
            \text{after.lr\_at}(t - W) & t \ge W
        \end{cases}

    ``base_lr`` :math:`\eta_0` is the optimizer's lr when the warm-up is built, i.e.
    the lr of ``after`` at its step 0. This equals PyTorch's
    ``SequentialLR([LinearLR(start_factor=f, total_iters=W), after], milestones=[W])``.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD, StepLR
    >>> opt = SGD({"w": Parameter(np.zeros(1))}, lr=1.0)
    >>> sched = LinearWarmup(opt, 4, start_factor=0.0, after=StepLR(opt, step_size=2, gamma=0.5))
    >>> [sched.lr_at(t) for t in range(8)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.5]
    """

    config_names = ("warmup_steps", "start_factor")

    def __init__(self, optimizer, warmup_steps, start_factor=1.0 / 3.0, after=None):
        super().__init__(optimizer)
        self.warmup_steps = check_positive_int(warmup_steps, "warmup_steps", "LinearWarmup")
        self.start_factor = check_real(start_factor, "start_factor", "LinearWarmup", low=0.0, high=1.0)
        if after is not None:
            if not isinstance(after, Schedule) or type(after).lr_at is Schedule.lr_at:
                raise TypeError(
                    f"LinearWarmup expected after to be a closed-form Schedule (StepLR, "
                    f"CosineAnnealingLR, ...), got {type(after).__name__}"
                )
            if after.optimizer is not optimizer:
                raise ValueError("LinearWarmup expected after to drive the same optimizer")
        self.after = after
        self._start()

    def lr_at(self, t):
        if t < self.warmup_steps:
            return self.base_lr * (self.start_factor + (1.0 - self.start_factor) * t / self.warmup_steps)
        if self.after is None:
            return self.base_lr
        return self.after.lr_at(t - self.warmup_steps)

    def step(self):
        super().step()
        if self.after is not None and self.last_step >= self.warmup_steps:
            # keep the follower's counter and lr in sync, so its own state_dict is right
            self.after.last_step = self.last_step - self.warmup_steps
            self.after._last_lr = self._last_lr

    def state_dict(self):
        out = super().state_dict()
        out["after"] = None if self.after is None else self.after.state_dict()
        return out

    def load_state_dict(self, state):
        if (state.get("after") is None) != (self.after is None):
            raise ValueError("LinearWarmup.load_state_dict: the saved and current 'after' schedules differ")
        if self.after is not None:
            self.after.load_state_dict(state["after"])
        super().load_state_dict(state)
