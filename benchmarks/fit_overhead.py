"""How much time does ``fit`` add to a bare training loop, and how long do save/load take?

Prints medians over interleaved rounds (the machine is shared, so single timings are noisy).
Run: ``python benchmarks/fit_overhead.py [--rounds 5]``.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.losses import CrossEntropyLoss
from handgrad.optim import SGD
from handgrad.training import fit


class Batches:
    def __init__(self, x, y, batch_size, rng):
        self.x, self.y, self.batch_size, self.rng = x, y, batch_size, rng

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.x))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            yield self.x[idx], self.y[idx]


def make(seed):
    rng = np.random.default_rng(seed)
    model = hg.Sequential(hg.Linear(784, 256, rng=rng), hg.ReLU(), hg.Linear(256, 10, rng=rng))
    return model, SGD(model.parameters(), lr=0.01), CrossEntropyLoss()


def bare_epoch(model, opt, loss, loader):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=8192)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    times = {"bare loop": [], "fit": [], "save": [], "load": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.npz"
        for r in range(args.rounds):
            # alternate which loop runs first, so that neither always gets the warmer caches
            for kind in (("bare loop", "fit") if r % 2 == 0 else ("fit", "bare loop")):
                model, opt, loss = make(r)
                loader = Batches(x, y, 64, np.random.default_rng(r))
                t = time.perf_counter()
                if kind == "fit":
                    fit(model, loss, opt, loader, epochs=1, verbose=False)
                else:
                    bare_epoch(model, opt, loss, loader)
                times[kind].append(time.perf_counter() - t)
            t = time.perf_counter()
            hg.save(model, path)
            times["save"].append(time.perf_counter() - t)
            t = time.perf_counter()
            hg.load(path)
            times["load"].append(time.perf_counter() - t)
    print(f"MLP 784-256-10, {args.samples} samples, batch 64, median of {args.rounds} interleaved rounds")
    for name, ts in times.items():
        print(f"  {name:<10} {1e3 * statistics.median(ts):9.1f} ms")
    bare, full = statistics.median(times["bare loop"]), statistics.median(times["fit"])
    print(f"  fit overhead: {100 * (full - bare) / bare:+.1f}% of the bare loop")


if __name__ == "__main__":
    main()
