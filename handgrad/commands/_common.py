"""Helpers shared by the command modules: error exits, reading model files and images as data."""

import os
import sys

import numpy as np


class CommandError(Exception):
    """A user-facing error of a command: printed as ``handgrad CMD: error: MESSAGE``, exit status 2."""


def report(command, error):
    """Print ``error`` for ``command`` on stderr and return the exit status 2."""
    print(f"handgrad {command}: error: {error}", file=sys.stderr)
    return 2


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
