r"""The networks of the Raven solvers, built from handgrad layers, and their multi-output loss.

* :func:`panel_encoder`: one panel ``(N, 1, S, S)`` -> the logits of its five attributes,
  concatenated ``(N, 37)`` (type 6, count 9, size 6, colour 8, view 8).
* :func:`pair_network` (seed 003's design): two panels side by side ``(N, 1, S, 2S)`` -> the
  transformation from the left to the right one: logits of *type changed* (2), count change
  (17: -8..8), size change (11: -5..5), colour change (15: -7..7), *mirror image* (2), and two
  regression outputs :math:`(\cos k\Delta\theta, \sin k\Delta\theta)` of the rotation.
* :class:`SetScorer`: the answers-only baseline; a shared encoder turns each choice into
  features :math:`f_i`, and a head scores :math:`[f_i, \bar f]` (the choice beside the mean of
  all choices, so the net can compare the choices with each other).

:class:`MultiHeadLoss` sums a softmax cross-entropy per classification head and a mean
squared error over the regression outputs.
"""

import numpy as np

from .. import layers as L
from ..layers import Layer, Sequential
from ..losses import CrossEntropyLoss, Loss, MSELoss
from .panels import DOMAIN

ENCODER_HEADS = tuple(int(d) for d in DOMAIN)            # type, count, size, colour, view
PAIR_HEADS = (2, 17, 11, 15, 2)                          # type changed, d count, d size, d colour, mirror
PAIR_REGRESSION = 2                                      # cos, sin of k * rotation


def _conv_stack(widths, rng, dtype):
    """[Conv 3x3 (no bias) -> BatchNorm -> ReLU -> MaxPool 2] per width, from one channel."""
    layers, channels = [], 1
    for width in widths:
        layers += [L.Conv2d(channels, width, 3, padding=1, bias=False, rng=rng, dtype=dtype),
                   L.BatchNorm2d(width, dtype=dtype), L.ReLU(), L.MaxPool2d(2)]
        channels = width
    return layers, channels


def panel_encoder(size=40, widths=(16, 32, 64), hidden=128, rng=None, dtype=np.float32):
    """Panel ``(N, 1, size, size)`` -> attribute logits ``(N, sum(ENCODER_HEADS))``.

    ``size`` must be divisible by ``2 ** len(widths)``.
    """
    rng = np.random.default_rng(rng)
    layers, channels = _conv_stack(widths, rng, dtype)
    side = size // 2 ** len(widths)
    return Sequential(*layers, L.Flatten(),
                      L.Linear(channels * side * side, hidden, rng=rng, dtype=dtype), L.ReLU(),
                      L.Linear(hidden, sum(ENCODER_HEADS), rng=rng, dtype=dtype))


def pair_network(size=40, widths=(8, 16, 32), hidden=64, rng=None, dtype=np.float32):
    """Two panels side by side ``(N, 1, size, 2 size)`` -> ``(N, sum(PAIR_HEADS) + 2)``."""
    rng = np.random.default_rng(rng)
    layers, channels = _conv_stack(widths, rng, dtype)
    side = size // 2 ** len(widths)
    return Sequential(*layers, L.Flatten(),
                      L.Linear(channels * side * 2 * side, hidden, rng=rng, dtype=dtype), L.ReLU(),
                      L.Linear(hidden, sum(PAIR_HEADS) + PAIR_REGRESSION, rng=rng, dtype=dtype))


def split_heads(out, heads):
    """Column slices of ``out`` ``(N, sum(heads) + R)``: one per head, then the R regression columns."""
    edges = np.cumsum((0,) + tuple(heads))
    return [out[:, a:b] for a, b in zip(edges[:-1], edges[1:])] + [out[:, edges[-1]:]]


def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class MultiHeadLoss(Loss):
    r"""Sum of a cross-entropy per classification head and a weighted MSE on regression outputs.

    Shape
    -----
    - prediction: ``(N, sum(heads) + R)``: each head's logits, then R regression outputs
    - target: ``(N, len(heads) + R)`` float: each head's class index, then the R targets

    Notes
    -----
    .. math::
        L = \sum_h \mathrm{CE}(z_h, t_h) + w \cdot \mathrm{MSE}(y, t_{reg}),

    each term a mean over the batch; the gradient is each term's gradient in its own columns
    (:math:`(\mathrm{softmax}(z_h) - \mathrm{onehot}(t_h)) / N` and
    :math:`2 w (y - t) / (N R)`).
    """

    def __init__(self, heads, regression=0, weight=1.0):
        super().__init__("mean")
        self.heads, self.regression, self.weight = tuple(int(h) for h in heads), int(regression), float(weight)
        self._ce = [CrossEntropyLoss() for _ in self.heads]
        self._mse = MSELoss() if self.regression else None

    def forward(self, prediction, target):
        z = np.asarray(prediction)
        t = np.asarray(target)
        want = sum(self.heads) + self.regression
        if z.ndim != 2 or z.shape[1] != want or t.shape != (len(z), len(self.heads) + self.regression):
            raise ValueError(f"MultiHeadLoss expected prediction (N, {want}) and target "
                             f"(N, {len(self.heads) + self.regression}), got {z.shape} and {t.shape}")
        parts = split_heads(z, self.heads)
        total = sum(ce.forward(p, t[:, i].astype(np.int64)) for i, (ce, p) in enumerate(zip(self._ce, parts)))
        if self._mse is not None:
            total += self.weight * self._mse.forward(parts[-1], t[:, len(self.heads):].astype(z.dtype))
        self._cache = z.shape, z.dtype
        return float(total)

    def backward(self):
        shape, dtype = self._saved()
        grads = [ce.backward() for ce in self._ce]
        if self._mse is not None:
            grads.append(self.weight * self._mse.backward())
        return np.concatenate(grads, axis=1).astype(dtype, copy=False).reshape(shape)

    def get_config(self):
        return {"heads": self.heads, "regression": self.regression, "weight": self.weight}


def head_accuracy(heads):
    """A metric for :func:`handgrad.training.fit`: mean accuracy over the classification heads."""
    def head_accuracy(out, y):
        parts = split_heads(np.asarray(out), heads)
        return float(np.mean([np.mean(p.argmax(1) == y[:, i]) for i, p in enumerate(parts[:len(heads)])]))
    return head_accuracy


class SetScorer(Layer):
    r"""Scores each of n choices seeing all choices but no context: ``(N, n, 1, S, S) -> (N, n)``.

    With :math:`f_i = \mathrm{encoder}(x_i)` and :math:`\bar f = \frac1n \sum_j f_j`, the score is
    :math:`s_i = \mathrm{head}([f_i, \bar f])`.

    Notes
    -----
    Backward: with :math:`g_i = \partial L / \partial [f_i, \bar f]` split into
    :math:`(g_i^{own}, g_i^{mean})`,
    :math:`\partial L / \partial f_i = g_i^{own} + \frac1n \sum_j g_j^{mean}`.
    """

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x):
        if x.ndim != 5:
            raise ValueError(f"SetScorer expected input of shape (N, n, C, H, W), got {x.shape}")
        N, n = x.shape[:2]
        f = self.encoder.forward(x.reshape((N * n,) + x.shape[2:]))        # (N*n, F)
        F = f.shape[1]
        f3 = f.reshape(N, n, F)
        mean = np.broadcast_to(f3.mean(axis=1, keepdims=True), f3.shape)
        z = np.concatenate([f3, mean], axis=2).reshape(N * n, 2 * F)       # (N*n, 2F)
        self._cache = (N, n, F, x.shape)
        return self.head.forward(z).reshape(N, n)

    def backward(self, grad_out):
        N, n, F, shape = self._saved()
        gz = self.head.backward(grad_out.reshape(N * n, 1)).reshape(N, n, 2 * F)
        gf = gz[:, :, :F] + gz[:, :, F:].sum(axis=1, keepdims=True) / n
        dx = self.encoder.backward(gf.reshape(N * n, F))
        return None if dx is None else dx.reshape(shape)   # None: the first conv skips dL/dx


def set_scorer(size=40, widths=(8, 16, 32), features=64, rng=None, dtype=np.float32):
    """The answers-only :class:`SetScorer`: a small conv encoder and a two-layer head."""
    rng = np.random.default_rng(rng)
    layers, channels = _conv_stack(widths, rng, dtype)
    side = size // 2 ** len(widths)
    encoder = Sequential(*layers, L.Flatten(),
                         L.Linear(channels * side * side, features, rng=rng, dtype=dtype), L.ReLU())
    head = Sequential(L.Linear(2 * features, 64, rng=rng, dtype=dtype), L.ReLU(),
                      L.Linear(64, 1, rng=rng, dtype=dtype))
    return SetScorer(encoder, head)
