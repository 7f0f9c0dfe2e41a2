"""History: what happened during training, epoch by epoch (and step by step where cheap)."""

import csv
import json
import math
import os

from .._files import atomic_open


class History:
    """Per-epoch records (``loss``, metrics, ``val_*``, ``lr``, ``time``) and per-step ``loss``/``lr``.

    ``history["val_loss"]`` is the list of that entry over epochs (None where missing).

    Examples
    --------
    >>> h = History()
    >>> h.append_epoch({"epoch": 0, "loss": 0.5, "lr": 0.1})
    >>> h.append_epoch({"epoch": 1, "loss": 0.25, "lr": 0.1})
    >>> h["loss"], h.best("loss")
    ([0.5, 0.25], (1, 0.25))
    """

    def __init__(self, epochs=None, steps=None):
        self.epochs = [dict(r) for r in (epochs or [])]
        self.steps = [dict(r) for r in (steps or [])]

    # -- recording -----------------------------------------------------------
    def append_epoch(self, record):
        self.epochs.append(dict(record))

    def append_step(self, record):
        self.steps.append(dict(record))

    # -- reading -------------------------------------------------------------
    def keys(self):
        """Entry names in first-seen order."""
        seen = {}
        for r in self.epochs:
            seen.update(dict.fromkeys(r))
        return list(seen)

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(f"History has no entry {key!r}; it has {self.keys()}")
        return [r.get(key) for r in self.epochs]

    def __contains__(self, key):
        return key in self.keys()

    def __len__(self):
        return len(self.epochs)

    def best(self, monitor, mode="min"):
        """``(epoch index, value)`` of the best ``monitor`` value (``mode`` "min" or "max")."""
        values = [(i, v) for i, v in enumerate(self[monitor]) if v is not None and not math.isnan(v)]
        if not values:
            raise ValueError(f"History has no values for {monitor!r}")
        pick = min if mode == "min" else max
        return pick(values, key=lambda iv: iv[1])

    def __repr__(self):
        return f"History({len(self.epochs)} epochs, {len(self.steps)} steps, keys={self.keys()})"

    def __eq__(self, other):
        return isinstance(other, History) and self.to_dict() == other.to_dict()

    # -- JSON ----------------------------------------------------------------
    def to_dict(self):
        return {"epochs": [dict(r) for r in self.epochs], "steps": [dict(r) for r in self.steps]}

    @classmethod
    def from_dict(cls, d):
        return cls(d.get("epochs"), d.get("steps"))

    def to_json(self, path):
        """Write the history as JSON, atomically (a crash leaves the old file or the new one)."""
        with atomic_open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
        return path

    @classmethod
    def from_json(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    # -- CSV (epoch records; steps go to a second file) ----------------------
    def to_csv(self, path, steps_path=None):
        """Write the epoch records to ``path`` and, if given, the step records to ``steps_path``."""
        _write_csv(path, self.epochs, self.keys())
        if steps_path is not None:
            step_keys = list(dict.fromkeys(k for r in self.steps for k in r))
            _write_csv(steps_path, self.steps, step_keys)
        return path

    @classmethod
    def from_csv(cls, path, steps_path=None):
        steps = _read_csv(steps_path) if steps_path is not None and os.path.exists(steps_path) else None
        return cls(_read_csv(path), steps)


def _write_csv(path, records, keys):
    with atomic_open(path, "w", newline="", encoding="utf-8") as f:       # old file or new, never half
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for r in records:
            writer.writerow({k: ("" if r.get(k) is None else repr(r[k]) if isinstance(r[k], float)
                                 else r[k]) for k in keys})


def _parse(text):
    """CSV cell -> int or float; other text stays a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        # an empty cell is an entry the record did not have
        return [{k: _parse(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
