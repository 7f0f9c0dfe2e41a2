"""The README's first command, as a newcomer runs it: ``handgrad train`` with MNIST in
``$HANDGRAD_DATA`` (here on a tiny subset), in a subprocess, with nothing extra installed.

It must end with exit status 0, the test metrics printed and the model saved, with or
without matplotlib (without it, a note says how to get the plots).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ("--limit", "300", "--test-limit", "200", "--epochs", "1", "--quiet")


def train(run_dir, data_parent, *, python_path=()):
    env = dict(os.environ, HANDGRAD_DATA=str(data_parent), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([*map(str, python_path), ROOT]))
    return subprocess.run([sys.executable, "-m", "handgrad", "train", *TINY, "--out", str(run_dir)],
                          capture_output=True, text=True, env=env, timeout=300)


def check_finished(proc, run_dir):
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "test loss: " in proc.stdout and "accuracy: " in proc.stdout, proc.stdout
    assert (run_dir / "model.npz").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0


def test_default_train_command_writes_model_metrics_and_plots(mnist_dir, tmp_path):
    pytest.importorskip("matplotlib")
    run_dir = tmp_path / "run"
    proc = train(run_dir, mnist_dir.parent)
    check_finished(proc, run_dir)
    assert "no plots written" not in proc.stdout
    assert (run_dir / "curves.png").is_file() and (run_dir / "confusion_matrix.png").is_file()


def test_default_train_command_without_matplotlib_still_finishes(mnist_dir, tmp_path):
    # a package named matplotlib first on the path whose import fails, as if it were not installed
    shadow = tmp_path / "no_matplotlib" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n")
    run_dir = tmp_path / "run"
    proc = train(run_dir, mnist_dir.parent, python_path=[shadow.parent])
    check_finished(proc, run_dir)
    assert "note: no plots written" in proc.stdout and "pip install matplotlib" in proc.stdout, proc.stdout
    assert not any(name.endswith(".png") for name in os.listdir(run_dir))


def test_version():
    import handgrad
    proc = subprocess.run([sys.executable, "-m", "handgrad", "--version"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"handgrad {handgrad.__version__}"


def test_a_subset_without_the_last_classes_still_gets_every_class_output():
    import numpy as np
    from handgrad.commands._recipe import build_model
    from handgrad.config import TrainConfig

    x, y = np.zeros((4, 1, 28, 28), np.float32), np.array([0, 1, 2, 1])      # no letter after "C"
    model = build_model(TrainConfig(dataset="emnist-letters"), x, y, np.random.default_rng(0))
    assert model(x).shape == (4, 26)
