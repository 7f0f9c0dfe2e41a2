"""Reusable work buffers, keyed by name, shape and dtype.

Writing into memory that was already touched is many times faster than touching freshly
allocated pages, so layers keep their large temporaries (padded inputs, unfolded windows,
GEMM outputs) in a :class:`Workspace` and refill them on every step instead of allocating
new arrays. A buffer handed out by ``get`` stays valid until the next ``get`` with the same
name. Arrays handed to the caller (a layer's output or input gradient) come from
:meth:`Workspace.output`, which reuses a buffer only when nothing outside the workspace
refers to it any more (no array, view or cache holds it), and allocates otherwise.
"""

import sys

import numpy as np


class Workspace:
    """A small dict of named arrays, reallocated only when the shape or dtype changes.

    Examples
    --------
    >>> ws = Workspace()
    >>> a = ws.get("cols", (2, 3), np.float32)
    >>> a is ws.get("cols", (2, 3), np.float32)
    True
    >>> ws.get("cols", (4, 3), np.float32).shape
    (4, 3)
    """

    def __init__(self):
        self._buffers = {}
        self._fills = {}
        self._computed = {}
        self._outputs = {}

    def get(self, name, shape, dtype):
        """An uninitialized buffer of this shape and dtype (reused when it already exists)."""
        shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype)
            self._buffers[name] = buf
        return buf

    def zeros(self, name, shape, dtype):
        """Like :meth:`get` but filled with zeros."""
        buf = self.get(name, shape, dtype)
        buf.fill(0)
        return buf

    def zeroed_once(self, name, shape, dtype):
        """Like :meth:`get`, zero-filled only when (re)allocated: for padded buffers whose
        border is never written and therefore stays zero across calls."""
        return self.filled_once(name, shape, dtype, 0)

    def filled_once(self, name, shape, dtype, fill):
        """Like :meth:`get`, filled with ``fill`` only when (re)allocated (or when ``fill``
        changes): the parts a caller never writes keep ``fill`` across calls."""
        shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
        buf = self._buffers.get(name)
        if (buf is None or buf.shape != shape or buf.dtype != dtype
                or self._fills.get(name, fill) != fill):
            buf = self._buffers[name] = np.full(shape, fill, dtype)
        self._fills[name] = fill
        return buf

    def computed(self, name, key, make):
        """``make()``, computed once and kept while ``key`` is unchanged (for read-only use)."""
        entry = self._computed.get(name)
        if entry is None or entry[0] != key:
            entry = self._computed[name] = (key, make())
        return entry[1]

    def output(self, name, shape, dtype, keep=2):
        """A buffer safe to return to a caller: an earlier one of this shape whose only
        reference is the workspace's own (so no caller, view or cache still holds it), or a
        new one. At most ``keep`` buffers per name are remembered."""
        shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
        pool = self._outputs.setdefault(name, [])
        for i in range(len(pool)):
            # references: the pool list and getrefcount's argument
            if pool[i].shape == shape and pool[i].dtype == dtype and sys.getrefcount(pool[i]) == 2:
                return pool[i]
        buf = np.empty(shape, dtype)
        pool.append(buf)
        if len(pool) > keep:
            pool.pop(0)
        return buf

    def clear(self):
        """Drop every buffer (frees the memory)."""
        for store in (self._buffers, self._fills, self._computed, self._outputs):
            store.clear()

    def nbytes(self):
        return sum(b.nbytes for b in self._buffers.values())
