"""Test figures (shared by ``handgrad train`` and ``handgrad evaluate``) and the run's PNG plots."""

import os

import numpy as np


def test_metrics(dataset, loss, pred, y, limit=None):
    """Loss and metrics of the outputs ``pred`` of a model for a test split ``(x, y)``.

    Classification: loss and accuracy. The shapes data set (regression): loss, MAE (mean and
    per regression column), the fraction of images whose count is exactly right, and the
    rotation's mean absolute error in degrees (modulo each shape's symmetry; circles, which
    have no angle, excluded). ``limit`` is the number of test images that were generated.
    """
    from ..training.metrics import compute_metrics

    out = {"loss": float(loss.forward(pred, y))}
    if dataset != "shapes":
        out.update(compute_metrics(("accuracy",), pred, y))
        return out
    from ..data import load, synthetic_shapes as shapes

    out.update(compute_metrics(("mae",), pred, y))

    out.update({f"mae_{name}": float(np.abs(pred[:, i] - y[:, i]).mean())
                for i, name in enumerate(shapes.REGRESSION_COLUMNS[:pred.shape[1]])})
    _, shape = load("shapes", "test", target="shape", n=limit)   # same seed and n: same images
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
