"""Checks that run inside an MPI job: ``mpirun -n 2 python tests/distributed/mpi_cases.py CASE [DIR]``.

tests/distributed/test_mpi.py launches them. Each case compares, on every rank, what the
ranks computed together with what one process computes alone (every rank can compute the
single-process reference itself). A failed check raises; handgrad.distributed.init's hook
then aborts the job, so mpirun exits non-zero. The last line each rank prints is
``rank R ok CASE``.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import handgrad.distributed as dist  # noqa: E402
import handgrad.layers as L  # noqa: E402
from handgrad.data import DataLoader, RandomShift  # noqa: E402
from handgrad.io import load_checkpoint  # noqa: E402
from handgrad.losses import CrossEntropyLoss  # noqa: E402
from handgrad.optim import SGD  # noqa: E402
from handgrad.training import DataParallel, ModelCheckpoint, fit  # noqa: E402

F64 = dict(dtype=np.float64)
TIGHT = dict(rtol=1e-12, atol=1e-14)


def cnn(seed, *, bn=False, dropout=0.0):
    """A small float64 CNN on (N, 2, 8, 8) inputs with 5 classes."""
    rng = np.random.default_rng(seed)
    layers = [L.Conv2d(2, 4, 3, padding=1, rng=rng, **F64)]
    layers += [L.BatchNorm2d(4, **F64)] if bn else []
    layers += [L.ReLU(), L.MaxPool2d(2), L.Conv2d(4, 6, 3, rng=rng, **F64), L.Tanh(), L.Flatten()]
    layers += [L.Dropout(dropout, rng=rng)] if dropout else []
    layers += [L.Linear(6 * 2 * 2, 5, rng=rng, **F64)]
    return L.Sequential(*layers)


def grads(model):
    return {k: p.grad.copy() for k, p in model.parameters().items()}


def assert_same(got, want, what, **tol):
    for k in want:
        np.testing.assert_allclose(got[k], want[k], **(tol or TIGHT), err_msg=f"{what}: {k}")


def data(seed, n):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2, 8, 8)), rng.integers(0, 5, n)


def my_part(world, n):
    from handgrad._shards import shard_bounds
    bounds = shard_bounds(n, world.size)
    return slice(*bounds[world.rank]) if world.rank < len(bounds) else slice(0, 0)


# -- gradients ---------------------------------------------------------------------
def case_gradients(world):
    loss = CrossEntropyLoss()
    for n in (7, 16, 1):                     # uneven shards; a batch smaller than the ranks
        x, t = data(n, n)
        ref = cnn(1)
        value = loss.forward(ref.forward(x), t)
        ref.backward(loss.backward())
        model = cnn(1)
        ddp = dist.DistributedDataParallel(model, world)
        model.zero_grad()
        s = my_part(world, n)
        _, got = ddp.forward_backward(x[s], t[s], loss, batch_size=n)
        np.testing.assert_allclose(got, value, rtol=1e-12)
        assert ddp.gradient_bytes == sum(p.size for p in model.parameters().values()) * 8
        assert_same(grads(model), grads(ref), f"full-batch gradient, N={n}")

    # dropout and per-rank batch norm: the same step as DataParallel(workers=W)
    x, t = data(3, 9)
    dp_model, model = cnn(2, bn=True, dropout=0.5), cnn(2, bn=True, dropout=0.5)
    _, dp_value = DataParallel(dp_model, world.size).forward_backward(x, t, CrossEntropyLoss())
    ddp = dist.DistributedDataParallel(model, world)
    s = my_part(world, 9)
    _, value = ddp.forward_backward(x[s], t[s], CrossEntropyLoss(), batch_size=9)
    np.testing.assert_allclose(value, dp_value, rtol=1e-12)
    assert_same(grads(model), grads(dp_model), "DataParallel step")
    assert_same(model.buffers(), dp_model.buffers(), "running statistics")
    assert dp_model.layers[7].rng.bit_generator.state == model.layers[7].rng.bit_generator.state


def case_sync_batchnorm(world):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 3, 4, 4)) * 2 + 1
    g = rng.standard_normal(x.shape)                        # random upstream gradient
    s = my_part(world, 10)
    ref = L.BatchNorm2d(3, **F64)
    ref.weight.data[:] = [0.5, 1.5, -1.0]
    y_ref = ref.forward(x)
    dx_ref = ref.backward(g)
    bn = L.BatchNorm2d(3, **F64)
    bn.weight.data[:] = ref.weight.data
    assert dist.convert_sync_batchnorm(L.Sequential(bn), world) == 1
    y = bn.forward(x[s])
    dx = bn.backward(g[s])
    np.testing.assert_allclose(y, y_ref[s], **TIGHT)
    np.testing.assert_allclose(dx, dx_ref[s], **TIGHT)
    for p, q in ((bn.weight, ref.weight), (bn.bias, ref.bias)):
        np.testing.assert_allclose(world.allreduce(p.grad.copy()), q.grad, **TIGHT)
    np.testing.assert_allclose(bn.running_mean, ref.running_mean, **TIGHT)
    np.testing.assert_allclose(bn.running_var, ref.running_var, **TIGHT)

    # central differences of L = sum over ranks of sum(g * y), for entries on every rank
    bn.zero_grad()
    eps = 1e-6
    for rank in range(world.size):
        for index in [(0, 0, 1, 2), (1, 2, 3, 0)]:
            values = []
            for sign in (1, -1):
                xp = x[s].copy()
                if world.rank == rank:
                    xp[index] += sign * eps
                local = np.array([np.sum(g[s] * bn.forward(xp))])
                values.append(world.allreduce(local)[0])
            numeric = (values[0] - values[1]) / (2 * eps)
            bn.forward(x[s])
            dx = bn.backward(g[s])                          # a collective: every rank calls it
            analytic = world.allreduce(np.array([dx[index] if world.rank == rank else 0.0]))[0]
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8,
                                       err_msg=f"d/dx{index} on rank {rank}")

    # a model with synchronized batch norm in DDP: the single-process full-batch gradient
    x, t = data(6, 12)
    ref, model = cnn(7, bn=True), cnn(7, bn=True)
    loss = CrossEntropyLoss()
    loss.forward(ref.forward(x), t)
    ref.backward(loss.backward())
    dist.convert_sync_batchnorm(model, world)
    ddp = dist.DistributedDataParallel(model, world)
    assert ddp.requires_full_batches
    s = my_part(world, 12)
    ddp.forward_backward(x[s], t[s], loss, batch_size=12)
    assert_same(grads(model), grads(ref), "sync batch norm model")
    assert_same(model.buffers(), ref.buffers(), "sync batch norm running statistics")
    dist.revert_sync_batchnorm(model)
    assert type(model.layers[1]) is L.BatchNorm2d


# -- fit: the same run as workers=W; an exact resume ---------------------------------------
def train(world, epochs, *, distributed, start=0, checkpoint=None, resume=None, augment=False):
    x, y = data(11, 50)
    xv, yv = data(12, 21)
    model = cnn(13, bn=True, dropout=0.3)
    rng = np.random.default_rng(14)
    loader = DataLoader(x, y, batch_size=8, shuffle=True, rng=rng, dtype=np.float64,
                        transform=RandomShift(1) if augment else None)
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = None
    if resume is not None:
        ckpt = load_checkpoint(resume, model, optimizer, rngs={"data": rng})
        start, history = ckpt.epoch, ckpt.history
    ddp = dist.DistributedDataParallel(model, world) if distributed else None
    callbacks = [ModelCheckpoint(checkpoint)] if checkpoint and world.rank == 0 else []
    history = fit(model, CrossEntropyLoss(), optimizer, loader, epochs=epochs, val_data=(xv, yv),
                  verbose=False, workers=1 if distributed else world.size, distributed=ddp,
                  callbacks=callbacks, start_epoch=start, history=history)
    return model, history


def case_fit(world, folder):
    single, h1 = train(world, 3, distributed=False)           # DataParallel(workers=W), alone
    model, h2 = train(world, 3, distributed=True)
    assert_same(model.state_dict(), single.state_dict(), "fit: distributed vs workers", rtol=1e-10, atol=1e-12)
    for a, b in zip(h2.epochs, h1.epochs):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-10, err_msg=f"history {key}")

    # interrupted after epoch 1 and resumed: bit for bit the uninterrupted run (with augmentation)
    path = os.path.join(folder, "ckpt.npz")
    whole, _ = train(world, 3, distributed=True, augment=True)
    train(world, 1, distributed=True, augment=True, checkpoint=path)
    world.comm.Barrier()                                      # rank 0 has written the checkpoint
    resumed, history = train(world, 3, distributed=True, augment=True, resume=path)
    assert len(history.epochs) == 3
    for k, v in whole.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v, err_msg=f"resume: {k}")


def case_mismatched_models(world):
    model = cnn(0) if world.rank == 0 else L.Sequential(L.Flatten(), L.Linear(128, 5, rng=0, **F64))
    try:
        dist.DistributedDataParallel(model, world)
    except ValueError as e:                                   # every rank sees every rank's shapes
        assert "expected the same model on every rank, but rank 1's parameters" in str(e), e
    else:
        raise AssertionError("different models on the ranks were accepted")


CASES = {"gradients": case_gradients, "sync_batchnorm": case_sync_batchnorm, "fit": case_fit,
         "mismatched_models": case_mismatched_models}


if __name__ == "__main__":
    world = dist.init()
    name = sys.argv[1]
    CASES[name](world, *sys.argv[2:])
    print(f"rank {world.rank} ok {name}", flush=True)
