"""The confusion matrix: which classes the model takes for which."""

import numpy as np

from ._figure import pyplot, save


def plot_confusion_matrix(cm, path, class_names=None, title=None):
    """Counts of true (rows) versus predicted (columns) classes, each cell annotated.

    The colour of a cell is its share of its row (the recall of that class; the diagonal is
    the per-class accuracy), so that rare classes are as readable as common ones; the
    number in the cell is the count. The per-class accuracy is written beside each row.
    """
    plt = pyplot()
    cm = np.asarray(cm)
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix expected {k} class names, got {len(names)}")
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    side = 0.55 * k + 2.5
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.12, label="share of the true class")
    long_names = max(map(len, names)) > 3 or k > 12
    ax.set_xticks(range(k), names, rotation=60 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    recall = np.diag(share)
    for i in range(k):
        ax.text(k - 0.3, i, f"{recall[i]:.1%}", va="center", fontsize=7)
    total = cm.sum()
    accuracy = np.trace(cm) / total if total else float("nan")
    ax.set_title(title or f"confusion matrix ({total} test images, accuracy {accuracy:.2%})")
    return save(fig, path)
