"""IDX reading and writing: round trips for every element type, and every malformed file."""

import gzip

import numpy as np
import pytest

from handgrad.data import IDXError, read_idx, write_idx
from handgrad.data.idx import encode_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _random(dtype, shape, rng):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2)], ids=["1d", "3d", "4d"])
def test_round_trip(tmp_path, rng, dtype, shape, compress):
    x = _random(dtype, shape, rng)
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    write_idx(path, x)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    y = read_idx(path)
    assert y.dtype == np.dtype(dtype) and y.dtype.isnative
    np.testing.assert_array_equal(y, x)
    assert list(tmp_path.iterdir()) == [path]      # no temporary file left


def test_header_layout_is_big_endian():
    data = encode_idx(np.array([[1, 2, 3]], np.int16))
    assert data[:4] == b"\x00\x00\x0b\x02"
    assert data[4:12] == b"\x00\x00\x00\x01\x00\x00\x00\x03"
    assert data[12:] == b"\x00\x01\x00\x02\x00\x03"


def _write(tmp_path, data, name="bad-idx3-ubyte"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


GOOD = encode_idx(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize("data, match", [
    (GOOD[:3], "truncated IDX file: 3 bytes"),
    (GOOD[:10], "truncated IDX file: header needs 16 bytes"),
    (GOOD[:-1], r"truncated IDX file: shape \(2, 3, 4\) of uint8 needs 40 bytes, file has 39"),
    (GOOD + b"\x00\x00", "2 unexpected bytes after the data"),
    (b"\x01" + GOOD[1:], "not an IDX file: magic number starts with 0x0100"),
    (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX element type 0x0A"),
    (GOOD[:3] + b"\x00" + GOOD[4:], "declares 0 dimensions"),
], ids=["short-header", "short-dims", "truncated-data", "trailing-bytes", "bad-magic",
        "bad-type", "zero-dims"])
def test_malformed_file_names_the_file(tmp_path, data, match):
    path = _write(tmp_path, data)
    with pytest.raises(IDXError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    data = gzip.compress(GOOD)
    path = _write(tmp_path, data[: len(data) // 2], "x-idx3-ubyte.gz")
    with pytest.raises(IDXError, match="x-idx3-ubyte.gz: corrupt or truncated gzip stream"):
        read_idx(path)


def test_mislabelled_file_wrong_rank(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros(5, np.uint8))                      # a labels file under an images name
    with pytest.raises(IDXError, match=r"expected a 3-dimensional IDX file, got shape \(5,\)"):
        read_idx(path, ndim=3)


@pytest.mark.parametrize("array, error, match", [
    (np.zeros(3, np.int64), TypeError, "IDX cannot store dtype int64"),
    (np.zeros(3, np.uint16), TypeError, "IDX cannot store dtype uint16"),
    (np.float32(1.0), ValueError, "IDX stores 1 to 255 dimensions"),
], ids=["int64", "uint16", "scalar"])
def test_write_rejects_unstorable(tmp_path, array, error, match):
    with pytest.raises(error, match=match):
        write_idx(tmp_path / "x.idx", array)
    assert list(tmp_path.iterdir()) == []
