"""Print forward + backward timings of BatchNorm2d, Softmax and CrossEntropyLoss (float32).

    PYTHONPATH=. python benchmarks/bench_core_layers.py

Medians over interleaved rounds (the machine may be shared). Never asserted in tests.
"""

import time

import numpy as np

from handgrad import layers as L
from handgrad import losses as Ls


def bench(step, rounds=9):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)    # a conv feature map
    logits = rng.standard_normal((256, 10), dtype=np.float32)
    labels = rng.integers(0, 10, 256)
    bn, softmax, ce = L.BatchNorm2d(32), L.Softmax(), Ls.CrossEntropyLoss()

    def bn_step():
        bn.backward(bn(images))

    def softmax_step():
        softmax.backward(softmax(logits))

    def ce_step():
        ce(logits, labels)
        ce.backward()

    print(f"{'case':<44} {'median ms':>10}")
    for label, step in [("BatchNorm2d(32) train, (64, 32, 28, 28)", bn_step),
                        ("Softmax, (256, 10)", softmax_step),
                        ("CrossEntropyLoss, (256, 10) labels", ce_step)]:
        print(f"{label:<44} {bench(step):>10.2f}")


if __name__ == "__main__":
    main()
