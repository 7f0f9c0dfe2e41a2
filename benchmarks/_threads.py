"""Thread count for both frameworks, read from ``--threads N`` before NumPy is imported
(without it, each library keeps its default: every core).

OpenBLAS fixes its thread pool when it loads, so the environment variables must be set
before the first ``import numpy``; the benchmark scripts import this module first.
handgrad gets the count through ``HANDGRAD_THREADS`` (its compiled backend then runs one
BLAS thread per thread of its own; OpenBLAS gets ``n`` threads only for ``--backend numpy``),
PyTorch through ``torch.set_num_threads``.
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
        # handgrad's compiled backend runs n threads of its own, each with one BLAS thread
        # (it pins OpenBLAS itself unless OPENBLAS_NUM_THREADS is set); the NumPy reference
        # multiplies on OpenBLAS's threads
        names = ["HANDGRAD_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"]
        at = argv.index("--backend") + 1 if "--backend" in argv else len(argv)
        if argv[at:at + 1] == ["numpy"]:
            names.append("OPENBLAS_NUM_THREADS")
        for var in names:
            os.environ[var] = str(n)
    return n


THREADS = threads_from_argv()
