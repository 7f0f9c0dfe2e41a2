"""One handgrad file: a NumPy ``.npz`` archive holding a JSON header and named arrays.

Layout of every file written here::

    __handgrad__   0-d unicode array: JSON header {"format", "version", ...}
    __sha256__     0-d unicode array: hex digest of everything else (see :func:`digest`)
    <name>         one array per parameter, buffer or optimizer state entry

Nothing is pickled: the header is a string array and :func:`read_archive` opens the
file with ``allow_pickle=False``. Writes go to a temporary file in the target's folder
that is then renamed over the target (:func:`os.replace` is atomic), so a crash never
leaves a half-written file in place (:mod:`handgrad._files`).

A file is checked before anything in it is inflated or allocated (:func:`check_members`):
at most :data:`MAX_MEMBERS` members, together at most :data:`MAX_INFLATED_BYTES` bytes as
declared by the zip directory (reading stops there: a zip bomb is refused before it
inflates), and each member an ``.npy`` array without objects whose header's shape and dtype
account exactly for the member's declared size (a forged shape cannot allocate more).
"""

import hashlib
import json
import os
import struct
import zipfile
import zlib

import numpy as np

from .._files import atomic_path

FORMAT_VERSION = 1
HEADER_KEY = "__handgrad__"
DIGEST_KEY = "__sha256__"

#: limits on a file read by :func:`read_archive` (raise them, e.g.
#: ``handgrad.io.archive.MAX_INFLATED_BYTES = 8 << 30``, to read a bigger model)
MAX_MEMBERS = 10_000
MAX_INFLATED_BYTES = 2 << 30
#: the longest .npy header read (NumPy's own default limit)
MAX_NPY_HEADER = 10_000

#: what reading a corrupt or forged zip/npy may raise, all turned into HandgradFileError
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError,
                OSError, EOFError, zlib.error, struct.error, KeyError, UnicodeDecodeError,
                RuntimeError, TypeError, SyntaxError, OverflowError)


class HandgradFileError(ValueError):
    """The file is not a handgrad file, is corrupted, or has an unsupported version."""


def digest(header_json, arrays):
    """sha256 over the header text and each array's name, dtype, shape and bytes (sorted by name)."""
    h = hashlib.sha256(header_json.encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode("utf-8"))
        h.update(a.tobytes())
    return h.hexdigest()


def write_archive(path, header, arrays):
    """Atomically write ``header`` (a JSON-able dict) and ``arrays`` (name -> ndarray) to ``path``."""
    path = os.fspath(path)
    for reserved in (HEADER_KEY, DIGEST_KEY):
        if reserved in arrays:
            raise ValueError(f"array name {reserved!r} is reserved for the file header")
    header = dict(header, version=FORMAT_VERSION)
    try:
        header_json = json.dumps(header, sort_keys=True)
    except TypeError as e:
        raise TypeError(f"cannot save the file header as JSON ({e}); configs must hold "
                        f"only numbers, strings, lists and dicts") from e
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    payload = dict(arrays)
    payload[HEADER_KEY] = np.array(header_json)
    payload[DIGEST_KEY] = np.array(digest(header_json, arrays))
    with atomic_path(path, suffix=".npz") as tmp:       # .tmp-<pid>-*.npz, renamed into place
        with open(tmp, "wb") as f:
            np.savez(f, **payload)
    return path


def _npy_size(member, info):
    """``(shape, dtype)`` from the .npy header of an open zip member, checked against its size."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_NPY_HEADER)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_NPY_HEADER)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError("it holds Python objects (pickled data is never loaded)")
    count = 1
    for n in shape:                                          # Python ints: no overflow
        count *= int(n)
    nbytes = member.tell() + count * dtype.itemsize
    if nbytes != info.file_size:
        raise ValueError(f"its header declares shape {tuple(shape)} of {dtype} ({nbytes} bytes with "
                         f"the header) but the member holds {info.file_size} bytes")
    return shape, dtype


def check_members(path, what):
    """Check the zip directory and every .npy header of ``path`` before anything is inflated.

    Raises HandgradFileError naming the limit or the member at fault.
    """
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise HandgradFileError(f"{what} ({len(infos)} members; the limit is {MAX_MEMBERS}, "
                                    f"handgrad.io.archive.MAX_MEMBERS)")
        total = sum(i.file_size for i in infos)
        if total > MAX_INFLATED_BYTES:
            raise HandgradFileError(
                f"{path!r} would inflate to {total} bytes, more than the limit of "
                f"{MAX_INFLATED_BYTES} bytes (handgrad.io.archive.MAX_INFLATED_BYTES); not read")
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise HandgradFileError(f"{what} (member {info.filename!r} is not an .npy array)")
            with zf.open(info) as member:
                try:
                    _npy_size(member, info)
                except ValueError as e:
                    raise HandgradFileError(f"{what} (member {info.filename!r}: {e})") from e


def read_archive(path, expected_format):
    """Read ``(header, arrays)`` from ``path``, checking the format name, version and digest.

    Raises FileNotFoundError for a missing file and :class:`HandgradFileError` for anything
    else wrong with it: not a zip, corrupt, forged sizes, over the limits (module docstring),
    another format or version, a digest that does not match.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    what = f"{path!r} is not a handgrad {expected_format.replace('handgrad-', '')} file"
    try:
        check_members(path, what)
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except HandgradFileError:
        raise
    except _READ_ERRORS as e:
        raise HandgradFileError(f"{what} (could not read it as an .npz archive: {e})") from e
    if HEADER_KEY not in arrays:
        raise HandgradFileError(f"{what} (no {HEADER_KEY!r} header entry)")
    header, digest_entry = arrays.pop(HEADER_KEY), arrays.pop(DIGEST_KEY, np.array(""))
    if header.dtype.kind != "U" or header.ndim != 0 or digest_entry.dtype.kind != "U":
        raise HandgradFileError(f"{what} (the header entry is not a string)")
    header_json, stored_digest = str(header), str(digest_entry)
    try:
        header = json.loads(header_json)
    except (json.JSONDecodeError, RecursionError) as e:
        raise HandgradFileError(f"{what} (the header is not valid JSON, or nested too deeply)") from e
    if not isinstance(header, dict):
        raise HandgradFileError(f"{what} (the header is not a JSON object)")
    if header.get("format") != expected_format:
        raise HandgradFileError(f"{what} (it holds format {header.get('format')!r})")
    if header.get("version") != FORMAT_VERSION:
        raise HandgradFileError(
            f"{path!r} has handgrad file version {header.get('version')!r}; "
            f"this handgrad reads version {FORMAT_VERSION}")
    if digest(header_json, arrays) != stored_digest:
        raise HandgradFileError(f"{path!r} is corrupted: its sha256 does not match the stored one")
    return header, arrays
