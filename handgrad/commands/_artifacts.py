"""What ``handgrad train`` leaves besides the model: extra test figures and PNG plots."""

import os

import numpy as np


def extra_metrics(cfg, pred, y):
    """Figures beyond the loss: per-output MAE for regression, and for the shapes data set
    the fraction of images whose count is predicted exactly (after rounding)."""
    if not cfg.is_regression:
        return {}
    out = {"mae_per_output": np.abs(pred - y).mean(axis=0)}
    names = _target_names(cfg, y.shape[1])
    for i, name in enumerate(names):
        out[f"mae_{name}"] = float(np.abs(pred[:, i] - y[:, i]).mean())
        if name == "count":
            out["count_exact"] = float(np.mean(np.rint(pred[:, i]) == np.rint(y[:, i])))
    return out


def _target_names(cfg, n):
    from .. import data
    names = getattr(getattr(data, "shapes", None), "TARGET_NAMES", None)
    return list(names) if names is not None and len(names) == n else [f"y{i}" for i in range(n)]


def write_plots(cfg, model, history, test, outputs, run_dir):
    """Save the run's PNGs; returns notes (e.g. matplotlib missing) instead of failing the run."""
    try:
        from ..training import plots
    except ImportError as e:
        return [f"no plots written ({e}); pip install 'handgrad[plot]'"]
    from ..training.metrics import confusion_matrix

    path = lambda name: os.path.join(run_dir, name)  # noqa: E731
    plots.plot_history(history, path("curves.png"))
    first = next((l for l in model.layers if hasattr(l, "weight") and l.weight.data.ndim == 4), None)
    if first is not None:
        plots.plot_filters(first.weight.data, path("filters.png"))
        plots.plot_feature_maps(model, test[0][:1], path("feature_maps.png"))
    if not cfg.is_regression:
        x, y = test
        pred = outputs.argmax(axis=1)
        plots.plot_confusion_matrix(confusion_matrix(y, pred), path("confusion_matrix.png"))
        plots.plot_misclassified(x, y, pred, path("misclassified.png"))
    return []
