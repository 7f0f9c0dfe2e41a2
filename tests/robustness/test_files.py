"""Hostile and broken files: model files, checkpoints, IDX files, data set labels; and the
guarantees of the writers (atomic replacement, orphaned temporary files removed)."""

import gzip
import json
import os
import subprocess
import sys
import zipfile

from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad import data
from handgrad._files import atomic_open, remove_orphans
from handgrad.data import IDXError, read_idx, write_idx
from handgrad.io import HandgradFileError, archive, model_file
from handgrad.training import History

from .forge import (deep_architecture_json, forged_model, idx_header, model_arrays, set_declared_size,
                    tiny_model, write_forged)


def _saved(tmp_path, model=None):
    return Path(hg.save(model or tiny_model(), tmp_path / "model.npz"))


def _write(path, raw):
    path.write_bytes(raw)
    return path


def _linear_arch(i, o):
    return {"type": "Linear", "config": {"in_features": i, "out_features": o, "bias": True, "dtype": "float32"}}


def _zip_bomb(tmp_path):
    """A valid model file whose one member is 4 MiB of zeros, deflated to a few KiB."""
    arrays = {"model/weight": np.zeros((1024, 1024), np.float32), "model/bias": np.zeros(1024, np.float32)}
    path = tmp_path / "bomb.npz"
    header = json.dumps({"format": "handgrad-model", "version": 1, "architecture": _linear_arch(1024, 1024)},
                        sort_keys=True)
    payload = dict(arrays, **{archive.HEADER_KEY: np.array(header),
                              archive.DIGEST_KEY: np.array(archive.digest(header, arrays))})
    np.savez_compressed(path, **payload)
    return path


def _nan_model(tmp_path):
    model = tiny_model()
    model[0].weight.data[0, 0] = np.nan
    return hg.save(model, tmp_path / "nan.npz")


def _pickled_member(tmp_path):
    path = _saved(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        with zf.open("evil.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"os": "system"}], dtype=object), allow_pickle=True)
    return path


def _npy_shape_lie(tmp_path):
    """A member whose .npy header declares far more data than the member holds."""
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("model/weight.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                     "shape": (10 ** 6, 10 ** 6)})
            f.write(b"\0" * 64)
    return path


def _member_count(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    return _saved(tmp_path)                          # 4 arrays + header + digest


def _many_layers(tmp_path, monkeypatch):
    monkeypatch.setattr(model_file, "MAX_LAYERS", 5)
    return hg.save(hg.Sequential(*[hg.ReLU() for _ in range(6)]), tmp_path / "many.npz")


def _truncated(tmp_path):
    path = _saved(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    return path


def _flipped_byte(tmp_path):
    path = _saved(tmp_path)
    raw = bytearray(path.read_bytes())
    i = raw.find(np.float32(tiny_model()[0].weight.data[0, 0]).tobytes())
    raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


MODEL_FILES = [
    ("text-file", lambda t, m: _write(t / "x.npz", b"hello"), r"could not read it as an \.npz"),
    ("empty-file", lambda t, m: _write(t / "x.npz", b""), r"is not a handgrad model file"),
    ("truncated", lambda t, m: _truncated(t), r"is not a handgrad model file"),
    ("flipped-byte", lambda t, m: _flipped_byte(t), r"Bad CRC-32 for file .model/0.weight.npy.|is corrupted: its sha256 does not match"),
    ("plain-npz", lambda t, m: np.savez(t / "p.npz", w=np.ones(2)) or t / "p.npz", r"no '__handgrad__' header"),
    ("zip-bomb", lambda t, m: m.setattr(archive, "MAX_INFLATED_BYTES", 1 << 20) or _zip_bomb(t),
     r"would inflate to 4\d{6} bytes, more than the limit of 1048576 bytes .*MAX_INFLATED_BYTES"),
    ("declared-2-GiB", lambda t, m: set_declared_size(_saved(t), "model/0.weight.npy", (2 << 30) + 1),
     r"would inflate to 2147\d+ bytes, more than the limit"),
    ("too-many-members", _member_count, r"6 members; the limit is 3"),
    ("pickled-member", lambda t, m: _pickled_member(t), r"member 'evil.npy': it holds Python objects"),
    ("npy-shape-lie", lambda t, m: _npy_shape_lie(t), r"declares shape \(1000000, 1000000\) of float32"),
    ("forged-linear-1e6", lambda t, m: forged_model(t / "f.npz", _linear_arch(10 ** 6, 10 ** 6),
                                                    model_arrays(hg.Linear(3, 2, rng=0))),
     r"declares weight of shape \(1000000, 1000000\) but the file stores an array of shape \(2, 3\)"),
    ("forged-missing-weights", lambda t, m: forged_model(t / "f.npz", _linear_arch(10 ** 6, 10 ** 6), {}),
     r"declares weight of shape \(1000000, 1000000\) but the file stores nothing"),
    ("forged-conv", lambda t, m: forged_model(t / "f.npz", {"type": "Conv2d", "config": {
        "in_channels": 4096, "out_channels": 4096, "kernel_size": [64, 64]}}, {}),
     r"Conv2d\) declares weight of shape \(4096, 4096, 64, 64\)"),
    ("forged-batchnorm", lambda t, m: forged_model(t / "f.npz", {"type": "BatchNorm2d", "config": {
        "num_features": 10 ** 9}}, {}), r"declares running_mean of shape \(1000000000,\)"),
    ("depth-3000", lambda t, m: write_forged(t / "d.npz", deep_architecture_json(3000), {}),
     r"not valid JSON, or nested too deeply|nested deeper than 32 levels"),
    ("depth-40", lambda t, m: write_forged(t / "d.npz", deep_architecture_json(40), {}), r"nested deeper than 32 levels"),
    ("too-many-layers", _many_layers, r"more than 5 layers"),
    ("os-system-layer", lambda t, m: forged_model(t / "f.npz", {"type": "system", "config": {"command": "ls"}}, {}),
     r"unknown layer type 'system' in the saved architecture"),
    ("config-string-size", lambda t, m: forged_model(t / "f.npz", _linear_arch("10", 2), {}),
     r"Linear\) has an invalid config"),
    ("config-float16", lambda t, m: forged_model(t / "f.npz", {"type": "ReLU", "config": {"dtype": "float16"}}, {}),
     r"cannot rebuild ReLU"),
    ("architecture-list", lambda t, m: forged_model(t / "f.npz", [1, 2], {}), r"is not a \{'type': \.\.\., \.\.\.\} object"),
    ("no-config", lambda t, m: forged_model(t / "f.npz", {"type": "Linear"}, {}), r"\(Linear\) has no 'config' object"),
    ("header-not-object", lambda t, m: write_forged(t / "h.npz", "[1, 2]", {}), r"the header is not a JSON object"),
    ("header-not-json", lambda t, m: write_forged(t / "h.npz", "{nope", {}), r"the header is not valid JSON"),
    ("nan-weights", lambda t, m: _nan_model(t), r"the stored '0.weight' holds NaN or inf values"),
]


@pytest.mark.parametrize("make, match", [c[1:] for c in MODEL_FILES], ids=[c[0] for c in MODEL_FILES])
def test_bad_model_file_is_refused(tmp_path, monkeypatch, make, match):
    path = make(tmp_path, monkeypatch)
    with pytest.raises(HandgradFileError, match=match):
        hg.load(path)


def test_checkpoint_with_missing_header_entries(tmp_path):
    header = json.dumps({"format": "handgrad-checkpoint", "version": 1, "architecture": _linear_arch(3, 2)})
    path = write_forged(tmp_path / "c.npz", header, model_arrays(hg.Linear(3, 2, rng=0)))
    with pytest.raises(HandgradFileError, match=r"not a complete handgrad checkpoint .*missing"):
        hg.load_checkpoint(path)


def test_forged_checkpoint_architecture_is_checked(tmp_path):
    header = {"format": "handgrad-checkpoint", "version": 1, "architecture": _linear_arch(10 ** 6, 10 ** 6),
              "epoch": 1, "optimizer": None, "schedule": None, "rng_states": {}, "history": None, "config": None}
    path = write_forged(tmp_path / "c.npz", json.dumps(header), model_arrays(hg.Linear(3, 2, rng=0)))
    with pytest.raises(HandgradFileError, match=r"declares weight of shape \(1000000, 1000000\)"):
        hg.load_checkpoint(path)


def test_a_valid_model_still_loads_exactly(tmp_path):
    model = hg.Sequential(hg.Conv2d(1, 2, 3, rng=0), hg.BatchNorm2d(2), hg.ReLU(), hg.Flatten(),
                          hg.Linear(2 * 3 * 3, 2, rng=0), hg.UntiedBias((2,), rng=0))
    loaded = hg.load(hg.save(model, tmp_path / "m.npz"))
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(loaded.eval()(x), model.eval()(x))


# -- IDX files ---------------------------------------------------------------------
def _idx_file(tmp_path, raw, gz=False):
    path = tmp_path / ("f-idx.gz" if gz else "f-idx")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


IDX_FILES = [
    ("overflow-2**64", lambda: idx_header(0x08, (65536,) * 4) + b"\0" * 100, False,
     r"declares shape \(65536, 65536, 65536, 65536\) of uint8 \(18446744073709551636 bytes\), more than the limit"),
    ("plain-declares-more", lambda: idx_header(0x08, (1000, 28, 28)) + b"\0" * 100, False,
     r"truncated IDX file: shape \(1000, 28, 28\) of uint8 needs 784016 bytes, file has 116"),
    ("plain-declares-less", lambda: idx_header(0x08, (2,)) + b"\0" * 100, False, r"98 unexpected bytes after"),
    ("gzip-declares-1GiB", lambda: idx_header(0x08, (1024, 1024, 1024)) + b"\0" * 1000, True,
     r"\(1073741840 bytes\), more than a \d+-byte gzip file can hold"),
    ("gzip-truncated-data", lambda: idx_header(0x08, (100, 10)) + b"\0" * 10, True,
     r"truncated IDX file: shape \(100, 10\) of uint8 needs 1012 bytes"),
    ("gzip-int32-declares-over-limit", lambda: idx_header(0x0C, (2 ** 31,)) + b"\0" * 8, True,
     r"more than the limit of \d+ bytes \(handgrad.data.idx.MAX_IDX_BYTES\)"),
]


@pytest.mark.parametrize("raw, gz, match", [c[1:] for c in IDX_FILES], ids=[c[0] for c in IDX_FILES])
def test_bad_idx_file_is_refused_before_reading(tmp_path, raw, gz, match):
    with pytest.raises(IDXError, match=match):
        read_idx(_idx_file(tmp_path, raw(), gz))


def test_corrupt_gzip_stream(tmp_path):
    raw = bytearray(gzip.compress(idx_header(0x08, (64,)) + bytes(range(64))))
    raw[len(raw) // 2] ^= 0xFF
    path = tmp_path / "c.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXError, match=r"corrupt or truncated gzip stream|truncated IDX|unexpected bytes"):
        read_idx(path)


def _labels_folder(root, labels):
    folder = root / "mnist"
    folder.mkdir(parents=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((len(labels), 28, 28), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.asarray(labels))
    return folder


@pytest.mark.parametrize("labels, match", [
    (np.array([0, 1, 1009], np.int32), r"mnist has 10 classes \(labels 0..9 as stored\), but the file holds 1 "
                                       r"labels outside that range, e.g. 1009"),
    (np.array([0, 10, 11], np.uint8), r"mnist has 10 classes .*holds 2 labels outside that range, e.g. 10"),
    (np.array([0.0, 1.0], np.float32), r"expected integer labels, got float32"),
], ids=["label-1009", "label-10", "float-labels"])
def test_labels_outside_the_registry_classes(tmp_path, monkeypatch, labels, match):
    from tests.data.test_datasets import _unverified
    monkeypatch.delenv("HANDGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _unverified(monkeypatch)
    _labels_folder(tmp_path / "d", labels)
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte.gz: " + match):
        data.load("mnist", "train", data_dir=tmp_path / "d", download=False)


def test_a_subset_of_classes_still_means_the_data_sets_classes(tmp_path, monkeypatch):
    """Labels 0..5 only: loaded fine, and the class count stays the registry's 10."""
    from tests.data.test_datasets import _unverified
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _unverified(monkeypatch)
    _labels_folder(tmp_path / "d", np.arange(6, dtype=np.uint8))
    _, y = data.load("mnist", "train", data_dir=tmp_path / "d", download=False)
    assert y.max() == 5 and data.num_classes("mnist") == 10


# -- writers: atomic, orphans removed ------------------------------------------------
def test_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "history.json"
    History([{"epoch": 0, "loss": 1.0}]).to_json(path)
    old = path.read_text()
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write('{"half": ')
            raise RuntimeError("killed")
    assert path.read_text() == old
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_orphaned_temporary_files_are_removed_on_the_next_save(tmp_path):
    orphan = tmp_path / f".tmp-{_dead_pid()}-abc.npz"
    orphan.write_bytes(b"\0" * 1000)
    alive = tmp_path / f".tmp-{os.getppid()}-xyz.npz"          # a running process's: kept
    alive.write_bytes(b"\0")
    mine = tmp_path / "notes.txt"
    mine.write_text("user file")
    hg.save(tiny_model(), tmp_path / "model.npz")
    assert not orphan.exists() and alive.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "model.npz", "notes.txt"])


def test_remove_orphans_of_a_missing_folder_is_a_no_op(tmp_path):
    assert remove_orphans(tmp_path / "nowhere") == []


def test_every_run_writer_is_atomic(tmp_path, monkeypatch):
    """history.json/csv, config.json and model files all go through os.replace."""
    from handgrad.config import TrainConfig
    replaced = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(os.path.basename(b)), real(a, b)))
    h = History([{"epoch": 0, "loss": 1.0}])
    h.to_json(tmp_path / "history.json")
    h.to_csv(tmp_path / "history.csv")
    TrainConfig(dataset="shapes").to_json(tmp_path / "config.json")
    hg.save(tiny_model(), tmp_path / "model.npz")
    assert replaced == ["history.json", "history.csv", "config.json", "model.npz"]
