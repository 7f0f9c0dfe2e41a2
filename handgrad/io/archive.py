"""One handgrad file: a NumPy ``.npz`` archive holding a JSON header and named arrays.

Layout of every file written here::

    __handgrad__   0-d unicode array: JSON header {"format", "version", ...}
    __sha256__     0-d unicode array: hex digest of everything else (see :func:`digest`)
    <name>         one array per parameter, buffer or optimizer state entry

Nothing is pickled: the header is a string array and :func:`read_archive` opens the
file with ``allow_pickle=False``. Writes go to a temporary file in the target's folder
that is then renamed over the target (:func:`os.replace` is atomic), so a crash never
leaves a half-written file in place.
"""

import hashlib
import json
import os
import tempfile
import zipfile

import numpy as np

from .._files import default_file_mode

FORMAT_VERSION = 1
HEADER_KEY = "__handgrad__"
DIGEST_KEY = "__sha256__"


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
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        os.fchmod(fd, default_file_mode())
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def read_archive(path, expected_format):
    """Read ``(header, arrays)`` from ``path``, checking the format name, version and digest."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    what = f"{path!r} is not a handgrad {expected_format.replace('handgrad-', '')} file"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise HandgradFileError(f"{what} (could not read it as an .npz archive: {e})") from e
    if HEADER_KEY not in arrays:
        raise HandgradFileError(f"{what} (no {HEADER_KEY!r} header entry)")
    header_json = str(arrays.pop(HEADER_KEY))
    stored_digest = str(arrays.pop(DIGEST_KEY, ""))
    try:
        header = json.loads(header_json)
    except json.JSONDecodeError as e:
        raise HandgradFileError(f"{what} (the header is not valid JSON)") from e
    if header.get("format") != expected_format:
        raise HandgradFileError(f"{what} (it holds format {header.get('format')!r})")
    if header.get("version") != FORMAT_VERSION:
        raise HandgradFileError(
            f"{path!r} has handgrad file version {header.get('version')!r}; "
            f"this handgrad reads version {FORMAT_VERSION}")
    if digest(header_json, arrays) != stored_digest:
        raise HandgradFileError(f"{path!r} is corrupted: its sha256 does not match the stored one")
    return header, arrays
