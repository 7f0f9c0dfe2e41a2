"""The Numba backend: loop kernels compiled on first use and cached on disk (``cache=True``).
One file per operation family; every function here has the signature and the results of
the reference of the same name in :mod:`handgrad.functional`.

Threads: each operation runs one block of samples at a time (:mod:`._blocks`), on the
calling thread and, for large work on the main thread, on a team of handgrad's threads
that take blocks from a shared counter (:mod:`._team`). The main operations' blocks run in
one compiled loop per thread, products included (NumPy's own OpenBLAS, called by name:
:mod:`._gemm`), so a thread takes Python's lock once per operation. Every thread multiplies its own blocks, so each OpenBLAS (NumPy's,
SciPy's) is set to one thread for the process when this backend loads, unless
``OPENBLAS_NUM_THREADS`` says otherwise: two thread pools that each want every core would
otherwise take turns spinning, and a multi-threaded OpenBLAS collapses when another
process shares the cores (docs/performance.md). It also asks malloc to keep freed
memory (:mod:`handgrad._memory`), and stamps the kernels' disk cache with every file here
(:mod:`._cache`).
"""

import os

from . import _cache

_cache.install()                     # before any kernel is defined: one cache stamp for all files here

import scipy.linalg.cython_blas  # noqa: E402,F401  (Numba's np.dot's BLAS, _gemm's stand-in: loaded now, pinned below)

from ..._blas import set_blas_threads  # noqa: E402
from ..._memory import keep_freed_memory  # noqa: E402

from .batchnorm import batch_norm_backward, batch_norm_forward, batch_norm_relu_backward, batch_norm_relu_forward  # noqa: E402
from .conv import conv_backward, conv_forward, conv_relu_backward, conv_relu_forward  # noqa: E402
from .linear import linear_backward, linear_forward  # noqa: E402
from .pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward  # noqa: E402
from .relu import relu_backward, relu_forward  # noqa: E402
from .softmax_ce import softmax_cross_entropy  # noqa: E402

if "OPENBLAS_NUM_THREADS" not in os.environ:
    set_blas_threads(1)
keep_freed_memory()                  # no page faults for the arrays every step allocates anew

__all__ = ["batch_norm_forward", "batch_norm_backward", "batch_norm_relu_forward", "batch_norm_relu_backward",
           "conv_forward", "conv_backward",
           "conv_relu_forward", "conv_relu_backward",
           "linear_forward", "linear_backward", "max_pool_forward", "max_pool_backward",
           "avg_pool_forward", "avg_pool_backward", "relu_forward", "relu_backward",
           "softmax_cross_entropy"]
