"""Layers: each file holds one concept, its forward next to its backward.

``DataParallel`` (a wrapper that runs a model on slices of a batch) belongs to the training
loop: :class:`handgrad.training.DataParallel`, also ``handgrad.DataParallel``.
"""

from .activations import ReLU
from .activations import LeakyReLU, Sigmoid, Softmax, Tanh
from .base import Layer, Sequential
from .conv import Conv1d, Conv2d, Conv3d, ConvNd
from .dropout import Dropout
from .global_pooling import GlobalAvgPool, GlobalMaxPool
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, MaxPool1d, MaxPool2d, MaxPool3d, MaxPoolNd
from .reshape import Flatten
from .untied_bias import UntiedBias

__all__ = ["Layer", "Sequential", "Linear", "ReLU"]
__all__ += ["LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d"]
__all__ += ["ConvNd", "Conv1d", "Conv2d", "Conv3d", "UntiedBias"]
__all__ += ["MaxPoolNd", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPoolNd", "AvgPool1d", "AvgPool2d",
            "AvgPool3d", "GlobalAvgPool", "GlobalMaxPool"]
