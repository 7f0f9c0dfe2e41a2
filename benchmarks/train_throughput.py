"""Training (and inference) throughput of handgrad vs PyTorch (CPU, float32) on three MNIST CNNs.

One training step = forward, softmax cross-entropy, backward, SGD-with-momentum update,
the model as a user writes it and as ``fit`` runs it (no per-layer flags). Both
frameworks train the same architecture on the same random 1x28x28 batches; after a
second of untimed rounds each (``--warmup``), rounds alternate between them and medians
over interleaved rounds are quoted. PyTorch runs in a process of its own (started by
this script, driven round by round through a pipe), so neither library's process-wide
settings (thread pools, BLAS threads, allocator) touch the other. By default each
library uses its own defaults (every core; handgrad's default backend); ``--threads N``
pins both. The "DP" column trains through ``DataParallel`` with one worker per core.

    python benchmarks/train_throughput.py                       # the issue's default settings
    python benchmarks/train_throughput.py --busy 1              # with one competing `yes` process
    python benchmarks/train_throughput.py --backend numpy --models classic --batch 64
    python benchmarks/train_throughput.py --inference           # forward only, batch 1000 and 1

Models
------
lenet5   conv5x5(6, pad 2) relu maxpool2 conv5x5(16) relu maxpool2 flatten 400-120-84-10
keras    conv3x3(32) relu conv3x3(64) relu maxpool2 dropout(.25) flatten 9216-128 relu
         dropout(.5) 10
classic  conv3x3(16, pad 1) relu maxpool3/2(pad 1) [28->14] conv3x3(32, pad 1) relu
         maxpool3/2(pad 1) [14->7] conv3x3(64, pad 1) relu [7x7] flatten 3136-100 relu 10
         (the seed-002 3-conv net; the ReLU after the 100-unit layer is ours)
"""

from _threads import THREADS  # noqa: I001  (must precede numpy)
from _torch_side import SETTLE_S

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import handgrad.layers as L
from handgrad import backend
from handgrad._threads import threads
from handgrad.layers import Dropout, Flatten, MaxPool2d
from handgrad.losses import CrossEntropyLoss
from handgrad.optim import SGD
from handgrad.training import DataParallel



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
    net = DataParallel(model, workers) if workers > 1 else model
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


def handgrad_predictor(name, batch, rng):
    model = handgrad_model(name, rng).eval()
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    return lambda i: model.forward(x)


def torch_predictor(name, batch, rng):
    import torch
    model = torch_model(name).eval()
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))

    def step(i):
        with torch.no_grad():
            model(x)
    return step


def torch_worker():
    """The PyTorch side, in its own process: one JSON command per line on stdin
    (``setup``: build a runner; ``round``: time one round), one JSON answer per line."""
    import torch
    if THREADS:
        torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    step, batch = None, None
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "setup":
            batch, rng = cmd["batch"], np.random.default_rng(cmd["seed"])
            step = (torch_predictor(cmd["model"], batch, rng) if cmd["inference"]
                    else torch_runner(cmd["model"], make_batches(batch, rng)))
            answer = {"threads": torch.get_num_threads(), "version": torch.__version__}
        else:
            answer = {"rate": images_per_second(step, cmd["steps"], batch)}
        print(json.dumps(answer), flush=True)


class TorchProcess:
    """Drives :func:`torch_worker` in a child process."""

    def __init__(self, threads):
        argv = [sys.executable, __file__, "--torch-worker"] + (["--threads", str(threads)] if threads else [])
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def runner(self, name, batch, seed, inference):
        self.info = self.ask(op="setup", model=name, batch=batch, seed=seed, inference=inference)
        return lambda steps: self.ask(op="round", steps=steps)["rate"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def make_batches(batch, rng):
    return [(rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch))
            for _ in range(4)]


#: seconds of untimed rounds for each side before the timed ones: a training run's first
#: fraction of a second (kernels loaded, buffers touched the first time, PyTorch's
#: primitives made, handgrad's pace choosing between its team and one thread) is not its
#: throughput. Without it, LeNet-5 at batch 64 (the run's first model) was timed almost
#: entirely while the pace still measured its sides: beside a busy process it kept 46% and
#: 54% of its quiet speed in two runs, 62% and 68% with it (2-core AMD EPYC).
WARMUP_S = 1.0


def images_per_second(step, steps, batch):
    time.sleep(SETTLE_S)                          # the other library's threads go to sleep first
    step(0)                                       # warm-up: buffers, caches
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch / (time.perf_counter() - t)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line)
    except (OSError, StopIteration):
        return "unknown CPU"


def compare(runners, rounds, steps, batch, warmup=WARMUP_S):
    """Median images/s of each runner over interleaved rounds, after ``warmup`` seconds of
    untimed rounds each; a runner is a local step function or, for PyTorch, a callable
    ``rate(steps)`` timed in its own process."""
    def rate(k, run):
        return run(steps) if k == "torch" else images_per_second(run, steps, batch)

    for k, run in runners.items():
        start = time.perf_counter()
        while time.perf_counter() - start < warmup:
            rate(k, run)
    rates = {k: [] for k in runners}
    for _ in range(rounds):
        for k, run in runners.items():
            rates[k].append(rate(k, run))
    return {k: statistics.median(v) for k, v in rates.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["lenet5", "keras", "classic"])
    p.add_argument("--batch", nargs="+", type=int, default=None,
                   help="default 64 128 (training), 1000 1 (--inference)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=8, help="steps per timed round")
    p.add_argument("--warmup", type=float, default=WARMUP_S,
                   help=f"seconds of untimed rounds for each side first (default {WARMUP_S:g})")
    p.add_argument("--backend", default=None, help="handgrad backend (default: the fastest installed)")
    p.add_argument("--inference", action="store_true", help="forward passes in eval mode only")
    p.add_argument("--busy", type=int, default=0, help="competing `yes > /dev/null` processes")
    p.add_argument("--no-workers", action="store_true", help="skip the DataParallel column")
    p.add_argument("--threads", type=int, default=THREADS,
                   help="pin both libraries to N threads (read before numpy loads)")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.torch_worker:
        return torch_worker()
    if args.backend:
        backend.set_backend(args.backend)
    rng = np.random.default_rng(0)
    torch_proc = TorchProcess(THREADS)
    busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.busy)]
    try:
        workers = threads()                          # the cores this process may run on
        dp = workers > 1 and not args.no_workers and not args.inference
        info = torch_proc.ask(op="setup", model=args.models[0], batch=1, seed=0, inference=True)
        print(f"{cpu_name()}, {os.cpu_count()} cores ({threads()} usable); torch {info['version']} "
              f"({info['threads']} threads, its own process); handgrad backend {backend.get()} "
              f"({threads()} threads); {args.busy} competing processes; "
              f"load average before {os.getloadavg()[0]:.1f}; "
              f"median of {args.rounds} interleaved rounds x {args.steps} steps "
              f"after {args.warmup:g} s of untimed ones")
        print(f"{'model':<8} {'batch':>5} {'handgrad img/s':>15} {'torch img/s':>12} {'ratio':>6}"
              + (f" {'handgrad DP':>12} {'ratio':>6}" if dp else ""))
        for name in args.models:
            for batch in args.batch or ([1000, 1] if args.inference else [64, 128]):
                seed = int(rng.integers(2**31))
                remote = torch_proc.runner(name, batch, seed, args.inference)
                if args.inference:
                    runners = {"handgrad": handgrad_predictor(name, batch, np.random.default_rng(seed)),
                               "torch": remote}
                else:
                    batches = make_batches(batch, np.random.default_rng(seed))
                    runners = {"handgrad": handgrad_runner(name, batches, rng), "torch": remote}
                    if dp:
                        runners["dp"] = handgrad_runner(name, batches, rng, workers=workers)
                steps = args.steps if batch > 8 else args.steps * 20
                r = compare(runners, args.rounds, steps, batch, args.warmup)
                h, t = r["handgrad"], r["torch"]
                print(f"{name:<8} {batch:>5} {h:>15.0f} {t:>12.0f} {h / t:>6.2f}"
                      + (f" {r['dp']:>12.0f} {r['dp'] / t:>6.2f}" if dp else ""), flush=True)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
        torch_proc.close()


if __name__ == "__main__":
    main()
