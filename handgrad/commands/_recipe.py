"""The pieces of a training run built from a :class:`~handgrad.config.TrainConfig`:
data, model, loss, optimizer and learning-rate schedule.

Strings from the command line become objects here, each through one explicit table: the
optimizers and schedules of :mod:`handgrad.config`, the models of :data:`handgrad.models.MODELS`.
"""

import inspect

import numpy as np

from .. import optim
from ..config import OPTIMIZERS, SCHEDULES
from ._common import CommandError, load_dataset


# -- data ----------------------------------------------------------------------
def prepare_data(cfg, dtype):
    """``(train, val, test)``, each an ``(x, y)`` pair; x scaled to [0, 1] floats.

    ``--limit`` and ``--test-limit`` keep the first N training and test images;
    ``--val-split`` holds out a fraction of the training images (shuffled with a generator
    seeded by ``--seed``) for validation after each epoch.
    """
    x, y = load_dataset(cfg.dataset, "train", cfg.data_dir, dtype, limit=cfg.limit)
    test = load_dataset(cfg.dataset, "test", cfg.data_dir, dtype, limit=cfg.test_limit)
    val = None
    if cfg.val_split > 0:
        order = np.random.default_rng([cfg.seed, 1]).permutation(len(x))
        n_val = max(1, int(round(len(x) * cfg.val_split)))
        if n_val >= len(x):
            raise CommandError(f"--val-split {cfg.val_split:g} of {len(x)} training images leaves no "
                               f"images to train on; use a smaller --val-split or more images (--limit)")
        val = x[order[:n_val]], y[order[:n_val]]
        x, y = x[order[n_val:]], y[order[n_val:]]
    if cfg.is_regression:
        cast = lambda pair: None if pair is None else (pair[0], pair[1].astype(dtype))  # noqa: E731
        return cast((x, y)), cast(val), cast(test)
    return (x, y), val, test


def augmentation(cfg):
    """The training transform for ``--augment`` (rotations up to 10 degrees, shifts up to 2 px), or None."""
    if not cfg.augment:
        return None
    from ..data import Compose, RandomRotation, RandomShift
    return Compose(RandomRotation(10.0), RandomShift(2))


class TargetScaling:
    """Standardize regression targets for training, then fold the scaling into the last layer.

    Training on ``t = (y - mean) / std`` puts every output on one scale (a count and an angle
    in degrees differ by two orders of magnitude). Afterwards the last Linear layer
    ``t = W h + b`` is rewritten as ``y = (std * W) h + (std * b + mean)``, so the saved
    model outputs the targets in their own units.
    """

    def __init__(self, y):
        self.mean = y.mean(axis=0)
        self.std = np.where(y.std(axis=0) > 0, y.std(axis=0), 1).astype(y.dtype)

    def apply(self, pair):
        return None if pair is None else (pair[0], (pair[1] - self.mean) / self.std)

    def fold_into(self, model):
        last = model.layers[-1]
        if last.bias is None or last.weight.shape[0] != len(self.std):
            raise ValueError("TargetScaling.fold_into expects a final Linear layer with a bias, "
                             f"one output per target ({len(self.std)})")
        last.weight.data *= self.std[:, None]
        last.bias.data[...] = last.bias.data * self.std + self.mean
        return model


# -- model and loss ------------------------------------------------------------
def check_run_length(cfg):
    """Refuse a warm-up that is not shorter than the run (before any data is loaded)."""
    if cfg.warmup and cfg.warmup >= cfg.epochs:
        raise CommandError(f"--warmup {cfg.warmup} epochs is not shorter than the run (--epochs "
                           f"{cfg.epochs}); the learning rate would never leave the warm-up. Use "
                           f"--warmup < --epochs")


def _has_batchnorm(model):
    from ..layers import BatchNorm1d, BatchNorm2d
    if isinstance(model, (BatchNorm1d, BatchNorm2d)):
        return True
    return any(_has_batchnorm(child) for _, child in model.named_children())


def drop_last_batch(cfg, model, n):
    """Whether the loader drops the last batch: only when batch norm would see a slice of one
    image in it (a variance of one value); says so. A batch size that always does is refused."""
    if not _has_batchnorm(model):
        return False

    def smallest_slice(batch):                   # DataParallel splits a batch into workers slices
        return batch // max(1, min(cfg.workers, batch))
    if smallest_slice(min(cfg.batch_size, n)) < 2:
        raise CommandError(f"{cfg.model_name} has batch norm, which needs at least 2 images per batch "
                           f"(per worker); got --batch-size {cfg.batch_size}, --workers {cfg.workers} "
                           f"and {n} training images")
    last = n % cfg.batch_size
    if last and smallest_slice(last) < 2:
        print(f"note: the last batch of each epoch ({last} of {n} images) is dropped: batch norm "
              f"needs at least 2 images per batch{' and worker' if cfg.workers > 1 else ''}")
        return True
    return False


def check_model_kind(cfg):
    """Refuse a classifier for the shapes regression or a regression model for images (early)."""
    from ..models import MODELS
    accepted = inspect.signature(MODELS[cfg.model_name]).parameters
    if cfg.is_regression and "num_outputs" not in accepted:
        raise CommandError(f"model {cfg.model_name!r} is a classifier; the shapes data set needs a "
                           f"regression model such as 'shapes-regressor'")
    if not cfg.is_regression and "num_classes" not in accepted:
        raise CommandError(f"model {cfg.model_name!r} is a regression model; {cfg.dataset} needs a "
                           f"classifier such as 'fast-cnn'")


def build_model(cfg, x, y, rng):
    """The registered model ``cfg.model_name``, sized for ``x`` (and the number of targets)."""
    from ..models import get_model, MODELS
    factory = MODELS[cfg.model_name]
    sizes = {"in_channels": x.shape[1], "image_size": x.shape[-1],
             "in_features": int(np.prod(x.shape[1:]))}
    if cfg.is_regression:
        sizes["num_outputs"] = y.shape[1]
    else:                                        # from the registry, never from the labels seen
        from ..data import num_classes
        sizes["num_classes"] = num_classes(cfg.dataset)
    accepted = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in sizes.items() if k in accepted}
    return get_model(cfg.model_name, rng=rng, dtype=x.dtype, **kwargs)


def build_loss(cfg):
    from ..losses import CrossEntropyLoss, MSELoss
    return MSELoss() if cfg.is_regression else CrossEntropyLoss()


# -- optimizer and schedule ----------------------------------------------------
def build_optimizer(cfg, model):
    """The optimizer ``cfg.optimizer`` names (:data:`handgrad.config.OPTIMIZERS`)."""
    return OPTIMIZERS[cfg.optimizer].build(model.parameters(), cfg.learning_rate, cfg.weight_decay)


def build_schedule(cfg, optimizer, steps_per_epoch):
    """``(schedule or None, interval)`` where interval is "step" or "epoch" (how fit steps it);
    the schedule ``cfg.schedule`` names (:data:`handgrad.config.SCHEDULES`). A one-cycle run of
    a single step keeps the learning rate constant (a cycle needs two), with a note."""
    if cfg.schedule == "onecycle" and cfg.epochs * steps_per_epoch < 2:
        print(f"note: one-cycle needs at least 2 steps and this run has {cfg.epochs * steps_per_epoch}; "
              f"the learning rate stays at {cfg.learning_rate:g}")
        return None, "step"
    choice = SCHEDULES[cfg.schedule]
    schedule = choice.build(cfg, optimizer, steps_per_epoch)
    if cfg.warmup:
        if choice.interval != "step":
            raise CommandError(f"--warmup works with per-step schedules, not {cfg.schedule!r}")
        schedule = optim.LinearWarmup(optimizer, warmup_steps=cfg.warmup * steps_per_epoch, after=schedule)
    return schedule, choice.interval
