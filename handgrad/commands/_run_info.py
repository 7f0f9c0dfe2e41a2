"""What ``handgrad train`` says before the first epoch: where the arithmetic runs and how big
the model is (so that a slow run can be understood before it is waited for)."""

import numpy as np


def blas_library():
    """NumPy's BLAS as ``"scipy-openblas 0.3.31"``, or ``"unknown BLAS"`` where NumPy cannot say."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError, AttributeError):               # NumPy < 1.26 prints only
        return "unknown BLAS"
    version = ".".join(str(blas.get("version", "")).split(".")[:3])
    return f"{blas.get('name', 'BLAS')} {version}".strip()


def compute_line(workers=1, backend=None):
    """``"compute: backend numba on 2 threads, NumPy 2.4.6, scipy-openblas 0.3.31 with 1
    thread, 1 worker (--workers)"``; ``backend`` is the name of the kernels in use (loaded
    here, so that the BLAS thread count shown is the one they run with)."""
    from .. import backend as backends
    from .._blas import get_blas_threads

    parts = []
    if backend:
        backends.ops(backend)                    # loading a compiled backend pins BLAS threads
        threads = backends.threads()
        parts.append(f"backend {backend}" + (f" on {threads} thread{'s' if threads != 1 else ''}"
                                             if backend != "numpy" else ""))
    blas = get_blas_threads()
    parts += [f"NumPy {np.__version__}",
              f"{blas_library()} with " + (f"{blas} thread{'s' if blas != 1 else ''}"
                                           if blas is not None else "its default number of threads"),
              f"{workers} worker{'s' if workers != 1 else ''} (--workers)"]
    return "compute: " + ", ".join(parts)


def parameter_count(model):
    """Number of trainable numbers in ``model``."""
    return int(sum(p.data.size for p in model.parameters().values()))
