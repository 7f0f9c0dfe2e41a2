"""Remembering what a function derives from shapes and hyperparameters alone.

A layer computes the same sizes, geometries and block lists for every batch of one shape;
at batch 1 that bookkeeping had cost as much as the arithmetic (the 3-conv net's max pool
on one image: 26 us, of which the kernel took 11). :func:`remembered` keeps the answers of
such a pure function for the arguments it has seen.
"""

import functools


def remembered(fn):
    """``fn`` with its results kept for up to 256 argument tuples (least recently used
    first out); arguments that cannot be hashed (lists) are computed afresh. ``fn`` must be
    a pure function of its arguments, and callers must not modify what it returns."""
    cached = functools.lru_cache(maxsize=256)(fn)

    @functools.wraps(fn)
    def lookup(*args):
        try:
            return cached(*args)
        except TypeError:                       # an unhashable argument: no memory of it
            return fn(*args)
    lookup.cache_clear = cached.cache_clear
    return lookup
