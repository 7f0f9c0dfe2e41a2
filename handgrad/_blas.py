"""Set the number of BLAS threads at run time (OpenBLAS, as bundled with NumPy wheels).

Data parallelism runs one BLAS call per worker thread at once; an OpenBLAS that also
splits each call over every core then fights itself (measured: 2 workers x 2 BLAS threads
ran at 0.45x the speed of 2 workers x 1 BLAS thread). :func:`blas_threads` pins the count
for the duration of a ``with`` block. Where no OpenBLAS is found (another BLAS, another
platform) it does nothing.
"""

import contextlib
import ctypes

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")
_LIB = False   # False: not looked up yet; None: none found


def _loaded_openblas_paths():
    """Paths of the shared libraries with 'openblas' in their name mapped into this process."""
    import numpy  # noqa: F401  (loads NumPy's BLAS)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:                                     # not Linux
        return []
    return sorted(paths)


def _openblas():
    """``(set_num_threads, get_num_threads)`` of the loaded OpenBLAS, or None."""
    global _LIB
    if _LIB is False:
        _LIB = None
        for path in _loaded_openblas_paths():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
            getter = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                _LIB = (setter, getter)
                break
    return _LIB


def get_blas_threads():
    """OpenBLAS's current thread count, or None where it cannot be read."""
    lib = _openblas()
    return None if lib is None else int(lib[1]())


def set_blas_threads(n):
    """Set OpenBLAS's thread count for the whole process; returns False where no OpenBLAS
    was found."""
    lib = _openblas()
    if lib is None:
        return False
    lib[0](int(n))
    return True


@contextlib.contextmanager
def blas_threads(n):
    """Run the ``with`` block with ``n`` BLAS threads, then restore the previous count."""
    lib = _openblas()
    if lib is None:
        yield
        return
    setter, getter = lib
    before = int(getter())
    if before != n:
        setter(n)
    try:
        yield
    finally:
        if before != n:
            setter(before)
