"""matplotlib, imported lazily with the Agg backend, and the helpers every plot shares."""

import math
import os

import numpy as np

from ..._files import atomic_open


class MatplotlibMissing(ImportError):
    """matplotlib cannot be imported; the message says how to install it."""


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no window), or MatplotlibMissing."""
    try:
        import matplotlib
    except ImportError as e:
        raise MatplotlibMissing(f"handgrad's plots need matplotlib ({e}): pip install matplotlib") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, path):
    """Write ``fig`` as a PNG at ``path`` atomically (never a half-written picture); returns ``path``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return path


def grid(plt, n, size=1.2, cols=None):
    """A figure with ``n`` empty, axis-less panels in a near-square grid: ``(fig, axes)``."""
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    return fig, axes.ravel()


def show_image(ax, img, **kwargs):
    """Draw one ``(C, H, W)``, ``(1, H, W)`` or ``(H, W)`` image (grey for one channel)."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    elif img.ndim == 3:
        img = img.transpose(1, 2, 0)                      # (H, W, C) for matplotlib
    kwargs.setdefault("cmap", "gray")
    return ax.imshow(img, **kwargs)
