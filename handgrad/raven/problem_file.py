"""Problem sets on disk: one ``.npz`` (no pickle), written atomically and read back to verify."""

import os

import numpy as np

from .._files import atomic_path
from .generate import CHOICES, KINDS
from .panels import check_panels

FIELDS = ("context", "choices", "answer", "asked", "rules", "context_images", "choice_images")
FORMAT = "handgrad-raven-problems-1"


def save_problems(problems, path):
    """Write a problem set (from :func:`handgrad.raven.generate.generate`) to ``path``; returns it."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, format=np.array(FORMAT), kind=np.array(problems["kind"]),
                            **{k: problems[k] for k in FIELDS})
        load_problems(tmp)                                           # verify before it replaces anything
    return path


def load_problems(path):
    """Read a problem set written by :func:`save_problems`; ValueError if it is not one."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such problem file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path!r} is not a raven problem file ({e})") from e
    if str(data.get("format", "")) != FORMAT:
        raise ValueError(f"{path!r} is not a raven problem file (expected format {FORMAT!r}); "
                         f"write one with `handgrad raven generate`")
    missing = [k for k in FIELDS if k not in data]
    kind = str(data.get("kind", ""))
    if missing or kind not in KINDS:
        raise ValueError(f"{path!r} is a damaged raven problem file (missing {missing}, kind {kind!r})")
    out = {"kind": kind, **{k: data[k] for k in FIELDS}}
    P, n = out["choices"].shape[:2]
    check_panels(out["context"], f"{path!r} context"), check_panels(out["choices"], f"{path!r} choices")
    if n != CHOICES[kind] or out["answer"].shape != (P,) or out["choice_images"].shape[:2] != (P, n):
        raise ValueError(f"{path!r}: inconsistent shapes (choices {out['choices'].shape}, "
                         f"answer {out['answer'].shape}, choice_images {out['choice_images'].shape})")
    return out


def select(problems, index):
    """The problem set holding only problem ``index`` (bounds checked)."""
    P = len(problems["answer"])
    if not -P <= index < P:
        raise ValueError(f"problem index must be in [0, {P - 1}], got {index}")
    index %= P
    return {k: (v[index:index + 1] if isinstance(v, np.ndarray) else v) for k, v in problems.items()}
