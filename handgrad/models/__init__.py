"""Ready architectures. Each factory returns a :class:`~handgrad.layers.Sequential`.

``MODELS`` maps the names used on the command line to the factories; :func:`get_model`
is the one place where such a string becomes a model.
"""

from .fast_cnn import fast_cnn
from .keras_cnn import keras_mnist_cnn
from .lenet import lenet5
from .mlp import mlp
from .shapes_regressor import shapes_regressor
from .three_conv import three_conv_net
from .vgg import vgg_small

#: command-line name -> model factory (every factory takes ``rng=`` and ``dtype=``)
MODELS = {
    "fast-cnn": fast_cnn,
    "lenet5": lenet5,
    "keras-cnn": keras_mnist_cnn,
    "three-conv": three_conv_net,
    "mlp": mlp,
    "vgg-small": vgg_small,
    "shapes-regressor": shapes_regressor,
}

#: the model ``handgrad train`` uses when none is named
DEFAULT_MODEL = "fast-cnn"


def get_model(name, **kwargs):
    """Build the registered model ``name`` (keyword arguments go to its factory)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


__all__ = ["MODELS", "DEFAULT_MODEL", "get_model", "fast_cnn", "lenet5", "keras_mnist_cnn",
           "three_conv_net", "mlp", "vgg_small", "shapes_regressor"]
