"""Blocks of samples: the unit of cache reuse and of parallel work for the kernels.

An operation over a batch runs block by block: a block's intermediate arrays (for a
convolution its unfolded windows and its product) stay in the CPU cache between the
passes over them instead of going out to memory and back. The blocks are also what
threads share: on the main thread, when the work is large enough to pay for waking a
thread (about 0.1 ms here), the caller and ``threads - 1`` pool threads take blocks from a
shared counter, so a thread that another process has descheduled delays at most the
block it holds while the others take the rest. Elsewhere (another thread, or a
data-parallel worker of :class:`handgrad.training.DataParallel`, which already keeps every
core busy; see :mod:`handgrad._threads`) the caller runs its blocks itself, in order.

Results do not depend on the number of threads: each block writes its own part of the
output or its own partial sum, and partial sums are added in block order.
"""

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..._threads import may_split, threads

#: elements of one block's largest intermediate array (512 KiB of float32: with the
#: block's other intermediates it stays in a 1 MiB L2 cache)
BLOCK_ELEMENTS = 1 << 17
#: an operation splits over threads only when its serial work is estimated at this many
#: nanoseconds or more (0.15 ms): waking a thread costs about 0.08 ms here
PARALLEL_MIN_WORK = 150_000

_pool = {"executor": None, "size": 0}


def _executor(workers):
    if _pool["size"] != workers:
        if _pool["executor"] is not None:
            _pool["executor"].shutdown(wait=False)
        _pool["executor"] = ThreadPoolExecutor(workers, thread_name_prefix="handgrad-blocks")
        _pool["size"] = workers
    return _pool["executor"]


def block_size(count, per_item):
    """Items per block: as many as keep ``per_item * items`` within ``BLOCK_ELEMENTS``
    (at least one)."""
    return max(1, min(count, BLOCK_ELEMENTS // max(1, per_item)))


def bounds(count, size):
    """``[(lo, hi), ...]`` cutting ``range(count)`` into as few blocks of at most ``size``
    items as will do, of sizes as even as possible: 64 rows in blocks of at most 41 are
    32 + 32, not 41 + 23, which left one of two threads waiting for the other (a dense
    layer 7% faster). The cut depends on ``count`` and ``size`` only, never on the number
    of threads. (Rounding the number of blocks up to an even one was measured too: no
    faster, and LeNet-5's first convolution 14% slower.)"""
    k = -(-count // size) if count else 0
    return [(count * i // k, count * (i + 1) // k) for i in range(k)]


def threads_for(work):
    """The threads an operation with ``work`` (its estimated serial time in nanoseconds, from
    the per-operation rates measured on a 2-core AMD EPYC) may use here: 1 below
    ``PARALLEL_MIN_WORK`` or where operations stay on their thread (:mod:`handgrad._threads`)."""
    return threads() if work >= PARALLEL_MIN_WORK and may_split() else 1


def run_blocks(fn, blocks, work):
    """Call ``fn(i, lo, hi)`` for every block ``i`` of ``blocks``, in :func:`threads_for`
    ``(work)`` threads."""
    n = min(threads_for(work), len(blocks))
    if n <= 1:
        for i, (lo, hi) in enumerate(blocks):
            fn(i, lo, hi)
        return
    counter = itertools.count()
    state = np.geterr()                      # NumPy's error handling is per thread: the caller's

    def drain():
        with np.errstate(**state):
            for i in iter(counter.__next__, None):
                if i >= len(blocks):
                    return
                fn(i, *blocks[i])

    helpers = [_executor(n - 1).submit(drain) for _ in range(n - 1)]
    drain()
    for helper in helpers:
        helper.result()


_local = threading.local()


def scratch(name, shape, dtype):
    """A temporary array for one block, reused by this thread from call to call.

    Fresh arrays of a block's size come from the operating system as untouched pages, and
    touching them costs about as much as the copy that fills them; a block's intermediate
    (unfolded windows, products) lives only while the block runs, so each thread keeps one
    buffer per ``name`` and grows it when a larger block needs it. The contents are
    whatever the last user left there.
    """
    buffers = _local.__dict__.setdefault("buffers", {})
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buf = buffers.get(name)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[name] = np.empty(max(nbytes, 64), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)
