"""AdaGrad: per-coordinate learning rates from the accumulated squared gradients."""

import numpy as np

from .._checks import check_real
from .base import Optimizer


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011) with PyTorch's update rule (``torch.optim.Adagrad``).

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of (str, Parameter)
        Usually ``model.parameters()``.
    lr : float, default 1e-2
        Learning rate :math:`\gamma` (>= 0).
    lr_decay : float, default 0
        Learning-rate decay :math:`\eta` (>= 0).
    weight_decay : float, default 0
        L2 penalty :math:`\lambda` (>= 0), added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squares (>= 0).
    eps : float, default 1e-10
        Added to the denominator (>= 0).
    max_grad_norm : float, optional
        Clip the global gradient norm before the update (see :class:`Optimizer`).

    Notes
    -----
    ::

        g <- g_t + lambda * theta                            (if lambda != 0)
        gamma_t <- gamma / (1 + (t - 1) * eta)
        s <- s + g * g                                       (s starts at initial_accumulator_value)
        theta <- theta - gamma_t * g / (sqrt(s) + eps)

    State key: ``"sum"``.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> w = Parameter(np.array([1.0, 1.0]))
    >>> opt = AdaGrad({"w": w}, lr=0.5)
    >>> w.grad[:] = [2.0, -0.1]
    >>> opt.step()                      # first step: lr * g / |g|
    >>> np.round(w.data, 6)
    array([0.5, 1.5])
    """

    hyperparameter_names = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, max_grad_norm=None):
        super().__init__(params, lr, max_grad_norm=max_grad_norm)
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.eps = eps
        self._check_hyperparameters()
        for name, p in self.params.items():            # the sum exists from the start, as in torch
            self._buffer(name, "sum", p, fill=self.initial_accumulator_value)

    def _check_hyperparameters(self):
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value"):
            setattr(self, key, check_real(getattr(self, key), key, "AdaGrad", low=0.0))
        self.eps = self._check_eps(self.eps)            # 0: 0/0 on zero gradients

    def _update(self, name, p, grad):
        g = self._decayed_grad(name, p, grad, self.weight_decay)
        clr = self.lr / (1.0 + (self.step_count - 1) * self.lr_decay)
        s = self._buffer(name, "sum", p, fill=self.initial_accumulator_value)
        tmp = self._tmp(name, p)
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= clr
        p.data -= tmp
