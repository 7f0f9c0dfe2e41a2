"""Layers: each file holds one concept, its forward next to its backward."""

from .activations import ReLU
from .base import Layer, Sequential
from .conv import Conv1d, Conv2d, Conv3d, ConvNd
from .linear import Linear
from .untied_bias import UntiedBias

__all__ = ["Layer", "Sequential", "Linear", "ReLU"]
__all__ += ["ConvNd", "Conv1d", "Conv2d", "Conv3d", "UntiedBias"]
