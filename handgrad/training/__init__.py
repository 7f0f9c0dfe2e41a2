"""Training: the loop, its record, metrics, callbacks, progress output, summaries and plots.

``plots`` is not imported here (it needs matplotlib): use ``handgrad.training.plots``.
"""

from . import callbacks, metrics
from .callbacks import Callback, CSVLogger, EarlyStopping, JSONLogger, LambdaCallback, ModelCheckpoint
from .fit import FitState, TrainingError, evaluate, fit, generators, predict
from .history import History
from ..summary import Summary, print_summary, summary

__all__ = [
    "fit", "evaluate", "predict", "generators", "FitState", "TrainingError", "History",
    "Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger", "LambdaCallback",
    "metrics", "callbacks", "summary", "print_summary", "Summary",
]
