"""Numba's disk cache of the kernels, kept in step with every file of this backend.

Numba stamps a cached function with its own source file only. A kernel holds the
compiled code of every kernel it calls, and those live in other files here (a Winograd
driver calls the tile transforms of ``winograd_tiles.py``, every driver the atomics of
``_spin.py``, the products of ``_gemm.py``); when only a callee's file changes (a
``git pull`` into an editable install), the caller's cached code is still taken, callee
and all: the old code keeps running. (A two-file package shows it: after its callee's
file changed, a cached function still returned the old result.)

:func:`install` makes every function compiled from a file of this directory carry one
stamp for the whole directory, a digest of all its Python files: any change to any of
them recompiles every kernel here on the next run, as a fresh install does. It puts
locators of its own before Numba's (the same places on disk: ``NUMBA_CACHE_DIR``, the
``__pycache__`` beside the file, the user's cache directory), and must run before the
first kernel is defined; functions outside the directory keep Numba's stamps.

A kernel made by a factory (a driver for a given block function, a pooling loop for a
given window) is a closure, and Numba keys its cached code with a pickle of the closure's
values. A compiled function pickles with an id drawn afresh in every process, so such a
kernel was never found again: it compiled on every run (1.4 s of each first step of
``handgrad train``) and left one more file in the cache each time. :func:`by_closure`
gives a kernel a key that names its closure's functions instead (:class:`ClosureCache`).
"""

import hashlib
import os

from numba.core import caching, serialize

HERE = os.path.dirname(os.path.abspath(__file__))
_installed = set()


def stamp(directory):
    """A digest of every Python file in ``directory`` (names and contents)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read() + b"\0")
    return digest.digest()


def _stamped(base, directory, digest):
    """``base`` (a Numba cache locator) for the files of ``directory`` only, with
    ``digest`` as every function's source stamp."""

    class Locator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.dirname(os.path.abspath(py_file)) != directory:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return digest

    Locator.__name__ = Locator.__qualname__ = "Stamped" + base.__name__
    return Locator


def _numba_locator(name):
    """Numba's cache locator class ``name`` (spelled with a leading underscore up to Numba
    0.60), or None."""
    return getattr(caching, name, None) or getattr(caching, "_" + name, None)


def install(directory=HERE):
    """Stamp the cached functions of ``directory`` (default: this backend) with
    :func:`stamp` of the directory. Once per directory and process; a Numba whose cache
    is laid out otherwise keeps its own stamps."""
    directory = os.path.abspath(directory)
    names = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
    bases = [_numba_locator(name) for name in names]
    classes = getattr(getattr(caching, "CacheImpl", None), "_locator_classes", None)
    if directory in _installed or None in bases or not isinstance(classes, list):
        return
    classes[:0] = [_stamped(base, directory, stamp(directory)) for base in bases]
    _installed.add(directory)


def closure_digest(py_func):
    """A digest of the values ``py_func`` closes over, the same in every process: a compiled
    function by its module, name, bytecode and (in turn) the values it closes over; any
    other value (a number, a tuple of them) as Numba pickles it. The rest of the functions'
    source is in the directory's :func:`stamp`."""
    digest = hashlib.sha256()
    for cell in py_func.__closure__ or ():
        value = cell.cell_contents
        inner = getattr(value, "py_func", None)            # a Numba dispatcher
        if inner is not None:
            name = f"{inner.__module__}:{inner.__qualname__}".encode()
            digest.update(b"F" + name + inner.__code__.co_code + closure_digest(inner))
        else:
            digest.update(b"V" + serialize.dumps(value))
    return digest.digest()


class ClosureCache(caching.FunctionCache):
    """Numba's cache of one function, keyed by its bytecode and :func:`closure_digest`
    instead of a pickle of its closure."""

    def _index_key(self, sig, codegen):
        code = hashlib.sha256(self._py_func.__code__.co_code).hexdigest()
        return sig, codegen.magic_tuple(), (code, closure_digest(self._py_func).hex())


def by_closure(dispatcher):
    """``dispatcher`` (cached, made by a factory) with a :class:`ClosureCache`; a function
    that closes over nothing keeps Numba's own."""
    if dispatcher.py_func.__closure__ and isinstance(getattr(dispatcher, "_cache", None), caching.FunctionCache):
        dispatcher._cache = ClosureCache(dispatcher.py_func)
    return dispatcher
