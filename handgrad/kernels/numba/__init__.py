"""The Numba backend: loop kernels compiled on first use and cached on disk (``cache=True``),
parallel over the batch. One file per operation family; every function here has the
signature and the results of the reference of the same name in :mod:`handgrad.functional`.
"""

from .conv import conv_backward, conv_forward
from .pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward
from .relu import relu_backward, relu_forward
from .softmax_ce import softmax_cross_entropy

__all__ = ["conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward",
           "avg_pool_forward", "avg_pool_backward", "relu_forward", "relu_backward",
           "softmax_cross_entropy"]
