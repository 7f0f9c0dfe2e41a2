"""How the kernels are compiled: serially, releasing the GIL, cached on disk.

Every kernel is a plain loop compiled by Numba with ``nogil=True`` (threads run kernels
at once) and ``cache=True`` (compiled once per machine). None uses Numba's own parallel
loops: parallelism is handgrad's, over blocks of samples (:mod:`._blocks`), so no OpenMP
runtime starts and no thread spins while it waits (docs/performance.md).
"""

from numba import njit

from ._cache import by_closure


def kernel(fn):
    """``fn`` compiled as a serial loop that releases the GIL; ``py_func`` is ``fn``. A
    kernel made by a factory is found in the cache by what it closes over
    (:func:`._cache.by_closure`)."""
    return by_closure(njit(cache=True, nogil=True)(fn))
