"""How the kernels are compiled: serially, releasing the GIL, cached on disk.

Every kernel is a plain loop compiled by Numba with ``nogil=True`` (threads run kernels
at once) and ``cache=True`` (compiled once per machine). None uses Numba's own parallel
loops: parallelism is handgrad's, over blocks of samples (:mod:`._blocks`), so no OpenMP
runtime starts and no thread spins while it waits (docs/performance.md).

The small helpers the kernels share (the team's atomics, the Winograd matrices times a
column) are ordinary compiled calls, not inlined by Numba (``inline="always"`` types and
lowers a callee again at every call site): LLVM inlines them all the same, and a first run
compiles about 1.5 s less (fast-cnn's first step, 20.3-20.9 -> 17.5-18.7 s, AMD EPYC).
Numba's inlining stays where LLVM would leave a call in a loop (the views of the Winograd
drivers' matrices: 48 calls a block) and in the functions that close over a block
function.
"""

from numba import njit

from ._cache import by_closure


def kernel(fn):
    """``fn`` compiled as a serial loop that releases the GIL; ``py_func`` is ``fn``. A
    kernel made by a factory is found in the cache by what it closes over
    (:func:`._cache.by_closure`)."""
    return by_closure(njit(cache=True, nogil=True)(fn))
