"""Forward and backward time of single convolution layers, handgrad vs PyTorch (float32, CPU).

The layers are those of the three benchmark CNNs (see train_throughput.py). PyTorch's
backward computes the input gradient too (its input requires grad), as handgrad's does.
Rounds alternate between the two; medians are printed.

    python benchmarks/conv_layers.py [--batch 128] [--rounds 7]
"""

from _threads import THREADS  # noqa: I001  (must precede numpy)

import argparse
import statistics
import time

import numpy as np

from handgrad.layers import Conv2d

# (label, in, out, kernel, padding, input size)
LAYERS = [("lenet5.conv1", 1, 6, 5, 2, 28), ("lenet5.conv2", 6, 16, 5, 0, 14),
          ("keras.conv1", 1, 32, 3, 0, 28), ("keras.conv2", 32, 64, 3, 0, 26),
          ("classic.conv1", 1, 16, 3, 1, 28), ("classic.conv2", 16, 32, 3, 1, 14),
          ("classic.conv3", 32, 64, 3, 1, 7)]


def timed(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=THREADS,
                   help="BLAS and torch threads (read before numpy loads; default 2)")
    args = p.parse_args(argv)
    import torch
    if THREADS:
        torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    N = args.batch
    print(f"batch {N}, float32, torch {torch.get_num_threads()} threads, median of {args.rounds} rounds (ms)")
    print(f"{'layer':<14} {'hg fwd':>7} {'pt fwd':>7} {'hg bwd':>7} {'pt bwd':>7} {'ratio f+b':>9}")
    for label, ci, co, k, pad, size in LAYERS:
        conv = Conv2d(ci, co, k, padding=pad, rng=rng)
        x = rng.random((N, ci, size, size), dtype=np.float32)
        g = rng.standard_normal((N, co) + conv.output_shape((size, size))).astype(np.float32)
        tconv = torch.nn.Conv2d(ci, co, k, padding=pad)
        tx = torch.from_numpy(x).requires_grad_()
        tg = torch.from_numpy(g)
        times = {"hf": [], "hb": [], "tf": [], "tb": []}
        for r in range(args.rounds + 1):
            hf = timed(lambda: conv.forward(x))
            hb = timed(lambda: conv.backward(g))
            out = {}
            tf = timed(lambda: out.setdefault("y", tconv(tx)))
            tb = timed(lambda: out["y"].backward(tg))
            if r:                                   # round 0 warms up both
                for key, v in zip(("hf", "hb", "tf", "tb"), (hf, hb, tf, tb)):
                    times[key].append(v)
        m = {key: statistics.median(v) for key, v in times.items()}
        ratio = (m["tf"] + m["tb"]) / (m["hf"] + m["hb"])
        print(f"{label:<14} {m['hf']:>7.2f} {m['tf']:>7.2f} {m['hb']:>7.2f} {m['tb']:>7.2f} {ratio:>9.2f}",
              flush=True)
    print("ratio f+b = torch time / handgrad time (> 1: handgrad faster)")


if __name__ == "__main__":
    main()
