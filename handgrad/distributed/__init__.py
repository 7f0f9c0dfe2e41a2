"""Distributed data-parallel training on MPI (``pip install "handgrad[mpi]"``).

``mpirun -n W python script.py`` starts ``W`` processes ("ranks"); each holds the model,
reads its shard of every batch, and the gradients are summed with one ``Allreduce`` per
step, so the ranks train one model as if a single process ran the whole batch (the same
shards and dropout masks as ``DataParallel(workers=W)``). Math, costs and a how-to for
several machines: docs/distributed.md.

>>> import handgrad.distributed as dist              # doctest: +SKIP
>>> world = dist.init()                               # doctest: +SKIP
>>> ddp = dist.DistributedDataParallel(model, world)  # doctest: +SKIP
>>> fit(model, loss, optimizer, (x, y), batch_size=64, epochs=3, rng=0,
...     distributed=ddp, callbacks=[...] if world.rank == 0 else [])  # doctest: +SKIP

mpi4py is imported by :func:`init` only; importing this package does not need it.
"""

from .data_parallel import DistributedDataParallel
from .loader import ShardedLoader
from .sync_batchnorm import SyncBatchNorm1d, SyncBatchNorm2d, convert_sync_batchnorm, revert_sync_batchnorm
from .world import MPIUnavailableError, World, fail, init

__all__ = [
    "init", "World", "fail", "MPIUnavailableError", "DistributedDataParallel", "ShardedLoader",
    "SyncBatchNorm1d", "SyncBatchNorm2d", "convert_sync_batchnorm", "revert_sync_batchnorm",
]
