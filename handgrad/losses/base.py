"""The loss contract and the input validation shared by every loss.

A loss maps ``(prediction, target)`` to a scalar. ``forward`` returns it as a Python
float and keeps what ``backward`` needs; ``backward()`` returns dL/dprediction with the
prediction's shape and dtype (the upstream gradient of a scalar loss is 1).
"""

import numpy as np

from .._checks import check_array

REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class: subclasses implement ``forward`` and ``backward``."""

    def __init__(self, reduction="mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__} expected reduction to be one of {list(REDUCTIONS)}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self._cache = None

    def forward(self, prediction, target):
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError

    def __call__(self, prediction, target):
        return self.forward(prediction, target)

    def _saved(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward() was called before forward(); "
                               f"compute the loss on a batch first")
        return self._cache

    def _reduce_scale(self, count):
        """Factor applied to the summed loss: 1/count for "mean", 1 for "sum"."""
        return 1.0 / count if self.reduction == "mean" else 1.0

    def get_config(self):
        return {"reduction": self.reduction}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def check_finite(x, what, owner):
    """ValueError naming how many NaN / inf entries ``x`` holds."""
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"{owner} received a {what} with NaN or inf values "
                         f"({int(bad.sum())} of {x.size} entries); check the learning rate and the data")


def check_prediction(prediction, owner, ndim=None):
    """A finite floating array, of rank ``ndim`` when given."""
    check_array(prediction, owner)
    if ndim is not None and prediction.ndim != ndim:
        raise ValueError(f"{owner} expected a prediction of shape (N, C), got {prediction.shape} "
                         f"({prediction.ndim}-D)")
    if prediction.ndim == 0 or prediction.shape[0] == 0:
        raise ValueError(f"{owner} received an empty batch (prediction of shape {prediction.shape}); "
                         f"a mean over no samples is undefined")
    check_finite(prediction, "prediction", owner)
    return prediction


def same_shape_target(prediction, target, owner):
    """A numeric target of the prediction's shape, as the prediction's dtype."""
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{owner} expected the target to be a NumPy array, got {type(target).__name__}")
    if target.shape != prediction.shape:
        raise ValueError(f"{owner} expected a target of the prediction's shape {prediction.shape}, "
                         f"got {target.shape}")
    if not (np.issubdtype(target.dtype, np.number) or target.dtype == bool):
        raise TypeError(f"{owner} expected a numeric target, got dtype {target.dtype}")
    target = target.astype(prediction.dtype, copy=False)
    check_finite(target, "target", owner)
    return target


def class_targets(prediction, target, owner):
    """Targets for ``(N, C)`` scores as a dense ``(N, C)`` array in the prediction's dtype.

    Accepts integer labels ``(N,)`` in ``[0, C)`` (turned into one-hot rows) or
    one-hot / probability rows ``(N, C)`` (non-negative, each summing to 1 within 1e-3).
    """
    N, C = prediction.shape
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{owner} expected the target to be a NumPy array, got {type(target).__name__}")
    if target.ndim == 1:
        if not np.issubdtype(target.dtype, np.integer):
            raise TypeError(f"{owner}: integer labels must have an integer dtype, got {target.dtype}; "
                            f"use labels.astype(np.int64), or pass (N, C) probability targets")
        if target.shape[0] != N:
            raise ValueError(f"{owner} expected {N} labels for a prediction of shape {prediction.shape}, "
                             f"got {target.shape[0]}")
        if N and (target.min() < 0 or target.max() >= C):
            raise ValueError(f"{owner}: labels must be in [0, {C}), got min {target.min()} "
                             f"and max {target.max()}")
        dense = np.zeros((N, C), prediction.dtype)
        dense[np.arange(N), target] = 1
        return dense
    if target.ndim == 2:
        dense = same_shape_target(prediction, target, owner)
        sums = dense.sum(axis=1)
        bad = (dense < 0).any(axis=1) | (np.abs(sums - 1) > 1e-3)
        if bad.any():
            n = int(np.argmax(bad))
            raise ValueError(f"{owner} expected (N, C) targets to be probability rows (entries >= 0, "
                             f"each row summing to 1), got {int(bad.sum())} rows that are not, e.g. row "
                             f"{n} with sum {sums[n]:.4g} and minimum {dense[n].min():.4g}")
        return dense
    raise ValueError(f"{owner} expected labels of shape (N,) or targets of shape (N, C) = {prediction.shape}, "
                     f"got {target.shape}")
