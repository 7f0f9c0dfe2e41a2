"""load(): look-up order, downloads through the registry, EMNIST zips, errors; real MNIST."""

import dataclasses
import hashlib
import io
import zipfile

import numpy as np
import pytest

from handgrad import data
from handgrad.data import ChecksumError, DownloadError, IDXError, registry
from handgrad.data.idx import encode_idx, write_idx

from .server import closed_port_url, serve

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No HANDGRAD_DATA, a private user cache, no system folders."""
    monkeypatch.delenv("HANDGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path


def _fake_split(folder, n, value, *, names=("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")):
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / names[0], np.full((n, 28, 28), value, np.uint8))
    write_idx(folder / names[1], np.arange(n, dtype=np.uint8) % 10)


def _unverified(monkeypatch, name="mnist", **changes):
    """Replace a registry entry by a copy without checksums (test files are not the real ones)."""
    spec = registry.DATASETS[name]
    splits = {s: tuple(dataclasses.replace(f, md5=None, raw_md5=None) for f in pair)
              for s, pair in spec.splits.items()}
    changes.setdefault("system_dirs", ())
    new = dataclasses.replace(spec, splits=splits, **changes)
    monkeypatch.setitem(registry.DATASETS, name, new)
    return new


def test_load_shapes_dtypes_and_layout(isolated, monkeypatch):
    _unverified(monkeypatch)
    _fake_split(isolated / "d" / "mnist", 12, 7)
    x, y = data.load("mnist", "train", data_dir=isolated / "d", download=False)
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == [i % 10 for i in range(12)]


@pytest.mark.parametrize("winner", ["data_dir", "env", "cache", "system"])
def test_lookup_order(isolated, monkeypatch, winner):
    order = ["data_dir", "env", "cache", "system"]
    roots = {"data_dir": isolated / "explicit", "env": isolated / "env",
             "cache": isolated / "xdg" / "handgrad", "system": isolated / "usr"}
    _unverified(monkeypatch, system_dirs=(str(roots["system"] / "mnist"),))
    monkeypatch.setenv("HANDGRAD_DATA", str(roots["env"]))
    for rank, place in enumerate(order[order.index(winner):]):   # winner and every later place
        _fake_split(roots[place] / "mnist", 3, 10 * order.index(place) + 1)
    x, _ = data.load("mnist", "train", data_dir=roots["data_dir"], download=False)
    assert x[0, 0, 0, 0] == 10 * order.index(winner) + 1


def test_uncompressed_files_are_accepted(isolated, monkeypatch):
    _unverified(monkeypatch)
    folder = isolated / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte", np.array([3, 4], np.uint8))
    _, y = data.load("mnist", "test", data_dir=isolated, download=False)
    assert y.tolist() == [3, 4]


def test_missing_offline_lists_places_and_hints(isolated, monkeypatch):
    _unverified(monkeypatch)
    with pytest.raises(FileNotFoundError, match=r"(?s)mnist train files .* not found; searched:\n"
                                                r".*nowhere/mnist \(data_dir\).*xdg/handgrad/mnist "
                                                r"\(cache\).*HANDGRAD_DATA.*shapes"):
        data.load("mnist", "train", data_dir=isolated / "nowhere", download=False)


def test_download_through_registry(isolated, monkeypatch):
    import gzip
    images = gzip.compress(encode_idx(np.full((4, 28, 28), 9, np.uint8)))
    labels = gzip.compress(encode_idx(np.array([1, 2, 3, 4], np.uint8)))
    with serve({"/m/train-images-idx3-ubyte.gz": ("ok", images),
                "/m/train-labels-idx1-ubyte.gz": ("ok", labels)}) as (url, _):
        spec = registry.MNIST
        splits = dict(spec.splits, train=(
            registry.FileSpec("train-images-idx3-ubyte.gz", hashlib.md5(images).hexdigest()),
            registry.FileSpec("train-labels-idx1-ubyte.gz", hashlib.md5(labels).hexdigest())))
        monkeypatch.setitem(registry.DATASETS, "mnist", dataclasses.replace(
            spec, splits=splits, system_dirs=(), mirrors=(closed_port_url() + "/", url + "/m/")))
        x, y = data.load("mnist", "train", progress=False)          # lands in the user cache
    assert y.tolist() == [1, 2, 3, 4] and (x == 9).all()
    cached = isolated / "xdg" / "handgrad" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == ["train-images-idx3-ubyte.gz",
                                                        "train-labels-idx1-ubyte.gz"]
    x2, _ = data.load("mnist", "train", download=False)               # found offline now
    np.testing.assert_array_equal(x2, x)


def test_download_offline_error(isolated, monkeypatch):
    _unverified(monkeypatch, mirrors=(closed_port_url() + "/",))
    with pytest.raises(DownloadError, match="could not download train-images-idx3-ubyte.gz"):
        data.load("mnist", "train", data_dir=isolated / "d", progress=False)
    assert not any((isolated / "d" / "mnist").iterdir())


def test_local_file_with_wrong_checksum_is_refused(isolated):
    folder = isolated / "fashion-mnist"
    _fake_split(folder, 2, 0)
    with pytest.raises(ChecksumError, match=r"train-images-idx3-ubyte.gz: checksum mismatch.*"
                                            r"expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d"):
        data.load("fashion-mnist", "train", data_dir=isolated, download=False)


def test_images_and_labels_of_different_length(isolated, monkeypatch):
    _unverified(monkeypatch)
    folder = isolated / "mnist"
    _fake_split(folder, 3, 0)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with pytest.raises(IDXError, match="holds 3 images but .* holds 2 labels"):
        data.load("mnist", "train", data_dir=isolated, download=False)


@pytest.mark.parametrize("name, split, match", [
    ("cifar", "train", "unknown data set 'cifar'; choose one of: mnist, fashion-mnist"),
    ("mnist", "valid", "data set 'mnist' has no split 'valid'; choose one of: train, test"),
    ("shapes", "valid", "data set 'shapes' has no split 'valid'"),
])
def test_unknown_names(name, split, match):
    with pytest.raises(ValueError, match=match):
        data.load(name, split, download=False)


def _emnist_zip(train_images, train_labels):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("gzip/emnist-digits-train-images-idx3-ubyte.gz", train_images)
        z.writestr("gzip/emnist-digits-train-labels-idx1-ubyte.gz", train_labels)
        z.writestr("gzip/emnist-letters-train-images-idx3-ubyte.gz", b"unused")
    return buf.getvalue()


def test_emnist_from_zip_is_extracted_and_transposed(isolated, monkeypatch):
    import gzip
    upright = np.zeros((2, 28, 28), np.uint8)
    upright[:, 0, :] = 255                                   # a bar along the top row
    stored = upright.transpose(0, 2, 1)                       # EMNIST stores columns first
    blob = _emnist_zip(gzip.compress(encode_idx(stored)), gzip.compress(encode_idx(np.array([4, 7], np.uint8))))
    archive = dataclasses.replace(registry.EMNIST_ZIP, file=registry.FileSpec(
        "gzip.zip", hashlib.md5(blob).hexdigest()))
    monkeypatch.setitem(registry.DATASETS, "emnist-digits",
                        dataclasses.replace(registry.EMNIST_DIGITS, archive=archive))
    (isolated / "emnist").mkdir()
    (isolated / "emnist" / "gzip.zip").write_bytes(blob)
    status = {(s.name, s.split): s.status for s in data.available(isolated)}
    assert status["emnist-digits", "train"] == "archive"
    x, y = data.load("emnist-digits", "train", data_dir=isolated, download=False)
    np.testing.assert_array_equal(x[:, 0], upright)
    assert y.tolist() == [4, 7]
    assert (isolated / "emnist" / "emnist-digits-train-images-idx3-ubyte.gz").is_file()
    assert sorted(p.name for p in (isolated / "emnist").iterdir() if p.name.startswith(".")) == []


def test_emnist_zip_with_bad_checksum(isolated):
    (isolated / "emnist").mkdir()
    (isolated / "emnist" / "gzip.zip").write_bytes(b"not the EMNIST archive")
    with pytest.raises(ChecksumError, match="gzip.zip: checksum mismatch"):
        data.load("emnist-digits", "train", data_dir=isolated, download=False)


def test_emnist_letters_labels_start_at_zero(isolated, monkeypatch):
    spec = _unverified(monkeypatch, "emnist-letters")
    folder = isolated / "emnist"
    names = tuple(f.name for f in spec.splits["test"])
    _fake_split(folder, 3, 0, names=names)
    write_idx(folder / names[1], np.array([1, 2, 26], np.uint8))
    _, y = data.load("emnist-letters", "test", data_dir=isolated, download=False)
    assert y.tolist() == [0, 1, 25]


def test_available_lists_every_dataset(isolated, monkeypatch):
    _unverified(monkeypatch)
    _fake_split(isolated / "mnist", 2, 0)
    records = {(s.name, s.split): s for s in data.available(isolated)}
    assert set(registry.DATASETS) | {"shapes"} == {name for name, _ in records}
    found = records["mnist", "train"]
    assert (found.status, found.source, found.location) == ("found", "data_dir", isolated / "mnist")
    assert records["mnist", "test"].status == "missing"
    assert records["shapes", "test"].status == "generated"


# ---- the real MNIST files (../shared/data/mnist), skipped where absent ----------------------

def _as_root(mnist_dir, tmp_path):
    """A data root whose mnist/ folder is the shared MNIST folder, whatever its name."""
    if mnist_dir.name == "mnist":
        return mnist_dir.parent
    (tmp_path / "mnist").symlink_to(mnist_dir)
    return tmp_path


def test_real_mnist(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HANDGRAD_DATA", str(_as_root(mnist_dir, tmp_path)))
    x, y = data.load("mnist", "train", download=False)
    xt, yt = data.load("mnist", "test", download=False)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == xt.dtype == np.uint8 and y.dtype == yt.dtype == np.int64
    assert np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y[:5].tolist() == [5, 0, 4, 1, 9]


def test_real_mnist_checksums(mnist_dir, tmp_path):
    for _, _, f in registry.MNIST.files():
        assert data.md5sum(mnist_dir / f.name) == f.md5
    root = _as_root(mnist_dir, tmp_path)
    statuses = [s.status for s in data.available(root, verify=True) if s.name == "mnist"]
    assert statuses == ["verified", "verified"]


def test_system_folder_is_trusted_to_the_package_manager(isolated, monkeypatch):
    # Debian's dataset-fashion-mnist recompresses the .gz files: same images, other md5
    system = isolated / "usr" / "share" / "datasets" / "fashion-mnist"
    _fake_split(system, 2, 5)
    monkeypatch.setitem(registry.DATASETS, "fashion-mnist", dataclasses.replace(
        registry.FASHION_MNIST, system_dirs=(str(system),)))
    x, _ = data.load("fashion-mnist", "train", download=False)
    assert (x == 5).all()
    status = {(s.name, s.split): s for s in data.available(verify=True)}["fashion-mnist", "train"]
    assert (status.status, status.source, status.location) == ("found", "system", system)


# -- --data-dir: the folder holding <name>/, or the folder holding the files ---------------
def test_data_dir_may_hold_the_files_themselves(isolated, monkeypatch):
    _unverified(monkeypatch)
    _fake_split(isolated / "downloads", 4, 5)                    # no mnist/ folder in between
    x, _ = data.load("mnist", "train", data_dir=isolated / "downloads", download=False)
    assert x.shape == (4, 1, 28, 28) and (x == 5).all()


def test_handgrad_data_may_hold_the_files_themselves(isolated, monkeypatch):
    _unverified(monkeypatch)
    _fake_split(isolated / "downloads", 4, 6)
    monkeypatch.setenv("HANDGRAD_DATA", str(isolated / "downloads"))
    x, _ = data.load("mnist", "train", download=False)
    assert (x == 6).all()


def test_name_folder_comes_before_the_files_beside_it(isolated, monkeypatch):
    _unverified(monkeypatch)
    _fake_split(isolated / "d", 2, 1)
    _fake_split(isolated / "d" / "mnist", 2, 2)
    x, _ = data.load("mnist", "train", data_dir=isolated / "d", download=False)
    assert (x == 2).all()


def test_files_of_another_data_set_are_skipped_and_said(isolated):
    # fake files under MNIST's (and KMNIST's) names: not KMNIST's checksums, so not taken for it
    _fake_split(isolated / "d", 2, 0)
    with pytest.raises(FileNotFoundError, match=r"(?s)kmnist train files .* not found; "
                                                r"searched:\n  .*d/kmnist \(data_dir\)\n"
                                                r"  .*d \(data_dir, files in it\)\n.*skipped:\n"
                                                r"  .*d: train-images-idx3-ubyte.gz, "
                                                r"train-labels-idx1-ubyte.gz there are not this "
                                                r"data set's \(md5 differs\)"):
        data.load("kmnist", "train", data_dir=isolated / "d", download=False)
    assert [s.status for s in data.available(isolated / "d") if s.name == "kmnist"] == \
        ["missing", "missing"]


def test_failed_download_lists_the_places_searched(isolated, monkeypatch):
    _unverified(monkeypatch, mirrors=(closed_port_url() + "/",))
    with pytest.raises(DownloadError, match=r"(?s)mnist train files .* not found; searched:\n"
                                            r".*d/mnist \(data_dir\).*could not download"):
        data.load("mnist", "train", data_dir=isolated / "d", progress=False)


def test_real_mnist_from_the_folder_holding_its_files(mnist_dir, isolated):
    x, y = data.load("mnist", "test", data_dir=mnist_dir, download=False)
    assert x.shape == (10000, 1, 28, 28) and len(y) == 10000
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-"
                                                r"ubyte.gz there are not this data set's"):
        data.load("kmnist", "test", data_dir=mnist_dir, download=False)
