"""handgrad: convolutional neural networks from scratch in NumPy.

Every layer's forward and backward pass is derived by hand (see docs/) and checked
numerically (:mod:`handgrad.gradcheck`).
"""

from . import init
from . import data
from . import optim
from .gradcheck import GradcheckError, gradcheck, gradcheck_loss
from .layers import Layer, Linear, ReLU, Sequential
from .layers import BatchNorm1d, BatchNorm2d, Dropout, Flatten, LeakyReLU, Sigmoid, Softmax, Tanh
from . import losses
from .layers import Conv1d, Conv2d, Conv3d, ConvNd, UntiedBias
from .layers import (AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, GlobalAvgPool, GlobalMaxPool, MaxPool1d,
                     MaxPool2d, MaxPool3d, MaxPoolNd)
from .parameter import Parameter
from . import training
from .io import load, load_checkpoint, save, save_checkpoint

__version__ = "0.1.0"

__all__ = [
    "init", "Parameter", "Layer", "Sequential", "Linear", "ReLU",
    "gradcheck", "gradcheck_loss", "GradcheckError",
    "training", "save", "load", "save_checkpoint", "load_checkpoint",
]
__all__ += ["LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "losses"]
__all__ += ["ConvNd", "Conv1d", "Conv2d", "Conv3d", "UntiedBias"]
__all__ += ["MaxPoolNd", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPoolNd", "AvgPool1d", "AvgPool2d",
            "AvgPool3d", "GlobalAvgPool", "GlobalMaxPool"]
