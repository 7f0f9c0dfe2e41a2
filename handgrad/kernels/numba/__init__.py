"""The Numba backend: loop kernels compiled on first use and cached on disk (``cache=True``),
parallel over the batch. One file per operation family; every function here has the
signature and the results of the reference of the same name in :mod:`handgrad.functional`.

Threads: the kernels run on Numba's threads (one per core) and the convolution's
products on handgrad's own (:mod:`.gemm`), so OpenBLAS is set to one thread for the
process when this backend loads, unless ``OPENBLAS_NUM_THREADS`` says otherwise. Two
thread pools that each want every core would otherwise take turns spinning, and a
multi-threaded OpenBLAS collapses when another process shares the cores
(docs/performance.md).
"""

import os

from ..._blas import set_blas_threads

from .conv import conv_backward, conv_forward
from .pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward
from .relu import relu_backward, relu_forward
from .softmax_ce import softmax_cross_entropy

if "OPENBLAS_NUM_THREADS" not in os.environ:
    set_blas_threads(1)

__all__ = ["conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward",
           "avg_pool_forward", "avg_pool_backward", "relu_forward", "relu_backward",
           "softmax_cross_entropy"]
