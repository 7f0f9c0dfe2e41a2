"""Forward and backward time of single convolution layers, handgrad vs PyTorch (float32, CPU).

The layers are those of the three benchmark CNNs (see train_throughput.py). PyTorch's
backward computes the input gradient too (its input requires grad), as handgrad's does.
PyTorch runs in a process of its own (benchmarks/_torch_side.py); rounds alternate between
the two libraries, every layer once per round, and medians are printed.

    python benchmarks/conv_layers.py [--batch 128] [--rounds 7] [--threads N]
"""

from _threads import THREADS  # noqa: I001  (must precede numpy)

import argparse
import statistics
import sys

import numpy as np

from _torch_side import TorchSide, add_arguments, round_ms, serve

# (label, in, out, kernel, padding, input size)
LAYERS = [("lenet5.conv1", 1, 6, 5, 2, 28), ("lenet5.conv2", 6, 16, 5, 0, 14),
          ("keras.conv1", 1, 32, 3, 0, 28), ("keras.conv2", 32, 64, 3, 0, 26),
          ("classic.conv1", 1, 16, 3, 1, 28), ("classic.conv2", 16, 32, 3, 1, 14),
          ("classic.conv3", 32, 64, 3, 1, 7)]


def arrays(batch, ci, co, k, pad, size, rng):
    out = size + 2 * pad - k + 1
    return (rng.random((batch, ci, size, size), dtype=np.float32),
            rng.standard_normal((batch, co, out, out)).astype(np.float32))


def handgrad_passes(batch):
    from handgrad.layers import Conv2d
    rng, passes = np.random.default_rng(0), {}
    for label, ci, co, k, pad, size in LAYERS:
        conv = Conv2d(ci, co, k, padding=pad, rng=rng)
        x, g = arrays(batch, ci, co, k, pad, size, rng)
        passes[label] = [lambda conv=conv, x=x: conv.forward(x), lambda conv=conv, g=g: again(conv, g)]
    return passes


def again(layer, g):
    """``layer.backward(g)`` on the last forward's cache, also when timed several times in a
    row (the layer allows one backward per forward: re-armed here, gradients just add up)."""
    layer._backward_armed = True
    return layer.backward(g)


def torch_passes(batch):
    import torch
    if THREADS:
        torch.set_num_threads(THREADS)
    rng, passes = np.random.default_rng(0), {}
    for label, ci, co, k, pad, size in LAYERS:
        conv = torch.nn.Conv2d(ci, co, k, padding=pad)
        x, g = arrays(batch, ci, co, k, pad, size, rng)
        tx, tg, out = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g), {}
        passes[label] = [lambda conv=conv, tx=tx, out=out: out.__setitem__("y", conv(tx)),
                         lambda tg=tg, out=out: out["y"].backward(tg, retain_graph=True)]
    return passes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=7)
    add_arguments(p, THREADS)
    args = p.parse_args(argv)
    if args.torch_worker:
        return serve(torch_passes(args.batch), args.repeat)
    mine = handgrad_passes(args.batch)
    torch = TorchSide(__file__, ["--batch", str(args.batch), "--repeat", str(args.repeat)]
                      + (["--threads", str(THREADS)] if THREADS else []))
    times = {label: {"hf": [], "hb": [], "tf": [], "tb": []} for label in mine}
    for r in range(args.rounds + 1):                 # round 0 warms up both
        hg = round_ms(mine, args.repeat)
        pt = torch.round()
        for label in mine if r else ():
            for key, v in zip(("hf", "hb", "tf", "tb"), hg[label] + pt[label]):
                times[label][key].append(v)
    torch.close()
    print(f"batch {args.batch}, float32, threads: {THREADS or 'each library its own default'}; "
          f"PyTorch in its own process; median of {args.rounds} interleaved rounds of "
          f"{args.repeat} calls per pass (ms per call)")
    print(f"{'layer':<14} {'hg fwd':>7} {'pt fwd':>7} {'hg bwd':>7} {'pt bwd':>7} {'ratio f+b':>9}")
    for label, t in times.items():
        m = {key: statistics.median(v) for key, v in t.items()}
        ratio = (m["tf"] + m["tb"]) / (m["hf"] + m["hb"])
        print(f"{label:<14} {m['hf']:>7.2f} {m['tf']:>7.2f} {m['hb']:>7.2f} {m['tb']:>7.2f} {ratio:>9.2f}")
    print("ratio f+b = torch time / handgrad time (> 1: handgrad faster)")


if __name__ == "__main__":
    sys.exit(main())
