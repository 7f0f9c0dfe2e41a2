"""File helpers shared by every writer of a run: atomic replacement and orphan clean-up.

Every file handgrad writes (models, checkpoints, JSON, CSV, PNG, downloads) goes first to a
temporary file in the target's folder, is flushed to disk, and is then renamed over the
target with :func:`os.replace`, which is atomic on one file system: a reader (or a run
killed with ``kill -9`` at any moment) sees either the old file or the new one, never half
of one.

Temporary files are named ``.tmp-<pid>-<random><suffix>``. A process killed between
creating one and renaming it leaves it behind; :func:`remove_orphans` (called before each
write into a folder) deletes those whose process no longer runs.
"""

import contextlib
import os
import re
import tempfile

_TMP_PREFIX = ".tmp-"
_TMP_NAME = re.compile(r"^\.tmp-(\d+)-.+")


def default_file_mode():
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 minus the umask).

    ``tempfile.mkstemp`` creates files readable by their owner only; files that are renamed
    into place as the final result get the usual mode instead.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # exists, owned by someone else
        return True
    return True


def remove_orphans(folder):
    """Delete ``.tmp-<pid>-*`` files in ``folder`` left by processes that no longer run.

    Returns the names removed. Files of running processes (including this one) are kept.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TMP_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
                removed.append(name)
    return removed


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    For writers that insist on a file name (``np.savez``, ``savefig``): write to the yielded
    path, and on leaving the block it is fsynced and renamed over ``path``. On any error
    (Ctrl-C included) the temporary file is removed and ``path`` is left untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_orphans(folder)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, default_file_mode())
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """``open(path, mode)`` whose content replaces ``path`` atomically when the block ends.

    Examples
    --------
    >>> import json, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.json")
    >>> with atomic_open(p) as f:
    ...     json.dump({"ok": 1}, f)
    >>> open(p).read()
    '{"ok": 1}'
    """
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open writes whole files; expected mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path, suffix=os.path.splitext(os.fspath(path))[1]) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
