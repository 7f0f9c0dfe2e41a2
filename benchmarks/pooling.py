"""Pooling forward/backward times, handgrad vs PyTorch (CPU, float32), interleaved rounds, medians.

    PYTHONPATH=. python benchmarks/pooling.py [--rounds 15]

Each round times every (library, layer, pass) once, so background load affects all alike.
PyTorch is optional: without it only handgrad's times are printed.
"""

import argparse
import time

import numpy as np

from handgrad import AvgPool2d, MaxPool2d

CONFIGS = [  # (label, input shape, kernel, stride, padding)
    ("2x2 (64,32,28,28)", (64, 32, 28, 28), 2, 2, 0),
    ("3x3 s2 p1 (64,16,28,28)", (64, 16, 28, 28), 3, 2, 1),
    ("3x3 s2 p1 (64,32,14,14)", (64, 32, 14, 14), 3, 2, 1),   # 3-conv MNIST net, second pool
]


def handgrad_passes(layer_cls, x, k, s, p):
    layer = layer_cls(k, stride=s, padding=p)
    g = np.ones_like(layer(x))
    return (lambda: layer.forward(x)), (lambda: layer.backward(g))   # backward reuses the last forward


def torch_passes(torch, fn, x, k, s, p):
    xt = torch.tensor(x, requires_grad=True)
    g = torch.ones_like(fn(xt, k, s, p))

    def fwd():
        with torch.no_grad():
            fn(xt, k, s, p)

    y = fn(xt, k, s, p)

    def bwd():
        xt.grad = None
        y.backward(g, retain_graph=True)

    return fwd, bwd


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    jobs = {}   # (config, kind, library) -> (forward, backward)
    for label, shape, k, s, p in CONFIGS:
        x = rng.standard_normal(shape).astype(np.float32)
        for kind, cls in [("max", MaxPool2d), ("avg", AvgPool2d)]:
            jobs[label, kind, "handgrad"] = handgrad_passes(cls, x, k, s, p)
            if torch is not None:
                fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
                jobs[label, kind, "torch"] = torch_passes(torch, fn, x, k, s, p)
    times = {key: ([], []) for key in jobs}
    for fns in jobs.values():       # warm-up (allocations, reused buffers)
        fns[0](), fns[1]()
    for _ in range(args.rounds):
        for key, fns in jobs.items():
            for fn, out in zip(fns, times[key]):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
    print(f"float32, torch on 1 thread, {args.rounds} interleaved rounds, median ms")
    print(f"{'config':<26} {'kind':<5} {'library':<9} {'forward':>9} {'backward':>9}")
    for (label, kind, lib), (fwd, bwd) in times.items():
        print(f"{label:<26} {kind:<5} {lib:<9} {np.median(fwd) * 1e3:>9.2f} {np.median(bwd) * 1e3:>9.2f}")


if __name__ == "__main__":
    main()
