"""Thread count for both frameworks, read from ``--threads N`` before NumPy is imported.

OpenBLAS fixes its thread pool when it loads, so the environment variable must be set
before the first ``import numpy``; the benchmark scripts import this module first.
PyTorch gets the same count through ``torch.set_num_threads``.
"""

import os
import sys


def threads_from_argv(default=2):
    argv = sys.argv[1:]
    n = default
    if "--threads" in argv and argv.index("--threads") + 1 < len(argv):
        n = int(argv[argv.index("--threads") + 1])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    return n


THREADS = threads_from_argv()
