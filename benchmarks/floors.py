"""The accuracy and speed floors of issue 5, measured (a benchmark: it prints, never asserts).

    HANDGRAD_DATA=/work/shared/data python benchmarks/floors.py default      # handgrad train defaults
    HANDGRAD_DATA=/work/shared/data python benchmarks/floors.py best         # the >= 99.5% recipe
    HANDGRAD_DATA=/work/shared/data python benchmarks/floors.py three-conv   # one epoch of the 3-conv net
    python benchmarks/floors.py shapes                                       # shapes count / rotation

Each prints the machine's load (``os.getloadavg``) before and after, since the 2 cores are shared.
Figures are collected in benchmarks/README.md.
"""

import os
import sys
import tempfile
import time

from handgrad.commands.train import train
from handgrad.config import TrainConfig

RECIPES = {
    # what `handgrad train` does with no arguments
    "default": {},
    # the >= 99.5% recipe: the default net trained longer on augmented images
    "best": dict(epochs=14, augment=True),
    # the VGG-style net (about 12x the default's MACs per image)
    "vgg": dict(model="vgg-small", epochs=8, batch_size=128, lr=0.005, augment=True),
    # one epoch of the classic 3-conv net, plain SGD with momentum
    "three-conv": dict(model="three-conv", epochs=1, batch_size=64, optimizer="nesterov", lr=0.01,
                       schedule="none"),
    # the shapes regression floor: 40,000 generated training images, two DataParallel workers
    # (`handgrad train --dataset shapes --limit 40000 --epochs 12 --lr 0.003 --workers 2`)
    "shapes": dict(dataset="shapes", limit=40000, epochs=12, batch_size=64, optimizer="adam", lr=0.003,
                   schedule="onecycle", workers=2),
}


def main(name):
    out = tempfile.mkdtemp(prefix=f"handgrad-floor-{name}-")
    cfg = TrainConfig(out=out, verbose=False, **RECIPES[name])
    print(f"recipe {name}: {cfg.to_dict()}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, load before: {os.getloadavg()}")
    start = time.perf_counter()
    _, history, results, _ = train(cfg)
    wall = time.perf_counter() - start
    print(f"load after:  {os.getloadavg()}")
    epoch_times = [round(e["time"], 1) for e in history.epochs]
    print(f"RESULT {name}: wall {wall:.1f} s, epoch times {epoch_times} s, test {results}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "default")
