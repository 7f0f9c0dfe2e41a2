"""Training throughput of handgrad vs PyTorch (CPU, float32) on three small MNIST CNNs.

One training step = forward, softmax cross-entropy, backward, SGD-with-momentum update.
Both frameworks train the same architecture on the same random 1x28x28 batches; rounds
alternate between them (the machine is shared, so medians over interleaved rounds are
quoted). Both use ``--threads`` threads (default 2): ``torch.set_num_threads`` and OPENBLAS_NUM_THREADS.
With more than one thread, a third column trains handgrad through ``DataParallel`` with one
worker thread per core (each worker's BLAS on one thread), the way handgrad uses a second core
for its element-wise work.

    python benchmarks/train_throughput.py [--models lenet5 keras classic] [--batch 64 128]

Models
------
lenet5   conv5x5(6, pad 2) relu maxpool2 conv5x5(16) relu maxpool2 flatten 400-120-84-10
keras    conv3x3(32) relu conv3x3(64) relu maxpool2 dropout(.25) flatten 9216-128 relu
         dropout(.5) 10
classic  conv3x3(16, pad 1) relu maxpool3/2(pad 1) [28->14] conv3x3(32, pad 1) relu
         maxpool3/2(pad 1) [14->7] conv3x3(64, pad 1) relu [7x7] flatten 3136-100 relu 10
         (two stride-2 pools give 64*7*7 = 3136; the ReLU after the 100-unit layer is ours)
"""

from _threads import THREADS  # noqa: I001  (must precede numpy)

import argparse
import statistics
import time

import numpy as np

import handgrad.layers as L
from handgrad import backend
from handgrad.layers import Dropout, Flatten, MaxPool2d
from handgrad.losses import CrossEntropyLoss
from handgrad.optim import SGD



def handgrad_model(name, rng):
    f32 = dict(rng=rng, dtype=np.float32)
    if name == "lenet5":
        return L.Sequential(L.Conv2d(1, 6, 5, padding=2, **f32), L.ReLU(), MaxPool2d(2),
                            L.Conv2d(6, 16, 5, **f32), L.ReLU(), MaxPool2d(2), Flatten(),
                            L.Linear(400, 120, **f32), L.ReLU(), L.Linear(120, 84, **f32), L.ReLU(),
                            L.Linear(84, 10, **f32))
    if name == "keras":
        return L.Sequential(L.Conv2d(1, 32, 3, **f32), L.ReLU(), L.Conv2d(32, 64, 3, **f32), L.ReLU(),
                            MaxPool2d(2), Dropout(0.25, rng=rng), Flatten(),
                            L.Linear(9216, 128, **f32), L.ReLU(), Dropout(0.5, rng=rng),
                            L.Linear(128, 10, **f32))
    if name == "classic":
        return L.Sequential(L.Conv2d(1, 16, 3, padding=1, **f32), L.ReLU(), MaxPool2d(3, 2, 1),
                            L.Conv2d(16, 32, 3, padding=1, **f32), L.ReLU(), MaxPool2d(3, 2, 1),
                            L.Conv2d(32, 64, 3, padding=1, **f32), L.ReLU(), Flatten(),
                            L.Linear(3136, 100, **f32), L.ReLU(), L.Linear(100, 10, **f32))
    raise ValueError(name)


def torch_model(name):
    import torch.nn as nn
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))
    if name == "keras":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128),
                             nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    if name == "classic":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(3136, 100), nn.ReLU(), nn.Linear(100, 10))
    raise ValueError(name)


def handgrad_runner(name, batches, rng, workers=1):
    model = handgrad_model(name, rng).train()
    net = L.DataParallel(model, workers) if workers > 1 else model
    loss_fn = CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(i):
        x, y = batches[i % len(batches)]
        opt.zero_grad()
        if workers > 1:                            # what fit(workers=...) runs: loss per shard
            net.forward_backward(x, y, loss_fn)
        else:
            loss_fn.forward(net.forward(x), y)     # forward + softmax cross-entropy
            net.backward_params(loss_fn.backward())  # backward, no dL/d(data), as fit runs it
        opt.step()                                 # momentum update
    return step


def torch_runner(name, batches):
    import torch
    model = torch_model(name).train()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tb = [(torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))) for x, y in batches]

    def step(i):
        x, y = tb[i % len(tb)]
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def images_per_second(step, steps, batch):
    step(0)                                       # warm-up: buffers, caches
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["lenet5", "keras", "classic"])
    p.add_argument("--batch", nargs="+", type=int, default=[64, 128])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=8, help="training steps per timed round")
    p.add_argument("--no-workers", action="store_true",
                   help="skip the DataParallel column (handgrad with one worker thread per BLAS thread)")
    p.add_argument("--threads", type=int, default=THREADS,
                   help="BLAS and torch threads (read before numpy loads; default 2)")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {THREADS} threads (both); "
          f"median of {args.rounds} interleaved rounds x {args.steps} steps; "
          f"backend {backend.get()}")
    dp = THREADS > 1 and not args.no_workers
    print(f"{'model':<8} {'batch':>5} {'handgrad img/s':>15} {'torch img/s':>12} {'ratio':>6}"
          + (f" {'handgrad DP':>12} {'ratio':>6}" if dp else ""))
    for name in args.models:
        for batch in args.batch:
            batches = [(rng.random((batch, 1, 28, 28), dtype=np.float32),
                        rng.integers(0, 10, batch)) for _ in range(4)]
            runners = {"handgrad": handgrad_runner(name, batches, rng),
                       "torch": torch_runner(name, batches)}
            if dp:                                # DataParallel: one worker thread per core
                runners["dp"] = handgrad_runner(name, batches, rng, workers=THREADS)
            rates = {k: [] for k in runners}
            for _ in range(args.rounds):
                for k, step in runners.items():
                    rates[k].append(images_per_second(step, args.steps, batch))
            h, t = statistics.median(rates["handgrad"]), statistics.median(rates["torch"])
            d = statistics.median(rates["dp"]) if dp else None
            print(f"{name:<8} {batch:>5} {h:>15.0f} {t:>12.0f} {h / t:>6.2f}"
                  + (f" {d:>12.0f} {d / t:>6.2f}" if dp else ""), flush=True)


if __name__ == "__main__":
    main()
