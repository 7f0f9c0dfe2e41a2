"""Small building blocks shared by the ready models (one place, so the nets read as lists)."""

from .. import layers as L
from .._checks import as_dtype, as_rng


def conv_bn_relu(in_channels, out_channels, rng, dtype, kernel_size=3, padding=1):
    """``Conv2d (no bias) -> BatchNorm2d -> ReLU``; BatchNorm's shift makes a conv bias redundant.

    Shape: ``(N, in_channels, H, W) -> (N, out_channels, H + 2*padding - kernel_size + 1, ...)``.
    """
    return [
        L.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False, rng=rng, dtype=dtype),
        L.BatchNorm2d(out_channels, dtype=dtype),
        L.ReLU(),
    ]


def conv_pool_stack(in_channels, widths, image_size, rng, dtype, convs_per_block=1):
    """``[conv_bn_relu * convs_per_block -> 2x2 max pool]`` per width.

    Returns ``(layers, channels, side)``: the layers, and the channels and side of their output
    (each pool halves the side: ``side = image_size // 2**len(widths)``).
    """
    layers, channels, side = [], in_channels, image_size
    for width in widths:
        for _ in range(convs_per_block):
            layers += conv_bn_relu(channels, width, rng, dtype)
            channels = width
        layers.append(L.MaxPool2d(2))
        side //= 2
    return layers, channels, side


def activation(name):
    """The activation layer for a model factory's ``activation`` argument ("relu" or "tanh")."""
    table = {"relu": L.ReLU, "tanh": lambda: L.Tanh()}
    if name not in table:
        raise ValueError(f"activation must be one of {sorted(table)}, got {name!r}")
    return table[name]()


def rng_and_dtype(rng, dtype):
    """One Generator for every initializer and dropout mask of a model, and its dtype."""
    return as_rng(rng, "model rng"), as_dtype(dtype)


__all__ = ["conv_bn_relu", "conv_pool_stack", "activation", "rng_and_dtype"]
