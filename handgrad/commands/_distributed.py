"""``handgrad train --distributed``: one rank of an MPI job (``mpirun -n W handgrad train ...``).

Every rank runs the same command. Ranks other than 0 print nothing on stdout (rank 0 shows
progress and writes the run folder). Any error on any rank, whether the rank's own or one
every rank meets, is printed on one line naming the rank, and the whole job is aborted
(``MPI_Abort``), so that no rank is left waiting in a collective for one that is gone.
"""

import os
import sys

from ._common import report


def run_rank(args, body):
    """Join the MPI job, run ``body(world)``; on an error, report it with the rank and abort."""
    from .. import distributed

    try:
        world = distributed.init()
    except distributed.MPIUnavailableError as e:
        return report("train", e)
    if world.rank != 0:
        sys.stdout = open(os.devnull, "w")                       # one voice: rank 0's
    try:
        body(world)
    except KeyboardInterrupt:
        return distributed.fail(world, f"handgrad train: interrupted on rank {world.rank} of {world.size}", 130)
    except Exception as e:                                      # noqa: BLE001 - every rank must stop
        return distributed.fail(world, f"handgrad train: error: rank {world.rank} of {world.size}: {e}")
    return 0


def launched_ranks():
    """How many ranks the MPI launcher started this process among (1 when not under mpirun)."""
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def wrap(model, world):
    """The model as one rank of ``world`` (:class:`handgrad.distributed.DistributedDataParallel`)."""
    from ..distributed import DistributedDataParallel
    return DistributedDataParallel(model, world)
