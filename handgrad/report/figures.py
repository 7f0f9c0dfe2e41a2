"""Every picture of a run, drawn from its saved files (:class:`~handgrad.report.run_files.RunFiles`)."""

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Figure:
    """One PNG of the run folder and what it shows."""
    file: str
    title: str
    caption: str


def draw_figures(run):
    """Draw (overwrite) the run's PNGs; returns ``(figures, notes)``.

    A picture whose inputs are missing (an older run folder, a regression model has no
    confusion matrix) is left out with a note. Raises
    :class:`~handgrad.training.plots.MatplotlibMissing` when matplotlib is not installed.
    """
    from ..training import plots
    from ..training.metrics import confusion_matrix

    figures, notes = [], []
    path = lambda name: os.path.join(run.path, name)  # noqa: E731
    title = run.name
    names = run.class_names

    if run.history is not None and len(run.history):
        plots.plot_training(run.history, path("curves.png"), title=title)
        figures.append(Figure("curves.png", "Training curves",
                              "Left: the training loss of every step (light) and its moving average, "
                              "with the validation and test loss after each epoch. Middle: the metric "
                              "per epoch. Right: the learning rate at every step."))
    test = run.test or {}
    if "y_pred" in test:
        k = len(names) if names else int(max(test["y_true"].max(), test["y_pred"].max())) + 1
        cm = confusion_matrix(test["y_true"], test["y_pred"], k)
        plots.plot_confusion_matrix(cm, path("confusion_matrix.png"), names)
        figures.append(Figure("confusion_matrix.png", "Confusion matrix",
                              "Rows: the true class; columns: the predicted one. A cell's colour is its "
                              "share of the row; the percentages at the right are each class's accuracy."))
    if run.model is not None:
        try:
            plots.plot_filters(run.model, path("filters.png"))
            figures.append(Figure("filters.png", "First-layer filters",
                                  "The first layer's weights on one shared colour scale: red positive, "
                                  "blue negative."))
        except ValueError as e:
            notes.append(f"no filters picture: {e}")
    if run.model is not None and "probe_image" in test:
        try:
            plots.plot_feature_maps(run.model, test["probe_image"], path("feature_maps.png"))
            label = ""
            if "y_true" in test:
                true = int(test["y_true"][int(test["probe_index"])])
                label = f" (true class: {names[true] if names else true})"
            figures.append(Figure("feature_maps.png", "Feature maps",
                                  f"Test image #{int(test['probe_index'])}{label} after each convolution "
                                  f"block: where each channel responds."))
        except ValueError as e:
            notes.append(f"no feature maps: {e}")
    if "wrong_images" in test:
        plots.plot_misclassified(test["wrong_images"], test["y_true"], test["y_pred"],
                                 path("misclassified.png"), class_names=names,
                                 indices=test["wrong_index"])
        figures.append(Figure("misclassified.png", "Misclassified test images",
                              "The first test images the model got wrong, titled predicted / true, "
                              "with their position in the test set."))
    return figures, notes


def probe_shape(run):
    """The shape of one input ``(C, H, W)``: from the saved probe image, else from the config."""
    if run.test is not None and "probe_image" in run.test:
        return tuple(np.shape(run.test["probe_image"]))
    dataset = (run.config or {}).get("dataset")
    if dataset == "shapes":
        return (1, 64, 64)
    return (1, 28, 28) if dataset else None
