"""Data parallelism over threads: each worker runs forward and backward on a slice of the batch.

Math and measurements: docs/data_parallel.md.

NumPy's element-wise loops, copies and reductions use one core; only its matrix products
(BLAS) use more. On a 2-core machine half of a training step therefore leaves a core idle.
:class:`DataParallel` splits each batch along axis 0 into ``workers`` shards and runs the
shards through copies ("replicas") of the model in threads at once; NumPy releases the GIL
inside its loops, so the shards really run side by side. BLAS is pinned to one thread per
worker meanwhile (see :mod:`handgrad._blas`).

The math is the ordinary one. A loss that is a mean over the batch has
``dL/dy = (dL/dy_1, ..., dL/dy_W)`` stacked by shard, and every parameter gradient is a
sum over samples, so

    dL/dθ = Σ_w  Σ_{n in shard w} dL/dy_n · ∂y_n/∂θ  =  Σ_w  (gradient of replica w)

The replicas share the parameters' ``data`` (optimizers update it in place) and keep their
own ``grad``; :meth:`DataParallel.backward` adds their sum into the model's gradients.
For layers that act on each sample alone (convolution, pooling, dense, activations) the
result equals the single-threaded one up to the order of floating-point additions.

Two layers see the shard instead of the batch:

* ``BatchNorm`` normalizes each shard with its own statistics (as PyTorch's DataParallel
  does without SyncBatchNorm); the running statistics are averaged over the replicas after
  each forward, which for equal shards is exactly the update the whole batch would give to
  the running mean.
* ``Dropout`` layers of every replica draw their masks from generators seeded, at every
  training forward, from the model's own generator (:func:`handgrad._shards.shard_generators`),
  so a run is reproducible for a seed and a worker count, a checkpoint of the model's
  generators resumes it exactly, and an MPI run on as many ranks draws the same masks.

The split and the seeding are shared with :mod:`handgrad.distributed` (:mod:`handgrad._shards`).
"""

import copy
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from .._blas import blas_threads
from .._threads import one_thread_here
from .._shards import random_layers, shard_bounds, shard_generators, using_generators
from ..layers.base import Layer
from ..losses.base import Loss


class DataParallel(Layer):
    """Run ``module`` on ``workers`` slices of each batch in parallel threads.

    Not a layer of a model file: it wraps one. ``parameters()``, ``buffers()``,
    ``state_dict()`` are the wrapped module's (same names), so an optimizer built on either
    is the same optimizer. Batches smaller than ``workers`` use fewer workers.

    Shape
    -----
    as ``module``; shards are ``np.array_split`` of axis 0 (:func:`handgrad._shards.shard_bounds`).

    Examples
    --------
    >>> from handgrad.layers import Linear
    >>> layer = Linear(3, 2, rng=0, dtype=np.float64)
    >>> dp = DataParallel(layer, workers=2)
    >>> x = np.arange(12.0).reshape(4, 3)
    >>> bool(np.allclose(dp(x), layer(x)))
    True
    """

    def __init__(self, module, workers=2):
        super().__init__()
        if not isinstance(module, Layer):
            raise TypeError(f"DataParallel expected a Layer to wrap, got {type(module).__name__}")
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"DataParallel expected workers to be a positive int, got {workers!r}")
        self.module, self.workers = module, int(workers)
        self.training = module.training
        self._replicas = [module]                   # replica 0 is the module itself
        self._links = []                            # per replica 1..: what it shares with the module
        self._masters = random_layers(module)       # layers whose generators seed every shard's
        self._pool = None

    # the wrapped module's structure, under its own names
    def named_children(self):
        return self.module.named_children()

    def parameters(self):
        return self.module.parameters()

    def buffers(self):
        return self.module.buffers()

    def train(self, mode=True):
        self.training = bool(mode)
        self.module.train(mode)
        for links in self._links:
            links.replica.train(mode)
            links.training = self.training
        return self

    def _replica_set(self, count):
        """The first ``count`` replicas, created on first need, synchronized with the module."""
        while len(self._replicas) < count:
            replica = copy.deepcopy(self.module)
            self._replicas.append(replica)
            self._links.append(_Links(self.module, replica))
        for links in self._links[:count - 1]:
            links.sync(self.training)
        return self._replicas[:count]

    def _seeded(self, count):
        """Per replica, a context in which its random layers draw from its shard's generators."""
        if not self.training:
            return [nullcontext()] * count
        layers = [self._masters] + [links.random for links in self._links[:count - 1]]
        return [using_generators(ls, gs) for ls, gs in zip(layers, shard_generators(self._masters, count))]

    def _run(self, fn, items):
        """``[fn(i, item) for i, item in enumerate(items)]``, item 0 on this thread, in parallel."""
        if len(items) == 1:
            return [fn(0, items[0])]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers - 1,
                                            thread_name_prefix="handgrad-dp")
        state = np.geterr()                  # NumPy's error handling is per thread: the caller's

        def in_callers_state(i, item):
            with np.errstate(**state):
                return fn(i, item)

        with blas_threads(1), one_thread_here():      # each worker's operations on its own thread
            futures = [self._pool.submit(in_callers_state, i, item) for i, item in enumerate(items[1:], start=1)]
            first = fn(0, items[0])
            return [first] + [f.result() for f in futures]

    def forward(self, x):
        x = np.asarray(x)
        bounds = shard_bounds(len(x), self.workers)
        count = len(bounds)
        replicas = self._replica_set(count)
        shards = [x[a:b] for a, b in bounds] if count > 1 else [x]
        seeded = self._seeded(count)

        def forward(i, xs):
            with seeded[i]:
                return replicas[i].forward(xs)
        outs = self._run(forward, shards)
        self._cache = [len(s) for s in shards]
        if self.training and count > 1:
            self._average_buffers(replicas)
        return outs[0] if count == 1 else np.concatenate(outs)

    def _average_buffers(self, replicas):
        """Each floating buffer of the module (replica 0) becomes the mean over the replicas."""
        for own, *others in zip(*(r.buffers().values() for r in replicas)):
            if np.issubdtype(own.dtype, np.floating):
                own[...] = np.mean([own, *others], axis=0)

    def backward(self, grad_out):
        dxs = self._backward(grad_out, "backward")
        return dxs[0] if len(dxs) == 1 else np.concatenate(dxs)

    def backward_params(self, grad_out):
        self._backward(grad_out, "backward_params")

    def _backward(self, grad_out, method):
        """Each replica's ``method`` (``backward`` or ``backward_params``) on its slice of
        ``grad_out``, then the replicas' parameter gradients summed into the model's."""
        sizes = self._saved()
        count = len(sizes)
        replicas = self._replicas[:count]
        grads = np.split(grad_out, np.cumsum(sizes)[:-1]) if count > 1 else [grad_out]
        def backward(i, g):
            if i:
                replicas[i].zero_grad()             # in the worker: replica grads are its own
            return getattr(replicas[i], method)(g)
        dxs = self._run(backward, grads)
        self._sum_grads(count)
        return dxs

    def forward_backward(self, x, target, loss):
        """One training pass: outputs, loss and gradients of a batch, with the workers
        meeting once instead of twice.

        Each worker runs forward on its shard, the loss of its shard (on its own copy of
        ``loss``) and backward of that loss scaled by the shard's share of the batch, so no
        thread waits for the others between forward and backward. For a loss that is a mean
        (or a sum) of per-sample terms, as every handgrad loss is, the gradients equal those
        of ``loss.forward(self.forward(x), target)`` followed by ``self.backward(loss.backward())``.
        With one worker (``fit``'s default) or another kind of loss object, that plain pass is
        what runs: forward, loss, backward of the whole batch. Parameter gradients accumulate as with
        ``backward``; the input gradient is not returned.

        Returns ``(outputs, value)``: the outputs of the whole batch and the loss. When some
        shard's outputs hold NaN or inf, that shard skips its loss and backward and the value
        is NaN (the caller decides what to do; gradients are then incomplete).
        """
        x = np.asarray(x)
        bounds = shard_bounds(len(x), self.workers)
        count = len(bounds)
        if count == 1 or not (isinstance(loss, Loss) and loss.reduction in ("mean", "sum")):
            out = self.forward(x)
            if not np.isfinite(out).all():
                return out, float("nan")
            value = float(loss.forward(out, target))
            self.backward_params(loss.backward())
            return out, value
        replicas = self._replica_set(count)
        losses = [copy.copy(loss) for _ in range(count)]   # each keeps its own cache; `loss` is untouched
        target = np.asarray(target)
        shards = [x[a:b] for a, b in bounds]
        targets = [target[a:b] for a, b in bounds]
        seeded = self._seeded(count)
        shares = [len(s) / len(x) if loss.reduction == "mean" else 1.0 for s in shards]

        def step(i, item):
            xs, ts = item
            if i:
                replicas[i].zero_grad()             # in the worker: replica grads are its own
            with seeded[i]:
                out = replicas[i].forward(xs)
            if not np.isfinite(out).all():
                return out, None
            value = losses[i].forward(out, ts)      # the shard's mean (or sum)
            g = losses[i].backward()
            replicas[i].backward_params(g * g.dtype.type(shares[i]) if shares[i] != 1.0 else g)
            return out, value

        results = self._run(step, list(zip(shards, targets)))
        self._cache = None                          # backward() needs a forward of its own
        if self.training:
            self._average_buffers(replicas)
        self._sum_grads(count)
        values = [v for _, v in results]
        value = float("nan") if None in values else float(sum(v * w for v, w in zip(values, shares)))
        return np.concatenate([out for out, _ in results]), value

    def _sum_grads(self, count):
        """Add the gradients of replicas 1..count-1 into the model's."""
        for links in self._links[:count - 1]:
            for p, q in links.params:
                p.grad += q.grad

    def get_config(self):
        return {"workers": self.workers}

    def __repr__(self):
        return f"DataParallel(workers={self.workers}, module={self.module!r})"


class _Links:
    """What replica ``replica`` shares with ``module``, paired once: the parameters (the
    replica uses the module's ``data``) and its layers with their own random generator
    (given their shard's generators at every training forward). Buffers are looked up at every forward (an array
    may have been replaced, e.g. running statistics reset by assignment) and copied."""

    def __init__(self, module, replica):
        self.module, self.replica = module, replica
        self.params = list(zip(module.parameters().values(), replica.parameters().values()))
        self.random = random_layers(replica)
        self.training = None                        # the mode last given to the replica

    def sync(self, training):
        for p, q in self.params:
            if q.data is not p.data:
                q.data = p.data                     # shared: optimizers update data in place
        for b, c in zip(self.module.buffers().values(), self.replica.buffers().values()):
            c[...] = b
        if self.training != training:
            self.replica.train(training)
            self.training = training
