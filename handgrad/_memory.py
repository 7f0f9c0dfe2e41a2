"""Keep freed memory in the process instead of handing it back to the system (glibc).

A training step allocates the same large arrays every time (layer outputs, masks,
gradients: megabytes each). On the main thread glibc's malloc serves such sizes with
fresh pages from the operating system and returns them when they are freed, so every step
pays a page fault per 4 KiB it touches: on a 2-core AMD EPYC a ReLU over a 64x16x28x28
batch took 1.5 ms instead of 0.1 ms, and LeNet-5 trained at 10,300 images/s instead of
14,100. :func:`keep_freed_memory` raises malloc's thresholds (``M_MMAP_THRESHOLD``,
``M_TRIM_THRESHOLD``) so that freed blocks are reused; the process then keeps the memory
of its largest step until it exits (PyTorch's CPU performance guide recommends another
allocator for the same reason). The compiled backend calls it when it loads, unless
``HANDGRAD_KEEP_MEMORY=0``; where malloc is not glibc's it does nothing.
"""

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_state = {"kept": None}


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse (once per process); returns whether it does."""
    if _state["kept"] is None:
        _state["kept"] = False
        if os.environ.get("HANDGRAD_KEEP_MEMORY", "1").strip() == "0":
            return False
        try:
            mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        except (OSError, AttributeError, TypeError):          # not glibc
            return False
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        _state["kept"] = bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30)
                              and mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
    return _state["kept"]
