"""Helpers off the main thread's core: where the team's threads run.

A helper that slept (:mod:`._team`: after ``WATCH_S`` without an operation) is woken by
the main thread, and Linux tends to wake a thread on the core of the thread that woke it.
After a pause of the program both of them then ran on one core, each watching for the
other, until the scheduler moved one away: on the 2-core AMD EPYC, LeNet-5's first five
training steps (batch 64) after a pause of 0.2-1 s took 8-10 ms instead of 3.3, the
main thread and the helper found on the same core in five or six of nine samples. So
whenever the main thread wakes sleeping helpers, it first allows each of them every core
of its own except the one it runs on (:meth:`Placement.away_from`). The main thread stays
free to move: beside a busy process it must be able to take the idle core.

Only where the operating system lets a thread read its core and set another thread's
cores (Linux: ``sched_getcpu``, ``sched_setaffinity``); elsewhere the helpers stay where
the system puts them.
"""

import ctypes
import os


def _sched_getcpu():
    """The C library's ``sched_getcpu`` (the core the calling thread runs on), or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        fn = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctypes.c_int, []
    return fn


_getcpu = _sched_getcpu()


class Placement:
    """The cores each helper of a team may run on, kept off the main thread's."""

    def __init__(self):
        self.masks = {}                                 # helper's native id -> its cores
        self.cpu = None                                 # the main thread's core at the last wake

    def away_from(self, helpers):
        """Let the threads ``helpers`` (native ids) run on every core this thread may run
        on except the one it runs on now."""
        if _getcpu is None:
            return
        cpu = _getcpu()
        mask = os.sched_getaffinity(0) - {cpu}
        if cpu < 0 or not mask:
            return
        self.cpu = cpu
        for tid in helpers:
            if tid is not None and self.masks.get(tid) != mask:
                try:
                    os.sched_setaffinity(tid, mask)
                except OSError:                          # the thread ended, or not allowed
                    continue
                self.masks[tid] = mask
