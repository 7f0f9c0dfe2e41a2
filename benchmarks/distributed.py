"""Distributed data parallelism: handgrad on MPI against DataParallel and PyTorch's DDP (gloo).

    python benchmarks/distributed.py [--rounds 5] [--steps 20] [--batch 64]

One training step of the default model (``fast-cnn``, float32, Adam, random 1x28x28
batches of ``--batch`` images, the *global* batch) in five set-ups, one BLAS thread per
process or worker:

==========================  ================================================================
handgrad 1 rank             ``mpirun -n 1``, ``DistributedDataParallel`` (Allreduce of one)
handgrad 2 ranks            ``mpirun -n 2``, each rank half of every batch, one Allreduce
handgrad DataParallel(2)    one process, ``DataParallel(workers=2)`` (two threads)
torch 1 process             ``DistributedDataParallel``, gloo, world size 1
torch 2 processes           ``DistributedDataParallel``, gloo, world size 2
==========================  ================================================================

Every set-up runs in a fresh process (group) per round; the rounds interleave the set-ups
(their order rotates) and the table gives medians over rounds of each run's median step.
Scaling efficiency = throughput(2) / (2 x throughput(1)) of the same framework.

It also times, on 2 ranks, an ``MPI_Allreduce`` of 8 bytes (latency) and of the model's
gradient (bytes/s), the figures of the cost model in docs/distributed.md.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ONE_THREAD = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


# -- the workers (each run in its own process) ------------------------------------------
def batch(size, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    return rng.random((size, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, size)


def report(times):
    print("RESULT " + json.dumps({"step_s": statistics.median(times)}), flush=True)


def worker_handgrad(args):
    import handgrad.distributed as dist
    from handgrad._shards import shard_bounds
    from handgrad.losses import CrossEntropyLoss
    from handgrad.models import fast_cnn
    from handgrad.optim import Adam

    world = dist.init()
    model = fast_cnn(rng=0)
    ddp = dist.DistributedDataParallel(model, world)
    optimizer, loss = Adam(model.parameters(), lr=1e-3), CrossEntropyLoss()
    x, y = batch(args.batch)
    a, b = shard_bounds(args.batch, world.size)[world.rank]
    times = []
    for step in range(args.warmup + args.steps):
        world.comm.Barrier()
        t = time.perf_counter()
        optimizer.zero_grad()
        ddp.forward_backward(x[a:b], y[a:b], loss, batch_size=args.batch)
        optimizer.step()
        times.append(time.perf_counter() - t)
    if world.rank == 0:
        report(times[args.warmup:])
        print("GRADIENT_BYTES", ddp.gradient_bytes)


def worker_dataparallel(args):
    from handgrad.training import DataParallel
    from handgrad.losses import CrossEntropyLoss
    from handgrad.models import fast_cnn
    from handgrad.optim import Adam

    model = fast_cnn(rng=0)
    dp = DataParallel(model, 2)
    optimizer, loss = Adam(model.parameters(), lr=1e-3), CrossEntropyLoss()
    x, y = batch(args.batch)
    times = []
    for step in range(args.warmup + args.steps):
        t = time.perf_counter()
        optimizer.zero_grad()
        dp.forward_backward(x, y, loss)
        optimizer.step()
        times.append(time.perf_counter() - t)
    report(times[args.warmup:])


def _torch_rank(rank, world, args, port):
    import torch
    import torch.distributed as tdist
    from torch import nn

    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Dropout(0.3), nn.Linear(128, 10))
    ddp = nn.parallel.DistributedDataParallel(model)
    optimizer, loss = torch.optim.Adam(ddp.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    x, y = batch(args.batch)
    per = args.batch // world
    xs, ys = torch.from_numpy(x[rank * per:(rank + 1) * per]), torch.from_numpy(y[rank * per:(rank + 1) * per])
    times = []
    for step in range(args.warmup + args.steps):
        tdist.barrier()
        t = time.perf_counter()
        optimizer.zero_grad()
        loss(ddp(xs), ys).backward()
        optimizer.step()
        times.append(time.perf_counter() - t)
    if rank == 0:
        report(times[args.warmup:])
    tdist.destroy_process_group()


def worker_torch(args):
    import torch.multiprocessing as mp

    with socket.socket() as s:                       # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_torch_rank, args=(args.processes, args, port), nprocs=args.processes, join=True)


def worker_allreduce(args):
    import numpy as np

    import handgrad.distributed as dist

    world = dist.init()
    out = {}
    for name, count in (("latency_s", 2), ("gradient_s", args.floats)):
        buf = np.ones(count, np.float32)
        times = []
        for _ in range(args.reps):
            world.comm.Barrier()
            t = time.perf_counter()
            world.allreduce(buf)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    if world.rank == 0:
        print("RESULT " + json.dumps(out), flush=True)


# -- the driver ----------------------------------------------------------------------------
def mpirun(n):
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    return ["mpirun", "--oversubscribe", "--bind-to", "none", *root, "-n", str(n)]


def run(cmd):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **ONE_THREAD)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    result = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")][-1]
    grad = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("GRADIENT_BYTES")]
    return result, (grad[0] if grad else None)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64, help="global batch (default 64, handgrad train's)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--floats", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--reps", type=int, default=200, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return {"handgrad": worker_handgrad, "dp": worker_dataparallel, "torch": worker_torch,
                "allreduce": worker_allreduce}[args.worker](args)

    me = [sys.executable, os.path.abspath(__file__), "--steps", str(args.steps), "--warmup",
          str(args.warmup), "--batch", str(args.batch)]
    setups = {
        "handgrad 1 rank": mpirun(1) + me + ["--worker", "handgrad"],
        "handgrad 2 ranks": mpirun(2) + me + ["--worker", "handgrad"],
        "handgrad DataParallel(2)": me + ["--worker", "dp"],
        "torch 1 process": me + ["--worker", "torch", "--processes", "1"],
        "torch 2 processes": me + ["--worker", "torch", "--processes", "2"],
    }
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout
    print(f"CPU: {cpu.split(':', 1)[-1].strip()}; {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    steps = {name: [] for name in setups}
    gradient_bytes = None
    names = list(setups)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:   # rotate the order
            result, grad = run(setups[name])
            steps[name].append(result["step_s"])
            gradient_bytes = grad or gradient_bytes
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {1e3 * s[-1]:.1f} ms" for n, s in steps.items()),
              flush=True)
    reduce_runs = [run(mpirun(2) + me + ["--worker", "allreduce", "--floats", str(gradient_bytes // 4)])[0]
                   for _ in range(3)]

    print(f"\nfast-cnn, float32, Adam, global batch {args.batch}, one BLAS thread per process; "
          f"medians of {args.rounds} interleaved rounds x {args.steps} steps; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"| set-up | step (ms) | images/s |\n|---|---:|---:|")
    rate = {}
    for name, s in steps.items():
        step = statistics.median(s)
        rate[name] = args.batch / step
        print(f"| {name} | {1e3 * step:.1f} | {rate[name]:.0f} |")
    eff_hg = rate["handgrad 2 ranks"] / (2 * rate["handgrad 1 rank"])
    eff_pt = rate["torch 2 processes"] / (2 * rate["torch 1 process"])
    print(f"\n2-rank scaling efficiency: handgrad {eff_hg:.2f}, PyTorch DDP (gloo) {eff_pt:.2f}")
    print(f"handgrad 2 ranks vs DataParallel(2): {rate['handgrad 2 ranks'] / rate['handgrad DataParallel(2)']:.2f}x; "
          f"vs torch 2 processes: {rate['handgrad 2 ranks'] / rate['torch 2 processes']:.2f}x")
    lat = statistics.median(r["latency_s"] for r in reduce_runs)
    full = statistics.median(r["gradient_s"] for r in reduce_runs)
    print(f"gradient: {gradient_bytes} bytes; MPI_Allreduce on 2 ranks: 8 bytes {1e6 * lat:.1f} us, "
          f"{gradient_bytes} bytes {1e6 * full:.0f} us ({gradient_bytes / full / 1e9:.2f} GB/s)")
    predicted(statistics.median(steps["handgrad 1 rank"]), args.batch, gradient_bytes)


#: (bandwidth bytes/s, latency s) of the networks in the prediction; the latencies are
#: typical TCP figures over one switch, assumed (one machine cannot measure them)
NETWORKS = {"1 Gbit/s": (125e6, 50e-6), "10 Gbit/s": (1.25e9, 20e-6)}


def ring_allreduce_s(p, nbytes, bandwidth, latency):
    """Ring allreduce: 2(p-1)/p * n bytes through each rank's link, and 2(p-1) latencies."""
    return 2 * (p - 1) / p * nbytes / bandwidth + 2 * (p - 1) * latency


def predicted(step_s, batch, nbytes, big_batch=1024):
    """Efficiency throughput(p) / (p throughput(1)) for p ranks from a measured one-rank step
    of ``batch`` images (compute taken as proportional to the batch), with no overlap."""
    per_image = step_s / batch
    print(f"\npredicted efficiency, compute {1e3 * step_s:.1f} ms per {batch} images on one rank, "
          f"gradient {nbytes} bytes:")
    head = " | ".join(f"{k}: allreduce ms | {batch}/rank | {big_batch} global" for k in NETWORKS)
    print(f"| p | {head} |\n|---:|" + "---:|" * (3 * len(NETWORKS)))
    for p in (2, 4, 8, 16, 32, 64):
        cells = []
        for bandwidth, latency in NETWORKS.values():
            t = ring_allreduce_s(p, nbytes, bandwidth, latency)
            weak = batch * per_image / (batch * per_image + t)          # batch images per rank
            strong = (big_batch / p) * per_image / ((big_batch / p) * per_image + t)
            cells.append(f"{1e3 * t:.2f} | {weak:.2f} | {strong:.2f}")
        print(f"| {p} | " + " | ".join(cells) + " |")
    for name, (bandwidth, latency) in NETWORKS.items():
        need = {p: 9 * ring_allreduce_s(p, nbytes, bandwidth, latency) / per_image for p in (8, 64)}
        print(f"{name}: efficiency 0.9 needs >= {need[8]:.0f} images per rank on 8 ranks, "
              f">= {need[64]:.0f} on 64")


if __name__ == "__main__":
    main()
