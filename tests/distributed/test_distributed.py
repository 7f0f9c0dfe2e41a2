"""handgrad.distributed without an MPI job: imports, argument errors, the sharded loader."""

import sys
from types import SimpleNamespace

import numpy as np
import pytest

import handgrad.distributed as dist
import handgrad.layers as L
from handgrad.data import DataLoader
from handgrad.losses import CrossEntropyLoss
from handgrad.optim import SGD
from handgrad.training import fit


class OneRank:
    """A stand-in for World's object exchange in a job of ``size`` ranks, seen from ``rank``."""

    def __init__(self, rank=0, size=2):
        self.rank, self.size = rank, size

    def broadcast_object(self, obj, root=0):
        return obj


def fake_ddp(rank=0, size=2, full=False):
    return SimpleNamespace(rank=rank, size=size, requires_full_batches=full, world=OneRank(rank, size),
                           next_batch_size=None)


def test_init_without_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)              # import mpi4py -> ImportError
    with pytest.raises(dist.MPIUnavailableError, match=r'pip install "handgrad\[mpi\]"'):
        dist.init()


@pytest.mark.parametrize("rank", [0, 1, 2])
def test_each_rank_reads_its_shard_and_together_they_read_the_loader(rank):
    x = np.arange(22, dtype=np.float64).reshape(22, 1)
    y = np.arange(22)
    plain = list(DataLoader(x, y, batch_size=8, shuffle=True, rng=3))
    ddp = fake_ddp(rank, 3)
    sharded = dist.ShardedLoader(DataLoader(x, y, batch_size=8, shuffle=True, rng=3), ddp)
    assert len(sharded) == len(plain) == 3
    for (xb, yb), (xs, ys) in zip(plain, sharded):
        part = np.array_split(yb, 3)[rank]                        # DataParallel's split
        np.testing.assert_array_equal(ys, part)
        np.testing.assert_array_equal(xs[:, 0], part.astype(np.float64))
        assert ddp.next_batch_size == len(yb)


def test_sharded_loader_errors():
    x, y = np.zeros((10, 1)), np.zeros(10, np.int64)
    with pytest.raises(ValueError, match=r"on 4 ranks expected batch_size >= 4 .*got 2"):
        dist.ShardedLoader(DataLoader(x, y, batch_size=2), fake_ddp(size=4))
    with pytest.raises(ValueError, match=r"last batch holds 1 samples for 2 ranks; use drop_last=True"):
        dist.ShardedLoader(DataLoader(x, y, batch_size=3), fake_ddp(size=2, full=True))
    with pytest.raises(TypeError, match=r"through a handgrad.data.DataLoader .*got list"):
        dist.ShardedLoader([(x, y)], fake_ddp())


def test_wrapper_and_fit_argument_errors():
    model = L.Sequential(L.Linear(3, 2, rng=0))
    with pytest.raises(TypeError, match="expected a Layer to wrap, got list"):
        dist.DistributedDataParallel([model], None)
    with pytest.raises(TypeError, match=r"expected a handgrad.distributed.World .*got NoneType"):
        dist.DistributedDataParallel(model, None)
    with pytest.raises(ValueError, match="expected workers=1 with distributed=.*got workers=2"):
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (np.zeros((4, 3), np.float32),
            np.zeros(4, np.int64)), epochs=1, batch_size=2, workers=2, distributed=object())


def test_sync_batchnorm_without_a_world_is_batchnorm_and_reverts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4, 4))
    plain, synced = L.BatchNorm2d(3, dtype=np.float64), L.BatchNorm2d(3, dtype=np.float64)
    net = L.Sequential(synced, L.ReLU())
    assert dist.convert_sync_batchnorm(net, None) == 1
    assert isinstance(synced, dist.SyncBatchNorm2d)
    np.testing.assert_array_equal(synced.forward(x), plain.forward(x))
    dist.revert_sync_batchnorm(net)
    assert type(synced) is L.BatchNorm2d and "world" not in vars(synced)
