"""Images the model got wrong."""

import numpy as np

from ._figure import grid, pyplot, save, show_image


def plot_misclassified(images, y_true, y_pred, path, max_images=25, class_names=None, indices=None):
    """A grid of the first ``max_images`` wrong predictions, each titled "predicted / true".

    ``images`` may hold every test image (then the wrong ones are picked) or, with
    ``indices`` (their positions in the test set, shown in each panel), only the wrong ones.
    """
    plt = pyplot()
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    if indices is None:
        indices = wrong[:max_images]
        picked = [images[i] for i in indices]
    else:
        indices = np.asarray(indices)[:max_images]
        picked = list(images)[:len(indices)]
    fig, axes = grid(plt, max(len(picked), 1), size=1.5)
    name = (lambda c: str(class_names[c])) if class_names is not None else str
    for ax, img, i in zip(axes, picked, indices):
        show_image(ax, img)
        ax.set_title(f"{name(int(y_pred[i]))} / {name(int(y_true[i]))}", fontsize=8, color="red")
        ax.text(0.02, 0.02, f"#{int(i)}", transform=ax.transAxes, fontsize=6, color="yellow")
    if not picked:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.suptitle(f"misclassified test images, predicted / true: {len(picked)} of {len(wrong)}"
                 f" (of {len(y_true)})", fontsize=9)
    return save(fig, path)
