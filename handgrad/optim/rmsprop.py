"""RMSprop: gradients divided by a running root-mean-square."""

import numpy as np

from .._checks import check_bool, check_real
from .base import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012) with PyTorch's update rule (``torch.optim.RMSprop``).

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of (str, Parameter)
        Usually ``model.parameters()``.
    lr : float, default 1e-2
        Learning rate :math:`\gamma` (>= 0).
    alpha : float, default 0.99
        Smoothing constant :math:`\alpha` of the squared-gradient average, in [0, 1].
    eps : float, default 1e-8
        Added to the denominator (> 0: with 0 a zero gradient gives 0/0 = NaN).
    weight_decay : float, default 0
        L2 penalty :math:`\lambda` (>= 0), added to the gradient.
    momentum : float, default 0
        Momentum factor :math:`\mu` in [0, 1).
    centered : bool, default False
        Divide by an estimate of the gradient's variance instead of its second moment.
    max_grad_norm : float, optional
        Clip the global gradient norm before the update (see :class:`Optimizer`).

    Notes
    -----
    ::

        g <- g_t + lambda * theta                        (if lambda != 0)
        v <- alpha * v + (1 - alpha) * g * g             (v, a, b start at 0)
        if centered:
            a <- alpha * a + (1 - alpha) * g
            d <- sqrt(v - a * a) + eps
        else:
            d <- sqrt(v) + eps
        if mu > 0:
            b <- mu * b + g / d
            theta <- theta - gamma * b
        else:
            theta <- theta - gamma * g / d

    State keys: ``"square_avg"``, and ``"grad_avg"`` (centered), ``"momentum_buffer"`` (mu > 0).

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = RMSprop({"w": w}, lr=0.01, alpha=0.75, eps=1e-12)
    >>> w.grad[:] = [2.0]
    >>> opt.step()                      # v = 0.25 * 4 = 1, so the step is 0.01 * 2 / 1
    >>> np.round(w.data, 9)
    array([0.98])
    """

    hyperparameter_names = ("alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, max_grad_norm=None):
        super().__init__(params, lr, max_grad_norm=max_grad_norm)
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.centered = centered
        self._check_hyperparameters()

    def _check_hyperparameters(self):
        owner = "RMSprop"
        self.alpha = check_real(self.alpha, "alpha", owner, low=0.0, high=1.0)
        self.eps = self._check_eps(self.eps)
        self.weight_decay = check_real(self.weight_decay, "weight_decay", owner, low=0.0)
        self.momentum = check_real(self.momentum, "momentum", owner, low=0.0, high=1.0, high_open=True)
        self.centered = check_bool(self.centered, "centered", owner)

    def _update(self, name, p, grad):
        a = self.alpha
        g = self._decayed_grad(name, p, grad, self.weight_decay)
        v = self._buffer(name, "square_avg", p)
        tmp = self._tmp(name, p)
        # v <- alpha v + (1 - alpha) g^2
        v *= a
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - a
        v += tmp
        if self.centered:
            avg = self._buffer(name, "grad_avg", p)
            avg *= a
            np.multiply(g, 1.0 - a, out=tmp)
            avg += tmp
            np.multiply(avg, avg, out=tmp)           # d <- sqrt(v - avg^2) + eps
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)                      # d <- sqrt(v) + eps
        tmp += self.eps
        np.divide(g, tmp, out=tmp)                   # tmp <- g / d
        if self.momentum > 0:
            b = self._buffer(name, "momentum_buffer", p)
            b *= self.momentum
            b += tmp
            np.multiply(b, self.lr, out=tmp)
        else:
            tmp *= self.lr
        p.data -= tmp
