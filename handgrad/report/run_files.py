"""A run folder's saved files, read back for the report (and the one file the report adds).

``handgrad train`` writes ``config.json``, ``history.json`` (epoch records and the loss and
learning rate of every step), ``metrics.json``, ``model.npz`` and :data:`TEST_OUTPUTS`;
everything the report draws comes from these, so ``handgrad report RUN_DIR`` redraws an old
run without its data set. A file that is missing (an older run) leaves out what needs it.
"""

import json
import os
from dataclasses import dataclass, field

import numpy as np

from .._files import atomic_open

#: test-set figures the pictures need: labels, predictions, the wrong images, one probe image
TEST_OUTPUTS = "test_outputs.npz"


def save_test_outputs(run_dir, images, outputs, y_true=None, class_names=None, max_wrong=25):
    """Write :data:`TEST_OUTPUTS` (atomically; plain arrays, no pickle) and return its path.

    Parameters
    ----------
    images : array (N, C, H, W)
        The test images the model saw (floats in [0, 1]).
    outputs : array (N, K)
        The model's outputs for them.
    y_true : array (N,) of int, optional
        Class labels (classification); then the predictions ``outputs.argmax(1)``, the first
        ``max_wrong`` misclassified images and their positions are kept too.
    class_names : sequence of str, optional
    """
    arrays = {"probe_image": np.asarray(images[0], np.float32), "probe_index": np.int64(0)}
    if y_true is not None:
        y_pred = np.asarray(outputs).argmax(axis=1)
        wrong = np.flatnonzero(y_pred != y_true)[:max_wrong]
        arrays.update(y_true=np.asarray(y_true, np.int64), y_pred=y_pred.astype(np.int64),
                      wrong_index=wrong.astype(np.int64),
                      wrong_images=np.asarray(images[wrong], np.float32).reshape(-1, *images.shape[1:]))
    if class_names:
        arrays["class_names"] = np.array([str(c) for c in class_names])
    path = os.path.join(run_dir, TEST_OUTPUTS)
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


@dataclass
class RunFiles:
    """What a run folder holds; None where a file is missing. ``notes`` says what was missing."""
    path: str
    config: dict | None = None
    history: object = None
    metrics: dict | None = None
    model: object = None
    test: dict | None = None
    notes: list = field(default_factory=list)

    @property
    def name(self):
        return os.path.basename(os.path.abspath(self.path))

    @property
    def class_names(self):
        if self.test is not None and "class_names" in self.test:
            return [str(c) for c in self.test["class_names"]]
        return None


def _json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_run(run_dir):
    """Read every saved file of a run folder that is there.

    Raises
    ------
    FileNotFoundError
        ``run_dir`` is not a folder, or holds none of a run's files.
    ValueError
        A file is there but unreadable (the message names it).
    """
    from ..io import load
    from ..training import History

    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"no such run folder: {run_dir!r}")
    run, here = RunFiles(run_dir), set(os.listdir(run_dir))
    if not here & {"config.json", "history.json", "history.csv", "model.npz"}:
        raise FileNotFoundError(f"{run_dir!r} is not a run folder: it holds none of config.json, "
                                f"history.json, history.csv, model.npz")
    readers = {
        "config.json": lambda p: setattr(run, "config", _json(p)),
        "history.json": lambda p: setattr(run, "history", History.from_json(p)),
        "metrics.json": lambda p: setattr(run, "metrics", _json(p)),
        "model.npz": lambda p: setattr(run, "model", load(p)),
        TEST_OUTPUTS: lambda p: setattr(run, "test", dict(np.load(p, allow_pickle=False))),
    }
    for name, read in readers.items():
        path = os.path.join(run_dir, name)
        if name not in here:
            if not (name == "history.json" and "history.csv" in here):
                run.notes.append(f"{name} is missing: what needs it is left out")
            continue
        try:
            read(path)
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"cannot read {path!r}: {e}") from e
    if run.history is None and "history.csv" in here:
        run.history = History.from_csv(os.path.join(run_dir, "history.csv"))
    return run
