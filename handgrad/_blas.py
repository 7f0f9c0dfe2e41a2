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
_LIBS = {}     # path -> (set_num_threads, get_num_threads) or None, per library looked at


def _loaded_openblas_paths():
    """Paths of the shared libraries with 'openblas' in their name mapped into this process."""
    import numpy  # noqa: F401  (loads NumPy's BLAS)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:                                     # not Linux
        return []
    return sorted(paths)


def _openblases():
    """``[(set_num_threads, get_num_threads), ...]`` of every OpenBLAS loaded now (NumPy's
    first; SciPy's, which the compiled kernels call, once loaded)."""
    for path in _loaded_openblas_paths():
        if path not in _LIBS:
            _LIBS[path] = None
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
            getter = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                _LIBS[path] = (setter, getter)
    numpy_first = sorted(_LIBS, key=lambda path: "numpy" not in path)
    return [_LIBS[path] for path in numpy_first if _LIBS[path] is not None]


def numpy_openblas_function(names):
    """The first of the functions ``names`` exported by NumPy's own OpenBLAS, as a ctypes
    function, or None where that library cannot be found (another BLAS, not Linux)."""
    _openblases()                                        # looks at every loaded library
    for path in sorted(_LIBS, key=lambda path: "numpy" not in path):
        if "numpy" in path:
            lib = ctypes.CDLL(path)
            return next((getattr(lib, name) for name in names if hasattr(lib, name)), None)
    return None


def get_blas_threads():
    """OpenBLAS's current thread count (NumPy's), or None where it cannot be read."""
    libs = _openblases()
    return int(libs[0][1]()) if libs else None


def set_blas_threads(n):
    """Set the thread count of every loaded OpenBLAS for the whole process; returns False
    where none was found."""
    libs = _openblases()
    for setter, _ in libs:
        setter(int(n))
    return bool(libs)


@contextlib.contextmanager
def blas_threads(n):
    """Run the ``with`` block with ``n`` BLAS threads, then restore the previous counts."""
    libs = _openblases()
    before = [int(getter()) for _, getter in libs]
    for (setter, _), count in zip(libs, before):
        if count != n:
            setter(n)
    try:
        yield
    finally:
        for (setter, _), count in zip(libs, before):
            if count != n:
                setter(count)
