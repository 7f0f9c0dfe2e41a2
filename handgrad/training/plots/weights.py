"""The first layer's filters: what the network looks for in the input."""

import math

import numpy as np

from ._figure import grid, pyplot, save


def first_weight(model):
    """``(name, array)`` of the first parameter whose name ends in "weight"."""
    for name, p in model.parameters().items():
        if name.endswith("weight"):
            return name, p.data
    raise ValueError("plot_filters found no weight parameter in the model")


def plot_filters(model, path, max_filters=64):
    """The first layer's filters as images on one shared, symmetric colour scale.

    A conv weight ``(C_out, C_in, KH, KW)`` shows one panel per output channel (input
    channel 0); a linear weight ``(out, in)`` one panel per unit when ``in`` is a square
    (e.g. 784 = 28x28). Red is positive, blue negative, white zero, with the same limits
    ``[-m, m]`` (``m`` the largest magnitude) in every panel, so filters compare directly.
    """
    plt = pyplot()
    name, w = first_weight(model)
    if w.ndim == 4:
        images = w[:max_filters, 0]                                   # (C_out, KH, KW)
        what = f"input channel 0 of {w.shape[1]}" if w.shape[1] > 1 else "one input channel"
    elif w.ndim == 2 and math.isqrt(w.shape[1]) ** 2 == w.shape[1]:
        side = math.isqrt(w.shape[1])
        images = w.reshape(-1, side, side)[:max_filters]
        what = f"each unit's {side}x{side} input weights"
    else:
        raise ValueError(f"plot_filters cannot draw a first weight of shape {w.shape}")
    limit = float(np.max(np.abs(images))) or 1.0
    fig, axes = grid(plt, len(images), size=1.0 if images.shape[-1] <= 7 else 1.3)
    for i, (ax, img) in enumerate(zip(axes, images)):
        shown = ax.imshow(img, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=6, pad=1)
    fig.colorbar(shown, ax=list(axes), fraction=0.03, pad=0.02, label="weight")
    fig.suptitle(f"first layer's filters: {name} {tuple(w.shape)}, {what}\n"
                 f"one colour scale for all, [{-limit:.3g}, {limit:.3g}]", fontsize=9)
    return save(fig, path)
