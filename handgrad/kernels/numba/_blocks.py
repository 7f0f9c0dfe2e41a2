"""Blocks of samples: the unit of cache reuse and of parallel work for the kernels.

An operation over a batch runs block by block: a block's intermediate arrays (for a
convolution its unfolded windows and its product) stay in the CPU cache between the
passes over them instead of going out to memory and back. The blocks are also what
threads share: on the main thread, when the work is large enough to pay for a second
thread, the caller and ``threads - 1`` helper threads (:mod:`._team`) take blocks from a
shared counter, so a thread that another process has descheduled delays at most the
block it holds while the others take the rest. An operation's blocks are either one
compiled *driver* (:func:`run_driver`, :func:`run_rows`: no Python between blocks) or
Python calls (:func:`run_blocks`). Elsewhere (another thread, or a
data-parallel worker of :class:`handgrad.training.DataParallel`, which already keeps every
core busy; see :mod:`handgrad._threads`) the caller runs its blocks itself, in order.

Results do not depend on the number of threads: each block writes its own part of the
output or its own partial sum, and partial sums are added in block order.
"""

import functools
import math
import threading
import time

import numpy as np
from numba import njit

from ..._threads import may_split, threads
from ._jit import kernel
from ._spin import block_done, claim, finish, publish
from ._team import crowded, note, run_alone, run_python, team, watching

#: elements of one block's largest intermediate array (512 KiB of float32: with the
#: block's other intermediates it stays in a 1 MiB L2 cache)
BLOCK_ELEMENTS = 1 << 17
#: an operation splits over threads only when its serial work is estimated at this many
#: nanoseconds or more (0.15 ms)
PARALLEL_MIN_WORK = 150_000
#: ... or at a third of that while the team's helpers are watching for the next operation
#: (:mod:`._team`): they start it within a microsecond, where one asleep takes 25 us or more
WATCHED_DIVISOR = 3

def block_size(count, per_item, elements=None):
    """Items per block: as many as keep ``per_item * items`` within ``elements`` (default
    ``BLOCK_ELEMENTS``; at least one)."""
    return max(1, min(count, (elements or BLOCK_ELEMENTS) // max(1, per_item)))


@njit(cache=True, nogil=True)
def largest(blocks):
    """The size of the largest block of ``blocks`` (int64, ``(count, 2)``), at least 1."""
    most = 1
    for i in range(blocks.shape[0]):
        most = max(most, blocks[i, 1] - blocks[i, 0])
    return most


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
    ``PARALLEL_MIN_WORK`` (a third of it while the helpers are awake: :func:`._team.watching`),
    where operations stay on their thread (:mod:`handgrad._threads`), or while other
    processes keep the team's cores busy (:func:`._team.crowded`)."""
    if work < PARALLEL_MIN_WORK // WATCHED_DIVISOR or not may_split():
        return 1
    n = threads()
    if n == 1 or (work < PARALLEL_MIN_WORK and not watching(n)):
        return 1
    return 1 if crowded(n) else n


def run_blocks(fn, blocks, work):
    """Call ``fn(i, lo, hi)`` (Python) for every block ``i`` of ``blocks``, in
    :func:`threads_for` ``(work)`` threads."""
    n = min(threads_for(work) if work >= PARALLEL_MIN_WORK else 1, len(blocks))   # Python: the lock
    start = time.perf_counter()
    if n <= 1:
        for i, (lo, hi) in enumerate(blocks):
            fn(i, lo, hi)
    else:
        run_python(n, fn, blocks)
    _timed(work, start)


def run_driver(driver, args, count, work):
    """Run the compiled ``driver(ctl, epoch, main, tries, *args)`` over its ``count``
    blocks (:mod:`._team`), in :func:`threads_for` ``(work)`` threads."""
    n = min(threads_for(work), count)
    start = time.perf_counter()
    if n <= 1:
        run_alone(driver, args)
    else:
        team(n).run(driver, args, count)
    _timed(work, start)


def _timed(work, start):
    """Report an operation that could have split on some side of the pace (:func:`._team.note`;
    down to the threshold while the helpers watch), begun at ``start``. It counts for the
    side the pace is on whether it split or not (one image's operations are cut into as
    many blocks as threads run them): an operation that stays on one thread because the
    helpers sleep is that side's cost, and a hold on that side must see operations to end."""
    if work >= PARALLEL_MIN_WORK // WATCHED_DIVISOR and may_split():
        size = threads()
        if size > 1:
            note(size, work, time.perf_counter() - start)


@functools.lru_cache(maxsize=None)
def row_driver(fn, reports=False):
    """A driver (:mod:`._team`) ``driver(ctl, epoch, main, tries, blocks, flags, a, b, c)``
    running the compiled ``fn(a[lo:hi], b[lo:hi], c[lo:hi])`` for every block ``[lo, hi)``
    of ``blocks`` (int64, ``(count, 2)``); with ``reports``, ``fn`` returns a bool, kept in
    ``flags[i]``."""
    if reports:
        @njit(cache=True, inline="always")
        def step(a, b, c):
            return fn(a, b, c)
    else:
        @njit(cache=True, inline="always")
        def step(a, b, c):
            fn(a, b, c)
            return False

    @kernel
    def driver(ctl, epoch, main, tries, blocks, flags, a, b, c):
        if main:
            publish(ctl, epoch)
        count = blocks.shape[0]
        i = claim(ctl, epoch, count)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            flags[i] = step(a[lo:hi], b[lo:hi], c[lo:hi])
            block_done(ctl)
            i = claim(ctl, epoch, count)
        return finish(ctl, epoch, main, count, tries)
    return driver


def as_rows(blocks):
    """``blocks`` (``[(lo, hi), ...]``) as an int64 array ``(count, 2)``, a driver's argument."""
    return np.array(blocks, np.int64).reshape(-1, 2)


def run_rows(fn, a, b, c, blocks, work, reports=False, rows=None):
    """Run the compiled ``fn(a[lo:hi], b[lo:hi], c[lo:hi])`` for every block of ``blocks``
    (:func:`row_driver`, in :func:`threads_for` ``(work)`` threads; ``rows``: the blocks
    as :func:`as_rows` gives them, if already made); with ``reports``, the indices of the
    blocks whose ``fn`` returned True."""
    if len(blocks) == 1:                          # one block: no driver (at batch 1, most)
        lo, hi = blocks[0]
        flag = fn(a[lo:hi], b[lo:hi], c[lo:hi])
        return [0] if reports and flag else []
    rows = as_rows(blocks) if rows is None else rows
    flags = np.zeros(len(rows), np.bool_)
    run_driver(row_driver(fn, reports), (rows, flags, a, b, c), len(rows), work)
    return np.flatnonzero(flags).tolist() if reports else []


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
