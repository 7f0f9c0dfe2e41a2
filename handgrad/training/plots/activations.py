"""Feature maps: one image as the network sees it after each convolution."""

import math

import numpy as np

from ...layers.conv import ConvNd
from ._figure import pyplot, save, show_image


def feature_stages(model, image):
    """Run one image ``(C, H, W)`` through ``model`` (eval mode) and keep what each
    convolution block makes of it: ``[(label, maps (C', H', W')), ...]``.

    A block is a convolution and the layers after it that keep its output's shape (batch
    norm, ReLU, ...); its maps are taken after the last of those (what the next layer
    reads). A model without convolutions gives its first output of rank 4.
    """
    layers = list(model) if hasattr(model, "__iter__") else [model]
    was_training = model.training
    model.eval()
    stages, block, first_rank4 = [], None, None
    try:
        x = np.asarray(image)[None]                               # (1, C, H, W)
        for i, layer in enumerate(layers):
            y = layer.forward(x)
            kind = type(layer).__name__
            if isinstance(layer, ConvNd) and y.ndim == 4:
                if block is not None:
                    stages.append(block)
                block = (f"layer {i}: {kind}", y[0])
            elif block is not None and y.shape[1:] == block[1].shape:
                block = (f"{block[0]} + {kind}", y[0])
            elif block is not None:
                stages.append(block)
                block = None
            if first_rank4 is None and y.ndim == 4:
                first_rank4 = (f"layer {i}: {kind}", y[0])
            x = y
    finally:
        model.train(was_training)
    if block is not None:
        stages.append(block)
    if not stages and first_rank4 is not None:
        stages = [first_rank4]
    if not stages:
        raise ValueError(f"plot_feature_maps found no layer with (N, C, H, W) output; last shape {x.shape}")
    return stages


def plot_feature_maps(model, image, path, max_maps=32, cols=16, title=None):
    """The image, then up to ``max_maps`` channels after each convolution block.

    Each map has its own colour scale (dark: low, yellow: high): the point is where in the
    image a channel responds, not how strongly compared with other channels.
    """
    plt = pyplot()
    stages = feature_stages(model, image)
    rows = [math.ceil(min(len(maps), max_maps) / cols) for _, maps in stages]
    fig = plt.figure(figsize=(cols * 0.75, 0.9 * (2 + sum(rows)) + 0.4 * len(stages)))
    spec = fig.add_gridspec(1 + sum(rows), cols)
    ax = fig.add_subplot(spec[0, 0])
    if np.ndim(image) in (2, 3):
        show_image(ax, image)
    ax.set_title(f"input {tuple(np.shape(image))}", fontsize=7, loc="left")
    ax.axis("off")
    row = 1
    for (label, maps), n_rows in zip(stages, rows):
        shown = maps[:max_maps]
        for k, m in enumerate(shown):
            ax = fig.add_subplot(spec[row + k // cols, k % cols])
            ax.imshow(m, cmap="viridis")
            ax.axis("off")
            if k == 0:
                ax.set_title(f"{label}: {len(shown)} of {maps.shape[0]} maps, {maps.shape[1]}x{maps.shape[2]}",
                             fontsize=7, loc="left")
        row += n_rows
    fig.suptitle(title or "feature maps of one test image after each convolution block "
                          "(each map on its own colour scale)", fontsize=9)
    return save(fig, path)
