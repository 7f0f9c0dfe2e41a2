"""The IDX file format (the format MNIST is distributed in): read and write, plain or gzip.

Layout of an IDX file, all integers big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type code (see ``IDX_TYPES``)
    byte  3     number of dimensions D (1..255)
    4*D bytes   the size of each dimension, uint32
    the rest    prod(sizes) elements, row-major, big-endian

Any inconsistency (bad magic bytes, unknown type code, too few or too many data bytes, a
broken gzip stream) raises :class:`IDXError` naming the file.
"""

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

# type code -> big-endian element dtype, as the format defines them
IDX_TYPES = {
    0x08: np.dtype(">u1"),   # unsigned byte
    0x09: np.dtype(">i1"),   # signed byte
    0x0B: np.dtype(">i2"),   # short
    0x0C: np.dtype(">i4"),   # int
    0x0D: np.dtype(">f4"),   # float
    0x0E: np.dtype(">f8"),   # double
}
_CODE_OF = {dt.newbyteorder("=").str[1:]: code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a well-formed IDX file (truncated, corrupt or mislabelled)."""


#: the most data bytes an IDX file may declare (the biggest EMNIST split holds ~550 MB)
MAX_IDX_BYTES = 4 << 30
#: deflate cannot expand a byte to more than ~1032; a gzip file declaring more is forged
_MAX_GZIP_RATIO = 1100


def _parse_header(head, name):
    """``(dtype, ndim)`` from the first 4 bytes, or IDXError."""
    if len(head) < 4:
        raise IDXError(f"{name}: truncated IDX file: {len(head)} bytes, shorter than the 4-byte header")
    zero0, zero1, code, ndim = head[:4]
    if zero0 != 0 or zero1 != 0:
        raise IDXError(f"{name}: not an IDX file: magic number starts with "
                       f"0x{zero0:02x}{zero1:02x}, expected 0x0000")
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise IDXError(f"{name}: unknown IDX element type 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    return IDX_TYPES[code], ndim


def _declared_size(head, name):
    """``(shape, dtype, header bytes, total bytes)`` of the file whose header is ``head``.

    The total is computed with Python integers: dimensions multiplying past 2**64 cannot wrap.
    """
    dtype, ndim = _parse_header(head, name)
    header = 4 + 4 * ndim
    if len(head) < header:
        raise IDXError(f"{name}: truncated IDX file: header needs {header} bytes for {ndim} "
                       f"dimensions, file has {len(head)}")
    shape = struct.unpack(f">{ndim}I", head[4:header])
    return shape, dtype, header, header + math.prod(shape) * dtype.itemsize


def parse_idx(data, name="<bytes>"):
    """Decode the bytes of an (uncompressed) IDX file into an array in native byte order.

    Parameters
    ----------
    data : bytes
    name : str
        Used in error messages (normally the file name).

    Returns
    -------
    numpy.ndarray
        Shape given by the header; dtype uint8, int8, int16, int32, float32 or float64.
    """
    shape, dtype, header, expected = _declared_size(data, name)
    if len(data) < expected:
        raise IDXError(f"{name}: truncated IDX file: shape {shape} of {dtype.name} needs "
                       f"{expected} bytes, file has {len(data)}")
    if len(data) > expected:
        raise IDXError(f"{name}: {len(data) - expected} unexpected bytes after the data of shape "
                       f"{shape}; the header does not match the content")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))   # native order, writable copy


def _read_checked(stream, name, file_size, compressed):
    """The bytes of an IDX file from ``stream``, reading no more than its header declares.

    The declared size is checked before the data is read: against the file's size for a
    plain file, against what gzip could hold and :data:`MAX_IDX_BYTES` for a compressed one.
    """
    head = stream.read(4)
    _, ndim = _parse_header(head, name)
    head += stream.read(4 * ndim)
    shape, dtype, _, expected = _declared_size(head, name)
    what = f"{name}: the header declares shape {shape} of {dtype.name} ({expected} bytes)"
    if expected > MAX_IDX_BYTES:
        raise IDXError(f"{what}, more than the limit of {MAX_IDX_BYTES} bytes "
                       f"(handgrad.data.idx.MAX_IDX_BYTES)")
    if not compressed and expected > file_size:
        raise IDXError(f"{name}: truncated IDX file: shape {shape} of {dtype.name} needs "
                       f"{expected} bytes, file has {file_size}")
    if not compressed and expected < file_size:
        raise IDXError(f"{name}: {file_size - expected} unexpected bytes after the data of shape "
                       f"{shape}; the header does not match the content")
    if compressed and expected > _MAX_GZIP_RATIO * file_size + 4096:
        raise IDXError(f"{what}, more than a {file_size}-byte gzip file can hold: the file is "
                       f"corrupt or forged")
    rest = stream.read(expected - len(head))
    return head + rest + stream.read(1)            # one byte more: parse_idx reports extra data


def read_idx(path, *, ndim=None):
    """Read an IDX file (gzip-compressed or plain, detected from its first bytes).

    The header is checked before the data is read, and no more bytes than it declares
    are ever inflated (see :func:`_read_checked`); any inconsistency is an :class:`IDXError`.

    Parameters
    ----------
    path : str or os.PathLike
    ndim : int, optional
        Required number of dimensions (3 for images, 1 for labels): a mislabelled file, such as
        a labels file passed as images, is then an :class:`IDXError`.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte.gz")
    >>> write_idx(p, np.arange(5, dtype=np.uint8))
    >>> read_idx(p)
    array([0, 1, 2, 3, 4], dtype=uint8)
    """
    path = Path(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if compressed:
            try:
                with gzip.GzipFile(fileobj=raw) as stream:
                    data = _read_checked(stream, str(path), size, True)
            except (EOFError, OSError, zlib.error) as e:
                raise IDXError(f"{path}: corrupt or truncated gzip stream ({e}); delete the file and "
                               f"download it again") from e
        else:
            data = _read_checked(raw, str(path), size, False)
    arr = parse_idx(data, str(path))
    if ndim is not None and arr.ndim != ndim:
        raise IDXError(f"{path}: expected a {ndim}-dimensional IDX file, got shape {arr.shape}; "
                       f"is it the right file (images have 3 dimensions, labels 1)?")
    return arr


def encode_idx(array):
    """Return the bytes of an uncompressed IDX file holding ``array``."""
    arr = np.asarray(array)
    key = arr.dtype.newbyteorder("=").str[1:]
    if key not in _CODE_OF:
        allowed = ", ".join(dt.newbyteorder("=").name for dt in IDX_TYPES.values())
        raise TypeError(f"IDX cannot store dtype {arr.dtype}; allowed: {allowed}")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got an array of shape {arr.shape}")
    code = _CODE_OF[key]
    header = struct.pack(f">BBBB{arr.ndim}I", 0, 0, code, arr.ndim, *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path, array, *, compress=None):
    """Write ``array`` as an IDX file, atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    path : str or os.PathLike
    array : numpy.ndarray
        uint8, int8, int16, int32, float32 or float64.
    compress : bool, optional
        gzip the file; by default when ``path`` ends with ``.gz``.
    """
    path = Path(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, compresslevel=6, mtime=0)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
