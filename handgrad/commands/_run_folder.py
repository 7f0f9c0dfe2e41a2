"""The run folder of ``handgrad train``: never overwritten silently.

A folder that already holds a run (any of :data:`RUN_FILES`) is refused unless

* the run is being resumed into it (``--resume`` of its own checkpoint), or
* ``--overwrite`` is given: the old run's files (:data:`RUN_FILES`, its PNG plots and
  ``report.html``) are removed first, so no picture of the old run stays beside the new
  files.

The default folder name carries the time to the second; when two runs start in the same
second the second one gets ``-2``, ``-3``, ... and says so.
"""

import glob
import os

from .._files import remove_orphans
from ._common import CommandError

#: the files that mark a folder as holding a run
RUN_FILES = ("config.json", "checkpoint.npz", "model.npz", "history.json", "history.csv",
             "metrics.json")
#: what else a run writes (removed by --overwrite along with RUN_FILES)
RUN_EXTRAS = ("*.png", "report.html")


def run_files(folder):
    """The run files present in ``folder`` (names, sorted)."""
    return sorted(name for name in RUN_FILES if os.path.isfile(os.path.join(folder, name)))


def _same_folder(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def prepare_run_folder(out, default, *, resume=None, overwrite=False):
    """Decide the run folder and make sure nothing in it is lost; returns its path.

    Parameters
    ----------
    out : str or None
        ``--out`` (None: ``default``, made unique).
    default : str
        The default folder name.
    resume : str or None
        The checkpoint being resumed (its folder may be ``out``).
    overwrite : bool
        Remove an old run in ``out`` instead of refusing.
    """
    if out is None:
        path, n = default, 1
        while os.path.exists(path):
            n += 1
            path = f"{default}-{n}"
        if n > 1:
            print(f"note: {default} exists; writing this run to {path}")
        return path
    if os.path.exists(out) and not os.path.isdir(out):
        raise CommandError(f"--out {out!r} is a file; expected a folder for the run (or a new name)")
    present = run_files(out) if os.path.isdir(out) else []
    if not present:
        return out
    if resume is not None and _same_folder(os.path.dirname(os.path.abspath(resume)), out):
        remove_orphans(out)
        return out                                   # continuing this folder's own run
    if not overwrite:
        finished = "model.npz" in present
        what = "a finished run" if finished else "an unfinished run"
        hint = ("" if finished or "checkpoint.npz" not in present else
                f"continue it with --resume {os.path.join(out, 'checkpoint.npz')}, or ")
        raise CommandError(f"--out {out!r} already holds {what} ({', '.join(present)}); {hint}pass "
                           f"--overwrite to replace it, or choose another --out")
    old = [os.path.join(out, n) for n in present]
    for pattern in RUN_EXTRAS:
        old += glob.glob(os.path.join(glob.escape(out), pattern))
    for path in old:
        os.remove(path)
    remove_orphans(out)
    print(f"note: --overwrite: removed the old run's {len(old)} files from {out}")
    return out
