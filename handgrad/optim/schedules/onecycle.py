"""The 1cycle policy: warm up to ``max_lr``, then anneal far below the start."""

import math

from ..._checks import check_bool, check_positive_int, check_real
from .base import Schedule

_ANNEAL = ("cos", "linear")


class OneCycleLR(Schedule):
    r"""Smith & Topin's 1cycle learning-rate policy, as PyTorch's OneCycleLR (lr only).

    Parameters
    ----------
    optimizer : Optimizer
        Its lr is overwritten (the schedule depends only on ``max_lr``).
    max_lr : float
        Peak learning rate (> 0).
    total_steps : int
        Number of learning rates in the cycle (>= 2): ``lr_at(0) .. lr_at(total_steps - 1)``.
        One more ``step()`` (after the last batch) keeps the final lr; a further one is
        an error. (PyTorch extrapolates the last phase on that extra step, which can
        give a negative lr with ``anneal_strategy="linear"``.)
    pct_start : float, default 0.3
        Fraction of the cycle spent increasing the lr, in (0, 1).
    anneal_strategy : {"cos", "linear"}, default "cos"
    div_factor : float, default 25
        Initial lr = ``max_lr / div_factor``.
    final_div_factor : float, default 1e4
        Final lr = initial lr / ``final_div_factor``.
    three_phase : bool, default False
        Add a symmetric descent back to the initial lr before the final annealing.

    Notes
    -----
    With :math:`\eta_i = \eta_{max}/d`, :math:`\eta_f = \eta_i/d_f`, :math:`T` =
    ``total_steps`` and :math:`p` = ``pct_start``, the phases end at steps

    * two phases: :math:`e_1 = pT - 1` (:math:`\eta_i \to \eta_{max}`),
      :math:`e_2 = T - 1` (:math:`\eta_{max} \to \eta_f`);
    * three phases: :math:`e_1 = pT - 1`, :math:`e_2 = 2pT - 2` (:math:`\eta_{max} \to
      \eta_i`), :math:`e_3 = T - 1` (:math:`\eta_i \to \eta_f`).

    Within a phase from step :math:`s` to :math:`e`, going from :math:`a` to :math:`b`
    with :math:`x = (t - s)/(e - s)`:

    .. math::

        \text{cos: } \eta_t = b + \tfrac12(a - b)(1 + \cos \pi x), \qquad
        \text{linear: } \eta_t = a + (b - a)\,x

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> from handgrad.optim import SGD
    >>> opt = SGD({"w": Parameter(np.zeros(1))}, lr=0.1)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=10, div_factor=10, anneal_strategy="linear")
    >>> [round(sched.lr_at(t), 6) for t in (0, 1, 2, 9)]
    [0.1, 0.55, 1.0, 1e-05]
    """

    config_names = ("max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor",
                    "final_div_factor", "three_phase")

    def __init__(self, optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        super().__init__(optimizer)
        owner = "OneCycleLR"
        self.max_lr = check_real(max_lr, "max_lr", owner, low=0.0, low_open=True)
        self.total_steps = check_positive_int(total_steps, "total_steps", owner, minimum=2)
        self.pct_start = check_real(pct_start, "pct_start", owner, low=0.0, high=1.0,
                                    low_open=True, high_open=True)
        if anneal_strategy not in _ANNEAL:
            raise ValueError(f"OneCycleLR expected anneal_strategy in {_ANNEAL}, got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.div_factor = check_real(div_factor, "div_factor", owner, low=0.0, low_open=True)
        self.final_div_factor = check_real(final_div_factor, "final_div_factor", owner,
                                           low=0.0, low_open=True)
        self.three_phase = check_bool(three_phase, "three_phase", owner)
        self._start()

    def _phases(self):
        """List of (end_step, start_lr, end_lr)."""
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        T, p = self.total_steps, self.pct_start
        if self.three_phase:
            return [(p * T - 1, initial, self.max_lr), (2 * p * T - 2, self.max_lr, initial),
                    (T - 1, initial, final)]
        return [(p * T - 1, initial, self.max_lr), (T - 1, self.max_lr, final)]

    def lr_at(self, t):
        t = min(t, self.total_steps - 1)
        phases = self._phases()
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                x = (t - start) / (end - start)
                if self.anneal_strategy == "cos":
                    return b + 0.5 * (a - b) * (1.0 + math.cos(math.pi * x))
                return a + (b - a) * x
            start = end
        raise AssertionError("unreachable")

    def step(self):
        if self.last_step + 1 > self.total_steps:
            raise ValueError(
                f"OneCycleLR.step() called {self.last_step + 1} times, but total_steps={self.total_steps}"
            )
        super().step()
