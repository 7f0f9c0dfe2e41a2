"""Adam and AdamW: bias-corrected first and second moment estimates."""

import math

import numpy as np

from .._checks import check_bool, check_real
from .base import Optimizer


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's update rule; weight decay as an L2 term.

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of (str, Parameter)
        Usually ``model.parameters()``.
    lr : float, default 1e-3
        Learning rate :math:`\gamma` (>= 0).
    betas : (float, float), default (0.9, 0.999)
        Decay rates :math:`\beta_1, \beta_2` of the moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator (> 0: with 0 a zero gradient gives 0/0 = NaN).
    weight_decay : float, default 0
        L2 penalty :math:`\lambda` (>= 0), added to the gradient.
    amsgrad : bool, default False
        Use the running maximum of the second moment (Reddi et al., 2018).
    max_grad_norm : float, optional
        Clip the global gradient norm before the update (see :class:`Optimizer`).

    Notes
    -----
    For every parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        g <- g_t + lambda * theta                        (if lambda != 0)
        m <- beta1 * m + (1 - beta1) * g                 (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g * g
        if amsgrad: v_max <- max(v_max, v);  u <- v_max
        else:       u <- v
        theta <- theta - gamma / (1 - beta1^t) * m / (sqrt(u) / sqrt(1 - beta2^t) + eps)

    Bias correction: with :math:`m_0 = 0`, :math:`m_t = (1-\beta_1)\sum_{k\le t}
    \beta_1^{t-k} g_k`, so for a stationary gradient :math:`E[m_t] = (1-\beta_1^t) E[g]`;
    dividing by :math:`1-\beta_1^t` (and :math:`v_t` by :math:`1-\beta_2^t`) removes the
    bias toward zero of the early steps. State keys: ``"exp_avg"``, ``"exp_avg_sq"`` and,
    with amsgrad, ``"max_exp_avg_sq"``.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> w = Parameter(np.array([1.0, 2.0]))
    >>> opt = Adam({"w": w}, lr=0.1)
    >>> w.grad[:] = [0.5, -3.0]
    >>> opt.step()                      # the first step moves each entry by ~lr * sign(g)
    >>> np.round(w.data, 6)
    array([0.9, 2.1])
    """

    hyperparameter_names = ("betas", "eps", "weight_decay", "amsgrad")
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, max_grad_norm=None):
        super().__init__(params, lr, max_grad_norm=max_grad_norm)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self._check_hyperparameters()

    def _check_hyperparameters(self):
        owner = type(self).__name__
        betas = self.betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{owner} expected betas to be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_real(betas[0], "betas[0]", owner, low=0.0, high=1.0, high_open=True),
                      check_real(betas[1], "betas[1]", owner, low=0.0, high=1.0, high_open=True))
        self.eps = self._check_eps(self.eps)             # 0: 0/0 on zero gradients
        self.weight_decay = check_real(self.weight_decay, "weight_decay", owner, low=0.0)
        self.amsgrad = check_bool(self.amsgrad, "amsgrad", owner)

    def _update(self, name, p, grad):
        beta1, beta2 = self.betas
        t = self.step_count
        if self._decoupled:                              # AdamW: theta <- theta (1 - lr lambda)
            if self.weight_decay != 0:
                p.data *= 1.0 - self.lr * self.weight_decay
            g = grad
        else:                                            # Adam: g <- g + lambda theta
            g = self._decayed_grad(name, p, grad, self.weight_decay)
        m = self._buffer(name, "exp_avg", p)
        v = self._buffer(name, "exp_avg_sq", p)
        tmp = self._tmp(name, p)
        # m <- beta1 m + (1 - beta1) g
        m *= beta1
        np.multiply(g, 1.0 - beta1, out=tmp)
        m += tmp
        # v <- beta2 v + (1 - beta2) g^2
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if self.amsgrad:
            v_max = self._buffer(name, "max_exp_avg_sq", p)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = self.lr / (1.0 - beta1 ** t)
        # tmp <- sqrt(v) / sqrt(1 - beta2^t) + eps
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - beta2 ** t)
        tmp += self.eps
        # theta <- theta - step_size * m / tmp
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p.data -= tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.

    Same parameters as :class:`Adam`, except ``weight_decay`` defaults to ``1e-2`` and
    shrinks the weights directly instead of entering the gradient.

    Notes
    -----
    ::

        theta <- theta * (1 - gamma * lambda)            (decoupled decay, first)
        m <- beta1 * m + (1 - beta1) * g_t
        v <- beta2 * v + (1 - beta2) * g_t * g_t
        u <- max(v_max, v) if amsgrad else v
        theta <- theta - gamma / (1 - beta1^t) * m / (sqrt(u) / sqrt(1 - beta2^t) + eps)

    With L2 decay (``Adam``) the term :math:`\lambda\theta` is divided by
    :math:`\sqrt{\hat v}` like the gradient, so weights with large gradients are decayed
    less; the decoupled form decays every weight by the same factor.

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = AdamW({"w": w}, lr=0.1, weight_decay=0.5)
    >>> opt.step()                      # zero gradient: only the decay 1 - 0.1 * 0.5
    >>> w.data
    array([0.95])
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, max_grad_norm=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, max_grad_norm=max_grad_norm)
