"""Data throughput: time to load MNIST (train + test from the .gz files) and shapes images/s.

Run: ``python benchmarks/data.py [--data-dir DIR] [--rounds 5]``. Rounds are interleaved and
the median is printed, since the machine may be shared.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from handgrad import data
from handgrad.data import synthetic_shapes as shapes

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def time_mnist(data_dir):
    t0 = time.perf_counter()
    data.load("mnist", "train", data_dir=data_dir, download=False)
    data.load("mnist", "test", data_dir=data_dir, download=False)
    return time.perf_counter() - t0


def time_shapes(n, **kwargs):
    t0 = time.perf_counter()
    shapes.generate(n, np.random.default_rng(0), **kwargs)
    return n / (time.perf_counter() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=4000, help="shapes images per round")
    args = parser.parse_args()
    have_mnist = (args.data_dir / "mnist" / "train-images-idx3-ubyte.gz").exists()
    cases = {
        "shapes 64x64, all kinds, float32": dict(),
        "shapes 64x64, uint8": dict(dtype=np.uint8),
        "shapes 64x64, one square": dict(shapes=("square",), count=(1, 1)),
        "shapes paired 64x128": dict(target="paired"),
    }
    results = {name: [] for name in cases}
    mnist = []
    shapes.generate(64, 0)                                     # warm-up
    for _ in range(args.rounds):
        if have_mnist:
            mnist.append(time_mnist(args.data_dir))
        for name, kwargs in cases.items():
            results[name].append(time_shapes(args.n, **kwargs))
    if have_mnist:
        print(f"MNIST load, train + test from .gz (md5 verified): "
              f"median {statistics.median(mnist):.3f} s over {args.rounds} rounds "
              f"(min {min(mnist):.3f} s)")
    else:
        print(f"MNIST not found under {args.data_dir}; skipped")
    for name, rates in results.items():
        print(f"{name}: median {statistics.median(rates):,.0f} images/s "
              f"(max {max(rates):,.0f}) over {args.rounds} rounds of {args.n}")


if __name__ == "__main__":
    main()
