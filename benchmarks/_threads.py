"""Thread count for both frameworks, read from ``--threads N`` before NumPy is imported
(without it, each library keeps its default: every core).

OpenBLAS fixes its thread pool when it loads, so the environment variable must be set
before the first ``import numpy``; the benchmark scripts import this module first.
PyTorch gets the same count through ``torch.set_num_threads``.
"""

import os
import sys
from pathlib import Path

# run from a checkout without installing: the repository root first on the path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def threads_from_argv(default=None):
    """``--threads N`` from the command line (then exported to both libraries), else
    ``default``; ``None`` leaves every library at its own default (all cores)."""
    argv = sys.argv[1:]
    n = default
    if "--threads" in argv and argv.index("--threads") + 1 < len(argv):
        n = int(argv[argv.index("--threads") + 1])
    if n is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(n)
    return n


THREADS = threads_from_argv()
