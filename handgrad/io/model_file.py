"""``handgrad.save(model, path)`` / ``handgrad.load(path)``: architecture + weights in one file.

The architecture is JSON: ``{"type": "Linear", "config": {...}}`` for a layer (its
``get_config()``), ``{"type": "Sequential", "layers": [...]}`` for a container. Weights
and buffers are arrays named by their dotted names (``"0.weight"``). See
:mod:`handgrad.io.archive` for the file layout.

A file's architecture is checked before any layer is built (:func:`check_architecture`):
its structure, a nesting depth of at most :data:`MAX_DEPTH` and :data:`MAX_LAYERS` layers
in all, and for the layers with parameters (Linear, convolutions, batch norm, UntiedBias)
the shapes their configuration declares against the arrays stored in the file, so a forged
``Linear(10**6, 10**6)`` is refused before it allocates anything. Stored weights holding
NaN or inf are refused too.
"""

import operator

import numpy as np

from ..layers import BatchNorm1d, BatchNorm2d, ConvNd, Layer, Linear, Sequential, UntiedBias
from .archive import HandgradFileError, read_archive, write_archive
from .registry import layer_class

MODEL_FORMAT = "handgrad-model"
#: the deepest nesting of containers, and the most layers, a file may describe
MAX_DEPTH = 32
MAX_LAYERS = 10_000


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


def _ints(value, n=None):
    """A tuple of non-negative ints from an int or a list (``n`` entries for an int)."""
    values = [value] * (n or 1) if not isinstance(value, (list, tuple)) else list(value)
    out = tuple(operator.index(v) for v in values if not isinstance(v, bool))
    if len(out) != len(values) or any(v < 0 for v in out):
        raise TypeError(f"expected non-negative integers, got {value!r}")
    return out


def declared_shapes(cls, config):
    """``{array name: shape}`` a layer of ``cls`` built from ``config`` would allocate, for the
    built-in layers with parameters or buffers (an empty dict for the others)."""
    c = dict(config)
    if issubclass(cls, Linear):
        out_f, in_f = _ints(c["out_features"]) + _ints(c["in_features"])
        shapes = {"weight": (out_f, in_f)}
        return {**shapes, "bias": (out_f,)} if c.get("bias", True) else shapes
    if issubclass(cls, ConvNd):
        nd = getattr(cls, "fixed_dims", None) or _ints(c["num_spatial_dims"])[0]
        (co,), (ci,), (groups,) = _ints(c["out_channels"]), _ints(c["in_channels"]), _ints(c.get("groups", 1))
        shapes = {"weight": (co, ci // max(groups, 1)) + _ints(c["kernel_size"], nd)}
        return {**shapes, "bias": (co,)} if c.get("bias", True) else shapes
    if issubclass(cls, (BatchNorm1d, BatchNorm2d)):
        C = _ints(c["num_features"])
        shapes = {"running_mean": C, "running_var": C}
        return {**shapes, "weight": C, "bias": C} if c.get("affine", True) else shapes
    if issubclass(cls, UntiedBias):
        return {"bias": _ints(c["shape"])}
    return {}


def check_architecture(arch, arrays, prefix="", depth=0, count=None):
    """Check a stored architecture against the stored arrays (``"model/<name>"``) before
    building it; raises HandgradFileError naming the layer at fault. Returns the layer count."""
    count = [0] if count is None else count
    where = f"layer {prefix!r}" if prefix else "the model"
    if depth > MAX_DEPTH:
        raise HandgradFileError(f"the architecture is nested deeper than {MAX_DEPTH} levels "
                                f"(handgrad.io.model_file.MAX_DEPTH)")
    count[0] += 1
    if count[0] > MAX_LAYERS:
        raise HandgradFileError(f"the architecture has more than {MAX_LAYERS} layers "
                                f"(handgrad.io.model_file.MAX_LAYERS)")
    if not isinstance(arch, dict) or not isinstance(arch.get("type"), str):
        raise HandgradFileError(f"{where} in the architecture is not a {{'type': ..., ...}} object")
    try:
        cls = layer_class(arch["type"])
    except ValueError as e:
        raise HandgradFileError(str(e)) from None
    if arch["type"] == "Sequential":
        if not isinstance(arch.get("layers"), list):
            raise HandgradFileError(f"{where}: a Sequential needs a list of 'layers'")
        for i, child in enumerate(arch["layers"]):
            check_architecture(child, arrays, f"{prefix}.{i}" if prefix else str(i), depth + 1, count)
        return count[0]
    config = arch.get("config")
    if not isinstance(config, dict):
        raise HandgradFileError(f"{where} ({arch['type']}) has no 'config' object")
    try:
        expected = declared_shapes(cls, config)
    except (KeyError, TypeError, ValueError) as e:
        raise HandgradFileError(f"{where} ({arch['type']}) has an invalid config {config}: {e}") from None
    for name, shape in expected.items():
        key = f"model/{prefix}.{name}" if prefix else f"model/{name}"
        stored = arrays.get(key)
        if stored is None or stored.shape != shape:
            got = "nothing" if stored is None else f"an array of shape {stored.shape}"
            raise HandgradFileError(f"{where} ({arch['type']}) declares {name} of shape {shape} but "
                                    f"the file stores {got}; the file is inconsistent or forged")
    return count[0]


def model_arrays(model):
    return {f"model/{k}": v for k, v in model.state_dict().items()}


def restore_model(model, arrays):
    """Copy the ``"model/<name>"`` arrays into ``model``; weights with NaN or inf are refused."""
    state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    for name, value in state.items():
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            raise HandgradFileError(f"the stored {name!r} holds NaN or inf values "
                                    f"(a diverged model?); refusing to load it")
    try:
        model.load_state_dict(state)
    except ValueError as e:                          # names or shapes that do not match the model
        raise HandgradFileError(str(e)) from None
    return model


def build_checked(arch, arrays):
    """:func:`build` after :func:`check_architecture`; errors as HandgradFileError."""
    check_architecture(arch, arrays)
    try:
        return build(arch)
    except (ValueError, TypeError) as e:
        raise HandgradFileError(str(e)) from None


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
    try:
        model = build_checked(header.get("architecture"), arrays)
        return restore_model(model, arrays)
    except HandgradFileError as e:
        raise HandgradFileError(f"{path!r}: {e}") from None


