"""handgrad: convolutional neural networks from scratch in NumPy.

Every layer's forward and backward pass is derived by hand (see docs/) and checked
numerically (:mod:`handgrad.gradcheck`).
"""

from . import data, init, losses, models, optim, training
from .gradcheck import GradcheckError, gradcheck, gradcheck_loss
from .io import load, load_checkpoint, save, save_checkpoint
from .layers import (
    AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Conv3d,
    ConvNd, Dropout, Flatten, GlobalAvgPool, GlobalMaxPool, Layer, LeakyReLU, Linear, MaxPool1d,
    MaxPool2d, MaxPool3d, MaxPoolNd, ReLU, Sequential, Sigmoid, Softmax, Tanh, UntiedBias,
)
from .parameter import Parameter
from .summary import Summary, summary
from .training import DataParallel, plots

__version__ = "0.1.0"

__all__ = [
    # modules
    "data", "init", "losses", "models", "optim", "training", "plots",
    # the layer contract
    "Parameter", "Layer", "Sequential",
    # layers
    "Linear", "ConvNd", "Conv1d", "Conv2d", "Conv3d", "UntiedBias",
    "MaxPoolNd", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPoolNd", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "GlobalAvgPool", "GlobalMaxPool",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d",
    # training on several cores, model inspection
    "DataParallel", "summary", "Summary",
    # checking, saving
    "gradcheck", "gradcheck_loss", "GradcheckError",
    "save", "load", "save_checkpoint", "load_checkpoint",
]
