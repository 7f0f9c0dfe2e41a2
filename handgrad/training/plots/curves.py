"""Training curves: the loss step by step, the metrics and the learning rate of a History."""

import numpy as np

from ._figure import pyplot, save

#: epoch entries that are not curves of a metric
_NOT_METRICS = ("epoch", "loss", "lr", "time")
_STYLE = {"train": dict(color="C0"), "val": dict(color="C1", marker="o"), "test": dict(color="C2", marker="s")}


def smooth(values, beta=0.95):
    """Exponential moving average with bias correction: ``m_t = beta m_{t-1} + (1 - beta) v_t``,
    reported as ``m_t / (1 - beta^t)`` so the first values are not pulled towards 0.

    >>> smooth([1.0, 1.0, 1.0]).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    values = np.asarray(values, dtype=np.float64)
    out, m = np.empty_like(values), 0.0
    for t, v in enumerate(values, start=1):
        m = beta * m + (1 - beta) * v
        out[t - 1] = m / (1 - beta ** t)
    return out


def _epoch_ends(steps, n_epochs):
    """Global step (1-based) at which each epoch ended, from the step records' ``epoch``."""
    epochs = np.array([s["epoch"] for s in steps])
    first = int(epochs.min()) if len(epochs) else 0
    return np.array([np.flatnonzero(epochs == first + e)[-1] + 1 if np.any(epochs == first + e) else np.nan
                     for e in range(n_epochs)], dtype=np.float64)


def _column(history, key):
    return np.array([np.nan if v is None else v for v in history[key]], dtype=np.float64) \
        if key in history else None


def plot_training(history, path, title=None):
    """Three panels of a run: loss, metrics, learning rate.

    - **loss**: every training step (light) and its moving average (:func:`smooth`), with
      the validation and test loss at the end of each epoch (markers), on a log scale;
    - **metrics** (accuracy, or MAE for regression): training (the mean over the epoch's
      steps), validation and test, per epoch;
    - **learning rate**: at every step (per epoch when no steps were recorded).

    Step records (``history.steps``, with ``epoch``, ``loss`` and ``lr``) give the x axis
    in steps; a history without them is drawn per epoch.
    """
    plt = pyplot()
    n = len(history)
    steps = [s for s in history.steps if "loss" in s]
    per_step = bool(steps)
    x_epoch = _epoch_ends(steps, n) if per_step else np.arange(1, n + 1, dtype=np.float64)
    metrics = [k for k in history.keys() if k not in _NOT_METRICS and not k.startswith(("val_", "test_"))]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    ax_loss, ax_metric, ax_lr = axes

    # loss: per step (raw and smoothed) plus val/test per epoch
    if per_step:
        loss = np.array([s["loss"] for s in steps], dtype=np.float64)
        x = np.arange(1, len(loss) + 1)
        ax_loss.plot(x, loss, color="C0", alpha=0.25, lw=0.7, label="train (each step)")
        ax_loss.plot(x, smooth(loss), color="C0", lw=1.6, label="train (moving average)")
        for end in x_epoch[:-1]:
            ax_loss.axvline(end, color="0.85", lw=0.6, zorder=0)
        ax_loss.set_xlabel("step (grey lines: epoch ends)")
    elif n:
        ax_loss.plot(x_epoch, _column(history, "loss"), label="train", marker="o", **_STYLE["train"])
        ax_loss.set_xlabel("epoch")
    for split in ("val", "test"):
        column = _column(history, f"{split}_loss")
        if column is not None:
            ax_loss.plot(x_epoch, column, label={"val": "validation", "test": "test"}[split], **_STYLE[split])
    if n and np.nanmin(_column(history, "loss")) > 0:
        ax_loss.set_yscale("log")
    ax_loss.set_title("loss")
    ax_loss.legend(fontsize=8)

    # metrics per epoch
    epochs = np.arange(1, n + 1)
    for key in metrics[:1] or ["accuracy"]:
        for split, prefix in (("train", ""), ("val", "val_"), ("test", "test_")):
            column = _column(history, prefix + key)
            if column is not None:
                style = dict(_STYLE[split], marker=_STYLE[split].get("marker", "o"))
                ax_metric.plot(epochs, column, label={"train": "train (mean over the epoch)",
                                                      "val": "validation", "test": "test"}[split], **style)
                last = column[-1]
                if np.isfinite(last):
                    ax_metric.annotate(f"{last:.4f}", (epochs[-1], last), fontsize=7,
                                       textcoords="offset points", xytext=(4, 0))
        ax_metric.set_title(key)
    ax_metric.set_xlabel("epoch")
    if n:
        ax_metric.set_xticks(epochs if n <= 20 else epochs[:: max(1, n // 10)])
        ax_metric.legend(fontsize=8)

    # learning rate
    if per_step and all("lr" in s for s in steps):
        ax_lr.plot(np.arange(1, len(steps) + 1), [s["lr"] for s in steps], color="C3")
        ax_lr.set_xlabel("step")
    elif "lr" in history:
        ax_lr.plot(epochs, _column(history, "lr"), color="C3", marker="o")
        ax_lr.set_xlabel("epoch")
    ax_lr.set_title("learning rate")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_history(history, path):
    """Loss, then each metric (training and validation), then the learning rate, over epochs."""
    plt = pyplot()
    keys = [k for k in history.keys() if k not in ("epoch", "lr", "time") and not k.startswith(("val_", "test_"))]
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
    return save(fig, path)
