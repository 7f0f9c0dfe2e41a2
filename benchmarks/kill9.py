"""kill -9 at random moments of a small ``handgrad train`` run: is every file of the run folder
still readable afterwards, and does ``--resume`` finish the run?

For each of ``--kills`` trials: start a fresh run (synthetic shapes data set, a few epochs,
no download), send SIGKILL after a random delay drawn uniformly from the length of a whole run
(measured first), then

1. read every file of the run folder with its reader (``.npz``: handgrad.load /
   load_checkpoint; ``.json``: json; ``.csv``: History.from_csv; ``.png``: Pillow's verify);
   hidden ``.tmp-<pid>-*`` files are the killed process's unfinished writes and are counted;
2. when a checkpoint exists, resume the run to its end and check that it succeeds and that
   no ``.tmp-*`` file is left.

Prints one line per trial and the totals; exits 1 if any file was unreadable.
Run: ``python benchmarks/kill9.py [--kills 25] [--seed 0]``.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                        # the checkout's handgrad, for the readers
TRAIN = ["train", "--dataset", "shapes", "--limit", "384", "--test-limit", "64", "--epochs", "4",
         "--batch-size", "32", "--quiet"]


def handgrad(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "handgrad", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def read_file(path):
    """Read ``path`` with its reader; raises if it is not readable."""
    import handgrad as hg
    from handgrad.training import History

    name = path.name
    if name == "model.npz":
        hg.load(path)
    elif name.endswith(".npz"):
        hg.load_checkpoint(path)
    elif name.endswith(".json"):
        json.loads(path.read_text())
    elif name.endswith(".csv"):
        History.from_csv(path)
        with open(path, newline="") as f:
            list(csv.reader(f))
    elif name.endswith(".png"):
        from PIL import Image
        with Image.open(path) as im:
            im.verify()
    else:
        path.read_bytes()


def check_folder(run):
    """``(files read, unreadable [(name, error)], leftover temporary files)``."""
    read, bad, tmp = 0, [], []
    if not run.exists():
        return read, bad, tmp
    for path in sorted(run.iterdir()):
        if path.name.startswith(".tmp-"):
            tmp.append(path.name)
            continue
        try:
            read_file(path)
            read += 1
        except Exception as e:                      # noqa: BLE001 -- counted, reported below
            bad.append((path.name, f"{type(e).__name__}: {e}"))
    return read, bad, tmp


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    work = Path(tempfile.mkdtemp(prefix="handgrad-kill9-"))

    start = time.perf_counter()
    proc = handgrad(*TRAIN, "--out", work / "full")
    _, err = proc.communicate()
    full = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the uninterrupted run failed:\n{err}")
    print(f"uninterrupted run: {full:.1f} s; killing at uniform random moments in [0, {full:.1f}] s")

    totals = {"read": 0, "bad": 0, "tmp_after_kill": 0, "resumed": 0, "tmp_after_resume": 0}
    for trial in range(args.kills):
        run = work / f"run{trial}"
        delay = float(rng.uniform(0, full))
        proc = handgrad(*TRAIN, "--out", run)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        read, bad, tmp = check_folder(run)
        totals["read"] += read
        totals["bad"] += len(bad)
        totals["tmp_after_kill"] += len(tmp)
        resumed = ""
        if (run / "checkpoint.npz").exists() and not finished:
            proc = handgrad("train", "--resume", run / "checkpoint.npz")
            _, err = proc.communicate()
            ok = proc.returncode == 0 or "nothing to resume" in err
            left = [p.name for p in run.iterdir() if p.name.startswith(".tmp-")]
            totals["resumed"] += ok
            totals["tmp_after_resume"] += len(left)
            resumed = f"; resumed: {'ok' if ok else 'FAILED ' + err.strip()[-200:]}, .tmp left {len(left)}"
            if not ok:
                totals["bad"] += 1
        state = "finished before the kill" if finished else f"killed at {delay:.2f} s"
        print(f"trial {trial + 1:2d}: {state}; {read} files readable, {len(bad)} unreadable "
              f"{bad or ''}, {len(tmp)} .tmp files{resumed}")

    print(f"\n{args.kills} kills: {totals['read']} files read, {totals['bad']} unreadable or failed; "
          f"{totals['tmp_after_kill']} temporary files left by kills, {totals['tmp_after_resume']} after "
          f"{totals['resumed']} resumed runs")
    return 1 if totals["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
