"""Each rank reads only its shard of every batch of a :class:`handgrad.data.DataLoader`.

Every rank holds the same loader (the same arrays and the same shuffling generator, whose
state rank 0 broadcasts at the start). Per epoch every rank draws the same permutation;
per batch of indices it takes its own shard (:func:`handgrad._shards.shard_bounds`, the
split ``DataParallel`` uses) and converts only those rows. So ``W`` ranks together read
each batch once, and the order equals that of the loader in one process.

Augmentation cannot follow one process exactly, since a transform draws its random
numbers for the whole batch at once. Instead every rank augments its shard with its own
generator, seeded per batch from the shared one: each batch, every rank draws ``W`` seeds
from the loader's generator and uses seed number ``rank``. The shared generator therefore
advances identically on every rank, and a checkpoint of it (rank 0's) resumes every rank.
"""

import numpy as np

from .._shards import shard_bounds
from ..data import DataLoader, to_float


class ShardedLoader:
    """Rank ``ddp.rank``'s shards of ``loader``'s batches; ``len`` is the loader's.

    Yields ``(x_shard, y_shard)`` (empty on ranks without a shard of a batch smaller than
    the number of ranks) and tells ``ddp`` the whole batch's size.
    """

    def __init__(self, loader, ddp):
        if not isinstance(loader, DataLoader):
            raise TypeError(f"distributed training reads batches through a handgrad.data.DataLoader "
                            f"(or an (x, y) tuple), got {type(loader).__name__}")
        if loader.batch_size < ddp.size:
            raise ValueError(f"distributed training on {ddp.size} ranks expected batch_size >= "
                             f"{ddp.size} (one sample per rank at least), got {loader.batch_size}")
        last = len(loader.x) % loader.batch_size
        if ddp.requires_full_batches and not loader.drop_last and 0 < last < ddp.size:
            raise ValueError(f"synchronized batch norm needs a sample on every rank in every batch, "
                             f"but the last batch holds {last} samples for {ddp.size} ranks; "
                             f"use drop_last=True or another batch size")
        self.loader, self.ddp = loader, ddp
        state = ddp.world.broadcast_object(loader.rng.bit_generator.state)
        loader.rng.bit_generator.state = state

    @property
    def rng(self):
        return self.loader.rng

    @property
    def batch_size(self):
        return self.loader.batch_size

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        L, W, rank = self.loader, self.ddp.size, self.ddp.rank
        n = len(L.x)
        order = L.rng.permutation(n) if L.shuffle else np.arange(n)
        for i in range(len(L)):
            idx = order[i * L.batch_size:(i + 1) * L.batch_size]
            bounds = shard_bounds(len(idx), W)
            mine = idx[slice(*bounds[rank])] if rank < len(bounds) else idx[:0]
            xb = to_float(L.x[mine], L.dtype)               # only this rank's rows are read
            if L.transform is not None:
                seeds = L.rng.integers(2**63, size=W)       # all ranks draw all: same shared state
                if len(xb):
                    xb = L.transform(xb, np.random.default_rng(int(seeds[rank])))
            self.ddp.next_batch_size = len(idx)
            yield xb, L.y[mine]

    def __repr__(self):
        return f"ShardedLoader(rank={self.ddp.rank}, size={self.ddp.size}, loader={self.loader!r})"
