"""File helpers shared by the writers of models, checkpoints and downloads."""

import os
import tempfile
from contextlib import contextmanager


def default_file_mode():
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 minus the umask).

    ``tempfile.mkstemp`` creates files readable by their owner only; files that are renamed
    into place as the final result get the usual mode instead.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_file(path, mode="w", **open_kwargs):
    """Open a hidden temporary file beside ``path``; on a clean exit it replaces ``path``.

    The bytes reach ``path`` all at once (:func:`os.replace` is atomic on one file system) or
    not at all: an exception, or Ctrl-C, removes the temporary file and leaves any old
    ``path`` as it was. ``mode`` is "w" or "wb"; ``open_kwargs`` go to :func:`open`.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file expected mode 'w' or 'wb', got {mode!r}")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    try:
        os.fchmod(fd, default_file_mode())
        with open(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
