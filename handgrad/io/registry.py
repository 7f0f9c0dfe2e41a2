"""The explicit table of layer classes a saved architecture may name.

A saved architecture names layers by type (``"Linear"``); :func:`layer_class` maps the
name back to a class through :data:`LAYER_NAMES` only, so loading a file never imports
or calls anything outside handgrad's own layers (plus classes added with
:func:`register_layer`).
"""

from .. import layers

#: handgrad layer classes that may appear in a saved architecture (those present in
#: handgrad.layers are registered; names of layers not built yet are skipped).
LAYER_NAMES = (
    "Sequential", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax",
    "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d",
    "ConvNd", "Conv1d", "Conv2d", "Conv3d", "UntiedBias",
    "MaxPoolNd", "MaxPool1d", "MaxPool2d", "MaxPool3d",
    "AvgPoolNd", "AvgPool1d", "AvgPool2d", "AvgPool3d", "GlobalAvgPool", "GlobalMaxPool",
)

_EXTRA = {}


def layer_registry():
    """Dict of type name -> layer class for every registered layer."""
    table = {name: getattr(layers, name) for name in LAYER_NAMES if hasattr(layers, name)}
    table.update(_EXTRA)
    return table


def register_layer(cls):
    """Allow ``cls`` (a Layer subclass) in saved architectures; usable as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, layers.Layer)):
        raise TypeError(f"register_layer expected a Layer subclass, got {cls!r}")
    _EXTRA[cls.__name__] = cls
    return cls


def layer_class(name, saving=False):
    """The registered class called ``name``; a clear error when there is none."""
    table = layer_registry()
    if name not in table:
        where = "in the saved architecture" if not saving else "cannot be saved"
        raise ValueError(f"unknown layer type {name!r} {where}; known types: {sorted(table)} "
                         f"(add others with handgrad.io.register_layer)")
    return table[name]
