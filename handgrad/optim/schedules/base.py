"""The schedule contract: a step counter that writes ``optimizer.lr``.

A schedule remembers ``base_lr`` (the optimizer's lr when the schedule is built) and a
counter ``last_step``. Building it sets ``optimizer.lr = lr_at(0)``; each ``step()``
advances the counter and sets ``optimizer.lr = lr_at(last_step)``. ``lr_at(t)`` is a
pure function of ``t``, handy for plotting a schedule before training.

Per step or per epoch
---------------------
The schedule does not know what a "step" is; the caller decides::

    sched = CosineAnnealingLR(opt, T_max=epochs)           # per epoch
    for epoch in range(epochs):
        for x, y in loader: ...; opt.step()
        sched.step()

    sched = CosineAnnealingLR(opt, T_max=epochs * len(loader))   # per batch
    for epoch in range(epochs):
        for x, y in loader: ...; opt.step(); sched.step()

Sizes such as ``step_size``, ``T_max`` or ``total_steps`` are counted in the same unit.
"""

from ..base import Optimizer


class Schedule:
    """Base class of closed-form schedules: subclasses implement ``lr_at(t)``.

    Parameters
    ----------
    optimizer : Optimizer
        Whose ``lr`` the schedule sets. Its current ``lr`` becomes ``base_lr``.

    Notes
    -----
    ``state_dict()`` returns ``{"type", "base_lr", "last_step", "last_lr"}`` plus the
    constructor arguments listed in ``config_names`` (JSON-friendly only).
    """

    #: constructor arguments saved in state_dict() and shown by repr
    config_names = ()

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expected an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_step = 0
        self._last_lr = None

    def _start(self):
        """Apply the lr of step 0; subclasses call it at the end of ``__init__``."""
        self._set(self.lr_at(0))

    def _set(self, lr):
        self.optimizer.lr = lr
        self._last_lr = float(lr)

    def lr_at(self, t):
        """Learning rate after ``t`` calls of ``step()`` (pure; no side effect)."""
        raise NotImplementedError

    def step(self):
        """Advance one step (or epoch) and set the optimizer's lr."""
        self.last_step += 1
        self._set(self.lr_at(self.last_step))

    def get_last_lr(self):
        """The learning rate set by the last ``step()`` (or by construction)."""
        return self._last_lr

    def config(self):
        return {name: getattr(self, name) for name in self.config_names}

    def state_dict(self):
        out = {"type": type(self).__name__, "base_lr": self.base_lr,
               "last_step": self.last_step, "last_lr": self._last_lr}
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.config().items()})
        return out

    def load_state_dict(self, state):
        """Restore the counter (and config) saved by :meth:`state_dict`; sets the lr."""
        owner = type(self).__name__
        if state.get("type") != owner:
            raise ValueError(f"{owner}.load_state_dict received the state of a {state.get('type')}")
        for name in self.config_names:
            value = state[name]
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.base_lr = float(state["base_lr"])
        self.last_step = int(state["last_step"])
        self._set(state["last_lr"])

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args}, last_step={self.last_step}, lr={self._last_lr})"
