"""Test figures (shared by ``handgrad train`` and ``handgrad evaluate``) and the run's pictures."""

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
    """Save the test outputs the pictures need, then draw the run's PNGs and ``report.html``
    from the run folder's files (as ``handgrad report`` does); returns notes (e.g. matplotlib
    missing) instead of failing the run."""
    from ..data.registry import DATASETS
    from ..report import save_test_outputs, write_report

    x, y = test
    spec = DATASETS.get(cfg.dataset)
    save_test_outputs(run_dir, x, outputs, None if cfg.is_regression else y,
                      class_names=spec.classes if spec is not None else None)
    path, figures, notes = write_report(run_dir)
    return notes
