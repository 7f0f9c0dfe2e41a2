"""A callback that evaluates the model on more data after every epoch (e.g. the test curve)."""

import math

import numpy as np

from .callbacks import Callback
from .fit import evaluate, predict


class EvaluateEachEpoch(Callback):
    """Evaluate the model on more data after every epoch, as ``<name>_loss``, ``<name>_<metric>``.

    The figures are added to the epoch's record in the history (and to ``logs``, which the
    callbacks after this one see), so list it before the loggers and checkpoints. Typical use:
    the test set's curve for the plots of a run (``name="test"``); nothing in training reads it.

    Parameters
    ----------
    name : str
        Prefix of the entries (not "val", which fit's ``val_data`` fills).
    data : loader or ``(x, y)`` tuple
    loss : loss object, or None for metrics only
    metrics : names from :data:`handgrad.training.metrics.METRICS`
    batch_size : int

    A model whose outputs are no longer finite (training diverging) gets NaN figures instead
    of an error here: fit reports the divergence itself, at its next step.
    """

    def __init__(self, name, data, loss, metrics=("accuracy",), batch_size=256):
        if not isinstance(name, str) or not name or name == "val":
            raise ValueError(f"EvaluateEachEpoch expected a name other than 'val', got {name!r}")
        self.name, self.data, self.loss = name, data, loss
        self.metrics, self.batch_size = tuple(metrics), batch_size

    def on_epoch_end(self, state, logs):
        try:
            result = evaluate(state.model, self.loss, self.data, metrics=self.metrics, batch_size=self.batch_size)
        except ValueError:              # a loss refuses NaN/inf outputs: a diverging model scores NaN
            if self._outputs_finite(state.model):
                raise
            result = {"loss": math.nan, **{m: math.nan for m in self.metrics if isinstance(m, str)}}
        record = {f"{self.name}_{k}": v for k, v in result.items()}
        state.history.epochs[-1].update(record)
        logs.update(record)

    def _outputs_finite(self, model):
        """Whether the model's outputs for the first batch of the data are all finite."""
        x = self.data[0][:self.batch_size] if isinstance(self.data, tuple) else next(iter(self.data))[0]
        return bool(np.isfinite(predict(model, x)).all())
