"""How a batch is split into shards, and how each shard's random layers are seeded.

One definition, used by both kinds of data parallelism, so that they train the same model:
:class:`handgrad.layers.DataParallel` (shards in threads of one process) and
:mod:`handgrad.distributed` (shards in MPI processes, one per rank). A run with
``workers=W`` and a run on ``W`` ranks see the same shards and the same dropout masks.

Shards
    A batch of ``N`` samples is split along axis 0 into ``count = max(1, min(W, N))``
    consecutive shards whose sizes differ by at most one, the larger first (exactly
    ``np.array_split``). Workers (ranks) ``count .. W-1`` get nothing for this batch.

Generators
    A layer with its own ``rng`` (``Dropout``) would make every shard draw the same
    stream. With ``count > 1`` shards, each such layer's generator (the "master") draws one
    seed per shard and layer, shard by shard, and shard ``i`` runs with
    ``default_rng(seed[i][j])`` for layer ``j``. Every worker draws all the seeds, so the
    masters advance the same way everywhere and a checkpoint of them (rank 0's) resumes
    every worker. With one shard the masters are used as they are (no draw): the run
    equals one without data parallelism.
"""

from contextlib import contextmanager

import numpy as np


def shard_bounds(n, workers):
    """``[(start, stop), ...]``: the ``count = max(1, min(workers, n))`` shards of ``n`` samples.

    Examples
    --------
    >>> shard_bounds(7, 2), shard_bounds(2, 4), shard_bounds(0, 3)
    ([(0, 4), (4, 7)], [(0, 1), (1, 2)], [(0, 0)])
    """
    count = max(1, min(int(workers), int(n)))
    size, extra = divmod(int(n), count)
    stops = np.cumsum([size + 1] * extra + [size] * (count - extra))
    starts = np.concatenate([[0], stops[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def random_layers(layer):
    """The layers in ``layer``'s tree (depth first) that draw from their own ``rng`` Generator."""
    found = [layer] if isinstance(getattr(layer, "rng", None), np.random.Generator) else []
    for _, child in layer.named_children():
        found += random_layers(child)
    return found


def shard_generators(masters, count):
    """Per shard ``i < count``, the generators its copies of the ``masters`` layers use.

    ``masters`` are the model's random layers (:func:`random_layers`). With ``count == 1``
    the layers' own generators are returned (nothing is drawn); otherwise every master
    draws ``count`` seeds, in the order shard 0 (all layers), shard 1 (all layers), ...
    which is the same on every worker even when layers share one generator.
    """
    if count == 1:
        return [[layer.rng for layer in masters]]
    seeds = [[int(layer.rng.integers(2**63)) for layer in masters] for _ in range(count)]
    return [[np.random.default_rng(s) for s in row] for row in seeds]


@contextmanager
def using_generators(layers, generators):
    """Run the ``with`` block with ``layers[j].rng = generators[j]``; the old ones are put back."""
    saved = [layer.rng for layer in layers]
    for layer, g in zip(layers, generators):
        layer.rng = g
    try:
        yield
    finally:
        for layer, g in zip(layers, saved):
            layer.rng = g
