"""The convolution's matrix products, split over threads by handgrad instead of by BLAS.

A multi-threaded OpenBLAS splits each product evenly over its threads, which then spin
while they wait: when another process competes for the cores, every product waits for a
descheduled thread (measured on the 2-core machine under load: a 32x144 by 144x12544
product and its transpose took 96 ms with 2 BLAS threads, 11-15 ms with 1). Here BLAS
runs on one thread and the columns of the product are cut into a few chunks that
``threads`` Python threads (the caller included) take from a shared counter: a thread
that is descheduled delays at most the chunk it holds, the others take the rest.
``np.matmul`` releases the GIL, so the chunks run in parallel.

Worker threads of :class:`handgrad.layers.DataParallel` (any thread but the main one)
multiply in one call: they already keep every core busy.
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from ..._blas import blas_threads

_MIN_FLOPS = 4e6                     # smallest chunk worth a thread hand-off (about 0.1 ms)
_pool = {"executor": None, "size": 0}


def _executor(workers):
    if _pool["size"] != workers:
        if _pool["executor"] is not None:
            _pool["executor"].shutdown(wait=False)
        _pool["executor"] = ThreadPoolExecutor(workers, thread_name_prefix="handgrad-gemm")
        _pool["size"] = workers
    return _pool["executor"]


def _run(tasks):
    """Run the callables ``tasks`` on the caller and the pool's threads; one BLAS thread each."""
    threads = min(numba.get_num_threads(), len(tasks))
    if threads <= 1 or threading.current_thread() is not threading.main_thread():
        for task in tasks:
            task()
        return
    counter = itertools.count()
    state = np.geterr()                      # NumPy's error handling is per thread: the caller's

    def drain():
        with np.errstate(**state):
            for i in iter(counter.__next__, None):
                if i >= len(tasks):
                    return
                tasks[i]()

    with blas_threads(1):
        helpers = [_executor(threads - 1).submit(drain) for _ in range(threads - 1)]
        drain()
        for helper in helpers:
            helper.result()


def _chunks(columns, flops):
    """Column slices: up to four per thread, each worth at least ``_MIN_FLOPS``."""
    count = int(max(1, min(4 * numba.get_num_threads(), columns, flops // _MIN_FLOPS)))
    edges = np.linspace(0, columns, count + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def matmul(a, b, out):
    """``out[g] = a[g] @ b[g]`` for each group ``g`` (3-D arrays), split over the columns."""
    tasks = [lambda g=g, cols=cols: np.matmul(a[g], b[g][:, cols], out=out[g][:, cols])
             for g in range(a.shape[0]) for cols in _chunks(b.shape[2], 2 * a[0].size * b.shape[2])]
    _run(tasks)
    return out


def matmul_nt(a, b, out):
    """``out[g] = a[g] @ b[g].T`` for each group: the sum over the (long) shared axis is
    split into chunks whose partial products are then added."""
    G, M, L = a.shape
    parts = _chunks(L, 2 * a[0].size * b.shape[1])
    partial = np.empty((len(parts),) + out.shape, out.dtype)      # (chunks, G, M, P)
    tasks = [lambda g=g, i=i, cols=cols: np.matmul(a[g][:, cols], b[g][:, cols].T, out=partial[i, g])
             for g in range(G) for i, cols in enumerate(parts)]
    _run(tasks)
    np.sum(partial, axis=0, out=out)
    return out
