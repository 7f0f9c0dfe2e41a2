"""The command line end to end (subprocess) and every user error path."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_PARENT = os.environ.get("HANDGRAD_DATA", "/work/shared/data")
HAS_MNIST = os.path.exists(os.path.join(MNIST_PARENT, "mnist", "t10k-images-idx3-ubyte.gz"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def handgrad(*args, check=True):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "handgrad", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"handgrad {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def check_run_folder(run, pngs):
    for name in ("model.npz", "checkpoint.npz", "history.csv", "history.json", "config.json", "metrics.json"):
        assert (run / name).is_file(), f"{name} missing from {sorted(os.listdir(run))}"
    Image = pytest.importorskip("PIL.Image")
    for name in pngs:
        data = (run / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE, name
        with Image.open(run / name) as im:
            im.verify()
    return json.loads((run / "config.json").read_text())


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    """One tiny offline training run on the synthetic shapes data set, shared by the tests."""
    run = tmp_path_factory.mktemp("runs") / "shapes"
    proc = handgrad("train", "--dataset", "shapes", "--limit", 200, "--test-limit", 100, "--epochs", 1,
                    "--batch-size", 50, "--out", run, "--quiet")
    return run, proc


def test_train_shapes_offline_writes_run_folder(shapes_run):
    run, proc = shapes_run
    config = check_run_folder(run, ["curves.png", "filters.png"])
    assert config["dataset"] == "shapes" and config["model"] == "shapes-regressor"
    assert config["limit"] == 200 and config["epochs"] == 1
    assert "test loss" in proc.stdout
    history = json.loads((run / "history.json").read_text())
    assert "loss" in json.dumps(history)
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["count_exact"] <= 1.0 and metrics["rotation_mae_deg"] >= 0.0

    out = handgrad("evaluate", run / "model.npz", "--dataset", "shapes", "--limit", 100).stdout
    assert f"test_count_exact: {round(metrics['count_exact'], 6)}" in out
    assert "test_rotation_mae_deg: " in out and "test_mae_count: " in out


@pytest.mark.skipif(not HAS_MNIST, reason="MNIST not found locally (set HANDGRAD_DATA)")
def test_train_mnist_tiny_run_then_evaluate_and_predict(tmp_path):
    run = tmp_path / "mnist-run"
    proc = handgrad("train", "--dataset", "mnist", "--data-dir", MNIST_PARENT, "--limit", 300,
                    "--test-limit", 500, "--epochs", 1, "--out", run, "--quiet")
    config = check_run_folder(run, ["curves.png", "confusion_matrix.png", "filters.png", "misclassified.png"])
    assert config["model"] == "fast-cnn" and config["optimizer"] == "adam"
    assert "test loss" in proc.stdout and "accuracy" in proc.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0

    out = handgrad("evaluate", run / "model.npz", "--dataset", "mnist", "--data-dir", MNIST_PARENT,
                   "--limit", 500).stdout
    assert f"test_accuracy: {round(metrics['accuracy'], 6)}" in out

    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255                               # a "1"
    np.save(tmp_path / "one.npy", digit)
    out = handgrad("predict", run, tmp_path / "one.npy", "--top-k", 2).stdout
    assert out.startswith(f"{tmp_path / 'one.npy'}: ") and out.count("(") == 2


def test_predict_resizes_png_with_a_note(shapes_run, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    run, _ = shapes_run
    Image.fromarray(np.full((40, 30, 3), 200, np.uint8)).save(tmp_path / "big.png")
    proc = handgrad("predict", run / "model.npz", tmp_path / "big.png", "--raw", "--size", 64)
    assert "note: resized" in proc.stderr and "from 30x40 to 64x64" in proc.stderr
    assert len(proc.stdout.split(":")[-1].split(",")) == 3  # count, cos k*angle, sin k*angle


def test_summary_lenet5_lists_layers_and_totals():
    out = handgrad("summary", "--model", "lenet5").stdout
    assert "model: lenet5" in out
    assert "61,706" in out
    assert "Conv2d" in out and "Linear" in out


def test_datasets_lists_every_dataset():
    out = handgrad("datasets").stdout
    for name in ("mnist", "fashion-mnist", "kmnist", "emnist-digits", "shapes"):
        assert name in out


def _not_handgrad_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.ones(3))
    return path


def _text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not an archive")
    return path


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "cifar"], r"unknown dataset 'cifar'; choose from mnist, fashion-mnist"),
    (["train", "--model", "resnet"], r"unknown model 'resnet'; choose from .*fast-cnn.*lenet5"),
    (["train", "--optimizer", "lbfgs"], r"unknown optimizer 'lbfgs'; choose from sgd, nesterov, adam"),
    (["train", "--schedule", "poly"], r"unknown schedule 'poly'; choose from none, step"),
    (["train", "--epochs", "0"], r"--epochs must be >= 1, got 0"),
    (["train", "--workers", "0"], r"--workers must be >= 1, got 0"),
    (["train", "--val-split", "1.5"], r"--val-split must be in \[0, 1\), got 1.5"),
    (["train", "--resume", "{tmp}/nope.npz"], r"no such checkpoint: '.*nope.npz'"),
    (["train", "--dataset", "shapes", "--model", "lenet5", "--limit", "20"],
     r"model 'lenet5' is a classifier; the shapes data set needs a regression model"),
    (["summary", "--model", "resnet"], r"unknown model 'resnet'; choose from"),
    (["summary", "--model", "lenet5", "--input-shape", "a,b"], r"--input-shape expects positive integers"),
    (["summary", "--model", "lenet5", "--input-shape", "1,20,20"],
     r"model 'lenet5' does not accept input shape \(1, 20, 20\)"),
    (["evaluate", "{tmp}/missing.npz"], r"no such model file: '.*missing.npz'"),
    (["evaluate", "{tmp}/missing.npz", "--dataset", "cifar"], r"no such model file"),
    (["predict", "{tmp}/missing.npz", "x.png"], r"no such model file: '.*missing.npz'"),
    (["evaluate", "{other}"], r"cannot load '.*other.npz': .*is not a handgrad model file"),
    (["predict", "{text}", "x.npy"], r"cannot load '.*notes.npz': .*is not a handgrad model file"),
], ids=["train-dataset", "train-model", "train-optimizer", "train-schedule", "train-epochs", "train-workers",
        "train-val-split", "train-resume-missing", "train-classifier-on-shapes", "summary-model",
        "summary-shape", "summary-wrong-shape", "evaluate-missing", "evaluate-missing-first", "predict-missing",
        "evaluate-not-handgrad", "predict-not-handgrad"])
def test_cli_errors(tmp_path, args, message):
    subs = {"{tmp}": str(tmp_path), "{other}": str(_not_handgrad_npz(tmp_path)),
            "{text}": str(_text_file(tmp_path))}
    for key, value in subs.items():
        args = [a.replace(key, value) for a in args]
    proc = handgrad(*args, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"handgrad {args[0]}: error: ")
    assert re.search(message, proc.stderr), proc.stderr


@pytest.mark.parametrize("image, message", [
    ("small.npy", r"is 20x20 pixels; the model expects 64x64 \(drop --no-resize to resize it\)"),
    ("missing.png", r"no such image file: '.*missing.png'"),
    ("cube.npy", r"holds an array of shape \(2, 3, 5\); expected \(H, W\)"),
], ids=["wrong-size", "missing-image", "bad-array"])
def test_predict_image_errors(shapes_run, tmp_path, image, message):
    run, _ = shapes_run
    np.save(tmp_path / "small.npy", np.zeros((20, 20), np.uint8))
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 5)))
    proc = handgrad("predict", run / "model.npz", tmp_path / image, "--no-resize", "--size", 64, check=False)
    assert proc.returncode == 2
    assert re.search(message, proc.stderr), proc.stderr


def test_resume_a_finished_run_says_nothing_to_resume(shapes_run, tmp_path):
    run, _ = shapes_run
    proc = handgrad("train", "--resume", run / "checkpoint.npz", "--out", tmp_path / "again", check=False)
    assert proc.returncode == 2
    assert re.search(r"already finished all 1 epochs of its run; nothing to resume", proc.stderr), proc.stderr


def test_resume_refuses_a_model_file(shapes_run, tmp_path):
    run, _ = shapes_run
    proc = handgrad("train", "--resume", run / "model.npz", "--out", tmp_path / "again", check=False)
    assert proc.returncode == 2
    assert re.search(r"handgrad train: error: .*model.npz.* is not a handgrad checkpoint file", proc.stderr), \
        proc.stderr
