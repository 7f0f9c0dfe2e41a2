r"""Synchronous data-parallel training over MPI ranks: one ``Allreduce`` per step.

Math and cost model: docs/distributed.md.

Every rank holds a full copy of the model. A global batch of ``N`` samples is split into
the same shards as :class:`handgrad.training.DataParallel` splits it
(:func:`handgrad._shards.shard_bounds`); rank ``r`` reads and runs only shard ``r``. For a
loss that is a mean of per-sample terms,

.. math::
    L = \frac1N \sum_n \ell_n = \sum_r \frac{N_r}{N} L_r, \qquad
    \frac{\partial L}{\partial \theta} = \sum_r \frac{N_r}{N} \frac{\partial L_r}{\partial \theta},

so each rank back-propagates its shard's loss scaled by its share ``N_r / N`` and the sum
over ranks of those gradients is the gradient of the whole batch. The sum is one
``MPI_Allreduce`` (in place, ``SUM``) over a single contiguous buffer::

    flat = [ every parameter's grad | running statistics / count | loss share, correct ]
             (P values)               (B values)                    (2 values)

Each ``Parameter.grad`` *is* a view of ``flat`` (the layers' ``+=`` writes straight into
it), so nothing is packed before the call or unpacked after it: no per-parameter
messages. The running statistics of (per-rank) batch norm ride along and come back as
their mean over the ranks, exactly as :class:`~handgrad.training.DataParallel` averages its
replicas'; the last two slots give every rank the whole batch's loss and number of correct
predictions, so the divergence check, the progress bar and the history agree everywhere.

At construction the parameters, buffers and the random layers' generators of rank 0 are
broadcast to every rank, so all replicas start identical. Dropout masks use the shard
generators of :mod:`handgrad._shards`, the same ones ``DataParallel`` uses.
"""

from contextlib import nullcontext

import numpy as np

from .._shards import random_layers, shard_bounds, shard_generators, using_generators
from ..data import to_float
from ..layers import Layer
from ..losses.base import Loss
from ..parameter import model_dtype
from ..training.fit import evaluate, predict
from ..training.metrics import compute_metrics, labels
from .loader import ShardedLoader
from .sync_batchnorm import synced_buffer_names
from .world import World, flat_concat


class DistributedDataParallel:
    """Train ``model`` as one rank of ``world``; pass it to ``fit(..., distributed=ddp)``.

    Parameters
    ----------
    model : Layer
        The same architecture on every rank (rank 0's weights are broadcast).
    world : World
        From :func:`handgrad.distributed.init`.

    Notes
    -----
    After construction each ``Parameter.grad`` of ``model`` is a view of one flat buffer;
    zero it (``optimizer.zero_grad()``, as ``fit`` does) before every step, since the
    ``Allreduce`` sums whatever the buffer holds.
    """

    def __init__(self, model, world):
        if not isinstance(model, Layer):
            raise TypeError(f"DistributedDataParallel expected a Layer to wrap, got {type(model).__name__}")
        if not isinstance(world, World):
            raise TypeError(f"DistributedDataParallel expected a handgrad.distributed.World "
                            f"(from handgrad.distributed.init()), got {type(world).__name__}")
        self.model, self.world = model, world
        self.rank, self.size = world.rank, world.size
        self.dtype = model_dtype(model)
        self.params = list(model.parameters().values())
        for name, p in model.parameters().items():
            if p.dtype != self.dtype:
                raise TypeError(f"DistributedDataParallel expected every parameter in {self.dtype}, "
                                f"got {name} in {p.dtype}")
        # floating buffers averaged over the ranks (synchronized batch norm's are equal already)
        synced = synced_buffer_names(model)
        self.requires_full_batches = bool(synced)      # synchronized batch norm: every rank must take part
        self._buffer_names = [k for k, b in model.buffers().items()
                              if np.issubdtype(np.asarray(b).dtype, np.floating) and k not in synced]
        self._masters = random_layers(model)
        P = sum(p.size for p in self.params)
        B = sum(np.asarray(model.buffers()[k]).size for k in self._buffer_names)
        self._flat = np.zeros(P + B + 2, self.dtype)
        self._spans = {"grads": (0, P), "buffers": (P, P + B), "figures": (P + B, P + B + 2)}
        self._grad_views = []
        offset = 0
        for p in self.params:                          # each grad becomes a view of the flat buffer
            view = self._flat[offset:offset + p.size].reshape(p.shape)
            view[...] = p.grad
            p.grad = view
            self._grad_views.append(view)
            offset += p.size
        self._broadcast_from_rank0()
        self.next_batch_size = None                    # set by shard(loader) for every batch
        self.batch_size, self.correct = None, None     # the last step's whole-batch figures
        self._out_tail = None                          # (shape[1:], dtype) of the model's output

    @property
    def gradient_bytes(self):
        """Bytes of the gradients that each step's ``Allreduce`` sums."""
        a, b = self._spans["grads"]
        return (b - a) * self.dtype.itemsize

    # -- start: every rank gets rank 0's weights, buffers and generators -------
    def _broadcast_from_rank0(self):
        if self.size == 1:
            return
        shapes = [(name, a.shape) for name, a in self.model.state_dict().items()]
        seen = self.world.allgather_object((shapes, self.dtype.name))
        for rank, other in enumerate(seen):
            if other != seen[0]:
                raise ValueError(f"DistributedDataParallel expected the same model on every rank, but "
                                 f"rank {rank}'s parameters and buffers differ from rank 0's "
                                 f"(names, shapes or dtype); build it with the same architecture everywhere")
        arrays = [p.data for p in self.params] + [np.asarray(b) for b in self.model.buffers().values()]
        flat = self.world.broadcast(flat_concat(arrays, np.float64))
        offset = 0
        for a in arrays:
            a[...] = flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size
        states = self.world.broadcast_object([layer.rng.bit_generator.state for layer in self._masters])
        for layer, state in zip(self._masters, states):
            layer.rng.bit_generator.state = state

    # -- the model's mode and names, as fit expects of the object it runs ------
    def train(self, mode=True):
        self.model.train(mode)
        return self

    def eval(self):
        return self.train(False)

    @property
    def training(self):
        return self.model.training

    def parameters(self):
        return self.model.parameters()

    # -- data --------------------------------------------------------------------
    def shard(self, loader):
        """This rank's view of ``loader`` (a :class:`handgrad.data.DataLoader`): of every
        batch, only this rank's shard is read (see :class:`ShardedLoader`)."""
        return ShardedLoader(loader, self)

    # -- one training step: forward, loss, backward, one Allreduce -------------
    def forward_backward(self, x, target, loss, batch_size=None):
        """Forward, loss and backward of this rank's shard, then the one ``Allreduce``.

        Parameters
        ----------
        x, target : this rank's shard of the batch (empty on ranks without one)
        loss : handgrad loss with ``reduction`` "mean" or "sum"
        batch_size : int, optional
            ``N``, the whole batch's size; default: the one the sharded loader last yielded.

        Returns
        -------
        (outputs, value)
            This rank's outputs and the loss of the whole batch (NaN when some rank's
            outputs were not finite). The whole batch's size and number of correct
            predictions are then in ``self.batch_size`` and ``self.correct``.
        """
        if not (isinstance(loss, Loss) and loss.reduction in ("mean", "sum")):
            raise TypeError(f"DistributedDataParallel needs a handgrad loss with reduction 'mean' or "
                            f"'sum' (its value is split over the ranks), got {loss!r}")
        N = self.next_batch_size if batch_size is None else int(batch_size)
        if N is None:
            raise RuntimeError("DistributedDataParallel.forward_backward needs batch_size= (the whole "
                               "batch's size) unless the data comes from ddp.shard(loader)")
        bounds = shard_bounds(N, self.size)
        count, active = len(bounds), self.rank < len(bounds)
        expected = bounds[self.rank][1] - bounds[self.rank][0] if active else 0
        if len(x) != expected or len(target) != expected:
            raise ValueError(f"rank {self.rank} of {self.size} expected its shard of a batch of {N}: "
                             f"{expected} samples, got {len(x)} inputs and {len(target)} targets")
        training = self.model.training
        share = len(x) / N if loss.reduction == "mean" else 1.0
        value, correct = 0.0, 0
        generators = shard_generators(self._masters, count) if training else None
        if active:
            seeded = using_generators(self._masters, generators[self.rank]) if training else nullcontext()
            with seeded:
                out = self.model.forward(x)
            self._out_tail = (out.shape[1:], out.dtype)
            if np.isfinite(out).all():
                shard_value = float(loss.forward(out, target))
                g = loss.backward()
                self.model.backward_params(g * g.dtype.type(share) if share != 1.0 else g)
                value = shard_value * share
                if out.ndim == 2:
                    correct = int(np.sum(labels(out) == labels(target)))
            else:
                value = np.nan
        else:
            out = np.empty((0,) + self._out_tail[0], self._out_tail[1]) if self._out_tail else np.empty((0,))
        self._reduce(active and training, count, value, correct)
        a, _ = self._spans["figures"]
        self.batch_size, self.correct = N, int(round(float(self._flat[a + 1])))
        return out, float(self._flat[a])

    def _reduce(self, average_buffers, count, value, correct):
        """Fill the buffer and figure slots, ``Allreduce`` the whole flat buffer, unpack buffers."""
        for p, view in zip(self.params, self._grad_views):
            if p.grad is not view:                       # someone replaced a grad array: take it back
                view[...] = p.grad
                p.grad = view
        lo, hi = self._spans["buffers"]
        buffers = self.model.buffers()
        segment = self._flat[lo:hi]
        offset = 0
        for name in self._buffer_names:
            b = buffers[name]
            part = segment[offset:offset + b.size]
            if average_buffers:
                np.multiply(b.ravel(), 1.0 / count, out=part, casting="unsafe")
            else:
                part[...] = 0
            offset += b.size
        a, _ = self._spans["figures"]
        self._flat[a], self._flat[a + 1] = value, correct
        self.world.allreduce(self._flat)
        if self.model.training:                          # every rank: the mean of the active ranks'
            offset = 0
            for name in self._buffer_names:
                b = buffers[name]
                b[...] = segment[offset:offset + b.size].reshape(b.shape)
                offset += b.size

    # -- the whole batch's figures for fit -------------------------------------
    def gather(self, outputs, targets):
        """Every rank's per-step ``outputs`` and ``targets`` (lists), joined step by step in
        rank order: the arrays one process would have seen. Every rank gets them."""
        parts = self.world.allgather_object((outputs, targets))
        steps = len(outputs)
        outs = [rank_parts[0][s] for s in range(steps) for rank_parts in parts]
        tgts = [rank_parts[1][s] for s in range(steps) for rank_parts in parts]
        return np.concatenate(outs), np.concatenate(tgts)

    def evaluate(self, loss, data, *, metrics=("accuracy",), batch_size=256):
        """:func:`handgrad.training.evaluate` of the whole ``data`` with the work split: each
        rank predicts one contiguous part, and every rank gets the figures of the whole.

        ``data`` is an ``(x, y)`` tuple; a loader is evaluated whole on every rank.
        """
        if not (isinstance(data, tuple) and len(data) == 2):
            return evaluate(self.model, loss, data, metrics=metrics, batch_size=batch_size)
        x, y = data
        bounds = shard_bounds(len(x), self.size)
        outputs, loss_sum = None, 0.0
        if self.rank < len(bounds):
            a, b = bounds[self.rank]
            xs, y_part = to_float(x[a:b], self.dtype.type), y[a:b]
            outputs = predict(self.model, xs, batch_size)
            if loss is not None:
                loss_sum = float(loss.forward(outputs, y_part)) * len(xs)
        parts = [p for p in self.world.allgather_object((outputs, loss_sum)) if p[0] is not None]
        outs = np.concatenate([p[0] for p in parts])
        result = {"loss": sum(p[1] for p in parts) / len(x)} if loss is not None else {}
        result.update(compute_metrics(metrics, outs, y))
        return result

    def __repr__(self):
        return f"DistributedDataParallel(rank={self.rank}, size={self.size}, model={self.model!r})"
