"""How many threads one array operation may use, and where it must use one.

handgrad's parallelism has two forms: an operation called from the main thread may split
its work over ``threads()`` threads (the compiled backend, handgrad/kernels/numba/_blocks.py),
or data-parallel workers (:class:`handgrad.training.DataParallel`) run whole shards of the
batch side by side. Inside such a worker every operation runs on its own thread, the main
thread's share included; :func:`one_thread_here` marks that.
"""

import contextlib
import os
import threading

import numpy as np

_settings = {"threads": None, "default": None}
_local = threading.local()


def threads():
    """Threads an operation may use: :func:`set_threads`, else the environment variable
    ``HANDGRAD_THREADS``, else the cores this process may run on (the last two read when
    first needed, and again after ``set_threads(None)``: every operation asks)."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    if _settings["default"] is None:
        _settings["default"] = _default_threads()
    return _settings["default"]


def _default_threads():
    requested = os.environ.get("HANDGRAD_THREADS", "").strip()
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise ValueError(f"HANDGRAD_THREADS expected a positive integer, got {requested!r}")
        return int(requested)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_threads(n):
    """Let each operation use ``n`` threads (>= 1) from now on; ``None``: the default again
    (``HANDGRAD_THREADS``, else every core)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_threads expected a positive int or None, got {n!r}")
    _settings["threads"] = None if n is None else int(n)
    _settings["default"] = None


def may_split():
    """Whether an operation called here may split its work over threads: on the main
    thread, outside :func:`one_thread_here`."""
    return threading.current_thread() is threading.main_thread() and not getattr(_local, "one", False)


@contextlib.contextmanager
def one_thread_here():
    """Within the block, operations on this thread run on this thread alone."""
    before = getattr(_local, "one", False)
    _local.one = True
    try:
        yield
    finally:
        _local.one = before
