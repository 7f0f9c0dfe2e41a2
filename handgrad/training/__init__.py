"""Training: the loop (:func:`fit`, :func:`evaluate`, :func:`predict`), data parallelism over
threads (:class:`DataParallel`), the :class:`History` record, metrics, callbacks and progress
output.

``handgrad.training.plots`` draws a run's pictures (matplotlib is imported only when a plot is
drawn). ``summary`` lives in :mod:`handgrad.summary` and is re-exported here.
"""

from ..summary import Summary, print_summary, summary
from . import callbacks, metrics
from .callbacks import Callback, CSVLogger, EarlyStopping, JSONLogger, LambdaCallback, ModelCheckpoint
from .data_parallel import DataParallel
from .fit import FitState, TrainingError, evaluate, fit, generators, predict
from .history import History

__all__ = [
    "fit", "evaluate", "predict", "generators", "DataParallel", "FitState", "TrainingError", "History",
    "Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger", "LambdaCallback",
    "metrics", "callbacks", "summary", "print_summary", "Summary",
]
