"""Callbacks: hooks :func:`~handgrad.training.fit` calls during training.

Every hook receives the :class:`FitState` of the run (``model``, ``optimizer``,
``schedule``, ``history``, ``epoch``, ``rngs``, ``stop_training``); the batch and epoch
hooks also get that batch's / epoch's record (``logs``). Setting
``state.stop_training = True`` ends training after the current epoch.
"""

import math
import os

from ..io.checkpoint import save_checkpoint


class Callback:
    def on_train_begin(self, state):
        pass

    def on_epoch_begin(self, state):
        pass

    def on_batch_end(self, state, logs):
        pass

    def on_epoch_end(self, state, logs):
        pass

    def on_train_end(self, state):
        pass


def _check_mode(mode, owner):
    if mode not in ("min", "max"):
        raise ValueError(f"{owner} expected mode 'min' or 'max', got {mode!r}")
    return mode


def _improved(value, best, mode, min_delta=0.0):
    if value is None or math.isnan(value):
        return False
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(logs, monitor, owner):
    if monitor not in logs:
        raise ValueError(f"{owner} monitors {monitor!r} but the epoch record has only "
                         f"{sorted(logs)}; pass val_data to fit or monitor 'loss'")
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    With ``restore_best=True`` the model's weights and buffers are set back to those of
    the best epoch when training stops.
    """

    def __init__(self, monitor="val_loss", patience=5, mode="min", min_delta=0.0, restore_best=True):
        self.monitor, self.patience = monitor, int(patience)
        self.mode = _check_mode(mode, "EarlyStopping")
        self.min_delta, self.restore_best = float(min_delta), restore_best
        if self.patience < 0:
            raise ValueError(f"EarlyStopping expected patience >= 0, got {patience}")

    def on_train_begin(self, state):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.wait, self.best_state, self.stopped_epoch = None, 0, None, None

    def on_epoch_end(self, state, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, logs["epoch"], 0
            if self.restore_best:
                self.best_state = state.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop_training, self.stopped_epoch = True, logs["epoch"]

    def on_train_end(self, state):
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint (:func:`handgrad.save_checkpoint`) at the end of epochs.

    ``path`` may contain ``{epoch}`` (1-based). With ``save_best_only`` a file is written
    only when ``monitor`` improves.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="min", config=None):
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.mode = _check_mode(mode, "ModelCheckpoint")
        self.config = config
        self.saved = []

    def on_train_begin(self, state):
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, state, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not _improved(value, self.best, self.mode):
                return
            self.best = value
        path = self.path.format(epoch=logs["epoch"] + 1)
        save_checkpoint(path, state.model, state.optimizer, state.schedule, epoch=logs["epoch"] + 1,
                        rng_states=state.rngs, history=state.history, config=self.config)
        self.saved.append(path)


class CSVLogger(Callback):
    """Rewrite the epoch history as CSV at ``path`` after every epoch."""

    def __init__(self, path, steps_path=None):
        self.path, self.steps_path = path, steps_path

    def on_epoch_end(self, state, logs):
        state.history.to_csv(self.path, self.steps_path)


class JSONLogger(Callback):
    """Rewrite the whole history as JSON at ``path`` after every epoch."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, state, logs):
        state.history.to_json(self.path)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda s, logs: ...)``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
