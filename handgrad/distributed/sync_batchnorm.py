r"""Synchronized batch norm: statistics of the whole global batch, across the MPI ranks.

By default each rank normalizes with its own shard's statistics (as ``DataParallel``
does). :func:`convert_sync_batchnorm` turns every ``BatchNorm1d/2d`` of a model into its
synchronized form, which normalizes with the mean and variance of the whole batch: the
forward pass and every gradient then equal those of one process running plain batch
norm on the whole batch (tested to 1e-12 in float64, tests/distributed/).

With :math:`M = \sum_r M_r` entries per channel over all ranks (math: docs/batchnorm.md):

.. math::
    \mu = \frac1M \sum_r \sum_{i \in r} x_i, \qquad
    \sigma^2 = \frac1M \sum_r \sum_{i \in r} (x_i - \mu)^2,

two ``Allreduce`` calls of ``C`` values (plus the count) in forward. In backward,

.. math::
    \frac{\partial L}{\partial x_i} = \frac{\gamma}{M\sigma}
    \Big(M g_i - \sum_r \sum g - \hat x_i \sum_r \sum g \hat x\Big)

needs the global sums :math:`\sum g` and :math:`\sum g\hat x` (one ``Allreduce`` of
``2C`` values); :math:`\partial L/\partial\beta = \sum g` and
:math:`\partial L/\partial\gamma = \sum g\hat x` are added to the parameters' gradients
with the rank's *own* sums, which the data-parallel ``Allreduce`` then sums.

The conversion changes the layer's class in place (``layer.__class__``): the object, its
parameters and buffers stay the same, so optimizers and references are unaffected, and
:func:`revert_sync_batchnorm` turns it back (e.g. before saving a model for use without MPI).
A synchronized layer with no world, or a world of one, is plain batch norm.
"""

import numpy as np

from ..io import register_layer
from ..layers import BatchNorm1d, BatchNorm2d, Layer
from ..layers.normalization import _BatchNorm


class _SyncBatchNorm:
    """Forward and backward with statistics over every rank of ``self.world``."""

    world = None

    def _synced(self):
        return self.training and self.world is not None and self.world.size > 1

    def forward(self, x):
        if not self._synced():
            return super().forward(x)
        self._check(x)
        C = self.num_features
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, C) + (1,) * (x.ndim - 2)
        sums = np.empty(C + 1, np.float64)
        sums[:C], sums[C] = x.sum(axis=axes), x.size // C
        self.world.allreduce(sums)                          # [sum x per channel, M]
        M = int(round(sums[C]))
        if M < 2:
            raise ValueError(f"{type(self).__name__} in training mode needs more than one value per "
                             f"channel over all ranks, got {M}")
        mean = (sums[:C] / M).astype(x.dtype)               # (C,)
        xc = x - mean.reshape(bshape)
        sq = np.asarray(np.sum(xc * xc, axis=axes), np.float64)
        var = (self.world.allreduce(sq) / M).astype(x.dtype)   # (C,) biased variance of the whole batch
        inv_std = 1 / np.sqrt(var + self.dtype.type(self.eps))
        xhat = xc
        xhat *= inv_std.reshape(bshape)
        m = self.dtype.type(self.momentum)
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += (m * M / (M - 1)) * var
        y = xhat
        if self.affine:
            y = xhat * self.weight.data.reshape(bshape)
            y += self.bias.data.reshape(bshape)
        self._cache = ("synced", xhat, inv_std, axes, bshape, M)
        return y

    def backward(self, grad_out):
        cache = self._saved()
        if cache[0] != "synced":
            return super().backward(grad_out)
        _, xhat, inv_std, axes, bshape, M = cache
        C, g = self.num_features, grad_out
        local = np.empty(2 * C, np.float64)
        local[:C], local[C:] = g.sum(axis=axes), np.sum(g * xhat, axis=axes)   # this rank's sums
        scale = inv_std
        if self.affine:
            self.weight.grad += local[C:].astype(g.dtype)    # own sums: the data-parallel
            self.bias.grad += local[:C].astype(g.dtype)      # Allreduce adds the other ranks'
            scale = self.weight.data * inv_std
        total = self.world.allreduce(local.copy()).astype(g.dtype)
        sum_g, sum_gx = total[:C], total[C:]
        dx = xhat * sum_gx.reshape(bshape)
        dx += sum_g.reshape(bshape)
        np.subtract(g * g.dtype.type(M), dx, out=dx)
        dx *= (scale / M).reshape(bshape)
        return dx


@register_layer
class SyncBatchNorm1d(_SyncBatchNorm, BatchNorm1d):
    """:class:`~handgrad.layers.BatchNorm1d` with statistics over every rank (see module docs)."""


@register_layer
class SyncBatchNorm2d(_SyncBatchNorm, BatchNorm2d):
    """:class:`~handgrad.layers.BatchNorm2d` with statistics over every rank (see module docs)."""


_SYNCED = {BatchNorm1d: SyncBatchNorm1d, BatchNorm2d: SyncBatchNorm2d}
_PLAIN = {v: k for k, v in _SYNCED.items()}


def _layers(layer):
    yield layer
    for _, child in layer.named_children():
        yield from _layers(child)


def convert_sync_batchnorm(model, world):
    """Make every ``BatchNorm1d/2d`` in ``model`` synchronize over ``world``, in place.

    Returns the number of layers converted. Convert before wrapping the model in
    :class:`~handgrad.distributed.DistributedDataParallel`.
    """
    if not isinstance(model, Layer):
        raise TypeError(f"convert_sync_batchnorm expected a Layer, got {type(model).__name__}")
    count = 0
    for layer in _layers(model):
        cls = _SYNCED.get(type(layer))
        if cls is not None:
            layer.__class__ = cls
            count += 1
        if isinstance(layer, _SyncBatchNorm):
            layer.world = world
    return count


def revert_sync_batchnorm(model):
    """Turn synchronized batch norm layers of ``model`` back into plain ones, in place."""
    for layer in _layers(model):
        cls = _PLAIN.get(type(layer))
        if cls is not None:
            layer.__dict__.pop("world", None)
            layer.__class__ = cls
    return model


def synced_buffer_names(model, prefix=""):
    """Dotted names of the buffers of synchronized batch norm layers (equal on every rank)."""
    names = []
    if isinstance(model, _SyncBatchNorm) and isinstance(model, _BatchNorm):
        names += [f"{prefix}{b}" for b in model.buffer_names]
    for name, child in model.named_children():
        names += synced_buffer_names(child, f"{prefix}{name}.")
    return names
