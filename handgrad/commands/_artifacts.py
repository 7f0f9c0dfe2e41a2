"""What ``handgrad train`` leaves besides the model: extra test figures and PNG plots."""

import os

import numpy as np


def extra_metrics(cfg, pred, y, test_limit=None):
    """Figures beyond the loss for the shapes data set: MAE per regression column, the
    fraction of test images whose count is exactly right, and the rotation's mean absolute
    error in degrees (modulo each shape's symmetry; circles, which have no angle, excluded)."""
    if not cfg.is_regression:
        return {}
    from ..data import load, shapes

    out = {f"mae_{name}": float(np.abs(pred[:, i] - y[:, i]).mean())
           for i, name in enumerate(shapes.REGRESSION_COLUMNS)}
    _, shape = load("shapes", "test", target="shape", n=test_limit)   # same seed and n: same images
    got, true = shapes.decode_regression(pred, shape), shapes.decode_regression(y, shape)
    out["count_exact"] = float(np.mean(got["count"] == true["count"]))
    out["rotation_mae_deg"] = float(np.nanmean(shapes.angle_error(got["angle"], true["angle"], shape)))
    return out


def write_plots(cfg, model, history, test, outputs, run_dir):
    """Save the run's PNGs; returns notes (e.g. matplotlib missing) instead of failing the run."""
    try:
        from ..training import plots
    except ImportError as e:
        return [f"no plots written ({e}); pip install 'handgrad[plot]'"]
    from ..training.metrics import confusion_matrix

    path = lambda name: os.path.join(run_dir, name)  # noqa: E731
    plots.plot_history(history, path("curves.png"))
    if any(p.data.ndim == 4 for p in model.parameters().values()):       # a conv net
        plots.plot_filters(model, path("filters.png"))
    if not cfg.is_regression:
        x, y = test
        pred = outputs.argmax(axis=1)
        plots.plot_confusion_matrix(confusion_matrix(y, pred), path("confusion_matrix.png"))
        plots.plot_misclassified(x, y, pred, path("misclassified.png"))
    return []
