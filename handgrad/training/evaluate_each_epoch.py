"""A callback that evaluates the model on more data after every epoch (e.g. the test curve)."""

from .callbacks import Callback
from .fit import evaluate


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
    """

    def __init__(self, name, data, loss, metrics=("accuracy",), batch_size=256):
        if not isinstance(name, str) or not name or name == "val":
            raise ValueError(f"EvaluateEachEpoch expected a name other than 'val', got {name!r}")
        self.name, self.data, self.loss = name, data, loss
        self.metrics, self.batch_size = tuple(metrics), batch_size

    def on_epoch_end(self, state, logs):
        result = evaluate(state.model, self.loss, self.data, metrics=self.metrics, batch_size=self.batch_size)
        record = {f"{self.name}_{k}": v for k, v in result.items()}
        state.history.epochs[-1].update(record)
        logs.update(record)
