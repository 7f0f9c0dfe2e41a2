"""``handgrad.save(model, path)`` / ``handgrad.load(path)``: architecture + weights in one file.

The architecture is JSON: ``{"type": "Linear", "config": {...}}`` for a layer (its
``get_config()``), ``{"type": "Sequential", "layers": [...]}`` for a container. Weights
and buffers are arrays named by their dotted names (``"0.weight"``). See
:mod:`handgrad.io.archive` for the file layout.
"""

from ..layers import Layer, Sequential
from .archive import read_archive, write_archive
from .registry import layer_class

MODEL_FORMAT = "handgrad-model"


def architecture(model):
    """JSON-able description of ``model``: type names and constructor arguments, nested."""
    if isinstance(model, Sequential):
        return {"type": "Sequential", "layers": [architecture(layer) for layer in model]}
    if not isinstance(model, Layer):
        raise TypeError(f"expected a handgrad Layer, got {type(model).__name__}")
    layer_class(type(model).__name__, saving=True)      # unknown types fail at save time, not load time
    return {"type": type(model).__name__, "config": model.get_config()}


def build(arch):
    """Construct a model (freshly initialized) from :func:`architecture`'s description."""
    cls = layer_class(arch["type"])
    if arch["type"] == "Sequential":
        return Sequential(*[build(a) for a in arch["layers"]])
    try:
        return cls(**arch["config"])
    except TypeError as e:
        raise ValueError(f"cannot rebuild {arch['type']} from config {arch['config']}: {e}") from e


def model_arrays(model):
    return {f"model/{k}": v for k, v in model.state_dict().items()}


def restore_model(model, arrays):
    state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    model.load_state_dict(state)
    return model


def save(model, path):
    """Write ``model``'s architecture and weights to ``path`` (one ``.npz`` file). Returns the path.

    Examples
    --------
    >>> import numpy as np, handgrad, tempfile, os
    >>> net = handgrad.Sequential(handgrad.Linear(4, 2, rng=0), handgrad.ReLU())
    >>> path = handgrad.save(net, os.path.join(tempfile.mkdtemp(), "net.npz"))
    >>> x = np.ones((1, 4), np.float32)
    >>> bool(np.array_equal(handgrad.load(path)(x), net(x)))
    True
    """
    header = {"format": MODEL_FORMAT, "architecture": architecture(model)}
    return write_archive(path, header, model_arrays(model))


def load(path):
    """Rebuild the model saved by :func:`save`, with its weights and buffers (in training mode)."""
    header, arrays = read_archive(path, MODEL_FORMAT)
    return restore_model(build(header["architecture"]), arrays)


