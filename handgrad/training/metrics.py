"""Metrics computed from model outputs and targets, vectorized over the batch.

Classification outputs are scores ``(N, C)`` (logits or probabilities); targets are
integer labels ``(N,)`` or one-hot ``(N, C)``. Regression outputs and targets are
``(N, D)`` (or ``(N,)``).
"""

import numpy as np


def labels(y):
    """Integer labels from labels ``(N,)`` or one-hot / score rows ``(N, C)``."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64, copy=False)


def accuracy(scores, y):
    """Fraction of rows whose highest score is the target class.

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 1, 1]))
    0.6666666666666666
    """
    return float(np.mean(labels(scores) == labels(y)))


def top_k_accuracy(scores, y, k=5):
    """Fraction of rows whose target is among the ``k`` highest scores."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]          # (N, k), unordered
    return float(np.mean(np.any(top == labels(y)[:, None], axis=1)))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """``cm[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1])).tolist()
    [[1, 0], [1, 1]]
    """
    t, p = labels(y_true), labels(y_pred)
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    return np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def precision_recall(cm):
    """Per-class ``(precision, recall)`` from a confusion matrix (0 where undefined).

    precision_j = cm[j, j] / sum_i cm[i, j];  recall_i = cm[i, i] / sum_j cm[i, j].
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    return precision, recall


def _as_2d(pred, y):
    pred = np.asarray(pred, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
    return pred.reshape(len(pred), -1), y.reshape(len(pred), -1)


def mae_per_output(pred, y):
    """Mean absolute error of each output column, shape ``(D,)``."""
    pred, y = _as_2d(pred, y)
    return np.abs(pred - y).mean(axis=0)


def rmse_per_output(pred, y):
    """Root mean squared error of each output column, shape ``(D,)``."""
    pred, y = _as_2d(pred, y)
    return np.sqrt(((pred - y) ** 2).mean(axis=0))


#: metric name (as used by ``fit(metrics=...)`` and History keys) -> f(outputs, targets) -> float
METRICS = {
    "accuracy": accuracy,
    "top5_accuracy": lambda s, y: top_k_accuracy(s, y, 5),
    "mae": lambda p, y: float(mae_per_output(p, y).mean()),
    "rmse": lambda p, y: float(rmse_per_output(p, y).mean()),
}


def get_metric(name):
    if callable(name):
        return getattr(name, "__name__", "metric"), name
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose from {sorted(METRICS)} or pass a function")
    return name, METRICS[name]


def compute_metrics(metrics, outputs, targets, prefix=""):
    """Dict ``prefix + name`` -> value for each metric in ``metrics``."""
    out = {}
    for m in metrics:
        name, fn = get_metric(m)
        out[prefix + name] = fn(outputs, targets)
    return out
