"""Layers: each file holds one concept, its forward next to its backward."""

from .activations import ReLU
from .base import Layer, Sequential
from .global_pooling import GlobalAvgPool, GlobalMaxPool
from .linear import Linear
from .pooling import AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, MaxPool1d, MaxPool2d, MaxPool3d, MaxPoolNd

__all__ = ["Layer", "Sequential", "Linear", "ReLU"]
__all__ += ["MaxPoolNd", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPoolNd", "AvgPool1d", "AvgPool2d",
            "AvgPool3d", "GlobalAvgPool", "GlobalMaxPool"]
