"""Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay."""

import numpy as np

from .._checks import check_bool, check_real
from .base import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update rule.

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of (str, Parameter)
        Usually ``model.parameters()``.
    lr : float
        Learning rate :math:`\gamma` (>= 0).
    momentum : float, default 0
        Momentum factor :math:`\mu` in [0, 1) (at 1 and above the velocity never decays).
    dampening : float, default 0
        Dampening :math:`\tau` of the momentum, in [0, 1].
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    weight_decay : float, default 0
        L2 penalty :math:`\lambda` (>= 0), added to the gradient.
    max_grad_norm : float, optional
        Clip the global gradient norm before the update (see :class:`Optimizer`).

    Notes
    -----
    For every parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        g <- g_t + lambda * theta                    (if lambda != 0)
        if mu != 0:
            if t == 1:  b <- g
            else:       b <- mu * b + (1 - tau) * g
            if nesterov: g <- g + mu * b
            else:        g <- b
        theta <- theta - gamma * g

    The momentum buffer ``b`` is saved in the state as ``"momentum_buffer"``.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> w = Parameter(np.array([1.0, 2.0]))
    >>> opt = SGD({"w": w}, lr=0.1, momentum=0.9)
    >>> w.grad[:] = [1.0, -1.0]
    >>> opt.step()
    >>> w.data
    array([0.9, 2.1])
    """

    hyperparameter_names = ("momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
                 *, max_grad_norm=None):
        super().__init__(params, lr, max_grad_norm=max_grad_norm)
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self._check_hyperparameters()

    def _check_hyperparameters(self):
        owner = "SGD"
        self.momentum = check_real(self.momentum, "momentum", owner, low=0.0, high=1.0, high_open=True)
        self.dampening = check_real(self.dampening, "dampening", owner, low=0.0, high=1.0)
        self.weight_decay = check_real(self.weight_decay, "weight_decay", owner, low=0.0)
        self.nesterov = check_bool(self.nesterov, "nesterov", owner)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                f"SGD with nesterov=True requires momentum > 0 and dampening == 0, "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )

    def _update(self, name, p, grad):
        g = self._decayed_grad(name, p, grad, self.weight_decay)
        if self.momentum != 0:
            st = self.state[name]
            if "momentum_buffer" not in st:
                b = st["momentum_buffer"] = g.copy()        # first step: b = g
            else:
                b = st["momentum_buffer"]
                b *= self.momentum
                if self.dampening == 0:
                    b += g
                else:
                    tmp = self._tmp(name, p)
                    np.multiply(g, 1.0 - self.dampening, out=tmp)
                    b += tmp
            if self.nesterov:
                tmp = self._tmp(name, p)
                np.multiply(b, self.momentum, out=tmp)      # g + mu * b
                tmp += g
                g = tmp
            else:
                g = b
        tmp = self._tmp(name, p)
        np.multiply(g, self.lr, out=tmp)                    # tmp may alias g: elementwise is safe
        p.data -= tmp
