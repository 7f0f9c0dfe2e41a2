"""Inverted dropout. Math: docs/dropout.md."""

from .._checks import as_rng, check_array, check_probability
from .base import Layer


class Dropout(Layer):
    r"""Zero each entry with probability ``p`` during training; scale the rest by ``1/(1-p)``.

    Parameters
    ----------
    p : float in [0, 1)
        Probability of dropping an entry (default 0.5).
    rng : numpy.random.Generator or int, optional
        The layer's own generator for the masks (never NumPy's global state).

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    With a mask :math:`m_i \sim \mathrm{Bernoulli}(1-p)` drawn for every forward pass in
    training mode ("inverted" dropout scales at training time, so evaluation is the identity):

    .. math::
        y = \frac{m \odot x}{1 - p}, \qquad
        \mathbb{E}[y] = x, \qquad
        \frac{\partial L}{\partial x} = \frac{m \odot g}{1 - p}

    In evaluation mode (``layer.eval()``) :math:`y = x` and :math:`\partial L/\partial x = g`.
    To check gradients numerically the mask must be the same at every evaluation: call
    :meth:`reseed` with a fixed seed before each forward pass (``gradcheck(...,
    before_forward=lambda: layer.reseed(0))``). Math: docs/dropout.md.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dropout(0.5, rng=0)
    >>> y = layer(np.ones((2, 4)))
    >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    >>> layer.eval()(np.ones((2, 4))).tolist()[0]
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_probability(p, "p", "Dropout")
        self.rng = as_rng(rng, "Dropout rng")

    def reseed(self, rng):
        """Replace the mask generator (an int seed or a Generator); the same seed gives the same masks."""
        self.rng = as_rng(rng, "Dropout rng")
        return self

    def forward(self, x):
        check_array(x, "Dropout")
        if not self.training or self.p == 0.0:
            self._cache = ("identity", None)
            return x.copy()
        scale = x.dtype.type(1.0 / (1.0 - self.p))
        # mask entries are 0 or 1/(1-p): the kept units are scaled in the same multiply
        mask = (self.rng.random(x.shape) >= self.p) * scale
        self._cache = ("mask", mask)
        return x * mask

    def backward(self, grad_out):
        kind, mask = self._saved()
        if kind == "identity":
            return grad_out.copy()
        return grad_out * mask

    def get_config(self):
        return {"p": self.p}

    def extra_repr(self):
        return f"p={self.p}"
