"""The reference array operations the layers call, in plain NumPy: the math of docs/, one
screen each. Compiled backends (handgrad/kernels/) replace some of them, tested equal;
:mod:`handgrad.backend` chooses which runs.

- batch normalization (training mode): :func:`batch_norm_forward`, :func:`batch_norm_backward`
  (functional/batchnorm.py), and followed by a ReLU: :func:`batch_norm_relu_forward`,
  :func:`batch_norm_relu_backward` (functional/batchnorm_relu.py)
- convolution: :func:`conv_forward`, :func:`conv_backward` (functional/conv.py), and followed
  by a ReLU: :func:`conv_relu_forward`, :func:`conv_relu_backward` (functional/conv_relu.py)
- pooling: :func:`max_pool_forward`, :func:`max_pool_backward`, :func:`avg_pool_forward`,
  :func:`avg_pool_backward` (functional/pooling.py)
- dense layer: :func:`linear_forward`, :func:`linear_backward` (functional/linear.py)
- ReLU: :func:`relu_forward`, :func:`relu_backward` (functional/relu.py)
- softmax cross-entropy on logits: :func:`softmax_cross_entropy` (functional/softmax_ce.py)
"""

from .batchnorm import batch_norm_backward, batch_norm_forward
from .batchnorm_relu import batch_norm_relu_backward, batch_norm_relu_forward
from .conv import conv_backward, conv_forward
from .conv_relu import conv_relu_backward, conv_relu_forward
from .linear import linear_backward, linear_forward
from .pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward
from .relu import relu_backward, relu_forward
from .softmax_ce import softmax_cross_entropy

__all__ = ["batch_norm_forward", "batch_norm_backward", "batch_norm_relu_forward", "batch_norm_relu_backward",
           "conv_forward", "conv_backward",
           "conv_relu_forward", "conv_relu_backward",
           "linear_forward", "linear_backward", "max_pool_forward", "max_pool_backward",
           "avg_pool_forward", "avg_pool_backward", "relu_forward", "relu_backward",
           "softmax_cross_entropy"]
