"""The catalogue of bad inputs to the command line: every one ends in one line
``handgrad CMD: error: ...`` on stderr and exit status 2 (1 for a diverged run), never a
traceback; odd but valid runs succeed and say what they did.

The commands run in this process (``handgrad.cli.main``), on the synthetic shapes data set
or on a small fake MNIST written to ``tmp_path``; nothing touches the network.
"""

import dataclasses
import json
import re
import struct
import urllib.error
import zlib

import numpy as np
import pytest

import handgrad as hg
from handgrad.cli import main
from handgrad.commands._common import CommandError
from handgrad.data import registry, write_idx
from handgrad.data import download as download_module
from handgrad.models import fast_cnn

from .forge import deep_architecture_json, forged_model, write_forged

QUIET = ["--quiet"]


def run_cli(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``handgrad argv...`` run in this process."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, command, match, expected_status=2):
    assert status == expected_status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    prefix = f"handgrad {command}: error: " if command else "handgrad: error: "
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in err
    assert re.search(match, lines[0]), lines[0]


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No HANDGRAD_DATA, a private cache, no system folders, every download failing at once."""
    monkeypatch.delenv("HANDGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("network unreachable (test)")
    monkeypatch.setattr(download_module, "_fetch", no_network)
    return tmp_path


@pytest.fixture
def fake_mnist(offline, monkeypatch):
    """A small MNIST look-alike (65 training, 20 test images, labels 0..9) in ``<tmp>/data``,
    with the registry's checksums removed for it."""
    spec = registry.DATASETS["mnist"]
    splits = {s: tuple(dataclasses.replace(f, md5=None, raw_md5=None) for f in pair)
              for s, pair in spec.splits.items()}
    monkeypatch.setitem(registry.DATASETS, "mnist", dataclasses.replace(spec, splits=splits, system_dirs=()))
    rng = np.random.default_rng(0)
    folder = offline / "data" / "mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 65), ("t10k", 20)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return offline / "data"


@pytest.fixture(scope="module")
def shapes_model(tmp_path_factory):
    """A finished shapes run (in-process), shared by the tests that need a model file."""
    run = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "shapes", "--limit", "64", "--test-limit", "16", "--epochs", "1",
                 "--batch-size", "32", "--out", str(run), "--quiet"]) == 0
    return run


def _png_claiming(path, width, height):
    """A 1x1 PNG whose header (with a correct CRC) claims ``width`` x ``height`` pixels."""
    from PIL import Image
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(path)
    raw = bytearray(path.read_bytes())
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    raw[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(raw[ihdr:ihdr + 17])))
    path.write_bytes(bytes(raw))
    return path


def _npy_forged_shape(path):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                 "shape": (100000, 100000)})
        f.write(b"\0" * 16)
    return path


# (id, argv with {tmp}/{model}/{data} placeholders, files to make first, status, regex)
CASES = [
    ("train-dataset", ["train", "--dataset", "cifar"], None, 2, r"unknown dataset 'cifar'; choose from mnist"),
    ("train-epochs-0", ["train", "--epochs", "0"], None, 2, r"--epochs must be >= 1, got 0"),
    ("train-batch-0", ["train", "--batch-size", "0"], None, 2, r"--batch-size must be >= 1, got 0"),
    ("train-workers-0", ["train", "--workers", "0"], None, 2, r"--workers must be >= 1, got 0"),
    ("train-test-limit-0", ["train", "--test-limit", "0"], None, 2, r"--test-limit must be >= 1, got 0"),
    ("train-lr-inf", ["train", "--lr", "inf"], None, 2, r"--lr must be a finite number > 0, got inf"),
    ("train-lr-nan", ["train", "--lr", "nan"], None, 2, r"--lr must be a finite number > 0, got nan"),
    ("train-weight-decay", ["train", "--weight-decay", "-1"], None, 2, r"--weight-decay must be a finite number >= 0"),
    ("train-val-split-1", ["train", "--val-split", "1"], None, 2, r"--val-split must be in \[0, 1\), got 1"),
    ("train-warmup-too-long", ["train", "--dataset", "shapes", "--epochs", "2", "--warmup", "3"], None, 2,
     r"--warmup 3 epochs is not shorter than the run \(--epochs 2\)"),
    ("train-val-split-leaves-nothing", ["train", "--dataset", "shapes", "--limit", "64", "--val-split", "0.999",
                                        "--out", "{tmp}/r"], None, 2,
     r"--val-split 0.999 of 64 training images leaves no images to train on"),
    ("train-out-is-a-file", ["train", "--dataset", "shapes", "--out", "{tmp}/file"], "file", 2,
     r"--out '.*file' is a file; expected a folder"),
    ("train-out-finished-run", ["train", "--dataset", "shapes", "--out", "{model}"], None, 2,
     r"--out '.*run' already holds a finished run \(checkpoint.npz, config.json.*model.npz\); pass --overwrite"),
    ("train-out-unfinished-run", ["train", "--dataset", "shapes", "--out", "{tmp}/half"], "half-run", 2,
     r"already holds an unfinished run \(checkpoint.npz, config.json\); continue it with --resume .*half/checkpoint.npz"),
    ("train-offline", ["train", "--limit", "64"], None, 2,
     r"could not download train-images-idx3-ubyte.gz; tried: https://.* network unreachable .*"
     r"--data-dir <dir> .*HANDGRAD_DATA=<dir>"),
    ("train-resume-model-file", ["train", "--resume", "{model}/model.npz", "--out", "{tmp}/again"], None, 2,
     r"model.npz' is not a handgrad checkpoint file"),
    ("train-resume-missing", ["train", "--resume", "{tmp}/none.npz"], None, 2, r"no such checkpoint"),
    ("train-batchnorm-slices-of-one", ["train", "--data-dir", "{data}", "--batch-size", "3", "--workers", "2",
                                       "--out", "{tmp}/r"], "mnist", 2,
     r"fast-cnn has batch norm, which needs at least 2 images per batch \(per worker\); got --batch-size 3"),
    ("evaluate-limit-negative", ["evaluate", "{model}", "--dataset", "shapes", "--limit", "-9990"], None, 2,
     r"--limit must be >= 1, got -9990"),
    ("evaluate-batch-0", ["evaluate", "{model}", "--dataset", "shapes", "--batch-size", "0"], None, 2,
     r"--batch-size must be >= 1, got 0"),
    ("evaluate-missing", ["evaluate", "{tmp}/none.npz"], None, 2, r"no such model file"),
    ("evaluate-folder-without-model", ["evaluate", "{tmp}"], None, 2, r"is a folder without a model.npz"),
    ("evaluate-forged-linear", ["evaluate", "{tmp}/forged.npz"], "forged", 2,
     r"cannot load .*forged.npz.*declares weight of shape \(1000000, 1000000\)"),
    ("evaluate-deep-architecture", ["evaluate", "{tmp}/deep.npz"], "deep", 2,
     r"cannot load .*deep.npz.*(nested too deeply|nested deeper than 32)"),
    ("evaluate-six-classes", ["evaluate", "{tmp}/six.npz", "--data-dir", "{data}"], "six", 2,
     r"the model has outputs of shape \(6,\) but mnist has 10 classes"),
    ("predict-six-classes", ["predict", "{tmp}/six.npz", "{tmp}/digit.npy", "--dataset", "mnist"], "six", 2,
     r"the model has 6 outputs but mnist has 10 classes; was it trained on another data set\?"),
    ("predict-unknown-dataset", ["predict", "{tmp}/six.npz", "{tmp}/digit.npy", "--dataset", "cifar"], "six", 2,
     r"unknown data set 'cifar'"),
    ("evaluate-regressor-on-mnist", ["evaluate", "{model}", "--data-dir", "{data}"], "mnist", 2,
     r"the model does not accept mnist images"),
    ("evaluate-checksum", ["evaluate", "{model}", "--data-dir", "{tmp}/bad"], "bad-md5", 2,
     r"checksum mismatch: md5 [0-9a-f]+, expected 9fb629c4189551a2d022fa330f9573f3"),
    ("evaluate-offline", ["evaluate", "{model}"], None, 2, r"could not download .*--data-dir <dir>"),
    ("predict-size-0", ["predict", "{model}", "x.png", "--size", "0"], None, 2, r"--size must be in 1..4096"),
    ("predict-top-k-0", ["predict", "{model}", "x.png", "--top-k", "0"], None, 2, r"--top-k must be >= 1, got 0"),
    ("predict-png-30000", ["predict", "{model}", "{tmp}/huge.png"], "huge-png", 2,
     r"huge.png' declares more pixels than predict reads \(16777216\): Image size \(900000000 pixels\)"),
    ("predict-png-5000", ["predict", "{model}", "{tmp}/big.png"], "big-png", 2,
     r"big.png' declares 5000x5000 pixels, more than the 16777216 pixels predict reads"),
    ("predict-nan", ["predict", "{model}", "{tmp}/nan.npy"], "nan-npy", 2, r"nan.npy' holds NaN or inf values"),
    ("predict-0-255-floats", ["predict", "{model}", "{tmp}/f255.npy"], "f255-npy", 2,
     r"holds float values in \[0, 255\]; handgrad expects float images scaled to \[0, 1\]; it looks like "
     r"0-255 pixel values"),
    ("predict-object-npy", ["predict", "{model}", "{tmp}/obj.npy"], "object-npy", 2, r"cannot read .*obj.npy' as a .npy array"),
    ("predict-forged-npy", ["predict", "{model}", "{tmp}/forged.npy"], "forged-npy", 2,
     r"cannot read .*forged.npy' as a .npy array"),
    ("predict-not-an-image", ["predict", "{model}", "{tmp}/text.png"], "text-png", 2, r"cannot read .*text.png' as an image"),
    ("summary-huge-input", ["summary", "--input-shape", "1,100000,100000"], None, 2,
     r"has 10000000000 values per sample; summary runs one forward pass and accepts at most 16777216"),
    ("summary-zero-input", ["summary", "--input-shape", "0,1"], None, 2, r"--input-shape expects positive integers"),
    ("gradcheck-seed-negative", ["gradcheck", "--seed", "-1"], None, 2, r"--seed must be >= 0, got -1"),
    ("gradcheck-unknown", ["gradcheck", "--only", "Nope"], None, 2, r"unknown layer\(s\) \['Nope'\]"),
]


def _make(kind, tmp, data_dir):
    if kind == "file":
        (tmp / "file").write_text("not a folder")
    elif kind == "half-run":
        (tmp / "half").mkdir()
        (tmp / "half" / "config.json").write_text("{}")
        (tmp / "half" / "checkpoint.npz").write_bytes(b"")
    elif kind == "forged":
        forged_model(tmp / "forged.npz", {"type": "Linear", "config": {"in_features": 10 ** 6, "out_features": 10 ** 6}},
                     {"model/weight": np.zeros((2, 3), np.float32), "model/bias": np.zeros(2, np.float32)})
    elif kind == "deep":
        write_forged(tmp / "deep.npz", deep_architecture_json(3000), {})
    elif kind == "six":
        hg.save(fast_cnn(num_classes=6, rng=0), tmp / "six.npz")
        np.save(tmp / "digit.npy", np.zeros((28, 28), np.uint8))
    elif kind == "bad-md5":
        folder = tmp / "bad" / "mnist"
        folder.mkdir(parents=True)
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            write_idx(folder / name, np.zeros((2, 28, 28) if "images" in name else 2, np.uint8))
    elif kind == "huge-png":
        pytest.importorskip("PIL")
        _png_claiming(tmp / "huge.png", 30000, 30000)
    elif kind == "big-png":
        pytest.importorskip("PIL")
        _png_claiming(tmp / "big.png", 5000, 5000)
    elif kind == "nan-npy":
        np.save(tmp / "nan.npy", np.full((64, 64), np.nan))
    elif kind == "f255-npy":
        np.save(tmp / "f255.npy", np.linspace(0, 255, 64 * 64).reshape(64, 64))
    elif kind == "object-npy":
        np.save(tmp / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "forged-npy":
        _npy_forged_shape(tmp / "forged.npy")
    elif kind == "text-png":
        pytest.importorskip("PIL")
        (tmp / "text.png").write_text("not a png")


@pytest.mark.parametrize("argv, make, status, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_error_is_one_line(capsys, monkeypatch, offline, fake_mnist, shapes_model, argv, make, status, match):
    if make == "bad-md5":                                  # the real registry entry, checksums and all
        monkeypatch.setitem(registry.DATASETS, "mnist", dataclasses.replace(registry.MNIST, system_dirs=()))
    _make(make, offline, fake_mnist)
    subs = {"{tmp}": str(offline), "{model}": str(shapes_model), "{data}": str(fake_mnist)}
    for key, value in subs.items():
        argv = [a.replace(key, value) for a in argv]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, argv[0], match, status)


def test_catalogue_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# -- a diverged run: exit status 1, last good checkpoint kept, no model ---------------
def test_diverged_run_exits_1_and_keeps_the_last_checkpoint(capsys, offline):
    run = offline / "diverged"
    code, _, err = run_cli(capsys, "train", "--dataset", "shapes", "--limit", "32", "--test-limit", "8",
                           "--epochs", "2", "--batch-size", "32", "--lr", "1e6", "--out", run, *QUIET)
    assert_one_line_error(code, err, "train", r"training diverged at epoch 2, step 1 of 1: .*The last "
                                              r"checkpoint, after epoch 1 .*is kept in .*checkpoint.npz; "
                                              r"no model.npz was written", expected_status=1)
    assert not (run / "model.npz").exists()
    ckpt = hg.load_checkpoint(run / "checkpoint.npz")
    assert all(np.isfinite(p.data).all() for p in ckpt.model.parameters().values())


# -- odd but valid runs: they work and say what they did ------------------------------
def test_one_cycle_with_one_step(capsys, offline):
    code, out, err = run_cli(capsys, "train", "--dataset", "shapes", "--limit", "32", "--test-limit", "8",
                             "--epochs", "1", "--batch-size", "64", "--out", offline / "one", *QUIET)
    assert code == 0, err
    assert "note: one-cycle needs at least 2 steps and this run has 1; the learning rate stays at 0.01" in out
    assert json.loads((offline / "one" / "history.json").read_text())["epochs"][0]["lr"] == 0.01


def test_last_batch_of_one_with_batch_norm_is_dropped_with_a_note(capsys, fake_mnist):
    run = fake_mnist.parent / "bn"
    code, out, err = run_cli(capsys, "train", "--data-dir", fake_mnist, "--epochs", "1", "--batch-size", "32",
                             "--out", run, *QUIET)
    assert code == 0, err
    assert "note: the last batch of each epoch (1 of 65 images) is dropped: batch norm needs at least 2" in out
    steps = json.loads((run / "history.json").read_text())["steps"]
    assert len(steps) == 2                                        # 65 // 32, the image of one dropped
    assert hg.load(run / "model.npz")[-1].out_features == 10      # classes from the registry


def test_overwrite_replaces_the_old_run_and_its_plots(capsys, offline, shapes_model):
    import shutil
    run = offline / "copy"
    shutil.copytree(shapes_model, run)
    (run / "confusion_matrix.png").write_bytes(b"old plot")       # a plot this run will not write
    (run / "notes.txt").write_text("mine")
    code, out, err = run_cli(capsys, "train", "--dataset", "shapes", "--limit", "32", "--test-limit", "8",
                             "--epochs", "1", "--out", run, "--overwrite", *QUIET)
    assert code == 0, err
    assert "note: --overwrite: removed the old run's" in out
    assert not (run / "confusion_matrix.png").exists() and (run / "notes.txt").read_text() == "mine"
    assert json.loads((run / "config.json").read_text())["limit"] == 32


def test_default_run_folder_is_never_reused(capsys, tmp_path):
    from handgrad.commands._run_folder import create_run_folder
    default = str(tmp_path / "runs" / "shapes-20260101-000000")
    first, second, third = (create_run_folder(None, default) for _ in range(3))
    assert (first, second, third) == (default, default + "-2", default + "-3")
    assert "writing this run to " + default + "-3" in capsys.readouterr().out


# -- --debug and real bugs keep their traceback ----------------------------------------
def test_debug_shows_the_traceback(capsys):
    with pytest.raises(CommandError, match="--seed must be >= 0"):
        main(["gradcheck", "--seed", "-1", "--debug"])
    with pytest.raises(CommandError):
        main(["--debug", "gradcheck", "--seed", "-1"])


def test_a_bug_is_not_hidden(monkeypatch):
    from handgrad.commands import summary

    def broken(args):
        raise KeyError("a bug in handgrad")
    monkeypatch.setattr(summary, "run", broken)
    with pytest.raises(KeyError, match="a bug in handgrad"):
        main(["summary"])


@pytest.mark.parametrize("argv, command, match", [
    (["train", "--epochs", "x"], "train", r"argument --epochs: invalid int value: 'x' \(see handgrad train --help\)"),
    (["nope"], None, r"argument COMMAND: invalid choice: 'nope'"),
    (["predict"], "predict", r"the following arguments are required: MODEL, IMAGE"),
    (["evaluate", "m.npz", "--split", "val"], "evaluate", r"argument --split: invalid choice: 'val'"),
], ids=["bad-int", "unknown-command", "missing-arguments", "bad-choice"])
def test_argument_errors_are_one_line(capsys, argv, command, match):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert_one_line_error(2, capsys.readouterr().err, command, match)


def test_predict_names_the_classes_of_the_data_set(capsys, tmp_path):
    hg.save(fast_cnn(num_classes=10, rng=0), tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", np.zeros((28, 28), np.uint8))
    code, out, err = run_cli(capsys, "predict", tmp_path / "m.npz", tmp_path / "x.npy", "--dataset", "fashion-mnist",
                             "--top-k", "10")
    assert code == 0, err
    for name in ("T-shirt/top", "Sneaker", "Ankle boot"):
        assert re.search(rf"\d {re.escape(name)} \(0\.\d{{3}}\)", out), out
