"""Pooling forward/backward times, handgrad vs PyTorch (CPU, float32), interleaved rounds, medians.

    python benchmarks/pooling.py [--rounds 15] [--threads N]

Each round times every (layer, pass) of one library once, then of the other; PyTorch runs
in a process of its own (benchmarks/_torch_side.py). Without PyTorch only handgrad's times
are printed.
"""

from _threads import THREADS  # noqa: I001  (must precede numpy)

import argparse
import importlib.util
import sys

import numpy as np

from _torch_side import TorchSide, add_arguments, round_ms, serve
from conv_layers import again

CONFIGS = [  # (label, input shape, kernel, stride, padding)
    ("2x2 (64,32,28,28)", (64, 32, 28, 28), 2, 2, 0),
    ("3x3 s2 p1 (64,16,28,28)", (64, 16, 28, 28), 3, 2, 1),
    ("3x3 s2 p1 (64,32,14,14)", (64, 32, 14, 14), 3, 2, 1),   # 3-conv MNIST net, second pool
]


def inputs():
    rng = np.random.default_rng(0)
    return [(label, rng.standard_normal(shape).astype(np.float32), k, s, p) for label, shape, k, s, p in CONFIGS]


def handgrad_passes():
    from handgrad import AvgPool2d, MaxPool2d
    passes = {}
    for label, x, k, s, p in inputs():
        for kind, cls in (("max", MaxPool2d), ("avg", AvgPool2d)):
            layer = cls(k, stride=s, padding=p)
            g = np.ones_like(layer(x))
            passes[f"{label}|{kind}"] = [lambda layer=layer, x=x: layer.forward(x),
                                         lambda layer=layer, g=g: again(layer, g)]     # the last forward's
    return passes


def torch_passes():
    import torch
    if THREADS:
        torch.set_num_threads(THREADS)
    passes = {}
    for label, x, k, s, p in inputs():
        for kind in ("max", "avg"):
            fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
            xt = torch.tensor(x, requires_grad=True)
            y = fn(xt, k, s, p)
            g = torch.ones_like(y)

            def forward(fn=fn, xt=xt, k=k, s=s, p=p):
                with torch.no_grad():
                    fn(xt, k, s, p)

            def backward(y=y, g=g, xt=xt):
                xt.grad = None
                y.backward(g, retain_graph=True)

            passes[f"{label}|{kind}"] = [forward, backward]
    return passes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    add_arguments(parser, THREADS)
    args = parser.parse_args(argv)
    if args.torch_worker:
        return serve(torch_passes(), args.repeat)
    mine = handgrad_passes()
    torch = None
    if importlib.util.find_spec("torch") is not None:
        torch = TorchSide(__file__, ["--repeat", str(args.repeat)] + (["--threads", str(THREADS)] if THREADS else []))
    times = {(key, lib): ([], []) for key in mine for lib in ("handgrad", "torch") if lib == "handgrad" or torch}
    for r in range(args.rounds + 1):                 # round 0 warms up
        rounds = {"handgrad": round_ms(mine, args.repeat)}
        if torch is not None:
            rounds["torch"] = torch.round()
        for (key, lib), (fwd, bwd) in times.items() if r else ():
            fwd.append(rounds[lib][key][0])
            bwd.append(rounds[lib][key][1])
    if torch is not None:
        torch.close()
    print(f"float32, threads: {THREADS or 'each library its own default'}; PyTorch in its own process; "
          f"median of {args.rounds} interleaved rounds of {args.repeat} calls per pass (ms per call)")
    print(f"{'config':<26} {'kind':<5} {'library':<9} {'forward':>9} {'backward':>9}")
    for (key, lib), (fwd, bwd) in sorted(times.items()):
        label, kind = key.split("|")
        print(f"{label:<26} {kind:<5} {lib:<9} {np.median(fwd):>9.2f} {np.median(bwd):>9.2f}")


if __name__ == "__main__":
    sys.exit(main())
