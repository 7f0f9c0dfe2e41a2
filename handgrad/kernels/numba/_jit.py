"""How the kernels are compiled and which threads run them.

:func:`kernel` compiles a loop function twice, lazily: with ``parallel=True`` (its
``prange`` loop split over Numba's threads) for calls from the main thread on large
arrays, and serially for small arrays and for calls from any other thread. Other threads are data-parallel workers
(:class:`handgrad.layers.DataParallel`) that already keep every core busy, and some
threading layers (workqueue) abort when two threads launch parallel kernels at once.

Both are compiled with ``cache=True`` (once per machine; the serial one is a copy of the
function under another name, since Numba's cache keys a function by name and signature,
not by its compile options) and ``nogil=True`` (worker threads run kernels at once).

The OpenMP threading layer's threads spin while they wait for work by default; on a
machine where another process competes for the cores that made every launch wait for a
descheduled spinner (a 0.1 ms ReLU took 20 ms with one busy process per core). Unless the
user chose otherwise, ``OMP_WAIT_POLICY=PASSIVE`` is set before Numba starts its threads.
"""

import os
import threading
import types

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from numba import njit  # noqa: E402  (after the wait policy)


#: below this many elements in a kernel's first argument, waking threads costs more than it saves
PARALLEL_MIN_SIZE = 1 << 15


def kernel(fn):
    """``fn`` compiled parallel (main thread, first argument of at least
    ``PARALLEL_MIN_SIZE`` elements) and serial (otherwise), both releasing the GIL."""
    parallel = njit(parallel=True, cache=True, nogil=True)(fn)
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    serial = njit(cache=True, nogil=True)(twin)
    main = threading.main_thread()

    def run(*args):
        big = args[0].size >= PARALLEL_MIN_SIZE
        return (parallel if big and threading.current_thread() is main else serial)(*args)

    run.__name__, run.__doc__, run.py_func = fn.__name__, fn.__doc__, fn
    return run
