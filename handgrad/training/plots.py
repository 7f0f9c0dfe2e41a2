"""Pictures of a run, saved as PNG files (matplotlib, imported lazily with the Agg backend).

Install the extra with ``pip install handgrad[plot]``. Each function returns the path.
"""

import math
import os

import numpy as np

from .._files import atomic_path


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("handgrad's plots need matplotlib: pip install handgrad[plot]") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp:     # old PNG or new, never half
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format=os.path.splitext(path)[1][1:] or "png")
    fig.clf()
    _pyplot().close(fig)
    return path


def plot_history(history, path):
    """Loss, then each metric (training and validation), then the learning rate, over epochs."""
    plt = _pyplot()
    keys = [k for k in history.keys() if k not in ("epoch", "lr", "time") and not k.startswith("val_")]
    panels = keys + (["lr"] if "lr" in history else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    epochs = np.arange(1, len(history) + 1)
    for ax, key in zip(axes[0], panels):
        ax.plot(epochs, history[key], marker="o", label="train" if key != "lr" else "lr")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], marker="o", label="validation")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_title(key)
        if key == "lr":
            ax.set_yscale("log")
    return _save(fig, path)


def plot_confusion_matrix(cm, path, class_names=None):
    """Counts of true (rows) versus predicted (columns) classes, each cell annotated."""
    plt = _pyplot()
    cm = np.asarray(cm)
    k = cm.shape[0]
    names = class_names or [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(0.5 * k + 2, 0.5 * k + 1.5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), names, rotation=90 if k > 12 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    return _save(fig, path)


def _grid(plt, n, size=1.2):
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    return fig, axes.ravel()


def _first_weight(model):
    for name, p in model.parameters().items():
        if name.endswith("weight"):
            return p.data
    raise ValueError("plot_filters found no weight parameter in the model")


def plot_filters(model, path):
    """The first layer's filters as images: conv weight ``(C_out, C_in, KH, KW)`` shows channel 0;
    a linear weight ``(out, in)`` is shown per unit when ``in`` is a square (e.g. 784 = 28x28)."""
    plt = _pyplot()
    w = _first_weight(model)
    if w.ndim == 4:
        images = w[:, 0]                                   # (C_out, KH, KW)
    elif w.ndim == 2 and math.isqrt(w.shape[1]) ** 2 == w.shape[1]:
        side = math.isqrt(w.shape[1])
        images = w.reshape(-1, side, side)[:64]
    else:
        raise ValueError(f"plot_filters cannot draw a first weight of shape {w.shape}")
    fig, axes = _grid(plt, len(images))
    for ax, img in zip(axes, images):
        ax.imshow(img, cmap="gray")
    return _save(fig, path)


def plot_feature_maps(model, image, path, max_maps=32):
    """The output channels of ``model``'s first layer(s) for one image ``(C, H, W)``.

    ``model`` may be a whole Sequential: its layers run until the first output of rank 4,
    whose maps are drawn.
    """
    plt = _pyplot()
    layers = list(model) if hasattr(model, "__iter__") else [model]
    was_training = model.training
    model.eval()
    try:
        x = np.asarray(image)[None]
        for layer in layers:
            x = layer.forward(x)
            if x.ndim == 4:
                break
    finally:
        model.train(was_training)
    if x.ndim != 4:
        raise ValueError(f"plot_feature_maps found no layer with (N, C, H, W) output; last shape {x.shape}")
    maps = x[0, :max_maps]                                  # (C, H, W)
    fig, axes = _grid(plt, len(maps))
    for ax, m in zip(axes, maps):
        ax.imshow(m, cmap="viridis")
    return _save(fig, path)


def plot_misclassified(images, y_true, y_pred, path, max_images=25, class_names=None):
    """A grid of the first ``max_images`` wrong predictions, titled "predicted / true"."""
    plt = _pyplot()
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    fig, axes = _grid(plt, max(len(wrong), 1), size=1.4)
    name = (lambda c: class_names[c]) if class_names else str
    for ax, i in zip(axes, wrong):
        img = np.asarray(images[i])
        ax.imshow(img[0] if img.ndim == 3 and img.shape[0] == 1 else img.transpose(1, 2, 0)
                  if img.ndim == 3 else img, cmap="gray")
        ax.set_title(f"{name(int(y_pred[i]))} / {name(int(y_true[i]))}", fontsize=8,
                     color="red")
    if len(wrong) == 0:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.suptitle("misclassified: predicted / true", fontsize=9)
    return _save(fig, path)
