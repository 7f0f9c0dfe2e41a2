"""Time one optimizer step and measure what it allocates, for every optimizer.

Prints, per optimizer, the median time of a step over ~1.2M float32 parameters (the
size of a small CNN) and the peak bytes allocated by a step after the first (NumPy
reports its buffers to tracemalloc), to show the updates run in place.

    python benchmarks/optim_step.py
"""

import time
import tracemalloc

import numpy as np

from handgrad import Parameter
from handgrad.optim import SGD, AdaGrad, Adam, AdamW, RMSprop

SHAPES = {"0.weight": (64, 1, 5, 5), "0.bias": (64,), "3.weight": (128, 64, 5, 5), "3.bias": (128,),
          "7.weight": (512, 2048), "7.bias": (512,), "9.weight": (10, 512), "9.bias": (10,)}
CASES = {
    "SGD": (SGD, dict(lr=0.1)),
    "SGD momentum+nesterov+wd": (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)),
    "Adam": (Adam, dict()),
    "Adam amsgrad+wd": (Adam, dict(weight_decay=1e-4, amsgrad=True)),
    "AdamW": (AdamW, dict()),
    "AdaGrad": (AdaGrad, dict()),
    "RMSprop centered+momentum": (RMSprop, dict(momentum=0.9, centered=True)),
}


def main(repeats=30):
    rng = np.random.default_rng(0)
    params = {n: Parameter(rng.normal(size=s).astype(np.float32)) for n, s in SHAPES.items()}
    for p in params.values():
        p.grad[...] = rng.normal(size=p.shape)
    n = sum(p.size for p in params.values())
    print(f"{n:,} float32 parameters, {repeats} steps each")
    print(f"{'optimizer':<28}{'median ms/step':>16}{'peak alloc/step':>18}")
    for name, (cls, kw) in CASES.items():
        opt = cls(params, **kw)
        opt.step()                                   # creates state and scratch buffers
        tracemalloc.start()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            opt.step()
            times.append(time.perf_counter() - t0)
        print(f"{name:<28}{1e3 * np.median(times):>16.2f}{peak:>16,} B")


if __name__ == "__main__":
    main()
