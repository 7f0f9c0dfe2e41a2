"""The training loop: :func:`fit`, and :func:`evaluate` / :func:`predict` in eval mode.

``fit`` reads top to bottom, one phase after another:

1. set up: loaders, history, progress output, callbacks;
2. per epoch, in training mode, per batch: zero the gradients, forward, loss, backward,
   optimizer step (which clips the gradients when the optimizer has ``max_grad_norm``),
   per-step schedule, running figures;
3. at the epoch's end: training metrics, validation in eval mode, the epoch schedule,
   the History record, callbacks (which may stop training).

The loss object follows handgrad's loss contract: ``forward(outputs, targets) -> float``
(mean over the batch) and ``backward() -> dL/doutputs``.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._checks import as_rng, check_positive_int
from ..data import DataLoader, to_float
from ..layers.base import check_distinct_layers
from ..optim import ReduceLROnPlateau
from ..parameter import model_dtype
from .callbacks import Callback
from .data_parallel import DataParallel
from .history import History
from .metrics import compute_metrics, labels
from .progress import Progress


class TrainingError(FloatingPointError):
    """Training diverged: the loss became NaN or infinite, or exploded (see :func:`fit`)."""


@dataclass
class FitState:
    """What callbacks see of a running :func:`fit`."""
    model: object
    optimizer: object
    schedule: object
    history: History
    rngs: dict
    epoch: int = 0
    stop_training: bool = False
    extra: dict = field(default_factory=dict)


def as_loader(data, batch_size, *, shuffle, rng, dtype, what):
    """A loader (iterable of ``(x, y)`` batches with ``len``) from a loader or an ``(x, y)`` tuple."""
    if isinstance(data, tuple) and len(data) == 2:
        if batch_size is None:
            raise ValueError(f"{what} was given as an (x, y) tuple; pass batch_size= too "
                             f"(or pass a handgrad.data.DataLoader)")
        return DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle, rng=rng, dtype=dtype)
    if not (hasattr(data, "__iter__") and hasattr(data, "__len__")):
        raise TypeError(f"{what} must be an (x, y) tuple or a loader (iterable of (x, y) batches "
                        f"with len()), got {type(data).__name__}")
    return data


def generators(train_data, rng=None):
    """The Generators a run depends on besides the model's, by name.

    ``"data"``: the loader's ``rng`` (or ``rng`` itself for an ``(x, y)`` tuple, which
    ``fit`` batches with it); ``"data.transform"``: its transform's ``rng`` (augmentation);
    ``"fit"``: ``rng`` when it is not one of those. Pass the same dict as ``rngs=`` to
    :func:`handgrad.load_checkpoint` to resume a run exactly.
    """
    holders = {"data": train_data, "data.transform": getattr(train_data, "transform", None)}
    out = {name: getattr(obj, "rng", None) for name, obj in holders.items()}
    if isinstance(train_data, tuple):
        out["data"] = rng
    out = {name: g for name, g in out.items() if isinstance(g, np.random.Generator)}
    if isinstance(rng, np.random.Generator) and all(g is not rng for g in out.values()):
        out["fit"] = rng
    return out


def _kept(batch_array):
    """A copy of an output or target batch, kept for the epoch's metrics.

    A layer never writes into an array it returned earlier, but a model's output may be a view
    of its input (``Flatten`` or ``Dropout`` in eval mode pass their input on), and a loader
    may refill the arrays it yields: without a copy the kept batches could change under us.
    """
    return np.array(batch_array, copy=True)


def _diverged(what, epoch, step, loader, optimizer):
    return TrainingError(
        f"training diverged at epoch {epoch + 1}, step {step + 1} of {len(loader)}: {what}; try a "
        f"lower learning rate (now {optimizer.lr:g}), the optimizer's max_grad_norm=, or check the "
        f"inputs for NaN")


def fit(model, loss, optimizer, train_data, *, epochs, val_data=None, batch_size=None,
        schedule=None, schedule_interval="epoch", callbacks=(), metrics=("accuracy",),
        verbose=None, rng=None, start_epoch=0, history=None, workers=1, distributed=None,
        divergence_factor=1e3):
    """Train ``model`` for ``epochs`` epochs; returns the :class:`History`.

    Parameters
    ----------
    model : Layer
    loss : loss object (``forward(outputs, targets) -> float``, ``backward()``)
    optimizer : optimizer over ``model.parameters()`` (``zero_grad()``, ``step()``, ``lr``)
        Gradient clipping is the optimizer's: ``SGD(..., max_grad_norm=1.0)``.
    train_data, val_data : loader or ``(x, y)`` tuple
        A tuple is batched by ``handgrad.data.DataLoader`` (shuffled with ``rng`` for
        training); ``batch_size`` is then required.
    epochs : int
        Total number of epochs; with ``start_epoch=k`` epochs ``k .. epochs-1`` run.
    schedule : learning-rate schedule, optional
        Stepped every epoch or, with ``schedule_interval="step"``, after every optimizer
        step. ``ReduceLROnPlateau`` is stepped with ``val_loss`` (``loss`` without val_data).
    callbacks : sequence of Callback
    metrics : names from :data:`handgrad.training.metrics.METRICS` or functions
    verbose : None, True or False (see :mod:`handgrad.training.progress`)
    rng : Generator or int, optional
        Shuffles a tuple ``train_data``; saved in checkpoints.
    start_epoch, history : resume an interrupted run (see :func:`handgrad.load_checkpoint`);
        ``history`` is a History or its dict form (a checkpoint's ``history``).
    workers : int
        Threads that each run forward and backward on a slice of every batch
        (:class:`handgrad.training.DataParallel`; batch norm then normalizes per slice).
        1 (default) runs the model as it is, on this thread. Either way a step is
        ``DataParallel.forward_backward``: forward, loss, backward.
    distributed : handgrad.distributed.DistributedDataParallel, optional
        Train as one rank of an MPI job (``mpirun``): of every batch of ``train_data`` (the
        same data on every rank) this rank reads only its shard, the gradients of all ranks
        are summed by one ``Allreduce`` per step, and the loss, metrics and validation
        figures are the whole batch's on every rank. Only rank 0 shows progress; pass
        file-writing callbacks on rank 0 only. See docs/distributed.md.
    divergence_factor : float or None
        A step's loss above ``divergence_factor * max(1, first step's loss)`` counts as
        diverged (default 1e3); None turns this test off (NaN and inf still stop).

    Raises
    ------
    TrainingError
        The model's output or the loss became NaN or infinite, or the loss exploded past
        ``divergence_factor`` (the message names the epoch and step). Callbacks have run
        for the finished epochs only, so a checkpoint holds the last good epoch.
    """
    # -- set up ---------------------------------------------------------------
    if schedule_interval not in ("epoch", "step"):
        raise ValueError(f"fit expected schedule_interval 'epoch' or 'step', got {schedule_interval!r}")
    epochs = check_positive_int(epochs, "epochs", "fit")
    if distributed is not None and workers != 1:
        raise ValueError(f"fit expected workers=1 with distributed= (one process per rank), got workers={workers}")
    check_distinct_layers(model, "fit")                  # one cache per layer: each used once
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit expected Callback instances in callbacks, got {type(cb).__name__}")
    plateau = isinstance(schedule, ReduceLROnPlateau)
    if plateau and schedule_interval == "step":
        raise ValueError("ReduceLROnPlateau needs a metric once per epoch; use schedule_interval='epoch'")
    rng = as_rng(rng) if rng is not None or isinstance(train_data, tuple) else None
    dtype = model_dtype(model)
    train_loader = as_loader(train_data, batch_size, shuffle=True, rng=rng, dtype=dtype, what="train_data")
    if distributed is not None:                                  # MPI: this rank's shard of every batch
        train_loader = distributed.shard(train_loader)
        verbose = verbose if distributed.rank == 0 else False
    if history is None or isinstance(history, dict):
        history = History.from_dict(history or {})
    state = FitState(model, optimizer, schedule, history, generators(train_loader, rng))
    progress = Progress(epochs, len(train_loader), verbose)
    # runs each step: forward, loss, backward; with workers=1 the model itself on this thread,
    # otherwise a replica per slice of the batch in threads (DataParallel.forward_backward)
    net = DataParallel(model, workers) if distributed is None else distributed
    count_correct = any(m == "accuracy" for m in metrics)
    reference = None                                     # max(1, first loss): the explosion test
    for cb in callbacks:
        cb.on_train_begin(state)

    try:
        for epoch in range(start_epoch, epochs):
            # -- one epoch of training ---------------------------------------
            state.epoch, start, lr = epoch, time.perf_counter(), optimizer.lr
            net.train()
            progress.epoch_begin(epoch)
            for cb in callbacks:
                cb.on_epoch_begin(state)
            outputs, targets, loss_sum, seen = [], [], 0.0, 0
            for step, (x, y) in enumerate(train_loader):
                optimizer.zero_grad()
                out, value = net.forward_backward(x, y, loss)    # out: (N, ...) scores or values
                if not math.isfinite(value):                     # NaN as well when the output is not finite
                    what = (f"the loss is {value}" if np.isfinite(out).all()
                            else "the model's output holds NaN or inf")
                    raise _diverged(what, epoch, step, train_loader, optimizer)
                reference = max(1.0, value) if reference is None else reference
                if divergence_factor is not None and value > divergence_factor * reference:
                    what = f"the loss {value:.4g} exploded past {divergence_factor:g} x {reference:.4g}"
                    raise _diverged(what, epoch, step, train_loader, optimizer)
                optimizer.step()
                if schedule is not None and schedule_interval == "step":
                    schedule.step()

                # running figures: per-step history, progress bar, callbacks
                n = len(x)
                correct = int(np.sum(labels(out) == labels(y))) if count_correct and out.ndim == 2 else None
                if distributed is not None:                      # the whole batch's, summed with the gradients
                    n, correct = distributed.batch_size, None if correct is None else distributed.correct
                loss_sum, seen = loss_sum + value * n, seen + n
                outputs.append(_kept(out))
                targets.append(_kept(y))
                progress.batch_end(n, value, correct)
                history.append_step({"epoch": epoch, "step": step, "loss": value, "lr": optimizer.lr})
                for cb in callbacks:
                    cb.on_batch_end(state, {"epoch": epoch, "step": step, "loss": value, "size": n})

            # -- end of epoch: metrics, validation, schedule, record -----------
            logs = {"epoch": epoch, "loss": loss_sum / max(seen, 1)}
            seen_out, seen_y = ((np.concatenate(outputs), np.concatenate(targets)) if distributed is None
                                else distributed.gather(outputs, targets))   # every rank's shards
            logs.update(compute_metrics(metrics, seen_out, seen_y))
            if val_data is not None:
                val = (evaluate(model, loss, val_data, metrics=metrics, batch_size=batch_size or 256)
                       if distributed is None else
                       distributed.evaluate(loss, val_data, metrics=metrics, batch_size=batch_size or 256))
                logs.update({f"val_{k}": v for k, v in val.items()})
            if schedule is not None and schedule_interval == "epoch":
                if plateau:
                    schedule.step(logs["val_loss" if val_data is not None else "loss"])
                else:
                    schedule.step()
            logs["lr"], logs["time"] = lr, time.perf_counter() - start
            history.append_epoch(logs)
            progress.epoch_end(logs)
            for cb in callbacks:
                cb.on_epoch_end(state, logs)
            if state.stop_training:
                break
    finally:
        progress.close()
    for cb in callbacks:
        cb.on_train_end(state)
    return history


def evaluate(model, loss, data, *, metrics=("accuracy",), batch_size=256):
    """Mean loss and metrics of ``model`` (in eval mode) over ``data`` (loader or ``(x, y)``, the
    tuple batched in order by ``handgrad.data.DataLoader``).

    Returns a dict ``{"loss": ..., <metric>: ...}``; the model's mode is restored after.
    """
    was_training = model.training
    model.eval()
    try:
        outputs, targets, loss_sum, seen = [], [], 0.0, 0
        loader = as_loader(data, batch_size, shuffle=False, rng=None, dtype=model_dtype(model), what="data")
        for x, y in loader:
            out = model.forward(x)
            if loss is not None:
                loss_sum += float(loss.forward(out, y)) * len(x)
            seen += len(x)
            outputs.append(_kept(out))
            targets.append(_kept(y))
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate received no samples")
    result = {"loss": loss_sum / seen} if loss is not None else {}
    result.update(compute_metrics(metrics, np.concatenate(outputs), np.concatenate(targets)))
    return result


def predict(model, x, batch_size=256):
    """Outputs of ``model`` for ``x`` computed in batches in eval mode (mode restored after).

    uint8 images are scaled to [0, 1] in the model's dtype, as the loaders do. An empty
    ``x`` or one holding NaN or inf is a ValueError (the outputs would be meaningless).
    """
    dtype = model_dtype(model)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"predict expected a NumPy array, got {type(x).__name__}")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"predict received no samples (x of shape {x.shape})")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.sum(~np.isfinite(x)))
        raise ValueError(f"predict received NaN or inf in x ({bad} of {x.size} values); "
                         f"the outputs would be NaN or meaningless")
    was_training = model.training
    model.eval()
    try:
        batches = (x[i:i + batch_size] for i in range(0, len(x), batch_size))
        return np.concatenate([model.forward(to_float(xb, dtype.type) if xb.dtype == np.uint8 else xb)
                               for xb in batches])
    finally:
        model.train(was_training)
