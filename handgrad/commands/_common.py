"""Helpers shared by the command modules: error exits, reading model files and images as data."""

import os
import sys

import numpy as np


class CommandError(Exception):
    """A user-facing error of a command: printed as ``handgrad CMD: error: MESSAGE``.

    ``status`` is the exit status (2; 1 for a diverged training run).
    """

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def report(command, error):
    """Print ``error`` for ``command`` on stderr and return its exit status (2 by default)."""
    print(f"handgrad {command}: error: {one_line(error)}", file=sys.stderr)
    return getattr(error, "status", 2)


def one_line(error):
    """The message of ``error`` on one line (lists and hints joined with spaces)."""
    text = str(error) if str(error) else type(error).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


#: exceptions a user can cause, besides CommandError: bad values and types (from the API's
#: validation), files (missing, unreadable, corrupt, forged, no network: OSError, and
#: IDXError / HandgradFileError / ChecksumError which are ValueErrors), memory, a structure
#: nested too deeply
_USER_ERRORS = (ValueError, TypeError, OSError, MemoryError, RecursionError)


def user_error(e):
    """``(exit status, one-line message)`` for an error a user can cause, ``(None, None)`` for a bug.

    A diverged run (:class:`handgrad.training.TrainingError`) exits with 1, every other user
    error with 2.
    """
    from ..training import TrainingError
    if isinstance(e, CommandError):
        return e.status, one_line(e)
    if isinstance(e, TrainingError):
        return 1, one_line(e)
    if isinstance(e, MemoryError):
        return 2, (f"not enough memory ({one_line(e)}); try a smaller --batch-size, --limit or "
                   f"input size")
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        return 2, f"{e.strerror}: {e.filename!r}"
    if isinstance(e, _USER_ERRORS):
        return 2, one_line(e)
    return None, None


#: regression columns of the shapes data set that handgrad train fits: count, cos k*angle, sin k*angle
SHAPES_TARGETS = 3


def images_to_float(x, dtype=np.float32):
    """uint8 images in [0, 255] -> floats in [0, 1] (:func:`handgrad.data.to_float`), for every command."""
    from ..data import to_float
    return to_float(np.asarray(x), np.dtype(dtype).type)


def load_model_file(path):
    """``handgrad.load(path)`` with the errors a user can cause turned into CommandErrors."""
    from ..io import load

    if not os.path.exists(path):
        raise CommandError(f"no such model file: {path!r}")
    if os.path.isdir(path):
        candidate = os.path.join(path, "model.npz")
        if not os.path.exists(candidate):
            raise CommandError(f"{path!r} is a folder without a model.npz")
        path = candidate
    try:
        return load(path)
    except (ValueError, OSError, KeyError) as e:   # HandgradFileError is a ValueError
        raise CommandError(f"cannot load {path!r}: {e}") from e


def load_dataset(name, split, data_dir=None, dtype=np.float32, limit=None):
    """``(x, y)`` of a data set split, images scaled to [0, 1] floats; errors as CommandErrors.

    For the synthetic ``shapes`` set, ``y`` holds the first :data:`SHAPES_TARGETS` regression
    columns of :mod:`handgrad.data.synthetic_shapes` (count, and the rotation as cos and sin of k*angle)
    and ``limit`` images are generated.
    """
    from .. import data

    try:
        if name == "shapes":
            x, y = data.load("shapes", split, target="regression", n=limit)
            y = np.ascontiguousarray(y[:, :SHAPES_TARGETS])
        else:
            x, y = data.load(name, split, data_dir=data_dir)
            x, y = (x[:limit], y[:limit]) if limit is not None else (x, y)
    except FileNotFoundError as e:
        raise CommandError(f"{e}") from e
    return images_to_float(x, dtype), y
